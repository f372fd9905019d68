"""Delivery rules: every production service releases progressively, gated by its documented SLIs, its canary weights
set on the ALB by golive's traffic-router plugin.

The Helm chart of Argo Rollouts is pinned by ``cluster-helm-chart-pinned``, which
covers every Helm release; no rule here repeats it.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Mapping

from pulumi_policy import Severity

from . import types as t
from ._base import (
    UNKNOWN,
    as_json,
    as_list,
    declare_reference,
    get,
    is_production,
    is_set,
    known_items,
    of_type,
    peek,
    peek_key,
    resource_policy,
    stack_policy,
)

SERVICE_LABEL = "golive.io/service"
ARGO_CHART = "argo-rollouts"
# golive's traffic-router plugin (delivery/alb-traffic-router) and the configuration it accepts, no more, no less.
ALB_PLUGIN = "golive/alb-listener-rule"
ALB_PLUGIN_FIELDS = ("listenerRuleArn", "stableTargetGroupArn", "canaryTargetGroupArn", "region")
ALB_PLUGIN_PATH = f"spec.strategy.canary.trafficRouting.plugins.{ALB_PLUGIN}"
MAX_ALB_WEIGHT = 999
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
_ELB_ARN = r"arn:aws[a-z-]*:elasticloadbalancing:(?P<region>[a-z0-9-]+):[0-9]{12}:"
_PLUGIN_ARNS = {
    "listenerRuleArn": (re.compile(_ELB_ARN + r"listener-rule/app/[^/]+/[0-9a-f]+/[0-9a-f]+/[0-9a-f]+"), "an ALB listener rule"),
    "stableTargetGroupArn": (re.compile(_ELB_ARN + r"targetgroup/[^/]+/[0-9a-f]+"), "a target group"),
    "canaryTargetGroupArn": (re.compile(_ELB_ARN + r"targetgroup/[^/]+/[0-9a-f]+"), "a target group"),
}
declare_reference((t.ROLLOUT,), f"{ALB_PLUGIN_PATH}.listenerRuleArn", (t.LISTENER_RULE,))
declare_reference((t.ROLLOUT,), f"{ALB_PLUGIN_PATH}.stableTargetGroupArn", (t.TARGET_GROUP,))
declare_reference((t.ROLLOUT,), f"{ALB_PLUGIN_PATH}.canaryTargetGroupArn", (t.TARGET_GROUP,))
METRICS_DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "metrics.md"

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_PROMQL_KEYWORDS = frozenset({
    "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "atan2",
    "inf", "nan", "Inf", "NaN",
})


# --------------------------------------------------------------------------- PromQL and docs/metrics.md


def promql_metrics(query: str) -> set[str]:
    """Metric names a PromQL expression selects (functions, keywords, labels and strings left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', query)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", text)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)
    names = set()
    for match in _NAME.finditer(text):
        name = match.group(0)
        rest = text[match.end():].lstrip()
        if name in _PROMQL_KEYWORDS or rest.startswith("("):
            continue
        if match.start() and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "."):
            continue  # the exponent or suffix of a number (1e3)
        names.add(name)
    return names


def documented_metrics(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names, prefixes) in backticks in docs/metrics.md; a ``_bucket`` implies ``_count`` and ``_sum``, ``x_*`` is a prefix."""
    names: set[str] = set()
    prefixes: set[str] = set()
    for token in re.findall(r"`([^`\s]+)`", text):
        if token.endswith("*") and _NAME.fullmatch(token[:-1]):
            prefixes.add(token[:-1])
        elif _NAME.fullmatch(token):
            names.add(token)
            if token.endswith("_bucket"):
                base = token.removesuffix("_bucket")
                names |= {base, f"{base}_count", f"{base}_sum"}
    return tuple(sorted(names)), tuple(sorted(prefixes))


def _load_documented() -> tuple[tuple[str, ...], tuple[str, ...]]:
    try:
        return documented_metrics(METRICS_DOC.read_text())
    except OSError:
        return (), ()


_DOCUMENTED, _PREFIXES = _load_documented()


# --------------------------------------------------------------------------- Rollouts


def _strategy(rollout) -> tuple[str, Mapping]:
    strategy = get(rollout.props if hasattr(rollout, "props") else rollout, "spec.strategy") or {}
    for kind in ("canary", "blueGreen"):
        if isinstance(get(strategy, kind), Mapping):
            return kind, strategy[kind]
    return "", {}


def _analysis_refs(kind: str, body: Mapping) -> list[Mapping]:
    if kind == "canary":
        refs = [step["analysis"] for step in as_list(get(body, "steps")) if isinstance(get(step, "analysis"), Mapping)]
        return refs + ([body["analysis"]] if isinstance(get(body, "analysis"), Mapping) else [])
    return [body[k] for k in ("prePromotionAnalysis", "postPromotionAnalysis") if isinstance(get(body, k), Mapping)]


def _check_strategies(args, cfg):
    if not is_production(args):
        return
    rollouts = of_type(args, t.ROLLOUT)
    templates = {(get(r.props, "metadata.namespace"), get(r.props, "metadata.name")) for r in of_type(args, t.ANALYSIS_TEMPLATE)}
    for ns in of_type(args, t.K8S_NAMESPACE):
        if cfg["serviceLabel"] not in (get(ns.props, "metadata.labels") or {}):
            continue
        name = get(ns.props, "metadata.name") or ns.name
        mine = [r for r in rollouts if get(r.props, "metadata.namespace") == name]
        if not mine:
            yield (f"service {name} has no Rollout: a release replaces every pod at once with nothing checking its SLOs "
                   "(golive:services[].delivery is none)."), ns.urn
            continue
        for rollout in mine:
            kind, body = _strategy(rollout)
            refs = _analysis_refs(kind, body)
            if not refs:
                what = "analysis step" if kind == "canary" else "pre- or post-promotion analysis"
                yield f"Rollout {name} ({kind or 'no strategy'}) has no {what}: a bad version would be promoted unchecked.", rollout.urn
            for ref in refs:
                for template in as_list(get(ref, "templates")):
                    if (name, template.get("templateName")) not in templates:
                        yield (f"Rollout {name} analyses with AnalysisTemplate {template.get('templateName')!r}, which the stack "
                               "does not declare in its namespace."), rollout.urn


strategy_analysed = stack_policy(
    name="delivery-strategy-analysed",
    description="Every service of a production catalog is released by a Rollout with at least one SLO analysis step.",
    check=_check_strategies,
    types=(t.ROLLOUT, t.ANALYSIS_TEMPLATE, t.K8S_NAMESPACE),
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Keep golive:services[].delivery canary or blueGreen and at least one analysis step in golive:delivery.canarySteps.",
    controls=("well-architected:OPS06-BP03", "well-architected:OPS06-BP04"),
    defaults={"serviceLabel": SERVICE_LABEL},
)


def _check_weights(args, cfg):
    kind, body = _strategy(args)
    if kind != "canary":
        return
    weights = [get(step, "setWeight") for step in as_list(get(body, "steps")) if get(step, "setWeight") is not None]
    if not weights:
        yield f"canary Rollout {args.name} sets no weight: its steps never send traffic to the new version."
        return
    for before, after in zip(weights, weights[1:], strict=False):
        if after <= before:
            yield f"canary Rollout {args.name}: setWeight {after} follows {before}; weights must increase step by step ({weights})."
    if weights[-1] != 100:
        yield f"canary Rollout {args.name} ends at {weights[-1]}%; the last setWeight must be 100 ({weights})."
    if any(not 0 < w <= 100 for w in weights):
        yield f"canary Rollout {args.name} has weights outside 1-100 ({weights})."


canary_weights_increase = resource_policy(
    name="delivery-canary-weights-increase",
    description="Canary weights increase at every setWeight step and end at 100.",
    types=(t.ROLLOUT,),
    check=_check_weights,
    severity=Severity.MEDIUM,
    category="DR & Business Continuity",
    remediation="Order golive:delivery.canarySteps by increasing setWeight and end with setWeight 100.",
    controls=("well-architected:OPS06-BP03",),
)


def _documented(name: str, cfg) -> bool:
    return name in cfg["documentedMetrics"] or any(name.startswith(p) for p in cfg["documentedPrefixes"])


def _check_template_metrics(args, cfg):
    for metric in as_list(get(args.props, "spec.metrics")):
        query = get(metric, "provider.prometheus.query")
        if not isinstance(query, str):
            continue
        undocumented = sorted(m for m in promql_metrics(query) if not _documented(m, cfg))
        if undocumented:
            yield (f"AnalysisTemplate {args.name}, metric {metric.get('name')!r}, queries {', '.join(undocumented)}, which "
                   "docs/metrics.md does not define: services would not know to expose it and the analysis could never pass.")


analysis_metrics_documented = resource_policy(
    name="delivery-analysis-metrics-documented",
    description="Every AnalysisTemplate query uses only metrics that docs/metrics.md defines.",
    types=(t.ANALYSIS_TEMPLATE,),
    check=_check_template_metrics,
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Derive analysis queries from the SLO model (components/delivery.py) or document the metric in docs/metrics.md.",
    defaults={"documentedMetrics": _DOCUMENTED, "documentedPrefixes": _PREFIXES},
)


def _check_router_installed(args, cfg):
    registered: dict[str, Mapping] = {}
    for release in of_type(args, t.HELM_RELEASE):
        if get(release.props, "chart") != ARGO_CHART:
            continue
        values = as_json(get(release.props, "values")) or {}
        for plugin in as_list(get(values, "controller.trafficRouterPlugins")):
            registered[get(plugin, "name")] = plugin
    for rollout in of_type(args, t.ROLLOUT):
        kind, body = _strategy(rollout)
        for name in (get(body, "trafficRouting.plugins") or {}) if kind == "canary" else {}:
            plugin = registered.get(name)
            if plugin is None:
                yield (f"Rollout {rollout.name} routes traffic through plugin {name!r}, which no argo-rollouts release installs: "
                       "its canary cannot shift ALB weights and the rollout will be Degraded."), rollout.urn
                continue
            location, digest = str(get(plugin, "location") or ""), str(get(plugin, "sha256") or "")
            if not re.fullmatch(r"https://[^\s/?#]+/\S+", location):
                yield (f"traffic-router plugin {name!r} is downloaded from {location or 'nowhere'!r}, not from an https:// "
                       "location: anyone on the path could hand the controller another binary."), rollout.urn
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                yield (f"traffic-router plugin {name!r} is installed without a SHA-256 checksum ({digest or 'none'!r}): the "
                       "controller would run whatever the location serves."), rollout.urn


traffic_router_installed = stack_policy(
    name="delivery-traffic-router-installed",
    description=("Every traffic-router plugin a Rollout uses is installed by the Argo Rollouts release under its name, "
                 "from an https location and with its SHA-256."),
    check=_check_router_installed,
    types=(t.ROLLOUT, t.HELM_RELEASE),
    severity=Severity.HIGH,
    category="Infrastructure",
    remediation=("Keep golive:delivery.trafficRouterPlugin at golive's release (the default), or set its location (https) "
                 "and sha256 to another build of delivery/alb-traffic-router."),
)


def _check_router_configured(args, cfg):
    """The plugin's configuration in a canary Rollout: what delivery/alb-traffic-router accepts, checked as a preview can.

    The ARNs are outputs of this stack (unknown at a first preview): they must be set, and ``aws-references-resolve``
    proves a listener rule and target groups feed them; their form and region are checked once they are known.
    """
    kind, body = _strategy(args)
    plugins = get(body, "trafficRouting.plugins") if kind == "canary" else None
    config = peek_key(plugins, ALB_PLUGIN) if isinstance(plugins, Mapping) else None
    if config is None or config is UNKNOWN:
        return  # another router, or the whole object is an output: nothing to check before it is known
    if not isinstance(config, Mapping):
        yield f"Rollout {args.name}: the configuration of {ALB_PLUGIN} is {config!r}, not an object with {', '.join(ALB_PLUGIN_FIELDS)}."
        return
    for key, _ in known_items(config):
        if key not in ALB_PLUGIN_FIELDS:
            yield f"Rollout {args.name}: {ALB_PLUGIN} has no setting {key!r} (it accepts {', '.join(ALB_PLUGIN_FIELDS)}) and refuses the rollout."
    missing = [f for f in ALB_PLUGIN_FIELDS if not is_set(config, f)]
    if missing:
        yield (f"Rollout {args.name}: {ALB_PLUGIN} is missing {', '.join(missing)}: the plugin cannot know which listener rule "
               "and target groups to weigh, and every step of the canary fails.")
    region = peek(config, "region")
    if isinstance(region, str) and region and not _REGION.fullmatch(region):
        yield f"Rollout {args.name}: {ALB_PLUGIN} region {region!r} is not an AWS region name."
        region = None  # nothing to compare the ARNs' regions with
    known, elsewhere = {}, []
    for field, (pattern, what) in _PLUGIN_ARNS.items():
        value = peek(config, field)
        if not isinstance(value, str) or not value:
            continue
        match = pattern.fullmatch(value)
        if match is None:
            yield f"Rollout {args.name}: {ALB_PLUGIN} {field} {value!r} is not the ARN of {what}."
        elif isinstance(region, str) and region and match.group("region") != region:
            elsewhere.append(f"{field} ({match.group('region')})")
        known[field] = value
    if elsewhere:
        yield f"Rollout {args.name}: {ALB_PLUGIN} {', '.join(elsewhere)} not in its region {region}: the plugin refuses them."
    if known.get("stableTargetGroupArn") and known.get("stableTargetGroupArn") == known.get("canaryTargetGroupArn"):
        yield f"Rollout {args.name}: {ALB_PLUGIN} names one target group as both stable and canary."
    for i, step in enumerate(as_list(get(body, "steps"))):
        for unsupported in ("setHeaderRoute", "setMirrorRoute"):
            if get(step, unsupported) is not None:
                yield (f"Rollout {args.name}: step {i} is {unsupported}, which {ALB_PLUGIN} refuses (it only weighs the rule's "
                       "two target groups): the rollout would stop at that step.")
    if as_list(get(body, "trafficRouting.managedRoutes")):
        yield f"Rollout {args.name}: trafficRouting.managedRoutes need header or mirror routes, which {ALB_PLUGIN} does not create."
    total = get(body, "trafficRouting.maxTrafficWeight")
    if total is not None and not (isinstance(total, int) and 1 <= total <= MAX_ALB_WEIGHT):
        yield f"Rollout {args.name}: trafficRouting.maxTrafficWeight {total!r} is outside 1-{MAX_ALB_WEIGHT}, the weights of an ALB target group."


traffic_router_configured = resource_policy(
    name="delivery-traffic-router-configured",
    description=("A canary Rollout that routes through golive/alb-listener-rule gives the plugin its listener rule, stable "
                 "and canary target groups and region, and asks for nothing the plugin refuses."),
    types=(t.ROLLOUT,),
    check=_check_router_configured,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation=("Let components/delivery.py render the plugin's configuration from the edge's canary rule and target "
                 "groups (golive:services[].host with delivery canary); use only setWeight, pause and analysis steps."),
)

POLICIES = [strategy_analysed, canary_weights_increase, analysis_metrics_documented, traffic_router_installed,
            traffic_router_configured]
