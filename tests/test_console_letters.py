"""The console's letters page in Flask's test client: preview, changes, build, downloads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from coalitionletter.build import letters as builder
from coalitionletter.db import Database
from coalitionletter.models import Event
from coalitionletter.reports import export as exporting
from fixtures_console import COORDINATOR_EMAIL, STAFF_EMAIL, csrf_in
from fixtures_counts import COUNTS_SLUG, CountsWorld

pytestmark = pytest.mark.usefixtures("console_accounts")

LETTERS = f"/staff/c/{COUNTS_SLUG}/letters"
BUILD = f"{LETTERS}/build"
DELIVERED_LIST = f"{LETTERS}/delivered/signatories-delivered.csv"
PROTECTED = "Exiled Voices Collective"  # named to governments only in counts_world
OLD = "0" * 64


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)


def _out(home: Path, slug: str = COUNTS_SLUG) -> Path:
    return home / "letters" / slug / "out"


def _events(database: Database) -> int:
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def _taken(database: Database) -> list[tuple[str, str, dict]]:
    with database.reading() as session:
        rows = session.execute(
            select(Event.kind, Event.actor, Event.detail)
            .where(Event.kind == exporting.DELIVERED_TAKEN)
            .order_by(Event.id)
        ).all()
    return [(kind, actor, json.loads(detail)) for kind, actor, detail in rows]


@pytest.fixture
def staff(signed_in):  # type: ignore[no-untyped-def]
    """A test client signed in as the staff account (Ana Lima)."""
    return signed_in(STAFF_EMAIL)


@pytest.fixture
def coordinator(signed_in):  # type: ignore[no-untyped-def]
    """A test client signed in as the coordinator account."""
    return signed_in(COORDINATOR_EMAIL)


def _post(client, path: str, page: str = LETTERS, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_in(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data})


def _build(client, slug: str = COUNTS_SLUG, **data: str):  # type: ignore[no-untyped-def]
    page = f"/staff/c/{slug}/letters"
    response = _post(client, f"{page}/build", page, **data)
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == page
    return client.get(page)


# --- who may -------------------------------------------------------------------------


STAFF_ONLY_GETS = [
    LETTERS,
    f"{LETTERS}/preview/uk.public.html",
    f"{LETTERS}/files/uk.public.pdf",
    DELIVERED_LIST,
]


@pytest.mark.parametrize("path", STAFF_ONLY_GETS)
def test_a_coordinator_gets_403_on_every_letters_page(
    coordinator, counts_world: CountsWorld, path: str
) -> None:
    client = coordinator
    response = client.get(path)
    assert response.status_code == 403
    assert PROTECTED not in response.text
    assert client.get(f"/staff/c/{COUNTS_SLUG}").status_code == 200  # what they may see


@pytest.mark.parametrize("path", [BUILD, DELIVERED_LIST])
def test_a_coordinator_cannot_build_or_take_the_delivered_list(
    coordinator, counts_world: CountsWorld, database: Database, home: Path, path
) -> None:
    client = coordinator
    before = _events(database)
    token = csrf_in(client.get(f"/staff/c/{COUNTS_SLUG}").text)
    response = client.post(path, data={"csrf_token": token, "understood": "y"})
    assert response.status_code == 403
    assert PROTECTED not in response.text
    assert not _out(home).exists()
    assert _events(database) == before


@pytest.mark.parametrize("path", STAFF_ONLY_GETS)
def test_a_visitor_is_sent_to_sign_in_from_every_letters_page(
    console_client, counts_world: CountsWorld, path: str
) -> None:
    response = console_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login"


def test_a_build_without_the_csrf_token_is_refused_and_writes_nothing(
    staff, counts_world: CountsWorld, home: Path
) -> None:
    response = staff.post(BUILD, data={})
    assert response.status_code == 400
    assert not _out(home).exists()
    assert _build(staff).status_code == 200  # positive control: with the token it builds
    assert _out(home).is_dir()


# --- the page --------------------------------------------------------------------------


def test_before_a_build_the_page_says_so_and_offers_each_recipients_preview(
    staff, counts_world: CountsWorld
) -> None:
    page = staff.get(LETTERS)
    assert page.status_code == 200
    text = _text(page)
    assert "The letters have not been built yet" in text
    assert "Test Minister" in text
    soup = BeautifulSoup(page.text, "html.parser")
    links = [a["href"] for a in soup.select("#preview ~ .scroll a")]
    assert links == [f"{LETTERS}/preview/uk.public.html"]
    assert "No files yet" in text


def test_after_a_build_the_page_says_what_was_built_in_the_clis_words(
    staff, counts_world: CountsWorld, home: Path
) -> None:
    page = _build(staff)
    result = BeautifulSoup(page.text, "html.parser").select_one("#result").get_text()
    assert f"Built 8 file(s) for {COUNTS_SLUG} in {_out(home)}" in result
    assert "(1 named only in the delivered copies)" in result
    assert "uk.public.pdf" in result and "uk.delivered.pdf" in result
    again = staff.get(LETTERS)
    assert "Nothing changed since the last build" in _text(again)
    assert 'id="result"' not in again.text  # said once, after the redirect


def test_a_console_build_is_the_clis_build(
    staff, counts_world: CountsWorld, invoke, home: Path
) -> None:
    _build(staff)
    files = {p.name: p.read_bytes() for p in _out(home).iterdir()}
    result = invoke("build", COUNTS_SLUG)
    assert result.exit_code == 0, result.output
    assert f"Nothing changed for {COUNTS_SLUG}" in result.output
    assert {p.name: p.read_bytes() for p in _out(home).iterdir()} == files


def test_after_a_cli_build_the_page_says_nothing_changed_then_names_a_new_signatory(
    staff, counts_world: CountsWorld, invoke, database: Database
) -> None:
    from coalitionletter.campaigns import catalogue
    from fixtures_counts import act

    assert invoke("build", COUNTS_SLUG, "-q").exit_code == 0
    assert "Nothing changed since the last build" in _text(staff.get(LETTERS))
    with database.writing() as session:
        campaign = catalogue.campaign_row(session, COUNTS_SLUG)
        act(session, campaign, counts_world.ids["G"], "confirm", counts_world.definition.text_hash)
    soup = BeautifulSoup(staff.get(LETTERS).text, "html.parser")
    assert [li.get_text() for li in soup.select("ul.names.added li")] == ["Safeguard Defenders"]
    assert "Changed: the signatories" in soup.select_one("ul.changes").get_text()


def test_stale_consent_is_shown_and_refused_as_the_cli_words_it_and_nothing_is_written(
    staff, signed_founding, add_signatories, invoke, founding_home: Path
) -> None:
    add_signatories(signed_founding, ["Old Text Org"], text_hash=OLD)
    slug = signed_founding.slug
    cli = invoke("build", slug, "-q")
    assert cli.exit_code != 0
    words = cli.output.removeprefix("Error: ").strip()
    client = staff
    page = client.get(f"/staff/c/{slug}/letters")
    assert words in BeautifulSoup(page.text, "html.parser").select_one("pre.said").get_text()
    token = csrf_in(page.text)
    refused = client.post(f"/staff/c/{slug}/letters/build", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "The build was refused; nothing was written" in _text(refused)
    assert words in BeautifulSoup(refused.text, "html.parser").select_one("#refusal").get_text()
    assert not _out(founding_home, slug).exists()


def test_leave_out_stale_from_the_console_builds_and_names_those_left_out(
    staff, signed_founding, add_signatories, founding_home: Path
) -> None:
    add_signatories(signed_founding, ["Old Text Org"], text_hash=OLD)
    client = staff
    page = _build(client, signed_founding.slug, leave_out_stale="y")
    said = BeautifulSoup(page.text, "html.parser").select_one("#result").get_text()
    assert "Left out 1 organisation that confirmed an earlier text" in said
    assert "  - Old Text Org" in said.splitlines()
    assert "Old Text Org" not in (_out(founding_home, signed_founding.slug) / "uk.html").read_text()


# --- preview ---------------------------------------------------------------------------


def test_the_preview_is_the_letter_the_build_writes_under_its_own_style_policy(
    staff, counts_world: CountsWorld, settings, database: Database
) -> None:
    response = staff.get(f"{LETTERS}/preview/uk.public.html")
    assert response.status_code == 200
    plan = builder.plan_campaign(settings, database, COUNTS_SLUG, builder.BuildOptions(jobs=1))
    assert response.text == builder.preview_html(plan, "uk.public.html")
    csp = response.headers["Content-Security-Policy"]
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", csp)
    assert "unsafe-inline" not in csp and "script-src" not in csp
    assert "sandbox" in csp and "frame-ancestors 'none'" in csp
    assert PROTECTED not in response.text
    assert "Uyghur Human Rights Project" in response.text  # a public signatory is named


def test_the_delivered_copy_has_no_preview_and_an_unknown_recipient_none_either(
    staff, counts_world: CountsWorld
) -> None:
    assert staff.get(f"{LETTERS}/preview/uk.delivered.html").status_code == 404
    assert staff.get(f"{LETTERS}/preview/nowhere.public.html").status_code == 404
    assert staff.get(f"{LETTERS}/preview/uk.public.html").status_code == 200


# --- downloads -------------------------------------------------------------------------


def test_a_public_file_downloads_as_built_and_records_nothing(
    staff, counts_world: CountsWorld, home: Path, database: Database
) -> None:
    _build(staff)
    before = _events(database)
    response = staff.get(f"{LETTERS}/files/uk.public.pdf")
    assert response.status_code == 200
    assert response.data == (_out(home) / "uk.public.pdf").read_bytes()
    assert response.headers["Content-Disposition"] == 'attachment; filename="uk.public.pdf"'
    assert _events(database) == before


def test_a_delivered_file_asked_for_as_a_public_one_goes_to_the_warning(
    staff, counts_world: CountsWorld
) -> None:
    _build(staff)
    response = staff.get(f"{LETTERS}/files/uk.delivered.pdf")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{LETTERS}/delivered/uk.delivered.pdf"


def test_a_file_not_in_the_last_build_is_not_found(staff, counts_world: CountsWorld) -> None:
    _build(staff)
    assert staff.get(f"{LETTERS}/files/..%2Fletter.toml").status_code == 404
    assert staff.get(f"{LETTERS}/files/.coalitionletter-build.json").status_code == 404
    assert staff.get(f"{LETTERS}/files/uk.public.html").status_code == 200


def test_the_delivered_list_is_behind_a_warning_that_records_nothing(
    staff, counts_world: CountsWorld, database: Database
) -> None:
    before = _events(database)
    page = staff.get(DELIVERED_LIST)
    assert page.status_code == 200
    assert "This is the delivered list" in _text(page)
    assert PROTECTED not in page.text
    assert _events(database) == before


def test_the_delivered_list_without_the_confirmation_is_refused_and_records_nothing(
    staff, counts_world: CountsWorld, database: Database
) -> None:
    before = _events(database)
    response = _post(staff, DELIVERED_LIST, DELIVERED_LIST)
    assert response.status_code == 400
    assert "Tick the box to confirm" in _text(response)
    assert PROTECTED not in response.text
    assert _events(database) == before


def test_the_confirmed_delivered_list_is_the_clis_and_is_recorded_as_the_cli_records_it(
    staff, counts_world: CountsWorld, database: Database, invoke, tmp_path: Path
) -> None:
    response = _post(staff, DELIVERED_LIST, DELIVERED_LIST, understood="y")
    assert response.status_code == 200
    written = tmp_path / "delivered.csv"
    cli = invoke("export", COUNTS_SLUG, "--delivered", "--output", str(written))
    assert cli.exit_code == 0, cli.output
    assert response.data == written.read_bytes()
    assert PROTECTED in response.data.decode("utf-8")
    console_entry, cli_entry = _taken(database)
    assert console_entry == ("delivered_exported", "staff: Ana Lima", cli_entry[2])
    assert cli_entry[:2] == ("delivered_exported", "staff: staff")
    assert invoke("audit", COUNTS_SLUG, "--verify").exit_code == 0


def test_a_confirmed_delivered_file_is_handed_over_and_recorded(
    staff, counts_world: CountsWorld, database: Database, home: Path
) -> None:
    _build(staff)
    path = f"{LETTERS}/delivered/uk.delivered.pdf"
    assert "This is a delivered copy" in _text(staff.get(path))
    response = _post(staff, path, path, understood="y")
    assert response.status_code == 200
    assert response.data == (_out(home) / "uk.delivered.pdf").read_bytes()
    assert _taken(database) == [
        ("delivered_exported", "staff: Ana Lima", {"file": "uk.delivered.pdf"})
    ]


def test_the_letters_page_shows_no_raw_token_or_session_key(
    console_app, staff, counts_world: CountsWorld, settings, database: Database
) -> None:
    from fixtures_console import make_account

    link_token = make_account(settings, database, "new@example.org", password=None)
    cookie = staff.get_cookie("cl_staff", path="/staff")
    assert cookie is not None
    key = console_app.session_interface.get_signing_serializer(console_app).loads(cookie.value)
    pages = [
        staff.get(path) for path in [LETTERS, DELIVERED_LIST, f"{LETTERS}/preview/uk.public.html"]
    ]
    pages.append(_build(staff))
    assert all(page.status_code == 200 for page in pages)
    for page in pages:
        assert link_token not in page.text
        assert key["_user_id"] not in page.text


def test_the_page_says_whether_the_sign_on_is_still_open(
    staff, counts_world: CountsWorld, invoke
) -> None:
    state = BeautifulSoup(staff.get(LETTERS).text, "html.parser").select_one("#sign-on-state")
    assert "The sign-on is open" in state.get_text()
    closed = invoke("close", COUNTS_SLUG, "--yes")
    assert closed.exit_code == 0, closed.output
    state = BeautifulSoup(staff.get(LETTERS).text, "html.parser").select_one("#sign-on-state")
    assert "The sign-on is closed" in state.get_text()
