"""Monitoring rules (issue 6)."""

from __future__ import annotations

POLICIES: list = []
