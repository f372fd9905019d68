"""The Edge component: ALB, certificate, listeners, routing, DNS and the load balancer controller."""

from __future__ import annotations

import json
import re

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from components.config import AwsAccount, ConfigError, ServiceConfig, parse
from components.edge import Edge, EdgeArgs, access_log_writer, controller_policy, lb_name, routes
from tests.helpers import deps, of_type, one, props

LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TG = "aws:lb/targetGroup:TargetGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
RECORD = "aws:route53/record:Record"
TGB = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
RELEASE = "kubernetes:helm.sh/v3:Release"
EDGE = "golive:edge:Edge"
PROD_HOSTS = {"signals.golive.example.com", "listings.golive.example.com", "trading.golive.example.com"}
OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"
OIDC_ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"


def in_edge(synth, type_):
    return [r for r in of_type(synth, type_) if "golive:edge:Edge" in r["urn"]]


def groups_by_role(synth, role):
    return {props(g)["tags"]["golive:service"]: g for g in of_type(synth, TG) if props(g)["tags"].get("golive:role") == role}


def listener(synth, protocol):
    (match,) = [r for r in of_type(synth, LISTENER) if props(r)["protocol"] == protocol]
    return match


def edge_program(services, **edge):
    """A program with only the Edge, on stand-ins for the network and cluster contract."""

    def program():
        raw = {"edge": {"domain": "golive.example.com", "hostedZoneId": "Z0EXAMPLE", **edge}, "services": services}
        if any(s.get("delivery") == "none" for s in services):
            raw["environment"] = "staging"  # production refuses `delivery: none`
        cfg = parse(raw)
        provider = aws.Provider("aws-primary", region=cfg.region)
        k8s_provider = k8s.Provider("k8s", kubeconfig="{}")
        Edge(
            "golive",
            EdgeArgs(
                config=cfg.edge, services=cfg.services, account=cfg.aws, vpc_id="vpc-0example",
                public_subnet_ids=["subnet-a", "subnet-b", "subnet-c"], node_security_group_id="sg-0nodes",
                cluster_name="golive", oidc_provider_arn=OIDC_ARN, oidc_issuer=OIDC_ISSUER, k8s_provider=k8s_provider,
            ),
            opts=pulumi.ResourceOptions(providers={"aws": provider, "kubernetes": k8s_provider}),
        )

    return program


CATALOG = [
    {"name": "web", "host": "app.golive.example.com", "port": 3000, "readyPath": "/healthz"},
    {"name": "api", "host": "app.golive.example.com", "pathPrefix": "/api", "port": 8080},
    {"name": "api-v2", "host": "app.golive.example.com", "pathPrefix": "/api/v2/", "port": 8081},
    {"name": "admin", "host": "admin.golive.example.com", "port": 8080, "delivery": "none"},
    {"name": "worker"},
]


@pytest.fixture(scope="module")
def catalog_synth():
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config()
    program = edge_program(CATALOG, idleTimeoutSeconds=120, contentSecurityPolicy="default-src 'none'",
                           hstsMaxAgeSeconds=31536000, tlsPolicy="ELBSecurityPolicy-TLS13-1-3-2021-06")
    return engine.synth("prod", config=config, secret_keys=secret_keys, program=program)


# --------------------------------------------------------------------------- load balancer


def test_alb_is_internet_facing_in_the_public_subnets(prod):
    (alb,) = of_type(prod, LB)
    p = props(alb)
    assert p["loadBalancerType"] == "application" and p["internal"] is False
    subnets = prod.by_urn()
    assert {props(subnets[u])["tags"]["tier"] for u in deps(alb, "subnets")} == {"public"}
    assert len(deps(alb, "subnets")) == 3


def test_alb_drops_invalid_headers_is_protected_and_logs(prod):
    p = props(one(prod, LB))
    assert p["dropInvalidHeaderFields"] is True
    assert p["enableDeletionProtection"] is True
    assert p["idleTimeout"] == 60
    assert p["accessLogs"]["enabled"] is True and p["accessLogs"]["prefix"] == "alb"
    bucket = prod.by_urn()[deps(one(prod, LB), "accessLogs")[0]]
    assert bucket["type"] == "aws:s3/bucket:Bucket" and props(bucket)["tags"]["purpose"] == "alb-access-logs"


def test_alb_waits_for_the_log_bucket_policy(prod):
    alb = one(prod, LB)
    assert any(prod.by_urn()[u]["type"] == "aws:s3/bucketPolicy:BucketPolicy" for u in alb["options"]["dependsOn"])


def test_alb_security_group_admits_only_web_ports_from_anywhere(prod):
    alb = one(prod, LB)
    (sg_urn,) = deps(alb, "securityGroups")
    sg = prod.by_urn()[sg_urn]
    p = props(sg)
    assert p["tags"]["golive:role"] == "load-balancer"
    assert sorted((r["fromPort"], r["toPort"], r["protocol"]) for r in p["ingress"]) == [(80, 80, "tcp"), (443, 443, "tcp")]
    assert all(r["cidrBlocks"] == ["0.0.0.0/0"] and r["ipv6CidrBlocks"] == ["::/0"] for r in p["ingress"])


def test_alb_egress_reaches_only_the_node_group_on_service_ports(prod):
    sg = prod.by_urn()[deps(one(prod, LB), "securityGroups")[0]]
    egress = props(sg)["egress"]
    assert [(r["fromPort"], r["toPort"]) for r in egress] == [(8080, 8080)]  # every prod service listens on 8080
    assert all(r["securityGroups"] == [prod.outputs["nodeSecurityGroupId"]] and "cidrBlocks" not in r for r in egress)
    assert any(prod.by_urn()[u]["name"] == "golive-node-sg" for u in deps(sg, "egress"))


def test_nodes_admit_the_alb_on_each_service_port(catalog_synth):
    rules = of_type(catalog_synth, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted(props(r)["fromPort"] for r in rules) == [3000, 8080, 8081]
    alb_sg = one(catalog_synth, SG, "alb-sg")
    assert all(props(r)["securityGroupId"] == "sg-0nodes" and deps(r, "referencedSecurityGroupId") == [alb_sg["urn"]] for r in rules)
    assert sorted(e["fromPort"] for e in props(alb_sg)["egress"]) == [3000, 8080, 8081]


# --------------------------------------------------------------------------- access logs


def test_access_log_bucket_meets_the_s3_baseline(prod):
    bucket = prod.by_urn()[deps(one(prod, LB), "accessLogs")[0]]
    attached = {r["type"].rsplit(":", 1)[1]: r for r in prod.resources if deps(r, "bucket") == [bucket["urn"]]}
    assert props(attached["BucketVersioning"])["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = props(attached["BucketServerSideEncryptionConfiguration"])["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"  # the only option ALB log delivery supports
    # SSE-S3 is an accepted risk, with its reason (shown as exempted in golive's verdict).
    assert "only to buckets encrypted with SSE-S3" in props(bucket)["tags"]["golive:exempt:s3-bucket-encryption-kms"]
    pab = props(attached["BucketPublicAccessBlock"])
    assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (lifecycle,) = props(attached["BucketLifecycleConfiguration"])["rules"]
    assert lifecycle["status"] == "Enabled" and lifecycle["expiration"]["days"] == 365
    assert props(attached["BucketOwnershipControls"])["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    assert bucket["options"]["protect"] is True


def test_access_log_bucket_policy_lets_elb_write_and_denies_plain_http(prod):
    bucket = prod.by_urn()[deps(one(prod, LB), "accessLogs")[0]]
    policy = next(r for r in of_type(prod, "aws:s3/bucketPolicy:BucketPolicy") if deps(r, "bucket") == [bucket["urn"]])
    statements = {s["Sid"]: s for s in json.loads(props(policy)["policy"])["Statement"]}
    write = statements["ElbAccessLogDelivery"]
    assert write["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}  # Elastic Load Balancing in eu-west-1
    assert write["Action"] == "s3:PutObject" and write["Resource"].endswith("/alb/AWSLogs/123456789012/*")
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_newer_regions_use_the_log_delivery_service_principal():
    (statement,) = access_log_writer(AwsAccount("123456789012", "ap-southeast-5"))("arn:aws:s3:::logs")
    assert statement["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    (legacy,) = access_log_writer(AwsAccount("123456789012", "us-east-1"))("arn:aws:s3:::logs")
    assert legacy["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}


# --------------------------------------------------------------------------- certificate and listeners


def test_certificate_covers_the_domain_and_every_public_host(prod):
    cert = one(prod, "aws:acm/certificate:Certificate")
    p = props(cert)
    assert p["validationMethod"] == "DNS"
    assert p["domainName"] == "golive.example.com" and set(p["subjectAlternativeNames"]) == PROD_HOSTS


def test_certificate_is_validated_by_records_in_the_configured_zone(prod):
    cert = one(prod, "aws:acm/certificate:Certificate")
    records = [r for r in in_edge(prod, RECORD) if "cert-validation" in r["name"]]
    assert len(records) == 4  # the domain and three hosts
    assert all(props(r)["zoneId"] == "Z04517273E4FT0EXAMPLE" and props(r)["type"] == "CNAME" for r in records)
    assert all(props(r)["records"][0].endswith(".acm-validations.aws.") and deps(r, "name") == [cert["urn"]] for r in records)
    validation = one(prod, "aws:acm/certificateValidation:CertificateValidation")
    assert sorted(deps(validation, "validationRecordFqdns")) == sorted(r["urn"] for r in records)
    assert len(props(validation)["validationRecordFqdns"]) == 4


def test_https_listener_uses_the_validated_certificate_and_a_tls13_policy(prod):
    https = listener(prod, "HTTPS")
    p = props(https)
    assert p["port"] == 443 and p["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    (validation_urn,) = deps(https, "certificateArn")
    assert prod.by_urn()[validation_urn]["type"] == "aws:acm/certificateValidation:CertificateValidation"
    (default,) = p["defaultActions"]
    assert default["type"] == "fixed-response" and default["fixedResponse"]["statusCode"] == "404"


def test_https_listener_sets_the_security_headers(prod):
    p = props(listener(prod, "HTTPS"))
    assert p["routingHttpResponseStrictTransportSecurityHeaderValue"] == "max-age=63072000; includeSubDomains"
    assert p["routingHttpResponseXContentTypeOptionsHeaderValue"] == "nosniff"
    assert p["routingHttpResponseXFrameOptionsHeaderValue"] == "DENY"
    assert "default-src 'self'" in p["routingHttpResponseContentSecurityPolicyHeaderValue"]
    assert p["routingHttpResponseServerEnabled"] is False


def test_timeout_csp_hsts_and_tls_policy_come_from_config(catalog_synth):
    # catalog_synth sets idleTimeoutSeconds 120, its own CSP, a one-year HSTS and the TLS 1.3-only policy.
    assert props(one(catalog_synth, LB))["idleTimeout"] == 120
    p = props(listener(catalog_synth, "HTTPS"))
    assert p["routingHttpResponseContentSecurityPolicyHeaderValue"] == "default-src 'none'"
    assert p["routingHttpResponseStrictTransportSecurityHeaderValue"] == "max-age=31536000; includeSubDomains"
    assert p["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-3-2021-06"


def test_http_listener_only_redirects_to_https(prod):
    http = listener(prod, "HTTP")
    (action,) = props(http)["defaultActions"]
    assert props(http)["port"] == 80
    assert action == {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    assert not [r for r in of_type(prod, RULE) if deps(r, "listenerArn") == [http["urn"]]]


# --------------------------------------------------------------------------- physical names

# ELB: 1-32 letters, digits and hyphens, no hyphen at either end, not starting with "internal-".
ELB_NAME = re.compile(r"(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?")


def test_every_target_group_and_the_alb_have_an_explicit_name_elb_accepts(prod):
    """Auto-names (logical name + 8) would exceed 32 characters, which Pulumi refuses at preview."""
    records = of_type(prod, TG) + of_type(prod, LB)
    assert len(records) == 7
    names = [props(r).get("name") for r in records]
    assert all(name and len(name) <= 32 and ELB_NAME.fullmatch(name) for name in names), names
    assert len(set(names)) == len(names)
    canary = groups_by_role(prod, "canary")["listings-service"]
    assert re.fullmatch(r"listings-service-canary-[0-9a-f]{6}", props(canary)["name"])


LONG_CATALOG = [
    {"name": f"settlement-reconciliation-{n}", "host": f"{n}.golive.example.com", "delivery": delivery,
     **({"previewHost": f"{n}-preview.golive.example.com"} if delivery == "blueGreen" else {})}
    for n, delivery in (("alpha", "canary"), ("beta", "canary"), ("gamma", "blueGreen"), ("delta", "blueGreen"))
]


def test_long_service_names_get_unique_names_within_32(synth_program):
    result = synth_program(edge_program(LONG_CATALOG))
    groups = of_type(result, TG)
    assert len(groups) == 8  # stable + canary or preview for each
    names = [props(g)["name"] for g in groups]
    assert all(len(n) <= 32 and ELB_NAME.fullmatch(n) for n in names), names
    assert len(set(names)) == 8 and len({n[:25] for n in names}) == 1  # same readable prefix, told apart by the hash


def test_lb_names_are_stable_and_change_with_what_replaces_the_resource():
    name = lb_name("trading-api", "golive", "prod", "golive-trading-api-tg", "ip", "HTTP", "HTTP1", 8080)
    assert name == lb_name("trading-api", "golive", "prod", "golive-trading-api-tg", "ip", "HTTP", "HTTP1", 8080)
    assert name.startswith("trading-api-") and len(name) == len("trading-api-") + 6
    # A new port replaces the target group: a new name lets Pulumi create it before deleting the old one.
    assert name != lb_name("trading-api", "golive", "prod", "golive-trading-api-tg", "ip", "HTTP", "HTTP1", 8081)
    # Another stack in the same account and region must not collide.
    assert name != lb_name("trading-api", "golive", "staging", "golive-trading-api-tg", "ip", "HTTP", "HTTP1", 8080)
    assert ELB_NAME.fullmatch(lb_name("internal-tools_v2" + "x" * 40, "prod"))
    assert len(lb_name("a" * 100)) == 32


# --------------------------------------------------------------------------- routing from the catalog


def test_one_ip_target_group_per_public_service_and_one_for_its_canary(prod):
    groups = in_edge(prod, TG)
    stable, canary = groups_by_role(prod, "stable"), groups_by_role(prod, "canary")
    assert sorted(stable) == sorted(canary) == ["listings-service", "signal-service", "trading-api"]  # every prod service is canary
    assert len(groups) == 6
    for g in groups:
        p = props(g)
        assert p["targetType"] == "ip" and p["protocol"] == "HTTP" and p["port"] == 8080
        assert p["healthCheck"]["path"] == "/ready" and p["healthCheck"]["enabled"] is True


def test_catalog_target_groups_health_check_each_readiness_path(catalog_synth):
    groups = {svc: props(g) for svc, g in groups_by_role(catalog_synth, "stable").items()}
    assert set(groups) == {"web", "api", "api-v2", "admin"}  # the internal worker gets no public route
    assert groups["web"]["healthCheck"]["path"] == "/healthz" and groups["web"]["port"] == 3000
    assert groups["api-v2"]["port"] == 8081


def test_listener_rule_priorities_are_unique_and_most_specific_first(catalog_synth):
    rules = {props(r)["tags"]["golive:service"]: r for r in of_type(catalog_synth, RULE)}
    priorities = [props(r)["priority"] for r in rules.values()]
    assert len(set(priorities)) == len(priorities) == 4
    p = {svc: props(r)["priority"] for svc, r in rules.items()}
    assert p["api-v2"] < p["api"] < p["web"]


def test_listener_rules_match_host_and_path_and_forward_to_their_own_group(catalog_synth):
    https = listener(catalog_synth, "HTTPS")
    groups, canaries = groups_by_role(catalog_synth, "stable"), groups_by_role(catalog_synth, "canary")
    for rule in of_type(catalog_synth, RULE):
        svc = props(rule)["tags"]["golive:service"]
        assert deps(rule, "listenerArn") == [https["urn"]]
        (action,) = props(rule)["actions"]
        assert action["type"] == "forward"
        if svc == "admin":  # delivery none: a plain forward
            assert deps(rule, "actions") == [groups[svc]["urn"]] and "forward" not in action
            continue
        # canary (the default): both groups, all traffic on the stable one until Argo Rollouts moves it
        assert sorted(deps(rule, "actions")) == sorted([groups[svc]["urn"], canaries[svc]["urn"]])
        assert [t["weight"] for t in action["forward"]["targetGroups"]] == [100, 0]
        assert props(rule)["tags"]["golive:delivery"] == "canary"
    conditions = {props(r)["tags"]["golive:service"]: props(r)["conditions"] for r in of_type(catalog_synth, RULE)}
    assert conditions["web"] == [{"hostHeader": {"values": ["app.golive.example.com"]}}]
    assert conditions["api"][1] == {"pathPattern": {"values": ["/api", "/api/*"]}}
    assert conditions["api-v2"][1] == {"pathPattern": {"values": ["/api/v2", "/api/v2/*"]}}


def test_routes_are_a_pure_function_of_the_catalog():
    services = [ServiceConfig(name=f"s{i}", host="a.example.com", path_prefix=f"/p{i}") for i in range(30)]
    result = routes(services)
    assert len({r.priority for r in result}) == 30 and all(r.priority >= 1 for r in result)
    assert routes([ServiceConfig(name="internal")]) == []


def test_every_public_host_gets_an_alias_to_the_alb(prod):
    alb = one(prod, LB)
    aliases = [r for r in in_edge(prod, RECORD) if props(r)["type"] == "A"]
    assert {props(r)["name"] for r in aliases} == PROD_HOSTS
    for record in aliases:
        (alias,) = props(record)["aliases"]
        assert alias == {"name": prod.outputs["loadBalancerDnsName"], "zoneId": "Z32O12XQLNTSW2", "evaluateTargetHealth": True}
        assert props(record)["zoneId"] == "Z04517273E4FT0EXAMPLE"
        assert deps(record, "aliases") == [alb["urn"]]


# --------------------------------------------------------------------------- load balancer controller


def test_controller_release_is_pinned_and_uses_its_irsa_role(prod):
    (release,) = [r for r in of_type(prod, RELEASE) if props(r)["chart"] == "aws-load-balancer-controller"]
    p = props(release)
    assert p["version"] == "1.17.1" and p["repositoryOpts"] == {"repo": "https://aws.github.io/eks-charts"}
    assert p["namespace"] == "kube-system"
    values = p["values"]
    assert values["clusterName"] == prod.outputs["clusterName"] and values["region"] == "eu-west-1"
    assert values["enableWafv2"] is False and values["createIngressClassResource"] is False
    sa = values["serviceAccount"]
    assert sa["name"] == "aws-load-balancer-controller"
    (role_urn,) = [u for u in deps(release, "values") if "aws:iam/role:Role" in u]
    role = prod.by_urn()[role_urn]
    assert sa["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::123456789012:role/golive-lb-controller")
    trust = json.loads(props(role)["assumeRolePolicy"])["Statement"][0]
    assert list(trust["Condition"]["StringEquals"].values())[0] == "system:serviceaccount:kube-system:aws-load-balancer-controller"


def test_controller_may_register_targets_only_in_the_edge_target_groups(prod):
    role_policy = next(r for r in of_type(prod, "aws:iam/rolePolicy:RolePolicy") if "lb-controller" in r["name"])
    statements = {s["Sid"]: s for s in json.loads(props(role_policy)["policy"])["Statement"]}
    register = statements["RegisterPodsInEdgeTargetGroups"]
    assert len(register["Resource"]) == 6 and all(":targetgroup/" in arn for arn in register["Resource"])  # stable and canary
    vpc = one(prod, "aws:ec2/vpc:Vpc")
    assert set(deps(role_policy, "policy")) == {g["urn"] for g in in_edge(prod, TG)} | {vpc["urn"]}
    # Actions that take a resource ARN get one; only describe calls (no resource-level permissions) use "*",
    # and only in the stack's region.
    assert statements["ReadSecurityGroupsOfTheVpc"]["Resource"].startswith("arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-")
    unscoped = [s for s in statements.values() if s["Resource"] == "*"]
    assert [s["Sid"] for s in unscoped] == ["Describe"]
    assert unscoped[0]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    every_action = [a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not [a for a in every_action if a.split(":")[1].startswith(("Create", "Delete", "Modify", "Authorize", "Revoke"))]
    assert all(a.split(":")[1].startswith("Describe") for a in statements["Describe"]["Action"])


def test_controller_policy_without_public_services_grants_no_registration():
    policy = controller_policy([], AwsAccount("123456789012", "eu-west-1"), "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1")
    assert [s["Sid"] for s in policy["Statement"]] == ["Describe", "ReadSecurityGroupsOfTheVpc"]


def test_one_target_group_binding_per_service_in_its_namespace(prod):
    bindings = {props(b)["metadata"]["name"]: b for b in of_type(prod, TGB)}
    services = {"signal-service", "listings-service", "trading-api"}
    assert set(bindings) == services | {f"{svc}-canary" for svc in services}
    release = next(r for r in of_type(prod, RELEASE) if props(r)["chart"] == "aws-load-balancer-controller")
    groups, canaries = groups_by_role(prod, "stable"), groups_by_role(prod, "canary")
    for svc, binding in bindings.items():
        if svc.endswith("-canary"):
            base = svc.removesuffix("-canary")
            assert props(binding)["spec"]["serviceRef"] == {"name": svc, "port": 8080}
            assert props(binding)["metadata"]["namespace"] == base and deps(binding, "spec") == [canaries[base]["urn"]]
            continue
        p = props(binding)
        assert p["apiVersion"] == "elbv2.k8s.aws/v1beta1" and p["kind"] == "TargetGroupBinding"
        assert p["metadata"]["namespace"] == svc
        assert p["spec"]["serviceRef"] == {"name": svc, "port": 8080} and p["spec"]["targetType"] == "ip"
        assert deps(binding, "spec") == [groups[svc]["urn"]]
        assert release["urn"] in binding["options"]["dependsOn"]
        assert any(u.endswith(f"::golive-{svc}") and "Namespace" in u for u in deps(binding, "metadata"))


# --------------------------------------------------------------------------- config


def test_no_domain_means_no_edge(synth_config):
    services = [{"name": "worker"}]
    result = synth_config({"services": services}, remove=("edge",))
    assert not of_type(result, EDGE) and not of_type(result, LB)


@pytest.mark.parametrize(
    "raw, key, rule",
    [
        ({"edge": {"domain": "example.com", "hostedZoneId": "Z1"}, "services": [{"name": "a", "host": "a.example.org"}]},
         "golive:services[0].host", "must be example.com or a name under it"),
        ({"services": [{"name": "a", "host": "a.example.org"}]}, "golive:services[0].host", "needs golive:edge.domain"),
        ({"edge": {"domain": "example.com", "hostedZoneId": "Z1"},
          "services": [{"name": "a", "host": "a.example.com", "pathPrefix": "/api"},
                       {"name": "b", "host": "a.example.com", "pathPrefix": "/api/"}]},
         "golive:services[1].pathPrefix", "already routed to services[0]"),
        ({"edge": {"domain": "example.com"}}, "golive:edge.hostedZoneId", "required when a domain is set"),
        ({"edge": {"domain": "Example.com", "hostedZoneId": "Z1"}}, "golive:edge.domain", "lowercase DNS name"),
        ({"edge": {"tlsPolicy": "ELBSecurityPolicy-2016-08"}}, "golive:edge.tlsPolicy", "TLS 1.2+ policy"),
        ({"edge": {"hstsMaxAgeSeconds": 86400}}, "golive:edge.hstsMaxAgeSeconds", "at least 31536000"),
        ({"edge": {"idleTimeoutSeconds": 0}}, "golive:edge.idleTimeoutSeconds", "1 to 4000"),
        ({"edge": {"contentSecurityPolicy": " "}}, "golive:edge.contentSecurityPolicy", "non-empty"),
        ({"edge": {"accessLogExpiryDays": 30}}, "golive:edge.accessLogExpiryDays", "at least 90 days"),
        ({"edge": {"controllerChartVersion": "latest"}}, "golive:edge.controllerChartVersion", "exact chart version"),
    ],
)
def test_edge_config_errors_name_the_key_and_the_rule(raw, key, rule):
    with pytest.raises(ConfigError) as err:
        parse(raw)
    rendered = [p.render() for p in err.value.problems]
    assert any(line.startswith(f"{key} = ") and rule in line for line in rendered), rendered


def test_hosts_equal_to_the_domain_are_accepted():
    config = parse({"edge": {"domain": "example.com", "hostedZoneId": "Z1"}, "services": [{"name": "a", "host": "example.com"}]})
    assert config.edge.public_hosts(config.services) == ("example.com",)
