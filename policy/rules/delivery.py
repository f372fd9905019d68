"""Delivery rules (issue 10)."""

from __future__ import annotations

POLICIES: list = []
