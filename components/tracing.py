"""Distributed tracing: services -> OTLP gateway -> tail samplers -> Jaeger v2 -> the logs' OpenSearch domain.

- A namespace of its own (Pod Security ``restricted``) with a default-deny NetworkPolicy and one
  policy per hop: OTLP (4317 gRPC, 4318 HTTP) from the catalog's namespaces to the gateway, the
  gateway to the samplers, the samplers to Jaeger, Grafana to Jaeger's query port, Prometheus to
  every metrics port.
- The **gateway** (opentelemetry-collector, a Deployment) is what services send to. Its
  ``loadbalancing`` exporter routes each trace, by trace id, to one **sampler** pod (found through
  a headless Service): a tail-sampling decision needs every span of the trace in one place.
- The **samplers** run ``tail_sampling`` with policies per catalog service (``golive:services[i].tracing``):
  a random share by trace id, and, on top of it, every trace with an error span and every trace
  slower than a threshold. A trace no policy keeps is dropped. Kept traces go to Jaeger over OTLP.
- **Jaeger v2** (the jaeger chart) writes spans to the logs' OpenSearch domain under its own
  indices (``<indexPrefix>-jaeger-*``, deleted after ``retentionDays`` by the index lifecycle policy
  that ``components/opensearch_setup.py`` applies), signing requests with SigV4 through an IRSA role
  (no password), and serves the query API that Grafana's Jaeger data source reads.
- Per catalog service a ConfigMap ``otel-exporter`` in its namespace holds the standard OpenTelemetry
  SDK settings (``OTEL_EXPORTER_OTLP_ENDPOINT``, protocol, service name, sampler): a Deployment takes
  them with ``envFrom`` (docs/monitoring.md).
- A PrometheusRule on the pipeline's own metrics: spans refused, exporter failures, full queues,
  traces dropped before a decision, a stage down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config import AwsAccount, ServiceConfig, TracingConfig
from components.helm import chart_release
from components.irsa import service_account_role
from components.monitoring.rules import default_priority, runbook_url

OTEL_CHARTS = "https://open-telemetry.github.io/opentelemetry-helm-charts"
JAEGER_CHARTS = "https://jaegertracing.github.io/helm-charts"
# The chart's Kubernetes distribution: OTLP, loadbalancing exporter, tail_sampling (the chart pins its tag).
COLLECTOR_IMAGE = "otel/opentelemetry-collector-k8s"
GATEWAY = "otel-gateway"
SAMPLER = "otel-sampler"
JAEGER = "jaeger"
OTLP_GRPC, OTLP_HTTP, QUERY_PORT, METRICS_PORT = 4317, 4318, 16686, 8888
EXPORTER_CONFIG_MAP = "otel-exporter"
SERVICE_LABEL = "golive.io/service"
STACK_RELEASE = "kube-prometheus-stack"
DATASOURCE_UID = "jaeger"
# The label OpenTelemetry SDKs give the trace id of a metric exemplar.
EXEMPLAR_TRACE_ID_LABEL = "trace_id"
POD_SECURITY = {"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest",
                "pod-security.kubernetes.io/warn": "restricted"}
PART_OF = {"app.kubernetes.io/part-of": "golive"}


@dataclass(frozen=True)
class TracingArgs:
    config: TracingConfig
    services: Sequence[ServiceConfig]
    account: AwsAccount
    collector_chart_version: str
    jaeger_chart_version: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    opensearch_endpoint: pulumi.Input[str]
    """The logs domain's VPC endpoint (host name, no scheme)."""
    opensearch_domain_name: pulumi.Input[str]
    monitoring_namespace: str = "monitoring"
    runbook_base_url: str = "https://github.com/golive-platform/golive/blob/main/docs/runbooks"
    catalog: Sequence[pulumi.Resource] = ()
    """What creates the services' namespaces (the ServiceCatalog): their ConfigMaps come after it."""
    monitoring: Sequence[pulumi.Resource] = ()
    """What installs the ServiceMonitor and PrometheusRule CRDs (the monitoring stack)."""


class Tracing(pulumi.ComponentResource):
    """The gateway, the samplers, Jaeger, their network policies and alerts, and each service's exporter settings."""

    def __init__(self, name: str, args: TracingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:monitoring:Tracing", name, None, opts)
        cfg = args.config
        ns = cfg.namespace
        child = pulumi.ResourceOptions(parent=self)

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-tracing", metadata={"name": ns, "labels": {**PART_OF, **POD_SECURITY}}, opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        self.network_policies = {
            policy: k8s.networking.v1.NetworkPolicy(
                f"{name}-tracing-{policy}", metadata={"name": policy, "namespace": ns, "labels": PART_OF}, spec=spec, opts=in_ns)
            for policy, spec in network_policy_specs(args.monitoring_namespace).items()
        }

        self.jaeger_role = service_account_role(
            f"{name}-jaeger",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer=args.oidc_issuer,
            namespace=ns,
            service_account=JAEGER,
            policy_documents=[opensearch_write_policy(args.account, args.opensearch_domain_name)],
            account=args.account,
            opts=child,
        )
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, *args.monitoring])

        def release(role: str, chart: str, version: str, repo: str, values: Mapping) -> k8s.helm.v3.Release:
            return chart_release(f"{name}-{role}", release=role, chart=chart, version=version, repo=repo, namespace=ns,
                                 values=values, opts=after_crds)

        self.jaeger = release(JAEGER, "jaeger", args.jaeger_chart_version, JAEGER_CHARTS,
                              jaeger_values(cfg, args.opensearch_endpoint, self.jaeger_role.arn, args.account.region))
        self.sampler = release(SAMPLER, "opentelemetry-collector", args.collector_chart_version, OTEL_CHARTS,
                               sampler_values(cfg, args.services))
        self.gateway = release(GATEWAY, "opentelemetry-collector", args.collector_chart_version, OTEL_CHARTS, gateway_values(cfg))

        self.service_monitor = k8s.apiextensions.CustomResource(
            f"{name}-jaeger-servicemonitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": JAEGER, "namespace": ns, "labels": {"release": STACK_RELEASE, **PART_OF}},
            spec=jaeger_service_monitor_spec(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.jaeger, *args.monitoring]),
        )
        self.rule_group = alert_group(args.runbook_base_url)
        self.prometheus_rule = k8s.apiextensions.CustomResource(
            f"{name}-tracing-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": self.rule_group["name"], "namespace": ns, "labels": {"release": STACK_RELEASE, **PART_OF}},
            spec={"groups": [self.rule_group]},
            opts=after_crds,
        )

        in_catalog = pulumi.ResourceOptions(parent=self, depends_on=[*args.catalog] or None)
        self.exporter_settings = {
            svc.name: k8s.core.v1.ConfigMap(
                f"{name}-otel-exporter-{svc.name}",
                metadata={"name": EXPORTER_CONFIG_MAP, "namespace": svc.name, "labels": {SERVICE_LABEL: svc.name, **PART_OF}},
                data=exporter_env(svc, cfg),
                opts=in_catalog,
            )
            for svc in args.services
        }
        self.otlp_endpoint = gateway_endpoint(cfg)
        self.register_outputs({
            "namespace": ns,
            "otlpEndpoint": self.otlp_endpoint,
            "queryUrl": query_url(cfg),
            "jaegerRoleArn": self.jaeger_role.arn,
        })


# --------------------------------------------------------------------------- addresses


def gateway_endpoint(cfg: TracingConfig, port: int = OTLP_GRPC) -> str:
    """Where services send OTLP: the gateway's Service (gRPC on 4317, HTTP on 4318)."""
    return f"http://{GATEWAY}.{cfg.namespace}.svc.cluster.local:{port}"


def query_url(cfg: TracingConfig) -> str:
    """Jaeger's query API and UI (what Grafana's data source reads)."""
    return f"http://{JAEGER}.{cfg.namespace}.svc.cluster.local:{QUERY_PORT}"


def grafana_datasource(cfg: TracingConfig) -> dict:
    """Grafana's Jaeger data source (provisioned by kube-prometheus-stack's ``grafana.additionalDataSources``)."""
    return {"name": "Jaeger", "type": "jaeger", "uid": DATASOURCE_UID, "url": query_url(cfg), "access": "proxy",
            "editable": False, "isDefault": False}


def exemplar_destination() -> dict:
    """The Prometheus data source's link from an exemplar's trace id to the trace (``exemplarTraceIdDestinations``)."""
    return {"datasourceUid": DATASOURCE_UID, "traceIdLabelName": EXEMPLAR_TRACE_ID_LABEL, "urlDisplayLabel": "View trace in Jaeger"}


def exporter_env(svc: ServiceConfig, cfg: TracingConfig) -> dict[str, str]:
    """The OpenTelemetry SDK's own environment variables, for ``envFrom`` in the service's Deployment.

    Every span is sent (``parentbased_always_on``): the samplers decide per trace, with every span
    in view, which is what keeps errors and slow traces at any sampling percentage.
    """
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": gateway_endpoint(cfg),
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_SERVICE_NAME": svc.name,
        "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        "OTEL_PROPAGATORS": "tracecontext,baggage",
        "OTEL_RESOURCE_ATTRIBUTES": f"service.namespace={svc.name}",
    }


# --------------------------------------------------------------------------- sampling


def sampling_policies(services: Sequence[ServiceConfig]) -> list[dict]:
    """``tail_sampling`` policies: per service, its random share, and its errors and slow traces on top.

    A trace is kept when any policy keeps it. Each policy is an ``and`` of "a span of this service"
    (``service.name``, a resource attribute) and the rule; at 100% the service's policy keeps all.
    """
    policies: list[dict] = []
    for svc in services:
        of_service = {"name": f"{svc.name}-spans", "type": "string_attribute",
                      "string_attribute": {"key": "service.name", "values": [svc.name]}}
        tracing = svc.tracing
        if tracing.sampling_percentage >= 100:
            policies.append({**of_service, "name": f"{svc.name}-all"})
            continue
        rules = []
        if tracing.sampling_percentage > 0:
            rules.append(("share", {"type": "probabilistic", "probabilistic": {"sampling_percentage": tracing.sampling_percentage}}))
        if tracing.keep_errors:
            rules.append(("errors", {"type": "status_code", "status_code": {"status_codes": ["ERROR"]}}))
        if tracing.slower_than_ms:
            rules.append(("slow", {"type": "latency", "latency": {"threshold_ms": tracing.slower_than_ms}}))
        for rule, sub in rules:
            policies.append({"name": f"{svc.name}-{rule}", "type": "and",
                             "and": {"and_sub_policy": [of_service, {"name": f"{svc.name}-{rule}-rule", **sub}]}})
    return policies


# --------------------------------------------------------------------------- Helm values


def _hardened(user: int) -> dict:
    return {
        "podSecurityContext": {"runAsNonRoot": True, "runAsUser": user, "runAsGroup": user, "fsGroup": user,
                               "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
    }


def _spread(instance: str) -> list[dict]:
    return [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": {"app.kubernetes.io/instance": instance}}}]


def _memory_limiter() -> dict:
    return {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25}


def _telemetry() -> dict:
    return {"metrics": {"level": "detailed",
                        "readers": [{"pull": {"exporter": {"prometheus": {"host": "${env:MY_POD_IP}", "port": METRICS_PORT}}}}]}}


def _collector_values(release: str, replicas: int, config: dict, *, headless: bool, memory: str) -> dict:
    """opentelemetry-collector values: a Deployment running ``config`` (``alternateConfig``: the chart's defaults
    are not merged in), OTLP ports only, scraped by Prometheus, spread over zones, restricted pods."""
    off = {"enabled": False}
    return {
        "mode": "deployment",
        "fullnameOverride": release,
        "image": {"repository": COLLECTOR_IMAGE},
        "replicaCount": replicas,
        "alternateConfig": config,
        "ports": {"otlp": {"enabled": True}, "otlp-http": {"enabled": not headless}, "jaeger-compact": off, "jaeger-thrift": off,
                  "jaeger-grpc": off, "zipkin": off, "metrics": {"enabled": True}},
        "service": {"type": "ClusterIP", **({"clusterIP": "None"} if headless else {})},
        "serviceAccount": {"create": True, "automountServiceAccountToken": False},
        "resources": {"requests": {"cpu": "250m", "memory": memory}, "limits": {"memory": memory}},
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        "topologySpreadConstraints": _spread(release),
        "serviceMonitor": {"enabled": True, "extraLabels": {"release": STACK_RELEASE},
                           "metricsEndpoints": [{"port": "metrics", "interval": "30s"}]},
        "additionalLabels": PART_OF,
        **_hardened(10001),
    }


def gateway_values(cfg: TracingConfig) -> dict:
    """The gateway: OTLP in (gRPC and HTTP), each trace routed by its id to one sampler pod."""
    pod = "${env:MY_POD_IP}"
    config = {
        "extensions": {"health_check": {"endpoint": f"{pod}:13133"}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"{pod}:{OTLP_GRPC}"}, "http": {"endpoint": f"{pod}:{OTLP_HTTP}"}}}},
        "processors": {"memory_limiter": _memory_limiter()},
        "exporters": {"loadbalancing": {
            "routing_key": "traceID",
            "protocol": {"otlp": {"tls": {"insecure": True}, "timeout": "5s",
                                  "sending_queue": {"enabled": True, "queue_size": 10000},
                                  "retry_on_failure": {"enabled": True, "max_elapsed_time": "120s"}}},
            "resolver": {"dns": {"hostname": f"{SAMPLER}.{cfg.namespace}.svc.cluster.local", "port": OTLP_GRPC, "interval": "5s"}},
        }},
        "service": {"extensions": ["health_check"], "telemetry": _telemetry(),
                    "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["memory_limiter"], "exporters": ["loadbalancing"]}}},
    }
    return _collector_values(GATEWAY, cfg.gateway_replicas, config, headless=False, memory="1Gi")


def sampler_values(cfg: TracingConfig, services: Sequence[ServiceConfig]) -> dict:
    """A sampler: whole traces in (from the gateway), the catalog's tail-sampling policies, kept traces to Jaeger."""
    pod = "${env:MY_POD_IP}"
    config = {
        "extensions": {"health_check": {"endpoint": f"{pod}:13133"}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"{pod}:{OTLP_GRPC}"}}}},
        "processors": {
            "memory_limiter": _memory_limiter(),
            "tail_sampling": {
                "decision_wait": cfg.decision_wait,
                "num_traces": cfg.max_traces_in_memory,
                # Late spans of a decided trace follow its decision instead of starting a new one.
                "decision_cache": {"sampled_cache_size": cfg.max_traces_in_memory * 10,
                                   "non_sampled_cache_size": cfg.max_traces_in_memory * 10},
                "policies": sampling_policies(services),
            },
            "batch": {"send_batch_size": 1024, "timeout": "5s"},
        },
        "exporters": {"otlp/jaeger": {
            "endpoint": f"{JAEGER}.{cfg.namespace}.svc.cluster.local:{OTLP_GRPC}",
            "tls": {"insecure": True},
            "sending_queue": {"enabled": True, "queue_size": 10000},
            "retry_on_failure": {"enabled": True, "max_elapsed_time": "300s"},
        }},
        "service": {"extensions": ["health_check"], "telemetry": _telemetry(),
                    "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "tail_sampling", "batch"],
                                             "exporters": ["otlp/jaeger"]}}},
    }
    return _collector_values(SAMPLER, cfg.sampler_replicas, config, headless=True, memory="2Gi")


def jaeger_storage(cfg: TracingConfig, endpoint: pulumi.Input[str]) -> dict:
    """Jaeger's OpenSearch backend: SigV4 (the IRSA role), daily indices under ``indexPrefix``, query lookback = retention."""
    daily = {"date_layout": "2006-01-02", "rollover_frequency": "day", "shards": 3, "replicas": 1}
    return {"opensearch": {
        "server_urls": [pulumi.Output.format("https://{0}", endpoint)],
        "auth": {"authenticator": "sigv4auth"},
        "indices": {"index_prefix": cfg.index_prefix, "spans": daily, "services": daily, "dependencies": daily, "sampling": daily},
        "create_mappings": True,
        "use_aliases": False,
        "max_span_age": f"{cfg.retention_days * 24}h",
    }}


def jaeger_values(cfg: TracingConfig, endpoint: pulumi.Input[str], role_arn: pulumi.Input[str], region: str) -> dict:
    """The jaeger chart (Jaeger v2, one Deployment): OTLP from the samplers, OpenSearch storage, query and UI."""
    config = {
        "service": {
            "extensions": ["sigv4auth", "jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["jaeger_storage_exporter"]}},
            "telemetry": {"resource": {"service.name": JAEGER},
                          "metrics": {"level": "detailed",
                                      "readers": [{"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": METRICS_PORT}}}}]}},
        },
        "extensions": {
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": "0.0.0.0:13133"}},
            "sigv4auth": {"region": region, "service": "es"},
            "jaeger_storage": {"backends": {"opensearch": jaeger_storage(cfg, endpoint)}},
            "jaeger_query": {"storage": {"traces": "opensearch"}},
        },
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC}"}}}},
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "opensearch"}},
    }
    hardened = _hardened(10001)
    return {
        "fullnameOverride": JAEGER,
        "userconfig": config,
        "jaeger": {
            "replicas": cfg.jaeger_replicas,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": role_arn}, "automountServiceAccountToken": False},
            "extraEnv": [{"name": "AWS_REGION", "value": region}],
            "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
            "topologySpreadConstraints": _spread(JAEGER),
            "podSecurityContext": hardened["podSecurityContext"],
            "securityContext": hardened["securityContext"],
        },
        "commonLabels": PART_OF,
    }


def jaeger_service_monitor_spec() -> dict:
    """Scrape Jaeger's own collector metrics (its storage exporter's sent and failed spans)."""
    return {
        "selector": {"matchLabels": {"app.kubernetes.io/instance": JAEGER, "app.kubernetes.io/component": "all-in-one"}},
        "endpoints": [{"port": "internal-metrics", "interval": "30s"}],
    }


def opensearch_write_policy(account: AwsAccount, domain_name: pulumi.Input[str]) -> dict:
    """Jaeger's HTTP access to the domain (what the security plugin then narrows to its indices: ``traces_writer``)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TraceStorage",
            "Effect": "Allow",
            "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut"],
            "Resource": [pulumi.Output.concat(account.arn("es", "domain/"), domain_name),
                         pulumi.Output.concat(account.arn("es", "domain/"), domain_name, "/*")],
        }],
    }


# --------------------------------------------------------------------------- network policies


def network_policy_specs(monitoring_namespace: str) -> dict[str, dict]:
    """Ingress-only, like every golive namespace: default deny, then each hop of the pipeline on its own port."""

    def pods(instance: str) -> dict:
        return {"matchLabels": {"app.kubernetes.io/instance": instance}}

    def tcp(*ports: int) -> list[dict]:
        return [{"port": p, "protocol": "TCP"} for p in ports]

    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": monitoring_namespace}}}
    catalog = {"namespaceSelector": {"matchExpressions": [{"key": SERVICE_LABEL, "operator": "Exists"}]}}
    return {
        "default-deny": {"podSelector": {}, "policyTypes": ["Ingress"]},
        "allow-otlp-from-services": {"podSelector": pods(GATEWAY), "policyTypes": ["Ingress"],
                                     "ingress": [{"from": [catalog], "ports": tcp(OTLP_GRPC, OTLP_HTTP)}]},
        "allow-gateway-to-samplers": {"podSelector": pods(SAMPLER), "policyTypes": ["Ingress"],
                                      "ingress": [{"from": [{"podSelector": pods(GATEWAY)}], "ports": tcp(OTLP_GRPC)}]},
        "allow-samplers-to-jaeger": {"podSelector": pods(JAEGER), "policyTypes": ["Ingress"],
                                     "ingress": [{"from": [{"podSelector": pods(SAMPLER)}], "ports": tcp(OTLP_GRPC)}]},
        "allow-grafana-to-jaeger-query": {"podSelector": pods(JAEGER), "policyTypes": ["Ingress"],
                                          "ingress": [{"from": [monitoring], "ports": tcp(QUERY_PORT)}]},
        "allow-metrics": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [monitoring], "ports": tcp(METRICS_PORT)}]},
    }


# --------------------------------------------------------------------------- alerts

PIPELINE_JOBS = (GATEWAY, SAMPLER, JAEGER)
RULE_GROUP = "golive-tracing"


def _alert(name: str, expr: str, for_: str, summary: str, description: str, runbook_base: str, severity: str = "warning") -> dict:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "priority": default_priority(severity), "service": "tracing"},
        "annotations": {"summary": summary, "description": description, "runbook_url": runbook_url(runbook_base, name)},
    }


def alert_group(runbook_base: str) -> dict:
    """The pipeline's alerts, on the collectors' own metrics (``otelcol_*``; Jaeger v2 is a collector too).

    Traces are diagnostics, not the service: every alert is a warning (Slack and e-mail), none pages.
    """
    jobs = "|".join(PIPELINE_JOBS)
    return {"name": RULE_GROUP, "rules": [
        _alert("TraceSpansRefused",
               f'sum by (job) (rate(otelcol_receiver_refused_spans_total{{job=~"{jobs}"}}[5m])) > 0', "10m",
               "{{ $labels.job }} refuses spans",
               "{{ $labels.job }} has refused {{ $value | humanize }} spans/s for 10 minutes (memory limit reached or the next "
               "stage pushing back): those spans are lost, so traces of the services are missing or incomplete.",
               runbook_base),
        _alert("TraceExporterFailing",
               f'sum by (job, exporter) (rate(otelcol_exporter_send_failed_spans_total{{job=~"{jobs}"}}[5m]))\n'
               f'  / (sum by (job, exporter) (rate(otelcol_exporter_sent_spans_total{{job=~"{jobs}"}}[5m]))\n'
               f'     + sum by (job, exporter) (rate(otelcol_exporter_send_failed_spans_total{{job=~"{jobs}"}}[5m]))) > 0.05', "10m",
               "{{ $labels.job }} cannot export spans ({{ $labels.exporter }})",
               "{{ $labels.exporter }} of {{ $labels.job }} failed to send {{ $value | humanizePercentage }} of its spans for 10 "
               "minutes (after retries): the next stage (sampler, Jaeger or OpenSearch) is unreachable or rejecting writes.",
               runbook_base),
        _alert("TraceExporterQueueFull",
               f'sum by (job, exporter) (rate(otelcol_exporter_enqueue_failed_spans_total{{job=~"{jobs}"}}[5m])) > 0', "5m",
               "{{ $labels.job }} drops spans: the {{ $labels.exporter }} queue is full",
               "The sending queue of {{ $labels.exporter }} in {{ $labels.job }} is full and {{ $value | humanize }} spans/s are "
               "dropped for 5 minutes: the next stage is slower than the traffic.",
               runbook_base),
        _alert("TraceSamplerDroppingTraces",
               f'sum by (job) (rate(otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total{{job="{SAMPLER}"}}[5m])) > 0',
               "10m",
               "Tail samplers drop traces before deciding",
               "The samplers drop {{ $value | humanize }} traces/s before their decision wait ends (more traces in flight than "
               "maxTracesInMemory): errors and slow traces among them are lost whatever the catalog says.",
               runbook_base),
        _alert("TracePipelineDown",
               "\n  or ".join(f'label_replace(absent(up{{job="{job}"}} == 1), "job", "{job}", "", "")' for job in PIPELINE_JOBS),
               "5m",
               "{{ $labels.job }} is down: no traces flow through it",
               "No {{ $labels.job }} target has been up for 5 minutes: the services' spans are refused or dropped at that stage "
               "and no new trace reaches Jaeger.",
               runbook_base),
    ]}
