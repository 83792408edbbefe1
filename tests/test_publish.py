"""publish: organisations see and sign the published text; body.md is a draft until published."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from coalitionletter.models import Campaign, Event, Invitation
from fixtures_signon import (
    HUMAN,
    ORGANISATIONS,
    SIGNER,
    SLUG,
    CaptureHandler,
    SignOnWorkspace,
    confirm,
)

NAME = ORGANISATIONS[0][0]
DRAFT_WORDS = "A sentence still being drafted"


def _ok(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output


def _body(workspace: SignOnWorkspace) -> Path:
    return workspace.home / "letters" / SLUG / "body.md"


def _add_paragraph(workspace: SignOnWorkspace, words: str = DRAFT_WORDS) -> None:
    body = _body(workspace)
    body.write_text(body.read_text("utf-8") + f"\n{words}.\n", "utf-8")


def _letter_text(web_client, token: str) -> str:  # type: ignore[no-untyped-def]
    page = BeautifulSoup(web_client.get(f"/s/{token}", headers=HUMAN).text, "html.parser")
    return page.find("article", class_="letter").get_text(" ", strip=True)


def _published_hash(workspace: SignOnWorkspace) -> str | None:
    with workspace.database.reading() as session:
        return session.scalar(select(Campaign.published_hash))


def _staff_confirm(invoke, workspace: SignOnWorkspace) -> None:  # type: ignore[no-untyped-def]
    org = str(workspace.organisations[NAME])
    args = ["--signer", "Aynur Tursun", "--title", "Director"]
    _ok(invoke("sign", SLUG, org, "--confirm", *args))


def _event_count(workspace: SignOnWorkspace) -> int:
    with workspace.database.reading() as session:
        return session.scalar(select(func.count(Event.id)))


def test_after_publishing_an_edit_to_body_md_does_not_reach_the_page(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _ok(invoke("publish", SLUG))
    published = _published_hash(signon_workspace)
    _add_paragraph(signon_workspace)
    assert DRAFT_WORDS not in _letter_text(web_client, token)
    page = BeautifulSoup(web_client.get(f"/s/{token}", headers=HUMAN).text, "html.parser")
    assert page.find("input", attrs={"name": "text_hash"})["value"] == published


def test_without_publishing_the_files_stay_live_as_before(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _add_paragraph(signon_workspace)
    assert DRAFT_WORDS in _letter_text(web_client, token)


def test_a_syntax_error_in_the_draft_does_not_break_the_published_page(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _ok(invoke("publish", SLUG))
    _add_paragraph(signon_workspace, "Broken {{ placeholder")
    response = web_client.get(f"/s/{token}", headers=HUMAN)
    assert response.status_code == 200
    confirm(web_client, token, **SIGNER)


def test_publishing_the_draft_shows_it_and_binds_new_confirmations_to_it(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _ok(invoke("publish", SLUG))
    first = _published_hash(signon_workspace)
    _add_paragraph(signon_workspace)
    result = invoke("publish", SLUG)
    _ok(result)
    assert f"{{+{DRAFT_WORDS}.+}}" in result.output
    second = _published_hash(signon_workspace)
    assert second != first
    assert DRAFT_WORDS in _letter_text(web_client, token)
    confirm(web_client, token, **SIGNER)
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(Invitation.text_hash)).one() == second
        (event,) = session.scalars(
            select(Event).where(Event.kind == "published").order_by(Event.id.desc()).limit(1)
        )
    assert event.text_hash == second
    assert f'"previous":"{first}"' in event.detail


def test_publish_diff_shows_the_change_and_publishes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _ok(invoke("publish", SLUG))
    published = _published_hash(signon_workspace)
    events_before = _event_count(signon_workspace)
    _add_paragraph(signon_workspace)
    result = invoke("publish", SLUG, "--diff")
    _ok(result)
    assert f"{{+{DRAFT_WORDS}.+}}" in result.output
    assert "Not published (--diff)" in result.output
    assert _published_hash(signon_workspace) == published
    assert _event_count(signon_workspace) == events_before
    assert DRAFT_WORDS not in _letter_text(web_client, token)


def test_a_broken_draft_is_refused_naming_the_line_and_nothing_is_published(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _ok(invoke("publish", SLUG))
    published = _published_hash(signon_workspace)
    events_before = _event_count(signon_workspace)
    _add_paragraph(signon_workspace, "Broken {{ placeholder")
    result = invoke("publish", SLUG)
    assert result.exit_code != 0
    assert "body.md:" in result.output and "is not a complete placeholder" in result.output
    assert _published_hash(signon_workspace) == published
    assert _event_count(signon_workspace) == events_before


def test_publishing_the_same_text_again_changes_nothing(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _ok(invoke("publish", SLUG))
    events_before = _event_count(signon_workspace)
    result = invoke("publish", SLUG)
    _ok(result)
    assert "already published" in result.output
    assert _event_count(signon_workspace) == events_before


def test_staff_answers_and_reconfirm_use_the_published_text_not_the_draft(
    signon_workspace: SignOnWorkspace, token: str, invoke, mailbox: CaptureHandler
) -> None:
    _ok(invoke("publish", SLUG))
    published = _published_hash(signon_workspace)
    _add_paragraph(signon_workspace)
    _staff_confirm(invoke, signon_workspace)
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(Invitation.text_hash)).one() == published
    result = invoke("reconfirm", SLUG)
    _ok(result)
    assert "Queued 0 request(s) to reconfirm" in result.output


def test_after_publishing_a_change_earlier_confirmations_are_stale_and_reconfirm_asks(
    signon_workspace: SignOnWorkspace, token: str, invoke, mailbox: CaptureHandler
) -> None:
    _ok(invoke("publish", SLUG))
    _staff_confirm(invoke, signon_workspace)
    _add_paragraph(signon_workspace)
    result = invoke("publish", SLUG)
    _ok(result)
    assert "1 confirmation(s) are of an earlier text" in result.output
    asked = invoke("reconfirm", SLUG)
    _ok(asked)
    assert "Queued 1 request(s) to reconfirm" in asked.output
    assert DRAFT_WORDS in mailbox.received[-1].text()


def test_build_prints_the_published_text_and_says_the_draft_differs(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _ok(invoke("publish", SLUG))
    _staff_confirm(invoke, signon_workspace)
    _add_paragraph(signon_workspace)
    result = invoke("build", "--format", "html", "-q", "--recipient", "uk")
    _ok(result)
    assert "holds changes to the text that are not published" in result.output
    built = (signon_workspace.home / "letters" / SLUG / "out" / "uk.html").read_text("utf-8")
    assert DRAFT_WORDS not in built
