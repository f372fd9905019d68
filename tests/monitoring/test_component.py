"""The Monitoring and Logging components as they synthesize: in isolation (stand-ins) and in the prod stack."""

from __future__ import annotations

import json
import re

import pulumi
import pytest
import yaml

from components.config import ConfigError, parse
from tests.helpers import of_type, one, props

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
DOMAIN = "aws:opensearch/domain:Domain"
OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
OIDC_ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"


def standalone():
    import pulumi_kubernetes as k8s

    from components import config as c
    from components.monitoring import Monitoring, MonitoringArgs

    cfg, secrets = c.load()
    provider = k8s.Provider("k8s", kubeconfig="{}")
    Monitoring(
        "mon",
        MonitoringArgs(
            config=cfg.monitoring, services=cfg.services, account=cfg.aws, oidc_provider_arn=OIDC_ARN, oidc_issuer=OIDC_ISSUER,
            database_address="golive-db.abc.eu-west-1.rds.amazonaws.com", cache_endpoint="master.golive-cache.abc.euw1.cache.amazonaws.com",
            cache_auth_token=pulumi.Output.secret("token"), pagerduty_routing_key=secrets.get("pagerdutyRoutingKey"),
            slack_webhook_url=secrets.get("slackWebhookUrl"), smtp_password=secrets.get("smtpPassword"), cluster_name="golive-prod",
        ),
        opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
    )


@pytest.fixture(scope="module")
def mon():
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config()
    return engine.synth("prod", config=config, secret_keys=secret_keys, program=standalone)


def release(synth, chart):
    return next(r for r in of_type(synth, RELEASE) if props(r)["chart"] == chart)


def test_resource_counts(mon):
    counts = {}
    for r in mon.resources:
        counts[r["type"]] = counts.get(r["type"], 0) + 1
    assert counts[RELEASE] == 5
    # 8 platform groups (services, data, kubernetes, edge, backup, absence, logging, meta) and one SLO group per service.
    assert counts[RULE] == 8 + 4
    assert counts["kubernetes:core/v1:ConfigMap"] == 6
    assert counts["kubernetes:monitoring.coreos.com/v1:ServiceMonitor"] == 4
    # http, tls and dns for the 3 public services, http for the internal config-service, TCP to the database and the cache.
    assert counts["kubernetes:monitoring.coreos.com/v1:Probe"] == 3 * 3 + 1 + 2
    component = one(mon, "golive:monitoring:Monitoring")
    assert all(r["parent"] == component["urn"] for r in mon.resources if r["type"] not in ("golive:monitoring:Monitoring", "pulumi:providers:kubernetes")
               and not r["name"].endswith("-policy-0"))


def test_stack_values(mon):
    stack = release(mon, "kube-prometheus-stack")
    p = props(stack)
    assert p["name"] == "kube-prometheus-stack" and p["version"] == "87.15.2" and p["namespace"] == "monitoring"
    assert p["repositoryOpts"]["repo"] == "https://prometheus-community.github.io/helm-charts"
    spec = p["values"]["prometheus"]["prometheusSpec"]
    assert (spec["replicas"], spec["scrapeInterval"], spec["retention"], spec["retentionSize"]) == (2, "15s", "35d", "100GB")
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "gp3-encrypted"
    assert spec["ruleSelectorNilUsesHelmValues"] is False and spec["probeSelectorNilUsesHelmValues"] is False
    am = p["values"]["alertmanager"]
    assert am["alertmanagerSpec"]["replicas"] == 3 and am["alertmanagerSpec"]["secrets"] == ["alertmanager-receivers"]
    assert am["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert am["config"]["route"]["group_by"] == ["alertname", "service"]
    grafana = p["values"]["grafana"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin" and grafana["persistence"]["enabled"] is True
    assert grafana["sidecar"]["dashboards"]["label"] == "grafana_dashboard"
    assert stack["secretInputs"] == []


def test_secrets_are_secret_and_never_in_values(mon):
    for name in ("mon-grafana-admin", "mon-alertmanager-receivers", "mon-postgres-exporter", "mon-redis-exporter"):
        assert one(mon, SECRET, name)["secretInputs"] == ["stringData"]
    text = json.dumps([props(r) for r in of_type(mon, RELEASE)])
    assert "offline-placeholder" not in text and "token" not in re.sub(r"auth-token", "", text)


def test_rules_are_labelled_for_the_release(mon):
    for rule in of_type(mon, RULE):
        assert props(rule)["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        for group in props(rule)["spec"]["groups"]:
            for r in group["rules"]:
                if "alert" in r:
                    assert {"severity", "service"} <= set(r["labels"]) and {"summary", "runbook_url"} <= set(r["annotations"])


def test_dashboards_are_configmaps_for_the_sidecar(mon):
    maps = of_type(mon, "kubernetes:core/v1:ConfigMap")
    for cm in maps:
        assert props(cm)["metadata"]["labels"] == {"grafana_dashboard": "1"}
        (body,) = props(cm)["data"].values()
        assert json.loads(body)["uid"].startswith("golive-")


# The scrape settings of the prod catalog, from the services' reports: (path, container port, interval).
SCRAPES = {
    "signal-service": ("/api/v1/metrics", 8080, "15s"),  # "Prometheus metrics (/api/v1/metrics, 15s scrape)"
    "listings-service": ("/metrics", 8086, "15s"),  # "Listings service (HTTP :8086/metrics)", "15s for services"
    "trading-api": ("/metrics", 8080, "15s"),
    "config-service": ("/metrics", 8100, "15s"),  # CONFIG_SERVICE_URL=http://config-service:8100
}


def test_service_monitors_and_probes_cover_the_catalog(mon):
    monitors = {props(r)["metadata"]["name"]: props(r)["spec"] for r in of_type(mon, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")}
    assert set(monitors) == set(SCRAPES)
    for name, (path, port, interval) in SCRAPES.items():
        (endpoint,) = monitors[name]["endpoints"]
        assert (endpoint["path"], endpoint["targetPort"], endpoint["interval"], endpoint["scrapeTimeout"]) == (path, port, interval, "10s")
        assert monitors[name]["namespaceSelector"] == {"matchNames": [name]}
        keep, job, service = endpoint["relabelings"]
        # Canary services scrape through <service>-metrics only: the traffic Services select the same pods.
        assert keep == {"action": "keep", "sourceLabels": ["__meta_kubernetes_service_name"], "regex": f"{name}-metrics"}
        assert job == {"action": "replace", "targetLabel": "job", "replacement": name}
        assert service == {"action": "replace", "targetLabel": "service", "replacement": name}
    probes = {props(r)["metadata"]["name"]: props(r)["spec"] for r in of_type(mon, "kubernetes:monitoring.coreos.com/v1:Probe")}
    assert probes["trading-api-http"]["targets"]["staticConfig"]["static"] == ["https://trading.golive.example.com/health"]
    assert probes["trading-api-tls"]["module"] == "tls_connect"
    assert probes["config-service-http"]["targets"]["staticConfig"]["static"] == ["http://config-service.config-service.svc.cluster.local:8100/health"]
    assert "config-service-tls" not in probes
    assert probes["database-tcp"]["targets"]["staticConfig"]["static"] == ["golive-db.abc.eu-west-1.rds.amazonaws.com:5432"]
    modules = props(release(mon, "prometheus-blackbox-exporter"))["values"]["config"]["modules"]
    assert {"http_2xx", "tcp_connect", "tls_connect", "icmp", "dns_trading-api"} <= set(modules)


def test_exporters_read_credentials_from_secrets(mon):
    pg = props(release(mon, "prometheus-postgres-exporter"))["values"]["config"]["datasource"]
    assert pg["passwordSecret"] == {"name": "postgres-exporter-credentials", "key": "password"} and pg["sslmode"] == "require"
    redis = props(release(mon, "prometheus-redis-exporter"))["values"]
    assert redis["redisAddress"].startswith("rediss://master.golive-cache") and redis["auth"]["secret"]["name"] == "redis-exporter-auth"


def test_cloudwatch_exporter_has_an_irsa_role(mon):
    role = one(mon, "aws:iam/role:Role", "cloudwatch-exporter")
    trust = json.loads(props(role)["assumeRolePolicy"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"] == "system:serviceaccount:monitoring:cloudwatch-exporter"
    values = props(release(mon, "prometheus-yet-another-cloudwatch-exporter"))["values"]
    assert values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::123456789012:role/mon-cloudwatch-exporter")
    jobs = {j["type"]: j for j in yaml.safe_load(values["config"])["discovery"]["jobs"]}
    assert set(jobs) == {"AWS/RDS", "AWS/ElastiCache", "AWS/ApplicationELB", "AWS/WAFV2", "AWS/Backup", "AWS/ES"}
    es = {(m["name"], m["statistics"][0]) for m in jobs["AWS/ES"]["metrics"]}
    # What the OpenSearch health alerts read (aws_es_cluster_status_red_maximum, …, aws_es_free_storage_space_minimum).
    assert {("ClusterStatus.red", "Maximum"), ("ClusterStatus.yellow", "Maximum"), ("ClusterIndexWritesBlocked", "Maximum"),
            ("FreeStorageSpace", "Minimum")} <= es
    policy = json.loads(props(one(mon, "aws:iam/rolePolicy:RolePolicy"))["policy"])
    assert all(a.split(":")[1].startswith(("Get", "List")) for a in policy["Statement"][0]["Action"])


# --------------------------------------------------------------------------- prod stack


def test_prod_stack_has_the_monitoring_subtree(prod):
    component = one(prod, "golive:monitoring:Monitoring")
    assert len(prod.children_of(component["urn"])) >= 40
    assert one(prod, "golive:monitoring:Logging")


def test_opensearch_domain(prod):
    domain = props(one(prod, DOMAIN))
    assert domain["clusterConfig"]["zoneAwarenessEnabled"] is True
    assert domain["clusterConfig"]["zoneAwarenessConfig"]["availabilityZoneCount"] == 3
    assert domain["clusterConfig"]["dedicatedMasterEnabled"] is True and domain["clusterConfig"]["dedicatedMasterCount"] == 3
    assert domain["encryptAtRest"]["enabled"] is True and domain["encryptAtRest"]["kmsKeyId"].startswith("arn:aws:kms:")
    assert domain["nodeToNodeEncryption"]["enabled"] is True
    assert domain["domainEndpointOptions"] == {"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"}
    assert len(domain["vpcOptions"]["subnetIds"]) == 3
    assert {o["logType"] for o in domain["logPublishingOptions"]} == {"AUDIT_LOGS", "ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS"}
    record = one(prod, DOMAIN)
    assert record["options"]["protect"] is True and "advancedSecurityOptions.masterUserOptions.masterUserPassword" in record["secretInputs"]


def test_fluent_bit_ships_to_the_domain_with_sigv4(prod):
    values = props(next(r for r in of_type(prod, RELEASE) if props(r)["chart"] == "fluent-bit"))["values"]
    assert values["kind"] == "DaemonSet"
    assert "AWS_Auth On" in values["config"]["outputs"] and "Port 443" in values["config"]["outputs"]
    assert values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::123456789012:role/")


def test_fluent_bit_waits_for_the_kube_prometheus_stack_release(prod):
    """The chart renders its ServiceMonitor only if the monitoring.coreos.com CRDs exist when it installs."""
    fluent_bit = release(prod, "fluent-bit")
    stack = release(prod, "kube-prometheus-stack")
    namespace = one(prod, "kubernetes:core/v1:Namespace", "golive-namespace")
    assert props(fluent_bit)["values"]["serviceMonitor"]["enabled"] is True
    assert {stack["urn"], namespace["urn"]} <= set(fluent_bit["options"]["dependsOn"])


# fluent-bit 0.47.x templates/servicemonitor.yaml: `labels:` = the chart's labels + `toYaml .Values.serviceMonitor.selector`.
# The chart has no `serviceMonitor.additionalLabels`; a label put there never reaches the ServiceMonitor.
FLUENT_BIT_SERVICE_MONITOR_LABEL_KEYS = ("selector",)


def test_fluent_bit_labels_its_service_monitor_through_the_key_the_chart_reads(prod):
    values = props(release(prod, "fluent-bit"))["values"]["serviceMonitor"]
    stack = release(prod, "kube-prometheus-stack")
    label_keys = [k for k in values if k not in ("enabled", "interval", "path", "namespace")]
    assert label_keys == list(FLUENT_BIT_SERVICE_MONITOR_LABEL_KEYS)
    assert values["selector"] == {"release": props(stack)["name"]}


def test_the_vpc_domain_waits_for_the_opensearch_service_linked_role(prod):
    """A domain in a VPC needs AWSServiceRoleForAmazonOpenSearchService; the domain API does not create it."""
    domain = one(prod, DOMAIN)
    (role,) = [r for r in of_type(prod, "aws:iam/serviceLinkedRole:ServiceLinkedRole")
               if props(r)["awsServiceName"] == "opensearchservice.amazonaws.com"]
    assert props(domain)["vpcOptions"]["subnetIds"] and role["urn"] in domain["options"]["dependsOn"]


def logging_alone():
    import pulumi_kubernetes as k8s

    from components import config as c
    from components.logging import Logging, LoggingArgs

    cfg, _ = c.load()
    provider = k8s.Provider("k8s", kubeconfig="{}")
    crds = k8s.core.v1.ConfigMap("stand-in-crds", metadata={"name": "crds", "namespace": "monitoring"},
                                 opts=pulumi.ResourceOptions(provider=provider))
    Logging(
        "solo",
        LoggingArgs(
            config=cfg.monitoring.logs, account=cfg.aws, vpc_id="vpc-0123456789abcdef0", vpc_cidr="10.20.0.0/16",
            subnet_ids=["subnet-0a", "subnet-0b", "subnet-0c"], client_security_group_id="sg-0123456789abcdef0",
            oidc_provider_arn=OIDC_ARN, oidc_issuer=OIDC_ISSUER, chart_version=cfg.monitoring.charts.fluent_bit, after=[crds],
        ),
        opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
    )


def test_logging_release_depends_on_what_after_names(synth_program):
    result = synth_program(logging_alone)
    crds = one(result, "kubernetes:core/v1:ConfigMap", "stand-in-crds")
    assert crds["urn"] in release(result, "fluent-bit")["options"]["dependsOn"]


def test_opensearch_log_groups_and_master_secret_are_protected(prod):
    groups = [g for g in of_type(prod, "aws:cloudwatch/logGroup:LogGroup")
              if g["name"].startswith("golive-logs-") and not g["name"].endswith("-rotation")]
    assert {g["name"] for g in groups} == {f"golive-logs-{s}" for s in ("audit", "application", "index-slow", "search-slow")}
    assert all(g["options"]["protect"] is True for g in groups)
    assert one(prod, "aws:secretsmanager/secret:Secret", "golive-logs-master")["options"]["protect"] is True


def test_production_without_receiver_secrets_is_refused(synth_config):
    with pytest.raises(ConfigError) as err:
        synth_config(remove=("pagerdutyRoutingKey",))
    assert [p.key for p in err.value.problems] == ["golive:pagerdutyRoutingKey"]


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("monitoring", "key", "rule"),
    [
        ({"retention": "7d"}, "golive:monitoring.retention", "at least 15d"),
        ({"platformAlerts": {"redisDown": {"for": "5"}}}, "golive:monitoring.platformAlerts.redisDown.for", "a duration"),
        ({"platformAlerts": {"memoryWarning": {"threshold": 0.95}}}, "golive:monitoring.platformAlerts.memoryWarning.threshold",
         "below memoryCritical.threshold"),
        ({"platformAlerts": {"opensearchRed": {"priority": "P3"}}}, "golive:monitoring.platformAlerts.opensearchRed.priority",
         "a critical alert pages"),
        ({"retentionSize": "140GB"}, "golive:monitoring.retentionSize", "below 90% of prometheusVolumeSize"),
        ({"prometheusReplicas": 1}, "golive:monitoring.prometheusReplicas", "at least 2"),
        ({"scrapeInterval": "1s"}, "golive:monitoring.scrapeInterval", "5s to 5m"),
        ({"charts": {"kubePrometheusStack": "^87"}}, "golive:monitoring.charts.kubePrometheusStack", "exact chart version"),
        ({"alerting": {"emailTo": "oncall"}}, "golive:monitoring.alerting.emailTo", "e-mail address"),
        ({"alerting": {"slackChannelCritical": "alerts"}}, "golive:monitoring.alerting.slackChannelCritical", "Slack channel"),
        ({"logs": {"instanceCount": 2}}, "golive:monitoring.logs.instanceCount", "multiple of 3"),
        ({"logs": {"dedicatedMasters": False}}, "golive:monitoring.logs.dedicatedMasters", "dedicated masters"),
        ({"logs": {"indexRetentionDays": 30}}, "golive:monitoring.logs.indexRetentionDays", "at least 90 days"),
    ],
)
def test_config_errors_name_the_key_and_rule(monitoring, key, rule):
    with pytest.raises(ConfigError) as err:
        parse({"monitoring": monitoring})
    assert any(p.key == key and rule in p.rule for p in err.value.problems), str(err.value)


def test_config_defaults_are_production_grade():
    cfg = parse({}).monitoring
    assert (cfg.retention, cfg.retention_size, cfg.prometheus_replicas, cfg.alertmanager_replicas, cfg.scrape_interval) == (
        "35d", "100GB", 2, 3, "15s")
    staging = parse({"environment": "staging", "monitoring": {"prometheusReplicas": 1, "retention": "3d"}}).monitoring
    assert staging.prometheus_replicas == 1


def test_retention_shorter_than_the_slo_window_is_refused_when_services_exist():
    with pytest.raises(ConfigError) as err:
        parse({"services": [{"name": "orders"}], "monitoring": {"retention": "15d"}})
    (problem,) = err.value.problems
    assert problem.key == "golive:monitoring.retention" and "SLO window (30d)" in problem.rule
    assert parse({"services": [{"name": "orders"}], "monitoring": {"retention": "30d"}}).monitoring.retention == "30d"
    assert parse({"monitoring": {"retention": "15d"}}).monitoring.retention == "15d"


@pytest.mark.parametrize(
    ("service", "key", "rule"),
    [
        ({"metrics": {"path": "metrics"}}, "metrics.path", "absolute URL path"),
        ({"metrics": {"interval": "2m"}}, "metrics.interval", "5s to 1m"),
        ({"metrics": {"port": 70000}}, "metrics.port", "TCP port"),
        ({"alerting": {"errorRateWarning": {"threshold": 1.5}}}, "alerting.errorRateWarning.threshold", "strictly between 0 and 1"),
        ({"alerting": {"errorRateWarning": {"threshold": 0.2}}}, "alerting.errorRateWarning.threshold", "below errorRateCritical"),
        ({"alerting": {"circuitBreaker": {"severity": "critical"}}}, "alerting.circuitBreaker.priority", "a critical alert pages"),
        ({"alerting": {"serviceDown": {"for": "2d"}}}, "alerting.serviceDown.for", "at most 1d"),
        ({"alerting": {"availabilityAtRisk": {"threshold": 0.1}}, "slo": {"availability": 99.95}},
         "alerting.availabilityAtRisk.threshold", "reaches 100%"),
    ],
)
def test_catalog_scrape_and_alerting_errors_name_the_key(service, key, rule):
    with pytest.raises(ConfigError) as err:
        parse({"services": [{"name": "orders", **service}]})
    assert any(p.key == f"golive:services[0].{key}" and rule in p.rule for p in err.value.problems), str(err.value)


def test_catalog_scrape_defaults_are_the_former_fixed_values():
    (svc,) = parse({"services": [{"name": "orders", "port": 9000}]}).services
    assert (svc.metrics.path, svc.metrics.port_of(svc.port), svc.metrics.interval, svc.metrics.timeout) == ("/metrics", 9000, "15s", "10s")
    assert parse({"services": [{"name": "a", "metrics": {"interval": "5s"}}]}).services[0].metrics.timeout == "5s"
