"""The audit log's filters: a GET form (it works without JavaScript, and htmx sends the same query).

Everything in the query string is checked here and refused beside its field in plain words; the
view answers 422 then. What passes becomes `auditlog.AuditFilters`.
"""

from collections.abc import Sequence
from typing import Any

from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from ..scheduling.history import ROLE_WORDING
from ..web.converters import MAX_ID
from ..web.forms import Form
from . import wording
from .auditlog import AuditFilters

# Days a person might mean; anything further is a typing slip (and out of the reach of date arithmetic).
FIRST_YEAR, LAST_YEAR = 1900, 2999
CHOOSE = "Choose from the list."


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _is_id(value: str) -> bool:
    """A number some row could have (PostgreSQL's INTEGER keys stop at MAX_ID)."""
    return _digits(value) and len(value) <= len(str(MAX_ID)) and 0 < int(value) <= MAX_ID


class ListChoiceField(SelectField):
    """A choice from the list; anything else in the address is refused in plain words."""

    def pre_validate(self, form: Any) -> None:
        if (self.data or "") not in {str(choice[0]) for choice in self.iter_choices()}:
            raise ValidationError(CHOOSE)


class DayField(DateField):
    """A day as a date picker sends it (YYYY-MM-DD), in the reader's calendar."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a date like 2026-03-01.") from None
        if self.data is not None and not FIRST_YEAR <= self.data.year <= LAST_YEAR:
            self.data = None
            raise ValueError(f"Enter a date between the years {FIRST_YEAR} and {LAST_YEAR}.")


class AuditFilterForm(Form):
    class Meta:
        csrf = False  # a search: it changes nothing

    person = SelectField(
        "Person", choices=[], validate_choice=False, description="What they did, or had done to their account."
    )
    action = ListChoiceField(
        "What happened",
        choices=[("", "Anything")] + [(group.key, group.label) for group in wording.ACTION_GROUPS],
    )
    entity = ListChoiceField(
        "About", choices=[("", "Anything")] + sorted(wording.ENTITY_KINDS.items(), key=lambda kind: kind[1])
    )
    entity_id = StringField("Its number", description="Optional: one session, account…")
    since = DayField("From", name="from", validators=[Optional()])
    until = DayField("To", name="to", validators=[Optional()])
    signins = BooleanField("Include sign-ins and sign-outs (most of the log)")

    def validate_person(self, field: SelectField) -> None:
        if field.data and not _is_id(field.data):
            raise ValidationError("Choose a person from the list.")

    def validate_entity_id(self, field: StringField) -> None:
        value = (field.data or "").strip()
        if not value:
            return
        if not _digits(value):
            raise ValidationError("Enter the number alone, in digits.")
        if not _is_id(value):
            raise ValidationError("No row has that number.")
        if not self.entity.data:
            raise ValidationError("Choose what the number is of, under “About”.")

    def validate_until(self, field: DayField) -> None:
        if field.data is not None and self.since.data is not None and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")

    def people(self, people: Sequence[tuple[int, str, str]]) -> None:
        """Offer these people (id, name, role) in the person filter, after "Anyone"."""
        self.person.choices = [("", "Anyone")] + [
            (str(id_), f"{name} ({ROLE_WORDING.get(role, role)})") for id_, name, role in people
        ]

    def filters(self) -> AuditFilters:
        """What was asked for (call after a successful `validate`)."""
        entity_id = (self.entity_id.data or "").strip()
        return AuditFilters(
            person_id=int(self.person.data) if self.person.data else None,
            group=self.action.data or "",
            entity_type=self.entity.data or "",
            entity_id=int(entity_id) if entity_id else None,
            since=self.since.data,
            until=self.until.data,
            include_sign_ins=bool(self.signins.data),
        )
