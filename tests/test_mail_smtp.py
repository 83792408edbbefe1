"""Invitations by email, received by a real SMTP server on loopback and parsed."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from sqlalchemy import select

from coalitionletter.models import Event, Invitation, OutboxMessage
from coalitionletter.signon import links
from fixtures_signon import (
    ORGANISATIONS,
    CaptureHandler,
    SignOnWorkspace,
    free_port,
    write_config,
)

SLUG = "ilp-magnitsky-2020"
EVIL = "Evil\r\nBcc: x@y Org"


def _outbox_states(workspace: SignOnWorkspace) -> list[str]:
    with workspace.database.reading() as session:
        return list(session.scalars(select(OutboxMessage.state).order_by(OutboxMessage.id)))


def test_each_organisation_receives_exactly_one_invitation(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code == 0, result.output
    for name, _contacts in ORGANISATIONS:
        for address in signon_workspace.emails[name]:
            assert len(mailbox.for_address(address)) == 1, name
    assert len(mailbox.received) == len(ORGANISATIONS)
    assert _outbox_states(signon_workspace) == ["sent"] * len(ORGANISATIONS)


def test_each_link_opens_its_own_organisations_invitation(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    invoke("invite", SLUG, "--all")
    for name, contacts in ORGANISATIONS:
        (received,) = mailbox.for_address(contacts[0][1])
        base, token = received.link()
        assert base == signon_workspace.settings.base_url
        with signon_workspace.database.reading() as session:
            access = links.find_by_token(session, token)
        assert access is not None
        assert access.organisation_id == signon_workspace.organisations[name]


def test_a_hostile_name_cannot_add_a_header_or_a_recipient(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    invoke("invite", SLUG, "--all")
    (received,) = mailbox.for_address("office@evil-org.example")
    assert received.recipients == ["office@evil-org.example"]
    assert received.message.get_all("Bcc") is None
    headers = received.raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].split(b"\n")
    assert not any(line.lower().startswith(b"bcc:") for line in headers)
    (to,) = received.message["To"].addresses
    assert to.addr_spec == "office@evil-org.example"
    assert "\n" not in to.display_name and "\r" not in to.display_name
    assert received.message["Subject"] == signon_workspace.definition.email.subject


def test_names_in_other_scripts_arrive_intact_in_both_parts(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    invoke("invite", SLUG, "--all")
    (chinese,) = mailbox.for_address("li@cfhk.example")
    (uyghur,) = mailbox.for_address("gulnar@uyghur-women.example")
    assert "Canadian Friends of Hong Kong (加拿大香港之友)" in chinese.text()
    assert "ئۇيغۇر ئاياللار بىرلىكى" in uyghur.text()
    assert "ئۇيغۇر ئاياللار بىرلىكى" in uyghur.html()
    assert chinese.message["To"].addresses[0].display_name == "Li Wei"


def test_markup_in_a_name_is_escaped_in_the_html_part(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    invoke("invite", SLUG, "--all")
    (received,) = mailbox.for_address("sam@jti.example")
    assert "Justice &amp; &lt;Truth&gt; Initiative" in received.html()
    assert "<Truth>" not in received.html()
    assert "Justice & <Truth> Initiative" in received.text()


def test_sender_and_reply_to_come_from_the_campaign(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    invoke("invite", SLUG, "--org", str(signon_workspace.organisations[ORGANISATIONS[0][0]]))
    (received,) = mailbox.received
    email = signon_workspace.definition.email
    assert received.message["From"].addresses[0].addr_spec in email.sender
    assert received.message["Reply-To"].addresses[0].addr_spec == email.reply_to
    assert received.message["Message-ID"]
    assert received.message.get_body(preferencelist=("html",)) is not None


def test_inviting_again_sends_nothing_new(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    invoke("invite", SLUG, "--all")
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code == 0, result.output
    assert "already invited" in result.output
    assert len(mailbox.received) == len(ORGANISATIONS)


def test_an_organisation_that_already_answered_is_not_invited(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    name = ORGANISATIONS[0][0]
    org_id = str(signon_workspace.organisations[name])
    signed = invoke("sign", SLUG, org_id, "--decline")
    assert signed.exit_code == 0, signed.output
    result = invoke("invite", SLUG, "--all")
    assert f"Skipped {name}: already answered (declined)" in result.output
    assert mailbox.for_address(signon_workspace.emails[name][0]) == []
    assert len(mailbox.received) == len(ORGANISATIONS) - 1


def test_outbox_writes_one_eml_file_per_organisation_and_sends_nothing(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "outbox"
    result = invoke("invite", SLUG, "--all", "--outbox", str(folder))
    assert result.exit_code == 0, result.output
    files = sorted(folder.glob("*.eml"))
    assert len(files) == len(ORGANISATIONS)
    assert mailbox.received == []
    parsed = message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert "/s/" in parsed.get_body(preferencelist=("plain",)).get_content()
    assert _outbox_states(signon_workspace) == ["sent"] * len(ORGANISATIONS)


def test_outbox_says_it_wrote_the_messages_and_where(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "outbox"
    result = invoke("invite", SLUG, "--all", "--outbox", str(folder))
    assert result.exit_code == 0, result.output
    assert f"Wrote {len(ORGANISATIONS)} messages to {folder}." in result.output
    assert "Sent " not in result.output
    assert "written: " in result.output  # the progress lines too


def test_the_trail_records_outbox_messages_as_written_not_sent(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke, tmp_path: Path
) -> None:
    invoke("invite", SLUG, "--all", "--outbox", str(tmp_path / "outbox"))
    with signon_workspace.database.reading() as session:
        kinds = list(session.scalars(select(Event.kind)))
    assert kinds.count("written to outbox file") == len(ORGANISATIONS)
    assert "sent" not in kinds


def test_the_trail_records_mail_handed_to_the_server_as_sent(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    invoke("invite", SLUG, "--all")
    with signon_workspace.database.reading() as session:
        kinds = list(session.scalars(select(Event.kind)))
    assert kinds.count("sent") == len(ORGANISATIONS)


def test_a_refused_recipient_is_named_by_organisation_and_the_command_fails(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    mailbox.refuse.add("li@cfhk.example")
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code != 0
    assert "refused" in result.output
    assert "Canadian Friends of Hong Kong (加拿大香港之友): li@cfhk.example (550" in result.output
    assert len(mailbox.received) == len(ORGANISATIONS) - 1
    assert sorted(_outbox_states(signon_workspace)) == ["failed"] + ["sent"] * 4


def test_without_an_smtp_server_nothing_is_queued(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    (signon_workspace.home / "coalitionletter.toml").write_text("", encoding="utf-8")
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code != 0
    assert "No SMTP server is configured" in result.output
    assert "--outbox DIR" in result.output
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(Invitation)).all() == []
        assert session.scalars(select(OutboxMessage)).all() == []


def test_loopback_links_are_warned_about(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    result = invoke("invite", SLUG, "--all")
    assert "works only on this machine" in result.output


def test_progress_is_shown_per_message(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    result = invoke("invite", SLUG, "--all")
    assert "[1/5] sent:" in result.output
    assert "[5/5] sent:" in result.output


def test_an_unreachable_server_sends_nothing_and_a_rerun_sends_everything_once(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    real_port = signon_workspace.settings.smtp.port
    write_config(signon_workspace.home, free_port(), db_url=signon_workspace.db_url)
    failed = invoke("invite", SLUG, "--all")
    assert failed.exit_code != 0
    assert "Cannot connect to the SMTP server 127.0.0.1:" in failed.output
    assert "running again sends every queued message" in failed.output
    assert _outbox_states(signon_workspace) == ["queued"] * len(ORGANISATIONS)
    write_config(signon_workspace.home, real_port, db_url=signon_workspace.db_url)
    rerun = invoke("invite", SLUG, "--all")
    assert rerun.exit_code == 0, rerun.output
    assert len(mailbox.received) == len(ORGANISATIONS)


def test_eml_files_are_readable_only_by_their_owner(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "outbox"
    invoke("invite", SLUG, "--all", "--outbox", str(folder))
    assert {path.stat().st_mode & 0o777 for path in folder.glob("*.eml")} == {0o600}


def test_a_public_base_url_brings_no_warning_and_is_used_in_the_links(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    env = {"COALITIONLETTER_BASE_URL": "https://sign.example.org"}
    result = invoke("invite", SLUG, "--all", env=env)
    assert "works only on this machine" not in result.output
    assert mailbox.received[0].link()[0] == "https://sign.example.org"


def test_a_template_that_cannot_be_rendered_fails_its_message_and_stops_before_sending(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    override = signon_workspace.definition.directory / "templates" / "email" / "invite.txt"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text("Dear {{ no_such_field }},\n", encoding="utf-8")

    result = invoke("invite", SLUG, "--all")

    assert result.exit_code != 0
    assert "could not build the message" in result.output
    assert "no_such_field" in result.output
    assert "4 message(s) are still queued" in result.output
    assert mailbox.received == []
    assert _outbox_states(signon_workspace) == ["failed"] + ["queued"] * 4


def test_inviting_everyone_again_counts_the_skipped_instead_of_listing_them(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    invoke("invite", SLUG, "--all")
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code == 0, result.output
    count = len(ORGANISATIONS)
    assert f"Skipped {count} organisations: {count} already invited." in result.output
    assert "Skipped Uyghur Rights Advocacy Network" not in result.output
    assert len(mailbox.received) == count
