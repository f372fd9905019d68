"""Typed, validated stack configuration: the only place that reads ``golive:*`` keys.

Every key of the stack's config is read once, here, into frozen dataclasses with
documented, production-grade defaults. Components receive these objects and never
read ``pulumi.Config`` themselves.

Validation runs before any resource is declared and collects *every* problem into
one :class:`ConfigError` (key, value given, rule), so a user fixes a stack in one
round trip. Under ``pulumi preview`` the error is raised as ``pulumi.RunError``,
which the CLI prints without a Python traceback; the offline engine prints it and
exits 2.

Sections are plain dataclasses: the generic parser derives accepted keys (the
camelCase form of each field name), types and defaults from the field
annotations, so adding a setting means adding one documented field. Each section
may define ``validate(self, ctx, problems)`` for rules that span fields or
sections.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

NAMESPACE = "golive"

# Secret keys: read with get_secret/require_secret only; they stay Outputs.
SECRET_KEYS: dict[str, str] = {
    "pagerdutyRoutingKey": "PagerDuty Events v2 routing key for critical alerts",
    "slackWebhookUrl": "Slack incoming-webhook URL for alert notifications",
    "smtpPassword": "password of the SMTP account that sends alert e-mail",
}


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One configuration problem: which key, what value was given, which rule it breaks."""

    key: str
    value: Any
    rule: str

    def render(self) -> str:
        shown = str(self.value) if isinstance(self.value, (_Missing, _Shown)) else json.dumps(self.value, default=str)
        return f"{self.key} = {shown}: {self.rule}"


class ConfigError(Exception):
    """All problems found in one stack configuration."""

    def __init__(self, problems: Sequence[Problem], stack: str = ""):
        self.problems = list(problems)
        self.stack = stack
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.problems)
        where = f' of stack "{self.stack}"' if self.stack else ""
        lines = [f"golive: {n} configuration problem{'s' if n != 1 else ''}{where}:"]
        lines += [f"  - {p.render()}" for p in self.problems]
        lines.append("Fix them in Pulumi.<stack>.yaml (or with `pulumi config set`) and run again.")
        return "\n".join(lines)


class _Missing:
    def __repr__(self) -> str:
        return "(not set)"


_MISSING: Any = _Missing()


class _Shown(str):
    """A description printed in place of a value: a secret's plain text, a whole section."""

    def __repr__(self) -> str:
        return str(self)


# What an error shows instead of a secret given in plain text.
HIDDEN = _Shown("(plain text, not shown)")


# --------------------------------------------------------------------------- helpers


def doc(text: str, default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    """A dataclass field with its documentation (shown in docs/config.md and errors)."""
    if default is not dataclasses.MISSING and isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple or default_factory for mutable defaults")
    if default is dataclasses.MISSING:
        return field(metadata={"doc": text}, **kwargs)
    return field(default=default, metadata={"doc": text}, **kwargs)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(json.dumps(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args)
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if dataclasses.is_dataclass(tp):
        return "an object"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


# The AWS regions golive deploys to, by partition: the one table every region setting is checked against
# (botocore's endpoint data lists the same: tests/test_config.py). A region AWS opens later is added here.
AWS_REGIONS: dict[str, tuple[str, ...]] = {
    "aws": (
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
        "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
        "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1",
        "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
        "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
}


def partition_of(region: str) -> str | None:
    """The partition of a known region (None: not a region of AWS_REGIONS)."""
    return next((partition for partition, regions in AWS_REGIONS.items() if region in regions), None)


def check_region(key: str, value: str, problems: list[Problem]) -> bool:
    """Whether ``value`` is a known AWS region; records the problem if not."""
    if partition_of(value) is not None:
        return True
    close = difflib_closest(value, [r for regions in AWS_REGIONS.values() for r in regions])
    hint = f" (did you mean {close!r}?)" if close else ""
    problems.append(Problem(key, _shown(value), f"must be a known AWS region{hint}: golive's region table (AWS_REGIONS in "
                            "components/config) lists every region of the aws, aws-cn and aws-us-gov partitions"))
    return False


def difflib_closest(word: str, candidates: Sequence[str], cutoff: float = 0.7) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return match[0] if match else None


# The largest integer a double (Pulumi's wire format for numbers) holds exactly.
MAX_WIRE_INT = 2**53


def _shown(value: Any) -> Any:
    """A value short enough to print in an error (a 400-digit number is not)."""
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


class _Ctx:
    """What cross-field rules need: the environment and the region."""

    def __init__(self, environment: str, region: str):
        self.environment = environment
        self.region = region

    @property
    def production(self) -> bool:
        return self.environment == "production"


class _Parse:
    """One parse of a stack config: what cannot be read, what breaks a rule, and which keys could not be read.

    A value that cannot be read (a wrong type, a required key missing) is reported and its key marked broken; its
    default stands in so every other setting is still checked, and the rules' verdicts on a broken key (they judged
    the stand-in) are dropped. So one round trip shows every problem, everywhere.
    """

    def __init__(self, ctx: _Ctx):
        self.ctx = ctx
        self.problems: list[Problem] = []  # values that cannot be read: types, unknown and required keys
        self.checks: list[Problem] = []  # the rules (validate hooks and cross checks)
        self.broken: set[str] = set()

    def _is_broken(self, key: str) -> bool:
        return any(key == b or key.startswith((b + ".", b + "[")) for b in self.broken)

    def check(self, obj: Any, key: str) -> None:
        """Run ``obj``'s validate hook, keeping what it says about keys whose given value was read."""
        hook = getattr(obj, "validate", None)
        if hook is None:
            return
        found: list[Problem] = []
        hook(key, self.ctx, found)
        self.checks += [p for p in found if not self._is_broken(p.key)]

    def check_tree(self, obj: Any, key: str) -> None:
        """Run every ``validate`` hook of a default value, depth first, with the key path of each object."""
        if isinstance(obj, tuple):
            for i, item in enumerate(obj):
                self.check_tree(item, f"{key}[{i}]")
            return
        if not dataclasses.is_dataclass(obj):
            return
        for f in dataclasses.fields(obj):
            self.check_tree(getattr(obj, f.name), f"{key}.{camel(f.name)}")
        self.check(obj, key)

    def coerce(self, tp: Any, value: Any, key: str) -> Any:
        """Convert a raw config value to ``tp`` (objects checked by their rules as they are built), or ``_MISSING``."""
        problems = self.problems
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if value is None:
                return None
            return self.coerce(args[0], value, key)
        if origin is Literal:
            if value in typing.get_args(tp):
                return value
            problems.append(Problem(key, value, f"must be {_type_name(tp)}"))
            return _MISSING
        if origin is tuple:
            if isinstance(value, str):
                # `pulumi config set golive:x '[...]'` stores a JSON string.
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            if not isinstance(value, list):
                problems.append(Problem(key, _brief(value), f"must be {_type_name(tp)}"))
                return _MISSING
            item_tp = typing.get_args(tp)[0]
            items = [self.coerce(item_tp, v, f"{key}[{i}]") for i, v in enumerate(value)]
            for i, item in enumerate(items):
                if item is _MISSING:
                    self.broken.add(f"{key}[{i}]")
            # Each readable item was checked as it was built; the list's own rules need every item.
            return _MISSING if any(i is _MISSING for i in items) else tuple(items)
        if dataclasses.is_dataclass(tp):
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            if not isinstance(value, dict):
                problems.append(Problem(key, _brief(value), "must be an object"))
                return _MISSING
            return self.dataclass(tp, value, key)
        if tp is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value in ("true", "false"):
                return value == "true"
            problems.append(Problem(key, _brief(value), "must be true or false"))
            return _MISSING
        if tp is int:
            if isinstance(value, bool):
                problems.append(Problem(key, value, "must be an integer"))
                return _MISSING
            number = value if isinstance(value, int) else (
                int(value) if isinstance(value, str) and re.fullmatch(r"-?\d{1,400}", value.strip()) else None)
            if number is None:
                problems.append(Problem(key, _brief(value), "must be an integer"))
                return _MISSING
            if abs(number) > MAX_WIRE_INT:
                problems.append(Problem(key, _shown(value), f"must be at most {MAX_WIRE_INT} in size (Pulumi sends numbers as doubles)"))
                return _MISSING
            return number
        if tp is float:
            if isinstance(value, bool):
                problems.append(Problem(key, value, "must be a number"))
                return _MISSING
            number: float | None = None
            try:
                if isinstance(value, (int, float)):
                    number = float(value)
                elif isinstance(value, str):
                    number = float(value)
            except ValueError:
                number = None
            except OverflowError:
                number = math.inf
            if number is None:
                problems.append(Problem(key, _brief(value), "must be a number"))
                return _MISSING
            if not math.isfinite(number):
                problems.append(Problem(key, _shown(value), "must be a finite number"))
                return _MISSING
            return number
        if tp is str:
            if isinstance(value, str):
                return value
            problems.append(Problem(key, _brief(value), "must be a string"))
            return _MISSING
        raise TypeError(f"unsupported config field type {tp!r} for {key}")

    def dataclass(self, cls: Any, raw: Mapping[str, Any], key: str) -> Any:
        hints = typing.get_type_hints(cls)
        fields = {camel(f.name): f for f in dataclasses.fields(cls) if f.init}
        for unknown in sorted(set(raw) - set(fields)):
            self.problems.append(Problem(f"{key}.{unknown}", _brief(raw[unknown]), _unknown_key_rule(unknown, fields)))
        kwargs: dict[str, Any] = {}
        complete = True  # unknown keys are reported but do not stop the rest from being checked
        for camel_name, f in fields.items():
            field_key = f"{key}.{camel_name}"
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if camel_name not in raw:
                if required:
                    self.problems.append(Problem(field_key, _MISSING, f"is required ({f.metadata.get('doc', '')})"))
                    self.broken.add(field_key)
                    complete = False
                else:
                    kwargs[f.name] = _default_of(f)
                    self.check_tree(kwargs[f.name], field_key)
                continue
            value = self.coerce(hints[f.name], raw[camel_name], field_key)
            if value is _MISSING:
                self.broken.add(field_key)
                if required:
                    complete = False
                else:
                    kwargs[f.name] = _default_of(f)  # stands in, so the other fields' rules still run
                continue
            kwargs[f.name] = value
        if not complete:
            return _MISSING
        obj = cls(**kwargs)
        self.check(obj, key)
        return obj


def _default_of(f: dataclasses.Field) -> Any:
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]


def _brief(value: Any) -> Any:
    """A given value as an error shows it: an object or a list (or its JSON string) by its kind, not its contents."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, dict):
        return _Shown(f"(an object with {len(value)} key{'s' if len(value) != 1 else ''})")
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return _Shown(f"(a list of {len(value)})")
    return _shown(value) if isinstance(value, str) else value


def _unknown_key_rule(unknown: str, known: Mapping[str, Any]) -> str:
    suggestion = _closest(unknown, known)
    if suggestion:
        return f"unknown key (did you mean {suggestion!r}?)"
    return f"unknown key; known keys: {', '.join(sorted(known))}"


def _closest(word: str, candidates: Mapping[str, Any]) -> str | None:
    return difflib_closest(word, list(candidates))


def parse_cidr(key: str, value: str, problems: list[Problem]) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        problems.append(Problem(key, value, f"must be an IPv4 CIDR block with no host bits set ({exc})"))
        return None


LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
# Production keeps every CloudWatch log group at least a year (policy logs-group-encrypted-retained, CKV_AWS_338).
PRODUCTION_LOG_RETENTION_DAYS = 365

# Rules that span sections (e.g. the DR region differs from the primary); each
# takes (config: StackConfig, ctx, problems) and runs after every section parsed.
CROSS_CHECKS: list[Any] = []


def cross_check(fn: Any) -> Any:
    CROSS_CHECKS.append(fn)
    return fn


_PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)

# --------------------------------------------------------------------------- network


@dataclass(frozen=True)
class NetworkConfig:
    """The VPC and its three subnet tiers (``golive:network``)."""

    vpc_cidr: str = doc("VPC IPv4 CIDR; a private range, /16 to /20.", "10.20.0.0/16")
    availability_zones: tuple[str, ...] = doc(
        "Availability zones, one subnet per tier in each; default: <region>a, b and c.", ()
    )
    nat_gateways: Literal["perAz", "single"] = doc(
        "`perAz` (one NAT gateway per AZ, required in production) or `single` (cheaper, one AZ failure cuts egress).",
        "perAz",
    )
    public_subnet_cidrs: tuple[str, ...] = doc("Public (load balancer) subnet CIDRs, one per AZ; default: computed.", ())
    private_subnet_cidrs: tuple[str, ...] = doc("Private (application) subnet CIDRs, one per AZ; default: computed.", ())
    isolated_subnet_cidrs: tuple[str, ...] = doc("Isolated (data) subnet CIDRs, one per AZ; default: computed.", ())
    flow_log_retention_days: int = doc("Retention of the VPC flow log group, in days.", 365)
    interface_endpoints: tuple[str, ...] = doc(
        "AWS services reached through interface VPC endpoints from the private subnets.",
        ("ecr.api", "ecr.dkr", "sts", "logs", "secretsmanager", "kms", "ec2", "elasticloadbalancing", "autoscaling"),
    )

    # Share of the VPC each tier gets, as a prefix delta (1 = half): the app tier is
    # largest because EKS pods take VPC addresses (vpc-cni); data and public need few.
    # Each tier's share is then split into one block per AZ (rounded up to a power of 2).
    TIER_PREFIX_DELTA = {"private": 1, "isolated": 3, "public": 4}
    MIN_PREFIX, MAX_PREFIX = 16, 20
    MAX_AZS = 6

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        vpc = parse_cidr(f"{key}.vpcCidr", self.vpc_cidr, problems)
        if vpc is not None:
            if not self.MIN_PREFIX <= vpc.prefixlen <= self.MAX_PREFIX:
                problems.append(
                    Problem(f"{key}.vpcCidr", self.vpc_cidr, f"prefix must be /{self.MIN_PREFIX} to /{self.MAX_PREFIX} "
                            f"(AWS allows at most /16; smaller than /{self.MAX_PREFIX} leaves too few addresses for EKS pods)")
                )
            if not any(vpc.subnet_of(r) for r in _PRIVATE_RANGES):
                problems.append(Problem(f"{key}.vpcCidr", self.vpc_cidr, "must lie in a private range (RFC 1918 or 100.64.0.0/10)"))
        azs = self.azs(ctx.region)
        az_key = f"{key}.availabilityZones"
        if ctx.production and len(set(azs)) < 3:
            problems.append(Problem(az_key, list(azs), "a production stack needs at least 3 distinct availability zones"))
        if len(azs) > self.MAX_AZS:
            problems.append(Problem(az_key, list(azs), f"at most {self.MAX_AZS} availability zones (no AWS region has more)"))
        if len(set(azs)) != len(azs):
            problems.append(Problem(az_key, list(azs), "availability zones must be distinct"))
        for i, az in enumerate(azs):
            if not re.fullmatch(re.escape(ctx.region) + r"[a-z]", az):
                problems.append(Problem(f"{az_key}[{i}]", az, f"must be an availability zone of region {ctx.region} (e.g. {ctx.region}a)"))
        duplicates = sorted({e for e in self.interface_endpoints if self.interface_endpoints.count(e) > 1})
        if duplicates:
            problems.append(Problem(f"{key}.interfaceEndpoints", list(self.interface_endpoints), f"lists {', '.join(duplicates)} more than once"))
        if ctx.production and self.nat_gateways != "perAz":
            problems.append(Problem(f"{key}.natGateways", self.nat_gateways, "a production stack needs one NAT gateway per AZ (perAz)"))
        _check_retention(f"{key}.flowLogRetentionDays", self.flow_log_retention_days, PRODUCTION_LOG_RETENTION_DAYS, ctx, problems)
        if vpc is None or vpc.prefixlen > self.MAX_PREFIX:
            return
        given: list[tuple[str, ipaddress.IPv4Network]] = []
        for tier in ("public", "private", "isolated"):
            tier_key = f"{key}.{tier}SubnetCidrs"
            cidrs = getattr(self, f"{tier}_subnet_cidrs")
            if not cidrs:
                continue
            if len(cidrs) != len(azs):
                problems.append(Problem(tier_key, list(cidrs), f"needs exactly one CIDR per availability zone ({len(azs)})"))
            for i, cidr in enumerate(cidrs):
                net = parse_cidr(f"{tier_key}[{i}]", cidr, problems)
                if net is None:
                    continue
                if not net.subnet_of(vpc):
                    problems.append(Problem(f"{tier_key}[{i}]", cidr, f"falls outside the VPC CIDR {vpc}"))
                elif net.prefixlen > 28:
                    problems.append(Problem(f"{tier_key}[{i}]", cidr, "AWS subnets are /28 or larger"))
                for other_key, other in given:
                    if net.overlaps(other):
                        problems.append(Problem(f"{tier_key}[{i}]", cidr, f"overlaps {other_key} ({other})"))
                given.append((f"{tier_key}[{i}]", net))

    def azs(self, region: str) -> tuple[str, ...]:
        return self.availability_zones or tuple(f"{region}{suffix}" for suffix in "abc")

    def subnet_cidrs(self, region: str) -> dict[str, tuple[str, ...]]:
        """CIDRs per tier, one per AZ: the configured ones, else carved from the VPC.

        Larger tiers are allocated first so every block stays aligned; the result
        never overlaps because blocks are handed out in increasing address order.
        """
        azs = self.azs(region)
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        result: dict[str, tuple[str, ...]] = {}
        cursor = int(vpc.network_address)
        per_az_delta = max(len(azs) - 1, 1).bit_length()
        for tier, delta in sorted(self.TIER_PREFIX_DELTA.items(), key=lambda kv: kv[1]):
            prefix = vpc.prefixlen + delta + per_az_delta
            size = 2 ** (32 - prefix)
            blocks = []
            for _ in azs:
                cursor = -(-cursor // size) * size  # align up
                blocks.append(str(ipaddress.IPv4Network((cursor, prefix))))
                cursor += size
            result[tier] = blocks
        for tier in result:
            configured = getattr(self, f"{tier}_subnet_cidrs")
            result[tier] = tuple(configured) if configured else tuple(result[tier])
        return result



# =========================================================================== sections
# Each area owns the region between its markers (parallel work stays conflict-free).

# --- section: alerting (priorities, windows, thresholds, scrape settings) ---

Priority = Literal["P1", "P2", "P3"]
AlertSeverity = Literal["critical", "warning"]
PAGING_PRIORITIES = ("P1", "P2")
"""P1 and P2 page (PagerDuty and the critical Slack channel); P3 opens a ticket (Slack and e-mail)."""
SLO_WINDOW = "30d"
"""The window every SLO is measured over: the longest range the SLI recording rules read."""


class AlertTier:
    """The knobs of one alert rule: the threshold it compares, how long it must hold, how loud, who hears it.

    Each tier class (below) carries its own production defaults; ``ratio`` tiers compare a share in [0, 1].
    """

    ratio = False

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        seconds = duration_seconds(self.for_)
        if seconds is None or self.for_.endswith("ms"):
            problems.append(Problem(f"{key}.for", self.for_, "must be a duration such as 5m (0m fires at the first evaluation)"))
        elif seconds > 86400:
            problems.append(Problem(f"{key}.for", self.for_, "must be at most 1d (a longer hold hides the incident)"))
        threshold = getattr(self, "threshold", None)
        if threshold is not None:
            if threshold <= 0:
                problems.append(Problem(f"{key}.threshold", threshold, "must be positive"))
            elif self.ratio and not 0 < threshold < 1:
                problems.append(Problem(f"{key}.threshold", threshold, "is a share: strictly between 0 and 1 (0.01 = 1%)"))
        if self.severity == "critical" and self.priority not in PAGING_PRIORITIES:
            problems.append(Problem(f"{key}.priority", self.priority, "a critical alert pages: use P1 or P2, or make it a warning"))

    @property
    def pages(self) -> bool:
        return self.priority in PAGING_PRIORITIES


def _tier(cls_name: str, what: str, *, threshold: float | None, unit: str = "", for_: str, severity: str, priority: str,
          ratio: bool = False, enabled: bool | None = None) -> type:
    """A tier class whose fields default to one alert's production values (shown in docs/config.md)."""
    fields: list[tuple[str, Any, Any]] = []
    if enabled is not None:
        fields.append(("enabled", bool, doc("Whether the rule is deployed.", enabled)))
    if threshold is not None:
        fields.append(("threshold", float, doc(f"Fires above (or below, as the alert says) this value: {unit}.", threshold)))
    fields += [
        ("for_", str, doc("How long the condition must hold before the alert fires (`0m`: at the first evaluation).", for_)),
        ("severity", AlertSeverity, doc("`critical` or `warning` (a critical alert silences the warning of the same name).", severity)),
        ("priority", Priority, doc("`P1`/`P2` page (PagerDuty + critical Slack), `P3` opens a ticket (Slack + e-mail).", priority)),
    ]
    cls = dataclasses.make_dataclass(cls_name, fields, bases=(AlertTier,), frozen=True, namespace={"ratio": ratio, "__doc__": what})
    cls.__module__ = __name__
    return cls


# Per catalog service (`golive:services[].alerting`); defaults are the platform's own values.
ServiceDownTier = _tier("ServiceDownTier", "ServiceDown: no scrape target of the service answers.",
                        threshold=None, for_="1m", severity="critical", priority="P1")
ErrorRateCriticalTier = _tier("ErrorRateCriticalTier", "HighErrorRate (critical): share of 5xx responses over 5 minutes.",
                              threshold=0.10, unit="share of requests answered 5xx over 5m", ratio=True, for_="5m",
                              severity="critical", priority="P1")
ErrorRateWarningTier = _tier("ErrorRateWarningTier", "HighErrorRate (warning): share of 5xx responses over 5 minutes.",
                             threshold=0.01, unit="share of requests answered 5xx over 5m", ratio=True, for_="10m",
                             severity="warning", priority="P3")
LatencyCriticalTier = _tier("LatencyCriticalTier", "HighLatency (critical): p99 request latency over 5 minutes.",
                            threshold=2.0, unit="p99 latency in seconds", for_="10m", severity="critical", priority="P1")
LatencyWarningTier = _tier("LatencyWarningTier", "HighLatency (warning): p95 request latency over 5 minutes.",
                           threshold=1.0, unit="p95 latency in seconds", for_="15m", severity="warning", priority="P3")
ProbeFailedTier = _tier("ProbeFailedTier", "EndpointProbeFailed: the blackbox probe of the health URL fails.",
                        threshold=None, for_="2m", severity="critical", priority="P1")
DatabasePoolTier = _tier("DatabasePoolTier", "DatabaseConnectionPoolSaturated: a pod's share of its pool in use.",
                         threshold=0.9, unit="share of the pod's database pool in use", ratio=True, for_="5m",
                         severity="warning", priority="P3")
CircuitBreakerTier = _tier("CircuitBreakerTier", "CircuitBreakerOpen: a breaker to a dependency is open (state 1).",
                           threshold=None, for_="2m", severity="warning", priority="P3")
QueueDepthTier = _tier("QueueDepthTier", "RequestQueueBackpressure: requests waiting in a pod's queue.",
                       threshold=100.0, unit="queued requests", for_="5m", severity="warning", priority="P3")
FailedLoginTier = _tier("FailedLoginTier", "FailedLoginSpike: failed logins over 5 minutes.",
                        threshold=50.0, unit="failed logins in 5m", for_="0m", severity="warning", priority="P3")
MemoryWarningTier = _tier("MemoryWarningTier", "PodMemoryHigh (warning): a container's working set of its memory limit.",
                          threshold=0.8, unit="share of the memory limit", ratio=True, for_="10m", severity="warning", priority="P3")
MemoryCriticalTier = _tier("MemoryCriticalTier", "PodMemoryHigh (critical): a container's working set of its memory limit.",
                           threshold=0.9, unit="share of the memory limit", ratio=True, for_="5m", severity="critical", priority="P1")
CpuWarningTier = _tier("CpuWarningTier", "PodCpuHigh (warning): a container's CPU use of its limit over 5 minutes.",
                       threshold=0.8, unit="share of the CPU limit", ratio=True, for_="10m", severity="warning", priority="P3")
CpuCriticalTier = _tier("CpuCriticalTier", "PodCpuHigh (critical): a container's CPU use of its limit over 5 minutes.",
                        threshold=0.95, unit="share of the CPU limit", ratio=True, for_="15m", severity="critical", priority="P1")
MetricsAbsentTier = _tier("MetricsAbsentTier", "ServiceMetricsAbsent: Prometheus has no scrape target of the service at all.",
                          threshold=None, for_="10m", severity="critical", priority="P2")
ErrorBudgetLowTier = _tier("ErrorBudgetLowTier", "SLOErrorBudgetLow: share of the 30-day error budget left, per SLI.",
                           threshold=0.2, unit="share of the 30-day error budget remaining", ratio=True, for_="15m",
                           severity="warning", priority="P3")
AvailabilityAtRiskTier = _tier("AvailabilityAtRiskTier", "SLOAvailabilityAtRisk: 30-day availability close to the objective.",
                               threshold=0.05, unit="percentage points above the availability objective (0.05: 99.9% warns under 99.95%)",
                               for_="15m", severity="warning", priority="P3")
TradeExecutionTier = _tier("TradeExecutionTier", "TradeExecutionFailures: share of trade executions that fail (trade_executions_total).",
                           threshold=0.01, unit="share of trade executions with outcome failure over 5m", ratio=True, for_="5m",
                           severity="critical", priority="P1", enabled=False)


@dataclass(frozen=True)
class ServiceAlertingConfig:
    """Alert rules of one catalog service (``golive:services[].alerting``): each rule's threshold, hold, severity, priority."""

    service_down: ServiceDownTier = doc("ServiceDown.", default_factory=ServiceDownTier)
    metrics_absent: MetricsAbsentTier = doc("ServiceMetricsAbsent.", default_factory=MetricsAbsentTier)
    error_rate_critical: ErrorRateCriticalTier = doc("HighErrorRate, critical tier.", default_factory=ErrorRateCriticalTier)
    error_rate_warning: ErrorRateWarningTier = doc("HighErrorRate, warning tier.", default_factory=ErrorRateWarningTier)
    latency_critical: LatencyCriticalTier = doc("HighLatency, critical tier (p99).", default_factory=LatencyCriticalTier)
    latency_warning: LatencyWarningTier = doc("HighLatency, warning tier (p95).", default_factory=LatencyWarningTier)
    probe_failed: ProbeFailedTier = doc("EndpointProbeFailed.", default_factory=ProbeFailedTier)
    database_pool: DatabasePoolTier = doc("DatabaseConnectionPoolSaturated.", default_factory=DatabasePoolTier)
    circuit_breaker: CircuitBreakerTier = doc("CircuitBreakerOpen.", default_factory=CircuitBreakerTier)
    queue_depth: QueueDepthTier = doc("RequestQueueBackpressure.", default_factory=QueueDepthTier)
    failed_logins: FailedLoginTier = doc("FailedLoginSpike.", default_factory=FailedLoginTier)
    memory_warning: MemoryWarningTier = doc("PodMemoryHigh of the service's pods, warning tier.", default_factory=MemoryWarningTier)
    memory_critical: MemoryCriticalTier = doc("PodMemoryHigh of the service's pods, critical tier.", default_factory=MemoryCriticalTier)
    cpu_warning: CpuWarningTier = doc("PodCpuHigh of the service's pods, warning tier.", default_factory=CpuWarningTier)
    cpu_critical: CpuCriticalTier = doc("PodCpuHigh of the service's pods, critical tier.", default_factory=CpuCriticalTier)
    error_budget_low: ErrorBudgetLowTier = doc("SLOErrorBudgetLow (both SLIs).", default_factory=ErrorBudgetLowTier)
    availability_at_risk: AvailabilityAtRiskTier = doc("SLOAvailabilityAtRisk.", default_factory=AvailabilityAtRiskTier)
    trade_executions: TradeExecutionTier = doc("TradeExecutionFailures (off unless the service counts trade_executions_total).",
                                               default_factory=TradeExecutionTier)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        _two_tiers(key, ((self.error_rate_warning, self.error_rate_critical, "errorRate"), (self.memory_warning, self.memory_critical, "memory"),
                         (self.cpu_warning, self.cpu_critical, "cpu")), problems)
        _two_tiers(key, ((self.latency_warning, self.latency_critical, "latency"),), problems, compare=False)


def _two_tiers(key: str, pairs: Sequence[tuple[Any, Any, str]], problems: list[Problem], compare: bool = True) -> None:
    """An alert with a warning and a critical tier: the warning is a warning, the critical a critical, and comes first."""
    for low, high, what in pairs:
        for tier, level in ((low, "warning"), (high, "critical")):
            if tier.severity != level:
                problems.append(Problem(f"{key}.{what}{level.capitalize()}.severity", tier.severity,
                                        f"is the {level} tier of a two-tier alert; change its priority to page it or not"))
        if compare and low.threshold >= high.threshold:
            problems.append(Problem(f"{key}.{what}Warning.threshold", low.threshold,
                                    f"must be below {what}Critical.threshold ({high.threshold:g}): the warning comes first"))


@dataclass(frozen=True)
class ServiceMetricsConfig:
    """How Prometheus scrapes a catalog service (``golive:services[].metrics``), rendered into its ServiceMonitor."""

    path: str = doc("HTTP path of the Prometheus metrics.", "/metrics")
    port: int = doc("Container port serving the metrics; 0: the service's `port`.", 0)
    interval: str = doc("Scrape interval, 5s to 1m (the 5-minute rate windows need at least 5 samples).", "15s")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not self.path.startswith("/") or any(c.isspace() or c in "?#" for c in self.path):
            problems.append(Problem(f"{key}.path", self.path, "must be an absolute URL path starting with '/', without query or fragment"))
        if not 0 <= self.port <= 65535:
            problems.append(Problem(f"{key}.port", self.port, "must be a TCP port (1-65535), or 0 for the service's port"))
        seconds = duration_seconds(self.interval)
        if seconds is None or not 5 <= seconds <= 60:
            problems.append(Problem(f"{key}.interval", self.interval, "must be a duration from 5s to 1m"))

    def port_of(self, service_port: int) -> int:
        return self.port or service_port

    @property
    def timeout(self) -> str:
        """The scrape timeout: the interval, at most 10s (Prometheus refuses a timeout longer than the interval)."""
        seconds = int(duration_seconds(self.interval) or 10)
        return f"{min(seconds, 10)}s"


# --- end section: alerting --------------------------------------------------

# --- section: catalog ---------------------------------------------

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
# Namespaces the platform or Kubernetes itself owns: a service may not take them.
RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "monitoring", "argo-rollouts")


@dataclass(frozen=True)
class SloConfig:
    """A service's objectives, in the style of the SRE workbook."""

    availability: float = doc("Availability objective in percent over 30 days, in (0, 100).", 99.9)
    latency_threshold_seconds: float = doc("Latency threshold of the latency SLI, in seconds.", 1.0)
    latency_target: float = doc("Percent of requests that must be faster than the threshold, in (0, 100).", 95.0)

    MIN_OBJECTIVE = 90.0

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for name, value in (("availability", self.availability), ("latencyTarget", self.latency_target)):
            if not 0 < value < 100:
                problems.append(Problem(f"{key}.{name}", value, "must be a percentage strictly between 0 and 100 "
                                        "(100 leaves no error budget)"))
            elif value < self.MIN_OBJECTIVE:
                problems.append(Problem(f"{key}.{name}", value, f"must be at least {self.MIN_OBJECTIVE:g}: the multi-window "
                                        "burn-rate alerts (page at 14.4x/6x) need an error budget of at most 10%"))
        if self.latency_threshold_seconds <= 0:
            problems.append(Problem(f"{key}.latencyThresholdSeconds", self.latency_threshold_seconds, "must be positive"))


@dataclass(frozen=True)
class ServiceTracingConfig:
    """Which of a service's traces are kept (``golive:services[i].tracing``): decided at the tail, per trace.

    The defaults keep every trace, as the OpenTelemetry SDK's default sampler (``parentbased_always_on``)
    sends them: a service that says nothing loses nothing. Lower ``samplingPercentage`` to keep a random
    share (by trace id, so every span of a kept trace is kept), and let ``keepErrors``/``keepSlowerThan``
    keep what matters on top of it.
    """

    sampling_percentage: float = doc("Share of the service's traces kept at random, percent from 0 to 100 (0.1 keeps one in a "
                                     "thousand); 100 keeps every trace.", 100.0)
    keep_errors: bool = doc("Also keep every trace with a span in error status, whatever samplingPercentage says.", True)
    keep_slower_than: str = doc("Also keep every trace that lasts longer than this (e.g. `1s`, `500ms`), whatever "
                                "samplingPercentage says; below golive:monitoring.tracing.decisionWait. Empty: off.", "")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not 0 <= self.sampling_percentage <= 100:
            problems.append(Problem(f"{key}.samplingPercentage", self.sampling_percentage, "must be a percentage from 0 to 100"))
        elif self.sampling_percentage == 0 and not self.keep_errors and not self.keep_slower_than:
            problems.append(Problem(f"{key}.samplingPercentage", self.sampling_percentage,
                                    "keeps no trace at all; keep a share, or errors (keepErrors) or slow traces (keepSlowerThan)"))
        if self.keep_slower_than and not self.slower_than_ms:
            problems.append(Problem(f"{key}.keepSlowerThan", self.keep_slower_than,
                                    "must be a duration of at least 1ms with one unit, such as 500ms or 2s"))

    @property
    def slower_than_ms(self) -> int:
        """``keepSlowerThan`` in whole milliseconds (0: off or not a duration)."""
        seconds = duration_seconds(self.keep_slower_than) if self.keep_slower_than else None
        return int(round(seconds * 1000)) if seconds else 0


@dataclass(frozen=True)
class ServiceConfig:
    """One service of the catalog (``golive:services[i]``): its place on the platform."""

    name: str = doc("DNS label (lowercase letters, digits, dashes); names the namespace, service account and HPA.")
    port: int = doc("Container port the service listens on.", 8080)
    health_path: str = doc("Liveness path.", "/health")
    ready_path: str = doc("Readiness path (the load balancer's health check).", "/ready")
    host: str = doc("Public host name (under the edge domain); empty for internal services.", "")
    path_prefix: str = doc("Path prefix routed to the service on its host.", "/")
    min_replicas: int = doc("HPA minimum replicas; at least 2 in production.", 2)
    max_replicas: int = doc("HPA maximum replicas.", 10)
    cpu_target: int = doc("HPA target CPU utilisation, percent.", 70)
    slo: SloConfig = doc("Service level objectives.", default_factory=SloConfig)
    metrics: ServiceMetricsConfig = doc("How Prometheus scrapes the service.", default_factory=ServiceMetricsConfig)
    alerting: ServiceAlertingConfig = doc("The service's alert rules: thresholds, holds, severities, priorities.",
                                          default_factory=ServiceAlertingConfig)
    tracing: ServiceTracingConfig = doc("Which traces are kept (tail-based sampling in the trace gateway).",
                                        default_factory=ServiceTracingConfig)
    delivery: Literal["canary", "blueGreen", "none"] = doc(
        "Progressive delivery (docs/delivery.md): `canary` (weighted ALB target groups, SLO analysis between steps), "
        "`blueGreen` (preview host, pre- and post-promotion analysis) or `none` (plain Deployment rollout).", "canary")
    preview_host: str = doc("Host name of the preview (green) stack of a `blueGreen` service, under the edge domain.", "")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not _DNS_LABEL.fullmatch(self.name):
            problems.append(Problem(f"{key}.name", self.name, "must be a DNS label: 1-63 lowercase letters, digits or '-', "
                                    "starting and ending with a letter or digit"))
        elif self.name in RESERVED_NAMESPACES or self.name.startswith("kube-"):
            problems.append(Problem(f"{key}.name", self.name, f"is reserved for the platform ({', '.join(RESERVED_NAMESPACES)}, kube-*)"))
        if not 1 <= self.port <= 65535:
            problems.append(Problem(f"{key}.port", self.port, "must be a TCP port (1-65535)"))
        for name, value in (("healthPath", self.health_path), ("readyPath", self.ready_path), ("pathPrefix", self.path_prefix)):
            if not value.startswith("/") or any(c.isspace() for c in value):
                problems.append(Problem(f"{key}.{name}", value, "must be an absolute URL path starting with '/'"))
        if self.host and not _HOST_NAME.fullmatch(self.host):
            problems.append(Problem(f"{key}.host", self.host, "must be a lowercase DNS host name such as api.example.com"))
        if self.min_replicas < 1:
            problems.append(Problem(f"{key}.minReplicas", self.min_replicas, "must be at least 1"))
        elif ctx.production and self.min_replicas < 2:
            problems.append(Problem(f"{key}.minReplicas", self.min_replicas,
                                    "a production service needs at least 2 replicas so one node or AZ failure leaves it serving"))
        if self.max_replicas < self.min_replicas:
            problems.append(Problem(f"{key}.maxReplicas", self.max_replicas, f"must be >= minReplicas ({self.min_replicas})"))
        if not 1 <= self.cpu_target <= 100:
            problems.append(Problem(f"{key}.cpuTarget", self.cpu_target, "must be a percentage from 1 to 100"))
        if ctx.production and self.delivery == "none":
            problems.append(Problem(f"{key}.delivery", self.delivery, "a production service ships through `canary` or "
                                    "`blueGreen`, so every release is analysed against its SLO (policy delivery-strategy-analysed)"))


@cross_check
def _catalog_unique(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """Names become namespaces and (host, path) pairs become ALB routes: both must be unique."""
    names: dict[str, int] = {}
    routes: dict[tuple[str, str], int] = {}
    for i, service in enumerate(config.services):
        key = f"{NAMESPACE}:services[{i}]"
        if service.name in names:
            problems.append(Problem(f"{key}.name", service.name, f"duplicates services[{names[service.name]}].name; names must be unique"))
        names.setdefault(service.name, i)
        if service.host:
            route = (service.host, service.path_prefix)
            if route in routes:
                problems.append(Problem(f"{key}.host", service.host,
                                        f"host and pathPrefix {service.path_prefix!r} duplicate services[{routes[route]}]"))
            routes.setdefault(route, i)


@cross_check
def _catalog_alerting(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """SLOAvailabilityAtRisk warns under objective + margin: that line must stay below 100%."""
    for i, service in enumerate(config.services):
        margin = service.alerting.availability_at_risk.threshold
        if service.slo.availability + margin >= 100:
            problems.append(Problem(f"{NAMESPACE}:services[{i}].alerting.availabilityAtRisk.threshold", margin,
                                    f"objective {service.slo.availability:g}% + {margin:g} points reaches 100%: the alert would always fire"))


# --- end section: catalog ---------------------------------------------------

# --- section: cluster ---------------------------------------------

# Kubernetes minors EKS supports in standard support (policy `cluster-eks-supported-version` has its own list).
EKS_SUPPORTED_VERSIONS = ("1.32", "1.33", "1.34")


@dataclass(frozen=True)
class AddonVersions:
    """EKS add-on versions, pinned (``aws eks describe-addon-versions --kubernetes-version <v>``)."""

    vpc_cni: str = doc("vpc-cni add-on version (network policy enforcement is switched on).", "v1.19.5-eksbuild.1")
    coredns: str = doc("coredns add-on version.", "v1.12.1-eksbuild.2")
    kube_proxy: str = doc("kube-proxy add-on version; its minor must match the cluster's.", "v1.33.0-eksbuild.2")
    aws_ebs_csi_driver: str = doc("aws-ebs-csi-driver add-on version.", "v1.46.0-eksbuild.1")
    eks_pod_identity_agent: str = doc("eks-pod-identity-agent add-on version.", "v1.3.8-eksbuild.2")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not re.fullmatch(r"v\d+\.\d+\.\d+-eksbuild\.\d+", value):
                problems.append(Problem(f"{key}.{camel(f.name)}", value, "must be a pinned add-on version such as v1.2.3-eksbuild.1"))


@dataclass(frozen=True)
class ChartVersions:
    """Helm chart versions of the in-cluster baseline, pinned."""

    cluster_autoscaler: str = doc("cluster-autoscaler chart version (https://kubernetes.github.io/autoscaler).", "9.46.6")
    metrics_server: str = doc("metrics-server chart version (https://kubernetes-sigs.github.io/metrics-server/).", "3.12.2")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not re.fullmatch(r"\d+\.\d+\.\d+", value):
                problems.append(Problem(f"{key}.{camel(f.name)}", value, "must be an exact chart version such as 1.2.3 (no ranges)"))


@dataclass(frozen=True)
class ClusterConfig:
    """EKS cluster, node group, add-ons, in-cluster baseline (``golive:cluster``)."""

    name: str = doc("EKS cluster name (also names its log group /aws/eks/<name>/cluster).", "golive")
    version: str = doc(f"Kubernetes minor version; one EKS supports in standard support ({', '.join(EKS_SUPPORTED_VERSIONS)}).", "1.33")
    support_type: Literal["STANDARD", "EXTENDED"] = doc(
        "EKS upgrade policy: STANDARD upgrades the control plane when standard support ends (no extended-support fee).", "STANDARD"
    )
    admin_role_arns: tuple[str, ...] = doc(
        "IAM role ARNs granted cluster-admin through EKS access entries (API authentication; no aws-auth ConfigMap). "
        "When empty, the identity that creates the cluster keeps admin access instead.", ()
    )
    endpoint_public_access: bool = doc("Open the Kubernetes API endpoint to the internet (restricted to publicAccessCidrs).", False)
    public_access_cidrs: tuple[str, ...] = doc("CIDRs allowed to reach a public endpoint; never 0.0.0.0/0 in production.", ())
    deployer_security_group_ids: tuple[str, ...] = doc(
        "Security groups in this VPC (e.g. a self-hosted CI runner's) admitted to the private Kubernetes API on 443, "
        "besides the nodes and the admin VPN.", ()
    )
    deployer_cidrs: tuple[str, ...] = doc(
        "CIDRs inside golive:network.vpcCidr admitted to the private Kubernetes API on 443 (a runner subnet you added "
        "to the VPC); sources outside the VPC have no route to the private subnets, so they connect through the VPN.", ()
    )
    log_retention_days: int = doc("Retention of the control-plane log group, in days.", 365)
    instance_types: tuple[str, ...] = doc("Node instance types (the autoscaler picks among them).", ("m6i.large", "m6a.large", "m5.large"))
    ami_type: str = doc("EKS-optimized AMI family of the nodes.", "AL2023_x86_64_STANDARD")
    capacity_type: Literal["ON_DEMAND", "SPOT"] = doc("Node capacity type; ON_DEMAND in production.", "ON_DEMAND")
    node_min_size: int = doc("Node group minimum size; at least 2 in production.", 2)
    node_desired_size: int = doc("Node group initial size (the cluster autoscaler owns it afterwards).", 3)
    node_max_size: int = doc("Node group maximum size.", 10)
    node_volume_size_gib: int = doc("Root volume size of each node (gp3, KMS-encrypted), GiB.", 50)
    extra_egress_ports: tuple[int, ...] = doc(
        "TCP ports, besides 443, the nodes may reach on the internet through the NAT gateways; 587 is "
        "Alertmanager's SMTP submission port (golive:monitoring alerting.smtpSmarthost).", (587,)
    )
    addons: AddonVersions = doc("Pinned EKS add-on versions.", default_factory=AddonVersions)
    charts: ChartVersions = doc("Pinned Helm chart versions.", default_factory=ChartVersions)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", self.name):
            problems.append(Problem(f"{key}.name", self.name, "must be 1-100 letters, digits, '-' or '_', starting with a letter or digit"))
        if self.version not in EKS_SUPPORTED_VERSIONS:
            problems.append(Problem(f"{key}.version", self.version, f"must be a Kubernetes version in EKS standard support: "
                                    f"{', '.join(EKS_SUPPORTED_VERSIONS)}"))
        for i, arn in enumerate(self.admin_role_arns):
            if not re.fullmatch(r"arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]+", arn):
                problems.append(Problem(f"{key}.adminRoleArns[{i}]", arn, "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)"))
        cidr_key = f"{key}.publicAccessCidrs"
        if self.endpoint_public_access and not self.public_access_cidrs:
            problems.append(Problem(cidr_key, [], "a public endpoint must be restricted to listed CIDRs (EKS would open it to 0.0.0.0/0)"))
        for i, cidr in enumerate(self.public_access_cidrs):
            net = parse_cidr(f"{cidr_key}[{i}]", cidr, problems)
            if net is not None and net.prefixlen == 0 and ctx.production:
                problems.append(Problem(f"{cidr_key}[{i}]", cidr, "a production cluster's API endpoint may never be open to the whole internet"))
        for i, group in enumerate(self.deployer_security_group_ids):
            if not re.fullmatch(r"sg-[0-9a-f]{8}([0-9a-f]{9})?", group):
                problems.append(Problem(f"{key}.deployerSecurityGroupIds[{i}]", group, "must be a security group id such as sg-0123456789abcdef0"))
        for i, cidr in enumerate(self.deployer_cidrs):
            parse_cidr(f"{key}.deployerCidrs[{i}]", cidr, problems)
        if self.public_access_cidrs and not self.endpoint_public_access:
            problems.append(Problem(cidr_key, list(self.public_access_cidrs), "only applies with endpointPublicAccess: true"))
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(Problem(f"{key}.logRetentionDays", self.log_retention_days,
                                    f"must be a CloudWatch retention value: {', '.join(map(str, LOG_RETENTION_DAYS))}"))
        elif ctx.production and self.log_retention_days < PRODUCTION_LOG_RETENTION_DAYS:
            problems.append(Problem(f"{key}.logRetentionDays", self.log_retention_days,
                                    f"production keeps control-plane logs at least {PRODUCTION_LOG_RETENTION_DAYS} days"))
        if not self.instance_types:
            problems.append(Problem(f"{key}.instanceTypes", [], "needs at least one instance type"))
        if ctx.production and self.capacity_type != "ON_DEMAND":
            problems.append(Problem(f"{key}.capacityType", self.capacity_type, "production nodes are ON_DEMAND"))
        if self.node_min_size < 1 or (ctx.production and self.node_min_size < 2):
            problems.append(Problem(f"{key}.nodeMinSize", self.node_min_size,
                                    f"must be at least {2 if ctx.production else 1}" + (" in production" if ctx.production else "")))
        if not self.node_min_size <= self.node_desired_size <= self.node_max_size:
            problems.append(Problem(f"{key}.nodeDesiredSize", self.node_desired_size,
                                    f"must lie between nodeMinSize ({self.node_min_size}) and nodeMaxSize ({self.node_max_size})"))
        if self.node_volume_size_gib < 20:
            problems.append(Problem(f"{key}.nodeVolumeSizeGib", self.node_volume_size_gib, "must be at least 20 GiB (the AMI needs it)"))
        for i, port in enumerate(self.extra_egress_ports):
            if not 1 <= port <= 65535:
                problems.append(Problem(f"{key}.extraEgressPorts[{i}]", port, "must be a TCP port from 1 to 65535"))
            elif port == 443 or port in self.extra_egress_ports[:i]:
                problems.append(Problem(f"{key}.extraEgressPorts[{i}]", port, "is already allowed (443 always is; list each port once)"))
        minor = self.version
        if not self.addons.kube_proxy.startswith(f"v{minor}."):
            problems.append(Problem(f"{key}.addons.kubeProxy", self.addons.kube_proxy, f"must match the cluster version {minor}"))


# --- end section: cluster ---------------------------------------------------

# --- section: data ------------------------------------------------

_WEEK_MINUTES = 7 * 24 * 60
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAILY_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
_WEEKLY_WINDOW = re.compile(r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)")


def window_intervals(window: str) -> tuple[tuple[int, int], ...]:
    """A daily ``hh:mm-hh:mm`` or weekly ``ddd:hh:mm-ddd:hh:mm`` window (UTC) as minute-of-week spans.

    Each span is ``[start, end)`` with ``end > start`` (it may run past the week's end,
    as ``sun:23:30-mon:00:30`` does); a daily window yields one span per day.
    Raises ``ValueError`` for any other format.
    """
    daily = _DAILY_WINDOW.fullmatch(window)
    if daily:
        h1, m1, h2, m2 = (int(g) for g in daily.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        end += 24 * 60 if end <= start else 0
        return tuple((day * 1440 + start, day * 1440 + end) for day in range(7))
    weekly = _WEEKLY_WINDOW.fullmatch(window)
    if weekly:
        d1, h1, m1, d2, h2, m2 = weekly.groups()
        start = _DAY_NAMES.index(d1) * 1440 + int(h1) * 60 + int(m1)
        end = _DAY_NAMES.index(d2) * 1440 + int(h2) * 60 + int(m2)
        end += _WEEK_MINUTES if end <= start else 0
        return ((start, end),)
    raise ValueError(f"not a window: {window!r}")


def window_minutes(window: str) -> int:
    """Length of one occurrence of the window, in minutes."""
    start, end = window_intervals(window)[0]
    return end - start


def windows_overlap(a: str, b: str) -> bool:
    """Whether two windows (daily or weekly, UTC) share any minute; touching ends do not overlap."""
    return any(
        a_start < b_end + shift and b_start + shift < a_end
        for a_start, a_end in window_intervals(a)
        for b_start, b_end in window_intervals(b)
        for shift in (-_WEEK_MINUTES, 0, _WEEK_MINUTES)
    )


def _check_window(key: str, value: str, weekly: bool, min_minutes: int, problems: list[Problem]) -> bool:
    pattern, example = (_WEEKLY_WINDOW, "sun:04:00-sun:05:00") if weekly else (_DAILY_WINDOW, "02:00-03:00")
    if not pattern.fullmatch(value):
        problems.append(Problem(key, value, f"must be a {'weekly' if weekly else 'daily'} UTC window like {example!r}"))
        return False
    if window_minutes(value) < min_minutes:
        problems.append(Problem(key, value, f"must last at least {min_minutes} minutes"))
        return False
    if window_minutes(value) > 24 * 60:
        problems.append(Problem(key, value, "must last at most 24 hours"))
        return False
    return True


# Secrets rotate at least this often (policy secretsmanager-secret-rotation, FSBP SecretsManager.4).
MAX_ROTATION_DAYS = 90


def _check_rotation_days(key: str, value: int, problems: list[Problem]) -> None:
    if not 1 <= value <= MAX_ROTATION_DAYS:
        problems.append(Problem(key, value, f"must be 1 to {MAX_ROTATION_DAYS} days (policy secretsmanager-secret-rotation)"))


def _check_log_retention(key: str, value: int, minimum: int, ctx: _Ctx, problems: list[Problem]) -> None:
    if value not in LOG_RETENTION_DAYS:
        problems.append(Problem(key, value, f"must be a CloudWatch retention value: {', '.join(map(str, LOG_RETENTION_DAYS))}"))
    elif value < minimum:
        problems.append(Problem(key, value, f"keep database and cache logs at least {minimum} days"))
    elif ctx.production and value < PRODUCTION_LOG_RETENTION_DAYS:
        problems.append(Problem(key, value, f"production keeps database and cache logs at least {PRODUCTION_LOG_RETENTION_DAYS} days"))


# Classes without Performance Insights support (it is on for every instance).
_NO_PERFORMANCE_INSIGHTS = re.compile(r"db\.t[234]g?\.(micro|small)")


@dataclass(frozen=True)
class DatabaseConfig:
    """RDS PostgreSQL (``golive:database``): Multi-AZ, encrypted, backed up; these are its knobs."""

    engine_version: str = doc(
        "PostgreSQL version: a major (`17`, auto minor upgrades pick the minor) or `major.minor`; 13 or later.", "17"
    )
    instance_class: str = doc("RDS instance class (Performance Insights needs medium or larger).", "db.t3.medium")
    allocated_storage_gb: int = doc("Initial gp3 storage in GiB (20 to 65536).", 100)
    max_allocated_storage_gb: int = doc("Ceiling of storage autoscaling in GiB; above allocatedStorageGb.", 500)
    database_name: str = doc("Name of the database created with the instance.", "golive")
    master_username: str = doc(
        "Master user name. Its password is never in config: RDS generates it and keeps it in Secrets Manager.", "golive_admin"
    )
    port: int = doc("PostgreSQL port.", 5432)
    backup_retention_days: int = doc(
        "Days of automated backups, so of point-in-time recovery (7 to 35; at least 30 in production). AWS Backup's continuous "
        "rule manages the same retention (the instance is tagged backup=true): in production it must equal "
        "golive:backup.continuousRetentionDays (35 by default).",
        35,
    )
    backup_window: str = doc(
        "Daily backup window, UTC (`hh:mm-hh:mm`, at least 30 minutes); apart from the start window of the AWS Backup "
        "plan (golive:backup.schedule, 02:00 by default), so RDS's own snapshot and AWS Backup's never run at once.",
        "00:00-01:00",
    )
    maintenance_window: str = doc(
        "Weekly maintenance window, UTC (`ddd:hh:mm-ddd:hh:mm`, at least 30 minutes, not overlapping the backup window).",
        "sun:04:00-sun:05:00",
    )
    read_replicas: int = doc("Read replicas (0 to 5), each Multi-AZ and encrypted like the primary.", 0)
    slow_statement_ms: int = doc("Statements slower than this are logged (log_min_duration_statement), in ms.", 1000)
    performance_insights_retention_days: int = doc("Performance Insights retention: 7 (free), 731, or a multiple of 31.", 7)
    monitoring_interval_seconds: int = doc("Enhanced monitoring interval: 1, 5, 10, 15, 30 or 60 seconds.", 60)
    log_retention_days: int = doc("Retention of the PostgreSQL and upgrade log groups, in days (at least 30; 365 in production).", 365)

    MIN_BACKUP_RETENTION, MAX_BACKUP_RETENTION = 7, 35
    MIN_PRODUCTION_BACKUP_RETENTION = 30  # policy rds-backup-retention's minRetentionDays
    MIN_MAJOR_VERSION = 13

    @property
    def major_version(self) -> int:
        return int(self.engine_version.split(".")[0])

    @property
    def parameter_group_family(self) -> str:
        return f"postgres{self.major_version}"

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not re.fullmatch(r"\d+(\.\d+)?", self.engine_version):
            problems.append(Problem(f"{key}.engineVersion", self.engine_version, "must be a PostgreSQL version such as 17 or 16.4"))
        elif self.major_version < self.MIN_MAJOR_VERSION:
            problems.append(Problem(f"{key}.engineVersion", self.engine_version,
                                    f"must be PostgreSQL {self.MIN_MAJOR_VERSION} or later (older majors are out of RDS standard support)"))
        if not re.fullmatch(r"db\.[a-z0-9-]+\.[a-z0-9]+", self.instance_class):
            problems.append(Problem(f"{key}.instanceClass", self.instance_class, "must be an RDS instance class such as db.t3.medium"))
        elif _NO_PERFORMANCE_INSIGHTS.fullmatch(self.instance_class):
            problems.append(Problem(f"{key}.instanceClass", self.instance_class,
                                    "has no Performance Insights; use a medium or larger class"))
        if not 20 <= self.allocated_storage_gb <= 65536:
            problems.append(Problem(f"{key}.allocatedStorageGb", self.allocated_storage_gb, "must be between 20 and 65536 GiB"))
        if not self.allocated_storage_gb < self.max_allocated_storage_gb <= 65536:
            problems.append(Problem(f"{key}.maxAllocatedStorageGb", self.max_allocated_storage_gb,
                                    f"must be above allocatedStorageGb ({self.allocated_storage_gb}) and at most 65536, "
                                    "or storage autoscaling is off"))
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", self.database_name):
            problems.append(Problem(f"{key}.databaseName", self.database_name,
                                    "must start with a letter and hold only letters, digits and underscores (at most 63)"))
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", self.master_username) or self.master_username in ("postgres", "rdsadmin", "admin"):
            problems.append(Problem(f"{key}.masterUsername", self.master_username,
                                    "must be lowercase letters, digits and underscores, start with a letter, and not be a reserved name"))
        if not 1150 <= self.port <= 65535:
            problems.append(Problem(f"{key}.port", self.port, "must be between 1150 and 65535 (RDS)"))
        if self.backup_retention_days < self.MIN_BACKUP_RETENTION:
            problems.append(Problem(f"{key}.backupRetentionDays", self.backup_retention_days,
                                    f"must be at least {self.MIN_BACKUP_RETENTION} days so point-in-time recovery reaches back a week"))
        elif ctx.production and self.backup_retention_days < self.MIN_PRODUCTION_BACKUP_RETENTION:
            problems.append(Problem(f"{key}.backupRetentionDays", self.backup_retention_days,
                                    f"production keeps point-in-time recovery at least {self.MIN_PRODUCTION_BACKUP_RETENTION} days "
                                    "(policy rds-backup-retention); the default, 35, equals golive:backup.continuousRetentionDays"))
        elif self.backup_retention_days > self.MAX_BACKUP_RETENTION:
            problems.append(Problem(f"{key}.backupRetentionDays", self.backup_retention_days,
                                    f"RDS keeps automated backups at most {self.MAX_BACKUP_RETENTION} days; use AWS Backup for longer"))
        backup_ok = _check_window(f"{key}.backupWindow", self.backup_window, False, 30, problems)
        maintenance_ok = _check_window(f"{key}.maintenanceWindow", self.maintenance_window, True, 30, problems)
        if backup_ok and maintenance_ok and windows_overlap(self.backup_window, self.maintenance_window):
            problems.append(Problem(f"{key}.maintenanceWindow", self.maintenance_window,
                                    f"overlaps the backup window {self.backup_window} (UTC); RDS rejects overlapping windows"))
        if not 0 <= self.read_replicas <= 5:
            problems.append(Problem(f"{key}.readReplicas", self.read_replicas, "must be between 0 and 5"))
        if self.slow_statement_ms <= 0:
            problems.append(Problem(f"{key}.slowStatementMs", self.slow_statement_ms, "must be positive (0 would log every statement)"))
        pi = self.performance_insights_retention_days
        if not (pi in (7, 731) or (pi > 0 and pi % 31 == 0 and pi <= 713)):
            problems.append(Problem(f"{key}.performanceInsightsRetentionDays", pi, "must be 7, 731, or a multiple of 31 up to 713"))
        if self.monitoring_interval_seconds not in (1, 5, 10, 15, 30, 60):
            problems.append(Problem(f"{key}.monitoringIntervalSeconds", self.monitoring_interval_seconds,
                                    "must be 1, 5, 10, 15, 30 or 60 (enhanced monitoring stays on)"))
        _check_log_retention(f"{key}.logRetentionDays", self.log_retention_days, 30, ctx, problems)


# Engine majors ElastiCache offers, per engine: the parameter group family follows the major.
_CACHE_MAJORS = {"redis": (7,), "valkey": (7, 8)}


@dataclass(frozen=True)
class CacheConfig:
    """ElastiCache Redis OSS or Valkey (``golive:cache``): a replication group with one node per AZ."""

    engine: Literal["redis", "valkey"] = doc("Cache engine: `redis` (Redis OSS 7.x) or `valkey` (7.2 or 8.x).", "redis")
    engine_version: str = doc("Engine version, `major.minor` (e.g. 7.1 for Redis OSS, 8.0 for Valkey).", "7.1")
    node_type: str = doc("ElastiCache node type.", "cache.t3.medium")
    num_nodes: int = doc(
        "Nodes (a primary and replicas, 1 to 6), placed round-robin over the AZs; in production one per AZ (at least 3, or all AZs if fewer).", 3
    )
    port: int = doc("Port of the cache.", 6379)
    snapshot_retention_days: int = doc("Days daily snapshots are kept (7 to 35).", 7)
    snapshot_window: str = doc("Daily snapshot window, UTC (`hh:mm-hh:mm`, at least 60 minutes).", "03:00-04:00")
    maintenance_window: str = doc(
        "Weekly maintenance window, UTC (`ddd:hh:mm-ddd:hh:mm`, at least 60 minutes, not overlapping the snapshot window).",
        "sun:05:00-sun:06:00",
    )
    maxmemory_policy: Literal[
        "volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random", "allkeys-random", "volatile-ttl", "noeviction"
    ] = doc("What the cache evicts when memory is full.", "volatile-lru")
    log_retention_days: int = doc("Retention of the slow-log and engine-log groups, in days (at least 30; 365 in production).", 365)
    auth_token_rotation_days: int = doc(
        "Days between rotations of the AUTH token (Secrets Manager, golive's rotation function); 1 to 90.", 30
    )

    MIN_SNAPSHOT_RETENTION, MAX_SNAPSHOT_RETENTION = 7, 35

    @property
    def major_version(self) -> int:
        return int(self.engine_version.split(".")[0])

    @property
    def parameter_group_family(self) -> str:
        return f"{self.engine}{self.major_version}"

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        majors = _CACHE_MAJORS[self.engine]
        if not re.fullmatch(r"\d+\.\d+", self.engine_version) or self.major_version not in majors:
            problems.append(Problem(f"{key}.engineVersion", self.engine_version,
                                    f"must be major.minor with a major ElastiCache offers for {self.engine}: "
                                    f"{', '.join(f'{m}.x' for m in majors)}"))
        if not re.fullmatch(r"cache\.[a-z0-9-]+\.[a-z0-9]+", self.node_type):
            problems.append(Problem(f"{key}.nodeType", self.node_type, "must be an ElastiCache node type such as cache.t3.medium"))
        if not 1 <= self.num_nodes <= 6:
            problems.append(Problem(f"{key}.numNodes", self.num_nodes, "must be between 1 and 6 (a primary and up to 5 replicas)"))
        elif ctx.production and self.num_nodes < 2:
            problems.append(Problem(f"{key}.numNodes", self.num_nodes,
                                    "a production cache needs at least 2 nodes (a primary and a replica in another AZ) for automatic failover"))
        if not 1024 <= self.port <= 65535:
            problems.append(Problem(f"{key}.port", self.port, "must be between 1024 and 65535"))
        if not self.MIN_SNAPSHOT_RETENTION <= self.snapshot_retention_days <= self.MAX_SNAPSHOT_RETENTION:
            problems.append(Problem(f"{key}.snapshotRetentionDays", self.snapshot_retention_days,
                                    f"must be between {self.MIN_SNAPSHOT_RETENTION} and {self.MAX_SNAPSHOT_RETENTION} days "
                                    "(a week of daily snapshots at least)"))
        snapshot_ok = _check_window(f"{key}.snapshotWindow", self.snapshot_window, False, 60, problems)
        maintenance_ok = _check_window(f"{key}.maintenanceWindow", self.maintenance_window, True, 60, problems)
        if snapshot_ok and maintenance_ok and windows_overlap(self.snapshot_window, self.maintenance_window):
            problems.append(Problem(f"{key}.maintenanceWindow", self.maintenance_window,
                                    f"overlaps the snapshot window {self.snapshot_window} (UTC); ElastiCache rejects overlapping windows"))
        _check_log_retention(f"{key}.logRetentionDays", self.log_retention_days, 30, ctx, problems)
        _check_rotation_days(f"{key}.authTokenRotationDays", self.auth_token_rotation_days, problems)


@cross_check
def _cache_node_per_az(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """Production spreads the cache over (up to) three AZs, so losing one still leaves a replica to promote."""
    wanted = min(len(config.network.azs(config.region)), 3)
    if ctx.production and 2 <= config.cache.num_nodes < wanted:
        problems.append(Problem(f"{NAMESPACE}:cache.numNodes", config.cache.num_nodes,
                                f"a production cache keeps one node in each of {wanted} availability zones; use at least {wanted}"))


# --- end section: data ------------------------------------------------------

# --- section: edge ------------------------------------------------

# TLS policies an HTTPS listener may use: TLS 1.2+ with forward secrecy only (the
# TLS13-* family). `ELBSecurityPolicy-TLS13-1-2-2021-06` is AWS's recommended default.
ALLOWED_TLS_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
)

# WAF rate-based rules accept a limit of 10 requests per evaluation window since
# August 2024, except in these regions (and GovCloud and China), where it stays 100.
# https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html
_WAF_RATE_LIMIT_100_REGIONS = ("ap-south-2", "eu-south-2", "ap-southeast-4", "eu-central-2", "il-central-1")
WAF_MAX_RATE_LIMIT = 2_000_000_000
# WAF on an ALB inspects at most the first 8 KB of a request body.
WAF_ALB_BODY_INSPECTION_BYTES = 8192
HSTS_MIN_MAX_AGE = 31_536_000  # one year: what HSTS preload lists and scanners require

_DNS_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")
_HELM_VERSION = re.compile(r"\d+\.\d+\.\d+")


def waf_min_rate_limit(region: str) -> int:
    """The lowest rate-based limit WAF accepts in ``region`` (requests per evaluation window)."""
    if region in _WAF_RATE_LIMIT_100_REGIONS or region.startswith(("us-gov-", "cn-")):
        return 100
    return 10


def _acm_arn(value: str, region: str) -> bool:
    return bool(re.fullmatch(rf"arn:aws(-cn|-us-gov)?:acm:{re.escape(region)}:\d{{12}}:certificate/[0-9a-f-]{{36}}", value))


def _check_retention(key: str, value: int, minimum: int, ctx: _Ctx, problems: list[Problem]) -> None:
    if value not in LOG_RETENTION_DAYS:
        problems.append(Problem(key, value, f"must be a CloudWatch retention value: {', '.join(map(str, LOG_RETENTION_DAYS))}"))
    elif ctx.production and value < minimum:
        problems.append(Problem(key, value, f"production keeps these logs at least {minimum} days"))


@dataclass(frozen=True)
class WafConfig:
    """The WAF web ACL in front of the load balancer (``golive:edge.waf``)."""

    rate_limit: int = doc("Requests one client IP may send per evaluation window before WAF blocks it.", 2000)
    MAX_RATE_LIMIT = 20_000
    login_rate_limit: int = doc(
        "Requests one client IP may send to the login paths per evaluation window (credential stuffing, failed-login spikes).", 100
    )
    rate_window_seconds: int = doc("Evaluation window of both rate limits: 60, 120, 300 or 600 seconds.", 300)
    login_paths: tuple[str, ...] = doc("URI path prefixes that get the tighter login rate limit.", ("/login", "/auth"))
    max_body_bytes: int = doc(
        "Largest request body accepted, in bytes; at most 8192 (WAF inspects the first 8 KB of a body on an ALB, larger bodies are blocked).",
        8192,
    )
    geo_block_countries: tuple[str, ...] = doc("ISO 3166 alpha-2 country codes whose requests are blocked (empty: none).", ())
    blocked_ips: tuple[str, ...] = doc("IPv4 CIDR blocks always blocked (the IP block list).", ())
    bot_control: bool = doc("Add the AWS Bot Control managed group (charged per request on top of WAF).", False)
    shield_advanced: bool = doc(
        "Protect the ALB with Shield Advanced: DDoS response team and cost protection, but USD 3,000/month with a one-year "
        "commitment per organization; off by default (Shield Standard protects every ALB at no cost).",
        False,
    )
    log_retention_days: int = doc("Retention of the WAF log group, in days.", 365)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        minimum = waf_min_rate_limit(ctx.region)
        for name, value in (("rateLimit", self.rate_limit), ("loginRateLimit", self.login_rate_limit)):
            if value < minimum:
                problems.append(Problem(f"{key}.{name}", value, f"below AWS WAF's minimum rate limit of {minimum} requests per "
                                        f"evaluation window in {ctx.region}"))
            elif value > WAF_MAX_RATE_LIMIT:
                problems.append(Problem(f"{key}.{name}", value, f"above AWS WAF's maximum rate limit of {WAF_MAX_RATE_LIMIT}"))
        for name, value in (("rateLimit", self.rate_limit), ("loginRateLimit", self.login_rate_limit)):
            if value > self.MAX_RATE_LIMIT:
                problems.append(Problem(f"{key}.{name}", value, f"must be at most {self.MAX_RATE_LIMIT} requests per window: a "
                                        "higher limit lets one client flood the service (policy edge-waf-rate-based-rule)"))
        if self.login_rate_limit > self.rate_limit:
            problems.append(Problem(f"{key}.loginRateLimit", self.login_rate_limit, f"must not exceed rateLimit ({self.rate_limit})"))
        if self.rate_window_seconds not in (60, 120, 300, 600):
            problems.append(Problem(f"{key}.rateWindowSeconds", self.rate_window_seconds, "must be 60, 120, 300 or 600"))
        if not self.login_paths:
            problems.append(Problem(f"{key}.loginPaths", [], "needs at least one path (the login rate limit applies to it)"))
        if len(self.login_paths) > 5:
            problems.append(Problem(f"{key}.loginPaths", list(self.login_paths), "at most 5 paths (WAF statement nesting)"))
        for i, path in enumerate(self.login_paths):
            if not re.fullmatch(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*", path):
                problems.append(Problem(f"{key}.loginPaths[{i}]", path, "must be a URI path starting with /"))
        if not 1 <= self.max_body_bytes <= WAF_ALB_BODY_INSPECTION_BYTES:
            problems.append(Problem(f"{key}.maxBodyBytes", self.max_body_bytes,
                                    f"must be 1 to {WAF_ALB_BODY_INSPECTION_BYTES} (WAF inspects at most 8 KB of an ALB request body)"))
        for i, code in enumerate(self.geo_block_countries):
            if not re.fullmatch(r"[A-Z]{2}", code):
                problems.append(Problem(f"{key}.geoBlockCountries[{i}]", code, "must be an ISO 3166 alpha-2 country code such as KP"))
        for i, cidr in enumerate(self.blocked_ips):
            parse_cidr(f"{key}.blockedIps[{i}]", cidr, problems)
        if len(self.blocked_ips) > 10_000:
            problems.append(Problem(f"{key}.blockedIps", len(self.blocked_ips), "a WAF IP set holds at most 10,000 addresses"))
        _check_retention(f"{key}.logRetentionDays", self.log_retention_days, PRODUCTION_LOG_RETENTION_DAYS, ctx, problems)


@dataclass(frozen=True)
class EdgeConfig:
    """ALB, ACM, WAF, DNS (``golive:edge``). An empty domain means no public edge (no ALB at all)."""

    domain: str = doc("Public DNS domain; the certificate covers it and every catalog host under it. Empty: no public edge.", "")
    hosted_zone_id: str = doc("Route 53 public hosted zone of the domain (certificate validation and alias records).", "")
    tls_policy: str = doc("HTTPS listener security policy (TLS 1.2+ with forward secrecy).", "ELBSecurityPolicy-TLS13-1-2-2021-06")
    idle_timeout_seconds: int = doc("ALB idle connection timeout, 1 to 4000 seconds.", 60)
    content_security_policy: str = doc(
        "Content-Security-Policy header the ALB adds to every response.",
        "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
    )
    hsts_max_age_seconds: int = doc("Strict-Transport-Security max-age (includeSubDomains is always set); at least one year.", 63_072_000)
    access_log_expiry_days: int = doc("Days ALB access logs stay in their S3 bucket.", 365)
    controller_chart_version: str = doc("aws-load-balancer-controller Helm chart version (https://aws.github.io/eks-charts).", "1.17.1")
    waf: WafConfig = doc("Web application firewall.", default_factory=WafConfig)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if self.domain and not _DNS_NAME.fullmatch(self.domain):
            problems.append(Problem(f"{key}.domain", self.domain, "must be a lowercase DNS name such as example.com"))
        if self.domain and not self.hosted_zone_id:
            problems.append(Problem(f"{key}.hostedZoneId", self.hosted_zone_id, "is required when a domain is set (DNS validation "
                                    "and alias records go there)"))
        elif self.hosted_zone_id and not _HOSTED_ZONE_ID.fullmatch(self.hosted_zone_id):
            problems.append(Problem(f"{key}.hostedZoneId", self.hosted_zone_id, "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ"))
        if self.tls_policy not in ALLOWED_TLS_POLICIES:
            problems.append(Problem(f"{key}.tlsPolicy", self.tls_policy, f"must be a TLS 1.2+ policy: {', '.join(ALLOWED_TLS_POLICIES)}"))
        if not 1 <= self.idle_timeout_seconds <= 4000:
            problems.append(Problem(f"{key}.idleTimeoutSeconds", self.idle_timeout_seconds, "must be 1 to 4000 seconds"))
        csp = self.content_security_policy
        if not csp.strip() or not all(32 <= ord(c) < 127 for c in csp):
            problems.append(Problem(f"{key}.contentSecurityPolicy", csp, "must be a non-empty header value of printable ASCII"))
        if self.hsts_max_age_seconds < HSTS_MIN_MAX_AGE:
            problems.append(Problem(f"{key}.hstsMaxAgeSeconds", self.hsts_max_age_seconds, f"must be at least {HSTS_MIN_MAX_AGE} (one year)"))
        if self.access_log_expiry_days < 1:
            problems.append(Problem(f"{key}.accessLogExpiryDays", self.access_log_expiry_days, "must be at least 1"))
        elif ctx.production and self.access_log_expiry_days < 90:
            problems.append(Problem(f"{key}.accessLogExpiryDays", self.access_log_expiry_days, "production keeps access logs at least 90 days"))
        if not _HELM_VERSION.fullmatch(self.controller_chart_version):
            problems.append(Problem(f"{key}.controllerChartVersion", self.controller_chart_version, "must be an exact chart version such as 1.17.1"))

    def public_hosts(self, services: Sequence[ServiceConfig]) -> tuple[str, ...]:
        """Distinct public hosts of the catalog, in catalog order."""
        return tuple(dict.fromkeys(s.host for s in services if s.host))


@dataclass(frozen=True)
class VpnConfig:
    """AWS Client VPN for administrators (``golive:security.vpn``), mutual-TLS authenticated."""

    enabled: bool = doc("Create the Client VPN endpoint. Required in production (checked when the program runs: the "
                        "certificates have no default).", False)
    server_certificate_arn: str = doc("ACM ARN of the VPN server certificate (required when enabled).", "")
    client_root_certificate_arn: str = doc("ACM ARN of the CA that signs administrators' client certificates (required when enabled).", "")
    client_cidr: str = doc("Addresses handed to VPN clients; /12 to /22, outside the VPC CIDR.", "172.16.0.0/22")
    log_retention_days: int = doc("Retention of the connection log group, in days.", 365)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for name, value in (("serverCertificateArn", self.server_certificate_arn), ("clientRootCertificateArn", self.client_root_certificate_arn)):
            if self.enabled and not value:
                problems.append(Problem(f"{key}.{name}", _MISSING, "is required when the VPN is enabled (mutual-TLS authentication)"))
            elif value and not _acm_arn(value, ctx.region):
                problems.append(Problem(f"{key}.{name}", value, f"must be an ACM certificate ARN in {ctx.region}"))
        cidr = parse_cidr(f"{key}.clientCidr", self.client_cidr, problems)
        if cidr is not None and not 12 <= cidr.prefixlen <= 22:
            problems.append(Problem(f"{key}.clientCidr", self.client_cidr, "must be /12 to /22 (Client VPN's allowed range)"))
        _check_retention(f"{key}.logRetentionDays", self.log_retention_days, PRODUCTION_LOG_RETENTION_DAYS, ctx, problems)


@dataclass(frozen=True)
class AwsConfigConfig:
    """AWS Config, which Security Hub's FSBP and CIS controls evaluate (``golive:security.awsConfig``)."""

    recorder_name: str = doc("Name of the configuration recorder and delivery channel (an adopted recorder keeps its own).", "default")
    delivery_frequency: Literal["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"] = doc(
        "How often AWS Config delivers configuration snapshots to its bucket.", "TwentyFour_Hours")
    expiry_days: int = doc("Days configuration history and snapshots stay in the delivery bucket.", 2557)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,256}", self.recorder_name):
            problems.append(Problem(f"{key}.recorderName", self.recorder_name, "must be 1-256 letters, digits, '.', '_' or '-'"))
        if self.expiry_days < 1:
            problems.append(Problem(f"{key}.expiryDays", self.expiry_days, "must be at least 1"))
        elif ctx.production and self.expiry_days < 365:
            problems.append(Problem(f"{key}.expiryDays", self.expiry_days, "production keeps configuration history at least 365 days"))


@dataclass(frozen=True)
class SecurityConfig:
    """CloudTrail, GuardDuty, Security Hub, admin VPN (``golive:security``)."""

    cloudtrail_object_lock: bool = doc(
        "Write-once CloudTrail bucket (S3 Object Lock, governance mode, for cloudtrailLockDays): log files cannot be deleted "
        "early. Required in production.", True
    )
    cloudtrail_lock_days: int = doc("Object Lock retention of CloudTrail log files, in days.", 365)
    cloudtrail_expiry_days: int = doc("Days CloudTrail log files stay in their S3 bucket.", 2557)
    cloudtrail_log_retention_days: int = doc("Retention of the CloudTrail CloudWatch log group, in days.", 365)
    server_access_log_expiry_days: int = doc(
        "Days the S3 server access logs of the CloudTrail bucket are kept (at least 90 in production).", 365
    )
    security_hub: bool = doc("Enable Security Hub with the AWS Foundational Security Best Practices and CIS standards.", True)
    guardduty_finding_frequency: Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"] = doc(
        "How often GuardDuty publishes updated findings.", "FIFTEEN_MINUTES"
    )
    vpn: VpnConfig = doc("Admin Client VPN.", default_factory=VpnConfig)
    aws_config: AwsConfigConfig = doc("AWS Config recorder and its delivery bucket.", default_factory=AwsConfigConfig)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        _check_retention(f"{key}.cloudtrailLogRetentionDays", self.cloudtrail_log_retention_days, PRODUCTION_LOG_RETENTION_DAYS, ctx,
                         problems)
        if ctx.production and not self.cloudtrail_object_lock:
            problems.append(Problem(f"{key}.cloudtrailObjectLock", self.cloudtrail_object_lock, "production keeps the audit trail "
                                    "write-once (S3 Object Lock): an intruder with the account's keys could otherwise delete it"))
        if ctx.production and not self.security_hub:
            problems.append(Problem(f"{key}.securityHub", self.security_hub, "production keeps Security Hub on "
                                    "(policy security-securityhub-standards)"))
        if ctx.production and self.cloudtrail_expiry_days < 365:
            problems.append(Problem(f"{key}.cloudtrailExpiryDays", self.cloudtrail_expiry_days, "production keeps CloudTrail logs at least 365 days"))
        if self.server_access_log_expiry_days < 1:
            problems.append(Problem(f"{key}.serverAccessLogExpiryDays", self.server_access_log_expiry_days, "must be at least 1"))
        elif ctx.production and self.server_access_log_expiry_days < 90:
            problems.append(Problem(f"{key}.serverAccessLogExpiryDays", self.server_access_log_expiry_days,
                                    "production keeps S3 access logs at least 90 days"))
        if self.cloudtrail_lock_days < 1:
            problems.append(Problem(f"{key}.cloudtrailLockDays", self.cloudtrail_lock_days, "must be at least 1"))
        elif self.cloudtrail_object_lock and self.cloudtrail_lock_days > self.cloudtrail_expiry_days:
            problems.append(Problem(f"{key}.cloudtrailLockDays", self.cloudtrail_lock_days,
                                    f"must not exceed cloudtrailExpiryDays ({self.cloudtrail_expiry_days}): locked files cannot expire"))


def _host_in_domain(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


@cross_check
def _edge_catalog_and_vpn(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """Catalog hosts live under the edge domain and route uniquely; the VPN pool is outside the VPC."""
    domain = config.edge.domain
    routes: dict[tuple[str, str], tuple[int, str]] = {}
    for i, service in enumerate(config.services):
        if not service.host:
            continue
        key = f"{NAMESPACE}:services[{i}].host"
        if not domain:
            problems.append(Problem(key, service.host, "a public host needs golive:edge.domain (the certificate and DNS zone)"))
        elif not _host_in_domain(service.host, domain):
            problems.append(Problem(key, service.host, f"must be {domain} or a name under it (the certificate covers the edge domain only)"))
        # `/api` and `/api/` are one ALB route; exact duplicates are reported by the catalog's own check.
        route = (service.host, service.path_prefix.rstrip("/") or "/")
        if route not in routes:
            routes[route] = (i, service.path_prefix)
        elif routes[route][1] != service.path_prefix:
            problems.append(Problem(f"{NAMESPACE}:services[{i}].pathPrefix", service.path_prefix,
                                    f"{service.host}{route[1]} is already routed to services[{routes[route][0]}]"))
    vpn = config.security.vpn
    try:
        client, vpc = ipaddress.IPv4Network(vpn.client_cidr), ipaddress.IPv4Network(config.network.vpc_cidr)
    except ValueError:
        return
    if client.overlaps(vpc):
        problems.append(Problem(f"{NAMESPACE}:security.vpn.clientCidr", vpn.client_cidr, f"overlaps the VPC CIDR {vpc}"))


# --- end section: edge ------------------------------------------------------

# --- section: monitoring ------------------------------------------

_MON_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_MON_SIZE = re.compile(r"(\d+)(B|KB|MB|GB|TB|PB)")
_MON_QUANTITY = re.compile(r"(\d+)(Gi|Ti)")
_MON_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,63}")
_MON_SMARTHOST = re.compile(r"[a-z0-9.-]+\.[a-z]{2,63}:\d{1,5}")
_MON_CHART_VERSION = re.compile(r"\d+\.\d+\.\d+")
_MON_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_MON_SIZE_BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "PB": 1024**5}


def duration_seconds(value: str) -> float | None:
    """A Prometheus duration (``15s``, ``15d``; one unit) in seconds, or None if it is not one."""
    match = _MON_DURATION.fullmatch(value)
    return int(match.group(1)) * _MON_DURATION_SECONDS[match.group(2)] if match else None


def size_bytes(value: str) -> int | None:
    """A Prometheus retention size (``100GB``; base 1024, as Prometheus reads it) or a Kubernetes ``Gi``/``Ti`` quantity."""
    match = _MON_SIZE.fullmatch(value)
    if match:
        return int(match.group(1)) * _MON_SIZE_BYTES[match.group(2)]
    match = _MON_QUANTITY.fullmatch(value)
    if match:
        return int(match.group(1)) * (1024**3 if match.group(2) == "Gi" else 1024**4)
    return None


@dataclass(frozen=True)
class MonitoringChartsConfig:
    """Pinned Helm chart versions of the monitoring stack (``golive:monitoring.charts``)."""

    kube_prometheus_stack: str = doc("kube-prometheus-stack (Prometheus, Alertmanager, Grafana, operator).", "87.15.2")
    postgres_exporter: str = doc("prometheus-postgres-exporter.", "8.2.0")
    redis_exporter: str = doc("prometheus-redis-exporter.", "6.31.1")
    blackbox_exporter: str = doc("prometheus-blackbox-exporter.", "11.10.0")
    cloudwatch_exporter: str = doc("prometheus-yet-another-cloudwatch-exporter (YACE).", "0.50.0")
    fluent_bit: str = doc("fluent-bit (log shipper DaemonSet).", "0.47.10")
    opentelemetry_collector: str = doc("opentelemetry-collector (trace gateway and tail sampler; "
                                       "https://open-telemetry.github.io/opentelemetry-helm-charts).", "0.170.0")
    jaeger: str = doc("jaeger (Jaeger v2: trace storage writer and query; https://jaegertracing.github.io/helm-charts).", "4.11.1")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not _MON_CHART_VERSION.fullmatch(value):
                problems.append(Problem(f"{key}.{camel(f.name)}", value, "must pin an exact chart version (x.y.z), never a range"))


@dataclass(frozen=True)
class AlertingConfig:
    """Non-secret Alertmanager settings (``golive:monitoring.alerting``); keys and passwords are secret config."""

    slack_channel_critical: str = doc("Slack channel of critical alerts (besides PagerDuty).", "#golive-alerts-critical")
    slack_channel_warning: str = doc("Slack channel of warnings.", "#golive-alerts")
    slack_channel_slo: str = doc("Slack channel of SLO ticket alerts (slow error-budget burn).", "#golive-slo")
    email_to: str = doc("Recipient of warning and SLO ticket e-mails.", "platform-oncall@golive.example")
    email_from: str = doc("Sender address of alert e-mails.", "alertmanager@golive.example")
    smtp_smarthost: str = doc("SMTP server as host:port (STARTTLS is required).", "email-smtp.eu-west-1.amazonaws.com:587")
    smtp_username: str = doc("SMTP user name (its password is the secret golive:smtpPassword).", "alertmanager")
    dead_mans_switch_url: str = doc(
        "Heartbeat URL the always-firing Watchdog alert is sent to; the external service pages when pings stop. "
        "Empty: the Watchdog goes nowhere, so a dead Alertmanager pages nobody; set it in production.", "")
    runbook_base_url: str = doc(
        "Where docs/runbooks is browsable; alerts link to <this>/<page>.md#<heading>.",
        "https://github.com/golive-platform/golive/blob/main/docs/runbooks")
    repeat_interval_critical: str = doc("How often a still-firing critical alert is re-sent.", "4h")
    repeat_interval: str = doc("How often other still-firing alerts are re-sent.", "24h")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for name in ("slack_channel_critical", "slack_channel_warning", "slack_channel_slo"):
            value = getattr(self, name)
            if not re.fullmatch(r"#[a-z0-9][a-z0-9._-]{0,79}", value):
                problems.append(Problem(f"{key}.{camel(name)}", value, "must be a Slack channel name such as #alerts"))
        for name in ("email_to", "email_from"):
            value = getattr(self, name)
            if not _MON_EMAIL.fullmatch(value):
                problems.append(Problem(f"{key}.{camel(name)}", value, "must be an e-mail address"))
        if not _MON_SMARTHOST.fullmatch(self.smtp_smarthost):
            problems.append(Problem(f"{key}.smtpSmarthost", self.smtp_smarthost, "must be host:port, e.g. smtp.example.com:587"))
        for name in ("dead_mans_switch_url", "runbook_base_url"):
            value = getattr(self, name)
            if value and not re.fullmatch(r"https://[^\s/]+(/\S*)?", value):
                problems.append(Problem(f"{key}.{camel(name)}", value, "must be an https:// URL"))
        if not self.runbook_base_url:
            problems.append(Problem(f"{key}.runbookBaseUrl", self.runbook_base_url, "every alert links its runbook: "
                                    "set the https:// base URL of docs/runbooks (policy monitoring-alert-rules-labelled)"))
        for name in ("repeat_interval_critical", "repeat_interval"):
            value = getattr(self, name)
            if duration_seconds(value) is None or value.endswith("ms"):
                problems.append(Problem(f"{key}.{camel(name)}", value, "must be a duration such as 4h"))


@dataclass(frozen=True)
class LogsConfig:
    """Amazon OpenSearch Service for container logs, fed by Fluent Bit (``golive:monitoring.logs``)."""

    engine_version: str = doc("OpenSearch engine version.", "OpenSearch_2.19")
    instance_type: str = doc("Data node instance type.", "r6g.large.search")
    instance_count: int = doc("Data nodes; a multiple of the AZ count (3).", 3)
    dedicated_masters: bool = doc("Dedicated master nodes (required in production).", True)
    master_instance_type: str = doc("Dedicated master instance type.", "m6g.large.search")
    master_count: int = doc("Dedicated masters: 3 or 5.", 3)
    volume_size_gb: int = doc("gp3 EBS volume per data node, GiB.", 100)
    index_retention_days: int = doc("Days an index lives before the ISM policy deletes it.", 90)
    log_retention_days: int = doc("Retention of the domain's audit, application and slow logs in CloudWatch.", 365)
    master_user_name: str = doc("Fine-grained access control master user (its password is generated into Secrets Manager).", "golive-admin")
    master_password_rotation_days: int = doc(
        "Days between rotations of the master user's password (Secrets Manager, golive's rotation function); 1 to 90.", 30
    )

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not re.fullmatch(r"OpenSearch_\d+\.\d+", self.engine_version):
            problems.append(Problem(f"{key}.engineVersion", self.engine_version, "must be OpenSearch_<major>.<minor>"))
        for name in ("instance_type", "master_instance_type"):
            value = getattr(self, name)
            if not re.fullmatch(r"[a-z0-9]+\.[a-z0-9]+\.search", value):
                problems.append(Problem(f"{key}.{camel(name)}", value, "must be an OpenSearch instance type such as r6g.large.search"))
        if self.instance_count < 1 or (ctx.production and self.instance_count % 3):
            problems.append(Problem(f"{key}.instanceCount", self.instance_count,
                                    "must be a positive multiple of 3 in production (one share per AZ for zone awareness)"))
        if ctx.production and not self.dedicated_masters:
            problems.append(Problem(f"{key}.dedicatedMasters", self.dedicated_masters, "a production domain needs dedicated masters"))
        if self.master_count not in (3, 5):
            problems.append(Problem(f"{key}.masterCount", self.master_count, "must be 3 or 5 (a quorum survives one AZ)"))
        if not 10 <= self.volume_size_gb <= 16384:
            problems.append(Problem(f"{key}.volumeSizeGb", self.volume_size_gb, "must be 10 to 16384 GiB"))
        if self.index_retention_days < 1 or (ctx.production and self.index_retention_days < 90):
            problems.append(Problem(f"{key}.indexRetentionDays", self.index_retention_days, "production keeps logs at least 90 days"))
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(Problem(f"{key}.logRetentionDays", self.log_retention_days,
                                    f"must be a CloudWatch retention value: {', '.join(map(str, LOG_RETENTION_DAYS))}"))
        elif self.log_retention_days < 30:
            problems.append(Problem(f"{key}.logRetentionDays", self.log_retention_days,
                                    "must be at least 30 days (policy logs-group-encrypted-retained)"))
        elif ctx.production and self.log_retention_days < PRODUCTION_LOG_RETENTION_DAYS:
            problems.append(Problem(f"{key}.logRetentionDays", self.log_retention_days,
                                    f"production keeps logs at least {PRODUCTION_LOG_RETENTION_DAYS} days (policy logs-group-encrypted-retained)"))
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,63}", self.master_user_name):
            problems.append(Problem(f"{key}.masterUserName", self.master_user_name, "must be 1-64 letters, digits, '-' or '_'"))
        _check_rotation_days(f"{key}.masterPasswordRotationDays", self.master_password_rotation_days, problems)


RedisDownTier = _tier("RedisDownTier", "RedisDown: redis-exporter cannot reach the ElastiCache primary.",
                      threshold=None, for_="1m", severity="critical", priority="P1")
DatabaseDownTier = _tier("DatabaseDownTier", "DatabaseConnectionFailures: postgres-exporter cannot connect to the database.",
                         threshold=None, for_="2m", severity="critical", priority="P1")
TargetDownTier = _tier("TargetDownTier", "TargetDown: share of a scrape job's targets that do not answer.",
                       threshold=0.1, unit="share of the job's targets down", ratio=True, for_="10m", severity="warning", priority="P3")
ExporterAbsentTier = _tier("ExporterAbsentTier", "ExporterAbsent: an exporter's metrics are gone (its rules cannot fire).",
                           threshold=None, for_="10m", severity="warning", priority="P3")
ProbeAbsentTier = _tier("ProbeAbsentTier", "ProbeAbsent: a blackbox probe reports nothing (its probe alerts cannot fire).",
                        threshold=None, for_="10m", severity="warning", priority="P3")
FluentBitOutputTier = _tier("FluentBitOutputTier", "FluentBitOutputFailing: Fluent Bit drops records or gives up retrying them.",
                            threshold=None, for_="10m", severity="warning", priority="P3")
FluentBitStalledTier = _tier("FluentBitStalledTier", "FluentBitNoOutput: no Fluent Bit pod has shipped a record for 15 minutes.",
                             threshold=None, for_="15m", severity="warning", priority="P3")
OpenSearchRedTier = _tier("OpenSearchRedTier", "OpenSearchClusterRed: a primary shard is unassigned (CloudWatch ClusterStatus.red).",
                          threshold=None, for_="5m", severity="critical", priority="P2")
OpenSearchYellowTier = _tier("OpenSearchYellowTier", "OpenSearchClusterYellow: a replica shard is unassigned.",
                             threshold=None, for_="30m", severity="warning", priority="P3")
OpenSearchWritesBlockedTier = _tier("OpenSearchWritesBlockedTier", "OpenSearchWritesBlocked: the domain refuses writes (ClusterIndexWritesBlocked).",
                                    threshold=None, for_="5m", severity="critical", priority="P2")
OpenSearchStorageTier = _tier("OpenSearchStorageTier", "OpenSearchStorageLow: free storage of the fullest data node.",
                              threshold=0.2, unit="share of a data node's volume still free", ratio=True, for_="15m",
                              severity="warning", priority="P3")


@dataclass(frozen=True)
class PlatformAlertsConfig:
    """Alert rules of the shared platform (``golive:monitoring.platformAlerts``); catalog services have their own."""

    redis_down: RedisDownTier = doc("RedisDown.", default_factory=RedisDownTier)
    database_down: DatabaseDownTier = doc("DatabaseConnectionFailures.", default_factory=DatabaseDownTier)
    target_down: TargetDownTier = doc("TargetDown, for every scrape job.", default_factory=TargetDownTier)
    exporter_absent: ExporterAbsentTier = doc("ExporterAbsent, for every exporter.", default_factory=ExporterAbsentTier)
    probe_absent: ProbeAbsentTier = doc("ProbeAbsent, for every blackbox probe.", default_factory=ProbeAbsentTier)
    fluent_bit_output: FluentBitOutputTier = doc("FluentBitOutputFailing.", default_factory=FluentBitOutputTier)
    fluent_bit_stalled: FluentBitStalledTier = doc("FluentBitNoOutput.", default_factory=FluentBitStalledTier)
    opensearch_red: OpenSearchRedTier = doc("OpenSearchClusterRed.", default_factory=OpenSearchRedTier)
    opensearch_yellow: OpenSearchYellowTier = doc("OpenSearchClusterYellow.", default_factory=OpenSearchYellowTier)
    opensearch_writes_blocked: OpenSearchWritesBlockedTier = doc("OpenSearchWritesBlocked.", default_factory=OpenSearchWritesBlockedTier)
    opensearch_storage: OpenSearchStorageTier = doc("OpenSearchStorageLow.", default_factory=OpenSearchStorageTier)
    memory_warning: MemoryWarningTier = doc("PodMemoryHigh outside the catalog's namespaces, warning tier.", default_factory=MemoryWarningTier)
    memory_critical: MemoryCriticalTier = doc("PodMemoryHigh outside the catalog's namespaces, critical tier.",
                                              default_factory=MemoryCriticalTier)
    cpu_warning: CpuWarningTier = doc("PodCpuHigh outside the catalog's namespaces, warning tier.", default_factory=CpuWarningTier)
    cpu_critical: CpuCriticalTier = doc("PodCpuHigh outside the catalog's namespaces, critical tier.", default_factory=CpuCriticalTier)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        _two_tiers(key, ((self.memory_warning, self.memory_critical, "memory"), (self.cpu_warning, self.cpu_critical, "cpu")), problems)


_MON_IMAGE = re.compile(r"[a-z0-9.-]+(/[a-z0-9._-]+)+:[A-Za-z0-9._-]+(@sha256:[0-9a-f]{64})?")


@dataclass(frozen=True)
class TracingConfig:
    """The trace pipeline (``golive:monitoring.tracing``): OTLP gateway, tail sampler, Jaeger v2 on the logs domain."""

    namespace: str = doc("Namespace of the collectors and Jaeger.", "tracing")
    gateway_replicas: int = doc("OTLP gateway replicas (what services send to; they route each trace to one sampler).", 2)
    sampler_replicas: int = doc("Tail-sampler replicas (each holds whole traces until it decides).", 2)
    decision_wait: str = doc("How long a sampler waits after a trace's first span before it decides (the longest trace "
                             "a keepSlowerThan rule can see).", "10s")
    max_traces_in_memory: int = doc("Traces each sampler holds while it waits; beyond that the oldest are dropped undecided "
                                    "(alert TraceSamplerDroppingTraces).", 100000)
    jaeger_replicas: int = doc("Jaeger v2 replicas (OTLP in from the samplers, OpenSearch out, query and UI for Grafana).", 2)
    index_prefix: str = doc("Prefix of Jaeger's OpenSearch indices (<prefix>-jaeger-span-YYYY-MM-DD, …), apart from the logs' kube-*.",
                            "traces")
    retention_days: int = doc("Days a trace index lives before the index lifecycle policy deletes it (at least 7 in production).", 14)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not _DNS_LABEL.fullmatch(self.namespace) or self.namespace in RESERVED_NAMESPACES[:4]:
            problems.append(Problem(f"{key}.namespace", self.namespace, "must be a DNS label of its own (not default or kube-*)"))
        least = 2 if ctx.production else 1
        for name in ("gateway_replicas", "sampler_replicas", "jaeger_replicas"):
            if not least <= getattr(self, name) <= 50:
                problems.append(Problem(f"{key}.{camel(name)}", getattr(self, name),
                                        f"must be {least} to 50{' in production (one replica per node failure)' if ctx.production else ''}"))
        wait = duration_seconds(self.decision_wait)
        if wait is None or not 1 <= wait <= 120:
            problems.append(Problem(f"{key}.decisionWait", self.decision_wait, "must be a duration from 1s to 120s (2m)"))
        if not 1000 <= self.max_traces_in_memory <= 10_000_000:
            problems.append(Problem(f"{key}.maxTracesInMemory", self.max_traces_in_memory, "must be 1000 to 10000000"))
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}[a-z0-9]", self.index_prefix) or self.index_prefix.startswith("kube"):
            problems.append(Problem(f"{key}.indexPrefix", self.index_prefix, "must be 2-32 lowercase letters, digits or '-', "
                                    "not starting with kube (the log indices' prefix)"))
        minimum = 7 if ctx.production else 1
        if not minimum <= self.retention_days <= 3650:
            problems.append(Problem(f"{key}.retentionDays", self.retention_days,
                                    f"must be {minimum} to 3650 days{' in production' if ctx.production else ''}"))

    @property
    def decision_wait_seconds(self) -> float:
        return duration_seconds(self.decision_wait) or 0.0


@dataclass(frozen=True)
class SearchSetupConfig:
    """The Job that applies the logs domain's own settings at ``pulumi up`` (``golive:monitoring.searchSetup``)."""

    aws_cli_image: str = doc("Image that reads the master user's secret from Secrets Manager (pin a version, or a digest).",
                             "public.ecr.aws/aws-cli/aws-cli:2.36.7")
    python_image: str = doc("Image that runs the setup script (standard library only; pin a version, or a digest).",
                            "public.ecr.aws/docker/library/python:3.13.14-slim")
    deadline_seconds: int = doc("How long the Job may take, retries included, before `pulumi up` fails.", 900)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for name in ("aws_cli_image", "python_image"):
            value = getattr(self, name)
            if not _MON_IMAGE.fullmatch(value) or value.endswith(":latest"):
                problems.append(Problem(f"{key}.{camel(name)}", value, "must be registry/repository:tag with a pinned tag (not latest)"))
        if not 60 <= self.deadline_seconds <= 3600:
            problems.append(Problem(f"{key}.deadlineSeconds", self.deadline_seconds, "must be 60 to 3600"))


@cross_check
def _tracing_catalog(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """A trace slower than the sampler's wait is decided before it ends: a keepSlowerThan rule must fit in the wait."""
    tracing = config.monitoring.tracing
    wait = tracing.decision_wait_seconds
    for i, service in enumerate(config.services):
        slower = service.tracing.slower_than_ms
        if wait and slower and slower >= wait * 1000:
            problems.append(Problem(f"{NAMESPACE}:services[{i}].tracing.keepSlowerThan", service.tracing.keep_slower_than,
                                    f"must be shorter than golive:monitoring.tracing.decisionWait ({tracing.decision_wait}): "
                                    "the sampler decides before a slower trace ends"))
    if tracing.namespace in {config.monitoring.namespace, config.delivery.namespace, *(s.name for s in config.services)}:
        problems.append(Problem(f"{NAMESPACE}:monitoring.tracing.namespace", tracing.namespace,
                                "must not be the monitoring, delivery or a service namespace"))


@dataclass(frozen=True)
class MonitoringConfig:
    """Prometheus, Alertmanager, Grafana, exporters, logs (``golive:monitoring``)."""

    namespace: str = doc("Namespace of the monitoring stack.", "monitoring")
    charts: MonitoringChartsConfig = doc("Pinned chart versions.", default_factory=MonitoringChartsConfig)
    prometheus_replicas: int = doc("Prometheus replicas (HA pair scraping the same targets).", 2)
    scrape_interval: str = doc("Default scrape interval.", "15s")
    evaluation_interval: str = doc("Rule evaluation interval.", "30s")
    retention: str = doc("Prometheus retention time: at least the 30-day SLO window when the catalog has services "
                         "(the 30-day SLIs and budgets read that far back), and at least 15d in production.", "35d")
    retention_size: str = doc("Prometheus retention size (oldest blocks go first), below the volume size.", "100GB")
    prometheus_volume_size: str = doc("Persistent volume per Prometheus replica.", "150Gi")
    alertmanager_replicas: int = doc("Alertmanager replicas (gossip cluster).", 3)
    alertmanager_volume_size: str = doc("Persistent volume per Alertmanager replica (silences, notification log).", "10Gi")
    grafana_volume_size: str = doc("Grafana's persistent volume.", "10Gi")
    storage_class: str = doc("StorageClass of the monitoring volumes (the cluster's encrypted gp3 class).", "gp3-encrypted")
    probe_interval: str = doc("Interval of the blackbox probes of the catalog's URLs.", "30s")
    alerting: AlertingConfig = doc("Alert receivers' non-secret settings.", default_factory=AlertingConfig)
    logs: LogsConfig = doc("OpenSearch logs.", default_factory=LogsConfig)
    platform_alerts: PlatformAlertsConfig = doc("The shared platform's alert rules.", default_factory=PlatformAlertsConfig)
    tracing: TracingConfig = doc("Distributed tracing: OpenTelemetry gateway and tail sampler, Jaeger v2.", default_factory=TracingConfig)
    search_setup: SearchSetupConfig = doc("The Job applying the logs domain's retention and writer roles.",
                                          default_factory=SearchSetupConfig)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", self.namespace):
            problems.append(Problem(f"{key}.namespace", self.namespace, "must be a DNS label"))
        for name in ("scrape_interval", "evaluation_interval", "probe_interval"):
            value = getattr(self, name)
            seconds = duration_seconds(value)
            if seconds is None or not 5 <= seconds <= 300:
                problems.append(Problem(f"{key}.{camel(name)}", value, "must be a duration from 5s to 5m"))
        retention = duration_seconds(self.retention)
        if retention is None:
            problems.append(Problem(f"{key}.retention", self.retention, "must be a duration such as 15d"))
        elif ctx.production and retention < 15 * 86400:
            problems.append(Problem(f"{key}.retention", self.retention, "production keeps metrics at least 15d (SLO windows, incident review)"))
        size, volume = size_bytes(self.retention_size), size_bytes(self.prometheus_volume_size)
        if size is None or not _MON_SIZE.fullmatch(self.retention_size):
            problems.append(Problem(f"{key}.retentionSize", self.retention_size, "must be a size such as 100GB"))
        for name in ("prometheus_volume_size", "alertmanager_volume_size", "grafana_volume_size"):
            value = getattr(self, name)
            if not _MON_QUANTITY.fullmatch(value):
                problems.append(Problem(f"{key}.{camel(name)}", value, "must be a Kubernetes quantity in Gi or Ti, e.g. 150Gi"))
        if size is not None and volume is not None and _MON_QUANTITY.fullmatch(self.prometheus_volume_size) and size > 0.9 * volume:
            problems.append(Problem(f"{key}.retentionSize", self.retention_size,
                                    f"must stay below 90% of prometheusVolumeSize ({self.prometheus_volume_size}); the WAL needs the rest"))
        minimum = {"prometheus_replicas": 2, "alertmanager_replicas": 3} if ctx.production else {"prometheus_replicas": 1, "alertmanager_replicas": 1}
        for name, least in minimum.items():
            if getattr(self, name) < least:
                problems.append(Problem(f"{key}.{camel(name)}", getattr(self, name),
                                        f"must be at least {least}{' in production' if ctx.production else ''}"))


@cross_check
def _retention_covers_slo_window(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """A 30-day SLI over a Prometheus that keeps 15 days silently reads 15 days: retention must cover the window."""
    retention = duration_seconds(config.monitoring.retention)
    if config.services and retention is not None and retention < (duration_seconds(SLO_WINDOW) or 0):
        problems.append(Problem(f"{NAMESPACE}:monitoring.retention", config.monitoring.retention,
                                f"must be at least the SLO window ({SLO_WINDOW}): the SLIs, error budgets and their alerts read "
                                f"{SLO_WINDOW} back (policy monitoring-retention-covers-rule-windows)"))


# --- end section: monitoring ------------------------------------------------

# --- section: backup ----------------------------------------------

_BACKUP_CRON = re.compile(r"cron\(\S+ \S+ \S+ \S+ \S+ \S+\)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,63}")


@dataclass(frozen=True)
class DrConfig:
    """Disaster-recovery region (``golive:dr``): replica backup bucket and the copy vault live there."""

    region: str = doc("AWS region of the DR copies: a region of golive's region table (AWS_REGIONS), other than golive:region "
                      "and in its partition.", "eu-central-1")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        check_region(f"{key}.region", self.region, problems)


@cross_check
def _dr_region_differs(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """A DR copy in the primary region dies with it; replication cannot cross partitions."""
    dr = config.dr.region
    if dr == config.region:
        problems.append(Problem(f"{NAMESPACE}:dr.region", dr,
                                f"must differ from golive:region ({config.region}): a copy in the same region is lost with it"))
    elif partition_of(dr) not in (None, config.partition):
        problems.append(Problem(f"{NAMESPACE}:dr.region", dr,
                                f"must be in the same AWS partition as golive:region ({config.region}) for replication and copies"))


@dataclass(frozen=True)
class BackupConfig:
    """Backup buckets and AWS Backup plans (``golive:backup``).

    Defaults follow the listings report: daily full backups at 02:00 UTC kept 30 days,
    the newest 30 versions of each backup object kept, point-in-time recovery for 35 days.
    """

    object_lock_mode: Literal["governance", "compliance"] = doc(
        "S3 Object Lock default mode of the backup buckets: governance (privileged users may lift it) or "
        "compliance (nobody can, not even the root user, until retention ends).", "governance")
    object_lock_days: int = doc("Default Object Lock retention of each backup object version, days (1-36500; at least 7 in production).", 30)
    transition_ia_days: int = doc("Days after which backup objects move to STANDARD_IA (S3 minimum: 30).", 30)
    transition_archive_days: int = doc("Days after which backup objects move to the archive class; at least transitionIaDays + 30.", 90)
    archive_storage_class: Literal["GLACIER", "DEEP_ARCHIVE"] = doc(
        "Archive storage class; GLACIER restores in minutes (expedited), DEEP_ARCHIVE in 12+ hours.", "GLACIER")
    noncurrent_versions_kept: int = doc("Newest noncurrent versions of each object kept regardless of age (1-100).", 30)
    noncurrent_expiry_days: int = doc("Days after which older noncurrent versions expire; at least objectLockDays.", 90)
    abort_multipart_days: int = doc("Days after which incomplete multipart uploads are aborted.", 7)
    access_log_retention_days: int = doc("Days S3 server access logs are kept (at least 90 in production).", 365)
    schedule: str = doc("AWS Backup schedule of the daily full backup (UTC), a cron(...) expression with six fields.", "cron(0 2 * * ? *)")
    start_window_minutes: int = doc("Minutes a scheduled backup may wait to start before it is reported as failed (AWS minimum: 60).", 60)
    completion_window_minutes: int = doc("Minutes a backup may run before AWS Backup cancels it; at least startWindowMinutes + 60.", 360)
    retention_days: int = doc("Days each daily recovery point is kept (at least 30 in production).", 30)
    dr_copy_retention_days: int = doc("Days each copy in the DR vault is kept (at least 30 in production).", 30)
    continuous_retention_days: int = doc("Days of continuous backup (point-in-time recovery), 1-35.", 35)
    vault_lock_min_retention_days: int = doc(
        "Vault Lock minimum retention: no recovery point can be deleted earlier; at most every retention above.", 30)
    vault_lock_max_retention_days: int = doc("Vault Lock maximum retention; at least every retention above.", 365)
    vault_lock_compliance_after_days: int | None = doc(
        "Unset: Vault Lock in governance mode (removable with IAM permission). Set (>= 3): the lock becomes "
        "immutable compliance mode after this grace period; irreversible.", None)
    notification_emails: tuple[str, ...] = doc(
        "E-mail addresses subscribed to failed/expired backup job notifications; at least one in production "
        "(the on-call route also gets BackupJobFailed from the monitoring stack); the default is the alerting e-mail's.",
        ("platform-oncall@golive.example",))

    MAX_CONTINUOUS_DAYS = 35
    MIN_PRODUCTION_RETENTION_DAYS = 30

    @property
    def lock_mode(self) -> str:
        """The S3 API spelling of :attr:`object_lock_mode`."""
        return self.object_lock_mode.upper()

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        def add(name: str, value: Any, rule: str) -> None:
            problems.append(Problem(f"{key}.{name}", value, rule))

        if not 1 <= self.object_lock_days <= 36500:
            add("objectLockDays", self.object_lock_days, "must be from 1 to 36500 days")
        elif ctx.production and self.object_lock_days < 7:
            add("objectLockDays", self.object_lock_days, "production locks backups at least 7 days, long enough to notice a ransomware attack")
        if self.transition_ia_days < 30:
            add("transitionIaDays", self.transition_ia_days, "S3 moves objects to STANDARD_IA no earlier than 30 days")
        if self.transition_archive_days < self.transition_ia_days + 30:
            add("transitionArchiveDays", self.transition_archive_days,
                f"must come at least 30 days after transitionIaDays ({self.transition_ia_days}): transitions are ordered "
                "and S3 keeps objects 30 days in STANDARD_IA")
        if not 1 <= self.noncurrent_versions_kept <= 100:
            add("noncurrentVersionsKept", self.noncurrent_versions_kept, "must be from 1 to 100 (S3 limit)")
        elif ctx.production and self.noncurrent_versions_kept < 30:
            add("noncurrentVersionsKept", self.noncurrent_versions_kept,
                "production keeps at least the 30 newest versions (policy backup-bucket-lifecycle)")
        if self.noncurrent_expiry_days < max(1, self.object_lock_days):
            add("noncurrentExpiryDays", self.noncurrent_expiry_days,
                f"must be at least objectLockDays ({self.object_lock_days}): a locked version cannot expire earlier")
        if self.abort_multipart_days < 1:
            add("abortMultipartDays", self.abort_multipart_days, "must be at least 1")
        if self.access_log_retention_days < 1:
            add("accessLogRetentionDays", self.access_log_retention_days, "must be at least 1")
        elif ctx.production and self.access_log_retention_days < 90:
            add("accessLogRetentionDays", self.access_log_retention_days, "production keeps S3 access logs at least 90 days")
        if not _BACKUP_CRON.fullmatch(self.schedule):
            add("schedule", self.schedule, "must be an AWS cron expression with six fields, e.g. cron(0 2 * * ? *)")
        if self.start_window_minutes < 60:
            add("startWindowMinutes", self.start_window_minutes, "AWS Backup needs a start window of at least 60 minutes")
        if self.completion_window_minutes < self.start_window_minutes + 60:
            add("completionWindowMinutes", self.completion_window_minutes,
                f"must be at least startWindowMinutes + 60 ({self.start_window_minutes + 60})")
        retentions = {
            "retentionDays": self.retention_days,
            "drCopyRetentionDays": self.dr_copy_retention_days,
            "continuousRetentionDays": self.continuous_retention_days,
        }
        for name, days in retentions.items():
            if days < 1:
                add(name, days, "must be at least 1 day")
            elif ctx.production and name != "continuousRetentionDays" and days < self.MIN_PRODUCTION_RETENTION_DAYS:
                add(name, days, f"production keeps recovery points at least {self.MIN_PRODUCTION_RETENTION_DAYS} days")
        if self.continuous_retention_days > self.MAX_CONTINUOUS_DAYS:
            add("continuousRetentionDays", self.continuous_retention_days,
                f"AWS Backup keeps continuous backups at most {self.MAX_CONTINUOUS_DAYS} days")
        low, high = self.vault_lock_min_retention_days, self.vault_lock_max_retention_days
        if low < 1:
            add("vaultLockMinRetentionDays", low, "must be at least 1 day")
        elif ctx.production and low < 7:
            add("vaultLockMinRetentionDays", low, "production locks recovery points at least 7 days, long enough to notice an attack")
        elif low > min(retentions.values()):
            shortest = min(retentions, key=lambda n: retentions[n])
            add("vaultLockMinRetentionDays", low,
                f"must not exceed {shortest} ({retentions[shortest]}): a locked vault rejects shorter-lived recovery points")
        if high < max(low, *retentions.values()):
            add("vaultLockMaxRetentionDays", high, "must be at least vaultLockMinRetentionDays and every retention above")
        elif high > 36500:
            add("vaultLockMaxRetentionDays", high, "must be at most 36500 days")
        grace = self.vault_lock_compliance_after_days
        if grace is not None and grace < 3:
            add("vaultLockComplianceAfterDays", grace, "AWS Backup needs a grace period of at least 3 days before compliance mode")
        for i, email in enumerate(self.notification_emails):
            if not _EMAIL.fullmatch(email):
                add(f"notificationEmails[{i}]", email, "must be an e-mail address")
        if ctx.production and not self.notification_emails:
            add("notificationEmails", [], "a production stack subscribes at least one address to the backup job "
                "notifications, or a failed backup reaches nobody by e-mail")


def backup_start_windows(schedule: str, start_window_minutes: int) -> tuple[str, ...] | None:
    """The daily UTC windows (``hh:mm-hh:mm``) in which a ``cron(...)`` backup rule may start its jobs.

    Only fixed minute and hour fields (hours may be a comma list) can be read this way; for
    anything else (``*``, ranges, steps) None. Day fields are ignored: a rule that runs on
    some days only is checked as if it ran daily, the stricter reading.
    """
    match = re.fullmatch(r"cron\((\d{1,2}) (\d{1,2}(?:,\d{1,2})*) \S+ \S+ \S+ \S+\)", schedule)
    if not match or start_window_minutes < 1:
        return None
    minute, hours = int(match.group(1)), [int(h) for h in match.group(2).split(",")]
    if minute > 59 or any(h > 23 for h in hours):
        return None
    windows = []
    for hour in hours:
        start = hour * 60 + minute
        end = (start + min(start_window_minutes, 24 * 60 - 1)) % (24 * 60)
        windows.append(f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}")
    return tuple(windows)


@cross_check
def _backup_apart_from_database_windows(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """AWS Backup's daily rule must not start its jobs inside the RDS backup or maintenance window.

    The plan backs up the RDS instance (tagged backup=true): a snapshot job started while RDS
    takes its automated backup, or while maintenance runs, waits or fails.
    """
    backup, database = config.backup, config.database
    starts = backup_start_windows(backup.schedule, backup.start_window_minutes)
    key = f"{NAMESPACE}:backup.schedule"
    if starts is None:
        if _BACKUP_CRON.fullmatch(backup.schedule):
            problems.append(Problem(key, backup.schedule, "use a fixed minute and hour (e.g. cron(0 2 * * ? *)) so its start "
                                    "window can be kept apart from golive:database.backupWindow"))
        return
    for name, window in (("backupWindow", database.backup_window), ("maintenanceWindow", database.maintenance_window)):
        try:
            clash = [w for w in starts if windows_overlap(w, window)]
        except ValueError:
            continue  # the window's own format problem is reported by the database section
        if clash:
            problems.append(Problem(key, backup.schedule, f"its start window {clash[0]} (UTC, startWindowMinutes "
                                    f"{backup.start_window_minutes}) overlaps golive:database.{name} {window}: stagger them"))


@cross_check
def _database_pitr_matches_continuous_backup(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """The RDS instance is tagged backup=true, so AWS Backup's continuous rule (always on) sets its PITR retention.

    With two different values, every ``pulumi up`` sets RDS back to its own and AWS Backup
    then changes it again: they must agree.
    """
    db_days, continuous_days = config.database.backup_retention_days, config.backup.continuous_retention_days
    if ctx.production and continuous_days >= 1 and db_days != continuous_days:
        problems.append(Problem(
            f"{NAMESPACE}:database.backupRetentionDays", db_days,
            f"must equal golive:backup.continuousRetentionDays ({continuous_days}): AWS Backup's continuous rule manages the "
            "instance's point-in-time-recovery retention (it is tagged backup=true), so two values would fight on every update"))


# --- end section: backup ----------------------------------------------------

# --- section: delivery -------------------------------------------

_DELIVERY_DURATION = re.compile(r"([1-9]\d*)(s|m|h)")
_DELIVERY_SECONDS = {"s": 1, "m": 60, "h": 3600}
_SHA256 = re.compile(r"[0-9a-f]{64}")


def delivery_seconds(value: str) -> int | None:
    """An Argo Rollouts duration with one unit (``30s``, ``5m``, ``2h``) in seconds, or None."""
    match = _DELIVERY_DURATION.fullmatch(value)
    return int(match.group(1)) * _DELIVERY_SECONDS[match.group(2)] if match else None


@dataclass(frozen=True)
class CanaryStep:
    """One canary step (``golive:delivery.canarySteps[i]``): exactly one of setWeight, pause and analysis."""

    set_weight: int | None = doc("Percent of the service's traffic sent to the canary target group (1-100).", None)
    pause: str = doc("Hold the current weight this long: `30m`, `2h` (one unit: s, m or h).", "")
    analysis: bool = doc("Run the service's SLO analysis here (analysisCount measurements, analysisInterval apart); "
                         "failing it aborts the rollout and sends all traffic back to the stable version.", False)

    @property
    def kind(self) -> str:
        return "setWeight" if self.set_weight is not None else "pause" if self.pause else "analysis"


DEFAULT_CANARY_STEPS = (
    CanaryStep(set_weight=10), CanaryStep(pause="2h"), CanaryStep(analysis=True),
    CanaryStep(set_weight=50), CanaryStep(pause="2h"), CanaryStep(analysis=True),
    CanaryStep(set_weight=100),
)


# The release of the traffic-router plugin (delivery/alb-traffic-router) the controller runs by default: the linux/amd64
# binary (the nodes are amd64) that .github/workflows/release-plugin.yml publishes for the tag
# alb-traffic-router-v<version>. tests/test_delivery_plugin.py builds it reproducibly and proves this SHA-256 is that
# build's, and the release workflow refuses to publish a binary whose SHA-256 differs.
TRAFFIC_ROUTER_VERSION = "0.1.0"
TRAFFIC_ROUTER_RELEASES = "https://github.com/golive-platform/golive/releases/download"
TRAFFIC_ROUTER_ASSET = "alb-traffic-router-linux-amd64"
TRAFFIC_ROUTER_SHA256 = "0de3771d9188792b3cdd99d85a837cd3e3a69de3c7756a888fa629885aa97fcf"


@dataclass(frozen=True)
class TrafficRouterPluginConfig:
    """The plugin binary Argo Rollouts downloads and checks (``golive:delivery.trafficRouterPlugin``)."""

    location: str = doc(
        "https:// URL of the plugin's linux/amd64 binary; the default is golive's current release.",
        f"{TRAFFIC_ROUTER_RELEASES}/alb-traffic-router-v{TRAFFIC_ROUTER_VERSION}/{TRAFFIC_ROUTER_ASSET}")
    sha256: str = doc("SHA-256 of that binary (64 lowercase hex digits): the controller runs the plugin only if the download "
                      "has it; the default is the release's.", TRAFFIC_ROUTER_SHA256)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not re.fullmatch(r"https://[^\s/?#]+/\S+", self.location):
            problems.append(Problem(f"{key}.location", self.location or _MISSING,
                                    "must be the https:// URL of the plugin binary (the controller downloads it at start)"))
        if not _SHA256.fullmatch(self.sha256):
            problems.append(Problem(f"{key}.sha256", self.sha256 or _MISSING, "must be the binary's SHA-256 (64 lowercase hex "
                                    "digits): the controller refuses to run a plugin it cannot verify"))


@dataclass(frozen=True)
class DeliveryConfig:
    """Argo Rollouts progressive delivery (``golive:delivery``); see docs/delivery.md."""

    namespace: str = doc("Namespace of the Argo Rollouts controller.", "argo-rollouts")
    chart_version: str = doc("argo-rollouts Helm chart version (https://argoproj.github.io/argo-helm), pinned.", "2.40.9")
    traffic_router_plugin: TrafficRouterPluginConfig = doc(
        "The `golive/alb-listener-rule` traffic-router plugin the controller downloads (delivery/alb-traffic-router).",
        default_factory=TrafficRouterPluginConfig)
    analysis_interval: str = doc("Time between two measurements of an analysis, and the PromQL window of each (at least 1m).", "5m")
    analysis_count: int = doc("Measurements per analysis run (a canary analysis step, a blue-green pre/post-promotion analysis).", 3)
    analysis_failure_limit: int = doc("Failed measurements an analysis tolerates; one more fails it (below analysisCount).", 1)
    max_burn_rate: float = doc(
        "A measurement fails when the new version's error ratio exceeds this multiple of its SLO's error budget "
        "(1 - availability objective); 1 means the new version alone must meet the SLO.", 2.0)
    progress_deadline_seconds: int = doc(
        "A rollout whose new pods are not available this long is aborted (rolled back) and reported degraded.", 600)
    canary_steps: tuple[CanaryStep, ...] = doc(
        "Steps of every canary service: weights strictly increasing and ending at 100, each pause at least one analysis "
        "interval (2h in production), at least one analysis step after the first weight.", DEFAULT_CANARY_STEPS)

    MIN_PRODUCTION_PAUSE = 7200

    @property
    def weights(self) -> tuple[int, ...]:
        return tuple(s.set_weight for s in self.canary_steps if s.set_weight is not None)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        def add(name: str, value: Any, rule: str) -> None:
            problems.append(Problem(f"{key}.{name}", value, rule))

        if not _DNS_LABEL.fullmatch(self.namespace):
            add("namespace", self.namespace, "must be a DNS label")
        if not re.fullmatch(r"\d+\.\d+\.\d+", self.chart_version):
            add("chartVersion", self.chart_version, "must pin an exact chart version such as 2.40.9 (no ranges)")
        interval = delivery_seconds(self.analysis_interval)
        if interval is None or interval < 60:
            add("analysisInterval", self.analysis_interval, "must be a duration of at least 1m (s, m or h): each measurement's "
                "rate() window needs several scrapes")
            interval = None
        if self.analysis_count < 1:
            add("analysisCount", self.analysis_count, "must be at least 1")
        if not 0 <= self.analysis_failure_limit < max(self.analysis_count, 1):
            add("analysisFailureLimit", self.analysis_failure_limit,
                f"must be from 0 to analysisCount - 1 ({self.analysis_count - 1}), or no analysis could ever fail")
        if not self.max_burn_rate > 0:
            add("maxBurnRate", self.max_burn_rate, "must be positive")
        if self.progress_deadline_seconds < 60:
            add("progressDeadlineSeconds", self.progress_deadline_seconds, "must be at least 60")
        self._validate_steps(key, ctx, interval, problems)

    def _validate_steps(self, key: str, ctx: _Ctx, interval: int | None, problems: list[Problem]) -> None:
        steps_key = f"{key}.canarySteps"
        if not self.canary_steps:
            problems.append(Problem(steps_key, [], "needs at least one step (setWeight 100 at the end)"))
            return
        last_weight, seen_weight, analysed = 0, False, False
        for i, step in enumerate(self.canary_steps):
            at = f"{steps_key}[{i}]"
            given = [name for name, on in (("setWeight", step.set_weight is not None), ("pause", bool(step.pause)),
                                           ("analysis", step.analysis)) if on]
            if len(given) != 1:
                problems.append(Problem(at, {n: getattr(step, _camel_to_snake(n)) for n in given} or {},
                                        "must set exactly one of setWeight, pause and analysis"))
                continue
            if step.set_weight is not None:
                weight = step.set_weight
                if not 1 <= weight <= 100:
                    problems.append(Problem(f"{at}.setWeight", weight, "must be a percentage from 1 to 100"))
                elif weight <= last_weight:
                    problems.append(Problem(f"{at}.setWeight", weight, f"weights must increase step by step; the previous "
                                            f"setWeight is {last_weight}"))
                last_weight, seen_weight = max(last_weight, weight), True
            elif step.pause:
                seconds = delivery_seconds(step.pause)
                if seconds is None:
                    problems.append(Problem(f"{at}.pause", step.pause, "must be a duration with one unit: 30m, 2h"))
                elif interval is not None and seconds < interval:
                    problems.append(Problem(f"{at}.pause", step.pause, f"is shorter than analysisInterval "
                                            f"({self.analysis_interval}): the next measurement's window would still "
                                            "see the previous weight"))
                elif ctx.production and seconds < self.MIN_PRODUCTION_PAUSE:
                    problems.append(Problem(f"{at}.pause", step.pause, "production soaks each weight at least 2h "
                                            "(shorter pauses are for staging and development)"))
            else:
                if not seen_weight:
                    problems.append(Problem(f"{at}.analysis", True, "must follow a setWeight: before it the canary takes "
                                            "no traffic, so there is nothing to measure"))
                elif last_weight < 100:
                    analysed = True
        weights = self.weights
        if not weights or weights[-1] != 100:
            problems.append(Problem(steps_key, list(weights), "the last setWeight must be 100 (the new version takes all traffic)"))
        if ctx.production and not analysed:
            problems.append(Problem(steps_key, [s.kind for s in self.canary_steps],
                                    "a production canary needs at least one analysis step while the canary weight is below 100"))


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@cross_check
def _delivery_catalog(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """A blue-green service is previewed on its own host under the edge domain; canary and none need none."""
    hosts = {s.host for s in config.services if s.host}
    previews: dict[str, int] = {}
    for i, service in enumerate(config.services):
        key = f"{NAMESPACE}:services[{i}].previewHost"
        preview = service.preview_host
        if service.delivery == "blueGreen":
            if not service.host:
                problems.append(Problem(f"{NAMESPACE}:services[{i}].delivery", service.delivery,
                                        "blueGreen needs a public host: the preview is served by the load balancer"))
            if not preview:
                problems.append(Problem(key, _MISSING, "a blueGreen service needs a preview host, where the new version is "
                                        "reached (and analysed) before promotion"))
                continue
        elif preview:
            problems.append(Problem(key, preview, f"only applies to delivery blueGreen (this service uses {service.delivery})"))
            continue
        else:
            continue
        if not _HOST_NAME.fullmatch(preview):
            problems.append(Problem(key, preview, "must be a lowercase DNS host name such as app-preview.example.com"))
        elif config.edge.domain and not _host_in_domain(preview, config.edge.domain):
            problems.append(Problem(key, preview, f"must be {config.edge.domain} or a name under it (the certificate covers the edge domain only)"))
        elif preview in hosts:
            problems.append(Problem(key, preview, "is already a service's public host"))
        elif preview in previews:
            problems.append(Problem(key, preview, f"duplicates services[{previews[preview]}].previewHost"))
        previews.setdefault(preview, i)


# --- end section: delivery --------------------------------------------------

# --- section: account ---------------------------------------------------------

PHASES = ("infrastructure", "all")

# The service-linked roles the stack declares, by golive:singletons key (`<key>Role`):
# the service principal's prefix (the partition's DNS suffix follows) and the role's name, both fixed by AWS.
SERVICE_LINKED_ROLES: dict[str, tuple[str, str]] = {
    "autoscaling": ("autoscaling", "AWSServiceRoleForAutoScaling"),
    "opensearch": ("opensearchservice", "AWSServiceRoleForAmazonOpenSearchService"),
    "config": ("config", "AWSServiceRoleForConfig"),
}
_TAG_VALUE = re.compile(r"[\w .:/=+\-@]{1,256}")


@dataclass(frozen=True)
class SingletonConfig:
    """What the stack does about one account-wide singleton (``golive:singletons.<name>``)."""

    mode: Literal["create", "adopt", "skip"] = doc(
        "`create` (the stack creates it; the first `up` fails if it exists), `adopt` (it exists: import it with the "
        "`pulumi import` commands `golive preflight` prints, between the infrastructure and the all phase) or `skip` "
        "(managed outside this stack, e.g. by the organization; needs a reason).", "create")
    reason: str = doc("Why the stack skips it (required with `skip`); the readiness report shows it. An AWS tag value: "
                      "letters, digits, spaces and _ . : / = + - @.", "")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if self.mode == "skip" and not self.reason.strip():
            problems.append(Problem(f"{key}.reason", _MISSING, "a skipped singleton needs a reason (who manages it instead)"))
        elif self.reason and self.mode != "skip":
            problems.append(Problem(f"{key}.reason", self.reason, f"only applies with mode skip (the mode is {self.mode})"))
        elif self.reason and not _TAG_VALUE.fullmatch(self.reason):
            problems.append(Problem(f"{key}.reason", _shown(self.reason), "must be a valid AWS tag value (1-256 letters, "
                                    "digits, spaces and _ . : / = + - @): it is recorded as the exemption's reason"))

    @property
    def declared(self) -> bool:
        """Whether the stack declares the resource at all (in the all phase)."""
        return self.mode != "skip"


@dataclass(frozen=True)
class SingletonsConfig:
    """Account-wide singletons that many accounts already have (``golive:singletons``).

    Organizations often enable GuardDuty, Security Hub and AWS Config centrally, and a
    service-linked role exists once any resource of its service was ever created: creating
    one again fails the `up`. `python -m golive preflight` says which exist.
    """

    guardduty_detector: SingletonConfig = doc("The region's GuardDuty detector (and its features).", default_factory=SingletonConfig)
    security_hub: SingletonConfig = doc("The region's Security Hub subscription (and its standards).", default_factory=SingletonConfig)
    config_recorder: SingletonConfig = doc(
        "The region's AWS Config recorder, delivery channel and recorder status.", default_factory=SingletonConfig)
    autoscaling_role: SingletonConfig = doc(
        "AWSServiceRoleForAutoScaling: the node volumes' key grant names it, so it must exist before the node group.",
        default_factory=SingletonConfig)
    opensearch_role: SingletonConfig = doc(
        "AWSServiceRoleForAmazonOpenSearchService: a VPC domain needs it before it is created.", default_factory=SingletonConfig)
    config_role: SingletonConfig = doc("AWSServiceRoleForConfig: the AWS Config recorder records with it.", default_factory=SingletonConfig)


@cross_check
def _deployers_inside_the_vpc(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """The private subnets' route tables hold the VPC's routes only: a deployer CIDR outside it is never reached."""
    try:
        vpc = ipaddress.IPv4Network(config.network.vpc_cidr)
    except ValueError:
        return
    for i, cidr in enumerate(config.cluster.deployer_cidrs):
        try:
            net = ipaddress.IPv4Network(cidr)
        except ValueError:
            continue  # reported by the cluster section
        if not net.subnet_of(vpc):
            problems.append(Problem(f"{NAMESPACE}:cluster.deployerCidrs[{i}]", cidr, f"must lie inside the VPC CIDR {vpc}: "
                                    "nothing routes other sources to the private API endpoint (use the admin VPN)"))


# --- end section: account -----------------------------------------------------


# --- section: operational proof (restore tests, game days) -----------------

_RESTORE_SCHEDULE = re.compile(r"cron\(\S+ \S+ \S+ \S+ \S+ \S+\)|rate\([1-9]\d* (minutes?|hours?|days?)\)")
_ISO_DATE = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
RESTORE_TESTED_TYPES = ("RDS", "EBS")
"""AWS Backup protected-resource types the platform backs up and restore-tests: the database and the tagged volumes."""


@dataclass(frozen=True)
class RestoreMeasurement:
    """One restore the restore-testing plan measured (``golive:restoreTesting.measurements[i]``)."""

    resource_type: Literal["RDS", "EBS"] = doc("AWS Backup resource type of the restore: `RDS` (the database) or `EBS` (the volumes).")
    restore_minutes: int = doc("Minutes from the restore job's creation to its completion (`CompletionDate - CreationDate`).")
    measured_on: str = doc("Day of the restore job, `YYYY-MM-DD` (UTC).")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if self.restore_minutes < 1:
            problems.append(Problem(f"{key}.restoreMinutes", self.restore_minutes, "must be at least 1 minute"))
        if not _ISO_DATE.fullmatch(self.measured_on):
            problems.append(Problem(f"{key}.measuredOn", self.measured_on, "must be a date written YYYY-MM-DD"))


@dataclass(frozen=True)
class RestoreTestingConfig:
    """AWS Backup restore testing (``golive:restoreTesting``): the database and the tagged volumes restored on a schedule."""

    enabled: bool = doc("Declare the restore-testing plan; production requires it (policy backup-restore-tested).", True)
    schedule: str = doc("When restores are tested (UTC): an AWS cron(...) with six fields or rate(...). Default: Saturdays 05:00, "
                        "three hours after the daily backup.", "cron(0 5 ? * SAT *)")
    start_window_hours: int = doc("Hours a scheduled restore test may wait to start, 1-168.", 4)
    selection_window_days: int = doc("Only recovery points of the last N days are restored (the newest of them), 1-365.", 7)
    validation_window_hours: int = doc(
        "Hours the restored copy is kept for validation before AWS Backup deletes it, 1-168.", 4)
    rto_minutes: int = doc("The recovery time objective: an alert fires when a restore runs longer.", 60)
    switchover_minutes: int = doc(
        "Minutes a real recovery adds after the restore (repointing the services, checks): the implied RTO is the measured "
        "restore plus this.", 15)
    expected_every_days: int = doc("An alert fires when no restore completed for this many days plus one (the schedule's period).", 7)
    measurements: tuple[RestoreMeasurement, ...] = doc(
        "The last measured restore of each resource type (from `aws backup list-restore-jobs`, docs/disaster-recovery.md); the "
        "readiness report derives the RTO they imply.", ())

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if ctx.production and not self.enabled:
            problems.append(Problem(f"{key}.enabled", self.enabled, "production restore-tests every backed-up data store "
                                    "(policy backup-restore-tested): a backup nobody restored is a hope, not a recovery"))
        if not _RESTORE_SCHEDULE.fullmatch(self.schedule):
            problems.append(Problem(f"{key}.schedule", self.schedule, "must be an AWS cron expression with six fields, e.g. "
                                    "cron(0 5 ? * SAT *), or rate(7 days)"))
        for name, value, low, high in (("startWindowHours", self.start_window_hours, 1, 168),
                                       ("selectionWindowDays", self.selection_window_days, 1, 365),
                                       ("validationWindowHours", self.validation_window_hours, 1, 168)):
            if not low <= value <= high:
                problems.append(Problem(f"{key}.{name}", value, f"must be from {low} to {high} (AWS Backup's range)"))
        if self.rto_minutes < 1:
            problems.append(Problem(f"{key}.rtoMinutes", self.rto_minutes, "must be at least 1 minute"))
        if self.switchover_minutes < 0:
            problems.append(Problem(f"{key}.switchoverMinutes", self.switchover_minutes, "must not be negative"))
        if self.rto_minutes >= 1 and self.switchover_minutes >= self.rto_minutes:
            problems.append(Problem(f"{key}.switchoverMinutes", self.switchover_minutes,
                                    f"must be below rtoMinutes ({self.rto_minutes}): no restore could then meet the RTO"))
        if not 1 <= self.expected_every_days <= 13:
            problems.append(Problem(f"{key}.expectedEveryDays", self.expected_every_days,
                                    "must be from 1 to 13 (the alert looks back this many days plus one; Prometheus keeps 15)"))
        seen: dict[str, int] = {}
        for i, measurement in enumerate(self.measurements):
            if measurement.resource_type in seen:
                problems.append(Problem(f"{key}.measurements[{i}].resourceType", measurement.resource_type,
                                        f"duplicates measurements[{seen[measurement.resource_type]}]: keep the last measured restore only"))
            seen.setdefault(measurement.resource_type, i)

    def measurement(self, resource_type: str) -> RestoreMeasurement | None:
        return next((m for m in self.measurements if m.resource_type == resource_type), None)

    def implied_rto_minutes(self, resource_type: str) -> int | None:
        """The RTO the last measured restore of ``resource_type`` implies: the restore plus the switch-over."""
        measured = self.measurement(resource_type)
        return None if measured is None else measured.restore_minutes + self.switchover_minutes


@dataclass(frozen=True)
class GameDaysConfig:
    """AWS FIS experiment templates for the failures the platform claims to survive (``golive:gameDays``, docs/game-days.md)."""

    enabled: bool = doc("Declare the experiment templates (they do nothing until someone starts an experiment).", True)
    zone: str = doc("The Availability Zone the zonal experiments impair; empty: the first of golive:network.availabilityZones "
                    "(where the cache primary is placed).", "")
    cache_interruption_minutes: int = doc("How long the cache primary's zone loses power, 1-720 minutes.", 10)
    network_disruption_minutes: int = doc("How long the zone's subnets lose connectivity, 1-720 minutes.", 10)
    database_failover_seconds: int = doc("The claim the database experiment tests: Multi-AZ failover completes within this.", 120)
    cache_failover_seconds: int = doc("The claim the cache experiment tests: a replica is promoted within this.", 60)
    stop_5xx_percent: float = doc("Stop condition: the load balancer's 5xx responses exceed this percent of requests for "
                                  "stopEvaluationMinutes.", 5.0)
    stop_latency_seconds: float = doc("Stop condition: the targets' p95 response time exceeds this for stopEvaluationMinutes; "
                                      "0: the catalog's smallest latency SLO threshold.", 0.0)
    stop_evaluation_minutes: int = doc("Consecutive minutes the ALB alarms must breach before an experiment stops, 1-10.", 3)
    unavailable_minutes: int = doc("Stop condition: the database has no connection, or the cache no primary, for this many "
                                   "minutes (beyond any failover budget), 1-30.", 5)
    log_retention_days: int = doc("Retention of the experiments' (KMS-encrypted) log group, days.", 365)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for name, value in (("cacheInterruptionMinutes", self.cache_interruption_minutes),
                            ("networkDisruptionMinutes", self.network_disruption_minutes)):
            if not 1 <= value <= 720:
                problems.append(Problem(f"{key}.{name}", value, "must be from 1 to 720 minutes (FIS: PT1M to PT12H)"))
        for name, value in (("databaseFailoverSeconds", self.database_failover_seconds),
                            ("cacheFailoverSeconds", self.cache_failover_seconds)):
            if value < 1:
                problems.append(Problem(f"{key}.{name}", value, "must be at least 1 second"))
        if not 0 < self.stop_5xx_percent < 100:
            problems.append(Problem(f"{key}.stop5xxPercent", self.stop_5xx_percent, "must be a percentage strictly between 0 and 100"))
        if self.stop_latency_seconds < 0:
            problems.append(Problem(f"{key}.stopLatencySeconds", self.stop_latency_seconds, "must not be negative (0: from the catalog)"))
        if not 1 <= self.stop_evaluation_minutes <= 10:
            problems.append(Problem(f"{key}.stopEvaluationMinutes", self.stop_evaluation_minutes, "must be from 1 to 10 minutes"))
        if not 1 <= self.unavailable_minutes <= 30:
            problems.append(Problem(f"{key}.unavailableMinutes", self.unavailable_minutes, "must be from 1 to 30 minutes"))
        _check_retention(f"{key}.logRetentionDays", self.log_retention_days, 90, ctx, problems)

    def impaired_zone(self, network: NetworkConfig, region: str) -> str:
        return self.zone or network.azs(region)[0]

    def latency_stop_seconds(self, services: Sequence[ServiceConfig]) -> float:
        thresholds = [s.slo.latency_threshold_seconds for s in services if s.host]
        return self.stop_latency_seconds or (min(thresholds) if thresholds else 1.0)


@cross_check
def _game_day_zone_in_network(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """A zonal experiment aimed at a zone the VPC does not use would impair nothing (and prove nothing)."""
    zone, zones = config.game_days.zone, config.network.azs(config.region)
    if zone and zone not in zones:
        problems.append(Problem(f"{NAMESPACE}:gameDays.zone", zone, f"must be one of golive:network.availabilityZones ({', '.join(zones)})"))


# --- end section: operational proof -----------------------------------------


# --------------------------------------------------------------------------- the stack


@dataclass(frozen=True)
class AwsAccount:
    """Where resources live, for ARNs and key policies without an AWS lookup."""

    account_id: str
    region: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if regional else ''}:{self.account_id}:{resource}"

    @property
    def root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    @property
    def dns_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"


@dataclass(frozen=True)
class StackConfig:
    """Everything under ``golive:`` for one stack."""

    environment: Literal["production", "staging", "development"] = doc(
        "Stack class; `production` turns on the go-live rules (3 AZs, NAT per AZ, …).", "production"
    )
    phase: Literal["infrastructure", "all"] = doc(
        "What the program declares. `infrastructure`: every AWS resource that needs no Kubernetes API (the first `up` of "
        "a new stack, from anywhere: the private API endpoint is not reachable yet). `all`: everything, run from the admin "
        "VPN or a deployer inside the VPC. See the README's first deploy.", "all")
    region: str = doc("AWS region of the stack (the explicit provider's region): a region of golive's region table "
                      "(AWS_REGIONS); `aws:region`, if the stack sets it, must be the same.", "eu-west-1")
    account_id: str = doc("AWS account id the stack deploys to (used for ARNs; no lookup at preview).", "123456789012")
    owner: str = doc("Team owning the stack: the `owner` tag.", "platform-team")
    cost_center: str = doc("Cost center: the `cost-center` tag.", "platform")
    network: NetworkConfig = doc("VPC, subnets, NAT, flow logs, endpoints.", default_factory=NetworkConfig)
    services: tuple[ServiceConfig, ...] = doc("The service catalog: each service's place on the platform.", ())
    cluster: ClusterConfig = doc("EKS cluster and its baseline.", default_factory=ClusterConfig)
    database: DatabaseConfig = doc("RDS PostgreSQL.", default_factory=DatabaseConfig)
    cache: CacheConfig = doc("ElastiCache.", default_factory=CacheConfig)
    edge: EdgeConfig = doc("Load balancer, certificate, WAF, DNS.", default_factory=EdgeConfig)
    security: SecurityConfig = doc("Account security baseline and admin VPN.", default_factory=SecurityConfig)
    monitoring: MonitoringConfig = doc("Monitoring stack.", default_factory=MonitoringConfig)
    dr: DrConfig = doc("Disaster recovery.", default_factory=DrConfig)
    backup: BackupConfig = doc("Backups.", default_factory=BackupConfig)
    delivery: DeliveryConfig = doc("Progressive delivery.", default_factory=DeliveryConfig)
    restore_testing: RestoreTestingConfig = doc("Restore tests of the backups.", default_factory=RestoreTestingConfig)
    game_days: GameDaysConfig = doc("Fault-injection experiment templates.", default_factory=GameDaysConfig)
    singletons: SingletonsConfig = doc("Account-wide singletons: create, adopt or skip each.", default_factory=SingletonsConfig)

    @property
    def kubernetes(self) -> bool:
        """Whether this phase declares the in-cluster half (everything behind the private Kubernetes API)."""
        return self.phase == "all"

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def partition(self) -> str:
        return partition_of(self.region) or "aws"

    @property
    def aws(self) -> AwsAccount:
        return AwsAccount(self.account_id, self.region, self.partition)

    @property
    def default_tags(self) -> dict[str, str]:
        return {
            "environment": self.environment,
            "project": NAMESPACE,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
        }

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        check_region(f"{NAMESPACE}:region", self.region, problems)
        if not re.fullmatch(r"\d{12}", self.account_id):
            problems.append(Problem(f"{NAMESPACE}:accountId", self.account_id, "must be a 12-digit AWS account id"))
        for name, value in (("owner", self.owner), ("costCenter", self.cost_center)):
            if not re.fullmatch(r"[A-Za-z0-9 _.:/=+\-@]{1,256}", value):
                problems.append(Problem(f"{NAMESPACE}:{name}", value, "must be a valid AWS tag value (1-256 characters)"))
        for rule in CROSS_CHECKS:
            rule(self, ctx, problems)


@dataclass(frozen=True)
class Secrets:
    """Secret config values; each is a secret ``pulumi.Output`` or None when unset."""

    values: Mapping[str, Any]

    def get(self, key: str) -> Any:
        return self.values.get(key)


def parse(raw: Mapping[str, Any], stack: str = "", *, secrets: Mapping[str, bool] | None = None,
          provider_region: str | None = None) -> StackConfig:
    """Parse and validate the ``golive:`` part of a stack config (keys without the namespace).

    ``secrets`` says, for each secret key the stack sets, whether it is a secret (``secure:``) value; None when
    the config is read outside a running program (nothing to say about secrets then). ``provider_region`` is the
    stack's ``aws:region``, if set. Raises :class:`ConfigError` listing every problem.
    """
    section_raw = {k: v for k, v in raw.items() if k not in SECRET_KEYS}
    hints = typing.get_type_hints(StackConfig)
    fields = {camel(f.name): f for f in dataclasses.fields(StackConfig)}
    # Every section's rules depend on the environment and the region: read them first.
    head = _Parse(_Ctx("production", "eu-west-1"))
    environment, region = (head.coerce(hints[name], section_raw[name], name) if name in section_raw else _MISSING
                           for name in ("environment", "region"))
    defaults = StackConfig()
    parser = _Parse(_Ctx(defaults.environment if environment is _MISSING else environment,
                         defaults.region if region is _MISSING else region))
    # Top-level keys are reported as `golive:key`, nested ones as `golive:section.key`.
    for unknown in sorted(set(section_raw) - set(fields)):
        # A misspelt secret key may hold the secret itself: never print it.
        close_to_secret = _closest(unknown, SECRET_KEYS) is not None
        parser.problems.append(Problem(f"{NAMESPACE}:{unknown}", HIDDEN if close_to_secret else _brief(raw[unknown]),
                                       _unknown_key_rule(unknown, {**fields, **SECRET_KEYS})))
    kwargs: dict[str, Any] = {}
    for camel_name, f in fields.items():
        if camel_name in section_raw:
            key = f"{NAMESPACE}:{camel_name}"
            value = parser.coerce(hints[f.name], section_raw[camel_name], key)
            if value is _MISSING:
                parser.broken.add(key)  # its default stands in; the rules' verdicts on it are dropped
            else:
                kwargs[f.name] = value
    config = StackConfig(**kwargs)
    for camel_name, f in fields.items():
        if camel_name not in section_raw:
            parser.check_tree(getattr(config, f.name), f"{NAMESPACE}:{camel_name}")
    parser.check(config, NAMESPACE)
    if provider_region is not None and provider_region != config.region:
        parser.checks.append(Problem("aws:region", provider_region, f"contradicts golive:region ({config.region}): every AWS "
                                     "resource goes through golive's own provider in golive:region; remove aws:region or "
                                     "make the two equal"))
    if secrets is not None:
        parser.checks += _secret_problems(secrets, config.production)
        parser.checks += _program_problems(config)
    problems = parser.problems + parser.checks
    if problems:
        raise ConfigError(problems, stack)
    return config


def _program_problems(config: StackConfig) -> list[Problem]:
    """What a production stack must be given because no default can hold it (as its secrets): checked when the program runs.

    The admin VPN needs the stack's own certificates; without it the private Kubernetes API has no way in for administrators.
    """
    if not config.production or config.security.vpn.enabled:
        return []
    return [Problem(f"{NAMESPACE}:security.vpn.enabled", False, "a production stack needs the admin VPN: the Kubernetes API is "
                    "private and the VPN is the administrators' way to it; enable it with serverCertificateArn and "
                    "clientRootCertificateArn (ACM certificates of this region)")]


def _secret_problems(secrets: Mapping[str, bool], production: bool) -> list[Problem]:
    """Secret keys hold ``secure:`` values only; a production stack sets every one (its alerts page someone)."""
    problems = []
    for key, text in SECRET_KEYS.items():
        command = f"`pulumi config set --secret {NAMESPACE}:{key} <value>`"
        if key not in secrets:
            if production:
                problems.append(Problem(f"{NAMESPACE}:{key}", _MISSING, f"a production stack needs the {text}; set it with {command}"))
        elif not secrets[key]:
            problems.append(Problem(f"{NAMESPACE}:{key}", HIDDEN, f"is set in plain text; a secret is only ever a `secure:` "
                                    f"value: remove it from the stack file and set it with {command}"))
    return problems


def raw_from_pulumi() -> tuple[dict[str, Any], dict[str, bool]]:
    """Every ``golive:`` key the running program was given, as given, and which secret keys are secrets.

    The secret keys' values never enter the raw config: only whether each is set, and as a secret.
    """
    import pulumi.runtime.config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    secret = set(runtime_config.get_config_secret_keys_env())
    raw: dict[str, Any] = {}
    secrets: dict[str, bool] = {}
    prefix = f"{NAMESPACE}:"
    for full_key in sorted(keys):
        if not full_key.startswith(prefix):
            continue
        name = full_key[len(prefix):]
        if name in SECRET_KEYS:
            secrets[name] = runtime_config.is_config_secret(full_key) or full_key in secret
            continue
        # Scalars arrive as strings and objects as JSON strings, as the CLI passes them;
        # each field's type decides how its string is read.
        raw[name] = runtime_config.get_config(full_key)
    return raw, secrets


def load() -> tuple[StackConfig, Secrets]:
    """Read and validate the running stack's config; fail with one readable message.

    Used by ``__main__.py``: under the CLI a ``pulumi.RunError`` prints without a traceback.
    """
    import pulumi
    import pulumi.runtime.config as runtime_config

    raw, given_secrets = raw_from_pulumi()
    try:
        config = parse(raw, pulumi.get_stack(), secrets=given_secrets, provider_region=runtime_config.get_config("aws:region"))
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None
    ns = pulumi.Config(NAMESPACE)
    secrets = Secrets({key: ns.get_secret(key) for key in SECRET_KEYS})
    return config, secrets


def reference() -> list[tuple[str, str, str, Any]]:
    """(key, type, documentation, default) for every setting: the source of docs/config.md."""
    rows: list[tuple[str, str, str, Any]] = []

    def walk(cls: Any, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            tp = hints[f.name]
            key = f"{prefix}{camel(f.name)}"
            if dataclasses.is_dataclass(tp):
                walk(tp, key + ".")
                continue
            item = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else None
            if item is not None and dataclasses.is_dataclass(item):
                rows.append((key, "a list of objects", f.metadata.get("doc", ""), "[]"))
                walk(item, key + "[].")
                continue
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else "(required)")
            rows.append((key, _type_name(tp), f.metadata.get("doc", ""), default))

    walk(StackConfig, f"{NAMESPACE}:")
    for key, text in SECRET_KEYS.items():
        rows.append((f"{NAMESPACE}:{key}", "secret string", f"{text[0].upper()}{text[1:]}; a `secure:` value (`pulumi config set "
                     f"--secret`), required in production.", "(unset)"))
    return rows


def render_reference() -> str:
    """docs/config.md: every `golive:` key with its type, default and documentation."""
    lines = [
        "# Configuration reference",
        "",
        "Generated from `components/config.py` by `make docs` (`python -m components.config`); "
        "a test keeps it current. Keys are set in `Pulumi.<stack>.yaml` under `config:`; unknown keys are",
        "rejected, and every problem is reported at once with the key, the value given and the rule.",
        "",
        "| Key | Type | Default | Description |",
        "|---|---|---|---|",
    ]
    for key, type_name, text, default in reference():
        shown = json.dumps(list(default) if isinstance(default, tuple) else default, default=str)
        if dataclasses.is_dataclass(default):
            shown = "(object)"
        shown = shown.replace("|", "\\|")
        lines.append(f"| `{key}` | {type_name} | `{shown}` | {text.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import pathlib
    import sys

    target = pathlib.Path(__file__).resolve().parent.parent / "docs" / "config.md"
    target.write_text(render_reference())
    print(f"wrote {target}", file=sys.stderr)
