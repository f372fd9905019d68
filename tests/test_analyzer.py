"""The pack over the Analyzer protocol: what the CLI sends, how it configures the pack, and that golive's
in-process servicer gives exactly the diagnostics of the pack started and spoken to as the CLI does."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from golive import __main__ as cli
from golive import analyzer, check, engine
from tests.conftest import ROOT
from tests.helpers import one

KMS_KEY = "aws:kms/key:Key"


def _props(struct) -> Mapping:
    from google.protobuf import json_format

    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def _doc(inputs, computed=None) -> engine.SynthResult:
    record = {"urn": "urn:pulumi:prod::golive::aws:s3/bucket:Bucket::b", "type": "aws:s3/bucket:Bucket", "name": "b",
              "parent": analyzer.root_stack_urn("prod"), "custom": True, "provider": None, "inputs": inputs,
              "secretInputs": [], "computed": computed or {}, "propertyDependencies": {},
              "options": {"protect": False, "dependsOn": [], "ignoreChanges": [], "deleteBeforeReplace": False,
                          "additionalSecretOutputs": []}, "source": None}
    return engine.SynthResult("prod", "golive", [record], {"out": engine.UNKNOWN_MARKER})


# --------------------------------------------------------------------------- the requests


def test_unknowns_and_secrets_reach_policies_as_the_engine_marshals_them():
    wire = analyzer.Wire.of(_doc({"bucket": engine.UNKNOWN_MARKER, "token": engine.SECRET_MARKER, "tags": {"a": "b"},
                                  "list": [1, engine.UNKNOWN_MARKER]}))
    root, bucket = wire.analyze
    assert root.type == "pulumi:pulumi:Stack" and root.urn == "urn:pulumi:prod::golive::pulumi:pulumi:Stack::golive-prod"
    raw = bucket.properties
    assert raw["bucket"] == analyzer.UNKNOWN_STRING
    assert dict(raw["token"]) == {analyzer.SIG_KEY: analyzer.SECRET_SIG, "value": engine.SECRET_MARKER}
    props = _props(raw)
    assert isinstance(props, Mapping) and not isinstance(props, dict)
    assert isinstance(props["list"], Sequence) and not isinstance(props["list"], list)
    assert props["token"] == engine.SECRET_MARKER and props["tags"]["a"] == "b" and props["list"][0] == 1
    with pytest.raises(UnknownValueError):
        props["bucket"]  # noqa: B018 reading it is the point
    with pytest.raises(UnknownValueError):
        props["list"][1]  # noqa: B018


def test_analyze_stack_sees_outputs_with_their_links(prod):
    key = one(prod, KMS_KEY, "golive-db-key")
    wire = analyzer.Wire.of(prod)
    analyzed = next(r for r in wire.analyze if r.urn == key["urn"])
    assert analyzed.options.protect is True and analyzed.options.parent == key["parent"]
    assert analyzed.provider.type == "pulumi:providers:aws" and _props(analyzed.provider.properties)["region"] == "eu-west-1"
    assert "arn" not in _props(analyzed.properties)  # Analyze: the inputs
    in_stack = next(r for r in wire.analyze_stack.resources if r.urn == key["urn"])
    assert _props(in_stack.properties)["arn"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")  # AnalyzeStack: the outputs
    assert in_stack.parent == key["parent"] and list(in_stack.dependencies) == key["options"]["dependsOn"]
    assert len(wire.analyze) == len(wire.analyze_stack.resources) == len(prod.resources) + 1  # and the root stack


def test_policies_receive_proxies_through_check():
    seen = []

    def look(args, report):
        if args.resource_type == "aws:s3/bucket:Bucket":  # the root stack is analyzed too, with no inputs
            seen.append((type(args.props), type(args.props["tags"])))

    probe = ResourceValidationPolicy(name="test-probe-proxies", description="records what it is given", validate=look,
                                     enforcement_level=EnforcementLevel.ADVISORY)
    check.check(_doc({"tags": {"a": "b"}}), [probe])
    (props_type, tags_type), = seen
    assert issubclass(props_type, Mapping) and not issubclass(props_type, dict)
    assert issubclass(tags_type, Mapping) and not issubclass(tags_type, dict)


def test_a_policy_that_reads_an_unknown_is_deferred_with_the_servicers_message():
    def needs_bucket(args, report):
        if args.resource_type == "aws:s3/bucket:Bucket" and not args.props["bucket"].startswith("logs-"):
            report("bad bucket")

    policy = ResourceValidationPolicy(name="test-needs-bucket", description="reads the bucket name", validate=needs_bucket,
                                      enforcement_level=EnforcementLevel.MANDATORY)
    result = check.check(_doc({"bucket": engine.UNKNOWN_MARKER}), [policy])
    assert result.findings == []
    (deferred,) = result.deferred
    assert (deferred.policy, deferred.urn, deferred.enforcement) == ("test-needs-bucket", "urn:pulumi:prod::golive::aws:s3/bucket:Bucket::b",
                                                                     "mandatory")
    assert deferred.message == ("can't run policy 'test-needs-bucket' from policy pack 'golive@v0.0.1' during preview: "
                                "string value at .bucket can't be known during preview")


# --------------------------------------------------------------------------- the policy config, as the CLI reconciles it


@pytest.fixture(scope="module")
def metas():
    return analyzer.policy_metas(check._in_process(check.load_policies()).get_analyzer_info())


def test_defaults_are_the_schemas_and_each_policys_own_level(metas):
    config = analyzer.reconcile(metas, None)
    assert config.levels["kms-key-rotation"] == "mandatory" and config.levels["exemption-accepted-risk"] == "advisory"
    assert config.properties["logs-group-encrypted-retained"]["minRetentionDays"] == 365  # a year in production (CKV_AWS_338)


def test_all_then_each_policy_as_the_cli_applies_them(metas):
    config = analyzer.reconcile(metas, {"all": "advisory", "kms-key-rotation": {"enforcementLevel": "mandatory",
                                                                                "minDeletionWindowDays": 20}})
    assert config.levels["rds-multi-az"] == "advisory" and config.levels["kms-key-rotation"] == "mandatory"
    assert config.properties["kms-key-rotation"]["minDeletionWindowDays"] == 20


@pytest.mark.parametrize("given, problem", [
    ({"kms-key-rotaton": "advisory"}, "kms-key-rotaton: the pack has no such policy (did you mean 'kms-key-rotation'?)"),
    ({"kms-key-rotation": "loud"}, 'kms-key-rotation: "loud" is not a valid enforcement level'),
    ({"kms-key-rotation": {"minDeletionWindowDays": "thirty"}},
     "kms-key-rotation.minDeletionWindowDays: Invalid type. Expected: integer, given: string"),
    ({"kms-key-rotation": {"minWindow": 7}}, "kms-key-rotation.minWindow: the policy has no such setting (settings: minDeletionWindowDays)"),
    ({"tags-required": {"requiredTags": ["owner", 3]}}, "tags-required.requiredTags: [1]: Invalid type. Expected: string, given: integer"),
    ({"rds-multi-az": 3}, "rds-multi-az: 3 is not a valid value; must be a string or object"),
])
def test_a_wrong_policy_config_is_one_message_naming_each_problem(metas, given, problem):
    with pytest.raises(analyzer.PackError) as err:
        analyzer.reconcile(metas, {**given, "also-unknown": "advisory"}, "policy/config/x.json")
    message = str(err.value)
    assert message.startswith("policy config policy/config/x.json: 2 problems: ") and problem in message
    assert "also-unknown: the pack has no such policy" in message and "\n" not in message


def test_thresholds_and_levels_come_from_the_config_file(prod, tmp_path):
    stricter = {"logs-group-encrypted-retained": {"minRetentionDays": 3653}}
    result = check.check(prod, policy_config=stricter)
    assert {f.policy for f in result.mandatory} == {"logs-group-encrypted-retained"}
    relaxed = check.check(prod, policy_config={**stricter, "logs-group-encrypted-retained": {"enforcementLevel": "advisory",
                                                                                              "minRetentionDays": 3653}})
    assert result.mandatory and not relaxed.mandatory and {f.policy for f in relaxed.advisory} >= {"logs-group-encrypted-retained"}
    off = check.check(prod, policy_config={"logs-group-encrypted-retained": {"enforcementLevel": "disabled", "minRetentionDays": 3653}})
    assert not off.failed("logs-group-encrypted-retained") and off.policies["logs-group-encrypted-retained"].evaluated == set()
    assert result.failed("logs-group-encrypted-retained")


def test_the_committed_policy_config_is_complete_and_valid(metas, prod):
    path = ROOT / "policy" / "config" / "prod.json"
    given = analyzer.read_policy_config_file(path)
    assert set(given) == set(metas), "policy/config/prod.json lists every policy: run `make policy-config`"
    config = analyzer.reconcile(metas, given, str(path))
    assert config.levels == {name: meta.enforcement for name, meta in metas.items()}  # today's levels
    assert check.check(prod, policy_config=given).mandatory == []


def test_the_cli_reports_a_bad_policy_config_in_one_line_with_exit_2(tmp_path, capsys):
    bad = tmp_path / "policy.json"
    bad.write_text('{"kms-key-rotation": "loud"')
    assert cli.main(["check", "--policy-config", str(bad)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"golive: policy config {bad} is not valid JSON") and err.count("\n") == 1
    bad.write_text('{"kms-key-rotaton": "advisory"}')
    assert cli.main(["check", "--policy-config", str(bad)]) == cli.EXIT_USAGE
    assert "did you mean 'kms-key-rotation'" in capsys.readouterr().err


# --------------------------------------------------------------------------- the pack as its own process, over gRPC


def _verdict(result: check.CheckResult) -> tuple[set, set, set]:
    return ({(f.policy, f.urn, f.enforcement, f.message) for f in result.findings},
            {(e.policy, e.urn, e.message, e.reason) for e in result.exemptions},
            {(d.policy, d.urn, d.message) for d in result.deferred})


@pytest.fixture(scope="module")
def grpc_pack():
    with analyzer.GrpcPack(memo=True) as pack:
        yield pack


def test_prod_over_grpc_is_the_servicers_verdict(prod, prod_check, grpc_pack):
    over_grpc = check.check(prod, transport=grpc_pack)
    assert _verdict(over_grpc) == _verdict(prod_check)
    # GO, with accepted risks: the exemptions travel as advisory reports over the wire too.
    assert over_grpc.mandatory == [] and len(over_grpc.exemptions) == len(prod_check.exemptions) > 10


def test_a_first_preview_over_grpc_defers_what_the_servicer_defers(grpc_pack):
    first = engine.synth("prod", first_preview=True)
    over_grpc, in_process = check.check(first, transport=grpc_pack), check.check(first)
    assert _verdict(over_grpc) == _verdict(in_process)
    # The policies whose input only `pulumi up` knows on an empty stack, checked by hand against the synth:
    # IAM documents that name ARNs the cloud assigns, IRSA trust policies (the cluster's OIDC issuer), the
    # kubeconfig (the cluster's endpoint and CA), bucket policies that name their bucket's ARN.
    assert set(in_process.deferred_mandatory()) == {"iam-no-administrator-grants", "iam-resource-policy-not-public",
                                                    "iam-role-trust-not-public", "kubernetes-provider-explicit",
                                                    "s3-bucket-tls-only"}


def test_the_50_service_catalog_over_grpc_is_the_servicers_verdict(grpc_pack):
    config, secret_keys = cli._bench_config("prod", 50)
    catalog = engine.synth("prod", config=config, secret_keys=secret_keys)
    assert _verdict(check.check(catalog, transport=grpc_pack)) == _verdict(check.check(catalog))


def test_every_mutation_case_over_grpc_is_the_servicers_verdict(prod):
    """The CLI's full requests to the pack's own process, two processes at a time, against golive's servicer."""
    from tests.policy.test_mutations import CASES, RESULTS, mutated_stack

    stacks = {case.id: mutated_stack(prod, case) for case in CASES}
    expected = {case_id: _verdict(RESULTS.get(case_id) or check.check(stack)) for case_id, stack in stacks.items()}
    packs = [analyzer.GrpcPack(memo=True), analyzer.GrpcPack(memo=True)]
    try:
        def over_grpc(index_and_id):
            index, case_id = index_and_id
            return case_id, _verdict(check.check(stacks[case_id], transport=packs[index % 2]))

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            got = dict(pool.map(over_grpc, enumerate(stacks)))
    finally:
        for pack in packs:
            pack.close()
    differ = sorted(case_id for case_id in stacks if got[case_id] != expected[case_id])
    assert not differ, f"over gRPC the pack disagrees with the servicer on {differ}"


# --------------------------------------------------------------------------- a pack that cannot start, a server that never outlives


def _pack_copy(tmp_path, rule_source: str | None = None):
    shutil.copytree(ROOT / "policy", tmp_path / "policy", ignore=shutil.ignore_patterns("__pycache__", "venv"))
    if rule_source is not None:
        (tmp_path / "policy" / "rules" / "broken.py").write_text(rule_source)
        init = tmp_path / "policy" / "rules" / "__init__.py"
        init.write_text(init.read_text().replace("from ._base import", "from . import broken  # noqa: F401\nfrom ._base import", 1))
    return tmp_path


def test_a_pack_that_fails_to_import_is_one_line_and_leaves_no_process(tmp_path):
    root = _pack_copy(tmp_path, "import no_such_module\n")
    before = _pack_processes()
    with pytest.raises(analyzer.PackError) as err:
        analyzer.GrpcPack(root)
    assert str(err.value) == "policy pack failed to start: ModuleNotFoundError: No module named 'no_such_module' (exit 1)"
    assert _pack_processes() == before


def test_a_pack_that_never_serves_times_out_and_is_stopped(tmp_path):
    root = _pack_copy(tmp_path, "import time\ntime.sleep(600)\n")
    before = _pack_processes()
    started = time.monotonic()
    with pytest.raises(analyzer.PackError, match=r"did not start within 3 s"):
        analyzer.GrpcPack(root, timeout_s=3)
    assert time.monotonic() - started < 20 and _pack_processes() == before


def test_the_server_ends_with_the_pack_and_with_its_parent(tmp_path):
    pack = analyzer.GrpcPack()
    pid = pack._process.pid
    pack.close()
    assert not _alive(pid)
    # A golive process killed outright (no cleanup runs) still takes its pack server with it.
    code = textwrap.dedent("""
        import sys, time
        from golive import analyzer
        pack = analyzer.GrpcPack()
        print(pack._process.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def _pack_processes() -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"pulumi.policy" in f.read() and _alive(int(entry)):
                        found.add(int(entry))
            except OSError:
                continue
    return found


def test_the_policy_pack_starts_as_the_cli_starts_it():
    """`python -u -m pulumi.policy <engine> <pack dir>` in the pack's directory: the port on stdout, then the Analyzer."""
    from google.protobuf import json_format

    with analyzer.GrpcPack() as pack:
        info = pack.get_analyzer_info()
    assert info.name == "golive" and info.supportsConfig
    names = [p.name for p in info.policies]
    assert names == [p.name for p in check.load_policies()]
    rotation = next(p for p in info.policies if p.name == "kms-key-rotation")
    assert rotation.enforcementLevel == 1 and rotation.severity == 2  # MANDATORY, MEDIUM
    assert json_format.MessageToDict(rotation.configSchema.properties)["minDeletionWindowDays"]["default"] == 30
    stack_policies = [p.name for p in check.load_policies() if isinstance(p, StackValidationPolicy)]
    assert {p.name for p in info.policies if p.policy_type == 2} == set(stack_policies)
