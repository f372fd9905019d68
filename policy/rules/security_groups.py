"""security_groups rules (issue 3)."""

from __future__ import annotations

POLICIES: list = []
