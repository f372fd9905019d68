"""The phase and the account-wide singletons (``golive:phase``, ``golive:singletons``), for components/service_roles.py and security.py."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .parser import _MISSING, NAMESPACE, Problem, _Ctx, _shown, cross_check, doc

if TYPE_CHECKING:
    from .stack import StackConfig


PHASES = ("infrastructure", "all")

# The service-linked roles the stack declares, by golive:singletons key (`<key>Role`):
# the service principal's prefix (the partition's DNS suffix follows) and the role's name, both fixed by AWS.
SERVICE_LINKED_ROLES: dict[str, tuple[str, str]] = {
    "autoscaling": ("autoscaling", "AWSServiceRoleForAutoScaling"),
    "opensearch": ("opensearchservice", "AWSServiceRoleForAmazonOpenSearchService"),
    "config": ("config", "AWSServiceRoleForConfig"),
}
_TAG_VALUE = re.compile(r"[\w .:/=+\-@]{1,256}")


@dataclass(frozen=True)
class SingletonConfig:
    """What the stack does about one account-wide singleton (``golive:singletons.<name>``)."""

    mode: Literal["create", "adopt", "skip"] = doc(
        "`create` (the stack creates it; the first `up` fails if it exists), `adopt` (it exists: import it with the "
        "`pulumi import` commands `golive preflight` prints, between the infrastructure and the all phase) or `skip` "
        "(managed outside this stack, e.g. by the organization; needs a reason).", "create")
    reason: str = doc("Why the stack skips it (required with `skip`); the readiness report shows it. An AWS tag value: "
                      "letters, digits, spaces and _ . : / = + - @.", "")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if self.mode == "skip" and not self.reason.strip():
            problems.append(Problem(f"{key}.reason", _MISSING, "a skipped singleton needs a reason (who manages it instead)"))
        elif self.reason and self.mode != "skip":
            problems.append(Problem(f"{key}.reason", self.reason, f"only applies with mode skip (the mode is {self.mode})"))
        elif self.reason and not _TAG_VALUE.fullmatch(self.reason):
            problems.append(Problem(f"{key}.reason", _shown(self.reason), "must be a valid AWS tag value (1-256 letters, "
                                    "digits, spaces and _ . : / = + - @): it is recorded as the exemption's reason"))

    @property
    def declared(self) -> bool:
        """Whether the stack declares the resource at all (in the all phase)."""
        return self.mode != "skip"


@dataclass(frozen=True)
class SingletonsConfig:
    """Account-wide singletons that many accounts already have (``golive:singletons``).

    Organizations often enable GuardDuty, Security Hub and AWS Config centrally, and a
    service-linked role exists once any resource of its service was ever created: creating
    one again fails the `up`. `python -m golive preflight` says which exist.
    """

    guardduty_detector: SingletonConfig = doc("The region's GuardDuty detector (and its features).", default_factory=SingletonConfig)
    security_hub: SingletonConfig = doc("The region's Security Hub subscription (and its standards).", default_factory=SingletonConfig)
    config_recorder: SingletonConfig = doc(
        "The region's AWS Config recorder, delivery channel and recorder status.", default_factory=SingletonConfig)
    autoscaling_role: SingletonConfig = doc(
        "AWSServiceRoleForAutoScaling: the node volumes' key grant names it, so it must exist before the node group.",
        default_factory=SingletonConfig)
    opensearch_role: SingletonConfig = doc(
        "AWSServiceRoleForAmazonOpenSearchService: a VPC domain needs it before it is created.", default_factory=SingletonConfig)
    config_role: SingletonConfig = doc("AWSServiceRoleForConfig: the AWS Config recorder records with it.", default_factory=SingletonConfig)


@cross_check
def _deployers_inside_the_vpc(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """The private subnets' route tables hold the VPC's routes only: a deployer CIDR outside it is never reached."""
    try:
        vpc = ipaddress.IPv4Network(config.network.vpc_cidr)
    except ValueError:
        return
    for i, cidr in enumerate(config.cluster.deployer_cidrs):
        try:
            net = ipaddress.IPv4Network(cidr)
        except ValueError:
            continue  # reported by the cluster section
        if not net.subnet_of(vpc):
            problems.append(Problem(f"{NAMESPACE}:cluster.deployerCidrs[{i}]", cidr, f"must lie inside the VPC CIDR {vpc}: "
                                    "nothing routes other sources to the private API endpoint (use the admin VPN)"))
