"""The Alertmanager configuration, generated from config; secrets stay in mounted files.

Routing follows the services' reports and each alert's ``priority`` label (set from the
catalog): P1 and P2 page (PagerDuty, P1 as PagerDuty severity ``critical``, P2 as
``error``) and post to the critical Slack channel; P3 opens a ticket (Slack and e-mail;
SLO tickets in the SLO channel). Alerts without a priority (a chart's own rules) route by
severity as before: critical pages, warning tickets. Alerts group by alert name and
service; paging ones repeat every 4h, others every 24h. A critical alert silences the
warning of the same name and service, ``ServiceDown`` silences everything else of its
service, and a paging SLO alert silences the tickets of the same SLO. The always-firing
Watchdog goes to an external dead man's switch that pages when it stops arriving.

No secret is written here: the PagerDuty routing key, the Slack webhook URL and
the SMTP password are files of a Kubernetes Secret the operator mounts under
``/etc/alertmanager/secrets/<secret>/`` (``alertmanagerSpec.secrets``).
"""

from __future__ import annotations

import re

from components.config import PAGING_PRIORITIES, AlertingConfig

SECRET_MOUNT = "/etc/alertmanager/secrets"
PAGERDUTY_KEY = "pagerduty-routing-key"
SLACK_KEY = "slack-webhook-url"
SMTP_KEY = "smtp-password"

# Receiver names: what `amtool config routes test` prints.
PAGERDUTY = "pagerduty-critical"
SLACK_CRITICAL = "slack-critical"
SLACK_WARNING = "slack-warning"
EMAIL_WARNING = "email-warning"
SLACK_TICKETS = "slack-slo-tickets"
EMAIL_TICKETS = "email-slo-tickets"
WATCHDOG = "watchdog"
PAGING = f'priority=~"{"|".join(PAGING_PRIORITIES)}"'
TICKET = 'priority="P3"'

_SLACK_TITLE = '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.service }})'
_SLACK_TEXT = (
    "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n"
    "Runbook: {{ .Annotations.runbook_url }}\n{{ end }}"
)


def secret_path(secret_name: str, key: str) -> str:
    return f"{SECRET_MOUNT}/{secret_name}/{key}"


def _slack(channel: str, secret_name: str) -> dict:
    return {
        "slack_configs": [
            {
                "api_url_file": secret_path(secret_name, SLACK_KEY),
                "channel": channel,
                "send_resolved": True,
                "title": _SLACK_TITLE,
                "text": _SLACK_TEXT,
            }
        ]
    }


def _email(to: str) -> dict:
    return {"email_configs": [{"to": to, "send_resolved": True}]}


def _route(receiver: str, matcher: str, *, repeat: str, cont: bool = False, **extra: object) -> dict:
    route: dict = {"receiver": receiver, "matchers": [matcher], "repeat_interval": repeat}
    route.update(extra)
    if cont:
        route["continue"] = True
    return route


def alertmanager_config(cfg: AlertingConfig, secret_name: str) -> dict:
    """The ``alertmanager.yaml`` document; receiver secrets are read from ``secret_name``'s mounted files."""
    watchdog: dict = {"name": WATCHDOG}
    if cfg.dead_mans_switch_url:
        watchdog["webhook_configs"] = [{"url": cfg.dead_mans_switch_url, "send_resolved": False}]
    critical, other = cfg.repeat_interval_critical, cfg.repeat_interval
    return {
        "global": {
            "resolve_timeout": "5m",
            "smtp_smarthost": cfg.smtp_smarthost,
            "smtp_from": cfg.email_from,
            "smtp_auth_username": cfg.smtp_username,
            "smtp_auth_password_file": secret_path(secret_name, SMTP_KEY),
            "smtp_require_tls": True,
        },
        "route": {
            "receiver": SLACK_WARNING,
            "group_by": ["alertname", "service"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": other,
            "routes": [
                _route(WATCHDOG, 'alertname="Watchdog"', repeat="1m", group_wait="0s", group_interval="1m"),
                # By priority (every golive rule has one): P1/P2 page, P3 tickets.
                _route(PAGERDUTY, PAGING, repeat=critical, cont=True),
                _route(SLACK_CRITICAL, PAGING, repeat=critical),
                _route(SLACK_TICKETS, 'slo_severity="ticket"', repeat=other, cont=True, group_by=["alertname", "service", "slo"]),
                _route(EMAIL_TICKETS, 'slo_severity="ticket"', repeat=other, group_by=["alertname", "service", "slo"]),
                _route(SLACK_WARNING, TICKET, repeat=other, cont=True),
                _route(EMAIL_WARNING, TICKET, repeat=other),
                # Without a priority, by severity.
                _route(PAGERDUTY, 'severity="critical"', repeat=critical, cont=True),
                _route(SLACK_CRITICAL, 'severity="critical"', repeat=critical),
                _route(SLACK_WARNING, 'severity="warning"', repeat=other, cont=True),
                _route(EMAIL_WARNING, 'severity="warning"', repeat=other),
            ],
        },
        "inhibit_rules": [
            {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'], "equal": ["alertname", "service"]},
            {"source_matchers": ['alertname="ServiceDown"'], "target_matchers": ['alertname!="ServiceDown"'], "equal": ["service"]},
            {"source_matchers": ['slo_severity="page"'], "target_matchers": ['slo_severity="ticket"'], "equal": ["service", "slo"]},
        ],
        "receivers": [
            {
                "name": PAGERDUTY,
                "pagerduty_configs": [
                    {
                        "routing_key_file": secret_path(secret_name, PAGERDUTY_KEY),
                        "send_resolved": True,
                        "severity": '{{ if eq .CommonLabels.priority "P2" }}error{{ else }}critical{{ end }}',
                        "description": "{{ .CommonLabels.alertname }} ({{ .CommonLabels.service }}): {{ .CommonAnnotations.summary }}",
                        "details": {
                            "description": "{{ .CommonAnnotations.description }}",
                            "runbook": "{{ .CommonAnnotations.runbook_url }}",
                            "firing": "{{ .Alerts.Firing | len }}",
                        },
                    }
                ],
            },
            {"name": SLACK_CRITICAL, **_slack(cfg.slack_channel_critical, secret_name)},
            {"name": SLACK_WARNING, **_slack(cfg.slack_channel_warning, secret_name)},
            {"name": EMAIL_WARNING, **_email(cfg.email_to)},
            {"name": SLACK_TICKETS, **_slack(cfg.slack_channel_slo, secret_name)},
            {"name": EMAIL_TICKETS, **_email(cfg.email_to)},
            watchdog,
        ],
    }


def receivers_for(config: dict, labels: dict[str, str]) -> list[str]:
    """The receivers an alert with ``labels`` reaches (the subset of Alertmanager's routing golive uses).

    Matchers are ``name="value"``, ``name!="value"`` or ``name=~"regex"``; ``continue`` goes on to the next sibling.
    """

    def matches(matcher: str) -> bool:
        m = re.fullmatch(r'\s*(\w+)\s*(=~|!=|=)\s*"(.*)"\s*', matcher)
        if not m:
            raise ValueError(f"unsupported matcher {matcher!r}")
        name, op, value = m.groups()
        actual = labels.get(name, "")
        if op == "=~":
            return re.fullmatch(value, actual) is not None
        return (actual == value) != (op == "!=")

    found: list[str] = []
    for route in config["route"].get("routes", []):
        if all(matches(m) for m in route.get("matchers", [])):
            found.append(route["receiver"])
            if not route.get("continue"):
                break
    return found or [config["route"]["receiver"]]
