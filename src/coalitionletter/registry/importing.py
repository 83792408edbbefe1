"""Spreadsheets in and out of the registry: CSV import (all or nothing) and CSV/JSON export.

The file is read by registry_csv (encodings, delimiters, headers); here every
line is checked, lines of one organisation are grouped, and the groups are
applied against the registry held in memory (registry_bulk). Every problem in
the file is collected before anything is written, and the whole import is one
savepoint: either every row goes in, or none does.
"""

from __future__ import annotations

import csv
import gc
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

from sqlalchemy.orm import Session

from coalitionletter import db, events, names
from coalitionletter.catalogs import N_, N_plural, Words
from coalitionletter.errors import ImportChangedError, ImportFileError
from coalitionletter.models import Contact, Organisation
from coalitionletter.registry import duplicates as registry_duplicates
from coalitionletter.registry import fields as registry_fields
from coalitionletter.registry import organisations as registry
from coalitionletter.registry.bulk import Known, PendingAdd, PendingWrites, RegistryIndex
from coalitionletter.registry.csv_reading import (
    GUESSED_ENCODING,
    Line,
    Table,
    neutralise,
    read_table,
)

EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("sort_name", "Sort name"),
    ("slug", "Slug"),
    ("country", "Country"),
    ("org_type", "Type"),
    ("website", "Website"),
    ("notes", "Notes"),
    ("contact_name", "Contact"),
    ("contact_title", "Title"),
    ("email", "Email"),
    ("language", "Language"),
)
ORGANISATION_KEYS = ("sort_name", "country", "org_type", "website", "notes")


class RowOutcome(NamedTuple):
    """What the import did (or, in a dry run, would do) with one line of the file."""

    line: int
    action: str  # add, update or skip
    name: str
    reason: str
    organisation_id: int | None = None
    listing: str | None = None


@dataclass
class ImportReport:
    """Counts and one outcome per line; nothing in it is written when it is a dry run."""

    path: str
    encoding: str
    delimiter: str
    dry_run: bool
    added: int = 0
    updated: int = 0
    skipped: int = 0
    rows: list[RowOutcome] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def organisation_ids(self) -> list[int]:
        """In file order, the id of each line's organisation (added, updated or matched)."""
        ids = (row.organisation_id for row in self.rows if row.organisation_id is not None)
        return list(dict.fromkeys(ids))

    def listings(self) -> dict[int, str]:
        """The `listing` column (public/governments_only) per organisation id, where given."""
        return {
            row.organisation_id: row.listing
            for row in self.rows
            if row.organisation_id is not None and row.listing
        }

    def names_to_check(self) -> list[RowOutcome]:
        """Lines whose name has letters beyond ASCII, when the encoding was a guess.

        A file that is not UTF-8 is read as Windows-1252, which accepts almost
        any bytes: a file saved in another legacy encoding (Mac Roman, Latin-2,
        a Cyrillic code page) reads without error but with the wrong letters,
        and a misspelt name must not reach a letter to a minister unseen.
        """
        if self.encoding != GUESSED_ENCODING:
            return []
        return [row for row in self.rows if not row.name.isascii()]

    def fingerprint(self) -> str:
        """A hash of what the import does with each line, ids of new organisations left out.

        A dry run and the import that follows it have the same fingerprint unless
        the registry changed in between.
        """
        import hashlib

        lines = [[r.line, r.action, r.name, r.reason, r.listing] for r in self.rows]
        lines.append([self.added, self.updated, self.skipped, *self.ignored_columns])
        text = json.dumps(lines, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def summary(self) -> Words:
        """One line: what was (or would be) added, updated and skipped."""
        values = {
            "file": self.path,
            "updated": self.updated,
            "skipped": self.skipped,
            "encoding": self.encoding,
            "delimiter": repr(self.delimiter),
        }
        if self.dry_run:
            return N_plural(
                "%(file)s: %(count)s organisation would be added, %(updated)s updated, "
                "%(skipped)s skipped (%(encoding)s, delimiter %(delimiter)s).",
                "%(file)s: %(count)s organisations would be added, %(updated)s updated, "
                "%(skipped)s skipped (%(encoding)s, delimiter %(delimiter)s).",
                self.added,
                **values,
            )
        return N_plural(
            "%(file)s: %(count)s organisation was added, %(updated)s updated, "
            "%(skipped)s skipped (%(encoding)s, delimiter %(delimiter)s).",
            "%(file)s: %(count)s organisations were added, %(updated)s updated, "
            "%(skipped)s skipped (%(encoding)s, delimiter %(delimiter)s).",
            self.added,
            **values,
        )


# --- applying it -----------------------------------------------------------------------------


@dataclass(slots=True)
class Group:
    """The lines of the file that describe one organisation (one per contact)."""

    cleaned: list[tuple[Line, dict[str, str | None]]]

    @property
    def first(self) -> tuple[Line, dict[str, str | None]]:
        """The first line, which gives the organisation's own fields."""
        return self.cleaned[0]

    def email_keys(self) -> tuple[str, ...]:
        """Every contact email in the group, folded."""
        if len(self.cleaned) == 1:  # the usual group: one line
            key = self.cleaned[0][1].get("email_key")
            return (key,) if key else ()
        return tuple(key for _, c in self.cleaned if (key := c.get("email_key")))


def _group_lines(table: Table, problems: list[Words]) -> list[Group]:
    groups: dict[str, Group] = {}
    for line in table.lines:
        cleaned, field_problems = registry_fields.clean_fields(line.values)
        for problem in field_problems:
            where = table.where(line.number, problem.field)
            problems.append(N_("%(where)s: %(problem)s", where=where, problem=problem.said))
        if field_problems:
            continue
        key = cleaned["name_key"] or ""
        group = groups.get(key)
        if group is None:
            groups[key] = Group([(line, cleaned)])
            continue
        first_line, first = group.first
        for name in ORGANISATION_KEYS:
            if _disagree(name, cleaned, first):
                problems.append(
                    N_(
                        "%(where)s: %(value)s differs from line %(line)s's %(first)s for the "
                        "same organisation. Make them agree, or leave the cell empty on the "
                        "later line.",
                        where=table.where(line.number, name),
                        value=repr(cleaned[name]),
                        line=first_line.number,
                        first=repr(first[name]),
                    )
                )
        group.cleaned.append((line, cleaned))
    return list(groups.values())


def _disagree(name: str, line: Mapping[str, str | None], first: Mapping[str, str | None]) -> bool:
    """True when two lines of one organisation give it two different values of a field."""
    if not (line.get(name) and first.get(name)):
        return False
    # www.pen.example and pen.example are one site: compare the domain key.
    key = "website_domain" if name == "website" else name
    return line[key] != first[key]


def _given(cleaned: Mapping[str, str | None]) -> dict[str, str | None]:
    """The non-empty values of a line: empty cells never clear anything on update."""
    # The slug is only used for new organisations: an update never renames a link.
    return {
        key: value for key, value in cleaned.items() if value and key not in {"listing", "slug"}
    }


@dataclass
class Prepared:
    """A file read and every line checked: what the import writes, and what is wrong."""

    table: Table
    groups: list[Group]
    problems: list[Words]


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large file's rows are in memory.

    The import makes a few small objects per line, none in a cycle; with 100,000
    lines held, each of the collector's passes walks them all again, which
    measured at a fifth of the import's time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            _enable_without_rescan()


def _enable_without_rescan() -> None:
    """Turn the collector back on without it walking everything made while it was off.

    All of that sits in the youngest generation, which the next collection walks
    whole (0.1 s of CPU after reading 100,000 lines, again after writing them).
    gc.freeze() then gc.unfreeze() moves it to the oldest generation in constant
    time, where only a full collection looks. Skipped when something else has
    frozen objects, whose freeze unfreeze would undo.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
    gc.enable()


def prepare(path: Path, display: str | None = None) -> Prepared:
    """Read and check a file without the database, so the write lock is held only to write.

    Messages name the file as `display` (an upload's own name) when given.
    """
    with _cyclic_gc_paused():
        table = read_table(path, display)
        problems: list[Words] = []
        groups = _group_lines(table, problems)
    return Prepared(table, groups, problems)


class _Importer:
    """Applies each group of lines against the registry held in memory."""

    def __init__(
        self, session: Session, prepared: Prepared, update: bool, actor: str, overwrite_names: bool
    ) -> None:
        self.session = session
        self.table = prepared.table
        self.groups = prepared.groups
        self.update = update
        self.overwrite_names = overwrite_names
        self.actor = actor
        self.source = f"import {self.table.path} line "  # + the line's number, in each event
        self.problems: list[Words] = list(prepared.problems)
        # Every registry change appends to its chain: holding the head first makes a
        # second import (on PostgreSQL) wait, then read the registry with ours in it.
        events.lock_chain(session, events.REGISTRY_CHAIN)
        self.index = RegistryIndex.load(session)
        self.pending = PendingWrites(session, self.index, actor, f"import {self.table.path}")
        # Outcomes wait for the final flush: an organisation added has no id until then.
        self.outcomes: list[tuple[Group, str, str, Known]] = []
        self.counts = {"add": 0, "update": 0, "skip": 0}

    def run(self, report: ImportReport) -> list[Words]:
        for group in self.groups:
            self._apply(group)
        self.pending.flush()
        rows = report.rows
        for group, action, reason, known in self.outcomes:
            (line, cleaned), *more = group.cleaned
            rows.append(
                RowOutcome(
                    line.number,
                    action,
                    cleaned.get("name") or "",
                    reason,
                    known.id,
                    cleaned.get("listing"),
                )
            )
            why = f"another contact for line {line.number}"
            for extra, values in more:
                name = values.get("name") or ""
                rows.append(
                    RowOutcome(extra.number, action, name, why, known.id, values.get("listing"))
                )
        report.added, report.updated, report.skipped = (
            self.counts["add"],
            self.counts["update"],
            self.counts["skip"],
        )
        return self.problems

    def _outcome(self, group: Group, action: str, reason: str, known: Known) -> None:
        self.counts[action] += 1
        self.outcomes.append((group, action, reason, known))

    def _with_ids(
        self, duplicates: list[registry_duplicates.Duplicate]
    ) -> list[registry_duplicates.Duplicate]:
        """The duplicates, after writing any a line above added (a message shows ids)."""
        if any(duplicate.organisation.id is None for duplicate in duplicates):
            self.pending.flush()
        return duplicates

    def _apply(self, group: Group) -> None:
        line, cleaned = group.cleaned[0]
        duplicates = self.index.duplicates(
            cleaned.get("name_key"), group.email_keys(), cleaned.get("website_domain")
        )
        if not duplicates:
            self._add(group)
            return
        first = duplicates[0].organisation
        assert isinstance(first, Known)
        if len(duplicates) > 1 and self.update:
            listed = "; ".join(d.describe() for d in self._with_ids(duplicates))
            self.problems.append(
                N_(
                    "%(where)s: %(name)s matches more than one organisation (%(listed)s), so it "
                    "is unclear which to update. Correct the line or merge those organisations "
                    "first (org merge).",
                    where=self.table.where(line.number),
                    name=repr(cleaned["name"]),
                    listed=listed,
                )
            )
        elif self.update and first.added_line is None:
            self._update(group, first)
        else:
            self._skip(group, duplicates, first)

    def _add(self, group: Group) -> None:
        line, cleaned = group.cleaned[0]
        wanted = cleaned.get("slug") or names.slugify(cleaned["name"] or "")
        row = registry.organisation_row(cleaned, self.index.unique_slug(wanted))
        slug, name, name_key, _, _, _, _, website_domain, _ = row
        known = Known(None, name, slug, None, name_key, website_domain, [], line.number)
        pending = PendingAdd(known, row, line.number)
        contact = registry_fields.contact_values(cleaned)
        if any(contact.values()):  # has_contact, on the values already taken out
            pending.contacts.append(contact)
        if len(group.cleaned) > 1:
            self._more_contacts(group, pending)
        known.emails = [(c["email_key"], c["email"]) for c in pending.contacts if c["email_key"]]
        self.pending.add(pending)
        self._outcome(group, "add", "new organisation", known)

    def _more_contacts(self, group: Group, pending: PendingAdd) -> None:
        """Each further line's contact that the organisation does not have yet."""
        for _line, extra in group.cleaned[1:]:
            people = {
                registry_fields.contact_identity(c["name"], c["title"], c["email_key"])
                for c in pending.contacts
            }
            contact = registry_fields.new_contact(extra, known=people)
            if contact is not None:
                pending.contacts.append(contact)
                pending.contacts_added += 1

    def _update(self, group: Group, known: Known) -> None:
        self.pending.flush()  # the registry's events stay in file order
        organisation = self.session.get(Organisation, known.id)
        assert organisation is not None
        line, _ = group.first
        source = f"{self.source}{line.number}"
        before = {key: getattr(organisation, key) for key in SHOWN_CHANGES}
        changed: list[str] = []
        notes: list[str] = []
        for index, (_line, values) in enumerate(group.cleaned):
            given = _given(values) if index == 0 else _contact_only(values)
            if index == 0 and not self.overwrite_names:
                notes += _keep_registry_name(organisation, given)
            changed += registry.apply_changes(
                self.session,
                organisation,
                given,
                actor=self.actor,
                source=source,
                add_contact=True,
            )
        self.index.refresh(known, organisation)
        if changed:
            shown = _describe_changes(before, organisation, changed)
            self._outcome(group, "update", "; ".join([f"updated {shown}", *notes]), known)
        else:
            reason = (
                f"already in the registry as {registry_duplicates.label(organisation)}; no change"
            )
            self._outcome(group, "skip", "; ".join([reason, *notes]), known)

    def _skip(
        self, group: Group, duplicates: list[registry_duplicates.Duplicate], first: Known
    ) -> None:
        if first.added_line is not None:
            reason = f"repeats line {first.added_line} ({duplicates[0].reason})"
        else:
            listed = "; ".join(d.describe() for d in self._with_ids(duplicates))
            hint = "" if self.update else " (use --update to update it)"
            reason = f"already in the registry as {listed}{hint}"
        self._outcome(group, "skip", reason, first)


# The organisation's fields an update report shows as old → new.
SHOWN_CHANGES = ("name", "sort_name", "country", "org_type", "website", "notes")


def _keep_registry_name(organisation: Organisation, given: dict[str, str | None]) -> list[str]:
    """Drop a different name from an update's values; say so (staff may have corrected it)."""
    name = given.get("name")
    if name is None or name == organisation.name:
        return []
    del given["name"]
    given.pop("name_key", None)
    return [
        f"kept the registry's name {organisation.name!r} (the file has {name!r}; "
        "use --overwrite-names to take the file's)"
    ]


def _describe_changes(
    before: Mapping[str, object], organisation: Organisation, changed: list[str]
) -> str:
    """The changed fields as 'field: old → new', and any other change by its name."""
    shown = []
    for field_name in dict.fromkeys(changed):
        if field_name in before:
            old, new = before[field_name] or "(empty)", getattr(organisation, field_name)
            shown.append(f"{field_name}: {old} → {new or '(empty)'}")
        else:
            shown.append(field_name)
    return ", ".join(shown)


def _contact_only(cleaned: Mapping[str, str | None]) -> dict[str, str | None]:
    keys = (*registry_fields.CONTACT_FIELDS, "email_key")
    return {key: cleaned[key] for key in keys if key in cleaned}


def import_file(
    session: Session,
    path: Path,
    *,
    update: bool,
    dry_run: bool,
    actor: str,
    overwrite_names: bool = False,
) -> ImportReport:
    """Import a CSV file into the registry, all or nothing; raise ImportFileError listing all."""
    return import_prepared(
        session,
        prepare(path),
        update=update,
        dry_run=dry_run,
        actor=actor,
        overwrite_names=overwrite_names,
    )


def import_prepared(
    session: Session,
    prepared: Prepared,
    *,
    update: bool,
    dry_run: bool,
    actor: str,
    overwrite_names: bool = False,
) -> ImportReport:
    """Write a prepared file into the registry, all or nothing; raise ImportFileError."""
    table = prepared.table
    report = ImportReport(table.path, table.encoding, table.delimiter, dry_run)
    report.ignored_columns = list(table.ignored)
    savepoint = session.begin_nested()
    try:
        with _cyclic_gc_paused(), db.bulk_write(session):
            importer = _Importer(session, prepared, update, actor, overwrite_names)
            problems = importer.run(report)
    except BaseException:
        savepoint.rollback()
        raise
    if problems:
        savepoint.rollback()
        raise ImportFileError(problems)
    if dry_run:
        savepoint.rollback()
        added = {row.organisation_id for row in report.rows if row.action == "add"}
        report.rows = [
            r._replace(organisation_id=None) if r.organisation_id in added else r
            for r in report.rows
        ]
    else:
        savepoint.commit()
    return report


def import_if_unchanged(
    session: Session,
    prepared: Prepared,
    *,
    fingerprint: str,
    update: bool,
    actor: str,
    overwrite_names: bool = False,
) -> ImportReport:
    """Import a file whose dry run had `fingerprint`; if it would now do otherwise, do nothing.

    Raises ImportChangedError carrying the new dry run when the registry changed
    since the check (the lines would be added, updated or skipped differently).
    """
    outer = session.begin_nested()
    try:
        report = import_prepared(
            session,
            prepared,
            update=update,
            dry_run=False,
            actor=actor,
            overwrite_names=overwrite_names,
        )
    except BaseException:
        outer.rollback()
        raise
    if report.fingerprint() != fingerprint:
        outer.rollback()
        report.dry_run = True
        added = {row.organisation_id for row in report.rows if row.action == "add"}
        report.rows = [
            r._replace(organisation_id=None) if r.organisation_id in added else r
            for r in report.rows
        ]
        raise ImportChangedError(report)
    outer.commit()
    return report


# --- export ----------------------------------------------------------------------------------


def export_rows(organisations: Iterable[Organisation]) -> list[dict[str, str]]:
    """One row per contact (one for an organisation without any), columns as EXPORT_COLUMNS."""
    rows: list[dict[str, str]] = []
    for organisation in organisations:
        base = {
            "name": organisation.name,
            "sort_name": organisation.sort_name,
            "slug": organisation.slug,
            "country": organisation.country or "",
            "org_type": organisation.org_type or "",
            "website": organisation.website or "",
            "notes": organisation.notes or "",
        }
        contacts: list[Contact | None] = [*organisation.contacts] or [None]
        for contact in contacts:
            row = dict(base)
            row["contact_name"] = (contact.name if contact else None) or ""
            row["contact_title"] = (contact.title if contact else None) or ""
            row["email"] = (contact.email if contact else None) or ""
            row["language"] = (contact.language if contact else None) or ""
            rows.append(row)
    return rows


def write_csv(organisations: Iterable[Organisation], stream: IO[str]) -> int:
    """Write the registry as CSV with formulas neutralised; return the number of rows."""
    writer = csv.writer(stream)
    writer.writerow([header for _, header in EXPORT_COLUMNS])
    rows = export_rows(organisations)
    for row in rows:
        writer.writerow([neutralise(row[key]) for key, _ in EXPORT_COLUMNS])
    return len(rows)


def write_json(organisations: Iterable[Organisation], stream: IO[str]) -> int:
    """Write the registry as a JSON list of organisations; return how many."""
    items = [registry.describe(organisation) for organisation in organisations]
    json.dump(items, stream, ensure_ascii=False, indent=2)
    stream.write("\n")
    return len(items)
