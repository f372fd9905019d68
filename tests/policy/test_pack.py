"""The pack as a whole: what the CLI loads, complete metadata, every declared type covered."""

from __future__ import annotations

import re
import runpy
import sys

import pytest

from golive import check, engine
from policy.rules import CATEGORIES, META
from tests.conftest import ROOT

AREAS = ("network", "tags", "kms", "logs", "aws", "kubernetes", "secrets", "iam", "security-group", "rds", "elasticache",
         "secretsmanager", "cluster", "edge", "security", "monitoring", "s3", "backup", "delivery", "exemption",
         "resilience")

# Types no rule is about, each with the reason. Their properties are checked where they
# matter: on the resource they attach to, or by a stack policy joining them. Components
# (golive:*) hold no cloud state and are left out: every child they declare is checked.
NOT_POLICED = {
    "aws:acm/certificateValidation:CertificateValidation": "a wait for DNS validation; the certificate is policed",
    "aws:cloudwatch/logStream:LogStream": "a stream inside a policed (encrypted, retained) log group",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "grants to admin roles listed in reviewed config",
    "aws:kms/alias:Alias": "a name for a policed key",
    "aws:kms/grant:Grant": "scoped use of a policed key by an AWS service role",
    "aws:lambda/permission:Permission": "lets Secrets Manager invoke a rotation function, for its secret only (tested)",
    "aws:route53/record:Record": "DNS names; what they point at is policed",
    "aws:sns/topicSubscription:TopicSubscription": "an e-mail subscriber of the policed (CMK-encrypted) backup topic; "
    "golive:backup.notificationEmails requires one in production",
    "aws:secretsmanager/secretVersion:SecretVersion": "the value of a policed (CMK-encrypted) secret; secret-ness is tested",
    "random:index/randomId:RandomId": "suffix of final-snapshot names; the snapshot settings are policed on the instance and cache",
    "kubernetes:core/v1:Secret": "values are secret Outputs (tests scan the synth for clear values)",
    "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding": "registers pods into policed target groups",
}


def test_the_pack_module_hands_every_policy_to_policy_pack(monkeypatch):
    """`policy/__main__.py` as the CLI runs it, with PolicyPack captured instead of serving gRPC."""
    import pulumi_policy

    captured = {}

    class CapturingPack:
        def __init__(self, **kwargs):
            captured.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", CapturingPack)
    monkeypatch.syspath_prepend(str(ROOT / "policy"))
    sys.modules.pop("rules", None)
    runpy.run_path(str(ROOT / "policy" / "__main__.py"), run_name="__main__")
    names = [p.name for p in captured["policies"]]
    assert captured["name"] == "golive"
    assert sorted(names) == sorted(p.name for p in check.load_policies())
    assert (ROOT / "policy" / "PulumiPolicy.yaml").read_text().count("runtime:") == 1


def test_at_least_sixty_policies_with_unique_names():
    names = [p.name for p in check.load_policies()]
    assert len(names) >= 60 and len(set(names)) == len(names)


@pytest.mark.parametrize("policy", check.load_policies(), ids=lambda p: p.name)
def test_policy_metadata_is_complete(policy):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", policy.name), "kebab-case"
    assert policy.name.startswith(AREAS), f"{policy.name}: prefix with its area"
    assert len(policy.description) > 20 and policy.remediation_steps and policy.severity and policy.enforcement_level
    categories = [t.split(":", 1)[1] for t in policy.tags if t.startswith("category:")]
    assert categories and categories[0] in CATEGORIES
    assert META[policy.name].category == categories[0]
    controls = [t for t in policy.tags if not t.startswith("category:")]
    assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9_.-]+", c) for c in controls), controls


def test_thresholds_are_pack_config_with_defaults():
    with_config = [p for p in check.load_policies() if p.config_schema]
    assert len(with_config) >= 15
    for policy in with_config:
        for key, prop in policy.config_schema.properties.items():
            assert "default" in prop and prop["type"], (policy.name, key)


def test_every_declared_type_is_policed_or_explicitly_allowed(prod):
    covered = {t for meta in META.values() for t in meta.resource_types}
    declared = {r["type"] for r in prod.resources if r["custom"]}
    uncovered = sorted(declared - covered - set(NOT_POLICED))
    assert not uncovered, f"no policy covers {uncovered}: write one, or add it to NOT_POLICED with the reason"
    stale = sorted(set(NOT_POLICED) & covered)
    assert not stale, f"allow-listed but policed: {stale}"


def test_stack_policies_declare_every_type_they_read(prod, prod_check):
    """In-process, each stack policy gets the resources of its declared types and what they link to: a type it
    reads but does not declare would silently be missing (the gRPC tier in tests/test_analyzer.py is the proof
    on real stacks; this names the culprit)."""
    from policy.rules._base import QUERIED_TYPES

    first = check.check(engine.synth("prod", first_preview=True))
    assert first is not None and QUERIED_TYPES
    undeclared = {name: sorted(types - set(META[name].resource_types)) for name, types in QUERIED_TYPES.items()
                  if name in META and not types <= set(META[name].resource_types)}
    assert not undeclared, f"add these to the policy's types=: {undeclared}"
