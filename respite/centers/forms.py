"""The center form: name, address, time zone, and when it opens and closes each day."""

from datetime import time
from typing import Any

from wtforms import Field, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from ..accounts.forms import TimezoneField, fill_zones
from ..web.forms import Form
from .services import ADDRESS_LIMIT, NAME_LIMIT, WEEKDAYS


class CenterForm(Form):
    name = StringField("Name", validators=[DataRequired("Give the center a name."), Length(max=NAME_LIMIT)])
    address = TextAreaField("Address", validators=[Length(max=ADDRESS_LIMIT)], description="Where families come.")
    timezone = TimezoneField(description="Its sessions and opening hours are on this clock.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fill_zones(self.timezone)

    def day_fields(self) -> list[tuple[str, Field, Field]]:
        """(day's name, opens, closes) for each day, Monday first."""
        return [(name, self[f"{key}_opens"], self[f"{key}_closes"]) for key, name in WEEKDAYS]

    def hours(self) -> dict[str, tuple[time | None, time | None]]:
        return {key: (self[f"{key}_opens"].data, self[f"{key}_closes"].data) for key, _ in WEEKDAYS}

    @staticmethod
    def initial_hours(kept: dict[str, list[str]]) -> dict[str, time]:
        """The form's starting values from the hours as kept."""
        values: dict[str, time] = {}
        for key, (opens, closes) in kept.items():
            values[f"{key}_opens"] = time.fromisoformat(opens)
            values[f"{key}_closes"] = time.fromisoformat(closes)
        return values


def _time_field(label: str) -> TimeField:
    return TimeField(label, validators=[Optional()], format="%H:%M")


for _key, _name in WEEKDAYS:
    setattr(CenterForm, f"{_key}_opens", _time_field("Opens"))
    setattr(CenterForm, f"{_key}_closes", _time_field("Closes"))
