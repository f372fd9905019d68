"""``python -m golive``: the offline engine's command line.

Exit codes: 0 ready, 1 a mandatory policy violation (preflight: a failed check), 2 a usage, config or credential error.
"""

from __future__ import annotations

import argparse
import gc
import json
import pathlib
import sys
import time
from collections.abc import Callable

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE = 0, 1, 2


def _synth(args: argparse.Namespace, *, first_preview: bool | None = None):
    from . import engine

    config, secret_keys = getattr(args, "config_override", None) or (None, None)
    return engine.synth(args.stack, config=config, secret_keys=secret_keys,
                        first_preview=getattr(args, "first_preview", False) if first_preview is None else first_preview)


def _policy_config(args: argparse.Namespace) -> tuple[dict | None, str]:
    """The policy config file to apply, as ``--policy-pack-config`` would: ``--policy-config``, else ``policy/config/<stack>.json``."""
    from . import analyzer, engine

    given = getattr(args, "policy_config", None)
    if given == "none":
        return None, "(pack defaults)"
    path = pathlib.Path(given) if given else engine.ROOT / analyzer.PACK_DIR_NAME / "config" / f"{args.stack}.json"
    if not given and not path.exists():
        return None, "(pack defaults)"
    return analyzer.read_policy_config_file(path), str(path if given else path.relative_to(engine.ROOT))


def _check(args: argparse.Namespace, result):
    """The pack's verdict on ``result``, over the transport ``--wire`` names, with the stack's policy config."""
    from . import analyzer, check, engine

    config, source = _policy_config(args)
    stack_config: dict[str, str] = {}
    secret_keys: list[str] = []
    if not getattr(args, "synth_file", None):
        config_override = getattr(args, "config_override", None)
        stack_config, secret_keys = config_override if config_override and config_override[0] else engine.load_stack_config(args.stack)
    options = {"policy_config": config, "config_source": source, "stack_config": stack_config, "secret_keys": secret_keys}
    if getattr(args, "wire", "servicer") == "grpc":
        with analyzer.GrpcPack(stack=result.stack, project=result.project, dry_run=result.first_preview,
                               stack_config=stack_config) as pack:
            return check.check(result, transport=pack, **options)
    return check.check(result, **options)


def _synth_or_file(args: argparse.Namespace):
    from . import engine

    if not getattr(args, "synth_file", None):
        return _synth(args)
    try:
        return engine.SynthResult.from_document(json.loads(pathlib.Path(args.synth_file).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise engine.UsageError(f"cannot read synth document {args.synth_file}: {err}") from None


def cmd_synth(args: argparse.Namespace) -> int:
    from . import summary

    result = _synth(args)
    fmt = args.format or ("synth" if args.out else "summary")
    if fmt == "terraform-plan":
        from . import tfplan

        exported = tfplan.export(result)
        if args.out:
            pathlib.Path(args.out).write_text(exported.to_json())
            left_out = sum(exported.skipped.values())
            print(f"wrote {len(exported.addresses)} resources of stack {result.stack} as a Terraform plan to {args.out} "
                  f"({left_out} without a Terraform type left out)", file=sys.stderr)
        else:
            sys.stdout.write(exported.to_json())
        return EXIT_OK
    if fmt == "summary":
        _emit(summary.overview(result), args.out)
    elif args.out:
        pathlib.Path(args.out).write_text(result.to_json())
        print(f"wrote {len(result.resources)} resources of stack {result.stack} to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(result.to_json())
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from . import engine, formats

    result = _synth_or_file(args)
    checked = _check(args, result)
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
        _progress(args)(f"synthesizing {args.git_base} (in a temporary git worktree) and the working tree"
                        + ("" if args.no_policy else ", then checking both"))
        result = diff.diff_git(args.git_base, args.stack, with_policy=not args.no_policy)
    else:
        result = diff.diff_files(args.base, args.head, with_policy=not args.no_policy)
    if args.preview_json:
        result.preview = diff.compare_preview(result, args.preview_json)
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
    if args.fail_on_no_go and result.no_go():
        why = []
        if result.blocking:
            why.append(f"{len(result.blocking)} blocking change{'s' if len(result.blocking) != 1 else ''}")
        if result.policy is not None and result.policy.verdict == "NO-GO":
            why.append(f"the head is NO-GO ({result.policy.mandatory} mandatory violations)")
        print(f"golive: diff --fail-on-no-go: {' and '.join(why)}", file=sys.stderr)
        return EXIT_VIOLATION
    return EXIT_OK


def cmd_preview(args: argparse.Namespace) -> int:
    """The main job: the resource tree, the counts and the policy verdict of a stack."""
    from . import summary

    result = _synth(args)
    print(summary.tree(result))
    print()
    print(summary.counts(result))
    print()
    checked = _check(args, result)
    print(summary.verdict(checked))
    print()
    print(summary.readiness(checked))
    return EXIT_VIOLATION if checked.mandatory else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """The readiness report (Markdown): verdict, scores, failures, inventory, encryption, backups, monitoring.

    It also runs the pack as a first `pulumi preview` of an empty stack would, to say how
    many mandatory checks such a preview runs and which wait for `pulumi up`.
    """
    from . import report

    progress = _progress(args)
    progress(f"synthesizing stack {args.stack}")
    result = _synth(args)
    progress("checking it with the policy pack")
    checked = _check(args, result)
    progress("synthesizing and checking it as a first preview of an empty stack")
    first = _check(args, _synth(args, first_preview=True))
    progress("rendering the report")
    _emit(report.render(checked, result, first_preview=first).rstrip("\n"), args.out)
    return EXIT_VIOLATION if checked.mandatory else EXIT_OK


def cmd_reach(args: argparse.Namespace) -> int:
    """Who can reach what: one path explained hop by hop (0 exists, 1 none), or the whole matrix."""
    from . import engine, reach

    if args.matrix == bool(args.source or args.destination):
        raise engine.UsageError("reach: give --from SRC --to DST[:PORT], or --matrix")
    if not args.matrix and not (args.source and args.destination):
        raise engine.UsageError("reach: --from and --to go together")
    wanted = reach.intent(reach.read_policy_config(args.policy_config), args.deployer_cidr or ())
    net = reach.network(_synth_or_file(args), wanted)
    if args.matrix:
        mx = reach.matrix(net, wanted, args.protocol)
        text = {"text": reach.matrix_text, "markdown": reach.matrix_markdown,
                "json": lambda m: json.dumps(reach.matrix_json(m), indent=2)}[args.format](mx)
        _emit(text.rstrip("\n"), args.out)
        return EXIT_OK
    destination = args.destination if "/" in args.destination or args.protocol == "tcp" else f"{args.destination}/{args.protocol}"
    answer = reach.ask(net, args.source, destination)
    if args.format == "json":
        text = json.dumps(reach.answer_json(answer), indent=2)
    else:
        text = answer.explain()
    _emit(text, args.out)
    return EXIT_OK if answer.exists else EXIT_VIOLATION


def cmd_verify(args: argparse.Namespace) -> int:
    """The live platform after `pulumi up`: DNS, TLS, certificate, redirect, headers, health, latency, WAF, routing."""
    from . import engine, verify

    if args.requests < 1:
        raise engine.UsageError("verify: --requests must be at least 1")
    if args.url or args.host:
        if not (args.url and args.host):
            raise engine.UsageError("verify: --url and --host go together")
        if args.outputs:
            raise engine.UsageError("verify: give --outputs (the stack) or --url/--host (one endpoint), not both")
        if args.https_port:
            raise engine.UsageError("verify: with --url the HTTPS port is the URL's (https://ADDRESS:PORT), not --https-port")
        service = verify.Service(name="endpoint", health_path=args.health_path, ready_path=args.ready_path,
                                 latency_threshold_seconds=args.latency_threshold)
        endpoints = [verify.endpoint_from_url(args.url, args.host, service, http_port=args.http_port)]
        source = f"endpoint {args.url} as {args.host}"
    else:
        outputs = verify.read_outputs(args.stack, args.outputs)
        endpoints = verify.endpoints_from_outputs(outputs, https_port=args.https_port or 443, http_port=args.http_port or 80)
        source = f"stack {args.stack}" + (f" (outputs {args.outputs})" if args.outputs else "")
    if args.ca and not pathlib.Path(args.ca).is_file():
        raise engine.UsageError(f"verify: --ca {args.ca} is not a file")
    report = verify.verify(endpoints, verify.Options(requests=args.requests, timeout=args.timeout, ca_file=args.ca), source)
    text = verify.RENDERERS[args.format](report)
    try:
        _emit(text.rstrip("\n"), args.out)
        if args.junit:
            pathlib.Path(args.junit).write_text(verify.render_junit(report) + "\n")
    except OSError as err:
        raise engine.UsageError(f"verify: cannot write the report: {err}") from None
    return EXIT_VIOLATION if report.failed else EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    """The cold command line against the floor of SDK imports, catalogs of 1/10/50 services, the wire's cost."""
    from . import bench

    if args.child_check:  # one fresh process of the benchmark: `check` of a generated catalog
        args.config_override = bench.catalog_config(args.stack, args.services[0] if args.services else None)
        args.format, args.out, args.synth_file, args.policy_config = "text", None, None, None
        return cmd_check(args)
    progress = _progress(args)
    result = bench.run(args.stack, runs=args.runs, services=args.services if args.services is not None else [1, 10, 50],
                       wire=not args.no_wire, warm_repeat=args.repeat, progress=progress)
    print(json.dumps(bench.as_json(result), indent=2) if args.format == "json" else bench.as_text(result))
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


def _progress(args: argparse.Namespace) -> Callable[[str], None]:
    """One line per step on stderr, as pip and pytest do: only on a terminal, and never with --quiet."""
    if getattr(args, "quiet", False) or not sys.stderr.isatty():
        return lambda _message: None
    started = time.perf_counter()

    def step(message: str) -> None:
        print(f"golive {args.command} [{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    return step


def _emit(text: str, out: str | None) -> None:
    if out:
        pathlib.Path(out).write_text(text + "\n")
    else:
        print(text)


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _service_counts(text: str) -> list[int]:
    """``1,10,50``: catalog sizes, each at least 1."""
    counts = []
    for part in text.split(","):
        try:
            counts.append(_positive_int(part.strip()))
        except argparse.ArgumentTypeError as err:
            raise argparse.ArgumentTypeError(f"{part.strip()!r}: {err} (a catalog has at least 1 service)") from None
    return counts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m golive",
        description="golive's offline engine over the stack's synth (the program run under Pulumi's mocks), and verify, "
        "the live check after `pulumi up`. `python -m golive COMMAND --help` describes each command.",
        epilog="Exit codes: 0 ready (or done), 1 a mandatory policy violation, a blocking change, a missing path, an "
        "account not ready or a failed live check, 2 a usage or configuration error. README.md lists them per command.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

    def stack_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stack", default="prod", help="stack name: reads Pulumi.<stack>.yaml (default: prod)")

    def pack_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--first-preview", action="store_true",
                       help="run as `pulumi preview` of an empty stack: outputs of resources not yet created are unknown, "
                       "and the verdict says which mandatory policies a preview runs and which wait for `pulumi up`")
        p.add_argument("--policy-config", metavar="FILE",
                       help="the policy pack config (the file `pulumi preview --policy-pack-config` takes); default "
                       "policy/config/<stack>.json when it exists, `none` for the pack's defaults")
        p.add_argument("--wire", choices=("servicer", "grpc"), default="servicer",
                       help="servicer (default): pulumi_policy's servicer in this process, fed protobuf requests; grpc: "
                       "start the pack as its own process and speak gRPC to it, as the Pulumi CLI does")

    p = sub.add_parser("synth", help="run the program under mocks and record every resource")
    stack_arg(p)
    p.add_argument("--first-preview", action="store_true",
                   help="as `pulumi preview` of an empty stack: outputs the cloud assigns are written as \"[unknown]\"")
    p.add_argument("--out", help="write the synth document (JSON, docs/synth-format.md) here instead of printing a summary")
    p.add_argument("--format", choices=("summary", "synth", "terraform-plan"),
                   help="summary (the default without --out: components, their sizes and the totals), synth (the default "
                   "with --out: golive's document, on stdout without --out), terraform-plan (Terraform's JSON plan format, "
                   "for Checkov and other plan scanners)")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("check", help="apply the policy pack to the synthesized stack")
    stack_arg(p)
    pack_args(p)
    p.add_argument("--synth-file", help="check this synth document instead of synthesizing")
    p.add_argument(
        "--format",
        choices=("text", "json", "sarif", "junit", "markdown"),
        default="text",
        help="text (default: violations, accepted risks, scores by category and the GO/NO-GO verdict, as `preview` ends), "
        "json (every policy x resource result), sarif (2.1.0, code scanning), junit (one test case per policy), "
        "markdown (the whole readiness report `report` writes, without its first-preview section)",
    )
    p.add_argument("--out", help="write the result here")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "diff",
        help="structural diff of two synth documents, or of a git revision against the working tree",
        description="Compare BASE.json and HEAD.json (from `synth --out`), or with --git-base REV synthesize REV in a "
        "temporary git worktree and diff it against the working tree. Secret values are never shown. Exit codes: 0 the diff "
        "was written, 1 with --fail-on-no-go a NO-GO head or a blocking change, 2 a usage or configuration error.",
    )
    p.add_argument("base", nargs="?", help="the base synth document")
    p.add_argument("head", nargs="?", help="the head synth document")
    p.add_argument("--git-base", metavar="REV", help="synthesize this git revision as the base and the working tree as the head")
    stack_arg(p)
    p.add_argument(
        "--format",
        choices=("markdown", "json", "text"),
        default="markdown",
        help="markdown (default: the PR comment, capped by --limit), json (the whole model, for tools), text (for a terminal)",
    )
    p.add_argument("--out", help="write the diff here")
    p.add_argument("--limit", type=int, default=65_000, help="markdown: stay below this many characters (default 65000)")
    p.add_argument("--no-policy", action="store_true", help="leave out the policy verdict and its delta")
    p.add_argument(
        "--fail-on-no-go",
        action="store_true",
        help="exit 1 when the head is NO-GO or a change cannot be carried out by `pulumi up` (a protected resource replaced "
        "or deleted); the diff is written first",
    )
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr (shown only on a terminal)")
    p.add_argument("--preview-json", metavar="FILE", help="`pulumi preview --json` output: show the real preview's replacements beside the offline ones")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("preview", help="the main job: resource tree, counts and policy verdict")
    stack_arg(p)
    pack_args(p)
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("report", help="the readiness report (Markdown), computed from policy results and the synth")
    stack_arg(p)
    p.add_argument("--policy-config", metavar="FILE", help="the policy pack config (default policy/config/<stack>.json)")
    p.add_argument("--wire", choices=("servicer", "grpc"), default="servicer", help="how to reach the pack (see check --help)")
    p.add_argument("--out", help="write the report here")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr (shown only on a terminal)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "reach",
        help="who can reach what in the declared network: one path hop by hop, or the whole matrix",
        description="Proves a path from the declared network (routes, network ACLs both ways, security groups). "
        "Exit 0 when the path exists, 1 when it does not (the first blocker of every candidate route is printed), "
        "2 for a usage error. Sources: internet, vpn, deployer, alb, eks-api, nodes, database, cache, opensearch, "
        "endpoints, isolated; destinations: the same (not vpn, deployer, isolated) and each catalog service.",
    )
    stack_arg(p)
    p.add_argument("--synth-file", help="read this synth document instead of synthesizing")
    p.add_argument("--from", dest="source", metavar="SRC", help="the source role (e.g. vpn, internet, nodes)")
    p.add_argument("--to", dest="destination", metavar="DST[:PORTS]", help="the destination and ports: eks-api:443, alb:80,443")
    p.add_argument("--protocol", choices=("tcp", "udp"), default="tcp", help="the protocol of --to's ports (default tcp)")
    p.add_argument("--matrix", action="store_true", help="every source against every destination")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="markdown only with --matrix")
    p.add_argument("--policy-config", metavar="FILE",
                   help="intent from the network-reach-intent entry of a pack config (as pulumi preview --policy-pack-config)")
    p.add_argument("--deployer-cidr", action="append", metavar="CIDR", help="a deployer's address range (repeatable)")
    p.add_argument("--out", help="write the answer here")
    p.set_defaults(func=cmd_reach)

    p = sub.add_parser(
        "verify",
        help="check the live platform after `pulumi up`: DNS, TLS 1.2+ only, certificate, redirect, headers, health, latency, WAF",
        description="For each public host of the stack (`pulumi stack output --json`, or --outputs FILE), or one endpoint "
        "(--url https://ADDRESS[:PORT] --host HOST), run every check of golive/verify.py, one result per check. Exit codes: "
        "0 every check passed, 1 a check failed, 2 a usage error.",
    )
    stack_arg(p)
    p.add_argument("--outputs", metavar="FILE", help="the stack outputs as `pulumi stack output --json` prints them (default: run it)")
    p.add_argument("--url", help="check one endpoint: connect to this https:// address (SNI and Host are --host)")
    p.add_argument("--host", help="the public host name of --url (certificate, SNI, Host header)")
    p.add_argument("--ca", metavar="FILE", help="trust only these root certificates (PEM) instead of the system's")
    p.add_argument("--https-port", type=int, help="the stack's HTTPS port (default 443; with --url, the URL's port)")
    p.add_argument("--http-port", type=int, help="plain HTTP port of the redirect check (default 80)")
    p.add_argument("--health-path", default="/health", help="with --url: the health path (default /health)")
    p.add_argument("--ready-path", default="/ready", help="with --url: the readiness path (default /ready)")
    p.add_argument("--latency-threshold", type=float, default=1.0, help="with --url: the latency SLO threshold in seconds (default 1)")
    p.add_argument("--requests", type=int, default=20, help="requests per service for the p95 latency (default 20)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per connection or request (default 10)")
    p.add_argument("--format", choices=("text", "junit"), default="text", help="text (default) or junit, one test case per check")
    p.add_argument("--out", help="write the report here instead of stdout")
    p.add_argument("--junit", metavar="FILE", help="also write the JUnit report here (for CI test reporting)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("preflight", help="check the AWS account (current credentials) is ready for the stack's first `pulumi up`")
    stack_arg(p)
    p.add_argument("--format", choices=("text", "json", "junit"), default="text",
                   help="text (default), json (every check, for tools) or junit (one test case per check)")
    p.add_argument("--out", help="write the result here")
    p.set_defaults(func=cmd_preflight)


    p = sub.add_parser(
        "bench",
        help="measure the cold command line against the floor of SDK imports, catalogs of 1/10/50 services, the wire",
        description="The headline is the cold command line: the median of --runs fresh `python -m golive check` processes, "
        "beside the floor (a fresh process that only imports the SDK classes the stack registers) and golive's share "
        "above it; then the same for generated catalogs, the cost of `--wire grpc`, and the warm phases in one process. "
        "Progress goes to stderr, one line per step, when stderr is a terminal. Exit codes: 0 measured, 2 a usage error.",
    )
    stack_arg(p)
    p.add_argument("--runs", type=_positive_int, default=5, help="fresh processes per figure, median reported (default 5)")
    p.add_argument("--services", type=_service_counts, metavar="N[,N...]",
                   help="catalog sizes to measure besides the stack itself (default 1,10,50)")
    p.add_argument("--repeat", type=_positive_int, default=3,
                   help="warm in-process runs of each phase after a first one, median reported (default 3)")
    p.add_argument("--no-wire", action="store_true", help="leave out the `check --wire grpc` figure")
    p.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json (every run)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--child-check", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--wire", choices=("servicer", "grpc"), default="servicer", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None, run: Callable[[argparse.Namespace], int] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # A command is one short run whose garbage is almost all acyclic (the SDK's outputs, tasks and protobuf
    # messages, freed by reference counting): the cyclic collector's passes over the growing heap cost about
    # a third of a cold `check`, and collect nearly nothing (peak memory is the same without them).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return (run or args.func)(args)
    except Exception as err:
        from components.config import ConfigError

        from .engine import UsageError

        if isinstance(err, ConfigError):
            print(err.render(), file=sys.stderr)
            return EXIT_USAGE
        if isinstance(err, UsageError):
            print(f"golive: {err}", file=sys.stderr)
            return EXIT_USAGE
        raise
    finally:
        if collecting:
            gc.enable()


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    sys.exit(main())
