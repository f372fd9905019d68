"""AWS Backup restore testing: the database and the tagged volumes are restored on a schedule, and watched.

A backup nobody restored proves nothing. This component makes AWS Backup restore them
for real, every week, and measure it:

- A restore-testing plan (``golive:restoreTesting.schedule``, UTC) picks the newest
  recovery point of the last ``selectionWindowDays`` in the primary vault
  (``LATEST_WITHIN_WINDOW``, snapshot or continuous: for the database that is a
  point-in-time restore, the path a real recovery takes).
- Two selections: the RDS instance (by ARN) and every EBS volume tagged ``backup=true``
  (the monitoring stack's volumes, tagged by their StorageClass).
- Isolation: the database is restored into its own DB subnet group on the isolated
  subnets and a security group that admits the database port only from a *validator*
  security group (nothing is in it unless a validation job is attached); the copy is
  not Multi-AZ, not public and has no deletion protection (AWS Backup's inferred
  restore metadata), so it never serves traffic and never blocks its own deletion.
  Volumes are restored in one zone, attached to nothing.
- Each restored copy lives ``validationWindowHours`` and AWS Backup then deletes it.
- A dedicated role, trusted by AWS Backup of this account only, holding the AWS-managed
  restore policy and nothing else (no backup, no S3, no inline grants): policy
  ``backup-restore-testing-role-least-privilege``.
- Alerts (PrometheusRule ``golive-restore-testing``, CloudWatch ``AWS/Backup`` through
  the YACE exporter, routed by Alertmanager like every alert): a restore failed, a restore
  is running past the RTO, no restore completed within the schedule's period.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.backup_plan import BACKUP_TAG_KEY, BACKUP_TAG_VALUE
from components.config import AwsAccount, RestoreTestingConfig
from components.data_store import ROLE_TAG
from components.monitoring import rules
from components.monitoring.component import RULE_API, STACK_RELEASE

RESTORE_POLICY = "service-role/AWSBackupServiceRolePolicyForRestores"
"""The only policy of the restore-testing role: what AWS Backup's restore testing documents it needs."""
ALERT_GROUP = "golive-restore-testing"
VALIDATOR_ROLE = "restore-validator"
RESTORED_ROLE = "restore-test"


@dataclass(frozen=True)
class RestoreTestingArgs:
    config: RestoreTestingConfig
    account: AwsAccount
    vault_arn: pulumi.Input[str]
    """The primary backup vault: recovery points are picked there."""
    database_arn: pulumi.Input[str]
    database_port: int
    vpc_id: pulumi.Input[str]
    isolated_subnet_ids: Sequence[pulumi.Input[str]]
    volume_zone: str
    """Where restored volumes are created (an EBS volume lives in one zone)."""
    monitoring_namespace: str = "monitoring"
    runbook_base_url: str = "https://github.com/golive-platform/golive/blob/main/docs/runbooks"
    monitoring: Sequence[pulumi.Resource] = ()
    """What installs the PrometheusRule CRD (the monitoring stack)."""
    alert_rules: bool = True
    """Declare the PrometheusRule; False in the infrastructure phase (``golive:phase``), before the cluster is reachable."""


def plan_name(name: str) -> str:
    """Restore-testing plan and selection names allow letters, digits and underscores only (1-50)."""
    return "".join(c if c.isalnum() else "_" for c in name)[:50]


class RestoreTesting(pulumi.ComponentResource):
    """The restore-testing plan, its two selections, the isolated network for restored copies, the role and the alerts."""

    def __init__(self, name: str, args: RestoreTestingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:backup:RestoreTesting", name, None, opts)
        cfg, account = args.config, args.account
        child = pulumi.ResourceOptions(parent=self)

        self.role = aws.iam.Role(
            f"{name}-role",
            description="AWS Backup restore testing restores recovery points with this role, and nothing else uses it.",
            assume_role_policy=json.dumps(trust_policy(account)),
            tags={"Name": f"{name}-role"},
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-role-restores",
            role=self.role.name,
            policy_arn=f"arn:{account.partition}:iam::aws:policy/{RESTORE_POLICY}",
            opts=child,
        )

        self.validator_security_group = aws.ec2.SecurityGroup(
            f"{name}-validator-sg",
            description=f"{name}: validation jobs that may reach restored copies",
            vpc_id=args.vpc_id,
            tags={"Name": f"{name}-validator-sg", ROLE_TAG: VALIDATOR_ROLE},
            opts=child,
        )
        self.restored_security_group = aws.ec2.SecurityGroup(
            f"{name}-restored-sg",
            description=f"{name}: restored copies, reachable by validators only",
            vpc_id=args.vpc_id,
            ingress=[aws.ec2.SecurityGroupIngressArgs(
                description="PostgreSQL from validation jobs only",
                protocol="tcp", from_port=args.database_port, to_port=args.database_port,
                security_groups=[self.validator_security_group.id],
            )],
            tags={"Name": f"{name}-restored-sg", ROLE_TAG: RESTORED_ROLE},
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-validator-to-restored",
            security_group_id=self.validator_security_group.id,
            description="PostgreSQL to restored copies only",
            ip_protocol="tcp", from_port=args.database_port, to_port=args.database_port,
            referenced_security_group_id=self.restored_security_group.id,
            opts=child,
        )
        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            description=f"{name}: restored databases, isolated subnets",
            subnet_ids=list(args.isolated_subnet_ids),
            tags={"Name": f"{name}-subnets"},
            opts=child,
        )

        self.plan = aws.backup.RestoreTestingPlan(
            f"{name}-plan",
            name=plan_name(f"{name}_plan"),
            schedule_expression=cfg.schedule,
            schedule_expression_timezone="Etc/UTC",
            start_window_hours=cfg.start_window_hours,
            recovery_point_selection=aws.backup.RestoreTestingPlanRecoveryPointSelectionArgs(
                algorithm="LATEST_WITHIN_WINDOW",
                include_vaults=[args.vault_arn],
                recovery_point_types=["CONTINUOUS", "SNAPSHOT"],
                selection_window_days=cfg.selection_window_days,
            ),
            tags={"Name": f"{name}-plan", "golive:rto-minutes": str(cfg.rto_minutes)},
            opts=child,
        )
        selection_opts = pulumi.ResourceOptions(parent=self, depends_on=[attachment])
        self.database_selection = aws.backup.RestoreTestingSelection(
            f"{name}-database",
            name=plan_name(f"{name}_database"),
            restore_testing_plan_name=self.plan.name,
            protected_resource_type="RDS",
            protected_resource_arns=[args.database_arn],
            iam_role_arn=self.role.arn,
            validation_window_hours=cfg.validation_window_hours,
            restore_metadata_overrides={
                "dbSubnetGroupName": self.subnet_group.name,
                "vpcSecurityGroupIds": self.restored_security_group.id.apply(lambda sg: json.dumps([sg])),
                "multiAz": "false",
                "publiclyAccessible": "false",
            },
            opts=selection_opts,
        )
        self.volume_selection = aws.backup.RestoreTestingSelection(
            f"{name}-volumes",
            name=plan_name(f"{name}_volumes"),
            restore_testing_plan_name=self.plan.name,
            protected_resource_type="EBS",
            protected_resource_arns=["*"],
            protected_resource_conditions=aws.backup.RestoreTestingSelectionProtectedResourceConditionsArgs(
                string_equals=[aws.backup.RestoreTestingSelectionProtectedResourceConditionsStringEqualArgs(
                    key=f"aws:ResourceTag/{BACKUP_TAG_KEY}", value=BACKUP_TAG_VALUE,
                )],
            ),
            iam_role_arn=self.role.arn,
            validation_window_hours=cfg.validation_window_hours,
            restore_metadata_overrides={"availabilityZone": args.volume_zone},
            opts=selection_opts,
        )

        self.alerts = alert_group(cfg)
        self.prometheus_rule: k8s.apiextensions.CustomResource | None = None
        if args.alert_rules:
            self._alert_rules(name, args)

        self.plan_arn = self.plan.arn
        self.register_outputs({
            "planArn": self.plan.arn,
            "planName": self.plan.name,
            "roleArn": self.role.arn,
            "restoredSecurityGroupId": self.restored_security_group.id,
            "validatorSecurityGroupId": self.validator_security_group.id,
            "subnetGroupName": self.subnet_group.name,
        })

    def _alert_rules(self, name: str, args: RestoreTestingArgs) -> None:
        self.prometheus_rule = k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version=RULE_API,
            kind="PrometheusRule",
            metadata={"name": ALERT_GROUP, "namespace": args.monitoring_namespace,
                      "labels": {"release": STACK_RELEASE, "app.kubernetes.io/part-of": "golive"}},
            spec={"groups": [rules.group_dict(self.alerts, args.runbook_base_url)]},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.monitoring)),
        )


def trust_policy(account: AwsAccount) -> dict[str, Any]:
    """AWS Backup of this account, and nobody else, assumes the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": f"backup.{account.dns_suffix}"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
        }],
    }


# --------------------------------------------------------------------------- alerts


def _duration(minutes: int) -> str:
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def alert_group(cfg: RestoreTestingConfig) -> rules.RuleGroup:
    """Restore jobs as AWS Backup reports them to CloudWatch (``AWS/Backup``, per vault and resource type, via YACE).

    Missing datapoints read as 0 (``nilToZero``), so "no restore completed for N days"
    is a run of zeros. "Past the RTO" is a restore job running for the whole RTO window:
    AWS Backup counts running restore jobs every period while they run.
    """
    vault = 'dimension_BackupVaultName="golive-backup-vault-0a1b2c3"'
    rds = f'{vault},dimension_ResourceType="RDS"'
    ebs = f'{vault},dimension_ResourceType="EBS"'
    labels = {"dimension_BackupVaultName": "golive-backup-vault-0a1b2c3", "dimension_ResourceType": "RDS"}
    rto = _duration(cfg.rto_minutes)
    window = f"{cfg.expected_every_days + 1}d"
    period_min = 5
    over = cfg.rto_minutes // period_min + 3  # running samples for the RTO plus a margin
    days_5m = (cfg.expected_every_days + 2) * 24 * 12
    return rules.RuleGroup(ALERT_GROUP, (
        rules.Alert(
            name="RestoreTestFailed",
            expr=("sum by (dimension_BackupVaultName, dimension_ResourceType) "
                  "(max_over_time(aws_backup_number_of_restore_jobs_failed_sum[1h])) > 0"),
            severity="warning",
            service="backup",
            summary="A restore of {{ $labels.dimension_ResourceType }} from vault {{ $labels.dimension_BackupVaultName }} failed",
            description=("{{ $value | humanize }} restore job(s) failed in the last hour: the backups of this resource type may "
                         "not be restorable, and the RTO is unproven until one succeeds."),
            runbook="RestoreTestFailed",
            fires=rules.Scenario("a failed restore", ((f"aws_backup_number_of_restore_jobs_failed_sum{{{rds}}}", "0 0 1 0x10"),),
                                 at="10m", firing=(rules.Firing(labels, 1),)),
            quiet=rules.Scenario("restores completed, none failed",
                                 ((f"aws_backup_number_of_restore_jobs_failed_sum{{{rds}}}", "0x12"),
                                  (f"aws_backup_number_of_restore_jobs_completed_sum{{{rds}}}", "0 0 1 0x9")), at="10m"),
        ),
        rules.Alert(
            name="RestoreTestOverRto",
            expr=("min by (dimension_BackupVaultName, dimension_ResourceType) "
                  f"(min_over_time(aws_backup_number_of_restore_jobs_running_maximum[{rto}])) > 0"),
            severity="warning",
            service="backup",
            summary="A restore of {{ $labels.dimension_ResourceType }} has run longer than the RTO",
            description=(f"A restore job from vault {{{{ $labels.dimension_BackupVaultName }}}} has been running for {rto} (the "
                         "RTO) and has not finished ({{ $value | humanize }} running): a real recovery would miss the objective."),
            runbook="RestoreTestOverRto",
            fires=rules.Scenario("a restore running past the RTO",
                                 ((f"aws_backup_number_of_restore_jobs_running_maximum{{{rds}}}", f"0 1x{over}"),),
                                 at=f"{(over + 1) * period_min}m", interval=f"{period_min}m", firing=(rules.Firing(labels, 1),)),
            quiet=rules.Scenario("a restore that finishes within the RTO",
                                 ((f"aws_backup_number_of_restore_jobs_running_maximum{{{rds}}}",
                                   f"0 1x{max(1, over - 6)} 0x6"),),
                                 at=f"{(over + 1) * period_min}m", interval=f"{period_min}m"),
        ),
        rules.Alert(
            name="NoRecentRestoreTest",
            expr=("sum by (dimension_BackupVaultName) "
                  f"(sum_over_time(aws_backup_number_of_restore_jobs_completed_sum[{window}])) == 0"),
            severity="warning",
            service="backup",
            summary="No restore completed from vault {{ $labels.dimension_BackupVaultName }} for " + window,
            description=(f"{{{{ $value | humanize }}}} restore jobs completed in {window}: the restore-testing plan did not run "
                         "or never finished, so nothing proves the backups restore."),
            runbook="NoRecentRestoreTest",
            fires=rules.Scenario(f"no restore completed for {window}",
                                 ((f"aws_backup_number_of_restore_jobs_completed_sum{{{ebs}}}", f"0x{days_5m}"),),
                                 at=f"{cfg.expected_every_days + 2}d", interval="5m",
                                 firing=(rules.Firing({"dimension_BackupVaultName": labels["dimension_BackupVaultName"]}, 0),)),
            quiet=rules.Scenario("a restore completed two days ago",
                                 ((f"aws_backup_number_of_restore_jobs_completed_sum{{{ebs}}}",
                                   f"0x{days_5m - 2 * 24 * 12} 1 0x{2 * 24 * 12 - 1}"),),
                                 at=f"{cfg.expected_every_days + 2}d", interval="5m"),
        ),
    ))
