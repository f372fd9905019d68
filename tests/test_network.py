"""The Network component as the prod stack synthesizes it."""

from __future__ import annotations

import ipaddress

import pytest

from tests.helpers import deps, of_type, one, props

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT = "aws:ec2/natGateway:NatGateway"


def subnets(prod, tier):
    return [r for r in of_type(prod, SUBNET) if props(r)["tags"]["tier"] == tier]


def test_vpc_has_dns_support_and_hostnames(prod):
    vpc = one(prod, "aws:ec2/vpc:Vpc")
    assert props(vpc)["enableDnsSupport"] is True
    assert props(vpc)["enableDnsHostnames"] is True
    assert props(vpc)["cidrBlock"] == "10.20.0.0/16"


@pytest.mark.parametrize("tier", ["public", "private", "isolated"])
def test_three_subnets_per_tier_in_three_distinct_azs(prod, tier):
    tier_subnets = subnets(prod, tier)
    assert len(tier_subnets) == 3
    assert {props(s)["availabilityZone"] for s in tier_subnets} == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}


def test_subnets_do_not_overlap_and_stay_in_the_vpc(prod):
    vpc = ipaddress.IPv4Network(props(one(prod, "aws:ec2/vpc:Vpc"))["cidrBlock"])
    nets = [ipaddress.IPv4Network(props(s)["cidrBlock"]) for s in of_type(prod, SUBNET)]
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


def test_no_subnet_maps_public_ips(prod):
    assert all(props(s)["mapPublicIpOnLaunch"] is False for s in of_type(prod, SUBNET))


def _table_of_subnet(prod, subnet):
    assoc = [a for a in of_type(prod, ASSOCIATION) if deps(a, "subnetId") == [subnet["urn"]]]
    assert len(assoc) == 1
    return prod.by_urn()[deps(assoc[0], "routeTableId")[0]]


def test_each_private_subnet_routes_to_the_nat_of_its_own_az(prod):
    by_urn = prod.by_urn()
    for subnet in subnets(prod, "private"):
        table = _table_of_subnet(prod, subnet)
        (route,) = props(table)["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0"
        (nat_urn,) = [u for u in deps(table, "routes") if by_urn[u]["type"] == NAT]
        nat = by_urn[nat_urn]
        assert route["natGatewayId"]  # the NAT's id, resolved by the mocks
        nat_subnet = by_urn[deps(nat, "subnetId")[0]]
        assert props(nat_subnet)["availabilityZone"] == props(subnet)["availabilityZone"]
        assert props(nat_subnet)["tags"]["tier"] == "public"


def test_one_nat_gateway_with_its_own_eip_per_az(prod):
    nats = of_type(prod, NAT)
    assert len(nats) == 3
    assert len({deps(n, "allocationId")[0] for n in nats}) == 3


def test_isolated_route_tables_have_no_routes(prod):
    for subnet in subnets(prod, "isolated"):
        table = _table_of_subnet(prod, subnet)
        assert props(table).get("routes", []) == []


def test_public_route_table_routes_to_the_internet_gateway(prod):
    for subnet in subnets(prod, "public"):
        table = _table_of_subnet(prod, subnet)
        (route,) = props(table)["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0" and route["gatewayId"].startswith("igw-")


def test_default_security_group_has_no_rules(prod):
    group = one(prod, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert props(group).get("ingress", []) == [] and props(group).get("egress", []) == []


def test_flow_log_captures_all_traffic_to_an_encrypted_retained_group(prod):
    flow = one(prod, "aws:ec2/flowLog:FlowLog")
    assert props(flow)["trafficType"] == "ALL"
    group = prod.by_urn()[deps(flow, "logDestination")[0]]
    assert props(group)["retentionInDays"] == 365
    key = prod.by_urn()[deps(group, "kmsKeyId")[0]]
    assert key["type"] == "aws:kms/key:Key" and props(key)["enableKeyRotation"] is True
    role = prod.by_urn()[deps(flow, "iamRoleArn")[0]]
    assert "vpc-flow-logs" in props(role)["assumeRolePolicy"]


def test_flow_log_group_is_protected(prod):
    """A year of flow logs is audit evidence: no refactor or `pulumi destroy` may delete it."""
    group = prod.by_urn()[deps(one(prod, "aws:ec2/flowLog:FlowLog"), "logDestination")[0]]
    assert group["type"] == "aws:cloudwatch/logGroup:LogGroup" and group["options"]["protect"] is True


def test_flow_log_role_may_write_only_to_its_log_group(prod):
    import json

    policy = json.loads(props(one(prod, "aws:iam/rolePolicy:RolePolicy", "flow-logs"))["policy"])
    by_action = {}
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            by_action[action] = statement["Resource"]
    for action in ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"):
        assert all(res.startswith("arn:aws:logs:eu-west-1:123456789012:log-group:/golive/") for res in by_action[action])


def test_flow_log_role_lists_log_groups_on_the_only_resource_iam_accepts(prod):
    """logs:DescribeLogGroups has no resource-level permissions (Service Authorization Reference): only "*" grants it."""
    import json

    policy = json.loads(props(one(prod, "aws:iam/rolePolicy:RolePolicy", "flow-logs"))["policy"])
    granting = [s for s in policy["Statement"] if "logs:DescribeLogGroups" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert [s["Resource"] for s in granting] == ["*"]
    assert all(s["Action"] == "logs:DescribeLogGroups" for s in granting), "nothing else rides on the wildcard"


def test_endpoints_for_private_workloads(prod):
    endpoints = {props(e)["serviceName"].rsplit("eu-west-1.", 1)[1]: e for e in of_type(prod, "aws:ec2/vpcEndpoint:VpcEndpoint")}
    for service in ("s3", "ecr.api", "ecr.dkr", "sts", "logs"):
        assert service in endpoints
    assert props(endpoints["s3"])["vpcEndpointType"] == "Gateway"
    assert props(endpoints["sts"])["privateDnsEnabled"] is True


def test_endpoint_security_group_admits_https_from_the_vpc_only(prod):
    group = one(prod, "aws:ec2/securityGroup:SecurityGroup", "endpoints")
    (rule,) = props(group)["ingress"]
    assert (rule["fromPort"], rule["toPort"], rule["cidrBlocks"]) == (443, 443, ["10.20.0.0/16"])
    assert props(group).get("egress", []) == []


def test_single_nat_option_for_non_production(synth_config):
    result = synth_config({"environment": "staging", "network": {"natGateways": "single"}})
    nats = of_type(result, NAT)
    assert len(nats) == 1
    tables = [t for t in of_type(result, ROUTE_TABLE) if props(t)["tags"]["tier"] == "private"]
    assert all(deps(t, "routes") == [nats[0]["urn"]] for t in tables)


def test_every_aws_resource_uses_an_explicit_provider(prod):
    explicit = {r["urn"] for r in prod.of_type("pulumi:providers:aws")}
    assert explicit and not any(urn.split("::")[-1].startswith("default") for urn in explicit)
    for r in prod.resources:
        if r["custom"] and r["type"].startswith("aws:"):
            assert r["provider"] and r["provider"].rsplit("::", 1)[0] in explicit, r["urn"]


def test_network_resources_use_the_primary_provider(prod):
    network = one(prod, "golive:network:Network")
    for r in prod.children_of(network["urn"]):
        if r["custom"]:
            assert "::aws-primary::" in r["provider"], r["urn"]


def test_nacl_return_traffic_from_the_internet_leaves_out_ssh_and_rdp(prod):
    """Ephemeral ports 1024-65535 from 0.0.0.0/0, minus 3389 (22 is below the range): FSBP EC2.21, CKV_AWS_231/232."""
    expected = [("tcp", 1024, 3388), ("tcp", 3390, 65535), ("udp", 1024, 3388), ("udp", 3390, 65535)]
    for tier in ("public", "private"):
        nacl = next(r for r in prod.of_type("aws:ec2/networkAcl:NetworkAcl") if r["name"] == f"golive-{tier}-nacl")
        world = [(e["protocol"], e["fromPort"], e["toPort"]) for e in nacl["inputs"]["ingress"] if e["cidrBlock"] == "0.0.0.0/0"]
        assert [w for w in world if w[1] >= 1024] == expected
        assert all(not (low <= port <= high) for _, low, high in world for port in (22, 3389))
