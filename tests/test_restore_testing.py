"""RestoreTesting: the database and the tagged volumes restored on a schedule, isolated, deleted after validation, watched."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from components import restore_testing
from components.config import ConfigError, RestoreTestingConfig, parse
from components.monitoring import rules
from components.monitoring.component import yace_config
from tests.conftest import ROOT
from tests.helpers import deps, one, props

PLAN = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
SELECTION = "aws:backup/restoreTestingSelection:RestoreTestingSelection"
VAULT = "aws:backup/vault:Vault"
RDS = "aws:rds/instance:Instance"
SG = "aws:ec2/securityGroup:SecurityGroup"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SUBNET = "aws:ec2/subnet:Subnet"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
RUNBOOK_BASE = "https://github.com/golive-platform/golive/blob/main/docs/runbooks"

# The prod stack's golive:restoreTesting and what AWS Backup accepts (RestoreTestingPlan / RestoreTestingSelection API).
PROD = {"schedule": "cron(0 5 ? * SAT *)", "startWindowHours": 4, "selectionWindowDays": 7, "validationWindowHours": 4,
        "rtoMinutes": 60}
AWS_NAME = re.compile(r"[A-Za-z0-9_]{1,50}")
DB_PORT = 5432


def test_the_plan_restores_the_newest_recovery_point_of_the_primary_vault_weekly(prod):
    plan = one(prod, PLAN, "golive-restore-tests-plan")
    p = props(plan)
    assert p["scheduleExpression"] == PROD["schedule"] and p["scheduleExpressionTimezone"] == "Etc/UTC"
    assert p["startWindowHours"] == PROD["startWindowHours"]
    selection = p["recoveryPointSelection"]
    assert selection["algorithm"] == "LATEST_WITHIN_WINDOW"
    assert sorted(selection["recoveryPointTypes"]) == ["CONTINUOUS", "SNAPSHOT"]
    assert selection["selectionWindowDays"] == PROD["selectionWindowDays"]
    primary, dr = one(prod, VAULT, "golive-backup-vault"), one(prod, VAULT, "golive-backup-dr-vault")
    assert deps(plan, "recoveryPointSelection") == [primary["urn"]] and dr["urn"] not in deps(plan, "recoveryPointSelection")
    assert AWS_NAME.fullmatch(p["name"]) and p["tags"]["golive:rto-minutes"] == str(PROD["rtoMinutes"])


def test_the_database_is_restored_by_arn_into_the_isolated_subnet_group_and_security_group(prod):
    selection = one(prod, SELECTION, "golive-restore-tests-database")
    p = props(selection)
    assert p["protectedResourceType"] == "RDS" and AWS_NAME.fullmatch(p["name"])
    assert deps(selection, "protectedResourceArns") == [one(prod, RDS, "golive-db-instance")["urn"]]
    assert p["validationWindowHours"] == PROD["validationWindowHours"]
    overrides = p["restoreMetadataOverrides"]
    subnet_group, restored = one(prod, SUBNET_GROUP, "golive-restore-tests-subnets"), one(prod, SG, "restore-tests-restored")
    assert set(deps(selection, "restoreMetadataOverrides")) == {subnet_group["urn"], restored["urn"]}
    (group_id,) = json.loads(overrides["vpcSecurityGroupIds"])  # a JSON list, as RDS restore metadata takes it
    assert restored["computed"]["arn"].endswith(f"/{group_id}")
    assert overrides["multiAz"] == "false" and overrides["publiclyAccessible"] == "false"
    isolated = {s["urn"] for s in prod.of_type(SUBNET) if props(s)["tags"]["tier"] == "isolated"}
    assert set(deps(subnet_group, "subnetIds")) == isolated and len(isolated) == 3


def test_the_volumes_are_selected_by_the_tag_their_storage_class_gives_them(prod):
    selection = one(prod, SELECTION, "golive-restore-tests-volumes")
    p = props(selection)
    assert p["protectedResourceType"] == "EBS" and p["protectedResourceArns"] == ["*"]
    tagged = props(one(prod, STORAGE_CLASS, "gp3"))["parameters"]["tagSpecification_1"]
    key, value = tagged.split("=")
    assert p["protectedResourceConditions"] == {"stringEquals": [{"key": f"aws:ResourceTag/{key}", "value": value}]}
    assert p["restoreMetadataOverrides"] == {"availabilityZone": "eu-west-1a"}
    assert p["validationWindowHours"] == PROD["validationWindowHours"]


def test_restored_copies_are_reachable_by_validators_only(prod):
    restored, validator = one(prod, SG, "restore-tests-restored"), one(prod, SG, "restore-tests-validator")
    (rule,) = props(restored)["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", DB_PORT, DB_PORT)
    assert deps(restored, "ingress") == [validator["urn"]] and not rule.get("cidrBlocks")
    assert not props(restored).get("egress") and not props(validator).get("ingress") and not props(validator).get("egress")
    (egress,) = [e for e in prod.of_type(EGRESS) if validator["urn"] in deps(e, "securityGroupId")]
    assert deps(egress, "referencedSecurityGroupId") == [restored["urn"]]
    assert (props(egress)["fromPort"], props(egress)["toPort"]) == (DB_PORT, DB_PORT)


def test_the_role_is_dedicated_trusted_by_backup_of_this_account_and_holds_the_restore_policy_only(prod):
    role = one(prod, ROLE, "golive-restore-tests-role")
    (statement,) = json.loads(props(role)["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "backup.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    attached = [props(a)["policyArn"] for a in prod.of_type(ATTACHMENT) if role["urn"] in deps(a, "role")]
    assert attached == ["arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"]
    for selection in prod.of_type(SELECTION):
        assert deps(selection, "iamRoleArn") == [role["urn"]]
        assert one(prod, PLAN, "restore-tests-plan")["urn"] in deps(selection, "restoreTestingPlanName")
    backup_role = one(prod, ROLE, "golive-backup-role")
    assert backup_role["urn"] != role["urn"]


def test_the_alerts_ship_as_a_prometheus_rule_the_stack_selects(prod):
    rule = one(prod, RULE, "golive-restore-tests-rules")
    p = props(rule)
    assert p["metadata"]["namespace"] == "monitoring" and p["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    cfg = RestoreTestingConfig(**{"schedule": PROD["schedule"]})
    assert p["spec"] == {"groups": [rules.group_dict(restore_testing.alert_group(cfg), RUNBOOK_BASE)]}
    assert one(prod, "kubernetes:helm.sh/v3:Release", "kube-prometheus-stack")["urn"] in rule["options"]["dependsOn"]


@pytest.mark.parametrize(("minutes", "window"), [(60, "[1h]"), (90, "[90m]"), (120, "[2h]")])
def test_the_rto_alert_waits_exactly_the_configured_rto(minutes, window):
    group = restore_testing.alert_group(RestoreTestingConfig(rto_minutes=minutes))
    over = next(a for a in group.alerts if a.name == "RestoreTestOverRto")
    assert f"aws_backup_number_of_restore_jobs_running_maximum{window}" in over.expr


def test_every_metric_the_alerts_read_is_exported_by_yace():
    """YACE names a metric aws_<namespace>_<snake name>_<statistic>: each alert's series must be configured."""
    (job,) = [j for j in yace_config("eu-west-1")["discovery"]["jobs"] if j["type"] == "AWS/Backup"]
    exported = {f"aws_backup_{re.sub(r'(?<!^)(?=[A-Z])', '_', m['name']).lower()}_{s.lower()}"
                for m in job["metrics"] for s in m["statistics"]}
    nil_to_zero = {m["name"] for m in job["metrics"] if m.get("nilToZero")}
    for alert in restore_testing.alert_group(RestoreTestingConfig()).alerts:
        series = set(re.findall(r"aws_backup_\w+", alert.expr))
        assert series and series <= exported, (alert.name, series - exported)
    assert {"NumberOfRestoreJobsCompleted", "NumberOfRestoreJobsFailed", "NumberOfRestoreJobsRunning"} <= nil_to_zero


def test_every_alert_has_its_runbook_page_with_the_three_sections():
    for alert in restore_testing.alert_group(RestoreTestingConfig()).alerts:
        assert "$value" in alert.description and alert.severity in rules.SEVERITIES
        text = (ROOT / "docs" / "runbooks" / f"{rules.runbook_page(alert.name)}.md").read_text()
        assert text.startswith(f"# {alert.name}\n") and f"Severity: **{alert.severity}**" in text
        for section in ("What it means", "First checks", "Mitigation"):
            assert f"## {section}" in text
        assert f"[{rules.runbook_page(alert.name)}.md]" in (ROOT / "docs" / "runbooks" / "README.md").read_text()


@pytest.mark.tools
def test_the_alerts_parse_fire_and_stay_quiet_under_promtool(tmp_path):
    from tests.monitoring.conftest import tool

    promtool = tool("promtool")
    group = restore_testing.alert_group(RestoreTestingConfig())
    (tmp_path / "r.rules.yml").write_text(yaml.safe_dump(rules.rule_file([group], RUNBOOK_BASE), sort_keys=False))
    check = subprocess.run([promtool, "check", "rules", str(tmp_path / "r.rules.yml")], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "SUCCESS: 3 rules found" in check.stdout, check.stdout + check.stderr
    files = []
    for i, suite in enumerate(rules.promtool_tests(group, "r.rules.yml", RUNBOOK_BASE)):
        path = tmp_path / f"r.{i}.test.yml"
        path.write_text(yaml.safe_dump(suite, sort_keys=False, width=1 << 30))
        files.append(path)
    result = subprocess.run([promtool, "test", "rules", *map(str, files)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sum(len(yaml.safe_load(f.read_text())["tests"]) for f in files) == 6


def test_without_restore_testing_nothing_is_declared(without_operational_proof):
    assert not without_operational_proof.of_type(PLAN) and not without_operational_proof.of_type(SELECTION)


# --------------------------------------------------------------------------- config


def _problems(restore: dict, environment: str = "production") -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse({"environment": environment, "restoreTesting": restore})
    return [p.key for p in raised.value.problems]


@pytest.mark.parametrize(("restore", "key"), [
    ({"enabled": False}, "golive:restoreTesting.enabled"),
    ({"schedule": "weekly"}, "golive:restoreTesting.schedule"),
    ({"startWindowHours": 0}, "golive:restoreTesting.startWindowHours"),
    ({"validationWindowHours": 169}, "golive:restoreTesting.validationWindowHours"),
    ({"selectionWindowDays": 366}, "golive:restoreTesting.selectionWindowDays"),
    ({"rtoMinutes": 30, "switchoverMinutes": 30}, "golive:restoreTesting.switchoverMinutes"),
    ({"expectedEveryDays": 14}, "golive:restoreTesting.expectedEveryDays"),
    ({"measurements": [{"resourceType": "RDS", "restoreMinutes": 0, "measuredOn": "2026-11-14"}]},
     "golive:restoreTesting.measurements[0].restoreMinutes"),
    ({"measurements": [{"resourceType": "RDS", "restoreMinutes": 20, "measuredOn": "14.11.2026"}]},
     "golive:restoreTesting.measurements[0].measuredOn"),
    ({"measurements": [{"resourceType": "RDS", "restoreMinutes": 20, "measuredOn": "2026-11-14"},
                       {"resourceType": "RDS", "restoreMinutes": 25, "measuredOn": "2026-11-21"}]},
     "golive:restoreTesting.measurements[1].resourceType"),
])
def test_bad_restore_testing_config_names_the_key(restore, key):
    assert key in _problems(restore)


def test_restore_testing_may_be_off_outside_production_and_accepts_rate_schedules():
    assert parse({"environment": "staging", "restoreTesting": {"enabled": False}}).restore_testing.enabled is False
    assert parse({"restoreTesting": {"schedule": "rate(7 days)"}}).restore_testing.schedule == "rate(7 days)"


def test_the_implied_rto_is_the_measured_restore_plus_the_switchover():
    cfg = parse({"restoreTesting": {"switchoverMinutes": 15, "measurements": [
        {"resourceType": "RDS", "restoreMinutes": 38, "measuredOn": "2026-11-14"}]}}).restore_testing
    assert cfg.implied_rto_minutes("RDS") == 53
    assert cfg.implied_rto_minutes("EBS") is None
