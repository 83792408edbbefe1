"""The console's forms (Flask-WTF): each POST form carries a CSRF token bound to the session."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
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
