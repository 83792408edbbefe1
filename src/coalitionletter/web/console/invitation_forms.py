"""The invitations area's forms (Flask-WTF): sending, recording an answer, deciding a name."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from coalitionletter.catalogs import N_
from coalitionletter.models import NAME_MAX
from coalitionletter.web.console.forms import ConsoleForm

ACTIONS = [
    SelectChoice("confirm", N_("Confirmed: signs the letter")),
    SelectChoice("decline", N_("Declined")),
    SelectChoice("withdraw", N_("Withdrew its signature")),
]
LISTINGS = [
    SelectChoice("public", N_("Named publicly")),
    SelectChoice("governments_only", N_("Named only in the copies delivered to governments")),
]
DECISIONS = [
    SelectChoice("approve", N_("Approve: print this name")),
    SelectChoice("reject", N_("Reject: keep the name printed now")),
]


class SendForm(ConsoleForm):
    """Which organisations to invite: every one not yet invited, or the ticked ones."""

    scope = RadioField(N_("Send to"), choices=[SelectChoice("all"), SelectChoice("ticked")])
    org = SelectMultipleField(N_("Organisations"), coerce=int, validate_choice=False)

    def validate_org(self, field: SelectMultipleField) -> None:
        """Ticked sends need at least one organisation ticked."""
        if self.scope.data == "ticked" and not field.data:
            raise ValidationError(
                N_(  # the page translates it
                    "No organisation is ticked. Tick the organisations to invite in the list, "
                    "or send to every organisation not yet invited."
                )
            )


class AnswerForm(ConsoleForm):
    """An answer received by email or phone, as `coalitionletter sign` takes it."""

    action = RadioField(
        N_("What the organisation answered"),
        choices=ACTIONS,
        validators=[InputRequired(N_("Choose what the organisation answered."))],
    )
    # No Optional(): it would stop the check that a confirmation names its signer.
    signer = StringField(N_("Who gave the answer"), validators=[Length(max=NAME_MAX)])
    title = StringField(N_("Their title"), validators=[Length(max=NAME_MAX)])
    display_name = StringField(
        N_("Name to print, if it differs from the registry"),
        validators=[Optional(), Length(max=NAME_MAX)],
    )
    listing = RadioField(N_("How it is named"), choices=LISTINGS, default="public")
    # Unticked unless staff tick it, as on the sign-on page: never opted in for them.
    signer_public = BooleanField(
        N_("The signer's name and title may also appear on the public list of signatories")
    )
    reason = TextAreaField(
        N_("Why it declined (optional)"), validators=[Optional(), Length(max=2000)]
    )
    received_on = StringField(
        N_("When the answer arrived (needed after the sign-on has closed)"),
        validators=[Optional(), Length(max=40)],
    )

    def validate_signer(self, field: StringField) -> None:
        """A confirmation names the person who gave it."""
        if self.action.data == "confirm" and not (field.data or "").strip():
            raise ValidationError(N_("A confirmation needs the name of the person who gave it."))

    def validate_title(self, field: StringField) -> None:
        """A confirmation gives that person's title."""
        if self.action.data == "confirm" and not (field.data or "").strip():
            raise ValidationError(N_("A confirmation needs the title of the person who gave it."))


class NameDecisionForm(ConsoleForm):
    """Approve or reject one proposed name, as it was shown."""

    decision = RadioField(
        N_("Decision"),
        choices=DECISIONS,
        validators=[InputRequired(N_("Choose approve or reject."))],
    )
    expected = HiddenField()
    reason = StringField(N_("Reason (kept in the trail)"), validators=[Optional(), Length(max=500)])
