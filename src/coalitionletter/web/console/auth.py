"""Who is signed in to the console: Flask-Login over database sessions, roles, idle timeout.

Flask-Login keeps the session key in Flask's signed cookie; the key is looked up
in the database on every request (staff/sessions.py), so signing out, a reset
or disabling an account ends the session in every worker at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, redirect, request, session, url_for
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user, logout_user

from coalitionletter.db import Database
from coalitionletter.models import StaffRole
from coalitionletter.settings import Settings
from coalitionletter.staff import sessions
from coalitionletter.web.console.language import keep_choice, kept_choice
from coalitionletter.web.pages import kept_secret

# What each role may reach: a page names the least role it needs.
_RANK = {StaffRole.COORDINATOR.value: 1, StaffRole.STAFF.value: 2}
SEEN_KEY = "seen"
IDLE_KEY = "idle_out"


class ConsoleUser(UserMixin):
    """A signed-in account; its id for Flask-Login is the session key, not the account's."""

    def __init__(self, signed_in: sessions.SignedIn) -> None:
        self.account_id = signed_in.account_id
        self.name = signed_in.name
        self.email = signed_in.email
        self.role = signed_in.role
        self.session_key = signed_in.key

    def get_id(self) -> str:
        """The session key: a new one at every sign-in, so a stolen old cookie is worthless."""
        return self.session_key

    def may(self, role: str) -> bool:
        """True when this account's role reaches `role`."""
        return _RANK.get(self.role, 0) >= _RANK[role]


class Anonymous(AnonymousUserMixin):
    """Nobody signed in: may nothing."""

    role = ""

    def may(self, role: str) -> bool:
        """A visitor who has not signed in may see no console page."""
        return False


def console_secret(settings: Settings, database: Database) -> str:
    """The key Flask signs console cookies and CSRF tokens with; never in git.

    From [web] secret_key when set (derived, so it differs from the sign-on
    pages' key), else made once and kept in the database for every worker.
    """
    if settings.secret_key:
        key = settings.secret_key.encode("utf-8")
        return hmac.new(key, b"staff console", hashlib.sha256).hexdigest()
    return kept_secret(database, "console")


def set_up_login(app: Any, settings: Settings, database: Database) -> LoginManager:
    """Flask-Login for the app: sessions looked up in the database, visitors sent to sign in."""
    manager = LoginManager()
    manager.anonymous_user = Anonymous
    # A cookie replayed from another address or browser is dropped (Flask-Login's "strong").
    manager.session_protection = "strong"
    manager.init_app(app)

    @manager.user_loader
    def load(key: str) -> ConsoleUser | None:
        with database.reading() as db_session:
            found = sessions.find(db_session, key)
        return ConsoleUser(found) if found is not None else None

    @manager.unauthorized_handler
    def unauthorized() -> Any:
        return redirect(url_for("console.login"))

    return manager


def check_idle(idle_minutes: int) -> None:
    """Sign out a session that saw no request for idle_minutes (the time rides in the cookie)."""
    if not current_user.is_authenticated:
        return
    now = time.time()
    seen = session.get(SEEN_KEY)
    if not isinstance(seen, int | float) or now - seen > idle_minutes * 60:
        logout_user()
        language = kept_choice()
        session.clear()
        keep_choice(language)
        session[IDLE_KEY] = True
        return
    session[SEEN_KEY] = now


def requires(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A console page for `role` and above: visitors go to sign in, lesser roles get 403."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("console.login"))
            if not current_user.may(role):
                abort(403)
            return view(*args, **kwargs)

        guarded.required_role = role  # type: ignore[attr-defined]
        return guarded

    return decorate


def client_address() -> str:
    """The client's address (the proxy's X-Forwarded-For when [web] trust_proxy is on)."""
    return request.remote_addr or "unknown"
