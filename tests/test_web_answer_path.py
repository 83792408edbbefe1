"""The answering path's SQLite housekeeping: WAL checkpoints wait until the write lock is free."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coalitionletter.models import Invitation
from coalitionletter.web import writers as web_writers
from fixtures_signon import ORGANISATIONS, SignOnWorkspace, csrf_of, invite_one


def _decline(client, token: str) -> int:
    data = {"csrf": csrf_of(client, token), "action": "decline"}
    return client.post(f"/s/{token}", data=data).status_code


@pytest.mark.sqlite_only
def test_on_sqlite_every_nth_answer_checkpoints_the_wal_after_letting_the_lock_go(
    signon_workspace: SignOnWorkspace, invoke, mailbox, monkeypatch
) -> None:
    from coalitionletter.web.app import create_app

    tokens = [invite_one(signon_workspace, invoke, mailbox, name) for name, _ in ORGANISATIONS[:3]]
    app = create_app(signon_workspace.settings, signon_workspace.database)
    handlers = app.view_functions["decide"].__self__
    lock_held: list[bool] = []
    checkpoint = handlers.writers._checkpoint

    def watched() -> None:
        lock_held.append(handlers.writers.lock.locked())
        checkpoint()

    monkeypatch.setattr(web_writers, "CHECKPOINT_EVERY", 2)
    monkeypatch.setattr(handlers.writers, "_checkpoint", watched)
    client = app.test_client()
    assert [_decline(client, token) for token in tokens] == [303, 303, 303]
    assert lock_held == [False]  # once, at the second answer, with the lock already free
    with signon_workspace.database.reading() as session:
        states = session.scalars(select(Invitation.state)).all()
    assert sorted(states) == ["declined"] * 3
