"""Sending a campaign's queued messages over one connection, each exactly once.

The order of commits is what makes a rerun after a crash safe, and it is the
same for every message:

1. the message is claimed (`sending`, with its new link) and committed,
2. then it is handed to the server,
3. and only after the server took it is it marked `sent`.

Steps 3 of message k and 1 of message k+1 share one transaction: if the
process dies before that commit, k is still `sending` (reported as unknown,
never resent, exactly as when dying between a hand-over and its own mark) and
k+1 is still `queued` (the server never saw it, so a rerun sends it). At most
one message is ever in doubt.

The server is another process, so its time is ours to use. A message is
built, its raw token in memory only, while the server takes the one before;
its link is stored (as a hash) only when it is claimed. The claim commits
while the server answers the message's MAIL FROM (an envelope delivers
nothing), and the data goes only after that commit. A message another sender
claimed first is dropped with RSET and left to it.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.db import Database
from coalitionletter.errors import MailError
from coalitionletter.mail import outbox
from coalitionletter.mail.message import Letterhead, build_message, sender_address
from coalitionletter.mail.outbox import FAILED, QUEUED, SENT, UNKNOWN, Queued
from coalitionletter.mail.transport import NotHandedOver, Transport
from coalitionletter.models import Campaign
from coalitionletter.settings import Settings
from coalitionletter.signon import tokens

if TYPE_CHECKING:
    from sqlalchemy import Connection

Progress = Callable[[int, int, str, str], None]


@dataclass
class DeliveryReport:
    """What a batch did, by organisation, for staff to read."""

    sent: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "Org: address (reason)"
    failed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    remaining: int = 0
    left_for_later: int = 0  # queued messages this run was not asked to send
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """True when everything went and nothing needs staff's attention."""
        return not (self.refused or self.failed or self.unknown or self.remaining)


def deliver(
    database: Database,
    settings: Settings,
    definition: CampaignDefinition,
    transport: Transport,
    progress: Progress | None = None,
    *,
    only: Collection[int] | None = None,
) -> DeliveryReport:
    """Send every queued message of a campaign once, over one connection; report by organisation.

    With `only`, just the messages of those invitations go; the rest stay queued.
    """
    from coalitionletter.campaigns.catalogue import campaign_row

    _, sender = sender_address(definition)
    with database.writing() as session:
        campaign = campaign_row(session, definition.slug)
        outbox.mark_unknown(session, campaign)
        pending = outbox.pending_ids(session, campaign, only)
    if campaign.extended_until is not None:
        # The emails name the deadline in force: one staff extended (`reopen --until`).
        definition = replace(definition, deadline=campaign.extended_until)
    letterhead = Letterhead.for_campaign(settings, definition)
    batch = _Batch(database, campaign, letterhead, sender, transport, progress, len(pending))
    if pending:
        transport.open()
        try:
            # One connection for the batch's write transactions: a Session and a pool
            # checkout per transaction cost ~0.15 ms a message, a tenth of the exchange.
            with database.engine.connect() as batch.connection:
                batch.run(outbox.read_ahead(database, campaign, pending))
        finally:
            transport.close()
    report = batch.report
    with database.reading() as session:
        report.unknown = outbox.unknown_labels(session, campaign)
        report.remaining = outbox.remaining(session, campaign, only)
        if only is not None:
            report.left_for_later = outbox.remaining(session, campaign) - report.remaining
    return report


@dataclass
class _Prepared:
    """A queued message built ahead of its claim; the token exists only here until then."""

    queued: Queued
    token: str
    message: bytes | None
    error: str | None = None  # why it could not be built


@dataclass
class _Batch:
    """One run over the queued messages of a campaign, on one open transport."""

    database: Database
    campaign: Campaign
    letterhead: Letterhead
    sender: str
    transport: Transport
    progress: Progress | None
    total: int
    report: DeliveryReport = field(default_factory=DeliveryReport)
    connection: Connection | None = None  # kept for the batch's write transactions

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction on the batch's connection, committed when the block ends."""
        assert self.connection is not None
        with self.connection.begin():
            yield self.connection

    def run(self, ahead: Iterator[Queued]) -> None:
        """Claim, hand over and settle each message in turn; stop when the server is in trouble."""
        upcoming = self._prepare(next(ahead, None))
        in_flight: _Prepared | None = None
        while upcoming is not None or in_flight is not None:
            if in_flight is not None:
                taken = self._taken(in_flight)
                if not taken or upcoming is None:
                    if taken:
                        self._finish(in_flight, SENT, None)  # the last, on its own
                    in_flight = None
                    if self.report.stopped:
                        return
                    continue
            elif not self.transport.alive():
                self.report.stopped = "the mail server stopped answering"
                return
            assert upcoming is not None  # with nothing in flight, the loop's condition says so
            in_flight = self._next(in_flight, upcoming)
            if self.report.stopped:
                return
            # Built now, while the server takes the message just handed over.
            upcoming = self._prepare(next(ahead, None))

    def _next(self, taken: _Prepared | None, upcoming: _Prepared) -> _Prepared | None:
        """Mark `taken` sent and claim `upcoming` in one commit, and hand `upcoming` over.

        Returns `upcoming` if it was handed over (its outcome still to read).
        """
        if upcoming.error is not None:
            with self.writing() as session:
                self._settle_taken(session, taken)
                self._unbuildable(session, upcoming)
            if taken is not None:
                self._show(taken, self.transport.shown)
            self._show(upcoming, "failed")
            return None
        assert upcoming.message is not None
        queued = upcoming.queued
        self.transport.begin(self.sender, queued.recipients, len(upcoming.message))
        with self.writing() as session:  # while the server answers MAIL FROM
            self._settle_taken(session, taken)
            claimed = outbox.claim(session, self.campaign, queued, upcoming.token)
        if taken is not None:
            self._show(taken, self.transport.shown)
        if not claimed:
            self.transport.cancel()  # another sender took it: it is theirs to send
            return None
        try:
            self.transport.envelope(self.sender, queued.recipients)
        except (smtplib.SMTPException, OSError, NotHandedOver) as exc:
            self._failed_before_data(upcoming, exc)
            return None
        name = f"{queued.outbox_id:05d}-{queued.organisation_slug}-{queued.kind}"
        try:
            self.transport.data(upcoming.message, name)
        except NotHandedOver as exc:
            self._failed_before_data(upcoming, exc)  # nothing went: it stays queued
            return None
        except (smtplib.SMTPException, OSError) as exc:
            self._lost(upcoming, exc)
            return None
        return upcoming

    def _settle_taken(self, session: Connection, taken: _Prepared | None) -> None:
        if taken is not None:
            outbox.settle(
                session, self.campaign, taken.queued, SENT, kind=self.transport.trail_kind
            )

    def _prepare(self, queued: Queued | None) -> _Prepared | None:
        if queued is None:
            return None
        token = tokens.new_token()
        try:
            message = build_message(
                self.letterhead,
                queued.addressee,
                kind=queued.kind,
                token=token,
                message_id=queued.message_id,
                changes=queued.changes,
                text_hash=queued.text_hash,
            )
        except (MailError, ValueError) as exc:
            return _Prepared(queued, token, None, str(exc))
        return _Prepared(queued, token, message)

    def _unbuildable(self, session: Connection, prepared: _Prepared) -> None:
        # Its turn came and it cannot be built: it fails, and the batch stops for staff.
        error = f"could not build the message: {prepared.error}"
        outbox.settle(session, self.campaign, prepared.queued, FAILED, error, from_states=(QUEUED,))
        name = prepared.queued.addressee.organisation_name
        self.report.failed.append(f"{name}: could not build the message ({prepared.error})")
        self.report.stopped = "a message could not be built"

    def _failed_before_data(self, prepared: _Prepared, exc: Exception) -> None:
        """Settle a claimed message whose envelope failed: the server did not get it."""
        name = prepared.queued.addressee.organisation_name
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            reasons = "; ".join(f"{a} ({c} {_text(r)})" for a, (c, r) in exc.recipients.items())
            self._finish(prepared, FAILED, f"every recipient refused: {reasons}", "refused")
            self.report.refused.append(f"{name}: {reasons}")
        elif isinstance(exc, smtplib.SMTPResponseException):
            self._answered(prepared, exc)
        elif isinstance(exc, smtplib.SMTPNotSupportedError):
            self._finish(prepared, FAILED, str(exc), "failed")
            self.report.failed.append(f"{name}: {exc}")
        elif isinstance(exc, NotHandedOver):
            self._finish(prepared, QUEUED, str(exc), "left queued")
            self.report.stopped = str(exc)
        else:
            self._lost(prepared, exc)

    def _taken(self, prepared: _Prepared) -> bool:
        """Read the server's answer; settle the message at once unless the server took it."""
        try:
            refused = self.transport.outcome()
        except smtplib.SMTPResponseException as exc:
            self._answered(prepared, exc)
            return False
        except (smtplib.SMTPException, OSError) as exc:
            self._lost(prepared, exc)
            return False
        name = prepared.queued.addressee.organisation_name
        self.report.sent.append(name)
        for address, (code, reason) in refused.items():
            self.report.refused.append(f"{name}: {address} ({code} {_text(reason)})")
        return True

    def _finish(
        self, prepared: _Prepared, state: str, error: str | None, shown: str | None = None
    ) -> None:
        """Settle a message; a message handed over is named as the transport names it."""
        handed_over = state == SENT
        kind = self.transport.trail_kind if handed_over else None
        with self.writing() as session:
            outbox.settle(session, self.campaign, prepared.queued, state, error, kind=kind)
        self._show(prepared, self.transport.shown if handed_over else shown or state)

    def _answered(self, prepared: _Prepared, exc: smtplib.SMTPResponseException) -> None:
        name = prepared.queued.addressee.organisation_name
        reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        if 400 <= exc.smtp_code < 500:
            # The server answered "not now": it did not take the message, so it stays queued.
            self._finish(prepared, QUEUED, f"server said: {reason}", "left queued")
            self.report.stopped = f"the mail server answered {reason}"
            return
        self._finish(prepared, FAILED, f"server refused: {reason}", "failed")
        self.report.failed.append(f"{name}: the server refused the message ({reason})")

    def _lost(self, prepared: _Prepared, exc: Exception) -> None:
        self._finish(prepared, UNKNOWN, f"connection lost while sending: {exc}", "outcome unknown")
        self.report.stopped = f"the connection was lost while sending ({exc})"

    def _show(self, prepared: _Prepared, outcome: str) -> None:
        if self.progress is not None:
            queued = prepared.queued
            self.progress(queued.number, self.total, queued.addressee.organisation_name, outcome)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
