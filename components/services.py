"""The service catalog: each service's place on the platform.

Per service (the namespace is the root of its subtree, so a preview shows one
branch per service):

- a namespace named after the service, enforcing Pod Security ``restricted``
  (and auditing/warning on it);
- NetworkPolicies: ``default-deny`` (no ingress unless admitted) and ``allow-ingress``
  admitting the service's port from the load balancer and, with its metrics port,
  from the monitoring namespace. The ALB sends traffic to pod IPs from its own ENIs, which live in the
  public subnets, so those subnets' CIDRs are the ``ipBlock`` (a VPC-wide block would
  also admit every node and pod); egress stays open and is fenced by security groups;
- a ResourceQuota sized from ``maxReplicas`` (room for a rollout surge) and a
  LimitRange giving containers default requests and limits;
- a ServiceAccount bound to an IRSA role that may read the service's own Secrets
  Manager secrets (``golive/<service>/*``) and the shared cache AUTH token
  (``golive/cache/*``), decrypting them through Secrets Manager only, and connect to
  the database as the user named after the service (IAM database authentication);
- an autoscaling/v2 HorizontalPodAutoscaler on the workload named after the service: its
  Deployment, or, when the service ships through progressive delivery (``delivery`` other
  than ``none``), the Argo ``Rollout`` wrapping that Deployment, which then owns the
  replica count (an HPA on the Deployment would fight the Rollout scaling it to 0);
  and a PodDisruptionBudget (minAvailable 1).

Contract with the services' own manifests: the Deployment is named after the service,
runs in its namespace with its service account and labels its pods
``app.kubernetes.io/name: <service>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.config import AwsAccount, ServiceConfig
from components.irsa import service_account_role

POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}
SERVICE_LABEL = "golive.io/service"
APP_LABEL = "app.kubernetes.io/name"

# Per-pod defaults of the LimitRange; the quota allows 2 x maxReplicas pods at the limits.
DEFAULT_REQUEST = {"cpu": "250m", "memory": "256Mi"}
DEFAULT_LIMIT = {"cpu": "1", "memory": "1Gi"}


@dataclass(frozen=True)
class ServiceCatalogArgs:
    services: Sequence[ServiceConfig]
    account: AwsAccount
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    load_balancer_cidrs: Sequence[str]
    """Where the load balancer's traffic comes from: the public subnets' CIDRs."""
    monitoring_namespace: str = "monitoring"
    secret_prefix: str = "golive"
    """Secrets Manager name prefix: a service reads ``<prefix>/<service>/*``."""


class ServiceCatalog(pulumi.ComponentResource):
    """Namespaces, identities, scaling and disruption budgets for every catalog service."""

    namespaces: dict[str, k8s.core.v1.Namespace]
    service_accounts: dict[str, k8s.core.v1.ServiceAccount]
    roles: dict[str, aws.iam.Role]

    def __init__(self, name: str, args: ServiceCatalogArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:compute:ServiceCatalog", name, None, opts)
        self.namespaces = {}
        self.service_accounts = {}
        self.roles = {}
        self.autoscalers: dict[str, k8s.autoscaling.v2.HorizontalPodAutoscaler] = {}
        for service in args.services:
            self._service(name, service, args)
        self.register_outputs(
            {
                "namespaces": {svc: ns.metadata.name for svc, ns in self.namespaces.items()},
                "roleArns": {svc: role.arn for svc, role in self.roles.items()},
            }
        )

    def _service(self, name: str, service: ServiceConfig, args: ServiceCatalogArgs) -> None:
        svc = service.name
        prefix = f"{name}-{svc}"
        labels = {SERVICE_LABEL: svc, "app.kubernetes.io/part-of": "golive"}
        ns = k8s.core.v1.Namespace(
            prefix,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=svc, labels={**labels, **POD_SECURITY}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        sub = pulumi.ResourceOptions(parent=ns)
        namespace = ns.metadata.name

        def meta(resource_name: str, **kw: object) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=resource_name, namespace=namespace, labels=labels, **kw)

        pods = k8s.meta.v1.LabelSelectorArgs(match_labels={APP_LABEL: svc})
        port = [k8s.networking.v1.NetworkPolicyPortArgs(port=service.port, protocol="TCP")]
        # Monitoring probes the service's port and scrapes its metrics port (the same one unless the catalog says otherwise).
        scraped = sorted({service.port, service.metrics.port_of(service.port)})
        monitored = [k8s.networking.v1.NetworkPolicyPortArgs(port=p, protocol="TCP") for p in scraped]
        k8s.networking.v1.NetworkPolicy(
            f"{prefix}-default-deny",
            metadata=meta("default-deny"),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress"]),
            opts=sub,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{prefix}-allow-ingress",
            metadata=meta("allow-ingress"),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=pods,
                policy_types=["Ingress"],
                ingress=[
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=[k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr))
                               for cidr in args.load_balancer_cidrs],
                        ports=port,
                    ),
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=[k8s.networking.v1.NetworkPolicyPeerArgs(namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                            match_labels={"kubernetes.io/metadata.name": args.monitoring_namespace}))],
                        ports=monitored,
                    ),
                ],
            ),
            opts=sub,
        )
        quota_pods = 2 * service.max_replicas
        k8s.core.v1.ResourceQuota(
            f"{prefix}-quota",
            metadata=meta("compute"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(
                hard={
                    "pods": str(quota_pods),
                    "requests.cpu": f"{quota_pods * 250}m",
                    "requests.memory": f"{quota_pods * 256}Mi",
                    "limits.cpu": str(quota_pods),
                    "limits.memory": f"{quota_pods}Gi",
                    "services.loadbalancers": "0",
                    "services.nodeports": "0",
                }
            ),
            opts=sub,
        )
        k8s.core.v1.LimitRange(
            f"{prefix}-limits",
            metadata=meta("defaults"),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[k8s.core.v1.LimitRangeItemArgs(type="Container", default_request=DEFAULT_REQUEST, default=DEFAULT_LIMIT)]
            ),
            opts=sub,
        )
        role = service_account_role(
            f"{prefix}-irsa",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer=args.oidc_issuer,
            namespace=svc,
            service_account=svc,
            policy_documents=[secrets_policy(args.account, args.secret_prefix, svc)],
            account=args.account,
            opts=sub,
        )
        sa = k8s.core.v1.ServiceAccount(
            f"{prefix}-sa",
            metadata=meta(svc, annotations={"eks.amazonaws.com/role-arn": role.arn}),
            automount_service_account_token=False,
            opts=sub,
        )
        hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{prefix}-hpa",
            metadata=meta(svc),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(**scale_target(service)),
                min_replicas=service.min_replicas,
                max_replicas=service.max_replicas,
                metrics=[
                    k8s.autoscaling.v2.MetricSpecArgs(
                        type="Resource",
                        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                            name="cpu",
                            target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=service.cpu_target),
                        ),
                    )
                ],
            ),
            opts=sub,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{prefix}-pdb",
            metadata=meta(svc),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(min_available=1, selector=pods),
            opts=sub,
        )
        self.namespaces[svc] = ns
        self.service_accounts[svc] = sa
        self.roles[svc] = role
        self.autoscalers[svc] = hpa


def scale_target(service: ServiceConfig) -> dict[str, str]:
    """What the service's HPA scales: the Argo Rollout under progressive delivery, else the Deployment."""
    if getattr(service, "delivery", "none") != "none":
        return {"api_version": "argoproj.io/v1alpha1", "kind": "Rollout", "name": service.name}
    return {"api_version": "apps/v1", "kind": "Deployment", "name": service.name}


def secrets_policy(account: AwsAccount, prefix: str, service: str) -> dict:
    """What the service may read: its own secrets, the shared cache token, its database user.

    - ``<prefix>/<service>/*``: the service's own secrets;
    - ``<prefix>/cache/*``: the cache AUTH token (Redis AUTH is one token per replication group);
    - ``rds-db:connect`` as the database user named after the service (IAM database
      authentication: no password to hand out; the user is created once with
      ``GRANT rds_iam``, see docs/monitoring.md for the same step for the exporter).
    Decryption only through Secrets Manager, for those secrets only.
    """
    secrets = [account.arn("secretsmanager", f"secret:{prefix}/{service}/*"), account.arn("secretsmanager", f"secret:{prefix}/cache/*")]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadOwnSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": secrets,
            },
            {
                "Sid": "DecryptOwnSecrets",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{account.region}.{account.dns_suffix}"},
                    "StringLike": {"kms:EncryptionContext:SecretARN": secrets},
                },
            },
            {
                "Sid": "ConnectAsOwnDatabaseUser",
                "Effect": "Allow",
                "Action": "rds-db:connect",
                "Resource": account.arn("rds-db", f"dbuser:*/{service}"),
            },
        ],
    }
