"""The Cluster component as the prod stack synthesizes it, and the cluster config rules."""

from __future__ import annotations

import json

import pytest

from components.cluster import LOG_TYPES, kubeconfig
from components.config import ConfigError, parse
from components.irsa import trust_policy
from tests.helpers import deps, of_type, one, props

EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
RELEASE = "kubernetes:helm.sh/v3:Release"
CLUSTER_URN_PART = "golive:compute:Cluster$"


def named(prod, type_, name):
    (record,) = [r for r in of_type(prod, type_) if r["name"] == name]
    return record


def policy_doc(record):
    return json.loads(props(record)["policy"] if "policy" in props(record) else props(record)["assumeRolePolicy"])


def test_cluster_uses_api_authentication_and_access_entries(prod):
    cluster = one(prod, EKS)
    assert props(cluster)["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    entry = named(prod, "aws:eks/accessEntry:AccessEntry", "golive-admin-0")
    assert props(entry)["principalArn"] == "arn:aws:iam::123456789012:role/platform-admin"
    association = named(prod, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "golive-admin-0-policy")
    assert props(association)["policyArn"].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")
    assert props(association)["accessScope"] == {"type": "cluster"}
    assert entry["urn"] in association["options"]["dependsOn"]


def test_endpoint_is_private_only(prod):
    vpc = props(one(prod, EKS))["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc


def test_control_plane_runs_in_the_private_subnets(prod):
    cluster = one(prod, EKS)
    subnets = [prod.by_urn()[u] for u in deps(cluster, "vpcConfig") if "subnet:Subnet" in u]
    assert len(subnets) == 3 and {props(s)["tags"]["tier"] for s in subnets} == {"private"}


def test_secrets_are_encrypted_with_a_customer_managed_key(prod):
    cluster = one(prod, EKS)
    assert props(cluster)["encryptionConfig"]["resources"] == ["secrets"]
    keys = [u for u in deps(cluster, "encryptionConfig") if u.endswith("::golive-eks-secrets-key")]
    assert keys and prod.by_urn()[keys[0]]["options"]["protect"] is True


def test_all_log_types_go_to_an_encrypted_log_group_created_first(prod):
    cluster = one(prod, EKS)
    assert props(cluster)["enabledClusterLogTypes"] == list(LOG_TYPES)
    group = named(prod, "aws:cloudwatch/logGroup:LogGroup", "golive-control-plane-logs")
    assert props(group)["name"] == f"/aws/eks/{props(cluster)['name']}/cluster"
    assert props(group)["retentionInDays"] == 365 and props(group)["kmsKeyId"].startswith("arn:aws:kms:")
    assert group["urn"] in cluster["options"]["dependsOn"]
    assert cluster["options"]["protect"] is True and props(cluster)["deletionProtection"] is True


def test_node_group_spans_every_private_subnet_with_2_3_10(prod):
    group = named(prod, NODE_GROUP, "golive-nodes")
    assert props(group)["scalingConfig"] == {"minSize": 2, "desiredSize": 3, "maxSize": 10}
    subnets = [prod.by_urn()[u] for u in deps(group, "subnetIds")]
    assert {props(s)["availabilityZone"] for s in subnets} == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert {props(s)["tags"]["tier"] for s in subnets} == {"private"}
    assert group["options"]["ignoreChanges"] == ["scalingConfig.desiredSize"]
    assert props(group)["instanceTypes"] == ["m6i.large", "m6a.large", "m5.large"]


def test_launch_template_requires_imdsv2_and_encrypts_gp3_root_volumes(prod):
    template = named(prod, LAUNCH_TEMPLATE, "golive-nodes-lt")
    assert props(template)["metadataOptions"]["httpTokens"] == "required"
    # Hop limit 1: a pod is one hop beyond the node and cannot fetch the node role's credentials (IRSA instead).
    assert props(template)["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (mapping,) = props(template)["blockDeviceMappings"]
    assert mapping["ebs"]["volumeType"] == "gp3" and mapping["ebs"]["encrypted"] == "true"
    assert any(u.endswith("::golive-ebs-key") for u in deps(template, "blockDeviceMappings"))
    group = named(prod, NODE_GROUP, "golive-nodes")
    assert deps(group, "launchTemplate") == [template["urn"]]


def test_the_node_security_group_is_the_one_on_the_launch_template_and_exported(prod):
    template = named(prod, LAUNCH_TEMPLATE, "golive-nodes-lt")
    (sg_urn,) = deps(template, "vpcSecurityGroupIds")
    assert sg_urn.endswith("::golive-node-sg")
    assert props(template)["vpcSecurityGroupIds"] == [prod.outputs["nodeSecurityGroupId"]]


def test_security_group_rules_never_open_ingress_to_the_internet(prod):
    rules = [r for r in of_type(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if CLUSTER_URN_PART in r["urn"]]
    assert rules and all("cidrIpv4" not in props(r) for r in rules)
    assert all(props(r)["referencedSecurityGroupId"] for r in rules)


def _node_egress(result):
    rules = [r for r in of_type(result, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") if CLUSTER_URN_PART in r["urn"]]
    return {r["name"]: r for r in rules if deps(r, "securityGroupId") and deps(r, "securityGroupId")[0].endswith("::golive-node-sg")}


def test_nodes_reach_the_internet_on_443_and_smtp_submission_only(prod):
    """Alertmanager e-mails through the SMTP smarthost on 587 (STARTTLS); without this rule no alert e-mail leaves."""
    internet = {name: props(r) for name, r in _node_egress(prod).items() if props(r).get("cidrIpv4") == "0.0.0.0/0"}
    assert {(p["ipProtocol"], p["fromPort"], p["toPort"]) for p in internet.values()} == {("tcp", 443, 443), ("tcp", 587, 587)}
    smtp = internet["golive-nodes-to-internet-587"]
    assert "SMTP" in smtp["description"] and "Alertmanager" in smtp["description"]
    smarthost_port = int(parse({}).monitoring.alerting.smtp_smarthost.rsplit(":", 1)[1])
    assert smarthost_port == smtp["fromPort"]


def test_extra_egress_ports_follow_config(synth_config):
    result = synth_config({"cluster": {"extraEgressPorts": [465, 587]}})
    ports = sorted(props(r)["fromPort"] for r in _node_egress(result).values() if props(r).get("cidrIpv4") == "0.0.0.0/0")
    assert ports == [443, 465, 587]
    none = synth_config({"cluster": {"extraEgressPorts": []}})
    assert [props(r)["fromPort"] for r in _node_egress(none).values() if props(r).get("cidrIpv4") == "0.0.0.0/0"] == [443]


@pytest.mark.parametrize("ports, index, rule", [([0], 0, "from 1 to 65535"), ([443], 0, "already allowed"), ([587, 587], 1, "already allowed")])
def test_extra_egress_ports_are_checked(ports, index, rule):
    message = problems_of({"cluster": {"extraEgressPorts": ports}})
    assert f"golive:cluster.extraEgressPorts[{index}]" in message and rule in message


def test_node_role_has_only_the_node_policies(prod):
    role = named(prod, ROLE, "golive-node-role")
    attached = sorted(props(a)["policyArn"].rsplit("/", 1)[-1] for a in of_type(prod, ATTACHMENT) if deps(a, "role") == [role["urn"]])
    assert attached == ["AmazonEC2ContainerRegistryReadOnly", "AmazonEKSWorkerNodePolicy"]
    assert [r for r in of_type(prod, "aws:iam/rolePolicy:RolePolicy") if deps(r, "role") == [role["urn"]]] == []


def test_addons_are_pinned_and_ordered_around_the_nodes(prod):
    addons = {props(a)["addonName"]: a for a in of_type(prod, ADDON)}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"}
    assert props(addons["vpc-cni"])["addonVersion"] == "v1.19.5-eksbuild.1"
    assert json.loads(props(addons["vpc-cni"])["configurationValues"]) == {"enableNetworkPolicy": "true"}
    group = named(prod, NODE_GROUP, "golive-nodes")
    assert addons["vpc-cni"]["urn"] in group["options"]["dependsOn"]
    assert group["urn"] in addons["coredns"]["options"]["dependsOn"]
    for name, sa in (("vpc-cni", "kube-system:aws-node"), ("aws-ebs-csi-driver", "kube-system:ebs-csi-controller-sa")):
        (role_urn,) = deps(addons[name], "serviceAccountRoleArn")
        trust = policy_doc(prod.by_urn()[role_urn])
        assert list(trust["Statement"][0]["Condition"]["StringEquals"].values())[0] == f"system:serviceaccount:{sa}"


def test_oidc_provider_trusts_sts(prod):
    oidc = named(prod, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "golive-oidc")
    assert props(oidc)["clientIdLists"] == ["sts.amazonaws.com"]
    assert props(oidc)["url"].startswith("https://oidc.eks.eu-west-1.amazonaws.com/id/")
    assert deps(oidc, "url") == [one(prod, EKS)["urn"]]


def test_irsa_trust_policy_is_scoped_to_one_service_account():
    doc = json.loads(trust_policy("arn:aws:iam::1:oidc-provider/oidc.example/id/X", "https://oidc.example/id/X", "ns", "sa"))
    (statement,) = doc["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": "arn:aws:iam::1:oidc-provider/oidc.example/id/X"}
    assert statement["Condition"] == {
        "StringEquals": {"oidc.example/id/X:sub": "system:serviceaccount:ns:sa", "oidc.example/id/X:aud": "sts.amazonaws.com"}
    }


def test_cluster_autoscaler_may_only_resize_this_clusters_groups(prod):
    role = named(prod, ROLE, "golive-cluster-autoscaler")
    (policy,) = [r for r in of_type(prod, "aws:iam/rolePolicy:RolePolicy") if deps(r, "role") == [role["urn"]]]
    cluster_name = props(one(prod, EKS))["name"]
    statements = {s["Sid"]: s for s in policy_doc(policy)["Statement"]}
    scale = statements["ScaleOwnGroups"]
    assert set(scale["Action"]) == {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    assert scale["Resource"] == "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/eks-*"
    assert scale["Condition"] == {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}}
    assert statements["ReadOwnNodeGroups"]["Resource"] == f"arn:aws:eks:eu-west-1:123456789012:nodegroup/{cluster_name}/*/*"
    # Only actions without resource-level permissions are allowed on "*", and only in the stack's region.
    unscoped = [s for s in statements.values() if s["Resource"] == "*"]
    assert [s["Sid"] for s in unscoped] == ["DescribeInRegion"]
    assert all(a.split(":")[1].startswith(("Describe", "GetInstanceTypes")) for a in unscoped[0]["Action"])
    assert unscoped[0]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}


def test_helm_releases_are_pinned_and_use_the_cluster_provider(prod):
    releases = {props(r)["chart"]: r for r in of_type(prod, RELEASE) if CLUSTER_URN_PART in r["urn"]}
    assert set(releases) == {"cluster-autoscaler", "metrics-server"}
    assert props(releases["cluster-autoscaler"])["version"] == "9.46.6"
    assert props(releases["metrics-server"])["version"] == "3.12.2"
    assert props(releases["cluster-autoscaler"])["repositoryOpts"] == {"repo": "https://kubernetes.github.io/autoscaler"}
    sa = props(releases["cluster-autoscaler"])["values"]["rbac"]["serviceAccount"]
    assert sa["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::123456789012:role/golive-cluster-autoscaler")
    provider = named(prod, "pulumi:providers:kubernetes", "golive-k8s")
    assert all(r["provider"].startswith(provider["urn"]) for r in releases.values())


def test_default_storage_class_is_encrypted_gp3(prod):
    sc = named(prod, "kubernetes:storage.k8s.io/v1:StorageClass", "golive-gp3-encrypted")
    assert props(sc)["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert props(sc)["provisioner"] == "ebs.csi.aws.com"
    params = props(sc)["parameters"]
    assert params["type"] == "gp3" and params["encrypted"] == "true" and params["kmsKeyId"].startswith("arn:aws:kms:")
    assert props(sc)["reclaimPolicy"] == "Retain" and sc["options"]["protect"] is True


def test_kubernetes_provider_gets_tokens_from_the_aws_cli(prod):
    provider = named(prod, "pulumi:providers:kubernetes", "golive-k8s")
    config = json.loads(props(provider)["kubeconfig"])
    exec_ = config["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws" and exec_["args"][:2] == ["eks", "get-token"]
    assert "token" not in json.dumps(config["users"][0]["user"]).replace("get-token", "")
    assert config["clusters"][0]["cluster"]["server"] == prod.outputs["clusterEndpoint"]


def test_every_kubernetes_resource_has_the_explicit_provider(prod):
    provider = named(prod, "pulumi:providers:kubernetes", "golive-k8s")
    k8s = [r for r in prod.resources if r["type"].startswith("kubernetes:") and r["custom"]]
    assert k8s and all((r["provider"] or "").startswith(provider["urn"]) for r in k8s)


def test_kubeconfig_helper_is_plain_json():
    config = json.loads(kubeconfig("c", "https://x", "Q0E=", "eu-west-1"))
    assert config["current-context"] == "c"
    assert "--region" in config["users"][0]["user"]["exec"]["args"]


def test_exports_for_other_areas(prod):
    for key in ("clusterName", "clusterEndpoint", "clusterOidcProviderArn", "nodeSecurityGroupId", "kubeconfig"):
        assert prod.outputs[key] and prod.outputs[key] != "[secret]"


def test_public_endpoint_restricted_to_configured_cidrs(synth_config):
    stack = synth_config({"cluster": {"name": "golive-prod", "adminRoleArns": ["arn:aws:iam::123456789012:role/platform-admin"],
                                      "endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}})
    vpc = props(one(stack, EKS))["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


# ---- config errors


def problems_of(raw):
    with pytest.raises(ConfigError) as err:
        parse(raw)
    return str(err.value)


def test_public_endpoint_open_to_the_internet_is_a_production_error():
    message = problems_of({"cluster": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}})
    assert "golive:cluster.publicAccessCidrs[0]" in message and "never be open to the whole internet" in message
    # A staging stack may (it is still explicit).
    assert parse({"environment": "staging", "cluster": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}})


def test_public_endpoint_without_cidrs_is_an_error():
    message = problems_of({"cluster": {"endpointPublicAccess": True}})
    assert "golive:cluster.publicAccessCidrs" in message and "restricted to listed CIDRs" in message


def test_unsupported_version_is_an_error():
    message = problems_of({"cluster": {"version": "1.27", "addons": {"kubeProxy": "v1.27.1-eksbuild.1"}}})
    assert "golive:cluster.version" in message and "standard support" in message


def test_node_sizes_are_checked():
    message = problems_of({"cluster": {"nodeMinSize": 1, "nodeDesiredSize": 12}})
    assert "golive:cluster.nodeMinSize = 1: must be at least 2 in production" in message
    assert "golive:cluster.nodeDesiredSize = 12" in message


def test_unpinned_chart_and_addon_versions_are_errors():
    message = problems_of({"cluster": {"charts": {"metricsServer": "^3.12"}, "addons": {"coredns": "latest"}}})
    assert "golive:cluster.charts.metricsServer" in message and "golive:cluster.addons.coredns" in message


def test_admin_role_arns_must_be_role_arns():
    message = problems_of({"cluster": {"adminRoleArns": ["arn:aws:iam::123456789012:user/alice"]}})
    assert "golive:cluster.adminRoleArns[0]" in message and "IAM role ARN" in message


# --------------------------------------------------------------------------- who reaches the private API

SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SERVICE_LINKED_ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
ACCESS_GRANTS = ("aws:eks/accessEntry:AccessEntry", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")


def api_sources(synth):
    """Who may open 443 on the EKS endpoint: the sources of ingress rules on the security groups the cluster attaches."""
    cluster = one(synth, EKS)
    groups = {u for u in deps(cluster, "vpcConfig") if "securityGroup:SecurityGroup" in u}
    sources = set()
    for rule in of_type(synth, SG_INGRESS):
        p = props(rule)
        if not set(deps(rule, "securityGroupId")) & groups:
            continue
        if p["ipProtocol"] != "-1" and not (p["ipProtocol"] == "tcp" and p["fromPort"] <= 443 <= p["toPort"]):
            continue
        referenced = deps(rule, "referencedSecurityGroupId")
        if referenced:
            sources.add(("group", synth.by_urn()[referenced[0]]["name"]))
        elif p.get("referencedSecurityGroupId"):
            sources.add(("group id", p["referencedSecurityGroupId"]))
        else:
            sources.add(("cidr", p["cidrIpv4"]))
    return sources


def test_the_private_api_admits_the_nodes_and_the_admin_vpn_on_443(prod):
    """The README sends operators through the VPN: its security group must be admitted, not only the nodes'."""
    assert api_sources(prod) == {("group", "golive-node-sg"), ("group", "golive-vpn-sg")}
    vpn_group = one(prod, "aws:ec2/securityGroup:SecurityGroup", "golive-vpn-sg")
    assert {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.20.0.0/16"]}.items() <= next(
        e for e in props(vpn_group)["egress"] if e["fromPort"] == 443).items(), "and the VPN may send 443 into the VPC"


def test_without_the_vpn_rule_only_the_nodes_reach_the_api(prod):
    """The mutant the admission test must catch: the stack as it was, nodes only."""
    from tests.helpers import drop

    mutant = drop(prod, lambda r: r["name"] == "golive-vpn-to-kubernetes-api")
    assert api_sources(mutant) == {("group", "golive-node-sg")}


def test_configured_deployers_are_admitted_to_the_api(synth_config):
    result = synth_config({"cluster": {"deployerSecurityGroupIds": ["sg-0123456789abcdef0"], "deployerCidrs": ["10.20.248.0/24"]}})
    assert api_sources(result) == {("group", "golive-node-sg"), ("group", "golive-vpn-sg"),
                                   ("group id", "sg-0123456789abcdef0"), ("cidr", "10.20.248.0/24")}


@pytest.mark.parametrize("settings, key, rule", [
    ({"deployerSecurityGroupIds": ["runner"]}, "deployerSecurityGroupIds[0]", "must be a security group id"),
    ({"deployerCidrs": ["192.168.0.0/24"]}, "deployerCidrs[0]", "must lie inside the VPC CIDR 10.20.0.0/16"),
    ({"deployerCidrs": ["10.20.0.1/24"]}, "deployerCidrs[0]", "no host bits set"),
])
def test_deployers_are_checked(settings, key, rule):
    message = problems_of({"cluster": settings})
    assert f"golive:cluster.{key}" in message and rule in message


def test_the_volume_key_grant_waits_for_the_auto_scaling_role_it_names(prod):
    """KMS refuses a grant to a principal that does not exist; a new account has no AWSServiceRoleForAutoScaling yet."""
    grant = named(prod, "aws:kms/grant:Grant", "golive-ebs-asg-grant")
    assert props(grant)["granteePrincipal"] == (
        "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")
    (role,) = [r for r in of_type(prod, SERVICE_LINKED_ROLE) if props(r)["awsServiceName"] == "autoscaling.amazonaws.com"]
    assert role["urn"] in grant["options"]["dependsOn"]
    assert grant["urn"] in named(prod, NODE_GROUP, "golive-nodes")["options"]["dependsOn"]


def test_an_adopted_auto_scaling_role_is_not_created_and_the_grant_does_not_wait_for_it(synth_config):
    result = synth_config({"phase": "infrastructure", "singletons": {"autoscalingRole": {"mode": "adopt"}}})
    assert not [r for r in of_type(result, SERVICE_LINKED_ROLE) if props(r)["awsServiceName"] == "autoscaling.amazonaws.com"]
    grant = named(result, "aws:kms/grant:Grant", "golive-ebs-asg-grant")
    assert not [u for u in grant["options"]["dependsOn"] if "serviceLinkedRole" in u]


def upstream(synth, urn, seen=None):
    """Every resource ``urn`` waits for: its dependsOn and its provider, transitively."""
    by_urn = synth.by_urn()
    seen = set() if seen is None else seen
    record = by_urn[urn]
    nexts = list(record["options"]["dependsOn"])
    if record.get("provider"):
        nexts.append(record["provider"].rsplit("::", 1)[0])
    for dep in nexts:
        if dep not in seen and dep in by_urn:
            seen.add(dep)
            upstream(synth, dep, seen)
    return seen


def unordered_kubernetes_resources(synth):
    grants = {r["urn"] for r in synth.resources if r["type"] in ACCESS_GRANTS}
    return [r["name"] for r in synth.resources if r["type"].startswith("kubernetes:") and not grants <= upstream(synth, r["urn"])]


def test_every_kubernetes_resource_waits_for_the_deployers_access_policy_association(prod):
    """No race on the first `up`: the API refuses the deployer until its access entry and policy association exist."""
    admins = len(parse({"cluster": {"adminRoleArns": ["arn:aws:iam::123456789012:role/platform-admin"]}}).cluster.admin_role_arns)
    assert len([r for r in prod.resources if r["type"] in ACCESS_GRANTS]) == 2 * admins
    assert [r for r in prod.resources if r["type"].startswith("kubernetes:")]
    assert unordered_kubernetes_resources(prod) == []


def test_without_the_providers_wait_every_kubernetes_resource_races_the_association(prod):
    from tests.helpers import mutate

    provider = named(prod, "pulumi:providers:kubernetes", "golive-k8s")
    mutant = mutate(prod, provider["urn"], lambda r: r["options"].update(
        dependsOn=[u for u in r["options"]["dependsOn"] if not any(t in u for t in ACCESS_GRANTS)]))
    assert len(unordered_kubernetes_resources(mutant)) == len([r for r in prod.resources if r["type"].startswith("kubernetes:")])
