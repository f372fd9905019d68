"""Rules that apply across areas: tags, KMS keys, log groups."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import Severity

from . import types as t
from ._base import (
    KMS_KEY_TYPES,
    as_json,
    as_list,
    customer_managed_key,
    declare_reference,
    effective_tags,
    get,
    is_production,
    resource_policy,
)


def _check_tags(args, cfg):
    tags = effective_tags(args)
    missing = [k for k in cfg["requiredTags"] if not tags.get(k)]
    if missing:
        yield (f"{args.name} lacks the tag(s) {', '.join(missing)} (neither on the resource nor in the provider's "
               "default_tags); cost reports and ownership lookups depend on them.")


required_tags = resource_policy(
    name="tags-required",
    description="Every taggable AWS resource carries the required tags (environment, project, owner, cost-center, managed-by).",
    types=tuple(sorted(t.TAGGABLE)),
    check=_check_tags,
    severity=Severity.LOW,
    category="Compliance",
    remediation="Keep the provider's default_tags built from golive config, or tag the resource explicitly.",
    controls=("fsbp:Config.1",),
    defaults={"requiredTags": ("environment", "project", "owner", "cost-center", "managed-by")},
)


def _check_kms_rotation(args, cfg):
    spec = get(args.props, "customerMasterKeySpec", "SYMMETRIC_DEFAULT")
    if spec == "SYMMETRIC_DEFAULT" and not get(args.props, "enableKeyRotation"):
        yield f"KMS key {args.name} does not rotate; set enable_key_rotation=True."
    window = get(args.props, "deletionWindowInDays", 30)
    if window < cfg["minDeletionWindowDays"]:
        yield (f"KMS key {args.name} can be deleted {window} days after scheduling; "
               f"keep at least {cfg['minDeletionWindowDays']} to catch a mistaken deletion.")


kms_rotation = resource_policy(
    name="kms-key-rotation",
    description="Customer-managed symmetric KMS keys rotate yearly and keep a long deletion window.",
    types=(t.KMS_KEY,),
    check=_check_kms_rotation,
    severity=Severity.MEDIUM,
    category="Security",
    remediation="Create keys with components.kms.EncryptionKey (rotation on, 30-day window).",
    controls=("fsbp:KMS.4", "cis:3.6", "checkov:CKV_AWS_7"),
    defaults={"minDeletionWindowDays": 30},
)


declare_reference((t.LOG_GROUP,), "kmsKeyId", KMS_KEY_TYPES)


def _check_log_group(args, cfg):
    if problem := customer_managed_key(args.props, "kmsKeyId"):
        yield f"log group {args.name} is not encrypted with a customer-managed KMS key: it {problem}."
    retention = get(args.props, "retentionInDays", 0)
    minimum = cfg["minRetentionDays"] if is_production(args) else cfg["nonProductionMinRetentionDays"]
    if not retention:
        yield f"log group {args.name} keeps logs forever; set retention_in_days."
    elif retention < minimum:
        where = "production keeps" if is_production(args) else "keep"
        yield f"log group {args.name} keeps logs {retention} days; {where} at least {minimum}."


log_group_encrypted = resource_policy(
    name="logs-group-encrypted-retained",
    description=("CloudWatch log groups are encrypted with a customer-managed KMS key and keep logs a bounded time: at least "
                 "a year in production (30 days elsewhere)."),
    types=(t.LOG_GROUP,),
    check=_check_log_group,
    severity=Severity.MEDIUM,
    category="Compliance",
    remediation="Pass kms_key_id and retention_in_days (from config, 365 in production) to every aws.cloudwatch.LogGroup.",
    controls=("checkov:CKV_AWS_158", "checkov:CKV_AWS_338"),
    defaults={"minRetentionDays": 365, "nonProductionMinRetentionDays": 30},
)

def _check_provider(args, cfg):
    props = args.props
    if not get(props, "region"):
        yield f"AWS provider {args.name} has no region; a stack must not depend on the ambient AWS_REGION."
    if not as_json(get(props, "allowedAccountIds")):
        yield f"AWS provider {args.name} does not pin allowed_account_ids; it could deploy into whatever account the credentials reach."
    tags = as_json(get(as_json(get(props, "defaultTags")) or {}, "tags")) or {}
    missing = [k for k in cfg["requiredTags"] if not tags.get(k)]
    if missing:
        yield f"AWS provider {args.name} default_tags lack {', '.join(missing)}."


explicit_provider = resource_policy(
    name="aws-provider-pinned",
    description="Every AWS provider pins its region and account and tags everything it creates.",
    types=(t.PROVIDER_AWS,),
    check=_check_provider,
    severity=Severity.HIGH,
    category="Infrastructure",
    remediation="Build providers from golive config: region, allowed_account_ids=[accountId], default_tags.",
    controls=("fsbp:Config.1",),
    defaults={"requiredTags": ("environment", "project", "owner", "cost-center", "managed-by")},
)


def _check_password(args, cfg):
    length = get(args.props, "length", 0)
    if length < cfg["minLength"]:
        yield f"random password {args.name} is {length} characters; generate at least {cfg['minLength']}."


password_strength = resource_policy(
    name="secrets-random-password-length",
    description="Generated passwords and tokens are long enough to resist guessing (32 characters by default).",
    types=(t.RANDOM_PASSWORD,),
    check=_check_password,
    severity=Severity.HIGH,
    category="Security",
    remediation="Raise `length` of the pulumi_random.RandomPassword.",
    controls=("cis:1.8",),
    defaults={"minLength": 32},
)

def _check_kubernetes_provider(args, cfg):
    kubeconfig = as_json(get(args.props, "kubeconfig"))
    if not kubeconfig:
        yield (f"Kubernetes provider {args.name} has no kubeconfig: it would use the ambient ~/.kube/config "
               "and could deploy into whatever cluster the operator last used.")
        return
    if isinstance(kubeconfig, Mapping):
        users = [get(u, "user") or {} for u in as_list(get(kubeconfig, "users"))]
        if any(u.get("token") or u.get("password") or u.get("client-key-data") for u in users):
            yield f"Kubernetes provider {args.name} embeds a static credential; use an exec plugin (aws eks get-token)."


kubernetes_provider = resource_policy(
    name="kubernetes-provider-explicit",
    description="Every Kubernetes provider targets the stack's own cluster through a generated kubeconfig with short-lived tokens.",
    types=(t.PROVIDER_KUBERNETES,),
    check=_check_kubernetes_provider,
    severity=Severity.HIGH,
    category="Infrastructure",
    remediation="Build the provider from the EKS cluster's endpoint and CA with an `aws eks get-token` exec user (components/cluster.py).",
)

POLICIES = [required_tags, kms_rotation, log_group_encrypted, explicit_provider, password_strength, kubernetes_provider]

