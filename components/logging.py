"""Container logs: Amazon OpenSearch Service in the VPC, fed by Fluent Bit on every node.

The domain is private (VPC subnets, HTTPS on 443 from the cluster nodes only),
spread over three AZs with dedicated masters, encrypted at rest with its own
CMK and between nodes, TLS 1.2+ only, with fine-grained access control whose
master password is generated into Secrets Manager and rotated there on a schedule
(``components.secret_rotation``). Its audit, application and slow logs go to
KMS-encrypted CloudWatch log groups.

Fluent Bit signs its requests with an IRSA role (SigV4). What needs the domain's
own API (the writer role that role maps to, the index-lifecycle policy deleting
``kube-*`` after ``indexRetentionDays``) is applied by ``components/opensearch_setup.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.config import AwsAccount, LogsConfig
from components.helm import chart_release
from components.irsa import service_account_role
from components.kms import EncryptionKey, EncryptionKeyArgs
from components.secret_rotation import SecretRotation, SecretRotationArgs

FLUENT_CHARTS = "https://fluent.github.io/helm-charts"
FLUENT_BIT_SERVICE_ACCOUNT = "fluent-bit"
TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
LOG_TYPES = {
    "AUDIT_LOGS": "audit",
    "ES_APPLICATION_LOGS": "application",
    "INDEX_SLOW_LOGS": "index-slow",
    "SEARCH_SLOW_LOGS": "search-slow",
}
INDEX_PREFIX = "kube"


@dataclass(frozen=True)
class LoggingArgs:
    config: LogsConfig
    account: AwsAccount
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets, one per AZ (three for zone awareness)."""
    client_security_group_id: pulumi.Input[str]
    """The cluster nodes' security group: the only source allowed to reach the domain."""
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    chart_version: str
    namespace: str = "monitoring"
    secret_prefix: str = "golive"
    namespace_dependency: pulumi.Resource | None = None
    """The resource that creates ``namespace`` (the Monitoring component's Namespace)."""
    after: Sequence[pulumi.Resource] = ()
    """Resources Fluent Bit's release waits for: the kube-prometheus-stack release, whose CRDs
    (monitoring.coreos.com) the chart needs to render its ServiceMonitor at all."""
    service_role_dependencies: Sequence[pulumi.Resource] = ()
    """The AWSServiceRoleForAmazonOpenSearchService declaration, when this stack creates it: a VPC
    domain cannot be created before that role exists."""
    prometheus_release_name: str = "kube-prometheus-stack"
    """The kube-prometheus-stack release: Prometheus selects ServiceMonitors labelled ``release: <name>``."""


class Logging(pulumi.ComponentResource):
    """OpenSearch domain, its key, logs and master secret, and the Fluent Bit DaemonSet."""

    domain: aws.opensearch.Domain

    def __init__(self, name: str, args: LoggingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:monitoring:Logging", name, None, opts)
        cfg, account = args.config, args.account
        child = pulumi.ResourceOptions(parent=self)
        domain_name = f"{name}-logs"[:28]

        self.kms_key = EncryptionKey(
            f"{name}-logs",
            EncryptionKeyArgs(description=f"{name}: OpenSearch data, master user secret, domain log groups", account=account,
                              service_principals=("logs",)),
            opts=child,
        )
        self.master_password = random.RandomPassword(
            f"{name}-logs-master", length=32, special=True, override_special="!#%^*-_=+", min_upper=2, min_lower=2, min_numeric=2,
            min_special=2, opts=child,
        )
        self.master_secret = aws.secretsmanager.Secret(
            f"{name}-logs-master",
            name=f"{args.secret_prefix}/opensearch/master-user",
            description=f"{domain_name}: fine-grained access control master user",
            kms_key_id=self.kms_key.arn,
            recovery_window_in_days=30,
            tags={"Name": f"{name}-logs-master"},
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        master_version = aws.secretsmanager.SecretVersion(
            f"{name}-logs-master",
            secret_id=self.master_secret.id,
            secret_string=pulumi.Output.secret(self.master_password.result).apply(
                lambda p: json.dumps({"username": cfg.master_user_name, "password": p})),
            opts=child,
        )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-logs-sg",
            description=f"{domain_name}: HTTPS from the cluster nodes only",
            vpc_id=args.vpc_id,
            ingress=[aws.ec2.SecurityGroupIngressArgs(description="HTTPS from the cluster nodes (Fluent Bit, dashboards proxy)",
                                                      protocol="tcp", from_port=443, to_port=443,
                                                      security_groups=[args.client_security_group_id])],
            egress=[aws.ec2.SecurityGroupEgressArgs(description="Within the VPC only", protocol="-1", from_port=0, to_port=0,
                                                    cidr_blocks=[args.vpc_cidr])],
            tags={"Name": f"{name}-logs-sg"},
            opts=child,
        )
        self.log_groups = {
            log_type: aws.cloudwatch.LogGroup(
                f"{name}-logs-{suffix}",
                name=f"/golive/opensearch/{domain_name}/{suffix}",
                retention_in_days=cfg.log_retention_days,
                kms_key_id=self.kms_key.arn,
                tags={"Name": f"{name}-logs-{suffix}"},
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            for log_type, suffix in LOG_TYPES.items()
        }
        self.log_policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-logs-delivery",
            policy_name=f"{domain_name}-log-delivery",
            policy_document=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "OpenSearchPublishesLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": f"es.{account.dns_suffix}"},
                    "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                    "Resource": [group.arn.apply(lambda arn: f"{arn}:*") for group in self.log_groups.values()],
                    "Condition": {"StringEquals": {"aws:SourceAccount": account.account_id}},
                }],
            }),
            opts=child,
        )

        self.fluent_bit_role = service_account_role(
            f"{name}-fluent-bit",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer=args.oidc_issuer,
            namespace=args.namespace,
            service_account=FLUENT_BIT_SERVICE_ACCOUNT,
            policy_documents=[{
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "WriteLogs",
                    "Effect": "Allow",
                    "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut"],
                    "Resource": [account.arn("es", f"domain/{domain_name}"), account.arn("es", f"domain/{domain_name}/*")],
                }],
            }],
            account=account,
            opts=child,
        )
        azs = len(args.subnet_ids)
        self.domain = aws.opensearch.Domain(
            f"{name}-logs",
            domain_name=domain_name,
            engine_version=cfg.engine_version,
            cluster_config=aws.opensearch.DomainClusterConfigArgs(
                instance_type=cfg.instance_type,
                instance_count=cfg.instance_count,
                zone_awareness_enabled=azs > 1,
                zone_awareness_config=aws.opensearch.DomainClusterConfigZoneAwarenessConfigArgs(availability_zone_count=min(azs, 3))
                if azs > 1 else None,
                dedicated_master_enabled=cfg.dedicated_masters,
                dedicated_master_type=cfg.master_instance_type if cfg.dedicated_masters else None,
                dedicated_master_count=cfg.master_count if cfg.dedicated_masters else None,
            ),
            ebs_options=aws.opensearch.DomainEbsOptionsArgs(ebs_enabled=True, volume_type="gp3", volume_size=cfg.volume_size_gb),
            vpc_options=aws.opensearch.DomainVpcOptionsArgs(subnet_ids=list(args.subnet_ids)[:3], security_group_ids=[self.security_group.id]),
            encrypt_at_rest=aws.opensearch.DomainEncryptAtRestArgs(enabled=True, kms_key_id=self.kms_key.arn),
            node_to_node_encryption=aws.opensearch.DomainNodeToNodeEncryptionArgs(enabled=True),
            domain_endpoint_options=aws.opensearch.DomainDomainEndpointOptionsArgs(enforce_https=True, tls_security_policy=TLS_POLICY),
            advanced_security_options=aws.opensearch.DomainAdvancedSecurityOptionsArgs(
                enabled=True,
                anonymous_auth_enabled=False,
                internal_user_database_enabled=True,
                master_user_options=aws.opensearch.DomainAdvancedSecurityOptionsMasterUserOptionsArgs(
                    master_user_name=cfg.master_user_name, master_user_password=pulumi.Output.secret(self.master_password.result)),
            ),
            access_policies=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "AccountPrincipalsThroughFineGrainedAccessControl",
                    "Effect": "Allow",
                    "Principal": {"AWS": [account.root_arn, self.fluent_bit_role.arn]},
                    "Action": "es:ESHttp*",
                    "Resource": account.arn("es", f"domain/{domain_name}/*"),
                }],
            }),
            log_publishing_options=[
                aws.opensearch.DomainLogPublishingOptionArgs(log_type=log_type, cloudwatch_log_group_arn=group.arn, enabled=True)
                for log_type, group in self.log_groups.items()
            ],
            software_update_options=aws.opensearch.DomainSoftwareUpdateOptionsArgs(auto_software_update_enabled=True),
            tags={"Name": domain_name},
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[self.log_policy, *args.service_role_dependencies]),
        )

        self.master_rotation = SecretRotation(
            f"{name}-logs-master",
            SecretRotationArgs(
                secret=self.master_secret,
                kms_key_arn=self.kms_key.arn,
                target="opensearch-master-user",
                target_id=domain_name,
                target_arn=self.domain.arn,
                rotation_days=cfg.master_password_rotation_days,
                log_retention_days=cfg.log_retention_days,
                account=account,
                depends_on=(self.domain, master_version),
            ),
            opts=child,
        )

        self.fluent_bit = chart_release(
            f"{name}-fluent-bit",
            release="fluent-bit",
            chart="fluent-bit",
            version=args.chart_version,
            repo=FLUENT_CHARTS,
            namespace=args.namespace,
            values=fluent_bit_values(self.domain.endpoint, self.fluent_bit_role.arn, account.region, args.prometheus_release_name),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*([args.namespace_dependency] if args.namespace_dependency else []), *args.after] or None
            ),
        )
        self.endpoint = self.domain.endpoint
        self.register_outputs({
            "domainArn": self.domain.arn,
            "endpoint": self.domain.endpoint,
            "masterSecretArn": self.master_secret.arn,
            "fluentBitRoleArn": self.fluent_bit_role.arn,
        })


def fluent_bit_values(endpoint: pulumi.Input[str], role_arn: pulumi.Input[str], region: str,
                      prometheus_release: str = "kube-prometheus-stack") -> dict:
    """A DaemonSet tailing container logs, enriched with Kubernetes metadata, shipped over HTTPS with SigV4.

    Only the endpoint and the role are unknown before the first ``up``; the rest is known at preview.
    The chart's ServiceMonitor template copies ``serviceMonitor.selector`` into its labels
    (it has no ``additionalLabels``): that is where Prometheus's ``release`` label goes.
    """
    return {
        "kind": "DaemonSet",
        "env": [{"name": "OPENSEARCH_HOST", "value": endpoint}],
        "serviceAccount": {"create": True, "name": FLUENT_BIT_SERVICE_ACCOUNT, "annotations": {"eks.amazonaws.com/role-arn": role_arn}},
        "serviceMonitor": {"enabled": True, "selector": {"release": prometheus_release}},
        "tolerations": [{"operator": "Exists"}],
        "config": {
            "inputs": (
                "[INPUT]\n    Name tail\n    Path /var/log/containers/*.log\n    multiline.parser docker, cri\n"
                "    Tag kube.*\n    Mem_Buf_Limit 50MB\n    Skip_Long_Lines On\n"
            ),
            "filters": (
                "[FILTER]\n    Name kubernetes\n    Match kube.*\n    Merge_Log On\n    Keep_Log Off\n"
                "    K8S-Logging.Parser On\n    K8S-Logging.Exclude On\n"
            ),
            # The endpoint comes from the environment (Fluent Bit expands ${VAR}), so the configuration is known at preview.
            "outputs": (
                "[OUTPUT]\n    Name opensearch\n    Match kube.*\n    Host ${OPENSEARCH_HOST}\n    Port 443\n    tls On\n"
                f"    tls.verify On\n    AWS_Auth On\n    AWS_Region {region}\n    Logstash_Format On\n    Logstash_Prefix {INDEX_PREFIX}\n"
                "    Suppress_Type_Name On\n    Replace_Dots On\n    Retry_Limit 10\n"
            ),
        },
    }

