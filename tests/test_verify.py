"""golive verify against real HTTPS servers on loopback: a good one, and one variant per failure it must name.

The fixtures generate a CA and leaf certificates with the ``openssl`` CLI and serve them with
Python's ``ssl`` and ``http.server`` (HTTPS on one port, the plain-HTTP redirector on another):
the checks speak real TLS and HTTP to them, nothing is faked. The TLS 1.0 variant needs
OpenSSL's security level 0 on the server (Debian's OpenSSL 3 refuses TLS 1.0 otherwise), and
the client offers 1.0/1.1 the same way, so a refusal is the server's.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import socketserver
import ssl
import subprocess
import threading
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from golive import __main__ as cli
from golive import verify

HOST = "good.golive.test"
GOOD_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
}
# Every check of one endpoint with one service, in order (the DNS check is skipped when checking by address).
CHECKS = ["dns", "tls-1.2-accepted", "tls-1.0-refused", "tls-1.1-refused", "certificate-chain", "certificate-host",
          "certificate-expiry", "http-redirect", "header-hsts", "header-nosniff", "header-frame-options", "header-csp",
          "health:web", "ready:web", "latency:web", "waf-sqli-blocked", "unknown-host-no-backend"]
LATENCY_SLO = 0.15
REQUESTS = 4


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Pki:
    ca: Path
    certs: Mapping[str, tuple[Path, Path]]  # name -> (certificate, key)


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl CLI is needed to make the test certificates (Debian: openssl)")
    out = tmp_path_factory.mktemp("pki")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=golive verify test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=out)
    _openssl("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=leaf", cwd=out)
    leaves = {"good": (f"DNS:{HOST},DNS:localhost", "90"), "wrong-host": ("DNS:other.golive.test", "90"),
              "expiring": (f"DNS:{HOST}", "10"), "expired": (f"DNS:{HOST}", "-1")}
    certs = {}
    for name, (names, days) in leaves.items():
        (out / f"{name}.ext").write_text(f"subjectAltName={names}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        _openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", days,
                 "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=out)
        certs[name] = (out / f"{name}.pem", out / "leaf.key")
    return Pki(out / "ca.pem", certs)


# --------------------------------------------------------------------------- servers


@dataclass(frozen=True)
class Behaviour:
    """What the server does; the defaults are a correctly configured edge."""

    cert: str = "good"
    minimum_tls: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    headers: Mapping[str, str] = field(default_factory=lambda: dict(GOOD_HEADERS))
    delay: float = 0.0
    redirect: int = 301
    redirect_to: str = "https://{host}{path}"
    waf: bool = True
    route_unknown: bool = False
    ready_status: int = 200
    hosts: tuple[str, ...] = (HOST, "localhost")


def _handler(behaviour: Behaviour, https: bool):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # one segment per response: no 40 ms delayed-ACK stall per request

        def log_message(self, *args):  # keep the test output clean
            pass

        def _send(self, status: int, body: bytes = b"ok\n", headers: Mapping[str, str] = ()) -> None:
            self.send_response(status)
            for key, value in dict(headers).items():
                self.send_header(key, value)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 the http.server hook
            host = (self.headers.get("Host") or "").split(":")[0]
            if not https:
                if behaviour.redirect == 301 or behaviour.redirect in (302, 307):
                    location = behaviour.redirect_to.format(host=host, path=self.path)
                    return self._send(behaviour.redirect, b"", {"Location": location})
                return self._send(200, b"plain http\n")
            headers = behaviour.headers
            if host not in behaviour.hosts and not behaviour.route_unknown:
                return self._send(404, b"Not Found", headers)  # the load balancer's default action
            if behaviour.waf and ("%27" in self.path or "'" in self.path):
                return self._send(403, b"Forbidden", headers)
            path = self.path.split("?")[0]
            if path in ("/health", "/ready"):
                time.sleep(behaviour.delay)
                return self._send(behaviour.ready_status if path == "/ready" else 200, b"ok\n", headers)
            return self._send(200, b"hello\n", headers)

    return Handler


class _TlsServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, context: ssl.SSLContext | None):
        self.context = context
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        if self.context is not None:
            request = self.context.wrap_socket(request, server_side=True)  # the handshake runs in the request's thread
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):  # refused handshakes are what some tests are about
        pass


def _server_context(pki: Pki, behaviour: Behaviour) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert, key = pki.certs[behaviour.cert]
    context.load_cert_chain(cert, key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = behaviour.minimum_tls
    if behaviour.minimum_tls < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("ALL:@SECLEVEL=0")
    return context


@dataclass(frozen=True)
class Served:
    https_port: int
    http_port: int


@contextlib.contextmanager
def serve(pki: Pki, behaviour: Behaviour) -> Iterator[Served]:
    servers = [_TlsServer(("127.0.0.1", 0), _handler(behaviour, https=True), _server_context(pki, behaviour)),
               _TlsServer(("127.0.0.1", 0), _handler(behaviour, https=False), None)]
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield Served(servers[0].server_address[1], servers[1].server_address[1])
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def endpoint(served: Served, host: str = HOST) -> verify.Endpoint:
    return verify.Endpoint(host=host, services=(verify.Service("web", latency_threshold_seconds=LATENCY_SLO),), address="127.0.0.1",
                           https_port=served.https_port, http_port=served.http_port)


def run(pki: Pki, behaviour: Behaviour, ca: bool = True) -> dict[str, verify.Result]:
    with serve(pki, behaviour) as served:
        options = verify.Options(requests=REQUESTS, timeout=5, ca_file=str(pki.ca) if ca else None)
        return {r.check: r for r in verify.verify_endpoint(endpoint(served), options)}


def failing(results: Mapping[str, verify.Result]) -> set[str]:
    return {name for name, r in results.items() if r.status == verify.FAIL}


# --------------------------------------------------------------------------- the good server


def test_the_good_server_passes_every_check(pki):
    results = run(pki, Behaviour())
    assert list(results) == CHECKS
    assert failing(results) == set(), {n: r.detail for n, r in results.items() if r.status == verify.FAIL}
    assert results["dns"].status == verify.SKIP
    assert results["tls-1.2-accepted"].detail.startswith(("TLSv1.2", "TLSv1.3"))
    assert "refused" in results["tls-1.0-refused"].detail and "refused" in results["tls-1.1-refused"].detail
    assert results["http-redirect"].detail == f"301 to https://{HOST}/"


# --------------------------------------------------------------------------- one variant per failure

VARIANTS = {
    "tls-1.0-enabled": (Behaviour(minimum_tls=ssl.TLSVersion.TLSv1), {"tls-1.0-refused", "tls-1.1-refused"}),
    "no-hsts": (Behaviour(headers={k: v for k, v in GOOD_HEADERS.items() if k != "Strict-Transport-Security"}), {"header-hsts"}),
    "hsts-one-day": (Behaviour(headers={**GOOD_HEADERS, "Strict-Transport-Security": "max-age=86400; includeSubDomains"}),
                     {"header-hsts"}),
    "hsts-without-subdomains": (Behaviour(headers={**GOOD_HEADERS, "Strict-Transport-Security": "max-age=63072000"}),
                                {"header-hsts"}),
    "no-nosniff": (Behaviour(headers={k: v for k, v in GOOD_HEADERS.items() if k != "X-Content-Type-Options"}), {"header-nosniff"}),
    "frames-from-same-origin": (Behaviour(headers={**GOOD_HEADERS, "X-Frame-Options": "SAMEORIGIN"}), {"header-frame-options"}),
    "no-csp": (Behaviour(headers={k: v for k, v in GOOD_HEADERS.items() if k != "Content-Security-Policy"}), {"header-csp"}),
    "expired-certificate": (Behaviour(cert="expired"), {"certificate-chain", "certificate-expiry"}),
    "certificate-expiring-in-10-days": (Behaviour(cert="expiring"), {"certificate-expiry"}),
    "certificate-for-another-host": (Behaviour(cert="wrong-host"), {"certificate-host"}),
    "slow-responses": (Behaviour(delay=LATENCY_SLO + 0.05), {"latency:web"}),
    "no-redirect": (Behaviour(redirect=200), {"http-redirect"}),
    "temporary-redirect": (Behaviour(redirect=302), {"http-redirect"}),
    "redirect-to-plain-http": (Behaviour(redirect_to="http://{host}{path}"), {"http-redirect"}),
    "not-ready": (Behaviour(ready_status=503), {"ready:web"}),
    "no-waf": (Behaviour(waf=False), {"waf-sqli-blocked"}),
    "any-host-routed": (Behaviour(route_unknown=True), {"unknown-host-no-backend"}),
}


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_each_bad_server_fails_exactly_the_check_it_breaks(pki, variant):
    behaviour, expected = VARIANTS[variant]
    results = run(pki, behaviour)
    assert failing(results) == expected, {n: r.detail for n, r in results.items() if r.status == verify.FAIL}


def test_the_failures_say_what_is_wrong(pki):
    assert "accepted TLSv1" in run(pki, Behaviour(minimum_tls=ssl.TLSVersion.TLSv1))["tls-1.0-refused"].detail
    expired = run(pki, Behaviour(cert="expired"))
    assert "certificate has expired" in expired["certificate-chain"].detail and "expired" in expired["certificate-expiry"].detail
    assert "other.golive.test" in run(pki, Behaviour(cert="wrong-host"))["certificate-host"].detail
    assert "under a year" in run(pki, VARIANTS["hsts-one-day"][0])["header-hsts"].detail


def test_a_certificate_from_an_untrusted_root_fails_the_chain(pki):
    """Without --ca, the system's roots decide, and they do not know the test CA."""
    assert failing(run(pki, Behaviour(), ca=False)) == {"certificate-chain"}


# --------------------------------------------------------------------------- pieces


def test_dns_must_point_at_the_load_balancer_only():
    addresses = {"app.example.com": {"192.0.2.10"}, "lb.example.com": {"192.0.2.10", "192.0.2.11"}, "elsewhere.example.com": {"198.51.100.7"}}

    def fake(name):
        return set(addresses.get(name, ()))

    def check(host):
        return verify.dns_check(verify.Endpoint(host=host, services=(), load_balancer="lb.example.com"), fake)

    assert check("app.example.com")[0] == verify.PASS
    status, detail = check("elsewhere.example.com")
    assert status == verify.FAIL and "198.51.100.7" in detail
    assert check("missing.example.com") == (verify.FAIL, "missing.example.com does not resolve")


@pytest.mark.parametrize(("host", "names", "matches"), [
    ("api.example.com", ["api.example.com"], True),
    ("api.example.com", ["*.example.com"], True),
    ("a.b.example.com", ["*.example.com"], False),
    ("example.com", ["*.example.com"], False),
    ("api.example.com", ["api.example.org", "*.api.example.com"], False),
    ("API.example.com", ["api.EXAMPLE.com"], True),
])
def test_certificate_names_match_as_rfc_6125_says(host, names, matches):
    assert verify.host_matches(host, names) is matches


def test_p95_is_the_nearest_rank():
    assert verify.percentile([0.1] * 19 + [5.0], 0.95) == 0.1
    assert verify.percentile([0.1] * 18 + [5.0, 5.0], 0.95) == 5.0
    assert verify.percentile([0.3], 0.95) == 0.3


def test_services_under_a_prefix_are_checked_under_it():
    service = verify.Service("api", path_prefix="/api/")
    assert service.public_path("/health") == "/api/health" and service.public_path("/api/ready") == "/api/ready"
    assert verify.Service("root").public_path("/health") == "/health"


# --------------------------------------------------------------------------- the command


def outputs(tmp_path: Path, **overrides) -> Path:
    data = {"publicHosts": ["localhost"], "loadBalancerDnsName": "localhost",
            "publicServices": [{"service": "web", "host": "localhost", "pathPrefix": "/", "healthPath": "/health", "readyPath": "/ready",
                                "latencyThresholdSeconds": LATENCY_SLO}], "kubeconfig": "[secret]"}
    data.update(overrides)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(data))
    return path


def test_stack_mode_reads_the_outputs_and_writes_one_junit_case_per_check(pki, tmp_path, capsys):
    with serve(pki, Behaviour()) as served:
        code = cli.main(["verify", "--outputs", str(outputs(tmp_path)), "--https-port", str(served.https_port), "--http-port",
                         str(served.http_port), "--ca", str(pki.ca), "--requests", str(REQUESTS), "--junit", str(tmp_path / "v.xml")])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "PASS dns" in text and f"{len(CHECKS)} passed, 0 failed, 0 skipped" in text
    suite = ET.parse(tmp_path / "v.xml").getroot().find("testsuite")
    assert suite.get("name") == "localhost" and suite.get("failures") == "0"
    assert [c.get("name") for c in suite.findall("testcase")] == CHECKS


def test_stack_mode_exits_1_and_names_the_failed_check(pki, tmp_path, capsys):
    with serve(pki, Behaviour(waf=False)) as served:
        code = cli.main(["verify", "--outputs", str(outputs(tmp_path)), "--https-port", str(served.https_port), "--http-port",
                         str(served.http_port), "--ca", str(pki.ca), "--requests", "2", "--format", "junit"])
    assert code == 1
    root = ET.fromstring(capsys.readouterr().out.split("\n", 1)[1])
    failed = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["waf-sqli-blocked"] and root.get("failures") == "1"
    assert "not 403" in failed[0].find("failure").get("message")


def test_endpoint_mode_checks_one_url_as_a_host(pki, tmp_path, capsys):
    with serve(pki, Behaviour()) as served:
        code = cli.main(["verify", "--url", f"https://127.0.0.1:{served.https_port}", "--host", HOST, "--ca", str(pki.ca),
                         "--http-port", str(served.http_port), "--latency-threshold", str(LATENCY_SLO), "--requests", "3"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "SKIP dns" in text and f"{len(CHECKS) - 1} passed, 0 failed, 1 skipped" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["verify", "--url", "https://127.0.0.1:1"], "--url and --host go together"),
    (["verify", "--url", "http://127.0.0.1", "--host", HOST], "--url must be https://"),
    (["verify", "--outputs", "/nonexistent/outputs.json"], "cannot read stack outputs"),
    (["verify", "--requests", "0", "--outputs", "x"], "--requests must be at least 1"),
    (["verify", "--url", "https://127.0.0.1:8443", "--host", HOST, "--https-port", "443"], "the HTTPS port is the URL's"),
])
def test_usage_errors_exit_2_with_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_outputs_without_the_edge_are_a_usage_error(tmp_path, capsys):
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"region": "eu-west-1"}))
    assert cli.main(["verify", "--outputs", str(path)]) == 2
    assert "lack publicHosts, publicServices, loadBalancerDnsName" in capsys.readouterr().err


def test_without_the_pulumi_cli_the_stack_mode_says_what_to_pass(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main(["verify", "--stack", "prod"]) == 2
    assert "pass --outputs FILE" in capsys.readouterr().err


def test_endpoints_come_from_the_outputs_the_program_exports(prod):
    """The prod synth exports what verify reads: every public host with its services and SLO thresholds."""
    endpoints = verify.endpoints_from_outputs(prod.outputs)
    assert sorted(e.host for e in endpoints) == ["listings.golive.example.com", "signals.golive.example.com", "trading.golive.example.com"]
    assert all(len(e.services) == 1 and e.services[0].latency_threshold_seconds == 1.0 for e in endpoints)
