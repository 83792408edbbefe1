"""Sign-on fixtures: a real SMTP server, a campaign with contacts, a live `serve`."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.db import Database
from coalitionletter.models import Contact, Organisation
from coalitionletter.names import default_sort_name, name_key, slugify
from coalitionletter.settings import Settings, load_settings

SLUG = "ilp-magnitsky-2020"
LINK = re.compile(r"(https?://[^\s<>\"]+)/s/([A-Za-z0-9_-]{43})")
BROWSER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
# The headers of a browser following a link (the page tells browsers from link scanners).
HUMAN = {"User-Agent": BROWSER_AGENT}

# Organisations of the test coalition: (name, [(contact name, email)]).
ORGANISATIONS = [
    ("Uyghur Rights Advocacy Network", [("Aynur Tursun", "aynur@uran.example")]),
    ("Canadian Friends of Hong Kong (加拿大香港之友)", [("Li Wei", "li@cfhk.example")]),
    ("ئۇيغۇر ئاياللار بىرلىكى", [("Gulnar Abdulla", "gulnar@uyghur-women.example")]),
    (
        "Evil\r\nBcc: x@y Org",
        [("Evil\r\nBcc: victim@evil.example", "office@evil-org.example")],
    ),
    ("Justice & <Truth> Initiative", [("Sam O'Neil", "sam@jti.example")]),
]
# Who confirms for the first organisation in the tests that do not care who.
SIGNER = {
    "signer_name": "Aynur Tursun",
    "signer_title": "Director",
    "display_name": ORGANISATIONS[0][0],
}


@dataclass
class Received:
    """One message as the SMTP server took it."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes

    def text(self) -> str:
        """The plain-text part."""
        return self.message.get_body(preferencelist=("plain",)).get_content()

    def html(self) -> str:
        """The HTML part."""
        return self.message.get_body(preferencelist=("html",)).get_content()

    def link(self) -> tuple[str, str]:
        """(base URL, token) of the sign-on link in the text."""
        found = LINK.search(self.text())
        assert found, self.text()
        return found.group(1), found.group(2)


@dataclass
class CaptureHandler:
    """aiosmtpd handler that keeps every message and can misbehave on cue."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    fail_data_at: int | None = None  # answer "421" to this DATA (1-based)
    block_at: int | None = None  # take this message, then hang before answering
    data_count: int = 0
    blocked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_count += 1
        if self.fail_data_at == self.data_count:
            return "421 4.3.2 Service shutting down, try again later"
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=default_policy)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, raw))
        if self.block_at == self.data_count:
            self.blocked.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        return "250 OK"

    def for_address(self, address: str) -> list[Received]:
        """The messages whose envelope includes this address."""
        return [r for r in self.received if address in r.recipients]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, CaptureHandler]]:
    """A real SMTP server on loopback, capturing what it receives."""
    handler = CaptureHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    handler.release.set()
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Controller, CaptureHandler]) -> CaptureHandler:
    """The captured messages of the SMTP server."""
    return smtp_server[1]


@dataclass
class SignOnWorkspace:
    """A workspace with the founding campaign, organisations with contacts, and mail set up."""

    home: Path
    settings: Settings
    database: Database
    organisations: dict[str, int]  # name -> id
    emails: dict[str, list[str]]  # name -> contact addresses
    env: dict[str, str]
    db_url: str | None = None  # None: the workspace's SQLite file

    @property
    def definition(self) -> CampaignDefinition:
        """The campaign as its files define it now."""
        return campaigns.load(self.settings, SLUG)

    def reload(self) -> None:
        """Read the settings again (after the config file changed)."""
        self.settings = load_settings(self.home, environ={})


def write_config(
    home: Path, smtp_port: int, base_url: str | None = None, db_url: str | None = None
) -> None:
    """A coalitionletter.toml pointing mail at the test server (and at db_url if given)."""
    lines = [
        "[smtp]",
        'host = "127.0.0.1"',
        f"port = {smtp_port}",
        'security = "none"',
        "timeout = 10",
        "[staff]",
        'name = "Test Coordinator"',
    ]
    if base_url:
        lines = ["[web]", f'base_url = "{base_url}"', *lines]
    if db_url:
        lines = ["[database]", f'url = "{db_url}"', *lines]
    (home / "coalitionletter.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def add_organisations(
    database: Database, organisations: list[tuple[str, list[tuple[str, str]]]]
) -> dict[str, int]:
    """Put organisations and their contacts in the registry; return their ids by name."""
    ids: dict[str, int] = {}
    with database.writing() as session:
        for name, contacts in organisations:
            organisation = Organisation(
                slug=slugify(name) or f"org-{len(ids) + 1}",
                name=name,
                name_key=name_key(name),
                sort_name=default_sort_name(name),
            )
            organisation.contacts = [
                Contact(name=person, email=email, email_key=email.lower())
                for person, email in contacts
            ]
            session.add(organisation)
            session.flush()
            ids[name] = organisation.id
    return ids


@pytest.fixture
def signon_workspace(
    founding_home: Path,
    smtp_server: tuple[Controller, CaptureHandler],
    migrated_database: Path,
    db_url: str | None,
) -> Iterator[SignOnWorkspace]:
    """The founding campaign registered, five organisations with contacts, SMTP configured.

    On the PostgreSQL run (see fixtures_postgres.py) the database URL goes into
    coalitionletter.toml, so in-process commands and `serve` subprocesses alike use it.
    """
    controller, _ = smtp_server
    write_config(founding_home, controller.port, db_url=db_url)
    settings = load_settings(founding_home, environ={})
    # Imported here: fixtures_postgres is a plugin registered after this one, and
    # importing it first would skip pytest's assertion rewriting.
    from fixtures_postgres import copy_migrated

    if db_url is None:
        copy_migrated(migrated_database, founding_home / "signatories.db")
    # On PostgreSQL db_url is a database made from the migrated template (fixtures_postgres.py).
    database = Database(settings.db_url)
    with database.writing() as session:
        campaigns.sync(session, campaigns.load(settings, SLUG))
    ids = add_organisations(database, ORGANISATIONS)
    emails = {name: [email for _, email in contacts] for name, contacts in ORGANISATIONS}
    yield SignOnWorkspace(founding_home, settings, database, ids, emails, {}, db_url)
    database.dispose()


def run_cli(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real console command in a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "coalitionletter", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(),
        check=False,
    )


def clean_env() -> dict[str, str]:
    """The environment without the developer's COALITIONLETTER_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COALITIONLETTER_")}


@dataclass
class LiveServer:
    """`coalitionletter serve` running in its own process."""

    url: str
    process: subprocess.Popen[str]


def stop_process(process: subprocess.Popen[Any], seconds: float = 10) -> None:
    """Ask a server process to stop; kill it when it has not stopped within `seconds`."""
    process.terminate()
    try:
        process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def wait_for_port(port: int, process: subprocess.Popen[str], seconds: float = 20) -> None:
    """Wait until something listens on the port (or the process died)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"serve exited early: {output}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("serve did not start listening in time")


@contextmanager
def serving(
    workspace: SignOnWorkspace, workers: int = 1, *, args: tuple[str, ...] = ()
) -> Iterator[LiveServer]:
    """Run `coalitionletter serve` on a free loopback port; emailed links point at it.

    `args`: more options for `serve` (e.g. --staff-address).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    write_config(
        workspace.home, workspace.settings.smtp.port, base_url=url, db_url=workspace.db_url
    )
    workspace.reload()
    command = [
        sys.executable, "-m", "coalitionletter", "--home", str(workspace.home),
        "serve", "--port", str(port), "--workers", str(workers), *args,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()
    )
    try:
        wait_for_port(port, process)
        yield LiveServer(url, process)
    finally:
        stop_process(process)


@pytest.fixture
def live_server(signon_workspace: SignOnWorkspace) -> Iterator[LiveServer]:
    """`coalitionletter serve` (waitress) for the workspace."""
    with serving(signon_workspace) as server:
        yield server


def invite_one(workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler, name: str) -> str:
    """Invite one organisation by email and return the token from the message it received."""
    result = invoke("invite", SLUG, "--org", str(workspace.organisations[name]))
    assert result.exit_code == 0, result.output
    address = workspace.emails[name][0]
    return mailbox.for_address(address)[-1].link()[1]


@pytest.fixture
def token(signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler) -> str:
    """The first organisation's personal link, invited by email (a test file may define its own)."""
    return invite_one(signon_workspace, invoke, mailbox, ORGANISATIONS[0][0])


def csrf_of(client, token: str) -> str:  # type: ignore[no-untyped-def]
    """The form key on the page a browser gets from a link."""
    headers = {"User-Agent": BROWSER_AGENT}
    page = BeautifulSoup(client.get(f"/s/{token}", headers=headers).text, "html.parser")
    return page.find("input", attrs={"name": "csrf"})["value"]


def confirm_form(client, token: str, **overrides: str | None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The confirmation a person sends from a link's page (None in `overrides` leaves one out)."""
    headers = {"User-Agent": BROWSER_AGENT}
    page = BeautifulSoup(client.get(f"/s/{token}", headers=headers).text, "html.parser")
    form = {
        "csrf": page.find("input", attrs={"name": "csrf"})["value"],
        "action": "confirm",
        "text_hash": page.find("input", attrs={"name": "text_hash"})["value"],
        "signer_name": "Li Wei",
        "signer_title": "Chair",
        # As a browser sends it: the name the page fills in, unless a test changes it.
        "display_name": page.find("input", attrs={"name": "display_name"})["value"],
        "listing": "public",
        "authorised": "yes",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


PAST_DEADLINE = "2020-08-14T17:00:00+01:00"


def set_deadline(home: Path, when: str = PAST_DEADLINE) -> None:
    """Write a deadline into the founding campaign's letter.toml (replacing one there)."""
    letter = home / "letters" / SLUG / "letter.toml"
    text = re.sub(r"(?m)^deadline = .*\n", "", letter.read_text("utf-8"))
    letter.write_text(f"deadline = {when}\n" + text, encoding="utf-8")


def confirm(client, token: str, **overrides: str | None):  # type: ignore[no-untyped-def]
    """Send the confirmation from a link's page and check that it was taken (303)."""
    response = client.post(f"/s/{token}", data=confirm_form(client, token, **overrides))
    assert response.status_code == 303, response.text
    return response


@pytest.fixture
def web_client(signon_workspace: SignOnWorkspace):  # type: ignore[no-untyped-def]
    """Flask's test client for the sign-on app of the workspace."""
    from coalitionletter.web.app import create_app

    app = create_app(signon_workspace.settings, signon_workspace.database)
    return app.test_client()


def start_console_send(workspace: SignOnWorkspace, actor: str):  # type: ignore[no-untyped-def]
    """Press Send for every organisation not yet invited, as the console does; the run started."""
    from coalitionletter.mail import background
    from coalitionletter.signon import invitations

    with workspace.database.writing() as session:
        definition = campaigns.load_current(workspace.settings, session, SLUG)
        _, started = background.start(
            session,
            SLUG,
            what="invitation(s)",
            actor=actor,
            queue=lambda: invitations.invite(
                session, definition, refs=[], everyone=True, actor=actor
            ),
        )
    return started


@pytest.fixture
def senders_end(signon_workspace: SignOnWorkspace) -> Iterator[None]:
    """Wait for any background sender (a console page wakes one) to end before the database goes."""
    yield
    for thread in threading.enumerate():
        if thread.name == "sender":
            thread.join(30)
            assert not thread.is_alive(), "a background send did not end"
