"""An AWS API emulator for tests: moto in server mode, a real HTTP endpoint on a free loopback port.

``moto_server`` (session-scoped) starts ``moto_server -H 127.0.0.1 -p PORT`` once and stops it
after the session; ``aws`` (per test) resets the emulator's state and points boto3 at it through
``AWS_ENDPOINT_URL`` with throw-away credentials, so a test sees a bare account and whatever it
prepares. Import both fixtures into a test module to use them::

    from tests.aws_emulator import aws, moto_server  # noqa: F401

Where moto lacks an API, :class:`OperationStubber` answers just those operations with
botocore's Stubber (responses validated against botocore's service model); every other
call of the same client still goes to the emulator.
"""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

ACCOUNT_ID = "123456789012"
"""The account moto serves by default (the prod stack's golive:accountId)."""

_BIN = pathlib.Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _command(port: int) -> list[str]:
    script = _BIN / "moto_server"
    if script.exists():
        return [str(script), "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The emulator's endpoint URL (``http://127.0.0.1:PORT``), up for the whole session."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # The server logs every request: to a file, since a pipe nobody reads fills up and blocks it.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(_command(port), stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"moto_server exited with {process.returncode}: {log.read().decode()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not answer within 30 s") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A bare emulated account for this test: state reset, boto3 pointed at the emulator."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return moto_server


class OperationStubber(Stubber):
    """botocore's Stubber for the named operations only (``"DescribeAddonVersions"``); the rest reach the emulator.

    Responses are queued with ``add_response`` / ``add_client_error`` as with Stubber, which
    validates each against the operation's output shape in botocore's service model.
    """

    def __init__(self, client: object, *operations: str):
        super().__init__(client)
        self.operations = operations
        self._service = client.meta.service_model.service_id.hyphenize()

    def _events(self) -> list[tuple[str, str, object, str]]:
        events = []
        for op in self.operations:
            events.append(("before-parameter-build", f"before-parameter-build.{self._service}.{op}",
                           self._assert_expected_params, f"{self._expected_params_event_id}-{op}"))
            events.append(("before-call", f"before-call.{self._service}.{op}", self._get_response_handler, f"{self._event_id}-{op}"))
        return events

    def activate(self) -> None:
        for kind, event, handler, unique_id in self._events():
            register = self.client.meta.events.register_first if kind == "before-parameter-build" else self.client.meta.events.register
            register(event, handler, unique_id=unique_id)

    def deactivate(self) -> None:
        for _, event, handler, unique_id in self._events():
            self.client.meta.events.unregister(event, handler, unique_id=unique_id)


def seed(endpoint: str, value: int) -> None:
    """Seed the emulator's random ids (moto's ``/moto-api/seed``): the next ids it draws are the same every run."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/seed?a={value}", method="POST"), timeout=10).close()
