"""Coordinator forms: inviting staff and kiosk accounts."""

from typing import Any

from sqlalchemy import select
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..accounts.forms import EmailUnique, TimezoneField, email_rules, fill_zones
from ..extensions import db
from ..models import Center
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
