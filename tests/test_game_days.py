"""GameDays: four FIS experiment templates, each with stop alarms, a least-privilege role, encrypted logs and its claim."""

from __future__ import annotations

import json
import re

import pytest

from components.config import ConfigError, parse
from tests.helpers import deps, one, props

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
RDS = "aws:rds/instance:Instance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
EKS = "aws:eks/cluster:Cluster"
ALB = "aws:lb/loadBalancer:LoadBalancer"
VPC = "aws:ec2/vpc:Vpc"
AWS_PROVIDER = "pulumi:providers:aws"

# From the AWS FIS actions reference and targets page: (action id, action target key, target resource type, permissions).
FIS = {
    "database-failover": ("aws:rds:reboot-db-instances", "DBInstances", "aws:rds:db",
                          {"rds:RebootDBInstance", "rds:DescribeDBInstances", "tag:GetResources"}),
    "cache-failover": ("aws:elasticache:replicationgroup-interrupt-az-power", "ReplicationGroups", "aws:elasticache:replicationgroup",
                       {"elasticache:InterruptClusterAzPower", "elasticache:DescribeReplicationGroups", "tag:GetResources"}),
    "zone-nodes": ("aws:ec2:terminate-instances", "Instances", "aws:ec2:instance",
                   {"ec2:TerminateInstances", "ec2:DescribeInstances"}),
    "zone-network": ("aws:network:disrupt-connectivity", "Subnets", "aws:ec2:subnet",
                     {"ec2:CreateNetworkAcl", "ec2:CreateNetworkAclEntry", "ec2:CreateTags", "ec2:DeleteNetworkAcl",
                      "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                      "ec2:GetManagedPrefixListEntries", "ec2:ReplaceNetworkAclAssociation"}),
}
LOG_DELIVERY = {"logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}
# The prod stack's golive:gameDays, network and catalog.
ZONE = "eu-west-1a"
PROD = {"cacheMinutes": 10, "networkMinutes": 10, "databaseSeconds": 120, "cacheSeconds": 60, "stop5xx": 5.0, "latency": 1.0,
        "stopMinutes": 3, "unavailableMinutes": 5, "cacheNodes": 3}
CLAIMS = {"database-failover": ("rto", 120), "cache-failover": ("rto", 60), "zone-nodes": ("zero-downtime-failover", 0),
          "zone-network": ("zero-downtime-failover", 0)}
TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]{0,256}")  # the characters AWS accepts in a tag value


def template(prod, key: str) -> dict:
    return one(prod, TEMPLATE, f"golive-game-days-{key}")


def alarm(prod, key: str) -> dict:
    return one(prod, ALARM, f"golive-game-days-{key}")


def test_four_templates_with_the_documented_action_ids_targets_and_keys(prod):
    assert {t["name"] for t in prod.of_type(TEMPLATE)} == {f"golive-game-days-{k}" for k in FIS}
    for key, (action_id, target_key, resource_type, _) in FIS.items():
        p = props(template(prod, key))
        targets = {t["name"]: t for t in p["targets"]}
        assert p["actions"], key
        for action in p["actions"]:
            assert action["actionId"] == action_id and action["target"]["key"] == target_key
            assert targets[action["target"]["value"]]["resourceType"] == resource_type


def test_the_database_experiment_forces_a_multi_az_failover_of_the_instance(prod):
    p = props(template(prod, "database-failover"))
    (action,) = p["actions"]
    assert {x["key"]: x["value"] for x in action["parameters"]} == {"forceFailover": "true"}
    assert deps(template(prod, "database-failover"), "targets") == [one(prod, RDS, "golive-db-instance")["urn"]]
    assert props(one(prod, RDS, "golive-db-instance"))["multiAz"] is True


def test_the_cache_experiment_powers_off_the_primary_zone_of_this_replication_group(prod):
    p = props(template(prod, "cache-failover"))
    (target,) = p["targets"]
    (action,) = p["actions"]
    assert target["parameters"] == {"availabilityZoneIdentifier": ZONE}
    assert {x["key"]: x["value"] for x in action["parameters"]} == {"duration": f"PT{PROD['cacheMinutes']}M"}
    cache = props(one(prod, CACHE, "golive-cache"))
    assert cache["preferredCacheClusterAzs"][0] == ZONE and cache["multiAzEnabled"] is True
    provider_tags = props(one(prod, AWS_PROVIDER, "aws-primary"))["defaultTags"]
    provider_tags = json.loads(provider_tags)["tags"] if isinstance(provider_tags, str) else provider_tags["tags"]
    actual = {**provider_tags, **cache["tags"]}
    wanted = {t["key"]: t["value"] for t in target["resourceTags"]}
    assert wanted.items() <= actual.items() and set(wanted) - {"environment", "project", "owner", "cost-center", "managed-by"}


def test_the_node_experiment_terminates_only_this_clusters_running_nodes_in_one_zone(prod):
    p = props(template(prod, "zone-nodes"))
    (target,) = p["targets"]
    assert target["resourceTags"] == [{"key": "eks:cluster-name", "value": props(one(prod, EKS, "golive-eks"))["name"]}]
    assert target["filters"] == [{"path": "Placement.AvailabilityZone", "values": [ZONE]}, {"path": "State.Name", "values": ["running"]}]


def test_the_network_experiment_cuts_every_tier_of_the_zone_in_this_vpc(prod):
    record = template(prod, "zone-network")
    p = props(record)
    assert sorted(t["resourceTags"][0]["value"] for t in p["targets"]) == ["isolated", "private", "public"]
    vpc = one(prod, VPC, "golive-vpc")
    for target in p["targets"]:
        assert target["parameters"]["availabilityZoneIdentifier"] == ZONE and target["parameters"]["vpc"] == vpc["computed"].get(
            "id", target["parameters"]["vpc"])
    assert vpc["urn"] in deps(record, "targets")
    for action in p["actions"]:
        assert {x["key"]: x["value"] for x in action["parameters"]} == {"scope": "all", "duration": f"PT{PROD['networkMinutes']}M"}


def test_stop_conditions_are_the_declared_alarms(prod):
    wanted = {"database-failover": {"alb-5xx", "database-unavailable"}, "cache-failover": {"alb-5xx", "cache-no-primary"},
              "zone-nodes": {"alb-5xx", "target-latency"},
              "zone-network": {"alb-5xx", "target-latency", "database-unavailable", "cache-no-primary"}}
    for key, alarms in wanted.items():
        record = template(prod, key)
        conditions = props(record)["stopConditions"]
        assert all(c["source"] == "aws:cloudwatch:alarm" for c in conditions) and len(conditions) == len(alarms)
        assert set(deps(record, "stopConditions")) == {alarm(prod, a)["urn"] for a in alarms}


def test_the_alarms_watch_the_load_balancer_and_the_data_stores_with_the_configured_thresholds(prod):
    lb = one(prod, ALB, "golive-alb")
    ratio = props(alarm(prod, "alb-5xx"))
    assert ratio["threshold"] == PROD["stop5xx"] and ratio["comparisonOperator"] == "GreaterThanThreshold"
    assert ratio["evaluationPeriods"] == ratio["datapointsToAlarm"] == PROD["stopMinutes"]
    metrics = {q["id"]: q.get("metric") for q in ratio["metricQueries"]}
    assert {m["metricName"] for m in metrics.values() if m} == {"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "RequestCount"}
    assert lb["urn"] in deps(alarm(prod, "alb-5xx"), "metricQueries")
    latency = props(alarm(prod, "target-latency"))
    assert (latency["metricName"], latency["extendedStatistic"], latency["threshold"]) == ("TargetResponseTime", "p95", PROD["latency"])
    assert lb["urn"] in deps(alarm(prod, "target-latency"), "dimensions")
    database = props(alarm(prod, "database-unavailable"))
    assert (database["metricName"], database["comparisonOperator"], database["threshold"]) == ("DatabaseConnections", "LessThanThreshold", 1)
    assert database["evaluationPeriods"] == PROD["unavailableMinutes"] and database["treatMissingData"] == "breaching"
    cache = props(alarm(prod, "cache-no-primary"))
    nodes = [q["metric"] for q in cache["metricQueries"] if q.get("metric")]
    assert len(nodes) == PROD["cacheNodes"] and {n["metricName"] for n in nodes} == {"IsMaster"}
    assert sorted(n["dimensions"]["CacheClusterId"] for n in nodes) == [f"golive-cache-00{i}" for i in range(1, 4)]
    assert cache["treatMissingData"] == "breaching"


def test_each_experiment_has_its_own_least_privilege_role(prod):
    roles = set()
    for key, (_, _, _, permissions) in FIS.items():
        record = template(prod, key)
        (role_urn,) = deps(record, "roleArn")
        roles.add(role_urn)
        role = prod.by_urn()[role_urn]
        (statement,) = json.loads(props(role)["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Service": "fis.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
        (policy,) = [p for p in prod.of_type(ROLE_POLICY) if role_urn in deps(p, "role")]
        statements = json.loads(props(policy)["policy"])["Statement"]
        actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert actions == permissions | LOG_DELIVERY, key
        for s in statements:
            mutating = {a for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
                        if not a.split(":")[1].startswith(("Describe", "Get"))} - LOG_DELIVERY
            if mutating:
                assert s["Resource"] != "*" and "*" not in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]), (key, s)
    assert len(roles) == 4


def test_the_role_grants_name_the_experiments_own_targets(prod):
    def grants(key):
        (role_urn,) = deps(template(prod, key), "roleArn")
        (policy,) = [p for p in prod.of_type(ROLE_POLICY) if role_urn in deps(p, "role")]
        return {s["Sid"]: s for s in json.loads(props(policy)["policy"])["Statement"]}

    assert grants("database-failover")["RebootWithFailover"]["Resource"] == one(prod, RDS, "golive-db-instance")["computed"]["arn"]
    assert grants("cache-failover")["InterruptZonePower"]["Resource"].endswith(":replicationgroup:golive-cache")
    nodes = grants("zone-nodes")["TerminateClusterNodes"]
    assert nodes["Condition"] == {"StringEquals": {"aws:ResourceTag/eks:cluster-name": props(one(prod, EKS, "golive-eks"))["name"]}}
    swap = grants("zone-network")["SwapAclsInThisVpc"]
    assert swap["Condition"]["StringEquals"]["ec2:Vpc"].startswith("arn:aws:ec2:eu-west-1:123456789012:vpc/")
    assert grants("zone-network")["ChangeFisNetworkAcl"]["Condition"] == {"StringEquals": {"aws:ResourceTag/managedByFIS": "true"}}


def test_every_experiment_logs_to_one_kms_encrypted_log_group(prod):
    group = one(prod, LOG_GROUP, "golive-game-days-logs")
    (key_urn,) = deps(group, "kmsKeyId")
    key_policy = json.loads(props(prod.by_urn()[key_urn])["policy"])
    assert any(s["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"} for s in key_policy["Statement"])
    assert props(group)["retentionInDays"] == 365
    for key in FIS:
        record = template(prod, key)
        logging = props(record)["logConfiguration"]
        assert logging["logSchemaVersion"] == 2
        assert logging["cloudwatchLogsConfiguration"]["logGroupArn"].endswith(":*")
        assert deps(record, "logConfiguration") == [group["urn"]]


def test_tags_name_the_claim_each_experiment_tests(prod):
    for key, (claim, budget) in CLAIMS.items():
        tags = props(template(prod, key))["tags"]
        assert tags["golive:game-day"] == key and tags["golive:claim"] == claim
        assert tags["golive:claim-budget-seconds"] == str(budget)
        assert all(TAG_VALUE.fullmatch(v) for v in tags.values()), tags


def test_without_game_days_nothing_is_declared(without_operational_proof):
    off = without_operational_proof
    assert not off.of_type(TEMPLATE) and not [a for a in off.of_type(ALARM) if "game-days" in a["name"]]


def test_a_zone_outside_the_network_is_refused():
    with pytest.raises(ConfigError) as raised:
        parse({"gameDays": {"zone": "eu-west-1d"}})
    assert [p.key for p in raised.value.problems] == ["golive:gameDays.zone"]


@pytest.mark.parametrize(("game_days", "key"), [
    ({"cacheInterruptionMinutes": 0}, "golive:gameDays.cacheInterruptionMinutes"),
    ({"networkDisruptionMinutes": 721}, "golive:gameDays.networkDisruptionMinutes"),
    ({"stop5xxPercent": 100}, "golive:gameDays.stop5xxPercent"),
    ({"stopEvaluationMinutes": 0}, "golive:gameDays.stopEvaluationMinutes"),
    ({"unavailableMinutes": 31}, "golive:gameDays.unavailableMinutes"),
    ({"logRetentionDays": 30}, "golive:gameDays.logRetentionDays"),
])
def test_bad_game_day_config_names_the_key(game_days, key):
    with pytest.raises(ConfigError) as raised:
        parse({"gameDays": game_days})
    assert key in [p.key for p in raised.value.problems]


def test_the_latency_stop_defaults_to_the_tightest_slo_threshold():
    cfg = parse({"edge": {"domain": "example.com", "hostedZoneId": "Z0123456789ABCDEFGHIJ"}, "services": [{"name": "a", "host": "a.example.com", "slo": {"latencyThresholdSeconds": 0.4}},
                              {"name": "b", "host": "b.example.com"}]})
    assert cfg.game_days.latency_stop_seconds(cfg.services) == 0.4
    assert parse({"gameDays": {"stopLatencySeconds": 2}}).game_days.latency_stop_seconds(()) == 2
