"""The provider's availability forms: a weekly block, and time off. They parse; services.py holds the rules.

Times are chosen on the provider's own clock. A weekly block's times are
minutes of the day in quarter hours (a select, so "until midnight" can be
chosen, which a time box can't say); time off is a pair of dates with
optional times.
"""

from typing import Any

from wtforms import DateField, SelectField, StringField, TimeField
from wtforms.validators import Optional

from ..web.forms import Form
from .services import DAY_MINUTES, STEP_MINUTES, WEEKDAYS, minute_label


def optional_number(value: Any) -> int | None:
    """A select's value as a number; None when it is empty or not a number (the service then says what to choose)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class DayField(DateField):
    """A date as a browser's date picker sends it, with a message that says so."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter the date as year-month-day, for example 2026-11-02.") from None


class ClockField(TimeField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter the time as hours and minutes, for example 09:30.") from None


DAY_CHOICES = [(number, name) for number, name in enumerate(WEEKDAYS)]
START_CHOICES = [(minute, minute_label(minute)) for minute in range(0, DAY_MINUTES, STEP_MINUTES)]
END_CHOICES = [(minute, minute_label(minute)) for minute in range(STEP_MINUTES, DAY_MINUTES + 1, STEP_MINUTES)]
DEFAULT_START = 9 * 60
DEFAULT_END = 17 * 60


class WeeklyBlockForm(Form):
    weekday = SelectField("Day", coerce=optional_number, choices=DAY_CHOICES, validate_choice=False)
    start_minute = SelectField(
        "From", coerce=optional_number, choices=START_CHOICES, validate_choice=False, default=DEFAULT_START
    )
    end_minute = SelectField(
        "Until", coerce=optional_number, choices=END_CHOICES, validate_choice=False, default=DEFAULT_END
    )


class TimeOffForm(Form):
    start_day = DayField("First day", validators=[Optional()])
    start_time = ClockField("From (optional)", format=["%H:%M", "%H:%M:%S"], validators=[Optional()])
    end_day = DayField("Last day", validators=[Optional()])
    end_time = ClockField("Until (optional)", format=["%H:%M", "%H:%M:%S"], validators=[Optional()])
    note = StringField("Note (optional)", filters=[strip])

    def note_text(self) -> str:
        return str(self.note.data or "")
