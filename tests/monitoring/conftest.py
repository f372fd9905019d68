"""Shared fixtures of the monitoring tests: the prod catalog, rendered rule files, the tools."""

from __future__ import annotations

import os
import pathlib
import shutil
from dataclasses import dataclass

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
    return rules.all_groups(prod_config.services, prod_config.monitoring, read_replicas=prod_config.database.read_replicas)


@dataclass(frozen=True)
class Rendered:
    """Rule files (one per group, as deployed) and promtool test files (one per test unit and interval).

    An SLO unit whose rules and tests equal an earlier one's but for the service name is not run again:
    ``same_as`` maps it to the unit whose run covers it (the catalog's services often share objectives).
    """

    out: pathlib.Path
    rule_files: list[pathlib.Path]
    test_files: list[pathlib.Path]
    same_as: dict[str, str]


def _canonical(unit: rules.RuleGroup, service: str) -> str:
    text = yaml.safe_dump([rules.rule_file([unit], RUNBOOK_BASE), rules.promtool_tests(unit, "unit.yml", RUNBOOK_BASE)], sort_keys=True)
    return text.replace(service, "<service>")


@pytest.fixture(scope="session")
def rendered(groups, tmp_path_factory) -> Rendered:
    out = tmp_path_factory.mktemp("promtool")
    rule_files, test_files, same_as, seen = [], [], {}, {}
    for group in groups:
        path = out / f"{group.name}.rules.yml"
        path.write_text(yaml.safe_dump(rules.rule_file([group], RUNBOOK_BASE), sort_keys=False))
        rule_files.append(path)
        service = group.name.removeprefix("golive-slo-") if group.name.startswith("golive-slo-") else ""
        for unit in rules.test_units(group):
            if service:
                canonical = _canonical(unit, service)
                if canonical in seen:
                    same_as[unit.name] = seen[canonical]
                    continue
                seen[canonical] = unit.name
            unit_file = f"{unit.name}.unit.rules.yml"
            (out / unit_file).write_text(yaml.safe_dump(rules.rule_file([unit], RUNBOOK_BASE), sort_keys=False))
            for i, tests in enumerate(rules.promtool_tests(unit, unit_file, RUNBOOK_BASE)):
                test_path = out / f"{unit.name}.{i}.test.yml"
                test_path.write_text(yaml.safe_dump(tests, sort_keys=False, width=1 << 30))
                test_files.append(test_path)
    return Rendered(out, rule_files, test_files, same_as)
