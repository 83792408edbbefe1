"""The console's forms (Flask-WTF): each POST form carries a CSRF token bound to the session."""

from __future__ import annotations

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

from coalitionletter.staff.accounts import PASSWORD_MAX


class LoginForm(FlaskForm):
    """Email address and password."""

    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class SetPasswordForm(FlaskForm):
    """A new password, twice (the rules are the core's: staff/accounts.py)."""

    password = PasswordField("New password", validators=[DataRequired()])
    confirmation = PasswordField("The same password again", validators=[DataRequired()])


class OrganisationForm(FlaskForm):
    """An organisation's fields and, when adding, its first contact (checked by the core)."""

    name = StringField("Name, exactly as it must appear in a letter")
    sort_name = StringField("Sort name")
    slug = StringField("Slug")
    country = StringField("Country")
    org_type = StringField("Type")
    website = StringField("Website")
    notes = TextAreaField("Notes for staff")
    contact_name = StringField("Contact person")
    contact_title = StringField("Title")
    email = StringField("Email address")
    language = StringField("Language")


class ContactForm(FlaskForm):
    """One contact person (checked by the core)."""

    contact_name = StringField("Contact person")
    contact_title = StringField("Title")
    email = StringField("Email address")
    language = StringField("Language")


class ImportForm(FlaskForm):
    """A spreadsheet saved as CSV, and how to treat organisations already in the registry."""

    file = FileField("CSV file")
    update = BooleanField("Update organisations already in the registry")
    overwrite_names = BooleanField("With updates, replace registry names with the file's")


class ConfirmImportForm(FlaskForm):
    """The checked upload by its SHA-256, with the options and the dry run it was checked with."""

    upload = HiddenField()
    filename = HiddenField()
    fingerprint = HiddenField()
    update = HiddenField()
    overwrite_names = HiddenField()


class BuildForm(FlaskForm):
    """The choices of `coalitionletter build` that the letters page offers."""

    leave_out_stale = BooleanField("Leave out organisations that confirmed an earlier text")
    force = BooleanField("Rebuild every file, even if nothing changed")


class DeliveredForm(FlaskForm):
    """The confirmation asked before a copy naming withheld organisations is handed over."""

    understood = BooleanField(
        "I will send this copy only to the governments it is for, and never publish it",
        validators=[DataRequired()],
    )
