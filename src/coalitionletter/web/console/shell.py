"""What every console page shares: the settings, the database and how a page is drawn.

Each area of the console (signing in, the campaign overview, ...) is a module
with a `rules(console)` function listing its URL rules; views.py gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Response, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as AnyResponse

from coalitionletter import catalogs
from coalitionletter.catalogs import N_, Words
from coalitionletter.db import Database
from coalitionletter.errors import words_of
from coalitionletter.models import StaffRole
from coalitionletter.settings import Settings
from coalitionletter.web.console.language import console_language, country_in
from coalitionletter.web.language import switch_links

STAFF = StaffRole.STAFF.value
COORDINATOR = StaffRole.COORDINATOR.value
# The roles as the header names them, in the page's language.
ROLE_NAMES = {STAFF: N_("staff"), COORDINATOR: N_("coordinator")}

# (path under /staff, endpoint name, view, methods)
Rule = tuple[str, str, Callable[..., AnyResponse], list[str]]


class Console:
    """The console's shared state, bound to one settings object and database."""

    def __init__(self, settings: Settings, database: Database) -> None:
        from coalitionletter.render import make_environment

        self.settings = settings
        self.database = database
        self.environment = make_environment(settings.templates_dir)
        self.folders = catalogs.catalog_folders(settings.home)

    def language(self) -> str:
        """The language this request's page is shown in (web/console/language.py)."""
        return console_language(self.folders)

    def words(self, message: Words | str | BaseException) -> str:
        """Words marked with N_ (or a core error's), in this request's language.

        A notice flashed into the session, or a refusal the page shows as text (the
        form macros take strings).
        """
        if isinstance(message, BaseException):
            message = words_of(message)
        if isinstance(message, Words):
            return message.in_language(catalogs.translations(self.language(), self.folders))
        return message

    def page(self, template: str, status: int = 200, **context: Any) -> Response:
        """Render a console template through the shared Jinja environment, in its language."""
        language = self.language()
        body = self.environment.get_template(f"console/{template}").render(
            language=language,
            language_links=switch_links(self.folders, language),
            user=current_user,
            csrf_token=generate_csrf(),
            url=url_for,
            STAFF=STAFF,
            role_names=ROLE_NAMES,
            country=partial(country_in, language),
            **context,
        )
        return Response(body, status=status, mimetype="text/html")

    def problem(self, status: int, message: Words | str) -> Response:
        """An error page that shows nothing of any campaign."""
        return self.page("problem.html", status=status, status_code=status, message=message)


def download(data: bytes, mimetype: str, filename: str) -> Response:
    """A response the browser saves as FILENAME instead of showing it."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
