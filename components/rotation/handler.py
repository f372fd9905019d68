"""Secrets Manager rotation function for credentials AWS ships no rotation template for.

Secrets Manager calls it four times per rotation (``createSecret``, ``setSecret``,
``testSecret``, ``finishSecret``), each with the secret and the token of the new
version. Two targets, chosen by the ``ROTATION_TARGET`` environment variable:

``elasticache-auth-token``
    The secret string is the AUTH token of the replication group ``TARGET_ID``.
    ``setSecret`` adds the new token with ``AuthTokenUpdateStrategy=ROTATE``, so the
    current and the new token are both accepted while clients move over; at the next
    rotation it first makes the then-current token the only one (``SET``, allowed only
    after a ``ROTATE``), so the token before it stops working a full period after it
    was replaced. ``testSecret`` waits until ElastiCache has applied the token.
``opensearch-master-user``
    The secret string is ``{"username", "password"}`` of the fine-grained access
    control master user of the domain ``TARGET_ID``; ``setSecret`` sets the new
    password with ``UpdateDomainConfig``, ``testSecret`` waits until the domain has
    applied it.

Runs on the Lambda runtime's own boto3; no other dependency.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
ELASTICACHE, OPENSEARCH = "elasticache-auth-token", "opensearch-master-user"
# AUTH tokens: 16-128 printable characters, of the specials only !&#$^<>- (ElastiCache); letters and digits suffice.
AUTH_TOKEN_LENGTH = 64
# OpenSearch master passwords need upper and lower case, a digit and a special character.
MASTER_PASSWORD_LENGTH = 32
MASTER_PASSWORD_EXCLUDED = "\"'\\/@`:; "
# How long a step waits for the service to finish applying a change (the function's timeout is 900 s).
WAIT_SECONDS = 780
POLL_SECONDS = 15


class RotationError(Exception):
    """The secret or the service is not in a state this step can work from."""


def lambda_handler(event: dict[str, Any], context: Any, clients: dict[str, Any] | None = None) -> None:
    """One rotation step; ``clients`` lets tests pass their own boto3 clients."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    target, target_id = os.environ["ROTATION_TARGET"], os.environ["TARGET_ID"]
    if target not in (ELASTICACHE, OPENSEARCH):
        raise RotationError(f"unknown ROTATION_TARGET {target!r}")
    clients = clients or {}
    secrets = clients.get("secretsmanager") or boto3.client("secretsmanager")
    service = clients.get("service") or boto3.client("elasticache" if target == ELASTICACHE else "opensearch")

    metadata = secrets.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"secret {arn} does not have rotation enabled")
    stages = metadata.get("VersionIdsToStages", {})
    if token not in stages:
        raise RotationError(f"version {token} of secret {arn} does not exist")
    if CURRENT in stages[token]:
        LOG.info("version %s of %s is already current", token, arn)
        return
    if PENDING not in stages[token]:
        raise RotationError(f"version {token} of secret {arn} is not pending rotation")

    if step == "createSecret":
        create_secret(secrets, arn, token, target)
    elif step == "setSecret":
        set_secret(secrets, service, arn, token, target, target_id, has_previous=any(PREVIOUS in s for s in stages.values()))
    elif step == "testSecret":
        test_secret(secrets, service, arn, token, target, target_id)
    elif step == "finishSecret":
        finish_secret(secrets, arn, token, stages)
    else:
        raise RotationError(f"unknown step {step!r}")


# --------------------------------------------------------------------------- steps


def create_secret(secrets: Any, arn: str, token: str, target: str) -> None:
    """Store a new credential as the pending version (once: a retried step keeps the first one)."""
    current = secrets.get_secret_value(SecretId=arn, VersionStage=CURRENT)["SecretString"]
    try:
        pending = secrets.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)["SecretString"]
        if pending != current:
            LOG.info("pending version %s of %s exists", token, arn)
            return
    except secrets.exceptions.ResourceNotFoundException:
        pass
    if target == ELASTICACHE:
        value = secrets.get_random_password(PasswordLength=AUTH_TOKEN_LENGTH, ExcludePunctuation=True)["RandomPassword"]
    else:
        password = secrets.get_random_password(
            PasswordLength=MASTER_PASSWORD_LENGTH, ExcludeCharacters=MASTER_PASSWORD_EXCLUDED, RequireEachIncludedType=True
        )["RandomPassword"]
        value = json.dumps({**json.loads(current), "password": password})
    secrets.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=value, VersionStages=[PENDING])
    LOG.info("created pending version %s of %s", token, arn)


def set_secret(secrets: Any, service: Any, arn: str, token: str, target: str, target_id: str, *, has_previous: bool) -> None:
    """Make the service accept the pending credential."""
    pending = secrets.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)["SecretString"]
    if target == ELASTICACHE:
        wait_for_replication_group(service, target_id)
        if has_previous:
            # The current token was added by the last rotation's ROTATE; keep only it before adding the next.
            current = secrets.get_secret_value(SecretId=arn, VersionStage=CURRENT)["SecretString"]
            service.modify_replication_group(
                ReplicationGroupId=target_id, AuthToken=current, AuthTokenUpdateStrategy="SET", ApplyImmediately=True
            )
            wait_for_replication_group(service, target_id)
        service.modify_replication_group(
            ReplicationGroupId=target_id, AuthToken=pending, AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True
        )
    else:
        credential = json.loads(pending)
        wait_for_domain(service, target_id)
        service.update_domain_config(
            DomainName=target_id,
            AdvancedSecurityOptions={
                "MasterUserOptions": {"MasterUserName": credential["username"], "MasterUserPassword": credential["password"]}
            },
        )
    LOG.info("%s %s accepts pending version %s of %s", target, target_id, token, arn)


def test_secret(secrets: Any, service: Any, arn: str, token: str, target: str, target_id: str) -> None:
    """The service has applied the pending credential (the function has no network path into the data stores)."""
    if target == ELASTICACHE:
        group = wait_for_replication_group(service, target_id)
        if not group.get("AuthTokenEnabled"):
            raise RotationError(f"replication group {target_id} has AUTH turned off")
        created = secrets.describe_secret(SecretId=arn).get("LastChangedDate")
        applied = group.get("AuthTokenLastModifiedDate")
        if created is not None and applied is not None and applied < created:
            raise RotationError(f"replication group {target_id} has not applied the pending token yet")
    else:
        wait_for_domain(service, target_id)
    LOG.info("%s %s applied pending version %s of %s", target, target_id, token, arn)


def finish_secret(secrets: Any, arn: str, token: str, stages: dict[str, list[str]]) -> None:
    """Move AWSCURRENT to the new version (the old one becomes AWSPREVIOUS)."""
    current = next((version for version, labels in stages.items() if CURRENT in labels), None)
    if current == token:
        return
    secrets.update_secret_version_stage(SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current)
    LOG.info("version %s of %s is current", token, arn)


# --------------------------------------------------------------------------- waiting for the service


def wait_for_replication_group(service: Any, group_id: str) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        (group,) = service.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"]
        if group.get("Status") == "available" and not (group.get("PendingModifiedValues") or {}).get("AuthTokenStatus"):
            return group
        if time.monotonic() >= deadline:
            raise RotationError(f"replication group {group_id} is still {group.get('Status')}; the rotation is retried")
        time.sleep(POLL_SECONDS)


def wait_for_domain(service: Any, domain: str) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        status = service.describe_domain(DomainName=domain)["DomainStatus"]
        if not status.get("Processing") and status.get("DomainProcessingStatus", "Active") == "Active":
            return status
        if time.monotonic() >= deadline:
            raise RotationError(f"domain {domain} is still processing a change; the rotation is retried")
        time.sleep(POLL_SECONDS)
