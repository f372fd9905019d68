"""Config: every rejection names the key and the rule; valid input always synthesizes cleanly."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest
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
        ({"network": {"availabilityZones": ["us-east-1a", "eu-west-1b", "eu-west-1c"]}}, "golive:network.availabilityZones", "availability zone of region eu-west-1"),
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
        ({"region": "Europe"}, "golive:region", "AWS region name"),
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
