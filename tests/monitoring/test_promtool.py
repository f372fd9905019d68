"""promtool on the rendered rules: they parse, and every alert fires and stays quiet as its scenarios say."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from components.config import PlatformAlertsConfig
from components.monitoring import dashboards, rules
from tests.monitoring.conftest import RUNBOOK_BASE

pytestmark = pytest.mark.tools


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_promtool_check_rules_accepts_every_deployed_group(promtool, rendered):
    result = run(promtool, "check", "rules", *map(str, rendered.rule_files))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(rendered.rule_files)


def run_batched(promtool: str, files, cwd) -> list[str]:
    """``promtool test rules`` over ``files`` in two processes (the long SLO scenarios dominate); the failures' output."""
    files = list(files)
    half = len(files) // 2 + 1
    procs = [subprocess.Popen([promtool, "test", "rules", *map(str, files[i:i + half])], cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for i in range(0, len(files), half)]
    results = [(proc.wait(timeout=600), proc.stdout.read()) for proc in procs]
    return [stdout for code, stdout in results if code != 0]


def test_promtool_unit_tests_fire_and_silence_every_alert(promtool, rendered, groups):
    failures = run_batched(promtool, rendered.test_files, rendered.out)
    assert not failures, "\n".join(failures)
    tests = [t for f in rendered.test_files for t in yaml.safe_load(f.read_text())["tests"]]
    run_alerts = [a for g in groups for u in rules.test_units(g) if u.name not in rendered.same_as for a in u.alerts]
    assert len(tests) == sum(1 + (a.quiet is not None) for a in run_alerts)
    names = {t["name"] for t in tests}
    for alert in run_alerts:
        assert any(n.startswith(f"{alert.name} ({alert.severity}) fires") for n in names)
    slow = [t for t in tests if "slow 2x burn" in t["name"]]
    fast = [t for t in tests if "burn after an hour" in t["name"]]
    assert slow and fast


def test_every_alert_is_tested_by_promtool_or_by_an_identical_unit(rendered, groups):
    """Skipped SLO units equal a run one but for the service name; every other alert's unit runs."""
    run = {u.name for g in groups for u in rules.test_units(g)} - set(rendered.same_as)
    assert set(rendered.same_as.values()) <= run
    for group in groups:
        for unit in rules.test_units(group):
            if unit.name in rendered.same_as:
                assert unit.name.startswith("golive-slo-"), unit.name
    slo_groups = [g for g in groups if g.name.startswith("golive-slo-")]
    assert len(run & {u.name for g in slo_groups for u in rules.test_units(g)}) >= 2


def test_promtool_catches_a_wrong_expectation(promtool, tmp_path):
    """The unit tests are not vacuous: a wrong expected value fails."""
    group = rules.data_group(PlatformAlertsConfig())
    (tmp_path / "r.yml").write_text(yaml.safe_dump(rules.rule_file([group], RUNBOOK_BASE)))
    suite = rules.promtool_tests(group, "r.yml", RUNBOOK_BASE)[0]
    test = next(t for t in suite["tests"] if t["name"].startswith("RedisMemoryHigh (warning) fires"))
    test["alert_rule_test"][0]["exp_alerts"][0]["exp_annotations"]["description"] = "wrong"
    (tmp_path / "t.yml").write_text(yaml.safe_dump({**suite, "tests": [test]}))
    result = run(promtool, "test", "rules", str(tmp_path / "t.yml"))
    assert result.returncode != 0
    assert "RedisMemoryHigh" in result.stdout + result.stderr


def test_every_dashboard_query_parses_as_promql(promtool, tmp_path, prod_config):
    records = []
    for uid, model in dashboards.dashboards(prod_config.services, read_replicas=1).items():
        for i, expr in enumerate(dashboards.queries(model)):
            records.append({"record": f"dashboard:{uid.replace('-', '_')}:q{i}", "expr": dashboards.as_promql(expr)})
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": records}]}))
    result = run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(records)} rules found" in result.stdout
