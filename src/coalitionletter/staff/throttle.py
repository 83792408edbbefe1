"""Failed sign-ins, counted per account and per client address in the database.

Kept in the database, not in a worker's memory, so the limit holds across
`serve --workers N` and restarts. An address that names no account is counted
and locked like any other, so a lock tells nobody whether an account exists.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coalitionletter.models import LoginThrottle, utcnow

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


def account_key(email_key: str) -> str:
    """The throttle key of an account (by its casefolded address)."""
    return hashlib.sha256(f"account:{email_key}".encode()).hexdigest()


def address_key(address: str) -> str:
    """The throttle key of a client address; the address itself is not kept."""
    return hashlib.sha256(f"address:{address}".encode()).hexdigest()


def locked(session: Session, keys: list[str], now: datetime | None = None) -> bool:
    """True while any of the keys is locked out."""
    now = now or utcnow()
    until = session.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key_hash.in_(keys), LoginThrottle.locked_until.is_not(None)
        )
    )
    return any(value is not None and value > now for value in until)


def _count(session: Session, key: str, now: datetime) -> None:
    # The row is read FOR UPDATE (PostgreSQL) or under SQLite's write lock, so two
    # workers failing at the same moment both count.
    row = session.get(LoginThrottle, key, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(LoginThrottle(key_hash=key, failures=0, window_started_at=now))
        except IntegrityError:
            pass  # another worker counted this key's first failure at the same moment
        row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
    if row is None:
        raise RuntimeError("the login throttle row vanished while being counted")
    if now - row.window_started_at >= WINDOW:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.failures, row.window_started_at, row.locked_until = 0, now, now + LOCK
    session.flush()


def record_failure(session: Session, keys: list[str], now: datetime | None = None) -> None:
    """Count one failed sign-in against each key; the MAX_FAILURES-th locks it for LOCK."""
    now = now or utcnow()
    for key in sorted(keys):  # one order everywhere, so two workers never wait on each other
        _count(session, key, now)


def clear(session: Session, key: str) -> None:
    """Forget an account's failures after it signed in with the right password."""
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)
