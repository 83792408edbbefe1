"""The sign-on form as posted: its fields read, checked and turned into a decision's fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from flask import request

from coalitionletter.catalogs import N_, Words
from coalitionletter.errors import NameProposalError, TextError
from coalitionletter.models import Listing

FIELD_MAX = 300
REASON_MAX = 2000
ACTIONS = ("confirm", "decline", "withdraw", "change_listing")
# The second step of withdrawing: a withdraw form without it only asks "are you sure?".
WITHDRAW_CONFIRMED = "withdraw_confirmed"
URLENCODED = "application/x-www-form-urlencoded"


def posted_form() -> Mapping[str, str] | None:
    """The POSTed form's fields (the first value of each), or None when they are not UTF-8.

    A browser's urlencoded form is read here with the standard library because
    werkzeug's parser keeps a percent-escape that is not UTF-8 as literal text in
    the field (its speed made no measurable difference: CONTRIBUTING.md, "Speed
    paths"). `get_data` still refuses a body over MAX_CONTENT_LENGTH (413); other
    kinds of body go to werkzeug's parser.
    """
    if request.mimetype != URLENCODED:
        return request.form
    try:
        text = request.get_data(cache=False).decode("utf-8")
        # Strict: percent-escaped bytes that are not UTF-8 (%FF, the overlong %C0%AF, the
        # surrogate %ED%A0%80) refuse the form, as the same bytes sent raw do.
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


FORM_VALUES = ("signer_name", "signer_title", "display_name", "listing", "signer_public", "reason")


class FormErrors(Exception):
    """The form's problems, by field name, in words the page translates."""

    def __init__(self, errors: dict[str, Words]) -> None:
        super().__init__("form errors")
        self.errors = errors


# The fields' names as the messages about them say them.
LABELS = {
    "signer_name": N_("Your name"),
    "signer_title": N_("Your title"),
    "display_name": N_("Name as printed"),
    "reason": N_("Reason"),
}


# What the core's reasons for refusing a value mean to a visitor (N_ marks them for the
# catalogs; `%(field)s` is the field's label, the other values are the core's).
REASONS = {
    "empty": N_("%(field)s is empty. Fill it in (it is required)."),
    "character": N_(
        "%(field)s has the character %(character)s at position %(position)s, which cannot "
        "be printed (an invisible or control character can make a name read as another). "
        "Remove it and try again."
    ),
    "length": N_(
        "%(field)s is %(length)s characters long; at most %(limit)s are allowed. Shorten it."
    ),
    "no_letter": N_("%(field)s has no letter or digit in it. Give the real name."),
    "lead": N_(
        "This is the name of the organisation that leads this letter, so it cannot be "
        "printed for yours. Give your own organisation's name."
    ),
    "another": N_(
        "This is the name of another organisation on our list, so it cannot be printed "
        "for yours. Give your own organisation's name."
    ),
}


def text_words(exc: TextError | NameProposalError, label: Words) -> Words:
    """What is wrong with a value, in words the page translates (the core's reason, its values)."""
    known = REASONS.get(exc.reason)
    if known is None:
        # A reason this face does not know yet: the core's own (English) message.
        return Words(str(exc).replace("%", "%%"))
    return Words(known.msgid, tuple(sorted({"field": label, **exc.values}.items())))


def proposal_words(exc: NameProposalError) -> Words:
    """Why a proposed printed name was refused, in words the page translates."""
    return text_words(exc, LABELS["display_name"])


def _text_field(
    form: Any, name: str, label: str, errors: dict[str, Words], *, required: bool, limit: int
) -> str | None:
    from coalitionletter.names import clean_text

    try:
        return clean_text(
            form.get(name, ""),
            label,
            max_length=limit,
            required=required,
            multiline=limit > FIELD_MAX,
        )
    except TextError as exc:
        errors[name] = text_words(exc, LABELS[name])
        return None


def _listing_fields(form: Any) -> dict[str, str | bool | None]:
    """How the organisation and its signer are listed: the choices a confirmation makes
    and a change of listing changes. The signer is public only when the box is ticked."""
    listing = form.get("listing", Listing.PUBLIC.value)
    if listing not in (Listing.PUBLIC.value, Listing.GOVERNMENTS_ONLY.value):
        raise FormErrors({"listing": N_("Choose how your organisation may be named.")})
    return {"listing": listing, "signer_public": form.get("signer_public") == "yes"}


def decision_fields(
    action: str, form: Any, registry_name: str, printed_name: str | None = None
) -> dict[str, str | bool | None]:
    """The fields a decision sets, checked (FormErrors says what is wrong with which).

    A name as printed that differs from the one printed now (`printed_name`, else
    the registry's) becomes `proposed_name`: a request staff approve or reject,
    checked against the registry by the caller. The registry name, or an empty
    field, goes back to the registry name at once (it is the fact), dropping any
    pending proposal; the name printed now keeps printing and drops one too.
    """
    errors: dict[str, Words] = {}
    if action == "decline":
        reason = _text_field(form, "reason", "Reason", errors, required=False, limit=REASON_MAX)
        if errors:
            raise FormErrors(errors)
        return {"decline_reason": reason} if reason else {}
    if action == "withdraw":
        return {}
    if action == "change_listing":
        return _listing_fields(form)
    signer = _text_field(form, "signer_name", "Your name", errors, required=True, limit=FIELD_MAX)
    title = _text_field(form, "signer_title", "Your title", errors, required=True, limit=FIELD_MAX)
    display = _text_field(
        form, "display_name", "Name as printed", errors, required=False, limit=FIELD_MAX
    )
    if form.get("authorised") != "yes":
        errors["authorised"] = N_(
            "Tick the box to say you are authorised to sign for your organisation."
        )
    try:
        listed = _listing_fields(form)
    except FormErrors as problems:
        errors.update(problems.errors)
    if errors:
        raise FormErrors(errors)
    fields: dict[str, str | bool | None] = {
        "signer_name": signer or "",
        "signer_title": title or "",
        **listed,
        "proposed_name": None,
    }
    if not display or display == registry_name:
        fields["display_name"] = None
    elif display != (printed_name or registry_name):
        fields["proposed_name"] = display
    return fields
