"""Mutation test (robustness): break exactly what one policy guards, run the WHOLE pack.

Each case takes the synthesized prod stack, makes one targeted edit of one record (or drops
one resource), runs every policy once and asserts that

- the policy that guards the broken property now reports a finding (mandatory, or advisory
  for an advisory policy) on the resource the case names, and
- no other policy reports anything that it did not report on the unmutated prod stack,
  except the collateral a case lists explicitly (with the reason).

So each policy is shown to catch its own property, and the pack is shown not to double-report
or misattribute it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from golive import check, engine
from tests.helpers import drop, mutate

Record = dict[str, Any]

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
AWS_PROVIDER = "pulumi:providers:aws"
K8S_PROVIDER = "pulumi:providers:kubernetes"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
RDS = "aws:rds/instance:Instance"
RDS_PARAMS = "aws:rds/parameterGroup:ParameterGroup"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
SECRET = "aws:secretsmanager/secret:Secret"
EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
HELM = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
QUOTA = "kubernetes:core/v1:ResourceQuota"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
LISTENER = "aws:lb/listener:Listener"
ALB = "aws:lb/loadBalancer:LoadBalancer"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
TRAIL = "aws:cloudtrail/trail:Trail"
GUARDDUTY_FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
GUARDDUTY = "aws:guardduty/detector:Detector"
SECURITYHUB_STANDARD = "aws:securityhub/standardsSubscription:StandardsSubscription"
SECURITYHUB = "aws:securityhub/account:Account"
VPN = "aws:ec2clientvpn/endpoint:Endpoint"
VPN_AUTHORIZATION = "aws:ec2clientvpn/authorizationRule:AuthorizationRule"
PROBE = "kubernetes:monitoring.coreos.com/v1:Probe"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
OPENSEARCH = "aws:opensearch/domain:Domain"
BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
BACKUP_VAULT = "aws:backup/vault:Vault"
VAULT_LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
VAULT_NOTIFICATIONS = "aws:backup/vaultNotifications:VaultNotifications"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_SELECTION = "aws:backup/selection:Selection"
RDS_BACKUP_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
ANALYSIS_TEMPLATE = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"
JOB = "kubernetes:batch/v1:Job"
RESTORE_SELECTION = "aws:backup/restoreTestingSelection:RestoreTestingSelection"
FIS_TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"


# --------------------------------------------------------------------------- edits


def setting(path: str, value: Any) -> Callable[[Record], None]:
    """Set ``inputs.<path>`` (dotted; list items as numbers) to ``value``."""

    def edit(record: Record) -> None:
        node: Any = record["inputs"]
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value

    return edit


def removing(path: str) -> Callable[[Record], None]:
    """Remove ``inputs.<path>`` (dotted), and the property dependencies of a top-level input."""

    def edit(record: Record) -> None:
        node: Any = record["inputs"]
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        del node[last]
        if not parents:
            record["propertyDependencies"].pop(last, None)

    return edit


def unprotected(record: Record) -> None:
    record["options"]["protect"] = False


def json_edit(path: tuple[str, ...], change: Callable[[Any], None]) -> Callable[[Record], None]:
    """Edit a JSON document held as a string in ``inputs`` at ``path`` (policy documents, dashboards)."""

    def edit(record: Record) -> None:
        node: Any = record["inputs"]
        *parents, last = path
        for part in parents:
            node = node[part]
        document = json.loads(node[last])
        change(document)
        node[last] = json.dumps(document)

    return edit


def _public_statement(document: dict) -> None:
    document["Statement"].append({"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "SNS:Publish", "Resource": "*"})


def _public_trust(document: dict) -> None:
    document["Statement"][0]["Principal"] = {"AWS": "*"}
    document["Statement"][0].pop("Condition", None)


def _drop_tls_deny(document: dict) -> None:
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "DenyInsecureTransport"]


def _drop_uid(document: dict) -> None:
    document.pop("uid")


def _logs_kept_30_days(settings: Any) -> None:
    settings["ismPolicies"]["golive-logs-retention"]["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"] = "30d"


def _traces_never_deleted(settings: Any) -> None:
    settings["ismPolicies"]["golive-traces-retention"]["policy"]["states"][0]["transitions"] = []


def _signal_service_unsampled(record: Record) -> None:
    tail = record["inputs"]["values"]["alternateConfig"]["processors"]["tail_sampling"]
    tail["policies"] = [p for p in tail["policies"] if not p["name"].startswith("signal-service")]

def _rule_without_runbook(record: Record) -> None:
    record["inputs"]["spec"]["groups"][0]["rules"][0]["annotations"].pop("runbook_url")


def _critical_to_null(record: Record) -> None:
    config = record["inputs"]["values"]["alertmanager"]["config"]
    config["route"] = {"receiver": "null"}
    config["receivers"].append({"name": "null"})


def _plain_pagerduty_key(record: Record) -> None:
    receiver = record["inputs"]["values"]["alertmanager"]["config"]["receivers"][0]
    receiver["pagerduty_configs"][0]["routing_key"] = "0123456789abcdef0123456789abcdef"


def _count_managed_group(record: Record) -> None:
    rule = next(r for r in record["inputs"]["rules"] if r["name"] == "aws-common")
    rule["overrideAction"] = {"count": {}}


def _raise_rate_limit(record: Record) -> None:
    rule = next(r for r in record["inputs"]["rules"] if r["name"] == "rate-limit-per-ip")
    rule["statement"]["rateBasedStatement"]["limit"] = 1_000_000


def _no_samples(record: Record) -> None:
    rule = next(r for r in record["inputs"]["rules"] if r["name"] == "aws-sqli")
    rule["visibilityConfig"]["sampledRequestsEnabled"] = False


def _steps(record: Record) -> list[dict]:
    return record["inputs"]["spec"]["strategy"]["canary"]["steps"]


def _no_analysis_steps(record: Record) -> None:
    record["inputs"]["spec"]["strategy"]["canary"]["steps"] = [s for s in _steps(record) if "analysis" not in s]


def _weights_down(record: Record) -> None:
    steps = _steps(record)
    steps[0]["setWeight"], steps[3]["setWeight"] = 50, 10


def _undocumented_metric(record: Record) -> None:
    record["inputs"]["spec"]["metrics"][0]["provider"]["prometheus"]["query"] = "sum(rate(made_up_requests_total[5m]))"


def _insecure_plugin(record: Record) -> None:
    record["inputs"]["values"]["controller"]["trafficRouterPlugins"] = [
        {"name": "golive/alb-listener-rule", "location": "http://example.com/plugin"}
    ]


def _plugin_without_region(record: Record) -> None:
    record["inputs"]["spec"]["strategy"]["canary"]["trafficRouting"]["plugins"]["golive/alb-listener-rule"].pop("region")


def _forward_plain_http(record: Record) -> None:
    record["inputs"]["defaultActions"] = [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/y"}]


def _without_copies(record: Record) -> None:
    for rule in record["inputs"]["rules"]:
        rule.pop("copyActions", None)
    record["propertyDependencies"]["rules"] = [u for u in record["propertyDependencies"]["rules"] if "dr-vault" not in u]


def _replicate_deletes(record: Record) -> None:
    record["inputs"]["rules"][0]["deleteMarkerReplication"]["status"] = "Enabled"


def _no_multipart_abort(record: Record) -> None:
    record["inputs"]["rules"][0].pop("abortIncompleteMultipartUpload")


def _vault_key_of_primary_region(record: Record) -> None:
    # The DR vault's key becomes the primary region's vault key: a vault needs a key of its own region.
    record["propertyDependencies"]["kmsKeyArn"] = [record["propertyDependencies"]["kmsKeyArn"][0].replace("dr-vault-key", "vault-key")]
    record["inputs"]["kmsKeyArn"] = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"


def _without_audit_log(record: Record) -> None:
    record["inputs"]["enabledClusterLogTypes"] = [t for t in record["inputs"]["enabledClusterLogTypes"] if t != "audit"]


def _engine_log_dropped(record: Record) -> None:
    record["inputs"]["logDeliveryConfigurations"] = [c for c in record["inputs"]["logDeliveryConfigurations"] if c["logType"] != "engine-log"]


def _force_ssl_off(record: Record) -> None:
    for parameter in record["inputs"]["parameters"]:
        if parameter["name"] == "rds.force_ssl":
            parameter["value"] = "0"


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    id: str
    policy: str
    target: tuple[str, str]  # (type, name) of the record edited or dropped
    edit: Callable[[Record], None] | None  # None: drop the target
    reported_on: tuple[str, str] | None = None  # the resource the finding names; default: the edited record
    collateral: tuple[str, ...] = ()  # other policies that rightly fail too (the case's comment says why); they must fire

    def __str__(self) -> str:
        return self.id


CASES = [
    # network
    Case("flow-log-dropped", "network-vpc-flow-logs", (FLOW_LOG, "golive-flow-log"), None, (VPC, "golive-vpc")),
    Case("flow-log-accepted-only", "network-vpc-flow-logs", (FLOW_LOG, "golive-flow-log"), setting("trafficType", "ACCEPT"), (VPC, "golive-vpc")),
    Case("endpoint-public-dns", "network-endpoint-private-dns", (ENDPOINT, "golive-sts-endpoint"), setting("privateDnsEnabled", False)),
    Case("private-subnet-public-ip", "network-subnet-no-public-ip", (SUBNET, "golive-private-eu-west-1b"), setting("mapPublicIpOnLaunch", True)),
    Case("default-sg-rule", "network-default-security-group-closed", (DEFAULT_SG, "golive-default-sg"),
         setting("ingress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}])),
    # A default group open to the world breaks two properties at once: it has a rule, and that rule admits 0.0.0.0/0.
    Case("default-sg-open-to-world", "network-default-security-group-closed", (DEFAULT_SG, "golive-default-sg"),
         setting("ingress", [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]),
         collateral=("security-group-no-world-ingress",)),
    Case("nat-gateway-dropped", "network-nat-gateway-per-az", (NAT, "golive-nat-eu-west-1c"), None, (VPC, "golive-vpc")),
    # common
    Case("kms-no-rotation", "kms-key-rotation", (KMS_KEY, "golive-db-key"), setting("enableKeyRotation", False)),
    Case("kms-short-window", "kms-key-rotation", (KMS_KEY, "golive-waf-logs-key"), setting("deletionWindowInDays", 7)),
    Case("log-group-forever", "logs-group-encrypted-retained", (LOG_GROUP, "golive-db-postgresql-logs"), removing("retentionInDays")),
    Case("log-group-unencrypted", "logs-group-encrypted-retained", (LOG_GROUP, "golive-cache-slow-log"), removing("kmsKeyId")),
    Case("owner-tag-blank", "tags-required", (VPC, "golive-vpc"), setting("tags.owner", "")),
    Case("dr-provider-any-account", "aws-provider-pinned", (AWS_PROVIDER, "aws-dr"), removing("allowedAccountIds")),
    Case("short-password", "secrets-random-password-length", (RANDOM_PASSWORD, "golive-cache-auth-token"), setting("length", 16)),
    # Without its kubeconfig the provider is no longer built from the cluster: the in-cluster half is gone too.
    Case("k8s-ambient-kubeconfig", "kubernetes-provider-explicit", (K8S_PROVIDER, "golive-k8s"), removing("kubeconfig"),
         collateral=("cluster-in-cluster-half-declared",)),
    # iam
    Case("admin-attached", "iam-no-administrator-grants", (ATTACHMENT, "golive-node-AmazonEC2ContainerRegistryReadOnly"),
         setting("policyArn", "arn:aws:iam::aws:policy/AdministratorAccess")),
    Case("role-trusts-everyone", "iam-role-trust-not-public", (ROLE, "golive-db-monitoring-role"), json_edit(("assumeRolePolicy",), _public_trust)),
    Case("topic-policy-public", "iam-resource-policy-not-public", (TOPIC_POLICY, "golive-backup-notifications-policy"),
         json_edit(("policy",), _public_statement)),
    # security groups
    # Nodes open to 0.0.0.0/0 are also reachable from the VPN (its group sends 443 into the VPC): an unintended path.
    Case("node-ingress-from-world", "security-group-no-world-ingress", (SG_INGRESS, "golive-nodes-from-nodes"),
         lambda r: (r["inputs"].pop("referencedSecurityGroupId", None), r["inputs"].update(cidrIpv4="0.0.0.0/0")),
         collateral=("network-reach-intent",)),
    Case("db-ingress-from-cidr", "security-group-data-tier-referenced-only", (SG, "golive-db-sg"),
         setting("ingress.0", {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["10.20.0.0/16"]})),
    # rds
    Case("rds-single-az", "rds-multi-az", (RDS, "golive-db-instance"), setting("multiAz", False)),
    Case("rds-aws-managed-key", "rds-storage-encrypted-cmk", (RDS, "golive-db-instance"), removing("kmsKeyId")),
    Case("rds-short-retention", "rds-backup-retention", (RDS, "golive-db-instance"), setting("backupRetentionPeriod", 7)),
    Case("rds-deletable", "rds-deletion-protection", (RDS, "golive-db-instance"), setting("deletionProtection", False)),
    Case("rds-skip-final-snapshot", "rds-final-snapshot", (RDS, "golive-db-instance"), setting("skipFinalSnapshot", True)),
    Case("rds-public", "rds-not-publicly-accessible", (RDS, "golive-db-instance"), setting("publiclyAccessible", True)),
    Case("rds-no-iam-auth", "rds-iam-authentication", (RDS, "golive-db-instance"), setting("iamDatabaseAuthenticationEnabled", False)),
    Case("rds-pi-aws-key", "rds-performance-insights-encrypted", (RDS, "golive-db-instance"), removing("performanceInsightsKmsKeyId")),
    Case("rds-no-enhanced-monitoring", "rds-enhanced-monitoring", (RDS, "golive-db-instance"), setting("monitoringInterval", 0)),
    Case("rds-no-upgrade-log", "rds-log-exports", (RDS, "golive-db-instance"), setting("enabledCloudwatchLogsExports", ["postgresql"])),
    Case("rds-password-input", "rds-master-password-managed", (RDS, "golive-db-instance"), setting("password", "[secret]")),
    Case("rds-unprotected", "rds-protected", (RDS, "golive-db-instance"), unprotected),
    Case("rds-tls-optional", "rds-force-tls", (RDS_PARAMS, "golive-db-params"), _force_ssl_off),
    # elasticache
    Case("cache-tls-preferred", "elasticache-transit-encryption", (CACHE, "golive-cache-replication-group"),
         setting("transitEncryptionMode", "preferred")),
    Case("cache-aws-managed-key", "elasticache-at-rest-encryption-cmk", (CACHE, "golive-cache-replication-group"), removing("kmsKeyId")),
    Case("cache-no-auth", "elasticache-auth-token", (CACHE, "golive-cache-replication-group"), removing("authToken")),
    Case("cache-no-failover", "elasticache-automatic-failover-multi-az", (CACHE, "golive-cache-replication-group"),
         setting("automaticFailoverEnabled", False)),
    Case("cache-one-node", "elasticache-min-nodes", (CACHE, "golive-cache-replication-group"), setting("numCacheClusters", 1)),
    Case("cache-short-snapshots", "elasticache-snapshot-retention", (CACHE, "golive-cache-replication-group"),
         setting("snapshotRetentionLimit", 1)),
    Case("cache-no-engine-log", "elasticache-log-delivery", (CACHE, "golive-cache-replication-group"), _engine_log_dropped),
    Case("cache-unprotected", "elasticache-protected", (CACHE, "golive-cache-replication-group"), unprotected),
    # secrets manager
    Case("secret-aws-managed-key", "secretsmanager-secret-cmk", (SECRET, "golive-logs-master"), setting("kmsKeyId", "alias/aws/secretsmanager")),
    # cluster
    # A public endpoint without publicAccessCidrs admits the whole internet: an unintended path from it.
    Case("eks-public-endpoint", "cluster-eks-endpoint-restricted", (EKS, "golive-eks"), setting("vpcConfig.endpointPublicAccess", True),
         collateral=("network-reach-intent",)),
    Case("eks-secrets-plain", "cluster-eks-secrets-encrypted", (EKS, "golive-eks"), removing("encryptionConfig")),
    Case("eks-no-audit-log", "cluster-eks-control-plane-logging", (EKS, "golive-eks"), _without_audit_log),
    Case("eks-old-version", "cluster-eks-supported-version", (EKS, "golive-eks"), setting("version", "1.29")),
    Case("nodes-min-one", "cluster-node-group-scaling", (NODE_GROUP, "golive-nodes"), setting("scalingConfig.minSize", 1)),
    Case("imdsv1", "cluster-launch-template-hardened", (LAUNCH_TEMPLATE, "golive-nodes-lt"), setting("metadataOptions.httpTokens", "optional")),
    Case("hpa-one-replica", "cluster-hpa-min-replicas", (HPA, "golive-trading-api-hpa"), setting("spec.minReplicas", 1)),
    Case("chart-range", "cluster-helm-chart-pinned", (HELM, "golive-metrics-server"), setting("version", "^3.12")),
    Case("no-default-deny", "cluster-service-namespace-isolation", (NETWORK_POLICY, "golive-trading-api-default-deny"), None,
         (NAMESPACE, "golive-trading-api")),
    Case("no-quota", "cluster-service-namespace-guardrails", (QUOTA, "golive-trading-api-quota"), None, (NAMESPACE, "golive-trading-api")),
    Case("storage-class-plain", "cluster-storage-class-encrypted", (STORAGE_CLASS, "golive-gp3-encrypted"), setting("parameters.encrypted", "false")),
    # edge
    Case("tls-1-0-policy", "edge-alb-https-tls-policy", (LISTENER, "golive-https"), setting("sslPolicy", "ELBSecurityPolicy-2016-08")),
    Case("frame-sameorigin", "edge-alb-security-headers", (LISTENER, "golive-https"),
         setting("routingHttpResponseXFrameOptionsHeaderValue", "SAMEORIGIN")),
    Case("http-forwards", "edge-alb-http-redirects-only", (LISTENER, "golive-http"), _forward_plain_http),
    Case("alb-invalid-headers", "edge-alb-drop-invalid-headers", (ALB, "golive-alb"), setting("dropInvalidHeaderFields", False)),
    # Its log bucket then claims the SSE-S3 exception for a delivery that no longer happens.
    Case("alb-no-access-logs", "edge-alb-access-logs", (ALB, "golive-alb"), setting("accessLogs.enabled", False),
         collateral=("s3-bucket-encryption-kms",)),
    Case("alb-deletable", "edge-alb-deletion-protection", (ALB, "golive-alb"), setting("enableDeletionProtection", False)),
    Case("waf-unassociated", "edge-alb-waf-associated", (WEB_ACL_ASSOCIATION, "golive-waf-alb"), None, (ALB, "golive-alb")),
    Case("waf-common-counts", "edge-waf-managed-rule-groups", (WEB_ACL, "golive-web-acl"), _count_managed_group),
    Case("waf-rate-limit-high", "edge-waf-rate-based-rule", (WEB_ACL, "golive-web-acl"), _raise_rate_limit),
    Case("waf-no-samples", "edge-waf-rule-metrics", (WEB_ACL, "golive-web-acl"), _no_samples),
    Case("waf-not-logged", "edge-waf-logging", (WEB_ACL_LOGGING, "golive-waf-logging"), None, (WEB_ACL, "golive-web-acl")),
    # security
    Case("trail-one-region", "security-cloudtrail-multi-region", (TRAIL, "golive-trail"), setting("isMultiRegionTrail", False)),
    Case("trail-no-validation", "security-cloudtrail-log-validation", (TRAIL, "golive-trail"), setting("enableLogFileValidation", False)),
    Case("trail-aws-key", "security-cloudtrail-kms", (TRAIL, "golive-trail"), removing("kmsKeyId")),
    Case("trail-not-in-cloudwatch", "security-cloudtrail-cloudwatch-logs", (TRAIL, "golive-trail"), removing("cloudWatchLogsRoleArn")),
    Case("guardduty-no-runtime", "security-guardduty-enabled", (GUARDDUTY_FEATURE, "golive-guardduty-runtime-monitoring"), None,
         (GUARDDUTY, "golive-guardduty")),
    Case("securityhub-no-cis", "security-securityhub-standards", (SECURITYHUB_STANDARD, "golive-securityhub-cis"), None,
         (SECURITYHUB, "golive-securityhub")),
    Case("vpn-no-connection-log", "security-client-vpn-connection-logs", (VPN, "golive-vpn"), setting("connectionLogOptions.enabled", False)),
    Case("vpn-authorizes-world", "security-client-vpn-authorization-scoped", (VPN_AUTHORIZATION, "golive-vpn-vpc"),
         setting("targetNetworkCidr", "0.0.0.0/0")),
    Case("trail-bucket-unlocked", "security-cloudtrail-write-once", (OBJECT_LOCK, "golive-cloudtrail-object-lock"), None,
         (BUCKET, "golive-cloudtrail-bucket")),
    Case("vpn-dropped", "security-admin-vpn", (VPN, "golive-vpn"), None, (EKS, "golive-eks")),
    # monitoring
    Case("service-not-probed", "monitoring-services-observed", (PROBE, "golive-probe-trading-api-http"), None, (NAMESPACE, "golive-trading-api")),
    Case("dashboard-without-uid", "monitoring-dashboards-have-queries", (CONFIG_MAP, "golive-dashboard-database"),
         json_edit(("data", "golive-database.json"), _drop_uid)),
    Case("alert-without-runbook", "monitoring-alert-rules-labelled", (PROMETHEUS_RULE, "golive-rules-data"), _rule_without_runbook),
    # 7 days are also shorter than the 30-day windows the SLO rules read.
    Case("prometheus-7d", "monitoring-prometheus-retention", (HELM, "golive-kube-prometheus-stack"),
         setting("values.prometheus.prometheusSpec.retention", "7d"), collateral=("monitoring-retention-covers-rule-windows",)),
    Case("prometheus-15d", "monitoring-retention-covers-rule-windows", (HELM, "golive-kube-prometheus-stack"),
         setting("values.prometheus.prometheusSpec.retention", "15d")),
    Case("critical-to-null", "monitoring-alertmanager-critical-receiver", (HELM, "golive-kube-prometheus-stack"), _critical_to_null),
    Case("routing-key-in-values", "monitoring-alertmanager-secrets-in-files", (HELM, "golive-kube-prometheus-stack"), _plain_pagerduty_key),
    Case("opensearch-plain-nodes", "monitoring-opensearch-encrypted", (OPENSEARCH, "golive-logs"), setting("nodeToNodeEncryption.enabled", False)),
    Case("opensearch-anonymous", "monitoring-opensearch-private", (OPENSEARCH, "golive-logs"),
         setting("advancedSecurityOptions.anonymousAuthEnabled", True)),
    Case("logs-kept-30-days", "monitoring-log-retention-declared", (CONFIG_MAP, "golive-opensearch-setup"),
         json_edit(("data", "settings.json"), _logs_kept_30_days), (HELM, "golive-fluent-bit")),
    Case("traces-never-deleted", "monitoring-trace-retention-declared", (CONFIG_MAP, "golive-opensearch-setup"),
         json_edit(("data", "settings.json"), _traces_never_deleted), (HELM, "golive-jaeger")),
    Case("service-not-sampled", "monitoring-trace-sampling-per-service", (HELM, "golive-otel-sampler"), _signal_service_unsampled,
         (NAMESPACE, "golive-signal-service")),
    # s3
    Case("versioning-suspended", "s3-bucket-versioning", (VERSIONING, "golive-alb-logs-versioning"),
         setting("versioningConfiguration.status", "Suspended"), (BUCKET, "golive-alb-logs-bucket")),
    # Not a log-delivery target: reported on the encryption configuration, beyond the reach of the bucket's exemption tags.
    Case("trail-bucket-sse-s3", "s3-bucket-encryption-kms", (ENCRYPTION, "golive-cloudtrail-encryption"),
         setting("rules", [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}])),
    Case("public-policy-allowed", "s3-bucket-public-access-blocked", (PUBLIC_ACCESS_BLOCK, "golive-cloudtrail-public-access-block"),
         setting("blockPublicPolicy", False), (BUCKET, "golive-cloudtrail-bucket")),
    Case("plain-http-allowed", "s3-bucket-tls-only", (BUCKET_POLICY, "golive-cloudtrail-policy"), json_edit(("policy",), _drop_tls_deny),
         (BUCKET, "golive-cloudtrail-bucket")),
    Case("acls-on", "s3-bucket-acls-disabled", (OWNERSHIP, "golive-backups-logs-ownership"), setting("rule.objectOwnership", "BucketOwnerPreferred"),
         (BUCKET, "golive-backups-logs-bucket")),
    # backup
    Case("backups-unlocked", "backup-bucket-object-lock", (OBJECT_LOCK, "golive-backups-object-lock"), None, (BUCKET, "golive-backups-bucket")),
    Case("backups-no-multipart-abort", "backup-bucket-lifecycle", (LIFECYCLE, "golive-backups-lifecycle"), _no_multipart_abort,
         (BUCKET, "golive-backups-bucket")),
    # Every bucket must be replicated (CKV_AWS_144): the source and its replica both lose that, beside the backup rule.
    Case("backups-not-replicated", "backup-bucket-cross-region-replication", (REPLICATION, "golive-backups-replication"), None,
         (BUCKET, "golive-backups-bucket"), collateral=("s3-bucket-cross-region-replication",)),
    Case("deletes-replicated", "backup-bucket-replication-settings", (REPLICATION, "golive-backups-replication"), _replicate_deletes),
    Case("vault-unprotected", "backup-storage-protected", (BACKUP_VAULT, "golive-backup-vault"), unprotected),
    Case("dr-vault-foreign-key", "backup-vault-cmk", (BACKUP_VAULT, "golive-backup-dr-vault"), _vault_key_of_primary_region),
    Case("dr-vault-unlocked", "backup-vault-locked", (VAULT_LOCK, "golive-backup-dr-vault-lock"), None, (BACKUP_VAULT, "golive-backup-dr-vault")),
    Case("plan-7-days", "backup-plan-retention", (BACKUP_PLAN, "golive-backup-plan"), setting("rules.0.lifecycle.deleteAfter", 7)),
    Case("plan-no-dr-copy", "backup-plan-cross-region-copy", (BACKUP_PLAN, "golive-backup-plan"), _without_copies),
    Case("database-not-selected", "backup-selection-coverage", (BACKUP_SELECTION, "golive-backup-selection"), None, (RDS, "golive-db-instance")),
    # Same: the access-log bucket keeps SSE-S3 (which only log delivery justifies) with nothing delivered to it.
    # Its log bucket then receives no access logs: its SSE-S3 is no longer justified by a log delivery.
    Case("backups-not-access-logged", "s3-bucket-access-logging", (BUCKET_LOGGING, "golive-backups-access-logging"), None,
         (BUCKET, "golive-backups-bucket"), collateral=("s3-bucket-encryption-kms",)),
    Case("database-pitr-not-replicated", "backup-database-cross-region-pitr", (RDS_BACKUP_REPLICATION, "golive-db-dr-replication"), None,
         (RDS, "golive-db-instance")),
    Case("vault-silent", "backup-vault-notifications", (VAULT_NOTIFICATIONS, "golive-backup-vault-notifications"), None),
    # delivery
    Case("rollout-unanalysed", "delivery-strategy-analysed", (ROLLOUT, "golive-trading-api-rollout"), _no_analysis_steps),
    Case("weights-decrease", "delivery-canary-weights-increase", (ROLLOUT, "golive-listings-service-rollout"), _weights_down),
    Case("undocumented-metric", "delivery-analysis-metrics-documented", (ANALYSIS_TEMPLATE, "golive-signal-service-analysis"),
         _undocumented_metric),
    Case("plugin-over-http", "delivery-traffic-router-installed", (HELM, "golive-argo-rollouts"), _insecure_plugin,
         (ROLLOUT, "golive-trading-api-rollout")),
    Case("plugin-without-region", "delivery-traffic-router-configured", (ROLLOUT, "golive-signal-service-rollout"),
         _plugin_without_region),
    # resilience
    Case("database-never-restored", "resilience-restore-tested", (RESTORE_SELECTION, "golive-restore-tests-database"), None,
         (RDS, "golive-db-instance")),
    Case("volumes-never-restored", "resilience-restore-tested", (RESTORE_SELECTION, "golive-restore-tests-volumes"),
         setting("protectedResourceConditions.stringEquals.0.value", "false"), (STORAGE_CLASS, "golive-gp3-encrypted")),
    Case("restore-role-can-back-up", "resilience-restore-role-least-privilege", (ATTACHMENT, "golive-restore-tests-role-restores"),
         setting("policyArn", "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"),
         (ROLE, "golive-restore-tests-role")),
    Case("experiment-unstoppable", "resilience-experiment-stop-condition", (FIS_TEMPLATE, "golive-game-days-zone-nodes"),
         setting("stopConditions", [{"source": "none"}])),
    Case("experiment-hits-every-cache", "resilience-experiment-scoped-target", (FIS_TEMPLATE, "golive-game-days-cache-failover"),
         setting("targets.0.resourceTags", [{"key": "project", "value": "golive"}])),
    Case("experiment-unlogged", "resilience-experiment-logging", (FIS_TEMPLATE, "golive-game-days-database-failover"),
         removing("logConfiguration")),
]


def _record(synth: engine.SynthResult, type_: str, name: str) -> Record:
    matches = [r for r in synth.resources if r["type"] == type_ and r["name"] == name]
    assert len(matches) == 1, f"expected one {type_} named {name}, found {len(matches)}"
    return matches[0]


def _key(finding: check.Finding) -> tuple[str, str | None, str]:
    return finding.policy, finding.urn, finding.message


# Each case's verdict, kept for the gRPC tier (tests/test_analyzer.py), which compares it with the pack's own process.
RESULTS: dict[str, check.CheckResult] = {}


def mutated_stack(prod: engine.SynthResult, case: Case) -> engine.SynthResult:
    """The prod stack with the case's one edit (or with its target dropped)."""
    target = _record(prod, *case.target)
    if case.edit is None:
        return drop(prod, lambda r, urn=target["urn"]: r["urn"] == urn)
    return mutate(prod, target["urn"], case.edit)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_breaking_what_a_policy_guards_fails_that_policy_only(prod, prod_check, case):
    mutated = mutated_stack(prod, case)
    reported_on = case.reported_on if case.edit is None else case.reported_on or case.target
    result = RESULTS[case.id] = check.check(mutated)

    baseline = {_key(f) for f in prod_check.findings}
    new = [f for f in result.findings if _key(f) not in baseline]
    info = result.policies[case.policy]
    own = [f for f in new if f.policy == case.policy]
    assert own, f"{case.policy} did not catch the mutation {case.id}; new findings: {[_key(f) for f in new]}"
    assert all(f.enforcement == info.enforcement for f in own)
    if info.enforcement == "mandatory":
        assert any(f.policy == case.policy for f in result.mandatory)
    if reported_on is not None:
        urn = _record(prod, *reported_on)["urn"]
        assert urn in {f.urn for f in own}, f"{case.policy} reported on {[f.urn for f in own]}, not on {urn}"

    others = sorted({f.policy for f in new if f.policy != case.policy} - set(case.collateral))
    assert not others, f"mutation {case.id} also fired {others}: {[_key(f) for f in new if f.policy in others]}"
    silent = sorted(set(case.collateral) - {f.policy for f in new})
    assert not silent, f"collateral listed for {case.id} did not fire (stale table entry): {silent}"


def test_cases_cover_every_area_and_enough_policies():
    policies = {case.policy for case in CASES}
    known = {p.name for p in check.load_policies()}
    assert policies <= known, sorted(policies - known)
    assert len(policies) >= 25
    prefixes = {"network-", "tags-", "kms-", "logs-", "aws-provider-", "secrets-", "kubernetes-", "iam-", "security-group-", "rds-",
                "elasticache-", "secretsmanager-", "cluster-", "edge-", "security-", "monitoring-", "s3-", "backup-", "delivery-", "resilience-"}
    assert all(any(p.startswith(prefix) for p in policies) for prefix in prefixes)
    assert len({case.id for case in CASES}) == len(CASES)
