"""Forms for a person cared for and their care card; each message shows beside its field or row."""

from collections.abc import Mapping
from typing import Any

from wtforms import DateField, FieldList, FormField, HiddenField, StringField, TextAreaField
from wtforms import Form as RowForm
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..models import CARE_CARD_LIST_FIELDS, CARE_CARD_TEXT_FIELDS
from ..web.converters import MAX_ID
from ..web.forms import Form
from .services import ITEM_TEXT_LIMIT, LIST_ITEM_KEYS, LIST_LIMIT, NAME_LIMIT, TEXT_LIMIT


def strip(value: Any) -> Any:
    """Trimmed text with a browser's CRLF line breaks as plain newlines (what the card stores)."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


class BirthDateField(DateField):
    """A date typed as year-month-day (what a browser's date picker sends), with a message that says so."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter the date as year-month-day, for example 1941-03-09.") from None


class PersonForm(Form):
    first_name = StringField(
        "First name",
        filters=[strip],
        validators=[DataRequired("Enter their first name."), Length(max=NAME_LIMIT)],
    )
    last_name = StringField(
        "Last name",
        filters=[strip],
        validators=[DataRequired("Enter their last name."), Length(max=NAME_LIMIT)],
    )
    date_of_birth = BirthDateField("Date of birth (optional)", validators=[Optional()])


def _item_field(label: str) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[Length(max=ITEM_TEXT_LIMIT, message=f"Use at most {ITEM_TEXT_LIMIT} characters.")],
    )


class _Row(RowForm):
    """One row of a list on the card; a row with every box empty is no row at all."""

    def is_blank(self) -> bool:
        return not any((field.data or "").strip() for field in self)

    def content(self) -> dict[str, str]:
        return {field.short_name: field.data or "" for field in self}


class MedicationRow(_Row):
    name = _item_field("Medicine")
    dose = _item_field("Dose")
    times = _item_field("When")

    def validate_name(self, field: StringField) -> None:
        if not field.data and (self.dose.data or self.times.data):
            raise ValidationError("Add the medicine's name (or clear this row).")


class PersonRow(_Row):
    name = _item_field("Name")
    relationship = _item_field("Relationship")
    phone = _item_field("Phone")

    def validate_name(self, field: StringField) -> None:
        if not field.data and (self.relationship.data or self.phone.data):
            raise ValidationError("Add their name (or clear this row).")

    def validate_phone(self, field: StringField) -> None:
        if not field.data:
            if self.name.data or self.relationship.data:
                raise ValidationError("Add a phone number to call them on.")
        elif sum(char.isdigit() for char in field.data) < 3:
            raise ValidationError("Enter a phone number with its digits, for example 555-0142.")


def _text_field(label: str, description: str) -> TextAreaField:
    return TextAreaField(
        label,
        description=description,
        filters=[strip],
        validators=[Length(max=TEXT_LIMIT, message=f"Use at most {TEXT_LIMIT} characters.")],
    )


# The rows a crafted post may send are bounded too; the card's own limit (LIST_LIMIT) is checked with a message.
MAX_ROWS_READ = LIST_LIMIT + 30

LIST_NOUNS = {"medications": "medications", "emergency_contacts": "contacts", "authorised_people": "people"}


class CareCardForm(Form):
    """The whole card: text areas, and lists as repeated rows (no JavaScript needed to add one)."""

    needs = _text_field("Needs", "Conditions, and the help they need through the day.")
    allergies = _text_field("Allergies", "Medicines, foods, latex… Write “none known” when there are none.")
    mobility = _text_field("Mobility", "Walking, transfers, aids, stairs.")
    diet = _text_field("Diet", "What they eat and drink, and how.")
    routines = _text_field("Routines", "Naps, meals, what they enjoy.")
    behaviours = _text_field("Behaviours and how to respond", "What may happen, and what helps.")
    communication = _text_field("Communication", "Hearing, sight, language, how best to talk with them.")
    medications = FieldList(FormField(MedicationRow), max_entries=MAX_ROWS_READ)
    emergency_contacts = FieldList(FormField(PersonRow), max_entries=MAX_ROWS_READ)
    authorised_people = FieldList(FormField(PersonRow), max_entries=MAX_ROWS_READ)
    # The version the editor started from: a save on top of someone else's newer one is refused.
    based_on = HiddenField()

    def fill(self, content: Mapping[str, Any], based_on: int) -> None:
        """Start from a saved card's content (for a GET)."""
        for name in CARE_CARD_TEXT_FIELDS:
            self[name].data = str(content.get(name) or "")
        for name in CARE_CARD_LIST_FIELDS:
            for item in content.get(name) or []:
                self[name].append_entry({key: str(item.get(key) or "") for key in LIST_ITEM_KEYS[name]})
        self.based_on.data = str(based_on)

    def add_blank_rows(self, count: int = 2) -> None:
        """Make room to add `count` more rows to each list (fewer when it is nearly full)."""
        for name in CARE_CARD_LIST_FIELDS:
            rows = self[name]
            filled = sum(not row.form.is_blank() for row in rows)
            blank_at_end = 0
            for row in reversed(rows.entries):
                if not row.form.is_blank():
                    break
                blank_at_end += 1
            for _ in range(min(count, LIST_LIMIT - filled) - blank_at_end):
                rows.append_entry()

    def rows_filled(self, name: str) -> int:
        return sum(not row.form.is_blank() for row in self[name])

    def _check_list_length(self, name: str) -> None:
        if self.rows_filled(name) > LIST_LIMIT:
            raise ValidationError(
                f"A card holds at most {LIST_LIMIT} {LIST_NOUNS[name]}; clear the boxes of the rows you can do without."
            )

    def validate_medications(self, field: FieldList) -> None:
        self._check_list_length("medications")

    def validate_emergency_contacts(self, field: FieldList) -> None:
        self._check_list_length("emergency_contacts")

    def validate_authorised_people(self, field: FieldList) -> None:
        self._check_list_length("authorised_people")

    def expected_number(self) -> int | None:
        value = (self.based_on.data or "").strip()
        return int(value) if value.isdigit() else None

    def content(self) -> dict[str, Any]:
        """The card as save_care_card takes it (blank rows are dropped there)."""
        card: dict[str, Any] = {name: self[name].data or "" for name in CARE_CARD_TEXT_FIELDS}
        for name in CARE_CARD_LIST_FIELDS:
            card[name] = [row.form.content() for row in self[name] if not row.form.is_blank()]
        return card


class AcknowledgeForm(Form):
    """A provider's "I have read this care card": the version they read, and the session it was for, if any."""

    version = HiddenField(validators=[DataRequired()])
    session_id = HiddenField()

    def read_version(self) -> int | None:
        try:
            return int(str(self.version.data))
        except ValueError:
            return None

    def for_session(self) -> int | None:
        """The session's id as posted; 0 (no session can have it) for one no database id could be."""
        try:
            number = int(str(self.session_id.data)) if self.session_id.data else None
        except ValueError:
            return 0
        return number if number is None or 1 <= number <= MAX_ID else 0
