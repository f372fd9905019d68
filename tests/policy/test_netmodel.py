"""The reachability model (policy/rules/netmodel.py) on small declared networks, answers worked out by hand.

Each topology is a real Pulumi program synthesized by the engine, so the model reads the
records (camelCase props, propertyDependencies) a preview produces. Next to each case the
comment says why the answer is what it is, from AWS's documented behaviour: NACLs are
stateless and ordered (first match wins, ``*`` denies), replies go to ephemeral ports
1024-65535; security groups are stateful unions; a new group has no egress; the Client VPN
source-NATs clients to its association subnet; a NAT gateway needs its own subnet's route
to the internet gateway and its ACL both ways.
"""

from __future__ import annotations

import copy

import pulumi
import pulumi_aws as aws
import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy.rules import netintent, netmodel, netsets
from policy.rules.netsets import format_ports, parse_ports

ANYWHERE = "0.0.0.0/0"
ROLE_ARN = "arn:aws:iam::123456789012:role/example"
CERT_ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"


def opts() -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(provider=aws.Provider("aws-primary", region="eu-west-1"))


def acl_rules(kind, rules):
    cls = aws.ec2.NetworkAclIngressArgs if kind == "in" else aws.ec2.NetworkAclEgressArgs
    return [cls(rule_no=no, action=action, protocol=proto, cidr_block=block, from_port=lo, to_port=hi)
            for no, action, proto, block, lo, hi in rules]


def network_of(synth, **kw) -> netmodel.Network:
    return netmodel.Network(netmodel.from_synth(synth.resources), **kw)


def blockers(answer) -> set[str]:
    return {c.blocked.step for c in answer.candidates if c.blocked is not None}


def reasons(answer) -> str:
    return "\n".join(c.blocked.text for c in answer.candidates if c.blocked is not None)


def ask(net, src, dst, ports=None, protocol="tcp"):
    return net.reach(src, dst, parse_ports(ports) if ports else None, protocol)


# --------------------------------------------------------------------------- the internet to a load balancer

EDGE_IN = [(100, "allow", "tcp", ANYWHERE, 443, 443), (110, "allow", "tcp", ANYWHERE, 80, 80),
           (120, "allow", "tcp", ANYWHERE, 1024, 65535)]
EDGE_OUT = [(100, "allow", "tcp", ANYWHERE, 1024, 65535)]


def edge(acl_in=EDGE_IN, acl_out=EDGE_OUT, internet_route=True, internal=False, gateway=True):
    """An ALB in two public subnets: its group admits 443 only; the ACL admits 443, 80 and ephemeral replies."""

    def program():
        o = opts()
        vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", opts=o)
        igw = aws.ec2.InternetGateway("igw", vpc_id=vpc.id, opts=o) if gateway else None
        subnets = [aws.ec2.Subnet(f"public-{az}", vpc_id=vpc.id, cidr_block=block, availability_zone=f"eu-west-1{az}",
                                  tags={"tier": "public"}, opts=o)
                   for az, block in (("a", "10.0.1.0/24"), ("b", "10.0.2.0/24"))]
        routes = [aws.ec2.RouteTableRouteArgs(cidr_block=ANYWHERE, gateway_id=igw.id)] if internet_route and igw else []
        table = aws.ec2.RouteTable("public-rt", vpc_id=vpc.id, routes=routes, opts=o)
        for s in subnets:
            aws.ec2.RouteTableAssociation(f"rta-{s._name}", subnet_id=s.id, route_table_id=table.id, opts=o)
        aws.ec2.NetworkAcl("public-nacl", vpc_id=vpc.id, subnet_ids=[s.id for s in subnets],
                           ingress=acl_rules("in", acl_in), egress=acl_rules("out", acl_out), opts=o)
        group = aws.ec2.SecurityGroup("alb-sg", vpc_id=vpc.id, description="alb", opts=o, ingress=[
            aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=[ANYWHERE])])
        aws.lb.LoadBalancer("alb", internal=internal, load_balancer_type="application", security_groups=[group.id],
                            subnets=[s.id for s in subnets], opts=o)

    return program


def test_internet_reaches_the_alb_on_443_only(synth_program):
    net = network_of(synth_program(edge()))
    answer = ask(net, "internet", "alb")
    # The ACL admits 80, 443 and 1024-65535; the group only 443: the intersection is 443, on both subnets.
    assert answer.exists and format_ports(answer.reachable) == "443"
    assert sum(c.blocked is None for c in answer.candidates) == 2
    steps = [h.step for h in next(c for c in answer.candidates if c.blocked is None).hops]
    assert steps == ["internet gateway", "return route", "network ACL", "security group ingress"]


def test_a_port_the_acl_admits_but_the_group_does_not_stops_at_the_group(synth_program):
    answer = ask(network_of(synth_program(edge())), "internet", "alb", "80")
    assert not answer.exists and blockers(answer) == {"security group ingress"}
    assert "alb-sg: no ingress rule allows tcp 80" in reasons(answer)


def test_a_port_no_acl_rule_admits_is_denied_by_rule_star(synth_program):
    answer = ask(network_of(synth_program(edge())), "internet", "alb", "22")
    assert blockers(answer) == {"network ACL"}
    assert "no rule allows it, so rule * denies it" in reasons(answer)


def test_acl_rules_apply_in_rule_number_order(synth_program):
    # Rule 90 denies 443 before rule 100 allows it: first match wins.
    deny_first = [(90, "deny", "tcp", ANYWHERE, 443, 443), *EDGE_IN]
    answer = ask(network_of(synth_program(edge(acl_in=deny_first))), "internet", "alb", "443")
    assert blockers(answer) == {"network ACL"} and "in rule 90 (deny tcp 443 from 0.0.0.0/0) denies it" in reasons(answer)
    # The same deny after the allow changes nothing.
    deny_after = [*EDGE_IN, (130, "deny", "tcp", ANYWHERE, 443, 443)]
    assert ask(network_of(synth_program(edge(acl_in=deny_after))), "internet", "alb", "443").exists


def test_a_deny_for_part_of_the_internet_leaves_the_rest_through(synth_program):
    # 198.51.100.0/24 is denied first; every other internet address still gets in.
    partial = [(90, "deny", "tcp", "198.51.100.0/24", 443, 443), *EDGE_IN]
    assert ask(network_of(synth_program(edge(acl_in=partial))), "internet", "alb", "443").exists


def test_replies_need_an_outbound_rule_for_ephemeral_ports(synth_program):
    # The ACL is stateless: with only 443 outbound, the replies (to the client's 1024-65535) are dropped.
    answer = ask(network_of(synth_program(edge(acl_out=[(100, "allow", "tcp", ANYWHERE, 443, 443)]))), "internet", "alb", "443")
    assert blockers(answer) == {"network ACL"}
    assert "out, the replies on ephemeral ports 1024-65535" in reasons(answer)


def test_one_ephemeral_port_is_enough_for_a_reply(synth_program):
    # A narrow reply range still lets a client whose port falls in it connect.
    narrow = [(100, "allow", "tcp", ANYWHERE, 49152, 65535)]
    assert ask(network_of(synth_program(edge(acl_out=narrow))), "internet", "alb", "443").exists


def test_without_a_route_back_to_the_internet_gateway_replies_go_nowhere(synth_program):
    answer = ask(network_of(synth_program(edge(internet_route=False))), "internet", "alb", "443")
    assert blockers(answer) == {"return route"} and "does not return replies" in reasons(answer)


def test_an_internal_load_balancer_has_no_public_address(synth_program):
    answer = ask(network_of(synth_program(edge(internal=True))), "internet", "alb", "443")
    assert blockers(answer) == {"public address"} and "alb has no public address (internal: true)" in reasons(answer)


def test_a_vpc_without_internet_gateway_admits_nothing_from_the_internet(synth_program):
    answer = ask(network_of(synth_program(edge(gateway=False))), "internet", "alb", "443")
    assert blockers(answer) == {"internet gateway"}


# --------------------------------------------------------------------------- nodes to a database, across subnets

DATA_IN = [(100, "allow", "tcp", "10.0.10.0/24", 5432, 5432)]
DATA_OUT = [(100, "allow", "tcp", "10.0.10.0/24", 1024, 65535)]


def tiers(data_out=DATA_OUT, db_ingress_cidrs=(), db_ingress_from_nodes=True, template_groups=True):
    """Nodes in an app subnet, PostgreSQL in two data subnets; the data ACL admits 5432 from the app subnet only."""

    def program():
        o = opts()
        vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", opts=o)
        app = aws.ec2.Subnet("app", vpc_id=vpc.id, cidr_block="10.0.10.0/24", tags={"tier": "private"}, opts=o)
        data = [aws.ec2.Subnet(f"data-{i}", vpc_id=vpc.id, cidr_block=f"10.0.2{i}.0/24", tags={"tier": "isolated"}, opts=o)
                for i in (0, 1)]
        aws.ec2.NetworkAcl("app-nacl", vpc_id=vpc.id, subnet_ids=[app.id], opts=o,
                           ingress=acl_rules("in", [(100, "allow", "-1", "10.0.0.0/16", 0, 0)]),
                           egress=acl_rules("out", [(100, "allow", "-1", "10.0.0.0/16", 0, 0)]))
        aws.ec2.NetworkAcl("data-nacl", vpc_id=vpc.id, subnet_ids=[s.id for s in data], opts=o,
                           ingress=acl_rules("in", DATA_IN), egress=acl_rules("out", data_out))
        cp = aws.ec2.SecurityGroup("cp-sg", vpc_id=vpc.id, description="cp", opts=o)
        nodes = aws.ec2.SecurityGroup("node-sg", vpc_id=vpc.id, description="nodes", opts=o)
        aws.vpc.SecurityGroupEgressRule("nodes-to-vpc", security_group_id=nodes.id, ip_protocol="-1", cidr_ipv4="10.0.0.0/16",
                                        opts=o)
        ingress = [aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=5432, to_port=5432,
                                                    security_groups=[nodes.id] if db_ingress_from_nodes else None,
                                                    cidr_blocks=list(db_ingress_cidrs) or None)]
        db_sg = aws.ec2.SecurityGroup("db-sg", vpc_id=vpc.id, description="db", ingress=ingress, opts=o)
        cluster = aws.eks.Cluster("eks", role_arn=ROLE_ARN, opts=o, vpc_config=aws.eks.ClusterVpcConfigArgs(
            subnet_ids=[app.id], security_group_ids=[cp.id], endpoint_private_access=True, endpoint_public_access=False))
        template = aws.ec2.LaunchTemplate("nodes-lt", vpc_security_group_ids=[nodes.id] if template_groups else None, opts=o)
        aws.eks.NodeGroup("nodes", cluster_name=cluster.name, node_role_arn=ROLE_ARN, subnet_ids=[app.id], opts=o,
                          scaling_config=aws.eks.NodeGroupScalingConfigArgs(desired_size=1, max_size=1, min_size=1),
                          launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=template.id, version="1"))
        subnet_group = aws.rds.SubnetGroup("db-subnets", name="db-subnets", subnet_ids=[s.id for s in data], opts=o)
        aws.rds.Instance("db", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20, username="app",
                         manage_master_user_password=True, db_subnet_group_name=subnet_group.name,
                         vpc_security_group_ids=[db_sg.id], opts=o)

    return program


def test_nodes_reach_the_database_in_both_data_subnets(synth_program):
    answer = ask(network_of(synth_program(tiers())), "nodes", "database")
    # node-sg sends anything to the VPC, both ACLs pass 5432 and its replies, db-sg admits node-sg on 5432.
    assert answer.exists and format_ports(answer.reachable) == "5432"
    assert [c.blocked for c in answer.candidates] == [None, None]
    hops = [h.step for h in answer.candidates[0].hops]
    assert hops == ["security group egress", "route", "return route", "network ACL", "network ACL",
                    "security group ingress", "listener"]


def test_another_port_is_refused_by_the_database_group(synth_program):
    answer = ask(network_of(synth_program(tiers())), "nodes", "database", "22")
    # node-sg allows it out, the app ACL allows it, the data ACL admits 5432 only: the ACL stops it first.
    assert blockers(answer) == {"network ACL"} and "data-nacl (data-0) in" in reasons(answer)


def test_replies_the_data_acl_does_not_let_out_break_the_path(synth_program):
    answer = ask(network_of(synth_program(tiers(data_out=[(100, "allow", "tcp", "10.0.10.0/24", 80, 80)]))),
                 "nodes", "database")
    assert blockers(answer) == {"network ACL"} and "the replies on ephemeral ports" in reasons(answer)


def test_a_node_group_without_template_groups_carries_the_cluster_group(synth_program):
    # EKS gives such nodes the cluster security group; db-sg admits node-sg, not it.
    net = network_of(synth_program(tiers(template_groups=False)))
    answer = ask(net, "nodes", "database")
    assert blockers(answer) == {"security group ingress"} and "the EKS cluster security group of eks" in reasons(answer)


def test_an_open_database_group_without_internet_route_is_still_unreachable(synth_program):
    net = network_of(synth_program(tiers(db_ingress_cidrs=[ANYWHERE], db_ingress_from_nodes=False)))
    answer = ask(net, "internet", "database")
    # No internet gateway in the VPC at all.
    assert not answer.exists and blockers(answer) == {"internet gateway"}


def test_isolated_subnets_without_routes_have_no_path_to_the_internet(synth_program):
    answer = ask(network_of(synth_program(tiers())), "isolated", "internet")
    assert not answer.exists and blockers(answer) == {"route"}
    assert "has no route to any internet address" in reasons(answer)


def transit(literal_target=False):
    """An isolated subnet whose default route leaves through a transit gateway (or an undeclared one, by id)."""

    def program():
        o = opts()
        vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", opts=o)
        data = aws.ec2.Subnet("data", vpc_id=vpc.id, cidr_block="10.0.20.0/24", tags={"tier": "isolated"}, opts=o)
        if literal_target:
            routes = [aws.ec2.RouteTableRouteArgs(cidr_block=ANYWHERE, transit_gateway_id="tgw-0123456789abcdef0")]
        else:
            tgw = aws.ec2transitgateway.TransitGateway("tgw", opts=o)
            routes = [aws.ec2.RouteTableRouteArgs(cidr_block=ANYWHERE, transit_gateway_id=tgw.id)]
        table = aws.ec2.RouteTable("data-rt", vpc_id=vpc.id, routes=routes, opts=o)
        aws.ec2.RouteTableAssociation("data-rta", subnet_id=data.id, route_table_id=table.id, opts=o)

    return program


@pytest.mark.parametrize("literal_target", [False, True], ids=["declared", "by-id"])
def test_a_default_route_through_a_transit_gateway_counts_as_a_way_out(synth_program, literal_target):
    # What lies beyond the transit gateway is not declared here: an isolated subnet must not have that route at all.
    answer = ask(network_of(synth_program(transit(literal_target))), "isolated", "internet")
    assert answer.exists and all(c.assumed for c in answer.candidates if c.blocked is None)
    target = "transitGateway tgw-0123456789abcdef0" if literal_target else "transitGateway tgw"
    assert f"through {target}: beyond this stack" in answer.explain()
    violations = netintent.denied_paths(network_of(synth_program(transit(literal_target))))
    assert [v.intent for v in violations] == ["isolated -> internet"]


# --------------------------------------------------------------------------- the Client VPN to the EKS API


def vpn(admission=None, authorized="10.0.0.0/16", vpn_egress=(443, 443)):
    """A Client VPN associated with subnet a; the EKS private endpoint in subnets a and b."""

    def program():
        o = opts()
        vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", opts=o)
        subnets = [aws.ec2.Subnet(f"private-{az}", vpc_id=vpc.id, cidr_block=block, opts=o)
                   for az, block in (("a", "10.0.1.0/24"), ("b", "10.0.2.0/24"))]
        vpn_sg = aws.ec2.SecurityGroup("vpn-sg", vpc_id=vpc.id, description="vpn", opts=o, egress=[
            aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=vpn_egress[0], to_port=vpn_egress[1],
                                            cidr_blocks=["10.0.0.0/16"])])
        cp = aws.ec2.SecurityGroup("cp-sg", vpc_id=vpc.id, description="cp", opts=o)
        cluster = aws.eks.Cluster("eks", role_arn=ROLE_ARN, opts=o, vpc_config=aws.eks.ClusterVpcConfigArgs(
            subnet_ids=[s.id for s in subnets], security_group_ids=[cp.id], endpoint_private_access=True,
            endpoint_public_access=False))
        cluster_sg = cluster.vpc_config.apply(lambda v: v.cluster_security_group_id)
        if admission == "group":
            aws.vpc.SecurityGroupIngressRule("cluster-from-vpn", security_group_id=cluster_sg, ip_protocol="tcp",
                                             from_port=443, to_port=443, referenced_security_group_id=vpn_sg.id, opts=o)
        if admission == "client-cidr":
            aws.vpc.SecurityGroupIngressRule("cp-from-clients", security_group_id=cp.id, ip_protocol="tcp",
                                             from_port=443, to_port=443, cidr_ipv4="172.16.0.0/22", opts=o)
        endpoint = aws.ec2clientvpn.Endpoint(
            "vpn", server_certificate_arn=CERT_ARN, client_cidr_block="172.16.0.0/22", vpc_id=vpc.id,
            security_group_ids=[vpn_sg.id], split_tunnel=True, opts=o,
            authentication_options=[aws.ec2clientvpn.EndpointAuthenticationOptionArgs(
                type="certificate-authentication", root_certificate_chain_arn=CERT_ARN)],
            connection_log_options=aws.ec2clientvpn.EndpointConnectionLogOptionsArgs(enabled=False))
        aws.ec2clientvpn.NetworkAssociation("vpn-assoc", client_vpn_endpoint_id=endpoint.id, subnet_id=subnets[0].id, opts=o)
        aws.ec2clientvpn.AuthorizationRule("vpn-auth", client_vpn_endpoint_id=endpoint.id, target_network_cidr=authorized,
                                           authorize_all_groups=True, opts=o)

    return program


def test_nothing_admits_the_vpn_to_the_api(synth_program):
    answer = ask(network_of(synth_program(vpn())), "vpn", "eks-api", "443")
    # The cluster group admits only itself, cp-sg nothing: blocked at the API's groups, on both subnets.
    assert not answer.exists and blockers(answer) == {"security group ingress"} and len(answer.candidates) == 2
    assert "no ingress rule allows tcp 443 from 10.0.1.0/24 or vpn-sg" in reasons(answer)


def test_admitting_the_vpn_group_on_the_cluster_group_opens_the_api(synth_program):
    answer = ask(network_of(synth_program(vpn(admission="group"))), "vpn", "eks-api", "443")
    assert answer.exists and sum(c.blocked is None for c in answer.candidates) == 2
    hops = answer.explain()
    assert "source NAT: clients 172.16.0.0/22 leave vpn as addresses of private-a" in hops
    assert "cluster-from-vpn (tcp 443 from vpn-sg)" in hops


def test_admitting_the_client_cidr_does_not_help_because_clients_are_source_nated(synth_program):
    answer = ask(network_of(synth_program(vpn(admission="client-cidr"))), "vpn", "eks-api", "443")
    assert not answer.exists and blockers(answer) == {"security group ingress"}


def test_authorization_rules_limit_where_clients_go(synth_program):
    answer = ask(network_of(synth_program(vpn(admission="group", authorized="10.0.1.0/24"))), "vpn", "eks-api", "443")
    # Only the interface in private-a is authorized.
    assert answer.exists and sum(c.blocked is None for c in answer.candidates) == 1
    assert blockers(answer) == {"client VPN authorization"}


def test_the_vpn_group_must_let_the_traffic_out(synth_program):
    answer = ask(network_of(synth_program(vpn(admission="group", vpn_egress=(22, 22)))), "vpn", "eks-api", "443")
    assert blockers(answer) == {"security group egress"}


def test_a_split_tunnel_vpn_has_no_route_to_the_internet(synth_program):
    answer = ask(network_of(synth_program(vpn())), "vpn", "internet", "443")
    assert blockers(answer) == {"client VPN route"}


# --------------------------------------------------------------------------- nodes to the internet through NAT


def egress(nat_connectivity="public", public_in=((100, "allow", "-1", "10.0.0.0/16", 0, 0),
                                                 (110, "allow", "tcp", ANYWHERE, 1024, 65535))):
    """Nodes in a private subnet whose default route is a NAT gateway in the public subnet."""

    def program():
        o = opts()
        vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", opts=o)
        igw = aws.ec2.InternetGateway("igw", vpc_id=vpc.id, opts=o)
        public = aws.ec2.Subnet("public", vpc_id=vpc.id, cidr_block="10.0.1.0/24", opts=o)
        private = aws.ec2.Subnet("private", vpc_id=vpc.id, cidr_block="10.0.2.0/24", opts=o)
        public_rt = aws.ec2.RouteTable("public-rt", vpc_id=vpc.id, opts=o, routes=[
            aws.ec2.RouteTableRouteArgs(cidr_block=ANYWHERE, gateway_id=igw.id)])
        aws.ec2.RouteTableAssociation("public-rta", subnet_id=public.id, route_table_id=public_rt.id, opts=o)
        eip = aws.ec2.Eip("nat-eip", domain="vpc", opts=o)
        nat = aws.ec2.NatGateway("nat", subnet_id=public.id, allocation_id=eip.id, connectivity_type=nat_connectivity, opts=o)
        private_rt = aws.ec2.RouteTable("private-rt", vpc_id=vpc.id, opts=o)
        aws.ec2.Route("private-default", route_table_id=private_rt.id, destination_cidr_block=ANYWHERE, nat_gateway_id=nat.id,
                      opts=o)
        aws.ec2.RouteTableAssociation("private-rta", subnet_id=private.id, route_table_id=private_rt.id, opts=o)
        aws.ec2.NetworkAcl("public-nacl", vpc_id=vpc.id, subnet_ids=[public.id], opts=o, ingress=acl_rules("in", public_in),
                           egress=acl_rules("out", [(100, "allow", "-1", ANYWHERE, 0, 0)]))
        nodes = aws.ec2.SecurityGroup("node-sg", vpc_id=vpc.id, description="nodes", opts=o, egress=[
            aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=[ANYWHERE])])
        cluster = aws.eks.Cluster("eks", role_arn=ROLE_ARN, opts=o, vpc_config=aws.eks.ClusterVpcConfigArgs(
            subnet_ids=[private.id], endpoint_private_access=True, endpoint_public_access=False))
        template = aws.ec2.LaunchTemplate("nodes-lt", vpc_security_group_ids=[nodes.id], opts=o)
        aws.eks.NodeGroup("nodes", cluster_name=cluster.name, node_role_arn=ROLE_ARN, subnet_ids=[private.id], opts=o,
                          scaling_config=aws.eks.NodeGroupScalingConfigArgs(desired_size=1, max_size=1, min_size=1),
                          launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=template.id, version="1"))

    return program


def test_nodes_reach_the_internet_on_443_through_the_nat_gateway(synth_program):
    answer = ask(network_of(synth_program(egress())), "nodes", "internet")
    # The private subnet has the default ACL (allow all); node-sg sends 443 only.
    assert answer.exists and format_ports(answer.reachable) == "443"
    text = answer.explain()
    assert "private-rt sends any internet address to nat" in text and "nat in public translates it" in text


def test_the_nat_subnet_acl_must_admit_the_internet_replies(synth_program):
    answer = ask(network_of(synth_program(egress(public_in=((100, "allow", "-1", "10.0.0.0/16", 0, 0),)))),
                 "nodes", "internet", "443")
    assert blockers(answer) == {"network ACL"} and "public-nacl (public) in, the replies" in reasons(answer)


def test_a_private_nat_gateway_is_no_way_out(synth_program):
    answer = ask(network_of(synth_program(egress(nat_connectivity="private"))), "nodes", "internet", "443")
    assert blockers(answer) == {"NAT gateway"}


# --------------------------------------------------------------------------- what a first preview sees


def _first_preview(records):
    """The records as a first ``pulumi preview`` hands them to a policy: proxied, every id and ARN unknown."""
    id_like = ("sg-", "subnet-", "vpc-", "igw-", "nat-", "rtb-", "acl-", "lt-", "cvpn-endpoint-", "eipalloc-", "arn:")

    def blank(value):
        if isinstance(value, dict):
            return {k: blank(v) for k, v in value.items()}
        if isinstance(value, list):
            return [blank(v) for v in value]
        if isinstance(value, str) and value.startswith(id_like):
            return UNKNOWN_STRING_VALUE
        return value

    out = []
    for record in copy.deepcopy(records):
        record["inputs"] = unknown_checking_proxy(blank(record["inputs"]))
        out.append(record)
    return out


def test_the_model_reads_no_unknown_value_and_answers_the_same(prod):
    known = netmodel.Network(netmodel.from_synth(prod.resources))
    unknown = netmodel.Network(netmodel.from_synth(_first_preview(prod.resources)))
    a, b = netintent.matrix(known), netintent.matrix(unknown)
    assert {k: (v.ports, v.through, v.status) for k, v in a.cells.items()} == \
        {k: (v.ports, v.through, v.status) for k, v in b.cells.items()}
    assert [v.message for v in netintent.check_intent(known)] == [v.message for v in netintent.check_intent(unknown)]


# --------------------------------------------------------------------------- addresses


def test_internet_addresses_leave_out_private_and_special_ranges():
    for private in ("10.1.2.3/32", "172.16.0.0/22", "192.168.1.0/24", "100.64.0.1/32", "169.254.169.254/32"):
        assert not netsets.inter(netmodel.INTERNET_ADDRESSES, netsets.cidr(private))
    for public in ("8.8.8.8/32", "203.0.113.0/24", "52.95.0.0/16"):
        assert netsets.covers(netmodel.INTERNET_ADDRESSES, netsets.cidr(public))


# --------------------------------------------------------------------------- properties over random networks

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PEERS = ("0.0.0.0/0", "10.0.0.0/16", "10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "203.0.113.0/24")
# Route destinations that never nest, so longest-prefix match cannot make a removed route expose a wider one.
ROUTE_BLOCKS = ("8.0.0.0/8", "52.0.0.0/8", "198.51.100.0/24", "203.0.113.0/24")


class Doc:
    """A synth document built record by record, joined through propertyDependencies as the engine records them."""

    def __init__(self):
        self.records: list[dict] = []

    def add(self, typ: str, name: str, inputs: dict, deps: dict | None = None) -> dict:
        record = {"type": typ, "name": name, "urn": f"urn:pulumi:test::t::{typ}::{name}", "inputs": inputs,
                  "propertyDependencies": {k: [d["urn"] for d in v] for k, v in (deps or {}).items()}}
        self.records.append(record)
        return record


# Biased toward open rules, so that most generated networks have paths worth breaking.
ports_st = st.sampled_from([(0, 65535)] * 4 + [(22, 22), (80, 80), (443, 443), (5432, 5432), (1024, 65535)])
protocol_st = st.sampled_from(["-1", "-1", "tcp", "tcp", "udp"])


@st.composite
def acl_rule(draw, number):
    lo, hi = draw(ports_st)
    return {"ruleNo": number, "action": draw(st.sampled_from(["allow", "allow", "allow", "deny"])), "protocol": draw(protocol_st),
            "cidrBlock": draw(st.sampled_from(PEERS)), "fromPort": lo, "toPort": hi}


@st.composite
def group_rule(draw, groups):
    lo, hi = draw(ports_st)
    rule = {"protocol": draw(protocol_st), "fromPort": lo, "toPort": hi}
    peer = draw(st.sampled_from([*PEERS, *groups, *groups]))
    if peer in PEERS:
        rule["cidrBlocks"] = [peer]
        return rule, None
    rule["securityGroups"] = [f"sg-{peer}"]
    return rule, peer


@st.composite
def networks(draw):
    doc = Doc()
    vpc = doc.add("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})
    igw = doc.add("aws:ec2/internetGateway:InternetGateway", "igw", {}, {"vpcId": [vpc]})
    tiers = [draw(st.sampled_from(["public", "private", "isolated"])) for _ in range(3)]
    subnets = [doc.add("aws:ec2/subnet:Subnet", f"s{i}", {"cidrBlock": f"10.0.{i}.0/24", "tags": {"tier": tier},
                                                          "mapPublicIpOnLaunch": draw(st.booleans())}, {"vpcId": [vpc]})
               for i, tier in enumerate(tiers)]
    nat = doc.add("aws:ec2/natGateway:NatGateway", "nat", {"connectivityType": "public"}, {"subnetId": [subnets[0]]})
    for i, subnet in enumerate(subnets):
        targets = {"igw": ("gatewayId", igw), "nat": ("natGatewayId", nat), "tgw": ("transitGatewayId", None)}
        routes, deps = [], []
        blocks = ["0.0.0.0/0"] if draw(st.booleans()) else draw(st.lists(st.sampled_from(ROUTE_BLOCKS), unique=True, max_size=3))
        for block in blocks:
            kind = draw(st.sampled_from(sorted(targets)))
            key, target = targets[kind]
            routes.append({"cidrBlock": block, key: f"{kind}-0123"})
            if target is not None:  # a transit gateway outside the stack: known by its id only
                deps.append(target)
        table = doc.add("aws:ec2/routeTable:RouteTable", f"rt{i}", {"routes": routes}, {"vpcId": [vpc], "routes": deps})
        doc.add("aws:ec2/routeTableAssociation:RouteTableAssociation", f"rta{i}", {}, {"subnetId": [subnet], "routeTableId": [table]})
        if draw(st.integers(0, 2)) == 0:
            numbers = sorted(draw(st.sets(st.integers(1, 200), min_size=1, max_size=4)))
            doc.add("aws:ec2/networkAcl:NetworkAcl", f"acl{i}",
                    {"ingress": [draw(acl_rule(n)) for n in numbers], "egress": [draw(acl_rule(n)) for n in numbers]},
                    {"vpcId": [vpc], "subnetIds": [subnet]})
    names = ["g0", "g1", "g2"]
    groups = {}
    for name in names:
        inputs, deps = {}, {}
        for direction in ("ingress", "egress"):
            rules = [draw(group_rule(names)) for _ in range(draw(st.integers(0, 3)))]
            inputs[direction] = [r for r, _ in rules]
            referenced = sorted({peer for _, peer in rules if peer})
            if referenced:
                deps[direction] = referenced
        groups[name] = (inputs, deps)
    records = {name: doc.add("aws:ec2/securityGroup:SecurityGroup", name, inputs, {"vpcId": [vpc]}) for name, (inputs, _) in groups.items()}
    for name, (_, deps) in groups.items():
        records[name]["propertyDependencies"].update({k: [records[g]["urn"] for g in v] for k, v in deps.items()})
    doc.add("aws:lb/loadBalancer:LoadBalancer", "alb", {"internal": draw(st.booleans()), "loadBalancerType": "application"},
            {"subnets": [subnets[0]], "securityGroups": [records["g0"]]})
    cluster = doc.add("aws:eks/cluster:Cluster", "eks", {"vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False}},
                      {"vpcConfig": [subnets[1]]})
    template = doc.add("aws:ec2/launchTemplate:LaunchTemplate", "lt", {}, {"vpcSecurityGroupIds": [records["g1"]]})
    doc.add("aws:eks/nodeGroup:NodeGroup", "nodes", {}, {"clusterName": [cluster], "subnetIds": [subnets[1]],
                                                        "launchTemplate": [template]})
    subnet_group = doc.add("aws:rds/subnetGroup:SubnetGroup", "db-subnets", {}, {"subnetIds": [subnets[2]]})
    doc.add("aws:rds/instance:Instance", "db", {"engine": "postgres", "publiclyAccessible": draw(st.booleans())},
            {"dbSubnetGroupName": [subnet_group], "vpcSecurityGroupIds": [records["g2"]]})
    return doc


def reachable_ports(records) -> dict:
    net = netmodel.Network(netmodel.from_synth(records))
    return {cell: value.ports for cell, value in netintent.matrix(net).cells.items()}


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _with_an_allow_rule(doc: Doc, data) -> Doc | None:
    """A copy of ``doc`` with one more allow rule: a group rule (inline or a rule resource) or an ACL rule, anywhere."""
    out = copy.deepcopy(doc)
    lo, hi = data.draw(st.sampled_from([(22, 22), (443, 443), (5432, 5432), (1024, 65535), (0, 65535)]))
    protocol = data.draw(protocol_st)
    where = data.draw(st.sampled_from(["group-ingress", "group-egress", "inline-ingress", "inline-egress", "acl"]))
    groups = [r for r in out.records if r["type"] == "aws:ec2/securityGroup:SecurityGroup"]
    if where.startswith("inline"):
        group = data.draw(st.sampled_from(groups))
        rules = group["inputs"][where.removeprefix("inline-")]
        rules.insert(data.draw(st.integers(0, len(rules))),
                     {"protocol": protocol, "fromPort": lo, "toPort": hi, "cidrBlocks": [data.draw(st.sampled_from(PEERS))]})
    elif where.startswith("group"):
        group = data.draw(st.sampled_from(groups))
        typ = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" if where == "group-ingress" \
            else "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
        peer = data.draw(st.sampled_from([*PEERS, *groups]))
        inputs = {"ipProtocol": protocol, "fromPort": lo, "toPort": hi}
        deps = {"securityGroupId": [group]}
        if isinstance(peer, str):
            inputs["cidrIpv4"] = peer
        else:
            inputs["referencedSecurityGroupId"] = "sg-x"
            deps["referencedSecurityGroupId"] = [peer]
        out.add(typ, f"added-{len(out.records)}", inputs, deps)
    else:
        acls = [r for r in out.records if r["type"] == "aws:ec2/networkAcl:NetworkAcl"]
        if not acls:
            return None
        acl = data.draw(st.sampled_from(acls))
        direction = data.draw(st.sampled_from(["ingress", "egress"]))
        used = {r["ruleNo"] for r in acl["inputs"][direction]}
        number = data.draw(st.integers(1, 300).filter(lambda n: n not in used))
        acl["inputs"][direction].append({"ruleNo": number, "action": "allow", "protocol": protocol,
                                         "cidrBlock": data.draw(st.sampled_from(PEERS)), "fromPort": lo, "toPort": hi})
    return out


@PROPERTY
@given(networks(), st.data())
def test_adding_an_allow_rule_never_removes_a_path(doc, data):
    before = reachable_ports(doc.records)
    for _ in range(4):  # several independent additions against one baseline
        after_doc = _with_an_allow_rule(doc, data)
        if after_doc is None:
            continue
        after = reachable_ports(after_doc.records)
        for cell, ports in before.items():
            assert netsets.covers(after[cell], ports), (cell, format_ports(ports), format_ports(after[cell]))


@PROPERTY
@given(networks(), st.data())
def test_removing_a_route_never_adds_a_path(doc, data):
    tables = [r for r in doc.records if r["type"] == "aws:ec2/routeTable:RouteTable" and r["inputs"]["routes"]]
    if not tables:
        return
    before = reachable_ports(doc.records)
    after_doc = copy.deepcopy(doc)
    chosen = data.draw(st.sampled_from(tables))["urn"]
    table = next(r for r in after_doc.records if r["urn"] == chosen)
    table["inputs"]["routes"].pop(data.draw(st.integers(0, len(table["inputs"]["routes"]) - 1)))
    after = reachable_ports(after_doc.records)
    for cell, ports in after.items():
        assert netsets.covers(before[cell], ports), (cell, format_ports(before[cell]), format_ports(ports))
