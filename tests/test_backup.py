"""BackupStorage: immutable backup buckets in two regions, replicated primary -> DR."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError, parse
from tests.helpers import deps, of_type, one, props

BUCKET = "aws:s3/bucket:Bucket"
COMPONENT = "golive:backup:BackupStorage"


def region(synth, record):
    """The region of ``record``'s provider, as the mocks and the policies see it."""
    provider_urn = record["provider"].rsplit("::", 1)[0]
    return synth.by_urn()[provider_urn]["inputs"]["region"]


def attached(synth, type_, bucket):
    """The ``type_`` resources whose ``bucket`` input comes from ``bucket``."""
    return [r for r in of_type(synth, type_) if deps(r, "bucket") == [bucket["urn"]]]


def backup_buckets(synth):
    buckets = {r["inputs"]["tags"]["purpose"]: r for r in of_type(synth, BUCKET) if r["parent"] and COMPONENT in r["parent"]
               and r["inputs"]["tags"]["purpose"].startswith("backups")}
    assert set(buckets) == {"backups", "backups-replica"}
    return buckets["backups"], buckets["backups-replica"]


@pytest.fixture(scope="module")
def buckets(prod):
    return backup_buckets(prod)


def test_primary_and_replica_live_in_the_primary_and_dr_regions(prod, buckets):
    primary, replica = buckets
    assert region(prod, primary) == "eu-west-1"
    assert region(prod, replica) == "eu-central-1"
    assert prod.outputs["drRegion"] == "eu-central-1"


def test_the_dr_provider_is_explicit_and_guards_the_account(prod):
    dr = one(prod, "pulumi:providers:aws", "aws-dr")
    assert dr["inputs"]["region"] == "eu-central-1"
    assert json.loads(dr["inputs"]["allowedAccountIds"]) == ["123456789012"]
    assert json.loads(dr["inputs"]["defaultTags"])["tags"]["environment"] == "production"


@pytest.mark.parametrize("which", [0, 1])
def test_object_lock_is_enabled_at_creation_with_a_default_retention(prod, buckets, which):
    bucket = buckets[which]
    assert props(bucket)["objectLockEnabled"] is True
    (lock,) = attached(prod, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", bucket)
    assert props(lock)["rule"]["defaultRetention"] == {"mode": "GOVERNANCE", "days": 30}
    assert region(prod, lock) == region(prod, bucket)


@pytest.mark.parametrize("which", [0, 1])
def test_versioned_private_and_owner_enforced(prod, buckets, which):
    bucket = buckets[which]
    (versioning,) = attached(prod, "aws:s3/bucketVersioning:BucketVersioning", bucket)
    assert props(versioning)["versioningConfiguration"]["status"] == "Enabled"
    (block,) = attached(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
    assert all(props(block)[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (ownership,) = attached(prod, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket)
    assert props(ownership)["rule"]["objectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize("which", [0, 1])
def test_sse_kms_with_bucket_keys_under_a_key_of_its_own_region(prod, buckets, which):
    bucket = buckets[which]
    (encryption,) = attached(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket)
    (rule,) = props(encryption)["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert rule["bucketKeyEnabled"] is True
    (key_urn,) = deps(encryption, "rules")
    key = prod.by_urn()[key_urn]
    assert key["type"] == "aws:kms/key:Key" and key["inputs"]["enableKeyRotation"] is True
    assert region(prod, key) == region(prod, bucket)
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith(f"arn:aws:kms:{region(prod, bucket)}:")


@pytest.mark.parametrize("which", [0, 1])
def test_bucket_policy_denies_plain_http_old_tls_and_foreign_encryption(prod, buckets, which):
    bucket = buckets[which]
    (policy,) = attached(prod, "aws:s3/bucketPolicy:BucketPolicy", bucket)
    statements = {s["Sid"]: s for s in json.loads(props(policy)["policy"])["Statement"]}
    assert all(s["Effect"] == "Deny" and s["Principal"] == "*" for s in statements.values())
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statements["DenyTlsBelow12"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert statements["DenyUploadsNotSseKms"]["Condition"] == {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}
    (encryption,) = attached(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket)
    own_key = props(encryption)["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    assert statements["DenyUploadsWithOtherKeys"]["Condition"]["StringNotEqualsIfExists"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": own_key}
    assert "s3:x-amz-server-side-encryption-customer-algorithm" in statements["DenyCustomerProvidedKeys"]["Condition"]["Null"]


@pytest.mark.parametrize("which", [0, 1])
def test_lifecycle_tiers_keeps_30_versions_and_aborts_uploads(prod, buckets, which):
    (lifecycle,) = attached(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", buckets[which])
    (rule,) = props(lifecycle)["rules"]
    assert rule["status"] == "Enabled"
    assert [(t["days"], t["storageClass"]) for t in rule["transitions"]] == [(30, "STANDARD_IA"), (90, "GLACIER")]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 90, "newerNoncurrentVersions": 30}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    versioning = attached(prod, "aws:s3/bucketVersioning:BucketVersioning", buckets[which])[0]
    assert versioning["urn"] in lifecycle["options"]["dependsOn"]


@pytest.mark.parametrize("which", [0, 1])
def test_access_logs_go_to_an_sse_s3_log_bucket_in_the_same_region(prod, buckets, which):
    bucket = buckets[which]
    (logging,) = attached(prod, "aws:s3/bucketLogging:BucketLogging", bucket)
    (target_urn,) = deps(logging, "targetBucket")
    target = prod.by_urn()[target_urn]
    assert region(prod, target) == region(prod, bucket)
    assert "only to buckets encrypted with SSE-S3" in target["inputs"]["tags"]["golive:exempt:s3-bucket-encryption-kms"]
    (encryption,) = attached(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", target)
    assert props(encryption)["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    (versioning,) = attached(prod, "aws:s3/bucketVersioning:BucketVersioning", target)
    assert props(versioning)["versioningConfiguration"]["status"] == "Enabled"
    (policy,) = attached(prod, "aws:s3/bucketPolicy:BucketPolicy", target)
    statements = {s["Sid"]: s for s in json.loads(props(policy)["policy"])["Statement"]}
    writer = statements["S3ServerAccessLogsDelivery"]
    assert writer["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    (source_pattern,) = writer["Condition"]["ArnLike"]["aws:SourceArn"]
    assert f"arn:aws:s3:::{bucket['computed']['bucket']}".startswith(source_pattern.rstrip("*"))
    assert props(logging)["targetPrefix"] == "s3-access/" and writer["Resource"].endswith("/s3-access/*")
    assert "DenyInsecureTransport" in statements


@pytest.mark.parametrize("which", [0, 1])
def test_backup_buckets_are_protected_and_retained(buckets, which):
    bucket = buckets[which]
    assert bucket["options"]["protect"] is True
    assert bucket["options"]["retainOnDelete"] is True
    assert props(bucket)["forceDestroy"] is False


def test_replication_primary_to_dr_with_rtc_metrics_and_replica_key(prod, buckets):
    primary, replica = buckets
    (replication,) = of_type(prod, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert deps(replication, "bucket") == [primary["urn"]]
    by_urn = prod.by_urn()
    rule_deps = {by_urn[u]["type"]: by_urn[u] for u in deps(replication, "rules")}
    assert rule_deps["aws:s3/bucket:Bucket"]["urn"] == replica["urn"]
    assert region(prod, rule_deps["aws:kms/key:Key"]) == "eu-central-1"
    (rule,) = props(replication)["rules"]
    assert rule["status"] == "Enabled"
    assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    destination = rule["destination"]
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15}}
    assert destination["encryptionConfiguration"]["replicaKmsKeyId"].startswith("arn:aws:kms:eu-central-1:")
    versionings = {v["urn"] for b in buckets for v in attached(prod, "aws:s3/bucketVersioning:BucketVersioning", b)}
    assert versionings <= set(replication["options"]["dependsOn"])


def test_replication_role_is_scoped_to_the_two_buckets_and_keys(prod, buckets):
    primary, replica = buckets
    role = one(prod, "aws:iam/role:Role", "golive-backups-replication")
    trust = json.loads(props(role)["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    (policy,) = [p for p in of_type(prod, "aws:iam/rolePolicy:RolePolicy") if deps(p, "role") == [role["urn"]]]
    document = json.loads(props(policy)["policy"])
    src, dst = (f"arn:aws:s3:::{b['computed']['bucket']}" for b in (primary, replica))
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert "s3:ReplicateDelete" not in actions and not any(a.endswith("*") for a in actions)
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        for resource in statement["Resource"]:
            assert resource.startswith((src, dst, "arn:aws:kms:eu-west-1:", "arn:aws:kms:eu-central-1:"))
            assert "*" not in resource or resource.endswith("/*")
    kms = {s["Sid"]: s for s in document["Statement"] if s["Sid"] in ("DecryptSource", "EncryptReplicas")}
    assert kms["DecryptSource"]["Condition"]["StringLike"]["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"
    assert kms["EncryptReplicas"]["Condition"]["StringLike"]["kms:ViaService"] == "s3.eu-central-1.amazonaws.com"


def test_stack_outputs_name_the_buckets(prod, buckets):
    primary, replica = buckets
    assert prod.outputs["backupBucketName"] == primary["computed"]["bucket"]
    assert prod.outputs["drBackupBucketName"] == replica["computed"]["bucket"]
    assert prod.outputs["drBackupBucketKeyArn"].startswith("arn:aws:kms:eu-central-1:")


def test_component_in_isolation_follows_its_config(synth_program):
    """Compliance mode, DEEP_ARCHIVE and another DR region, with stand-in accounts."""

    def program():
        import pulumi
        import pulumi_aws as aws

        from components.backup import BackupStorage, BackupStorageArgs
        from components.config import AwsAccount, BackupConfig

        cfg = BackupConfig(object_lock_mode="compliance", object_lock_days=14, archive_storage_class="DEEP_ARCHIVE",
                           transition_ia_days=45, transition_archive_days=180, noncurrent_versions_kept=10)
        primary = aws.Provider("primary", region="us-east-1")
        dr = aws.Provider("dr", region="us-west-2")
        BackupStorage(
            "t",
            BackupStorageArgs(cfg, AwsAccount("123456789012", "us-east-1"), AwsAccount("123456789012", "us-west-2"), dr),
            opts=pulumi.ResourceOptions(providers={"aws": primary}),
        )

    synth = synth_program(program)
    primary, replica = backup_buckets(synth)
    assert (region(synth, primary), region(synth, replica)) == ("us-east-1", "us-west-2")
    for lock in of_type(synth, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"):
        assert props(lock)["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 14}
    for lifecycle in [r for r in of_type(synth, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
                      if "transitions" in r["inputs"]["rules"][0]]:
        rule = props(lifecycle)["rules"][0]
        assert [(t["days"], t["storageClass"]) for t in rule["transitions"]] == [(45, "STANDARD_IA"), (180, "DEEP_ARCHIVE")]
        assert rule["noncurrentVersionExpiration"]["newerNoncurrentVersions"] == 10
    logs = [b for b in of_type(synth, BUCKET) if b["inputs"]["tags"]["purpose"] == "s3-access-logs"]
    assert sorted(region(synth, b) for b in logs) == ["us-east-1", "us-west-2"]
    (role_policy,) = of_type(synth, "aws:iam/rolePolicy:RolePolicy")
    document = props(role_policy)["policy"]
    assert '"kms:ViaService": "s3.us-west-2.amazonaws.com"' in document and "arn:aws:kms:us-west-2:123456789012:key/" in document


# --------------------------------------------------------------------------- config errors


def problems_of(raw):
    with pytest.raises(ConfigError) as err:
        parse(raw, "prod")
    return {(p.key, p.rule) for p in err.value.problems}


def test_dr_region_equal_to_the_primary_is_rejected():
    (problem,) = problems_of({"region": "eu-west-1", "dr": {"region": "eu-west-1"}})
    assert problem[0] == "golive:dr.region"
    assert "must differ from golive:region (eu-west-1)" in problem[1]


def test_dr_region_in_another_partition_is_rejected():
    (problem,) = problems_of({"region": "eu-west-1", "dr": {"region": "cn-north-1"}})
    assert problem[0] == "golive:dr.region" and "same AWS partition" in problem[1]


def test_dr_region_must_be_a_region_name():
    (problem,) = problems_of({"dr": {"region": "frankfurt"}})
    assert problem[0] == "golive:dr.region" and "must be a known AWS region" in problem[1]


@pytest.mark.parametrize(
    "backup, key, rule",
    [
        ({"transitionIaDays": 30, "transitionArchiveDays": 30}, "golive:backup.transitionArchiveDays", "at least 30 days after transitionIaDays"),
        ({"transitionIaDays": 120, "transitionArchiveDays": 90}, "golive:backup.transitionArchiveDays", "transitions are ordered"),
        ({"transitionIaDays": 10, "transitionArchiveDays": 90}, "golive:backup.transitionIaDays", "no earlier than 30 days"),
        ({"objectLockDays": 3}, "golive:backup.objectLockDays", "at least 7 days"),
        ({"noncurrentExpiryDays": 10}, "golive:backup.noncurrentExpiryDays", "at least objectLockDays (30)"),
        ({"noncurrentVersionsKept": 101}, "golive:backup.noncurrentVersionsKept", "from 1 to 100"),
        ({"accessLogRetentionDays": 30}, "golive:backup.accessLogRetentionDays", "at least 90 days"),
        ({"objectLockMode": "legal-hold"}, "golive:backup.objectLockMode", 'one of "governance", "compliance"'),
    ],
)
def test_bucket_settings_are_validated(backup, key, rule):
    assert any(k == key and rule in r for k, r in problems_of({"backup": backup})), problems_of({"backup": backup})


def test_staging_may_lock_backups_for_a_shorter_time():
    config = parse({"environment": "staging", "backup": {"objectLockDays": 3, "noncurrentExpiryDays": 3}})
    assert config.backup.object_lock_days == 3 and config.backup.lock_mode == "GOVERNANCE"
