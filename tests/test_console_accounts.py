"""Staff accounts: `staff add/list/disable/reset`, one-time links, Argon2 passwords."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from coalitionletter.db import Database
from coalitionletter.errors import ConfigError, StaffError
from coalitionletter.models import StaffAccount, StaffLink, StaffSession, utcnow
from coalitionletter.settings import Settings, load_settings
from coalitionletter.signon.tokens import token_hash
from coalitionletter.staff import accounts, sessions
from fixtures_console import PASSWORD, make_account

LINK = re.compile(r"(http://\S+)/staff/set-password/([A-Za-z0-9_-]{43})")


def _link(output: str) -> tuple[str, str]:
    found = LINK.search(output)
    assert found, output
    return found.group(1), found.group(2)


def _accounts(database: Database) -> list[tuple[str, str, str]]:
    with database.reading() as session:
        rows = session.execute(select(StaffAccount.email, StaffAccount.role, StaffAccount.name))
        return [tuple(row) for row in rows]


def _every_value(database: Database) -> str:
    """Every value in the console's tables, as one text (to search for secrets)."""
    tables = ("staff_accounts", "staff_links", "staff_sessions", "login_throttle")
    with database.engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in tables
            for row in connection.execute(text(f"SELECT * FROM {table}"))
        )


def test_staff_add_prints_a_one_time_link_under_the_base_url(invoke, database: Database) -> None:
    result = invoke("staff", "add", "Ana Lima", "--email", "ana@example.org")
    assert result.exit_code == 0, result.output
    base, _token = _link(result.output)
    assert base == "http://127.0.0.1:8000"
    assert "Ana Lima <ana@example.org> (staff)" in result.output
    assert _accounts(database) == [("ana@example.org", "staff", "Ana Lima")]


def test_staff_add_keeps_only_the_sha256_of_the_link_token(invoke, database: Database) -> None:
    result = invoke("staff", "add", "Ana Lima", "--email", "ana@example.org")
    assert result.exit_code == 0, result.output
    _base, token = _link(result.output)
    stored = _every_value(database)
    assert token_hash(token) in stored  # positive control: the link is there, by its hash
    assert token not in stored


def test_staff_add_with_the_coordinator_role(invoke, database: Database) -> None:
    result = invoke("staff", "add", "Sam", "--email", "sam@example.org", "--role", "coordinator")
    assert result.exit_code == 0, result.output
    assert _accounts(database) == [("sam@example.org", "coordinator", "Sam")]


def test_staff_add_refuses_an_address_already_taken_in_any_case(invoke, database: Database) -> None:
    assert invoke("staff", "add", "Ana", "--email", "ana@example.org").exit_code == 0
    result = invoke("staff", "add", "Other", "--email", "ANA@Example.org")
    assert result.exit_code == 1
    assert "There is already a staff account with the email 'ANA@Example.org'" in result.output
    assert "nothing was added" in result.output
    assert _accounts(database) == [("ana@example.org", "staff", "Ana")]


def test_staff_add_refuses_what_is_not_an_email_address(invoke, database: Database) -> None:
    result = invoke("staff", "add", "Ana", "--email", "ana at example")
    assert result.exit_code == 1
    assert "'ana at example' is not an email address" in result.output
    assert _accounts(database) == []


def test_staff_add_refuses_an_unknown_role(invoke, database: Database) -> None:
    result = invoke("staff", "add", "Ana", "--email", "ana@example.org", "--role", "admin")
    assert result.exit_code == 2
    assert "'admin' is not one of 'staff', 'coordinator'" in result.output
    assert _accounts(database) == []


def test_staff_list_shows_each_account_and_its_state(invoke, settings, database) -> None:
    make_account(settings, database, "ana@example.org", name="Ana Lima")
    make_account(
        settings, database, "sam@example.org", role="coordinator", name="Sam", password=None
    )
    result = invoke("staff", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.search(r"Ana Lima\s+ana@example.org\s+staff\s+active\s+never", result.output)
    assert re.search(r"Sam\s+sam@example.org\s+coordinator\s+awaiting password", result.output)
    assert len(lines) == 4


def test_staff_list_without_accounts_says_how_to_add_one(invoke, database: Database) -> None:
    result = invoke("staff", "list")
    assert result.exit_code == 0, result.output
    assert "coalitionletter staff add NAME --email E" in result.output


@pytest.mark.full_password_cost
def test_the_password_is_kept_as_an_argon2id_hash(settings, database: Database) -> None:
    make_account(settings, database, "ana@example.org")
    with database.reading() as session:
        stored = session.scalars(select(StaffAccount.password_hash)).one()
    assert stored.startswith("$argon2id$")
    # argon2-cffi's default cost (RFC 9106's low-memory choice); the other tests hash cheaply.
    assert "$m=65536,t=3,p=4$" in stored
    assert PASSWORD not in _every_value(database)
    with database.writing() as session:
        assert accounts.check_password(session, "ana@example.org", PASSWORD) is not None
        assert accounts.check_password(session, "ana@example.org", PASSWORD + "x") is None


def test_a_link_sets_the_password_once(settings, database: Database) -> None:
    token = make_account(settings, database, "ana@example.org")
    with database.writing() as session, pytest.raises(StaffError, match="This link is not valid"):
        accounts.set_password(session, token, "another long password", "another long password")
    with database.writing() as session:
        assert accounts.check_password(session, "ana@example.org", PASSWORD) is not None


def test_a_link_expires_after_link_hours(settings, database: Database) -> None:
    token = make_account(settings, database, "ana@example.org", password=None)
    later = utcnow() + timedelta(hours=settings.console.link_hours, seconds=1)
    with database.writing() as session:
        assert accounts.link_account(session, token, now=later) is None
        with pytest.raises(StaffError, match="has expired"):
            accounts.set_password(session, token, PASSWORD, PASSWORD, now=later)
    with database.reading() as session:  # positive control: still good before then
        assert accounts.link_account(session, token) is not None
        assert session.scalars(select(StaffAccount.password_hash)).one() is None


def test_link_hours_comes_from_the_console_section(home, invoke, database: Database) -> None:
    (home / "coalitionletter.toml").write_text("[console]\nlink_hours = 2\n")
    before = utcnow()
    result = invoke("staff", "add", "Ana", "--email", "ana@example.org")
    assert result.exit_code == 0, result.output
    with database.reading() as session:
        expires_at = session.scalars(select(StaffLink.expires_at)).one()
    assert timedelta(hours=2) <= expires_at - before < timedelta(hours=2, minutes=1)


def test_a_console_duration_below_one_is_refused(home) -> None:
    (home / "coalitionletter.toml").write_text("[console]\nidle_minutes = 0\n")
    with pytest.raises(ConfigError, match=r"\[console\] idle_minutes is 0; it must be 1 or more"):
        load_settings(home, environ={})


@pytest.mark.parametrize(
    ("password", "confirmation", "message"),
    [
        ("short", "short", "at least 12 characters"),
        ("a long enough password", "a different password!", "are not the same"),
    ],
)
def test_a_weak_or_mistyped_password_is_refused_and_the_link_still_works(
    settings: Settings, database: Database, password: str, confirmation: str, message: str
) -> None:
    token = make_account(settings, database, "ana@example.org", password=None)
    with database.writing() as session, pytest.raises(StaffError, match=message):
        accounts.set_password(session, token, password, confirmation)
    with database.reading() as session:
        assert session.scalars(select(StaffAccount.password_hash)).one() is None
        assert accounts.link_account(session, token) is not None


def test_staff_reset_gives_a_new_link_and_ends_password_sessions_and_old_link(
    invoke, settings, database: Database
) -> None:
    old_token = make_account(settings, database, "ana@example.org")
    with database.writing() as session:
        account_id = session.scalars(select(StaffAccount.id)).one()
        key = sessions.start(session, account_id)
    result = invoke("staff", "reset", "ana@example.org")
    assert result.exit_code == 0, result.output
    _base, new_token = _link(result.output)
    with database.writing() as session:
        assert sessions.find(session, key) is None
        assert accounts.check_password(session, "ana@example.org", PASSWORD) is None
        assert accounts.link_account(session, old_token) is None
        assert accounts.link_account(session, new_token) is not None


def test_staff_disable_ends_sessions_and_refuses_the_right_password(
    invoke, settings, database: Database
) -> None:
    make_account(settings, database, "ana@example.org")
    with database.writing() as session:
        account_id = session.scalars(select(StaffAccount.id)).one()
        key = sessions.start(session, account_id)
        assert sessions.find(session, key) is not None  # positive control
    result = invoke("staff", "disable", "ANA@example.org")
    assert result.exit_code == 0, result.output
    assert "Disabled Ana <ana@example.org>" in result.output
    with database.writing() as session:
        assert sessions.find(session, key) is None
        assert session.scalar(select(func.count()).select_from(StaffSession)) == 0
        assert accounts.check_password(session, "ana@example.org", PASSWORD) is None


def test_a_disabled_account_cannot_be_reset(invoke, settings, database: Database) -> None:
    make_account(settings, database, "ana@example.org")
    assert invoke("staff", "disable", "ana@example.org").exit_code == 0
    result = invoke("staff", "reset", "ana@example.org")
    assert result.exit_code == 1
    assert "is disabled; a disabled account stays so" in result.output
    with database.reading() as session:
        assert session.scalar(select(func.count()).where(StaffLink.ended_at.is_(None))) == 0


@pytest.mark.parametrize("command", ["disable", "reset"])
def test_an_unknown_address_is_named_and_nothing_changes(
    invoke, settings, database: Database, command: str
) -> None:
    make_account(settings, database, "ana@example.org")
    before = _every_value(database)
    result = invoke("staff", command, "nobody@example.org")
    assert result.exit_code == 1
    assert "There is no staff account with the email 'nobody@example.org'" in result.output
    assert _every_value(database) == before


def test_a_session_ends_twelve_hours_after_signing_in_however_active(
    settings: Settings, database: Database
) -> None:
    make_account(settings, database, "ana@example.org")
    with database.writing() as session:
        account_id = session.scalars(select(StaffAccount.id)).one()
        key = sessions.start(session, account_id)
        started = session.scalars(select(StaffSession.started_at)).one()
        assert sessions.find(session, key, now=started + timedelta(hours=11, minutes=59))
        assert sessions.find(session, key, now=started + timedelta(hours=12)) is None


def test_staff_help_loads_only_click() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from coalitionletter.cli import cli\n"
        "result = CliRunner().invoke(cli, ['staff', 'add', '--help'])\n"
        "assert result.exit_code == 0 and 'Example' in result.output, result.output\n"
        "heavy = ('sqlalchemy', 'flask', 'argon2', 'jinja2', 'coalitionletter.staff')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_account_change_is_in_the_trail_with_who_made_it(
    home, invoke, database: Database
) -> None:
    from coalitionletter import events
    from coalitionletter.models import Event

    (home / "coalitionletter.toml").write_text('[staff]\nname = "Jane Coordinator"\n')
    result = invoke("staff", "add", "Ana Lima", "--email", "ana@example.org")
    assert result.exit_code == 0, result.output
    with database.writing() as session:
        accounts.set_password(session, _link(result.output)[1], PASSWORD, PASSWORD)
    assert invoke("staff", "reset", "ana@example.org").exit_code == 0
    assert invoke("staff", "disable", "ana@example.org").exit_code == 0
    with database.reading() as session:
        trail = session.execute(
            select(Event.kind, Event.actor)
            .where(Event.chain == events.STAFF_CHAIN)
            .order_by(Event.seq)
        ).all()
        assert events.verify(session, events.STAFF_CHAIN) == []
    assert [tuple(row) for row in trail] == [
        ("staff_account_added", "staff: Jane Coordinator"),
        ("staff_password_set", "staff: Ana Lima"),
        ("staff_account_reset", "staff: Jane Coordinator"),
        ("staff_account_disabled", "staff: Jane Coordinator"),
    ]
