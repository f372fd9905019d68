"""The monitoring stack on the cluster: kube-prometheus-stack, exporters, rules, dashboards, probes.

Everything Prometheus loads is a labelled object of this component (PrometheusRule,
ServiceMonitor, Probe), and the chart is told to select objects of every release
too (``*SelectorNilUsesHelmValues: false``), so teams can add their own.

Secrets never enter Helm values: Grafana's admin password, the exporters'
credentials and Alertmanager's receiver keys are Kubernetes Secrets marked secret
in Pulumi; the chart references them by name, and Alertmanager reads its keys
from files of the mounted secret (``*_file`` settings). The Alertmanager
configuration itself (routes, receivers, inhibitions) is generated here and
passed as ``alertmanager.config``, which the chart writes into Alertmanager's
config Secret; it holds file paths, never a key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from components.config import AwsAccount, MonitoringConfig, ServiceConfig
from components.helm import chart_release
from components.irsa import service_account_role
from components.monitoring import alertmanager, dashboards, rules

PROMETHEUS_COMMUNITY = "https://prometheus-community.github.io/helm-charts"
STACK_RELEASE = "kube-prometheus-stack"
RULE_API = "monitoring.coreos.com/v1"
CLOUDWATCH_SERVICE_ACCOUNT = "cloudwatch-exporter"
BLACKBOX = "blackbox-exporter"
MONITORING_DB_USER = "golive_monitoring"


@dataclass(frozen=True)
class MonitoringArgs:
    """What the stack watches and where its secrets come from.

    Receiver secrets are secret Outputs (``None`` leaves the receiver's file empty,
    which ``__main__`` refuses in production). The database is watched through a
    read-only ``golive_monitoring`` role whose password this component generates
    (creating the role is a documented manual step, docs/monitoring.md).
    """

    config: MonitoringConfig
    services: tuple[ServiceConfig, ...]
    account: AwsAccount
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    database_address: pulumi.Input[str]
    cache_endpoint: pulumi.Input[str]
    cache_auth_token: pulumi.Input[str]
    pagerduty_routing_key: pulumi.Input[str] | None = None
    slack_webhook_url: pulumi.Input[str] | None = None
    smtp_password: pulumi.Input[str] | None = None
    database_port: int = 5432
    database_name: str = "postgres"
    database_read_replicas: int = 0
    """Read replicas of the database: without any, the replica-lag alert and panel are left out."""
    cache_port: int = 6379
    cluster_name: str = "golive"
    grafana_datasources: Sequence[Mapping[str, Any]] = ()
    """Data sources Grafana gets besides Prometheus and Alertmanager (Jaeger's, components/tracing.py)."""
    exemplar_trace_destination: Mapping[str, Any] | None = None
    """Where the Prometheus data source links an exemplar's trace id (``exemplarTraceIdDestinations``)."""


def _secret(value: pulumi.Input[str] | None) -> pulumi.Output[str]:
    return pulumi.Output.secret(value if value is not None else "")


class Monitoring(pulumi.ComponentResource):
    """Prometheus (HA), Alertmanager (3 replicas), Grafana, exporters, probes, rules and dashboards."""

    release: k8s.helm.v3.Release
    prometheus_rules: dict[str, k8s.apiextensions.CustomResource]
    dashboards: dict[str, k8s.core.v1.ConfigMap]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:monitoring:Monitoring", name, None, opts)
        cfg = args.config
        ns = cfg.namespace
        child = pulumi.ResourceOptions(parent=self)

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": ns,
                # node-exporter and Fluent Bit read the host: the namespace cannot be restricted.
                "labels": {"pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "baseline",
                           "app.kubernetes.io/part-of": "golive"},
            },
            opts=child,
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])

        # --- Grafana admin
        self.grafana_password = random.RandomPassword(f"{name}-grafana-admin", length=32, special=False, opts=child)
        self.grafana_secret = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": "grafana-admin", "namespace": ns},
            string_data={"admin-user": "admin", "admin-password": pulumi.Output.secret(self.grafana_password.result)},
            opts=in_ns,
        )

        # --- Alertmanager: receiver keys as files, config as its own secret
        self.receivers_secret = k8s.core.v1.Secret(
            f"{name}-alertmanager-receivers",
            metadata={"name": "alertmanager-receivers", "namespace": ns},
            string_data={
                alertmanager.PAGERDUTY_KEY: _secret(args.pagerduty_routing_key),
                alertmanager.SLACK_KEY: _secret(args.slack_webhook_url),
                alertmanager.SMTP_KEY: _secret(args.smtp_password),
            },
            opts=in_ns,
        )
        self.alertmanager_config = alertmanager.alertmanager_config(cfg.alerting, "alertmanager-receivers")

        # --- kube-prometheus-stack
        self.release = chart_release(
            f"{name}-kube-prometheus-stack",
            release=STACK_RELEASE,
            chart="kube-prometheus-stack",
            version=cfg.charts.kube_prometheus_stack,
            repo=PROMETHEUS_COMMUNITY,
            namespace=ns,
            timeout=900,
            values=stack_values(
                cfg,
                cluster_name=args.cluster_name,
                grafana_secret=self.grafana_secret.metadata["name"],
                alertmanager_config=self.alertmanager_config,
                receivers_secret=self.receivers_secret.metadata["name"],
                datasources=args.grafana_datasources,
                exemplar_destination=args.exemplar_trace_destination,
            ),
            opts=in_ns,
        )
        crds = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        labels = {"release": STACK_RELEASE, "app.kubernetes.io/part-of": "golive"}

        # --- rules
        self.rule_groups = rules.all_groups(args.services, cfg, read_replicas=args.database_read_replicas)
        base = cfg.alerting.runbook_base_url
        self.prometheus_rules = {
            group.name: k8s.apiextensions.CustomResource(
                f"{name}-rules-{group.name.removeprefix('golive-')}",
                api_version=RULE_API,
                kind="PrometheusRule",
                metadata={"name": group.name, "namespace": ns, "labels": labels},
                spec={"groups": [rules.group_dict(group, base)]},
                opts=crds,
            )
            for group in self.rule_groups
        }

        # --- dashboards
        self.dashboards = {
            uid: k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{uid.removeprefix('golive-')}",
                metadata={"name": f"dashboard-{uid}", "namespace": ns, "labels": {"grafana_dashboard": "1"},
                          "annotations": {"grafana_folder": "golive"}},
                data={f"{uid}.json": json.dumps(model, sort_keys=True)},
                opts=in_ns,
            )
            for uid, model in dashboards.dashboards(args.services, read_replicas=args.database_read_replicas).items()
        }

        # --- the catalog: scrape every service, probe its URL
        self.service_monitors = [
            k8s.apiextensions.CustomResource(
                f"{name}-servicemonitor-{svc.name}",
                api_version=RULE_API,
                kind="ServiceMonitor",
                metadata={"name": svc.name, "namespace": ns, "labels": labels},
                spec=service_monitor_spec(svc),
                opts=crds,
            )
            for svc in args.services
        ]
        blackbox_url = f"{BLACKBOX}.{ns}.svc:9115"
        probes = probe_specs(args.services, blackbox_url, cfg.probe_interval)
        probes.update(
            data_probe_specs(args.database_address, args.database_port, args.cache_endpoint, args.cache_port, blackbox_url, cfg.probe_interval)
        )
        self.probes = {
            probe_name: k8s.apiextensions.CustomResource(
                f"{name}-probe-{probe_name}",
                api_version=RULE_API,
                kind="Probe",
                metadata={"name": probe_name, "namespace": ns, "labels": labels},
                spec=spec,
                opts=crds,
            )
            for probe_name, spec in probes.items()
        }

        # --- exporters
        def release(role: str, chart: str, version: str, values: pulumi.Input[dict]) -> k8s.helm.v3.Release:
            return chart_release(f"{name}-{role}", release=role, chart=chart, version=version, repo=PROMETHEUS_COMMUNITY,
                                 namespace=ns, values=values, opts=crds)

        self.postgres_password = random.RandomPassword(f"{name}-postgres-exporter", length=32, special=False, opts=child)
        self.postgres_secret = k8s.core.v1.Secret(
            f"{name}-postgres-exporter",
            metadata={"name": "postgres-exporter-credentials", "namespace": ns},
            string_data={"username": MONITORING_DB_USER, "password": pulumi.Output.secret(self.postgres_password.result)},
            opts=in_ns,
        )
        self.postgres_exporter = release("postgres-exporter", "prometheus-postgres-exporter", cfg.charts.postgres_exporter, {
            "fullnameOverride": "postgres-exporter",
            "config": {
                "datasource": {
                    "host": args.database_address,
                    "port": str(args.database_port),
                    "database": args.database_name,
                    "sslmode": "require",
                    "userSecret": {"name": self.postgres_secret.metadata["name"], "key": "username"},
                    "passwordSecret": {"name": self.postgres_secret.metadata["name"], "key": "password"},
                },
            },
            "serviceMonitor": {"enabled": True, "labels": labels, "interval": "30s"},
            **_hardened_pod(),
        })

        self.redis_secret = k8s.core.v1.Secret(
            f"{name}-redis-exporter",
            metadata={"name": "redis-exporter-auth", "namespace": ns},
            string_data={"auth-token": pulumi.Output.secret(args.cache_auth_token)},
            opts=in_ns,
        )
        self.redis_exporter = release("redis-exporter", "prometheus-redis-exporter", cfg.charts.redis_exporter, {
            "fullnameOverride": "redis-exporter",
            # rediss://: TLS to ElastiCache (in-transit encryption is required there), verified against public CAs.
            "redisAddress": pulumi.Output.format("rediss://{0}:{1}", args.cache_endpoint, args.cache_port),
            "auth": {"enabled": True, "secret": {"name": self.redis_secret.metadata["name"], "key": "auth-token"}},
            "serviceMonitor": {"enabled": True, "labels": labels, "interval": "30s"},
            **_hardened_pod(),
        })

        self.blackbox_exporter = release("blackbox-exporter", "prometheus-blackbox-exporter", cfg.charts.blackbox_exporter, {
            "fullnameOverride": BLACKBOX,
            "config": {"modules": blackbox_modules(args.services)},
            # ICMP needs raw sockets; everything else stays dropped.
            "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "readOnlyRootFilesystem": True,
                                "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"], "add": ["NET_RAW"]}},
            "serviceMonitor": {"selfMonitor": {"enabled": True, "labels": labels}},
        })

        self.cloudwatch_role = service_account_role(
            f"{name}-cloudwatch-exporter",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer=args.oidc_issuer,
            namespace=ns,
            service_account=CLOUDWATCH_SERVICE_ACCOUNT,
            policy_documents=[cloudwatch_read_policy()],
            account=args.account,
            opts=child,
        )
        self.cloudwatch_exporter = release(
            "cloudwatch-exporter", "prometheus-yet-another-cloudwatch-exporter", cfg.charts.cloudwatch_exporter,
            self.cloudwatch_role.arn.apply(
                lambda arn: {
                    "fullnameOverride": "cloudwatch-exporter",
                    "serviceAccount": {"create": True, "name": CLOUDWATCH_SERVICE_ACCOUNT,
                                       "annotations": {"eks.amazonaws.com/role-arn": arn}},
                    "config": yaml.safe_dump(yace_config(args.account.region), sort_keys=False),
                    "serviceMonitor": {"enabled": True, "labels": labels, "interval": "5m", "timeout": "60s"},
                    **_hardened_pod(),
                }
            ),
        )

        self.grafana_admin_secret_name = self.grafana_secret.metadata["name"]
        self.register_outputs(
            {
                "namespace": ns,
                "releaseName": STACK_RELEASE,
                "prometheusRules": len(self.prometheus_rules),
                "dashboards": sorted(self.dashboards),
                "grafanaAdminSecret": self.grafana_admin_secret_name,
                "cloudwatchExporterRoleArn": self.cloudwatch_role.arn,
            }
        )


# --------------------------------------------------------------------------- values and specs (pure)


def _volume(storage_class: str, size: str) -> dict:
    return {"volumeClaimTemplate": {"spec": {"storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
                                             "resources": {"requests": {"storage": size}}}}}


def _hardened_pod() -> dict:
    return {
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
    }


def stack_values(cfg: MonitoringConfig, *, cluster_name: str, grafana_secret: pulumi.Input[str], alertmanager_config: dict,
                 receivers_secret: pulumi.Input[str], datasources: Sequence[Mapping[str, Any]] = (),
                 exemplar_destination: Mapping[str, Any] | None = None) -> dict:
    """kube-prometheus-stack values: HA Prometheus and Alertmanager on gp3, Grafana with the dashboard sidecar.

    ``alertmanager.config`` holds no secret (receivers read theirs from the mounted
    ``receivers_secret``); the chart writes it into Alertmanager's config Secret. Prometheus
    stores exemplars, and its Grafana data source links their trace ids to ``exemplar_destination``.
    """
    spread = {"podAntiAffinity": "hard", "podAntiAffinityTopologyKey": "topology.kubernetes.io/zone"}
    return {
        "crds": {"enabled": True},
        # EKS runs the control plane: its components cannot be scraped.
        "kubeEtcd": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "defaultRules": {
            "create": True,
            # golive's own rules replace these or their targets do not exist on EKS. `general` holds TargetDown (golive has
            # its own, for every job), a second Watchdog and InfoInhibitor, which would fire forever on golive's info Watchdog.
            "rules": {"etcd": False, "general": False, "kubernetesApps": False, "kubeControllerManager": False,
                      "kubeSchedulerAlerting": False, "kubeSchedulerRecording": False, "kubeProxy": False},
            "additionalRuleLabels": {"service": "kubernetes"},
        },
        "prometheus": {
            "prometheusSpec": {
                "replicas": cfg.prometheus_replicas,
                "scrapeInterval": cfg.scrape_interval,
                "evaluationInterval": cfg.evaluation_interval,
                "retention": cfg.retention,
                "retentionSize": cfg.retention_size,
                "walCompression": True,
                # Exemplars (a trace id on a histogram sample) link latency panels to traces.
                "enableFeatures": ["exemplar-storage"],
                "externalLabels": {"cluster": cluster_name},
                "storageSpec": _volume(cfg.storage_class, cfg.prometheus_volume_size),
                "ruleSelectorNilUsesHelmValues": False,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "probeSelectorNilUsesHelmValues": False,
                "resources": {"requests": {"cpu": "500m", "memory": "4Gi"}, "limits": {"memory": "8Gi"}},
                **spread,
            }
        },
        "alertmanager": {
            "config": alertmanager_config,
            "alertmanagerSpec": {
                "replicas": cfg.alertmanager_replicas,
                "secrets": [receivers_secret],
                "storage": _volume(cfg.storage_class, cfg.alertmanager_volume_size),
                "retention": "120h",
                "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                **spread,
            }
        },
        "grafana": {
            "admin": {"existingSecret": grafana_secret, "userKey": "admin-user", "passwordKey": "admin-password"},
            "persistence": {"enabled": True, "type": "pvc", "storageClassName": cfg.storage_class, "size": cfg.grafana_volume_size},
            "defaultDashboardsTimezone": "utc",
            "sidecar": {
                "dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "ALL",
                               "folderAnnotation": "grafana_folder", "provider": {"foldersFromFilesStructure": True}},
                **({"datasources": {"exemplarTraceIdDestinations": dict(exemplar_destination)}} if exemplar_destination else {}),
            },
            "additionalDataSources": [dict(d) for d in datasources],
            "grafana.ini": {
                "analytics": {"reporting_enabled": False, "check_for_updates": False},
                "auth.anonymous": {"enabled": False},
                "users": {"allow_sign_up": False},
                "security": {"cookie_secure": True, "disable_gravatar": True},
            },
        },
    }


def metrics_service_name(svc: ServiceConfig) -> str:
    """The Service whose endpoints Prometheus scrapes: ``<service>-metrics`` with progressive delivery, else ``<service>``."""
    return svc.name if svc.delivery == "none" else f"{svc.name}-metrics"


def service_monitor_spec(svc: ServiceConfig) -> dict:
    """Scrape the catalog's metrics port, path and interval of each pod, once, through one Service of the namespace.

    ``targetPort`` is the container port (the pod must declare it); the ``keep`` on the Service name stops the traffic
    Services (``<service>``, ``<service>-canary``), which select the same pods, from scraping them twice. ``job`` and
    ``service`` become the catalog name, which ServiceDown and ServiceMetricsAbsent read.
    """
    scrape = svc.metrics
    return {
        "namespaceSelector": {"matchNames": [svc.name]},
        "selector": {},
        "endpoints": [
            {
                "targetPort": scrape.port_of(svc.port),
                "path": scrape.path,
                "interval": scrape.interval,
                "scrapeTimeout": scrape.timeout,
                "relabelings": [
                    {"action": "keep", "sourceLabels": ["__meta_kubernetes_service_name"], "regex": metrics_service_name(svc)},
                    {"action": "replace", "targetLabel": "job", "replacement": svc.name},
                    {"action": "replace", "targetLabel": "service", "replacement": svc.name},
                ],
            }
        ],
    }


def _probe(job: str, module: str, targets: Sequence[pulumi.Input[str]], labels: dict[str, str], prober: str, interval: str) -> dict:
    return {
        "jobName": job,
        "interval": interval,
        "module": module,
        "prober": {"url": prober, "path": "/probe", "scheme": "http"},
        "targets": {"staticConfig": {"static": list(targets), "labels": labels}},
    }


public_url = rules.public_url


def probe_specs(services: Sequence[ServiceConfig], prober: str, interval: str) -> dict[str, dict]:
    """Per service: its health URL (HTTP 2xx), and for public ones the certificate (TLS) and the name (DNS).

    The job names are :func:`rules.probe_jobs`' (each has a ProbeAbsent rule).
    """
    specs: dict[str, dict] = {}
    for svc in services:
        labels = {"service": svc.name}
        specs[f"{svc.name}-http"] = _probe(f"{svc.name}-http", "http_2xx", [public_url(svc)], labels, prober, interval)
        if svc.host:
            specs[f"{svc.name}-tls"] = _probe(f"{svc.name}-tls", "tls_connect", [f"{svc.host}:443"], labels, prober, interval)
            specs[f"{svc.name}-dns"] = _probe(f"{svc.name}-dns", f"dns_{svc.name}", ["kube-dns.kube-system.svc.cluster.local:53"],
                                              labels, prober, interval)
    return specs


def data_probe_specs(db: pulumi.Input[str], db_port: int, cache: pulumi.Input[str], cache_port: int, prober: str,
                     interval: str) -> dict[str, dict]:
    """TCP connect to the database and the cache from inside the cluster (security groups, DNS, failover).

    Only the target address waits for the endpoint; the rest of the spec is known at preview, so policies can
    read it before the database exists.
    """
    return {
        "database-tcp": _probe("database-tcp", "tcp_connect", [pulumi.Output.format("{0}:{1}", db, db_port)],
                               {"service": "database"}, prober, interval),
        "cache-tcp": _probe("cache-tcp", "tcp_connect", [pulumi.Output.format("{0}:{1}", cache, cache_port)],
                            {"service": "cache"}, prober, interval),
    }


def blackbox_modules(services: Sequence[ServiceConfig]) -> dict:
    """HTTP 2xx, TCP connect, ICMP, TLS (certificate expiry) and one DNS module per public host."""
    tls = {"min_version": "TLS12"}
    modules: dict = {
        "http_2xx": {"prober": "http", "timeout": "5s",
                     "http": {"method": "GET", "valid_status_codes": [], "preferred_ip_protocol": "ip4", "follow_redirects": False,
                              "tls_config": tls}},
        "tcp_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4"}},
        "tls_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4", "tls": True, "tls_config": tls}},
        "icmp": {"prober": "icmp", "timeout": "5s", "icmp": {"preferred_ip_protocol": "ip4"}},
    }
    for svc in services:
        if svc.host:
            modules[f"dns_{svc.name}"] = {"prober": "dns", "timeout": "5s",
                                         "dns": {"query_name": svc.host, "query_type": "A", "valid_rcodes": ["NOERROR"],
                                                 "preferred_ip_protocol": "ip4"}}
    return modules


def cloudwatch_read_policy() -> dict:
    """Read-only CloudWatch and tag discovery (these actions take no resource-level ARNs)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadMetrics",
                "Effect": "Allow",
                "Action": ["cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics", "tag:GetResources"],
                "Resource": "*",
            }
        ],
    }


def yace_config(region: str) -> dict:
    """YACE discovery jobs (resources tagged project=golive): RDS, ElastiCache, the ALB, WAF, AWS Backup and OpenSearch.

    Backup job counts read missing datapoints as 0 (``nilToZero``), so "no job
    completed in 26h" is a series of zeros rather than no series at all.
    """

    def metrics(stat: str, *names: str, period: int = 300, nil_to_zero: bool = False) -> list[dict]:
        out = [{"name": n, "statistics": [stat], "period": period, "length": period} for n in names]
        for metric in out:
            if nil_to_zero:
                metric["nilToZero"] = True
        return out

    search = [{"key": "project", "value": "golive"}]
    jobs = [
        {"type": "AWS/RDS", "regions": [region], "searchTags": search, "metrics": metrics(
            "Average", "CPUUtilization", "DatabaseConnections", "FreeStorageSpace", "FreeableMemory", "ReplicaLag", "ReadLatency",
            "WriteLatency")},
        {"type": "AWS/ElastiCache", "regions": [region], "searchTags": search, "metrics": [
            *metrics("Average", "CPUUtilization", "EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "CurrConnections", "CacheHitRate"),
            *metrics("Sum", "Evictions")]},
        {"type": "AWS/ApplicationELB", "regions": [region], "searchTags": search, "metrics": [
            *metrics("Sum", "RequestCount", "HTTPCode_ELB_4XX_Count", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_4XX_Count",
                     "HTTPCode_Target_5XX_Count"),
            *metrics("Average", "TargetResponseTime", "HealthyHostCount", "UnHealthyHostCount")]},
        {"type": "AWS/WAFV2", "regions": [region], "searchTags": search, "metrics": metrics(
            "Sum", "AllowedRequests", "BlockedRequests", "CountedRequests")},
        {"type": "AWS/Backup", "regions": [region], "searchTags": search, "metrics": [
            *metrics("Sum", "NumberOfBackupJobsCompleted", "NumberOfBackupJobsFailed", period=3600, nil_to_zero=True),
            # Restore tests (components/restore_testing.py), every 5 minutes: a restore running past the RTO shows.
            *metrics("Sum", "NumberOfRestoreJobsCompleted", "NumberOfRestoreJobsFailed", nil_to_zero=True),
            *metrics("Maximum", "NumberOfRestoreJobsRunning", nil_to_zero=True)]},
        # The log domain's health: cluster status, blocked writes, the fullest node's free storage (MiB).
        {"type": "AWS/ES", "regions": [region], "searchTags": search, "metrics": [
            *metrics("Maximum", "ClusterStatus.red", "ClusterStatus.yellow", "ClusterIndexWritesBlocked", "JVMMemoryPressure"),
            *metrics("Minimum", "FreeStorageSpace")]},
    ]
    return {"apiVersion": "v1alpha1", "discovery": {"jobs": jobs}}
