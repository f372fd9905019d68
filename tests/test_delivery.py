"""The Delivery component: Argo Rollouts, SLO AnalysisTemplates, Rollouts, alerts, the ALB's canary routing and docs."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
import yaml

from components import delivery
from components.config import ConfigError, ServiceConfig, SloConfig, TrafficRouterPluginConfig, parse
from components.edge import CANARY_WEIGHTS
from components.monitoring import rules
from tests.conftest import prod_config
from tests.helpers import deps, of_type, one, props

ROOT = pathlib.Path(__file__).resolve().parent.parent
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
TEMPLATE = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"
RELEASE = "kubernetes:helm.sh/v3:Release"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
PROM_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
TG = "aws:lb/targetGroup:TargetGroup"
RULE = "aws:lb/listenerRule:ListenerRule"
TGB = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
PROD_SERVICES = ("signal-service", "listings-service", "trading-api", "config-service")
# Behind the load balancer: the canary weights are the ALB's (the internal config-service's are the replicas').
PUBLIC_SERVICES = ("signal-service", "listings-service", "trading-api")
PROD_STEPS = [{"setWeight": 10}, {"pause": {"duration": "2h"}}, "analysis", {"setWeight": 50}, {"pause": {"duration": "2h"}},
              "analysis", {"setWeight": 100}]
RUNBOOK_BASE = "https://github.com/golive-platform/golive/blob/main/docs/runbooks"
OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"


def in_delivery(synth, type_):
    return [r for r in of_type(synth, type_) if "golive:delivery:Delivery" in r["urn"]]


def by_name(records):
    return {props(r)["metadata"]["name"]: r for r in records}


def steps_shape(steps):
    return ["analysis" if "analysis" in s else s for s in steps]


def prod_parsed():
    from golive import engine

    flat, _ = engine.load_stack_config("prod")
    return parse({k.split(":", 1)[1]: v for k, v in flat.items() if k.startswith("golive:")})


# A catalog with every strategy: public canary, public blue-green, public none, internal canary.
MIXED = [
    {"name": "trading-api", "host": "trading.golive.example.com"},
    {"name": "listings-service", "host": "listings.golive.example.com", "delivery": "blueGreen",
     "previewHost": "listings-preview.golive.example.com"},
    {"name": "signal-service", "host": "signals.golive.example.com", "delivery": "none"},
    {"name": "worker"},
]


@pytest.fixture
def promtool() -> str:
    from tests.monitoring.conftest import tool

    return tool("promtool")


@pytest.fixture(scope="module")
def mixed():
    from golive import engine

    # Staging: production refuses `delivery: none`, which this catalog shows beside the others.
    config, secret_keys = prod_config({"services": MIXED, "environment": "staging"})
    return engine.synth("prod", config=config, secret_keys=secret_keys)


# --------------------------------------------------------------------------- the controller


def test_prod_has_one_template_and_one_rollout_per_catalog_service(prod):
    templates, rollouts = by_name(in_delivery(prod, TEMPLATE)), by_name(in_delivery(prod, ROLLOUT))
    assert set(templates) == {f"{s}-slo" for s in PROD_SERVICES}
    assert set(rollouts) == set(PROD_SERVICES)
    for svc, rollout in rollouts.items():
        assert props(rollout)["metadata"]["namespace"] == svc == props(templates[f"{svc}-slo"])["metadata"]["namespace"]
        assert props(rollout)["apiVersion"] == "argoproj.io/v1alpha1"


def test_argo_rollouts_is_a_pinned_helm_release_with_its_own_role(prod):
    (release,) = [r for r in of_type(prod, RELEASE) if props(r)["chart"] == "argo-rollouts"]
    p = props(release)
    assert p["version"] == "2.40.9" and p["repositoryOpts"] == {"repo": "https://argoproj.github.io/argo-helm"}
    assert p["namespace"] == "argo-rollouts" and p["atomic"] is True
    values = p["values"]
    assert values["controller"]["metrics"]["enabled"] is True and values["controller"]["replicas"] == 2
    # golive's plugin release, by default (tests/test_delivery_plugin.py proves the SHA-256 is its reproducible build)
    assert values["controller"]["trafficRouterPlugins"] == [{
        "name": "golive/alb-listener-rule",
        "location": "https://github.com/golive-platform/golive/releases/download/alb-traffic-router-v0.1.0/alb-traffic-router-linux-amd64",
        "sha256": TrafficRouterPluginConfig().sha256,
    }]
    assert values["providerRBAC"] == {"enabled": False} and values["dashboard"] == {"enabled": False}
    sa = values["serviceAccount"]
    assert sa["name"] == "argo-rollouts" and sa["annotations"]["eks.amazonaws.com/role-arn"].startswith(
        "arn:aws:iam::123456789012:role/golive-argo-rollouts")
    (role_urn,) = [u for u in deps(release, "values") if "aws:iam/role:Role" in u]
    trust = json.loads(props(prod.by_urn()[role_urn])["assumeRolePolicy"])["Statement"][0]
    assert list(trust["Condition"]["StringEquals"].values())[0] == "system:serviceaccount:argo-rollouts:argo-rollouts"
    namespace = one(prod, "kubernetes:core/v1:Namespace", "golive-argo-rollouts")
    assert props(namespace)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespace["urn"] in release["options"]["dependsOn"]


def test_the_configured_plugin_release_is_what_the_controller_installs(synth_config):
    plugin = {"location": "https://artifacts.example.com/alb-traffic-router-linux-amd64", "sha256": "b" * 64}
    result = synth_config({"delivery": {"trafficRouterPlugin": plugin}})
    (release,) = [r for r in of_type(result, RELEASE) if props(r)["chart"] == "argo-rollouts"]
    assert props(release)["values"]["controller"]["trafficRouterPlugins"] == [{"name": "golive/alb-listener-rule", **plugin}]


def test_controller_role_may_only_change_the_weights_of_canary_rules(prod):
    policy = next(r for r in of_type(prod, "aws:iam/rolePolicy:RolePolicy") if "argo-rollouts" in r["name"])
    statements = {s["Sid"]: s for s in json.loads(props(policy)["policy"])["Statement"]}
    assert set(statements) == {"ReadListenerRules", "SetCanaryWeights"}
    # what the plugin calls: DescribeRules (SetWeight and VerifyWeight read the rule) and ModifyRule
    assert statements["ReadListenerRules"]["Action"] == "elasticloadbalancing:DescribeRules"
    assert statements["ReadListenerRules"]["Resource"] == "*"  # Describe* calls take no resource-level permissions
    write = statements["SetCanaryWeights"]
    assert write["Action"] == "elasticloadbalancing:ModifyRule"
    assert write["Resource"] == "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/*"
    assert write["Condition"] == {"StringEquals": {"aws:ResourceTag/golive:delivery": "canary"}}
    # exactly the canary services' rules carry that tag
    tagged = {props(r)["tags"]["golive:service"] for r in of_type(prod, RULE) if props(r)["tags"].get("golive:delivery") == "canary"}
    assert tagged == set(PUBLIC_SERVICES)


def test_without_canary_routing_the_role_cannot_modify_rules():
    from components.config import AwsAccount

    policy = delivery.controller_policy(AwsAccount("123456789012", "eu-west-1"), canary_rules=False)
    assert [s["Sid"] for s in policy["Statement"]] == ["ReadListenerRules"]


def test_controller_metrics_are_scraped_with_the_rollouts_own_labels(prod):
    (monitor,) = in_delivery(prod, MONITOR)
    p = props(monitor)
    assert p["metadata"]["labels"]["release"] == "kube-prometheus-stack"  # what the monitoring stack selects
    (endpoint,) = p["spec"]["endpoints"]
    assert endpoint["port"] == "metrics" and endpoint["honorLabels"] is True
    assert p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "rollouts-controller"
    assert p["spec"]["namespaceSelector"] == {"matchNames": ["argo-rollouts"]}
    stack = next(r for r in of_type(prod, RELEASE) if props(r)["chart"] == "kube-prometheus-stack")
    assert stack["urn"] in monitor["options"]["dependsOn"]
    policies = {props(r)["metadata"]["name"]: props(r) for r in of_type(prod, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
                if props(r)["metadata"]["namespace"] == "argo-rollouts"}
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    (ingress,) = policies["allow-metrics"]["spec"]["ingress"]
    assert ingress["ports"] == [{"port": 8090, "protocol": "TCP"}]


def test_alerts_are_deployed_through_the_rule_model(prod):
    (rule,) = in_delivery(prod, PROM_RULE)
    p = props(rule)
    assert p["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert p["spec"] == {"groups": [rules.group_dict(delivery.alert_group(), RUNBOOK_BASE)]}
    names = {r["alert"]: r for r in p["spec"]["groups"][0]["rules"]}
    assert set(names) == {"RolloutAborted", "RolloutDegraded", "AnalysisRunFailed"}
    assert names["RolloutDegraded"]["labels"]["severity"] == "critical"
    assert names["RolloutAborted"]["annotations"]["runbook_url"].endswith("/rollout-aborted.md#rolloutaborted")


# --------------------------------------------------------------------------- Rollouts


def test_prod_canary_steps_render_as_configured_with_real_alb_routing(prod):
    rollouts = by_name(in_delivery(prod, ROLLOUT))
    rules_by_svc = {props(r)["tags"]["golive:service"]: r for r in of_type(prod, RULE)}
    groups = {(props(g)["tags"]["golive:service"], props(g)["tags"]["golive:role"]): g for g in of_type(prod, TG)}
    assert set(rollouts) == set(PROD_SERVICES)
    for svc, rollout in rollouts.items():
        spec = props(rollout)["spec"]
        canary = spec["strategy"]["canary"]
        assert steps_shape(canary["steps"]) == PROD_STEPS
        for step in canary["steps"]:
            if "analysis" in step:
                assert step["analysis"]["templates"] == [{"templateName": f"{svc}-slo"}]
                assert step["analysis"]["args"] == [{"name": "new-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]
        if svc in PUBLIC_SERVICES:
            assert canary["stableService"] == svc and canary["canaryService"] == f"{svc}-canary"
            plugin = canary["trafficRouting"]["plugins"]["golive/alb-listener-rule"]
            assert set(plugin) == {"listenerRuleArn", "stableTargetGroupArn", "canaryTargetGroupArn", "region"}
            assert plugin["region"] == "eu-west-1"  # the edge's ALB is in the stack's region
            assert sorted(deps(rollout, "spec")) == sorted([rules_by_svc[svc]["urn"], groups[(svc, "stable")]["urn"],
                                                            groups[(svc, "canary")]["urn"]])
        else:  # no ALB route: the canary's share is its share of the replicas
            assert "trafficRouting" not in canary and "canaryService" not in canary, svc
        assert spec["workloadRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": svc, "scaleDown": "onsuccess"}
        assert spec["replicas"] == 2 and spec["progressDeadlineAbort"] is True
        assert rollout["options"]["ignoreChanges"] == ["spec.replicas"]


def test_shorter_steps_render_as_configured_outside_production(synth_config):
    steps = [{"setWeight": 20}, {"pause": "10m"}, {"analysis": True}, {"setWeight": 60}, {"pause": "5m"}, {"setWeight": 100}]
    result = synth_config({"environment": "staging", "delivery": {"canarySteps": steps, "analysisInterval": "2m",
                                                                 "analysisCount": 4, "analysisFailureLimit": 2}})
    rollout = by_name(in_delivery(result, ROLLOUT))["trading-api"]
    assert steps_shape(props(rollout)["spec"]["strategy"]["canary"]["steps"]) == [
        {"setWeight": 20}, {"pause": {"duration": "10m"}}, "analysis", {"setWeight": 60}, {"pause": {"duration": "5m"}},
        {"setWeight": 100}]
    (metric, *_) = props(by_name(in_delivery(result, TEMPLATE))["trading-api-slo"])["spec"]["metrics"]
    assert (metric["interval"], metric["count"], metric["failureLimit"]) == ("2m", 4, 2)
    assert "[2m]" in metric["provider"]["prometheus"]["query"]


def test_every_strategy_of_a_mixed_catalog(mixed):
    rollouts, templates = by_name(in_delivery(mixed, ROLLOUT)), by_name(in_delivery(mixed, TEMPLATE))
    assert set(rollouts) == {"trading-api", "listings-service", "worker"}  # signal-service: delivery none
    assert set(templates) == {"trading-api-slo", "listings-service-slo", "worker-slo"}
    blue_green = props(rollouts["listings-service"])["spec"]["strategy"]["blueGreen"]
    assert blue_green["activeService"] == "listings-service" and blue_green["previewService"] == "listings-service-preview"
    for phase in ("prePromotionAnalysis", "postPromotionAnalysis"):
        assert blue_green[phase]["templates"] == [{"templateName": "listings-service-slo"}]
    assert blue_green["scaleDownDelaySeconds"] == 3 * 300 + 60  # the old stack outlives post-promotion analysis
    internal = props(rollouts["worker"])["spec"]["strategy"]["canary"]
    assert set(internal) == {"steps"}  # no ALB: the canary share is the replica ratio


def test_blue_green_gets_a_preview_host_rule_target_group_and_binding(mixed):
    groups = {(props(g)["tags"]["golive:service"], props(g)["tags"]["golive:role"]) for g in of_type(mixed, TG)}
    assert groups == {("trading-api", "stable"), ("trading-api", "canary"), ("listings-service", "stable"),
                      ("listings-service", "preview"), ("signal-service", "stable")}
    preview_rule = one(mixed, RULE, "listings-service-preview-rule")
    conditions = props(preview_rule)["conditions"]
    assert conditions == [{"hostHeader": {"values": ["listings-preview.golive.example.com"]}}]
    priorities = [props(r)["priority"] for r in of_type(mixed, RULE)]
    assert len(set(priorities)) == len(priorities) and props(preview_rule)["priority"] == max(priorities)
    preview_group = next(g for g in of_type(mixed, TG) if props(g)["tags"]["golive:role"] == "preview")
    assert deps(preview_rule, "actions") == [preview_group["urn"]]
    cert = one(mixed, "aws:acm/certificate:Certificate")
    assert "listings-preview.golive.example.com" in props(cert)["subjectAlternativeNames"]
    aliases = {props(r)["name"] for r in of_type(mixed, "aws:route53/record:Record") if props(r)["type"] == "A"}
    assert "listings-preview.golive.example.com" in aliases
    bindings = {props(b)["metadata"]["name"]: b for b in of_type(mixed, TGB)}
    assert set(bindings) == {"trading-api", "trading-api-canary", "listings-service", "listings-service-preview", "signal-service"}
    assert deps(bindings["listings-service-preview"], "spec") == [preview_group["urn"]]
    # only canary rules split traffic; delivery none and blue-green forward plainly
    plain = [one(mixed, RULE, f"{svc}-rule") for svc in ("signal-service", "listings-service")]
    assert all("forward" not in props(r)["actions"][0] and "golive:delivery" not in props(r)["tags"] for r in plain)


def test_canary_rule_weights_are_left_to_argo_rollouts(prod):
    for rule in of_type(prod, RULE):
        assert rule["options"]["ignoreChanges"] == [CANARY_WEIGHTS]
    assert CANARY_WEIGHTS == "actions[0].forward.targetGroups[*].weight"


def test_component_in_isolation_uses_the_routing_it_is_given(synth_program):
    services = (ServiceConfig(name="api", host="api.example.com"), ServiceConfig(name="batch", delivery="none"))

    def program():
        cfg = parse({})
        provider = aws.Provider("aws-primary", region="eu-west-1")
        k8s_provider = k8s.Provider("k8s", kubeconfig="{}")
        delivery.Delivery(
            "golive",
            delivery.DeliveryArgs(
                config=cfg.delivery, services=services, account=cfg.aws, oidc_provider_arn=OIDC_ARN,
                oidc_issuer="oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE", prometheus_address="http://prometheus:9090",
                routing={"api": delivery.ServiceRouting("arn:rule", "arn:stable", "arn:canary")},
            ),
            opts=pulumi.ResourceOptions(providers={"aws": provider, "kubernetes": k8s_provider}),
        )

    result = synth_program(program)
    (rollout,) = of_type(result, ROLLOUT)
    plugin = props(rollout)["spec"]["strategy"]["canary"]["trafficRouting"]["plugins"]["golive/alb-listener-rule"]
    assert plugin == {"listenerRuleArn": "arn:rule", "stableTargetGroupArn": "arn:stable", "canaryTargetGroupArn": "arn:canary",
                      "region": "eu-west-1"}
    (template,) = of_type(result, TEMPLATE)
    assert {m["provider"]["prometheus"]["address"] for m in props(template)["spec"]["metrics"]} == {"http://prometheus:9090"}
    assert len(of_type(result, "kubernetes:helm.sh/v3:Release")) == 1


# --------------------------------------------------------------------------- analysis from the SLO


def test_prod_templates_query_the_monitoring_prometheus(prod):
    for template in in_delivery(prod, TEMPLATE):
        for metric in props(template)["spec"]["metrics"]:
            assert metric["provider"]["prometheus"]["address"] == (
                "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090")
            assert (metric["interval"], metric["count"], metric["failureLimit"]) == ("5m", 3, 1)


def test_queries_and_limits_derive_from_the_catalog_slo():
    cfg = parse({}).delivery
    service = ServiceConfig(name="pay", slo=SloConfig(availability=99.5, latency_threshold_seconds=0.5, latency_target=99))
    queries = delivery.analysis_queries(service, cfg)
    assert set(queries) == {"error-ratio", "latency-p99"}
    error, limit = queries["error-ratio"]
    assert limit == pytest.approx(2.0 * 0.005)  # maxBurnRate x (1 - 99.5%)
    assert error == delivery._scope_to_new_pods(rules.sli_expressions(service, "5m")["availability"], service)
    latency, seconds = queries["latency-p99"]
    assert latency.startswith("histogram_quantile(0.99,") and seconds == 0.5
    assert error.count('pod=~"pay-{{args.new-hash}}-.+"') == 2 and latency.count("pod=~") == 1
    spec = delivery.analysis_template_spec(service, cfg, "http://p:9090")
    conditions = {m["name"]: (m["successCondition"], m["failureCondition"]) for m in spec["metrics"]}
    assert conditions["error-ratio"] == ("len(result) > 0 && result[0] <= 0.01", "len(result) > 0 && result[0] > 0.01")
    assert conditions["latency-p99"] == ("len(result) > 0 && result[0] <= 0.5", "len(result) > 0 && result[0] > 0.5")
    assert spec["args"] == [{"name": "new-hash"}]


def test_a_query_without_the_services_selector_cannot_be_scoped():
    with pytest.raises(ValueError, match="cannot scope"):
        delivery._scope_to_new_pods("sum(rate(http_requests_total[5m]))", ServiceConfig(name="pay"))


NEW_HASH = "6f7d9c8b5"


def _substituted(query: str) -> str:
    return query.replace("{{args.new-hash}}", NEW_HASH)


def _analysis_group(service: ServiceConfig, cfg) -> rules.RuleGroup:
    """Each metric's failure condition as an alert, with a healthy and an unhealthy new version.

    The stable pods fail half their requests and are slow in both scenarios: the queries must see only the new pods.
    """
    svc = service.name
    new, old = f'service="{svc}",pod="{svc}-{NEW_HASH}-x2k4p"', f'service="{svc}",pod="{svc}-58b7c9d4f-abcde"'
    alerts = []
    queries = delivery.analysis_queries(service, cfg)
    for metric, (query, limit) in queries.items():
        if metric == "error-ratio":
            def series(bad_per_min: int, sel: str) -> tuple[tuple[str, str], ...]:
                return ((f'http_requests_total{{{sel},route="/",code="200"}}', f"0+{1000 - bad_per_min}x15"),
                        (f'http_requests_total{{{sel},route="/",code="500"}}', f"0+{bad_per_min}x15"))
            healthy, unhealthy = series(1, new), series(50, new)  # 0.1% and 5% errors against a 0.2% limit
            stable = series(500, old)
        else:
            def series(slow_per_min: int, sel: str) -> tuple[tuple[str, str], ...]:
                fast = 1000 - slow_per_min
                return ((f'http_request_duration_seconds_bucket{{{sel},le="0.5"}}', f"0+{fast // 2}x15"),
                        (f'http_request_duration_seconds_bucket{{{sel},le="1"}}', f"0+{fast}x15"),
                        (f'http_request_duration_seconds_bucket{{{sel},le="2"}}', "0+1000x15"),
                        (f'http_request_duration_seconds_bucket{{{sel},le="+Inf"}}', "0+1000x15"))
            healthy, unhealthy = series(10, new), series(200, new)  # 1% and 20% slower than 1s against p95 <= 1s
            stable = series(600, old)
        alerts.append(rules.Alert(
            name=f"Analysis{''.join(p.capitalize() for p in re.split(r'[-_]', metric))}Fails",
            expr=f"({_substituted(query)}) > {limit!r}",
            severity="info", service=svc, summary=f"{metric} fails", description=f"the new version breaks its {metric} limit",
            runbook="AnalysisRunFailed",
            fires=rules.Scenario("unhealthy new version", (*unhealthy, *stable), at="10m", firing=(rules.Firing({}),)),
            quiet=rules.Scenario("healthy new version", (*healthy, *stable), at="10m"),
        ))
    return rules.RuleGroup(f"analysis-{svc}", tuple(alerts))


def _run(*cmd: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.mark.tools
def test_rendered_queries_parse_as_promql(promtool, tmp_path):
    config = prod_parsed()
    records = []
    for service in config.services:
        for i, (query, _) in enumerate(delivery.analysis_queries(service, config.delivery).values()):
            name = service.name.replace("-", "_")
            records.append({"record": f"analysis:{name}:q{i}", "expr": query})  # as Argo receives it before substitution
            records.append({"record": f"analysis:{name}:q{i}_substituted", "expr": _substituted(query)})
    path = tmp_path / "analysis.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "analysis", "rules": records}]}))
    result = _run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(records)} rules found" in result.stdout


@pytest.mark.tools
def test_analysis_passes_a_healthy_new_version_and_fails_an_unhealthy_one(promtool, tmp_path):
    config = prod_parsed()
    service = next(s for s in config.services if s.name == "trading-api")
    group = _analysis_group(service, config.delivery)
    (tmp_path / "a.rules.yml").write_text(yaml.safe_dump(rules.rule_file([group], RUNBOOK_BASE), sort_keys=False))
    (suite,) = rules.promtool_tests(group, "a.rules.yml", RUNBOOK_BASE)
    (tmp_path / "a.test.yml").write_text(yaml.safe_dump(suite, sort_keys=False, width=1 << 30))
    result = _run(promtool, "test", "rules", "a.test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    names = [t["name"] for t in suite["tests"]]
    assert len(names) == 4 and sum("fires" in n for n in names) == 2 and sum("stays quiet" in n for n in names) == 2


@pytest.mark.tools
def test_analysis_values_are_the_new_pods_error_ratio_and_percentile(promtool, tmp_path):
    """promql_expr_test: the queries measure the new pods only (the stable pods are far worse)."""
    config = prod_parsed()
    service = next(s for s in config.services if s.name == "trading-api")
    queries = delivery.analysis_queries(service, config.delivery)
    group = _analysis_group(service, config.delivery)
    unhealthy = {a.name: a.fires.series for a in group.alerts}
    (error_name, latency_name) = [a.name for a in group.alerts]
    (tmp_path / "empty.rules.yml").write_text(yaml.safe_dump({"groups": []}))
    tests = [
        {"interval": "1m", "input_series": [{"series": s, "values": v} for s, v in unhealthy[error_name]],
         "promql_expr_test": [{"expr": _substituted(queries["error-ratio"][0]), "eval_time": "10m",
                               # 50 of 1000 requests a minute fail: 5% (as float64 division yields it)
                               "exp_samples": [{"labels": "{}", "value": 0.049999999999999996}]}]},
        {"interval": "1m", "input_series": [{"series": s, "values": v} for s, v in unhealthy[latency_name]],
         "promql_expr_test": [{"expr": _substituted(queries["latency-p95"][0]), "eval_time": "10m",
                               # 80% within 1s, all within 2s: the 95th percentile interpolates to 1.75s
                               "exp_samples": [{"labels": "{}", "value": 1.75}]}]},
        {"interval": "1m", "input_series": [],  # no request reached the new pods: no sample, so Inconclusive
         "promql_expr_test": [{"expr": _substituted(queries["error-ratio"][0]), "eval_time": "10m", "exp_samples": []}]},
    ]
    (tmp_path / "v.test.yml").write_text(yaml.safe_dump({"rule_files": ["empty.rules.yml"], "evaluation_interval": "1m",
                                                         "tests": tests}, sort_keys=False, width=1 << 30))
    result = _run(promtool, "test", "rules", "v.test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- alerts


@pytest.mark.tools
def test_delivery_alerts_parse_fire_and_stay_quiet_under_promtool(promtool, tmp_path):
    group = delivery.alert_group()
    (tmp_path / "d.rules.yml").write_text(yaml.safe_dump(rules.rule_file([group], RUNBOOK_BASE), sort_keys=False))
    check = _run(promtool, "check", "rules", str(tmp_path / "d.rules.yml"))
    assert check.returncode == 0 and "SUCCESS: 3 rules found" in check.stdout, check.stdout + check.stderr
    files = []
    for i, suite in enumerate(rules.promtool_tests(group, "d.rules.yml", RUNBOOK_BASE)):
        path = tmp_path / f"d.{i}.test.yml"
        path.write_text(yaml.safe_dump(suite, sort_keys=False, width=1 << 30))
        files.append(path)
    result = _run(promtool, "test", "rules", *map(str, files), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    tests = [t for f in files for t in yaml.safe_load(f.read_text())["tests"]]
    assert len(tests) == 6  # each alert fires once and stays quiet once


def test_every_alert_has_its_runbook_page_with_the_three_sections():
    group = delivery.alert_group()
    for alert in group.alerts:
        assert alert.severity in rules.SEVERITIES and "$value" in alert.description
        page = ROOT / "docs" / "runbooks" / f"{rules.runbook_page(alert.name)}.md"
        text = page.read_text()
        assert text.startswith(f"# {alert.name}\n")
        assert f"Severity: **{alert.severity}**" in text
        for section in ("What it means", "First checks", "Mitigation"):
            assert f"## {section}" in text, f"{page.name} lacks '## {section}'"


def test_alerts_use_metrics_argo_rollouts_exposes():
    exposed = {"rollout_info", "analysis_run_info"}
    for alert in delivery.alert_group().alerts:
        from policy.rules.delivery import promql_metrics

        assert promql_metrics(alert.expr) <= exposed, alert.name


# --------------------------------------------------------------------------- docs


def test_committed_doc_is_the_rendered_one():
    committed = (ROOT / "docs" / "delivery.md").read_text()
    assert committed == delivery.render_doc(prod_parsed()), "docs/delivery.md is stale: run `python -m components.delivery`"


def test_doc_shows_each_services_rollout_template_and_routing():
    doc = delivery.render_doc(prod_parsed())
    for svc in PROD_SERVICES:
        assert f"### {svc}" in doc and f"name: {svc}-slo" in doc
    for svc in PUBLIC_SERVICES:
        assert f"golive-{svc}-canary-tg" in doc and f"canaryService: {svc}-canary" in doc
    assert "setWeight 10, pause 2h, analysis, setWeight 50, pause 2h, analysis, setWeight 100" in doc
    assert "golive/alb-listener-rule" in doc and "not published yet" not in doc
    # how weights move and how to roll back by hand
    assert "| `SetWeight(w)` |" in doc and "| `RemoveManagedRoutes` |" in doc and "stack output `canaryRouting`" in doc
    assert 'aws elbv2 modify-rule --region "$REGION" --rule-arn "$RULE" --actions "$ACTIONS"' in doc
    assert "region: eu-west-1" in doc


def test_the_manual_rollback_in_the_doc_restores_stable_100_canary_0():
    """The doc's jq program builds the actions `aws elbv2 modify-rule` takes: one forward, stable 100, canary 0."""
    import shutil

    doc = delivery.render_doc(prod_parsed())
    program = re.search(r"ACTIONS=\$\(jq -nc --arg s \"\$STABLE\" --arg c \"\$CANARY\" \\\n  '([^']+)'\)", doc)
    assert program, "the rollback's jq program"
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed")
    out = subprocess.run([jq, "-nc", "--arg", "s", "arn:stable", "--arg", "c", "arn:canary", program.group(1)],
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": "arn:stable", "Weight": 100}, {"TargetGroupArn": "arn:canary", "Weight": 0}]}}]


# --------------------------------------------------------------------------- config


def steps(*items):
    return {"delivery": {"canarySteps": list(items)}}


W10, W50, W100, PAUSE, ANALYSIS = {"setWeight": 10}, {"setWeight": 50}, {"setWeight": 100}, {"pause": "2h"}, {"analysis": True}
EDGE = {"edge": {"domain": "example.com", "hostedZoneId": "Z1"}}


@pytest.mark.parametrize(
    "raw, key, rule",
    [
        (steps(W50, PAUSE, ANALYSIS, W10, W100), "golive:delivery.canarySteps[3].setWeight",
         "weights must increase step by step; the previous setWeight is 50"),
        (steps(W10, PAUSE, ANALYSIS, W50), "golive:delivery.canarySteps", "the last setWeight must be 100"),
        (steps(W10, {"pause": "1m"}, ANALYSIS, W100), "golive:delivery.canarySteps[1].pause", "is shorter than analysisInterval (5m)"),
        (steps(W10, {"pause": "30m"}, ANALYSIS, W100), "golive:delivery.canarySteps[1].pause", "production soaks each weight at least 2h"),
        (steps(W10, {"pause": "2 hours"}, ANALYSIS, W100), "golive:delivery.canarySteps[1].pause", "one unit"),
        (steps(ANALYSIS, W10, PAUSE, W100), "golive:delivery.canarySteps[0].analysis", "must follow a setWeight"),
        (steps(W10, PAUSE, W100), "golive:delivery.canarySteps", "needs at least one analysis step"),
        (steps({"setWeight": 10, "pause": "2h"}, ANALYSIS, W100), "golive:delivery.canarySteps[0]", "exactly one of"),
        (steps(W10, {"setWeight": 150}), "golive:delivery.canarySteps[1].setWeight", "from 1 to 100"),
        ({"delivery": {"analysisFailureLimit": 3}}, "golive:delivery.analysisFailureLimit", "analysisCount - 1 (2)"),
        ({"delivery": {"analysisInterval": "30s"}}, "golive:delivery.analysisInterval", "at least 1m"),
        ({"delivery": {"chartVersion": "2.x"}}, "golive:delivery.chartVersion", "exact chart version"),
        ({"delivery": {"trafficRouterPlugin": {"location": "https://example.com/plugin", "sha256": "ABC"}}},
         "golive:delivery.trafficRouterPlugin.sha256", "SHA-256 (64 lowercase hex digits)"),
        ({"delivery": {"trafficRouterPlugin": {"location": "http://example.com/plugin"}}},
         "golive:delivery.trafficRouterPlugin.location", "must be the https:// URL"),
        ({"delivery": {"trafficRouterPlugin": {"location": ""}}}, "golive:delivery.trafficRouterPlugin.location", "https://"),
        ({"delivery": {"trafficRouterPluginUrl": "https://example.com/plugin"}}, "golive:delivery.trafficRouterPluginUrl",
         "did you mean 'trafficRouterPlugin'"),
        ({**EDGE, "services": [{"name": "a", "host": "a.example.com", "delivery": "blueGreen"}]},
         "golive:services[0].previewHost", "a blueGreen service needs a preview host"),
        ({**EDGE, "services": [{"name": "a", "host": "a.example.com", "previewHost": "p.example.com"}]},
         "golive:services[0].previewHost", "only applies to delivery blueGreen"),
        ({**EDGE, "services": [{"name": "a", "host": "a.example.com", "delivery": "blueGreen", "previewHost": "p.example.org"}]},
         "golive:services[0].previewHost", "must be example.com or a name under it"),
        ({**EDGE, "services": [{"name": "a", "host": "a.example.com", "delivery": "blueGreen", "previewHost": "a.example.com"}]},
         "golive:services[0].previewHost", "already a service's public host"),
        ({"services": [{"name": "a", "delivery": "blueGreen", "previewHost": "p.example.com"}]},
         "golive:services[0].delivery", "blueGreen needs a public host"),
        ({"services": [{"name": "a", "delivery": "rolling"}]}, "golive:services[0].delivery", 'one of "canary", "blueGreen", "none"'),
    ],
)
def test_delivery_config_errors_name_the_key_and_the_rule(raw, key, rule):
    with pytest.raises(ConfigError) as err:
        parse(raw)
    rendered = [p.render() for p in err.value.problems]
    assert any(line.startswith(f"{key} = ") and rule in line for line in rendered), rendered


def test_shorter_pauses_and_no_analysis_are_allowed_outside_production():
    config = parse({"environment": "development", **steps(W10, {"pause": "5m"}, W100)})
    assert config.delivery.weights == (10, 100)


def test_defaults_are_the_reports_canary():
    cfg = parse({}).delivery
    assert [s.kind for s in cfg.canary_steps] == ["setWeight", "pause", "analysis", "setWeight", "pause", "analysis", "setWeight"]
    assert cfg.weights == (10, 50, 100) and cfg.canary_steps[1].pause == "2h"
    assert parse({}).services == () and ServiceConfig(name="x").delivery == "canary"
