"""The setup Job's program against an HTTP server that answers as OpenSearch's security and ISM APIs do.

moto emulates AWS APIs, not a domain's own REST API, so the server here is a small stand-in that
keeps the behaviours the program depends on, as OpenSearch documents them: basic authentication;
``PUT _plugins/_ism/policies/<id>`` on an existing policy is refused (409) unless
``if_seq_no``/``if_primary_term`` match the current ones; a GET returns the stored policy with ids,
timestamps and default retry settings added; ``_ism/add`` attaches a policy to matching indices that
have none and reports the others as failed ("This index already has a policy, use the update policy
API"); ``_ism/change_policy`` moves managed indices to the named policy.
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import json
import os
import pathlib
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from components import opensearch_apply, opensearch_setup

ROOT = pathlib.Path(__file__).resolve().parent.parent
USER, PASSWORD = "golive-admin", "s3cret-Pa55word!"
FLUENT_BIT = "arn:aws:iam::123456789012:role/golive-fluent-bit-1a2b3c4"
JAEGER = "arn:aws:iam::123456789012:role/golive-jaeger-5d6e7f8"
MAPPINGS = {"logs_writer": [FLUENT_BIT], "traces_writer": [JAEGER]}


class FakeDomain:
    """The state of the domain's security plugin and ISM, and what it was asked."""

    def __init__(self, indices=()):
        self.roles, self.mappings, self.policies = {}, {}, {}
        self.indices = {name: None for name in indices}  # index -> managing policy id
        self.requests: list[tuple[str, str]] = []
        self.fail_next = 0

    def handle(self, method, path, query, body):
        self.requests.append((method, path))
        if self.fail_next:
            self.fail_next -= 1
            return 503, {"error": "unavailable"}
        parts = path.strip("/").split("/")
        if parts[:4] == ["_plugins", "_security", "api", "roles"] and method == "PUT":
            self.roles[parts[4]] = body
            return 200, {"status": "OK"}
        if parts[:4] == ["_plugins", "_security", "api", "rolesmapping"] and method == "PUT":
            self.mappings[parts[4]] = body
            return 200, {"status": "OK"}
        if parts[:3] == ["_plugins", "_ism", "policies"]:
            return self._policy(method, parts[3], query, body)
        if parts[:2] == ["_plugins", "_ism"] and parts[2] in ("add", "change_policy") and method == "POST":
            pattern, pid = unquote(parts[3]), body["policy_id"]
            matching = [i for i in sorted(self.indices) if fnmatch.fnmatchcase(i, pattern)]
            if parts[2] == "change_policy":
                for index in matching:
                    if self.indices[index] is not None:
                        self.indices[index] = pid
                return 200, {"updated_indices": sum(self.indices[i] is not None for i in matching), "failures": False, "failed_indices": []}
            failed = [{"index_name": i, "index_uuid": "x", "reason": "This index already has a policy, use the update policy API to "
                       "update index policies"} for i in matching if self.indices[i] is not None]
            for index in matching:
                if self.indices[index] is None:
                    self.indices[index] = pid
            return 200, {"updated_indices": len(matching) - len(failed), "failures": bool(failed), "failed_indices": failed}
        return 400, {"error": f"unexpected {method} {path}"}

    def _policy(self, method, pid, query, body):
        stored = self.policies.get(pid)
        if method == "GET":
            if stored is None:
                return 404, {"error": {"type": "status_exception", "reason": "Policy not found"}, "status": 404}
            policy = copy.deepcopy(stored["policy"])
            policy.update(policy_id=pid, last_updated_time=1767225600000, schema_version=21, error_notification=None)
            for state in policy["states"]:
                for action in state["actions"]:
                    action["retry"] = {"count": 3, "backoff": "exponential", "delay": "1m"}
            return 200, {"_id": pid, "_version": stored["version"], "_seq_no": stored["seq_no"], "_primary_term": 1, "policy": policy}
        if method == "PUT":
            if stored is not None:
                given = (query.get("if_seq_no", [None])[0], query.get("if_primary_term", [None])[0])
                if given != (str(stored["seq_no"]), "1"):
                    return 409, {"error": {"type": "version_conflict_engine_exception"}, "status": 409}
            seq = max((p["seq_no"] for p in self.policies.values()), default=-1) + 1
            self.policies[pid] = {"policy": body["policy"], "seq_no": seq, "version": (stored or {"version": 0})["version"] + 1}
            return (200 if stored else 201), {"_id": pid, "_seq_no": seq, "_primary_term": 1}
        return 400, {"error": "unexpected"}


@pytest.fixture
def domain():
    state = FakeDomain(indices=("kube-2026.01.30", "kube-2026.01.31", "traces-jaeger-span-2026-01-31", "other-index"))
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _serve(self):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            if self.headers.get("Authorization") != expected:
                status, payload = 401, {"error": "Unauthorized"}
            else:
                status, payload = state.handle(self.command, url.path, parse_qs(url.query), body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def settings(log_days=90, trace_days=14):
    return opensearch_setup.settings_document("kube", log_days, "traces", trace_days)


def client(domain, password=PASSWORD):
    return opensearch_apply.Client(domain.url, USER, password, attempts=3, pause=0.01)


def test_a_first_run_creates_roles_mappings_and_policies_and_attaches_existing_indices(domain):
    opensearch_apply.apply(client(domain), settings(), MAPPINGS, log=lambda _: None)
    assert domain.roles["logs_writer"]["index_permissions"][0]["index_patterns"] == ["kube-*"]
    assert domain.roles["traces_writer"]["index_permissions"][0]["index_patterns"] == ["traces-jaeger-*"]
    assert domain.mappings == {"logs_writer": {"backend_roles": [FLUENT_BIT], "hosts": [], "users": []},
                               "traces_writer": {"backend_roles": [JAEGER], "hosts": [], "users": []}}
    ages = {pid: p["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"] for pid, p in domain.policies.items()}
    assert ages == {"golive-logs-retention": "90d", "golive-traces-retention": "14d"}
    assert domain.indices == {"kube-2026.01.30": "golive-logs-retention", "kube-2026.01.31": "golive-logs-retention",
                              "traces-jaeger-span-2026-01-31": "golive-traces-retention", "other-index": None}


def test_a_second_run_changes_nothing(domain):
    opensearch_apply.apply(client(domain), settings(), MAPPINGS, log=lambda _: None)
    versions = {pid: p["version"] for pid, p in domain.policies.items()}
    domain.requests.clear()
    opensearch_apply.apply(client(domain), settings(), MAPPINGS, log=lambda _: None)
    assert {pid: p["version"] for pid, p in domain.policies.items()} == versions
    assert not [r for r in domain.requests if r[0] == "PUT" and "_ism" in r[1]]
    assert not [r for r in domain.requests if "change_policy" in r[1]]


def test_a_changed_retention_updates_the_policy_with_its_sequence_number_and_moves_managed_indices(domain):
    opensearch_apply.apply(client(domain), settings(log_days=90), MAPPINGS, log=lambda _: None)
    domain.requests.clear()
    opensearch_apply.apply(client(domain), settings(log_days=180), MAPPINGS, log=lambda _: None)
    stored = domain.policies["golive-logs-retention"]
    assert stored["version"] == 2
    assert stored["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"] == "180d"
    assert ("POST", "/_plugins/_ism/change_policy/kube-*") in domain.requests
    assert domain.policies["golive-traces-retention"]["version"] == 1


def test_transient_errors_are_retried_and_refusals_are_reported(domain):
    domain.fail_next = 2
    opensearch_apply.apply(client(domain), settings(), MAPPINGS, log=lambda _: None)
    assert domain.policies
    with pytest.raises(opensearch_apply.SetupError, match="HTTP 401"):
        opensearch_apply.apply(client(domain, password="wrong"), settings(), MAPPINGS, log=lambda _: None)
    with pytest.raises(opensearch_apply.SetupError, match="no backend roles given for traces_writer"):
        opensearch_apply.apply(client(domain), settings(), {"logs_writer": [FLUENT_BIT]}, log=lambda _: None)


def test_the_job_command_runs_on_the_standard_library_and_never_prints_the_password(domain, tmp_path):
    """As the Job runs it: ``python3 apply.py`` with its environment, no package of this project importable."""
    (tmp_path / "master.json").write_text(json.dumps({"username": USER, "password": PASSWORD}))
    (tmp_path / "settings.json").write_text(json.dumps(settings()))
    script = tmp_path / "apply.py"
    script.write_text(opensearch_setup.SCRIPT)
    env = {"PATH": os.environ["PATH"], "OPENSEARCH_URL": domain.url, "CREDENTIALS_FILE": str(tmp_path / "master.json"),
           "SETTINGS_FILE": str(tmp_path / "settings.json"), "ROLE_MAPPINGS": json.dumps(MAPPINGS)}
    run = subprocess.run([sys.executable, "-I", str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "opensearch-setup: done" in run.stdout and set(domain.policies) == {"golive-logs-retention", "golive-traces-retention"}
    (tmp_path / "master.json").write_text(json.dumps({"username": USER, "password": "not-" + PASSWORD}))
    failed = subprocess.run([sys.executable, "-I", str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "HTTP 401" in failed.stderr
    assert PASSWORD not in failed.stdout + failed.stderr + run.stdout + run.stderr
