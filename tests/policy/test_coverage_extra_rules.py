"""S3 ownership, backup access logging and notifications, Security Hub standards."""

from __future__ import annotations

import pytest

from tests.helpers import drop, findings, mutate, of_type

NEW = ["s3-bucket-acls-disabled", "backup-bucket-access-logging", "backup-vault-notifications", "security-securityhub-standards"]


@pytest.mark.parametrize("policy", NEW)
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def test_bucket_with_acls_enabled_fails(prod):
    control = of_type(prod, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")[0]
    broken = mutate(prod, control["urn"], lambda r: r["inputs"]["rule"].update(objectOwnership="ObjectWriter"))
    (finding,) = findings(broken, "s3-bucket-acls-disabled")
    assert "ObjectWriter" in finding.message


def test_bucket_without_ownership_controls_fails(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert len(findings(broken, "s3-bucket-acls-disabled")) == len(of_type(prod, "aws:s3/bucket:Bucket"))


def test_backup_bucket_without_access_logging_fails(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:s3/bucketLogging:BucketLogging")
    assert {f.urn.rsplit("::", 1)[1] for f in findings(broken, "backup-bucket-access-logging")} == {"golive-backups-bucket", "golive-backups-dr-bucket"}


def test_vault_without_failure_notifications_fails(prod):
    notifications = of_type(prod, "aws:backup/vaultNotifications:VaultNotifications")[0]
    broken = mutate(prod, notifications["urn"], lambda r: r["inputs"].update(backupVaultEvents=["RESTORE_JOB_COMPLETED"]))
    assert [f.policy for f in findings(broken, "backup-vault-notifications")] == ["backup-vault-notifications"]


def test_security_hub_missing_fails(prod):
    broken = drop(prod, lambda r: r["type"].startswith("aws:securityhub/"))
    (finding,) = findings(broken, "security-securityhub-standards")
    assert "not enabled" in finding.message


def test_security_hub_without_cis_fails(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:securityhub/standardsSubscription:StandardsSubscription" and "cis" in r["inputs"]["standardsArn"])
    (finding,) = findings(broken, "security-securityhub-standards")
    assert "cis-aws-foundations-benchmark" in finding.message
