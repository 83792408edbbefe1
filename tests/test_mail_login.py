"""SMTP login: the user from the settings, the password only from the environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from coalitionletter.models import OutboxMessage
from fixtures_signon import CaptureHandler, SignOnWorkspace, free_port

SLUG = "ilp-magnitsky-2020"
PASSWORD = "correct horse battery staple"


def _check(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == b"campaigns" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def login_server() -> Iterator[tuple[int, CaptureHandler]]:
    handler = CaptureHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_check,
        auth_require_tls=False,  # loopback only; TLS itself is not tested here
    )
    controller.start()
    yield controller.port, handler
    controller.stop()


def _configure(home: Path, port: int, db_url: str | None) -> None:
    lines = [
        "[smtp]",
        'host = "127.0.0.1"',
        f"port = {port}",
        'security = "none"',
        'user = "campaigns"',
    ]
    if db_url:
        lines = ["[database]", f'url = "{db_url}"', *lines]
    (home / "coalitionletter.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_password_from_the_environment_logs_in(
    signon_workspace: SignOnWorkspace, login_server, invoke
) -> None:
    port, handler = login_server
    _configure(signon_workspace.home, port, signon_workspace.db_url)
    result = invoke("invite", SLUG, "--all", env={"COALITIONLETTER_SMTP_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert len(handler.received) == len(signon_workspace.organisations)


def test_a_wrong_password_sends_nothing_and_says_what_to_check(
    signon_workspace: SignOnWorkspace, login_server, invoke
) -> None:
    port, handler = login_server
    _configure(signon_workspace.home, port, signon_workspace.db_url)
    result = invoke("invite", SLUG, "--all", env={"COALITIONLETTER_SMTP_PASSWORD": "not-it-41"})
    assert result.exit_code != 0
    assert "refused the login for 'campaigns'" in result.output
    assert "COALITIONLETTER_SMTP_PASSWORD" in result.output
    assert "not-it-41" not in result.output
    assert handler.received == []
    with signon_workspace.database.reading() as session:
        assert set(session.scalars(select(OutboxMessage.state))) == {"queued"}


def test_a_user_without_a_password_is_refused_before_anything_is_queued(
    signon_workspace: SignOnWorkspace, login_server, invoke
) -> None:
    port, _handler = login_server
    _configure(signon_workspace.home, port, signon_workspace.db_url)
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code != 0
    assert "no password is set" in result.output
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
