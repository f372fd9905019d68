"""``python -m golive reach``: who can reach what in the declared network, with the proof.

The answers come from the policy pack's own model (``policy/rules/netmodel.py``, judged by
``netintent.py``), built from the synth document, so the command and ``network-reach-intent`` under
``pulumi preview --policy-pack policy`` cannot disagree. Intent is the policy's config:
its production defaults, or the ``network-reach-intent`` entry of a file in the format
of ``pulumi preview --policy-pack-config``.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .engine import ROOT, SynthResult, UsageError

POLICY = "network-reach-intent"


def _import(module: str) -> Any:
    import importlib
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"policy.rules.{module}")


def _model() -> Any:
    return _import("netmodel")


def _intent() -> Any:
    return _import("netintent")


@dataclass(frozen=True)
class Intent:
    required: tuple[str, ...]
    allowed: tuple[str, ...]
    denied: tuple[str, ...]
    deployer_cidrs: tuple[str, ...]


def intent(policy_config: Mapping[str, Any] | None = None, deployer_cidrs: Iterable[str] = ()) -> Intent:
    """The intent: the policy's defaults, overlaid with its entry of a pack config and extra deployer CIDRs."""
    m = _intent()
    given = dict((policy_config or {}).get(POLICY) or {})
    problems = []
    values: dict[str, tuple[str, ...]] = {}
    for key, default in (("required", m.REQUIRED), ("allowed", m.ALLOWED), ("denied", m.DENIED), ("deployerCidrs", ())):
        value = given.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{POLICY}.{key}: must be a list of strings, got {value!r}")
            value = list(default)
        values[key] = tuple(value)
    unknown = sorted(set(given) - {"required", "allowed", "denied", "deployerCidrs", "enforcementLevel"})
    problems += [f"{POLICY}.{key}: unknown setting" for key in unknown]
    if problems:
        raise UsageError("; ".join(problems))
    return Intent(values["required"], values["allowed"], values["denied"], (*values["deployerCidrs"], *deployer_cidrs))


def read_policy_config(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read policy config {path}: {err}") from None
    if not isinstance(data, dict):
        raise UsageError(f"policy config {path}: expected an object keyed by policy name")
    return data


def network(synth: SynthResult, wanted: Intent | None = None) -> Any:
    m = _model()
    wanted = wanted or intent()
    net = m.Network(m.from_synth(synth.resources), wanted.deployer_cidrs)
    bad = [note for note in net.notes if note.startswith("deployer CIDR")]
    if bad:
        raise UsageError("; ".join(bad))
    return net


def roles_text(net: Any) -> str:
    sources = ", ".join(net.source_roles())
    destinations = ", ".join([*net.destination_roles(), *net.service_names()])
    return f"sources: {sources}; destinations: {destinations}"


def ask(net: Any, source: str, destination: str) -> Any:
    """One question, ``--from SRC --to DST[:PORTS][/PROTO]``; unknown roles and bad ports are usage errors."""
    try:
        name, ports, protocol = _intent().parse_destination(destination)
    except ValueError as err:
        raise UsageError(f"--to {destination!r}: {err}") from None
    if source not in net.source_roles():
        raise UsageError(f"--from {source!r}: not a source of this stack ({roles_text(net)})")
    if name not in net.destination_roles() and name not in net.services:
        raise UsageError(f"--to {name!r}: not a destination of this stack ({roles_text(net)})")
    return net.reach(source, name, ports, protocol)


def answer_json(answer: Any) -> dict[str, Any]:
    m = _model()

    def candidate(c: Any) -> dict[str, Any]:
        return {
            "source": c.source,
            "destination": c.destination,
            "passes": c.blocked is None,
            "ports": m.format_ports(c.ports) if c.ports else "",
            "hops": [{"step": h.step, "text": h.text, "urn": h.urn} for h in c.hops],
            "blocked": None if c.blocked is None else {"step": c.blocked.step, "text": c.blocked.text, "urn": c.blocked.urn},
        }

    return {
        "source": answer.source,
        "destination": answer.destination,
        "protocol": answer.protocol,
        "ports": m.format_ports(answer.asked) if answer.asked is not None else None,
        "exists": answer.exists,
        "reachable": m.format_ports(answer.reachable) if answer.reachable else "",
        "candidates": [candidate(c) for c in answer.candidates],
        "through": [{"loadBalancer": f.load_balancer, "listener": f.listener, "port": m.format_ports(f.port), "rule": f.rule,
                     "in": answer_json(a), "out": answer_json(b)} for f, a, b in answer.legs],
        "explanation": answer.explain(),
    }


# --------------------------------------------------------------------------- the matrix

MARK = {"intended": "✓", "allowed": "allowed", "unintended": "⚠ unintended", "missing": "✗ missing", "denied": "⚠ denied"}


def matrix(net: Any, wanted: Intent | None = None, protocol: str = "tcp") -> Any:
    wanted = wanted or intent()
    return _intent().matrix(net, wanted.required, wanted.allowed, wanted.denied, protocol)


def _cell(mx: Any, src: str, dst: str, marks: bool = True) -> str:
    text = mx.text_of(src, dst)
    status = mx.cells[(src, dst)].status
    return f"{text} {MARK[status]}" if marks and status else text


def matrix_text(mx: Any) -> str:
    width = max(len(s) for s in mx.sources)
    columns = {d: max(len(d), *(len(_cell(mx, s, d)) for s in mx.sources)) for d in mx.destinations}
    lines = [f"reachability ({mx.protocol}): rows reach columns on these ports", "",
             f"{'':<{width}}  " + "  ".join(f"{d:<{columns[d]}}" for d in mx.destinations)]
    for src in mx.sources:
        lines.append(f"{src:<{width}}  " + "  ".join(f"{_cell(mx, src, d):<{columns[d]}}" for d in mx.destinations))
    lines += ["", _legend()]
    lines += [f"note: {n}" for n in mx.notes]
    return "\n".join(line.rstrip() for line in lines)


def _legend() -> str:
    return ("✓ intended and present · ✗ missing: intended, absent · ⚠ unintended: from the internet or the VPN beyond the "
            "intent · allowed: tolerated by the intent · — no path · via LB:PORT: through that load balancer's listener")


def matrix_markdown(mx: Any, heading: str = "## Reachability") -> str:
    lines = [heading, "",
             f"Computed from the declared network ({mx.protocol}; routes, network ACLs both ways and security groups): "
             "each cell lists the ports on which the row reaches the column. "
             "`python -m golive reach --from SRC --to DST:PORT` explains any cell hop by hop.", "",
             "| from \\ to | " + " | ".join(f"`{d}`" for d in mx.destinations) + " |",
             "|---|" + "|".join(":-:" for _ in mx.destinations) + "|"]
    for src in mx.sources:
        lines.append(f"| `{src}` | " + " | ".join(_cell(mx, src, d).replace("|", "\\|") for d in mx.destinations) + " |")
    lines += ["", _legend()]
    lines += [f"- note: {n}" for n in mx.notes]
    return "\n".join(lines) + "\n"


def matrix_json(mx: Any) -> dict[str, Any]:
    m = _model()
    return {
        "protocol": mx.protocol,
        "sources": mx.sources,
        "destinations": mx.destinations,
        "cells": {src: {dst: {"ports": m.format_ports(mx.cells[(src, dst)].ports) if mx.cells[(src, dst)].ports else "",
                              "through": list(mx.cells[(src, dst)].through),
                              "status": mx.cells[(src, dst)].status} for dst in mx.destinations} for src in mx.sources},
        "notes": mx.notes,
    }


def report_section(synth: SynthResult) -> list[str]:
    """The readiness report's reachability section (the policy's default intent)."""
    try:
        net = network(synth)
    except UsageError as err:
        return ["## Reachability", "", f"not computed: {err}", ""]
    return matrix_markdown(matrix(net)).rstrip("\n").split("\n") + [""]
