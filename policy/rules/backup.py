"""Backup rules: immutable, replicated backup buckets and AWS Backup plans that cover every database.

Backup buckets are the S3 buckets tagged ``purpose=backups`` (primary) or
``purpose=backups-replica`` (DR copy). Regions are compared through each
resource's provider (``PolicyResource.provider.props["region"]``, or the resource's
own ``region`` input), so a "DR" copy that lands in the primary region fails.
``retain_on_delete`` is not visible to CrossGuard (its resource options carry
``protect`` only); the component tests assert it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, Severity

from . import types as t
from ._base import (
    KMS_KEY_TYPES,
    as_list,
    customer_managed_key,
    declare_reference,
    depends_via,
    effective_tags,
    get,
    is_production,
    of_type,
    resource_policy,
    stack_policy,
)
from .s3 import attached, region_of, tags_of

_BUCKET_DEFAULTS = {"purposeTag": "purpose", "backupPurposes": ("backups", "backups-replica")}


def _backup_buckets(args: Any, cfg: Mapping[str, Any], key: str = "backupPurposes") -> list[PolicyResource]:
    return [b for b in of_type(args, *t.S3_BUCKETS) if tags_of(b).get(cfg["purposeTag"]) in cfg[key]]


# --------------------------------------------------------------------------- backup buckets


def _default_retention(bucket: PolicyResource, locks: list[PolicyResource]) -> list[Mapping[str, Any]]:
    found = [get(lock.props, "rule.defaultRetention") for lock in locks]
    inline = get(bucket.props, "objectLockConfiguration.rule.defaultRetention")
    return [r for r in [*found, inline] if isinstance(r, Mapping)]


def _check_object_lock(args, cfg):
    locks = attached(args, t.S3_OBJECT_LOCKS)
    for bucket in _backup_buckets(args, cfg):
        if get(bucket.props, "objectLockEnabled") is not True and get(bucket.props, "objectLockConfiguration.objectLockEnabled") != "Enabled":
            yield (f"backup bucket {bucket.name} is created without Object Lock (object_lock_enabled=True); it can only be "
                   "turned on at creation.", bucket.urn)
            continue
        retentions = _default_retention(bucket, locks.get(bucket.urn, []))
        if not retentions:
            yield (f"backup bucket {bucket.name} has no Object Lock default retention; new backups would not be locked.", bucket.urn)
            continue
        for retention in retentions:
            mode = get(retention, "mode")
            days = int(get(retention, "days", 0) or 0) + 365 * int(get(retention, "years", 0) or 0)
            if mode not in ("GOVERNANCE", "COMPLIANCE"):
                yield f"backup bucket {bucket.name}: Object Lock mode {mode!r} is not GOVERNANCE or COMPLIANCE.", bucket.urn
            if days < cfg["minRetentionDays"]:
                yield (f"backup bucket {bucket.name} locks new versions {days} day(s); lock them at least "
                       f"{cfg['minRetentionDays']} so an attack is noticed before backups can be deleted.", bucket.urn)


object_lock = stack_policy(
    name="backup-bucket-object-lock",
    description="Backup buckets have S3 Object Lock on with a default retention (GOVERNANCE or COMPLIANCE) of at least a week.",
    types=(*t.S3_BUCKETS, *t.S3_OBJECT_LOCKS),
    check=_check_object_lock,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation=("Create the bucket with object_lock_enabled=True and declare aws.s3.BucketObjectLockConfiguration with "
                 "rule.default_retention (mode from golive:backup.objectLockMode, days from objectLockDays)."),
    controls=("fsbp:S3.15",),
    defaults={**_BUCKET_DEFAULTS, "minRetentionDays": 7},
)


def _check_lifecycle(args, cfg):
    lifecycles = attached(args, t.S3_LIFECYCLES)
    for bucket in _backup_buckets(args, cfg):
        rules = [r for lc in lifecycles.get(bucket.urn, []) for r in as_list(get(lc.props, "rules"))
                 if isinstance(r, Mapping) and r.get("status") == "Enabled"]
        if not rules:
            yield f"backup bucket {bucket.name} has no enabled lifecycle rule; old versions and uploads pile up forever.", bucket.urn
            continue
        missing = []
        if not any(as_list(r.get("transitions")) for r in rules):
            missing.append("a transition to a colder storage class")
        expiries = [get(r, "noncurrentVersionExpiration") for r in rules if get(r, "noncurrentVersionExpiration.noncurrentDays")]
        if not expiries:
            missing.append("an expiry of noncurrent versions")
        elif max(int(get(e, "newerNoncurrentVersions", 0) or 0) for e in expiries) < cfg["minNoncurrentVersions"]:
            missing.append(f"at least {cfg['minNoncurrentVersions']} noncurrent versions kept (newer_noncurrent_versions)")
        if not any(get(r, "abortIncompleteMultipartUpload.daysAfterInitiation") for r in rules):
            missing.append("an abort of incomplete multipart uploads")
        if missing:
            yield f"backup bucket {bucket.name}: its lifecycle lacks {', '.join(missing)}.", bucket.urn


lifecycle = stack_policy(
    name="backup-bucket-lifecycle",
    description=("Backup buckets have a lifecycle: transitions to colder storage, the newest noncurrent versions kept and "
                 "older ones expired, incomplete multipart uploads aborted."),
    types=(*t.S3_BUCKETS, *t.S3_LIFECYCLES),
    check=_check_lifecycle,
    severity=Severity.MEDIUM,
    category="DR & Business Continuity",
    remediation="Declare aws.s3.BucketLifecycleConfiguration as components/backup.py does (values from golive:backup).",
    defaults={**_BUCKET_DEFAULTS, "minNoncurrentVersions": 30},
)


def _check_replicated(args, cfg):
    replications = attached(args, (t.S3_REPLICATION,))
    for bucket in _backup_buckets(args, cfg, "replicatedPurposes"):
        enabled = [r for r in replications.get(bucket.urn, [])
                   if any(get(rule, "status") == "Enabled" for rule in as_list(get(r.props, "rules")) if isinstance(rule, Mapping))]
        if not enabled:
            yield (f"backup bucket {bucket.name} is not replicated: a loss of its region ({region_of(bucket) or 'unknown'}) "
                   "loses every backup in it.", bucket.urn)
            continue
        source = region_of(bucket)
        destinations = [d for r in enabled for d in depends_via(r, "rules") if d.resource_type in t.S3_BUCKETS]
        if not destinations:
            yield f"backup bucket {bucket.name}: its replication names no bucket of this stack as destination.", bucket.urn
            continue
        for dest in destinations:
            target = region_of(dest)
            if source is None or target is None:
                yield (f"backup bucket {bucket.name}: cannot tell the region of {bucket.name if source is None else dest.name}; "
                       "give its provider an explicit region.", bucket.urn)
            elif target == source:
                yield (f"backup bucket {bucket.name} replicates to {dest.name} in the same region ({source}); the replica "
                       "must be in the DR region.", bucket.urn)


replicated_cross_region = stack_policy(
    name="backup-bucket-cross-region-replication",
    description="Primary backup buckets replicate to a bucket in another region (compared through the two providers' regions).",
    types=(*t.S3_BUCKETS, t.S3_REPLICATION),
    check=_check_replicated,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation=("Declare aws.s3.BucketReplicationConfig from the backup bucket to the replica bucket created with the DR "
                 "provider (golive:dr.region, which must differ from golive:region)."),
    defaults={**_BUCKET_DEFAULTS, "replicatedPurposes": ("backups",)},
)


def _check_replication_settings(args, cfg):
    backups = {b.urn for b in _backup_buckets(args, cfg)}
    for config in of_type(args, t.S3_REPLICATION):
        if not {d.urn for d in depends_via(config, "bucket")} & backups:
            continue
        key_deps = any(d.resource_type == t.KMS_KEY for d in depends_via(config, "rules"))
        for rule in as_list(get(config.props, "rules")):
            if not isinstance(rule, Mapping) or rule.get("status") != "Enabled":
                continue
            label = f"replication rule {rule.get('id') or '(unnamed)'} of {config.name}"
            if get(rule, "deleteMarkerReplication.status") == "Enabled":
                yield f"{label} replicates delete markers: a delete in the primary would hide the DR copy too.", config.urn
            minutes = get(rule, "destination.replicationTime.time.minutes")
            if get(rule, "destination.replicationTime.status") != "Enabled" or not minutes or minutes > cfg["maxReplicationMinutes"]:
                yield (f"{label} has no Replication Time Control of {cfg['maxReplicationMinutes']} minutes; the RPO of "
                       "replicated backups is then unbounded.", config.urn)
            if get(rule, "destination.metrics.status") != "Enabled":
                yield f"{label} publishes no replication metrics; a replication backlog would go unnoticed.", config.urn
            if get(rule, "sourceSelectionCriteria.sseKmsEncryptedObjects.status") != "Enabled":
                yield f"{label} skips SSE-KMS objects (source_selection_criteria.sse_kms_encrypted_objects).", config.urn
            if customer_managed_key(rule, "destination.encryptionConfiguration.replicaKmsKeyId") and not key_deps:
                yield f"{label} does not encrypt replicas with a KMS key of the DR region (replica_kms_key_id).", config.urn


replication_settings = stack_policy(
    name="backup-bucket-replication-settings",
    description=("Backup replication keeps deletes local, meets the RPO with Replication Time Control (15 minutes) and "
                 "metrics, and re-encrypts replicas with a KMS key of the DR region."),
    types=(*t.S3_BUCKETS, t.S3_REPLICATION),
    check=_check_replication_settings,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation=("In each rule: delete_marker_replication Disabled, destination.replication_time {Enabled, 15}, destination.metrics "
                 "Enabled, source_selection_criteria.sse_kms_encrypted_objects Enabled, encryption_configuration.replica_kms_key_id."),
    defaults={**_BUCKET_DEFAULTS, "maxReplicationMinutes": 15},
)


def _check_protected(args, cfg):
    if args.resource_type in t.S3_BUCKETS and tags_of(args).get(cfg["purposeTag"]) not in cfg["backupPurposes"]:
        return
    kind = "backup vault" if args.resource_type == t.BACKUP_VAULT else "backup bucket"
    if not args.opts.protect:
        yield f"{kind} {args.name} is not protected; set protect=True (and retain_on_delete=True) so no destroy removes it."
    if get(args.props, "forceDestroy") is True:
        yield f"{kind} {args.name} has force_destroy on: deleting it would first delete every backup in it."


protected = resource_policy(
    name="backup-storage-protected",
    description="Backup buckets and vaults are protected and never force-destroyed (retain_on_delete is asserted by tests).",
    types=(*t.S3_BUCKETS, t.BACKUP_VAULT),
    check=_check_protected,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Create them with opts=ResourceOptions(protect=True, retain_on_delete=True) and force_destroy=False.",
    defaults=_BUCKET_DEFAULTS,
)


# --------------------------------------------------------------------------- AWS Backup vaults


declare_reference((t.BACKUP_VAULT,), "kmsKeyArn", KMS_KEY_TYPES)


def _check_vault_cmk(args, cfg):
    for vault in of_type(args, t.BACKUP_VAULT):
        keys = [d for d in depends_via(vault, "kmsKeyArn") if d.resource_type == t.KMS_KEY]
        if not keys and customer_managed_key(vault.props, "kmsKeyArn"):
            yield (f"backup vault {vault.name} is encrypted with the AWS-managed key; use a customer-managed key of its "
                   "region (kms_key_arn).", vault.urn)
            continue
        for key in keys:
            if region_of(key) and region_of(vault) and region_of(key) != region_of(vault):
                yield (f"backup vault {vault.name} ({region_of(vault)}) uses KMS key {key.name} of {region_of(key)}; a vault "
                       "needs a key of its own region.", vault.urn)


vault_cmk = stack_policy(
    name="backup-vault-cmk",
    description="AWS Backup vaults are encrypted with a customer-managed KMS key of their own region.",
    types=(t.BACKUP_VAULT,),
    check=_check_vault_cmk,
    severity=Severity.HIGH,
    category="Security",
    remediation="Pass kms_key_arn=EncryptionKey(...).arn, the key created through the same provider as the vault.",
    controls=("checkov:CKV_AWS_166",),
)


def _check_vault_locked(args, cfg):
    locks = attached(args, (t.BACKUP_VAULT_LOCK,), prop="backupVaultName")
    for vault in of_type(args, t.BACKUP_VAULT):
        found = locks.get(vault.urn, [])
        if not found:
            yield (f"backup vault {vault.name} has no Vault Lock: anyone with backup:DeleteRecoveryPoint can delete its "
                   "recovery points.", vault.urn)
            continue
        low = max(int(get(lock.props, "minRetentionDays", 0) or 0) for lock in found)
        if low < cfg["minRetentionDays"]:
            yield (f"backup vault {vault.name}: Vault Lock minimum retention is {low} day(s); keep at least "
                   f"{cfg['minRetentionDays']}.", vault.urn)
        if not any(get(lock.props, "maxRetentionDays") for lock in found):
            yield f"backup vault {vault.name}: Vault Lock has no maximum retention.", vault.urn


vault_locked = stack_policy(
    name="backup-vault-locked",
    description="AWS Backup vaults are locked (Vault Lock with a minimum of at least a week and a maximum retention).",
    types=(t.BACKUP_VAULT, t.BACKUP_VAULT_LOCK),
    check=_check_vault_locked,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Declare aws.backup.VaultLockConfiguration(backup_vault_name=vault.name, min_retention_days=..., max_retention_days=...).",
    defaults={"minRetentionDays": 7},
)


# --------------------------------------------------------------------------- AWS Backup plans


def _check_plan_retention(args, cfg):
    if not is_production(args):
        return
    minimum = cfg["minRetentionDays"]
    for rule in as_list(get(args.props, "rules")):
        if not isinstance(rule, Mapping):
            continue
        name = rule.get("ruleName", "(unnamed)")
        days = get(rule, "lifecycle.deleteAfter")
        if days is not None and int(days) < minimum:
            yield f"backup plan {args.name}: rule {name} keeps recovery points {days} day(s); production keeps at least {minimum}."
        for copy in as_list(rule.get("copyActions")):
            copy_days = get(copy, "lifecycle.deleteAfter")
            if copy_days is not None and int(copy_days) < minimum:
                yield (f"backup plan {args.name}: rule {name} keeps its DR copies {copy_days} day(s); production keeps at "
                       f"least {minimum}.")


plan_retention = resource_policy(
    name="backup-plan-retention",
    description="In production every backup plan rule, and each of its copies, keeps recovery points at least 30 days.",
    types=(t.BACKUP_PLAN,),
    check=_check_plan_retention,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Raise golive:backup.retentionDays / drCopyRetentionDays (the config refuses less than 30 in production).",
    defaults={"minRetentionDays": 30},
)


def _check_plan_copies(args, cfg):
    plans = of_type(args, t.BACKUP_PLAN)
    if not plans and is_production(args):
        yield "the stack declares no AWS Backup plan: nothing is backed up or copied to the DR region.", None
    for plan in plans:
        rules = [r for r in as_list(get(plan.props, "rules")) if isinstance(r, Mapping)]
        without = [r.get("ruleName", "(unnamed)") for r in rules if not as_list(r.get("copyActions"))]
        if without:
            yield f"backup plan {plan.name}: rule(s) {', '.join(without)} copy nothing to another region.", plan.urn
            continue
        home = region_of(plan)
        vaults = [d for d in depends_via(plan, "rules") if d.resource_type == t.BACKUP_VAULT]
        elsewhere = [v for v in vaults if region_of(v) and home and region_of(v) != home]
        if not elsewhere:
            yield (f"backup plan {plan.name} copies to no vault outside its region ({home or 'unknown'}); the copy "
                   "destination must be the DR vault.", plan.urn)


plan_cross_region_copy = stack_policy(
    name="backup-plan-cross-region-copy",
    description="Every backup plan rule copies its recovery points to a vault in another region (compared through providers).",
    types=(t.BACKUP_PLAN,),
    check=_check_plan_copies,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Give each rule copy_actions=[{destination_vault_arn: <DR vault ARN>, lifecycle: {...}}] with the DR vault from the DR provider.",
)


def _selection_matches(selection: PolicyResource, resource: PolicyResource, tags: Mapping[str, str]) -> bool:
    if resource.urn in {d.urn for d in depends_via(selection, "notResources")}:
        return False
    if resource.urn in {d.urn for d in depends_via(selection, "resources")}:
        return True
    for tag in as_list(get(selection.props, "selectionTags")):
        if get(tag, "type", "STRINGEQUALS") == "STRINGEQUALS" and tags.get(get(tag, "key")) == get(tag, "value"):
            return True
    resources = [str(r) for r in as_list(get(selection.props, "resources"))]
    equals = [c for cond in as_list(get(selection.props, "conditions")) for c in as_list(get(cond, "stringEquals"))]
    if "*" in resources:
        return all(tags.get(str(get(c, "key", "")).removeprefix("aws:ResourceTag/")) == get(c, "value") for c in equals)
    return False


def _check_coverage(args, cfg):
    plans = {p.urn for p in of_type(args, t.BACKUP_PLAN)}
    selections = [s for s in of_type(args, t.BACKUP_SELECTION) if {d.urn for d in depends_via(s, "planId")} & plans]
    key, value = cfg["tagKey"], cfg["tagValue"]
    for resource in args.resources:
        if not resource.resource_type.startswith("aws:"):
            continue
        tags = effective_tags(resource)
        is_database = resource.resource_type in t.RDS_DATABASES
        if not is_database and tags.get(key) != value:
            continue
        if any(_selection_matches(s, resource, tags) for s in selections):
            continue
        why = "RDS database" if is_database else f"resource tagged {key}={value}"
        yield (f"{why} {resource.name} is in no AWS Backup selection of a plan (tag it {key}={value}, the plan's selection).",
               resource.urn)


selection_coverage = stack_policy(
    name="backup-selection-coverage",
    description="Every RDS instance/cluster and every resource tagged backup=true is covered by a selection of a backup plan.",
    check=_check_coverage,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Tag the resource backup=true (the plan's tag selection picks it up), or add it to a Selection's resources.",
    types=(*t.RDS_DATABASES, t.BACKUP_PLAN, t.BACKUP_SELECTION),
    whole_stack=True,  # every resource tagged backup=true, whatever its type
    controls=("fsbp:RDS.26",),
    defaults={"tagKey": "backup", "tagValue": "true"},
)

def _check_notifications(args, cfg):
    notifications = of_type(args, t.BACKUP_VAULT_NOTIFICATIONS)
    vaults = of_type(args, t.BACKUP_VAULT)
    watched = [n for n in notifications if set(as_list(get(n.props, "backupVaultEvents"))) & set(cfg["failureEvents"])]
    if vaults and not watched:
        yield ("no backup vault reports failed jobs (VaultNotifications with BACKUP_JOB_COMPLETED or COPY_JOB_FAILED); "
               "a failing backup would stay silent until a restore is needed."), vaults[0].urn


vault_notifications = stack_policy(
    name="backup-vault-notifications",
    description="The primary backup vault sends job outcomes (failed backups and copies) to an SNS topic.",
    check=_check_notifications,
    types=(t.BACKUP_VAULT, t.BACKUP_VAULT_NOTIFICATIONS),
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Declare aws.backup.VaultNotifications on the vault with BACKUP_JOB_COMPLETED and COPY_JOB_FAILED events.",
    defaults={"failureEvents": ("BACKUP_JOB_COMPLETED", "COPY_JOB_FAILED", "BACKUP_JOB_FAILED")},
)

def _check_database_replication(args, cfg):
    if not is_production(args):
        return
    replications = attached(args, (t.RDS_BACKUP_REPLICATION,), prop="sourceDbInstanceArn")
    for db in of_type(args, "aws:rds/instance:Instance"):
        if get(db.props, "replicateSourceDb"):
            continue  # a read replica; its source's backups are the ones that count
        home = region_of(db)
        remote = [r for r in replications.get(db.urn, []) if region_of(r) and region_of(r) != home]
        if not remote:
            yield (f"RDS instance {db.name}: its automated backups are not replicated to another region; after losing "
                   f"{home or 'its region'} the newest restorable copy is the last daily vault copy, not minutes old."), db.urn


database_cross_region_pitr = stack_policy(
    name="backup-database-cross-region-pitr",
    description="Every production RDS instance replicates its automated backups to the DR region (point-in-time recovery there).",
    check=_check_database_replication,
    types=("aws:rds/instance:Instance", t.RDS_BACKUP_REPLICATION),
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Declare components.database_replication.DatabaseBackupReplication for the instance (wired in __main__.py).",
    controls=("well-architected:REL09-BP02",),
)

POLICIES = [
    database_cross_region_pitr,
    vault_notifications,
    object_lock,
    lifecycle,
    replicated_cross_region,
    replication_settings,
    protected,
    vault_cmk,
    vault_locked,
    plan_retention,
    plan_cross_region_copy,
    selection_coverage,
]
