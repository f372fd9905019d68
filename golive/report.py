"""The readiness report: computed from policy results and the synth document, never typed.

``python -m golive report --stack prod`` renders the policy part (verdict, blockers,
per-category scores, failures, accepted risks: ``formats.render_markdown``) followed
by what the stack declares: inventory, encryption by key, deletion protection,
backup coverage, restore tests (each data store's backup, cross-region copy, restore-test
schedule and the RTO its last measured restore implies), game days, the monitoring
stack's alerts, tests, dashboards and panels, and the reachability matrix of the
declared network (``golive.reach``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import formats, inventory, reach
from .check import CheckResult
from .engine import SynthResult


@dataclass(frozen=True)
class AlertTests:
    """promtool unit tests the monitoring generator writes for the stack's alert rules."""

    firing: int
    quiet: int


def alert_tests(config: Any) -> AlertTests | None:
    """Count the promtool tests generated for ``config``'s rules (None when monitoring is absent)."""
    try:
        from components.monitoring import rules
    except ImportError:
        return None
    groups = list(rules.all_groups(config.services, config.monitoring, read_replicas=config.database.read_replicas))
    if any(service.delivery != "none" for service in config.services):
        from components import delivery

        groups.append(delivery.alert_group())
    if getattr(config, "restore_testing", None) is not None and config.restore_testing.enabled:
        from components import restore_testing

        groups.append(restore_testing.alert_group(config.restore_testing))
    alerts = [a for g in groups for a in g.alerts]
    return AlertTests(firing=sum(1 for a in alerts if a.fires), quiet=sum(1 for a in alerts if a.quiet is not None))


def _stack_config(synth: SynthResult) -> Any:
    from components import config as golive_config

    from .engine import load_stack_config

    raw, _ = load_stack_config(synth.stack)
    prefix = "golive:"
    return golive_config.parse({k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)}, synth.stack)


def account_section(synth: SynthResult) -> list[str]:
    """The deployment phase and what the stack does about each account singleton (its exports say)."""
    phase, singletons = synth.outputs.get("phase"), synth.outputs.get("accountSingletons")
    if phase is None and not isinstance(singletons, dict):
        return []
    lines = ["## Deployment", ""]
    if phase == "infrastructure":
        lines += ["Phase: **infrastructure**. The in-cluster half (services, edge, monitoring, logs, delivery) is not "
                  "declared yet: the stack is not ready to go live until the `all` phase has run.", ""]
    elif phase is not None:
        lines += [f"Phase: `{phase}`.", ""]
    if isinstance(singletons, dict):
        lines += ["| Account singleton | Mode | Reason |", "|---|---|---|"]
        for name, setting in sorted(singletons.items()):
            mode = setting.get("mode", "") if isinstance(setting, dict) else str(setting)
            reason = setting.get("reason", "") if isinstance(setting, dict) else ""
            lines.append(f"| {name} | {'**skip**' if mode == 'skip' else mode} | {reason.replace('|', '/')} |")
        lines.append("")
    return lines


def declared_sections(synth: SynthResult, tests: AlertTests | None) -> list[str]:
    lines: list[str] = account_section(synth)
    counts = inventory.inventory(synth)
    lines += ["## Inventory", "", f"{sum(n for _, n in counts)} cloud and cluster resources "
              f"({len(synth.resources)} registrations with components and providers).", "",
              "| Kind | Count |", "|---|--:|"]
    lines += [f"| {kind} | {n} |" for kind, n in counts]
    lines.append("")

    keys = inventory.encryption(synth)
    lines += ["## Encryption", "", f"{len(keys)} customer-managed KMS keys, each used by:", ""]
    for key, users in keys.items():
        lines.append(f"- **{key}**: {', '.join(users)}")
    lines.append("")

    protected = inventory.protection(synth)
    lines += ["## Protected from deletion", "", "| Kind | Name | protect | retainOnDelete |", "|---|---|:-:|:-:|"]
    lines += [f"| {kind} | `{name}` | {'✓' if p else ''} | {'✓' if r else ''} |" for kind, name, p, r in protected]
    lines.append("")

    coverage = inventory.backup_coverage(synth)
    lines += ["## Backup coverage", ""]
    lines += [f"- covered by an AWS Backup selection: {', '.join(coverage.covered) or 'nothing'}"]
    lines += [f"- **not covered**: {', '.join(coverage.uncovered)}" if coverage.uncovered else "- not covered: nothing"]
    lines.append("")

    mon = inventory.monitoring(synth)
    lines += ["## Monitoring", "", "| What | Count |", "|---|--:|",
              f"| PrometheusRule objects | {mon.rule_objects} |",
              f"| Alert rules | {mon.alerts} |",
              f"| Recording rules | {mon.recording_rules} |"]
    if tests is not None:
        lines += [f"| promtool tests: alert fires | {tests.firing} |", f"| promtool tests: alert stays quiet | {tests.quiet} |"]
    lines += [f"| Grafana dashboards | {mon.dashboards} |", f"| Dashboard panels | {mon.panels} |", ""]
    return lines


def _rto_cell(implied: int | None, target: int | None) -> str:
    if implied is None:
        return "**unproven**: no restore measured yet"
    if target is None:
        return f"{implied} min (no target)"
    return f"{implied} min ≤ {target} ✓" if implied <= target else f"**{implied} min > {target}**: the RTO is not met"


def operational_sections(synth: SynthResult, config: Any) -> list[str]:
    """Restore tests per data store and the game days, from the synth; measured restores from the stack config."""
    restore = getattr(config, "restore_testing", None)
    stores = inventory.data_stores(synth)
    lines = ["## Restore tests", "",
             "Each backed-up data store: its backup, its copy outside the region, the restore test that proves it restores, "
             "and the RTO that the last measured restore implies (the restore's duration plus the switch-over, "
             "`golive:restoreTesting.measurements`, docs/disaster-recovery.md).", "",
             "| Data store | Backup | Cross-region copy | Restore test | Last measured restore | Implied RTO |",
             "|---|---|---|---|---|---|"]
    for store in stores:
        measured = restore.measurement(store.restore_type) if restore is not None and store.restore_type else None
        implied = restore.implied_rto_minutes(store.restore_type) if measured is not None else None
        target = store.rto_minutes if store.rto_minutes is not None else (restore.rto_minutes if restore is not None else None)
        lines.append(f"| {store.label} | {store.backup or '**none**'} | {store.copy or '**none**'} | "
                     f"{store.restore_test or '**none**'} | "
                     f"{f'{measured.restore_minutes} min on {measured.measured_on}' if measured else '–'} | "
                     f"{_rto_cell(implied, target) if store.restore_test else '**untested**'} |")
    lines.append("")
    days = inventory.game_days(synth)
    lines += ["## Game days", "",
              f"{len(days)} AWS FIS experiment template{'s' if len(days) != 1 else ''} rehearse the failures the platform claims "
              "to survive (docs/game-days.md: how to run each and what result proves the claim).", ""]
    if days:
        lines += ["| Experiment | Claim | Actions | Targets | Stop alarms | Logs to |", "|---|---|---|---|--:|---|"]
        for day in days:
            lines.append(f"| `{day.name}` | {day.claim}: {day.detail} | {', '.join(f'`{a}`' for a in day.actions)} | "
                         f"{'; '.join(day.targets)} | {day.stop_conditions} | {day.logged_to or '**nowhere**'} |")
        lines.append("")
    return lines


def first_preview_section(first: CheckResult) -> list[str]:
    """What a first `pulumi preview --policy-pack policy` of an empty stack decides, and what waits for `pulumi up`."""
    mandatory = sorted(name for name, info in first.policies.items() if info.enforcement == "mandatory")
    deferred = first.deferred_mandatory()
    lines = ["## First preview", "",
             f"On an empty stack every output the cloud assigns (ids, ARNs, endpoints) is unknown at `pulumi preview`. "
             f"There, **{len(mandatory) - len(deferred)} of {len(mandatory)} mandatory policies run everywhere** and "
             f"{len(first.mandatory)} of them fail; {len(deferred)} read a value only `pulumi up` knows on some resources, "
             "where the pack reports \"can't run policy … during preview\" and enforces them when the resources are created.", ""]
    if deferred:
        lines += ["| Policy | Deferred on | Why (the servicer's message) |", "|---|--:|---|"]
        for policy in sorted(deferred):
            entries = deferred[policy]
            where = "the stack" if entries[0].urn == "" else str(len(entries))
            why = entries[0].message.split(" during preview: ", 1)[-1]
            lines.append(f"| `{policy}` | {where} | {why} |")
        lines.append("")
    return lines


def render(result: CheckResult, synth: SynthResult, first_preview: CheckResult | None = None) -> str:
    policy_part = formats.render_markdown(result, synth).rstrip("\n").split("\n")
    try:
        config = _stack_config(synth)
        tests = alert_tests(config)
    except Exception:  # noqa: BLE001 a report of a synth document from another revision may not parse here
        config, tests = None, None
    first = first_preview_section(first_preview) if first_preview is not None else []
    sections = [*policy_part, "", *first, *declared_sections(synth, tests), *operational_sections(synth, config),
                *reach.report_section(synth)]
    return "\n".join(sections).rstrip() + "\n"
