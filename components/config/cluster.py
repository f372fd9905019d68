"""The EKS cluster (``golive:cluster``), for components/cluster.py."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

from .parser import EXACT_VERSION, LOG_RETENTION_DAYS, PRODUCTION_LOG_RETENTION_DAYS, Problem, _Ctx, camel, doc, parse_cidr

# Kubernetes minors EKS supports in standard support (policy `cluster-eks-supported-version` has its own list).
EKS_SUPPORTED_VERSIONS = ("1.32", "1.33", "1.34")


@dataclass(frozen=True)
class AddonVersions:
    """EKS add-on versions, pinned (``aws eks describe-addon-versions --kubernetes-version <v>``)."""

    vpc_cni: str = doc("vpc-cni add-on version (network policy enforcement is switched on).", "v1.19.5-eksbuild.1")
    coredns: str = doc("coredns add-on version.", "v1.12.1-eksbuild.2")
    kube_proxy: str = doc("kube-proxy add-on version; its minor must match the cluster's.", "v1.33.0-eksbuild.2")
    aws_ebs_csi_driver: str = doc("aws-ebs-csi-driver add-on version.", "v1.46.0-eksbuild.1")
    eks_pod_identity_agent: str = doc("eks-pod-identity-agent add-on version.", "v1.3.8-eksbuild.2")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not re.fullmatch(r"v\d+\.\d+\.\d+-eksbuild\.\d+", value):
                problems.append(Problem(f"{key}.{camel(f.name)}", value, "must be a pinned add-on version such as v1.2.3-eksbuild.1"))


@dataclass(frozen=True)
class ChartVersions:
    """Helm chart versions of the in-cluster baseline, pinned."""

    cluster_autoscaler: str = doc("cluster-autoscaler chart version (https://kubernetes.github.io/autoscaler).", "9.46.6")
    metrics_server: str = doc("metrics-server chart version (https://kubernetes-sigs.github.io/metrics-server/).", "3.12.2")

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not EXACT_VERSION.fullmatch(value):
                problems.append(Problem(f"{key}.{camel(f.name)}", value, "must be an exact chart version such as 1.2.3 (no ranges)"))


@dataclass(frozen=True)
class ClusterConfig:
    """EKS cluster, node group, add-ons, in-cluster baseline (``golive:cluster``)."""

    name: str = doc("EKS cluster name (also names its log group /aws/eks/<name>/cluster).", "golive")
    version: str = doc(f"Kubernetes minor version; one EKS supports in standard support ({', '.join(EKS_SUPPORTED_VERSIONS)}).", "1.33")
    support_type: Literal["STANDARD", "EXTENDED"] = doc(
        "EKS upgrade policy: STANDARD upgrades the control plane when standard support ends (no extended-support fee).", "STANDARD"
    )
    admin_role_arns: tuple[str, ...] = doc(
        "IAM role ARNs granted cluster-admin through EKS access entries (API authentication; no aws-auth ConfigMap). "
        "When empty, the identity that creates the cluster keeps admin access instead.", ()
    )
    endpoint_public_access: bool = doc("Open the Kubernetes API endpoint to the internet (restricted to publicAccessCidrs).", False)
    public_access_cidrs: tuple[str, ...] = doc("CIDRs allowed to reach a public endpoint; never 0.0.0.0/0 in production.", ())
    deployer_security_group_ids: tuple[str, ...] = doc(
        "Security groups in this VPC (e.g. a self-hosted CI runner's) admitted to the private Kubernetes API on 443, "
        "besides the nodes and the admin VPN.", ()
    )
    deployer_cidrs: tuple[str, ...] = doc(
        "CIDRs inside golive:network.vpcCidr admitted to the private Kubernetes API on 443 (a runner subnet you added "
        "to the VPC); sources outside the VPC have no route to the private subnets, so they connect through the VPN.", ()
    )
    log_retention_days: int = doc("Retention of the control-plane log group, in days.", 365)
    instance_types: tuple[str, ...] = doc("Node instance types (the autoscaler picks among them).", ("m6i.large", "m6a.large", "m5.large"))
    ami_type: str = doc("EKS-optimized AMI family of the nodes.", "AL2023_x86_64_STANDARD")
    capacity_type: Literal["ON_DEMAND", "SPOT"] = doc("Node capacity type; ON_DEMAND in production.", "ON_DEMAND")
    node_min_size: int = doc("Node group minimum size; at least 2 in production.", 2)
    node_desired_size: int = doc("Node group initial size (the cluster autoscaler owns it afterwards).", 3)
    node_max_size: int = doc("Node group maximum size.", 10)
    node_volume_size_gib: int = doc("Root volume size of each node (gp3, KMS-encrypted), GiB.", 50)
    extra_egress_ports: tuple[int, ...] = doc(
        "TCP ports, besides 443, the nodes may reach on the internet through the NAT gateways; 587 is "
        "Alertmanager's SMTP submission port (golive:monitoring alerting.smtpSmarthost).", (587,)
    )
    addons: AddonVersions = doc("Pinned EKS add-on versions.", default_factory=AddonVersions)
    charts: ChartVersions = doc("Pinned Helm chart versions.", default_factory=ChartVersions)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", self.name):
            problems.append(Problem(f"{key}.name", self.name, "must be 1-100 letters, digits, '-' or '_', starting with a letter or digit"))
        if self.version not in EKS_SUPPORTED_VERSIONS:
            problems.append(Problem(f"{key}.version", self.version, f"must be a Kubernetes version in EKS standard support: "
                                    f"{', '.join(EKS_SUPPORTED_VERSIONS)}"))
        for i, arn in enumerate(self.admin_role_arns):
            if not re.fullmatch(r"arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]+", arn):
                problems.append(Problem(f"{key}.adminRoleArns[{i}]", arn, "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)"))
        cidr_key = f"{key}.publicAccessCidrs"
        if self.endpoint_public_access and not self.public_access_cidrs:
            problems.append(Problem(cidr_key, [], "a public endpoint must be restricted to listed CIDRs (EKS would open it to 0.0.0.0/0)"))
        for i, cidr in enumerate(self.public_access_cidrs):
            net = parse_cidr(f"{cidr_key}[{i}]", cidr, problems)
            if net is not None and net.prefixlen == 0 and ctx.production:
                problems.append(Problem(f"{cidr_key}[{i}]", cidr, "a production cluster's API endpoint may never be open to the whole internet"))
        for i, group in enumerate(self.deployer_security_group_ids):
            if not re.fullmatch(r"sg-[0-9a-f]{8}([0-9a-f]{9})?", group):
                problems.append(Problem(f"{key}.deployerSecurityGroupIds[{i}]", group, "must be a security group id such as sg-0123456789abcdef0"))
        for i, cidr in enumerate(self.deployer_cidrs):
            parse_cidr(f"{key}.deployerCidrs[{i}]", cidr, problems)
        if self.public_access_cidrs and not self.endpoint_public_access:
            problems.append(Problem(cidr_key, list(self.public_access_cidrs), "only applies with endpointPublicAccess: true"))
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(Problem(f"{key}.logRetentionDays", self.log_retention_days,
                                    f"must be a CloudWatch retention value: {', '.join(map(str, LOG_RETENTION_DAYS))}"))
        elif ctx.production and self.log_retention_days < PRODUCTION_LOG_RETENTION_DAYS:
            problems.append(Problem(f"{key}.logRetentionDays", self.log_retention_days,
                                    f"production keeps control-plane logs at least {PRODUCTION_LOG_RETENTION_DAYS} days"))
        if not self.instance_types:
            problems.append(Problem(f"{key}.instanceTypes", [], "needs at least one instance type"))
        if ctx.production and self.capacity_type != "ON_DEMAND":
            problems.append(Problem(f"{key}.capacityType", self.capacity_type, "production nodes are ON_DEMAND"))
        if self.node_min_size < 1 or (ctx.production and self.node_min_size < 2):
            problems.append(Problem(f"{key}.nodeMinSize", self.node_min_size,
                                    f"must be at least {2 if ctx.production else 1}" + (" in production" if ctx.production else "")))
        if not self.node_min_size <= self.node_desired_size <= self.node_max_size:
            problems.append(Problem(f"{key}.nodeDesiredSize", self.node_desired_size,
                                    f"must lie between nodeMinSize ({self.node_min_size}) and nodeMaxSize ({self.node_max_size})"))
        if self.node_volume_size_gib < 20:
            problems.append(Problem(f"{key}.nodeVolumeSizeGib", self.node_volume_size_gib, "must be at least 20 GiB (the AMI needs it)"))
        for i, port in enumerate(self.extra_egress_ports):
            if not 1 <= port <= 65535:
                problems.append(Problem(f"{key}.extraEgressPorts[{i}]", port, "must be a TCP port from 1 to 65535"))
            elif port == 443 or port in self.extra_egress_ports[:i]:
                problems.append(Problem(f"{key}.extraEgressPorts[{i}]", port, "is already allowed (443 always is; list each port once)"))
        minor = self.version
        if not self.addons.kube_proxy.startswith(f"v{minor}."):
            problems.append(Problem(f"{key}.addons.kubeProxy", self.addons.kube_proxy, f"must match the cluster version {minor}"))
