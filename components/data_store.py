"""What every data store in the isolated tier shares: its security group.

A database or cache admits its port only from the client security group (the
cluster's nodes) and sends traffic nowhere beyond the VPC. Both the Database and
the Cache components declare theirs through this one function, so the rule the
``security-group-data-tier-referenced-only`` policy checks is written once.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

ROLE_TAG = "golive:role"
"""Tag naming a security group's role; policies find data-tier and load-balancer groups by it."""


def data_store_security_group(
    name: str,
    *,
    what: str,
    protocol_note: str = "",
    role: str,
    port: int,
    vpc_id: pulumi.Input[str],
    vpc_cidr: pulumi.Input[str],
    client_security_group_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.ec2.SecurityGroup:
    """``<name>-sg``: ``port`` from the client group only; egress within the VPC only.

    ``what`` names the service in both descriptions, ``protocol_note`` (e.g. `` (TLS)``)
    only in the rule's; a group's description is immutable in EC2, so it stays short.
    """
    return aws.ec2.SecurityGroup(
        f"{name}-sg",
        description=f"{name}: {what} from the cluster nodes only",
        vpc_id=vpc_id,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                description=f"{what}{protocol_note} from the client security group",
                protocol="tcp",
                from_port=port,
                to_port=port,
                security_groups=[client_security_group_id],
            )
        ],
        egress=[
            aws.ec2.SecurityGroupEgressArgs(
                description="Within the VPC only", protocol="-1", from_port=0, to_port=0, cidr_blocks=[vpc_cidr]
            )
        ],
        tags={"Name": f"{name}-sg", ROLE_TAG: role},
        opts=opts,
    )
