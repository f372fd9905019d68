"""Progressive delivery: Argo Rollouts gates every release on the service's own SLOs.

Per catalog service whose ``delivery`` is ``canary`` or ``blueGreen`` the platform
declares, in the service's namespace:

- an ``AnalysisTemplate`` ``<service>-slo`` whose two Prometheus metrics are the
  service's SLIs from the same catalog entry as its SLO rules (components/monitoring/
  rules.py): the availability error ratio must stay at or below ``maxBurnRate`` x the
  error budget, and the latency percentile of the SLO (p95 for a 95% target) at or
  below the SLO's latency threshold. Both are measured on the pods of the new version
  only (``pod=~"<service>-<new hash>-.+"``), so a bad canary at 10% is not diluted by
  the stable pods;
- a ``Rollout`` named after the service with ``workloadRef`` to the service's own
  Deployment: a release only changes the Deployment's image, Argo Rollouts does the
  rest. Canary: the configured steps (weights, soaks, analysis steps) with traffic
  routing through the ALB; blue-green: a preview host, pre- and post-promotion analysis.

Traffic splitting (docs/delivery.md explains the choice): Pulumi owns the ALB and its
listener rules (the AWS Load Balancer Controller only registers pods through
TargetGroupBindings and cannot create or change load balancers), so Argo Rollouts'
built-in ALB router, which edits an Ingress that the controller turns into its own
ALB, cannot be used. Each canary service's listener rule instead forwards to two
target groups (stable 100, canary 0; Pulumi ignores later weight changes) and the
traffic-router plugin ``golive/alb-listener-rule`` (delivery/alb-traffic-router, Go) sets the weights
with ``elasticloadbalancing:ModifyRule`` after reading the rule with ``DescribeRules``;
the controller's IRSA role may call only those, and modify only rules tagged
``golive:delivery = canary``, which the Edge sets on exactly those. Canary weights are
thus real ALB weights. The controller downloads the plugin's release and checks its
SHA-256 (``golive:delivery.trafficRouterPlugin``); each canary Rollout carries the
plugin's configuration: the rule, the two target groups and the region.

The controller is a pinned Helm v3 release; Prometheus scrapes it through a
ServiceMonitor (``honorLabels``, so ``namespace`` and ``name`` are the Rollout's), and
three alerts (RolloutAborted, RolloutDegraded, AnalysisRunFailed) are declared with
the monitoring rule model, each with its promtool scenarios and a runbook page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.config import (
    TRAFFIC_ROUTER_VERSION,
    AwsAccount,
    CanaryStep,
    DeliveryConfig,
    ServiceConfig,
    StackConfig,
    delivery_seconds,
)
from components.edge import CANARY_RULE_TAG
from components.helm import chart_release
from components.irsa import service_account_role
from components.monitoring import rules
from components.monitoring.component import STACK_RELEASE

CHART_REPO = "https://argoproj.github.io/argo-helm"
RELEASE_NAME = "argo-rollouts"
SERVICE_ACCOUNT = "argo-rollouts"
METRICS_PORT = 8090
PLUGIN_NAME = "golive/alb-listener-rule"
ROLLOUTS_API = "argoproj.io/v1alpha1"
RULE_API = "monitoring.coreos.com/v1"
HASH_ARG = "new-hash"
SERVICE_LABEL = "golive.io/service"
APP_LABEL = "app.kubernetes.io/name"
POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


def prometheus_address(monitoring_namespace: pulumi.Input[str]) -> pulumi.Output[str]:
    """In-cluster URL of the kube-prometheus-stack Prometheus the monitoring component installs."""
    return pulumi.Output.concat("http://", STACK_RELEASE, "-prometheus.", monitoring_namespace, ".svc.cluster.local:9090")


def template_name(service: ServiceConfig) -> str:
    return f"{service.name}-slo"


def new_service_name(service: ServiceConfig) -> str:
    """The Service Argo Rollouts points at the new version: ``<svc>-canary`` or ``<svc>-preview``."""
    return f"{service.name}-{'preview' if service.delivery == 'blueGreen' else 'canary'}"


# --------------------------------------------------------------------------- analysis


def _scope_to_new_pods(query: str, service: ServiceConfig) -> str:
    """Add the new version's pods to every selector of ``service`` in ``query``."""
    selector = f'service="{service.name}"'
    scoped = query.replace(selector, f'{selector},pod=~"{service.name}-{{{{args.{HASH_ARG}}}}}-.+"')
    if scoped.count("pod=~") != query.count(selector) or not scoped.count("pod=~"):
        raise ValueError(f"{service.name}: cannot scope {query!r} to the new pods")
    return scoped


def error_ratio_threshold(service: ServiceConfig, cfg: DeliveryConfig) -> float:
    """The availability error ratio a measurement may reach: ``maxBurnRate`` x the SLO's error budget."""
    return round(cfg.max_burn_rate * rules.budget_of(rules.objectives(service)["availability"]), 12)


def analysis_queries(service: ServiceConfig, cfg: DeliveryConfig) -> dict[str, tuple[str, float]]:
    """Metric name -> (PromQL with ``{{args.new-hash}}``, largest passing value), from the service's SLO.

    The availability query is the SLO rules' own SLI expression over one analysis
    interval; the latency one is the SLO's percentile, which is at or below the
    threshold exactly when the latency SLI's error ratio is within its budget
    (the threshold is a bucket boundary, docs/metrics.md).
    """
    window = cfg.analysis_interval
    availability = rules.sli_expressions(service, window)["availability"]
    quantile = rules.objectives(service)["latency"]
    latency = (f"histogram_quantile({quantile!r},\n"
               f'  sum by (le) (rate(http_request_duration_seconds_bucket{{service="{service.name}"}}[{window}])))')
    return {
        "error-ratio": (_scope_to_new_pods(availability, service), error_ratio_threshold(service, cfg)),
        f"latency-p{rules.objective_percent(service, 'latency').replace('.', '_')}": (
            _scope_to_new_pods(latency, service), float(service.slo.latency_threshold_seconds)),
    }


def analysis_template_spec(service: ServiceConfig, cfg: DeliveryConfig, prometheus: pulumi.Input[str]) -> dict:
    """The AnalysisTemplate spec: each metric passes at or below its limit and fails above it.

    No data (no request reached the new pods) or NaN meets neither condition: the
    measurement is Inconclusive and the rollout pauses for a person instead of
    promoting an untested version.
    """
    metrics = []
    for metric, (query, limit) in analysis_queries(service, cfg).items():
        metrics.append({
            "name": metric,
            "interval": cfg.analysis_interval,
            "count": cfg.analysis_count,
            "failureLimit": cfg.analysis_failure_limit,
            "successCondition": f"len(result) > 0 && result[0] <= {limit!r}",
            "failureCondition": f"len(result) > 0 && result[0] > {limit!r}",
            "provider": {"prometheus": {"address": prometheus, "query": query}},
        })
    return {"args": [{"name": HASH_ARG}], "metrics": metrics}


# --------------------------------------------------------------------------- the Rollout


def _analysis_ref(service: ServiceConfig) -> dict:
    return {
        "templates": [{"templateName": template_name(service)}],
        "args": [{"name": HASH_ARG, "valueFrom": {"podTemplateHashValue": "Latest"}}],
    }


def _step(step: CanaryStep, service: ServiceConfig) -> dict:
    if step.set_weight is not None:
        return {"setWeight": step.set_weight}
    if step.pause:
        return {"pause": {"duration": step.pause}}
    return {"analysis": _analysis_ref(service)}


def analysis_seconds(cfg: DeliveryConfig) -> int:
    """How long one analysis run lasts: ``analysisCount`` measurements, ``analysisInterval`` apart."""
    return cfg.analysis_count * (delivery_seconds(cfg.analysis_interval) or 0)


def rollout_strategy(service: ServiceConfig, cfg: DeliveryConfig, routing: Mapping[str, Any] | None) -> dict:
    """``spec.strategy`` of the service's Rollout.

    ``routing`` (listenerRuleArn, stableTargetGroupArn, canaryTargetGroupArn, region) is
    the plugin's configuration; None for a service the ALB does not route (internal), whose
    canary share is then the replica ratio.
    """
    if service.delivery == "blueGreen":
        return {
            "blueGreen": {
                "activeService": service.name,
                "previewService": new_service_name(service),
                "autoPromotionEnabled": True,
                "prePromotionAnalysis": _analysis_ref(service),
                "postPromotionAnalysis": _analysis_ref(service),
                # The previous version stays up until post-promotion analysis can no longer send traffic back to it.
                "scaleDownDelaySeconds": analysis_seconds(cfg) + 60,
            }
        }
    canary: dict[str, Any] = {}
    if routing is not None:
        canary.update({
            "stableService": service.name,
            "canaryService": new_service_name(service),
            "trafficRouting": {"plugins": {PLUGIN_NAME: dict(routing)}},
        })
    canary["steps"] = [_step(step, service) for step in cfg.canary_steps]
    return {"canary": canary}


def rollout_spec(service: ServiceConfig, cfg: DeliveryConfig, routing: Mapping[str, Any] | None) -> dict:
    """The Rollout wraps the service's Deployment (``workloadRef``): the Deployment stays its manifest."""
    return {
        "replicas": service.min_replicas,
        "revisionHistoryLimit": 5,
        "progressDeadlineSeconds": cfg.progress_deadline_seconds,
        "progressDeadlineAbort": True,
        "selector": {"matchLabels": {APP_LABEL: service.name}},
        "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name, "scaleDown": "onsuccess"},
        "strategy": rollout_strategy(service, cfg, routing),
    }


# --------------------------------------------------------------------------- the controller


def controller_policy(account: AwsAccount, canary_rules: bool) -> dict:
    """What the plugin calls, nothing more: ``DescribeRules`` (SetWeight reads the rule it rewrites, VerifyWeight
    reads it back) and ``ModifyRule`` on the canary services' rules.

    The rules are picked by their tag (``golive:delivery = canary``, set by the Edge on exactly those rules)
    rather than by ARN: the policy needs no rule to exist first. ``Describe*`` calls take no resource-level
    permissions, hence ``*``.
    """
    key, value = CANARY_RULE_TAG
    statements: list[dict] = [
        {
            "Sid": "ReadListenerRules",
            "Effect": "Allow",
            "Action": "elasticloadbalancing:DescribeRules",
            "Resource": "*",
        }
    ]
    if canary_rules:
        statements.append({
            "Sid": "SetCanaryWeights",
            "Effect": "Allow",
            "Action": "elasticloadbalancing:ModifyRule",
            "Resource": account.arn("elasticloadbalancing", "listener-rule/app/*"),
            "Condition": {"StringEquals": {f"aws:ResourceTag/{key}": value}},
        })
    return {"Version": "2012-10-17", "Statement": statements}


def chart_values(cfg: DeliveryConfig, role_arn: pulumi.Input[str]) -> dict:
    """argo-rollouts chart values: HA controller, metrics Service, IRSA, only the plugin golive uses.

    The chart mounts an emptyDir at the controller's plugin-bin, so the download works with a read-only root file
    system; the controller runs the plugin only if the download has the configured SHA-256.
    """
    plugin = cfg.traffic_router_plugin
    plugins = [{"name": PLUGIN_NAME, "location": plugin.location, "sha256": plugin.sha256}]
    return {
        "fullnameOverride": RELEASE_NAME,
        "installCRDs": True,
        "keepCRDs": True,
        "controller": {
            "replicas": 2,
            "pdb": {"enabled": True, "minAvailable": 1},
            "metrics": {"enabled": True, "service": {"port": METRICS_PORT, "portName": "metrics"}},
            "trafficRouterPlugins": plugins,
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                           "whenUnsatisfiable": "ScheduleAnyway"}],
        },
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT, "annotations": {"eks.amazonaws.com/role-arn": role_arn}},
        # Only the built-in routers' RBAC would be added; golive routes through its plugin and the AWS API.
        "providerRBAC": {"enabled": False},
        "dashboard": {"enabled": False},
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                     "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
    }


def service_monitor_spec(namespace: str) -> dict:
    """Scrape the controller; ``honorLabels`` keeps the metrics' own ``namespace``/``name`` (the Rollout's)."""
    return {
        "namespaceSelector": {"matchNames": [namespace]},
        "selector": {"matchLabels": {"app.kubernetes.io/component": "rollouts-controller",
                                     "app.kubernetes.io/instance": RELEASE_NAME}},
        "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s", "honorLabels": True}],
    }


# --------------------------------------------------------------------------- alerts


def alert_group() -> rules.RuleGroup:
    """Alerts on the controller's ``rollout_info`` and ``analysis_run_info`` (one series per object, value 1, the phase as a label)."""
    target = 'job="argo-rollouts-metrics",instance="10.20.40.10:8090",pod="argo-rollouts-6c9f7b8d4-q2w3e"'
    rollout = f'{target},namespace="trading-api",name="trading-api",strategy="canary",traffic_router="Plugin"'
    rollout_labels = {"namespace": "trading-api", "name": "trading-api"}
    run = f'{target},namespace="trading-api",name="trading-api-6f7d9c8b5-2"'
    run_labels = {"namespace": "trading-api", "name": "trading-api-6f7d9c8b5-2"}

    def phases(metric: str, labels: str, *spans: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        return tuple((f'{metric}{{{labels},phase="{phase}"}}', values) for phase, values in spans)

    failed_run = '{phase=~"Failed|Error"}'
    return rules.RuleGroup("golive-delivery", (
        rules.Alert(
            name="RolloutAborted",
            expr='max by (namespace, name) (rollout_info{phase="Abort"}) > 0',
            for_="1m",
            severity="warning",
            service="{{ $labels.namespace }}",
            summary="Rollout {{ $labels.namespace }}/{{ $labels.name }} was aborted and rolled back",
            description=("Argo Rollouts aborted the release of {{ $labels.namespace }}/{{ $labels.name }} (an analysis failed, the "
                         "progress deadline passed, or someone aborted it): all traffic is back on the stable version and the new "
                         "version is not released ({{ $value | humanize }} aborted rollout)."),
            runbook="RolloutAborted",
            fires=rules.Scenario("progressing, then aborted",
                                 phases("rollout_info", rollout, ("Progressing", "1x5 _x10"), ("Abort", "_x6 1x9")),
                                 at="10m", firing=(rules.Firing(rollout_labels, 1),)),
            quiet=rules.Scenario("paused, then completed",
                                 phases("rollout_info", rollout, ("Paused", "1x5 _x10"), ("Completed", "_x6 1x9")), at="10m"),
        ),
        rules.Alert(
            name="RolloutDegraded",
            expr='max by (namespace, name, phase) (rollout_info{phase=~"Error|Timeout|InvalidSpec"}) > 0',
            for_="10m",
            severity="critical",
            service="{{ $labels.namespace }}",
            summary="Rollout {{ $labels.namespace }}/{{ $labels.name }} is stuck ({{ $labels.phase }})",
            description=("Argo Rollouts cannot reconcile {{ $labels.namespace }}/{{ $labels.name }} (phase {{ $labels.phase }}) for "
                         "10 minutes: traffic may stay split between two versions and no release can progress "
                         "({{ $value | humanize }} degraded rollout)."),
            runbook="RolloutDegraded",
            fires=rules.Scenario("an error for 15 minutes", phases("rollout_info", rollout, ("Error", "1x20")), at="15m",
                                 firing=(rules.Firing({**rollout_labels, "phase": "Error"}, 1),)),
            quiet=rules.Scenario("an error that clears after 5 minutes",
                                 phases("rollout_info", rollout, ("Error", "1x5 _x15"), ("Completed", "_x6 1x14")), at="15m"),
        ),
        rules.Alert(
            name="AnalysisRunFailed",
            expr=(f"max by (namespace, name, phase) (analysis_run_info{failed_run})\n"
                  f"  unless max by (namespace, name, phase) (analysis_run_info{failed_run} offset 1h)"),
            severity="warning",
            service="{{ $labels.namespace }}",
            summary="Analysis {{ $labels.namespace }}/{{ $labels.name }} {{ $labels.phase }}",
            description=("The SLO analysis {{ $labels.name }} of a {{ $labels.namespace }} release ended {{ $labels.phase }} within "
                         "the last hour: the new version broke its error-ratio or latency limit, or Prometheus could not be "
                         "queried ({{ $value | humanize }} run)."),
            runbook="AnalysisRunFailed",
            fires=rules.Scenario("running, then failed", phases("analysis_run_info", run, ("Running", "1x5 _x10"), ("Failed", "_x6 1x9")),
                                 at="10m", firing=(rules.Firing({**run_labels, "phase": "Failed"}, 1),)),
            quiet=rules.Scenario("failed two hours ago, another run successful",
                                 (*phases("analysis_run_info", run, ("Failed", "1x40")),
                                  *phases("analysis_run_info", f'{target},namespace="trading-api",name="trading-api-7c8d9e0f1-1"',
                                          ("Successful", "1x40"))),
                                 at="3h", interval="5m"),
        ),
    ))


# --------------------------------------------------------------------------- the component


@dataclass(frozen=True)
class ServiceRouting:
    """The ALB side of a canary service: its listener rule and the two target groups the plugin weighs."""

    listener_rule_arn: pulumi.Input[str]
    stable_target_group_arn: pulumi.Input[str]
    canary_target_group_arn: pulumi.Input[str]

    def plugin_config(self, region: str) -> dict[str, pulumi.Input[str]]:
        """The plugin's configuration in the Rollout: exactly the fields it accepts (it refuses any other)."""
        return {
            "listenerRuleArn": self.listener_rule_arn,
            "stableTargetGroupArn": self.stable_target_group_arn,
            "canaryTargetGroupArn": self.canary_target_group_arn,
            "region": region,
        }


@dataclass(frozen=True)
class DeliveryArgs:
    config: DeliveryConfig
    services: Sequence[ServiceConfig]
    account: AwsAccount
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    prometheus_address: pulumi.Input[str]
    monitoring_namespace: str = "monitoring"
    runbook_base_url: str = "https://github.com/golive-platform/golive/blob/main/docs/runbooks"
    catalog: Sequence[pulumi.Resource] = ()
    """What creates the services' namespaces (the ServiceCatalog): Rollouts and templates come after it."""
    routing: Mapping[str, ServiceRouting] = field(default_factory=dict)
    """Canary services the ALB routes; the others' canary share is the replica ratio."""
    monitoring: Sequence[pulumi.Resource] = ()
    """What installs the PrometheusRule and ServiceMonitor CRDs (the monitoring stack)."""


class Delivery(pulumi.ComponentResource):
    """Argo Rollouts, its metrics and alerts, and per service an SLO AnalysisTemplate and a Rollout."""

    def __init__(self, name: str, args: DeliveryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:delivery:Delivery", name, None, opts)
        cfg = args.config
        ns = cfg.namespace
        child = pulumi.ResourceOptions(parent=self)
        labels = {"app.kubernetes.io/part-of": "golive"}

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-argo-rollouts", metadata={"name": ns, "labels": {**labels, **POD_SECURITY}}, opts=child
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        k8s.networking.v1.NetworkPolicy(
            f"{name}-argo-rollouts-default-deny",
            metadata={"name": "default-deny", "namespace": ns, "labels": labels},
            spec={"podSelector": {}, "policyTypes": ["Ingress"]},
            opts=in_ns,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-argo-rollouts-allow-metrics",
            metadata={"name": "allow-metrics", "namespace": ns, "labels": labels},
            spec={
                "podSelector": {"matchLabels": {"app.kubernetes.io/component": "rollouts-controller"}},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": args.monitoring_namespace}}}],
                    "ports": [{"port": METRICS_PORT, "protocol": "TCP"}],
                }],
            },
            opts=in_ns,
        )

        self.role = service_account_role(
            f"{name}-argo-rollouts",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer=args.oidc_issuer,
            namespace=ns,
            service_account=SERVICE_ACCOUNT,
            policy_documents=[controller_policy(args.account, bool(args.routing))],
            account=args.account,
            opts=child,
        )
        self.release = chart_release(
            f"{name}-argo-rollouts",
            release=RELEASE_NAME,
            chart="argo-rollouts",
            version=cfg.chart_version,
            repo=CHART_REPO,
            namespace=ns,
            atomic=True,
            values=chart_values(cfg, self.role.arn),
            opts=in_ns,
        )
        monitored = pulumi.ResourceOptions(parent=self, depends_on=[self.release, *args.monitoring])
        stack_labels = {"release": STACK_RELEASE, **labels}
        self.service_monitor = k8s.apiextensions.CustomResource(
            f"{name}-argo-rollouts-servicemonitor",
            api_version=RULE_API,
            kind="ServiceMonitor",
            metadata={"name": RELEASE_NAME, "namespace": ns, "labels": stack_labels},
            spec=service_monitor_spec(ns),
            opts=monitored,
        )
        self.alerts = alert_group()
        self.prometheus_rule = k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version=RULE_API,
            kind="PrometheusRule",
            metadata={"name": self.alerts.name, "namespace": ns, "labels": stack_labels},
            spec={"groups": [rules.group_dict(self.alerts, args.runbook_base_url)]},
            opts=monitored,
        )

        self.analysis_templates: dict[str, k8s.apiextensions.CustomResource] = {}
        self.rollouts: dict[str, k8s.apiextensions.CustomResource] = {}
        # Per canary service the ALB routes: the plugin's configuration in its Rollout (also what a manual rollback needs).
        self.plugin_configs: dict[str, dict[str, pulumi.Input[str]]] = {}
        for service in args.services:
            if service.delivery == "none":
                continue
            svc = service.name
            meta = {"namespace": svc, "labels": {SERVICE_LABEL: svc, **labels}}
            after = [self.release, *args.catalog]
            self.analysis_templates[svc] = k8s.apiextensions.CustomResource(
                f"{name}-{svc}-analysis",
                api_version=ROLLOUTS_API,
                kind="AnalysisTemplate",
                metadata={"name": template_name(service), **meta},
                spec=analysis_template_spec(service, cfg, args.prometheus_address),
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
            )
            routing = args.routing.get(svc)
            if routing is not None and service.delivery == "canary":
                self.plugin_configs[svc] = routing.plugin_config(args.account.region)
            self.rollouts[svc] = k8s.apiextensions.CustomResource(
                f"{name}-{svc}-rollout",
                api_version=ROLLOUTS_API,
                kind="Rollout",
                metadata={"name": svc, **meta},
                spec=rollout_spec(service, cfg, self.plugin_configs.get(svc)),
                # The HPA owns the replica count once the Rollout runs.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*after, self.analysis_templates[svc]],
                                            ignore_changes=["spec.replicas"]),
            )
        self.register_outputs(
            {
                "namespace": ns,
                "controllerRoleArn": self.role.arn,
                "analysisTemplates": sorted(self.analysis_templates),
                "strategies": {s.name: s.delivery for s in args.services},
            }
        )


# --------------------------------------------------------------------------- docs/delivery.md


class _DocDumper(yaml.SafeDumper):
    """Multi-line strings (the PromQL queries) as literal blocks, as a person would write them."""


_DocDumper.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)
)


def _yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_DocDumper, sort_keys=False, width=1 << 20).rstrip()


def _placeholders(service: ServiceConfig, region: str) -> dict[str, str]:
    return {
        "listenerRuleArn": f"<ARN of listener rule golive-{service.name}-rule>",
        "stableTargetGroupArn": f"<ARN of target group golive-{service.name}-tg>",
        "canaryTargetGroupArn": f"<ARN of target group golive-{service.name}-canary-tg>",
        "region": region,
    }


def _service_section(service: ServiceConfig, config: StackConfig) -> list[str]:
    cfg = config.delivery
    public = bool(service.host and config.edge.domain)
    lines = [f"### {service.name}", ""]
    if service.delivery == "none":
        return lines + ["Delivery `none`: the Deployment's own rolling update, no analysis.", ""]
    new = new_service_name(service)
    rows = [
        ("Strategy", f"`{service.delivery}`"),
        ("Rollout", f"`{service.name}` in namespace `{service.name}`, `workloadRef` to Deployment `{service.name}`"),
        ("AnalysisTemplate", f"`{template_name(service)}`"),
        ("Services the service ships", f"`{service.name}` (stable/active), `{new}` ({'preview' if service.delivery == 'blueGreen' else 'canary'}), "
                                       f"`{service.name}-metrics` (port `metrics`, every pod)"),
    ]
    if public and service.delivery == "canary":
        rows += [("Listener rule", f"`golive-{service.name}-rule` ({service.host}{service.path_prefix}): forward, weights set by the plugin"),
                 ("Target groups", f"`golive-{service.name}-tg` (bound to `{service.name}`), `golive-{service.name}-canary-tg` (bound to `{new}`)")]
    elif public:
        rows += [("Listener rules", f"`golive-{service.name}-rule` ({service.host}) and `golive-{service.name}-preview-rule` ({service.preview_host})"),
                 ("Target groups", f"`golive-{service.name}-tg` (bound to `{service.name}`), `golive-{service.name}-preview-tg` (bound to `{new}`)")]
    else:
        rows += [("Traffic", "internal service: the canary share is the ratio of canary to stable replicas")]
    lines += ["| | |", "| --- | --- |", *[f"| {k} | {v} |" for k, v in rows], ""]
    routing = _placeholders(service, config.region) if public and service.delivery == "canary" else None
    rollout = {"apiVersion": ROLLOUTS_API, "kind": "Rollout", "metadata": {"name": service.name, "namespace": service.name},
               "spec": rollout_spec(service, cfg, routing)}
    template = {"apiVersion": ROLLOUTS_API, "kind": "AnalysisTemplate",
                "metadata": {"name": template_name(service), "namespace": service.name},
                "spec": analysis_template_spec(service, cfg, "<Prometheus of the monitoring stack>")}
    return lines + ["```yaml", _yaml(rollout), "---", _yaml(template), "```", ""]


def render_doc(config: StackConfig) -> str:
    """docs/delivery.md for ``config`` (the prod stack's is committed; a test keeps them equal)."""
    cfg = config.delivery
    steps = ", ".join(
        f"setWeight {s.set_weight}" if s.set_weight is not None else f"pause {s.pause}" if s.pause else "analysis"
        for s in cfg.canary_steps
    )
    minutes = analysis_seconds(cfg) // 60
    head = f"""# Progressive delivery

<!-- Generated by `python -m components.delivery` from Pulumi.prod.yaml; do not edit by hand. -->

Every catalog service is released by [Argo Rollouts](https://argoproj.github.io/argo-rollouts/) (chart
`argo-rollouts` {cfg.chart_version}, namespace `{cfg.namespace}`). A release changes only the image of the service's
Deployment; the platform's `Rollout` (wrapping that Deployment through `workloadRef`) moves traffic step by step and
checks the service's own SLOs between the steps. A failed check aborts the rollout: all traffic goes back to the
stable version and the new pods are scaled down, with no one at the keyboard.

## How a canary moves traffic

The weights are **real ALB target-group weights**, not replica ratios:

- Each canary service has two IP target groups: `golive-<service>-tg`, bound (TargetGroupBinding) to the Service
  `<service>` that Argo Rollouts points at the stable pods, and `golive-<service>-canary-tg`, bound to `<service>-canary`,
  which it points at the new pods. The service's listener rule forwards to both (stable 100, canary 0 when idle).
- Pulumi owns the ALB and its rules and ignores later changes of those weights (`ignoreChanges` on
  `actions[0].forward.targetGroups[*].weight`). Argo Rollouts' traffic-router plugin `{PLUGIN_NAME}` sets them.
  The controller's IRSA role may call `elasticloadbalancing:DescribeRules` and, on listener rules tagged
  `golive:delivery = canary` only (the edge tags exactly the canary services' rules), `ModifyRule`.

Why not Argo Rollouts' built-in ALB router: it writes weights into an `Ingress` annotation
(`alb.ingress.kubernetes.io/actions.<service>`) that the AWS Load Balancer Controller turns into listener rules
**of an ALB it creates itself**; it cannot attach an Ingress to an ALB created elsewhere. golive's ALB is Pulumi's
(WAF, access logs, TLS policy, headers, deletion protection) and the controller's role can only (de)register targets,
so the Ingress route cannot coexist with it. The Gateway API route (Argo's Gateway API plugin with the controller's
Gateway support) has the same limit.

### The plugin

`{PLUGIN_NAME}` is golive's own Go program ([`delivery/alb-traffic-router`](../delivery/alb-traffic-router)): the
controller downloads it at start from `golive:delivery.trafficRouterPlugin.location` (default: golive's release
{TRAFFIC_ROUTER_VERSION}, its linux/amd64 binary), runs it only if the download has the configured `sha256`, and calls it
over the hashicorp go-plugin handshake (Argo Rollouts' `RpcTrafficRouterPlugin`). Each canary Rollout gives it the
service's listener rule, the stable and canary target groups and the region
(`spec.strategy.canary.trafficRouting.plugins.{PLUGIN_NAME}`); policy `delivery-traffic-router-configured` checks that
configuration is complete, and `delivery-traffic-router-installed` that the controller installs the plugin with an
https location and a SHA-256.

How the weights move, call by call (the controller makes these on every reconcile of a canary Rollout):

| call | what the plugin does |
| --- | --- |
| `SetWeight(w)` | `DescribeRules` on the rule, then, unless the forward action already has them, `ModifyRule` with the same actions and the forward action's target groups at stable `100 - w`, canary `w` (of `trafficRouting.maxTrafficWeight` when set). The rule's conditions, priority, other actions and the forward action's stickiness are kept. A rule that forwards anywhere but to exactly the two configured target groups is left alone and reported. |
| `VerifyWeight(w)` | `DescribeRules` and compares: the controller waits until the ALB has the weights before it goes on (and reports `WeightVerifyError` otherwise). |
| `RemoveManagedRoutes` | nothing to remove (no header or mirror routes exist); the controller follows it with the `SetWeight` it wants: `0` on an abort, once the stable pods can take all traffic, and after a promotion. |
| `SetHeaderRoute`, `SetMirrorRoute` | refused with an error: a header route would be a rule of the plugin's own on a listener Pulumi owns, and an ALB cannot mirror traffic. golive's canary steps never ask for either. |
| `UpdateHash` | nothing: the TargetGroupBindings follow the Services, which Argo Rollouts points at the pod-template hashes. |

So a release moves stable/canary 100/0 → 90/10 → (soak, analysis) → 50/50 → (soak, analysis) → 0/100, the new pods
become the stable ones, and the rule is set back to 100/0 on the stable target group. A failed analysis or
`kubectl argo rollouts abort` sets 100/0 at once. The weighted rule has no stickiness, so during a canary one user's
requests may reach both versions. A listener rule deleted underneath is an error in the Rollout's events
(`TrafficRoutingError`) and the rollout stops; `pulumi up --refresh` recreates the rule (at 100/0).
`VerifyWeight` checks the rule's weights, not which pods the target groups hold: right after a promotion, while the
TargetGroupBinding registers the new pods in the stable target group, the previous pods (scaled down 30 s later)
may still answer part of the requests for a few seconds.

**Releasing the plugin.** `.github/workflows/release-plugin.yml` builds linux/amd64 and linux/arm64 reproducibly
(`make -C delivery/alb-traffic-router dist`: the Go toolchain of its `go.mod`, `-trimpath`, no VCS stamp, no cgo) for a
tag `alb-traffic-router-v<version>` and publishes both with `SHA256SUMS`, after checking that the amd64 binary's SHA-256
is the configured default. A change of the plugin's code therefore changes the default: `tests/test_delivery_plugin.py`
builds it the same way and fails until `TRAFFIC_ROUTER_VERSION` and `TRAFFIC_ROUTER_SHA256` (components/config/delivery.py) name
the new build; bump the version, tag it, and the workflow publishes exactly what the config points at.

**Before the first `all` phase** of a new installation, the release the config names must exist: push the tag
`alb-traffic-router-v<TRAFFIC_ROUTER_VERSION>` once in your fork (the workflow publishes it), or build the binaries with
`make -C delivery/alb-traffic-router dist`, host them on an https location of your own and set
`golive:delivery.trafficRouterPlugin.{{location,sha256}}`. The policies check the location's form and the checksum's, not
that the URL answers: `curl -fsSL "$LOCATION" | sha256sum` must print the configured `sha256`, or the controller starts
without the plugin and every canary Rollout reports `plugin … not configured`.

### Rolling back by hand

When the controller cannot (it is down, or the plugin fails), set the weights yourself: stable 100, canary 0. The ARNs
and region of each service's rule are the stack output `canaryRouting` (the plugin's configuration).

```sh
SVC=trading-api
pulumi stack output canaryRouting --json > routing.json
RULE=$(jq -r --arg s "$SVC" '.[$s].listenerRuleArn' routing.json)
STABLE=$(jq -r --arg s "$SVC" '.[$s].stableTargetGroupArn' routing.json)
CANARY=$(jq -r --arg s "$SVC" '.[$s].canaryTargetGroupArn' routing.json)
REGION=$(jq -r --arg s "$SVC" '.[$s].region' routing.json)

# 1. Stop the controller from setting the canary weight again.
kubectl argo rollouts abort "$SVC" -n "$SVC"

# 2. All requests to the stable target group (the rule's only action is this forward; keep any other action you added).
ACTIONS=$(jq -nc --arg s "$STABLE" --arg c "$CANARY" \\
  '[{{Type: "forward", ForwardConfig: {{TargetGroups: [{{TargetGroupArn: $s, Weight: 100}}, {{TargetGroupArn: $c, Weight: 0}}]}}}}]')
aws elbv2 modify-rule --region "$REGION" --rule-arn "$RULE" --actions "$ACTIONS"

# 3. Check: stable 100, canary 0.
aws elbv2 describe-rules --region "$REGION" --rule-arns "$RULE" \\
  --query 'Rules[0].Actions[?Type==`forward`].ForwardConfig.TargetGroups'
```

`pulumi up` does not undo this (it ignores the weights), and the plugin takes over again with the next release.

Internal services (no host) have no ALB route: their canary share is the replica ratio.

## Steps and analysis

Canary steps ({'production' if config.production else config.environment}): {steps}.

- `setWeight N`: the canary target group gets N% of the requests.
- `pause D`: soak at that weight (at least one analysis interval; 2h in production).
- `analysis`: the service's `AnalysisTemplate` runs {cfg.analysis_count} measurements {cfg.analysis_interval} apart
  (~{minutes} min); more than {cfg.analysis_failure_limit} failed measurement(s) fail it and abort the rollout.

The analysis gates the step after each soak, as the trading report's "metrics check between steps"; during a soak
the service's fast-burn SLO alerts (AvailabilityBurnRatePage, LatencyBurnRatePage) are what pages, and
`kubectl argo rollouts abort` rolls back at once.

Blue-green services get a preview host; the new version runs behind `<service>-preview` and its own target group,
the same analysis runs before promotion (on preview traffic: have the release pipeline send smoke traffic there) and
after it, while the previous version stays up {analysis_seconds(cfg) + 60} s to take the traffic back.

Each `AnalysisTemplate` holds two metrics derived from the catalog entry that also defines the service's SLO rules:

- `error-ratio`: the availability SLI (share of 5xx in `http_requests_total`) over one interval, which passes at or
  below {cfg.max_burn_rate:g} x the error budget (1 - availability objective);
- `latency-p<target>`: the SLO's latency percentile of `http_request_duration_seconds_bucket`, which passes at or below the
  SLO's threshold (at or below it exactly when the latency SLI stays within its budget).

Both measure only the new pods (`pod=~"<service>-<new pod-template hash>-.+"`): at 10% a broken canary is not diluted
by the stable pods. No request reaching the new pods gives no data (or NaN): the measurement is Inconclusive and the
rollout pauses for a person (`kubectl argo rollouts promote` or `abort`).

## What a service ships

- Deployment `<service>` (its pods labelled `app.kubernetes.io/name: <service>`), **without `replicas`**: the Rollout
  owns the replica count and scales the Deployment to 0 once its own pods are healthy (`scaleDown: onsuccess`).
- Services `<service>` and `<service>-canary` (or `<service>-preview`) selecting `app.kubernetes.io/name: <service>`
  on the catalog port; Argo Rollouts adds the pod-template hash to their selectors. Neither may expose a port named
  `metrics`: Prometheus scrapes every pod once through a third Service, `<service>-metrics`, with the `metrics`
  port (docs/metrics.md).

The catalog's HorizontalPodAutoscaler scales the `Rollout` (`argoproj.io/v1alpha1`), not the Deployment, of a
service whose delivery is not `none`; the Rollout starts at `minReplicas` and Pulumi ignores later replica changes.

## Alerts

| Alert | Severity | Runbook |
| --- | --- | --- |
| RolloutAborted | warning | [rollout-aborted.md](runbooks/rollout-aborted.md) |
| RolloutDegraded | critical | [rollout-degraded.md](runbooks/rollout-degraded.md) |
| AnalysisRunFailed | warning | [analysis-run-failed.md](runbooks/analysis-run-failed.md) |

From the controller's metrics (`rollout_info`, `analysis_run_info`; one series per object with its phase as a label),
scraped through a ServiceMonitor with `honorLabels` so `namespace` and `name` are the Rollout's.

## The services of this stack
"""
    lines = [head]
    for service in config.services:
        lines += _service_section(service, config)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    import pathlib

    from components.config import parse
    from golive import engine

    flat, _ = engine.load_stack_config("prod")
    config = parse({k.split(":", 1)[1]: v for k, v in flat.items() if k.startswith("golive:")})
    path = pathlib.Path(__file__).resolve().parent.parent / "docs" / "delivery.md"
    path.write_text(render_doc(config))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

