"""Email: building invitation messages and moving them through the outbox.

Each message is a row in `outbox`: queued -> sending -> sent (or failed, or
unknown). The personal link is made only when a message moves to `sending`, so
the raw token lives in memory for the few milliseconds it takes to hand the
message over and is never stored. A rerun after a crash therefore sends each
remaining message exactly once; a message found still `sending` may or may not
have reached the server, so it becomes `unknown` and is reported to staff,
never resent blindly.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, TemplateError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, aliased

from coalitionletter import consent, events, signon, tokens
from coalitionletter.campaigns import CampaignDefinition
from coalitionletter.db import Database
from coalitionletter.errors import MailError
from coalitionletter.models import (
    Campaign,
    Contact,
    Invitation,
    MessageState,
    Organisation,
    OutboxMessage,
    utcnow,
)
from coalitionletter.settings import Settings, SmtpSettings

log = logging.getLogger(__name__)

QUEUED = MessageState.QUEUED.value
SENDING = MessageState.SENDING.value
SENT = MessageState.SENT.value
FAILED = MessageState.FAILED.value
UNKNOWN = MessageState.UNKNOWN.value
KINDS = ("invite", "remind", "reconfirm")
# A server that accepted a message this recently needs no NOOP to prove it is still there:
# the round trip cost as much as a quarter of each message's time on a fast server.
ANSWERED_RECENTLY_S = 1.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


# --- building messages ---------------------------------------------------------------


def header_text(value: str) -> str:
    """A value made safe for one header line: control characters and newlines become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _address(name: str | None, email: str) -> Address:
    username, _, domain = email.rpartition("@")
    return Address(display_name=header_text(name or ""), username=username, domain=domain)


def sender_address(definition: CampaignDefinition) -> tuple[str, str]:
    """The campaign's sender as (display name, address), or a MailError saying what to set."""
    name, address = parseaddr(header_text(definition.email.sender))
    if not address or "@" not in address:
        raise MailError(
            f"letters/{definition.slug}/letter.toml: [email] sender is not set to an address "
            '(e.g. sender = "Campaign <campaigns@example.org>"). Set it and run again.'
        )
    return name, address


@dataclass(frozen=True)
class Letterhead:
    """What every message of a campaign shares: its words and who sends them."""

    definition: CampaignDefinition
    environment: Environment
    base_url: str

    @classmethod
    def for_campaign(cls, settings: Settings, definition: CampaignDefinition) -> Letterhead:
        """The message context for a campaign, with its template overrides."""
        from coalitionletter.render import make_environment

        environment = make_environment(settings.templates_dir, definition.directory)
        return cls(definition, environment, settings.base_url)


@dataclass(frozen=True)
class Addressee:
    """One message's organisation and the people it goes to."""

    organisation_name: str
    recipients: tuple[tuple[str | None, str], ...]  # (person's name, address)


def subject_for(kind: str, definition: CampaignDefinition) -> str:
    """The subject line: reminders and reconfirmations say what they are first."""
    subject = header_text(definition.email.subject)
    prefix = {"remind": "Reminder: ", "reconfirm": "Please reconfirm: "}.get(kind, "")
    return prefix + subject


def build_message(
    letterhead: Letterhead,
    addressee: Addressee,
    *,
    kind: str,
    token: str,
    message_id: str,
    changes: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The email for one organisation: plain text with an HTML alternative, headers safe."""
    definition = letterhead.definition
    sender_name, sender = sender_address(definition)
    context: dict[str, Any] = {
        "kind": kind,
        # One line, as in the headers: a name never breaks the layout of a message.
        "organisation": header_text(addressee.organisation_name),
        "link": tokens.link(letterhead.base_url, token),
        "title": definition.title,
        "lead": definition.lead.name,
        "deadline": definition.deadline,
        "changes": changes,
    }
    try:
        text = letterhead.environment.get_template(f"email/{kind}.txt").render(context)
        html = letterhead.environment.get_template(f"email/{kind}.html").render(context)
    except TemplateError as exc:
        raise MailError(
            f"The email template for {kind!r} failed: {exc}. Fix it and run again."
        ) from exc
    message = EmailMessage(policy=default_policy)
    message["Subject"] = subject_for(kind, definition)
    message["From"] = _address(sender_name, sender)
    message["To"] = [_address(name, email) for name, email in addressee.recipients]
    reply_to = parseaddr(header_text(definition.email.reply_to))[1]
    if reply_to and "@" in reply_to:
        message["Reply-To"] = _address(None, reply_to)
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(now or utcnow())
    # Ask auto-responders and list software to stay out of a personal exchange.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


# --- transports ----------------------------------------------------------------------


class Transport(Protocol):
    """Somewhere messages are handed over: an SMTP server or a folder of .eml files."""

    def open(self) -> None: ...
    def alive(self) -> bool: ...
    def send(
        self, message: EmailMessage, sender: str, recipients: list[str], name: str
    ) -> dict: ...
    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection for a whole batch, with a timeout on every step."""

    def __init__(self, smtp: SmtpSettings) -> None:
        if not smtp.host:
            raise MailError(
                "No SMTP server is configured. Set [smtp] host in coalitionletter.toml "
                "(or COALITIONLETTER_SMTP_HOST), or pass --outbox DIR to write .eml files."
            )
        if smtp.user and not smtp.password:
            raise MailError(
                f"[smtp] user is {smtp.user!r} but no password is set. Put it in the "
                "environment variable COALITIONLETTER_SMTP_PASSWORD and run again."
            )
        self.smtp = smtp
        self._connection: smtplib.SMTP | None = None
        self._answered_at = float("-inf")  # when the server last answered a whole exchange

    def open(self) -> None:
        """Connect, secure the connection as configured, and log in."""
        smtp = self.smtp
        where = f"{smtp.host}:{smtp.port}"
        connection: smtplib.SMTP | None = None
        try:
            connection = self._connect()
            if smtp.security == "starttls":
                connection.starttls(context=ssl.create_default_context())
            if smtp.user:
                connection.login(smtp.user, smtp.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            _close_quietly(connection)
            raise MailError(
                f"The SMTP server {where} refused the login for {smtp.user!r}. Check [smtp] "
                "user and COALITIONLETTER_SMTP_PASSWORD. Nothing was sent."
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(connection)
            raise MailError(
                f"Cannot connect to the SMTP server {where} ({exc}). Check [smtp] host, port "
                "and security; nothing was sent, and running again sends every queued message."
            ) from exc
        self._connection = connection
        self._answered_at = time.monotonic()

    def _connect(self) -> smtplib.SMTP:
        smtp = self.smtp
        if smtp.security == "ssl":
            return smtplib.SMTP_SSL(
                smtp.host or "",
                smtp.port,
                timeout=smtp.timeout,
                context=ssl.create_default_context(),
            )
        return smtplib.SMTP(smtp.host or "", smtp.port, timeout=smtp.timeout)

    def alive(self) -> bool:
        """True when the server still answers (checked before each message is claimed)."""
        if self._connection is None:
            return False
        if time.monotonic() - self._answered_at < ANSWERED_RECENTLY_S:
            return True
        try:
            answered = self._connection.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            return False
        if answered:
            self._answered_at = time.monotonic()
        return answered

    def send(self, message: EmailMessage, sender: str, recipients: list[str], name: str) -> dict:
        """Hand one message over; return the recipients the server refused."""
        if self._connection is None:
            raise MailError("The SMTP connection is not open.")
        refused = self._connection.send_message(message, from_addr=sender, to_addrs=recipients)
        self._answered_at = time.monotonic()
        return refused

    def close(self) -> None:
        """Say goodbye to the server (a failure here changes nothing already sent)."""
        if self._connection is None:
            return
        try:
            self._connection.quit()
        except (smtplib.SMTPException, OSError):
            self._connection.close()
        self._connection = None


def _close_quietly(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        connection.close()  # the socket only; nothing was sent on it


class FolderTransport:
    """Writes each message as an .eml file, for staff who send by hand."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def open(self) -> None:
        """Create the folder (its parent must exist)."""
        if not self.folder.parent.is_dir():
            raise MailError(f"The folder {self.folder.parent} does not exist. Create it first.")
        self.folder.mkdir(exist_ok=True)

    def alive(self) -> bool:
        """A folder is always ready."""
        return True

    def send(self, message: EmailMessage, sender: str, recipients: list[str], name: str) -> dict:
        """Write the message to <folder>/<name>.eml, whole or not at all; it holds a live link."""
        path = self.folder / f"{name}.eml"
        partial = path.with_name(path.name + ".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(message.as_bytes())
        partial.replace(path)
        return {}

    def close(self) -> None:
        """Nothing to close."""


# --- the outbox ----------------------------------------------------------------------


def queue(
    session: Session,
    campaign: Campaign,
    invitation: Invitation,
    *,
    kind: str,
    recipients: Iterable[str],
    text_hash: str | None,
    sender_domain: str,
) -> OutboxMessage:
    """Put one message in the outbox (no link yet: it is made when the message is sent)."""
    message = OutboxMessage(
        campaign_id=campaign.id,
        invitation_id=invitation.id,
        kind=kind,
        recipients=",".join(recipients),
        message_id=make_msgid(domain=sender_domain),
        state=QUEUED,
        attempts=0,
        text_hash=text_hash,
    )
    session.add(message)
    session.flush()
    return message


def drop_queued(session: Session, invitation_id: int) -> int:
    """Remove an invitation's messages not yet sent (a new link replaces them)."""
    return session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.invitation_id == invitation_id, OutboxMessage.state == QUEUED)
        .execution_options(synchronize_session=False)
    ).rowcount


def contact_times(session: Session, campaign: Campaign) -> dict[int, datetime]:
    """When each invitation last had a message sent, by invitation id."""
    rows = session.execute(
        select(OutboxMessage.invitation_id, OutboxMessage.sent_at).where(
            OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == SENT
        )
    )
    latest: dict[int, datetime] = {}
    for invitation_id, sent_at in rows:
        if sent_at is not None and (invitation_id not in latest or sent_at > latest[invitation_id]):
            latest[invitation_id] = sent_at
    return latest


@dataclass
class DeliveryReport:
    """What a batch did, by organisation, for staff to read."""

    sent: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "Org: address (reason)"
    failed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    remaining: int = 0
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """True when everything went and nothing needs staff's attention."""
        return not (self.refused or self.failed or self.unknown or self.remaining)


@dataclass(frozen=True)
class _Claimed:
    outbox_id: int
    kind: str
    message_id: str
    recipients: list[str]
    addressee: Addressee
    organisation_slug: str
    organisation_id: int
    invitation_id: int
    token: str
    changes: str | None


Progress = Callable[[int, int, str, str], None]


def _organisation_label(session: Session, outbox: OutboxMessage) -> str:
    invitation = session.get(Invitation, outbox.invitation_id)
    organisation = session.get(Organisation, invitation.organisation_id) if invitation else None
    return organisation.name if organisation else f"invitation {outbox.invitation_id}"


def _mark_unknown(session: Session, campaign: Campaign) -> None:
    stuck = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == SENDING
        )
    ).all()
    for outbox in stuck:
        outbox.state = UNKNOWN
        outbox.error = (
            "The sending process stopped while handing this message over; the server may "
            "have accepted it."
        )
        invitation = session.get(Invitation, outbox.invitation_id)
        events.record_for(
            session,
            campaign,
            kind="send outcome unknown",
            actor="mail",
            organisation_id=invitation.organisation_id if invitation else None,
            invitation_id=outbox.invitation_id,
            detail={"message": outbox.kind, "outbox_id": outbox.id},
        )
    session.flush()


def _unknown_labels(session: Session, campaign: Campaign) -> list[str]:
    later = aliased(OutboxMessage)
    # An unknown message stops mattering once a later one to the same invitation was sent.
    resolved = (
        select(later.id)
        .where(
            later.invitation_id == OutboxMessage.invitation_id,
            later.id > OutboxMessage.id,
            later.state == SENT,
        )
        .exists()
    )
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.campaign_id == campaign.id,
            OutboxMessage.state == UNKNOWN,
            ~resolved,
        )
        .order_by(OutboxMessage.id)
    ).all()
    return [f"{_organisation_label(session, row)} ({row.kind})" for row in rows]


def _claim(session: Session, campaign: Campaign, outbox_id: int) -> _Claimed | None:
    claimed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.state == QUEUED)
        .values(state=SENDING, attempts=OutboxMessage.attempts + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None  # another sender took it
    outbox = session.get(OutboxMessage, outbox_id)
    invitation = session.get(Invitation, outbox.invitation_id)
    organisation = session.get(Organisation, invitation.organisation_id)
    recipients = [address for address in outbox.recipients.split(",") if address]
    names = {
        contact.email_key or (contact.email or "").lower(): contact.name
        for contact in session.scalars(
            select(Contact).where(Contact.organisation_id == organisation.id)
        )
    }
    changes = None
    if outbox.kind == "reconfirm":
        earlier = consent.recalled(session, campaign.id, invitation.text_hash)
        now = consent.recalled(session, campaign.id, outbox.text_hash)
        if earlier and now:
            changes = consent.changes(earlier, now)
    token = signon.issue_token(session, invitation.id, outbox_id=outbox.id)
    return _Claimed(
        outbox_id=outbox.id,
        kind=outbox.kind,
        message_id=outbox.message_id,
        recipients=recipients,
        addressee=Addressee(
            organisation_name=invitation.display_name or organisation.name,
            recipients=tuple((names.get(r.lower()), r) for r in recipients),
        ),
        organisation_slug=organisation.slug,
        organisation_id=organisation.id,
        invitation_id=invitation.id,
        token=token,
        changes=changes,
    )


def _finish(
    database: Database,
    campaign: Campaign,
    claimed: _Claimed,
    state: str,
    error: str | None = None,
) -> None:
    with database.writing() as session:
        now = utcnow()
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == claimed.outbox_id,
                OutboxMessage.state.in_([SENDING, UNKNOWN]),
            )
            .values(
                state=state,
                error=error,
                updated_at=now,
                sent_at=now if state == SENT else None,
            )
            .execution_options(synchronize_session=False)
        )
        if state == QUEUED:
            return
        events.record_for(
            session,
            campaign,
            kind={SENT: "sent", FAILED: "send failed", UNKNOWN: "send outcome unknown"}[state],
            actor="mail",
            organisation_id=claimed.organisation_id,
            invitation_id=claimed.invitation_id,
            detail={"message": claimed.kind, "outbox_id": claimed.outbox_id}
            | ({"error": error} if error else {}),
        )


def deliver(
    database: Database,
    settings: Settings,
    definition: CampaignDefinition,
    transport: Transport,
    progress: Progress | None = None,
) -> DeliveryReport:
    """Send every queued message of a campaign once, over one connection; report by organisation."""
    letterhead = Letterhead.for_campaign(settings, definition)
    _, sender = sender_address(definition)
    with database.writing() as session:
        campaign = _campaign(session, definition.slug)
        _mark_unknown(session, campaign)
        pending = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == QUEUED)
                .order_by(OutboxMessage.id)
            )
        )
    batch = _Batch(database, campaign, letterhead, sender, transport)
    if pending:
        transport.open()
        try:
            batch.run(pending, progress)
        finally:
            transport.close()
    report = batch.report
    with database.reading() as session:
        report.unknown = _unknown_labels(session, campaign)
        report.remaining = len(
            session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == QUEUED
                )
            ).all()
        )
    return report


def _campaign(session: Session, slug: str) -> Campaign:
    from coalitionletter.campaigns import campaign_row

    return campaign_row(session, slug)


@dataclass
class _Batch:
    """One run over the queued messages of a campaign, on one open transport."""

    database: Database
    campaign: Campaign
    letterhead: Letterhead
    sender: str
    transport: Transport
    report: DeliveryReport = field(default_factory=DeliveryReport)

    def run(self, pending: list[int], progress: Progress | None) -> None:
        """Claim and send each message in turn; stop when the server is in trouble."""
        total = len(pending)
        for number, outbox_id in enumerate(pending, start=1):
            if not self.transport.alive():
                self.report.stopped = "the mail server stopped answering"
                return
            with self.database.writing() as session:
                claimed = _claim(session, self.campaign, outbox_id)
            if claimed is None:
                continue
            outcome = self.send(claimed)
            if progress is not None:
                progress(number, total, claimed.addressee.organisation_name, outcome)
            if self.report.stopped:
                return

    def finish(self, claimed: _Claimed, state: str, error: str | None = None) -> None:
        """Record a message's outcome."""
        _finish(self.database, self.campaign, claimed, state, error)

    def send(self, claimed: _Claimed) -> str:
        """Build and hand over one claimed message; return a word for the progress line."""
        name = claimed.addressee.organisation_name
        try:
            message = build_message(
                self.letterhead,
                claimed.addressee,
                kind=claimed.kind,
                token=claimed.token,
                message_id=claimed.message_id,
                changes=claimed.changes,
            )
        except (MailError, ValueError) as exc:
            self.finish(claimed, FAILED, f"could not build the message: {exc}")
            self.report.failed.append(f"{name}: could not build the message ({exc})")
            self.report.stopped = "a message could not be built"
            return "failed"
        file_name = f"{claimed.outbox_id:05d}-{claimed.organisation_slug}-{claimed.kind}"
        try:
            refused = self.transport.send(message, self.sender, claimed.recipients, file_name)
        except smtplib.SMTPRecipientsRefused as exc:
            reasons = "; ".join(f"{a} ({c} {_text(r)})" for a, (c, r) in exc.recipients.items())
            self.finish(claimed, FAILED, f"every recipient refused: {reasons}")
            self.report.refused.append(f"{name}: {reasons}")
            return "refused"
        except smtplib.SMTPResponseException as exc:
            return self._answered(claimed, exc)
        except (smtplib.SMTPException, OSError) as exc:
            self.finish(claimed, UNKNOWN, f"connection lost while sending: {exc}")
            self.report.stopped = f"the connection was lost while sending ({exc})"
            return "outcome unknown"
        self.finish(claimed, SENT)
        self.report.sent.append(name)
        for address, (code, reason) in refused.items():
            self.report.refused.append(f"{name}: {address} ({code} {_text(reason)})")
        return "sent"

    def _answered(self, claimed: _Claimed, exc: smtplib.SMTPResponseException) -> str:
        name = claimed.addressee.organisation_name
        reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        if 400 <= exc.smtp_code < 500:
            # The server answered "not now": it did not take the message, so it stays queued.
            self.finish(claimed, QUEUED, f"server said: {reason}")
            self.report.stopped = f"the mail server answered {reason}"
            return "left queued"
        self.finish(claimed, FAILED, f"server refused: {reason}")
        self.report.failed.append(f"{name}: the server refused the message ({reason})")
        return "failed"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
