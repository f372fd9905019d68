"""Service-linked roles that must exist before the resources that use them.

AWS creates most service-linked roles itself on first use (EKS, RDS, ELB, Client VPN,
GuardDuty, Security Hub). Three cannot wait for that in a new account:

- ``AWSServiceRoleForAutoScaling``: the node volume key's grant names it, and KMS
  rejects a grant to a principal that does not exist; the role would only appear with
  the first Auto Scaling group, which the node group creates after the grant.
- ``AWSServiceRoleForAmazonOpenSearchService``: a domain in a VPC manages its network
  interfaces with it, and the domain API does not create it.
- ``AWSServiceRoleForConfig``: the AWS Config recorder records with it.

Each is an account singleton (``golive:singletons.<key>Role``): ``create`` declares it,
``adopt`` declares it from the ``all`` phase on (after ``pulumi import``) and keeps it
when the stack is destroyed, ``skip`` leaves it to whoever manages it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import SERVICE_LINKED_ROLES, AwsAccount, SingletonConfig, SingletonsConfig


def singleton_of(singletons: SingletonsConfig, key: str) -> SingletonConfig:
    """The singleton setting of the service-linked role ``key``."""
    return getattr(singletons, f"{key}_role")


def declared_now(singleton: SingletonConfig, kubernetes_phase: bool) -> bool:
    """Created singletons are declared from the first phase; adopted ones once imported (the all phase)."""
    return singleton.mode == "create" or (singleton.mode == "adopt" and kubernetes_phase)


def role_arn(account: AwsAccount, key: str) -> str:
    """The role's ARN, fixed by AWS: nothing needs to be looked up."""
    service, role = SERVICE_LINKED_ROLES[key]
    return f"arn:{account.partition}:iam::{account.account_id}:role/aws-service-role/{service}.{account.dns_suffix}/{role}"


@dataclass(frozen=True)
class ServiceLinkedRolesArgs:
    singletons: SingletonsConfig
    account: AwsAccount
    kubernetes_phase: bool
    """The stack is in its ``all`` phase (adopted roles are declared from then on)."""


class ServiceLinkedRoles(pulumi.ComponentResource):
    """The service-linked roles of :data:`SERVICE_LINKED_ROLES` that this stack creates or adopts."""

    def __init__(self, name: str, args: ServiceLinkedRolesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:security:ServiceLinkedRoles", name, None, opts)
        self._account = args.account
        self.roles: dict[str, aws.iam.ServiceLinkedRole] = {}
        # The Config role serves the stack's own recorder only.
        needed = [k for k in SERVICE_LINKED_ROLES if k != "config" or args.singletons.config_recorder.declared]
        for key in needed:
            singleton = singleton_of(args.singletons, key)
            if not declared_now(singleton, args.kubernetes_phase):
                continue
            service, _ = SERVICE_LINKED_ROLES[key]
            self.roles[key] = aws.iam.ServiceLinkedRole(
                f"{name}-{key}",
                aws_service_name=f"{service}.{args.account.dns_suffix}",
                # An adopted role predates the stack and other stacks may rely on it: destroying this one keeps it.
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=singleton.mode == "adopt"),
            )
        self.register_outputs({f"{key}RoleArn": role.arn for key, role in self.roles.items()})

    def arn(self, key: str) -> str:
        return role_arn(self._account, key)

    def dependencies(self, key: str) -> list[pulumi.Resource]:
        """What a resource using role ``key`` must wait for: the role, when this stack declares it."""
        return [self.roles[key]] if key in self.roles else []
