"""The console's door: sign in and out, and set a password from a one-time link."""

from __future__ import annotations

import logging
import time

from flask import redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as AnyResponse

from coalitionletter.catalogs import N_
from coalitionletter.errors import StaffError
from coalitionletter.staff import accounts, sessions, throttle
from coalitionletter.web.console import auth
from coalitionletter.web.console.forms import LoginForm, SetPasswordForm
from coalitionletter.web.console.language import keep_choice, kept_choice
from coalitionletter.web.console.shell import Console, Rule

log = logging.getLogger(__name__)

FAILED = N_("The email address or password is not right. Check both and try again.")
LOCKED = N_(
    "Too many failed sign-ins for this account or from this address. "
    "Wait 15 minutes, then try again."
)


class SignIn:
    """Signing in and out, and the one-time password link."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def login(self) -> AnyResponse:
        """The sign-in form; a POST checks the password under the failure throttle."""
        if current_user.is_authenticated:
            return redirect(url_for("console.campaigns"))
        form = LoginForm()
        notice = None
        if session.pop(auth.IDLE_KEY, False):
            minutes = self.console.settings.console.idle_minutes
            notice = N_(
                "You were signed out after %(minutes)s minutes without activity. Sign in again.",
                minutes=minutes,
            )
        if request.method == "GET":
            return self.console.page("login.html", form=form, notice=notice, error=None)
        if not form.validate_on_submit():
            return self.console.page("login.html", 400, form=form, notice=None, error=FAILED)
        return self._check_login(form)

    def _check_login(self, form: LoginForm) -> AnyResponse:
        email = form.email.data or ""
        keys = [
            throttle.account_key(accounts.email_key(email)),
            throttle.address_key(auth.client_address()),
        ]
        with self.console.database.writing() as db:
            if throttle.locked(db, keys):
                return self.console.page("login.html", 429, form=form, notice=None, error=LOCKED)
            account = accounts.check_password(db, email, form.password.data or "")
            if account is None:
                throttle.record_failure(db, keys)
                error = LOCKED if throttle.locked(db, keys) else FAILED
                return self.console.page("login.html", 401, form=form, notice=None, error=error)
            throttle.clear(db, keys[0])
            key = sessions.start(db, account.id)
        # A new cookie from scratch: nothing a visitor carried before signing in survives,
        # but the language they chose to read the console in.
        language = kept_choice()
        session.clear()
        keep_choice(language)
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
            with self.console.database.writing() as db:
                sessions.end(db, current_user.session_key)
        logout_user()
        language = kept_choice()
        session.clear()
        keep_choice(language)
        return redirect(url_for("console.login"))

    def set_password(self, token: str) -> AnyResponse:
        """The one-time link's page: GET shows the form, POST sets the password."""
        with self.console.database.reading() as db:
            account = accounts.link_account(db, token)
        if account is None:
            return self.console.page("link_gone.html", 404)
        form = SetPasswordForm()
        if request.method == "GET":
            return self.console.page("set_password.html", form=form, account=account, errors=[])
        if not form.validate_on_submit():
            errors = [N_("Fill in the new password twice.")]
            return self.console.page(
                "set_password.html", 400, form=form, account=account, errors=errors
            )
        try:
            with self.console.database.writing() as db:
                accounts.set_password(db, token, form.password.data, form.confirmation.data)
        except StaffError as exc:
            return self.console.page(
                "set_password.html",
                400,
                form=form,
                account=account,
                errors=[self.console.words(exc)],
            )
        logout_user()
        session.clear()
        return self.console.page("password_set.html", account=account)


def rules(console: Console) -> list[Rule]:
    """The URL rules of signing in and out."""
    door = SignIn(console)
    return [
        ("/login", "login", door.login, ["GET", "POST"]),
        ("/logout", "logout", door.logout, ["POST"]),
        ("/set-password/<token>", "set_password", door.set_password, ["GET", "POST"]),
    ]
