"""Each invitation in its contact's language, received by a real SMTP server and decoded."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup
from sqlalchemy import func, select, update

from coalitionletter.models import Contact, OutboxMessage
from fixtures_signon import ORGANISATIONS, CaptureHandler, SignOnWorkspace

SLUG = "ilp-magnitsky-2020"
EVERY_DAY = {"COALITIONLETTER_REMINDERS_INTERVAL_DAYS": "0"}
FRENCH = "aynur@uran.example"  # Uyghur Rights Advocacy Network
ENGLISH = "li@cfhk.example"  # Canadian Friends of Hong Kong
UYGHUR = "gulnar@uyghur-women.example"  # a language with no catalog
WRITTEN_SUBJECT = (
    "Invitation to sign: joint letter on Magnitsky sanctions for abuses against Uyghurs"
)


def _speak(workspace: SignOnWorkspace, languages: dict[str, str]) -> None:
    """Give contacts their languages in the registry."""
    with workspace.database.writing() as session:
        for email, language in languages.items():
            session.execute(update(Contact).where(Contact.email == email).values(language=language))


def _set_letter_toml(workspace: SignOnWorkspace, old: str, new: str) -> None:
    path = workspace.home / "letters" / SLUG / "letter.toml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def _french_only(workspace: SignOnWorkspace) -> None:
    """Make the founding campaign a French one with no other version."""
    folder = workspace.home / "letters" / SLUG
    lines = (folder / "letter.toml").read_text("utf-8").splitlines()
    kept, skipping = [], False
    for line in lines:
        if line.startswith("["):
            skipping = line in ("[languages.fr]", "[recipients.translations.fr]")
        if not skipping and not line.startswith("languages = "):
            kept.append(line)
    text = "\n".join(kept).replace('language = "en"', 'language = "fr"')
    (folder / "letter.toml").write_text(text + "\n", "utf-8")
    (folder / "body.fr.md").unlink()


def _invite_all(invoke) -> None:
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code == 0, result.output


def test_a_french_contact_gets_a_french_invitation(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    _speak(signon_workspace, {FRENCH: "fr"})
    _invite_all(invoke)
    (received,) = mailbox.for_address(FRENCH)
    text = received.text()
    assert text.startswith("Nous vous invitons à signer une lettre conjointe au nom de ")
    # The letter has a French version, which the link opens on.
    assert "La lettre est rédigée en français." in text
    assert "Lien personnel de votre organisation\u00a0:" in text
    assert "personal link" not in text
    html = BeautifulSoup(received.html(), "html.parser")
    assert html.html["lang"] == "fr"
    assert "La lettre est rédigée en français." in html.get_text()
    assert received.message["Content-Language"] == "fr"


def test_an_english_contact_gets_an_english_invitation(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    _speak(signon_workspace, {FRENCH: "fr", ENGLISH: "en"})
    _invite_all(invoke)
    (received,) = mailbox.for_address(ENGLISH)
    text = received.text()
    assert text.startswith("You are invited to sign a joint letter on behalf of ")
    assert "The letter is written in English." in text
    assert "Nous vous invitons" not in text
    assert BeautifulSoup(received.html(), "html.parser").html["lang"] == "en"
    assert received.message["Content-Language"] == "en"


def test_a_regional_tag_finds_its_language_catalog(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    _speak(signon_workspace, {FRENCH: "fr-CA"})
    _invite_all(invoke)
    (received,) = mailbox.for_address(FRENCH)
    assert "La lettre est rédigée en français." in received.text()


def test_a_language_without_a_catalog_gets_the_campaigns_language(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    _french_only(signon_workspace)
    _speak(signon_workspace, {UYGHUR: "ug", ENGLISH: "en"})
    _invite_all(invoke)
    (uyghur,) = mailbox.for_address(UYGHUR)
    (english,) = mailbox.for_address(ENGLISH)
    # No Uyghur catalog: the campaign's language, which is also the letter's.
    assert "La lettre est rédigée en français." in uyghur.text()
    # A contact with no language at all gets the campaign's language too.
    (unknown,) = mailbox.for_address("sam@jti.example")
    assert "La lettre est rédigée en français." in unknown.text()
    # Positive control: a contact whose language has a catalog keeps it.
    assert "The letter is written in French." in english.text()


def test_without_a_language_the_campaign_and_its_emails_are_english(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    assert signon_workspace.definition.language == "en"
    _invite_all(invoke)
    assert len(mailbox.received) == len(ORGANISATIONS)
    for received in mailbox.received:
        assert "The letter is written in English." in received.text()


def test_a_french_reminder_says_so_before_the_subject_staff_wrote(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    _speak(signon_workspace, {FRENCH: "fr"})
    _invite_all(invoke)
    result = invoke("remind", SLUG, env=EVERY_DAY)
    assert result.exit_code == 0, result.output
    invitation, reminder = mailbox.for_address(FRENCH)
    # The campaign's subject is sent as staff wrote it; only the words around it change.
    assert invitation.message["Subject"] == WRITTEN_SUBJECT
    # (A header is one line of plain spaces: the catalog's no-break space becomes one.)
    assert reminder.message["Subject"] == f"Rappel : {WRITTEN_SUBJECT}"
    assert reminder.text().startswith("Rappel\u00a0: nous n’avons pas encore reçu de réponse")
    (english_reminder,) = mailbox.for_address(ENGLISH)[1:]
    assert english_reminder.message["Subject"] == f"Reminder: {WRITTEN_SUBJECT}"


def test_a_default_subject_is_in_the_messages_language(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    _set_letter_toml(signon_workspace, f'subject = "{WRITTEN_SUBJECT}"', "")
    _speak(signon_workspace, {FRENCH: "fr"})
    _invite_all(invoke)
    title = signon_workspace.definition.title
    (french,) = mailbox.for_address(FRENCH)
    (english,) = mailbox.for_address(ENGLISH)
    assert french.message["Subject"] == f"Invitation à signer : {title}"
    assert english.message["Subject"] == f"Invitation to sign: {title}"


def test_an_unknown_campaign_language_is_refused_and_nothing_is_sent(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    _set_letter_toml(signon_workspace, 'language = "en"', 'language = "french"')
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code != 0
    path = Path("letters") / SLUG / "letter.toml"
    assert str(path) in result.output
    assert "language: 'french' is not a language code" in result.output
    assert '"fr"' in result.output  # says what to write instead
    assert mailbox.received == []
    with signon_workspace.database.reading() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_french_reconfirmation_is_in_french_and_shows_the_changes_as_written(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    _speak(signon_workspace, {FRENCH: "fr"})
    _invite_all(invoke)
    signed = invoke(
        "sign", SLUG, "uyghur-rights-advocacy-network", "--confirm", "--signer", "A", "--title", "B"
    )
    assert signed.exit_code == 0, signed.output
    body = signon_workspace.home / "letters" / SLUG / "body.md"
    text = body.read_text("utf-8")
    body.write_text(text.replace("Uyghur Region.", "Uyghur Region, CHANGED.", 1), "utf-8")
    result = invoke("reconfirm", SLUG)
    assert result.exit_code == 0, result.output
    (message,) = mailbox.for_address(FRENCH)[1:]
    assert message.message["Subject"] == f"Veuillez confirmer à nouveau : {WRITTEN_SUBJECT}"
    text = message.text()
    assert text.startswith("Le texte de la lettre que ")
    assert "Ce qui a changé (les mots supprimés apparaissent [-ainsi-]" in text
    assert "CHANGED.+}" in text  # the letter's own words, as written
    assert "La lettre est rédigée en anglais." in text
