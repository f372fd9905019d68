"""aws-references-resolve: inputs that name another resource are fed by one of the right kind, decided at preview."""

from __future__ import annotations

import pytest

from golive import engine
from tests.helpers import findings, mutate, one

POLICY = "aws-references-resolve"
RDS = "aws:rds/instance:Instance"
ROLE = "aws:iam/role:Role"


@pytest.fixture(scope="module")
def first_preview():
    return engine.synth("prod", first_preview=True)


def test_passes_on_prod_and_on_its_first_preview(prod, first_preview):
    assert findings(prod, POLICY) == []
    assert findings(first_preview, POLICY) == []


def test_a_kms_key_input_fed_by_something_else_fails_even_before_the_arns_exist(prod, first_preview):
    for stack in (prod, first_preview):
        db = one(stack, RDS, "golive-db-instance")
        role = one(stack, ROLE, "golive-db-monitoring-role")
        broken = mutate(stack, db["urn"], lambda r, urn=role["urn"]: r["propertyDependencies"].update(kmsKeyId=[urn]))
        (finding,) = findings(broken, POLICY)
        assert finding.urn == db["urn"] and finding.enforcement == "mandatory"
        assert "golive-db-instance.kmsKeyId comes from golive-db-monitoring-role (aws:iam/role:Role), not from a aws:kms/key:Key" in finding.message


def test_an_unknown_reference_that_nothing_feeds_cannot_be_checked_and_fails(first_preview):
    db = one(first_preview, RDS, "golive-db-instance")
    assert db["inputs"]["kmsKeyId"] == engine.UNKNOWN_MARKER
    broken = mutate(first_preview, db["urn"], lambda r: r["propertyDependencies"].pop("kmsKeyId"))
    (finding,) = findings(broken, POLICY)
    assert "kmsKeyId is unknown at preview but no resource of the stack feeds it" in finding.message


def test_a_literal_arn_is_left_to_the_policy_that_reads_it(prod):
    db = one(prod, RDS, "golive-db-instance")

    def literal(record):
        record["inputs"]["kmsKeyId"] = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-aaaa-bbbb-cccc-000000000000"
        record["propertyDependencies"].pop("kmsKeyId")

    assert findings(mutate(prod, db["urn"], literal), POLICY) == []


def test_cmk_policies_decide_at_a_first_preview_instead_of_deferring(first_preview):
    """kmsKeyId is unknown at preview: the RDS policy still runs, and still fails when the key is missing."""
    result_names = ("rds-storage-encrypted-cmk", "logs-group-encrypted-retained", "secretsmanager-secret-cmk")
    from golive import check

    result = check.check(first_preview, [p for p in check.load_policies() if p.name in result_names])
    assert result.deferred == [] and result.findings == []
    db = one(first_preview, RDS, "golive-db-instance")
    (finding,) = findings(mutate(first_preview, db["urn"], lambda r: r["inputs"].pop("kmsKeyId")), "rds-storage-encrypted-cmk")
    assert "names no KMS key" in finding.message
