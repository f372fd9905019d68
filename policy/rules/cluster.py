"""Cluster rules: EKS control plane, node groups, launch templates, in-cluster baseline."""

from __future__ import annotations

import re

from pulumi_policy import Severity

from . import types as t
from ._base import (
    ADVISORY,
    KMS_KEY_TYPES,
    as_list,
    customer_managed_key,
    declare_reference,
    depends_via,
    get,
    is_production,
    is_set,
    of_type,
    peek_key,
    resource_policy,
    stack_policy,
)

OPEN_CIDRS = ("0.0.0.0/0", "::/0")
ALL_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


def _check_endpoint(args, cfg):
    vpc = get(args.props, "vpcConfig") or {}
    if not get(vpc, "endpointPrivateAccess"):
        yield f"EKS cluster {args.name}: the private endpoint is off, so nodes and operators reach the API over the internet."
    # EKS opens the public endpoint when the field is unset, and to 0.0.0.0/0 when no CIDR is listed.
    if get(vpc, "endpointPublicAccess", True):
        cidrs = get(vpc, "publicAccessCidrs") or []
        if not cidrs:
            yield (f"EKS cluster {args.name}: the public API endpoint is on without publicAccessCidrs, "
                   "which EKS opens to 0.0.0.0/0.")
        for cidr in cidrs:
            if cidr in OPEN_CIDRS:
                yield f"EKS cluster {args.name}: the public API endpoint is open to {cidr}."


eks_endpoint_restricted = resource_policy(
    name="cluster-eks-endpoint-restricted",
    description="The EKS API endpoint is private; a public endpoint is allowed only for listed CIDRs, never 0.0.0.0/0.",
    types=(t.EKS_CLUSTER,),
    check=_check_endpoint,
    severity=Severity.CRITICAL,
    category="Security",
    remediation="Leave golive:cluster.endpointPublicAccess false, or list the operators' CIDRs in golive:cluster.publicAccessCidrs.",
    controls=("fsbp:EKS.1", "checkov:CKV_AWS_38"),
)


declare_reference((t.EKS_CLUSTER,), "encryptionConfig.provider.keyArn", KMS_KEY_TYPES)
declare_reference((t.K8S_STORAGE_CLASS,), "parameters.kmsKeyId", KMS_KEY_TYPES)


def _check_secrets_encryption(args, cfg):
    configs = as_list(get(args.props, "encryptionConfig"))
    encrypted = [c for c in configs if "secrets" in as_list(get(c, "resources"))]
    if not encrypted:
        yield f"EKS cluster {args.name} does not envelope-encrypt Kubernetes secrets (encryptionConfig with resources [secrets])."
        return
    for c in encrypted:
        if not is_set(c, "provider.keyArn"):
            yield f"EKS cluster {args.name}: secrets encryption names no KMS key."
        elif problem := customer_managed_key(c, "provider.keyArn"):
            yield f"EKS cluster {args.name}: secrets encryption {problem}; use a customer-managed key."


eks_secrets_encrypted = resource_policy(
    name="cluster-eks-secrets-encrypted",
    description="EKS clusters envelope-encrypt Kubernetes secrets with a customer-managed KMS key.",
    types=(t.EKS_CLUSTER,),
    check=_check_secrets_encryption,
    severity=Severity.HIGH,
    category="Security",
    remediation="Pass encryption_config with resources=['secrets'] and the ARN of a components.kms.EncryptionKey.",
    controls=("fsbp:EKS.3", "checkov:CKV_AWS_58"),
)


def _check_logging(args, cfg):
    enabled = set(get(args.props, "enabledClusterLogTypes") or [])
    missing = [lt for lt in cfg["requiredLogTypes"] if lt not in enabled]
    if missing:
        yield f"EKS cluster {args.name} does not log {', '.join(missing)}; audits and incident reviews need every control-plane log type."


eks_logging = resource_policy(
    name="cluster-eks-control-plane-logging",
    description="EKS clusters send all five control-plane log types to CloudWatch Logs.",
    types=(t.EKS_CLUSTER,),
    check=_check_logging,
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Set enabled_cluster_log_types to api, audit, authenticator, controllerManager and scheduler.",
    controls=("fsbp:EKS.8", "checkov:CKV_AWS_37"),
    defaults={"requiredLogTypes": ALL_LOG_TYPES},
)


def _check_version(args, cfg):
    version = get(args.props, "version")
    supported = list(cfg["supportedVersions"])
    if not version:
        yield f"EKS cluster {args.name} does not pin a Kubernetes version; EKS would pick one. Pin one of {', '.join(supported)}."
    elif str(version) not in supported:
        yield (f"EKS cluster {args.name} runs Kubernetes {version}, outside standard support ({', '.join(supported)}); "
               "upgrade before go-live.")


eks_supported_version = resource_policy(
    name="cluster-eks-supported-version",
    description="EKS clusters pin a Kubernetes version that is in EKS standard support.",
    types=(t.EKS_CLUSTER,),
    check=_check_version,
    severity=Severity.HIGH,
    category="Infrastructure",
    remediation="Set golive:cluster.version to a supported version and upgrade add-ons to match.",
    controls=("fsbp:EKS.2",),
    defaults={"supportedVersions": ("1.32", "1.33", "1.34")},
)


def _check_node_group(args, cfg):
    scaling = get(args.props, "scalingConfig") or {}
    low, high = get(scaling, "minSize", 0), get(scaling, "maxSize", 0)
    production = is_production(args)
    if production and low < cfg["minSize"]:
        yield f"node group {args.name} may shrink to {low} node(s); production keeps at least {cfg['minSize']} so one node failure leaves capacity."
    if high < low:
        yield f"node group {args.name}: maxSize {high} is below minSize {low}."
    subnets = get(args.props, "subnetIds") or []
    if production and len(subnets) < cfg["minSubnets"]:
        yield (f"node group {args.name} spans {len(subnets)} subnet(s); production spreads nodes over at least "
               f"{cfg['minSubnets']} (one per AZ).")


node_group_scaling = resource_policy(
    name="cluster-node-group-scaling",
    description="Node groups keep at least 2 nodes, allow max >= min and span at least 3 subnets (AZs) in production.",
    types=(t.EKS_NODE_GROUP,),
    check=_check_node_group,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Set golive:cluster.nodeMinSize >= 2 and give the node group the private subnets of every AZ.",
    controls=("well-architected:REL10-BP01",),
    defaults={"minSize": 2, "minSubnets": 3},
)


def _check_launch_template(args, cfg):
    metadata = get(args.props, "metadataOptions") or {}
    if get(metadata, "httpTokens") != "required":
        yield f"launch template {args.name} allows IMDSv1; set metadata_options.http_tokens='required'."
    hops = get(metadata, "httpPutResponseHopLimit")
    if hops is not None and hops > cfg["maxHopLimit"]:
        yield (f"launch template {args.name}: metadata hop limit {hops} exceeds {cfg['maxHopLimit']}, so pods can reach the "
               "node role's credentials; pods use IRSA, keep the limit at 1.")
    mappings = get(args.props, "blockDeviceMappings") or []
    if not mappings:
        yield f"launch template {args.name} declares no block device, so the root volume's encryption depends on account defaults."
    for m in mappings:
        ebs = get(m, "ebs")
        if ebs is not None and str(get(ebs, "encrypted")).lower() != "true":
            yield f"launch template {args.name}: volume {get(m, 'deviceName', '?')} is not encrypted."


launch_template_hardened = resource_policy(
    name="cluster-launch-template-hardened",
    description="Launch templates require IMDSv2 with a hop limit of 1 (pods cannot reach the node's credentials) and encrypt every EBS volume.",
    types=(t.LAUNCH_TEMPLATE,),
    check=_check_launch_template,
    severity=Severity.HIGH,
    category="Security",
    remediation="Set metadata_options(http_tokens='required', http_put_response_hop_limit=1) and ebs.encrypted='true' with a kms_key_id.",
    controls=("fsbp:EC2.170", "checkov:CKV_AWS_79", "checkov:CKV_AWS_341"),
    defaults={"maxHopLimit": 1},
)


def _labels(resource):
    return get(resource.props, "metadata.labels") or {}


def _in_namespace(resource, namespace) -> bool:
    if any(dep.urn == namespace.urn for dep in depends_via(resource, "metadata")):
        return True
    name = get(namespace.props, "metadata.name")
    return bool(name) and get(resource.props, "metadata.namespace") == name


def _is_default_deny(policy) -> bool:
    spec = get(policy.props, "spec") or {}
    selector = get(spec, "podSelector") or {}
    return (
        not get(selector, "matchLabels")
        and not get(selector, "matchExpressions")
        and "Ingress" in (get(spec, "policyTypes") or [])
        and not get(spec, "ingress")
    )


def _check_namespaces(args, cfg):
    namespaces = of_type(args, t.K8S_NAMESPACE)
    hpas = of_type(args, t.K8S_HPA)
    policies = of_type(args, t.K8S_NETWORK_POLICY)
    for ns in namespaces:
        is_service = cfg["serviceLabel"] in _labels(ns) or any(_in_namespace(h, ns) for h in hpas)
        if not is_service:
            continue
        name = get(ns.props, "metadata.name") or ns.name
        labels = _labels(ns)
        if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            yield (f"service namespace {name} does not enforce Pod Security 'restricted' "
                   f"(pod-security.kubernetes.io/enforce = {labels.get('pod-security.kubernetes.io/enforce', 'unset')})."), ns.urn
        if not any(_in_namespace(p, ns) and _is_default_deny(p) for p in policies):
            yield (f"service namespace {name} has no default-deny NetworkPolicy (empty podSelector, policyTypes Ingress, "
                   "no ingress rules); every pod would accept traffic from anywhere in the cluster."), ns.urn


namespace_isolation = stack_policy(
    name="cluster-service-namespace-isolation",
    description="Every service namespace enforces Pod Security 'restricted' and has a default-deny NetworkPolicy.",
    check=_check_namespaces,
    types=(t.K8S_NAMESPACE, t.K8S_NETWORK_POLICY, t.K8S_HPA),
    severity=Severity.HIGH,
    category="Security",
    remediation="Declare service namespaces through components.services.ServiceCatalog (golive:services).",
    controls=("cis-eks:5.2.1", "cis-eks:4.3.2"),
    defaults={"serviceLabel": "golive.io/service"},
)


def _check_hpa(args, cfg):
    low = get(args.props, "spec.minReplicas", 1)
    if low < cfg["minReplicas"]:
        yield (f"HPA {args.name} lets its workload scale down to {low} replica(s); keep at least {cfg['minReplicas']} "
               "so a node failure or rollout never takes the service down.")


hpa_min_replicas = resource_policy(
    name="cluster-hpa-min-replicas",
    description="Every HorizontalPodAutoscaler keeps at least 2 replicas.",
    types=(t.K8S_HPA,),
    check=_check_hpa,
    severity=Severity.HIGH,
    category="DR & Business Continuity",
    remediation="Set minReplicas >= 2 for the service in golive:services.",
    defaults={"minReplicas": 2},
)

_EXACT_VERSION = re.compile(r"v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?")


def _check_chart_version(args, cfg):
    version = get(args.props, "version")
    if not version:
        yield f"Helm release {args.name} does not pin a chart version; every deployment could install a different chart."
    elif not _EXACT_VERSION.fullmatch(str(version)):
        yield f"Helm release {args.name} pins chart version {version!r}, a range; pin an exact version such as 1.2.3."


helm_chart_pinned = resource_policy(
    name="cluster-helm-chart-pinned",
    description="Helm releases pin an exact chart version.",
    types=(t.HELM_RELEASE, t.HELM_CHART_V4),
    check=_check_chart_version,
    severity=Severity.MEDIUM,
    category="Infrastructure",
    remediation="Pin the chart version in golive config (e.g. golive:cluster.charts) and pass it as `version`.",
)

def _annotated(resource, key: str) -> bool:
    """The annotation is set (to a value, or to one a preview cannot know: the ARN of a role this stack creates)."""
    annotations = get(resource.props, "metadata.annotations") or {}
    value = peek_key(annotations, key)
    return value is not None and value != ""


def _check_guardrails(args, cfg):
    quotas, limits = of_type(args, t.K8S_RESOURCE_QUOTA), of_type(args, t.K8S_LIMIT_RANGE)
    pdbs, accounts = of_type(args, t.K8S_PDB), of_type(args, t.K8S_SERVICE_ACCOUNT)
    for ns in of_type(args, t.K8S_NAMESPACE):
        if cfg["serviceLabel"] not in _labels(ns):
            continue
        name = get(ns.props, "metadata.name") or ns.name
        if not any(_in_namespace(q, ns) for q in quotas):
            yield f"service namespace {name} has no ResourceQuota: one runaway service can starve the nodes.", ns.urn
        if not any(_in_namespace(lr, ns) for lr in limits):
            yield f"service namespace {name} has no LimitRange: pods without requests defeat the scheduler and the HPA.", ns.urn
        mine = [p for p in pdbs if _in_namespace(p, ns)]
        if not mine:
            yield f"service namespace {name} has no PodDisruptionBudget: a node drain may stop every replica at once.", ns.urn
        for pdb in mine:
            available = get(pdb.props, "spec.minAvailable")
            if available in (None, 0, "0", "0%") and get(pdb.props, "spec.maxUnavailable") in (None, "100%"):
                yield f"PodDisruptionBudget {pdb.name} keeps no replica available during disruptions.", pdb.urn
        roles = [a for a in accounts if _in_namespace(a, ns) and _annotated(a, cfg["irsaAnnotation"])]
        if not roles:
            yield (f"service namespace {name} has no service account with an IAM role ({cfg['irsaAnnotation']}); "
                   "pods would fall back to the node role."), ns.urn


namespace_guardrails = stack_policy(
    name="cluster-service-namespace-guardrails",
    description="Every service namespace has a ResourceQuota, a LimitRange, a PodDisruptionBudget and an IRSA service account.",
    check=_check_guardrails,
    types=(t.K8S_NAMESPACE, t.K8S_RESOURCE_QUOTA, t.K8S_LIMIT_RANGE, t.K8S_PDB, t.K8S_SERVICE_ACCOUNT),
    severity=Severity.MEDIUM,
    category="Infrastructure",
    remediation="Declare services through components.services.ServiceCatalog, which creates all four per service.",
    controls=("cis-eks:5.1.5", "cis-eks:4.1.5"),
    defaults={"serviceLabel": "golive.io/service", "irsaAnnotation": "eks.amazonaws.com/role-arn"},
)


def _check_storage_class(args, cfg):
    if get(args.props, "provisioner") != "ebs.csi.aws.com":
        return
    if str(get(args.props, "parameters.encrypted")).lower() != "true":
        yield f"StorageClass {args.name} creates unencrypted EBS volumes."
    elif problem := customer_managed_key(args.props, "parameters.kmsKeyId"):
        yield f"StorageClass {args.name} {problem}; pass kmsKeyId for a customer-managed key."
    if get(args.props, "reclaimPolicy") == "Delete" and cfg["requireRetain"]:
        yield f"StorageClass {args.name} deletes volumes with their claims; use reclaimPolicy Retain for data."


storage_class_encrypted = resource_policy(
    name="cluster-storage-class-encrypted",
    description="EBS StorageClasses encrypt volumes with a customer-managed key and retain them when a claim is deleted.",
    types=(t.K8S_STORAGE_CLASS,),
    check=_check_storage_class,
    severity=Severity.HIGH,
    category="Security",
    remediation="Set parameters encrypted='true' and kmsKeyId=<CMK ARN>, reclaimPolicy Retain (components/cluster.py).",
    controls=("fsbp:EC2.7",),
    defaults={"requireRetain": True},
)

def _check_in_cluster_half(args, cfg):
    providers = of_type(args, t.PROVIDER_KUBERNETES)
    for cluster in of_type(args, t.EKS_CLUSTER):
        if not any(dep.urn == cluster.urn for p in providers for dep in depends_via(p, "kubeconfig")):
            yield (f"EKS cluster {cluster.name} has no Kubernetes provider, so nothing runs in it: no autoscaler, storage "
                   "class, services, monitoring or delivery. This is the infrastructure phase of a first deploy; the stack "
                   "is complete after the all phase."), cluster.urn


in_cluster_half = stack_policy(
    name="cluster-in-cluster-half-declared",
    description="Every EKS cluster has its in-cluster half declared (a Kubernetes provider built from it): a stack in the "
    "infrastructure phase is not ready to go live.",
    check=_check_in_cluster_half,
    types=(t.EKS_CLUSTER, t.PROVIDER_KUBERNETES),
    severity=Severity.HIGH,
    category="Infrastructure",
    remediation="Connect to the admin VPN (or run from a configured deployer), set `golive:phase` to `all` and run "
    "`pulumi up` again (README, the first deploy).",
    enforcement=ADVISORY,
)

POLICIES = [
    in_cluster_half,
    namespace_guardrails,
    storage_class_encrypted,
    eks_endpoint_restricted,
    eks_secrets_encrypted,
    eks_logging,
    eks_supported_version,
    node_group_scaling,
    launch_template_hardened,
    namespace_isolation,
    hpa_min_replicas,
    helm_chart_pinned,
]
