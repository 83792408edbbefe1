"""Personal links: 256-bit tokens, only their hash kept, one neutral page for every bad link."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import inspect, select, text

from coalitionletter.models import Invitation, InvitationToken, utcnow
from coalitionletter.signon import links, tokens
from fixtures_signon import (
    HUMAN,
    ORGANISATIONS,
    SIGNER,
    SLUG,
    CaptureHandler,
    SignOnWorkspace,
    confirm_form,
    invite_one,
    set_deadline,
)

NAME = ORGANISATIONS[0][0]


def test_a_token_has_256_bits_and_is_url_safe() -> None:
    token = tokens.new_token()
    assert len(token) == 43
    assert tokens.well_formed(token)
    assert token != tokens.new_token()


def test_the_raw_token_is_in_no_database_column_and_no_log(
    signon_workspace: SignOnWorkspace,
    invoke,
    mailbox: CaptureHandler,
    web_client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = invite_one(signon_workspace, invoke, mailbox, NAME)
    web_client.get(f"/s/{token}", headers=HUMAN)
    web_client.head(f"/s/{token}")
    web_client.post(
        f"/s/{token}",
        data=confirm_form(web_client, token, **SIGNER),
    )
    web_client.post(f"/s/{token}", data={"action": "nonsense"})
    dump = []
    with signon_workspace.database.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                dump.extend(str(value) for value in row)
    assert any(tokens.token_hash(token) in value for value in dump)
    assert not any(token in value for value in dump)
    # aiosmtpd's own "mail.log" is the receiving server: it holds the message by design.
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert ours, "nothing was logged at all; the check would be empty"
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in ours)
    assert token not in logged
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(Invitation.state)).one() == "confirmed"


def _neutral(response) -> str:
    page = BeautifulSoup(response.text, "html.parser")
    return page.find("main").get_text(" ", strip=True)


def test_wrong_malformed_and_revoked_links_get_the_same_neutral_404(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    wrong = web_client.get("/s/" + tokens.new_token(), headers=HUMAN)
    malformed = web_client.get("/s/not-a-token'%3Cscript%3E", headers=HUMAN)
    invoke("invite", SLUG, "--resend", str(signon_workspace.organisations[NAME]))
    revoked = web_client.get(f"/s/{token}", headers=HUMAN)
    assert [r.status_code for r in (wrong, malformed, revoked)] == [404, 404, 404]
    assert _neutral(wrong) == _neutral(malformed) == _neutral(revoked)
    for response in (wrong, malformed, revoked):
        assert NAME not in response.text
        assert "Uyghur" not in response.text


def test_an_expired_link_gets_410_and_says_the_sign_on_closed_not_that_the_link_is_bad(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    wrong = web_client.get("/s/" + tokens.new_token(), headers=HUMAN)
    assert invoke("close", SLUG, "--yes").exit_code == 0
    expired = web_client.get(f"/s/{token}", headers=HUMAN)
    after = web_client.get("/s/" + tokens.new_token(), headers=HUMAN)
    assert expired.status_code == 410
    assert "has closed" in _neutral(expired)
    assert "does not open a sign-on page" not in expired.text
    # An unknown link still names nobody, closed or not.
    assert _neutral(after) == _neutral(wrong)
    assert NAME not in after.text


def test_after_the_deadline_every_post_is_refused_and_nothing_changes(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    data = confirm_form(web_client, token, **SIGNER)
    # The deadline in force is letter.toml's (the row's copy is synced by commands).
    letter = signon_workspace.home / "letters" / SLUG / "letter.toml"
    passed = (utcnow() - timedelta(minutes=1)).isoformat(timespec="seconds")
    letter.write_text(f"deadline = {passed}\n" + letter.read_text("utf-8"), encoding="utf-8")
    for action in ("confirm", "decline", "withdraw"):
        response = web_client.post(f"/s/{token}", data={**data, "action": action})
        assert response.status_code == 410
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(Invitation.state)).one() == "invited"


def test_resending_replaces_the_link_and_the_old_one_stops_working(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke, mailbox: CaptureHandler
) -> None:
    result = invoke("invite", SLUG, "--resend", str(signon_workspace.organisations[NAME]))
    assert result.exit_code == 0, result.output
    new = mailbox.for_address(signon_workspace.emails[NAME][0])[-1].link()[1]
    assert new != token
    assert web_client.get(f"/s/{new}", headers=HUMAN).status_code == 200
    assert web_client.get(f"/s/{token}", headers=HUMAN).status_code == 404
    with signon_workspace.database.reading() as session:
        revoked = session.scalars(
            select(InvitationToken).where(InvitationToken.revoked_at.is_not(None))
        ).all()
    assert len(revoked) == 1


def test_opening_a_link_does_not_use_it_up(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    for _ in range(3):
        assert web_client.get(f"/s/{token}", headers=HUMAN).status_code == 200


def test_a_deadline_written_in_letter_toml_expires_links_at_once(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    set_deadline(signon_workspace.home)
    response = web_client.get(f"/s/{token}", headers=HUMAN)
    assert response.status_code == 410
    assert "has closed" in response.text


def test_a_second_link_issued_for_an_invitation_opens_it_beside_the_first_and_is_kept_hashed(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    with signon_workspace.database.writing() as session:
        invitation_id = session.scalars(select(Invitation.id)).one()
        raw = links.issue_token(session, invitation_id)
    assert raw != token
    assert web_client.get(f"/s/{raw}", headers=HUMAN).status_code == 200
    assert web_client.get(f"/s/{token}", headers=HUMAN).status_code == 200
    with signon_workspace.database.reading() as session:
        hashes = session.scalars(
            select(InvitationToken.token_hash).where(InvitationToken.invitation_id == invitation_id)
        ).all()
    assert tokens.token_hash(raw) in hashes
    assert raw not in hashes
