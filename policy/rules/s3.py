"""S3 rules for every bucket of the stack: versioning, KMS encryption, public access blocked, TLS only.

With pulumi_aws 7 a bucket's settings are separate resources (``BucketVersioning``,
``BucketServerSideEncryptionConfiguration``, ...). They are joined to their bucket by
the property dependency of their ``bucket`` input, which is known at preview (ids
are not). The bucket's own deprecated inline settings are honoured as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource, Severity

from . import types as t
from ._base import UNKNOWN, as_list, defer, depends_via, get, of_type, peek, stack_policy, statements

# --------------------------------------------------------------------------- shared helpers (also used by backup.py)


def attached(args: Any, types: Iterable[str], prop: str = "bucket") -> dict[str, list[PolicyResource]]:
    """Resources of ``types`` indexed by the URN of each resource their ``prop`` depends on."""
    index: dict[str, list[PolicyResource]] = {}
    for resource in of_type(args, *types):
        for target in depends_via(resource, prop):
            index.setdefault(target.urn, []).append(resource)
    return index


def region_of(resource: PolicyResource) -> str | None:
    """Where AWS creates the resource: its own ``region`` input (pulumi_aws 7), else its provider's."""
    own = peek(resource.props, "region")
    if own and own is not UNKNOWN:
        return own
    provider = resource.provider
    region = peek(provider.props or {}, "region") if provider is not None else None
    return region if region and region is not UNKNOWN else None


def tags_of(resource: PolicyResource) -> dict[str, str]:
    tags = get(resource.props, "tags")
    return dict(tags) if isinstance(tags, Mapping) else {}


# --------------------------------------------------------------------------- versioning


def _check_versioning(args, cfg):
    versionings = attached(args, t.S3_VERSIONINGS)
    for bucket in of_type(args, *t.S3_BUCKETS):
        if get(bucket.props, "versioning.enabled") is True:
            continue
        statuses = [get(v.props, "versioningConfiguration.status") for v in versionings.get(bucket.urn, [])]
        if "Enabled" in statuses:
            continue
        state = f"versioning is {statuses[0]}" if statuses else "no BucketVersioning resource enables versioning"
        yield (f"S3 bucket {bucket.name}: {state}; an overwritten or deleted object cannot be recovered.", bucket.urn)


versioning_enabled = stack_policy(
    name="s3-bucket-versioning",
    description="Every S3 bucket has versioning enabled (a BucketVersioning resource with status Enabled).",
    types=(*t.S3_BUCKETS, *t.S3_VERSIONINGS),
    check=_check_versioning,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Declare aws.s3.BucketVersioning(bucket=bucket.id, versioning_configuration={'status': 'Enabled'}) for the bucket.",
    controls=("fsbp:S3.14", "checkov:CKV_AWS_21"),
)


# --------------------------------------------------------------------------- encryption


def _sse_rules(bucket: PolicyResource, configs: list[PolicyResource]) -> list[tuple[dict[str, Any], PolicyResource | None]]:
    rules: list[tuple[dict[str, Any], PolicyResource | None]] = []
    inline = get(bucket.props, "serverSideEncryptionConfiguration.rule")
    if isinstance(inline, Mapping):
        rules.append((dict(inline), None))
    for config in configs:
        rules += [(dict(rule), config) for rule in as_list(get(config.props, "rules")) if isinstance(rule, Mapping)]
    return rules


def _uses_cmk(rule: Mapping[str, Any], config: PolicyResource | None) -> bool:
    key = peek(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId")
    if key and key is not UNKNOWN:
        return "alias/aws/" not in str(key)
    # At preview the key's ARN is unknown; the dependency on a KMS key resource is not.
    return config is not None and any(d.resource_type == t.KMS_KEY for d in depends_via(config, "rules"))


LOAD_BALANCER_TYPES = (t.LOAD_BALANCER, "aws:alb/loadBalancer:LoadBalancer")
# The log deliveries AWS makes only into SSE-S3 (AES256) buckets.
SSE_S3_ONLY_DELIVERIES = {"application": "ALB access logs", "network": "NLB access logs", "s3": "S3 server access logs"}


def log_deliveries(args: Any) -> dict[str, set[str]]:
    """Bucket URN -> the log deliveries that target it: "application"/"network" load balancer access logs, "s3" server access logs.

    Joined by property dependencies: a load balancer's ``accessLogs`` (with ``enabled`` true), a BucketLogging's
    ``targetBucket``, and a bucket's inline ``logging``.
    """
    found: dict[str, set[str]] = {}
    for lb in of_type(args, *LOAD_BALANCER_TYPES):
        if get(lb.props, "accessLogs.enabled") is not True:
            continue
        kind = str(get(lb.props, "loadBalancerType") or "application")
        for bucket in depends_via(lb, "accessLogs"):
            found.setdefault(bucket.urn, set()).add(kind)
    for logging in of_type(args, *t.S3_LOGGINGS):
        for bucket in depends_via(logging, "targetBucket"):
            found.setdefault(bucket.urn, set()).add("s3")
    for source in of_type(args, *t.S3_BUCKETS):
        if get(source.props, "logging.targetBucket"):
            for bucket in depends_via(source, "logging"):
                if bucket.urn != source.urn:
                    found.setdefault(bucket.urn, set()).add("s3")
    return found


def _check_encryption(args, cfg):
    configs = attached(args, t.S3_ENCRYPTIONS)
    deliveries = log_deliveries(args)
    for bucket in of_type(args, *t.S3_BUCKETS):
        rules = _sse_rules(bucket, configs.get(bucket.urn, []))
        if not rules:
            yield (f"S3 bucket {bucket.name} has no default encryption configuration; declare one with a customer-managed "
                   "KMS key.", bucket.urn)
            continue
        algorithms = {get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") for rule, _ in rules}
        if any(get(r, "applyServerSideEncryptionByDefault.sseAlgorithm") in ("aws:kms", "aws:kms:dsse") and _uses_cmk(r, c)
               for r, c in rules):
            continue
        if "AES256" not in algorithms:
            yield (f"S3 bucket {bucket.name} is not encrypted with a customer-managed KMS key "
                   f"(algorithm {', '.join(sorted(map(str, algorithms)))}).", bucket.urn)
            continue
        received = sorted(SSE_S3_ONLY_DELIVERIES[k] for k in deliveries.get(bucket.urn, set()) if k in SSE_S3_ONLY_DELIVERIES)
        if received:
            # A real constraint of AWS, but still a risk: the bucket reports it, and only its exemption tag accepts it.
            yield (f"S3 bucket {bucket.name} uses SSE-S3 (AES256), not a customer-managed key: it receives "
                   f"{' and '.join(received)}, which AWS delivers only to SSE-S3 buckets.", bucket.urn)
            continue
        # Not a log-delivery target: nothing forces SSE-S3. Reported on the encryption configuration, which no
        # exemption tag of the bucket covers.
        config = next((c for _, c in rules if c is not None), None)
        yield (f"S3 bucket {bucket.name} uses SSE-S3 (AES256) but receives no ALB/NLB access logs or S3 server access logs "
               "of this stack, the only deliveries that require it; use SSE-KMS with a customer-managed key.",
               config.urn if config is not None else bucket.urn)


encryption_kms = stack_policy(
    name="s3-bucket-encryption-kms",
    description=("Every S3 bucket encrypts by default with SSE-KMS under a customer-managed key. A bucket that receives "
                 "ALB/NLB or S3 server access logs, which AWS delivers only to SSE-S3 (AES256) buckets, reports SSE-S3 as a "
                 "risk its golive:exempt:s3-bucket-encryption-kms tag may accept; any other SSE-S3 bucket fails on its "
                 "encryption configuration, beyond any exemption."),
    types=(*t.S3_BUCKETS, *t.S3_ENCRYPTIONS, *t.S3_LOGGINGS, *LOAD_BALANCER_TYPES),
    check=_check_encryption,
    severity=Severity.HIGH,
    category="Security",
    remediation=("Declare aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm='aws:kms', kms_master_key_id=<CMK ARN> "
                 "and bucket_key_enabled=True; a log-delivery bucket (the load balancer's access_logs bucket or a "
                 "BucketLogging's target_bucket) uses AES256 and tags golive:exempt:s3-bucket-encryption-kms=<reason> "
                 "(components.log_bucket.LogBucket does)."),
    controls=("fsbp:S3.17", "checkov:CKV_AWS_145"),
)


# --------------------------------------------------------------------------- server access logging


def _check_access_logging(args, cfg):
    loggings = attached(args, t.S3_LOGGINGS)
    deliveries = log_deliveries(args)
    for bucket in of_type(args, *t.S3_BUCKETS):
        if any(get(lg.props, "targetBucket") for lg in loggings.get(bucket.urn, [])) or get(bucket.props, "logging.targetBucket"):
            continue
        if "s3" in deliveries.get(bucket.urn, set()):
            continue  # the end of the chain: it receives other buckets' access logs, and logging it would log its own writes
        yield (f"S3 bucket {bucket.name} has no server access logging; reads, writes and deletions of its objects leave no "
               "trail outside CloudTrail data events.", bucket.urn)


access_logging = stack_policy(
    name="s3-bucket-access-logging",
    description=("Every S3 bucket writes server access logs to a log bucket (a BucketLogging with a target bucket), except "
                 "the buckets that receive those logs, which end the chain."),
    check=_check_access_logging,
    types=(*t.S3_BUCKETS, *t.S3_LOGGINGS, *LOAD_BALANCER_TYPES),
    severity=Severity.MEDIUM,
    category="Compliance",
    remediation=("Declare aws.s3.BucketLogging(bucket=…, target_bucket=<the region's access-log bucket>, target_prefix=…), "
                 "or give components.log_bucket.LogBucket a server_access_log_bucket."),
    controls=("fsbp:S3.9", "checkov:CKV_AWS_18"),
)


# --------------------------------------------------------------------------- lifecycle


def _check_lifecycle(args, cfg):
    lifecycles = attached(args, t.S3_LIFECYCLES)
    for bucket in of_type(args, *t.S3_BUCKETS):
        rules = [r for lc in lifecycles.get(bucket.urn, []) for r in as_list(get(lc.props, "rules"))
                 if isinstance(r, Mapping) and r.get("status") == "Enabled"]
        inline = [r for r in as_list(get(bucket.props, "lifecycleRules")) if isinstance(r, Mapping) and r.get("enabled")]
        if not rules and not inline:
            yield (f"S3 bucket {bucket.name} has no enabled lifecycle rule: objects and old versions are kept, and paid for, "
                   "forever.", bucket.urn)


lifecycle = stack_policy(
    name="s3-bucket-lifecycle",
    description="Every S3 bucket has an enabled lifecycle rule (a BucketLifecycleConfiguration), so nothing is kept forever by default.",
    check=_check_lifecycle,
    types=(*t.S3_BUCKETS, *t.S3_LIFECYCLES),
    severity=Severity.LOW,
    category="Compliance",
    remediation=("Declare aws.s3.BucketLifecycleConfiguration with an enabled rule (expiry, noncurrent-version expiry); "
                 "components.log_bucket.LogBucket and components.backup do."),
    controls=("fsbp:S3.13", "checkov:CKV2_AWS_61"),
)


# --------------------------------------------------------------------------- cross-region replication


def _check_replication(args, cfg):
    replications = of_type(args, t.S3_REPLICATION)

    def enabled(config) -> bool:
        return any(get(rule, "status") == "Enabled" for rule in as_list(get(config.props, "rules")) if isinstance(rule, Mapping))

    sources = {d.urn for r in replications if enabled(r) for d in depends_via(r, "bucket")}
    destinations = {d.urn for r in replications if enabled(r) for d in depends_via(r, "rules") if d.resource_type in t.S3_BUCKETS}
    for bucket in of_type(args, *t.S3_BUCKETS):
        if bucket.urn in destinations:
            continue  # a replica
        if bucket.urn in sources or any(get(rule, "status") == "Enabled" for rule in
                                        as_list(get(bucket.props, "replicationConfiguration.rules"))):
            continue
        yield (f"S3 bucket {bucket.name} is not replicated to another region: losing {region_of(bucket) or 'its region'} "
               "loses its objects.", bucket.urn)


replicated = stack_policy(
    name="s3-bucket-cross-region-replication",
    description=("Every S3 bucket is replicated (an enabled BucketReplicationConfig rule) or is a replica; a bucket that is "
                 "not says why in its golive:exempt:s3-bucket-cross-region-replication tag."),
    check=_check_replication,
    types=(*t.S3_BUCKETS, t.S3_REPLICATION),
    severity=Severity.MEDIUM,
    category="DR & Business Continuity",
    remediation=("Declare aws.s3.BucketReplicationConfig to a bucket of the DR provider (components.backup does for backups), "
                 "or accept the risk with the tag golive:exempt:s3-bucket-cross-region-replication=<reason>."),
    controls=("fsbp:S3.7", "checkov:CKV_AWS_144"),
)


# --------------------------------------------------------------------------- public access


PUBLIC_ACCESS_SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _check_public_access(args, cfg):
    blocks = attached(args, (t.S3_PUBLIC_ACCESS_BLOCK,))
    for bucket in of_type(args, *t.S3_BUCKETS):
        found = blocks.get(bucket.urn, [])
        if not found:
            yield (f"S3 bucket {bucket.name} has no BucketPublicAccessBlock; an ACL or policy mistake could publish it.", bucket.urn)
            continue
        best = max(found, key=lambda b: sum(get(b.props, s) is True for s in PUBLIC_ACCESS_SETTINGS))
        off = [s for s in PUBLIC_ACCESS_SETTINGS if get(best.props, s) is not True]
        if off:
            yield (f"S3 bucket {bucket.name}: public access block leaves {', '.join(off)} off; set all four to true.", bucket.urn)


public_access_blocked = stack_policy(
    name="s3-bucket-public-access-blocked",
    description="Every S3 bucket has a public access block with all four settings on.",
    types=(*t.S3_BUCKETS, t.S3_PUBLIC_ACCESS_BLOCK),
    check=_check_public_access,
    severity=Severity.CRITICAL,
    category="Security",
    remediation=("Declare aws.s3.BucketPublicAccessBlock(bucket=bucket.id, block_public_acls=True, block_public_policy=True, "
                 "ignore_public_acls=True, restrict_public_buckets=True)."),
    controls=("fsbp:S3.8", "checkov:CKV_AWS_53", "checkov:CKV_AWS_54", "checkov:CKV_AWS_55", "checkov:CKV_AWS_56"),
)


# --------------------------------------------------------------------------- TLS only


def denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    """A Deny for everyone, on every S3 action, on the bucket and its objects, when the request is not over TLS."""
    if statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    if principal != "*" and "*" not in as_list(get(principal if isinstance(principal, Mapping) else {}, "AWS")):
        return False
    if not {"s3:*", "*"} & set(as_list(statement.get("Action"))):
        return False
    condition = statement.get("Condition") or {}
    secure = None
    for operator in ("Bool", "BoolIfExists"):
        value = get(condition, operator)
        if isinstance(value, Mapping) and "aws:SecureTransport" in value:
            secure = value["aws:SecureTransport"]
    if str(secure).lower() != "false":
        return False
    resources = [str(r) for r in as_list(statement.get("Resource"))]
    objects = any(r.endswith("*") for r in resources)
    bucket_level = any(r == "*" or ("/" not in r.split(":::", 1)[-1] and not r.endswith("/*")) for r in resources)
    return objects and bucket_level


def _check_tls(args, cfg):
    policies = attached(args, (t.S3_BUCKET_POLICY,))
    undecided = []
    for bucket in of_type(args, *t.S3_BUCKETS):
        documents = [peek(p.props, "policy") for p in policies.get(bucket.urn, [])]
        if peek(bucket.props, "policy"):
            documents.append(peek(bucket.props, "policy"))
        if not documents:
            yield (f"S3 bucket {bucket.name} has no bucket policy; it must deny requests made without TLS "
                   "(aws:SecureTransport = false).", bucket.urn)
            continue
        if any(d is UNKNOWN for d in documents):
            undecided.append(bucket.name)  # the document names ARNs that exist once created
            continue
        if not any(denies_insecure_transport(s) for d in documents for s in statements(d)):
            yield (f"S3 bucket {bucket.name}: its policy does not deny s3:* to everyone on the bucket and its objects "
                   "when aws:SecureTransport is false.", bucket.urn)
    if undecided:
        defer(f"policy of {', '.join(sorted(undecided))}")


tls_only = stack_policy(
    name="s3-bucket-tls-only",
    description="Every S3 bucket's policy denies any request not made over TLS (aws:SecureTransport = false).",
    types=(*t.S3_BUCKETS, t.S3_BUCKET_POLICY),
    check=_check_tls,
    severity=Severity.HIGH,
    category="Security",
    remediation=("Add to the BucketPolicy a statement: Effect Deny, Principal *, Action s3:*, Resource [bucket ARN, bucket ARN/*], "
                 "Condition Bool aws:SecureTransport false."),
    controls=("fsbp:S3.5", "cis:2.1.1"),
)



# --------------------------------------------------------------------------- ownership (ACLs off)


def _check_ownership(args, cfg):
    controls = attached(args, (t.S3_OWNERSHIP_CONTROLS,))
    for bucket in of_type(args, *t.S3_BUCKETS):
        owners = [get(c.props, "rule.objectOwnership") for c in controls.get(bucket.urn, [])]
        if "BucketOwnerEnforced" not in owners:
            state = f"object ownership is {owners[0]}" if owners else "no BucketOwnershipControls resource"
            yield (f"S3 bucket {bucket.name}: {state}; ACLs stay active and objects written by other accounts "
                   "may not be readable or controllable by this one."), bucket.urn


acls_disabled = stack_policy(
    name="s3-bucket-acls-disabled",
    description="Every S3 bucket disables ACLs (object ownership BucketOwnerEnforced), so only policies grant access.",
    check=_check_ownership,
    types=(*t.S3_BUCKETS, t.S3_OWNERSHIP_CONTROLS),
    severity=Severity.MEDIUM,
    category="Security",
    remediation="Declare aws.s3.BucketOwnershipControls(bucket=…, rule={'object_ownership': 'BucketOwnerEnforced'}).",
    controls=("fsbp:S3.12", "checkov:CKV2_AWS_65"),
)

POLICIES = [versioning_enabled, encryption_kms, access_logging, lifecycle, replicated, public_access_blocked, tls_only,
            acls_disabled]
