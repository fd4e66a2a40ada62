"""The reports' filters: a GET form of two dates and a place. It parses and checks; services.py counts."""

from datetime import date
from typing import Any

from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from ..web.forms import Form
from .periods import EARLIEST_DAY, LATEST_DAY, MAX_YEARS, default_days, latest_last_day
from .services import Place


class DayField(DateField):
    """A date as a browser's date picker sends it, within the years a report can cover."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter the date as year-month-day, for example 2026-03-02.") from None

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not EARLIEST_DAY <= self.data <= LATEST_DAY:
            raise ValidationError(f"Choose a day between {EARLIEST_DAY.year} and {LATEST_DAY.year}.")


class ReportFilterForm(Form):
    """From and to (both days included), and whose sessions."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    first_day = DayField("From", name="from", validators=[Optional()])
    last_day = DayField("To", name="to", validators=[Optional()])
    place = SelectField(
        "Where", default="", validate_choice=False, description="A center's weeks and months follow its clock."
    )

    def __init__(self, *args: Any, places: list[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = {place.value: place for place in places}
        self.place.choices = [(place.value, place.name) for place in places]

    def validate_place(self, field: SelectField) -> None:
        if (field.data or "") not in self.places:
            raise ValidationError("Choose one of the places in the list.")

    def validate_last_day(self, field: DayField) -> None:
        first, last = self.first_day.data, field.data
        if first is None or last is None or self.first_day.errors:
            return
        if last < first:
            raise ValidationError("The end can't be before the start: choose a day on or after it.")
        if last > latest_last_day(first):
            raise ValidationError(
                f"A report covers at most {MAX_YEARS} years: choose a day up to {latest_last_day(first).isoformat()}."
            )

    def chosen_place(self) -> Place:
        return self.places[self.place.data or ""]

    def days(self, today: date) -> tuple[date, date]:
        """The days chosen; an empty one filled in: the last twelve weeks to today, twelve weeks up to the
        day given, or from the day given to today (or to the day itself, when it is after today)."""
        first, last = self.first_day.data, self.last_day.data
        if first is None and last is None:
            return default_days(today)
        if first is None:
            assert last is not None
            first = default_days(last)[0]
        if last is None:
            last = min(max(today, first), latest_last_day(first))
        return first, last
