"""Progressive delivery (``golive:delivery``), for components/delivery.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .edge import _host_in_domain
from .parser import _MISSING, EXACT_VERSION, NAMESPACE, Problem, _Ctx, cross_check, doc
from .services import _DNS_LABEL, _HOST_NAME

if TYPE_CHECKING:
    from .stack import StackConfig


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
        if not EXACT_VERSION.fullmatch(self.chart_version):
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
