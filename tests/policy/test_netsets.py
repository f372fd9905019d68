"""Exact address and port sets (policy/rules/netsets.py) against Python's own sets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy.rules import netsets


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)), max_size=5),
       st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)), max_size=5))
def test_range_algebra_matches_sets(a_spans, b_spans):
    a = netsets.normalize((lo, lo + n) for lo, n in a_spans)
    b = netsets.normalize((lo, lo + n) for lo, n in b_spans)

    def points(r):
        return {x for lo, hi in r for x in range(lo, hi + 1)}

    assert points(netsets.inter(a, b)) == points(a) & points(b)
    assert points(netsets.sub(a, b)) == points(a) - points(b)
    assert points(netsets.union(a, b)) == points(a) | points(b)


@pytest.mark.parametrize(("text", "expected"), [("443", ((443, 443),)), ("80, 443", ((80, 80), (443, 443))),
                                                  ("1024-65535", ((1024, 65535),)), ("22,20-23", ((20, 23),))])
def test_ports_parse(text, expected):
    assert netsets.parse_ports(text) == expected


@pytest.mark.parametrize("text", ["", "70000", "443-80", "https"])
def test_bad_ports_are_refused(text):
    with pytest.raises(ValueError):
        netsets.parse_ports(text)


def test_cidrs_and_their_text():
    assert netsets.cidr("10.20.0.0/16") == ((0x0A140000, 0x0A14FFFF),)
    assert netsets.cidr("::/0") is None and netsets.cidr("nonsense") is None
    assert netsets.format_addresses(netsets.cidrs(["10.0.0.0/24", "10.0.1.0/24"])) == "10.0.0.0/23"
