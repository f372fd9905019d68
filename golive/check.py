"""Apply the policy pack's own objects to a synthesized stack, as the Pulumi engine would.

Each resource becomes a ``ResourceValidationArgs`` (camelCase props, options,
provider) and the whole stack a ``StackValidationArgs`` with parent and
dependency links, so a rule sees offline exactly what it sees under
``pulumi preview --policy-pack policy``.
"""

from __future__ import annotations

import importlib
import pathlib
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class CheckResult:
    policies: dict[str, PolicyInfo]
    findings: list[Finding]
    resources: list[dict[str, Any]]
    exemptions: list[Exemption] = field(default_factory=list)

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


def load_policies(root: pathlib.Path = ROOT) -> list[Any]:
    """The list ``policy/__main__.py`` hands to ``PolicyPack``."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return list(importlib.import_module("policy.rules").ALL_POLICIES)


def _meta() -> Mapping[str, Any]:
    return importlib.import_module("policy.rules").META


def _options(record: dict[str, Any]) -> Any:
    from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions

    opts = record["options"]
    return PolicyResourceOptions(
        protect=opts["protect"],
        ignore_changes=list(opts["ignoreChanges"]),
        delete_before_replace=opts["deleteBeforeReplace"],
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(opts["additionalSecretOutputs"]),
        parent=record["parent"],
    )


class _Stack:
    """Policy-facing views of every resource, built once per check."""

    def __init__(self, resources: list[dict[str, Any]]):
        from pulumi_policy import PolicyProviderResource, PolicyResource

        self.records = resources
        by_urn = {r["urn"]: r for r in resources}
        self.providers: dict[str, Any] = {}
        for r in resources:
            if r["type"].startswith("pulumi:providers:"):
                self.providers[r["urn"]] = PolicyProviderResource(r["type"], r["inputs"], r["urn"], r["name"])
        self.policy_resources: dict[str, Any] = {}
        for r in resources:
            self.policy_resources[r["urn"]] = PolicyResource(
                resource_type=r["type"],
                props=r["inputs"],
                urn=r["urn"],
                name=r["name"],
                opts=_options(r),
                provider=self.provider_of(r),
                parent=None,
                dependencies=[],
                property_dependencies={},
            )
        for r in resources:
            pr = self.policy_resources[r["urn"]]
            pr.parent = self.policy_resources.get(r["parent"]) if r["parent"] in by_urn else None
            pr.dependencies = [self.policy_resources[u] for u in r["options"]["dependsOn"] if u in self.policy_resources]
            pr.property_dependencies = {
                prop: [self.policy_resources[u] for u in urns if u in self.policy_resources]
                for prop, urns in r.get("propertyDependencies", {}).items()
            }

    def provider_of(self, record: dict[str, Any]) -> Any:
        ref = record.get("provider")
        if not ref:
            return None
        return self.providers.get(ref.rsplit("::", 1)[0])


def resource_args(record: dict[str, Any], stack: _Stack | None = None, config: Mapping[str, Any] | None = None) -> Any:
    """The ``ResourceValidationArgs`` the Pulumi engine would send for ``record``.

    camelCase props, resource options and the provider's own props: policy tests
    build their input from the real synthesized resource with this.
    """
    from pulumi_policy import ResourceValidationArgs

    return ResourceValidationArgs(
        resource_type=record["type"],
        props=record["inputs"],
        urn=record["urn"],
        name=record["name"],
        opts=_options(record),
        provider=stack.provider_of(record) if stack is not None else None,
        config=dict(config or {}),
    )


def _info(policy: Any) -> PolicyInfo:
    from pulumi_policy import StackValidationPolicy

    tags = tuple(policy.tags or ())
    category = next((t.split(":", 1)[1] for t in tags if t.startswith("category:")), "Uncategorized")
    return PolicyInfo(
        name=policy.name,
        description=policy.description,
        enforcement=(policy.enforcement_level.value if policy.enforcement_level else "advisory"),
        severity=(policy.severity.value if policy.severity else "medium"),
        category=category,
        remediation=policy.remediation_steps or "",
        tags=tags,
        kind="stack" if isinstance(policy, StackValidationPolicy) else "resource",
    )


def check(
    synth: SynthResult,
    policies: Iterable[Any] | None = None,
    policy_config: Mapping[str, Mapping[str, Any]] | None = None,
) -> CheckResult:
    """Run every policy over ``synth``; ``policy_config`` maps policy name to pack config."""
    from pulumi_policy import StackValidationArgs, StackValidationPolicy
    from pulumi_policy.policy import _NotApplicableError

    policies = list(policies) if policies is not None else load_policies()
    meta = _meta()
    base = importlib.import_module("policy.rules._base")
    exemptions: list[tuple[str, str, str, str]] = []
    base.EXEMPTIONS = exemptions
    policy_config = policy_config or {}
    stack = _Stack(synth.resources)
    infos: dict[str, PolicyInfo] = {}
    findings: list[Finding] = []

    try:
        for policy in policies:
            info = _info(policy)
            infos[policy.name] = info
            if info.enforcement == "disabled":
                continue
            config = dict(policy_config.get(policy.name, {}))
            reported: list[tuple[str, str | None]] = []

            def report(message: str, urn: str | None = None, _sink: list = reported) -> None:
                _sink.append((message, urn))

            if isinstance(policy, StackValidationPolicy):
                args = StackValidationArgs(resources=list(stack.policy_resources.values()), config=config)
                types = meta[policy.name].resource_types if policy.name in meta else ()
                info.evaluated = {r["urn"] for r in synth.resources if not types or r["type"] in types}
                try:
                    policy.validate(args, report)
                except _NotApplicableError:
                    info.not_applicable = True
            else:
                types = meta[policy.name].resource_types if policy.name in meta else None
                validators = policy.validate if isinstance(policy.validate, list) else [policy.validate]
                for record in synth.resources:
                    if types is not None and record["type"] not in types:
                        continue
                    args = resource_args(record, stack, config)
                    info.evaluated.add(record["urn"])
                    for validate in validators:
                        try:
                            validate(args, lambda message, urn=None, _u=record["urn"]: report(message, urn or _u))
                        except _NotApplicableError:
                            info.evaluated.discard(record["urn"])
            for message, urn in reported:
                findings.append(Finding(policy.name, urn, message, info.enforcement, info.severity, info.category))
    finally:
        base.EXEMPTIONS = None
    findings.sort(key=lambda f: (f.enforcement != "mandatory", f.policy, f.urn or "", f.message))
    accepted = sorted({Exemption(*e) for e in exemptions}, key=lambda e: (e.policy, e.urn, e.message))
    return CheckResult(policies=infos, findings=findings, resources=synth.resources, exemptions=accepted)
