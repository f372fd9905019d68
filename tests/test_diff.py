"""`python -m golive diff`: hand-made synth document pairs, the real stack, and a git repository with two commits."""

from __future__ import annotations

import copy
import io
import json
import os
import pathlib
import shutil
import subprocess
import tarfile

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from golive import __main__ as cli
from golive import diff, engine

STACK_URN = "urn:pulumi:prod::golive::pulumi:pulumi:Stack::golive-prod"
PROVIDER = "urn:pulumi:prod::golive::pulumi:providers:aws::aws-primary"
BUCKET = "aws:s3/bucket:Bucket"
DB = "aws:rds/instance:Instance"


def urn(type_: str, name: str, parent_type: str | None = None) -> str:
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:prod::golive::{qualified}::{name}"


def rec(type_, name, *, parent=None, inputs=None, secret=(), protect=False, deps=None, custom=True):
    parent_type = parent["type"] if parent else None
    return {
        "urn": urn(type_, name, parent_type),
        "type": type_,
        "name": name,
        "parent": parent["urn"] if parent else STACK_URN,
        "custom": custom,
        "provider": f"{PROVIDER}::0123" if custom else None,
        "inputs": inputs or {},
        "secretInputs": sorted(secret),
        "propertyDependencies": deps or {},
        "options": {
            "protect": protect,
            "retainOnDelete": False,
            "dependsOn": [],
            "ignoreChanges": [],
            "deleteBeforeReplace": False,
            "additionalSecretOutputs": [],
        },
        "source": {"file": "components/app.py", "line": 10},
    }


def component(name, type_="golive:app:App"):
    return rec(type_, name, custom=False)


def doc(*resources, outputs=None):
    return {"stack": "prod", "project": "golive", "resources": list(resources), "outputs": outputs or {}}


APP = component("app")


def base_doc():
    return doc(
        APP,
        rec(DB, "app-db", parent=APP, inputs={"instanceClass": "db.t3.medium", "tags": {"Name": "app-db"}}, protect=True),
        rec(BUCKET, "app-assets", parent=APP, inputs={"bucket": "app-assets", "tags": {"Name": "app-assets", "tier": "web"}}),
    )


def only(result: diff.StackDiff, op: str) -> diff.ResourceChange:
    matches = [r for r in result.resources if r.op == op]
    assert len(matches) == 1, [(r.op, r.name) for r in result.resources]
    return matches[0]


def all_renderings(result: diff.StackDiff) -> str:
    return diff.render_markdown(result) + diff.render_text(result) + diff.render_json(result)


# --------------------------------------------------------------------------- hand-made pairs


def test_identical_documents_have_no_changes():
    result = diff.diff_documents(base_doc(), base_doc())
    assert result.resources == [] and result.unchanged == 3
    assert result.summary() == "+0 ~0 -0"
    assert "No resource changes" in diff.render_markdown(result)


def test_added_resource_is_a_create_with_its_inputs():
    head = base_doc()
    head["resources"].append(rec(BUCKET, "app-logs", parent=APP, inputs={"bucket": "app-logs", "tags": {"Name": "app-logs"}}))
    result = diff.diff_documents(base_doc(), head)
    created = only(result, "create")
    assert created.name == "app-logs" and created.component == "app (golive:app:App)"
    assert result.summary() == "+1 ~0 -0"
    md = diff.render_markdown(result)
    assert "**+1 ~0 -0**" in md
    assert "| app (golive:app:App) | 1 | 0 | 0 | 0 |" in md
    assert '| `tags.Name` | `"app-logs"` |' in md


def test_removed_resource_is_a_delete_and_a_protected_one_is_flagged():
    head = base_doc()
    head["resources"] = [r for r in head["resources"] if r["name"] != "app-db"]
    result = diff.diff_documents(base_doc(), head)
    deleted = only(result, "delete")
    assert deleted.name == "app-db" and deleted.type == DB
    assert any("protected" in w for w in deleted.warnings)
    assert result.summary() == "+0 ~0 -1"
    assert "Needs attention" in diff.render_markdown(result)


def test_changed_property_shows_old_and_new_value():
    head = base_doc()
    head["resources"][1]["inputs"]["instanceClass"] = "db.r6g.large"
    result = diff.diff_documents(base_doc(), head)
    updated = only(result, "update")
    assert [(c.path, c.old, c.new) for c in updated.changes] == [("instanceClass", "db.t3.medium", "db.r6g.large")]
    assert result.summary() == "+0 ~1 -0"
    assert 'instanceClass: "db.t3.medium" → "db.r6g.large"' in diff.render_text(result)
    assert '| `instanceClass` | `"db.t3.medium"` | `"db.r6g.large"` |' in diff.render_markdown(result)


def test_nested_changes_name_their_full_path_including_inside_json_strings():
    policy_old = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]})
    policy_new = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]})
    base = base_doc()
    base["resources"][2]["inputs"].update(policy=policy_old, rules=[{"days": 30}, {"days": 90}])
    head = copy.deepcopy(base)
    inputs = head["resources"][2]["inputs"]
    inputs["tags"]["tier"] = "internal"
    inputs["policy"] = policy_new
    inputs["rules"] = [{"days": 30}, {"days": 90}, {"days": 365}]
    del inputs["tags"]["Name"]
    result = diff.diff_documents(base, head)
    changes = {c.path: c for c in only(result, "update").changes}
    assert changes["tags.tier"].old == "web" and changes["tags.tier"].new == "internal"
    assert changes["tags.Name"].kind == "removed"
    assert changes["policy<json>.Statement[0].Action"].new == "s3:*"
    assert changes["rules[2]"].kind == "added" and changes["rules[2]"].new == {"days": 365}
    assert len(changes) == 4


def test_secret_values_are_never_shown():
    base = base_doc()
    base["resources"][1]["inputs"]["password"] = "hunter2-plain"  # a value that was (wrongly) plain in the base
    base["resources"][2]["inputs"]["token"] = "[secret]"
    base["resources"][2]["secretInputs"] = ["token"]
    head = copy.deepcopy(base)
    head["resources"][1]["inputs"]["password"] = "[secret]"
    head["resources"][1]["secretInputs"] = ["password"]
    head["resources"][1]["inputs"]["apiKey"] = "[secret]"
    head["resources"][1]["secretInputs"].append("apiKey")
    result = diff.diff_documents(base, head)
    updated = only(result, "update")
    assert {c.path: c.secret for c in updated.changes} == {"password": "became secret", "apiKey": "secret added"}
    text = all_renderings(result)
    assert "hunter2-plain" not in text
    assert "value not shown" in text
    # Both sides "[secret]": a changed secret value cannot be seen offline (documented limitation).
    assert "token" not in {c.path for r in result.resources for c in r.changes}


def test_rename_with_same_type_and_inputs_suggests_an_alias():
    head = base_doc()
    renamed = rec(BUCKET, "app-static", parent=APP, inputs={"bucket": "app-assets", "tags": {"Name": "app-assets", "tier": "web"}})
    head["resources"][2] = renamed
    result = diff.diff_documents(base_doc(), head)
    change = only(result, "rename")
    assert change.old_name == "app-assets" and change.name == "app-static"
    assert any('pulumi.Alias(name="app-assets")' in h for h in change.hints)
    assert result.summary() == "+0 ~0 -0 ±1"
    assert "renamed" in diff.render_markdown(result)


def test_rename_matches_names_that_flow_into_inputs():
    """A component renamed from `app` to `shop` renames its children, whose tags carry the name."""
    head = base_doc()
    head["resources"][2] = rec(BUCKET, "shop-assets", parent=APP, inputs={"bucket": "shop-assets", "tags": {"Name": "shop-assets", "tier": "web"}})
    change = only(diff.diff_documents(base_doc(), head), "rename")
    assert change.old_name == "app-assets"
    assert [c.path for c in change.changes] == ["bucket", "tags.Name"]


def test_several_equal_candidates_pair_by_the_closest_name():
    """A renamed component renames its route table associations, whose own inputs are all equal."""
    rta = "aws:ec2/routeTableAssociation:RouteTableAssociation"
    base = doc(APP, *[rec(rta, f"golive-rta-{az}", parent=APP, inputs={"subnetId": "s"}, deps={"subnetId": ["u"]}) for az in "abc"])
    head = doc(APP, *[rec(rta, f"acme-rta-{az}", parent=APP, inputs={"subnetId": "t"}, deps={"subnetId": ["v"]}) for az in "cba"])
    result = diff.diff_documents(base, head)
    assert sorted((r.old_name, r.name) for r in result.resources) == [
        ("golive-rta-a", "acme-rta-a"), ("golive-rta-b", "acme-rta-b"), ("golive-rta-c", "acme-rta-c")
    ]
    assert all(r.op == "rename" for r in result.resources)


def test_different_inputs_under_a_new_name_are_a_create_and_a_delete():
    head = base_doc()
    head["resources"][2] = rec(BUCKET, "app-static", parent=APP, inputs={"bucket": "other", "tags": {"Name": "x"}})
    result = diff.diff_documents(base_doc(), head)
    assert sorted(r.op for r in result.resources) == ["create", "delete"]


def test_parent_change_is_a_likely_replacement_with_an_alias_hint():
    other = component("edge", "golive:edge:Edge")
    head = base_doc()
    head["resources"].append(other)
    head["resources"][2] = rec(BUCKET, "app-assets", parent=other, inputs=base_doc()["resources"][2]["inputs"])
    result = diff.diff_documents(base_doc(), head)
    change = only(result, "replace")
    assert change.old_urn != change.urn
    assert any("parent changed" in r for r in change.reasons)
    assert any("pulumi.Alias(parent=" in h for h in change.hints)
    assert change.component == "edge (golive:edge:Edge)"
    assert only(result, "create").name == "edge"


def test_type_change_is_a_likely_replacement():
    head = base_doc()
    head["resources"][2] = rec("aws:s3/bucketV2:BucketV2", "app-assets", parent=APP, inputs=base_doc()["resources"][2]["inputs"])
    change = only(diff.diff_documents(base_doc(), head), "replace")
    assert any("type changed" in r for r in change.reasons)
    assert any('type_="aws:s3/bucket:Bucket"' in h for h in change.hints)


def test_option_dependency_and_output_changes_are_reported():
    base = base_doc()
    base["outputs"] = {"dbEndpoint": "a.example", "token": "[secret]"}
    head = copy.deepcopy(base)
    head["resources"][1]["options"]["protect"] = False
    head["resources"][2]["propertyDependencies"] = {"policy": [base["resources"][1]["urn"]]}
    head["outputs"] = {"dbEndpoint": "b.example", "token": "[secret]", "extra": 1}
    result = diff.diff_documents(base, head)
    db = next(r for r in result.resources if r.name == "app-db")
    assert [(c.path, c.old, c.new) for c in db.changes] == [("(options).protect", True, False)]
    assert any("protection removed" in w for w in db.warnings)
    bucket = next(r for r in result.resources if r.name == "app-assets")
    assert bucket.changes[0].path == "(depends on).policy" and bucket.changes[0].new == ["app-db"]
    assert {c.path for c in result.outputs} == {"dbEndpoint", "extra"}


def test_markdown_is_capped_below_the_comment_limit_without_cutting_a_table():
    base_resources, head_resources = [APP], [APP]
    for i in range(3000):
        inputs = {"bucket": f"b-{i}", "tags": {f"k{j}": "x" * 40 for j in range(8)}}
        base_resources.append(rec(BUCKET, f"bucket-{i:04d}", parent=APP, inputs=inputs))
        changed = copy.deepcopy(inputs)
        changed["tags"] = {f"k{j}": "y" * 40 for j in range(8)}
        head_resources.append(rec(BUCKET, f"bucket-{i:04d}", parent=APP, inputs=changed))
    for i in range(300):
        head_resources.append(rec("aws:sqs/queue:Queue", f"queue-{i}", parent=APP, inputs={"name": f"q{i}"}))
    result = diff.diff_documents(doc(*base_resources), doc(*head_resources))
    md = diff.render_markdown(result)
    assert len(md) < diff.GITHUB_COMMENT_LIMIT and len(md) <= diff.DEFAULT_LIMIT
    assert "**+300 ~3000 -0**" in md
    assert "more changes not shown" in md and "× `aws:s3/bucket:Bucket`" in md
    assert md.count("<details>") == md.count("</details>") > 10
    # Every table that starts is complete: each `<details>` block closes after its last row.
    for block in md.split("<details>")[1:]:
        body = block.split("</details>")[0]
        rows = [line for line in body.splitlines() if line.startswith("|")]
        assert rows[0].startswith("| Property") and rows[1].startswith("|---")
        assert all(row.endswith("|") for row in rows)
    assert md.rstrip().endswith("</sub>")
    small = diff.render_markdown(result, limit=8_000)
    assert len(small) <= 8_000 and "more changes not shown" in small


def test_policy_verdict_and_new_and_fixed_violations():
    def versioned(args, report):
        if args.resource_type == BUCKET and not args.props.get("versioning"):
            report("bucket is not versioned")

    policy = ResourceValidationPolicy(
        name="test-bucket-versioned", description="Buckets keep versions.", validate=versioned,
        enforcement_level=EnforcementLevel.MANDATORY,
    )
    base = base_doc()
    base["resources"].append(rec(BUCKET, "app-logs", parent=APP, inputs={"bucket": "app-logs"}))
    head = copy.deepcopy(base)
    head["resources"][3]["inputs"]["versioning"] = {"enabled": True}  # fixes app-logs
    result = diff.diff_documents(base, head)
    result.policy = diff.policy_delta(base, head, result, [policy])
    assert result.policy.verdict == "NO-GO" and result.policy.mandatory == 1
    assert [f.urn.rsplit("::", 1)[1] for f in result.policy.fixed] == ["app-logs"]
    assert result.policy.new == []
    head["resources"][1]["type"] = BUCKET  # not realistic, but a new finding on a resource
    result2 = diff.diff_documents(base, head)
    result2.policy = diff.policy_delta(base, head, result2, [policy])
    assert len(result2.policy.new) == 1
    md = diff.render_markdown(result)
    assert "**NO-GO**" in md and "**0 new** violations, **1 fixed**" in md


def test_policy_delta_follows_renamed_resources():
    def tagged(args, report):
        if "owner" not in (args.props.get("tags") or {}):
            report("no owner tag")

    policy = ResourceValidationPolicy(name="test-owner-tag", description="d", validate=tagged, enforcement_level=EnforcementLevel.ADVISORY)
    head = base_doc()
    head["resources"][2] = rec(BUCKET, "app-static", parent=APP, inputs=base_doc()["resources"][2]["inputs"])
    result = diff.diff_documents(base_doc(), head)
    delta = diff.policy_delta(base_doc(), head, result, [policy])
    assert delta.verdict == "GO" and delta.advisory == 4  # the root stack (the CLI analyzes it too), the component, the db, the bucket
    assert delta.new == [] and delta.fixed == []


# --------------------------------------------------------------------------- the real stack and the command line


def test_a_config_change_on_the_real_stack_is_one_property_on_one_resource(prod, synth_config):
    config, _ = engine.load_stack_config("prod")
    network = json.loads(config["golive:network"])
    head = synth_config({"network": {**network, "flowLogRetentionDays": 400}})
    result = diff.diff_documents(prod.document(), head.document())
    updated = only(result, "update")
    assert updated.type == "aws:cloudwatch/logGroup:LogGroup"
    assert [(c.path, c.old, c.new) for c in updated.changes] == [("retentionInDays", 365, 400)]
    assert len(result.resources) == 1 and result.summary() == "+0 ~1 -0"


def test_cli_diff_of_two_files_in_every_format(tmp_path, capsys):
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(base_doc()))
    changed = base_doc()
    changed["resources"][1]["inputs"]["instanceClass"] = "db.r6g.large"
    head.write_text(json.dumps(changed))
    assert cli.main(["diff", str(base), str(head), "--no-policy"]) == cli.EXIT_OK
    assert "**+0 ~1 -0**" in capsys.readouterr().out
    out = tmp_path / "diff.json"
    assert cli.main(["diff", str(base), str(head), "--format", "json", "--out", str(out), "--no-policy"]) == cli.EXIT_OK
    data = json.loads(out.read_text())
    assert data["summary"]["update"] == 1 and data["resources"][0]["changes"][0]["new"] == "db.r6g.large"
    assert cli.main(["diff", str(base), str(head), "--format", "text", "--no-policy"]) == cli.EXIT_OK
    assert "~ aws:rds/instance:Instance  app-db" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["diff"],
        ["diff", "only-one.json"],
        ["diff", "a.json", "b.json", "--git-base", "HEAD"],
        ["diff", "missing-a.json", "missing-b.json"],
        ["diff", "--git-base", "no-such-revision-anywhere"],
    ],
)
def test_cli_diff_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == cli.EXIT_USAGE
    assert "golive:" in capsys.readouterr().err


# --------------------------------------------------------------------------- git mode


PROGRAM = '''"""A tiny program for the git-mode test."""
import pulumi
import pulumi_aws as aws

config = pulumi.Config("golive")


class Box(pulumi.ComponentResource):
    def __init__(self, name, retention, opts=None):
        super().__init__("golive:test:Box", name, None, opts)
        aws.cloudwatch.LogGroup(f"{name}-logs", retention_in_days=retention, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


provider = aws.Provider("aws-primary", region="eu-west-1")
Box("app", config.require_int("retention"), opts=pulumi.ResourceOptions(providers={"aws": provider}))
if config.get_bool("withQueue"):
    aws.sqs.Queue("jobs", opts=pulumi.ResourceOptions(provider=provider))
'''


def _git(cwd: pathlib.Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_base_diff_synthesizes_a_revision_and_the_working_tree(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    # The engine as committed (the synth command is all the base needs), plus a tiny program.
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD", "golive"], cwd=engine.ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(repo, filter="data")
    (repo / "components").mkdir()
    (repo / "components" / "__init__.py").write_text("")
    (repo / "components" / "config.py").write_text(
        "class ConfigError(Exception):\n    def render(self):\n        return str(self)\n"
    )
    (repo / "__main__.py").write_text(PROGRAM)
    (repo / "Pulumi.yaml").write_text("name: golive\nruntime: python\n")
    stack = repo / "Pulumi.prod.yaml"
    stack.write_text("config:\n  golive:retention: 30\n")
    _git(repo, "init", "--quiet")
    _git(repo, "add", ".")
    _git(repo, "commit", "--quiet", "-m", "one")
    stack.write_text("config:\n  golive:retention: 90\n  golive:apiToken:\n    secure: v1:AAAA\n")
    _git(repo, "commit", "--quiet", "-am", "two")
    stack.write_text(stack.read_text() + "  golive:withQueue: true\n")  # uncommitted

    result = diff.diff_git("HEAD~1", "prod", root=repo, with_policy=False)

    updated = only(result, "update")
    assert updated.name == "app-logs" and updated.component == "app (golive:test:Box)"
    assert [(c.path, c.old, c.new) for c in updated.changes] == [("retentionInDays", 30, 90)]
    assert only(result, "create").name == "jobs"
    assert result.secret_config == [("golive:apiToken", "added")]
    assert "HEAD~1" in result.base_label and "uncommitted changes" in result.head_label
    md = diff.render_markdown(result)
    assert "**+1 ~1 -0**" in md and "`golive:apiToken` (added)" in md and "v1:AAAA" not in md
    assert _git(repo, "worktree", "list").count("\n") == 1  # the temporary worktree is gone


# --------------------------------------------------------------------------- robustness of the command


def test_unknown_git_base_prints_gits_reason_and_exits_2(capsys):
    assert cli.main(["diff", "--git-base", "nosuchrev"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "nosuchrev" in err and "cannot resolve" in err
    assert "Not a valid object name" in err or "unknown revision" in err or "Needed a single revision" in err
    assert "Traceback" not in err


def test_json_labels_are_plain_data(tmp_path):
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(base_doc()))
    head.write_text(json.dumps(base_doc()))
    data = json.loads(diff.render_json(diff.diff_files(base, head, with_policy=False)))
    assert data["base"] == "base.json" and data["head"] == "head.json"
    assert "`" not in data["base"] + data["head"]
    assert "`base.json`" in diff.render_markdown(diff.diff_files(base, head, with_policy=False))


def test_every_diff_option_has_help_text():
    sub = next(a for a in cli.build_parser()._actions if a.dest == "command")
    for action in sub.choices["diff"]._actions:
        if action.option_strings and action.dest != "help":
            assert action.help, action.option_strings


def _versioned_policy():
    def versioned(args, report):
        if args.resource_type == BUCKET and not args.props.get("versioning"):
            report("bucket is not versioned")

    return ResourceValidationPolicy(name="test-bucket-versioned", description="Buckets keep versions.", validate=versioned,
                                    enforcement_level=EnforcementLevel.MANDATORY)


def test_fail_on_no_go_fails_a_no_go_head_and_passes_a_go_one(tmp_path, capsys):
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(base_doc()))
    head.write_text(json.dumps(base_doc()))
    policy = [_versioned_policy()]

    def run(argv):
        args = cli.build_parser().parse_args(argv)
        original = diff.policy_delta
        diff.policy_delta = lambda b, h, d, policies=None: original(b, h, d, policy)
        try:
            return cli.cmd_diff(args)
        finally:
            diff.policy_delta = original

    assert run(["diff", str(base), str(head)]) == cli.EXIT_OK  # NO-GO head, no gate asked for
    assert run(["diff", str(base), str(head), "--fail-on-no-go"]) == cli.EXIT_VIOLATION
    assert "the head is NO-GO" in capsys.readouterr().err
    fixed = base_doc()
    fixed["resources"][2]["inputs"]["versioning"] = {"enabled": True}
    head.write_text(json.dumps(fixed))
    assert run(["diff", str(base), str(head), "--fail-on-no-go"]) == cli.EXIT_OK


def test_a_real_preview_is_shown_beside_the_offline_diff(tmp_path):
    base = base_doc()
    head = copy.deepcopy(base)
    head["resources"][2]["inputs"]["bucket"] = "app-assets-2"  # offline: replace (the bucket's name)
    head["resources"][1]["inputs"]["instanceClass"] = "db.r6g.large"  # offline: update; the real preview replaces it
    result = diff.diff_documents(base, head)
    assert {r.name: r.op for r in result.resources} == {"app-assets": "replace", "app-db": "update"}
    preview = {
        "changeSummary": {"same": 1, "update": 0, "replace": 2},
        "steps": [
            {"op": "replace", "urn": head["resources"][2]["urn"], "replaceReasons": ["bucket"]},
            {"op": "create-replacement", "urn": head["resources"][1]["urn"], "replaceReasons": ["engineVersion"]},
            {"op": "same", "urn": head["resources"][0]["urn"]},
        ],
    }
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(preview))
    result.preview = diff.compare_preview(result, path)
    assert result.preview.agree == [("app-assets", "bucket")]
    assert result.preview.only_preview == [("app-db", DB, "engineVersion")]
    md = diff.render_markdown(result)
    assert "#### Real `pulumi preview`" in md and "| app-db `aws:rds/instance:Instance` | update or unchanged | **replace** (engineVersion) |" in md
    assert json.loads(diff.render_json(result))["preview"]["replacementsOnlyInPreview"][0]["name"] == "app-db"
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(engine.UsageError, match="not `pulumi preview --json` output"):
        diff.compare_preview(result, tmp_path / "bad.json")
