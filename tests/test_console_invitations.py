"""The console's invitations area in Flask's test client: the list, sending, answers, names.

Each action is checked against the CLI command it stands for (same core function,
same records), for staff only (coordinators get 403), and for bad input (a clear
message, status 400, nothing changed).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from coalitionletter.campaigns import catalogue
from coalitionletter.mail import background
from coalitionletter.models import Event, Invitation, OutboxMessage, SendRun
from coalitionletter.signon import invitations
from fixtures_console import COORDINATOR_EMAIL, STAFF_EMAIL, csrf_in, make_account, sign_in
from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    SLUG,
    CaptureHandler,
    SignOnWorkspace,
    confirm_form,
    invite_one,
)

# `invoke` makes each test run on PostgreSQL too when COALITIONLETTER_TEST_PG is set.
pytestmark = pytest.mark.usefixtures("invoke", "senders_end")
BASE = f"/staff/c/{SLUG}/invitations"
FIRST, SECOND, THIRD = (ORGANISATIONS[i][0] for i in range(3))


@pytest.fixture
def app(signon_workspace: SignOnWorkspace):  # type: ignore[no-untyped-def]
    """The web app of the sign-on workspace."""
    from coalitionletter.web.app import create_app

    return create_app(signon_workspace.settings, signon_workspace.database)


@pytest.fixture
def staff(app, signon_workspace: SignOnWorkspace):  # type: ignore[no-untyped-def]
    """A client signed in as staff (Ana Lima)."""
    workspace = signon_workspace
    make_account(workspace.settings, workspace.database, STAFF_EMAIL, name="Ana Lima")
    client = app.test_client()
    assert sign_in(client, STAFF_EMAIL).status_code == 302
    return client


@pytest.fixture
def coordinator(app, signon_workspace: SignOnWorkspace):  # type: ignore[no-untyped-def]
    """A client signed in as a coordinator."""
    workspace = signon_workspace
    make_account(
        workspace.settings, workspace.database, COORDINATOR_EMAIL, role="coordinator",
        name="Sam Okafor",
    )  # fmt: skip
    client = app.test_client()
    assert sign_in(client, COORDINATOR_EMAIL).status_code == 302
    return client


def _post(client, url: str, **data: Any):  # type: ignore[no-untyped-def]
    # The token from a page that does not look at sends (the invitations page resumes one).
    token = csrf_in(client.get("/staff/").text)
    return client.post(url, data={"csrf_token": token, **data})


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(BeautifulSoup(response.text, "html.parser").get_text(" ").split())


def _wait_until_sent(client, seconds: float = 30) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = client.get(f"{BASE}/progress").get_json()
        if not found["running"]:
            return found
        time.sleep(0.1)
    raise AssertionError("the send did not finish")


def _count(workspace: SignOnWorkspace, model: Any) -> int:
    with workspace.database.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def _invitation(workspace: SignOnWorkspace, name: str) -> Invitation:
    with workspace.database.reading() as session:
        return session.scalars(
            select(Invitation).where(Invitation.organisation_id == workspace.organisations[name])
        ).one()


def _events(workspace: SignOnWorkspace, name: str) -> list[Event]:
    with workspace.database.reading() as session:
        return list(
            session.scalars(
                select(Event)
                .where(Event.organisation_id == workspace.organisations[name])
                .order_by(Event.id)
            )
        )


def _org(workspace: SignOnWorkspace, name: str) -> int:
    return workspace.organisations[name]


# --- the list ---------------------------------------------------------------------------


def test_the_list_shows_every_organisation_of_the_registry(signon_workspace, staff) -> None:
    page = staff.get(BASE)
    assert page.status_code == 200, page.text
    rows = BeautifulSoup(page.text, "html.parser").select("table.invitations tbody tr")
    assert len(rows) == len(ORGANISATIONS)
    assert "5 of 5 organisations shown" in _text(page)
    assert "not invited" in rows[0].get_text(" ")


@pytest.mark.parametrize(
    ("show", "expected"), [("not-invited", 4), ("waiting", 1), ("confirmed", 0), ("all", 5)]
)
def test_the_list_filters_by_state(
    signon_workspace, staff, invoke, show: str, expected: int
) -> None:
    result = invoke("invite", SLUG, "--org", str(_org(signon_workspace, FIRST)))
    assert result.exit_code == 0, result.output
    page = staff.get(BASE, query_string={"show": show})
    assert page.status_code == 200
    rows = BeautifulSoup(page.text, "html.parser").select("table.invitations tbody tr")
    assert len(rows) == expected
    assert f"{expected} of 5 organisations shown" in _text(page)


def test_the_list_says_what_happened_to_the_message_and_who_answered(
    signon_workspace, staff, invoke, mailbox, web_client
) -> None:
    token = invite_one(signon_workspace, invoke, mailbox, FIRST)
    web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})
    web_client.post(f"/s/{token}", data=confirm_form(web_client, token))
    mailbox.refuse.add(signon_workspace.emails[SECOND][0])
    assert invoke("invite", SLUG, "--org", str(_org(signon_workspace, SECOND))).exit_code == 1
    soup = BeautifulSoup(staff.get(BASE).text, "html.parser")
    by_name = {
        row.find("th").get_text(" ", strip=True).split(" ")[0]: row.get_text(" ", strip=True)
        for row in soup.select("table.invitations tbody tr")
    }
    first = by_name[FIRST.split(" ")[0]]
    assert "invite: sent" in first
    assert "opened" in first
    assert "confirmed" in first and "by Li Wei, Chair" in first and "through the link" in first
    second = by_name[SECOND.split(" ")[0]]
    assert "invite: failed" in second and "every recipient refused" in second
    assert "not answered" in second


# --- who may ----------------------------------------------------------------------------

STAFF_ONLY = [
    ("GET", BASE),
    ("GET", f"{BASE}/progress"),
    ("POST", f"{BASE}/send"),
    ("POST", f"{BASE}/remind"),
    ("GET", f"{BASE}/1/resend"),
    ("POST", f"{BASE}/1/resend"),
    ("GET", f"{BASE}/1/answer"),
    ("POST", f"{BASE}/1/answer"),
    ("GET", f"/staff/c/{SLUG}/names"),
    ("POST", f"/staff/c/{SLUG}/names/1"),
]


@pytest.mark.parametrize(("method", "url"), STAFF_ONLY)
def test_a_coordinator_gets_403_and_nothing_changes(
    signon_workspace, coordinator, method: str, url: str
) -> None:
    token = csrf_in(coordinator.get("/staff/").text)
    data = {"csrf_token": token, "scope": "all", "action": "decline", "decision": "reject"}
    response = coordinator.open(url, method=method, data=data if method == "POST" else None)
    assert response.status_code == 403
    assert _count(signon_workspace, OutboxMessage) == 0
    assert _count(signon_workspace, Invitation) == 0


@pytest.mark.parametrize(("method", "url"), STAFF_ONLY)
def test_a_visitor_who_has_not_signed_in_is_sent_to_sign_in(
    app, signon_workspace, method: str, url: str
) -> None:
    visitor = app.test_client()
    # A visitor has a form token too (the sign-in page's): the role check still stops it.
    data = {"csrf_token": csrf_in(visitor.get("/staff/login").text), "scope": "all"}
    response = visitor.open(url, method=method, data=data if method == "POST" else None)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login"
    assert _count(signon_workspace, OutboxMessage) == 0
    assert _count(signon_workspace, Invitation) == 0


def test_a_post_without_the_form_token_is_refused_and_queues_nothing(
    signon_workspace, staff
) -> None:
    response = staff.post(f"{BASE}/send", data={"scope": "all"})
    assert response.status_code == 400
    assert _count(signon_workspace, OutboxMessage) == 0


# --- sending ----------------------------------------------------------------------------


def test_sending_to_all_invites_each_organisation_once_in_the_background(
    signon_workspace, staff, mailbox: CaptureHandler
) -> None:
    response = _post(staff, f"{BASE}/send", scope="all")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{BASE}#sending")
    found = _wait_until_sent(staff)
    assert (found["done"], found["total"], found["outcome"]["sent"]) == (5, 5, 5)
    addresses = sorted(a for r in mailbox.received for a in r.recipients)
    assert addresses == sorted(e for emails in signon_workspace.emails.values() for e in emails)
    page = staff.get(BASE)
    assert "Queued 5 invitations." in _text(page)
    assert "Finished at" in _text(page) and "5 message(s) handed over" in _text(page)
    invited = [e for e in _events(signon_workspace, FIRST) if e.kind == "invited"]
    assert [e.actor for e in invited] == ["staff: Ana Lima"]


def test_the_page_shows_a_progress_bar_and_allows_only_its_own_script(
    signon_workspace, staff
) -> None:
    _post(staff, f"{BASE}/send", scope="all")
    _wait_until_sent(staff)
    page = staff.get(BASE)
    bar = BeautifulSoup(page.text, "html.parser").find("progress", id="send-progress")
    assert (bar["value"], bar["max"]) == ("5", "5")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "default-src 'none'" in policy
    script = BeautifulSoup(page.text, "html.parser").find("script")
    assert script["src"] == "/static/console-progress.js" and not script.string
    with staff.get("/static/console-progress.js") as served:
        assert served.status_code == 200


def test_sending_to_the_ticked_invites_only_those_as_the_cli_does(
    signon_workspace, staff, invoke, mailbox: CaptureHandler
) -> None:
    ticked = [str(_org(signon_workspace, FIRST)), str(_org(signon_workspace, SECOND))]
    response = _post(staff, f"{BASE}/send", scope="ticked", org=ticked)
    assert response.status_code == 302, response.text
    _wait_until_sent(staff)
    result = invoke("invite", SLUG, "--org", str(_org(signon_workspace, THIRD)))
    assert result.exit_code == 0, result.output
    assert len(mailbox.received) == 3
    console_made, cli_made = (
        _invitation(signon_workspace, FIRST),
        _invitation(signon_workspace, THIRD),
    )
    for attribute in ("state", "reminders_sent", "listing", "decided_at", "text_hash"):
        assert getattr(console_made, attribute) == getattr(cli_made, attribute), attribute
    kinds = [[e.kind for e in _events(signon_workspace, n)] for n in (FIRST, THIRD)]
    assert kinds[0] == kinds[1] == ["invited", "sent"]
    actors = [_events(signon_workspace, n)[0].actor for n in (FIRST, THIRD)]
    assert actors == ["staff: Ana Lima", "staff: Test Coordinator"]


def test_sending_to_the_ticked_with_none_ticked_says_so_and_queues_nothing(
    signon_workspace, staff
) -> None:
    response = _post(staff, f"{BASE}/send", scope="ticked")
    assert response.status_code == 400
    assert "No organisation is ticked." in _text(response)
    assert _count(signon_workspace, OutboxMessage) == 0
    assert _count(signon_workspace, SendRun) == 0


def test_sending_again_while_a_send_runs_is_refused_and_queues_nothing(
    signon_workspace, staff
) -> None:
    workspace = signon_workspace
    with workspace.database.writing() as session:
        definition = catalogue.load_current(workspace.settings, session, SLUG)
        background.start(
            session, SLUG, what="invitations", actor="staff: Sam", queue=lambda: invitations.invite(
                session, definition, refs=[str(_org(workspace, FIRST))], everyone=False,
                actor="staff: Sam",
            ),
        )  # fmt: skip
    response = _post(staff, f"{BASE}/send", scope="all")
    assert response.status_code == 409
    assert "started by Sam is still running" in _text(response)
    assert _count(workspace, OutboxMessage) == 1  # the first send's message only


def test_sending_after_the_sign_on_closed_is_refused_and_queues_nothing(
    signon_workspace, staff, invoke
) -> None:
    assert invoke("close", SLUG, "--yes").exit_code == 0
    response = _post(staff, f"{BASE}/send", scope="all")
    assert response.status_code == 400
    assert "is closed" in _text(response)
    assert _count(signon_workspace, OutboxMessage) == 0


def test_reminders_follow_the_cli_rules_and_say_why_none_was_due(
    signon_workspace, staff, invoke
) -> None:
    _post(staff, f"{BASE}/send", scope="all")
    _wait_until_sent(staff)
    response = _post(staff, f"{BASE}/remind")
    assert response.status_code == 302
    page = _text(staff.get(BASE))
    cli = invoke("remind", SLUG)
    assert cli.exit_code == 0, cli.output
    (why,) = [line for line in cli.output.splitlines() if line.startswith("None was due")]
    assert why in page
    assert "Queued 0 reminders." in page
    assert _count(signon_workspace, OutboxMessage) == 5  # the invitations only


def test_reminders_go_to_those_due_one(signon_workspace, staff, invoke, mailbox) -> None:
    with (signon_workspace.home / "coalitionletter.toml").open("a") as config:
        config.write("[reminders]\ninterval_days = 0\n")
    from coalitionletter.web.app import create_app

    signon_workspace.reload()
    client = create_app(signon_workspace.settings, signon_workspace.database).test_client()
    assert sign_in(client, STAFF_EMAIL).status_code == 302
    invite_one(signon_workspace, invoke, mailbox, FIRST)
    response = _post(client, f"{BASE}/remind")
    assert response.status_code == 302
    _wait_until_sent(client)
    assert mailbox.received[-1].message["Subject"].startswith("Reminder")
    assert _invitation(signon_workspace, FIRST).reminders_sent == 1
    assert len(mailbox.received) == 2


def test_a_new_link_sends_that_message_alone_and_the_old_link_stops_working(
    signon_workspace, staff, invoke, mailbox, web_client
) -> None:
    old = invite_one(signon_workspace, invoke, mailbox, FIRST)
    workspace = signon_workspace
    with workspace.database.writing() as session:  # left queued by an earlier run
        definition = catalogue.load_current(workspace.settings, session, SLUG)
        invitations.invite(
            session, definition, refs=[str(_org(workspace, SECOND))], everyone=False, actor="x"
        )
    org = _org(workspace, FIRST)
    ask = staff.get(f"{BASE}/{org}/resend")
    assert ask.status_code == 200 and "Every link sent before stops working" in _text(ask)
    assert _count(workspace, OutboxMessage) == 2  # asking changed nothing
    response = _post(staff, f"{BASE}/{org}/resend")
    assert response.status_code == 302, response.text
    _wait_until_sent(staff)
    first_address = workspace.emails[FIRST][0]
    assert len(mailbox.for_address(first_address)) == 2
    assert mailbox.for_address(workspace.emails[SECOND][0]) == []  # still queued
    assert web_client.get(f"/s/{old}", headers={"User-Agent": BROWSER_AGENT}).status_code != 200
    new = mailbox.for_address(first_address)[-1].link()[1]
    assert web_client.get(f"/s/{new}", headers={"User-Agent": BROWSER_AGENT}).status_code == 200


def test_a_new_link_for_an_organisation_never_invited_is_refused(signon_workspace, staff) -> None:
    org = _org(signon_workspace, FIRST)
    response = _post(staff, f"{BASE}/{org}/resend")
    assert response.status_code == 400
    assert "has not been invited" in _text(response)
    assert _count(signon_workspace, OutboxMessage) == 0


# --- answers received another way -------------------------------------------------------


def test_recording_a_confirmation_is_the_same_as_sign_and_names_the_staff_member(
    signon_workspace, staff, invoke
) -> None:
    org = _org(signon_workspace, FIRST)
    assert staff.get(f"{BASE}/{org}/answer").status_code == 200
    form = {"action": "confirm", "signer": "Aynur Tursun", "title": "Director", "listing": "public"}
    response = _post(staff, f"{BASE}/{org}/answer", **form)
    assert response.status_code == 302, response.text
    result = invoke(
        "sign", SLUG, str(_org(signon_workspace, SECOND)), "--confirm",
        "--signer", "Aynur Tursun", "--title", "Director",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    web, cli = _invitation(signon_workspace, FIRST), _invitation(signon_workspace, SECOND)
    for attribute in ("state", "signer_name", "signer_title", "listing", "text_hash"):
        assert getattr(web, attribute) == getattr(cli, attribute), attribute
    web_event, cli_event = (
        _events(signon_workspace, FIRST)[-1],
        _events(signon_workspace, SECOND)[-1],
    )
    assert (web_event.kind, web_event.detail) == (cli_event.kind, cli_event.detail)
    assert (web_event.actor, cli_event.actor) == ("staff: Ana Lima", "staff: Test Coordinator")
    page = _text(staff.get(BASE))
    assert "Recorded:" in page and "(as Ana Lima)" in page
    assert "recorded by staff (Ana Lima)" in page


def test_a_confirmation_without_a_signer_is_refused_with_the_form_as_typed(
    signon_workspace, staff
) -> None:
    org = _org(signon_workspace, FIRST)
    form = {"action": "confirm", "title": "Director typed", "listing": "public"}
    response = _post(staff, f"{BASE}/{org}/answer", **form)
    assert response.status_code == 400
    assert "A confirmation needs the name of the person who gave it." in _text(response)
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.find("input", id="title")["value"] == "Director typed"
    assert soup.find("input", id="signer")["aria-invalid"] == "true"
    assert _count(signon_workspace, Invitation) == 0


def test_a_refused_answer_lists_each_problem_at_the_top_linked_to_its_field(
    signon_workspace, staff
) -> None:
    org = _org(signon_workspace, FIRST)
    blank = BeautifulSoup(staff.get(f"{BASE}/{org}/answer").text, "html.parser")
    assert blank.find("input", id="signer") is not None  # control: the form is there
    assert blank.find(id="errors") is None  # and no summary before a problem
    form = {"action": "confirm", "listing": "public"}  # neither signer nor title
    response = _post(staff, f"{BASE}/{org}/answer", **form)
    assert response.status_code == 400
    summary = BeautifulSoup(response.text, "html.parser").find(id="errors")
    assert summary is not None and summary.get("role") == "alert"
    assert "Nothing was recorded" in summary.h2.get_text()
    assert [a["href"] for a in summary.find_all("a")] == ["#signer", "#title"]
    assert "needs the title of the person" in summary.get_text()
    assert _count(signon_workspace, Invitation) == 0


def test_a_received_on_that_is_not_a_date_is_refused_naming_the_field(
    signon_workspace, staff
) -> None:
    org = _org(signon_workspace, FIRST)
    form = {"action": "decline", "received_on": "yesterday"}
    response = _post(staff, f"{BASE}/{org}/answer", **form)
    assert response.status_code == 400
    assert "When the answer arrived: 'yesterday' is not a date" in _text(response)
    assert _count(signon_workspace, Invitation) == 0


def test_after_closing_an_answer_needs_a_received_on_before_the_close(
    signon_workspace, staff, invoke
) -> None:
    invite_one_cli = invoke("invite", SLUG, "--org", str(_org(signon_workspace, FIRST)))
    assert invite_one_cli.exit_code == 0, invite_one_cli.output
    assert invoke("close", SLUG, "--yes").exit_code == 0
    org = _org(signon_workspace, FIRST)
    refused = _post(staff, f"{BASE}/{org}/answer", action="decline")
    assert refused.status_code == 400
    assert f"The sign-on for {SLUG} is closed; answers can no longer be changed." in _text(refused)
    assert _invitation(signon_workspace, FIRST).state == "invited"
    from datetime import UTC, datetime, timedelta

    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    taken = _post(staff, f"{BASE}/{org}/answer", action="decline", received_on=yesterday)
    assert taken.status_code == 302, taken.text
    assert _invitation(signon_workspace, FIRST).state == "declined"


# --- proposed names ---------------------------------------------------------------------

CORRECTED = "Canadian Friends of Hong Kong 加拿大香港之友"
NAMES = f"/staff/c/{SLUG}/names"


@pytest.fixture
def proposal(signon_workspace, invoke, mailbox, web_client) -> int:  # type: ignore[no-untyped-def]
    """SECOND confirmed through its link and proposed CORRECTED; its organisation id."""
    token = invite_one(signon_workspace, invoke, mailbox, SECOND)
    form = confirm_form(web_client, token, display_name=CORRECTED)
    assert web_client.post(f"/s/{token}", data=form).status_code == 303
    assert _invitation(signon_workspace, SECOND).proposed_name == CORRECTED
    return _org(signon_workspace, SECOND)


def test_the_names_page_shows_the_registry_name_beside_the_proposal_with_what_differs(
    proposal: int, staff
) -> None:
    page = staff.get(NAMES)
    assert page.status_code == 200
    soup = BeautifulSoup(page.text, "html.parser")
    terms = {dt.get_text(): dt.find_next("dd").get_text() for dt in soup.find_all("dt")}
    assert terms["Registry name"] == SECOND
    assert terms["Proposed name"] == CORRECTED
    differs = soup.select_one("dd.diff")
    assert [d.get_text() for d in differs.select("del")] == ["(", ")"]
    assert differs.select("ins") == []
    assert differs.get_text() == SECOND  # the printed name, with the removed marked
    assert ascii(CORRECTED) in terms["As written"]


def test_approving_prints_the_name_and_the_trail_names_the_staff_member_and_reason(
    signon_workspace, proposal: int, staff
) -> None:
    response = _post(
        staff, f"{NAMES}/{proposal}", decision="approve", expected=CORRECTED, reason="Checked"
    )
    assert response.status_code == 302, response.text
    invitation = _invitation(signon_workspace, SECOND)
    assert (invitation.display_name, invitation.proposed_name) == (CORRECTED, None)
    event = _events(signon_workspace, SECOND)[-1]
    assert (event.kind, event.actor) == ("name approved", "staff: Ana Lima")
    assert '"reason":"Checked"' in event.detail
    assert f"Approved: {CORRECTED} is printed" in _text(staff.get(NAMES))


def test_rejecting_keeps_the_registry_name_as_names_reject_does(
    signon_workspace, proposal: int, staff
) -> None:
    response = _post(staff, f"{NAMES}/{proposal}", decision="reject", expected=CORRECTED)
    assert response.status_code == 302, response.text
    invitation = _invitation(signon_workspace, SECOND)
    assert (invitation.display_name, invitation.proposed_name) == (None, None)
    event = _events(signon_workspace, SECOND)[-1]
    assert (event.kind, event.actor) == ("name rejected", "staff: Ana Lima")
    assert "No proposed names await a decision." in _text(staff.get(NAMES))


def test_a_decision_without_approve_or_reject_is_refused_and_changes_nothing(
    signon_workspace, proposal: int, staff
) -> None:
    response = _post(staff, f"{NAMES}/{proposal}", expected=CORRECTED)
    assert response.status_code == 400
    assert "Choose approve or reject." in _text(response)
    assert _invitation(signon_workspace, SECOND).proposed_name == CORRECTED


def test_approving_a_proposal_that_changed_meanwhile_is_refused_and_changes_nothing(
    signon_workspace, proposal: int, staff
) -> None:
    response = _post(staff, f"{NAMES}/{proposal}", decision="approve", expected="Something else")
    assert response.status_code == 400
    assert "The proposed name changed meanwhile" in _text(response)
    invitation = _invitation(signon_workspace, SECOND)
    assert (invitation.display_name, invitation.proposed_name) == (None, CORRECTED)


# --- no raw token -----------------------------------------------------------------------


def test_no_page_of_the_area_shows_a_raw_token(
    signon_workspace, proposal: int, staff, mailbox: CaptureHandler
) -> None:
    _post(staff, f"{BASE}/send", scope="all")
    _wait_until_sent(staff)
    tokens = [received.link()[1] for received in mailbox.received]
    assert len(tokens) == 5
    org = _org(signon_workspace, FIRST)
    pages = [
        staff.get(BASE),
        staff.get(f"{BASE}/progress"),
        staff.get(f"{BASE}/{org}/resend"),
        staff.get(f"{BASE}/{org}/answer"),
        staff.get(NAMES),
    ]
    for page in pages:
        assert page.status_code == 200
        for token in tokens:
            assert token not in page.text
    assert SECOND in pages[-1].text  # control: the pages show what they are about


def test_sending_without_a_mail_server_set_up_is_refused_and_queues_nothing(
    signon_workspace, staff
) -> None:
    from dataclasses import replace

    from coalitionletter.web.app import create_app

    workspace = signon_workspace
    settings = replace(workspace.settings, smtp=replace(workspace.settings.smtp, host=""))
    client = create_app(settings, workspace.database).test_client()
    assert sign_in(client, STAFF_EMAIL).status_code == 302
    response = _post(client, f"{BASE}/send", scope="all")
    assert response.status_code == 400
    assert "No SMTP server is configured." in _text(response)
    assert _count(workspace, OutboxMessage) == 0
    assert _count(workspace, Invitation) == 0


def test_a_name_to_print_that_is_another_organisations_is_refused_as_sign_refuses_it(
    signon_workspace, staff
) -> None:
    org = _org(signon_workspace, FIRST)
    form = {
        "action": "confirm", "signer": "Aynur Tursun", "title": "Director",
        "display_name": SECOND, "listing": "public",
    }  # fmt: skip
    response = _post(staff, f"{BASE}/{org}/answer", **form)
    assert response.status_code == 400
    assert "is the name of another organisation on our list" in _text(response)
    assert BeautifulSoup(response.text, "html.parser").find("input", id="signer")["value"] == (
        "Aynur Tursun"
    )
    assert _count(signon_workspace, Invitation) == 0


def test_sending_to_all_again_counts_the_skipped_as_invite_all_does(
    signon_workspace, staff, invoke
) -> None:
    assert invoke("invite", SLUG, "--all").exit_code == 0
    cli = invoke("invite", SLUG, "--all")
    (summary,) = [line for line in cli.output.splitlines() if line.startswith("Skipped")]
    response = _post(staff, f"{BASE}/send", scope="all")
    assert response.status_code == 302, response.text
    page = _text(staff.get(BASE))
    assert summary in page
    assert "Queued 0 invitations." in page
    assert f"Skipped {ORGANISATIONS[0][0]}" not in page
    # Nothing to send: no send started; the record is still the CLI's finished send.
    with signon_workspace.database.reading() as session:
        (run,) = session.scalars(select(SendRun)).all()
    assert (run.started_by, run.finished_at is not None) == ("staff: Test Coordinator", True)


def test_two_staff_pressing_send_at_once_on_two_servers_send_once(
    signon_workspace, staff, mailbox: CaptureHandler
) -> None:
    from coalitionletter.web.app import create_app

    workspace = signon_workspace
    other = create_app(workspace.settings, workspace.database).test_client()
    assert sign_in(other, STAFF_EMAIL).status_code == 302
    tokens = {id(c): csrf_in(c.get("/staff/").text) for c in (staff, other)}
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def press(client) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        data = {"csrf_token": tokens[id(client)], "scope": "all"}
        statuses.append(client.post(f"{BASE}/send", data=data).status_code)

    threads = [threading.Thread(target=press, args=(c,)) for c in (staff, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [302, 409]
    _wait_until_sent(staff)
    _wait_until_sent(other)
    addresses = sorted(a for r in mailbox.received for a in r.recipients)
    assert addresses == sorted(e for emails in workspace.emails.values() for e in emails)
    assert _count(workspace, OutboxMessage) == 5
