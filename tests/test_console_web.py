"""The staff console in Flask's test client: sign-in, sessions, CSRF, roles and the pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import func, select, update

from coalitionletter import events
from coalitionletter.db import Database
from coalitionletter.models import Event, StaffSession, utcnow
from coalitionletter.reports import counts as reports
from coalitionletter.reports import export as exporting
from coalitionletter.settings import load_settings
from coalitionletter.signon import audit as trail
from coalitionletter.staff import accounts
from coalitionletter.web.app import create_app
from coalitionletter.web.console import auth
from fixtures_console import (
    COORDINATOR_EMAIL,
    PASSWORD,
    STAFF_EMAIL,
    csrf_in,
    make_account,
    sign_in,
)
from fixtures_counts import CHINESE_NAME, COUNTS_SLUG, CountsWorld

pytestmark = pytest.mark.usefixtures("console_accounts")

FAILED = "The email address or password is not right."
LOCKED = "Too many failed sign-ins for this account or from this address."
PAGES = ["/staff/", f"/staff/c/{COUNTS_SLUG}", f"/staff/c/{COUNTS_SLUG}/audit"]
DOWNLOADS = [f"/staff/c/{COUNTS_SLUG}/count-sheet.pdf", f"/staff/c/{COUNTS_SLUG}/signatories.csv"]


def _sessions(database: Database) -> int:
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(StaffSession))


def _cookie(client) -> str:  # type: ignore[no-untyped-def]
    cookie = client.get_cookie("cl_staff", path="/staff")
    assert cookie is not None, "no console cookie"
    return cookie.value


def _session_data(app: Flask, cookie: str) -> dict:
    return app.session_interface.get_signing_serializer(app).loads(cookie)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)


# --- signing in -------------------------------------------------------------------------


def test_the_right_password_signs_in_and_shows_the_campaigns(signed_in) -> None:
    client = signed_in(STAFF_EMAIL)
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Ana Lima (staff)" in _text(page)


def test_the_session_cookie_is_httponly_samesite_lax_and_only_for_staff(
    console_client, staff_login
) -> None:
    response = staff_login(console_client(), STAFF_EMAIL)
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("cl_staff=")]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/staff" in cookie
    assert "Secure" not in cookie  # served over http here; see the https test


@pytest.mark.parametrize(("path", "opened"), [("/s/any-link", False), ("/staff/login", True)])
def test_only_console_requests_open_the_console_session(
    console_app: Flask, path: str, opened: bool
) -> None:
    from flask import request
    from flask.sessions import NullSession

    with console_app.test_request_context(path):
        session = console_app.session_interface.open_session(console_app, request)
    assert isinstance(session, NullSession) is not opened


def test_the_session_cookie_is_secure_when_the_base_url_is_https(home, database) -> None:
    (home / "coalitionletter.toml").write_text('[web]\nbase_url = "https://sign.example.org"\n')
    settings = load_settings(home, db=database.url, environ={})
    client = create_app(settings, database).test_client()
    response = sign_in(client, STAFF_EMAIL)
    assert response.status_code == 302, response.text
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("cl_staff=")]
    assert "Secure" in cookie


def test_signing_in_starts_a_new_session_and_drops_what_the_visitor_carried(
    console_app, console_client, staff_login, database
) -> None:
    client = console_client()
    with client.session_transaction("/staff/") as planted:
        planted["_user_id"] = "planted-by-someone-else"
        planted["extra"] = "from before"
    staff_login(client, STAFF_EMAIL)
    first = _session_data(console_app, _cookie(client))
    assert "extra" not in first
    assert first["_user_id"] != "planted-by-someone-else"
    staff_login(console_client(), STAFF_EMAIL)
    client.post("/staff/logout", data={"csrf_token": csrf_in(client.get("/staff/").text)})
    staff_login(client, STAFF_EMAIL)
    second = _session_data(console_app, _cookie(client))
    assert second["_user_id"] != first["_user_id"]
    assert _sessions(database) == 2  # this client's new one and the other client's


def test_a_wrong_password_is_refused_without_signing_in(console_client, database) -> None:
    client = console_client()
    response = sign_in(client, STAFF_EMAIL, "not the password")
    assert response.status_code == 401
    assert FAILED in response.text
    assert _sessions(database) == 0
    assert client.get("/staff/").status_code == 302


def test_an_unknown_address_gets_the_same_answer_as_a_wrong_password(console_client) -> None:
    wrong = sign_in(console_client(), STAFF_EMAIL, "not the password")
    unknown = sign_in(console_client(), "nobody@example.org", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    error = BeautifulSoup(unknown.text, "html.parser").select_one(".error").get_text()
    assert error == BeautifulSoup(wrong.text, "html.parser").select_one(".error").get_text()


def test_five_failures_lock_the_account_even_for_the_right_password(
    console_client, database
) -> None:
    for _ in range(4):
        assert sign_in(console_client(), STAFF_EMAIL, "wrong").status_code == 401
    fifth = sign_in(console_client(), STAFF_EMAIL, "wrong")
    assert LOCKED in fifth.text
    right = sign_in(console_client(), STAFF_EMAIL, PASSWORD)
    assert right.status_code == 429
    assert LOCKED in right.text
    assert _sessions(database) == 0
    assert sign_in(console_client(), COORDINATOR_EMAIL).status_code == 429  # same address


def test_the_lock_holds_across_two_app_instances_on_one_database(settings, database) -> None:
    first = create_app(settings, database).test_client()
    second = create_app(settings, database).test_client()
    for client in (first, second, first, second, first):
        sign_in(client, STAFF_EMAIL, "wrong")
    response = sign_in(create_app(settings, database).test_client(), STAFF_EMAIL, PASSWORD)
    assert response.status_code == 429
    assert _sessions(database) == 0


def test_failures_from_other_addresses_lock_the_account(console_app, database) -> None:
    for number in range(5):
        client = console_app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"
        sign_in(client, STAFF_EMAIL, "wrong")
    client = console_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert sign_in(client, STAFF_EMAIL).status_code == 429
    assert sign_in(client, COORDINATOR_EMAIL).status_code == 302  # another account may


def test_an_unknown_address_is_locked_like_a_real_one(console_client) -> None:
    for _ in range(5):
        sign_in(console_client(), "nobody@example.org", "wrong")
    response = sign_in(console_client(), "nobody@example.org", "wrong")
    assert response.status_code == 429
    assert LOCKED in response.text


def test_the_lock_ends_after_fifteen_minutes(console_client, database) -> None:
    from coalitionletter.models import LoginThrottle

    for _ in range(5):
        sign_in(console_client(), STAFF_EMAIL, "wrong")
    assert sign_in(console_client(), STAFF_EMAIL).status_code == 429
    with database.writing() as session:
        session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert sign_in(console_client(), STAFF_EMAIL).status_code == 302


# --- CSRF ---------------------------------------------------------------------------------


def test_a_sign_in_without_the_csrf_token_is_refused(console_client, database) -> None:
    client = console_client()
    client.get("/staff/login")
    response = client.post("/staff/login", data={"email": STAFF_EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form had expired or was not sent from this console" in response.text
    assert _sessions(database) == 0


def test_a_sign_out_without_the_csrf_token_is_refused(signed_in) -> None:
    client = signed_in(STAFF_EMAIL)
    assert client.post("/staff/logout").status_code == 400
    assert client.get("/staff/").status_code == 200  # still signed in


def test_a_set_password_form_without_the_csrf_token_is_refused(settings, database, console_client):
    token = make_account(settings, database, "new@example.org", password=None)
    client = console_client()
    client.get(f"/staff/set-password/{token}")
    data = {"password": PASSWORD, "confirmation": PASSWORD}
    assert client.post(f"/staff/set-password/{token}", data=data).status_code == 400
    with database.reading() as session:
        assert accounts.link_account(session, token) is not None


# --- sessions -----------------------------------------------------------------------------


def test_signing_out_ends_the_session_for_a_copied_cookie_too(
    console_client, signed_in, database
) -> None:
    client = signed_in(STAFF_EMAIL)
    copied = _cookie(client)
    client.post("/staff/logout", data={"csrf_token": csrf_in(client.get("/staff/").text)})
    assert _sessions(database) == 0
    replay = console_client()
    replay.set_cookie("cl_staff", copied, path="/staff")
    response = replay.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login"


def test_a_cookie_of_one_account_cannot_act_as_another(
    console_app, console_client, staff_login
) -> None:
    ana, sam = console_client(), console_client()
    staff_login(ana, STAFF_EMAIL)
    staff_login(sam, COORDINATOR_EMAIL)
    assert "Ana Lima (staff)" in _text(ana.get("/staff/"))
    # Ana's cookie with Sam's session key written in: the signature no longer holds.
    data = _session_data(console_app, _cookie(ana))
    data["_user_id"] = _session_data(console_app, _cookie(sam))["_user_id"]
    forged = _cookie(ana).split(".")
    forger = console_app.session_interface.get_signing_serializer(console_app)
    tampered = forger.dumps(data).split(".")
    tampered[-1] = forged[-1]  # without the server's key, the old signature is all one has
    ana.set_cookie("cl_staff", ".".join(tampered), path="/staff")
    assert ana.get("/staff/").status_code == 302
    # And Sam's form token does not work with Ana's session.
    ana2 = console_client()
    staff_login(ana2, STAFF_EMAIL)
    sams_token = csrf_in(sam.get("/staff/").text)
    assert ana2.post("/staff/logout", data={"csrf_token": sams_token}).status_code == 400
    assert ana2.get("/staff/").status_code == 200


def test_a_session_cookie_used_from_another_address_is_dropped(
    console_app, console_client, staff_login
) -> None:
    client = console_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    staff_login(client, STAFF_EMAIL)
    same_place = console_client()
    same_place.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    same_place.set_cookie("cl_staff", _cookie(client), path="/staff")
    assert same_place.get("/staff/").status_code == 200  # positive control
    elsewhere = console_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    elsewhere.set_cookie("cl_staff", _cookie(client), path="/staff")
    response = elsewhere.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login"


def test_a_session_ends_after_the_idle_timeout(signed_in, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    client = signed_in(STAFF_EMAIL)
    now = time.time()
    monkeypatch.setattr(auth.time, "time", lambda: now + 29 * 60)
    assert client.get("/staff/").status_code == 200  # within 30 minutes: still in
    monkeypatch.setattr(auth.time, "time", lambda: now + 29 * 60 + 31 * 60)
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login"
    login = client.get("/staff/login")
    assert "You were signed out after 30 minutes without activity" in login.text


def test_a_disabled_accounts_open_session_sees_nothing(
    console_client, signed_in, database, counts_world: CountsWorld
) -> None:
    client = signed_in(STAFF_EMAIL)
    assert client.get(f"/staff/c/{COUNTS_SLUG}").status_code == 200  # positive control
    with database.writing() as session:
        accounts.disable(session, STAFF_EMAIL, actor="staff: test")
    for path in [*PAGES, *DOWNLOADS]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/staff/login"
    assert sign_in(console_client(), STAFF_EMAIL).status_code == 401


# --- who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, *DOWNLOADS])
def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(
    console_client, counts_world: CountsWorld, path: str
) -> None:
    response = console_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login"
    assert counts_world.definition.title not in response.text


def test_a_coordinator_gets_403_with_no_data_on_the_trail(
    signed_in, counts_world: CountsWorld
) -> None:
    client = signed_in(COORDINATOR_EMAIL)
    response = client.get(f"/staff/c/{COUNTS_SLUG}/audit")
    assert response.status_code == 403
    assert "Your account's role does not reach this page" in _text(response)
    assert counts_world.definition.title not in response.text
    assert "confirmed" not in response.text


def test_the_trail_is_marked_staff_only_and_the_rest_is_for_coordinators(console_app) -> None:
    required = {
        rule.rule: getattr(console_app.view_functions[rule.endpoint], "required_role", None)
        for rule in console_app.url_map.iter_rules()
        if rule.rule.startswith("/staff")
    }
    assert required["/staff/c/<slug>/audit"] == "staff"
    for path in ("/staff/", "/staff/c/<slug>", "/staff/c/<slug>/count-sheet.pdf"):
        assert required[path] == "coordinator"


def test_a_coordinator_sees_the_counts_but_no_contacts(
    signed_in, counts_world: CountsWorld
) -> None:
    client = signed_in(COORDINATOR_EMAIL)
    page = client.get(f"/staff/c/{COUNTS_SLUG}")
    assert page.status_code == 200
    assert "Where the sign-on stands" in page.text
    assert "@" not in _text(page).replace(COORDINATOR_EMAIL, "")
    assert "whom to chase" not in page.text
    assert "Trail" not in _text(page)


# --- the pages ----------------------------------------------------------------------------


def test_the_campaigns_page_shows_the_overviews_numbers(
    signed_in, database, counts_world: CountsWorld
) -> None:
    client = signed_in(COORDINATOR_EMAIL)
    soup = BeautifulSoup(client.get("/staff/").text, "html.parser")
    with database.reading() as session:
        summary = reports.overview(session)
    shown = {
        row.th.find("span", class_="slug").get_text(): [td.get_text() for td in row.find_all("td")]
        for row in soup.select("tbody tr")
    }
    assert set(shown) == {info.slug for info, _ in summary.lines}
    for info, counts in summary.lines:
        expected = [counts.invited, counts.confirmed, counts.declined, counts.not_answered]
        assert shown[info.slug][:4] == [str(n) for n in expected]
    assert shown[COUNTS_SLUG][4] == str(counts_world_days(summary))


def counts_world_days(summary) -> int:  # type: ignore[no-untyped-def]
    (info,) = [info for info, _ in summary.lines if info.slug == COUNTS_SLUG]
    return info.days_left


def test_the_dashboard_shows_the_numbers_of_counts(
    signed_in, database, counts_world: CountsWorld
) -> None:
    client = signed_in(STAFF_EMAIL)
    soup = BeautifulSoup(client.get(f"/staff/c/{COUNTS_SLUG}").text, "html.parser")
    with database.reading() as session:
        totals = reports.campaign_counts(session, COUNTS_SLUG).totals
        by_country = reports.campaign_counts(session, COUNTS_SLUG, by="country")
    table = soup.find("table", attrs={"aria-labelledby": "totals"})
    shown = [int(row.find("td").get_text()) for row in table.select("tbody tr")]
    from coalitionletter.reports.count_text import TOTALS_LAYOUT

    assert shown == [getattr(totals, key) for key, _ in TOTALS_LAYOUT]
    assert shown[0] == 10  # A to J are invited in the hand-made world
    countries = soup.find("table", attrs={"aria-labelledby": "by-country"})
    labels = [row.th.get_text() for row in countries.select("tbody tr")]
    assert labels == [row.label for row in by_country.rows] + ["Total"]


def test_the_dashboard_lists_whom_to_chase_with_contacts_for_staff(
    signed_in, counts_world: CountsWorld
) -> None:
    client = signed_in(STAFF_EMAIL)
    soup = BeautifulSoup(client.get(f"/staff/c/{COUNTS_SLUG}").text, "html.parser")
    chase = soup.find("table", attrs={"aria-labelledby": "chase"})
    names = [row.th.get_text() for row in chase.select("tbody tr")]
    assert len(names) == 4  # G, H, I and J have not answered
    assert any(a["href"].startswith("mailto:") for a in chase.find_all("a"))


def test_the_count_sheet_link_gives_the_pdf(signed_in, counts_world: CountsWorld) -> None:
    from pypdf import PdfReader

    client = signed_in(COORDINATOR_EMAIL)
    page = BeautifulSoup(client.get(f"/staff/c/{COUNTS_SLUG}").text, "html.parser")
    link = page.find("a", string=re.compile("Print count sheet"))["href"]
    response = client.get(link)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert counts_world.definition.title.split()[0] in text


def test_the_export_link_gives_the_public_list_as_export_writes_it(
    signed_in, database, counts_world: CountsWorld
) -> None:
    client = signed_in(COORDINATOR_EMAIL)
    response = client.get(f"/staff/c/{COUNTS_SLUG}/signatories.csv")
    assert response.status_code == 200
    with database.reading() as session:
        listing = exporting.signatory_list(session, counts_world.definition, delivered=False)
    assert response.data.decode("utf-8") == exporting.as_csv(listing)
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 4  # header and the three public signatories; D asked for governments only


def test_the_console_export_names_only_the_signers_who_agreed_to_the_public_list(
    signed_in, counts_world: CountsWorld
) -> None:
    client = signed_in(COORDINATOR_EMAIL)
    response = client.get(f"/staff/c/{COUNTS_SLUG}/signatories.csv")
    assert response.status_code == 200
    rows = csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")))
    signers = {row["name"]: row["signer_name"] for row in rows}
    assert signers[CHINESE_NAME] == "Cheuk Kwan"  # C ticked the box
    assert signers["Uyghur Human Rights Project"] == ""  # A did not


def test_an_unknown_campaign_is_a_404_that_names_no_campaign(
    signed_in, counts_world: CountsWorld
) -> None:
    client = signed_in(STAFF_EMAIL)
    response = client.get("/staff/c/no-such-campaign")
    assert response.status_code == 404
    assert COUNTS_SLUG not in response.text


def test_the_trail_shows_every_entry_and_that_it_verifies(
    signed_in, database, counts_world: CountsWorld
) -> None:
    client = signed_in(STAFF_EMAIL)
    soup = BeautifulSoup(client.get(f"/staff/c/{COUNTS_SLUG}/audit").text, "html.parser")
    with database.reading() as session:
        expected = trail.entries(session, COUNTS_SLUG)
    assert len(soup.select("table.trail tbody tr")) == len(expected) > 0
    with database.reading() as session:
        head = trail.check(session, COUNTS_SLUG).head
    verdict = soup.select_one(".verify").get_text()
    assert "The trail verifies" in verdict
    assert f"Anchor: {head}" in verdict


def test_the_trail_names_an_invitation_changed_behind_the_programs_back(
    signed_in, database, counts_world: CountsWorld
) -> None:
    from coalitionletter.models import Invitation

    with database.writing() as session:
        session.execute(
            update(Invitation)
            .where(Invitation.organisation_id == counts_world.ids["E"])
            .values(state="confirmed")
        )
    client = signed_in(STAFF_EMAIL)
    soup = BeautifulSoup(client.get(f"/staff/c/{COUNTS_SLUG}/audit").text, "html.parser")
    verdict = soup.select_one(".verify").get_text(" ", strip=True)
    assert "The trail does not verify" in verdict
    assert "Tibet Justice Centre" in verdict


def test_the_trail_filters_by_kind_organisation_and_day(
    signed_in, counts_world: CountsWorld
) -> None:
    client = signed_in(STAFF_EMAIL)
    base = f"/staff/c/{COUNTS_SLUG}/audit"

    def kinds_and_orgs(query: str) -> list[tuple[str, str]]:
        soup = BeautifulSoup(client.get(base + query).text, "html.parser")
        rows = soup.select("table.trail tbody tr")
        return [(r.find_all("td")[2].get_text(), r.find_all("td")[3].get_text()) for r in rows]

    everything = kinds_and_orgs("")
    declined = kinds_and_orgs("?kind=declined")
    assert declined and {kind for kind, _ in declined} == {"declined"}
    assert len(declined) < len(everything)
    hk = kinds_and_orgs("?organisation=hong+KONG")
    assert hk and all("Hong Kong" in org for _, org in hk)
    today = utcnow().date()
    assert kinds_and_orgs(f"?since={today}&until={today}") == everything
    assert kinds_and_orgs(f"?until={today - timedelta(days=1)}") == []


def test_a_bad_date_in_the_trail_filter_is_named(signed_in, counts_world: CountsWorld) -> None:
    client = signed_in(STAFF_EMAIL)
    response = client.get(f"/staff/c/{COUNTS_SLUG}/audit?since=yesterday")
    assert response.status_code == 200
    assert "From: 'yesterday' is not a date. Use the form 2026-12-31." in _text(response)


def test_the_trail_says_when_it_does_not_verify(
    signed_in, database, counts_world: CountsWorld
) -> None:
    with database.writing() as session:
        chain = Event.chain == events.campaign_chain(COUNTS_SLUG)
        second = session.scalars(select(Event).where(chain, Event.seq == 2)).one()
        second.actor = "someone else"
    client = signed_in(STAFF_EMAIL)
    soup = BeautifulSoup(client.get(f"/staff/c/{COUNTS_SLUG}/audit").text, "html.parser")
    assert "The trail does not verify" in soup.select_one(".verify").get_text()


@pytest.mark.usefixtures("counts_world")
def test_no_console_page_shows_a_raw_token_or_session_key(
    console_app, console_client, signed_in, settings, database
) -> None:
    link_token = make_account(settings, database, "new@example.org", password=None)
    client = signed_in(STAFF_EMAIL)
    key = _session_data(console_app, _cookie(client))["_user_id"]
    pages = [client.get(path) for path in PAGES]
    pages.append(client.get("/staff/c/no-such-campaign"))
    visitor = console_client()
    pages += [visitor.get("/staff/login"), visitor.get(f"/staff/set-password/{link_token}")]
    assert "Set your password" in pages[-1].text  # positive control: the link's own page
    for page in pages:
        assert link_token not in page.text
        assert key not in page.text


def test_console_pages_carry_the_csp_and_no_inline_script_or_style(
    console_client, staff_login, counts_world: CountsWorld
) -> None:
    client = console_client()
    visitor = console_client()
    staff_login(client, STAFF_EMAIL)
    for path in ["/staff/login", *PAGES]:
        response = (visitor if path == "/staff/login" else client).get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "<script" not in response.text
        assert "<style" not in response.text
        assert " style=" not in response.text


def test_the_console_can_be_turned_off(home, database) -> None:
    (home / "coalitionletter.toml").write_text("[console]\nenabled = false\n")
    settings = load_settings(home, db=database.url, environ={})
    client = create_app(settings, database).test_client()
    assert client.get("/staff/login").status_code == 404
    assert client.get("/healthz").status_code == 200  # the rest of the app still serves
