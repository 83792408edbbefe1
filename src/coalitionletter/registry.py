"""The organisation registry: add, list, show, edit, remove and merge organisations.

Every value goes through the same checks for add, edit and import (the
`clean_*` functions below), every change is recorded in the registry's event
chain, and a duplicate (same name after folding, same email, same website
domain) is refused with the existing organisation named: never merged silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from coalitionletter import countries, events, names
from coalitionletter.errors import RegistryError
from coalitionletter.models import (
    EMAIL_MAX,
    NAME_MAX,
    NOTES_MAX,
    URL_MAX,
    Campaign,
    Contact,
    Invitation,
    InvitationState,
    Listing,
    Organisation,
    utcnow,
)

TYPE_MAX = 80
LANGUAGE_MAX = 35

# Field key -> how staff see it in messages and column headers.
LABELS: dict[str, str] = {
    "name": "Name",
    "sort_name": "Sort name",
    "slug": "Slug",
    "country": "Country",
    "org_type": "Type",
    "website": "Website",
    "notes": "Notes",
    "contact_name": "Contact",
    "contact_title": "Title",
    "email": "Email",
    "language": "Language",
    "listing": "Listing",
}
ORGANISATION_FIELDS = ("name", "sort_name", "slug", "country", "org_type", "website", "notes")
CONTACT_FIELDS = ("contact_name", "contact_title", "email", "language")

# Sites where many organisations share one host: the first path segment
# (facebook.com/<page>) tells them apart, not the domain.
SHARED_HOSTS = frozenset(
    {
        "facebook.com",
        "fb.com",
        "twitter.com",
        "x.com",
        "instagram.com",
        "linkedin.com",
        "medium.com",
        "t.me",
        "telegram.me",
        "youtube.com",
        "github.com",
        "sites.google.com",
        "substack.com",
        "vk.com",
        "weibo.com",
        "linktr.ee",
    }
)
SAME_NAME = "the same name (ignoring case, spaces, punctuation and a leading The)"
LANGUAGE_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*$")
LANGUAGE_ALIASES = {"uyghur": "ug", "farsi": "fa", "mandarin": "zh", "cantonese": "yue"}


@dataclass(frozen=True)
class FieldProblem:
    """One bad value: which field, and what is wrong with it."""

    field: str
    message: str


class FieldsError(RegistryError):
    """Values for add or edit were refused; every problem is in the message."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__(" ".join(problem.message for problem in problems))


def website_key(parts: SplitResult) -> str:
    """What two websites share when they are one organisation's: the domain, without www."""
    host = (parts.hostname or "").casefold().rstrip(".")
    host = host.removeprefix("www.").removeprefix("m.")
    if host in SHARED_HOSTS:
        segment = parts.path.strip("/").split("/", 1)[0].casefold()
        return f"{host}/{segment}" if segment else host
    return host


def clean_website(value: str | None) -> tuple[str | None, str | None]:
    """A website as (address with scheme, domain key); (None, None) when empty."""
    text = names.clean_text(value, "Website", max_length=URL_MAX)
    if text is None:
        return None, None
    address = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(address)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", None
    if (
        parts is None
        or parts.scheme.casefold() not in {"http", "https"}
        or "." not in host
        or any(char.isspace() for char in text)
    ):
        raise RegistryError(
            f"Website {text!r} is not a web address. Give it as example.org or "
            "https://example.org/page (http or https only)."
        )
    if len(address) > URL_MAX:
        raise RegistryError(f"Website is longer than {URL_MAX} characters. Shorten it.")
    return address, website_key(parts)


def clean_email(value: str | None) -> tuple[str | None, str | None]:
    """An email address as (address as given, case-folded key); (None, None) when empty."""
    text = names.clean_text(value, "Email", max_length=EMAIL_MAX)
    if text is None:
        return None, None
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise RegistryError(
            f"Email {text!r} is not a valid address: {exc} Correct it or leave it empty."
        ) from exc
    return text, text.casefold()


@cache
def _language_codes() -> dict[str, str]:
    import pycountry

    index: dict[str, str] = dict(LANGUAGE_ALIASES)
    for language in pycountry.languages:
        code = getattr(language, "alpha_2", None) or language.alpha_3
        index[language.alpha_3] = code
        if getattr(language, "alpha_2", None):
            index[language.alpha_2] = code
        index[language.name.casefold()] = code
    return index


def clean_language(value: str | None) -> str | None:
    """A language as an ISO 639 code or tag (en, ug, zh-Hant), from a code or English name."""
    text = names.clean_text(value, "Language", max_length=LANGUAGE_MAX)
    if text is None:
        return None
    codes = _language_codes()
    match = LANGUAGE_TAG.match(text)
    if match and match.group(1).casefold() in codes:
        return text.replace("_", "-")
    code = codes.get(text.casefold())
    if code is not None:
        return code
    raise RegistryError(
        f"Language {text!r} is not known. Give an ISO 639 code such as en, fr, ug or "
        "zh-Hant, or an English name such as French."
    )


def clean_listing(value: str | None) -> str | None:
    """How a seed signatory may be named: public or governments_only."""
    text = (value or "").strip().casefold().replace("-", "_").replace(" ", "_")
    if not text:
        return None
    allowed = [listing.value for listing in Listing]
    if text not in allowed:
        raise RegistryError(f"Listing {value!r} is not one of: {', '.join(allowed)}.")
    return text


def _clean_name(value: str | None) -> dict[str, str | None]:
    name = names.clean_name(value, "Name", max_length=NAME_MAX)
    return {"name": name, "name_key": names.name_key(name)}


def _clean_website_field(value: str | None) -> dict[str, str | None]:
    website, domain = clean_website(value)
    return {"website": website, "website_domain": domain}


def _clean_email_field(value: str | None) -> dict[str, str | None]:
    email, key = clean_email(value)
    return {"email": email, "email_key": key}


def _line(field_name: str, max_length: int) -> Callable[[str | None], dict[str, str | None]]:
    def cleaner(value: str | None) -> dict[str, str | None]:
        return {field_name: names.clean_text(value, LABELS[field_name], max_length=max_length)}

    return cleaner


CLEANERS: dict[str, Callable[[str | None], dict[str, str | None]]] = {
    "name": _clean_name,
    "sort_name": _line("sort_name", NAME_MAX),
    "slug": lambda value: {"slug": names.check_slug(value) if (value or "").strip() else None},
    "country": lambda value: {"country": countries.parse_country(value)},
    "org_type": _line("org_type", TYPE_MAX),
    "website": _clean_website_field,
    "notes": lambda value: {
        "notes": names.clean_text(value, "Notes", max_length=NOTES_MAX, multiline=True)
    },
    "contact_name": _line("contact_name", NAME_MAX),
    "contact_title": _line("contact_title", NAME_MAX),
    "email": _clean_email_field,
    "language": lambda value: {"language": clean_language(value)},
    "listing": lambda value: {"listing": clean_listing(value)},
}


def clean_fields(
    raw: Mapping[str, str | None],
) -> tuple[dict[str, str | None], list[FieldProblem]]:
    """Check every given field; return the cleaned values and every problem found."""
    cleaned: dict[str, str | None] = {}
    problems: list[FieldProblem] = []
    for key, value in raw.items():
        cleaner = CLEANERS.get(key)
        if cleaner is None:
            raise RegistryError(f"Unknown field {key!r}.")
        try:
            cleaned.update(cleaner(value))
        except RegistryError as exc:
            problems.append(FieldProblem(key, str(exc)))
    if "sort_name" in raw and "name" in cleaned and cleaned.get("sort_name") is None:
        cleaned["sort_name"] = names.default_sort_name(cleaned["name"] or "")
    return cleaned, problems


def clean_or_raise(raw: Mapping[str, str | None]) -> dict[str, str | None]:
    """Check every given field; raise FieldsError naming every problem."""
    cleaned, problems = clean_fields(raw)
    if problems:
        raise FieldsError(problems)
    return cleaned


def contact_values(cleaned: Mapping[str, str | None]) -> dict[str, str | None]:
    """The contact part of cleaned values, keyed as the Contact model names them."""
    return {
        "name": cleaned.get("contact_name"),
        "title": cleaned.get("contact_title"),
        "email": cleaned.get("email"),
        "email_key": cleaned.get("email_key"),
        "language": cleaned.get("language"),
    }


def has_contact(cleaned: Mapping[str, str | None]) -> bool:
    """True when any contact field holds a value."""
    return any(cleaned.get(field) for field in CONTACT_FIELDS)


# --- finding organisations and their duplicates ---------------------------------------


@dataclass(frozen=True)
class Duplicate:
    """An organisation already in the registry that a new entry would repeat, and why."""

    organisation: Organisation
    reason: str

    def describe(self) -> str:
        """`#3 Human Rights First (slug human-rights-first): the same name`."""
        return f"{label(self.organisation)}: {self.reason}"


def label(organisation: Organisation) -> str:
    """How messages name an organisation: id, name and slug."""
    return f"#{organisation.id} {organisation.name} (slug {organisation.slug})"


def _surviving(session: Session, organisation: Organisation) -> Organisation:
    seen = {organisation.id}
    while organisation.merged_into_id is not None:
        target = session.get(Organisation, organisation.merged_into_id)
        if target is None or target.id in seen:
            break
        seen.add(target.id)
        organisation = target
    return organisation


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
            select(Organisation).where(Organisation.name_key == name_key)
        ):
            found.append((organisation, SAME_NAME))
    for email_key in email_keys:
        for contact in session.scalars(select(Contact).where(Contact.email_key == email_key)):
            found.append((contact.organisation, f"the same email address {contact.email}"))
    if website_domain:
        for organisation in session.scalars(
            select(Organisation).where(Organisation.website_domain == website_domain)
        ):
            found.append((organisation, f"a website on the same domain ({website_domain})"))
    duplicates: list[Duplicate] = []
    seen: set[int] = set()
    for organisation, reason in found:
        survivor = _surviving(session, organisation)
        if survivor.id == exclude_id or survivor.id in seen:
            continue
        seen.add(survivor.id)
        via = (
            "" if survivor.id == organisation.id else f", via {organisation.name!r} merged into it"
        )
        duplicates.append(Duplicate(survivor, reason + via))
    return duplicates


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


def _unique_slug(session: Session, wanted: str) -> str:
    slug, number = wanted, 1
    while session.scalars(select(Organisation.id).where(Organisation.slug == slug)).first():
        number += 1
        slug = f"{wanted[: names.SLUG_MAX - 6]}-{number}"
    return slug


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


def create(
    session: Session, cleaned: Mapping[str, str | None], *, actor: str, source: str
) -> Organisation:
    """Insert an organisation from cleaned values (duplicates already checked) and log it."""
    name = cleaned["name"] or ""
    organisation = Organisation(
        slug=_unique_slug(session, cleaned.get("slug") or names.slugify(name)),
        name=name,
        name_key=cleaned["name_key"] or names.name_key(name),
        sort_name=cleaned.get("sort_name") or names.default_sort_name(name),
        country=cleaned.get("country"),
        org_type=cleaned.get("org_type"),
        website=cleaned.get("website"),
        website_domain=cleaned.get("website_domain"),
        notes=cleaned.get("notes"),
    )
    if has_contact(cleaned):
        organisation.contacts.append(Contact(**contact_values(cleaned)))
    session.add(organisation)
    session.flush()
    events.record(
        session,
        chain=events.REGISTRY_CHAIN,
        kind="organisation_added",
        actor=actor,
        organisation_id=organisation.id,
        detail={"name": name, "slug": organisation.slug, "source": source},
    )
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
    for key in (
        "slug",
        "name",
        "name_key",
        "sort_name",
        "country",
        "org_type",
        "website",
        "website_domain",
        "notes",
    ):
        if key in cleaned and getattr(organisation, key) != cleaned[key]:
            if key not in {"name_key", "website_domain"}:
                changed[key] = {"from": getattr(organisation, key), "to": cleaned[key]}
            setattr(organisation, key, cleaned[key])
    contact_fields = _apply_contact(organisation, cleaned, add_contact)
    if not changed and not contact_fields:
        return []
    organisation.updated_at = utcnow()
    session.flush()
    detail: dict[str, Any] = {"changed": changed, "source": source}
    if contact_fields:
        detail["contact_fields"] = contact_fields
    _record_change(session, organisation, "organisation_edited", actor, detail)
    return [*changed, *contact_fields]


def _apply_contact(
    organisation: Organisation, cleaned: Mapping[str, str | None], add_new: bool
) -> list[str]:
    given = {key: cleaned[key] for key in CONTACT_FIELDS if key in cleaned}
    if not any(value for value in given.values()) and not (given and organisation.contacts):
        return []
    values = contact_values(cleaned)
    if add_new:
        known = {contact.email_key for contact in organisation.contacts if contact.email_key}
        if values["email_key"] and values["email_key"] in known:
            return []
        organisation.contacts.append(Contact(**values))
        return ["contact added"]
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
