"""The invitation's HTML part as a person sees it on a small phone screen."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.mail.message import Addressee, Letterhead, build_message
from coalitionletter.settings import load_settings

SLUG = "ilp-magnitsky-2020"
TOKEN = "T" * 43
PHONE = {"width": 320, "height": 640}


def _invitation_html(founding_home: Path, organisation: str) -> str:
    settings = load_settings(founding_home, environ={})
    letterhead = Letterhead.for_campaign(settings, campaigns.load(settings, SLUG))
    addressee = Addressee(organisation, ((None, "x@org.example"),))
    raw = build_message(letterhead, addressee, kind="invite", token=TOKEN, message_id="<1@x>")
    message = message_from_bytes(raw, policy=default_policy)
    return message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


@pytest.mark.browser
def test_the_personal_link_wraps_inside_a_320_pixel_screen(
    founding_home: Path, browser_page
) -> None:
    browser_page.set_viewport_size(PHONE)
    browser_page.set_content(_invitation_html(founding_home, "Org"))
    link = browser_page.locator(f"a[href$='/s/{TOKEN}']")
    box = link.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert browser_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert len(link.evaluate("a => Array.from(a.getClientRects())")) > 1  # it did wrap


@pytest.mark.browser
def test_the_invitation_has_no_serious_accessibility_violation(
    founding_home: Path, browser_page, axe
) -> None:
    browser_page.set_content(_invitation_html(founding_home, "ئۇيغۇر ئاياللار بىرلىكى"))
    assert axe(browser_page) == []
