"""Settings: flags over environment over coalitionletter.toml over defaults."""

from pathlib import Path

import pytest

from coalitionletter.errors import ConfigError
from coalitionletter.settings import load_settings


def test_default_database_is_signatories_db_in_the_workspace(home: Path) -> None:
    settings = load_settings(home, environ={})
    assert settings.db_url == f"sqlite:///{home / 'signatories.db'}"


def test_db_flag_accepts_a_url(home: Path) -> None:
    settings = load_settings(home, db="postgresql+psycopg://u@h/d", environ={})
    assert settings.db_url == "postgresql+psycopg://u@h/d"


def test_environment_overrides_config_file(home: Path) -> None:
    (home / "coalitionletter.toml").write_text('[web]\nbase_url = "https://file.example"\n')
    settings = load_settings(home, environ={"COALITIONLETTER_BASE_URL": "https://env.example/"})
    assert settings.base_url == "https://env.example"
    assert settings.base_url_configured


def test_base_url_defaults_to_the_serve_address(home: Path) -> None:
    settings = load_settings(home, environ={})
    assert settings.base_url == "http://127.0.0.1:8000"
    assert not settings.base_url_configured


def test_broken_config_file_names_the_file(home: Path) -> None:
    (home / "coalitionletter.toml").write_text("[web\n")
    with pytest.raises(ConfigError, match=r"coalitionletter\.toml"):
        load_settings(home, environ={})


def test_bad_number_in_environment_names_the_variable(home: Path) -> None:
    with pytest.raises(ConfigError, match="COALITIONLETTER_PORT"):
        load_settings(home, environ={"COALITIONLETTER_PORT": "eighty"})


def test_missing_workspace_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nowhere", environ={})


def test_a_relative_smtp_ca_file_is_taken_from_the_workspace(home: Path) -> None:
    (home / "coalitionletter.toml").write_text('[smtp]\nca_file = "certs/mail-ca.pem"\n')
    settings = load_settings(home, environ={})
    assert settings.smtp.ca_file == home.resolve() / "certs" / "mail-ca.pem"


def test_without_a_ca_file_the_systems_authorities_are_used(home: Path) -> None:
    assert load_settings(home, environ={}).smtp.ca_file is None


def test_the_ca_file_can_come_from_the_environment(home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "ca.pem"
    settings = load_settings(home, environ={"COALITIONLETTER_SMTP_CA_FILE": str(elsewhere)})
    assert settings.smtp.ca_file == elsewhere.resolve()
