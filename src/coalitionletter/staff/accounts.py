"""Staff accounts: add, list, disable, reset, and set or check a password.

A password is kept only as an Argon2id hash (argon2-cffi), a one-time link and
a session only as the SHA-256 of their random keys (signon/tokens.py), so a
copy of the database lets nobody sign in. Passwords never reach a log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.errors import StaffError
from coalitionletter.models import (
    EMAIL_MAX,
    NAME_MAX,
    StaffAccount,
    StaffLink,
    StaffRole,
    StaffSession,
    utcnow,
)
from coalitionletter.signon import tokens
from coalitionletter.signon.states import staff_actor

PASSWORD_MIN = 12
PASSWORD_MAX = 1024
SET_PASSWORD_PATH = "/staff/set-password/"  # noqa: S105 - a URL path, not a password
_HASHER = PasswordHasher()
# Checked against when no account matches, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


@dataclass(frozen=True)
class AccountView:
    """What `staff list` and the console show of an account (never its hash)."""

    id: int
    name: str
    email: str
    role: str
    state: str  # active, awaiting password, disabled
    last_login_at: datetime | None


@dataclass(frozen=True)
class IssuedLink:
    """A fresh one-time link: the URL to hand over once, and when it stops working."""

    account: AccountView
    url: str
    expires_at: datetime


def email_key(email: str) -> str:
    """The form of an address accounts are found by (trimmed, casefolded)."""
    return email.strip().casefold()


def set_password_link(base_url: str, token: str) -> str:
    """The URL of a one-time link, under the configured base URL only."""
    return f"{base_url.rstrip('/')}{SET_PASSWORD_PATH}{token}"


def _view(account: StaffAccount) -> AccountView:
    if account.disabled_at is not None:
        state = "disabled"
    elif account.password_hash is None:
        state = "awaiting password"
    else:
        state = "active"
    return AccountView(
        account.id, account.name, account.email, account.role, state, account.last_login_at
    )


def _checked_fields(name: str, email: str, role: str) -> tuple[str, str, str]:
    name, email = name.strip(), email.strip()
    if not name or len(name) > NAME_MAX:
        raise StaffError(f"The name must be 1 to {NAME_MAX} characters; nothing was added.")
    if "@" not in email or len(email) > EMAIL_MAX or any(c.isspace() for c in email):
        raise StaffError(
            f"{email!r} is not an email address. Give one such as ana@example.org; "
            "nothing was added."
        )
    if role not in {r.value for r in StaffRole}:
        choices = ", ".join(r.value for r in StaffRole)
        raise StaffError(f"The role {role!r} is not one of {choices}; nothing was added.")
    return name, email, role


def find(session: Session, email: str) -> StaffAccount:
    """The account with this email address, or a StaffError naming it."""
    account = session.scalars(
        select(StaffAccount).where(StaffAccount.email_key == email_key(email))
    ).one_or_none()
    if account is None:
        raise StaffError(
            f"There is no staff account with the email {email.strip()!r}. "
            "See `coalitionletter staff list`; nothing was changed."
        )
    return account


def _record(session: Session, kind: str, actor: str, account: StaffAccount) -> None:
    """Put an account change in the staff chain of the trail, as registry changes are."""
    events.record(
        session,
        chain=events.STAFF_CHAIN,
        kind=kind,
        actor=actor,
        detail={"account": account.id, "email": account.email, "role": account.role},
    )


def _end_links_and_sessions(session: Session, account_id: int, now: datetime) -> None:
    session.execute(
        update(StaffLink)
        .where(StaffLink.account_id == account_id, StaffLink.ended_at.is_(None))
        .values(ended_at=now)
    )
    session.execute(delete(StaffSession).where(StaffSession.account_id == account_id))


def _issue_link(
    session: Session, account: StaffAccount, base_url: str, link_hours: int, now: datetime
) -> IssuedLink:
    token = tokens.new_token()
    expires_at = now + timedelta(hours=link_hours)
    session.add(
        StaffLink(
            account_id=account.id,
            token_hash=tokens.token_hash(token),
            issued_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return IssuedLink(_view(account), set_password_link(base_url, token), expires_at)


def add(
    session: Session,
    name: str,
    email: str,
    role: str,
    *,
    actor: str,
    base_url: str,
    link_hours: int,
    now: datetime | None = None,
) -> IssuedLink:
    """Add an account without a password and issue its one-time link to set one."""
    name, email, role = _checked_fields(name, email, role)
    taken = session.scalars(
        select(StaffAccount.id).where(StaffAccount.email_key == email_key(email))
    ).first()
    if taken is not None:
        raise StaffError(
            f"There is already a staff account with the email {email!r}. "
            "Use `coalitionletter staff reset` to give it a new link; nothing was added."
        )
    now = now or utcnow()
    account = StaffAccount(
        name=name, email=email, email_key=email_key(email), role=role, created_at=now
    )
    session.add(account)
    session.flush()
    _record(session, "staff_account_added", actor, account)
    return _issue_link(session, account, base_url, link_hours, now)


def list_accounts(session: Session) -> list[AccountView]:
    """Every account, by email address."""
    accounts = session.scalars(select(StaffAccount).order_by(StaffAccount.email_key))
    return [_view(account) for account in accounts]


def disable(
    session: Session, email: str, *, actor: str, now: datetime | None = None
) -> AccountView:
    """Stop an account: it cannot sign in, its sessions and links end at once."""
    account = find(session, email)
    now = now or utcnow()
    if account.disabled_at is None:
        account.disabled_at = now
        _record(session, "staff_account_disabled", actor, account)
    _end_links_and_sessions(session, account.id, now)
    session.flush()
    return _view(account)


def reset(
    session: Session,
    email: str,
    *,
    actor: str,
    base_url: str,
    link_hours: int,
    now: datetime | None = None,
) -> IssuedLink:
    """Forget an account's password, end its sessions and links, and issue a new link."""
    account = find(session, email)
    if account.disabled_at is not None:
        raise StaffError(
            f"The account {account.email} is disabled; a disabled account stays so. "
            "Add a new account if this person needs the console again; nothing was changed."
        )
    now = now or utcnow()
    _end_links_and_sessions(session, account.id, now)
    account.password_hash = None
    _record(session, "staff_account_reset", actor, account)
    return _issue_link(session, account, base_url, link_hours, now)


def _live_link(session: Session, token: str, now: datetime) -> StaffLink | None:
    if not tokens.well_formed(token):
        return None
    link = session.scalars(
        select(StaffLink).where(StaffLink.token_hash == tokens.token_hash(token))
    ).one_or_none()
    if link is None or link.ended_at is not None or now >= link.expires_at:
        return None
    return link


def link_account(session: Session, token: str, now: datetime | None = None) -> AccountView | None:
    """The account a one-time link is for, or None when the link is unknown, used or expired."""
    link = _live_link(session, token, now or utcnow())
    if link is None:
        return None
    account = session.get(StaffAccount, link.account_id)
    if account is None or account.disabled_at is not None:
        return None
    return _view(account)


def check_new_password(password: str, confirmation: str) -> list[str]:
    """What is wrong with a new password (empty when it will do)."""
    problems = []
    if len(password) < PASSWORD_MIN:
        problems.append(f"The password must be at least {PASSWORD_MIN} characters long.")
    if len(password) > PASSWORD_MAX:
        problems.append(f"The password must be at most {PASSWORD_MAX} characters long.")
    if password != confirmation:
        problems.append("The two passwords are not the same.")
    return problems


def set_password(
    session: Session, token: str, password: str, confirmation: str, now: datetime | None = None
) -> AccountView:
    """Set the password through a one-time link, which is then used up (sessions end too)."""
    now = now or utcnow()
    link = _live_link(session, token, now)
    account = session.get(StaffAccount, link.account_id) if link else None
    if link is None or account is None or account.disabled_at is not None:
        raise StaffError(
            "This link is not valid: it was used, replaced or has expired. "
            "Ask for a new one (coalitionletter staff reset); nothing was changed."
        )
    problems = check_new_password(password, confirmation)
    if problems:
        raise StaffError(" ".join([*problems, "Nothing was changed."]))
    _end_links_and_sessions(session, account.id, now)
    account.password_hash = _HASHER.hash(password)
    _record(session, "staff_password_set", staff_actor(account.name), account)
    session.flush()
    return _view(account)


def check_password(session: Session, email: str, password: str) -> AccountView | None:
    """The account when the address and password are right and it may sign in, else None."""
    account = session.scalars(
        select(StaffAccount).where(StaffAccount.email_key == email_key(email))
    ).one_or_none()
    stored = account.password_hash if account is not None else None
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password[:PASSWORD_MAX])
    except (VerificationError, InvalidHashError):
        return None
    if account is None or stored is None or account.disabled_at is not None:
        return None
    if _HASHER.check_needs_rehash(stored):
        account.password_hash = _HASHER.hash(password)
    return _view(account)
