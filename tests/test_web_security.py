"""Security headers on every response, and bad posts answered with 400/413, never 500."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from coalitionletter.models import Event, Invitation
from coalitionletter.signon import links
from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    SLUG,
    CaptureHandler,
    SignOnWorkspace,
    invite_one,
)

HUMAN = {"User-Agent": BROWSER_AGENT}


@pytest.fixture
def token(signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler) -> str:
    return invite_one(signon_workspace, invoke, mailbox, ORGANISATIONS[0][0])


def _assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "'unsafe-inline'" not in csp
    assert "default-src 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _state(workspace: SignOnWorkspace) -> str:
    with workspace.database.reading() as session:
        return session.scalars(select(Invitation.state)).one()


def test_the_sign_on_page_carries_the_security_headers(web_client, token: str) -> None:
    response = web_client.get(f"/s/{token}", headers=HUMAN)
    assert response.status_code == 200
    _assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/s/x", 404), ("get", "/nowhere", 404), ("put", "/s/x", 405), ("post", "/", 405)],
)
def test_error_pages_carry_the_security_headers(web_client, method, path, status) -> None:
    response = getattr(web_client, method)(path)
    assert response.status_code == status
    _assert_security_headers(response)


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_health_check_answers_ok_with_the_headers_and_reveals_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str, method: str
) -> None:
    events_before = _event_count(signon_workspace)
    response = getattr(web_client, method)("/healthz", headers=HUMAN, data={"x": token})
    assert response.status_code == 200
    assert response.text == "ok"
    assert response.mimetype == "text/plain"
    _assert_security_headers(response)
    assert "Set-Cookie" not in response.headers
    assert SLUG not in response.text and ORGANISATIONS[0][0] not in response.text
    assert _state(signon_workspace) == "invited"
    assert _event_count(signon_workspace) == events_before


def _event_count(workspace: SignOnWorkspace) -> int:
    with workspace.database.reading() as session:
        return session.scalar(select(func.count()).select_from(Event))


def test_an_oversized_post_gets_413_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    response = web_client.post(f"/s/{token}", data={"action": "decline", "reason": "x" * 100_000})
    assert response.status_code == 413
    _assert_security_headers(response)
    assert _state(signon_workspace) == "invited"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data; boundary=zzz", b"--zzz\r\nContent-Disposition: garbage\r\n\r\nx"),
        ("application/x-www-form-urlencoded", b"%ff%fe=%00&&&action=%zz"),
        ("application/json", b'{"action": "confirm"}'),
        ("text/plain", b"\x00\x01\x02"),
        ("application/x-www-form-urlencoded", "action=decline&csrf=é✓".encode()),
        ("application/x-www-form-urlencoded", b"action=decline&csrf=%ff%fe"),
    ],
)
def test_a_malformed_post_gets_400_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str, content_type: str, body: bytes
) -> None:
    response = web_client.post(f"/s/{token}", data=body, content_type=content_type)
    assert response.status_code == 400
    _assert_security_headers(response)
    assert _state(signon_workspace) == "invited"


def test_an_unexpected_failure_gets_a_500_page_with_the_headers_and_no_details(
    web_client, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args, **_kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(links, "find_by_token", broken)
    response = web_client.get(f"/s/{token}", headers=HUMAN)
    assert response.status_code == 500
    _assert_security_headers(response)
    assert "database on fire" not in response.text
    assert token not in response.text


FIELDS = ["action", "csrf", "text_hash", "signer_name", "signer_title", "display_name"]
FIELDS += ["listing", "authorised", "reason", "signer_public", "withdraw_confirmed", "x"]


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_no_form_post_ever_gets_a_500(web_client, token: str, data: st.DataObject) -> None:
    csrf = _form_token(web_client, token)
    form = data.draw(
        st.dictionaries(
            st.sampled_from(FIELDS),
            st.one_of(
                st.text(max_size=400),
                st.sampled_from(["confirm", "decline", "withdraw", "change_listing", csrf, "yes"]),
            ),
            max_size=8,
        )
    )
    response = web_client.post(f"/s/{token}", data=form)
    assert response.status_code < 500
    _assert_security_headers(response)


def _form_token(client, token: str) -> str:
    page = client.get(f"/s/{token}", headers=HUMAN).text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def _logged_ip(workspace: SignOnWorkspace) -> str | None:
    from coalitionletter.models import Event

    with workspace.database.reading() as session:
        return session.scalars(select(Event.ip).where(Event.kind == "declined")).one()


def _decline_with_forwarded_for(app, token: str) -> None:
    client = app.test_client()
    csrf = _form_token(client, token)
    headers = {"X-Forwarded-For": "203.0.113.9"}
    client.post(f"/s/{token}", data={"csrf": csrf, "action": "decline"}, headers=headers)


def test_a_forwarded_address_is_ignored_unless_the_proxy_is_trusted(
    signon_workspace: SignOnWorkspace, token: str
) -> None:
    from coalitionletter.web.app import create_app

    app = create_app(signon_workspace.settings, signon_workspace.database)
    _decline_with_forwarded_for(app, token)
    assert _logged_ip(signon_workspace) == "127.0.0.1"


def test_behind_a_trusted_proxy_the_visitors_address_is_logged(
    signon_workspace: SignOnWorkspace, token: str
) -> None:
    from coalitionletter.web.app import create_app

    trusted = dataclasses.replace(signon_workspace.settings, trust_proxy=True)
    _decline_with_forwarded_for(create_app(trusted, signon_workspace.database), token)
    assert _logged_ip(signon_workspace) == "203.0.113.9"


@pytest.mark.parametrize(
    "path", ["/static/../../pyproject.toml", "/static/..%2f..%2fpyproject.toml", "/static/%2e%2e/x"]
)
def test_the_static_route_serves_nothing_outside_its_folder(web_client, path: str) -> None:
    with web_client.get(path) as response:
        assert response.status_code == 404
        assert "[project]" not in response.text
        _assert_security_headers(response)


@pytest.mark.parametrize("path", ["/s//{token}", "//s/{token}", "/static//web.css", "/s/{token}/"])
def test_no_answer_redirects_to_the_host_the_request_named(
    web_client, token: str, path: str
) -> None:
    response = web_client.get(path.format(token=token), headers={**HUMAN, "Host": "evil.example"})
    assert "evil.example" not in response.headers.get("Location", "")
    assert response.status_code == 404
    _assert_security_headers(response)


def test_the_link_with_one_slash_is_still_served_whatever_the_host(web_client, token) -> None:
    response = web_client.get(f"/s/{token}", headers={**HUMAN, "Host": "evil.example"})
    assert response.status_code == 200


def test_a_static_file_carries_the_security_headers(web_client) -> None:
    with web_client.get("/static/web.css") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        _assert_security_headers(response)
        assert response.headers["X-Frame-Options"] == "DENY"
        # The one documented difference: a stylesheet may be cached for an hour.
        assert response.headers["Cache-Control"] == "public, max-age=3600"


def test_the_static_route_answers_alike_whether_a_file_outside_exists_or_not(
    web_client, signon_workspace: SignOnWorkspace
) -> None:
    static = signon_workspace.home / "templates" / "static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "own.css").write_text("p { color: black }", encoding="utf-8")
    assert (static / ".." / ".." / "coalitionletter.toml").is_file()  # it exists, outside
    with web_client.get("/static/own.css") as served:  # positive control: the folder serves
        assert served.status_code == 200
    answers = [
        web_client.get(f"/static/{name}")
        for name in (
            "missing.css",
            "..%2f..%2fcoalitionletter.toml",
            "..%2f..%2fno-such-file.toml",
            "..%2fcoalitionletter.toml",
        )
    ]
    first = answers[0]
    assert first.status_code == 404
    for answer in answers[1:]:
        assert (answer.status_code, answer.mimetype) == (first.status_code, first.mimetype)
        assert answer.get_data() == first.get_data()
