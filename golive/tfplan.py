"""The synth document as a Terraform plan, so plan scanners (Checkov, conftest/OPA, tfsec-style tools) run on golive.

pulumi-aws is bridged from terraform-provider-aws: every Pulumi resource type is one
Terraform resource type and every camelCase input one Terraform attribute. The export
undoes the bridge's renaming:

- type tokens become Terraform types (``aws:rds/instance:Instance`` -> ``aws_db_instance``),
  from the provider's own mapping (pulumi-aws ``bridge-metadata.json``);
- camelCase names become snake_case, and the list names the bridge pluralized go back to
  Terraform's singular block names (``defaultActions`` -> ``default_action``);
- objects the bridge flattened from one-element blocks (``metadataOptions``) become the
  one-element lists Terraform writes, while map-valued attributes (``tags``, node-group
  ``labels``) stay maps, verbatim;
- ``propertyDependencies`` become the configuration's ``references``
  (``aws_kms_key.golive-db-key.arn``), placed on the attribute, or inside a block on the
  leaf that carries the referenced resource's output.

The document follows Terraform's JSON plan format (``terraform show -json``, format 1.2):
``planned_values``, ``resource_changes`` (every resource a create, as in a first plan) and
``configuration`` with the providers' settings. Values the cloud computes are the mock
runtime's stand-ins, as in the synth; secret inputs stay ``"[secret]"`` and are marked
sensitive. Kubernetes resources and components have no Terraform counterpart here and are
left out (their count is reported); golive's own policies cover them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .engine import _SIG, SECRET_MARKER, SynthResult
from .mocks import GoliveMocks

FORMAT_VERSION = "1.2"
# The Terraform release whose plan format (1.2) the export follows.
TERRAFORM_VERSION = "1.9.8"

PROVIDERS = {
    "aws": "registry.terraform.io/hashicorp/aws",
    "random": "registry.terraform.io/hashicorp/random",
}

# Pulumi type token -> Terraform resource type (pulumi-aws and pulumi-random's bridge mapping).
TF_TYPES: dict[str, str] = {
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:acm/certificateValidation:CertificateValidation": "aws_acm_certificate_validation",
    "aws:backup/plan:Plan": "aws_backup_plan",
    "aws:backup/selection:Selection": "aws_backup_selection",
    "aws:backup/vault:Vault": "aws_backup_vault",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": "aws_backup_vault_lock_configuration",
    "aws:backup/vaultNotifications:VaultNotifications": "aws_backup_vault_notifications",
    "aws:backup/vaultPolicy:VaultPolicy": "aws_backup_vault_policy",
    "aws:cfg/deliveryChannel:DeliveryChannel": "aws_config_delivery_channel",
    "aws:cfg/recorder:Recorder": "aws_config_configuration_recorder",
    "aws:cfg/recorderStatus:RecorderStatus": "aws_config_configuration_recorder_status",
    "aws:cfg/rule:Rule": "aws_config_config_rule",
    "aws:cloudtrail/trail:Trail": "aws_cloudtrail",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "aws_cloudwatch_log_resource_policy",
    "aws:cloudwatch/logStream:LogStream": "aws_cloudwatch_log_stream",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:ebs/defaultKmsKey:DefaultKmsKey": "aws_ebs_default_kms_key",
    "aws:ebs/encryptionByDefault:EncryptionByDefault": "aws_ebs_encryption_by_default",
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "aws_default_network_acl",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/networkAcl:NetworkAcl": "aws_network_acl",
    "aws:ec2/networkAclRule:NetworkAclRule": "aws_network_acl_rule",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ec2clientvpn/authorizationRule:AuthorizationRule": "aws_ec2_client_vpn_authorization_rule",
    "aws:ec2clientvpn/endpoint:Endpoint": "aws_ec2_client_vpn_endpoint",
    "aws:ec2clientvpn/networkAssociation:NetworkAssociation": "aws_ec2_client_vpn_network_association",
    "aws:eks/accessEntry:AccessEntry": "aws_eks_access_entry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "aws_eks_access_policy_association",
    "aws:eks/addon:Addon": "aws_eks_addon",
    "aws:eks/cluster:Cluster": "aws_eks_cluster",
    "aws:eks/nodeGroup:NodeGroup": "aws_eks_node_group",
    "aws:elasticache/parameterGroup:ParameterGroup": "aws_elasticache_parameter_group",
    "aws:elasticache/replicationGroup:ReplicationGroup": "aws_elasticache_replication_group",
    "aws:elasticache/subnetGroup:SubnetGroup": "aws_elasticache_subnet_group",
    "aws:guardduty/detector:Detector": "aws_guardduty_detector",
    "aws:guardduty/detectorFeature:DetectorFeature": "aws_guardduty_detector_feature",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": "aws_iam_service_linked_role",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/grant:Grant": "aws_kms_grant",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:lambda/function:Function": "aws_lambda_function",
    "aws:lambda/permission:Permission": "aws_lambda_permission",
    "aws:lb/listener:Listener": "aws_lb_listener",
    "aws:lb/listenerRule:ListenerRule": "aws_lb_listener_rule",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:lb/targetGroup:TargetGroup": "aws_lb_target_group",
    "aws:opensearch/domain:Domain": "aws_opensearch_domain",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": "aws_db_instance_automated_backups_replication",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:route53/record:Record": "aws_route53_record",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketNotification:BucketNotification": "aws_s3_bucket_notification",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "aws_s3_bucket_object_lock_configuration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "aws_s3_bucket_server_side_encryption_configuration",
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretRotation:SecretRotation": "aws_secretsmanager_secret_rotation",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
    "aws:securityhub/account:Account": "aws_securityhub_account",
    "aws:securityhub/standardsSubscription:StandardsSubscription": "aws_securityhub_standards_subscription",
    "aws:shield/protection:Protection": "aws_shield_protection",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
    "aws:wafv2/ipSet:IpSet": "aws_wafv2_ip_set",
    "aws:wafv2/webAcl:WebAcl": "aws_wafv2_web_acl",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "aws_wafv2_web_acl_association",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "aws_wafv2_web_acl_logging_configuration",
    "random:index/randomId:RandomId": "random_id",
    "random:index/randomPassword:RandomPassword": "random_password",
}

# Pulumi names that are not the camelCase of the Terraform name, per Terraform type: the
# bridge pluralizes lists (MaxItems other than 1) whose Terraform name is singular. Keyed by
# the Pulumi name at any depth of the resource (names do not repeat with other meanings).
RENAMES: dict[str, dict[str, str]] = {
    "aws_backup_plan": {"rules": "rule", "copyActions": "copy_action", "advancedBackupSettings": "advanced_backup_setting"},
    "aws_backup_selection": {"selectionTags": "selection_tag"},
    "aws_cloudtrail": {
        "eventSelectors": "event_selector",
        "dataResources": "data_resource",
        "advancedEventSelectors": "advanced_event_selector",
        "fieldSelectors": "field_selector",
        "insightSelectors": "insight_selector",
    },
    "aws_config_configuration_recorder": {"exclusionByResourceTypes": "exclusion_by_resource_types", "recordingModes": "recording_mode"},
    "aws_db_parameter_group": {"parameters": "parameter"},
    "aws_elasticache_parameter_group": {"parameters": "parameter"},
    "aws_elasticache_replication_group": {"logDeliveryConfigurations": "log_delivery_configuration"},
    "aws_guardduty_detector_feature": {"additionalConfigurations": "additional_configuration"},
    "aws_iam_openid_connect_provider": {"clientIdLists": "client_id_list", "thumbprintLists": "thumbprint_list"},
    # Explicit renames of pulumi-aws: the function's name, its code archive (Terraform: a local zip, ``filename``).
    "aws_lambda_function": {"name": "function_name", "code": "filename"},
    "aws_lambda_permission": {"function": "function_name"},
    "aws_lb_listener": {"defaultActions": "default_action"},
    "aws_lb_listener_rule": {"actions": "action", "conditions": "condition", "targetGroups": "target_group"},
    "aws_route53_record": {"aliases": "alias"},
    "aws_route_table": {"routes": "route"},
    "aws_s3_bucket_lifecycle_configuration": {
        "rules": "rule",
        "transitions": "transition",
        "noncurrentVersionTransitions": "noncurrent_version_transition",
    },
    "aws_s3_bucket_replication_configuration": {"rules": "rule"},
    "aws_s3_bucket_server_side_encryption_configuration": {"rules": "rule"},
    "aws_wafv2_web_acl": {
        "rules": "rule",
        "statements": "statement",
        "textTransformations": "text_transformation",
        "excludedRules": "excluded_rule",
        "ruleActionOverrides": "rule_action_override",
        "insertHeaders": "insert_header",
        "responseHeaders": "response_header",
        "customResponseBodies": "custom_response_body",
    },
}

# Map-valued attributes (Terraform ``map(string)``): kept as maps, verbatim. Every other
# object is a nested block. Keyed by Pulumi name; ``tags`` holds for every type.
MAPS: dict[str, frozenset[str]] = {
    "*": frozenset({"tags", "tagsAll"}),
    "aws_backup_plan": frozenset({"recoveryPointTags"}),
    "aws_eks_node_group": frozenset({"labels"}),
    "aws_opensearch_domain": frozenset({"advancedOptions"}),
    "aws_lambda_function": frozenset({"variables"}),
    "random_id": frozenset({"keepers"}),
    "random_password": frozenset({"keepers"}),
}

# Output keys that identify a resource (what a Terraform reference would name).
_IDENTITY_EXCLUDED = frozenset(
    {"region", "status", "ownerId", "accountId", "domain", "hostedZoneId", "zoneId", "platformVersion", "homeRegion",
     "secretStatus", "tagsAll", "version", "lockToken"}
)
_MIN_IDENTITY_LEN = 8


def snake(name: str) -> str:
    """``ipv6CidrBlock`` -> ``ipv6_cidr_block``: the bridge's camelCase, undone."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def tf_name(tf_type: str, pulumi_name: str) -> str:
    return RENAMES.get(tf_type, {}).get(pulumi_name) or snake(pulumi_name)


def is_map(tf_type: str, pulumi_name: str) -> bool:
    return pulumi_name in MAPS["*"] or pulumi_name in MAPS.get(tf_type, frozenset())


def _identifier(name: str) -> str:
    """A Terraform resource name: letters, digits, ``_`` and ``-``, not starting with a digit."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"_{cleaned}"


@dataclass
class Export:
    """The plan document and what was left out of it."""

    plan: dict[str, Any]
    addresses: dict[str, str]  # URN -> Terraform address
    skipped: dict[str, int] = field(default_factory=dict)  # type -> count of resources without a Terraform type

    def to_json(self) -> str:
        return json.dumps(self.plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- references


@dataclass(frozen=True)
class _Target:
    address: str
    identities: tuple[tuple[str, str], ...]  # (terraform attribute, value), longest value first


def _identities(record: dict[str, Any], mocks: GoliveMocks) -> tuple[tuple[str, str], ...]:
    """The values by which the mocks' outputs of ``record`` appear in other resources' inputs."""
    resource_id, outputs = mocks.computed(record["type"], record["name"], record["inputs"], record.get("provider") or "", record["urn"])
    preference = {"arn": 0, "id": 1}
    candidates = sorted([("id", resource_id), *outputs.items()], key=lambda kv: (preference.get(kv[0], 2), kv[0]))
    found: dict[str, str] = {}
    for key, value in candidates:
        if key in _IDENTITY_EXCLUDED or not isinstance(value, str) or len(value) < _MIN_IDENTITY_LEN:
            continue
        found.setdefault(value, snake(key))
    ordered = sorted(found.items(), key=lambda kv: -len(kv[0]))
    return tuple((attr, value) for value, attr in ordered)


def _refs(target: _Target, attr: str) -> list[str]:
    return [f"{target.address}.{attr}", target.address]


def _matches(value: str, target: _Target) -> str | None:
    """The attribute of ``target`` whose value ``value`` is or contains."""
    for attr, identity in target.identities:
        if value == identity:
            return attr
    for attr, identity in target.identities:
        if identity in value:
            return attr
    return None


# --------------------------------------------------------------------------- conversion


class _Converter:
    """Turns one record's camelCase inputs into Terraform values and configuration expressions."""

    def __init__(self, tf_type: str, secret_paths: Iterable[str]):
        self.tf_type = tf_type
        self.secret_paths = set(secret_paths)

    def value(self, name: str, value: Any, path: str, sensitive: dict[str, Any]) -> Any:
        if path in self.secret_paths:
            sensitive[tf_name(self.tf_type, name)] = True
        if isinstance(value, Mapping) and _SIG in value:
            # An asset or archive: Terraform names the file (a Lambda's code is its ``filename``).
            return value.get("path") or value.get("uri") or ""
        if isinstance(value, Mapping):
            if is_map(self.tf_type, name):
                marks = {k: True for k in value if f"{path}.{k}" in self.secret_paths}
                if marks:
                    sensitive[tf_name(self.tf_type, name)] = marks
                return dict(value)
            inner: dict[str, Any] = {}
            block = self.block(value, path, inner)
            if inner:
                sensitive[tf_name(self.tf_type, name)] = [inner]
            return [block]
        if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            blocks, marks = [], []
            for i, item in enumerate(value):
                inner = {}
                blocks.append(self.block(item, f"{path}[{i}]", inner) if isinstance(item, Mapping) else item)
                marks.append(inner)
            if any(marks):
                sensitive[tf_name(self.tf_type, name)] = marks
            return blocks
        return value

    def block(self, props: Mapping[str, Any], path: str, sensitive: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in sorted(props):
            if props[key] is None:
                continue
            out[tf_name(self.tf_type, key)] = self.value(key, props[key], f"{path}.{key}" if path else key, sensitive)
        return out


def _expressions(value: Any, targets: list[_Target], top: bool) -> tuple[Any, set[str]]:
    """Terraform configuration expressions for a converted value, and the addresses it references.

    A scalar or list of scalars is one expression (``constant_value`` or ``references``); a
    block is a list of objects of expressions, as Terraform writes them. A top-level
    attribute that depends on a resource whose output it does not visibly carry still
    references that resource.
    """
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        used: set[str] = set()
        blocks = []
        for item in value:
            block = {}
            for key, inner in item.items():
                block[key], found = _expressions(inner, targets, False)
                used |= found
            blocks.append(block)
        return blocks, used
    refs: list[str] = []
    used = set()
    for leaf in _strings(value):
        for target in targets:
            attr = _matches(leaf, target)
            if attr is not None:
                for ref in _refs(target, attr):
                    if ref not in refs:
                        refs.append(ref)
                used.add(target.address)
    if top:
        for target in targets:
            if target.address not in used:
                refs.append(target.address)
                used.add(target.address)
    if refs:
        return {"references": refs}, used
    return {"constant_value": value}, used


def _place_on_secrets(expressions: Any, value: Any, targets: list[_Target]) -> bool:
    """Reference ``targets`` from the secret leaves of a block (their values are markers, so nothing matched them).

    A generated password feeds a block's secret field (an OpenSearch master user's password): Terraform
    would reference it there. Returns whether the block had a secret leaf.
    """
    placed = False
    if isinstance(value, list) and isinstance(expressions, list):
        for item, expression in zip(value, expressions, strict=True):
            placed = _place_on_secrets(expression, item, targets) or placed
    elif isinstance(value, dict) and isinstance(expressions, dict):
        for key, inner in value.items():
            if inner == SECRET_MARKER:
                expressions[key] = {"references": [ref for t in targets for ref in (f"{t.address}.result", t.address)]}
                placed = True
            else:
                placed = _place_on_secrets(expressions.get(key), inner, targets) or placed
    return placed


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _decode(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _account_and_region(resources: list[dict[str, Any]]) -> tuple[str, str]:
    for r in resources:
        if r["type"] == "pulumi:providers:aws":
            accounts = _decode(r["inputs"].get("allowedAccountIds")) or ["123456789012"]
            return str(accounts[0]), str(r["inputs"].get("region") or "us-east-1")
    return "123456789012", "us-east-1"


def _provider_keys(resources: list[dict[str, Any]]) -> dict[str, str]:
    """Pulumi provider URN -> Terraform provider config key: the most used one is the default, others aliased."""
    use: dict[str, int] = {}
    for r in resources:
        ref = (r.get("provider") or "").rsplit("::", 1)[0]
        if ref:
            use[ref] = use.get(ref, 0) + 1
    keys: dict[str, str] = {}
    providers = [r for r in resources if r["type"].startswith("pulumi:providers:")]
    for package in {r["type"].rsplit(":", 1)[1] for r in providers}:
        mine = sorted((r for r in providers if r["type"].endswith(f":{package}")), key=lambda r: (-use.get(r["urn"], 0), r["urn"]))
        for i, r in enumerate(mine):
            keys[r["urn"]] = package if i == 0 else f"{package}.{_identifier(r['name'])}"
    return keys


def _provider_config(record: dict[str, Any], key: str) -> dict[str, Any]:
    package = record["type"].rsplit(":", 1)[1]
    expressions: dict[str, Any] = {}
    for name, raw in sorted(record["inputs"].items()):
        value = _decode(raw)
        if name == "defaultTags" and isinstance(value, Mapping):
            expressions["default_tags"] = [{"tags": {"constant_value": dict(value.get("tags") or {})}}]
        elif name not in ("kubeconfig",):
            expressions[snake(name)] = {"constant_value": value}
    config: dict[str, Any] = {"name": package, "full_name": PROVIDERS.get(package, f"registry.terraform.io/hashicorp/{package}"),
                              "expressions": expressions}
    if "." in key:
        config["alias"] = key.split(".", 1)[1]
    return config


def export(synth: SynthResult) -> Export:
    """The Terraform plan of ``synth``: every resource with a Terraform type, as a create."""
    resources = synth.resources
    account, region = _account_and_region(resources)
    mocks = GoliveMocks(region, account)
    for r in resources:  # the mocks learn each provider's region, as during the synth
        if r["type"].startswith("pulumi:providers:"):
            mocks.computed(r["type"], r["name"], {k: _decode(v) for k, v in r["inputs"].items()}, "", r["urn"])
    provider_keys = _provider_keys(resources)
    by_urn = {r["urn"]: r for r in resources}

    addresses: dict[str, str] = {}
    taken: set[str] = set()
    skipped: dict[str, int] = {}
    for r in resources:
        tf_type = TF_TYPES.get(r["type"])
        if tf_type is None:
            if r["custom"] and not r["type"].startswith("pulumi:providers:"):
                skipped[r["type"]] = skipped.get(r["type"], 0) + 1
            continue
        base = f"{tf_type}.{_identifier(r['name'])}"
        address, n = base, 2
        while address in taken:
            address, n = f"{base}_{n}", n + 1
        taken.add(address)
        addresses[r["urn"]] = address

    targets: dict[str, _Target] = {}

    def target(urn: str) -> _Target | None:
        if urn not in addresses:
            return None
        if urn not in targets:
            targets[urn] = _Target(addresses[urn], _identities(by_urn[urn], mocks))
        return targets[urn]

    planned, changes, configured = [], [], []
    for r in resources:
        address = addresses.get(r["urn"])
        if address is None:
            continue
        tf_type, name = address.split(".", 1)
        converter = _Converter(tf_type, r.get("secretInputs") or [])
        sensitive: dict[str, Any] = {}
        values = converter.block(r["inputs"], "", sensitive)
        tags = r["inputs"].get("tags")
        provider_ref = (r.get("provider") or "").rsplit("::", 1)[0]
        if isinstance(tags, Mapping) and provider_ref in by_urn:
            default_tags = _decode(by_urn[provider_ref]["inputs"].get("defaultTags")) or {}
            values["tags_all"] = {**dict(default_tags.get("tags") or {}), **dict(tags)}
        expressions: dict[str, Any] = {}
        referenced: set[str] = set()
        dependencies = r.get("propertyDependencies") or {}
        for key in sorted(r["inputs"]):
            if r["inputs"][key] is None:
                continue
            deps = [t for t in (target(u) for u in dependencies.get(key, [])) if t is not None and t.address != address]
            attr = tf_name(tf_type, key)
            expressions[attr], used = _expressions(values[attr], deps, True)
            unplaced = [t for t in deps if t.address not in used]
            if unplaced and isinstance(expressions[attr], list) and _place_on_secrets(expressions[attr], values[attr], unplaced):
                used |= {t.address for t in unplaced}
            referenced |= used
        explicit = sorted({addresses[u] for u in r["options"].get("dependsOn", []) if u in addresses} - referenced - {address})
        package = r["type"].split(":", 1)[0]
        provider_name = PROVIDERS.get(package, f"registry.terraform.io/hashicorp/{package}")
        common = {"address": address, "mode": "managed", "type": tf_type, "name": name, "provider_name": provider_name}
        planned.append({**common, "schema_version": 0, "values": values, "sensitive_values": sensitive})
        changes.append(
            {
                **common,
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": values,
                    "after_unknown": {"id": True},
                    "before_sensitive": False,
                    "after_sensitive": sensitive,
                },
            }
        )
        conf: dict[str, Any] = {
            "address": address,
            "mode": "managed",
            "type": tf_type,
            "name": name,
            "provider_config_key": provider_keys.get(provider_ref, package),
            "expressions": expressions,
            "schema_version": 0,
        }
        if explicit:
            conf["depends_on"] = explicit
        configured.append(conf)

    provider_config = {
        key: _provider_config(by_urn[urn], key) for urn, key in sorted(provider_keys.items(), key=lambda kv: kv[1]) if urn in by_urn
        if by_urn[urn]["type"].rsplit(":", 1)[1] in PROVIDERS
    }
    for package in sorted({a.split("_", 1)[0] for a in addresses.values()} - set(provider_config)):
        provider_config[package] = {"name": package, "full_name": PROVIDERS[package]}
    plan = {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"provider_config": provider_config, "root_module": {"resources": configured}},
        "timestamp": "1970-01-01T00:00:00Z",
        "errored": False,
    }
    return Export(plan=plan, addresses=addresses, skipped=dict(sorted(skipped.items())))

