"""Alert tiers: the knobs of each alert rule (threshold, hold, severity, priority) and a service's scrape settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .parser import Problem, _Ctx, doc, duration_seconds

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
