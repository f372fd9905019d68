"""The readiness report's operational part: restore tests per data store (with the RTO they imply) and the game days."""

from __future__ import annotations

from components.config import parse
from golive import report
from tests.helpers import drop

SELECTION = "aws:backup/restoreTestingSelection:RestoreTestingSelection"


def rows(lines: list[str], heading: str) -> list[list[str]]:
    start = lines.index(heading)
    table = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("| ") and not line.startswith(("| Data store", "| Experiment")):
            table.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return table


def config(**restore):
    return parse({"restoreTesting": restore} if restore else {})


def test_the_full_report_shows_restore_tests_and_game_days(prod, prod_check):
    text = report.render(prod_check, prod)
    assert "## Restore tests" in text and "## Game days" in text
    assert text.index("## Restore tests") < text.index("## Game days") < text.index("## Reachability")


def test_each_backed_up_store_has_its_backup_copy_and_weekly_restore_test(prod):
    stores = rows(report.operational_sections(prod, config()), "## Restore tests")
    assert [s[0] for s in stores] == ["EBS volumes of StorageClass `golive-gp3-encrypted`", "rds Instance `golive-db-instance`"]
    for store in stores:
        assert "daily cron(0 2 * * ? *)" in store[1] and "continuous" in store[1]
        assert "`golive-backup-dr-vault` (eu-central-1)" in store[2]
        assert store[3].startswith("cron(0 5 ? * SAT *) Etc/UTC") and "kept 4 h then deleted" in store[3]
        assert store[4] == "–" and store[5].startswith("**unproven**")
    assert "PITR backups replicated to eu-central-1" in stores[1][2]


def test_the_implied_rto_is_the_measured_restore_plus_the_switchover_against_the_target(prod):
    within = config(measurements=[{"resourceType": "RDS", "restoreMinutes": 38, "measuredOn": "2026-11-14"}])
    database = rows(report.operational_sections(prod, within), "## Restore tests")[1]
    assert database[4] == "38 min on 2026-11-14" and database[5] == "53 min ≤ 60 ✓"
    late = config(measurements=[{"resourceType": "EBS", "restoreMinutes": 50, "measuredOn": "2026-11-14"}])
    volumes = rows(report.operational_sections(prod, late), "## Restore tests")[0]
    assert volumes[5] == "**65 min > 60**: the RTO is not met"


def test_a_store_without_a_restore_test_is_shown_untested(prod):
    untested = drop(prod, lambda r: r["type"] == SELECTION)
    for store in rows(report.operational_sections(untested, config()), "## Restore tests"):
        assert store[3] == "**none**" and store[5] == "**untested**"


def test_the_game_days_table_lists_every_template_with_its_claim_stops_and_log(prod):
    days = rows(report.operational_sections(prod, config()), "## Game days")
    assert [d[0] for d in days] == ["`cache-failover`", "`database-failover`", "`zone-network`", "`zone-nodes`"]
    claims = {d[0]: d[1].split(":")[0] for d in days}
    assert claims == {"`cache-failover`": "rto", "`database-failover`": "rto", "`zone-network`": "zero-downtime-failover",
                      "`zone-nodes`": "zero-downtime-failover"}
    assert all(int(d[4]) >= 2 and d[5] == "`golive-game-days-logs`" for d in days)
    assert "`aws:rds:reboot-db-instances`" in days[1][2] and "aws:rds:db (ARN)" in days[1][3]
