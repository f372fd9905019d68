"""The offline engine: the synth format, determinism, secrets, the check's exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pulumi
import pytest

from golive import __main__ as cli
from golive import engine
from tests.conftest import ROOT

RECORD_FIELDS = {"urn", "type", "name", "parent", "custom", "provider", "inputs", "secretInputs", "computed", "propertyDependencies",
                 "options", "source"}
OPTION_FIELDS = {"protect", "retainOnDelete", "dependsOn", "ignoreChanges", "deleteBeforeReplace", "deleteBeforeReplaceDefined",
                 "additionalSecretOutputs", "replaceOnChanges"}


def test_document_shape(prod):
    doc = json.loads(prod.to_json())
    assert set(doc) == {"stack", "project", "firstPreview", "resources", "outputs"}
    assert doc["firstPreview"] is False
    assert (doc["stack"], doc["project"]) == ("prod", "golive")
    urns = [r["urn"] for r in doc["resources"]]
    assert urns == sorted(urns) and len(set(urns)) == len(urns)
    for record in doc["resources"]:
        assert set(record) == RECORD_FIELDS
        assert set(record["options"]) == OPTION_FIELDS
        assert record["urn"].startswith("urn:pulumi:prod::golive::")


# --------------------------------------------------------------------------- URNs, as the engine computes them


def _nested_program():
    """A provider, a top-level bucket, a component with a child and a component in a component with a grandchild."""
    import pulumi_aws as aws

    class Outer(pulumi.ComponentResource):
        def __init__(self, name, opts=None):
            super().__init__("golive:test:Outer", name, None, opts)
            aws.s3.Bucket(f"{name}-child", opts=pulumi.ResourceOptions(parent=self))
            Inner(f"{name}-inner", opts=pulumi.ResourceOptions(parent=self))

    class Inner(pulumi.ComponentResource):
        def __init__(self, name, opts=None):
            super().__init__("golive:test:Inner", name, None, opts)
            aws.s3.Bucket(f"{name}-grandchild", opts=pulumi.ResourceOptions(parent=self))

    provider = aws.Provider("p", region="eu-west-1")
    aws.s3.Bucket("top", opts=pulumi.ResourceOptions(provider=provider))
    Outer("outer", opts=pulumi.ResourceOptions(providers={"aws": provider}))


# What `pulumi stack --show-urns` prints for that program (pulumi/pkg generateURN: no root stack type,
# the parent's whole qualified type).
EXPECTED_URNS = {
    "p": "urn:pulumi:prod::golive::pulumi:providers:aws::p",
    "top": "urn:pulumi:prod::golive::aws:s3/bucket:Bucket::top",
    "outer": "urn:pulumi:prod::golive::golive:test:Outer::outer",
    "outer-child": "urn:pulumi:prod::golive::golive:test:Outer$aws:s3/bucket:Bucket::outer-child",
    "outer-inner": "urn:pulumi:prod::golive::golive:test:Outer$golive:test:Inner::outer-inner",
    "outer-inner-grandchild": "urn:pulumi:prod::golive::golive:test:Outer$golive:test:Inner$aws:s3/bucket:Bucket::outer-inner-grandchild",
}


def test_urns_are_the_engines(synth_program):
    result = synth_program(_nested_program)
    assert {r["name"]: r["urn"] for r in result.resources} == EXPECTED_URNS
    by_name = {r["name"]: r for r in result.resources}
    assert by_name["top"]["parent"] == by_name["outer"]["parent"] == "urn:pulumi:prod::golive::pulumi:pulumi:Stack::golive-prod"
    assert by_name["outer-inner-grandchild"]["parent"] == EXPECTED_URNS["outer-inner"]
    assert by_name["top"]["provider"].startswith(EXPECTED_URNS["p"] + "::")


@pytest.mark.parametrize("parent, expected", [
    ("", "urn:pulumi:s::p::aws:s3/bucket:Bucket::b"),
    ("urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "urn:pulumi:s::p::aws:s3/bucket:Bucket::b"),
    ("urn:pulumi:s::p::a:b:C::c", "urn:pulumi:s::p::a:b:C$aws:s3/bucket:Bucket::b"),
    ("urn:pulumi:s::p::a:b:C$d:e:F::f", "urn:pulumi:s::p::a:b:C$d:e:F$aws:s3/bucket:Bucket::b"),
])
def test_engine_urn(parent, expected):
    assert engine.engine_urn("s", "p", parent, "aws:s3/bucket:Bucket", "b") == expected


def test_prod_urns_name_every_ancestor_component(prod):
    key = next(r for r in prod.of_type("aws:kms/key:Key") if r["name"] == "golive-db-key")
    assert key["urn"] == "urn:pulumi:prod::golive::golive:data:Database$golive:security:EncryptionKey$aws:kms/key:Key::golive-db-key"
    assert not any("pulumi:pulumi:Stack$" in r["urn"] for r in prod.resources)


# --------------------------------------------------------------------------- a first preview: unknown outputs


def test_a_first_preview_knows_inputs_and_auto_names_but_no_cloud_assigned_output(synth_program):
    def program():
        import pulumi_aws as aws

        bucket = aws.s3.Bucket("data")
        aws.s3.BucketVersioning("data-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"})
        aws.s3.BucketPolicy("data-policy", bucket=bucket.bucket, policy=bucket.arn.apply(lambda arn: f'{{"r": "{arn}"}}'))
        pulumi.export("bucketArn", bucket.arn)
        pulumi.export("bucketName", bucket.bucket)

    first = engine.synth("prod", program=program, first_preview=True)
    by_name = {r["name"]: r for r in first.resources}
    assert first.first_preview and json.loads(first.to_json())["firstPreview"] is True
    assert by_name["data-versioning"]["inputs"]["bucket"] == engine.UNKNOWN_MARKER  # the id: only known once created
    assert by_name["data-versioning"]["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
    assert by_name["data-policy"]["inputs"]["policy"] == engine.UNKNOWN_MARKER  # an apply on an unknown ARN
    assert by_name["data-policy"]["inputs"]["bucket"].startswith("data-")  # the auto-name the provider's Check fills in
    assert by_name["data"]["computed"]["arn"] == engine.UNKNOWN_MARKER
    assert first.outputs["bucketArn"] == engine.UNKNOWN_MARKER and first.outputs["bucketName"].startswith("data-")
    known = engine.synth("prod", program=program)
    assert engine.UNKNOWN_MARKER not in known.to_json()


def test_a_first_preview_does_not_know_a_name_terraform_makes_from_a_prefix(synth_program):
    """``bucketPrefix`` conflicts with ``bucket`` in the Terraform schema, so the bridge skips the autoname and the
    provider makes the name up at Create: unknown at a first preview, like everything derived from it."""
    def program():
        import pulumi_aws as aws

        bucket = aws.s3.Bucket("logs", bucket_prefix="logs-")
        aws.s3.BucketPolicy("logs-policy", bucket=bucket.bucket, policy=bucket.bucket.apply(lambda n: f'{{"r": "{n}"}}'))

    first = engine.synth("prod", program=program, first_preview=True)
    by_name = {r["name"]: r for r in first.resources}
    assert by_name["logs"]["computed"]["bucket"] == engine.UNKNOWN_MARKER
    assert by_name["logs-policy"]["inputs"]["bucket"] == by_name["logs-policy"]["inputs"]["policy"] == engine.UNKNOWN_MARKER
    known = engine.synth("prod", program=program)
    assert {r["name"]: r for r in known.resources}["logs"]["computed"]["bucket"].startswith("logs-")


def test_prod_in_a_first_preview_registers_the_same_resources(prod):
    first = engine.synth("prod", first_preview=True)
    assert [r["urn"] for r in first.resources] == [r["urn"] for r in prod.resources]
    vpc_id = next(r for r in first.of_type("aws:ec2/subnet:Subnet"))["inputs"]["vpcId"]
    assert vpc_id == engine.UNKNOWN_MARKER


def test_secret_outputs_of_random_passwords_never_reach_the_document(prod):
    password = prod.of_type("random:index/randomPassword:RandomPassword")[0]
    assert password["computed"]["result"] == engine.SECRET_MARKER


def test_inputs_use_the_camel_case_names_providers_see(prod):
    vpc = prod.of_type("aws:ec2/vpc:Vpc")[0]
    assert {"cidrBlock", "enableDnsHostnames", "enableDnsSupport"} <= set(vpc["inputs"])


def test_parents_providers_and_options_are_recorded(prod):
    key = next(r for r in prod.of_type("aws:kms/key:Key") if r["name"] == "golive-flow-logs-key")
    assert key["options"]["protect"] is True
    parent = prod.by_urn()[key["parent"]]
    assert parent["type"] == "golive:security:EncryptionKey" and parent["custom"] is False
    assert key["provider"].split("::")[-2] == "aws-primary"
    nat = next(r for r in prod.resources if r["type"] == "aws:ec2/natGateway:NatGateway")
    assert any(u.endswith("::golive-igw") for u in nat["options"]["dependsOn"])


def test_source_points_at_the_declaring_line(prod):
    vpc = prod.of_type("aws:ec2/vpc:Vpc")[0]
    assert vpc["source"]["file"] == "components/network.py"
    line = (ROOT / "components/network.py").read_text().splitlines()[vpc["source"]["line"] - 1]
    assert "aws.ec2.Vpc(" in line


def test_two_synths_are_byte_identical():
    assert engine.synth("prod").to_json() == engine.synth("prod").to_json()


def test_synth_command_writes_the_documented_format_identically_twice(tmp_path):
    outs = []
    for i in range(2):
        out = tmp_path / f"prod-{i}.json"
        proc = subprocess.run([sys.executable, "-m", "golive", "synth", "--stack", "prod", "--out", str(out)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["resources"]


def test_secret_inputs_are_written_as_the_marker_never_their_value(synth_program):
    def program():
        pulumi.export("token", pulumi.Output.secret("s3cr3t-value"))
        pulumi.export("plain", "visible")
        from pulumi_aws import Provider, ssm

        provider = Provider("p", region="eu-west-1")
        ssm.Parameter("param", type="SecureString", value=pulumi.Output.secret("s3cr3t-value"),
                      opts=pulumi.ResourceOptions(provider=provider))

    result = synth_program(program)
    text = result.to_json()
    assert "s3cr3t-value" not in text
    param = result.of_type("aws:ssm/parameter:Parameter")[0]
    assert param["inputs"]["value"] == engine.SECRET_MARKER and param["secretInputs"] == ["value"]
    assert result.outputs == {"plain": "visible", "token": engine.SECRET_MARKER}


def test_secure_config_values_become_secret_placeholders(tmp_path):
    (tmp_path / "Pulumi.demo.yaml").write_text("config:\n  golive:slackWebhookUrl:\n    secure: v1:abc\n  golive:owner: me\n")
    config, secret_keys = engine.load_stack_config("demo", tmp_path)
    assert secret_keys == ["golive:slackWebhookUrl"]
    assert config["golive:owner"] == "me" and "abc" not in config["golive:slackWebhookUrl"]


def test_unknown_stack_is_a_usage_error(capsys):
    assert cli.main(["synth", "--stack", "nope"]) == cli.EXIT_USAGE
    assert "no stack 'nope'" in capsys.readouterr().err


def test_the_program_makes_no_provider_calls():
    """Lookups would make a preview need an account; the mocks refuse them."""
    mocks = engine.golive_mocks.GoliveMocks("eu-west-1", "123456789012")
    with pytest.raises(NotImplementedError, match="aws:index/getCallerIdentity"):
        mocks.call(pulumi.runtime.MockCallArgs("aws:index/getCallerIdentity:getCallerIdentity", {}, ""))


def test_check_exits_0_on_the_prod_stack_and_1_on_a_mandatory_violation(tmp_path, prod, capsys):
    good = tmp_path / "good.json"
    good.write_text(prod.to_json())
    assert cli.main(["check", "--synth-file", str(good)]) == cli.EXIT_OK
    assert "0 mandatory violations" in capsys.readouterr().out
    doc = json.loads(prod.to_json())
    doc["resources"] = [r for r in doc["resources"] if r["type"] != "aws:ec2/flowLog:FlowLog"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert cli.main(["check", "--synth-file", str(bad)]) == cli.EXIT_VIOLATION
    out = capsys.readouterr().out
    assert "network-vpc-flow-logs" in out and "1 mandatory violation," in out


def test_preview_prints_the_tree_and_the_verdict(capsys):
    assert cli.main(["preview"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "golive:network:Network  golive" in out and "0 mandatory violations" in out


# --------------------------------------------------------------------------- the autonamer's limits

LB_TYPES = {"target group": "aws:lb/targetGroup:TargetGroup", "load balancer": "aws:lb/loadBalancer:LoadBalancer"}
TOO_LONG = "golive-listings-service-canary-tg"  # 33 characters: 33 + 1 + 7 > 32


def _computed(typ, name, inputs):
    mocks = engine.golive_mocks.GoliveMocks("eu-west-1", "123456789012")
    return mocks.computed(typ, name, inputs, "", f"urn:pulumi:prod::golive::{typ}::{name}")


@pytest.mark.parametrize("typ", LB_TYPES.values(), ids=LB_TYPES.keys())
def test_mocks_refuse_an_auto_name_longer_than_elb_allows(typ):
    """Like Pulumi's autonamer: logical name + '-' + 7 random characters must fit in 32, never silently truncated."""
    with pytest.raises(engine.golive_mocks.AutonameError, match=rf"name '{TOO_LONG}-' plus 7 random chars is longer than maximum length 32"):
        _computed(typ, TOO_LONG, {})


@pytest.mark.parametrize("typ", LB_TYPES.values(), ids=LB_TYPES.keys())
def test_mocks_accept_explicit_names_prefixes_and_auto_names_that_fit(typ):
    _, explicit = _computed(typ, TOO_LONG, {"name": "listings-canary-0a1b2c"})
    assert explicit["name"] == "listings-canary-0a1b2c"
    _, prefixed = _computed(typ, TOO_LONG, {"namePrefix": "lst-"})
    assert prefixed["name"].startswith("lst-") and len(prefixed["name"]) == 4 + 7
    _, auto = _computed(typ, "x" * 24, {})  # 24 + 1 + 7 = 32: fits exactly
    assert auto["name"].startswith("x" * 24 + "-") and len(auto["name"]) == 32


def test_a_program_with_an_over_long_auto_named_target_group_fails_to_synth():
    """End to end, in its own process: the error reaches the user instead of a truncated name."""
    code = (
        "import pulumi_aws as aws\n"
        "from golive import engine\n"
        "from golive.mocks import AutonameError\n"
        "def program():\n"
        f"    aws.lb.TargetGroup({TOO_LONG!r}, port=8080, protocol='HTTP', target_type='ip', vpc_id='vpc-0example')\n"
        "try:\n"
        "    engine.synth('prod', program=program)\n"
        "except AutonameError as err:\n"
        "    print('refused:', err)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert f"refused: aws:lb/targetGroup:TargetGroup '{TOO_LONG}': name '{TOO_LONG}-' plus 7 random chars" in run.stdout


def test_mocks_give_random_ids_stable_hex():
    _, first = _computed("random:index/randomId:RandomId", "golive-db-final-snapshot-suffix", {"byteLength": 4})
    _, again = _computed("random:index/randomId:RandomId", "golive-db-final-snapshot-suffix", {"byteLength": 4})
    assert first == again and re.fullmatch(r"[0-9a-f]{8}", first["hex"]) and int(first["dec"]) == int(first["hex"], 16)
