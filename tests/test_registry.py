"""The registry: organisations added, found, changed, removed and merged, never silently."""

from collections.abc import Callable

import pytest
from sqlalchemy import select

from coalitionletter import events
from coalitionletter.db import Database
from coalitionletter.errors import RegistryError
from coalitionletter.models import Event, Invitation, Organisation
from coalitionletter.registry import organisations as registry
from coalitionletter.registry import removal as registry_removal
from fixtures_registry import snapshot

NewOrg = Callable[..., int]
RecordAnswer = Callable[..., None]


def _organisation(database: Database, ref: str | int) -> Organisation:
    with database.reading() as session:
        organisation = registry.find_organisation(session, str(ref))
        organisation.contacts  # noqa: B018 - load them before the session closes
        return organisation


def _events(database: Database, chain: str = events.REGISTRY_CHAIN) -> list[Event]:
    with database.reading() as session:
        return list(session.scalars(select(Event).where(Event.chain == chain).order_by(Event.seq)))


def test_add_keeps_the_name_as_given_and_files_it_without_the_article(
    database: Database, new_org: NewOrg
) -> None:
    organisation_id = new_org("  The Kestrel Foundation ", country="United Kingdom")
    organisation = _organisation(database, organisation_id)
    assert organisation.name == "The Kestrel Foundation"
    assert organisation.sort_name == "Kestrel Foundation"
    assert organisation.slug == "the-kestrel-foundation"
    assert organisation.country == "GB"


def test_add_records_an_event_in_the_registry_chain_with_the_actor(
    database: Database, new_org: NewOrg
) -> None:
    organisation_id = new_org("PEN America")
    [event] = _events(database)
    assert (event.kind, event.organisation_id, event.actor) == (
        "organisation_added",
        organisation_id,
        "test",
    )
    with database.reading() as session:
        assert events.verify(session, events.REGISTRY_CHAIN) == []


def test_add_keeps_a_contact(database: Database, new_org: NewOrg) -> None:
    organisation_id = new_org(
        "PEN America", contact_name="A. Person", email="A.Person@Pen.example", language="English"
    )
    [contact] = _organisation(database, organisation_id).contacts
    assert (contact.name, contact.email, contact.language) == (
        "A. Person",
        "A.Person@Pen.example",
        "en",
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"name": "HUMAN RIGHTS-FIRST"}, "the same name"),
        ({"name": "Other", "email": "INFO@hrf.example"}, "the same email address"),
        ({"name": "Other", "website": "http://www.HRF.example/about"}, "same domain (hrf.example)"),
    ],
)
def test_add_refuses_a_duplicate_naming_the_existing_organisation_and_changes_nothing(
    database: Database, new_org: NewOrg, fields: dict[str, str], reason: str
) -> None:
    new_org("Human Rights First", email="info@hrf.example", website="https://hrf.example")
    before = snapshot(database)
    with pytest.raises(RegistryError) as refused, database.writing() as session:
        registry.add(session, fields, actor="test")
    message = str(refused.value)
    assert "#1 Human Rights First (slug human-rights-first)" in message
    assert reason in message
    assert "Nothing was added" in message
    assert snapshot(database) == before


def test_pages_on_a_shared_host_are_told_apart_by_their_path(
    database: Database, new_org: NewOrg
) -> None:
    new_org("Group One", website="https://facebook.com/groupone")
    new_org("Group Two", website="https://www.facebook.com/grouptwo/")
    with database.reading() as session:
        assert len(registry.list_organisations(session)) == 2


def test_add_refuses_bad_values_listing_every_problem_and_changes_nothing(
    database: Database,
) -> None:
    before = snapshot(database)
    with pytest.raises(RegistryError) as refused, database.writing() as session:
        registry.add(
            session,
            {"name": "PEN\u202e America", "email": "pen@", "country": "Narnia"},
            actor="test",
        )
    message = str(refused.value)
    assert "U+202E RIGHT-TO-LEFT OVERRIDE at position 4" in message
    assert "Email 'pen@' is not a valid address" in message
    assert "Country 'Narnia'" in message
    assert snapshot(database) == before


@pytest.mark.parametrize("website", ["javascript:alert(1)", "ftp://files.example", "not a site"])
def test_a_website_that_is_not_an_http_address_is_refused(database: Database, website: str) -> None:
    with pytest.raises(RegistryError, match="is not a web address"), database.writing() as session:
        registry.add(session, {"name": "X", "website": website}, actor="test")


def test_an_organisation_is_found_by_id_slug_or_exact_name(
    database: Database, new_org: NewOrg
) -> None:
    organisation_id = new_org("Fondation Lumière d’Exemple")
    for ref in (str(organisation_id), "fondation-lumiere-dexemple", "Fondation Lumière d’Exemple"):
        assert _organisation(database, ref).id == organisation_id


def test_an_unknown_reference_says_how_to_search(database: Database) -> None:
    with pytest.raises(RegistryError, match="org list --search 'Nobody'"):
        _organisation(database, "Nobody")


def test_list_filters_by_country_name_type_and_search(database: Database, new_org: NewOrg) -> None:
    new_org("Tamarisk Justice Forum", country="GB", org_type="national NGO")
    new_org("Bluefinch Legal Aid", country="US", org_type="legal or professional body")
    new_org("Kestrel Forum", country="GB", org_type="international NGO", email="k@kestrel.example")
    with database.reading() as session:

        def names_for(**filters: str) -> list[str]:
            found = registry.list_organisations(session, registry.Filters(**filters))
            return [organisation.name for organisation in found]

        assert names_for(country="United Kingdom") == ["Kestrel Forum", "Tamarisk Justice Forum"]
        assert names_for(org_type="NATIONAL ngo") == ["Tamarisk Justice Forum"]
        assert names_for(search="kestrel.example") == ["Kestrel Forum"]
        assert names_for(search="forum") == ["Kestrel Forum", "Tamarisk Justice Forum"]


def test_edit_changes_fields_and_records_what_changed(database: Database, new_org: NewOrg) -> None:
    organisation_id = new_org("PEN America", country="US", notes="old")
    with database.writing() as session:
        _, changed = registry.edit(
            session, "pen-america", {"country": "GB", "notes": ""}, actor="staff"
        )
    assert changed == ["country", "notes"]
    organisation = _organisation(database, organisation_id)
    assert (organisation.country, organisation.notes) == ("GB", None)
    event = _events(database)[-1]
    assert event.kind == "organisation_edited"
    assert '"country":{"from":"US","to":"GB"}' in event.detail


def test_edit_refuses_a_name_another_organisation_has_and_changes_nothing(
    database: Database, new_org: NewOrg
) -> None:
    new_org("Human Rights First")
    new_org("PEN America")
    before = snapshot(database)
    with pytest.raises(RegistryError, match="#1 Human Rights First"), database.writing() as s:
        registry.edit(s, "pen-america", {"name": "Human rights first"}, actor="test")
    assert snapshot(database) == before


def test_remove_deletes_an_organisation_and_its_contacts(
    database: Database, new_org: NewOrg
) -> None:
    new_org("PEN America", email="pen@example.org")
    with database.writing() as session:
        message = registry_removal.remove(session, "pen-america", force=False, actor="test")
    assert message == "Removed #1 PEN America (slug pen-america)."
    assert snapshot(database)["organisations"] == []
    assert snapshot(database)["contacts"] == []
    assert _events(database)[-1].kind == "organisation_removed"


def test_remove_refuses_a_signatory_without_force_and_changes_nothing(
    database: Database, new_org: NewOrg, record_answer: RecordAnswer
) -> None:
    record_answer(new_org("PEN America"), "confirm", "founding")
    before = snapshot(database)
    with pytest.raises(RegistryError) as refused, database.writing() as session:
        registry_removal.remove(session, "pen-america", force=False, actor="test")
    assert "has signed founding" in str(refused.value)
    assert "--force" in str(refused.value)
    assert snapshot(database) == before


def test_remove_with_force_takes_the_answer_away_and_logs_it_in_the_campaign_chain(
    database: Database, new_org: NewOrg, record_answer: RecordAnswer
) -> None:
    record_answer(new_org("PEN America"), "confirm", "founding")
    with database.writing() as session:
        registry_removal.remove(session, "pen-america", force=True, actor="test")
    assert snapshot(database)["invitations"] == []
    assert _events(database, events.campaign_chain("founding"))[-1].kind == "invitation_removed"


def test_remove_takes_an_unanswered_invitation_with_it(
    database: Database, new_org: NewOrg, record_answer: RecordAnswer
) -> None:
    record_answer(new_org("PEN America"), "invite")
    with database.writing() as session:
        message = registry_removal.remove(session, "pen-america", force=False, actor="test")
    assert "answers to 1 campaign(s)" in message
    assert snapshot(database)["invitations"] == []


def test_merge_moves_contacts_and_answers_and_keeps_the_other_marked_merged(
    database: Database, new_org: NewOrg, record_answer: RecordAnswer
) -> None:
    kept = new_org("Human Rights First", email="info@hrf.example")
    other = new_org("HRF (old entry)", email="press@hrf.example")
    record_answer(other, "confirm", "founding")
    with database.writing() as session:
        result = registry_removal.merge(session, str(kept), str(other), actor="test")
    assert result.contacts_moved == 1
    assert result.invitations_moved == ["founding (confirmed)"]
    with database.reading() as session:
        invitation = session.scalars(select(Invitation)).one()
        merged = session.get(Organisation, other)
        assert invitation.organisation_id == kept
        assert merged is not None and merged.merged_into_id == kept
        assert [o.id for o in registry.list_organisations(session)] == [kept]
    assert [c.email for c in _organisation(database, kept).contacts] == [
        "info@hrf.example",
        "press@hrf.example",
    ]
    assert _events(database)[-1].kind == "organisation_merged"
    assert _events(database, events.campaign_chain("founding"))[-1].kind == "invitation_moved"


def test_a_merged_name_added_again_is_refused_naming_the_organisation_kept(
    database: Database, new_org: NewOrg
) -> None:
    kept = new_org("Human Rights First")
    other = new_org("HRF Old Entry")
    with database.writing() as session:
        registry_removal.merge(session, str(kept), str(other), actor="test")
    with (
        pytest.raises(RegistryError, match=r"#1 Human Rights First.*via 'HRF Old Entry'"),
        database.writing() as session,
    ):
        registry.add(session, {"name": "hrf old entry"}, actor="test")


def test_merge_refuses_to_drop_a_signature_when_both_answered_and_changes_nothing(
    database: Database, new_org: NewOrg, record_answer: RecordAnswer
) -> None:
    kept = new_org("Human Rights First")
    other = new_org("HRF Old Entry")
    record_answer(kept, "invite", "founding")
    record_answer(other, "confirm", "founding")
    before = snapshot(database)
    with pytest.raises(RegistryError) as refused, database.writing() as session:
        registry_removal.merge(session, str(kept), str(other), actor="test")
    assert "founding (kept: invited, other: confirmed)" in str(refused.value)
    assert "org merge hrf-old-entry human-rights-first" in str(refused.value)
    assert snapshot(database) == before


def test_an_organisation_cannot_be_merged_into_itself(database: Database, new_org: NewOrg) -> None:
    new_org("PEN America")
    with pytest.raises(RegistryError, match="into itself"), database.writing() as session:
        registry_removal.merge(session, "1", "pen-america", actor="test")


def test_an_unknown_language_is_refused_with_examples_of_valid_ones(database: Database) -> None:
    with (
        pytest.raises(RegistryError, match=r"Language 'Elvish' is not known.*such as en, fr, ug"),
        database.writing() as session,
    ):
        registry.add(session, {"name": "X", "language": "Elvish"}, actor="test")


def test_a_language_given_by_english_name_is_stored_as_its_code(
    database: Database, new_org: NewOrg
) -> None:
    organisation_id = new_org("X", email="x@example.org", language="Uyghur")
    assert _organisation(database, organisation_id).contacts[0].language == "ug"


def test_edit_can_give_a_new_slug_but_not_one_already_taken(
    database: Database, new_org: NewOrg
) -> None:
    new_org("PEN America")
    new_org("Other Group")
    with database.writing() as session:
        _, changed = registry.edit(session, "pen-america", {"slug": "pen"}, actor="test")
    assert changed == ["slug"]
    assert _organisation(database, "pen").name == "PEN America"
    before = snapshot(database)
    with pytest.raises(RegistryError, match="slug 'pen' is taken"), database.writing() as s:
        registry.edit(s, "other-group", {"slug": "pen"}, actor="test")
    assert snapshot(database) == before
