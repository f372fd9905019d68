"""Operational proof: backups that are restored on a schedule, failures rehearsed within bounds.

- Restore testing (AWS Backup): every backed-up data store of a production stack is in a
  restore-testing selection of a plan, and the role those restores run with is a
  dedicated one holding the AWS-managed restore policy only.
- Game days (AWS FIS): every experiment template stops on a CloudWatch alarm, aims at
  resources named by ARN or by a tag that is not one every resource of the stack carries,
  and logs to an encrypted log group (or a bucket) of the stack.

Joins go through property dependencies, so a first preview decides them while ARNs are unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, Severity

from . import types as t
from ._base import (
    UNKNOWN,
    as_json,
    as_list,
    declare_reference,
    depends_via,
    effective_tags,
    get,
    is_production,
    is_set,
    known_items,
    of_type,
    peek,
    resource_policy,
    stack_policy,
    statements,
)

# AWS Backup's restore-testing resource type of each declared type whose data AWS Backup backs up.
RESTORE_TYPES = {
    "aws:rds/instance:Instance": "RDS",
    "aws:rds/cluster:Cluster": "Aurora",
    t.EBS_VOLUME: "EBS",
    t.K8S_STORAGE_CLASS: "EBS",  # the volumes the EBS CSI driver provisions (and tags) for it
    "aws:ec2/instance:Instance": "EC2",
    "aws:efs/fileSystem:FileSystem": "EFS",
    "aws:dynamodb/table:Table": "DynamoDB",
    "aws:s3/bucket:Bucket": "S3",
    "aws:s3/bucketV2:BucketV2": "S3",
}
_BACKUP_DEFAULTS = {"tagKey": "backup", "tagValue": "true"}

declare_reference((t.RESTORE_TESTING_SELECTION,), "iamRoleArn", (t.IAM_ROLE,))
declare_reference((t.FIS_EXPERIMENT,), "roleArn", (t.IAM_ROLE,))
declare_reference((t.FIS_EXPERIMENT,), "stopConditions", (t.METRIC_ALARM, t.COMPOSITE_ALARM))
declare_reference((t.FIS_EXPERIMENT,), "logConfiguration", (t.LOG_GROUP, *t.S3_BUCKETS))


# --------------------------------------------------------------------------- restore testing


def storage_class_tags(resource: PolicyResource) -> dict[str, str]:
    """The AWS tags the EBS CSI driver puts on a StorageClass's volumes (``tagSpecification_N: key=value``)."""
    tags = {}
    for key, value in known_items(get(resource.props, "parameters") or {}):
        if str(key).startswith("tagSpecification_") and isinstance(value, str) and "=" in value:
            tag, _, tag_value = value.partition("=")
            tags[tag.strip()] = tag_value.strip()
    return tags


def _data_tags(resource: PolicyResource) -> dict[str, str]:
    return storage_class_tags(resource) if resource.resource_type == t.K8S_STORAGE_CLASS else effective_tags(resource)


def backed_up_stores(args: Any, cfg: Mapping[str, Any]) -> list[PolicyResource]:
    """What AWS Backup backs up here: every RDS database that is not a read replica, every resource tagged backup=true."""
    key, value = cfg["tagKey"], cfg["tagValue"]
    stores = []
    for resource in args.resources:
        if resource.resource_type in t.RDS_DATABASES:
            if not get(resource.props, "replicateSourceDb"):
                stores.append(resource)
        elif resource.resource_type.startswith("aws:") or resource.resource_type == t.K8S_STORAGE_CLASS:
            if _data_tags(resource).get(key) == value:
                stores.append(resource)
    return stores


def _selection_covers(selection: PolicyResource, store: PolicyResource, kind: str) -> bool:
    if get(selection.props, "protectedResourceType") != kind:
        return False
    if store.urn in {d.urn for d in depends_via(selection, "protectedResourceArns")}:
        return True
    listed = peek(selection.props, "protectedResourceArns")
    count = len(listed) if listed and listed is not UNKNOWN else 0
    if "*" not in [peek(selection.props, f"protectedResourceArns.{i}") for i in range(count)]:
        return False
    tags = _data_tags(store)
    equals = as_list(get(selection.props, "protectedResourceConditions.stringEquals"))
    not_equals = as_list(get(selection.props, "protectedResourceConditions.stringNotEquals"))

    def tag(condition: Any) -> str:
        return str(get(condition, "key", "")).removeprefix("aws:ResourceTag/")

    return all(tags.get(tag(c)) == get(c, "value") for c in equals) and all(tags.get(tag(c)) != get(c, "value") for c in not_equals)


def _check_restore_tested(args, cfg):
    if not is_production(args):
        return
    plans = {p.urn for p in of_type(args, t.RESTORE_TESTING_PLAN)}
    selections = [s for s in of_type(args, t.RESTORE_TESTING_SELECTION)
                  if {d.urn for d in depends_via(s, "restoreTestingPlanName")} & plans]
    for store in backed_up_stores(args, cfg):
        kind = RESTORE_TYPES.get(store.resource_type)
        label = "the volumes of StorageClass" if store.resource_type == t.K8S_STORAGE_CLASS else store.resource_type.split(":")[-1]
        if kind is None:
            yield (f"{label} {store.name} is backed up but AWS Backup restore testing has no resource type for it; back it up "
                   "another way or prove its restores elsewhere, and accept the risk explicitly."), store.urn
        elif not any(_selection_covers(s, store, kind) for s in selections):
            yield (f"{label} {store.name} is backed up but no restore-testing selection ({kind}) of a restore-testing plan "
                   "restores it: nothing proves its backups restore, nor how long a restore takes."), store.urn


restore_tested = stack_policy(
    name="resilience-restore-tested",
    description=("Every backed-up data store of a production stack (RDS databases, resources and volumes tagged backup=true) is "
                 "restored on a schedule by an AWS Backup restore-testing selection of a plan."),
    check=_check_restore_tested,
    types=(*t.RDS_DATABASES, t.K8S_STORAGE_CLASS, t.RESTORE_TESTING_PLAN, t.RESTORE_TESTING_SELECTION),
    whole_stack=True,  # every resource tagged backup=true, whatever its type
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation=("Declare components.restore_testing.RestoreTesting (golive:restoreTesting): a RestoreTestingSelection per "
                 "resource type, by ARN (the database) or by the backup=true tag condition (volumes)."),
    controls=("well-architected:REL09-BP04",),
    defaults=_BACKUP_DEFAULTS,
)


def _principal_services(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        others = [k for k in principal if k != "Service"]
        return ["<" + ",".join(others) + ">"] if others else [str(s) for s in as_list(principal.get("Service"))]
    return [f"<{principal}>"]


def _trust_problems(role: PolicyResource, service: str) -> list[str]:
    document = peek(role.props, "assumeRolePolicy")
    if document is UNKNOWN:
        return []
    problems = []
    allows = [s for s in statements(as_json(document)) if s.get("Effect") == "Allow"]
    for statement in allows:
        services = _principal_services(statement)
        if any(not s.startswith(f"{service}.") for s in services):
            problems.append(f"it trusts {', '.join(services)} beyond the {service} service")
        condition = statement.get("Condition") or {}
        scoped = any(str(k).lower() in ("aws:sourceaccount", "aws:sourcearn")
                     for op, clause in (condition.items() if isinstance(condition, Mapping) else [])
                     if "not" not in str(op).lower() and isinstance(clause, Mapping) for k in clause)
        if not scoped:
            problems.append(f"its trust has no aws:SourceAccount/aws:SourceArn condition (any account's {service} could use it)")
    return problems


def _check_restore_role(args, cfg):
    allowed = {str(p) for p in cfg["allowedPolicies"]}
    attachments: dict[str, list[PolicyResource]] = {}
    for attachment in of_type(args, t.IAM_ROLE_POLICY_ATTACHMENT):
        for role in depends_via(attachment, "role"):
            attachments.setdefault(role.urn, []).append(attachment)
    inline: dict[str, list[PolicyResource]] = {}
    for policy in of_type(args, t.IAM_ROLE_POLICY):
        for role in depends_via(policy, "role"):
            inline.setdefault(role.urn, []).append(policy)
    backup_roles = {d.urn for s in of_type(args, t.BACKUP_SELECTION) for d in depends_via(s, "iamRoleArn")}
    seen: set[str] = set()
    for selection in of_type(args, t.RESTORE_TESTING_SELECTION):
        roles = [d for d in depends_via(selection, "iamRoleArn") if d.resource_type == t.IAM_ROLE]
        if not roles:
            if is_set(selection.props, "iamRoleArn"):
                yield (f"restore-testing selection {selection.name} runs with a role this stack does not declare: its "
                       "privileges cannot be checked. Declare the role here."), selection.urn
            continue
        for role in roles:
            if role.urn in seen:
                continue
            seen.add(role.urn)
            problems = _trust_problems(role, "backup")
            for attachment in attachments.get(role.urn, []):
                arn = peek(attachment.props, "policyArn")
                name = str(arn).split(":policy/", 1)[-1] if arn is not UNKNOWN else "(a policy of this stack)"
                if arn is UNKNOWN or name not in allowed:
                    problems.append(f"it attaches {name}, beyond {', '.join(sorted(allowed))}")
            for arn in as_list(peek(role.props, "managedPolicyArns") or []):
                problems.append(f"it lists managed policy {arn}")
            if inline.get(role.urn) or as_list(peek(role.props, "inlinePolicies") or []):
                problems.append("it has inline policies (the restore policy covers what restore testing needs)")
            if role.urn in backup_roles:
                problems.append("the backup plan's selections use it too (backup and restore rights in one role)")
            if problems:
                yield (f"role {role.name} of restore testing is not least-privilege: {'; '.join(problems)}."), role.urn


restore_role_least_privilege = stack_policy(
    name="resilience-restore-role-least-privilege",
    description=("Restore testing runs with a role of its own: trusted by AWS Backup of this account only, holding the AWS-managed "
                 "restore policy and nothing else, and not shared with the backup plan."),
    check=_check_restore_role,
    types=(t.RESTORE_TESTING_SELECTION, t.IAM_ROLE, t.IAM_ROLE_POLICY_ATTACHMENT, t.IAM_ROLE_POLICY, t.BACKUP_SELECTION),
    severity=Severity.HIGH,
    category="Security",
    remediation=("Give RestoreTestingSelection.iam_role_arn a dedicated role (backup.amazonaws.com with aws:SourceAccount) with "
                 "only service-role/AWSBackupServiceRolePolicyForRestores attached, as components/restore_testing.py does."),
    controls=("fsbp:IAM.1", "well-architected:SEC03-BP02"),
    defaults={"allowedPolicies": ("service-role/AWSBackupServiceRolePolicyForRestores",)},
)


# --------------------------------------------------------------------------- game days


def _check_stop_conditions(args, cfg):
    conditions = as_list(get(args.props, "stopConditions"))
    alarms = [c for c in conditions if isinstance(c, Mapping) and c.get("source") == "aws:cloudwatch:alarm"]
    if not alarms:
        yield (f"experiment template {args.name} has no CloudWatch alarm among its stop conditions "
               f"({', '.join(str(c.get('source')) for c in conditions if isinstance(c, Mapping)) or 'none'}): once started, "
               "nothing stops it when the platform degrades beyond what the game day may cost.")
    for condition in alarms:
        if not is_set(condition, "value"):
            yield f"experiment template {args.name} has a CloudWatch stop condition without an alarm ARN."


experiment_stop_condition = resource_policy(
    name="resilience-experiment-stop-condition",
    description="Every AWS FIS experiment template stops on at least one CloudWatch alarm (no `none` stop conditions).",
    types=(t.FIS_EXPERIMENT,),
    check=_check_stop_conditions,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation=("Add stop_conditions=[{source: 'aws:cloudwatch:alarm', value: <alarm ARN>}] on the service's 5xx ratio and "
                 "latency and on the data store it impairs (components/game_days.py declares them)."),
    controls=("well-architected:REL12-BP04",),
)


def _check_scoped_targets(args, cfg):
    broad = {str(k) for k in cfg["broadTagKeys"]}
    for target in as_list(get(args.props, "targets")):
        if not isinstance(target, Mapping):
            continue
        name = get(target, "name") or "(unnamed)"
        arns = peek(target, "resourceArns")
        tags = [tag for tag in as_list(peek(target, "resourceTags") or []) if isinstance(tag, Mapping)]
        # An ARN unknown at preview is an output of a resource of this stack: a named resource, not a wildcard.
        named = [peek(target, f"resourceArns.{i}") for i in range(len(arns))] if arns and arns is not UNKNOWN else []
        if arns is UNKNOWN or (named and all(a is UNKNOWN or str(a) != "*" for a in named)):
            continue
        if not tags:
            yield (f"experiment template {args.name}: target {name} names no resource ARN and no tag, so it selects every "
                   f"{get(target, 'resourceType')} of the account and region.")
        elif all(str(get(tag, "key")) in broad for tag in tags):
            keys = ", ".join(sorted(str(get(tag, "key")) for tag in tags))
            yield (f"experiment template {args.name}: target {name} selects by {keys} only, tags every resource of the stack "
                   f"carries: it would hit every {get(target, 'resourceType')} of the platform.")


experiment_scoped_target = resource_policy(
    name="resilience-experiment-scoped-target",
    description=("Every AWS FIS experiment target names its resources by ARN or by a tag that identifies them, never every "
                 "resource of a type (no target without ARNs or tags, none by the stack-wide tags alone)."),
    types=(t.FIS_EXPERIMENT,),
    check=_check_scoped_targets,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Give each target resource_arns, or resource_tags that only its resources carry (plus filters/parameters for a zone).",
    defaults={"broadTagKeys": ("environment", "project", "owner", "cost-center", "managed-by")},
)


def _check_experiment_logging(args, cfg):
    log_groups = {g.urn: g for g in of_type(args, t.LOG_GROUP)}
    buckets = {b.urn for b in of_type(args, *t.S3_BUCKETS)}
    for template in of_type(args, t.FIS_EXPERIMENT):
        config = peek(template.props, "logConfiguration")
        if config is UNKNOWN:
            continue
        to_logs = isinstance(config, Mapping) and is_set(config, "cloudwatchLogsConfiguration.logGroupArn")
        to_s3 = isinstance(config, Mapping) and is_set(config, "s3Configuration.bucketName")
        if not (to_logs or to_s3):
            yield (f"experiment template {template.name} logs nothing (log_configuration): what an experiment did, to which "
                   "resources and when, would not be on record."), template.urn
            continue
        sources = depends_via(template, "logConfiguration")
        groups = [log_groups[d.urn] for d in sources if d.urn in log_groups]
        if to_logs and not groups:
            yield (f"experiment template {template.name} logs to a log group this stack does not declare: its encryption and "
                   "retention cannot be checked."), template.urn
        for group in groups:
            if not is_set(group.props, "kmsKeyId"):
                yield f"experiment template {template.name} logs to log group {group.name}, which is not KMS-encrypted.", template.urn
        if to_s3 and not to_logs and not any(d.urn in buckets for d in sources):
            yield f"experiment template {template.name} logs to a bucket this stack does not declare.", template.urn


experiment_logging = stack_policy(
    name="resilience-experiment-logging",
    description="Every AWS FIS experiment template logs to a KMS-encrypted log group (or a bucket) declared by the stack.",
    check=_check_experiment_logging,
    types=(t.FIS_EXPERIMENT, t.LOG_GROUP, *t.S3_BUCKETS),
    severity=Severity.MEDIUM,
    category="Compliance",
    remediation=("Set log_configuration={log_schema_version: 2, cloudwatch_logs_configuration: {log_group_arn: <group ARN>:*}} "
                 "with a log group that has kms_key_id (components/game_days.py)."),
)


POLICIES = [
    restore_tested,
    restore_role_least_privilege,
    experiment_stop_condition,
    experiment_scoped_target,
    experiment_logging,
]
