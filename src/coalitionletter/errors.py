"""Domain errors: the core raises these, the faces (CLI, web) turn them into messages.

Every message says what is wrong, where, and what to do next, because the
person reading it is campaign staff, not a developer.
"""


class CoalitionError(Exception):
    """Base of every error the core raises on purpose."""


class ConfigError(CoalitionError):
    """The workspace, its configuration file or a flag is wrong."""


class DatabaseError(CoalitionError):
    """The database cannot be used as it is (missing, behind, unreachable)."""


class StorageError(DatabaseError):
    """A disk or database file failed under a command: damaged, full, read-only, refused."""


class SchemaBehindError(DatabaseError):
    """The database's schema is older than this version of the program."""


class RegistryError(CoalitionError):
    """A registry operation was refused (bad value, duplicate, unknown organisation)."""


class ImportFileError(RegistryError):
    """A CSV import was refused; carries every problem found, each with file and line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        count = len(problems)
        head = f"{count} problem{'s' if count != 1 else ''} found; nothing was imported:"
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]))


class CampaignError(CoalitionError):
    """A campaign definition (letter.toml, body.md) is missing or invalid."""


class RenderError(CoalitionError):
    """A letter or sheet could not be rendered (template, glyphs, blocked resource)."""


class SignOnError(CoalitionError):
    """A sign-on decision or invitation change was refused."""


class MailError(CoalitionError):
    """Email could not be built or delivered."""
