"""Responses the server software makes itself, without the app, carry the security headers."""

from __future__ import annotations

import socket

import httpx
import pytest

from fixtures_signon import SignOnWorkspace, serving

EXPECTED = {
    "content-security-policy": "default-src 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
# What waitress answers itself: a broken request line, a body it will not read, a huge header.
RAW_REQUESTS = {
    400: b"NOT A REQUEST LINE\r\n\r\n",
    413: b"POST /s/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n",
    431: b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
}


def _send(port: int, raw: bytes) -> tuple[int, dict[str, str]]:
    """The status and headers the server answers a raw request with."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(raw)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(4096)
            if not chunk:
                break
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(head[0].split()[1]), headers


@pytest.mark.parametrize(
    "workers", [1, pytest.param(2, marks=pytest.mark.slow)], ids=["waitress", "gunicorn"]
)
def test_the_servers_own_error_responses_carry_the_security_headers(
    signon_workspace: SignOnWorkspace, workers: int
) -> None:
    with serving(signon_workspace, workers=workers) as server:
        port = int(server.url.rsplit(":", 1)[1])
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200  # booted
        # Positive control: the app's own 404 page, through the same raw client.
        status, headers = _send(port, b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status == 404
        assert all(value in headers[name] for name, value in EXPECTED.items())
        for expected_status, raw in RAW_REQUESTS.items():
            status, headers = _send(port, raw)
            assert status == expected_status, raw[:40]
            for name, value in EXPECTED.items():
                assert value in headers.get(name, ""), (expected_status, name, headers)
            assert "server" not in headers
