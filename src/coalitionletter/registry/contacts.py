"""An organisation's contacts one by one: add, change and remove a person.

`org edit` changes the first contact; these change any of them. Values go
through the same checks as every other registry path (registry/fields.py), a
contact's email already held by another organisation is refused naming it, and
each change is one `organisation_edited` entry in the registry's trail.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.catalogs import N_
from coalitionletter.errors import FieldsError, RegistryError
from coalitionletter.models import Contact, Organisation, utcnow
from coalitionletter.registry.duplicates import duplicate_error, find_duplicates, label
from coalitionletter.registry.fields import (
    CONTACT_FIELDS,
    FieldProblem,
    clean_or_raise,
    contact_identity,
    contact_values,
    has_contact,
)
from coalitionletter.registry.organisations import (
    change_detail,
    edited_entry,
    find_organisation,
)

# Contact field key -> the Contact model's attribute.
ATTRIBUTES = {
    "contact_name": "name",
    "contact_title": "title",
    "email": "email",
    "language": "language",
}
SOURCE = "org contact"


def _editable(session: Session, ref: str) -> Organisation:
    organisation = find_organisation(session, ref)
    if organisation.merged_into_id is not None:
        raise RegistryError(
            N_(
                "%(organisation)s was merged into #%(survivor)s; change that organisation's "
                "contacts instead.",
                organisation=label(organisation),
                survivor=organisation.merged_into_id,
            )
        )
    return organisation


def _contact(organisation: Organisation, contact_id: int) -> Contact:
    for contact in organisation.contacts:
        if contact.id == contact_id:
            return contact
    raise RegistryError(
        N_(
            "%(organisation)s has no contact #%(number)s. "
            "See its contacts with `coalitionletter org show %(slug)s`.",
            organisation=label(organisation),
            number=contact_id,
            slug=organisation.slug,
        )
    )


def _clean(
    session: Session, organisation: Organisation, raw: Mapping[str, str | None]
) -> dict[str, str | None]:
    """Contact values checked as every registry path checks them; duplicates refused."""
    unknown = [key for key in raw if key not in CONTACT_FIELDS]
    if unknown:
        raise RegistryError(f"Unknown contact field {unknown[0]!r}.")
    cleaned = clean_or_raise(raw)
    if not has_contact(cleaned):
        raise FieldsError(
            [FieldProblem("contact_name", N_("Give the contact's name, title or email address."))]
        )
    email_key = cleaned.get("email_key")
    if email_key:
        duplicates = find_duplicates(session, email_keys=(email_key,), exclude_id=organisation.id)
        if duplicates:
            raise duplicate_error(cleaned.get("email") or "", duplicates)
    return cleaned


def _record(
    session: Session, organisation: Organisation, what: str, changed: list[str], actor: str
) -> None:
    organisation.updated_at = utcnow()
    session.flush()
    # The trail names the contact by id only: a person's name and address stay in the registry.
    detail = change_detail({}, SOURCE, [what, *changed])
    entry = edited_entry(organisation.id, organisation.name, actor=actor, detail=detail)
    events.record_many(session, chain=events.REGISTRY_CHAIN, entries=[entry])


def add_contact(
    session: Session, ref: str, raw: Mapping[str, str | None], *, actor: str
) -> Contact:
    """Add a person to an organisation; refuse one it already has (same email, or name+title)."""
    organisation = _editable(session, ref)
    cleaned = _clean(session, organisation, raw)
    values = contact_values(cleaned)
    known = {contact_identity(c.name, c.title, c.email_key) for c in organisation.contacts}
    if contact_identity(values["name"], values["title"], values["email_key"]) in known:
        raise RegistryError(
            N_(
                "%(organisation)s already has this contact. Nothing was added; "
                "change the existing contact instead.",
                organisation=label(organisation),
            )
        )
    contact = Contact(**values)
    organisation.contacts.append(contact)
    session.flush()
    _record(session, organisation, f"contact #{contact.id} added", [], actor)
    return contact


def edit_contact(
    session: Session, ref: str, contact_id: int, raw: Mapping[str, str | None], *, actor: str
) -> list[str]:
    """Change one contact's fields ("" clears one); return the fields that changed."""
    organisation = _editable(session, ref)
    contact = _contact(organisation, contact_id)
    current = {key: getattr(contact, attribute) for key, attribute in ATTRIBUTES.items()}
    cleaned = _clean(session, organisation, {**current, **raw})
    changed = []
    for key, attribute in ATTRIBUTES.items():
        if getattr(contact, attribute) != cleaned.get(key):
            setattr(contact, attribute, cleaned.get(key))
            changed.append(key)
    if "email" in changed:
        contact.email_key = cleaned.get("email_key")
    if changed:
        _record(session, organisation, f"contact #{contact.id} changed", changed, actor)
    return changed


def remove_contact(session: Session, ref: str, contact_id: int, *, actor: str) -> str:
    """Take one person off an organisation; return how they were named."""
    organisation = _editable(session, ref)
    contact = _contact(organisation, contact_id)
    named = ", ".join(part for part in (contact.name, contact.email) if part) or "a contact"
    organisation.contacts.remove(contact)
    _record(session, organisation, f"contact #{contact_id} removed", [], actor)
    return named
