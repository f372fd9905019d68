"""Backup policies: each passes on the prod stack and fails on a stack that breaks it."""

from __future__ import annotations

import copy
import json

import pytest

from golive import engine
from tests.helpers import deps, drop, findings, mutate, of_type, one

BACKUP_POLICIES = [
    "backup-bucket-object-lock",
    "backup-bucket-lifecycle",
    "backup-bucket-cross-region-replication",
    "backup-bucket-replication-settings",
    "backup-storage-protected",
    "backup-vault-cmk",
    "backup-vault-locked",
    "backup-plan-retention",
    "backup-plan-cross-region-copy",
    "backup-selection-coverage",
]
BUCKET = "aws:s3/bucket:Bucket"
VAULT = "aws:backup/vault:Vault"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


@pytest.mark.parametrize("policy", BACKUP_POLICIES)
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def add(synth, *records):
    """A copy of ``synth`` with synthetic records appended (complete with the engine's record shape)."""
    doc = copy.deepcopy(synth.document())
    for record in records:
        doc["resources"].append({
            "parent": None, "custom": True, "secretInputs": [], "propertyDependencies": {}, "source": None,
            "options": {"protect": False, "retainOnDelete": False, "dependsOn": [], "ignoreChanges": [],
                        "deleteBeforeReplace": False, "additionalSecretOutputs": []},
            **record,
        })
    return engine.SynthResult.from_document(doc)


def dr_provider(synth):
    return one(synth, "pulumi:providers:aws", "aws-dr")


def primary_provider(synth):
    return one(synth, "pulumi:providers:aws", "aws-primary")


def dr_region_is_primary(synth):
    """The DR provider moved into the primary region: everything it creates is no longer off-region."""
    provider = dr_provider(synth)
    moved = mutate(synth, provider["urn"], lambda r: r["inputs"].update(region="eu-west-1"))
    for record in moved.resources:  # the outputs its resources report follow the provider
        if (record.get("provider") or "").startswith(provider["urn"] + "::") and "region" in record.get("computed", {}):
            record["computed"]["region"] = "eu-west-1"
    return moved


def bucket(prod, name="golive-backups-bucket"):
    return one(prod, BUCKET, name)


def attached(prod, type_, target, prop="bucket"):
    (resource,) = [r for r in of_type(prod, type_) if deps(r, prop) == [target["urn"]]]
    return resource


# --------------------------------------------------------------------------- object lock, lifecycle


def test_object_lock_fails_when_the_bucket_is_created_without_it(prod):
    target = bucket(prod)
    (finding,) = findings(mutate(prod, target["urn"], lambda r: r["inputs"].update(objectLockEnabled=False)), "backup-bucket-object-lock")
    assert finding.urn == target["urn"] and "without Object Lock" in finding.message


def test_object_lock_fails_without_a_default_retention(prod):
    replica = bucket(prod, "golive-backups-dr-bucket")
    lock = attached(prod, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", replica)
    (finding,) = findings(drop(prod, lambda r: r["urn"] == lock["urn"]), "backup-bucket-object-lock")
    assert finding.urn == replica["urn"] and "no Object Lock default retention" in finding.message


def test_object_lock_fails_with_a_one_day_retention(prod):
    lock = attached(prod, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", bucket(prod))
    broken = mutate(prod, lock["urn"], lambda r: r["inputs"]["rule"]["defaultRetention"].update(days=1))
    (finding,) = findings(broken, "backup-bucket-object-lock")
    assert "1 day(s)" in finding.message


def test_object_lock_ignores_buckets_that_are_not_backups(prod):
    # A plain bucket of another area may skip Object Lock; only purpose=backups* buckets must have it.
    target = bucket(prod)
    not_backup = mutate(prod, target["urn"], lambda r: (r["inputs"]["tags"].update(purpose="scratch"), r["inputs"].update(objectLockEnabled=False)))
    assert findings(not_backup, "backup-bucket-object-lock") == []


def test_lifecycle_fails_without_a_lifecycle(prod):
    target = bucket(prod)
    lifecycle = attached(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", target)
    (finding,) = findings(drop(prod, lambda r: r["urn"] == lifecycle["urn"]), "backup-bucket-lifecycle")
    assert finding.urn == target["urn"] and "no enabled lifecycle rule" in finding.message


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda rule: rule.pop("transitions"), "a transition to a colder storage class"),
        (lambda rule: rule.pop("noncurrentVersionExpiration"), "an expiry of noncurrent versions"),
        (lambda rule: rule["noncurrentVersionExpiration"].update(newerNoncurrentVersions=5), "at least 30 noncurrent versions kept"),
        (lambda rule: rule.pop("abortIncompleteMultipartUpload"), "an abort of incomplete multipart uploads"),
    ],
)
def test_lifecycle_fails_when_a_part_is_missing(prod, change, expected):
    lifecycle = attached(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket(prod))
    (finding,) = findings(mutate(prod, lifecycle["urn"], lambda r: change(r["inputs"]["rules"][0])), "backup-bucket-lifecycle")
    assert expected in finding.message


# --------------------------------------------------------------------------- replication


def test_replication_fails_when_the_dr_region_equals_the_primary(prod):
    (finding,) = findings(dr_region_is_primary(prod), "backup-bucket-cross-region-replication")
    assert finding.urn == bucket(prod)["urn"]
    assert "same region (eu-west-1)" in finding.message


def test_replication_fails_when_replication_is_missing(prod):
    (finding,) = findings(drop(prod, lambda r: r["type"] == REPLICATION), "backup-bucket-cross-region-replication")
    assert finding.urn == bucket(prod)["urn"] and "is not replicated" in finding.message


def test_replication_fails_when_its_rule_is_disabled(prod):
    replication = one(prod, REPLICATION)
    broken = mutate(prod, replication["urn"], lambda r: r["inputs"]["rules"][0].update(status="Disabled"))
    assert [f.urn for f in findings(broken, "backup-bucket-cross-region-replication")] == [bucket(prod)["urn"]]


def test_replication_honours_a_resource_level_region(prod):
    # pulumi_aws 7 resources may override their provider's region; the rule compares effective regions.
    replica = bucket(prod, "golive-backups-dr-bucket")
    moved = mutate(prod, replica["urn"], lambda r: r["inputs"].update(region="eu-west-1"))
    assert "same region" in findings(moved, "backup-bucket-cross-region-replication")[0].message


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda rule: rule["deleteMarkerReplication"].update(status="Enabled"), "replicates delete markers"),
        (lambda rule: rule["destination"]["replicationTime"].update(status="Disabled"), "Replication Time Control"),
        (lambda rule: rule["destination"]["replicationTime"]["time"].update(minutes=60), "Replication Time Control"),
        (lambda rule: rule["destination"]["metrics"].update(status="Disabled"), "no replication metrics"),
        (lambda rule: rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"].update(status="Disabled"), "skips SSE-KMS objects"),
    ],
)
def test_replication_settings_fail(prod, change, expected):
    replication = one(prod, REPLICATION)
    (finding,) = findings(mutate(prod, replication["urn"], lambda r: change(r["inputs"]["rules"][0])), "backup-bucket-replication-settings")
    assert finding.urn == replication["urn"] and expected in finding.message


def test_replication_settings_fail_without_a_replica_key(prod):
    replication = one(prod, REPLICATION)

    def no_key(record):
        record["inputs"]["rules"][0]["destination"].pop("encryptionConfiguration")
        record["propertyDependencies"]["rules"] = [u for u in record["propertyDependencies"]["rules"] if "kms" not in u]

    (finding,) = findings(mutate(prod, replication["urn"], no_key), "backup-bucket-replication-settings")
    assert "replica_kms_key_id" in finding.message


# --------------------------------------------------------------------------- protection


@pytest.mark.parametrize("type_, name", [(BUCKET, "golive-backups-bucket"), (BUCKET, "golive-backups-dr-bucket"), (VAULT, "golive-backup-dr-vault")])
def test_protected_fails_without_protect(prod, type_, name):
    target = one(prod, type_, name)
    (finding,) = findings(mutate(prod, target["urn"], lambda r: r["options"].update(protect=False)), "backup-storage-protected")
    assert finding.urn == target["urn"] and "not protected" in finding.message


def test_protected_fails_with_force_destroy(prod):
    vault = one(prod, VAULT, "golive-backup-vault")
    (finding,) = findings(mutate(prod, vault["urn"], lambda r: r["inputs"].update(forceDestroy=True)), "backup-storage-protected")
    assert "force_destroy" in finding.message


# --------------------------------------------------------------------------- vaults


def test_vault_cmk_fails_with_the_aws_managed_key(prod):
    vault = one(prod, VAULT, "golive-backup-vault")

    def managed(record):
        record["inputs"].pop("kmsKeyArn")
        record["propertyDependencies"].pop("kmsKeyArn")

    (finding,) = findings(mutate(prod, vault["urn"], managed), "backup-vault-cmk")
    assert finding.urn == vault["urn"] and "AWS-managed key" in finding.message


def test_vault_cmk_fails_with_a_key_of_another_region(prod):
    dr_vault, primary_vault = one(prod, VAULT, "golive-backup-dr-vault"), one(prod, VAULT, "golive-backup-vault")
    broken = mutate(prod, dr_vault["urn"], lambda r: r["propertyDependencies"].update(kmsKeyArn=deps(primary_vault, "kmsKeyArn")))
    (finding,) = findings(broken, "backup-vault-cmk")
    assert finding.urn == dr_vault["urn"] and "of eu-west-1" in finding.message


def test_vault_locked_fails_without_a_lock(prod):
    dr_vault = one(prod, VAULT, "golive-backup-dr-vault")
    lock = attached(prod, "aws:backup/vaultLockConfiguration:VaultLockConfiguration", dr_vault, "backupVaultName")
    (finding,) = findings(drop(prod, lambda r: r["urn"] == lock["urn"]), "backup-vault-locked")
    assert finding.urn == dr_vault["urn"] and "no Vault Lock" in finding.message


def test_vault_locked_fails_with_a_short_minimum(prod):
    vault = one(prod, VAULT, "golive-backup-vault")
    lock = attached(prod, "aws:backup/vaultLockConfiguration:VaultLockConfiguration", vault, "backupVaultName")
    (finding,) = findings(mutate(prod, lock["urn"], lambda r: r["inputs"].update(minRetentionDays=1)), "backup-vault-locked")
    assert "minimum retention is 1 day(s)" in finding.message


# --------------------------------------------------------------------------- plan


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda rules: rules[0]["lifecycle"].update(deleteAfter=7), "rule daily keeps recovery points 7 day(s)"),
        (lambda rules: rules[0]["copyActions"][0]["lifecycle"].update(deleteAfter=7), "keeps its DR copies 7 day(s)"),
    ],
)
def test_plan_retention_fails_below_30_days_in_production(prod, change, expected):
    plan = one(prod, "aws:backup/plan:Plan")
    (finding,) = findings(mutate(prod, plan["urn"], lambda r: change(r["inputs"]["rules"])), "backup-plan-retention")
    assert finding.urn == plan["urn"] and expected in finding.message


def test_plan_retention_is_production_only(prod):
    plan = one(prod, "aws:backup/plan:Plan")
    short = mutate(prod, plan["urn"], lambda r: r["inputs"]["rules"][0]["lifecycle"].update(deleteAfter=7))
    staging = short
    for provider in of_type(prod, "pulumi:providers:aws"):
        staging = mutate(staging, provider["urn"],
                         lambda r: r["inputs"].update(defaultTags=r["inputs"]["defaultTags"].replace("production", "staging")))
    assert findings(staging, "backup-plan-retention") == []


def test_plan_copy_fails_when_the_dr_vault_is_in_the_primary_region(prod):
    (finding,) = findings(dr_region_is_primary(prod), "backup-plan-cross-region-copy")
    assert finding.urn == one(prod, "aws:backup/plan:Plan")["urn"] and "no vault outside its region (eu-west-1)" in finding.message


def test_plan_copy_fails_when_a_rule_copies_nothing(prod):
    plan = one(prod, "aws:backup/plan:Plan")
    broken = mutate(prod, plan["urn"], lambda r: r["inputs"]["rules"][1].pop("copyActions"))
    (finding,) = findings(broken, "backup-plan-cross-region-copy")
    assert "continuous copy nothing" in finding.message


def test_plan_copy_fails_when_production_has_no_plan(prod):
    no_plan = drop(prod, lambda r: r["type"].startswith("aws:backup/"))
    (finding,) = findings(no_plan, "backup-plan-cross-region-copy")
    assert finding.urn is None and "no AWS Backup plan" in finding.message


# --------------------------------------------------------------------------- coverage


def synthetic_rds(prod, name, tags):
    return {"urn": f"urn:pulumi:prod::golive::aws:rds/instance:Instance::{name}", "type": "aws:rds/instance:Instance",
            "name": name, "provider": primary_provider(prod)["urn"] + "::id",
            "inputs": {"identifier": name, "engine": "postgres", "tags": tags}}


def test_the_real_database_is_covered_by_its_tag(prod):
    databases = of_type(prod, "aws:rds/instance:Instance")
    if not databases:
        pytest.skip("the data tier declares no RDS instance yet")
    assert all(db["inputs"]["tags"].get("backup") == "true" for db in databases)
    untagged = prod
    for db in databases:
        untagged = mutate(untagged, db["urn"], lambda r: r["inputs"]["tags"].pop("backup"))
    assert {f.urn for f in findings(untagged, "backup-selection-coverage")} == {db["urn"] for db in databases}


def test_coverage_fails_for_an_untagged_rds_instance(prod):
    stack = add(prod, synthetic_rds(prod, "reporting-db", {"Name": "reporting-db"}))
    (finding,) = findings(stack, "backup-selection-coverage")
    assert finding.urn.endswith("::reporting-db") and "RDS database reporting-db" in finding.message


def test_coverage_passes_for_a_tagged_rds_instance(prod):
    stack = add(prod, synthetic_rds(prod, "reporting-db", {"Name": "reporting-db", "backup": "true"}))
    assert findings(stack, "backup-selection-coverage") == []


def test_coverage_passes_for_an_rds_instance_listed_by_arn(prod):
    rds = synthetic_rds(prod, "reporting-db", {})
    selection = one(prod, "aws:backup/selection:Selection")
    listed = mutate(add(prod, rds), selection["urn"], lambda r: (r["inputs"].update(resources=["arn:aws:rds:eu-west-1:123456789012:db:reporting-db"]),
                                                                r["propertyDependencies"].update(resources=[rds["urn"]])))
    assert findings(listed, "backup-selection-coverage") == []


def test_coverage_fails_for_a_tagged_resource_when_the_selection_is_gone(prod):
    volume = {"urn": "urn:pulumi:prod::golive::aws:ebs/volume:Volume::grafana-data", "type": "aws:ebs/volume:Volume",
              "name": "grafana-data", "provider": primary_provider(prod)["urn"] + "::id",
              "inputs": {"availabilityZone": "eu-west-1a", "size": 10, "tags": {"backup": "true"}}}
    stack = add(prod, volume)
    assert findings(stack, "backup-selection-coverage") == []
    no_selection = drop(stack, lambda r: r["type"] == "aws:backup/selection:Selection")
    databases = {r["urn"] for r in of_type(prod, "aws:rds/instance:Instance")}
    assert {f.urn for f in findings(no_selection, "backup-selection-coverage")} == {volume["urn"], *databases}


def test_coverage_fails_when_the_selection_belongs_to_no_plan(prod):
    stack = add(prod, synthetic_rds(prod, "reporting-db", {"backup": "true"}))
    selection = one(prod, "aws:backup/selection:Selection")
    orphan = mutate(stack, selection["urn"], lambda r: r["propertyDependencies"].pop("planId"))
    assert any(f.urn.endswith("::reporting-db") for f in findings(orphan, "backup-selection-coverage"))


def test_coverage_sees_the_provider_default_tags(prod):
    # AWS Backup matches the tags AWS applies, including the provider's default_tags.
    provider = primary_provider(prod)

    def tag_everything(record):
        tags = json.loads(record["inputs"]["defaultTags"])
        tags["tags"]["backup"] = "true"
        record["inputs"]["defaultTags"] = json.dumps(tags)

    stack = add(mutate(prod, provider["urn"], tag_everything), synthetic_rds(prod, "reporting-db", {}))
    assert findings(stack, "backup-selection-coverage") == []
