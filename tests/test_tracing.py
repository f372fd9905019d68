"""Tracing: the gateway, the tail samplers, Jaeger v2, their network policies, the services' settings and the alerts.

Expectations are the requirement written as data: the catalog's sampling (the signal service's
report: Jaeger at 0.1%; keep errors and traces over its 1 s latency threshold), the pinned charts,
the documented OTLP ports, and for the alerts the thresholds and ``for`` windows of the pipeline's
design (refused spans for 10 minutes, 5% export failures for 10 minutes, a full queue for 5
minutes, traces dropped before a decision for 10 minutes, a stage with no target up for 5 minutes).
"""

from __future__ import annotations

import copy
import pathlib
import re
import subprocess

import pytest
import yaml

from components import tracing
from components.config import ConfigError, parse
from tests.helpers import deps, of_type, one, props

ROOT = pathlib.Path(__file__).resolve().parent.parent
RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NAMESPACE = "kubernetes:core/v1:Namespace"
PROM_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
DOMAIN = "aws:opensearch/domain:Domain"
RUNBOOK_BASE = "https://github.com/golive-platform/golive/blob/main/docs/runbooks"

# Pulumi.prod.yaml, as the requirement states it.
CHARTS = {"golive-otel-gateway": ("opentelemetry-collector", "0.170.0", "https://open-telemetry.github.io/opentelemetry-helm-charts"),
          "golive-otel-sampler": ("opentelemetry-collector", "0.170.0", "https://open-telemetry.github.io/opentelemetry-helm-charts"),
          "golive-jaeger": ("jaeger", "4.11.1", "https://jaegertracing.github.io/helm-charts")}
PROD_SAMPLING = {
    "signal-service": {"signal-service-share": ("probabilistic", {"sampling_percentage": 0.1}),
                       "signal-service-errors": ("status_code", {"status_codes": ["ERROR"]}),
                       "signal-service-slow": ("latency", {"threshold_ms": 1000})},
    "listings-service": {"listings-service-all": None},
    "trading-api": {"trading-api-all": None},
    "config-service": {"config-service-all": None},  # no tracing block in the catalog: every trace kept
}
GATEWAY_OTLP = "http://otel-gateway.tracing.svc.cluster.local:4317"
TRACE_RETENTION_HOURS = "336h"  # 14 days


def in_tracing(synth, type_):
    return [r for r in of_type(synth, type_) if "golive:monitoring:Tracing" in r["urn"]]


def release(synth, name):
    return one(synth, RELEASE, name)


def values(synth, name):
    return props(release(synth, name))["values"]


# --------------------------------------------------------------------------- releases


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_charts_are_pinned_from_their_repositories(prod, name):
    chart, version, repo = CHARTS[name]
    p = props(release(prod, name))
    assert (p["chart"], p["version"], p["repositoryOpts"]["repo"], p["namespace"]) == (chart, version, repo, "tracing")


def test_the_samplers_keep_what_the_catalog_says(prod):
    policies = values(prod, "golive-otel-sampler")["alternateConfig"]["processors"]["tail_sampling"]["policies"]
    by_name = {p["name"]: p for p in policies}
    assert set(by_name) == {name for rules in PROD_SAMPLING.values() for name in rules}
    for service, rules in PROD_SAMPLING.items():
        for name, rule in rules.items():
            policy = by_name[name]
            selector = {"type": "string_attribute", "string_attribute": {"key": "service.name", "values": [service]}}
            if rule is None:
                assert {k: v for k, v in policy.items() if k != "name"} == selector
                continue
            kind, settings = rule
            of_service, sub = policy["and"]["and_sub_policy"]
            assert policy["type"] == "and" and {k: v for k, v in of_service.items() if k != "name"} == selector
            assert sub["type"] == kind and sub[kind] == settings


def test_sampling_decides_after_the_configured_wait_on_whole_traces(prod):
    sampler = values(prod, "golive-otel-sampler")
    tail = sampler["alternateConfig"]["processors"]["tail_sampling"]
    assert (tail["decision_wait"], tail["num_traces"]) == ("10s", 100000)
    assert sampler["service"]["clusterIP"] == "None", "headless: the gateway resolves every sampler pod"
    pipeline = sampler["alternateConfig"]["service"]["pipelines"]["traces"]
    assert pipeline["processors"][:2] == ["memory_limiter", "tail_sampling"] and pipeline["exporters"] == ["otlp/jaeger"]
    assert sampler["alternateConfig"]["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger.tracing.svc.cluster.local:4317"
    gateway = values(prod, "golive-otel-gateway")["alternateConfig"]
    lb = gateway["exporters"]["loadbalancing"]
    assert lb["routing_key"] == "traceID"
    assert lb["resolver"]["dns"] == {"hostname": "otel-sampler.tracing.svc.cluster.local", "port": 4317, "interval": "5s"}
    assert set(gateway["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    assert gateway["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")


@pytest.mark.parametrize("name", ["golive-otel-gateway", "golive-otel-sampler"])
def test_collectors_are_replicated_scraped_and_restricted(prod, name):
    v = values(prod, name)
    assert v["mode"] == "deployment" and v["replicaCount"] == 2 and v["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    assert v["image"]["repository"] == "otel/opentelemetry-collector-k8s"
    assert v["serviceMonitor"]["enabled"] and v["serviceMonitor"]["extraLabels"] == {"release": "kube-prometheus-stack"}
    assert v["ports"]["metrics"]["enabled"] and not any(v["ports"][p]["enabled"] for p in ("jaeger-compact", "jaeger-thrift", "zipkin"))
    assert v["podSecurityContext"]["runAsNonRoot"] and v["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert v["resources"]["limits"]["memory"]
    release_record = release(prod, name)
    stack = release(prod, "golive-kube-prometheus-stack")
    assert stack["urn"] in release_record["options"]["dependsOn"], "its ServiceMonitor needs the CRDs"


def test_jaeger_writes_to_the_logs_domain_with_sigv4_under_its_own_indices(prod):
    v = values(prod, "golive-jaeger")
    storage = v["userconfig"]["extensions"]["jaeger_storage"]["backends"]["opensearch"]["opensearch"]
    domain = one(prod, DOMAIN)
    assert storage["server_urls"] == [f"https://{domain['computed']['endpoint']}"]
    assert domain["urn"] in deps(release(prod, "golive-jaeger"), "values")
    assert storage["auth"] == {"authenticator": "sigv4auth"}
    assert v["userconfig"]["extensions"]["sigv4auth"] == {"region": "eu-west-1", "service": "es"}
    assert storage["indices"]["index_prefix"] == "traces" and storage["max_span_age"] == TRACE_RETENTION_HOURS
    assert "sigv4auth" in v["userconfig"]["service"]["extensions"]
    role = one(prod, "aws:iam/role:Role", "golive-jaeger")
    assert v["jaeger"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == role["computed"]["arn"]
    assert "system:serviceaccount:tracing:jaeger" in props(role)["assumeRolePolicy"]
    assert v["jaeger"]["replicas"] == 2 and v["jaeger"]["podSecurityContext"]["runAsNonRoot"]


def test_jaeger_may_only_speak_http_to_the_logs_domain(prod):
    import json

    policy = json.loads(props(one(prod, "aws:iam/rolePolicy:RolePolicy", "golive-jaeger-policy-0"))["policy"])
    (statement,) = policy["Statement"]
    assert statement["Action"] == ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut"]
    assert statement["Resource"] == ["arn:aws:es:eu-west-1:123456789012:domain/golive-logs",
                                     "arn:aws:es:eu-west-1:123456789012:domain/golive-logs/*"]


# --------------------------------------------------------------------------- services, network, Grafana


def test_every_service_gets_the_gateway_in_its_environment(prod):
    maps = {props(r)["metadata"]["namespace"]: props(r) for r in in_tracing(prod, CONFIG_MAP)}
    assert set(maps) == set(PROD_SAMPLING)
    for service, cm in maps.items():
        assert cm["metadata"]["name"] == "otel-exporter"
        assert cm["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == GATEWAY_OTLP
        assert cm["data"]["OTEL_SERVICE_NAME"] == service and cm["data"]["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"


def test_network_policies_admit_each_hop_and_nothing_else(prod):
    specs = {props(r)["metadata"]["name"]: props(r)["spec"] for r in in_tracing(prod, NETWORK_POLICY)}
    assert specs["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    otlp = specs["allow-otlp-from-services"]
    assert otlp["podSelector"] == {"matchLabels": {"app.kubernetes.io/instance": "otel-gateway"}}
    (rule,) = otlp["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchExpressions": [{"key": "golive.io/service", "operator": "Exists"}]}}]
    assert sorted(p["port"] for p in rule["ports"]) == [4317, 4318]
    hops = {name: (s["podSelector"]["matchLabels"]["app.kubernetes.io/instance"], s["ingress"][0]["from"], [p["port"] for p in s["ingress"][0]["ports"]])
            for name, s in specs.items() if name in ("allow-gateway-to-samplers", "allow-samplers-to-jaeger")}
    assert hops == {
        "allow-gateway-to-samplers": ("otel-sampler", [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "otel-gateway"}}}], [4317]),
        "allow-samplers-to-jaeger": ("jaeger", [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "otel-sampler"}}}], [4317]),
    }
    monitoring = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert specs["allow-grafana-to-jaeger-query"]["ingress"] == [{"from": monitoring, "ports": [{"port": 16686, "protocol": "TCP"}]}]
    assert specs["allow-metrics"]["ingress"] == [{"from": monitoring, "ports": [{"port": 8888, "protocol": "TCP"}]}]
    namespace = one(prod, NAMESPACE, "golive-tracing")
    assert props(namespace)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_grafana_reads_jaeger_and_links_exemplars_to_traces(prod):
    stack = values(prod, "golive-kube-prometheus-stack")
    assert stack["grafana"]["additionalDataSources"] == [{
        "name": "Jaeger", "type": "jaeger", "uid": "jaeger", "url": "http://jaeger.tracing.svc.cluster.local:16686",
        "access": "proxy", "editable": False, "isDefault": False}]
    assert stack["grafana"]["sidecar"]["datasources"]["exemplarTraceIdDestinations"] == {
        "datasourceUid": "jaeger", "traceIdLabelName": "trace_id", "urlDisplayLabel": "View trace in Jaeger"}
    assert "exemplar-storage" in stack["prometheus"]["prometheusSpec"]["enableFeatures"]


def test_a_first_preview_leaves_only_the_endpoint_and_the_role_unknown(prod_first_preview):
    first = prod_first_preview

    def unknown(node, path=""):
        if isinstance(node, dict):
            return [u for k, v in node.items() for u in unknown(v, f"{path}.{k}")]
        if isinstance(node, list):
            return [u for i, v in enumerate(node) for u in unknown(v, f"{path}[{i}]")]
        return [path] if node == "[unknown]" else []

    found = {r["name"]: sorted(unknown(r["inputs"])) for r in first.resources if "golive:monitoring:Tracing$kubernetes" in r["urn"]}
    assert {name: paths for name, paths in found.items() if paths} == {"golive-jaeger": [
        ".values.jaeger.serviceAccount.annotations.eks.amazonaws.com/role-arn",
        ".values.userconfig.extensions.jaeger_storage.backends.opensearch.opensearch.server_urls[0]"]}


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("raw", "key", "rule"),
    [
        ({"services": [{"name": "a", "tracing": {"samplingPercentage": 101}}]}, "golive:services[0].tracing.samplingPercentage", "0 to 100"),
        ({"services": [{"name": "a", "tracing": {"samplingPercentage": 0, "keepErrors": False}}]},
         "golive:services[0].tracing.samplingPercentage", "keeps no trace"),
        ({"services": [{"name": "a", "tracing": {"keepSlowerThan": "fast"}}]}, "golive:services[0].tracing.keepSlowerThan", "duration"),
        ({"services": [{"name": "a", "tracing": {"keepSlowerThan": "10s"}}]}, "golive:services[0].tracing.keepSlowerThan",
         "shorter than golive:monitoring.tracing.decisionWait"),
        ({"monitoring": {"tracing": {"samplerReplicas": 1}}}, "golive:monitoring.tracing.samplerReplicas", "in production"),
        ({"monitoring": {"tracing": {"retentionDays": 3}}}, "golive:monitoring.tracing.retentionDays", "7 to 3650"),
        ({"monitoring": {"tracing": {"indexPrefix": "kube-traces"}}}, "golive:monitoring.tracing.indexPrefix", "not starting with kube"),
        ({"monitoring": {"tracing": {"decisionWait": "5m"}}}, "golive:monitoring.tracing.decisionWait", "1s to 120s"),
        ({"monitoring": {"tracing": {"namespace": "monitoring"}}}, "golive:monitoring.tracing.namespace", "must not be the monitoring"),
        ({"monitoring": {"charts": {"jaeger": "4.x"}}}, "golive:monitoring.charts.jaeger", "exact chart version"),
    ],
)
def test_tracing_config_errors_name_the_key_and_rule(raw, key, rule):
    with pytest.raises(ConfigError) as err:
        parse(raw)
    assert any(p.key == key and rule in p.rule for p in err.value.problems), str(err.value)


def test_tracing_defaults_keep_every_trace_of_a_service_that_says_nothing():
    service = parse({"services": [{"name": "a"}]}).services[0]
    assert (service.tracing.sampling_percentage, service.tracing.keep_errors, service.tracing.keep_slower_than) == (100.0, True, "")
    assert [p["name"] for p in tracing.sampling_policies([service])] == ["a-all"]
    zero = parse({"services": [{"name": "b", "tracing": {"samplingPercentage": 0, "keepSlowerThan": "500ms"}}]}).services[0]
    assert [(p["name"], p["and"]["and_sub_policy"][1]) for p in tracing.sampling_policies([zero])] == [
        ("b-errors", {"name": "b-errors-rule", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}}),
        ("b-slow", {"name": "b-slow-rule", "type": "latency", "latency": {"threshold_ms": 500}})]


# --------------------------------------------------------------------------- alerts (promtool)

# (alert, input series, eval minute, firing labels or None): each boundary of the design's windows and thresholds.
GW = 'job="otel-gateway",instance="10.20.0.11:8888"'
SAMPLER = 'job="otel-sampler",instance="10.20.0.21:8888"'
SCENARIOS = [
    ("TraceSpansRefused", [(f'otelcol_receiver_refused_spans_total{{{GW},receiver="otlp",transport="grpc"}}', "0+60x20")], 11,
     {"job": "otel-gateway"}),
    ("TraceSpansRefused", [(f'otelcol_receiver_refused_spans_total{{{GW},receiver="otlp",transport="grpc"}}', "0+60x20")], 10, None),
    ("TraceSpansRefused", [(f'otelcol_receiver_refused_spans_total{{{GW},receiver="otlp",transport="grpc"}}', "0x20")], 15, None),
    ("TraceExporterFailing", [(f'otelcol_exporter_send_failed_spans_total{{{GW},exporter="loadbalancing"}}', "0+18x20"),
                              (f'otelcol_exporter_sent_spans_total{{{GW},exporter="loadbalancing"}}', "0+282x20")], 11,
     {"job": "otel-gateway", "exporter": "loadbalancing"}),  # 6% fail
    ("TraceExporterFailing", [(f'otelcol_exporter_send_failed_spans_total{{{GW},exporter="loadbalancing"}}', "0+12x20"),
                              (f'otelcol_exporter_sent_spans_total{{{GW},exporter="loadbalancing"}}', "0+288x20")], 15, None),  # 4%
    ("TraceExporterFailing", [(f'otelcol_exporter_send_failed_spans_total{{{GW},exporter="loadbalancing"}}', "0+18x20"),
                              (f'otelcol_exporter_sent_spans_total{{{GW},exporter="loadbalancing"}}', "0+282x20")], 10, None),
    ("TraceExporterQueueFull", [(f'otelcol_exporter_enqueue_failed_spans_total{{{SAMPLER},exporter="otlp/jaeger"}}', "0+60x15")], 6,
     {"job": "otel-sampler", "exporter": "otlp/jaeger"}),
    ("TraceExporterQueueFull", [(f'otelcol_exporter_enqueue_failed_spans_total{{{SAMPLER},exporter="otlp/jaeger"}}', "0+60x15")], 5, None),
    ("TraceSamplerDroppingTraces", [(f"otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total{{{SAMPLER}}}", "0+10x20")], 11,
     {"job": "otel-sampler"}),
    ("TraceSamplerDroppingTraces", [(f"otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total{{{SAMPLER}}}", "0x20")], 15,
     None),
    ("TracePipelineDown", [(f"up{{{GW}}}", "0x10"), (f"up{{{SAMPLER}}}", "1x10"), ('up{job="jaeger",instance="10.20.0.31:8888"}', "1x10")],
     5, {"job": "otel-gateway"}),
    ("TracePipelineDown", [(f"up{{{GW}}}", "0x10"), (f"up{{{SAMPLER}}}", "1x10"), ('up{job="jaeger",instance="10.20.0.31:8888"}', "1x10")],
     4, None),
    ("TracePipelineDown", [(f"up{{{GW}}}", "1x10"), (f"up{{{SAMPLER}}}", "1x10")], 5, {"job": "jaeger"}),  # Jaeger never scraped
    ("TracePipelineDown", [(f"up{{{GW}}}", "1x10"), (f"up{{{SAMPLER}}}", "1x10"), ('up{job="jaeger",instance="10.20.0.31:8888"}', "1x10")],
     10, None),
]


def _without_annotations(group: dict) -> dict:
    """The rules as promtool tests them: the alert's labels and timing (annotation texts: promtool check rules, runbook test)."""
    group = copy.deepcopy(group)
    for rule in group["rules"]:
        rule.pop("annotations", None)
    return group


def _promtool_suite(group: dict, tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "tracing.rules.yml").write_text(yaml.safe_dump({"groups": [_without_annotations(group)]}))
    tests = [{
        "name": f"{alert} at {minute}m: {'fires' if labels else 'quiet'}",
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "alert_rule_test": [{"eval_time": f"{minute}m", "alertname": alert,
                             "exp_alerts": [{"exp_labels": {"severity": "warning", "priority": "P3", "service": "tracing", "alertname": alert,
                                                           **labels}}]
                             if labels else []}],
    } for alert, series, minute, labels in SCENARIOS]
    path = tmp_path / "tracing.test.yml"
    path.write_text(yaml.safe_dump({"rule_files": ["tracing.rules.yml"], "evaluation_interval": "1m", "tests": tests}, width=1 << 20))
    return path


@pytest.fixture
def promtool() -> str:
    from tests.monitoring.conftest import tool

    return tool("promtool")


def _run(*cmd: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.tools
def test_the_deployed_rules_pass_promtool_check(prod, promtool, tmp_path):
    (record,) = in_tracing(prod, PROM_RULE)
    (tmp_path / "r.yml").write_text(yaml.safe_dump({"groups": props(record)["spec"]["groups"]}))
    result = _run(promtool, "check", "rules", str(tmp_path / "r.yml"))
    assert result.returncode == 0 and "SUCCESS: 5 rules found" in result.stdout, result.stdout + result.stderr


@pytest.mark.tools
def test_every_alert_fires_at_its_boundary_and_stays_quiet_before_and_below(promtool, tmp_path):
    group = tracing.alert_group(RUNBOOK_BASE)
    assert {a for a, *_ in SCENARIOS} == {r["alert"] for r in group["rules"]}
    result = _run(promtool, "test", "rules", str(_promtool_suite(group, tmp_path)), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


MUTANTS = {
    "no for": lambda r: r.update({"for": "0m"}),
    "failure ratio 5% -> 3%": lambda r: r.update(expr=r["expr"].replace("> 0.05", "> 0.03")) if r["alert"] == "TraceExporterFailing" else None,
    "pipeline down after 3m": lambda r: r.update({"for": "3m"}) if r["alert"] == "TracePipelineDown" else None,
    "refusals over 1/s only": lambda r: r.update(expr=r["expr"].replace(") > 0", ") > 1")) if r["alert"] == "TraceSpansRefused" else None,
}


@pytest.mark.tools
@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_a_changed_threshold_or_window_fails_the_scenarios(promtool, tmp_path, mutant):
    group = tracing.alert_group(RUNBOOK_BASE)
    for rule in group["rules"]:
        MUTANTS[mutant](rule)
    result = _run(promtool, "test", "rules", str(_promtool_suite(group, tmp_path)), cwd=tmp_path)
    assert result.returncode != 0, f"mutant {mutant!r} survived"


def test_every_alert_is_labelled_and_links_a_runbook_page_with_its_sections(prod):
    (record,) = in_tracing(prod, PROM_RULE)
    assert props(record)["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    for rule in props(record)["spec"]["groups"][0]["rules"]:
        assert rule["labels"] == {"severity": "warning", "priority": "P3", "service": "tracing"}  # traces never page
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        page = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", rule["alert"]).lower()
        assert rule["annotations"]["runbook_url"] == f"{RUNBOOK_BASE}/{page}.md#{rule['alert'].lower()}"
        text = (ROOT / "docs" / "runbooks" / f"{page}.md").read_text()
        assert text.startswith(f"# {rule['alert']}\n")
        assert all(f"\n## {s}\n" in text for s in ("What it means", "First checks", "Mitigation")), page
        assert f"[{page}.md]({page}.md)" in (ROOT / "docs" / "runbooks" / "README.md").read_text()
