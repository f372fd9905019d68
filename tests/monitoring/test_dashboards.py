"""The dashboards build, carry the panels the issue asks for, and query only through Prometheus."""

from __future__ import annotations

import pytest

from components.monitoring import dashboards

EXPECTED = {
    "golive-overview": ("Service status", "Request rate", "Error rate", "Latency p50 / p95 / p99", "SLO compliance", "Error budget remaining",
                        "Firing alerts"),
    "golive-service": ("Requests by route", "Latency heatmap", "Errors by code", "CPU of limit", "Database pool use"),
    "golive-database": ("Connections by state", "Application pool use", "Read / write latency", "Replica lag", "Free storage", "CPU"),
    "golive-redis": ("Connected clients", "Memory", "Hit rate", "Evictions", "Commands per second"),
    "golive-slo": ("Objective", "30-day SLI", "Error budget remaining", "Burn rate over 1h"),
    "golive-edge": ("ALB 4xx / 5xx", "Allowed by rule", "Blocked by rule"),
}


@pytest.fixture(scope="module")
def built():
    return dashboards.dashboards()


def test_six_dashboards_with_their_panels(built):
    assert set(built) == set(EXPECTED)
    for uid, titles in EXPECTED.items():
        have = [p["title"] for p in dashboards.panels(built[uid])]
        for title in titles:
            assert any(h.startswith(title) for h in have), f"{uid} lacks {title!r}"


def test_panels_are_numbered_sourced_and_queried(built):
    total = 0
    for uid, model in built.items():
        ids = [p["id"] for p in model["panels"]]
        assert len(ids) == len(set(ids)), uid
        for panel in dashboards.panels(model):
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}
            assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"])
            total += 1
        assert model["tags"] == ["golive"] and model["editable"] is False
    assert total == 55


def test_service_variable_drives_the_service_dashboard(built):
    variables = {v["name"]: v for v in built["golive-service"]["templating"]["list"]}
    assert variables["service"]["query"] == "label_values(service:http_requests:rate5m, service)"
    assert all('service="$service"' in q or 'namespace="$service"' in q for q in dashboards.queries(built["golive-service"]))


def test_latency_heatmap_reads_buckets_as_a_heatmap(built):
    heatmap = next(p for p in dashboards.panels(built["golive-service"]) if p["type"] == "heatmap")
    assert heatmap["targets"][0]["format"] == "heatmap"
    assert "http_request_duration_seconds_bucket" in heatmap["targets"][0]["expr"]


def test_grafana_variables_are_replaced_before_parsing():
    assert dashboards.as_promql('rate(x{service="$service"}[$__rate_interval])') == 'rate(x{service="orders"}[5m])'
    with pytest.raises(ValueError, match="unknown Grafana variable"):
        dashboards.as_promql("rate(x[$window])")
