"""Messages as written for the server: names of any script or shape arrive as they were given."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, message_from_string
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.mail.message import Addressee, Letterhead, build_message, subject_for
from coalitionletter.settings import load_settings

SLUG = "ilp-magnitsky-2020"
TOKEN = "T" * 43


@pytest.fixture
def letterhead(founding_home: Path) -> Letterhead:
    settings = load_settings(founding_home, environ={})
    return Letterhead.for_campaign(settings, campaigns.load(settings, SLUG))


def _built(letterhead: Letterhead, organisation: str, *recipients: tuple[str | None, str]) -> bytes:
    addressee = Addressee(organisation, tuple(recipients))
    return build_message(letterhead, addressee, kind="invite", token=TOKEN, message_id="<1@x.org>")


def _parsed(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=default_policy)  # type: ignore[return-value]


def _header_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


@pytest.mark.parametrize(
    "name",
    [
        "Гүлнар Абдуллаева",
        "李伟",
        "ئۇيغۇر ئاياللار بىرلىكى",
        'Sam "The Lawyer" O\'Neil, Esq. (Chair)',
        "Back\\slash <not@an.address>",
    ],
)
def test_a_contact_name_of_any_script_or_punctuation_arrives_as_given(
    letterhead: Letterhead, name: str
) -> None:
    message = _parsed(_built(letterhead, "Org", (name, "person@org.example")))
    (to,) = message["To"].addresses
    assert to.display_name == name
    assert to.addr_spec == "person@org.example"


def _to_value(raw: bytes) -> str:
    """The To header unfolded, its encoded words decoded as RFC 2047 says (joined, no spaces).

    (The email package's own address parser puts a space between adjacent encoded
    words; mail programs join them, as the RFC asks.)
    """
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii").replace("\r\n ", " ")
    (value,) = [line[4:] for line in headers.split("\r\n") if line.startswith("To: ")]
    return str(make_header(decode_header(value)))


def test_a_long_name_is_folded_into_short_header_lines_and_arrives_whole(
    letterhead: Letterhead,
) -> None:
    name = ("Ассоциация защиты прав уйгурского народа и других тюркских народов " * 3).strip()
    raw = _built(letterhead, "Org", (name, "a@org.example"), ("Li Wei", "b@org.example"))
    assert max(len(line) for line in _header_lines(raw)) <= 78
    assert _to_value(raw) == f"{name} <a@org.example>, Li Wei <b@org.example>"


def test_every_line_ends_in_crlf_and_both_parts_decode_to_the_rendered_text(
    letterhead: Letterhead,
) -> None:
    organisation = "Canadian Friends of Hong Kong (加拿大香港之友)"
    raw = _built(letterhead, organisation, (None, "x@y.example"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    message = _parsed(raw)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f"/s/{TOKEN}" in text
    assert f"/s/{TOKEN}" in html
    assert organisation in text
    assert message["To"].addresses[0].addr_spec == "x@y.example"


def test_a_name_with_line_breaks_cannot_start_a_header_of_its_own(letterhead: Letterhead) -> None:
    raw = _built(
        letterhead, "Evil\r\nBcc: x@y", ("Evil\r\nBcc: victim@evil.example", "o@e.example")
    )
    assert not any(line.lower().startswith(b"bcc") for line in _header_lines(raw))
    message = _parsed(raw)
    assert message.get_all("Bcc") is None
    assert [a.addr_spec for a in message["To"].addresses] == ["o@e.example"]


def test_an_address_with_non_ascii_characters_is_written_for_an_smtputf8_server(
    letterhead: Letterhead,
) -> None:
    raw = _built(letterhead, "Org", ("Gülnar", "gülnar@örg.example"))
    # Such a header is UTF-8 itself (RFC 6532), as an SMTPUTF8 server takes it.
    message = message_from_string(raw.decode("utf-8"), policy=default_policy)
    (to,) = message["To"].addresses
    assert to.addr_spec == "gülnar@örg.example"
    assert to.display_name == "Gülnar"


@pytest.mark.parametrize("kind", ["invite", "remind", "reconfirm"])
def test_every_header_written_reads_back_as_the_email_package_reads_it(
    letterhead: Letterhead, kind: str
) -> None:
    sent_at = datetime(2026, 12, 3, 9, 30, 5, tzinfo=UTC)
    raw = build_message(
        letterhead,
        Addressee("Org", (("Li Wei", "li@org.example"),)),
        kind=kind,
        token=TOKEN,
        message_id="<42.abc@sign.example.org>",
        now=sent_at,
    )
    message = _parsed(raw)
    definition = letterhead.definition
    written = [line.split(b":", 1)[0].decode() for line in _header_lines(raw) if line[:1] != b" "]
    assert written == [
        "Subject", "From", "Reply-To", "To", "Message-ID", "Date", "Auto-Submitted",
        "Content-Language", "MIME-Version", "Content-Type",
    ]  # fmt: skip
    assert message["Subject"] == subject_for(kind, definition)
    (sender,) = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "International Lawyers Project",
        "campaigns@example.org",
    )
    assert message["Reply-To"].addresses[0].addr_spec == "campaigns@example.org"
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [
        ("Li Wei", "li@org.example")
    ]
    assert message["Message-ID"] == "<42.abc@sign.example.org>"
    assert message["Date"].datetime == sent_at
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "en"
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert {p["Content-Transfer-Encoding"] for p in parts} <= {"7bit", "quoted-printable"}
    assert not message.defects and not any(p.defects for p in parts)


def test_a_message_id_that_is_not_plain_is_written_by_the_email_package_on_one_header(
    letterhead: Letterhead,
) -> None:
    raw = build_message(
        letterhead,
        Addressee("Org", ((None, "x@org.example"),)),
        kind="invite",
        token=TOKEN,
        message_id="<odd id\r\nBcc: victim@evil.example@x>",
    )
    message = _parsed(raw)
    assert message.get_all("Bcc") is None
    assert len(message.get_all("Message-ID")) == 1


def test_a_non_ascii_part_is_quoted_printable_and_decodes_to_the_text(
    letterhead: Letterhead,
) -> None:
    organisation = "ئۇيغۇر ئاياللار بىرلىكى"
    raw = _built(letterhead, organisation, (None, "x@y.example"))
    plain = _parsed(raw).get_body(preferencelist=("plain",))
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert organisation in plain.get_content()


def _with_subject(letterhead: Letterhead, subject: str) -> Letterhead:
    definition = letterhead.definition
    changed = replace(definition, email=replace(definition.email, subject=subject))
    return Letterhead(changed, letterhead.environment, letterhead.base_url)


@pytest.mark.parametrize(
    "subject",
    [
        "ئۇيغۇر / 维吾尔族",
        "ئۇيغۇر / 维吾尔族 维吾尔族 维吾尔族",
        "word word word word word word word word word word word word ئۇيغۇر / 维吾尔族",
        "Joint letter on Magnitsky sanctions: ئۇيغۇر ئاياللار بىرلىكى / 维吾尔族 / Уйгуры",
    ],
)
@pytest.mark.parametrize(("kind", "prefix"), [("invite", ""), ("reconfirm", "Please reconfirm: ")])
def test_a_non_ascii_subject_decodes_with_every_space_kept(
    letterhead: Letterhead, subject: str, kind: str, prefix: str
) -> None:
    addressee = Addressee("Org", (("Li Wei", "li@org.example"),))
    raw = build_message(
        _with_subject(letterhead, subject),
        addressee,
        kind=kind,
        token=TOKEN,
        message_id="<1@x.org>",
    )
    assert max(len(line) for line in _header_lines(raw)) <= 78
    assert _parsed(raw)["Subject"] == prefix + subject
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii").replace("\r\n ", " ")
    (value,) = [line[9:] for line in headers.split("\r\n") if line.startswith("Subject: ")]
    assert str(make_header(decode_header(value))) == prefix + subject


def test_an_ascii_subject_is_written_as_plain_text(letterhead: Letterhead) -> None:
    raw = _built(letterhead, "Org", (None, "x@y.example"))
    subject = letterhead.definition.email.subject
    assert _parsed(raw)["Subject"] == subject
    assert b"=?utf-8?" not in raw.split(b"\r\n\r\n", 1)[0]


def test_the_organisation_and_lead_are_isolated_in_the_html_email(
    letterhead: Letterhead,
) -> None:
    name = "ئۇيغۇر ئاياللار بىرلىكى"
    html = _parsed(_built(letterhead, name, (None, "x@y.example")))
    body = html.get_body(preferencelist=("html",)).get_content()
    assert f"<bdi>{name}</bdi>" in body
    assert f"<bdi>{letterhead.definition.lead.name}</bdi>" in body
    assert name not in body.replace(f"<bdi>{name}</bdi>", "")
