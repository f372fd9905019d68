"""The Cache component as the prod stack synthesizes it, its config rules, and secrets never in clear."""

from __future__ import annotations

import json
import re

import pytest

from components.cache import AUTH_TOKEN_SPECIALS
from components.config import ConfigError, parse, windows_overlap
from golive import mocks
from tests.helpers import deps, of_type, one, props

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_ID = "random:index/randomId:RandomId"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
CACHE = "golive:data:Cache"
REDIS_FORBIDDEN = set(" \"'/@\\")


@pytest.fixture(scope="module")
def group(prod):
    return one(prod, GROUP, "golive-cache")


def _dep(prod, record, prop):
    found = [prod.by_urn()[u] for u in deps(record, prop)]
    assert len(found) == 1, f"{record['name']}.{prop}: {[r['name'] for r in found]}"
    return found[0]


def mocked_result(record) -> str:
    """What the offline mocks return as RandomPassword.result for this record (derived from its URN)."""
    ctx = mocks._Ctx(record["type"], record["urn"], record["name"], "eu-west-1", "123456789012", record["inputs"])
    return mocks._random_password(ctx)[1]["result"]


# --------------------------------------------------------------------------- the replication group


def test_engine_nodes_one_per_az_with_failover(group):
    p = props(group)
    assert (p["engine"], p["engineVersion"], p["nodeType"]) == ("redis", "7.1", "cache.t3.medium")
    assert p["replicationGroupId"] == "golive-cache"
    assert p["numCacheClusters"] == 3
    assert p["preferredCacheClusterAzs"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert p["automaticFailoverEnabled"] is True and p["multiAzEnabled"] is True


def test_tls_required_and_encrypted_at_rest_with_the_cache_cmk(prod, group):
    p = props(group)
    assert p["transitEncryptionEnabled"] is True and p["transitEncryptionMode"] == "required"
    assert p["atRestEncryptionEnabled"] is True
    key = _dep(prod, group, "kmsKeyId")
    assert key["name"] == "golive-cache-key" and props(key)["enableKeyRotation"] is True
    assert props(key)["deletionWindowInDays"] == 30 and key["options"]["protect"] is True


def test_auth_token_is_a_secret_from_random_password(prod, group):
    assert props(group)["authToken"] == "[secret]" and "authToken" in group["secretInputs"]
    password = _dep(prod, group, "authToken")
    assert password["type"] == PASSWORD
    p = props(password)
    assert p["length"] >= 32 and p["special"] is True
    assert set(p["overrideSpecial"]) <= set(AUTH_TOKEN_SPECIALS) and not set(p["overrideSpecial"]) & REDIS_FORBIDDEN


def test_auth_token_secret_is_named_encrypted_and_versioned_as_secret(prod, group):
    secret = one(prod, SECRET, "golive-cache-auth-token")
    assert props(secret)["name"] == "golive/cache/auth-token"
    assert deps(secret, "kmsKeyId") == deps(group, "kmsKeyId")
    assert props(secret)["recoveryWindowInDays"] == 30
    version = one(prod, SECRET_VERSION, "golive-cache-auth-token")
    assert props(version)["secretString"] == "[secret]" and version["secretInputs"] == ["secretString"]
    assert deps(version, "secretId") == [secret["urn"]]
    assert deps(version, "secretString") == deps(group, "authToken")


def test_snapshots_windows_and_protection(group):
    p = props(group)
    assert p["snapshotRetentionLimit"] == 7
    assert (p["snapshotWindow"], p["maintenanceWindow"]) == ("03:00-04:00", "sun:05:00-sun:06:00")
    assert not windows_overlap(p["snapshotWindow"], p["maintenanceWindow"])
    assert re.fullmatch(r"golive-cache-final-[0-9a-f]{8}", p["finalSnapshotIdentifier"])
    assert p["autoMinorVersionUpgrade"] is True
    assert group["options"]["protect"] is True


def test_final_snapshot_name_has_a_suffix_made_once_per_replication_group(prod, group):
    """A fixed name would collide with the snapshot a previous deletion of the same group left."""
    (suffix,) = [prod.by_urn()[u] for u in deps(group, "finalSnapshotIdentifier")]
    assert suffix["type"] == RANDOM_ID and suffix["name"] == "golive-cache-final-snapshot-suffix"
    assert props(suffix)["keepers"] == {"replicationGroupId": "golive-cache"} and props(suffix)["byteLength"] == 4
    assert suffix["parent"] == group["parent"]


def test_auth_token_secret_and_log_groups_are_protected(prod):
    assert one(prod, SECRET, "golive-cache-auth-token")["options"]["protect"] is True
    groups = [one(prod, LOG_GROUP, f"golive-cache-{log_type}") for log_type in ("slow-log", "engine-log")]
    assert all(g["options"]["protect"] is True for g in groups)


def test_parameter_group_matches_the_engine(prod, group):
    params = _dep(prod, group, "parameterGroupName")
    assert props(params)["family"] == "redis7"
    assert props(params)["parameters"] == [{"name": "maxmemory-policy", "value": "volatile-lru"}]


def test_slow_and_engine_logs_go_to_encrypted_retained_groups(prod, group):
    configs = {c["logType"]: c for c in props(group)["logDeliveryConfigurations"]}
    assert set(configs) == {"slow-log", "engine-log"}
    key_urns = deps(group, "kmsKeyId")
    for log_type, config in configs.items():
        log_group = one(prod, LOG_GROUP, f"golive-cache-{log_type}")
        assert config == {"destination": props(log_group)["name"], "destinationType": "cloudwatch-logs", "logFormat": "json",
                          "logType": log_type}
        # A year, like every other log group of the stack (CKV_AWS_338).
        assert props(log_group)["retentionInDays"] == 365 and deps(log_group, "kmsKeyId") == key_urns
        assert log_group["urn"] in deps(group, "logDeliveryConfigurations")
        assert log_group["urn"] in group["options"]["dependsOn"]


def test_subnet_group_is_the_isolated_subnets(prod, group):
    subnets = [prod.by_urn()[u] for u in deps(_dep(prod, group, "subnetGroupName"), "subnetIds")]
    assert len(subnets) == 3 and {props(s)["tags"]["tier"] for s in subnets} == {"isolated"}


def test_security_group_admits_6379_from_the_cluster_nodes_only(prod, group):
    sg = _dep(prod, group, "securityGroupIds")
    (rule,) = props(sg)["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 6379, 6379)
    assert rule["securityGroups"] == [prod.outputs["nodeSecurityGroupId"]]
    assert "cidrBlocks" not in rule
    assert [e["cidrBlocks"] for e in props(sg)["egress"]] == [["10.20.0.0/16"]]
    assert props(sg)["tags"]["golive:role"] == "cache"


def test_stack_exports_endpoints_ports_and_arns_only(prod):
    out = prod.outputs
    assert out["cachePrimaryEndpoint"].startswith("master.golive-cache.")
    assert out["cacheReaderEndpoint"].startswith("replica.golive-cache.")
    assert out["cachePort"] == 6379
    assert out["cacheAuthSecretArn"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:golive/cache/auth-token-")
    assert out["cacheKmsKeyArn"].startswith("arn:aws:kms:")


def test_valkey_uses_its_own_parameter_family(synth_config):
    result = synth_config({"cache": {"engine": "valkey", "engineVersion": "8.0"}})
    group = one(result, GROUP, "golive-cache")
    assert (props(group)["engine"], props(group)["engineVersion"]) == ("valkey", "8.0")
    assert props(_dep(result, group, "parameterGroupName"))["family"] == "valkey8"


def test_a_single_node_outside_production_turns_failover_off(synth_config):
    result = synth_config({"environment": "staging", "network": {"natGateways": "single"}, "cache": {"numNodes": 1}})
    p = props(one(result, GROUP, "golive-cache"))
    assert p["numCacheClusters"] == 1 and p["preferredCacheClusterAzs"] == ["eu-west-1a"]
    assert p["automaticFailoverEnabled"] is False and p["multiAzEnabled"] is False


# --------------------------------------------------------------------------- no secret in clear


def test_mock_password_derivation_is_what_the_scan_looks_for(synth_program):
    """Guard for the scan below: a token exported *unsecretly* is found by it."""

    def leaky():
        import pulumi
        import pulumi_random as random

        password = random.RandomPassword("leak", length=48)
        pulumi.export("leaked", pulumi.Output.unsecret(password.result))

    result = synth_program(leaky)
    assert result.outputs["leaked"] == mocked_result(one(result, PASSWORD, "leak"))
    assert mocked_result(one(result, PASSWORD, "leak")) in result.to_json()


def test_no_password_token_or_placeholder_secret_in_clear(prod):
    """The whole synth document (inputs of every resource and the stack outputs) shows secrets as the marker only."""
    document = prod.to_json()
    passwords = of_type(prod, PASSWORD)
    assert passwords
    for password in passwords:
        value = mocked_result(password)
        assert len(value) >= 32 and value not in document, f"{password['name']}'s result appears in clear"
    assert "offline-placeholder-for-" not in document
    for output in prod.outputs.values():
        assert not any(mocked_result(p) in json.dumps(output) for p in passwords)


def _value_at(inputs, path):
    value = inputs
    for part in path.replace("]", "").replace("[", ".").split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def test_every_input_fed_by_a_random_password_is_secret(prod):
    passwords = {p["urn"] for p in of_type(prod, PASSWORD)}
    fed = 0
    for record in prod.resources:
        for prop, urns in record.get("propertyDependencies", {}).items():
            if passwords & set(urns):
                fed += 1
                # The whole property, or the nested field that carries the password, is secret.
                paths = [s for s in record["secretInputs"] if s == prop or s.startswith((prop + ".", prop + "["))]
                assert paths, f"{record['name']}.{prop} is fed by a random password but nothing in it is secret"
                for path in paths:
                    assert _value_at(record["inputs"], path) == "[secret]", f"{record['name']}.{path}"
    assert fed >= 2  # the replication group's authToken and the secret version


def test_placeholder_secret_config_stays_secret():
    """Every secret config key set (as ``secure:`` values arrive offline) never shows up in clear."""
    from components.config import SECRET_KEYS
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config()
    for key in SECRET_KEYS:
        config[f"golive:{key}"] = f"offline-placeholder-for-golive-{key}"
        secret_keys.append(f"golive:{key}")
    result = engine.synth("prod", config=config, secret_keys=secret_keys)
    assert of_type(result, GROUP)
    assert "offline-placeholder-for-" not in result.to_json()


# --------------------------------------------------------------------------- config rules


def _line(raw):
    with pytest.raises(ConfigError) as err:
        parse(raw)
    (line,) = [ln for ln in str(err.value).splitlines() if ln.startswith("  - ")]
    return line


def test_a_single_cache_node_in_production_is_rejected():
    line = _line({"cache": {"numNodes": 1}})
    assert line.startswith("  - golive:cache.numNodes = 1: a production cache needs at least 2 nodes")


def test_fewer_nodes_than_azs_in_production_is_rejected():
    assert "keeps one node in each of 3 availability zones" in _line({"cache": {"numNodes": 2}})
    four_azs = {"network": {"availabilityZones": ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"]}}
    assert parse({**four_azs, "cache": {"numNodes": 3}}).cache.num_nodes == 3


def test_a_single_node_is_allowed_outside_production():
    assert parse({"environment": "staging", "network": {"natGateways": "single"}, "cache": {"numNodes": 1}}).cache.num_nodes == 1


def test_overlapping_snapshot_and_maintenance_windows_are_rejected():
    line = _line({"cache": {"snapshotWindow": "04:30-05:30", "maintenanceWindow": "sun:05:00-sun:06:00"}})
    assert line.startswith('  - golive:cache.maintenanceWindow = "sun:05:00-sun:06:00": overlaps the snapshot window 04:30-05:30')


@pytest.mark.parametrize(
    "settings, key, rule",
    [
        ({"snapshotRetentionDays": 3}, "snapshotRetentionDays", "must be between 7 and 35 days"),
        ({"engineVersion": "6.2"}, "engineVersion", "for redis: 7.x"),
        ({"engine": "valkey", "engineVersion": "7.1"}, None, None),
        ({"engine": "valkey", "engineVersion": "9.0"}, "engineVersion", "for valkey: 7.x, 8.x"),
        ({"nodeType": "m5.large"}, "nodeType", "must be an ElastiCache node type"),
        ({"numNodes": 7}, "numNodes", "must be between 1 and 6"),
        ({"snapshotWindow": "03:00-03:30"}, "snapshotWindow", "must last at least 60 minutes"),
        ({"maintenanceWindow": "sun:05:00-sun:05:30"}, "maintenanceWindow", "must last at least 60 minutes"),
        ({"logRetentionDays": 7}, "logRetentionDays", "at least 30 days"),
        ({"logRetentionDays": 90}, "logRetentionDays", "production keeps database and cache logs at least 365 days"),
        ({"maxmemoryPolicy": "lru"}, "maxmemoryPolicy", "must be one of"),
    ],
)
def test_cache_config_rules(settings, key, rule):
    if key is None:
        assert parse({"cache": settings}).cache.parameter_group_family == "valkey7"
        return
    line = _line({"cache": settings})
    assert line.startswith(f"  - golive:cache.{key} = {json.dumps(settings[key])}: ") and rule in line
