"""Sign-up, sign-in and account forms; each field's message shows beside the field."""

from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..extensions import db
from ..models import User
from ..timefmt import all_timezones, is_timezone
from .passwords import MIN_PASSWORD_LENGTH
from .services import normalise_email


class TimezoneField(SelectField):
    def __init__(self, label="Time zone", **kwargs):
        super().__init__(label, choices=[], validate_choice=False, **kwargs)

    def pre_validate(self, form):
        if not is_timezone(self.data or ""):
            raise ValidationError("Choose a time zone from the list.")


def fill_zones(field):
    field.choices = [(z, z.replace("_", " ")) for z in all_timezones()]


class EmailUnique:
    """Refuse an email another account already uses (case-insensitive)."""

    def validate_email(self, field):
        email = normalise_email(field.data)
        query = select(User.id).where(func.lower(User.email) == email)
        if getattr(self, "current_user_id", None):
            query = query.where(User.id != self.current_user_id)
        if db.session.scalar(query) is not None:
            raise ValidationError("An account with this email already exists. Sign in instead?")


password_rules = [
    DataRequired("Choose a password."),
    Length(min=MIN_PASSWORD_LENGTH, max=200, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."),
]


class SignUpForm(EmailUnique, FlaskForm):
    display_name = StringField("Your name", validators=[DataRequired("Tell us your name."), Length(max=120)])
    email = EmailField(
        "Email", validators=[DataRequired("Enter your email."), Email("Enter a valid email address."), Length(max=254)]
    )
    password = PasswordField("Password", validators=password_rules)
    timezone = TimezoneField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fill_zones(self.timezone)


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])


class AccountForm(EmailUnique, FlaskForm):
    display_name = StringField("Your name", validators=[DataRequired("Tell us your name."), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    timezone = TimezoneField()

    def __init__(self, *args, current_user_id=None, current_email=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_user_id = current_user_id
        self.current_email = normalise_email(current_email)
        fill_zones(self.timezone)

    def validate_email(self, field):
        # Check the form of a new address only: an account whose address the
        # checker would refuse today (the demo's .test ones) can still save its
        # other details.
        if normalise_email(field.data) != self.current_email:
            Email("Enter a valid email address.")(self, field)
        super().validate_email(field)


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new_password = PasswordField("New password", validators=password_rules)
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the new password again."),
            EqualTo("new_password", "The two new passwords differ."),
        ],
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField("Password", validators=password_rules)
    confirm = PasswordField(
        "Password again",
        validators=[DataRequired("Type the password again."), EqualTo("password", "The two passwords differ.")],
    )
