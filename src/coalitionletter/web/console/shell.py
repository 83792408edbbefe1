"""What every console page shares: the settings, the database and how a page is drawn.

Each area of the console (signing in, the campaign overview, ...) is a module
with a `rules(console)` function listing its URL rules; views.py gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as AnyResponse

from coalitionletter.db import Database
from coalitionletter.models import StaffRole
from coalitionletter.settings import Settings

STAFF = StaffRole.STAFF.value
COORDINATOR = StaffRole.COORDINATOR.value

# (path under /staff, endpoint name, view, methods)
Rule = tuple[str, str, Callable[..., AnyResponse], list[str]]


class Console:
    """The console's shared state, bound to one settings object and database."""

    def __init__(self, settings: Settings, database: Database) -> None:
        from coalitionletter.render import make_environment

        self.settings = settings
        self.database = database
        self.environment = make_environment(settings.templates_dir)

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


def download(data: bytes, mimetype: str, filename: str) -> Response:
    """A response the browser saves as FILENAME instead of showing it."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
