"""The organisation registry: add, list, show and edit organisations.

Every value goes through the same checks for add, edit and import (the
`clean_*` functions of registry_fields), every change is recorded in the
registry's event chain, and a duplicate (same name after folding, same email,
same website domain; see registry_duplicates) is refused with the existing
organisation named: never merged silently. Removing and merging are in
registry_removal.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coalitionletter import events, names
from coalitionletter.catalogs import N_
from coalitionletter.errors import FieldsError, RegistryError
from coalitionletter.models import Campaign, Contact, Invitation, Organisation, utcnow
from coalitionletter.registry import countries
from coalitionletter.registry.duplicates import (
    duplicate_error,
    duplicates_for,
    label,
)
from coalitionletter.registry.fields import (
    CONTACT_FIELDS,
    FieldProblem,
    clean_or_raise,
    contact_identity,
    contact_values,
    has_contact,
    new_contact,
)

# An organisation's own columns, as cleaned values name them.
ORGANISATION_COLUMNS = (
    "slug",
    "name",
    "name_key",
    "sort_name",
    "country",
    "org_type",
    "website",
    "website_domain",
    "notes",
)


# --- finding organisations -----------------------------------------------------------


def find_organisation(session: Session, ref: str | int) -> Organisation:
    """The organisation a command names by id, slug or exact name. Raises RegistryError."""
    text = str(ref).strip()
    found: Organisation | None = None
    if text.isdigit():
        found = session.get(Organisation, int(text))
    if found is None and text:
        found = session.scalars(select(Organisation).where(Organisation.slug == text)).first()
    if found is None and text:
        found = _by_exact_name(session, text)
    if found is None:
        raise RegistryError(
            N_(
                "No organisation has the id, slug or name %(ref)s. "
                "Find it with: coalitionletter org list --search %(ref)s",
                ref=repr(text),
            )
        )
    return found


def _by_exact_name(session: Session, text: str) -> Organisation | None:
    wanted = unicodedata.normalize("NFC", text)
    candidates = session.scalars(
        select(Organisation)
        .where(Organisation.name_key == names.name_key(text))
        .order_by(Organisation.id)
    ).all()
    matches = [o for o in candidates if unicodedata.normalize("NFC", o.name) == wanted]
    active = [o for o in matches if o.merged_into_id is None]
    found = active or matches
    return found[0] if found else None


# --- add, list, show ------------------------------------------------------------------------


def unique_slug(wanted: str, taken: Callable[[str], bool]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`... the first that is not taken."""
    slug, number = wanted, 1
    while taken(slug):
        number += 1
        slug = f"{wanted[: names.SLUG_MAX - 6]}-{number}"
    return slug


def _slug_taken(session: Session) -> Callable[[str], bool]:
    def taken(slug: str) -> bool:
        query = select(Organisation.id).where(Organisation.slug == slug)
        return session.scalars(query).first() is not None

    return taken


def organisation_row(cleaned: Mapping[str, str | None], slug: str) -> tuple[Any, ...]:
    """The columns of a new organisation, in ORGANISATION_COLUMNS order (see below)."""
    name = cleaned["name"] or ""
    return (
        slug,
        name,
        cleaned["name_key"] or names.name_key(name),
        cleaned.get("sort_name") or names.default_sort_name(name),
        cleaned.get("country"),
        cleaned.get("org_type"),
        cleaned.get("website"),
        cleaned.get("website_domain"),
        cleaned.get("notes"),
    )


def organisation_values(cleaned: Mapping[str, str | None], slug: str) -> dict[str, Any]:
    """The columns of a new organisation from cleaned values and its (free) slug."""
    return dict(zip(ORGANISATION_COLUMNS, organisation_row(cleaned, slug), strict=True))


def added_entry(
    organisation_id: int, values: Mapping[str, Any], *, actor: str, source: str
) -> events.Entry:
    """The registry event for a new organisation."""
    detail = {"name": values["name"], "slug": values["slug"], "source": source}
    return events.Entry("organisation_added", actor, organisation_id=organisation_id, detail=detail)


def edited_entry(
    organisation_id: int, name: str, *, actor: str, detail: Mapping[str, Any]
) -> events.Entry:
    """The registry event for a change to an organisation (`detail` says what changed)."""
    return events.Entry(
        "organisation_edited",
        actor,
        organisation_id=organisation_id,
        detail={"name": name, **detail},
    )


def change_detail(
    changed: Mapping[str, Any], source: str, contact_fields: list[str]
) -> dict[str, Any]:
    """What an edit event records: fields changed (from, to), where from, contact fields."""
    detail: dict[str, Any] = {"changed": dict(changed), "source": source}
    if contact_fields:
        detail["contact_fields"] = contact_fields
    return detail


def create(
    session: Session, cleaned: Mapping[str, str | None], *, actor: str, source: str
) -> Organisation:
    """Insert an organisation from cleaned values (duplicates already checked) and log it."""
    wanted = cleaned.get("slug") or names.slugify(cleaned["name"] or "")
    values = organisation_values(cleaned, unique_slug(wanted, _slug_taken(session)))
    organisation = Organisation(**values)
    if has_contact(cleaned):
        organisation.contacts.append(Contact(**contact_values(cleaned)))
    session.add(organisation)
    session.flush()
    entry = added_entry(organisation.id, values, actor=actor, source=source)
    events.record_many(session, chain=events.REGISTRY_CHAIN, entries=[entry])
    return organisation


def add(session: Session, raw: Mapping[str, str | None], *, actor: str) -> Organisation:
    """Add one organisation; refuse bad values and duplicates (naming the existing one)."""
    cleaned = clean_or_raise({"sort_name": None, **raw})
    duplicates = duplicates_for(session, cleaned)
    if duplicates:
        raise duplicate_error(cleaned["name"] or "", duplicates)
    if cleaned.get("slug"):
        _check_slug_free(session, cleaned["slug"] or "")
    return create(session, cleaned, actor=actor, source="org add")


def _check_slug_free(session: Session, slug: str, exclude_id: int | None = None) -> None:
    holder = session.scalars(select(Organisation).where(Organisation.slug == slug)).first()
    if holder is not None and holder.id != exclude_id:
        message = N_(
            "The slug %(slug)s is taken by %(organisation)s. Choose another.",
            slug=repr(slug),
            organisation=label(holder),
        )
        raise FieldsError([FieldProblem("slug", message)])


@dataclass(frozen=True)
class Filters:
    """What `org list` narrows the registry to."""

    country: str | None = None
    org_type: str | None = None
    search: str | None = None
    include_merged: bool = False


def _matches(organisation: Organisation, filters: Filters, country: str | None) -> bool:
    if country and organisation.country != country:
        return False
    if filters.org_type and (organisation.org_type or "").casefold() != (
        filters.org_type.strip().casefold()
    ):
        return False
    if filters.search:
        needle = filters.search.strip().casefold()
        key = names.name_key(filters.search)
        haystack = [organisation.name, organisation.sort_name, organisation.slug]
        haystack += [c.name or "" for c in organisation.contacts]
        haystack += [c.email or "" for c in organisation.contacts]
        in_text = any(needle in value.casefold() for value in haystack)
        if not in_text and not (key and key in organisation.name_key):
            return False
    return True


def list_organisations(session: Session, filters: Filters | None = None) -> list[Organisation]:
    """The registry's organisations matching the filters, in sort-name order."""
    filters = filters or Filters()
    country = countries.parse_country(filters.country) if filters.country else None
    query = select(Organisation).options(selectinload(Organisation.contacts))
    if not filters.include_merged:
        query = query.where(Organisation.merged_into_id.is_(None))
    if country:
        query = query.where(Organisation.country == country)
    found = [o for o in session.scalars(query) if _matches(o, filters, country)]
    return sorted(found, key=lambda o: (names.sort_key(o.sort_name), o.id))


@dataclass(frozen=True)
class FilterChoices:
    """The countries and types the registry's organisations have, to filter a list by."""

    countries: list[tuple[str, str]]  # (code, English name), by name
    types: list[str]


def filter_choices(session: Session) -> FilterChoices:
    """Every country and type in use by an organisation not merged away."""
    active = Organisation.merged_into_id.is_(None)
    codes = session.scalars(
        select(Organisation.country).where(active, Organisation.country.is_not(None)).distinct()
    )
    types = session.scalars(
        select(Organisation.org_type).where(active, Organisation.org_type.is_not(None)).distinct()
    )
    named = sorted(
        ((code, countries.country_name(code)) for code in codes if code), key=lambda c: c[1]
    )
    by_fold: dict[str, str] = {}
    for org_type in types:
        if org_type:
            by_fold.setdefault(org_type.casefold(), org_type)  # `org list --type` ignores case
    return FilterChoices(named, sorted(by_fold.values(), key=str.casefold))


def contact_dict(contact: Contact) -> dict[str, str | None]:
    """A contact as plain values."""
    return {
        "name": contact.name,
        "title": contact.title,
        "email": contact.email,
        "language": contact.language,
    }


def describe(organisation: Organisation) -> dict[str, Any]:
    """An organisation as plain values (what JSON output and `org show` print)."""
    return {
        "id": organisation.id,
        "slug": organisation.slug,
        "name": organisation.name,
        "sort_name": organisation.sort_name,
        "country": organisation.country,
        "country_name": countries.country_name(organisation.country),
        "type": organisation.org_type,
        "website": organisation.website,
        "notes": organisation.notes,
        "contacts": [contact_dict(contact) for contact in organisation.contacts],
        "merged_into": organisation.merged_into_id,
        "created_at": organisation.created_at.isoformat(timespec="seconds"),
        "updated_at": organisation.updated_at.isoformat(timespec="seconds"),
    }


def show(session: Session, ref: str) -> dict[str, Any]:
    """One organisation with its contacts and its answer to each campaign."""
    organisation = find_organisation(session, ref)
    details = describe(organisation)
    rows = session.execute(
        select(Campaign.slug, Invitation.state)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .where(Invitation.organisation_id == organisation.id)
        .order_by(Campaign.slug)
    )
    details["campaigns"] = [{"campaign": slug, "state": state} for slug, state in rows]
    if organisation.merged_into_id is not None:
        survivor = session.get(Organisation, organisation.merged_into_id)
        details["merged_into_name"] = survivor.name if survivor else None
    return details


# --- edit ------------------------------------------------------------------------------------


def apply_changes(
    session: Session,
    organisation: Organisation,
    cleaned: Mapping[str, str | None],
    *,
    actor: str,
    source: str,
    add_contact: bool = False,
) -> list[str]:
    """Write cleaned values onto an organisation; return the fields that changed, logged.

    Contact values edit the first contact, or with `add_contact` become a new
    contact unless one with that email is already there.
    """
    cleaned = dict(cleaned)
    if "sort_name" in cleaned and not cleaned["sort_name"]:
        cleaned["sort_name"] = names.default_sort_name(cleaned.get("name") or organisation.name)
    elif _keeps_default_sort_name(organisation, cleaned):
        cleaned["sort_name"] = names.default_sort_name(cleaned["name"] or organisation.name)
    changed: dict[str, Any] = {}
    for key in ORGANISATION_COLUMNS:
        if key in cleaned and getattr(organisation, key) != cleaned[key]:
            if key not in {"name_key", "website_domain"}:
                changed[key] = {"from": getattr(organisation, key), "to": cleaned[key]}
            setattr(organisation, key, cleaned[key])
    contact_fields = _apply_contact(organisation, cleaned, add_contact)
    if not changed and not contact_fields:
        return []
    organisation.updated_at = utcnow()
    session.flush()
    detail = change_detail(changed, source, contact_fields)
    entry = edited_entry(organisation.id, organisation.name, actor=actor, detail=detail)
    events.record_many(session, chain=events.REGISTRY_CHAIN, entries=[entry])
    return [*changed, *contact_fields]


def _keeps_default_sort_name(organisation: Organisation, cleaned: Mapping[str, str | None]) -> bool:
    """True for a rename without a sort name of an organisation whose sort name was the default.

    A sort name that differs from its name's default was set by hand and is kept.
    """
    renamed = "name" in cleaned and "sort_name" not in cleaned
    return renamed and organisation.sort_name == names.default_sort_name(organisation.name)


def _apply_contact(
    organisation: Organisation, cleaned: Mapping[str, str | None], add_new: bool
) -> list[str]:
    if add_new:
        known = {contact_identity(c.name, c.title, c.email_key) for c in organisation.contacts}
        values = new_contact(cleaned, known=known)
        if values is None:
            return []
        organisation.contacts.append(Contact(**values))
        return ["contact added"]
    given = {key: cleaned[key] for key in CONTACT_FIELDS if key in cleaned}
    if not any(value for value in given.values()) and not (given and organisation.contacts):
        return []
    if not organisation.contacts:
        organisation.contacts.append(Contact())
    contact = organisation.contacts[0]
    attribute = {"contact_name": "name", "contact_title": "title", "language": "language"}
    changed = []
    for key, value in given.items():
        if key == "email":
            if contact.email != value:
                contact.email, contact.email_key = value, cleaned.get("email_key")
                changed.append(key)
        elif getattr(contact, attribute[key]) != value:
            setattr(contact, attribute[key], value)
            changed.append(key)
    return changed


def edit(
    session: Session, ref: str, raw: Mapping[str, str | None], *, actor: str
) -> tuple[Organisation, list[str]]:
    """Change an organisation's fields ("" clears an optional one); return what changed."""
    organisation = find_organisation(session, ref)
    if organisation.merged_into_id is not None:
        raise RegistryError(
            N_(
                "%(organisation)s was merged into #%(survivor)s; edit that organisation instead.",
                organisation=label(organisation),
                survivor=organisation.merged_into_id,
            )
        )
    cleaned = clean_or_raise(raw)
    duplicates = duplicates_for(session, cleaned, exclude_id=organisation.id)
    if duplicates:
        raise duplicate_error(cleaned.get("name") or organisation.name, duplicates)
    if "slug" in cleaned and not cleaned["slug"]:
        del cleaned["slug"]  # a slug is never cleared: commands and links use it
    if cleaned.get("slug"):
        _check_slug_free(session, cleaned["slug"] or "", exclude_id=organisation.id)
    return organisation, apply_changes(
        session, organisation, cleaned, actor=actor, source="org edit"
    )
