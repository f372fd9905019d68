"""Cross-region replication of the database's automated backups: point-in-time recovery in the DR region.

The AWS Backup plan copies a recovery point to the DR vault once a day, so after the
loss of the primary region the newest database copy could be a day old. RDS can
replicate the instance's automated backups (snapshots and transaction logs) to
another region as they are taken; restoring to a point in time there loses minutes,
which is what the 15-minute RPO needs. The replica backups are encrypted with a
key of the DR region.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import AwsAccount
from components.kms import EncryptionKey, EncryptionKeyArgs


@dataclass(frozen=True)
class DatabaseBackupReplicationArgs:
    source_db_instance_arn: pulumi.Input[str]
    """The primary instance whose automated backups are replicated."""
    retention_days: int
    """Days of replicated backups kept in the DR region (the instance's own retention)."""
    dr_account: AwsAccount
    """The account in the DR region (for the key's policy)."""
    dr_provider: aws.Provider
    """The explicit AWS provider of the DR region."""


class DatabaseBackupReplication(pulumi.ComponentResource):
    """A DR-region key and the replication of the instance's automated backups to that region."""

    def __init__(self, name: str, args: DatabaseBackupReplicationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:backup:DatabaseBackupReplication", name, None, opts)
        in_dr = pulumi.ResourceOptions(parent=self, provider=args.dr_provider)
        self.key = EncryptionKey(
            f"{name}-backups",
            EncryptionKeyArgs(
                description=f"{name}: replicated RDS automated backups in {args.dr_account.region}",
                account=args.dr_account,
                service_principals=("rds",),
            ),
            opts=in_dr,
        )
        self.replication = aws.rds.InstanceAutomatedBackupsReplication(
            f"{name}-replication",
            source_db_instance_arn=args.source_db_instance_arn,
            kms_key_id=self.key.arn,
            retention_period=args.retention_days,
            # Stopping replication deletes the replicated backups: keep them if the stack drops it.
            opts=pulumi.ResourceOptions(parent=self, provider=args.dr_provider, protect=True, retain_on_delete=True),
        )
        self.register_outputs({"replicationArn": self.replication.id, "keyArn": self.key.arn})
