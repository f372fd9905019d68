"""Scheduled rotation of a Secrets Manager secret by golive's rotation function.

AWS ships rotation functions for RDS, Redshift, DocumentDB and ElastiCache *users*
(RBAC), but none for an ElastiCache AUTH token or an OpenSearch master user, although
both services change them in place (``ModifyReplicationGroup`` with
``AuthTokenUpdateStrategy``, ``UpdateDomainConfig``). ``components/rotation/handler.py``
does it; this component deploys it for one secret:

- the function: Python 3.12, 15-minute timeout (the service applies the change
  while it waits), one concurrent execution, X-Ray tracing, environment encrypted
  with the secret's key. It calls only AWS APIs (Secrets Manager, ElastiCache or
  OpenSearch, KMS) and never the data store, so it runs outside the VPC;
- its role: this secret, this key (through Secrets Manager and Lambda only), this
  replication group or domain, its own log group; nothing else;
- its log group (the secret's key, retained like every log group);
- the permission for Secrets Manager to invoke it, for this secret only;
- the ``SecretRotation`` with its schedule. The first rotation waits for the schedule
  (``rotate_immediately=False``): a deployment never changes a credential under
  running clients. Pulumi keeps the initial value it generated as input, so a later
  ``pulumi up`` never writes the old credential back (the service's inputs are
  write-only and unchanged).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.config import AwsAccount

RotationTarget = Literal["elasticache-auth-token", "opensearch-master-user"]
HANDLER_DIR = "components/rotation"
RUNTIME = "python3.12"
TIMEOUT_SECONDS = 900

# What the function may do to its target, and the ARN it may do it on.
TARGET_ACTIONS: dict[str, tuple[str, ...]] = {
    "elasticache-auth-token": ("elasticache:DescribeReplicationGroups", "elasticache:ModifyReplicationGroup"),
    "opensearch-master-user": ("es:DescribeDomain", "es:DescribeDomainConfig", "es:UpdateDomainConfig"),
}


@dataclass(frozen=True)
class SecretRotationArgs:
    """The secret, its key, and the credential it holds.

    ``target_id`` is the replication group id or the domain name; ``target_arn`` its
    ARN (what the role may modify). ``depends_on`` are the resources that must exist
    before a rotation may run (the replication group or domain).
    """

    secret: aws.secretsmanager.Secret
    kms_key_arn: pulumi.Input[str]
    target: RotationTarget
    target_id: pulumi.Input[str]
    target_arn: pulumi.Input[str]
    rotation_days: int
    log_retention_days: int
    account: AwsAccount
    depends_on: tuple[pulumi.Resource, ...] = ()


class SecretRotation(pulumi.ComponentResource):
    """A rotation function, its role, log group and permission, and the secret's rotation schedule."""

    def __init__(self, name: str, args: SecretRotationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:security:SecretRotation", name, None, opts)
        account = args.account
        child = pulumi.ResourceOptions(parent=self)
        function_name = f"{name}-rotation"[:64]
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-rotation",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.kms_key_arn,
            tags={"Name": f"{name}-rotation"},
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-rotation",
            description=f"Rotation function of {name}: this secret and this {args.target.split('-')[0]} only.",
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": f"lambda.{account.dns_suffix}"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
                }],
            }),
            tags={"Name": f"{name}-rotation"},
            opts=child,
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-rotation",
            role=self.role.id,
            policy=pulumi.Output.json_dumps(
                rotation_policy(args.secret.arn, args.kms_key_arn, args.target, args.target_arn, self.log_group.arn, account)
            ),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            f"{name}-rotation",
            name=function_name,
            description=f"Rotates {args.target} in Secrets Manager ({name})",
            role=self.role.arn,
            runtime=RUNTIME,
            handler="handler.lambda_handler",
            code=pulumi.FileArchive(HANDLER_DIR),
            timeout=TIMEOUT_SECONDS,
            memory_size=128,
            reserved_concurrent_executions=1,
            kms_key_arn=args.kms_key_arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={"ROTATION_TARGET": args.target, "TARGET_ID": args.target_id}
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=self.log_group.name),
            tags={"Name": f"{name}-rotation"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy]),
        )
        self.permission = aws.lambda_.Permission(
            f"{name}-rotation",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal=f"secretsmanager.{account.dns_suffix}",
            source_arn=args.secret.arn,
            source_account=account.account_id,
            opts=child,
        )
        self.rotation = aws.secretsmanager.SecretRotation(
            f"{name}-rotation",
            secret_id=args.secret.id,
            rotation_lambda_arn=self.function.arn,
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(automatically_after_days=args.rotation_days),
            rotate_immediately=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.permission, *args.depends_on]),
        )
        self.register_outputs({"functionArn": self.function.arn, "rotationDays": args.rotation_days})


def rotation_policy(
    secret_arn: pulumi.Input[str],
    key_arn: pulumi.Input[str],
    target: str,
    target_arn: pulumi.Input[str],
    log_group_arn: pulumi.Input[str],
    account: AwsAccount,
) -> dict:
    """The secret's versions, its key via Secrets Manager and Lambda, the target's credential, the function's logs."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RotateThisSecret",
                "Effect": "Allow",
                "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                           "secretsmanager:UpdateSecretVersionStage"],
                "Resource": secret_arn,
            },
            {
                # GetRandomPassword takes no resource ARN (Service Authorization Reference).
                "Sid": "GeneratePasswords",
                "Effect": "Allow",
                "Action": "secretsmanager:GetRandomPassword",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": account.region}},
            },
            {
                "Sid": "UseTheSecretsKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": [f"secretsmanager.{account.region}.{account.dns_suffix}",
                                                                  f"lambda.{account.region}.{account.dns_suffix}"]}},
            },
            {
                "Sid": "ChangeTheCredential",
                "Effect": "Allow",
                "Action": list(TARGET_ACTIONS[target]),
                "Resource": target_arn,
            },
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": pulumi.Output.concat(log_group_arn, ":*"),
            },
            {
                # X-Ray trace segments take no resource ARN either.
                "Sid": "Trace",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": account.region}},
            },
        ],
    }
