"""Cluster rules (issue 4)."""

from __future__ import annotations

POLICIES: list = []
