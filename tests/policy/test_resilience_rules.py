"""Restore testing and game-day policies, through the pack's Analyzer protocol on the prod synth and mutations of it."""

from __future__ import annotations

import json

import pytest

from golive import check, engine
from tests.helpers import drop, findings, mutate, one

RDS = "aws:rds/instance:Instance"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
PLAN = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
SELECTION = "aws:backup/restoreTestingSelection:RestoreTestingSelection"
BACKUP_SELECTION = "aws:backup/selection:Selection"
ROLE = "aws:iam/role:Role"
TOPIC = "aws:sns/topic:Topic"
TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

RESTORE_TESTED = "resilience-restore-tested"
RESTORE_ROLE = "resilience-restore-role-least-privilege"
STOP = "resilience-experiment-stop-condition"
SCOPED = "resilience-experiment-scoped-target"
LOGGING = "resilience-experiment-logging"
ALL = (RESTORE_TESTED, RESTORE_ROLE, STOP, SCOPED, LOGGING)


def urns(found: list[check.Finding]) -> set[str]:
    return {f.urn for f in found}


def test_prod_passes_every_resilience_policy(prod):
    assert findings(prod, ALL) == []


def test_a_first_preview_decides_every_resilience_policy():
    first = engine.synth("prod", first_preview=True)
    result = check.check(first, [p for p in check.load_policies() if p.name in ALL])
    assert result.findings == []
    assert not set(result.deferred_mandatory()) & set(ALL)


# --------------------------------------------------------------------------- restore tested


def test_every_backed_up_store_needs_a_restore_test(prod):
    untested = drop(prod, lambda r: r["type"] == SELECTION)
    found = findings(untested, RESTORE_TESTED)
    assert urns(found) == {one(prod, RDS, "golive-db-instance")["urn"], one(prod, STORAGE_CLASS, "gp3")["urn"]}
    assert any("StorageClass golive-gp3-encrypted" in f.message and "(EBS)" in f.message for f in found)


def test_a_selection_outside_any_plan_tests_nothing(prod):
    orphan = drop(prod, lambda r: r["type"] == PLAN)
    assert len(findings(orphan, RESTORE_TESTED)) == 2


def test_a_volume_selection_whose_condition_misses_the_tag_tests_nothing(prod):
    volumes = one(prod, SELECTION, "volumes")
    wrong_key = mutate(prod, volumes["urn"], lambda r: r["inputs"]["protectedResourceConditions"]["stringEquals"][0].update(
        key="aws:ResourceTag/backup-tier"))
    assert urns(findings(wrong_key, RESTORE_TESTED)) == {one(prod, STORAGE_CLASS, "gp3")["urn"]}


def test_a_selection_of_another_resource_type_does_not_count(prod):
    database = one(prod, SELECTION, "database")
    aurora = mutate(prod, database["urn"], lambda r: r["inputs"].update(protectedResourceType="Aurora"))
    assert urns(findings(aurora, RESTORE_TESTED)) == {one(prod, RDS, "golive-db-instance")["urn"]}


def test_a_tagged_store_restore_testing_cannot_restore_is_named(prod):
    topic = one(prod, TOPIC, "backup-notifications")
    tagged = mutate(prod, topic["urn"], lambda r: r["inputs"]["tags"].update(backup="true"))
    found = findings(tagged, RESTORE_TESTED)
    assert urns(found) == {topic["urn"]} and "no resource type" in found[0].message


def test_outside_production_restore_tests_are_not_required(without_operational_proof):
    assert not without_operational_proof.of_type(SELECTION)
    assert findings(without_operational_proof, RESTORE_TESTED) == []


# --------------------------------------------------------------------------- restore role


def _role(prod: engine.SynthResult) -> dict:
    return one(prod, ROLE, "golive-restore-tests-role")


def test_a_restore_role_any_account_could_use_fails(prod):
    def open_trust(record):
        document = json.loads(record["inputs"]["assumeRolePolicy"])
        document["Statement"][0].pop("Condition")
        record["inputs"]["assumeRolePolicy"] = json.dumps(document)

    found = findings(mutate(prod, _role(prod)["urn"], open_trust), RESTORE_ROLE)
    assert urns(found) == {_role(prod)["urn"]} and "aws:SourceAccount" in found[0].message


def test_a_restore_role_trusted_by_another_service_fails(prod):
    def ec2_too(record):
        document = json.loads(record["inputs"]["assumeRolePolicy"])
        document["Statement"][0]["Principal"]["Service"] = ["backup.amazonaws.com", "ec2.amazonaws.com"]
        record["inputs"]["assumeRolePolicy"] = json.dumps(document)

    found = findings(mutate(prod, _role(prod)["urn"], ec2_too), RESTORE_ROLE)
    assert len(found) == 1 and "ec2.amazonaws.com" in found[0].message


def test_a_restore_role_with_more_managed_policies_fails(prod):
    admin = mutate(prod, _role(prod)["urn"], lambda r: r["inputs"].update(managedPolicyArns=["arn:aws:iam::aws:policy/PowerUserAccess"]))
    found = findings(admin, RESTORE_ROLE)
    assert len(found) == 1 and "PowerUserAccess" in found[0].message


def test_restore_testing_may_not_borrow_the_backup_plans_role(prod):
    backup_role = one(prod, ROLE, "golive-backup-role")
    selection = one(prod, SELECTION, "database")

    def borrow(record):
        record["propertyDependencies"]["iamRoleArn"] = [backup_role["urn"]]

    found = findings(mutate(prod, selection["urn"], borrow), RESTORE_ROLE)
    assert urns(found) == {backup_role["urn"]}
    message = found[0].message
    assert "AWSBackupServiceRolePolicyForBackup" in message and "backup plan's selections use it too" in message


def test_a_role_the_stack_does_not_declare_cannot_be_proven(prod):
    selection = one(prod, SELECTION, "volumes")

    def foreign(record):
        record["inputs"]["iamRoleArn"] = "arn:aws:iam::123456789012:role/someone-elses"
        record["propertyDependencies"].pop("iamRoleArn")

    assert urns(findings(mutate(prod, selection["urn"], foreign), RESTORE_ROLE)) == {selection["urn"]}


# --------------------------------------------------------------------------- experiments


@pytest.mark.parametrize("conditions", [[], [{"source": "none"}], [{"source": "aws:cloudwatch:alarm"}]],
                         ids=["none-at-all", "source-none", "alarm-without-arn"])
def test_an_experiment_without_a_stop_alarm_fails(prod, conditions):
    template = one(prod, TEMPLATE, "database-failover")
    found = findings(mutate(prod, template["urn"], lambda r: r["inputs"].update(stopConditions=conditions)), STOP)
    assert urns(found) == {template["urn"]}


def test_every_experiment_has_a_stop_alarm_and_a_scoped_target(prod):
    templates = prod.of_type(TEMPLATE)
    assert len(templates) >= 4
    for template in templates:
        assert any(c["source"] == "aws:cloudwatch:alarm" for c in template["inputs"]["stopConditions"])
        for target in template["inputs"]["targets"]:
            assert target.get("resourceArns") or target.get("resourceTags"), (template["name"], target["name"])


def test_a_target_without_arns_or_tags_hits_everything(prod):
    template = one(prod, TEMPLATE, "database-failover")
    found = findings(mutate(prod, template["urn"], lambda r: r["inputs"]["targets"][0].pop("resourceArns")), SCOPED)
    assert urns(found) == {template["urn"]} and "every aws:rds:db" in found[0].message


def test_a_wildcard_arn_is_no_scope(prod):
    template = one(prod, TEMPLATE, "database-failover")
    found = findings(mutate(prod, template["urn"], lambda r: r["inputs"]["targets"][0].update(resourceArns=["*"])), SCOPED)
    assert urns(found) == {template["urn"]}


def test_stack_wide_tags_plus_a_specific_one_are_a_scope(prod):
    template = one(prod, TEMPLATE, "cache-failover")
    tags = template["inputs"]["targets"][0]["resourceTags"]
    assert {t["key"] for t in tags} - {"environment", "project"}, "the cache target needs a tag of its own"
    assert findings(prod, SCOPED) == []


def test_an_experiment_logging_nowhere_or_unencrypted_fails(prod):
    template = one(prod, TEMPLATE, "zone-network")
    unlogged = mutate(prod, template["urn"], lambda r: r["inputs"].update(logConfiguration={"logSchemaVersion": 2}))
    assert urns(findings(unlogged, LOGGING)) == {template["urn"]}
    group = one(prod, LOG_GROUP, "golive-game-days-logs")
    plain = mutate(prod, group["urn"], lambda r: r["inputs"].pop("kmsKeyId"))
    found = findings(plain, LOGGING)
    assert len(found) == len(prod.of_type(TEMPLATE)) and all("not KMS-encrypted" in f.message for f in found)


def test_an_experiment_logging_to_a_foreign_group_cannot_be_proven(prod):
    template = one(prod, TEMPLATE, "zone-nodes")

    def foreign(record):
        record["propertyDependencies"].pop("logConfiguration")

    found = findings(mutate(prod, template["urn"], foreign), LOGGING)
    assert urns(found) == {template["urn"]} and "does not declare" in found[0].message
