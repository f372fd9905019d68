"""RDS PostgreSQL (``golive:database``), for components/database.py, and the UTC windows both data stores use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .parser import LOG_RETENTION_DAYS, PRODUCTION_LOG_RETENTION_DAYS, Problem, _Ctx, doc

_WEEK_MINUTES = 7 * 24 * 60
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAILY_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
_WEEKLY_WINDOW = re.compile(r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)")


def window_intervals(window: str) -> tuple[tuple[int, int], ...]:
    """A daily ``hh:mm-hh:mm`` or weekly ``ddd:hh:mm-ddd:hh:mm`` window (UTC) as minute-of-week spans.

    Each span is ``[start, end)`` with ``end > start`` (it may run past the week's end,
    as ``sun:23:30-mon:00:30`` does); a daily window yields one span per day.
    Raises ``ValueError`` for any other format.
    """
    daily = _DAILY_WINDOW.fullmatch(window)
    if daily:
        h1, m1, h2, m2 = (int(g) for g in daily.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        end += 24 * 60 if end <= start else 0
        return tuple((day * 1440 + start, day * 1440 + end) for day in range(7))
    weekly = _WEEKLY_WINDOW.fullmatch(window)
    if weekly:
        d1, h1, m1, d2, h2, m2 = weekly.groups()
        start = _DAY_NAMES.index(d1) * 1440 + int(h1) * 60 + int(m1)
        end = _DAY_NAMES.index(d2) * 1440 + int(h2) * 60 + int(m2)
        end += _WEEK_MINUTES if end <= start else 0
        return ((start, end),)
    raise ValueError(f"not a window: {window!r}")


def window_minutes(window: str) -> int:
    """Length of one occurrence of the window, in minutes."""
    start, end = window_intervals(window)[0]
    return end - start


def windows_overlap(a: str, b: str) -> bool:
    """Whether two windows (daily or weekly, UTC) share any minute; touching ends do not overlap."""
    return any(
        a_start < b_end + shift and b_start + shift < a_end
        for a_start, a_end in window_intervals(a)
        for b_start, b_end in window_intervals(b)
        for shift in (-_WEEK_MINUTES, 0, _WEEK_MINUTES)
    )


def _check_window(key: str, value: str, weekly: bool, min_minutes: int, problems: list[Problem]) -> bool:
    pattern, example = (_WEEKLY_WINDOW, "sun:04:00-sun:05:00") if weekly else (_DAILY_WINDOW, "02:00-03:00")
    if not pattern.fullmatch(value):
        problems.append(Problem(key, value, f"must be a {'weekly' if weekly else 'daily'} UTC window like {example!r}"))
        return False
    if window_minutes(value) < min_minutes:
        problems.append(Problem(key, value, f"must last at least {min_minutes} minutes"))
        return False
    if window_minutes(value) > 24 * 60:
        problems.append(Problem(key, value, "must last at most 24 hours"))
        return False
    return True


# Secrets rotate at least this often (policy secretsmanager-secret-rotation, FSBP SecretsManager.4).
MAX_ROTATION_DAYS = 90


def _check_rotation_days(key: str, value: int, problems: list[Problem]) -> None:
    if not 1 <= value <= MAX_ROTATION_DAYS:
        problems.append(Problem(key, value, f"must be 1 to {MAX_ROTATION_DAYS} days (policy secretsmanager-secret-rotation)"))


def _check_log_retention(key: str, value: int, minimum: int, ctx: _Ctx, problems: list[Problem]) -> None:
    if value not in LOG_RETENTION_DAYS:
        problems.append(Problem(key, value, f"must be a CloudWatch retention value: {', '.join(map(str, LOG_RETENTION_DAYS))}"))
    elif value < minimum:
        problems.append(Problem(key, value, f"keep database and cache logs at least {minimum} days"))
    elif ctx.production and value < PRODUCTION_LOG_RETENTION_DAYS:
        problems.append(Problem(key, value, f"production keeps database and cache logs at least {PRODUCTION_LOG_RETENTION_DAYS} days"))


# Classes without Performance Insights support (it is on for every instance).
_NO_PERFORMANCE_INSIGHTS = re.compile(r"db\.t[234]g?\.(micro|small)")


@dataclass(frozen=True)
class DatabaseConfig:
    """RDS PostgreSQL (``golive:database``): Multi-AZ, encrypted, backed up; these are its knobs."""

    engine_version: str = doc(
        "PostgreSQL version: a major (`17`, auto minor upgrades pick the minor) or `major.minor`; 13 or later.", "17"
    )
    instance_class: str = doc("RDS instance class (Performance Insights needs medium or larger).", "db.t3.medium")
    allocated_storage_gb: int = doc("Initial gp3 storage in GiB (20 to 65536).", 100)
    max_allocated_storage_gb: int = doc("Ceiling of storage autoscaling in GiB; above allocatedStorageGb.", 500)
    database_name: str = doc("Name of the database created with the instance.", "golive")
    master_username: str = doc(
        "Master user name. Its password is never in config: RDS generates it and keeps it in Secrets Manager.", "golive_admin"
    )
    port: int = doc("PostgreSQL port.", 5432)
    backup_retention_days: int = doc(
        "Days of automated backups, so of point-in-time recovery (7 to 35; at least 30 in production). AWS Backup's continuous "
        "rule manages the same retention (the instance is tagged backup=true): in production it must equal "
        "golive:backup.continuousRetentionDays (35 by default).",
        35,
    )
    backup_window: str = doc(
        "Daily backup window, UTC (`hh:mm-hh:mm`, at least 30 minutes); apart from the start window of the AWS Backup "
        "plan (golive:backup.schedule, 02:00 by default), so RDS's own snapshot and AWS Backup's never run at once.",
        "00:00-01:00",
    )
    maintenance_window: str = doc(
        "Weekly maintenance window, UTC (`ddd:hh:mm-ddd:hh:mm`, at least 30 minutes, not overlapping the backup window).",
        "sun:04:00-sun:05:00",
    )
    read_replicas: int = doc("Read replicas (0 to 5), each Multi-AZ and encrypted like the primary.", 0)
    slow_statement_ms: int = doc("Statements slower than this are logged (log_min_duration_statement), in ms.", 1000)
    performance_insights_retention_days: int = doc("Performance Insights retention: 7 (free), 731, or a multiple of 31.", 7)
    monitoring_interval_seconds: int = doc("Enhanced monitoring interval: 1, 5, 10, 15, 30 or 60 seconds.", 60)
    log_retention_days: int = doc("Retention of the PostgreSQL and upgrade log groups, in days (at least 30; 365 in production).", 365)

    MIN_BACKUP_RETENTION, MAX_BACKUP_RETENTION = 7, 35
    MIN_PRODUCTION_BACKUP_RETENTION = 30  # policy rds-backup-retention's minRetentionDays
    MIN_MAJOR_VERSION = 13

    @property
    def major_version(self) -> int:
        return int(self.engine_version.split(".")[0])

    @property
    def parameter_group_family(self) -> str:
        return f"postgres{self.major_version}"

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not re.fullmatch(r"\d+(\.\d+)?", self.engine_version):
            problems.append(Problem(f"{key}.engineVersion", self.engine_version, "must be a PostgreSQL version such as 17 or 16.4"))
        elif self.major_version < self.MIN_MAJOR_VERSION:
            problems.append(Problem(f"{key}.engineVersion", self.engine_version,
                                    f"must be PostgreSQL {self.MIN_MAJOR_VERSION} or later (older majors are out of RDS standard support)"))
        if not re.fullmatch(r"db\.[a-z0-9-]+\.[a-z0-9]+", self.instance_class):
            problems.append(Problem(f"{key}.instanceClass", self.instance_class, "must be an RDS instance class such as db.t3.medium"))
        elif _NO_PERFORMANCE_INSIGHTS.fullmatch(self.instance_class):
            problems.append(Problem(f"{key}.instanceClass", self.instance_class,
                                    "has no Performance Insights; use a medium or larger class"))
        if not 20 <= self.allocated_storage_gb <= 65536:
            problems.append(Problem(f"{key}.allocatedStorageGb", self.allocated_storage_gb, "must be between 20 and 65536 GiB"))
        if not self.allocated_storage_gb < self.max_allocated_storage_gb <= 65536:
            problems.append(Problem(f"{key}.maxAllocatedStorageGb", self.max_allocated_storage_gb,
                                    f"must be above allocatedStorageGb ({self.allocated_storage_gb}) and at most 65536, "
                                    "or storage autoscaling is off"))
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", self.database_name):
            problems.append(Problem(f"{key}.databaseName", self.database_name,
                                    "must start with a letter and hold only letters, digits and underscores (at most 63)"))
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", self.master_username) or self.master_username in ("postgres", "rdsadmin", "admin"):
            problems.append(Problem(f"{key}.masterUsername", self.master_username,
                                    "must be lowercase letters, digits and underscores, start with a letter, and not be a reserved name"))
        if not 1150 <= self.port <= 65535:
            problems.append(Problem(f"{key}.port", self.port, "must be between 1150 and 65535 (RDS)"))
        if self.backup_retention_days < self.MIN_BACKUP_RETENTION:
            problems.append(Problem(f"{key}.backupRetentionDays", self.backup_retention_days,
                                    f"must be at least {self.MIN_BACKUP_RETENTION} days so point-in-time recovery reaches back a week"))
        elif ctx.production and self.backup_retention_days < self.MIN_PRODUCTION_BACKUP_RETENTION:
            problems.append(Problem(f"{key}.backupRetentionDays", self.backup_retention_days,
                                    f"production keeps point-in-time recovery at least {self.MIN_PRODUCTION_BACKUP_RETENTION} days "
                                    "(policy rds-backup-retention); the default, 35, equals golive:backup.continuousRetentionDays"))
        elif self.backup_retention_days > self.MAX_BACKUP_RETENTION:
            problems.append(Problem(f"{key}.backupRetentionDays", self.backup_retention_days,
                                    f"RDS keeps automated backups at most {self.MAX_BACKUP_RETENTION} days; use AWS Backup for longer"))
        backup_ok = _check_window(f"{key}.backupWindow", self.backup_window, False, 30, problems)
        maintenance_ok = _check_window(f"{key}.maintenanceWindow", self.maintenance_window, True, 30, problems)
        if backup_ok and maintenance_ok and windows_overlap(self.backup_window, self.maintenance_window):
            problems.append(Problem(f"{key}.maintenanceWindow", self.maintenance_window,
                                    f"overlaps the backup window {self.backup_window} (UTC); RDS rejects overlapping windows"))
        if not 0 <= self.read_replicas <= 5:
            problems.append(Problem(f"{key}.readReplicas", self.read_replicas, "must be between 0 and 5"))
        if self.slow_statement_ms <= 0:
            problems.append(Problem(f"{key}.slowStatementMs", self.slow_statement_ms, "must be positive (0 would log every statement)"))
        pi = self.performance_insights_retention_days
        if not (pi in (7, 731) or (pi > 0 and pi % 31 == 0 and pi <= 713)):
            problems.append(Problem(f"{key}.performanceInsightsRetentionDays", pi, "must be 7, 731, or a multiple of 31 up to 713"))
        if self.monitoring_interval_seconds not in (1, 5, 10, 15, 30, 60):
            problems.append(Problem(f"{key}.monitoringIntervalSeconds", self.monitoring_interval_seconds,
                                    "must be 1, 5, 10, 15, 30 or 60 (enhanced monitoring stays on)"))
        _check_log_retention(f"{key}.logRetentionDays", self.log_retention_days, 30, ctx, problems)
