"""Settings of the VPC (``golive:network``), for components/network.py."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from .parser import _PRIVATE_RANGES, PRODUCTION_LOG_RETENTION_DAYS, Problem, _check_retention, _Ctx, doc, parse_cidr


@dataclass(frozen=True)
class NetworkConfig:
    """The VPC and its three subnet tiers (``golive:network``)."""

    vpc_cidr: str = doc("VPC IPv4 CIDR; a private range, /16 to /20.", "10.20.0.0/16")
    availability_zones: tuple[str, ...] = doc(
        "Availability zones, one subnet per tier in each; default: <region>a, b and c.", ()
    )
    nat_gateways: Literal["perAz", "single"] = doc(
        "`perAz` (one NAT gateway per AZ, required in production) or `single` (cheaper, one AZ failure cuts egress).",
        "perAz",
    )
    public_subnet_cidrs: tuple[str, ...] = doc("Public (load balancer) subnet CIDRs, one per AZ; default: computed.", ())
    private_subnet_cidrs: tuple[str, ...] = doc("Private (application) subnet CIDRs, one per AZ; default: computed.", ())
    isolated_subnet_cidrs: tuple[str, ...] = doc("Isolated (data) subnet CIDRs, one per AZ; default: computed.", ())
    flow_log_retention_days: int = doc("Retention of the VPC flow log group, in days.", 365)
    interface_endpoints: tuple[str, ...] = doc(
        "AWS services reached through interface VPC endpoints from the private subnets.",
        ("ecr.api", "ecr.dkr", "sts", "logs", "secretsmanager", "kms", "ec2", "elasticloadbalancing", "autoscaling"),
    )

    # Share of the VPC each tier gets, as a prefix delta (1 = half): the app tier is
    # largest because EKS pods take VPC addresses (vpc-cni); data and public need few.
    # Each tier's share is then split into one block per AZ (rounded up to a power of 2).
    TIER_PREFIX_DELTA = {"private": 1, "isolated": 3, "public": 4}
    MIN_PREFIX, MAX_PREFIX = 16, 20
    MAX_AZS = 6

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        vpc = parse_cidr(f"{key}.vpcCidr", self.vpc_cidr, problems)
        if vpc is not None:
            if not self.MIN_PREFIX <= vpc.prefixlen <= self.MAX_PREFIX:
                problems.append(
                    Problem(f"{key}.vpcCidr", self.vpc_cidr, f"prefix must be /{self.MIN_PREFIX} to /{self.MAX_PREFIX} "
                            f"(AWS allows at most /16; smaller than /{self.MAX_PREFIX} leaves too few addresses for EKS pods)")
                )
            if not any(vpc.subnet_of(r) for r in _PRIVATE_RANGES):
                problems.append(Problem(f"{key}.vpcCidr", self.vpc_cidr, "must lie in a private range (RFC 1918 or 100.64.0.0/10)"))
        azs = self.azs(ctx.region)
        az_key = f"{key}.availabilityZones"
        if ctx.production and len(set(azs)) < 3:
            problems.append(Problem(az_key, list(azs), "a production stack needs at least 3 distinct availability zones"))
        if len(azs) > self.MAX_AZS:
            problems.append(Problem(az_key, list(azs), f"at most {self.MAX_AZS} availability zones (no AWS region has more)"))
        if len(set(azs)) != len(azs):
            problems.append(Problem(az_key, list(azs), "availability zones must be distinct"))
        for i, az in enumerate(azs):
            if not re.fullmatch(re.escape(ctx.region) + r"[a-z]", az):
                problems.append(Problem(f"{az_key}[{i}]", az, f"must be an availability zone of region {ctx.region} (e.g. {ctx.region}a)"))
        duplicates = sorted({e for e in self.interface_endpoints if self.interface_endpoints.count(e) > 1})
        if duplicates:
            problems.append(Problem(f"{key}.interfaceEndpoints", list(self.interface_endpoints), f"lists {', '.join(duplicates)} more than once"))
        if ctx.production and self.nat_gateways != "perAz":
            problems.append(Problem(f"{key}.natGateways", self.nat_gateways, "a production stack needs one NAT gateway per AZ (perAz)"))
        _check_retention(f"{key}.flowLogRetentionDays", self.flow_log_retention_days, PRODUCTION_LOG_RETENTION_DAYS, ctx, problems)
        if vpc is None or vpc.prefixlen > self.MAX_PREFIX:
            return
        given: list[tuple[str, ipaddress.IPv4Network]] = []
        for tier in ("public", "private", "isolated"):
            tier_key = f"{key}.{tier}SubnetCidrs"
            cidrs = getattr(self, f"{tier}_subnet_cidrs")
            if not cidrs:
                continue
            if len(cidrs) != len(azs):
                problems.append(Problem(tier_key, list(cidrs), f"needs exactly one CIDR per availability zone ({len(azs)})"))
            for i, cidr in enumerate(cidrs):
                net = parse_cidr(f"{tier_key}[{i}]", cidr, problems)
                if net is None:
                    continue
                if not net.subnet_of(vpc):
                    problems.append(Problem(f"{tier_key}[{i}]", cidr, f"falls outside the VPC CIDR {vpc}"))
                elif net.prefixlen > 28:
                    problems.append(Problem(f"{tier_key}[{i}]", cidr, "AWS subnets are /28 or larger"))
                for other_key, other in given:
                    if net.overlaps(other):
                        problems.append(Problem(f"{tier_key}[{i}]", cidr, f"overlaps {other_key} ({other})"))
                given.append((f"{tier_key}[{i}]", net))

    def azs(self, region: str) -> tuple[str, ...]:
        return self.availability_zones or tuple(f"{region}{suffix}" for suffix in "abc")

    def subnet_cidrs(self, region: str) -> dict[str, tuple[str, ...]]:
        """CIDRs per tier, one per AZ: the configured ones, else carved from the VPC.

        Larger tiers are allocated first so every block stays aligned; the result
        never overlaps because blocks are handed out in increasing address order.
        """
        azs = self.azs(region)
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        result: dict[str, tuple[str, ...]] = {}
        cursor = int(vpc.network_address)
        per_az_delta = max(len(azs) - 1, 1).bit_length()
        for tier, delta in sorted(self.TIER_PREFIX_DELTA.items(), key=lambda kv: kv[1]):
            prefix = vpc.prefixlen + delta + per_az_delta
            size = 2 ** (32 - prefix)
            blocks = []
            for _ in azs:
                cursor = -(-cursor // size) * size  # align up
                blocks.append(str(ipaddress.IPv4Network((cursor, prefix))))
                cursor += size
            result[tier] = blocks
        for tier in result:
            configured = getattr(self, f"{tier}_subnet_cidrs")
            result[tier] = tuple(configured) if configured else tuple(result[tier])
        return result
