"""The service catalog (``golive:services``), for components/services.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .alerting import ServiceAlertingConfig, ServiceMetricsConfig
from .parser import NAMESPACE, Problem, _Ctx, cross_check, doc, duration_seconds

if TYPE_CHECKING:
    from .stack import StackConfig


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
