"""The session and assignment lifecycles: which transitions exist, from which statuses, and who may take them now.

The transition tables are the one statement of the lifecycle in DESIGN.md.
The predicates (`can_cancel`, ...) are what the services use to refuse and
what templates use to show a button, so the two never disagree.
"""

from datetime import datetime

from ..models import AssignmentStatus, RespiteSession, Role, SessionStatus, User, utcnow

S = SessionStatus
A = AssignmentStatus

# transition: (status it leads to, statuses it may start from)
SESSION_TRANSITIONS: dict[str, tuple[SessionStatus, frozenset[SessionStatus]]] = {
    "confirm": (S.CONFIRMED, frozenset({S.REQUESTED})),
    "decline": (S.DECLINED, frozenset({S.REQUESTED})),
    "cancel": (S.CANCELLED, frozenset({S.REQUESTED, S.CONFIRMED})),
    "check_in": (S.CHECKED_IN, frozenset({S.CONFIRMED})),
    "check_out": (S.COMPLETED, frozenset({S.CHECKED_IN})),
    "no_show": (S.NO_SHOW, frozenset({S.CONFIRMED})),
}

ASSIGNMENT_TRANSITIONS: dict[str, tuple[AssignmentStatus, frozenset[AssignmentStatus]]] = {
    "accept": (A.ACCEPTED, frozenset({A.OFFERED})),
    "decline": (A.DECLINED, frozenset({A.OFFERED})),
    "cancel": (A.CANCELLED, frozenset({A.OFFERED, A.ACCEPTED})),
}

# Sessions still to happen or happening: the ones a caregiver and a provider plan around.
ACTIVE_SESSION_STATUSES = frozenset({S.REQUESTED, S.CONFIRMED, S.CHECKED_IN})
# Sessions that use up a caregiver's yearly hours.
COUNTED_SESSION_STATUSES = frozenset({S.REQUESTED, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.NO_SHOW})
# Assignments that hold a provider to a session.
LIVE_ASSIGNMENT_STATUSES = frozenset({A.OFFERED, A.ACCEPTED})


class SchedulingError(Exception):
    """A transition that can't happen now; the message is safe to show to the user."""


def session_transition_allowed(transition: str, status: str) -> bool:
    return status in SESSION_TRANSITIONS[transition][1]


def session_target(transition: str, status: str) -> SessionStatus:
    """The status `transition` leads to from `status`; SchedulingError when the table has no such move."""
    target, sources = SESSION_TRANSITIONS[transition]
    if status not in sources:
        raise SchedulingError(f"A {SessionStatus(status).label.lower()} session can't be changed that way.")
    return target


def assignment_target(transition: str, status: str) -> AssignmentStatus:
    target, sources = ASSIGNMENT_TRANSITIONS[transition]
    if status not in sources:
        raise SchedulingError(f"An assignment that is {status} can't be changed that way.")
    return target


# --- Who may do what, now ------------------------------------------------------


def cancel_refusal(actor: User, session: RespiteSession, now: datetime | None = None) -> Exception | None:
    """Why `actor` may not cancel `session` now (an exception to raise), or None when they may.

    Its caregiver or a coordinator may cancel a requested or confirmed session
    before it starts.
    """
    if actor.role == Role.COORDINATOR:
        pass
    elif actor.role == Role.CAREGIVER:
        # Through the session's caregiver, which the page has loaded already: no query per row.
        if session.caregiver.user_id != actor.id:
            return PermissionError("Only the family or a coordinator can cancel a session.")
    else:
        return PermissionError("Only the family or a coordinator can cancel a session.")
    if not session_transition_allowed("cancel", session.status):
        return SchedulingError("This session can no longer be cancelled.")
    if session.starts_at <= (now or utcnow()):
        return SchedulingError("This session has already started; ask the provider or a coordinator.")
    return None


def can_cancel(actor: User, session: RespiteSession, now: datetime | None = None) -> bool:
    return cancel_refusal(actor, session, now) is None


def _family_refusal(actor: User, session: RespiteSession, what: str) -> PermissionError | None:
    """Only the session's own caregiver changes what they asked for."""
    if actor.role != Role.CAREGIVER or session.caregiver.user_id != actor.id:
        return PermissionError(f"Only the family who asked for a session can {what} it.")
    return None


def edit_refusal(actor: User, session: RespiteSession, now: datetime | None = None) -> Exception | None:
    """Why `actor` may not edit `session` in place now, or None when they may.

    Its caregiver may change the time, place and notes of a request no
    provider has accepted yet (accepting confirms it), before it starts.
    """
    if (refusal := _family_refusal(actor, session, "change")) is not None:
        return refusal
    if session.status != S.REQUESTED:
        return SchedulingError(f"A {SessionStatus(session.status).label.lower()} session can't be edited.")
    if session.starts_at <= (now or utcnow()):
        return SchedulingError("This session has already started; ask the provider or a coordinator.")
    return None


def can_edit(actor: User, session: RespiteSession, now: datetime | None = None) -> bool:
    return edit_refusal(actor, session, now) is None


def replace_refusal(actor: User, session: RespiteSession, now: datetime | None = None) -> Exception | None:
    """Why `actor` may not change a confirmed `session` now, or None when they may.

    A confirmed session's time, place or notes don't change under its
    provider: the change is a new request, and this session is cancelled
    with a reason, in one step. So it takes what cancelling takes.
    """
    if (refusal := _family_refusal(actor, session, "change")) is not None:
        return refusal
    if session.status != S.CONFIRMED:
        return SchedulingError(f"A {SessionStatus(session.status).label.lower()} session can't be changed.")
    return cancel_refusal(actor, session, now)


def can_replace(actor: User, session: RespiteSession, now: datetime | None = None) -> bool:
    return replace_refusal(actor, session, now) is None


def change_refusal(actor: User, session: RespiteSession, now: datetime | None = None) -> Exception | None:
    """Why `actor` may neither edit nor replace `session` now (the edit's reason first), or None."""
    if session.status == S.CONFIRMED:
        return replace_refusal(actor, session, now)
    return edit_refusal(actor, session, now)


def can_change(actor: User, session: RespiteSession, now: datetime | None = None) -> bool:
    """Whether the "Change" button shows: an edit of a request, or a new request in place of a confirmed session."""
    return change_refusal(actor, session, now) is None


def can_cancel_series(actor: User, session: RespiteSession, now: datetime | None = None) -> bool:
    """Whether "cancel this and the rest of the series" shows: a cancellable occurrence of a series."""
    return session.series_id is not None and can_cancel(actor, session, now)
