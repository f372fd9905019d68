"""Immutable backup buckets: a primary in the stack's region, a replica in the DR region.

Why each piece is there:
- Object Lock (set at creation, default retention from config) and versioning: a
  compromised account or a ransomware tool cannot overwrite or delete a backup
  version before its retention ends.
- SSE-KMS with a customer-managed key per region (bucket keys on, fewer KMS calls);
  the bucket policy refuses plain HTTP, TLS < 1.2, SSE-C and uploads naming another
  algorithm or key, so every object ends up under the bucket's own key.
- Replication to the DR region with Replication Time Control (15 minutes, the RPO),
  replica encryption with the DR key and delete markers *not* replicated: a delete in
  the primary never propagates.
- Server access logs to a log bucket in each region. S3 delivers access logs only
  to SSE-S3 buckets, so the log buckets (``components.log_bucket.LogBucket``) use
  AES256 and accept that risk with the reason in their
  ``golive:exempt:s3-bucket-encryption-kms`` tag (shown as accepted risk; the policy
  checks they really receive access logs). They are not replicated either (reason in
  their ``golive:exempt:s3-bucket-cross-region-replication`` tag).
- ``protect`` and ``retain_on_delete``: neither a mistaken ``pulumi destroy`` nor a
  refactor that drops the resource deletes the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config import AwsAccount, BackupConfig
from components.kms import EncryptionKey, EncryptionKeyArgs
from components.log_bucket import LogBucket, LogBucketArgs, bucket_arn

S3_ACCESS_LOGS_EXCEPTION = "S3 delivers server access logs only to buckets encrypted with SSE-S3 (AES256), not SSE-KMS"
"""Why the log buckets use SSE-S3 (their ``golive:exempt:s3-bucket-encryption-kms`` tag)."""
ACCESS_LOGS_NOT_REPLICATED = (
    "S3 server access logs of the backup buckets: request records for investigations, not backups; the replica bucket "
    "in the DR region has its own"
)
"""Why the log buckets are not replicated (their ``golive:exempt:s3-bucket-cross-region-replication`` tag)."""
ACCESS_LOG_PREFIX = "s3-access/"

PURPOSE_BACKUPS = "backups"
PURPOSE_REPLICA = "backups-replica"
REPLICATION_MINUTES = 15
"""Replication Time Control's only threshold: 99.99 % of objects replicate within 15 minutes."""


@dataclass(frozen=True)
class BackupStorageArgs:
    config: BackupConfig
    account: AwsAccount
    """The stack's account and primary region."""
    dr_account: AwsAccount
    """The same account in the DR region."""
    dr_provider: aws.Provider
    """The explicit AWS provider of the DR region; every DR resource is created through it."""


class BackupStorage(pulumi.ComponentResource):
    """Primary and DR backup buckets, their keys, access-log buckets and cross-region replication."""

    def __init__(self, name: str, args: BackupStorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:backup:BackupStorage", name, None, opts)
        cfg = args.config
        primary = pulumi.ResourceOptions(parent=self)
        dr = pulumi.ResourceOptions(parent=self, provider=args.dr_provider)

        self.key = EncryptionKey(
            f"{name}-objects",
            EncryptionKeyArgs(description=f"{name}: backup objects in {args.account.region}", account=args.account),
            opts=primary,
        )
        self.dr_key = EncryptionKey(
            f"{name}-dr-objects",
            EncryptionKeyArgs(description=f"{name}: replicated backup objects in {args.dr_account.region}", account=args.dr_account),
            opts=dr,
        )
        self.log_bucket = self._log_bucket(f"{name}-logs", cfg, args.account, f"{name}-bucket-", primary)
        self.dr_log_bucket = self._log_bucket(f"{name}-dr-logs", cfg, args.dr_account, f"{name}-dr-bucket-", dr)

        self.bucket, self.versioning = self._backup_bucket(
            name, PURPOSE_BACKUPS, cfg, self.key, self.log_bucket, args.account.partition, primary)
        self.dr_bucket, self.dr_versioning = self._backup_bucket(
            f"{name}-dr", PURPOSE_REPLICA, cfg, self.dr_key, self.dr_log_bucket, args.dr_account.partition, dr
        )

        self.bucket_name = self.bucket.bucket
        self.bucket_arn = bucket_arn(args.account.partition, self.bucket)
        self.dr_bucket_name = self.dr_bucket.bucket
        self.dr_bucket_arn = bucket_arn(args.dr_account.partition, self.dr_bucket)

        self._replication(name, args)
        self.register_outputs(
            {
                "bucketName": self.bucket.bucket,
                "bucketArn": self.bucket_arn,
                "drBucketName": self.dr_bucket.bucket,
                "drBucketArn": self.dr_bucket_arn,
                "keyArn": self.key.arn,
                "drKeyArn": self.dr_key.arn,
                "logBucketName": self.log_bucket.name,
                "drLogBucketName": self.dr_log_bucket.name,
                "replicationRoleArn": self.replication_role.arn,
            }
        )

    # ------------------------------------------------------------------ buckets

    def _backup_bucket(
        self,
        role: str,
        purpose: str,
        cfg: BackupConfig,
        key: EncryptionKey,
        log_bucket: LogBucket,
        partition: str,
        opts: pulumi.ResourceOptions,
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
        """A locked, versioned, KMS-encrypted (bucket keys on), private bucket with lifecycle and access logging."""
        bucket = aws.s3.Bucket(
            f"{role}-bucket",
            object_lock_enabled=True,
            force_destroy=False,
            tags={"Name": f"{role}-bucket", "purpose": purpose},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True, retain_on_delete=True)),
        )
        versioning = aws.s3.BucketVersioning(
            f"{role}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=opts,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{role}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=opts,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{role}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        )
        aws.s3.BucketOwnershipControls(
            f"{role}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=opts,
        )
        aws.s3.BucketPolicy(
            f"{role}-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket_arn(partition, bucket), key.arn).apply(
                lambda a: json.dumps(backup_bucket_policy(a[0], a[1]))),
            opts=opts,
        )
        aws.s3.BucketObjectLockConfiguration(
            f"{role}-object-lock",
            bucket=bucket.id,
            object_lock_enabled="Enabled",
            rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                    mode=cfg.lock_mode, days=cfg.object_lock_days
                )
            ),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True, depends_on=[versioning])),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{role}-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="tiering-and-version-expiry",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=cfg.transition_ia_days, storage_class="STANDARD_IA"),
                        aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                            days=cfg.transition_archive_days, storage_class=cfg.archive_storage_class
                        ),
                    ],
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=cfg.noncurrent_expiry_days, newer_noncurrent_versions=cfg.noncurrent_versions_kept
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=cfg.abort_multipart_days
                    ),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
                )
            ],
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[versioning])),
        )
        aws.s3.BucketLogging(
            f"{role}-access-logging",
            bucket=bucket.id,
            target_bucket=log_bucket.name,
            target_prefix=ACCESS_LOG_PREFIX,
            target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(partition_date_source="EventTime")
            ),
            opts=opts,
        )
        return bucket, versioning

    def _log_bucket(
        self, role: str, cfg: BackupConfig, account: AwsAccount, source_prefix: str, opts: pulumi.ResourceOptions
    ) -> LogBucket:
        """The region's S3 server access log bucket; SSE-S3 because S3 log delivery supports nothing else."""
        source_arns = [f"arn:{account.partition}:s3:::{source_prefix}*"]
        return LogBucket(
            role,
            LogBucketArgs(
                purpose="s3-access-logs",
                expiry_days=cfg.access_log_retention_days,
                writer_statements=lambda arn: [access_log_writer(arn, source_arns, account)],
                partition=account.partition,
                encryption_exception=S3_ACCESS_LOGS_EXCEPTION,
                exemptions=(("s3-bucket-cross-region-replication", ACCESS_LOGS_NOT_REPLICATED),),
            ),
            opts=opts,
        )

    # ------------------------------------------------------------------ replication

    def _replication(self, name: str, args: BackupStorageArgs) -> None:
        """Primary -> DR, through a role that can read only the source and write only the replica."""
        account, dr_account = args.account, args.dr_account
        child = pulumi.ResourceOptions(parent=self)
        self.replication_role = aws.iam.Role(
            f"{name}-replication-role",
            description="Lets S3 replicate the backup bucket to its DR replica, and nothing else.",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": f"s3.{account.dns_suffix}"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
                        }
                    ],
                }
            ),
            tags={"Name": f"{name}-replication"},
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-replication-policy",
            role=self.replication_role.id,
            policy=pulumi.Output.all(self.bucket_arn, self.key.arn, self.dr_bucket_arn, self.dr_key.arn).apply(
                lambda a: json.dumps(replication_policy(a[0], a[1], a[2], a[3], account, dr_account))
            ),
            opts=child,
        )
        self.replication = aws.s3.BucketReplicationConfig(
            f"{name}-replication",
            bucket=self.bucket.id,
            role=self.replication_role.arn,
            rules=[
                aws.s3.BucketReplicationConfigRuleArgs(
                    id="backups-to-dr-region",
                    status="Enabled",
                    priority=1,
                    filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                    delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Disabled"),
                    source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                            status="Enabled"
                        )
                    ),
                    destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=self.dr_bucket_arn,
                        storage_class="STANDARD",
                        encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                            replica_kms_key_id=self.dr_key.arn
                        ),
                        replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                            status="Enabled",
                            time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(minutes=REPLICATION_MINUTES),
                        ),
                        metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                            status="Enabled",
                            event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(minutes=REPLICATION_MINUTES),
                        ),
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning, self.dr_versioning, policy]),
        )


# ---------------------------------------------------------------------- documents


def _tls_statements(bucket_arn: str) -> list[dict[str, Any]]:
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTlsBelow12",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def backup_bucket_policy(bucket_arn: str, key_arn: str) -> dict[str, Any]:
    """TLS 1.2+ only; uploads are encrypted with the bucket's own KMS key or not accepted.

    Uploads without an encryption header get the bucket's default (its CMK); uploads
    naming another algorithm, another key or a customer-provided key (SSE-C) are denied.
    """
    objects = f"{bucket_arn}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            *_tls_statements(bucket_arn),
            {
                "Sid": "DenyUploadsNotSseKms",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            },
            {
                "Sid": "DenyUploadsWithOtherKeys",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}},
            },
            {
                "Sid": "DenyCustomerProvidedKeys",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
            },
        ],
    }


def access_log_writer(bucket_arn: str, source_arns: list[str], account: AwsAccount) -> dict[str, Any]:
    """The S3 logging service may write access logs of this account's backup buckets, under ``s3-access/``."""
    return {
        "Sid": "S3ServerAccessLogsDelivery",
        "Effect": "Allow",
        "Principal": {"Service": f"logging.s3.{account.dns_suffix}"},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/{ACCESS_LOG_PREFIX}*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": source_arns},
            "StringEquals": {"aws:SourceAccount": account.account_id},
        },
    }


def replication_policy(
    source_arn: str, source_key: str, replica_arn: str, replica_key: str, account: AwsAccount, dr_account: AwsAccount
) -> dict[str, Any]:
    """Read the source's versions (with their lock settings), write replicas, use each side's key via S3 only.

    No ``s3:ReplicateDelete``: delete markers are not replicated, so the role cannot delete in the DR region.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadReplicationConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": [source_arn],
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                    "s3:GetObjectRetention",
                    "s3:GetObjectLegalHold",
                ],
                "Resource": [f"{source_arn}/*"],
            },
            {
                "Sid": "WriteReplicas",
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
                "Resource": [f"{replica_arn}/*"],
            },
            {
                "Sid": "DecryptSource",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [source_key],
                "Condition": {
                    "StringLike": {
                        "kms:ViaService": f"s3.{account.region}.{account.dns_suffix}",
                        "kms:EncryptionContext:aws:s3:arn": [source_arn, f"{source_arn}/*"],
                    }
                },
            },
            {
                "Sid": "EncryptReplicas",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": [replica_key],
                "Condition": {
                    "StringLike": {
                        "kms:ViaService": f"s3.{dr_account.region}.{dr_account.dns_suffix}",
                        "kms:EncryptionContext:aws:s3:arn": [replica_arn, f"{replica_arn}/*"],
                    }
                },
            },
        ],
    }
