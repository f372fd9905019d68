"""security rules (issue 5)."""

from __future__ import annotations

POLICIES: list = []
