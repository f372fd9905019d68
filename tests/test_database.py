"""The Database component as the prod stack synthesizes it, its config rules and window helper."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config import ConfigError, parse, window_intervals, window_minutes, windows_overlap
from golive import engine
from tests.helpers import deps, findings, mutate, of_type, one, props

INSTANCE = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
DATABASE = "golive:data:Database"
RANDOM_ID = "random:index/randomId:RandomId"


@pytest.fixture(scope="module")
def db(prod):
    return one(prod, INSTANCE, "golive-db-instance")


def _dep(prod, record, prop, type_=None):
    found = [prod.by_urn()[u] for u in deps(record, prop)]
    if type_:
        found = [r for r in found if r["type"] == type_]
    assert len(found) == 1, f"{record['name']}.{prop}: {[r['name'] for r in found]}"
    return found[0]


# --------------------------------------------------------------------------- the instance


def test_postgres_engine_class_and_gp3_autoscaling_storage(db):
    p = props(db)
    assert (p["engine"], p["engineVersion"], p["instanceClass"]) == ("postgres", "17", "db.t3.medium")
    assert p["identifier"] == "golive-db"
    assert p["storageType"] == "gp3"
    assert p["allocatedStorage"] == 100 and p["maxAllocatedStorage"] == 500


def test_multi_az_private_and_iam_auth(db):
    p = props(db)
    assert p["multiAz"] is True
    assert p["publiclyAccessible"] is False
    assert p["iamDatabaseAuthenticationEnabled"] is True
    assert p["caCertIdentifier"] == "rds-ca-rsa2048-g1"
    assert p["autoMinorVersionUpgrade"] is True and p["allowMajorVersionUpgrade"] is False


def test_storage_performance_insights_and_master_secret_use_the_database_cmk(prod, db):
    p = props(db)
    assert p["storageEncrypted"] is True and p["performanceInsightsEnabled"] is True
    key = _dep(prod, db, "kmsKeyId")
    assert key["type"] == KMS_KEY and key["name"] == "golive-db-key"
    assert props(key)["enableKeyRotation"] is True and props(key)["deletionWindowInDays"] == 30
    assert key["options"]["protect"] is True
    for prop in ("performanceInsightsKmsKeyId", "masterUserSecretKmsKeyId"):
        assert deps(db, prop) == [key["urn"]]
    assert p["performanceInsightsRetentionPeriod"] == 7


def test_master_password_is_managed_by_rds_and_never_an_input(prod, db):
    assert props(db)["manageMasterUserPassword"] is True
    assert props(db)["username"] == "golive_admin"
    for instance in of_type(prod, INSTANCE):
        assert "password" not in props(instance) and "passwordWo" not in props(instance)


def test_backups_windows_and_deletion_guards(db):
    p = props(db)
    assert p["backupRetentionPeriod"] == 35  # = golive:backup.continuousRetentionDays (AWS Backup manages it)
    # Two hours before AWS Backup's daily rule (02:00, the listings report's time): the two never run at once.
    assert (p["backupWindow"], p["maintenanceWindow"]) == ("00:00-01:00", "sun:04:00-sun:05:00")
    assert not windows_overlap(p["backupWindow"], p["maintenanceWindow"])
    assert p["copyTagsToSnapshot"] is True
    assert p["deletionProtection"] is True
    assert p["skipFinalSnapshot"] is False and re.fullmatch(r"golive-db-final-[0-9a-f]{8}", p["finalSnapshotIdentifier"])
    assert p["deleteAutomatedBackups"] is False
    assert db["options"]["protect"] is True


def test_final_snapshot_name_has_a_suffix_made_once_per_instance_identifier(prod, db):
    """A fixed name would collide with the snapshot a previous deletion of the same identifier left."""
    (suffix,) = deps(db, "finalSnapshotIdentifier")
    random_id = prod.by_urn()[suffix]
    assert random_id["type"] == RANDOM_ID and random_id["name"] == "golive-db-final-snapshot-suffix"
    assert props(random_id)["keepers"] == {"identifier": "golive-db"} and props(random_id)["byteLength"] == 4
    assert random_id["parent"] == db["parent"]


def test_log_groups_are_protected(prod):
    groups = [g for g in of_type(prod, LOG_GROUP) if g["name"].startswith("golive-db-")]
    assert {g["name"] for g in groups} == {"golive-db-postgresql-logs", "golive-db-upgrade-logs"}
    assert all(g["options"]["protect"] is True for g in groups)


def test_tagged_for_the_backup_selection(db):
    assert props(db)["tags"]["backup"] == "true"


def test_enhanced_monitoring_every_60s_with_its_role(prod, db):
    assert props(db)["monitoringInterval"] == 60
    role = _dep(prod, db, "monitoringRoleArn")
    trust = json.loads(props(role)["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    attachment = one(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "golive-db-monitoring")
    assert props(attachment)["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    assert deps(attachment, "role") == [role["urn"]]
    assert attachment["urn"] in db["options"]["dependsOn"]


def test_log_exports_go_to_encrypted_retained_groups_created_first(prod, db):
    assert props(db)["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    key = _dep(prod, db, "kmsKeyId")
    for export in ("postgresql", "upgrade"):
        group = one(prod, LOG_GROUP, f"golive-db-{export}-logs")
        assert props(group)["name"] == f"/aws/rds/instance/golive-db/{export}"
        assert props(group)["retentionInDays"] == 365
        assert deps(group, "kmsKeyId") == [key["urn"]]
        assert group["urn"] in db["options"]["dependsOn"]


def test_parameter_group_forces_tls_and_logs(prod, db):
    group = _dep(prod, db, "parameterGroupName")
    assert group["type"] == PARAMETER_GROUP and props(group)["family"] == "postgres17"
    params = {p["name"]: p for p in props(group)["parameters"]}
    assert params["rds.force_ssl"]["value"] == "1"
    assert params["ssl_min_protocol_version"]["value"] == "TLSv1.2"
    assert params["log_min_duration_statement"]["value"] == "1000"
    assert params["log_connections"]["value"] == "1" and params["log_disconnections"]["value"] == "1"
    assert params["shared_preload_libraries"] == {"name": "shared_preload_libraries", "value": "pg_stat_statements", "applyMethod": "pending-reboot"}


def test_subnet_group_is_the_isolated_subnets(prod, db):
    group = _dep(prod, db, "dbSubnetGroupName")
    subnets = [prod.by_urn()[u] for u in deps(group, "subnetIds")]
    assert len(subnets) == 3 and {props(s)["tags"]["tier"] for s in subnets} == {"isolated"}
    assert len({props(s)["availabilityZone"] for s in subnets}) == 3


def test_security_group_admits_5432_from_the_cluster_nodes_only(prod, db):
    group = _dep(prod, db, "vpcSecurityGroupIds")
    (rule,) = props(group)["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 5432, 5432)
    assert rule["securityGroups"] == [prod.outputs["nodeSecurityGroupId"]]
    assert "cidrBlocks" not in rule and "ipv6CidrBlocks" not in rule
    (egress,) = props(group)["egress"]
    assert egress["cidrBlocks"] == ["10.20.0.0/16"]
    assert props(group)["tags"]["golive:role"] == "database"


def test_everything_sits_under_the_component_with_the_explicit_provider(prod):
    (component,) = of_type(prod, DATABASE)
    children = prod.children_of(component["urn"])
    assert {c["type"] for c in children} >= {INSTANCE, PARAMETER_GROUP, SECURITY_GROUP, LOG_GROUP, "golive:security:EncryptionKey"}
    for child in children:
        if child["custom"] and child["type"].startswith("aws:"):
            assert "::aws-primary::" in child["provider"]


def test_stack_exports_endpoints_ports_and_arns_only(prod, db):
    out = prod.outputs
    assert out["databaseAddress"].endswith(".rds.amazonaws.com")
    assert out["databaseEndpoint"].startswith(f"{out['databaseAddress']}:") and out["databasePort"] == 5432
    assert out["databaseMasterSecretArn"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-")
    assert out["databaseKmsKeyArn"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    assert out["databaseReplicaAddresses"] == []


# --------------------------------------------------------------------------- replicas


@pytest.fixture(scope="module")
def with_replicas():
    from tests.conftest import prod_config

    config, secret_keys = prod_config({"database": {"readReplicas": 2}})
    return engine.synth("prod", config=config, secret_keys=secret_keys)


def test_read_replicas_keep_every_guarantee(with_replicas):
    result = with_replicas
    instances = {r["name"]: r for r in of_type(result, INSTANCE)}
    assert set(instances) == {"golive-db-instance", "golive-db-replica-1-instance", "golive-db-replica-2-instance"}
    primary = instances["golive-db-instance"]
    for i in (1, 2):
        replica = instances[f"golive-db-replica-{i}-instance"]
        p = props(replica)
        assert deps(replica, "replicateSourceDb") == [primary["urn"]]
        assert p["multiAz"] and p["storageEncrypted"] and p["deletionProtection"]
        assert p["tags"]["backup"] == "true" and replica["options"]["protect"] is True
        assert "manageMasterUserPassword" not in p and "password" not in p
        assert deps(replica, "parameterGroupName") == deps(primary, "parameterGroupName")
        group = one(result, LOG_GROUP, f"golive-db-replica-{i}-postgresql-logs")
        assert group["urn"] in replica["options"]["dependsOn"] and group["options"]["protect"] is True
    others = [f for f in findings(result, _data_policy_names()) if "golive-db" in (f.urn or "") and f.policy != "rds-final-snapshot"]
    assert others == []
    assert len(result.outputs["databaseReplicaAddresses"]) == 2


def test_read_replicas_skip_the_final_snapshot_rds_refuses_for_them(with_replicas):
    """DeleteDBInstance fails with InvalidParameterCombination if a replica names a final snapshot."""
    instances = {r["name"]: r for r in of_type(with_replicas, INSTANCE)}
    for i in (1, 2):
        p = props(instances[f"golive-db-replica-{i}-instance"])
        assert p["skipFinalSnapshot"] is True and "finalSnapshotIdentifier" not in p
    primary = props(instances["golive-db-instance"])
    assert primary["skipFinalSnapshot"] is False and primary["finalSnapshotIdentifier"].startswith("golive-db-final-")
    assert [r["name"] for r in of_type(with_replicas, RANDOM_ID) if r["name"].startswith("golive-db")] == ["golive-db-final-snapshot-suffix"]


def test_read_replicas_pass_rds_final_snapshot(with_replicas):
    assert [f.urn for f in findings(with_replicas, "rds-final-snapshot")] == []


def test_a_replica_naming_a_final_snapshot_fails(with_replicas):
    replica = next(r for r in of_type(with_replicas, "aws:rds/instance:Instance") if "replica" in r["name"])
    broken = mutate(with_replicas, replica["urn"], lambda r: r["inputs"].update(finalSnapshotIdentifier="x-final"))
    (finding,) = findings(broken, "rds-final-snapshot")
    assert "RDS rejects" in finding.message


def _data_policy_names():
    from policy.rules import data

    return [p.name for p in data.POLICIES]


# --------------------------------------------------------------------------- in isolation


def _data_tier_program():
    """The Database and Cache components alone, with stand-ins for the network and the cluster."""
    import pulumi
    import pulumi_aws as aws

    from components import config as golive_config
    from components.cache import Cache, CacheArgs
    from components.database import Database, DatabaseArgs

    config, _ = golive_config.load()
    provider = aws.Provider("aws-primary", region=config.region, default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags))
    opts = pulumi.ResourceOptions(providers={"aws": provider})
    nodes = aws.ec2.SecurityGroup("stand-in-nodes", vpc_id="vpc-0123456789abcdef0", description="stand-in node group", opts=opts)
    subnets = ["subnet-0a", "subnet-0b", "subnet-0c"]
    common = dict(account=config.aws, vpc_id="vpc-0123456789abcdef0", vpc_cidr="10.20.0.0/16", isolated_subnet_ids=subnets,
                  client_security_group_id=nodes.id)
    Database("golive-db", DatabaseArgs(config=config.database, **common), opts=opts)
    Cache("golive-cache", CacheArgs(config=config.cache, availability_zones=config.network.azs(config.region), **common), opts=opts)


def test_component_in_isolation_admits_only_the_given_client_group(synth_program):
    result = synth_program(_data_tier_program)
    nodes = one(result, SECURITY_GROUP, "stand-in-nodes")
    for name in ("golive-db-sg", "golive-cache-sg"):
        group = one(result, SECURITY_GROUP, name)
        assert deps(group, "ingress") == [nodes["urn"]]


# Valid data-tier configs: windows are drawn apart from each other so they never overlap.
_hours = st.integers(min_value=0, max_value=10)
_database = st.fixed_dictionaries(
    {
        # At least the policy's 30; golive:backup.continuousRetentionDays follows it (they must be equal).
        "backupRetentionDays": st.integers(min_value=30, max_value=35),
        # Not at 02:00: AWS Backup's daily rule starts then, and the config keeps the two apart.
        "backupWindow": _hours.filter(lambda h: h != 2).map(lambda h: f"{h:02d}:00-{h:02d}:30"),
        "maintenanceWindow": st.sampled_from(["mon", "wed", "sat", "sun"]).map(lambda d: f"{d}:12:00-{d}:13:00"),
        "readReplicas": st.integers(min_value=0, max_value=2),
        "instanceClass": st.sampled_from(["db.t3.medium", "db.r6g.large", "db.m7g.xlarge"]),
        "engineVersion": st.sampled_from(["15", "16.4", "17"]),
        "allocatedStorageGb": st.integers(min_value=20, max_value=1000),
    }
).map(lambda d: {**d, "maxAllocatedStorageGb": d["allocatedStorageGb"] * 2})
_cache = st.fixed_dictionaries(
    {
        "engine": st.sampled_from(["redis", "valkey"]),
        "numNodes": st.integers(min_value=3, max_value=6),
        "snapshotRetentionDays": st.integers(min_value=7, max_value=35),
        "snapshotWindow": _hours.map(lambda h: f"{h:02d}:00-{h + 1:02d}:00"),
        "maintenanceWindow": st.sampled_from(["tue", "thu", "sun"]).map(lambda d: f"{d}:14:00-{d}:15:00"),
    }
).map(lambda c: {**c, "engineVersion": "7.1" if c["engine"] == "redis" else "8.0"})


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(database=_database, cache=_cache)
def test_any_valid_data_tier_config_stays_multi_az_encrypted_protected(synth_program, database, cache):
    backup = {"continuousRetentionDays": database["backupRetentionDays"]}
    parse({"database": database, "cache": cache, "backup": backup})  # the strategy only draws valid configs
    result = synth_program(_data_tier_program, {"database": database, "cache": cache, "backup": backup})
    instances = of_type(result, INSTANCE)
    assert len(instances) == 1 + database["readReplicas"]
    for instance in instances:
        p = props(instance)
        assert p["multiAz"] and p["storageEncrypted"] and deps(instance, "kmsKeyId")
        assert p["deletionProtection"] and instance["options"]["protect"]
        replica = "replicateSourceDb" in p
        assert p["skipFinalSnapshot"] is replica and ("finalSnapshotIdentifier" in p) is not replica
    (group,) = of_type(result, "aws:elasticache/replicationGroup:ReplicationGroup")
    p = props(group)
    assert p["multiAzEnabled"] and p["automaticFailoverEnabled"] and p["numCacheClusters"] == cache["numNodes"]
    assert p["atRestEncryptionEnabled"] and p["transitEncryptionMode"] == "required" and deps(group, "kmsKeyId")
    assert group["options"]["protect"] and "authToken" in group["secretInputs"]


# --------------------------------------------------------------------------- config rules


def _problems(raw):
    with pytest.raises(ConfigError) as err:
        parse(raw)
    return str(err.value)


def test_retention_of_3_days_is_rejected():
    message = _problems({"database": {"backupRetentionDays": 3}})
    assert "golive:database.backupRetentionDays = 3: must be at least 7 days" in message


def test_retention_above_35_days_points_to_aws_backup():
    assert "use AWS Backup for longer" in _problems({"database": {"backupRetentionDays": 60}})


def test_overlapping_backup_and_maintenance_windows_are_rejected():
    message = _problems({"database": {"backupWindow": "03:30-04:30", "maintenanceWindow": "sun:04:00-sun:05:00"}})
    assert 'golive:database.maintenanceWindow = "sun:04:00-sun:05:00": overlaps the backup window 03:30-04:30' in message


@pytest.mark.parametrize(
    "key, value, rule",
    [
        ("backupWindow", "2:00-3:00", "must be a daily UTC window like '02:00-03:00'"),
        ("backupWindow", "00:00-00:15", "must last at least 30 minutes"),
        ("maintenanceWindow", "Sunday 04:00", "must be a weekly UTC window like 'sun:04:00-sun:05:00'"),
        ("engineVersion", "12", "must be PostgreSQL 13 or later"),
        ("engineVersion", "latest", "must be a PostgreSQL version"),
        ("instanceClass", "db.t3.micro", "has no Performance Insights"),
        ("maxAllocatedStorageGb", 100, "must be above allocatedStorageGb (100)"),
        ("masterUsername", "postgres", "not be a reserved name"),
        ("readReplicas", 6, "must be between 0 and 5"),
        ("performanceInsightsRetentionDays", 30, "must be 7, 731, or a multiple of 31"),
        ("monitoringIntervalSeconds", 0, "enhanced monitoring stays on"),
        ("logRetentionDays", 14, "at least 30 days"),
        ("slowStatementMs", 0, "must be positive"),
    ],
)
def test_database_config_rules(key, value, rule):
    (line,) = [ln for ln in _problems({"database": {key: value}}).splitlines() if ln.startswith("  - ")]
    assert line.startswith(f"  - golive:database.{key} = {json.dumps(value)}: ") and rule in line


def test_defaults_are_valid_and_production_grade():
    config = parse({})
    cfg = config.database
    assert cfg.backup_retention_days == 35 and cfg.read_replicas == 0 and cfg.parameter_group_family == "postgres17"
    assert cfg.backup_retention_days == config.backup.continuous_retention_days


# --------------------------------------------------------------------------- windows


def test_daily_window_repeats_every_day():
    assert window_intervals("02:00-03:00")[:2] == ((120, 180), (1560, 1620))
    assert len(window_intervals("02:00-03:00")) == 7


def test_windows_crossing_midnight_and_the_week_end():
    assert window_minutes("23:30-00:30") == 60
    assert window_minutes("sun:23:30-mon:00:30") == 60
    assert windows_overlap("23:45-00:15", "mon:00:00-mon:01:00")
    assert windows_overlap("sun:23:00-mon:01:00", "00:30-01:30")
    assert windows_overlap("sun:23:00-mon:01:00", "mon:00:30-mon:02:00")


def test_touching_windows_do_not_overlap():
    assert not windows_overlap("02:00-03:00", "sun:03:00-sun:04:00")
    assert not windows_overlap("sun:04:00-sun:05:00", "sun:05:00-sun:06:00")
    assert windows_overlap("02:00-03:00", "sun:02:59-sun:04:00")


def test_weekly_windows_on_different_days_do_not_overlap():
    assert not windows_overlap("mon:02:00-mon:03:00", "tue:02:00-tue:03:00")
    assert windows_overlap("mon:02:00-mon:03:00", "02:30-03:30")


@settings(max_examples=200, deadline=None)
@given(a=st.integers(0, 1439), length_a=st.integers(30, 600), b=st.integers(0, 10079), length_b=st.integers(30, 600))
def test_window_overlap_is_symmetric_and_matches_a_minute_by_minute_check(a, length_a, b, length_b):
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def daily(start, length):
        end = (start + length) % 1440
        return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"

    def weekly(start, length):
        end = (start + length) % 10080
        fmt = lambda m: f"{days[m // 1440]}:{m % 1440 // 60:02d}:{m % 60:02d}"  # noqa: E731
        return f"{fmt(start)}-{fmt(end)}"

    minutes_a = {(d * 1440 + a + i) % 10080 for d in range(7) for i in range(length_a)}
    minutes_b = {(b + i) % 10080 for i in range(length_b)}
    expected = bool(minutes_a & minutes_b)
    assert windows_overlap(daily(a, length_a), weekly(b, length_b)) == expected
    assert windows_overlap(weekly(b, length_b), daily(a, length_a)) == expected
