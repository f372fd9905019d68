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


# --------------------------------------------------------------------------- administrator grants everywhere IAM allows them

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.mark.parametrize("arn", [ADMIN_ARN, "arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/IAMFullAccess"])
def test_a_role_with_an_admin_managed_policy_arn_fails(prod, arn):
    role = of_type(prod, "aws:iam/role:Role")[0]
    broken = mutate(prod, role["urn"], lambda r: r["inputs"].update(managedPolicyArns=[READ_ONLY_ARN, arn]))
    (finding,) = findings(broken, "iam-no-administrator-grants")
    assert finding.urn == role["urn"] and arn.rsplit("/", 1)[1] in finding.message and "managedPolicyArns" in finding.message


def test_a_role_with_an_admin_inline_policy_fails(prod):
    role = of_type(prod, "aws:iam/role:Role")[0]
    inline = [{"name": "ops", "policy": json.dumps({"Version": "2012-10-17", "Statement": [ADMIN]})}]
    broken = mutate(prod, role["urn"], lambda r: r["inputs"].update(inlinePolicies=inline))
    (finding,) = findings(broken, "iam-no-administrator-grants")
    assert finding.urn == role["urn"] and "inline policy ops" in finding.message and "administrator grant" in finding.message


def test_not_resource_with_every_action_is_an_admin_grant(prod):
    role_policy = of_type(prod, "aws:iam/rolePolicy:RolePolicy")[0]
    statement = {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::audit/*"}
    broken = mutate(prod, role_policy["urn"], lambda r: r["inputs"].update(policy=_with_statement(r["inputs"]["policy"], statement)))
    assert [f.urn for f in findings(broken, "iam-no-administrator-grants")] == [role_policy["urn"]]


def _iam_program(policy_arn: str, document: dict):
    """Every other way to grant a user, group or role a policy, all granting ``policy_arn`` / ``document``."""

    def program():
        import pulumi_aws as aws

        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        role = aws.iam.Role("role", assume_role_policy=trust)
        user = aws.iam.User("user")
        group = aws.iam.Group("group")
        policy = json.dumps(document)
        aws.iam.PolicyAttachment("policy-attachment", policy_arn=policy_arn, roles=[role.name])
        aws.iam.RolePolicyAttachmentsExclusive("role-exclusive", role_name=role.name, policy_arns=[READ_ONLY_ARN, policy_arn])
        aws.iam.UserPolicyAttachmentsExclusive("user-exclusive", user_name=user.name, policy_arns=[policy_arn])
        aws.iam.GroupPolicyAttachmentsExclusive("group-exclusive", group_name=group.name, policy_arns=[policy_arn])
        aws.iam.UserPolicy("user-policy", user=user.name, policy=policy)
        aws.iam.GroupPolicy("group-policy", group=group.name, policy=policy)
        aws.iam.UserPolicyAttachment("user-attachment", user=user.name, policy_arn=policy_arn)
        aws.iam.GroupPolicyAttachment("group-attachment", group=group.name, policy_arn=policy_arn)

    return program


GRANTS = {"policy-attachment", "role-exclusive", "user-exclusive", "group-exclusive", "user-policy", "group-policy",
          "user-attachment", "group-attachment"}


def test_admin_grants_to_users_groups_and_through_every_attachment_type_fail(synth_program):
    synth = synth_program(_iam_program(ADMIN_ARN, {"Version": "2012-10-17", "Statement": [ADMIN]}))
    flagged = {f.urn.rsplit("::", 1)[1]: f.message for f in findings(synth, "iam-no-administrator-grants")}
    assert set(flagged) == GRANTS
    assert "AdministratorAccess (policyArns)" in flagged["role-exclusive"]
    assert "AdministratorAccess (policyArn)" in flagged["policy-attachment"]
    assert "administrator grant" in flagged["user-policy"] and "administrator grant" in flagged["group-policy"]


def test_scoped_grants_through_every_attachment_type_pass(synth_program):
    scoped = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}
    synth = synth_program(_iam_program(READ_ONLY_ARN, scoped))
    assert {r["type"] for r in synth.resources} >= {
        "aws:iam/policyAttachment:PolicyAttachment", "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy", "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"}
    assert findings(synth, "iam-no-administrator-grants") == []


# --------------------------------------------------------------------------- public principals: which conditions restrict


def _public(condition: dict | None, **extra) -> dict:
    statement = {**PUBLIC, **extra}
    if condition is not None:
        statement["Condition"] = condition
    return statement


NOT_RESTRICTING = {
    "secure transport only": {"Bool": {"aws:SecureTransport": "true"}},
    "TLS version only": {"NumericGreaterThanEquals": {"s3:TlsVersion": "1.2"}},
    "negated account": {"StringNotEquals": {"aws:SourceAccount": "123456789012"}},
    "account only if present": {"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}},
    "org key must be absent": {"Null": {"aws:PrincipalOrgID": "true"}},
    "wildcard account": {"StringLike": {"aws:SourceAccount": "*"}},
}


@pytest.mark.parametrize("condition", NOT_RESTRICTING.values(), ids=NOT_RESTRICTING.keys())
def test_a_public_statement_whose_condition_does_not_scope_who_fails(prod, condition):
    policy = of_type(prod, "aws:s3/bucketPolicy:BucketPolicy")[0]
    broken = mutate(prod, policy["urn"], lambda r: r["inputs"].update(policy=_with_statement(r["inputs"]["policy"], _public(condition))))
    (finding,) = findings(broken, "iam-resource-policy-not-public")
    assert finding.urn == policy["urn"] and "account-scoping" in finding.message


RESTRICTING = {
    "source account": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    "source arn, any case": {"ArnLike": {"AWS:sourcearn": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/*"}},
    "org id with a transport check": {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
    "vpc endpoint": {"StringEquals": {"aws:SourceVpce": ["vpce-0123"]}},
    "principal arn, set operator": {"ForAnyValue:ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/x"}},
}


@pytest.mark.parametrize("condition", RESTRICTING.values(), ids=RESTRICTING.keys())
def test_a_public_statement_scoped_by_an_account_key_passes(prod, condition):
    policy = of_type(prod, "aws:s3/bucketPolicy:BucketPolicy")[0]
    ok = mutate(prod, policy["urn"], lambda r: r["inputs"].update(policy=_with_statement(r["inputs"]["policy"], _public(condition))))
    assert findings(ok, "iam-resource-policy-not-public") == []


def test_allow_with_not_principal_is_public(prod):
    policy = of_type(prod, "aws:s3/bucketPolicy:BucketPolicy")[0]
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject", "Resource": "*"}
    broken = mutate(prod, policy["urn"], lambda r: r["inputs"].update(policy=_with_statement(r["inputs"]["policy"], statement)))
    assert [f.urn for f in findings(broken, "iam-resource-policy-not-public")] == [policy["urn"]]


def test_a_role_trusting_everyone_over_tls_only_fails(prod):
    role = of_type(prod, "aws:iam/role:Role")[0]
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                 "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    broken = mutate(prod, role["urn"], lambda r: r["inputs"].update(assumeRolePolicy=_with_statement(r["inputs"]["assumeRolePolicy"], statement)))
    (finding,) = findings(broken, "iam-role-trust-not-public")
    assert finding.urn == role["urn"] and "account-scoping" in finding.message

