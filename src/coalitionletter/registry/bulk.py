"""The registry held in memory for a bulk import, and the import's batched writes.

An import of 100,000 lines cannot afford a few SELECTs and an INSERT per line.
`RegistryIndex` reads the registry's keys once (name keys, contact emails,
website domains, slugs) and answers each line's duplicate check from dicts,
through the same `registry_duplicates.fold_duplicates` that `org add` uses, so the
matches, their order and their wording are the same. Organisations the import
adds join the index at once (a later line repeating them is caught) and are
written in batches by `PendingWrites`: organisations, then contacts, then the
events, each as one executemany.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalitionletter import bulk_sql, events
from coalitionletter.models import Contact, Organisation, utcnow
from coalitionletter.registry import duplicates as registry_duplicates
from coalitionletter.registry import organisations as registry
from coalitionletter.registry import trail as registry_trail

_ORGANISATIONS = Organisation.__table__
_CONTACTS = Contact.__table__
ORGANISATION_KEYS = registry.ORGANISATION_COLUMNS
CONTACT_KEYS = ("name", "title", "email", "email_key", "language")
_CONTACT_ROW = itemgetter(*CONTACT_KEYS)


@dataclass(eq=False, slots=True)
class Known:
    """One organisation as the import sees it: in the registry, or added by a line above."""

    id: int | None
    name: str
    slug: str
    merged_into_id: int | None = None
    name_key: str | None = None
    website_domain: str | None = None
    emails: list[tuple[str, str | None]] = field(default_factory=list)  # (key, as written)
    added_line: int | None = None  # the line of the file that added it


def _in_id_order(known: Known) -> tuple[bool, int]:
    # Not yet written (no id) sorts last, as its id will be the highest.
    return known.id is None, known.id or 0


class RegistryIndex:
    """Name keys, emails, website domains and slugs of the registry, kept current."""

    def __init__(self) -> None:
        self.by_id: dict[int, Known] = {}
        self.by_name: dict[str, list[Known]] = {}
        self.by_email: dict[str, list[Known]] = {}
        self.by_domain: dict[str, list[Known]] = {}
        self.slugs: set[str] = set()
        self.highest_id = 0

    @classmethod
    def load(cls, session: Session) -> RegistryIndex:
        """Read the registry's keys with two SELECTs."""
        index = cls()
        rows = session.execute(
            select(
                Organisation.id,
                Organisation.name,
                Organisation.slug,
                Organisation.merged_into_id,
                Organisation.name_key,
                Organisation.website_domain,
            ).order_by(Organisation.id)
        )
        for row in rows:
            index.by_id[row.id] = Known(*row)
            index.highest_id = row.id
        contacts = session.execute(
            select(Contact.organisation_id, Contact.email_key, Contact.email)
            .where(Contact.email_key.is_not(None))
            .order_by(Contact.id)
        )
        for organisation_id, key, email in contacts:
            assert key is not None  # the query takes only contacts with a key
            known = index.by_id[organisation_id]
            known.emails.append((key, email))
            index._enter_email(known, key)
        for known in index.by_id.values():
            index._enter(known)
        return index

    def _enter(self, known: Known) -> None:
        self.slugs.add(known.slug)
        if known.name_key:
            self.by_name.setdefault(known.name_key, []).append(known)
        if known.website_domain:
            self.by_domain.setdefault(known.website_domain, []).append(known)

    def _enter_email(self, known: Known, key: str) -> None:
        # In the order of each key's first contact, as a SELECT by contact id gives them.
        holders = self.by_email.setdefault(key, [])
        if known not in holders:
            holders.append(known)

    def add(self, known: Known) -> None:
        """Take in an organisation a line adds, so later lines are checked against it."""
        # _enter and _enter_email written out: this runs once per line of a large file.
        self.slugs.add(known.slug)
        if known.name_key:
            self.by_name.setdefault(known.name_key, []).append(known)
        if known.website_domain:
            self.by_domain.setdefault(known.website_domain, []).append(known)
        by_email = self.by_email
        for key, _ in known.emails:
            holders = by_email.get(key)
            if holders is None:
                by_email[key] = [known]
            elif known not in holders:
                holders.append(known)

    def refresh(self, known: Known, organisation: Organisation) -> None:
        """Re-key an organisation after an update changed its name, website or contacts."""
        for table, key in ((self.by_name, known.name_key), (self.by_domain, known.website_domain)):
            if key and known in table.get(key, ()):
                table[key].remove(known)
        known.name = organisation.name
        known.name_key = organisation.name_key
        known.website_domain = organisation.website_domain
        self._enter(known)
        for table, key in ((self.by_name, known.name_key), (self.by_domain, known.website_domain)):
            if key:
                table[key].sort(key=_in_id_order)
        # An import's update only ever adds contacts, and a new contact has the highest id.
        known.emails = [(c.email_key, c.email) for c in organisation.contacts if c.email_key]
        for key, _ in known.emails:
            self._enter_email(known, key)

    def duplicates(
        self, name_key: str | None, email_keys: Iterable[str], website_domain: str | None
    ) -> list[registry_duplicates.Duplicate]:
        """What `registry_duplicates.find_duplicates` would find, from memory."""
        found: list[tuple[Known, str]] = []
        # Most lines match nothing: each reason is worded only once something matched.
        same_name = self.by_name.get(name_key) if name_key else None
        if same_name:
            found += [(known, registry_duplicates.SAME_NAME) for known in same_name]
        for key in email_keys:
            for known in self.by_email.get(key, ()):
                found += [
                    (known, registry_duplicates.same_email(e)) for k, e in known.emails if k == key
                ]
        same_domain = self.by_domain.get(website_domain) if website_domain else None
        if same_domain:
            reason = registry_duplicates.same_domain(website_domain or "")
            found += [(known, reason) for known in same_domain]
        return registry_duplicates.fold_duplicates(found, self.by_id.get) if found else []

    def unique_slug(self, wanted: str) -> str:
        """A slug no organisation has, as `registry.create` would choose it."""
        slug = registry.unique_slug(wanted, self.slugs.__contains__)
        self.slugs.add(slug)
        return slug


@dataclass(eq=False, slots=True)
class PendingAdd:
    """An organisation a line adds, with its contacts and events, not yet written."""

    known: Known
    row: tuple[Any, ...]  # its columns, in ORGANISATION_KEYS order
    line: int  # of the file, which the trail names
    contacts: list[dict[str, str | None]] = field(default_factory=list)
    contacts_added: int = 0  # contacts from further lines, each logged as an edit


class PendingWrites:
    """New organisations collected in memory and written in batches, in file order."""

    def __init__(self, session: Session, index: RegistryIndex, actor: str, source: str) -> None:
        self.session = session
        self.index = index
        self.actor = actor
        self.source = source  # `import FILE`
        self.adds: list[PendingAdd] = []

    def add(self, pending: PendingAdd) -> None:
        """Queue a new organisation; it is in the index at once."""
        self.adds.append(pending)
        self.index.add(pending.known)

    def flush(self) -> None:
        """Write every queued organisation, its contacts and its events; ids become known."""
        if not self.adds:
            return
        adds, self.adds = self.adds, []
        now = utcnow()
        rows = [add.row for add in adds]
        constants = {"created_at": now, "updated_at": now}
        bulk_sql.insert_rows(self.session, _ORGANISATIONS, ORGANISATION_KEYS, rows, constants)
        self._read_ids(adds)
        contacts = [
            (add.known.id, *_CONTACT_ROW(contact)) for add in adds for contact in add.contacts
        ]
        keys = ("organisation_id", *CONTACT_KEYS)
        bulk_sql.insert_rows(self.session, _CONTACTS, keys, contacts)
        entries = list(self._entries(adds))
        events.record_many(
            self.session, chain=events.REGISTRY_CHAIN, entries=entries, created_at=now
        )

    def _read_ids(self, adds: list[PendingAdd]) -> None:
        floor = self.index.highest_id
        ids = self._ids_in_order(adds, floor) or self._ids_by_slug(adds, floor)
        by_id = self.index.by_id
        for add, id_ in zip(adds, ids, strict=True):
            add.known.id = id_
            by_id[id_] = add.known
        self.index.highest_id = max(floor, *ids)

    def _ids_in_order(self, adds: list[PendingAdd], floor: int) -> list[int] | None:
        """The new rows' ids without reading 100,000 of them, when they are plainly ours.

        An id is never lower than one given before it (SQLite gives one more than the
        highest, a PostgreSQL sequence only goes up), so ours rise in file order. When
        the rows above `floor` are as many as ours, their ids have no gap, and the
        lowest and highest carry our first and last slugs, the ids between are ours
        in order. Otherwise (another writer's rows among them) None.
        """
        column = Organisation.id
        newer = select(func.min(column), func.max(column), func.count()).where(column > floor)
        low, high, count = self.session.execute(newer).one()
        if count != len(adds) or high - low + 1 != count:
            return None
        ends = select(column, Organisation.slug).where(column.in_((low, high)))
        slugs = {id_: slug for id_, slug in self.session.execute(ends)}
        if (slugs.get(low), slugs.get(high)) != (adds[0].known.slug, adds[-1].known.slug):
            return None
        return list(range(low, high + 1))

    def _ids_by_slug(self, adds: list[PendingAdd], floor: int) -> list[int]:
        # By slug, which is unique: every id above the highest known is a candidate
        # (on PostgreSQL others may insert meanwhile; their slugs are not ours).
        query = select(Organisation.slug, Organisation.id).where(Organisation.id > floor)
        ids = {slug: id_ for slug, id_ in self.session.execute(query)}
        return [ids[add.known.slug] for add in adds]

    def _entries(self, adds: list[PendingAdd]) -> Iterable[events.Entry]:
        written = []
        for add in adds:
            assert add.known.id is not None
            written.append(registry_trail.Imported(add.known.id, add.row, add.line))
        yield from registry_trail.imported_entries(written, actor=self.actor, source=self.source)
        # A contact from a further line is an edit, as the same line would be with --update.
        for add in adds:
            if not add.contacts_added:
                continue
            assert add.known.id is not None
            source = f"{self.source} line {add.line}"
            detail = registry.change_detail({}, source, ["contact added"])
            for _ in range(add.contacts_added):
                yield registry.edited_entry(
                    add.known.id, add.known.name, actor=self.actor, detail=detail
                )
