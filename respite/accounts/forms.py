"""Sign-up, sign-in and account forms; each field's message shows beside the field."""

import re
from collections.abc import Iterable, Iterator
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, literal, select, union_all
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields import Field
from wtforms.form import BaseForm
from wtforms.validators import DataRequired, EqualTo, Length, StopValidation, ValidationError

from ..extensions import db
from ..models import Center, User
from ..timefmt import is_timezone, zone_aliases, zone_exists, zone_label, zones_by_region
from ..web.forms import Form
from .passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, weakness
from .services import normalise_email

_Option = tuple[Any, str, bool, dict[str, Any]]  # value, label, selected, render_kw


class TimezoneField(SelectField):
    """One of the zones `fill_zones` offers; nothing else validates."""

    def __init__(self, label: str = "Time zone", **kwargs: Any) -> None:
        super().__init__(label, choices={}, **kwargs)

    def pre_validate(self, form: BaseForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError("Choose a time zone from the list.") from None

    def iter_groups(self) -> Iterator[tuple[str, Iterable[_Option]]]:
        # A suggested zone is listed in its region too: mark only its first option selected
        # (a browser shows the last of several).
        marked = False

        def once(options: Iterable[_Option]) -> Iterator[_Option]:
            nonlocal marked
            for value, label, selected, render_kw in options:
                yield value, label, selected and not marked, render_kw
                marked = marked or selected

        for group, options in super().iter_groups():
            yield group, once(options)


SUGGESTED_ZONES = 8


def zones_in_use(limit: int = SUGGESTED_ZONES) -> list[str]:
    """The centers' zones, then the zones most accounts use; one query, at most `limit`."""
    named = union_all(
        select(Center.timezone.label("zone"), literal(1).label("at_center")),
        select(User.timezone.label("zone"), literal(0).label("at_center")),
    ).subquery()
    query = (
        select(named.c.zone)
        .group_by(named.c.zone)
        .order_by(func.max(named.c.at_center).desc(), func.count().desc(), named.c.zone)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def center_zones() -> list[str]:
    """The centers' zones: what a public page may suggest (it says nothing about anyone's account)."""
    return list(db.session.scalars(select(Center.timezone).distinct().order_by(Center.timezone)))


def fill_zones(field: SelectField, *, in_use: Iterable[str] | None = None, browser_aliases: bool = False) -> None:
    """Offer the canonical zones: "Suggested" first, then one group per region, UTC last.

    Suggested holds the field's starting zone (the account's stored one), then `in_use`: by
    default the centers' zones and those accounts use most (`zones_in_use`). A stored zone that is
    no longer offered (an older name such as US/Eastern) stays there and valid, so its account can
    still save. `browser_aliases` puts the older names on each option, for the sign-up page's
    script to match the device's zone.
    """
    older_names: dict[str, list[str]] = {}
    if browser_aliases:
        for alias, zone in sorted(zone_aliases().items()):
            older_names.setdefault(zone, []).append(alias)

    def option(zone: str, label: str) -> tuple[str, str, dict[str, Any]]:
        return zone, label, {"data-aliases": " ".join(older_names[zone])} if zone in older_names else {}

    suggested: list[tuple[str, str, dict[str, Any]]] = []
    stored = field.object_data if isinstance(field.object_data, str) else None
    if stored and not is_timezone(stored) and zone_exists(stored):
        now_called = zone_aliases().get(stored)
        note = f"older name of {zone_label(now_called)}" if now_called else "no longer listed"
        suggested.append(option(stored, f"{stored} ({note})"))
    for zone in dict.fromkeys([stored or "", *(zones_in_use() if in_use is None else in_use)]):
        if is_timezone(zone) and len(suggested) < SUGGESTED_ZONES:
            suggested.append(option(zone, zone_label(zone, with_region=True)))
    groups = {"Suggested": suggested} if suggested else {}
    for region, zones in zones_by_region().items():
        groups[region] = [option(zone, zone_label(zone)) for zone in zones]
    field.choices = groups


def filled(field: StringField) -> str:
    """The text of a required field of a validated form (DataRequired has refused an empty one)."""
    if field.data is None:
        raise ValueError(f"{field.name} is empty: validate the form first")
    return field.data


class EmailAddress:
    """The one check of an email address's form, for every form that takes a new one.

    Syntax only (email-validator): no DNS lookup, no deliverability check, and the special-use
    .test domain is accepted (test_environment), as the demo's addresses use it. A refused address
    stops the field's other checks, so it never also reads "already exists".
    """

    def __init__(self, message: str = "Enter a valid email address.") -> None:
        self.message = message

    def __call__(self, form: BaseForm, field: Field) -> None:
        try:
            validate_email(field.data or "", check_deliverability=False, test_environment=True)
        except EmailNotValidError:
            raise StopValidation(self.message) from None


def email_rules(required: str) -> list[Any]:
    """The checks of an email field that takes a new address; `required` is the message when it is empty."""
    return [DataRequired(required), EmailAddress(), Length(max=254)]


class EmailUnique:
    """Refuse an email another account already uses (case-insensitive)."""

    current_user_id: int | None  # set by a form that edits an existing account
    email_taken_message = "An account with this email already exists."

    def validate_email(self, field: StringField) -> None:
        email = normalise_email(field.data)
        query = select(User.id).where(func.lower(User.email) == email)
        if getattr(self, "current_user_id", None):
            query = query.where(User.id != self.current_user_id)
        if db.session.scalar(query) is not None:
            raise ValidationError(self.email_taken_message)


class HardToGuess:
    """zxcvbn's check, with the form's name and email as the first words an attacker would try."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        if field.errors:  # a length problem is the one message to show
            return
        words = [str(form[name].data or "") for name in ("display_name", "email") if name in form]
        words += [part for word in words for part in re.split(r"[\s@.]+", word)]
        if (problem := weakness(field.data or "", words)) is not None:
            raise ValidationError(problem)


password_rules = [
    DataRequired("Choose a password."),
    Length(min=MIN_PASSWORD_LENGTH, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."),
    Length(max=MAX_PASSWORD_LENGTH, message=f"Use at most {MAX_PASSWORD_LENGTH} characters."),
    HardToGuess(),
]


class SignUpForm(Form):
    """Whether the email has an account is never said here: the emailed link (or the email instead of it) says."""

    display_name = StringField("Your name", validators=[DataRequired("Tell us your name."), Length(max=120)])
    email = EmailField("Email", validators=email_rules("Enter your email."))
    password = PasswordField("Password", validators=password_rules)
    timezone = TimezoneField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A public page: suggest the centers' zones, never what other accounts use.
        fill_zones(self.timezone, in_use=center_zones(), browser_aliases=True)


class ForgotPasswordForm(Form):
    email = EmailField("Email", validators=email_rules("Enter your email."))


class SignInForm(Form):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])


class AccountForm(EmailUnique, Form):
    display_name = StringField("Your name", validators=[DataRequired("Tell us your name."), Length(max=120)])
    email = EmailField("Email", validators=email_rules("Enter your email."))
    timezone = TimezoneField()
    current_password = PasswordField("Current password", validators=[Length(max=200)])
    email_taken_message = "Another account already uses this email address."

    def __init__(self, *args: Any, current_user_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_user_id = current_user_id
        fill_zones(self.timezone)


class PasswordChangeForm(Form):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new_password = PasswordField("New password", validators=password_rules)
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the new password again."),
            EqualTo("new_password", "The two new passwords differ."),
        ],
    )


class SetPasswordForm(Form):
    password = PasswordField("Password", validators=password_rules)
    confirm = PasswordField(
        "Password again",
        validators=[DataRequired("Type the password again."), EqualTo("password", "The two passwords differ.")],
    )


class SecondStepForm(Form):
    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[DataRequired("Enter the code."), Length(max=32)],
    )


class TurnOnTwoFactorForm(Form):
    code = StringField("The 6-digit code the app shows", validators=[DataRequired("Enter the code."), Length(max=12)])
    current_password = PasswordField("Your current password", validators=[DataRequired("Enter your current password.")])


class CurrentPasswordForm(Form):
    """A change that needs the current password again (new recovery codes, turning two-step sign-in off)."""

    current_password = PasswordField("Your current password", validators=[DataRequired("Enter your current password.")])
