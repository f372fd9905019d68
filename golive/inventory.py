"""Facts the readiness report derives from a synth document (nothing typed by hand).

- what exists (counts by kind),
- what is encrypted with which customer-managed key,
- what is protected from deletion,
- which data stores AWS Backup covers,
- how much monitoring the stack declares (alerts, recording rules, dashboards, panels).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .engine import SynthResult

KMS_KEY = "aws:kms/key:Key"
RDS_INSTANCE = "aws:rds/instance:Instance"
BACKUP_SELECTION = "aws:backup/selection:Selection"
CUSTOM_RESOURCE_PREFIX = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def kind_of(type_token: str) -> str:
    """``aws:ec2/vpc:Vpc`` -> ``ec2 Vpc``; ``kubernetes:core/v1:Namespace`` -> ``k8s Namespace``."""
    provider, module, name = (type_token.split(":") + ["", ""])[:3]
    if provider == "kubernetes":
        return f"k8s {name}"
    if provider in ("golive", "pulumi"):
        return f"{provider} {name}"
    return f"{module.split('/')[0]} {name}"


def inventory(synth: SynthResult) -> list[tuple[str, int]]:
    counts = Counter(kind_of(r["type"]) for r in synth.resources if r["custom"])
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _key_label(synth: SynthResult, key_urn: str) -> str:
    """A key is named after its EncryptionKey component when it has one."""
    by_urn = synth.by_urn()
    key = by_urn[key_urn]
    parent = by_urn.get(key["parent"] or "")
    return parent["name"] if parent and parent["type"] == "golive:security:EncryptionKey" else key["name"]


def encryption(synth: SynthResult) -> dict[str, list[str]]:
    """Customer-managed key → the resources whose inputs reference it (by property dependency)."""
    keys = {r["urn"] for r in synth.resources if r["type"] == KMS_KEY}
    users: dict[str, set[str]] = {}
    for r in synth.resources:
        if r["type"] in (KMS_KEY, "aws:kms/alias:Alias") or not r["custom"]:
            continue
        for urns in r.get("propertyDependencies", {}).values():
            for urn in urns:
                if urn in keys:
                    users.setdefault(_key_label(synth, urn), set()).add(f"{kind_of(r['type'])} {r['name']}")
    return {k: sorted(v) for k, v in sorted(users.items())}


def protection(synth: SynthResult) -> list[tuple[str, str, bool, bool]]:
    """(kind, name, protect, retainOnDelete) of every resource with either option."""
    rows = []
    for r in synth.resources:
        opts = r["options"]
        if opts["protect"] or opts["retainOnDelete"]:
            rows.append((kind_of(r["type"]), r["name"], opts["protect"], opts["retainOnDelete"]))
    return sorted(rows)


@dataclass
class BackupCoverage:
    covered: list[str] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)


def _tags(record: dict[str, Any]) -> dict[str, str]:
    return record["inputs"].get("tags") or {}


def backup_coverage(synth: SynthResult) -> BackupCoverage:
    """RDS instances and resources tagged ``backup=true``, split by whether a selection covers them."""
    selections = synth.of_type(BACKUP_SELECTION)
    tag_pairs: set[tuple[str, str]] = set()
    arns: set[str] = set()
    for sel in selections:
        for cond in sel["inputs"].get("selectionTags") or []:
            if str(cond.get("type", "STRINGEQUALS")).upper() == "STRINGEQUALS":
                tag_pairs.add((cond.get("key"), str(cond.get("value"))))
        arns.update(sel["inputs"].get("resources") or [])
    coverage = BackupCoverage()
    for r in synth.resources:
        tags = _tags(r) if isinstance(r["inputs"].get("tags"), dict) else {}
        if r["type"] != RDS_INSTANCE and tags.get("backup") != "true":
            continue
        label = f"{kind_of(r['type'])} {r['name']}"
        covered = any(tags.get(k) == v for k, v in tag_pairs) or r["inputs"].get("arn") in arns
        (coverage.covered if covered else coverage.uncovered).append(label)
    return coverage


@dataclass
class MonitoringCounts:
    alerts: int = 0
    recording_rules: int = 0
    rule_objects: int = 0
    dashboards: int = 0
    panels: int = 0


def _panel_count(dashboard: dict[str, Any]) -> int:
    total = 0
    for panel in dashboard.get("panels") or []:
        total += 1 if panel.get("type") != "row" else 0
        total += _panel_count(panel) if panel.get("panels") else 0
    return total


def monitoring(synth: SynthResult) -> MonitoringCounts:
    counts = MonitoringCounts()
    for r in synth.resources:
        if r["type"].startswith(CUSTOM_RESOURCE_PREFIX) or (
            r["type"].startswith("kubernetes:") and r["inputs"].get("kind") == "PrometheusRule"
        ):
            counts.rule_objects += 1
            for group in (r["inputs"].get("spec") or {}).get("groups") or []:
                for rule in group.get("rules") or []:
                    if "alert" in rule:
                        counts.alerts += 1
                    elif "record" in rule:
                        counts.recording_rules += 1
        elif r["type"] == CONFIG_MAP and ((r["inputs"].get("metadata") or {}).get("labels") or {}).get("grafana_dashboard") == "1":
            for text in (r["inputs"].get("data") or {}).values():
                try:
                    dashboard = json.loads(text)
                except (TypeError, ValueError):
                    continue
                counts.dashboards += 1
                counts.panels += _panel_count(dashboard)
    return counts
