"""Intents (policy/rules/netintent.py): the syntax, and the matrix judged against them on the prod stack."""

from __future__ import annotations

import pytest

from policy.rules import netintent, netmodel


@pytest.mark.parametrize(("text", "expected"), [
    ("nodes -> database", ("nodes", "database", None, "tcp")),
    ("internet -> alb:80,443", ("internet", "alb", ((80, 80), (443, 443)), "tcp")),
    ("vpn → eks-api:443/udp", ("vpn", "eks-api", ((443, 443),), "udp")),
    ("alb -> service:trading-api:8080", ("alb", "trading-api", ((8080, 8080),), "tcp")),
    ("eks-api -> nodes:1025-65535", ("eks-api", "nodes", ((1025, 65535),), "tcp")),
])
def test_intents_parse(text, expected):
    intent = netintent.parse_intent(text)
    assert (intent.source, intent.destination, intent.ports, intent.protocol) == expected


@pytest.mark.parametrize("text", ["nodes", "nodes -> ", "a -> b:70000", "a -> b:x", "a -> b:443/icmp"])
def test_bad_intents_are_refused(text):
    with pytest.raises(ValueError):
        netintent.parse_intent(text)


def test_the_prod_matrix_is_judged_against_the_default_intent(prod):
    mx = netintent.matrix(netmodel.Network(netmodel.from_synth(prod.resources)))
    status = {cell: value.status for cell, value in mx.cells.items()}
    assert status[("internet", "alb")] == "intended"  # required: internet -> alb:80,443
    assert status[("vpn", "endpoints")] == "allowed"  # allowed: vpn -> endpoints:443
    assert status[("nodes", "database")] == "intended"
    assert status[("alb", "trading-api")] == "intended"  # alb -> services
    assert status[("nodes", "internet")] == ""  # inside the VPC and not intended: shown, not judged
    assert "unintended" not in status.values() and "denied" not in status.values()


def test_a_path_beyond_the_intent_is_marked_unintended(prod):
    net = netmodel.Network(netmodel.from_synth(prod.resources))
    mx = netintent.matrix(net, required=[i for i in netintent.REQUIRED if not i.startswith("internet")])
    assert mx.cells[("internet", "alb")].status == "unintended"
