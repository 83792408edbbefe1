"""Who is named in a letter: the confirmed signatories, in the order a reader expects.

A signatory is an organisation whose invitation to the campaign is confirmed.
Its name is printed as the registry has it, or as staff approved the
organisation's correction (the invitation's display name). A correction still
awaiting approval is carried along (`proposed_name`) so that a build can say so,
but it is not printed. The list is ordered by sort name with
the Unicode Collation Algorithm (pyuca's DUCET, the CLDR root order, which is
what English-language locales use: accents sort with their base letter, and
names in other scripts follow Latin ones, grouped by script), the lead
organisation first unless the campaign says otherwise.

Consent is bound to the words: a confirmation given to another text (its hash
differs from the campaign's current `text_hash`) is stale and refused, unless
the caller explicitly allows stale consent, in which case the roster says so,
or leaves the stale ones out, in which case they are neither named nor counted
and the roster names them to the caller (`left_out`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from coalitionletter.campaigns.catalogue import not_registered
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.catalogs import N_, N_plural, Words
from coalitionletter.errors import CampaignError, StaleConsentError
from coalitionletter.models import InvitationState, Listing, UtcDateTime
from coalitionletter.names import default_sort_name, name_key

PUBLIC = Listing.PUBLIC.value
GOVERNMENTS_ONLY = Listing.GOVERNMENTS_ONLY.value
UNKNOWN_GROUP = "Other"


@dataclass(frozen=True)
class Signatory:
    """One organisation named in the letter, as printed."""

    organisation_id: int
    name: str
    country: str | None
    org_type: str | None
    website: str | None
    signer_name: str | None
    signer_title: str | None
    listing: str
    confirmed_at: datetime | None
    is_lead: bool
    stale: bool
    sort_name: str
    registry_name: str = ""
    proposed_name: str | None = None  # awaiting staff; not printed
    signer_public: bool = False  # the signer agreed to appear on the public list

    @property
    def is_public(self) -> bool:
        """True when the organisation may be named in public copies."""
        return self.listing != GOVERNMENTS_ONLY

    @property
    def renamed(self) -> bool:
        """True when the printed name is not the registry's (staff approved a correction)."""
        return self.name != self.registry_name


@dataclass(frozen=True)
class Group:
    """A heading (None for an ungrouped list) and the signatories under it."""

    heading: str | None
    signatories: tuple[Signatory, ...]


@dataclass(frozen=True)
class Roster:
    """The campaign's signatories in print order, and what the caller needs to know."""

    campaign_slug: str
    text_hash: str
    group_by: str
    signatories: tuple[Signatory, ...]
    stale: tuple[Signatory, ...] = field(default=())
    # Stale confirmations left out of the list (and of every count), for the caller to name.
    left_out: tuple[Signatory, ...] = field(default=())

    @property
    def count(self) -> int:
        """Every signatory, named or not: the number the letter states."""
        return len(self.signatories)

    @property
    def includes_stale(self) -> bool:
        """True when stale confirmations were allowed into this list."""
        return bool(self.stale)

    @property
    def has_withheld(self) -> bool:
        """True when some signatories may be named only in the delivered copies."""
        return any(not s.is_public for s in self.signatories)

    def named(self, *, delivered: bool) -> tuple[Signatory, ...]:
        """The signatories printed in a delivered copy (all) or a public copy (public only)."""
        if delivered:
            return self.signatories
        return tuple(s for s in self.signatories if s.is_public)

    def withheld_count(self, *, delivered: bool) -> int:
        """How many signatories a copy counts without naming them."""
        return 0 if delivered else self.count - len(self.named(delivered=False))

    def renamed(self) -> tuple[Signatory, ...]:
        """The signatories printed under a name other than the registry's."""
        return tuple(s for s in self.signatories if s.renamed)

    def proposals_pending(self) -> tuple[Signatory, ...]:
        """The signatories whose proposed name awaits staff (their registry name prints)."""
        return tuple(s for s in self.signatories if s.proposed_name)

    def lead_listed(self) -> bool:
        """True when the lead organisation is among the signatories."""
        return any(s.is_lead for s in self.signatories)

    def groups(self, *, delivered: bool) -> list[Group]:
        """The named signatories under their headings, in print order."""
        named = self.named(delivered=delivered)
        if self.group_by == "none":
            return [Group(None, named)]
        lead = tuple(s for s in named if s.is_lead and _lead_heads(named))
        rest = [s for s in named if s not in lead]
        heading_of = _heading_function(self.group_by)
        headings: dict[str, list[Signatory]] = {}
        for signatory in rest:
            headings.setdefault(heading_of(signatory), []).append(signatory)
        ordered = sorted(headings, key=lambda h: (h == UNKNOWN_GROUP, collation_key(h)))
        groups = [Group(None, lead)] if lead else []
        groups.extend(Group(h, tuple(headings[h])) for h in ordered)
        return groups


def _lead_heads(named: tuple[Signatory, ...]) -> bool:
    return bool(named) and named[0].is_lead


def _heading_function(group_by: str) -> Callable[[Signatory], str]:
    if group_by == "country":
        from coalitionletter.registry.countries import country_name

        return lambda s: (country_name(s.country) if s.country else None) or UNKNOWN_GROUP
    return lambda s: s.org_type or UNKNOWN_GROUP


@cache
def _collator() -> Any:
    import pyuca

    return pyuca.Collator()


@lru_cache(maxsize=65_536)
def collation_key(text: str) -> tuple[int, ...]:
    """The Unicode Collation Algorithm key of a text (root collation)."""
    return _collator().sort_key(unicodedata.normalize("NFC", text))


@lru_cache(maxsize=32)
def _lead_keys(name: str, short_name: str | None) -> frozenset[str]:
    keys = {name_key(name)}
    if short_name:
        keys.add(name_key(f"{name} ({short_name})"))
    return frozenset(keys)


def _is_lead(definition: CampaignDefinition, registered: str, printed: str) -> bool:
    wanted = _lead_keys(definition.lead.name, definition.lead.short_name)
    if name_key(registered) in wanted:
        return True
    # A corrected display name may be the lead's name even when the registry's is not.
    return printed != registered and bool(printed) and name_key(printed) in wanted


# The campaign and its confirmed signatories in one statement, only the columns a
# signatory needs, read as plain rows. Written as SQL text (constant, bound
# parameters, portable to SQLite and PostgreSQL) because a build reads it once per
# process: compiling the same SELECT from Core expressions cost ~3 ms a build, and
# loading ORM objects (every column, the identity map) most of the rest. The LEFT
# JOINs give one row of NULLs for a registered campaign nobody has confirmed yet,
# and no row at all for an unregistered one.
_SIGNATORIES = text(
    """
    SELECT o.id, o.name, o.sort_name, o.country, o.org_type, o.website,
           i.display_name, i.signer_name, i.signer_title, i.listing, i.decided_at, i.text_hash,
           i.proposed_name, i.signer_public
    FROM campaigns AS c
    LEFT JOIN invitations AS i ON i.campaign_id = c.id AND i.state = :confirmed
    LEFT JOIN organisations AS o ON o.id = i.organisation_id
    WHERE c.slug = :slug
    ORDER BY o.id
    """
).columns(decided_at=UtcDateTime())


def _signatories(session: Session, definition: CampaignDefinition, slug: str) -> list[Signatory]:
    from coalitionletter.signon.consent import current_hashes

    rows = session.connection().execute(
        _SIGNATORIES, {"slug": slug, "confirmed": InvitationState.CONFIRMED.value}
    )
    signatories, registered = [], False
    agreed: frozenset[str] | None = None
    for row in rows:
        registered = True
        if row[0] is None:
            continue
        if agreed is None and row[11] not in definition.current_hashes:
            # Only when some hash is not plainly current: earlier whitespace-only versions.
            agreed = current_hashes(session, definition)
        signatories.append(_signatory(definition, row, agreed or definition.current_hashes))
    if not registered:
        raise not_registered(slug)
    return signatories


def _signatory(
    definition: CampaignDefinition, row: Sequence[Any], agreed: frozenset[str]
) -> Signatory:
    # Unpacked by position: a plain tuple is read faster than a Row's named fields.
    (
        organisation_id,
        registered,
        registered_sort_name,
        country,
        org_type,
        website,
        display_name,
        signer_name,
        signer_title,
        listing,
        decided_at,
        text_hash,
        proposed_name,
        signer_public,
    ) = row
    corrected = (display_name or "").strip()
    name = corrected or registered
    sort_name = registered_sort_name or name
    if display_name and corrected != registered:
        sort_name = default_sort_name(name)  # a corrected name sorts as it is printed
    return Signatory(
        organisation_id=organisation_id,
        name=name,
        country=country,
        org_type=org_type,
        website=website,
        signer_name=signer_name,
        signer_title=signer_title,
        listing=listing or PUBLIC,
        confirmed_at=decided_at,
        is_lead=_is_lead(definition, registered, name),
        stale=text_hash not in agreed,
        sort_name=sort_name,
        registry_name=registered,
        proposed_name=proposed_name,
        signer_public=bool(signer_public),
    )


def _order(signatories: list[Signatory], lead_first: bool) -> list[Signatory]:
    def key(s: Signatory) -> tuple[bool, tuple[int, ...], str, int]:
        return (
            not (lead_first and s.is_lead),
            collation_key(s.sort_name),
            s.name,
            s.organisation_id,
        )

    return sorted(signatories, key=key)


def in_print_order(names: Roster, definition: CampaignDefinition) -> Roster:
    """The same roster with its signatories in print order."""
    return replace(names, signatories=tuple(_order(list(names.signatories), definition.lead_first)))


def _stale_message(definition: CampaignDefinition, stale: list[Signatory]) -> Words:
    names = "\n".join(f"  - {s.name}" for s in sorted(stale, key=lambda s: collation_key(s.name)))
    return N_plural(
        "%(count)s confirmation was given to an earlier text of the %(slug)s letter, so it "
        "cannot be printed under the current text:\n%(names)s\nAsk them to reconfirm "
        "(coalitionletter reconfirm %(slug)s); or pass --leave-out-stale to print only those "
        "who agreed to this text, or --allow-stale to list them anyway.",
        "%(count)s confirmations were given to an earlier text of the %(slug)s letter, so they "
        "cannot be printed under the current text:\n%(names)s\nAsk them to reconfirm "
        "(coalitionletter reconfirm %(slug)s); or pass --leave-out-stale to print only those "
        "who agreed to this text, or --allow-stale to list them anyway.",
        len(stale),
        slug=definition.slug,
        names=names,
    )


def read_roster(
    session: Session,
    definition: CampaignDefinition,
    *,
    allow_stale: bool = False,
    leave_out_stale: bool = False,
    locale: str = "en",
    ordered: bool = True,
) -> Roster:
    """The confirmed signatories of the campaign (by slug) in print order; stale consent refused.

    `allow_stale` lists stale confirmations (marked); `leave_out_stale` drops them from the
    list and its counts and names them in `Roster.left_out`.
    Raises a CampaignError when the campaign is not in the database. With
    `ordered=False` they come by organisation id, skipping the collation (whose
    tables take a tenth of a second to load); `in_print_order` orders them later.
    """
    # The root collation serves every locale the letters use today (English); the
    # parameter keeps callers ready for a tailored collation without changing them.
    del locale
    signatories = _signatories(session, definition, definition.slug)
    if ordered:
        signatories = _order(signatories, definition.lead_first)
    if allow_stale and leave_out_stale:
        raise CampaignError(
            N_(
                "--allow-stale lists confirmations of an earlier text and --leave-out-stale "
                "leaves them out: choose one."
            )
        )
    stale = [s for s in signatories if s.stale]
    if stale and leave_out_stale:
        return Roster(
            campaign_slug=definition.slug,
            text_hash=definition.text_hash,
            group_by=definition.group_by,
            signatories=tuple(s for s in signatories if not s.stale),
            left_out=tuple(stale),
        )
    if stale and not allow_stale:
        raise StaleConsentError(_stale_message(definition, stale), [s.name for s in stale])
    return Roster(
        campaign_slug=definition.slug,
        text_hash=definition.text_hash,
        group_by=definition.group_by,
        signatories=tuple(signatories),
        stale=tuple(stale),
    )
