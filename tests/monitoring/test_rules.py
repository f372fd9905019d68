"""The rule model: every alert is labelled, documented and carries its own proof."""

from __future__ import annotations

import math
import pathlib
import re

import pytest

from components.config import ServiceConfig, SloConfig
from components.monitoring import rules

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs" / "runbooks"
APP_METRICS = ("http_requests_total", "http_request_duration_seconds", "db_pool_connections_in_use", "db_pool_connections_max",
               "circuit_breaker_state", "request_queue_depth", "auth_login_failures_total")


def all_alerts(groups):
    return [a for g in groups for a in g.alerts]


def github_anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_alert_and_recording_counts(groups, prod_config):
    alerts = all_alerts(groups)
    recordings = [r for g in groups for r in g.recordings]
    n = len(prod_config.services)
    assert n == 3
    # 28 infrastructure and service rules (25 names), 4 burn-rate alerts and 20 recordings per SLO'd service, 5 service recordings.
    assert len(alerts) == 28 + 4 * n
    assert len(recordings) == 5 + 20 * n
    assert len({a.name for a in alerts}) == 25 + 4


def test_every_alert_has_severity_service_summary_description_runbook(groups):
    for alert in all_alerts(groups):
        assert alert.severity in rules.SEVERITIES
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
    down = next(r for r in rendered["rules"] if r.get("alert") == "ServiceDown")
    assert down["for"] == "1m"
    assert down["labels"] == {"severity": "critical", "service": "{{ $labels.service }}"}
    assert set(down["annotations"]) == {"summary", "description", "runbook_url"}
    assert 'service=~"signal-service|listings-service|trading-api"' in down["expr"]
    watchdog = rules.group_dict(rules.meta_group(), "https://x")["rules"][0]
    assert "for" not in watchdog
