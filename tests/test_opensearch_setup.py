"""The Job that applies the logs domain's retention and writer roles at ``pulumi up``, as the prod stack declares it.

Expectations come from the requirement: logs deleted after golive:monitoring.logs.indexRetentionDays (90 in
Pulumi.prod.yaml), traces after golive:monitoring.tracing.retentionDays (14), each writer limited to its indices
and mapped to the IAM role that signs its requests; the master credentials read from Secrets Manager at run
time, never written into the stack.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from components import opensearch_setup
from components.config import ConfigError, parse
from tests.helpers import deps, one, props

ROOT = pathlib.Path(__file__).resolve().parent.parent
JOB = "kubernetes:batch/v1:Job"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/rolePolicy:RolePolicy"
RETENTION = {"golive-logs-retention": (["kube-*"], "90d"), "golive-traces-retention": (["traces-jaeger-*"], "14d")}
WRITERS = {"logs_writer": ("kube-*", "golive-fluent-bit"), "traces_writer": ("traces-jaeger-*", "golive-jaeger")}


def job(synth):
    return one(synth, JOB, "golive-opensearch-setup")


def documents(synth):
    return one(synth, CONFIG_MAP, "golive-opensearch-setup")


def pod(synth):
    return props(job(synth))["spec"]["template"]["spec"]


def test_retention_policies_delete_each_kind_of_index_after_its_configured_days(prod):
    settings = json.loads(props(documents(prod))["data"]["settings.json"])
    found = {pid: (doc["policy"]["ism_template"][0]["index_patterns"],
                   doc["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"])
             for pid, doc in settings["ismPolicies"].items()}
    assert found == RETENTION
    for doc in settings["ismPolicies"].values():
        states = {s["name"]: s for s in doc["policy"]["states"]}
        assert doc["policy"]["default_state"] == "hot" and states["delete"]["actions"] == [{"delete": {}}]


def test_writers_are_limited_to_their_indices_and_mapped_to_their_iam_roles(prod):
    settings = json.loads(props(documents(prod))["data"]["settings.json"])
    env = {e["name"]: e["value"] for e in pod(prod)["containers"][0]["env"]}
    mappings = json.loads(env["ROLE_MAPPINGS"])
    for role, (pattern, writer) in WRITERS.items():
        (permission,) = settings["roles"][role]["index_permissions"]
        assert permission["index_patterns"] == [pattern]
        assert mappings[role] == [one(prod, ROLE, writer)["computed"]["arn"]]
    assert {one(prod, ROLE, w)["urn"] for _, w in WRITERS.values()} <= set(deps(job(prod), "spec"))


def test_the_job_reaches_the_domain_with_the_master_secret_read_at_run_time(prod):
    spec = pod(prod)
    domain = one(prod, "aws:opensearch/domain:Domain")
    secret = one(prod, "aws:secretsmanager/secret:Secret", "golive-logs-master")
    apply_env = {e["name"]: e["value"] for e in spec["containers"][0]["env"]}
    assert apply_env["OPENSEARCH_URL"] == f"https://{domain['computed']['endpoint']}"
    (fetch,) = spec["initContainers"]
    fetch_env = {e["name"]: e["value"] for e in fetch["env"]}
    assert fetch_env["SECRET_ID"] == secret["computed"]["arn"] and "aws secretsmanager get-secret-value" in fetch["command"][-1]
    assert {domain["urn"], secret["urn"]} <= set(deps(job(prod), "spec"))
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["credentials"]["emptyDir"]["medium"] == "Memory"
    assert volumes["setup"]["configMap"]["name"] == props(documents(prod))["metadata"]["name"]
    assert "password" not in json.dumps(props(job(prod))).lower().replace("credentials", "")
    assert spec["serviceAccountName"] == "opensearch-setup" and spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] and all(
        c["securityContext"]["readOnlyRootFilesystem"] and c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        for c in (*spec["containers"], *spec["initContainers"]))
    assert props(job(prod))["metadata"]["namespace"] == "monitoring"
    # A failed run (a refused setting) is replaced at the next `pulumi up`, not awaited forever.
    assert props(job(prod))["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}


def test_its_role_reads_that_one_secret_and_decrypts_through_secrets_manager_only(prod):
    policy = json.loads(props(one(prod, POLICY, "golive-opensearch-setup-policy-0"))["policy"])
    read, decrypt = policy["Statement"]
    secret = one(prod, "aws:secretsmanager/secret:Secret", "golive-logs-master")
    assert (read["Action"], read["Resource"]) == (["secretsmanager:GetSecretValue"], secret["computed"]["arn"])
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}
    role = one(prod, ROLE, "golive-opensearch-setup")
    assert "system:serviceaccount:monitoring:opensearch-setup" in props(role)["assumeRolePolicy"]


def test_a_changed_document_is_a_new_job_and_the_same_one_is_not():
    same = [opensearch_setup.content_hash({"settings.json": json.dumps(opensearch_setup.settings_document("kube", 90, "traces", 14))},
                                          "a:1", "b:2") for _ in range(2)]
    changed = opensearch_setup.content_hash({"settings.json": json.dumps(opensearch_setup.settings_document("kube", 120, "traces", 14))},
                                            "a:1", "b:2")
    new_image = opensearch_setup.content_hash({"settings.json": json.dumps(opensearch_setup.settings_document("kube", 90, "traces", 14))},
                                              "a:2", "b:2")
    assert same[0] == same[1] and len({same[0], changed, new_image}) == 3


def test_names_documents_and_images_are_known_at_a_first_preview(prod, prod_first_preview):
    first = prod_first_preview
    record = job(first)
    assert props(record)["metadata"]["name"] == props(job(prod))["metadata"]["name"]
    text = json.dumps(props(record))
    assert text.count("[unknown]") == 3, "the endpoint, the secret ARN and the writers' role ARNs"
    assert "[unknown]" not in json.dumps(props(documents(first)))


def test_the_manual_retention_step_is_gone_from_the_docs():
    doc = (ROOT / "docs" / "monitoring.md").read_text()
    assert "_plugins/_ism/policies" not in doc and "rolesmapping" not in doc
    assert "opensearch-setup" in doc


@pytest.mark.parametrize(
    ("raw", "key", "rule"),
    [
        ({"searchSetup": {"pythonImage": "python:latest"}}, "golive:monitoring.searchSetup.pythonImage", "pinned tag"),
        ({"searchSetup": {"awsCliImage": "aws-cli"}}, "golive:monitoring.searchSetup.awsCliImage", "pinned tag"),
        ({"searchSetup": {"deadlineSeconds": 10}}, "golive:monitoring.searchSetup.deadlineSeconds", "60 to 3600"),
    ],
)
def test_setup_config_errors_name_the_key_and_rule(raw, key, rule):
    with pytest.raises(ConfigError) as err:
        parse({"monitoring": raw})
    assert any(p.key == key and rule in p.rule for p in err.value.problems), str(err.value)
