"""The one place that reads ``golive:*`` keys: parse a stack's raw config, check its secrets, load the running program's."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any

from .parser import _MISSING, HIDDEN, NAMESPACE, ConfigError, Problem, _brief, _closest, _Ctx, _Parse, _unknown_key_rule, camel
from .stack import Secrets, StackConfig

# Secret keys: read with get_secret/require_secret only; they stay Outputs.
SECRET_KEYS: dict[str, str] = {
    "pagerdutyRoutingKey": "PagerDuty Events v2 routing key for critical alerts",
    "slackWebhookUrl": "Slack incoming-webhook URL for alert notifications",
    "smtpPassword": "password of the SMTP account that sends alert e-mail",
}


def parse(raw: Mapping[str, Any], stack: str = "", *, secrets: Mapping[str, bool] | None = None,
          provider_region: str | None = None) -> StackConfig:
    """Parse and validate the ``golive:`` part of a stack config (keys without the namespace).

    ``secrets`` says, for each secret key the stack sets, whether it is a secret (``secure:``) value; None when
    the config is read outside a running program (nothing to say about secrets then). ``provider_region`` is the
    stack's ``aws:region``, if set. Raises :class:`ConfigError` listing every problem.
    """
    section_raw = {k: v for k, v in raw.items() if k not in SECRET_KEYS}
    hints = typing.get_type_hints(StackConfig)
    fields = {camel(f.name): f for f in dataclasses.fields(StackConfig)}
    # Every section's rules depend on the environment and the region: read them first.
    head = _Parse(_Ctx("production", "eu-west-1"))
    environment, region = (head.coerce(hints[name], section_raw[name], name) if name in section_raw else _MISSING
                           for name in ("environment", "region"))
    defaults = StackConfig()
    parser = _Parse(_Ctx(defaults.environment if environment is _MISSING else environment,
                         defaults.region if region is _MISSING else region))
    # Top-level keys are reported as `golive:key`, nested ones as `golive:section.key`.
    for unknown in sorted(set(section_raw) - set(fields)):
        # A misspelt secret key may hold the secret itself: never print it.
        close_to_secret = _closest(unknown, SECRET_KEYS) is not None
        parser.problems.append(Problem(f"{NAMESPACE}:{unknown}", HIDDEN if close_to_secret else _brief(raw[unknown]),
                                       _unknown_key_rule(unknown, {**fields, **SECRET_KEYS})))
    kwargs: dict[str, Any] = {}
    for camel_name, f in fields.items():
        if camel_name in section_raw:
            key = f"{NAMESPACE}:{camel_name}"
            value = parser.coerce(hints[f.name], section_raw[camel_name], key)
            if value is _MISSING:
                parser.broken.add(key)  # its default stands in; the rules' verdicts on it are dropped
            else:
                kwargs[f.name] = value
    config = StackConfig(**kwargs)
    for camel_name, f in fields.items():
        if camel_name not in section_raw:
            parser.check_tree(getattr(config, f.name), f"{NAMESPACE}:{camel_name}")
    parser.check(config, NAMESPACE)
    if provider_region is not None and provider_region != config.region:
        parser.checks.append(Problem("aws:region", provider_region, f"contradicts golive:region ({config.region}): every AWS "
                                     "resource goes through golive's own provider in golive:region; remove aws:region or "
                                     "make the two equal"))
    if secrets is not None:
        parser.checks += _secret_problems(secrets, config.production)
        parser.checks += _program_problems(config)
    problems = parser.problems + parser.checks
    if problems:
        raise ConfigError(problems, stack)
    return config


def _program_problems(config: StackConfig) -> list[Problem]:
    """What a production stack must be given because no default can hold it (as its secrets): checked when the program runs.

    The admin VPN needs the stack's own certificates; without it the private Kubernetes API has no way in for administrators.
    """
    if not config.production or config.security.vpn.enabled:
        return []
    return [Problem(f"{NAMESPACE}:security.vpn.enabled", False, "a production stack needs the admin VPN: the Kubernetes API is "
                    "private and the VPN is the administrators' way to it; enable it with serverCertificateArn and "
                    "clientRootCertificateArn (ACM certificates of this region)")]


def _secret_problems(secrets: Mapping[str, bool], production: bool) -> list[Problem]:
    """Secret keys hold ``secure:`` values only; a production stack sets every one (its alerts page someone)."""
    problems = []
    for key, text in SECRET_KEYS.items():
        command = f"`pulumi config set --secret {NAMESPACE}:{key} <value>`"
        if key not in secrets:
            if production:
                problems.append(Problem(f"{NAMESPACE}:{key}", _MISSING, f"a production stack needs the {text}; set it with {command}"))
        elif not secrets[key]:
            problems.append(Problem(f"{NAMESPACE}:{key}", HIDDEN, f"is set in plain text; a secret is only ever a `secure:` "
                                    f"value: remove it from the stack file and set it with {command}"))
    return problems


def raw_from_pulumi() -> tuple[dict[str, Any], dict[str, bool]]:
    """Every ``golive:`` key the running program was given, as given, and which secret keys are secrets.

    The secret keys' values never enter the raw config: only whether each is set, and as a secret.
    """
    import pulumi.runtime.config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    secret = set(runtime_config.get_config_secret_keys_env())
    raw: dict[str, Any] = {}
    secrets: dict[str, bool] = {}
    prefix = f"{NAMESPACE}:"
    for full_key in sorted(keys):
        if not full_key.startswith(prefix):
            continue
        name = full_key[len(prefix):]
        if name in SECRET_KEYS:
            secrets[name] = runtime_config.is_config_secret(full_key) or full_key in secret
            continue
        # Scalars arrive as strings and objects as JSON strings, as the CLI passes them;
        # each field's type decides how its string is read.
        raw[name] = runtime_config.get_config(full_key)
    return raw, secrets


def load() -> tuple[StackConfig, Secrets]:
    """Read and validate the running stack's config; fail with one readable message.

    Used by ``__main__.py``: under the CLI a ``pulumi.RunError`` prints without a traceback.
    """
    import pulumi
    import pulumi.runtime.config as runtime_config

    raw, given_secrets = raw_from_pulumi()
    try:
        config = parse(raw, pulumi.get_stack(), secrets=given_secrets, provider_region=runtime_config.get_config("aws:region"))
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None
    ns = pulumi.Config(NAMESPACE)
    secrets = Secrets({key: ns.get_secret(key) for key in SECRET_KEYS})
    return config, secrets
