"""Config: every rejection names the key and the rule; valid input always synthesizes cleanly."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config import ConfigError, NetworkConfig, parse
from tests.conftest import ROOT


def problems_of(raw):
    with pytest.raises(ConfigError) as err:
        parse(raw, "prod")
    return err.value


def test_defaults_are_a_valid_production_config():
    config = parse({})
    assert config.production
    assert config.network.azs(config.region) == ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    assert config.network.nat_gateways == "perAz"


@pytest.mark.parametrize(
    "raw, key, rule",
    [
        ({"network": {"availabilityZones": ["eu-west-1a", "eu-west-1b"]}}, "golive:network.availabilityZones", "at least 3 distinct availability zones"),
        ({"network": {"availabilityZones": ["eu-west-1a", "eu-west-1a", "eu-west-1b"]}}, "golive:network.availabilityZones", "distinct"),
        ({"network": {"availabilityZones": ["us-east-1a", "eu-west-1b", "eu-west-1c"]}}, "golive:network.availabilityZones[0]", "availability zone of region eu-west-1"),
        ({"network": {"vpcCidr": "10.0.0.0/24"}}, "golive:network.vpcCidr", "prefix must be /16 to /20"),
        ({"network": {"vpcCidr": "10.0.0.0/8"}}, "golive:network.vpcCidr", "prefix must be /16 to /20"),
        ({"network": {"vpcCidr": "10.0.0.1/16"}}, "golive:network.vpcCidr", "no host bits set"),
        ({"network": {"vpcCidr": "banana"}}, "golive:network.vpcCidr", "IPv4 CIDR"),
        ({"network": {"vpcCidr": "8.8.0.0/16"}}, "golive:network.vpcCidr", "private range"),
        (
            {"network": {"publicSubnetCidrs": ["10.20.0.0/24", "10.20.0.128/25", "10.20.2.0/24"]}},
            "golive:network.publicSubnetCidrs[1]",
            "overlaps golive:network.publicSubnetCidrs[0]",
        ),
        (
            {"network": {"privateSubnetCidrs": ["10.20.0.0/24", "10.21.0.0/24", "10.20.2.0/24"]}},
            "golive:network.privateSubnetCidrs[1]",
            "falls outside the VPC CIDR",
        ),
        ({"network": {"isolatedSubnetCidrs": ["10.20.0.0/24"]}}, "golive:network.isolatedSubnetCidrs", "one CIDR per availability zone"),
        ({"network": {"natGateways": "single"}}, "golive:network.natGateways", "one NAT gateway per AZ"),
        ({"network": {"natGateways": "many"}}, "golive:network.natGateways", 'one of "perAz", "single"'),
        ({"network": {"flowLogRetentionDays": 13}}, "golive:network.flowLogRetentionDays", "CloudWatch retention value"),
        ({"network": {"flowLogRetentionDays": "a year"}}, "golive:network.flowLogRetentionDays", "must be an integer"),
        ({"network": {"availabilityZones": "eu-west-1a"}}, "golive:network.availabilityZones", "must be a list of a string"),
        ({"network": "big"}, "golive:network", "must be an object"),
        ({"netwrok": {}}, "golive:netwrok", "unknown key (did you mean 'network'?)"),
        ({"network": {"vpcCdir": "10.0.0.0/16"}}, "golive:network.vpcCdir", "unknown key (did you mean 'vpcCidr'?)"),
        ({"environment": "prod"}, "golive:environment", 'one of "production", "staging", "development"'),
        ({"region": "Europe"}, "golive:region", "must be a known AWS region"),
        ({"region": "eu-moon-9"}, "golive:region", "must be a known AWS region"),
        ({"dr": {"region": "eu-moon-9"}}, "golive:dr.region", "must be a known AWS region"),
        ({"dr": {"region": "eu-west-1"}}, "golive:dr.region", "must differ from golive:region"),
        ({"region": "us-gov-west-1", "dr": {"region": "eu-central-1"}}, "golive:dr.region", "same AWS partition"),
        ({"accountId": "12345"}, "golive:accountId", "12-digit AWS account id"),
    ],
)
def test_rejections_name_the_key_and_the_rule(raw, key, rule):
    err = problems_of(raw)
    rendered = [p.render() for p in err.problems]
    assert any(line.startswith(f"{key} = ") and rule in line for line in rendered), rendered


def test_every_problem_is_reported_at_once():
    err = problems_of(
        {
            "netwrok": {},
            "accountId": "x",
            "network": {"availabilityZones": ["eu-west-1a", "eu-west-1b"], "vpcCidr": "10.0.0.0/24", "natGateways": "single"},
        }
    )
    keys = {p.key for p in err.problems}
    assert {"golive:netwrok", "golive:accountId", "golive:network.availabilityZones", "golive:network.vpcCidr", "golive:network.natGateways"} <= keys
    text = str(err)
    assert text.startswith(f"golive: {len(err.problems)} configuration problems") and "Traceback" not in text


def test_non_production_stacks_may_use_two_azs_and_a_single_nat():
    config = parse({"environment": "staging", "network": {"availabilityZones": ["eu-west-1a", "eu-west-1b"], "natGateways": "single"}})
    assert config.network.nat_gateways == "single"


def test_string_values_are_read_as_the_cli_passes_them():
    config = parse({"network": '{"vpcCidr": "10.30.0.0/16", "flowLogRetentionDays": "400"}'})
    assert config.network.vpc_cidr == "10.30.0.0/16" and config.network.flow_log_retention_days == 400


vpc_cidrs = st.builds(
    lambda second, third, prefix: ipaddress.IPv4Network((f"10.{second}.{third}.0", prefix), strict=False),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(NetworkConfig.MIN_PREFIX, NetworkConfig.MAX_PREFIX),
)
az_counts = st.integers(3, 6)


@settings(max_examples=200, deadline=None)
@given(vpc=vpc_cidrs, n_azs=az_counts)
def test_computed_subnets_never_overlap_and_stay_in_the_vpc(vpc, n_azs):
    azs = [f"eu-west-1{c}" for c in "abcdef"[:n_azs]]
    config = parse({"network": {"vpcCidr": str(vpc), "availabilityZones": azs}})
    blocks = [ipaddress.IPv4Network(c) for tier in config.network.subnet_cidrs(config.region).values() for c in tier]
    assert len(blocks) == 3 * n_azs
    assert all(b.subnet_of(vpc) for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])
    assert all(b.prefixlen <= 28 for b in blocks)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vpc=vpc_cidrs, n_azs=az_counts)
def test_any_valid_network_config_synthesizes_without_overlap(synth_program, vpc, n_azs):
    """The same property, through the engine: what the Network component registers."""
    from components import config as golive_config
    from components.network import Network, NetworkArgs

    azs = [f"eu-west-1{c}" for c in "abcdef"[:n_azs]]

    def program():
        config, _ = golive_config.load()
        Network("net", NetworkArgs(config=config.network, account=config.aws))

    result = synth_program(program, {"network": {"vpcCidr": str(vpc), "availabilityZones": azs}})
    subnets = result.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 3 * n_azs
    nets = [ipaddress.IPv4Network(s["inputs"]["cidrBlock"]) for s in subnets]
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
    assert len({s["inputs"]["availabilityZone"] for s in subnets}) == n_azs


def test_bad_stack_config_fails_the_preview_with_one_screen_and_no_traceback(tmp_path):
    """`python -m golive preview` on a broken Pulumi.prod.yaml: exit 2, the key named, no traceback."""
    import shutil

    for name in ("__main__.py", "Pulumi.yaml", "components", "golive", "policy"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    text = (ROOT / "Pulumi.prod.yaml").read_text().replace("      - eu-west-1c\n", "")
    (tmp_path / "Pulumi.prod.yaml").write_text(text)
    proc = subprocess.run([sys.executable, "-m", "golive", "preview"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "golive:network.availabilityZones" in proc.stderr and "at least 3 distinct availability zones" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) < 25


def test_config_error_under_the_pulumi_runtime_is_a_run_error():
    """Under `pulumi preview` the CLI prints a RunError's message without a traceback."""
    import pulumi

    from components import config as golive_config
    from golive import engine

    def program():
        golive_config.load()

    config, secret_keys = engine.load_stack_config("prod")
    config["golive:network"] = '{"availabilityZones": ["eu-west-1a"]}'
    with pytest.raises(ConfigError):
        engine.synth("prod", config=config, secret_keys=secret_keys, program=program)
    # `load` itself raises RunError (the engine unwraps it to show the ConfigError).
    assert issubclass(pulumi.RunError, Exception)


def test_every_setting_is_documented():
    from components.config import reference

    undocumented = [key for key, _, text, _ in reference() if len(text.strip()) < 10]
    assert not undocumented, f"document these fields with doc(...): {undocumented}"


def test_the_config_reference_is_current():
    from components.config import render_reference

    assert (ROOT / "docs" / "config.md").read_text() == render_reference(), "run `make docs`"


# --------------------------------------------------------------------------- bad stack files and secrets, end to end


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project: stack files written here never touch the repository."""
    import shutil

    root = tmp_path_factory.mktemp("project")
    for name in ("__main__.py", "Pulumi.yaml", "Pulumi.prod.yaml", "components", "golive", "policy"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if src.is_dir() else {}))
    return root


def golive_cli(root, *args):
    return subprocess.run([sys.executable, "-m", "golive", *args], cwd=root, capture_output=True, text=True, timeout=180)


PROD_TEXT = (ROOT / "Pulumi.prod.yaml").read_text()
SECRETS = ("pagerdutyRoutingKey", "slackWebhookUrl", "smtpPassword")


def without_secrets(text):
    import re

    return re.sub(r"  golive:(pagerdutyRoutingKey|slackWebhookUrl|smtpPassword):\n    secure: \S+\n", "", text)


@pytest.mark.parametrize("verb", ["check", "preview"])
def test_missing_secrets_are_config_problems_listed_with_the_others(project, verb):
    text = without_secrets(PROD_TEXT).replace("    region: eu-central-1\n", "    region: eu-moon-9\n")
    assert "    secure: " not in text and "eu-moon-9" in text
    (project / f"Pulumi.nosecrets-{verb}.yaml").write_text(text)
    proc = golive_cli(project, verb, "--stack", f"nosecrets-{verb}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "RunError" not in proc.stderr
    assert proc.stderr.startswith("golive: 4 configuration problems"), proc.stderr
    for key in SECRETS:
        assert f"golive:{key} = (not set): a production stack needs the " in proc.stderr
        assert f"pulumi config set --secret golive:{key} <value>" in proc.stderr
    assert 'golive:dr.region = "eu-moon-9": must be a known AWS region' in proc.stderr


@pytest.mark.parametrize(("content", "said"), [
    ("", "is empty"),
    ("# nothing but a comment\n", "is empty"),
    ("just a string\n", "holds a string"),
    ("- config\n- golive:region\n", "holds a list"),
    ("42\n", "holds a single int value"),
], ids=["empty", "comment-only", "string", "list", "number"])
def test_a_stack_file_that_is_not_a_mapping_is_a_usage_error(project, tmp_path, content, said):
    from golive.engine import UsageError, load_stack_config

    (tmp_path / "Pulumi.odd.yaml").write_text(content)
    with pytest.raises(UsageError, match=f"Pulumi.odd.yaml {said}: a stack file is a mapping with the stack's settings under `config:`"):
        load_stack_config("odd", tmp_path)


def test_an_empty_stack_file_exits_2_without_a_traceback(project):
    (project / "Pulumi.empty.yaml").write_text("")
    proc = golive_cli(project, "check", "--stack", "empty")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == ("golive: Pulumi.empty.yaml is empty: a stack file is a mapping with the stack's settings "
                                   "under `config:`")


def prod_raw():
    """The prod stack's ``golive:`` settings as its file holds them (secrets aside)."""
    raw = yaml.safe_load(PROD_TEXT)["config"]
    return {k.removeprefix("golive:"): v for k, v in raw.items() if k.startswith("golive:") and k.removeprefix("golive:") not in SECRETS}


def _program_problems(overrides=None, remove=(), plain=()):
    """The problems the program's own loader (``__main__.py`` → ``components.config.load``) reports for the prod stack changed."""
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config(overrides, remove)
    secret_keys = [k for k in secret_keys if k.removeprefix("golive:") not in plain]
    with pytest.raises(ConfigError) as err:
        engine.synth("prod", config=config, secret_keys=secret_keys)
    return err.value


def test_a_plaintext_secret_is_refused_and_never_echoed():
    err = _program_problems({"smtpPassword": "hunter2"}, plain=("smtpPassword",))
    assert [(p.key, p.render()) for p in err.problems] == [(
        "golive:smtpPassword",
        "golive:smtpPassword = (plain text, not shown): is set in plain text; a secret is only ever a `secure:` value: remove it "
        "from the stack file and set it with `pulumi config set --secret golive:smtpPassword <value>`")]
    assert "hunter2" not in str(err)


def test_a_misspelt_secret_key_is_not_echoed_either():
    err = problems_of({"smtpPasword": "hunter2"})
    (problem,) = err.problems
    assert problem.key == "golive:smtpPasword" and "did you mean 'smtpPassword'?" in problem.rule
    assert "hunter2" not in str(err)


def test_aws_region_contradicting_golive_region_is_refused():
    err = _program_problems({"aws:region": "us-east-1"})
    assert [p.render() for p in err.problems] == [
        'aws:region = "us-east-1": contradicts golive:region (eu-west-1): every AWS resource goes through golive\'s own '
        "provider in golive:region; remove aws:region or make the two equal"]


def test_aws_region_equal_to_golive_region_is_accepted():
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config({"aws:region": "eu-west-1"})
    engine.synth("prod", config=config, secret_keys=secret_keys, program=lambda: __import__("components.config").config.load())


def test_production_without_the_admin_vpn_is_refused_when_the_program_runs():
    err = _program_problems({"security": {"cloudtrailObjectLock": True, "vpn": {"enabled": False}}})
    assert [(p.key, p.value) for p in err.problems] == [("golive:security.vpn.enabled", False)]
    assert "needs the admin VPN" in err.problems[0].rule


def test_staging_needs_neither_the_vpn_nor_the_receivers_secrets():
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config({"environment": "staging", "security": {"vpn": {"enabled": False}}},
                                      remove=SECRETS)
    secret_keys = [k for k in secret_keys if k.removeprefix("golive:") not in SECRETS]
    engine.synth("prod", config=config, secret_keys=secret_keys, program=lambda: __import__("components.config").config.load())


def test_every_problem_in_the_services_list_is_reported_at_once():
    """A type error in one service hid the rest: each readable setting is still checked, everywhere."""
    raw = prod_raw()
    services = raw["services"]
    services[1]["slo"]["availability"] = "99.9%"  # a type error
    services[1]["slo"]["latencyTarget"] = 120  # and, beside it, four rule breaks
    services[1]["minReplicas"] = 1
    services[2]["port"] = 70000
    services[3]["alerting"]["errorRateCritical"]["threshold"] = 2
    services[0]["alerting"]["memoryCritical"] = {"threshold": "high", "for": "forever"}  # two type-or-rule errors in one tier
    err = problems_of(raw)
    assert sorted(p.key for p in err.problems) == sorted([
        "golive:services[1].slo.availability",
        "golive:services[1].slo.latencyTarget",
        "golive:services[1].minReplicas",
        "golive:services[2].port",
        "golive:services[3].alerting.errorRateCritical.threshold",
        "golive:services[0].alerting.memoryCritical.threshold",
        "golive:services[0].alerting.memoryCritical.for",
    ]), [p.render() for p in err.problems]


def test_a_broken_item_does_not_hide_its_siblings_or_the_other_sections():
    raw = prod_raw()
    del raw["services"][0]["name"]  # required: the item cannot be built
    raw["services"][2]["cpuTarget"] = 0
    raw["network"]["natGateways"] = "single"
    raw["cache"]["numNodes"] = "three"
    err = problems_of(raw)
    assert sorted(p.key for p in err.problems) == [
        "golive:cache.numNodes", "golive:network.natGateways", "golive:services[0].name", "golive:services[2].cpuTarget"]


def test_a_stand_in_default_is_never_judged():
    """The default that stands in for an unreadable value is not reported (its key already is)."""
    err = problems_of({"cluster": {"nodeMinSize": "two", "nodeDesiredSize": 3}, "network": {"availabilityZones": ["eu-west-1a", 5]}})
    assert sorted(p.key for p in err.problems) == ["golive:cluster.nodeMinSize", "golive:network.availabilityZones[1]"]


def test_a_misspelt_top_level_key_names_the_closest_key_and_does_not_dump_its_section():
    """As the CLI passes it: the section arrives as a JSON string."""
    section = '{"vpcCidr": "10.20.0.0/16", "availabilityZones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}'
    err = problems_of({"netwrok": section})
    assert [p.render() for p in err.problems] == ["golive:netwrok = (an object with 2 keys): unknown key (did you mean 'network'?)"]


def test_one_bad_zone_is_named_by_its_index():
    err = problems_of({"network": {"availabilityZones": ["eu-west-1a", "us-east-1a", "eu-west-1c"]}})
    assert [p.render() for p in err.problems] == [
        'golive:network.availabilityZones[1] = "us-east-1a": must be an availability zone of region eu-west-1 (e.g. eu-west-1a)']


def test_the_region_table_is_botocores():
    """Written from an independent source: botocore's endpoint data, for the partitions golive deploys to."""
    import json as json_module
    import pathlib

    import botocore

    from components.config import AWS_REGIONS

    data = json_module.loads((pathlib.Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    known = {p["partition"]: sorted(p["regions"]) for p in data["partitions"]}
    assert {partition: sorted(regions) for partition, regions in AWS_REGIONS.items()} == {
        partition: known[partition] for partition in ("aws", "aws-cn", "aws-us-gov")}


def test_database_point_in_time_recovery_below_the_policy_minimum_is_refused_in_production():
    err = problems_of({"database": {"backupRetentionDays": 14},
                       "backup": {"continuousRetentionDays": 14, "vaultLockMinRetentionDays": 7}})
    assert [p.key for p in err.problems] == ["golive:database.backupRetentionDays"]
    assert "at least 30 days (policy rds-backup-retention)" in err.problems[0].rule and "recommended" not in str(err)
