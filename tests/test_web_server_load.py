"""The server stays up: idle and trickling connections do not stop it answering others.

Each test holds a bounded number of connections open to a real `serve` on
127.0.0.1 (some send nothing, some send a request a byte at a time), then asks
for a page as a normal client does: it must be answered within a second.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    CaptureHandler,
    SignOnWorkspace,
    invite_one,
    serving,
)

TRICKLE = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200


@contextmanager
def held_connections(port: int, idle: int, trickling: int) -> Iterator[None]:
    """Open `idle` silent connections and `trickling` ones sending a byte every 0.5 s."""
    stop = threading.Event()
    with ExitStack() as stack:
        for _ in range(idle):
            stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=2))
        slow = [
            stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=2))
            for _ in range(trickling)
        ]

        def trickle() -> None:
            for byte in TRICKLE:
                for connection in slow:
                    with contextlib.suppress(OSError):  # the server may drop a trickler
                        connection.send(bytes([byte]))
                if stop.wait(0.5):
                    return

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        stack.callback(sender.join, 2)
        stack.callback(stop.set)
        time.sleep(0.6)  # every trickler is part-way through its request line
        yield


def _time_a_page(url: str) -> float:
    """Seconds a normal visitor waits for the sign-on page (the probe gives up after 3)."""
    started = time.monotonic()
    try:
        response = httpx.get(url, headers={"User-Agent": BROWSER_AGENT}, timeout=3)
    except httpx.TimeoutException:
        return float("inf")
    assert response.status_code == 200
    return time.monotonic() - started


def _warm_up(url: str, answers: int) -> None:
    """Wait until the workers have booted: `answers` pages in a row each served within 1 s."""
    deadline = time.monotonic() + 30
    quick = 0
    while quick < answers:
        assert time.monotonic() < deadline, "the server never answered quickly"
        quick = quick + 1 if _time_a_page(url) < 1 else 0


@pytest.fixture
def token(signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler) -> str:
    return invite_one(signon_workspace, invoke, mailbox, ORGANISATIONS[0][0])


@pytest.mark.parametrize(
    ("workers", "idle"),
    [
        (1, 150),
        pytest.param(2, 20, marks=pytest.mark.slow),  # gunicorn starts and stops in ~6 s
        pytest.param(4, 20, marks=pytest.mark.slow),
    ],
)
def test_idle_and_trickling_connections_do_not_keep_a_visitor_waiting(
    signon_workspace: SignOnWorkspace, token: str, workers: int, idle: int
) -> None:
    with serving(signon_workspace, workers=workers) as server:
        port = int(server.url.rsplit(":", 1)[1])
        _warm_up(f"{server.url}/s/{token}", answers=2 * workers)  # positive control: it serves
        with held_connections(port, idle=idle, trickling=10):
            waited = _time_a_page(f"{server.url}/s/{token}")
        assert waited < 1, f"a visitor waited {waited:.2f} s behind {idle} idle connections"


def test_serve_shows_the_reverse_proxy_shape_and_no_open_host(invoke) -> None:
    result = invoke("serve", "--help")
    assert result.exit_code == 0, result.output
    assert "reverse proxy" in result.output
    assert "127.0.0.1" in result.output
    assert "0.0.0.0" not in result.output
