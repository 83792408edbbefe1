"""The sign-on pages: an organisation opens its link, reads the letter, and answers.

GET and HEAD only show; a decision is a POST from a human pressing a button on
a form carrying a CSRF token. Nothing here keeps state in the process (the CSRF
key lives in the settings or the database), so several workers can serve at
once. Links are made from `settings.base_url` alone, never from the Host header,
and the raw token never reaches a log line or an error page.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, Response, request, send_from_directory
from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from coalitionletter import campaigns, consent, prepared, signon, tokens
from coalitionletter.db import Database
from coalitionletter.errors import CampaignError, SignOnError
from coalitionletter.models import AppSecret, Campaign, Invitation, Listing, Organisation, utcnow
from coalitionletter.names import TextError
from coalitionletter.settings import Settings

log = logging.getLogger(__name__)

MAX_POST_BYTES = 32 * 1024
FIELD_MAX = 300
REASON_MAX = 2000
# A visit without our cookie this soon after the email left is most likely a mail
# scanner following the link, not a person: it is not counted as a view.
SCANNER_QUIET_SECONDS = 120
VISIT_COOKIE = "cl_visit"
SCANNER_AGENTS = (
    "safelinks", "safe links", "mimecast", "proofpoint", "urldefense", "barracuda",
    "messagelabs", "symantec", "trendmicro", "fortiguard", "sophos", "ironport", "cisco",
    "bot", "crawler", "spider", "preview", "scanner", "headless", "python-requests",
    "python-urllib", "httpx", "curl", "wget", "go-http-client", "java/", "okhttp",
    "libwww", "axios", "node-fetch",
)  # fmt: skip
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
ACTIONS = ("confirm", "decline", "withdraw")


class _SignOnFlask(Flask):
    """Flask whose error log never names the request path (it holds the token)."""

    def log_exception(self, exc_info: Any) -> None:
        """Log an unhandled error by method only."""
        self.logger.error("Unhandled error on a %s request", request.method, exc_info=exc_info)


class _SecurityHeaders:
    """WSGI middleware: the security headers on every response, error pages included."""

    def __init__(self, app: Any, extra: dict[str, str]) -> None:
        self.app = app
        self.headers = {**SECURITY_HEADERS, **extra}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers = headers + [
                (name, value) for name, value in self.headers.items() if name.lower() not in present
            ]
            headers = [(n, v) for n, v in headers if n.lower() != "server"]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def shared_secret(settings: Settings, database: Database) -> bytes:
    """The CSRF signing key: from the settings, else made once and kept in the database."""
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    with database.writing() as session:
        row = session.get(AppSecret, "csrf")
        if row is None:
            try:
                with session.begin_nested():
                    row = AppSecret(name="csrf", value=secrets.token_hex(32))
                    session.add(row)
            except IntegrityError:
                row = session.get(AppSecret, "csrf", populate_existing=True)
        return row.value.encode("utf-8")


def looks_like_scanner(user_agent: str) -> bool:
    """True for the user agents of link scanners, previewers and scripts."""
    agent = user_agent.lower()
    return not agent or any(marker in agent for marker in SCANNER_AGENTS)


@dataclass(frozen=True)
class _Letter:
    """A campaign's letter as its files held it when they were last read."""

    stamp: tuple[tuple[int, ...], ...]
    definition: campaigns.CampaignDefinition
    version: consent.LetterVersion
    body: Markup


def _stamp(files: tuple[str, ...]) -> tuple[tuple[int, ...], ...] | None:
    stamps = []
    for path in files:
        try:
            found = os.stat(path)
        except OSError:
            return None  # campaigns.load says what is missing
        stamps.append((found.st_mtime_ns, found.st_ctime_ns, found.st_size, found.st_ino))
    return tuple(stamps)


class _Letters:
    """The letters as their files hold them now, read and rendered again only when a file changes.

    Parsing letter.toml and rendering the Markdown on every request took most of a
    confirmation's time under load; a change to either file (an edit, a save, a
    replacement) changes its stamp, so every page still shows the current text.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._letters: dict[str, _Letter] = {}
        self._files: dict[str, tuple[str, ...]] = {}

    def current(self, slug: str) -> _Letter:
        """The letter of a campaign as its files hold it now (CampaignError if they are broken)."""
        files = self._files.get(slug)
        if files is None:
            directory = campaigns.campaign_dir(self.settings, slug)
            files = tuple(
                str(directory / name) for name in (campaigns.LETTER_FILE, campaigns.BODY_FILE)
            )
            self._files[slug] = files
        stamp = _stamp(files)
        cached = self._letters.get(slug)
        if stamp is not None and cached is not None and cached.stamp == stamp:
            return cached
        definition = campaigns.load(self.settings, slug)
        version = consent.current(definition)
        letter = _Letter(stamp or (), definition, version, consent.body_html(version))
        if stamp is not None:
            self._letters[slug] = letter
        return letter


@dataclass
class _Page:
    """Everything the sign-on page shows."""

    campaign: Campaign
    letter: _Letter
    invitation: Invitation
    organisation: Organisation
    access: signon.LinkAccess
    token_hash: str

    @property
    def definition(self) -> campaigns.CampaignDefinition:
        """The campaign's definition from its files."""
        return self.letter.definition

    @property
    def version(self) -> consent.LetterVersion:
        """The letter's words now."""
        return self.letter.version


class SignOnApp:
    """The request handlers, bound to one settings object and database."""

    def __init__(self, settings: Settings, database: Database) -> None:
        from coalitionletter.render import make_environment

        self.settings = settings
        self.database = database
        self.secret = shared_secret(settings, database)
        self.environment = make_environment(settings.templates_dir)
        self.secure_cookie = settings.base_url.startswith("https://")
        self.letters = _Letters(settings)
        # Texts known to be kept in letter_texts, so a confirmation need not look again.
        self.kept_texts: set[tuple[int, str]] = set()
        # SQLite lets one transaction write at a time. Queueing this process's writers on
        # a lock hands the database straight to the next one, where SQLite's own busy
        # wait would sleep up to 100 ms between tries and leave it idle under load.
        self.write_lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if database.is_sqlite else contextlib.nullcontext()
        )
        self._answers: Connection | None = None  # SQLite: the connection answers share

    @contextlib.contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction, queued behind this process's other writers on SQLite."""
        with self.write_lock, self.database.writing() as session:
            yield session

    @contextlib.contextmanager
    def answering(self) -> Iterator[prepared.DirectConnection]:
        """The answering path's write transaction: a Core connection, no Session.

        On SQLite this process's answers queue on the write lock anyway, so they
        share one connection kept for them: checking one out of the pool cost as
        much as a statement. On PostgreSQL each answer takes one from the pool.
        """
        with contextlib.ExitStack() as stack:
            if self.database.is_sqlite:
                stack.enter_context(self.write_lock)
                if self._answers is None or self._answers.closed:
                    self._answers = self.database.engine.connect()
                stack.enter_context(self._answers.begin())
                transaction = self._answers
            else:
                transaction = stack.enter_context(self.database.engine.begin())
            connection = prepared.DirectConnection(transaction)
            stack.callback(connection.close)
            yield connection

    # --- helpers -----------------------------------------------------------------

    def environment_for(self, definition: campaigns.CampaignDefinition) -> Environment:
        """The campaign's templates first, then the workspace's and the defaults."""
        from coalitionletter.render import make_environment

        if (definition.directory / "templates").is_dir():
            return make_environment(self.settings.templates_dir, definition.directory)
        return self.environment

    def html(self, template: str, status: int = 200, **context: Any) -> Response:
        """Render a web template through the shared Jinja setup."""
        environment = context.pop("environment", None) or self.environment
        body = environment.get_template(f"web/{template}").render(**context)
        return Response(body, status=status, mimetype="text/html")

    def neutral(self, status: int) -> Response:
        """The one page for a bad, unknown, revoked or expired link; it names nobody."""
        return self.html("link.html", status=status, gone=status == 410)

    def problem(self, status: int, message: str) -> Response:
        """A plain error page (bad form, too large, server trouble)."""
        return self.html("problem.html", status=status, status_code=status, message=message)

    def csrf(self, token_hash: str) -> str:
        """The form token: an HMAC binding the form to this one link (by its token's hash).

        It needs nothing from the database, so a forged or stale form is turned
        away before any database work.
        """
        message = f"csrf|{token_hash}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def load(self, session: Any, raw: str) -> _Page | Response:
        """The page's data for a link, or the neutral page."""
        access = signon.find_by_token(session, raw)
        if access is None:
            return self.neutral(404)
        if access.expired:
            return self.neutral(410)
        campaign = access.campaign or session.get(Campaign, access.campaign_id)
        try:
            letter = self.letters.current(campaign.slug)
        except CampaignError:
            log.exception("The letter of campaign %s cannot be read", campaign.slug)
            return self.problem(503, "The letter cannot be shown right now. Please try later.")
        deadline = letter.definition.deadline
        if deadline is not None and utcnow() >= deadline:
            return self.neutral(410)  # the files' deadline counts even before a sync
        invitation = access.invitation or session.get(Invitation, access.invitation_id)
        organisation = access.organisation or session.get(Organisation, access.organisation_id)
        return _Page(campaign, letter, invitation, organisation, access, tokens.token_hash(raw))

    def render_page(
        self,
        page: _Page,
        *,
        status: int = 200,
        notice: str | None = None,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Response:
        """The letter, the organisation's line, and the form or status for its state."""
        invitation = page.invitation
        version = page.version
        listed_as = invitation.display_name or page.organisation.name
        context = {
            "environment": self.environment_for(page.definition),
            "title": version.title,
            "version": version,
            "body": page.letter.body,
            "organisation": page.organisation.name,
            "listed_as": listed_as,
            "invitation": invitation,
            "state": invitation.state,
            "stale": invitation.state == signon.CONFIRMED
            and invitation.text_hash != version.text_hash,
            "governments_only": invitation.listing == Listing.GOVERNMENTS_ONLY.value,
            "deadline": page.campaign.deadline,
            "csrf": self.csrf(page.token_hash),
            "notice": notice,
            "errors": errors or {},
            "values": values or {"display_name": listed_as, "listing": invitation.listing},
        }
        return self.html("signon.html", status=status, **context)

    def client_ip(self) -> str | None:
        """The visitor's address (behind a trusted proxy: the one it forwarded)."""
        return request.remote_addr

    # --- handlers ------------------------------------------------------------------

    def show(self, token: str) -> Response:
        """GET/HEAD: show the page; count a view only when a person seems to be looking."""
        human = request.method == "GET" and not looks_like_scanner(
            request.headers.get("User-Agent", "")
        )
        with self.writing() if human else self.database.reading() as session:
            page = self.load(session, token)
            if isinstance(page, Response):
                return page
            if human and self._counts_as_view(page.access):
                signon.record_view(session, page.campaign, page.access, ip=self.client_ip())
        # Rendered once the transaction is over: other answers need not wait for it.
        response = self.render_page(page)
        response.set_cookie(
            VISIT_COOKIE,
            "1",
            max_age=365 * 86_400,
            path="/s/",
            secure=self.secure_cookie,
            httponly=True,
            samesite="Strict",
        )
        return response

    def _counts_as_view(self, access: signon.LinkAccess) -> bool:
        if request.cookies.get(VISIT_COOKIE):
            return True
        age = (utcnow() - access.issued_at).total_seconds()
        return age > SCANNER_QUIET_SECONDS

    def decide(self, token: str) -> Response:
        """POST: one decision from the form; refused once the sign-on has closed.

        The hot path of sign-on under load: the form and its CSRF key are checked
        before any database work, and the transaction is one Core query for the
        link and the invitation's state, then `signon.transition`. The full page
        (ORM rows, rendering) is loaded only to answer a form that cannot be taken.
        """
        form = _posted_form()
        if form is None:
            return self.problem(400, "The form was not understood. Reload the page and try again.")
        action = form.get("action", "")
        refused = self._refuse_form(token, action, form)
        if refused is not None:
            return refused
        # A Core connection, no Session: the hot path pays for no unit of work it does not use.
        with self.answering() as connection:
            result = self._answer_link(connection, token, action, form)
        if isinstance(result, Response):
            return result
        if result:
            self.kept_texts.add(result)
        # Post/redirect/get: a reload after answering never posts again. A bare 303 (what a
        # browser follows), not flask.redirect's HTML page for clients that do not.
        return Response(status=303, headers={"Location": f"/s/{token}"})

    def _refuse_form(self, token: str, action: str, form: Any) -> Response | None:
        """The answer to a form that cannot be taken whatever the database holds, or None."""
        if action not in ACTIONS:
            return self.problem(400, "The form was not understood. Reload the page and try again.")
        if not tokens.well_formed(token):
            return self.neutral(404)
        sent = form.get("csrf", "").encode("utf-8")  # bytes: compare_digest refuses non-ASCII str
        if not hmac.compare_digest(sent, self.csrf(tokens.token_hash(token)).encode("ascii")):
            return self.problem(400, "This form is out of date. Reload the page and answer again.")
        return None

    def _answer_link(
        self, connection: prepared.DirectConnection, token: str, action: str, form: Any
    ) -> Response | tuple[int, str] | None:
        """The link's answer in this transaction, or the page for a link that takes none."""
        link = signon.link_for_answer(connection, tokens.token_hash(token))
        if link is None:
            return self.neutral(404)
        if link.expired:
            return self.neutral(410)
        return self._answer(connection, token, link, action, form)

    def _answer(
        self,
        connection: prepared.DirectConnection,
        token: str,
        link: signon.AnswerLink,
        action: str,
        form: Any,
    ) -> Response | tuple[int, str] | None:
        """Take one answer; a page when it cannot be taken, else the text newly kept, if any."""
        try:
            letter = self.letters.current(link.campaign.slug)
        except CampaignError:
            log.exception("The letter of campaign %s cannot be read", link.campaign.slug)
            return self.problem(503, "The letter cannot be shown right now. Please try later.")
        deadline = letter.definition.deadline
        if deadline is not None and utcnow() >= deadline:
            return self.neutral(410)  # the files' deadline counts even before a sync
        version = letter.version
        if action == "confirm" and form.get("text_hash") != version.text_hash:
            return self._page_again(
                connection,
                token,
                status=409,
                notice="The letter's text changed while you were reading it. Please read "
                "the text below, which is the current one, and confirm again.",
            )
        try:
            fields = _fields(action, form, link.organisation_name)
        except _FormErrors as problems:
            values = {k: form.get(k, "") for k in FORM_VALUES}
            return self._page_again(
                connection, token, status=400, errors=problems.errors, values=values
            )
        kept = None
        if action == "confirm" and (link.campaign.id, version.text_hash) not in self.kept_texts:
            with Session(bind=connection.connection) as session:  # once per text and process
                consent.remember(session, link.campaign.id, version)
            kept = (link.campaign.id, version.text_hash)
        try:
            signon.transition(
                connection,
                link.campaign,
                link.organisation_id,
                action,
                actor="token holder",
                text_hash=version.text_hash if action == "confirm" else None,
                ip=self.client_ip(),
                fields=fields,
                current=link.invitation,
            )
        except SignOnError:
            # Another answer got there first (a double click, a colleague): show where it stands.
            return self._page_again(
                connection,
                token,
                notice="Your organisation's answer had already been recorded, as shown below.",
            )
        return kept

    def _page_again(
        self, connection: prepared.DirectConnection, token: str, **render: Any
    ) -> Response:
        """The sign-on page as this transaction sees it now, with a notice or the form's errors."""
        with Session(bind=connection.connection) as session:
            page = self.load(session, token)
            return page if isinstance(page, Response) else self.render_page(page, **render)


URLENCODED = "application/x-www-form-urlencoded"


def _posted_form() -> Mapping[str, str] | None:
    """The POSTed form's fields (the first value of each), or None when its text is not UTF-8.

    A browser's urlencoded form is read here with the standard library, as
    werkzeug's parser does it but without its MultiDict and stream layers, which
    took a sixth of a confirmation. `get_data` still refuses a body over
    MAX_CONTENT_LENGTH (413); other kinds of body go to werkzeug's parser.
    """
    if request.mimetype != URLENCODED:
        return request.form
    try:
        text = request.get_data(cache=False).decode("utf-8")
    except UnicodeDecodeError:
        return None
    fields: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"):
        fields.setdefault(name, value)
    return fields


FORM_VALUES = ("signer_name", "signer_title", "display_name", "listing", "reason")


class _FormErrors(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("form errors")
        self.errors = errors


def _text_field(
    form: Any, name: str, label: str, errors: dict[str, str], *, required: bool, limit: int
) -> str | None:
    from coalitionletter.names import clean_text

    try:
        return clean_text(
            form.get(name, ""),
            label,
            max_length=limit,
            required=required,
            multiline=limit > FIELD_MAX,
        )
    except TextError as exc:
        errors[name] = str(exc)
        return None


def _fields(action: str, form: Any, registry_name: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if action == "decline":
        reason = _text_field(form, "reason", "Reason", errors, required=False, limit=REASON_MAX)
        if errors:
            raise _FormErrors(errors)
        return {"decline_reason": reason} if reason else {}
    if action == "withdraw":
        return {}
    signer = _text_field(form, "signer_name", "Your name", errors, required=True, limit=FIELD_MAX)
    title = _text_field(form, "signer_title", "Your title", errors, required=True, limit=FIELD_MAX)
    display = _text_field(
        form, "display_name", "Name as printed", errors, required=False, limit=FIELD_MAX
    )
    if form.get("authorised") != "yes":
        errors["authorised"] = (
            "Tick the box to say you are authorised to sign for your organisation."
        )
    listing = form.get("listing", Listing.PUBLIC.value)
    if listing not in (Listing.PUBLIC.value, Listing.GOVERNMENTS_ONLY.value):
        errors["listing"] = "Choose how your organisation may be named."
    if errors:
        raise _FormErrors(errors)
    fields = {"signer_name": signer or "", "signer_title": title or "", "listing": listing}
    if display and display != registry_name:
        fields["display_name"] = display
    return fields


def create_app(settings: Settings, database: Database | None = None) -> Flask:
    """The sign-on web app for a workspace (Flask's application factory)."""
    database = database or Database(settings.db_url)
    handlers = SignOnApp(settings, database)
    app = _SignOnFlask(__name__, static_folder=None, template_folder=None)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_POST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_POST_BYTES,
        MAX_FORM_PARTS=40,
    )
    app.add_url_rule("/s/<token>", "show", handlers.show, methods=["GET"])
    app.add_url_rule("/s/<token>", "decide", handlers.decide, methods=["POST"])
    app.add_url_rule("/static/<path:name>", "static", _static(settings), methods=["GET"])
    app.add_url_rule("/", "home", lambda: handlers.neutral(404), methods=["GET"])
    app.add_url_rule("/healthz", "healthz", _healthz, methods=["GET", "POST"])

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if exc.code == 404:
            return handlers.neutral(404)
        messages = {
            413: "What was sent is too large. Shorten the text and try again.",
            405: "That is not something this page can do.",
        }
        message = messages.get(exc.code or 400, "The request was not understood.")
        return handlers.problem(exc.code or 400, message)

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Response:
        log.error("Unhandled error on a %s request", request.method, exc_info=exc)
        return handlers.problem(500, "Something went wrong on our side. Nothing was changed.")

    extra = {}
    if handlers.secure_cookie:
        extra["Strict-Transport-Security"] = "max-age=31536000"
    app.wsgi_app = _SecurityHeaders(app.wsgi_app, extra)  # type: ignore[method-assign]
    if settings.trust_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    return app


def _healthz() -> Response:
    """Liveness for a monitor or load balancer; it reads nothing and changes nothing."""
    return Response("ok", mimetype="text/plain")


def _static(settings: Settings) -> Any:
    from coalitionletter.render import packaged_templates_dir

    folders = [settings.templates_dir / "static", packaged_templates_dir() / "static"]

    def static(name: str) -> Response:
        for folder in folders:
            if (folder / name).is_file():
                return send_from_directory(folder, name, max_age=3600)
        return Response("Not found", status=404, mimetype="text/plain")

    return static


# Waitress 3 sends each write at once (send_bytes 1). Under 50 concurrent clients its
# main loop then took about half the GIL and confirmations ran at about 100/s; buffering
# up to 18,000 bytes (waitress 2's default) ran them at about 350/s, the trivial POST
# unchanged (B8, py-spy --gil). Deprecated but still honoured, so only where it exists.
WAITRESS_SEND_BYTES = 18_000


def _serve_waitress(app: Flask, *, host: str, port: int) -> None:
    """Run the app under waitress in this process until it is stopped."""
    from waitress.adjustments import Adjustments
    from waitress.server import create_server

    options: dict[str, Any] = {"host": host, "port": port, "threads": 8, "ident": ""}
    if hasattr(Adjustments, "send_bytes"):
        options["send_bytes"] = WAITRESS_SEND_BYTES
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "send_bytes", DeprecationWarning)
        server = create_server(app, **options)
    logging.basicConfig()  # as waitress.serve does: its queue warnings reach stderr
    server.print_listen("Serving on http://{}:{}")
    server.run()


def run(settings: Settings, *, host: str, port: int, workers: int = 1) -> None:
    """Serve the app under waitress (one process) or gunicorn (several workers)."""
    if workers <= 1:
        _serve_waitress(create_app(settings), host=host, port=port)
        return
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", None)  # an access log would hold every token
            self.cfg.set("timeout", 60)
            # gunicorn 27 otherwise puts a control socket at one path per user
            # (~/.gunicorn/gunicorn.ctl), so a second server on the machine collides.
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Flask:
            return create_app(settings)

    _Gunicorn().run()
