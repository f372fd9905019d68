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
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

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
    whole_stack: bool = False  # a stack policy that reads every resource, beyond the types it is about


# Policy name -> Meta; filled as rule modules are imported.
META: dict[str, Meta] = {}

# Exemptions: a resource accepts the risk of one policy, with a reason, by a tag
# ``golive:exempt:<policy-name>`` (AWS) or an annotation ``exempt.golive.dev/<policy-name>``
# (Kubernetes) whose value is the reason. An exempted finding is not a violation. It is still
# reported, over the Analyzer protocol like every result: the pack's servicer runs a request's
# policies one after another on one thread, so each policy leaves its exempted findings here and
# the last policies of the pack (``exemption-accepted-risk`` for Analyze, ``…-stack-risk`` for
# AnalyzeStack) report them as advisory diagnostics. A CLI preview shows them; golive's check
# turns them into accepted risks. Critical policies accept no exemption.
EXEMPT_TAG_PREFIX = "golive:exempt:"
EXEMPT_ANNOTATION_PREFIX = "exempt.golive.dev/"
_ACCEPTED = threading.local()


def accepted(key: str) -> list[tuple[str, str, str, str]]:
    """Take this thread's exempted findings not yet reported: ``key`` is the analyzed URN, or "" for stack policies.

    Each is (URN, policy, message, reason).
    """
    pending = getattr(_ACCEPTED, "pending", None)
    return pending.pop(key, []) if pending else []


def _accept(urn: str, policy: str, message: str, reason: str, stack: bool) -> None:
    if not hasattr(_ACCEPTED, "pending"):
        _ACCEPTED.pending = {}
    _ACCEPTED.pending.setdefault("" if stack else urn, []).append((urn, policy, message, reason))


def accepted_risk_message(policy: str, message: str, reason: str) -> str:
    return f"{policy}: {message} (accepted risk: {reason})"


def exemption(props: Mapping[str, Any], policy: str, severity: Severity | None = None) -> str | None:
    """The reason ``props`` gives for being exempt from ``policy``, if any (an empty reason is no exemption).

    A policy of ``Severity.CRITICAL`` cannot be exempted: its findings stay violations, whatever a tag says.
    """
    if severity == Severity.CRITICAL or not isinstance(props, Mapping):
        return None
    for source, key in ((peek(props, "tags"), EXEMPT_TAG_PREFIX + policy),
                        (peek(props, "metadata.annotations"), EXEMPT_ANNOTATION_PREFIX + policy)):
        reason = peek_key(source, key) if isinstance(source, Mapping) else None
        if isinstance(reason, str) and reason.strip():
            return reason.strip()
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
    """Thresholds: the pack config's values over the policy's production defaults (whole numbers as ``int``)."""
    config = args.get_config() if hasattr(args, "get_config") else None
    given = {k: v for k, v in (config or {}).items() if v is not None}
    return {key: number(value) for key, value in {**defaults, **given}.items()}


def _register(name: str, category: str, types: tuple[str, ...], controls: tuple[str, ...], defaults: Mapping[str, Any],
              whole_stack: bool = False) -> None:
    if category not in CATEGORIES:
        raise ValueError(f"{name}: unknown category {category!r}")
    if name in META:
        raise ValueError(f"duplicate policy name {name}")
    META[name] = Meta(category=category, resource_types=types, controls=controls, defaults=dict(defaults), whole_stack=whole_stack)


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
            else:
                _accept(args.urn, name, message, reason, stack=False)

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
    whole_stack: bool = False,
) -> StackValidationPolicy:
    """A policy over the whole stack; ``check(args, settings)`` yields ``(message, urn or None)``.

    ``types``: every type the check asks ``of_type`` for (and reports on); ``whole_stack``: it also
    walks every resource of the stack, whatever its type.
    """
    defaults = dict(defaults or {})
    _register(name, category, types, controls, defaults, whole_stack)

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        by_urn = {r.urn: r for r in args.resources}
        _ACCEPTED.policy = name
        try:
            for message, urn in check(args, settings(args, defaults)):
                props = by_urn[urn].props if urn in by_urn else {}
                reason = exemption(props, name, severity)
                if reason is None:
                    report_violation(_unexemptable(message, props, name, severity), urn)
                else:
                    _accept(urn or "", name, message, reason, stack=True)
        finally:
            _ACCEPTED.policy = None

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


class _Unknown:
    """What :func:`peek` returns for a value that only ``pulumi up`` knows (an output of a resource yet to be created)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def is_sequence(value: Any) -> bool:
    """A list as the pack sees it: the servicer's proxies are ``Sequence``s, not lists; strings are not lists here."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _path(path: str) -> list[str]:
    return path.replace("]", "").replace("[", ".").split(".")


def _step(current: Any, part: str, default: Any) -> Any:
    if is_sequence(current):
        try:
            return current[int(part)]
        except (ValueError, IndexError):
            return default
    if isinstance(current, Mapping):
        try:
            return current[part]
        except KeyError:
            return None
    return default


def number(value: Any) -> Any:
    """Numbers reach the pack as protobuf doubles (``7`` arrives as ``7.0``): whole ones back as ``int``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def get(props: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """``get(props, "vpcConfig.endpointPublicAccess")``; list items as ``a[0].b``; whole numbers as ``int``.

    A value the preview cannot know raises the servicer's ``UnknownValueError``: the
    policy then reports "can't run … during preview" and runs at ``pulumi up``. Where
    a policy can decide without the value, it reads it with :func:`peek` instead.
    """
    current: Any = props
    for part in _path(path):
        if current is None:
            return default
        current = _step(current, part, default)
    return default if current is None else number(current)


def peek(props: Any, path: str, default: Any = None) -> Any:
    """Like :func:`get`, but an unknown value (or container) comes back as ``UNKNOWN`` instead of raising."""
    current: Any = props
    for part in _path(path):
        if current is None:
            return default
        try:
            current = _step(current, part, default)
        except UnknownValueError:
            return UNKNOWN
    return default if current is None else number(current)


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def is_set(props: Any, path: str) -> bool:
    """The input is given: a known, non-empty value, or one a preview cannot know yet.

    An unknown value is an output of a resource this stack creates (an ARN, an id), so
    the input is set by construction; what it points at is proven by
    ``aws-references-resolve`` where the input is a declared reference.
    """
    value = peek(props, path)
    return value is UNKNOWN or bool(value)


def defer(path: str) -> None:
    """Give up at preview the way the servicer does when a policy reads an unknown value (``pulumi up`` decides).

    For a policy that decided what it could first and needs an unknown value for the rest.
    """
    raise UnknownValueError(UNKNOWN_STRING_VALUE, path.split("."))


# Inputs that name another resource by one of its outputs (a KMS key's ARN, a role's ARN, …): type -> path ->
# the resource types that may feed it. At a first preview such a value is unknown, so a policy that needs it
# to be set reads it with `is_set`, and the stack policy `aws-references-resolve` proves, through property
# dependencies (known at preview), that a resource of this stack feeding it is of the declared kind.
REFERENCES: dict[str, dict[str, tuple[str, ...]]] = {}
KMS_KEY_TYPES = ("aws:kms/key:Key", "aws:kms/alias:Alias", "aws:kms/replicaKey:ReplicaKey")


def declare_reference(types: Iterable[str], path: str, kinds: Iterable[str]) -> None:
    for type_ in types:
        REFERENCES.setdefault(type_, {})[path] = tuple(kinds)


def customer_managed_key(props: Any, path: str) -> str | None:
    """Why the KMS key input at ``path`` is not a customer-managed key, or None when it is (or is a key yet to be created)."""
    key = peek(props, path)
    if key is UNKNOWN:
        return None
    if not key:
        return "names no KMS key (so the AWS-managed key is used)"
    if "alias/aws/" in str(key):
        return f"uses the AWS-managed key {key}"
    return None


def peek_key(mapping: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """``mapping[key]`` for a key that may hold dots (tag and annotation keys), unknown as ``UNKNOWN``."""
    try:
        return number(mapping[key])
    except KeyError:
        return default
    except UnknownValueError:
        return UNKNOWN


def known_items(mapping: Any) -> list[tuple[str, Any]]:
    """The entries of a mapping, unknown values as ``UNKNOWN`` (``.items()`` on a proxy raises at the first one)."""
    if not isinstance(mapping, Mapping):
        return []
    return [(key, peek_key(mapping, key)) for key in mapping]


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
    return [number(v) for v in value] if is_sequence(value) else [number(value)]


def statements(document: Any) -> list[dict[str, Any]]:
    """The statements of an IAM/resource policy document given as JSON text or a mapping."""
    document = as_json(document)
    if not isinstance(document, Mapping):
        return []
    found = document.get("Statement") or []
    return [s for s in ([found] if isinstance(found, Mapping) else as_list(found)) if isinstance(s, Mapping)]


def provider_default_tags(args: Any) -> dict[str, str]:
    provider = getattr(args, "provider", None)
    if provider is None:
        return {}
    default_tags = as_json(get(provider.props or {}, "defaultTags")) or {}
    return dict(as_json(get(default_tags, "tags")) or {})


def effective_tags(args: Any) -> dict[str, str]:
    """The tags AWS will apply: the provider's default tags overlaid with the resource's."""
    own = get(args.props, "tags")
    return {**provider_default_tags(args), **(dict(own) if isinstance(own, Mapping) else {})}


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


# Stack policy name -> every type it asked ``of_type`` for. A stack policy declares the types it reads
# (``types=``); the test suite checks the declaration against this record, so a policy never depends on
# resources it does not declare.
QUERIED_TYPES: dict[str, set[str]] = {}


def of_type(args: StackValidationArgs, *types: str) -> list[PolicyResource]:
    policy = getattr(_ACCEPTED, "policy", None)
    if policy is not None:
        QUERIED_TYPES.setdefault(policy, set()).update(types)
    return [r for r in args.resources if r.resource_type in types]


def depends_via(resource: PolicyResource, prop: str) -> list[PolicyResource]:
    """The resources whose outputs feed ``prop``: joins that work before ids are known."""
    return list((resource.property_dependencies or {}).get(prop, []) or [])


def refers_to(resource: PolicyResource, prop: str, target: PolicyResource) -> bool:
    return any(dep.urn == target.urn for dep in depends_via(resource, prop))
