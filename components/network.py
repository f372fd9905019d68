"""The VPC: three subnet tiers per AZ, NAT per AZ, flow logs, endpoints.

Tiers:
- public: the load balancer and the NAT gateways; routes to the internet gateway.
- private: the cluster's nodes and pods; egress through the NAT gateway of the same
  AZ, so losing one AZ never cuts the others' egress.
- isolated: databases and caches; no route to the internet at all.

The VPC's default security group is taken over with no rules, so nothing that
falls back to it can talk to anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.config import AwsAccount, NetworkConfig
from components.kms import EncryptionKey, EncryptionKeyArgs

ANYWHERE = "0.0.0.0/0"
EPHEMERAL_PORTS = (1024, 65535)
# Administration ports no NACL admits from the internet (FSBP EC2.21): SSH (below the
# ephemeral range anyway) and RDP, carved out of the ephemeral range.
ADMIN_PORTS = (22, 3389)


@dataclass(frozen=True)
class NetworkArgs:
    config: NetworkConfig
    account: AwsAccount
    vpc_tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags on the VPC, the stack's anchor: stack-level findings about account-wide
    resources the stack does not declare (a skipped singleton) are reported against it."""


class Network(pulumi.ComponentResource):
    """VPC, subnets, gateways, route tables, network ACLs, flow logs and VPC endpoints."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:network:Network", name, None, opts)
        cfg, account = args.config, args.account
        azs = cfg.azs(account.region)
        cidrs = cfg.subnet_cidrs(account.region)
        child = pulumi.ResourceOptions(parent=self)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cfg.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={**args.vpc_tags, "Name": f"{name}-vpc"},
            opts=child,
        )
        self.default_security_group = aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{name}-default-deny"},
            opts=child,
        )
        self.internet_gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": f"{name}-igw"}, opts=child
        )

        def subnets(tier: str) -> list[aws.ec2.Subnet]:
            return [
                aws.ec2.Subnet(
                    f"{name}-{tier}-{az}",
                    vpc_id=self.vpc.id,
                    availability_zone=az,
                    cidr_block=cidr,
                    # Nothing gets a public IP by launching: the ALB and NAT gateways bring their own.
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-{tier}-{az}", "tier": tier, **_subnet_role_tags(tier)},
                    opts=child,
                )
                for az, cidr in zip(azs, cidrs[tier], strict=True)
            ]

        self.public_subnets = subnets("public")
        self.private_subnets = subnets("private")
        self.isolated_subnets = subnets("isolated")

        # Public tier: one route table, default route to the internet gateway.
        self.public_route_table = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block=ANYWHERE, gateway_id=self.internet_gateway.id)],
            tags={"Name": f"{name}-public", "tier": "public"},
            opts=child,
        )
        for az, subnet in zip(azs, self.public_subnets, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{az}", subnet_id=subnet.id, route_table_id=self.public_route_table.id, opts=child
            )

        # NAT gateways: one per AZ in production; `single` puts one in the first AZ.
        nat_azs = azs if cfg.nat_gateways == "perAz" else azs[:1]
        self.nat_gateways: list[aws.ec2.NatGateway] = []
        for az, subnet in zip(nat_azs, self.public_subnets, strict=False):
            eip = aws.ec2.Eip(f"{name}-nat-eip-{az}", domain="vpc", tags={"Name": f"{name}-nat-{az}"}, opts=child)
            self.nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{az}",
                    allocation_id=eip.id,
                    subnet_id=subnet.id,
                    connectivity_type="public",
                    tags={"Name": f"{name}-nat-{az}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.internet_gateway]),
                )
            )

        # Private tier: a route table per AZ whose default route is that AZ's NAT gateway.
        self.private_route_tables: list[aws.ec2.RouteTable] = []
        for i, (az, subnet) in enumerate(zip(azs, self.private_subnets, strict=True)):
            nat = self.nat_gateways[i] if cfg.nat_gateways == "perAz" else self.nat_gateways[0]
            table = aws.ec2.RouteTable(
                f"{name}-private-rt-{az}",
                vpc_id=self.vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block=ANYWHERE, nat_gateway_id=nat.id)],
                tags={"Name": f"{name}-private-{az}", "tier": "private"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{az}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            self.private_route_tables.append(table)

        # Isolated tier: route tables with no routes beyond the VPC's local one.
        self.isolated_route_tables: list[aws.ec2.RouteTable] = []
        for az, subnet in zip(azs, self.isolated_subnets, strict=True):
            table = aws.ec2.RouteTable(
                f"{name}-isolated-rt-{az}",
                vpc_id=self.vpc.id,
                routes=[],
                tags={"Name": f"{name}-isolated-{az}", "tier": "isolated"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-isolated-rta-{az}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            self.isolated_route_tables.append(table)

        self.network_acls = {
            tier: aws.ec2.NetworkAcl(
                f"{name}-{tier}-nacl",
                vpc_id=self.vpc.id,
                subnet_ids=[s.id for s in getattr(self, f"{tier}_subnets")],
                ingress=rules["ingress"],
                egress=rules["egress"],
                tags={"Name": f"{name}-{tier}", "tier": tier},
                opts=child,
            )
            for tier, rules in network_acl_rules(cfg.vpc_cidr).items()
        }

        self._flow_logs(name, cfg, account)
        self._endpoints(name, cfg, account)

        self.vpc_id = self.vpc.id
        self.public_subnet_ids = [s.id for s in self.public_subnets]
        self.private_subnet_ids = [s.id for s in self.private_subnets]
        self.isolated_subnet_ids = [s.id for s in self.isolated_subnets]
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "vpcCidr": self.vpc.cidr_block,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
                "endpointSecurityGroupId": self.endpoint_security_group.id,
                "flowLogKeyArn": self.flow_log_key.arn,
            }
        )

    def _flow_logs(self, name: str, cfg: NetworkConfig, account: AwsAccount) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self.flow_log_key = EncryptionKey(
            f"{name}-flow-logs",
            EncryptionKeyArgs(description=f"{name} VPC flow logs", account=account, service_principals=("logs",)),
            opts=child,
        )
        self.flow_log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/golive/{name}/vpc-flow-logs",
            retention_in_days=cfg.flow_log_retention_days,
            kms_key_id=self.flow_log_key.arn,
            tags={"Name": f"{name}-flow-logs"},
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.flow_log_role = aws.iam.Role(
            f"{name}-flow-logs-role",
            description="Lets VPC Flow Logs write to this VPC's log group only.",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": f"vpc-flow-logs.{account.dns_suffix}"},
                            "Action": "sts:AssumeRole",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": account.account_id},
                                "ArnLike": {"aws:SourceArn": account.arn("ec2", "vpc-flow-log/*")},
                            },
                        }
                    ],
                }
            ),
            tags={"Name": f"{name}-flow-logs"},
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=self.flow_log_role.id,
            policy=self.flow_log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "WriteThisLogGroup",
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                "Resource": [arn, f"{arn}:*"],
                            },
                            # DescribeLogGroups is authorized on "*" only (it lists the account's groups).
                            {"Sid": "FindLogGroups", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
                        ],
                    }
                )
            ),
            opts=child,
        )
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=self.flow_log_role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{name}-flow-log"},
            opts=child,
        )

    def _endpoints(self, name: str, cfg: NetworkConfig, account: AwsAccount) -> None:
        """Private paths to AWS APIs: pulls from ECR and calls to STS never leave the VPC."""
        child = pulumi.ResourceOptions(parent=self)
        self.endpoint_security_group = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            description="HTTPS from inside the VPC to the interface endpoints",
            vpc_id=self.vpc.id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="HTTPS from the VPC",
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=[cfg.vpc_cidr],
                )
            ],
            egress=[],
            tags={"Name": f"{name}-endpoints"},
            opts=child,
        )
        service_prefix = f"com.{account.dns_suffix.split('.', 1)[0]}.{account.region}"
        self.s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=self.vpc.id,
            service_name=f"{service_prefix}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in [*self.private_route_tables, *self.isolated_route_tables]],
            tags={"Name": f"{name}-s3"},
            opts=child,
        )
        self.interface_endpoints = {
            service: aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"{service_prefix}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in self.private_subnets],
                security_group_ids=[self.endpoint_security_group.id],
                tags={"Name": f"{name}-{service}"},
                opts=child,
            )
            for service in cfg.interface_endpoints
        }


def _subnet_role_tags(tier: str) -> dict[str, str]:
    """Tags the AWS Load Balancer Controller uses to pick subnets."""
    if tier == "public":
        return {"kubernetes.io/role/elb": "1"}
    if tier == "private":
        return {"kubernetes.io/role/internal-elb": "1"}
    return {}


def network_acl_rules(vpc_cidr: str) -> dict[str, dict[str, list[aws.ec2.NetworkAclIngressArgs]]]:
    """Stateless rules per tier, a coarse second fence behind the security groups.

    public: HTTP(S) from anywhere, return traffic on ephemeral ports; private: anything
    from the VPC, return traffic for NAT egress; isolated: the VPC only, both ways.
    Return traffic from the internet is admitted on the ephemeral ports except the
    administration ports (:data:`ADMIN_PORTS`), so no rule opens RDP or SSH to
    0.0.0.0/0; a connection whose source port happens to be 3389 is dropped (one port
    of the NAT gateway's 64,512).
    """

    def rule(cls, no, action, cidr, protocol="-1", from_port=0, to_port=0):
        return cls(rule_no=no, action=action, cidr_block=cidr, protocol=protocol, from_port=from_port, to_port=to_port)

    ingress, egress = aws.ec2.NetworkAclIngressArgs, aws.ec2.NetworkAclEgressArgs
    return_traffic = [(protocol, start, end) for protocol in ("tcp", "udp") for start, end in ephemeral_ranges()]
    return {
        "public": {
            "ingress": [
                rule(ingress, 100, "allow", vpc_cidr),
                rule(ingress, 110, "allow", ANYWHERE, "tcp", 443, 443),
                rule(ingress, 120, "allow", ANYWHERE, "tcp", 80, 80),
                *(rule(ingress, 130 + i, "allow", ANYWHERE, protocol, start, end)
                  for i, (protocol, start, end) in enumerate(return_traffic)),
            ],
            "egress": [rule(egress, 100, "allow", ANYWHERE)],
        },
        "private": {
            "ingress": [
                rule(ingress, 100, "allow", vpc_cidr),
                *(rule(ingress, 110 + i, "allow", ANYWHERE, protocol, start, end)
                  for i, (protocol, start, end) in enumerate(return_traffic)),
            ],
            "egress": [rule(egress, 100, "allow", ANYWHERE)],
        },
        "isolated": {
            "ingress": [rule(ingress, 100, "allow", vpc_cidr)],
            "egress": [rule(egress, 100, "allow", vpc_cidr)],
        },
    }


def ephemeral_ranges() -> list[tuple[int, int]]:
    """The ephemeral port range (1024-65535) minus the administration ports, as inclusive ranges."""
    low, high = EPHEMERAL_PORTS
    ranges, start = [], low
    for port in sorted(p for p in ADMIN_PORTS if low <= p <= high):
        if start < port:
            ranges.append((start, port - 1))
        start = port + 1
    if start <= high:
        ranges.append((start, high))
    return ranges
