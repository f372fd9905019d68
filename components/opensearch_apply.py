"""Apply the logs domain's own settings through its REST API: what the opensearch-setup Job runs at ``pulumi up``.

The program cannot reach the domain (a private VPC endpoint that admits the cluster's nodes only),
so a Kubernetes Job does, from inside the cluster, with the master user's credentials that its
init container read from Secrets Manager into an in-memory volume. It runs with the Python
standard library only. Everything it does is idempotent:

1. writer roles of the security plugin (``PUT _plugins/_security/api/roles/<role>``) and their
   mapping to the IAM roles that write (``…/rolesmapping/<role>``, ``backend_roles``): Fluent Bit and
   Jaeger sign their requests with SigV4 and get exactly these permissions;
2. index lifecycle (ISM) policies: created, or updated when they differ (with the sequence number
   the ISM API requires), then attached to the indices that already exist (``_plugins/_ism/add``;
   new indices get them from the policy's ``ism_template``) and, after an update, moved to the new
   version (``_plugins/_ism/change_policy``).

Environment: ``OPENSEARCH_URL`` (``https://<endpoint>``), ``CREDENTIALS_FILE`` (JSON with
``username`` and ``password``), ``SETTINGS_FILE`` (JSON with ``roles`` and ``ismPolicies``),
``ROLE_MAPPINGS`` (JSON: role name -> backend role ARNs). Exit 0 when everything is applied,
1 with the reason otherwise (the Job retries; ``pulumi up`` fails when it gives up).
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

ALREADY_MANAGED = "already has a policy"


class SetupError(Exception):
    """The domain refused a setting; the message says which and why."""


class Client:
    """A small JSON client for the domain's REST API with basic authentication (the master user)."""

    def __init__(self, base_url: str, username: str, password: str, *, attempts: int = 5, pause: float = 2.0,
                 opener: Callable[..., Any] | None = None):
        self.base_url = base_url.rstrip("/")
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json", "Accept": "application/json"}
        self.attempts, self.pause = attempts, pause
        context = ssl.create_default_context()
        self._open = opener or (lambda request, timeout: urllib.request.urlopen(request, timeout=timeout, context=context))

    def call(self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None) -> tuple[int, Any]:
        """(status, parsed JSON body); retries connection errors and 5xx, returns 4xx to the caller."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(url, data=data, method=method, headers=self.headers)
            try:
                with self._open(request, timeout=30) as response:
                    return response.status, _json(response.read())
            except urllib.error.HTTPError as err:
                status, payload = err.code, _json(err.read())
                if status < 500 or attempt == self.attempts:
                    return status, payload
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                if attempt == self.attempts:
                    raise SetupError(f"{method} {path}: cannot reach the domain ({err})") from err
            time.sleep(self.pause * attempt)
        raise AssertionError("unreachable")

    def expect(self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None,
               ok: tuple[int, ...] = (200, 201)) -> Any:
        status, payload = self.call(method, path, body, query)
        if status not in ok:
            raise SetupError(f"{method} {path}: HTTP {status}: {json.dumps(payload)[:500]}")
        return payload


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {"raw": raw[:500].decode(errors="replace")}


def _core(policy: Mapping[str, Any]) -> Any:
    """What golive declares of an ISM policy; the domain adds ids, timestamps and default retry settings."""
    return {
        "description": policy.get("description"),
        "default_state": policy.get("default_state"),
        "states": [{"name": s.get("name"), "actions": sorted(k for a in s.get("actions") or [] for k in a if k != "retry"),
                    "transitions": [{"state_name": t.get("state_name"), "conditions": t.get("conditions")}
                                    for t in s.get("transitions") or []]}
                   for s in policy.get("states") or []],
        "ism_template": [{"index_patterns": sorted(t.get("index_patterns") or []), "priority": t.get("priority")}
                         for t in policy.get("ism_template") or []],
    }


def apply_role(client: Client, role: str, definition: Mapping[str, Any], backend_roles: list[str], log: Callable[[str], None]) -> None:
    client.expect("PUT", f"_plugins/_security/api/roles/{role}", definition)
    client.expect("PUT", f"_plugins/_security/api/rolesmapping/{role}", {"backend_roles": backend_roles, "hosts": [], "users": []})
    log(f"role {role}: applied, mapped to {len(backend_roles)} backend role(s)")


def apply_ism_policy(client: Client, policy_id: str, document: Mapping[str, Any], log: Callable[[str], None]) -> None:
    path = f"_plugins/_ism/policies/{policy_id}"
    status, current = client.call("GET", path)
    updated = False
    if status == 404:
        client.expect("PUT", path, document)
        log(f"ISM policy {policy_id}: created")
    elif status == 200:
        if _core(current.get("policy") or {}) != _core(document["policy"]):
            client.expect("PUT", path, document, query={"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]})
            updated = True
            log(f"ISM policy {policy_id}: updated")
        else:
            log(f"ISM policy {policy_id}: unchanged")
    else:
        raise SetupError(f"GET {path}: HTTP {status}: {json.dumps(current)[:500]}")
    for pattern in sorted({p for t in document["policy"].get("ism_template") or [] for p in t.get("index_patterns") or []}):
        target = urllib.parse.quote(pattern, safe="*")
        if updated:
            client.expect("POST", f"_plugins/_ism/change_policy/{target}", {"policy_id": policy_id})
        result = client.expect("POST", f"_plugins/_ism/add/{target}", {"policy_id": policy_id})
        refused = [f for f in result.get("failed_indices") or [] if ALREADY_MANAGED not in str(f.get("reason", ""))]
        if refused:
            raise SetupError(f"ISM policy {policy_id}: could not attach to {pattern}: {json.dumps(refused)[:500]}")
        log(f"ISM policy {policy_id}: {result.get('updated_indices', 0)} existing {pattern} index(es) attached")


def apply(client: Client, settings: Mapping[str, Any], role_mappings: Mapping[str, list[str]], log: Callable[[str], None] = print) -> None:
    """Roles first (so the writers can write), then the lifecycle policies."""
    missing = sorted(set(settings.get("roles") or {}) - set(role_mappings))
    if missing:
        raise SetupError(f"no backend roles given for {', '.join(missing)} (ROLE_MAPPINGS)")
    for role, definition in sorted((settings.get("roles") or {}).items()):
        apply_role(client, role, definition, list(role_mappings[role]), log)
    for policy_id, document in sorted((settings.get("ismPolicies") or {}).items()):
        apply_ism_policy(client, policy_id, document, log)


def main(environ: Mapping[str, str] = os.environ) -> int:
    try:
        with open(environ["CREDENTIALS_FILE"]) as f:
            credentials = json.load(f)
        with open(environ["SETTINGS_FILE"]) as f:
            settings = json.load(f)
        role_mappings = json.loads(environ.get("ROLE_MAPPINGS") or "{}")
        client = Client(environ["OPENSEARCH_URL"], credentials["username"], credentials["password"])
        apply(client, settings, role_mappings)
    except (SetupError, KeyError, ValueError, OSError) as err:
        print(f"opensearch-setup: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print("opensearch-setup: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
