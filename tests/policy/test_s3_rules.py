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
    """Not a log-delivery target: the finding is on the encryption configuration, which no exemption tag covers."""
    bucket = backup_bucket(prod)
    encryption = attached(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket)

    def to_aes(record):
        record["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}
        record["propertyDependencies"].pop("rules")

    (finding,) = findings(mutate(prod, encryption["urn"], to_aes), "s3-bucket-encryption-kms")
    assert finding.urn == encryption["urn"] and "SSE-S3" in finding.message and bucket["name"] in finding.message


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


def test_an_sse_s3_log_bucket_is_an_accepted_risk_not_a_pass(prod):
    """The log bucket reports SSE-S3; only its exemption tag turns that into accepted risk (shown, with the reason)."""
    from golive import check

    log_bucket = one(prod, BUCKET, "golive-backups-logs")
    reason = log_bucket["inputs"]["tags"][EXEMPT_ENCRYPTION]
    result = check.check(prod, [p for p in check.load_policies() if p.name == "s3-bucket-encryption-kms"])
    accepted = {e.urn: e for e in result.exemptions}
    assert accepted[log_bucket["urn"]].reason == reason and "S3 server access logs" in accepted[log_bucket["urn"]].message
    assert result.findings == []
    untagged = mutate(prod, log_bucket["urn"], lambda r: r["inputs"]["tags"].pop(EXEMPT_ENCRYPTION))
    (finding,) = findings(untagged, "s3-bucket-encryption-kms")
    assert finding.urn == log_bucket["urn"] and "SSE-S3" in finding.message


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


# --------------------------------------------------------------------------- SSE-S3 is accepted only for a real log delivery

ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
EXEMPT_ENCRYPTION = "golive:exempt:s3-bucket-encryption-kms"


def test_an_exemption_tag_on_a_bucket_that_receives_no_logs_does_not_cover_sse_s3(prod):
    bucket = backup_bucket(prod)
    encryption = attached(prod, ENCRYPTION, bucket)

    def to_aes(record):
        record["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}
        record["propertyDependencies"].pop("rules")

    broken = mutate(mutate(prod, encryption["urn"], to_aes), bucket["urn"],
                    lambda r: r["inputs"]["tags"].update({EXEMPT_ENCRYPTION: "cheaper"}))
    (finding,) = findings(broken, "s3-bucket-encryption-kms")
    assert finding.urn == encryption["urn"] and "receives no ALB/NLB access logs or S3 server access logs" in finding.message


def test_prod_log_buckets_are_real_log_delivery_targets(prod):
    (alb_logs,) = [b for b in of_type(prod, BUCKET) if b["name"] == "golive-alb-logs-bucket"]
    lb = one(prod, LOAD_BALANCER, "golive-alb")
    assert deps(lb, "accessLogs") == [alb_logs["urn"]] and lb["inputs"]["accessLogs"]["enabled"] is True
    s3_logs = {one(prod, BUCKET, name)["urn"] for name in ("golive-backups-logs", "golive-backups-dr-logs", "golive-access-logs",
                                                          "golive-alb-logs-access")}
    targets = {urn for r in of_type(prod, "aws:s3/bucketLogging:BucketLogging") for urn in deps(r, "targetBucket")}
    assert s3_logs <= targets


def test_the_alb_log_bucket_loses_its_exemption_without_the_load_balancers_access_logs(prod):
    (alb_logs,) = [b for b in of_type(prod, BUCKET) if b["name"] == "golive-alb-logs-bucket"]
    encryption = attached(prod, ENCRYPTION, alb_logs)
    lb = one(prod, LOAD_BALANCER, "golive-alb")
    for change in (lambda r: r["propertyDependencies"].pop("accessLogs"), lambda r: r["inputs"]["accessLogs"].update(enabled=False)):
        (finding,) = findings(mutate(prod, lb["urn"], change), "s3-bucket-encryption-kms")
        assert finding.urn == encryption["urn"] and "receives no ALB/NLB access logs" in finding.message


def test_the_s3_access_log_bucket_loses_its_exemption_without_its_bucket_logging(prod):
    log_bucket = one(prod, BUCKET, "golive-backups-logs")
    encryption = attached(prod, ENCRYPTION, log_bucket)
    loggings = [r["urn"] for r in of_type(prod, "aws:s3/bucketLogging:BucketLogging") if deps(r, "targetBucket") == [log_bucket["urn"]]]
    assert loggings
    (finding,) = findings(drop(prod, lambda r: r["urn"] in loggings), "s3-bucket-encryption-kms")
    assert finding.urn == encryption["urn"]


def _inline_logging_program():
    """An SSE-S3 log bucket that receives a bucket's server access logs through the bucket's inline ``logging``."""
    import pulumi
    import pulumi_aws as aws

    provider = aws.Provider("p", region="eu-west-1")
    opts = pulumi.ResourceOptions(provider=provider)
    logs = aws.s3.Bucket("logs", tags={EXEMPT_ENCRYPTION: "S3 delivers access logs to SSE-S3 buckets only"}, opts=opts)
    aws.s3.BucketServerSideEncryptionConfiguration(
        "logs-sse", bucket=logs.id, opts=opts,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}])
    aws.s3.Bucket("data", logging={"target_bucket": logs.id, "target_prefix": "s3/"}, opts=opts)


def test_inline_bucket_logging_is_a_log_delivery(synth_program):
    synth = synth_program(_inline_logging_program)
    flagged = {f.urn.rsplit("::", 1)[1] for f in findings(synth, "s3-bucket-encryption-kms")}
    assert flagged == {"data"}  # the source bucket has no encryption; the log bucket's accepted risk holds
    data = one(synth, BUCKET, "data")
    without = mutate(synth, data["urn"], lambda r: r["propertyDependencies"].pop("logging"))
    assert {f.urn.rsplit("::", 1)[1] for f in findings(without, "s3-bucket-encryption-kms")} == {"data", "logs-sse"}
