"""The visit's forms, and the schedule's query string, parsed. The rules themselves are checked in services.

Each form only turns what the browser sent into values; whether they may be
recorded (who, when, how long) is `services`'s to say, so the provider's
phone, a coordinator's desk and the kiosk meet the same rules.
"""

from datetime import date

from wtforms import HiddenField, TextAreaField

from ..web.forms import Form
from . import services

# The days the schedule can show; anything else (or nothing) means today.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9000, 12, 31)


def schedule_view(value: str | None) -> str:
    """`?view=`: one of the schedule's views, agenda when it names none of them."""
    return value if value in services.SCHEDULE_VIEWS else "agenda"


def schedule_day(value: str | None) -> date | None:
    """`?day=YYYY-MM-DD`: a local date in the viewer's zone, or None (today) when absent or not a usable date."""
    if not value or len(value) != 10:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


class VisitActionForm(Form):
    """Check-in or check-out: only the session's version as the page showed it, against a stale page."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        try:
            return int(str(self.version.data))
        except (TypeError, ValueError):
            return None


class NoShowForm(VisitActionForm):
    note = TextAreaField("What happened")

    def add_problems(self, problems: dict[str, str]) -> None:
        if "note" in problems and not self.note.errors:
            self.note.errors = [problems["note"]]


class VisitNoteForm(Form):
    """The visit note's three parts; at least one is written (the service says so)."""

    went_well = TextAreaField("What went well")
    concerns = TextAreaField("Concerns")
    medication_given = TextAreaField("Medication given")

    def parts(self) -> dict[str, str]:
        return {name: str(self[name].data or "") for name in services.VISIT_NOTE_PARTS}

    def add_problems(self, problems: dict[str, str]) -> None:
        """Show the service's messages beside their fields (a field keeps its own error first)."""
        for name, message in problems.items():
            if name in self and not self[name].errors:
                self[name].errors = [message]
