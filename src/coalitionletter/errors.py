"""Domain errors: the core raises these, the faces (CLI, web) turn them into messages.

Every message says what is wrong, where, and what to do next, because the
person reading it is campaign staff, not a developer. A core message a page
shows is raised as Words (`N_("... %(name)s ...", name=value)`, its English
text the msgid): `str(error)` is the English the CLI prints, and `words_of`
gives the page the words to translate into its reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from coalitionletter.catalogs import N_, N_plural, Words, escaped


class _Problem(Protocol):
    """One refused value, worded for staff (registry.fields.FieldProblem)."""

    @property
    def message(self) -> str: ...

    @property
    def said(self) -> Words: ...


class CoalitionError(Exception):
    """Base of every error the core raises on purpose (its message a str, or Words)."""

    def __init__(self, message: Words | str = "", *args: object) -> None:
        super().__init__(str(message), *args)
        self.words = message if isinstance(message, Words) else escaped(str(message))


def words_of(error: BaseException) -> Words:
    """What an error says, as words a page translates (its own text when it has no Words)."""
    said = getattr(error, "words", None)
    return said if isinstance(said, Words) else escaped(str(error))


class ConfigError(CoalitionError):
    """The workspace, its configuration file or a flag is wrong."""


class DatabaseError(CoalitionError):
    """The database cannot be used as it is (missing, behind, unreachable)."""


class StorageError(DatabaseError):
    """A disk or database file failed under a command: damaged, full, read-only, refused."""


class SchemaBehindError(DatabaseError):
    """The database's schema is older than this version of the program."""


class TransferError(DatabaseError):
    """A data migration was refused, or its result did not match the source."""


class RegistryError(CoalitionError):
    """A registry operation was refused (bad value, duplicate, unknown organisation)."""


class TextError(RegistryError):
    """A value holds a character that must not be printed, or is otherwise unusable.

    `reason` ("empty", "character", "length", "no_letter") and `values` let a face
    say the same thing in its reader's language; the message is the English one.
    """

    def __init__(self, message: Words | str, reason: str = "", **values: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


class CountryError(RegistryError):
    """A value that is neither an ISO 3166-1 code nor an English country name."""


class FieldsError(RegistryError):
    """Values for add or edit were refused; every problem is in the message."""

    def __init__(self, problems: Sequence[_Problem]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(problem.message for problem in problems))


class ImportFileError(RegistryError):
    """A CSV import was refused; carries every problem found, each with file and line.

    `problems` are the English texts (as the CLI prints them), `problem_words` the
    same as words a page translates.
    """

    def __init__(self, problems: Sequence[Words | str]) -> None:
        self.problem_words = [p if isinstance(p, Words) else escaped(p) for p in problems]
        self.problems = [str(p) for p in problems]
        head = N_plural(
            "%(count)s problem found; nothing was imported:",
            "%(count)s problems found; nothing was imported:",
            len(problems),
        )
        super().__init__("\n".join([str(head), *(f"  {p}" for p in self.problems)]))


class ImportChangedError(RegistryError):
    """A checked import would now do something else: the registry changed since its dry run."""

    def __init__(self, report: object) -> None:
        self.report = report  # the new dry run (registry.importing.ImportReport)
        super().__init__(
            N_(
                "The registry changed since this file was checked, so the import would now do "
                "something else. Nothing was imported. Check the new dry run and confirm again."
            )
        )


class CampaignError(CoalitionError):
    """A campaign definition (letter.toml, body.md) is missing or invalid."""


class StaleConsentError(CampaignError):
    """Some confirmations were given to an earlier text of the letter."""

    def __init__(self, message: Words | str, names: list[str]) -> None:
        super().__init__(message)
        self.names = names


class RenderError(CoalitionError):
    """A letter or sheet could not be rendered (template, glyphs, blocked resource)."""


class OutputPathError(RenderError):
    """An output file name would leave the output folder."""


class BuildRunningError(RenderError):
    """Another build of the same letters is running; this one built and wrote nothing.

    `since` (a UTC datetime) and `by` (who started it) are None when not known yet.
    """

    def __init__(self, message: str, *, since: object = None, by: str | None = None) -> None:
        super().__init__(message)
        self.since = since
        self.by = by


class SignOnError(CoalitionError):
    """A sign-on decision or invitation change was refused."""


class NameProposalError(SignOnError):
    """A proposed printed name that may not be printed for this organisation, whoever approves.

    `reason` ("lead", "another", or a TextError's reason) and `values` let the page
    say it in the visitor's language; the message is the English one.
    """

    def __init__(self, message: Words | str, reason: str = "", **values: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


class MailError(CoalitionError):
    """Email could not be built or delivered."""


class SendRunningError(MailError):
    """A send was asked for while the campaign's previous one from the console still runs."""


class ReportError(CoalitionError):
    """A count was refused (unknown breakdown) or the data does not add up."""


class TrailError(SignOnError):
    """A campaign's records disagree with its chained trail (changed behind the program's back)."""


class StaffError(CoalitionError):
    """A staff account operation was refused (unknown account, bad value, used link)."""
