"""Visits: the provider's schedule, and one function per thing that happens at a session.

The visit's transitions (check-in, check-out, no-show) follow the session
lifecycle's table (respite.scheduling.lifecycle). Each one guards (the
`*_refusal` functions below, which the template predicates `can_check_in`, …
share, so a button shows exactly when the service would allow it), changes
the session, writes its audit row, queues the `session` event and flushes.
Nothing here commits: the view (or the kiosk's service) that calls it does.
A kiosk tablet (a KioskDevice, no one's sign-in) checks people in and out
too: its audit rows name no person, only the kiosk role and the device.
"""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    KioskDevice,
    NoticeKind,
    ProviderProfile,
    RespiteSession,
    Role,
    SessionStatus,
    User,
    VisitNote,
    utcnow,
)
from ..notices import services as notices
from ..scheduling.lifecycle import SchedulingError, session_target, session_transition_allowed
from ..scheduling.services import publish_session_changed
from ..text import has_control_characters
from ..timefmt import zone_or_utc

__all__ = ["SchedulingError", "VisitInvalid"]

S = SessionStatus
A = AssignmentStatus

# A provider may check in this long before the start (arriving early), until the end.
CHECK_IN_OPENS_MINUTES = 30
NO_SHOW_NOTE_LIMIT = 500
VISIT_NOTE_PART_LIMIT = 4000
VISIT_NOTE_PARTS = ("went_well", "concerns", "medication_given")
# Sessions that have begun, one way or another: the ones a visit note is about.
STARTED_STATUSES = frozenset({S.CHECKED_IN, S.COMPLETED, S.NO_SHOW})
# Who reads a session's visit note (a kiosk never does: its board shows first names only).
NOTE_READERS = frozenset({Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR})

STALE_MESSAGE = "This session changed since you opened it. Look at it again, then try once more."
CONTROL_MESSAGE = "Remove the hidden control characters from this field."


class VisitInvalid(SchedulingError):
    """What was sent breaks a rule; `problems` maps form field names to messages safe to show."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


# --- Who may do what, now --------------------------------------------------------------


def no_show_grace() -> timedelta:
    """How long after the start its provider waits before recording that no one came (configuration)."""
    return timedelta(minutes=int(current_app.config["NO_SHOW_GRACE_MINUTES"]))


def is_its_provider(actor: User, session: RespiteSession) -> bool:
    """Whether `actor` is the provider who accepted `session` (read from its assignments: one query at most)."""
    if actor.role != Role.PROVIDER or actor.provider_profile is None:
        return False
    profile_id = actor.provider_profile.id
    return any(a.provider_id == profile_id and a.status == A.ACCEPTED for a in session.assignments)


# Who records a check-in or check-out: a person, or a kiosk tablet paired with the session's center.
Recorder = User | KioskDevice


def _is_its_kiosk(device: KioskDevice, session: RespiteSession) -> bool:
    return not device.is_revoked and session.center_id is not None and device.center_id == session.center_id


def _clock(moment: datetime, actor: Recorder) -> str:
    """A moment as `actor` reads it, in their own zone: "Tue 3 Mar, 09:30"."""
    return moment.astimezone(zone_or_utc(actor.timezone)).strftime("%a %-d %b, %H:%M")


def _recorder_refusal(actor: Recorder, session: RespiteSession, doing: str) -> PermissionError | None:
    """Check-in and check-out: its provider, a coordinator, or the kiosk of its center."""
    if isinstance(actor, KioskDevice):
        if _is_its_kiosk(actor, session):
            return None
    elif actor.role == Role.COORDINATOR or is_its_provider(actor, session):
        return None
    return PermissionError(f"Only the session's provider or a coordinator can {doing}.")


def check_in_refusal(actor: Recorder, session: RespiteSession, now: datetime | None = None) -> Exception | None:
    """Why `actor` may not check `session` in now (an exception to raise), or None when they may.

    A confirmed session, from CHECK_IN_OPENS_MINUTES before its start until its end.
    """
    if (refusal := _recorder_refusal(actor, session, "check it in")) is not None:
        return refusal
    if session.status == S.CHECKED_IN:
        return SchedulingError("This session is already checked in.")
    if not session_transition_allowed("check_in", session.status):
        return SchedulingError(f"A {session.status_label.lower()} session can't be checked in.")
    now = now or utcnow()
    opens = session.starts_at - timedelta(minutes=CHECK_IN_OPENS_MINUTES)
    if now < opens:
        return SchedulingError(
            f"Check-in opens at {_clock(opens, actor)}, {CHECK_IN_OPENS_MINUTES} minutes before the session starts."
        )
    if now > session.ends_at:
        return SchedulingError("This session's time has passed: it can no longer be checked in.")
    return None


def can_check_in(actor: Recorder, session: RespiteSession, now: datetime | None = None) -> bool:
    return check_in_refusal(actor, session, now) is None


def check_out_refusal(actor: Recorder, session: RespiteSession, now: datetime | None = None) -> Exception | None:
    """Why `actor` may not check `session` out now, or None: a checked-in session, at or after its check-in."""
    if (refusal := _recorder_refusal(actor, session, "check it out")) is not None:
        return refusal
    if session.status == S.COMPLETED:
        return SchedulingError("This session is already checked out.")
    if not session_transition_allowed("check_out", session.status):
        return SchedulingError("Check in first: only a checked-in session can be checked out.")
    if session.checked_in_at is not None and (now or utcnow()) < session.checked_in_at:
        return SchedulingError(f"Check-out can't come before the check-in at {_clock(session.checked_in_at, actor)}.")
    return None


def can_check_out(actor: Recorder, session: RespiteSession, now: datetime | None = None) -> bool:
    return check_out_refusal(actor, session, now) is None


def no_show_refusal(actor: User, session: RespiteSession, now: datetime | None = None) -> Exception | None:
    """Why `actor` may not record `session` as a no-show now, or None.

    Its provider or a coordinator, on a confirmed session no one checked in,
    once NO_SHOW_GRACE_MINUTES have passed since its start.
    """
    if actor.role != Role.COORDINATOR and not is_its_provider(actor, session):
        return PermissionError("Only the session's provider or a coordinator can record a no-show.")
    if not session_transition_allowed("no_show", session.status):
        return SchedulingError("Only a confirmed session that no one checked in can be marked as a no-show.")
    grace = no_show_grace()
    allowed_from = session.starts_at + grace
    if (now or utcnow()) < allowed_from:
        minutes = int(grace.total_seconds() // 60)
        return SchedulingError(
            f"A no-show can be recorded from {_clock(allowed_from, actor)}, {minutes} minutes after the start."
        )
    return None


def can_mark_no_show(actor: User, session: RespiteSession, now: datetime | None = None) -> bool:
    return no_show_refusal(actor, session, now) is None


def visit_note_refusal(actor: User, session: RespiteSession, note: VisitNote | None) -> Exception | None:
    """Why `actor` may not write (or change) the visit note of `session`, or None.

    Its provider, once the session has started (checked in, completed or a
    no-show); `note` is the session's note when there is one, which only its
    author changes.
    """
    if not is_its_provider(actor, session):
        return PermissionError("Only the session's provider can write its visit note.")
    if note is not None and note.author_id != actor.id:
        return PermissionError("Only the provider who wrote this visit note can change it.")
    if session.status not in STARTED_STATUSES:
        return SchedulingError("The visit note can be written once the session has started (after check-in).")
    return None


def can_write_visit_note(actor: User, session: RespiteSession, note: VisitNote | None = None) -> bool:
    """Whether the note form shows; pass the session's note (`visit_note_for`) when there is one."""
    return visit_note_refusal(actor, session, note) is None


def check_in_hint(actor: User, session: RespiteSession, now: datetime | None = None) -> str:
    """Why a provider or coordinator sees no check-in button on a confirmed session ("" when there is one, or
    when the reason is who they are): "Check-in opens at …"."""
    if session.status != S.CONFIRMED:
        return ""
    refusal = check_in_refusal(actor, session, now)
    return str(refusal) if isinstance(refusal, SchedulingError) else ""


# --- Transitions ---------------------------------------------------------------------------


def _check_version(session: RespiteSession, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != session.version:
        raise SchedulingError(STALE_MESSAGE)


@contextmanager
def _saving() -> Iterator[None]:
    """The changes made inside are written on leaving, in a savepoint of their own: a concurrent change (the
    session's version moved on meanwhile) is refused with STALE_MESSAGE, not overwritten, and the transaction
    goes on."""
    try:
        with db.session.begin_nested():
            yield
    except StaleDataError as error:
        raise SchedulingError(STALE_MESSAGE) from error


def _record(action: str, session: RespiteSession, actor: Recorder, what: str, meta: dict[str, object]) -> None:
    summary = f"Session for {session.recipient.full_name} {what}"
    if isinstance(actor, KioskDevice):
        summary += f" at kiosk “{actor.name}”"
        audit.record(action, session, actor_role=Role.KIOSK, summary=summary, meta={**meta, "device_id": actor.id})
        return
    audit.record(action, session, actor=actor, summary=summary, meta=meta)


def check_in(
    actor: Recorder, session: RespiteSession, *, now: datetime | None = None, expected_version: int | None = None
) -> None:
    """Record that the visit began, at `now`: its provider (from their phone at a home visit), a coordinator,
    or the kiosk of the session's center. PermissionError when the actor may never do this; SchedulingError
    when it can't happen now."""
    now = now or utcnow()
    if (refusal := check_in_refusal(actor, session, now)) is not None:
        raise refusal
    _check_version(session, expected_version)
    previous = session.status
    with _saving():
        session.status = session_target("check_in", session.status)
        session.checked_in_at = now
    _record("session.check_in", session, actor, "checked in", {"from": previous, "at": now.isoformat()})
    _tell_family(actor, session, NoticeKind.CHECKED_IN, "in", now)
    publish_session_changed(session)
    db.session.flush()


def check_out(
    actor: Recorder, session: RespiteSession, *, now: datetime | None = None, expected_version: int | None = None
) -> None:
    """Record that the visit ended, at `now`: the session is completed. Who may: as for `check_in`."""
    now = now or utcnow()
    if (refusal := check_out_refusal(actor, session, now)) is not None:
        raise refusal
    _check_version(session, expected_version)
    previous = session.status
    with _saving():
        session.status = session_target("check_out", session.status)
        session.checked_out_at = now
    _record("session.check_out", session, actor, "checked out", {"from": previous, "at": now.isoformat()})
    _tell_family(actor, session, NoticeKind.CHECKED_OUT, "out", now)
    publish_session_changed(session)
    db.session.flush()


def _tell_family(actor: Recorder, session: RespiteSession, kind: NoticeKind, way: str, at: datetime) -> None:
    """The family hears the moment their person was checked in (or out), and by whom."""
    if isinstance(actor, KioskDevice):
        who = f"The front desk at {actor.center_name}"
    else:
        who = actor.display_name
    notices.tell(
        [session.caregiver.user],
        kind,
        lambda reader: f"{who} checked {notices.person_for(reader, session)} {way} at {notices.moment(at, reader)}.",
        actor=actor if isinstance(actor, User) else None,
        session=session,
    )


def _clean_text(value: str, limit: int, *, field: str) -> str:
    if has_control_characters(value):
        raise VisitInvalid({field: CONTROL_MESSAGE})
    value = value.strip()
    if len(value) > limit:
        raise VisitInvalid({field: f"Keep this to {limit} characters or fewer (it has {len(value)})."})
    return value


def mark_no_show(
    actor: User,
    session: RespiteSession,
    *,
    note: str,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> None:
    """Record that no one came to a confirmed session, with a note (kept as its status reason).

    Its provider or a coordinator, from NO_SHOW_GRACE_MINUTES after its start.
    VisitInvalid (field "note") when the note is missing or too long.
    """
    now = now or utcnow()
    if (refusal := no_show_refusal(actor, session, now)) is not None:
        raise refusal
    _check_version(session, expected_version)
    note = _clean_text(note or "", NO_SHOW_NOTE_LIMIT, field="note")
    if not note:
        raise VisitInvalid({"note": "Say what happened: how long you waited, and who you tried to reach."})
    previous = session.status
    with _saving():
        session.status = session_target("no_show", session.status)
        session.status_reason = note
    _record("session.no_show", session, actor, "marked as a no-show", {"from": previous, "reason": note})
    publish_session_changed(session)
    db.session.flush()


def _clean_parts(parts: Mapping[str, str]) -> dict[str, str]:
    """The note's three parts as they will be kept; VisitInvalid naming each part that breaks a rule."""
    cleaned: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name in VISIT_NOTE_PARTS:
        try:
            cleaned[name] = _clean_text(parts.get(name) or "", VISIT_NOTE_PART_LIMIT, field=name)
        except VisitInvalid as error:
            problems.update(error.problems)
    if not problems and not any(cleaned.values()):
        problems[VISIT_NOTE_PARTS[0]] = "Write at least one part of the note."
    if problems:
        raise VisitInvalid(problems)
    return cleaned


def write_visit_note(
    actor: User, session: RespiteSession, *, went_well: str, concerns: str, medication_given: str
) -> VisitNote:
    """Write the session's visit note, or change it (its author): what went well, concerns, medication given.

    One note per session. The audit row names the parts written, never
    their words (they are about someone's health). Sending the same note
    again changes nothing and records nothing.
    """
    note = visit_note_of(session)
    if (refusal := visit_note_refusal(actor, session, note)) is not None:
        raise refusal
    parts = _clean_parts({"went_well": went_well, "concerns": concerns, "medication_given": medication_given})
    if note is None:
        note = VisitNote(session_id=session.id, author_id=actor.id, **parts)
        try:
            with db.session.begin_nested():
                db.session.add(note)
                db.session.flush()
        except IntegrityError as error:  # the same note sent twice at once: the first one is kept
            raise SchedulingError("A visit note for this session was saved a moment ago. Look at it again.") from error
        action, what, changed = "visit_note.create", "written", [name for name in VISIT_NOTE_PARTS if parts[name]]
    else:
        changed = [name for name in VISIT_NOTE_PARTS if getattr(note, name) != parts[name]]
        if not changed:
            return note
        for name in changed:
            setattr(note, name, parts[name])
        action, what = "visit_note.update", "changed"
    audit.record(
        action,
        note,
        actor=actor,
        summary=f"Visit note {what} for the session of {session.recipient.full_name}",
        meta={"session_id": session.id, "parts": changed},
    )
    publish_session_changed(session)
    db.session.flush()
    return note


# --- The visit note -------------------------------------------------------------------------


def visit_note_of(session: RespiteSession) -> VisitNote | None:
    """The session's note (with its author), whoever asks; see `visit_note_for` for a reader."""
    return db.session.scalar(
        select(VisitNote).options(joinedload(VisitNote.author)).where(VisitNote.session_id == session.id)
    )


def visit_note_for(user: User, session: RespiteSession) -> VisitNote | None:
    """The visit note of `session` when `user` may read it, else None.

    `session` is one `get_session_for(user, …)` returned. Its family, its
    provider (the one who accepted it, or the note's author) and coordinators
    read the note; a kiosk never does. A session that hasn't started has no
    note, and costs no query.
    """
    if user.role not in NOTE_READERS or session.status not in STARTED_STATUSES:
        return None
    if user.role == Role.CAREGIVER and session.caregiver.user_id != user.id:
        return None
    note = visit_note_of(session)
    if note is not None and user.role == Role.PROVIDER and note.author_id != user.id:
        return note if is_its_provider(user, session) else None
    return note


# --- The provider's schedule ---------------------------------------------------------------

SCHEDULE_VIEWS = ("agenda", "day", "week")
AGENDA_DAYS = 14


def on_schedule(now: datetime) -> ColumnElement[bool]:
    """SQL: the Assignment shows on its provider's schedule.

    An accepted one always (past ones too: the day's completed visits). An
    offer, and an assignment that was cancelled (with its session, or taking
    the provider off it, or because the family changed the time), until the
    session's time has passed, marked and with the reason.
    """
    return or_(
        Assignment.status == A.ACCEPTED,
        and_(Assignment.status.in_((A.OFFERED, A.CANCELLED)), Assignment.ends_at >= now),
    )


@dataclass(frozen=True)
class ScheduleEntry:
    """One assignment on the schedule, and what to say about it."""

    assignment: Assignment

    @property
    def session(self) -> RespiteSession:
        return self.assignment.session

    @property
    def starts_at(self) -> datetime:
        return self.assignment.starts_at

    @property
    def ends_at(self) -> datetime:
        return self.assignment.ends_at

    @property
    def offered(self) -> bool:
        """An offer waiting for the provider's answer."""
        return self.assignment.status == A.OFFERED

    @property
    def ended_with_session(self) -> bool:
        """The session itself was cancelled (or declined), and the assignment with it."""
        return self.assignment.status == A.CANCELLED and self.session.status in (S.CANCELLED, S.DECLINED)

    @property
    def taken_off(self) -> bool:
        """The provider is no longer on a session that goes on (reassigned, or its time changed)."""
        return self.assignment.status == A.CANCELLED and not self.ended_with_session

    @property
    def reason(self) -> str:
        if self.ended_with_session:
            return self.session.status_reason
        return self.assignment.reason if self.taken_off else ""

    @property
    def linked(self) -> bool:
        """Whether the provider may still open the session's page (as `provider_holds` says)."""
        return self.assignment.status != A.CANCELLED or self.session.status == S.CANCELLED


@dataclass(frozen=True)
class ScheduleDay:
    """One local day in the provider's zone: from its midnight to the next (23, 24 or 25 hours), in UTC."""

    day: date
    starts_at: datetime
    ends_at: datetime
    entries: list[ScheduleEntry]

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


@dataclass(frozen=True)
class Schedule:
    view: str
    day: date  # the day asked for (the week's or agenda's first day may differ)
    today: date
    days: list[ScheduleDay]
    step: timedelta  # what previous and next move by

    @property
    def previous_day(self) -> date:
        return self.first_day - self.step

    @property
    def next_day(self) -> date:
        return self.first_day + self.step

    @property
    def first_day(self) -> date:
        return self.days[0].day

    @property
    def last_day(self) -> date:
        return self.days[-1].day


def local_day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The UTC start and end of the local `day` in `zone`: from its midnight to the next one, however long.

    Built from local midnights, never by adding 24 hours: a day the clocks
    go back has 25 hours, one they go forward 23.
    """
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


def schedule_window(view: str, day: date) -> tuple[list[date], timedelta]:
    """The days a view shows for `day`, and its step: the day; its week, Monday to Sunday; or 14 days from it."""
    if view == "day":
        return [day], timedelta(days=1)
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        return [monday + timedelta(days=n) for n in range(7)], timedelta(days=7)
    return [day + timedelta(days=n) for n in range(AGENDA_DAYS)], timedelta(days=AGENDA_DAYS)


def provider_schedule(
    profile: ProviderProfile | None,
    zone_name: str,
    *,
    view: str = "agenda",
    day: date | None = None,
    now: datetime | None = None,
) -> Schedule:
    """The provider's schedule for one view, by local day in their zone (one query, however many entries).

    An entry belongs to the day it starts on (a visit before the window's
    first midnight, to its first day).
    """
    now = now or utcnow()
    zone = zone_or_utc(zone_name)
    today = now.astimezone(zone).date()
    view = view if view in SCHEDULE_VIEWS else "agenda"
    day = day or today
    dates, step = schedule_window(view, day)
    bounds = [(d, *local_day_bounds(d, zone)) for d in dates]
    window_start, window_end = bounds[0][1], bounds[-1][2]
    assignments: Sequence[Assignment] = []
    if profile is not None:
        assignments = db.session.scalars(
            select(Assignment)
            .options(
                joinedload(Assignment.session).joinedload(RespiteSession.recipient),
                joinedload(Assignment.session).joinedload(RespiteSession.center),
            )
            .where(
                Assignment.provider_id == profile.id,
                Assignment.starts_at < window_end,
                Assignment.ends_at > window_start,
                on_schedule(now),
            )
            .order_by(Assignment.starts_at, Assignment.id)
        ).all()
    days = [ScheduleDay(d, start, end, []) for d, start, end in bounds]
    for assignment in assignments:
        starts = max(assignment.starts_at, window_start)
        home = next(d for d in days if d.starts_at <= starts < d.ends_at)
        home.entries.append(ScheduleEntry(assignment))
    return Schedule(view=view, day=day, today=today, days=days, step=step)
