"""Racing decisions on PostgreSQL's READ COMMITTED: one final state, one unbroken chain."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from coalitionletter import events
from coalitionletter.db import Database
from coalitionletter.errors import SignOnError
from coalitionletter.models import Campaign, Event, EventChain, Invitation, Organisation
from coalitionletter.signon import states as signon

pytestmark = pytest.mark.postgres
THREADS = 20
TEXT_HASH = "b" * 64
SLUG = "ilp-magnitsky-2020"
CHAIN = events.campaign_chain(SLUG)


def _invited(database: Database, organisations: int = 1, *, invite: bool = True) -> list[int]:
    with database.writing() as session:
        campaign = Campaign(slug=SLUG, title="Magnitsky sanctions")
        session.add(campaign)
        ids = []
        for number in range(organisations):
            slug = f"org-{number}"
            organisation = Organisation(slug=slug, name=slug, name_key=slug, sort_name=slug)
            session.add(organisation)
            session.flush()
            if invite:
                signon.transition(session, campaign, organisation.id, "invite", actor="staff")
            ids.append(organisation.id)
    return ids


def _decide(database: Database, organisation_id: int, action: str, actor: str) -> str:
    """One decision in its own session; what happened, as a short string."""
    try:
        with database.writing() as session:
            campaign = session.scalars(select(Campaign)).one()
            outcome = signon.transition(
                session,
                campaign,
                organisation_id,
                action,
                actor=actor,
                text_hash=TEXT_HASH if action == "confirm" else None,
            )
    except SignOnError as exc:
        return f"{action}:refused:{exc}"
    except Exception as exc:  # noqa: BLE001 - every other failure is the finding
        return f"{action}:ERROR:{type(exc).__name__}: {exc}"
    return f"{action}:{'changed' if outcome.changed else 'unchanged'}"


def _race(database: Database, jobs: list[tuple[int, str]]) -> list[str]:
    """Run each (organisation, action) in its own thread and session, all at once."""
    start = threading.Barrier(len(jobs))
    outcomes: list[str] = [""] * len(jobs)

    def run(index: int, organisation_id: int, action: str) -> None:
        start.wait()
        outcomes[index] = _decide(database, organisation_id, action, f"thread {index}")

    threads = [
        threading.Thread(target=run, args=(index, organisation_id, action))
        for index, (organisation_id, action) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _chain_and_state(database: Database, organisation_id: int) -> tuple[list[Event], str]:
    with database.reading() as session:
        assert events.verify(session, CHAIN) == []
        log = list(session.scalars(select(Event).where(Event.chain == CHAIN).order_by(Event.seq)))
        state = session.scalars(
            select(Invitation.state).where(Invitation.organisation_id == organisation_id)
        ).one()
        session.expunge_all()
    return log, state


def test_twenty_racing_confirmations_and_declines_end_in_one_state_and_one_chain(
    pg_database: Database,
) -> None:
    [organisation] = _invited(pg_database)
    actions = ["confirm" if index % 2 else "decline" for index in range(THREADS)]
    outcomes = _race(pg_database, [(organisation, action) for action in actions])

    assert not [o for o in outcomes if ":ERROR:" in o or "kept changing" in o or not o], outcomes
    log, state = _chain_and_state(pg_database, organisation)
    decisions = [event.kind for event in log if event.invitation_id and event.kind != "invited"]
    changed = [o for o in outcomes if o.endswith(":changed")]
    # Every change that reported success is in the log, once, and nothing else is.
    assert len(decisions) == len(changed)
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert state == {"confirmed": "confirmed", "declined": "declined"}[decisions[-1]]


def test_racing_confirmations_change_the_invitation_once(pg_database: Database) -> None:
    [organisation] = _invited(pg_database)
    outcomes = _race(pg_database, [(organisation, "confirm")] * THREADS)

    assert Counter(outcomes) == {"confirm:changed": 1, "confirm:unchanged": THREADS - 1}
    log, state = _chain_and_state(pg_database, organisation)
    assert [event.kind for event in log] == ["invited", "confirmed"]
    assert state == "confirmed"


def test_racing_first_answers_for_an_organisation_never_invited_create_one_invitation(
    pg_database: Database,
) -> None:
    [organisation] = _invited(pg_database, invite=False)  # e.g. answers taken by phone
    outcomes = _race(pg_database, [(organisation, "confirm")] * THREADS)

    assert Counter(outcomes) == {"confirm:changed": 1, "confirm:unchanged": THREADS - 1}
    log, state = _chain_and_state(pg_database, organisation)
    assert [event.kind for event in log] == ["confirmed"]
    assert state == "confirmed"


def test_decisions_for_different_organisations_all_land_in_one_chain(
    pg_database: Database,
) -> None:
    organisations = _invited(pg_database, THREADS)
    outcomes = _race(pg_database, [(org, "confirm") for org in organisations])

    assert outcomes == ["confirm:changed"] * THREADS
    with pg_database.reading() as session:
        assert events.verify(session, CHAIN) == []
        head = session.get(EventChain, CHAIN)
        assert head.length == 2 * THREADS  # one invitation and one confirmation each
        states = set(session.scalars(select(Invitation.state)))
    assert states == {"confirmed"}


@contextmanager
def _paused(database: Database, thread_name: str, *words: str) -> Iterator[threading.Event]:
    """Hold one thread just before it sends a statement containing `words`, until released."""
    reached, release = threading.Event(), threading.Event()

    def hold(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        wanted = all(word in statement for word in words)
        if threading.current_thread().name == thread_name and wanted and not reached.is_set():
            reached.set()
            release.wait(30)

    # Left listening (inert once reached): removing it while the held thread is
    # inside the listener list would break that thread's iteration over it.
    event.listen(database.engine, "before_cursor_execute", hold)
    try:
        yield reached
    finally:
        release.set()


def _in_thread(
    database: Database, name: str, organisation_id: int, action: str
) -> tuple[threading.Thread, list[str]]:
    """Start one decision in a thread of that name; its outcome lands in the list."""
    outcomes: list[str] = []
    thread = threading.Thread(
        target=lambda: outcomes.append(_decide(database, organisation_id, action, name)),
        name=name,
    )
    thread.start()
    return thread, outcomes


def _waiting_on_a_lock(database: Database) -> bool:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    with database.engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.execute(query).scalar():
                return True
            connection.rollback()
            time.sleep(0.02)
    return False


def test_a_decision_read_before_another_commits_is_decided_again(pg_database: Database) -> None:
    [organisation] = _invited(pg_database)
    # The decline reads "invited", then a confirmation commits before its UPDATE.
    with _paused(pg_database, "decliner", "UPDATE invitations") as reached:
        decliner, declined = _in_thread(pg_database, "decliner", organisation, "decline")
        assert reached.wait(10)
        assert _decide(pg_database, organisation, "confirm", "main") == "confirm:changed"
    decliner.join(30)

    assert declined == [
        "decline:refused:Cannot decline an invitation that is confirmed; "
        "decline is possible only from: declined, invited, not invited."
    ]
    log, state = _chain_and_state(pg_database, organisation)
    assert (state, [e.kind for e in log]) == ("confirmed", ["invited", "confirmed"])


def test_a_decision_waits_for_an_uncommitted_one_then_decides_again(
    pg_database: Database,
) -> None:
    [organisation] = _invited(pg_database)
    # The confirmation has updated the row and holds it, not yet committed.
    with _paused(pg_database, "confirmer", "FROM event_chains", "FOR UPDATE") as reached:
        confirmer, confirmed = _in_thread(pg_database, "confirmer", organisation, "confirm")
        assert reached.wait(10)
        decliner, declined = _in_thread(pg_database, "decliner", organisation, "decline")
        assert _waiting_on_a_lock(pg_database)  # the decline's UPDATE queues on the row
    confirmer.join(30)
    decliner.join(30)

    assert confirmed == ["confirm:changed"]
    assert declined[0].startswith("decline:refused:Cannot decline an invitation that is confirmed")
    log, state = _chain_and_state(pg_database, organisation)
    assert (state, [e.kind for e in log]) == ("confirmed", ["invited", "confirmed"])


def test_appending_to_a_chain_waits_for_the_writer_holding_its_head(
    pg_database: Database,
) -> None:
    first, second = _invited(pg_database, 2)
    with _paused(pg_database, "first", "INSERT INTO events") as reached:
        one, first_outcome = _in_thread(pg_database, "first", first, "confirm")
        assert reached.wait(10)  # "first" holds the chain's head row
        two, second_outcome = _in_thread(pg_database, "second", second, "confirm")
        assert _waiting_on_a_lock(pg_database)  # "second" queues for the head
    one.join(30)
    two.join(30)

    assert first_outcome == second_outcome == ["confirm:changed"]
    log, _ = _chain_and_state(pg_database, first)
    assert [e.seq for e in log] == [1, 2, 3, 4]
    assert [e.organisation_id for e in log[2:]] == [first, second]


def test_a_chain_head_read_earlier_in_a_transaction_is_read_again_when_locked(
    pg_database: Database,
) -> None:
    with pg_database.writing() as session:
        events.record(session, chain="registry", kind="note", actor="staff")
    with pg_database.writing() as slow:
        slow.get(EventChain, "registry")  # loaded, then another writer appends
        with pg_database.writing() as quick:
            events.record(quick, chain="registry", kind="note", actor="quick")
        appended = events.record(slow, chain="registry", kind="note", actor="slow")
    assert appended.seq == 3
    with pg_database.reading() as session:
        assert events.verify(session, "registry") == []
