"""Fault-injection experiment templates (``golive:gameDays``), for components/game_days.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .parser import NAMESPACE, Problem, _check_retention, _Ctx, cross_check, doc

if TYPE_CHECKING:
    from .network import NetworkConfig
    from .services import ServiceConfig
    from .stack import StackConfig


@dataclass(frozen=True)
class GameDaysConfig:
    """AWS FIS experiment templates for the failures the platform claims to survive (``golive:gameDays``, docs/game-days.md)."""

    enabled: bool = doc("Declare the experiment templates (they do nothing until someone starts an experiment).", True)
    zone: str = doc("The Availability Zone the zonal experiments impair; empty: the first of golive:network.availabilityZones "
                    "(where the cache primary is placed).", "")
    cache_interruption_minutes: int = doc("How long the cache primary's zone loses power, 1-720 minutes.", 10)
    network_disruption_minutes: int = doc("How long the zone's subnets lose connectivity, 1-720 minutes.", 10)
    database_failover_seconds: int = doc("The claim the database experiment tests: Multi-AZ failover completes within this.", 120)
    cache_failover_seconds: int = doc("The claim the cache experiment tests: a replica is promoted within this.", 60)
    stop_5xx_percent: float = doc("Stop condition: the load balancer's 5xx responses exceed this percent of requests for "
                                  "stopEvaluationMinutes.", 5.0)
    stop_latency_seconds: float = doc("Stop condition: the targets' p95 response time exceeds this for stopEvaluationMinutes; "
                                      "0: the catalog's smallest latency SLO threshold.", 0.0)
    stop_evaluation_minutes: int = doc("Consecutive minutes the ALB alarms must breach before an experiment stops, 1-10.", 3)
    unavailable_minutes: int = doc("Stop condition: the database has no connection, or the cache no primary, for this many "
                                   "minutes (beyond any failover budget), 1-30.", 5)
    log_retention_days: int = doc("Retention of the experiments' (KMS-encrypted) log group, days.", 365)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for name, value in (("cacheInterruptionMinutes", self.cache_interruption_minutes),
                            ("networkDisruptionMinutes", self.network_disruption_minutes)):
            if not 1 <= value <= 720:
                problems.append(Problem(f"{key}.{name}", value, "must be from 1 to 720 minutes (FIS: PT1M to PT12H)"))
        for name, value in (("databaseFailoverSeconds", self.database_failover_seconds),
                            ("cacheFailoverSeconds", self.cache_failover_seconds)):
            if value < 1:
                problems.append(Problem(f"{key}.{name}", value, "must be at least 1 second"))
        if not 0 < self.stop_5xx_percent < 100:
            problems.append(Problem(f"{key}.stop5xxPercent", self.stop_5xx_percent, "must be a percentage strictly between 0 and 100"))
        if self.stop_latency_seconds < 0:
            problems.append(Problem(f"{key}.stopLatencySeconds", self.stop_latency_seconds, "must not be negative (0: from the catalog)"))
        if not 1 <= self.stop_evaluation_minutes <= 10:
            problems.append(Problem(f"{key}.stopEvaluationMinutes", self.stop_evaluation_minutes, "must be from 1 to 10 minutes"))
        if not 1 <= self.unavailable_minutes <= 30:
            problems.append(Problem(f"{key}.unavailableMinutes", self.unavailable_minutes, "must be from 1 to 30 minutes"))
        _check_retention(f"{key}.logRetentionDays", self.log_retention_days, 90, ctx, problems)

    def impaired_zone(self, network: NetworkConfig, region: str) -> str:
        return self.zone or network.azs(region)[0]

    def latency_stop_seconds(self, services: Sequence[ServiceConfig]) -> float:
        thresholds = [s.slo.latency_threshold_seconds for s in services if s.host]
        return self.stop_latency_seconds or (min(thresholds) if thresholds else 1.0)


@cross_check
def _game_day_zone_in_network(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """A zonal experiment aimed at a zone the VPC does not use would impair nothing (and prove nothing)."""
    zone, zones = config.game_days.zone, config.network.azs(config.region)
    if zone and zone not in zones:
        problems.append(Problem(f"{NAMESPACE}:gameDays.zone", zone, f"must be one of golive:network.availabilityZones ({', '.join(zones)})"))
