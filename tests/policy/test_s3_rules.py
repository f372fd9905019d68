"""S3 policies over every bucket: each passes on the prod stack and fails on a stack that breaks it."""

from __future__ import annotations

import json

import pytest

from tests.helpers import deps, drop, findings, mutate, of_type, one

S3_POLICIES = ["s3-bucket-versioning", "s3-bucket-encryption-kms", "s3-bucket-public-access-blocked", "s3-bucket-tls-only"]
BUCKET = "aws:s3/bucket:Bucket"


@pytest.mark.parametrize("policy", S3_POLICIES)
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def test_every_bucket_is_evaluated_not_only_backup_buckets(prod):
    # The stack holds log buckets of other areas too; each is judged by every S3 policy.
    assert len(of_type(prod, BUCKET)) >= 4


def backup_bucket(prod):
    return one(prod, BUCKET, "golive-backups-bucket")


def attached(prod, type_, bucket):
    (resource,) = [r for r in of_type(prod, type_) if deps(r, "bucket") == [bucket["urn"]]]
    return resource


def test_a_bare_bucket_fails_all_four(synth_program):
    def program():
        import pulumi
        import pulumi_aws as aws

        provider = aws.Provider("p", region="eu-west-1")
        aws.s3.Bucket("bare", opts=pulumi.ResourceOptions(provider=provider))

    synth = synth_program(program)
    result = findings(synth, S3_POLICIES)
    assert sorted(f.policy for f in result) == sorted(S3_POLICIES)
    assert {f.urn for f in result} == {one(synth, BUCKET)["urn"]}


# --------------------------------------------------------------------------- versioning


def test_versioning_fails_without_a_versioning_resource(prod):
    bucket = backup_bucket(prod)
    versioning = attached(prod, "aws:s3/bucketVersioning:BucketVersioning", bucket)
    (finding,) = findings(drop(prod, lambda r: r["urn"] == versioning["urn"]), "s3-bucket-versioning")
    assert finding.urn == bucket["urn"] and "no BucketVersioning" in finding.message


def test_versioning_fails_when_suspended(prod):
    bucket = backup_bucket(prod)
    versioning = attached(prod, "aws:s3/bucketVersioning:BucketVersioning", bucket)
    broken = mutate(prod, versioning["urn"], lambda r: r["inputs"]["versioningConfiguration"].update(status="Suspended"))
    (finding,) = findings(broken, "s3-bucket-versioning")
    assert "versioning is Suspended" in finding.message


# --------------------------------------------------------------------------- encryption


def test_encryption_fails_with_sse_s3_on_a_backup_bucket(prod):
    bucket = backup_bucket(prod)
    encryption = attached(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket)

    def to_aes(record):
        record["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}
        record["propertyDependencies"].pop("rules")

    (finding,) = findings(mutate(prod, encryption["urn"], to_aes), "s3-bucket-encryption-kms")
    assert finding.urn == bucket["urn"] and "SSE-S3" in finding.message


def test_encryption_fails_with_the_aws_managed_key(prod):
    bucket = backup_bucket(prod)
    encryption = attached(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket)

    def managed(record):
        record["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"].pop("kmsMasterKeyId")
        record["propertyDependencies"].pop("rules")

    (finding,) = findings(mutate(prod, encryption["urn"], managed), "s3-bucket-encryption-kms")
    assert "not encrypted with a customer-managed KMS key" in finding.message


def test_encryption_accepts_an_unknown_key_arn_that_comes_from_a_kms_key(prod):
    # At a real preview the key's ARN is unknown; its dependency on the KMS key is known.
    encryption = attached(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                          backup_bucket(prod))
    preview = mutate(prod, encryption["urn"],
                     lambda r: r["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"].update(kmsMasterKeyId="[unknown]"))
    assert findings(preview, "s3-bucket-encryption-kms") == []


def test_encryption_fails_without_a_configuration(prod):
    bucket = backup_bucket(prod)
    encryption = attached(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket)
    (finding,) = findings(drop(prod, lambda r: r["urn"] == encryption["urn"]), "s3-bucket-encryption-kms")
    assert "no default encryption configuration" in finding.message


def test_sse_s3_log_bucket_passes_only_with_its_log_delivery_reason(prod):
    log_bucket = one(prod, BUCKET, "golive-backups-logs")
    assert log_bucket["inputs"]["tags"]["golive:encryption-exception"] == "s3-server-access-logs"
    untagged = mutate(prod, log_bucket["urn"], lambda r: r["inputs"]["tags"].pop("golive:encryption-exception"))
    (finding,) = findings(untagged, "s3-bucket-encryption-kms")
    assert finding.urn == log_bucket["urn"] and "SSE-S3" in finding.message
    other_reason = mutate(prod, log_bucket["urn"], lambda r: r["inputs"]["tags"].update({"golive:encryption-exception": "cheaper"}))
    assert [f.urn for f in findings(other_reason, "s3-bucket-encryption-kms")] == [log_bucket["urn"]]


# --------------------------------------------------------------------------- public access


@pytest.mark.parametrize("setting", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
def test_public_access_fails_when_one_setting_is_off(prod, setting):
    bucket = backup_bucket(prod)
    block = attached(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
    (finding,) = findings(mutate(prod, block["urn"], lambda r: r["inputs"].update({setting: False})), "s3-bucket-public-access-blocked")
    assert finding.urn == bucket["urn"] and setting in finding.message


def test_public_access_fails_without_a_block(prod):
    dr_bucket = one(prod, BUCKET, "golive-backups-dr-bucket")
    block = attached(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", dr_bucket)
    (finding,) = findings(drop(prod, lambda r: r["urn"] == block["urn"]), "s3-bucket-public-access-blocked")
    assert finding.urn == dr_bucket["urn"]


# --------------------------------------------------------------------------- TLS only


def test_tls_fails_when_the_policy_lacks_the_secure_transport_deny(prod):
    bucket = backup_bucket(prod)
    policy = attached(prod, "aws:s3/bucketPolicy:BucketPolicy", bucket)

    def without_tls(record):
        document = json.loads(record["inputs"]["policy"])
        document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "DenyInsecureTransport"]
        record["inputs"]["policy"] = json.dumps(document)

    (finding,) = findings(mutate(prod, policy["urn"], without_tls), "s3-bucket-tls-only")
    assert finding.urn == bucket["urn"] and "aws:SecureTransport" in finding.message


def test_tls_fails_when_the_deny_covers_only_objects(prod):
    bucket = backup_bucket(prod)
    policy = attached(prod, "aws:s3/bucketPolicy:BucketPolicy", bucket)

    def objects_only(record):
        document = json.loads(record["inputs"]["policy"])
        for statement in document["Statement"]:
            if statement["Sid"] == "DenyInsecureTransport":
                statement["Resource"] = [r for r in statement["Resource"] if r.endswith("/*")]
        record["inputs"]["policy"] = json.dumps(document)

    assert [f.urn for f in findings(mutate(prod, policy["urn"], objects_only), "s3-bucket-tls-only")] == [bucket["urn"]]


def test_tls_fails_without_a_bucket_policy(prod):
    bucket = backup_bucket(prod)
    policy = attached(prod, "aws:s3/bucketPolicy:BucketPolicy", bucket)
    (finding,) = findings(drop(prod, lambda r: r["urn"] == policy["urn"]), "s3-bucket-tls-only")
    assert "no bucket policy" in finding.message


def test_tls_defers_a_policy_document_unknown_at_preview(prod):
    policy = attached(prod, "aws:s3/bucketPolicy:BucketPolicy", backup_bucket(prod))
    assert findings(mutate(prod, policy["urn"], lambda r: r["inputs"].update(policy="[unknown]")), "s3-bucket-tls-only") == []


# --------------------------------------------------------------------------- the SSE-S3 exception needs a real log delivery

ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"


@pytest.mark.parametrize("reason", ["s3-server-access-logs", "alb-access-logs", "nlb-access-logs"])
def test_a_backup_bucket_switched_to_sse_s3_with_the_exception_tag_fails(prod, reason):
    bucket = backup_bucket(prod)
    encryption = attached(prod, ENCRYPTION, bucket)

    def to_aes(record):
        record["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}
        record["propertyDependencies"].pop("rules")

    broken = mutate(mutate(prod, encryption["urn"], to_aes), bucket["urn"],
                    lambda r: r["inputs"]["tags"].update({"golive:encryption-exception": reason}))
    (finding,) = findings(broken, "s3-bucket-encryption-kms")
    assert finding.urn == bucket["urn"] and f"claims the {reason} exception" in finding.message
    assert "receives no such log delivery" in finding.message


def test_prod_log_buckets_are_real_log_delivery_targets(prod):
    alb_logs = one(prod, BUCKET, "golive-alb-logs")
    lb = one(prod, LOAD_BALANCER, "golive-alb")
    assert deps(lb, "accessLogs") == [alb_logs["urn"]] and lb["inputs"]["accessLogs"]["enabled"] is True
    s3_logs = {one(prod, BUCKET, name)["urn"] for name in ("golive-backups-logs", "golive-backups-dr-logs")}
    targets = {urn for r in of_type(prod, "aws:s3/bucketLogging:BucketLogging") for urn in deps(r, "targetBucket")}
    assert s3_logs <= targets


def test_the_alb_log_bucket_loses_its_exception_without_the_load_balancers_access_logs(prod):
    alb_logs = one(prod, BUCKET, "golive-alb-logs")
    lb = one(prod, LOAD_BALANCER, "golive-alb")
    for change in (lambda r: r["propertyDependencies"].pop("accessLogs"), lambda r: r["inputs"]["accessLogs"].update(enabled=False)):
        (finding,) = findings(mutate(prod, lb["urn"], change), "s3-bucket-encryption-kms")
        assert finding.urn == alb_logs["urn"] and "claims the alb-access-logs exception" in finding.message


@pytest.mark.parametrize("reason", ["s3-server-access-logs", "nlb-access-logs"])
def test_the_exception_reason_must_match_the_delivery(prod, reason):
    alb_logs = one(prod, BUCKET, "golive-alb-logs")
    wrong = mutate(prod, alb_logs["urn"], lambda r: r["inputs"]["tags"].update({"golive:encryption-exception": reason}))
    assert [f.urn for f in findings(wrong, "s3-bucket-encryption-kms")] == [alb_logs["urn"]]


def test_the_s3_access_log_bucket_loses_its_exception_without_its_bucket_logging(prod):
    log_bucket = one(prod, BUCKET, "golive-backups-logs")
    loggings = [r["urn"] for r in of_type(prod, "aws:s3/bucketLogging:BucketLogging") if deps(r, "targetBucket") == [log_bucket["urn"]]]
    assert loggings
    (finding,) = findings(drop(prod, lambda r: r["urn"] in loggings), "s3-bucket-encryption-kms")
    assert finding.urn == log_bucket["urn"] and "claims the s3-server-access-logs exception" in finding.message


def _inline_logging_program():
    """An SSE-S3 log bucket that receives a bucket's server access logs through the bucket's inline ``logging``."""
    import pulumi
    import pulumi_aws as aws

    provider = aws.Provider("p", region="eu-west-1")
    opts = pulumi.ResourceOptions(provider=provider)
    logs = aws.s3.Bucket("logs", tags={"golive:encryption-exception": "s3-server-access-logs"}, opts=opts)
    aws.s3.BucketServerSideEncryptionConfiguration(
        "logs-sse", bucket=logs.id, opts=opts,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}])
    aws.s3.Bucket("data", logging={"target_bucket": logs.id, "target_prefix": "s3/"}, opts=opts)


def test_inline_bucket_logging_is_a_log_delivery(synth_program):
    synth = synth_program(_inline_logging_program)
    flagged = {f.urn.rsplit("::", 1)[1] for f in findings(synth, "s3-bucket-encryption-kms")}
    assert flagged == {"data"}  # the source bucket has no encryption; the log bucket's exception holds
    data = one(synth, BUCKET, "data")
    without = mutate(synth, data["urn"], lambda r: r["propertyDependencies"].pop("logging"))
    assert {f.urn.rsplit("::", 1)[1] for f in findings(without, "s3-bucket-encryption-kms")} == {"data", "logs"}
