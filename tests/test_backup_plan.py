"""BackupPlan: locked vaults in both regions, daily + continuous rules, DR copies, tag selection, notifications."""

from __future__ import annotations

import json

import pytest

from components.backup_plan import VAULT_EVENTS
from components.config import ConfigError, parse
from tests.helpers import deps, of_type, one, props

VAULT = "aws:backup/vault:Vault"


def region(synth, record):
    provider_urn = record["provider"].rsplit("::", 1)[0]
    return synth.by_urn()[provider_urn]["inputs"]["region"]


def vaults(synth):
    return one(synth, VAULT, "golive-backup-vault"), one(synth, VAULT, "golive-backup-dr-vault")


def test_a_vault_in_each_region_under_a_key_of_that_region(prod):
    for vault, expected in zip(vaults(prod), ("eu-west-1", "eu-central-1"), strict=True):
        assert region(prod, vault) == expected
        (key_urn,) = deps(vault, "kmsKeyArn")
        key = prod.by_urn()[key_urn]
        assert key["type"] == "aws:kms/key:Key" and region(prod, key) == expected
        assert props(vault)["kmsKeyArn"].startswith(f"arn:aws:kms:{expected}:")


def test_vaults_are_protected_retained_and_never_force_destroyed(prod):
    for vault in vaults(prod):
        assert vault["options"]["protect"] is True and vault["options"]["retainOnDelete"] is True
        assert props(vault)["forceDestroy"] is False


def test_each_vault_is_locked_in_governance_mode_by_default(prod):
    for vault in vaults(prod):
        (lock,) = [r for r in of_type(prod, "aws:backup/vaultLockConfiguration:VaultLockConfiguration")
                   if deps(r, "backupVaultName") == [vault["urn"]]]
        assert (props(lock)["minRetentionDays"], props(lock)["maxRetentionDays"]) == (30, 365)
        assert "changeableForDays" not in props(lock)
        assert lock["options"]["protect"] is True and region(prod, lock) == region(prod, vault)


def test_compliance_mode_after_a_grace_period_when_configured(synth_config):
    synth = synth_config({"backup": {"vaultLockComplianceAfterDays": 3}})
    locks = of_type(synth, "aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    assert [props(lock)["changeableForDays"] for lock in locks] == [3, 3]


def test_vault_access_policies_deny_deleting_recovery_points(prod):
    for vault in vaults(prod):
        (policy,) = [r for r in of_type(prod, "aws:backup/vaultPolicy:VaultPolicy") if deps(r, "backupVaultName") == [vault["urn"]]]
        (statement,) = json.loads(props(policy)["policy"])["Statement"]
        assert statement["Effect"] == "Deny" and statement["Principal"] == {"AWS": "*"}
        assert set(statement["Action"]) == {"backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"}


def plan_rules(synth):
    plan = one(synth, "aws:backup/plan:Plan")
    return plan, {rule["ruleName"]: rule for rule in props(plan)["rules"]}


def test_daily_rule_at_0200_utc_kept_30_days_copied_to_the_dr_vault(prod):
    plan, rules = plan_rules(prod)
    primary, dr = vaults(prod)
    daily = rules["daily"]
    assert daily["schedule"] == "cron(0 2 * * ? *)" and daily["scheduleExpressionTimezone"] == "Etc/UTC"
    assert daily["lifecycle"] == {"deleteAfter": 30}
    assert daily["targetVaultName"] == prod.outputs["backupVaultName"]
    (copy,) = daily["copyActions"]
    assert copy["destinationVaultArn"] == prod.outputs["drBackupVaultArn"]
    assert copy["destinationVaultArn"].startswith("arn:aws:backup:eu-central-1:")
    assert copy["lifecycle"] == {"deleteAfter": 30}
    assert set(deps(plan, "rules")) == {primary["urn"], dr["urn"]}
    assert region(prod, plan) == "eu-west-1"


def test_continuous_rule_gives_35_days_of_point_in_time_recovery(prod):
    _, rules = plan_rules(prod)
    continuous = rules["continuous"]
    assert continuous["enableContinuousBackup"] is True
    assert continuous["lifecycle"] == {"deleteAfter": 35}
    assert continuous["copyActions"][0]["destinationVaultArn"] == prod.outputs["drBackupVaultArn"]


def test_selection_picks_every_resource_tagged_backup_true(prod):
    selection = one(prod, "aws:backup/selection:Selection")
    assert props(selection)["selectionTags"] == [{"type": "STRINGEQUALS", "key": "backup", "value": "true"}]
    assert deps(selection, "planId") == [one(prod, "aws:backup/plan:Plan")["urn"]]
    role = one(prod, "aws:iam/role:Role", "golive-backup-role")
    assert deps(selection, "iamRoleArn") == [role["urn"]]
    attachments = [r for r in of_type(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if deps(r, "role") == [role["urn"]]]
    assert {a["urn"] for a in attachments} <= set(selection["options"]["dependsOn"])


def test_backup_role_has_the_aws_backup_managed_policies(prod):
    role = one(prod, "aws:iam/role:Role", "golive-backup-role")
    (trust,) = json.loads(props(role)["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    arns = {props(a)["policyArn"] for a in of_type(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if deps(a, "role") == [role["urn"]]}
    assert {
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    } <= arns


def test_notifications_go_to_a_kms_encrypted_topic_backup_may_publish_to(prod):
    topic = one(prod, "aws:sns/topic:Topic", "golive-backup-notifications")
    (key_urn,) = deps(topic, "kmsMasterKeyId")
    key_policy = json.loads(prod.by_urn()[key_urn]["inputs"]["policy"])
    assert any(s.get("Principal") == {"Service": "backup.amazonaws.com"} for s in key_policy["Statement"])
    (topic_policy,) = [r for r in of_type(prod, "aws:sns/topicPolicy:TopicPolicy") if deps(r, "arn") == [topic["urn"]]]
    statements = {s["Sid"]: s for s in json.loads(props(topic_policy)["policy"])["Statement"]}
    assert statements["AwsBackupPublishes"]["Principal"] == {"Service": "backup.amazonaws.com"}
    assert statements["AwsBackupPublishes"]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    notifications = one(prod, "aws:backup/vaultNotifications:VaultNotifications")
    assert deps(notifications, "backupVaultName") == [vaults(prod)[0]["urn"]]
    assert deps(notifications, "snsTopicArn") == [topic["urn"]]
    assert topic_policy["urn"] in notifications["options"]["dependsOn"]


def test_vault_events_are_supported_ones_that_report_failures(prod):
    events = set(props(one(prod, "aws:backup/vaultNotifications:VaultNotifications"))["backupVaultEvents"])
    assert events == set(VAULT_EVENTS)
    assert {"BACKUP_JOB_COMPLETED", "COPY_JOB_FAILED", "RECOVERY_POINT_MODIFIED"} <= events
    # Deprecated: AWS Backup no longer emits them, so a rule relying on them would stay silent.
    assert not events & {"BACKUP_JOB_FAILED", "BACKUP_JOB_EXPIRED", "RESTORE_JOB_FAILED"}


def test_the_prod_stack_e_mails_failed_jobs_to_on_call(prod):
    """A topic nobody subscribes to notifies nobody: production subscribes at least one address."""
    (subscription,) = of_type(prod, "aws:sns/topicSubscription:TopicSubscription")
    assert props(subscription)["endpoint"] == "platform-oncall@golive.example.com"
    assert deps(subscription, "topic") == [one(prod, "aws:sns/topic:Topic", "golive-backup-notifications")["urn"]]


def test_production_without_a_notification_address_is_rejected():
    problems = problems_of({"backup": {"notificationEmails": []}})
    assert ("golive:backup.notificationEmails", "a production stack subscribes at least one address to the backup job "
            "notifications, or a failed backup reaches nobody by e-mail") in problems
    assert parse({"environment": "staging", "backup": {"notificationEmails": []}}).backup.notification_emails == ()


def test_a_failed_backup_job_pages_on_call(prod):
    """The vault's e-mail is one path; the monitoring stack's BackupJobFailed must also reach the PagerDuty route."""
    from components.monitoring import alertmanager as am
    from components.monitoring.rules import backup_group

    (alert,) = [a for a in backup_group().alerts if a.name == "BackupJobFailed"]
    config = am.alertmanager_config(parse({}).monitoring.alerting, "alertmanager-receivers")
    assert am.PAGERDUTY in am.receivers_for(config, {"alertname": alert.name, "severity": alert.severity, "service": alert.service})


def test_the_daily_rule_starts_apart_from_the_database_windows(prod):
    """AWS Backup's start window (02:00 + 60 min) and RDS's automated backup window must not meet."""
    from components.config import windows_overlap

    _, rules = plan_rules(prod)
    (instance,) = [r for r in of_type(prod, "aws:rds/instance:Instance") if r["name"] == "golive-db-instance"]
    start_window = f"02:00-{2 + rules['daily']['startWindow'] // 60:02d}:00"
    assert rules["daily"]["schedule"] == "cron(0 2 * * ? *)" and rules["daily"]["startWindow"] == 60
    assert not windows_overlap(start_window, props(instance)["backupWindow"])
    assert not windows_overlap(start_window, props(instance)["maintenanceWindow"])


@pytest.mark.parametrize("database, backup, clash", [
    ({"backupWindow": "02:00-03:00"}, {}, "its start window 02:00-03:00 (UTC, startWindowMinutes 60) overlaps "
     "golive:database.backupWindow 02:00-03:00: stagger them"),
    ({"backupWindow": "01:30-02:30"}, {}, "overlaps golive:database.backupWindow 01:30-02:30"),
    ({}, {"schedule": "cron(30 3 * * ? *)", "startWindowMinutes": 120}, "its start window 03:30-05:30 (UTC, startWindowMinutes 120) "
     "overlaps golive:database.maintenanceWindow sun:04:00-sun:05:00"),
    ({}, {"schedule": "cron(0 */4 * * ? *)"}, "use a fixed minute and hour"),
])
def test_backup_and_database_windows_are_kept_apart(database, backup, clash):
    problems = problems_of({"database": database, "backup": backup})
    assert any(k == "golive:backup.schedule" and clash in r for k, r in problems), problems


def test_windows_that_only_touch_are_apart():
    config = parse({"database": {"backupWindow": "01:00-02:00"}, "backup": {"schedule": "cron(0 2,14 * * ? *)"}}, "prod")
    assert config.backup.schedule == "cron(0 2,14 * * ? *)"


def test_email_subscribers_from_config_get_only_unsuccessful_jobs(synth_config):
    synth = synth_config({"backup": {"notificationEmails": ["oncall@example.com", "dba@example.com"]}})
    subscriptions = of_type(synth, "aws:sns/topicSubscription:TopicSubscription")
    assert sorted(props(s)["endpoint"] for s in subscriptions) == ["dba@example.com", "oncall@example.com"]
    topic = one(synth, "aws:sns/topic:Topic", "golive-backup-notifications")
    for subscription in subscriptions:
        assert props(subscription)["protocol"] == "email" and deps(subscription, "topic") == [topic["urn"]]
        assert json.loads(props(subscription)["filterPolicy"]) == {"State": [{"anything-but": "COMPLETED"}]}


def test_stack_outputs_carry_what_a_restore_needs(prod):
    outputs = prod.outputs
    primary, dr = vaults(prod)
    assert outputs["backupVaultArn"].endswith(f":backup-vault:{outputs['backupVaultName']}")
    assert outputs["drBackupVaultArn"].startswith("arn:aws:backup:eu-central-1:")
    assert outputs["drBackupVaultKeyArn"].startswith("arn:aws:kms:eu-central-1:")
    assert outputs["backupPlanId"] and outputs["backupRoleArn"].startswith("arn:aws:iam::123456789012:role/")
    assert outputs["backupNotificationTopicArn"].startswith("arn:aws:sns:eu-west-1:")
    assert "[secret]" not in {str(outputs[k]) for k in outputs if "ackup" in k or k == "drRegion"}


def test_plan_follows_config_overrides(synth_config):
    synth = synth_config({"backup": {"retentionDays": 45, "drCopyRetentionDays": 60, "continuousRetentionDays": 30,
                                     "vaultLockMinRetentionDays": 14, "schedule": "cron(30 1 * * ? *)"},
                          "database": {"backupRetentionDays": 30}})
    _, rules = plan_rules(synth)
    assert rules["daily"]["lifecycle"] == {"deleteAfter": 45} and rules["daily"]["schedule"] == "cron(30 1 * * ? *)"
    assert rules["daily"]["copyActions"][0]["lifecycle"] == {"deleteAfter": 60}
    assert rules["continuous"]["lifecycle"] == {"deleteAfter": 30}


# --------------------------------------------------------------------------- config errors


def problems_of(raw):
    with pytest.raises(ConfigError) as err:
        parse(raw, "prod")
    return {(p.key, p.rule) for p in err.value.problems}


def test_retention_below_30_days_is_rejected_in_production():
    problems = problems_of({"backup": {"retentionDays": 14, "vaultLockMinRetentionDays": 14}})
    assert problems == {("golive:backup.retentionDays", "production keeps recovery points at least 30 days")}


def test_dr_copy_retention_below_30_days_is_rejected_in_production():
    problems = problems_of({"backup": {"drCopyRetentionDays": 7, "vaultLockMinRetentionDays": 7}})
    assert problems == {("golive:backup.drCopyRetentionDays", "production keeps recovery points at least 30 days")}


DB_RETENTION = "golive:database.backupRetentionDays"


def test_database_pitr_retention_must_equal_the_continuous_rule_in_production():
    """The instance is tagged backup=true: AWS Backup's continuous rule and RDS would otherwise reset each other's retention."""
    problems = problems_of({"database": {"backupRetentionDays": 30}, "backup": {"continuousRetentionDays": 35}})
    (rule,) = [r for k, r in problems if k == DB_RETENTION]
    assert "must equal golive:backup.continuousRetentionDays (35)" in rule and "backup=true" in rule
    with pytest.raises(ConfigError) as err:
        parse({"database": {"backupRetentionDays": 30}}, "prod")
    assert f"{DB_RETENTION} = 30: must equal golive:backup.continuousRetentionDays (35)" in str(err.value)


def test_database_pitr_retention_equal_to_the_continuous_rule_is_accepted():
    config = parse({"database": {"backupRetentionDays": 32}, "backup": {"continuousRetentionDays": 32}}, "prod")
    assert config.database.backup_retention_days == config.backup.continuous_retention_days == 32
    assert parse({}, "prod").database.backup_retention_days == 35  # the defaults agree


def test_prod_stack_keeps_both_retentions_equal(prod):
    from tests.conftest import prod_config

    raw, _ = prod_config()
    database, backup = json.loads(raw["golive:database"]), json.loads(raw["golive:backup"])
    assert database["backupRetentionDays"] == backup["continuousRetentionDays"] == 35
    (instance,) = [r for r in of_type(prod, "aws:rds/instance:Instance") if r["name"] == "golive-db-instance"]
    assert props(instance)["backupRetentionPeriod"] == 35 and props(instance)["tags"]["backup"] == "true"


def test_staging_may_keep_backups_7_days():
    config = parse({"environment": "staging", "backup": {"retentionDays": 7, "drCopyRetentionDays": 7, "vaultLockMinRetentionDays": 7}})
    assert config.backup.retention_days == 7


@pytest.mark.parametrize(
    "backup, key, rule",
    [
        ({"continuousRetentionDays": 36}, "golive:backup.continuousRetentionDays", "at most 35 days"),
        ({"vaultLockMinRetentionDays": 31}, "golive:backup.vaultLockMinRetentionDays", "must not exceed retentionDays (30)"),
        ({"vaultLockMinRetentionDays": 3}, "golive:backup.vaultLockMinRetentionDays", "at least 7 days"),
        ({"vaultLockMaxRetentionDays": 30}, "golive:backup.vaultLockMaxRetentionDays", "every retention above"),
        ({"vaultLockComplianceAfterDays": 1}, "golive:backup.vaultLockComplianceAfterDays", "at least 3 days"),
        ({"schedule": "rate(1 day)"}, "golive:backup.schedule", "six fields"),
        ({"startWindowMinutes": 30}, "golive:backup.startWindowMinutes", "at least 60 minutes"),
        ({"completionWindowMinutes": 90}, "golive:backup.completionWindowMinutes", "startWindowMinutes + 60"),
        ({"notificationEmails": ["not-an-address"]}, "golive:backup.notificationEmails[0]", "e-mail address"),
        ({"retentionDay": 30}, "golive:backup.retentionDay", "did you mean 'retentionDays'"),
    ],
)
def test_plan_settings_are_validated(backup, key, rule):
    problems = problems_of({"backup": backup})
    assert any(k == key and rule in r for k, r in problems), problems
