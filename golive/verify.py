"""``python -m golive verify``: the post-deploy check of the live endpoints.

``golive check`` proves the declaration; this proves what answers on the internet after
``pulumi up``. For every public host of the catalog (from the stack outputs
``publicHosts``, ``publicServices`` and ``loadBalancerDnsName``) it checks, one result
per check:

- ``dns``: the host resolves to the load balancer's addresses, and only to them;
- ``tls-1.2-accepted``, ``tls-1.0-refused``, ``tls-1.1-refused``: only TLS 1.2+ is spoken
  (the old versions are offered with OpenSSL's security level 0, so a refusal is the
  endpoint's and not this client's);
- ``certificate-chain`` (chains to a trusted root: the system's, or ``--ca``),
  ``certificate-host`` (a subjectAltName matches the host), ``certificate-expiry``
  (more than 30 days left);
- ``http-redirect``: plain HTTP answers 301 to ``https://<host>``;
- ``header-hsts`` (max-age of a year or more, includeSubDomains), ``header-nosniff``,
  ``header-frame-options`` (DENY), ``header-csp`` (present);
- per service ``health:<service>`` and ``ready:<service>`` (200) and
  ``latency:<service>``: the p95 of N requests to the health path under the service's
  latency SLO threshold;
- ``waf-sqli-blocked``: an obviously malicious query string is answered 403;
- ``unknown-host-no-backend``: a host the load balancer does not route gets no backend
  (its default 404, or a 4xx refusal), never a service's answer.

``--url URL --host HOST [--ca FILE]`` checks one endpoint (staging, tests) without the
stack: the connection goes to the URL's address, SNI and ``Host`` are ``HOST``, and the
DNS check is skipped. Exit codes: 0 every check passed, 1 one failed, 2 a usage error.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import pathlib
import secrets
import socket
import ssl
import subprocess
import tempfile
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from .engine import UsageError

# What the checks require, from the platform's requirements (not read back from the program).
HSTS_MIN_MAX_AGE = 31_536_000  # one year
CERTIFICATE_MIN_DAYS = 30
SQLI_QUERY = "id=" + quote("1' OR '1'='1' --", safe="")
NO_BACKEND_STATUSES = (400, 403, 404, 421)
"""What a host the load balancer does not route may get: its fixed 404, or a refusal; never a service's response."""
DEFAULT_REQUESTS = 20

PASS, FAIL, SKIP = "pass", "fail", "skip"
REQUIRED_OUTPUTS = ("publicHosts", "publicServices", "loadBalancerDnsName")


@dataclass(frozen=True)
class Service:
    """A catalog service behind a host: where its health lives and how fast it must answer."""

    name: str
    health_path: str = "/health"
    ready_path: str = "/ready"
    path_prefix: str = "/"
    latency_threshold_seconds: float = 1.0

    def public_path(self, path: str) -> str:
        """The ALB forwards paths unchanged: a service under a prefix serves its paths under it."""
        prefix = self.path_prefix.rstrip("/")
        return f"{prefix}{path}" if prefix and not path.startswith(prefix + "/") else path


@dataclass(frozen=True)
class Endpoint:
    host: str
    """The public host: SNI, ``Host`` header and the name the certificate must match."""
    services: tuple[Service, ...]
    address: str | None = None
    """Connect here instead of resolving ``host`` (``--url``)."""
    https_port: int = 443
    http_port: int = 80
    load_balancer: str | None = None
    """The DNS name ``host`` must resolve to; None skips the DNS check."""

    @property
    def connect_to(self) -> str:
        return self.address or self.host


@dataclass(frozen=True)
class Options:
    requests: int = DEFAULT_REQUESTS
    timeout: float = 10.0
    ca_file: str | None = None


@dataclass(frozen=True)
class Result:
    host: str
    check: str
    status: str
    detail: str
    seconds: float = 0.0


@dataclass
class Report:
    source: str
    results: list[Result] = field(default_factory=list)

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.status == FAIL]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


Resolver = Callable[[str], set[str]]


def resolve(name: str) -> set[str]:
    """Every address ``name`` resolves to (IPv4 and IPv6)."""
    try:
        return {info[4][0] for info in socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)}
    except socket.gaierror:
        return set()


# --------------------------------------------------------------------------- stack outputs


def read_outputs(stack: str, outputs_file: str | None) -> dict[str, Any]:
    """``pulumi stack output --json`` of the stack, or the file that holds it."""
    if outputs_file:
        try:
            data = json.loads(pathlib.Path(outputs_file).read_text())
        except (OSError, ValueError) as err:
            raise UsageError(f"verify: cannot read stack outputs {outputs_file}: {err}") from None
    else:
        try:
            proc = subprocess.run(["pulumi", "stack", "output", "--json", "--stack", stack], capture_output=True, text=True,
                                  timeout=120)
        except FileNotFoundError:
            raise UsageError("verify: the pulumi CLI is not installed here; pass --outputs FILE "
                             "(from `pulumi stack output --json`) or --url URL --host HOST") from None
        except subprocess.TimeoutExpired:
            raise UsageError("verify: `pulumi stack output` did not answer within 120 s") from None
        if proc.returncode != 0:
            raise UsageError(f"verify: `pulumi stack output --json --stack {stack}` failed: {proc.stderr.strip()}")
        try:
            data = json.loads(proc.stdout)
        except ValueError as err:
            raise UsageError(f"verify: `pulumi stack output` printed no JSON: {err}") from None
    if not isinstance(data, dict):
        raise UsageError("verify: the stack outputs are not a JSON object")
    return data


def endpoints_from_outputs(outputs: Mapping[str, Any], https_port: int = 443, http_port: int = 80) -> list[Endpoint]:
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise UsageError(f"verify: the stack outputs lack {', '.join(missing)} (a stack without a public edge has nothing to "
                         "verify; otherwise run `pulumi up` with this program first)")
    hosts, services, lb = outputs["publicHosts"], outputs["publicServices"], outputs["loadBalancerDnsName"]
    if not isinstance(hosts, list) or not isinstance(services, list) or not isinstance(lb, str) or not lb:
        raise UsageError("verify: publicHosts and publicServices must be lists and loadBalancerDnsName a name")
    result = []
    for host in hosts:
        behind = []
        for s in services:
            if not isinstance(s, Mapping) or s.get("host") != host:
                continue
            try:
                behind.append(Service(name=str(s["service"]), health_path=str(s["healthPath"]), ready_path=str(s["readyPath"]),
                                      path_prefix=str(s.get("pathPrefix", "/")),
                                      latency_threshold_seconds=float(s["latencyThresholdSeconds"])))
            except (KeyError, TypeError, ValueError) as err:
                raise UsageError(f"verify: publicServices entry for {host} is incomplete: {err}") from None
        result.append(Endpoint(host=str(host), services=tuple(behind), https_port=https_port, http_port=http_port,
                               load_balancer=lb))
    return result


def endpoint_from_url(url: str, host: str, service: Service, http_port: int | None = None) -> Endpoint:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError(f"verify: --url must be https://ADDRESS[:PORT], not {url!r}")
    return Endpoint(host=host, services=(service,), address=parts.hostname, https_port=parts.port or 443,
                    http_port=http_port or 80)


# --------------------------------------------------------------------------- TLS


class _Pinned(http.client.HTTPSConnection):
    """HTTPS to a fixed address with the host's SNI (``--url`` and ``--resolve``-style checks)."""

    def __init__(self, endpoint: Endpoint, context: ssl.SSLContext, timeout: float):
        super().__init__(endpoint.host, endpoint.https_port, context=context, timeout=timeout)
        self._address = endpoint.connect_to

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _client_context(minimum: ssl.TLSVersion | None = ssl.TLSVersion.TLSv1_2, maximum: ssl.TLSVersion | None = None,
                    verify: bool = False, ca_file: str | None = None) -> ssl.SSLContext:
    if verify:
        context = ssl.create_default_context(cafile=ca_file)
        context.check_hostname = False  # the host is matched by its own check
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated: that is what is being probed
        if minimum is not None:
            context.minimum_version = minimum
        if maximum is not None:
            context.maximum_version = maximum
    return context


def _handshake(endpoint: Endpoint, context: ssl.SSLContext, timeout: float) -> tuple[str, bytes]:
    """(negotiated version, leaf certificate DER) or the exception of a failed handshake."""
    with socket.create_connection((endpoint.connect_to, endpoint.https_port), timeout) as sock:
        with context.wrap_socket(sock, server_hostname=endpoint.host) as tls:
            return tls.version() or "", tls.getpeercert(binary_form=True) or b""


def _decode_certificate(der: bytes) -> dict[str, Any]:
    """The leaf's subject, subjectAltName and dates, as the ssl module decodes them (no verification involved)."""
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(ssl.DER_cert_to_PEM_cert(der))
        return ssl._ssl._test_decode_cert(path)  # noqa: SLF001 the only decoder in the standard library
    finally:
        os.unlink(path)


def host_matches(host: str, names: Iterable[str]) -> bool:
    """RFC 6125: exact match, or a wildcard as the whole left-most label matching exactly one label."""
    host = host.lower().rstrip(".")
    for name in names:
        name = name.lower().rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "*" not in name[2:]:
            label, _, rest = host.partition(".")
            if label and rest == name[2:]:
                return True
    return False


def _old_version_refused(endpoint: Endpoint, version: ssl.TLSVersion, label: str, options: Options) -> tuple[str, str]:
    try:
        context = _client_context(minimum=version, maximum=version)
        context.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as err:
        return FAIL, f"this machine's OpenSSL cannot offer {label} ({err}), so its refusal is unproven"
    try:
        negotiated, _ = _handshake(endpoint, context, options.timeout)
    except ssl.SSLError as err:
        reason = getattr(err, "reason", None) or str(err)
        if reason == "NO_PROTOCOLS_AVAILABLE":
            return FAIL, f"this machine's OpenSSL cannot offer {label}, so its refusal is unproven"
        return PASS, f"{label} refused ({reason})"
    except (ConnectionError, TimeoutError, OSError) as err:
        return PASS, f"{label} refused (connection closed: {err.__class__.__name__})"
    return FAIL, f"the endpoint accepted {negotiated or label}: only TLS 1.2 and 1.3 may be spoken"


def tls_checks(endpoint: Endpoint, options: Options) -> list[tuple[str, str, str]]:
    checks: list[tuple[str, str, str]] = []
    der = b""
    try:
        negotiated, der = _handshake(endpoint, _client_context(), options.timeout)
        checks.append(("tls-1.2-accepted", PASS, f"{negotiated} negotiated"))
    except (ssl.SSLError, OSError) as err:
        checks.append(("tls-1.2-accepted", FAIL, f"no TLS 1.2+ handshake: {err}"))
    checks.append(("tls-1.0-refused", *_old_version_refused(endpoint, ssl.TLSVersion.TLSv1, "TLS 1.0", options)))
    checks.append(("tls-1.1-refused", *_old_version_refused(endpoint, ssl.TLSVersion.TLSv1_1, "TLS 1.1", options)))

    try:
        _handshake(endpoint, _client_context(verify=True, ca_file=options.ca_file), options.timeout)
        trust = f"the roots in {options.ca_file}" if options.ca_file else "the system's roots"
        checks.append(("certificate-chain", PASS, f"chains to {trust}"))
    except ssl.SSLCertVerificationError as err:
        checks.append(("certificate-chain", FAIL, f"does not verify: {err.verify_message}"))
    except (ssl.SSLError, OSError) as err:
        checks.append(("certificate-chain", FAIL, f"no handshake: {err}"))

    if not der:
        checks += [("certificate-host", FAIL, "no certificate received"), ("certificate-expiry", FAIL, "no certificate received")]
        return checks
    cert = _decode_certificate(der)
    names = [value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"]
    if host_matches(endpoint.host, names):
        checks.append(("certificate-host", PASS, f"{endpoint.host} is among {', '.join(names)}"))
    else:
        checks.append(("certificate-host", FAIL, f"issued for {', '.join(names) or 'no DNS name'}, not {endpoint.host}"))
    expires = ssl.cert_time_to_seconds(cert["notAfter"])
    days = (expires - time.time()) / 86400
    if days > CERTIFICATE_MIN_DAYS:
        checks.append(("certificate-expiry", PASS, f"{days:.0f} days left (expires {cert['notAfter']})"))
    elif days < 0:
        checks.append(("certificate-expiry", FAIL, f"expired {-days:.0f} days ago ({cert['notAfter']})"))
    else:
        checks.append(("certificate-expiry", FAIL, f"only {days:.0f} days left (expires {cert['notAfter']}); renew before "
                                                   f"{CERTIFICATE_MIN_DAYS}"))
    return checks


# --------------------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    seconds: float


class _Client:
    """One keep-alive HTTPS connection to the endpoint; the TLS handshake is not part of a request's time."""

    def __init__(self, endpoint: Endpoint, options: Options):
        self.endpoint, self.options = endpoint, options
        self.connection = _Pinned(endpoint, _client_context(), options.timeout)

    def get(self, path: str, host: str | None = None) -> Response:
        if self.connection.sock is None:
            self.connection.connect()
        started = time.perf_counter()
        self.connection.request("GET", path, headers={"Host": host or self.endpoint.host, "User-Agent": "golive-verify"})
        response = self.connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.will_close:
            self.connection.close()
        return Response(response.status, response.headers, elapsed)

    def close(self) -> None:
        self.connection.close()


def _hsts(value: str | None) -> tuple[str, str]:
    if not value:
        return FAIL, "no Strict-Transport-Security header"
    directives = {d.strip().split("=", 1)[0].lower(): (d.split("=", 1)[1].strip().strip('"') if "=" in d else "")
                  for d in value.split(";") if d.strip()}
    try:
        max_age = int(directives.get("max-age", ""))
    except ValueError:
        return FAIL, f"Strict-Transport-Security without a max-age: {value!r}"
    problems = []
    if max_age < HSTS_MIN_MAX_AGE:
        problems.append(f"max-age {max_age} is under a year ({HSTS_MIN_MAX_AGE})")
    if "includesubdomains" not in directives:
        problems.append("no includeSubDomains")
    return (FAIL, f"{value!r}: {'; '.join(problems)}") if problems else (PASS, value)


def header_checks(response: Response) -> list[tuple[str, str, str]]:
    headers = response.headers
    nosniff = headers.get("X-Content-Type-Options")
    frames = headers.get("X-Frame-Options")
    csp = headers.get("Content-Security-Policy")
    return [
        ("header-hsts", *_hsts(headers.get("Strict-Transport-Security"))),
        ("header-nosniff", PASS if (nosniff or "").strip().lower() == "nosniff" else FAIL,
         f"X-Content-Type-Options: {nosniff}" if nosniff else "no X-Content-Type-Options header"),
        ("header-frame-options", PASS if (frames or "").strip().upper() == "DENY" else FAIL,
         f"X-Frame-Options: {frames}" if frames else "no X-Frame-Options header"),
        ("header-csp", PASS if (csp or "").strip() else FAIL, f"Content-Security-Policy: {csp}" if csp else "no Content-Security-Policy header"),
    ]


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in (0, 1])."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def redirect_check(endpoint: Endpoint, options: Options) -> tuple[str, str]:
    path = endpoint.services[0].public_path("/") if endpoint.services else "/"
    connection = http.client.HTTPConnection(endpoint.connect_to, endpoint.http_port, timeout=options.timeout)
    try:
        connection.request("GET", path, headers={"Host": endpoint.host, "User-Agent": "golive-verify"})
        response = connection.getresponse()
        response.read()
    except OSError as err:
        return FAIL, f"no HTTP answer on port {endpoint.http_port}: {err}"
    finally:
        connection.close()
    location = response.getheader("Location") or ""
    target = urlsplit(location)
    if response.status != 301:
        return FAIL, f"HTTP answered {response.status}{f' to {location}' if location else ''}, not 301 to HTTPS"
    if target.scheme != "https" or (target.hostname or "").lower() != endpoint.host.lower():
        return FAIL, f"301 to {location!r}, not to https://{endpoint.host}"
    return PASS, f"301 to {location}"


def service_checks(client: _Client, service: Service, options: Options) -> list[tuple[str, str, str]]:
    checks = []
    for label, path in (("health", service.health_path), ("ready", service.ready_path)):
        public = service.public_path(path)
        try:
            response = client.get(public)
            ok = response.status == 200
            checks.append((f"{label}:{service.name}", PASS if ok else FAIL, f"GET {public}: {response.status}"))
        except OSError as err:
            checks.append((f"{label}:{service.name}", FAIL, f"GET {public}: {err}"))
    public = service.public_path(service.health_path)
    times, statuses = [], set()
    try:
        for _ in range(options.requests):
            response = client.get(public)
            times.append(response.seconds)
            statuses.add(response.status)
    except OSError as err:
        checks.append((f"latency:{service.name}", FAIL, f"request {len(times) + 1} of {options.requests} failed: {err}"))
        return checks
    p95 = percentile(times, 0.95)
    threshold = service.latency_threshold_seconds
    detail = f"p95 of {len(times)} requests to {public}: {p95 * 1000:.0f} ms (SLO threshold {threshold * 1000:.0f} ms)"
    if statuses != {200}:
        checks.append((f"latency:{service.name}", FAIL, f"{detail}, but answered {sorted(statuses)}"))
    else:
        checks.append((f"latency:{service.name}", PASS if p95 < threshold else FAIL, detail))
    return checks


def probe_checks(client: _Client, endpoint: Endpoint) -> list[tuple[str, str, str]]:
    prefix = endpoint.services[0].public_path("/") if endpoint.services else "/"
    checks = []
    try:
        response = client.get(f"{prefix}?{SQLI_QUERY}")
        checks.append(("waf-sqli-blocked", PASS if response.status == 403 else FAIL,
                       f"GET {prefix}?{SQLI_QUERY}: {response.status}" + ("" if response.status == 403 else ", not 403: the WAF let it through")))
    except OSError as err:
        checks.append(("waf-sqli-blocked", FAIL, f"no answer to the probe: {err}"))
    unknown = f"golive-verify-{secrets.token_hex(4)}.invalid"
    try:
        response = client.get("/", host=unknown)
        ok = response.status in NO_BACKEND_STATUSES
        checks.append(("unknown-host-no-backend", PASS if ok else FAIL,
                       f"Host {unknown}: {response.status}" + ("" if ok else ", an answer from a backend")))
    except OSError as err:
        checks.append(("unknown-host-no-backend", PASS, f"Host {unknown}: connection refused ({err.__class__.__name__})"))
    return checks


# --------------------------------------------------------------------------- running


def dns_check(endpoint: Endpoint, resolver: Resolver) -> tuple[str, str]:
    if endpoint.load_balancer is None:
        return SKIP, "checking one endpoint by address (--url): no DNS name to compare"
    host_addresses = resolver(endpoint.host)
    if not host_addresses:
        return FAIL, f"{endpoint.host} does not resolve"
    balancer = resolver(endpoint.load_balancer) or set()
    stray = host_addresses - balancer
    if stray:  # load balancer addresses rotate: ask once more before calling it wrong
        balancer |= resolver(endpoint.load_balancer)
        stray = host_addresses - balancer
    if stray:
        return FAIL, f"{endpoint.host} resolves to {', '.join(sorted(stray))}, not to {endpoint.load_balancer} ({', '.join(sorted(balancer)) or 'unresolvable'})"
    return PASS, f"{endpoint.host} → {', '.join(sorted(host_addresses))} = {endpoint.load_balancer}"


def verify_endpoint(endpoint: Endpoint, options: Options, resolver: Resolver = resolve) -> list[Result]:
    results: list[Result] = []

    def record(check: str, status: str, detail: str, started: float) -> None:
        results.append(Result(endpoint.host, check, status, detail, round(time.perf_counter() - started, 3)))

    started = time.perf_counter()
    record("dns", *dns_check(endpoint, resolver), started)
    started = time.perf_counter()
    for check, status, detail in tls_checks(endpoint, options):
        record(check, status, detail, started)
        started = time.perf_counter()
    record("http-redirect", *redirect_check(endpoint, options), started)

    client = _Client(endpoint, options)
    try:
        started = time.perf_counter()
        first = endpoint.services[0] if endpoint.services else Service("(none)")
        try:
            response = client.get(first.public_path(first.health_path))
            for check, status, detail in header_checks(response):
                record(check, status, detail, started)
        except OSError as err:
            for check in ("header-hsts", "header-nosniff", "header-frame-options", "header-csp"):
                record(check, FAIL, f"no HTTPS answer: {err}", started)
        for service in endpoint.services:
            started = time.perf_counter()
            for check, status, detail in service_checks(client, service, options):
                record(check, status, detail, started)
        started = time.perf_counter()
        for check, status, detail in probe_checks(client, endpoint):
            record(check, status, detail, started)
    finally:
        client.close()
    return results


def verify(endpoints: Sequence[Endpoint], options: Options, source: str, resolver: Resolver = resolve) -> Report:
    report = Report(source)
    for endpoint in endpoints:
        report.results += verify_endpoint(endpoint, options, resolver)
    return report


# --------------------------------------------------------------------------- output


def render_text(report: Report) -> str:
    hosts = list(dict.fromkeys(r.host for r in report.results))
    lines = [f"golive verify: {report.source}, {len(hosts)} host{'s' if len(hosts) != 1 else ''}, {len(report.results)} checks"]
    width = max((len(r.check) for r in report.results), default=10)
    for host in hosts:
        lines.append(host)
        for r in (r for r in report.results if r.host == host):
            lines.append(f"  {r.status.upper():4} {r.check:<{width}}  {r.detail}")
    lines.append(f"{report.count(PASS)} passed, {report.count(FAIL)} failed, {report.count(SKIP)} skipped")
    return "\n".join(lines)


def render_junit(report: Report) -> str:
    """One test suite per host, one test case per check."""
    root = ET.Element("testsuites", name="golive verify", tests=str(len(report.results)), failures=str(report.count(FAIL)),
                      skipped=str(report.count(SKIP)))
    for host in dict.fromkeys(r.host for r in report.results):
        results = [r for r in report.results if r.host == host]
        suite = ET.SubElement(root, "testsuite", name=host, tests=str(len(results)),
                              failures=str(sum(r.status == FAIL for r in results)), skipped=str(sum(r.status == SKIP for r in results)),
                              time=f"{sum(r.seconds for r in results):.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="source", value=report.source)
        for r in results:
            case = ET.SubElement(suite, "testcase", classname=f"golive.verify.{host}", name=r.check, time=f"{r.seconds:.3f}")
            if r.status == FAIL:
                ET.SubElement(case, "failure", message=r.detail, type="verify")
            elif r.status == SKIP:
                ET.SubElement(case, "skipped", message=r.detail)
            else:
                ET.SubElement(case, "system-out").text = r.detail
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


RENDERERS = {"text": render_text, "junit": render_junit}
