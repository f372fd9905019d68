"""The first deploy of a new stack, walked through the offline engine: `golive:phase` infrastructure, then all.

The EKS endpoint is private and the admin VPN that reaches it is part of the stack, so the
first `up` cannot apply anything in the cluster. The infrastructure phase declares every AWS
resource the all phase needs to reach the API; the all phase only adds to it (nothing is
replaced or deleted between the two `up`s).
"""

from __future__ import annotations

import pytest

from components.config import ConfigError, parse
from golive import check, report
from tests.helpers import findings, of_type, one

KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"


@pytest.fixture(scope="module")
def infrastructure():
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config({"phase": "infrastructure"})
    return engine.synth("prod", config=config, secret_keys=secret_keys)


def test_the_infrastructure_phase_declares_nothing_behind_the_kubernetes_api(infrastructure):
    assert [r["name"] for r in infrastructure.resources if r["type"].startswith("kubernetes:")] == []
    assert of_type(infrastructure, KUBERNETES_PROVIDER) == []
    assert infrastructure.outputs["phase"] == "infrastructure"


def test_the_infrastructure_phase_builds_the_path_the_all_phase_deploys_through(infrastructure):
    """Cluster, nodes, the deployer's access, the VPN and its admission to the API: all there after the first `up`."""
    for type_, name in (
        ("aws:eks/cluster:Cluster", "golive-eks"),
        ("aws:eks/nodeGroup:NodeGroup", "golive-nodes"),
        ("aws:eks/accessEntry:AccessEntry", "golive-admin-0"),
        ("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "golive-admin-0-policy"),
        ("aws:ec2clientvpn/endpoint:Endpoint", "golive-vpn"),
        ("aws:ec2clientvpn/authorizationRule:AuthorizationRule", "golive-vpn-vpc"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "golive-vpn-to-kubernetes-api"),
    ):
        assert one(infrastructure, type_, name)
    assert len(of_type(infrastructure, "aws:ec2clientvpn/networkAssociation:NetworkAssociation")) == 3
    assert "adminVpnEndpointId" in infrastructure.outputs and "kubeconfig" in infrastructure.outputs


def test_the_infrastructure_phase_passes_the_pack_and_says_it_is_not_complete(infrastructure):
    """`pulumi up --policy-pack policy` must run in both phases: nothing mandatory fails, the advisory names the gap."""
    checked = check.check(infrastructure)
    assert checked.mandatory == []
    (gap,) = findings(infrastructure, "cluster-in-cluster-half-declared")
    assert gap.urn == one(infrastructure, "aws:eks/cluster:Cluster")["urn"] and "infrastructure phase" in gap.message


def test_the_all_phase_has_the_in_cluster_half(prod):
    assert prod.outputs["phase"] == "all"
    assert findings(prod, "cluster-in-cluster-half-declared") == []
    assert of_type(prod, KUBERNETES_PROVIDER) and [r for r in prod.resources if r["type"].startswith("kubernetes:")]


def test_the_all_phase_only_adds_to_the_infrastructure_phase(infrastructure, prod):
    """Every resource of the first `up` is in the second with the same inputs: the second `up` creates, never replaces."""
    first, second = infrastructure.by_urn(), prod.by_urn()
    assert set(first) <= set(second)
    changed = sorted(urn.rsplit("::", 1)[1] for urn, record in first.items()
                     if record["inputs"] != second[urn]["inputs"] or record["provider"] != second[urn]["provider"])
    assert changed == []
    added = {second[u]["type"].split(":")[0] for u in set(second) - set(first)}
    assert "kubernetes" in added


def test_the_readiness_report_says_which_phase_the_stack_is_in(infrastructure, prod):
    first = report.render(check.check(infrastructure), infrastructure)
    assert "Phase: **infrastructure**" in first and "not ready to go live until the `all` phase" in first
    assert "Phase: `all`." in report.render(check.check(prod), prod)


def test_the_phase_is_one_of_two():
    with pytest.raises(ConfigError) as err:
        parse({"phase": "kubernetes"})
    assert 'golive:phase = "kubernetes": must be one of "infrastructure", "all"' in str(err.value)
    assert parse({}).phase == "all" and parse({"phase": "infrastructure"}).kubernetes is False
