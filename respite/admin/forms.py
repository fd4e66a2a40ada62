"""Coordinator forms: inviting staff; deactivating, changing the role of and erasing an account."""

from typing import Any

from sqlalchemy import select
from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField
from wtforms.form import BaseForm
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, StopValidation, ValidationError

from ..accounts.forms import EmailUnique, TimezoneField, email_rules, fill_zones
from ..extensions import db
from ..models import Center, User
from ..web.forms import Form
from .services import MAX_ALLOTMENT_HOURS


class InviteForm(EmailUnique, Form):
    display_name = StringField("Name", validators=[DataRequired("Enter the person's name."), Length(max=120)])
    email = EmailField("Email", validators=email_rules("Enter an email."))
    role = SelectField(
        "Role",
        choices=[("provider", "Provider"), ("coordinator", "Coordinator")],
        description="A kiosk tablet is not invited: pair it on the Kiosks page.",
    )
    center_id = SelectField("Center", coerce=int, description="A provider's home center.")
    timezone = TimezoneField()
    send_email = BooleanField("Email the invitation to them now", default=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        centers = db.session.execute(select(Center.id, Center.name, Center.timezone).order_by(Center.name)).all()
        self.center_id.choices = [(0, "No center")] + [(c.id, c.name) for c in centers]
        # Staff work at the centers: suggest their zones after the coordinator's own.
        fill_zones(self.timezone, in_use=[c.timezone for c in centers])


REASON_HINT = "Kept in the audit log for good: say why, without health details."


def reason_field(label: str = "Reason", hint: str = REASON_HINT) -> StringField:
    required = DataRequired("Give a reason: it is kept in the audit log.")
    return StringField(label, validators=[required, Length(max=500)], description=hint)


class AccountStateForm(Form):
    """Deactivate or reactivate an account (the page shows the one that applies)."""

    reason = reason_field()


class RoleForm(Form):
    new_role = SelectField("New role", choices=[("provider", "Provider"), ("coordinator", "Coordinator")])
    reason = reason_field()


class EraseForm(Form):
    """Erasing can't be undone: the coordinator types the person's name as shown to confirm it."""

    confirm_name = StringField("Type their name to confirm", validators=[DataRequired("Type the person's name.")])
    reason = reason_field(
        "Reason (for example, how the request came in)",
        "Kept in the audit log for good, after their details are gone: don't write their name here.",
    )

    def __init__(self, *args: Any, person: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person

    def validate_confirm_name(self, field: StringField) -> None:
        if _comparable(field.data) != _comparable(self.person.display_name):
            raise ValidationError(f"That isn't the name on this account: {self.person.display_name}.")


def _comparable(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


# --- People: one person's details, their allotment, and the program's default hours -----------------------


class PersonForm(EmailUnique, Form):
    """A coordinator's change to someone's details (their own are on their account page)."""

    display_name = StringField("Name", validators=[DataRequired("Enter the person's name."), Length(max=120)])
    email = EmailField("Email", validators=email_rules("Enter an email."))
    timezone = TimezoneField()
    center_id = SelectField("Center", coerce=int)
    email_taken_message = "Another account already uses this email address."

    def __init__(self, *args: Any, person: User, centers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_user_id = person.id
        self.center_id.choices = [(0, "No center")] + centers
        fill_zones(self.timezone)
        if person.role == "kiosk":
            self.center_id.description = "The center whose front desk this kiosk account is."
        elif person.role == "provider":
            self.center_id.description = "Their home center: matching suggests them there first."


class HoursField(IntegerField):
    """Whole hours, 0 to MAX_ALLOTMENT_HOURS; anything else is refused beside the field in plain words."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        message = f"Give a whole number of hours from 0 to {MAX_ALLOTMENT_HOURS}."
        super().__init__(
            label,
            validators=[InputRequired(message), NumberRange(0, MAX_ALLOTMENT_HOURS, message)],
            render_kw={"inputmode": "numeric", "min": 0, "max": MAX_ALLOTMENT_HOURS},
            **kwargs,
        )
        self.invalid_message = message

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.invalid_message) from None

    def pre_validate(self, form: BaseForm) -> None:
        if self.process_errors:  # not a number: that one message, not the range's too
            raise StopValidation()


class AllotmentForm(Form):
    hours = HoursField("Respite hours a year")
    reason = reason_field(hint="Kept in the audit log with the old and new hours: say why, without health details.")


class DefaultAllotmentForm(Form):
    hours = HoursField("Respite hours a year for each new family")
