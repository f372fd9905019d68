"""Intent: which paths must exist, which may, which must not; and the whole matrix judged against it.

An intent is ``SOURCE -> DESTINATION[:PORTS][/tcp|udp]`` over the roles of ``netmodel``
(``services`` stands for every catalog service). The production defaults below are the
pack config defaults of ``network-reach-intent``; ``python -m golive reach`` reads the same.
Standard library only, like the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .netmodel import (
    DESTINATION_ORDER,
    INTERNET,
    OUTSIDE,
    SERVICES,
    SOURCE_ORDER,
    Answer,
    Network,
    union_all,
)
from .netsets import ALL_PORTS, EMPTY, Ranges, covers, format_ports, parse_ports, sub, union

# --------------------------------------------------------------------------- intent


@dataclass(frozen=True)
class Intent:
    source: str
    destination: str
    ports: Ranges | None
    protocol: str
    text: str


_INTENT = re.compile(r"^\s*(?P<src>[\w.-]+)\s*(?:->|→)\s*(?P<dst>(?:service:)?[\w.-]+)(?::(?P<ports>[\d,\s-]+))?(?:/(?P<proto>tcp|udp))?\s*$")


def parse_intent(text: str) -> Intent:
    """``"nodes -> database"``, ``"internet -> alb:80,443"``, ``"vpn -> eks-api:443/tcp"``."""
    match = _INTENT.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not SOURCE -> DESTINATION[:PORTS][/tcp|udp]")
    ports = parse_ports(match["ports"]) if match["ports"] else None
    return Intent(match["src"], match["dst"].removeprefix("service:"), ports, match["proto"] or "tcp", str(text).strip())


def parse_destination(text: str) -> tuple[str, Ranges | None, str]:
    """``DST[:PORTS][/PROTO]`` as the CLI takes it."""
    intent = parse_intent(f"x -> {text}")
    return intent.destination, intent.ports, intent.protocol


REQUIRED = (
    "internet -> alb:80,443",
    "vpn -> eks-api:443",
    "deployer -> eks-api:443",
    "nodes -> eks-api:443",
    "eks-api -> nodes:443,10250",
    "nodes -> database",
    "nodes -> cache",
    "nodes -> opensearch",
    "nodes -> endpoints:443",
    "alb -> services",
)
"""Production intent: the paths that must exist (a missing role skips its intents)."""

ALLOWED = (
    # The VPN pushes the VPC resolver, which answers AWS API names with the private-DNS interface endpoints.
    "vpn -> endpoints:443",
    # An administrator may reach what the internet reaches.
    "vpn -> alb:80,443",
)
"""Paths from outside that may exist without being required."""

DENIED = ("isolated -> internet",)
"""Paths that must not exist, whatever else is intended."""


@dataclass(frozen=True)
class Violation:
    kind: str  # "missing", "unintended", "denied", "config"
    intent: str
    message: str
    urn: str | None


def _expand(network: Network, intent: Intent) -> list[Intent]:
    if intent.destination == SERVICES:
        return [Intent(intent.source, name, intent.ports, intent.protocol, f"{intent.source} -> {name}")
                for name in network.service_names()]
    return [intent]


def _present(network: Network, role: str) -> bool:
    return bool(network.sources.get(role)) or role in network.services or bool(network.destinations.get(role))


def parse_intents(texts: Iterable[str]) -> tuple[list[Intent], list[str]]:
    intents, problems = [], []
    for text in texts:
        try:
            intents.append(parse_intent(text))
        except ValueError as err:
            problems.append(str(err))
    return intents, problems


def intent_problems(network: Network, *lists: Iterable[str]) -> list[str]:
    """Every intent that does not parse or names a role no stack can have."""
    known = set(SOURCE_ORDER) | set(DESTINATION_ORDER) | {SERVICES} | set(network.services) | set(network.sources) \
        | set(network.destinations)
    problems = []
    for texts in lists:
        intents, bad = parse_intents(texts)
        problems += [f"invalid intent: {b}" for b in bad]
        for intent in intents:
            problems += [f"invalid intent {intent.text!r}: unknown role {end!r} (roles: {', '.join(sorted(known))})"
                         for end in (intent.source, intent.destination) if end not in known]
    return problems


def missing_paths(network: Network, required: Iterable[str] = REQUIRED) -> list[Violation]:
    """Every required path (each of its ports) that does not exist; roles the stack does not declare are skipped."""
    out = []
    for intent in parse_intents(required)[0]:
        for one in _expand(network, intent):
            if not (_present(network, one.source) and _present(network, one.destination)):
                continue
            want = one.ports if one.ports is not None else network.listening(one.destination)
            answer = network.reach(one.source, one.destination, want, one.protocol, explain=False)
            missing = (EMPTY if answer.exists else want) if answer.legs else sub(want, answer.reachable)
            if missing:
                detail = network.reach(one.source, one.destination, missing, one.protocol)
                out.append(Violation("missing", one.text, f"intended path missing: {one.text}\n{detail.explain()}",
                                     detail.first_urn()))
    return out


def intended_ports(network: Network, *lists: Iterable[str]) -> dict[tuple[str, str, str], Ranges]:
    intended: dict[tuple[str, str, str], Ranges] = {}
    for texts in lists:
        for intent in parse_intents(texts)[0]:
            for one in _expand(network, intent):
                key = (one.source, one.destination, one.protocol)
                intended[key] = union(intended.get(key, EMPTY), one.ports if one.ports is not None else ALL_PORTS)
    return intended


def unintended_paths(network: Network, required: Iterable[str] = REQUIRED, allowed: Iterable[str] = ALLOWED) -> list[Violation]:
    """Every path from the internet or the VPN (TCP or UDP, to any role) that no intent covers."""
    intended = intended_ports(network, required, allowed)
    out = []
    for source in OUTSIDE:
        if not network.sources.get(source):
            continue
        for destination in network.destination_roles():
            if destination == source:
                continue
            for protocol in ("tcp", "udp"):
                answer = network.reach(source, destination, None, protocol, explain=False)
                extra = sub(answer.reachable, intended.get((source, destination, protocol), EMPTY))
                if extra:
                    detail = network.reach(source, destination, extra, protocol)
                    text = f"{source} -> {destination}:{format_ports(extra).replace(' ', '')}/{protocol}"
                    out.append(Violation("unintended", text, f"unintended path: {text}\n{detail.explain()}",
                                         detail.first_urn()))
    return out


def denied_paths(network: Network, denied: Iterable[str] = DENIED) -> list[Violation]:
    """Every denied path that exists."""
    out = []
    for intent in parse_intents(denied)[0]:
        for one in _expand(network, intent):
            if not (_present(network, one.source) and (one.destination == INTERNET or _present(network, one.destination))):
                continue
            answer = network.reach(one.source, one.destination, one.ports, one.protocol, explain=False)
            if answer.exists:
                detail = network.reach(one.source, one.destination, answer.reachable or one.ports, one.protocol)
                out.append(Violation("denied", one.text, f"denied path exists: {one.text}\n{detail.explain()}",
                                     detail.first_urn()))
    return out


def check_intent(network: Network, required: Iterable[str] = REQUIRED, allowed: Iterable[str] = ALLOWED,
                 denied: Iterable[str] = DENIED) -> list[Violation]:
    """Every required path that does not exist, every path from outside that is not intended, every denied one."""
    required, allowed, denied = list(required), list(allowed), list(denied)
    problems = intent_problems(network, required, allowed, denied)
    if problems:
        return [Violation("config", "", problem, None) for problem in problems]
    return [*missing_paths(network, required), *unintended_paths(network, required, allowed), *denied_paths(network, denied)]


# --------------------------------------------------------------------------- the matrix


@dataclass
class Cell:
    ports: Ranges
    through: tuple[str, ...]  # "alb:443" for a service reached through a load balancer
    status: str  # "intended", "allowed", "unintended", "denied", "" (inside, not judged), "missing"


@dataclass
class Matrix:
    sources: list[str]
    destinations: list[str]
    protocol: str
    cells: dict[tuple[str, str], Cell]
    notes: list[str]

    def text_of(self, src: str, dst: str) -> str:
        cell = self.cells[(src, dst)]
        parts = [format_ports(cell.ports)] if cell.ports else []
        parts += [f"via {t}" for t in cell.through]
        return ", ".join(parts) or "—"


def matrix(network: Network, required: Iterable[str] = REQUIRED, allowed: Iterable[str] = ALLOWED,
           denied: Iterable[str] = DENIED, protocol: str = "tcp") -> Matrix:
    """Every source against every destination on the ports it listens on, judged against the intent."""
    sources = network.source_roles()
    destinations = network.destination_roles() + network.service_names()
    req = [i for intent in parse_intents(required)[0] for i in _expand(network, intent)]
    alw = [i for intent in parse_intents(allowed)[0] for i in _expand(network, intent)]
    den = [i for intent in parse_intents(denied)[0] for i in _expand(network, intent)]
    cells: dict[tuple[str, str], Cell] = {}
    for src in sources:
        for dst in destinations:
            if src == dst == INTERNET:
                cells[(src, dst)] = Cell(EMPTY, (), "")
                continue
            answer = network.reach(src, dst, None, protocol, explain=False)
            through = tuple(f"{f.load_balancer}:{format_ports(f.port)}" for f, a, b in answer.legs if a.exists and b.exists)
            cells[(src, dst)] = Cell(answer.reachable, through,
                                     _status(network, src, dst, protocol, answer, req, alw, den))
    return Matrix(sources, destinations, protocol, cells, list(network.notes))


def _status(network: Network, src: str, dst: str, protocol: str, answer: Answer, req: list[Intent], alw: list[Intent],
            den: list[Intent]) -> str:
    def ports(intents: list[Intent]) -> Ranges:
        return union_all((i.ports if i.ports is not None else network.listening(dst))
                          for i in intents if i.source == src and i.destination == dst and i.protocol == protocol)

    if answer.exists and any(i.source == src and i.destination == dst for i in den):
        return "denied"
    required = ports(req)
    if required and not (covers(answer.reachable, required) or (answer.legs and answer.exists)):
        return "missing"
    if src in OUTSIDE and dst not in network.services and sub(answer.reachable, union(required, ports(alw))):
        return "unintended"
    if required:
        return "intended"
    if src in OUTSIDE and answer.exists and dst not in network.services:
        return "allowed"
    return ""
