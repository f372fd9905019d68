"""Small assertions over synth documents and policy results."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from golive import check, engine


def of_type(synth: engine.SynthResult, type_: str) -> list[dict[str, Any]]:
    return synth.of_type(type_)


def one(synth: engine.SynthResult, type_: str, name_contains: str = "") -> dict[str, Any]:
    matches = [r for r in synth.of_type(type_) if name_contains in r["name"]]
    assert len(matches) == 1, f"expected one {type_} named *{name_contains}*, found {[r['name'] for r in matches]}"
    return matches[0]


def props(record: dict[str, Any]) -> dict[str, Any]:
    return record["inputs"]


def deps(record: dict[str, Any], prop: str) -> list[str]:
    return record.get("propertyDependencies", {}).get(prop, [])


def mutate(synth: engine.SynthResult, urn: str, change: Callable[[dict[str, Any]], None]) -> engine.SynthResult:
    """A deep copy of ``synth`` in which ``change`` edited the record of ``urn``."""
    doc = copy.deepcopy(synth.document())
    record = next(r for r in doc["resources"] if r["urn"] == urn)
    change(record)
    return engine.SynthResult.from_document(doc)


def drop(synth: engine.SynthResult, predicate: Callable[[dict[str, Any]], bool]) -> engine.SynthResult:
    doc = copy.deepcopy(synth.document())
    doc["resources"] = [r for r in doc["resources"] if not predicate(r)]
    return engine.SynthResult.from_document(doc)


def findings(synth: engine.SynthResult, policy_names: Iterable[str] | str) -> list[check.Finding]:
    """Run only the named policies over ``synth``; their findings."""
    names = {policy_names} if isinstance(policy_names, str) else set(policy_names)
    policies = [p for p in check.load_policies() if p.name in names]
    assert {p.name for p in policies} == names, f"unknown policies: {names - {p.name for p in policies}}"
    return check.check(synth, policies).findings
