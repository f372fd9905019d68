"""``python -m golive bench``: speed as a user feels it.

The headline is the cold command line: the median of several fresh ``python -m golive
check --stack <stack>`` processes, wall clock and CPU (user + system). Beside it, in the
same run, the *floor*: a fresh process that only imports the SDK classes the stack
registers (derived from the synth's types through the SDKs' own type tables, never
listed by hand), with the interpreter set up as the command line sets it up. What lies
above the floor is golive's share: running the program under mocks, the pack, the output.

Then the same for generated catalogs of 1, 10 and 50 services (is the share linear in
the catalog?), the cost of the wire (``check --wire grpc``, the pack as its own process,
against the in-process servicer), and a warm in-process breakdown of the phases.
Each child runs with the bytecode cache on, as a default Python does; one unmeasured
warm-up run writes it first.
"""

from __future__ import annotations

import gc
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Resource types declared by golive's own ComponentResources: no SDK class behind them.
OWN_PACKAGE = "golive"
# Kubernetes kinds outside the SDK's schema (CRDs) are registered through this class.
CUSTOM_RESOURCE = ("pulumi_kubernetes.apiextensions", "CustomResource")
TARGET_SHARE_S = 0.5


def catalog_config(stack: str, services: int | None) -> tuple[dict[str, str] | None, list[str] | None]:
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


# --------------------------------------------------------------------------- the floor


def sdk_type_table() -> dict[str, tuple[str, str]]:
    """Every resource and provider type token the installed SDKs know -> (module, class), from their own tables.

    Each SDK registers its modules with the Pulumi runtime when its (lazy, cheap) top-level
    package is imported; the table is what the runtime uses to rehydrate resources.
    """
    import importlib

    from pulumi.runtime import rpc

    for package in ("pulumi_aws", "pulumi_kubernetes", "pulumi_random"):
        importlib.import_module(package)
    table: dict[str, tuple[str, str]] = {}
    for modules in rpc._RESOURCE_MODULES.values():
        for module in modules:
            info = getattr(module, "mod_info", None) or {}
            for token, class_name in info.get("classes", {}).items():
                table[token] = (info["fqn"], class_name)
    for packages in rpc._RESOURCE_PACKAGES.values():
        for package in packages:
            info = getattr(package, "pkg_info", None) or {}
            if "token" in info:
                table[info["token"]] = (info["fqn"], info["class"])
    return table


def sdk_classes(types: Iterable[str], table: Mapping[str, tuple[str, str]]) -> tuple[dict[str, set[str]], list[str]]:
    """The SDK classes behind ``types`` as {module: {class}}, and the types no SDK class stands for (none expected)."""
    classes: dict[str, set[str]] = {}
    unknown: list[str] = []
    for type_ in sorted(set(types)):
        if type_.split(":", 1)[0] == OWN_PACKAGE:
            continue
        if type_ in table:
            module, name = table[type_]
        elif type_.startswith("kubernetes:") and type_.count(":") == 2:
            module, name = CUSTOM_RESOURCE
        else:
            unknown.append(type_)
            continue
        classes.setdefault(module, set()).add(name)
    return classes, unknown


def floor_script(classes: Mapping[str, set[str]]) -> str:
    """Import these classes and nothing else, with the garbage collector as the command line sets it."""
    lines = ["import gc", "gc.disable()"]
    lines += [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(classes.items())]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- fresh processes


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


@dataclass(frozen=True)
class Figure:
    """The median of fresh processes running one command."""

    label: str
    runs: tuple[Run, ...]

    @property
    def wall_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def cpu_s(self) -> float:
        return statistics.median(r.cpu_s for r in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        return max(r.peak_rss_mb for r in self.runs)


def child_env() -> dict[str, str]:
    """The caller's environment with Python's bytecode cache on, as a default install has it."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# Starts the measured command and reports the kernel's accounting of it. A small process of its own, so that the
# peak RSS is the command's: a child's maximum RSS starts from its parent's size at fork.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
stderr = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps({"wall_s": time.perf_counter() - start, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "peak_rss_mb": usage.ru_maxrss / 1024, "code": os.waitstatus_to_exitcode(status),
                  "stderr": stderr.decode(errors="replace")[-2000:]}))
"""


def run_once(command: list[str], cwd: pathlib.Path = ROOT) -> Run:
    """One fresh process: wall clock, CPU (user + system, its children's included) and peak RSS, as the kernel counts them."""
    launched = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], cwd=cwd, env=child_env(), capture_output=True,
                              text=True, check=False)
    if launched.returncode != 0:
        raise RuntimeError(f"cannot measure {' '.join(command)}: {launched.stderr[-2000:]}")
    result = json.loads(launched.stdout)
    if result["code"] not in (0, 1):  # 1: a NO-GO verdict is still a measured run
        raise RuntimeError(f"{' '.join(command)} exited {result['code']}:\n{result['stderr']}")
    return Run(wall_s=result["wall_s"], cpu_s=result["cpu_s"], peak_rss_mb=result["peak_rss_mb"])


def measure(label: str, command: list[str], runs: int, progress: Callable[[str], None], warm_up: bool = False) -> Figure:
    """``runs`` fresh processes, after one unmeasured run if ``warm_up`` (the first writes the bytecode cache)."""
    if warm_up:
        progress(f"{label}: warm-up run (writes the bytecode cache)")
        run_once(command)
    done: list[Run] = []
    for i in range(runs):
        done.append(run_once(command))
        progress(f"{label}: run {i + 1}/{runs}: {done[-1].wall_s:.2f} s wall, {done[-1].cpu_s:.2f} s CPU")
    return Figure(label, tuple(done))


def check_command(stack: str, services: int | None = None, wire: str = "servicer") -> list[str]:
    """``python -m golive check`` as a user types it; a catalog goes through the hidden child verb of ``bench``."""
    if services is None:
        command = [sys.executable, "-m", "golive", "check", "--stack", stack]
    else:
        command = [sys.executable, "-m", "golive", "bench", "--child-check", "--stack", stack, "--services", str(services)]
    return command + (["--wire", wire] if wire != "servicer" else [])


def floor_command(script: str) -> list[str]:
    return [sys.executable, "-c", script]


# --------------------------------------------------------------------------- warm phases


def warm_phases(stack: str, repeat: int) -> dict[str, float]:
    """In this process, after a first run: the median of ``repeat`` runs of each phase (where the share goes)."""
    from . import check, engine, reach, report

    policies = check.load_policies()
    timings: dict[str, list[float]] = {"synth_s": [], "check_s": [], "report_s": [], "reach_matrix_s": []}
    for i in range(repeat + 1):
        gc.collect()  # between runs only: the command line runs with the collector off
        t = time.perf_counter()
        result = engine.synth(stack)
        synth_s = time.perf_counter() - t
        t = time.perf_counter()
        checked = check.check(result, policies)
        check_s = time.perf_counter() - t
        t = time.perf_counter()
        report.render(checked, result)
        report_s = time.perf_counter() - t
        t = time.perf_counter()
        reach.matrix(reach.network(result))
        reach_s = time.perf_counter() - t
        if i:
            for key, value in zip(timings, (synth_s, check_s, report_s, reach_s), strict=True):
                timings[key].append(value)
    return {key: round(statistics.median(values), 3) for key, values in timings.items()}


# --------------------------------------------------------------------------- the benchmark


@dataclass
class Scenario:
    services: int | None
    resources: int
    sdk_classes: int
    cold: Figure
    floor: Figure

    @property
    def label(self) -> str:
        return "the stack" if self.services is None else f"{self.services} service{'s' if self.services != 1 else ''}"

    def share(self, attr: str) -> float:
        return getattr(self.cold, attr) - getattr(self.floor, attr)


@dataclass
class Bench:
    stack: str
    runs: int
    scenarios: list[Scenario]
    grpc: Figure | None
    warm: dict[str, float] | None
    table_unknown: list[str]


def run(stack: str, *, runs: int, services: list[int], wire: bool, warm_repeat: int,
        progress: Callable[[str], None]) -> Bench:
    from . import engine

    progress("deriving the SDK classes each scenario registers from its synth")
    table = sdk_type_table()
    scenarios: list[Scenario] = []
    unknown: set[str] = set()
    grpc: Figure | None = None
    for count in [None, *services]:
        config, secret_keys = catalog_config(stack, count)
        synth = engine.synth(stack, config=config, secret_keys=secret_keys)
        classes, missing = sdk_classes((r["type"] for r in synth.resources), table)
        unknown.update(missing)
        label = f"{stack}" if count is None else f"{stack} with {count} service{'s' if count != 1 else ''}"
        cold = measure(f"cold check, {label}", check_command(stack, count), runs, progress, warm_up=not scenarios)
        floor = measure(f"floor, {label}", floor_command(floor_script(classes)), runs, progress)
        scenarios.append(Scenario(count, len(synth.resources), sum(len(c) for c in classes.values()), cold, floor))
        if count is None and wire:
            grpc = measure(f"cold check --wire grpc, {label}", check_command(stack, wire="grpc"), runs, progress)
    warm = None
    if warm_repeat:
        progress(f"warm phases in this process ({warm_repeat} runs after a first)")
        warm = warm_phases(stack, warm_repeat)
    return Bench(stack, runs, scenarios, grpc, warm, sorted(unknown))


def slopes(bench: Bench, attr: str = "cpu_s") -> list[tuple[int, int, float]]:
    """golive's share per added service between consecutive catalog sizes: equal slopes mean linear."""
    sized = sorted((s for s in bench.scenarios if s.services is not None), key=lambda s: s.services or 0)
    return [(a.services or 0, b.services or 0, (b.share(attr) - a.share(attr)) / ((b.services or 0) - (a.services or 0)))
            for a, b in zip(sized, sized[1:], strict=False) if b.services != a.services]


def as_json(bench: Bench) -> dict[str, Any]:
    def figure(f: Figure) -> dict[str, Any]:
        return {"wall_s": round(f.wall_s, 3), "cpu_s": round(f.cpu_s, 3), "peak_rss_mb": round(f.peak_rss_mb, 1),
                "runs": [{"wall_s": round(r.wall_s, 3), "cpu_s": round(r.cpu_s, 3)} for r in f.runs]}

    prod = bench.scenarios[0]
    return {
        "stack": bench.stack,
        "runs": bench.runs,
        "target_share_s": TARGET_SHARE_S,
        "scenarios": [
            {"services": s.services, "resources": s.resources, "sdk_classes": s.sdk_classes, "cold": figure(s.cold),
             "floor": figure(s.floor), "share_wall_s": round(s.share("wall_s"), 3), "share_cpu_s": round(s.share("cpu_s"), 3)}
            for s in bench.scenarios
        ],
        "share_per_service_cpu_s": [{"from": a, "to": b, "s": round(v, 4)} for a, b, v in slopes(bench)],
        "wire_grpc": None if bench.grpc is None else {
            **figure(bench.grpc), "cost_wall_s": round(bench.grpc.wall_s - prod.cold.wall_s, 3),
            "cost_cpu_s": round(bench.grpc.cpu_s - prod.cold.cpu_s, 3)},
        "warm": bench.warm,
        "types_without_sdk_class": bench.table_unknown,
    }


def as_text(bench: Bench) -> str:
    prod = bench.scenarios[0]
    lines = [f"golive bench: stack {bench.stack}, median of {bench.runs} fresh processes per figure "
             "(CPU = user + system; bytecode cache on)", ""]
    header = f"  {'':<44} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}"
    lines += [header]

    def row(label: str, wall: float, cpu: float, rss: float | None = None) -> str:
        return f"  {label:<44} {wall:>8.2f} {cpu:>8.2f} {'' if rss is None else f'{rss:.0f}':>8}"

    lines.append(row(f"cold `check --stack {bench.stack}` ({prod.resources} resources)", prod.cold.wall_s, prod.cold.cpu_s,
                     prod.cold.peak_rss_mb))
    lines.append(row(f"floor: import the {prod.sdk_classes} SDK classes it registers", prod.floor.wall_s, prod.floor.cpu_s,
                     prod.floor.peak_rss_mb))
    verdict = "met" if prod.share("cpu_s") <= TARGET_SHARE_S else "not met"
    lines.append(row("golive's share (cold - floor)", prod.share("wall_s"), prod.share("cpu_s"))
                 + f"   target <= {TARGET_SHARE_S} s CPU: {verdict}")
    if bench.grpc is not None:
        lines.append(row("cold `check --wire grpc`", bench.grpc.wall_s, bench.grpc.cpu_s, bench.grpc.peak_rss_mb))
        lines.append(row("wire cost (grpc - in-process servicer)", bench.grpc.wall_s - prod.cold.wall_s,
                         bench.grpc.cpu_s - prod.cold.cpu_s) + "   (CPU includes the pack's process)")
    catalogs = [s for s in bench.scenarios if s.services is not None]
    if catalogs:
        lines += ["", f"  {'catalog':<12} {'resources':>9} {'cold wall':>10} {'cold CPU':>9} {'floor CPU':>10} "
                  f"{'share CPU':>10} {'share wall':>11}"]
        for s in catalogs:
            lines.append(f"  {s.label:<12} {s.resources:>9} {s.cold.wall_s:>10.2f} {s.cold.cpu_s:>9.2f} "
                         f"{s.floor.cpu_s:>10.2f} {s.share('cpu_s'):>10.2f} {s.share('wall_s'):>11.2f}")
        for a, b, v in slopes(bench):
            lines.append(f"  share per added service, {a} -> {b}: {v * 1000:.1f} ms CPU")
    if bench.warm:
        lines += ["", "  warm, in one process (median after a first run): "
                  + ", ".join(f"{k.removesuffix('_s')} {v:.2f} s" for k, v in bench.warm.items())]
    if bench.table_unknown:
        lines += ["", f"  types without an SDK class (left out of the floor): {', '.join(bench.table_unknown)}"]
    return "\n".join(lines)
