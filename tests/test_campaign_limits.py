"""letter.toml and body.md that would crash or deceive: each refused with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.errors import CampaignError, ConfigError
from coalitionletter.settings import DEFAULT_MAX_BODY_BYTES, load_settings
from fixtures_letters import MINIMAL_TOML, write_campaign

SLUG = "test-letter"


def _load(home: Path, environ: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return campaigns.load(load_settings(home, environ=environ or {}), SLUG)


def test_a_letter_toml_nested_thousands_deep_names_the_file(home: Path) -> None:
    deep = MINIMAL_TOML + "\n[extra]\nx = " + "[" * 5000 + "]" * 5000 + "\n"
    folder = write_campaign(home, toml=deep)
    with pytest.raises(CampaignError) as caught:
        _load(home)
    assert str(caught.value).startswith(f"{folder / 'letter.toml'}: ")
    assert "nested too deeply" in str(caught.value)


def test_a_deeply_nested_letter_toml_ends_the_command_in_one_line(home: Path, invoke) -> None:
    deep = MINIMAL_TOML.replace(
        'closing = "Yours sincerely,"', "closing = " + "{a = " * 5000 + "1" + "}" * 5000
    )
    folder = write_campaign(home, toml=deep)
    result = invoke("init")
    assert result.exit_code == 1
    assert "nested too deeply" in result.output
    assert str(folder / "letter.toml") in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("character", "label"),
    [
        ("\x00", "U+0000"),
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("\u200b", "U+200B ZERO WIDTH SPACE"),
    ],
)
def test_a_control_or_bidi_character_in_a_text_field_names_the_file_line_and_field(
    home: Path, character: str, label: str
) -> None:
    escaped = f"\\u{ord(character):04X}"  # TOML cannot hold a raw NUL; its escape it can
    toml = MINIMAL_TOML.replace('title = "A test letter"', f'title = "A test{escaped} letter"')
    folder = write_campaign(home, toml=toml)
    with pytest.raises(CampaignError) as caught:
        _load(home)
    message = str(caught.value)
    assert message.startswith(f"{folder / 'letter.toml'}:1: title: has the character {label}")
    assert "position 7" in message


def test_a_bidi_control_in_an_address_line_is_refused(home: Path) -> None:
    toml = MINIMAL_TOML.replace('"London SW1A 2AH"', '"London \\u202eSW1A 2AH"')
    folder = write_campaign(home, toml=toml)
    with pytest.raises(CampaignError, match=r"address_lines: has the character U\+202E") as caught:
        _load(home)
    assert str(caught.value).startswith(f"{folder / 'letter.toml'}:")


def test_joiners_and_plain_right_to_left_text_are_kept(home: Path) -> None:
    # ZWNJ is part of Persian and Uyghur spelling: refusing it would refuse real names.
    name = "ئۇيغۇر\u200cئاياللار"
    write_campaign(home, toml=MINIMAL_TOML.replace("International Lawyers Project", name))
    assert _load(home).lead.name == name


def test_a_body_over_the_limit_names_the_file_and_the_setting(home: Path) -> None:
    folder = write_campaign(home, body="Words. " * (DEFAULT_MAX_BODY_BYTES // 7 + 1))
    with pytest.raises(CampaignError) as caught:
        _load(home)
    message = str(caught.value)
    assert message.startswith(f"{folder / 'body.md'}: the body is larger than 1,000,000 bytes")
    assert "[letters] max_body_bytes" in message


def test_a_body_just_under_the_limit_is_read(home: Path) -> None:
    body = "Words. " * ((DEFAULT_MAX_BODY_BYTES - 1) // 7)
    write_campaign(home, body=body)
    assert len(_load(home).body_source.encode()) <= DEFAULT_MAX_BODY_BYTES


def test_the_body_limit_is_configurable(home: Path) -> None:
    write_campaign(home, body="A short letter, but longer than forty bytes in all.\n")
    (home / "coalitionletter.toml").write_text("[letters]\nmax_body_bytes = 40\n")
    with pytest.raises(CampaignError, match="larger than 40 bytes"):
        _load(home)
    assert _load(home, {"COALITIONLETTER_MAX_BODY_BYTES": "4000"}).body_source


def test_a_body_limit_of_zero_is_refused(home: Path) -> None:
    (home / "coalitionletter.toml").write_text("[letters]\nmax_body_bytes = 0\n")
    with pytest.raises(ConfigError, match="max_body_bytes must be a positive number"):
        load_settings(home, environ={})


def test_a_deeply_nested_configuration_file_names_the_file(home: Path) -> None:
    (home / "coalitionletter.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply") as caught:
        load_settings(home, environ={})
    assert str(home / "coalitionletter.toml") in str(caught.value)


def test_a_raw_nul_byte_in_letter_toml_names_the_file_and_line(home: Path) -> None:
    toml = MINIMAL_TOML.replace('closing = "Yours sincerely,"', 'closing = "Yours\x00 sincerely,"')
    folder = write_campaign(home, toml=toml)
    with pytest.raises(CampaignError) as caught:
        _load(home)
    assert str(caught.value).startswith(f"{folder / 'letter.toml'}: ")
    assert "line 3" in str(caught.value)
