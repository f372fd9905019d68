"""DatabaseBackupReplication: the database's automated backups replicated to the DR region."""

from __future__ import annotations

from tests.helpers import deps, drop, findings, mutate, one

REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"


def test_backups_of_the_primary_instance_replicate_to_the_dr_region(prod):
    replication = one(prod, REPLICATION)
    instance = one(prod, "aws:rds/instance:Instance", "golive-db-instance")
    assert deps(replication, "sourceDbInstanceArn") == [instance["urn"]]
    assert replication["inputs"]["retentionPeriod"] == 35  # the database's own retention
    assert "::aws-dr::" in replication["provider"]
    assert replication["options"]["protect"] and replication["options"]["retainOnDelete"]


def test_replicated_backups_use_a_rotating_key_of_the_dr_region(prod):
    replication = one(prod, REPLICATION)
    key = prod.by_urn()[deps(replication, "kmsKeyId")[0]]
    assert key["type"] == "aws:kms/key:Key" and key["inputs"]["enableKeyRotation"] is True
    assert "::aws-dr::" in key["provider"] and ":eu-central-1:" in replication["inputs"]["kmsKeyId"]


def test_policy_passes_on_prod_and_fails_without_replication(prod):
    assert findings(prod, "backup-database-cross-region-pitr") == []
    (finding,) = findings(drop(prod, lambda r: r["type"] == REPLICATION), "backup-database-cross-region-pitr")
    assert "not replicated to another region" in finding.message


def test_policy_fails_when_the_replication_stays_in_the_primary_region(prod):
    replication = one(prod, REPLICATION)
    primary = one(prod, "pulumi:providers:aws", "aws-primary")
    same_region = mutate(prod, replication["urn"], lambda r: r.update(provider=f"{primary['urn']}::id"))
    assert [f.policy for f in findings(same_region, "backup-database-cross-region-pitr")] == ["backup-database-cross-region-pitr"]
