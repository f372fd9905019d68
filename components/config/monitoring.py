"""The monitoring stack (``golive:monitoring``): charts, alerting, logs, tracing, for components/monitoring, logging, tracing."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .alerting import SLO_WINDOW, CpuCriticalTier, CpuWarningTier, MemoryCriticalTier, MemoryWarningTier, _tier, _two_tiers
from .database import _check_rotation_days
from .parser import (
    EXACT_VERSION,
    LOG_RETENTION_DAYS,
    NAMESPACE,
    PRODUCTION_LOG_RETENTION_DAYS,
    Problem,
    _Ctx,
    camel,
    cross_check,
    doc,
    duration_seconds,
)
from .services import _DNS_LABEL, RESERVED_NAMESPACES

if TYPE_CHECKING:
    from .stack import StackConfig


_MON_SIZE = re.compile(r"(\d+)(B|KB|MB|GB|TB|PB)")
_MON_QUANTITY = re.compile(r"(\d+)(Gi|Ti)")
_MON_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,63}")
_MON_SMARTHOST = re.compile(r"[a-z0-9.-]+\.[a-z]{2,63}:\d{1,5}")
_MON_SIZE_BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "PB": 1024**5}

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
            if not EXACT_VERSION.fullmatch(value):
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
