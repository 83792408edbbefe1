"""The data: typed SQLAlchemy models for the registry, campaigns, invitations, mail and events.

Schema changes go through an Alembic migration in `migrations/versions/`; these
classes and the newest migration must describe the same tables (a test checks).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAME_MAX = 300
EMAIL_MAX = 254
URL_MAX = 500
NOTES_MAX = 10_000

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A DateTime stored as UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive times; store UTC (naive on SQLite, which has no zones)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Give back an aware UTC time whatever the database returned."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING)
    # Every model here is mapped to one Table (none to a join or a select), so Core
    # statements and bulk inserts may take `Model.__table__` as the Table it is.
    __table__: ClassVar[Table]


class InvitationState(enum.StrEnum):
    """Where one organisation stands on one campaign."""

    INVITED = "invited"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Listing(enum.StrEnum):
    """How a confirmed organisation may be named."""

    PUBLIC = "public"
    GOVERNMENTS_ONLY = "governments_only"


class MessageState(enum.StrEnum):
    """Outbox states of one email."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Organisation(Base):
    """An organisation in the registry, named exactly as it must appear in a letter."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # Normalised name (NFKC, casefolded, punctuation and spaces folded) for duplicates.
    name_key: Mapped[str] = mapped_column(String(NAME_MAX), index=True)
    sort_name: Mapped[str] = mapped_column(String(NAME_MAX))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    org_type: Mapped[str | None] = mapped_column(String(80), index=True)
    website: Mapped[str | None] = mapped_column(String(URL_MAX))
    website_domain: Mapped[str | None] = mapped_column(String(URL_MAX), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="Contact.id",
    )


class Contact(Base):
    """A person at an organisation who receives its sign-on link."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    title: Mapped[str | None] = mapped_column(String(NAME_MAX))
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    email_key: Mapped[str | None] = mapped_column(String(EMAIL_MAX), index=True)
    language: Mapped[str | None] = mapped_column(String(35))

    organisation: Mapped[Organisation] = relationship(back_populates="contacts")


class Campaign(Base):
    """A campaign's row; its text and recipients live in letters/<slug>/."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(NAME_MAX))
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Added by 0006: a deadline staff set with `reopen --until`; while set, it is the deadline
    # (`deadline` above then holds it too, and letter.toml's is not used).
    extended_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Added by 0006: the hash of the text `publish` froze for organisations (None: the files
    # are live, as before publishing was used). Its words are in letter_texts.source.
    published_hash: Mapped[str | None] = mapped_column(String(64))
    # Added by 0013: the published hash of every other language version, as canonical JSON
    # ({"fr": "<hash>"}); None while the letter has one language or is not published.
    published_versions: Mapped[str | None] = mapped_column(Text)


class Invitation(Base):
    """One organisation's sign-on to one campaign: its state, its link, its consent."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    state: Mapped[str] = mapped_column(String(20), index=True)
    # SHA-256 of the confirmed letter text: consent is bound to the words seen.
    text_hash: Mapped[str | None] = mapped_column(String(64))
    signer_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    signer_title: Mapped[str | None] = mapped_column(String(NAME_MAX))
    # The name printed in place of the registry's: set only when staff approve a proposal.
    display_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    listing: Mapped[str] = mapped_column(String(20), default=Listing.PUBLIC.value)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    invited_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    # Added by the sign-on revision (0002); its links live in invitation_tokens (0003).
    viewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Bumped by every state change; conditional updates compare it.
    version: Mapped[int] = mapped_column(Integer, default=0)
    # Added by 0006: a corrected name as the token holder proposed it, until staff
    # approve it (it becomes display_name) or reject it.
    proposed_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    proposed_by: Mapped[str | None] = mapped_column(String(NAME_MAX))
    proposed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Added by 0009: the signer agreed that their name and title may appear on the public
    # list too (they always go to the recipients). Opted into, never out of: False by default.
    signer_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    organisation: Mapped[Organisation] = relationship()
    campaign: Mapped[Campaign] = relationship()


class OutboxMessage(Base):
    """One email to one organisation, moved through queued -> sending -> sent/failed."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_campaign_state", "campaign_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # invite, remind, reconfirm
    recipients: Mapped[str] = mapped_column(Text)  # comma-separated addresses
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=MessageState.QUEUED.value)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The letter text the message presents (a reminder or reconfirmation names its version).
    text_hash: Mapped[str | None] = mapped_column(String(64))


class InvitationToken(Base):
    """One personal link: only the SHA-256 of its token is kept, never the token."""

    __tablename__ = "invitation_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The message that carried it; the link dates from when that message was sent.
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LetterText(Base):
    """Each version of a campaign's letter text that was shown or agreed to, by its hash."""

    __tablename__ = "letter_texts"
    __table_args__ = (UniqueConstraint("campaign_id", "text_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    text_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Added by 0006: the version's parts (title, body.md, closing, lead) as JSON, so a
    # published version can be shown and printed again; None for rows kept before.
    source: Mapped[str | None] = mapped_column(Text)


class EventChain(Base):
    """The head of one hash chain of events (one per campaign, one for the registry)."""

    __tablename__ = "event_chains"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(Integer, default=0)


class Event(Base):
    """An append-only, hash-chained record of something that happened."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain: Mapped[str] = mapped_column(String(140), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    # Plain ids, not foreign keys: the log outlives what it speaks of, and a
    # cascade rewriting a column would break the hash chain.
    campaign_id: Mapped[int | None] = mapped_column(Integer, index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    invitation_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(NAME_MAX))
    ip: Mapped[str | None] = mapped_column(String(64))
    text_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Added by 0005: canonical JSON of the invitation's fields as this event left them
    # (state, listing, text hash, organisation, version); NULL for events that change none.
    outcome: Mapped[str | None] = mapped_column(Text)


class AppSecret(Base):
    """Secrets the web workers share (CSRF signing key), so no state lives in one process."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class StaffRole(enum.StrEnum):
    """What a console account may see and do."""

    COORDINATOR = "coordinator"  # counts, the count sheet and the public export
    STAFF = "staff"  # everything, the trail included


class StaffAccount(Base):
    """A person who signs in to the staff console; only an Argon2 hash of the password is kept."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    # The address casefolded: the one an account is found by, unique.
    email_key: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class StaffLink(Base):
    """A one-time link to set an account's password: only the SHA-256 of its token is kept."""

    __tablename__ = "staff_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Set when used, or when a newer link, a reset or disabling replaced it.
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StaffSession(Base):
    """One signed-in console session: the cookie carries its key, the database its SHA-256."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LoginThrottle(Base):
    """Failed sign-ins counted per account and per client address, shared by every worker."""

    __tablename__ = "login_throttle"

    # SHA-256 of "account:<email>" or "address:<ip>": no address is kept in clear.
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SendRun(Base):
    """The console's background send for a campaign: one row per campaign, reused.

    Taken under the campaign's lock, so two staff pressing Send at once start one
    send; `worker` and `heartbeat_at` say who is sending it now, so a restarted
    server resumes it and two workers never send one campaign's queue at once.
    """

    __tablename__ = "send_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )
    what: Mapped[str] = mapped_column(String(40))  # invitations, reminders, a new link
    started_by: Mapped[str] = mapped_column(String(NAME_MAX))  # "staff: NAME"
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    total: Mapped[int] = mapped_column(Integer)  # messages queued for it when it started
    # Comma-separated invitation ids when only their messages go (a new link); else all queued.
    only_invitations: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid:nonce sending it now
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(Text)  # JSON: what the send did, by organisation
