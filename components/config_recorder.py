"""AWS Config: the recorder Security Hub's FSBP and CIS controls read.

Without a recorder most Security Hub controls report nothing and ``Config.1`` fails.
The recorder records every supported resource type continuously, global ones (IAM)
included, with the ``AWSServiceRoleForConfig`` service-linked role; the delivery
channel writes configuration history and daily snapshots to a dedicated log bucket,
encrypted with its own key; the recorder status switches recording on once the
channel exists (AWS refuses to start a recorder without one).

The recorder, channel and status are the region's singleton (one of each per region):
``golive:singletons.configRecorder`` decides whether they are declared now
(``create``), from the ``all`` phase on after an import (``adopt``), or never
(``skip``, when the organization records centrally). The key and bucket are this
stack's own in every mode but ``skip``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import AwsAccount, AwsConfigConfig
from components.kms import EncryptionKey, EncryptionKeyArgs
from components.log_bucket import LogBucket, LogBucketArgs


@dataclass(frozen=True)
class ConfigRecorderArgs:
    config: AwsConfigConfig
    account: AwsAccount
    role_arn: str
    """The AWSServiceRoleForConfig service-linked role's ARN."""
    role_dependencies: Sequence[pulumi.Resource] = ()
    """The role's declaration, when this stack creates it."""
    declare_recorder: bool = True
    """False while an adopted recorder is not imported yet (the infrastructure phase)."""
    adopted: bool = False
    """The recorder predates the stack: destroying the stack keeps it."""
    server_access_log_bucket: pulumi.Input[str] | None = None
    """The bucket that receives the delivery bucket's S3 server access logs (the Baseline's)."""


REPLICATION_POLICY = "s3-bucket-cross-region-replication"
# The accepted risk, as an S3 tag value (letters, digits, spaces and _ . : / = + - @ only).
HISTORY_NOT_REPLICATED = (
    "configuration history is evidence AWS Config also keeps for its retention period: an off-region copy belongs "
    "to the organization aggregator and log-archive account, not to a workload stack"
)


def delivery_statements(bucket_arn: str, account: AwsAccount) -> list[dict]:
    """What AWS Config needs on its bucket: check the ACL and the bucket, write under AWSLogs/<account>/Config/."""
    principal = {"Service": f"config.{account.dns_suffix}"}
    source = {"StringEquals": {"AWS:SourceAccount": account.account_id}}
    return [
        {"Sid": "AWSConfigBucketPermissionsCheck", "Effect": "Allow", "Principal": principal, "Action": "s3:GetBucketAcl",
         "Resource": bucket_arn, "Condition": source},
        {"Sid": "AWSConfigBucketExistenceCheck", "Effect": "Allow", "Principal": principal, "Action": "s3:ListBucket",
         "Resource": bucket_arn, "Condition": source},
        {"Sid": "AWSConfigBucketDelivery", "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
         "Resource": f"{bucket_arn}/AWSLogs/{account.account_id}/Config/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "AWS:SourceAccount": account.account_id}}},
    ]


class ConfigRecorder(pulumi.ComponentResource):
    """A continuous recorder of all supported types, its delivery channel, bucket and key, switched on."""

    recorder: aws.cfg.Recorder | None = None
    channel: aws.cfg.DeliveryChannel | None = None
    status: aws.cfg.RecorderStatus | None = None

    def __init__(self, name: str, args: ConfigRecorderArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:security:ConfigRecorder", name, None, opts)
        cfg, account = args.config, args.account
        child = pulumi.ResourceOptions(parent=self)
        self.key = EncryptionKey(
            f"{name}-config",
            EncryptionKeyArgs(description=f"{name} AWS Config history and snapshots", account=account, service_principals=("config",)),
            opts=child,
        )
        self.bucket = LogBucket(
            f"{name}-config",
            LogBucketArgs(
                purpose="aws-config",
                expiry_days=cfg.expiry_days,
                writer_statements=lambda arn: delivery_statements(arn, account),
                partition=account.partition,
                kms_key_arn=self.key.arn,
                server_access_log_bucket=args.server_access_log_bucket,
                exemptions=((REPLICATION_POLICY, HISTORY_NOT_REPLICATED),),
            ),
            opts=child,
        )
        outputs: dict[str, pulumi.Input[str]] = {"bucketName": self.bucket.name}
        if args.declare_recorder:
            def singleton(*after: pulumi.Resource) -> pulumi.ResourceOptions:
                return pulumi.ResourceOptions(parent=self, retain_on_delete=args.adopted, depends_on=list(after))

            self.recorder = aws.cfg.Recorder(
                f"{name}-config-recorder",
                name=cfg.recorder_name,
                role_arn=args.role_arn,
                recording_group=aws.cfg.RecorderRecordingGroupArgs(all_supported=True, include_global_resource_types=True),
                recording_mode=aws.cfg.RecorderRecordingModeArgs(recording_frequency="CONTINUOUS"),
                opts=singleton(*args.role_dependencies),
            )
            self.channel = aws.cfg.DeliveryChannel(
                f"{name}-config-delivery",
                name=cfg.recorder_name,
                s3_bucket_name=self.bucket.bucket.id,
                s3_kms_key_arn=self.key.arn,
                snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(delivery_frequency=cfg.delivery_frequency),
                opts=singleton(self.recorder, self.bucket.policy),
            )
            self.status = aws.cfg.RecorderStatus(
                f"{name}-config-recording",
                name=self.recorder.name,
                is_enabled=True,
                opts=singleton(self.channel),
            )
            outputs["recorderName"] = self.recorder.name
        self.register_outputs(outputs)
