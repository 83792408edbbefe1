"""The console's forms (Flask-WTF): each POST form carries a CSRF token bound to the session.

Labels and messages are marked with N_ and translated where the page shows
them; WTForms' own messages ("This field is required.") come from WTForms'
shipped catalogs, in the console's language of the request.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from coalitionletter.catalogs import N_, SOURCE_LANGUAGE
from coalitionletter.staff.accounts import PASSWORD_MAX

# Where views.py puts the request's console language for the forms.
LANGUAGE_KEY = "console_language"


class ConsoleForm(FlaskForm):
    """A console form whose WTForms messages are in the page's language."""

    class Meta(FlaskForm.Meta):
        """WTForms' own catalogs, not Flask-Babel (the console does not use it)."""

        def get_translations(self, form: Any) -> Any:
            """WTForms' translations for the console language of this request."""
            from wtforms.i18n import get_translations

            return get_translations([g.get(LANGUAGE_KEY, SOURCE_LANGUAGE), SOURCE_LANGUAGE])


class LoginForm(ConsoleForm):
    """Email address and password."""

    email = EmailField(N_("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(N_("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class SetPasswordForm(ConsoleForm):
    """A new password, twice (the rules are the core's: staff/accounts.py)."""

    password = PasswordField(N_("New password"), validators=[DataRequired()])
    confirmation = PasswordField(N_("The same password again"), validators=[DataRequired()])


class OrganisationForm(ConsoleForm):
    """An organisation's fields and, when adding, its first contact (checked by the core)."""

    name = StringField(N_("Name, exactly as it must appear in a letter"))
    sort_name = StringField(N_("Sort name"))
    slug = StringField(N_("Slug"))
    country = StringField(N_("Country"))
    org_type = StringField(N_("Type"))
    website = StringField(N_("Website"))
    notes = TextAreaField(N_("Notes for staff"))
    contact_name = StringField(N_("Contact person"))
    contact_title = StringField(N_("Title"))
    email = StringField(N_("Email address"))
    language = StringField(N_("Language"))


class ContactForm(ConsoleForm):
    """One contact person (checked by the core)."""

    contact_name = StringField(N_("Contact person"))
    contact_title = StringField(N_("Title"))
    email = StringField(N_("Email address"))
    language = StringField(N_("Language"))


class ImportForm(ConsoleForm):
    """A spreadsheet saved as CSV, and how to treat organisations already in the registry."""

    file = FileField(N_("CSV file"))
    update = BooleanField(N_("Update organisations already in the registry"))
    overwrite_names = BooleanField(N_("With updates, replace registry names with the file's"))


class ConfirmImportForm(ConsoleForm):
    """The checked upload by its SHA-256, with the options and the dry run it was checked with."""

    upload = HiddenField()
    filename = HiddenField()
    fingerprint = HiddenField()
    update = HiddenField()
    overwrite_names = HiddenField()


class BuildForm(ConsoleForm):
    """The choices of `coalitionletter build` that the letters page offers."""

    leave_out_stale = BooleanField(N_("Leave out organisations that confirmed an earlier text"))
    force = BooleanField(N_("Rebuild every file, even if nothing changed"))


class DeliveredForm(ConsoleForm):
    """The confirmation asked before a copy naming withheld organisations is handed over."""

    understood = BooleanField(
        N_("I will send this copy only to the governments it is for, and never publish it"),
        validators=[DataRequired()],
    )
