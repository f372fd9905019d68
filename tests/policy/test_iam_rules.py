"""IAM and resource-policy rules."""

from __future__ import annotations

import json

import pytest

from tests.helpers import findings, mutate, of_type

ADMIN = {"Effect": "Allow", "Action": "*", "Resource": "*"}
PUBLIC = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}


@pytest.mark.parametrize("policy", ["iam-no-administrator-grants", "iam-role-trust-not-public", "iam-resource-policy-not-public"])
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def _with_statement(document: str, statement: dict) -> str:
    doc = json.loads(document)
    doc["Statement"] = [*(doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]), statement]
    return json.dumps(doc)


def test_an_inline_admin_statement_fails(prod):
    role_policy = of_type(prod, "aws:iam/rolePolicy:RolePolicy")[0]
    broken = mutate(prod, role_policy["urn"], lambda r: r["inputs"].update(policy=_with_statement(r["inputs"]["policy"], ADMIN)))
    (finding,) = findings(broken, "iam-no-administrator-grants")
    assert finding.urn == role_policy["urn"] and "administrator grant" in finding.message


def test_not_action_on_everything_is_an_admin_grant(prod):
    role_policy = of_type(prod, "aws:iam/rolePolicy:RolePolicy")[0]
    statement = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    broken = mutate(prod, role_policy["urn"], lambda r: r["inputs"].update(policy=_with_statement(r["inputs"]["policy"], statement)))
    assert [f.policy for f in findings(broken, "iam-no-administrator-grants")] == ["iam-no-administrator-grants"]


def test_attaching_administrator_access_fails(prod):
    attachment = of_type(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")[0]
    broken = mutate(prod, attachment["urn"], lambda r: r["inputs"].update(policyArn="arn:aws:iam::aws:policy/AdministratorAccess"))
    (finding,) = findings(broken, "iam-no-administrator-grants")
    assert "AdministratorAccess" in finding.message


def test_a_role_anyone_can_assume_fails(prod):
    role = of_type(prod, "aws:iam/role:Role")[0]
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    broken = mutate(prod, role["urn"], lambda r: r["inputs"].update(assumeRolePolicy=_with_statement(r["inputs"]["assumeRolePolicy"], statement)))
    (finding,) = findings(broken, "iam-role-trust-not-public")
    assert finding.urn == role["urn"]


def test_a_conditioned_public_principal_is_allowed(prod):
    role = of_type(prod, "aws:iam/role:Role")[0]
    statement = {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}
    ok = mutate(prod, role["urn"], lambda r: r["inputs"].update(assumeRolePolicy=_with_statement(r["inputs"]["assumeRolePolicy"], statement)))
    assert findings(ok, "iam-role-trust-not-public") == []


@pytest.mark.parametrize("type_, prop", [
    ("aws:s3/bucketPolicy:BucketPolicy", "policy"),
    ("aws:sns/topicPolicy:TopicPolicy", "policy"),
    ("aws:backup/vaultPolicy:VaultPolicy", "policy"),
    ("aws:kms/key:Key", "policy"),
    ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "policyDocument"),
])
def test_a_public_resource_policy_fails(prod, type_, prop):
    resource = of_type(prod, type_)[0]
    broken = mutate(prod, resource["urn"], lambda r: r["inputs"].update({prop: _with_statement(r["inputs"][prop], PUBLIC)}))
    (finding,) = findings(broken, "iam-resource-policy-not-public")
    assert finding.urn == resource["urn"] and "to everyone" in finding.message
