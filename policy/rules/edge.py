"""Edge rules: the ALB's TLS, headers, redirects, logs and protection, and its WAF.

WAF association and logging are stack policies: a web ACL, its association and its
logging configuration are separate resources, joined through the property
dependencies of ``resourceArn`` (ids and ARNs are unknown in a real preview).
"""

from __future__ import annotations

import re

from pulumi_policy import Severity

from . import types as t
from ._base import declare_reference, depends_via, get, is_set, of_type, refers_to, resource_policy, stack_policy

# TLS 1.2+ policies with forward secrecy only (kept in step with components.config.ALLOWED_TLS_POLICIES).
ALLOWED_TLS_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
)
REQUIRED_MANAGED_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesLinuxRuleSet",
    "AWSManagedRulesUnixRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesAdminProtectionRuleSet",
)
HEADER_PROPS = {
    "hsts": "routingHttpResponseStrictTransportSecurityHeaderValue",
    "nosniff": "routingHttpResponseXContentTypeOptionsHeaderValue",
    "frame": "routingHttpResponseXFrameOptionsHeaderValue",
    "csp": "routingHttpResponseContentSecurityPolicyHeaderValue",
}


def _is_alb(props) -> bool:
    return get(props, "loadBalancerType", "application") == "application"


# --------------------------------------------------------------------------- listeners


declare_reference((t.LISTENER,), "certificateArn", (t.CERTIFICATE, "aws:acm/certificateValidation:CertificateValidation"))
declare_reference((t.LOAD_BALANCER,), "accessLogs.bucket", t.S3_BUCKETS)


def _check_tls(args, cfg):
    if get(args.props, "protocol") != "HTTPS":
        return
    policy = get(args.props, "sslPolicy")
    if policy not in cfg["allowedTlsPolicies"]:
        yield (f"HTTPS listener {args.name} uses TLS policy {policy or '(the AWS default, which allows TLS 1.0)'}; "
               f"use one of {', '.join(cfg['allowedTlsPolicies'])}.")
    if not is_set(args.props, "certificateArn"):
        yield f"HTTPS listener {args.name} has no certificate."


listener_tls = resource_policy(
    name="edge-alb-https-tls-policy",
    description="HTTPS listeners use a TLS 1.2+ forward-secret security policy and an ACM certificate.",
    types=(t.LISTENER,),
    check=_check_tls,
    severity=Severity.HIGH,
    category="Security",
    remediation="Set golive:edge.tlsPolicy to ELBSecurityPolicy-TLS13-1-2-2021-06 (or a stricter TLS13 policy).",
    controls=("fsbp:ELB.17", "checkov:CKV_AWS_103"),
    defaults={"allowedTlsPolicies": ALLOWED_TLS_POLICIES},
)


def _hsts_max_age(value: str) -> int | None:
    match = re.search(r"max-age=(\d+)", value or "")
    return int(match.group(1)) if match else None


def _check_headers(args, cfg):
    if get(args.props, "protocol") != "HTTPS":
        return
    props = args.props
    hsts = get(props, HEADER_PROPS["hsts"]) or ""
    max_age = _hsts_max_age(hsts)
    if max_age is None or max_age < cfg["minHstsMaxAge"] or "includesubdomains" not in hsts.lower():
        yield (f"HTTPS listener {args.name}: Strict-Transport-Security is {hsts or 'not set'!r}; it needs "
               f"max-age >= {cfg['minHstsMaxAge']} and includeSubDomains.")
    if (get(props, HEADER_PROPS["nosniff"]) or "").lower() != "nosniff":
        yield f"HTTPS listener {args.name}: X-Content-Type-Options must be nosniff."
    if get(props, HEADER_PROPS["frame"]) not in cfg["allowedFrameOptions"]:
        yield (f"HTTPS listener {args.name}: X-Frame-Options is {get(props, HEADER_PROPS['frame']) or 'not set'}; "
               f"use {' or '.join(cfg['allowedFrameOptions'])}.")
    if not (get(props, HEADER_PROPS["csp"]) or "").strip():
        yield f"HTTPS listener {args.name}: no Content-Security-Policy header."


security_headers = resource_policy(
    name="edge-alb-security-headers",
    description="HTTPS listeners add HSTS (>= 1 year, includeSubDomains), nosniff, X-Frame-Options DENY and a CSP to every response.",
    types=(t.LISTENER,),
    check=_check_headers,
    severity=Severity.MEDIUM,
    category="Security",
    remediation="Keep the Edge component's listener header attributes; set golive:edge.contentSecurityPolicy and hstsMaxAgeSeconds.",
    controls=("owasp-asvs:14.4",),
    defaults={"minHstsMaxAge": 31_536_000, "allowedFrameOptions": ("DENY",)},
)


def _redirects_to_https(action) -> bool:
    return (
        get(action, "type") == "redirect"
        and get(action, "redirect.protocol") == "HTTPS"
        and get(action, "redirect.statusCode") == "HTTP_301"
    )


def _check_http_redirects(args, cfg):
    http = [listener for listener in of_type(args, t.LISTENER) if get(listener.props, "protocol") == "HTTP"]
    for listener in http:
        actions = get(listener.props, "defaultActions") or []
        if not actions or not all(_redirects_to_https(a) for a in actions):
            yield (f"HTTP listener {listener.name} does not only redirect to HTTPS (301); plain HTTP must never reach "
                   "a target."), listener.urn
    for rule in of_type(args, t.LISTENER_RULE):
        if any(refers_to(rule, "listenerArn", listener) for listener in http):
            actions = get(rule.props, "actions") or []
            if not all(_redirects_to_https(a) for a in actions):
                yield f"listener rule {rule.name} on an HTTP listener serves traffic instead of redirecting to HTTPS.", rule.urn


http_redirects_only = stack_policy(
    name="edge-alb-http-redirects-only",
    description="HTTP listeners (and their rules) only redirect to HTTPS with a 301.",
    check=_check_http_redirects,
    types=(t.LISTENER, t.LISTENER_RULE),
    severity=Severity.HIGH,
    category="Security",
    remediation="Give port-80 listeners a single redirect action (protocol HTTPS, port 443, HTTP_301) and no forwarding rules.",
    controls=("fsbp:ELB.1", "checkov:CKV2_AWS_20"),
)

# --------------------------------------------------------------------------- load balancer


def _check_invalid_headers(args, cfg):
    if _is_alb(args.props) and not get(args.props, "dropInvalidHeaderFields"):
        yield f"ALB {args.name} forwards invalid HTTP header fields (request smuggling); set drop_invalid_header_fields=True."


drop_invalid_headers = resource_policy(
    name="edge-alb-drop-invalid-headers",
    description="Application load balancers drop invalid HTTP header fields.",
    types=(t.LOAD_BALANCER,),
    check=_check_invalid_headers,
    severity=Severity.MEDIUM,
    category="Security",
    remediation="Set drop_invalid_header_fields=True on aws.lb.LoadBalancer.",
    controls=("fsbp:ELB.4", "checkov:CKV_AWS_131"),
)


def _check_access_logs(args, cfg):
    if not _is_alb(args.props):
        return
    if not get(args.props, "accessLogs.enabled") or not is_set(args.props, "accessLogs.bucket"):
        yield f"ALB {args.name} has no access logs; request history is gone when an incident needs it."


access_logs = resource_policy(
    name="edge-alb-access-logs",
    description="Application load balancers write access logs to S3.",
    types=(t.LOAD_BALANCER,),
    check=_check_access_logs,
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Pass access_logs=LoadBalancerAccessLogsArgs(bucket=…, enabled=True) (the Edge component's log bucket).",
    controls=("fsbp:ELB.5", "checkov:CKV_AWS_91"),
)


def _check_deletion_protection(args, cfg):
    if _is_alb(args.props) and not get(args.props, "enableDeletionProtection"):
        yield f"ALB {args.name} can be deleted by one mistaken update; set enable_deletion_protection=True."


deletion_protection = resource_policy(
    name="edge-alb-deletion-protection",
    description="Application load balancers have deletion protection on.",
    types=(t.LOAD_BALANCER,),
    check=_check_deletion_protection,
    severity=Severity.MEDIUM,
    category="DR & Business Continuity",
    remediation="Set enable_deletion_protection=True on aws.lb.LoadBalancer.",
    controls=("fsbp:ELB.6", "checkov:CKV_AWS_150"),
)


def _check_waf_associated(args, cfg):
    acls = {acl.urn for acl in of_type(args, t.WEB_ACL)}
    associations = of_type(args, t.WEB_ACL_ASSOCIATION)
    for lb in of_type(args, t.LOAD_BALANCER):
        if not _is_alb(lb.props) or get(lb.props, "internal"):
            continue
        protected = [
            a for a in associations
            if refers_to(a, "resourceArn", lb) and any(d.urn in acls for d in depends_via(a, "webAclArn"))
        ]
        if not protected:
            yield (f"internet-facing ALB {lb.name} has no WAF web ACL associated; it faces the internet unfiltered."), lb.urn


waf_associated = stack_policy(
    name="edge-alb-waf-associated",
    description="Every internet-facing ALB is associated with a WAFv2 web ACL of the stack.",
    check=_check_waf_associated,
    types=(t.LOAD_BALANCER, t.WEB_ACL_ASSOCIATION, t.WEB_ACL),
    severity=Severity.HIGH,
    category="Security",
    remediation="Keep the Edge component's Waf (aws.wafv2.WebAclAssociation with resource_arn=the ALB's ARN).",
    controls=("checkov:CKV2_AWS_28",),
)

# --------------------------------------------------------------------------- WAF


def _managed_groups(props) -> dict[str, dict]:
    groups = {}
    for rule in get(props, "rules") or []:
        name = get(rule, "statement.managedRuleGroupStatement.name")
        if name:
            groups[name] = rule
    return groups


def _check_managed_groups(args, cfg):
    groups = _managed_groups(args.props)
    missing = [g for g in cfg["requiredManagedGroups"] if g not in groups]
    if missing:
        yield f"web ACL {args.name} lacks the AWS managed rule group(s) {', '.join(missing)}."
    counting = [g for g, rule in groups.items() if g in cfg["requiredManagedGroups"] and get(rule, "overrideAction.count") is not None]
    if counting:
        yield f"web ACL {args.name} only counts (does not block) with {', '.join(sorted(counting))}."
    rules = len(get(args.props, "rules") or [])
    if rules < cfg["minRules"]:
        yield f"web ACL {args.name} has {rules} rules; the edge baseline has at least {cfg['minRules']}."


waf_managed_groups = resource_policy(
    name="edge-waf-managed-rule-groups",
    description="Web ACLs block with the AWS managed groups (Common, KnownBadInputs, SQLi, Linux, Unix, IP reputation, "
    "anonymous IPs, admin protection) and have at least 12 rules.",
    types=(t.WEB_ACL,),
    check=_check_managed_groups,
    severity=Severity.HIGH,
    category="Security",
    remediation="Keep components.waf.MANAGED_RULE_GROUPS in the web ACL with override_action none.",
    controls=("checkov:CKV_AWS_192", "fsbp:WAF.10"),
    defaults={"requiredManagedGroups": REQUIRED_MANAGED_GROUPS, "minRules": 12},
)


def _check_rate_rule(args, cfg):
    for rule in get(args.props, "rules") or []:
        rate = get(rule, "statement.rateBasedStatement")
        if rate and get(rule, "action.block") is not None and not get(rate, "scopeDownStatement"):
            if get(rate, "limit", 0) <= cfg["maxLimit"]:
                return
    yield (f"web ACL {args.name} has no blocking rate-based rule over all requests with a limit of at most {cfg['maxLimit']}; "
           "one client can flood the service.")


waf_rate_rule = resource_policy(
    name="edge-waf-rate-based-rule",
    description="Web ACLs block clients that exceed a per-IP rate limit over all requests.",
    types=(t.WEB_ACL,),
    check=_check_rate_rule,
    severity=Severity.HIGH,
    category="Security",
    remediation="Keep the rate-limit-per-ip rule (golive:edge.waf.rateLimit).",
    controls=("well-architected:SEC06-BP03",),
    defaults={"maxLimit": 20_000},
)


def _check_visibility(args, cfg):
    def visible(config) -> bool:
        return bool(get(config, "cloudwatchMetricsEnabled")) and bool(get(config, "sampledRequestsEnabled"))

    if not visible(get(args.props, "visibilityConfig") or {}):
        yield f"web ACL {args.name} has CloudWatch metrics or sampled requests off."
    for rule in get(args.props, "rules") or []:
        if not visible(get(rule, "visibilityConfig") or {}):
            yield f"web ACL {args.name}: rule {get(rule, 'name')} has CloudWatch metrics or sampled requests off."


waf_visibility = resource_policy(
    name="edge-waf-rule-metrics",
    description="Web ACLs and each of their rules emit CloudWatch metrics and keep sampled requests.",
    types=(t.WEB_ACL,),
    check=_check_visibility,
    severity=Severity.LOW,
    category="Monitoring & Alerting",
    remediation="Give every rule visibility_config with cloudwatch_metrics_enabled and sampled_requests_enabled.",
    controls=("fsbp:WAF.12",),
)


def _check_waf_logging(args, cfg):
    logging = of_type(args, t.WEB_ACL_LOGGING)
    groups = {g.urn: g for g in of_type(args, t.LOG_GROUP)}
    for acl in of_type(args, t.WEB_ACL):
        mine = [c for c in logging if refers_to(c, "resourceArn", acl)]
        if not mine:
            yield f"web ACL {acl.name} has no logging configuration; blocked and allowed requests leave no trace.", acl.urn
            continue
        for config in mine:
            redacted = {str(get(f, "singleHeader.name", "")).lower() for f in get(config.props, "redactedFields") or []}
            missing = [h for h in cfg["redactedHeaders"] if h not in redacted]
            if missing:
                yield (f"WAF logging {config.name} writes the {', '.join(missing)} header(s) in clear; redact them "
                       "(credentials and session tokens)."), config.urn
            for dest in depends_via(config, "logDestinationConfigs"):
                group = groups.get(dest.urn)
                if group is not None and not str(get(group.props, "name", "")).startswith("aws-waf-logs-"):
                    yield f"WAF log group {group.name} is not named aws-waf-logs-…; WAF cannot deliver to it.", group.urn


waf_logging = stack_policy(
    name="edge-waf-logging",
    description="Every web ACL logs to an aws-waf-logs-… destination with the authorization and cookie headers redacted.",
    check=_check_waf_logging,
    types=(t.WEB_ACL, t.WEB_ACL_LOGGING, t.LOG_GROUP),
    severity=Severity.MEDIUM,
    category="Monitoring & Alerting",
    remediation="Keep the Waf component's WebAclLoggingConfiguration (redacted_fields for authorization and cookie).",
    controls=("fsbp:WAF.11", "checkov:CKV2_AWS_31"),
    defaults={"redactedHeaders": ("authorization", "cookie")},
)

def _check_target_tls(args, cfg):
    protocol = get(args.props, "protocol")
    if get(args.props, "targetType") == "lambda" or protocol in (None, "HTTPS", "TLS", "GENEVE"):
        return
    if protocol in ("HTTP", "TCP", "UDP", "TCP_UDP"):
        yield (f"target group {args.name} receives {protocol} from its load balancer: traffic inside the VPC is not "
               "encrypted; use HTTPS (or TLS) to the targets.")


target_group_tls = resource_policy(
    name="edge-target-group-tls",
    description="Load balancer target groups receive HTTPS (or TLS): traffic from the load balancer to its targets is encrypted.",
    types=(t.TARGET_GROUP,),
    check=_check_target_tls,
    severity=Severity.MEDIUM,
    category="Security",
    remediation=("Serve TLS in the targets and set protocol='HTTPS' on the target group, or accept the risk with the tag "
                 "golive:exempt:edge-target-group-tls=<reason>."),
    controls=("checkov:CKV_AWS_378",),
)

POLICIES = [
    target_group_tls,
    listener_tls,
    security_headers,
    http_redirects_only,
    drop_invalid_headers,
    access_logs,
    deletion_protection,
    waf_associated,
    waf_managed_groups,
    waf_rate_rule,
    waf_visibility,
    waf_logging,
]
