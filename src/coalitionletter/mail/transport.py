"""Where messages are handed over: an SMTP server, or a folder of .eml files.

Handing a message over is split in steps so that the sending loop can use
the server's time (it is another process): `begin` sends MAIL FROM and the
loop commits the message's claim while the server answers; `envelope` reads
that answer and does RCPT and DATA up to the server's go-ahead (none of which
delivers anything); `data` sends the message and its final dot, the hand-over
itself; and `outcome` reads whether the server took it, while the loop builds
the next message meanwhile (see sending.py). `cancel` drops a message begun.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
import time
from pathlib import Path
from typing import Protocol

from coalitionletter.errors import MailError
from coalitionletter.faults import explain
from coalitionletter.mail.message import PLAIN_ADDRESS
from coalitionletter.private_files import private_folder, write_private
from coalitionletter.settings import SmtpSettings

# A server that accepted a message this recently needs no NOOP to prove it is still there:
# the round trip cost as much as a quarter of each message's time on a fast server.
ANSWERED_RECENTLY_S = 1.0
Refused = dict[str, tuple[int, bytes]]
_LEADING_DOT = re.compile(rb"(?m)^\.")


class NotHandedOver(MailError):
    """The connection failed before the message's data was sent: the server cannot have it."""


class Transport(Protocol):
    """Somewhere messages are handed over: an SMTP server or a folder of .eml files."""

    # What handing a message over is called, on screen ("sent", "written") and in the trail.
    shown: str
    trail_kind: str

    def open(self) -> None: ...
    def alive(self) -> bool: ...
    def begin(self, sender: str, recipients: list[str], size: int) -> None: ...
    def envelope(self, sender: str, recipients: list[str]) -> None: ...
    def cancel(self) -> None: ...
    def data(self, message: bytes, name: str) -> None: ...
    def outcome(self) -> Refused: ...
    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection for a whole batch, with a timeout on every step."""

    shown = "sent"
    trail_kind = "sent"

    def __init__(self, smtp: SmtpSettings) -> None:
        if not smtp.host:
            raise MailError(
                "No SMTP server is configured. Set [smtp] host in coalitionletter.toml "
                "(or COALITIONLETTER_SMTP_HOST), or pass --outbox DIR to write .eml files."
            )
        if smtp.user and not smtp.password:
            raise MailError(
                f"[smtp] user is {smtp.user!r} but no password is set. Put it in the "
                "environment variable COALITIONLETTER_SMTP_PASSWORD and run again."
            )
        self.smtp = smtp
        self._tls = _tls_context(smtp)
        self._connection: smtplib.SMTP | None = None
        self._answered_at = float("-inf")  # when the server last answered a whole exchange
        self._refused: Refused = {}
        self._in_data = False  # the server waits for a message's data
        self._begun: Exception | None = None  # what went wrong sending MAIL FROM

    def open(self) -> None:
        """Connect, secure the connection as configured, and log in."""
        smtp = self.smtp
        where = f"{smtp.host}:{smtp.port}"
        connection: smtplib.SMTP | None = None
        try:
            connection = self._connect()
            if smtp.security == "starttls":
                connection.starttls(context=self._tls)
            if smtp.user:
                connection.login(smtp.user, smtp.password or "")
            connection.ehlo_or_helo_if_needed()
        except smtplib.SMTPAuthenticationError as exc:
            _close_quietly(connection)
            raise MailError(
                f"The SMTP server {where} refused the login for {smtp.user!r}. Check [smtp] "
                "user and COALITIONLETTER_SMTP_PASSWORD. Nothing was sent."
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(connection)
            hint = (
                " If the server's certificate comes from your own certificate authority, set "
                "[smtp] ca_file to that authority's PEM file."
                if isinstance(exc, ssl.SSLCertVerificationError) and smtp.ca_file is None
                else ""
            )
            raise MailError(
                f"Cannot connect to the SMTP server {where} ({exc}). Check [smtp] host, port "
                "and security; nothing was sent, and running again sends every queued message."
                + hint
            ) from exc
        self._connection = connection
        self._answered_at = time.monotonic()

    def _connect(self) -> smtplib.SMTP:
        smtp = self.smtp
        if smtp.security == "ssl":
            return smtplib.SMTP_SSL(
                smtp.host or "",
                smtp.port,
                timeout=smtp.timeout,
                context=self._tls,
            )
        return smtplib.SMTP(smtp.host or "", smtp.port, timeout=smtp.timeout)

    def alive(self) -> bool:
        """True when the server still answers (checked before each message is claimed)."""
        if self._connection is None:
            return False
        if time.monotonic() - self._answered_at < ANSWERED_RECENTLY_S:
            return True
        try:
            answered = self._connection.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            return False
        if answered:
            self._answered_at = time.monotonic()
        return answered

    def begin(self, sender: str, recipients: list[str], size: int) -> None:
        """Send MAIL FROM and let the server work on it; `envelope` reads its answer.

        Never raises: a failure here is raised by `envelope`, so the caller's work in
        between (committing the message's claim) always happens.
        """
        self._begun = None
        connection = self._connection
        if connection is None:
            self._begun = NotHandedOver("The SMTP connection is not open.")
            return
        try:
            connection.ehlo_or_helo_if_needed()
            options = _mail_options(connection, sender, recipients, size)
            if "SMTPUTF8" in options:
                connection.command_encoding = "utf-8"  # as smtplib's mail() does
            connection.putcmd("mail", f"FROM:{_quoted(sender)}{''.join(' ' + o for o in options)}")
        except OSError as exc:  # SMTPException is one too: a server's answer is kept as it is
            self._begun = exc if _answered(exc) else _lost_before_data(exc)

    def envelope(self, sender: str, recipients: list[str]) -> None:
        """The answer to MAIL, then RCPT and DATA, as smtplib's sendmail does, up to 354.

        Raises as sendmail would for a refused sender, recipients or DATA command
        (the server then has nothing), and NotHandedOver when the connection
        fails (nothing was sent that delivers a message).
        """
        if self._begun is not None:
            raise self._begun
        connection = self._connection
        assert connection is not None
        try:
            self._refused = _envelope(connection, sender, recipients)
        except OSError as exc:
            if _answered(exc):
                raise  # the server answered: the caller reads its answer
            raise _lost_before_data(exc) from exc
        self._in_data = True

    def cancel(self) -> None:
        """Drop the message begun (its claim went to another sender): read MAIL's answer, RSET."""
        connection = self._connection
        if self._begun is not None or connection is None:
            return
        try:
            connection.getreply()
            connection.rset()
        except (smtplib.SMTPException, OSError):
            connection.close()  # the next message finds it closed and stops the batch

    def data(self, message: bytes, name: str) -> None:
        """Hand the message over: its data and the final dot (after `envelope`)."""
        connection = self._connection
        if connection is None or not self._in_data:
            raise NotHandedOver("The SMTP server is not waiting for a message.")
        data = _LEADING_DOT.sub(b"..", message)  # the dot-stuffing smtplib's data() does
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        self._in_data = False
        connection.send(data + b".\r\n")

    def outcome(self) -> Refused:
        """Wait for the server's answer to the message just handed over.

        Returns the recipients it refused; raises SMTPDataError when it did not
        take the message, and SMTPServerDisconnected or OSError when nobody knows.
        """
        connection = self._connection
        if connection is None:
            raise smtplib.SMTPServerDisconnected("The SMTP connection is not open.")
        code, reply = connection.getreply()
        if code != 250:
            _reset(connection, code)
            raise smtplib.SMTPDataError(code, reply)
        self._answered_at = time.monotonic()
        return self._refused

    def close(self) -> None:
        """Say goodbye to the server (a failure here changes nothing already sent)."""
        if self._connection is None:
            return
        if self._in_data:
            # A QUIT now would be read as the message's text; without the final dot the
            # server delivers nothing.
            self._connection.close()
            self._connection = None
            return
        try:
            self._connection.quit()
        except (smtplib.SMTPException, OSError):
            self._connection.close()
        self._connection = None


def _answered(exc: OSError) -> bool:
    """True for an SMTP error that carries the server's answer, not a lost connection."""
    return isinstance(exc, smtplib.SMTPException) and not isinstance(
        exc, smtplib.SMTPServerDisconnected
    )


def _lost_before_data(exc: OSError) -> NotHandedOver:
    """A connection that failed before any of the message went: nothing was delivered."""
    return NotHandedOver(f"the connection was lost before the message went ({exc})")


def _mail_options(
    connection: smtplib.SMTP, sender: str, recipients: list[str], size: int
) -> list[str]:
    """MAIL FROM's options, as sendmail and send_message would give them."""
    options = []
    if connection.does_esmtp and connection.has_extn("size"):
        options.append(f"size={size}")
    if not all(address.isascii() for address in [sender, *recipients]):
        if not connection.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError(
                "the server does not accept addresses with non-ASCII characters (SMTPUTF8)"
            )
        options += ["SMTPUTF8", "BODY=8BITMIME"]
    return options


def _envelope(connection: smtplib.SMTP, sender: str, recipients: list[str]) -> Refused:
    """MAIL's answer, RCPT and DATA up to the server's 354; the recipients it refused."""
    code, reply = connection.getreply()
    if code != 250:
        _reset(connection, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: Refused = {}
    for address in recipients:
        connection.putcmd("rcpt", f"TO:{_quoted(address)}")
        code, reply = connection.getreply()
        if code not in (250, 251):
            refused[address] = (code, reply)
        if code == 421:
            connection.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(recipients):
        _reset(connection, 0)
        raise smtplib.SMTPRecipientsRefused(refused)
    connection.putcmd("data")
    code, reply = connection.getreply()
    if code != 354:
        _reset(connection, code)
        raise smtplib.SMTPDataError(code, reply)
    return refused


def _quoted(address: str) -> str:
    """<address> as smtplib's quoteaddr writes it; a plain address is not parsed again.

    (quoteaddr parses every address with email.utils, a quarter of the client's
    time per message; an address of plain characters is its own quoted form.)
    """
    return f"<{address}>" if PLAIN_ADDRESS.fullmatch(address) else smtplib.quoteaddr(address)


def _reset(connection: smtplib.SMTP, code: int) -> None:
    """After a refusal: close on 421 (the server is going away), otherwise RSET."""
    if code == 421:
        connection.close()
        return
    # A connection gone here is found by the next message, which then stops the batch.
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        connection.rset()


def _tls_context(smtp: SmtpSettings) -> ssl.SSLContext:
    """Certificates checked against the system's authorities, or only `ca_file`'s if set."""
    if smtp.ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(smtp.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise MailError(
            f"Cannot read the certificate authority in [smtp] ca_file {smtp.ca_file} ({exc}). "
            "Point it at a PEM file holding the authority that signed the mail server's "
            "certificate. Nothing was sent."
        ) from exc


def _close_quietly(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        connection.close()  # the socket only; nothing was sent on it


class FolderTransport:
    """Writes each message as an .eml file, for staff who send by hand."""

    # Nothing was mailed: the trail must not say so (staff send the files themselves).
    shown = "written"
    trail_kind = "written to outbox file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def open(self) -> None:
        """Create the folder, owner-only (its parent must exist)."""
        if not self.folder.parent.is_dir():
            raise MailError(f"The folder {self.folder.parent} does not exist. Create it first.")
        private_folder(self.folder)

    def alive(self) -> bool:
        """A folder is always ready."""
        return True

    def begin(self, sender: str, recipients: list[str], size: int) -> None:
        """A file needs no envelope."""

    def envelope(self, sender: str, recipients: list[str]) -> None:
        """A file needs no envelope."""

    def cancel(self) -> None:
        """Nothing was written."""

    def data(self, message: bytes, name: str) -> None:
        """Write the message to <folder>/<name>.eml, whole or not at all; it holds a live link."""
        try:
            write_private(self.folder / f"{name}.eml", message)
        except OSError as exc:
            # Written whole or not at all: no file means nothing went, so the
            # message can stay queued and go on the next run (a full disk freed).
            explained = explain(exc, None)
            raise NotHandedOver(str(explained) if explained else str(exc)) from exc

    def outcome(self) -> Refused:
        """A written file refuses nobody."""
        return {}

    def close(self) -> None:
        """Nothing to close."""
