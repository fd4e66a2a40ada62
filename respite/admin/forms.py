"""Coordinator forms: inviting staff and kiosk accounts; deactivating, changing the role of and erasing an account."""

from typing import Any

from sqlalchemy import select
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..accounts.forms import EmailUnique, TimezoneField, email_rules, fill_zones
from ..extensions import db
from ..models import Center, User
from ..web.forms import Form


class InviteForm(EmailUnique, Form):
    display_name = StringField("Name", validators=[DataRequired("Enter the person's name."), Length(max=120)])
    email = EmailField("Email", validators=email_rules("Enter an email."))
    role = SelectField(
        "Role",
        choices=[("provider", "Provider"), ("coordinator", "Coordinator"), ("kiosk", "Center kiosk")],
    )
    center_id = SelectField("Center", coerce=int, description="Required for a kiosk; a provider's home center.")
    timezone = TimezoneField()

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
