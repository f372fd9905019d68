"""`python -m golive bench` (golive/bench.py): its arguments, the floor it derives, its arithmetic. Nothing here is timed."""

from __future__ import annotations

import re
import sys

import pytest

from golive import __main__ as cli
from golive import bench


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--repeat", "0"], "argument --repeat: must be at least 1, not 0"),
        (["--repeat", "-2"], "argument --repeat: must be at least 1, not -2"),
        (["--repeat", "three"], "argument --repeat: not a whole number: 'three'"),
        (["--runs", "0"], "argument --runs: must be at least 1, not 0"),
        (["--services", "-1"], "argument --services: '-1': must be at least 1, not -1 (a catalog has at least 1 service)"),
        (["--services", "0"], "argument --services: '0': must be at least 1, not 0"),
        (["--services", "1,ten"], "argument --services: 'ten': not a whole number: 'ten'"),
        (["--format", "csv"], "argument --format: invalid choice: 'csv'"),
    ],
)
def test_a_bad_bench_argument_is_a_usage_error(argv, says, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", *argv])
    assert exc.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m golive bench") and says in err
    assert "Traceback" not in err


def test_an_unknown_stack_is_a_usage_error_before_anything_runs(capsys):
    assert cli.main(["bench", "--stack", "nosuch", "--runs", "1", "--quiet"]) == cli.EXIT_USAGE
    assert "no stack 'nosuch'" in capsys.readouterr().err


def test_catalog_sizes_are_parsed_in_order():
    args = cli.build_parser().parse_args(["bench", "--services", "1, 10,50"])
    assert args.services == [1, 10, 50] and args.runs == 5 and args.repeat == 3


# --------------------------------------------------------------------------- the floor


# What the SDKs' documentation names as the class of each type token (pulumi_aws, pulumi_kubernetes, pulumi_random).
EXPECTED_CLASSES = {
    "aws:ec2/vpc:Vpc": ("pulumi_aws.ec2", "Vpc"),
    "aws:rds/instance:Instance": ("pulumi_aws.rds", "Instance"),
    "aws:lambda/function:Function": ("pulumi_aws.lambda_", "Function"),
    "pulumi:providers:aws": ("pulumi_aws", "Provider"),
    "kubernetes:core/v1:Namespace": ("pulumi_kubernetes.core.v1", "Namespace"),
    "kubernetes:helm.sh/v3:Release": ("pulumi_kubernetes.helm.v3", "Release"),
    "pulumi:providers:kubernetes": ("pulumi_kubernetes", "Provider"),
    "random:index/randomPassword:RandomPassword": ("pulumi_random", "RandomPassword"),
    # A CRD's kind is not in the SDK's schema: the program registers it as a CustomResource.
    "kubernetes:argoproj.io/v1alpha1:Rollout": ("pulumi_kubernetes.apiextensions", "CustomResource"),
}


@pytest.fixture(scope="module")
def table():
    return bench.sdk_type_table()


def test_the_sdk_classes_are_the_ones_each_type_token_names(table):
    classes, unknown = bench.sdk_classes([*EXPECTED_CLASSES, "golive:network:Network", "nosuch:thing/x:X"], table)
    expected: dict[str, set[str]] = {}
    for module, name in EXPECTED_CLASSES.values():
        expected.setdefault(module, set()).add(name)
    assert classes == expected
    assert unknown == ["nosuch:thing/x:X"]  # golive's own components have no SDK class: left out, not unknown


def test_the_floor_of_the_prod_stack_imports_a_class_for_every_sdk_type_it_registers(prod, table):
    types = {r["type"] for r in prod.resources}
    classes, unknown = bench.sdk_classes(types, table)
    assert unknown == []
    script = bench.floor_script(classes)
    assert script.startswith("import gc\ngc.disable()\n")  # the interpreter as the command line sets it up
    namespace: dict[str, object] = {}
    exec(compile(script, "<floor>", "exec"), namespace)  # noqa: S102 the script bench runs in a fresh process
    for type_ in types - {t for t in types if t.startswith("golive:")}:
        module, name = table.get(type_, bench.CUSTOM_RESOURCE)
        assert name in classes[module] and name in namespace, type_
    mutant = {module: names - {"Vpc"} for module, names in classes.items()}
    assert re.search(r"\bVpc\b", script) and not re.search(r"\bVpc\b", bench.floor_script(mutant))


# --------------------------------------------------------------------------- fresh processes and arithmetic


def test_a_fresh_process_is_measured_by_the_kernels_accounting():
    run = bench.run_once([sys.executable, "-c", "sum(range(3_000_000))"])
    assert run.wall_s > 0 and run.cpu_s > 0 and run.peak_rss_mb > 1


def test_the_peak_memory_is_the_commands_own_not_the_size_of_the_process_that_started_it():
    ballast = bytearray(300 * 1024 * 1024)  # this process, large: a child forked from it would start at its size
    small = bench.run_once([sys.executable, "-c", "pass"])
    large = bench.run_once([sys.executable, "-c", "x = bytearray(200 * 1024 * 1024)"])
    del ballast
    assert small.peak_rss_mb < 100 and 200 <= large.peak_rss_mb < 300


def test_a_command_that_fails_is_an_error_with_its_stderr_not_a_figure():
    with pytest.raises(RuntimeError, match="exited 3:\n.*boom"):
        bench.run_once([sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"])


def _figure(label, wall, cpu):
    return bench.Figure(label, tuple(bench.Run(wall_s=w, cpu_s=c, peak_rss_mb=100.0) for w, c in zip(wall, cpu, strict=True)))


def _bench():
    floor = _figure("floor", [2.0, 2.2, 9.0], [1.9, 2.0, 2.1])  # a stray slow run does not move the median
    scenarios = [bench.Scenario(None, 494, 101, _figure("cold", [2.9, 3.0, 3.1], [2.3, 2.4, 2.5]), floor)]
    for n, cpu in ((1, 2.2), (10, 2.65), (50, 4.65)):  # 50 ms per service both ways: linear
        scenarios.append(bench.Scenario(n, 400 + 25 * n, 101, _figure("cold", [cpu] * 3, [cpu] * 3), floor))
    return bench.Bench("prod", 3, scenarios, _figure("grpc", [5.0] * 3, [4.0] * 3), {"synth_s": 0.8}, [])


def test_the_share_is_the_median_cold_run_above_the_median_floor_and_slopes_show_linearity():
    result = _bench()
    prod = result.scenarios[0]
    assert prod.share("cpu_s") == pytest.approx(0.4) and prod.share("wall_s") == pytest.approx(0.8)
    assert [(a, b, round(v, 4)) for a, b, v in bench.slopes(result)] == [(1, 10, 0.05), (10, 50, 0.05)]
    doc = bench.as_json(result)
    assert doc["scenarios"][0]["share_cpu_s"] == 0.4 and doc["wire_grpc"]["cost_cpu_s"] == 1.6
    text = bench.as_text(result)
    assert "golive's share (cold - floor)" in text and "target <= 0.5 s CPU: met" in text
    assert "share per added service, 10 -> 50: 50.0 ms CPU" in text


def test_the_child_of_a_catalog_runs_check_on_the_generated_catalog(capsys):
    assert cli.main(["bench", "--child-check", "--stack", "prod", "--services", "1"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    config, _ = bench.catalog_config("prod", 1)
    assert '"name": "svc-000"' in config["golive:services"] and "svc-001" not in config["golive:services"]
    assert out.rstrip().splitlines()[-1].startswith("verdict: GO")


def test_progress_is_one_line_per_step_on_a_terminal_and_none_otherwise(monkeypatch, capsys):
    args = cli.build_parser().parse_args(["bench"])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    cli._progress(args)("quiet in a pipe")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    cli._progress(args)("floor: run 1/5")
    cli._progress(cli.build_parser().parse_args(["bench", "--quiet"]))("silenced")
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("golive bench [") and lines[0].endswith("] floor: run 1/5")
