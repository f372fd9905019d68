"""S3 ownership, backup access logging and notifications, Security Hub standards."""

from __future__ import annotations

import pytest

from tests.helpers import drop, findings, mutate, of_type

NEW = ["s3-bucket-acls-disabled", "s3-bucket-access-logging", "backup-vault-notifications", "security-securityhub-standards"]


@pytest.mark.parametrize("policy", NEW)
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def test_bucket_with_acls_enabled_fails(prod):
    control = of_type(prod, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")[0]
    broken = mutate(prod, control["urn"], lambda r: r["inputs"]["rule"].update(objectOwnership="ObjectWriter"))
    (finding,) = findings(broken, "s3-bucket-acls-disabled")
    assert "ObjectWriter" in finding.message


def test_bucket_without_ownership_controls_fails(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert len(findings(broken, "s3-bucket-acls-disabled")) == len(of_type(prod, "aws:s3/bucket:Bucket"))


def test_a_bucket_without_access_logging_fails(prod):
    """Every bucket, not only backups: without BucketLogging the sources fail, and so do the log buckets, which no longer
    receive access logs (the end of the chain is exempt only while it is one)."""
    broken = drop(prod, lambda r: r["type"] == "aws:s3/bucketLogging:BucketLogging")
    assert {f.urn.rsplit("::", 1)[1] for f in findings(broken, "s3-bucket-access-logging")} == {
        f"golive-{name}-bucket" for name in ("backups", "backups-dr", "backups-logs", "backups-dr-logs", "cloudtrail", "config",
                                             "access-logs", "alb-logs", "alb-logs-access")}


def test_the_end_of_the_access_log_chain_needs_no_access_logging_of_its_own(prod):
    """A log bucket that receives access logs logs nowhere; dropping one source's logging leaves it exempt as long as others
    log to it (the Config bucket still does), and once none does it is an ordinary bucket that must log."""
    loggings = {r["name"]: r["urn"] for r in of_type(prod, "aws:s3/bucketLogging:BucketLogging")}
    one_source = drop(prod, lambda r: r["urn"] == loggings["golive-cloudtrail-access-logging"])
    assert {f.urn.rsplit("::", 1)[1] for f in findings(one_source, "s3-bucket-access-logging")} == {"golive-cloudtrail-bucket"}
    no_source = drop(prod, lambda r: r["urn"] in (loggings["golive-cloudtrail-access-logging"], loggings["golive-config-access-logging"]))
    assert {f.urn.rsplit("::", 1)[1] for f in findings(no_source, "s3-bucket-access-logging")} == {
        "golive-cloudtrail-bucket", "golive-config-bucket", "golive-access-logs-bucket"}


def test_vault_without_failure_notifications_fails(prod):
    notifications = of_type(prod, "aws:backup/vaultNotifications:VaultNotifications")[0]
    broken = mutate(prod, notifications["urn"], lambda r: r["inputs"].update(backupVaultEvents=["RESTORE_JOB_COMPLETED"]))
    assert [f.policy for f in findings(broken, "backup-vault-notifications")] == ["backup-vault-notifications"]


def test_security_hub_missing_fails(prod):
    broken = drop(prod, lambda r: r["type"].startswith("aws:securityhub/"))
    (finding,) = findings(broken, "security-securityhub-standards")
    assert "not enabled" in finding.message


def test_security_hub_without_cis_fails(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:securityhub/standardsSubscription:StandardsSubscription" and "cis" in r["inputs"]["standardsArn"])
    (finding,) = findings(broken, "security-securityhub-standards")
    assert "cis-aws-foundations-benchmark" in finding.message


@pytest.mark.parametrize("policy", ["monitoring-services-observed", "monitoring-dashboards-have-queries", "kubernetes-provider-explicit"])
def test_platform_rules_pass_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def test_a_service_without_a_service_monitor_fails(prod):
    broken = drop(prod, lambda r: r["type"] == "kubernetes:monitoring.coreos.com/v1:ServiceMonitor" and r["name"].endswith("trading-api"))
    (finding,) = findings(broken, "monitoring-services-observed")
    assert "trading-api" in finding.message and "ServiceMonitor" in finding.message


def test_a_service_without_an_http_probe_fails(prod):
    broken = drop(prod, lambda r: r["type"] == "kubernetes:monitoring.coreos.com/v1:Probe" and r["name"] == "golive-probe-signal-service-http")
    (finding,) = findings(broken, "monitoring-services-observed")
    assert "signal-service" in finding.message and "probe" in finding.message


def test_a_dashboard_panel_without_a_query_fails(prod):
    import json

    config_map = next(r for r in of_type(prod, "kubernetes:core/v1:ConfigMap") if r["inputs"]["metadata"]["labels"].get("grafana_dashboard"))

    def empty_targets(record):
        key, text = next(iter(record["inputs"]["data"].items()))
        dashboard = json.loads(text)

        def strip(panels):
            for panel in panels:
                panel["targets"] = []
                strip(panel.get("panels") or [])

        strip(dashboard["panels"])
        record["inputs"]["data"][key] = json.dumps(dashboard)

    (finding,) = findings(mutate(prod, config_map["urn"], empty_targets), "monitoring-dashboards-have-queries")
    assert "without a query" in finding.message


def test_a_conceptual_dashboard_fails(prod):
    config_map = next(r for r in of_type(prod, "kubernetes:core/v1:ConfigMap") if r["inputs"]["metadata"]["labels"].get("grafana_dashboard"))
    broken = mutate(prod, config_map["urn"], lambda r: r["inputs"].update(data={"x.json": '{"uid": "x", "title": "X", "panels": []}'}))
    (finding,) = findings(broken, "monitoring-dashboards-have-queries")
    assert "conceptual" in finding.message


def test_a_kubernetes_provider_on_the_ambient_kubeconfig_fails(prod):
    provider = of_type(prod, "pulumi:providers:kubernetes")[0]
    (finding,) = findings(mutate(prod, provider["urn"], lambda r: r["inputs"].pop("kubeconfig")), "kubernetes-provider-explicit")
    assert "ambient" in finding.message


def test_a_kubernetes_provider_with_a_static_token_fails(prod):
    import json

    provider = of_type(prod, "pulumi:providers:kubernetes")[0]

    def static_token(record):
        kubeconfig = json.loads(record["inputs"]["kubeconfig"])
        kubeconfig["users"][0]["user"] = {"token": "abc"}
        record["inputs"]["kubeconfig"] = json.dumps(kubeconfig)

    (finding,) = findings(mutate(prod, provider["urn"], static_token), "kubernetes-provider-explicit")
    assert "static credential" in finding.message


@pytest.mark.parametrize("policy", ["cluster-service-namespace-guardrails", "cluster-storage-class-encrypted"])
def test_cluster_guardrails_pass_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


@pytest.mark.parametrize(
    "type_, expected",
    [
        ("kubernetes:core/v1:ResourceQuota", "no ResourceQuota"),
        ("kubernetes:core/v1:LimitRange", "no LimitRange"),
        ("kubernetes:policy/v1:PodDisruptionBudget", "no PodDisruptionBudget"),
        ("kubernetes:core/v1:ServiceAccount", "no service account with an IAM role"),
    ],
)
def test_a_service_namespace_missing_a_guardrail_fails(prod, type_, expected):
    broken = drop(prod, lambda r: r["type"] == type_ and r["inputs"].get("metadata", {}).get("namespace") == "trading-api")
    (finding,) = findings(broken, "cluster-service-namespace-guardrails")
    assert "trading-api" in finding.message and expected in finding.message


def test_a_pdb_that_allows_every_replica_down_fails(prod):
    pdb = next(r for r in of_type(prod, "kubernetes:policy/v1:PodDisruptionBudget") if r["inputs"]["metadata"]["namespace"] == "signal-service")
    (finding,) = findings(mutate(prod, pdb["urn"], lambda r: r["inputs"]["spec"].update(minAvailable=0)), "cluster-service-namespace-guardrails")
    assert "keeps no replica available" in finding.message


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda r: r["inputs"]["parameters"].update(encrypted="false"), "unencrypted"),
        (lambda r: r["inputs"]["parameters"].pop("kmsKeyId"), "AWS-managed key"),
        (lambda r: r["inputs"].update(reclaimPolicy="Delete"), "reclaimPolicy Retain"),
    ],
)
def test_a_weak_storage_class_fails(prod, change, expected):
    storage_class = of_type(prod, "kubernetes:storage.k8s.io/v1:StorageClass")[0]
    (finding,) = findings(mutate(prod, storage_class["urn"], change), "cluster-storage-class-encrypted")
    assert expected in finding.message


def test_cluster_volumes_are_tagged_for_aws_backup(prod):
    storage_class = of_type(prod, "kubernetes:storage.k8s.io/v1:StorageClass")[0]
    assert storage_class["inputs"]["parameters"]["tagSpecification_1"] == "backup=true"
