"""The account security baseline and admin VPN (``golive:security``), for components/security.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .edge import _acm_arn
from .parser import _MISSING, PRODUCTION_LOG_RETENTION_DAYS, Problem, _check_retention, _Ctx, doc, parse_cidr


@dataclass(frozen=True)
class VpnConfig:
    """AWS Client VPN for administrators (``golive:security.vpn``), mutual-TLS authenticated."""

    enabled: bool = doc("Create the Client VPN endpoint. Required in production (checked when the program runs: the "
                        "certificates have no default).", False)
    server_certificate_arn: str = doc("ACM ARN of the VPN server certificate (required when enabled).", "")
    client_root_certificate_arn: str = doc("ACM ARN of the CA that signs administrators' client certificates (required when enabled).", "")
    client_cidr: str = doc("Addresses handed to VPN clients; /12 to /22, outside the VPC CIDR.", "172.16.0.0/22")
    log_retention_days: int = doc("Retention of the connection log group, in days.", 365)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for name, value in (("serverCertificateArn", self.server_certificate_arn), ("clientRootCertificateArn", self.client_root_certificate_arn)):
            if self.enabled and not value:
                problems.append(Problem(f"{key}.{name}", _MISSING, "is required when the VPN is enabled (mutual-TLS authentication)"))
            elif value and not _acm_arn(value, ctx.region):
                problems.append(Problem(f"{key}.{name}", value, f"must be an ACM certificate ARN in {ctx.region}"))
        cidr = parse_cidr(f"{key}.clientCidr", self.client_cidr, problems)
        if cidr is not None and not 12 <= cidr.prefixlen <= 22:
            problems.append(Problem(f"{key}.clientCidr", self.client_cidr, "must be /12 to /22 (Client VPN's allowed range)"))
        _check_retention(f"{key}.logRetentionDays", self.log_retention_days, PRODUCTION_LOG_RETENTION_DAYS, ctx, problems)


@dataclass(frozen=True)
class AwsConfigConfig:
    """AWS Config, which Security Hub's FSBP and CIS controls evaluate (``golive:security.awsConfig``)."""

    recorder_name: str = doc("Name of the configuration recorder and delivery channel (an adopted recorder keeps its own).", "default")
    delivery_frequency: Literal["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"] = doc(
        "How often AWS Config delivers configuration snapshots to its bucket.", "TwentyFour_Hours")
    expiry_days: int = doc("Days configuration history and snapshots stay in the delivery bucket.", 2557)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,256}", self.recorder_name):
            problems.append(Problem(f"{key}.recorderName", self.recorder_name, "must be 1-256 letters, digits, '.', '_' or '-'"))
        if self.expiry_days < 1:
            problems.append(Problem(f"{key}.expiryDays", self.expiry_days, "must be at least 1"))
        elif ctx.production and self.expiry_days < 365:
            problems.append(Problem(f"{key}.expiryDays", self.expiry_days, "production keeps configuration history at least 365 days"))


@dataclass(frozen=True)
class SecurityConfig:
    """CloudTrail, GuardDuty, Security Hub, admin VPN (``golive:security``)."""

    cloudtrail_object_lock: bool = doc(
        "Write-once CloudTrail bucket (S3 Object Lock, governance mode, for cloudtrailLockDays): log files cannot be deleted "
        "early. Required in production.", True
    )
    cloudtrail_lock_days: int = doc("Object Lock retention of CloudTrail log files, in days.", 365)
    cloudtrail_expiry_days: int = doc("Days CloudTrail log files stay in their S3 bucket.", 2557)
    cloudtrail_log_retention_days: int = doc("Retention of the CloudTrail CloudWatch log group, in days.", 365)
    server_access_log_expiry_days: int = doc(
        "Days the S3 server access logs of the CloudTrail bucket are kept (at least 90 in production).", 365
    )
    security_hub: bool = doc("Enable Security Hub with the AWS Foundational Security Best Practices and CIS standards.", True)
    guardduty_finding_frequency: Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"] = doc(
        "How often GuardDuty publishes updated findings.", "FIFTEEN_MINUTES"
    )
    vpn: VpnConfig = doc("Admin Client VPN.", default_factory=VpnConfig)
    aws_config: AwsConfigConfig = doc("AWS Config recorder and its delivery bucket.", default_factory=AwsConfigConfig)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        _check_retention(f"{key}.cloudtrailLogRetentionDays", self.cloudtrail_log_retention_days, PRODUCTION_LOG_RETENTION_DAYS, ctx,
                         problems)
        if ctx.production and not self.cloudtrail_object_lock:
            problems.append(Problem(f"{key}.cloudtrailObjectLock", self.cloudtrail_object_lock, "production keeps the audit trail "
                                    "write-once (S3 Object Lock): an intruder with the account's keys could otherwise delete it"))
        if ctx.production and not self.security_hub:
            problems.append(Problem(f"{key}.securityHub", self.security_hub, "production keeps Security Hub on "
                                    "(policy security-securityhub-standards)"))
        if ctx.production and self.cloudtrail_expiry_days < 365:
            problems.append(Problem(f"{key}.cloudtrailExpiryDays", self.cloudtrail_expiry_days, "production keeps CloudTrail logs at least 365 days"))
        if self.server_access_log_expiry_days < 1:
            problems.append(Problem(f"{key}.serverAccessLogExpiryDays", self.server_access_log_expiry_days, "must be at least 1"))
        elif ctx.production and self.server_access_log_expiry_days < 90:
            problems.append(Problem(f"{key}.serverAccessLogExpiryDays", self.server_access_log_expiry_days,
                                    "production keeps S3 access logs at least 90 days"))
        if self.cloudtrail_lock_days < 1:
            problems.append(Problem(f"{key}.cloudtrailLockDays", self.cloudtrail_lock_days, "must be at least 1"))
        elif self.cloudtrail_object_lock and self.cloudtrail_lock_days > self.cloudtrail_expiry_days:
            problems.append(Problem(f"{key}.cloudtrailLockDays", self.cloudtrail_lock_days,
                                    f"must not exceed cloudtrailExpiryDays ({self.cloudtrail_expiry_days}): locked files cannot expire"))
