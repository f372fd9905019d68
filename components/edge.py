"""The public edge: one internet-facing ALB for every catalog service with a public host.

- The ALB lives in the public subnets. Its security group admits 80 and 443 from the
  internet and nothing else, and reaches only the cluster's nodes, on the catalog's
  service ports (matching ingress rules are added to the node security group).
- HTTPS uses an ACM certificate for the domain and every public host, validated by DNS
  records in the configured Route 53 zone; TLS 1.2+ policy; the HTTP listener only
  redirects to HTTPS (301). The HTTPS listener adds the security headers to every
  response (HSTS, nosniff, X-Frame-Options DENY, the configured CSP) and hides the
  Server header: the ALB sets them, so no proxy in the path can forget them.
- Invalid header fields are dropped, deletion protection is on, access logs go to a
  dedicated S3 bucket (SSE-S3: the only encryption ALB log delivery supports).
- Routing: one IP target group per public service (health check on its readiness
  path), a listener rule per service on host and path prefix (more specific prefixes
  first), and a fixed 404 for anything else.
- Progressive delivery (docs/delivery.md): a ``canary`` service gets a second, canary
  target group and its rule forwards to both, stable 100 / canary 0; Argo Rollouts'
  traffic-router plugin changes those weights during a rollout, so Pulumi ignores
  them. A ``blueGreen`` service gets a preview target group reached on its preview
  host (in the certificate, with its own alias record and rule).
- Pulumi owns the ALB, listeners, target groups and WAF; Kubernetes owns the endpoints.
  The AWS Load Balancer Controller (Helm, IRSA role limited to describing and to
  registering targets in these target groups; it cannot create load balancers) keeps
  each target group in step with the pods behind the service through a
  ``TargetGroupBinding``. Contract with the services' manifests: a Service named after
  the service, in its namespace, exposing the catalog port (and ``<service>-canary`` or
  ``<service>-preview`` for a canary or blue-green service).
- Route 53 alias records point every public host at the ALB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.config import AwsAccount, EdgeConfig, ServiceConfig
from components.helm import chart_release
from components.irsa import service_account_role
from components.log_bucket import LogBucket, LogBucketArgs, server_access_log_writer
from components.waf import Waf, WafArgs

ANYWHERE_V4 = "0.0.0.0/0"
ANYWHERE_V6 = "::/0"
LOAD_BALANCER_ROLE_TAG = {"golive:role": "load-balancer"}
ACCESS_LOG_PREFIX = "alb"
CONTROLLER_NAMESPACE = "kube-system"
CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller"
CONTROLLER_CHART_REPO = "https://aws.github.io/eks-charts"
FIRST_RULE_PRIORITY = 100
RULE_PRIORITY_STEP = 10
# ALB and target group names: at most 32 letters, digits and hyphens, no hyphen at either end.
LB_NAME_MAX = 32
LB_NAME_HASH = 6

# Elastic Load Balancing's log-delivery accounts in regions opened before August 2022;
# newer regions use the `logdelivery.elasticloadbalancing.amazonaws.com` principal.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980", "us-west-2": "797873946194",
    "af-south-1": "098369216593", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127", "eu-west-3": "009996457667",
    "eu-north-1": "897822967062", "ap-east-1": "754344448648", "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887", "ap-northeast-3": "383597477331", "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266", "ap-southeast-3": "589379963580", "ap-south-1": "718504428378",
    "me-south-1": "076674570225", "sa-east-1": "507241528517", "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635", "cn-north-1": "638102146993", "cn-northwest-1": "037604701340",
}


@dataclass(frozen=True)
class EdgeArgs:
    config: EdgeConfig
    services: Sequence[ServiceConfig]
    account: AwsAccount
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    node_security_group_id: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    k8s_provider: k8s.Provider
    service_namespaces: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Namespace of each service (defaults to the service's name); pass the catalog's to order creation."""


@dataclass(frozen=True)
class Route:
    """One listener rule: where a public service is reached."""

    service: ServiceConfig
    priority: int
    host: str
    paths: tuple[str, ...]


# Accepted risks of the edge, each shown in golive's verdict with its reason (golive:exempt:<policy> tags).
TARGET_TLS_POLICY = "edge-target-group-tls"
TARGET_TLS_EXEMPTION = (
    "TLS ends at the ALB; from there to the pods traffic stays on the VPC's private subnets, and only the ALB's security "
    "group may reach the pods' port; end-to-end TLS needs a certificate in every pod (a mesh or cert-manager), which the "
    "platform does not run yet"
)
ALB_LOGS_NOT_REPLICATED = (
    "ALB access logs (and the S3 access logs of their bucket) are request records for investigations, not data the "
    "platform restores; a loss of the region loses the ALB with them"
)
SSE_S3_FOR_S3_ACCESS_LOGS = "S3 delivers server access logs only to buckets encrypted with SSE-S3 (AES256), not SSE-KMS"
SSE_S3_FOR_ALB_LOGS = "Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3 (AES256), not SSE-KMS"

# Ignored on canary rules: Argo Rollouts' traffic-router plugin owns the weights during a rollout.
CANARY_WEIGHTS = "actions[0].forward.targetGroups[*].weight"
# The tag on canary rules; the Argo Rollouts controller may modify only rules that carry it.
CANARY_RULE_TAG = ("golive:delivery", "canary")


def preview_routes(services: Sequence[ServiceConfig]) -> list[Route]:
    """Rules of the blue-green services' preview hosts, after every service rule (same paths, own host)."""
    main = routes(services)
    first = FIRST_RULE_PRIORITY + len(main) * RULE_PRIORITY_STEP
    previews = [r for r in main if r.service.delivery == "blueGreen" and r.service.preview_host]
    return [Route(r.service, first + i * RULE_PRIORITY_STEP, r.service.preview_host, r.paths) for i, r in enumerate(previews)]


def preview_hosts(services: Sequence[ServiceConfig]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.host for r in preview_routes(services)))


def routes(services: Sequence[ServiceConfig]) -> list[Route]:
    """Listener rules for the public services, more specific path prefixes first.

    ALB evaluates rules by ascending priority, so ``/api/v2`` must come before ``/api``
    and ``/`` (host only) last on its host; priorities leave gaps for manual rules.
    """
    public = [s for s in services if s.host]

    def prefix(s: ServiceConfig) -> str:
        return s.path_prefix.rstrip("/")

    ordered = sorted(public, key=lambda s: (-len(prefix(s)), s.host, s.name))
    result = []
    for i, service in enumerate(ordered):
        p = prefix(service)
        result.append(Route(service, FIRST_RULE_PRIORITY + i * RULE_PRIORITY_STEP, service.host, (p, f"{p}/*") if p else ()))
    return result


def lb_name(readable: str, *identity: object) -> str:
    """A deterministic ALB / target-group name of at most 32 characters.

    Pulumi's autonamer appends ``-`` and 7 random characters and refuses names that then
    exceed 32, so the edge names these resources itself: ``readable`` (truncated) plus a
    short hash of ``readable`` and ``identity``. Pass in ``identity`` what makes the name
    unique in the account and region (project, stack, logical name) and the inputs whose
    change replaces the resource: a replacement then gets a new name, so Pulumi's
    create-before-delete never meets a name still in use.
    """
    digest = hashlib.sha256("|".join(map(str, (readable, *identity))).encode()).hexdigest()[:LB_NAME_HASH]
    prefix = "".join(c if c.isalnum() or c == "-" else "-" for c in readable).removeprefix("internal-")
    prefix = prefix[: LB_NAME_MAX - LB_NAME_HASH - 1].strip("-")  # ELB rejects names starting with internal-
    return f"{prefix}-{digest}" if prefix else digest


def security_headers(cfg: EdgeConfig) -> dict[str, str]:
    """The HTTPS listener's response-header attributes (pulumi_aws argument names)."""
    return {
        "routing_http_response_strict_transport_security_header_value": f"max-age={cfg.hsts_max_age_seconds}; includeSubDomains",
        "routing_http_response_x_content_type_options_header_value": "nosniff",
        "routing_http_response_x_frame_options_header_value": "DENY",
        "routing_http_response_content_security_policy_header_value": cfg.content_security_policy,
    }


def access_log_writer(account: AwsAccount) -> Callable[[str], list[dict]]:
    """Bucket policy statements letting Elastic Load Balancing deliver this account's access logs."""

    def statements(bucket_arn: str) -> list[dict]:
        elb_account = ELB_LOG_ACCOUNTS.get(account.region)
        principal = (
            {"AWS": f"arn:{account.partition}:iam::{elb_account}:root"}
            if elb_account
            else {"Service": f"logdelivery.elasticloadbalancing.{account.dns_suffix}"}
        )
        return [
            {
                "Sid": "ElbAccessLogDelivery",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account.account_id}/*",
            }
        ]

    return statements


# Calls of the controller that take no resource ARN (Service Authorization Reference: resource "*"):
# allowed on "*" in the stack's region only.
CONTROLLER_DESCRIBE_ACTIONS = (
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTags",
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeTags",
)


def controller_policy(target_group_arns: Sequence[pulumi.Input[str]], account: AwsAccount, vpc_arn: pulumi.Input[str]) -> dict:
    """What the controller needs to keep TargetGroupBindings in step, and no more.

    The official policy also creates and deletes load balancers, listeners, rules and
    security-group rules for Ingress and Service objects; here Pulumi owns all of
    those, so the controller may only describe and (de)register targets in the edge's
    own target groups. Every action that accepts a resource ARN gets one (the target
    groups, the VPC); the describe calls, which accept none, are limited to the region.
    """
    statements: list[dict] = [
        {
            "Sid": "Describe",
            "Effect": "Allow",
            "Action": list(CONTROLLER_DESCRIBE_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": account.region}},
        },
        {
            "Sid": "ReadSecurityGroupsOfTheVpc",
            "Effect": "Allow",
            "Action": "ec2:GetSecurityGroupsForVpc",
            "Resource": vpc_arn,
        },
    ]
    if target_group_arns:
        statements.append(
            {
                "Sid": "RegisterPodsInEdgeTargetGroups",
                "Effect": "Allow",
                "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                "Resource": list(target_group_arns),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


class Edge(pulumi.ComponentResource):
    """ALB, certificate, listeners, target groups, DNS, WAF and the load balancer controller."""

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:edge:Edge", name, None, opts)
        cfg, account = args.config, args.account
        if not cfg.domain:
            raise ValueError("Edge needs golive:edge.domain")
        child = pulumi.ResourceOptions(parent=self)
        self.routes = routes(args.services)
        self.preview_routes = preview_routes(args.services)
        ports = sorted({r.service.port for r in self.routes})

        self._security_groups(name, args, ports)
        # Who reads or deletes the ALB's logs is recorded in a bucket of its own, the end of that chain.
        self.log_bucket_access_logs = LogBucket(
            f"{name}-alb-logs-access",
            LogBucketArgs(
                purpose="s3-access-logs",
                expiry_days=cfg.access_log_expiry_days,
                writer_statements=lambda arn: [server_access_log_writer(arn, account.account_id, account.dns_suffix)],
                partition=account.partition,
                encryption_exception=SSE_S3_FOR_S3_ACCESS_LOGS,
                exemptions=(("s3-bucket-cross-region-replication", ALB_LOGS_NOT_REPLICATED),),
            ),
            opts=child,
        )
        self.access_logs = LogBucket(
            f"{name}-alb-logs",
            LogBucketArgs(
                purpose="alb-access-logs",
                expiry_days=cfg.access_log_expiry_days,
                writer_statements=access_log_writer(account),
                partition=account.partition,
                encryption_exception=SSE_S3_FOR_ALB_LOGS,
                server_access_log_bucket=self.log_bucket_access_logs.name,
                exemptions=(("s3-bucket-cross-region-replication", ALB_LOGS_NOT_REPLICATED),),
            ),
            opts=child,
        )
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=lb_name(f"{name}-alb", pulumi.get_project(), pulumi.get_stack(), f"{name}-alb", "application", "internet-facing"),
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            security_groups=[self.security_group.id],
            subnets=list(args.public_subnet_ids),
            drop_invalid_header_fields=True,
            enable_deletion_protection=True,
            enable_http2=True,
            desync_mitigation_mode="defensive",
            idle_timeout=cfg.idle_timeout_seconds,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(
                bucket=self.access_logs.bucket.id, prefix=ACCESS_LOG_PREFIX, enabled=True
            ),
            tags={"Name": f"{name}-alb"},
            # ELB checks it may write to the bucket when access logs are switched on.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.access_logs.policy]),
        )
        self._certificate(name, args)
        self._listeners(name, args)
        self._dns(name, args)
        self._controller(name, args)
        self.waf = Waf(
            name, WafArgs(config=cfg.waf, account=account, load_balancer_arn=self.load_balancer.arn), opts=child
        )
        self.register_outputs(
            {
                "loadBalancerArn": self.load_balancer.arn,
                "loadBalancerDnsName": self.load_balancer.dns_name,
                "certificateArn": self.certificate.arn,
                "webAclArn": self.waf.web_acl.arn,
                "accessLogBucket": self.access_logs.bucket.bucket,
                "targetGroupArns": {svc: tg.arn for svc, tg in self.target_groups.items()},
                "canaryTargetGroupArns": {svc: tg.arn for svc, tg in self.canary_target_groups.items()},
                "previewTargetGroupArns": {svc: tg.arn for svc, tg in self.preview_target_groups.items()},
            }
        )

    def _security_groups(self, name: str, args: EdgeArgs, ports: Sequence[int]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-alb-sg",
            description="Internet-facing ALB: HTTP/HTTPS from anywhere, service ports to the EKS nodes only",
            vpc_id=args.vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description=f"{label} from the internet", protocol="tcp", from_port=port, to_port=port,
                    cidr_blocks=[ANYWHERE_V4], ipv6_cidr_blocks=[ANYWHERE_V6],
                )
                for port, label in ((80, "HTTP (redirected to HTTPS)"), (443, "HTTPS"))
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    description=f"Service port {port} on the EKS nodes' pods", protocol="tcp", from_port=port, to_port=port,
                    security_groups=[args.node_security_group_id],
                )
                for port in ports
            ],
            tags={"Name": f"{name}-alb", **LOAD_BALANCER_ROLE_TAG},
            opts=child,
        )
        self.node_ingress_rules = [
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-nodes-from-alb-{port}",
                security_group_id=args.node_security_group_id,
                referenced_security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"Service port {port} from the ALB (IP targets)",
                tags={"Name": f"{name}-nodes-from-alb-{port}"},
                opts=child,
            )
            for port in ports
        ]

    def _certificate(self, name: str, args: EdgeArgs) -> None:
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        domains = list(dict.fromkeys([cfg.domain, *cfg.public_hosts(args.services), *preview_hosts(args.services)]))
        self.certificate = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=domains[0],
            subject_alternative_names=domains[1:],
            validation_method="DNS",
            key_algorithm="RSA_2048",
            options=aws.acm.CertificateOptionsArgs(certificate_transparency_logging_preference="ENABLED"),
            tags={"Name": cfg.domain},
            opts=child,
        )

        def option(domain: str, key: str) -> pulumi.Output[str]:
            return self.certificate.domain_validation_options.apply(
                lambda options: next(getattr(o, key) for o in options if o.domain_name == domain)
            )

        # One record per name, declared up front so a preview shows them; values come from ACM.
        self.validation_records = [
            aws.route53.Record(
                f"{name}-cert-validation-{i}",
                zone_id=cfg.hosted_zone_id,
                name=option(domain, "resource_record_name"),
                type=option(domain, "resource_record_type"),
                records=[option(domain, "resource_record_value")],
                ttl=60,
                allow_overwrite=True,
                opts=child,
            )
            for i, domain in enumerate(domains)
        ]
        self.certificate_validation = aws.acm.CertificateValidation(
            f"{name}-cert-validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[r.fqdn for r in self.validation_records],
            opts=child,
        )

    def _listeners(self, name: str, args: EdgeArgs) -> None:
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)

        def target_group(service: ServiceConfig, role: str) -> aws.lb.TargetGroup:
            suffix = "" if role == "stable" else f"-{role}"
            logical = f"{name}-{service.name}{suffix}-tg"
            return aws.lb.TargetGroup(
                logical,
                name=lb_name(f"{service.name}{suffix}", pulumi.get_project(), pulumi.get_stack(), logical,
                             "ip", "HTTP", "HTTP1", service.port),
                target_type="ip",
                protocol="HTTP",
                protocol_version="HTTP1",
                port=service.port,
                vpc_id=args.vpc_id,
                deregistration_delay=30,
                health_check=aws.lb.TargetGroupHealthCheckArgs(
                    enabled=True, protocol="HTTP", port="traffic-port", path=service.ready_path, matcher="200-399",
                    interval=15, timeout=5, healthy_threshold=2, unhealthy_threshold=3,
                ),
                tags={"Name": f"{name}-{service.name}{suffix}", "golive:service": service.name, "golive:role": role,
                      f"golive:exempt:{TARGET_TLS_POLICY}": TARGET_TLS_EXEMPTION},
                opts=child,
            )

        self.target_groups: dict[str, aws.lb.TargetGroup] = {}
        self.canary_target_groups: dict[str, aws.lb.TargetGroup] = {}
        self.preview_target_groups: dict[str, aws.lb.TargetGroup] = {}
        for route in self.routes:
            service = route.service
            self.target_groups[service.name] = target_group(service, "stable")
            if service.delivery == "canary":
                self.canary_target_groups[service.name] = target_group(service, "canary")
        for route in self.preview_routes:
            self.preview_target_groups[route.service.name] = target_group(route.service, "preview")
        self.https_listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=cfg.tls_policy,
            certificate_arn=self.certificate_validation.certificate_arn,
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="fixed-response",
                    fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                        content_type="text/plain", message_body="Not Found", status_code="404"
                    ),
                )
            ],
            routing_http_response_server_enabled=False,
            **security_headers(cfg),
            tags={"Name": f"{name}-https"},
            opts=child,
        )
        self.http_listener = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port="443", status_code="HTTP_301"),
                )
            ],
            tags={"Name": f"{name}-http"},
            opts=child,
        )
        self.listener_rules = {}
        self.preview_listener_rules = {}

        def conditions(route: Route) -> list[aws.lb.ListenerRuleConditionArgs]:
            result = [aws.lb.ListenerRuleConditionArgs(host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=[route.host]))]
            if route.paths:
                result.append(
                    aws.lb.ListenerRuleConditionArgs(path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(route.paths)))
                )
            return result

        for route in self.routes:
            svc = route.service.name
            canary = self.canary_target_groups.get(svc)
            if canary is None:
                action = aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_groups[svc].arn)
                rule_opts = child
            else:
                action = aws.lb.ListenerRuleActionArgs(
                    type="forward",
                    forward=aws.lb.ListenerRuleActionForwardArgs(target_groups=[
                        aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=self.target_groups[svc].arn, weight=100),
                        aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=canary.arn, weight=0),
                    ]),
                )
                rule_opts = pulumi.ResourceOptions(parent=self, ignore_changes=[CANARY_WEIGHTS])
            self.listener_rules[svc] = aws.lb.ListenerRule(
                f"{name}-{svc}-rule",
                listener_arn=self.https_listener.arn,
                priority=route.priority,
                conditions=conditions(route),
                actions=[action],
                tags={"Name": f"{name}-{svc}", "golive:service": svc, **(dict([CANARY_RULE_TAG]) if canary is not None else {})},
                opts=rule_opts,
            )
        for route in self.preview_routes:
            svc = route.service.name
            self.preview_listener_rules[svc] = aws.lb.ListenerRule(
                f"{name}-{svc}-preview-rule",
                listener_arn=self.https_listener.arn,
                priority=route.priority,
                conditions=conditions(route),
                actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.preview_target_groups[svc].arn)],
                tags={"Name": f"{name}-{svc}-preview", "golive:service": svc, "golive:role": "preview"},
                opts=child,
            )

    def _dns(self, name: str, args: EdgeArgs) -> None:
        cfg = args.config
        self.alias_records = {
            host: aws.route53.Record(
                f"{name}-alias-{host.replace('.', '-')}",
                zone_id=cfg.hosted_zone_id,
                name=host,
                type="A",
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=self.load_balancer.dns_name, zone_id=self.load_balancer.zone_id, evaluate_target_health=True
                    )
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for host in (*cfg.public_hosts(args.services), *preview_hosts(args.services))
        }

    def _controller(self, name: str, args: EdgeArgs) -> None:
        cfg, account = args.config, args.account
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        self.controller_role = service_account_role(
            f"{name}-lb-controller",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer=args.oidc_issuer,
            namespace=CONTROLLER_NAMESPACE,
            service_account=CONTROLLER_SERVICE_ACCOUNT,
            policy_documents=[controller_policy([tg.arn for groups in (self.target_groups, self.canary_target_groups,
                                                                       self.preview_target_groups) for tg in groups.values()],
                                                account, pulumi.Output.concat(account.arn("ec2", "vpc/"), args.vpc_id))],
            account=account,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.controller = chart_release(
            f"{name}-lb-controller",
            release="aws-load-balancer-controller",
            chart="aws-load-balancer-controller",
            version=cfg.controller_chart_version,
            repo=CONTROLLER_CHART_REPO,
            namespace=CONTROLLER_NAMESPACE,
            atomic=True,
            values={
                "clusterName": args.cluster_name,
                "region": account.region,
                "vpcId": args.vpc_id,
                "replicaCount": 2,
                "podDisruptionBudget": {"maxUnavailable": 1},
                "serviceAccount": {
                    "create": True,
                    "name": CONTROLLER_SERVICE_ACCOUNT,
                    "annotations": {"eks.amazonaws.com/role-arn": self.controller_role.arn},
                },
                # Pulumi owns the ALB and its WAF: no IngressClass, no add-on reconciliation.
                "createIngressClassResource": False,
                "enableServiceMutatorWebhook": False,
                "enableShield": False,
                "enableWaf": False,
                "enableWafv2": False,
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            },
            opts=k8s_opts,
        )
        self.target_group_bindings = {}
        bindings = [(svc, svc, tg) for svc, tg in self.target_groups.items()]
        bindings += [(svc, f"{svc}-canary", tg) for svc, tg in self.canary_target_groups.items()]
        bindings += [(svc, f"{svc}-preview", tg) for svc, tg in self.preview_target_groups.items()]
        ports = {r.service.name: r.service.port for r in self.routes}
        for svc, service_name, group in bindings:
            namespace = args.service_namespaces.get(svc, svc)
            self.target_group_bindings[service_name] = k8s.apiextensions.CustomResource(
                f"{name}-{service_name}-tgb",
                api_version="elbv2.k8s.aws/v1beta1",
                kind="TargetGroupBinding",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=service_name, namespace=namespace, labels={"golive.io/service": svc}
                ),
                spec={
                    "serviceRef": {"name": service_name, "port": ports[svc]},
                    "targetGroupARN": group.arn,
                    "targetType": "ip",
                },
                opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[self.controller]),
            )
