"""The security Baseline: CloudTrail, GuardDuty, Security Hub and the admin Client VPN."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.config import AwsAccount, ConfigError, parse
from components.security import GUARDDUTY_FEATURES, Baseline, BaselineArgs, security_hub_standards
from tests.helpers import deps, of_type, one, props

TRAIL = "aws:cloudtrail/trail:Trail"
ENDPOINT = "aws:ec2clientvpn/endpoint:Endpoint"
SERVER_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/4f6b1c2e-7a1d-4c3b-9e2f-0a1b2c3d4e5f"
CLIENT_CA = "arn:aws:acm:eu-west-1:123456789012:certificate/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def attached_to(synth, bucket):
    return {r["type"].rsplit(":", 1)[1]: r for r in synth.resources if deps(r, "bucket") == [bucket["urn"]]}


def baseline_program(security):
    def program():
        cfg = parse({"security": security})
        provider = aws.Provider("aws-primary", region=cfg.region)
        Baseline("golive", BaselineArgs(config=cfg.security, account=cfg.aws, vpc_id="vpc-0example", vpc_cidr="10.20.0.0/16",
                                        private_subnet_ids=["subnet-a", "subnet-b"]),
                 opts=pulumi.ResourceOptions(providers={"aws": provider}))

    return program


# --------------------------------------------------------------------------- CloudTrail


def test_trail_covers_every_region_validates_and_encrypts(prod):
    trail = one(prod, TRAIL)
    p = props(trail)
    assert p["isMultiRegionTrail"] is True and p["includeGlobalServiceEvents"] is True
    assert p["enableLogFileValidation"] is True and p["enableLogging"] is True
    assert p["eventSelectors"] == [{"includeManagementEvents": True, "readWriteType": "All"}]
    key = prod.by_urn()[deps(trail, "kmsKeyId")[0]]
    statements = json.loads(props(key)["policy"])["Statement"]
    assert any(s["Principal"] == {"Service": "cloudtrail.amazonaws.com"} for s in statements)
    assert props(key)["enableKeyRotation"] is True


def test_trail_delivers_to_cloudwatch_logs_through_a_scoped_role(prod):
    trail = one(prod, TRAIL)
    p = props(trail)
    group = prod.by_urn()[deps(trail, "cloudWatchLogsGroupArn")[0]]
    assert p["cloudWatchLogsGroupArn"].endswith(":log-group:/golive/golive/cloudtrail:*")
    assert props(group)["retentionInDays"] == 365 and deps(group, "kmsKeyId") == deps(trail, "kmsKeyId")
    role = prod.by_urn()[deps(trail, "cloudWatchLogsRoleArn")[0]]
    trust = json.loads(props(role)["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/golive-trail"}}
    policy = one(prod, "aws:iam/rolePolicy:RolePolicy", "cloudtrail-logs")
    (statement,) = json.loads(props(policy)["policy"])["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"].endswith(":log-group:/golive/golive/cloudtrail:log-stream:*")


def test_trail_bucket_is_private_versioned_encrypted_tls_only_and_write_once(prod):
    trail = one(prod, TRAIL)
    bucket = prod.by_urn()[deps(trail, "s3BucketName")[0]]
    assert props(bucket)["objectLockEnabled"] is True and bucket["options"]["protect"] is True
    attached = attached_to(prod, bucket)
    assert props(attached["BucketVersioning"])["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = props(attached["BucketServerSideEncryptionConfiguration"])["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms" and rule["bucketKeyEnabled"] is True
    pab = props(attached["BucketPublicAccessBlock"])
    assert all(pab[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    lock = props(attached["BucketObjectLockConfiguration"])["rule"]["defaultRetention"]
    assert lock == {"mode": "GOVERNANCE", "days": 365}
    (lifecycle,) = props(attached["BucketLifecycleConfiguration"])["rules"]
    assert lifecycle["expiration"]["days"] == 2557
    assert "golive:exempt:s3-bucket-encryption-kms" not in props(bucket)["tags"]  # KMS: nothing to accept


def test_trail_bucket_policy_admits_only_this_trail_and_tls(prod):
    trail = one(prod, TRAIL)
    bucket = prod.by_urn()[deps(trail, "s3BucketName")[0]]
    policy = attached_to(prod, bucket)["BucketPolicy"]
    statements = {s["Sid"]: s for s in json.loads(props(policy)["policy"])["Statement"]}
    source = {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/golive-trail"}}
    assert statements["CloudTrailWrite"]["Condition"] == source and statements["CloudTrailAclCheck"]["Condition"] == source
    assert statements["CloudTrailWrite"]["Resource"].endswith("/AWSLogs/123456789012/*")
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert policy["urn"] in trail["options"]["dependsOn"]  # CloudTrail checks the policy when the trail is created


def _staging_baseline_program(security):
    def program():
        cfg = parse({"environment": "staging", "security": security})
        provider = aws.Provider("aws-primary", region=cfg.region)
        Baseline("golive", BaselineArgs(config=cfg.security, account=cfg.aws, vpc_id="vpc-0example", vpc_cidr="10.20.0.0/16",
                                        private_subnet_ids=["subnet-a", "subnet-b"]),
                 opts=pulumi.ResourceOptions(providers={"aws": provider}))

    return program


def test_object_lock_is_on_by_default_and_optional_outside_production():
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config()
    result = engine.synth("prod", config=config, secret_keys=secret_keys, program=baseline_program({}))
    assert props(one(result, "aws:s3/bucket:Bucket", "golive-cloudtrail"))["objectLockEnabled"] is True
    assert len(of_type(result, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")) == 1
    # defaults: VPN off, Security Hub on
    assert of_type(result, ENDPOINT) == [] and len(of_type(result, "aws:securityhub/standardsSubscription:StandardsSubscription")) == 2
    staging = engine.synth("prod", config=config, secret_keys=secret_keys,
                           program=_staging_baseline_program({"cloudtrailObjectLock": False}))
    assert of_type(staging, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration") == []
    assert "objectLockEnabled" not in props(one(staging, "aws:s3/bucket:Bucket", "golive-cloudtrail"))


def test_production_refuses_cloudtrail_without_object_lock():
    with pytest.raises(ConfigError) as err:
        parse({"security": {"cloudtrailObjectLock": False}})
    assert [(p.key, p.value) for p in err.value.problems] == [("golive:security.cloudtrailObjectLock", False)]
    assert "write-once" in err.value.problems[0].rule


# --------------------------------------------------------------------------- GuardDuty and Security Hub


def test_guardduty_detector_with_every_feature(prod):
    detector = one(prod, "aws:guardduty/detector:Detector")
    assert props(detector)["enable"] is True and props(detector)["findingPublishingFrequency"] == "FIFTEEN_MINUTES"
    features = {props(f)["name"]: f for f in of_type(prod, "aws:guardduty/detectorFeature:DetectorFeature")}
    assert set(features) == set(GUARDDUTY_FEATURES)
    assert all(props(f)["status"] == "ENABLED" and deps(f, "detectorId") == [detector["urn"]] for f in features.values())
    assert props(features["RUNTIME_MONITORING"])["additionalConfigurations"] == [{"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"}]


def test_security_hub_subscribes_to_fsbp_and_cis(prod):
    account = one(prod, "aws:securityhub/account:Account")
    assert props(account)["enableDefaultStandards"] is False and props(account)["controlFindingGenerator"] == "SECURITY_CONTROL"
    subscriptions = of_type(prod, "aws:securityhub/standardsSubscription:StandardsSubscription")
    assert sorted(props(s)["standardsArn"] for s in subscriptions) == [
        "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0",
        "arn:aws:securityhub:eu-west-1::standards/cis-aws-foundations-benchmark/v/3.0.0",
    ]
    assert all(s["options"]["dependsOn"] == [account["urn"]] for s in subscriptions)


def test_standard_arns_follow_the_partition():
    arns = security_hub_standards(AwsAccount("123456789012", "us-gov-west-1", "aws-us-gov"))
    assert arns["cis"].startswith("arn:aws-us-gov:securityhub:us-gov-west-1::standards/")


# --------------------------------------------------------------------------- Client VPN


def test_vpn_uses_mutual_tls_split_tunnel_and_logs_connections(prod):
    endpoint = one(prod, ENDPOINT)
    p = props(endpoint)
    assert p["serverCertificateArn"] == SERVER_CERT
    assert p["authenticationOptions"] == [{"type": "certificate-authentication", "rootCertificateChainArn": CLIENT_CA}]
    assert p["splitTunnel"] is True and p["clientCidrBlock"] == "172.16.0.0/22"
    assert p["dnsServers"] == ["10.20.0.2"] and p["selfServicePortal"] == "disabled"
    logs = p["connectionLogOptions"]
    assert logs["enabled"] is True and logs["cloudwatchLogStream"] == "connections"
    group = prod.by_urn()[next(u for u in deps(endpoint, "connectionLogOptions") if "logGroup" in u)]
    assert props(group)["kmsKeyId"].startswith("arn:aws:kms:") and props(group)["retentionInDays"] == 365


def test_vpn_reaches_the_private_subnets_and_only_the_vpc(prod):
    endpoint = one(prod, ENDPOINT)
    associations = of_type(prod, "aws:ec2clientvpn/networkAssociation:NetworkAssociation")
    subnets = prod.by_urn()
    assert len(associations) == 3
    assert {props(subnets[deps(a, "subnetId")[0]])["tags"]["tier"] for a in associations} == {"private"}
    (rule,) = of_type(prod, "aws:ec2clientvpn/authorizationRule:AuthorizationRule")
    assert props(rule)["targetNetworkCidr"] == "10.20.0.0/16" and deps(rule, "clientVpnEndpointId") == [endpoint["urn"]]
    sg = subnets[deps(endpoint, "securityGroupIds")[0]]
    assert props(sg).get("ingress", []) == []
    assert {(e["protocol"], e["fromPort"], e["cidrBlocks"][0]) for e in props(sg)["egress"]} == {
        ("tcp", 443, "10.20.0.0/16"), ("udp", 53, "10.20.0.2/32"), ("tcp", 53, "10.20.0.2/32")}


@pytest.mark.parametrize(
    "raw, key, rule",
    [
        ({"security": {"vpn": {"enabled": True}}}, "golive:security.vpn.serverCertificateArn", "required when the VPN is enabled"),
        ({"security": {"vpn": {"enabled": True, "serverCertificateArn": SERVER_CERT}}},
         "golive:security.vpn.clientRootCertificateArn", "required when the VPN is enabled"),
        ({"security": {"vpn": {"serverCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/4f6b1c2e-7a1d-4c3b-9e2f-0a1b2c3d4e5f"}}},
         "golive:security.vpn.serverCertificateArn", "ACM certificate ARN in eu-west-1"),
        ({"security": {"vpn": {"clientCidr": "10.20.4.0/22"}}}, "golive:security.vpn.clientCidr", "overlaps the VPC CIDR"),
        ({"security": {"vpn": {"clientCidr": "172.16.0.0/24"}}}, "golive:security.vpn.clientCidr", "/12 to /22"),
        ({"security": {"guarddutyFindingFrequency": "DAILY"}}, "golive:security.guarddutyFindingFrequency", "one of"),
        ({"security": {"cloudtrailExpiryDays": 90}}, "golive:security.cloudtrailExpiryDays", "at least 365 days"),
        ({"security": {"cloudtrailObjectLock": True, "cloudtrailLockDays": 3000}}, "golive:security.cloudtrailLockDays",
         "must not exceed cloudtrailExpiryDays"),
        ({"security": {"cloudtrailLogRetentionDays": 100}}, "golive:security.cloudtrailLogRetentionDays", "CloudWatch retention value"),
    ],
)
def test_security_config_errors_name_the_key_and_the_rule(raw, key, rule):
    with pytest.raises(ConfigError) as err:
        parse(raw)
    rendered = [p.render() for p in err.value.problems]
    assert any(line.startswith(f"{key} = ") and rule in line for line in rendered), rendered


def test_exports_name_the_audit_resources(prod):
    assert prod.outputs["cloudTrailBucket"].startswith("golive-cloudtrail-")
    assert prod.outputs["guardDutyDetectorId"] and prod.outputs["adminVpnEndpointId"].startswith("cvpn-endpoint-")


RECORDER = "aws:cfg/recorder:Recorder"
CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
RECORDING = "aws:cfg/recorderStatus:RecorderStatus"


# --------------------------------------------------------------------------- account singletons

DETECTOR, HUB = "aws:guardduty/detector:Detector", "aws:securityhub/account:Account"
SKIP = {"mode": "skip", "reason": "enabled by the organization delegated administrator"}


def test_singletons_are_created_by_default_and_deleted_with_the_stack(prod):
    for type_ in (DETECTOR, HUB, RECORDER, CHANNEL, RECORDING, "aws:iam/serviceLinkedRole:ServiceLinkedRole"):
        assert of_type(prod, type_) and all(r["options"]["retainOnDelete"] is False for r in of_type(prod, type_))


def _synth(overrides):
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config(overrides)
    return engine.synth("prod", config=config, secret_keys=secret_keys)


@pytest.fixture(scope="module")
def skipped():
    return _synth({"singletons": {"guarddutyDetector": SKIP, "securityHub": SKIP, "configRecorder": SKIP}})


ADOPTED = {"singletons": {"guarddutyDetector": {"mode": "adopt"}, "securityHub": {"mode": "adopt"}, "configRecorder": {"mode": "adopt"}}}


def test_skipped_singletons_are_not_declared_and_show_as_accepted_risks_with_their_reason(skipped):
    from golive import check

    result = skipped
    for type_ in (DETECTOR, "aws:guardduty/detectorFeature:DetectorFeature", HUB,
                  "aws:securityhub/standardsSubscription:StandardsSubscription", RECORDER, CHANNEL, RECORDING):
        assert of_type(result, type_) == [], type_
    assert not [b for b in of_type(result, "aws:s3/bucket:Bucket") if "config" in b["name"]], "no delivery bucket either"
    checked = check.check(result)
    assert checked.mandatory == []
    singleton_policies = {"security-guardduty-enabled", "security-securityhub-standards", "security-config-recorder"}
    reasons = {e.policy: e.reason for e in checked.exemptions if e.policy in singleton_policies}
    expected = f"skipped: {SKIP['reason']}"
    assert reasons == {"security-guardduty-enabled": expected, "security-securityhub-standards": expected,
                       "security-config-recorder": expected}
    assert "guardDutyDetectorId" not in result.outputs
    assert result.outputs["accountSingletons"]["guarddutyDetector"] == SKIP


def test_without_the_skip_reason_on_the_vpc_a_skipped_detector_is_a_violation(skipped):
    """The mutant: the skip without its exemption would be a silent NO-GO, or worse, a silent pass."""
    from tests.helpers import findings, mutate

    vpc = one(skipped, "aws:ec2/vpc:Vpc")
    mutant = mutate(skipped, vpc["urn"], lambda r: r["inputs"]["tags"].pop("golive:exempt:security-guardduty-enabled"))
    assert [f.policy for f in findings(mutant, "security-guardduty-enabled")] == ["security-guardduty-enabled"]


def test_adopted_singletons_are_imported_between_the_phases_and_outlive_the_stack(prod):
    """Left out of the first `up` (they exist); their parents are in it, since `pulumi import` needs them; then declared
    under the same URNs as created ones, and kept when the stack is destroyed."""
    from golive import check

    first = _synth({"phase": "infrastructure", **ADOPTED})
    assert [of_type(first, t) for t in (DETECTOR, HUB, RECORDER, CHANNEL, RECORDING)] == [[]] * 5
    parents = {one(prod, t)["parent"] for t in (DETECTOR, HUB, RECORDER, CHANNEL, RECORDING)}
    assert parents <= set(first.by_urn()), "each parent component exists after the first phase"
    reasons = {e.policy: e.reason for e in check.check(first).exemptions if e.policy.startswith(("security-guardduty",
                                                                                                  "security-securityhub", "security-config"))}
    assert set(reasons) == {"security-guardduty-enabled", "security-securityhub-standards", "security-config-recorder"}
    assert all(r.startswith("adopted:") for r in reasons.values())
    everything = _synth(ADOPTED)
    for type_ in (DETECTOR, HUB, RECORDER, CHANNEL, RECORDING):
        (record,) = of_type(everything, type_)
        assert record["options"]["retainOnDelete"] is True and record["urn"] == one(prod, type_)["urn"], type_


@pytest.mark.parametrize("setting, key, rule", [
    ({"mode": "skip"}, "guarddutyDetector.reason", "a skipped singleton needs a reason"),
    ({"mode": "adopt", "reason": "org"}, "guarddutyDetector.reason", "only applies with mode skip"),
    ({"mode": "skip", "reason": "org (central)"}, "guarddutyDetector.reason", "must be a valid AWS tag value"),
    ({"mode": "import"}, "guarddutyDetector.mode", 'must be one of "create", "adopt", "skip"'),
])
def test_singleton_settings_are_checked(setting, key, rule):
    with pytest.raises(ConfigError) as err:
        parse({"singletons": {"guarddutyDetector": setting}})
    assert f"golive:singletons.{key}" in str(err.value) and rule in str(err.value)


# --------------------------------------------------------------------------- the VPN reaches the Kubernetes API


def test_the_vpn_is_admitted_to_the_control_plane_by_a_plain_security_group_rule(prod):
    rule = one(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "golive-vpn-to-kubernetes-api")
    assert (props(rule)["ipProtocol"], props(rule)["fromPort"], props(rule)["toPort"]) == ("tcp", 443, 443)
    control_plane = one(prod, "aws:ec2/securityGroup:SecurityGroup", "golive-control-plane-sg")
    vpn = one(prod, "aws:ec2/securityGroup:SecurityGroup", "golive-vpn-sg")
    assert deps(rule, "securityGroupId") == [control_plane["urn"]] and deps(rule, "referencedSecurityGroupId") == [vpn["urn"]]
    assert control_plane["urn"] in deps(one(prod, "aws:eks/cluster:Cluster"), "vpcConfig")
