"""The traffic-router plugin (delivery/alb-traffic-router) against what the stack configures.

- The default ``golive:delivery.trafficRouterPlugin`` is the plugin's reproducible build: this test builds it exactly
  as the release workflow does and compares SHA-256s, so the config can only name what a release publishes.
- The plugin accepts the configuration components/delivery.py renders into each Rollout (and refuses broken ones).
- Its go.mod follows the controller it runs under: the chart's Argo Rollouts version and its version-pin replaces.
- The controller's IRSA policy grants exactly the ELB calls the plugin makes.

These run the machine's Go (and the Go module proxy on a cold module cache); the Go suite itself runs in `make
plugin-test`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from components import delivery
from components.config import AwsAccount, TrafficRouterPluginConfig, parse
from tests.helpers import of_type, props

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "delivery" / "alb-traffic-router"
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
# The argo-rollouts chart's appVersion (charts/argo-rollouts/Chart.yaml of argoproj/argo-helm): the controller the
# plugin is loaded by, whose RPC types it must be built against.
CHART_APP_VERSION = {"2.40.9": "v1.9.0"}
RELEASES = "https://github.com/golive-platform/golive/releases/download"


def go() -> str:
    found = shutil.which("go")
    assert found, "Go is not installed: the traffic-router plugin is built and tested with the machine's Go (docs/delivery.md)"
    return found


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=PLUGIN, capture_output=True, text=True, timeout=1500, **kwargs)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def go_version_constant() -> str:
    match = re.search(r'^const Version = "([0-9]+\.[0-9]+\.[0-9]+)"$', (PLUGIN / "internal" / "router" / "router.go").read_text(), re.M)
    assert match
    return match.group(1)


# --------------------------------------------------------------------------- the release the config names


def test_the_default_location_is_the_release_of_the_plugins_version():
    version = go_version_constant()
    default = TrafficRouterPluginConfig()
    assert default.location == f"{RELEASES}/alb-traffic-router-v{version}/alb-traffic-router-linux-amd64"
    prod = parse({k.split(":", 1)[1]: v for k, v in _prod_flat().items() if k.startswith("golive:")})
    assert prod.delivery.traffic_router_plugin == default  # the prod stack runs the release this file proves


def _prod_flat() -> dict:
    from golive import engine

    flat, _ = engine.load_stack_config("prod")
    return flat


def test_the_default_sha256_is_the_reproducible_build_of_the_source(tmp_path):
    go()
    dist = tmp_path / "dist"
    target = dist / "alb-traffic-router-linux-amd64"
    run(["make", "--no-print-directory", "-C", str(PLUGIN), f"DIST={dist}", str(target)])
    built = hashlib.sha256(target.read_bytes()).hexdigest()
    assert built == TrafficRouterPluginConfig().sha256, (
        f"the plugin's linux/amd64 build has SHA-256 {built}, not the configured default: its source, go.mod or build "
        "changed. Bump its Version (internal/router/router.go) and TRAFFIC_ROUTER_VERSION, set TRAFFIC_ROUTER_SHA256 "
        "(components/config/delivery.py) to the new build's, and tag alb-traffic-router-v<version> to release it.")
    described = run([go(), "version", "-m", str(target)]).stdout
    # What makes it reproducible, as the binary records it.
    for setting in ("-trimpath=true", "CGO_ENABLED=0", "GOAMD64=v1", "GOOS=linux", "GOARCH=amd64"):
        assert re.search(rf"\bbuild\s+{re.escape(setting)}\b", described), setting
    assert "vcs." not in described and re.search(r"^\S+: go1\.\d+\.\d+$", described.splitlines()[0], re.M)
    toolchain = re.search(r"^toolchain (go\S+)$", (PLUGIN / "go.mod").read_text(), re.M).group(1)
    assert described.splitlines()[0].endswith(f": {toolchain}")


# --------------------------------------------------------------------------- the configuration in the Rollouts


def test_the_plugin_accepts_what_the_stack_renders_and_refuses_broken_variants(prod, tmp_path):
    configs = [props(r)["spec"]["strategy"]["canary"]["trafficRouting"]["plugins"][delivery.PLUGIN_NAME]
               for r in of_type(prod, ROLLOUT) if "trafficRouting" in props(r)["spec"]["strategy"].get("canary", {})]
    assert len(configs) == 3 and all(set(c) == {"listenerRuleArn", "stableTargetGroupArn", "canaryTargetGroupArn", "region"}
                                     for c in configs)
    first = configs[0]
    reject = [
        {k: v for k, v in first.items() if k != "region"},
        {**first, "weight": "10"},
        {**first, "canaryTargetGroupArn": first["stableTargetGroupArn"]},
        {**first, "listenerRuleArn": first["listenerRuleArn"].replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]},
        {**first, "region": "us-east-1"},
    ]
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"accept": configs, "reject": reject}))
    env = {**os.environ, "GOLIVE_RENDERED_CONFIGS": str(cases), "CGO_ENABLED": "0"}
    # -trimpath and no cgo, as `make plugin-test` vets: the compiled packages are shared.
    out = run([go(), "test", "-trimpath", "-count=1", "-run", "^TestConfigsTheStackRenders$", "-v", "./internal/router"], env=env)
    assert "--- PASS: TestConfigsTheStackRenders" in out.stdout, out.stdout


# --------------------------------------------------------------------------- go.mod follows the controller


def _go_mod() -> str:
    return (PLUGIN / "go.mod").read_text()


def _replaces(text: str) -> set[str]:
    block = "\n".join(re.findall(r"^replace \(\n(.*?)^\)", text, re.M | re.S))
    lines = {line.strip() for line in block.splitlines() if "=>" in line}
    return lines | {m.strip() for m in re.findall(r"^replace ([^(\n].*=>.*)$", text, re.M)}


def test_go_mod_builds_against_the_charts_controller_with_its_version_pins():
    require = re.search(r"^\s+github\.com/argoproj/argo-rollouts (v\S+)$", _go_mod(), re.M)
    assert require and require.group(1) == CHART_APP_VERSION[parse({}).delivery.chart_version]
    info = json.loads(run([go(), "mod", "download", "-json", f"github.com/argoproj/argo-rollouts@{require.group(1)}"]).stdout)
    theirs = _replaces(pathlib.Path(info["GoMod"]).read_text())
    assert theirs and any(line.startswith("k8s.io/api =>") for line in theirs)
    assert theirs <= _replaces(_go_mod()), f"replace lines of argo-rollouts missing from go.mod: {theirs - _replaces(_go_mod())}"
    assert re.search(r"^go 1\.\d+$", _go_mod(), re.M) and re.search(r"^toolchain go1\.\d+\.\d+$", _go_mod(), re.M)


def test_go_mod_and_go_sum_are_tidy_and_complete():
    """Every module the plugin builds with is required at one version and summed: `go mod tidy` would change nothing."""
    result = subprocess.run([go(), "mod", "tidy", "-diff"], cwd=PLUGIN, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"go.mod/go.sum are not tidy:\n{result.stdout}{result.stderr}"
    assert "github.com/argoproj/argo-rollouts v1.9.0 h1:" in (PLUGIN / "go.sum").read_text()


# --------------------------------------------------------------------------- the IRSA role is what the plugin calls


def test_the_controller_role_allows_exactly_the_calls_the_plugin_makes():
    source = (PLUGIN / "internal" / "router" / "router.go").read_text()
    interface = re.search(r"type ELB interface \{(.*?)\n\}", source, re.S).group(1)
    methods = set(re.findall(r"^\s+([A-Z]\w+)\(", interface, re.M))
    calls = set(re.findall(r"client\.([A-Z]\w+)\(", source))
    assert methods == calls == {"DescribeRules", "ModifyRule"}
    policy = delivery.controller_policy(AwsAccount("123456789012", "eu-west-1"), canary_rules=True)
    granted = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert granted == {f"elasticloadbalancing:{m}" for m in methods}


def test_the_plugin_is_source_only_in_the_repository():
    tracked = subprocess.run(["git", "ls-files", "delivery/alb-traffic-router"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    assert all(p.endswith((".go", "go.mod", "go.sum", "Makefile", ".gitignore")) for p in tracked), tracked
    assert not any("/vendor/" in p or p.startswith("delivery/alb-traffic-router/dist") for p in tracked)
