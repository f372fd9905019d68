"""The EKS cluster: control plane, nodes, add-ons, IRSA and the in-cluster baseline.

- Control plane: API authentication mode (access entries, no ``aws-auth`` ConfigMap),
  private endpoint (public only when configured, and then CIDR-restricted), secrets
  envelope-encrypted with a CMK, all five log types to a CMK-encrypted log group that
  we create under the name EKS writes to (``/aws/eks/<cluster>/cluster``) so that its
  retention and key are ours, not EKS's defaults (never-expire, unencrypted).
- Nodes: one managed node group over the private subnets of every AZ; its launch
  template requires IMDSv2 with a hop limit of 1, so pods (one network hop further)
  cannot reach the node role's credentials. Pods that call AWS have IRSA roles
  (cluster-autoscaler, the load balancer controller, the EBS CSI driver, Fluent Bit, the
  CloudWatch exporter, Argo Rollouts, the services); the two that would read their
  region or VPC from IMDS get them in their values (cluster-autoscaler ``awsRegion``,
  the controller ``region``/``vpcId``), the EBS CSI node plugin falls back to the
  Kubernetes API for its instance metadata, and host-network pods (VPC CNI,
  kube-proxy) are one hop, like the node. It encrypts gp3 root volumes with a CMK and
  attaches the node security group.
  The node role has only AmazonEKSWorkerNodePolicy and AmazonEC2ContainerRegistryReadOnly:
  the VPC CNI gets its ENI permissions through its own IRSA role instead.
- Add-ons pinned by config; vpc-cni enforces NetworkPolicies.
- In cluster (Helm v3 releases, chart versions pinned): cluster-autoscaler (IRSA role that
  may only resize auto-scaling groups tagged for this cluster), metrics-server, and a
  KMS-encrypted gp3 default StorageClass (EKS 1.30+ no longer marks gp2 as default).

``k8s_provider`` is built from the cluster's endpoint and CA with a kubeconfig whose
token comes from ``aws eks get-token``: it holds no credential and needs no reachable
cluster to preview. It waits for every admin access policy association, so nothing in
the cluster is applied before the deploying role may apply it. The endpoint is
private: the control plane admits 443 from the nodes, from the security groups and
CIDRs configured as deployers, and from the admin VPN (the security Baseline adds that
rule). In the ``infrastructure`` phase (``golive:phase``) there is no provider and
nothing in the cluster: the first ``up`` of a new stack cannot reach the API yet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.config import AwsAccount, ClusterConfig, camel
from components.irsa import service_account_role
from components.kms import EncryptionKey, EncryptionKeyArgs
from components.service_roles import ServiceLinkedRoles, role_arn

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
ANYWHERE = "0.0.0.0/0"
SMTP_SUBMISSION_PORT = 587
KUBE_SYSTEM = "kube-system"


@dataclass(frozen=True)
class ClusterArgs:
    config: ClusterConfig
    account: AwsAccount
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    instance_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the nodes' instances and volumes (provider default tags do not reach what an ASG launches)."""
    kubernetes_phase: bool = True
    """Declare the Kubernetes provider and the in-cluster baseline (``golive:phase: all``)."""
    service_roles: ServiceLinkedRoles | None = None
    """The stack's service-linked roles: the node volume key's grant waits for AWSServiceRoleForAutoScaling."""


class Cluster(pulumi.ComponentResource):
    """EKS control plane, managed nodes, add-ons, OIDC provider and the in-cluster baseline."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:compute:Cluster", name, None, opts)
        cfg, account = args.config, args.account
        self._account = account
        child = pulumi.ResourceOptions(parent=self)
        managed = f"arn:{account.partition}:iam::aws:policy"

        self.secrets_key = EncryptionKey(
            f"{name}-eks-secrets", EncryptionKeyArgs(description=f"{cfg.name} EKS secrets envelope encryption", account=account), opts=child
        )
        self.logs_key = EncryptionKey(
            f"{name}-eks-logs",
            EncryptionKeyArgs(description=f"{cfg.name} EKS control-plane logs", account=account, service_principals=("logs",)),
            opts=child,
        )
        self.ebs_key = EncryptionKey(
            f"{name}-ebs", EncryptionKeyArgs(description=f"{cfg.name} node and persistent volumes", account=account), opts=child
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{cfg.name}/cluster",
            retention_in_days=cfg.log_retention_days,
            kms_key_id=self.logs_key.arn,
            tags={"Name": f"{cfg.name}-control-plane"},
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )

        # ---- control-plane role
        self.cluster_role = aws.iam.Role(
            f"{name}-cluster-role",
            description=f"EKS control plane of {cfg.name}",
            assume_role_policy=json.dumps(_service_trust(f"eks.{account.dns_suffix}", tag_session=True)),
            tags={"Name": f"{cfg.name}-cluster"},
            opts=child,
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy", role=self.cluster_role.name, policy_arn=f"{managed}/AmazonEKSClusterPolicy", opts=child
        )
        cluster_kms = aws.iam.RolePolicy(
            f"{name}-cluster-kms",
            role=self.cluster_role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "EnvelopeEncryption",
                            "Effect": "Allow",
                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                            "Resource": self.secrets_key.arn,
                        }
                    ],
                }
            ),
            opts=child,
        )

        self._security_groups(name, args)

        # ---- control plane
        public = cfg.endpoint_public_access
        self.eks = aws.eks.Cluster(
            f"{name}-eks",
            name=cfg.name,
            version=cfg.version,
            role_arn=self.cluster_role.arn,
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=not cfg.admin_role_arns,
            ),
            bootstrap_self_managed_addons=False,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.private_subnet_ids),
                security_group_ids=[self.control_plane_security_group.id],
                endpoint_private_access=True,
                endpoint_public_access=public,
                public_access_cidrs=list(cfg.public_access_cidrs) if public else None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=self.secrets_key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(LOG_TYPES),
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=cfg.support_type),
            deletion_protection=True,
            tags={"Name": cfg.name},
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[self.log_group, cluster_policy, cluster_kms]),
        )
        self.name = self.eks.name
        self.endpoint = self.eks.endpoint
        self.cluster_security_group_id = self.eks.vpc_config.apply(lambda v: _field(v, "cluster_security_group_id"))
        self.node_security_group_id = self.node_security_group.id
        self.private_subnet_ids = list(args.private_subnet_ids)

        admin_policy = f"arn:{account.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        self.admin_access: list[pulumi.Resource] = []
        for i, principal in enumerate(cfg.admin_role_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{i}",
                cluster_name=self.eks.name,
                principal_arn=principal,
                type="STANDARD",
                tags={"Name": f"{cfg.name}-admin-{i}"},
                opts=child,
            )
            association = aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{i}-policy",
                cluster_name=self.eks.name,
                principal_arn=principal,
                policy_arn=admin_policy,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
            )
            self.admin_access += [entry, association]

        # ---- IRSA
        issuer_url = self.eks.identities.apply(lambda ids: _field(_field(ids[0], "oidcs")[0], "issuer"))
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer_url,
            client_id_lists=["sts.amazonaws.com"],
            tags={"Name": f"{cfg.name}-oidc"},
            opts=child,
        )
        self.oidc_provider_arn = self.oidc_provider.arn
        self.oidc_issuer = issuer_url.apply(lambda url: url.removeprefix("https://"))

        self._nodes(name, args, managed)
        self.kubeconfig = pulumi.Output.all(self.eks.name, self.eks.endpoint, self.eks.certificate_authority).apply(
            lambda a: kubeconfig(a[0], a[1], _field(a[2], "data"), account.region)
        )
        self.k8s_provider: k8s.Provider | None = None
        if args.kubernetes_phase:
            self._in_cluster(name, args)

        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "clusterSecurityGroupId": self.cluster_security_group_id,
                "nodeSecurityGroupId": self.node_security_group_id,
                "oidcProviderArn": self.oidc_provider_arn,
                "oidcIssuer": self.oidc_issuer,
                "kubeconfig": self.kubeconfig,
                "ebsKeyArn": self.ebs_key.arn,
            }
        )

    # ------------------------------------------------------------------ helpers

    def irsa_role(
        self,
        name: str,
        namespace: str,
        service_account: str,
        policy_documents: Sequence[Any] = (),
        opts: pulumi.ResourceOptions | None = None,
        managed_policy_arns: Sequence[str] = (),
    ) -> aws.iam.Role:
        """A role for ``namespace/service_account`` in this cluster (see components.irsa)."""
        return service_account_role(
            name,
            oidc_provider_arn=self.oidc_provider_arn,
            oidc_issuer=self.oidc_issuer,
            namespace=namespace,
            service_account=service_account,
            policy_documents=policy_documents,
            managed_policy_arns=managed_policy_arns,
            account=self._account,
            opts=opts or pulumi.ResourceOptions(parent=self),
        )

    def _security_groups(self, name: str, args: ClusterArgs) -> None:
        """Control plane and nodes admit each other only; nodes also talk among themselves.

        Nodes reach the VPC (data tier, endpoints) on any port and the internet on 443
        and ``extraEgressPorts`` only (587: Alertmanager's SMTP smarthost), through the
        NAT gateways. Other components add their own rules to the
        node group (e.g. the ALB's) by referencing ``node_security_group_id``.
        """
        child = pulumi.ResourceOptions(parent=self)
        cfg = args.config
        self.control_plane_security_group = aws.ec2.SecurityGroup(
            f"{name}-control-plane-sg",
            description=f"{cfg.name} EKS control plane: HTTPS from the nodes",
            vpc_id=args.vpc_id,
            tags={"Name": f"{cfg.name}-control-plane"},
            opts=child,
        )
        self.node_security_group = aws.ec2.SecurityGroup(
            f"{name}-node-sg",
            description=f"{cfg.name} EKS nodes",
            vpc_id=args.vpc_id,
            tags={"Name": f"{cfg.name}-nodes", f"kubernetes.io/cluster/{cfg.name}": "owned"},
            opts=child,
        )
        cp, nodes = self.control_plane_security_group.id, self.node_security_group.id

        def ingress(role: str, sg: Any, description: str, **kw: Any) -> None:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{role}", security_group_id=sg, description=description, tags={"Name": f"{cfg.name}-{role}"}, opts=child, **kw
            )

        def egress(role: str, sg: Any, description: str, **kw: Any) -> None:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{role}", security_group_id=sg, description=description, tags={"Name": f"{cfg.name}-{role}"}, opts=child, **kw
            )

        ingress("cp-from-nodes-443", cp, "Kubernetes API from the nodes", referenced_security_group_id=nodes,
                ip_protocol="tcp", from_port=443, to_port=443)
        egress("cp-to-nodes-443", cp, "Control plane to webhooks on the nodes (443)", referenced_security_group_id=nodes,
               ip_protocol="tcp", from_port=443, to_port=443)
        egress("cp-to-nodes-high", cp, "Control plane to kubelet (10250) and webhooks on the nodes",
               referenced_security_group_id=nodes, ip_protocol="tcp", from_port=1025, to_port=65535)
        ingress("nodes-from-cp-443", nodes, "Webhooks on 443 from the control plane", referenced_security_group_id=cp,
                ip_protocol="tcp", from_port=443, to_port=443)
        ingress("nodes-from-cp-high", nodes, "Kubelet (10250) and webhooks from the control plane", referenced_security_group_id=cp,
                ip_protocol="tcp", from_port=1025, to_port=65535)
        for i, group in enumerate(cfg.deployer_security_group_ids):
            ingress(f"cp-from-deployer-sg-{i}", cp, f"Kubernetes API from deployer security group {group}",
                    referenced_security_group_id=group, ip_protocol="tcp", from_port=443, to_port=443)
        for i, cidr in enumerate(cfg.deployer_cidrs):
            ingress(f"cp-from-deployer-cidr-{i}", cp, f"Kubernetes API from deployers in {cidr}", cidr_ipv4=cidr,
                    ip_protocol="tcp", from_port=443, to_port=443)
        ingress("nodes-from-nodes", nodes, "Pod-to-pod and node-to-node traffic", referenced_security_group_id=nodes, ip_protocol="-1")
        egress("nodes-to-vpc", nodes, "Nodes and pods to the VPC (data tier, endpoints, control plane)", cidr_ipv4=args.vpc_cidr,
               ip_protocol="-1")
        egress("nodes-to-https", nodes, "HTTPS to the internet through the NAT gateways", cidr_ipv4=ANYWHERE,
               ip_protocol="tcp", from_port=443, to_port=443)
        for port in cfg.extra_egress_ports:
            label = "SMTP submission (Alertmanager e-mail)" if port == SMTP_SUBMISSION_PORT else f"TCP {port}"
            egress(f"nodes-to-internet-{port}", nodes, f"{label} to the internet through the NAT gateways", cidr_ipv4=ANYWHERE,
                   ip_protocol="tcp", from_port=port, to_port=port)

    def _nodes(self, name: str, args: ClusterArgs, managed: str) -> None:
        cfg, account = args.config, args.account
        child = pulumi.ResourceOptions(parent=self)
        self.node_role = aws.iam.Role(
            f"{name}-node-role",
            description=f"EKS nodes of {cfg.name}",
            assume_role_policy=json.dumps(_service_trust(f"ec2.{account.dns_suffix}")),
            tags={"Name": f"{cfg.name}-nodes"},
            opts=child,
        )
        node_policies = [
            aws.iam.RolePolicyAttachment(f"{name}-node-{policy}", role=self.node_role.name, policy_arn=f"{managed}/{policy}", opts=child)
            for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly")
        ]

        self.vpc_cni_role = self.irsa_role(
            f"{name}-vpc-cni", KUBE_SYSTEM, "aws-node", managed_policy_arns=[f"{managed}/AmazonEKS_CNI_Policy"]
        )
        self.ebs_csi_role = self.irsa_role(
            f"{name}-ebs-csi",
            KUBE_SYSTEM,
            "ebs-csi-controller-sa",
            policy_documents=[_ebs_kms_policy(self.ebs_key.arn)],
            managed_policy_arns=[f"{managed}/service-role/AmazonEBSCSIDriverPolicy"],
        )

        def addon(addon_name: str, version: str, depends_on: Sequence[pulumi.Resource] = (), **kw: Any) -> aws.eks.Addon:
            return aws.eks.Addon(
                f"{name}-{addon_name}",
                cluster_name=self.eks.name,
                addon_name=addon_name,
                addon_version=version,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                tags={"Name": f"{cfg.name}-{addon_name}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
                **kw,
            )

        versions = cfg.addons
        # Networking add-ons first: nodes only become Ready once the CNI runs.
        self.addons = {
            "vpc-cni": addon(
                "vpc-cni",
                versions.vpc_cni,
                service_account_role_arn=self.vpc_cni_role.arn,
                configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
            ),
            "kube-proxy": addon("kube-proxy", versions.kube_proxy),
            "eks-pod-identity-agent": addon("eks-pod-identity-agent", versions.eks_pod_identity_agent),
        }

        # The auto-scaling service-linked role launches the nodes, so it must be able to use
        # the volume key; a grant gives it that without widening the shared key policy. KMS
        # rejects a grantee that does not exist yet, so the grant waits for the role.
        roles = args.service_roles
        self.ebs_key_grant = aws.kms.Grant(
            f"{name}-ebs-asg-grant",
            key_id=self.ebs_key.key.key_id,
            grantee_principal=role_arn(account, "autoscaling"),
            operations=["Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
                        "GenerateDataKeyWithoutPlaintext", "DescribeKey", "CreateGrant"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=roles.dependencies("autoscaling") if roles else []),
        )
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-nodes-lt",
            description=f"{cfg.name} nodes: IMDSv2 only, encrypted gp3 root volume",
            update_default_version=True,
            vpc_security_group_ids=[self.node_security_group.id],
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=cfg.node_volume_size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=self.ebs_key.arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=kind, tags={**args.instance_tags, "Name": f"{cfg.name}-node"}
                )
                for kind in ("instance", "volume", "network-interface")
            ],
            tags={"Name": f"{cfg.name}-nodes"},
            opts=child,
        )
        self.node_group = aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=self.eks.name,
            node_role_arn=self.node_role.arn,
            subnet_ids=list(args.private_subnet_ids),
            ami_type=cfg.ami_type,
            capacity_type=cfg.capacity_type,
            instance_types=list(cfg.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=cfg.node_min_size, desired_size=cfg.node_desired_size, max_size=cfg.node_max_size
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=self.launch_template.id,
                # A number, as EKS reports it back ("$Latest" would show a diff on every update).
                version=self.launch_template.latest_version.apply(lambda v: "$Latest" if v is None else str(v)),
            ),
            labels={"golive.io/node-group": "general"},
            tags={"Name": f"{cfg.name}-nodes"},
            opts=pulumi.ResourceOptions(
                parent=self,
                # The cluster autoscaler owns the desired size once nodes run.
                ignore_changes=["scalingConfig.desiredSize"],
                depends_on=[*node_policies, self.addons["vpc-cni"], self.ebs_key_grant],
            ),
        )
        # Add-ons that run as Deployments wait for nodes to schedule on.
        self.addons["coredns"] = addon("coredns", versions.coredns, depends_on=[self.node_group])
        self.addons["aws-ebs-csi-driver"] = addon(
            "aws-ebs-csi-driver", versions.aws_ebs_csi_driver, depends_on=[self.node_group],
            service_account_role_arn=self.ebs_csi_role.arn,
        )

    def _in_cluster(self, name: str, args: ClusterArgs) -> None:
        cfg, account = args.config, args.account
        # Every in-cluster resource goes through this provider, so waiting here orders all of
        # them after the access entries and policy associations that let the deployer in.
        self.k8s_provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.admin_access),
        )
        in_cluster = pulumi.ResourceOptions(
            parent=self, provider=self.k8s_provider, depends_on=[self.node_group, self.addons["coredns"]]
        )

        self.autoscaler_role = self.irsa_role(
            f"{name}-cluster-autoscaler",
            KUBE_SYSTEM,
            "cluster-autoscaler",
            policy_documents=[cluster_autoscaler_policy(cfg.name, account)],
        )
        self.cluster_autoscaler = k8s.helm.v3.Release(
            f"{name}-cluster-autoscaler",
            name="cluster-autoscaler",
            namespace=KUBE_SYSTEM,
            chart="cluster-autoscaler",
            version=cfg.charts.cluster_autoscaler,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo="https://kubernetes.github.io/autoscaler"),
            atomic=True,
            values={
                "cloudProvider": "aws",
                "awsRegion": account.region,
                "autoDiscovery": {"clusterName": cfg.name},
                "image": {"tag": f"v{cfg.version}.0"},
                "replicaCount": 2,
                "podDisruptionBudget": {"maxUnavailable": 1},
                "rbac": {
                    "create": True,
                    "serviceAccount": {
                        "create": True,
                        "name": "cluster-autoscaler",
                        "annotations": {"eks.amazonaws.com/role-arn": self.autoscaler_role.arn},
                    },
                },
                "extraArgs": {
                    "balance-similar-node-groups": True,
                    "skip-nodes-with-system-pods": False,
                    "expander": "least-waste",
                },
            },
            opts=in_cluster,
        )
        self.metrics_server = k8s.helm.v3.Release(
            f"{name}-metrics-server",
            name="metrics-server",
            namespace=KUBE_SYSTEM,
            chart="metrics-server",
            version=cfg.charts.metrics_server,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo="https://kubernetes-sigs.github.io/metrics-server/"),
            atomic=True,
            values={"replicas": 2, "podDisruptionBudget": {"enabled": True, "minAvailable": 1}},
            opts=in_cluster,
        )
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-gp3-encrypted",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="gp3-encrypted", annotations={"storageclass.kubernetes.io/is-default-class": "true"}
            ),
            provisioner="ebs.csi.aws.com",
            # Volumes carry backup=true so the AWS Backup plan's tag selection covers
            # Prometheus, Alertmanager and Grafana data (EBS CSI tagSpecification_N).
            parameters={
                "type": "gp3",
                "encrypted": "true",
                "kmsKeyId": self.ebs_key.arn,
                "fsType": "ext4",
                "tagSpecification_1": "backup=true",
            },
            # Retain: deleting a claim by mistake must not delete the data with it.
            reclaim_policy="Retain",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            # Every claim's data is provisioned through it (encryption key, backup tag): protected.
            opts=pulumi.ResourceOptions(
                parent=self, provider=self.k8s_provider, protect=True, depends_on=[self.addons["aws-ebs-csi-driver"]]
            ),
        )


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that fetches short-lived tokens with ``aws eks get-token`` (no stored credential)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        }
    )


# Actions the autoscaler calls that take no resource ARN (Service Authorization Reference: resource "*"):
# they are allowed on "*" in the stack's region only.
AUTOSCALER_DESCRIBE_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)


def cluster_autoscaler_policy(cluster_name: str, account: AwsAccount) -> dict:
    """Describe in the stack's region; read this cluster's node groups; resize only groups EKS tagged as this cluster's.

    Every action that accepts a resource ARN gets one: node groups of this cluster, and EKS-managed
    auto-scaling groups (named ``eks-…``) that also carry this cluster's autoscaler tag.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DescribeInRegion",
                "Effect": "Allow",
                "Action": list(AUTOSCALER_DESCRIBE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": account.region}},
            },
            {
                "Sid": "ReadOwnNodeGroups",
                "Effect": "Allow",
                "Action": "eks:DescribeNodegroup",
                "Resource": account.arn("eks", f"nodegroup/{cluster_name}/*/*"),
            },
            {
                "Sid": "ScaleOwnGroups",
                "Effect": "Allow",
                "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                "Resource": account.arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/eks-*"),
                "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}},
            },
        ],
    }


def _ebs_kms_policy(key_arn: pulumi.Input[str]) -> dict:
    """The EBS CSI driver creates volumes encrypted with our key: it needs to use it and grant EBS its use."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "UseVolumeKey",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": key_arn,
            },
            {
                "Sid": "GrantToEbs",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": key_arn,
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ],
    }


def _field(value: Any, name: str) -> Any:
    """An output object's field, whether the SDK hands it over typed or as a plain dict (mocks)."""
    if hasattr(type(value), name):
        return getattr(value, name)
    return value.get(name, value.get(camel(name)))


def _service_trust(principal: str, *, tag_session: bool = False) -> dict:
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else "sts:AssumeRole"
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": actions}]}
