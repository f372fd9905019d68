"""`python -m golive check --format json|sarif|junit|markdown`: the shapes CI tools read, and the readiness report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from golive import __main__ as cli
from golive import check, engine, formats
from tests.helpers import drop

KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"


def record(type_: str, name: str, *, line: int | None = 7, parent: str | None = None) -> dict:
    return {
        "urn": f"urn:pulumi:prod::golive::{type_}::{name}",
        "type": type_,
        "name": name,
        "parent": parent,
        "custom": True,
        "provider": None,
        "inputs": {},
        "secretInputs": [],
        "propertyDependencies": {},
        "options": {"protect": False, "retainOnDelete": False, "dependsOn": [], "ignoreChanges": [], "deleteBeforeReplace": False,
                    "additionalSecretOutputs": []},
        "source": {"file": "components/store.py", "line": line} if line else None,
    }


COMPONENT = {**record("golive:store:Store", "store", line=3), "custom": False}
KEY_REC = record(KEY, "store-key", line=12, parent=COMPONENT["urn"])
BUCKET_A = record(BUCKET, "store-a", line=20, parent=COMPONENT["urn"])
BUCKET_B = record(BUCKET, "store-b", line=None, parent=COMPONENT["urn"])  # inherits the component's line
RESOURCES = [COMPONENT, KEY_REC, BUCKET_A, BUCKET_B]
SYNTH = engine.SynthResult("prod", "golive", RESOURCES)


def info(name, *, category="Security", severity="high", enforcement="mandatory", evaluated=(), kind="resource") -> check.PolicyInfo:
    return check.PolicyInfo(
        name=name, description=f"What {name} requires.", enforcement=enforcement, severity=severity, category=category,
        remediation=f"Fix {name}.", tags=(f"category:{category}", "cis:2.1.1"), kind=kind, evaluated=set(evaluated),
    )


def finding(policy: check.PolicyInfo, urn: str | None, message: str) -> check.Finding:
    return check.Finding(policy.name, urn, message, policy.enforcement, policy.severity, policy.category)


def sample(mandatory_failure: bool = True) -> check.CheckResult:
    """Five policies: a mandatory failure, an advisory failure, an exemption, a pass and one with nothing to check."""
    enc = info("s3-bucket-encrypted", evaluated=[BUCKET_A["urn"], BUCKET_B["urn"]], enforcement="mandatory" if mandatory_failure else "advisory")
    ver = info("s3-bucket-versioned", category="DR & Business Continuity", severity="medium", enforcement="advisory",
               evaluated=[BUCKET_A["urn"], BUCKET_B["urn"]])
    rot = info("kms-key-rotation", evaluated=[KEY_REC["urn"]])
    tags = info("tags-required", category="Compliance", severity="low", evaluated=[r["urn"] for r in RESOURCES[1:]])
    db = info("rds-multi-az", category="Database", evaluated=[])
    findings = [
        finding(enc, BUCKET_B["urn"], "bucket store-b has no default encryption"),
        finding(ver, BUCKET_A["urn"], "versioning is off"),
    ]
    exemption = check.Exemption("kms-key-rotation", KEY_REC["urn"], "key store-key does not rotate", "imported key material (SEC-1)")
    policies = {p.name: p for p in (enc, ver, rot, tags, db)}
    findings.sort(key=lambda f: (f.enforcement != "mandatory", f.policy))
    return check.CheckResult(policies=policies, findings=findings, resources=RESOURCES, exemptions=[exemption])


# --------------------------------------------------------------------------- statuses and scores


def test_policy_statuses_and_resource_results():
    result = sample()
    status = {name: formats.policy_status(result, p) for name, p in result.policies.items()}
    assert status == {
        "s3-bucket-encrypted": "fail",
        "s3-bucket-versioned": "fail",
        "kms-key-rotation": "exempted",
        "tags-required": "pass",
        "rds-multi-az": "not-applicable",
    }
    rows = formats.resource_results(result)
    by = {(r["policy"], r["name"]): r for r in rows}
    assert by[("s3-bucket-encrypted", "store-a")]["status"] == "pass"  # evaluated minus failed URNs
    assert by[("s3-bucket-encrypted", "store-b")]["status"] == "fail"
    assert by[("s3-bucket-encrypted", "store-b")]["message"] == "bucket store-b has no default encryption"
    assert by[("kms-key-rotation", "store-key")]["status"] == "exempted"
    assert by[("kms-key-rotation", "store-key")]["reason"] == "imported key material (SEC-1)"
    assert by[("kms-key-rotation", "store-key")]["controls"] == ["cis:2.1.1"]
    assert sum(1 for r in rows if r["policy"] == "tags-required" and r["status"] == "pass") == 3
    assert by[("rds-multi-az", None)]["status"] == "not-applicable"


def test_category_scores_are_severity_weighted_shares_of_passing_policies():
    stats = {s.category: s for s in formats.category_stats(sample())}
    security = stats["Security"]
    assert (security.evaluated, security.passed, security.failed, security.exempted) == (2, 0, 1, 1)
    assert security.score == 0.0  # the exempted policy is left out of the score
    assert stats["Compliance"].score == 100.0
    assert stats["Database"].not_applicable == 1 and stats["Database"].score is None
    assert stats["DR & Business Continuity"].failed == 1
    # high 4 (fail) + medium 2 (fail) + low 1 (pass) -> 1/7
    assert formats.overall_score(sample()) == pytest.approx(14.3)


# --------------------------------------------------------------------------- JSON


def test_json_lists_every_policy_resource_result():
    doc = json.loads(formats.render_json(sample(), SYNTH))
    assert doc["verdict"] == "NO-GO" and doc["mandatoryViolations"] == 1 and doc["advisoryViolations"] == 1
    assert doc["resultCounts"] == {"pass": 5, "fail": 2, "exempted": 1, "not-applicable": 1, "disabled": 0}
    policy = next(p for p in doc["policies"] if p["name"] == "s3-bucket-encrypted")
    assert (policy["evaluated"], policy["passed"], policy["failed"]) == (2, 1, 1)
    assert policy["controls"] == ["cis:2.1.1"] and policy["category"] == "Security"
    row = next(r for r in doc["results"] if r["status"] == "fail" and r["policy"] == "s3-bucket-encrypted")
    assert {"enforcement", "severity", "category", "message", "urn"} <= set(row)
    assert doc["exemptions"][0]["reason"] == "imported key material (SEC-1)"
    assert (doc["exemptions"][0]["status"], doc["exemptions"][0]["controls"]) == ("exempted", ["cis:2.1.1"])
    assert next(p for p in doc["policies"] if p["name"] == "kms-key-rotation")["status"] == "exempted"


# --------------------------------------------------------------------------- SARIF 2.1.0


def assert_sarif_shape(doc: dict) -> None:
    """The fields SARIF 2.1.0 and GitHub code scanning require."""
    assert doc["$schema"].endswith("sarif-2.1.0.json") and doc["version"] == "2.1.0"
    assert doc["runs"]
    for run in doc["runs"]:
        driver = run["tool"]["driver"]
        assert driver["name"] == "golive"
        ids = [r["id"] for r in driver["rules"]]
        assert len(ids) == len(set(ids))
        for rule in driver["rules"]:
            assert rule["shortDescription"]["text"] and rule["help"]["text"]
            assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note", "none")
        for res in run["results"]:
            assert res["ruleId"] in ids and ids[res["ruleIndex"]] == res["ruleId"]
            assert res["message"]["text"]
            assert res["level"] in ("error", "warning", "note", "none")
            assert res["locations"]
            for loc in res["locations"]:
                phys = loc["physicalLocation"]
                assert phys["artifactLocation"]["uri"] and not phys["artifactLocation"]["uri"].startswith("/")
                assert isinstance(phys["region"]["startLine"], int) and phys["region"]["startLine"] >= 1


def test_sarif_has_one_rule_per_policy_and_one_result_per_violation():
    result = sample()
    doc = json.loads(formats.render_sarif(result, SYNTH))
    assert_sarif_shape(doc)
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == sorted(result.policies)
    active = [r for r in run["results"] if "suppressions" not in r]
    assert len(active) == len(result.findings)
    enc = next(r for r in active if r["ruleId"] == "s3-bucket-encrypted")
    assert enc["level"] == "error"
    # store-b has no source frame of its own: the component that declared it is annotated.
    assert enc["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "components/store.py"
    assert enc["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert enc["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == BUCKET_B["urn"]
    assert next(r for r in active if r["ruleId"] == "s3-bucket-versioned")["level"] == "warning"
    (accepted,) = [r for r in run["results"] if "suppressions" in r]
    assert accepted["suppressions"][0]["justification"] == "imported key material (SEC-1)"
    assert accepted["suppressions"][0]["status"] == "accepted" and accepted["properties"]["status"] == "exempted"
    assert "exempted: imported key material (SEC-1)" in accepted["message"]["text"]
    assert accepted["properties"]["controls"] == ["cis:2.1.1"]
    assert accepted["locations"][0]["physicalLocation"]["region"]["startLine"] == 12
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "kms-key-rotation")
    assert "security" in rule["properties"]["tags"] and rule["properties"]["security-severity"] == "8.0"


def test_sarif_of_the_real_stack_points_at_the_declaring_line(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:ec2/flowLog:FlowLog")
    result = check.check(broken, [p for p in check.load_policies() if p.name == "network-vpc-flow-logs"])
    doc = json.loads(formats.render_sarif(result, broken))
    assert_sarif_shape(doc)
    (res,) = doc["runs"][0]["results"]
    loc = res["locations"][0]["physicalLocation"]
    assert (engine.ROOT / loc["artifactLocation"]["uri"]).is_file()
    line = (engine.ROOT / loc["artifactLocation"]["uri"]).read_text().splitlines()[loc["region"]["startLine"] - 1]
    assert "Vpc" in line


def test_sarif_of_the_prod_stack_is_well_formed(prod, prod_check):
    doc = json.loads(formats.render_sarif(prod_check, prod))
    assert_sarif_shape(doc)
    assert len(doc["runs"][0]["tool"]["driver"]["rules"]) == len(prod_check.policies)


# --------------------------------------------------------------------------- JUnit


def test_junit_has_one_test_case_per_policy():
    result = sample()
    root = ET.fromstring(formats.render_junit(result, SYNTH))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert sorted(c.get("name") for c in cases) == sorted(result.policies)
    by = {c.get("name"): c for c in cases}
    assert by["s3-bucket-encrypted"].find("failure").get("type") == "mandatory"
    assert "remediation: Fix s3-bucket-encrypted." in by["s3-bucket-encrypted"].find("failure").text
    assert by["s3-bucket-versioned"].find("failure").get("type") == "advisory"
    assert by["rds-multi-az"].find("skipped") is not None
    exempted = by["kms-key-rotation"].find("skipped")  # an accepted risk is skipped, never passed
    assert exempted.get("message") == "exempted: 1 accepted risk (cis:2.1.1)"
    assert "store-key" in exempted.text and "reason: imported key material (SEC-1)" in exempted.text
    assert by["kms-key-rotation"].find("system-out") is None
    assert by["tags-required"].find("failure") is None
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "2", "2")


def test_text_verdict_lists_accepted_risks_with_reason_and_controls():
    from golive import summary

    text = summary.verdict(sample())
    (line,) = [line for line in text.splitlines() if "exempted:" in line]
    assert "kms-key-rotation [cis:2.1.1]" in line and KEY_REC["urn"] in line
    assert "reason: imported key material (SEC-1)" in line
    assert "pass" not in line


def test_junit_of_the_prod_stack_parses(prod, prod_check):
    root = ET.fromstring(formats.render_junit(prod_check, prod))
    assert len(root.findall("./testsuite/testcase")) == len(prod_check.policies)


# --------------------------------------------------------------------------- Markdown readiness report


def test_markdown_report_puts_blockers_first_then_categories_then_advisories():
    md = formats.render_markdown(sample(), SYNTH)
    assert "**NO-GO**" in md
    assert md.index("## Blockers") < md.index("## By category") < md.index("## Advisory failures") < md.index("## Accepted risks")
    blockers = md[md.index("## Blockers"):md.index("## By category")]
    assert "s3-bucket-encrypted" in blockers and "s3-bucket-versioned" not in blockers
    assert "`store-b`" in blockers and "components/store.py:3" in blockers and "*Remediation:* Fix s3-bucket-encrypted." in blockers
    assert "| Security | 2 | 0 | 1 | 1 | 0 | 0% |" in md
    assert "| Database | 0 | 0 | 0 | 0 | 1 | — |" in md
    assert "imported key material (SEC-1)" in md


def test_markdown_report_says_go_without_mandatory_failures():
    md = formats.render_markdown(sample(mandatory_failure=False), SYNTH)
    assert "**GO**" in md and "## Blockers" not in md


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "markdown", "text"])
def test_check_writes_every_format_and_exits_1_on_a_mandatory_violation(fmt, tmp_path, prod):
    broken = drop(prod, lambda r: r["type"] == "aws:ec2/flowLog:FlowLog")
    synth_file = tmp_path / "broken.json"
    synth_file.write_text(broken.to_json())
    out = tmp_path / f"out.{fmt}"
    assert cli.main(["check", "--synth-file", str(synth_file), "--format", fmt, "--out", str(out)]) == cli.EXIT_VIOLATION
    text = out.read_text()
    assert "network-vpc-flow-logs" in text
    if fmt in ("json", "sarif"):
        json.loads(text)
    if fmt == "junit":
        ET.fromstring(text)


def test_check_formats_exit_0_on_the_prod_stack(tmp_path, prod):
    synth_file = tmp_path / "prod.json"
    synth_file.write_text(prod.to_json())
    out = tmp_path / "report.md"
    assert cli.main(["check", "--synth-file", str(synth_file), "--format", "markdown", "--out", str(out)]) == cli.EXIT_OK
    assert "**GO**" in out.read_text()


def test_check_usage_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", "--format", "yaml"])
    assert exc.value.code == cli.EXIT_USAGE
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert cli.main(["check", "--synth-file", str(bad)]) == cli.EXIT_USAGE
    assert cli.main(["check", "--synth-file", str(tmp_path / "missing.json")]) == cli.EXIT_USAGE
    assert "cannot read synth document" in capsys.readouterr().err


def test_the_prod_stacks_accepted_risks_are_exempted_with_reason_and_check_id_in_every_format(prod, prod_check):
    """HTTP to the targets (CKV_AWS_378) is an accepted risk of the prod stack: never a pass, in any format."""
    from golive import summary

    policy = "edge-target-group-tls"
    assert formats.policy_status(prod_check, prod_check.policies[policy]) == "exempted"
    doc = json.loads(formats.render_json(prod_check, prod))
    rows = [r for r in doc["results"] if r["policy"] == policy]
    assert rows and {r["status"] for r in rows} == {"exempted"}
    assert all("TLS ends at the ALB" in r["reason"] and "checkov:CKV_AWS_378" in r["controls"] for r in rows)
    sarif = json.loads(formats.render_sarif(prod_check, prod))["runs"][0]["results"]
    suppressed = [r for r in sarif if r["ruleId"] == policy]
    assert suppressed and all(r["suppressions"][0]["status"] == "accepted" for r in suppressed)
    assert all("checkov:CKV_AWS_378" in r["properties"]["controls"] for r in suppressed)
    case = next(c for c in ET.fromstring(formats.render_junit(prod_check, prod)).iter("testcase") if c.get("name") == policy)
    assert "CKV_AWS_378" in case.find("skipped").get("message") and "TLS ends at the ALB" in case.find("skipped").text
    text = summary.verdict(prod_check)
    assert f"exempted: {policy} [checkov:CKV_AWS_378]" in text
