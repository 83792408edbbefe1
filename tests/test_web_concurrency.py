"""Twenty answers at once for one invitation, against a real running server."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from coalitionletter import events
from coalitionletter.models import AppSecret, Event, Invitation
from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    CaptureHandler,
    LiveServer,
    SignOnWorkspace,
    invite_one,
    serving,
)

THREADS = 20


def _forms(page_html: str) -> tuple[dict[str, str], dict[str, str]]:
    page = BeautifulSoup(page_html, "html.parser")

    def hidden(action: str) -> dict[str, str]:
        form = page.find("input", attrs={"value": action}).find_parent("form")
        return {i["name"]: i["value"] for i in form.find_all("input", attrs={"type": "hidden"})}

    confirm = hidden("confirm") | {
        "signer_name": "Aynur Tursun",
        "signer_title": "Director",
        "authorised": "yes",
        "listing": "public",
    }
    return confirm, hidden("decline") | {"reason": "colleague disagrees"}


def _replay(kinds: list[str]) -> str:
    state = "invited"
    for kind in kinds:
        assert (state, kind) in {
            ("invited", "confirmed"),
            ("invited", "declined"),
            ("declined", "confirmed"),
        }, kinds
        state = kind
    return state


@pytest.mark.slow
def test_twenty_simultaneous_confirms_and_declines_end_in_one_consistent_state(
    signon_workspace: SignOnWorkspace,
    live_server: LiveServer,
    invoke,
    mailbox: CaptureHandler,
) -> None:
    token = invite_one(signon_workspace, invoke, mailbox, ORGANISATIONS[0][0])
    url = f"{live_server.url}/s/{token}"
    headers = {"User-Agent": BROWSER_AGENT}
    confirm, decline = _forms(httpx.get(url, headers=headers).text)
    start = threading.Barrier(THREADS)

    def answer(number: int) -> int:
        with httpx.Client(headers=headers, timeout=60) as client:
            start.wait()
            return client.post(url, data=confirm if number % 2 else decline).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(answer, range(THREADS)))

    assert all(status in (200, 303) for status in statuses), statuses
    with signon_workspace.database.reading() as session:
        state = session.scalars(select(Invitation.state)).one()
        kinds = list(
            session.scalars(
                select(Event.kind)
                .where(Event.kind.in_(["confirmed", "declined"]))
                .order_by(Event.seq)
            )
        )
        problems = events.verify(session, events.campaign_chain("ilp-magnitsky-2020"))
    assert state in ("confirmed", "declined")
    assert _replay(kinds) == state
    assert problems == []
    assert live_server.process.poll() is None


@pytest.mark.slow
def test_with_several_workers_a_form_from_one_is_accepted_by_another(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    with serving(signon_workspace, workers=2) as server:
        token = invite_one(signon_workspace, invoke, mailbox, ORGANISATIONS[0][0])
        url = f"{server.url}/s/{token}"
        headers = {"User-Agent": BROWSER_AGENT}
        pages = [httpx.get(url, headers=headers).text for _ in range(6)]
        forms = [_forms(page)[0] for page in pages]
        assert all(form == forms[0] for form in forms)
        statuses = [httpx.post(url, data=form, headers=headers).status_code for form in forms]
    assert statuses == [303] * 6
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(Invitation.state)).one() == "confirmed"
        # One sign-on key (and one staff console key), shared by both workers.
        assert sorted(session.scalars(select(AppSecret.name))) == ["console", "csrf"]
