"""What the alert rules must do, written from the services' reports and the catalog, and checked with promtool.

The expectations below are data (alert, service, severity, priority, threshold, hold), each with its source: a
report's line, the prod catalog (Pulumi.prod.yaml) or, for a catalog entry without overrides, the platform's
defaults as they stood before the catalog could change them. None is read from the rule generator: the rules under
test are rendered from the catalog, and only their YAML reaches promtool. Input series are built here too.

Every requirement is checked at its boundaries: with the value just past the threshold the alert is pending one
minute before its hold ends and firing at its end (with the severity and priority labels required); with the value
just short of it nothing is pending or firing. The six mutants of the rule generator that an SRE found surviving
the generator's own scenarios are applied to the rendered rules, and each must make this suite fail.
"""

from __future__ import annotations

import copy
import pathlib
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import yaml

from components.config import parse
from components.monitoring import rules
from tests.monitoring.conftest import RUNBOOK_BASE

pytestmark = pytest.mark.tools

LISTINGS = "listings report (alerts.yml)"
TRADING = "trading report (critical alerts configured)"
SIGNAL = "signal report (monitoring hooks)"
DEFAULT = "platform default (the rule before the catalog could change it)"
ISSUE = "observability review: what disappears must not go silent"

SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def minutes(duration: str) -> int:
    return int(duration[:-1]) * SECONDS[duration[-1]] // 60


@dataclass(frozen=True)
class Requirement:
    """One alert rule as the requirement states it.

    ``fires``/``quiet``: the driven value just past the threshold and just short of it (for a state alert, the bad and
    the good state). The condition holds from minute 1 of every scenario (``ONSET`` for a rate that needs its window).
    """

    source: str
    alert: str
    service: str
    severity: str
    priority: str
    hold: str
    kind: str
    fires: float
    quiet: float
    labels: dict[str, str] = field(default_factory=dict)
    stack: str = "prod"

    @property
    def id(self) -> str:
        return f"{self.stack}:{self.alert}:{self.service}:{self.severity}:{self.kind}"


R = Requirement
REQUIREMENTS = [
    # --- the listings service: P1 and P2 page, P3 does not.
    R(LISTINGS + ": ListingsServiceDown (P1) unreachable > 1m", "ServiceDown", "listings-service", "critical", "P1", "1m", "up", 0, 1),
    R(LISTINGS + ": ListingsCriticalErrorRate (P1) > 10% for 5m", "HighErrorRate", "listings-service", "critical", "P1", "5m",
      "error_ratio", 0.11, 0.09),
    R(LISTINGS + ": ListingsHighErrorRate (P2) > 1% for 10m", "HighErrorRate", "listings-service", "warning", "P2", "10m",
      "error_ratio", 0.011, 0.009),
    R(LISTINGS + ": ListingsHighLatency (P2) p99 > 2s for 10m", "HighLatency", "listings-service", "critical", "P2", "10m", "p99", 2.1, 1.9),
    R(LISTINGS + ": ListingsElevatedLatency (P3) p95 > 1s for 15m", "HighLatency", "listings-service", "warning", "P3", "15m",
      "p95", 1.05, 0.95),
    R(LISTINGS + ": ListingsDBPoolExhausted (P2) > 90% for 5m", "DatabaseConnectionPoolSaturated", "listings-service", "warning", "P2",
      "5m", "pool", 0.91, 0.89),
    R(LISTINGS + ": SLOErrorBudgetLow, error budget < 20%", "SLOErrorBudgetLow", "listings-service", "warning", "P3", "15m",
      "budget_left", 0.19, 0.21, {"slo": "availability"}),
    R(LISTINGS + ": SLOAvailabilityAtRisk, 30d availability < 99.95%", "SLOAvailabilityAtRisk", "listings-service", "warning", "P3",
      "15m", "availability", 0.9994, 0.9996),
    R(LISTINGS + ": ListingsRedisDown, Redis unavailable > 5m", "RedisDown", "cache", "critical", "P1", "5m", "redis_up", 0, 1),
    # --- the trading system: 5-minute windows, immediate service down, trade execution failures.
    R(TRADING + ": service down (immediate)", "ServiceDown", "trading-api", "critical", "P1", "0m", "up", 0, 1),
    R(TRADING + ": high error rate (> 1% for 5min)", "HighErrorRate", "trading-api", "warning", "P2", "5m", "error_ratio", 0.011, 0.009),
    R(TRADING + ": high latency (p95 > 1s for 5min)", "HighLatency", "trading-api", "warning", "P2", "5m", "p95", 1.05, 0.95),
    R(TRADING + ": trade execution failures (PagerDuty); 1% is the catalog's threshold", "TradeExecutionFailures", "trading-api",
      "critical", "P1", "5m", "trade_ratio", 0.011, 0.009),
    R(TRADING + ": CPU > 80% for 10min", "PodCpuHigh", "trading-api", "warning", "P3", "10m", "cpu", 0.81, 0.79),
    R(TRADING + ": memory > 80% for 10min", "PodMemoryHigh", "trading-api", "warning", "P3", "10m", "memory", 0.81, 0.79),
    R(TRADING + ": certificate expiration (30 days)", "TLSCertificateExpiring", "trading-api", "warning", "P3", "15m", "cert_days", 29.9, 30.1),
    # --- the signal service: an open breaker is an immediate critical; memory and CPU pressure are critical.
    R(SIGNAL + ": circuit breaker open alerts (immediate critical)", "CircuitBreakerOpen", "signal-service", "critical", "P1", "0m",
      "breaker", 1, 2),
    R(SIGNAL + ": memory pressure alerts (> 85% critical)", "PodMemoryHigh", "signal-service", "critical", "P1", "5m", "memory", 0.86, 0.84),
    R(SIGNAL + ": CPU pressure monitoring (> 90% critical)", "PodCpuHigh", "signal-service", "critical", "P1", "15m", "cpu", 0.91, 0.89),
    R(SIGNAL + ": connection pool exhaustion (> 90%)", "DatabaseConnectionPoolSaturated", "signal-service", "warning", "P3", "5m",
      "pool", 0.91, 0.89),
    R(SIGNAL + ": request queue depth (> 100)", "RequestQueueBackpressure", "signal-service", "warning", "P3", "5m", "queue", 101, 99),
    R(SIGNAL + ": config service error rate alerts (> 5% critical)", "HighErrorRate", "config-service", "critical", "P1", "5m",
      "error_ratio", 0.055, 0.045),
    R(SIGNAL + ": config service fetch latency alerts (p95 > 500ms)", "HighLatency", "config-service", "warning", "P3", "15m",
      "p95", 0.55, 0.45),
    # --- the absent and the log pipeline.
    R(ISSUE + ": RedisDown stops evaluating when redis-exporter vanishes", "ExporterAbsent", "cache", "warning", "P3", "10m",
      "absent:redis_up", 0, 1, {"exporter": "redis-exporter"}),
    R(ISSUE + ": DatabaseConnectionFailures stops evaluating when postgres-exporter vanishes", "ExporterAbsent", "database", "warning",
      "P3", "10m", "absent:pg_up", 0, 1, {"exporter": "postgres-exporter"}),
    R(ISSUE + ": a catalog service's targets vanish", "ServiceMetricsAbsent", "signal-service", "critical", "P2", "10m", "scrape", 0, 1),
    R(ISSUE + ": the probes stop evaluating", "ProbeAbsent", "trading-api", "warning", "P3", "10m", "probe_absent", 0, 1,
      {"probe": "trading-api-http"}),
    R(ISSUE + ": TargetDown for every job (the chart's rule: > 10% of a job's targets for 10m)", "TargetDown", "postgres-exporter",
      "warning", "P3", "10m", "targets_down", 0.15, 0.10),
    R(ISSUE + ": Fluent Bit has no health alert", "FluentBitOutputFailing", "logging", "warning", "P3", "10m", "fluentbit", 1, 0),
    R(ISSUE + ": OpenSearch has no health alert", "OpenSearchClusterRed", "logging", "critical", "P2", "5m", "opensearch_red", 1, 0),
    # --- a catalog entry without overrides keeps the platform's values (stack "defaults": one service, "orders").
    R(DEFAULT, "ServiceDown", "orders", "critical", "P1", "1m", "up", 0, 1, stack="defaults"),
    R(DEFAULT, "HighErrorRate", "orders", "critical", "P1", "5m", "error_ratio", 0.11, 0.09, stack="defaults"),
    R(DEFAULT, "HighErrorRate", "orders", "warning", "P3", "10m", "error_ratio", 0.011, 0.009, stack="defaults"),
    R(DEFAULT, "HighLatency", "orders", "critical", "P1", "10m", "p99", 2.1, 1.9, stack="defaults"),
    R(DEFAULT, "HighLatency", "orders", "warning", "P3", "15m", "p95", 1.05, 0.95, stack="defaults"),
    R(DEFAULT, "DatabaseConnectionPoolSaturated", "orders", "warning", "P3", "5m", "pool", 0.91, 0.89, stack="defaults"),
    R(DEFAULT, "CircuitBreakerOpen", "orders", "warning", "P3", "2m", "breaker", 1, 2, stack="defaults"),
    R(DEFAULT, "EndpointProbeFailed", "orders", "critical", "P1", "2m", "probe", 0, 1, stack="defaults"),
    R(DEFAULT, "RequestQueueBackpressure", "orders", "warning", "P3", "5m", "queue", 101, 99, stack="defaults"),
    R(DEFAULT, "PodMemoryHigh", "orders", "warning", "P3", "10m", "memory", 0.81, 0.79, stack="defaults"),
    R(DEFAULT, "PodCpuHigh", "orders", "warning", "P3", "10m", "cpu", 0.81, 0.79, stack="defaults"),
    R(DEFAULT, "RedisDown", "cache", "critical", "P1", "1m", "redis_up", 0, 1, stack="defaults"),
    R(DEFAULT, "DatabaseConnectionFailures", "database", "critical", "P1", "2m", "pg_up", 0, 1, stack="defaults"),
    R(DEFAULT, "TLSCertificateExpiring", "orders", "critical", "P1", "15m", "cert_days", 6.9, 7.1, stack="defaults"),
]

# Not stated by any report, new tiers: their defaults, so a change to them is a decision.
NEW_TIERS = [
    R("new critical tier: memory > 90% for 5m", "PodMemoryHigh", "orders", "critical", "P1", "5m", "memory", 0.91, 0.89, stack="defaults"),
    R("new critical tier: CPU > 95% for 15m", "PodCpuHigh", "orders", "critical", "P1", "15m", "cpu", 0.96, 0.94, stack="defaults"),
]

STACKS = {
    "defaults": {"environment": "staging", "services": [{"name": "orders", "host": "orders.example.com"}],
                 "edge": {"domain": "example.com", "hostedZoneId": "Z0000000EXAMPLE"}},
}


# --------------------------------------------------------------------------- input series, written from the metric contract


N = 100000  # requests (or executions) a minute


def _counter_pair(metric: str, base: str, ok: str, bad: str, share: float) -> list[tuple[str, str]]:
    failed = round(share * N)
    return [(f"{metric}{{{base},{ok}}}", f"0+{N - failed}x{{n}}"), (f"{metric}{{{base},{bad}}}", f"0+{failed}x{{n}}")]


def _latency(service: str, q: float, value: float) -> list[tuple[str, str]]:
    """Buckets whose q-quantile Prometheus interpolates to ``value``: a share (3q-1)/2 under value/2, the rest under 2*value."""
    lower = round((3 * q - 1) / 2 * 1000)
    s = f'service="{service}",route="/"'
    return [(f'http_request_duration_seconds_bucket{{{s},le="{value / 2:g}"}}', f"0+{lower}x{{n}}"),
            (f'http_request_duration_seconds_bucket{{{s},le="{2 * value:g}"}}', "0+1000x{n}"),
            (f'http_request_duration_seconds_bucket{{{s},le="+Inf"}}', "0+1000x{n}"),
            (f'http_request_duration_seconds_count{{{s}}}', "0+1000x{n}")]


def _state(series: str, bad: float, good_then: float | None = None) -> list[tuple[str, str]]:
    """A gauge at its healthy value at minute 0 and at ``bad`` from minute 1."""
    return [(series, f"{good_then if good_then is not None else 1} {bad:g}x{{n}}")]


def _pod(service: str) -> str:
    return f'namespace="{service}",pod="{service}-6d8f9-abcde",container="{service}"'


def series_for(req: Requirement, value: float) -> list[tuple[str, str]]:
    s, svc = f'service="{req.service}"', req.service
    kind = req.kind
    if kind == "error_ratio":
        return _counter_pair("http_requests_total", f'{s},route="/"', 'code="200"', 'code="500"', value)
    if kind == "trade_ratio":
        return _counter_pair("trade_executions_total", s, 'outcome="success"', 'outcome="failure"', value)
    if kind in ("p95", "p99"):
        return _latency(svc, int(kind[1:]) / 100, value)
    if kind == "budget_left":  # availability SLI at objective 99.9%: the error ratio that leaves ``value`` of the budget
        return _counter_pair("http_requests_total", f'{s},route="/"', 'code="200"', 'code="500"', (1 - value) * 0.001)
    if kind == "availability":
        return _counter_pair("http_requests_total", f'{s},route="/"', 'code="200"', 'code="500"', 1 - value)
    if kind == "pool":
        return [(f'db_pool_connections_in_use{{{s},pod="{svc}-1"}}', f"0 {round(value * 100)}x{{n}}"),
                (f'db_pool_connections_max{{{s},pod="{svc}-1"}}', "100x{n}")]
    if kind == "queue":
        return _state(f'request_queue_depth{{{s},pod="{svc}-1"}}', value, 0)
    if kind == "memory":
        return [(f"container_memory_working_set_bytes{{{_pod(svc)}}}", f"0 {round(value * 1000)}x{{n}}"),
                (f'kube_pod_container_resource_limits{{{_pod(svc)},resource="memory",unit="byte"}}', "1000x{n}")]
    if kind == "cpu":
        return [(f"container_cpu_usage_seconds_total{{{_pod(svc)}}}", f"0+{value * 60:g}x{{n}}"),
                (f'kube_pod_container_resource_limits{{{_pod(svc)},resource="cpu",unit="core"}}', "1x{n}")]
    if kind == "cert_days":
        return [(f'probe_ssl_earliest_cert_expiry{{{s},instance="{svc}.example.com:443",job="{svc}-tls"}}',
                 f"{365 * 86400} {round(value * 86400)}x{{n}}")]
    if kind == "up":
        return [(f'up{{job="{svc}",{s},instance="10.20.{i}.10:8080"}}', f"1 {value:g}x{{n}}") for i in (32, 64)]
    if kind == "probe":
        return _state(f'probe_success{{job="{svc}-http",{s},instance="https://{svc}.example.com/health"}}', value)
    if kind == "breaker":
        return _state(f'circuit_breaker_state{{{s},dependency="ticker",pod="{svc}-1"}}', value, 0)
    if kind in ("redis_up", "pg_up"):
        return _state(f'{kind}{{instance="10.20.32.30:9121"}}', value)
    if kind.startswith("absent:"):
        return [(f'{kind.split(":")[1]}{{instance="10.20.32.30:9121"}}', "1 stale" if value == 0 else "1x{n}")]
    if kind == "scrape":
        return [(f'up{{job="{svc}",{s},instance="10.20.32.10:8080"}}', "1 stale" if value == 0 else "0x{n}")]
    if kind == "probe_absent":
        job = req.labels["probe"]
        return [(f'probe_success{{job="{job}",{s},instance="https://{svc}.example.com/health"}}', "1 stale" if value == 0 else "0x{n}")]
    if kind == "targets_down":
        down = round(value * 20)
        return [(f'up{{job="{svc}",namespace="monitoring",service="{svc}",instance="10.20.32.{i}:9187"}}', f"1 {0 if i < down else 1}x{{n}}")
                for i in range(20)]
    if kind == "fluentbit":
        return [('fluentbit_output_retries_failed_total{pod="fluent-bit-abcde",name="opensearch.0"}', f"0+{6 * value:g}x{{n}}")]
    if kind == "opensearch_red":
        return [('aws_es_cluster_status_red_maximum{dimension_DomainName="golive-logs"}', f"0 {value:g}x{{n}}")]
    raise AssertionError(f"no input series for {kind}")


# --------------------------------------------------------------------------- the suite


def render(stack: str) -> dict[str, dict]:
    """The rendered rule groups of a stack (name -> the PrometheusRule's group), what the cluster would load."""
    if stack == "prod":
        from golive import engine

        flat, _ = engine.load_stack_config("prod")
        config = parse({k.split(":", 1)[1]: v for k, v in flat.items() if k.startswith("golive:")})
    else:
        config = parse(STACKS[stack])
    groups = rules.all_groups(config.services, config.monitoring, read_replicas=config.database.read_replicas)
    return {g.name: rules.group_dict(g, RUNBOOK_BASE) for g in groups}


def _rules_for(groups: dict[str, dict], req: Requirement) -> dict:
    """The smallest rule file that evaluates the alert as deployed: the recordings and every rule of that name of its group.

    Its group: the one with a rule of that name for the requirement's service, else (a service label taken from the
    series) the one with a rule of that name.
    """
    def has(group: dict, service: str | None) -> bool:
        return any(r.get("alert") == req.alert and service in (None, r["labels"]["service"]) for r in group["rules"])

    for service in (req.service, None):
        for name, group in groups.items():
            if has(group, service):
                keep = [r for r in group["rules"] if "record" in r or r.get("alert") == req.alert]
                return {"groups": [{"name": name, "rules": keep}]}
    raise AssertionError(f"no rule named {req.alert}")


def _selector(req: Requirement) -> str:
    labels = {"alertname": req.alert, "service": req.service, "severity": req.severity, **req.labels}
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def _check(req: Requirement, at: int, state: str | None) -> dict:
    expr = f"count by (alertstate, priority) (ALERTS{{{_selector(req)}}})"
    samples = [] if state is None else [{"labels": f'{{alertstate="{state}",priority="{req.priority}"}}', "value": 1}]
    return {"expr": expr, "eval_time": f"{at}m", "exp_samples": samples}


# When the driven condition starts to hold. A rate over 5 minutes of a counter that starts at 0 reads its full slope
# once the window is full; a ratio of two such rates is exact from the second sample.
ONSET = {"cpu": 5}


def cases_for(req: Requirement) -> list[dict]:
    hold = minutes(req.hold)
    end = ONSET.get(req.kind, 1) + hold
    n = end + 6

    def test(name: str, value: float, checks: list[dict]) -> dict:
        inputs = [{"series": s, "values": v.replace("{n}", str(n))} for s, v in series_for(req, value)]
        return {"name": f"{req.id} {name}", "interval": "1m", "input_series": inputs, "promql_expr_test": checks}

    over = [_check(req, end, "firing")]
    if hold:
        over.insert(0, _check(req, end - 1, "pending"))
    return [test(f"past the threshold ({req.fires:g}): pending before {req.hold}, firing at its end", req.fires, over),
            test(f"short of the threshold ({req.quiet:g}): never pending", req.quiet, [_check(req, 2, None), _check(req, end + 5, None)])]


def write_suite(out: pathlib.Path, rendered: dict[str, dict[str, dict]], requirements: list[Requirement]) -> list[pathlib.Path]:
    files = []
    for i, req in enumerate(requirements):
        rule_file = out / f"r{i:02d}.rules.yml"
        rule_file.write_text(yaml.safe_dump(_rules_for(rendered[req.stack], req), sort_keys=False))
        test_file = out / f"r{i:02d}.test.yml"
        test_file.write_text(yaml.safe_dump({"rule_files": [rule_file.name], "evaluation_interval": "1m", "tests": cases_for(req)},
                                            sort_keys=False, width=1 << 30))
        files.append(test_file)
    return files


def promtool_test(promtool: str, files: list[pathlib.Path], cwd: pathlib.Path) -> subprocess.Popen:
    return subprocess.Popen([promtool, "test", "rules", *map(str, files)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, dict]]:
    return {stack: render(stack) for stack in ("prod", *STACKS)}


ALL = REQUIREMENTS + NEW_TIERS


def test_requirements_are_distinct_and_sourced():
    assert len({r.id for r in ALL}) == len(ALL)
    assert all(r.source and r.priority in ("P1", "P2", "P3") and r.severity in ("critical", "warning") for r in ALL)
    assert {r.stack for r in ALL} == {"prod", *STACKS}


def test_rendered_rules_meet_every_requirement_at_its_boundaries(promtool, rendered, tmp_path):
    files = write_suite(tmp_path, rendered, ALL)
    proc = promtool_test(promtool, files, tmp_path)
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output


# --------------------------------------------------------------------------- mutants


def _edit(alert: str, old: str, new: str) -> Callable[[dict[str, dict]], int]:
    """Replace ``old`` by ``new`` in the expression of every rule named ``alert``; the number of rules changed."""

    def mutate(groups: dict[str, dict]) -> int:
        changed = 0
        for group in groups.values():
            for rule in group["rules"]:
                if rule.get("alert") == alert and re.search(old, rule["expr"]):
                    rule["expr"] = re.sub(old, new, rule["expr"])
                    changed += 1
        return changed

    return mutate


def _drop_every_for(groups: dict[str, dict]) -> int:
    changed = 0
    for group in groups.values():
        for rule in group["rules"]:
            changed += rule.pop("for", None) is not None
    return changed


MUTANTS = {
    "every for removed": _drop_every_for,
    "error threshold 1% -> 4.5%": _edit("HighErrorRate", r"> 0\.01$", "> 0.045"),
    "p95 threshold 1s -> 1.4s": _edit("HighLatency", r"(p95_5m\{[^}]*\}) > 1\.0$", r"\1 > 1.4"),
    "breaker == 1 -> >= 1": _edit("CircuitBreakerOpen", r"== 1$", ">= 1"),
    "pool 90% -> 94%": _edit("DatabaseConnectionPoolSaturated", r"> 0\.9$", "> 0.94"),
    "TLS 30d -> 21d": _edit("TLSCertificateExpiring", r"< 30 \* 86400$", "< 21 * 86400"),
}


def test_each_mutant_of_the_rules_fails_the_requirements(promtool, rendered, tmp_path):
    """Only the requirements whose rule file the mutant changes run again: an unchanged file gives the unmutated result."""
    baseline = [_rules_for(rendered[req.stack], req) for req in ALL]
    procs = {}
    for name, mutate in MUTANTS.items():
        mutated = copy.deepcopy(rendered)
        assert sum(mutate(groups) for groups in mutated.values()), f"mutant {name!r} changed no rule"
        touched = [req for req, before in zip(ALL, baseline, strict=True) if _rules_for(mutated[req.stack], req) != before]
        assert touched, f"mutant {name!r} changed no rule a requirement evaluates"
        out = tmp_path / re.sub(r"\W+", "-", name)
        out.mkdir()
        procs[name] = promtool_test(promtool, write_suite(out, mutated, touched), out)
    survivors = []
    for name, proc in procs.items():
        output, _ = proc.communicate(timeout=600)
        if proc.returncode == 0:
            survivors.append(name)
        else:
            assert "FAILED" in output, output
    assert not survivors, f"mutants that no requirement caught: {survivors}"
