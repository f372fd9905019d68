"""Delivery policies: each passes on the real prod stack and fails on a stack that breaks it."""

from __future__ import annotations

import json

import pytest

from golive import check, engine
from policy.rules import delivery as rules_delivery
from tests.helpers import drop, findings, mutate, of_type

ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
TEMPLATE = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"
RELEASE = "kubernetes:helm.sh/v3:Release"
MANDATORY = ["delivery-strategy-analysed", "delivery-canary-weights-increase", "delivery-analysis-metrics-documented",
             "delivery-traffic-router-installed", "delivery-traffic-router-configured"]
PLUGIN = "golive/alb-listener-rule"


def rollout(prod, svc="trading-api"):
    return next(r for r in of_type(prod, ROLLOUT) if r["inputs"]["metadata"]["name"] == svc)


def template(prod, svc="trading-api"):
    return next(r for r in of_type(prod, TEMPLATE) if r["inputs"]["metadata"]["name"] == f"{svc}-slo")


def argo_release(prod):
    return next(r for r in of_type(prod, RELEASE) if r["inputs"]["chart"] == "argo-rollouts")


def set_steps(prod, steps, svc="trading-api"):
    record = rollout(prod, svc)
    return record, mutate(prod, record["urn"], lambda r: r["inputs"]["spec"]["strategy"]["canary"].update(steps=steps))


@pytest.mark.parametrize("policy", MANDATORY)
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def test_mandatory_delivery_policies_are_mandatory():
    by_name = {p.name: p for p in rules_delivery.POLICIES}
    assert all(by_name[name].enforcement_level.value == "mandatory" for name in MANDATORY)
    assert set(by_name) == set(MANDATORY)


# --------------------------------------------------------------------------- delivery-strategy-analysed


def test_a_service_without_a_rollout_fails(prod):
    broken = drop(prod, lambda r: r["type"] == ROLLOUT and r["inputs"]["metadata"]["name"] == "signal-service")
    (finding,) = findings(broken, "delivery-strategy-analysed")
    assert "service signal-service has no Rollout" in finding.message and finding.urn.endswith("::golive-signal-service")


def test_a_canary_without_an_analysis_step_fails(prod):
    record, broken = set_steps(prod, [{"setWeight": 10}, {"pause": {"duration": "2h"}}, {"setWeight": 100}])
    (finding,) = findings(broken, "delivery-strategy-analysed")
    assert finding.urn == record["urn"] and "Rollout trading-api (canary) has no analysis step" in finding.message


def test_an_analysis_with_an_undeclared_template_fails(prod):
    steps = [{"setWeight": 10}, {"analysis": {"templates": [{"templateName": "somebody-elses"}]}}, {"setWeight": 100}]
    record, broken = set_steps(prod, steps)
    (finding,) = findings(broken, "delivery-strategy-analysed")
    assert finding.urn == record["urn"] and "'somebody-elses'" in finding.message


def test_a_blue_green_rollout_needs_pre_or_post_promotion_analysis(prod):
    record = rollout(prod, "listings-service")
    blue_green = {"blueGreen": {"activeService": "listings-service", "previewService": "listings-service-preview"}}
    broken = mutate(prod, record["urn"], lambda r: r["inputs"]["spec"].update(strategy=blue_green))
    (finding,) = findings(broken, "delivery-strategy-analysed")
    assert "blueGreen" in finding.message and "pre- or post-promotion analysis" in finding.message
    analysed = {"blueGreen": {**blue_green["blueGreen"], "prePromotionAnalysis": {"templates": [{"templateName": "listings-service-slo"}]}}}
    fixed = mutate(prod, record["urn"], lambda r: r["inputs"]["spec"].update(strategy=analysed))
    assert findings(fixed, "delivery-strategy-analysed") == []


def test_only_production_stacks_are_held_to_it(prod):
    provider = next(r for r in of_type(prod, "pulumi:providers:aws") if r["name"] == "aws-primary")
    staging = drop(prod, lambda r: r["type"] == ROLLOUT)

    def retag(record):
        tags = record["inputs"]["defaultTags"]
        tags = json.loads(tags) if isinstance(tags, str) else tags
        tags["tags"]["environment"] = "staging"
        record["inputs"]["defaultTags"] = tags

    staging = mutate(staging, provider["urn"], retag)
    dr = next(r for r in of_type(prod, "pulumi:providers:aws") if r["name"] == "aws-dr")
    staging = mutate(staging, dr["urn"], retag)
    assert findings(staging, "delivery-strategy-analysed") == []
    # One per catalog service (the three of the reports and the config service).
    assert len(findings(drop(prod, lambda r: r["type"] == ROLLOUT), "delivery-strategy-analysed")) == 4


# --------------------------------------------------------------------------- delivery-canary-weights-increase


@pytest.mark.parametrize(
    "weights, expected",
    [([50, 10, 100], "setWeight 10 follows 50"), ([10, 50, 90], "ends at 90%"), ([10, 10, 100], "setWeight 10 follows 10"), ([], "sets no weight")],
)
def test_canary_weights_that_do_not_increase_to_100_fail(prod, weights, expected):
    steps = [{"setWeight": w} for w in weights] + [{"analysis": {"templates": [{"templateName": "trading-api-slo"}]}}]
    record, broken = set_steps(prod, steps)
    found = findings(broken, "delivery-canary-weights-increase")
    assert found and all(f.urn == record["urn"] for f in found)
    assert any(expected in f.message for f in found), [f.message for f in found]


# --------------------------------------------------------------------------- delivery-analysis-metrics-documented


def test_a_query_on_an_undocumented_metric_fails(prod):
    record = template(prod)

    def change(r):
        r["inputs"]["spec"]["metrics"][0]["provider"]["prometheus"]["query"] = (
            'sum(rate(checkout_failures_total{service="trading-api"}[5m])) / sum(rate(http_requests_total{service="trading-api"}[5m]))')

    (finding,) = findings(mutate(prod, record["urn"], change), "delivery-analysis-metrics-documented")
    assert finding.urn == record["urn"] and "checkout_failures_total" in finding.message and "http_requests_total" not in finding.message


def test_promql_metric_names_ignore_functions_labels_and_keywords():
    query = ('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{service="a",pod=~"a-{{args.x}}-.+"}[5m])))'
             ' / on (service) group_left sum(up offset 1h) > bool 1e3 unless slo:sli_error:ratio_rate5m')
    assert rules_delivery.promql_metrics(query) == {"http_request_duration_seconds_bucket", "up", "slo:sli_error:ratio_rate5m"}


def test_documented_metrics_read_backticks_histograms_and_prefixes():
    names, prefixes = rules_delivery.documented_metrics("| `http_request_duration_seconds_bucket` (with `_count`) | `node_filesystem_*` | `up` |")
    assert {"http_request_duration_seconds_bucket", "http_request_duration_seconds_count", "up"} <= set(names)
    assert prefixes == ("node_filesystem_",)
    assert "http_requests_total" in rules_delivery._DOCUMENTED  # read from the real docs/metrics.md


# --------------------------------------------------------------------------- delivery-traffic-router-installed


def set_plugins(prod, plugins):
    release = argo_release(prod)
    return mutate(prod, release["urn"], lambda r: r["inputs"]["values"]["controller"].update(trafficRouterPlugins=plugins))


def test_the_prod_release_installs_golives_plugin_release(prod):
    (plugin,) = argo_release(prod)["inputs"]["values"]["controller"]["trafficRouterPlugins"]
    assert plugin["name"] == PLUGIN and plugin["location"].startswith("https://github.com/golive-platform/golive/releases/download/")
    assert findings(prod, "delivery-traffic-router-installed") == []


def test_rollouts_whose_router_no_release_installs_fail(prod):
    found = findings(set_plugins(prod, []), "delivery-traffic-router-installed")
    canaries = [r["urn"] for r in of_type(prod, ROLLOUT) if "trafficRouting" in r["inputs"]["spec"]["strategy"].get("canary", {})]
    assert sorted(f.urn for f in found) == sorted(canaries) and len(canaries) == 3
    assert all(f.enforcement == "mandatory" and "which no argo-rollouts release installs" in f.message for f in found)
    renamed = findings(set_plugins(prod, [{"name": "argoproj-labs/gatewayAPI", "location": "https://example.com/p", "sha256": "a" * 64}]),
                       "delivery-traffic-router-installed")
    assert len(renamed) == 3, "the plugin is found by its name"


@pytest.mark.parametrize("plugin, message", [
    ({"location": "http://example.com/alb-traffic-router-linux-amd64", "sha256": "a" * 64}, "not from an https:// location"),
    ({"location": "file://./plugin-bin/alb", "sha256": "a" * 64}, "not from an https:// location"),
    ({"location": "https://example.com/alb", "sha256": ""}, "without a SHA-256 checksum"),
    ({"location": "https://example.com/alb", "sha256": "A" * 64}, "without a SHA-256 checksum"),
    ({"location": "https://example.com/alb"}, "without a SHA-256 checksum"),
])
def test_a_plugin_without_https_or_sha256_fails(prod, plugin, message):
    found = findings(set_plugins(prod, [{"name": PLUGIN, **plugin}]), "delivery-traffic-router-installed")
    assert len(found) == 3 and all(message in f.message for f in found)


# --------------------------------------------------------------------------- delivery-traffic-router-configured


def set_plugin_config(prod, change, svc="trading-api"):
    record = rollout(prod, svc)
    return record, mutate(prod, record["urn"], lambda r: change(r["inputs"]["spec"]["strategy"]["canary"]))


def test_the_prod_rollouts_configure_the_plugin_completely(prod):
    assert findings(prod, "delivery-traffic-router-configured") == []
    config = rollout(prod)["inputs"]["spec"]["strategy"]["canary"]["trafficRouting"]["plugins"][PLUGIN]
    assert set(config) == {"listenerRuleArn", "stableTargetGroupArn", "canaryTargetGroupArn", "region"}
    assert config["region"] == "eu-west-1"


@pytest.fixture(scope="module")
def first_preview():
    return engine.synth("prod", first_preview=True)


def test_the_first_preview_decides_it_while_the_arns_are_unknown(first_preview):
    config = rollout(first_preview)["inputs"]["spec"]["strategy"]["canary"]["trafficRouting"]["plugins"][PLUGIN]
    assert config["listenerRuleArn"] == engine.UNKNOWN_MARKER and config["region"] == "eu-west-1"
    names = {"delivery-traffic-router-configured", "delivery-traffic-router-installed", "aws-references-resolve"}
    result = check.check(first_preview, [p for p in check.load_policies() if p.name in names])
    assert result.findings == [] and not [d for d in result.deferred if d.policy in names]
    _, broken = set_plugin_config(first_preview, lambda c: c["trafficRouting"]["plugins"][PLUGIN].pop("stableTargetGroupArn"))
    (finding,) = findings(broken, "delivery-traffic-router-configured")
    assert "is missing stableTargetGroupArn" in finding.message


@pytest.mark.parametrize("change, message", [
    (lambda c: c["trafficRouting"]["plugins"][PLUGIN].pop("region"), "is missing region"),
    (lambda c: c["trafficRouting"]["plugins"][PLUGIN].pop("listenerRuleArn"), "is missing listenerRuleArn"),
    (lambda c: c["trafficRouting"]["plugins"][PLUGIN].update(canaryTargetGroupArn=""), "is missing canaryTargetGroupArn"),
    (lambda c: c["trafficRouting"]["plugins"][PLUGIN].update(weight=10), "has no setting 'weight'"),
    (lambda c: c["trafficRouting"]["plugins"][PLUGIN].update(region="Ireland"), "is not an AWS region name"),
    (lambda c: c["trafficRouting"]["plugins"][PLUGIN].update(region="us-east-1"), "not in its region us-east-1"),
    (lambda c: c["trafficRouting"]["plugins"][PLUGIN].update(listenerRuleArn="golive-trading-api-rule"), "is not the ARN of an ALB listener rule"),
    (lambda c: c["trafficRouting"]["plugins"][PLUGIN].update(
        canaryTargetGroupArn=c["trafficRouting"]["plugins"][PLUGIN]["stableTargetGroupArn"]), "both stable and canary"),
    (lambda c: c["trafficRouting"]["plugins"].update({PLUGIN: "arn:aws:elasticloadbalancing:x"}), "not an object"),
    (lambda c: c["steps"].insert(1, {"setHeaderRoute": {"name": "canary-header", "match": [{"headerName": "x-canary"}]}}),
     "step 1 is setHeaderRoute"),
    (lambda c: c["steps"].insert(1, {"setMirrorRoute": {"name": "mirror"}}), "step 1 is setMirrorRoute"),
    (lambda c: c["trafficRouting"].update(managedRoutes=[{"name": "canary-header"}]), "managedRoutes"),
    (lambda c: c["trafficRouting"].update(maxTrafficWeight=1000), "maxTrafficWeight 1000 is outside 1-999"),
])
def test_an_incomplete_or_unsupported_plugin_configuration_fails(prod, change, message):
    record, broken = set_plugin_config(prod, change)
    (finding,) = findings(broken, "delivery-traffic-router-configured")
    assert finding.urn == record["urn"] and message in finding.message, finding.message


def test_a_larger_max_traffic_weight_within_alb_limits_passes(prod):
    _, fine = set_plugin_config(prod, lambda c: c["trafficRouting"].update(maxTrafficWeight=200))
    assert findings(fine, "delivery-traffic-router-configured") == []


def test_the_references_policy_proves_what_feeds_the_arns(prod, first_preview):
    for stack in (prod, first_preview):
        record = rollout(stack)
        assert not [f for f in findings(stack, "aws-references-resolve") if f.urn == record["urn"]]
        # The spec fed by target groups only: the listener rule ARN then comes from the wrong kind of resource.
        groups = [u for u in record["propertyDependencies"]["spec"] if "targetGroup:TargetGroup" in u]
        broken = mutate(stack, record["urn"], lambda r, g=groups: r["propertyDependencies"].update(spec=g))
        (finding,) = [f for f in findings(broken, "aws-references-resolve") if f.urn == record["urn"]]
        assert f"plugins.{PLUGIN}.listenerRuleArn comes from" in finding.message and "not from a aws:lb/listenerRule" in finding.message


# --------------------------------------------------------------------------- the chart pin (cluster-helm-chart-pinned covers it)


def test_the_argo_rollouts_chart_pin_is_enforced_by_the_cluster_policy(prod):
    release = argo_release(prod)
    assert not [f for f in findings(prod, "cluster-helm-chart-pinned") if f.urn == release["urn"]]
    for version in ("2.x", None):
        broken = mutate(prod, release["urn"], lambda r, v=version: r["inputs"].update(version=v) if v else r["inputs"].pop("version"))
        (finding,) = findings(broken, "cluster-helm-chart-pinned")
        assert finding.urn == release["urn"]
