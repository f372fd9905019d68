"""Monitoring rules: actionable alerts paged by priority, metrics retained as long as the rules read, a private encrypted log store."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pulumi_policy import Severity

from . import types as t
from ._base import KMS_KEY_TYPES, as_json, customer_managed_key, declare_reference, get, is_sequence, of_type, resource_policy, stack_policy

STACK_CHART = "kube-prometheus-stack"
SEVERITIES = ("critical", "warning", "info")
PRIORITIES = ("P1", "P2", "P3")
PAGING_PRIORITIES = ("P1", "P2")
NOTIFIER_KEYS = ("pagerduty_configs", "opsgenie_configs", "slack_configs", "email_configs", "webhook_configs", "sns_configs",
                 "victorops_configs", "msteams_configs", "pushover_configs", "telegram_configs", "wechat_configs", "discord_configs")
# Receiver settings that would hold a key in clear; each has a *_file twin.
PLAIN_SECRET_KEYS = ("routing_key", "service_key", "api_key", "api_url", "auth_password", "smtp_auth_password", "slack_api_url",
                     "pagerduty_url_key", "bot_token")
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def _seconds(value: object) -> float | None:
    """A Prometheus duration such as ``15d`` or ``1w2d`` in seconds."""
    if not isinstance(value, str) or not value or not re.fullmatch(r"(\d+(ms|s|m|h|d|w|y))+", value):
        return None
    return sum(int(n) * _SECONDS[unit] for n, unit in _DURATION.findall(value))


def _is_stack(args) -> bool:
    return args.resource_type == t.HELM_RELEASE and get(args.props, "chart") == STACK_CHART


def _values(args) -> dict:
    return as_json(get(args.props, "values")) or {}


# --------------------------------------------------------------------------- alert rules


def _check_alert_rules(args, cfg):
    spec = as_json(get(args.props, "spec")) or {}
    for group in get(spec, "groups") or []:
        for rule in group.get("rules") or []:
            name = rule.get("alert")
            if not name:
                continue
            labels, annotations = rule.get("labels") or {}, rule.get("annotations") or {}
            where = f"alert {name} in {args.name} (group {group.get('name')})"
            if labels.get("severity") not in cfg["severities"]:
                yield f"{where} has severity {labels.get('severity')!r}; use one of {', '.join(cfg['severities'])} so routing can page or ticket it."
            missing = [k for k in cfg["requiredLabels"] if k != "severity" and not labels.get(k)]
            missing += [k for k in cfg["requiredAnnotations"] if not annotations.get(k)]
            if missing:
                yield f"{where} lacks {', '.join(missing)}; whoever is paged needs the service, a summary and a runbook."
            url = annotations.get("runbook_url", "")
            if url and not url.startswith("https://"):
                yield f"{where} has runbook_url {url!r}; it must be an https:// link to docs/runbooks."
            priority = labels.get("priority")
            if priority not in cfg["priorities"]:
                yield (f"{where} has priority {priority!r}; use one of {', '.join(cfg['priorities'])} so Alertmanager pages "
                       f"({', '.join(cfg['pagingPriorities'])}) or tickets it.")
            elif labels.get("severity") == "critical" and priority not in cfg["pagingPriorities"]:
                yield f"{where} is critical with priority {priority}, which does not page; a critical alert is {' or '.join(cfg['pagingPriorities'])}."


alert_rules_labelled = resource_policy(
    name="monitoring-alert-rules-labelled",
    description="Every PrometheusRule alert carries severity, a priority (critical ones page), service, summary and runbook_url.",
    types=(t.PROMETHEUS_RULE,),
    check=_check_alert_rules,
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Declare alerts through components/monitoring/rules.py (Alert carries every label and annotation) and add a runbook page.",
    controls=("well-architected:OPS08-BP04",),
    defaults={"severities": SEVERITIES, "requiredLabels": ("severity", "service"), "requiredAnnotations": ("summary", "runbook_url"),
              "priorities": PRIORITIES, "pagingPriorities": PAGING_PRIORITIES},
)


# --------------------------------------------------------------------------- Prometheus retention


def _check_retention(args, cfg):
    if not _is_stack(args):
        return
    spec = get(_values(args), "prometheus.prometheusSpec") or {}
    retention = spec.get("retention")
    seconds = _seconds(retention)
    if seconds is None:
        yield (f"{args.name}: prometheus.prometheusSpec.retention is {retention!r}; set it explicitly (the chart's default is 10d), "
               f"at least {cfg['minRetentionDays']}d.")
    elif seconds < cfg["minRetentionDays"] * 86400:
        yield f"{args.name}: Prometheus keeps {retention} of metrics; keep at least {cfg['minRetentionDays']}d for SLO windows and incident review."
    if not get(spec, "storageSpec.volumeClaimTemplate"):
        yield f"{args.name}: Prometheus has no persistent volume (storageSpec.volumeClaimTemplate); a restart loses the retained metrics."


prometheus_retention = resource_policy(
    name="monitoring-prometheus-retention",
    description="Prometheus keeps at least 15 days of metrics on persistent volumes.",
    types=(t.HELM_RELEASE,),
    check=_check_retention,
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Set golive:monitoring.retention (>= 15d); keep the storageSpec the Monitoring component sets.",
    controls=("well-architected:OPS08-BP01",),
    defaults={"minRetentionDays": 15},
)


# --------------------------------------------------------------------------- rule windows against retention

_RANGE = re.compile(r"\[\s*((?:\d+(?:ms|s|m|h|d|w|y))+)\s*(?::[^\]]*)?\]")
_OFFSET = re.compile(r"\boffset\s+((?:\d+(?:ms|s|m|h|d|w|y))+)")


def lookback(expr: str) -> float:
    """How far back ``expr`` reads, in seconds: its longest range plus its longest offset (an upper bound)."""
    ranges = [_seconds(m) or 0 for m in _RANGE.findall(expr)]
    offsets = [_seconds(m) or 0 for m in _OFFSET.findall(expr)]
    return max(ranges, default=0) + max(offsets, default=0)


def _days(seconds: float) -> str:
    return f"{seconds / 86400:g}d"


def _windows(args):
    """(resource, what, lookback seconds) of every rule expression and dashboard query of the stack."""
    for record in of_type(args, t.PROMETHEUS_RULE):
        spec = as_json(get(record.props, "spec")) or {}
        for group in get(spec, "groups") or []:
            for rule in group.get("rules") or []:
                expr = rule.get("expr")
                if isinstance(expr, str):
                    yield record, f"rule {rule.get('record') or rule.get('alert')} (group {group.get('name')})", lookback(expr)
    for record in of_type(args, t.K8S_CONFIG_MAP):
        if (get(record.props, "metadata.labels") or {}).get("grafana_dashboard") != "1":
            continue
        for key, text in (get(record.props, "data") or {}).items():
            dashboard = as_json(text)
            if not isinstance(dashboard, Mapping):
                continue
            for panel in _panels(dashboard.get("panels")):
                for target in panel.get("targets") or []:
                    expr = (target or {}).get("expr")
                    if isinstance(expr, str):
                        yield record, f"panel {panel.get('title')!r} of dashboard {key}", lookback(expr)


def _check_retention_covers_windows(args, cfg):
    stacks = [r for r in of_type(args, t.HELM_RELEASE) if get(r.props, "chart") == STACK_CHART]
    if not stacks:
        return
    windows = sorted(_windows(args), key=lambda w: -w[2])
    for stack in stacks:
        values = as_json(get(stack.props, "values")) or {}
        retention = _seconds((get(values, "prometheus.prometheusSpec") or {}).get("retention"))
        if retention is None:
            continue  # monitoring-prometheus-retention reports a missing retention
        beyond = [(what, seconds) for _, what, seconds in windows if seconds > retention]
        if beyond:
            shown = "; ".join(f"{what} reads {_days(seconds)}" for what, seconds in beyond[:4])
            more = f" (and {len(beyond) - 4} more)" if len(beyond) > 4 else ""
            yield (f"{stack.name}: Prometheus keeps {_days(retention)} of metrics, but {shown}{more}: those results silently cover "
                   f"only {_days(retention)}. Keep at least {_days(beyond[0][1])} (golive:monitoring.retention) or shorten the windows."), stack.urn


retention_covers_rule_windows = stack_policy(
    name="monitoring-retention-covers-rule-windows",
    description="Prometheus keeps at least as long as any rule or dashboard query reads back (the 30-day SLIs need 30 days).",
    check=_check_retention_covers_windows,
    types=(t.HELM_RELEASE, t.PROMETHEUS_RULE, t.K8S_CONFIG_MAP),
    severity=Severity.HIGH,
    category="Monitoring & Alerting",
    remediation="Set golive:monitoring.retention to at least the SLO window (30d; 35d leaves room for block boundaries).",
    controls=("well-architected:OPS08-BP01",),
)


# --------------------------------------------------------------------------- Alertmanager


def _matches(matcher: str, labels: dict[str, str]) -> bool:
    m = re.fullmatch(r'\s*([a-zA-Z_]\w*)\s*(!=|=~|!~|=)\s*"?(.*?)"?\s*', matcher)
    if not m:
        return False
    name, op, value = m.groups()
    actual = labels.get(name, "")
    if op in ("=", "!="):
        return (actual == value) == (op == "=")
    return bool(re.fullmatch(value, actual)) == (op == "=~")


def _route_receivers(route: dict, labels: dict[str, str]) -> list[str]:
    """Receivers Alertmanager picks for ``labels`` (matchers and match/match_re, continue, nesting)."""

    def route_matches(r: dict) -> bool:
        matchers = list(r.get("matchers") or [])
        matchers += [f'{k}="{v}"' for k, v in (r.get("match") or {}).items()]
        matchers += [f'{k}=~"{v}"' for k, v in (r.get("match_re") or {}).items()]
        return all(_matches(m, labels) for m in matchers)

    def walk(r: dict) -> list[str]:
        found: list[str] = []
        for child in r.get("routes") or []:
            if route_matches(child):
                found += walk(child)
                if not child.get("continue"):
                    break
        return found or ([r["receiver"]] if r.get("receiver") else [])

    return walk(route)


def _check_critical_receiver(args, cfg):
    if not _is_stack(args):
        return
    config = as_json(get(_values(args), "alertmanager.config")) or {}
    receivers = {r.get("name"): r for r in config.get("receivers") or []}
    probes = [("a severity=critical alert", {"severity": "critical", "alertname": "PolicyProbe", "service": "any"})]
    probes += [(f"a priority={p} alert", {"severity": "warning", "priority": p, "alertname": "PolicyProbe", "service": "any"})
               for p in cfg["pagingPriorities"]]
    for what, labels in probes:
        reached = _route_receivers(config.get("route") or {}, labels)
        notifying = [name for name in reached if any(receivers.get(name, {}).get(k) for k in NOTIFIER_KEYS)]
        if not notifying:
            yield (f"{args.name}: {what} reaches {', '.join(reached) or 'no receiver'}, none of which notifies anyone; "
                   "route it to a paging receiver.")
        elif cfg["requirePager"] and not any(receivers[n].get(k) for n in notifying for k in cfg["pagerKeys"]):
            yield f"{args.name}: {what} reaches {', '.join(notifying)} but no pager ({', '.join(cfg['pagerKeys'])})."


alertmanager_critical_receiver = resource_policy(
    name="monitoring-alertmanager-critical-receiver",
    description="Alertmanager routes severity=critical alerts, and alerts of a paging priority (P1, P2), to a receiver that pages.",
    types=(t.HELM_RELEASE,),
    check=_check_critical_receiver,
    severity=Severity.HIGH,
    category="Monitoring & Alerting",
    remediation="Keep the paging routes of components/monitoring/alertmanager.py (PagerDuty and Slack, by priority and by severity).",
    controls=("well-architected:OPS10-BP02",),
    defaults={"requirePager": True, "pagerKeys": ("pagerduty_configs", "opsgenie_configs", "victorops_configs"),
              "pagingPriorities": PAGING_PRIORITIES},
)


def _plain_secrets(node, path: str):
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if key in PLAIN_SECRET_KEYS and value:
                yield here
            else:
                yield from _plain_secrets(value, here)
    elif is_sequence(node):
        for i, value in enumerate(node):
            yield from _plain_secrets(value, f"{path}[{i}]")


def _check_secrets_in_files(args, cfg):
    if not _is_stack(args):
        return
    config = as_json(get(_values(args), "alertmanager.config")) or {}
    for where in _plain_secrets(config, "alertmanager.config"):
        yield (f"{args.name}: {where} puts a receiver secret in Helm values (stored in clear in the release); "
               "use its *_file form with a mounted Secret (alertmanagerSpec.secrets).")


alertmanager_secrets_in_files = resource_policy(
    name="monitoring-alertmanager-secrets-in-files",
    description="Alertmanager receiver keys are read from mounted secret files, never written in Helm values.",
    types=(t.HELM_RELEASE,),
    check=_check_secrets_in_files,
    severity=Severity.HIGH,
    category="Security",
    remediation="Write keys into the alertmanager-receivers Secret and reference routing_key_file / api_url_file / auth_password_file.",
    controls=("cis-k8s:5.4.1",),
)


# --------------------------------------------------------------------------- OpenSearch


declare_reference((t.OPENSEARCH_DOMAIN,), "encryptAtRest.kmsKeyId", KMS_KEY_TYPES)


def _check_opensearch_encrypted(args, cfg):
    if not get(args.props, "encryptAtRest.enabled"):
        yield f"OpenSearch domain {args.name} does not encrypt data at rest."
    elif problem := customer_managed_key(args.props, "encryptAtRest.kmsKeyId"):
        yield f"OpenSearch domain {args.name} is not encrypted at rest with a customer-managed KMS key: it {problem}."
    if not get(args.props, "nodeToNodeEncryption.enabled"):
        yield f"OpenSearch domain {args.name} sends data between nodes unencrypted; enable node-to-node encryption."
    if not get(args.props, "domainEndpointOptions.enforceHttps"):
        yield f"OpenSearch domain {args.name} accepts plain HTTP; set enforce_https."
    policy = get(args.props, "domainEndpointOptions.tlsSecurityPolicy")
    if policy not in cfg["tlsPolicies"]:
        yield f"OpenSearch domain {args.name} allows TLS policy {policy!r}; require one of {', '.join(cfg['tlsPolicies'])} (TLS 1.2+)."


opensearch_encrypted = resource_policy(
    name="monitoring-opensearch-encrypted",
    description="OpenSearch domains encrypt at rest with a CMK and between nodes, and accept HTTPS with TLS 1.2+ only.",
    types=(t.OPENSEARCH_DOMAIN,),
    check=_check_opensearch_encrypted,
    severity=Severity.HIGH,
    category="Security",
    remediation="Keep the Logging component's encrypt_at_rest (kms_key_id), node_to_node_encryption and domain_endpoint_options.",
    controls=("fsbp:Opensearch.1", "fsbp:Opensearch.3", "fsbp:Opensearch.8", "checkov:CKV_AWS_5", "checkov:CKV_AWS_6",
              "checkov:CKV_AWS_83", "checkov:CKV_AWS_228", "checkov:CKV_AWS_247"),
    defaults={"tlsPolicies": ("Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10", "Policy-Min-TLS-1-2-RFC9151-FIPS-2024-08")},
)


def _check_opensearch_private(args, cfg):
    if not get(args.props, "vpcOptions.subnetIds"):
        yield f"OpenSearch domain {args.name} has a public endpoint; place it in the VPC's private subnets (vpc_options)."
    if not get(args.props, "advancedSecurityOptions.enabled"):
        yield f"OpenSearch domain {args.name} has no fine-grained access control."
    elif get(args.props, "advancedSecurityOptions.anonymousAuthEnabled"):
        yield f"OpenSearch domain {args.name} allows anonymous access."
    published = {get(o, "logType") for o in get(args.props, "logPublishingOptions") or [] if get(o, "enabled", True)}
    if "AUDIT_LOGS" not in published:
        yield f"OpenSearch domain {args.name} does not publish audit logs to CloudWatch."


opensearch_private = resource_policy(
    name="monitoring-opensearch-private",
    description="OpenSearch domains live in the VPC, use fine-grained access control without anonymous access, and publish audit logs.",
    types=(t.OPENSEARCH_DOMAIN,),
    check=_check_opensearch_private,
    severity=Severity.HIGH,
    category="Security",
    remediation="Keep the Logging component's vpc_options, advanced_security_options and log_publishing_options.",
    controls=("fsbp:Opensearch.2", "fsbp:Opensearch.5", "fsbp:Opensearch.7", "checkov:CKV_AWS_137", "checkov:CKV_AWS_317"),
)

SERVICE_LABEL = "golive.io/service"


def _service_namespaces(args):
    """Catalog services by name: the namespaces the ServiceCatalog labels with golive.io/service."""
    found = {}
    for namespace in of_type(args, t.K8S_NAMESPACE):
        service = (get(namespace.props, "metadata.labels") or {}).get(SERVICE_LABEL)
        if service:
            found[service] = namespace
    return found


def _check_services_observed(args, cfg):
    scraped = {ns for m in of_type(args, t.SERVICE_MONITOR) for ns in get(m.props, "spec.namespaceSelector.matchNames") or []}
    probed: dict[str, set[str]] = {}
    for probe in of_type(args, t.PROBE):
        service = get(probe.props, "spec.targets.staticConfig.labels.service")
        probed.setdefault(service, set()).add(str(get(probe.props, "spec.module") or ""))
    for service, namespace in sorted(_service_namespaces(args).items()):
        ns_name = get(namespace.props, "metadata.name") or service
        if ns_name not in scraped:
            yield f"service {service}: no ServiceMonitor scrapes namespace {ns_name}; its SLO and alert rules would see no data.", namespace.urn
        if not any(m.startswith("http") for m in probed.get(service, set())):
            yield f"service {service}: no blackbox HTTP probe checks it from outside; an outage the service cannot report goes unseen.", namespace.urn


services_observed = stack_policy(
    name="monitoring-services-observed",
    description="Every catalog service is scraped by a ServiceMonitor and probed from outside by a blackbox HTTP Probe.",
    check=_check_services_observed,
    types=(t.K8S_NAMESPACE, t.SERVICE_MONITOR, t.PROBE),
    severity=Severity.HIGH,
    category="Monitoring & Alerting",
    remediation="Keep the Monitoring component's per-service ServiceMonitor and Probe objects (built from golive:services).",
)


def _panels(panels):
    for panel in panels or []:
        if panel.get("type") == "row":
            yield from _panels(panel.get("panels"))
        else:
            yield panel


def _check_dashboard(args, cfg):
    if (get(args.props, "metadata.labels") or {}).get("grafana_dashboard") != "1":
        return
    for key, text in (get(args.props, "data") or {}).items():
        dashboard = as_json(text)
        if not isinstance(dashboard, Mapping):
            yield f"dashboard ConfigMap {args.name}: {key} is not JSON; Grafana's sidecar would skip it."
            continue
        if not dashboard.get("uid") or not dashboard.get("title"):
            yield f"dashboard {key} has no uid or title; links and provisioning need both."
        panels = list(_panels(dashboard.get("panels")))
        if not panels:
            yield f"dashboard {key} has no panels: a conceptual dashboard."
        empty = [p.get("title") or "(untitled)" for p in panels if p.get("type") != "text" and not any(
            (target or {}).get("expr") for target in p.get("targets") or [])]
        if empty:
            yield f"dashboard {key}: panel(s) without a query: {', '.join(empty[:5])}."


dashboards_real = resource_policy(
    name="monitoring-dashboards-have-queries",
    description="Every provisioned Grafana dashboard is valid JSON with a uid, a title and panels that each run a query.",
    types=(t.K8S_CONFIG_MAP,),
    check=_check_dashboard,
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Build dashboards with components/monitoring/dashboards.py (grafana-foundation-sdk); give every panel a PromQL target.",
)

POLICIES = [
    services_observed,
    retention_covers_rule_windows,
    dashboards_real,
    alert_rules_labelled,
    prometheus_retention,
    alertmanager_critical_receiver,
    alertmanager_secrets_in_files,
    opensearch_encrypted,
    opensearch_private,
]
