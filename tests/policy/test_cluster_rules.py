"""Cluster policies: each passes on the real prod stack and fails on a stack that breaks it."""

from __future__ import annotations

import pytest

from tests.helpers import drop, findings, mutate, of_type, one

CLUSTER_POLICIES = [
    "cluster-eks-endpoint-restricted",
    "cluster-eks-secrets-encrypted",
    "cluster-eks-control-plane-logging",
    "cluster-eks-supported-version",
    "cluster-node-group-scaling",
    "cluster-launch-template-hardened",
    "cluster-service-namespace-isolation",
    "cluster-hpa-min-replicas",
    "cluster-helm-chart-pinned",
]
EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NAMESPACE = "kubernetes:core/v1:Namespace"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize("policy", CLUSTER_POLICIES)
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def test_every_cluster_policy_applies_to_the_prod_stack(prod_check):
    for policy in CLUSTER_POLICIES:
        info = prod_check.policies[policy]
        assert info.kind == "stack" or info.evaluated, f"{policy} evaluated no resource"


def with_cluster(prod, change):
    return mutate(prod, one(prod, EKS)["urn"], lambda r: change(r["inputs"]))


@pytest.mark.parametrize(
    "vpc,expected",
    [
        ({"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}, "open to 0.0.0.0/0"),
        ({"endpointPublicAccess": True}, "without publicAccessCidrs"),
        ({"endpointPublicAccess": None}, "without publicAccessCidrs"),  # unset: EKS opens it
        ({"endpointPrivateAccess": False}, "private endpoint is off"),
    ],
)
def test_endpoint_fails_when_open(prod, vpc, expected):
    def change(inputs):
        inputs["vpcConfig"].update(vpc)
        if vpc.get("endpointPublicAccess") is None and "endpointPublicAccess" in vpc:
            del inputs["vpcConfig"]["endpointPublicAccess"]

    (finding,) = findings(with_cluster(prod, change), "cluster-eks-endpoint-restricted")
    assert expected in finding.message


def test_endpoint_passes_when_public_but_cidr_restricted(prod):
    broken = with_cluster(prod, lambda i: i["vpcConfig"].update(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"]))
    assert findings(broken, "cluster-eks-endpoint-restricted") == []


def test_secrets_encryption_fails_without_config_or_with_an_aws_managed_key(prod):
    (finding,) = findings(with_cluster(prod, lambda i: i.pop("encryptionConfig")), "cluster-eks-secrets-encrypted")
    assert "does not envelope-encrypt" in finding.message
    aws_key = with_cluster(prod, lambda i: i["encryptionConfig"]["provider"].update(keyArn="arn:aws:kms:eu-west-1:1:alias/aws/eks"))
    (finding,) = findings(aws_key, "cluster-eks-secrets-encrypted")
    assert "AWS-managed key" in finding.message


def test_logging_fails_when_a_log_type_is_off(prod):
    broken = with_cluster(prod, lambda i: i.update(enabledClusterLogTypes=["api", "authenticator"]))
    (finding,) = findings(broken, "cluster-eks-control-plane-logging")
    assert "audit, controllerManager, scheduler" in finding.message


def test_version_fails_when_unsupported_or_unpinned(prod):
    (finding,) = findings(with_cluster(prod, lambda i: i.update(version="1.27")), "cluster-eks-supported-version")
    assert "1.27" in finding.message
    (finding,) = findings(with_cluster(prod, lambda i: i.pop("version")), "cluster-eks-supported-version")
    assert "does not pin" in finding.message


def test_node_group_fails_below_two_nodes_inverted_or_on_two_subnets(prod):
    group = one(prod, NODE_GROUP)

    def change(r):
        r["inputs"]["scalingConfig"].update(minSize=1, maxSize=0)
        r["inputs"]["subnetIds"] = r["inputs"]["subnetIds"][:2]

    messages = [f.message for f in findings(mutate(prod, group["urn"], change), "cluster-node-group-scaling")]
    assert len(messages) == 3
    assert any("shrink to 1" in m for m in messages)
    assert any("maxSize 0 is below minSize 1" in m for m in messages)
    assert any("spans 2 subnet(s)" in m for m in messages)


def test_launch_template_fails_with_imdsv1_or_unencrypted_volumes(prod):
    template = one(prod, LAUNCH_TEMPLATE)

    def change(r):
        r["inputs"]["metadataOptions"].update(httpTokens="optional", httpPutResponseHopLimit=3)
        r["inputs"]["blockDeviceMappings"][0]["ebs"]["encrypted"] = "false"

    messages = [f.message for f in findings(mutate(prod, template["urn"], change), "cluster-launch-template-hardened")]
    assert len(messages) == 3
    assert any("IMDSv1" in m for m in messages) and any("hop limit 3" in m for m in messages)
    assert any("/dev/xvda is not encrypted" in m for m in messages)
    no_volume = mutate(prod, template["urn"], lambda r: r["inputs"].pop("blockDeviceMappings"))
    (finding,) = findings(no_volume, "cluster-launch-template-hardened")
    assert "no block device" in finding.message


def service_namespace(prod, service="trading-api"):
    return next(r for r in of_type(prod, NAMESPACE) if r["inputs"]["metadata"]["name"] == service)


def test_namespace_isolation_fails_without_pod_security_restricted(prod):
    ns = service_namespace(prod)
    broken = mutate(prod, ns["urn"], lambda r: r["inputs"]["metadata"]["labels"].update({"pod-security.kubernetes.io/enforce": "baseline"}))
    (finding,) = findings(broken, "cluster-service-namespace-isolation")
    assert finding.urn == ns["urn"] and "restricted" in finding.message and "baseline" in finding.message


def test_namespace_isolation_fails_without_default_deny(prod):
    ns = service_namespace(prod)
    broken = drop(prod, lambda r: r["name"] == "golive-trading-api-default-deny")
    (finding,) = findings(broken, "cluster-service-namespace-isolation")
    assert finding.urn == ns["urn"] and "default-deny" in finding.message


def test_namespace_isolation_is_not_fooled_by_a_policy_with_rules(prod):
    deny = next(r for r in prod.resources if r["name"] == "golive-signal-service-default-deny")
    broken = mutate(prod, deny["urn"], lambda r: r["inputs"]["spec"].update(ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]))
    (finding,) = findings(broken, "cluster-service-namespace-isolation")
    assert "signal-service" in finding.message


def test_namespace_isolation_finds_unlabelled_namespaces_hosting_an_hpa(prod):
    ns = service_namespace(prod, "listings-service")

    def change(r):
        labels = r["inputs"]["metadata"]["labels"]
        for key in [k for k in labels if k.startswith("pod-security") or k == "golive.io/service"]:
            del labels[key]

    (finding,) = findings(mutate(prod, ns["urn"], change), "cluster-service-namespace-isolation")
    assert finding.urn == ns["urn"]


def test_hpa_fails_with_one_replica(prod):
    hpa = of_type(prod, HPA)[0]
    (finding,) = findings(mutate(prod, hpa["urn"], lambda r: r["inputs"]["spec"].update(minReplicas=1)), "cluster-hpa-min-replicas")
    assert finding.urn == hpa["urn"] and "1 replica" in finding.message


@pytest.mark.parametrize("version,expected", [(None, "does not pin"), ("^9.46", "a range"), ("9.x", "a range"), (">=3", "a range")])
def test_helm_release_fails_without_an_exact_version(prod, version, expected):
    release = next(r for r in of_type(prod, RELEASE) if r["inputs"]["chart"] == "metrics-server")

    def change(r):
        if version is None:
            r["inputs"].pop("version")
        else:
            r["inputs"]["version"] = version

    (finding,) = findings(mutate(prod, release["urn"], change), "cluster-helm-chart-pinned")
    assert finding.urn == release["urn"] and expected in finding.message
