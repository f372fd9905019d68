"""Checkov (the external auditor CI runs) on golive's Terraform-plan export.

Two things are proven here, with a single Checkov process for the whole module:

1. The gate. Every check Checkov fails on the prod export is either an accepted risk that
   golive's own verdict shows (an exemption of a policy that cites the Checkov id, on the same
   resource), or listed with its reason in ``policy/checkov-not-applicable.yaml``. A new
   failure, or an entry that no longer matches one, fails the suite.
2. Parity. Every Checkov id a golive policy cites is enforced at the cited strength: for each
   one, a mutated copy of a prod resource fails both Checkov and the policy, and a resource
   (the prod one, or a fixed copy) passes both.

The mutated resources are copies (with the resources that depend on them, renamed) added to
the prod synth, so every case has resources of its own and a failure can only come from its
own mutation. golive checks that synth once; its export, restricted to the copies, is scanned
by Checkov together with the prod export.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import pathlib
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from golive import check, engine, tfplan
from tests.conftest import ROOT

CHECKOV_VERSION = "3.3.30"
NOT_APPLICABLE_FILE = ROOT / "policy" / "checkov-not-applicable.yaml"

KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
EKS = "aws:eks/cluster:Cluster"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SG = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
NACL = "aws:ec2/networkAcl:NetworkAcl"
RDS = "aws:rds/instance:Instance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
SECRET = "aws:secretsmanager/secret:Secret"
DOMAIN = "aws:opensearch/domain:Domain"
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
TRAIL = "aws:cloudtrail/trail:Trail"
VAULT = "aws:backup/vault:Vault"

Target = tuple[str, str]  # (Pulumi type, exact logical name)


# --------------------------------------------------------------------------- the copies a case mutates


class Copies:
    """The copied records of one case, by (type, original name); mutations edit or drop them."""

    def __init__(self, records: dict[Target, dict[str, Any]]):
        self.records = records

    def __getitem__(self, target: Target) -> dict[str, Any]:
        return self.records[target]["inputs"]

    def drop(self, type_: str, name: str | None = None) -> None:
        """Leave the copy of a dependent out (``name`` None: every dependent of that type)."""
        for key in [k for k in self.records if k[0] == type_ and (name is None or k[1] == name)]:
            del self.records[key]


Mutation = Callable[[Copies], None]


@dataclass(frozen=True)
class Case:
    """One Checkov id against the golive policy that cites it: both fail, or both pass.

    ``target`` is copied together with the resources whose inputs depend on it (unless
    ``alone``), and ``mutate`` edits the copies. Without ``mutate`` the case is the prod
    resource itself (a pass). ``golive``/``checkov`` name the resource each reports when it is
    not the target (a bucket's public access block is reported on the bucket by golive).
    """

    check: str
    policy: str
    target: Target
    mutate: Mutation | None = None
    expect: str = "fail"
    alone: bool = False
    golive: Target | None = None
    checkov: Target | None = None
    label: str = ""
    extra: tuple[Target, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.check}-{self.expect}{'-' + self.label if self.label else ''}"


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(props: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        for part in parents:
            props = props.setdefault(part, {})
        props[leaf] = value

    return apply


def edit(target: Target, *changes: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(copies: Copies) -> None:
        for change in changes:
            change(copies[target])

    return mutate


def pop(path: str) -> Callable[[dict[str, Any]], None]:
    def apply(props: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        for part in parents:
            props = props[part]
        props.pop(leaf)

    return apply


def without(type_: str, name: str | None = None) -> Mutation:
    return lambda copies: copies.drop(type_, name)


def both(*mutations: Mutation) -> Mutation:
    def mutate(copies: Copies) -> None:
        for m in mutations:
            m(copies)

    return mutate


def document(statements: list[dict], *, replace: bool) -> Callable[[dict[str, Any]], None]:
    """Replace (or extend) the statements of a policy document input (``policy`` or a role's ``assumeRolePolicy``)."""

    def apply(props: dict[str, Any]) -> None:
        key = "assumeRolePolicy" if "assumeRolePolicy" in props else "policy"
        doc = json.loads(props[key])
        doc["Statement"] = list(statements) if replace else [*doc["Statement"], *statements]
        props[key] = json.dumps(doc)

    return apply


def add_ingress(rule: dict) -> Callable[[dict[str, Any]], None]:
    return lambda props: props.setdefault("ingress", []).append(rule)


def not_exempt(policy: str) -> Callable[[dict[str, Any]], None]:
    return lambda props: props["tags"].pop(f"golive:exempt:{policy}")


BACKUPS = (BUCKET, "golive-backups-bucket")
DB = (RDS, "golive-db-instance")
CACHE_GROUP = (CACHE, "golive-cache-replication-group")
LOGS_DOMAIN = (DOMAIN, "golive-logs")
ALB = (LB, "golive-alb")
TRAIL_ = (TRAIL, "golive-trail")
RECORDER = ("aws:cfg/recorder:Recorder", "golive-config-recorder")
RECORDING = ("aws:cfg/recorderStatus:RecorderStatus", "golive-config-recording")
WORLD = "0.0.0.0/0"

CASES: list[Case] = [
    # common.py
    Case("CKV_AWS_7", "kms-key-rotation", (KEY, "golive-flow-logs-key"), edit((KEY, "golive-flow-logs-key"), _set("enableKeyRotation", False)), alone=True),
    Case("CKV_AWS_7", "kms-key-rotation", (KEY, "golive-flow-logs-key"), expect="pass"),
    Case("CKV_AWS_158", "logs-group-encrypted-retained", (LOG_GROUP, "golive-flow-logs"), edit((LOG_GROUP, "golive-flow-logs"), pop("kmsKeyId")), alone=True),
    Case("CKV_AWS_158", "logs-group-encrypted-retained", (LOG_GROUP, "golive-flow-logs"), expect="pass"),
    Case("CKV_AWS_338", "logs-group-encrypted-retained", (LOG_GROUP, "golive-cache-engine-log"),
         edit((LOG_GROUP, "golive-cache-engine-log"), _set("retentionInDays", 180)), alone=True),
    Case("CKV_AWS_338", "logs-group-encrypted-retained", (LOG_GROUP, "golive-cache-engine-log"), expect="pass"),
    # cluster.py
    Case("CKV_AWS_38", "cluster-eks-endpoint-restricted", (EKS, "golive-eks"),
         edit((EKS, "golive-eks"), _set("vpcConfig.endpointPublicAccess", True), _set("vpcConfig.publicAccessCidrs", [WORLD])), alone=True),
    Case("CKV_AWS_38", "cluster-eks-endpoint-restricted", (EKS, "golive-eks"), expect="pass"),
    Case("CKV_AWS_58", "cluster-eks-secrets-encrypted", (EKS, "golive-eks"), edit((EKS, "golive-eks"), pop("encryptionConfig")), alone=True),
    Case("CKV_AWS_58", "cluster-eks-secrets-encrypted", (EKS, "golive-eks"), expect="pass"),
    Case("CKV_AWS_37", "cluster-eks-control-plane-logging", (EKS, "golive-eks"),
         edit((EKS, "golive-eks"), _set("enabledClusterLogTypes", ["api", "audit"])), alone=True),
    Case("CKV_AWS_37", "cluster-eks-control-plane-logging", (EKS, "golive-eks"), expect="pass"),
    Case("CKV_AWS_79", "cluster-launch-template-hardened", (LAUNCH_TEMPLATE, "golive-nodes-lt"),
         edit((LAUNCH_TEMPLATE, "golive-nodes-lt"), _set("metadataOptions.httpTokens", "optional")), alone=True),
    Case("CKV_AWS_79", "cluster-launch-template-hardened", (LAUNCH_TEMPLATE, "golive-nodes-lt"), expect="pass"),
    Case("CKV_AWS_341", "cluster-launch-template-hardened", (LAUNCH_TEMPLATE, "golive-nodes-lt"),
         edit((LAUNCH_TEMPLATE, "golive-nodes-lt"), _set("metadataOptions.httpPutResponseHopLimit", 2)), alone=True),
    Case("CKV_AWS_341", "cluster-launch-template-hardened", (LAUNCH_TEMPLATE, "golive-nodes-lt"), expect="pass"),
    # iam.py
    Case("CKV_AWS_62", "iam-no-administrator-grants", (ROLE_POLICY, "golive-cloudwatch-exporter-policy-0"),
         edit((ROLE_POLICY, "golive-cloudwatch-exporter-policy-0"), document([{"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}], replace=True)),
         alone=True),
    Case("CKV_AWS_62", "iam-no-administrator-grants", (ROLE_POLICY, "golive-cloudwatch-exporter-policy-0"), expect="pass"),
    Case("CKV_AWS_290", "iam-no-administrator-grants", (ROLE_POLICY, "golive-cloudwatch-exporter-policy-0"),
         edit((ROLE_POLICY, "golive-cloudwatch-exporter-policy-0"), document([{"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}], replace=True)),
         alone=True),
    Case("CKV_AWS_290", "iam-no-administrator-grants", (ROLE_POLICY, "golive-cloudwatch-exporter-policy-0"), expect="pass"),
    Case("CKV_AWS_60", "iam-role-trust-not-public", (ROLE, "golive-cloudwatch-exporter"),
         edit((ROLE, "golive-cloudwatch-exporter"), document([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}], replace=True)), alone=True),
    Case("CKV_AWS_60", "iam-role-trust-not-public", (ROLE, "golive-cloudwatch-exporter"), expect="pass"),
    Case("CKV_AWS_61", "iam-role-trust-not-public", (ROLE, "golive-cloudwatch-exporter"),
         edit((ROLE, "golive-cloudwatch-exporter"),
              document([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}],
                       replace=True)), alone=True),
    Case("CKV_AWS_61", "iam-role-trust-not-public", (ROLE, "golive-cloudwatch-exporter"), expect="pass"),
    Case("CKV_AWS_70", "iam-resource-policy-not-public", (BUCKET_POLICY, "golive-alb-logs-policy"),
         edit((BUCKET_POLICY, "golive-alb-logs-policy"),
              document([{"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}],
                       replace=False)), alone=True),
    Case("CKV_AWS_70", "iam-resource-policy-not-public", (BUCKET_POLICY, "golive-alb-logs-policy"), expect="pass"),
    Case("CKV_AWS_169", "iam-resource-policy-not-public", (TOPIC_POLICY, "golive-backup-notifications-policy"),
         edit((TOPIC_POLICY, "golive-backup-notifications-policy"),
              document([{"Sid": "Public", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:Publish", "Resource": "*"}],
                       replace=False)), alone=True),
    Case("CKV_AWS_169", "iam-resource-policy-not-public", (TOPIC_POLICY, "golive-backup-notifications-policy"), expect="pass"),
    # security_groups.py
    Case("CKV_AWS_260", "security-group-no-world-ingress", (SG, "golive-db-sg"),
         edit((SG, "golive-db-sg"), add_ingress({"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": [WORLD]})), alone=True),
    Case("CKV_AWS_260", "security-group-no-world-ingress", (SG, "golive-db-sg"), expect="pass"),
    # data.py: the database
    *[c for check_id, policy, change in (
        ("CKV_AWS_157", "rds-multi-az", _set("multiAz", False)),
        ("CKV_AWS_16", "rds-storage-encrypted-cmk", _set("storageEncrypted", False)),
        ("CKV_AWS_133", "rds-backup-retention", _set("backupRetentionPeriod", 0)),
        ("CKV_AWS_293", "rds-deletion-protection", _set("deletionProtection", False)),
        ("CKV_AWS_17", "rds-not-publicly-accessible", _set("publiclyAccessible", True)),
        ("CKV_AWS_161", "rds-iam-authentication", _set("iamDatabaseAuthenticationEnabled", False)),
        ("CKV_AWS_353", "rds-performance-insights-encrypted", _set("performanceInsightsEnabled", False)),
        ("CKV_AWS_354", "rds-performance-insights-encrypted", pop("performanceInsightsKmsKeyId")),
        ("CKV_AWS_118", "rds-enhanced-monitoring", _set("monitoringInterval", 0)),
        ("CKV_AWS_129", "rds-log-exports", _set("enabledCloudwatchLogsExports", [])),
    ) for c in (Case(check_id, policy, DB, edit(DB, change), alone=True), Case(check_id, policy, DB, expect="pass"))],
    # data.py: the cache and the secrets
    *[c for check_id, policy, change in (
        ("CKV_AWS_30", "elasticache-transit-encryption", _set("transitEncryptionEnabled", False)),
        ("CKV_AWS_29", "elasticache-at-rest-encryption-cmk", _set("atRestEncryptionEnabled", False)),
        ("CKV_AWS_191", "elasticache-at-rest-encryption-cmk", pop("kmsKeyId")),
        ("CKV_AWS_31", "elasticache-auth-token", pop("authToken")),
    ) for c in (Case(check_id, policy, CACHE_GROUP, edit(CACHE_GROUP, change), alone=True),
                Case(check_id, policy, CACHE_GROUP, expect="pass"))],
    Case("CKV_AWS_149", "secretsmanager-secret-cmk", (SECRET, "golive-cache-auth-token"),
         edit((SECRET, "golive-cache-auth-token"), pop("kmsKeyId")), alone=True),
    Case("CKV_AWS_149", "secretsmanager-secret-cmk", (SECRET, "golive-cache-auth-token"), expect="pass"),
    Case("CKV2_AWS_57", "secretsmanager-secret-rotation", (SECRET, "golive-cache-auth-token"), lambda copies: None, alone=True),
    Case("CKV2_AWS_57", "secretsmanager-secret-rotation", (SECRET, "golive-cache-auth-token"), expect="pass"),
    # monitoring.py: the log store
    *[c for check_id, policy, change in (
        ("CKV_AWS_5", "monitoring-opensearch-encrypted", _set("encryptAtRest", {"enabled": False})),
        ("CKV_AWS_247", "monitoring-opensearch-encrypted", pop("encryptAtRest.kmsKeyId")),
        ("CKV_AWS_6", "monitoring-opensearch-encrypted", _set("nodeToNodeEncryption.enabled", False)),
        ("CKV_AWS_83", "monitoring-opensearch-encrypted", _set("domainEndpointOptions.enforceHttps", False)),
        ("CKV_AWS_228", "monitoring-opensearch-encrypted", _set("domainEndpointOptions.tlsSecurityPolicy", "Policy-Min-TLS-1-0-2019-07")),
        ("CKV_AWS_137", "monitoring-opensearch-private", pop("vpcOptions")),
        ("CKV_AWS_317", "monitoring-opensearch-private",
         lambda p: p.update(logPublishingOptions=[o for o in p["logPublishingOptions"] if o["logType"] != "AUDIT_LOGS"])),
    ) for c in (Case(check_id, policy, LOGS_DOMAIN, edit(LOGS_DOMAIN, change), alone=True),
                Case(check_id, policy, LOGS_DOMAIN, expect="pass"))],
    # edge.py
    Case("CKV_AWS_103", "edge-alb-https-tls-policy", (LISTENER, "golive-https"),
         edit((LISTENER, "golive-https"), _set("sslPolicy", "ELBSecurityPolicy-2016-08")), alone=True),
    Case("CKV_AWS_103", "edge-alb-https-tls-policy", (LISTENER, "golive-https"), expect="pass"),
    Case("CKV2_AWS_20", "edge-alb-http-redirects-only", ALB,
         edit((LISTENER, "golive-http"), _set("defaultActions", [{"type": "fixed-response", "fixedResponse": {
             "contentType": "text/plain", "messageBody": "hello", "statusCode": "200"}}])),
         golive=(LISTENER, "golive-http")),
    Case("CKV2_AWS_20", "edge-alb-http-redirects-only", ALB, expect="pass", golive=(LISTENER, "golive-http")),
    Case("CKV_AWS_131", "edge-alb-drop-invalid-headers", ALB, edit(ALB, _set("dropInvalidHeaderFields", False)), alone=True),
    Case("CKV_AWS_131", "edge-alb-drop-invalid-headers", ALB, expect="pass"),
    Case("CKV_AWS_91", "edge-alb-access-logs", ALB, edit(ALB, _set("accessLogs.enabled", False)), alone=True),
    Case("CKV_AWS_91", "edge-alb-access-logs", ALB, expect="pass"),
    Case("CKV_AWS_150", "edge-alb-deletion-protection", ALB, edit(ALB, _set("enableDeletionProtection", False)), alone=True),
    Case("CKV_AWS_150", "edge-alb-deletion-protection", ALB, expect="pass"),
    Case("CKV2_AWS_28", "edge-alb-waf-associated", ALB, lambda copies: None, alone=True),
    Case("CKV2_AWS_28", "edge-alb-waf-associated", ALB, expect="pass"),
    Case("CKV_AWS_192", "edge-waf-managed-rule-groups", (WEB_ACL, "golive-web-acl"),
         edit((WEB_ACL, "golive-web-acl"), lambda p: p.update(rules=[
             r for r in p["rules"] if (r["statement"].get("managedRuleGroupStatement") or {}).get("name") != "AWSManagedRulesKnownBadInputsRuleSet"])),
         alone=True),
    Case("CKV_AWS_192", "edge-waf-managed-rule-groups", (WEB_ACL, "golive-web-acl"), expect="pass"),
    Case("CKV2_AWS_31", "edge-waf-logging", (WEB_ACL, "golive-web-acl"), lambda copies: None, alone=True),
    Case("CKV2_AWS_31", "edge-waf-logging", (WEB_ACL, "golive-web-acl"), expect="pass"),
    Case("CKV_AWS_378", "edge-target-group-tls", (TARGET_GROUP, "golive-trading-api-tg"),
         edit((TARGET_GROUP, "golive-trading-api-tg"), not_exempt("edge-target-group-tls")), alone=True),
    Case("CKV_AWS_378", "edge-target-group-tls", (TARGET_GROUP, "golive-trading-api-tg"), expect="pass",
         mutate=edit((TARGET_GROUP, "golive-trading-api-tg"), not_exempt("edge-target-group-tls"), _set("protocol", "HTTPS"),
                     _set("healthCheck.protocol", "HTTPS")), alone=True),
    # security.py
    Case("CKV_AWS_67", "security-cloudtrail-multi-region", TRAIL_, edit(TRAIL_, _set("isMultiRegionTrail", False)), alone=True),
    Case("CKV_AWS_67", "security-cloudtrail-multi-region", TRAIL_, expect="pass"),
    Case("CKV_AWS_36", "security-cloudtrail-log-validation", TRAIL_, edit(TRAIL_, _set("enableLogFileValidation", False)), alone=True),
    Case("CKV_AWS_36", "security-cloudtrail-log-validation", TRAIL_, expect="pass"),
    Case("CKV_AWS_35", "security-cloudtrail-kms", TRAIL_, edit(TRAIL_, pop("kmsKeyId")), alone=True),
    Case("CKV_AWS_35", "security-cloudtrail-kms", TRAIL_, expect="pass"),
    Case("CKV2_AWS_10", "security-cloudtrail-cloudwatch-logs", TRAIL_,
         edit(TRAIL_, pop("cloudWatchLogsGroupArn"), pop("cloudWatchLogsRoleArn")), alone=True),
    Case("CKV2_AWS_10", "security-cloudtrail-cloudwatch-logs", TRAIL_, expect="pass"),
    Case("CKV2_AWS_45", "security-config-recorder", RECORDER, edit(RECORDER, _set("recordingGroup.allSupported", False)),
         checkov=RECORDING),
    Case("CKV2_AWS_45", "security-config-recorder", RECORDER, expect="pass", checkov=RECORDING),
    # s3.py (every bucket) and backup.py
    Case("CKV_AWS_21", "s3-bucket-versioning", BACKUPS, edit((VERSIONING, "golive-backups-versioning"),
                                                             _set("versioningConfiguration.status", "Suspended"))),
    Case("CKV_AWS_21", "s3-bucket-versioning", BACKUPS, expect="pass"),
    Case("CKV_AWS_145", "s3-bucket-encryption-kms", BACKUPS,
         edit((SSE, "golive-backups-encryption"), lambda p: p.update(rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}])),
         golive=(SSE, "golive-backups-encryption")),
    Case("CKV_AWS_145", "s3-bucket-encryption-kms", BACKUPS, expect="pass"),
    *[c for check_id, setting in (("CKV_AWS_53", "blockPublicAcls"), ("CKV_AWS_54", "blockPublicPolicy"),
                                  ("CKV_AWS_55", "ignorePublicAcls"), ("CKV_AWS_56", "restrictPublicBuckets"))
      for c in (Case(check_id, "s3-bucket-public-access-blocked", BACKUPS, edit((PAB, "golive-backups-public-access-block"), _set(setting, False)),
                     checkov=(PAB, "golive-backups-public-access-block")),
                Case(check_id, "s3-bucket-public-access-blocked", BACKUPS, expect="pass", checkov=(PAB, "golive-backups-public-access-block")))],
    Case("CKV2_AWS_65", "s3-bucket-acls-disabled", BACKUPS, edit((OWNERSHIP, "golive-backups-ownership"), _set("rule.objectOwnership", "ObjectWriter")),
         checkov=(OWNERSHIP, "golive-backups-ownership")),
    Case("CKV2_AWS_65", "s3-bucket-acls-disabled", BACKUPS, expect="pass", checkov=(OWNERSHIP, "golive-backups-ownership")),
    Case("CKV_AWS_18", "s3-bucket-access-logging", BACKUPS, without(LOGGING)),
    Case("CKV_AWS_18", "s3-bucket-access-logging", BACKUPS, expect="pass"),
    Case("CKV_AWS_18", "s3-bucket-access-logging", (BUCKET, "golive-cloudtrail-bucket"), expect="pass", label="trail"),
    Case("CKV_AWS_144", "s3-bucket-cross-region-replication", BACKUPS, without(REPLICATION)),
    Case("CKV_AWS_144", "s3-bucket-cross-region-replication", BACKUPS, expect="pass"),
    Case("CKV2_AWS_61", "s3-bucket-lifecycle", BACKUPS, without(LIFECYCLE)),
    Case("CKV2_AWS_61", "s3-bucket-lifecycle", BACKUPS, expect="pass"),
    Case("CKV_AWS_166", "backup-vault-cmk", (VAULT, "golive-backup-vault"), edit((VAULT, "golive-backup-vault"), pop("kmsKeyArn")), alone=True),
    Case("CKV_AWS_166", "backup-vault-cmk", (VAULT, "golive-backup-vault"), expect="pass"),
    # network.py
    Case("CKV_AWS_130", "network-subnet-no-public-ip", (SUBNET, "golive-private-eu-west-1a"),
         edit((SUBNET, "golive-private-eu-west-1a"), _set("mapPublicIpOnLaunch", True)), alone=True),
    Case("CKV_AWS_130", "network-subnet-no-public-ip", (SUBNET, "golive-private-eu-west-1a"), expect="pass"),
    Case("CKV2_AWS_12", "network-default-security-group-closed", (VPC, "golive-vpc"),
         edit((DEFAULT_SG, "golive-default-sg"), add_ingress({"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.20.0.0/16"]})),
         golive=(DEFAULT_SG, "golive-default-sg")),
    Case("CKV2_AWS_12", "network-default-security-group-closed", (VPC, "golive-vpc"), expect="pass", golive=(DEFAULT_SG, "golive-default-sg")),
    Case("CKV2_AWS_11", "network-vpc-flow-logs", (VPC, "golive-vpc"), lambda copies: None, alone=True),
    Case("CKV2_AWS_11", "network-vpc-flow-logs", (VPC, "golive-vpc"), expect="pass"),
    Case("CKV_AWS_231", "network-nacl-no-admin-ports-from-world", (NACL, "golive-public-nacl"),
         edit((NACL, "golive-public-nacl"), add_ingress({"ruleNo": 125, "action": "allow", "cidrBlock": WORLD, "protocol": "tcp",
                                                         "fromPort": 1024, "toPort": 65535})), alone=True),
    Case("CKV_AWS_231", "network-nacl-no-admin-ports-from-world", (NACL, "golive-public-nacl"), expect="pass"),
    Case("CKV_AWS_232", "network-nacl-no-admin-ports-from-world", (NACL, "golive-public-nacl"),
         edit((NACL, "golive-public-nacl"), add_ingress({"ruleNo": 125, "action": "allow", "cidrBlock": WORLD, "protocol": "tcp",
                                                         "fromPort": 22, "toPort": 22})), alone=True),
    Case("CKV_AWS_232", "network-nacl-no-admin-ports-from-world", (NACL, "golive-public-nacl"), expect="pass"),
]


# --------------------------------------------------------------------------- building the cases' synth


def _find(doc: dict[str, Any], target: Target) -> dict[str, Any]:
    (record,) = [r for r in doc["resources"] if (r["type"], r["name"]) == target]
    return record


def _copy_urn(urn: str, suffix: str) -> str:
    return f"{urn}-{suffix}"


def _add_copies(doc: dict[str, Any], case: Case, suffix: str) -> dict[Target, str]:
    """Copy the case's target (and, unless ``alone``, the records that depend on it) into ``doc``; mutate the copies.

    Returns (type, original name) -> URN of the copy, for every copy kept.
    """
    target = _find(doc, case.target)
    originals = [target]
    if not case.alone:
        originals += [r for r in doc["resources"] if r is not target
                      and any(target["urn"] in urns for urns in r.get("propertyDependencies", {}).values())]
    renamed = {r["urn"]: _copy_urn(r["urn"], suffix) for r in originals}
    copies: dict[Target, dict[str, Any]] = {}
    for original in originals:
        record = copy.deepcopy(original)
        record["urn"] = renamed[original["urn"]]
        record["name"] = f"{original['name']}-{suffix}"
        record["propertyDependencies"] = {
            prop: sorted(renamed.get(u, u) for u in urns) for prop, urns in record.get("propertyDependencies", {}).items()
        }
        record["options"]["dependsOn"] = sorted(renamed.get(u, u) for u in record["options"]["dependsOn"])
        copies[(original["type"], original["name"])] = record
    if case.mutate is not None:
        case.mutate(Copies(copies))
    for record in copies.values():  # an input the mutation removed no longer depends on anything
        record["propertyDependencies"] = {p: us for p, us in record["propertyDependencies"].items() if p in record["inputs"]}
    kept = set(copies)
    for record in copies.values():  # a dropped copy is no dependency of the ones kept
        dropped = {renamed[_find(doc, key)["urn"]] for key in {(r["type"], r["name"]) for r in originals} - kept}
        record["propertyDependencies"] = {p: [u for u in us if u not in dropped] for p, us in record["propertyDependencies"].items()}
        record["propertyDependencies"] = {p: us for p, us in record["propertyDependencies"].items() if us}
        record["options"]["dependsOn"] = [u for u in record["options"]["dependsOn"] if u not in dropped]
    doc["resources"].extend(copies.values())
    return {key: record["urn"] for key, record in copies.items()}


@dataclass
class Judged:
    """Where each case's verdicts are read: which synth, URNs and Terraform addresses."""

    case: Case
    golive_urn: str
    checkov_address: str
    checkov_file: str


@pytest.fixture(scope="module")
def scan(prod, prod_check, tmp_path_factory) -> dict[str, Any]:
    """One golive check of the prod synth plus every case's copies, one Checkov run over two exports."""
    binary = _checkov()
    doc = copy.deepcopy(prod.document())
    judged: list[Judged] = []
    copied: set[str] = set()
    prod_export = tfplan.export(prod)
    for i, case in enumerate(CASES):
        if case.mutate is None:
            golive = _find(doc, case.golive or case.target)["urn"]
            checkov = _find(doc, case.checkov or case.target)["urn"]
            judged.append(Judged(case, golive, prod_export.addresses[checkov], "prod"))
            continue
        urns = _add_copies(doc, case, f"c{i:02d}")
        copied |= set(urns.values())
        judged.append(Judged(case, urns[case.golive or case.target], urns[case.checkov or case.target], "cases"))
    doc["resources"].sort(key=lambda r: r["urn"])
    cases_synth = engine.SynthResult.from_document(doc)
    cases_check = check.check(cases_synth)
    cases_export = tfplan.export(cases_synth)
    for j in judged:
        if j.checkov_file == "cases":
            j.checkov_address = cases_export.addresses[j.checkov_address]
    directory = tmp_path_factory.mktemp("checkov")
    (directory / "prod.json").write_text(prod_export.to_json())
    (directory / "cases.json").write_text(json.dumps(_only(cases_export.plan, {cases_export.addresses[u] for u in copied if u in cases_export.addresses})))
    proc = subprocess.run(
        [binary, "-f", str(directory / "prod.json"), "-f", str(directory / "cases.json"), "--framework", "terraform_plan",
         "--skip-download", "--output", "json"],
        capture_output=True, text=True, cwd=directory, env={**os.environ, "LOG_LEVEL": "ERROR"}, timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    results: dict[tuple[str, str, str], str] = {}
    for part in reports:
        assert part["summary"]["parsing_errors"] == 0 and part["summary"]["checkov_version"] == CHECKOV_VERSION
        for outcome in ("passed", "failed"):
            for result in part["results"][f"{outcome}_checks"]:
                file = pathlib.Path(result["file_path"]).stem
                results[(file, result["check_id"], result["resource"])] = outcome
    return {"results": results, "judged": judged, "golive": {"prod": prod_check, "cases": cases_check},
            "prod_export": prod_export}


def _only(plan: dict[str, Any], addresses: set[str]) -> dict[str, Any]:
    """The plan restricted to ``addresses``: the copies, without the prod resources their references name."""
    doc = copy.deepcopy(plan)
    doc["planned_values"]["root_module"]["resources"] = [r for r in doc["planned_values"]["root_module"]["resources"] if r["address"] in addresses]
    doc["resource_changes"] = [r for r in doc["resource_changes"] if r["address"] in addresses]
    doc["configuration"]["root_module"]["resources"] = [r for r in doc["configuration"]["root_module"]["resources"] if r["address"] in addresses]
    return doc


def _checkov() -> str:
    found = os.environ.get("GOLIVE_CHECKOV") or (ROOT / ".venv-checkov" / "bin" / "checkov")
    found = str(found) if pathlib.Path(found).is_file() else shutil.which("checkov")
    assert found, f"Checkov {CHECKOV_VERSION} is not installed: run `make setup` (it installs requirements-checkov.txt into .venv-checkov)"
    return found


def _golive_outcome(result: check.CheckResult, policy: str, urn: str) -> str:
    if any(f.policy == policy and f.urn == urn for f in result.findings):
        return "failed"
    if any(e.policy == policy and e.urn == urn for e in result.exemptions):
        return "exempted"
    return "passed" if urn in result.policies[policy].evaluated else "not evaluated"


# --------------------------------------------------------------------------- 1. the gate


def not_applicable() -> list[dict[str, Any]]:
    entries = yaml.safe_load(NOT_APPLICABLE_FILE.read_text())
    assert isinstance(entries, list) and entries
    for entry in entries:
        assert set(entry) == {"check", "resources", "reason"}, entry
        assert len(entry["reason"].split()) >= 12, f"{entry['check']}: say why it does not apply"
    return entries


def test_every_checkov_failure_on_prod_is_fixed_exempted_in_golive_or_reviewed(scan):
    prod_check, export = scan["golive"]["prod"], scan["prod_export"]
    failures = sorted((check_id, address) for (file, check_id, address), outcome in scan["results"].items()
                      if file == "prod" and outcome == "failed")
    accepted = {(control.removeprefix("checkov:"), export.addresses.get(e.urn))
                for e in prod_check.exemptions for control in prod_check.policies[e.policy].tags if control.startswith("checkov:")}
    entries = not_applicable()
    uncovered = [(check_id, address) for check_id, address in failures if (check_id, address) not in accepted
                 and not any(e["check"] == check_id and any(fnmatch.fnmatchcase(address, p) for p in e["resources"]) for e in entries)]
    assert uncovered == [], (
        "Checkov fails these on the prod export: fix them, exempt them with a reason (golive:exempt:<policy> for a policy citing "
        f"the check), or list them in {NOT_APPLICABLE_FILE.relative_to(ROOT)} with why they do not apply: {uncovered}"
    )
    assert failures, "Checkov found nothing at all: the export or the scan is broken"


def test_every_reviewed_entry_still_matches_a_failure(scan):
    failures = [(check_id, address) for (file, check_id, address), outcome in scan["results"].items() if file == "prod" and outcome == "failed"]
    stale = [(e["check"], pattern) for e in not_applicable() for pattern in e["resources"]
             if not any(c == e["check"] and fnmatch.fnmatchcase(a, pattern) for c, a in failures)]
    assert stale == [], f"entries of {NOT_APPLICABLE_FILE.name} that match no Checkov failure any more (remove them): {stale}"


def test_every_accepted_checkov_finding_is_shown_by_golive_as_exempted_with_its_check_id(scan):
    """The other direction: what golive accepts as a risk is what Checkov reports, under the check id golive shows."""
    from golive import formats

    prod_check, export = scan["golive"]["prod"], scan["prod_export"]
    shown = 0
    for e in prod_check.exemptions:
        for control in formats.exemption_controls(prod_check, e):
            if control.startswith("checkov:"):
                outcome = scan["results"].get(("prod", control.removeprefix("checkov:"), export.addresses[e.urn]))
                assert outcome == "failed", (e.policy, e.urn, control, outcome)
                shown += 1
    assert shown >= 10


# --------------------------------------------------------------------------- 2. parity of every cited control


def test_every_cited_checkov_id_has_a_failing_and_a_passing_case():
    cited = {(p.name, t.removeprefix("checkov:")) for p in check.load_policies() for t in p.tags or () if t.startswith("checkov:")}
    cases = {(c.policy, c.check, c.expect) for c in CASES}
    missing = sorted((policy, check_id, expect) for policy, check_id in cited for expect in ("fail", "pass")
                     if (policy, check_id, expect) not in cases)
    assert missing == []
    # And no case tests an id its policy does not cite.
    assert {(c.policy, c.check) for c in CASES} <= cited


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c.id for c in CASES])
def test_checkov_and_golive_agree(scan, index):
    judged = scan["judged"][index]
    case = judged.case
    want = "failed" if case.expect == "fail" else "passed"
    checkov_outcome = scan["results"].get((judged.checkov_file, case.check, judged.checkov_address), "not evaluated")
    golive_outcome = _golive_outcome(scan["golive"][judged.checkov_file], case.policy, judged.golive_urn)
    assert (checkov_outcome, golive_outcome) == (want, want), (
        f"{case.check} on {judged.checkov_address}: Checkov {checkov_outcome}; {case.policy} on {judged.golive_urn}: {golive_outcome}"
    )
