"""Customer-managed KMS keys, one per concern, so each can be audited and revoked alone."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import AwsAccount


@dataclass(frozen=True)
class EncryptionKeyArgs:
    """What the key protects and who may use it.

    ``service_principals`` are AWS service short names (``logs``, ``rds``, ``s3``…)
    allowed to use the key on this account's behalf; CloudWatch Logs needs its
    regional principal and an encryption-context condition, added automatically.
    """

    description: str
    account: AwsAccount
    service_principals: tuple[str, ...] = ()
    deletion_window_days: int = 30
    """Days a scheduled deletion waits; 30 (the maximum) leaves time to notice a mistake."""


class EncryptionKey(pulumi.ComponentResource):
    """A KMS key with rotation on, a 30-day deletion window and an alias ``alias/golive/<name>``."""

    key: aws.kms.Key
    alias: aws.kms.Alias

    def __init__(self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:security:EncryptionKey", name, None, opts)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=args.description,
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.deletion_window_days,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=json.dumps(key_policy(args)),
            tags={"Name": name},
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/golive/{name}",
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.key.arn, "keyId": self.key.key_id})


def key_policy(args: EncryptionKeyArgs) -> dict:
    """Account root administers the key (IAM policies grant use); listed services may encrypt."""
    account = args.account
    statements: list[dict] = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": account.root_arn},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    for service in args.service_principals:
        principal = f"{service}.{account.region}.{account.dns_suffix}" if service == "logs" else f"{service}.{account.dns_suffix}"
        statement: dict = {
            "Sid": f"Allow{service.title().replace('-', '').replace('.', '')}",
            "Effect": "Allow",
            "Principal": {"Service": principal},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
        }
        if service == "logs":
            statement["Condition"] = {
                "ArnLike": {"kms:EncryptionContext:aws:logs:arn": account.arn("logs", "*")}
            }
        else:
            statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account.account_id}}
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}
