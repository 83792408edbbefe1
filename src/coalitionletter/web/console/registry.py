"""The registry in the console (staff only): find, show, add and edit organisations and
their contacts, and merge duplicates.

Every page calls the same core functions as the `org` commands (list, show,
add, edit, duplicates, merge), with the signed-in account as the trail's
`staff: NAME`; the imports are in imports.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, abort, flash, get_flashed_messages, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as AnyResponse

from coalitionletter.catalogs import N_, Words
from coalitionletter.errors import FieldsError, RegistryError
from coalitionletter.registry.fields import CONTACT_FIELDS, ORGANISATION_FIELDS
from coalitionletter.web.console import auth
from coalitionletter.web.console.forms import ContactForm, OrganisationForm
from coalitionletter.web.console.shell import STAFF, Console, Rule

PER_PAGE = 50
# The organisation fields the edit form shows (the contacts are edited one by one).
EDITED = ("name", "sort_name", "slug", "country", "org_type", "website", "notes")
UNCHANGED = N_("Nothing was changed: every field already had that value.")


def actor() -> str:
    """The trail's name for the signed-in account, as the CLI writes `[staff] name`."""
    from coalitionletter.signon.states import staff_actor

    return staff_actor(current_user.name)


def refusal(exc: RegistryError, say: Callable[[Any], str]) -> tuple[dict[str, str], list[str]]:
    """A refusal as messages by field (for FieldsError) and messages for the whole form.

    `say` puts the core's words in the page's language (Console.words); the form's
    macros receive them as text.
    """
    if not isinstance(exc, FieldsError):
        return {}, [say(exc)]
    fields: dict[str, str] = {}
    general: list[str] = []
    for problem in exc.problems:
        field = getattr(problem, "field", None)
        if field:
            fields[field] = " ".join(filter(None, [fields.get(field), say(problem.said)]))
        else:
            general.append(say(problem.said))
    return fields, general


@dataclass(frozen=True)
class Listing:
    """One page of the organisation list, with the filters that made it."""

    rows: list[Any]
    total: int
    page: int
    pages: int


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) > 0 else 1


def _paged(found: list[Any], wanted: int) -> Listing:
    pages = max(1, -(-len(found) // PER_PAGE))
    page = min(wanted, pages)
    start = (page - 1) * PER_PAGE
    return Listing(found[start : start + PER_PAGE], len(found), page, pages)


class Registry:
    """The registry's pages."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def page(self, template: str, status: int = 200, **context: Any) -> Response:
        """A registry page, with what the last change did (POST, redirect, then this)."""
        notices = get_flashed_messages()
        return self.console.page(template, status, notices=notices, **context)

    # --- finding --------------------------------------------------------------------------

    def organisations(self) -> Response:
        """Search and filter the registry, as `org list` does, a page at a time."""
        from coalitionletter.registry import organisations as registry

        args = request.args
        search, country = args.get("search", "")[:300], args.get("country", "")[:80]
        org_type, merged = args.get("type", "")[:80], args.get("merged", "") == "1"
        query = {"search": search, "country": country, "type": org_type, "merged": merged}
        filters = registry.Filters(country or None, org_type or None, search or None, merged)
        errors: list[str] = []
        with self.console.database.reading() as db:
            choices = registry.filter_choices(db)
            try:
                found = registry.list_organisations(db, filters)
            except RegistryError as exc:
                found, errors = [], [self.console.words(exc)]
            listing = _paged(found, _page_number(args.get("page")))
            merged_names = _merged_names(db, listing.rows)
        return self.page(
            "organisations.html",
            400 if errors else 200,
            listing=listing,
            query=query,
            choices=choices,
            errors=errors,
            merged_names=merged_names,
            country_name=_country_name,
        )

    def organisation(self, org_id: int) -> Response:
        """One organisation: its fields, contacts and answers, as `org show`."""
        from coalitionletter.registry import organisations as registry

        with self.console.database.reading() as db:
            details = _details(db, org_id)
            contacts = registry.find_organisation(db, str(org_id)).contacts
            contact_ids = [contact.id for contact in contacts]
        return self.page(
            "organisation.html",
            details=details,
            contacts=list(zip(contact_ids, details["contacts"], strict=True)),
        )

    # --- adding and editing ---------------------------------------------------------------

    def add(self) -> AnyResponse:
        """A new organisation with its first contact, as `org add`."""
        from coalitionletter.registry import organisations as registry

        form = OrganisationForm()
        typed = _typed(form, (*ORGANISATION_FIELDS, *CONTACT_FIELDS))
        if request.method == "GET":
            return self._organisation_form(None, typed, {}, [])
        # As `org add NAME [options]`: the name always, the other fields when given.
        raw = {key: value for key, value in typed.items() if value.strip() or key == "name"}
        try:
            with self.console.database.writing() as db:
                added = registry.add(db, raw, actor=actor())
                summary, new_id = _named(added.id, added.name, added.slug), added.id
        except RegistryError as exc:
            fields, general = refusal(exc, self.console.words)
            return self._organisation_form(None, typed, fields, general, 400)
        flash(self.console.words(N_("Added %(organisation)s.", organisation=summary)))
        return redirect(url_for("console.organisation", org_id=new_id))

    def edit(self, org_id: int) -> AnyResponse:
        """Change an organisation's fields, as `org edit` (only what was changed is sent)."""
        from coalitionletter.registry import organisations as registry

        with self.console.database.reading() as db:
            details = _details(db, org_id)
        current = _current_values(details)
        if request.method == "GET":
            return self._organisation_form(details, current, {}, [])
        typed = _typed(OrganisationForm(), EDITED)
        # Only the fields staff changed, as the CLI passes only the options given: a rename
        # then recomputes a default sort name, and a sort name set by hand stays.
        raw = {key: value for key, value in typed.items() if value != current[key]}
        if not raw:
            flash(self.console.words(UNCHANGED))
            return redirect(url_for("console.organisation", org_id=org_id))
        try:
            with self.console.database.writing() as db:
                organisation, changed = registry.edit(db, str(org_id), raw, actor=actor())
                summary = _named(organisation.id, organisation.name, organisation.slug)
        except RegistryError as exc:
            fields, general = refusal(exc, self.console.words)
            return self._organisation_form(details, typed, fields, general, 400)
        if changed:
            said = N_(
                "Changed %(fields)s of %(organisation)s.",
                fields=", ".join(changed),
                organisation=summary,
            )
        else:
            said = N_(
                "Nothing to change: %(organisation)s already has those values.",
                organisation=summary,
            )
        flash(self.console.words(said))
        return redirect(url_for("console.organisation", org_id=org_id))

    def _organisation_form(
        self,
        details: Mapping[str, Any] | None,
        values: Mapping[str, str],
        errors: dict[str, str],
        general: list[str],
        status: int = 200,
    ) -> Response:
        """The organisation form: adding one when `details` is None, else editing it."""
        return self.page(
            "organisation_form.html",
            status,
            details=details,
            form=values,
            errors=errors,
            general=general,
        )

    # --- contacts -------------------------------------------------------------------------

    def add_contact(self, org_id: int) -> AnyResponse:
        """Add a person to an organisation."""
        from coalitionletter.registry import contacts

        with self.console.database.reading() as db:
            details = _details(db, org_id)
        typed = _typed(ContactForm(), CONTACT_FIELDS)
        if request.method == "GET":
            return self._contact_form(details, None, typed, {}, general=[])
        raw = {key: value for key, value in typed.items() if value.strip()}
        try:
            with self.console.database.writing() as db:
                added = contacts.add_contact(db, str(org_id), raw, actor=actor())
                number = added.id
        except RegistryError as exc:
            fields, general = refusal(exc, self.console.words)
            return self._contact_form(details, None, typed, fields, general=general, status=400)
        said = N_(
            "Added contact #%(number)s to %(organisation)s.",
            number=number,
            organisation=_label(details),
        )
        flash(self.console.words(said))
        return redirect(url_for("console.organisation", org_id=org_id))

    def edit_contact(self, org_id: int, contact_id: int) -> AnyResponse:
        """Change one contact's fields ("" clears one)."""
        from coalitionletter.registry import contacts

        with self.console.database.reading() as db:
            details = _details(db, org_id)
            current = _contact_values(db, org_id, contact_id)
        if request.method == "GET":
            return self._contact_form(details, contact_id, current, {}, general=[])
        typed = _typed(ContactForm(), CONTACT_FIELDS)
        raw = {key: value for key, value in typed.items() if value != current[key]}
        try:
            with self.console.database.writing() as db:
                changed = contacts.edit_contact(db, str(org_id), contact_id, raw, actor=actor())
        except RegistryError as exc:
            fields, general = refusal(exc, self.console.words)
            return self._contact_form(
                details, contact_id, typed, fields, general=general, status=400
            )
        if changed:
            said = N_(
                "Changed %(fields)s of contact #%(number)s of %(organisation)s.",
                fields=", ".join(changed),
                number=contact_id,
                organisation=_label(details),
            )
        else:
            said = N_(
                "Nothing to change: contact #%(number)s of %(organisation)s "
                "already has those values.",
                number=contact_id,
                organisation=_label(details),
            )
        flash(self.console.words(said))
        return redirect(url_for("console.organisation", org_id=org_id))

    def remove_contact(self, org_id: int, contact_id: int) -> AnyResponse:
        """Take one person off an organisation (POST)."""
        from coalitionletter.registry import contacts
        from coalitionletter.registry import organisations as registry

        try:
            with self.console.database.writing() as db:
                named = contacts.remove_contact(db, str(org_id), contact_id, actor=actor())
                details = registry.show(db, str(org_id))
        except RegistryError as exc:
            return self.console.problem(400, self.console.words(exc))
        said = N_(
            "Removed contact #%(number)s (%(contact)s) from %(organisation)s.",
            number=contact_id,
            contact=named,
            organisation=_label(details),
        )
        flash(self.console.words(said))
        return redirect(url_for("console.organisation", org_id=org_id))

    def _contact_form(
        self,
        details: Mapping[str, Any],
        contact_id: int | None,
        values: Mapping[str, str],
        errors: dict[str, str],
        *,
        general: list[str],
        status: int = 200,
    ) -> Response:
        return self.page(
            "contact_form.html",
            status,
            details=details,
            contact_id=contact_id,
            form=values,
            errors=errors,
            general=general,
        )

    # --- duplicates -----------------------------------------------------------------------

    def duplicates(self) -> Response:
        """Pairs that look like one organisation, as `org duplicates`, each to review."""
        from coalitionletter.registry import duplicates

        with self.console.database.reading() as db:
            pairs = [
                (pair.first.id, pair.first.name, pair.second.id, pair.second.name, pair.reasons)
                for pair in duplicates.likely_duplicates(db)
            ]
        return self.page("duplicates.html", pairs=pairs)

    def merge(self) -> AnyResponse:
        """GET: what the kept organisation will look like; POST: merge, as `org merge`."""
        from coalitionletter.registry import organisations as registry
        from coalitionletter.registry import removal

        source = request.args if request.method == "GET" else request.form
        keep, other = source.get("keep", "")[:300], source.get("other", "")[:300]
        if request.method == "POST":
            try:
                with self.console.database.writing() as db:
                    kept_id = registry.find_organisation(db, keep).id
                    result = removal.merge(db, keep, other, actor=actor())
            except RegistryError as exc:
                return self.page(
                    "merge.html", 400, plan=None, error=self.console.words(exc), keep=keep
                )
            flash(" ".join(self.console.words(part) for part in _merge_summary(result)))
            return redirect(url_for("console.organisation", org_id=kept_id))
        if not keep or not other:
            error = N_("Name both organisations: the one to keep and the one to merge into it.")
            return self.page("merge.html", 400, plan=None, error=error, keep=keep)
        try:
            with self.console.database.reading() as db:
                plan = _merge_preview(db, keep, other)
        except RegistryError as exc:
            return self.page("merge.html", 400, plan=None, error=self.console.words(exc), keep=keep)
        return self.page("merge.html", plan=plan, error=None, keep=keep)


def _typed(form: Any, keys: tuple[str, ...]) -> dict[str, str]:
    """What was typed into each field ("" for an empty one)."""
    return {key: (getattr(form, key).data or "") for key in keys}


def _label(details: Mapping[str, Any]) -> Words:
    """How `org` commands name an organisation: `#3 NAME (slug SLUG)`."""
    return _named(details["id"], details["name"], details["slug"])


def _named(number: int, name: str, slug: str) -> Words:
    """An organisation as notices name it, in the page's language (as duplicates.label)."""
    return N_("#%(id)s %(name)s (slug %(slug)s)", id=number, name=name, slug=slug)


def _details(db: Any, org_id: int) -> dict[str, Any]:
    from coalitionletter.registry import organisations as registry

    try:
        return registry.show(db, str(org_id))
    except RegistryError:
        abort(404)


def _current_values(details: Mapping[str, Any]) -> dict[str, str]:
    """An organisation's fields as the edit form shows them."""
    shown = {key: details.get(key) for key in EDITED}
    shown["org_type"] = details.get("type")
    return {key: value or "" for key, value in shown.items()}


def _contact_values(db: Any, org_id: int, contact_id: int) -> dict[str, str]:
    from coalitionletter.models import Contact

    contact = db.get(Contact, contact_id)
    if contact is None or contact.organisation_id != org_id:
        abort(404)
    values = {
        "contact_name": contact.name,
        "contact_title": contact.title,
        "email": contact.email,
        "language": contact.language,
    }
    return {key: value or "" for key, value in values.items()}


def _merged_names(db: Any, rows: list[Any]) -> dict[int, str]:
    """The names of the organisations rows were merged into (`org list --all` marks them)."""
    from coalitionletter.models import Organisation

    names = {}
    for row in rows:
        if row.merged_into_id is not None:
            survivor = db.get(Organisation, row.merged_into_id)
            names[row.id] = survivor.name if survivor is not None else ""
    return names


def _country_name(code: str | None) -> str:
    from coalitionletter.registry import countries

    return countries.country_name(code)


@dataclass(frozen=True)
class MergePreview:
    """What a merge will do, as plain values for the confirmation page."""

    kept: dict[str, Any]
    other: dict[str, Any]
    contacts_after: list[dict[str, str | None]]
    contacts_moving: int
    answers_moving: list[str]
    answers_left: list[str]


def _merge_preview(db: Any, keep: str, other: str) -> MergePreview:
    from coalitionletter.registry import organisations as registry
    from coalitionletter.registry import removal

    plan = removal.plan_merge(db, keep, other)
    return MergePreview(
        kept=registry.show(db, str(plan.kept.id)),
        other=registry.show(db, str(plan.other.id)),
        contacts_after=[registry.contact_dict(c) for c in plan.contacts_after()],
        contacts_moving=len(plan.contacts_moving),
        answers_moving=plan.answers_moving(),
        answers_left=list(plan.invitations_left),
    )


def _merge_summary(result: Any) -> list[Words]:
    """What `org merge` prints, in one notice."""
    parts = [
        N_(
            "Merged %(merged)s into %(kept)s. Contacts moved: %(contacts)s.",
            merged=result.merged,
            kept=result.kept,
            contacts=result.contacts_moved,
        )
    ]
    if result.invitations_moved:
        answers = ", ".join(result.invitations_moved)
        parts.append(N_("Answers moved: %(answers)s.", answers=answers))
    if result.invitations_left:
        answers = ", ".join(result.invitations_left)
        parts.append(N_("Answers left with the merged one: %(answers)s.", answers=answers))
    return parts


def rules(console: Console) -> list[Rule]:
    """The URL rules of the registry (every one staff only)."""
    pages = Registry(console)
    staff_only: Callable[..., Any] = auth.requires(STAFF)
    base = "/organisations"
    return [
        (base, "organisations", staff_only(pages.organisations), ["GET"]),
        (f"{base}/new", "add_organisation", staff_only(pages.add), ["GET", "POST"]),
        (f"{base}/<int:org_id>", "organisation", staff_only(pages.organisation), ["GET"]),
        (f"{base}/<int:org_id>/edit", "edit_organisation", staff_only(pages.edit), ["GET", "POST"]),
        (
            f"{base}/<int:org_id>/contacts/new",
            "add_contact",
            staff_only(pages.add_contact),
            ["GET", "POST"],
        ),
        (
            f"{base}/<int:org_id>/contacts/<int:contact_id>/edit",
            "edit_contact",
            staff_only(pages.edit_contact),
            ["GET", "POST"],
        ),
        (
            f"{base}/<int:org_id>/contacts/<int:contact_id>/remove",
            "remove_contact",
            staff_only(pages.remove_contact),
            ["POST"],
        ),
        (f"{base}/duplicates", "duplicates", staff_only(pages.duplicates), ["GET"]),
        (f"{base}/merge", "merge", staff_only(pages.merge), ["GET", "POST"]),
    ]
