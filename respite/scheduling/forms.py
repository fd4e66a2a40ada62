"""The request form: what a caregiver asks for, parsed. The rules themselves are checked in services.

The fields only turn what the browser sent into values (a date, a time, a
number); whether those values make a request that can be booked is
`services.check_request`'s to say, so the inline check, the plain post and
any other client meet the same rules.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from wtforms import DateField, HiddenField, RadioField, SelectField, TextAreaField, TimeField
from wtforms.validators import Optional

from ..models import CareRecipient, Center, LocationKind, RespiteSession
from ..web.converters import MAX_ID
from ..web.forms import Form
from . import services


def optional_int(value: Any) -> int | None:
    """A select's value as an id or a number; None for the empty "Choose…" option."""
    if value is None or value == "":
        return None
    number = int(value)
    if abs(number) > MAX_ID:  # no one's id, and no length or count either
        raise ValueError(value)
    return number


def duration_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


DURATIONS = range(services.MIN_SESSION_MINUTES, services.MAX_SESSION_MINUTES + 1, 30)
DEFAULT_MINUTES = 180
REPEATS = [(1, "Does not repeat")] + [
    (weeks, f"Every week, {weeks} times") for weeks in range(2, services.MAX_SERIES_WEEKS + 1)
]
PLACES = [(LocationKind.CENTER.value, "At a respite center"), (LocationKind.HOME.value, "At home")]


class _SessionFields(Form):
    """Date, start and length in the caregiver's own zone, place and notes; a key against double taps."""

    day = DateField("Date", validators=[Optional()])
    start = TimeField("Start time", format=["%H:%M", "%H:%M:%S"], validators=[Optional()])
    minutes = SelectField("How long", coerce=optional_int, validate_choice=False, default=DEFAULT_MINUTES)
    location_kind = RadioField("Where", choices=PLACES, validate_choice=False, default=LocationKind.CENTER.value)
    center_id = SelectField("Center", coerce=optional_int, validate_choice=False)
    address = TextAreaField("Address")
    notes = TextAreaField("Notes for the provider")
    request_key = HiddenField()

    def offer(self, centers: Sequence[Center]) -> None:
        """The lists to choose from: the centers (after an empty first option) and the lengths."""
        self.center_id.choices = [("", "Choose a center…"), *((c.id, c.name) for c in centers)]
        lengths = list(DURATIONS)
        if isinstance(self.minutes.data, int) and self.minutes.data not in lengths:
            lengths = sorted({*lengths, self.minutes.data})  # a session of another length keeps its own
        self.minutes.choices = [(m, duration_label(m)) for m in lengths]

    def new_key(self) -> None:
        self.request_key.data = str(uuid.uuid4())

    def key(self) -> str | None:
        """The request key sent, when it is one (a UUID); anything else counts as none."""
        try:
            return str(uuid.UUID(str(self.request_key.data or "")))
        except ValueError:
            return None

    def parsed(self, name: str) -> Any:
        """The value of field `name` as sent, or None when the form has no such field or it didn't parse."""
        field = self._fields.get(name)
        return None if field is None or field.errors else field.data

    def details(self) -> services.RequestDetails:
        """What was sent, as far as it parsed."""
        return services.RequestDetails(
            recipient_id=self.parsed("recipient_id"),
            day=self.parsed("day"),
            start=self.parsed("start"),
            minutes=self.parsed("minutes"),
            location_kind=str(self.location_kind.data or ""),
            center_id=self.parsed("center_id"),
            address=self.address.data or "",
            notes=self.notes.data or "",
            weeks=self.parsed("weeks") if "weeks" in self._fields else 1,
        )

    def add_problems(self, problems: dict[str, str], *, only: set[str] | None = None) -> None:
        """Show the service's messages beside their fields (a field keeps its own parse error first)."""
        for name, message in problems.items():
            field = self._fields.get(name)
            if field is not None and not field.errors and (only is None or name in only):
                field.errors = [*field.errors, message]


class RequestForm(_SessionFields):
    """A new request: who it is for, and whether it repeats, too."""

    recipient_id = SelectField("Who is it for?", coerce=optional_int, validate_choice=False)
    weeks = SelectField("Repeat", coerce=optional_int, choices=REPEATS, validate_choice=False, default=1)

    def offer_people(self, recipients: Sequence[CareRecipient]) -> None:
        """The caregiver's active people; a choice to make only when there are several."""
        choices = [(r.id, r.full_name) for r in recipients]
        self.recipient_id.choices = choices if len(choices) == 1 else [("", "Choose a person…"), *choices]


class EditRequestForm(_SessionFields):
    """The form for one session: its person and series stay, and its version guards against a stale page."""

    version = HiddenField()

    def fill_from(self, session: RespiteSession, zone: Any) -> None:
        """Start from the session as it is, in the caregiver's zone."""
        starts = session.starts_at.astimezone(zone)
        self.day.data = starts.date()
        self.start.data = starts.time().replace(tzinfo=None)
        self.minutes.data = session.minutes
        self.location_kind.data = session.location_kind
        self.center_id.data = session.center_id
        self.address.data = session.address
        self.notes.data = session.request_notes
        self.version.data = str(session.version)

    def expected_version(self) -> int | None:
        try:
            return int(str(self.version.data))
        except (TypeError, ValueError):
            return None
