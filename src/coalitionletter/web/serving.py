"""Serving the sign-on app: waitress in one process, or in each of gunicorn's worker processes.

Waitress reads requests in its event loop and hands a thread only a request it
has read whole, so a client that connects and sends nothing, or sends a byte at
a time, holds one of `CONNECTION_LIMIT` connections and never a thread.
gunicorn's own workers do not: a sync worker is held by one such client, a
gthread worker's thread by a trickling one. So `serve --workers N` runs gunicorn
for its process management (forking, restarting, signals) with a worker class
whose every process runs waitress on gunicorn's listening socket.

Waitress makes some responses itself, without the app (a malformed request, a
header or body over its limits): these carry the app's security headers too.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import warnings
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.workers.base import Worker
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

from coalitionletter.errors import ConfigError
from coalitionletter.settings import Settings
from coalitionletter.web.app import (
    MAX_POST_BYTES,
    create_app,
    create_console_app,
    security_headers,
)

log = logging.getLogger(__name__)

# Connections one process keeps open at once. Past it waitress stops accepting until
# some close, so a client holding this many open stops the pages: in production a
# reverse proxy in front (README, "Serving") takes the slow and idle clients instead.
CONNECTION_LIMIT = 1000
# A connection that sends nothing for this long is closed (checked every CLEANUP_SECONDS).
IDLE_SECONDS = 30
CLEANUP_SECONDS = 5
# Waitress reads a whole request before the app sees it, spilling a large body to a
# temporary file: refuse a body the app would refuse anyway (413) before reading it.
MAX_BODY_BYTES = 2 * MAX_POST_BYTES
MAX_HEADER_BYTES = 32 * 1024
THREADS = 8

# Waitress 3 sends each write at once (send_bytes 1). Under 50 concurrent clients its
# main loop then took about half the GIL and confirmations ran at about 100/s; buffering
# up to 18,000 bytes (waitress 2's default) ran them at about 350/s, the trivial POST
# unchanged (B8, py-spy --gil). Deprecated but still honoured, so only where it exists.
WAITRESS_SEND_BYTES = 18_000


def waitress_options() -> dict[str, Any]:
    """The waitress adjustments both ways of serving use."""
    options: dict[str, Any] = {
        "threads": THREADS,
        "ident": "",
        "connection_limit": CONNECTION_LIMIT,
        # poll(), not select(): select cannot watch a descriptor numbered over 1023.
        "asyncore_use_poll": True,
        "channel_timeout": IDLE_SECONDS,
        "cleanup_interval": CLEANUP_SECONDS,
        "max_request_body_size": MAX_BODY_BYTES,
        "max_request_header_size": MAX_HEADER_BYTES,
    }
    if hasattr(Adjustments, "send_bytes"):
        options["send_bytes"] = WAITRESS_SEND_BYTES
    return options


def _channel_class(headers: dict[str, str]) -> type[HTTPChannel]:
    """Waitress's connection class, whose own error responses carry `headers`."""

    class HeadedErrorTask(ErrorTask):
        def execute(self) -> None:
            self.response_headers.extend(headers.items())
            super().execute()

    class HeadedChannel(HTTPChannel):
        error_task_class = HeadedErrorTask

    return HeadedChannel


def make_server(app: Flask, settings: Settings, **where: Any) -> Any:
    """A waitress server for the app, on host and port or on given `sockets`."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "send_bytes", DeprecationWarning)
        server = create_server(app, **waitress_options(), **where)
    channel = _channel_class(security_headers(settings))
    for listener in _listeners(server):
        listener.channel_class = channel
    return server


def _listeners(server: Any) -> list[BaseWSGIServer]:
    """The server's listening sockets' dispatchers."""
    # One listening socket gives the server itself, several a MultiSocketServer over a map.
    if isinstance(server, BaseWSGIServer):
        return [server]
    return [each for each in list(server.map.values()) if isinstance(each, BaseWSGIServer)]


Address = tuple[str, int]


def _resolved(where: Address) -> set[tuple[str, int]]:
    """Every (address, port) a host name and port listen on."""
    import socket

    found = socket.getaddrinfo(where[0], where[1], type=socket.SOCK_STREAM)
    return {(str(info[4][0]), int(info[4][1])) for info in found}


def serve_console_on(server: Any, console: Flask, where: Address) -> None:
    """Answer connections to the staff address with the console app alone.

    Each of waitress's listening sockets calls its own `application`; only the
    one bound to `where` gets the console, so it is never reached elsewhere.
    """
    wanted = _resolved(where)
    listeners = [
        each for each in _listeners(server) if tuple(each.socket.getsockname()[:2]) in wanted
    ]
    if not listeners:
        raise ConfigError(
            f"No listening socket is bound to the staff address {where[0]}:{where[1]}; "
            "give --staff-address as an address of this machine, e.g. 10.8.0.1:8443."
        )
    for listener in listeners:
        listener.application = console


def _listen(*places: Address) -> str:
    """Waitress's `listen` value for some (host, port) pairs (an IPv6 host in brackets)."""
    return " ".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in places)


class WaitressWorker(Worker):
    """A gunicorn worker process that serves with waitress on gunicorn's listening socket."""

    def run(self) -> None:
        """Serve until gunicorn stops this worker, telling the arbiter it is alive."""
        sockets = [listener.sock for listener in self.sockets]
        server = make_server(self.wsgi, self.app.settings, sockets=sockets)
        staff = getattr(self.app, "staff_address", None)
        if staff is not None:
            serve_console_on(server, create_console_app(self.app.settings), staff)
        loop = threading.Thread(target=server.run, name="waitress", daemon=True)
        loop.start()
        while self.alive and loop.is_alive() and self.ppid == os.getppid():
            self.notify()
            # The signal handlers wake this through gunicorn's pipe.
            ready, _, _ = select.select([self.PIPE[0]], [], [], 1.0)
            if ready:
                os.read(self.PIPE[0], 64)
        self._stop(server)

    def _stop(self, server: Any) -> None:
        """Stop accepting, let the requests under way finish (up to graceful_timeout)."""
        listeners = _listeners(server)
        listeners[0].trigger.pull_trigger(lambda: _stop_listening(listeners))
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=self.cfg.graceful_timeout)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and _unsent(listeners):
            time.sleep(0.05)


def _stop_listening(listeners: list[BaseWSGIServer]) -> None:
    """Close the listening sockets (run in waitress's loop, which owns them)."""
    for listener in listeners:
        listener.accepting = False
        listener.close()


def _unsent(listeners: list[BaseWSGIServer]) -> bool:
    """True while a connection still has response bytes to send."""
    return any(
        channel.total_outbufs_len
        for listener in listeners
        for channel in list(listener.active_channels.values())
    )


def resume_sends(settings: Settings) -> None:
    """Go on, in the background, with a console send a stopped server left unfinished.

    `mail/background.py` sends only what is still queued, and leaves a send that
    a live process (another worker) holds to it, so nothing goes twice.
    """
    if not settings.console.enabled:
        return
    from coalitionletter.db import Database
    from coalitionletter.mail import background
    from coalitionletter.mail.transport import SmtpTransport

    database = Database(settings.db_url)
    if not background.unfinished(database):
        database.dispose()
        return
    background.Sender(database, settings, lambda: SmtpTransport(settings.smtp)).wake()


def serve_waitress(
    settings: Settings, *, host: str, port: int, staff: Address | None = None
) -> None:
    """Run the app under waitress in this process until it is stopped.

    With `staff`, the console is served there alone and not under /staff of host:port.
    """
    app = create_app(settings, console_elsewhere=staff is not None)
    if staff is None:
        server = make_server(app, settings, host=host, port=port)
    else:
        server = make_server(app, settings, listen=_listen((host, port), staff))
        serve_console_on(server, create_console_app(settings), staff)
    resume_sends(settings)
    logging.basicConfig()  # as waitress.serve does: its queue warnings reach stderr
    server.print_listen("Serving on http://{}:{}")
    server.run()


def run(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    staff: Address | None = None,
) -> None:
    """Serve the app under waitress (one process) or gunicorn with waitress workers.

    `staff`: the console's own (host, port), or None to serve it under /staff.
    """
    if workers <= 1:
        serve_waitress(settings, host=host, port=port, staff=staff)
        return

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.settings = settings  # for the workers' own error responses' headers
            self.staff_address = staff  # each worker serves the console there
            binds = [f"{host}:{port}"] if staff is None else _listen((host, port), staff).split()
            self.cfg.set("bind", binds)
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", WaitressWorker)
            self.cfg.set("accesslog", None)  # an access log would hold every token
            self.cfg.set("timeout", 60)
            # gunicorn 27 otherwise puts a control socket at one path per user
            # (~/.gunicorn/gunicorn.ctl), so a second server on the machine collides.
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Flask:
            app = create_app(settings, console_elsewhere=staff is not None)
            resume_sends(settings)  # in each worker, after the fork: one of them takes it
            return app

    _Gunicorn().run()
