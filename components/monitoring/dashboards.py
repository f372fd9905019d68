"""Grafana dashboards built in code with grafana-foundation-sdk (the 11.6 line pinned in requirements.txt).

Each dashboard is a ``Dashboard`` builder; :func:`dashboards` returns them as JSON
documents keyed by uid, which the component ships as ConfigMaps labelled
``grafana_dashboard: "1"`` for Grafana's sidecar. Queries use the metric names of
docs/metrics.md, the exporters' names and the recording rules of ``rules.py``;
tests parse every panel query with promtool and run the ones that could mislead
(service filters, certificates) on series with promtool.

The dashboards follow what exists: the service variable lists the catalog (an
exporter's scrape target, whose ``service`` label is its Kubernetes Service, never
shows), each certificate appears once (the TLS probe's, not the HTTP probe's
copy), SLI panels name the SLO window the rules record (Prometheus keeps at least
that long, config check and policy), and a panel for something the stack does not
declare (replica lag without read replicas) is left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import heatmap, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import BigValueColorMode, BigValueGraphMode
from grafana_foundation_sdk.models.dashboard import DataSourceRef, Threshold, ThresholdsMode, VariableOption
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from components.config import SLO_WINDOW, ServiceConfig, duration_seconds

DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
TAGS = ["golive"]
RATE = "$__rate_interval"
WINDOW_DAYS = f"{int((duration_seconds(SLO_WINDOW) or 0) // 86400)}-day"
# Only the TLS probes' certificates (the HTTP probes of the same hosts report them too).
CERTIFICATES = 'probe_ssl_earliest_cert_expiry{job=~".+-tls"}'


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False
    heatmap: bool = False
    # Exemplars (trace ids beside a histogram's samples) exist on the raw bucket series only;
    # recording rules drop them. Grafana links each one to its trace in Jaeger.
    exemplar: bool = False


def _target(query: Query, ref: str) -> prometheus.Dataquery:
    target = prometheus.Dataquery().expr(query.expr).ref_id(ref).datasource(DATASOURCE)
    if query.legend:
        target = target.legend_format(query.legend)
    if query.instant:
        target = target.instant().format(PromQueryFormat.TABLE)
    if query.heatmap:
        target = target.format(PromQueryFormat.HEATMAP)
    if query.exemplar:
        target = target.exemplar(True)
    return target


def _with_targets(panel, queries: Sequence[Query]):
    for i, query in enumerate(queries):
        panel = panel.with_target(_target(query, chr(ord("A") + i)))
    return panel


def _thresholds(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return db.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value=v, color=c) for v, c in steps])


def series(title: str, queries: Sequence[Query], unit: str = "short", *, span: int = 12, description: str = "") -> timeseries.Panel:
    panel = timeseries.Panel().title(title).datasource(DATASOURCE).unit(unit).span(span).height(8)
    if description:
        panel = panel.description(description)
    return _with_targets(panel, queries)


def single(title: str, query: Query, unit: str = "short", *, span: int = 4, steps: Sequence[tuple[float | None, str]] = ()) -> stat.Panel:
    panel = (
        stat.Panel().title(title).datasource(DATASOURCE).unit(unit).span(span).height(5)
        .color_mode(BigValueColorMode.BACKGROUND).graph_mode(BigValueGraphMode.NONE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
    )
    if steps:
        panel = panel.thresholds(_thresholds(*steps))
    return _with_targets(panel, [query])


def grid(title: str, queries: Sequence[Query], unit: str = "short", *, span: int = 12) -> table.Panel:
    panel = table.Panel().title(title).datasource(DATASOURCE).unit(unit).span(span).height(8)
    return _with_targets(panel, queries)


def heat(title: str, query: Query, *, span: int = 12) -> heatmap.Panel:
    panel = heatmap.Panel().title(title).datasource(DATASOURCE).span(span).height(8).calculate(False)
    return _with_targets(panel, [query])


def _service_variable(services: Sequence[str], *, include_all: bool) -> db.CustomVariable:
    """The catalog's services, and nothing else: "All" is their names, never ``.*`` (which also matches exporters)."""
    variable = db.CustomVariable("service").label("Service").values(",".join(services)).allow_custom_value(False)
    if include_all:
        variable = (variable.include_all(True).multi(True).all_value("|".join(services) or "none")
                    .current(VariableOption(selected=True, text="All", value="$__all")))
    elif services:
        variable = variable.current(VariableOption(selected=True, text=services[0], value=services[0]))
    return variable


def _board(uid: str, title: str, description: str, rows: Iterable[tuple[str, Sequence]], variables: Sequence = ()) -> db.Dashboard:
    board = (
        db.Dashboard(title).uid(uid).description(description).tags(TAGS).refresh("1m").time("now-6h", "now")
        .timezone("utc").readonly()
    )
    for variable in variables:
        board = board.with_variable(variable)
    panel_id = 1
    for row_title, panels in rows:
        board = board.with_row(db.Row(row_title).id(panel_id))
        panel_id += 1
        for panel in panels:
            board = board.with_panel(panel.id(panel_id))
            panel_id += 1
    return board


# --------------------------------------------------------------------------- the dashboards


def overview(services: Sequence[str] = ()) -> db.Dashboard:
    ok_red = ((None, "red"), (1, "green"))
    return _board("golive-overview", "golive / Platform overview", "Every catalog service at a glance: status, traffic, errors, latency, SLOs.", [
        ("Status", [
            grid("Service status (targets up)", [Query("sum by (service) (up{job=~\"$service\"})", instant=True)], span=8),
            single("Services with no target up", Query("count(max by (service) (up{job=~\"$service\"}) == 0) or vector(0)"),
                   steps=((None, "green"), (1, "red"))),
            single("Firing alerts", Query('count(ALERTS{alertstate="firing",alertname!="Watchdog"}) or vector(0)'),
                   steps=((None, "green"), (1, "orange"))),
            single("Alerting pipeline (Watchdog)", Query('count(ALERTS{alertname="Watchdog",alertstate="firing"}) or vector(0)'),
                   steps=ok_red),
        ]),
        ("Traffic", [
            series("Request rate", [Query('service:http_requests:rate5m{service=~"$service"}', "{{service}}")], "reqps", span=8),
            series("Error rate (5xx share)", [Query('service:http_requests_errors:ratio_rate5m{service=~"$service"}', "{{service}}")],
                   "percentunit", span=8),
            series("Latency p50 / p95 / p99", [
                Query(f'service:http_request_duration_seconds:p{q}_5m{{service=~"$service"}}', f"{{{{service}}}} p{q}")
                for q in ("50", "95", "99")
            ], "s", span=8),
        ]),
        ("SLOs", [
            grid(f"SLO compliance ({WINDOW_DAYS} SLI)", [Query(f'1 - slo:sli_error:ratio_rate{SLO_WINDOW}{{service=~"$service"}}', instant=True)],
                 "percentunit"),
            grid("Error budget remaining", [Query('slo:error_budget_remaining:ratio{service=~"$service"}', instant=True)], "percentunit"),
            grid("Firing alerts", [Query('sum by (alertname, service, severity) (ALERTS{alertstate="firing"})', instant=True)], span=24),
        ]),
    ], [_service_variable(services, include_all=True)])


def service_details(services: Sequence[str] = ()) -> db.Dashboard:
    s = 'service="$service"'
    return _board("golive-service", "golive / Service details", "One service: requests by route, latency, errors by code, saturation.", [
        ("Requests", [
            series("Requests by route", [Query(f"sum by (route) (rate(http_requests_total{{{s}}}[{RATE}]))", "{{route}}")], "reqps"),
            series("Errors by code", [Query(f'sum by (code) (rate(http_requests_total{{{s},code=~"[45].."}}[{RATE}]))', "{{code}}")], "reqps"),
        ]),
        ("Latency", [
            heat("Latency heatmap", Query(f"sum by (le) (increase(http_request_duration_seconds_bucket{{{s}}}[{RATE}]))", "{{le}}",
                                          heatmap=True, exemplar=True)),
            series("Latency quantiles", [
                Query(f"histogram_quantile(0.{q}, sum by (le) (rate(http_request_duration_seconds_bucket{{{s}}}[{RATE}])))", f"p{q}",
                      exemplar=True)
                for q in ("50", "95", "99")
            ], "s"),
        ]),
        ("Saturation", [
            series("CPU of limit", [Query(
                f'sum by (pod) (rate(container_cpu_usage_seconds_total{{namespace="$service",container!="",container!="POD"}}[{RATE}]))'
                f' / sum by (pod) (kube_pod_container_resource_limits{{namespace="$service",resource="cpu"}})', "{{pod}}")], "percentunit", span=8),
            series("Memory of limit", [Query(
                'sum by (pod) (container_memory_working_set_bytes{namespace="$service",container!="",container!="POD"})'
                ' / sum by (pod) (kube_pod_container_resource_limits{namespace="$service",resource="memory"})', "{{pod}}")], "percentunit", span=8),
            series("Database pool use", [Query(f"max by (pod) (db_pool_connections_in_use{{{s}}} / db_pool_connections_max{{{s}}})", "{{pod}}")],
                   "percentunit", span=8),
            series("Request queue depth", [Query(f"max by (pod) (request_queue_depth{{{s}}})", "{{pod}}")], span=8),
            series("Circuit breakers (1 = open)", [Query(f"max by (dependency) (circuit_breaker_state{{{s}}})", "{{dependency}}")], span=8),
            series("Failed logins", [Query(f"sum(increase(auth_login_failures_total{{{s}}}[5m]))", "failures / 5m")], span=8),
        ]),
    ], [_service_variable(services, include_all=False)])


def database(read_replicas: int = 0) -> db.Dashboard:
    rds = "dimension_DBInstanceIdentifier"
    storage = [series("Free storage", [Query(f"min by ({rds}) (aws_rds_free_storage_space_average)", f"{{{{{rds}}}}}")], "bytes",
                      span=12 if read_replicas else 24)]
    if read_replicas:
        storage.insert(0, series("Replica lag", [Query(f"max by ({rds}) (aws_rds_replica_lag_average)", f"{{{{{rds}}}}}")], "s"))
    return _board("golive-database", "golive / Database", "RDS PostgreSQL: connections, pool use, latency, replication, storage, CPU.", [
        ("Connections", [
            series("Connections by state", [Query("sum by (state) (pg_stat_activity_count)", "{{state}}")], span=8),
            series("Connections (CloudWatch)", [Query(f"max by ({rds}) (aws_rds_database_connections_average)", f"{{{{{rds}}}}}")], span=8),
            series("Application pool use", [Query("max by (service) (db_pool_connections_in_use / db_pool_connections_max)", "{{service}}")],
                   "percentunit", span=8),
        ]),
        ("Performance", [
            series("Read / write latency", [
                Query(f"max by ({rds}) (aws_rds_read_latency_average)", f"read {{{{{rds}}}}}"),
                Query(f"max by ({rds}) (aws_rds_write_latency_average)", f"write {{{{{rds}}}}}"),
            ], "s", span=8),
            series("CPU", [Query(f"max by ({rds}) (aws_rds_cpuutilization_average)", f"{{{{{rds}}}}}")], "percent", span=8),
            series("Transactions", [Query(f"sum(rate(pg_stat_database_xact_commit[{RATE}]))", "commits"),
                                    Query(f"sum(rate(pg_stat_database_xact_rollback[{RATE}]))", "rollbacks")], "ops", span=8),
        ]),
        ("Replication and storage" if read_replicas else "Storage", storage),
    ])


def redis() -> db.Dashboard:
    return _board("golive-redis", "golive / Redis", "ElastiCache: clients, memory, hit rate, evictions, commands.", [
        ("Redis", [
            single("Up", Query("max(redis_up)"), steps=((None, "red"), (1, "green"))),
            single("Hit rate (5m)", Query(
                "sum(rate(redis_keyspace_hits_total[5m])) / (sum(rate(redis_keyspace_hits_total[5m])) + sum(rate(redis_keyspace_misses_total[5m])))"),
                "percentunit", steps=((None, "red"), (0.8, "green"))),
            single("Memory used", Query("max(redis_memory_used_bytes / (redis_memory_max_bytes > 0))"), "percentunit",
                   steps=((None, "green"), (0.8, "red"))),
            series("Connected clients", [Query("sum by (instance) (redis_connected_clients)", "{{instance}}")]),
            series("Memory", [Query("sum by (instance) (redis_memory_used_bytes)", "used {{instance}}"),
                              Query("sum by (instance) (redis_memory_max_bytes)", "max {{instance}}")], "bytes"),
            series("Hit rate", [Query(
                f"sum(rate(redis_keyspace_hits_total[{RATE}])) / (sum(rate(redis_keyspace_hits_total[{RATE}])) + sum(rate(redis_keyspace_misses_total[{RATE}])))",
                "hit rate")], "percentunit"),
            series("Evictions", [Query(f"sum(rate(redis_evicted_keys_total[{RATE}]))", "evicted keys/s"),
                                 Query("sum(aws_elasticache_evictions_sum)", "evictions (CloudWatch)")], "ops"),
            series("Commands per second", [Query(f"sum(rate(redis_commands_processed_total[{RATE}]))", "commands/s")], "ops", span=24),
        ]),
    ])


def slo(services: Sequence[str] = ()) -> db.Dashboard:
    sel = '{service=~"$service"}'
    return _board("golive-slo", "golive / SLOs", f"Per service and SLI: objective, {WINDOW_DAYS} SLI, error budget left, burn rates.", [
        ("Objectives", [
            grid("Objective", [Query(f"slo:objective:ratio{sel}", instant=True)], "percentunit", span=8),
            grid(f"{WINDOW_DAYS} SLI", [Query(f"1 - slo:sli_error:ratio_rate{SLO_WINDOW}{sel}", instant=True)], "percentunit", span=8),
            grid("Error budget remaining", [Query(f"slo:error_budget_remaining:ratio{sel}", instant=True)], "percentunit", span=8),
        ]),
        ("Burn rates", [
            series(f"Burn rate over {w}", [Query(
                f"slo:sli_error:ratio_rate{w}{sel} / on (service, slo) (1 - slo:objective:ratio{sel})", "{{service}} {{slo}}")],
                span=12 if w in ("1h", "6h", "1d", "3d") else 8,
                description="1 spends the budget exactly in 30 days; pages start at 14.4 (1h) and 6 (6h), tickets at 3 (1d) and 1 (3d).")
            for w in ("5m", "30m", "2h", "1h", "6h", "1d", "3d")
        ]),
        ("Budget", [
            series("Error budget remaining over time", [Query(f"slo:error_budget_remaining:ratio{sel}", "{{service}} {{slo}}")],
                   "percentunit", span=24),
        ]),
    ], [_service_variable(services, include_all=True)])


def edge() -> db.Dashboard:
    return _board("golive-edge", "golive / Edge", "ALB responses and WAF decisions (CloudWatch via YACE).", [
        ("Load balancer", [
            series("Requests", [Query("sum(aws_applicationelb_request_count_sum)", "requests")], span=8),
            series("ALB 4xx / 5xx", [
                Query("sum(aws_applicationelb_httpcode_elb_4xx_count_sum)", "ALB 4xx"),
                Query("sum(aws_applicationelb_httpcode_elb_5xx_count_sum)", "ALB 5xx"),
            ], span=8),
            series("Target 4xx / 5xx", [
                Query("sum(aws_applicationelb_httpcode_target_4xx_count_sum)", "target 4xx"),
                Query("sum(aws_applicationelb_httpcode_target_5xx_count_sum)", "target 5xx"),
            ], span=8),
            series("Target response time", [Query("max(aws_applicationelb_target_response_time_average)", "average")], "s"),
            series("Healthy / unhealthy targets", [
                Query("sum by (dimension_TargetGroup) (aws_applicationelb_healthy_host_count_average)", "healthy {{dimension_TargetGroup}}"),
                Query("sum by (dimension_TargetGroup) (aws_applicationelb_un_healthy_host_count_average)", "unhealthy {{dimension_TargetGroup}}"),
            ]),
        ]),
        ("WAF", [
            series("Allowed by rule", [Query('sum by (dimension_Rule) (aws_wafv2_allowed_requests_sum{dimension_Rule!="ALL"})', "{{dimension_Rule}}")]),
            series("Blocked by rule", [Query('sum by (dimension_Rule) (aws_wafv2_blocked_requests_sum{dimension_Rule!="ALL"})', "{{dimension_Rule}}")]),
            series("TLS certificates: days left", [Query(
                f"(min by (instance) ({CERTIFICATES}) - time()) / 86400", "{{instance}}")], "d", span=24),
        ]),
    ])


def dashboards(services: Sequence[ServiceConfig] = (), *, read_replicas: int = 0) -> dict[str, dict]:
    """uid -> dashboard JSON (plain dicts) for this catalog and database, built fresh each call."""
    names = [s.name for s in services]
    built = (overview(names), service_details(names), database(read_replicas), redis(), slo(names), edge())
    out: dict[str, dict] = {}
    for board in built:
        model = board.build()
        out[model.uid] = json.loads(json.dumps(model, cls=JSONEncoder))
    return out


def panels(dashboard: dict) -> list[dict]:
    """Every panel that draws data (rows excluded)."""
    return [p for p in dashboard.get("panels", []) if p.get("type") != "row"]


def queries(dashboard: dict) -> list[str]:
    return [t["expr"] for p in panels(dashboard) for t in p.get("targets", []) if t.get("expr")]


# Grafana substitutes these before a query reaches Prometheus; tests do the same to parse queries.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$service": "orders"}


def as_promql(expr: str) -> str:
    for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(variable, value)
    leftover = re.findall(r"\$\w+", expr)
    if leftover:
        raise ValueError(f"unknown Grafana variable(s) {leftover} in {expr!r}")
    return expr
