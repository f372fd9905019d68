"""Delivery policies: each passes on the real prod stack and fails on a stack that breaks it."""

from __future__ import annotations

import json

import pytest

from policy.rules import delivery as rules_delivery
from tests.helpers import drop, findings, mutate, of_type

ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
TEMPLATE = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"
RELEASE = "kubernetes:helm.sh/v3:Release"
MANDATORY = ["delivery-strategy-analysed", "delivery-canary-weights-increase", "delivery-analysis-metrics-documented"]


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
    assert by_name["delivery-traffic-router-installed"].enforcement_level.value == "advisory"


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


# --------------------------------------------------------------------------- delivery-traffic-router-installed (advisory)


def test_canary_rollouts_without_the_router_plugin_are_reported(prod):
    found = findings(prod, "delivery-traffic-router-installed")
    # The Rollouts that route through the plugin: the public services' (the internal config-service's canary is by replicas).
    routed = [r for r in of_type(prod, ROLLOUT) if "trafficRouting" in r["inputs"]["spec"]["strategy"].get("canary", {})]
    assert len(routed) == 3 and sorted(f.urn for f in found) == sorted(r["urn"] for r in routed)
    assert all(f.enforcement == "advisory" and "golive/alb-listener-rule" in f.message for f in found)


def test_an_installed_and_verified_plugin_passes(prod):
    release = argo_release(prod)
    plugin = {"name": "golive/alb-listener-rule", "location": "https://example.com/alb-listener-rule-linux-amd64", "sha256": "a" * 64}
    fixed = mutate(prod, release["urn"], lambda r: r["inputs"]["values"]["controller"].update(trafficRouterPlugins=[plugin]))
    assert findings(fixed, "delivery-traffic-router-installed") == []
    unverified = mutate(prod, release["urn"], lambda r: r["inputs"]["values"]["controller"].update(
        trafficRouterPlugins=[{**plugin, "sha256": ""}]))
    assert all("SHA-256" in f.message for f in findings(unverified, "delivery-traffic-router-installed"))


# --------------------------------------------------------------------------- the chart pin (cluster-helm-chart-pinned covers it)


def test_the_argo_rollouts_chart_pin_is_enforced_by_the_cluster_policy(prod):
    release = argo_release(prod)
    assert not [f for f in findings(prod, "cluster-helm-chart-pinned") if f.urn == release["urn"]]
    for version in ("2.x", None):
        broken = mutate(prod, release["urn"], lambda r, v=version: r["inputs"].update(version=v) if v else r["inputs"].pop("version"))
        (finding,) = findings(broken, "cluster-helm-chart-pinned")
        assert finding.urn == release["urn"]
