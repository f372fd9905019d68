"""AWS Backup: locked vaults in both regions, a daily and a continuous rule, copies to the DR region.

- A vault per region, each encrypted with its own region's customer-managed key and
  locked (Vault Lock min/max retention from config): no recovery point can be
  deleted or have its retention shortened before the minimum, whoever asks. An
  access policy additionally denies ``DeleteRecoveryPoint`` to every principal.
- The plan: a daily full backup at 02:00 UTC kept 30 days, a continuous rule giving
  point-in-time recovery (RDS: ~5 minutes RPO) for 35 days, and a copy of every
  recovery point to the DR vault.
- The selection is by tag: every resource tagged ``backup=true`` is in the plan, so
  other components opt in by tagging (the RDS instance, EBS-backed volumes, ...).
- Job notifications go to a KMS-encrypted SNS topic. AWS Backup no longer emits
  ``BACKUP_JOB_FAILED``/``BACKUP_JOB_EXPIRED``; failures and expiries arrive as
  ``BACKUP_JOB_COMPLETED`` with a ``State`` attribute, which the e-mail
  subscriptions filter on (everything but ``COMPLETED``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config import AwsAccount, BackupConfig
from components.kms import EncryptionKey, EncryptionKeyArgs

BACKUP_TAG_KEY = "backup"
BACKUP_TAG_VALUE = "true"
"""Tag a resource ``backup=true`` and the plan backs it up (and copies it to the DR region)."""

VAULT_EVENTS = (
    "BACKUP_JOB_COMPLETED",
    "COPY_JOB_FAILED",
    "RESTORE_JOB_COMPLETED",
    "RECOVERY_POINT_MODIFIED",
    "S3_BACKUP_OBJECT_FAILED",
    "S3_RESTORE_OBJECT_FAILED",
)
"""Supported vault events that report failures, expiries and tampering (the deprecated *_FAILED ones never fire)."""

EMAIL_FILTER_POLICY = {"State": [{"anything-but": "COMPLETED"}]}
"""E-mail only what needs a human: failed, aborted, expired or partial jobs."""

MANAGED_POLICIES = {
    "backup": "service-role/AWSBackupServiceRolePolicyForBackup",
    "restores": "service-role/AWSBackupServiceRolePolicyForRestores",
    "s3-backup": "AWSBackupServiceRolePolicyForS3Backup",
    "s3-restore": "AWSBackupServiceRolePolicyForS3Restore",
}
"""AWS-managed policies of the backup role; the S3 pair lets a bucket tagged ``backup=true`` be backed up too."""


@dataclass(frozen=True)
class BackupPlanArgs:
    config: BackupConfig
    account: AwsAccount
    """The stack's account and primary region (the plan, the primary vault, the topic)."""
    dr_account: AwsAccount
    """The same account in the DR region (the copy vault)."""
    dr_provider: aws.Provider
    """The explicit AWS provider of the DR region."""


class BackupPlan(pulumi.ComponentResource):
    """Vaults (primary and DR), the backup plan, its tag selection, IAM role and notifications."""

    def __init__(self, name: str, args: BackupPlanArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:backup:BackupPlan", name, None, opts)
        cfg, account = args.config, args.account
        child = pulumi.ResourceOptions(parent=self)

        self.vault, self.vault_key = self._vault(f"{name}-vault", cfg, account, child)
        self.dr_vault, self.dr_vault_key = self._vault(
            f"{name}-dr-vault", cfg, args.dr_account, pulumi.ResourceOptions(parent=self, provider=args.dr_provider)
        )

        self.role = aws.iam.Role(
            f"{name}-role",
            description="AWS Backup runs backup, copy and restore jobs of the golive plan with this role.",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": f"backup.{account.dns_suffix}"}, "Action": "sts:AssumeRole"}
                    ],
                }
            ),
            tags={"Name": f"{name}-role"},
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-role-{role}",
                role=self.role.name,
                policy_arn=f"arn:{account.partition}:iam::aws:policy/{policy}",
                opts=child,
            )
            for role, policy in MANAGED_POLICIES.items()
        ]

        copy = [
            aws.backup.PlanRuleCopyActionArgs(
                destination_vault_arn=self.dr_vault.arn,
                lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(delete_after=cfg.dr_copy_retention_days),
            )
        ]
        self.plan = aws.backup.Plan(
            f"{name}-plan",
            rules=[
                aws.backup.PlanRuleArgs(
                    rule_name="daily",
                    target_vault_name=self.vault.name,
                    schedule=cfg.schedule,
                    schedule_expression_timezone="Etc/UTC",
                    start_window=cfg.start_window_minutes,
                    completion_window=cfg.completion_window_minutes,
                    lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=cfg.retention_days),
                    copy_actions=copy,
                    recovery_point_tags={"backup-rule": "daily"},
                ),
                aws.backup.PlanRuleArgs(
                    rule_name="continuous",
                    target_vault_name=self.vault.name,
                    schedule=cfg.schedule,
                    schedule_expression_timezone="Etc/UTC",
                    start_window=cfg.start_window_minutes,
                    completion_window=cfg.completion_window_minutes,
                    enable_continuous_backup=True,
                    lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=cfg.continuous_retention_days),
                    copy_actions=copy,
                    recovery_point_tags={"backup-rule": "continuous"},
                ),
            ],
            tags={"Name": f"{name}-plan"},
            opts=child,
        )
        self.selection = aws.backup.Selection(
            f"{name}-selection",
            name=f"{name}-tagged-{BACKUP_TAG_KEY}-{BACKUP_TAG_VALUE}",
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            selection_tags=[aws.backup.SelectionSelectionTagArgs(type="STRINGEQUALS", key=BACKUP_TAG_KEY, value=BACKUP_TAG_VALUE)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments),
        )

        self._notifications(name, cfg, account)

        self.vault_name = self.vault.name
        self.vault_arn = self.vault.arn
        self.dr_vault_name = self.dr_vault.name
        self.dr_vault_arn = self.dr_vault.arn
        self.plan_id = self.plan.id
        self.register_outputs(
            {
                "vaultName": self.vault.name,
                "vaultArn": self.vault.arn,
                "drVaultName": self.dr_vault.name,
                "drVaultArn": self.dr_vault.arn,
                "planId": self.plan.id,
                "planArn": self.plan.arn,
                "roleArn": self.role.arn,
                "notificationTopicArn": self.topic.arn,
            }
        )

    def _vault(
        self, name: str, cfg: BackupConfig, account: AwsAccount, opts: pulumi.ResourceOptions
    ) -> tuple[aws.backup.Vault, EncryptionKey]:
        """A vault under its own region's key, locked, whose recovery points nobody may delete early."""
        key = EncryptionKey(
            name, EncryptionKeyArgs(description=f"{name}: AWS Backup recovery points in {account.region}", account=account), opts=opts
        )
        vault = aws.backup.Vault(
            name,
            kms_key_arn=key.arn,
            force_destroy=False,
            tags={"Name": name},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True, retain_on_delete=True)),
        )
        aws.backup.VaultLockConfiguration(
            f"{name}-lock",
            backup_vault_name=vault.name,
            min_retention_days=cfg.vault_lock_min_retention_days,
            max_retention_days=cfg.vault_lock_max_retention_days,
            changeable_for_days=cfg.vault_lock_compliance_after_days,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True)),
        )
        aws.backup.VaultPolicy(
            f"{name}-policy",
            backup_vault_name=vault.name,
            policy=json.dumps(vault_access_policy()),
            opts=opts,
        )
        return vault, key

    def _notifications(self, name: str, cfg: BackupConfig, account: AwsAccount) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self.topic_key = EncryptionKey(
            f"{name}-notifications",
            EncryptionKeyArgs(
                description=f"{name}: AWS Backup job notifications", account=account, service_principals=("backup",)
            ),
            opts=child,
        )
        self.topic = aws.sns.Topic(
            f"{name}-notifications",
            kms_master_key_id=self.topic_key.arn,
            tags={"Name": f"{name}-notifications"},
            opts=child,
        )
        topic_policy = aws.sns.TopicPolicy(
            f"{name}-notifications-policy",
            arn=self.topic.arn,
            policy=self.topic.arn.apply(lambda arn: json.dumps(topic_policy_document(arn, account))),
            opts=child,
        )
        for i, email in enumerate(cfg.notification_emails):
            aws.sns.TopicSubscription(
                f"{name}-notifications-email-{i}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=email,
                filter_policy=json.dumps(EMAIL_FILTER_POLICY),
                filter_policy_scope="MessageAttributes",
                opts=child,
            )
        aws.backup.VaultNotifications(
            f"{name}-vault-notifications",
            backup_vault_name=self.vault.name,
            sns_topic_arn=self.topic.arn,
            backup_vault_events=list(VAULT_EVENTS),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[topic_policy]),
        )


def vault_access_policy() -> dict[str, Any]:
    """Nobody deletes a recovery point or shortens its retention by hand; lifecycle expiry still works."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyRecoveryPointDeletion",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"],
                "Resource": "*",
            }
        ],
    }


def topic_policy_document(topic_arn: str, account: AwsAccount) -> dict[str, Any]:
    """AWS Backup of this account may publish; nothing reaches the topic without TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AwsBackupPublishes",
                "Effect": "Allow",
                "Principal": {"Service": f"backup.{account.dns_suffix}"},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
