"""A French-speaking contact reads the French version in a browser, looks at the English, confirms.

The choice of version is a link (`?version=`): no script and no cookie.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select, update

from coalitionletter.models import Contact, Event, Invitation
from fixtures_signon import ORGANISATIONS, CaptureHandler, LiveServer, SignOnWorkspace

SLUG = "ilp-magnitsky-2020"
NAME = ORGANISATIONS[1][0]  # Canadian Friends of Hong Kong (加拿大香港之友)


@pytest.mark.slow
@pytest.mark.browser
def test_a_french_contact_reads_switches_and_confirms_the_french_text(
    signon_workspace: SignOnWorkspace,
    live_server: LiveServer,
    *,
    invoke,
    mailbox: CaptureHandler,
    browser_page,
    console_axe,
) -> None:
    from playwright.sync_api import expect

    with signon_workspace.database.writing() as session:
        session.execute(
            update(Contact)
            .where(Contact.organisation_id == signon_workspace.organisations[NAME])
            .values(language="fr")
        )
    result = invoke("invite", SLUG, "--org", str(signon_workspace.organisations[NAME]))
    assert result.exit_code == 0, result.output
    base, token = mailbox.received[-1].link()
    french = signon_workspace.definition.version("fr")
    page = browser_page

    page.goto(f"{base}/s/{token}")
    expect(page.locator("article.letter h3")).to_have_text(french.title)
    assert console_axe(page) == []  # the version links too
    page.click("nav.versions >> text=English")
    expect(page).to_have_url(f"{base}/s/{token}?version=en")
    expect(page.locator("article.letter h3")).to_contain_text("Coordinated Magnitsky")
    page.click("nav.versions >> text=Français")
    expect(page.locator("article.letter h3")).to_have_text(french.title)
    assert [c["name"] for c in page.context.cookies()] == ["cl_visit"]  # no choice kept
    page.fill("#signer_name", "Li Wei")
    page.fill("#signer_title", "Présidente")
    page.check("input[name=authorised]")
    page.click("text=Confirmer notre signature")  # the page is in the contact's language
    expect(page.locator(".status")).to_contain_text("Signature confirmée par Li Wei")
    # the redirect after answering keeps the version (the form's #errors anchor stays too)
    expect(page).to_have_url(re.compile(re.escape(f"{base}/s/{token}?version=fr") + "(#errors)?$"))

    with signon_workspace.database.reading() as session:
        agreed = session.scalars(select(Invitation.text_hash)).one()
        confirmed = session.scalars(select(Event).where(Event.kind == "confirmed")).one()
    assert agreed == french.text_hash
    assert json.loads(confirmed.detail)["language"] == "fr"
