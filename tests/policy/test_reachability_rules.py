"""Reachability policies through the pack's protocol, on the prod stack and mutations of it.

Expectations come from the intent (production defaults in policy/rules/netmodel.py) and
from AWS's behaviour, not from the model: the prod NACL rule numbers are not relied on
(another change may renumber them), only what the tiers are meant to admit.
"""

from __future__ import annotations

import copy

import pytest

from golive import check, engine
from policy.rules import netintent, netmodel, reachability
from tests.helpers import drop, mutate, of_type, one

INTENT = "network-reach-intent"
INTENT_POLICIES = [p.name for p in reachability.POLICIES]


def reach_findings(synth, config=None, names=(INTENT,)):
    policies = [p for p in check.load_policies() if p.name in names]
    assert {p.name for p in policies} == set(names)
    return check.check(synth, policies, policy_config={INTENT: config} if config else None).findings


def messages(found) -> str:
    return "\n\n".join(f.message for f in found)


def network(synth, **kw):
    return netmodel.Network(netmodel.from_synth(synth.resources), **kw)


def by_name(synth, name):
    return next(r for r in synth.resources if r["name"] == name)


def admits_vpn(synth):
    vpn_group = one(synth, "aws:ec2/securityGroup:SecurityGroup", "vpn-sg")["urn"]
    return lambda r: r["type"] == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" and \
        vpn_group in r.get("propertyDependencies", {}).get("referencedSecurityGroupId", [])


def with_vpn_admission(synth):
    """The admission as it is meant to be declared: the cluster security group admits the VPN's group on 443."""
    doc = copy.deepcopy(synth.document())
    cluster = one(synth, "aws:eks/cluster:Cluster")["urn"]
    vpn_group = one(synth, "aws:ec2/securityGroup:SecurityGroup", "vpn-sg")["urn"]
    doc["resources"].append({
        "type": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "name": "test-cluster-from-vpn",
        "urn": cluster.rsplit("$", 1)[0] + "$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::test-cluster-from-vpn",
        "custom": True, "parent": None, "provider": None, "secretInputs": [], "source": None,
        "inputs": {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "description": "Kubernetes API from the admin VPN",
                   "securityGroupId": "sg-cluster", "referencedSecurityGroupId": "sg-vpn"},
        "propertyDependencies": {"securityGroupId": [cluster], "referencedSecurityGroupId": [vpn_group]},
        "options": {"protect": False, "retainOnDelete": False, "dependsOn": [cluster, vpn_group], "ignoreChanges": [],
                    "deleteBeforeReplace": False, "additionalSecretOutputs": []},
    })
    return engine.SynthResult.from_document(doc)


# --------------------------------------------------------------------------- prod


def test_passes_on_the_prod_stack(prod):
    assert reach_findings(prod) == []


def test_prod_vpn_reaches_the_eks_api(prod):
    assert network(prod).reach("vpn", "eks-api", ((443, 443),)).exists


def test_prod_has_every_intended_path(prod):
    assert [v.intent for v in netintent.missing_paths(network(prod))] == []


def test_prod_intended_paths_exist(prod):
    net = network(prod)
    expected = {  # the intent, written out: source, destination, ports
        ("internet", "alb"): "80, 443",
        ("nodes", "eks-api"): "443",
        ("nodes", "database"): "5432",
        ("nodes", "cache"): "6379",
        ("nodes", "opensearch"): "443",
        ("nodes", "endpoints"): "443",
    }
    for (src, dst), ports in expected.items():
        answer = net.reach(src, dst)
        assert netmodel.format_ports(answer.reachable) == ports, answer.explain()
    for service in ("listings-service", "signal-service", "trading-api"):
        assert net.reach("alb", service).exists
        assert net.reach("internet", service).exists  # through the ALB's 443 listener
        assert not net.reach("internet", service).reachable  # never directly


@pytest.mark.parametrize("destination", ["eks-api", "nodes", "database", "cache", "opensearch", "endpoints", "internet"])
def test_prod_nothing_else_from_the_internet(prod, destination):
    answer = network(prod).reach("internet", destination)
    assert not answer.exists, answer.explain()


def test_prod_isolated_subnets_have_no_path_to_the_internet(prod):
    answer = network(prod).reach("isolated", "internet")
    assert not answer.exists and {c.blocked.step for c in answer.candidates} == {"route"}


# --------------------------------------------------------------------------- the Client VPN's admission


def test_dropping_the_vpn_admission_fails_the_intent(prod):
    without = drop(prod, admits_vpn(prod))
    assert "intended path missing: vpn -> eks-api:443" in messages(reach_findings(without, names=INTENT_POLICIES))
    with_admission = with_vpn_admission(without)
    assert network(with_admission).reach("vpn", "eks-api", ((443, 443),)).exists
    assert reach_findings(with_admission, names=INTENT_POLICIES) == []


# --------------------------------------------------------------------------- the database and the internet


def _open_database_group(record):
    record["inputs"]["ingress"].append({"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]})


def test_an_open_database_group_without_internet_route_is_still_no_path(prod):
    group = one(prod, "aws:ec2/securityGroup:SecurityGroup", "db-sg")
    opened = mutate(prod, group["urn"], _open_database_group)
    assert reach_findings(opened) == []
    answer = network(opened).reach("internet", "database")
    assert not answer.exists and {c.blocked.step for c in answer.candidates} == {"public address"}


def _internet_route(igw):
    def change(record):
        record["inputs"]["routes"] = [{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-x"}]
        record["propertyDependencies"]["routes"] = [igw]
    return change


def _isolated_reachable_from_the_internet(prod, open_acl):
    igw = one(prod, "aws:ec2/internetGateway:InternetGateway")["urn"]
    broken = prod
    for table in of_type(prod, "aws:ec2/routeTable:RouteTable"):
        if table["inputs"].get("tags", {}).get("tier") == "isolated":
            broken = mutate(broken, table["urn"], _internet_route(igw))
    broken = mutate(broken, one(prod, "aws:ec2/securityGroup:SecurityGroup", "db-sg")["urn"], _open_database_group)
    broken = mutate(broken, one(prod, "aws:rds/instance:Instance")["urn"], lambda r: r["inputs"].update(publiclyAccessible=True))
    if open_acl:
        anywhere = [{"ruleNo": 100, "action": "allow", "protocol": "-1", "cidrBlock": "0.0.0.0/0", "fromPort": 0, "toPort": 0}]
        acl = next(a for a in of_type(prod, "aws:ec2/networkAcl:NetworkAcl") if a["inputs"]["tags"]["tier"] == "isolated")
        broken = mutate(broken, acl["urn"], lambda r: r["inputs"].update(ingress=anywhere, egress=copy.deepcopy(anywhere)))
    return broken


def test_an_internet_route_and_an_open_group_still_meet_the_isolated_acl(prod):
    broken = _isolated_reachable_from_the_internet(prod, open_acl=False)
    answer = network(broken).reach("internet", "database")
    # The isolated tier's ACL admits the VPC only: the second fence holds.
    assert not answer.exists and {c.blocked.step for c in answer.candidates} == {"network ACL"}
    assert "golive-isolated-nacl" in answer.explain()


def test_an_internet_route_an_open_group_and_an_open_acl_make_a_path(prod):
    broken = _isolated_reachable_from_the_internet(prod, open_acl=True)
    found = reach_findings(broken)
    text = messages(found)
    assert "unintended path: internet -> database:5432/tcp" in text
    assert "denied path exists: isolated -> internet" in text
    unintended = next(f for f in found if f.message.startswith("unintended path: internet -> database"))
    for gate in ("golive-igw", "golive-isolated-nacl", "golive-db-sg ingress", "publiclyAccessible: true"):
        assert gate in unintended.message
    assert unintended.urn == one(prod, "aws:ec2/securityGroup:SecurityGroup", "db-sg")["urn"]


# --------------------------------------------------------------------------- the EKS public endpoint and the deployer


def _public_endpoint(cidrs):
    def change(record):
        record["inputs"]["vpcConfig"].update(endpointPublicAccess=True, publicAccessCidrs=cidrs)
    return change


def test_a_world_open_public_endpoint_is_an_unintended_path(prod):
    broken = mutate(prod, one(prod, "aws:eks/cluster:Cluster")["urn"], _public_endpoint(["0.0.0.0/0"]))
    (finding,) = reach_findings(broken)
    assert finding.message.startswith("unintended path: internet -> eks-api:443/tcp")
    assert "golive-eks public endpoint admits any internet address (publicAccessCidrs 0.0.0.0/0)" in finding.message


def test_a_public_endpoint_for_the_deployer_only_is_intended(prod):
    deployer = {"deployerCidrs": ["203.0.113.0/24"]}
    opened = mutate(prod, one(prod, "aws:eks/cluster:Cluster")["urn"], _public_endpoint(["203.0.113.0/24"]))
    assert reach_findings(opened, deployer) == []
    assert network(opened, deployer_cidrs=["203.0.113.0/24"]).reach("deployer", "eks-api", ((443, 443),)).exists


def test_a_deployer_outside_the_vpc_cannot_reach_a_private_endpoint(prod):
    (finding,) = reach_findings(prod, {"deployerCidrs": ["203.0.113.0/24"]})
    assert finding.message.startswith("intended path missing: deployer -> eks-api:443")
    assert "golive-eks control plane has no public address" in finding.message


def test_a_deployer_inside_the_vpc_needs_an_admission(prod):
    (finding,) = reach_findings(prod, {"deployerCidrs": ["10.20.0.10/32"]})
    assert finding.message.startswith("intended path missing: deployer -> eks-api:443")
    assert "security group ingress" in finding.message and "golive-control-plane-sg" in finding.message


# --------------------------------------------------------------------------- intent as config


def test_a_path_from_the_internet_outside_the_intent_fails(prod):
    required = [i for i in netintent.REQUIRED if not i.startswith("internet")]
    text = messages(reach_findings(prod, {"required": required}))
    assert "unintended path: internet -> alb:80,443/tcp" in text
    assert "golive-alb-sg ingress[1] (tcp 443 from 0.0.0.0/0)" in text


def test_a_service_the_alb_cannot_reach_fails(prod):
    broken = drop(prod, lambda r: r["name"].startswith("golive-nodes-from-alb-"))
    text = messages(reach_findings(broken))
    for service in ("listings-service", "signal-service", "trading-api"):
        assert f"intended path missing: alb -> {service}" in text
    assert "golive-node-sg: no ingress rule allows tcp 8080" in text


@pytest.mark.parametrize(("config", "expected"), [
    ({"required": ["nodes => database"]}, "invalid intent: 'nodes => database' is not SOURCE -> DESTINATION"),
    ({"allowed": ["printer -> nodes:9100"]}, "unknown role 'printer'"),
    ({"deployerCidrs": ["not-a-cidr"]}, "deployerCidrs: deployer CIDR 'not-a-cidr' is not an IPv4 CIDR"),
])
def test_bad_intent_config_is_reported(prod, config, expected):
    assert expected in messages(reach_findings(prod, config))
