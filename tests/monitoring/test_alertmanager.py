"""The Alertmanager configuration: routes, inhibitions, secrets as files; amtool agrees."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from components.config import parse
from components.monitoring import alertmanager as am

# Labels as the rules set them (priority from the catalog) and, for the last two, a chart's rule without a priority.
# P1 and P2 page (the listings report: "High (P2) -> Slack + PagerDuty"), P3 tickets ("Medium (P3) -> Slack").
CRITICAL = {"severity": "critical", "priority": "P1", "alertname": "ServiceDown", "service": "trading-api"}
P2_WARNING = {"severity": "warning", "priority": "P2", "alertname": "HighErrorRate", "service": "listings-service"}
WARNING = {"severity": "warning", "priority": "P3", "alertname": "HighLatency", "service": "trading-api"}
TICKET = {"severity": "warning", "priority": "P3", "alertname": "AvailabilityBurnRateTicket", "service": "trading-api",
          "slo_severity": "ticket"}
BUDGET = {"severity": "warning", "priority": "P3", "alertname": "SLOErrorBudgetLow", "service": "listings-service",
          "slo": "availability", "slo_severity": "ticket"}
WATCHDOG = {"severity": "info", "priority": "P3", "alertname": "Watchdog", "service": "monitoring"}
CHART_CRITICAL = {"severity": "critical", "alertname": "KubeAPIErrorBudgetBurn", "service": "kubernetes"}
CHART_WARNING = {"severity": "warning", "alertname": "KubePersistentVolumeFillingUp", "service": "kubernetes"}
ROUTES = [
    (CRITICAL, [am.PAGERDUTY, am.SLACK_CRITICAL]),
    (P2_WARNING, [am.PAGERDUTY, am.SLACK_CRITICAL]),
    (WARNING, [am.SLACK_WARNING, am.EMAIL_WARNING]),
    (TICKET, [am.SLACK_TICKETS, am.EMAIL_TICKETS]),
    (BUDGET, [am.SLACK_TICKETS, am.EMAIL_TICKETS]),
    (WATCHDOG, [am.WATCHDOG]),
    (CHART_CRITICAL, [am.PAGERDUTY, am.SLACK_CRITICAL]),
    (CHART_WARNING, [am.SLACK_WARNING, am.EMAIL_WARNING]),
]


@pytest.fixture(scope="module")
def config(request):
    alerting = parse({"monitoring": {"alerting": {"deadMansSwitchUrl": "https://heartbeat.example.com/golive"}}}).monitoring.alerting
    return am.alertmanager_config(alerting, "alertmanager-receivers")


@pytest.mark.parametrize(("labels", "receivers"), ROUTES)
def test_routes(config, labels, receivers):
    assert am.receivers_for(config, labels) == receivers


def test_grouping_and_repeat_intervals(config):
    route = config["route"]
    assert route["group_by"] == ["alertname", "service"]
    by_receiver = {r["receiver"]: r for r in route["routes"]}
    assert by_receiver[am.PAGERDUTY]["repeat_interval"] == "4h" == by_receiver[am.SLACK_CRITICAL]["repeat_interval"]
    assert by_receiver[am.SLACK_WARNING]["repeat_interval"] == "24h" == by_receiver[am.EMAIL_TICKETS]["repeat_interval"]
    assert all(r["repeat_interval"] == "4h" for r in route["routes"] if r["receiver"] == am.PAGERDUTY)
    assert route["routes"][0]["matchers"] == ['alertname="Watchdog"']


def test_inhibitions(config):
    rules = config["inhibit_rules"]
    assert {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'], "equal": ["alertname", "service"]} in rules
    assert {"source_matchers": ['alertname="ServiceDown"'], "target_matchers": ['alertname!="ServiceDown"'], "equal": ["service"]} in rules


def test_receiver_secrets_are_files_of_the_mounted_secret(config):
    text = yaml.safe_dump(config)
    for plain in ("routing_key:", "api_url:", "auth_password:", "service_key:"):
        assert plain not in text
    pagerduty = next(r for r in config["receivers"] if r["name"] == am.PAGERDUTY)["pagerduty_configs"][0]
    assert pagerduty["routing_key_file"] == "/etc/alertmanager/secrets/alertmanager-receivers/pagerduty-routing-key"
    assert config["global"]["smtp_auth_password_file"].endswith("/smtp-password")
    slack = next(r for r in config["receivers"] if r["name"] == am.SLACK_CRITICAL)["slack_configs"][0]
    assert slack["api_url_file"].endswith("/slack-webhook-url") and slack["channel"] == "#golive-alerts-critical"


def test_watchdog_without_a_heartbeat_url_has_no_notifier():
    config = am.alertmanager_config(parse({}).monitoring.alerting, "s")
    assert next(r for r in config["receivers"] if r["name"] == am.WATCHDOG) == {"name": am.WATCHDOG}


@pytest.mark.tools
def test_amtool_check_config(amtool, config, tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "7 receivers" in result.stdout and "3 inhibit rules" in result.stdout


def test_pagerduty_severity_follows_the_priority(config):
    pagerduty = next(r for r in config["receivers"] if r["name"] == am.PAGERDUTY)["pagerduty_configs"][0]
    assert pagerduty["severity"] == '{{ if eq .CommonLabels.priority "P2" }}error{{ else }}critical{{ end }}'


@pytest.mark.tools
@pytest.mark.parametrize(("labels", "receivers"), ROUTES)
def test_amtool_routes(amtool, config, tmp_path, labels, receivers):
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    args = [f"{k}={v}" for k, v in labels.items()]
    result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={path}", f"--verify.receivers={','.join(receivers)}", *args],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ",".join(receivers)
