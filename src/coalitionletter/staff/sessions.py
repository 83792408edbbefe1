"""Signed-in console sessions, kept in the database so any worker can end one.

The browser's cookie carries a random session key; the database keeps only its
SHA-256. Signing in makes a new key (no fixation), signing out, a reset or
disabling the account deletes the row, and every request looks the row up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from coalitionletter.models import StaffAccount, StaffSession, utcnow
from coalitionletter.signon import tokens

# However active, a session ends after this long and its holder signs in again.
MAX_SESSION = timedelta(hours=12)


@dataclass(frozen=True)
class SignedIn:
    """Who a live session belongs to."""

    account_id: int
    name: str
    email: str
    role: str
    key: str


def start(session: Session, account_id: int, now: datetime | None = None) -> str:
    """Open a new session for an account (after a right password) and return its key."""
    now = now or utcnow()
    key = tokens.new_token()
    session.add(
        StaffSession(account_id=account_id, key_hash=tokens.token_hash(key), started_at=now)
    )
    account = session.get(StaffAccount, account_id)
    if account is not None:
        account.last_login_at = now
    session.flush()
    return key


def find(session: Session, key: str, now: datetime | None = None) -> SignedIn | None:
    """The account behind a live session key, or None (unknown, ended, too old, disabled)."""
    if not tokens.well_formed(key):
        return None
    row = session.execute(
        select(StaffSession.started_at, StaffAccount)
        .join(StaffAccount, StaffAccount.id == StaffSession.account_id)
        .where(StaffSession.key_hash == tokens.token_hash(key))
    ).one_or_none()
    if row is None:
        return None
    started_at, account = row
    if account.disabled_at is not None or account.password_hash is None:
        return None
    if (now or utcnow()) - started_at >= MAX_SESSION:
        return None
    return SignedIn(account.id, account.name, account.email, account.role, key)


def end(session: Session, key: str) -> None:
    """End one session (signing out); an unknown key is already ended."""
    if tokens.well_formed(key):
        session.execute(delete(StaffSession).where(StaffSession.key_hash == tokens.token_hash(key)))
