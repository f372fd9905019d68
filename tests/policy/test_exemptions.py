"""Per-resource exemptions: explicit, reasoned, and reported as accepted risk, never silent."""

from __future__ import annotations

import json

from golive import check
from tests.helpers import mutate, one


def run(synth, name):
    return check.check(synth, [p for p in check.load_policies() if p.name == name])


def test_a_tagged_exemption_turns_a_violation_into_accepted_risk(prod):
    key = one(prod, "aws:kms/key:Key", "golive-flow-logs")

    def break_and_exempt(record):
        record["inputs"]["enableKeyRotation"] = False
        record["inputs"]["tags"]["golive:exempt:kms-key-rotation"] = "imported key material cannot rotate (SEC-123)"

    result = run(mutate(prod, key["urn"], break_and_exempt), "kms-key-rotation")
    assert result.findings == []
    (accepted,) = result.exemptions
    assert (accepted.policy, accepted.urn) == ("kms-key-rotation", key["urn"])
    assert accepted.reason == "imported key material cannot rotate (SEC-123)" and "does not rotate" in accepted.message


def test_an_exemption_without_a_reason_is_no_exemption(prod):
    key = one(prod, "aws:kms/key:Key", "golive-flow-logs")

    def break_and_exempt(record):
        record["inputs"]["enableKeyRotation"] = False
        record["inputs"]["tags"]["golive:exempt:kms-key-rotation"] = "  "

    result = run(mutate(prod, key["urn"], break_and_exempt), "kms-key-rotation")
    assert [f.policy for f in result.findings] == ["kms-key-rotation"] and result.exemptions == []


def test_an_exemption_covers_only_the_named_policy(prod):
    key = one(prod, "aws:kms/key:Key", "golive-flow-logs")

    def break_and_exempt(record):
        record["inputs"]["enableKeyRotation"] = False
        record["inputs"]["tags"]["golive:exempt:tags-required"] = "not this one"

    assert [f.policy for f in run(mutate(prod, key["urn"], break_and_exempt), "kms-key-rotation").findings] == ["kms-key-rotation"]


def test_stack_policy_findings_honour_the_exemption_of_the_resource_they_name(prod):
    group = one(prod, "aws:cloudwatch/logGroup:LogGroup", "flow-logs")

    def shorten_and_exempt(record):
        record["inputs"]["retentionInDays"] = 30
        record["inputs"]["tags"]["golive:exempt:network-vpc-flow-logs"] = "sandbox VPC, logs shipped elsewhere"

    result = run(mutate(prod, group["urn"], shorten_and_exempt), "network-vpc-flow-logs")
    assert result.findings == [] and [e.urn for e in result.exemptions] == [group["urn"]]


def test_accepted_risks_reach_the_cli_as_advisory_diagnostics(prod):
    """What `pulumi preview --policy-pack policy` prints: a warning of the accepted-risk policy, not a violation."""
    from golive import analyzer

    key = one(prod, "aws:kms/key:Key", "golive-flow-logs")

    def break_and_exempt(record):
        record["inputs"]["enableKeyRotation"] = False
        record["inputs"]["tags"]["golive:exempt:kms-key-rotation"] = "imported key material (SEC-123)"

    broken = mutate(prod, key["urn"], break_and_exempt)
    policies = [p for p in check.load_policies() if p.name in ("kms-key-rotation", *check.exemption_policies())]
    analysis = analyzer.analyze(broken, check._in_process(policies))
    (diagnostic,) = analysis.diagnostics
    assert (diagnostic.policy, diagnostic.urn, diagnostic.enforcement) == ("exemption-accepted-risk", key["urn"], "advisory")
    assert diagnostic.message.startswith("kms-key-rotation: KMS key golive-flow-logs-key does not rotate")
    assert diagnostic.message.endswith("(accepted risk: imported key material (SEC-123))")


def test_a_critical_policy_cannot_be_exempted(prod):
    """A critical finding stays a violation whatever the resource's tag says, and is never reported as accepted risk."""
    from pulumi_policy import Severity

    from golive import formats

    group = one(prod, "aws:ec2/securityGroup:SecurityGroup", "golive-db-sg")
    policy = next(p for p in check.load_policies() if p.name == "security-group-no-world-ingress")
    assert policy.severity == Severity.CRITICAL

    def open_and_exempt(record):
        record["inputs"]["ingress"].append({"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["0.0.0.0/0"]})
        record["inputs"]["tags"]["golive:exempt:security-group-no-world-ingress"] = "vendor needs direct access (SEC-9)"

    result = run(mutate(prod, group["urn"], open_and_exempt), "security-group-no-world-ingress")
    (finding,) = result.findings
    assert (finding.policy, finding.urn, finding.enforcement) == ("security-group-no-world-ingress", group["urn"], "mandatory")
    assert "critical policies cannot be exempted" in finding.message
    assert result.exemptions == []
    assert formats.policy_status(result, result.policies["security-group-no-world-ingress"]) == formats.FAIL
    report = json.loads(formats.render_json(result, prod))
    assert report["exemptions"] == []


def test_a_critical_resource_policy_cannot_be_exempted(prod):
    role = prod.of_type("aws:iam/role:Role")[0]

    def admin_and_exempt(record):
        record["inputs"]["managedPolicyArns"] = ["arn:aws:iam::aws:policy/AdministratorAccess"]
        record["inputs"]["tags"]["golive:exempt:iam-no-administrator-grants"] = "break-glass role"

    result = run(mutate(prod, role["urn"], admin_and_exempt), "iam-no-administrator-grants")
    assert [f.urn for f in result.findings] == [role["urn"]] and result.exemptions == []
    assert "critical policies cannot be exempted" in result.findings[0].message


def test_exemption_ignores_the_tag_only_for_critical_severity():
    from pulumi_policy import Severity

    from policy.rules._base import exemption

    props = {"tags": {"golive:exempt:p": "reason"}}
    assert exemption(props, "p") == exemption(props, "p", Severity.HIGH) == "reason"
    assert exemption(props, "p", Severity.CRITICAL) is None
