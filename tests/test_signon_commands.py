"""Staff commands around the sign-on: sign, close, remind, reconfirm."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from coalitionletter.models import Event, Invitation
from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    CaptureHandler,
    SignOnWorkspace,
    invite_one,
)

SLUG = "ilp-magnitsky-2020"
FIRST = ORGANISATIONS[0][0]
EVERY_DAY = {"COALITIONLETTER_REMINDERS_INTERVAL_DAYS": "0"}


def _states(workspace: SignOnWorkspace) -> dict[int, str]:
    with workspace.database.reading() as session:
        rows = session.execute(select(Invitation.organisation_id, Invitation.state))
        return {organisation_id: state for organisation_id, state in rows}


def _events(workspace: SignOnWorkspace) -> int:
    with workspace.database.reading() as session:
        return session.scalar(select(func.count(Event.id)))


def _org(workspace: SignOnWorkspace, name: str = FIRST) -> str:
    return str(workspace.organisations[name])


# --- sign ---------------------------------------------------------------------------


def test_staff_record_a_confirmation_under_their_name(
    signon_workspace: SignOnWorkspace, invoke
) -> None:
    result = invoke(
        "sign", SLUG, "uyghur-rights-advocacy-network", "--confirm",
        "--signer", "Aynur Tursun", "--title", "Director",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "Recorded: Uyghur Rights Advocacy Network confirmed (as Test Coordinator)" in result.output
    )
    with signon_workspace.database.reading() as session:
        invitation = session.scalars(select(Invitation)).one()
        event = session.scalars(select(Event).where(Event.kind == "confirmed")).one()
    assert invitation.text_hash == signon_workspace.definition.text_hash
    assert event.actor == "staff: Test Coordinator"


@pytest.mark.parametrize(
    ("organisation", "answer", "message"),
    [
        (FIRST, ["--confirm"], "--signer NAME and --title TITLE"),
        (None, ["--decline"], "No organisation has the id, slug or name 'no-such-org'"),
        (FIRST, [], "--confirm, --decline or --withdraw"),
        (FIRST, ["--withdraw"], "Cannot withdraw an invitation that is not invited"),
    ],
    ids=["confirm-without-signer", "unknown-organisation", "no-answer", "withdraw-unconfirmed"],
)
def test_a_refused_sign_says_why_and_changes_nothing(
    signon_workspace: SignOnWorkspace, invoke, organisation: str | None, answer, message: str
) -> None:
    who = _org(signon_workspace, organisation) if organisation else "no-such-org"
    result = invoke("sign", SLUG, who, *answer)
    assert result.exit_code != 0
    assert message in result.output
    assert _states(signon_workspace) == {}
    assert _events(signon_workspace) == 0


# --- close --------------------------------------------------------------------------


def test_after_closing_no_answer_can_be_recorded(signon_workspace: SignOnWorkspace, invoke) -> None:
    assert invoke("close", SLUG, "--yes").exit_code == 0
    events_before = _events(signon_workspace)
    result = invoke("sign", SLUG, _org(signon_workspace), "--decline")
    assert result.exit_code != 0
    assert "is closed" in result.output
    assert _states(signon_workspace) == {}
    assert _events(signon_workspace) == events_before


def test_closing_twice_says_so(signon_workspace: SignOnWorkspace, invoke) -> None:
    invoke("close", SLUG, "--yes")
    result = invoke("close", SLUG, "--yes")
    assert "already closed; nothing changed" in result.output


def test_closing_asks_first(signon_workspace: SignOnWorkspace, invoke) -> None:
    result = invoke("close", SLUG, input="n\n")
    assert result.exit_code != 0
    assert _events(signon_workspace) == 0


# --- remind -------------------------------------------------------------------------


def test_a_reminder_reads_differently_from_the_invitation(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invite_one(signon_workspace, invoke, mailbox, FIRST)
    result = invoke("remind", SLUG, env=EVERY_DAY)
    assert result.exit_code == 0, result.output
    invitation, reminder = mailbox.received
    assert reminder.message["Subject"].startswith("Reminder: ")
    assert not invitation.message["Subject"].startswith("Reminder")
    assert reminder.text().splitlines()[0].startswith("A reminder:")
    assert invitation.text().splitlines()[0].startswith("You are invited")


def test_a_reminder_carries_a_new_link_and_the_first_one_still_works(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler, web_client
) -> None:
    first = invite_one(signon_workspace, invoke, mailbox, FIRST)
    invoke("remind", SLUG, env=EVERY_DAY)
    second = mailbox.received[-1].link()[1]
    assert second != first
    for token in (first, second):
        response = web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT})
        assert response.status_code == 200


def test_no_organisation_gets_more_than_the_maximum_of_reminders(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invoke("invite", SLUG, "--all")
    for _ in range(3):
        invoke("remind", SLUG, env=EVERY_DAY)
    for name, contacts in ORGANISATIONS:
        assert len(mailbox.for_address(contacts[0][1])) == 1 + 2, name


def test_no_reminder_within_the_interval_of_the_last_message(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invoke("invite", SLUG, "--all")
    result = invoke("remind", SLUG)
    assert "Queued 0 reminder(s)" in result.output
    assert len(mailbox.received) == len(ORGANISATIONS)


def test_an_organisation_that_answered_gets_no_reminder(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invoke("invite", SLUG, "--all")
    invoke("sign", SLUG, _org(signon_workspace), "--decline")
    invoke("remind", SLUG, env=EVERY_DAY)
    assert len(mailbox.for_address(signon_workspace.emails[FIRST][0])) == 1


def test_no_reminder_after_the_sign_on_closed(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invoke("invite", SLUG, "--all")
    invoke("close", SLUG, "--yes")
    result = invoke("remind", SLUG, env=EVERY_DAY)
    assert result.exit_code != 0
    assert "is closed" in result.output
    assert len(mailbox.received) == len(ORGANISATIONS)


# --- reconfirm ----------------------------------------------------------------------


def _change_the_text(workspace: SignOnWorkspace) -> tuple[str, str]:
    body = workspace.home / "letters" / SLUG / "body.md"
    text = body.read_text(encoding="utf-8")
    paragraph = next(p for p in text.split("\n\n") if len(p) > 80 and "{{" not in p)
    last = paragraph.split()[-1]
    body.write_text(text.replace(paragraph, paragraph.replace(last, "CHANGED.")), encoding="utf-8")
    return last, "CHANGED."


def test_reconfirm_emails_only_those_who_agreed_to_another_text_with_the_changes(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invoke("invite", SLUG, "--all")
    org = _org(signon_workspace)
    invoke("sign", SLUG, org, "--confirm", "--signer", "A", "--title", "B")
    before, after = _change_the_text(signon_workspace)
    result = invoke("reconfirm", SLUG)
    assert result.exit_code == 0, result.output
    (message,) = mailbox.received[len(ORGANISATIONS) :]
    assert message.recipients == signon_workspace.emails[FIRST]
    assert message.message["Subject"].startswith("Please reconfirm: ")
    text = message.text()
    assert f"[-{before}-] {{+{after}+}}" in text
    assert "/s/" in text


def test_reconfirm_names_the_changed_paragraph_as_counted_in_the_body(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invoke("invite", SLUG, "--all")
    invoke("sign", SLUG, _org(signon_workspace), "--confirm", "--signer", "A", "--title", "B")
    body = (signon_workspace.home / "letters" / SLUG / "body.md").read_text(encoding="utf-8")
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    number = 1 + next(i for i, p in enumerate(paragraphs) if len(p) > 80 and "{{" not in p)
    _change_the_text(signon_workspace)
    assert invoke("reconfirm", SLUG).exit_code == 0
    text = mailbox.received[-1].text()
    assert f"Paragraph {number}, changed:" in text
    assert f"Paragraph {number + 1}, changed:" not in text


def test_reconfirm_asks_each_organisation_once_per_text(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invoke("sign", SLUG, _org(signon_workspace), "--confirm", "--signer", "A", "--title", "B")
    _change_the_text(signon_workspace)
    invoke("reconfirm", SLUG)
    again = invoke("reconfirm", SLUG)
    assert "already asked to reconfirm this text" in again.output
    assert len(mailbox.received) == 1


def test_confirming_the_new_text_from_the_link_is_logged_as_reconfirmed(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler, web_client
) -> None:
    invoke("sign", SLUG, _org(signon_workspace), "--confirm", "--signer", "A", "--title", "B")
    _change_the_text(signon_workspace)
    invoke("reconfirm", SLUG)
    token = mailbox.received[-1].link()[1]
    page = BeautifulSoup(
        web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT}).text, "html.parser"
    )
    assert "The text has changed since you confirmed" in page.get_text()
    form = page.find("input", attrs={"value": "confirm"}).find_parent("form")
    data = {i["name"]: i["value"] for i in form.find_all("input", attrs={"type": "hidden"})}
    data |= {"signer_name": "A", "signer_title": "B", "authorised": "yes", "listing": "public"}
    assert web_client.post(f"/s/{token}", data=data).status_code == 303
    with signon_workspace.database.reading() as session:
        kinds = list(session.scalars(select(Event.kind).order_by(Event.seq)))
        invitation = session.scalars(select(Invitation)).one()
    assert kinds[-1] == "reconfirmed"
    assert invitation.text_hash == signon_workspace.definition.text_hash


def test_invite_needs_to_be_told_whom(signon_workspace: SignOnWorkspace, invoke) -> None:
    result = invoke("invite", SLUG)
    assert result.exit_code != 0
    assert "--org REF" in result.output


def test_a_remind_that_queues_none_says_why(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invoke("invite", SLUG, "--all")
    result = invoke("remind", SLUG)
    assert result.exit_code == 0, result.output
    assert "Queued 0 reminder(s)" in result.output
    assert f"of the {len(ORGANISATIONS)} organisation(s) that have not answered" in result.output
    assert "interval_days" in result.output


def test_a_remind_after_the_maximum_says_so(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invoke("invite", SLUG, "--all")
    for _ in range(2):
        assert "Queued 5 reminder(s)" in invoke("remind", SLUG, env=EVERY_DAY).output
    result = invoke("remind", SLUG, env=EVERY_DAY)
    assert "already had 2 reminder(s), the most [reminders] max allows" in result.output


def test_a_remind_when_everyone_answered_says_so(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    invoke("invite", SLUG, "--all")
    for name in signon_workspace.organisations:
        assert invoke("sign", SLUG, _org(signon_workspace, name), "--decline").exit_code == 0
    result = invoke("remind", SLUG, env=EVERY_DAY)
    assert "no organisation is waiting to answer" in result.output
