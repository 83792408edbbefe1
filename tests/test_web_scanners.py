"""Mail scanners fetch every link, with HEAD and GET, often twice: only a human POST decides."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, select, update

from coalitionletter.models import Event, Invitation, InvitationToken, utcnow
from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    CaptureHandler,
    SignOnWorkspace,
    invite_one,
)

NAME = ORGANISATIONS[0][0]
SAFE_LINKS = "Mozilla/5.0 (compatible; Microsoft Office SafeLinks; +http://aka.ms/safelinks)"
MIMECAST = "Mimecast URL Protect/1.0"
PROOFPOINT = "Mozilla/5.0 (Windows NT 10.0) HeadlessChrome/119.0 Safari/537.36 Proofpoint"


@pytest.fixture
def token(signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler) -> str:
    return invite_one(signon_workspace, invoke, mailbox, NAME)


def _snapshot(workspace: SignOnWorkspace) -> tuple[str, int, object, list[str]]:
    with workspace.database.reading() as session:
        invitation = session.scalars(select(Invitation)).one()
        kinds = list(session.scalars(select(Event.kind).order_by(Event.id)))
        return invitation.state, invitation.view_count, invitation.viewed_at, kinds


def test_scanner_visits_change_nothing_and_only_the_human_post_decides(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    before = _snapshot(signon_workspace)
    head = web_client.head(f"/s/{token}", headers={"User-Agent": SAFE_LINKS})
    first = web_client.get(f"/s/{token}", headers={"User-Agent": MIMECAST})
    second = web_client.get(f"/s/{token}", headers={"User-Agent": PROOFPOINT})
    assert [r.status_code for r in (head, first, second)] == [200, 200, 200]
    assert _snapshot(signon_workspace) == before

    page = BeautifulSoup(second.text, "html.parser")
    confirm_form = page.find("input", attrs={"value": "confirm"}).find_parent("form")
    form = {i["name"]: i["value"] for i in confirm_form.find_all("input", attrs={"type": "hidden"})}
    form |= {"signer_name": "Aynur Tursun", "signer_title": "Director", "authorised": "yes"}
    response = web_client.post(f"/s/{token}", data=form, headers={"User-Agent": BROWSER_AGENT})
    assert response.status_code == 303
    state, _views, _viewed, kinds = _snapshot(signon_workspace)
    assert state == "confirmed"
    assert kinds == [*before[3], "confirmed"]


def test_the_page_has_no_script_or_refresh_that_could_submit_by_itself(
    web_client, token: str
) -> None:
    page = BeautifulSoup(web_client.get(f"/s/{token}").text, "html.parser")
    assert page.find("script") is None
    assert page.find("meta", attrs={"http-equiv": True}) is None
    assert all(form.get("method") == "post" for form in page.find_all("form"))


def test_a_cookieless_visit_right_after_sending_is_not_counted_as_a_view(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})
    _state, views, viewed_at, kinds = _snapshot(signon_workspace)
    assert (views, viewed_at) == (0, None)
    assert "viewed" not in kinds


def test_a_person_coming_back_with_the_cookie_is_counted_once_in_the_trail(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})  # sets the cookie
    web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})
    web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})
    state, views, viewed_at, kinds = _snapshot(signon_workspace)
    assert state == "invited"
    assert views == 2
    assert viewed_at is not None
    assert kinds.count("viewed") == 1


def test_a_cookieless_visit_long_after_sending_is_counted(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    with signon_workspace.database.writing() as session:
        session.execute(update(InvitationToken).values(issued_at=utcnow() - timedelta(hours=3)))
    web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})
    assert _snapshot(signon_workspace)[1] == 1


def test_a_scanner_agent_is_never_counted_even_with_a_cookie(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    for _ in range(3):
        web_client.get(f"/s/{token}", headers={"User-Agent": SAFE_LINKS})
    assert _snapshot(signon_workspace)[1] == 0


@contextmanager
def _read_only(database) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Every new connection of the database refuses writes, as on a full or read-only disk."""

    def refuse_writes(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        if database.is_sqlite:
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()
        cursor.close()

    database.engine.dispose()
    event.listen(database.engine, "connect", refuse_writes)
    try:
        yield
    finally:
        event.remove(database.engine, "connect", refuse_writes)
        database.engine.dispose()


def test_the_page_is_shown_when_its_view_cannot_be_recorded_and_the_failure_is_logged(
    signon_workspace: SignOnWorkspace, web_client, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})  # sets the cookie
    before = _snapshot(signon_workspace)
    with _read_only(signon_workspace.database), caplog.at_level(logging.WARNING):
        response = web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    assert NAME in page.get_text()
    assert page.find("input", attrs={"value": "confirm"}) is not None
    assert "view" in caplog.text and "not be recorded" in caplog.text
    assert token not in caplog.text
    assert _snapshot(signon_workspace) == before
    # Positive control: once the database takes writes again, the same visit is counted.
    web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})
    assert _snapshot(signon_workspace)[1] == before[1] + 1
