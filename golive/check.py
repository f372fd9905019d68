"""The policy verdict of a synthesized stack, as ``pulumi preview --policy-pack policy`` would give it.

The pack runs over the Analyzer protocol (:mod:`golive.analyzer`): every resource's
inputs go to ``Analyze`` and the whole stack to ``AnalyzeStack``, as protobuf
requests, and the findings are the pack's diagnostics. Accepted risks travel the
same way: the pack reports them as advisory diagnostics of its
``exemption-accepted-risk`` policies, so a CLI preview shows them too.
"""

from __future__ import annotations

import importlib
import pathlib
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import analyzer
from .engine import ROOT, SynthResult


@dataclass(frozen=True)
class Finding:
    policy: str
    urn: str | None
    message: str
    enforcement: str
    severity: str
    category: str


@dataclass(frozen=True)
class Exemption:
    """A finding the resource accepted as a risk, with its reason (never silently dropped)."""

    policy: str
    urn: str
    message: str
    reason: str


@dataclass(frozen=True)
class Deferred:
    """A policy the pack could not run at preview on ``urn`` ("" for a stack policy): it needs a value only `pulumi up` knows."""

    policy: str
    urn: str
    message: str  # the servicer's own words
    enforcement: str  # the level it is enforced with at `pulumi up`


@dataclass
class PolicyInfo:
    name: str
    description: str
    enforcement: str
    severity: str
    category: str
    remediation: str
    tags: tuple[str, ...]
    kind: str  # "resource" or "stack"
    evaluated: set[str] = field(default_factory=set)  # URNs the policy applied to
    not_applicable: bool = False
    deferred: set[str] = field(default_factory=set)  # URNs ("" for the stack) it could not run on at preview


@dataclass
class CheckResult:
    policies: dict[str, PolicyInfo]
    findings: list[Finding]
    resources: list[dict[str, Any]]
    exemptions: list[Exemption] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)
    first_preview: bool = False
    policy_config_source: str = "(pack defaults)"
    reporting: set[str] = field(default_factory=set)  # every policy that sent a diagnostic (accepted-risk reporters too)

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.enforcement == "mandatory"]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.enforcement != "mandatory"]

    def by_policy(self) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = {}
        for f in self.findings:
            grouped.setdefault(f.policy, []).append(f)
        return grouped

    def failed(self, policy: str) -> bool:
        return any(f.policy == policy for f in self.findings)

    def deferred_mandatory(self) -> dict[str, list[Deferred]]:
        """Mandatory policies that a preview could not run everywhere, with where and why."""
        grouped: dict[str, list[Deferred]] = {}
        for d in self.deferred:
            if d.enforcement == "mandatory":
                grouped.setdefault(d.policy, []).append(d)
        return grouped


def load_policies(root: pathlib.Path = ROOT) -> list[Any]:
    """The list ``policy/__main__.py`` hands to ``PolicyPack``."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return analyzer.load_pack(root).policies


def _rules() -> Any:
    return importlib.import_module("policy.rules")


def exemption_policies() -> tuple[str, ...]:
    """The pack's policies whose diagnostics are accepted risks, not violations."""
    return tuple(_rules().EXEMPTION_POLICIES)


_PACKS: dict[tuple[int, ...], analyzer.InProcessPack] = {}


def _in_process(policies: Sequence[Any]) -> analyzer.InProcessPack:
    key = tuple(id(p) for p in policies)
    if key not in _PACKS:
        meta = _rules().META
        types_of = {name: () if m.whole_stack else m.resource_types for name, m in meta.items()}
        _PACKS[key] = analyzer.InProcessPack(analyzer.load_pack(), policies, types_of, last=exemption_policies())
    return _PACKS[key]


def _parse_exemption(message: str) -> tuple[str, str, str] | None:
    """(policy, message, reason) of an ``exemption-accepted-risk`` diagnostic."""
    policy, sep, rest = message.partition(": ")
    body, marker, reason = rest.rpartition(" (accepted risk: ")
    if not sep or not marker or not reason.endswith(")"):
        return None
    return policy, body, reason[:-1]


def check(
    synth: SynthResult,
    policies: Iterable[Any] | None = None,
    policy_config: Mapping[str, Any] | analyzer.PolicyConfig | None = None,
    *,
    transport: analyzer.Transport | None = None,
    config_source: str = "(pack defaults)",
    stack_config: Mapping[str, str] | None = None,
    secret_keys: Sequence[str] = (),
) -> CheckResult:
    """The pack's verdict on ``synth``, obtained over the Analyzer protocol.

    ``policies`` limits the pack to those policies (its accepted-risk policies always
    run, so exemptions stay visible); ``policy_config`` is the content of a
    ``--policy-pack-config`` file (policy name -> enforcement level or settings) or an
    already reconciled :class:`golive.analyzer.PolicyConfig`; ``transport`` defaults to
    pulumi_policy's servicer in this process.
    """
    all_policies = load_policies()
    chosen = list(policies) if policies is not None else list(all_policies)
    names = {p.name for p in chosen}
    chosen += [p for p in all_policies if p.name in exemption_policies() and p.name not in names]
    order = {id(p): i for i, p in enumerate(all_policies)}
    chosen.sort(key=lambda p: order.get(id(p), len(order)))
    if transport is None:
        transport = _in_process(chosen)
    analysis = analyzer.analyze(synth, transport, policy_config, config_source=config_source, stack_config=stack_config,
                                secret_keys=secret_keys)
    return _result(synth, analysis, {p.name for p in chosen})


def _result(synth: SynthResult, analysis: analyzer.Analysis, chosen: set[str]) -> CheckResult:
    meta = _rules().META
    accepted_names = set(exemption_policies())
    urns_of_type: dict[str, set[str]] = {}
    for r in synth.resources:
        urns_of_type.setdefault(r["type"], set()).add(r["urn"])
    every_urn = set().union(*urns_of_type.values())
    infos: dict[str, PolicyInfo] = {}
    for name, m in analysis.metas.items():
        if name not in chosen or name in accepted_names:
            continue
        level = analysis.config.levels.get(name, m.enforcement)
        info = PolicyInfo(name=name, description=m.description, enforcement=level, severity=m.severity, category=m.category,
                          remediation=m.remediation, tags=m.tags, kind=m.kind)
        if level != "disabled":
            types = meta[name].resource_types if name in meta else ()
            info.evaluated = set().union(*(urns_of_type.get(t, ()) for t in types)) if types else set(every_urn)
            skipped = analysis.not_applicable.get(name, set())
            info.evaluated -= skipped
            info.not_applicable = "" in skipped or (bool(skipped) and not info.evaluated)
        infos[name] = info
    findings: list[Finding] = []
    exemptions: set[Exemption] = set()
    deferred: list[Deferred] = []
    reporting: set[str] = set()
    for d in analysis.diagnostics:
        if not d.deferred:
            reporting.add(d.policy)
        if d.deferred:
            level = analysis.config.levels.get(d.policy, "advisory")
            deferred.append(Deferred(d.policy, d.urn, d.message, level))
            if d.policy in infos:
                infos[d.policy].deferred.add(d.urn)
                infos[d.policy].evaluated.discard(d.urn)
                if not d.urn:
                    infos[d.policy].evaluated.clear()
            continue
        if d.policy in accepted_names:
            parsed = _parse_exemption(d.message)
            if parsed is not None:
                exemptions.add(Exemption(parsed[0], d.urn, parsed[1], parsed[2]))
            continue
        info = infos.get(d.policy)
        findings.append(Finding(d.policy, d.urn or None, d.message, d.enforcement, d.severity,
                                info.category if info else "Uncategorized"))
    findings.sort(key=lambda f: (f.enforcement != "mandatory", f.policy, f.urn or "", f.message))
    deferred.sort(key=lambda d: (d.enforcement != "mandatory", d.policy, d.urn))
    accepted = sorted(exemptions, key=lambda e: (e.policy, e.urn, e.message))
    return CheckResult(policies=infos, findings=findings, resources=synth.resources, exemptions=accepted, deferred=deferred,
                       first_preview=synth.first_preview, policy_config_source=analysis.config.source, reporting=reporting)
