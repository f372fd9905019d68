"""Cross-area policies: required tags, KMS rotation, log groups."""

from __future__ import annotations

import json

import pytest

from policy.rules.types import TAGGABLE
from tests.helpers import findings, mutate, one


@pytest.mark.parametrize("policy", ["tags-required", "kms-key-rotation", "logs-group-encrypted-retained"])
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def test_tags_come_from_the_provider_default_tags(prod):
    vpc = one(prod, "aws:ec2/vpc:Vpc")
    assert "owner" not in vpc["inputs"]["tags"]  # set once, on the provider
    provider = one(prod, "pulumi:providers:aws", "aws-primary")
    tags = json.loads(provider["inputs"]["defaultTags"])["tags"]
    assert tags == {"environment": "production", "project": "golive", "owner": "platform-team",
                    "cost-center": "platform-engineering", "managed-by": "pulumi"}


def test_tags_fail_when_the_provider_drops_a_required_tag(prod):
    provider = one(prod, "pulumi:providers:aws", "aws-primary")

    def drop_owner(record):
        tags = json.loads(record["inputs"]["defaultTags"])
        del tags["tags"]["owner"]
        record["inputs"]["defaultTags"] = json.dumps(tags)

    broken = findings(mutate(prod, provider["urn"], drop_owner), "tags-required")
    taggable = [r for r in prod.resources if r["type"] in TAGGABLE and r["provider"] and r["provider"].startswith(provider["urn"] + "::")
                and "owner" not in (r["inputs"].get("tags") or {})]
    assert len(broken) == len(taggable) > 0
    assert all("owner" in f.message for f in broken)


def test_a_resource_tag_can_supply_a_missing_default(prod):
    provider = one(prod, "pulumi:providers:aws", "aws-primary")
    vpc = one(prod, "aws:ec2/vpc:Vpc")

    def drop_owner(record):
        tags = json.loads(record["inputs"]["defaultTags"])
        del tags["tags"]["owner"]
        record["inputs"]["defaultTags"] = json.dumps(tags)

    stack = mutate(mutate(prod, provider["urn"], drop_owner), vpc["urn"], lambda r: r["inputs"]["tags"].update(owner="net-team"))
    assert vpc["urn"] not in {f.urn for f in findings(stack, "tags-required")}


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda r: r["inputs"].update(enableKeyRotation=False), "does not rotate"),
        (lambda r: r["inputs"].update(deletionWindowInDays=7), "keep at least 30"),
    ],
)
def test_kms_rotation_fails(prod, change, expected):
    key = one(prod, "aws:kms/key:Key", "golive-flow-logs")
    (finding,) = findings(mutate(prod, key["urn"], change), "kms-key-rotation")
    assert expected in finding.message


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda r: r["inputs"].pop("kmsKeyId"), "not encrypted"),
        (lambda r: r["inputs"].pop("retentionInDays"), "forever"),
        (lambda r: r["inputs"].update(retentionInDays=7), "at least 365"),
        # CKV_AWS_338: production keeps a year; 180 days is a valid CloudWatch value, but too short.
        (lambda r: r["inputs"].update(retentionInDays=180), "production keeps at least 365"),
    ],
)
def test_log_group_fails(prod, change, expected):
    group = one(prod, "aws:cloudwatch/logGroup:LogGroup", "golive-flow-logs")
    (finding,) = findings(mutate(prod, group["urn"], change), "logs-group-encrypted-retained")
    assert expected in finding.message


def test_thresholds_are_pack_config(prod):
    """A stricter pack config makes the real stack fail: thresholds are not hard-coded."""
    from golive import check

    policies = [p for p in check.load_policies() if p.name == "logs-group-encrypted-retained"]
    result = check.check(prod, policies, policy_config={"logs-group-encrypted-retained": {"minRetentionDays": 3653}})
    assert result.findings and all("at least 3653" in f.message for f in result.findings)


@pytest.mark.parametrize("policy", ["aws-provider-pinned", "secrets-random-password-length"])
def test_provider_and_password_rules_pass_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda r: r["inputs"].pop("region"), "has no region"),
        (lambda r: r["inputs"].pop("allowedAccountIds"), "allowed_account_ids"),
        (lambda r: r["inputs"].update(defaultTags=json.dumps({"tags": {"project": "golive"}})), "default_tags lack environment"),
    ],
)
def test_an_unpinned_provider_fails(prod, change, expected):
    provider = one(prod, "pulumi:providers:aws", "aws-dr")
    (finding,) = findings(mutate(prod, provider["urn"], change), "aws-provider-pinned")
    assert finding.urn == provider["urn"] and expected in finding.message


def test_a_short_password_fails(prod):
    password = prod.of_type("random:index/randomPassword:RandomPassword")[0]
    (finding,) = findings(mutate(prod, password["urn"], lambda r: r["inputs"].update(length=16)), "secrets-random-password-length")
    assert "16 characters" in finding.message


def _staging(synth):
    """The stack with its AWS providers tagged environment=staging."""
    import copy
    import json

    from golive import engine

    doc = copy.deepcopy(synth.document())
    for record in doc["resources"]:
        if record["type"] == "pulumi:providers:aws":
            tags = json.loads(record["inputs"]["defaultTags"])
            tags["tags"]["environment"] = "staging"
            record["inputs"]["defaultTags"] = json.dumps(tags)
    return engine.SynthResult.from_document(doc)


def test_log_retention_outside_production_needs_30_days_not_a_year(prod):
    group = one(prod, "aws:cloudwatch/logGroup:LogGroup", "golive-flow-logs")
    staging = _staging(prod)
    assert findings(mutate(staging, group["urn"], lambda r: r["inputs"].update(retentionInDays=90)), "logs-group-encrypted-retained") == []
    (finding,) = findings(mutate(staging, group["urn"], lambda r: r["inputs"].update(retentionInDays=14)), "logs-group-encrypted-retained")
    assert "keep at least 30" in finding.message
