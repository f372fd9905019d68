"""The Waf component: rules, logging, association, optional Shield Advanced."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.config import ConfigError, WafConfig, parse, waf_min_rate_limit
from components.waf import MANAGED_RULE_GROUPS, Waf, WafArgs, web_acl_rules
from tests.helpers import deps, of_type, one, props

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/edge/0123456789abcdef"


def rules_by_name(acl):
    return {r["name"]: r for r in props(acl)["rules"]}


def waf_program(**waf):
    def program():
        cfg = parse({"edge": {"waf": waf}})
        provider = aws.Provider("aws-primary", region=cfg.region)
        Waf("golive", WafArgs(config=cfg.edge.waf, account=cfg.aws, load_balancer_arn=ALB_ARN),
            opts=pulumi.ResourceOptions(providers={"aws": provider}))

    return program


@pytest.fixture(scope="module")
def optional_rules():
    """A WAF with every optional part switched on."""
    from golive import engine
    from tests.conftest import prod_config

    config, secret_keys = prod_config()
    program = waf_program(geoBlockCountries=["KP", "IR"], blockedIps=["198.51.100.0/24"], botControl=True, shieldAdvanced=True,
                          loginPaths=["/login"], rateLimit=500, loginRateLimit=20, rateWindowSeconds=60, maxBodyBytes=4096)
    return engine.synth("prod", config=config, secret_keys=secret_keys, program=program)


def test_web_acl_is_regional_default_allow_with_at_least_12_rules(prod):
    acl = one(prod, WEB_ACL)
    p = props(acl)
    assert p["scope"] == "REGIONAL" and p["defaultAction"] == {"allow": {}}
    assert len(p["rules"]) >= 12
    priorities = [r["priority"] for r in p["rules"]]
    assert len(set(priorities)) == len(priorities)


def test_every_aws_managed_group_is_present_and_blocks(prod):
    rules = rules_by_name(one(prod, WEB_ACL))
    for rule_name, group in MANAGED_RULE_GROUPS:
        rule = rules[rule_name]
        assert rule["statement"]["managedRuleGroupStatement"] == {"name": group, "vendorName": "AWS"}
        assert rule["overrideAction"] == {"none": {}}
    assert {g for _, g in MANAGED_RULE_GROUPS} >= {
        "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesLinuxRuleSet", "AWSManagedRulesUnixRuleSet", "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesAnonymousIpList", "AWSManagedRulesAdminProtectionRuleSet",
    }
    assert "aws-bot-control" not in rules  # off by default: charged per request


def test_rate_limits_come_from_config_and_answer_429(prod):
    rules = rules_by_name(one(prod, WEB_ACL))
    everyone = rules["rate-limit-per-ip"]
    assert everyone["statement"]["rateBasedStatement"] == {"aggregateKeyType": "IP", "limit": 2000, "evaluationWindowSec": 300}
    assert everyone["action"] == {"block": {"customResponse": {"responseCode": 429}}}
    login = rules["login-rate-limit-per-ip"]["statement"]["rateBasedStatement"]
    assert login["limit"] == 100
    paths = [s["byteMatchStatement"] for s in login["scopeDownStatement"]["orStatement"]["statements"]]
    assert [(m["searchString"], m["positionalConstraint"]) for m in paths] == [("/login", "STARTS_WITH"), ("/auth", "STARTS_WITH")]
    assert all(m["fieldToMatch"] == {"uriPath": {}} for m in paths)


def test_body_size_and_ip_block_list(prod):
    rules = rules_by_name(one(prod, WEB_ACL))
    size = rules["body-size-limit"]["statement"]["sizeConstraintStatement"]
    assert size["comparisonOperator"] == "GT" and size["size"] == 8192
    assert size["fieldToMatch"] == {"body": {"oversizeHandling": "MATCH"}}
    assert rules["body-size-limit"]["action"]["block"]["customResponse"]["responseCode"] == 413
    ip_set = one(prod, "aws:wafv2/ipSet:IpSet")
    assert props(ip_set)["scope"] == "REGIONAL" and props(ip_set)["addresses"] == []
    blocked = rules["blocked-ips"]
    assert blocked["priority"] == 0 and blocked["action"] == {"block": {}}
    assert deps(one(prod, WEB_ACL), "rules") == [ip_set["urn"]]


def test_every_rule_has_metrics_and_sampled_requests(prod):
    acl = props(one(prod, WEB_ACL))
    configs = [acl["visibilityConfig"], *[r["visibilityConfig"] for r in acl["rules"]]]
    assert all(c["cloudwatchMetricsEnabled"] and c["sampledRequestsEnabled"] for c in configs)
    names = [c["metricName"] for c in configs]
    assert len(set(names)) == len(names)


def test_logging_goes_to_an_encrypted_aws_waf_logs_group_with_credentials_redacted(prod):
    logging = one(prod, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    assert deps(logging, "resourceArn") == [one(prod, WEB_ACL)["urn"]]
    redacted = [f["singleHeader"]["name"] for f in props(logging)["redactedFields"]]
    assert redacted == ["authorization", "cookie"]
    (group_urn,) = deps(logging, "logDestinationConfigs")
    group = prod.by_urn()[group_urn]
    assert props(group)["name"].startswith("aws-waf-logs-") and props(group)["retentionInDays"] == 365
    key = prod.by_urn()[deps(group, "kmsKeyId")[0]]
    statements = json.loads(props(key)["policy"])["Statement"]
    assert any(s["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"} for s in statements)


def test_log_delivery_may_write_only_to_the_waf_log_group(prod):
    policy = one(prod, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "waf-logs")
    (statement,) = json.loads(props(policy)["policyDocument"])["Statement"]
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert statement["Resource"].startswith("arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-")
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def test_web_acl_is_associated_with_the_alb(prod):
    association = one(prod, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert deps(association, "resourceArn") == [one(prod, "aws:lb/loadBalancer:LoadBalancer")["urn"]]
    assert deps(association, "webAclArn") == [one(prod, WEB_ACL)["urn"]]


def test_shield_advanced_is_off_by_default(prod):
    assert of_type(prod, "aws:shield/protection:Protection") == []


def test_optional_rules_follow_config(optional_rules):
    rules = rules_by_name(one(optional_rules, WEB_ACL))
    assert rules["geo-block"]["statement"]["geoMatchStatement"] == {"countryCodes": ["KP", "IR"]}
    bot = rules["aws-bot-control"]["statement"]["managedRuleGroupStatement"]
    assert bot["name"] == "AWSManagedRulesBotControlRuleSet"
    assert bot["managedRuleGroupConfigs"] == [{"awsManagedRulesBotControlRuleSet": {"inspectionLevel": "COMMON"}}]
    assert rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"] == {"aggregateKeyType": "IP", "limit": 500, "evaluationWindowSec": 60}
    login = rules["login-rate-limit-per-ip"]["statement"]["rateBasedStatement"]
    assert login["limit"] == 20 and login["scopeDownStatement"]["byteMatchStatement"]["searchString"] == "/login"
    assert rules["body-size-limit"]["statement"]["sizeConstraintStatement"]["size"] == 4096
    assert props(one(optional_rules, "aws:wafv2/ipSet:IpSet"))["addresses"] == ["198.51.100.0/24"]
    assert len(rules) == 14


def test_shield_advanced_protects_the_alb_when_enabled(optional_rules):
    protection = one(optional_rules, "aws:shield/protection:Protection")
    assert props(protection)["resourceArn"] == ALB_ARN


def test_rule_priorities_follow_the_list_order():
    rules = web_acl_rules(WafConfig(geo_block_countries=("KP",), bot_control=True), "arn:ipset", "x")
    assert [r.priority for r in rules] == list(range(len(rules))) and len(rules) == 14
    assert rules[0].name == "blocked-ips" and rules[-1].name == "aws-bot-control"


def test_minimum_rate_limit_depends_on_the_region():
    assert waf_min_rate_limit("eu-west-1") == 10
    assert waf_min_rate_limit("eu-central-2") == 100
    assert waf_min_rate_limit("us-gov-west-1") == 100


@pytest.mark.parametrize(
    "raw, key, rule",
    [
        ({"edge": {"waf": {"rateLimit": 9}}}, "golive:edge.waf.rateLimit", "below AWS WAF's minimum rate limit of 10"),
        ({"region": "eu-central-2", "network": {"availabilityZones": ["eu-central-2a", "eu-central-2b", "eu-central-2c"]},
          "edge": {"waf": {"loginRateLimit": 50}}}, "golive:edge.waf.loginRateLimit", "minimum rate limit of 100 requests per evaluation window in eu-central-2"),
        ({"edge": {"waf": {"loginRateLimit": 3000}}}, "golive:edge.waf.loginRateLimit", "must not exceed rateLimit (2000)"),
        ({"edge": {"waf": {"rateWindowSeconds": 30}}}, "golive:edge.waf.rateWindowSeconds", "60, 120, 300 or 600"),
        ({"edge": {"waf": {"maxBodyBytes": 65536}}}, "golive:edge.waf.maxBodyBytes", "at most 8 KB"),
        ({"edge": {"waf": {"geoBlockCountries": ["North Korea"]}}}, "golive:edge.waf.geoBlockCountries[0]", "alpha-2"),
        ({"edge": {"waf": {"blockedIps": ["198.51.100.1/24"]}}}, "golive:edge.waf.blockedIps[0]", "IPv4 CIDR"),
        ({"edge": {"waf": {"loginPaths": ["login"]}}}, "golive:edge.waf.loginPaths[0]", "starting with /"),
        ({"edge": {"waf": {"loginPaths": []}}}, "golive:edge.waf.loginPaths", "at least one path"),
        ({"edge": {"waf": {"logRetentionDays": 180}}}, "golive:edge.waf.logRetentionDays", "at least 365 days"),
    ],
)
def test_waf_config_errors_name_the_key_and_the_rule(raw, key, rule):
    with pytest.raises(ConfigError) as err:
        parse(raw)
    rendered = [p.render() for p in err.value.problems]
    assert any(line.startswith(f"{key} = ") and rule in line for line in rendered), rendered
