"""Reachability rules: the intended paths exist, nothing else reaches in from the internet or the VPN.

Single-rule checks ("no 0.0.0.0/0 on this group") cannot say whether the admin VPN
reaches the cluster API or whether any path leads from the internet to the database.
These rules walk the declared network (``netmodel``: routes, NACLs both ways, security
groups, the interfaces of every role) and report each missing or unintended path with
its hop-by-hop explanation. ``python -m golive reach`` answers from the same model.
"""

from __future__ import annotations

from pulumi_policy import Severity

from . import netintent, netmodel
from . import types as t
from ._base import stack_policy

MODEL_TYPES = (
    t.VPC, t.SUBNET, t.ROUTE_TABLE, t.ROUTE_TABLE_ASSOCIATION, t.ROUTE, t.INTERNET_GATEWAY, t.NAT_GATEWAY,
    t.NETWORK_ACL, t.NETWORK_ACL_RULE, t.NETWORK_ACL_ASSOCIATION, t.SECURITY_GROUP, t.DEFAULT_SECURITY_GROUP,
    t.SECURITY_GROUP_RULE, t.SECURITY_GROUP_INGRESS_RULE, t.SECURITY_GROUP_EGRESS_RULE, t.VPC_ENDPOINT,
    t.LOAD_BALANCER, t.LISTENER, t.LISTENER_RULE, t.TARGET_GROUP, t.EKS_CLUSTER, t.EKS_NODE_GROUP, t.LAUNCH_TEMPLATE,
    t.RDS_INSTANCE, t.RDS_SUBNET_GROUP, t.ELASTICACHE_REPLICATION_GROUP, t.ELASTICACHE_SUBNET_GROUP, t.OPENSEARCH_DOMAIN,
    t.CLIENT_VPN_ENDPOINT, t.CLIENT_VPN_NETWORK_ASSOCIATION, t.CLIENT_VPN_AUTHORIZATION, t.CLIENT_VPN_ROUTE,
)

INTENT_DEFAULTS = {
    "required": list(netintent.REQUIRED),
    "allowed": list(netintent.ALLOWED),
    "denied": list(netintent.DENIED),
    "deployerCidrs": [],
}



def network_of(args, cfg) -> netmodel.Network:
    return netmodel.Network(netmodel.from_policy(args.resources), [str(c) for c in cfg.get("deployerCidrs") or []])


def _check_intent(args, cfg):
    required = [str(i) for i in cfg["required"]]
    allowed = [str(i) for i in cfg["allowed"]]
    denied = [str(i) for i in cfg["denied"]]
    network = network_of(args, cfg)
    problems = netintent.intent_problems(network, required, allowed, denied)
    problems += [f"deployerCidrs: {note}" for note in network.notes if note.startswith("deployer CIDR")]
    if problems:
        for problem in problems:
            yield problem, None
        return
    for violation in (
        *netintent.missing_paths(network, required),
        *netintent.unintended_paths(network, required, allowed),
        *netintent.denied_paths(network, denied),
    ):
        yield violation.message, violation.urn


reach_intent = stack_policy(
    name="network-reach-intent",
    description=("Every intended network path exists (internet to the ALB on 80/443, VPN and deployer to the EKS API, nodes "
                 "to the data tier and endpoints, ALB to every service), no path from the internet or the VPN exists "
                 "beyond the intent, and the isolated subnets have no path to the internet; proved over routes, network "
                 "ACLs (both directions, rule order, ephemeral replies) and security groups."),
    check=_check_intent,
    types=MODEL_TYPES,
    severity=Severity.HIGH,
    category="Security",
    remediation=("Read the hop-by-hop explanation: a missing path names the first route, NACL rule or security group that "
                 "blocks it (add the rule that admits the intended peer); an unintended path names every gate that lets "
                 "it through (close one, or state the path in the pack config's `required`/`allowed`). "
                 "`python -m golive reach --from SRC --to DST:PORT` explains any pair."),
    controls=("well-architected:SEC05-BP01", "well-architected:SEC05-BP02", "fsbp:EC2.18"),
    defaults=INTENT_DEFAULTS,
)

POLICIES = [reach_intent]

