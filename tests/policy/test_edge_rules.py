"""Edge policies: each passes on the real prod stack and fails on a stack that breaks it."""

from __future__ import annotations

import pytest

from tests.helpers import drop, findings, mutate, of_type, one

EDGE_POLICIES = [
    "edge-alb-https-tls-policy",
    "edge-alb-security-headers",
    "edge-alb-http-redirects-only",
    "edge-alb-drop-invalid-headers",
    "edge-alb-access-logs",
    "edge-alb-deletion-protection",
    "edge-alb-waf-associated",
    "edge-waf-managed-rule-groups",
    "edge-waf-rate-based-rule",
    "edge-waf-rule-metrics",
    "edge-waf-logging",
]
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"


@pytest.mark.parametrize("policy", EDGE_POLICIES)
def test_passes_on_the_prod_stack(prod, policy):
    assert findings(prod, policy) == []


def listener(prod, protocol):
    return next(r for r in of_type(prod, LISTENER) if r["inputs"]["protocol"] == protocol)


def change(prod, record, fn):
    return mutate(prod, record["urn"], lambda r: fn(r["inputs"]))


# --------------------------------------------------------------------------- listeners


@pytest.mark.parametrize("policy", ["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-1-2017-01", None])
def test_tls_policy_fails_on_a_weak_or_default_policy(prod, policy):
    https = listener(prod, "HTTPS")
    broken = change(prod, https, lambda p: p.update(sslPolicy=policy) if policy else p.pop("sslPolicy"))
    (finding,) = findings(broken, "edge-alb-https-tls-policy")
    assert finding.urn == https["urn"] and "TLS policy" in finding.message


def test_tls_policy_fails_without_a_certificate(prod):
    broken = change(prod, listener(prod, "HTTPS"), lambda p: p.pop("certificateArn"))
    assert ["no certificate" in f.message for f in findings(broken, "edge-alb-https-tls-policy")] == [True]


@pytest.mark.parametrize(
    "prop, value, expected",
    [
        ("routingHttpResponseStrictTransportSecurityHeaderValue", "max-age=86400; includeSubDomains", "Strict-Transport-Security"),
        ("routingHttpResponseStrictTransportSecurityHeaderValue", "max-age=63072000", "includeSubDomains"),
        ("routingHttpResponseXContentTypeOptionsHeaderValue", None, "nosniff"),
        ("routingHttpResponseXFrameOptionsHeaderValue", "SAMEORIGIN", "X-Frame-Options"),
        ("routingHttpResponseContentSecurityPolicyHeaderValue", None, "Content-Security-Policy"),
    ],
)
def test_security_headers_fail_when_one_is_weak_or_missing(prod, prop, value, expected):
    https = listener(prod, "HTTPS")
    broken = change(prod, https, lambda p: p.update({prop: value}) if value else p.pop(prop))
    (finding,) = findings(broken, "edge-alb-security-headers")
    assert expected in finding.message and finding.urn == https["urn"]


def test_http_listener_that_forwards_fails(prod):
    http = listener(prod, "HTTP")
    broken = change(prod, http, lambda p: p.update(defaultActions=[{"type": "forward", "targetGroupArn": "arn:tg"}]))
    (finding,) = findings(broken, "edge-alb-http-redirects-only")
    assert finding.urn == http["urn"] and "only redirect" in finding.message


def test_http_redirect_with_302_fails(prod):
    broken = change(prod, listener(prod, "HTTP"), lambda p: p["defaultActions"][0]["redirect"].update(statusCode="HTTP_302"))
    assert [f.policy for f in findings(broken, "edge-alb-http-redirects-only")] == ["edge-alb-http-redirects-only"]


def test_forwarding_rule_on_the_http_listener_fails(prod):
    http, https = listener(prod, "HTTP"), listener(prod, "HTTPS")
    rule = next(r for r in of_type(prod, "aws:lb/listenerRule:ListenerRule"))
    broken = mutate(prod, rule["urn"], lambda r: r["propertyDependencies"].update(
        listenerArn=[u if u != https["urn"] else http["urn"] for u in r["propertyDependencies"]["listenerArn"]]))
    (finding,) = findings(broken, "edge-alb-http-redirects-only")
    assert finding.urn == rule["urn"] and "serves traffic" in finding.message


# --------------------------------------------------------------------------- load balancer


@pytest.mark.parametrize(
    "policy, edit, expected",
    [
        ("edge-alb-drop-invalid-headers", lambda p: p.update(dropInvalidHeaderFields=False), "invalid HTTP header"),
        ("edge-alb-access-logs", lambda p: p["accessLogs"].update(enabled=False), "no access logs"),
        ("edge-alb-access-logs", lambda p: p.pop("accessLogs"), "no access logs"),
        ("edge-alb-deletion-protection", lambda p: p.pop("enableDeletionProtection"), "deletion_protection"),
    ],
)
def test_load_balancer_policies_fail_when_the_setting_is_off(prod, policy, edit, expected):
    alb = one(prod, LB)
    (finding,) = findings(change(prod, alb, edit), policy)
    assert finding.urn == alb["urn"] and expected in finding.message


def test_removing_the_waf_association_fails_the_stack(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:wafv2/webAclAssociation:WebAclAssociation")
    (finding,) = findings(broken, "edge-alb-waf-associated")
    assert finding.urn == one(prod, LB)["urn"] and "no WAF web ACL" in finding.message


def test_association_with_something_else_fails(prod):
    association = one(prod, "aws:wafv2/webAclAssociation:WebAclAssociation")
    broken = mutate(prod, association["urn"], lambda r: r["propertyDependencies"].update(resourceArn=[]))
    assert [f.policy for f in findings(broken, "edge-alb-waf-associated")] == ["edge-alb-waf-associated"]


def test_internal_load_balancers_need_no_waf(prod):
    alb = one(prod, LB)
    internal = drop(change(prod, alb, lambda p: p.update(internal=True)),
                    lambda r: r["type"] == "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert findings(internal, "edge-alb-waf-associated") == []


# --------------------------------------------------------------------------- WAF


def without_rule(name):
    return lambda p: p.update(rules=[r for r in p["rules"] if r["name"] != name])


def test_missing_managed_group_fails(prod):
    acl = one(prod, WEB_ACL)
    messages = [f.message for f in findings(change(prod, acl, without_rule("aws-known-bad-inputs")), "edge-waf-managed-rule-groups")]
    assert len(messages) == 2
    assert any(m.endswith("lacks the AWS managed rule group(s) AWSManagedRulesKnownBadInputsRuleSet.") for m in messages)
    assert any("has 11 rules" in m for m in messages)


def test_managed_group_in_count_mode_fails(prod):
    def count(p):
        rule = next(r for r in p["rules"] if r["name"] == "aws-sqli")
        rule["overrideAction"] = {"count": {}}

    (finding,) = findings(change(prod, one(prod, WEB_ACL), count), "edge-waf-managed-rule-groups")
    assert "only counts" in finding.message and "AWSManagedRulesSQLiRuleSet" in finding.message


def test_fewer_than_12_rules_fails(prod):
    acl = one(prod, WEB_ACL)
    broken = change(prod, acl, without_rule("body-size-limit"))
    (finding,) = findings(broken, "edge-waf-managed-rule-groups")
    assert "has 11 rules" in finding.message


def test_missing_rate_based_rule_fails(prod):
    acl = one(prod, WEB_ACL)
    broken = change(prod, acl, without_rule("rate-limit-per-ip"))
    (finding,) = findings(broken, "edge-waf-rate-based-rule")
    assert finding.urn == acl["urn"]  # the login-only rate rule does not cover all requests


def test_counting_rate_rule_fails(prod):
    def count(p):
        next(r for r in p["rules"] if r["name"] == "rate-limit-per-ip")["action"] = {"count": {}}

    assert len(findings(change(prod, one(prod, WEB_ACL), count), "edge-waf-rate-based-rule")) == 1


def test_rule_without_metrics_fails(prod):
    def hide(p):
        p["rules"][3]["visibilityConfig"]["sampledRequestsEnabled"] = False

    (finding,) = findings(change(prod, one(prod, WEB_ACL), hide), "edge-waf-rule-metrics")
    assert "sampled requests" in finding.message


def test_missing_waf_logging_fails(prod):
    broken = drop(prod, lambda r: r["type"] == "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    (finding,) = findings(broken, "edge-waf-logging")
    assert finding.urn == one(prod, WEB_ACL)["urn"]


def test_waf_logging_without_redaction_fails(prod):
    logging = one(prod, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    broken = change(prod, logging, lambda p: p.update(redactedFields=p["redactedFields"][:1]))
    (finding,) = findings(broken, "edge-waf-logging")
    assert finding.urn == logging["urn"] and "cookie" in finding.message and "authorization" not in finding.message


def test_waf_log_group_with_the_wrong_name_fails(prod):
    logging = one(prod, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    group = prod.by_urn()[logging["propertyDependencies"]["logDestinationConfigs"][0]]
    (finding,) = findings(change(prod, group, lambda p: p.update(name="/golive/waf")), "edge-waf-logging")
    assert finding.urn == group["urn"] and "aws-waf-logs-" in finding.message
