"""Human-readable views of a synth document and of a policy check."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .check import CheckResult
from .engine import SynthResult

# Above this many siblings of one type, the tree shows one line with a count.
COLLAPSE_AT = 4


def _label(record: dict[str, Any]) -> str:
    flags = []
    if record["options"]["protect"]:
        flags.append("protected")
    if record["options"]["retainOnDelete"]:
        flags.append("retained")
    if record["secretInputs"]:
        flags.append("secret inputs")
    suffix = f"  [{', '.join(flags)}]" if flags else ""
    return f"{record['type']}  {record['name']}{suffix}"


def tree(synth: SynthResult) -> str:
    """Components and their resources, siblings of one type collapsed past a few."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    urns = {r["urn"] for r in synth.resources}
    for r in synth.resources:
        parent = r["parent"] if r["parent"] in urns else None
        children.setdefault(parent, []).append(r)
    lines = [f"stack {synth.stack} · project {synth.project} · {len(synth.resources)} resources"]

    def subtree_size(urn: str) -> int:
        return sum(1 + subtree_size(c["urn"]) for c in children.get(urn, []))

    def walk(parent: str | None, prefix: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda r: (r["custom"], r["type"], r["name"]))
        groups: list[list[dict[str, Any]]] = []
        for kid in kids:
            same = groups and groups[-1][0]["type"] == kid["type"] and kid["custom"] and not children.get(kid["urn"])
            if same and not children.get(groups[-1][0]["urn"]):
                groups[-1].append(kid)
            else:
                groups.append([kid])
        for i, group in enumerate(groups):
            last = i == len(groups) - 1
            branch, extend = ("└─ ", "   ") if last else ("├─ ", "│  ")
            if len(group) >= COLLAPSE_AT:
                names = ", ".join(r["name"] for r in group[:2])
                lines.append(f"{prefix}{branch}{group[0]['type']}  ×{len(group)}  ({names}, …)")
                continue
            for j, record in enumerate(group):
                is_last = last and j == len(group) - 1
                b, e = ("└─ ", "   ") if is_last else ("├─ ", "│  ")
                text = _label(record)
                if not record["custom"]:
                    text += f"  ({subtree_size(record['urn'])} resources)"
                lines.append(f"{prefix}{b}{text}")
                walk(record["urn"], prefix + e)

    walk(None, "")
    return "\n".join(lines)


def counts(synth: SynthResult) -> str:
    by_type = Counter(r["type"] for r in synth.resources)
    width = max((len(t) for t in by_type), default=0)
    lines = ["resources by type:"]
    for type_, n in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {type_:<{width}}  {n:>4}")
    return "\n".join(lines)


def verdict(result: CheckResult) -> str:
    """Violations grouped by policy, then the totals line CI greps for."""
    lines: list[str] = []
    for policy, findings in sorted(result.by_policy().items(), key=lambda kv: (kv[1][0].enforcement != "mandatory", kv[0])):
        info = result.policies[policy]
        lines.append(f"[{info.enforcement}] {policy} ({info.severity}, {info.category}): {info.description}")
        for f in findings:
            lines.append(f"    - {f.urn or '(stack)'}")
            lines.append(f"      {f.message}")
        if info.remediation:
            lines.append(f"    remediation: {info.remediation}")
    if result.exemptions:
        from . import formats

        lines.append(f"accepted risks ({len(result.exemptions)}, exempted by the resource's golive:exempt:<policy> tag or "
                     "exempt.golive.dev/<policy> annotation):")
        for e in result.exemptions:
            lines.append(f"    - {formats.exemption_line(result, e, e.urn)}")
    if result.first_preview:
        lines += first_preview(result)
    n_mandatory, n_advisory = len(result.mandatory), len(result.advisory)
    applied = sum(1 for p in result.policies.values() if p.enforcement != "disabled")
    lines.append(
        f"{applied} policies over {len(result.resources)} resources: "
        f"{n_mandatory} mandatory violation{'s' if n_mandatory != 1 else ''}, "
        f"{n_advisory} advisory violation{'s' if n_advisory != 1 else ''} "
        f"(policy config: {result.policy_config_source})"
    )
    return "\n".join(lines)


def first_preview(result: CheckResult) -> list[str]:
    """Which mandatory policies a first `pulumi preview` runs, and which wait for `pulumi up` (with the servicer's words)."""
    mandatory = sorted(name for name, info in result.policies.items() if info.enforcement == "mandatory")
    deferred = result.deferred_mandatory()
    lines = [f"first preview (an empty stack, outputs unknown): {len(mandatory) - len(deferred)} of {len(mandatory)} mandatory "
             f"policies run; {len(deferred)} wait for `pulumi up` on some resources:"]
    for policy in sorted(deferred):
        entries = deferred[policy]
        info = result.policies.get(policy)
        total = len(info.evaluated) + len(info.deferred) if info else len(entries)
        where = "the stack" if entries[0].urn == "" else f"{len(entries)} of {total} resources"
        lines.append(f"  - {policy}: deferred on {where}, e.g. {entries[0].message}")
    return lines


def readiness(result: CheckResult) -> str:
    """The closing block of `preview`: per-category scores, then the GO/NO-GO verdict."""
    from . import formats

    stats = formats.category_stats(result)
    header = ("category", "evaluated", "passed", "failed", "exempted", "n/a", "score")
    rows = [
        (s.category, str(s.evaluated), str(s.passed), str(s.failed), str(s.exempted), str(s.not_applicable),
         "-" if s.score is None else f"{s.score:g}%")
        for s in stats
    ]
    total = formats.overall_score(result)
    sums = [str(sum(getattr(s, k) for s in stats)) for k in ("evaluated", "passed", "failed", "exempted", "not_applicable")]
    rows.append(("total", *sums, "-" if total is None else f"{total:g}%"))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["readiness by category:"]
    for row in [header, *rows]:
        lines.append("  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))))
    blockers = sorted({f.policy for f in result.mandatory})
    if blockers:
        lines.append(f"verdict: NO-GO — {len(blockers)} mandatory polic{'ies' if len(blockers) != 1 else 'y'} failing: {', '.join(blockers)}")
    else:
        lines.append(f"verdict: GO — 0 mandatory violations, {len(result.exemptions)} accepted risk(s)")
    return "\n".join(lines)
