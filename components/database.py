"""RDS PostgreSQL: the system of record, so every default leans towards never losing it.

- Multi-AZ, storage and Performance Insights encrypted with the database's own KMS key.
- The master password never exists outside AWS: RDS generates it, keeps it in Secrets
  Manager (encrypted with the same key) and rotates it; applications use IAM auth or
  the secret's ARN.
- Automated backups (point-in-time recovery) for ``backupRetentionDays``, a final
  snapshot on delete, deletion protection and ``protect`` against ``pulumi destroy``.
  The stack keeps ``backupRetentionDays`` equal to AWS Backup's continuous rule: the
  instance is tagged ``backup=true`` and that rule manages the same PITR retention.
- The final snapshot's name carries a random suffix made once per instance identifier,
  so re-creating the stack never collides with the snapshot a previous deletion left.
  Read replicas take none: RDS refuses a final snapshot of a replica, whose data lives
  in its source.
- Reachable only on the isolated subnets and only from the client security group
  (the EKS nodes); TLS is forced by the parameter group.
- Log groups are created here, before the instance, so they are encrypted and retained
  instead of being auto-created by RDS with neither.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.config import AwsAccount, DatabaseConfig
from components.data_store import ROLE_TAG, data_store_security_group
from components.kms import EncryptionKey, EncryptionKeyArgs

CA_CERTIFICATE = "rds-ca-rsa2048-g1"
LOG_EXPORTS = ("postgresql", "upgrade")


@dataclass(frozen=True)
class DatabaseArgs:
    """The database's config and where it lives.

    ``client_security_group_id`` is the only group admitted on the PostgreSQL port
    (the cluster's node security group).
    """

    config: DatabaseConfig
    account: AwsAccount
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    isolated_subnet_ids: Sequence[pulumi.Input[str]]
    client_security_group_id: pulumi.Input[str]


def parameters(cfg: DatabaseConfig) -> list[aws.rds.ParameterGroupParameterArgs]:
    """TLS only, slow statements and connections logged, pg_stat_statements loaded."""
    static = "pending-reboot"  # shared_preload_libraries takes effect only after a restart
    return [
        aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
        aws.rds.ParameterGroupParameterArgs(name="ssl_min_protocol_version", value="TLSv1.2"),
        aws.rds.ParameterGroupParameterArgs(name="log_min_duration_statement", value=str(cfg.slow_statement_ms)),
        aws.rds.ParameterGroupParameterArgs(name="log_connections", value="1"),
        aws.rds.ParameterGroupParameterArgs(name="log_disconnections", value="1"),
        aws.rds.ParameterGroupParameterArgs(name="shared_preload_libraries", value="pg_stat_statements", apply_method=static),
    ]


class Database(pulumi.ComponentResource):
    """An RDS PostgreSQL instance (and optional read replicas) with its key, network and logs."""

    instance: aws.rds.Instance
    replicas: list[aws.rds.Instance]
    kms_key: EncryptionKey
    security_group: aws.ec2.SecurityGroup

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:data:Database", name, None, opts)
        cfg, account = args.config, args.account
        child = pulumi.ResourceOptions(parent=self)

        self.kms_key = EncryptionKey(
            name,
            EncryptionKeyArgs(
                description=f"{name}: RDS storage, Performance Insights, master user secret, log groups",
                account=account,
                service_principals=("logs",),
            ),
            opts=child,
        )
        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=f"{name}-isolated",
            description=f"{name}: isolated subnets, no route to the internet",
            subnet_ids=list(args.isolated_subnet_ids),
            tags={"Name": f"{name}-subnets"},
            opts=child,
        )
        self.security_group = data_store_security_group(
            name,
            what="PostgreSQL",
            role="database",
            port=cfg.port,
            vpc_id=args.vpc_id,
            vpc_cidr=args.vpc_cidr,
            client_security_group_id=args.client_security_group_id,
            opts=child,
        )
        self.parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            # The family in the name lets a major upgrade create the new group beside the old one.
            name=f"{name}-{cfg.parameter_group_family}",
            description=f"{name}: TLS only, slow statements, connections, pg_stat_statements",
            family=cfg.parameter_group_family,
            parameters=parameters(cfg),
            tags={"Name": f"{name}-params"},
            opts=child,
        )
        self.monitoring_role = aws.iam.Role(
            f"{name}-monitoring-role",
            description=f"{name}: lets RDS enhanced monitoring publish OS metrics",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": f"monitoring.rds.{account.dns_suffix}"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
                        }
                    ],
                }
            ),
            tags={"Name": f"{name}-monitoring"},
            opts=child,
        )
        self.monitoring_attachment = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring-policy",
            role=self.monitoring_role.name,
            policy_arn=f"arn:{account.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
            opts=child,
        )

        self.log_groups: dict[str, aws.cloudwatch.LogGroup] = {}
        self.instance = self._instance(name, cfg, replica_of=None)
        self.replicas = [self._instance(f"{name}-replica-{i + 1}", cfg, replica_of=self.instance) for i in range(cfg.read_replicas)]

        self.endpoint = self.instance.endpoint
        self.address = self.instance.address
        self.port = self.instance.port
        self.master_secret_arn = self.instance.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn if secrets else None)
        self.replica_addresses = [r.address for r in self.replicas]
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "address": self.address,
                "port": self.port,
                "masterSecretArn": self.master_secret_arn,
                "replicaAddresses": self.replica_addresses,
                "kmsKeyArn": self.kms_key.arn,
                "securityGroupId": self.security_group.id,
            }
        )

    def _instance(self, identifier: str, cfg: DatabaseConfig, replica_of: aws.rds.Instance | None) -> aws.rds.Instance:
        """The primary, or a replica with the same guarantees (it inherits engine, user and database)."""
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{identifier}-{export}-logs",
                name=f"/aws/rds/instance/{identifier}/{export}",
                retention_in_days=cfg.log_retention_days,
                kms_key_id=self.kms_key.arn,
                tags={"Name": f"{identifier}-{export}"},
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            for export in LOG_EXPORTS
        ]
        self.log_groups.update({f"{identifier}/{export}": group for export, group in zip(LOG_EXPORTS, log_groups, strict=True)})
        if replica_of is None:
            source: dict = dict(
                engine="postgres",
                engine_version=cfg.engine_version,
                db_name=cfg.database_name,
                username=cfg.master_username,
                manage_master_user_password=True,
                master_user_secret_kms_key_id=self.kms_key.arn,
                allocated_storage=cfg.allocated_storage_gb,
                db_subnet_group_name=self.subnet_group.name,
                skip_final_snapshot=False,
                final_snapshot_identifier=self._final_snapshot_name(identifier),
            )
        else:
            # RDS rejects DeleteDBInstance with a final snapshot for a replica (its data lives
            # in the source, which keeps the snapshots), so a replica must skip it.
            source = dict(replicate_source_db=replica_of.identifier, skip_final_snapshot=True)
        return aws.rds.Instance(
            f"{identifier}-instance",
            identifier=identifier,
            instance_class=cfg.instance_class,
            port=cfg.port,
            storage_type="gp3",
            max_allocated_storage=cfg.max_allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=self.kms_key.arn,
            multi_az=True,
            publicly_accessible=False,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=self.parameter_group.name,
            ca_cert_identifier=CA_CERTIFICATE,
            iam_database_authentication_enabled=True,
            backup_retention_period=cfg.backup_retention_days,
            backup_window=cfg.backup_window,
            maintenance_window=cfg.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            deletion_protection=True,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=self.kms_key.arn,
            performance_insights_retention_period=cfg.performance_insights_retention_days,
            monitoring_interval=cfg.monitoring_interval_seconds,
            monitoring_role_arn=self.monitoring_role.arn,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            tags={"Name": identifier, "backup": "true", ROLE_TAG: "database"},
            **source,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=True,
                depends_on=[*log_groups, self.monitoring_attachment],
            ),
        )

    def _final_snapshot_name(self, identifier: str) -> pulumi.Output[str]:
        """``<identifier>-final-<8 hex>``: a fixed name would collide with the snapshot an earlier deletion left.

        The suffix is made with the instance (keepers: its identifier), is stable across
        updates and new for every re-creation of the stack.
        """
        suffix = random.RandomId(
            f"{identifier}-final-snapshot-suffix",
            byte_length=4,
            keepers={"identifier": identifier},
            opts=pulumi.ResourceOptions(parent=self),
        )
        return pulumi.Output.concat(identifier, "-final-", suffix.hex)
