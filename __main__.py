"""golive: the production platform. Loads config, wires components, exports outputs."""

import pulumi
import pulumi_aws as aws

from components import config as golive_config
from components.backup import BackupStorage, BackupStorageArgs
from components.backup_plan import BackupPlan, BackupPlanArgs
from components.cache import Cache, CacheArgs
from components.cluster import Cluster, ClusterArgs
from components.database import Database, DatabaseArgs
from components.database_replication import DatabaseBackupReplication, DatabaseBackupReplicationArgs
from components.delivery import Delivery, DeliveryArgs, ServiceRouting, prometheus_address
from components.edge import Edge, EdgeArgs
from components.game_days import GameDays, GameDaysArgs
from components.logging import INDEX_PREFIX as LOG_INDEX_PREFIX
from components.logging import Logging, LoggingArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.network import Network, NetworkArgs
from components.opensearch_setup import LOGS_WRITER, TRACES_WRITER, OpenSearchSetup, OpenSearchSetupArgs
from components.restore_testing import RestoreTesting, RestoreTestingArgs
from components.security import Baseline, BaselineArgs, singleton_exemption_tags
from components.service_roles import ServiceLinkedRoles, ServiceLinkedRolesArgs
from components.services import ServiceCatalog, ServiceCatalogArgs
from components.tracing import Tracing, TracingArgs, exemplar_destination, grafana_datasource

config, secrets = golive_config.load()

# Every AWS resource goes through this provider (default providers are disabled
# in the stack config), so a stack never depends on ambient AWS settings.
aws_provider = aws.Provider(
    "aws-primary",
    region=config.region,
    allowed_account_ids=[config.account_id],
    default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags),
)
aws_opts = pulumi.ResourceOptions(providers={"aws": aws_provider})

# `golive:phase: infrastructure` (a new stack's first `up`) declares no Kubernetes resource:
# the private API is only reachable once the VPN exists (README, "The first deploy").
kubernetes = config.kubernetes
service_roles = ServiceLinkedRoles(
    "golive",
    ServiceLinkedRolesArgs(singletons=config.singletons, account=config.aws, kubernetes_phase=kubernetes),
    opts=aws_opts,
)
network = Network(
    "golive",
    NetworkArgs(
        config=config.network,
        account=config.aws,
        vpc_tags=singleton_exemption_tags(config.singletons, kubernetes, security_hub=config.security.security_hub),
    ),
    opts=aws_opts,
)
pulumi.export("phase", config.phase)
pulumi.export("region", config.region)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("isolatedSubnetIds", network.isolated_subnet_ids)

# --- cluster ---

cluster = Cluster(
    "golive",
    ClusterArgs(
        config=config.cluster,
        account=config.aws,
        vpc_id=network.vpc_id,
        vpc_cidr=config.network.vpc_cidr,
        private_subnet_ids=network.private_subnet_ids,
        instance_tags=config.default_tags,
        kubernetes_phase=kubernetes,
        service_roles=service_roles,
    ),
    opts=aws_opts,
)
pulumi.export("clusterName", cluster.name)
pulumi.export("clusterEndpoint", cluster.endpoint)
pulumi.export("clusterOidcProviderArn", cluster.oidc_provider_arn)
pulumi.export("nodeSecurityGroupId", cluster.node_security_group_id)
pulumi.export("kubeconfig", cluster.kubeconfig)

# --- in-cluster half: services, edge, monitoring, logs, delivery (the `all` phase) ---
catalog = None if not kubernetes else ServiceCatalog(
    "golive",
    ServiceCatalogArgs(
        services=config.services,
        account=config.aws,
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer,
        # The ALB's ENIs live in the public subnets: pods admit traffic from there.
        load_balancer_cidrs=config.network.subnet_cidrs(config.region)["public"],
    ),
    opts=pulumi.ResourceOptions(providers={"aws": aws_provider, "kubernetes": cluster.k8s_provider}),
)
if catalog is not None:
    pulumi.export("serviceNamespaces", {svc: ns.metadata.name for svc, ns in catalog.namespaces.items()})
    pulumi.export("serviceRoleArns", {svc: role.arn for svc, role in catalog.roles.items()})

# --- data ---

# Only the cluster's nodes reach the data tier; both live on the isolated subnets.
database = Database(
    "golive-db",
    DatabaseArgs(
        config=config.database,
        account=config.aws,
        vpc_id=network.vpc_id,
        vpc_cidr=config.network.vpc_cidr,
        isolated_subnet_ids=network.isolated_subnet_ids,
        client_security_group_id=cluster.node_security_group_id,
    ),
    opts=aws_opts,
)
cache = Cache(
    "golive-cache",
    CacheArgs(
        config=config.cache,
        account=config.aws,
        vpc_id=network.vpc_id,
        vpc_cidr=config.network.vpc_cidr,
        isolated_subnet_ids=network.isolated_subnet_ids,
        client_security_group_id=cluster.node_security_group_id,
        availability_zones=config.network.azs(config.region),
    ),
    opts=aws_opts,
)
# Endpoints, ports, ARNs only: the password and the AUTH token stay in Secrets Manager.
pulumi.export("databaseEndpoint", database.endpoint)
pulumi.export("databaseAddress", database.address)
pulumi.export("databasePort", database.port)
pulumi.export("databaseMasterSecretArn", database.master_secret_arn)
pulumi.export("databaseReplicaAddresses", database.replica_addresses)
pulumi.export("databaseKmsKeyArn", database.kms_key.arn)
pulumi.export("cachePrimaryEndpoint", cache.primary_endpoint)
pulumi.export("cacheReaderEndpoint", cache.reader_endpoint)
pulumi.export("cachePort", cache.port)
pulumi.export("cacheAuthSecretArn", cache.auth_secret.arn)
pulumi.export("cacheKmsKeyArn", cache.kms_key.arn)

# --- edge ---

if config.edge.domain and catalog is not None:
    edge = Edge(
        "golive",
        EdgeArgs(
            config=config.edge,
            services=config.services,
            account=config.aws,
            vpc_id=network.vpc_id,
            public_subnet_ids=network.public_subnet_ids,
            node_security_group_id=cluster.node_security_group_id,
            cluster_name=cluster.name,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            k8s_provider=cluster.k8s_provider,
            service_namespaces={svc: ns.metadata.name for svc, ns in catalog.namespaces.items()},
        ),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider, "kubernetes": cluster.k8s_provider}),
    )
    pulumi.export("loadBalancerDnsName", edge.load_balancer.dns_name)
    pulumi.export("publicHosts", list(config.edge.public_hosts(config.services)))
    pulumi.export("webAclArn", edge.waf.web_acl.arn)

security = Baseline(
    "golive",
    BaselineArgs(
        config=config.security,
        account=config.aws,
        vpc_id=network.vpc_id,
        vpc_cidr=config.network.vpc_cidr,
        private_subnet_ids=network.private_subnet_ids,
        singletons=config.singletons,
        service_roles=service_roles,
        kubernetes_phase=kubernetes,
        kubernetes_api_security_group_id=cluster.control_plane_security_group.id,
    ),
    opts=aws_opts,
)
pulumi.export("cloudTrailBucket", security.trail_bucket.name)
pulumi.export("cloudTrailLogGroupName", security.trail_log_group.name)
if security.detector is not None:
    pulumi.export("guardDutyDetectorId", security.detector.id)
if security.vpn_endpoint is not None:
    pulumi.export("adminVpnEndpointId", security.vpn_endpoint.id)
# What the stack does about each account singleton; the readiness report lists the skipped ones with their reason.
pulumi.export("accountSingletons", {
    golive_config.camel(name): {"mode": singleton.mode, "reason": singleton.reason}
    for name, singleton in vars(config.singletons).items()
})

# --- monitoring ---

# Receiver keys are files of a Kubernetes Secret (the config requires them in production).
receiver_secrets = {key: secrets.get(key) for key in ("pagerdutyRoutingKey", "slackWebhookUrl", "smtpPassword")}
monitoring = None if not kubernetes else Monitoring(
    "golive",
    MonitoringArgs(
        config=config.monitoring,
        services=config.services,
        account=config.aws,
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer,
        database_address=database.address,
        database_port=config.database.port,
        database_name=config.database.database_name,
        database_read_replicas=config.database.read_replicas,
        cache_endpoint=cache.primary_endpoint,
        cache_port=config.cache.port,
        cache_auth_token=cache.auth_token.result,
        pagerduty_routing_key=receiver_secrets["pagerdutyRoutingKey"],
        slack_webhook_url=receiver_secrets["slackWebhookUrl"],
        smtp_password=receiver_secrets["smtpPassword"],
        cluster_name=config.cluster.name,
        grafana_datasources=[grafana_datasource(config.monitoring.tracing)],
        exemplar_trace_destination=exemplar_destination(),
    ),
    opts=pulumi.ResourceOptions(providers={"aws": aws_provider, "kubernetes": cluster.k8s_provider}),
)
logs = None if monitoring is None else Logging(
    "golive",
    LoggingArgs(
        config=config.monitoring.logs,
        account=config.aws,
        vpc_id=network.vpc_id,
        vpc_cidr=config.network.vpc_cidr,
        subnet_ids=network.private_subnet_ids,
        client_security_group_id=cluster.node_security_group_id,
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer,
        chart_version=config.monitoring.charts.fluent_bit,
        namespace=config.monitoring.namespace,
        namespace_dependency=monitoring.namespace,
        after=[monitoring.release],
        service_role_dependencies=service_roles.dependencies("opensearch"),
    ),
    opts=pulumi.ResourceOptions(providers={"aws": aws_provider, "kubernetes": cluster.k8s_provider}),
)
tracing = None if logs is None else Tracing(
    "golive",
    TracingArgs(
        config=config.monitoring.tracing,
        services=config.services,
        account=config.aws,
        collector_chart_version=config.monitoring.charts.opentelemetry_collector,
        jaeger_chart_version=config.monitoring.charts.jaeger,
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer,
        opensearch_endpoint=logs.endpoint,
        opensearch_domain_name=logs.domain.domain_name,
        monitoring_namespace=config.monitoring.namespace,
        runbook_base_url=config.monitoring.alerting.runbook_base_url,
        catalog=[catalog],
        monitoring=[monitoring.release],
    ),
    opts=pulumi.ResourceOptions(providers={"aws": aws_provider, "kubernetes": cluster.k8s_provider}),
)
# Retention and writer roles live in the domain itself: a Job on the cluster applies them (the domain is private).
search_setup = None if tracing is None else OpenSearchSetup(
    "golive",
    OpenSearchSetupArgs(
        config=config.monitoring.search_setup,
        account=config.aws,
        endpoint=logs.endpoint,
        master_secret_arn=logs.master_secret.arn,
        kms_key_arn=logs.kms_key.arn,
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer,
        log_index_prefix=LOG_INDEX_PREFIX,
        log_retention_days=config.monitoring.logs.index_retention_days,
        trace_index_prefix=config.monitoring.tracing.index_prefix,
        trace_retention_days=config.monitoring.tracing.retention_days,
        writers={LOGS_WRITER: logs.fluent_bit_role.arn, TRACES_WRITER: tracing.jaeger_role.arn},
        namespace=config.monitoring.namespace,
        namespace_dependency=monitoring.namespace,
    ),
    opts=pulumi.ResourceOptions(providers={"aws": aws_provider, "kubernetes": cluster.k8s_provider}),
)
if monitoring is not None and logs is not None and tracing is not None and search_setup is not None:
    pulumi.export("monitoringNamespace", config.monitoring.namespace)
    pulumi.export("grafanaAdminSecret", monitoring.grafana_admin_secret_name)
    pulumi.export("logsDomainEndpoint", logs.endpoint)
    pulumi.export("logsMasterSecretArn", logs.master_secret.arn)
    pulumi.export("logsFluentBitRoleArn", logs.fluent_bit_role.arn)
    pulumi.export("tracingOtlpEndpoint", tracing.otlp_endpoint)
    pulumi.export("jaegerRoleArn", tracing.jaeger_role.arn)
    pulumi.export("opensearchSetupJob", search_setup.job.metadata["name"])

# --- backup ---

# The DR region gets its own explicit provider: same account guard, same default tags.
dr_provider = aws.Provider(
    "aws-dr",
    region=config.dr.region,
    allowed_account_ids=[config.account_id],
    default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags),
)
dr_account = golive_config.AwsAccount(config.account_id, config.dr.region, config.partition)
backup_storage = BackupStorage(
    "golive-backups",
    BackupStorageArgs(config=config.backup, account=config.aws, dr_account=dr_account, dr_provider=dr_provider),
    opts=aws_opts,
)
backup_plan = BackupPlan(
    "golive-backup",
    BackupPlanArgs(config=config.backup, account=config.aws, dr_account=dr_account, dr_provider=dr_provider),
    opts=aws_opts,
)
database_dr = DatabaseBackupReplication(
    "golive-db-dr",
    DatabaseBackupReplicationArgs(
        source_db_instance_arn=database.instance.arn,
        retention_days=config.database.backup_retention_days,
        dr_account=dr_account,
        dr_provider=dr_provider,
    ),
    opts=aws_opts,
)
# What a restore needs (docs/disaster-recovery.md).
pulumi.export("drDatabaseBackupReplicationArn", database_dr.replication.id)
pulumi.export("drRegion", config.dr.region)
pulumi.export("backupBucketName", backup_storage.bucket_name)
pulumi.export("backupBucketKeyArn", backup_storage.key.arn)
pulumi.export("drBackupBucketName", backup_storage.dr_bucket_name)
pulumi.export("drBackupBucketKeyArn", backup_storage.dr_key.arn)
pulumi.export("backupVaultName", backup_plan.vault_name)
pulumi.export("backupVaultArn", backup_plan.vault_arn)
pulumi.export("drBackupVaultName", backup_plan.dr_vault_name)
pulumi.export("drBackupVaultArn", backup_plan.dr_vault_arn)
pulumi.export("drBackupVaultKeyArn", backup_plan.dr_vault_key.arn)
pulumi.export("backupPlanId", backup_plan.plan_id)
pulumi.export("backupRoleArn", backup_plan.role.arn)
pulumi.export("backupNotificationTopicArn", backup_plan.topic.arn)

# --- delivery ---

# Canary weights are the ALB's: the plugin gets each canary service's rule and its two target groups.
delivery_routing = {}
if config.edge.domain and catalog is not None:
    delivery_routing = {
        svc: ServiceRouting(edge.listener_rules[svc].arn, edge.target_groups[svc].arn, canary.arn)
        for svc, canary in edge.canary_target_groups.items()
    }
delivery = None if monitoring is None else Delivery(
    "golive",
    DeliveryArgs(
        config=config.delivery,
        services=config.services,
        account=config.aws,
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer,
        prometheus_address=prometheus_address(monitoring.namespace.metadata.name),
        monitoring_namespace=config.monitoring.namespace,
        runbook_base_url=config.monitoring.alerting.runbook_base_url,
        catalog=[catalog],
        routing=delivery_routing,
        monitoring=[monitoring.release],
    ),
    opts=pulumi.ResourceOptions(providers={"aws": aws_provider, "kubernetes": cluster.k8s_provider}),
)
pulumi.export("deliveryStrategies", {s.name: s.delivery for s in config.services})
if delivery is not None:
    pulumi.export("argoRolloutsRoleArn", delivery.role.arn)
if config.edge.domain and catalog is not None:
    pulumi.export("canaryTargetGroupArns", {svc: tg.arn for svc, tg in edge.canary_target_groups.items()})
    pulumi.export("canaryListenerRuleArns", {svc: r.listener_rule_arn for svc, r in delivery_routing.items()})
    pulumi.export("canaryRouting", delivery.plugin_configs)

# --- operational proof: restore tests, game days, what `golive verify` checks ---

zones = config.network.azs(config.region)
if config.restore_testing.enabled:
    restore_testing = RestoreTesting(
        "golive-restore-tests",
        RestoreTestingArgs(
            config=config.restore_testing,
            account=config.aws,
            vault_arn=backup_plan.vault_arn,
            database_arn=database.instance.arn,
            database_port=config.database.port,
            vpc_id=network.vpc_id,
            isolated_subnet_ids=network.isolated_subnet_ids,
            volume_zone=zones[0],
            monitoring_namespace=config.monitoring.namespace,
            runbook_base_url=config.monitoring.alerting.runbook_base_url,
            monitoring=[monitoring.release] if monitoring is not None else [],
            alert_rules=kubernetes,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider, **({"kubernetes": cluster.k8s_provider} if kubernetes else {})}),
    )
    pulumi.export("restoreTestingPlanName", restore_testing.plan.name)
    pulumi.export("restoreTestingPlanArn", restore_testing.plan_arn)
    pulumi.export("restoreTestingRoleArn", restore_testing.role.arn)
    pulumi.export("restoreValidatorSecurityGroupId", restore_testing.validator_security_group.id)
if config.edge.domain:
    # What `python -m golive verify --stack prod` checks on each public host (no secrets).
    pulumi.export("publicServices", [
        {"service": s.name, "host": s.host, "pathPrefix": s.path_prefix, "healthPath": s.health_path, "readyPath": s.ready_path,
         "latencyThresholdSeconds": s.slo.latency_threshold_seconds}
        for s in config.services if s.host
    ])
    if config.game_days.enabled and catalog is not None:  # the load balancer is the all phase's
        game_days = GameDays(
            "golive-game-days",
            GameDaysArgs(
                config=config.game_days,
                account=config.aws,
                zone=config.game_days.impaired_zone(config.network, config.region),
                latency_stop_seconds=config.game_days.latency_stop_seconds(config.services),
                database_arn=database.instance.arn,
                database_identifier=database.instance.identifier,
                cache_replication_group_id=cache.replication_group.replication_group_id,
                cache_tags={"Name": "golive-cache", "golive:role": "cache", "environment": config.environment},
                cache_members=config.cache.num_nodes,
                cluster_name=cluster.name,
                vpc_id=network.vpc_id,
                load_balancer_arn_suffix=edge.load_balancer.arn_suffix,
            ),
            opts=aws_opts,
        )
        pulumi.export("gameDayTemplateIds", game_days.template_ids)
        pulumi.export("gameDayLogGroupName", game_days.log_group.name)
