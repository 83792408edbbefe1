"""Mail over TLS: STARTTLS on the submission port and implicit TLS ("ssl"), certificates checked."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from coalitionletter.models import OutboxMessage
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


def _configure(
    workspace: SignOnWorkspace, port: int, security: str, ca_file: Path | str | None = None
) -> None:
    lines = ["[smtp]", 'host = "127.0.0.1"', f"port = {port}", f'security = "{security}"']
    if ca_file is not None:
        lines.append(f'ca_file = "{ca_file}"')
    if workspace.db_url:
        lines = ["[database]", f'url = "{workspace.db_url}"', *lines]
    (workspace.home / "coalitionletter.toml").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("server", "security"),
    [("starttls_server", "starttls"), ("implicit_tls_server", "ssl")],
    ids=["starttls", "implicit-tls"],
)
def test_every_invitation_is_sent_over_an_encrypted_connection(  # noqa: PLR0917 - fixtures
    signon_workspace: SignOnWorkspace, certificate, invoke, request, server: str, security: str
) -> None:
    port, handler = request.getfixturevalue(server)
    _configure(signon_workspace, port, security, ca_file=certificate[0])
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
    assert "set [smtp] ca_file" in result.output
    assert handler.received == []
    assert _outbox_states(signon_workspace) == {"queued"}


def test_a_relative_ca_file_is_found_in_the_workspace(
    signon_workspace: SignOnWorkspace, starttls_server, certificate, invoke
) -> None:
    port, handler = starttls_server
    shutil.copy(certificate[0], signon_workspace.home / "mail-ca.pem")
    _configure(signon_workspace, port, "starttls", ca_file="mail-ca.pem")
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code == 0, result.output
    assert len(handler.received) == len(signon_workspace.organisations)


@pytest.mark.parametrize("content", [None, "not a certificate\n"], ids=["missing", "not-pem"])
def test_a_ca_file_that_cannot_be_read_stops_before_connecting_and_names_the_file(
    signon_workspace: SignOnWorkspace, starttls_server, invoke, content: str | None
) -> None:
    port, handler = starttls_server
    ca_file = signon_workspace.home / "mail-ca.pem"
    if content is not None:
        ca_file.write_text(content)
    _configure(signon_workspace, port, "starttls", ca_file=ca_file)
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code != 0
    assert f"Cannot read the certificate authority in [smtp] ca_file {ca_file}" in result.output
    assert "Nothing was sent." in result.output
    assert handler.received == []
    assert _outbox_states(signon_workspace) == set()  # checked before anything was queued


def _outbox_states(workspace: SignOnWorkspace) -> set[str]:
    with workspace.database.reading() as session:
        return set(session.scalars(select(OutboxMessage.state)))
