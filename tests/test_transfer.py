"""migrate-data: a campaign moved to another database keeps every row, id and event."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import make_url

from coalitionletter import events
from coalitionletter.cli import cli
from coalitionletter.db import Database, upgrade
from coalitionletter.errors import DatabaseError, TransferError
from coalitionletter.models import (
    AppSecret,
    Campaign,
    Contact,
    Event,
    Invitation,
    Organisation,
)
from coalitionletter.signon import states as signon
from coalitionletter.workspace import transfer

TEXT_HASH = "a" * 64
ORGANISATIONS = 40


@pytest.fixture
def source(tmp_path: Path) -> Database:
    """A SQLite campaign: organisations, a merge, invitations in every state, events."""
    database = Database(f"sqlite:///{tmp_path / 'signatories.db'}")
    upgrade(database)
    with database.writing() as session:
        organisations = [
            Organisation(
                slug=f"org-{number}",
                name=f"Uyghur Human Rights Group {number} (ئۇيغۇر 人权)",
                name_key=f"uyghur human rights group {number}",
                sort_name=f"uyghur human rights group {number}",
                country="CA",
            )
            for number in range(ORGANISATIONS)
        ]
        session.add_all(organisations)
        session.flush()
        # Merged into an organisation registered after it: its link must survive.
        organisations[2].merged_into_id = organisations[30].id
        session.add(Contact(organisation_id=organisations[0].id, email="staff@example.org"))
        session.add(AppSecret(name="csrf", value="s" * 40))
        campaign = Campaign(slug="ilp-magnitsky-2020", title="Global Magnitsky sanctions")
        session.add(campaign)
        session.flush()
        for organisation in organisations[:30]:
            signon.transition(session, campaign, organisation.id, "invite", actor="staff")
        for organisation in organisations[:20]:
            signon.transition(
                session,
                campaign,
                organisation.id,
                "confirm",
                actor="organisation",
                text_hash=TEXT_HASH,
                fields={"signer_name": "Dolkun Isa"},
            )
        for organisation in organisations[20:25]:
            signon.transition(session, campaign, organisation.id, "decline", actor="org")
        signon.transition(session, campaign, organisations[0].id, "withdraw", actor="org")
        events.record(session, chain=events.REGISTRY_CHAIN, kind="note", actor="staff")
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty target database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'target.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def target(target_url: str) -> Database:
    """The target database, opened (not yet migrated)."""
    database = Database(target_url)
    yield database
    database.dispose()


def _rows(database: Database, table: Table) -> list[dict]:
    with database.reading() as session:
        query = select(table).order_by(*table.primary_key.columns)
        return [dict(row._mapping) for row in session.execute(query)]


def _counts(database: Database) -> dict[str, int]:
    with database.reading() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in transfer.tables()
        }


def test_every_organisation_invitation_and_event_arrives_unchanged(
    source: Database, target: Database
) -> None:
    transfer.copy_all(source, target)
    for model in (Organisation, Contact, Campaign, Invitation, Event, AppSecret):
        assert _rows(target, model.__table__) == _rows(source, model.__table__), model
    assert len(_rows(target, Organisation.__table__)) == ORGANISATIONS


def test_the_event_chains_verify_on_the_target(source: Database, target: Database) -> None:
    report = transfer.copy_all(source, target)
    with target.reading() as session:
        chains = list(session.scalars(select(Event.chain).distinct()))
        assert sorted(chains) == ["campaign:ilp-magnitsky-2020", "registry"]
        assert all(events.verify(session, chain) == [] for chain in chains)
    assert report.chains == 2
    assert report.events == len(_rows(source, Event.__table__))


def test_the_report_gives_the_rows_of_every_table(source: Database, target: Database) -> None:
    report = transfer.copy_all(source, target)
    assert {t.name: t.target for t in report.tables} == _counts(source)
    assert all(t.source == t.target for t in report.tables)


@pytest.mark.postgres
def test_the_report_never_shows_the_database_password(source: Database, pg_url: str) -> None:
    password = make_url(pg_url).password
    report = transfer.copy_all(source, Database(pg_url))
    assert password
    assert password not in "\n".join(report.lines())
    assert "postgres:***@" in report.target


def test_an_organisation_merged_into_a_later_one_keeps_its_link(
    source: Database, target: Database
) -> None:
    transfer.copy_all(source, target)
    with target.reading() as session:
        merged = session.scalars(select(Organisation).where(Organisation.slug == "org-2")).one()
        assert merged.merged_into_id is not None
        assert session.get(Organisation, merged.merged_into_id).slug == "org-30"


def test_new_rows_on_the_target_get_ids_after_the_copied_ones(
    source: Database, target: Database
) -> None:
    transfer.copy_all(source, target)
    with target.writing() as session:
        newcomer = Organisation(
            slug="newcomer", name="Newcomer", name_key="newcomer", sort_name="newcomer"
        )
        session.add(newcomer)
        session.flush()
        assert newcomer.id == ORGANISATIONS + 1
        event = events.record(session, chain="registry", kind="note", actor="staff")
        assert event.id == len(_rows(source, Event.__table__)) + 1


def test_a_target_holding_data_is_refused_and_left_unchanged(
    source: Database, target: Database
) -> None:
    upgrade(target)
    with target.writing() as session:
        session.add(Organisation(slug="kept", name="Kept", name_key="kept", sort_name="kept"))
    with pytest.raises(TransferError, match=r"already holds data \(organisations: 1 "):
        transfer.copy_all(source, target)
    assert [row["slug"] for row in _rows(target, Organisation.__table__)] == ["kept"]
    assert _counts(target)["events"] == 0


def test_replace_deletes_what_the_target_held_and_copies_everything(
    source: Database, target: Database
) -> None:
    transfer.copy_all(source, target)
    with target.writing() as session:
        session.add(Organisation(slug="stray", name="Stray", name_key="stray", sort_name="s"))
    transfer.copy_all(source, target, replace=True)
    assert _rows(target, Organisation.__table__) == _rows(source, Organisation.__table__)


def test_a_missing_source_file_is_refused_and_not_created(tmp_path: Path, target: Database) -> None:
    missing = tmp_path / "nothing-here.db"
    with pytest.raises(DatabaseError, match="There is no database at"):
        transfer.copy_all(Database(f"sqlite:///{missing}"), target)
    assert not missing.exists()


def test_copying_a_database_onto_itself_is_refused(source: Database) -> None:
    before = _counts(source)
    with pytest.raises(TransferError, match="are the same database"):
        transfer.copy_all(source, Database(source.url))
    assert _counts(source) == before


def test_a_source_behind_the_schema_is_refused(tmp_path: Path, target: Database) -> None:
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(old, "0001")
    with pytest.raises(DatabaseError, match="Run `coalitionletter init`"):
        transfer.copy_all(old, target)
    old.dispose()


def test_a_chain_broken_in_the_source_is_copied_as_it_is_with_a_warning(
    source: Database, target: Database
) -> None:
    with source.writing() as session:
        session.execute(update(Event).where(Event.seq == 2).values(actor="someone else"))
    report = transfer.copy_all(source, target)
    assert any(
        "was already broken in the source (Broken at entry 2" in line for line in report.lines()
    )
    assert _rows(target, Event.__table__) == _rows(source, Event.__table__)


def test_a_row_that_disagrees_with_its_trail_in_the_source_is_named_in_a_warning(
    source: Database, target: Database
) -> None:
    with source.writing() as session:
        session.execute(
            update(Invitation)
            .where(
                Invitation.organisation_id
                == select(Organisation.id).where(Organisation.slug == "org-22").scalar_subquery()
            )
            .values(state="confirmed")
        )
    report = transfer.copy_all(source, target)
    warnings = [line for line in report.lines() if "was already broken in the source" in line]
    assert len(warnings) == 1
    assert "Disagrees with the trail: Uyghur Human Rights Group 22" in warnings[0]
    assert "state confirmed (trail: declined)" in warnings[0]
    assert _rows(target, Invitation.__table__) == _rows(source, Invitation.__table__)


@pytest.mark.postgres
def test_a_campaign_moved_to_postgresql_and_back_to_sqlite_is_unchanged(
    source: Database, pg_url: str, tmp_path: Path
) -> None:
    transfer.copy_all(source, Database(pg_url))
    back = Database(f"sqlite:///{tmp_path / 'back.db'}")
    report = transfer.copy_all(Database(pg_url), back)
    for table in transfer.tables():
        assert _rows(back, table) == _rows(source, table), table.name
    assert report.chains == 2
    back.dispose()


@pytest.mark.postgres
def test_a_name_too_long_for_postgresql_is_refused_naming_the_table(
    source: Database, pg_url: str
) -> None:
    with source.writing() as session:  # SQLite does not enforce column lengths
        session.execute(update(Organisation).where(Organisation.id == 5).values(name="x" * 400))
    target = Database(pg_url)
    with pytest.raises(TransferError, match="Copying table organisations failed"):
        transfer.copy_all(source, target)
    assert set(_counts(target).values()) == {0}
    target.dispose()


def test_the_command_copies_and_reports_the_counts(
    source: Database, target_url: str, home: Path
) -> None:
    source_file = source.url.removeprefix("sqlite:///")
    result = CliRunner().invoke(
        cli, ["--home", str(home), "migrate-data", "--from", source_file, "--to", target_url]
    )
    assert result.exit_code == 0, result.output
    assert re.search(rf"^  organisations +{ORGANISATIONS}$", result.output, re.MULTILINE)
    assert "2 event chains" in result.output
    assert _counts(Database(target_url)) == _counts(source)


def test_the_command_refuses_a_target_holding_data(
    source: Database, target_url: str, home: Path
) -> None:
    transfer.copy_all(source, Database(target_url))
    before = _counts(Database(target_url))
    source_file = source.url.removeprefix("sqlite:///")
    result = CliRunner().invoke(
        cli, ["--home", str(home), "migrate-data", "--from", source_file, "--to", target_url]
    )
    assert result.exit_code == 1
    assert "already holds data" in result.output
    assert "pass --replace" in result.output
    assert _counts(Database(target_url)) == before
