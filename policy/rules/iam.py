"""IAM and resource policies: no administrator grants, no public principals.

Policy documents are JSON strings built by the program; in a real first preview a
document that depends on unknown ARNs is unknown and is skipped (checked on the
next preview), offline every document is complete.
"""

from __future__ import annotations

from pulumi_policy import Severity

from ._base import as_list, get, resource_policy, statements

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

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


def _is_admin_statement(statement: dict) -> bool:
    """Allow on every resource of every action (or of all but a few, via NotAction)."""
    if statement.get("Effect") != "Allow" or "*" not in as_list(statement.get("Resource", [])):
        return False
    if "NotAction" in statement:
        return True
    return any(a in ("*", "*:*", "iam:*") for a in as_list(statement.get("Action", [])))


def _check_no_admin(args, cfg):
    if args.resource_type == ROLE_POLICY_ATTACHMENT:
        arn = str(get(args.props, "policyArn") or "")
        if any(arn.endswith(f":policy/{name}") for name in ADMIN_POLICY_NAMES):
            yield f"{args.name} attaches {arn.rsplit('/', 1)[-1]}; grant the actions the role needs instead."
        return
    for statement in statements(get(args.props, "policy")):
        if _is_admin_statement(statement):
            yield (f"{args.name} allows {statement.get('Action') or 'NotAction'} on every resource: an administrator grant. "
                   "Scope actions and resources to what the workload uses.")


no_admin = resource_policy(
    name="iam-no-administrator-grants",
    description="No IAM policy or attachment grants administrator rights (all actions on all resources).",
    types=(ROLE_POLICY, MANAGED_POLICY, ROLE_POLICY_ATTACHMENT),
    check=_check_no_admin,
    severity=Severity.CRITICAL,
    category="Security",
    remediation="List the actions and resource ARNs the role needs; never attach AdministratorAccess to a workload role.",
    controls=("fsbp:IAM.1", "cis:1.16", "checkov:CKV_AWS_62", "checkov:CKV_AWS_290"),
)


def _public_statements(document):
    for statement in statements(document):
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        values = as_list(principal.get("AWS", [])) if isinstance(principal, dict) else as_list(principal)
        if "*" in values:
            yield statement


def _check_trust(args, cfg):
    for statement in _public_statements(get(args.props, "assumeRolePolicy")):
        yield (f"role {args.name} can be assumed by any AWS principal (Principal \"*\" without a condition); "
               f"name the service or account, or add a condition. Statement: {statement.get('Sid') or statement.get('Action')}")


role_trust = resource_policy(
    name="iam-role-trust-not-public",
    description="No role trusts every AWS principal without a condition.",
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
        yield (f"{args.name} grants {statement.get('Action')} to everyone (Principal \"*\" without a condition); "
               "restrict it to named principals or add aws:SourceAccount / aws:SourceArn conditions.")


resource_policy_not_public = resource_policy(
    name="iam-resource-policy-not-public",
    description="Bucket, topic, vault, secret, key and log resource policies never allow everyone without a condition.",
    types=(*RESOURCE_POLICY_TYPES, LOG_RESOURCE_POLICY),
    check=_check_resource_policy,
    severity=Severity.CRITICAL,
    category="Security",
    remediation="Name the principal (service or account) and add aws:SourceAccount/aws:SourceArn conditions for services.",
    controls=("fsbp:S3.2", "fsbp:SNS.4", "fsbp:KMS.5", "checkov:CKV_AWS_70", "checkov:CKV_AWS_169"),
)

POLICIES = [no_admin, role_trust, resource_policy_not_public]
