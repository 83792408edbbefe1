"""One Settings object, read once from flags, environment and coalitionletter.toml.

Precedence: command-line flag, then environment variable, then the workspace's
`coalitionletter.toml`, then the default. Only the faces (CLI, web entry point)
pass the environment in; no core module reads `os.environ` itself.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coalitionletter.errors import ConfigError

CONFIG_FILE = "coalitionletter.toml"
DEFAULT_DB_FILE = "signatories.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# body.md larger than this is refused: a letter is a few pages, and a file of
# gigabytes (a wrong path, a paste gone wrong) would be read whole into memory.
DEFAULT_MAX_BODY_BYTES = 1_000_000

# (section, key) in the TOML file -> (environment variable, type)
_KEYS: dict[tuple[str, str], tuple[str, type]] = {
    ("database", "url"): ("COALITIONLETTER_DB", str),
    ("web", "base_url"): ("COALITIONLETTER_BASE_URL", str),
    ("web", "host"): ("COALITIONLETTER_HOST", str),
    ("web", "port"): ("COALITIONLETTER_PORT", int),
    ("web", "secret_key"): ("COALITIONLETTER_SECRET_KEY", str),
    ("web", "trust_proxy"): ("COALITIONLETTER_TRUST_PROXY", bool),
    ("smtp", "host"): ("COALITIONLETTER_SMTP_HOST", str),
    ("smtp", "port"): ("COALITIONLETTER_SMTP_PORT", int),
    ("smtp", "security"): ("COALITIONLETTER_SMTP_SECURITY", str),
    ("smtp", "user"): ("COALITIONLETTER_SMTP_USER", str),
    ("smtp", "timeout"): ("COALITIONLETTER_SMTP_TIMEOUT", float),
    ("smtp", "ca_file"): ("COALITIONLETTER_SMTP_CA_FILE", str),
    ("staff", "name"): ("COALITIONLETTER_STAFF_NAME", str),
    ("reminders", "max"): ("COALITIONLETTER_REMINDERS_MAX", int),
    ("reminders", "interval_days"): ("COALITIONLETTER_REMINDERS_INTERVAL_DAYS", int),
    ("letters", "max_body_bytes"): ("COALITIONLETTER_MAX_BODY_BYTES", int),
    ("console", "enabled"): ("COALITIONLETTER_CONSOLE_ENABLED", bool),
    ("console", "link_hours"): ("COALITIONLETTER_CONSOLE_LINK_HOURS", int),
    ("console", "idle_minutes"): ("COALITIONLETTER_CONSOLE_IDLE_MINUTES", int),
    ("console", "base_url"): ("COALITIONLETTER_CONSOLE_BASE_URL", str),
}
SMTP_PASSWORD_ENV = "COALITIONLETTER_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a secret
SMTP_SECURITY_CHOICES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how outgoing mail is handed over."""

    host: str | None = None
    port: int = 587
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    # A private certificate authority's PEM file, trusted instead of the system's ones.
    ca_file: Path | None = None


@dataclass(frozen=True)
class ConsoleSettings:
    """The staff console under /staff of `serve`."""

    enabled: bool = True
    # How long a one-time link to set a password stays usable.
    link_hours: int = 48
    # A signed-in session ends after this long without a request.
    idle_minutes: int = 30
    # The console's own address when `serve --staff-address` puts it there ("" when it
    # lives under /staff of [web] base_url): one-time password links use it.
    base_url: str = ""


def _console(values: dict[tuple[str, str], Any]) -> ConsoleSettings:
    """The console's settings, refusing durations that could not work."""
    console = ConsoleSettings(
        enabled=values.get(("console", "enabled"), True),
        link_hours=values.get(("console", "link_hours"), 48),
        idle_minutes=values.get(("console", "idle_minutes"), 30),
        base_url=(values.get(("console", "base_url")) or "").rstrip("/"),
    )
    for key in ("link_hours", "idle_minutes"):
        if getattr(console, key) < 1:
            raise ConfigError(
                f"[console] {key} is {getattr(console, key)}; it must be 1 or more. "
                "Fix it in coalitionletter.toml or the environment."
            )
    return console


@dataclass(frozen=True)
class Settings:
    """Everything configurable, resolved once and passed down."""

    home: Path
    db_url: str
    base_url: str
    base_url_configured: bool = False
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    secret_key: str | None = field(default=None, repr=False)
    trust_proxy: bool = False
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    staff_name: str = "staff"
    reminders_max: int = 2
    reminders_interval_days: int = 7
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    console: ConsoleSettings = field(default_factory=ConsoleSettings)

    @property
    def console_url(self) -> str:
        """The address the console is reached at: [console] base_url, else [web] base_url."""
        return self.console.base_url or self.base_url

    @property
    def letters_dir(self) -> Path:
        """Folder holding one sub-folder per campaign."""
        return self.home / "letters"

    @property
    def templates_dir(self) -> Path:
        """The workspace's own template folder (searched before the packaged defaults)."""
        return self.home / "templates"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an embedded SQLite file."""
        return self.db_url.startswith("sqlite")


def database_url(value: str, home: Path) -> str:
    """Turn a --db value (a file path or a SQLAlchemy URL) into a URL."""
    if "://" in value:
        return value
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = home / path
    return f"sqlite:///{path}"


def _read_file(home: Path) -> dict[str, Any]:
    path = home / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}. Fix the file's TOML syntax and run again.") from exc
    except RecursionError as exc:
        raise ConfigError(
            f"{path}: arrays or tables are nested too deeply to read. Fix the file and run again."
        ) from exc


def _convert(raw: Any, kind: type, where: str) -> Any:
    if kind is bool and isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{where}: {raw!r} is not true or false.")
    try:
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {raw!r} is not a valid {kind.__name__}.") from exc


def _resolve(
    file_values: dict[str, Any], environ: Mapping[str, str], home: Path
) -> dict[tuple[str, str], Any]:
    resolved: dict[tuple[str, str], Any] = {}
    for (section, key), (env_name, kind) in _KEYS.items():
        if env_name in environ and environ[env_name] != "":
            resolved[section, key] = _convert(environ[env_name], kind, env_name)
            continue
        section_values = file_values.get(section, {})
        if isinstance(section_values, dict) and key in section_values:
            where = f"{home / CONFIG_FILE} [{section}] {key}"
            resolved[section, key] = _convert(section_values[key], kind, where)
    return resolved


def _path_in(home: Path, value: str | None) -> Path | None:
    """A path from the settings, relative ones taken from the workspace."""
    return (home / Path(value).expanduser()).resolve() if value else None


def load_settings(
    home: Path | str | None = None,
    db: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve the settings for a workspace from flags, environment and config file."""
    environ = environ or {}
    home_path = Path(home or environ.get("COALITIONLETTER_HOME") or ".").expanduser().resolve()
    if not home_path.is_dir():
        raise ConfigError(
            f"The workspace {home_path} does not exist. "
            "Create it, or pass --home with an existing folder."
        )
    values = _resolve(_read_file(home_path), environ, home_path)
    db_value = db or values.get(("database", "url")) or DEFAULT_DB_FILE
    host = values.get(("web", "host"), DEFAULT_HOST)
    port = values.get(("web", "port"), DEFAULT_PORT)
    base_url = values.get(("web", "base_url"))
    security = values.get(("smtp", "security"), "starttls").lower()
    if security not in SMTP_SECURITY_CHOICES:
        raise ConfigError(
            f"SMTP security {security!r} is not one of {', '.join(SMTP_SECURITY_CHOICES)}."
        )
    smtp = SmtpSettings(
        host=values.get(("smtp", "host")),
        port=values.get(("smtp", "port"), 465 if security == "ssl" else 587),
        security=security,
        user=values.get(("smtp", "user")),
        password=environ.get(SMTP_PASSWORD_ENV) or None,
        timeout=values.get(("smtp", "timeout"), 30.0),
        ca_file=_path_in(home_path, values.get(("smtp", "ca_file"))),
    )
    max_body_bytes = values.get(("letters", "max_body_bytes"), DEFAULT_MAX_BODY_BYTES)
    if max_body_bytes <= 0:
        raise ConfigError(
            f"[letters] max_body_bytes must be a positive number of bytes, not {max_body_bytes}."
        )
    return Settings(
        home=home_path,
        db_url=database_url(db_value, home_path),
        base_url=(base_url or f"http://{host}:{port}").rstrip("/"),
        base_url_configured=base_url is not None,
        host=host,
        port=port,
        secret_key=values.get(("web", "secret_key")),
        trust_proxy=values.get(("web", "trust_proxy"), False),
        smtp=smtp,
        staff_name=values.get(("staff", "name"), "staff"),
        reminders_max=values.get(("reminders", "max"), 2),
        reminders_interval_days=values.get(("reminders", "interval_days"), 7),
        max_body_bytes=max_body_bytes,
        console=_console(values),
    )
