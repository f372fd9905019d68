"""Shared fixtures of the monitoring tests: the prod catalog, rendered rule files, the tools."""

from __future__ import annotations

import os
import pathlib
import shutil

import pytest
import yaml

from components.config import StackConfig, parse
from components.monitoring import rules
from golive import engine

RUNBOOK_BASE = "https://github.com/golive-platform/golive/blob/main/docs/runbooks"


def tool(name: str) -> str:
    """The path of a CLI the suite needs: missing fails the test unless GOLIVE_SKIP_TOOLS=1."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("GOLIVE_SKIP_TOOLS") == "1":
        pytest.skip(f"{name} not installed and GOLIVE_SKIP_TOOLS=1")
    pytest.fail(f"{name} is not installed: apt-get install prometheus prometheus-alertmanager (or set GOLIVE_SKIP_TOOLS=1)")


@pytest.fixture
def promtool() -> str:
    return tool("promtool")


@pytest.fixture
def amtool() -> str:
    return tool("amtool")


@pytest.fixture(scope="session")
def prod_config() -> StackConfig:
    flat, _ = engine.load_stack_config("prod")
    return parse({k.split(":", 1)[1]: v for k, v in flat.items() if k.startswith("golive:")})


@pytest.fixture(scope="session")
def groups(prod_config: StackConfig) -> list[rules.RuleGroup]:
    return rules.all_groups(prod_config.services)


@pytest.fixture(scope="session")
def rendered(groups, tmp_path_factory) -> tuple[pathlib.Path, list[pathlib.Path], list[pathlib.Path]]:
    """Rule files (one per group, as deployed) and promtool test files (one per test unit and interval)."""
    out = tmp_path_factory.mktemp("promtool")
    rule_files, test_files = [], []
    for group in groups:
        path = out / f"{group.name}.rules.yml"
        path.write_text(yaml.safe_dump(rules.rule_file([group], RUNBOOK_BASE), sort_keys=False))
        rule_files.append(path)
        for unit in rules.test_units(group):
            unit_file = f"{unit.name}.unit.rules.yml"
            (out / unit_file).write_text(yaml.safe_dump(rules.rule_file([unit], RUNBOOK_BASE), sort_keys=False))
            for i, tests in enumerate(rules.promtool_tests(unit, unit_file, RUNBOOK_BASE)):
                test_path = out / f"{unit.name}.{i}.test.yml"
                test_path.write_text(yaml.safe_dump(tests, sort_keys=False, width=1 << 30))
                test_files.append(test_path)
    return out, rule_files, test_files
