"""The dashboards build, carry the panels the issue asks for, query only through Prometheus, and show what exists."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from components.config import SLO_WINDOW
from components.monitoring import dashboards

EXPECTED = {
    "golive-overview": ("Service status", "Request rate", "Error rate", "Latency p50 / p95 / p99", "SLO compliance", "Error budget remaining",
                        "Firing alerts"),
    "golive-service": ("Requests by route", "Latency heatmap", "Errors by code", "CPU of limit", "Database pool use"),
    "golive-database": ("Connections by state", "Application pool use", "Read / write latency", "Free storage", "CPU"),
    "golive-redis": ("Connected clients", "Memory", "Hit rate", "Evictions", "Commands per second"),
    "golive-slo": ("Objective", "30-day SLI", "Error budget remaining", "Burn rate over 1h"),
    "golive-edge": ("ALB 4xx / 5xx", "Allowed by rule", "Blocked by rule", "TLS certificates: days left"),
}
CATALOG = ["signal-service", "listings-service", "trading-api", "config-service"]


@pytest.fixture(scope="module")
def built(prod_config):
    return dashboards.dashboards(prod_config.services, read_replicas=prod_config.database.read_replicas)


def panel(model: dict, title: str) -> dict:
    return next(p for p in dashboards.panels(model) if p["title"].startswith(title))


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
        for p in dashboards.panels(model):
            assert p["datasource"] == {"type": "prometheus", "uid": "prometheus"}
            assert p["targets"] and all(t["expr"] and t["refId"] for t in p["targets"])
            total += 1
        assert model["tags"] == ["golive"] and model["editable"] is False
    assert total == 54


def test_replica_lag_panel_only_with_read_replicas(prod_config):
    """The prod database has no read replica (golive:database.readReplicas: 0): a replica-lag panel would stay empty."""
    assert prod_config.database.read_replicas == 0
    without = [p["title"] for p in dashboards.panels(dashboards.dashboards(prod_config.services)["golive-database"])]
    with_one = [p["title"] for p in dashboards.panels(dashboards.dashboards(prod_config.services, read_replicas=1)["golive-database"])]
    assert "Replica lag" not in without and "Replica lag" in with_one


def test_service_variable_lists_the_catalog_only(built):
    for uid in ("golive-overview", "golive-slo"):
        (variable,) = built[uid]["templating"]["list"]
        assert variable["type"] == "custom" and variable["query"] == ",".join(CATALOG)
        assert variable["allValue"] == "|".join(CATALOG) and variable["allowCustomValue"] is False
    (single,) = built["golive-service"]["templating"]["list"]
    assert single["query"] == ",".join(CATALOG) and not single.get("includeAll")
    assert all('service="$service"' in q or 'namespace="$service"' in q for q in dashboards.queries(built["golive-service"]))


def test_sli_panels_name_the_slo_window(built):
    assert SLO_WINDOW == "30d"
    sli = panel(built["golive-slo"], "30-day SLI")
    assert sli["targets"][0]["expr"] == '1 - slo:sli_error:ratio_rate30d{service=~"$service"}'
    assert panel(built["golive-overview"], "SLO compliance (30-day SLI)")


def test_latency_heatmap_reads_buckets_as_a_heatmap(built):
    heatmap = next(p for p in dashboards.panels(built["golive-service"]) if p["type"] == "heatmap")
    assert heatmap["targets"][0]["format"] == "heatmap"
    assert "http_request_duration_seconds_bucket" in heatmap["targets"][0]["expr"]


def test_latency_panels_over_raw_buckets_show_exemplars_and_nothing_else_asks_for_them(built):
    """Exemplars link a latency sample to its trace; only the raw histogram series carry them."""
    targets = [(p["title"], t) for model in built.values() for p in dashboards.panels(model) for t in p.get("targets", [])]
    with_exemplars = {title for title, t in targets if t.get("exemplar")}
    assert with_exemplars == {"Latency heatmap", "Latency quantiles"}
    assert all("http_request_duration_seconds_bucket" in t["expr"] for title, t in targets if t.get("exemplar"))


def test_grafana_variables_are_replaced_before_parsing():
    assert dashboards.as_promql('rate(x{service="$service"}[$__rate_interval])') == 'rate(x{service="orders"}[5m])'
    with pytest.raises(ValueError, match="unknown Grafana variable"):
        dashboards.as_promql("rate(x[$window])")


# --------------------------------------------------------------------------- the queries on series, with promtool

TRADING_TARGETS = ['up{job="trading-api",service="trading-api",namespace="trading-api",instance="10.20.32.10:8080"}',
                   'up{job="trading-api",service="trading-api",namespace="trading-api",instance="10.20.64.10:8080"}']
# What else reports `up` with a `service` label: exporters (their Kubernetes Service), the chart, the blackbox probes.
OTHER_TARGETS = ['up{job="redis-exporter",service="redis-exporter",namespace="monitoring",instance="10.20.32.30:9121"}',
                 'up{job="kube-prometheus-stack-prometheus",service="kube-prometheus-stack-prometheus",instance="10.20.32.31:9090"}',
                 'up{job="trading-api-http",service="trading-api",instance="https://trading.golive.example.com/health"}']
CERTIFICATES = ['probe_ssl_earliest_cert_expiry{job="trading-api-tls",service="trading-api",instance="trading.golive.example.com:443"}',
                'probe_ssl_earliest_cert_expiry{job="trading-api-http",service="trading-api",instance="https://trading.golive.example.com/health"}',
                'probe_ssl_earliest_cert_expiry{job="listings-service-tls",service="listings-service",instance="listings.golive.example.com:443"}']


def _as_grafana_all(expr: str, model: dict) -> str:
    """The query as Grafana sends it with the service variable at "All" (its allValue)."""
    (variable,) = model["templating"]["list"]
    return expr.replace("$service", variable["allValue"])


@pytest.mark.tools
def test_service_status_counts_catalog_targets_only_and_each_certificate_once(promtool, built, tmp_path):
    status = _as_grafana_all(panel(built["golive-overview"], "Service status")["targets"][0]["expr"], built["golive-overview"])
    down = _as_grafana_all(panel(built["golive-overview"], "Services with no target up")["targets"][0]["expr"], built["golive-overview"])
    certificates = panel(built["golive-edge"], "TLS certificates")["targets"][0]["expr"]
    day = 86400
    suite = {"rule_files": [], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": s, "values": "1x5"} for s in TRADING_TARGETS + OTHER_TARGETS]
        + [{"series": CERTIFICATES[0], "values": f"{40 * day}x5"}, {"series": CERTIFICATES[1], "values": f"{40 * day}x5"},
           {"series": CERTIFICATES[2], "values": f"{20 * day}x5"}],
        "promql_expr_test": [
            {"expr": status, "eval_time": "0m", "exp_samples": [{"labels": '{service="trading-api"}', "value": 2}]},
            {"expr": down, "eval_time": "0m", "exp_samples": [{"labels": "{}", "value": 0}]},
            {"expr": certificates, "eval_time": "0m", "exp_samples": [
                {"labels": '{instance="trading.golive.example.com:443"}', "value": 40},
                {"labels": '{instance="listings.golive.example.com:443"}', "value": 20}]},
        ],
    }]}
    (tmp_path / "dashboards.test.yml").write_text(yaml.safe_dump(suite, sort_keys=False))
    result = subprocess.run([promtool, "test", "rules", "dashboards.test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
