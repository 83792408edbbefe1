"""Duplicates in the registry: the same name, email address or website domain.

`org add`, `org edit` and `org import` all refuse an entry that repeats an
organisation already there and name the existing one; nothing is ever merged
silently. The import checks against its in-memory index through the same
`fold_duplicates`, so every path gives the same answer and the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalitionletter.catalogs import N_
from coalitionletter.errors import RegistryError
from coalitionletter.models import Contact, Organisation

L = TypeVar("L", bound="Listed")
SAME_NAME = "the same name (ignoring case, spaces, punctuation and a leading The)"


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


def duplicate_error(name: str, duplicates: list[Duplicate]) -> RegistryError:
    """The refusal for an entry that repeats organisations already in the registry."""
    listed = "; ".join(duplicate.describe() for duplicate in duplicates)
    first = duplicates[0].organisation.slug
    return RegistryError(
        N_(
            "%(name)s is already in the registry as %(listed)s. Nothing was added. "
            "See it with `coalitionletter org show %(slug)s`, change it with "
            "`coalitionletter org edit %(slug)s`, or correct the new entry.",
            name=repr(name),
            listed=listed,
            slug=first,
        )
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


# --- likely duplicates already in the registry ----------------------------------------------

# Names at least this alike (difflib's ratio of their keys) are shown as likely one.
SIMILAR_NAMES = 0.85
# A name key this short inside another is too common to mean anything ("pen", "hrw").
CONTAINED_MIN = 6
# Names are compared only within a group sharing the key's first letters; a group larger
# than this (thousands of "human rights ...") is compared by its exact keys alone.
PREFIX = 4
GROUP_MAX = 400


@dataclass(frozen=True)
class LikelyPair:
    """Two organisations in the registry that may be one, and why."""

    first: Organisation
    second: Organisation
    reasons: tuple[str, ...]


def _similar(a: str, b: str) -> str | None:
    """Why two name keys look like one name, or None."""
    from difflib import SequenceMatcher

    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= CONTAINED_MIN and shorter in longer:
        return "one name contains the other"
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < SIMILAR_NAMES or matcher.quick_ratio() < SIMILAR_NAMES:
        return None
    ratio = matcher.ratio()
    return f"similar names ({round(ratio * 100)}% alike)" if ratio >= SIMILAR_NAMES else None


def _shared_keys(active: list[Organisation]) -> dict[tuple[int, int], list[str]]:
    """Pairs sharing a name key, a contact's email or a website domain (older rows may)."""
    reasons: dict[tuple[int, int], list[str]] = {}
    groups: dict[tuple[str, str], list[Organisation]] = {}
    for organisation in active:
        groups.setdefault(("name", organisation.name_key), []).append(organisation)
        if organisation.website_domain:
            groups.setdefault(("site", organisation.website_domain), []).append(organisation)
        for contact in organisation.contacts:
            if contact.email_key:
                groups.setdefault(("email", contact.email_key), []).append(organisation)
    for (kind, value), members in groups.items():
        unique = list({o.id: o for o in members}.values())
        why = {"name": SAME_NAME, "site": same_domain(value), "email": same_email(value)}[kind]
        for i, a in enumerate(unique):
            for b in unique[i + 1 :]:
                reasons.setdefault((a.id, b.id), []).append(why)
    return reasons


def likely_duplicates(session: Session) -> list[LikelyPair]:
    """Pairs of organisations (merged ones left out) that look like one, most certain first."""
    from sqlalchemy.orm import selectinload

    active = list(
        session.scalars(
            select(Organisation)
            .where(Organisation.merged_into_id.is_(None))
            .options(selectinload(Organisation.contacts))
            .order_by(Organisation.id)
        )
    )
    by_id = {organisation.id: organisation for organisation in active}
    reasons = _shared_keys(active)
    prefixes: dict[str, list[Organisation]] = {}
    for organisation in active:
        prefixes.setdefault(organisation.name_key[:PREFIX], []).append(organisation)
    for members in prefixes.values():
        if len(members) > GROUP_MAX:
            continue
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if a.name_key == b.name_key:
                    continue
                why = _similar(a.name_key, b.name_key)
                if why is not None:
                    reasons.setdefault((a.id, b.id), []).append(why)
    pairs = [LikelyPair(by_id[a], by_id[b], tuple(why)) for (a, b), why in reasons.items()]
    # Shared keys first (they are certain), then by how many reasons, then by id.
    return sorted(
        pairs,
        key=lambda p: (
            not any(not r.startswith(("similar", "one name")) for r in p.reasons),
            -len(p.reasons),
            p.first.id,
            p.second.id,
        ),
    )
