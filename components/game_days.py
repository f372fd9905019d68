"""Game days: AWS FIS experiment templates for the failures the platform claims to survive.

Each template rehearses one claim and names it in its tags (``golive:claim`` = ``rto`` or
``zero-downtime-failover``, ``golive:claim-budget-seconds``, ``golive:claim-detail``);
docs/game-days.md says how to run it and which result proves the claim.

- ``database-failover``: ``aws:rds:reboot-db-instances`` with ``forceFailover`` on the
  Multi-AZ instance (by ARN): the standby takes over within the claimed seconds.
- ``cache-failover``: ``aws:elasticache:replicationgroup-interrupt-az-power`` on the
  replication group (by its tags; FIS takes no ARN for it) in the zone of its primary:
  a replica is promoted.
- ``zone-nodes``: ``aws:ec2:terminate-instances`` on the cluster's running nodes in one
  zone (the managed node group's ``eks:cluster-name`` tag, ``Placement.AvailabilityZone``
  filter). ``aws:eks:terminate-nodegroup-instances`` only takes a percentage of the whole
  node group, so it cannot aim at one zone.
- ``zone-network``: ``aws:network:disrupt-connectivity`` (scope ``all``) on the zone's
  public, private and isolated subnets of this VPC: the zone is cut off.

Every template stops on CloudWatch alarms declared here: the load balancer's 5xx ratio
and its targets' p95 response time, and for the data tier a database without
connections or a cache without primary for longer than any failover takes. Each has its
own role, allowed only its own action on its own targets (and log delivery), and logs to
one KMS-encrypted log group.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config import AwsAccount, GameDaysConfig
from components.kms import EncryptionKey, EncryptionKeyArgs

SUBNET_TIERS = ("public", "private", "isolated")
CLAIM_RTO = "rto"
CLAIM_ZERO_DOWNTIME = "zero-downtime-failover"
LOG_DELIVERY_ACTIONS = ("logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups")
"""What FIS needs to deliver an experiment's log to CloudWatch Logs (vended logs)."""


@dataclass(frozen=True)
class GameDaysArgs:
    config: GameDaysConfig
    account: AwsAccount
    zone: str
    """The zone the zonal experiments impair (the cache primary's)."""
    latency_stop_seconds: float
    database_arn: pulumi.Input[str]
    database_identifier: pulumi.Input[str]
    cache_replication_group_id: pulumi.Input[str]
    cache_tags: Mapping[str, str]
    """Tags that identify the replication group (FIS selects replication groups by tag only)."""
    cache_members: int
    cluster_name: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]


@dataclass(frozen=True)
class Experiment:
    """What one template rehearses: the claim, the role's grants, the stop alarms, the FIS actions and targets."""

    key: str
    description: str
    claim: str
    budget_seconds: int
    detail: str
    stops: tuple[str, ...]
    scope: pulumi.Input[str]
    """What the role's grants are scoped to (see ``role_statements``)."""
    targets: list[aws.fis.ExperimentTemplateTargetArgs]
    actions: list[aws.fis.ExperimentTemplateActionArgs]


class GameDays(pulumi.ComponentResource):
    """Four FIS experiment templates, their stop alarms, one role each and their encrypted log group."""

    def __init__(self, name: str, args: GameDaysArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:resilience:GameDays", name, None, opts)
        cfg, account = args.config, args.account
        child = pulumi.ResourceOptions(parent=self)

        self.log_key = EncryptionKey(
            f"{name}-logs",
            EncryptionKeyArgs(description=f"{name}: FIS experiment logs", account=account, service_principals=("logs",)),
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/golive/fis/{name}",
            retention_in_days=cfg.log_retention_days,
            kms_key_id=self.log_key.arn,
            tags={"Name": f"{name}-logs"},
            opts=child,
        )
        self.alarms = self._alarms(name, args)

        self.templates: dict[str, aws.fis.ExperimentTemplate] = {}
        self.roles: dict[str, aws.iam.Role] = {}
        for experiment in experiments(args):
            self.roles[experiment.key] = role = aws.iam.Role(
                f"{name}-{experiment.key}-role",
                description=f"AWS FIS runs the {experiment.key} game day with this role, and nothing else uses it.",
                assume_role_policy=json.dumps(trust_policy(account)),
                tags={"Name": f"{name}-{experiment.key}-role"},
                opts=child,
            )
            policy = aws.iam.RolePolicy(
                f"{name}-{experiment.key}-policy",
                role=role.id,
                policy=pulumi.Output.from_input(experiment.scope).apply(
                    lambda scope, key=experiment.key: json.dumps(
                        {"Version": "2012-10-17", "Statement": role_statements(key, account, scope)})
                ),
                opts=child,
            )
            self.templates[experiment.key] = aws.fis.ExperimentTemplate(
                f"{name}-{experiment.key}",
                description=experiment.description,
                role_arn=role.arn,
                stop_conditions=[
                    aws.fis.ExperimentTemplateStopConditionArgs(source="aws:cloudwatch:alarm", value=self.alarms[stop].arn)
                    for stop in experiment.stops
                ],
                targets=experiment.targets,
                actions=experiment.actions,
                log_configuration=aws.fis.ExperimentTemplateLogConfigurationArgs(
                    log_schema_version=2,
                    cloudwatch_logs_configuration=aws.fis.ExperimentTemplateLogConfigurationCloudwatchLogsConfigurationArgs(
                        log_group_arn=pulumi.Output.concat(self.log_group.arn, ":*"),
                    ),
                ),
                experiment_options=aws.fis.ExperimentTemplateExperimentOptionsArgs(
                    account_targeting="single-account", empty_target_resolution_mode="fail",
                ),
                tags={
                    "Name": f"{name}-{experiment.key}",
                    "golive:game-day": experiment.key,
                    "golive:claim": experiment.claim,
                    "golive:claim-budget-seconds": str(experiment.budget_seconds),
                    "golive:claim-detail": experiment.detail,
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
            )

        self.template_ids = {key: t.id for key, t in self.templates.items()}
        self.register_outputs({
            "templateIds": self.template_ids,
            "logGroupName": self.log_group.name,
            "stopAlarmArns": {key: alarm.arn for key, alarm in self.alarms.items()},
        })

    def _alarms(self, name: str, args: GameDaysArgs) -> dict[str, aws.cloudwatch.MetricAlarm]:
        """The stop conditions: the service's view (ALB) and each data store's availability."""
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        minutes = cfg.stop_evaluation_minutes
        alb = {"LoadBalancer": args.load_balancer_arn_suffix}

        def alb_metric(query_id: str, metric: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/ApplicationELB", metric_name=metric, dimensions=alb, period=60, stat="Sum"),
            )

        alarms = {
            "alb-5xx": aws.cloudwatch.MetricAlarm(
                f"{name}-alb-5xx",
                alarm_description=(f"Game-day stop condition: more than {cfg.stop_5xx_percent:g}% of the load balancer's responses "
                                   f"are 5xx for {minutes} minutes."),
                comparison_operator="GreaterThanThreshold",
                threshold=cfg.stop_5xx_percent,
                evaluation_periods=minutes,
                datapoints_to_alarm=minutes,
                treat_missing_data="notBreaching",
                metric_queries=[
                    aws.cloudwatch.MetricAlarmMetricQueryArgs(
                        id="ratio", label="5xx percent of requests", return_data=True,
                        expression="100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / MAX([FILL(requests, 0), 1])",
                    ),
                    alb_metric("elb5xx", "HTTPCode_ELB_5XX_Count"),
                    alb_metric("target5xx", "HTTPCode_Target_5XX_Count"),
                    alb_metric("requests", "RequestCount"),
                ],
                tags={"Name": f"{name}-alb-5xx"},
                opts=child,
            ),
            "target-latency": aws.cloudwatch.MetricAlarm(
                f"{name}-target-latency",
                alarm_description=(f"Game-day stop condition: the targets' p95 response time exceeds {args.latency_stop_seconds:g} s "
                                   f"(the latency SLO threshold) for {minutes} minutes."),
                namespace="AWS/ApplicationELB",
                metric_name="TargetResponseTime",
                dimensions=alb,
                extended_statistic="p95",
                period=60,
                comparison_operator="GreaterThanThreshold",
                threshold=args.latency_stop_seconds,
                evaluation_periods=minutes,
                datapoints_to_alarm=minutes,
                treat_missing_data="notBreaching",
                tags={"Name": f"{name}-target-latency"},
                opts=child,
            ),
            "database-unavailable": aws.cloudwatch.MetricAlarm(
                f"{name}-database-unavailable",
                alarm_description=(f"Game-day stop condition: the database has had no connection for {cfg.unavailable_minutes} "
                                   "minutes, longer than a Multi-AZ failover takes."),
                namespace="AWS/RDS",
                metric_name="DatabaseConnections",
                dimensions={"DBInstanceIdentifier": args.database_identifier},
                statistic="Maximum",
                period=60,
                comparison_operator="LessThanThreshold",
                threshold=1,
                evaluation_periods=cfg.unavailable_minutes,
                datapoints_to_alarm=cfg.unavailable_minutes,
                treat_missing_data="breaching",
                tags={"Name": f"{name}-database-unavailable"},
                opts=child,
            ),
            "cache-no-primary": aws.cloudwatch.MetricAlarm(
                f"{name}-cache-no-primary",
                alarm_description=(f"Game-day stop condition: no cache node has been primary for {cfg.unavailable_minutes} minutes, "
                                   "longer than a replica promotion takes."),
                comparison_operator="LessThanThreshold",
                threshold=1,
                evaluation_periods=cfg.unavailable_minutes,
                datapoints_to_alarm=cfg.unavailable_minutes,
                treat_missing_data="breaching",
                metric_queries=[
                    aws.cloudwatch.MetricAlarmMetricQueryArgs(
                        id="primaries", label="primary nodes", return_data=True,
                        expression=" + ".join(f"FILL(node{i}, 0)" for i in range(1, args.cache_members + 1)),
                    ),
                    *[
                        aws.cloudwatch.MetricAlarmMetricQueryArgs(
                            id=f"node{i}",
                            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                                namespace="AWS/ElastiCache", metric_name="IsMaster", period=60, stat="Maximum",
                                dimensions={"CacheClusterId": pulumi.Output.concat(args.cache_replication_group_id, f"-{i:03d}"),
                                            "CacheNodeId": "0001"},
                            ),
                        )
                        for i in range(1, args.cache_members + 1)
                    ],
                ],
                tags={"Name": f"{name}-cache-no-primary"},
                opts=child,
            ),
        }
        return alarms


def trust_policy(account: AwsAccount) -> dict[str, Any]:
    """AWS FIS of this account, and nobody else, assumes the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": f"fis.{account.dns_suffix}"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
        }],
    }


def _log_delivery() -> dict[str, Any]:
    # Vended-log delivery actions take no resource ARN.
    return {"Sid": "DeliverExperimentLog", "Effect": "Allow", "Action": list(LOG_DELIVERY_ACTIONS), "Resource": "*"}


def _param(key: str, value: pulumi.Input[str]) -> aws.fis.ExperimentTemplateActionParameterArgs:
    return aws.fis.ExperimentTemplateActionParameterArgs(key=key, value=value)


def _iso_minutes(minutes: int) -> str:
    return f"PT{minutes}M"


def experiments(args: GameDaysArgs) -> list[Experiment]:
    """The four templates; their action ids, target types and keys are those of AWS FIS's actions reference."""
    cfg, account, zone = args.config, args.account, args.zone
    partition, region, account_id = account.partition, account.region, account.account_id
    database = Experiment(
        key="database-failover",
        description="Reboot the database with a forced Multi-AZ failover: the standby takes over.",
        claim=CLAIM_RTO,
        budget_seconds=cfg.database_failover_seconds,
        detail=f"the database fails over to its standby within {cfg.database_failover_seconds} s",
        stops=("alb-5xx", "database-unavailable"),
        targets=[aws.fis.ExperimentTemplateTargetArgs(
            name="database", resource_type="aws:rds:db", selection_mode="ALL", resource_arns=[args.database_arn])],
        actions=[aws.fis.ExperimentTemplateActionArgs(
            name="failover", action_id="aws:rds:reboot-db-instances",
            description="Reboot with failover to the standby in another zone",
            parameters=[_param("forceFailover", "true")],
            target=aws.fis.ExperimentTemplateActionTargetArgs(key="DBInstances", value="database"))],
        scope=args.database_arn,
    )
    cache_arn = pulumi.Output.concat(f"arn:{partition}:elasticache:{region}:{account_id}:replicationgroup:",
                                     args.cache_replication_group_id)
    cache = Experiment(
        key="cache-failover",
        description=f"Interrupt power to the cache nodes in {zone} (the primary's zone): a replica is promoted.",
        claim=CLAIM_RTO,
        budget_seconds=cfg.cache_failover_seconds,
        detail=f"a cache replica is promoted within {cfg.cache_failover_seconds} s",
        stops=("alb-5xx", "cache-no-primary"),
        targets=[aws.fis.ExperimentTemplateTargetArgs(
            name="cache", resource_type="aws:elasticache:replicationgroup", selection_mode="ALL",
            resource_tags=[aws.fis.ExperimentTemplateTargetResourceTagArgs(key=k, value=v) for k, v in sorted(args.cache_tags.items())],
            parameters={"availabilityZoneIdentifier": zone})],
        actions=[aws.fis.ExperimentTemplateActionArgs(
            name="interrupt-zone-power", action_id="aws:elasticache:replicationgroup-interrupt-az-power",
            description=f"Power off the cache nodes in {zone}",
            parameters=[_param("duration", _iso_minutes(cfg.cache_interruption_minutes))],
            target=aws.fis.ExperimentTemplateActionTargetArgs(key="ReplicationGroups", value="cache"))],
        scope=cache_arn,
    )
    nodes = Experiment(
        key="zone-nodes",
        description=f"Terminate every running cluster node in {zone}: pods reschedule in the other zones.",
        claim=CLAIM_ZERO_DOWNTIME,
        budget_seconds=0,
        detail=f"the services keep their SLOs while every node in {zone} is lost",
        stops=("alb-5xx", "target-latency"),
        targets=[aws.fis.ExperimentTemplateTargetArgs(
            name="nodes", resource_type="aws:ec2:instance", selection_mode="ALL",
            resource_tags=[aws.fis.ExperimentTemplateTargetResourceTagArgs(key="eks:cluster-name", value=args.cluster_name)],
            filters=[aws.fis.ExperimentTemplateTargetFilterArgs(path="Placement.AvailabilityZone", values=[zone]),
                     aws.fis.ExperimentTemplateTargetFilterArgs(path="State.Name", values=["running"])])],
        actions=[aws.fis.ExperimentTemplateActionArgs(
            name="terminate-zone-nodes", action_id="aws:ec2:terminate-instances",
            description=f"Terminate the cluster's nodes in {zone}",
            target=aws.fis.ExperimentTemplateActionTargetArgs(key="Instances", value="nodes"))],
        scope=args.cluster_name,
    )
    network = Experiment(
        key="zone-network",
        description=f"Deny all traffic to and from this VPC's subnets in {zone}: the zone is cut off.",
        claim=CLAIM_ZERO_DOWNTIME,
        budget_seconds=0,
        detail=f"the services keep their SLOs while {zone} is unreachable",
        stops=("alb-5xx", "target-latency", "database-unavailable", "cache-no-primary"),
        targets=[
            aws.fis.ExperimentTemplateTargetArgs(
                name=f"{tier}-subnets", resource_type="aws:ec2:subnet", selection_mode="ALL",
                resource_tags=[aws.fis.ExperimentTemplateTargetResourceTagArgs(key="tier", value=tier)],
                parameters={"availabilityZoneIdentifier": zone, "vpc": args.vpc_id})
            for tier in SUBNET_TIERS
        ],
        actions=[
            aws.fis.ExperimentTemplateActionArgs(
                name=f"disrupt-{tier}", action_id="aws:network:disrupt-connectivity",
                description=f"Cut the {tier} subnet in {zone} off",
                parameters=[_param("scope", "all"), _param("duration", _iso_minutes(cfg.network_disruption_minutes))],
                target=aws.fis.ExperimentTemplateActionTargetArgs(key="Subnets", value=f"{tier}-subnets"))
            for tier in SUBNET_TIERS
        ],
        scope=args.vpc_id,
    )
    return [database, cache, nodes, network]


def role_statements(key: str, account: AwsAccount, value: str) -> list[dict[str, Any]]:
    """Least privilege per experiment: its own action on its own targets, the look-ups FIS makes, log delivery.

    ``value`` is the experiment's scoping input: the database ARN, the replication group ARN,
    the cluster name or the VPC id.
    """
    partition, region, account_id = account.partition, account.region, account.account_id
    ec2 = f"arn:{partition}:ec2:{region}:{account_id}"
    if key == "database-failover":
        grants = [
            {"Sid": "RebootWithFailover", "Effect": "Allow", "Action": "rds:RebootDBInstance", "Resource": value},
            {"Sid": "FindTargets", "Effect": "Allow", "Action": ["rds:DescribeDBInstances", "tag:GetResources"], "Resource": "*"},
        ]
    elif key == "cache-failover":
        grants = [
            {"Sid": "InterruptZonePower", "Effect": "Allow", "Action": "elasticache:InterruptClusterAzPower", "Resource": value},
            {"Sid": "FindTargets", "Effect": "Allow", "Action": ["elasticache:DescribeReplicationGroups", "tag:GetResources"],
             "Resource": "*"},
        ]
    elif key == "zone-nodes":
        grants = [
            {"Sid": "TerminateClusterNodes", "Effect": "Allow", "Action": "ec2:TerminateInstances", "Resource": f"{ec2}:instance/*",
             "Condition": {"StringEquals": {"aws:ResourceTag/eks:cluster-name": value}}},
            {"Sid": "FindTargets", "Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
        ]
    elif key == "zone-network":
        vpc = f"{ec2}:vpc/{value}"
        fis_acl = {"StringEquals": {"aws:ResourceTag/managedByFIS": "true"}}
        grants = [
            {"Sid": "CreateFisNetworkAcl", "Effect": "Allow", "Action": ["ec2:CreateNetworkAcl", "ec2:CreateTags"],
             "Resource": [f"{ec2}:network-acl/*", vpc], "Condition": {"StringEquals": {"aws:RequestTag/managedByFIS": "true"}}},
            {"Sid": "ChangeFisNetworkAcl", "Effect": "Allow", "Action": ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"],
             "Resource": f"{ec2}:network-acl/*", "Condition": fis_acl},
            {"Sid": "SwapAclsInThisVpc", "Effect": "Allow", "Action": "ec2:ReplaceNetworkAclAssociation",
             "Resource": [f"{ec2}:network-acl/*", f"{ec2}:subnet/*"], "Condition": {"StringEquals": {"ec2:Vpc": vpc}}},
            {"Sid": "FindTargets", "Effect": "Allow", "Action": [
                "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                "ec2:GetManagedPrefixListEntries"], "Resource": "*"},
        ]
    else:
        raise ValueError(f"unknown experiment {key}")
    return [*grants, _log_delivery()]
