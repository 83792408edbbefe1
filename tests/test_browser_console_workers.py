"""The console under `serve --workers 2`: one sign-in holds in both worker processes.

Each page is fetched while the other worker is paused (SIGSTOP), from a new
browser context (so a new connection) carrying the signed-in cookie: only the
running worker can accept it, so the page shows that worker honours a session
it may never have seen made. Runs on SQLite and, with COALITIONLETTER_TEST_PG,
on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fixtures_console import PASSWORD, STAFF_EMAIL, make_account
from fixtures_signon import SignOnWorkspace, serving

SLUG = "ilp-magnitsky-2020"
WORKERS = 2

# `invoke` makes the test run on PostgreSQL too when COALITIONLETTER_TEST_PG is set.
pytestmark = pytest.mark.usefixtures("invoke")


def _workers(pid: int, count: int, seconds: float = 30) -> list[int]:
    """The server's worker processes, once `count` of them have started."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if len(children) == count:
            return [int(child) for child in children]
        time.sleep(0.1)
    raise AssertionError(f"serve did not start {count} workers in {seconds} s")


@contextmanager
def _only(worker: int, workers: list[int]) -> Iterator[None]:
    """Pause every worker but `worker` while the block runs."""
    paused = [w for w in workers if w != worker]
    for other in paused:
        os.kill(other, signal.SIGSTOP)
    try:
        yield
    finally:
        for other in paused:
            os.kill(other, signal.SIGCONT)


def _fresh_page(browser: Any, state: dict[str, Any]) -> Any:
    """A page in a new context (its own connections) holding the given cookies."""
    return browser.new_context(storage_state=state).new_page()


@pytest.mark.slow
@pytest.mark.browser
def test_a_sign_in_holds_in_both_workers_and_a_sign_out_ends_it_in_both(
    signon_workspace: SignOnWorkspace, own_browser
) -> None:
    from playwright.sync_api import expect

    workspace = signon_workspace
    make_account(workspace.settings, workspace.database, STAFF_EMAIL, name="Ana Lima")
    with serving(workspace, WORKERS) as server:
        workers = _workers(server.process.pid, WORKERS)
        browser = own_browser
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/staff/login")
        page.fill("#email", STAFF_EMAIL)
        page.fill("#password", PASSWORD)
        page.click("button:text('Sign in')")
        expect(page.locator("h1")).to_have_text("Campaigns")
        signed_in = context.storage_state()

        for worker in workers:
            with _only(worker, workers):
                other = _fresh_page(browser, signed_in)
                other.goto(f"{server.url}/staff/")
                expect(other.locator("h1")).to_have_text("Campaigns")
                expect(other.locator(".who")).to_have_text("Ana Lima (staff)")
                other.goto(f"{server.url}/staff/c/{SLUG}")
                expect(other.locator("h1")).to_contain_text("Magnitsky")
                other.context.close()

        page.click("button:text('Sign out')")
        expect(page.locator("h1")).to_have_text("Sign in")
        for worker in workers:
            with _only(worker, workers):
                other = _fresh_page(browser, signed_in)  # the cookie from before signing out
                other.goto(f"{server.url}/staff/")
                expect(other.locator("h1")).to_have_text("Sign in")
                other.context.close()
        browser.close()
