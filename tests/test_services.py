"""The ServiceCatalog: each service's subtree on the prod stack, catalog validation, and a property over catalog sizes."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.config import RESERVED_NAMESPACES, AwsAccount, ConfigError, NetworkConfig, ServiceConfig, parse
from tests.helpers import deps, of_type, props

SERVICES = ("signal-service", "listings-service", "trading-api", "config-service")
# (service port, metrics port) in the prod catalog: the listings report serves metrics on :8086, the config service listens on 8100.
PORTS = {"signal-service": (8080, 8080), "listings-service": (8080, 8086), "trading-api": (8080, 8080), "config-service": (8100, 8100)}
NAMESPACE = "kubernetes:core/v1:Namespace"
SA = "kubernetes:core/v1:ServiceAccount"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMITS = "kubernetes:core/v1:LimitRange"
CATALOG = "golive:compute:ServiceCatalog"


def in_namespace(synth, type_, namespace):
    return [r for r in of_type(synth, type_) if props(r)["metadata"].get("namespace") == namespace]


def catalog_namespaces(synth):
    return {props(r)["metadata"]["name"]: r for r in of_type(synth, NAMESPACE) if CATALOG in r["urn"]}


def test_prod_declares_the_services_of_the_reports(prod):
    """The three services of the reports and the config service the signal service depends on."""
    assert set(catalog_namespaces(prod)) == set(SERVICES)
    assert prod.outputs["serviceNamespaces"] == {s: s for s in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_namespace_enforces_pod_security_restricted(prod, service):
    labels = props(catalog_namespaces(prod)[service])["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert labels["golive.io/service"] == service


@pytest.mark.parametrize("service", SERVICES)
def test_network_policies_deny_by_default_and_admit_the_load_balancer_and_monitoring(prod, service):
    policies = {props(p)["metadata"]["name"]: props(p)["spec"] for p in in_namespace(prod, NETPOL, service)}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    allow = policies["allow-ingress"]
    assert allow["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": service}}
    lb_rule, monitoring_rule = allow["ingress"]
    public = list(NetworkConfig(vpc_cidr="10.20.0.0/16").subnet_cidrs("eu-west-1")["public"])
    assert [peer["ipBlock"]["cidr"] for peer in lb_rule["from"]] == public
    port, metrics_port = PORTS[service]
    assert lb_rule["ports"] == [{"port": port, "protocol": "TCP"}]
    assert monitoring_rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    # Monitoring probes the service's port and scrapes the metrics port.
    assert monitoring_rule["ports"] == [{"port": p, "protocol": "TCP"} for p in sorted({port, metrics_port})]


@pytest.mark.parametrize("service", SERVICES)
def test_quota_and_limit_range(prod, service):
    (quota,) = in_namespace(prod, QUOTA, service)
    assert props(quota)["spec"]["hard"]["pods"] == "20"
    assert props(quota)["spec"]["hard"]["services.loadbalancers"] == "0"
    (limits,) = in_namespace(prod, LIMITS, service)
    (item,) = props(limits)["spec"]["limits"]
    assert item["type"] == "Container" and item["default"] and item["defaultRequest"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_account_is_bound_to_an_irsa_role_reading_only_its_secrets(prod, service):
    (sa,) = in_namespace(prod, SA, service)
    assert props(sa)["metadata"]["name"] == service
    assert props(sa)["automountServiceAccountToken"] is False
    by_urn = prod.by_urn()
    (role_urn,) = [u for u in deps(sa, "metadata") if "aws:iam/role:Role" in u]
    role = by_urn[role_urn]
    assert props(sa)["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith(
        f"arn:aws:iam::123456789012:role/golive-{service}-irsa")
    trust = json.loads(props(role)["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert sorted(trust.values()) == sorted([f"system:serviceaccount:{service}:{service}", "sts.amazonaws.com"])
    (policy,) = [r for r in of_type(prod, "aws:iam/rolePolicy:RolePolicy") if deps(r, "role") == [role_urn]]
    read, decrypt, connect = json.loads(props(policy)["policy"])["Statement"]
    secrets = [f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:golive/{service}/*",
               "arn:aws:secretsmanager:eu-west-1:123456789012:secret:golive/cache/*"]
    assert read["Resource"] == secrets and set(read["Action"]) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    assert decrypt["Condition"]["StringLike"] == {"kms:EncryptionContext:SecretARN": secrets}
    assert connect == {"Sid": "ConnectAsOwnDatabaseUser", "Effect": "Allow", "Action": "rds-db:connect",
                       "Resource": f"arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/{service}"}
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}


@pytest.mark.parametrize("service", SERVICES)
def test_hpa_and_pdb(prod, service):
    (hpa,) = in_namespace(prod, HPA, service)
    spec = props(hpa)["spec"]
    # Prod services ship through Argo Rollouts (delivery: canary): the Rollout owns the replica count.
    assert spec["scaleTargetRef"] == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": service}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    assert spec["metrics"][0]["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}
    (pdb,) = in_namespace(prod, PDB, service)
    assert props(pdb)["spec"] == {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": service}}}


def test_hpa_scales_the_deployment_without_progressive_delivery():
    from components.services import scale_target

    assert scale_target(ServiceConfig(name="api", delivery="none")) == {"api_version": "apps/v1", "kind": "Deployment", "name": "api"}
    assert scale_target(ServiceConfig(name="api", delivery="canary"))["kind"] == "Rollout"


def test_each_service_is_one_subtree_under_its_namespace(prod):
    namespaces = catalog_namespaces(prod)
    for service, ns in namespaces.items():
        children = {r["type"] for r in prod.children_of(ns["urn"])}
        assert {SA, HPA, PDB, NETPOL, QUOTA, LIMITS, "aws:iam/role:Role"} <= children, service


def test_slo_and_routing_fields_reach_the_parsed_config():
    config = parse({"services": [{"name": "trading-api", "pathPrefix": "/api",
                                  "slo": {"availability": 99.9, "latencyThresholdSeconds": 1, "latencyTarget": 95}}]})
    (service,) = config.services
    assert service.path_prefix == "/api"
    assert (service.slo.availability, service.slo.latency_threshold_seconds, service.slo.latency_target) == (99.9, 1.0, 95.0)
    assert (service.health_path, service.ready_path, service.min_replicas, service.max_replicas) == ("/health", "/ready", 2, 10)


# ---- catalog validation


def problems_of(services, **top):
    with pytest.raises(ConfigError) as err:
        parse({"services": services, **top})
    return str(err.value)


@pytest.mark.parametrize("name", ["Trading_API", "-api", "api-", "a" * 64, "kube-stuff", "monitoring", ""])
def test_invalid_or_reserved_names_are_rejected(name):
    message = problems_of([{"name": name}])
    assert "golive:services[0].name" in message and ("DNS label" in message or "reserved" in message)


def test_duplicate_names_are_rejected():
    message = problems_of([{"name": "api"}, {"name": "web"}, {"name": "api"}])
    assert "golive:services[2].name" in message and "duplicates services[0].name" in message


def test_duplicate_routes_are_rejected():
    message = problems_of([{"name": "a", "host": "x.example.com"}, {"name": "b", "host": "x.example.com"}], edge={"domain": "example.com"})
    assert "golive:services[1].host" in message and "duplicate services[0]" in message


def test_min_above_max_is_rejected():
    message = problems_of([{"name": "api", "minReplicas": 5, "maxReplicas": 3}])
    assert "golive:services[0].maxReplicas = 3: must be >= minReplicas (5)" in message


def test_single_replica_is_rejected_in_production_only():
    message = problems_of([{"name": "api", "minReplicas": 1}])
    assert "golive:services[0].minReplicas = 1" in message and "production" in message
    assert parse({"environment": "staging", "services": [{"name": "api", "minReplicas": 1}]}).services[0].min_replicas == 1


@pytest.mark.parametrize("field,value", [("availability", 100), ("availability", 0), ("latencyTarget", 100.5)])
def test_slo_targets_must_lie_strictly_between_0_and_100(field, value):
    message = problems_of([{"name": "api", "slo": {field: value}}])
    assert f"golive:services[0].slo.{field}" in message and "strictly between 0 and 100" in message


def test_bad_port_paths_and_host_are_rejected():
    message = problems_of([{"name": "api", "port": 70000, "healthPath": "health", "host": "Not A Host"}])
    assert "golive:services[0].port = 70000: must be a TCP port" in message
    assert "golive:services[0].healthPath" in message
    assert 'golive:services[0].host = "Not A Host": must be a lowercase DNS host name' in message


# ---- property: any catalog of 1-50 services gets its full, collision-free subtree

_names = st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True).filter(
    lambda n: n not in RESERVED_NAMESPACES and not n.startswith("kube-")
)
_catalogs = st.lists(
    st.tuples(_names, st.integers(2, 5), st.integers(0, 20)), min_size=1, max_size=50, unique_by=lambda t: t[0]
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(catalog=_catalogs)
# Generated lists are mostly short: always try both ends of the range.
@example(catalog=[("one", 2, 0)])
@example(catalog=[(f"service-{i}", 2, 8) for i in range(50)])
def test_every_catalog_service_gets_its_place_and_nothing_collides(synth_program, catalog):
    import pulumi
    import pulumi_aws as aws
    import pulumi_kubernetes as k8s

    from components.services import ServiceCatalog, ServiceCatalogArgs

    services = tuple(ServiceConfig(name=n, min_replicas=low, max_replicas=low + extra) for n, low, extra in catalog)

    def program():
        aws_provider = aws.Provider("aws", region="eu-west-1")
        k8s_provider = k8s.Provider("k8s", kubeconfig="{}")
        ServiceCatalog(
            "golive",
            ServiceCatalogArgs(
                services=services,
                account=AwsAccount("123456789012", "eu-west-1"),
                oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X",
                oidc_issuer="oidc.eks.eu-west-1.amazonaws.com/id/X",
                load_balancer_cidrs=("10.20.120.0/22",),
            ),
            opts=pulumi.ResourceOptions(providers={"aws": aws_provider, "kubernetes": k8s_provider}),
        )

    synth = synth_program(program)
    names = [s.name for s in services]
    for type_ in (SA, HPA, PDB):
        per_ns = Counter(props(r)["metadata"]["namespace"] for r in of_type(synth, type_))
        assert per_ns == Counter(names), type_
        assert all(props(r)["metadata"]["name"] == props(r)["metadata"]["namespace"] for r in of_type(synth, type_))
    assert sorted(props(r)["metadata"]["name"] for r in of_type(synth, NAMESPACE)) == sorted(names)
    for service in services:
        (hpa,) = in_namespace(synth, HPA, service.name)
        assert (props(hpa)["spec"]["minReplicas"], props(hpa)["spec"]["maxReplicas"]) == (service.min_replicas, service.max_replicas)
    # Kubernetes identities, URNs and IAM role names are all distinct.
    k8s_ids = [(r["type"], props(r)["metadata"].get("namespace"), props(r)["metadata"]["name"])
               for r in synth.resources if r["type"].startswith("kubernetes:")]
    assert len(k8s_ids) == len(set(k8s_ids)) == len(services) * 8
    urns = [r["urn"] for r in synth.resources]
    assert len(urns) == len(set(urns))
    roles = [r["name"] for r in of_type(synth, "aws:iam/role:Role")]
    assert len(roles) == len(set(roles)) == len(services)
