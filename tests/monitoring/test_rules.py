"""The rule model: every alert is labelled, documented and carries its own proof."""

from __future__ import annotations

import math
import pathlib
import re

import pytest

from components.config import ServiceConfig, SloConfig, parse
from components.monitoring import rules

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs" / "runbooks"
APP_METRICS = ("http_requests_total", "http_request_duration_seconds", "db_pool_connections_in_use", "db_pool_connections_max",
               "circuit_breaker_state", "request_queue_depth", "auth_login_failures_total")


def all_alerts(groups):
    return [a for g in groups for a in g.alerts]


def github_anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


PER_SERVICE = {"ServiceDown": 1, "HighErrorRate": 2, "HighLatency": 2, "EndpointProbeFailed": 1, "DatabaseConnectionPoolSaturated": 1,
               "CircuitBreakerOpen": 1, "RequestQueueBackpressure": 1, "FailedLoginSpike": 1, "PodMemoryHigh": 2, "PodCpuHigh": 2,
               "ServiceMetricsAbsent": 1, "AvailabilityBurnRatePage": 1, "AvailabilityBurnRateTicket": 1, "LatencyBurnRatePage": 1,
               "LatencyBurnRateTicket": 1, "SLOErrorBudgetLow": 2, "SLOAvailabilityAtRisk": 1}
PLATFORM = {"DatabaseConnectionFailures": 1, "RdsFreeStorageLow": 1, "RedisDown": 1, "RedisMemoryHigh": 1, "CacheHitRateLow": 1,
            "PodMemoryHigh": 2, "PodCpuHigh": 2, "NodeDiskSpaceLow": 1, "VolumeSpaceLow": 1, "NodeNotReady": 1, "PodCrashLooping": 1,
            "TLSCertificateExpiring": 2, "WafBlockedRequestsSpike": 1, "BackupJobFailed": 1, "NoRecentBackup": 1, "TargetDown": 1,
            "ExporterAbsent": 10, "ProbeAbsent": 2, "FluentBitOutputFailing": 1, "FluentBitNoOutput": 1, "OpenSearchClusterRed": 1,
            "OpenSearchClusterYellow": 1, "OpenSearchWritesBlocked": 1, "OpenSearchStorageLow": 1, "Watchdog": 1}


def test_alert_and_recording_counts(groups, prod_config):
    """The prod catalog: 4 services, 3 public (health, certificate and DNS probes), the trading API counting trade executions."""
    assert [s.name for s in prod_config.services] == ["signal-service", "listings-service", "trading-api", "config-service"]
    expected: dict[str, int] = dict(PLATFORM)
    for name, n in PER_SERVICE.items():
        expected[name] = expected.get(name, 0) + 4 * n
    expected["ProbeAbsent"] += 3 * 3 + 1
    expected["TradeExecutionFailures"] = 1
    alerts = all_alerts(groups)
    counted: dict[str, int] = {}
    for alert in alerts:
        counted[alert.name] = counted.get(alert.name, 0) + 1
    assert counted == expected
    recordings = [r for g in groups for r in g.recordings]
    assert len(recordings) == 5 + 20 * 4


def test_replica_lag_is_watched_only_when_replicas_exist(prod_config):
    names = lambda replicas: {a.name for g in rules.all_groups(prod_config.services, read_replicas=replicas) for a in g.alerts}  # noqa: E731
    assert "RdsReplicaLagHigh" not in names(0) and "RdsReplicaLagHigh" in names(1)


def test_every_alert_has_severity_service_summary_description_runbook(groups):
    for alert in all_alerts(groups):
        assert alert.severity in rules.SEVERITIES
        assert rules.alert_labels(alert)["priority"] in rules.PRIORITIES
        if alert.severity == "critical":
            assert rules.alert_labels(alert)["priority"] in ("P1", "P2"), f"{alert.name}: a critical alert pages"
        assert alert.service and alert.summary and alert.description
        assert "$value" in alert.description, f"{alert.name}: the description shows the value"
        url = rules.runbook_url("https://x/docs/runbooks", alert.name)
        assert url == f"https://x/docs/runbooks/{rules.runbook_page(alert.name)}.md#{alert.name.lower()}"


def test_every_alert_fires_in_one_scenario_and_stays_quiet_in_another(groups):
    for alert in all_alerts(groups):
        own = [f for f in alert.fires.firing if (f.severity or alert.severity) == alert.severity]
        assert own, f"{alert.name} ({alert.severity}): its firing scenario expects no alert of its own"
        if alert.quiet is None:
            assert alert.name == "Watchdog" and alert.quiet_exempt
            continue
        assert all((f.severity or alert.severity) != alert.severity for f in alert.quiet.firing), alert.name


def test_runbook_links_resolve_to_a_file_and_heading_with_the_three_sections(groups):
    for name in sorted({a.name for a in all_alerts(groups)}):
        page = RUNBOOKS / f"{rules.runbook_page(name)}.md"
        assert page.exists(), f"{name}: {page} is missing"
        text = page.read_text()
        headings = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]
        assert rules.runbook_anchor(name) in {github_anchor(h) for h in headings}, name
        for section in ("What it means", "First checks", "Mitigation"):
            assert f"## {section}" in text, f"{page.name} lacks '## {section}'"


def test_application_metrics_used_by_rules_are_documented(groups):
    doc = (ROOT / "docs" / "metrics.md").read_text()
    used = set()
    for rule in (r for g in groups for r in g.rules):
        used |= {m for m in APP_METRICS if m in rule.expr}
    assert used == set(APP_METRICS)
    for metric in used:
        assert f"`{metric}" in doc
    for alert in {a.name for a in all_alerts(groups)} - {"Watchdog"}:
        assert alert in doc, f"docs/metrics.md does not say which metric {alert} uses"


def test_slo_recordings_cover_every_window_for_both_slis(groups, prod_config):
    for service in prod_config.services:
        group = next(g for g in groups if g.name == f"golive-slo-{service.name}")
        recorded = {(r.record, r.labels["slo"]) for r in group.recordings}
        for slo in ("availability", "latency"):
            for window in rules.SLO_WINDOWS:
                assert (f"slo:sli_error:ratio_rate{window}", slo) in recorded
            assert ("slo:error_budget_remaining:ratio", slo) in recorded
        assert {r.labels["service"] for r in group.recordings} == {service.name}


def test_burn_rate_alerts_use_the_workbook_windows_and_factors():
    svc = ServiceConfig(name="orders", slo=SloConfig(availability=99.9))
    page = next(a for a in rules.slo_group(svc).alerts if a.name == "AvailabilityBurnRatePage")
    ticket = next(a for a in rules.slo_group(svc).alerts if a.name == "AvailabilityBurnRateTicket")
    assert "slo:sli_error:ratio_rate1h" in page.expr and "(14.4 * 0.001)" in page.expr
    assert "slo:sli_error:ratio_rate5m" in page.expr and "slo:sli_error:ratio_rate6h" in page.expr and "(6.0 *" in page.expr
    assert "slo:sli_error:ratio_rate3d" in ticket.expr and "(1.0 *" in ticket.expr and "(3.0 *" in ticket.expr
    assert page.severity == "critical" and page.labels["slo_severity"] == "page"
    assert ticket.severity == "warning" and ticket.labels["slo_severity"] == "ticket"
    assert ticket.fires.silent_also == ("AvailabilityBurnRatePage",), "the slow burn must be shown not to page"


def test_latency_sli_matches_both_spellings_of_the_threshold_bucket():
    exprs = rules.sli_expressions(ServiceConfig(name="a", slo=SloConfig(latency_threshold_seconds=1.0)), "5m")
    assert 'le=~"1|1.0"' in exprs["latency"]
    assert 'le=~"0.25"' in rules.sli_expressions(ServiceConfig(name="a", slo=SloConfig(latency_threshold_seconds=0.25)), "5m")["latency"]


def test_an_objective_too_low_to_page_is_refused():
    with pytest.raises(ValueError, match="no room for a 6x burn-rate page"):
        rules.slo_group(ServiceConfig(name="a", slo=SloConfig(latency_target=85.0)))


@pytest.mark.parametrize(
    ("fn", "value", "expected"),
    [
        (rules.humanize, 0, "0"), (rules.humanize, 150, "150"), (rules.humanize, 1234567, "1.235M"), (rules.humanize, 0.005, "5m"),
        (rules.humanize_percentage, 0.0336667, "3.367%"), (rules.humanize_percentage, 0.5, "50%"),
        (rules.humanize_duration, 4.97, "4.97s"), (rules.humanize_duration, 45, "45s"), (rules.humanize_duration, 3 * 86400 - 1200, "2d 23h 40m 0s"),
        (rules.humanize_duration, 0.25, "250ms"), (rules.humanize1024, 5368709120, "5Gi"), (rules.humanize1024, 1, "1"),
    ],
)
def test_template_functions_match_prometheus(fn, value, expected):
    assert fn(value) == expected


def test_render_fills_labels_and_values_and_rejects_unknown_actions():
    assert rules.render("{{ $labels.service }} at {{ $value | humanizePercentage }}", {"service": "a"}, 0.25) == "a at 25%"
    with pytest.raises(ValueError, match="unsupported"):
        rules.render("{{ $value | printf \"%.2f\" }}", {}, 1.0)
    assert math.isnan(rules._Model(60, ((1, 0.1),)).ratio(0, "5m"))


def test_prometheus_rule_groups_render_alerts_with_for_labels_and_annotations(groups):
    rendered = rules.group_dict(next(g for g in groups if g.name == "golive-services"), "https://x")
    down = {r["labels"]["service"]: r for r in rendered["rules"] if r.get("alert") == "ServiceDown"}
    assert set(down) == {"signal-service", "listings-service", "trading-api", "config-service"}
    assert down["listings-service"]["for"] == "1m" and "for" not in down["trading-api"], "trading-api: service down is immediate"
    assert down["listings-service"]["labels"] == {"severity": "critical", "priority": "P1", "service": "listings-service"}
    assert set(down["listings-service"]["annotations"]) == {"summary", "description", "runbook_url"}
    assert down["listings-service"]["expr"] == 'max by (service) (up{job="listings-service"}) == 0'
    watchdog = rules.group_dict(rules.meta_group(), "https://x")["rules"][0]
    assert "for" not in watchdog


def test_tiers_render_the_catalog_threshold_hold_severity_and_priority():
    svc = parse({"services": [{"name": "orders", "alerting": {
        "errorRateWarning": {"threshold": 0.02, "for": "3m", "priority": "P2"},
        "circuitBreaker": {"for": "0m", "severity": "critical", "priority": "P1"}}}]}).services[0]
    rendered = {(r["alert"], r["labels"]["severity"]): r for r in rules.group_dict(rules.service_group([svc]), "https://x")["rules"] if "alert" in r}
    warning = rendered[("HighErrorRate", "warning")]
    assert warning["expr"].endswith("> 0.02") and warning["for"] == "3m" and warning["labels"]["priority"] == "P2"
    breaker = rendered[("CircuitBreakerOpen", "critical")]
    assert "for" not in breaker and breaker["labels"]["priority"] == "P1"
    assert ("CircuitBreakerOpen", "warning") not in rendered


def test_trade_execution_alert_only_where_the_catalog_enables_it():
    plain, trading = parse({"services": [{"name": "a"}, {"name": "b", "alerting": {"tradeExecutions": {"enabled": True}}}]}).services
    assert "TradeExecutionFailures" not in {a.name for a in rules.service_alerts(plain)}
    assert "TradeExecutionFailures" in {a.name for a in rules.service_alerts(trading)}


def test_probe_absent_rules_cover_every_probe_job_the_component_declares(prod, groups):
    probes = {r["inputs"]["spec"]["jobName"] for r in prod.of_type("kubernetes:monitoring.coreos.com/v1:Probe")}
    absent = {a.labels["probe"] for g in groups for a in g.alerts if a.name == "ProbeAbsent"}
    assert absent == probes and len(probes) == 12


def test_histogram_quantile_interpolates_like_prometheus():
    buckets = [(0.5, 0.0), (1.0, 0.0), (2.0, 100.0), (math.inf, 100.0)]
    assert rules.histogram_quantile(0.99, buckets) == pytest.approx(1.99)
    assert rules.histogram_quantile(0.5, [(1.0, 10.0), (math.inf, 100.0)]) == 1.0
