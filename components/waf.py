"""The web application firewall in front of the load balancer.

A regional WAFv2 web ACL (default allow) with, in evaluation order:

1. the IP block list (an IP set from config; present even when empty, so blocking an
   address is a config change, not a new rule);
2. an optional geo block;
3. a rate limit per client IP, and a tighter one on the login paths (credential
   stuffing shows up as failed-login spikes first); both answer 429;
4. a request-body size limit;
5. AWS managed groups: IP reputation, anonymous IPs (VPNs, Tor, hosting), known bad
   inputs (Log4j, Spring4Shell), the core rule set, SQL injection, Linux and POSIX
   OS attacks, admin-page protection, and optionally Bot Control.

Capacity: the managed groups alone use about 1,575 WCUs, above the 1,500 included in
the base price; WAF accepts up to 5,000 and bills each further 500 WCUs.

Every rule emits CloudWatch metrics and sampled requests. Full logs go to a
KMS-encrypted log group named ``aws-waf-logs-…`` (WAF only delivers to that prefix)
with the ``authorization`` and ``cookie`` headers redacted. Shield Advanced is
optional (``golive:edge.waf.shieldAdvanced``): it needs an organization-wide
subscription (USD 3,000 a month, one-year term) that is bought once, outside this
stack, so only the ALB's protection is declared here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import AwsAccount, WafConfig
from components.kms import EncryptionKey, EncryptionKeyArgs

w = aws.wafv2

# (rule name, AWS managed rule group) in evaluation order; cheap IP-list groups first.
MANAGED_RULE_GROUPS = (
    ("aws-ip-reputation", "AWSManagedRulesAmazonIpReputationList"),
    ("aws-anonymous-ip", "AWSManagedRulesAnonymousIpList"),
    ("aws-known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet"),
    ("aws-common", "AWSManagedRulesCommonRuleSet"),
    ("aws-sqli", "AWSManagedRulesSQLiRuleSet"),
    ("aws-linux", "AWSManagedRulesLinuxRuleSet"),
    ("aws-unix", "AWSManagedRulesUnixRuleSet"),
    ("aws-admin-protection", "AWSManagedRulesAdminProtectionRuleSet"),
)
BOT_CONTROL = ("aws-bot-control", "AWSManagedRulesBotControlRuleSet")
REDACTED_HEADERS = ("authorization", "cookie")


@dataclass(frozen=True)
class WafArgs:
    config: WafConfig
    account: AwsAccount
    load_balancer_arn: pulumi.Input[str]


def _visibility(metric: str) -> w.WebAclRuleVisibilityConfigArgs:
    return w.WebAclRuleVisibilityConfigArgs(cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True)


def _block(status: int | None = None) -> w.WebAclRuleActionArgs:
    response = w.WebAclRuleActionBlockCustomResponseArgs(response_code=status) if status else None
    return w.WebAclRuleActionArgs(block=w.WebAclRuleActionBlockArgs(custom_response=response))


def _path_starts_with(path: str) -> w.WebAclRuleStatementRateBasedStatementScopeDownStatementArgs:
    return w.WebAclRuleStatementRateBasedStatementScopeDownStatementArgs(
        byte_match_statement=w.WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementArgs(
            positional_constraint="STARTS_WITH",
            search_string=path.lower(),
            field_to_match=w.WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchArgs(
                uri_path=w.WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchUriPathArgs()
            ),
            text_transformations=[
                w.WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementTextTransformationArgs(
                    priority=0, type="URL_DECODE"
                ),
                w.WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementTextTransformationArgs(
                    priority=1, type="LOWERCASE"
                ),
            ],
        )
    )


def web_acl_rules(cfg: WafConfig, ip_set_arn: pulumi.Input[str], prefix: str) -> list[w.WebAclRuleArgs]:
    """The web ACL's rules in priority order (priorities are their positions)."""
    rules: list[tuple[str, dict]] = [
        ("blocked-ips", {
            "action": _block(),
            "statement": w.WebAclRuleStatementArgs(
                ip_set_reference_statement=w.WebAclRuleStatementIpSetReferenceStatementArgs(arn=ip_set_arn)
            ),
        }),
    ]
    if cfg.geo_block_countries:
        rules.append(("geo-block", {
            "action": _block(),
            "statement": w.WebAclRuleStatementArgs(
                geo_match_statement=w.WebAclRuleStatementGeoMatchStatementArgs(country_codes=list(cfg.geo_block_countries))
            ),
        }))
    rules.append(("rate-limit-per-ip", {
        "action": _block(429),
        "statement": w.WebAclRuleStatementArgs(
            rate_based_statement=w.WebAclRuleStatementRateBasedStatementArgs(
                aggregate_key_type="IP", limit=cfg.rate_limit, evaluation_window_sec=cfg.rate_window_seconds
            )
        ),
    }))
    paths = [_path_starts_with(p) for p in cfg.login_paths]
    scope = paths[0] if len(paths) == 1 else w.WebAclRuleStatementRateBasedStatementScopeDownStatementArgs(
        or_statement=w.WebAclRuleStatementRateBasedStatementScopeDownStatementOrStatementArgs(statements=paths)
    )
    rules.append(("login-rate-limit-per-ip", {
        "action": _block(429),
        "statement": w.WebAclRuleStatementArgs(
            rate_based_statement=w.WebAclRuleStatementRateBasedStatementArgs(
                aggregate_key_type="IP", limit=cfg.login_rate_limit, evaluation_window_sec=cfg.rate_window_seconds,
                scope_down_statement=scope,
            )
        ),
    }))
    rules.append(("body-size-limit", {
        "action": _block(413),
        "statement": w.WebAclRuleStatementArgs(
            size_constraint_statement=w.WebAclRuleStatementSizeConstraintStatementArgs(
                comparison_operator="GT",
                size=cfg.max_body_bytes,
                field_to_match=w.WebAclRuleStatementSizeConstraintStatementFieldToMatchArgs(
                    # Bodies beyond what WAF can inspect count as too large.
                    body=w.WebAclRuleStatementSizeConstraintStatementFieldToMatchBodyArgs(oversize_handling="MATCH")
                ),
                text_transformations=[w.WebAclRuleStatementSizeConstraintStatementTextTransformationArgs(priority=0, type="NONE")],
            )
        ),
    }))
    groups = [*MANAGED_RULE_GROUPS, *([BOT_CONTROL] if cfg.bot_control else [])]
    for rule_name, group in groups:
        config = None
        if group == BOT_CONTROL[1]:
            config = [w.WebAclRuleStatementManagedRuleGroupStatementManagedRuleGroupConfigArgs(
                aws_managed_rules_bot_control_rule_set=w.WebAclRuleStatementManagedRuleGroupStatementManagedRuleGroupConfigAwsManagedRulesBotControlRuleSetArgs(
                    inspection_level="COMMON"
                )
            )]
        rules.append((rule_name, {
            "override_action": w.WebAclRuleOverrideActionArgs(none=w.WebAclRuleOverrideActionNoneArgs()),
            "statement": w.WebAclRuleStatementArgs(
                managed_rule_group_statement=w.WebAclRuleStatementManagedRuleGroupStatementArgs(
                    name=group, vendor_name="AWS", managed_rule_group_configs=config
                )
            ),
        }))
    return [
        w.WebAclRuleArgs(name=rule_name, priority=priority, visibility_config=_visibility(f"{prefix}-{rule_name}"), **body)
        for priority, (rule_name, body) in enumerate(rules)
    ]


class Waf(pulumi.ComponentResource):
    """Web ACL, IP block list, logging and ALB association (plus optional Shield Advanced)."""

    shield_protection: aws.shield.Protection | None = None

    def __init__(self, name: str, args: WafArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("golive:edge:Waf", name, None, opts)
        cfg, account = args.config, args.account
        child = pulumi.ResourceOptions(parent=self)

        self.ip_set = w.IpSet(
            f"{name}-blocked-ips",
            description="Client addresses always blocked (golive:edge.waf.blockedIps)",
            scope="REGIONAL",
            ip_address_version="IPV4",
            addresses=list(cfg.blocked_ips),
            tags={"Name": f"{name}-blocked-ips"},
            opts=child,
        )
        self.web_acl = w.WebAcl(
            f"{name}-web-acl",
            description=f"{name}: managed rule groups, rate limits, body size, block lists",
            scope="REGIONAL",
            default_action=w.WebAclDefaultActionArgs(allow=w.WebAclDefaultActionAllowArgs()),
            rules=web_acl_rules(cfg, self.ip_set.arn, name),
            visibility_config=w.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=f"{name}-web-acl", sampled_requests_enabled=True
            ),
            tags={"Name": f"{name}-web-acl"},
            opts=child,
        )

        self.log_key = EncryptionKey(
            f"{name}-waf-logs",
            EncryptionKeyArgs(description=f"{name} WAF logs", account=account, service_principals=("logs",)),
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs",
            name=f"aws-waf-logs-{name}",
            retention_in_days=cfg.log_retention_days,
            kms_key_id=self.log_key.arn,
            tags={"Name": f"aws-waf-logs-{name}"},
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        # WAF delivers through CloudWatch Logs' log-delivery service; grant it this group only
        # (otherwise WAF tries to add its own account-wide resource policy).
        self.log_resource_policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-waf-logs",
            policy_name=f"{name}-waf-log-delivery",
            policy_document=self.log_group.arn.apply(lambda arn: json.dumps(_log_delivery_policy(arn, account))),
            opts=child,
        )
        self.logging = w.WebAclLoggingConfiguration(
            f"{name}-waf-logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                w.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=w.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header)
                )
                for header in REDACTED_HEADERS
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_resource_policy]),
        )
        self.association = w.WebAclAssociation(
            f"{name}-waf-alb",
            resource_arn=args.load_balancer_arn,
            web_acl_arn=self.web_acl.arn,
            opts=child,
        )
        if cfg.shield_advanced:
            self.shield_protection = aws.shield.Protection(
                f"{name}-shield",
                name=f"{name}-alb",
                resource_arn=args.load_balancer_arn,
                tags={"Name": f"{name}-shield"},
                opts=child,
            )
        self.register_outputs({"webAclArn": self.web_acl.arn, "ipSetArn": self.ip_set.arn, "logGroupName": self.log_group.name})


def _log_delivery_policy(log_group_arn: str, account: AwsAccount) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WafLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": f"delivery.logs.{account.dns_suffix}"},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn}:*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account.account_id},
                    "ArnLike": {"aws:SourceArn": account.arn("logs", "*")},
                },
            }
        ],
    }
