"""Monitoring policies: each passes on the prod stack and fails on a mutated record of it."""

from __future__ import annotations

import json

import pytest

from tests.helpers import findings, mutate, one

RELEASE = "kubernetes:helm.sh/v3:Release"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
DOMAIN = "aws:opensearch/domain:Domain"
POLICIES = (
    "monitoring-alert-rules-labelled",
    "monitoring-prometheus-retention",
    "monitoring-alertmanager-critical-receiver",
    "monitoring-alertmanager-secrets-in-files",
    "monitoring-opensearch-encrypted",
    "monitoring-opensearch-private",
    "monitoring-retention-covers-rule-windows",
)


def stack(prod):
    return next(r for r in prod.of_type(RELEASE) if r["inputs"]["chart"] == "kube-prometheus-stack")


@pytest.mark.parametrize("policy", POLICIES)
def test_passes_on_prod(prod, policy):
    assert findings(prod, policy) == []


def _first_alert(record):
    return next(r for g in record["inputs"]["spec"]["groups"] for r in g["rules"] if "alert" in r)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a["labels"].pop("service"), "lacks service"),
        (lambda a: a["annotations"].pop("runbook_url"), "lacks runbook_url"),
        (lambda a: a["labels"].update(severity="page"), "severity 'page'"),
        (lambda a: a["annotations"].update(runbook_url="http://wiki/x"), "https://"),
        (lambda a: a["labels"].pop("priority"), "priority None"),
        (lambda a: a["labels"].update(priority="P4"), "priority 'P4'"),
        (lambda a: a["labels"].update(severity="critical", priority="P3"), "does not page"),
    ],
)
def test_alert_rules_labelled_fails(prod, change, message):
    record = one(prod, RULE, "rules-services")
    broken = mutate(prod, record["urn"], lambda r: change(_first_alert(r)))
    (finding,) = findings(broken, "monitoring-alert-rules-labelled")
    assert message in finding.message and finding.urn == record["urn"]


def test_retention_fails_below_15_days(prod):
    record = stack(prod)
    broken = mutate(prod, record["urn"], lambda r: r["inputs"]["values"]["prometheus"]["prometheusSpec"].update(retention="7d"))
    (finding,) = findings(broken, "monitoring-prometheus-retention")
    assert "7d" in finding.message and "15d" in finding.message


def test_retention_fails_without_a_volume(prod):
    record = stack(prod)
    broken = mutate(prod, record["urn"], lambda r: r["inputs"]["values"]["prometheus"]["prometheusSpec"].pop("storageSpec"))
    (finding,) = findings(broken, "monitoring-prometheus-retention")
    assert "persistent volume" in finding.message


def test_critical_receiver_fails_when_critical_alerts_reach_no_pager(prod):
    record = stack(prod)

    def drop_critical_routes(r):
        route = r["inputs"]["values"]["alertmanager"]["config"]["route"]
        route["routes"] = [x for x in route["routes"] if x["matchers"] != ['severity="critical"']]

    (finding,) = findings(mutate(prod, record["urn"], drop_critical_routes), "monitoring-alertmanager-critical-receiver")
    assert "slack-warning" in finding.message and "pager" in finding.message


def test_critical_receiver_fails_when_a_paging_priority_reaches_no_pager(prod):
    """The listings report's P2 alerts page: a route set that sends P2 to Slack only is refused."""
    record = stack(prod)

    def p2_to_slack(r):
        route = r["inputs"]["values"]["alertmanager"]["config"]["route"]
        route["routes"] = [x for x in route["routes"] if not any("priority" in m for m in x["matchers"])]
        route["routes"].insert(1, {"receiver": "slack-warning", "matchers": ['priority="P2"']})

    found = findings(mutate(prod, record["urn"], p2_to_slack), "monitoring-alertmanager-critical-receiver")
    p2 = [f for f in found if "priority=P2" in f.message]
    assert len(p2) == 1 and "no pager" in p2[0].message and p2[0].urn == record["urn"]


def test_critical_receiver_fails_when_the_receiver_is_empty(prod):
    record = stack(prod)

    def empty(r):
        config = r["inputs"]["values"]["alertmanager"]["config"]
        config["receivers"] = [{"name": x["name"]} for x in config["receivers"]]

    found = findings(mutate(prod, record["urn"], empty), "monitoring-alertmanager-critical-receiver")
    assert len(found) == 3 and all("notifies anyone" in f.message for f in found)


def test_plain_receiver_secret_fails(prod):
    record = stack(prod)

    def plain(r):
        receiver = next(x for x in r["inputs"]["values"]["alertmanager"]["config"]["receivers"] if x["name"] == "pagerduty-critical")
        receiver["pagerduty_configs"][0]["routing_key"] = "abc123"

    (finding,) = findings(mutate(prod, record["urn"], plain), "monitoring-alertmanager-secrets-in-files")
    assert "routing_key" in finding.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p["encryptAtRest"].pop("kmsKeyId"), "customer-managed KMS key"),
        (lambda p: p["encryptAtRest"].update(enabled=False), "does not encrypt data at rest"),
        (lambda p: p["nodeToNodeEncryption"].update(enabled=False), "node-to-node"),
        (lambda p: p["domainEndpointOptions"].update(enforceHttps=False), "plain HTTP"),
        (lambda p: p["domainEndpointOptions"].update(tlsSecurityPolicy="Policy-Min-TLS-1-0-2019-07"), "TLS 1.2+"),
    ],
)
def test_opensearch_encrypted_fails(prod, change, message):
    record = one(prod, DOMAIN)
    (finding,) = findings(mutate(prod, record["urn"], lambda r: change(r["inputs"])), "monitoring-opensearch-encrypted")
    assert message in finding.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("vpcOptions"), "public endpoint"),
        (lambda p: p["advancedSecurityOptions"].update(enabled=False), "fine-grained"),
        (lambda p: p["advancedSecurityOptions"].update(anonymousAuthEnabled=True), "anonymous"),
        (lambda p: p.update(logPublishingOptions=[o for o in p["logPublishingOptions"] if o["logType"] != "AUDIT_LOGS"]), "audit logs"),
    ],
)
def test_opensearch_private_fails(prod, change, message):
    record = one(prod, DOMAIN)
    (finding,) = findings(mutate(prod, record["urn"], lambda r: change(r["inputs"])), "monitoring-opensearch-private")
    assert message in finding.message


def test_policy_reads_values_given_as_json_text(prod):
    """A real preview may hand nested inputs as JSON strings; the policies parse them."""
    record = stack(prod)
    broken = mutate(prod, record["urn"], lambda r: r["inputs"].update(values=json.dumps(
        {**r["inputs"]["values"], "prometheus": {"prometheusSpec": {"retention": "1d"}}})))
    assert len(findings(broken, "monitoring-prometheus-retention")) == 2


def test_retention_covers_rule_windows_fails_when_the_30_day_slis_outrun_it(prod):
    """15 days pass monitoring-prometheus-retention, yet the 30-day SLIs, budgets and dashboards would read 15 days."""
    record = stack(prod)
    broken = mutate(prod, record["urn"], lambda r: r["inputs"]["values"]["prometheus"]["prometheusSpec"].update(retention="15d"))
    assert findings(broken, "monitoring-prometheus-retention") == []
    (finding,) = findings(broken, "monitoring-retention-covers-rule-windows")
    assert finding.urn == record["urn"]
    assert "keeps 15d" in finding.message and "reads 30d" in finding.message and "Keep at least 30d" in finding.message


def test_retention_covers_rule_windows_reads_dashboard_queries(prod):
    config_map = one(prod, "kubernetes:core/v1:ConfigMap", "dashboard-edge")

    def long_panel(r):
        (key,) = r["inputs"]["data"]
        board = json.loads(r["inputs"]["data"][key])
        board["panels"][1]["targets"][0]["expr"] = "sum(increase(aws_wafv2_blocked_requests_sum[90d]))"
        r["inputs"]["data"][key] = json.dumps(board)

    (finding,) = findings(mutate(prod, config_map["urn"], long_panel), "monitoring-retention-covers-rule-windows")
    assert "golive-edge.json reads 90d" in finding.message and "keeps 35d" in finding.message


def test_lookback_counts_ranges_subqueries_and_offsets():
    from policy.rules.monitoring import lookback

    assert lookback("rate(x[5m])") == 300
    assert lookback("max_over_time(rate(x[5m])[30d:1h])") == 30 * 86400
    assert lookback("avg_over_time(x[1d] offset 10m)") == 86400 + 600
    assert lookback("x offset 1h") == 3600
    assert lookback('rate(x[$__rate_interval])') == 0
