"""Alerting and recording rules as plain Python objects, with the proof that each alert works.

Every alert carries two promtool scenarios: input series that make it fire (with
the labels and the value its annotations show) and input series that keep it
quiet. The same objects render the PrometheusRule specs the program deploys, the
plain rule files ``promtool check rules`` reads and the unit-test files
``promtool test rules`` runs, so a rule cannot drift from its test.

SLOs follow the SRE workbook: per catalog service an availability SLI (share of
5xx) and a latency SLI (share of requests slower than the threshold), their error
ratios over 5m..30d as recording rules, the error budget left, and multi-window
multi-burn-rate alerts: page on 14.4x (1h and 5m) or 6x (6h and 30m), ticket on
3x (1d and 2h) or 1x (3d and 6h).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from components.config import ServiceConfig, duration_seconds

Severity = Literal["critical", "warning", "info"]
SEVERITIES = ("critical", "warning", "info")

SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
# (long window, short window, burn-rate factor) of the SRE workbook's table 5-8.
PAGE_BURNS = (("1h", "5m", 14.4), ("6h", "30m", 6.0))
TICKET_BURNS = (("1d", "2h", 3.0), ("3d", "6h", 1.0))


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Firing:
    """One alert promtool must see: the labels the expression yields and ``$value``."""

    labels: Mapping[str, str] = field(default_factory=dict)
    value: float = 1.0
    severity: Severity | None = None
    """Which rule of the alert name (by severity); None means the rule the scenario belongs to."""


@dataclass(frozen=True)
class Scenario:
    """Input series (promtool's expanding notation) and, at ``at``, every alert of the name that fires."""

    description: str
    series: tuple[tuple[str, str], ...]
    at: str
    firing: tuple[Firing, ...] = ()
    interval: str = "1m"
    silent_also: tuple[str, ...] = ()
    """Other alert names that must stay quiet at ``at`` (e.g. a slow burn must not page)."""


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    severity: Severity
    service: str
    summary: str
    description: str
    runbook: str
    fires: Scenario
    quiet: Scenario | None
    for_: str = "0m"
    labels: Mapping[str, str] = field(default_factory=dict)
    quiet_exempt: str = ""
    """Why an alert has no quiet scenario (only the always-firing Watchdog)."""


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Alert | Recording, ...]
    evaluation_interval: str = "1m"
    """The interval of this group's promtool tests (long SLO windows are tested at 5m)."""
    slow_scenarios_interval: str = ""

    @property
    def alerts(self) -> list[Alert]:
        return [r for r in self.rules if isinstance(r, Alert)]

    @property
    def recordings(self) -> list[Recording]:
        return [r for r in self.rules if isinstance(r, Recording)]


def runbook_page(alertname: str) -> str:
    """``HighErrorRate`` -> ``high-error-rate`` (the file docs/runbooks/<page>.md)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", alertname).lower()


def runbook_anchor(alertname: str) -> str:
    """GitHub's anchor of the page's ``# <alertname>`` heading."""
    return alertname.lower()


def runbook_url(base: str, alertname: str) -> str:
    return f"{base.rstrip('/')}/{runbook_page(alertname)}.md#{runbook_anchor(alertname)}"


# --------------------------------------------------------------------------- Go template functions


def _g4(v: float) -> str:
    return format(v, ".4g")


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    if abs(v) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return _g4(v) + prefix
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return _g4(v) + prefix


def humanize1024(v: float) -> str:
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix, v = p, v / 1024
    return _g4(v) + prefix


def humanize_percentage(v: float) -> str:
    return _g4(v * 100) + "%"


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        d = int(v)
        seconds, minutes, hours, days = d % 60, (d // 60) % 60, (d // 3600) % 24, d // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{_g4(v)}{prefix}s"


_FUNCS = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}
_ACTION = re.compile(r"\{\{\s*(.*?)\s*\}\}")


def render(template: str, labels: Mapping[str, str], value: float) -> str:
    """Render the subset of Prometheus' Go templates golive's rules use."""

    def one(match: re.Match[str]) -> str:
        action = match.group(1)
        label = re.fullmatch(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)", action)
        if label:
            return labels.get(label.group(1), "")
        pipe = re.fullmatch(r"\$value\s*\|\s*(\w+)", action)
        if pipe and pipe.group(1) in _FUNCS:
            return _FUNCS[pipe.group(1)](value)
        raise ValueError(f"unsupported template action {{{{ {action} }}}}")

    return _ACTION.sub(one, template)


# --------------------------------------------------------------------------- rendering


def alert_annotations(alert: Alert, runbook_base: str) -> dict[str, str]:
    return {
        "summary": alert.summary,
        "description": alert.description,
        "runbook_url": runbook_url(runbook_base, alert.name),
    }


def alert_labels(alert: Alert) -> dict[str, str]:
    return {"severity": alert.severity, "service": alert.service, **alert.labels}


def rule_dict(rule: Alert | Recording, runbook_base: str) -> dict:
    if isinstance(rule, Recording):
        out: dict = {"record": rule.record, "expr": rule.expr}
        if rule.labels:
            out["labels"] = dict(rule.labels)
        return out
    out = {"alert": rule.name, "expr": rule.expr}
    if duration_seconds(rule.for_):
        out["for"] = rule.for_
    out["labels"] = alert_labels(rule)
    out["annotations"] = alert_annotations(rule, runbook_base)
    return out


def group_dict(group: RuleGroup, runbook_base: str) -> dict:
    """The ``spec.groups[]`` entry of a PrometheusRule (and of a plain rule file)."""
    return {"name": group.name, "rules": [rule_dict(r, runbook_base) for r in group.rules]}


def rule_file(groups: Sequence[RuleGroup], runbook_base: str) -> dict:
    """A plain Prometheus rule file (what ``promtool check rules`` reads)."""
    return {"groups": [group_dict(g, runbook_base) for g in groups]}


def _expected(alert_by_severity: Mapping[str, Alert], firing: Firing, default: Alert, runbook_base: str) -> dict:
    rule = alert_by_severity[firing.severity or default.severity]
    rendered = {k: render(v, firing.labels, firing.value) for k, v in alert_labels(rule).items()}
    labels = {**firing.labels, **rendered}
    annotations = {k: render(v, labels, firing.value) for k, v in alert_annotations(rule, runbook_base).items()}
    return {"exp_labels": labels, "exp_annotations": annotations}


def test_units(group: RuleGroup) -> list[RuleGroup]:
    """The group split for promtool: an SLO group per SLI (its rules only), so long scenarios stay fast."""
    slos = sorted({r.labels.get("slo", "") for r in group.rules} - {""})
    if not slos:
        return [group]
    return [RuleGroup(f"{group.name}-{slo}", tuple(r for r in group.rules if r.labels.get("slo") == slo)) for slo in slos]


def promtool_tests(group: RuleGroup, rule_file_name: str, runbook_base: str) -> list[dict]:
    """promtool unit-test files for ``group``: one per scenario interval, each test a scenario.

    Returns ``[{"rule_files": [...], "evaluation_interval": ..., "tests": [...]}, ...]``.
    """
    by_name: dict[str, dict[str, Alert]] = {}
    for alert in group.alerts:
        by_name.setdefault(alert.name, {})[alert.severity] = alert
    files: dict[str, list[dict]] = {}
    for alert in group.alerts:
        for kind, scenario in (("fires", alert.fires), ("stays quiet", alert.quiet)):
            if scenario is None:
                continue
            checks = [
                {
                    "eval_time": scenario.at,
                    "alertname": alert.name,
                    "exp_alerts": [_expected(by_name[alert.name], f, alert, runbook_base) for f in scenario.firing],
                }
            ]
            checks += [{"eval_time": scenario.at, "alertname": other, "exp_alerts": []} for other in scenario.silent_also]
            files.setdefault(scenario.interval, []).append(
                {
                    "name": f"{alert.name} ({alert.severity}) {kind}: {scenario.description}",
                    "interval": scenario.interval,
                    "input_series": [{"series": s, "values": v} for s, v in scenario.series],
                    "alert_rule_test": checks,
                }
            )
    return [
        {"rule_files": [rule_file_name], "evaluation_interval": interval, "tests": tests}
        for interval, tests in sorted(files.items())
    ]


# --------------------------------------------------------------------------- infrastructure alerts


def _svc_regex(services: Sequence[ServiceConfig]) -> str:
    return "|".join(s.name for s in services)  # DNS labels: no regex metacharacter but "-", literal outside []


def service_group(services: Sequence[ServiceConfig]) -> RuleGroup:
    """Request-level health of the catalog's services (metrics of docs/metrics.md)."""
    svc = services[0].name if services else "api"
    s = f'service="{svc}"'
    rules: list[Alert | Recording] = [
        Recording("service:http_requests:rate5m", 'sum by (service) (rate(http_requests_total{service!=""}[5m]))'),
        Recording(
            "service:http_requests_errors:ratio_rate5m",
            'sum by (service) (rate(http_requests_total{service!="",code=~"5.."}[5m]))\n'
            '  / sum by (service) (rate(http_requests_total{service!=""}[5m]))',
        ),
        *[
            Recording(
                f"service:http_request_duration_seconds:p{q}_5m",
                f'histogram_quantile(0.{q}, sum by (service, le) (rate(http_request_duration_seconds_bucket{{service!=""}}[5m])))',
            )
            for q in ("50", "95", "99")
        ],
    ]
    if services:
        rules.append(
            Alert(
                name="ServiceDown",
                expr=f'max by (service) (up{{service=~"{_svc_regex(services)}"}}) == 0',
                for_="1m",
                severity="critical",
                service="{{ $labels.service }}",
                summary="{{ $labels.service }} is down",
                description="No scrape target of {{ $labels.service }} has answered for 1 minute (targets up: {{ $value | humanize }}).",
                runbook="ServiceDown",
                fires=Scenario(
                    "every target stops answering",
                    ((f'up{{{s},instance="10.20.32.10:8080",job="{svc}"}}', "1 1 0x10"),
                     (f'up{{{s},instance="10.20.64.10:8080",job="{svc}"}}', "1 0x11")),
                    at="5m",
                    firing=(Firing({"service": svc}, 0),),
                ),
                quiet=Scenario(
                    "one of two targets down",
                    ((f'up{{{s},instance="10.20.32.10:8080",job="{svc}"}}', "1x12"),
                     (f'up{{{s},instance="10.20.64.10:8080",job="{svc}"}}', "0x12")),
                    at="5m",
                ),
            )
        )

    def requests(ok: str, bad: str) -> tuple[tuple[str, str], ...]:
        return ((f'http_requests_total{{{s},route="/orders",code="200"}}', ok),
                (f'http_requests_total{{{s},route="/orders",code="503"}}', bad))

    error_desc = ("{{ $labels.service }} answered {{ $value | humanizePercentage }} of requests with a 5xx status over the last 5 minutes "
                  "(threshold {threshold}).")
    rules += [
        Alert(
            name="HighErrorRate",
            expr="service:http_requests_errors:ratio_rate5m > 0.10",
            for_="5m",
            severity="critical",
            service="{{ $labels.service }}",
            summary="{{ $labels.service }}: more than 10% of requests fail",
            description=error_desc.replace("{threshold}", "10%"),
            runbook="HighErrorRate",
            fires=Scenario("half the requests fail", requests("0+60x20", "0+60x20"), at="15m",
                           firing=(Firing({"service": svc}, 0.5), Firing({"service": svc}, 0.5, "warning"))),
            quiet=Scenario("5% of requests fail (only the warning)", requests("0+57x20", "0+3x20"), at="15m",
                           firing=(Firing({"service": svc}, 0.05, "warning"),)),
        ),
        Alert(
            name="HighErrorRate",
            expr="service:http_requests_errors:ratio_rate5m > 0.01",
            for_="10m",
            severity="warning",
            service="{{ $labels.service }}",
            summary="{{ $labels.service }}: more than 1% of requests fail",
            description=error_desc.replace("{threshold}", "1%"),
            runbook="HighErrorRate",
            fires=Scenario("5% of requests fail", requests("0+57x20", "0+3x20"), at="15m",
                           firing=(Firing({"service": svc}, 0.05),)),
            quiet=Scenario("0.5% of requests fail", requests("0+199x20", "0+1x20"), at="15m"),
        ),
    ]

    def latency(counts: Mapping[str, int]) -> tuple[tuple[str, str], ...]:
        return tuple((f'http_request_duration_seconds_bucket{{{s},le="{le}"}}', f"0+{n}x30") for le, n in counts.items())

    slow = {"0.5": 0, "1": 0, "2": 0, "5": 100, "+Inf": 100}
    p95_slow = {"0.5": 0, "1": 90, "2": 100, "5": 100, "+Inf": 100}
    fast = {"0.5": 0, "1": 99, "2": 100, "5": 100, "+Inf": 100}
    latency_desc = "The {q} latency of {{ $labels.service }} is {{ $value | humanizeDuration }} (threshold {t}) over the last 5 minutes."
    rules += [
        Alert(
            name="HighLatency",
            expr="service:http_request_duration_seconds:p99_5m > 2",
            for_="10m",
            severity="critical",
            service="{{ $labels.service }}",
            summary="{{ $labels.service }}: p99 latency above 2s",
            description=latency_desc.replace("{q}", "p99").replace("{t}", "2s"),
            runbook="HighLatency",
            fires=Scenario("every request takes 2-5s", latency(slow), at="20m",
                           firing=(Firing({"service": svc}, 4.97), Firing({"service": svc}, 4.85, "warning"))),
            quiet=Scenario("99% of requests under 1s", latency(fast), at="20m"),
        ),
        Alert(
            name="HighLatency",
            expr="service:http_request_duration_seconds:p95_5m > 1",
            for_="15m",
            severity="warning",
            service="{{ $labels.service }}",
            summary="{{ $labels.service }}: p95 latency above 1s",
            description=latency_desc.replace("{q}", "p95").replace("{t}", "1s"),
            runbook="HighLatency",
            fires=Scenario("10% of requests take 1-2s", latency(p95_slow), at="20m", firing=(Firing({"service": svc}, 1.5),)),
            quiet=Scenario("99% of requests under 1s", latency(fast), at="20m"),
        ),
        Alert(
            name="EndpointProbeFailed",
            expr='max by (service, instance) (probe_success{service!=""}) == 0',
            for_="2m",
            severity="critical",
            service="{{ $labels.service }}",
            summary="{{ $labels.service }}: synthetic probe of {{ $labels.instance }} fails",
            description="The blackbox probe of {{ $labels.instance }} has failed for 2 minutes (probe_success {{ $value | humanize }}).",
            runbook="EndpointProbeFailed",
            fires=Scenario("the public URL stops answering",
                           ((f'probe_success{{{s},instance="https://{svc}.example.com/health",job="probe/monitoring/{svc}"}}', "1 1 0x10"),),
                           at="8m", firing=(Firing({"service": svc, "instance": f"https://{svc}.example.com/health"}, 0),)),
            quiet=Scenario("one failed probe, then success",
                           ((f'probe_success{{{s},instance="https://{svc}.example.com/health",job="probe/monitoring/{svc}"}}', "1 0 0 1x10"),),
                           at="8m"),
        ),
        Alert(
            name="DatabaseConnectionPoolSaturated",
            expr="max by (service) (db_pool_connections_in_use / db_pool_connections_max) > 0.9",
            for_="5m",
            severity="warning",
            service="{{ $labels.service }}",
            summary="{{ $labels.service }}: database connection pool over 90%",
            description="A pod of {{ $labels.service }} uses {{ $value | humanizePercentage }} of its database connection pool.",
            runbook="DatabaseConnectionPoolSaturated",
            fires=Scenario("19 of 20 connections in use",
                           ((f'db_pool_connections_in_use{{{s},pod="{svc}-1"}}', "19x10"), (f'db_pool_connections_max{{{s},pod="{svc}-1"}}', "20x10")),
                           at="8m", firing=(Firing({"service": svc}, 0.95),)),
            quiet=Scenario("18 of 20 connections in use (exactly 90%)",
                           ((f'db_pool_connections_in_use{{{s},pod="{svc}-1"}}', "18x10"), (f'db_pool_connections_max{{{s},pod="{svc}-1"}}', "20x10")),
                           at="8m"),
        ),
        Alert(
            name="CircuitBreakerOpen",
            expr="max by (service, dependency) (circuit_breaker_state) == 1",
            for_="2m",
            severity="warning",
            service="{{ $labels.service }}",
            summary="{{ $labels.service }}: circuit breaker to {{ $labels.dependency }} is open",
            description="{{ $labels.service }} has stopped calling {{ $labels.dependency }} for 2 minutes (state {{ $value | humanize }} = open).",
            runbook="CircuitBreakerOpen",
            fires=Scenario("the breaker stays open",
                           ((f'circuit_breaker_state{{{s},dependency="payments",pod="{svc}-1"}}', "0 1x10"),),
                           at="8m", firing=(Firing({"service": svc, "dependency": "payments"}, 1),)),
            quiet=Scenario("the breaker opens and half-opens, never open for 2m",
                           ((f'circuit_breaker_state{{{s},dependency="payments",pod="{svc}-1"}}', "0 1 2 1 2 0x6"),),
                           at="8m"),
        ),
        Alert(
            name="RequestQueueBackpressure",
            expr="max by (service) (request_queue_depth) > 100",
            for_="5m",
            severity="warning",
            service="{{ $labels.service }}",
            summary="{{ $labels.service }}: request queue deeper than 100",
            description="{{ $value | humanize }} requests wait in a queue of {{ $labels.service }}; it is shedding or about to shed load.",
            runbook="RequestQueueBackpressure",
            fires=Scenario("150 queued requests", ((f'request_queue_depth{{{s},pod="{svc}-1"}}', "150x10"),), at="8m",
                           firing=(Firing({"service": svc}, 150),)),
            quiet=Scenario("80 queued requests", ((f'request_queue_depth{{{s},pod="{svc}-1"}}', "80x10"),), at="8m"),
        ),
        Alert(
            name="FailedLoginSpike",
            expr="sum by (service) (increase(auth_login_failures_total[5m])) > 50",
            severity="warning",
            service="{{ $labels.service }}",
            summary="{{ $labels.service }}: more than 50 failed logins in 5 minutes",
            description="{{ $value | humanize }} logins failed on {{ $labels.service }} in the last 5 minutes: credential stuffing or a broken client.",
            runbook="FailedLoginSpike",
            fires=Scenario("20 failures a minute", ((f'auth_login_failures_total{{{s},pod="{svc}-1"}}', "0+20x10"),), at="10m",
                           firing=(Firing({"service": svc}, 100),)),
            quiet=Scenario("8 failures a minute", ((f'auth_login_failures_total{{{s},pod="{svc}-1"}}', "0+8x10"),), at="10m"),
        ),
    ]
    return RuleGroup("golive-services", tuple(rules))


def data_group() -> RuleGroup:
    """RDS (postgres-exporter, CloudWatch via YACE) and ElastiCache (redis-exporter)."""
    rds = 'dimension_DBInstanceIdentifier="golive-db-replica-1"'
    return RuleGroup("golive-data", (
        Alert(
            name="DatabaseConnectionFailures",
            expr="max(pg_up) == 0",
            for_="2m",
            severity="critical",
            service="database",
            summary="The PostgreSQL database refuses connections",
            description="postgres-exporter has not been able to connect to the database for 2 minutes (pg_up {{ $value | humanize }}).",
            runbook="DatabaseConnectionFailures",
            fires=Scenario("the exporter cannot connect", (('pg_up{instance="10.20.32.20:9187"}', "1 0x10"),), at="6m", firing=(Firing({}, 0),)),
            quiet=Scenario("one failed connection, then success", (('pg_up{instance="10.20.32.20:9187"}', "1 0 1x10"),), at="6m"),
        ),
        Alert(
            name="RdsReplicaLagHigh",
            expr="max by (dimension_DBInstanceIdentifier) (aws_rds_replica_lag_average) > 30",
            for_="10m",
            severity="warning",
            service="database",
            summary="RDS replica {{ $labels.dimension_DBInstanceIdentifier }} lags",
            description="Read replica {{ $labels.dimension_DBInstanceIdentifier }} is {{ $value | humanizeDuration }} behind the primary (threshold 30s).",
            runbook="RdsReplicaLagHigh",
            fires=Scenario("45s lag", ((f"aws_rds_replica_lag_average{{{rds}}}", "45x20"),), at="15m",
                           firing=(Firing({"dimension_DBInstanceIdentifier": "golive-db-replica-1"}, 45),)),
            quiet=Scenario("25s lag", ((f"aws_rds_replica_lag_average{{{rds}}}", "25x20"),), at="15m"),
        ),
        Alert(
            name="RdsFreeStorageLow",
            expr="min by (dimension_DBInstanceIdentifier) (aws_rds_free_storage_space_average) < 10 * 1024 * 1024 * 1024",
            for_="15m",
            severity="warning",
            service="database",
            summary="RDS instance {{ $labels.dimension_DBInstanceIdentifier }} is running out of storage",
            description="{{ $labels.dimension_DBInstanceIdentifier }} has {{ $value | humanize1024 }}B of free storage left (threshold 10GiB).",
            runbook="RdsFreeStorageLow",
            fires=Scenario("5 GiB free", (('aws_rds_free_storage_space_average{dimension_DBInstanceIdentifier="golive-db"}', "5368709120x20"),),
                           at="20m", firing=(Firing({"dimension_DBInstanceIdentifier": "golive-db"}, 5368709120),)),
            quiet=Scenario("20 GiB free", (('aws_rds_free_storage_space_average{dimension_DBInstanceIdentifier="golive-db"}', "21474836480x20"),),
                           at="20m"),
        ),
        Alert(
            name="RedisDown",
            expr="max(redis_up) == 0",
            for_="1m",
            severity="critical",
            service="cache",
            summary="Redis is unreachable",
            description="redis-exporter cannot reach the ElastiCache primary (redis_up {{ $value | humanize }}).",
            runbook="RedisDown",
            fires=Scenario("the exporter cannot reach Redis", (('redis_up{instance="10.20.32.30:9121"}', "1 0x10"),), at="5m", firing=(Firing({}, 0),)),
            quiet=Scenario("Redis answers", (('redis_up{instance="10.20.32.30:9121"}', "1x10"),), at="5m"),
        ),
        Alert(
            name="RedisMemoryHigh",
            expr="max by (instance) (redis_memory_used_bytes / (redis_memory_max_bytes > 0)) > 0.8",
            for_="5m",
            severity="warning",
            service="cache",
            summary="Redis uses more than 80% of its memory",
            description="Redis {{ $labels.instance }} uses {{ $value | humanizePercentage }} of maxmemory; evictions follow.",
            runbook="RedisMemoryHigh",
            fires=Scenario("85% used", (('redis_memory_used_bytes{instance="10.20.32.30:9121"}', "850x10"),
                                        ('redis_memory_max_bytes{instance="10.20.32.30:9121"}', "1000x10")),
                           at="8m", firing=(Firing({"instance": "10.20.32.30:9121"}, 0.85),)),
            quiet=Scenario("70% used", (('redis_memory_used_bytes{instance="10.20.32.30:9121"}', "700x10"),
                                        ('redis_memory_max_bytes{instance="10.20.32.30:9121"}', "1000x10")), at="8m"),
        ),
        Alert(
            name="CacheHitRateLow",
            expr=("sum(rate(redis_keyspace_hits_total[5m]))\n"
                  "  / (sum(rate(redis_keyspace_hits_total[5m])) + sum(rate(redis_keyspace_misses_total[5m]))) < 0.8"),
            for_="15m",
            severity="warning",
            service="cache",
            summary="Cache hit rate below 80%",
            description="Only {{ $value | humanizePercentage }} of cache lookups hit over the last 5 minutes; the database takes the rest.",
            runbook="CacheHitRateLow",
            fires=Scenario("70% hits", (('redis_keyspace_hits_total{instance="10.20.32.30:9121"}', "0+70x30"),
                                        ('redis_keyspace_misses_total{instance="10.20.32.30:9121"}', "0+30x30")),
                           at="20m", firing=(Firing({}, 0.7),)),
            quiet=Scenario("85% hits", (('redis_keyspace_hits_total{instance="10.20.32.30:9121"}', "0+85x30"),
                                        ('redis_keyspace_misses_total{instance="10.20.32.30:9121"}', "0+15x30")), at="20m"),
        ),
    ))


def kubernetes_group() -> RuleGroup:
    """Pods, nodes and volumes (kube-state-metrics, cAdvisor, node-exporter, kubelet)."""
    pod = 'namespace="orders",pod="orders-7d9f-x2",container="orders"'
    fs = 'instance="10.20.32.40:9100",device="/dev/nvme0n1p1",fstype="xfs",mountpoint="/"'
    pvc = 'namespace="monitoring",persistentvolumeclaim="prometheus-db-0"'
    pod_labels = {"namespace": "orders", "pod": "orders-7d9f-x2", "container": "orders"}
    fs_labels = {"instance": "10.20.32.40:9100", "device": "/dev/nvme0n1p1", "fstype": "xfs", "mountpoint": "/"}
    return RuleGroup("golive-kubernetes", (
        Alert(
            name="PodMemoryHigh",
            expr=('max by (namespace, pod, container) (container_memory_working_set_bytes{container!="",container!="POD"})\n'
                  '  / max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory"}) > 0.8'),
            for_="10m",
            severity="warning",
            service="{{ $labels.namespace }}",
            summary="{{ $labels.namespace }}/{{ $labels.pod }} uses more than 80% of its memory limit",
            description="Container {{ $labels.container }} of {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its memory limit; "
                        "the OOM killer is next.",
            runbook="PodMemoryHigh",
            fires=Scenario("90% of the limit", ((f"container_memory_working_set_bytes{{{pod}}}", "900x20"),
                                                (f'kube_pod_container_resource_limits{{{pod},resource="memory",unit="byte"}}', "1000x20")),
                           at="15m", firing=(Firing(pod_labels, 0.9),)),
            quiet=Scenario("70% of the limit", ((f"container_memory_working_set_bytes{{{pod}}}", "700x20"),
                                                (f'kube_pod_container_resource_limits{{{pod},resource="memory",unit="byte"}}', "1000x20")),
                           at="15m"),
        ),
        Alert(
            name="PodCpuHigh",
            expr=('sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{container!="",container!="POD"}[5m]))\n'
                  '  / max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="cpu"}) > 0.8'),
            for_="10m",
            severity="warning",
            service="{{ $labels.namespace }}",
            summary="{{ $labels.namespace }}/{{ $labels.pod }} uses more than 80% of its CPU limit",
            description="Container {{ $labels.container }} of {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its CPU limit "
                        "and is being throttled.",
            runbook="PodCpuHigh",
            fires=Scenario("0.9 cores of 1", ((f"container_cpu_usage_seconds_total{{{pod}}}", "0+54x20"),
                                              (f'kube_pod_container_resource_limits{{{pod},resource="cpu",unit="core"}}', "1x20")),
                           at="15m", firing=(Firing(pod_labels, 0.9),)),
            quiet=Scenario("0.5 cores of 1", ((f"container_cpu_usage_seconds_total{{{pod}}}", "0+30x20"),
                                              (f'kube_pod_container_resource_limits{{{pod},resource="cpu",unit="core"}}', "1x20")),
                           at="15m"),
        ),
        Alert(
            name="NodeDiskSpaceLow",
            expr=('1 - node_filesystem_avail_bytes{fstype=~"ext4|xfs"} / node_filesystem_size_bytes{fstype=~"ext4|xfs"} > 0.85'),
            for_="10m",
            severity="warning",
            service="cluster",
            summary="Node {{ $labels.instance }}: disk {{ $labels.mountpoint }} over 85% full",
            description="{{ $labels.mountpoint }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} full; "
                        "kubelet starts evicting pods at 90%.",
            runbook="NodeDiskSpaceLow",
            fires=Scenario("90% full", ((f"node_filesystem_avail_bytes{{{fs}}}", "100x20"), (f"node_filesystem_size_bytes{{{fs}}}", "1000x20")),
                           at="15m", firing=(Firing(fs_labels, 0.9),)),
            quiet=Scenario("80% full", ((f"node_filesystem_avail_bytes{{{fs}}}", "200x20"), (f"node_filesystem_size_bytes{{{fs}}}", "1000x20")),
                           at="15m"),
        ),
        Alert(
            name="VolumeSpaceLow",
            expr=("max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes) > 0.85"),
            for_="10m",
            severity="warning",
            service="{{ $labels.namespace }}",
            summary="Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} over 85% full",
            description="{{ $labels.persistentvolumeclaim }} is {{ $value | humanizePercentage }} full.",
            runbook="VolumeSpaceLow",
            fires=Scenario("90% full", ((f"kubelet_volume_stats_used_bytes{{{pvc}}}", "90x20"), (f"kubelet_volume_stats_capacity_bytes{{{pvc}}}", "100x20")),
                           at="15m", firing=(Firing({"namespace": "monitoring", "persistentvolumeclaim": "prometheus-db-0"}, 0.9),)),
            quiet=Scenario("80% full", ((f"kubelet_volume_stats_used_bytes{{{pvc}}}", "80x20"), (f"kubelet_volume_stats_capacity_bytes{{{pvc}}}", "100x20")),
                           at="15m"),
        ),
        Alert(
            name="NodeNotReady",
            expr='max by (node) (kube_node_status_condition{condition="Ready",status="true"}) == 0',
            for_="5m",
            severity="warning",
            service="cluster",
            summary="Node {{ $labels.node }} is not ready",
            description="{{ $labels.node }} has not been Ready for 5 minutes (Ready={{ $value | humanize }}); its pods are being rescheduled.",
            runbook="NodeNotReady",
            fires=Scenario("Ready=false", (('kube_node_status_condition{node="ip-10-20-32-40",condition="Ready",status="true"}', "1 0x10"),),
                           at="8m", firing=(Firing({"node": "ip-10-20-32-40"}, 0),)),
            quiet=Scenario("Ready", (('kube_node_status_condition{node="ip-10-20-32-40",condition="Ready",status="true"}', "1x10"),), at="8m"),
        ),
        Alert(
            name="PodCrashLooping",
            expr=('max by (namespace, pod, container) '
                  '(max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m])) >= 1'),
            for_="15m",
            severity="warning",
            service="{{ $labels.namespace }}",
            summary="{{ $labels.namespace }}/{{ $labels.pod }} is crash-looping",
            description="Container {{ $labels.container }} of {{ $labels.pod }} has been in CrashLoopBackOff for 15 minutes "
                        "(waiting={{ $value | humanize }}).",
            runbook="PodCrashLooping",
            fires=Scenario("CrashLoopBackOff for 20 minutes",
                           ((f'kube_pod_container_status_waiting_reason{{{pod},reason="CrashLoopBackOff"}}', "1x30"),),
                           at="20m", firing=(Firing(pod_labels, 1),)),
            quiet=Scenario("CrashLoopBackOff for 5 minutes, then running",
                           ((f'kube_pod_container_status_waiting_reason{{{pod},reason="CrashLoopBackOff"}}', "1x5 0x25"),), at="20m"),
        ),
    ))


def edge_group() -> RuleGroup:
    """Certificates (blackbox) and the WAF (CloudWatch via YACE)."""
    cert = 'service="storefront",instance="storefront.example.com:443",job="probe/monitoring/storefront-tls"'
    cert_labels = {"service": "storefront", "instance": "storefront.example.com:443"}
    day = 86400

    def expiry(days: float) -> tuple[tuple[str, str], ...]:
        return ((f"probe_ssl_earliest_cert_expiry{{{cert}}}", f"{int(days * day)}x30"),)

    tls_desc = "The certificate served by {{ $labels.instance }} expires in {{ $value | humanizeDuration }}."
    waf = 'dimension_WebACL="golive",dimension_Rule="ALL",dimension_Region="eu-west-1"'
    return RuleGroup("golive-edge", (
        Alert(
            name="TLSCertificateExpiring",
            expr='min by (service, instance) (probe_ssl_earliest_cert_expiry{service!="",job=~".+-tls"} - time()) < 7 * 86400',
            for_="15m",
            severity="critical",
            service="{{ $labels.service }}",
            summary="TLS certificate of {{ $labels.instance }} expires within 7 days",
            description=tls_desc,
            runbook="TLSCertificateExpiring",
            fires=Scenario("3 days left", expiry(3), at="20m",
                           firing=(Firing(cert_labels, 3 * day - 1200), Firing(cert_labels, 3 * day - 1200, "warning"))),
            quiet=Scenario("20 days left (only the warning)", expiry(20), at="20m", firing=(Firing(cert_labels, 20 * day - 1200, "warning"),)),
        ),
        Alert(
            name="TLSCertificateExpiring",
            expr='min by (service, instance) (probe_ssl_earliest_cert_expiry{service!="",job=~".+-tls"} - time()) < 30 * 86400',
            for_="15m",
            severity="warning",
            service="{{ $labels.service }}",
            summary="TLS certificate of {{ $labels.instance }} expires within 30 days",
            description=tls_desc,
            runbook="TLSCertificateExpiring",
            fires=Scenario("20 days left", expiry(20), at="20m", firing=(Firing(cert_labels, 20 * day - 1200),)),
            quiet=Scenario("60 days left", expiry(60), at="20m"),
        ),
        Alert(
            name="WafBlockedRequestsSpike",
            expr=('sum(aws_wafv2_blocked_requests_sum{dimension_Rule="ALL"}) > 100\n'
                  '  and sum(aws_wafv2_blocked_requests_sum{dimension_Rule="ALL"})\n'
                  '    > 4 * sum(avg_over_time(aws_wafv2_blocked_requests_sum{dimension_Rule="ALL"}[1d] offset 10m))'),
            for_="10m",
            severity="warning",
            service="edge",
            summary="The WAF blocks four times more requests than usual",
            description="The WAF blocked {{ $value | humanize }} requests in the last period, over 4x its daily average: an attack or a bad rule.",
            runbook="WafBlockedRequestsSpike",
            fires=Scenario("20 blocked a period for 2h, then 500", ((f"aws_wafv2_blocked_requests_sum{{{waf}}}", "20x120 500x20"),),
                           at="135m", firing=(Firing({}, 500),)),
            quiet=Scenario("500 blocked a period, every period", ((f"aws_wafv2_blocked_requests_sum{{{waf}}}", "500x140"),), at="135m"),
        ),
    ))


def backup_group() -> RuleGroup:
    """AWS Backup job metrics (CloudWatch via YACE, missing datapoints read as 0)."""
    vault = 'dimension_BackupVaultName="golive-primary"'
    return RuleGroup("golive-backup", (
        Alert(
            name="BackupJobFailed",
            expr="sum by (dimension_BackupVaultName) (max_over_time(aws_backup_number_of_backup_jobs_failed_sum[1h])) > 0",
            # A failed job is a missed recovery point: it pages on-call, not only the backup topic's e-mail.
            severity="critical",
            service="backup",
            summary="An AWS Backup job failed in vault {{ $labels.dimension_BackupVaultName }}",
            description="{{ $value | humanize }} backup job(s) failed in the last hour.",
            runbook="BackupJobFailed",
            fires=Scenario("one failed job", ((f'aws_backup_number_of_backup_jobs_failed_sum{{{vault},dimension_ResourceType="RDS"}}', "0 0 1 0x10"),),
                           at="10m", firing=(Firing({"dimension_BackupVaultName": "golive-primary"}, 1),)),
            quiet=Scenario("no failed job", ((f'aws_backup_number_of_backup_jobs_failed_sum{{{vault},dimension_ResourceType="RDS"}}', "0x12"),), at="10m"),
        ),
        Alert(
            name="NoRecentBackup",
            expr="sum by (dimension_BackupVaultName) (sum_over_time(aws_backup_number_of_backup_jobs_completed_sum[26h])) == 0",
            severity="critical",
            service="backup",
            summary="No successful backup in vault {{ $labels.dimension_BackupVaultName }} for 26 hours",
            description="{{ $value | humanize }} backup jobs completed in the last 26 hours: the daily backup did not run or did not finish.",
            runbook="NoRecentBackup",
            fires=Scenario("no job completed for 27h", ((f'aws_backup_number_of_backup_jobs_completed_sum{{{vault},dimension_ResourceType="RDS"}}', "0x170"),),
                           at="27h", interval="10m", firing=(Firing({"dimension_BackupVaultName": "golive-primary"}, 0),)),
            quiet=Scenario("a job completed 20h ago", ((f'aws_backup_number_of_backup_jobs_completed_sum{{{vault},dimension_ResourceType="RDS"}}', "0x41 1 0x120"),),
                           at="27h", interval="10m"),
        ),
    ))


def meta_group() -> RuleGroup:
    return RuleGroup("golive-meta", (
        Alert(
            name="Watchdog",
            expr="vector(1)",
            severity="info",
            service="monitoring",
            summary="The alerting pipeline is alive",
            description="Always firing ({{ $value | humanize }}); the dead man's switch pages when it stops arriving.",
            runbook="Watchdog",
            fires=Scenario("always", (), at="1m", firing=(Firing({}, 1),)),
            quiet=None,
            quiet_exempt="the Watchdog fires by definition; its silence is what the dead man's switch detects",
        ),
    ))


# --------------------------------------------------------------------------- SLOs


def _le(threshold: float) -> str:
    """Bucket label values a client may use for ``threshold`` (``1`` and ``1.0``)."""
    if float(threshold).is_integer():
        return f"{int(threshold)}|{int(threshold)}.0"
    return repr(float(threshold))


def sli_expressions(service: ServiceConfig, window: str) -> dict[str, str]:
    """The error ratio of each SLI over ``window``."""
    s = f'service="{service.name}"'
    return {
        "availability": (f'(sum(rate(http_requests_total{{{s},code=~"5.."}}[{window}])) or vector(0))\n'
                         f"  / sum(rate(http_requests_total{{{s}}}[{window}]))"),
        "latency": (f'1 - sum(rate(http_request_duration_seconds_bucket{{{s},le=~"{_le(service.slo.latency_threshold_seconds)}"}}[{window}]))\n'
                    f"  / sum(rate(http_request_duration_seconds_count{{{s}}}[{window}]))"),
    }


def objectives(service: ServiceConfig) -> dict[str, float]:
    return {"availability": round(service.slo.availability / 100, 12), "latency": round(service.slo.latency_target / 100, 12)}


def budget_of(objective: float) -> float:
    """The error budget (1 - objective), rounded so 99.9% reads 0.001 in the rules."""
    return round(1 - objective, 12)


def _burn_expr(service: str, slo: str, budget: float, burns: tuple[tuple[str, str, float], ...]) -> str:
    sel = f'{{service="{service}",slo="{slo}"}}'
    parts = [
        f"(slo:sli_error:ratio_rate{long}{sel} > ({factor} * {budget!r})\n   and slo:sli_error:ratio_rate{short}{sel} > ({factor} * {budget!r}))"
        for long, short, factor in burns
    ]
    return "\n  or\n".join(parts)


class _Model:
    """Cumulative good/bad request counters, one sample per step, and the windowed error ratio promtool computes."""

    def __init__(self, step_s: int, phases: Sequence[tuple[int, float]], per_step: float = 2000.0):
        self.step = step_s
        self.total = [0.0]
        self.bad = [0.0]
        for steps, ratio in phases:
            for _ in range(steps):
                self.total.append(self.total[-1] + per_step)
                self.bad.append(self.bad[-1] + per_step * ratio)

    def ratio(self, k: int, window: str) -> float:
        w = int(duration_seconds(window) // self.step)
        j = max(0, k - w)
        dt = self.total[k] - self.total[j]
        return (self.bad[k] - self.bad[j]) / dt if dt else math.nan

    def burning(self, k: int, budget: float, burns: tuple[tuple[str, str, float], ...]) -> float | None:
        """The alert's value at step ``k`` if its expression is true there, else None."""
        for long, short, factor in burns:
            if self.ratio(k, long) > factor * budget and self.ratio(k, short) > factor * budget:
                return self.ratio(k, long)
        return None

    def first_firing(self, budget: float, burns: tuple[tuple[str, str, float], ...], for_s: int) -> int | None:
        active = None
        for k in range(1, len(self.total)):
            if self.burning(k, budget, burns) is None:
                active = None
                continue
            active = k if active is None else active
            if (k - active) * self.step >= for_s:
                return k
        return None

    def series(self, service: ServiceConfig, slo: str) -> tuple[tuple[str, str], ...]:
        s = f'service="{service.name}"'
        good = " ".join(_num(t - b) for t, b in zip(self.total, self.bad, strict=True))
        bad = " ".join(_num(b) for b in self.bad)
        total = " ".join(_num(t) for t in self.total)
        if slo == "availability":
            return ((f'http_requests_total{{{s},route="/",code="200"}}', good), (f'http_requests_total{{{s},route="/",code="500"}}', bad))
        le = _le(service.slo.latency_threshold_seconds).split("|")[0]
        return ((f'http_request_duration_seconds_bucket{{{s},le="{le}"}}', good), (f'http_request_duration_seconds_count{{{s}}}', total))


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


def _at(k: int, step_s: int) -> str:
    return f"{k * step_s // 60}m"


PAGE_FOR, TICKET_FOR = "2m", "15m"


def slo_group(service: ServiceConfig) -> RuleGroup:
    """Recording rules and burn-rate alerts of one service's two SLIs."""
    rules: list[Alert | Recording] = []
    objective = objectives(service)
    for slo, exprs in ((slo, {w: sli_expressions(service, w)[slo] for w in SLO_WINDOWS}) for slo in ("availability", "latency")):
        labels = {"service": service.name, "slo": slo}
        rules += [Recording(f"slo:sli_error:ratio_rate{w}", expr, labels) for w, expr in exprs.items()]
        budget = budget_of(objective[slo])
        rules.append(Recording("slo:objective:ratio", f"vector({objective[slo]!r})", labels))
        rules.append(Recording(
            "slo:error_budget_remaining:ratio",
            f'1 - slo:sli_error:ratio_rate30d{{service="{service.name}",slo="{slo}"}} / {budget!r}', labels))
    for slo in ("availability", "latency"):
        rules += _burn_alerts(service, slo, budget_of(objective[slo]))
    return RuleGroup(f"golive-slo-{service.name}", tuple(rules))


def _burn_alerts(service: ServiceConfig, slo: str, budget: float) -> list[Alert]:
    title = slo.capitalize()
    target = f"{objective_percent(service, slo)}%"
    max_burn = 1 / budget
    if max_burn < 10:
        raise ValueError(f"{service.name}: a {slo} objective of {target} leaves no room for a 6x burn-rate page (budget over 10%)")
    fast = min(20.0, max_burn)
    sli = "requests failed (5xx)" if slo == "availability" else f"requests were slower than {service.slo.latency_threshold_seconds:g}s"
    alerts = []
    for kind, burns, for_, severity in (("Page", PAGE_BURNS, PAGE_FOR, "critical"), ("Ticket", TICKET_BURNS, TICKET_FOR, "warning")):
        name = f"{title}BurnRate{kind}"
        for_s = int(duration_seconds(for_))
        labels = {"service": service.name, "slo": slo}
        if kind == "Page":
            step = 60
            fire = _Model(step, ((60, 0.5 * budget), (90, fast * budget)))
            quiet = _Model(step, ((60, 0.5 * budget), (120, 5 * budget)))
            fire_desc = f"a {fast:g}x burn after an hour at 0.5x"
            quiet_desc = "a 5x burn for 2 hours"
            silent_also: tuple[str, ...] = ()
        else:
            step = 300
            fire = _Model(step, ((288, 0.5 * budget), (156, 2 * budget)))
            quiet = _Model(step, ((288, 0.5 * budget), (120, 2 * budget)))
            fire_desc = "a slow 2x burn for 13h after a day at 0.5x"
            quiet_desc = "a 2x burn for only 10h after a day at 0.5x"
            silent_also = (f"{title}BurnRatePage",)
        k = fire.first_firing(budget, burns, for_s)
        if k is None or quiet.first_firing(budget, burns, for_s) is not None:
            raise ValueError(f"{service.name} {slo}: the {kind.lower()} scenarios do not separate at a budget of {budget!r}")
        k = min(k + 5, len(fire.total) - 1)
        if silent_also and fire.first_firing(budget, PAGE_BURNS, int(duration_seconds(PAGE_FOR))) is not None:
            raise ValueError(f"{service.name} {slo}: the slow-burn scenario would page")
        value = fire.burning(k, budget, burns)
        assert value is not None
        windows = " or ".join(f"{long}/{short} > {factor:g}x" for long, short, factor in burns)
        alerts.append(Alert(
            name=name,
            expr=_burn_expr(service.name, slo, budget, burns),
            for_=for_,
            severity=severity,
            service=service.name,
            labels={"slo": slo, "slo_severity": kind.lower()},
            summary=f"{service.name}: {slo} error budget burning {'fast' if kind == 'Page' else 'steadily'}",
            description=(f"{{{{ $value | humanizePercentage }}}} of {service.name}'s {sli} (objective {target}, "
                         f"burn rates {windows}); at this rate the 30-day budget runs out "
                         f"{'within days' if kind == 'Page' else 'before the month ends'}."),
            runbook=name,
            fires=Scenario(fire_desc, fire.series(service, slo), at=_at(k, step), interval=f"{step // 60}m",
                           firing=(Firing(labels, value),), silent_also=silent_also),
            quiet=Scenario(quiet_desc, quiet.series(service, slo), at=_at(len(quiet.total) - 1, step), interval=f"{step // 60}m"),
        ))
    return alerts


def objective_percent(service: ServiceConfig, slo: str) -> str:
    value = service.slo.availability if slo == "availability" else service.slo.latency_target
    return f"{value:g}"


# --------------------------------------------------------------------------- everything


def all_groups(services: Sequence[ServiceConfig]) -> list[RuleGroup]:
    """Every rule group of the platform, in deployment order."""
    return [
        service_group(services),
        data_group(),
        kubernetes_group(),
        edge_group(),
        backup_group(),
        meta_group(),
        *[slo_group(s) for s in services],
    ]
