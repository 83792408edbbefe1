"""The console's registry pages in Flask's test client: find, show, add, edit, contacts, merge.

Each page calls the core the `org` commands call; where both can do a thing,
a test does it both ways and compares what the database holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from click.testing import Result
from sqlalchemy import select

from coalitionletter.db import Database
from coalitionletter.models import Event, Organisation
from coalitionletter.registry import organisations as registry
from fixtures_console import COORDINATOR_EMAIL, STAFF_EMAIL, csrf_in
from fixtures_registry import snapshot

pytestmark = pytest.mark.usefixtures("console_accounts")

STAFF_ACTOR = "staff: Ana Lima"
Invoke = Callable[..., Result]


@pytest.fixture
def world(new_org: Callable[..., int]) -> dict[str, int]:
    """Five organisations in two countries and three types, two with contacts."""
    return {
        "pen": new_org(
            "PEN America",
            country="US",
            org_type="national NGO",
            contact_name="Ada Person",
            email="ada@pen.example",
            website="pen.example",
        ),
        "hrf": new_org("Human Rights First", country="US", org_type="international NGO"),
        "uhrp": new_org(
            "Uyghur Human Rights Project",
            country="US",
            org_type="diaspora group",
            contact_name="Omer Kanat",
            email="info@uhrp.example",
        ),
        "hkw": new_org("Hong Kong Watch", country="GB", org_type="diaspora group"),
        "kestrel": new_org("The Kestrel Foundation", country="GB", org_type="national NGO"),
    }


@pytest.fixture
def staff(signed_in):  # type: ignore[no-untyped-def]
    """A test client signed in as the staff account Ana Lima."""
    return signed_in(STAFF_EMAIL)


def _soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def _text(response: Any) -> str:
    return _soup(response).get_text(" ", strip=True)


def _post(client: Any, path: str, data: dict[str, str], **options: Any) -> Any:
    """POST a console form as a browser does, with the session's CSRF token."""
    token = csrf_in(client.get("/staff/organisations").text)
    return client.post(path, data={"csrf_token": token, **data}, **options)


def _listed(response: Any) -> list[str]:
    """The organisation names in the list's table, in order."""
    return [row.select_one("th a").get_text() for row in _soup(response).select("tbody tr")]


def _cli_names(invoke: Invoke, *args: str) -> list[str]:
    result = invoke("org", "list", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return [item["name"] for item in json.loads(result.output)]


def _registry_events(database: Database) -> list[Event]:
    with database.reading() as session:
        return list(
            session.scalars(select(Event).where(Event.chain == "registry").order_by(Event.seq))
        )


def _organisation(database: Database, org_id: int) -> dict[str, Any]:
    with database.reading() as session:
        return registry.show(session, str(org_id))


def _field_error(response: Any, field: str) -> str:
    found = _soup(response).select_one(f"#{field}-error")
    assert found is not None, f"no message at {field}: {_text(response)}"
    return found.get_text()


# --- finding --------------------------------------------------------------------------------


def test_the_list_shows_the_organisations_of_org_list_in_its_order(
    staff, world, invoke: Invoke
) -> None:
    response = staff.get("/staff/organisations")
    assert response.status_code == 200
    assert _listed(response) == _cli_names(invoke)
    assert len(_listed(response)) == 5


def test_each_row_links_to_its_organisation(staff, world) -> None:
    soup = _soup(staff.get("/staff/organisations"))
    links = {a.get_text(): a["href"] for a in soup.select("tbody th a")}
    assert links["PEN America"] == f"/staff/organisations/{world['pen']}"


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("kestrel", ["The Kestrel Foundation"]),  # part of a name
        ("Kestrel Foundation", ["The Kestrel Foundation"]),  # the sort name
        ("hong-kong-watch", ["Hong Kong Watch"]),  # the slug
        ("HUMAN RIGHTS", ["Human Rights First", "Uyghur Human Rights Project"]),  # any case
        ("humanrightsfirst", ["Human Rights First"]),  # the folded name key
        ("Omer", ["Uyghur Human Rights Project"]),  # a contact's name
        ("ada@pen", ["PEN America"]),  # a contact's email
    ],
)
def test_search_finds_by_every_name_form_contact_and_email_as_org_list(
    staff, world, invoke: Invoke, search: str, expected: list[str]
) -> None:
    response = staff.get("/staff/organisations", query_string={"search": search})
    assert response.status_code == 200
    assert _listed(response) == expected
    assert _cli_names(invoke, "--search", search) == expected


def test_filters_by_country_and_type_as_org_list(staff, world, invoke: Invoke) -> None:
    query = {"country": "GB", "type": "diaspora group"}
    response = staff.get("/staff/organisations", query_string=query)
    assert _listed(response) == ["Hong Kong Watch"]
    assert _cli_names(invoke, "--country", "GB", "--type", "diaspora group") == ["Hong Kong Watch"]
    assert _listed(staff.get("/staff/organisations", query_string={"country": "GB"})) == [
        "Hong Kong Watch",
        "The Kestrel Foundation",
    ]


def test_the_filters_offer_the_countries_and_types_in_use(staff, world) -> None:
    soup = _soup(staff.get("/staff/organisations"))
    countries = [o.get_text() for o in soup.select("#country option")]
    types = [o.get_text() for o in soup.select("#type option")]
    assert countries == ["any", "United Kingdom", "United States"]
    assert types == ["any", "diaspora group", "international NGO", "national NGO"]


def test_an_unknown_country_in_the_filter_is_named_and_lists_nothing(staff, world) -> None:
    response = staff.get("/staff/organisations", query_string={"country": "Narnia"})
    assert response.status_code == 400
    assert "Narnia" in _soup(response).select_one("p.error").get_text()
    assert _listed(response) == []


def test_merged_organisations_are_left_out_unless_asked_for_and_then_marked(
    staff, world, database: Database
) -> None:
    from coalitionletter.registry import removal

    with database.writing() as session:
        removal.merge(session, str(world["hrf"]), str(world["kestrel"]), actor="test")
    assert "The Kestrel Foundation" not in _listed(staff.get("/staff/organisations"))
    response = staff.get("/staff/organisations", query_string={"merged": "1"})
    assert "The Kestrel Foundation" in _listed(response)
    row = next(r for r in _soup(response).select("tbody tr") if "Kestrel" in r.get_text())
    assert row.select_one(".merged").get_text(" ", strip=True) == (
        f"merged into #{world['hrf']} Human Rights First"
    )


def test_the_list_is_paginated_fifty_a_page(staff, new_org) -> None:
    for number in range(1, 61):
        new_org(f"Organisation {number:02d}")
    first = staff.get("/staff/organisations")
    assert len(_listed(first)) == 50
    assert "60 organisations, page 1 of 2" in _text(first)
    next_link = _soup(first).select_one("a[rel=next]")["href"]
    second = staff.get(next_link)
    assert _listed(second) == [f"Organisation {n}" for n in range(51, 61)]
    assert _soup(second).select_one("a[rel=next]") is None
    assert _soup(second).select_one("a[rel=prev]") is not None


# --- one organisation ---------------------------------------------------------------------


def test_the_organisation_page_shows_its_fields_and_contacts(staff, world) -> None:
    response = staff.get(f"/staff/organisations/{world['pen']}")
    assert response.status_code == 200
    text = _text(response)
    assert _soup(response).select_one("h1").get_text() == "PEN America"
    for shown in ("pen-america", "United States (US)", "national NGO", "https://pen.example"):
        assert shown in text
    (row,) = _soup(response).select("table tbody tr")
    assert [td.get_text(strip=True) for td in row.select("td")][:3] == [
        "Ada Person",
        "",
        "ada@pen.example",
    ]


def test_an_unknown_organisation_is_404(staff, world) -> None:
    response = staff.get("/staff/organisations/999")
    assert response.status_code == 404
    assert "There is no such page" in _text(response)


# --- adding -------------------------------------------------------------------------------

NEW = {
    "name": "The Osprey Trust",
    "country": "Ireland",
    "org_type": "national NGO",
    "website": "osprey.example",
    "contact_name": "Róisín Byrne",
    "email": "roisin@osprey.example",
    "language": "Irish",
}


def _comparable(details: dict[str, Any]) -> dict[str, Any]:
    """An organisation's values without what differs between two adds (id, times)."""
    return {k: v for k, v in details.items() if k not in {"id", "created_at", "updated_at"}}


def test_adding_an_organisation_stores_what_org_add_stores_as_the_staff_member(
    staff, database: Database, invoke: Invoke
) -> None:
    response = _post(staff, "/staff/organisations/new", NEW)
    assert response.status_code == 302
    with database.reading() as session:
        added = session.scalars(select(Organisation)).one()
    assert response.headers["Location"] == f"/staff/organisations/{added.id}"
    page = staff.get(response.headers["Location"])
    assert f"Added #{added.id} The Osprey Trust (slug the-osprey-trust)." in _text(page)
    (event,) = _registry_events(database)
    assert (event.kind, event.actor) == ("organisation_added", STAFF_ACTOR)
    by_console = _organisation(database, added.id)
    # The same values through the command line, after taking the console's away.
    removed = invoke("org", "remove", str(added.id), "--yes")
    assert removed.exit_code == 0, removed.output
    options = ["--country", "Ireland", "--type", "national NGO", "--website", "osprey.example"]
    options += ["--contact", "Róisín Byrne", "--email", "roisin@osprey.example"]
    result = invoke("org", "add", "The Osprey Trust", *options, "--language", "Irish")
    assert result.exit_code == 0, result.output
    with database.reading() as session:
        again = session.scalars(select(Organisation)).one()
    assert _comparable(_organisation(database, again.id)) == _comparable(by_console)


def test_bad_values_are_named_at_their_fields_and_nothing_is_added(
    staff, world, database: Database
) -> None:
    before = snapshot(database)
    typed = {**NEW, "country": "Narnia", "email": "roisin(at)osprey"}
    response = _post(staff, "/staff/organisations/new", typed)
    assert response.status_code == 400
    assert "Narnia" in _field_error(response, "country")
    assert "roisin(at)osprey" in _field_error(response, "email")
    assert _soup(response).select_one("#name")["value"] == "The Osprey Trust"  # kept as typed
    assert _soup(response).select_one("#country")["aria-invalid"] == "true"
    assert "Nothing was saved" in _text(response)
    assert snapshot(database) == before


def test_a_duplicate_is_refused_naming_the_existing_organisation(
    staff, world, database: Database
) -> None:
    before = snapshot(database)
    response = _post(staff, "/staff/organisations/new", {"name": "The PEN  America"})
    assert response.status_code == 400
    assert f"already in the registry as #{world['pen']} PEN America" in _text(response)
    assert snapshot(database) == before


def test_an_empty_name_is_refused_at_the_name(staff, database: Database) -> None:
    response = _post(staff, "/staff/organisations/new", {"name": "  ", "country": "GB"})
    assert response.status_code == 400
    assert "Name" in _field_error(response, "name")
    assert snapshot(database)["organisations"] == []


# --- editing ------------------------------------------------------------------------------


def _edit_form(staff: Any, org_id: int) -> dict[str, str]:
    """The edit form's fields as the page fills them in."""
    soup = _soup(staff.get(f"/staff/organisations/{org_id}/edit"))
    values = {i["name"]: i.get("value", "") for i in soup.select("form.stack input")}
    values.update({t["name"]: t.get_text() for t in soup.select("form.stack textarea")})
    values.pop("csrf_token")
    return values


def test_the_edit_form_is_filled_with_the_organisations_values(staff, world) -> None:
    assert _edit_form(staff, world["pen"]) == {
        "name": "PEN America",
        "sort_name": "PEN America",
        "slug": "pen-america",
        "country": "US",
        "org_type": "national NGO",
        "website": "https://pen.example",
        "notes": "",
    }


def test_an_edit_changes_and_records_only_what_was_changed_as_org_edit_does(
    staff, world, database: Database, invoke: Invoke
) -> None:
    form = {**_edit_form(staff, world["pen"]), "website": "pen-america.example"}
    response = _post(staff, f"/staff/organisations/{world['pen']}/edit", form)
    assert response.status_code == 302
    page = staff.get(response.headers["Location"])
    assert "Changed website of #1 PEN America (slug pen-america)." in _text(page)
    result = invoke("org", "edit", "hong-kong-watch", "--website", "hkw.example")
    assert result.exit_code == 0, result.output
    console_event, cli_event = _registry_events(database)[-2:]
    assert console_event.actor == STAFF_ACTOR
    assert (console_event.kind, cli_event.kind) == ("organisation_edited",) * 2
    console_detail, cli_detail = json.loads(console_event.detail), json.loads(cli_event.detail)
    assert console_detail["changed"].keys() == cli_detail["changed"].keys() == {"website"}
    assert console_detail["source"] == cli_detail["source"] == "org edit"


def test_renaming_recomputes_a_default_sort_name(staff, world, database: Database) -> None:
    form = {**_edit_form(staff, world["kestrel"]), "name": "The Osprey Trust"}
    assert _post(staff, f"/staff/organisations/{world['kestrel']}/edit", form).status_code == 302
    details = _organisation(database, world["kestrel"])
    assert (details["name"], details["sort_name"]) == ("The Osprey Trust", "Osprey Trust")


def test_renaming_keeps_a_sort_name_set_by_hand(staff, world, database: Database) -> None:
    form = {**_edit_form(staff, world["pen"]), "sort_name": "America, PEN"}
    assert _post(staff, f"/staff/organisations/{world['pen']}/edit", form).status_code == 302
    form = {**_edit_form(staff, world["pen"]), "name": "PEN America Center"}
    assert _post(staff, f"/staff/organisations/{world['pen']}/edit", form).status_code == 302
    details = _organisation(database, world["pen"])
    assert (details["name"], details["sort_name"]) == ("PEN America Center", "America, PEN")


def test_a_bad_edit_is_named_at_its_field_and_changes_nothing(
    staff, world, database: Database
) -> None:
    before = snapshot(database)
    form = {**_edit_form(staff, world["pen"]), "country": "Atlantis", "website": "not a site"}
    response = _post(staff, f"/staff/organisations/{world['pen']}/edit", form)
    assert response.status_code == 400
    assert "Atlantis" in _field_error(response, "country")
    assert "not a web address" in _field_error(response, "website")
    assert _soup(response).select_one("#website")["value"] == "not a site"
    assert snapshot(database) == before


def test_a_slug_taken_by_another_is_named_at_the_slug(staff, world, database: Database) -> None:
    before = snapshot(database)
    form = {**_edit_form(staff, world["pen"]), "slug": "hong-kong-watch"}
    response = _post(staff, f"/staff/organisations/{world['pen']}/edit", form)
    assert response.status_code == 400
    assert "The slug 'hong-kong-watch' is taken by #4 Hong Kong Watch" in _field_error(
        response, "slug"
    )
    assert snapshot(database) == before


def test_notes_on_several_lines_survive_an_edit_as_a_browser_sends_them(
    staff, world, database: Database
) -> None:
    with database.writing() as session:
        registry.edit(session, str(world["pen"]), {"notes": "First line\nSecond line"}, actor="t")
    form = _edit_form(staff, world["pen"])
    assert form["notes"] == "First line\nSecond line"
    sent = {**form, "notes": "First line\r\nSecond line", "org_type": "media freedom group"}
    response = _post(staff, f"/staff/organisations/{world['pen']}/edit", sent)
    assert response.status_code == 302, _text(response)
    details = _organisation(database, world["pen"])
    assert (details["notes"], details["type"]) == ("First line\nSecond line", "media freedom group")


def test_sending_the_form_unchanged_changes_nothing(staff, world, database: Database) -> None:
    before = snapshot(database)
    form = _edit_form(staff, world["pen"])
    response = _post(staff, f"/staff/organisations/{world['pen']}/edit", form)
    assert response.status_code == 302
    assert "Nothing was changed" in _text(staff.get(response.headers["Location"]))
    assert snapshot(database) == before


# --- contacts -----------------------------------------------------------------------------


def _contact_ids(database: Database, org_id: int) -> list[int]:
    with database.reading() as session:
        return [c.id for c in registry.find_organisation(session, str(org_id)).contacts]


def test_staff_add_edit_and_remove_a_contact_each_recorded_as_them(
    staff, world, database: Database
) -> None:
    org = world["pen"]
    added = _post(
        staff,
        f"/staff/organisations/{org}/contacts/new",
        {"contact_name": "Bo Second", "contact_title": "Director", "email": "bo@pen.example"},
    )
    assert added.status_code == 302
    first, second = _contact_ids(database, org)
    edited = _post(
        staff,
        f"/staff/organisations/{org}/contacts/{second}/edit",
        {"contact_name": "Bo Second", "contact_title": "", "email": "bo@pen.example"},
    )
    assert edited.status_code == 302
    assert f"Changed contact_title of contact #{second} of #1 PEN America (slug pen-america)." in (
        _text(staff.get(edited.headers["Location"]))
    )
    details = _organisation(database, org)
    assert details["contacts"][1] == {
        "name": "Bo Second",
        "title": None,
        "email": "bo@pen.example",
        "language": None,
    }
    removed = _post(staff, f"/staff/organisations/{org}/contacts/{first}/remove", {})
    assert removed.status_code == 302
    assert f"Removed contact #{first} (Ada Person, ada@pen.example) from #1 PEN America" in _text(
        staff.get(removed.headers["Location"])
    )
    assert [c["name"] for c in _organisation(database, org)["contacts"]] == ["Bo Second"]
    entries = _registry_events(database)[-3:]
    assert [e.actor for e in entries] == [STAFF_ACTOR] * 3
    assert [json.loads(e.detail)["contact_fields"][0] for e in entries] == [
        f"contact #{second} added",
        f"contact #{second} changed",
        f"contact #{first} removed",
    ]
    assert "ada@pen.example" not in "".join(e.detail for e in entries)  # no address in the trail


def test_a_bad_contact_email_is_named_at_the_field_and_changes_nothing(
    staff, world, database: Database
) -> None:
    before = snapshot(database)
    (contact,) = _contact_ids(database, world["pen"])
    response = _post(
        staff,
        f"/staff/organisations/{world['pen']}/contacts/{contact}/edit",
        {"contact_name": "Ada Person", "email": "ada@@pen"},
    )
    assert response.status_code == 400
    assert "ada@@pen" in _field_error(response, "email")
    assert _soup(response).select_one("#email")["value"] == "ada@@pen"
    assert snapshot(database) == before


def test_a_contact_email_of_another_organisation_is_refused_naming_it(
    staff, world, database: Database
) -> None:
    before = snapshot(database)
    response = _post(
        staff,
        f"/staff/organisations/{world['hkw']}/contacts/new",
        {"contact_name": "Someone", "email": "INFO@uhrp.example"},
    )
    assert response.status_code == 400
    assert f"#{world['uhrp']} Uyghur Human Rights Project" in _text(response)
    assert snapshot(database) == before


def test_an_empty_contact_is_refused(staff, world, database: Database) -> None:
    before = snapshot(database)
    response = _post(staff, f"/staff/organisations/{world['hkw']}/contacts/new", {})
    assert response.status_code == 400
    assert "Give the contact's name, title or email address." in _field_error(
        response, "contact_name"
    )
    assert snapshot(database) == before


# --- who may ------------------------------------------------------------------------------

GETS = [
    "/staff/organisations",
    "/staff/organisations/new",
    "/staff/organisations/1",
    "/staff/organisations/1/edit",
    "/staff/organisations/1/contacts/new",
    "/staff/organisations/1/contacts/1/edit",
    "/staff/organisations/duplicates",
    "/staff/organisations/merge?keep=1&other=2",
    "/staff/organisations/import",
]
POSTS = [
    ("/staff/organisations/new", {"name": "Coordinator Added"}),
    ("/staff/organisations/1/edit", {"name": "Renamed By Coordinator"}),
    ("/staff/organisations/1/contacts/new", {"contact_name": "Someone"}),
    ("/staff/organisations/1/contacts/1/edit", {"contact_name": "Someone"}),
    ("/staff/organisations/1/contacts/1/remove", {}),
    ("/staff/organisations/merge", {"keep": "1", "other": "2"}),
    ("/staff/organisations/import", {}),
    ("/staff/organisations/import/confirm", {"upload": "0" * 64}),
]


def test_every_registry_page_is_marked_staff_only(console_app) -> None:
    required = {
        rule.rule: getattr(console_app.view_functions[rule.endpoint], "required_role", None)
        for rule in console_app.url_map.iter_rules()
        if rule.rule.startswith("/staff/organisations")
    }
    assert len(required) == 11
    assert set(required.values()) == {"staff"}


@pytest.mark.parametrize("path", GETS)
def test_a_coordinator_gets_403_on_every_registry_page(signed_in, world, path: str) -> None:
    client = signed_in(COORDINATOR_EMAIL)
    response = client.get(path)
    assert response.status_code == 403
    assert "Your account's role does not reach this page" in _text(response)
    assert "PEN America" not in response.text
    assert client.get("/staff/").status_code == 200  # positive control: signed in


@pytest.mark.parametrize(("path", "data"), POSTS)
def test_a_coordinator_gets_403_for_every_registry_action_and_nothing_changes(
    signed_in, world, database: Database, *, path: str, data: dict[str, str]
) -> None:
    client = signed_in(COORDINATOR_EMAIL)
    before = snapshot(database)
    token = csrf_in(client.get("/staff/").text)
    response = client.post(path, data={"csrf_token": token, **data})
    assert response.status_code == 403
    assert snapshot(database) == before


@pytest.mark.parametrize("path", GETS)
def test_a_visitor_is_sent_to_sign_in_from_every_registry_page(
    console_client, world, path: str
) -> None:
    response = console_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login"


def test_a_registry_change_without_the_csrf_token_is_refused(
    staff, world, database: Database
) -> None:
    before = snapshot(database)
    response = staff.post("/staff/organisations/new", data={"name": "No Token"})
    assert response.status_code == 400
    assert snapshot(database) == before
    assert _post(staff, "/staff/organisations/new", {"name": "With Token"}).status_code == 302


# --- duplicates and merging -----------------------------------------------------------------


def _pairs(response: Any) -> list[tuple[str, str, str]]:
    return [
        tuple(td.get_text(" ", strip=True) for td in row.select("td")[:3])
        for row in _soup(response).select("tbody tr")
    ]


def test_the_duplicates_page_lists_the_pairs_org_duplicates_lists(
    staff, world, new_org, invoke: Invoke
) -> None:
    center = new_org("PEN America Center", country="US")
    response = staff.get("/staff/organisations/duplicates")
    assert response.status_code == 200
    assert _pairs(response) == [
        (
            f"#{world['pen']} PEN America",
            f"#{center} PEN America Center",
            "one name contains the other",
        )
    ]
    result = invoke("org", "duplicates")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"#{world['pen']} PEN America (slug pen-america) and #{center} PEN America Center "
        "(slug pen-america-center): one name contains the other"
    )


def test_the_duplicates_page_says_when_there_are_none(staff, world) -> None:
    response = staff.get("/staff/organisations/duplicates")
    assert "No likely duplicates." in _text(response)
    assert "Merge any two" in _text(response)  # positive control: the page itself


def test_the_merge_page_shows_the_kept_organisation_after_and_changes_nothing(
    staff, world, new_org, database: Database
) -> None:
    center = new_org("PEN America Center", contact_name="Cy Third", email="cy@pen-center.example")
    before = snapshot(database)
    response = staff.get(
        "/staff/organisations/merge", query_string={"keep": world["pen"], "other": center}
    )
    assert response.status_code == 200
    text = _text(response)
    assert f"#{center} PEN America Center (slug pen-america-center) will be merged into" in text
    contacts = [row.select_one("td").get_text() for row in _soup(response).select("tbody tr")]
    assert contacts == ["Ada Person", "Cy Third"]
    assert "2 (1 moved from" in text
    assert snapshot(database) == before


def test_confirming_a_merge_merges_as_org_merge_and_records_the_staff_member(
    staff, world, new_org, database: Database
) -> None:
    center = new_org("PEN America Center", contact_name="Cy Third", email="cy@pen-center.example")
    response = _post(
        staff, "/staff/organisations/merge", {"keep": str(world["pen"]), "other": str(center)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/organisations/{world['pen']}"
    page = _text(staff.get(response.headers["Location"]))
    assert "Merged #6 PEN America Center (slug pen-america-center) into #1 PEN America" in page
    assert "Contacts moved: 1." in page
    assert [c["name"] for c in _organisation(database, world["pen"])["contacts"]] == [
        "Ada Person",
        "Cy Third",
    ]
    assert _organisation(database, center)["merged_into"] == world["pen"]
    event = _registry_events(database)[-1]
    assert (event.kind, event.actor) == ("organisation_merged", STAFF_ACTOR)


def test_a_merge_that_would_drop_a_signature_is_refused_and_changes_nothing(
    staff, world, record_answer, database: Database
) -> None:
    record_answer(world["pen"], "confirm")
    record_answer(world["hrf"], "confirm")
    before = snapshot(database)
    data = {"keep": str(world["pen"]), "other": str(world["hrf"])}
    preview = staff.get("/staff/organisations/merge", query_string=data)
    assert preview.status_code == 400
    assert "merging would drop or double" in _text(preview)
    assert not _soup(preview).select("form[method=post] button.primary")
    response = _post(staff, "/staff/organisations/merge", data)
    assert response.status_code == 400
    assert "Nothing was merged." in _text(response)
    assert snapshot(database) == before


def test_a_merge_records_what_org_merge_records(
    staff, world, new_org, database: Database, invoke: Invoke
) -> None:
    center = new_org("PEN America Center", contact_name="Cy", email="cy@pen-center.example")
    watch = new_org("Hong Kong Watch UK", contact_name="Di", email="di@hkw-uk.example")
    data = {"keep": str(world["pen"]), "other": str(center)}
    assert _post(staff, "/staff/organisations/merge", data).status_code == 302
    result = invoke(
        "org",
        "merge",
        "hong-kong-watch",
        str(watch),
        "--yes",
        env={"COALITIONLETTER_STAFF_NAME": "Ana Lima"},
    )
    assert result.exit_code == 0, result.output
    by_console, by_cli = _registry_events(database)[-2:]
    assert (by_console.kind, by_console.actor) == (by_cli.kind, by_cli.actor)
    console_detail, cli_detail = json.loads(by_console.detail), json.loads(by_cli.detail)
    assert console_detail.keys() == cli_detail.keys()
    assert (console_detail["contacts_moved"], cli_detail["contacts_moved"]) == (1, 1)
