"""The whole stack's settings: every section under ``golive:``, and the account they deploy to."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .account import SingletonsConfig
from .backup import BackupConfig, DrConfig
from .cache import CacheConfig
from .cluster import ClusterConfig
from .database import DatabaseConfig
from .delivery import DeliveryConfig
from .edge import EdgeConfig
from .game_days import GameDaysConfig
from .monitoring import MonitoringConfig
from .network import NetworkConfig
from .parser import CROSS_CHECKS, NAMESPACE, Problem, _Ctx, doc
from .regions import check_region, partition_of
from .restore_testing import RestoreTestingConfig
from .security import SecurityConfig
from .services import ServiceConfig


@dataclass(frozen=True)
class AwsAccount:
    """Where resources live, for ARNs and key policies without an AWS lookup."""

    account_id: str
    region: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if regional else ''}:{self.account_id}:{resource}"

    @property
    def root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    @property
    def dns_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"


@dataclass(frozen=True)
class StackConfig:
    """Everything under ``golive:`` for one stack."""

    environment: Literal["production", "staging", "development"] = doc(
        "Stack class; `production` turns on the go-live rules (3 AZs, NAT per AZ, …).", "production"
    )
    phase: Literal["infrastructure", "all"] = doc(
        "What the program declares. `infrastructure`: every AWS resource that needs no Kubernetes API (the first `up` of "
        "a new stack, from anywhere: the private API endpoint is not reachable yet). `all`: everything, run from the admin "
        "VPN or a deployer inside the VPC. See the README's first deploy.", "all")
    region: str = doc("AWS region of the stack (the explicit provider's region): a region of golive's region table "
                      "(AWS_REGIONS); `aws:region`, if the stack sets it, must be the same.", "eu-west-1")
    account_id: str = doc("AWS account id the stack deploys to (used for ARNs; no lookup at preview).", "123456789012")
    owner: str = doc("Team owning the stack: the `owner` tag.", "platform-team")
    cost_center: str = doc("Cost center: the `cost-center` tag.", "platform")
    network: NetworkConfig = doc("VPC, subnets, NAT, flow logs, endpoints.", default_factory=NetworkConfig)
    services: tuple[ServiceConfig, ...] = doc("The service catalog: each service's place on the platform.", ())
    cluster: ClusterConfig = doc("EKS cluster and its baseline.", default_factory=ClusterConfig)
    database: DatabaseConfig = doc("RDS PostgreSQL.", default_factory=DatabaseConfig)
    cache: CacheConfig = doc("ElastiCache.", default_factory=CacheConfig)
    edge: EdgeConfig = doc("Load balancer, certificate, WAF, DNS.", default_factory=EdgeConfig)
    security: SecurityConfig = doc("Account security baseline and admin VPN.", default_factory=SecurityConfig)
    monitoring: MonitoringConfig = doc("Monitoring stack.", default_factory=MonitoringConfig)
    dr: DrConfig = doc("Disaster recovery.", default_factory=DrConfig)
    backup: BackupConfig = doc("Backups.", default_factory=BackupConfig)
    delivery: DeliveryConfig = doc("Progressive delivery.", default_factory=DeliveryConfig)
    restore_testing: RestoreTestingConfig = doc("Restore tests of the backups.", default_factory=RestoreTestingConfig)
    game_days: GameDaysConfig = doc("Fault-injection experiment templates.", default_factory=GameDaysConfig)
    singletons: SingletonsConfig = doc("Account-wide singletons: create, adopt or skip each.", default_factory=SingletonsConfig)

    @property
    def kubernetes(self) -> bool:
        """Whether this phase declares the in-cluster half (everything behind the private Kubernetes API)."""
        return self.phase == "all"

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def partition(self) -> str:
        return partition_of(self.region) or "aws"

    @property
    def aws(self) -> AwsAccount:
        return AwsAccount(self.account_id, self.region, self.partition)

    @property
    def default_tags(self) -> dict[str, str]:
        return {
            "environment": self.environment,
            "project": NAMESPACE,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
        }

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        check_region(f"{NAMESPACE}:region", self.region, problems)
        if not re.fullmatch(r"\d{12}", self.account_id):
            problems.append(Problem(f"{NAMESPACE}:accountId", self.account_id, "must be a 12-digit AWS account id"))
        for name, value in (("owner", self.owner), ("costCenter", self.cost_center)):
            if not re.fullmatch(r"[A-Za-z0-9 _.:/=+\-@]{1,256}", value):
                problems.append(Problem(f"{NAMESPACE}:{name}", value, "must be a valid AWS tag value (1-256 characters)"))
        for rule in CROSS_CHECKS:
            rule(self, ctx, problems)


@dataclass(frozen=True)
class Secrets:
    """Secret config values; each is a secret ``pulumi.Output`` or None when unset."""

    values: Mapping[str, Any]

    def get(self, key: str) -> Any:
        return self.values.get(key)
