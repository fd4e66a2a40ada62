"""Coordinator forms: inviting staff and kiosk accounts."""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from ..accounts.forms import EmailUnique, TimezoneField, fill_zones
from ..extensions import db
from ..models import Center


class InviteForm(EmailUnique, FlaskForm):
    display_name = StringField("Name", validators=[DataRequired("Enter the person's name."), Length(max=120)])
    email = EmailField(
        "Email", validators=[DataRequired("Enter an email."), Email("Enter a valid email address."), Length(max=254)]
    )
    role = SelectField(
        "Role",
        choices=[("provider", "Provider"), ("coordinator", "Coordinator"), ("kiosk", "Center kiosk")],
    )
    center_id = SelectField("Center", coerce=int, description="Required for a kiosk; a provider's home center.")
    timezone = TimezoneField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fill_zones(self.timezone)
        centers = db.session.execute(select(Center.id, Center.name).order_by(Center.name)).all()
        self.center_id.choices = [(0, "No center")] + [(c.id, c.name) for c in centers]
