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


# --------------------------------------------------------------------------- operational proof

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_VAULT = "aws:backup/vault:Vault"
RESTORE_PLAN = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
RESTORE_SELECTION = "aws:backup/restoreTestingSelection:RestoreTestingSelection"
PITR_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
FIS_TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
RESTORE_TYPES = {"aws:rds/instance:Instance": "RDS", "aws:rds/cluster:Cluster": "Aurora", "aws:ebs/volume:Volume": "EBS",
                 STORAGE_CLASS: "EBS"}


@dataclass
class DataStore:
    """One backed-up data store: how it is backed up, copied away and restore-tested (each empty when it is not)."""

    label: str
    restore_type: str | None
    backup: str = ""
    copy: str = ""
    restore_test: str = ""
    rto_minutes: int | None = None


@dataclass
class GameDay:
    name: str
    claim: str
    detail: str
    actions: list[str]
    targets: list[str]
    stop_conditions: int
    logged_to: str


def _deps(record: dict[str, Any], prop: str) -> list[str]:
    return (record.get("propertyDependencies") or {}).get(prop, [])


def _region(synth: SynthResult, record: dict[str, Any]) -> str:
    provider = synth.by_urn().get((record.get("provider") or "").rsplit("::", 1)[0])
    return str((provider or {}).get("inputs", {}).get("region") or record["inputs"].get("region") or "")


def _storage_class_tags(record: dict[str, Any]) -> dict[str, str]:
    tags = {}
    for key, value in (record["inputs"].get("parameters") or {}).items():
        if key.startswith("tagSpecification_") and isinstance(value, str) and "=" in value:
            tag, _, tag_value = value.partition("=")
            tags[tag.strip()] = tag_value.strip()
    return tags


def _store_tags(record: dict[str, Any]) -> dict[str, str]:
    return _storage_class_tags(record) if record["type"] == STORAGE_CLASS else (
        _tags(record) if isinstance(record["inputs"].get("tags"), dict) else {})


def _restore_selection_covers(selection: dict[str, Any], store: dict[str, Any]) -> bool:
    inputs = selection["inputs"]
    if inputs.get("protectedResourceType") != RESTORE_TYPES.get(store["type"]):
        return False
    if store["urn"] in _deps(selection, "protectedResourceArns"):
        return True
    if "*" not in (inputs.get("protectedResourceArns") or []):
        return False
    tags = _store_tags(store)
    equals = (inputs.get("protectedResourceConditions") or {}).get("stringEquals") or []
    return all(tags.get(str(c.get("key", "")).removeprefix("aws:ResourceTag/")) == c.get("value") for c in equals)


def data_stores(synth: SynthResult) -> list[DataStore]:
    """Every backed-up data store with its backup plan, cross-region copy and restore-test schedule, from the synth."""
    by_urn = synth.by_urn()
    coverage = backup_coverage(synth)
    plans = synth.of_type(BACKUP_PLAN)
    restore_plans = {p["urn"]: p for p in synth.of_type(RESTORE_PLAN)}
    selections = [s for s in synth.of_type(RESTORE_SELECTION) if set(_deps(s, "restoreTestingPlanName")) & set(restore_plans)]
    replicated = {urn for r in synth.of_type(PITR_REPLICATION) for urn in _deps(r, "sourceDbInstanceArn")}
    stores = []
    for record in synth.resources:
        is_database = record["type"] == RDS_INSTANCE and not record["inputs"].get("replicateSourceDb")
        tagged = record["custom"] and _store_tags(record).get("backup") == "true"
        if not (is_database or tagged):
            continue
        label = (f"EBS volumes of StorageClass `{record['name']}`" if record["type"] == STORAGE_CLASS
                 else f"{kind_of(record['type'])} `{record['name']}`")
        store = DataStore(label=label, restore_type=RESTORE_TYPES.get(record["type"]))
        if record["type"] == STORAGE_CLASS or f"{kind_of(record['type'])} {record['name']}" in coverage.covered:
            rules = [r for p in plans for r in p["inputs"].get("rules") or []]
            store.backup = ", ".join("continuous (point in time)" if r.get("enableContinuousBackup") else
                                     f"{r.get('ruleName')} {r.get('schedule')}" for r in rules)
            vaults = [by_urn[u] for p in plans for u in _deps(p, "rules") if u in by_urn and by_urn[u]["type"] == BACKUP_VAULT]
            away = sorted({f"`{v['name']}` ({_region(synth, v)})" for v in vaults if _region(synth, v) != _region(synth, plans[0])})
            store.copy = ", ".join(away)
            if record["urn"] in replicated:
                dr = [_region(synth, r) for r in synth.of_type(PITR_REPLICATION) if record["urn"] in _deps(r, "sourceDbInstanceArn")]
                store.copy += f"; PITR backups replicated to {', '.join(dr)}"
        for selection in selections:
            if _restore_selection_covers(selection, record):
                plan = next(restore_plans[u] for u in _deps(selection, "restoreTestingPlanName") if u in restore_plans)
                p = plan["inputs"]
                store.restore_test = (f"{p.get('scheduleExpression')} {p.get('scheduleExpressionTimezone', 'UTC')}, newest recovery "
                                      f"point of {p.get('recoveryPointSelection', {}).get('selectionWindowDays')} days, kept "
                                      f"{selection['inputs'].get('validationWindowHours')} h then deleted")
                rto = (p.get("tags") or {}).get("golive:rto-minutes")
                store.rto_minutes = int(rto) if rto and str(rto).isdigit() else None
                break
        stores.append(store)
    return stores


def game_days(synth: SynthResult) -> list[GameDay]:
    """Every FIS experiment template: its claim, actions, targets, stop conditions and where it logs."""
    by_urn = synth.by_urn()
    days = []
    for record in synth.of_type(FIS_TEMPLATE):
        inputs = record["inputs"]
        tags = inputs.get("tags") or {}
        logs = [by_urn[u]["name"] for u in _deps(record, "logConfiguration") if u in by_urn]
        days.append(GameDay(
            name=str(tags.get("golive:game-day") or record["name"]),
            claim=str(tags.get("golive:claim") or ""),
            detail=str(tags.get("golive:claim-detail") or inputs.get("description") or ""),
            actions=sorted({a.get("actionId", "") for a in inputs.get("actions") or []}),
            targets=[f"{t.get('resourceType')} ({'ARN' if t.get('resourceArns') else 'tags ' + ', '.join(x['key'] for x in t.get('resourceTags') or [])})"
                     for t in inputs.get("targets") or []],
            stop_conditions=sum(1 for c in inputs.get("stopConditions") or [] if c.get("source") == "aws:cloudwatch:alarm"),
            logged_to=", ".join(f"`{n}`" for n in logs),
        ))
    return sorted(days, key=lambda d: d.name)
