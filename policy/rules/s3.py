"""s3 rules (issue 7)."""

from __future__ import annotations

POLICIES: list = []
