"""``python -m golive preflight``: is this AWS account ready for the stack's first ``pulumi up``?

With the user's AWS credentials (boto3's standard chain; ``AWS_ENDPOINT_URL`` is honoured,
which is how the tests point it at an emulator), every check reads the target account
and says pass, fail or warn, with a remediation line:

- the credentials' account and the regions: ``golive:accountId``, ``golive:region`` and
  ``golive:dr.region`` enabled;
- each service-linked role the stack declares exists or not, against what
  ``golive:singletons`` says the stack does about it; the ones AWS creates on first use;
- the account singletons (GuardDuty detector, Security Hub, AWS Config recorder): a
  ``create`` fails when one exists, an ``adopt`` when none does, a ``skip`` when nothing
  manages it; for each adopted one that exists, the exact ``pulumi import`` commands
  (engine URNs of parent and provider, taken from the synth of the ``all`` phase);
- the service quotas the stack needs (Service Quotas, against what the account uses);
- the VPN's ACM certificates are ISSUED in the region; the hosted zone is public and
  serves the domain;
- EKS add-on versions valid for the cluster version; the RDS engine version and class
  orderable in the configured zones; the ElastiCache node type offered in the region;
  the EC2 instance types offered in every zone;
- no secret in ``Pulumi.<stack>.yaml`` is still a placeholder.

Exit codes: 0 ready, 1 not ready (a check failed), 2 a usage or credential error.
"""

from __future__ import annotations

import json
import pathlib
import re
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml

from components.config import SECRET_KEYS, SERVICE_LINKED_ROLES, SingletonConfig, StackConfig

PASS, FAIL, WARN = "pass", "fail", "warn"
TOOL = "golive preflight"

Clients = Callable[[str, str], Any]
"""``clients(service, region)``: a boto3 client (the tests hand in emulator- or Stubber-backed ones)."""


class CredentialError(Exception):
    """No usable AWS credentials, or AWS cannot be reached: exit 2."""


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    status: str
    detail: str
    remediation: str = ""
    imports: tuple[str, ...] = ()


@dataclass
class Report:
    stack: str
    region: str
    account: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not any(c.status == FAIL for c in self.checks)

    @property
    def imports(self) -> list[str]:
        return [command for c in self.checks for command in c.imports]

    def count(self, status: str) -> int:
        return sum(1 for c in self.checks if c.status == status)


# --------------------------------------------------------------------------- AWS facts, as data

# Quotas the first `up` consumes: (check id, service code, quota code, name).
QUOTAS = (
    ("elastic-ips", "ec2", "L-0263D0A3", "EC2-VPC Elastic IPs"),
    ("vpcs", "vpc", "L-F678F1CE", "VPCs per Region"),
    ("nat-gateways-per-az", "vpc", "L-FE5A380F", "NAT gateways per Availability Zone"),
    ("interface-endpoints-per-vpc", "vpc", "L-29B6F2EB", "Interface VPC endpoints per VPC"),
    ("eks-clusters", "eks", "L-1194D53C", "Clusters"),
    ("rds-instances", "rds", "L-7B6409FD", "DB instances"),
)

# Service-linked roles AWS creates itself when the stack first uses the service.
CREATED_ON_FIRST_USE = (
    "AWSServiceRoleForAmazonEKS",
    "AWSServiceRoleForAmazonEKSNodegroup",
    "AWSServiceRoleForElasticLoadBalancing",
    "AWSServiceRoleForRDS",
    "AWSServiceRoleForElastiCache",
    "AWSServiceRoleForAmazonGuardDuty",
    "AWSServiceRoleForSecurityHub",
    "AWSServiceRoleForClientVPN",
)

ENABLED_REGION = ("opt-in-not-required", "opted-in")
_CREDENTIAL_CODES = {"InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch",
                     "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure"}
_DENIED = re.compile(r"AccessDenied|UnauthorizedOperation|AuthorizationError|Forbidden")
# What `pulumi config set --secret` writes: `v1:<nonce>:<ciphertext>` (passphrase and cloud-KMS secrets
# providers) or one base64 ciphertext (the Pulumi Cloud secrets manager).
_CIPHERTEXT = re.compile(r"v1:[A-Za-z0-9+/=]{8,}:[A-Za-z0-9+/=]{8,}|[A-Za-z0-9+/]{16,}={0,2}")

SINGLETON_TYPES = {
    "guarddutyDetector": ("aws:guardduty/detector:Detector",),
    "securityHub": ("aws:securityhub/account:Account",),
    "configRecorder": ("aws:cfg/recorder:Recorder", "aws:cfg/deliveryChannel:DeliveryChannel", "aws:cfg/recorderStatus:RecorderStatus"),
}
SLR_TYPE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
STANDARD_TYPE = "aws:securityhub/standardsSubscription:StandardsSubscription"


def default_clients(profile: str | None = None) -> Clients:
    """boto3 clients from the standard credential chain (``AWS_ENDPOINT_URL`` honoured by botocore)."""
    import boto3

    session = boto3.Session(profile_name=profile)
    cache: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str) -> Any:
        if (service, region) not in cache:
            cache[(service, region)] = session.client(service, region_name=region)
        return cache[(service, region)]

    return client


def _code(err: Exception) -> str:
    response = getattr(err, "response", None) or {}
    return str((response.get("Error") or {}).get("Code") or type(err).__name__)


def _client_error() -> tuple[type[Exception], ...]:
    """What an AWS call raises when it does not answer: an error response, or no usable response at all."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    return ClientError, BotoCoreError, ResponseParserError


def _not_checked(check_id: str, title: str, err: Exception, action: str) -> Check:
    """A check the credentials may not run: a warning, never a silent pass."""
    code = _code(err)
    if _DENIED.search(code):
        return Check(check_id, title, WARN, f"could not check: {code}", f"allow {action} to the preflight's identity")
    message = " ".join(str(err).split())
    return Check(check_id, title, WARN, f"could not check: {message[:200]}", "run the preflight again; check the API's availability")


# --------------------------------------------------------------------------- the checks


class Preflight:
    """Every check of one stack against one account."""

    def __init__(self, stack: str, config: StackConfig, clients: Clients, *,
                 synth: Callable[[], Any] | None = None, secure_config: dict[str, Any] | None = None):
        self.stack, self.config, self.clients = stack, config, clients
        self._synth_loader, self._synth = synth, None
        self.secure_config = secure_config or {}
        self._service_roles: set[str] | None = None
        self.region = config.region
        self.azs = config.network.azs(config.region)

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients(service, region or self.region)

    def run(self) -> Report:
        account = self.caller_account()
        report = Report(self.stack, self.region, account)
        report.checks.append(self.check_account(account))
        steps: list[Callable[[], Iterable[Check]]] = [
            self.check_regions, self.check_service_linked_roles, self.check_roles_created_on_first_use,
            self.check_singletons, self.check_quotas, self.check_certificates, self.check_hosted_zone,
            self.check_addons, self.check_database_offering, self.check_cache_offering, self.check_instance_offerings,
            self.check_secrets,
        ]
        for step in steps:
            report.checks.extend(step())
        return report

    # ---- account and regions

    def caller_account(self) -> str:
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError, PartialCredentialsError

        try:
            return str(self.client("sts").get_caller_identity()["Account"])
        except (NoCredentialsError, PartialCredentialsError) as err:
            raise CredentialError(f"no AWS credentials: {err} (configure the standard chain: AWS_PROFILE, "
                                  "environment variables or an SSO session)") from None
        except EndpointConnectionError as err:
            raise CredentialError(f"cannot reach AWS: {err}") from None
        except ClientError as err:
            if _code(err) in _CREDENTIAL_CODES or _DENIED.search(_code(err)):
                raise CredentialError(f"the AWS credentials were refused: {_code(err)}") from None
            raise CredentialError(f"sts:GetCallerIdentity failed: {err}") from None
        except BotoCoreError as err:
            raise CredentialError(f"AWS credentials unusable: {err}") from None

    def check_account(self, account: str) -> Check:
        title = "the credentials belong to golive:accountId"
        if account == self.config.account_id:
            return Check("account", title, PASS, f"account {account}")
        return Check("account", title, FAIL, f"the credentials are account {account}, the stack's golive:accountId is "
                     f"{self.config.account_id} (its providers refuse any other account)",
                     "use credentials of the target account, or set golive:accountId to it")

    def check_regions(self) -> Iterable[Check]:
        regions = [("region", self.region), ("dr-region", self.config.dr.region)]
        title = "{} {} is enabled for the account"
        try:
            found = self.client("ec2").describe_regions(AllRegions=True, RegionNames=[r for _, r in regions])["Regions"]
        except _client_error() as err:
            if _code(err) == "InvalidParameterValue":
                found = []
            else:
                yield _not_checked("region", "the stack's regions are enabled", err, "ec2:DescribeRegions")
                return
        status = {r["RegionName"]: r.get("OptInStatus", "opt-in-not-required") for r in found}
        for check_id, region in regions:
            key = "golive:region" if check_id == "region" else "golive:dr.region"
            state = status.get(region)
            if state in ENABLED_REGION:
                yield Check(check_id, title.format(key, region), PASS, f"{region}: {state}")
            elif state is None:
                yield Check(check_id, title.format(key, region), FAIL, f"{region} is not a region of this partition",
                            f"set {key} to an AWS region name")
            else:
                yield Check(check_id, title.format(key, region), FAIL, f"{region}: {state}",
                            f"enable it: aws account enable-region --region-name {region}")

    # ---- service-linked roles

    def _role_exists(self, name: str) -> bool:
        """Whether the account has the service-linked role ``name`` (every one lives under /aws-service-role/)."""
        if self._service_roles is None:
            names: set[str] = set()
            for page in self.client("iam").get_paginator("list_roles").paginate(PathPrefix="/aws-service-role/"):
                names.update(role["RoleName"] for role in page.get("Roles", []))
            self._service_roles = names
        return name in self._service_roles

    def check_service_linked_roles(self) -> Iterable[Check]:
        for key, (service, role) in SERVICE_LINKED_ROLES.items():
            if key == "config" and not self.config.singletons.config_recorder.declared:
                continue
            setting_key = f"{key}Role"
            singleton: SingletonConfig = getattr(self.config.singletons, f"{key}_role")
            check_id, title = f"service-linked-role:{key}", f"{role} ({service}) against golive:singletons.{setting_key}"
            try:
                exists = self._role_exists(role)
            except _client_error() as err:
                yield _not_checked(check_id, title, err, "iam:ListRoles")
                continue
            yield self._judge(check_id, title, setting_key, singleton, exists, f"{role} {'exists' if exists else 'does not exist'}",
                              lambda key=key, service=service, role=role: [
                                  self._import_command(self._role_record(key), self._role_arn(service, role))])

    def _role_arn(self, service: str, role: str) -> str:
        suffix = "amazonaws.com.cn" if self.config.partition == "aws-cn" else "amazonaws.com"
        return f"arn:{self.config.partition}:iam::{self.config.account_id}:role/aws-service-role/{service}.{suffix}/{role}"

    def check_roles_created_on_first_use(self) -> Iterable[Check]:
        title = "service-linked roles AWS creates on first use"
        try:
            missing = [role for role in CREATED_ON_FIRST_USE if not self._role_exists(role)]
        except _client_error() as err:
            yield _not_checked("service-linked-roles:first-use", title, err, "iam:ListRoles")
            return
        if not missing:
            yield Check("service-linked-roles:first-use", title, PASS, "all exist")
            return
        yield Check("service-linked-roles:first-use", title, PASS,
                    f"AWS creates {', '.join(missing)} when the stack first uses the service",
                    "the identity that runs `pulumi up` needs iam:CreateServiceLinkedRole for them")

    # ---- account singletons

    def _judge(self, check_id: str, title: str, setting_key: str, singleton: SingletonConfig, exists: bool,
               found: str, imports: Callable[[], Sequence[str]], healthy: bool = True) -> Check:
        """What the stack will do about a singleton that does (not) exist, and whether that works."""
        where = f"golive:singletons.{setting_key}.mode"
        if singleton.mode == "create":
            if not exists:
                return Check(check_id, title, PASS, f"{found}: the stack creates it")
            return Check(check_id, title, FAIL, f"{found}: the stack's create would fail (one per account and region)",
                         f"set {where} to adopt (the stack takes it over) or skip with a reason (it is managed elsewhere)")
        if singleton.mode == "adopt":
            if not exists:
                return Check(check_id, title, FAIL, f"{found}: there is nothing to adopt", f"set {where} to create")
            return Check(check_id, title, PASS, f"{found}: the stack adopts it; import it after the infrastructure phase, "
                         "before the all phase", "run the pulumi import commands below", tuple(c for c in imports() if c))
        if exists and healthy:
            return Check(check_id, title, PASS, f"{found}: managed elsewhere ({singleton.reason})")
        return Check(check_id, title, FAIL, f"{found}, yet the stack skips it ({singleton.reason}): nothing provides it",
                     f"enable it where it is managed, or set {where} to create")

    def check_singletons(self) -> Iterable[Check]:
        yield self._guardduty()
        if self.config.security.security_hub:
            yield self._security_hub()
        yield self._config_recorder()

    def _guardduty(self) -> Check:
        check_id, title = "singleton:guarddutyDetector", "GuardDuty detector against golive:singletons.guarddutyDetector"
        guardduty = self.client("guardduty")
        try:
            ids = guardduty.list_detectors().get("DetectorIds", [])
            statuses = {i: guardduty.get_detector(DetectorId=i).get("Status") for i in ids}
        except _client_error() as err:
            return _not_checked(check_id, title, err, "guardduty:ListDetectors, guardduty:GetDetector")
        found = f"detector {ids[0]} ({statuses[ids[0]]})" if ids else "no detector"
        return self._judge(check_id, title, "guarddutyDetector", self.config.singletons.guardduty_detector, bool(ids), found,
                           lambda: [self._import_command(self._record(SINGLETON_TYPES["guarddutyDetector"][0]), ids[0])],
                           healthy=bool(ids) and statuses[ids[0]] == "ENABLED")

    def _security_hub(self) -> Check:
        check_id, title = "singleton:securityHub", "Security Hub subscription against golive:singletons.securityHub"
        hub = self.client("securityhub")
        try:
            hub.describe_hub()
            exists = True
        except _client_error() as err:
            if _code(err) not in ("InvalidAccessException", "ResourceNotFoundException"):
                return _not_checked(check_id, title, err, "securityhub:DescribeHub")
            exists = False

        def imports() -> list[str]:
            commands = [self._import_command(self._record(SINGLETON_TYPES["securityHub"][0]), self.config.account_id)]
            try:
                enabled = hub.get_enabled_standards().get("StandardsSubscriptions", [])
            except _client_error():
                enabled = []
            by_arn = {r["inputs"].get("standardsArn"): r for r in self._records(STANDARD_TYPE)}
            commands += [self._import_command(by_arn[s["StandardsArn"]], s["StandardsSubscriptionArn"])
                         for s in enabled if s.get("StandardsArn") in by_arn]
            return commands

        return self._judge(check_id, title, "securityHub", self.config.singletons.security_hub, exists,
                           "Security Hub is enabled" if exists else "Security Hub is not enabled", imports)

    def _config_recorder(self) -> Check:
        check_id, title = "singleton:configRecorder", "AWS Config recorder against golive:singletons.configRecorder"
        config = self.client("config")
        try:
            # Service-linked recorders (other services' own) do not take the customer-managed recorder's place.
            recorders = [r for r in config.describe_configuration_recorders().get("ConfigurationRecorders", [])
                         if not r.get("servicePrincipal")]
            channels = config.describe_delivery_channels().get("DeliveryChannels", [])
            recording = {s["name"]: s.get("recording", False)
                         for s in config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])}
        except _client_error() as err:
            return _not_checked(check_id, title, err, "config:DescribeConfigurationRecorders, config:DescribeDeliveryChannels")
        singleton, wanted = self.config.singletons.config_recorder, self.config.security.aws_config.recorder_name
        names = [r["name"] for r in recorders]
        found = (f"recorder {names[0]} ({'recording' if recording.get(names[0]) else 'stopped'})" if names
                 else "no recorder") + (f", delivery channel {channels[0]['name']}" if channels else "")
        if singleton.mode == "adopt" and names and (names[0] != wanted or any(c["name"] != wanted for c in channels)):
            return Check(check_id, title, FAIL, f"{found}: golive declares recorder and channel named {wanted!r}",
                         f"set golive:security.awsConfig.recorderName to {names[0]!r}" if names[0] != wanted
                         else "the delivery channel's name differs from the recorder's: replace the channel, or skip the recorder")
        if singleton.mode == "create" and not names and channels:
            return Check(check_id, title, FAIL, f"no recorder, but delivery channel {channels[0]['name']} exists (one per region)",
                         "delete the orphaned delivery channel, or skip the recorder")

        def imports() -> list[str]:
            recorder_t, channel_t, status_t = SINGLETON_TYPES["configRecorder"]
            commands = [self._import_command(self._record(recorder_t), names[0])]
            if channels:
                commands.append(self._import_command(self._record(channel_t), channels[0]["name"]))
            commands.append(self._import_command(self._record(status_t), names[0]))
            return commands

        return self._judge(check_id, title, "configRecorder", singleton, bool(names), found, imports,
                           healthy=bool(names) and bool(recording.get(names[0])))

    # ---- import commands from the synth of the all phase

    def synth(self) -> Any:
        if self._synth is None and self._synth_loader is not None:
            self._synth = self._synth_loader()
        return self._synth

    def _records(self, type_: str) -> list[dict[str, Any]]:
        synth = self.synth()
        return synth.of_type(type_) if synth is not None else []

    def _record(self, type_: str) -> dict[str, Any] | None:
        records = self._records(type_)
        return records[0] if len(records) == 1 else None

    def _role_record(self, key: str) -> dict[str, Any] | None:
        service = SERVICE_LINKED_ROLES[key][0]
        found = [r for r in self._records(SLR_TYPE) if str(r["inputs"].get("awsServiceName", "")).startswith(f"{service}.")]
        return found[0] if len(found) == 1 else None

    def _import_command(self, record: dict[str, Any] | None, resource_id: str) -> str:
        """``pulumi import`` of one resource under its parent component and explicit provider, as the program declares it."""
        if record is None:
            return ""
        synth = self.synth()
        by_urn = synth.by_urn()
        parent = by_urn.get(record.get("parent") or "")
        provider_urn = (record.get("provider") or "").rsplit("::", 1)[0]
        provider = by_urn.get(provider_urn)
        words = ["pulumi", "import", "--stack", self.stack, record["type"], record["name"], resource_id]
        if parent is not None:
            words += ["--parent", f"{parent['name']}={parent['urn']}"]
        if provider is not None:
            words += ["--provider", f"{provider['name']}={provider['urn']}"]
        words += ["--protect=false", "--generate-code=false", "--yes"]
        return " ".join(shlex.quote(w) for w in words)

    # ---- quotas

    def _quota(self, service: str, code: str) -> float:
        quotas = self.client("service-quotas")
        try:
            return float(quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])
        except _client_error() as err:
            if _code(err) != "NoSuchResourceException":
                raise
            return float(quotas.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])

    def _usage(self, check_id: str) -> tuple[int, int]:
        """(in use, needed by the stack) for one quota; per-AZ and per-VPC quotas count the busiest AZ / a new VPC."""
        net = self.config.network
        nats = len(self.azs) if net.nat_gateways == "perAz" else 1
        ec2 = self.client("ec2")
        if check_id == "elastic-ips":
            return len(ec2.describe_addresses().get("Addresses", [])), nats
        if check_id == "vpcs":
            return len(ec2.describe_vpcs().get("Vpcs", [])), 1
        if check_id == "nat-gateways-per-az":
            gateways = [g for g in ec2.describe_nat_gateways().get("NatGateways", []) if g.get("State") in ("pending", "available")]
            subnets = {g["SubnetId"] for g in gateways}
            zone = {s["SubnetId"]: s["AvailabilityZone"]
                    for s in (ec2.describe_subnets(SubnetIds=sorted(subnets))["Subnets"] if subnets else [])}
            per_az = [sum(1 for g in gateways if zone.get(g["SubnetId"]) == az) for az in self.azs]
            return max(per_az, default=0), 1
        if check_id == "interface-endpoints-per-vpc":
            return 0, len(net.interface_endpoints)
        if check_id == "eks-clusters":
            return len(self.client("eks").list_clusters().get("clusters", [])), 1
        if check_id == "rds-instances":
            return len(self.client("rds").describe_db_instances().get("DBInstances", [])), 1 + self.config.database.read_replicas
        raise ValueError(check_id)

    def check_quotas(self) -> Iterable[Check]:
        for check_id, service, code, name in QUOTAS:
            title = f"service quota {name} ({service} {code}) leaves room for the stack"
            try:
                value = self._quota(service, code)
                used, needed = self._usage(check_id)
            except _client_error() as err:
                yield _not_checked(f"quota:{check_id}", title, err, "servicequotas:GetServiceQuota and the service's Describe/List calls")
                continue
            detail = f"quota {value:g}, in use {used}, the stack needs {needed}"
            if used + needed <= value:
                yield Check(f"quota:{check_id}", title, PASS, detail)
            else:
                yield Check(f"quota:{check_id}", title, FAIL, detail,
                            f"aws service-quotas request-service-quota-increase --service-code {service} --quota-code {code} "
                            f"--desired-value {int(used + needed)} --region {self.region}")

    # ---- certificates and DNS

    def check_certificates(self) -> Iterable[Check]:
        vpn = self.config.security.vpn
        if not vpn.enabled:
            return
        for check_id, key, arn in (("acm:vpn-server", "serverCertificateArn", vpn.server_certificate_arn),
                                   ("acm:vpn-client-root", "clientRootCertificateArn", vpn.client_root_certificate_arn)):
            title = f"golive:security.vpn.{key} is ISSUED in {self.region}"
            region = arn.split(":")[3] if arn.count(":") >= 5 else self.region
            try:
                certificate = self.client("acm", region).describe_certificate(CertificateArn=arn)["Certificate"]
            except _client_error() as err:
                if _code(err) in ("ResourceNotFoundException", "ValidationException", "InvalidArnException"):
                    yield Check(check_id, title, FAIL, f"{arn} does not exist in {region}",
                                "import the certificate into ACM in the stack's region and set its ARN")
                else:
                    yield _not_checked(check_id, title, err, "acm:DescribeCertificate")
                continue
            status = certificate.get("Status")
            if status == "ISSUED":
                yield Check(check_id, title, PASS, f"{certificate.get('DomainName', arn)}: ISSUED")
            else:
                yield Check(check_id, title, FAIL, f"{arn}: {status}", "complete validation or re-import the certificate")

    def check_hosted_zone(self) -> Iterable[Check]:
        edge = self.config.edge
        if not edge.domain:
            return
        title = f"hosted zone {edge.hosted_zone_id} is public and serves {edge.domain}"
        try:
            zone = self.client("route53").get_hosted_zone(Id=edge.hosted_zone_id)["HostedZone"]
        except _client_error() as err:
            if _code(err) in ("NoSuchHostedZone", "InvalidInput"):
                yield Check("hosted-zone", title, FAIL, f"no hosted zone {edge.hosted_zone_id} in the account",
                            f"create the public zone of {edge.domain} (delegated from its parent) and set golive:edge.hostedZoneId")
            else:
                yield _not_checked("hosted-zone", title, err, "route53:GetHostedZone")
            return
        name = zone["Name"].rstrip(".")
        if (zone.get("Config") or {}).get("PrivateZone"):
            yield Check("hosted-zone", title, FAIL, f"{name} is a private zone: certificate validation and the public "
                        "records need a public one", "point golive:edge.hostedZoneId at the public zone")
        elif edge.domain != name and not edge.domain.endswith("." + name):
            yield Check("hosted-zone", title, FAIL, f"the zone serves {name}, not {edge.domain}",
                        f"set golive:edge.hostedZoneId to the zone of {edge.domain}")
        else:
            yield Check("hosted-zone", title, PASS, f"public zone {name}")

    # ---- versions and offerings

    def check_addons(self) -> Iterable[Check]:
        cluster = self.config.cluster
        eks = self.client("eks")
        for field_name in ("vpc_cni", "coredns", "kube_proxy", "aws_ebs_csi_driver", "eks_pod_identity_agent"):
            addon, version = field_name.replace("_", "-"), getattr(cluster.addons, field_name)
            check_id, title = f"eks-addon:{addon}", f"{addon} {version} is valid for Kubernetes {cluster.version}"
            try:
                found = eks.describe_addon_versions(addonName=addon, kubernetesVersion=cluster.version).get("addons", [])
            except _client_error() as err:
                yield _not_checked(check_id, title, err, "eks:DescribeAddonVersions")
                continue
            valid = [v["addonVersion"] for a in found for v in a.get("addonVersions", [])]
            if version in valid:
                yield Check(check_id, title, PASS, f"{version} is offered for {cluster.version}")
            else:
                hint = f": {', '.join(valid[:3])}" if valid else " (none listed)"
                yield Check(check_id, title, FAIL, f"{version} is not offered for Kubernetes {cluster.version}",
                            f"pin golive:cluster.addons.{_camel(field_name)} to a listed version{hint}")

    def check_database_offering(self) -> Iterable[Check]:
        db = self.config.database
        title = f"RDS PostgreSQL {db.engine_version} on {db.instance_class} is orderable Multi-AZ in {', '.join(self.azs)}"
        rds = self.client("rds")
        try:
            options: list[dict[str, Any]] = []
            for page in rds.get_paginator("describe_orderable_db_instance_options").paginate(Engine="postgres", DBInstanceClass=db.instance_class):
                options += page.get("OrderableDBInstanceOptions", [])
        except _client_error() as err:
            yield _not_checked("rds-orderable", title, err, "rds:DescribeOrderableDBInstanceOptions")
            return
        wanted = [o for o in options if o.get("EngineVersion") == db.engine_version
                  or str(o.get("EngineVersion", "")).startswith(f"{db.engine_version}.")]
        multi_az = [o for o in wanted if o.get("MultiAZCapable")]
        zones = {z["Name"] for o in multi_az for z in o.get("AvailabilityZones", [])}
        missing = [az for az in self.azs if az not in zones]
        if not wanted:
            yield Check("rds-orderable", title, FAIL, f"no PostgreSQL {db.engine_version} on {db.instance_class} in {self.region}",
                        "choose a class and version `aws rds describe-orderable-db-instance-options --engine postgres` lists")
        elif not multi_az or missing:
            yield Check("rds-orderable", title, FAIL, f"not orderable Multi-AZ in {', '.join(missing or self.azs)}",
                        "choose another golive:database.instanceClass or golive:network.availabilityZones")
        else:
            yield Check("rds-orderable", title, PASS, f"{len(wanted)} orderable version(s), Multi-AZ in every zone")

    def check_cache_offering(self) -> Iterable[Check]:
        node_type = self.config.cache.node_type
        title = f"ElastiCache node type {node_type} is offered in {self.region}"
        try:
            offered = self.client("elasticache").describe_reserved_cache_nodes_offerings(CacheNodeType=node_type, MaxRecords=20)
        except _client_error() as err:
            yield _not_checked("elasticache-node-type", title, err, "elasticache:DescribeReservedCacheNodesOfferings")
            return
        # ElastiCache publishes no per-zone offering; the region's node offerings list the types it runs.
        if offered.get("ReservedCacheNodesOfferings"):
            yield Check("elasticache-node-type", title, PASS, f"{node_type} is offered in {self.region}")
        else:
            yield Check("elasticache-node-type", title, FAIL, f"{node_type} is not offered in {self.region}",
                        "choose a golive:cache.nodeType the region offers")

    def check_instance_offerings(self) -> Iterable[Check]:
        types = list(self.config.cluster.instance_types)
        title = f"EC2 instance types {', '.join(types)} are offered in every zone"
        try:
            offerings = self.client("ec2").describe_instance_type_offerings(
                LocationType="availability-zone",
                Filters=[{"Name": "instance-type", "Values": types}, {"Name": "location", "Values": list(self.azs)}],
            ).get("InstanceTypeOfferings", [])
        except _client_error() as err:
            yield _not_checked("ec2-instance-types", title, err, "ec2:DescribeInstanceTypeOfferings")
            return
        offered = {(o["InstanceType"], o["Location"]) for o in offerings}
        missing = [f"{t} in {az}" for t in types for az in self.azs if (t, az) not in offered]
        if missing:
            yield Check("ec2-instance-types", title, FAIL, f"not offered: {', '.join(missing)}",
                        "drop those types from golive:cluster.instanceTypes or pick other zones")
        else:
            yield Check("ec2-instance-types", title, PASS, f"{len(types)} types in {len(self.azs)} zones")

    # ---- secrets

    def check_secrets(self) -> Iterable[Check]:
        for key in SECRET_KEYS:
            check_id, title = f"secret:{key}", f"golive:{key} is set as a real secret"
            value = self.secure_config.get(f"golive:{key}", self.secure_config.get(key))
            how = f"pulumi config set --secret golive:{key} <value> --stack {self.stack}"
            if value is None:
                status = FAIL if self.config.production else WARN
                yield Check(check_id, title, status, "not set", how)
            elif not isinstance(value, dict) or set(value) != {"secure"}:
                yield Check(check_id, title, FAIL, "stored in plain text in the stack config", how)
            elif "PLACEHOLDER" in str(value["secure"]).upper() or not _CIPHERTEXT.fullmatch(str(value["secure"])):
                yield Check(check_id, title, FAIL, "still the committed placeholder (not a ciphertext the CLI wrote)", how)
            else:
                yield Check(check_id, title, PASS, "a ciphertext")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


# --------------------------------------------------------------------------- output


def render_text(report: Report) -> str:
    lines = [f"{TOOL}: stack {report.stack}, account {report.account}, region {report.region}", ""]
    width = max((len(c.id) for c in report.checks), default=10)
    for c in report.checks:
        lines.append(f"{c.status.upper():4}  {c.id:<{width}}  {c.title}: {c.detail}")
        if c.remediation and c.status != PASS:
            lines.append(f"{'':4}  {'':<{width}}  fix: {c.remediation}")
    if report.imports:
        lines += ["", "pulumi import commands (after the infrastructure phase, before the all phase):"]
        lines += [f"  {command}" for command in report.imports]
    verdict = "READY" if report.ready else "NOT READY"
    lines += ["", f"verdict: {verdict} — {report.count(FAIL)} failed, {report.count(WARN)} warnings, {report.count(PASS)} passed"]
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps({
        "tool": TOOL,
        "stack": report.stack,
        "account": report.account,
        "region": report.region,
        "ready": report.ready,
        "summary": {status: report.count(status) for status in (PASS, FAIL, WARN)},
        "checks": [{**asdict(c), "imports": list(c.imports)} for c in report.checks],
        "imports": report.imports,
    }, indent=2)


def render_junit(report: Report) -> str:
    """One test case per check: failed checks fail, warnings pass with the warning in system-out."""
    suite = ET.Element("testsuite", name=f"{TOOL} · stack {report.stack}", tests=str(len(report.checks)),
                       failures=str(report.count(FAIL)), errors="0", skipped="0")
    props = ET.SubElement(suite, "properties")
    for key, value in (("stack", report.stack), ("account", report.account), ("region", report.region),
                       ("verdict", "ready" if report.ready else "not ready")):
        ET.SubElement(props, "property", name=key, value=value)
    for c in report.checks:
        case = ET.SubElement(suite, "testcase", classname=f"golive.preflight.{c.id.split(':')[0]}", name=c.id, time="0")
        if c.status == FAIL:
            failure = ET.SubElement(case, "failure", type="fail", message=f"{c.title}: {c.detail}")
            failure.text = f"fix: {c.remediation}" if c.remediation else ""
        elif c.status == WARN or c.imports:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join([*( [f"warning: {c.detail}", f"fix: {c.remediation}"] if c.status == WARN else []), *c.imports])
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode")


RENDERERS = {"text": render_text, "json": render_json, "junit": render_junit}


# --------------------------------------------------------------------------- entry point


def stack_secure_config(stack: str, root: pathlib.Path) -> dict[str, Any]:
    """The secret keys of ``Pulumi.<stack>.yaml`` as written (``{"secure": ...}`` or plain), never decrypted."""
    from .engine import stack_file

    data = yaml.safe_load(stack_file(stack, root).read_text()) or {}
    raw = data.get("config") or {}
    return {str(k) if ":" in str(k) else f"golive:{k}": v for k, v in raw.items()
            if str(k).removeprefix("golive:") in SECRET_KEYS}


def load_config(stack: str, root: pathlib.Path) -> StackConfig:
    from components import config as golive_config

    from .engine import load_stack_config

    raw, _ = load_stack_config(stack, root)
    return golive_config.parse({k[len("golive:"):]: v for k, v in raw.items() if k.startswith("golive:")}, stack)


def all_phase_synth(stack: str, root: pathlib.Path) -> Callable[[], Any]:
    """The synth of the stack as its ``all`` phase declares it: where every adopted singleton lives."""

    def load() -> Any:
        from . import engine

        config, secret_keys = engine.load_stack_config(stack, root)
        config["golive:phase"] = "all"
        return engine.synth(stack, config=config, secret_keys=secret_keys)

    return load


def run(stack: str, *, root: pathlib.Path | None = None, clients: Clients | None = None,
        config: StackConfig | None = None, secure_config: dict[str, Any] | None = None,
        synth: Callable[[], Any] | None = None) -> Report:
    """Check the account of ``stack``'s credentials against the stack."""
    from .engine import ROOT

    root = root or ROOT
    config = config or load_config(stack, root)
    secure = secure_config if secure_config is not None else stack_secure_config(stack, root)
    preflight = Preflight(stack, config, clients or default_clients(), synth=synth or all_phase_synth(stack, root),
                          secure_config=secure)
    return preflight.run()
