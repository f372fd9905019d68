"""The GitHub workflows: valid YAML, least privilege, pinned actions, and steps that call what exists."""

from __future__ import annotations

import json
import re
import shlex

import pytest
import yaml

from golive import __main__ as cli
from golive.engine import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$")
SHELL_END = {"|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "<", "&"}


def load(path):
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads a bare `on:` key as the boolean True.
    on = workflow.get("on", workflow.get(True))
    return on if isinstance(on, dict) else {name: None for name in ([on] if isinstance(on, str) else on)}


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def run_lines(workflow: dict) -> list[str]:
    """Every shell command line of every `run:` step, backslash continuations joined."""
    lines = []
    for _, step in steps(workflow):
        script = step.get("run")
        if script:
            lines += [line.strip() for line in script.replace("\\\n", " ").splitlines() if line.strip()]
    return lines


def makefile_targets(directory: str = ".") -> set[str]:
    text = (ROOT / directory / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([A-Za-z0-9_.$()/%-]+)\s*:(?!=)", text, re.MULTILINE)}


def make_calls(line: str) -> list[tuple[str, str]]:
    """(directory, target) of each `make [-C DIR] TARGET` in a shell line."""
    return [(m.group(1) or ".", m.group(2))
            for m in re.finditer(r"(?:^|[;&|]\s*)make\s+(?:-C\s+(\S+)\s+)?([A-Za-z0-9_.-]+)", line)]


def golive_invocations(line: str) -> list[list[str]]:
    """The arguments after each `python -m golive` of a shell line, up to the next shell operator."""
    found = []
    tokens = shlex.split(line, comments=True)
    for i in range(len(tokens) - 2):
        if tokens[i].endswith("python") and tokens[i + 1] == "-m" and tokens[i + 2] == "golive":
            args = []
            for token in tokens[i + 3:]:
                if token in SHELL_END or token.startswith(">"):
                    break
                args.append(token)
            found.append(args)
    return found


def test_the_four_workflows_exist():
    assert {p.name for p in FILES} == {"pull-request.yml", "preview.yml", "deploy.yml", "release-plugin.yml"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_workflow_is_valid_yaml_with_jobs_and_triggers(path):
    workflow = load(path)
    assert isinstance(workflow, dict) and workflow["name"]
    assert triggers(workflow)
    assert workflow["jobs"] and all(job.get("runs-on") and job.get("steps") for job in workflow["jobs"].values())
    assert "pull_request_target" not in triggers(workflow), "pull_request_target runs fork code with secrets"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_job_has_least_privilege_permissions(path):
    workflow = load(path)
    assert workflow.get("permissions") == {}, "the workflow grants nothing by default"
    for name, job in workflow["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict), f"job {name} has no permissions block"
        assert "write-all" not in str(perms) and all(v in ("read", "write", "none") for v in perms.values())
        uses = " ".join(step.get("uses", "") for step in job["steps"])
        if perms.get("id-token") == "write":
            assert "configure-aws-credentials" in uses, f"job {name}: id-token only where AWS OIDC is used"
        if perms.get("security-events") == "write":
            assert "upload-sarif" in uses
        if perms.get("pull-requests") == "write":
            assert "github-script" in uses or "comment-on-pr" in path.read_text()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_a_version_comment(path):
    workflow = load(path)
    used = [step["uses"] for _, step in steps(workflow) if "uses" in step]
    assert used
    for ref in used:
        assert PINNED.match(ref), f"{ref} is not pinned to a 40-hex commit"
    for line in path.read_text().splitlines():
        if re.match(r"^\s*(-\s+)?uses:", line):
            assert re.search(r"@[0-9a-f]{40} # v\d+(\.\d+)*\s*$", line), f"no version comment: {line.strip()}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_make_targets_called_by_steps_exist(path):
    called = {call for line in run_lines(load(path)) for call in make_calls(line)}
    unknown = {(d, t) for d, t in called if t not in makefile_targets(d)}
    assert not unknown, f"unknown make targets: {unknown}"


def parses(args: list[str]) -> bool:
    try:
        cli.build_parser().parse_args(args)
    except SystemExit:  # argparse rejects an unknown subcommand or flag this way
        return False
    return True


def test_the_command_checks_are_not_vacuous(capsys):
    assert golive_invocations('python -m golive check --stack "$STACK" --format sarif --out x.sarif && echo ok') == [
        ["check", "--stack", "$STACK", "--format", "sarif", "--out", "x.sarif"]
    ]
    assert not parses(["deploy"]) and not parses(["check", "--format", "yaml"]) and parses(["diff", "--git-base", "HEAD^1"])
    assert {"setup", "test"} <= makefile_targets() and "nope" not in makefile_targets()
    assert make_calls("make -C delivery/alb-traffic-router dist && make test") == [("delivery/alb-traffic-router", "dist"), (".", "test")]
    assert {"dist", "test"} <= makefile_targets("delivery/alb-traffic-router")
    capsys.readouterr()


def test_every_golive_command_in_the_workflows_parses_with_the_cli(capsys):
    seen = []
    for path in FILES:
        for line in run_lines(load(path)):
            for args in golive_invocations(line):
                assert parses(args), f"{path.name}: `python -m golive {' '.join(args)}` is not a valid command"
                seen.append(args[0])
    assert {"check", "diff"} <= set(seen)
    assert capsys.readouterr().err == ""


def test_pull_request_workflow_gates_reports_and_comments_without_credentials():
    text = (WORKFLOWS / "pull-request.yml").read_text()
    workflow = load(WORKFLOWS / "pull-request.yml")
    assert set(triggers(workflow)) == {"pull_request"}
    assert "secrets." not in text and "id-token" not in text
    job = workflow["jobs"]["offline"]
    by_name = {step.get("name", step.get("uses", "")): step for step in job["steps"]}
    setup = next(step for step in job["steps"] if "setup-python" in step.get("uses", ""))
    assert setup["with"]["cache"] == "pip"
    assert any("make test" in (step.get("run") or "") for step in job["steps"])
    assert any("--format sarif" in (step.get("run") or "") for step in job["steps"])
    upload = next(step for step in job["steps"] if "upload-sarif" in step.get("uses", ""))
    assert upload["with"]["sarif_file"] == "build/golive.sarif"
    assert any("--git-base" in (step.get("run") or "") and "GITHUB_STEP_SUMMARY" in step["run"] for step in job["steps"])
    comment = by_name["Post or update the PR comment"]
    assert "head.repo.full_name == github.repository" in comment["if"]  # forks: summary only
    assert "<!-- golive-diff:" in comment["with"]["script"] and "updateComment" in comment["with"]["script"]
    gate = by_name["Fail on a mandatory policy violation"]
    assert "exit 1" in gate["run"]


def test_preview_runs_only_for_same_repo_prs_with_aws_configured():
    workflow = load(WORKFLOWS / "preview.yml")
    job = workflow["jobs"]["preview"]
    assert "head.repo.full_name == github.repository" in job["if"] and "vars.GOLIVE_AWS_ENABLED" in job["if"]
    assert job["permissions"]["id-token"] == "write"
    pulumi = next(step for step in job["steps"] if step.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policy" and pulumi["with"]["diff"] is True
    assert pulumi["with"]["policyPackConfigs"] == "policy/config/prod.json"  # the thresholds the offline check applies
    assert pulumi["with"]["comment-on-pr"] is True


def test_deploy_runs_the_offline_gate_before_pulumi_up_in_production():
    workflow = load(WORKFLOWS / "deploy.yml")
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "gate" and deploy["environment"] == "production"
    runs = [step.get("run") or "" for step in deploy["steps"]]
    check_at = next(i for i, r in enumerate(runs) if "python -m golive check" in r)
    up_at = next(i for i, r in enumerate(runs) if "pulumi up" in r)
    assert check_at < up_at
    assert "--policy-pack policy" in runs[up_at] and "--yes" in runs[up_at]
    assert "--policy-pack-config policy/config/prod.json" in runs[up_at]
    assert any("python -m golive check" in (step.get("run") or "") for step in workflow["jobs"]["gate"]["steps"])


def go_toolchain() -> str:
    return re.search(r"^toolchain go(\S+)$", (ROOT / "delivery" / "alb-traffic-router" / "go.mod").read_text(), re.M).group(1)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_go_is_set_up_at_the_plugins_toolchain(path):
    """The plugin's binary is reproducible only with the toolchain its go.mod names; every workflow uses that one."""
    setups = [step for _, step in steps(load(path)) if "actions/setup-go@" in step.get("uses", "")]
    for step in setups:
        assert step["with"]["go-version"] == go_toolchain()
    if any(("make test" in line or "make -C delivery/alb-traffic-router" in line) for line in run_lines(load(path))):
        assert setups, f"{path.name} runs the plugin's build without setting up Go"


def test_the_plugin_release_builds_verifies_and_publishes_with_least_privilege():
    workflow = load(WORKFLOWS / "release-plugin.yml")
    assert triggers(workflow) == {"push": {"tags": ["alb-traffic-router-v*"]}}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"} and publish["permissions"] == {"contents": "write"}
    assert publish["needs"] == "build"
    runs = [step.get("run") or "" for step in build["steps"]]
    built_at = next(i for i, r in enumerate(runs) if "make -C delivery/alb-traffic-router dist" in r)
    verify_at = next(i for i, r in enumerate(runs) if "TrafficRouterPluginConfig" in r and "sha256sum" in r)
    version_at = next(i for i, r in enumerate(runs) if "TRAFFIC_ROUTER_VERSION" in r and "const Version" in r)
    assert version_at < built_at < verify_at
    checkout = next(step for step in build["steps"] if "actions/checkout@" in step.get("uses", ""))
    assert checkout["with"]["persist-credentials"] is False
    setup = next(step for step in build["steps"] if "actions/setup-go@" in step.get("uses", ""))
    assert setup["with"]["cache"] is False  # a release is built from the proxy's modules, not from a cache
    publish_run = " ".join(step.get("run") or "" for step in publish["steps"])
    assert "sha256sum --check SHA256SUMS" in publish_run and "gh release create" in publish_run
    for asset in ("alb-traffic-router-linux-amd64", "alb-traffic-router-linux-arm64", "SHA256SUMS"):
        assert asset in publish_run
    # the tag's name only reaches the shell through the environment, never spliced into the script
    assert all("${{" not in (step.get("run") or "") for _, step in steps(workflow))


@pytest.mark.parametrize("name, job", [("deploy.yml", "deploy"), ("preview.yml", "preview")])
def test_jobs_that_reach_the_private_kubernetes_api_run_on_an_admitted_runner(name, job):
    """A GitHub-hosted runner has no route to the private endpoint and no fixed egress to admit."""
    runs_on = load(WORKFLOWS / name)["jobs"][job]["runs-on"]
    assert "ubuntu-latest" not in str(runs_on) and "vars.GOLIVE_DEPLOY_RUNNER" in runs_on
    default = re.search(r"\|\| '(\[.*?\])'", runs_on).group(1)
    assert json.loads(default) == ["self-hosted", "golive-deployer"]
    assert "GOLIVE_DEPLOY_RUNNER" in (ROOT / "docs" / "ci.md").read_text()
