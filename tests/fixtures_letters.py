"""Shared fixtures for the letters tests (a plugin of conftest.py).

Signatories are made the way the program makes them: an organisation row, then
a confirmation through `signon.transition`, bound to the letter's text hash.
"""

from __future__ import annotations

import shutil
import textwrap
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy.orm import Session

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.db import Database
from coalitionletter.models import Campaign, Organisation
from coalitionletter.names import default_sort_name, name_key, slugify
from coalitionletter.settings import Settings
from coalitionletter.signon import states as signon

# Made-up names in the scripts a real list holds (for tests only).
CHINESE_NAME = "Canadian Friends of Hong Kong (加拿大香港之友)"
UYGHUR_NAME = "ئۇيغۇر ئاياللار بىرلىكى"
LEAD_NAME = "International Lawyers Project"


REPO = Path(__file__).resolve().parent.parent
FOUNDING_SLUG = "ilp-magnitsky-2020"


def copy_campaign(home: Path, slug: str = FOUNDING_SLUG) -> Path:
    """Copy a campaign from the repo's letters/ into a workspace, without its built out/.

    The README's quick start builds the founding letter in the clone itself; a test
    workspace must start from the campaign's sources, not from those files.
    """
    target = home / "letters" / slug
    shutil.copytree(REPO / "letters" / slug, target, ignore=shutil.ignore_patterns("out"))
    return target


@dataclass(frozen=True)
class Org:
    """An organisation to confirm in a test."""

    name: str
    country: str | None = None
    org_type: str | None = None
    website: str | None = None
    listing: str = "public"
    display_name: str | None = None
    signer: tuple[str, str] | None = None  # (name, title) of the person who confirmed
    signer_public: bool = False  # the signer agreed to appear on the public list


def add_organisation(session: Session, org: Org) -> Organisation:
    """Add one organisation to the registry directly."""
    slug = slugify(org.name)
    suffix = 1
    while session.query(Organisation).filter_by(slug=slug).first() is not None:
        suffix += 1
        slug = f"{slugify(org.name)}-{suffix}"
    row = Organisation(
        slug=slug,
        name=org.name,
        name_key=name_key(org.name),
        sort_name=default_sort_name(org.name),
        country=org.country,
        org_type=org.org_type,
        website=org.website,
    )
    session.add(row)
    session.flush()
    return row


def confirm(
    session: Session,
    campaign: Campaign,
    organisation: Organisation,
    *,
    text_hash: str,
    listing: str = "public",
    display_name: str | None = None,
    signer: tuple[str, str] | None = None,
    signer_public: bool = False,
) -> None:
    """Record an organisation's confirmation the one way the program does."""
    fields: dict[str, str | bool] = {"listing": listing, "signer_public": signer_public}
    if display_name:
        fields["display_name"] = display_name
    if signer:
        fields |= {"signer_name": signer[0], "signer_title": signer[1]}
    signon.transition(
        session,
        campaign,
        organisation.id,
        "confirm",
        actor="test",
        text_hash=text_hash,
        fields=fields,
    )


AddSignatories = Callable[..., list[int]]


@pytest.fixture
def founding(founding_home: Path, settings: Settings, database: Database) -> CampaignDefinition:
    """The founding campaign, loaded and registered in the database, with no signatories."""
    definition = campaigns.load(settings, "ilp-magnitsky-2020")
    with database.writing() as session:
        campaigns.sync(session, definition)
    return definition


@pytest.fixture
def add_signatories(database: Database) -> AddSignatories:
    """Add organisations and confirm them for a campaign; returns their ids."""

    def add(
        definition: CampaignDefinition, orgs: Iterable[Org | str], *, text_hash: str | None = None
    ) -> list[int]:
        ids = []
        with database.writing() as session:
            campaign = campaigns.campaign_row(session, definition.slug)
            for item in orgs:
                org = Org(item) if isinstance(item, str) else item
                row = add_organisation(session, org)
                confirm(
                    session,
                    campaign,
                    row,
                    text_hash=text_hash or definition.text_hash,
                    listing=org.listing,
                    display_name=org.display_name,
                    signer=org.signer,
                    signer_public=org.signer_public,
                )
                ids.append(row.id)
        return ids

    return add


def write_campaign(
    home: Path,
    slug: str = "test-letter",
    *,
    toml: str | None = None,
    body: str = "We, {{ signatory_count }} organisations, write to you.\n",
) -> Path:
    """Write a small campaign folder into a workspace; returns its folder."""
    folder = home / "letters" / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "letter.toml").write_text(toml if toml is not None else MINIMAL_TOML, "utf-8")
    (folder / "body.md").write_text(body, "utf-8")
    return folder


MINIMAL_TOML = textwrap.dedent(
    """\
    title = "A test letter"
    letter_date = 2020-08-18
    closing = "Yours sincerely,"

    [lead]
    name = "International Lawyers Project"

    [[recipients]]
    key = "uk"
    name = "Test Minister"
    title = "Secretary of State"
    address_lines = ["King Charles Street", "London SW1A 2AH"]
    salutation = "Dear Secretary of State,"
    locale = "en-GB"
    """
)


# A small list holding what real lists hold: the lead, accents, CJK, Arabic script,
# a leading article, and a name full of HTML (made up for tests).
SIGNED = (
    LEAD_NAME,
    CHINESE_NAME,
    UYGHUR_NAME,
    "Société Suisse des Droits Humains",
    "Österreichische Liga für Menschenrechte",
    "The Uyghur Rights Practice",
    "<b>X</b> & Co",
    "Free Tibet Example",
)


@pytest.fixture
def signed_founding(
    founding: CampaignDefinition, add_signatories: AddSignatories
) -> CampaignDefinition:
    """The founding campaign with the SIGNED organisations confirmed."""
    add_signatories(founding, SIGNED)
    return founding


class _Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 recording every request: (base URL, requests)."""
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    server.shutdown()
    server.server_close()
