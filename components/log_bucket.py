"""An S3 bucket that receives logs from an AWS service (ALB access logs, CloudTrail, S3 access logs).

Every log bucket gets the same guard rails: versioning, default encryption, all four
public-access blocks, bucket-owner-enforced object ownership (no ACLs), a bucket
policy that denies plain-HTTP access, and a lifecycle that expires old logs. The
writing service's permissions are added to the same policy by the caller. Given a
``server_access_log_bucket``, the bucket's own S3 server access logs go there.

ALB and S3 server access logs can only be written to SSE-S3 (AES256) buckets, so a
bucket without a KMS key accepts that risk explicitly: it carries the exemption tag
``golive:exempt:s3-bucket-encryption-kms`` with the reason, and golive's verdict lists
it as an accepted risk (the policy also checks the bucket really receives such logs).
Other accepted risks (``exemptions``) become exemption tags the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

EXEMPT_TAG_PREFIX = "golive:exempt:"
ENCRYPTION_POLICY = "s3-bucket-encryption-kms"
ACCESS_LOG_PREFIX = "s3-access/"


@dataclass(frozen=True)
class LogBucketArgs:
    """What the bucket holds and who writes to it.

    ``writer_statements(bucket_arn)`` returns the policy statements that let the
    logging service write; ``partition`` is the account's (the bucket's ARN is built
    from its name, which a first preview already knows); ``kms_key_arn`` None means SSE-S3, which needs
    ``encryption_exception`` (the reason, stored in the exemption tag).
    ``server_access_log_bucket``: the bucket (name) that receives this bucket's S3
    server access logs, under ``s3-access/<purpose>/``; None for a bucket that is
    itself the end of the access-log chain. ``exemptions``: policy name -> reason,
    risks this bucket accepts (tagged ``golive:exempt:<policy>``).
    """

    purpose: str
    expiry_days: int
    writer_statements: Callable[[str], list[dict]]
    partition: str
    kms_key_arn: pulumi.Input[str] | None = None
    encryption_exception: str = ""
    object_lock_days: int | None = None
    noncurrent_expiry_days: int = 30
    server_access_log_bucket: pulumi.Input[str] | None = None
    exemptions: tuple[tuple[str, str], ...] = ()


class LogBucket(pulumi.ComponentResource):
    """A private, versioned, encrypted, TLS-only S3 bucket with log expiry."""

    def __init__(self, name: str, args: LogBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:security:LogBucket", name, None, opts)
        if args.kms_key_arn is None and not args.encryption_exception:
            raise ValueError(f"{name}: a log bucket without a KMS key must say why (encryption_exception)")
        child = pulumi.ResourceOptions(parent=self)
        tags = {"Name": name, "purpose": args.purpose}
        if args.kms_key_arn is None:
            tags[EXEMPT_TAG_PREFIX + ENCRYPTION_POLICY] = args.encryption_exception
        for policy, reason in args.exemptions:
            tags[EXEMPT_TAG_PREFIX + policy] = reason
        locked = args.object_lock_days is not None

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            force_destroy=False,
            object_lock_enabled=True if locked else None,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        bucket_id = self.bucket.id
        self.arn = bucket_arn(args.partition, self.bucket)
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket_id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        if args.kms_key_arn is None:
            default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(sse_algorithm="AES256")
            bucket_key = None
        else:
            default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn
            )
            bucket_key = True
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=default, bucket_key_enabled=bucket_key
                )
            ],
            opts=child,
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket_id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.expiry_days),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.noncurrent_expiry_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning]),
        )
        if locked:
            self.object_lock = aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket_id,
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode="GOVERNANCE", days=args.object_lock_days
                    )
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning]),
            )
        if args.server_access_log_bucket is not None:
            self.access_logging = aws.s3.BucketLogging(
                f"{name}-access-logging",
                bucket=bucket_id,
                target_bucket=args.server_access_log_bucket,
                target_prefix=f"{ACCESS_LOG_PREFIX}{args.purpose}/",
                target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                    partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(partition_date_source="EventTime")
                ),
                opts=child,
            )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=self.arn.apply(lambda arn: json.dumps(bucket_policy(arn, args.writer_statements(arn)))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )
        self.name = self.bucket.bucket
        self.register_outputs({"bucketName": self.bucket.bucket, "bucketArn": self.arn})


def bucket_arn(partition: str, bucket: aws.s3.Bucket) -> pulumi.Output[str]:
    """The bucket's ARN from its name: Pulumi's autonamer sets the name at preview, while the
    provider's ``arn`` output stays unknown until the bucket exists, and so would every policy
    built from it."""
    return pulumi.Output.concat("arn:", partition, ":s3:::", bucket.bucket)


def bucket_policy(bucket_arn: str, writer_statements: list[dict]) -> dict:
    """The writer's statements plus a deny of any request not made over TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            *writer_statements,
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def server_access_log_writer(bucket_arn: str, account_id: str, dns_suffix: str) -> dict:
    """S3's logging service may write server access logs of this account's buckets, under ``s3-access/``."""
    return {
        "Sid": "S3ServerAccessLogsDelivery",
        "Effect": "Allow",
        "Principal": {"Service": f"logging.s3.{dns_suffix}"},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/{ACCESS_LOG_PREFIX}*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
