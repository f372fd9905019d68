"""promtool on the rendered rules: they parse, and every alert fires and stays quiet as its scenarios say."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from components.monitoring import dashboards, rules
from tests.monitoring.conftest import RUNBOOK_BASE

pytestmark = pytest.mark.tools


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_promtool_check_rules_accepts_every_deployed_group(promtool, rendered):
    _, rule_files, _ = rendered
    result = run(promtool, "check", "rules", *map(str, rule_files))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(rule_files)


def test_promtool_unit_tests_fire_and_silence_every_alert(promtool, rendered, groups):
    out, _, test_files = rendered
    # Two processes at a time: the long SLO scenarios dominate.
    procs, results = [], []
    for i in range(0, len(test_files), max(1, len(test_files) // 2 + 1)):
        chunk = test_files[i:i + len(test_files) // 2 + 1]
        procs.append(subprocess.Popen([promtool, "test", "rules", *map(str, chunk)], cwd=out, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    for proc in procs:
        stdout, _ = proc.communicate(timeout=600)
        results.append((proc.returncode, stdout))
    failures = [stdout for code, stdout in results if code != 0]
    assert not failures, "\n".join(failures)
    tests = [t for f in test_files for t in yaml.safe_load(f.read_text())["tests"]]
    alerts = [a for g in groups for a in g.alerts]
    assert len(tests) == sum(1 + (a.quiet is not None) for a in alerts)
    names = {t["name"] for t in tests}
    for alert in alerts:
        assert any(n.startswith(f"{alert.name} ({alert.severity}) fires") for n in names)
    slow = [t for t in tests if "slow 2x burn" in t["name"]]
    fast = [t for t in tests if "burn after an hour" in t["name"]]
    assert slow and fast


def test_promtool_catches_a_wrong_expectation(promtool, tmp_path):
    """The unit tests are not vacuous: a wrong expected value fails."""
    group = rules.data_group()
    (tmp_path / "r.yml").write_text(yaml.safe_dump(rules.rule_file([group], RUNBOOK_BASE)))
    suite = rules.promtool_tests(group, "r.yml", RUNBOOK_BASE)[0]
    test = next(t for t in suite["tests"] if t["name"].startswith("RedisMemoryHigh (warning) fires"))
    test["alert_rule_test"][0]["exp_alerts"][0]["exp_annotations"]["description"] = "wrong"
    (tmp_path / "t.yml").write_text(yaml.safe_dump({**suite, "tests": [test]}))
    result = run(promtool, "test", "rules", str(tmp_path / "t.yml"))
    assert result.returncode != 0
    assert "RedisMemoryHigh" in result.stdout + result.stderr


def test_every_dashboard_query_parses_as_promql(promtool, tmp_path):
    records = []
    for uid, model in dashboards.dashboards().items():
        for i, expr in enumerate(dashboards.queries(model)):
            records.append({"record": f"dashboard:{uid.replace('-', '_')}:q{i}", "expr": dashboards.as_promql(expr)})
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": records}]}))
    result = run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(records)} rules found" in result.stdout
