"""Shared fixtures: every test sees what `python -m golive synth` records.

- ``prod``: the synthesized prod stack (session-scoped: synthesized once).
- ``prod_first_preview``: the same stack as a first preview sees it.
- ``prod_check``: the policy check of it.
- ``synth_config``: synthesize the program with the prod config plus overrides.
- ``synth_program``: synthesize a small program (a single component) under the same engine.
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from golive import check, engine  # noqa: E402

# Every policy must have a test where it fails: record which policies any test saw
# failing (or exempted); tests/test_zz_policy_suite.py checks the set after the suite.
POLICIES_SEEN_FAILING: set[str] = set()
_check_policies = check.check


def _recording_check(*args: Any, **kwargs: Any) -> check.CheckResult:
    result = _check_policies(*args, **kwargs)
    POLICIES_SEEN_FAILING.update(f.policy for f in result.findings)
    POLICIES_SEEN_FAILING.update(e.policy for e in result.exemptions)
    POLICIES_SEEN_FAILING.update(result.reporting)
    return result


check.check = _recording_check


def prod_config(overrides: dict[str, Any] | None = None, remove: tuple[str, ...] = ()) -> tuple[dict[str, str], list[str]]:
    """The prod stack's config as the CLI would pass it, with ``golive:`` keys replaced or removed."""
    config, secret_keys = engine.load_stack_config("prod")
    for key in remove:
        config.pop(key if ":" in key else f"golive:{key}", None)
    for key, value in (overrides or {}).items():
        full = key if ":" in key else f"golive:{key}"
        config[full] = value if isinstance(value, str) else json.dumps(value)
    return config, secret_keys


@pytest.fixture(scope="session")
def prod() -> engine.SynthResult:
    return engine.synth("prod")


@pytest.fixture(scope="session")
def prod_first_preview() -> engine.SynthResult:
    """The prod stack as a first ``pulumi preview`` of an empty stack sees it (cloud-assigned outputs unknown)."""
    return engine.synth("prod", first_preview=True)


@pytest.fixture(scope="session")
def prod_check(prod: engine.SynthResult) -> check.CheckResult:
    return check.check(prod)


@pytest.fixture
def synth_config() -> Callable[..., engine.SynthResult]:
    def run(overrides: dict[str, Any] | None = None, remove: tuple[str, ...] = ()) -> engine.SynthResult:
        config, secret_keys = prod_config(overrides, remove)
        return engine.synth("prod", config=config, secret_keys=secret_keys)

    return run


@pytest.fixture
def synth_program() -> Callable[..., engine.SynthResult]:
    def run(program: Callable[[], None], overrides: dict[str, Any] | None = None) -> engine.SynthResult:
        config, secret_keys = prod_config(overrides)
        return engine.synth("prod", config=config, secret_keys=secret_keys, program=program)

    return run


@pytest.fixture(scope="session")
def without_operational_proof() -> engine.SynthResult:
    """A staging stack that turns restore testing and game days off (shared: one synth for every test that needs it)."""
    config, secret_keys = prod_config({"environment": "staging", "restoreTesting": {"enabled": False}, "gameDays": {"enabled": False}})
    return engine.synth("prod", config=config, secret_keys=secret_keys)
