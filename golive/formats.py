"""Machine-readable and review views of a policy check: JSON, SARIF 2.1.0, JUnit XML, Markdown.

Every figure is derived from ``check.CheckResult``: the policies' metadata, the
URNs each policy evaluated and the findings. A policy *passes* a resource it
evaluated unless a finding names that resource; a policy passes when it has no
finding at all. Nothing here is typed by hand.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .check import CheckResult, Finding, PolicyInfo
from .engine import SynthResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "golive"

# Severity weights of the readiness score: each step up counts double.
SEVERITY_WEIGHT = {"low": 1, "medium": 2, "high": 4, "critical": 8}
# GitHub code scanning ranks security alerts by this number (0.1-10).
SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}
SECURITY_CATEGORIES = {"Security", "Compliance"}

PASS, FAIL, EXEMPT, NOT_APPLICABLE, DISABLED = "pass", "fail", "exempted", "not-applicable", "disabled"


# --------------------------------------------------------------------------- shared facts


def verdict(result: CheckResult) -> str:
    """GO when no mandatory policy fails, else NO-GO."""
    return "NO-GO" if result.mandatory else "GO"


def _exemptions(result: CheckResult) -> list[Any]:
    return list(getattr(result, "exemptions", None) or [])


def policy_status(result: CheckResult, info: PolicyInfo) -> str:
    """fail (a finding), exempted (no finding, an accepted risk), not-applicable, disabled or pass."""
    if info.enforcement == "disabled":
        return DISABLED
    if result.failed(info.name):
        return FAIL
    if any(e.policy == info.name for e in _exemptions(result)):
        return EXEMPT
    if info.not_applicable or not info.evaluated:
        return NOT_APPLICABLE
    return PASS


def _controls(info: PolicyInfo) -> list[str]:
    return [t for t in info.tags if not t.startswith("category:")]


def exemption_controls(result: CheckResult, exemption: Any) -> list[str]:
    """The benchmark controls (FSBP, CIS, Checkov ids) whose risk an exemption accepts: its policy's."""
    info = result.policies.get(exemption.policy)
    return _controls(info) if info is not None else []


def exemption_line(result: CheckResult, exemption: Any, subject: str) -> str:
    """One accepted risk as a line: policy, the controls it stands for, the resource, the finding and the reason."""
    controls = exemption_controls(result, exemption)
    cited = f" [{', '.join(controls)}]" if controls else ""
    return f"exempted: {exemption.policy}{cited}: {subject}: {exemption.message} (reason: {exemption.reason})"


def _meta() -> Any:
    try:
        return importlib.import_module("policy.rules").META
    except ImportError:  # a check run with a custom policy list outside the project
        return {}


def _categories_order() -> tuple[str, ...]:
    try:
        return tuple(importlib.import_module("policy.rules").CATEGORIES)
    except ImportError:
        return ()


def resource_results(result: CheckResult) -> list[dict[str, Any]]:
    """Every policy × resource result: pass, fail, exempted, not-applicable, or one disabled row per disabled policy.

    A resource of a policy's types that the policy skipped (``NotApplicable``) is
    ``not-applicable``; a policy that evaluated nothing gets one such row. An exempted
    row carries the finding's message, the resource's reason and the controls it accepts.
    """
    meta = _meta()
    by_urn = {r["urn"]: r for r in result.resources}
    failures: dict[tuple[str, str | None], list[Finding]] = {}
    for f in result.findings:
        failures.setdefault((f.policy, f.urn), []).append(f)
    exempted: dict[tuple[str, str | None], list[Any]] = {}
    for e in _exemptions(result):
        exempted.setdefault((e.policy, e.urn), []).append(e)
    rows: list[dict[str, Any]] = []

    def row(info: PolicyInfo, urn: str | None, status: str, message: str | None = None, reason: str | None = None) -> dict[str, Any]:
        record = by_urn.get(urn or "")
        return {
            "policy": info.name,
            "urn": urn,
            "type": record["type"] if record else None,
            "name": record["name"] if record else None,
            "status": status,
            "enforcement": info.enforcement,
            "severity": info.severity,
            "category": info.category,
            "message": message,
            "reason": reason,
            "controls": _controls(info) if status == EXEMPT else [],
        }

    for name in sorted(result.policies):
        info = result.policies[name]
        if info.enforcement == "disabled":
            rows.append(row(info, None, DISABLED))
            continue
        for urn in sorted(info.evaluated):
            if (name, urn) not in failures and (name, urn) not in exempted:
                rows.append(row(info, urn, PASS))
        for (policy, urn), found in sorted(failures.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            if policy == name:
                rows.extend(row(info, urn, FAIL, f.message) for f in found)
        for (policy, urn), accepted in sorted(exempted.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            if policy == name and (policy, urn) not in failures:
                rows.extend(row(info, urn, EXEMPT, e.message, e.reason) for e in accepted)
        types = getattr(meta.get(name), "resource_types", ()) if info.kind == "resource" else ()
        skipped = sorted(r["urn"] for r in result.resources if r["type"] in types and r["urn"] not in info.evaluated)
        rows.extend(row(info, urn, NOT_APPLICABLE) for urn in skipped)
        if not info.evaluated and not skipped and policy_status(result, info) == NOT_APPLICABLE:
            rows.append(row(info, None, NOT_APPLICABLE))
    return rows


@dataclass(frozen=True)
class CategoryStats:
    category: str
    evaluated: int  # policies that applied to at least one resource (or reported)
    passed: int
    failed: int
    exempted: int  # no violation left, but at least one accepted risk (left out of the score)
    not_applicable: int
    score: float | None  # severity-weighted share of passed among passed + failed policies, 0-100; None if there are none


def category_stats(result: CheckResult) -> list[CategoryStats]:
    """Per readiness category: policies evaluated, passed, failed and the severity-weighted score."""
    order = list(_categories_order())
    for info in result.policies.values():
        if info.category not in order:
            order.append(info.category)
    stats: list[CategoryStats] = []
    for category in order:
        infos = [i for i in result.policies.values() if i.category == category]
        statuses = [(i, policy_status(result, i)) for i in infos]
        evaluated = [(i, s) for i, s in statuses if s in (PASS, FAIL, EXEMPT)]
        scored = [(i, s) for i, s in evaluated if s != EXEMPT]
        total = sum(SEVERITY_WEIGHT.get(i.severity, 1) for i, _ in scored)
        passed_weight = sum(SEVERITY_WEIGHT.get(i.severity, 1) for i, s in scored if s == PASS)
        stats.append(
            CategoryStats(
                category=category,
                evaluated=len(evaluated),
                passed=sum(1 for _, s in evaluated if s == PASS),
                failed=sum(1 for _, s in evaluated if s == FAIL),
                exempted=sum(1 for _, s in evaluated if s == EXEMPT),
                not_applicable=sum(1 for _, s in statuses if s == NOT_APPLICABLE),
                score=round(100 * passed_weight / total, 1) if total else None,
            )
        )
    return stats


def overall_score(result: CheckResult) -> float | None:
    scored = [i for i in result.policies.values() if policy_status(result, i) in (PASS, FAIL)]
    total = sum(SEVERITY_WEIGHT.get(i.severity, 1) for i in scored)
    passed = sum(SEVERITY_WEIGHT.get(i.severity, 1) for i in scored if not result.failed(i.name))
    return round(100 * passed / total, 1) if total else None


def _source_of(record: dict[str, Any] | None, by_urn: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Where the resource was declared; a resource without a frame inherits its nearest ancestor's."""
    seen: set[str] = set()
    while record is not None and record["urn"] not in seen:
        if record.get("source"):
            return record["source"]
        seen.add(record["urn"])
        record = by_urn.get(record.get("parent") or "")
    return None


# --------------------------------------------------------------------------- JSON


def render_json(result: CheckResult, synth: SynthResult) -> str:
    rows = resource_results(result)
    counts = {status: sum(1 for r in rows if r["status"] == status) for status in (PASS, FAIL, EXEMPT, NOT_APPLICABLE, DISABLED)}
    policies = []
    for name in sorted(result.policies):
        info = result.policies[name]
        failed_urns = {f.urn for f in result.findings if f.policy == name}
        exempt_urns = {e.urn for e in _exemptions(result) if e.policy == name} - failed_urns
        policies.append(
            {
                "name": name,
                "description": info.description,
                "kind": info.kind,
                "enforcement": info.enforcement,
                "severity": info.severity,
                "category": info.category,
                "remediation": info.remediation,
                "controls": _controls(info),
                "status": policy_status(result, info),
                "evaluated": len(info.evaluated),
                "passed": len(info.evaluated - failed_urns - exempt_urns),
                "failed": len(failed_urns),
                "exempted": len(exempt_urns),
            }
        )
    doc = {
        "tool": TOOL_NAME,
        "stack": synth.stack,
        "project": synth.project,
        "verdict": verdict(result),
        "score": overall_score(result),
        "mandatoryViolations": len(result.mandatory),
        "advisoryViolations": len(result.advisory),
        "resources": len(result.resources),
        "resultCounts": counts,
        "categories": [s.__dict__ for s in category_stats(result)],
        "policies": policies,
        "results": rows,
        "findings": [f.__dict__ for f in result.findings],
        "exemptions": [{**e.__dict__, "status": EXEMPT, "controls": exemption_controls(result, e)} for e in _exemptions(result)],
    }
    return json.dumps(doc, indent=2, sort_keys=True)


# --------------------------------------------------------------------------- SARIF 2.1.0


def _rule(info: PolicyInfo) -> dict[str, Any]:
    tags = [TOOL_NAME, info.category, *_controls(info)]
    props: dict[str, Any] = {"tags": tags, "category": info.category, "severity": info.severity, "enforcement": info.enforcement}
    if info.category in SECURITY_CATEGORIES:
        props["tags"] = ["security", *tags]
        props["security-severity"] = SECURITY_SEVERITY.get(info.severity, "5.5")
    level = {"mandatory": "error", "disabled": "none"}.get(info.enforcement, "warning")
    help_text = info.remediation or info.description
    return {
        "id": info.name,
        "name": "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", info.name)),  # readable, distinct from the id
        "shortDescription": {"text": info.description},
        "fullDescription": {"text": info.description},
        "help": {"text": help_text, "markdown": f"**Remediation:** {help_text}"},
        "defaultConfiguration": {"level": level, "enabled": info.enforcement != "disabled"},
        "properties": props,
    }


def render_sarif(result: CheckResult, synth: SynthResult) -> str:
    """One run; one rule per policy; one result per violation at the line that declared the resource."""
    names = sorted(result.policies)
    index = {name: i for i, name in enumerate(names)}
    by_urn = {r["urn"]: r for r in result.resources}
    results = []
    accepted = [(e, Finding(e.policy, e.urn, e.message, result.policies[e.policy].enforcement, result.policies[e.policy].severity,
                            result.policies[e.policy].category)) for e in _exemptions(result) if e.policy in result.policies]
    for exemption, f in [(None, f) for f in result.findings] + accepted:
        record = by_urn.get(f.urn or "")
        source = _source_of(record, by_urn) or {"file": "__main__.py", "line": 1}
        location: dict[str, Any] = {
            "physicalLocation": {
                "artifactLocation": {"uri": source["file"]},
                "region": {"startLine": max(1, int(source.get("line") or 1))},
            }
        }
        if record is not None:
            location["logicalLocations"] = [{"name": record["name"], "fullyQualifiedName": record["urn"], "kind": "resource"}]
        subject = f"{record['name']} ({record['type']})" if record else "the stack"
        fingerprint = hashlib.sha256(f"{f.policy}|{f.urn or ''}|{f.message}".encode()).hexdigest()[:32]
        entry: dict[str, Any] = {
            "ruleId": f.policy,
            "ruleIndex": index[f.policy],
            "level": "error" if f.enforcement == "mandatory" else "warning",
            "message": {"text": f"{subject}: {f.message}"},
            "locations": [location],
            "partialFingerprints": {"golivePolicyResource/v1": fingerprint},
            "properties": {"urn": f.urn, "severity": f.severity, "category": f.category, "enforcement": f.enforcement,
                           "controls": _controls(result.policies[f.policy])},
        }
        if exemption is not None:  # an accepted risk: reported, with its reason, as a suppressed result
            entry["message"]["text"] += f" (exempted: {exemption.reason})"
            entry["properties"]["status"] = EXEMPT
            entry["suppressions"] = [{"kind": "inSource", "status": "accepted", "justification": exemption.reason}]
        results.append(entry)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": TOOL_NAME, "rules": [_rule(result.policies[n]) for n in names]}},
                "automationDetails": {"id": f"{TOOL_NAME}/{synth.stack}/"},
                "results": results,
                "properties": {"stack": synth.stack, "verdict": verdict(result)},
            }
        ],
    }
    return json.dumps(doc, indent=2)


# --------------------------------------------------------------------------- JUnit XML


def _short_name(urn: str | None, by_urn: dict[str, dict[str, Any]]) -> str:
    record = by_urn.get(urn or "")
    return f"{record['name']} ({record['type']})" if record else "(stack)"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_junit(result: CheckResult, synth: SynthResult) -> str:
    """One test case per policy: failed (type = enforcement level), skipped (exempted, not applicable, disabled) or passed.

    An exempted policy is skipped, never passed: its message counts the accepted risks and its text gives each
    one's resource, finding, reason and the controls (Checkov ids among them) it accepts.
    """
    by_urn = {r["urn"]: r for r in result.resources}
    grouped = result.by_policy()
    suite = ET.Element("testsuite", name=f"{TOOL_NAME} policies · stack {synth.stack}")
    props = ET.SubElement(suite, "properties")
    for key, value in (("stack", synth.stack), ("verdict", verdict(result)), ("resources", str(len(result.resources)))):
        ET.SubElement(props, "property", name=key, value=value)
    failures = skipped = 0
    for name in sorted(result.policies):
        info = result.policies[name]
        case = ET.SubElement(suite, "testcase", classname=f"{TOOL_NAME}.{_slug(info.category)}", name=name, time="0")
        status = policy_status(result, info)
        if status == FAIL:
            failures += 1
            found = grouped[name]
            lines = []
            for f in found:
                record = by_urn.get(f.urn or "")
                where = f"{record['name']} ({record['type']})" if record else "(stack)"
                lines.append(f"- {where}: {f.message}")
            if info.remediation:
                lines.append(f"remediation: {info.remediation}")
            failure = ET.SubElement(
                case,
                "failure",
                type=info.enforcement,
                message=f"{len(found)} {info.enforcement} violation{'s' if len(found) != 1 else ''} ({info.severity}): {info.description}",
            )
            failure.text = "\n".join(lines)
        elif status == EXEMPT:
            skipped += 1
            accepted = [e for e in _exemptions(result) if e.policy == name]
            controls = _controls(info)
            element = ET.SubElement(
                case, "skipped",
                message=f"exempted: {len(accepted)} accepted risk{'s' if len(accepted) != 1 else ''}"
                + (f" ({', '.join(controls)})" if controls else ""),
            )
            element.text = "\n".join(exemption_line(result, e, _short_name(e.urn, by_urn)) for e in accepted)
        elif status in (NOT_APPLICABLE, DISABLED):
            skipped += 1
            reason = "disabled" if status == DISABLED else "no resource this policy applies to"
            ET.SubElement(case, "skipped", message=reason)
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{len(info.evaluated)} resource(s) evaluated, all passed"
    tests = len(result.policies)
    for key, value in (("tests", tests), ("failures", failures), ("errors", 0), ("skipped", skipped), ("time", 0)):
        suite.set(key, str(value))
    root = ET.Element("testsuites", name=TOOL_NAME, tests=str(tests), failures=str(failures), errors="0", skipped=str(skipped), time="0")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


# --------------------------------------------------------------------------- Markdown readiness report


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def md_code(text: str) -> str:
    """An inline code span safe inside a table cell."""
    text = str(text).replace("\n", " ").replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def verdict_line(result: CheckResult) -> str:
    n_m, n_a = len(result.mandatory), len(result.advisory)
    blockers = len({f.policy for f in result.mandatory})
    counts = f"{n_m} mandatory violation{'s' if n_m != 1 else ''}, {n_a} advisory violation{'s' if n_a != 1 else ''}"
    if result.mandatory:
        return f"**NO-GO** ❌ — {blockers} mandatory polic{'ies' if blockers != 1 else 'y'} failing ({counts})"
    return f"**GO** ✅ — no mandatory policy fails ({counts})"


def _failure_section(result: CheckResult, findings: list[Finding], by_urn: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    grouped: dict[str, list[Finding]] = {}
    for f in findings:
        grouped.setdefault(f.policy, []).append(f)
    for name, found in grouped.items():
        info = result.policies[name]
        lines.append(f"- **`{name}`** ({info.severity}, {info.category}) — {md_escape(info.description)}")
        for f in found:
            record = by_urn.get(f.urn or "")
            where = f"`{record['name']}` ({record['type']})" if record else "the stack"
            source = _source_of(record, by_urn)
            at = f" — `{source['file']}:{source['line']}`" if source else ""
            lines.append(f"  - {where}{at}: {md_escape(f.message)}")
        if info.remediation:
            lines.append(f"  - *Remediation:* {md_escape(info.remediation)}")
    return lines


def categories_table(result: CheckResult) -> list[str]:
    lines = ["| Category | Evaluated | Passed | Failed | Exempted | Not applicable | Score |", "|---|--:|--:|--:|--:|--:|--:|"]
    stats = category_stats(result)
    for s in stats:
        score = "—" if s.score is None else f"{s.score:g}%"
        lines.append(f"| {md_escape(s.category)} | {s.evaluated} | {s.passed} | {s.failed} | {s.exempted} | {s.not_applicable} | {score} |")
    total = overall_score(result)
    sums = [sum(getattr(s, k) for s in stats) for k in ("evaluated", "passed", "failed", "exempted", "not_applicable")]
    lines.append(f"| **Total** | {' | '.join(str(n) for n in sums)} | {'—' if total is None else f'{total:g}%'} |")
    return lines


def render_markdown(result: CheckResult, synth: SynthResult) -> str:
    """The readiness report: verdict (blockers first), the per-category table, then every failure with its remediation."""
    by_urn = {r["urn"]: r for r in result.resources}
    weights = ", ".join(f"{k} {v}" for k, v in SEVERITY_WEIGHT.items())
    lines = [f"# Readiness report — stack `{synth.stack}`", "", verdict_line(result), ""]
    if result.mandatory:
        lines += ["## Blockers", "", *_failure_section(result, result.mandatory, by_urn), ""]
    lines += [
        "## By category",
        "",
        *categories_table(result),
        "",
        f"Policies over {len(result.resources)} resources. Score: the share of passing policies among those that pass or fail, "
        f"weighted by severity ({weights}); a policy whose only findings are accepted risks is counted as exempted, not scored.",
        "",
    ]
    if result.advisory:
        lines += ["## Advisory failures", "", *_failure_section(result, result.advisory, by_urn), ""]
    if _exemptions(result):
        lines += ["## Accepted risks", ""]
        for e in _exemptions(result):
            controls = exemption_controls(result, e)
            cited = f" ({', '.join(md_code(c) for c in controls)})" if controls else ""
            lines.append(f"- **`{e.policy}`**{cited} — {_short_name(e.urn, by_urn)}: {md_escape(e.message)} *Reason:* {md_escape(e.reason)}")
        lines.append("")
    if not result.findings:
        lines += ["No policy fails.", ""]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- dispatch

RENDERERS: dict[str, Callable[[CheckResult, SynthResult], str]] = {
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
    "markdown": render_markdown,
}
FORMATS = ("text", *RENDERERS)


def render(fmt: str, result: CheckResult, synth: SynthResult) -> str:
    if fmt == "text":
        from . import summary

        return summary.verdict(result)
    return RENDERERS[fmt](result, synth)
