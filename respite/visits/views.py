"""Visit routes: the provider's schedule, and recording a visit (check-in, check-out, no-show, the visit note).

Each action posts from the session's page: it loads the session through
`get_session_for` (404 when it isn't the user's), calls one service, commits
once and goes back to the page (Post/Redirect/Get). A refusal answers 422
with the session's page and the message beside the form. With htmx the
forms post in place: see `_done` and `_refused`.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..extensions import db
from ..models import RespiteSession, Role, User
from ..scheduling import services as scheduling
from ..scheduling.views import render_session_page
from ..timefmt import local
from ..web.access import roles_required
from ..web.htmx import is_region_request, render_page
from . import services
from .forms import NoShowForm, VisitActionForm, VisitNoteForm, schedule_day, schedule_view

bp = Blueprint("visits", __name__)
# Templates show a visit's button exactly when the service would allow it.
for _global in (
    services.can_check_in,
    services.can_check_out,
    services.can_mark_no_show,
    services.can_write_visit_note,
    services.check_in_hint,
    services.visit_note_for,
):
    bp.add_app_template_global(_global, _global.__name__)

# Who records a visit from the session's page (a kiosk records through its own board, never this page).
RECORDERS = (Role.PROVIDER, Role.COORDINATOR)


# --- The schedule -----------------------------------------------------------------------


@bp.get("/schedule")
@roles_required(Role.PROVIDER)
def schedule() -> Response:
    """The provider's sessions by local day: an agenda of 14 days, one day, or a week (Monday to Sunday)."""
    user = current_user._get_current_object()
    view = schedule_view(request.args.get("view"))
    day = schedule_day(request.args.get("day"))
    plan = services.provider_schedule(user.provider_profile, user.timezone, view=view, day=day)
    return render_page(
        "visits/schedule.html",
        "visits/_schedule_region.html",
        plan=plan,
        # Without a day in its address the page follows the clock: a page left open overnight moves on.
        region_url=_schedule_url(view, day),
        previous_url=_schedule_url(view, plan.previous_day),
        next_url=_schedule_url(view, plan.next_day),
        today_url=_schedule_url(view, None),
        view_urls={name: _schedule_url(name, day) for name in services.SCHEDULE_VIEWS},
    )


def _schedule_url(view: str, day: date | None) -> str:
    return url_for(
        "visits.schedule", view=None if view == "agenda" else view, day=day.isoformat() if day is not None else None
    )


# --- Recording a visit ----------------------------------------------------------------------


def _session(user: User, session_id: int) -> RespiteSession:
    session = scheduling.get_session_for(user, session_id)
    if session is None:
        abort(404)
    return session


def _done(session: RespiteSession, message: str) -> ResponseReturnValue:
    """After the commit: back to the session's page, with the message.

    To htmx, the message alone (out of band, into the page's status line) and
    a `respite:resync` that makes the page's live region fetch itself. The
    region is never swapped from here: a refresh its own event started may be
    on its way, and two answers racing to replace one region would lose the
    text being typed in it (hx-preserve).
    """
    if is_region_request():
        response = make_response(render_template("visits/_done.html", message=message))
        response.headers["HX-Trigger"] = "respite:resync"
        return response
    flash(message, "success")
    return redirect(url_for("scheduling.session", session_id=session.id))


def _refused(user: User, session: RespiteSession, **errors: Any) -> Response:
    """The session's page as it is now, with the form's errors beside it (422); to htmx, its region's content.

    Nothing was changed: the services refuse before they change anything, and a
    save that met a concurrent change was rolled back to its savepoint. htmx puts
    the region's content into the region in place (which stays the same element),
    and empties the status line (an earlier action's message no longer applies).
    """
    in_place = is_region_request()
    response = render_session_page(user, session, status=422, clear_status=in_place, **errors)
    if in_place:
        response.headers.update(
            {"HX-Retarget": "#session-live", "HX-Reswap": "innerHTML", "HX-Reselect": "#session-live > *"}
        )
    return response


def _clock(moment: datetime | None) -> str:
    return local(moment).strftime("%H:%M") if moment is not None else ""


def _record_time(session_id: int, record: Callable[..., None]) -> tuple[User, RespiteSession] | Response:
    """Check in or out (`record`): the session, once recorded and committed; or the page with the refusal."""
    user = current_user._get_current_object()
    session = _session(user, session_id)
    form = VisitActionForm()
    if not form.validate_on_submit():
        return _refused(user, session, visit_action_error="Please reload the page and try again.")
    try:
        record(user, session, expected_version=form.expected_version())
    except services.SchedulingError as error:
        return _refused(user, session, visit_action_error=str(error))
    db.session.commit()
    return user, session


@bp.post("/sessions/<int:session_id>/check-in")
@roles_required(*RECORDERS)
def check_in(session_id: int) -> ResponseReturnValue:
    recorded = _record_time(session_id, services.check_in)
    if isinstance(recorded, Response):
        return recorded
    _user, session = recorded
    return _done(session, f"Checked in at {_clock(session.checked_in_at)}.")


@bp.post("/sessions/<int:session_id>/check-out")
@roles_required(*RECORDERS)
def check_out(session_id: int) -> ResponseReturnValue:
    recorded = _record_time(session_id, services.check_out)
    if isinstance(recorded, Response):
        return recorded
    user, session = recorded
    message = f"Checked out at {_clock(session.checked_out_at)}."
    if services.can_write_visit_note(user, session):
        message += " Now write the visit note for the family."
    return _done(session, message)


@bp.post("/sessions/<int:session_id>/no-show")
@roles_required(*RECORDERS)
def no_show(session_id: int) -> ResponseReturnValue:
    user = current_user._get_current_object()
    session = _session(user, session_id)
    form = NoShowForm()
    if not form.validate_on_submit():
        return _refused(user, session, no_show_form=form)
    try:
        services.mark_no_show(user, session, note=str(form.note.data or ""), expected_version=form.expected_version())
    except services.VisitInvalid as error:
        form.add_problems(error.problems)
        return _refused(user, session, no_show_form=form)
    except services.SchedulingError as error:
        return _refused(user, session, no_show_form=form, no_show_error=str(error))
    db.session.commit()
    return _done(session, "The session is recorded as a no-show.")


@bp.post("/sessions/<int:session_id>/visit-note")
@roles_required(Role.PROVIDER)
def visit_note(session_id: int) -> ResponseReturnValue:
    user = current_user._get_current_object()
    session = _session(user, session_id)
    form = VisitNoteForm()
    if not form.validate_on_submit():
        return _refused(user, session, note_form=form)
    try:
        services.write_visit_note(user, session, **form.parts())
    except services.VisitInvalid as error:
        form.add_problems(error.problems)
        return _refused(user, session, note_form=form)
    except services.SchedulingError as error:
        return _refused(user, session, note_form=form, note_error=str(error))
    db.session.commit()
    return _done(session, "The visit note is saved. The family can read it now.")
