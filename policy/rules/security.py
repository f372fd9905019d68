"""Security baseline rules: CloudTrail, GuardDuty, Security Hub, AWS Config, Client VPN."""

from __future__ import annotations

from pulumi_policy import Severity

from . import types as t
from ._base import (
    KMS_KEY_TYPES,
    customer_managed_key,
    declare_reference,
    depends_via,
    get,
    is_production,
    is_set,
    of_type,
    refers_to,
    resource_policy,
    stack_policy,
)
from .s3 import attached

GUARDDUTY_FEATURES = ("S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "RUNTIME_MONITORING", "RDS_LOGIN_EVENTS", "EBS_MALWARE_PROTECTION")

# --------------------------------------------------------------------------- CloudTrail


def _check_trail_coverage(args, cfg):
    props = args.props
    if not get(props, "isMultiRegionTrail"):
        yield f"trail {args.name} records one region only; activity in any other region goes unseen."
    if get(props, "includeGlobalServiceEvents") is False:
        yield f"trail {args.name} skips global service events (IAM, STS, CloudFront)."
    if get(props, "enableLogging") is False:
        yield f"trail {args.name} has logging switched off."


cloudtrail_multi_region = resource_policy(
    name="security-cloudtrail-multi-region",
    description="CloudTrail trails log in every region, include global service events and are switched on.",
    types=(t.CLOUDTRAIL,),
    check=_check_trail_coverage,
    severity=Severity.HIGH,
    category="Compliance",
    remediation="Set is_multi_region_trail=True, include_global_service_events=True, enable_logging=True.",
    controls=("fsbp:CloudTrail.1", "cis:3.1", "checkov:CKV_AWS_67"),
)


def _check_trail_validation(args, cfg):
    if not get(args.props, "enableLogFileValidation"):
        yield f"trail {args.name} has no log file validation; tampered or deleted log files would go unnoticed."


cloudtrail_log_validation = resource_policy(
    name="security-cloudtrail-log-validation",
    description="CloudTrail trails write digest files so log tampering is detectable.",
    types=(t.CLOUDTRAIL,),
    check=_check_trail_validation,
    severity=Severity.MEDIUM,
    category="Compliance",
    remediation="Set enable_log_file_validation=True.",
    controls=("fsbp:CloudTrail.4", "cis:3.2", "checkov:CKV_AWS_36"),
)


declare_reference((t.CLOUDTRAIL,), "kmsKeyId", KMS_KEY_TYPES)
declare_reference((t.CLOUDTRAIL,), "cloudWatchLogsGroupArn", (t.LOG_GROUP,))
declare_reference((t.CLOUDTRAIL,), "cloudWatchLogsRoleArn", (t.IAM_ROLE,))


def _check_trail_kms(args, cfg):
    if problem := customer_managed_key(args.props, "kmsKeyId"):
        yield f"trail {args.name} is not encrypted with a customer-managed KMS key: it {problem}."


cloudtrail_kms = resource_policy(
    name="security-cloudtrail-kms",
    description="CloudTrail log files are encrypted with a customer-managed KMS key.",
    types=(t.CLOUDTRAIL,),
    check=_check_trail_kms,
    severity=Severity.MEDIUM,
    category="Security",
    remediation="Pass kms_key_id (a components.kms.EncryptionKey allowing the cloudtrail principal).",
    controls=("fsbp:CloudTrail.2", "cis:3.5", "checkov:CKV_AWS_35"),
)


def _check_trail_cloudwatch(args, cfg):
    if not is_set(args.props, "cloudWatchLogsGroupArn") or not is_set(args.props, "cloudWatchLogsRoleArn"):
        yield f"trail {args.name} is not delivered to CloudWatch Logs; no metric filter or alarm can watch it."


cloudtrail_cloudwatch = resource_policy(
    name="security-cloudtrail-cloudwatch-logs",
    description="CloudTrail trails are delivered to a CloudWatch log group, where alarms can read them.",
    types=(t.CLOUDTRAIL,),
    check=_check_trail_cloudwatch,
    severity=Severity.LOW,
    category="Monitoring & Alerting",
    remediation="Pass cloud_watch_logs_group_arn (\"<log group arn>:*\") and cloud_watch_logs_role_arn.",
    controls=("fsbp:CloudTrail.5", "checkov:CKV2_AWS_10"),
)


def _check_trail_write_once(args, cfg):
    if not is_production(args):
        return
    locks = attached(args, t.S3_OBJECT_LOCKS)
    for trail in of_type(args, t.CLOUDTRAIL):
        for bucket in depends_via(trail, "s3BucketName"):
            if bucket.resource_type not in t.S3_BUCKETS:
                continue
            if get(bucket.props, "objectLockEnabled") is not True and get(bucket.props, "objectLockConfiguration.objectLockEnabled") != "Enabled":
                yield (f"CloudTrail bucket {bucket.name} (trail {trail.name}) is created without S3 Object Lock: anyone holding the "
                       "account's keys could delete the audit trail, and Object Lock can only be turned on at creation.", bucket.urn)
                continue
            retentions = [get(lock.props, "rule.defaultRetention") for lock in locks.get(bucket.urn, [])]
            retentions.append(get(bucket.props, "objectLockConfiguration.rule.defaultRetention"))
            if not any(get(r, "mode") in ("GOVERNANCE", "COMPLIANCE") for r in retentions if r is not None):
                yield (f"CloudTrail bucket {bucket.name} (trail {trail.name}) has no Object Lock default retention: new log files "
                       "are not locked.", bucket.urn)


cloudtrail_write_once = stack_policy(
    name="security-cloudtrail-write-once",
    description="In production the bucket CloudTrail writes to has S3 Object Lock with a default retention: log files cannot be "
    "deleted early.",
    check=_check_trail_write_once,
    types=(t.CLOUDTRAIL, *t.S3_BUCKETS, *t.S3_OBJECT_LOCKS),
    severity=Severity.HIGH,
    category="Compliance",
    remediation="Keep golive:security.cloudtrailObjectLock true (the default; the config refuses false in production).",
    controls=("fsbp:S3.15",),
)

# --------------------------------------------------------------------------- admin access


def _check_admin_vpn(args, cfg):
    if not is_production(args):
        return
    associations = of_type(args, t.CLIENT_VPN_NETWORK_ASSOCIATION)
    reachable = [e for e in of_type(args, t.CLIENT_VPN_ENDPOINT) if any(refers_to(a, "clientVpnEndpointId", e) for a in associations)]
    for cluster in of_type(args, t.EKS_CLUSTER):
        # EKS makes the endpoint public unless told otherwise; only a private one needs the VPN.
        if get(cluster.props, "vpcConfig.endpointPublicAccess") is False and not reachable:
            yield (f"EKS cluster {cluster.name} has a private API endpoint and the stack has no admin Client VPN endpoint associated "
                   "with the VPC: administrators have no way to the Kubernetes API.", cluster.urn)


admin_vpn = stack_policy(
    name="security-admin-vpn",
    description="A production stack whose Kubernetes API is private has the admin Client VPN, associated with the VPC.",
    check=_check_admin_vpn,
    types=(t.EKS_CLUSTER, t.CLIENT_VPN_ENDPOINT, t.CLIENT_VPN_NETWORK_ASSOCIATION),
    severity=Severity.HIGH,
    category="Security",
    remediation="Enable golive:security.vpn with serverCertificateArn and clientRootCertificateArn (a production stack "
    "refuses to run without it).",
)

# --------------------------------------------------------------------------- GuardDuty


def _check_guardduty(args, cfg):
    # Only the platform stack of a production account owns the account baseline (it declares the VPC).
    if not is_production(args) or not of_type(args, t.VPC):
        return
    detectors = of_type(args, t.GUARDDUTY_DETECTOR)
    enabled = [d for d in detectors if get(d.props, "enable") is not False]
    if not enabled:
        vpc = of_type(args, t.VPC)[0]
        what = "is disabled" if detectors else "does not exist"
        yield f"no GuardDuty detector is enabled (the detector {what}); threats in the account go undetected.", (
            detectors[0].urn if detectors else vpc.urn
        )
        return
    features = of_type(args, t.GUARDDUTY_FEATURE)
    for detector in enabled:
        on = {get(f.props, "name") for f in features if refers_to(f, "detectorId", detector) and get(f.props, "status") == "ENABLED"}
        missing = [f for f in cfg["requiredFeatures"] if f not in on]
        if missing:
            yield f"GuardDuty detector {detector.name} lacks the feature(s) {', '.join(missing)}.", detector.urn


guardduty_enabled = stack_policy(
    name="security-guardduty-enabled",
    description="A production platform stack has an enabled GuardDuty detector with S3, EKS audit and runtime, RDS and EBS malware coverage.",
    check=_check_guardduty,
    types=(t.GUARDDUTY_DETECTOR, t.GUARDDUTY_FEATURE, t.VPC),
    severity=Severity.HIGH,
    category="Security",
    remediation="Keep the security Baseline component (aws.guardduty.Detector enable=True and its DetectorFeatures).",
    controls=("fsbp:GuardDuty.1",),
    defaults={"requiredFeatures": GUARDDUTY_FEATURES},
)

# --------------------------------------------------------------------------- Client VPN


def _check_vpn_logs(args, cfg):
    if not get(args.props, "connectionLogOptions.enabled") or not get(args.props, "connectionLogOptions.cloudwatchLogGroup"):
        yield f"Client VPN endpoint {args.name} does not log connections; who connected when is unknown."


client_vpn_logs = resource_policy(
    name="security-client-vpn-connection-logs",
    description="Client VPN endpoints log every connection to CloudWatch Logs.",
    types=(t.CLIENT_VPN_ENDPOINT,),
    check=_check_vpn_logs,
    severity=Severity.MEDIUM,
    category="Compliance",
    remediation="Pass connection_log_options (enabled, cloudwatch_log_group, cloudwatch_log_stream).",
    controls=("fsbp:EC2.51",),
)


def _check_vpn_authorization(args, cfg):
    cidr = get(args.props, "targetNetworkCidr")
    if cidr in ("0.0.0.0/0", "::/0"):
        yield f"Client VPN authorization {args.name} opens {cidr}: VPN clients could reach anything the VPC reaches."


client_vpn_scoped = resource_policy(
    name="security-client-vpn-authorization-scoped",
    description="Client VPN authorization rules grant networks, never 0.0.0.0/0.",
    types=(t.CLIENT_VPN_AUTHORIZATION,),
    check=_check_vpn_authorization,
    severity=Severity.MEDIUM,
    category="Security",
    remediation="Authorize the VPC CIDR only (the Baseline component does).",
)

def _check_security_hub(args, cfg):
    if not is_production(args) or not of_type(args, t.VPC):
        return
    accounts = of_type(args, t.SECURITYHUB_ACCOUNT)
    subscribed = [str(get(s.props, "standardsArn") or "") for s in of_type(args, t.SECURITYHUB_STANDARD)]
    if not accounts:
        yield "Security Hub is not enabled; FSBP and CIS findings are not collected for this production account.", of_type(args, t.VPC)[0].urn
        return
    for standard in cfg["requiredStandards"]:
        if not any(f"standards/{standard}/" in arn for arn in subscribed):
            yield f"Security Hub is not subscribed to the {standard} standard.", accounts[0].urn


security_hub_standards = stack_policy(
    name="security-securityhub-standards",
    description="A production stack enables Security Hub with the AWS Foundational Security Best Practices and CIS standards.",
    check=_check_security_hub,
    types=(t.SECURITYHUB_ACCOUNT, t.SECURITYHUB_STANDARD, t.VPC),
    severity=Severity.MEDIUM,
    category="Compliance",
    remediation="Set golive:security.securityHub to true (the Baseline subscribes both standards).",
    controls=("fsbp:SecurityHub.1", "cis:4.16"),
    defaults={"requiredStandards": ("aws-foundational-security-best-practices", "cis-aws-foundations-benchmark")},
)

# --------------------------------------------------------------------------- AWS Config


def _check_config_recorder(args, cfg):
    # Like GuardDuty: only the platform stack of a production account owns the account baseline.
    if not is_production(args) or not of_type(args, t.VPC):
        return
    recorders = of_type(args, t.CONFIG_RECORDER)
    if not recorders:
        yield ("no AWS Config recorder: the Security Hub controls that evaluate AWS Config (most of FSBP and CIS) report "
               "nothing and Config.1 fails."), of_type(args, t.VPC)[0].urn
        return
    # The bucket's name is unknown at a first preview; that it is this stack's bucket, aws-references-resolve proves.
    channels = {get(c.props, "name") for c in of_type(args, t.CONFIG_DELIVERY_CHANNEL) if is_set(c.props, "s3BucketName")}
    statuses = of_type(args, t.CONFIG_RECORDER_STATUS)
    for recorder in recorders:
        if get(recorder.props, "recordingGroup.allSupported") is not True:
            yield f"AWS Config recorder {recorder.name} does not record all supported resource types.", recorder.urn
        if get(recorder.props, "recordingGroup.includeGlobalResourceTypes") is not True:
            yield f"AWS Config recorder {recorder.name} skips global resource types (IAM users, roles, policies).", recorder.urn
        if get(recorder.props, "name") not in channels:
            yield f"AWS Config recorder {recorder.name} has no delivery channel to an S3 bucket: AWS refuses to start it.", recorder.urn
        if not any(refers_to(s, "name", recorder) and get(s.props, "isEnabled") is True for s in statuses):
            yield f"AWS Config recorder {recorder.name} is never switched on (no RecorderStatus with isEnabled true).", recorder.urn


declare_reference((t.CONFIG_DELIVERY_CHANNEL,), "s3BucketName", (t.S3_BUCKET,))
declare_reference((t.CONFIG_DELIVERY_CHANNEL,), "s3KmsKeyArn", KMS_KEY_TYPES)

config_recorder = stack_policy(
    name="security-config-recorder",
    description="A production platform stack records every supported resource type (global ones included) with AWS Config, "
    "delivered to S3 and switched on.",
    check=_check_config_recorder,
    types=(t.CONFIG_RECORDER, t.CONFIG_DELIVERY_CHANNEL, t.CONFIG_RECORDER_STATUS, t.VPC, t.PROVIDER_AWS),
    severity=Severity.MEDIUM,
    category="Compliance",
    remediation="Keep the security Baseline's ConfigRecorder (golive:singletons.configRecorder create or adopt), or skip it "
    "with a reason when the organization records AWS Config centrally.",
    controls=("fsbp:Config.1", "cis:3.3", "checkov:CKV2_AWS_45"),
)

POLICIES = [
    config_recorder,
    security_hub_standards,
    cloudtrail_multi_region,
    cloudtrail_log_validation,
    cloudtrail_kms,
    cloudtrail_cloudwatch,
    cloudtrail_write_once,
    admin_vpn,
    guardduty_enabled,
    client_vpn_logs,
    client_vpn_scoped,
]
