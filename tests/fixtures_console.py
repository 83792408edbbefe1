"""Staff console fixtures: accounts with passwords, a signed-in test client, axe-core.

    def test_x(console_client, staff_login):
        client = console_client()
        staff_login(client, STAFF_EMAIL)

axe-core's source is fixtures_browser's `axe_source` (tests/support, script/bootstrap).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from coalitionletter.db import Database
from coalitionletter.settings import Settings
from coalitionletter.staff import accounts
from fixtures_browser import BLOCKING_IMPACTS

STAFF_EMAIL = "ana@example.org"
COORDINATOR_EMAIL = "sam@example.org"
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Argon2id at the lowest cost the algorithm allows. The staff hasher's own cost
# (argon2-cffi's defaults: 64 MiB, 3 passes, 4 lanes) takes about 0.2 s of CPU a
# hash, and every console test hashes two passwords and checks one: at that cost
# hashing was the largest part of the suite's time. Only tests marked
# `full_password_cost` keep it; a `serve` subprocess always does.
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that keeps the staff accounts' real password cost."""
    config.addinivalue_line(
        "markers", "full_password_cost: hash staff passwords at the program's own Argon2id cost"
    )


@pytest.fixture(autouse=True)
def quick_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash staff passwords in this process at the lowest Argon2id cost (see QUICK_HASHER)."""
    if request.node.get_closest_marker("full_password_cost") is None:
        monkeypatch.setattr(accounts, "_HASHER", QUICK_HASHER)


def csrf_in(html: str) -> str:
    """The CSRF token of the first form on a console page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def make_account(
    settings: Settings,
    database: Database,
    email: str,
    *,
    role: str = "staff",
    name: str | None = None,
    password: str | None = PASSWORD,
) -> str:
    """An account made as `staff add` makes it, its password set through its link; the token."""
    with database.writing() as session:
        issued = accounts.add(
            session,
            name or email.split("@", maxsplit=1)[0].title(),
            email,
            role,
            actor="staff: test",
            base_url=settings.base_url,
            link_hours=settings.console.link_hours,
        )
    token = issued.url.rsplit("/", 1)[1]
    if password is not None:
        with database.writing() as session:
            accounts.set_password(session, token, password, password)
    return token


@pytest.fixture
def console_accounts(settings: Settings, database: Database) -> dict[str, str]:
    """A staff account and a coordinator account, both with PASSWORD."""
    make_account(settings, database, STAFF_EMAIL, role="staff", name="Ana Lima")
    make_account(settings, database, COORDINATOR_EMAIL, role="coordinator", name="Sam Okafor")
    return {"staff": STAFF_EMAIL, "coordinator": COORDINATOR_EMAIL}


@pytest.fixture
def console_app(settings: Settings, database: Database) -> Flask:
    """The web app of the workspace, console included."""
    from coalitionletter.web.app import create_app

    return create_app(settings, database)


@pytest.fixture
def console_client(console_app: Flask) -> Callable[[], FlaskClient]:
    """Make a new test client (a separate browser) for the console app."""
    return console_app.test_client


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Post the sign-in form as a browser does (token from the page); return the response."""
    token = csrf_in(client.get("/staff/login").text)
    return client.post(
        "/staff/login", data={"csrf_token": token, "email": email, "password": password}
    )


@pytest.fixture
def staff_login() -> Callable[..., Any]:
    """Sign a client in and check that it worked."""

    def run(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
        response = sign_in(client, email, password)
        assert response.status_code == 302, response.text
        assert response.headers["Location"] == "/staff/"
        return response

    return run


@pytest.fixture
def console_axe(axe_source: str) -> Callable[..., list[dict[str, Any]]]:
    """Run axe-core on a console page; return its serious and critical violations.

    fixtures_browser's `axe` adds a <script> tag, which the console's CSP (no
    inline script) refuses; this evaluates the same axe.min.js through the
    DevTools protocol, which the CSP does not govern, so the page keeps its CSP.
    """

    def run(page: Any) -> list[dict[str, Any]]:
        page.evaluate(f"() => {{ {axe_source}\n }}")
        results = page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}})"
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]]}
            for v in results["violations"]
            if v["impact"] in BLOCKING_IMPACTS
        ]

    return run


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHONE = {"width": 320, "height": 740}


def check_console_page(page: Any, axe: Callable[..., list[dict[str, Any]]], name: str) -> None:
    """axe-core finds nothing serious, and the page fits a 320 px screen (kept as a PNG)."""
    assert axe(page) == [], name
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}-320.png"), full_page=True)
    page.set_viewport_size(size)
    assert width <= PHONE["width"], f"{name} is {width} px wide at 320 px"
