"""Email: building each invitation message as the bytes handed to the mail server.

A campaign's messages differ only in their recipients, link, Message-ID and
date, so what they share (templates, sender, subject) is prepared once per
campaign in `Letterhead` and each message is written straight to bytes.
Building one with the `email` package's object model cost about 2 ms (most of
it parsing and refolding headers), several times the SMTP exchange itself;
writing the MIME structure here costs a tenth of that. The email package still
folds what is made once per campaign, and any header too unusual for the
direct path below (a non-ASCII address, a line that would be too long).

Header injection: every value from outside (names, subject, sender) goes
through `header_text`, which turns control characters and line breaks into
spaces, and addresses on the direct path must be plain dot-atoms.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, Template, TemplateError

from coalitionletter import catalogs
from coalitionletter.campaigns.definition import CampaignDefinition, LanguageVersion
from coalitionletter.errors import MailError
from coalitionletter.models import utcnow
from coalitionletter.settings import Settings
from coalitionletter.signon import tokens

KINDS = ("invite", "remind", "reconfirm")
CRLF = "\r\n"
MAX_LINE = 78  # RFC 5322's recommended line length, as the email package folds to
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# An address the direct path writes as it is: a dot-atom local part and an ASCII domain.
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>")


def header_text(value: str) -> str:
    """A value made safe for one header line: control characters and newlines become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _address(name: str | None, email: str) -> Address:
    username, _, domain = email.rpartition("@")
    return Address(display_name=header_text(name or ""), username=username, domain=domain)


def sender_address(definition: CampaignDefinition) -> tuple[str, str]:
    """The campaign's sender as (display name, address), or a MailError saying what to set."""
    name, address = parseaddr(header_text(definition.email.sender))
    if not address or "@" not in address:
        raise MailError(
            f"letters/{definition.slug}/letter.toml: [email] sender is not set to an address "
            '(e.g. sender = "Campaign <campaigns@example.org>"). Set it and run again.'
        )
    return name, address


def subject_for(
    kind: str,
    definition: CampaignDefinition,
    language: str = catalogs.SOURCE_LANGUAGE,
    folders: tuple[Path, ...] = (catalogs.PACKAGED,),
) -> str:
    """The subject line in the message's language: reminders and reconfirmations say so first.

    A subject staff wrote in letter.toml is kept as written; only the words around it
    (and the default subject, when none is written) are translated.
    """
    words = catalogs.translations(language, folders)
    subject = header_text(definition.email.subject)
    if not definition.email.subject_written:
        subject = words.ugettext("Invitation to sign: %(title)s") % {
            "title": header_text(definition.title)
        }
    if kind == "remind":
        return str(words.ugettext("Reminder: %(subject)s") % {"subject": subject})
    if kind == "reconfirm":
        return str(words.ugettext("Please reconfirm: %(subject)s") % {"subject": subject})
    return subject


def _folded(name: str, value: Any, policy: Any = SMTP) -> str:
    """One header written by the email package: parsed, encoded and folded (about 0.1-2 ms)."""
    return policy.header_factory(name, value).fold(policy=policy)


def subject_header(subject: str) -> str:
    """The Subject header, every space kept: non-ASCII text as RFC 2047 words written here.

    Python 3.11's folder drops or doubles a space where it folds between encoded
    words ("ئۇيغۇر / 维吾尔族 维吾尔族" arrived as "... 维吾尔族维吾尔族 ..."), so a
    subject that needs encoding is encoded whole, its spaces inside the encoded
    words, and folded between them, where a reader ignores the folding space (as
    the To header's names are).
    """
    subject = header_text(subject)
    if subject.isascii():
        return _folded("Subject", subject)
    words = Header(subject, "utf-8", maxlinelen=MAX_LINE, header_name="Subject")
    return f"Subject: {words.encode(linesep=CRLF)}{CRLF}"


@dataclass(frozen=True)
class Letterhead:
    """What every message of a campaign shares: its words, who sends them, fixed headers."""

    definition: CampaignDefinition
    environment: Environment
    base_url: str
    folders: tuple[Path, ...] = (catalogs.PACKAGED,)  # where the catalogs are looked for
    _templates: dict[str, Template] = field(default_factory=dict, compare=False, repr=False)
    _headers: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def for_campaign(cls, settings: Settings, definition: CampaignDefinition) -> Letterhead:
        """The message context for a campaign, with its template overrides."""
        from coalitionletter.render import make_environment

        environment = make_environment(settings.templates_dir, definition.directory)
        # One batch, one version of each template: no file check per message (or per
        # `extends`), which cost a sixth of building one.
        environment.auto_reload = False
        return cls(
            definition, environment, settings.base_url, catalogs.catalog_folders(settings.home)
        )

    def template(self, name: str) -> Template:
        """A template compiled once per batch (Jinja would check its file on every use)."""
        if name not in self._templates:
            self._templates[name] = self.environment.get_template(name)
        return self._templates[name]

    def language_for(self, addressee: Addressee) -> str:
        """The message's language: its contacts' where a catalog exists, else the campaign's."""
        return catalogs.best_language(addressee.languages, self.folders, self.definition.language)

    def fixed_headers(self, kind: str, language: str = catalogs.SOURCE_LANGUAGE) -> str:
        """Subject, From and Reply-To of a kind of message in a language, folded once per batch."""
        key = f"{kind}:{language}"
        if key not in self._headers:
            definition = self.definition
            sender_name, sender = sender_address(definition)
            headers = subject_header(subject_for(kind, definition, language, self.folders))
            headers += _folded("From", _address(sender_name, sender))
            reply_to = parseaddr(header_text(definition.email.reply_to))[1]
            if reply_to and "@" in reply_to:
                headers += _folded("Reply-To", _address(None, reply_to))
            self._headers[key] = headers
        return self._headers[key]


@dataclass(frozen=True)
class Addressee:
    """One message's organisation and the people it goes to."""

    organisation_name: str
    recipients: tuple[tuple[str | None, str], ...]  # (person's name, address)
    # The recipients' languages as the registry holds them, in the same order.
    languages: tuple[str | None, ...] = ()


def build_message(
    letterhead: Letterhead,
    addressee: Addressee,
    *,
    kind: str,
    token: str,
    message_id: str,
    changes: str | None = None,
    now: datetime | None = None,
    text_hash: str | None = None,
) -> bytes:
    """The email for one organisation, as sent: plain text with an HTML alternative."""
    definition = letterhead.definition
    language = letterhead.language_for(addressee)
    # A reconfirmation is about the version whose words changed; others open on the reader's.
    asked = definition.version_of(text_hash) if kind == "reconfirm" else None
    shown = asked or _version_in(definition, language)
    context: dict[str, Any] = {
        "kind": kind,
        "language": language,
        # The version the link opens on: the message's language where the letter has one.
        "letter_language": shown.language,
        # One line, as in the headers: a name never breaks the layout of a message.
        "organisation": header_text(addressee.organisation_name),
        "link": tokens.link(letterhead.base_url, token),
        "title": shown.title,
        "lead": definition.lead.name,
        "deadline": definition.deadline,
        # The deadline in the campaign's zone, named (the `moment` filter reads it).
        "time_zone": definition.time_zone,
        "changes": changes,
    }
    try:
        text = letterhead.template(f"email/{kind}.txt").render(context)
        html = letterhead.template(f"email/{kind}.html").render(context)
    except TemplateError as exc:
        raise MailError(
            f"The email template for {kind!r} failed: {exc}. Fix it and run again."
        ) from exc
    headers = (
        letterhead.fixed_headers(kind, language)
        + to_header(addressee.recipients)
        + _message_id_header(message_id)
        + f"Date: {format_datetime(now or utcnow())}{CRLF}"
        # Ask auto-responders and list software to stay out of a personal exchange.
        + f"Auto-Submitted: auto-generated{CRLF}"
        # The language the message is written in (RFC 3282), as a catalog chose it.
        + f"Content-Language: {language}{CRLF}"
    )
    return headers.encode("utf-8") + _alternatives(text, html)


def to_header(recipients: tuple[tuple[str | None, str], ...]) -> str:
    """The To header, one mailbox a line; the email package writes what is unusual."""
    mailboxes = [_mailbox(name, email) for name, email in recipients]
    if all(mailboxes):
        header = "To: " + f",{CRLF} ".join(m for m in mailboxes if m) + CRLF
        if all(len(line) <= MAX_LINE for line in header.split(CRLF)):
            return header
    value = [_address(name, email) for name, email in recipients]
    international = not all(email.isascii() for _, email in recipients)
    return _folded("To", value, SMTPUTF8 if international else SMTP)


def _mailbox(name: str | None, email: str) -> str | None:
    """`name <address>` ready for a header, or None where the email package must write it."""
    if not PLAIN_ADDRESS.fullmatch(email):
        return None
    name = header_text(name or "")
    if not name:
        return email
    if name.isascii():
        return formataddr((name, email))  # quoted and escaped where the name needs it
    # RFC 2047 encoded words of at most 75 characters, folded between them.
    words = Header(name, "utf-8", maxlinelen=MAX_LINE - 5).encode(linesep=CRLF)
    last = words.rsplit(CRLF, 1)[-1]
    gap = " " if len(last) + len(email) + 3 <= MAX_LINE else f"{CRLF} "
    return f"{words}{gap}<{email}>"


def _message_id_header(message_id: str) -> str:
    if _MESSAGE_ID.fullmatch(message_id):
        return f"Message-ID: {message_id}{CRLF}"
    return _folded("Message-ID", header_text(message_id))


def _alternatives(text: str, html: str) -> bytes:
    """The MIME body: multipart/alternative of the plain text and the HTML."""
    plain, rich = _part(text, "plain"), _part(html, "html")
    while True:
        # "=_" cannot occur in a quoted-printable part ("=" is always encoded there).
        boundary = f"=_{secrets.token_hex(12)}"
        if boundary.encode("ascii") not in plain + rich:
            break
    delimiter = f"--{boundary}{CRLF}".encode("ascii")
    return b"".join(
        [
            b"MIME-Version: 1.0\r\n",
            f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}{CRLF}'.encode(),
            delimiter,
            plain,
            delimiter,
            rich,
            f"--{boundary}--{CRLF}".encode("ascii"),
        ]
    )


def _part(text: str, subtype: str) -> bytes:
    """One text part, 7bit when it is short-lined ASCII, quoted-printable otherwise."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    raw = text.encode("utf-8")
    if raw.isascii() and max(map(len, raw.split(b"\n"))) <= MAX_LINE:
        encoding, body = "7bit", raw
    else:
        encoding, body = "quoted-printable", binascii.b2a_qp(raw, istext=True)
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}"
    )
    return head.encode("ascii") + body.replace(b"\n", b"\r\n")


def _version_in(definition: CampaignDefinition, language: str) -> LanguageVersion:
    """The letter's version in `language` (or its base, "fr" for "fr-CA"), else the campaign's."""
    for code in (language, language.split("-", maxsplit=1)[0]):
        if code in definition.languages:
            return definition.version(code)
    return definition.default_version
