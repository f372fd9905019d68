"""Restore tests of the backups (``golive:restoreTesting``), for components/restore_testing.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .parser import Problem, _Ctx, doc

_RESTORE_SCHEDULE = re.compile(r"cron\(\S+ \S+ \S+ \S+ \S+ \S+\)|rate\([1-9]\d* (minutes?|hours?|days?)\)")
_ISO_DATE = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
RESTORE_TESTED_TYPES = ("RDS", "EBS")
"""AWS Backup protected-resource types the platform backs up and restore-tests: the database and the tagged volumes."""


@dataclass(frozen=True)
class RestoreMeasurement:
    """One restore the restore-testing plan measured (``golive:restoreTesting.measurements[i]``)."""

    resource_type: Literal["RDS", "EBS"] = doc("AWS Backup resource type of the restore: `RDS` (the database) or `EBS` (the volumes).")
    restore_minutes: int = doc("Minutes from the restore job's creation to its completion (`CompletionDate - CreationDate`).")
    measured_on: str = doc("Day of the restore job, `YYYY-MM-DD` (UTC).")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if self.restore_minutes < 1:
            problems.append(Problem(f"{key}.restoreMinutes", self.restore_minutes, "must be at least 1 minute"))
        if not _ISO_DATE.fullmatch(self.measured_on):
            problems.append(Problem(f"{key}.measuredOn", self.measured_on, "must be a date written YYYY-MM-DD"))


@dataclass(frozen=True)
class RestoreTestingConfig:
    """AWS Backup restore testing (``golive:restoreTesting``): the database and the tagged volumes restored on a schedule."""

    enabled: bool = doc("Declare the restore-testing plan; production requires it (policy backup-restore-tested).", True)
    schedule: str = doc("When restores are tested (UTC): an AWS cron(...) with six fields or rate(...). Default: Saturdays 05:00, "
                        "three hours after the daily backup.", "cron(0 5 ? * SAT *)")
    start_window_hours: int = doc("Hours a scheduled restore test may wait to start, 1-168.", 4)
    selection_window_days: int = doc("Only recovery points of the last N days are restored (the newest of them), 1-365.", 7)
    validation_window_hours: int = doc(
        "Hours the restored copy is kept for validation before AWS Backup deletes it, 1-168.", 4)
    rto_minutes: int = doc("The recovery time objective: an alert fires when a restore runs longer.", 60)
    switchover_minutes: int = doc(
        "Minutes a real recovery adds after the restore (repointing the services, checks): the implied RTO is the measured "
        "restore plus this.", 15)
    expected_every_days: int = doc("An alert fires when no restore completed for this many days plus one (the schedule's period).", 7)
    measurements: tuple[RestoreMeasurement, ...] = doc(
        "The last measured restore of each resource type (from `aws backup list-restore-jobs`, docs/disaster-recovery.md); the "
        "readiness report derives the RTO they imply.", ())

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if ctx.production and not self.enabled:
            problems.append(Problem(f"{key}.enabled", self.enabled, "production restore-tests every backed-up data store "
                                    "(policy backup-restore-tested): a backup nobody restored is a hope, not a recovery"))
        if not _RESTORE_SCHEDULE.fullmatch(self.schedule):
            problems.append(Problem(f"{key}.schedule", self.schedule, "must be an AWS cron expression with six fields, e.g. "
                                    "cron(0 5 ? * SAT *), or rate(7 days)"))
        for name, value, low, high in (("startWindowHours", self.start_window_hours, 1, 168),
                                       ("selectionWindowDays", self.selection_window_days, 1, 365),
                                       ("validationWindowHours", self.validation_window_hours, 1, 168)):
            if not low <= value <= high:
                problems.append(Problem(f"{key}.{name}", value, f"must be from {low} to {high} (AWS Backup's range)"))
        if self.rto_minutes < 1:
            problems.append(Problem(f"{key}.rtoMinutes", self.rto_minutes, "must be at least 1 minute"))
        if self.switchover_minutes < 0:
            problems.append(Problem(f"{key}.switchoverMinutes", self.switchover_minutes, "must not be negative"))
        if self.rto_minutes >= 1 and self.switchover_minutes >= self.rto_minutes:
            problems.append(Problem(f"{key}.switchoverMinutes", self.switchover_minutes,
                                    f"must be below rtoMinutes ({self.rto_minutes}): no restore could then meet the RTO"))
        if not 1 <= self.expected_every_days <= 13:
            problems.append(Problem(f"{key}.expectedEveryDays", self.expected_every_days,
                                    "must be from 1 to 13 (the alert looks back this many days plus one; Prometheus keeps 15)"))
        seen: dict[str, int] = {}
        for i, measurement in enumerate(self.measurements):
            if measurement.resource_type in seen:
                problems.append(Problem(f"{key}.measurements[{i}].resourceType", measurement.resource_type,
                                        f"duplicates measurements[{seen[measurement.resource_type]}]: keep the last measured restore only"))
            seen.setdefault(measurement.resource_type, i)

    def measurement(self, resource_type: str) -> RestoreMeasurement | None:
        return next((m for m in self.measurements if m.resource_type == resource_type), None)

    def implied_rto_minutes(self, resource_type: str) -> int | None:
        """The RTO the last measured restore of ``resource_type`` implies: the restore plus the switch-over."""
        measured = self.measurement(resource_type)
        return None if measured is None else measured.restore_minutes + self.switchover_minutes
