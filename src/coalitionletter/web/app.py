"""The sign-on web app: Flask's application factory (web/serving.py serves it).

The pages and their handlers are in web_pages (with web_forms and web_letters);
the staff console's under /staff are in web/console/ (unless [console] enabled
is false); here they are put behind the security headers on every response.
Links are made from `settings.base_url` alone, never from the Host header.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, redirect, request, send_from_directory
from werkzeug.exceptions import HTTPException
from werkzeug.security import safe_join

from coalitionletter.catalogs import N_
from coalitionletter.db import Database
from coalitionletter.settings import Settings
from coalitionletter.web.pages import SignOnApp

log = logging.getLogger(__name__)

MAX_POST_BYTES = 32 * 1024
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


class _SignOnFlask(Flask):
    """Flask whose error log never names the request path (it holds the token)."""

    def log_exception(self, exc_info: Any) -> None:
        """Log an unhandled error by method only."""
        self.logger.error("Unhandled error on a %s request", request.method, exc_info=exc_info)


def security_headers(settings: Settings) -> dict[str, str]:
    """The headers every response carries (HSTS too when the public address is HTTPS)."""
    if settings.base_url.startswith("https://"):
        return {**SECURITY_HEADERS, "Strict-Transport-Security": "max-age=31536000"}
    return dict(SECURITY_HEADERS)


class _SecurityHeaders:
    """WSGI middleware: the security headers on every response, error pages included."""

    def __init__(self, app: Any, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers = headers + [
                (name, value) for name, value in self.headers.items() if name.lower() not in present
            ]
            headers = [(n, v) for n, v in headers if n.lower() != "server"]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def create_app(
    settings: Settings, database: Database | None = None, *, console_elsewhere: bool = False
) -> Flask:
    """The sign-on web app for a workspace (Flask's application factory).

    The console is under /staff unless [console] enabled is false or it is
    served on its own address (`console_elsewhere`: see `create_console_app`).
    """
    database = database or Database(settings.db_url)
    handlers = SignOnApp(settings, database)
    app = _SignOnFlask(__name__, static_folder=None, template_folder=None)
    app.add_url_rule("/s/<token>", "show", handlers.show, methods=["GET"])
    app.add_url_rule("/s/<token>", "decide", handlers.decide, methods=["POST"])
    app.add_url_rule("/", "home", lambda: handlers.neutral(404), methods=["GET"])
    if settings.console.enabled and not console_elsewhere:
        from coalitionletter.web.console.views import register_console

        register_console(app, settings, database)
    return _finish(app, settings, handlers)


def create_console_app(settings: Settings, database: Database | None = None) -> Flask:
    """The staff console alone, under /staff, for its own address (`serve --staff-address`).

    It serves no sign-on page: a link from an email opened here finds nothing.
    """
    from coalitionletter.web.console.views import CONSOLE_PREFIX, register_console

    database = database or Database(settings.db_url)
    handlers = SignOnApp(settings, database)
    app = _SignOnFlask(__name__, static_folder=None, template_folder=None)
    app.add_url_rule("/", "home", lambda: redirect(CONSOLE_PREFIX + "/"), methods=["GET"])
    register_console(app, settings, database)
    return _finish(app, settings, handlers)


def _finish(app: Flask, settings: Settings, handlers: SignOnApp) -> Flask:
    """What every app shares: limits, static files, health check, error pages, headers."""
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_POST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_POST_BYTES,
        MAX_FORM_PARTS=40,
    )
    # Werkzeug answers `/s//<token>` with a redirect to an absolute URL built from the
    # Host header, which anyone can set: a doubled slash finds no page instead.
    app.url_map.merge_slashes = False
    app.add_url_rule("/static/<path:name>", "static", _static(settings), methods=["GET"])
    app.add_url_rule("/healthz", "healthz", _healthz, methods=["GET", "POST"])

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if exc.code == 404:
            return handlers.neutral(404)
        messages = {
            413: N_("What was sent is too large. Shorten the text and try again."),
            405: N_("That is not something this page can do."),
        }
        message = messages.get(exc.code or 400, N_("The request was not understood."))
        return handlers.problem(exc.code or 400, message)

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Response:
        log.error("Unhandled error on a %s request", request.method, exc_info=exc)
        return handlers.problem(500, N_("Something went wrong on our side. Nothing was changed."))

    app.wsgi_app = _SecurityHeaders(app.wsgi_app, security_headers(settings))  # type: ignore[method-assign]
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
        # Only a name inside a folder is looked at: whether a file exists elsewhere on the
        # server must not show in the answer (one 404 for every miss, from the app's handler).
        for folder in folders:
            inside = safe_join(str(folder), name)
            if inside is not None and Path(inside).is_file():
                return send_from_directory(folder, name, max_age=3600)
        abort(404)

    return static
