"""IAM roles for Kubernetes service accounts (IRSA).

A pod gets AWS credentials only through its service account: the role's trust
policy accepts web identities from the cluster's OIDC provider whose subject is
exactly ``system:serviceaccount:<namespace>:<service account>`` and whose
audience is STS, so no other pod (and no other cluster) can assume it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config import AwsAccount

STS_AUDIENCE = "sts.amazonaws.com"


def trust_policy(oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str) -> str:
    """The trust policy of an IRSA role; ``oidc_issuer`` is the issuer URL without ``https://``."""
    issuer = oidc_issuer.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc_provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{issuer}:aud": STS_AUDIENCE,
                        }
                    },
                }
            ],
        }
    )


def service_account_role(
    name: str,
    *,
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer: pulumi.Input[str],
    namespace: str,
    service_account: str,
    policy_documents: Sequence[Any] = (),
    account: AwsAccount,
    opts: pulumi.ResourceOptions | None = None,
    managed_policy_arns: Sequence[str] = (),
) -> aws.iam.Role:
    """A role only ``namespace/service_account`` can assume, with the given permissions.

    ``policy_documents`` are IAM policy documents, each a dict (which may hold
    Outputs) or an Output of its JSON text; each becomes an inline policy
    ``<name>-policy-<i>``. ``managed_policy_arns`` are AWS managed policies
    attached as they are (e.g. the EBS CSI driver's). Children share ``opts``.
    """
    role = aws.iam.Role(
        name,
        description=f"IRSA role of {namespace}/{service_account} ({account.account_id})",
        assume_role_policy=pulumi.Output.all(oidc_provider_arn, oidc_issuer).apply(
            lambda args: trust_policy(args[0], args[1], namespace, service_account)
        ),
        max_session_duration=3600,
        tags={"Name": name, "kubernetes-namespace": namespace, "kubernetes-service-account": service_account},
        opts=opts,
    )
    for i, document in enumerate(policy_documents):
        policy = pulumi.Output.json_dumps(document) if isinstance(document, dict) else document
        aws.iam.RolePolicy(f"{name}-policy-{i}", role=role.id, policy=policy, opts=opts)
    for arn in managed_policy_arns:
        aws.iam.RolePolicyAttachment(f"{name}-{arn.rsplit('/', 1)[-1]}", role=role.name, policy_arn=arn, opts=opts)
    return role
