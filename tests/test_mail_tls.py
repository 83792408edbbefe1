"""Mail over TLS: STARTTLS on the submission port and implicit TLS ("ssl"), certificates checked."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from coalitionletter import transport
from fixtures_signon import CaptureHandler, SignOnWorkspace, free_port

SLUG = "ilp-magnitsky-2020"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def trust(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the test certificate the only one the mail client trusts (verification stays on)."""
    cert, _ = certificate
    real = ssl.create_default_context

    def trusting_test_ca(*args, **kwargs) -> ssl.SSLContext:
        return real(cafile=str(cert))

    monkeypatch.setattr(transport.ssl, "create_default_context", trusting_test_ca)


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    return context


@pytest.fixture
def starttls_server(certificate) -> Iterator[tuple[int, CaptureHandler]]:
    handler = CaptureHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=_server_context(certificate),
        require_starttls=True,
    )
    controller.start()
    yield controller.port, handler
    controller.stop()


@pytest.fixture
def implicit_tls_server(certificate) -> Iterator[tuple[int, CaptureHandler]]:
    handler = CaptureHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        ssl_context=_server_context(certificate),
        server_hostname="127.0.0.1",
    )
    controller.start()
    yield controller.port, handler
    controller.stop()


def _configure(workspace: SignOnWorkspace, port: int, security: str) -> None:
    lines = ["[smtp]", 'host = "127.0.0.1"', f"port = {port}", f'security = "{security}"']
    if workspace.db_url:
        lines = ["[database]", f'url = "{workspace.db_url}"', *lines]
    (workspace.home / "coalitionletter.toml").write_text("\n".join(lines) + "\n")


def test_starttls_sends_every_invitation_over_an_encrypted_connection(
    signon_workspace: SignOnWorkspace, starttls_server, trust, invoke
) -> None:
    port, handler = starttls_server
    _configure(signon_workspace, port, "starttls")
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code == 0, result.output
    assert len(handler.received) == len(signon_workspace.organisations)


def test_implicit_tls_sends_every_invitation(
    signon_workspace: SignOnWorkspace, implicit_tls_server, trust, invoke
) -> None:
    port, handler = implicit_tls_server
    _configure(signon_workspace, port, "ssl")
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code == 0, result.output
    assert len(handler.received) == len(signon_workspace.organisations)


def test_an_untrusted_certificate_stops_before_anything_is_sent(
    signon_workspace: SignOnWorkspace, starttls_server, invoke
) -> None:
    port, handler = starttls_server
    _configure(signon_workspace, port, "starttls")
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code != 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.output
    assert handler.received == []
