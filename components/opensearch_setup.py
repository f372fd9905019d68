"""The logs domain's own settings, applied at ``pulumi up``: index retention and the writers' roles.

OpenSearch keeps index lifecycle (ISM) policies and security-plugin roles in the domain itself,
behind its REST API; the AWS API (and so the AWS provider) cannot set them. The domain is private
(VPC endpoint, port 443 open to the cluster's nodes only), so a Pulumi dynamic provider, which runs
wherever ``pulumi up`` runs, could not reach it without opening the domain to that machine. A
Kubernetes **Job** on the cluster can: its pod runs on a node the domain admits. It reads the
master user's secret from Secrets Manager at run time (an IRSA role that may read that one secret
and decrypt it through Secrets Manager only), so a rotated password is picked up, and Pulumi waits
for it to complete, so ``pulumi up`` fails when the domain refuses a setting.

What the Job applies (``components/opensearch_apply.py``):

- ISM policy ``golive-logs-retention``: ``kube-*`` (Fluent Bit's daily log indices) deleted
  ``indexRetentionDays`` after creation; ``golive-traces-retention``: ``<prefix>-jaeger-*``
  (Jaeger's span, service, dependency and sampling indices) deleted after the tracing
  ``retentionDays``. Both attach to new indices through their ``ism_template`` and to existing
  ones when applied.
- Roles ``logs_writer`` and ``traces_writer``, each limited to its own indices, mapped to the
  IAM roles of Fluent Bit and Jaeger (``backend_roles``).

The documents live in a ConfigMap whose name carries a hash of its content, as does the Job's:
a changed document is a new Job that runs again; an unchanged one is not re-run (``pulumi up
--replace`` on the Job re-applies by hand). Only the endpoint and the ARNs are unknown before
the first ``up``; the documents, names and images are known at preview.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components import opensearch_apply
from components.config import AwsAccount, SearchSetupConfig
from components.irsa import service_account_role

SERVICE_ACCOUNT = "opensearch-setup"
LOGS_POLICY, TRACES_POLICY = "golive-logs-retention", "golive-traces-retention"
LOGS_WRITER, TRACES_WRITER = "logs_writer", "traces_writer"
SCRIPT = pathlib.Path(opensearch_apply.__file__).read_text()
SETTINGS_KEY, SCRIPT_KEY = "settings.json", "apply.py"
CREDENTIALS_DIR, SETUP_DIR = "/credentials", "/setup"
PART_OF = {"app.kubernetes.io/part-of": "golive", "app.kubernetes.io/name": SERVICE_ACCOUNT}


@dataclass(frozen=True)
class OpenSearchSetupArgs:
    config: SearchSetupConfig
    account: AwsAccount
    endpoint: pulumi.Input[str]
    """The domain's VPC endpoint (host name)."""
    master_secret_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    """The key that encrypts the master secret."""
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    log_index_prefix: str
    log_retention_days: int
    trace_index_prefix: str
    trace_retention_days: int
    writers: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Security-plugin role (``logs_writer``, ``traces_writer``) -> the IAM role ARN that writes with it."""
    namespace: str = "monitoring"
    namespace_dependency: pulumi.Resource | None = None


class OpenSearchSetup(pulumi.ComponentResource):
    """The Job (and its identity and documents) that applies the domain's retention policies and writer roles."""

    def __init__(self, name: str, args: OpenSearchSetupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:monitoring:OpenSearchSetup", name, None, opts)
        cfg, ns = args.config, args.namespace
        child = pulumi.ResourceOptions(parent=self)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[args.namespace_dependency] if args.namespace_dependency else None)

        self.settings = settings_document(args.log_index_prefix, args.log_retention_days, args.trace_index_prefix,
                                          args.trace_retention_days)
        data = {SETTINGS_KEY: json.dumps(self.settings, indent=1, sort_keys=True), SCRIPT_KEY: SCRIPT}
        suffix = content_hash(data, cfg.aws_cli_image, cfg.python_image)
        self.role = service_account_role(
            f"{name}-opensearch-setup",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer=args.oidc_issuer,
            namespace=ns,
            service_account=SERVICE_ACCOUNT,
            policy_documents=[master_secret_read_policy(args.account, args.master_secret_arn, args.kms_key_arn)],
            account=args.account,
            opts=child,
        )
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-opensearch-setup",
            metadata={"name": SERVICE_ACCOUNT, "namespace": ns, "labels": PART_OF,
                      "annotations": {"eks.amazonaws.com/role-arn": self.role.arn}},
            automount_service_account_token=False,
            opts=in_ns,
        )
        self.documents = k8s.core.v1.ConfigMap(
            f"{name}-opensearch-setup",
            metadata={"name": f"{SERVICE_ACCOUNT}-{suffix}", "namespace": ns, "labels": PART_OF},
            data=data,
            opts=in_ns,
        )
        self.job = k8s.batch.v1.Job(
            f"{name}-opensearch-setup",
            # A Job that failed (the domain refused a setting) is replaced at the next `up` instead of awaited again.
            metadata={"name": f"{SERVICE_ACCOUNT}-{suffix}", "namespace": ns, "labels": PART_OF,
                      "annotations": {"pulumi.com/replaceUnready": "true"}},
            spec=job_spec(cfg, args.account.region, f"{SERVICE_ACCOUNT}-{suffix}", args.master_secret_arn,
                          pulumi.Output.format("https://{0}", args.endpoint), pulumi.Output.json_dumps(
                              {role: [arn] for role, arn in sorted(args.writers.items())})),
            # Pulumi waits for the Job to complete (10 minutes by default): as long as the Job may run, and a minute more.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service_account, self.documents, self.role],
                                        custom_timeouts=pulumi.CustomTimeouts(create=f"{cfg.deadline_seconds + 60}s",
                                                                              update=f"{cfg.deadline_seconds + 60}s")),
        )
        self.register_outputs({"job": self.job.metadata["name"], "roleArn": self.role.arn})


def ism_policy(description: str, pattern: str, days: int) -> dict:
    """An index lifecycle policy: indices matching ``pattern`` stay ``hot``, then are deleted ``days`` after creation."""
    return {"policy": {
        "description": description,
        "default_state": "hot",
        "states": [
            {"name": "hot", "actions": [], "transitions": [{"state_name": "delete", "conditions": {"min_index_age": f"{days}d"}}]},
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
        ],
        "ism_template": [{"index_patterns": [pattern], "priority": 100}],
    }}


def writer_role(pattern: str) -> dict:
    """What a log or trace shipper may do: create and write its own indices and their templates, read them back."""
    return {
        "cluster_permissions": ["cluster_monitor", "cluster_composite_ops", "indices:admin/template/*", "indices:admin/index_template/*"],
        "index_permissions": [{"index_patterns": [pattern],
                               "allowed_actions": ["crud", "create_index", "indices:admin/mapping/put", "indices_monitor"]}],
    }


def settings_document(log_prefix: str, log_days: int, trace_prefix: str, trace_days: int) -> dict:
    logs, traces = f"{log_prefix}-*", f"{trace_prefix}-jaeger-*"
    return {
        "ismPolicies": {
            LOGS_POLICY: ism_policy(f"golive container logs: delete {logs} indices {log_days} days after creation", logs, log_days),
            TRACES_POLICY: ism_policy(f"golive traces: delete {traces} indices {trace_days} days after creation", traces, trace_days),
        },
        "roles": {LOGS_WRITER: writer_role(logs), TRACES_WRITER: writer_role(traces)},
    }


def content_hash(data: Mapping[str, str], *more: str) -> str:
    """Eight hex digits naming a version of the documents and images: a change is a new Job."""
    h = hashlib.sha256()
    for key in sorted(data):
        h.update(f"{key}\0{data[key]}\0".encode())
    for item in more:
        h.update(f"{item}\0".encode())
    return h.hexdigest()[:8]


def master_secret_read_policy(account: AwsAccount, secret_arn: pulumi.Input[str], key_arn: pulumi.Input[str]) -> dict:
    """Read the master user's secret, and decrypt it only through Secrets Manager."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadMasterSecret", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": secret_arn},
            {"Sid": "DecryptMasterSecret", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn,
             "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{account.region}.{account.dns_suffix}"}}},
        ],
    }


def job_spec(cfg: SearchSetupConfig, region: str, documents: str, secret_arn: pulumi.Input[str], url: pulumi.Input[str],
             role_mappings: pulumi.Input[str]) -> dict:
    """Two containers on one pod: the AWS CLI writes the master secret to a memory volume, Python applies the settings.

    Non-root, read-only root filesystems, no capabilities, no service-account token (IRSA mounts its own).
    """
    secure = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
              "runAsNonRoot": True}
    credentials = {"name": "credentials", "mountPath": CREDENTIALS_DIR}
    tmp = {"name": "tmp", "mountPath": "/tmp"}
    return {
        "backoffLimit": 4,
        "activeDeadlineSeconds": cfg.deadline_seconds,
        "template": {
            "metadata": {"labels": PART_OF},
            "spec": {
                "serviceAccountName": SERVICE_ACCOUNT,
                "automountServiceAccountToken": False,
                "restartPolicy": "Never",
                "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534, "fsGroup": 65534,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "volumes": [
                    {"name": "credentials", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                    {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                    {"name": "setup", "configMap": {"name": documents, "defaultMode": 0o444}},
                ],
                "initContainers": [{
                    "name": "master-credentials",
                    "image": cfg.aws_cli_image,
                    "command": ["/bin/sh", "-ec", 'umask 077; aws secretsmanager get-secret-value --secret-id "$SECRET_ID" '
                                f'--query SecretString --output text > {CREDENTIALS_DIR}/master.json'],
                    "env": [{"name": "SECRET_ID", "value": secret_arn}, {"name": "AWS_REGION", "value": region},
                            {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"}, {"name": "HOME", "value": "/tmp"}],
                    "volumeMounts": [credentials, tmp],
                    "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                    "securityContext": secure,
                }],
                "containers": [{
                    "name": "apply",
                    "image": cfg.python_image,
                    "command": ["python3", f"{SETUP_DIR}/{SCRIPT_KEY}"],
                    "env": [{"name": "OPENSEARCH_URL", "value": url},
                            {"name": "CREDENTIALS_FILE", "value": f"{CREDENTIALS_DIR}/master.json"},
                            {"name": "SETTINGS_FILE", "value": f"{SETUP_DIR}/{SETTINGS_KEY}"},
                            {"name": "ROLE_MAPPINGS", "value": role_mappings},
                            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}],
                    "volumeMounts": [{**credentials, "readOnly": True}, tmp, {"name": "setup", "mountPath": SETUP_DIR, "readOnly": True}],
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
                    "securityContext": secure,
                }],
            },
        },
    }
