"""Security-group policies: nothing open to the world but the ALB's web ports; the data tier admits groups only."""

from __future__ import annotations

import pytest

from policy.rules._base import META
from tests.helpers import deps, findings, mutate, one

SG = "aws:ec2/securityGroup:SecurityGroup"
WORLD_POLICY = "security-group-no-world-ingress"
DATA_POLICY = "security-group-data-tier-referenced-only"


@pytest.mark.parametrize("policy", [WORLD_POLICY, DATA_POLICY])
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def test_prod_data_tier_groups_are_found_and_checked(prod_check):
    evaluated = prod_check.policies[DATA_POLICY].evaluated
    assert any("golive-db-sg" in urn for urn in evaluated) and any("golive-cache-sg" in urn for urn in evaluated)


# --------------------------------------------------------------------------- world ingress


def _edge_program():
    """An ALB-like group tagged as the load balancer, and rules of every form, allowed and not."""
    import pulumi_aws as aws

    vpc = aws.ec2.Vpc("vpc", cidr_block="10.20.0.0/16")

    def world(port, protocol="tcp"):
        return aws.ec2.SecurityGroupIngressArgs(protocol=protocol, from_port=port, to_port=port,
                                                cidr_blocks=["0.0.0.0/0"], ipv6_cidr_blocks=["::/0"])

    alb = aws.ec2.SecurityGroup("alb", vpc_id=vpc.id, description="alb", ingress=[world(443), world(80)],
                                tags={"golive:role": "load-balancer"})
    aws.lb.LoadBalancer("lb", internal=False, load_balancer_type="application", security_groups=[alb.id])
    aws.vpc.SecurityGroupIngressRule("alb-https-v6", security_group_id=alb.id, ip_protocol="tcp", from_port=443, to_port=443,
                                     cidr_ipv6="::/0")
    # Not allowed: other ports on the ALB's group, and any world ingress on any other group.
    aws.vpc.SecurityGroupIngressRule("alb-8080", security_group_id=alb.id, ip_protocol="tcp", from_port=8080, to_port=8080,
                                     cidr_ipv4="0.0.0.0/0")
    aws.ec2.SecurityGroupRule("alb-ssh", type="ingress", security_group_id=alb.id, protocol="tcp", from_port=22, to_port=22,
                              cidr_blocks=["0.0.0.0/0"])
    aws.ec2.SecurityGroupRule("alb-all-v6", type="ingress", security_group_id=alb.id, protocol="-1", from_port=0, to_port=0,
                              ipv6_cidr_blocks=["::/0"])
    aws.ec2.SecurityGroup("web", vpc_id=vpc.id, description="untagged", ingress=[world(443)])
    # Egress to the world is not ingress: not this policy's business.
    aws.vpc.SecurityGroupEgressRule("alb-egress", security_group_id=alb.id, ip_protocol="-1", cidr_ipv4="0.0.0.0/0")


@pytest.fixture(scope="module")
def edge():
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config()
    return engine.synth("prod", config=config, secret_keys=secret_keys, program=_edge_program)


def test_world_ingress_only_on_the_load_balancers_web_ports(edge):
    flagged = {}
    for finding in findings(edge, WORLD_POLICY):
        flagged.setdefault(finding.urn.rsplit("::", 1)[1], []).append(finding.message)
    assert set(flagged) == {"alb-8080", "alb-ssh", "alb-all-v6", "web"}
    assert "the load balancer's group may only on TCP 80 and 443" in flagged["alb-ssh"][0]
    assert "all ports" in flagged["alb-all-v6"][0] and "::/0" in flagged["alb-all-v6"][0]
    assert "only the group of an internet-facing load balancer (tagged golive:role=load-balancer) may" in flagged["web"][0]
    assert "0.0.0.0/0, ::/0" in flagged["web"][0]


def test_the_load_balancer_role_comes_from_the_tag(edge):
    alb = one(edge, SG, "alb")
    untagged = mutate(edge, alb["urn"], lambda r: r["inputs"]["tags"].pop("golive:role"))
    flagged = {f.urn.rsplit("::", 1)[1] for f in findings(untagged, WORLD_POLICY)}
    assert {"alb", "alb-https-v6"} <= flagged


def test_world_ingress_on_the_database_group_fails_both_policies(prod):
    group = one(prod, SG, "golive-db-sg")
    rule = {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["0.0.0.0/0"]}
    broken = mutate(prod, group["urn"], lambda r: r["inputs"]["ingress"].append(rule))
    (world,) = findings(broken, WORLD_POLICY)
    (data,) = findings(broken, DATA_POLICY)
    assert world.urn == data.urn == group["urn"]
    assert "tcp 5432-5432" in world.message and "admit only referenced security groups" in data.message


# --------------------------------------------------------------------------- data tier


def test_vpc_cidr_ingress_on_the_cache_group_fails(prod):
    group = one(prod, SG, "golive-cache-sg")
    broken = mutate(prod, group["urn"], lambda r: r["inputs"]["ingress"][0].update(cidrBlocks=["10.20.0.0/16"]))
    (finding,) = findings(broken, DATA_POLICY)
    assert finding.urn == group["urn"] and "admits 10.20.0.0/16" in finding.message
    assert findings(broken, WORLD_POLICY) == []


def test_egress_beyond_the_vpc_fails(prod):
    group = one(prod, SG, "golive-db-sg")
    broken = mutate(prod, group["urn"], lambda r: r["inputs"]["egress"][0].update(cidrBlocks=["0.0.0.0/0"]))
    (finding,) = findings(broken, DATA_POLICY)
    assert "sends traffic to 0.0.0.0/0, beyond the VPC" in finding.message
    narrower = mutate(prod, group["urn"], lambda r: r["inputs"]["egress"][0].update(cidrBlocks=["10.20.32.0/20"]))
    assert findings(narrower, DATA_POLICY) == []
    other_network = mutate(prod, group["urn"], lambda r: r["inputs"]["egress"][0].update(cidrBlocks=["192.168.0.0/16"]))
    assert "192.168.0.0/16" in findings(other_network, DATA_POLICY)[0].message


def test_a_group_used_by_a_database_is_data_tier_even_untagged(prod):
    group = one(prod, SG, "golive-db-sg")

    def untag_and_open(r):
        r["inputs"]["tags"].pop("golive:role")
        r["inputs"]["ingress"][0]["cidrBlocks"] = ["10.20.0.0/16"]

    (finding,) = findings(mutate(prod, group["urn"], untag_and_open), DATA_POLICY)
    assert finding.urn == group["urn"]


def _data_program():
    """A tagged database group with standalone rules of both forms, good and bad."""
    import pulumi_aws as aws

    vpc = aws.ec2.Vpc("vpc", cidr_block="10.20.0.0/16")
    nodes = aws.ec2.SecurityGroup("nodes", vpc_id=vpc.id, description="nodes")
    db = aws.ec2.SecurityGroup("db", vpc_id=vpc.id, description="db", tags={"golive:role": "database"})
    aws.vpc.SecurityGroupIngressRule("db-from-nodes", security_group_id=db.id, ip_protocol="tcp", from_port=5432, to_port=5432,
                                     referenced_security_group_id=nodes.id)
    aws.ec2.SecurityGroupRule("db-from-nodes-classic", type="ingress", security_group_id=db.id, protocol="tcp", from_port=5432,
                              to_port=5432, source_security_group_id=nodes.id)
    aws.vpc.SecurityGroupEgressRule("db-to-vpc", security_group_id=db.id, ip_protocol="-1", cidr_ipv4="10.20.0.0/16")
    # Not allowed on a data-tier group:
    aws.vpc.SecurityGroupIngressRule("db-from-cidr", security_group_id=db.id, ip_protocol="tcp", from_port=5432, to_port=5432,
                                     cidr_ipv4="10.20.0.0/16")
    aws.ec2.SecurityGroupRule("db-from-prefix-list", type="ingress", security_group_id=db.id, protocol="tcp", from_port=5432,
                              to_port=5432, prefix_list_ids=["pl-0123456789abcdef0"])
    aws.vpc.SecurityGroupEgressRule("db-to-world", security_group_id=db.id, ip_protocol="-1", cidr_ipv6="::/0")
    # The same rules on a group outside the data tier are not this policy's business.
    aws.vpc.SecurityGroupIngressRule("nodes-from-cidr", security_group_id=nodes.id, ip_protocol="tcp", from_port=5432,
                                     to_port=5432, cidr_ipv4="10.20.0.0/16")


def test_standalone_rules_join_their_group(synth_program):
    result = synth_program(_data_program)
    flagged = {f.urn.rsplit("::", 1)[1]: f.message for f in findings(result, DATA_POLICY)}
    assert set(flagged) == {"db-from-cidr", "db-from-prefix-list", "db-to-world"}
    assert "pl-0123456789abcdef0" in flagged["db-from-prefix-list"] and "::/0" in flagged["db-to-world"]


def test_the_load_balancer_tag_counts_only_on_a_group_an_internet_facing_load_balancer_uses(edge):
    lb = one(edge, "aws:lb/loadBalancer:LoadBalancer", "lb")
    for change in (lambda r: r["inputs"].update(internal=True), lambda r: r["propertyDependencies"].pop("securityGroups")):
        flagged = {f.urn.rsplit("::", 1)[1]: f.message for f in findings(mutate(edge, lb["urn"], change), WORLD_POLICY)}
        assert {"alb", "alb-https-v6"} <= set(flagged)
        assert "no internet-facing load balancer (internal = false) of the stack uses it" in flagged["alb"]


def _self_tagged_program():
    """A group that calls itself the load balancer's, used by an internal load balancer or by none."""
    import pulumi_aws as aws

    vpc = aws.ec2.Vpc("vpc", cidr_block="10.20.0.0/16")
    web = [aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=["0.0.0.0/0"])]
    tag = {"golive:role": "load-balancer"}
    internal = aws.ec2.SecurityGroup("internal-lb-sg", vpc_id=vpc.id, description="internal", ingress=web, tags=tag)
    aws.lb.LoadBalancer("internal-lb", internal=True, security_groups=[internal.id])
    aws.ec2.SecurityGroup("orphan-sg", vpc_id=vpc.id, description="orphan", ingress=web, tags=tag)


def test_a_self_tagged_group_without_a_public_load_balancer_gets_no_exemption(synth_program):
    flagged = {f.urn.rsplit("::", 1)[1] for f in findings(synth_program(_self_tagged_program), WORLD_POLICY)}
    assert flagged == {"internal-lb-sg", "orphan-sg"}


def test_the_prod_alb_group_is_exempt_because_the_public_alb_uses_it(prod):
    lb = one(prod, "aws:lb/loadBalancer:LoadBalancer", "golive-alb")
    group = one(prod, SG, "golive-alb-sg")
    assert lb["inputs"]["internal"] is False and group["urn"] in deps(lb, "securityGroups")
    internal = mutate(prod, lb["urn"], lambda r: r["inputs"].update(internal=True))
    assert {f.urn for f in findings(internal, WORLD_POLICY)} == {group["urn"]}


# --------------------------------------------------------------------------- what counts as the world

WORLD_LIKE = {
    "two halves of IPv4": ["0.0.0.0/1", "128.0.0.0/1"],
    "IPv4 wider than /8": ["0.0.0.0/7"],
    "private but wider than /8": ["10.0.0.0/7"],
    "public /16": ["8.8.0.0/16"],
    "public /23": ["203.0.112.0/23"],
    "straddling RFC 1918": ["172.0.0.0/8"],
    "IPv6 halves": ["::/1", "8000::/1"],
    "IPv6 wider than /16": ["2000::/3"],
}
NOT_WORLD = {
    "RFC 1918 /8": ["10.0.0.0/8"],
    "RFC 1918 /12": ["172.16.0.0/12"],
    "shared address space": ["100.64.0.0/10"],
    "link-local": ["169.254.0.0/16"],
    "public /24": ["203.0.113.0/24"],
    "public host": ["198.51.100.7/32"],
    "IPv6 /16": ["2001::/16"],
}


def _open_endpoints_group(prod, cidrs):
    """The untagged VPC-endpoint group, with an extra HTTPS ingress from ``cidrs``."""
    group = one(prod, SG, "golive-endpoints-sg")
    v4 = [c for c in cidrs if ":" not in c]
    v6 = [c for c in cidrs if ":" in c]
    rule = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": v4, "ipv6CidrBlocks": v6}
    return group, mutate(prod, group["urn"], lambda r: r["inputs"]["ingress"].append(rule))


@pytest.mark.parametrize("cidrs", WORLD_LIKE.values(), ids=WORLD_LIKE.keys())
def test_ranges_nearly_as_wide_as_the_world_fail(prod, cidrs):
    group, broken = _open_endpoints_group(prod, cidrs)
    (finding,) = findings(broken, WORLD_POLICY)
    assert finding.urn == group["urn"] and f"admits {', '.join(cidrs)}" in finding.message


@pytest.mark.parametrize("cidrs", NOT_WORLD.values(), ids=NOT_WORLD.keys())
def test_private_and_narrow_public_ranges_are_not_the_world(prod, cidrs):
    _, opened = _open_endpoints_group(prod, cidrs)
    assert findings(opened, WORLD_POLICY) == []


def test_the_world_thresholds_are_pack_config(prod):
    from golive import check

    policies = [p for p in check.load_policies() if p.name == WORLD_POLICY]
    assert META[WORLD_POLICY].defaults == {"worldIpv4PrefixBelow": 8, "worldIpv6PrefixBelow": 16, "publicIpv4PrefixBelow": 24}
    _, opened = _open_endpoints_group(prod, ["203.0.113.0/24"])
    stricter = check.check(opened, policies, {WORLD_POLICY: {"publicIpv4PrefixBelow": 28}})
    assert [f.policy for f in stricter.findings] == [WORLD_POLICY]
