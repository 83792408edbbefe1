"""The organisation registry: add, list, show, edit, remove and merge organisations.

Every value goes through the same checks for add, edit and import (the
`clean_*` functions of registry_fields), every change is recorded in the
registry's event chain, and a duplicate (same name after folding, same email,
same website domain) is refused with the existing organisation named: never
merged silently.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from coalitionletter import countries, events, names
from coalitionletter.errors import RegistryError
from coalitionletter.models import (
    Campaign,
    Contact,
    Invitation,
    InvitationState,
    Organisation,
    utcnow,
)
from coalitionletter.registry_fields import (
    CONTACT_FIELDS,
    clean_or_raise,
    contact_values,
    has_contact,
    new_contact,
)

L = TypeVar("L", bound="Listed")
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
SAME_NAME = "the same name (ignoring case, spaces, punctuation and a leading The)"


# --- finding organisations and their duplicates ---------------------------------------


class Listed(Protocol):
    """What duplicate checks need of an organisation: a row, or an import's in-memory entry."""

    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def merged_into_id(self) -> int | None: ...


@dataclass(frozen=True)
class Duplicate:
    """An organisation already in the registry that a new entry would repeat, and why."""

    organisation: Listed
    reason: str

    def describe(self) -> str:
        """`#3 Human Rights First (slug human-rights-first): the same name`."""
        return f"{label(self.organisation)}: {self.reason}"


def label(organisation: Listed) -> str:
    """How messages name an organisation: id, name and slug."""
    return f"#{organisation.id} {organisation.name} (slug {organisation.slug})"


def same_email(email: str | None) -> str:
    """Why a contact's email makes two entries one organisation."""
    return f"the same email address {email}"


def same_domain(domain: str) -> str:
    """Why a website makes two entries one organisation."""
    return f"a website on the same domain ({domain})"


def surviving(organisation: L, lookup: Callable[[int], L | None]) -> L:
    """The organisation kept at the end of a chain of merges (itself if never merged)."""
    seen = {organisation.id}
    while organisation.merged_into_id is not None:
        target = lookup(organisation.merged_into_id)
        if target is None or target.id in seen:
            break
        seen.add(target.id)
        organisation = target
    return organisation


def fold_duplicates(
    found: Iterable[tuple[L, str]],
    lookup: Callable[[int], L | None],
    exclude_id: int | None = None,
) -> list[Duplicate]:
    """One Duplicate per organisation kept, from (organisation, reason) matches in order."""
    duplicates: list[Duplicate] = []
    seen: set[int] = set()
    for organisation, reason in found:
        survivor = surviving(organisation, lookup)
        # By identity: an organisation an import has not written yet has no id.
        if (exclude_id is not None and survivor.id == exclude_id) or id(survivor) in seen:
            continue
        seen.add(id(survivor))
        via = "" if survivor is organisation else f", via {organisation.name!r} merged into it"
        duplicates.append(Duplicate(survivor, reason + via))
    return duplicates


def find_duplicates(
    session: Session,
    *,
    name_key: str | None = None,
    email_keys: tuple[str, ...] = (),
    website_domain: str | None = None,
    exclude_id: int | None = None,
) -> list[Duplicate]:
    """Organisations sharing a name key, an email or a website domain (merged ones resolved)."""
    found: list[tuple[Organisation, str]] = []
    if name_key:
        for organisation in session.scalars(
            select(Organisation).where(Organisation.name_key == name_key).order_by(Organisation.id)
        ):
            found.append((organisation, SAME_NAME))
    for email_key in email_keys:
        for contact in session.scalars(
            select(Contact).where(Contact.email_key == email_key).order_by(Contact.id)
        ):
            found.append((contact.organisation, same_email(contact.email)))
    if website_domain:
        for organisation in session.scalars(
            select(Organisation)
            .where(Organisation.website_domain == website_domain)
            .order_by(Organisation.id)
        ):
            found.append((organisation, same_domain(website_domain)))
    return fold_duplicates(found, lambda id_: session.get(Organisation, id_), exclude_id=exclude_id)


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
            f"No organisation has the id, slug or name {text!r}. "
            f"Find it with: coalitionletter org list --search {text!r}"
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
    return (active or matches or [None])[0]


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


def duplicate_error(name: str, duplicates: list[Duplicate]) -> RegistryError:
    """The refusal for an entry that repeats organisations already in the registry."""
    listed = "; ".join(duplicate.describe() for duplicate in duplicates)
    first = duplicates[0].organisation.slug
    return RegistryError(
        f"{name!r} is already in the registry as {listed}. Nothing was added. "
        f"See it with `coalitionletter org show {first}`, change it with "
        f"`coalitionletter org edit {first}`, or correct the new entry."
    )


def duplicates_for(
    session: Session, cleaned: Mapping[str, str | None], exclude_id: int | None = None
) -> list[Duplicate]:
    """The duplicates of cleaned values (name, email, website)."""
    email_key = cleaned.get("email_key")
    return find_duplicates(
        session,
        name_key=cleaned.get("name_key"),
        email_keys=(email_key,) if email_key else (),
        website_domain=cleaned.get("website_domain"),
        exclude_id=exclude_id,
    )


def organisation_values(cleaned: Mapping[str, str | None], slug: str) -> dict[str, Any]:
    """The columns of a new organisation from cleaned values and its (free) slug."""
    name = cleaned["name"] or ""
    return {
        "slug": slug,
        "name": name,
        "name_key": cleaned["name_key"] or names.name_key(name),
        "sort_name": cleaned.get("sort_name") or names.default_sort_name(name),
        "country": cleaned.get("country"),
        "org_type": cleaned.get("org_type"),
        "website": cleaned.get("website"),
        "website_domain": cleaned.get("website_domain"),
        "notes": cleaned.get("notes"),
    }


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
        raise RegistryError(f"The slug {slug!r} is taken by {label(holder)}. Choose another.")


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


def _record_change(
    session: Session, organisation: Organisation, kind: str, actor: str, detail: dict[str, Any]
) -> None:
    events.record(
        session,
        chain=events.REGISTRY_CHAIN,
        kind=kind,
        actor=actor,
        organisation_id=organisation.id,
        detail={"name": organisation.name, **detail},
    )


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


def _apply_contact(
    organisation: Organisation, cleaned: Mapping[str, str | None], add_new: bool
) -> list[str]:
    if add_new:
        known = {contact.email_key for contact in organisation.contacts if contact.email_key}
        values = new_contact(cleaned, has_contacts=bool(organisation.contacts), known_emails=known)
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
            f"{label(organisation)} was merged into #{organisation.merged_into_id}; "
            "edit that organisation instead."
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


# --- remove ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemovalPlan:
    """What removing an organisation would take with it."""

    organisation_id: int
    label: str
    answers: list[tuple[str, str]] = field(default_factory=list)  # (campaign slug, state)

    @property
    def signed(self) -> list[str]:
        """The campaigns this organisation has confirmed (signed)."""
        return [slug for slug, state in self.answers if state == InvitationState.CONFIRMED]

    def refusal(self, force: bool) -> RegistryError | None:
        """Why the removal must not go ahead (a signatory, not forced), or None."""
        if not self.signed or force:
            return None
        return RegistryError(
            f"{self.label} has signed {', '.join(self.signed)}; removing it would take its "
            "signature off the letter. Nothing was removed. If that is really meant, run "
            "again with --force."
        )


def removal_plan(session: Session, ref: str) -> RemovalPlan:
    """Which organisation `remove` would delete, and its answers to campaigns."""
    organisation = find_organisation(session, ref)
    answers = session.execute(
        select(Campaign.slug, Invitation.state)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .where(Invitation.organisation_id == organisation.id)
        .order_by(Campaign.slug)
    ).all()
    return RemovalPlan(organisation.id, label(organisation), [(s, st) for s, st in answers])


def remove(session: Session, ref: str, *, force: bool, actor: str) -> str:
    """Delete an organisation, its contacts and invitations; refuse a signatory unless forced."""
    plan = removal_plan(session, ref)
    refusal = plan.refusal(force)
    if refusal is not None:
        raise refusal
    organisation = session.get(Organisation, plan.organisation_id)
    assert organisation is not None
    for invitation, slug in session.execute(
        select(Invitation, Campaign.slug)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .where(Invitation.organisation_id == organisation.id)
    ):
        events.record(
            session,
            chain=events.campaign_chain(slug),
            kind="invitation_removed",
            actor=actor,
            campaign_id=invitation.campaign_id,
            organisation_id=organisation.id,
            invitation_id=invitation.id,
            detail={"state": invitation.state, "reason": "organisation removed from registry"},
        )
    session.execute(delete(Invitation).where(Invitation.organisation_id == organisation.id))
    session.execute(
        update(Organisation)
        .where(Organisation.merged_into_id == organisation.id)
        .values(merged_into_id=None)
    )
    _record_change(session, organisation, "organisation_removed", actor, {"answers": plan.answers})
    session.delete(organisation)
    session.flush()
    extra = f" and its answers to {len(plan.answers)} campaign(s)" if plan.answers else ""
    return f"Removed {plan.label}{extra}."


# --- merge -----------------------------------------------------------------------------------


@dataclass
class MergeResult:
    """What `merge` moved from the duplicate into the organisation kept."""

    kept: str
    merged: str
    contacts_moved: int = 0
    invitations_moved: list[str] = field(default_factory=list)
    invitations_left: list[str] = field(default_factory=list)


def _invitations_by_campaign(session: Session, organisation_id: int) -> dict[int, Invitation]:
    rows = session.scalars(select(Invitation).where(Invitation.organisation_id == organisation_id))
    return {invitation.campaign_id: invitation for invitation in rows}


def _merge_conflicts(
    session: Session, kept: dict[int, Invitation], other: dict[int, Invitation]
) -> list[str]:
    conflicts = []
    for campaign_id, invitation in other.items():
        if campaign_id in kept and invitation.state == InvitationState.CONFIRMED:
            campaign = session.get(Campaign, campaign_id)
            slug = campaign.slug if campaign else str(campaign_id)
            conflicts.append(f"{slug} (kept: {kept[campaign_id].state}, other: confirmed)")
    return conflicts


def merge(session: Session, keep_ref: str, other_ref: str, *, actor: str) -> MergeResult:
    """Fold organisation B into A: move B's contacts and answers, mark B merged into A."""
    kept = find_organisation(session, keep_ref)
    other = find_organisation(session, other_ref)
    if kept.id == other.id:
        raise RegistryError(f"{label(kept)} cannot be merged into itself.")
    for organisation in (kept, other):
        if organisation.merged_into_id is not None:
            raise RegistryError(
                f"{label(organisation)} was already merged into #{organisation.merged_into_id}."
                " Merge with that organisation instead."
            )
    kept_answers = _invitations_by_campaign(session, kept.id)
    other_answers = _invitations_by_campaign(session, other.id)
    conflicts = _merge_conflicts(session, kept_answers, other_answers)
    if conflicts:
        raise RegistryError(
            f"Both organisations have answered {', '.join(conflicts)}; merging would drop or "
            f"double {other.name!r}'s signature. Nothing was merged. Run `org merge "
            f"{other.slug} {kept.slug}` to keep the other one, or settle one answer first."
        )
    result = MergeResult(kept=label(kept), merged=label(other))
    known_emails = {c.email_key for c in kept.contacts if c.email_key}
    for contact in list(other.contacts):
        if contact.email_key and contact.email_key in known_emails:
            continue
        other.contacts.remove(contact)
        kept.contacts.append(contact)
        result.contacts_moved += 1
    for campaign_id, invitation in other_answers.items():
        campaign = session.get(Campaign, campaign_id)
        slug = campaign.slug if campaign else str(campaign_id)
        if campaign_id in kept_answers:
            result.invitations_left.append(f"{slug} ({invitation.state})")
            continue
        invitation.organisation_id = kept.id
        result.invitations_moved.append(f"{slug} ({invitation.state})")
        events.record(
            session,
            chain=events.campaign_chain(slug),
            kind="invitation_moved",
            actor=actor,
            campaign_id=campaign_id,
            organisation_id=kept.id,
            invitation_id=invitation.id,
            detail={"from_organisation_id": other.id, "reason": "organisations merged"},
        )
    other.merged_into_id = kept.id
    other.updated_at = kept.updated_at = utcnow()
    session.flush()
    detail = {
        "kept_id": kept.id,
        "merged_id": other.id,
        "merged_name": other.name,
        "contacts_moved": result.contacts_moved,
        "invitations_moved": result.invitations_moved,
    }
    _record_change(session, kept, "organisation_merged", actor, detail)
    return result
