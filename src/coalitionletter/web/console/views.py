"""The console's blueprint under /staff: every area's rules, the CSRF check, the error page.

Areas live in their own modules (signin, overview, ...), each with a
`rules(console)` function; add a new area to AREAS. Pages only show: every
change is a POST carrying a CSRF token, checked here before any handler runs.
A page that takes a file sets `max_body` on its view (imports.py) to receive
more than the app's 32 KB.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from coalitionletter.catalogs import N_
from coalitionletter.db import Database
from coalitionletter.settings import Settings
from coalitionletter.web.console import (
    auth,
    imports,
    invitations,
    letters,
    overview,
    registry,
    signin,
)
from coalitionletter.web.console.forms import LANGUAGE_KEY
from coalitionletter.web.console.shell import Console

CONSOLE_PREFIX = "/staff"
# The text fields of a form that carries a file may hold this much (bytes).
FILE_FORM_MEMORY = 512 * 1024
AREAS = (
    signin.rules,
    overview.rules,
    registry.rules,
    imports.rules,
    invitations.rules,
    letters.rules,
)
MESSAGES = {
    400: N_(
        "The form had expired or was not sent from this console. "
        "Go back, reload the page and try again."
    ),
    403: N_("Your account's role does not reach this page."),
    404: N_("There is no such page or campaign."),
    405: N_("That is not something this page can do."),
    413: N_(
        "What was sent is too large: a CSV file to import may be at most %(upload)s MB, "
        "and any other form 32 KB. Split the file into smaller ones (or shorten the text) "
        "and try again.",
        upload=imports.UPLOAD_MAX // 2**20,
    ),
}
NOT_UNDERSTOOD = N_("The request was not understood.")


def _check_csrf() -> None:
    """Refuse any console POST without a valid CSRF token (Flask-WTF), before its handler."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        abort(400, description="csrf")


def _allow_larger_body() -> None:
    """Let a page that takes files (its view's `max_body`) receive more than the app's limit."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_body", None)
    if limit:
        request.max_content_length = limit
        # Werkzeug's multipart reader refuses a read chunk (64 KB) larger than this
        # limit, so the app's 32 KB would refuse any upload over 32 KB.
        request.max_form_memory_size = FILE_FORM_MEMORY


def make_blueprint(settings: Settings, database: Database) -> Blueprint:
    """The console's pages under /staff."""
    console = Console(settings, database)
    blueprint = Blueprint("console", __name__, url_prefix=CONSOLE_PREFIX)

    @blueprint.before_request
    def before() -> None:
        _allow_larger_body()
        _check_csrf()
        auth.check_idle(settings.console.idle_minutes)
        setattr(g, LANGUAGE_KEY, console.language())  # the forms read it (forms.py)

    @blueprint.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = exc.code or 400
        return console.problem(code, MESSAGES.get(code, NOT_UNDERSTOOD))

    for area in AREAS:
        for path, name, view, methods in area(console):
            blueprint.add_url_rule(path, name, view, methods=methods)
    return blueprint


def _in_console(path: str) -> bool:
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


class _ConsoleOnlySessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, opened and written only for console requests.

    Flask-Login looks at the session after every request; without this, every
    sign-on page would gain a `Vary: Cookie` header it never had, and would pay
    for verifying a cookie it never uses.
    """

    def open_session(self, app: Flask, request: Any) -> Any:
        """The console's session for a /staff request; an empty, unwritable one elsewhere."""
        if not _in_console(request.path):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Save the session for a /staff response; leave every other response alone."""
        if _in_console(request.path):
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
        SESSION_COOKIE_SECURE=settings.console_url.startswith("https://"),
        # Every response says Referrer-Policy: no-referrer, so Flask-WTF's HTTPS
        # referrer check would refuse every form; the token and SameSite suffice.
        WTF_CSRF_SSL_STRICT=False,
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    app.session_interface = _ConsoleOnlySessions()
    auth.set_up_login(app, settings, database)
    app.register_blueprint(make_blueprint(settings, database))
