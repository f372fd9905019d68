"""Network rules: AZ spread, NAT redundancy, public exposure, default SG, flow logs."""

from __future__ import annotations

from pulumi_policy import Severity

from . import types as t
from ._base import as_list, customer_managed_key, depends_via, get, is_production, of_type, refers_to, resource_policy, stack_policy


def _vpc_subnets(args, vpc):
    return [s for s in of_type(args, t.SUBNET) if refers_to(s, "vpcId", vpc)]


def _check_min_azs(args, cfg):
    for vpc in of_type(args, t.VPC):
        azs = {get(s.props, "availabilityZone") for s in _vpc_subnets(args, vpc)} - {None}
        if len(azs) < cfg["minAzs"]:
            yield (f"VPC {vpc.name} has subnets in {len(azs)} availability zone(s) ({', '.join(sorted(azs)) or 'none'}); "
                   f"at least {cfg['minAzs']} are required so one AZ failure leaves a majority running."), vpc.urn


vpc_min_azs = stack_policy(
    name="network-vpc-min-azs",
    description="Every VPC spreads its subnets over at least 3 availability zones.",
    check=_check_min_azs,
    types=(t.VPC, t.SUBNET),
    severity=Severity.HIGH,
    category="Infrastructure",
    remediation="List three or more zones in golive:network.availabilityZones.",
    controls=("well-architected:REL10-BP01",),
    defaults={"minAzs": 3},
)


def _azs_of_subnets(subnets_by_urn, deps):
    return {get(subnets_by_urn[d.urn].props, "availabilityZone") for d in deps if d.urn in subnets_by_urn} - {None}


def _check_nat_per_az(args, cfg):
    if not is_production(args):
        return
    subnets = {s.urn: s for s in of_type(args, t.SUBNET)}
    nat_az = {nat.urn: _azs_of_subnets(subnets, depends_via(nat, "subnetId")) for nat in of_type(args, t.NAT_GATEWAY)}
    associations = of_type(args, t.ROUTE_TABLE_ASSOCIATION)
    for vpc in of_type(args, t.VPC):
        private_azs = {get(s.props, "availabilityZone") for s in _vpc_subnets(args, vpc) if get(s.props, "tags.tier") == "private"}
        vpc_nat_azs = set().union(*[azs for urn, azs in nat_az.items() if azs & private_azs]) if nat_az else set()
        missing = sorted(private_azs - vpc_nat_azs - {None})
        if missing:
            yield (f"VPC {vpc.name}: no NAT gateway in {', '.join(missing)}; a production VPC needs one per AZ "
                   "so that losing one zone does not cut egress for the others."), vpc.urn
        for table in of_type(args, t.ROUTE_TABLE):
            if not refers_to(table, "vpcId", vpc):
                continue
            table_azs = set()
            for assoc in associations:
                if refers_to(assoc, "routeTableId", table):
                    table_azs |= _azs_of_subnets(subnets, depends_via(assoc, "subnetId"))
            for nat in (d for d in depends_via(table, "routes") if d.urn in nat_az):
                if table_azs and not table_azs <= nat_az[nat.urn]:
                    yield (f"route table {table.name} serves {', '.join(sorted(table_azs))} but routes to the NAT gateway in "
                           f"{', '.join(sorted(nat_az[nat.urn]))}; route each AZ to its own NAT gateway."), table.urn


nat_per_az = stack_policy(
    name="network-nat-gateway-per-az",
    description="A production VPC has a NAT gateway in every AZ with private subnets, and each AZ routes to its own.",
    check=_check_nat_per_az,
    types=(t.VPC, t.SUBNET, t.NAT_GATEWAY, t.ROUTE_TABLE, t.ROUTE_TABLE_ASSOCIATION),
    severity=Severity.HIGH,
    category="Infrastructure",
    remediation="Set golive:network.natGateways to perAz.",
    controls=("well-architected:REL10-BP01",),
)


def _check_subnet_public_ip(args, cfg):
    if get(args.props, "mapPublicIpOnLaunch") and get(args.props, "tags.tier") != "public":
        yield (f"subnet {args.name} (tier {get(args.props, 'tags.tier') or 'untagged'}) gives instances public IPs; "
               "only public-tier subnets may.")


subnet_no_public_ip = resource_policy(
    name="network-subnet-no-public-ip",
    description="Only public-tier subnets may assign public IPs on launch.",
    types=(t.SUBNET,),
    check=_check_subnet_public_ip,
    severity=Severity.HIGH,
    category="Security",
    remediation="Set map_public_ip_on_launch=False on private and isolated subnets.",
    controls=("fsbp:EC2.15", "checkov:CKV_AWS_130"),
)


def _check_default_sg(args, cfg):
    managed = of_type(args, t.DEFAULT_SECURITY_GROUP)
    for vpc in of_type(args, t.VPC):
        groups = [g for g in managed if refers_to(g, "vpcId", vpc)]
        if not groups:
            yield (f"VPC {vpc.name}: its default security group is not managed, so it keeps AWS's allow-all rules; "
                   "adopt it with aws.ec2.DefaultSecurityGroup and no rules."), vpc.urn
    for group in managed:
        rules = [*as_list(get(group.props, "ingress")), *as_list(get(group.props, "egress"))]
        if rules:
            yield f"default security group {group.name} has {len(rules)} rule(s); it must have none.", group.urn


default_sg_closed = stack_policy(
    name="network-default-security-group-closed",
    description="Every VPC's default security group is managed and has no rules.",
    check=_check_default_sg,
    types=(t.VPC, t.DEFAULT_SECURITY_GROUP),
    severity=Severity.MEDIUM,
    category="Security",
    remediation="Declare aws.ec2.DefaultSecurityGroup(vpc_id=…, ingress=[], egress=[]).",
    controls=("fsbp:EC2.2", "cis:5.4", "checkov:CKV2_AWS_12"),
)


def _check_flow_logs(args, cfg):
    logs = of_type(args, t.FLOW_LOG)
    groups = {g.urn: g for g in of_type(args, t.LOG_GROUP)}
    for vpc in of_type(args, t.VPC):
        mine = [f for f in logs if refers_to(f, "vpcId", vpc)]
        if not mine:
            yield f"VPC {vpc.name} has no flow log.", vpc.urn
            continue
        if not any(get(f.props, "trafficType") == "ALL" for f in mine):
            yield f"VPC {vpc.name}: flow logs must capture ALL traffic, not only accepted or rejected.", vpc.urn
        for flow in mine:
            for dest in depends_via(flow, "logDestination"):
                group = groups.get(dest.urn)
                if group is None:
                    continue
                if problem := customer_managed_key(group.props, "kmsKeyId"):
                    yield f"flow log group {group.name} is not encrypted with a customer-managed KMS key: it {problem}.", group.urn
                retention = get(group.props, "retentionInDays")
                if not retention or retention < cfg["minRetentionDays"]:
                    yield (f"flow log group {group.name} keeps logs {retention or 'forever (unset)'} days; "
                           f"set a retention of at least {cfg['minRetentionDays']}."), group.urn


flow_logs = stack_policy(
    name="network-vpc-flow-logs",
    description="Every VPC has a flow log of ALL traffic to a KMS-encrypted log group with retention.",
    check=_check_flow_logs,
    types=(t.VPC, t.FLOW_LOG, t.LOG_GROUP),
    severity=Severity.HIGH,
    category="Compliance",
    remediation="Keep the Network component's flow log; give its log group kms_key_id and retention_in_days.",
    controls=("fsbp:EC2.6", "cis:3.7", "checkov:CKV2_AWS_11"),
    defaults={"minRetentionDays": 90},
)


def _vpc_endpoint_check(args, cfg):
    if get(args.props, "vpcEndpointType") == "Interface" and not get(args.props, "privateDnsEnabled"):
        yield f"interface endpoint {args.name} has private DNS off, so clients still resolve the public endpoint."


vpc_endpoint_private_dns = resource_policy(
    name="network-endpoint-private-dns",
    description="Interface VPC endpoints resolve through private DNS so traffic to AWS APIs stays in the VPC.",
    types=(t.VPC_ENDPOINT,),
    check=_vpc_endpoint_check,
    severity=Severity.MEDIUM,
    category="Security",
    remediation="Set private_dns_enabled=True on interface endpoints.",
    controls=("fsbp:EC2.10",),
)

WORLD = ("0.0.0.0/0", "::/0")
ALL_PROTOCOLS = ("-1", "all")


def _nacl_entries(args):
    """(label, entry) for every inbound allow entry the resource declares: inline ingress, or a NetworkAclRule."""
    if args.resource_type == t.NETWORK_ACL_RULE:
        if get(args.props, "egress") is not True:
            yield f"rule {get(args.props, 'ruleNumber')}", {
                "action": get(args.props, "ruleAction"), "cidrBlock": get(args.props, "cidrBlock"),
                "ipv6CidrBlock": get(args.props, "ipv6CidrBlock"), "protocol": get(args.props, "protocol"),
                "fromPort": get(args.props, "fromPort"), "toPort": get(args.props, "toPort")}
        return
    for entry in get(args.props, "ingress") or []:
        yield f"ingress rule {get(entry, 'ruleNo')}", entry


def _check_nacl_admin_ports(args, cfg):
    for label, entry in _nacl_entries(args):
        if str(get(entry, "action") or "").lower() != "allow":
            continue
        sources = [c for c in (get(entry, "cidrBlock"), get(entry, "ipv6CidrBlock")) if c in WORLD]
        if not sources:
            continue
        protocol = str(get(entry, "protocol") or "")
        low, high = int(get(entry, "fromPort", 0) or 0), int(get(entry, "toPort", 0) or 0)
        open_ports = [p for p in cfg["adminPorts"] if protocol in ALL_PROTOCOLS or low <= int(p) <= high]
        if open_ports:
            yield (f"network ACL {args.name}: {label} admits {', '.join(sources)} to port(s) {', '.join(map(str, open_ports))} "
                   f"({protocol} {low}-{high}); leave the administration ports out of ranges open to the internet.")


nacl_admin_ports_closed = resource_policy(
    name="network-nacl-no-admin-ports-from-world",
    description="No network ACL admits 0.0.0.0/0 or ::/0 to SSH (22) or RDP (3389), not even inside an ephemeral-port range.",
    types=(t.NETWORK_ACL, t.DEFAULT_NETWORK_ACL, t.NETWORK_ACL_RULE),
    check=_check_nacl_admin_ports,
    severity=Severity.HIGH,
    category="Security",
    remediation="Split internet-facing port ranges around 22 and 3389 (components.network.ephemeral_ranges does).",
    controls=("fsbp:EC2.21", "checkov:CKV_AWS_231", "checkov:CKV_AWS_232"),
    defaults={"adminPorts": ("22", "3389")},
)

POLICIES = [nacl_admin_ports_closed, vpc_min_azs, nat_per_az, subnet_no_public_ip, default_sg_closed, flow_logs, vpc_endpoint_private_dns]
