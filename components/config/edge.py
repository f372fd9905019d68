"""The public edge (``golive:edge``): ALB, ACM, WAF, DNS, for components/edge.py and components/waf.py."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .parser import EXACT_VERSION, NAMESPACE, PRODUCTION_LOG_RETENTION_DAYS, Problem, _check_retention, _Ctx, cross_check, doc, parse_cidr

if TYPE_CHECKING:
    from .services import ServiceConfig
    from .stack import StackConfig


# TLS policies an HTTPS listener may use: TLS 1.2+ with forward secrecy only (the
# TLS13-* family). `ELBSecurityPolicy-TLS13-1-2-2021-06` is AWS's recommended default.
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

# WAF rate-based rules accept a limit of 10 requests per evaluation window since
# August 2024, except in these regions (and GovCloud and China), where it stays 100.
# https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html
_WAF_RATE_LIMIT_100_REGIONS = ("ap-south-2", "eu-south-2", "ap-southeast-4", "eu-central-2", "il-central-1")
WAF_MAX_RATE_LIMIT = 2_000_000_000
# WAF on an ALB inspects at most the first 8 KB of a request body.
WAF_ALB_BODY_INSPECTION_BYTES = 8192
HSTS_MIN_MAX_AGE = 31_536_000  # one year: what HSTS preload lists and scanners require

_DNS_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")


def waf_min_rate_limit(region: str) -> int:
    """The lowest rate-based limit WAF accepts in ``region`` (requests per evaluation window)."""
    if region in _WAF_RATE_LIMIT_100_REGIONS or region.startswith(("us-gov-", "cn-")):
        return 100
    return 10


def _acm_arn(value: str, region: str) -> bool:
    return bool(re.fullmatch(rf"arn:aws(-cn|-us-gov)?:acm:{re.escape(region)}:\d{{12}}:certificate/[0-9a-f-]{{36}}", value))


@dataclass(frozen=True)
class WafConfig:
    """The WAF web ACL in front of the load balancer (``golive:edge.waf``)."""

    rate_limit: int = doc("Requests one client IP may send per evaluation window before WAF blocks it.", 2000)
    MAX_RATE_LIMIT = 20_000
    login_rate_limit: int = doc(
        "Requests one client IP may send to the login paths per evaluation window (credential stuffing, failed-login spikes).", 100
    )
    rate_window_seconds: int = doc("Evaluation window of both rate limits: 60, 120, 300 or 600 seconds.", 300)
    login_paths: tuple[str, ...] = doc("URI path prefixes that get the tighter login rate limit.", ("/login", "/auth"))
    max_body_bytes: int = doc(
        "Largest request body accepted, in bytes; at most 8192 (WAF inspects the first 8 KB of a body on an ALB, larger bodies are blocked).",
        8192,
    )
    geo_block_countries: tuple[str, ...] = doc("ISO 3166 alpha-2 country codes whose requests are blocked (empty: none).", ())
    blocked_ips: tuple[str, ...] = doc("IPv4 CIDR blocks always blocked (the IP block list).", ())
    bot_control: bool = doc("Add the AWS Bot Control managed group (charged per request on top of WAF).", False)
    shield_advanced: bool = doc(
        "Protect the ALB with Shield Advanced: DDoS response team and cost protection, but USD 3,000/month with a one-year "
        "commitment per organization; off by default (Shield Standard protects every ALB at no cost).",
        False,
    )
    log_retention_days: int = doc("Retention of the WAF log group, in days.", 365)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        minimum = waf_min_rate_limit(ctx.region)
        for name, value in (("rateLimit", self.rate_limit), ("loginRateLimit", self.login_rate_limit)):
            if value < minimum:
                problems.append(Problem(f"{key}.{name}", value, f"below AWS WAF's minimum rate limit of {minimum} requests per "
                                        f"evaluation window in {ctx.region}"))
            elif value > WAF_MAX_RATE_LIMIT:
                problems.append(Problem(f"{key}.{name}", value, f"above AWS WAF's maximum rate limit of {WAF_MAX_RATE_LIMIT}"))
        for name, value in (("rateLimit", self.rate_limit), ("loginRateLimit", self.login_rate_limit)):
            if value > self.MAX_RATE_LIMIT:
                problems.append(Problem(f"{key}.{name}", value, f"must be at most {self.MAX_RATE_LIMIT} requests per window: a "
                                        "higher limit lets one client flood the service (policy edge-waf-rate-based-rule)"))
        if self.login_rate_limit > self.rate_limit:
            problems.append(Problem(f"{key}.loginRateLimit", self.login_rate_limit, f"must not exceed rateLimit ({self.rate_limit})"))
        if self.rate_window_seconds not in (60, 120, 300, 600):
            problems.append(Problem(f"{key}.rateWindowSeconds", self.rate_window_seconds, "must be 60, 120, 300 or 600"))
        if not self.login_paths:
            problems.append(Problem(f"{key}.loginPaths", [], "needs at least one path (the login rate limit applies to it)"))
        if len(self.login_paths) > 5:
            problems.append(Problem(f"{key}.loginPaths", list(self.login_paths), "at most 5 paths (WAF statement nesting)"))
        for i, path in enumerate(self.login_paths):
            if not re.fullmatch(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*", path):
                problems.append(Problem(f"{key}.loginPaths[{i}]", path, "must be a URI path starting with /"))
        if not 1 <= self.max_body_bytes <= WAF_ALB_BODY_INSPECTION_BYTES:
            problems.append(Problem(f"{key}.maxBodyBytes", self.max_body_bytes,
                                    f"must be 1 to {WAF_ALB_BODY_INSPECTION_BYTES} (WAF inspects at most 8 KB of an ALB request body)"))
        for i, code in enumerate(self.geo_block_countries):
            if not re.fullmatch(r"[A-Z]{2}", code):
                problems.append(Problem(f"{key}.geoBlockCountries[{i}]", code, "must be an ISO 3166 alpha-2 country code such as KP"))
        for i, cidr in enumerate(self.blocked_ips):
            parse_cidr(f"{key}.blockedIps[{i}]", cidr, problems)
        if len(self.blocked_ips) > 10_000:
            problems.append(Problem(f"{key}.blockedIps", len(self.blocked_ips), "a WAF IP set holds at most 10,000 addresses"))
        _check_retention(f"{key}.logRetentionDays", self.log_retention_days, PRODUCTION_LOG_RETENTION_DAYS, ctx, problems)


@dataclass(frozen=True)
class EdgeConfig:
    """ALB, ACM, WAF, DNS (``golive:edge``). An empty domain means no public edge (no ALB at all)."""

    domain: str = doc("Public DNS domain; the certificate covers it and every catalog host under it. Empty: no public edge.", "")
    hosted_zone_id: str = doc("Route 53 public hosted zone of the domain (certificate validation and alias records).", "")
    tls_policy: str = doc("HTTPS listener security policy (TLS 1.2+ with forward secrecy).", "ELBSecurityPolicy-TLS13-1-2-2021-06")
    idle_timeout_seconds: int = doc("ALB idle connection timeout, 1 to 4000 seconds.", 60)
    content_security_policy: str = doc(
        "Content-Security-Policy header the ALB adds to every response.",
        "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
    )
    hsts_max_age_seconds: int = doc("Strict-Transport-Security max-age (includeSubDomains is always set); at least one year.", 63_072_000)
    access_log_expiry_days: int = doc("Days ALB access logs stay in their S3 bucket.", 365)
    controller_chart_version: str = doc("aws-load-balancer-controller Helm chart version (https://aws.github.io/eks-charts).", "1.17.1")
    waf: WafConfig = doc("Web application firewall.", default_factory=WafConfig)

    def validate(self, key: str, ctx: _Ctx, problems: list[Problem]) -> None:
        if self.domain and not _DNS_NAME.fullmatch(self.domain):
            problems.append(Problem(f"{key}.domain", self.domain, "must be a lowercase DNS name such as example.com"))
        if self.domain and not self.hosted_zone_id:
            problems.append(Problem(f"{key}.hostedZoneId", self.hosted_zone_id, "is required when a domain is set (DNS validation "
                                    "and alias records go there)"))
        elif self.hosted_zone_id and not _HOSTED_ZONE_ID.fullmatch(self.hosted_zone_id):
            problems.append(Problem(f"{key}.hostedZoneId", self.hosted_zone_id, "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ"))
        if self.tls_policy not in ALLOWED_TLS_POLICIES:
            problems.append(Problem(f"{key}.tlsPolicy", self.tls_policy, f"must be a TLS 1.2+ policy: {', '.join(ALLOWED_TLS_POLICIES)}"))
        if not 1 <= self.idle_timeout_seconds <= 4000:
            problems.append(Problem(f"{key}.idleTimeoutSeconds", self.idle_timeout_seconds, "must be 1 to 4000 seconds"))
        csp = self.content_security_policy
        if not csp.strip() or not all(32 <= ord(c) < 127 for c in csp):
            problems.append(Problem(f"{key}.contentSecurityPolicy", csp, "must be a non-empty header value of printable ASCII"))
        if self.hsts_max_age_seconds < HSTS_MIN_MAX_AGE:
            problems.append(Problem(f"{key}.hstsMaxAgeSeconds", self.hsts_max_age_seconds, f"must be at least {HSTS_MIN_MAX_AGE} (one year)"))
        if self.access_log_expiry_days < 1:
            problems.append(Problem(f"{key}.accessLogExpiryDays", self.access_log_expiry_days, "must be at least 1"))
        elif ctx.production and self.access_log_expiry_days < 90:
            problems.append(Problem(f"{key}.accessLogExpiryDays", self.access_log_expiry_days, "production keeps access logs at least 90 days"))
        if not EXACT_VERSION.fullmatch(self.controller_chart_version):
            problems.append(Problem(f"{key}.controllerChartVersion", self.controller_chart_version, "must be an exact chart version such as 1.17.1"))

    def public_hosts(self, services: Sequence[ServiceConfig]) -> tuple[str, ...]:
        """Distinct public hosts of the catalog, in catalog order."""
        return tuple(dict.fromkeys(s.host for s in services if s.host))


def _host_in_domain(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


@cross_check
def _edge_catalog_and_vpn(config: StackConfig, ctx: _Ctx, problems: list[Problem]) -> None:
    """Catalog hosts live under the edge domain and route uniquely; the VPN pool is outside the VPC."""
    domain = config.edge.domain
    routes: dict[tuple[str, str], tuple[int, str]] = {}
    for i, service in enumerate(config.services):
        if not service.host:
            continue
        key = f"{NAMESPACE}:services[{i}].host"
        if not domain:
            problems.append(Problem(key, service.host, "a public host needs golive:edge.domain (the certificate and DNS zone)"))
        elif not _host_in_domain(service.host, domain):
            problems.append(Problem(key, service.host, f"must be {domain} or a name under it (the certificate covers the edge domain only)"))
        # `/api` and `/api/` are one ALB route; exact duplicates are reported by the catalog's own check.
        route = (service.host, service.path_prefix.rstrip("/") or "/")
        if route not in routes:
            routes[route] = (i, service.path_prefix)
        elif routes[route][1] != service.path_prefix:
            problems.append(Problem(f"{NAMESPACE}:services[{i}].pathPrefix", service.path_prefix,
                                    f"{service.host}{route[1]} is already routed to services[{routes[route][0]}]"))
    vpn = config.security.vpn
    try:
        client, vpc = ipaddress.IPv4Network(vpn.client_cidr), ipaddress.IPv4Network(config.network.vpc_cidr)
    except ValueError:
        return
    if client.overlaps(vpc):
        problems.append(Problem(f"{NAMESPACE}:security.vpn.clientCidr", vpn.client_cidr, f"overlaps the VPC CIDR {vpc}"))
