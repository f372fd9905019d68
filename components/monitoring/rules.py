"""Alerting and recording rules as plain Python objects, with the proof that each alert works.

Every alert carries two promtool scenarios: input series that make it fire (with
the labels and the value its annotations show) and input series that keep it
quiet. The same objects render the PrometheusRule specs the program deploys, the
plain rule files ``promtool check rules`` reads and the unit-test files
``promtool test rules`` runs. Those scenarios prove the generator consistent with
itself; what the rules must do is proven separately, from the catalog and the
services' reports written as data (tests/monitoring/test_alert_requirements.py).

Thresholds, holds (``for``), severities and priorities come from the catalog
(``golive:services[].alerting``) and the platform's settings
(``golive:monitoring.platformAlerts``); every alert carries a ``priority`` label
(P1/P2 page, P3 tickets) that Alertmanager routes on.

SLOs follow the SRE workbook: per catalog service an availability SLI (share of
5xx) and a latency SLI (share of requests slower than the threshold), their error
ratios over 5m..30d as recording rules, the error budget left, and multi-window
multi-burn-rate alerts: page on 14.4x (1h and 5m) or 6x (6h and 30m), ticket on
3x (1d and 2h) or 1x (3d and 6h); beside them, where the 30-day budget stands
(SLOErrorBudgetLow, SLOAvailabilityAtRisk). The 30-day ranges need Prometheus to
keep at least 30 days (config check and policy monitoring-retention-covers-rule-windows).

Absence: a rule such as ``max(redis_up) == 0`` has no result once redis_up is
gone, so it cannot fire; every exporter, probe and catalog scrape has an
``absent()`` rule, and TargetDown covers every scrape job.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from components.config import SLO_WINDOW, AlertTier, MonitoringConfig, PlatformAlertsConfig, ServiceConfig, duration_seconds

Severity = Literal["critical", "warning", "info"]
SEVERITIES = ("critical", "warning", "info")
PRIORITIES = ("P1", "P2", "P3")

SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", SLO_WINDOW)
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
    priority: str = ""
    """P1/P2 page, P3 tickets; empty: P1 for a critical alert, P3 otherwise (:func:`default_priority`)."""

    @property
    def sibling_key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        """Rules of one alert at different severities share this key (name, service, extra labels)."""
        return self.name, self.service, tuple(sorted(self.labels.items()))


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


def default_priority(severity: str) -> str:
    """What an alert without an explicit priority gets: a critical pages (P1), anything else tickets (P3)."""
    return "P1" if severity == "critical" else "P3"


def alert_labels(alert: Alert) -> dict[str, str]:
    return {"severity": alert.severity, "priority": alert.priority or default_priority(alert.severity), "service": alert.service,
            **alert.labels}


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
    """The group split for promtool, so every test evaluates only the rules it is about (each unit its own rule file).

    An SLO group splits per SLI (its recordings and alerts); any other group per alert name and service, each unit with
    the group's recordings and the alerts its scenarios must show quiet (``silent_also``).
    """
    slos = sorted({r.labels.get("slo", "") for r in group.rules} - {""})
    if slos:
        return [RuleGroup(f"{group.name}-{slo}", tuple(r for r in group.rules if r.labels.get("slo") == slo)) for slo in slos]
    keys = list(dict.fromkeys((a.name, a.service) for a in group.alerts))
    if len(keys) <= 1:
        return [group]
    units = []
    for i, key in enumerate(keys):
        own = [a for a in group.alerts if (a.name, a.service) == key]
        quiet = {name for a in own for sc in (a.fires, a.quiet) if sc for name in sc.silent_also}
        rules = [r for r in group.rules if isinstance(r, Recording) or (r.name, r.service) == key or r.name in quiet]
        units.append(RuleGroup(f"{group.name}-{i:02d}-{key[0]}", tuple(rules)))
    return units


def _scope(alert: Alert) -> str:
    return ", ".join([alert.service, *(f"{k}={v}" for k, v in sorted(alert.labels.items()))])


def promtool_tests(group: RuleGroup, rule_file_name: str, runbook_base: str) -> list[dict]:
    """promtool unit-test files for ``group``: one per scenario interval, each test a scenario.

    Returns ``[{"rule_files": [...], "evaluation_interval": ..., "tests": [...]}, ...]``.
    """
    siblings: dict[tuple, dict[str, Alert]] = {}
    for alert in group.alerts:
        siblings.setdefault(alert.sibling_key, {})[alert.severity] = alert
    files: dict[str, list[dict]] = {}
    for alert in group.alerts:
        for kind, scenario in (("fires", alert.fires), ("stays quiet", alert.quiet)):
            if scenario is None:
                continue
            checks = [
                {
                    "eval_time": scenario.at,
                    "alertname": alert.name,
                    "exp_alerts": [_expected(siblings[alert.sibling_key], f, alert, runbook_base) for f in scenario.firing],
                }
            ]
            checks += [{"eval_time": scenario.at, "alertname": other, "exp_alerts": []} for other in scenario.silent_also]
            files.setdefault(scenario.interval, []).append(
                {
                    "name": f"{alert.name} ({alert.severity}) {kind}: {scenario.description} [{_scope(alert)}]",
                    "interval": scenario.interval,
                    "input_series": [{"series": s, "values": v} for s, v in scenario.series],
                    "alert_rule_test": checks,
                }
            )
    return [
        {"rule_files": [rule_file_name], "evaluation_interval": interval, "tests": tests}
        for interval, tests in sorted(files.items())
    ]


# --------------------------------------------------------------------------- tiers and generated scenarios


def _minutes(duration: str) -> int:
    """A hold in whole minutes (promtool evaluates every minute), rounded up."""
    return math.ceil((duration_seconds(duration) or 0) / 60)


def _tier(tier: AlertTier) -> dict:
    """The Alert arguments a catalog tier sets: its hold, severity and priority."""
    return {"for_": tier.for_, "severity": tier.severity, "priority": tier.priority}


@dataclass(frozen=True)
class Level:
    """One rule of an alert that has levels (warning, critical): its tier and its texts."""

    tier: AlertTier
    expr: str
    summary: str
    description: str


@dataclass(frozen=True)
class Drive:
    """Input series that hold an alert's measured value steady, and what each level's expression then reads (by severity)."""

    description: str
    series: tuple[tuple[str, str], ...]
    values: Mapping[str, float]


Driver = Callable[[float, int], tuple[tuple[tuple[str, str], ...], float]]
"""(value wanted, samples) -> (input series, the value Prometheus will compute from them)."""


def leveled(name: str, service: str, levels: Sequence[Level], *, firing_labels: Mapping[str, str], drive: Driver | None = None,
            pick: Callable[[Level, str, int], Drive] | None = None, above: bool = True, ceiling: float | None = None,
            warmup: int = 5, shown: Callable[[float], str] = _g4, labels: Mapping[str, str] | None = None) -> list[Alert]:
    """An alert at one or more levels; each level fires once its value crosses its threshold for its hold.

    Every level gets a scenario just past its own threshold (below the next level's) and one short of it (past the
    level beneath, if any); the alerts expected at the scenario's end are computed from every level's threshold.
    ``ceiling`` bounds the measured value (1 for shares; default twice the threshold).
    """
    at = warmup + max(_minutes(level.tier.for_) for level in levels) + 2
    samples = at + 1
    thresholds = sorted(level.tier.threshold for level in levels)

    def default_pick(level: Level, kind: str, samples: int) -> Drive:
        assert drive is not None
        t = level.tier.threshold
        higher = next((x for x in thresholds if x > t), ceiling if ceiling is not None else 2 * t)
        lower = next((x for x in reversed(thresholds) if x < t), 0.0)
        toward = (higher if kind == "fires" else lower) if above else (lower if kind == "fires" else higher)
        series, value = drive((t + toward) / 2, samples)
        return Drive(f"held at {shown(value)}", series, {lv.tier.severity: value for lv in levels})

    def crosses(level: Level, value: float) -> bool:
        return value > level.tier.threshold if above else value < level.tier.threshold

    alerts = []
    for level in levels:
        scenarios: dict[str, Scenario] = {}
        for kind in ("fires", "quiet"):
            d = (pick or default_pick)(level, kind, samples)
            firing = tuple(Firing(firing_labels, d.values[lv.tier.severity], lv.tier.severity) for lv in levels
                           if crosses(lv, d.values[lv.tier.severity]))
            if any(f.severity == level.tier.severity for f in firing) != (kind == "fires"):
                raise ValueError(f"{name} ({level.tier.severity}, {service}): the {kind} scenario does not separate at "
                                 f"{level.tier.threshold:g}")
            scenarios[kind] = Scenario(d.description, d.series, at=f"{at}m", firing=firing)
        alerts.append(Alert(name=name, expr=level.expr, service=service, summary=level.summary, description=level.description,
                            runbook=name, fires=scenarios["fires"], quiet=scenarios["quiet"], labels=dict(labels or {}),
                            **_tier(level.tier)))
    return alerts


def held(name: str, service: str, tier: AlertTier, *, expr: str, summary: str, description: str, firing_labels: Mapping[str, str],
         fire_series: Callable[[int], tuple[tuple[str, str], ...]], fire_value: float, fire_desc: str,
         quiet_series: Callable[[int], tuple[tuple[str, str], ...]], quiet_desc: str,
         labels: Mapping[str, str] | None = None) -> Alert:
    """A state alert (down, open, absent): true from the first minute in its firing scenario, never long enough in the quiet one."""
    at = 1 + _minutes(tier.for_) + 2
    return Alert(name=name, expr=expr, service=service, summary=summary, description=description, runbook=name,
                 fires=Scenario(fire_desc, fire_series(at + 1), at=f"{at}m", firing=(Firing(firing_labels, fire_value),)),
                 quiet=Scenario(quiet_desc, quiet_series(at + 1), at=f"{at}m"), labels=dict(labels or {}), **_tier(tier))


def _ratio_counters(metric: str, base: str, ok_labels: str, bad_labels: str, per_step: int = 1000) -> Driver:
    """Two counters whose rates split ``per_step`` events a minute into a share ``v`` of bad ones (exactly: no rounding)."""

    def drive(v: float, samples: int) -> tuple[tuple[tuple[str, str], ...], float]:
        bad = v * per_step
        return ((f"{metric}{{{base},{ok_labels}}}", f"0+{_num(per_step - bad)}x{samples}"),
                (f"{metric}{{{base},{bad_labels}}}", f"0+{_num(bad)}x{samples}")), v

    return drive


def _gauge_ratio(used: str, limit: str, scale: int = 1000) -> Driver:
    """A gauge and its limit whose quotient is a share ``v``."""

    def drive(v: float, samples: int) -> tuple[tuple[tuple[str, str], ...], float]:
        return ((used, f"{_num(v * scale)}x{samples}"), (limit, f"{scale}x{samples}")), v

    return drive


def _gauge(series: str) -> Driver:
    def drive(v: float, samples: int) -> tuple[tuple[tuple[str, str], ...], float]:
        return ((series, f"{_num(v)}x{samples}"),), v

    return drive


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile over cumulative (le, count) buckets ending with +Inf."""
    total = buckets[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return buckets[-2][0]
            return lower + (le - lower) * (rank - below) / (count - below)
        lower, below = le, count
    return math.nan
# --------------------------------------------------------------------------- catalog services


LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
"""Bucket boundaries of the generated latency scenarios (docs/metrics.md recommends these)."""


def service_recordings() -> list[Recording]:
    return [
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


def _pct(share: float) -> str:
    return f"{share * 100:g}%"


def _held_for(tier: AlertTier) -> str:
    return "at once" if not duration_seconds(tier.for_) else f"for {tier.for_}"


def service_alerts(svc: ServiceConfig) -> list[Alert]:
    """One catalog service's request, saturation and resource alerts, at the thresholds and holds of its catalog entry."""
    a, name = svc.alerting, svc.name
    s = f'service="{name}"'
    job = f'job="{name}"'
    who = {"service": name}
    alerts: list[Alert] = []

    def up(values: str) -> tuple[str, str]:
        return (f'up{{{s},{job},instance="10.20.32.10:8080",namespace="{name}"}}', values)

    alerts.append(held(
        "ServiceDown", name, a.service_down,
        expr=f"max by (service) (up{{{job}}}) == 0",
        summary=f"{name} is down",
        description=f"No scrape target of {name} has answered {_held_for(a.service_down)} (targets up: {{{{ $value | humanize }}}}).",
        firing_labels=who, fire_value=0, fire_desc="every target stops answering",
        fire_series=lambda n: (up(f"1 0x{n}"), (f'up{{{s},{job},instance="10.20.64.10:8080",namespace="{name}"}}', f"1 0x{n}")),
        quiet_desc="one of two targets down",
        quiet_series=lambda n: (up(f"1x{n}"), (f'up{{{s},{job},instance="10.20.64.10:8080",namespace="{name}"}}', f"0x{n}")),
    ))
    requests = _ratio_counters("http_requests_total", f'{s},route="/orders"', 'code="200"', 'code="503"')
    error_desc = ("{{ $labels.service }} answered {{ $value | humanizePercentage }} of requests with a 5xx status over the last "
                  "5 minutes (threshold {t}, {held}).")
    alerts += leveled("HighErrorRate", name, [
        Level(tier, f"service:http_requests_errors:ratio_rate5m{{{s}}} > {tier.threshold!r}",
              f"{name}: more than {_pct(tier.threshold)} of requests fail",
              error_desc.replace("{t}", _pct(tier.threshold)).replace("{held}", _held_for(tier)))
        for tier in (a.error_rate_critical, a.error_rate_warning)
    ], firing_labels=who, drive=requests, ceiling=1.0, shown=humanize_percentage)

    latency_levels = [(a.latency_critical, "99"), (a.latency_warning, "95")]
    quantile = {tier.severity: int(q) / 100 for tier, q in latency_levels}
    bounds = sorted({*LATENCY_BUCKETS, *(tier.threshold for tier, _ in latency_levels)})
    if bounds[-1] <= max(tier.threshold for tier, _ in latency_levels):
        bounds.append(2 * bounds[-1])

    def latency_pick(level: Level, kind: str, samples: int) -> Drive:
        t = level.tier.threshold
        edges = list(zip([0.0, *bounds[:-1]], bounds, strict=True))
        lo, hi = next(e for e in edges if e[0] >= t) if kind == "fires" else [e for e in edges if e[1] <= t][-1]
        per_step = 100
        series = tuple((f'http_request_duration_seconds_bucket{{{s},le="{_num(le)}"}}', f"0+{per_step if le >= hi else 0}x{samples}")
                       for le in bounds)
        series += ((f'http_request_duration_seconds_bucket{{{s},le="+Inf"}}', f"0+{per_step}x{samples}"),)
        buckets = [(le, float(per_step if le >= hi else 0)) for le in bounds] + [(math.inf, float(per_step))]
        values = {sev: histogram_quantile(q, buckets) for sev, q in quantile.items()}
        return Drive(f"every request takes {_num(lo)}-{_num(hi)}s", series, values)

    latency_desc = "The p{q} latency of {{ $labels.service }} is {{ $value | humanizeDuration }} over the last 5 minutes (threshold {t}s, {held})."
    alerts += leveled("HighLatency", name, [
        Level(tier, f"service:http_request_duration_seconds:p{q}_5m{{{s}}} > {tier.threshold!r}",
              f"{name}: p{q} latency above {tier.threshold:g}s",
              latency_desc.replace("{q}", q).replace("{t}", f"{tier.threshold:g}").replace("{held}", _held_for(tier)))
        for tier, q in latency_levels
    ], firing_labels=who, pick=latency_pick)

    probe = f'{s},instance="{public_url(svc)}",job="{name}-http"'
    alerts.append(held(
        "EndpointProbeFailed", name, a.probe_failed,
        expr=f"max by (service, instance) (probe_success{{{s},job=\"{name}-http\"}}) == 0",
        summary=f"{name}: synthetic probe of {{{{ $labels.instance }}}} fails",
        description=f"The blackbox probe of {{{{ $labels.instance }}}} has failed {_held_for(a.probe_failed)} (probe_success {{{{ $value | humanize }}}}).",
        firing_labels={"service": name, "instance": public_url(svc)}, fire_value=0, fire_desc="the health URL stops answering",
        fire_series=lambda n: ((f"probe_success{{{probe}}}", f"1 0x{n}"),),
        quiet_desc="one failed probe, then success", quiet_series=lambda n: ((f"probe_success{{{probe}}}", f"1 0 1x{n}"),),
    ))

    pod = f'{s},pod="{name}-1"'
    tier = a.database_pool
    alerts += leveled("DatabaseConnectionPoolSaturated", name, [Level(
        tier, f"max by (service) (db_pool_connections_in_use{{{s}}} / db_pool_connections_max{{{s}}}) > {tier.threshold!r}",
        f"{name}: database connection pool over {_pct(tier.threshold)}",
        f"A pod of {name} uses {{{{ $value | humanizePercentage }}}} of its database connection pool (threshold {_pct(tier.threshold)}, "
        f"{_held_for(tier)}).")],
        firing_labels=who, drive=_gauge_ratio(f"db_pool_connections_in_use{{{pod}}}", f"db_pool_connections_max{{{pod}}}", 100),
        ceiling=1.0, warmup=1, shown=humanize_percentage)

    breaker = f'circuit_breaker_state{{{s},dependency="payments",pod="{name}-1"}}'
    alerts.append(held(
        "CircuitBreakerOpen", name, a.circuit_breaker,
        expr=f"max by (service, dependency) (circuit_breaker_state{{{s}}}) == 1",
        summary=f"{name}: circuit breaker to {{{{ $labels.dependency }}}} is open",
        description=(f"{name} has stopped calling {{{{ $labels.dependency }}}} ({_held_for(a.circuit_breaker)}; state "
                     "{{ $value | humanize }} = open)."),
        firing_labels={"service": name, "dependency": "payments"}, fire_value=1, fire_desc="the breaker opens and stays open",
        fire_series=lambda n: ((breaker, f"0 1x{n}"),),
        quiet_desc="the breaker only half-opens (state 2) and closes",
        quiet_series=lambda n: ((breaker, " ".join("2" if i % 2 else "0" for i in range(n + 1))),),
    ))

    tier = a.queue_depth
    alerts += leveled("RequestQueueBackpressure", name, [Level(
        tier, f"max by (service) (request_queue_depth{{{s}}}) > {tier.threshold!r}",
        f"{name}: request queue deeper than {tier.threshold:g}",
        f"{{{{ $value | humanize }}}} requests wait in a queue of {name} (threshold {tier.threshold:g}); it is shedding or about to shed load.")],
        firing_labels=who, drive=_gauge(f"request_queue_depth{{{pod}}}"), warmup=1, shown=humanize)

    tier = a.failed_logins

    def logins(v: float, samples: int) -> tuple[tuple[tuple[str, str], ...], float]:
        # increase over 5m of samples a minute apart covers five steps exactly (no extrapolation once the window is full)
        return ((f"auth_login_failures_total{{{pod}}}", f"0+{_num(v / 5)}x{samples}"),), v

    alerts += leveled("FailedLoginSpike", name, [Level(
        tier, f"sum by (service) (increase(auth_login_failures_total{{{s}}}[5m])) > {tier.threshold!r}",
        f"{name}: more than {tier.threshold:g} failed logins in 5 minutes",
        f"{{{{ $value | humanize }}}} logins failed on {name} in the last 5 minutes: credential stuffing or a broken client.")],
        firing_labels=who, drive=logins, shown=humanize)

    alerts += pod_resource_alerts(name, f'namespace="{name}"', name, (a.memory_warning, a.memory_critical), (a.cpu_warning, a.cpu_critical))

    tier = a.trade_executions
    if tier.enabled:
        trades = _ratio_counters("trade_executions_total", f'{s},pod="{name}-1"', 'outcome="success"', 'outcome="failure"')
        alerts += leveled("TradeExecutionFailures", name, [Level(
            tier, (f'sum by (service) (rate(trade_executions_total{{{s},outcome="failure"}}[5m]))\n'
                   f"  / sum by (service) (rate(trade_executions_total{{{s}}}[5m])) > {tier.threshold!r}"),
            f"{name}: more than {_pct(tier.threshold)} of trade executions fail",
            f"{{{{ $value | humanizePercentage }}}} of {name}'s trade executions failed over the last 5 minutes "
            f"(threshold {_pct(tier.threshold)}, {_held_for(tier)}).")],
            firing_labels=who, drive=trades, ceiling=1.0, shown=humanize_percentage)
    return alerts


def pod_resource_alerts(scope: str, selector: str, service: str, memory: Sequence[AlertTier], cpu: Sequence[AlertTier]) -> list[Alert]:
    """PodMemoryHigh and PodCpuHigh at their levels for the pods ``selector`` picks (a service's namespace, or the rest)."""
    namespace = scope if selector.startswith("namespace=\"") else "monitoring"
    pod = f'namespace="{namespace}",pod="{namespace}-7d9f-x2",container="{namespace}"'
    pod_labels = {"namespace": namespace, "pod": f"{namespace}-7d9f-x2", "container": namespace}
    sel = f'{selector},container!="",container!="POD"'
    alerts = leveled("PodMemoryHigh", service, [
        Level(tier, (f"max by (namespace, pod, container) (container_memory_working_set_bytes{{{sel}}})\n"
                     f'  / max by (namespace, pod, container) (kube_pod_container_resource_limits{{{selector},resource="memory"}}) > {tier.threshold!r}'),
              f"{{{{ $labels.namespace }}}}/{{{{ $labels.pod }}}} uses more than {_pct(tier.threshold)} of its memory limit",
              ("Container {{ $labels.container }} of {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its memory limit "
               f"({_held_for(tier)}); the OOM killer is next."))
        for tier in memory
    ], firing_labels=pod_labels, drive=_gauge_ratio(f"container_memory_working_set_bytes{{{pod}}}",
                                                   f'kube_pod_container_resource_limits{{{pod},resource="memory",unit="byte"}}'),
        ceiling=1.0, warmup=1, shown=humanize_percentage)

    def cores(v: float, samples: int) -> tuple[tuple[tuple[str, str], ...], float]:
        return ((f"container_cpu_usage_seconds_total{{{pod}}}", f"0+{_num(v * 600)}x{samples}"),
                (f'kube_pod_container_resource_limits{{{pod},resource="cpu",unit="core"}}', f"10x{samples}")), v

    alerts += leveled("PodCpuHigh", service, [
        Level(tier, (f"sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{{{sel}}}[5m]))\n"
                     f'  / max by (namespace, pod, container) (kube_pod_container_resource_limits{{{selector},resource="cpu"}}) > {tier.threshold!r}'),
              f"{{{{ $labels.namespace }}}}/{{{{ $labels.pod }}}} uses more than {_pct(tier.threshold)} of its CPU limit",
              ("Container {{ $labels.container }} of {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its CPU limit "
               f"({_held_for(tier)}) and is being throttled."))
        for tier in cpu
    ], firing_labels=pod_labels, drive=cores, ceiling=1.0, shown=humanize_percentage)
    return alerts


def service_group(services: Sequence[ServiceConfig]) -> RuleGroup:
    """Request-level health of the catalog's services (metrics of docs/metrics.md), one set of rules per service."""
    rules: list[Alert | Recording] = [*service_recordings()]
    for svc in services:
        rules += service_alerts(svc)
    return RuleGroup("golive-services", tuple(rules))


# --------------------------------------------------------------------------- platform


def data_group(platform: PlatformAlertsConfig, read_replicas: int = 0) -> RuleGroup:
    """RDS (postgres-exporter, CloudWatch via YACE) and ElastiCache (redis-exporter); replica lag only when replicas exist."""
    rds = 'dimension_DBInstanceIdentifier="golive-db-replica-1"'
    db_down, redis_down = platform.database_down, platform.redis_down
    rules: list[Alert] = [
        held("DatabaseConnectionFailures", "database", db_down,
             expr="max(pg_up) == 0",
             summary="The PostgreSQL database refuses connections",
             description=f"postgres-exporter has not been able to connect to the database {_held_for(db_down)} (pg_up {{{{ $value | humanize }}}}).",
             firing_labels={}, fire_value=0, fire_desc="the exporter cannot connect",
             fire_series=lambda n: (('pg_up{instance="10.20.32.20:9187"}', f"1 0x{n}"),),
             quiet_desc="one failed connection, then success",
             quiet_series=lambda n: (('pg_up{instance="10.20.32.20:9187"}', f"1 0 1x{n}"),)),
    ]
    if read_replicas:
        rules.append(Alert(
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
        ))
    rules += [
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
        held("RedisDown", "cache", redis_down,
             expr="max(redis_up) == 0",
             summary="Redis is unreachable",
             description=f"redis-exporter cannot reach the ElastiCache primary {_held_for(redis_down)} (redis_up {{{{ $value | humanize }}}}).",
             firing_labels={}, fire_value=0, fire_desc="the exporter cannot reach Redis",
             fire_series=lambda n: (('redis_up{instance="10.20.32.30:9121"}', f"1 0x{n}"),),
             quiet_desc="Redis answers", quiet_series=lambda n: (('redis_up{instance="10.20.32.30:9121"}', f"1x{n}"),)),
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
    ]
    return RuleGroup("golive-data", tuple(rules))


def kubernetes_group(platform: PlatformAlertsConfig, services: Sequence[ServiceConfig] = ()) -> RuleGroup:
    """Pods, nodes and volumes (kube-state-metrics, cAdvisor, node-exporter, kubelet).

    Pod resource alerts here cover the namespaces outside the catalog; each catalog service has its own (its tiers).
    """
    fs = 'instance="10.20.32.40:9100",device="/dev/nvme0n1p1",fstype="xfs",mountpoint="/"'
    pvc = 'namespace="monitoring",persistentvolumeclaim="prometheus-db-0"'
    pod = 'namespace="orders",pod="orders-7d9f-x2",container="orders"'
    pod_labels = {"namespace": "orders", "pod": "orders-7d9f-x2", "container": "orders"}
    fs_labels = {"instance": "10.20.32.40:9100", "device": "/dev/nvme0n1p1", "fstype": "xfs", "mountpoint": "/"}
    outside = f'namespace!~"{_svc_regex(services)}"'
    rules: list[Alert] = pod_resource_alerts("", outside, "{{ $labels.namespace }}", (platform.memory_warning, platform.memory_critical),
                                             (platform.cpu_warning, platform.cpu_critical))
    rules += [
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
    ]
    return RuleGroup("golive-kubernetes", tuple(rules))


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


# --------------------------------------------------------------------------- what disappears, and the log pipeline


EXPORTERS: tuple[tuple[str, str, str, str], ...] = (
    # (exporter, a metric it always exports, service label, the alerts that go blind without it)
    ("postgres-exporter", "pg_up", "database", "DatabaseConnectionFailures"),
    ("redis-exporter", "redis_up", "cache", "RedisDown, RedisMemoryHigh and CacheHitRateLow"),
    ("cloudwatch-exporter", "yace_cloudwatch_requests_total", "monitoring", "every CloudWatch-based alert"),
    ("cloudwatch-exporter", "aws_rds_free_storage_space_average", "database", "RdsFreeStorageLow"),
    ("cloudwatch-exporter", "aws_backup_number_of_backup_jobs_completed_sum", "backup", "NoRecentBackup and BackupJobFailed"),
    ("cloudwatch-exporter", "aws_es_cluster_status_red_maximum", "logging", "the OpenSearch health alerts"),
    ("kube-state-metrics", "kube_node_status_condition", "cluster", "NodeNotReady, PodCrashLooping and the pod resource alerts"),
    ("node-exporter", "node_filesystem_avail_bytes", "cluster", "NodeDiskSpaceLow"),
    ("kubelet", "container_memory_working_set_bytes", "cluster", "PodMemoryHigh and PodCpuHigh"),
    ("fluent-bit", "fluentbit_output_proc_records_total", "logging", "FluentBitOutputFailing and FluentBitNoOutput"),
)


def public_url(svc: ServiceConfig) -> str:
    """The health URL through the load balancer, or in-cluster for internal services."""
    if svc.host:
        prefix = svc.path_prefix.rstrip("/")
        return f"https://{svc.host}{prefix}{svc.health_path}"
    return f"http://{svc.name}.{svc.name}.svc.cluster.local:{svc.port}{svc.health_path}"


def probe_jobs(services: Sequence[ServiceConfig]) -> list[tuple[str, str]]:
    """(job, service) of every blackbox Probe the monitoring stack declares: health URL, certificate and DNS name, data stores."""
    jobs = []
    for svc in services:
        jobs.append((f"{svc.name}-http", svc.name))
        if svc.host:
            jobs += [(f"{svc.name}-tls", svc.name), (f"{svc.name}-dns", svc.name)]
    return jobs + [("database-tcp", "database"), ("cache-tcp", "cache")]


def _sentinel_series(metric: str) -> str:
    return f'{metric}{{instance="10.20.32.50:9100"}}'


def absence_group(services: Sequence[ServiceConfig], platform: PlatformAlertsConfig) -> RuleGroup:
    """TargetDown for every scrape job, and an absent-series alert for every exporter and probe.

    A rule such as ``max(redis_up) == 0`` has no result when redis_up is gone: it cannot fire. Each absent rule fires
    when the metric its alerts read disappears (the catalog services' scrapes are in their own group).
    """
    tier = platform.target_down
    rules: list[Alert] = []

    def targets(down: int) -> tuple[tuple[str, str], ...]:
        return tuple((f'up{{job="redis-exporter",namespace="monitoring",service="redis-exporter",instance="10.20.32.{30 + i}:9121"}}',
                      f"{0 if i < down else 1}x{{n}}") for i in range(20))

    def target_drive(v: float, samples: int) -> tuple[tuple[tuple[str, str], ...], float]:
        down = round(v * 20)
        return tuple((s, v_.replace("{n}", str(samples))) for s, v_ in targets(down)), down / 20

    rules += leveled("TargetDown", "{{ $labels.service }}", [Level(
        tier, (f"count by (job, namespace, service) (up == 0)\n  / count by (job, namespace, service) (up) > {tier.threshold!r}"),
        "{{ $value | humanizePercentage }} of {{ $labels.job }}'s targets are down",
        (f"{{{{ $value | humanizePercentage }}}} of the targets of job {{{{ $labels.job }}}} in {{{{ $labels.namespace }}}} have not answered "
         f"a scrape {_held_for(tier)} (threshold {_pct(tier.threshold)}): whatever they export is going stale."))],
        firing_labels={"job": "redis-exporter", "namespace": "monitoring", "service": "redis-exporter"}, drive=target_drive,
        ceiling=1.0, warmup=1, shown=humanize_percentage)

    for svc in services:
        tier, name = svc.alerting.metrics_absent, svc.name
        others = [o.name for o in services if o.name != name]
        rules.append(held(
            "ServiceMetricsAbsent", name, tier,
            expr=f'absent(up{{job="{name}"}})',
            summary=f"Prometheus scrapes no target of {name}",
            description=(f"No target of job {name} has existed {_held_for(tier)}: its ServiceMonitor selects nothing (the Service, "
                         f"port {svc.metrics.port_of(svc.port)} or namespace changed), so ServiceDown and the error, latency and SLO "
                         f"alerts of {name} cannot fire (absent = {{{{ $value | humanize }}}})."),
            firing_labels={"job": name}, fire_value=1, fire_desc="its scrape target disappears, the other services' stay",
            fire_series=lambda n, name=name, others=others: (*((f'up{{job="{o}",service="{o}"}}', f"1x{n}") for o in others),
                                                              (f'up{{job="{name}",service="{name}"}}', "1 stale")),
            quiet_desc="every service is scraped (this one down)",
            quiet_series=lambda n, name=name, others=others: (*((f'up{{job="{o}",service="{o}"}}', f"1x{n}") for o in others),
                                                               (f'up{{job="{name}",service="{name}"}}', f"0x{n}")),
        ))

    tier = platform.exporter_absent
    for exporter, metric, service, blind in EXPORTERS:
        others = [m for _, m, _, _ in EXPORTERS if m != metric]
        rules.append(held(
            "ExporterAbsent", service, tier, labels={"exporter": exporter, "metric": metric},
            expr=f"absent({metric})",
            summary=f"{exporter}: {metric} is gone",
            description=(f"Prometheus has had no {metric} series {_held_for(tier)}: {exporter} is not running or not scraped, so "
                         f"{blind} cannot fire (absent = {{{{ $value | humanize }}}})."),
            firing_labels={}, fire_value=1, fire_desc=f"{metric} disappears, every other exporter reports",
            fire_series=lambda n, others=others, metric=metric: (*((_sentinel_series(m), f"1x{n}") for m in others),
                                                                  (_sentinel_series(metric), "1 stale")),
            quiet_desc="every exporter reports",
            quiet_series=lambda n: tuple((_sentinel_series(m), f"1x{n}") for _, m, _, _ in EXPORTERS),
        ))

    tier = platform.probe_absent
    jobs = probe_jobs(services)
    for job, service in jobs:
        others = [j for j, _ in jobs if j != job]
        rules.append(held(
            "ProbeAbsent", service, tier, labels={"probe": job},
            expr=f'absent(probe_success{{job="{job}"}})',
            summary=f"Probe {job} reports nothing",
            description=(f"The blackbox probe {job} has produced no probe_success {_held_for(tier)}: its Probe object or the blackbox "
                         f"exporter is gone, so EndpointProbeFailed and TLSCertificateExpiring cannot fire for it "
                         f"(absent = {{{{ $value | humanize }}}})."),
            firing_labels={"job": job}, fire_value=1, fire_desc=f"{job} disappears, every other probe reports",
            fire_series=lambda n, others=others, job=job: (*((f'probe_success{{job="{j}"}}', f"1x{n}") for j in others),
                                                            (f'probe_success{{job="{job}"}}', "1 stale")),
            quiet_desc="every probe reports",
            quiet_series=lambda n: tuple((f'probe_success{{job="{j}"}}', f"1x{n}") for j, _ in jobs),
        ))
    return RuleGroup("golive-absence", tuple(rules))


def logging_group(platform: PlatformAlertsConfig, volume_size_gb: int) -> RuleGroup:
    """Fluent Bit (its own metrics) and the OpenSearch domain (CloudWatch AWS/ES via YACE)."""
    fb = 'pod="fluent-bit-x7k2p",name="opensearch.0"'
    domain = 'dimension_DomainName="golive-logs",dimension_ClientId="123456789012"'
    on_domain = {"dimension_DomainName": "golive-logs"}
    out, stalled = platform.fluent_bit_output, platform.fluent_bit_stalled
    rules: list[Alert] = [
        held("FluentBitOutputFailing", "logging", out,
             expr=("sum by (pod) (rate(fluentbit_output_retries_failed_total[5m])) > 0\n"
                   "  or sum by (pod) (rate(fluentbit_output_dropped_records_total[5m])) > 0"),
             summary="Fluent Bit {{ $labels.pod }} is losing logs",
             description=(f"Fluent Bit {{{{ $labels.pod }}}} gives up on {{{{ $value | humanize }}}} batches or records a second "
                          f"({_held_for(out)}): OpenSearch refuses or cannot be reached, and those log lines are gone."),
             firing_labels={"pod": "fluent-bit-x7k2p"}, fire_value=0.1, fire_desc="retries exhausted, 6 batches a minute",
             fire_series=lambda n: ((f"fluentbit_output_retries_failed_total{{{fb}}}", f"0+6x{n}"),
                                    (f"fluentbit_output_dropped_records_total{{{fb}}}", f"0x{n}")),
             quiet_desc="every batch delivered",
             quiet_series=lambda n: ((f"fluentbit_output_retries_failed_total{{{fb}}}", f"0x{n}"),
                                     (f"fluentbit_output_dropped_records_total{{{fb}}}", f"0x{n}"))),
        held("FluentBitNoOutput", "logging", stalled,
             expr="sum(rate(fluentbit_output_proc_records_total[15m])) == 0",
             summary="Fluent Bit ships no logs at all",
             description=(f"No Fluent Bit pod has delivered a record to OpenSearch {_held_for(stalled)} "
                          "(records/s {{ $value | humanize }}): the log pipeline is stalled."),
             firing_labels={}, fire_value=0, fire_desc="no record delivered",
             fire_series=lambda n: ((f"fluentbit_output_proc_records_total{{{fb}}}", f"100x{n}"),),
             quiet_desc="records delivered", quiet_series=lambda n: ((f"fluentbit_output_proc_records_total{{{fb}}}", f"0+60x{n}"),)),
    ]
    for name, tier, metric, what in (
        ("OpenSearchClusterRed", platform.opensearch_red, "aws_es_cluster_status_red_maximum",
         "a primary shard is unassigned: some log indices cannot be written or searched"),
        ("OpenSearchClusterYellow", platform.opensearch_yellow, "aws_es_cluster_status_yellow_maximum",
         "a replica shard is unassigned: one more node failure loses data"),
        ("OpenSearchWritesBlocked", platform.opensearch_writes_blocked, "aws_es_cluster_index_writes_blocked_maximum",
         "the domain refuses writes (disk or memory pressure): Fluent Bit's batches fail"),
    ):
        rules.append(held(
            name, "logging", tier,
            expr=f"max by (dimension_DomainName) ({metric}) >= 1",
            summary=f"OpenSearch domain {{{{ $labels.dimension_DomainName }}}}: {what.split(':')[0]}",
            description=f"{what} ({_held_for(tier)}; {metric} = {{{{ $value | humanize }}}}).",
            firing_labels=on_domain, fire_value=1, fire_desc="CloudWatch reports it",
            fire_series=lambda n, metric=metric: ((f"{metric}{{{domain}}}", f"0 1x{n}"),),
            quiet_desc="CloudWatch reports 0", quiet_series=lambda n, metric=metric: ((f"{metric}{{{domain}}}", f"0x{n}"),),
        ))
    tier = platform.opensearch_storage
    volume_mib = volume_size_gb * 1024
    floor = dataclasses.replace(tier, threshold=round(tier.threshold * volume_mib, 3))
    rules += leveled("OpenSearchStorageLow", "logging", [Level(
        floor, f"min by (dimension_DomainName) (aws_es_free_storage_space_minimum) < {floor.threshold!r}",
        "OpenSearch domain {{ $labels.dimension_DomainName }} is running out of storage",
        (f"The fullest data node of {{{{ $labels.dimension_DomainName }}}} has {{{{ $value | humanize }}}}MiB free, under "
         f"{_pct(tier.threshold)} of its {volume_size_gb} GiB volume ({_held_for(tier)}); at 0 the domain blocks writes."))],
        firing_labels=on_domain, drive=_gauge(f"aws_es_free_storage_space_minimum{{{domain}}}"), above=False,
        ceiling=float(volume_mib), warmup=1, shown=humanize)
    return RuleGroup("golive-logging", tuple(rules))


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
        self._steps: dict[str, int] = {}

    def ratio(self, k: int, window: str) -> float:
        w = self._steps.get(window)
        if w is None:
            w = self._steps[window] = int(duration_seconds(window) // self.step)
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
            f'1 - slo:sli_error:ratio_rate{SLO_WINDOW}{{service="{service.name}",slo="{slo}"}} / {budget!r}', labels))
    for slo in ("availability", "latency"):
        rules += _burn_alerts(service, slo, budget_of(objective[slo]))
    rules += _budget_alerts(service)
    return RuleGroup(f"golive-slo-{service.name}", tuple(rules))


def _budget_alerts(service: ServiceConfig) -> list[Alert]:
    """SLOErrorBudgetLow per SLI and SLOAvailabilityAtRisk: where the 30-day budget stands, not how fast it burns."""
    low, risk = service.alerting.error_budget_low, service.alerting.availability_at_risk
    objective = objectives(service)
    at = 1 + _minutes(low.for_) + 2
    alerts = []
    for slo in ("availability", "latency"):
        budget = budget_of(objective[slo])
        labels = {"slo": slo, "slo_severity": "page" if low.pages else "ticket"}
        fire = _Model(60, ((at, (1 - low.threshold / 2) * budget),))
        quiet = _Model(60, ((at, (1 - low.threshold) / 2 * budget),))
        left = 1 - fire.ratio(at, SLO_WINDOW) / budget
        alerts.append(Alert(
            name="SLOErrorBudgetLow",
            expr=f'slo:error_budget_remaining:ratio{{service="{service.name}",slo="{slo}"}} < {low.threshold!r}',
            service=service.name,
            labels=labels,
            summary=f"{service.name}: less than {_pct(low.threshold)} of the {slo} error budget left",
            description=(f"{{{{ $value | humanizePercentage }}}} of {service.name}'s {SLO_WINDOW} {slo} error budget is left "
                         f"(objective {objective_percent(service, slo)}%, threshold {_pct(low.threshold)}): freeze risky releases."),
            runbook="SLOErrorBudgetLow",
            fires=Scenario(f"{_pct(1 - low.threshold / 2)} of the budget spent", fire.series(service, slo), at=f"{at}m",
                           firing=(Firing({"service": service.name, "slo": slo}, left),)),
            quiet=Scenario(f"{_pct((1 - low.threshold) / 2)} of the budget spent", quiet.series(service, slo), at=f"{at}m"),
            **_tier(low),
        ))
    target = objective["availability"]
    line = round(target + risk.threshold / 100, 12)
    at = 1 + _minutes(risk.for_) + 2
    fire = _Model(60, ((at, 1 - (target + line) / 2),))
    quiet = _Model(60, ((at, 1 - (line + 1) / 2),))
    alerts.append(Alert(
        name="SLOAvailabilityAtRisk",
        expr=f'1 - slo:sli_error:ratio_rate{SLO_WINDOW}{{service="{service.name}",slo="availability"}} < {line!r}',
        service=service.name,
        labels={"slo": "availability", "slo_severity": "page" if risk.pages else "ticket"},
        summary=f"{service.name}: {SLO_WINDOW} availability under {line * 100:g}%",
        description=(f"{service.name}'s availability over {SLO_WINDOW} is {{{{ $value | humanizePercentage }}}}, under {line * 100:g}% "
                     f"(objective {objective_percent(service, 'availability')}% + {risk.threshold:g} points): little room is left."),
        runbook="SLOAvailabilityAtRisk",
        fires=Scenario("availability halfway between the objective and the line", fire.series(service, "availability"), at=f"{at}m",
                       firing=(Firing({"service": service.name, "slo": "availability"}, 1 - fire.ratio(at, SLO_WINDOW)),)),
        quiet=Scenario("availability halfway between the line and 100%", quiet.series(service, "availability"), at=f"{at}m"),
        **_tier(risk),
    ))
    return alerts


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


def _svc_regex(services: Sequence[ServiceConfig]) -> str:
    return "|".join(s.name for s in services)  # DNS labels: no regex metacharacter but "-", literal outside []


def all_groups(services: Sequence[ServiceConfig], monitoring: MonitoringConfig | None = None, *,
               read_replicas: int = 0) -> list[RuleGroup]:
    """Every rule group of the platform, in deployment order."""
    monitoring = monitoring or MonitoringConfig()
    platform = monitoring.platform_alerts
    return [
        service_group(services),
        data_group(platform, read_replicas),
        kubernetes_group(platform, services),
        edge_group(),
        backup_group(),
        absence_group(services, platform),
        logging_group(platform, monitoring.logs.volume_size_gb),
        meta_group(),
        *[slo_group(s) for s in services],
    ]
