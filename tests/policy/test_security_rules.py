"""Security baseline policies: each passes on the real prod stack and fails on a stack that breaks it."""

from __future__ import annotations

import pytest

from tests.helpers import drop, findings, mutate, of_type, one

SECURITY_POLICIES = [
    "security-cloudtrail-multi-region",
    "security-cloudtrail-log-validation",
    "security-cloudtrail-kms",
    "security-cloudtrail-cloudwatch-logs",
    "security-guardduty-enabled",
    "security-client-vpn-connection-logs",
    "security-client-vpn-authorization-scoped",
    "security-cloudtrail-write-once",
    "security-admin-vpn",
]
TRAIL = "aws:cloudtrail/trail:Trail"
DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
ENDPOINT = "aws:ec2clientvpn/endpoint:Endpoint"


@pytest.mark.parametrize("policy", SECURITY_POLICIES)
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def change(prod, record, fn):
    return mutate(prod, record["urn"], lambda r: fn(r["inputs"]))


@pytest.mark.parametrize(
    "policy, edit, expected",
    [
        ("security-cloudtrail-multi-region", lambda p: p.update(isMultiRegionTrail=False), "one region only"),
        ("security-cloudtrail-multi-region", lambda p: p.update(includeGlobalServiceEvents=False), "global service events"),
        ("security-cloudtrail-multi-region", lambda p: p.update(enableLogging=False), "logging switched off"),
        ("security-cloudtrail-log-validation", lambda p: p.pop("enableLogFileValidation"), "no log file validation"),
        ("security-cloudtrail-kms", lambda p: p.pop("kmsKeyId"), "customer-managed KMS key"),
        ("security-cloudtrail-cloudwatch-logs", lambda p: p.pop("cloudWatchLogsGroupArn"), "CloudWatch Logs"),
        ("security-cloudtrail-cloudwatch-logs", lambda p: p.pop("cloudWatchLogsRoleArn"), "CloudWatch Logs"),
    ],
)
def test_trail_policies_fail_when_the_setting_is_off(prod, policy, edit, expected):
    trail = one(prod, TRAIL)
    (finding,) = findings(change(prod, trail, edit), policy)
    assert finding.urn == trail["urn"] and expected in finding.message


def test_guardduty_fails_without_a_detector(prod):
    broken = drop(prod, lambda r: r["type"] in (DETECTOR, FEATURE))
    (finding,) = findings(broken, "security-guardduty-enabled")
    assert "does not exist" in finding.message and finding.urn == one(prod, "aws:ec2/vpc:Vpc")["urn"]


def test_guardduty_fails_with_a_disabled_detector(prod):
    detector = one(prod, DETECTOR)
    (finding,) = findings(change(prod, detector, lambda p: p.update(enable=False)), "security-guardduty-enabled")
    assert "is disabled" in finding.message and finding.urn == detector["urn"]


def test_guardduty_fails_when_a_feature_is_missing(prod):
    broken = drop(prod, lambda r: r["type"] == FEATURE and r["inputs"]["name"] == "RUNTIME_MONITORING")
    (finding,) = findings(broken, "security-guardduty-enabled")
    assert "RUNTIME_MONITORING" in finding.message


def test_guardduty_is_not_required_outside_production(prod):
    staging = prod
    for provider in of_type(prod, "pulumi:providers:aws"):
        staging = mutate(staging, provider["urn"], lambda r: r["inputs"].update(
            defaultTags=r["inputs"]["defaultTags"].replace("production", "staging")))
    assert findings(drop(staging, lambda r: r["type"] in (DETECTOR, FEATURE)), "security-guardduty-enabled") == []


def test_vpn_without_connection_logs_fails(prod):
    endpoint = one(prod, ENDPOINT)
    broken = change(prod, endpoint, lambda p: p.update(connectionLogOptions={"enabled": False}))
    (finding,) = findings(broken, "security-client-vpn-connection-logs")
    assert finding.urn == endpoint["urn"]


def test_vpn_authorization_for_the_internet_fails(prod):
    rule = one(prod, "aws:ec2clientvpn/authorizationRule:AuthorizationRule")
    (finding,) = findings(change(prod, rule, lambda p: p.update(targetNetworkCidr="0.0.0.0/0")), "security-client-vpn-authorization-scoped")
    assert "0.0.0.0/0" in finding.message


# --------------------------------------------------------------------------- production refusals the pack computes too

BUCKET = "aws:s3/bucket:Bucket"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
ASSOCIATION = "aws:ec2clientvpn/networkAssociation:NetworkAssociation"
CLUSTER = "aws:eks/cluster:Cluster"


def staging_of(prod):
    staging = prod
    for provider in of_type(prod, "pulumi:providers:aws"):
        staging = mutate(staging, provider["urn"], lambda r: r["inputs"].update(
            defaultTags=r["inputs"]["defaultTags"].replace("production", "staging")))
    return staging


def trail_bucket(prod):
    return one(prod, BUCKET, "golive-cloudtrail-bucket")


def test_a_trail_bucket_without_object_lock_fails(prod):
    bucket = trail_bucket(prod)
    broken = change(drop(prod, lambda r: r["type"] == OBJECT_LOCK and bucket["urn"] in r["propertyDependencies"].get("bucket", [])),
                    bucket, lambda p: p.pop("objectLockEnabled"))
    (finding,) = findings(broken, "security-cloudtrail-write-once")
    assert finding.urn == bucket["urn"] and "without S3 Object Lock" in finding.message


def test_a_trail_bucket_without_a_default_retention_fails(prod):
    bucket = trail_bucket(prod)
    broken = drop(prod, lambda r: r["type"] == OBJECT_LOCK and bucket["urn"] in r["propertyDependencies"].get("bucket", []))
    (finding,) = findings(broken, "security-cloudtrail-write-once")
    assert finding.urn == bucket["urn"] and "no Object Lock default retention" in finding.message


def test_a_trail_bucket_may_go_without_object_lock_outside_production(prod):
    bucket = trail_bucket(prod)
    broken = drop(staging_of(prod), lambda r: r["type"] == OBJECT_LOCK and bucket["urn"] in r["propertyDependencies"].get("bucket", []))
    assert findings(broken, "security-cloudtrail-write-once") == []


def test_a_private_cluster_without_the_admin_vpn_fails(prod):
    broken = drop(prod, lambda r: r["type"] in (ENDPOINT, ASSOCIATION))
    (finding,) = findings(broken, "security-admin-vpn")
    assert finding.urn == one(prod, CLUSTER)["urn"] and "no admin Client VPN endpoint" in finding.message


def test_a_vpn_endpoint_associated_with_nothing_does_not_count(prod):
    (finding,) = findings(drop(prod, lambda r: r["type"] == ASSOCIATION), "security-admin-vpn")
    assert finding.urn == one(prod, CLUSTER)["urn"]


def test_the_admin_vpn_is_not_required_outside_production_or_for_a_public_endpoint(prod):
    assert findings(drop(staging_of(prod), lambda r: r["type"] in (ENDPOINT, ASSOCIATION)), "security-admin-vpn") == []
    cluster = one(prod, CLUSTER)
    public = change(drop(prod, lambda r: r["type"] in (ENDPOINT, ASSOCIATION)), cluster,
                    lambda p: p["vpcConfig"].update(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"]))
    assert findings(public, "security-admin-vpn") == []
