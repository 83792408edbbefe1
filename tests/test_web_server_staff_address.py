"""`serve --staff-address`: the console on its own address, and nowhere else."""

from __future__ import annotations

import re

import httpx
import pytest

from coalitionletter.db import Database
from coalitionletter.settings import Settings, load_settings
from coalitionletter.web.app import create_app, create_console_app
from fixtures_console import PASSWORD, STAFF_EMAIL, make_account, sign_in
from fixtures_signon import SignOnWorkspace, free_port, serving, wait_for_port

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- the two apps (Flask's test client) -------------------------------------------------


def test_with_the_console_elsewhere_the_public_app_has_no_staff_pages(
    settings: Settings, database: Database
) -> None:
    public = create_app(settings, database, console_elsewhere=True).test_client()
    assert public.get("/staff/login").status_code == 404
    assert public.get("/staff/").status_code == 404
    assert create_app(settings, database).test_client().get("/staff/login").status_code == 200


def test_the_console_app_serves_the_console_and_no_sign_on_page(
    settings: Settings, database: Database
) -> None:
    make_account(settings, database, STAFF_EMAIL, name="Ana Lima")
    console = create_console_app(settings, database).test_client()
    assert console.get("/s/" + "a" * 43).status_code == 404
    home = console.get("/")
    assert (home.status_code, home.headers["Location"]) == (302, "/staff/")
    response = sign_in(console, STAFF_EMAIL)
    assert (response.status_code, response.headers["Location"]) == (302, "/staff/")
    assert "Ana Lima (staff)" in console.get("/staff/").text
    stylesheet = console.get("/static/console.css")
    stylesheet.close()
    assert stylesheet.status_code == 200


def test_one_time_links_use_the_consoles_own_address_when_it_is_set(home, database, invoke):
    (home / "coalitionletter.toml").write_text(
        '[web]\nbase_url = "https://sign.example.org"\n'
        '[console]\nbase_url = "https://staff.vpn.example.org/"\n'
    )
    result = invoke("staff", "add", "Ana Lima", "--email", STAFF_EMAIL)
    assert result.exit_code == 0, result.output
    assert "  https://staff.vpn.example.org/staff/set-password/" in result.output
    assert "sign.example.org" not in result.output


# --- the command's refusals --------------------------------------------------------------


def test_a_staff_address_that_is_not_host_and_port_is_refused(invoke) -> None:
    result = invoke("serve", "--staff-address", "10.8.0.1")
    assert result.exit_code == 2
    assert "'10.8.0.1' is not HOST:PORT" in result.output
    assert "e.g. 10.8.0.1:8443" in result.output
    assert "Serving" not in result.output


def test_the_public_address_as_staff_address_is_refused(invoke) -> None:
    result = invoke("serve", "--port", "8123", "--staff-address", "127.0.0.1:8123")
    assert result.exit_code == 2
    assert "is the public address itself" in result.output
    assert "Serving" not in result.output


def test_a_staff_address_with_the_console_turned_off_is_refused(home, invoke) -> None:
    (home / "coalitionletter.toml").write_text("[console]\nenabled = false\n")
    result = invoke("serve", "--staff-address", "127.0.0.1:8444")
    assert result.exit_code == 2
    assert "[console] enabled = false" in result.output
    assert "Serving" not in result.output


def test_the_console_turned_off_is_served_by_no_app(home, database) -> None:
    (home / "coalitionletter.toml").write_text("[console]\nenabled = false\n")
    settings = load_settings(home, db=database.url, environ={})
    client = create_app(settings, database).test_client()
    assert client.get("/staff/login").status_code == 404
    assert client.get("/healthz").status_code == 200


# --- real servers --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("invoke")  # on PostgreSQL too when COALITIONLETTER_TEST_PG is set
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_with_a_staff_address_serves_the_console_there_only(
    signon_workspace: SignOnWorkspace, workers: int
) -> None:
    workspace = signon_workspace
    make_account(workspace.settings, workspace.database, STAFF_EMAIL, name="Ana Lima")
    staff_port = free_port()
    args = ("--staff-address", f"127.0.0.1:{staff_port}")
    with serving(workspace, workers, args=args) as server:
        wait_for_port(staff_port, server.process)
        staff = f"http://127.0.0.1:{staff_port}"
        assert httpx.get(f"{server.url}/staff/login").status_code == 404
        assert httpx.get(f"{server.url}/staff/").status_code == 404
        assert httpx.get(f"{server.url}/healthz").status_code == 200  # the public pages serve
        assert httpx.get(f"{staff}/s/{'a' * 43}").status_code == 404
        with httpx.Client(base_url=staff) as browser:
            login = browser.get("/staff/login")
            assert login.status_code == 200
            token = CSRF.search(login.text).group(1)
            signed_in = browser.post(
                "/staff/login",
                data={"csrf_token": token, "email": STAFF_EMAIL, "password": PASSWORD},
            )
            assert (signed_in.status_code, signed_in.headers["Location"]) == (302, "/staff/")
            campaigns = browser.get("/staff/")
            assert campaigns.status_code == 200
            assert "Ana Lima (staff)" in campaigns.text


def test_the_cookie_is_secure_when_the_consoles_own_address_is_https(home, database) -> None:
    (home / "coalitionletter.toml").write_text(
        '[web]\nbase_url = "http://127.0.0.1:8000"\n[console]\nbase_url = "https://10.8.0.1:8443"\n'
    )
    settings = load_settings(home, db=database.url, environ={})
    make_account(settings, database, STAFF_EMAIL, name="Ana Lima")
    response = sign_in(create_console_app(settings, database).test_client(), STAFF_EMAIL)
    assert response.status_code == 302
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("cl_staff=")]
    assert "Secure" in cookie
