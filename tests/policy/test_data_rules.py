"""Data policies: each passes on the real prod stack and fails on a stack that breaks it."""

from __future__ import annotations

import pytest

from golive import check
from policy.rules import data
from tests.helpers import deps, findings, mutate, one

INSTANCE = "aws:rds/instance:Instance"
GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
SECRET = "aws:secretsmanager/secret:Secret"

DATA_POLICIES = [p.name for p in data.POLICIES]


@pytest.mark.parametrize("policy", DATA_POLICIES)
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def test_every_policy_applies_to_a_real_resource_of_the_prod_stack(prod_check):
    for name in DATA_POLICIES:
        assert prod_check.policies[name].evaluated, f"{name} evaluated nothing on the prod stack"


def _set(**values):
    return lambda r: r["inputs"].update(values)


def _drop(*keys):
    def change(r):
        for key in keys:
            r["inputs"].pop(key, None)
            r["propertyDependencies"].pop(key, None)

    return change


def _unprotect(r):
    r["options"]["protect"] = False


BROKEN = [
    # policy, resource type, name, change, fragment of the message
    ("rds-multi-az", INSTANCE, "golive-db-instance", _set(multiAz=False), "single-AZ"),
    ("rds-storage-encrypted-cmk", INSTANCE, "golive-db-instance", _set(storageEncrypted=False), "unencrypted"),
    ("rds-storage-encrypted-cmk", INSTANCE, "golive-db-instance", _drop("kmsKeyId"), "not encrypted with a customer-managed KMS key"),
    ("rds-backup-retention", INSTANCE, "golive-db-instance", _set(backupRetentionPeriod=7), "7 day(s)"),
    ("rds-backup-retention", INSTANCE, "golive-db-instance", _drop("backupRetentionPeriod"), "0 day(s)"),
    ("rds-deletion-protection", INSTANCE, "golive-db-instance", _set(deletionProtection=False), "deletion_protection=True"),
    ("rds-final-snapshot", INSTANCE, "golive-db-instance", _set(skipFinalSnapshot=True), "skips the final snapshot"),
    ("rds-final-snapshot", INSTANCE, "golive-db-instance", _drop("finalSnapshotIdentifier"), "no final_snapshot_identifier"),
    ("rds-not-publicly-accessible", INSTANCE, "golive-db-instance", _set(publiclyAccessible=True), "publicly accessible"),
    ("rds-iam-authentication", INSTANCE, "golive-db-instance", _set(iamDatabaseAuthenticationEnabled=False), "IAM database authentication off"),
    ("rds-performance-insights-encrypted", INSTANCE, "golive-db-instance", _set(performanceInsightsEnabled=False), "Performance Insights off"),
    ("rds-performance-insights-encrypted", INSTANCE, "golive-db-instance", _drop("performanceInsightsKmsKeyId"), "not encrypted"),
    ("rds-enhanced-monitoring", INSTANCE, "golive-db-instance", _set(monitoringInterval=0), "enhanced monitoring off"),
    ("rds-enhanced-monitoring", INSTANCE, "golive-db-instance", _drop("monitoringRoleArn"), "without a monitoring_role_arn"),
    ("rds-log-exports", INSTANCE, "golive-db-instance", _set(enabledCloudwatchLogsExports=["postgresql"]), "the upgrade log(s)"),
    ("rds-log-exports", INSTANCE, "golive-db-instance", _drop("enabledCloudwatchLogsExports"), "exports no logs"),
    ("rds-master-password-managed", INSTANCE, "golive-db-instance", _set(password="[secret]"), "sets `password`"),
    ("rds-master-password-managed", INSTANCE, "golive-db-instance", _set(manageMasterUserPassword=False), "does not let RDS manage"),
    ("rds-master-password-managed", INSTANCE, "golive-db-instance", _drop("masterUserSecretKmsKeyId"), "master user secret is not encrypted"),
    ("rds-protected", INSTANCE, "golive-db-instance", _unprotect, "lacks the `protect` resource option"),
    ("elasticache-transit-encryption", GROUP, "golive-cache", _set(transitEncryptionEnabled=False), "plaintext connections"),
    ("elasticache-transit-encryption", GROUP, "golive-cache", _set(transitEncryptionMode="preferred"), "'preferred'"),
    ("elasticache-at-rest-encryption-cmk", GROUP, "golive-cache", _set(atRestEncryptionEnabled=False), "unencrypted"),
    ("elasticache-at-rest-encryption-cmk", GROUP, "golive-cache", _drop("kmsKeyId"), "AWS-managed key"),
    ("elasticache-auth-token", GROUP, "golive-cache", _drop("authToken"), "neither an AUTH token nor RBAC"),
    ("elasticache-automatic-failover-multi-az", GROUP, "golive-cache", _set(automaticFailoverEnabled=False), "automatic failover off"),
    ("elasticache-automatic-failover-multi-az", GROUP, "golive-cache", _set(multiAzEnabled=False), "not Multi-AZ"),
    ("elasticache-min-nodes", GROUP, "golive-cache", _set(numCacheClusters=1), "1 node(s) per shard"),
    ("elasticache-min-nodes", GROUP, "golive-cache", _set(numNodeGroups=3, replicasPerNodeGroup=0), "1 node(s) per shard"),
    ("elasticache-snapshot-retention", GROUP, "golive-cache", _set(snapshotRetentionLimit=1), "1 day(s)"),
    ("elasticache-snapshot-retention", GROUP, "golive-cache", _drop("snapshotRetentionLimit"), "0 day(s)"),
    ("elasticache-log-delivery", GROUP, "golive-cache", _set(logDeliveryConfigurations=[{"logType": "slow-log"}]), "engine-log"),
    ("elasticache-protected", GROUP, "golive-cache", _unprotect, "lacks the `protect` resource option"),
    ("secretsmanager-secret-cmk", SECRET, "golive-cache-auth-token", _drop("kmsKeyId"), "AWS-managed key aws/secretsmanager"),
    ("secretsmanager-secret-cmk", SECRET, "golive-cache-auth-token", _set(kmsKeyId="alias/aws/secretsmanager"), "AWS-managed key"),
]


@pytest.mark.parametrize("policy, type_, name, change, fragment", BROKEN, ids=[f"{b[0]}:{b[4]}" for b in BROKEN])
def test_fails_on_a_broken_resource(prod, policy, type_, name, change, fragment):
    record = one(prod, type_, name)
    broken = mutate(prod, record["urn"], change)
    (finding,) = findings(broken, policy)
    assert finding.urn == record["urn"] and fragment in finding.message
    assert finding.enforcement == "mandatory"


def test_every_data_policy_has_a_failing_case():
    assert {b[0] for b in BROKEN} | {"rds-force-tls", "secretsmanager-secret-rotation"} == set(DATA_POLICIES)


# --------------------------------------------------------------------------- secret rotation

ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"


@pytest.mark.parametrize("change, fragment", [
    (_set(rotationRules={"automaticallyAfterDays": 120}), "rotates every 120 days; rotate at least every 90"),
    (_set(rotationRules={"scheduleExpression": "rate(180 days)"}), "rotates on rate(180 days)"),
    (_set(rotationRules={}), "its rotation has no schedule"),
    (_drop("rotationLambdaArn"), "names no rotation function"),
])
def test_secret_rotation_fails_with_a_long_or_missing_schedule(prod, change, fragment):
    secret = one(prod, SECRET, "golive-cache-auth-token")
    (rotation,) = [r for r in prod.of_type(ROTATION) if deps(r, "secretId") == [secret["urn"]]]
    (finding,) = findings(mutate(prod, rotation["urn"], change), "secretsmanager-secret-rotation")
    assert finding.urn == secret["urn"] and fragment in finding.message


def test_a_secret_without_rotation_fails(prod):
    from tests.helpers import drop

    secret = one(prod, SECRET, "golive-logs-master")
    unrotated = drop(prod, lambda r: r["type"] == ROTATION and deps(r, "secretId") == [secret["urn"]])
    (finding,) = findings(unrotated, "secretsmanager-secret-rotation")
    assert finding.urn == secret["urn"] and "never rotates" in finding.message


# --------------------------------------------------------------------------- thresholds


def test_backup_retention_threshold_is_pack_config(prod):
    db = one(prod, INSTANCE, "golive-db-instance")
    week = mutate(prod, db["urn"], _set(backupRetentionPeriod=7))
    policy = [p for p in check.load_policies() if p.name == "rds-backup-retention"]
    assert check.check(week, policy, {"rds-backup-retention": {"minRetentionDays": 7}}).findings == []
    assert check.check(week, policy).findings


def test_the_rules_on_a_replica_need_no_engine_or_password_of_its_own(synth_config):
    result = synth_config({"database": {"readReplicas": 1}})
    replica = one(result, INSTANCE, "golive-db-replica-1-instance")
    assert "engine" not in replica["inputs"] and "manageMasterUserPassword" not in replica["inputs"]
    assert [f for f in findings(result, DATA_POLICIES) if f.urn == replica["urn"]] == []
    broken = mutate(result, replica["urn"], _set(multiAz=False, password="[secret]"))
    assert {f.policy for f in findings(broken, DATA_POLICIES) if f.urn == replica["urn"]} == {
        "rds-multi-az",
        "rds-master-password-managed",
    }


# --------------------------------------------------------------------------- TLS (stack policy)


def _parameter_group(prod):
    db = one(prod, INSTANCE, "golive-db-instance")
    (urn,) = deps(db, "parameterGroupName")
    return db, prod.by_urn()[urn]


def test_force_tls_joins_the_instance_and_its_parameter_group(prod):
    db, group = _parameter_group(prod)
    assert group["type"] == "aws:rds/parameterGroup:ParameterGroup"
    assert findings(prod, "rds-force-tls") == []


@pytest.mark.parametrize("value", [None, "0"])
def test_force_tls_fails_when_the_group_does_not_force_ssl(prod, value):
    db, group = _parameter_group(prod)

    def change(r):
        params = [p for p in r["inputs"]["parameters"] if p["name"] != "rds.force_ssl"]
        if value is not None:
            params.append({"name": "rds.force_ssl", "value": value})
        r["inputs"]["parameters"] = params

    (finding,) = findings(mutate(prod, group["urn"], change), "rds-force-tls")
    assert finding.urn == group["urn"] and "rds.force_ssl=1" in finding.message and db["name"] in finding.message


def test_force_tls_fails_on_the_default_parameter_group(prod):
    db, _ = _parameter_group(prod)
    (finding,) = findings(mutate(prod, db["urn"], _drop("parameterGroupName")), "rds-force-tls")
    assert finding.urn == db["urn"] and "default group accepts unencrypted connections" in finding.message
