"""Sign-on commands: invite, remind, reconfirm, close, reopen, sign, publish, audit, serve."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from coalitionletter.cli import AppContext, ask_or_abort, core_errors, pass_app

if TYPE_CHECKING:
    from collections.abc import Callable

    from coalitionletter.mail.sending import DeliveryReport
    from coalitionletter.mail.transport import Transport
    from coalitionletter.signon.invitations import QueueReport

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
OUTBOX_OPTION = click.option(
    "--outbox",
    type=click.Path(file_okay=False),
    help="Write one .eml file per message to DIR instead of sending (they hold live links).",
)
FORCE_OPTION = click.option(
    "--force",
    is_flag=True,
    help="Take over a send (from the console or another command) that has not been heard "
    "from for a while, when you know its process has stopped.",
)


def _warn_if_loopback(base_url: str) -> None:
    from urllib.parse import urlsplit

    host = urlsplit(base_url).hostname or ""
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        click.echo(
            f"Warning: the links point to {base_url}, which works only on this machine. "
            "Set [web] base_url in coalitionletter.toml (or COALITIONLETTER_BASE_URL) to the "
            "address organisations can reach.",
            err=True,
        )


def _transport(app: AppContext, outbox: str | None) -> Transport:
    from pathlib import Path

    from coalitionletter.mail import transport

    if outbox:
        return transport.FolderTransport(Path(outbox))
    with core_errors():
        return transport.SmtpTransport(app.settings.smtp)


def _print_queue(report: QueueReport, what: str) -> None:
    for line in report.skipped_lines():
        click.echo(line)
    for name in report.no_address:
        click.echo(
            f"Not sent to {name}: it has no contact email. Add one with "
            "`coalitionletter org edit` and run again.",
            err=True,
        )
    click.echo(f"Queued {len(report.queued)} {what}.")
    if report.why_none and not report.queued:
        click.echo(f"None was due: {report.why_none}.")


def _progress(number: int, total: int, name: str, outcome: str) -> None:
    click.echo(f"[{number}/{total}] {outcome}: {name}")


def _deliver(
    app: AppContext,
    definition: Any,
    transport: Transport,
    slug: str,
    me: str,
    *,
    only: list[int] | None = None,
) -> None:
    from coalitionletter.mail import background

    with core_errors():
        report = background.deliver_held(
            app.database, app.settings, definition, transport, me, progress=_progress, only=only
        )
    _print_delivery(report, slug, _handed_over(transport, len(report.sent)))
    if not report.ok:
        raise click.exceptions.Exit(1)


def _handed_over(transport: Transport, count: int) -> str:
    """'Sent 3 messages.', or for a folder, 'Wrote 3 messages to outbox/.'"""
    from coalitionletter.mail.transport import FolderTransport

    messages = f"{count} message{'s' if count != 1 else ''}"
    if isinstance(transport, FolderTransport):
        return f"Wrote {messages} to {transport.folder}."
    return f"Sent {messages}."


def _print_delivery(report: DeliveryReport, slug: str, handed_over: str) -> None:
    click.echo(handed_over)
    if report.refused:
        click.echo("The mail server refused these recipients (fix the address, then resend):")
        for line in report.refused:
            click.echo(f"  {line}")
    if report.failed:
        click.echo("These messages failed:")
        for line in report.failed:
            click.echo(f"  {line}")
    if report.unknown:
        click.echo(
            "Outcome unknown: sending stopped while these were handed over, so they may have "
            "arrived. They are NOT resent automatically. Ask the organisation. If it arrived: "
            f"coalitionletter invite {slug} --received ORG; if not, send a new link (the old "
            f"one stops working): coalitionletter invite {slug} --resend ORG"
        )
        for line in report.unknown:
            click.echo(f"  {line}")
    if report.remaining:
        reason = f" ({report.stopped})" if report.stopped else ""
        click.echo(
            f"{report.remaining} message(s) are still queued{reason}. "
            "Run the same command again to send them; nothing is sent twice."
        )
    if report.left_for_later:
        click.echo(
            f"{report.left_for_later} other message(s) are still queued from an earlier run; "
            f"coalitionletter invite {slug} --all sends them (nothing is sent twice)."
        )


def _queue_and_send(
    app: AppContext,
    campaign: str,
    outbox: str | None,
    what: str,
    decide: Callable[[Any, Any], QueueReport],
    *,
    only_these: bool = False,
    force: bool = False,
) -> None:
    """Decide and queue in one transaction, then send what is queued for the campaign.

    Everything queued goes (a rerun finishes an earlier run's work), unless
    `only_these`: then only the messages this call queued. The send is the
    campaign's one send, as the console's are: refused while another is live.
    """
    from coalitionletter.mail import background

    transport = _transport(app, outbox)
    definition = _definition(app, campaign)
    me = background.worker_name()
    with core_errors(), app.database.writing() as session:
        report, started = background.start(
            session,
            campaign,
            what=what,
            actor=app.actor,
            queue=lambda: decide(session, definition),
            only_these=only_these,
            holder=me,
            force=force,
        )
    if started.took_over:
        click.echo(started.took_over)
    _print_queue(report, what)
    _deliver(app, definition, transport, campaign, me, only=started.only)


def _record_received(app: AppContext, slug: str, refs: list[str]) -> None:
    from coalitionletter.signon import invitations

    definition = _definition(app, slug)
    with core_errors(), app.database.writing() as session:
        settled = invitations.received(session, definition, refs, actor=app.actor)
    for line in settled:
        click.echo(f"Recorded as received: {line}.")


def _moment(value: str | None, option: str, *, day_end: bool) -> datetime | None:
    """A date and time with a zone, in UTC; a bare date is the start or end of that UTC day."""
    from coalitionletter.dates import parse_moment

    if value is None:
        return None
    try:
        return parse_moment(value, day_end=day_end)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from exc


def _definition(app: AppContext, slug: str) -> Any:
    """The campaign as organisations see it: its files, with the published text if any."""
    from coalitionletter.campaigns import catalogue as campaigns

    with core_errors(), app.database.reading() as session:
        return campaigns.load_current(app.settings, session, slug)


def _time_zone_of(app: AppContext, slug: str) -> str | None:
    """The campaign's time zone from letter.toml; None (UTC) when its files cannot be read,
    so that closing never depends on them."""
    from coalitionletter.campaigns import catalogue as campaigns
    from coalitionletter.errors import CampaignError

    try:
        return campaigns.load(app.settings, slug).time_zone
    except CampaignError:
        return None


@click.command()
@click.argument("campaign")
@click.option(
    "--org",
    "orgs",
    multiple=True,
    metavar="REF",
    help="An organisation (id, slug or exact name); repeatable.",
)
@click.option(
    "--all", "everyone", is_flag=True, help="Every organisation in the registry not yet asked."
)
@click.option(
    "--resend", multiple=True, metavar="REF", help="Send a new link; the old one stops working."
)
@click.option(
    "--received",
    multiple=True,
    metavar="REF",
    help="The organisation got a message whose outcome was unknown: record it as sent.",
)
@OUTBOX_OPTION
@FORCE_OPTION
@pass_app
def invite(
    app: AppContext,
    *,
    campaign: str,
    orgs: tuple[str, ...],
    everyone: bool,
    resend: tuple[str, ...],
    received: tuple[str, ...],
    outbox: str | None,
    force: bool,
) -> None:
    """Email each organisation its personal sign-on link.

    Organisations that already answered, or were already invited, are left
    alone. A rerun after a crash or a mail-server failure sends every message
    still queued exactly once; a message whose outcome is unknown is reported
    instead, until staff record it --received or send a new link with --resend.
    While another send of the campaign runs (from the console or another
    command) it refuses and changes nothing; --force takes over a send that has
    not been heard from for a while, once you know its process has stopped.

    \b
    Example:
      coalitionletter invite ilp-magnitsky-2020 --all
      coalitionletter invite ilp-magnitsky-2020 --org pen-america --outbox outbox/
      coalitionletter invite ilp-magnitsky-2020 --resend pen-america
      coalitionletter invite ilp-magnitsky-2020 --received pen-america
    """
    from coalitionletter.signon import invitations

    if received:
        if orgs or everyone or resend or outbox or force:
            raise click.UsageError("--received records an answer only; give it on its own.")
        _record_received(app, campaign, list(received))
        return
    if not (orgs or everyone or resend):
        raise click.UsageError("Name organisations with --org REF, or pass --all or --resend REF.")
    _warn_if_loopback(app.settings.base_url)
    actor = app.actor

    def decide(session: Any, definition: Any) -> QueueReport:
        report = invitations.QueueReport()
        if orgs or everyone:
            report = invitations.invite(
                session, definition, refs=list(orgs), everyone=everyone, actor=actor
            )
        if resend:
            again = invitations.resend(session, definition, list(resend), actor=actor)
            report.queued += again.queued
            report.no_address += again.no_address
            report.invitation_ids += again.invitation_ids
        return report

    # A new link for one organisation sends that message alone, not the run's leftovers.
    only_resent = bool(resend) and not (orgs or everyone)
    _queue_and_send(
        app, campaign, outbox, "invitation(s)", decide, only_these=only_resent, force=force
    )


@click.command()
@click.argument("campaign")
@OUTBOX_OPTION
@FORCE_OPTION
@pass_app
def remind(app: AppContext, campaign: str, outbox: str | None, force: bool) -> None:
    """Email a reminder to each organisation that has not answered yet.

    At most [reminders] max reminders each (default 2), none within
    [reminders] interval_days of the last message (default 7), none after the
    deadline.

    \b
    Example:
      coalitionletter remind ilp-magnitsky-2020
    """
    from coalitionletter.signon import invitations

    settings = app.settings

    def decide(session: Any, definition: Any) -> QueueReport:
        return invitations.remind(
            session,
            definition,
            max_reminders=settings.reminders_max,
            interval_days=settings.reminders_interval_days,
        )

    _queue_and_send(app, campaign, outbox, "reminder(s)", decide, force=force)


@click.command()
@click.argument("campaign")
@OUTBOX_OPTION
@FORCE_OPTION
@pass_app
def reconfirm(app: AppContext, campaign: str, outbox: str | None, force: bool) -> None:
    """Ask organisations that confirmed an earlier text to confirm the current one.

    Each gets the changes as a readable diff and its link. Until it confirms
    again, `build` does not list it.

    \b
    Example:
      coalitionletter reconfirm ilp-magnitsky-2020
    """
    from coalitionletter.signon import invitations

    _queue_and_send(
        app, campaign, outbox, "request(s) to reconfirm", invitations.reconfirm, force=force
    )


@click.command()
@click.argument("campaign")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def close(app: AppContext, campaign: str, yes: bool) -> None:
    """Close a campaign's sign-on now: links expire and answers are frozen.

    \b
    Example:
      coalitionletter close ilp-magnitsky-2020 --yes
    """
    from coalitionletter.campaigns import catalogue as campaigns
    from coalitionletter.dates import format_deadline
    from coalitionletter.signon import states as signon

    if not yes:
        ask_or_abort(f"Close the sign-on for {campaign}? No answer can be changed after.")
    with core_errors(), app.database.writing() as session:
        row = campaigns.campaign_row(session, campaign)
        closed = signon.close_campaign(session, row, actor=app.actor)
        closed_at = row.closed_at
    if closed and closed_at is not None:
        when = format_deadline(closed_at, _time_zone_of(app, campaign))
        click.echo(
            f"Closed the sign-on for {campaign} at {when}. Links now show that it has closed."
        )
    else:
        click.echo(f"The sign-on for {campaign} was already closed; nothing changed.")


@click.command()
@click.argument("campaign")
@click.option(
    "--until",
    metavar="DATETIME",
    help="The new deadline (with a time zone); it replaces letter.toml's.",
)
@pass_app
def reopen(app: AppContext, campaign: str, until: str | None) -> None:
    """Take answers again after `close` or the deadline, or move the deadline.

    Without --until the deadline stays what it was and must still be ahead;
    with it, DATETIME is the new deadline (it replaces the one in letter.toml
    until set again). Links work again; the trail records who reopened, and
    the deadline before and after.

    \b
    Example:
      coalitionletter reopen ilp-magnitsky-2020
      coalitionletter reopen ilp-magnitsky-2020 --until 2020-08-21T17:00:00+01:00
    """
    from coalitionletter.campaigns import catalogue as campaigns
    from coalitionletter.dates import format_deadline
    from coalitionletter.signon import states as signon

    new_deadline = _moment(until, "--until", day_end=False)
    definition = _definition(app, campaign)
    with core_errors(), app.database.writing() as session:
        row = campaigns.sync(session, definition)
        done = signon.reopen_campaign(
            session,
            row,
            actor=app.actor,
            file_deadline=definition.deadline,
            until=new_deadline,
            time_zone=definition.time_zone,
        )
    when = (
        f"until {format_deadline(done.deadline, definition.time_zone)}"
        if done.deadline
        else "until it is closed (no deadline)"
    )
    if done.event is None:
        click.echo(f"The sign-on for {campaign} is open, {when}; nothing changed.")
    elif done.event == "reopened":
        click.echo(f"Reopened the sign-on for {campaign}: links take answers again, {when}.")
    else:
        click.echo(f"Moved the deadline of {campaign}: the sign-on is open {when}.")


@click.command()
@click.argument("campaign")
@click.argument("org")
@click.option("--confirm", "action", flag_value="confirm", help="The organisation agreed.")
@click.option("--decline", "action", flag_value="decline", help="The organisation declined.")
@click.option("--withdraw", "action", flag_value="withdraw", help="It withdrew its signature.")
@click.option("--signer", help="Who gave the answer (required to confirm).")
@click.option("--title", help="The signer's title (required to confirm).")
@click.option("--display-name", help="The name to print, if it differs from the registry.")
@click.option(
    "--listing",
    type=click.Choice(["public", "governments_only"]),
    default="public",
    show_default=True,
    help="Named publicly, or only in the copies delivered to governments.",
)
@click.option(
    "--public/--not-public",
    "signer_public",
    default=None,
    help="With --confirm: the signer agreed to appear on the public list of signatories "
    "(default: not public, as on the sign-on page).",
)
@click.option("--reason", help="Why it declined (optional).")
@click.option(
    "--language",
    metavar="CODE",
    help="The language version it confirmed, for a letter in several (default: the "
    "campaign's own language).",
)
@click.option(
    "--received-on",
    metavar="DATE",
    help="When the written answer arrived: a date, or a date and time with a zone. "
    "An answer that arrived before the deadline is taken after closing.",
)
@pass_app
def sign(
    app: AppContext,
    *,
    campaign: str,
    org: str,
    action: str | None,
    signer: str | None,
    title: str | None,
    display_name: str | None,
    listing: str,
    signer_public: bool | None,
    reason: str | None,
    language: str | None,
    received_on: str | None,
) -> None:
    """Record an answer received another way (an email reply, a call).

    ORG is an id, a slug or the exact name. The answer is logged under the
    staff name from the configuration ([staff] name). A confirmation keeps the
    signer off the public list of signatories unless --public says they agreed.
    After the sign-on has closed, an answer is taken only with --received-on,
    and only if it arrived while the sign-on was open (a bare date counts as
    the end of that day, UTC).

    \b
    Example:
      coalitionletter sign ilp-magnitsky-2020 pen-america --confirm \\
          --signer "Jane Doe" --title "Director" --public
      coalitionletter sign ilp-magnitsky-2020 pen-america --withdraw \\
          --received-on 2020-08-14T11:20:00+01:00
    """
    from coalitionletter.signon import invitations

    if action is None:
        raise click.UsageError(
            "Say what the organisation answered: --confirm, --decline or --withdraw."
        )
    if signer_public and action != "confirm":
        raise click.UsageError(
            "--public says the signer may appear on the public list of signatories; give it "
            "with --confirm only."
        )
    definition = _definition(app, campaign)
    answer = invitations.StaffAnswer(
        action=action,
        signer_name=signer,
        signer_title=title,
        display_name=display_name,
        listing=listing,
        signer_public=bool(signer_public),
        reason=reason,
        received_at=_moment(received_on, "--received-on", day_end=True),
        language=language,
    )
    with core_errors(), app.database.writing() as session:
        name, outcome = invitations.record_staff_answer(
            session, definition, org, answer, staff_name=app.settings.staff_name
        )
    if outcome.changed:
        click.echo(f"Recorded: {name} {outcome.event} (as {app.settings.staff_name}).")
    else:
        click.echo(f"{name} is already {outcome.state}; nothing changed.")


@click.command()
@click.argument("campaign")
@click.option("--diff", "show_only", is_flag=True, help="Show what would change; publish nothing.")
@pass_app
def publish(app: AppContext, campaign: str, show_only: bool) -> None:
    """Make body.md and letter.toml's words the text organisations see and sign.

    Until a campaign is first published its files are live. After, editing
    body.md (or the title, closing or lead in letter.toml) changes nothing for
    organisations until it is published again: a half-finished edit or a
    syntax error never reaches them. --diff shows the changes first. Each
    publication is in the trail; confirmations of the text before become stale.

    \b
    Example:
      coalitionletter publish ilp-magnitsky-2020 --diff
      coalitionletter publish ilp-magnitsky-2020
    """
    from coalitionletter.campaigns import catalogue as campaigns
    from coalitionletter.signon import consent, publishing
    from coalitionletter.signon import states as signon

    with core_errors():
        draft = campaigns.load(app.settings, campaign)  # the files now, checked
        if show_only:
            with app.database.reading() as session:
                outcome = publishing.preview(session, draft)
            _print_preview(campaign, outcome)
            return
        with app.database.writing() as session:
            outcome = publishing.publish(session, draft, actor=app.actor)
            row = campaigns.campaign_row(session, campaign)
            stale = signon.stale_confirmations(session, row, consent.current_hashes(session, draft))
    if not outcome.changed:
        click.echo(f"The text of {campaign} is already published as is; nothing changed.")
        return
    if outcome.changes:
        click.echo(outcome.changes)
        click.echo("")
    click.echo(
        f"Published the text of {campaign} (version {outcome.text_hash[:12]}): organisations "
        "now see and sign it; editing body.md changes nothing for them until you publish again."
    )
    if len(outcome.versions) > 1:
        listed = ", ".join(
            f"{code} {text_hash[:12]}" for code, text_hash in outcome.versions.items()
        )
        click.echo(f"Every language version is published: {listed}.")
    if stale:
        click.echo(
            f"{len(stale)} confirmation(s) are of an earlier text; ask them to confirm this one: "
            f"coalitionletter reconfirm {campaign}"
        )


def _print_preview(campaign: str, outcome: Any) -> None:
    if not outcome.changed:
        click.echo(f"The files of {campaign} hold the published text; nothing to publish.")
        return
    if outcome.previous_hash is None:
        click.echo(
            f"{campaign} has not been published yet: organisations see its files as they are. "
            f"Publishing freezes this text (version {outcome.text_hash[:12]})."
        )
        return
    click.echo(outcome.changes or "Only whitespace or placeholders differ.")
    click.echo("")
    click.echo(f"Not published (--diff). To publish: coalitionletter publish {campaign}")


@click.command()
@click.argument("campaign")
@click.option(
    "--verify",
    is_flag=True,
    help="Check the hash chain and that every invitation matches it; exit non-zero if not.",
)
@click.option(
    "--expect",
    metavar="SEQ:HASH",
    help="With --verify: an anchor an earlier run printed; fail unless the trail holds it.",
)
@pass_app
def audit(app: AppContext, campaign: str, verify: bool, expect: str | None) -> None:
    """Print a campaign's trail: who did what, when, from where, to which text.

    With --verify, recompute the chain and compare each invitation's state,
    listing and agreed text with its trail, then print the trail's head as an
    anchor. Keep the anchor outside the database (an email, a notebook): a
    later `--verify --expect ANCHOR` fails if the trail was rewound or
    rewritten past it, which no check inside the database can see.

    \b
    Example:
      coalitionletter audit ilp-magnitsky-2020
      coalitionletter audit ilp-magnitsky-2020 --verify
      coalitionletter audit ilp-magnitsky-2020 --verify --expect 12:3fa94c0d5e6b7a81
    """
    from coalitionletter.signon import audit as trail

    if expect and not verify:
        raise click.UsageError("--expect checks an anchor while verifying; add --verify.")
    with core_errors(), app.database.reading() as session:
        anchor = trail.parse_anchor(expect) if expect else None
        lines = trail.lines(session, campaign)
        found = trail.check(session, campaign, anchor) if verify else None
    if not lines:
        click.echo(f"The trail of {campaign} has no entries yet.")
    for line in lines:
        click.echo(line)
    if found is None:
        return
    if not found.intact:
        problems = found.descriptions()
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"The trail of {campaign} has been altered, or its records changed behind the "
            f"program's back ({len(problems)} problem(s) above). Restore the database from a "
            "backup and compare."
        )
    click.echo(
        f"Verified: the chain of {len(lines)} entries is unbroken and every invitation "
        "matches its trail."
    )
    if anchor is not None:
        click.echo(f"The trail still holds the anchor {anchor}.")
    click.echo(
        f"Anchor: {found.head}\nKeep it outside the database; "
        f"`coalitionletter audit {campaign} --verify --expect {found.head}` checks it later."
    )


@click.command()
@click.option(
    "--host",
    help="Address to listen on (default: [web] host, 127.0.0.1, where the reverse proxy "
    "on the same machine reaches it).",
)
@click.option("--port", type=int, help="Port (default: [web] port, 8000).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes; more than 1 runs gunicorn, each worker waitress.",
)
@click.option(
    "--staff-address",
    metavar="HOST:PORT",
    callback=lambda _ctx, _param, value: _address(value),
    help="Serve the staff console here alone (e.g. an address only the VPN reaches), "
    "and not under /staff of the public address.",
)
@pass_app
def serve(
    app: AppContext,
    host: str | None,
    port: int | None,
    workers: int,
    staff_address: tuple[str, int] | None,
) -> None:
    """Serve the sign-on pages organisations open from their emails.

    Runs under waitress (one process) or gunicorn with a waitress in each
    worker (--workers N), never Flask's development server. In production
    it listens on 127.0.0.1 behind a reverse proxy that serves HTTPS and
    takes the slow and idle clients; set [web] base_url to the public address.
    The staff console is under /staff of the same address, or on its own
    address with --staff-address (set [console] base_url to how staff reach it).

    \b
    Example:
      coalitionletter serve
      coalitionletter serve --port 8080 --workers 4   # behind the proxy
      coalitionletter serve --staff-address 10.8.0.1:8443   # the console on the VPN only
    """
    from coalitionletter.web import serving

    settings = app.settings
    host = host or settings.host
    port = port or settings.port
    _check_staff_address(settings, (host, port), staff_address)
    app.database.dispose()  # each worker opens its own connections
    click.echo(f"Serving the sign-on pages on http://{host}:{port} (links use {settings.base_url})")
    if staff_address is not None:
        shown = _listen_text(staff_address)
        click.echo(f"Serving the staff console on http://{shown}/staff/ only")
    with core_errors():
        serving.run(settings, host=host, port=port, workers=workers, staff=staff_address)


def _listen_text(where: tuple[str, int]) -> str:
    host, port = where
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _address(value: str | None) -> tuple[str, int] | None:
    """HOST:PORT (an IPv6 host in brackets) as (host, port); a clear error otherwise."""
    if value is None:
        return None
    host, colon, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(
            f"{value!r} is not HOST:PORT. Give an address and a port, e.g. 10.8.0.1:8443 "
            "or [fd00::1]:8443."
        )
    return host, int(port)


def _check_staff_address(
    settings: Any, public: tuple[str, int], staff: tuple[str, int] | None
) -> None:
    """Refuse a staff address that would serve nothing or the public pages too."""
    if staff is None:
        return
    if not settings.console.enabled:
        raise click.UsageError(
            "--staff-address serves the staff console, which is turned off "
            "([console] enabled = false). Turn it on, or leave out --staff-address."
        )
    if staff == public:
        raise click.UsageError(
            f"--staff-address {_listen_text(staff)} is the public address itself. Give the "
            "console another address or port, one that only staff reach."
        )


COMMANDS = [invite, remind, reconfirm, close, reopen, sign, publish, audit, serve]
