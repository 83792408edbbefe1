"""Staff's invitations pages: who was invited and what happened, sending, answers, names.

Every change calls the same core function as the CLI: `invitations.invite`,
`remind` and `resend` queue (as `invite`, `remind` and `invite --resend` do),
`mail/background.py` sends the queue with the CLI's exactly-once loop in a
background thread, `record_staff_answer` records an answer (as `sign`), and
`corrections.decide` settles a proposed name (as `names`). The trail names the
signed-in staff member as `staff: NAME`, as the CLI names [staff] name.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from flask import abort, flash, get_flashed_messages, jsonify, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as AnyResponse

from coalitionletter.catalogs import N_, N_plural, Words
from coalitionletter.errors import CampaignError, CoalitionError, SendRunningError
from coalitionletter.web.console import auth
from coalitionletter.web.console.invitation_forms import AnswerForm, NameDecisionForm, SendForm
from coalitionletter.web.console.shell import STAFF, Console, Rule

NAMES_LISTED = 3  # beyond this many, organisations without an address are counted
# The invitations page polls for progress with a small script of its own (no inline script).
SCRIPT_SOURCES = "script-src 'self'; connect-src 'self'"
# The list's filters (signon/roll.py's keys), as the page names them.
FILTERS = {
    "all": N_("Every organisation"),
    "not-invited": N_("Not invited"),
    "queued": N_("Message queued or being sent"),
    "failed": N_("Message failed or outcome unknown"),
    "waiting": N_("Invited, not answered"),
    "opened": N_("Opened, not answered"),
    "confirmed": N_("Confirmed"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
}
# What a send is of, as the send's record keeps it (in English, as the CLI's trail),
# and as the page says it.
WHAT = {
    "invitation(s)": N_("invitation(s)"),
    "reminder(s)": N_("reminder(s)"),
    "a new link": N_("a new link"),
    "request(s) to reconfirm": N_("request(s) to reconfirm"),  # the CLI's `reconfirm`
}


def _queued(what: str, count: int) -> Words:
    """How many messages of a send were queued, with the language's plural forms."""
    if what == "invitation(s)":
        return N_plural("Queued %(count)s invitation.", "Queued %(count)s invitations.", count)
    if what == "reminder(s)":
        return N_plural("Queued %(count)s reminder.", "Queued %(count)s reminders.", count)
    return N_("Queued %(count)s %(what)s.", count=count, what=WHAT.get(what, what))


def _with_script(response: AnyResponse) -> AnyResponse:
    """Allow the page its own script file and its progress requests, nothing else."""
    from coalitionletter.web.app import SECURITY_HEADERS

    base = SECURITY_HEADERS["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = f"{base}; {SCRIPT_SOURCES}"
    return response


def _actor() -> str:
    from coalitionletter.signon.states import staff_actor

    return staff_actor(current_user.name)


def name_changes(before: str, after: str) -> list[tuple[str, str]]:
    """The two names as runs of (same|removed|added, text), so staff see what differs."""
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("same", before[a1:a2]))
            continue
        if a2 > a1:
            runs.append(("removed", before[a1:a2]))
        if b2 > b1:
            runs.append(("added", after[b1:b2]))
    return runs


def _queue_notice(report: Any, what: str, total: int) -> list[Words | str]:
    """What queueing did, in the CLI's words: queued, skipped and why, no address."""
    lines: list[Words | str] = [_queued(what, len(report.queued)), *report.skipped_lines()]
    if len(report.no_address) > NAMES_LISTED:
        # Counted, not listed: the notice rides in the session cookie until shown.
        lines.append(
            N_(
                "Not sent to %(count)s organisations: they have no contact email. "
                'Add one to each (filter the list by "Not invited") and send again.',
                count=len(report.no_address),
            )
        )
    else:
        lines += [
            N_(
                "Not sent to %(name)s: it has no contact email. Add one to the organisation "
                "and send again.",
                name=name,
            )
            for name in report.no_address
        ]
    if report.why_none and not report.queued:
        lines.append(N_("None was due: %(why)s.", why=report.why_none))
    if total:
        lines.append(
            N_plural(
                "Sending %(count)s message in the background.",
                "Sending %(count)s messages in the background.",
                total,
            )
        )
    return lines


class Invitations:
    """The invitations list, sending, the progress bar, answers and name approvals."""

    def __init__(self, console: Console) -> None:
        from coalitionletter.mail import background
        from coalitionletter.mail.transport import SmtpTransport

        self.console = console
        settings = console.settings
        self.sender = background.Sender(
            console.database, settings, lambda: SmtpTransport(settings.smtp)
        )

    def _page(self, template: str, status: int = 200, **context: Any) -> AnyResponse:
        """A page of this area; the nav links to the campaign's invitations."""
        slug = context["slug"] if "slug" in context else context["campaign"].slug
        return self.console.page(template, status, campaign_slug=slug, **context)

    # --- reading ---------------------------------------------------------------------

    def _definition(self, slug: str) -> Any:
        from coalitionletter.campaigns import catalogue

        with self.console.database.reading() as db:
            return catalogue.load_current(self.console.settings, db, slug)

    def listing(self, slug: str) -> AnyResponse:
        """Every organisation and what became of its invitation, filtered by state."""
        from coalitionletter.signon import roll

        show = request.args.get("show", "all")
        if show not in roll.FILTERS:
            show = "all"
        return self._listing_page(slug, show, SendForm(), status=200)

    def _listing_page(self, slug: str, show: str, form: SendForm, status: int) -> AnyResponse:
        from coalitionletter.mail import background
        from coalitionletter.reports.count_queries import find_campaign
        from coalitionletter.signon import roll

        try:
            with self.console.database.reading() as db:
                campaign = find_campaign(db, slug)
                rows = roll.rows(db, campaign.id)
                sending = background.progress(db, slug)
        except CampaignError:
            abort(404)
        if sending is not None and sending.running:
            self.sender.wake()  # a send a restart left behind goes on (it was POSTed before)
        shown = [row for row in rows if row.matches(show)]
        page = self._page(
            "invitations.html",
            status=status,
            campaign=campaign,
            rows=shown,
            everyone=len(rows),
            filters=FILTERS,
            what_words=WHAT,
            show=show,
            sending=sending,
            form=form,
            problems=[*form.form_errors, *form.org.errors, *form.scope.errors],
            notices=get_flashed_messages(),
        )
        return _with_script(page)

    def progress(self, slug: str) -> AnyResponse:
        """Where the campaign's send stands, as JSON for the progress bar."""
        from coalitionletter.mail import background

        try:
            with self.console.database.reading() as db:
                found = background.progress(db, slug)
        except CampaignError:
            abort(404)
        if found is None:
            return jsonify({"running": False, "done": 0, "total": 0})
        if found.running:
            self.sender.wake()
        return jsonify(found.as_json())

    # --- sending ---------------------------------------------------------------------

    def _start(
        self,
        slug: str,
        what: str,
        decide: Callable[[Any, Any], Any],
        *,
        only_these: bool = False,
    ) -> list[Words | str]:
        """Queue as the CLI does and record the send; raises the core's errors."""
        from coalitionletter.mail import background
        from coalitionletter.mail.transport import SmtpTransport

        SmtpTransport(self.console.settings.smtp)  # refuses a server that is not set up
        definition = self._definition(slug)
        with self.console.database.writing() as db:
            report, started = background.start(
                db,
                slug,
                what=what,
                actor=_actor(),
                queue=lambda: decide(db, definition),
                only_these=only_these,
            )
        if started.total:
            self.sender.wake()
        return _queue_notice(report, what, started.total)

    def _done(self, slug: str, lines: list[Words | str]) -> AnyResponse:
        # Flashed in the reader's language now: the session cookie holds only text.
        for line in lines:
            flash(self.console.words(line))
        return redirect(url_for("console.invitations", slug=slug) + "#sending")

    def _refused(self, slug: str, exc: CoalitionError, status: int = 400) -> AnyResponse:
        form = SendForm()
        form.form_errors.append(self.console.words(exc))
        return self._listing_page(slug, "all", form, status=status)

    def send(self, slug: str) -> AnyResponse:
        """Invite every organisation not yet invited, or the ticked ones (`invite --all/--org`)."""
        from coalitionletter.signon import invitations

        form = SendForm()
        if not form.validate():
            return self._listing_page(slug, "all", form, status=400)
        everyone = form.scope.data == "all"
        refs = [] if everyone else [str(i) for i in form.org.data or []]
        actor = _actor()

        def decide(db: Any, definition: Any) -> Any:
            return invitations.invite(db, definition, refs=refs, everyone=everyone, actor=actor)

        return self._sent(slug, "invitation(s)", decide)

    def remind(self, slug: str) -> AnyResponse:
        """Remind every organisation due a reminder, by `remind`'s rules."""
        from coalitionletter.signon import invitations

        settings = self.console.settings

        def decide(db: Any, definition: Any) -> Any:
            return invitations.remind(
                db,
                definition,
                max_reminders=settings.reminders_max,
                interval_days=settings.reminders_interval_days,
            )

        return self._sent(slug, "reminder(s)", decide)

    def _sent(
        self, slug: str, what: str, decide: Callable[[Any, Any], Any], *, only_these: bool = False
    ) -> AnyResponse:
        try:
            lines = self._start(slug, what, decide, only_these=only_these)
        except CampaignError:
            abort(404)
        except SendRunningError as exc:
            return self._refused(slug, exc, status=409)
        except CoalitionError as exc:  # closed, an unknown organisation, no mail server
            return self._refused(slug, exc)
        return self._done(slug, lines)

    def resend(self, slug: str, org_id: int) -> AnyResponse:
        """A new link for one organisation: GET asks, POST sends it alone (`invite --resend`)."""
        from coalitionletter.signon import invitations

        row = self._row(slug, org_id)
        if request.method == "GET":
            return self._page("resend.html", slug=slug, row=row, errors=[])
        actor = _actor()

        def decide(db: Any, definition: Any) -> Any:
            return invitations.resend(db, definition, [str(org_id)], actor=actor)

        try:
            lines = self._start(slug, "a new link", decide, only_these=True)
        except CoalitionError as exc:
            return self._page(
                "resend.html", 400, slug=slug, row=row, errors=[self.console.words(exc)]
            )
        return self._done(slug, lines)

    def _row(self, slug: str, org_id: int) -> Any:
        from coalitionletter.reports.count_queries import find_campaign
        from coalitionletter.signon import roll

        try:
            with self.console.database.reading() as db:
                campaign = find_campaign(db, slug)
                rows = roll.rows(db, campaign.id)
        except CampaignError:
            abort(404)
        for row in rows:
            if row.organisation_id == org_id:
                return row
        abort(404)

    # --- answers ---------------------------------------------------------------------

    def answer(self, slug: str, org_id: int) -> AnyResponse:
        """Record an answer received by email or phone (`coalitionletter sign`)."""
        row = self._row(slug, org_id)
        form = AnswerForm()
        if request.method == "GET":
            return self._page("answer.html", slug=slug, row=row, form=form, errors=[])
        if not form.validate():
            return self._page("answer.html", 400, slug=slug, row=row, form=form, errors=[])
        from coalitionletter.dates import parse_moment

        received = (form.received_on.data or "").strip()
        try:
            received_at = parse_moment(received, day_end=True) if received else None
        except ValueError as exc:
            form.received_on.errors = [N_("When the answer arrived: %(problem)s", problem=str(exc))]
            return self._page("answer.html", 400, slug=slug, row=row, form=form, errors=[])
        try:
            name, outcome = self._record(slug, org_id, form, received_at)
        except CoalitionError as exc:
            return self._page(
                "answer.html", 400, slug=slug, row=row, form=form, errors=[self.console.words(exc)]
            )
        line: Words
        if outcome.changed:
            line = N_(
                "Recorded: %(name)s %(event)s (as %(staff)s).",
                name=name,
                event=outcome.event,
                staff=current_user.name,
            )
        else:
            line = N_(
                "%(name)s is already %(state)s; nothing changed.", name=name, state=outcome.state
            )
        return self._done(slug, [line])

    def _record(
        self, slug: str, org_id: int, form: AnswerForm, received_at: Any
    ) -> tuple[str, Any]:
        from coalitionletter.signon import invitations

        answer = invitations.StaffAnswer(
            action=form.action.data,
            signer_name=(form.signer.data or "").strip() or None,
            signer_title=(form.title.data or "").strip() or None,
            display_name=(form.display_name.data or "").strip() or None,
            listing=form.listing.data or "public",
            signer_public=bool(form.signer_public.data),
            reason=(form.reason.data or "").strip() or None,
            received_at=received_at,
        )
        definition = self._definition(slug)
        with self.console.database.writing() as db:
            return invitations.record_staff_answer(
                db, definition, str(org_id), answer, staff_name=current_user.name
            )

    # --- proposed names --------------------------------------------------------------

    def names(self, slug: str) -> AnyResponse:
        """The pending proposed names beside the registry names (`coalitionletter names`)."""
        return self._names_page(slug, {}, 200)

    def _names_page(self, slug: str, errors: dict[int, list[str]], status: int) -> AnyResponse:
        from coalitionletter.signon import corrections

        try:
            definition = self._definition(slug)
            with self.console.database.reading() as db:
                pending = corrections.pending(db, definition)
        except CampaignError:
            abort(404)
        return self._page(
            "names.html",
            status=status,
            slug=slug,
            title=definition.title,
            pending=pending,
            changes=name_changes,
            errors=errors,
            notices=get_flashed_messages(),
        )

    def decide_name(self, slug: str, org_id: int) -> AnyResponse:
        """Approve or reject one proposal, as it was shown (`names --approve/--reject`)."""
        from coalitionletter.signon import corrections

        form = NameDecisionForm()
        if not form.validate():
            errors = [message for field in form.errors.values() for message in field]
            return self._names_page(slug, {org_id: errors}, 400)
        approve = form.decision.data == "approve"
        try:
            definition = self._definition(slug)
            with self.console.database.writing() as db:
                seen = corrections.decide(
                    db,
                    definition,
                    str(org_id),
                    approve=approve,
                    expected=form.expected.data or "",
                    actor=_actor(),
                    reason=(form.reason.data or "").strip() or None,
                )
        except CampaignError:
            abort(404)
        except CoalitionError as exc:
            return self._names_page(slug, {org_id: [self.console.words(exc)]}, 400)
        if approve:
            said = N_(
                "Approved: %(proposed)s is printed for %(registry)s.",
                proposed=seen.proposed_name,
                registry=seen.registry_name,
            )
        else:
            said = N_(
                "Rejected: %(proposed)s is dropped; %(printed)s is printed.",
                proposed=seen.proposed_name,
                printed=seen.printed_name,
            )
        flash(self.console.words(said))
        return redirect(url_for("console.names", slug=slug))


def rules(console: Console) -> list[Rule]:
    """The URL rules of the invitations area (staff only)."""
    pages = Invitations(console)
    staff_only = auth.requires(STAFF)
    base = "/c/<slug>/invitations"
    return [
        (base, "invitations", staff_only(pages.listing), ["GET"]),
        (f"{base}/progress", "send_progress", staff_only(pages.progress), ["GET"]),
        (f"{base}/send", "send_invitations", staff_only(pages.send), ["POST"]),
        (f"{base}/remind", "send_reminders", staff_only(pages.remind), ["POST"]),
        (f"{base}/<int:org_id>/resend", "resend", staff_only(pages.resend), ["GET", "POST"]),
        (f"{base}/<int:org_id>/answer", "answer", staff_only(pages.answer), ["GET", "POST"]),
        ("/c/<slug>/names", "names", staff_only(pages.names), ["GET"]),
        ("/c/<slug>/names/<int:org_id>", "decide_name", staff_only(pages.decide_name), ["POST"]),
    ]
