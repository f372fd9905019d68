"""Backups and the DR region (``golive:backup``, ``golive:dr``), for components/backup.py and backup_plan.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .database import windows_overlap
from .parser import NAMESPACE, Problem, _Ctx, cross_check, doc
from .regions import check_region, partition_of

if TYPE_CHECKING:
    from .stack import StackConfig


_BACKUP_CRON = re.compile(r"cron\(\S+ \S+ \S+ \S+ \S+ \S+\)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,63}")


@dataclass(frozen=True)
class DrConfig:
    """Disaster-recovery region (``golive:dr``): replica backup bucket and the copy vault live there."""

    region: str = doc("AWS region of the DR copies: a region of golive's region table (AWS_REGIONS), other than golive:region "
                      "and in its partition.", "eu-central-1")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        check_region(f"{key}.region", self.region, problems)


@cross_check
def _dr_region_differs(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """A DR copy in the primary region dies with it; replication cannot cross partitions."""
    dr = config.dr.region
    if dr == config.region:
        problems.append(Problem(f"{NAMESPACE}:dr.region", dr,
                                f"must differ from golive:region ({config.region}): a copy in the same region is lost with it"))
    elif partition_of(dr) not in (None, config.partition):
        problems.append(Problem(f"{NAMESPACE}:dr.region", dr,
                                f"must be in the same AWS partition as golive:region ({config.region}) for replication and copies"))


@dataclass(frozen=True)
class BackupConfig:
    """Backup buckets and AWS Backup plans (``golive:backup``).

    Defaults follow the listings report: daily full backups at 02:00 UTC kept 30 days,
    the newest 30 versions of each backup object kept, point-in-time recovery for 35 days.
    """

    object_lock_mode: Literal["governance", "compliance"] = doc(
        "S3 Object Lock default mode of the backup buckets: governance (privileged users may lift it) or "
        "compliance (nobody can, not even the root user, until retention ends).", "governance")
    object_lock_days: int = doc("Default Object Lock retention of each backup object version, days (1-36500; at least 7 in production).", 30)
    transition_ia_days: int = doc("Days after which backup objects move to STANDARD_IA (S3 minimum: 30).", 30)
    transition_archive_days: int = doc("Days after which backup objects move to the archive class; at least transitionIaDays + 30.", 90)
    archive_storage_class: Literal["GLACIER", "DEEP_ARCHIVE"] = doc(
        "Archive storage class; GLACIER restores in minutes (expedited), DEEP_ARCHIVE in 12+ hours.", "GLACIER")
    noncurrent_versions_kept: int = doc("Newest noncurrent versions of each object kept regardless of age (1-100).", 30)
    noncurrent_expiry_days: int = doc("Days after which older noncurrent versions expire; at least objectLockDays.", 90)
    abort_multipart_days: int = doc("Days after which incomplete multipart uploads are aborted.", 7)
    access_log_retention_days: int = doc("Days S3 server access logs are kept (at least 90 in production).", 365)
    schedule: str = doc("AWS Backup schedule of the daily full backup (UTC), a cron(...) expression with six fields.", "cron(0 2 * * ? *)")
    start_window_minutes: int = doc("Minutes a scheduled backup may wait to start before it is reported as failed (AWS minimum: 60).", 60)
    completion_window_minutes: int = doc("Minutes a backup may run before AWS Backup cancels it; at least startWindowMinutes + 60.", 360)
    retention_days: int = doc("Days each daily recovery point is kept (at least 30 in production).", 30)
    dr_copy_retention_days: int = doc("Days each copy in the DR vault is kept (at least 30 in production).", 30)
    continuous_retention_days: int = doc("Days of continuous backup (point-in-time recovery), 1-35.", 35)
    vault_lock_min_retention_days: int = doc(
        "Vault Lock minimum retention: no recovery point can be deleted earlier; at most every retention above.", 30)
    vault_lock_max_retention_days: int = doc("Vault Lock maximum retention; at least every retention above.", 365)
    vault_lock_compliance_after_days: int | None = doc(
        "Unset: Vault Lock in governance mode (removable with IAM permission). Set (>= 3): the lock becomes "
        "immutable compliance mode after this grace period; irreversible.", None)
    notification_emails: tuple[str, ...] = doc(
        "E-mail addresses subscribed to failed/expired backup job notifications; at least one in production "
        "(the on-call route also gets BackupJobFailed from the monitoring stack); the default is the alerting e-mail's.",
        ("platform-oncall@golive.example",))

    MAX_CONTINUOUS_DAYS = 35
    MIN_PRODUCTION_RETENTION_DAYS = 30

    @property
    def lock_mode(self) -> str:
        """The S3 API spelling of :attr:`object_lock_mode`."""
        return self.object_lock_mode.upper()

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        def add(name: str, value: Any, rule: str) -> None:
            problems.append(Problem(f"{key}.{name}", value, rule))

        if not 1 <= self.object_lock_days <= 36500:
            add("objectLockDays", self.object_lock_days, "must be from 1 to 36500 days")
        elif ctx.production and self.object_lock_days < 7:
            add("objectLockDays", self.object_lock_days, "production locks backups at least 7 days, long enough to notice a ransomware attack")
        if self.transition_ia_days < 30:
            add("transitionIaDays", self.transition_ia_days, "S3 moves objects to STANDARD_IA no earlier than 30 days")
        if self.transition_archive_days < self.transition_ia_days + 30:
            add("transitionArchiveDays", self.transition_archive_days,
                f"must come at least 30 days after transitionIaDays ({self.transition_ia_days}): transitions are ordered "
                "and S3 keeps objects 30 days in STANDARD_IA")
        if not 1 <= self.noncurrent_versions_kept <= 100:
            add("noncurrentVersionsKept", self.noncurrent_versions_kept, "must be from 1 to 100 (S3 limit)")
        elif ctx.production and self.noncurrent_versions_kept < 30:
            add("noncurrentVersionsKept", self.noncurrent_versions_kept,
                "production keeps at least the 30 newest versions (policy backup-bucket-lifecycle)")
        if self.noncurrent_expiry_days < max(1, self.object_lock_days):
            add("noncurrentExpiryDays", self.noncurrent_expiry_days,
                f"must be at least objectLockDays ({self.object_lock_days}): a locked version cannot expire earlier")
        if self.abort_multipart_days < 1:
            add("abortMultipartDays", self.abort_multipart_days, "must be at least 1")
        if self.access_log_retention_days < 1:
            add("accessLogRetentionDays", self.access_log_retention_days, "must be at least 1")
        elif ctx.production and self.access_log_retention_days < 90:
            add("accessLogRetentionDays", self.access_log_retention_days, "production keeps S3 access logs at least 90 days")
        if not _BACKUP_CRON.fullmatch(self.schedule):
            add("schedule", self.schedule, "must be an AWS cron expression with six fields, e.g. cron(0 2 * * ? *)")
        if self.start_window_minutes < 60:
            add("startWindowMinutes", self.start_window_minutes, "AWS Backup needs a start window of at least 60 minutes")
        if self.completion_window_minutes < self.start_window_minutes + 60:
            add("completionWindowMinutes", self.completion_window_minutes,
                f"must be at least startWindowMinutes + 60 ({self.start_window_minutes + 60})")
        retentions = {
            "retentionDays": self.retention_days,
            "drCopyRetentionDays": self.dr_copy_retention_days,
            "continuousRetentionDays": self.continuous_retention_days,
        }
        for name, days in retentions.items():
            if days < 1:
                add(name, days, "must be at least 1 day")
            elif ctx.production and name != "continuousRetentionDays" and days < self.MIN_PRODUCTION_RETENTION_DAYS:
                add(name, days, f"production keeps recovery points at least {self.MIN_PRODUCTION_RETENTION_DAYS} days")
        if self.continuous_retention_days > self.MAX_CONTINUOUS_DAYS:
            add("continuousRetentionDays", self.continuous_retention_days,
                f"AWS Backup keeps continuous backups at most {self.MAX_CONTINUOUS_DAYS} days")
        low, high = self.vault_lock_min_retention_days, self.vault_lock_max_retention_days
        if low < 1:
            add("vaultLockMinRetentionDays", low, "must be at least 1 day")
        elif ctx.production and low < 7:
            add("vaultLockMinRetentionDays", low, "production locks recovery points at least 7 days, long enough to notice an attack")
        elif low > min(retentions.values()):
            shortest = min(retentions, key=lambda n: retentions[n])
            add("vaultLockMinRetentionDays", low,
                f"must not exceed {shortest} ({retentions[shortest]}): a locked vault rejects shorter-lived recovery points")
        if high < max(low, *retentions.values()):
            add("vaultLockMaxRetentionDays", high, "must be at least vaultLockMinRetentionDays and every retention above")
        elif high > 36500:
            add("vaultLockMaxRetentionDays", high, "must be at most 36500 days")
        grace = self.vault_lock_compliance_after_days
        if grace is not None and grace < 3:
            add("vaultLockComplianceAfterDays", grace, "AWS Backup needs a grace period of at least 3 days before compliance mode")
        for i, email in enumerate(self.notification_emails):
            if not _EMAIL.fullmatch(email):
                add(f"notificationEmails[{i}]", email, "must be an e-mail address")
        if ctx.production and not self.notification_emails:
            add("notificationEmails", [], "a production stack subscribes at least one address to the backup job "
                "notifications, or a failed backup reaches nobody by e-mail")


def backup_start_windows(schedule: str, start_window_minutes: int) -> tuple[str, ...] | None:
    """The daily UTC windows (``hh:mm-hh:mm``) in which a ``cron(...)`` backup rule may start its jobs.

    Only fixed minute and hour fields (hours may be a comma list) can be read this way; for
    anything else (``*``, ranges, steps) None. Day fields are ignored: a rule that runs on
    some days only is checked as if it ran daily, the stricter reading.
    """
    match = re.fullmatch(r"cron\((\d{1,2}) (\d{1,2}(?:,\d{1,2})*) \S+ \S+ \S+ \S+\)", schedule)
    if not match or start_window_minutes < 1:
        return None
    minute, hours = int(match.group(1)), [int(h) for h in match.group(2).split(",")]
    if minute > 59 or any(h > 23 for h in hours):
        return None
    windows = []
    for hour in hours:
        start = hour * 60 + minute
        end = (start + min(start_window_minutes, 24 * 60 - 1)) % (24 * 60)
        windows.append(f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}")
    return tuple(windows)


@cross_check
def _backup_apart_from_database_windows(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """AWS Backup's daily rule must not start its jobs inside the RDS backup or maintenance window.

    The plan backs up the RDS instance (tagged backup=true): a snapshot job started while RDS
    takes its automated backup, or while maintenance runs, waits or fails.
    """
    backup, database = config.backup, config.database
    starts = backup_start_windows(backup.schedule, backup.start_window_minutes)
    key = f"{NAMESPACE}:backup.schedule"
    if starts is None:
        if _BACKUP_CRON.fullmatch(backup.schedule):
            problems.append(Problem(key, backup.schedule, "use a fixed minute and hour (e.g. cron(0 2 * * ? *)) so its start "
                                    "window can be kept apart from golive:database.backupWindow"))
        return
    for name, window in (("backupWindow", database.backup_window), ("maintenanceWindow", database.maintenance_window)):
        try:
            clash = [w for w in starts if windows_overlap(w, window)]
        except ValueError:
            continue  # the window's own format problem is reported by the database section
        if clash:
            problems.append(Problem(key, backup.schedule, f"its start window {clash[0]} (UTC, startWindowMinutes "
                                    f"{backup.start_window_minutes}) overlaps golive:database.{name} {window}: stagger them"))


@cross_check
def _database_pitr_matches_continuous_backup(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """The RDS instance is tagged backup=true, so AWS Backup's continuous rule (always on) sets its PITR retention.

    With two different values, every ``pulumi up`` sets RDS back to its own and AWS Backup
    then changes it again: they must agree.
    """
    db_days, continuous_days = config.database.backup_retention_days, config.backup.continuous_retention_days
    if ctx.production and continuous_days >= 1 and db_days != continuous_days:
        problems.append(Problem(
            f"{NAMESPACE}:database.backupRetentionDays", db_days,
            f"must equal golive:backup.continuousRetentionDays ({continuous_days}): AWS Backup's continuous rule manages the "
            "instance's point-in-time-recovery retention (it is tagged backup=true), so two values would fight on every update"))
