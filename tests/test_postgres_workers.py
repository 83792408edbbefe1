"""`serve --workers 4` on PostgreSQL: answers racing through four processes, nothing lost."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from coalitionletter import events
from coalitionletter.db import Database
from coalitionletter.models import Event, Invitation
from fixtures_letters import copy_campaign
from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    SLUG,
    CaptureHandler,
    add_organisations,
    clean_env,
    free_port,
    run_cli,
    stop_process,
    wait_for_port,
    write_config,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
WORKERS = 4
POSTS_PER_ORGANISATION = 6
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
TEXT_HASH = re.compile(r'name="text_hash" value="([0-9a-f]{64})"')
EMAILS = {name: contacts[0][1] for name, contacts in ORGANISATIONS}
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Served:
    """A workspace on PostgreSQL, served by gunicorn workers, with one link per organisation."""

    url: str
    database: Database
    links: list[tuple[int, str]]  # (organisation id, sign-on URL), one per organisation
    process: subprocess.Popen[bytes]
    log: Path

    def errors_logged(self) -> list[str]:
        """Lines of the server's log that speak of an error."""
        text = self.log.read_text(errors="replace")
        return [line for line in text.splitlines() if "Traceback" in line or "ERROR" in line]


def _worker_count(process: subprocess.Popen[bytes]) -> int:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return len(children)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, postgres_server) -> Iterator[Served]:
    """The founding campaign on PostgreSQL, five organisations invited, four workers serving.

    One server for the module (starting four workers costs seconds); each test
    answers for organisations no other test answers for.
    """
    home = tmp_path_factory.mktemp("workers") / "workspace"
    copy_campaign(home, SLUG)
    name = postgres_server.new_database(migrated=False)
    pg_url = postgres_server.url_for(name)
    handler = CaptureHandler()
    mail = Controller(handler, hostname="127.0.0.1", port=free_port())
    mail.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    write_config(home, mail.port, base_url=url, db_url=pg_url)  # no secret_key: it is shared
    assert run_cli(home, "init").returncode == 0
    database = Database(pg_url)
    ids = add_organisations(database, ORGANISATIONS)
    invited = run_cli(home, "invite", SLUG, *[f"--org={i}" for i in ids.values()])
    assert invited.returncode == 0, invited.stderr
    links = []
    for organisation_name, organisation_id in ids.items():
        base, token = handler.for_address(EMAILS[organisation_name])[-1].link()
        links.append((organisation_id, f"{base}/s/{token}"))
    log = home.parent / "serve.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "coalitionletter", "--home", str(home),
                "serve", "--port", str(port), "--workers", str(WORKERS),
            ],
            stdout=log_file, stderr=subprocess.STDOUT, env=clean_env(),
        )  # fmt: skip
    try:
        wait_for_port(port, process, seconds=30)  # type: ignore[arg-type]
        yield Served(url, database, links, process, log)
    finally:
        stop_process(process, seconds=20)
        mail.stop()
        database.dispose()
        postgres_server.drop(name)


def _form(link: str) -> dict[str, str]:
    page = httpx.get(link, headers={"User-Agent": BROWSER_AGENT}, timeout=30)
    assert page.status_code == 200, page.text
    return {"csrf": CSRF.search(page.text).group(1), "text_hash": TEXT_HASH.search(page.text)[1]}


def _at_once(calls: list) -> list:  # type: ignore[type-arg]
    """Run the calls in threads released together; return their results in order."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except httpx.HTTPError as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _confirm(link: str, form: dict[str, str], signer: str):  # type: ignore[no-untyped-def]
    data = {
        **form,
        "action": "confirm",
        "signer_name": signer,
        "signer_title": "Director",
        "listing": "public",
        "authorised": "yes",
    }
    return lambda: httpx.post(link, data=data, headers={"User-Agent": BROWSER_AGENT}, timeout=60)


def test_every_worker_signs_forms_with_the_same_shared_key(served: Served) -> None:
    _, link = served.links[0]  # only looked at, never answered
    pages = _at_once([lambda: _form(link)] * (WORKERS * 4))

    assert _worker_count(served.process) == WORKERS
    assert len({page["csrf"] for page in pages}) == 1
    assert served.errors_logged() == []


def test_concurrent_confirmations_through_four_workers_lose_nothing(served: Served) -> None:
    answering = served.links[2:]
    forms = {org: _form(link) for org, link in answering}
    calls = [
        _confirm(link, forms[org], f"Signer {attempt}")
        for org, link in answering
        for attempt in range(POSTS_PER_ORGANISATION)
    ]
    responses = _at_once(calls)

    statuses = Counter(getattr(r, "status_code", repr(r)) for r in responses)
    assert statuses == {303: len(calls)}, statuses
    with served.database.reading() as session:
        states = dict(session.execute(select(Invitation.organisation_id, Invitation.state)).all())
        chain = events.campaign_chain(SLUG)
        confirmed = Counter(
            session.scalars(
                select(Event.organisation_id).where(Event.chain == chain, Event.kind == "confirmed")
            )
        )
        assert events.verify(session, chain) == []
    assert all(states[org] == "confirmed" for org, _ in answering)
    assert all(confirmed[org] == 1 for org, _ in answering)  # each answer recorded once
    assert served.errors_logged() == []


def test_a_confirmation_and_a_decline_racing_through_workers_end_in_one_state(
    served: Served,
) -> None:
    org, link = served.links[1]
    form = _form(link)
    decline = {"csrf": form["csrf"], "action": "decline"}
    calls = [_confirm(link, form, "Signer")] * 4 + [
        lambda: httpx.post(link, data=decline, headers={"User-Agent": BROWSER_AGENT}, timeout=60)
    ] * 4
    responses = _at_once(calls)

    assert all(getattr(r, "status_code", None) in {200, 303} for r in responses), responses
    with served.database.reading() as session:
        state = session.scalars(select(Invitation.state).where(Invitation.organisation_id == org))
        kinds = list(
            session.scalars(
                select(Event.kind)
                .where(Event.organisation_id == org, Event.kind.in_(["confirmed", "declined"]))
                .order_by(Event.seq)
            )
        )
        assert events.verify(session, events.campaign_chain(SLUG)) == []
        final = state.one()
    assert final == {"confirmed": "confirmed", "declined": "declined"}[kinds[-1]]
    assert served.errors_logged() == []
