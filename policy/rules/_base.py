"""How golive policies are declared: metadata, thresholds and small accessors.

Every policy is a plain ``pulumi_policy`` object, so ``pulumi preview --policy-pack
policy`` and the offline engine run the very same code. The helpers here only
fill in what every golive policy must carry: a kebab-case name prefixed by its
area, an enforcement level (mandatory = a go-live blocker), a severity, a
readiness category, remediation steps, benchmark control ids and thresholds as
pack config with production defaults.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

CATEGORIES = (
    "Infrastructure",
    "Database",
    "Caching",
    "Security",
    "Compliance",
    "Monitoring & Alerting",
    "DR & Business Continuity",
)

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

Messages = Iterable[str]


@dataclass(frozen=True)
class Meta:
    """golive's facts about a policy, beside what ``pulumi_policy`` stores."""

    category: str
    resource_types: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)


# Policy name -> Meta; filled as rule modules are imported.
META: dict[str, Meta] = {}

# Exemptions: a resource accepts the risk of one policy, with a reason, by a tag
# ``golive:exempt:<policy-name>`` (AWS) or an annotation ``exempt.golive.dev/<policy-name>``
# (Kubernetes) whose value is the reason. An exempted finding is not a violation; the
# offline engine sets EXEMPTIONS to a list to collect them as "accepted risk" for the report.
# Critical policies accept no exemption; a finding whose resource tries one says it was ignored.
EXEMPT_TAG_PREFIX = "golive:exempt:"
EXEMPT_ANNOTATION_PREFIX = "exempt.golive.dev/"
EXEMPTIONS: list[tuple[str, str, str, str]] | None = None


def exemption(props: Mapping[str, Any], policy: str, severity: Severity | None = None) -> str | None:
    """The reason ``props`` gives for being exempt from ``policy``, if any (an empty reason is no exemption).

    A policy of ``Severity.CRITICAL`` cannot be exempted: its findings stay violations, whatever a tag says.
    """
    if severity == Severity.CRITICAL or not isinstance(props, Mapping):
        return None
    for source, key in ((props.get("tags"), EXEMPT_TAG_PREFIX + policy),
                        (get(props, "metadata.annotations"), EXEMPT_ANNOTATION_PREFIX + policy)):
        if isinstance(source, Mapping) and str(source.get(key) or "").strip():
            return str(source[key]).strip()
    return None


def _unexemptable(message: str, props: Mapping[str, Any], policy: str, severity: Severity) -> str:
    """``message``, noting an exemption the resource declares that a critical policy does not accept."""
    if severity == Severity.CRITICAL and exemption(props, policy) is not None:
        return f"{message} (its exemption tag/annotation is ignored: critical policies cannot be exempted)"
    return message


def _tags(category: str, controls: Iterable[str]) -> list[str]:
    return [f"category:{category}", *controls]


def _schema(defaults: Mapping[str, Any]) -> PolicyConfigSchema | None:
    if not defaults:
        return None
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", tuple: "array"}
    props: dict[str, dict[str, Any]] = {}
    for key, value in defaults.items():
        prop: dict[str, Any] = {"type": kinds[type(value)], "default": list(value) if isinstance(value, tuple) else value}
        if isinstance(value, (list, tuple)):
            prop["items"] = {"type": "string"}
        props[key] = prop
    return PolicyConfigSchema(properties=props)


def settings(args: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Thresholds: the pack config's values over the policy's production defaults."""
    config = args.get_config() if hasattr(args, "get_config") else None
    given = {k: v for k, v in (config or {}).items() if v is not None}
    return {**defaults, **given}


def _register(name: str, category: str, types: tuple[str, ...], controls: tuple[str, ...], defaults: Mapping[str, Any]) -> None:
    if category not in CATEGORIES:
        raise ValueError(f"{name}: unknown category {category!r}")
    if name in META:
        raise ValueError(f"duplicate policy name {name}")
    META[name] = Meta(category=category, resource_types=types, controls=controls, defaults=dict(defaults))


def resource_policy(
    *,
    name: str,
    description: str,
    types: tuple[str, ...],
    check: Callable[[ResourceValidationArgs, Mapping[str, Any]], Messages],
    severity: Severity,
    category: str,
    remediation: str,
    controls: tuple[str, ...] = (),
    defaults: Mapping[str, Any] | None = None,
    enforcement: EnforcementLevel = MANDATORY,
) -> ResourceValidationPolicy:
    """A policy over resources of ``types``; ``check(args, settings)`` yields one message per violation."""
    defaults = dict(defaults or {})
    _register(name, category, types, controls, defaults)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        reason = exemption(args.props, name, severity)
        for message in check(args, settings(args, defaults)):
            if reason is None:
                report_violation(_unexemptable(message, args.props, name, severity), args.urn)
            elif EXEMPTIONS is not None:
                EXEMPTIONS.append((name, args.urn, message, reason))

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement,
        config_schema=_schema(defaults),
        severity=severity,
        tags=_tags(category, controls),
        remediation_steps=remediation,
    )


def stack_policy(
    *,
    name: str,
    description: str,
    check: Callable[[StackValidationArgs, Mapping[str, Any]], Iterable[tuple[str, str | None]]],
    severity: Severity,
    category: str,
    remediation: str,
    types: tuple[str, ...] = (),
    controls: tuple[str, ...] = (),
    defaults: Mapping[str, Any] | None = None,
    enforcement: EnforcementLevel = MANDATORY,
) -> StackValidationPolicy:
    """A policy over the whole stack; ``check(args, settings)`` yields ``(message, urn or None)``."""
    defaults = dict(defaults or {})
    _register(name, category, types, controls, defaults)

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        by_urn = {r.urn: r for r in args.resources}
        for message, urn in check(args, settings(args, defaults)):
            props = by_urn[urn].props if urn in by_urn else {}
            reason = exemption(props, name, severity)
            if reason is None:
                report_violation(_unexemptable(message, props, name, severity), urn)
            elif EXEMPTIONS is not None:
                EXEMPTIONS.append((name, urn, message, reason))

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement,
        config_schema=_schema(defaults),
        severity=severity,
        tags=_tags(category, controls),
        remediation_steps=remediation,
    )


# --------------------------------------------------------------------------- accessors


def get(props: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """``get(props, "vpcConfig.endpointPublicAccess")``; list items as ``a[0].b``."""
    current: Any = props
    for part in path.replace("]", "").replace("[", ".").split("."):
        if current is None:
            return default
        if isinstance(current, list):
            try:
                current = current[int(part)]
            except (ValueError, IndexError):
                return default
        elif isinstance(current, Mapping):
            current = current.get(part)
        else:
            return default
    return default if current is None else current


def as_json(value: Any) -> Any:
    """Policy documents and provider inputs may arrive as JSON strings; parse them."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def as_list(value: Any) -> list[Any]:
    """A value that may be one item, a list, or absent, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def statements(document: Any) -> list[dict[str, Any]]:
    """The statements of an IAM/resource policy document given as JSON text or a mapping."""
    document = as_json(document)
    if not isinstance(document, Mapping):
        return []
    found = document.get("Statement") or []
    return [s for s in ([found] if isinstance(found, Mapping) else found) if isinstance(s, Mapping)]


def provider_default_tags(args: Any) -> dict[str, str]:
    provider = getattr(args, "provider", None)
    if provider is None:
        return {}
    default_tags = as_json(get(provider.props or {}, "defaultTags")) or {}
    return dict(as_json(get(default_tags, "tags")) or {})


def effective_tags(args: Any) -> dict[str, str]:
    """The tags AWS will apply: the provider's default tags overlaid with the resource's."""
    return {**provider_default_tags(args), **(get(args.props, "tags") or {})}


def is_production(args: Any) -> bool:
    """Production is what the stack's provider tags say, so policies need no extra config."""
    resources = getattr(args, "resources", None)
    if resources is not None:
        # Providers that disagree count as production: the stricter reading wins.
        environments = {
            (as_json(get(as_json(get(r.props, "defaultTags")) or {}, "tags")) or {}).get("environment")
            for r in resources
            if r.resource_type == "pulumi:providers:aws"
        } - {None}
        return not environments or "production" in environments
    return provider_default_tags(args).get("environment", "production") == "production"


def of_type(args: StackValidationArgs, *types: str) -> list[PolicyResource]:
    return [r for r in args.resources if r.resource_type in types]


def depends_via(resource: PolicyResource, prop: str) -> list[PolicyResource]:
    """The resources whose outputs feed ``prop``: joins that work before ids are known."""
    return list((resource.property_dependencies or {}).get(prop, []) or [])


def refers_to(resource: PolicyResource, prop: str, target: PolicyResource) -> bool:
    return any(dep.urn == target.urn for dep in depends_via(resource, prop))
