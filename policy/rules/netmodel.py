"""Who can reach what: the declared network as a model, and every path through it proved.

The model is built from resources as either side sees them: the synth records of the
offline engine (``from_synth``) or the ``PolicyResource`` objects a stack policy gets from
``pulumi preview --policy-pack`` (``from_policy``). Resources are joined only through
``propertyDependencies`` (known at preview, unlike ids and ARNs); what is read from
props are CIDRs, ports, protocols, rule numbers and flags, which come from config.

What it models, per AWS's documented behaviour:

- VPCs (primary and associated IPv4 CIDRs), subnets, route tables (inline routes,
  ``aws:ec2/route`` resources, gateway endpoints, the main table) with longest-prefix
  match; the local route; internet and NAT gateways (a NAT gateway's own subnet, its
  NACL and its route to the internet gateway); other targets (transit gateways, VPN
  gateways, peering, ENIs) as leaving the declared network.
- Network ACLs: stateless, ordered by rule number, first match wins, ``*`` denies;
  the forward packet and the reply on the initiator's ephemeral ports, in both subnets;
  not evaluated between two interfaces of one subnet. A subnet without an ACL gets the
  VPC's default ACL (allow all unless declared otherwise).
- Security groups: stateful, the union of every rule of every group on an interface;
  inline rules, ``aws:ec2/securityGroupRule`` and ``aws:vpc/securityGroup*Rule``; CIDR
  and referenced-group peers; egress on the sender and ingress on the receiver. A new
  group has no egress (Terraform and Pulumi remove AWS's default allow-all); the
  EKS-managed cluster group admits itself and sends anywhere; an undeclared VPC default
  group admits itself and sends anywhere.
- Interfaces of each role: the ALB (its groups and subnets; public unless internal),
  the EKS control plane (the cluster security group and the additional ones, in the
  ``vpcConfig`` subnets; the public endpoint with ``publicAccessCidrs``), the nodes
  (node group subnets, the launch template's groups or else the cluster group), RDS,
  ElastiCache, OpenSearch, interface endpoints, and the Client VPN (client CIDR, target
  network associations, authorization rules, its routes; traffic is source-NATed to the
  association's subnet and carries the endpoint's groups). Catalog services are the
  nodes on their target group's port, directly or through an ALB listener forwarding
  to them.

Addresses, ports and rules are sets (``netsets``): an answer holds for every address
and port at once. IPv6 is not modelled (the VPCs here have no IPv6 CIDR).
Standard library only: the pack's virtualenv holds nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import types as t
from .netsets import (
    ALL_ADDRESSES,
    ALL_PORTS,
    EMPTY,
    Box,
    Ranges,
    cidr,
    cidrs,
    covers,
    format_ports,
    inter,
    ports_of,
    prefix_length,
    space_inter,
    space_meet,
    space_sub,
    span,
    sub,
    union,
)
from .netsets import format_addresses as _cidr_text

# --------------------------------------------------------------------------- constants

EPHEMERAL_PORTS = span(1024, 65535)
"""Where replies go: AWS's guidance for NACLs (NAT gateways, load balancers and most clients pick from it)."""

NOT_INTERNET = cidrs((
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
))
INTERNET_ADDRESSES = sub(ALL_ADDRESSES, NOT_INTERNET)
"""Internet addresses: IPv4 without private, shared, loopback, link-local, benchmark and multicast space."""

INTERNET, VPN, DEPLOYER = "internet", "vpn", "deployer"
ALB, EKS_API, NODES = "alb", "eks-api", "nodes"
DATABASE, CACHE, OPENSEARCH, ENDPOINTS, ISOLATED = "database", "cache", "opensearch", "endpoints", "isolated"
SOURCE_ORDER = (INTERNET, VPN, DEPLOYER, ALB, EKS_API, NODES, DATABASE, CACHE, OPENSEARCH, ENDPOINTS, ISOLATED)
DESTINATION_ORDER = (INTERNET, ALB, EKS_API, NODES, DATABASE, CACHE, OPENSEARCH, ENDPOINTS)
OUTSIDE = (INTERNET, VPN)
"""Sources every path from which must be intended."""
SERVICES = "services"
"""In an intent, every catalog service (each on its own port)."""

def _subnet_block(lo: int, hi: int) -> tuple[int, int]:
    """A subnet's hosts (its CIDR without AWS's five reserved addresses) shown as the subnet's CIDR."""
    first, last = lo - 4, hi + 1
    size = last - first + 1
    if first >= 0 and size >= 8 and size & (size - 1) == 0 and first % size == 0:
        return first, last
    return lo, hi


def format_addresses(r: Ranges, limit: int = 4) -> str:
    """Addresses as CIDRs, naming the internet (and the internet but a few blocks) instead of listing it."""
    r = tuple(_subnet_block(lo, hi) for lo, hi in r)
    if r == INTERNET_ADDRESSES:
        return "any internet address"
    if r and covers(INTERNET_ADDRESSES, r):
        missing = sub(INTERNET_ADDRESSES, r)
        if len(_cidr_text(missing, 99).split(", ")) <= limit:
            return f"any internet address but {_cidr_text(missing, limit)}"
    return _cidr_text(r, limit)


ROLE_HELP = {
    INTERNET: "any internet address (public IPv4)",
    VPN: "Client VPN clients (source-NATed to the association subnets, with the endpoint's security groups)",
    DEPLOYER: "the configured deployer CIDRs",
    ALB: "application load balancers",
    EKS_API: "the EKS control plane (private endpoint interfaces, public endpoint)",
    NODES: "EKS node groups (pods share the nodes' security groups)",
    DATABASE: "RDS instances and clusters",
    CACHE: "ElastiCache replication groups, clusters and serverless caches",
    OPENSEARCH: "OpenSearch domains",
    ENDPOINTS: "interface VPC endpoints",
    ISOLATED: "any host in a subnet tagged tier=isolated (allow-all egress, may hold a public address)",
}

ENGINE_PORTS = {"postgres": 5432, "aurora-postgresql": 5432, "mysql": 3306, "mariadb": 3306, "aurora-mysql": 3306,
                "aurora": 3306, "oracle": 1521, "sqlserver": 1433, "redis": 6379, "valkey": 6379, "memcached": 11211}

GROUP_TYPES = (t.SECURITY_GROUP, t.DEFAULT_SECURITY_GROUP)
LOAD_BALANCER_TYPES = (t.LOAD_BALANCER, t.ALB_LOAD_BALANCER)
TARGET_KEYS: dict[str, tuple[str, ...]] = {
    "gatewayId": (t.VPN_GATEWAY,),
    "vpcEndpointId": (t.VPC_ENDPOINT,),
    "transitGatewayId": ("aws:ec2transitgateway/transitGateway:TransitGateway",),
    "vpcPeeringConnectionId": (t.VPC_PEERING,),
    "networkInterfaceId": ("aws:ec2/networkInterface:NetworkInterface",),
    "egressOnlyGatewayId": ("aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",),
    "carrierGatewayId": ("aws:ec2/carrierGateway:CarrierGateway",),
    "localGatewayId": (),
    "coreNetworkArn": (),
}
"""Route target keys other than NAT and internet gateways: each leaves the declared network."""
TARGET_TYPES = frozenset({t.INTERNET_GATEWAY, t.NAT_GATEWAY, *(typ for types in TARGET_KEYS.values() for typ in types)})
OPEN_GROUP = "*open"
"""A host's group we do not know (isolated-tier probe, deployer): allows all egress."""

# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class Res:
    """A resource as the model reads it, from either the synth or the policy pack."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    deps: Mapping[str, tuple[str, ...]]


def from_synth(records: Iterable[Mapping[str, Any]]) -> list[Res]:
    return [Res(r["type"], r["name"], r["urn"], r.get("inputs") or {},
                {k: tuple(v) for k, v in (r.get("propertyDependencies") or {}).items()}) for r in records]


def from_policy(resources: Iterable[Any]) -> list[Res]:
    return [Res(r.resource_type, r.name, r.urn, r.props if r.props is not None else {},
                {k: tuple(d.urn for d in (v or [])) for k, v in (r.property_dependencies or {}).items()})
            for r in resources]


def _get(mapping: Any, key: str, default: Any = None) -> Any:
    if not isinstance(mapping, Mapping):
        return default
    value = mapping.get(key)
    return default if value is None else value


def _keys(mapping: Any) -> set[str]:
    """The keys of a mapping, without reading (possibly unknown) values."""
    return set(mapping) if isinstance(mapping, Mapping) else set()


def _seq(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def _count(value: Any) -> int:
    """How many items a list holds, without reading them (they may be unknown)."""
    if value is None:
        return 0
    if isinstance(value, Sequence) and not isinstance(value, str):
        return len(value)
    return 1


def _int(value: Any, default: int) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def _protocol(value: Any) -> str:
    text = str(value if value is not None else "-1").strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    return {"-1": "all", "all": "all", "6": "tcp", "17": "udp", "1": "icmp"}.get(text, text)


def _rule_ports(protocol: str, from_port: Any, to_port: Any) -> Ranges:
    if protocol in ("all", "icmp"):
        return ALL_PORTS
    lo, hi = _int(from_port, 0), _int(to_port, 65535)
    if lo < 0 or hi < 0:
        return ALL_PORTS
    return span(lo, min(hi, 65535))


def _matches(rule_protocol: str, protocol: str) -> bool:
    return rule_protocol == "all" or rule_protocol == protocol


# --------------------------------------------------------------------------- the model's pieces


@dataclass
class GroupRule:
    direction: str
    protocol: str
    ports: Ranges
    peers: Ranges
    groups: frozenset[str]
    label: str
    urn: str | None
    description: str = ""

    def peer_text(self, model: Network) -> str:
        parts = [format_addresses(self.peers)] if self.peers else []
        parts += [model.group_label(g) for g in sorted(self.groups)]
        return " or ".join(parts) or "nothing"

    def text(self, model: Network) -> str:
        what = "all traffic" if self.protocol == "all" else f"{self.protocol} {format_ports(self.ports)}"
        where = "to" if self.direction == "egress" else "from"
        desc = f' "{self.description}"' if self.description else ""
        return f"{self.label} ({what} {where} {self.peer_text(model)}){desc}"


@dataclass
class Group:
    key: str
    label: str
    urn: str | None
    ingress: list[GroupRule] = field(default_factory=list)
    egress: list[GroupRule] = field(default_factory=list)


@dataclass(frozen=True)
class AclRule:
    number: int
    allow: bool
    protocol: str
    peers: Ranges
    ports: Ranges
    egress: bool

    def text(self) -> str:
        what = "all" if self.protocol == "all" else f"{self.protocol} {format_ports(self.ports)}"
        return (f"{'out' if self.egress else 'in'} rule {self.number} ({'allow' if self.allow else 'deny'} {what} "
                f"{'to' if self.egress else 'from'} {format_addresses(self.peers)})")


@dataclass
class Acl:
    label: str
    urn: str | None
    ingress: list[AclRule] = field(default_factory=list)
    egress: list[AclRule] = field(default_factory=list)

    def sort(self) -> None:
        self.ingress.sort(key=lambda r: r.number)
        self.egress.sort(key=lambda r: r.number)


@dataclass
class Target:
    kind: str  # local, igw, nat, endpoint, external
    label: str
    urn: str | None = None
    nat: NatGateway | None = None


@dataclass(frozen=True)
class Route:
    destination: Ranges
    prefix: int
    text: str
    target: Target


@dataclass
class RouteTable:
    label: str
    urn: str | None
    routes: list[Route] = field(default_factory=list)
    service_routes: list[str] = field(default_factory=list)
    _partition: list[tuple[Ranges, Route]] | None = None

    def partition(self) -> list[tuple[Ranges, Route]]:
        """Longest prefix match: which route each address takes."""
        if self._partition is None:
            taken: Ranges = EMPTY
            out: list[tuple[Ranges, Route]] = []
            for route in sorted(self.routes, key=lambda r: -r.prefix):
                mine = sub(route.destination, taken)
                if mine:
                    out.append((mine, route))
                    taken = union(taken, mine)
            self._partition = out
        return self._partition

    def to(self, kind: str) -> Ranges:
        out: Ranges = EMPTY
        for ranges, route in self.partition():
            if route.target.kind == kind:
                out = union(out, ranges)
        return out


@dataclass
class Vpc:
    urn: str
    label: str
    cidr: Ranges
    internet_gateways: list[Res] = field(default_factory=list)
    default_group: str = ""
    main_table: RouteTable | None = None
    default_acl: Acl | None = None


@dataclass
class Subnet:
    urn: str
    label: str
    cidr: Ranges
    vpc: Vpc | None
    tier: str | None
    public_ip_on_launch: bool
    table: RouteTable | None = None
    acl: Acl | None = None

    @property
    def hosts(self) -> Ranges:
        """Where an interface can sit: AWS reserves the first four addresses (the router, the resolver) and the last."""
        return union_all(span(lo + 4, hi - 1) if hi - lo >= 7 else ((lo, hi),) for lo, hi in self.cidr)


@dataclass
class NatGateway:
    label: str
    urn: str
    subnet: Subnet | None
    public: bool


@dataclass(frozen=True)
class Interface:
    """Where a role sits: one per subnet (or the role's public endpoint)."""

    role: str
    label: str
    urn: str
    subnet: Subnet | None
    groups: tuple[str, ...] | None  # None: not filtered by security groups (a network load balancer)
    addresses: Ranges
    listening: Ranges
    public: bool = False
    public_note: str = ""
    endpoint_admits: Ranges | None = None  # a public endpoint (no subnet): the CIDRs it admits
    endpoint_note: str = ""
    via_internet: bool = False  # in-VPC clients reach it through their internet path
    protocols: tuple[str, ...] = ("tcp",)

    @property
    def where(self) -> str:
        return f"{self.label} ({self.subnet.label})" if self.subnet is not None else self.label


@dataclass(frozen=True)
class External:
    role: str
    label: str
    addresses: Ranges

    @property
    def where(self) -> str:
        return self.label


@dataclass(frozen=True)
class VpnEntry:
    """Client VPN clients arriving through one target network association."""

    role: str
    label: str
    urn: str
    clients: Ranges
    subnet: Subnet
    groups: tuple[str, ...]
    routes: Ranges  # destinations the endpoint's route table sends through this association
    route_notes: tuple[str, ...]
    authorized: tuple[tuple[Ranges, str], ...]

    @property
    def where(self) -> str:
        return f"{self.label} via {self.subnet.label}"


@dataclass(frozen=True)
class Forward:
    """An ALB listener forwarding to a service's target groups."""

    load_balancer: str
    urn: str
    listener: str
    port: Ranges
    rule: str


@dataclass
class Service:
    name: str
    port: Ranges
    target_groups: list[str]
    vpcs: set[str]
    forwards: list[Forward] = field(default_factory=list)


Source = Interface | External | VpnEntry


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Hop:
    step: str
    text: str
    urn: str | None = None


@dataclass
class Candidate:
    source: str
    destination: str
    hops: list[Hop]
    blocked: Hop | None
    ports: Ranges
    assumed: bool = False
    source_urn: str | None = None
    destination_urn: str | None = None


@dataclass
class Answer:
    source: str
    destination: str
    protocol: str
    asked: Ranges | None
    reachable: Ranges
    candidates: list[Candidate]
    legs: list[tuple[Forward, Answer, Answer]] = field(default_factory=list)
    note: str = ""

    @property
    def exists(self) -> bool:
        return bool(self.reachable) or any(a.exists and b.exists for _, a, b in self.legs)

    def heading(self) -> str:
        asked = format_ports(self.asked) if self.asked is not None else "its ports"
        head = f"{self.source} → {self.destination} ({self.protocol} {asked})"
        passing = sum(1 for c in self.candidates if c.blocked is None)
        through = [f"through {f.load_balancer}:{format_ports(f.port)}" for f, a, b in self.legs if a.exists and b.exists]
        if self.reachable:
            return (f"{head}: reachable on {format_ports(self.reachable)} ({passing} of {len(self.candidates)} candidate "
                    f"routes pass)" + (f", and {', '.join(through)}" if through else ""))
        if through:
            return f"{head}: reachable {', '.join(through)}"
        return f"{head}: no path ({len(self.candidates)} candidate routes, none passes)"

    def explain(self) -> str:
        lines = [self.heading()]
        if self.note:
            lines.append(f"  note: {self.note}")
        passing = [c for c in self.candidates if c.blocked is None]
        if passing:
            first = passing[0]
            more = f" (and {len(passing) - 1} more)" if len(passing) > 1 else ""
            lines.append(f"  {first.source} → {first.destination}{more}:")
            lines += [f"    {i}. {hop.step}: {hop.text}" for i, hop in enumerate(first.hops, 1)]
        elif not self.legs or not self.exists:
            groups: dict[str, list[Candidate]] = {}
            for c in self.candidates:
                assert c.blocked is not None
                groups.setdefault(f"{c.blocked.step}: {c.blocked.text}", []).append(c)
            for reason, members in groups.items():
                first = members[0]
                more = f" (and {len(members) - 1} more)" if len(members) > 1 else ""
                lines.append(f"  {first.source} → {first.destination}{more}: blocked at {reason}")
            if not self.candidates:
                lines.append("  no candidate route: " + (self.note or "nothing to connect"))
        for forward, leg_in, leg_out in self.legs:
            ok = leg_in.exists and leg_out.exists
            lines.append(f"  through {forward.load_balancer} listener {forward.listener} ({forward.rule}): "
                         f"{'passes' if ok else 'blocked'}")
            lines += ["    " + line for line in leg_in.explain().splitlines()]
            lines += ["    " + line for line in leg_out.explain().splitlines()]
        return "\n".join(lines)

    def first_urn(self) -> str | None:
        """The resource to report a finding on: the first blocker, or the last gate that let it through."""
        passing = [c for c in self.candidates if c.blocked is None]
        if passing:
            return next((h.urn for h in reversed(passing[0].hops) if h.urn and h.step != "listener"), None)
        for c in self.candidates:
            if c.blocked is not None and c.blocked.urn:
                return c.blocked.urn
        return None


class _Trace:
    """One candidate route being walked: the flows still alive and the hops that kept them."""

    __slots__ = ("space", "hops", "blocked", "explain", "assumed", "source", "destination", "urns")

    def __init__(self, space: list[Box], explain: bool, source: str, destination: str, urns: tuple[str | None, str | None]):
        self.space = space
        self.hops: list[Hop] = []
        self.blocked: Hop | None = None
        self.explain = explain
        self.assumed = False
        self.source = source
        self.destination = destination
        self.urns = urns

    @property
    def alive(self) -> bool:
        return self.blocked is None

    def fork(self) -> _Trace:
        other = _Trace(list(self.space), self.explain, self.source, self.destination, self.urns)
        other.hops = list(self.hops)
        other.assumed = self.assumed
        return other

    def step(self, step: str, space: list[Box], ok: Callable[[], str], blocked: Callable[[], str],
             urn: str | None = None, blocked_urn: str | None = None) -> bool:
        if self.blocked is not None:
            return False
        if not space:
            self.blocked = Hop(step, blocked() if self.explain else "", blocked_urn or urn)
            self.space = []
            return False
        self.space = space
        if self.explain:
            self.hops.append(Hop(step, ok(), urn))
        return True

    def block(self, step: str, reason: Callable[[], str], urn: str | None = None) -> None:
        self.step(step, [], str, reason, urn)

    def candidate(self) -> Candidate:
        return Candidate(self.source, self.destination, self.hops, self.blocked, ports_of(self.space) if self.alive else EMPTY,
                         self.assumed, *self.urns)


# --------------------------------------------------------------------------- the model


class Network:
    """The declared network of a stack; ``reach`` answers one question, ``matrix`` all of them."""

    def __init__(self, resources: Iterable[Res], deployer_cidrs: Iterable[str] = ()):
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self.by_type: dict[str, list[Res]] = {}
        for r in self.resources:
            self.by_type.setdefault(r.type, []).append(r)
        self.notes: list[str] = []
        self.groups: dict[str, Group] = {}
        self.vpcs: dict[str, Vpc] = {}
        self.subnets: dict[str, Subnet] = {}
        self.tables: dict[str, RouteTable] = {}
        self.acls: dict[str, Acl] = {}
        self.nats: dict[str, NatGateway] = {}
        self.sources: dict[str, list[Source]] = {}
        self.destinations: dict[str, list[Interface]] = {}
        self.services: dict[str, Service] = {}
        self.deployer_cidrs = tuple(deployer_cidrs)
        self._answers: dict[tuple, Answer] = {}
        self._build()

    # ------------------------------------------------------------------ joins

    def of(self, *types: str) -> list[Res]:
        return [r for typ in types for r in self.by_type.get(typ, [])]

    def deps(self, res: Res, prop: str, *types: str) -> list[Res]:
        found = [self.by_urn[u] for u in res.deps.get(prop, ()) if u in self.by_urn]
        return [r for r in found if not types or r.type in types]

    def dep(self, res: Res, prop: str, *types: str) -> Res | None:
        found = self.deps(res, prop, *types)
        return found[0] if found else None

    def group_label(self, key: str) -> str:
        group = self.groups.get(key)
        return group.label if group is not None else key.removeprefix("external:")

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        self._vpcs()
        self._groups()
        self._tables()
        self._acls()
        self._subnets()
        self._roles()

    def _vpcs(self) -> None:
        for vpc in self.of(t.VPC):
            block = cidr(_get(vpc.props, "cidrBlock", "")) or EMPTY
            if not block:
                self.notes.append(f"VPC {vpc.name} has no IPv4 CIDR the model can read")
            self.vpcs[vpc.urn] = Vpc(vpc.urn, vpc.name, block, default_group=f"default:{vpc.urn}")
        for assoc in self.of(t.VPC_CIDR_ASSOCIATION):
            vpc = self.dep(assoc, "vpcId", t.VPC)
            if vpc is not None and vpc.urn in self.vpcs:
                self.vpcs[vpc.urn].cidr = union(self.vpcs[vpc.urn].cidr, cidr(_get(assoc.props, "cidrBlock", "")) or EMPTY)
        for igw in self.of(t.INTERNET_GATEWAY):
            for vpc in self.deps(igw, "vpcId", t.VPC):
                self.vpcs[vpc.urn].internet_gateways.append(igw)
        for attachment in self.of(t.INTERNET_GATEWAY_ATTACHMENT):
            igw = self.dep(attachment, "internetGatewayId", t.INTERNET_GATEWAY)
            for vpc in self.deps(attachment, "vpcId", t.VPC):
                if igw is not None and igw not in self.vpcs[vpc.urn].internet_gateways:
                    self.vpcs[vpc.urn].internet_gateways.append(igw)

    def _vpc_of(self, res: Res, prop: str = "vpcId") -> Vpc | None:
        vpc = self.dep(res, prop, t.VPC)
        return self.vpcs.get(vpc.urn) if vpc is not None else None

    # security groups

    def _groups(self) -> None:
        for vpc in self.vpcs.values():
            # An undeclared default group: AWS's defaults (all from itself, all out).
            self.groups[vpc.default_group] = Group(
                vpc.default_group, f"the default security group of {vpc.label}", None,
                ingress=[GroupRule("ingress", "all", ALL_PORTS, EMPTY, frozenset({vpc.default_group}), "AWS default rule", None)],
                egress=[GroupRule("egress", "all", ALL_PORTS, ALL_ADDRESSES, frozenset(), "AWS default rule", None)],
            )
        for sg in self.of(t.DEFAULT_SECURITY_GROUP):
            vpc = self._vpc_of(sg)
            if vpc is not None:
                self.groups.pop(vpc.default_group, None)
                vpc.default_group = sg.urn
        for sg in self.of(*GROUP_TYPES):
            group = Group(sg.urn, sg.name, sg.urn)
            self.groups[sg.urn] = group
            for direction in ("ingress", "egress"):
                rules = _seq(_get(sg.props, direction))
                referenced = self._group_keys(self.deps(sg, direction))
                referencing = [r for r in rules if _count(_get(r, "securityGroups"))]
                for i, rule in enumerate(rules):
                    protocol = _protocol(_get(rule, "protocol"))
                    groups = set()
                    if _get(rule, "self"):
                        groups.add(sg.urn)
                    if _count(_get(rule, "securityGroups")):
                        # Joined through the list's dependencies; with several referencing rules and
                        # several groups the model cannot tell which rule names which, and lets each name all.
                        groups |= set(referenced) if referenced else {f"external:{g}" for g in _seq(_get(rule, "securityGroups"))}
                        if len(referencing) > 1 and len(referenced) > 1:
                            self._note_once(f"{sg.name}: inline {direction} rules reference several groups; each is "
                                            "taken to reference all of them")
                    getattr(group, direction).append(GroupRule(
                        direction, protocol, _rule_ports(protocol, _get(rule, "fromPort"), _get(rule, "toPort")),
                        cidrs(str(c) for c in _seq(_get(rule, "cidrBlocks"))), frozenset(groups),
                        f"{sg.name} {direction}[{i}]", sg.urn, str(_get(rule, "description", "")),
                    ))
        for rule in self.of(t.SECURITY_GROUP_RULE):
            direction = str(_get(rule.props, "type", "ingress"))
            protocol = _protocol(_get(rule.props, "protocol"))
            groups = set(self._group_keys(self.deps(rule, "sourceSecurityGroupId")))
            for key in self._group_keys(self.deps(rule, "securityGroupId")):
                if _get(rule.props, "self"):
                    groups.add(key)
                self._add_rule(key, GroupRule(
                    direction, protocol, _rule_ports(protocol, _get(rule.props, "fromPort"), _get(rule.props, "toPort")),
                    cidrs(str(c) for c in _seq(_get(rule.props, "cidrBlocks"))), frozenset(groups), rule.name, rule.urn,
                    str(_get(rule.props, "description", ""))))
        for typ, direction in ((t.SECURITY_GROUP_INGRESS_RULE, "ingress"), (t.SECURITY_GROUP_EGRESS_RULE, "egress")):
            for rule in self.of(typ):
                protocol = _protocol(_get(rule.props, "ipProtocol"))
                groups = set(self._group_keys(self.deps(rule, "referencedSecurityGroupId")))
                if not groups and "referencedSecurityGroupId" in _keys(rule.props) and not rule.deps.get("referencedSecurityGroupId"):
                    groups = {f"external:{_get(rule.props, 'referencedSecurityGroupId')}"}
                for key in self._group_keys(self.deps(rule, "securityGroupId")):
                    self._add_rule(key, GroupRule(
                        direction, protocol, _rule_ports(protocol, _get(rule.props, "fromPort"), _get(rule.props, "toPort")),
                        cidr(str(_get(rule.props, "cidrIpv4", ""))) or EMPTY, frozenset(groups), rule.name, rule.urn,
                        str(_get(rule.props, "description", ""))))
        self.groups[OPEN_GROUP] = Group(OPEN_GROUP, "an undeclared group (taken to allow all egress)", None,
                                        egress=[GroupRule("egress", "all", ALL_PORTS, ALL_ADDRESSES, frozenset(), "assumed", None)])

    def _cluster_group(self, cluster: Res) -> str:
        key = f"eks:{cluster.urn}"
        if key not in self.groups:
            self.groups[key] = Group(
                key, f"the EKS cluster security group of {cluster.name}", cluster.urn,
                ingress=[GroupRule("ingress", "all", ALL_PORTS, EMPTY, frozenset({key}), "EKS default rule", cluster.urn)],
                egress=[GroupRule("egress", "all", ALL_PORTS, ALL_ADDRESSES, frozenset(), "EKS default rule", cluster.urn)],
            )
        return key

    def _group_keys(self, deps: Iterable[Res]) -> list[str]:
        keys = []
        for dep in deps:
            if dep.type in GROUP_TYPES:
                keys.append(dep.urn)
            elif dep.type == t.EKS_CLUSTER:
                keys.append(self._cluster_group(dep))
        return keys

    def _add_rule(self, key: str, rule: GroupRule) -> None:
        if key in self.groups and rule.direction in ("ingress", "egress"):
            getattr(self.groups[key], rule.direction).append(rule)

    def _note_once(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # route tables

    def _target(self, keys: set[str], deps: list[Res], route: Any) -> Target:
        """The target of a route: the key says its kind, the dependencies say which resource (ids may be unknown)."""

        def pick(*types: str) -> Res | None:
            return next((d for d in deps if d.type in types), None)

        if "natGatewayId" in keys and (nat := pick(t.NAT_GATEWAY)) is not None:
            return Target("nat", nat.name, nat.urn)
        if "gatewayId" in keys and (igw := pick(t.INTERNET_GATEWAY)) is not None:
            return Target("igw", igw.name, igw.urn)
        for key in sorted(keys & (TARGET_KEYS.keys() | {"natGatewayId"})):
            dep = pick(*TARGET_KEYS[key]) if TARGET_KEYS.get(key) else None
            if dep is None:
                dep = next((d for d in deps if d.type not in TARGET_TYPES), None)
            kind = key.removesuffix("Id").removesuffix("Arn")
            if dep is not None:
                return Target("external", f"{kind} {dep.name}", dep.urn)
            value = _get(route, key)  # no declared resource feeds it: a literal
            if value == "local":
                return Target("local", "local")
            if value:
                return Target("external", f"{kind} {value}")
        return Target("external", "an unknown target")

    def _tables(self) -> None:
        for table in self.of(t.ROUTE_TABLE, t.DEFAULT_ROUTE_TABLE):
            vpc = self._vpc_of(table) or self._vpc_of(table, "defaultRouteTableId")
            rt = RouteTable(table.name, table.urn)
            self.tables[table.urn] = rt
            deps = self.deps(table, "routes")
            for route in _seq(_get(table.props, "routes")):
                self._add_route(rt, _get(route, "cidrBlock"), self._target(_keys(route), deps, route))
            if vpc is not None:
                self._add_local(rt, vpc)
            if table.type == t.DEFAULT_ROUTE_TABLE and vpc is not None:
                vpc.main_table = rt
        for route in self.of(t.ROUTE):
            table = self.dep(route, "routeTableId", t.ROUTE_TABLE, t.DEFAULT_ROUTE_TABLE)
            if table is None:
                continue
            keys = _keys(route.props) - {"routeTableId"}
            deps = [d for k in sorted(keys) for d in self.deps(route, k)]
            self._add_route(self.tables[table.urn], _get(route.props, "destinationCidrBlock"), self._target(keys, deps, route.props))
        for endpoint in self.of(t.VPC_ENDPOINT):
            for table in self.deps(endpoint, "routeTableIds"):
                if table.urn in self.tables:
                    self.tables[table.urn].service_routes.append(
                        f"{_get(endpoint.props, 'serviceName', endpoint.name)} via gateway endpoint {endpoint.name}")
        for assoc in self.of(t.MAIN_ROUTE_TABLE_ASSOCIATION):
            vpc, table = self._vpc_of(assoc), self.dep(assoc, "routeTableId")
            if vpc is not None and table is not None and table.urn in self.tables:
                vpc.main_table = self.tables[table.urn]
        for vpc in self.vpcs.values():
            if vpc.main_table is None:
                vpc.main_table = RouteTable(f"the main route table of {vpc.label}", None)
                self._add_local(vpc.main_table, vpc)

    def _add_route(self, rt: RouteTable, destination: Any, target: Target) -> None:
        block = cidr(str(destination)) if destination else None
        if block is None:
            return
        rt.routes.append(Route(block, prefix_length(str(destination)), str(destination), target))
        rt._partition = None

    def _add_local(self, rt: RouteTable, vpc: Vpc) -> None:
        for lo, hi in vpc.cidr:
            text = format_addresses(((lo, hi),))
            for block in text.split(", "):
                rt.routes.append(Route(cidr(block) or EMPTY, prefix_length(block), block, Target("local", "local")))
        rt._partition = None

    # network ACLs

    def _acl_rules(self, acl: Acl, rules: Any, egress: bool) -> None:
        for rule in _seq(rules):
            protocol = _protocol(_get(rule, "protocol"))
            getattr(acl, "egress" if egress else "ingress").append(AclRule(
                _int(_get(rule, "ruleNo", _get(rule, "ruleNumber")), 32766), str(_get(rule, "action", "deny")).lower() == "allow",
                protocol, cidr(str(_get(rule, "cidrBlock", ""))) or EMPTY,
                _rule_ports(protocol, _get(rule, "fromPort"), _get(rule, "toPort")), egress))

    def _acls(self) -> None:
        for vpc in self.vpcs.values():
            allow_all = [AclRule(100, True, "all", ALL_ADDRESSES, ALL_PORTS, egress) for egress in (False, True)]
            vpc.default_acl = Acl(f"the default network ACL of {vpc.label}", None, ingress=[allow_all[0]], egress=[allow_all[1]])
        for res in self.of(t.NETWORK_ACL, t.DEFAULT_NETWORK_ACL):
            acl = Acl(res.name, res.urn)
            self.acls[res.urn] = acl
            self._acl_rules(acl, _get(res.props, "ingress"), False)
            self._acl_rules(acl, _get(res.props, "egress"), True)
            if res.type == t.DEFAULT_NETWORK_ACL:
                vpc = self._vpc_of(res, "defaultNetworkAclId") or self._vpc_of(res)
                if vpc is not None:
                    vpc.default_acl = acl
        for rule in self.of(t.NETWORK_ACL_RULE):
            owner = self.dep(rule, "networkAclId", t.NETWORK_ACL, t.DEFAULT_NETWORK_ACL)
            if owner is None:
                continue
            props = rule.props
            protocol = _protocol(_get(props, "protocol"))
            egress = bool(_get(props, "egress", False))
            getattr(self.acls[owner.urn], "egress" if egress else "ingress").append(AclRule(
                _int(_get(props, "ruleNumber"), 32766), str(_get(props, "ruleAction", "deny")).lower() == "allow", protocol,
                cidr(str(_get(props, "cidrBlock", ""))) or EMPTY,
                _rule_ports(protocol, _get(props, "fromPort"), _get(props, "toPort")), egress))
        for acl in self.acls.values():
            acl.sort()

    # subnets

    def _subnets(self) -> None:
        for res in self.of(t.SUBNET):
            tags = _get(res.props, "tags", {})
            self.subnets[res.urn] = Subnet(
                res.urn, res.name, cidr(str(_get(res.props, "cidrBlock", ""))) or EMPTY, self._vpc_of(res),
                _get(tags, "tier"), bool(_get(res.props, "mapPublicIpOnLaunch", False)))
        for assoc in self.of(t.ROUTE_TABLE_ASSOCIATION):
            table = self.dep(assoc, "routeTableId")
            for subnet in self.deps(assoc, "subnetId", t.SUBNET):
                if table is not None and table.urn in self.tables:
                    self.subnets[subnet.urn].table = self.tables[table.urn]
        for res in self.of(t.NETWORK_ACL, t.DEFAULT_NETWORK_ACL):
            for subnet in self.deps(res, "subnetIds", t.SUBNET):
                self.subnets[subnet.urn].acl = self.acls[res.urn]
        for assoc in self.of(t.NETWORK_ACL_ASSOCIATION):
            acl = self.dep(assoc, "networkAclId")
            for subnet in self.deps(assoc, "subnetId", t.SUBNET):
                if acl is not None and acl.urn in self.acls:
                    self.subnets[subnet.urn].acl = self.acls[acl.urn]
        for subnet in self.subnets.values():
            if subnet.vpc is not None:
                subnet.table = subnet.table or subnet.vpc.main_table
                subnet.acl = subnet.acl or subnet.vpc.default_acl
        for res in self.of(t.NAT_GATEWAY):
            subnet = self.dep(res, "subnetId", t.SUBNET)
            self.nats[res.urn] = NatGateway(res.name, res.urn, self.subnets.get(subnet.urn) if subnet else None,
                                            str(_get(res.props, "connectivityType", "public")) == "public")
        for rt in self.tables.values():
            for route in rt.routes:
                if route.target.kind == "nat" and route.target.urn in self.nats:
                    route.target.nat = self.nats[route.target.urn]

    def subnets_of(self, res: Res, prop: str) -> list[Subnet]:
        return [self.subnets[s.urn] for s in self.deps(res, prop, t.SUBNET) if s.urn in self.subnets]

    def _groups_of(self, res: Res, prop: str) -> list[str]:
        return self._group_keys(self.deps(res, prop))

    # roles

    def _add(self, role: str, *entries: Any) -> None:
        self.sources.setdefault(role, []).extend(e for e in entries if not isinstance(e, Interface) or e.subnet is not None)
        if role not in (VPN, DEPLOYER, ISOLATED, INTERNET):
            self.destinations.setdefault(role, []).extend(e for e in entries if isinstance(e, Interface))

    def _interfaces(self, role: str, res: Res, subnets: list[Subnet], groups: tuple[str, ...] | None, listening: Ranges,
                    public: bool = False, public_note: str = "", label: str | None = None,
                    protocols: tuple[str, ...] = ("tcp",)) -> list[Interface]:
        if not subnets:
            self._note_once(f"{res.name}: its subnets are not declared in this stack, so the model leaves it out")
        return [Interface(role, label or res.name, res.urn, s, groups, s.hosts, listening, public, public_note,
                          protocols=protocols) for s in subnets]

    def _default_group(self, subnets: list[Subnet]) -> tuple[str, ...]:
        vpc = next((s.vpc for s in subnets if s.vpc is not None), None)
        return (vpc.default_group,) if vpc is not None else ()

    def _roles(self) -> None:
        self.sources[INTERNET] = [External(INTERNET, "the internet", INTERNET_ADDRESSES)]
        self.destinations[INTERNET] = []
        self._load_balancers()
        self._clusters()
        self._data_stores()
        self._endpoints()
        self._vpn()
        self._isolated()
        self._deployer()
        self._services()

    def _load_balancers(self) -> None:
        for lb in self.of(*LOAD_BALANCER_TYPES):
            kind = str(_get(lb.props, "loadBalancerType", "application"))
            subnets = self.subnets_of(lb, "subnets") or self.subnets_of(lb, "subnetMappings")
            groups: tuple[str, ...] | None = tuple(self._groups_of(lb, "securityGroups"))
            if not groups:
                groups = self._default_group(subnets) if kind == "application" else None
            internal = bool(_get(lb.props, "internal", False))
            role = ALB if kind == "application" else f"{kind}-lb"
            self._add(role, *self._interfaces(role, lb, subnets, groups, ALL_PORTS, public=not internal,
                                              public_note="internal: true" if internal else "internet-facing",
                                              protocols=("tcp",) if kind == "application" else ("tcp", "udp")))

    def _clusters(self) -> None:
        for cluster in self.of(t.EKS_CLUSTER):
            vpc_config = _get(cluster.props, "vpcConfig", {})
            subnets = self.subnets_of(cluster, "vpcConfig")
            groups = (self._cluster_group(cluster), *self._groups_of(cluster, "vpcConfig"))
            private = bool(_get(vpc_config, "endpointPrivateAccess", False))
            public = bool(_get(vpc_config, "endpointPublicAccess", True))
            https = span(443, 443)
            label = f"{cluster.name} control plane"
            if private:
                self._add(EKS_API, *self._interfaces(EKS_API, cluster, subnets, groups, https, label=label))
            if public:
                admitted = [str(c) for c in _seq(_get(vpc_config, "publicAccessCidrs"))] or ["0.0.0.0/0"]
                self._add(EKS_API, Interface(
                    EKS_API, f"{cluster.name} public endpoint", cluster.urn, None, None, EMPTY, https,
                    endpoint_admits=cidrs(admitted), endpoint_note=f"publicAccessCidrs {', '.join(admitted)}", via_internet=not private))
        for group in self.of(t.EKS_NODE_GROUP):
            cluster = self.dep(group, "clusterName", t.EKS_CLUSTER)
            subnets = self.subnets_of(group, "subnetIds")
            template = self.dep(group, "launchTemplate", t.LAUNCH_TEMPLATE)
            groups: list[str] = []
            public = any(s.public_ip_on_launch for s in subnets)
            if template is not None:
                groups = self._groups_of(template, "vpcSecurityGroupIds") + self._groups_of(template, "networkInterfaces")
                public = public or any(_get(i, "associatePublicIpAddress") in (True, "true")
                                       for i in _seq(_get(template.props, "networkInterfaces")))
            if not groups and cluster is not None:
                groups = [self._cluster_group(cluster)]
            self._add(NODES, *self._interfaces(NODES, group, subnets, tuple(groups), ALL_PORTS, public=public,
                                               public_note="public IPs on launch" if public else "no public IP",
                                               protocols=("tcp", "udp")))

    def _data_stores(self) -> None:
        for db in self.of(t.RDS_INSTANCE, t.RDS_CLUSTER):
            if db.type == t.RDS_INSTANCE and db.deps.get("clusterIdentifier"):
                continue  # an Aurora member: the cluster carries the network settings
            group = self.dep(db, "dbSubnetGroupName", t.RDS_SUBNET_GROUP)
            subnets = self.subnets_of(group, "subnetIds") if group is not None else []
            groups = tuple(self._groups_of(db, "vpcSecurityGroupIds")) or self._default_group(subnets)
            engine = str(_get(db.props, "engine", "postgres"))
            port = _int(_get(db.props, "port"), ENGINE_PORTS.get(engine, 5432))
            public = bool(_get(db.props, "publiclyAccessible", False))
            self._add(DATABASE, *self._interfaces(DATABASE, db, subnets, groups, span(port, port), public=public,
                                                  public_note=f"publiclyAccessible: {str(public).lower()}"))
        for cache in self.of(t.ELASTICACHE_REPLICATION_GROUP, t.ELASTICACHE_CLUSTER, t.ELASTICACHE_SERVERLESS):
            if cache.type == t.ELASTICACHE_CLUSTER and cache.deps.get("replicationGroupId"):
                continue
            if cache.type == t.ELASTICACHE_SERVERLESS:
                subnets = self.subnets_of(cache, "subnetIds")
            else:
                group = self.dep(cache, "subnetGroupName", t.ELASTICACHE_SUBNET_GROUP)
                subnets = self.subnets_of(group, "subnetIds") if group is not None else []
            groups = tuple(self._groups_of(cache, "securityGroupIds")) or self._default_group(subnets)
            engine = str(_get(cache.props, "engine", "redis"))
            port = _int(_get(cache.props, "port"), ENGINE_PORTS.get(engine, 6379))
            self._add(CACHE, *self._interfaces(CACHE, cache, subnets, groups, span(port, port)))
        for domain in self.of(t.OPENSEARCH_DOMAIN):
            https_only = bool(_get(_get(domain.props, "domainEndpointOptions", {}), "enforceHttps", False))
            ports = span(443, 443) if https_only else union(span(80, 80), span(443, 443))
            if "vpcOptions" not in _keys(domain.props) and not domain.deps.get("vpcOptions"):
                self._add(OPENSEARCH, Interface(OPENSEARCH, f"{domain.name} public endpoint", domain.urn, None, None, EMPTY,
                                                ports, endpoint_admits=ALL_ADDRESSES,
                                                endpoint_note="a public domain (only its access policy restricts callers)",
                                                via_internet=True))
                continue
            subnets = self.subnets_of(domain, "vpcOptions")
            groups = tuple(self._groups_of(domain, "vpcOptions")) or self._default_group(subnets)
            self._add(OPENSEARCH, *self._interfaces(OPENSEARCH, domain, subnets, groups, ports))

    def _endpoints(self) -> None:
        for endpoint in self.of(t.VPC_ENDPOINT):
            if str(_get(endpoint.props, "vpcEndpointType", "Gateway")) != "Interface":
                continue
            subnets = self.subnets_of(endpoint, "subnetIds")
            groups = tuple(self._groups_of(endpoint, "securityGroupIds")) or self._default_group(subnets)
            self._add(ENDPOINTS, *self._interfaces(ENDPOINTS, endpoint, subnets, groups, span(443, 443)))

    def _vpn(self) -> None:
        for endpoint in self.of(t.CLIENT_VPN_ENDPOINT):
            clients = cidr(str(_get(endpoint.props, "clientCidrBlock", ""))) or EMPTY
            associations = [a for a in self.of(t.CLIENT_VPN_NETWORK_ASSOCIATION)
                            if endpoint.urn in a.deps.get("clientVpnEndpointId", ())]
            subnets = [s for a in associations for s in self.subnets_of(a, "subnetId")]
            groups = tuple(self._groups_of(endpoint, "securityGroupIds")) or self._default_group(subnets)
            authorized = []
            for rule in self.of(t.CLIENT_VPN_AUTHORIZATION):
                if endpoint.urn not in rule.deps.get("clientVpnEndpointId", ()):
                    continue
                target = str(_get(rule.props, "targetNetworkCidr", ""))
                who = "all clients" if _get(rule.props, "authorizeAllGroups") else f"group {_get(rule.props, 'accessGroupId', '?')}"
                authorized.append((cidr(target) or EMPTY, f"{rule.name} ({target}, {who})"))
            extra = [(r, self.subnets_of(r, "targetVpcSubnetId")) for r in self.of(t.CLIENT_VPN_ROUTE)
                     if endpoint.urn in r.deps.get("clientVpnEndpointId", ())]
            if not associations:
                self._note_once(f"{endpoint.name}: no target network association, so no client reaches the VPC")
            for subnet in subnets:
                # Associating a subnet adds a route for the VPC's CIDR through it.
                routes = subnet.vpc.cidr if subnet.vpc is not None else EMPTY
                notes = [f"the association's route to {format_addresses(routes)}"]
                for route, targets in extra:
                    if subnet in targets:
                        destination = str(_get(route.props, "destinationCidrBlock", ""))
                        routes = union(routes, cidr(destination) or EMPTY)
                        notes.append(f"{route.name} ({destination})")
                self.sources.setdefault(VPN, []).append(VpnEntry(
                    VPN, endpoint.name, endpoint.urn, clients, subnet, groups, routes, tuple(notes), tuple(authorized)))

    def _isolated(self) -> None:
        probes = [Interface(ISOLATED, "any host", s.urn, s, (OPEN_GROUP,), s.hosts, ALL_PORTS, public=True,
                            public_note="any host may hold an Elastic IP", protocols=("tcp", "udp"))
                  for s in self.subnets.values() if s.tier == "isolated"]
        if probes:
            self.sources[ISOLATED] = probes

    def _deployer(self) -> None:
        entries: list[Source] = []
        outside: Ranges = EMPTY
        for text in self.deployer_cidrs:
            block = cidr(text)
            if block is None:
                self._note_once(f"deployer CIDR {text!r} is not an IPv4 CIDR")
                continue
            inside = [s for s in self.subnets.values() if inter(s.cidr, block)]
            for subnet in inside:
                entries.append(Interface(DEPLOYER, f"deployer {text}", subnet.urn, subnet, (OPEN_GROUP,), inter(subnet.hosts, block),
                                         ALL_PORTS, protocols=("tcp", "udp")))
            if not inside:
                entries.append(External(DEPLOYER, f"deployer {text}", block))
                outside = union(outside, block)
        if entries:
            self.sources[DEPLOYER] = entries
            # What the deployer may reach is its own intent, not the internet's.
            self.sources[INTERNET] = [External(INTERNET, "the internet", sub(INTERNET_ADDRESSES, outside))]

    def _services(self) -> None:
        for tg in self.of(t.TARGET_GROUP):
            if str(_get(tg.props, "targetType", "instance")) not in ("ip", "instance"):
                continue
            name = str(_get(_get(tg.props, "tags", {}), "golive:service", "") or tg.name)
            port = _int(_get(tg.props, "port"), -1)
            if port < 0:
                continue
            vpc = self._vpc_of(tg)
            service = self.services.setdefault(name, Service(name, EMPTY, [], set()))
            service.port = union(service.port, span(port, port))
            service.target_groups.append(tg.urn)
            if vpc is not None:
                service.vpcs.add(vpc.urn)
        listeners = {r.urn: r for r in self.of(t.LISTENER, "aws:alb/listener:Listener")}
        for service in self.services.values():
            groups = set(service.target_groups)
            for rule in self.of(t.LISTENER_RULE, "aws:alb/listenerRule:ListenerRule"):
                if groups & set(rule.deps.get("actions", ())):
                    for listener in self.deps(rule, "listenerArn"):
                        self._forward(service, listener, rule.name)
            for listener in listeners.values():
                if groups & set(listener.deps.get("defaultActions", ())):
                    self._forward(service, listener, "default action")

    def _forward(self, service: Service, listener: Res, rule: str) -> None:
        port = _int(_get(listener.props, "port"), -1)
        lb = self.dep(listener, "loadBalancerArn", *LOAD_BALANCER_TYPES)
        if port >= 0 and lb is not None:
            service.forwards.append(Forward(lb.name, lb.urn, listener.name, span(port, port), rule))

    # ------------------------------------------------------------------ roles

    def source_roles(self) -> list[str]:
        return [r for r in SOURCE_ORDER if self.sources.get(r)] + sorted(r for r in self.sources if r not in SOURCE_ORDER)

    def destination_roles(self) -> list[str]:
        known = [r for r in DESTINATION_ORDER if r == INTERNET or self.destinations.get(r)]
        known += sorted(r for r in self.destinations if r not in DESTINATION_ORDER and self.destinations[r])
        return known

    def service_names(self) -> list[str]:
        return sorted(self.services)

    # ------------------------------------------------------------------ questions

    def listening(self, destination: str) -> Ranges:
        if destination in self.services:
            return self.services[destination].port
        if destination == INTERNET:
            return ALL_PORTS
        out: Ranges = EMPTY
        for iface in self.destinations.get(destination, []):
            out = union(out, iface.listening)
        return out

    def reach(self, source: str, destination: str, ports: Ranges | None = None, protocol: str = "tcp",
              explain: bool = True) -> Answer:
        """Every candidate route from ``source`` to ``destination`` on ``ports`` (default: where it listens)."""
        if destination in self.services:
            return self._reach_service(source, self.services[destination], ports, protocol, explain)
        key = (source, destination, ports, protocol, explain)
        if key not in self._answers:  # the model does not change once built; services ask the same legs again
            self._answers[key] = self._reach(source, destination, ports, protocol, explain)
        return dataclasses.replace(self._answers[key])

    def _reach(self, source: str, destination: str, ports: Ranges | None, protocol: str, explain: bool) -> Answer:
        candidates: list[Candidate] = []
        note = ""
        sources = self.sources.get(source, [])
        if destination == INTERNET:
            targets: list[Interface | None] = [None]
        else:
            targets = list(self.destinations.get(destination, []))
        if not sources:
            note = f"the stack declares no {source}"
        elif not targets:
            note = f"the stack declares no {destination}"
        for src in sources:
            for dst in targets:
                if dst is not None and dst.subnet is None and not isinstance(src, External) and not dst.via_internet:
                    continue  # inside the VPC the API name resolves to the private endpoint
                for trace in self._walk(src, dst, ports, protocol, explain):
                    candidates.append(trace.candidate())
        reachable = union_all(c.ports for c in candidates)
        return Answer(source, destination, protocol, self.listening(destination) if ports is None else ports, reachable,
                      candidates, note=note)

    def _reach_service(self, source: str, service: Service, ports: Ranges | None, protocol: str, explain: bool) -> Answer:
        """A service: the nodes on its port, directly or through a load balancer listener forwarding to it."""
        asked = service.port if ports is None else ports
        direct = self.reach(source, NODES, inter(asked, service.port), protocol, explain)
        answer = Answer(source, service.name, protocol, asked, direct.reachable, direct.candidates, note=direct.note)
        if not inter(asked, service.port):
            answer.note = f"{service.name} listens on {format_ports(service.port)} only"
        if source == ALB:
            return answer
        for forward in service.forwards:
            leg_in = self.reach(source, ALB, forward.port, protocol, explain)
            leg_out = self.reach(ALB, NODES, service.port, protocol, explain)
            leg_in.destination = f"{forward.load_balancer}:{format_ports(forward.port)}"
            leg_out.source = forward.load_balancer
            leg_out.destination = service.name
            for leg, attr in ((leg_in, "destination_urn"), (leg_out, "source_urn")):
                leg.candidates = [c for c in leg.candidates if getattr(c, attr) == forward.urn]
                leg.reachable = union_all(c.ports for c in leg.candidates)
            answer.legs.append((forward, leg_in, leg_out))
        return answer

    # ------------------------------------------------------------------ walking

    def _walk(self, src: Source, dst: Interface | None, ports: Ranges | None, protocol: str, explain: bool) -> list[_Trace]:
        listening = dst.listening if dst is not None else ALL_PORTS
        asked = listening if ports is None else ports
        dst_addresses = INTERNET_ADDRESSES if dst is None else (dst.addresses if dst.subnet is not None else INTERNET_ADDRESSES)
        dst_where = "the internet" if dst is None else dst.where
        trace = _Trace([(src.addresses if not isinstance(src, VpnEntry) else src.clients, dst_addresses, asked)],
                       explain, src.where, dst_where, (getattr(src, "urn", None), dst.urn if dst is not None else None))
        if isinstance(src, VpnEntry):
            traces = self._vpn_entry(trace, src, dst_addresses)
            origin = Interface(VPN, src.label, src.urn, src.subnet, src.groups, src.subnet.hosts, EMPTY)
            out: list[_Trace] = []
            for tr in traces:
                if tr.alive:
                    tr.space = [(origin.addresses, b[1], b[2]) for b in tr.space]
                    out += self._from_origin(tr, origin, dst, protocol)
                else:
                    out.append(tr)
            return self._finish(out, dst, listening, protocol)
        if isinstance(src, External):
            return self._finish(self._from_outside(trace, src, dst, protocol), dst, listening, protocol)
        return self._finish(self._from_origin(trace, src, dst, protocol), dst, listening, protocol)

    def _finish(self, traces: list[_Trace], dst: Interface | None, listening: Ranges, protocol: str) -> list[_Trace]:
        if dst is None:
            return traces
        if protocol not in dst.protocols:
            listening = EMPTY
        what = f"{'/'.join(dst.protocols)} {format_ports(dst.listening)}"
        for tr in traces:
            if tr.alive and listening != ALL_PORTS:
                tr.step("listener", space_inter(tr.space, (ALL_ADDRESSES, ALL_ADDRESSES, listening)),
                        lambda: f"{dst.label} listens on {what}", lambda: f"{dst.label} listens on {what} only", dst.urn)
        return traces

    def _vpn_entry(self, tr: _Trace, entry: VpnEntry, dst_addresses: Ranges) -> list[_Trace]:
        tr.step("client VPN route", space_inter(tr.space, (ALL_ADDRESSES, entry.routes, ALL_PORTS)),
                lambda: f"{entry.label} sends it through its association with {entry.subnet.label} "
                        f"({'; '.join(entry.route_notes)})",
                lambda: f"{entry.label} has no route to {format_addresses(dst_addresses)} through {entry.subnet.label} "
                        f"(routes: {'; '.join(entry.route_notes)})", entry.urn)
        allowed: Ranges = EMPTY
        used = []
        for block, label in entry.authorized:
            if inter(block, _destinations(tr.space)):
                used.append(label)
            allowed = union(allowed, block)
        tr.step("client VPN authorization", space_inter(tr.space, (ALL_ADDRESSES, allowed, ALL_PORTS)),
                lambda: f"authorized by {', '.join(used)}",
                lambda: (f"no authorization rule of {entry.label} covers {format_addresses(_destinations(tr.space))}"
                         + (f" (rules: {', '.join(label for _, label in entry.authorized)})" if entry.authorized else "")),
                entry.urn)
        if tr.alive and tr.explain:
            tr.hops.append(Hop("source NAT", f"clients {format_addresses(entry.clients)} leave {entry.label} as addresses of "
                                             f"{entry.subnet.label} ({format_addresses(entry.subnet.cidr)}) with "
                                             f"{', '.join(self.group_label(g) for g in entry.groups)}", entry.urn))
        return [tr]

    def _from_origin(self, tr: _Trace, src: Interface, dst: Interface | None, protocol: str) -> list[_Trace]:
        if dst is None or dst.subnet is None:
            return self._to_outside(tr, src, dst, protocol)
        if not tr.alive:
            return [tr]
        self._group_filter(tr, src.groups, "egress", dst.groups, 1, protocol)
        self._local_routes(tr, src, dst)
        if src.subnet is not dst.subnet:
            self._acl(tr, src.subnet, "source", protocol)
            self._acl(tr, dst.subnet, "destination", protocol)
        elif tr.alive and tr.explain:
            tr.hops.append(Hop("network ACL", f"not evaluated: both ends are in {src.subnet.label}"))
        self._group_filter(tr, dst.groups, "ingress", src.groups, 0, protocol)
        return [tr]

    def _local_routes(self, tr: _Trace, src: Interface, dst: Interface) -> None:
        src_table, dst_table = src.subnet.table, dst.subnet.table
        if src_table is None or dst_table is None:
            tr.block("route", lambda: "the subnets have no route table the model can see")
            return
        if src.subnet.vpc is not dst.subnet.vpc:
            tr.block("route", lambda: f"{src.subnet.label} and {dst.subnet.label} are in different VPCs (no peering is modelled)",
                     src_table.urn)
            return
        forward = src_table.to("local")
        tr.step("route", space_inter(tr.space, (ALL_ADDRESSES, forward, ALL_PORTS)),
                lambda: f"{src_table.label} delivers {format_addresses(dst.subnet.cidr)} locally",
                lambda: f"{src_table.label} sends {format_addresses(dst.subnet.cidr)} elsewhere than the local route "
                        f"({self._route_text(src_table, dst.subnet.cidr)})", src_table.urn)
        back = dst_table.to("local")
        tr.step("return route", space_inter(tr.space, (back, ALL_ADDRESSES, ALL_PORTS)),
                lambda: f"{dst_table.label} returns replies to {format_addresses(_sources(tr.space))} locally",
                lambda: f"{dst_table.label} sends replies elsewhere ({self._route_text(dst_table, src.subnet.cidr)})",
                dst_table.urn)

    def _route_text(self, table: RouteTable, addresses: Ranges) -> str:
        parts = [f"{format_addresses(inter(r, addresses))} via {route.target.label}"
                 for r, route in table.partition() if inter(r, addresses)]
        return "; ".join(parts) or f"no route for {format_addresses(addresses)}"

    def _from_outside(self, tr: _Trace, src: External, dst: Interface | None, protocol: str) -> list[_Trace]:
        if dst is None:
            tr.block("route", lambda: "both ends are outside the declared network")
            return [tr]
        if dst.subnet is None:
            admits = dst.endpoint_admits or EMPTY
            tr.step("public endpoint", space_inter(tr.space, (admits, ALL_ADDRESSES, ALL_PORTS)),
                    lambda: f"{dst.label} admits {format_addresses(_sources(tr.space))} ({dst.endpoint_note})",
                    lambda: f"{dst.label} admits none of {format_addresses(src.addresses)} ({dst.endpoint_note})", dst.urn)
            return [tr]
        vpc = dst.subnet.vpc
        if vpc is None or not vpc.internet_gateways:
            tr.block("internet gateway", lambda: f"{vpc.label if vpc else dst.subnet.label} has no internet gateway",
                     vpc.urn if vpc else None)
            return [tr]
        igw = vpc.internet_gateways[0]
        if not dst.public:
            tr.block("public address", lambda: f"{dst.label} has no public address ({dst.public_note or 'not public'})", dst.urn)
            return [tr]
        if tr.explain:
            tr.hops.append(Hop("internet gateway", f"{igw.name} forwards to {dst.label}'s public address ({dst.public_note})",
                               igw.urn))
        table = dst.subnet.table
        if table is None:
            tr.block("return route", lambda: f"{dst.subnet.label} has no route table")
            return [tr]
        igw_urns = {g.urn for g in vpc.internet_gateways}
        back: Ranges = EMPTY
        for ranges, route in table.partition():
            if route.target.kind == "igw" and route.target.urn in igw_urns:
                back = union(back, ranges)
        tr.step("return route", space_inter(tr.space, (back, ALL_ADDRESSES, ALL_PORTS)),
                lambda: f"{table.label} returns replies to {format_addresses(_sources(tr.space))} through {igw.name}",
                lambda: f"{table.label} does not return replies to {format_addresses(_sources(tr.space))} through "
                        f"{igw.name} ({self._route_text(table, _sources(tr.space))})", table.urn)
        self._acl(tr, dst.subnet, "destination", protocol)
        self._group_filter(tr, dst.groups, "ingress", (), 0, protocol)
        return [tr]

    def _to_outside(self, tr: _Trace, src: Interface, dst: Interface | None, protocol: str) -> list[_Trace]:
        """To the internet, or to a public endpoint reached over it."""
        if not tr.alive:
            return [tr]
        self._group_filter(tr, src.groups, "egress", (), 1, protocol)
        if not tr.alive:
            return [tr]
        table = src.subnet.table
        if table is None:
            tr.block("route", lambda: f"{src.subnet.label} has no route table")
            return [tr]
        wanted = _destinations(tr.space)
        branches: list[_Trace] = []
        routed: Ranges = EMPTY
        for ranges, route in table.partition():
            part = inter(ranges, wanted)
            if not part or route.target.kind == "local":
                continue
            routed = union(routed, part)
            branch = tr.fork()
            branch.step("route", space_inter(branch.space, (ALL_ADDRESSES, part, ALL_PORTS)),
                        lambda r=route, p=part: f"{table.label} sends {format_addresses(p)} to {r.target.label} ({r.text})",
                        str, table.urn)
            self._leave(branch, src, route.target, protocol)
            branches.append(branch)
        if not branches:
            service = f"; {', '.join(table.service_routes)} only" if table.service_routes else ""
            tr.block("route", lambda: f"{table.label} has no route to {format_addresses(wanted)} "
                                      f"(only {self._route_text(table, ALL_ADDRESSES)}{service})", table.urn)
            branches = [tr]
        if dst is not None:
            for branch in branches:
                admits = dst.endpoint_admits or EMPTY
                unknown_source = not covers(admits, INTERNET_ADDRESSES)
                branch.step("public endpoint", [] if unknown_source else branch.space,
                            lambda: f"{dst.label} admits every address ({dst.endpoint_note})",
                            lambda: f"{dst.label} admits {dst.endpoint_note} only, and the public address this traffic "
                                    "leaves with is not known before deployment", dst.urn)
        return branches

    def _leave(self, tr: _Trace, src: Interface, target: Target, protocol: str) -> None:
        if target.kind == "igw":
            if not src.public:
                tr.block("public address", lambda: f"{src.label} has no public address ({src.public_note or 'not public'}), "
                                                   f"so {target.label} drops its traffic", src.urn)
                return
            self._acl(tr, src.subnet, "source", protocol)
            if tr.alive and tr.explain:
                tr.hops.append(Hop("internet gateway", f"leaves through {target.label}", target.urn))
            return
        if target.kind == "nat":
            nat = target.nat
            if nat is None or nat.subnet is None:
                tr.block("NAT gateway", lambda: f"{target.label}: its subnet is not declared here", target.urn)
                return
            if not nat.public:
                tr.block("NAT gateway", lambda: f"{nat.label} is a private NAT gateway (no internet path)", nat.urn)
                return
            if nat.subnet is not src.subnet:
                self._acl(tr, src.subnet, "source", protocol)
                self._acl(tr, nat.subnet, "destination", protocol)
            if not tr.alive:
                return
            nat_table = nat.subnet.table
            vpc = nat.subnet.vpc
            igw_urns = {g.urn for g in vpc.internet_gateways} if vpc else set()
            out: Ranges = EMPTY
            for ranges, route in (nat_table.partition() if nat_table else []):
                if route.target.kind == "igw" and route.target.urn in igw_urns:
                    out = union(out, ranges)
            tr.space = [(nat.subnet.hosts, b[1], b[2]) for b in tr.space]
            tr.step("NAT gateway", space_inter(tr.space, (ALL_ADDRESSES, out, ALL_PORTS)),
                    lambda: f"{nat.label} in {nat.subnet.label} translates it and {nat_table.label} sends it to the internet gateway",
                    lambda: f"{nat.label}'s subnet {nat.subnet.label} does not route {format_addresses(_destinations(tr.space))} "
                            f"to an internet gateway", nat.urn)
            self._acl(tr, nat.subnet, "source", protocol)
            return
        tr.assumed = True
        self._acl(tr, src.subnet, "source", protocol)
        if tr.alive and tr.explain:
            tr.hops.append(Hop("leaves the declared network", f"through {target.label}: beyond this stack, taken to reach it",
                               target.urn))

    # ------------------------------------------------------------------ filters

    def _group_filter(self, tr: _Trace, groups: tuple[str, ...] | None, direction: str, peer_groups: tuple[str, ...] | None,
                      peer_dim: int, protocol: str) -> None:
        if not tr.alive:
            return
        step = f"security group {direction}"
        if groups is None:
            if tr.explain:
                tr.hops.append(Hop(step, "no security group (a network load balancer filters nothing)"))
            return
        peers = set(peer_groups or ())
        allowed: list[Box] = []
        used: list[GroupRule] = []
        considered: list[GroupRule] = []
        for key in groups:
            group = self.groups.get(key)
            if group is None:
                continue
            for rule in getattr(group, direction):
                if not _matches(rule.protocol, protocol):
                    continue
                considered.append(rule)
                peer = ALL_ADDRESSES if rule.groups & peers else rule.peers
                if not peer:
                    continue
                filt = (peer, ALL_ADDRESSES, rule.ports) if peer_dim == 0 else (ALL_ADDRESSES, peer, rule.ports)
                got = space_inter(tr.space, filt)
                if got:
                    allowed += got
                    used.append(rule)
        names = ", ".join(self.group_label(g) for g in groups) or "no security group"
        peer_text = ", ".join(self.group_label(g) for g in (peer_groups or ())) or ""

        def ok() -> str:
            return f"{names}: " + "; ".join(rule.text(self) for rule in used)

        def blocked() -> str:
            side = "to" if direction == "egress" else "from"
            addresses = format_addresses(_destinations(tr.space) if peer_dim == 1 else _sources(tr.space))
            who = f"{addresses}" + (f" or {peer_text}" if peer_text else "")
            rules = "; ".join(rule.text(self) for rule in considered[:6]) or "none"
            return f"{names}: no {direction} rule allows {protocol} {format_ports(ports_of(tr.space))} {side} {who} (rules: {rules})"

        urn = used[0].urn if used else None
        blocked_urn = next((self.groups[g].urn for g in groups if g in self.groups and self.groups[g].urn), None)
        tr.step(step, allowed, ok, blocked, urn, blocked_urn)

    def _acl(self, tr: _Trace, subnet: Subnet, side: str, protocol: str) -> None:
        """The subnet's ACL on the forward packet and on its reply (stateless), for ``side`` of the flow."""
        if not tr.alive:
            return
        acl = subnet.acl
        if acl is None:
            return
        peer_dim = 1 if side == "source" else 0
        forward_rules, reply_rules = (acl.egress, acl.ingress) if side == "source" else (acl.ingress, acl.egress)
        before = tr.space
        forward, f_used, f_denied, f_rest = _ordered(before, forward_rules, peer_dim, protocol)
        direction, reply_direction = ("out", "in") if side == "source" else ("in", "out")
        if not forward:
            tr.block("network ACL", lambda: f"{acl.label} ({subnet.label}) {direction}: "
                     + _denial(f_denied, f_rest, protocol, before, peer_dim, direction), acl.urn)
            return
        replies = [(b[0], b[1], EPHEMERAL_PORTS) for b in forward]
        back, r_used, r_denied, r_rest = _ordered(replies, reply_rules, peer_dim, protocol)

        def ok() -> str:
            return (f"{acl.label} ({subnet.label}): {'; '.join(r.text() for r in f_used)}; replies on ephemeral ports "
                    f"{format_ports(EPHEMERAL_PORTS)}: {'; '.join(r.text() for r in r_used)}")

        def reply_blocked() -> str:
            return (f"{acl.label} ({subnet.label}) {reply_direction}, the replies on ephemeral ports "
                    f"{format_ports(EPHEMERAL_PORTS)}: " + _denial(r_denied, r_rest, protocol, replies, peer_dim, reply_direction))

        tr.step("network ACL", space_meet(forward, [(b[0], b[1], ALL_PORTS) for b in back]), ok, reply_blocked, acl.urn)


def union_all(parts: Iterable[Ranges]) -> Ranges:
    out: Ranges = EMPTY
    for part in parts:
        out = union(out, part)
    return out


def _sources(space: list[Box]) -> Ranges:
    return union_all(b[0] for b in space)


def _destinations(space: list[Box]) -> Ranges:
    return union_all(b[1] for b in space)


def _ordered(space: list[Box], rules: list[AclRule], peer_dim: int, protocol: str
             ) -> tuple[list[Box], list[AclRule], list[AclRule], list[Box]]:
    """Evaluate ordered ACL rules: first match wins; what no rule matches hits ``*`` (deny)."""
    remaining = space
    allowed: list[Box] = []
    used: list[AclRule] = []
    denied: list[AclRule] = []
    for rule in rules:
        if not remaining:
            break
        if not _matches(rule.protocol, protocol) or not rule.peers:
            continue
        filt = (rule.peers, ALL_ADDRESSES, rule.ports) if peer_dim == 0 else (ALL_ADDRESSES, rule.peers, rule.ports)
        hit = space_inter(remaining, filt)
        if not hit:
            continue
        (used if rule.allow else denied).append(rule)
        if rule.allow:
            allowed += hit
        remaining = space_sub(remaining, filt)
    return allowed, used, denied, remaining


def _denial(denied: list[AclRule], rest: list[Box], protocol: str, space: list[Box], peer_dim: int, direction: str) -> str:
    ports = format_ports(ports_of(space))
    peers = format_addresses(_destinations(space) if peer_dim == 1 else _sources(space))
    side = "to" if direction == "out" else "from"
    parts = [f"{rule.text()} denies it" for rule in denied]
    if rest:
        parts.append("no rule allows it, so rule * denies it")
    return f"{protocol} {ports} {side} {peers}: " + "; ".join(parts)
