"""Telemetry policies: retention declared for every log and trace index, sampling per service; pass on prod, fail on mutants."""

from __future__ import annotations

import json

import pytest

from tests.helpers import drop, findings, mutate, one

RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
JOB = "kubernetes:batch/v1:Job"
NAMESPACE = "kubernetes:core/v1:Namespace"
LOGS, TRACES, SAMPLING = "monitoring-log-retention-declared", "monitoring-trace-retention-declared", "monitoring-trace-sampling-per-service"


@pytest.mark.parametrize("policy", [LOGS, TRACES, SAMPLING])
def test_passes_on_prod(prod, policy):
    assert findings(prod, policy) == []


@pytest.mark.parametrize("policy", [LOGS, TRACES, SAMPLING])
def test_decides_at_a_first_preview(prod_first_preview, policy):
    from golive import check

    result = check.check(prod_first_preview, [p for p in check.load_policies() if p.name == policy])
    assert result.findings == [] and [d for d in result.deferred if d.policy == policy] == []


def _settings(change):
    def edit(record):
        settings = json.loads(record["inputs"]["data"]["settings.json"])
        change(settings["ismPolicies"])
        record["inputs"]["data"]["settings.json"] = json.dumps(settings)

    return edit


def _age(pid, age):
    return _settings(lambda p: p[pid]["policy"]["states"][0]["transitions"][0]["conditions"].update(min_index_age=age))


@pytest.mark.parametrize(
    ("policy", "change", "writer", "message"),
    [
        (LOGS, _age("golive-logs-retention", "30d"), "golive-fluent-bit", "after 30 days; keep them at least 90 days"),
        (LOGS, _age("golive-logs-retention", "2159h"), "golive-fluent-bit", "after 89.9583 days"),
        (TRACES, _age("golive-traces-retention", "3d"), "golive-jaeger", "after 3 days; keep them at least 7 days"),
        (TRACES, _settings(lambda p: p["golive-traces-retention"]["policy"]["ism_template"][0].update(index_patterns=["jaeger-*"])),
         "golive-jaeger", "no index lifecycle policy"),
        (LOGS, _settings(lambda p: p["golive-logs-retention"]["policy"]["states"].pop()), "golive-fluent-bit", "never deletes"),
        # A second policy of higher priority wins the ISM template match: its shorter retention counts.
        (LOGS, _settings(lambda p: p.update({"quick": {"policy": {
            "default_state": "a", "states": [{"name": "a", "actions": [{"delete": {}}], "transitions": []}],
            "ism_template": [{"index_patterns": ["kube-2026*"], "priority": 200}]}}})), "golive-fluent-bit", "quick deletes log indices"),
    ],
)
def test_retention_fails_when_an_index_is_kept_too_briefly_or_not_covered(prod, policy, change, writer, message):
    record = one(prod, CONFIG_MAP, "golive-opensearch-setup")
    (finding,) = findings(mutate(prod, record["urn"], change), policy)
    assert message in finding.message and finding.urn == one(prod, RELEASE, writer)["urn"]


def test_a_first_preview_already_sees_a_short_retention(prod_first_preview):
    record = one(prod_first_preview, CONFIG_MAP, "golive-opensearch-setup")
    (finding,) = findings(mutate(prod_first_preview, record["urn"], _age("golive-logs-retention", "30d")), LOGS)
    assert "after 30 days" in finding.message


def test_retention_fails_when_no_job_applies_the_policies(prod):
    job = one(prod, JOB, "golive-opensearch-setup")
    broken = drop(prod, lambda r: r["urn"] == job["urn"])
    assert {f.policy for f in findings(broken, [LOGS, TRACES])} == {LOGS, TRACES}


def test_retention_passes_at_exactly_the_minimum(prod):
    record = one(prod, CONFIG_MAP, "golive-opensearch-setup")
    assert findings(mutate(prod, record["urn"], _age("golive-logs-retention", "2160h")), LOGS) == []


def test_sampling_fails_for_a_service_no_policy_names(prod):
    sampler = one(prod, RELEASE, "golive-otel-sampler")

    def unsampled(record):
        tail = record["inputs"]["values"]["alternateConfig"]["processors"]["tail_sampling"]
        tail["policies"] = [p for p in tail["policies"] if not p["name"].startswith("trading-api")]

    (finding,) = findings(mutate(prod, sampler["urn"], unsampled), SAMPLING)
    assert "trading-api" in finding.message and finding.urn == one(prod, NAMESPACE, "golive-trading-api")["urn"]


def test_sampling_fails_for_a_service_that_sends_nowhere(prod):
    settings = one(prod, CONFIG_MAP, "golive-otel-exporter-listings-service")
    broken = mutate(prod, settings["urn"], lambda r: r["inputs"]["data"].update(
        OTEL_EXPORTER_OTLP_ENDPOINT="http://collector.elsewhere.svc.cluster.local:4317"))
    (finding,) = findings(broken, SAMPLING)
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in finding.message and finding.urn == one(prod, NAMESPACE, "golive-listings-service")["urn"]


@pytest.mark.parametrize("routing", [{"routing_key": "service"}, {"resolver": {"dns": {"hostname": "otel-gateway.tracing.svc.cluster.local"}}}])
def test_sampling_fails_when_replicated_samplers_get_fragments_of_traces(prod, routing):
    gateway = one(prod, RELEASE, "golive-otel-gateway")
    broken = mutate(prod, gateway["urn"], lambda r: r["inputs"]["values"]["alternateConfig"]["exporters"]["loadbalancing"].update(routing))
    (finding,) = findings(broken, SAMPLING)
    assert "fragments" in finding.message and finding.urn == one(prod, RELEASE, "golive-otel-sampler")["urn"]
