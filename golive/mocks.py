"""Realistic computed outputs for the mock runtime.

Every ``apply`` in the program must run offline, so each resource gets what AWS or
Kubernetes would return: ids in the provider's format, ARNs with the partition,
region and account from config, endpoints and DNS names. Values derive from the
resource's URN only, so two synths of the same program are byte-identical.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pulumi

# id prefixes AWS uses for EC2-family resources.
_EC2_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/networkAcl:NetworkAcl": "acl",
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "acl",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2clientvpn/endpoint:Endpoint": "cvpn-endpoint",
}


# Outputs the providers' schemas mark secret: never written to the synth document.
SECRET_OUTPUTS = {
    "random:index/randomPassword:RandomPassword": frozenset({"result", "bcryptHash"}),
}

# Pulumi's autonamer appends "-" and this many random characters to the logical name.
AUTONAME_RANDOM_CHARS = 7


class AutonameError(ValueError):
    """A resource without an explicit name whose auto-name would exceed the provider's limit."""


def digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:length]


def _uuid(seed: str) -> str:
    h = digest(seed, length=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class GoliveMocks(pulumi.runtime.Mocks):
    """Mocks whose outputs look like the cloud's, keyed on the resource URN."""

    def __init__(self, default_region: str, account_id: str):
        self.default_region = default_region
        self.account_id = account_id
        self._provider_regions: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- Mocks interface (the SDK's own MockMonitor calls this; golive's engine calls `computed`)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        # The program makes no lookups (a preview needs no account); fail loudly if one appears.
        raise NotImplementedError(f"golive makes no provider calls offline, but the program called {args.token}")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        resource_id, extra = self.computed(args.typ, args.name, inputs, args.provider or "", f"{args.typ}::{args.name}")
        return resource_id, {**inputs, **extra}

    def computed(self, typ: str, name: str, inputs: dict[str, Any], provider: str, urn: str) -> tuple[str, dict[str, Any]]:
        """The id and the outputs the cloud would add to ``inputs`` for the resource ``urn``."""
        resource_id, extra, _ = self.outputs(typ, name, inputs, provider, urn)
        return resource_id, extra

    def outputs(self, typ: str, name: str, inputs: dict[str, Any], provider: str, urn: str) -> tuple[str, dict[str, Any], set[str]]:
        """The id, the added outputs, and which of those a preview already knows.

        A provider's Check fills in auto-names before anything is created, so a first
        preview knows them; everything else the cloud assigns (ids, ARNs, endpoints)
        it does not.
        """
        if typ.startswith("pulumi:providers:"):
            with self._lock:
                self._provider_regions[urn] = inputs.get("region") or self.default_region
            return digest(urn, length=32), {}, set()
        provider_urn = provider.rsplit("::", 1)[0] if provider else ""
        with self._lock:
            region = self._provider_regions.get(provider_urn, self.default_region)
        ctx = _Ctx(typ=typ, urn=urn, name=name, region=region, account=self.account_id, inputs=inputs)
        builder = _BUILDERS.get(typ)
        if builder is not None:
            resource_id, extra = builder(ctx)
        elif typ.startswith("kubernetes:"):
            resource_id, extra = _kubernetes(ctx, typ)
        else:
            resource_id, extra = _generic(ctx, typ)
        return resource_id, extra, ctx.autonamed & set(extra)


class _Ctx:
    def __init__(self, typ: str, urn: str, name: str, region: str, account: str, inputs: dict[str, Any]):
        self.typ = typ
        self.urn = urn
        self.name = name
        self.region = region
        self.account = account
        self.inputs = inputs
        self.partition = _partition(region)
        self.autonamed: set[str] = set()  # outputs a provider's Check fills in (known at preview)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account if account else ''}:{resource}"
        )

    def h(self, length: int = 17) -> str:
        return digest(self.urn, length=length)

    def physical_name(self, key: str = "name", max_len: int = 63, *, strict: bool = False) -> str:
        """The name a provider would auto-name: given, else the logical name plus a suffix.

        ``strict``: refuse, as Pulumi's autonamer does for types with a hard name limit,
        a logical name that leaves no room for ``-`` and the 7 random characters
        (instead of truncating it, which no real preview would do).
        """
        given = self.inputs.get(key)
        if given:
            return given
        prefix = self.inputs.get(f"{key}Prefix")
        if not prefix:
            # Pulumi's autonamer fills the name in at Check, so a preview knows it. Beside a
            # ``<key>Prefix`` the bridge applies no autoname (the two conflict in the Terraform
            # schema): Terraform makes the name up at Create, and a first preview does not know it.
            self.autonamed.add(key)
        base = prefix if prefix else f"{self.name}-"
        if strict and not prefix and len(base) + AUTONAME_RANDOM_CHARS > max_len:
            raise AutonameError(
                f"{self.typ} {self.name!r}: name '{base}' plus {AUTONAME_RANDOM_CHARS} random chars is longer than "
                f"maximum length {max_len}; give it an explicit `{key}` of at most {max_len} characters"
            )
        return (base + self.h(AUTONAME_RANDOM_CHARS))[:max_len]


Builder = Callable[[_Ctx], tuple[str, dict[str, Any]]]
_BUILDERS: dict[str, Builder] = {}


def builds(*types: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        for t in types:
            _BUILDERS[t] = fn
        return fn

    return register


def _service_of(typ: str) -> str:
    # "aws:ec2/vpc:Vpc" -> "ec2"
    module = typ.split(":")[1].split("/")[0]
    return {"cloudwatch": "logs", "rds": "rds", "vpc": "ec2", "ec2clientvpn": "ec2", "lb": "elasticloadbalancing"}.get(module, module)


def _generic(ctx: _Ctx, typ: str) -> tuple[str, dict[str, Any]]:
    if not typ.startswith("aws:"):
        return f"{ctx.name}-{ctx.h(8)}", {}
    prefix = _EC2_ID_PREFIX.get(typ)
    resource_id = f"{prefix}-{ctx.h()}" if prefix else f"{ctx.name}-{ctx.h(8)}"
    kind = typ.rsplit(":", 1)[1].lower()
    extra: dict[str, Any] = {"arn": ctx.arn(_service_of(typ), f"{kind}/{resource_id}")}
    if "tags" in ctx.inputs:
        extra["tagsAll"] = ctx.inputs["tags"]
    if typ == "aws:ec2/vpc:Vpc":
        extra.update(
            defaultSecurityGroupId=f"sg-{ctx.h()[::-1]}",
            defaultNetworkAclId=f"acl-{ctx.h()[::-1]}",
            defaultRouteTableId=f"rtb-{ctx.h()[::-1]}",
            mainRouteTableId=f"rtb-{ctx.h()[::-1]}",
            ownerId=ctx.account,
        )
    elif typ == "aws:ec2/eip:Eip":
        n = int(ctx.h(6), 16)
        extra.update(allocationId=resource_id, publicIp=f"203.0.113.{n % 254 + 1}", domain="vpc")
    elif typ == "aws:ec2/subnet:Subnet":
        extra.update(ownerId=ctx.account)
    elif typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
        svc = str(ctx.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
        extra.update(
            dnsEntries=[{"dnsName": f"{resource_id}.{svc}.{ctx.region}.vpce.amazonaws.com", "hostedZoneId": "Z7HUB22UULQXV"}],
            prefixListId=f"pl-{ctx.h(8)}",
        )
    return resource_id, extra


@builds("aws:kms/key:Key")
def _kms_key(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    key_id = _uuid(ctx.urn)
    return key_id, {"keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


@builds("aws:kms/alias:Alias")
def _kms_alias(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name()
    return name, {"arn": ctx.arn("kms", name), "targetKeyArn": ctx.arn("kms", f"key/{ctx.inputs.get('targetKeyId', '')}")}


@builds("aws:cloudwatch/logGroup:LogGroup")
def _log_group(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name(max_len=512)
    return name, {"name": name, "arn": ctx.arn("logs", f"log-group:{name}")}


@builds("aws:iam/role:Role")
def _iam_role(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name(max_len=64)
    path = ctx.inputs.get("path", "/")
    return name, {"name": name, "arn": ctx.arn("iam", f"role{path}{name}", region=False), "uniqueId": "AROA" + ctx.h(17).upper()}


@builds("aws:iam/policy:Policy")
def _iam_policy(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name(max_len=128)
    arn = ctx.arn("iam", f"policy/{name}", region=False)
    return arn, {"name": name, "arn": arn, "policyId": "ANPA" + ctx.h(17).upper()}


@builds("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    url = str(ctx.inputs.get("url", "")).removeprefix("https://")
    arn = ctx.arn("iam", f"oidc-provider/{url}", region=False)
    return arn, {"arn": arn}


@builds("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
def _bucket(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name("bucket")
    return name, {
        "bucket": name,
        "arn": f"arn:{ctx.partition}:s3:::{name}",
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
        "region": ctx.region,
        "hostedZoneId": "Z1BKCTXD74EZPE",
    }


@builds("aws:secretsmanager/secret:Secret")
def _secret(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name(max_len=512)
    arn = ctx.arn("secretsmanager", f"secret:{name}-{ctx.h(6)}")
    return arn, {"arn": arn, "name": name}


@builds("aws:sns/topic:Topic")
def _topic(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name(max_len=256)
    arn = ctx.arn("sns", name)
    return arn, {"arn": arn, "name": name}


@builds("aws:rds/instance:Instance")
def _rds_instance(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    identifier = ctx.physical_name("identifier")
    address = f"{identifier}.c{ctx.h(11)}.{ctx.region}.rds.amazonaws.com"
    port = ctx.inputs.get("port", 5432)
    secret_arn = ctx.arn("secretsmanager", f"secret:rds!db-{_uuid(ctx.urn + 'secret')}-{ctx.h(6)}")
    return identifier, {
        "identifier": identifier,
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "arn": ctx.arn("rds", f"db:{identifier}"),
        "resourceId": "db-" + ctx.h(26).upper(),
        "hostedZoneId": "Z29XKXDKYMONMX",
        "masterUserSecrets": [
            {"secretArn": secret_arn, "kmsKeyId": ctx.inputs.get("masterUserSecretKmsKeyId", ""), "secretStatus": "active"}
        ] if ctx.inputs.get("manageMasterUserPassword") else [],
    }


@builds("aws:elasticache/replicationGroup:ReplicationGroup")
def _replication_group(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    group_id = ctx.inputs.get("replicationGroupId") or f"{ctx.name}-{ctx.h(5)}"
    area, direction, number = (ctx.region.split("-") + ["", ""])[:3]
    short = f"{area}{direction[:1]}{number}"  # eu-west-1 -> euw1, as in AWS's cache endpoints
    return group_id, {
        "arn": ctx.arn("elasticache", f"replicationgroup:{group_id}"),
        "primaryEndpointAddress": f"master.{group_id}.{ctx.h(6)}.{short}.cache.amazonaws.com",
        "readerEndpointAddress": f"replica.{group_id}.{ctx.h(6)}.{short}.cache.amazonaws.com",
        "port": ctx.inputs.get("port", 6379),
        "memberClusters": [f"{group_id}-00{i}" for i in range(1, int(ctx.inputs.get("numCacheClusters", 1)) + 1)],
    }


@builds("aws:eks/cluster:Cluster")
def _eks_cluster(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name(max_len=100)
    oidc_id = ctx.h(32).upper()
    ca = base64.b64encode(f"-----BEGIN CERTIFICATE-----\nMOCK{ctx.h(32)}\n-----END CERTIFICATE-----\n".encode()).decode()
    vpc_config = dict(ctx.inputs.get("vpcConfig") or {})
    vpc_config.update(clusterSecurityGroupId=f"sg-{ctx.h()[::-1]}", vpcId=f"vpc-{ctx.h()}")
    return name, {
        "name": name,
        "arn": ctx.arn("eks", f"cluster/{name}"),
        "endpoint": f"https://{oidc_id}.gr7.{ctx.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": ca},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{ctx.region}.amazonaws.com/id/{oidc_id}"}]}],
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "vpcConfig": vpc_config,
        "clusterId": _uuid(ctx.urn),
    }


@builds("aws:eks/nodeGroup:NodeGroup")
def _node_group(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name("nodeGroupName")
    cluster = ctx.inputs.get("clusterName", "cluster")
    return f"{cluster}:{name}", {
        "nodeGroupName": name,
        "arn": ctx.arn("eks", f"nodegroup/{cluster}/{name}/{_uuid(ctx.urn)}"),
        "resources": [{"autoscalingGroups": [{"name": f"eks-{name}-{_uuid(ctx.urn)}"}], "remoteAccessSecurityGroupId": ""}],
        "status": "ACTIVE",
    }


@builds("aws:lb/loadBalancer:LoadBalancer")
def _load_balancer(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name(max_len=32, strict=True)
    suffix = f"app/{name}/{ctx.h(16)}"
    arn = ctx.arn("elasticloadbalancing", f"loadbalancer/{suffix}")
    return arn, {
        "arn": arn,
        "arnSuffix": suffix,
        "name": name,
        "dnsName": f"{name}-{int(ctx.h(8), 16)}.{ctx.region}.elb.amazonaws.com",
        "zoneId": "Z32O12XQLNTSW2",
    }


@builds("aws:lb/targetGroup:TargetGroup")
def _target_group(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name(max_len=32, strict=True)
    suffix = f"targetgroup/{name}/{ctx.h(16)}"
    arn = ctx.arn("elasticloadbalancing", suffix)
    return arn, {"arn": arn, "arnSuffix": suffix, "name": name}


@builds("aws:lb/listener:Listener")
def _listener(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    """``listener/app/<load balancer name>/<load balancer id>/<listener id>``: the load balancer's ARN extended."""
    parent = str(ctx.inputs.get("loadBalancerArn") or "")
    if ":loadbalancer/app/" in parent:
        arn = parent.replace(":loadbalancer/app/", ":listener/app/", 1) + f"/{ctx.h(16)}"
    else:
        arn = ctx.arn("elasticloadbalancing", f"listener/app/{ctx.name[:32]}/{ctx.h(16)}/{ctx.h(16)[::-1]}")
    return arn, {"arn": arn}


@builds("aws:lb/listenerRule:ListenerRule")
def _listener_rule(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    """``listener-rule/app/<load balancer name>/<load balancer id>/<listener id>/<rule id>``: the listener's ARN extended."""
    parent = str(ctx.inputs.get("listenerArn") or "")
    if ":listener/app/" in parent:
        arn = parent.replace(":listener/app/", ":listener-rule/app/", 1) + f"/{ctx.h(16)}"
    else:
        arn = ctx.arn("elasticloadbalancing", f"listener-rule/app/{ctx.name[:32]}/{ctx.h(16)}/{ctx.h(16)[::-1]}/{ctx.h(16)}")
    return arn, {"arn": arn}


@builds("aws:acm/certificate:Certificate")
def _certificate(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    arn = ctx.arn("acm", f"certificate/{_uuid(ctx.urn)}")
    domains = [ctx.inputs.get("domainName", "example.com"), *(ctx.inputs.get("subjectAlternativeNames") or [])]
    options = [
        {
            "domainName": d,
            "resourceRecordName": f"_{digest(d, length=32)}.{d.lstrip('*.')}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{digest(d, 'v', length=32)}.acm-validations.aws.",
        }
        for d in domains
    ]
    return arn, {"arn": arn, "domainValidationOptions": options, "status": "PENDING_VALIDATION"}


@builds("aws:wafv2/webAcl:WebAcl", "aws:wafv2/ipSet:IpSet", "aws:wafv2/ruleGroup:RuleGroup")
def _waf(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    kind = ctx.typ.rsplit(":", 1)[1].lower()
    name = ctx.physical_name(max_len=128)
    waf_id = _uuid(ctx.urn)
    scope = str(ctx.inputs.get("scope", "REGIONAL")).lower()
    return waf_id, {"arn": ctx.arn("wafv2", f"{scope}/{kind}/{name}/{waf_id}"), "name": name, "lockToken": ctx.h(8)}


@builds("aws:backup/vault:Vault")
def _backup_vault(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name()
    return name, {"name": name, "arn": ctx.arn("backup", f"backup-vault:{name}")}


@builds("aws:backup/plan:Plan")
def _backup_plan(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    plan_id = _uuid(ctx.urn)
    return plan_id, {"arn": ctx.arn("backup", f"backup-plan:{plan_id}"), "version": ctx.h(16)}


@builds("aws:opensearch/domain:Domain")
def _opensearch(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name("domainName", max_len=28)
    return name, {
        "domainName": name,
        "arn": ctx.arn("es", f"domain/{name}"),
        "endpoint": f"vpc-{name}-{ctx.h(26)}.{ctx.region}.es.amazonaws.com",
        "domainId": f"{ctx.account}/{name}",
    }


@builds("aws:guardduty/detector:Detector")
def _detector(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    detector_id = ctx.h(32)
    return detector_id, {"arn": ctx.arn("guardduty", f"detector/{detector_id}"), "accountId": ctx.account}


@builds("aws:cloudtrail/trail:Trail")
def _trail(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical_name()
    arn = ctx.arn("cloudtrail", f"trail/{name}")
    return arn, {"arn": arn, "homeRegion": ctx.region, "name": name}


@builds("aws:route53/record:Record")
def _record(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.inputs.get("name", ctx.name)
    fqdn = str(name).rstrip(".")
    return f"{ctx.inputs.get('zoneId', 'Z')}_{fqdn}_{ctx.inputs.get('type', 'A')}", {"fqdn": fqdn}


@builds("random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString")
def _random_password(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    length = int(ctx.inputs.get("length", 32))
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    seed = hashlib.sha256(ctx.urn.encode()).digest() * (length // 32 + 1)
    value = "".join(alphabet[b % len(alphabet)] for b in seed[:length])
    return "none", {"result": value, "bcryptHash": "$2a$10$" + ctx.h(53)}


@builds("random:index/randomId:RandomId")
def _random_id(ctx: _Ctx) -> tuple[str, dict[str, Any]]:
    raw = hashlib.sha256(ctx.urn.encode()).digest()[: int(ctx.inputs.get("byteLength", 8))]
    prefix = ctx.inputs.get("prefix") or ""
    b64_url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return b64_url, {
        "hex": prefix + raw.hex(),
        "dec": prefix + str(int.from_bytes(raw, "big")),
        "b64Url": prefix + b64_url,
        "b64Std": prefix + base64.b64encode(raw).decode(),
    }


def _kubernetes(ctx: _Ctx, typ: str) -> tuple[str, dict[str, Any]]:
    metadata = dict(ctx.inputs.get("metadata") or {})
    if not metadata.get("name"):
        ctx.autonamed.add("metadata")
    metadata.setdefault("name", f"{ctx.name}-{ctx.h(8)}")
    namespace = metadata.get("namespace")
    metadata.setdefault("uid", _uuid(ctx.urn))  # assigned by the API server: a first preview drops it
    resource_id = f"{namespace}/{metadata['name']}" if namespace else metadata["name"]
    extra: dict[str, Any] = {"metadata": metadata}
    if typ == "kubernetes:helm.sh/v3:Release":
        if not ctx.inputs.get("name"):
            ctx.autonamed.add("name")
        name = ctx.inputs.get("name") or f"{ctx.name}-{ctx.h(8)}"
        ns = ctx.inputs.get("namespace", "default")
        extra = {"name": name, "status": {"name": name, "namespace": ns, "status": "deployed", "version": ctx.inputs.get("version")}}
        resource_id = f"{ns}/{name}"
    return resource_id, extra
