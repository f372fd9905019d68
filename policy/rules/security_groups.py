"""Security-group rules: nothing is open to the internet but the load balancer's web ports,
and the data tier admits only other security groups.

Identifying groups by role: a security group's role is its ``golive:role`` tag.

- ``golive:role=load-balancer`` marks the internet-facing ALB's group (set by the edge
  component). It is the only group that may admit the world, and only on TCP 80 and
  443 — and only while an internet-facing load balancer (``internal`` false) of the
  stack really uses it (joined through the load balancer's ``securityGroups``
  property dependency): the tag alone earns nothing.
- "The world" is not only 0.0.0.0/0 and ::/0: any IPv4 range wider than a /8, any IPv6
  range wider than a /16 (0.0.0.0/1 + 128.0.0.0/1 is the internet too), and any public
  IPv4 range (outside RFC 1918, 100.64.0.0/10 and link-local) wider than a /24. The
  three prefix lengths are pack config (``worldIpv4PrefixBelow``, ``worldIpv6PrefixBelow``,
  ``publicIpv4PrefixBelow``: a range whose prefix is shorter counts as the world).
- ``golive:role=database`` and ``golive:role=cache`` mark data-tier groups (set by the
  Database and Cache components). A group is data tier also when an RDS instance or
  ElastiCache cluster of the stack uses it, tagged or not. Data-tier groups admit
  traffic only from referenced security groups (no CIDR blocks, no prefix lists) and
  send none beyond their VPC.

Rules are read in all three forms AWS offers: inline ``ingress``/``egress`` blocks of
``aws.ec2.SecurityGroup``, ``aws.ec2.SecurityGroupRule`` and the newer
``aws.vpc.SecurityGroupIngressRule``/``SecurityGroupEgressRule``; standalone rules
are joined to their group through the ``securityGroupId`` property dependency.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Severity

from . import types as t
from ._base import depends_via, get, is_sequence, is_unknown, of_type, peek, stack_policy

ROLE_TAG = "golive:role"
LOAD_BALANCER_ROLE = "load-balancer"
DATA_ROLES = ("database", "cache")
WORLD = ("0.0.0.0/0", "::/0")
LOAD_BALANCER_TYPES = (t.LOAD_BALANCER, "aws:alb/loadBalancer:LoadBalancer")
NON_PUBLIC_IPV4 = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "169.254.0.0/16",  # link-local
))
WORLD_DEFAULTS = {
    "worldIpv4PrefixBelow": 8,
    "worldIpv6PrefixBelow": 16,
    "publicIpv4PrefixBelow": 24,
}
PUBLIC_WEB_PORTS = ((80, 80), (443, 443))
GROUP_TYPES = (t.SECURITY_GROUP, t.DEFAULT_SECURITY_GROUP)
DATA_STORES = {
    t.RDS_INSTANCE: "vpcSecurityGroupIds",
    t.ELASTICACHE_REPLICATION_GROUP: "securityGroupIds",
    t.ELASTICACHE_CLUSTER: "securityGroupIds",
}


@dataclass(frozen=True)
class Rule:
    """One rule in any of AWS's three forms, reduced to what the policies need."""

    direction: str  # "ingress" or "egress"
    group: Any  # the PolicyResource of the group, or None when it lives outside the stack
    reporter: Any  # the resource a violation is reported on
    protocol: str
    from_port: int
    to_port: int
    cidrs: tuple[str, ...]
    prefix_lists: tuple[str, ...]
    referenced: bool  # admits/targets other security groups (or itself)

    @property
    def label(self) -> str:
        ports = "all ports" if self.protocol in ("-1", "all") else f"{self.protocol} {self.from_port}-{self.to_port}"
        return f"{self.direction} rule ({ports}) of {self.reporter.name}"


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if is_sequence(value):
        return tuple(str(v) for v in value if v)
    return (str(value),)


def _port(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _references(resource_or_rule: Any, props: Any, prop: str) -> bool:
    """The rule names another security group: its id is set, unknown until that group exists, or fed by one."""
    value = peek(props, prop)
    if is_unknown(value):
        return True
    if is_sequence(value):
        return len(value) > 0
    if value:
        return True
    return resource_or_rule is not None and bool(depends_via(resource_or_rule, prop))


def _group_of(rule_resource) -> Any:
    return next((g for g in depends_via(rule_resource, "securityGroupId") if g.resource_type in GROUP_TYPES), None)


def rules(args) -> Iterator[Rule]:
    """Every security-group rule of the stack."""
    for group in of_type(args, *GROUP_TYPES):
        for direction in ("ingress", "egress"):
            for r in get(group.props, direction) or []:
                yield Rule(
                    direction, group, group, str(get(r, "protocol", "-1")), _port(get(r, "fromPort", 0)), _port(get(r, "toPort", 0)),
                    _as_list(get(r, "cidrBlocks")) + _as_list(get(r, "ipv6CidrBlocks")),
                    _as_list(get(r, "prefixListIds")),
                    _references(None, r, "securityGroups") or bool(get(r, "self")),
                )
    for r in of_type(args, t.SECURITY_GROUP_RULE):
        yield Rule(
            str(get(r.props, "type", "ingress")), _group_of(r), r, str(get(r.props, "protocol", "-1")),
            _port(get(r.props, "fromPort", 0)), _port(get(r.props, "toPort", 0)),
            _as_list(get(r.props, "cidrBlocks")) + _as_list(get(r.props, "ipv6CidrBlocks")),
            _as_list(get(r.props, "prefixListIds")),
            _references(r, r.props, "sourceSecurityGroupId") or bool(get(r.props, "self")),
        )
    for typ, direction in ((t.SECURITY_GROUP_INGRESS_RULE, "ingress"), (t.SECURITY_GROUP_EGRESS_RULE, "egress")):
        for r in of_type(args, typ):
            yield Rule(
                direction, _group_of(r), r, str(get(r.props, "ipProtocol", "-1")),
                _port(get(r.props, "fromPort", 0)), _port(get(r.props, "toPort", 0)),
                _as_list(get(r.props, "cidrIpv4")) + _as_list(get(r.props, "cidrIpv6")),
                _as_list(get(r.props, "prefixListId")),
                _references(r, r.props, "referencedSecurityGroupId"),
            )


def role_of(group) -> str | None:
    return (get(group.props, "tags") or {}).get(ROLE_TAG) if group is not None else None


def _is_public_web(rule: Rule) -> bool:
    return rule.protocol in ("tcp", "6") and (rule.from_port, rule.to_port) in PUBLIC_WEB_PORTS


def is_world(cidr: str, cfg) -> bool:
    """The range reaches (a large part of) the internet, by the pack's prefix-length thresholds."""
    if cidr in WORLD:
        return True
    try:
        net = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return False  # unknown at preview: judged when known
    if net.version == 6:
        return net.prefixlen < int(cfg["worldIpv6PrefixBelow"])
    if net.prefixlen < int(cfg["worldIpv4PrefixBelow"]):
        return True
    public = not any(net.subnet_of(private) for private in NON_PUBLIC_IPV4)
    return public and net.prefixlen < int(cfg["publicIpv4PrefixBelow"])


def public_load_balancer_groups(args) -> set[str]:
    """URNs of the groups an internet-facing load balancer of the stack uses."""
    return {
        group.urn
        for lb in of_type(args, *LOAD_BALANCER_TYPES)
        if get(lb.props, "internal") in (False, None)
        for group in depends_via(lb, "securityGroups")
    }


def _check_no_world_ingress(args, cfg):
    public_lb_groups = public_load_balancer_groups(args)
    for rule in rules(args):
        world = [c for c in rule.cidrs if is_world(c, cfg)]
        if rule.direction != "ingress" or not world:
            continue
        tagged = role_of(rule.group) == LOAD_BALANCER_ROLE
        fronts_internet = tagged and rule.group.urn in public_lb_groups
        if fronts_internet and _is_public_web(rule):
            continue
        if fronts_internet:
            where = "the load balancer's group may only on TCP 80 and 443"
        elif tagged:
            where = ("its group is tagged golive:role=load-balancer but no internet-facing load balancer (internal = false) "
                     "of the stack uses it, so it gets no exemption")
        else:
            where = ("only the group of an internet-facing load balancer (tagged golive:role=load-balancer) may, and only on "
                     "TCP 80 and 443")
        yield f"{rule.label} admits {', '.join(world)}; {where}.", rule.reporter.urn


no_world_ingress = stack_policy(
    name="security-group-no-world-ingress",
    description=("No security group admits the world (0.0.0.0/0, ::/0, or any range nearly as wide: see the prefix-length "
                 "thresholds), except the group of an internet-facing load balancer on TCP 80 and 443."),
    check=_check_no_world_ingress,
    types=(*GROUP_TYPES, t.SECURITY_GROUP_RULE, t.SECURITY_GROUP_INGRESS_RULE, t.SECURITY_GROUP_EGRESS_RULE,
           *LOAD_BALANCER_TYPES),
    severity=Severity.CRITICAL,
    category="Security",
    remediation=("Admit clients by security group (or VPC CIDR); only the group an internet-facing load balancer uses, tagged "
                 "golive:role=load-balancer, may open 80/443 to the world."),
    controls=("fsbp:EC2.18", "fsbp:EC2.19", "cis:5.2", "cis:5.3", "checkov:CKV_AWS_260"),
    defaults=WORLD_DEFAULTS,
)


def data_tier_groups(args) -> dict[str, Any]:
    """URN -> group for every data-tier security group: tagged so, or used by a database or cache."""
    groups = {g.urn: g for g in of_type(args, *GROUP_TYPES) if role_of(g) in DATA_ROLES}
    for store_type, prop in DATA_STORES.items():
        for store in of_type(args, store_type):
            groups.update({g.urn: g for g in depends_via(store, prop) if g.resource_type in GROUP_TYPES})
    return groups


def _vpc_network(group) -> Any:
    for vpc in depends_via(group, "vpcId"):
        cidr = get(vpc.props, "cidrBlock")
        if vpc.resource_type == t.VPC and isinstance(cidr, str):
            try:
                return ipaddress.ip_network(cidr)
            except ValueError:
                return None
    return None


def _beyond(cidr: str, vpc) -> bool:
    if cidr in WORLD:
        return True
    if vpc is None:
        return False
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return True
    return net.version != vpc.version or not net.subnet_of(vpc)


def _check_data_tier(args, cfg):
    groups = data_tier_groups(args)
    for rule in rules(args):
        if rule.group is None or rule.group.urn not in groups:
            continue
        if rule.direction == "ingress":
            if rule.cidrs or rule.prefix_lists:
                sources = ", ".join(rule.cidrs + rule.prefix_lists)
                yield (f"{rule.label} on data-tier group {rule.group.name} admits {sources}; admit only referenced "
                       "security groups (the clients' groups)."), rule.reporter.urn
            elif not rule.referenced:
                yield f"{rule.label} on data-tier group {rule.group.name} references no security group.", rule.reporter.urn
        else:
            vpc = _vpc_network(rule.group)
            outside = [c for c in rule.cidrs if _beyond(c, vpc)]
            if outside or rule.prefix_lists:
                yield (f"{rule.label} on data-tier group {rule.group.name} sends traffic to {', '.join(outside + list(rule.prefix_lists))}, "
                       "beyond the VPC; databases and caches need no such egress."), rule.reporter.urn


data_tier_referenced_only = stack_policy(
    name="security-group-data-tier-referenced-only",
    description="Database and cache security groups admit only referenced security groups and send nothing beyond the VPC.",
    check=_check_data_tier,
    types=(*GROUP_TYPES, t.SECURITY_GROUP_RULE, t.SECURITY_GROUP_INGRESS_RULE, t.SECURITY_GROUP_EGRESS_RULE,
           *DATA_STORES),
    severity=Severity.HIGH,
    category="Security",
    remediation="Use security_groups=[client group id] in ingress rules of data-tier groups and limit egress to the VPC CIDR.",
    controls=("fsbp:EC2.18", "well-architected:SEC05-BP01"),
)

POLICIES = [no_world_ingress, data_tier_referenced_only]
