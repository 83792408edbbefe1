"""The console's pages: sign in and out, set a password, campaigns, dashboard, trail.

Every number comes from the same core functions as `coalitionletter counts`,
`export` and `audit`; nothing is counted a second way here. Pages only show:
the one changes they make (signing in and out, setting a password) are POSTs
carrying a CSRF token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, Flask, Response, abort, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as AnyResponse
from wtforms.validators import ValidationError

from coalitionletter.db import Database
from coalitionletter.errors import CampaignError, CoalitionError, StaffError
from coalitionletter.models import StaffRole
from coalitionletter.settings import Settings
from coalitionletter.staff import accounts, sessions, throttle
from coalitionletter.web.console import auth
from coalitionletter.web.console.forms import LoginForm, SetPasswordForm

log = logging.getLogger(__name__)

CONSOLE_PREFIX = "/staff"
STAFF = StaffRole.STAFF.value
COORDINATOR = StaffRole.COORDINATOR.value
BREAKDOWNS = ("status", "country", "type")
FAILED = "The email address or password is not right. Check both and try again."
LOCKED = (
    "Too many failed sign-ins for this account or from this address. "
    "Wait 15 minutes, then try again."
)


class Console:
    """The console's handlers, bound to one settings object and database."""

    def __init__(self, settings: Settings, database: Database) -> None:
        from coalitionletter.render import make_environment

        self.settings = settings
        self.database = database
        self.environment = make_environment(settings.templates_dir)

    # --- helpers -----------------------------------------------------------------

    def page(self, template: str, status: int = 200, **context: Any) -> Response:
        """Render a console template through the shared Jinja environment."""
        body = self.environment.get_template(f"console/{template}").render(
            user=current_user,
            csrf_token=generate_csrf(),
            url=url_for,
            STAFF=STAFF,
            **context,
        )
        return Response(body, status=status, mimetype="text/html")

    def problem(self, status: int, message: str) -> Response:
        """An error page that shows nothing of any campaign."""
        return self.page("problem.html", status=status, status_code=status, message=message)

    # --- signing in and out ---------------------------------------------------------

    def login(self) -> AnyResponse:
        """The sign-in form; a POST checks the password under the failure throttle."""
        if current_user.is_authenticated:
            return redirect(url_for("console.campaigns"))
        form = LoginForm()
        notice = None
        if session.pop(auth.IDLE_KEY, False):
            notice = f"You were signed out after {self.settings.console.idle_minutes} minutes "
            notice += "without activity. Sign in again."
        if request.method == "GET":
            return self.page("login.html", form=form, notice=notice, error=None)
        if not form.validate_on_submit():
            return self.page("login.html", 400, form=form, notice=None, error=FAILED)
        return self._check_login(form)

    def _check_login(self, form: LoginForm) -> AnyResponse:
        email = form.email.data or ""
        keys = [
            throttle.account_key(accounts.email_key(email)),
            throttle.address_key(auth.client_address()),
        ]
        with self.database.writing() as db:
            if throttle.locked(db, keys):
                return self.page("login.html", 429, form=form, notice=None, error=LOCKED)
            account = accounts.check_password(db, email, form.password.data or "")
            if account is None:
                throttle.record_failure(db, keys)
                error = LOCKED if throttle.locked(db, keys) else FAILED
                return self.page("login.html", 401, form=form, notice=None, error=error)
            throttle.clear(db, keys[0])
            key = sessions.start(db, account.id)
        # A new cookie from scratch: nothing a visitor carried before signing in survives.
        session.clear()
        user = auth.ConsoleUser(
            sessions.SignedIn(account.id, account.name, account.email, account.role, key)
        )
        login_user(user)
        session[auth.SEEN_KEY] = time.time()
        log.info("Staff account %s signed in to the console", account.id)
        return redirect(url_for("console.campaigns"))

    def logout(self) -> AnyResponse:
        """End this session everywhere (POST with the CSRF token)."""
        if current_user.is_authenticated:
            with self.database.writing() as db:
                sessions.end(db, current_user.session_key)
        logout_user()
        session.clear()
        return redirect(url_for("console.login"))

    def set_password(self, token: str) -> AnyResponse:
        """The one-time link's page: GET shows the form, POST sets the password."""
        with self.database.reading() as db:
            account = accounts.link_account(db, token)
        if account is None:
            return self.page("link_gone.html", 404)
        form = SetPasswordForm()
        if request.method == "GET":
            return self.page("set_password.html", form=form, account=account, errors=[])
        if not form.validate_on_submit():
            errors = ["Fill in the new password twice."]
            return self.page("set_password.html", 400, form=form, account=account, errors=errors)
        try:
            with self.database.writing() as db:
                accounts.set_password(db, token, form.password.data, form.confirmation.data)
        except StaffError as exc:
            return self.page(
                "set_password.html", 400, form=form, account=account, errors=[str(exc)]
            )
        logout_user()
        session.clear()
        return self.page("password_set.html", account=account)

    # --- what coordinators and staff see --------------------------------------------

    def campaigns(self) -> Response:
        """Every campaign with its progress (the same overview as `coalitionletter counts`)."""
        from coalitionletter.reports import counts as reports

        with self.database.reading() as db:
            summary = reports.overview(db)
        return self.page("campaigns.html", summary=summary)

    def dashboard(self, slug: str) -> Response:
        """One campaign: the numbers and breakdowns of `counts`, the chart, whom to chase."""
        from coalitionletter.reports import counts as reports
        from coalitionletter.reports import countsheet

        try:
            with self.database.reading() as db:
                breakdowns = {by: reports.campaign_counts(db, slug, by=by) for by in BREAKDOWNS}
                totals = breakdowns["status"].totals
                to_chase = (
                    countsheet.not_answered(db, breakdowns["status"].campaign.id)
                    if current_user.may(STAFF)
                    else ()
                )
        except CampaignError:
            abort(404)
        from coalitionletter.reports import count_text
        from coalitionletter.reports.count_values import STATUS_LABELS

        return self.page(
            "dashboard.html",
            text=count_text,
            labels=STATUS_LABELS,
            deadline=count_text.deadline_phrase(breakdowns["status"].campaign),
            counts=breakdowns["status"],
            breakdowns=breakdowns,
            totals=totals,
            percent=totals.percent(),
            chart=countsheet.chart(totals),
            to_chase=to_chase,
        )

    def count_sheet(self, slug: str) -> Response:
        """The printable count sheet as PDF, as `counts CAMPAIGN --pdf` writes it."""
        from coalitionletter.reports import countsheet

        paper = request.args.get("paper", "a4")
        if paper not in countsheet.PAGE_SIZES:
            abort(400)
        try:
            with self.database.reading() as db:
                sheet = countsheet.build_sheet(self.settings, db, slug, paper=paper)
            pdf = countsheet.render_pdf(sheet)
        except CampaignError:
            abort(404)
        except CoalitionError as exc:
            return self.problem(409, str(exc))
        return _download(pdf, "application/pdf", f"{slug}-count-sheet.pdf")

    def export(self, slug: str) -> Response:
        """The public list of signatories as CSV, as `coalitionletter export` writes it."""
        from coalitionletter.campaigns import catalogue
        from coalitionletter.reports import export as exporting

        try:
            with self.database.reading() as db:
                definition = catalogue.load(self.settings, slug)
                listing = exporting.signatory_list(db, definition, delivered=False)
        except CampaignError:
            abort(404)
        except CoalitionError as exc:  # the records disagree with the trail, stale consent
            return self.problem(409, str(exc))
        csv = exporting.as_csv(listing).encode("utf-8")
        return _download(csv, "text/csv; charset=utf-8", f"{slug}-signatories-public.csv")

    def audit(self, slug: str) -> Response:
        """The campaign's trail, filtered, with the chain's verification (staff only)."""
        from coalitionletter.reports.count_queries import find_campaign
        from coalitionletter.signon import audit as trail

        filters, errors = _audit_filters(request.args)
        try:
            with self.database.reading() as db:
                campaign = find_campaign(db, slug)
                found = trail.entries(db, slug, filters)
                kinds = trail.kinds(db, slug)
                # The same check as `coalitionletter audit --verify`: chain and rows.
                verified = trail.check(db, slug)
        except CampaignError:
            abort(404)
        return self.page(
            "audit.html",
            campaign=campaign,
            entries=found,
            kinds=kinds,
            filters=filters,
            errors=errors,
            verified=verified,
        )


def _day(value: str, label: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label}: {value!r} is not a date. Use the form 2026-12-31.")
        return None


def _audit_filters(args: Any) -> tuple[Any, list[str]]:
    from coalitionletter.signon.audit import Filters

    errors: list[str] = []
    filters = Filters(
        organisation=args.get("organisation", "")[:300],
        kind=args.get("kind", "")[:40],
        since=_day(args.get("since", ""), "From", errors),
        until=_day(args.get("until", ""), "To", errors),
    )
    return filters, errors


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _check_csrf() -> None:
    """Refuse any console POST without a valid CSRF token (Flask-WTF), before its handler."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        abort(400, description="csrf")


def make_blueprint(settings: Settings, database: Database) -> Blueprint:
    """The console's pages under /staff."""
    console = Console(settings, database)
    blueprint = Blueprint("console", __name__, url_prefix=CONSOLE_PREFIX)
    staff_only = auth.requires(STAFF)
    anyone = auth.requires(COORDINATOR)

    @blueprint.before_request
    def before() -> None:
        _check_csrf()
        auth.check_idle(settings.console.idle_minutes)

    @blueprint.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        messages = {
            400: "The form had expired or was not sent from this console. "
            "Go back, reload the page and try again.",
            403: "Your account's role does not reach this page.",
            404: "There is no such page or campaign.",
            405: "That is not something this page can do.",
        }
        code = exc.code or 400
        return console.problem(code, messages.get(code, "The request was not understood."))

    rules: list[tuple[str, str, Callable[..., AnyResponse], list[str]]] = [
        ("/login", "login", console.login, ["GET", "POST"]),
        ("/logout", "logout", console.logout, ["POST"]),
        ("/set-password/<token>", "set_password", console.set_password, ["GET", "POST"]),
        ("/", "campaigns", anyone(console.campaigns), ["GET"]),
        ("/c/<slug>", "dashboard", anyone(console.dashboard), ["GET"]),
        ("/c/<slug>/count-sheet.pdf", "count_sheet", anyone(console.count_sheet), ["GET"]),
        ("/c/<slug>/signatories.csv", "export", anyone(console.export), ["GET"]),
        ("/c/<slug>/audit", "audit", staff_only(console.audit), ["GET"]),
    ]
    for path, name, view, methods in rules:
        blueprint.add_url_rule(path, name, view, methods=methods)
    return blueprint


class _ConsoleOnlySessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, written only on console responses.

    Flask-Login looks at the session after every request; without this, every
    sign-on page would gain a `Vary: Cookie` header it never had.
    """

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Save the session for a /staff response; leave every other response alone."""
        if request.path.startswith(CONSOLE_PREFIX + "/") or request.path == CONSOLE_PREFIX:
            super().save_session(app, session, response)


def register_console(app: Flask, settings: Settings, database: Database) -> None:
    """Put the console under /staff of the app, with its own cookie and CSRF settings."""
    app.config.update(
        SECRET_KEY=auth.console_secret(settings, database),
        SESSION_COOKIE_NAME="cl_staff",
        # Sent only to /staff: the sign-on pages never see a console cookie.
        SESSION_COOKIE_PATH=CONSOLE_PREFIX,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        # Every response says Referrer-Policy: no-referrer, so Flask-WTF's HTTPS
        # referrer check would refuse every form; the token and SameSite suffice.
        WTF_CSRF_SSL_STRICT=False,
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    app.session_interface = _ConsoleOnlySessions()
    auth.set_up_login(app, settings, database)
    app.register_blueprint(make_blueprint(settings, database))
