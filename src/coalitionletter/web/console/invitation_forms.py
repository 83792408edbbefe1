"""The invitations area's forms (Flask-WTF): sending, recording an answer, deciding a name."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from coalitionletter.models import NAME_MAX

ACTIONS = [
    SelectChoice("confirm", "Confirmed: signs the letter"),
    SelectChoice("decline", "Declined"),
    SelectChoice("withdraw", "Withdrew its signature"),
]
LISTINGS = [
    SelectChoice("public", "Named publicly"),
    SelectChoice("governments_only", "Named only in the copies delivered to governments"),
]
DECISIONS = [
    SelectChoice("approve", "Approve: print this name"),
    SelectChoice("reject", "Reject: keep the name printed now"),
]


class SendForm(FlaskForm):
    """Which organisations to invite: every one not yet invited, or the ticked ones."""

    scope = RadioField("Send to", choices=[SelectChoice("all"), SelectChoice("ticked")])
    org = SelectMultipleField("Organisations", coerce=int, validate_choice=False)

    def validate_org(self, field: SelectMultipleField) -> None:
        """Ticked sends need at least one organisation ticked."""
        if self.scope.data == "ticked" and not field.data:
            raise ValidationError(
                "No organisation is ticked. Tick the organisations to invite in the list, "
                "or send to every organisation not yet invited."
            )


class AnswerForm(FlaskForm):
    """An answer received by email or phone, as `coalitionletter sign` takes it."""

    action = RadioField(
        "What the organisation answered",
        choices=ACTIONS,
        validators=[InputRequired("Choose what the organisation answered.")],
    )
    # No Optional(): it would stop the check that a confirmation names its signer.
    signer = StringField("Who gave the answer", validators=[Length(max=NAME_MAX)])
    title = StringField("Their title", validators=[Length(max=NAME_MAX)])
    display_name = StringField(
        "Name to print, if it differs from the registry",
        validators=[Optional(), Length(max=NAME_MAX)],
    )
    listing = RadioField("How it is named", choices=LISTINGS, default="public")
    reason = TextAreaField("Why it declined (optional)", validators=[Optional(), Length(max=2000)])
    received_on = StringField(
        "When the answer arrived (needed after the sign-on has closed)",
        validators=[Optional(), Length(max=40)],
    )

    def validate_signer(self, field: StringField) -> None:
        """A confirmation names the person who gave it."""
        if self.action.data == "confirm" and not (field.data or "").strip():
            raise ValidationError("A confirmation needs the name of the person who gave it.")

    def validate_title(self, field: StringField) -> None:
        """A confirmation gives that person's title."""
        if self.action.data == "confirm" and not (field.data or "").strip():
            raise ValidationError("A confirmation needs the title of the person who gave it.")


class NameDecisionForm(FlaskForm):
    """Approve or reject one proposed name, as it was shown."""

    decision = RadioField(
        "Decision", choices=DECISIONS, validators=[InputRequired("Choose approve or reject.")]
    )
    expected = HiddenField()
    reason = StringField("Reason (kept in the trail)", validators=[Optional(), Length(max=500)])
