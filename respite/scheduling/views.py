"""Scheduling routes: requests (new, changed, checked as one types), the sessions pages, acting on one session."""

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..care import services as care
from ..database import DatabaseBusy, write_lock
from ..extensions import db
from ..kiosk import services as kiosk
from ..models import AssignmentStatus, CaregiverProfile, RespiteSession, Role, SessionStatus, User, utcnow
from ..notices import services as notices
from ..timefmt import timespan, zone_or_utc
from ..web.access import roles_required
from ..web.htmx import render_page
from . import history, lifecycle, services
from .forms import EditRequestForm, RequestForm

bp = Blueprint("scheduling", __name__)
# Templates show an action's button exactly when the service would allow it.
bp.add_app_template_global(lifecycle.can_cancel, "can_cancel")


# --- Requests --------------------------------------------------------------------
#
# The request form is one page that works as a plain form post; with htmx, each
# field also posts the form to a check endpoint as the user goes, and the
# answer (each field's message and the hours summary) lands out of band.

for _predicate in (lifecycle.can_edit, lifecycle.can_change, lifecycle.can_cancel_series):
    bp.add_app_template_global(_predicate, _predicate.__name__)

# The request form's fields: the inline check answers each one's message (empty when all is well).
_REQUEST_FIELDS = ("recipient_id", "day", "start", "minutes", "location_kind", "center_id", "address", "notes", "weeks")


def _lock_for_writing() -> ResponseReturnValue | None:
    """Before a check-then-insert: SQLite's write lock (respite.database); a page to show when it is busy."""
    try:
        write_lock()
    except DatabaseBusy as error:
        flash(str(error), "error")
        return redirect(request.url)
    return None


def _own_profile() -> CaregiverProfile:
    profile = current_user.caregiver_profile
    if profile is None:
        abort(404)
    return profile


def _summary(
    profile: CaregiverProfile, check: services.RequestCheck | None, session: RespiteSession | None = None
) -> dict[str, object]:
    """What the form shows beside the fields: the occurrences (when known), the hours before and after, today."""
    occurrences = check.occurrences if check is not None else []
    return {
        "occurrences": occurrences,
        "preview": services.hours_preview(profile, occurrences, replacing=session),
        "today": utcnow().astimezone(zone_or_utc(profile.user.timezone)).date(),
    }


def _requested_flash(result: services.RequestResult) -> None:
    if result.repeated:
        flash("This request was already sent; nothing was added.", "info")
        return
    first = result.sessions[0]
    when = timespan(first.starts_at, first.ends_at)
    if len(result.sessions) == 1:
        flash(f"Your request for {when} is sent. You'll see here when a provider is confirmed.", "success")
    else:
        flash(f"Your weekly request is sent: {len(result.sessions)} sessions, the first {when}.", "success")


def _redirect_to(result: services.RequestResult) -> ResponseReturnValue:
    """One session: its page. A series: the sessions list."""
    if len(result.sessions) == 1:
        return redirect(url_for("scheduling.session", session_id=result.sessions[0].id))
    return redirect(url_for("scheduling.sessions"))


@bp.route("/sessions/new", methods=["GET", "POST"])
@roles_required(Role.CAREGIVER)
def request_session() -> ResponseReturnValue:
    """Ask for respite: one session, or the same time each week for a few weeks."""
    if request.method == "POST" and (busy := _lock_for_writing()) is not None:
        return busy
    user = current_user._get_current_object()
    profile = _own_profile()
    recipients = care.recipients_for(profile)
    form = RequestForm()
    form.offer(services.centers())
    form.offer_people(recipients)
    check = None
    if request.method == "GET":
        form.new_key()
        # A link from a person's page names them; someone else's, or no one's, is not found.
        if (wanted := request.args.get("recipient", type=int)) is not None:
            if wanted not in {r.id for r in recipients}:
                abort(404)
            form.recipient_id.data = wanted
        elif len(recipients) == 1:
            form.recipient_id.data = recipients[0].id
    else:
        if form.validate_on_submit() and request.form.get("action") != "check":
            try:
                result = services.request_sessions(user, form.details(), request_key=form.key())
            except services.RequestInvalid as error:
                form.add_problems(error.problems)
            except services.SchedulingError as error:
                flash(str(error), "error")
            else:
                db.session.commit()
                _requested_flash(result)
                return _redirect_to(result)
        check = services.check_request(user, profile, form.details())
        form.add_problems(check.problems)
        if form.key() is None:
            form.new_key()
    status = 422 if form.errors else 200
    return render_template(
        "scheduling/request.html", form=form, recipients=recipients, **_summary(profile, check)
    ), status


@bp.post("/sessions/new/check")
@bp.post("/sessions/<int:session_id>/edit/check")
@roles_required(Role.CAREGIVER)
def check_request(session_id: int | None = None) -> ResponseReturnValue:
    """Inline validation as the user goes: each field's message and the hours summary, out of band. Writes nothing.

    A message about a field shows once the field holds something, or when the
    field itself was just changed: no "choose a date" before the user got there.
    """
    user = current_user._get_current_object()
    session = None
    form: RequestForm | EditRequestForm
    if session_id is None:
        profile = _own_profile()
        form = RequestForm()
        form.validate()  # parses each field; the rules are the service's
        check = services.check_request(user, profile, form.details())
    else:
        session = services.get_session_for(user, session_id)
        if session is None:
            abort(404)
        profile = session.caregiver
        form = EditRequestForm()
        form.validate()
        check = services.check_change(user, session, form.details())
    changed = request.headers.get("HX-Trigger-Name")
    sent = {name for name in _REQUEST_FIELDS if request.form.get(name, "").strip() or name == changed}
    for name in _REQUEST_FIELDS:
        if name in form and name not in sent:
            form[name].errors = []
    form.add_problems(check.problems, only=sent)
    return render_template("scheduling/_request_feedback.html", form=form, **_summary(profile, check, session))


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@roles_required(Role.CAREGIVER)
def edit_request(session_id: int) -> ResponseReturnValue:
    """Change a session's time, place or notes: a request in place; a confirmed one by a new request."""
    if request.method == "POST" and (busy := _lock_for_writing()) is not None:
        return busy
    user = current_user._get_current_object()
    session = services.get_session_for(user, session_id)
    if session is None:
        abort(404)
    session_page = url_for("scheduling.session", session_id=session.id)
    form = EditRequestForm()
    if request.method == "GET":
        if (refusal := lifecycle.change_refusal(user, session)) is not None:
            flash(str(refusal), "error")
            return redirect(session_page)
        form.fill_from(session, zone_or_utc(user.timezone))
        form.new_key()
    form.offer(services.centers())
    check = None
    if request.method == "POST":
        if form.validate_on_submit() and request.form.get("action") != "check":
            try:
                result = services.change_session(
                    user,
                    session,
                    form.details(),
                    request_key=form.key(),
                    expected_version=form.expected_version(),
                )
            except services.RequestInvalid as error:
                form.add_problems(error.problems)
            except services.SchedulingError as error:
                flash(str(error), "error")
                return redirect(session_page)
            else:
                told = notices.told_sentence()
                db.session.commit()
                _changed_flash(session, result, told)
                return redirect(url_for("scheduling.session", session_id=result.sessions[0].id))
        check = services.check_change(user, session, form.details())
        form.add_problems(check.problems)
        if form.key() is None:
            form.new_key()
    status = 422 if form.errors else 200
    return render_template(
        "scheduling/request_edit.html", form=form, s=session, **_summary(session.caregiver, check, session)
    ), status


def _changed_flash(old: RespiteSession, result: services.RequestResult, told: str) -> None:
    new = result.sessions[0]
    if new.id != old.id:
        flash(f"Your change is sent as a new request; the confirmed session is cancelled. {told}".strip(), "success")
    elif result.repeated:
        flash("Nothing changed.", "info")
    else:
        flash("Your request is changed.", "success")


@bp.post("/sessions/<int:session_id>/cancel-series")
@roles_required(Role.CAREGIVER, Role.COORDINATOR)
def cancel_series(session_id: int) -> ResponseReturnValue:
    """Cancel this occurrence of a series and the later ones, each with the reason given."""
    session = services.get_session_for(current_user, session_id)
    if session is None:
        abort(404)
    try:
        cancelled = services.cancel_series(
            current_user._get_current_object(),
            session,
            reason=request.form.get("reason", ""),
            expected_version=request.form.get("version", type=int),
        )
    except services.SchedulingError as error:
        flash(str(error), "error")
    else:
        told = notices.told_sentence()
        db.session.commit()
        count = len(cancelled)
        flash(f"{count} session{'s are' if count != 1 else ' is'} cancelled. {told}".strip(), "success")
    return redirect(url_for("scheduling.sessions"))


# --- Acting on one session ------------------------------------------------------


@bp.post("/sessions/<int:session_id>/cancel")
@roles_required(Role.CAREGIVER, Role.COORDINATOR)
def cancel(session_id: int) -> ResponseReturnValue:
    session = services.get_session_for(current_user, session_id)
    if session is None:
        abort(404)
    try:
        services.cancel_session(
            current_user._get_current_object(),
            session,
            reason=request.form.get("reason", ""),
            expected_version=request.form.get("version", type=int),
        )
    except services.SchedulingError as error:
        flash(str(error), "error")
    else:
        told = notices.told_sentence()  # who was told, read before the commit forgets it
        db.session.commit()
        flash(f"The session is cancelled. {told}".strip(), "success")
    if request.form.get("return_to") == "session":  # the form on the session's own page: back there
        return redirect(url_for("scheduling.session", session_id=session_id))
    return redirect(url_for("dashboards.home"))


# --- Sessions pages ----------------------------------------------------------------


@bp.get("/sessions")
@roles_required(*history.SESSIONS_PAGE_ROLES)
def sessions() -> Response:
    """The viewer's sessions: coming up, soonest first; then everything else, newest first, a page at a time."""
    user = current_user._get_current_object()
    scope = history.sessions_of(user)
    if scope is None:  # a role with a page always has a scope; this keeps the rule default-deny
        abort(404)
    upcoming = history.upcoming(scope)
    # A page number no history could reach is the last page there could be, not an overflow in the query.
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), history.MAX_PAGE)
    past = history.history(scope, page=page)
    profile = user.caregiver_profile if user.role == Role.CAREGIVER else None
    return render_page(
        "scheduling/sessions.html",
        "scheduling/_sessions_region.html",
        upcoming=upcoming,
        past=past,
        providers=history.providers_by_session([*upcoming, *past.items]),
        profile=profile,
        minutes_left=services.minutes_left_this_year(profile, user.timezone) if profile else None,
    )


@bp.get("/sessions/<int:session_id>", endpoint="session")
@roles_required(Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR)  # never a kiosk: the page names the family
def session_page(session_id: int) -> Response:
    """One session: the person, time, place, who is coming, its status and what happened, as it happens."""
    user = current_user._get_current_object()
    found = services.get_session_for(user, session_id)
    if found is None:
        abort(404)
    return render_session_page(user, found)


def render_session_page(user: User, session: RespiteSession, *, status: int = 200, **extra: Any) -> Response:
    """The page of `session` (one `get_session_for(user, ...)` returned), or its live region to htmx.

    Actions on the session from other packages answer with it too (an invalid
    form, 422, with its errors in `extra`), so the page is built in one place.
    """
    session = history.load_details(session)
    provider = user.provider_profile if user.role == Role.PROVIDER else None
    return render_page(
        "scheduling/session.html",
        "scheduling/_session_region.html",
        status=status,
        s=session,
        providers=history.providers_by_session([session])[session.id],
        timeline=history.timeline(session, user),
        # The provider's own offer on it (to answer here), and where they stand with the person's care card.
        my_offer=next(
            (
                a
                for a in session.assignments
                if provider and a.provider_id == provider.id and a.status == AssignmentStatus.OFFERED
            ),
            None,
        )
        if session.status == SessionStatus.REQUESTED
        else None,
        card_state=care.card_state_for(user, session.recipient)
        if provider and session.status in lifecycle.ACTIVE_SESSION_STATUSES
        else None,
        kiosk_code=kiosk.code_for_family(user, session),
        handovers=kiosk.handovers_for(session),
        **extra,
    )
