"""ElastiCache (``golive:cache``), for components/cache.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .database import _check_log_retention, _check_rotation_days, _check_window, windows_overlap
from .parser import NAMESPACE, Problem, _Ctx, cross_check, doc

if TYPE_CHECKING:
    from .stack import StackConfig


# Engine majors ElastiCache offers, per engine: the parameter group family follows the major.
_CACHE_MAJORS = {"redis": (7,), "valkey": (7, 8)}


@dataclass(frozen=True)
class CacheConfig:
    """ElastiCache Redis OSS or Valkey (``golive:cache``): a replication group with one node per AZ."""

    engine: Literal["redis", "valkey"] = doc("Cache engine: `redis` (Redis OSS 7.x) or `valkey` (7.2 or 8.x).", "redis")
    engine_version: str = doc("Engine version, `major.minor` (e.g. 7.1 for Redis OSS, 8.0 for Valkey).", "7.1")
    node_type: str = doc("ElastiCache node type.", "cache.t3.medium")
    num_nodes: int = doc(
        "Nodes (a primary and replicas, 1 to 6), placed round-robin over the AZs; in production one per AZ (at least 3, or all AZs if fewer).", 3
    )
    port: int = doc("Port of the cache.", 6379)
    snapshot_retention_days: int = doc("Days daily snapshots are kept (7 to 35).", 7)
    snapshot_window: str = doc("Daily snapshot window, UTC (`hh:mm-hh:mm`, at least 60 minutes).", "03:00-04:00")
    maintenance_window: str = doc(
        "Weekly maintenance window, UTC (`ddd:hh:mm-ddd:hh:mm`, at least 60 minutes, not overlapping the snapshot window).",
        "sun:05:00-sun:06:00",
    )
    maxmemory_policy: Literal[
        "volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random", "allkeys-random", "volatile-ttl", "noeviction"
    ] = doc("What the cache evicts when memory is full.", "volatile-lru")
    log_retention_days: int = doc("Retention of the slow-log and engine-log groups, in days (at least 30; 365 in production).", 365)
    auth_token_rotation_days: int = doc(
        "Days between rotations of the AUTH token (Secrets Manager, golive's rotation function); 1 to 90.", 30
    )

    MIN_SNAPSHOT_RETENTION, MAX_SNAPSHOT_RETENTION = 7, 35

    @property
    def major_version(self) -> int:
        return int(self.engine_version.split(".")[0])

    @property
    def parameter_group_family(self) -> str:
        return f"{self.engine}{self.major_version}"

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        majors = _CACHE_MAJORS[self.engine]
        if not re.fullmatch(r"\d+\.\d+", self.engine_version) or self.major_version not in majors:
            problems.append(Problem(f"{key}.engineVersion", self.engine_version,
                                    f"must be major.minor with a major ElastiCache offers for {self.engine}: "
                                    f"{', '.join(f'{m}.x' for m in majors)}"))
        if not re.fullmatch(r"cache\.[a-z0-9-]+\.[a-z0-9]+", self.node_type):
            problems.append(Problem(f"{key}.nodeType", self.node_type, "must be an ElastiCache node type such as cache.t3.medium"))
        if not 1 <= self.num_nodes <= 6:
            problems.append(Problem(f"{key}.numNodes", self.num_nodes, "must be between 1 and 6 (a primary and up to 5 replicas)"))
        elif ctx.production and self.num_nodes < 2:
            problems.append(Problem(f"{key}.numNodes", self.num_nodes,
                                    "a production cache needs at least 2 nodes (a primary and a replica in another AZ) for automatic failover"))
        if not 1024 <= self.port <= 65535:
            problems.append(Problem(f"{key}.port", self.port, "must be between 1024 and 65535"))
        if not self.MIN_SNAPSHOT_RETENTION <= self.snapshot_retention_days <= self.MAX_SNAPSHOT_RETENTION:
            problems.append(Problem(f"{key}.snapshotRetentionDays", self.snapshot_retention_days,
                                    f"must be between {self.MIN_SNAPSHOT_RETENTION} and {self.MAX_SNAPSHOT_RETENTION} days "
                                    "(a week of daily snapshots at least)"))
        snapshot_ok = _check_window(f"{key}.snapshotWindow", self.snapshot_window, False, 60, problems)
        maintenance_ok = _check_window(f"{key}.maintenanceWindow", self.maintenance_window, True, 60, problems)
        if snapshot_ok and maintenance_ok and windows_overlap(self.snapshot_window, self.maintenance_window):
            problems.append(Problem(f"{key}.maintenanceWindow", self.maintenance_window,
                                    f"overlaps the snapshot window {self.snapshot_window} (UTC); ElastiCache rejects overlapping windows"))
        _check_log_retention(f"{key}.logRetentionDays", self.log_retention_days, 30, ctx, problems)
        _check_rotation_days(f"{key}.authTokenRotationDays", self.auth_token_rotation_days, problems)


@cross_check
def _cache_node_per_az(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """Production spreads the cache over (up to) three AZs, so losing one still leaves a replica to promote."""
    wanted = min(len(config.network.azs(config.region)), 3)
    if ctx.production and 2 <= config.cache.num_nodes < wanted:
        problems.append(Problem(f"{NAMESPACE}:cache.numNodes", config.cache.num_nodes,
                                f"a production cache keeps one node in each of {wanted} availability zones; use at least {wanted}"))
