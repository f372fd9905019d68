"""``python -m golive``: the offline engine's command line.

Exit codes: 0 ready, 1 a mandatory policy violation (preflight: a failed check), 2 a usage, config or credential error.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time
from collections.abc import Callable

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE = 0, 1, 2


def _synth(args: argparse.Namespace):
    from . import engine

    return engine.synth(args.stack)


def cmd_synth(args: argparse.Namespace) -> int:
    from . import summary

    result = _synth(args)
    if args.out:
        pathlib.Path(args.out).write_text(result.to_json())
        print(f"wrote {len(result.resources)} resources of stack {result.stack} to {args.out}", file=sys.stderr)
    else:
        print(summary.tree(result))
        print()
        print(summary.counts(result))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from . import check, engine, formats

    if args.synth_file:
        try:
            doc = json.loads(pathlib.Path(args.synth_file).read_text())
            result = engine.SynthResult.from_document(doc)
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise engine.UsageError(f"cannot read synth document {args.synth_file}: {err}") from None
    else:
        result = _synth(args)
    checked = check.check(result)
    text = formats.render(args.format, checked, result)
    try:
        _emit(text, args.out)
    except OSError as err:
        if not args.out:
            raise
        raise engine.UsageError(f"cannot write {args.out}: {err}") from None
    return EXIT_VIOLATION if checked.mandatory else EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    """What a change does to the stack: two synth documents, or a git revision against the working tree."""
    from . import diff, engine

    if args.git_base and (args.base or args.head):
        raise engine.UsageError("diff: give either BASE.json HEAD.json or --git-base REV, not both")
    if not args.git_base and not (args.base and args.head):
        raise engine.UsageError("diff: give BASE.json and HEAD.json, or --git-base REV")
    if args.limit < 1_000:
        raise engine.UsageError("diff: --limit must be at least 1000 characters")
    if args.git_base:
        result = diff.diff_git(args.git_base, args.stack, with_policy=not args.no_policy)
    else:
        result = diff.diff_files(args.base, args.head, with_policy=not args.no_policy)
    if args.format == "markdown":
        text = diff.render_markdown(result, limit=args.limit)
    else:
        text = diff.RENDER[args.format](result)
    try:
        _emit(text.rstrip("\n"), args.out)
    except OSError as err:
        if not args.out:
            raise
        raise engine.UsageError(f"cannot write {args.out}: {err}") from None
    return EXIT_OK


def cmd_preview(args: argparse.Namespace) -> int:
    """The main job: the resource tree, the counts and the policy verdict of a stack."""
    from . import check, summary

    result = _synth(args)
    print(summary.tree(result))
    print()
    print(summary.counts(result))
    print()
    checked = check.check(result)
    print(summary.verdict(checked))
    print()
    print(summary.readiness(checked))
    return EXIT_VIOLATION if checked.mandatory else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """The readiness report (Markdown): verdict, scores, failures, inventory, encryption, backups, monitoring."""
    from . import check, report

    result = _synth(args)
    checked = check.check(result)
    _emit(report.render(checked, result).rstrip("\n"), args.out)
    return EXIT_VIOLATION if checked.mandatory else EXIT_OK


def _bench_config(stack: str, services: int | None) -> tuple[dict[str, str] | None, list[str] | None]:
    """The stack's config, or with N services shaped like its own (hosts under the same domain)."""
    from . import engine

    if services is None:
        return None, None
    config, secret_keys = engine.load_stack_config(stack)
    own = json.loads(config.get("golive:services") or "[]")
    host = next((s["host"] for s in own if s.get("host")), "svc.golive.example.com")
    domain = host.split(".", 1)[1]
    config["golive:services"] = json.dumps(
        [{"name": f"svc-{i:03d}", "port": 8080, "host": f"svc-{i:03d}.{domain}"} for i in range(services)]
    )
    return config, secret_keys


def _bench_one(stack: str, services: int | None, repeat: int) -> dict[str, object]:
    """One scenario, in this (fresh) process: the cold first run, then the median of warm runs."""
    import resource

    t0 = time.perf_counter()
    from . import check, engine, report

    policies = check.load_policies()
    import_s = time.perf_counter() - t0
    config, secret_keys = _bench_config(stack, services)
    timings: dict[str, list[float]] = {"synth": [], "check": [], "report": []}
    result = None
    for _ in range(repeat + 1):  # the first run is the cold one
        t = time.perf_counter()
        result = engine.synth(stack, config=config, secret_keys=secret_keys)
        timings["synth"].append(time.perf_counter() - t)
        t = time.perf_counter()
        checked = check.check(result, policies)
        timings["check"].append(time.perf_counter() - t)
        t = time.perf_counter()
        report.render(checked, result)
        timings["report"].append(time.perf_counter() - t)
    assert result is not None
    warm = {k: statistics.median(v[1:]) for k, v in timings.items()}
    return {
        "scenario": f"{stack}" + (f" with {services} services" if services is not None else ""),
        "resources": len(result.resources),
        "policies": len(policies),
        "imports_s": round(import_s, 3),
        "cold_total_s": round(import_s + sum(v[0] for v in timings.values()), 3),
        "synth_s": round(warm["synth"], 3),
        "check_s": round(warm["check"], 3),
        "report_s": round(warm["report"], 3),
        "synth_check_report_s": round(sum(warm.values()), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "repeat": repeat,
    }


def cmd_bench(args: argparse.Namespace) -> int:
    """Synth, check and report times and peak memory; each scenario in a fresh process.

    Warm figures are the median of ``--repeat`` runs after a cold first run (which
    includes importing the SDKs); peak memory is the scenario process's maximum RSS.
    """
    import subprocess

    if args.one:
        print(json.dumps(_bench_one(args.stack, args.services, args.repeat)))
        return EXIT_OK
    scenarios = [args.services] if args.services is not None else [None, 50]
    rows = []
    for services in scenarios:
        command = [sys.executable, "-m", "golive", "bench", "--one", "--stack", args.stack, "--repeat", str(args.repeat)]
        if services is not None:
            command += ["--services", str(services)]
        proc = subprocess.run(command, capture_output=True, text=True, cwd=pathlib.Path(__file__).resolve().parent.parent)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    keys = [k for k in rows[0] if k != "scenario"]
    width = max(len(k) for k in keys)
    print(f"{'':>{width}}  " + "  ".join(f"{r['scenario']:>24}" for r in rows))
    for key in keys:
        print(f"{key:>{width}}  " + "  ".join(f"{r[key]!s:>24}" for r in rows))
    return EXIT_OK


def cmd_preflight(args: argparse.Namespace) -> int:
    """Is the AWS account of the current credentials ready for the stack's first `pulumi up`?"""
    from . import engine

    try:
        from . import preflight
    except ImportError as err:
        raise engine.UsageError(f"preflight needs boto3 ({err}): run `make setup`") from None
    try:
        report = preflight.run(args.stack)
    except preflight.CredentialError as err:
        raise engine.UsageError(f"preflight: {err}") from None
    _emit(preflight.RENDERERS[args.format](report), args.out)
    return EXIT_OK if report.ready else EXIT_VIOLATION


def _emit(text: str, out: str | None) -> None:
    if out:
        pathlib.Path(out).write_text(text + "\n")
    else:
        print(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m golive", description="golive's offline engine: synth, check, preview, bench.")
    sub = parser.add_subparsers(dest="command", required=True)

    def stack_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stack", default="prod", help="stack name: reads Pulumi.<stack>.yaml (default: prod)")

    p = sub.add_parser("synth", help="run the program under mocks and record every resource")
    stack_arg(p)
    p.add_argument("--out", help="write the synth document (JSON, docs/synth-format.md) here instead of a summary")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("check", help="apply the policy pack to the synthesized stack")
    stack_arg(p)
    p.add_argument("--synth-file", help="check this synth document instead of synthesizing")
    p.add_argument(
        "--format",
        choices=("text", "json", "sarif", "junit", "markdown"),
        default="text",
        help="text (default), json (every policy x resource result), sarif (2.1.0, code scanning), junit (one test case per policy), "
        "markdown (the readiness report)",
    )
    p.add_argument("--out", help="write the result here")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "diff",
        help="structural diff of two synth documents, or of a git revision against the working tree",
        description="Compare BASE.json and HEAD.json (from `synth --out`), or with --git-base REV synthesize REV in a "
        "temporary git worktree and diff it against the working tree. Secret values are never shown.",
    )
    p.add_argument("base", nargs="?", help="the base synth document")
    p.add_argument("head", nargs="?", help="the head synth document")
    p.add_argument("--git-base", metavar="REV", help="synthesize this git revision as the base and the working tree as the head")
    stack_arg(p)
    p.add_argument("--format", choices=("markdown", "json", "text"), default="markdown")
    p.add_argument("--out", help="write the diff here")
    p.add_argument("--limit", type=int, default=65_000, help="markdown: stay below this many characters (default 65000)")
    p.add_argument("--no-policy", action="store_true", help="leave out the policy verdict and its delta")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("preview", help="the main job: resource tree, counts and policy verdict")
    stack_arg(p)
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("report", help="the readiness report (Markdown), computed from policy results and the synth")
    stack_arg(p)
    p.add_argument("--out", help="write the report here")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("preflight", help="check the AWS account (current credentials) is ready for the stack's first `pulumi up`")
    stack_arg(p)
    p.add_argument("--format", choices=("text", "json", "junit"), default="text")
    p.add_argument("--out", help="write the result here")
    p.set_defaults(func=cmd_preflight)

    p = sub.add_parser("bench", help="measure synth, check and report (prod, and prod with 50 services)")
    stack_arg(p)
    p.add_argument("--repeat", type=int, default=3, help="warm runs per scenario (median reported)")
    p.add_argument("--services", type=int, help="only this scenario: the stack with N generated catalog services")
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None, run: Callable[[argparse.Namespace], int] | None = None) -> int:
    from components.config import ConfigError

    from .engine import UsageError

    args = build_parser().parse_args(argv)
    try:
        return (run or args.func)(args)
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as err:
        print(f"golive: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    sys.exit(main())
