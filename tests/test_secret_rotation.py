"""components/secret_rotation.py and its function components/rotation/handler.py.

The component is checked on the prod synth. The function runs its four steps against
moto in server mode for Secrets Manager (versions, staging labels, random passwords),
and against botocore's Stubber for ElastiCache and OpenSearch: moto implements
neither ModifyReplicationGroup's AUTH token strategies nor UpdateDomainConfig's master
user, so those calls are checked against the services' request models instead.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT
from tests.helpers import deps, of_type, one, props

SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

# Every secret the stack declares, and what rotates it (the requirement, as data).
ROTATED = {
    "golive-cache-auth-token": ("elasticache-auth-token", "golive-cache"),
    "golive-logs-master": ("opensearch-master-user", "golive-logs"),
}


def rotation_of(prod, secret):
    (rotation,) = [r for r in of_type(prod, ROTATION) if deps(r, "secretId") == [secret["urn"]]]
    return rotation


# --------------------------------------------------------------------------- the component on the prod stack


def test_every_secret_rotates_on_a_schedule_by_its_function(prod):
    secrets = {s["name"]: s for s in of_type(prod, SECRET)}
    assert set(secrets) == set(ROTATED)
    for name, (target, target_id) in ROTATED.items():
        rotation = rotation_of(prod, secrets[name])
        assert props(rotation)["rotationRules"] == {"automaticallyAfterDays": 30}
        assert props(rotation)["rotateImmediately"] is False  # a deployment never swaps a credential under its clients
        (function_urn,) = deps(rotation, "rotationLambdaArn")
        function = prod.by_urn()[function_urn]
        assert props(function)["environment"]["variables"] == {"ROTATION_TARGET": target, "TARGET_ID": target_id}
        assert props(function)["runtime"] == "python3.12" and props(function)["handler"] == "handler.lambda_handler"
        assert props(function)["code"]["path"] == "components/rotation"
        assert props(function)["timeout"] == 900 and props(function)["reservedConcurrentExecutions"] == 1
        assert props(function)["tracingConfig"] == {"mode": "Active"}
        # The environment is encrypted with the secret's own key.
        assert deps(function, "kmsKeyArn") == deps(secrets[name], "kmsKeyId")


def test_only_secrets_manager_may_invoke_the_function_and_only_for_its_secret(prod):
    for name in ROTATED:
        secret = one(prod, SECRET, name)
        function = prod.by_urn()[deps(rotation_of(prod, secret), "rotationLambdaArn")[0]]
        (permission,) = [p for p in of_type(prod, PERMISSION) if deps(p, "function") == [function["urn"]]]
        assert props(permission)["principal"] == "secretsmanager.amazonaws.com"
        assert props(permission)["action"] == "lambda:InvokeFunction"
        assert deps(permission, "sourceArn") == [secret["urn"]] and props(permission)["sourceAccount"] == "123456789012"


@pytest.mark.parametrize("name, actions", [
    ("golive-cache-auth-token", {"elasticache:DescribeReplicationGroups", "elasticache:ModifyReplicationGroup"}),
    ("golive-logs-master", {"es:DescribeDomain", "es:DescribeDomainConfig", "es:UpdateDomainConfig"}),
])
def test_the_role_may_change_one_secret_and_one_credential(prod, name, actions):
    secret = one(prod, SECRET, name)
    (policy,) = [p for p in of_type(prod, ROLE_POLICY) if p["name"] == f"{name}-rotation"]
    statements = {s["Sid"]: s for s in json.loads(props(policy)["policy"])["Statement"]}
    assert statements["RotateThisSecret"]["Resource"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:")
    assert secret["urn"] in deps(policy, "policy")
    assert set(statements["ChangeTheCredential"]["Action"]) == actions
    target = statements["ChangeTheCredential"]["Resource"]
    assert target.startswith(("arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:golive-cache",
                              "arn:aws:es:eu-west-1:123456789012:domain/golive-logs"))
    assert statements["UseTheSecretsKey"]["Condition"]["StringEquals"]["kms:ViaService"] == [
        "secretsmanager.eu-west-1.amazonaws.com", "lambda.eu-west-1.amazonaws.com"]
    # "*" only for the two actions without resource-level permissions, and only in the region.
    unscoped = {s["Sid"]: s for s in statements.values() if s["Resource"] == "*"}
    assert set(unscoped) == {"GeneratePasswords", "Trace"}
    assert all(s["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}} for s in unscoped.values())


def test_the_function_logs_to_an_encrypted_retained_group(prod):
    for name in ROTATED:
        group = one(prod, LOG_GROUP, f"{name}-rotation")
        assert props(group)["name"] == f"/aws/lambda/{name}-rotation" and props(group)["retentionInDays"] == 365
        assert props(group)["kmsKeyId"].startswith("arn:aws:kms:")


def test_rotation_days_outside_1_to_90_are_config_errors():
    from components.config import ConfigError, parse

    for section, key in (({"cache": {}}, "authTokenRotationDays"), ({"monitoring": {"logs": {}}}, "masterPasswordRotationDays")):
        raw = json.loads(json.dumps(section))
        leaf = raw["cache"] if "cache" in raw else raw["monitoring"]["logs"]
        leaf[key] = 120
        with pytest.raises(ConfigError, match=f"{key} = 120: must be 1 to 90 days"):
            parse(raw)


# --------------------------------------------------------------------------- the function


def _handler():
    sys.dont_write_bytecode = True  # keep __pycache__ out of the directory the function is zipped from
    try:
        spec = importlib.util.spec_from_file_location("rotation_handler", ROOT / "components" / "rotation" / "handler.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = False
    return module


handler = _handler()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """``moto_server`` on a free loopback port, for this module's Secrets Manager calls."""
    port = _free_port()
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def secrets(moto_endpoint, monkeypatch):
    import boto3

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(key, value)
    return boto3.client("secretsmanager", endpoint_url=moto_endpoint)


def _service(name: str):
    import boto3
    from botocore.stub import Stubber

    client = boto3.client(name, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return client, Stubber(client)


def _start_rotation(secrets, arn: str) -> str:
    """What Secrets Manager does before calling the function: rotation on, a pending version id. Returns its token.

    moto's RotateSecret records both, then fails to invoke the function (moto has no Lambda runtime here).
    """
    with contextlib.suppress(secrets.exceptions.ResourceNotFoundException):
        secrets.rotate_secret(SecretId=arn, RotationLambdaARN="arn:aws:lambda:eu-west-1:123456789012:function:golive-rotation",
                              RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=True)
    stages = secrets.describe_secret(SecretId=arn)["VersionIdsToStages"]
    (token,) = [version for version, labels in stages.items() if "AWSPENDING" in labels]
    return token


def _group(status="available", modified=None, auth=True):
    group = {"ReplicationGroupId": "golive-cache", "Status": status, "AuthTokenEnabled": auth}
    if modified is not None:
        group["AuthTokenLastModifiedDate"] = modified
    return {"ReplicationGroups": [group]}


def _rotate(secrets, service, arn, token, target, target_id):
    env = {"ROTATION_TARGET": target, "TARGET_ID": target_id}
    clients = {"secretsmanager": secrets, "service": service}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            handler.lambda_handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, None, clients)


def test_the_auth_token_is_added_beside_the_current_one_then_made_current(secrets):
    arn = secrets.create_secret(Name="golive/cache/auth-token-1", SecretString="first-token-0123456789")["ARN"]
    token = _start_rotation(secrets, arn)
    service, stub = _service("elasticache")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    new = {}

    def capture(value):
        new["token"] = value
        return True

    stub.add_response("describe_replication_groups", _group(), {"ReplicationGroupId": "golive-cache"})
    # First rotation: nothing to SET yet (the group has only its creation token); ROTATE adds the new one.
    stub.add_response("modify_replication_group", {"ReplicationGroup": {"ReplicationGroupId": "golive-cache"}},
                      {"ReplicationGroupId": "golive-cache", "AuthToken": _Capture(capture), "AuthTokenUpdateStrategy": "ROTATE",
                       "ApplyImmediately": True})
    stub.add_response("describe_replication_groups", _group(modified=later), {"ReplicationGroupId": "golive-cache"})
    with stub:
        _rotate(secrets, service, arn, token, "elasticache-auth-token", "golive-cache")
        stub.assert_no_pending_responses()
    current = secrets.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
    previous = secrets.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")
    assert current["VersionId"] == token and current["SecretString"] == new["token"]
    assert previous["SecretString"] == "first-token-0123456789"
    assert len(new["token"]) == 64 and new["token"].isalnum()  # 16-128 printable, no character ElastiCache refuses


def test_the_next_rotation_first_drops_the_token_before_the_current_one(secrets):
    arn = secrets.create_secret(Name="golive/cache/auth-token-2", SecretString="first-token-0123456789")["ARN"]
    secrets.put_secret_value(SecretId=arn, SecretString="second-token-0123456789")  # the last rotation's token, now current
    token = _start_rotation(secrets, arn)
    service, stub = _service("elasticache")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    group = {"ReplicationGroupId": "golive-cache"}
    stub.add_response("describe_replication_groups", _group(), group)
    stub.add_response("modify_replication_group", {"ReplicationGroup": group},
                      {**group, "AuthToken": "second-token-0123456789", "AuthTokenUpdateStrategy": "SET", "ApplyImmediately": True})
    stub.add_response("describe_replication_groups", _group(status="modifying"), group)
    stub.add_response("describe_replication_groups", _group(), group)
    stub.add_response("modify_replication_group", {"ReplicationGroup": group},
                      {**group, "AuthToken": _Capture(lambda v: v not in ("first-token-0123456789", "second-token-0123456789")),
                       "AuthTokenUpdateStrategy": "ROTATE", "ApplyImmediately": True})
    stub.add_response("describe_replication_groups", _group(modified=later), group)
    with stub, pytest.MonkeyPatch.context() as mp:
        mp.setattr(handler, "POLL_SECONDS", 0)
        _rotate(secrets, service, arn, token, "elasticache-auth-token", "golive-cache")
        stub.assert_no_pending_responses()
    assert secrets.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"] == "second-token-0123456789"


def test_the_test_step_fails_while_elasticache_has_not_applied_the_token(secrets):
    arn = secrets.create_secret(Name="golive/cache/auth-token-3", SecretString="first-token-0123456789")["ARN"]
    token = _start_rotation(secrets, arn)
    service, stub = _service("elasticache")
    earlier = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    stub.add_response("describe_replication_groups", _group(modified=earlier), {"ReplicationGroupId": "golive-cache"})
    clients = {"secretsmanager": secrets, "service": service}
    with stub, pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROTATION_TARGET", "elasticache-auth-token")
        mp.setenv("TARGET_ID", "golive-cache")
        handler.lambda_handler({"SecretId": arn, "ClientRequestToken": token, "Step": "createSecret"}, None, clients)
        with pytest.raises(handler.RotationError, match="has not applied the pending token"):
            handler.lambda_handler({"SecretId": arn, "ClientRequestToken": token, "Step": "testSecret"}, None, clients)
    assert secrets.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"] == "first-token-0123456789"


def test_the_opensearch_master_password_changes_and_the_user_stays(secrets):
    first = {"username": "golive-admin", "password": "Initial-Password-1"}
    arn = secrets.create_secret(Name="golive/opensearch/master-user", SecretString=json.dumps(first))["ARN"]
    token = _start_rotation(secrets, arn)
    service, stub = _service("opensearch")
    status = {"DomainStatus": {"DomainId": "123456789012/golive-logs", "DomainName": "golive-logs",
                               "ARN": "arn:aws:es:eu-west-1:123456789012:domain/golive-logs", "ClusterConfig": {},
                               "Processing": False}}
    sent = {}

    def options(value):
        sent.update(value["MasterUserOptions"])
        return value["MasterUserOptions"]["MasterUserName"] == "golive-admin"

    stub.add_response("describe_domain", status, {"DomainName": "golive-logs"})
    stub.add_response("update_domain_config", {"DomainConfig": {}},
                      {"DomainName": "golive-logs", "AdvancedSecurityOptions": _Capture(options)})
    stub.add_response("describe_domain", status, {"DomainName": "golive-logs"})
    with stub:
        _rotate(secrets, service, arn, token, "opensearch-master-user", "golive-logs")
        stub.assert_no_pending_responses()
    current = json.loads(secrets.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    assert current["username"] == "golive-admin" and current["password"] == sent["MasterUserPassword"] != first["password"]
    password = current["password"]
    assert len(password) == 32 and any(c.isupper() for c in password) and any(c.islower() for c in password)
    assert any(c.isdigit() for c in password) and not set(password) & set(handler.MASTER_PASSWORD_EXCLUDED)


def test_a_secret_without_rotation_or_an_unknown_version_is_refused(secrets, monkeypatch):
    arn = secrets.create_secret(Name="golive/not-rotated", SecretString="x" * 20)["ARN"]
    monkeypatch.setenv("ROTATION_TARGET", "elasticache-auth-token")
    monkeypatch.setenv("TARGET_ID", "golive-cache")
    clients = {"secretsmanager": secrets, "service": object()}
    with pytest.raises(handler.RotationError, match="does not have rotation enabled"):
        handler.lambda_handler({"SecretId": arn, "ClientRequestToken": "a" * 32, "Step": "createSecret"}, None, clients)
    _start_rotation(secrets, arn)
    with pytest.raises(handler.RotationError, match="does not exist"):
        handler.lambda_handler({"SecretId": arn, "ClientRequestToken": "b" * 36, "Step": "createSecret"}, None, clients)
    monkeypatch.setenv("ROTATION_TARGET", "rds")
    with pytest.raises(handler.RotationError, match="unknown ROTATION_TARGET"):
        handler.lambda_handler({"SecretId": arn, "ClientRequestToken": "b" * 36, "Step": "createSecret"}, None, clients)


def test_the_handler_needs_nothing_but_the_lambda_runtime():
    """It is zipped alone from components/rotation: stdlib and boto3 (the runtime's) only."""
    import ast

    tree = ast.parse((ROOT / "components" / "rotation" / "handler.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "json", "logging", "os", "time", "typing", "boto3"}
    assert sorted(p.name for p in (ROOT / "components" / "rotation").iterdir() if p.name != "__pycache__") == ["handler.py"]
    assert os.environ.get("ROTATION_TARGET") is None


class _Capture:
    """A Stubber expected-parameter that accepts a value the test cannot know in advance but can check."""

    def __init__(self, check):
        self.check = check

    def __eq__(self, other):
        return bool(self.check(other))

    def __repr__(self):
        return "<checked value>"


def test_a_group_still_modifying_past_the_wait_fails_the_step_so_secrets_manager_retries(monkeypatch):
    service, stub = _service("elasticache")
    stub.add_response("describe_replication_groups", _group(status="modifying"), {"ReplicationGroupId": "golive-cache"})
    monkeypatch.setattr(handler, "WAIT_SECONDS", 0)
    with stub, pytest.raises(handler.RotationError, match="still modifying; the rotation is retried"):
        handler.wait_for_replication_group(service, "golive-cache")
