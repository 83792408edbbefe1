"""Shared fixtures for the counts, count sheet and export tests (a plugin of conftest.py).

`counts_world` is a hand-made campaign holding every state a coordinator meets,
made the way the program makes them (organisations in the registry, states
through `signon.transition`, emails as outbox rows), so every expected number
in the tests can be checked by reading this file:

    org                                country  type       state
    A Uyghur Human Rights Project      US       NGO        confirmed, public
    B International Lawyers Project    GB       legal      confirmed, public (lead)
    C Canadian Friends of Hong Kong    CA       diaspora   confirmed, public, and its signer
                                                           agreed to the public list
    D Exiled Voices Collective         DE       diaspora   confirmed, governments only
    E Tibet Justice Centre             GB       NGO        declined
    F Hong Kong Watch                  GB       NGO        withdrawn
    G Safeguard Defenders              ES       NGO        invited, opened (its one email failed:
                                                           opening it shows the link reached them)
    H Uyghur women's union (Uyghur)    TR       diaspora   invited, not opened (a failed invite,
                                                           then a reminder that was sent)
    I Kazakh Rights Bureau             KZ       NGO        invited, every email failed
    J Nordic Solidarity Network        -        -          invited, not opened, no email yet,
                                                           no contact on file
    K Not Invited Foundation           FR       NGO        never invited

and a second campaign, `second-letter`, with two invitations (K confirmed, A
invited) for the overview.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.db import Database
from coalitionletter.models import (
    Campaign,
    Contact,
    Event,
    Invitation,
    Organisation,
    OutboxMessage,
    utcnow,
)
from coalitionletter.names import default_sort_name, name_key, slugify
from coalitionletter.settings import Settings
from coalitionletter.signon import states as signon
from fixtures_letters import MINIMAL_TOML, write_campaign

COUNTS_SLUG = "counts-letter"
SECOND_SLUG = "second-letter"
DAYS_LEFT = 12
UYGHUR_NAME = "ئۇيغۇر ئاياللار بىرلىكى"
CHINESE_NAME = "Canadian Friends of Hong Kong (加拿大香港之友)"


@dataclass(frozen=True)
class Member:
    """One organisation of the hand-made world and what happens to it."""

    letter: str
    name: str
    country: str | None
    org_type: str | None
    contact: tuple[str, str] | None
    actions: tuple[str, ...]  # signon actions in order; () is never invited
    listing: str = "public"
    signer: tuple[str, str] | None = None
    signer_public: bool = False  # the signer agreed to appear on the public list
    viewed: bool = False
    emails: tuple[str, ...] = ()  # outbox states, oldest first


MEMBERS = (
    Member(
        "A",
        "Uyghur Human Rights Project",
        "US",
        "NGO",
        ("Omer Kanat", "omer@uhrp.example"),
        ("invite", "confirm"),
        signer=("Omer Kanat", "Executive Director"),
        viewed=True,
        emails=("sent",),
    ),
    Member(
        "B",
        "International Lawyers Project",
        "GB",
        "legal",
        ("Ewelina Ochab", "ewelina@ilp.example"),
        ("confirm",),
        signer=("Ewelina Ochab", "Co-founder"),
    ),
    Member(
        "C",
        CHINESE_NAME,
        "CA",
        "diaspora",
        ("Cheuk Kwan", "cheuk@cfhk.example"),
        ("invite", "confirm"),
        signer=("Cheuk Kwan", "Chair"),
        signer_public=True,
        viewed=True,
        emails=("sent",),
    ),
    Member(
        "D",
        "Exiled Voices Collective",
        "DE",
        "diaspora",
        ("Dilnur R.", "dilnur@exiled.example"),
        ("invite", "confirm"),
        listing="governments_only",
        signer=("Dilnur R.", "Coordinator"),
        viewed=True,
        emails=("sent",),
    ),
    Member(
        "E",
        "Tibet Justice Centre",
        "GB",
        "NGO",
        ("Tenzin Dolma", "tenzin@tjc.example"),
        ("invite", "decline"),
        viewed=True,
        emails=("sent",),
    ),
    Member(
        "F",
        "Hong Kong Watch",
        "GB",
        "NGO",
        ("Benedict Rogers", "ben@hkw.example"),
        ("invite", "confirm", "withdraw"),
        signer=("Benedict Rogers", "Chief Executive"),
        viewed=True,
        emails=("sent",),
    ),
    Member(
        "G",
        "Safeguard Defenders",
        "ES",
        "NGO",
        ("Laura Harth", "laura@safeguard.example"),
        ("invite",),
        viewed=True,
        emails=("failed",),
    ),
    Member(
        "H",
        UYGHUR_NAME,
        "TR",
        "diaspora",
        ("Gulnaz Uighur", "gulnaz@uyghurwomen.example"),
        ("invite",),
        emails=("failed", "sent"),
    ),
    Member(
        "I",
        "Kazakh Rights Bureau",
        "KZ",
        "NGO",
        ("Serikzhan Bilash", "serikzhan@krb.example"),
        ("invite",),
        emails=("failed", "failed"),
    ),
    Member("J", "Nordic Solidarity Network", None, None, None, ("invite",)),
    Member(
        "K",
        "Not Invited Foundation",
        "FR",
        "NGO",
        ("Marie Curie", "marie@nif.example"),
        (),
    ),
)


def letter_toml(deadline: datetime) -> str:
    """The letters' minimal letter.toml, with this campaign's title and a deadline."""
    return MINIMAL_TOML.replace(
        'title = "A test letter"',
        f'title = "Coordinated sanctions for abuses against Uyghurs"\n'
        f"deadline = {deadline.isoformat()}",
    )


def write_counts_campaign(home: Path, deadline: datetime, slug: str = COUNTS_SLUG) -> Path:
    """Write the campaign's folder (letter.toml, body.md) into a workspace."""
    return write_campaign(
        home,
        slug,
        toml=letter_toml(deadline),
        body="We, {{ signatory_count }} organisations, urge you to act.\n",
    )


def add_org(
    session: Session, name: str, country: str | None = None, org_type: str | None = None
) -> Organisation:
    """Add an organisation to the registry directly."""
    row = Organisation(
        slug=slugify(name) or f"org-{name_key(name)[:20]}",
        name=name,
        name_key=name_key(name),
        sort_name=default_sort_name(name),
        country=country,
        org_type=org_type,
    )
    session.add(row)
    session.flush()
    return row


def act(
    session: Session,
    campaign: Campaign,
    organisation_id: int,
    action: str,
    text_hash: str,
    *,
    fields: dict[str, str | bool] | None = None,
) -> None:
    """Change an invitation's state the one way the program does."""
    signon.transition(
        session,
        campaign,
        organisation_id,
        action,
        actor="test",
        text_hash=text_hash if action == "confirm" else None,
        fields=fields if action == "confirm" else None,
    )


def _record_emails(
    session: Session, campaign: Campaign, organisation_id: int, states: tuple[str, ...]
) -> None:
    invitation = session.query(Invitation).filter_by(
        campaign_id=campaign.id, organisation_id=organisation_id
    )[0]
    for number, state in enumerate(states):
        session.add(
            OutboxMessage(
                campaign_id=campaign.id,
                invitation_id=invitation.id,
                kind="invite" if number == 0 else "remind",
                recipients="someone@example.org",
                message_id=f"<{campaign.id}.{invitation.id}.{number}@test>",
                state=state,
                error="550 mailbox unavailable" if state == "failed" else None,
            )
        )


def _mark_viewed(session: Session, campaign: Campaign, organisation_id: int) -> None:
    session.execute(
        update(Invitation)
        .where(Invitation.campaign_id == campaign.id, Invitation.organisation_id == organisation_id)
        .values(viewed_at=utcnow(), view_count=Invitation.view_count + 1)
    )


def _play(
    session: Session, campaign: Campaign, organisation: Organisation, member: Member, text: str
) -> None:
    for action in member.actions:
        fields: dict[str, str | bool] = {"listing": member.listing}
        if member.signer_public:
            fields["signer_public"] = True
        if member.signer:
            fields |= {"signer_name": member.signer[0], "signer_title": member.signer[1]}
        act(session, campaign, organisation.id, action, text, fields=fields)
    if member.viewed:
        _mark_viewed(session, campaign, organisation.id)
    if member.emails:
        _record_emails(session, campaign, organisation.id, member.emails)


@dataclass(frozen=True)
class CountsWorld:
    """The hand-made campaign: its definition and each member's organisation id."""

    slug: str
    definition: CampaignDefinition
    ids: dict[str, int]
    deadline: datetime


def make_world(settings: Settings, database: Database, home: Path) -> CountsWorld:
    """Build the hand-made campaign (and the second one) described in this module's doc."""
    deadline = datetime.combine(date.today() + timedelta(days=DAYS_LEFT), time(17, 0), UTC)
    write_counts_campaign(home, deadline)
    definition = campaigns.load(settings, COUNTS_SLUG)
    ids: dict[str, int] = {}
    with database.writing() as session:
        campaign = campaigns.sync(session, definition)
        second = Campaign(slug=SECOND_SLUG, title="A second letter", deadline=None)
        session.add(second)
        session.flush()
        for member in MEMBERS:
            organisation = add_org(session, member.name, member.country, member.org_type)
            if member.contact:
                name, email = member.contact
                session.add(
                    Contact(organisation_id=organisation.id, name=name, email=email, title=None)
                )
            ids[member.letter] = organisation.id
            _play(session, campaign, organisation, member, definition.text_hash)
        act(session, second, ids["K"], "confirm", "0" * 64)
        act(session, second, ids["A"], "invite", "")
    return CountsWorld(COUNTS_SLUG, definition, ids, deadline)


def world_state(database: Database) -> tuple[int, list[tuple[int, str]]]:
    """What a refused command must leave as it was: the trail's length, each invitation's state."""
    with database.reading() as session:
        events = session.scalar(select(func.count()).select_from(Event)) or 0
        states = session.execute(select(Invitation.id, Invitation.state)).all()
    return events, sorted(tuple(row) for row in states)


@pytest.fixture
def counts_world(settings: Settings, database: Database, home: Path) -> CountsWorld:
    """The hand-made campaign with every state (see this module's doc)."""
    return make_world(settings, database, home)
