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
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

NAMESPACE = "golive"

ENVIRONMENTS = ("production", "staging", "development")

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
        shown = "(not set)" if self.value is _MISSING else json.dumps(self.value, default=str)
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


class _Ctx:
    """What cross-field rules need: the environment and the region."""

    def __init__(self, environment: str, region: str):
        self.environment = environment
        self.region = region

    @property
    def production(self) -> bool:
        return self.environment == "production"


def _coerce(tp: Any, value: Any, key: str, problems: list[Problem]) -> Any:
    """Convert a raw config value to ``tp`` or record why it cannot be."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(args[0], value, key, problems)
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
            problems.append(Problem(key, value, f"must be {_type_name(tp)}"))
            return _MISSING
        item_tp = typing.get_args(tp)[0]
        items = [_coerce(item_tp, v, f"{key}[{i}]", problems) for i, v in enumerate(value)]
        return _MISSING if any(i is _MISSING for i in items) else tuple(items)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if not isinstance(value, dict):
            problems.append(Problem(key, value, "must be an object"))
            return _MISSING
        return _parse_dataclass(tp, value, key, problems)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        problems.append(Problem(key, value, "must be true or false"))
        return _MISSING
    if tp is int:
        if isinstance(value, bool):
            problems.append(Problem(key, value, "must be an integer"))
            return _MISSING
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        problems.append(Problem(key, value, "must be an integer"))
        return _MISSING
    if tp is float:
        if isinstance(value, bool):
            problems.append(Problem(key, value, "must be a number"))
            return _MISSING
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        problems.append(Problem(key, value, "must be a number"))
        return _MISSING
    if tp is str:
        if isinstance(value, str):
            return value
        problems.append(Problem(key, value, "must be a string"))
        return _MISSING
    raise TypeError(f"unsupported config field type {tp!r} for {key}")


def _parse_dataclass(cls: Any, raw: Mapping[str, Any], key: str, problems: list[Problem]) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {camel(f.name): f for f in dataclasses.fields(cls) if f.init}
    for unknown in sorted(set(raw) - set(fields)):
        suggestion = _closest(unknown, fields)
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        problems.append(
            Problem(f"{key}.{unknown}", raw[unknown], f"unknown key{hint}; known keys: {', '.join(sorted(fields))}")
        )
    kwargs: dict[str, Any] = {}
    broken = False  # unknown keys are reported but do not stop the rest from being checked
    for camel_name, f in fields.items():
        if camel_name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append(Problem(f"{key}.{camel_name}", _MISSING, f"is required ({f.metadata.get('doc', '')})"))
                broken = True
            continue
        value = _coerce(hints[f.name], raw[camel_name], f"{key}.{camel_name}", problems)
        if value is _MISSING:
            broken = True
            continue
        kwargs[f.name] = value
    if broken:
        return _MISSING
    return cls(**kwargs)


def _closest(word: str, candidates: Mapping[str, Any]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return match[0] if match else None


def _validate_tree(obj: Any, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
    """Run every ``validate`` hook, depth first, with the key path of each object."""
    if isinstance(obj, tuple):
        for i, item in enumerate(obj):
            _validate_tree(item, f"{key}[{i}]", ctx, problems)
        return
    if not dataclasses.is_dataclass(obj):
        return
    for f in dataclasses.fields(obj):
        _validate_tree(getattr(obj, f.name), f"{key}.{camel(f.name)}", ctx, problems)
    hook = getattr(obj, "validate", None)
    if hook is not None:
        hook(key, ctx, problems)


def _networks_overlap(a: ipaddress.IPv4Network, b: ipaddress.IPv4Network) -> bool:
    return a.overlaps(b)


def parse_cidr(key: str, value: str, problems: list[Problem]) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        problems.append(Problem(key, value, f"must be an IPv4 CIDR block with no host bits set ({exc})"))
        return None


LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)

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
        for az in azs:
            if not re.fullmatch(re.escape(ctx.region) + r"[a-z]", az):
                problems.append(Problem(az_key, az, f"must be an availability zone of region {ctx.region} (e.g. {ctx.region}a)"))
        if ctx.production and self.nat_gateways != "perAz":
            problems.append(Problem(f"{key}.natGateways", self.nat_gateways, "a production stack needs one NAT gateway per AZ (perAz)"))
        if self.flow_log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(Problem(f"{key}.flowLogRetentionDays", self.flow_log_retention_days,
                                    f"must be a CloudWatch retention value: {', '.join(map(str, LOG_RETENTION_DAYS))}"))
        elif ctx.production and self.flow_log_retention_days < 90:
            problems.append(Problem(f"{key}.flowLogRetentionDays", self.flow_log_retention_days, "production keeps flow logs at least 90 days"))
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

# --- section: catalog (issue 4) ---------------------------------------------


@dataclass(frozen=True)
class SloConfig:
    """A service's objectives, in the style of the SRE workbook."""

    availability: float = doc("Availability objective in percent over 30 days, in (0, 100).", 99.9)
    latency_threshold_seconds: float = doc("Latency threshold of the latency SLI, in seconds.", 1.0)
    latency_target: float = doc("Percent of requests that must be faster than the threshold, in (0, 100).", 95.0)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for name in ("availability", "latencyTarget"):
            value = getattr(self, "latency_target" if name == "latencyTarget" else name)
            if not 0 < value < 100:
                problems.append(Problem(f"{key}.{name}", value, "must be a percentage strictly between 0 and 100"))
        if self.latency_threshold_seconds <= 0:
            problems.append(Problem(f"{key}.latencyThresholdSeconds", self.latency_threshold_seconds, "must be positive"))


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


# --- end section: catalog ---------------------------------------------------

# --- section: cluster (issue 4) ---------------------------------------------


@dataclass(frozen=True)
class ClusterConfig:
    """EKS cluster, node group, add-ons, in-cluster baseline (``golive:cluster``)."""


# --- end section: cluster ---------------------------------------------------

# --- section: data (issue 3) ------------------------------------------------


@dataclass(frozen=True)
class DatabaseConfig:
    """RDS PostgreSQL (``golive:database``)."""


@dataclass(frozen=True)
class CacheConfig:
    """ElastiCache Redis/Valkey (``golive:cache``)."""


# --- end section: data ------------------------------------------------------

# --- section: edge (issue 5) ------------------------------------------------


@dataclass(frozen=True)
class EdgeConfig:
    """ALB, ACM, WAF, DNS (``golive:edge``)."""


@dataclass(frozen=True)
class SecurityConfig:
    """CloudTrail, GuardDuty, Security Hub, admin VPN (``golive:security``)."""


# --- end section: edge ------------------------------------------------------

# --- section: monitoring (issue 6) ------------------------------------------


@dataclass(frozen=True)
class MonitoringConfig:
    """Prometheus, Alertmanager, Grafana, exporters, logs (``golive:monitoring``)."""


# --- end section: monitoring ------------------------------------------------

# --- section: backup (issue 7) ----------------------------------------------


@dataclass(frozen=True)
class DrConfig:
    """Disaster-recovery region (``golive:dr``)."""


@dataclass(frozen=True)
class BackupConfig:
    """Backup buckets and AWS Backup plans (``golive:backup``)."""


# --- end section: backup ----------------------------------------------------

# --- section: delivery (issue 10) -------------------------------------------


@dataclass(frozen=True)
class DeliveryConfig:
    """Argo Rollouts progressive delivery (``golive:delivery``)."""


# --- end section: delivery --------------------------------------------------


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
    region: str = doc("AWS region of the stack (the explicit provider's region).", "eu-west-1")
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

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

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
        if not re.fullmatch(r"(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-[a-z]+-\d", self.region):
            problems.append(Problem(f"{NAMESPACE}:region", self.region, "must be an AWS region name such as eu-west-1"))
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


def parse(raw: Mapping[str, Any], stack: str = "") -> StackConfig:
    """Parse and validate the ``golive:`` part of a stack config (keys without the namespace).

    Raises :class:`ConfigError` listing every problem.
    """
    problems: list[Problem] = []
    section_raw = {k: v for k, v in raw.items() if k not in SECRET_KEYS}
    # Top-level keys are reported as `golive:key`, nested ones as `golive:section.key`.
    hints = typing.get_type_hints(StackConfig)
    fields = {camel(f.name): f for f in dataclasses.fields(StackConfig)}
    for unknown in sorted(set(section_raw) - set(fields)):
        suggestion = _closest(unknown, {**fields, **SECRET_KEYS})
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        problems.append(Problem(f"{NAMESPACE}:{unknown}", raw[unknown], f"unknown key{hint}; known keys: {', '.join(sorted([*fields, *SECRET_KEYS]))}"))
    kwargs: dict[str, Any] = {}
    unparsed: set[str] = set()
    for camel_name, f in fields.items():
        if camel_name in section_raw:
            value = _coerce(hints[f.name], section_raw[camel_name], f"{NAMESPACE}:{camel_name}", problems)
            if value is _MISSING:
                unparsed.add(f.name)
            else:
                kwargs[f.name] = value
    config = StackConfig(**kwargs)
    # Rules run on every section that parsed, so one round trip shows all problems;
    # a section with a type error is skipped rather than checked as its defaults.
    ctx = _Ctx(config.environment, config.region)
    for f in dataclasses.fields(config):
        if f.name not in unparsed:
            _validate_tree(getattr(config, f.name), f"{NAMESPACE}:{camel(f.name)}", ctx, problems)
    config.validate(NAMESPACE, ctx, problems)
    if problems:
        raise ConfigError(problems, stack)
    return config


def raw_from_pulumi() -> dict[str, Any]:
    """Every ``golive:`` key the running program was given, as given."""
    import pulumi.runtime.config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw: dict[str, Any] = {}
    prefix = f"{NAMESPACE}:"
    for full_key in sorted(keys):
        if not full_key.startswith(prefix):
            continue
        name = full_key[len(prefix):]
        if name in SECRET_KEYS:
            raw[name] = "[secret]"
            continue
        # Scalars arrive as strings and objects as JSON strings, as the CLI passes them;
        # each field's type decides how its string is read.
        raw[name] = runtime_config.get_config(full_key)
    return raw


def load() -> tuple[StackConfig, Secrets]:
    """Read and validate the running stack's config; fail with one readable message.

    Used by ``__main__.py``: under the CLI a ``pulumi.RunError`` prints without a traceback.
    """
    import pulumi

    try:
        config = parse(raw_from_pulumi(), pulumi.get_stack())
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
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else "(required)")
            rows.append((key, _type_name(tp), f.metadata.get("doc", ""), default))

    walk(StackConfig, f"{NAMESPACE}:")
    for key, text in SECRET_KEYS.items():
        rows.append((f"{NAMESPACE}:{key}", "secret string", text, "(unset)"))
    return rows
