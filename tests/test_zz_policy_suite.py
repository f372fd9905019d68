"""Runs last: every policy was seen failing by some test of this session."""

from __future__ import annotations

import pytest

from golive import check
from tests.conftest import POLICIES_SEEN_FAILING


def test_every_policy_has_a_test_where_it_fails():
    names = {p.name for p in check.load_policies()}
    if len(POLICIES_SEEN_FAILING & names) < len(names) // 2:
        pytest.skip("meaningful only when the whole suite runs (make test)")
    missing = sorted(names - POLICIES_SEEN_FAILING)
    assert not missing, f"no test makes these policies fail: {missing}"
