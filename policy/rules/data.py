"""Data rules: RDS, ElastiCache and Secrets Manager.

Everything here guards state that cannot be rebuilt from code, so the rules are
mandatory: encryption with customer-managed keys, Multi-AZ, backups that reach
back far enough, deletion guards (``deletion_protection``, final snapshots and the
``protect`` resource option) and credentials that never pass through config.
Replicas (``replicateSourceDb`` set) inherit engine, user and password from their
source, so only the rules that make sense for them apply.
"""

from __future__ import annotations

import re

from pulumi_policy import Severity

from . import types as t
from ._base import (
    KMS_KEY_TYPES,
    customer_managed_key,
    declare_reference,
    depends_via,
    get,
    is_set,
    of_type,
    refers_to,
    resource_policy,
    stack_policy,
)

RDS = (t.RDS_INSTANCE,)
CACHE = (t.ELASTICACHE_REPLICATION_GROUP,)

for _path in ("kmsKeyId", "masterUserSecretKmsKeyId", "performanceInsightsKmsKeyId"):
    declare_reference(RDS, _path, KMS_KEY_TYPES)
declare_reference(RDS, "monitoringRoleArn", (t.IAM_ROLE,))
declare_reference(CACHE, "kmsKeyId", KMS_KEY_TYPES)
declare_reference((t.SECRET,), "kmsKeyId", KMS_KEY_TYPES)

# How each engine family forces TLS in its parameter group.
FORCE_TLS_PARAMETER = {
    "postgres": ("rds.force_ssl", "1"),
    "mysql": ("require_secure_transport", "1"),
    "mariadb": ("require_secure_transport", "1"),
}


def _replica(args) -> bool:
    return bool(get(args.props, "replicateSourceDb"))


# --------------------------------------------------------------------------- RDS


def _check_multi_az(args, cfg):
    if not get(args.props, "multiAz"):
        yield f"RDS instance {args.name} is single-AZ; an AZ outage would take the database down. Set multi_az=True."


rds_multi_az = resource_policy(
    name="rds-multi-az",
    description="RDS instances run Multi-AZ with a synchronous standby in another zone.",
    types=RDS,
    check=_check_multi_az,
    severity=Severity.HIGH,
    category="Database",
    remediation="Set multi_az=True on every aws.rds.Instance (the Database component always does).",
    controls=("fsbp:RDS.5", "checkov:CKV_AWS_157"),
)


def _check_storage_encrypted(args, cfg):
    if not get(args.props, "storageEncrypted"):
        yield f"RDS instance {args.name} stores data unencrypted; set storage_encrypted=True."
    problem = customer_managed_key(args.props, "kmsKeyId")
    if problem:
        yield (f"RDS instance {args.name} is not encrypted with a customer-managed KMS key: it {problem}, which cannot be "
               "audited or revoked on its own.")


rds_storage_encrypted = resource_policy(
    name="rds-storage-encrypted-cmk",
    description="RDS storage, automated backups and snapshots are encrypted with a customer-managed KMS key.",
    types=RDS,
    check=_check_storage_encrypted,
    severity=Severity.HIGH,
    category="Database",
    remediation="Set storage_encrypted=True and kms_key_id to a components.kms.EncryptionKey.",
    controls=("fsbp:RDS.3", "cis:2.3.1", "checkov:CKV_AWS_16"),
)


def _check_backup_retention(args, cfg):
    days = get(args.props, "backupRetentionPeriod", 0)
    if days < cfg["minRetentionDays"]:
        yield (f"RDS instance {args.name} keeps automated backups {days} day(s); point-in-time recovery must reach back "
               f"at least {cfg['minRetentionDays']} days.")


rds_backup_retention = resource_policy(
    name="rds-backup-retention",
    description="RDS automated backups (point-in-time recovery) are kept at least the configured number of days.",
    types=RDS,
    check=_check_backup_retention,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Set golive:database.backupRetentionDays (default 35, equal to golive:backup.continuousRetentionDays).",
    controls=("fsbp:RDS.11", "checkov:CKV_AWS_133"),
    defaults={"minRetentionDays": 30},
)


def _check_deletion_protection(args, cfg):
    if not get(args.props, "deletionProtection"):
        yield f"RDS instance {args.name} can be deleted by one API call; set deletion_protection=True."


rds_deletion_protection = resource_policy(
    name="rds-deletion-protection",
    description="RDS instances have deletion protection on.",
    types=RDS,
    check=_check_deletion_protection,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Set deletion_protection=True.",
    controls=("fsbp:RDS.8", "checkov:CKV_AWS_293"),
)


def _check_final_snapshot(args, cfg):
    if get(args.props, "replicateSourceDb"):
        # RDS refuses a final snapshot of a read replica; its data lives in its source.
        if is_set(args.props, "finalSnapshotIdentifier"):
            yield f"read replica {args.name} names a final snapshot, which RDS rejects on delete; set skip_final_snapshot=True."
        return
    if get(args.props, "skipFinalSnapshot"):
        yield f"RDS instance {args.name} skips the final snapshot; deleting it would lose its data for good."
    elif not is_set(args.props, "finalSnapshotIdentifier"):
        yield f"RDS instance {args.name} has no final_snapshot_identifier, so no final snapshot can be taken on delete."


rds_final_snapshot = resource_policy(
    name="rds-final-snapshot",
    description="Deleting an RDS instance takes a final snapshot (skip_final_snapshot is never set); read replicas, whose data is their source's, skip it.",
    types=RDS,
    check=_check_final_snapshot,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Set skip_final_snapshot=False and a final_snapshot_identifier.",
)


def _check_not_public(args, cfg):
    if get(args.props, "publiclyAccessible"):
        yield f"RDS instance {args.name} is publicly accessible; databases stay on isolated subnets."


rds_not_public = resource_policy(
    name="rds-not-publicly-accessible",
    description="RDS instances are not publicly accessible.",
    types=RDS,
    check=_check_not_public,
    severity=Severity.CRITICAL,
    category="Security",
    remediation="Set publicly_accessible=False and use a DB subnet group of isolated subnets.",
    controls=("fsbp:RDS.2", "cis:2.3.3", "checkov:CKV_AWS_17"),
)


def _check_iam_auth(args, cfg):
    if not get(args.props, "iamDatabaseAuthenticationEnabled"):
        yield f"RDS instance {args.name} has IAM database authentication off; services would need long-lived passwords."


rds_iam_auth = resource_policy(
    name="rds-iam-authentication",
    description="RDS instances accept IAM database authentication, so services can log in with short-lived tokens.",
    types=RDS,
    check=_check_iam_auth,
    severity=Severity.MEDIUM,
    category="Security",
    remediation="Set iam_database_authentication_enabled=True.",
    controls=("fsbp:RDS.10", "checkov:CKV_AWS_161"),
)


def _check_performance_insights(args, cfg):
    if not get(args.props, "performanceInsightsEnabled"):
        yield f"RDS instance {args.name} has Performance Insights off."
    elif problem := customer_managed_key(args.props, "performanceInsightsKmsKeyId"):
        yield (f"RDS instance {args.name}: Performance Insights data (which includes query text) is not encrypted with a "
               f"customer-managed KMS key: it {problem}.")


rds_performance_insights = resource_policy(
    name="rds-performance-insights-encrypted",
    description="Performance Insights is on and encrypted with a customer-managed KMS key.",
    types=RDS,
    check=_check_performance_insights,
    severity=Severity.MEDIUM,
    category="Database",
    remediation="Set performance_insights_enabled=True and performance_insights_kms_key_id.",
    controls=("checkov:CKV_AWS_353", "checkov:CKV_AWS_354"),
)


def _check_enhanced_monitoring(args, cfg):
    interval = get(args.props, "monitoringInterval", 0)
    if not interval:
        yield f"RDS instance {args.name} has enhanced monitoring off (monitoring_interval 0)."
    elif interval > cfg["maxIntervalSeconds"]:
        yield f"RDS instance {args.name} samples OS metrics every {interval} s; at most {cfg['maxIntervalSeconds']} s."
    if interval and not is_set(args.props, "monitoringRoleArn"):
        yield f"RDS instance {args.name} has enhanced monitoring without a monitoring_role_arn."


rds_enhanced_monitoring = resource_policy(
    name="rds-enhanced-monitoring",
    description="RDS enhanced monitoring is on (60 s or finer) with its IAM role.",
    types=RDS,
    check=_check_enhanced_monitoring,
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Set monitoring_interval (golive:database.monitoringIntervalSeconds) and monitoring_role_arn.",
    controls=("fsbp:RDS.6", "checkov:CKV_AWS_118"),
    defaults={"maxIntervalSeconds": 60},
)


def _check_log_exports(args, cfg):
    engine = get(args.props, "engine", "postgres")
    exported = set(get(args.props, "enabledCloudwatchLogsExports") or [])
    required = set(cfg["postgresLogExports"]) if engine == "postgres" else set()
    missing = sorted(required - exported)
    if not exported:
        yield f"RDS instance {args.name} exports no logs to CloudWatch."
    elif missing:
        yield f"RDS instance {args.name} does not export the {', '.join(missing)} log(s) to CloudWatch."


rds_log_exports = resource_policy(
    name="rds-log-exports",
    description="RDS instances export their logs (postgresql, upgrade) to CloudWatch Logs.",
    types=RDS,
    check=_check_log_exports,
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Set enabled_cloudwatch_logs_exports=['postgresql', 'upgrade'] and create the log groups first.",
    controls=("fsbp:RDS.9", "checkov:CKV_AWS_129"),
    defaults={"postgresLogExports": ("postgresql", "upgrade")},
)


def _check_master_password(args, cfg):
    for prop in ("password", "passwordWo"):
        if get(args.props, prop) is not None:
            yield (f"RDS instance {args.name} sets `{prop}`: the master password would live in config, code or state. "
                   "Use manage_master_user_password=True so Secrets Manager owns and rotates it.")
    if not _replica(args) and not get(args.props, "manageMasterUserPassword"):
        yield f"RDS instance {args.name} does not let RDS manage the master password in Secrets Manager."
    elif not _replica(args) and (problem := customer_managed_key(args.props, "masterUserSecretKmsKeyId")):
        yield f"RDS instance {args.name}: the master user secret is not encrypted with a customer-managed KMS key: it {problem}."


rds_master_password_managed = resource_policy(
    name="rds-master-password-managed",
    description="The RDS master password is generated, stored and rotated by RDS in Secrets Manager (never a `password` input).",
    types=RDS,
    check=_check_master_password,
    severity=Severity.CRITICAL,
    category="Security",
    remediation="Drop `password`; set manage_master_user_password=True and master_user_secret_kms_key_id.",
)


def _check_rds_protect(args, cfg):
    if not args.opts.protect:
        yield f"RDS instance {args.name} lacks the `protect` resource option; `pulumi destroy` or a refactor could delete it."


rds_protected = resource_policy(
    name="rds-protected",
    description="RDS instances carry Pulumi's `protect` option, so no update or destroy deletes them.",
    types=RDS,
    check=_check_rds_protect,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Declare the instance with opts=pulumi.ResourceOptions(protect=True).",
)


def _engine_of(instance, seen=()) -> str:
    engine = get(instance.props, "engine")
    if engine:
        return str(engine)
    for source in depends_via(instance, "replicateSourceDb"):
        if source.resource_type == t.RDS_INSTANCE and source.urn not in seen:
            return _engine_of(source, (*seen, instance.urn))
    return "postgres"


def _check_force_tls(args, cfg):
    for instance in of_type(args, t.RDS_INSTANCE):
        engine = _engine_of(instance)
        family = next((f for f in FORCE_TLS_PARAMETER if engine.startswith(f)), None)
        if family is None:
            continue
        wanted_name, wanted_value = FORCE_TLS_PARAMETER[family]
        groups = [g for g in depends_via(instance, "parameterGroupName") if g.resource_type == t.RDS_PARAMETER_GROUP]
        if not groups:
            yield (f"RDS instance {instance.name} does not use a parameter group of this stack; the default group accepts "
                   f"unencrypted connections. Use one that sets {wanted_name}={wanted_value}."), instance.urn
            continue
        for group in groups:
            values = {str(get(p, "name")): str(get(p, "value")) for p in get(group.props, "parameters") or []}
            if values.get(wanted_name) != wanted_value:
                yield (f"parameter group {group.name} of RDS instance {instance.name} does not set {wanted_name}={wanted_value}, "
                       "so clients may connect without TLS."), group.urn


rds_force_tls = stack_policy(
    name="rds-force-tls",
    description="Every RDS instance uses a parameter group that refuses connections without TLS (rds.force_ssl=1).",
    check=_check_force_tls,
    types=(t.RDS_INSTANCE, t.RDS_PARAMETER_GROUP),
    severity=Severity.HIGH,
    category="Security",
    remediation="Give the instance an aws.rds.ParameterGroup with rds.force_ssl=1 (PostgreSQL) via parameter_group_name.",
)


# --------------------------------------------------------------------------- ElastiCache


def _check_transit_encryption(args, cfg):
    if not get(args.props, "transitEncryptionEnabled"):
        yield f"ElastiCache replication group {args.name} accepts plaintext connections; set transit_encryption_enabled=True."
    elif get(args.props, "transitEncryptionMode") == "preferred":
        yield (f"ElastiCache replication group {args.name} has transit_encryption_mode 'preferred', which still accepts "
               "plaintext; use 'required'.")


cache_transit_encryption = resource_policy(
    name="elasticache-transit-encryption",
    description="ElastiCache replication groups require TLS for every connection.",
    types=CACHE,
    check=_check_transit_encryption,
    severity=Severity.HIGH,
    category="Caching",
    remediation="Set transit_encryption_enabled=True and transit_encryption_mode='required'.",
    controls=("fsbp:ElastiCache.5", "checkov:CKV_AWS_30"),
)


def _check_at_rest_encryption(args, cfg):
    if not get(args.props, "atRestEncryptionEnabled"):
        yield f"ElastiCache replication group {args.name} stores data and snapshots unencrypted."
    elif problem := customer_managed_key(args.props, "kmsKeyId"):
        yield f"ElastiCache replication group {args.name} is not encrypted with a customer-managed key: it {problem}."


cache_at_rest_encryption = resource_policy(
    name="elasticache-at-rest-encryption-cmk",
    description="ElastiCache data and snapshots are encrypted at rest with a customer-managed KMS key.",
    types=CACHE,
    check=_check_at_rest_encryption,
    severity=Severity.HIGH,
    category="Caching",
    remediation="Set at_rest_encryption_enabled=True and kms_key_id.",
    controls=("fsbp:ElastiCache.4", "checkov:CKV_AWS_29", "checkov:CKV_AWS_191"),
)


def _check_auth(args, cfg):
    if not any(is_set(args.props, prop) for prop in ("authToken", "authTokenWo", "userGroupIds")):
        yield (f"ElastiCache replication group {args.name} has neither an AUTH token nor RBAC user groups; anyone who "
               "reaches the port can read and write.")


cache_auth = resource_policy(
    name="elasticache-auth-token",
    description="ElastiCache replication groups require authentication (an AUTH token or RBAC user groups).",
    types=CACHE,
    check=_check_auth,
    severity=Severity.HIGH,
    category="Caching",
    remediation="Pass auth_token from a pulumi_random.RandomPassword, as a secret.",
    controls=("fsbp:ElastiCache.6", "checkov:CKV_AWS_31"),
)


def _check_failover(args, cfg):
    if not get(args.props, "automaticFailoverEnabled"):
        yield f"ElastiCache replication group {args.name} has automatic failover off; losing the primary stops writes."
    if not get(args.props, "multiAzEnabled"):
        yield f"ElastiCache replication group {args.name} is not Multi-AZ; replicas may share the primary's zone."


cache_failover = resource_policy(
    name="elasticache-automatic-failover-multi-az",
    description="ElastiCache replication groups fail over automatically to a replica in another AZ.",
    types=CACHE,
    check=_check_failover,
    severity=Severity.HIGH,
    category="Caching",
    remediation="Set automatic_failover_enabled=True and multi_az_enabled=True (needs at least 2 nodes).",
    controls=("fsbp:ElastiCache.3",),
)


def _nodes_per_shard(props) -> int:
    if get(props, "numNodeGroups") is not None or get(props, "replicasPerNodeGroup") is not None:
        return int(get(props, "replicasPerNodeGroup", 0)) + 1
    return int(get(props, "numCacheClusters", 1))


def _check_min_nodes(args, cfg):
    nodes = _nodes_per_shard(args.props)
    if nodes < cfg["minNodes"]:
        yield (f"ElastiCache replication group {args.name} has {nodes} node(s) per shard; at least {cfg['minNodes']} "
               "are needed for a replica to take over.")


cache_min_nodes = resource_policy(
    name="elasticache-min-nodes",
    description="ElastiCache replication groups have at least 2 nodes per shard (a primary and a replica).",
    types=CACHE,
    check=_check_min_nodes,
    severity=Severity.HIGH,
    category="Caching",
    remediation="Set golive:cache.numNodes to the number of AZs (3 in production).",
    defaults={"minNodes": 2},
)


def _check_snapshot_retention(args, cfg):
    days = get(args.props, "snapshotRetentionLimit", 0)
    if days < cfg["minRetentionDays"]:
        yield (f"ElastiCache replication group {args.name} keeps snapshots {days} day(s); keep at least "
               f"{cfg['minRetentionDays']}.")


cache_snapshot_retention = resource_policy(
    name="elasticache-snapshot-retention",
    description="ElastiCache takes daily snapshots and keeps them at least 7 days.",
    types=CACHE,
    check=_check_snapshot_retention,
    severity=Severity.MEDIUM,
    category="DR & Business Continuity",
    remediation="Set golive:cache.snapshotRetentionDays (7 to 35).",
    controls=("fsbp:ElastiCache.1",),
    defaults={"minRetentionDays": 7},
)


def _check_log_delivery(args, cfg):
    delivered = {get(c, "logType") for c in get(args.props, "logDeliveryConfigurations") or []}
    missing = sorted(set(cfg["logTypes"]) - delivered)
    if missing:
        yield f"ElastiCache replication group {args.name} does not deliver {', '.join(missing)} to CloudWatch Logs or Firehose."


cache_log_delivery = resource_policy(
    name="elasticache-log-delivery",
    description="ElastiCache delivers its slow log and engine log.",
    types=CACHE,
    check=_check_log_delivery,
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Add log_delivery_configurations for slow-log and engine-log to KMS-encrypted log groups.",
    defaults={"logTypes": ("slow-log", "engine-log")},
)


def _check_cache_protect(args, cfg):
    if not args.opts.protect:
        yield f"ElastiCache replication group {args.name} lacks the `protect` resource option."


cache_protected = resource_policy(
    name="elasticache-protected",
    description="ElastiCache replication groups carry Pulumi's `protect` option.",
    types=CACHE,
    check=_check_cache_protect,
    severity=Severity.MEDIUM,
    category="DR & Business Continuity",
    remediation="Declare the replication group with opts=pulumi.ResourceOptions(protect=True).",
)


# --------------------------------------------------------------------------- Secrets Manager


def _check_secret_cmk(args, cfg):
    if not is_set(args.props, "kmsKeyId"):
        yield f"secret {args.name} is encrypted with the AWS-managed key aws/secretsmanager; use a customer-managed KMS key."
    elif problem := customer_managed_key(args.props, "kmsKeyId"):
        yield f"secret {args.name} {problem}; use a customer-managed KMS key."


secret_cmk = resource_policy(
    name="secretsmanager-secret-cmk",
    description="Secrets Manager secrets are encrypted with a customer-managed KMS key.",
    types=(t.SECRET,),
    check=_check_secret_cmk,
    severity=Severity.MEDIUM,
    category="Security",
    remediation="Set kms_key_id on every aws.secretsmanager.Secret to a components.kms.EncryptionKey.",
    controls=("checkov:CKV_AWS_149",),
)



declare_reference((t.SECRET_ROTATION,), "rotationLambdaArn", (t.LAMBDA_FUNCTION,))


def _check_secret_rotation(args, cfg):
    rotations = of_type(args, t.SECRET_ROTATION)
    for secret in of_type(args, t.SECRET):
        mine = [r for r in rotations if refers_to(r, "secretId", secret)]
        if not mine:
            yield (f"secret {secret.name} never rotates: no SecretRotation with a rotation function and a schedule; a leaked "
                   "value stays valid until someone notices.", secret.urn)
            continue
        for rotation in mine:
            days = get(rotation.props, "rotationRules.automaticallyAfterDays")
            expression = str(get(rotation.props, "rotationRules.scheduleExpression") or "")
            if not days and not expression:
                yield f"secret {secret.name}: its rotation has no schedule (rotation_rules).", secret.urn
            elif days and int(days) > cfg["maxRotationDays"]:
                yield f"secret {secret.name} rotates every {days} days; rotate at least every {cfg['maxRotationDays']}.", secret.urn
            match = re.fullmatch(r"rate\((\d+) days?\)", expression.strip())
            if match and int(match.group(1)) > cfg["maxRotationDays"]:
                yield (f"secret {secret.name} rotates on {expression}; rotate at least every {cfg['maxRotationDays']} days.",
                       secret.urn)
            if not is_set(rotation.props, "rotationLambdaArn"):
                yield f"secret {secret.name}: its rotation names no rotation function.", secret.urn


secret_rotation = stack_policy(
    name="secretsmanager-secret-rotation",
    description="Every Secrets Manager secret rotates automatically, by a rotation function, at least every 90 days.",
    check=_check_secret_rotation,
    types=(t.SECRET, t.SECRET_ROTATION),
    severity=Severity.MEDIUM,
    category="Security",
    remediation=("Declare aws.secretsmanager.SecretRotation(secret_id=…, rotation_lambda_arn=…, rotation_rules={'automatically_after_days': 30}) "
                 "(components.secret_rotation.SecretRotation builds the function)."),
    controls=("fsbp:SecretsManager.1", "fsbp:SecretsManager.4", "checkov:CKV2_AWS_57"),
    defaults={"maxRotationDays": 90},
)

POLICIES = [
    secret_rotation,
    rds_multi_az,
    rds_storage_encrypted,
    rds_backup_retention,
    rds_deletion_protection,
    rds_final_snapshot,
    rds_not_public,
    rds_iam_auth,
    rds_performance_insights,
    rds_enhanced_monitoring,
    rds_log_exports,
    rds_master_password_managed,
    rds_protected,
    rds_force_tls,
    cache_transit_encryption,
    cache_at_rest_encryption,
    cache_auth,
    cache_failover,
    cache_min_nodes,
    cache_snapshot_retention,
    cache_log_delivery,
    cache_protected,
    secret_cmk,
]
