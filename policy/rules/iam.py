"""IAM and resource policies: no administrator grants, no public principals.

Policy documents are JSON strings built by the program; in a real first preview a
document that depends on unknown ARNs is unknown and is skipped (checked on the
next preview), offline every document is complete.

Administrator rights are looked for wherever IAM lets a program grant them: identity
policy documents (role, user, group and managed policies, a role's inline policies)
and managed-policy attachments (every attachment type and a role's managedPolicyArns).
A Principal "*" Allow counts as restricted only by a condition on an account-scoping
key (SCOPING_CONDITION_KEYS); a condition on, say, aws:SecureTransport restricts nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pulumi_policy import Severity

from ._base import as_list, get, resource_policy, statements

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
ROLE_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
USER_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive"
GROUP_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive"

# Types whose `policy` input is an identity policy document.
DOCUMENT_TYPES = (ROLE_POLICY, USER_POLICY, GROUP_POLICY, MANAGED_POLICY)
# Types that attach one managed policy by its `policyArn`, or several by `policyArns`.
ATTACHMENT_TYPES = (ROLE_POLICY_ATTACHMENT, USER_POLICY_ATTACHMENT, GROUP_POLICY_ATTACHMENT, POLICY_ATTACHMENT)
EXCLUSIVE_ATTACHMENT_TYPES = (ROLE_POLICY_ATTACHMENTS_EXCLUSIVE, USER_POLICY_ATTACHMENTS_EXCLUSIVE, GROUP_POLICY_ATTACHMENTS_EXCLUSIVE)

# Resource types whose `policy` input is a resource-based policy document.
RESOURCE_POLICY_TYPES = (
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:backup/vaultPolicy:VaultPolicy",
    "aws:secretsmanager/secretPolicy:SecretPolicy",
    "aws:kms/key:Key",
)
LOG_RESOURCE_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"

ADMIN_POLICY_NAMES = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")
ADMIN_ACTIONS = ("*", "*:*", "iam:*")

# Condition keys that tie a request to an account, organization, principal, source resource
# or network path: a Principal "*" Allow is restricted only when one of them constrains it.
SCOPING_CONDITION_KEYS = frozenset(k.lower() for k in (
    "aws:SourceAccount", "aws:SourceArn", "aws:SourceOwner", "aws:PrincipalOrgID", "aws:PrincipalAccount",
    "aws:PrincipalArn", "aws:SourceVpce", "aws:SourceVpc", "aws:SourceOrgID",
))


def _is_admin_statement(statement: dict) -> bool:
    """Allow on every resource (or all but a few, via NotResource) of every action (or all but a few, via NotAction)."""
    if statement.get("Effect") != "Allow":
        return False
    if "NotResource" not in statement and "*" not in as_list(statement.get("Resource", [])):
        return False
    if "NotAction" in statement:
        return True
    return any(str(a).lower() in ADMIN_ACTIONS for a in as_list(statement.get("Action", [])))


def _admin_policy_name(arn: object) -> str | None:
    """The administrator policy an ARN names (AWS managed, or a customer policy of the same name), if any."""
    name = str(arn or "").rsplit("/", 1)[-1] if ":policy/" in str(arn or "") else ""
    return next((admin for admin in ADMIN_POLICY_NAMES if name.lower() == admin.lower()), None)


def _admin_documents(args):
    """(where, document) for every identity policy document the resource declares."""
    if args.resource_type in DOCUMENT_TYPES:
        yield "", get(args.props, "policy")
    elif args.resource_type == ROLE:
        for index, inline in enumerate(as_list(get(args.props, "inlinePolicies"))):
            inline = inline if isinstance(inline, Mapping) else {}
            yield f" (inline policy {get(inline, 'name') or index})", get(inline, "policy")


def _attached_arns(args):
    """(input, ARN) for every managed policy the resource attaches."""
    if args.resource_type in ATTACHMENT_TYPES:
        yield "policyArn", get(args.props, "policyArn")
    elif args.resource_type in EXCLUSIVE_ATTACHMENT_TYPES:
        yield from (("policyArns", arn) for arn in as_list(get(args.props, "policyArns")))
    elif args.resource_type == ROLE:
        yield from (("managedPolicyArns", arn) for arn in as_list(get(args.props, "managedPolicyArns")))


def _check_no_admin(args, cfg):
    for prop, arn in _attached_arns(args):
        name = _admin_policy_name(arn)
        if name:
            yield f"{args.name} attaches {name} ({prop}); grant the actions the principal needs instead."
    for where, document in _admin_documents(args):
        for statement in statements(document):
            if _is_admin_statement(statement):
                yield (f"{args.name}{where} allows {statement.get('Action') or 'NotAction'} on every resource: an administrator "
                       "grant. Scope actions and resources to what the workload uses.")


no_admin = resource_policy(
    name="iam-no-administrator-grants",
    description=("No IAM policy, role, user or group policy, or attachment grants administrator rights (all actions on all "
                 "resources, or AdministratorAccess/PowerUserAccess/IAMFullAccess)."),
    types=(ROLE, *DOCUMENT_TYPES, *ATTACHMENT_TYPES, *EXCLUSIVE_ATTACHMENT_TYPES),
    check=_check_no_admin,
    severity=Severity.CRITICAL,
    category="Security",
    remediation=("List the actions and resource ARNs the role, user or group needs; never attach AdministratorAccess, "
                 "PowerUserAccess or IAMFullAccess."),
    controls=("fsbp:IAM.1", "cis:1.16", "checkov:CKV_AWS_62", "checkov:CKV_AWS_290"),
)


def _scoping_values(values) -> bool:
    """A condition value that constrains something: not absent, not only wildcards."""
    return any(str(v).strip("*?") for v in as_list(values))


def _restricts_who(condition) -> bool:
    """The condition ties the request to an account, organization, principal, source or network path.

    Operators that negate (``...Not...``), are satisfied when the key is absent (``...IfExists``) or test
    only presence (``Null``) restrict nothing: a key such as aws:SourceAccount is absent on a direct call.
    """
    if not isinstance(condition, Mapping):
        return False
    for operator, clauses in condition.items():
        op = str(operator).split(":")[-1].lower()
        if "not" in op or op.endswith("ifexists") or op == "null" or not isinstance(clauses, Mapping):
            continue
        if any(str(key).lower() in SCOPING_CONDITION_KEYS and _scoping_values(values) for key, values in clauses.items()):
            return True
    return False


def _public_statements(document):
    """Allow statements for everyone (Principal "*", or NotPrincipal) that no account-scoping condition restricts."""
    for statement in statements(document):
        if statement.get("Effect") != "Allow" or _restricts_who(statement.get("Condition")):
            continue
        principal = statement.get("Principal")
        values = as_list(principal.get("AWS", [])) if isinstance(principal, Mapping) else as_list(principal)
        if "*" in values or "NotPrincipal" in statement:
            yield statement


ACCOUNT_PRINCIPAL = re.compile(r"^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:root)$")


def _account_wide_statements(document):
    """Allow statements that trust a whole account (its id or its root) with no condition on who in it may assume."""
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        values = as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []
        accounts = [str(v) for v in values if ACCOUNT_PRINCIPAL.match(str(v))]
        if accounts and not _restricts_who(statement.get("Condition")):
            yield statement, accounts


def _check_trust(args, cfg):
    document = get(args.props, "assumeRolePolicy")
    for statement in _public_statements(document):
        yield (f"role {args.name} can be assumed by any AWS principal (Principal \"*\" without an account-scoping condition); "
               "name the service or account, or condition it on aws:PrincipalOrgID / aws:PrincipalAccount / aws:SourceAccount "
               "(a condition on other keys, e.g. aws:SecureTransport, does not restrict who). "
               f"Statement: {statement.get('Sid') or statement.get('Action')}")
    for statement, accounts in _account_wide_statements(document):
        yield (f"role {args.name} trusts every principal of account(s) {', '.join(accounts)}: anyone there allowed "
               "sts:AssumeRole can become it; name the role or user (or condition on aws:PrincipalArn). "
               f"Statement: {statement.get('Sid') or statement.get('Action')}")


role_trust = resource_policy(
    name="iam-role-trust-not-public",
    description=("No role trusts every AWS principal, or every principal of an account, unless a condition scopes it to "
                 "named principals, an organization or a source."),
    types=(ROLE,),
    check=_check_trust,
    severity=Severity.CRITICAL,
    category="Security",
    remediation="Use a service principal, an account root, or an OIDC federated principal with sub/aud conditions.",
    controls=("checkov:CKV_AWS_60", "checkov:CKV_AWS_61"),
)


def _check_resource_policy(args, cfg):
    document = get(args.props, "policyDocument") if args.resource_type == LOG_RESOURCE_POLICY else get(args.props, "policy")
    for statement in _public_statements(document):
        yield (f"{args.name} grants {statement.get('Action')} to everyone (Principal \"*\" without an account-scoping "
               "condition); restrict it to named principals or add aws:SourceAccount / aws:SourceArn / aws:PrincipalOrgID "
               "conditions (a condition on other keys, e.g. aws:SecureTransport, does not restrict who).")


resource_policy_not_public = resource_policy(
    name="iam-resource-policy-not-public",
    description=("Bucket, topic, vault, secret, key and log resource policies never allow everyone unless a condition scopes "
                 "it to an account, organization, source resource or network path."),
    types=(*RESOURCE_POLICY_TYPES, LOG_RESOURCE_POLICY),
    check=_check_resource_policy,
    severity=Severity.CRITICAL,
    category="Security",
    remediation="Name the principal (service or account) and add aws:SourceAccount/aws:SourceArn conditions for services.",
    controls=("fsbp:S3.2", "fsbp:SNS.4", "fsbp:KMS.5", "checkov:CKV_AWS_70", "checkov:CKV_AWS_169"),
)

POLICIES = [no_admin, role_trust, resource_policy_not_public]
