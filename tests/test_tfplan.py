"""`python -m golive synth --format terraform-plan`: the synth as Terraform's JSON plan (golive/tfplan.py).

Expectations are terraform-provider-aws's own names (its resource schemas, which pulumi-aws is
bridged from) and Terraform's plan format, written here as data.
"""

from __future__ import annotations

import inspect
import json
import re
import typing

import pytest

from golive import __main__ as cli
from golive import tfplan
from tests.helpers import mutate, one

# Pulumi type -> Terraform type, from the provider's mapping (pulumi-aws bridge metadata).
TYPES = {
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:cloudtrail/trail:Trail": "aws_cloudtrail",
    "aws:ec2clientvpn/endpoint:Endpoint": "aws_ec2_client_vpn_endpoint",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    "random:index/randomPassword:RandomPassword": "random_password",
}


@pytest.fixture(scope="module")
def plan(prod):
    return tfplan.export(prod)


def planned(plan, address):
    return next(r for r in plan.plan["planned_values"]["root_module"]["resources"] if r["address"] == address)


def configured(plan, address):
    return next(r for r in plan.plan["configuration"]["root_module"]["resources"] if r["address"] == address)


def address_of(plan, record):
    return plan.addresses[record["urn"]]


def test_the_document_is_a_terraform_plan(plan, prod):
    doc = plan.plan
    assert doc["format_version"] == "1.2" and re.fullmatch(r"1\.\d+\.\d+", doc["terraform_version"])
    resources = doc["planned_values"]["root_module"]["resources"]
    assert len(resources) == len(doc["resource_changes"]) == len(doc["configuration"]["root_module"]["resources"])
    for resource, change in zip(resources, doc["resource_changes"], strict=True):
        assert resource["address"] == f"{resource['type']}.{resource['name']}" == change["address"]
        assert resource["mode"] == "managed" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", resource["name"])
        assert change["change"]["actions"] == ["create"] and change["change"]["before"] is None  # a first plan
        assert change["change"]["after"] == resource["values"]
    assert len({r["address"] for r in resources}) == len(resources)
    # Every AWS and random resource of the stack is in it; only Kubernetes objects and components are not.
    exported = {r["urn"] for r in prod.resources if r["urn"] in plan.addresses}
    left_out = {r["type"] for r in prod.resources if r["custom"] and r["urn"] not in exported and not r["type"].startswith("pulumi:")}
    assert left_out and all(t.startswith("kubernetes:") for t in left_out)
    assert sum(plan.skipped.values()) == sum(1 for r in prod.resources if r["type"] in left_out)


@pytest.mark.parametrize("pulumi_type, terraform_type", sorted(TYPES.items()))
def test_types_map_to_the_providers_terraform_types(prod, plan, pulumi_type, terraform_type):
    record = prod.of_type(pulumi_type)[0]
    assert address_of(plan, record).split(".")[0] == terraform_type


def test_blocks_are_lists_of_objects_and_plural_lists_take_terraform_singular_names(prod, plan):
    template = planned(plan, address_of(plan, one(prod, "aws:ec2/launchTemplate:LaunchTemplate")))["values"]
    assert template["metadata_options"] == [{"http_endpoint": "enabled", "http_put_response_hop_limit": 1,
                                             "http_tokens": "required", "instance_metadata_tags": "disabled"}]
    # block_device_mappings and tag_specifications are plural in Terraform too.
    assert template["block_device_mappings"][0]["ebs"][0]["volume_type"] == "gp3"
    assert {t["resource_type"] for t in template["tag_specifications"]} == {"instance", "volume", "network-interface"}
    (http_listener,) = [r for r in prod.of_type("aws:lb/listener:Listener") if r["name"] == "golive-http"]
    http = planned(plan, address_of(plan, http_listener))["values"]
    assert http["default_action"] == [{"type": "redirect", "redirect": [{"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}]}]
    plan_rule = planned(plan, address_of(plan, one(prod, "aws:backup/plan:Plan")))["values"]["rule"][0]
    assert "copy_action" in plan_rule and "lifecycle" in plan_rule["copy_action"][0]
    acl = planned(plan, address_of(plan, one(prod, "aws:wafv2/webAcl:WebAcl")))["values"]
    assert {"rule", "default_action", "visibility_config"} <= set(acl) and "statement" in acl["rule"][0]
    oidc = planned(plan, address_of(plan, one(prod, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")))["values"]
    assert oidc["client_id_list"] == ["sts.amazonaws.com"]
    params = planned(plan, address_of(plan, one(prod, "aws:rds/parameterGroup:ParameterGroup")))["values"]
    assert all({"name", "value"} <= set(p) for p in params["parameter"])


def test_map_valued_inputs_stay_maps(prod, plan):
    group = one(prod, "aws:eks/nodeGroup:NodeGroup")
    values = planned(plan, address_of(plan, group))["values"]
    assert values["labels"] == group["inputs"]["labels"] and values["tags"] == group["inputs"]["tags"]
    # tags_all: the provider's default tags under the resource's own, as Terraform plans them.
    assert values["tags_all"]["environment"] == "production" and values["tags_all"]["Name"] == group["inputs"]["tags"]["Name"]
    assert values["scaling_config"] == [{"desired_size": 3, "max_size": 10, "min_size": 2}]


def test_references_are_rebuilt_from_property_dependencies(prod, plan):
    sse = one(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "golive-backups-encryption")
    bucket = one(prod, "aws:s3/bucket:Bucket", "golive-backups-bucket")
    key = one(prod, "aws:kms/key:Key", "golive-backups-objects-key")
    expressions = configured(plan, address_of(plan, sse))["expressions"]
    assert expressions["bucket"] == {"references": [f"{address_of(plan, bucket)}.id", address_of(plan, bucket)]}
    # Inside a block, on the leaf that carries the key's ARN.
    (rule,) = expressions["rule"]
    assert rule["apply_server_side_encryption_by_default"][0]["kms_master_key_id"] == {
        "references": [f"{address_of(plan, key)}.arn", address_of(plan, key)]}
    assert rule["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == {"constant_value": "aws:kms"}
    # Every dependency of an input is referenced by the configuration (or, where no leaf carries it, depended on).
    for record in prod.resources:
        if record["urn"] not in plan.addresses:
            continue
        conf = configured(plan, plan.addresses[record["urn"]])
        text = json.dumps([conf["expressions"], conf.get("depends_on", [])])
        for urns in record.get("propertyDependencies", {}).values():
            for urn in urns:
                if urn in plan.addresses and urn != record["urn"]:
                    assert f'"{plan.addresses[urn]}"' in text, (record["name"], urn)


def test_explicit_dependencies_become_depends_on(prod, plan):
    lifecycle = one(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "golive-backups-lifecycle")
    versioning = one(prod, "aws:s3/bucketVersioning:BucketVersioning", "golive-backups-versioning")
    assert address_of(plan, versioning) in configured(plan, address_of(plan, lifecycle))["depends_on"]


def test_a_generated_password_is_referenced_where_its_secret_goes(prod, plan):
    domain = one(prod, "aws:opensearch/domain:Domain")
    password = one(prod, "random:index/randomPassword:RandomPassword", "golive-logs-master")
    (options,) = configured(plan, address_of(plan, domain))["expressions"]["advanced_security_options"]
    assert options["master_user_options"][0]["master_user_password"] == {
        "references": [f"{address_of(plan, password)}.result", address_of(plan, password)]}
    assert options["master_user_options"][0]["master_user_name"] == {"constant_value": "golive-admin"}


def test_secrets_stay_markers_and_are_marked_sensitive(prod, plan):
    group = one(prod, "aws:elasticache/replicationGroup:ReplicationGroup")
    resource = planned(plan, address_of(plan, group))
    assert resource["values"]["auth_token"] == "[secret]" and resource["sensitive_values"] == {"auth_token": True}
    change = next(c for c in plan.plan["resource_changes"] if c["address"] == resource["address"])
    assert change["change"]["after_sensitive"] == {"auth_token": True}
    domain = planned(plan, address_of(plan, one(prod, "aws:opensearch/domain:Domain")))
    assert domain["sensitive_values"]["advanced_security_options"] == [{"master_user_options": [{"master_user_password": True}]}]


def test_providers_are_configured_with_region_account_and_default_tags(plan):
    providers = plan.plan["configuration"]["provider_config"]
    assert set(providers) == {"aws", "aws.aws-dr", "random"}
    assert providers["aws"]["expressions"]["region"] == {"constant_value": "eu-west-1"}
    assert providers["aws.aws-dr"]["alias"] == "aws-dr" and providers["aws.aws-dr"]["expressions"]["region"] == {"constant_value": "eu-central-1"}
    assert providers["aws"]["expressions"]["allowed_account_ids"] == {"constant_value": ["123456789012"]}
    assert providers["aws"]["expressions"]["default_tags"][0]["tags"]["constant_value"]["managed-by"] == "pulumi"
    dr_bucket = next(r for r in plan.plan["configuration"]["root_module"]["resources"] if r["name"] == "golive-backups-dr-bucket")
    assert dr_bucket["provider_config_key"] == "aws.aws-dr"


def test_the_export_is_deterministic_and_follows_the_synth(prod, plan):
    assert tfplan.export(prod).to_json() == plan.to_json()
    template = one(prod, "aws:ec2/launchTemplate:LaunchTemplate")
    mutated = tfplan.export(mutate(prod, template["urn"], lambda r: r["inputs"]["metadataOptions"].update(httpPutResponseHopLimit=2)))
    assert planned(mutated, address_of(plan, template))["values"]["metadata_options"][0]["http_put_response_hop_limit"] == 2


def test_synth_format_terraform_plan_writes_the_plan(tmp_path, prod, capsys):
    out = tmp_path / "plan.json"
    assert cli.main(["synth", "--format", "terraform-plan", "--out", str(out)], run=lambda a: _synth_with(a, prod)) == 0
    assert json.loads(out.read_text()) == tfplan.export(prod).plan
    assert "as a Terraform plan" in capsys.readouterr().err


def _synth_with(args, prod):
    """cmd_synth on the already synthesized prod stack (the CLI path, without a second synth)."""
    original = cli._synth
    cli._synth = lambda _args: prod
    try:
        return cli.cmd_synth(args)
    finally:
        cli._synth = original


# --------------------------------------------------------------------------- the tables against the pinned SDK


def _sdk_class(token: str):
    """The pulumi_aws class of a resource type token (``aws:ec2/vpc:Vpc`` -> ``pulumi_aws.ec2.Vpc``)."""
    import importlib

    package, module_and_name = token.split(":", 1)
    module, name = module_and_name.split(":")[0].split("/")[0], token.rsplit(":", 1)[1]
    module = f"{module}_" if module in ("lambda",) else module  # Python keywords get a trailing underscore
    sdk = importlib.import_module(f"pulumi_{package}.{module}" if module != "index" else f"pulumi_{package}")
    return getattr(sdk, name)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _annotation(cls, prop: str):
    init = cls._internal_init if hasattr(cls, "_internal_init") else cls.__init__
    parameter = inspect.signature(init).parameters.get(_snake(prop))
    return None if parameter is None else parameter.annotation


def _args_class(module, annotation):
    """The nested ``...Args`` class an annotation names (a one-element block or a list of blocks)."""
    names = re.findall(r"ForwardRef\('(\w+Args)'\)", repr(annotation))
    return getattr(module, names[0]) if names else None


def test_every_exported_aws_type_is_in_the_table(prod):
    unmapped = sorted({r["type"] for r in prod.resources if r["type"].startswith(("aws:", "random:")) and r["type"] not in tfplan.TF_TYPES})
    assert unmapped == []


def test_maps_and_blocks_are_told_apart_as_the_sdk_types_them(prod):
    """A dict-valued input is a map (Mapping[str, str]) or a block (an Args class): the table must agree with the SDK."""
    import importlib

    checked = 0
    wrong = []

    def walk(tf_type, cls, module, props):
        nonlocal checked
        for key, value in props.items():
            annotation = _annotation(cls, key) if cls is not None else None
            if annotation is None:
                continue
            nested = _args_class(module, annotation)
            if isinstance(value, dict) and "4dabf18193072939515e22adb298388d" not in value:
                is_sdk_map = nested is None and "Mapping[" in repr(annotation)
                checked += 1
                if tfplan.is_map(tf_type, key) != is_sdk_map:
                    wrong.append((tf_type, key))
                if nested is not None:
                    walk(tf_type, nested, module, value)
            elif isinstance(value, list) and nested is not None:
                for item in value:
                    if isinstance(item, dict):
                        walk(tf_type, nested, module, item)

    for record in prod.resources:
        tf_type = tfplan.TF_TYPES.get(record["type"])
        if tf_type is None:
            continue
        cls = _sdk_class(record["type"])
        module = importlib.import_module(cls.__module__.rsplit(".", 1)[0])
        walk(tf_type, cls, module, record["inputs"])
    assert wrong == [] and checked > 100


def test_sdk_annotations_are_what_the_table_test_reads():
    """Guard for the test above: the SDK still spells maps and blocks the way it looks for them."""
    import pulumi_aws as aws

    assert "Mapping[" in repr(_annotation(aws.ec2.LaunchTemplate, "tags"))
    assert _args_class(aws.ec2, _annotation(aws.ec2.LaunchTemplate, "metadataOptions")) is aws.ec2.LaunchTemplateMetadataOptionsArgs
    assert typing.get_origin(_annotation(aws.ec2.LaunchTemplate, "blockDeviceMappings")) is typing.Union
