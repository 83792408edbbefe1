"""How the sign-on POST is read: a browser's urlencoded form, other bodies, broken ones."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select

from coalitionletter.models import Event, Invitation
from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    CaptureHandler,
    LiveServer,
    SignOnWorkspace,
    confirm_form,
    invite_one,
)

NAME = ORGANISATIONS[0][0]
HUMAN = {"User-Agent": BROWSER_AGENT}
SIGNER = {"signer_name": "Aynur Tursun", "signer_title": "Director"}
URLENCODED = {**HUMAN, "Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def token(signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler) -> str:
    return invite_one(signon_workspace, invoke, mailbox, NAME)


def _answer(workspace: SignOnWorkspace) -> tuple[str, str | None, int]:
    with workspace.database.reading() as session:
        invitation = session.scalars(
            select(Invitation).where(Invitation.organisation_id == workspace.organisations[NAME])
        ).one()
        events = session.scalar(select(func.count(Event.id)))
    return invitation.state, invitation.signer_name, events


def test_a_browsers_urlencoded_confirmation_is_taken(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    body = urlencode(confirm_form(web_client, token, **SIGNER))
    response = web_client.post(f"/s/{token}", data=body, headers=URLENCODED)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{token}"
    assert _answer(signon_workspace)[:2] == ("confirmed", "Aynur Tursun")


def test_a_field_sent_twice_counts_by_its_first_value(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    body = urlencode(confirm_form(web_client, token, **SIGNER)) + "&signer_name=Someone+Else"
    response = web_client.post(f"/s/{token}", data=body, headers=URLENCODED)
    assert response.status_code == 303
    assert _answer(signon_workspace)[1] == "Aynur Tursun"


def test_a_multipart_confirmation_is_still_understood(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    form = confirm_form(web_client, token, **SIGNER)
    response = web_client.post(
        f"/s/{token}", data=form, headers=HUMAN, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    assert _answer(signon_workspace)[:2] == ("confirmed", "Aynur Tursun")


def test_a_form_whose_text_is_not_utf8_is_refused_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    before = _answer(signon_workspace)
    body = (
        urlencode(confirm_form(web_client, token, **SIGNER)).encode("ascii")
        + b"&signer_title=\xff\xfe"
    )
    response = web_client.post(f"/s/{token}", data=body, headers=URLENCODED)
    assert response.status_code == 400
    assert "The form was not understood" in response.text
    assert _answer(signon_workspace) == before


def test_a_form_over_the_size_limit_is_refused_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    before = _answer(signon_workspace)
    form = {
        **confirm_form(web_client, token, **SIGNER),
        "reason": "x" * 40_000,
    }
    response = web_client.post(f"/s/{token}", data=urlencode(form), headers=URLENCODED)
    assert response.status_code == 413
    assert "too large" in response.text
    assert _answer(signon_workspace) == before


@pytest.mark.parametrize("encoded", ["%FF%FE", "%C0%AF", "%ED%A0%80"])
def test_a_field_percent_encoding_invalid_utf8_is_refused_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str, encoded: str
) -> None:
    before = _answer(signon_workspace)
    form = confirm_form(web_client, token, **SIGNER)
    del form["signer_title"]
    body = f"{urlencode(form)}&signer_title=Chair{encoded}"
    response = web_client.post(f"/s/{token}", data=body, headers=URLENCODED)
    assert response.status_code == 400
    assert "The form was not understood" in response.text
    assert _answer(signon_workspace) == before
    # Positive control: the same form with the title spelt in UTF-8 is taken.
    body = f"{urlencode(form)}&signer_title=Chair%C3%A9"
    assert web_client.post(f"/s/{token}", data=body, headers=URLENCODED).status_code == 303
    assert _answer(signon_workspace)[0] == "confirmed"


def test_a_real_server_refuses_percent_encoded_invalid_utf8(
    signon_workspace: SignOnWorkspace, live_server: LiveServer, token: str
) -> None:
    before = _answer(signon_workspace)
    with httpx.Client(base_url=live_server.url, headers=HUMAN) as client:
        form = confirm_form(client, token, **SIGNER)
        body = urlencode(form) + "&display_name=%FF%FE"
        response = client.post(f"/s/{token}", content=body, headers=URLENCODED)
    assert response.status_code == 400
    assert "The form was not understood" in response.text
    assert _answer(signon_workspace) == before
