"""Network policies: each passes on the real prod stack and fails on a stack that breaks it."""

from __future__ import annotations

import pytest

from tests.helpers import drop, findings, mutate, of_type, one

NETWORK_POLICIES = [
    "network-vpc-min-azs",
    "network-nat-gateway-per-az",
    "network-subnet-no-public-ip",
    "network-default-security-group-closed",
    "network-vpc-flow-logs",
    "network-endpoint-private-dns",
]


@pytest.mark.parametrize("policy", NETWORK_POLICIES)
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def test_min_azs_fails_when_subnets_span_two_azs(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:ec2/subnet:Subnet" and r["inputs"]["availabilityZone"] == "eu-west-1c")
    (finding,) = findings(broken, "network-vpc-min-azs")
    assert "2 availability zone(s)" in finding.message and finding.urn.endswith("::golive-vpc")


def test_min_azs_fails_for_a_real_two_az_staging_stack(synth_config):
    staging = synth_config({"environment": "staging", "network": {"availabilityZones": ["eu-west-1a", "eu-west-1b"], "natGateways": "single"}})
    assert [f.policy for f in findings(staging, "network-vpc-min-azs")] == ["network-vpc-min-azs"]


def test_nat_per_az_fails_with_a_single_nat_in_production(synth_config):
    # A staging stack with one NAT gateway, presented as production by its provider tags.
    single = synth_config({"environment": "staging", "network": {"natGateways": "single"}})
    provider = one(single, "pulumi:providers:aws", "aws-primary")
    as_prod = mutate(single, provider["urn"], lambda r: r["inputs"].update(defaultTags=r["inputs"]["defaultTags"].replace("staging", "production")))
    messages = [f.message for f in findings(as_prod, "network-nat-gateway-per-az")]
    assert any("no NAT gateway in eu-west-1b, eu-west-1c" in m for m in messages)
    assert any("route each AZ to its own NAT gateway" in m for m in messages)
    # The same stack as what it really is (staging) passes: the rule is production-only.
    assert findings(single, "network-nat-gateway-per-az") == []


def test_nat_per_az_fails_when_a_private_table_routes_across_azs(prod):
    by_name = {r["name"]: r for r in prod.resources}
    nat_b = by_name["golive-nat-eu-west-1b"]
    broken = mutate(prod, by_name["golive-private-rt-eu-west-1a"]["urn"], lambda r: r["propertyDependencies"].update(routes=[nat_b["urn"]]))
    (finding,) = findings(broken, "network-nat-gateway-per-az")
    assert "golive-private-rt-eu-west-1a" in finding.message and "eu-west-1b" in finding.message


def test_subnet_public_ip_fails_on_a_private_subnet(prod):
    subnet = next(r for r in of_type(prod, "aws:ec2/subnet:Subnet") if r["inputs"]["tags"]["tier"] == "private")
    broken = mutate(prod, subnet["urn"], lambda r: r["inputs"].update(mapPublicIpOnLaunch=True))
    (finding,) = findings(broken, "network-subnet-no-public-ip")
    assert finding.urn == subnet["urn"]


def test_subnet_public_ip_allows_public_tier(prod):
    subnet = next(r for r in of_type(prod, "aws:ec2/subnet:Subnet") if r["inputs"]["tags"]["tier"] == "public")
    allowed = mutate(prod, subnet["urn"], lambda r: r["inputs"].update(mapPublicIpOnLaunch=True))
    assert findings(allowed, "network-subnet-no-public-ip") == []


def test_default_sg_fails_with_a_rule(prod):
    group = one(prod, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    rule = {"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}
    broken = mutate(prod, group["urn"], lambda r: r["inputs"].update(ingress=[rule]))
    (finding,) = findings(broken, "network-default-security-group-closed")
    assert "1 rule(s)" in finding.message


def test_default_sg_fails_when_unmanaged(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    (finding,) = findings(broken, "network-default-security-group-closed")
    assert "not managed" in finding.message


def test_flow_logs_fail_without_a_flow_log(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:ec2/flowLog:FlowLog")
    (finding,) = findings(broken, "network-vpc-flow-logs")
    assert "has no flow log" in finding.message


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda r: r["inputs"].update(trafficType="REJECT"), "ALL traffic"),
    ],
)
def test_flow_logs_fail_on_partial_capture(prod, change, expected):
    flow = one(prod, "aws:ec2/flowLog:FlowLog")
    (finding,) = findings(mutate(prod, flow["urn"], change), "network-vpc-flow-logs")
    assert expected in finding.message


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda r: r["inputs"].pop("kmsKeyId"), "not encrypted"),
        (lambda r: r["inputs"].pop("retentionInDays"), "forever"),
        (lambda r: r["inputs"].update(retentionInDays=30), "at least 90"),
    ],
)
def test_flow_logs_fail_on_an_unencrypted_or_unretained_group(prod, change, expected):
    group = one(prod, "aws:cloudwatch/logGroup:LogGroup", "flow-logs")
    (finding,) = findings(mutate(prod, group["urn"], change), "network-vpc-flow-logs")
    assert expected in finding.message


def test_endpoint_private_dns_fails_when_off(prod):
    endpoint = next(r for r in of_type(prod, "aws:ec2/vpcEndpoint:VpcEndpoint") if r["inputs"]["vpcEndpointType"] == "Interface")
    broken = mutate(prod, endpoint["urn"], lambda r: r["inputs"].update(privateDnsEnabled=False))
    (finding,) = findings(broken, "network-endpoint-private-dns")
    assert finding.urn == endpoint["urn"]


# --------------------------------------------------------------------------- NACLs: no administration port open to the world


def test_no_nacl_of_the_stack_admits_the_world_to_ssh_or_rdp(prod):
    from golive import check

    policies = [p for p in check.load_policies() if p.name == "network-nacl-no-admin-ports-from-world"]
    result = check.check(prod, policies)
    assert result.findings == [] and len(result.policies[policies[0].name].evaluated) == 3


@pytest.mark.parametrize("entry, ports", [
    ({"protocol": "tcp", "fromPort": 1024, "toPort": 65535}, "3389"),
    ({"protocol": "tcp", "fromPort": 22, "toPort": 22}, "22"),
    ({"protocol": "-1", "fromPort": 0, "toPort": 0}, "22, 3389"),
    ({"protocol": "udp", "fromPort": 3000, "toPort": 4000, "ipv6CidrBlock": "::/0", "cidrBlock": None}, "3389"),
])
def test_a_world_range_over_an_admin_port_fails(prod, entry, ports):
    nacl = one(prod, "aws:ec2/networkAcl:NetworkAcl", "golive-private-nacl")
    rule = {"ruleNo": 90, "action": "allow", "cidrBlock": "0.0.0.0/0", **entry}
    (finding,) = findings(mutate(prod, nacl["urn"], lambda r: r["inputs"]["ingress"].append(rule)), "network-nacl-no-admin-ports-from-world")
    assert f"port(s) {ports}" in finding.message and "ingress rule 90" in finding.message


def test_a_deny_or_a_vpc_only_entry_is_fine(prod):
    nacl = one(prod, "aws:ec2/networkAcl:NetworkAcl", "golive-private-nacl")
    extra = [{"ruleNo": 90, "action": "deny", "cidrBlock": "0.0.0.0/0", "protocol": "-1", "fromPort": 0, "toPort": 0},
             {"ruleNo": 91, "action": "allow", "cidrBlock": "10.20.0.0/16", "protocol": "tcp", "fromPort": 22, "toPort": 22}]
    assert findings(mutate(prod, nacl["urn"], lambda r: r["inputs"]["ingress"].extend(extra)), "network-nacl-no-admin-ports-from-world") == []


def test_a_separate_nacl_rule_resource_is_checked_too(synth_program):
    import pulumi
    import pulumi_aws as aws

    def program():
        provider = aws.Provider("p", region="eu-west-1")
        opts = pulumi.ResourceOptions(provider=provider)
        vpc = aws.ec2.Vpc("v", cidr_block="10.0.0.0/16", opts=opts)
        acl = aws.ec2.NetworkAcl("acl", vpc_id=vpc.id, opts=opts)
        aws.ec2.NetworkAclRule("rdp", network_acl_id=acl.id, rule_number=100, egress=False, protocol="tcp", rule_action="allow",
                               cidr_block="0.0.0.0/0", from_port=3389, to_port=3389, opts=opts)
        aws.ec2.NetworkAclRule("out", network_acl_id=acl.id, rule_number=100, egress=True, protocol="tcp", rule_action="allow",
                               cidr_block="0.0.0.0/0", from_port=3389, to_port=3389, opts=opts)

    (finding,) = findings(synth_program(program), "network-nacl-no-admin-ports-from-world")
    assert finding.urn.endswith("::rdp") and "port(s) 3389" in finding.message
