"""Matching routes: the coordinators' request queue, a request's panel (assign, offer, reassign, decline),
the providers' offers page (accept, decline, take a request), and the program calendar.

Every change takes the same path: on SQLite the database's write lock first
(`respite.database.write_lock`, before anything is loaded), then the scoped
loaders (404), the form, one transition from respite.scheduling.assignments
with the version the page showed, one commit, a flash and a redirect. A
refusal (SchedulingError) rolls back and answers the same page, as it is now,
with the message where the user acted (422). With htmx, the panel's buttons
post in place: the answer is the panel's region, with the outcome in it.
"""

from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from ..database import DatabaseBusy, write_lock
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    CareRecipient,
    ProviderProfile,
    RespiteSession,
    Role,
    SessionStatus,
    User,
    utcnow,
)
from ..notices.services import told_sentence
from ..scheduling import assignments
from ..scheduling.lifecycle import SchedulingError
from ..scheduling.services import get_session_for
from ..timefmt import timespan, zone_or_utc
from ..web.access import roles_required
from ..web.htmx import is_region_request, render_page
from . import calendar, services
from .forms import (
    AcceptOfferForm,
    ChooseProviderForm,
    DeclineOfferForm,
    DeclineRequestForm,
    ReassignForm,
    TakeRequestForm,
    WithdrawOfferForm,
)

bp = Blueprint("matching", __name__)

Notice = tuple[str, str]  # (flash category, message)


def _viewer() -> User:
    return current_user._get_current_object()


def _locked_or(page: str) -> ResponseReturnValue | None:
    """SQLite's write lock before a check-then-write (respite.database); when busy, say so and go back to `page`."""
    try:
        write_lock()
    except DatabaseBusy as error:
        flash(str(error), "error")
        return redirect(page)
    return None


def _first_error(*forms: object) -> str:
    for form in forms:
        for messages in getattr(form, "errors", {}).values():
            if messages:
                return str(messages[0])
    return "Something in that form was not right. Please try again."


# --- The request queue -------------------------------------------------------------


@bp.get("/queue")
@roles_required(Role.COORDINATOR)
def queue() -> Response:
    """Open requests soonest first, with what to know about each and the offers out; then unread care cards."""
    found = services.request_queue(_viewer())
    return render_page("matching/queue.html", "matching/_queue_region.html", queue=found)


# --- A request's panel -------------------------------------------------------------


def _load_request(session_id: int) -> RespiteSession:
    """The session with everything the panel shows (person and card, place, family, offers): 404 when unknown."""
    session = db.session.get(
        RespiteSession,
        session_id,
        options=[
            joinedload(RespiteSession.recipient).joinedload(CareRecipient.card),
            joinedload(RespiteSession.center),
            joinedload(RespiteSession.caregiver),
            selectinload(RespiteSession.assignments).joinedload(Assignment.provider).joinedload(ProviderProfile.user),
        ],
        populate_existing=True,
    )
    if session is None:
        abort(404)
    return session


def _render_panel(
    session_id: int,
    *,
    status: int = 200,
    problem: str = "",
    problem_at: str = "",
    notices: list[Notice] | None = None,
    decline_form: DeclineRequestForm | None = None,
    reassign_form: ReassignForm | None = None,
) -> Response:
    """The panel as it is now; `problem` (a refusal) shows at the top and beside `problem_at` (an element's id)."""
    viewer = _viewer()
    session = _load_request(session_id)
    now = utcnow()
    upcoming = session.starts_at > now
    open_request = session.status == SessionStatus.REQUESTED and upcoming
    reassignable = session.status == SessionStatus.CONFIRMED and upcoming
    ranked = services.suggestions(session, viewer) if open_request or reassignable else []
    if decline_form is None:
        decline_form = DeclineRequestForm(formdata=None)
    if reassign_form is None:
        reassign_form = ReassignForm(formdata=None)
    by_time = sorted(session.assignments, key=lambda a: (a.created_at, a.id))
    return render_page(
        "matching/panel.html",
        "matching/_panel_region.html",
        status=status,
        s=session,
        card=session.recipient.card,
        suggestions=ranked,
        open_request=open_request,
        reassignable=reassignable,
        current=[a for a in by_time if a.status == AssignmentStatus.ACCEPTED],
        offers=[a for a in by_time if a.status in (AssignmentStatus.OFFERED, AssignmentStatus.DECLINED)],
        decline_form=decline_form,
        reassign_form=reassign_form,
        problem=problem,
        problem_at=problem_at,
        notices=notices or [],
    )


@bp.get("/queue/<int:session_id>")
@roles_required(Role.COORDINATOR)
def request_panel(session_id: int) -> Response:
    """One request: its details, the providers who fit it best and why, and what can be done with it now."""
    return _render_panel(session_id)


def _panel_url(session_id: int) -> str:
    return url_for("matching.request_panel", session_id=session_id)


def _panel_done(session_id: int, message: str, warning: str = "") -> ResponseReturnValue:
    """After a change is committed: the panel again (PRG), with the outcome flashed, or in the region for htmx."""
    notices: list[Notice] = [("success", message)] + ([("warning", warning)] if warning else [])
    if is_region_request():
        return _render_panel(session_id, notices=notices)
    for category, text in notices:
        flash(text, category)
    return redirect(_panel_url(session_id))


def _panel_refused(
    session_id: int,
    message: str,
    at: str,
    *,
    decline_form: DeclineRequestForm | None = None,
    reassign_form: ReassignForm | None = None,
) -> Response:
    """A refusal: nothing the request changed is kept, and the panel shows the message where the user acted."""
    db.session.rollback()
    return _render_panel(
        session_id,
        status=422,
        problem=message,
        problem_at=at,
        decline_form=decline_form,
        reassign_form=reassign_form,
    )


def _session_or_404(session_id: int) -> RespiteSession:
    session = get_session_for(_viewer(), session_id)
    if session is None:
        abort(404)
    return session


def _provider_or_404(provider_id: int | None) -> ProviderProfile:
    provider = assignments.get_provider(provider_id) if provider_id is not None else None
    if provider is None:
        abort(404)
    return provider


def _when(session: RespiteSession) -> str:
    return timespan(session.starts_at, session.ends_at, zone_or_utc(_viewer().timezone))


def _choose_provider(session_id: int, action: str) -> ResponseReturnValue:
    """Assign or offer: the provider posted from the suggestions, on the version of the session the page showed."""
    if (busy := _locked_or(_panel_url(session_id))) is not None:
        return busy
    session = _session_or_404(session_id)
    form = ChooseProviderForm()
    if not form.validate_on_submit():
        return _panel_refused(session_id, _first_error(form), "suggestions")
    provider = _provider_or_404(form.provider_id.data)
    at = f"suggestion-{provider.id}"
    name, person, when = provider.user.display_name, session.recipient.full_name, _when(session)
    transition = assignments.assign if action == "assign" else assignments.offer
    try:
        outcome = transition(_viewer(), session, provider, expected_version=form.expected_version(), now=utcnow())
    except SchedulingError as error:
        return _panel_refused(session_id, str(error), at)
    told = told_sentence()
    db.session.commit()
    if action == "assign":
        message = f"{name} is assigned to {person}'s session, {when}. It is confirmed. {told}".strip()
    else:
        message = f"Offered to {name}: {person}, {when}. They answer on their Offers page."
    return _panel_done(session_id, message, outcome.warning)


@bp.post("/queue/<int:session_id>/assign")
@roles_required(Role.COORDINATOR)
def assign(session_id: int) -> ResponseReturnValue:
    """Assign a provider directly: the session is confirmed at once."""
    return _choose_provider(session_id, "assign")


@bp.post("/queue/<int:session_id>/offer")
@roles_required(Role.COORDINATOR)
def offer(session_id: int) -> ResponseReturnValue:
    """Offer the request to a provider, who accepts or declines it."""
    return _choose_provider(session_id, "offer")


@bp.post("/queue/<int:session_id>/reassign")
@roles_required(Role.COORDINATOR)
def reassign(session_id: int) -> ResponseReturnValue:
    """Give a confirmed session to another provider, with a reason for the one taken off it."""
    if (busy := _locked_or(_panel_url(session_id))) is not None:
        return busy
    session = _session_or_404(session_id)
    form = ReassignForm()
    if not form.validate_on_submit():
        return _panel_refused(session_id, _first_error(form), "reassign", reassign_form=form)
    provider = _provider_or_404(form.provider_id.data)
    try:
        outcome = assignments.reassign(
            _viewer(),
            session,
            provider,
            reason=form.reason.data or "",
            expected_version=form.expected_version(),
            now=utcnow(),
        )
    except SchedulingError as error:
        return _panel_refused(session_id, str(error), "reassign", reassign_form=form)
    message = f"{provider.user.display_name} now has {session.recipient.full_name}'s session, {_when(session)}."
    message = f"{message} {told_sentence()}".strip()
    db.session.commit()
    return _panel_done(session_id, message, outcome.warning)


@bp.post("/queue/<int:session_id>/decline")
@roles_required(Role.COORDINATOR)
def decline_request(session_id: int) -> ResponseReturnValue:
    """The program can't provide this session: the family is told why."""
    if (busy := _locked_or(_panel_url(session_id))) is not None:
        return busy
    session = _session_or_404(session_id)
    form = DeclineRequestForm()
    if not form.validate_on_submit():
        return _panel_refused(session_id, _first_error(form), "decline-request", decline_form=form)
    try:
        assignments.decline_request(
            _viewer(), session, reason=form.reason.data or "", expected_version=form.expected_version()
        )
    except SchedulingError as error:
        return _panel_refused(session_id, str(error), "decline-request", decline_form=form)
    message = f"The request for {session.recipient.full_name} is declined. {told_sentence()}".strip()
    db.session.commit()
    return _panel_done(session_id, message)


@bp.post("/queue/offers/<int:assignment_id>/withdraw")
@roles_required(Role.COORDINATOR)
def withdraw_offer(assignment_id: int) -> ResponseReturnValue:
    """Take back an offer the provider hasn't answered."""
    if (busy := _locked_or(url_for("matching.queue"))) is not None:
        return busy
    assignment = assignments.get_assignment_for(_viewer(), assignment_id)
    if assignment is None:
        abort(404)
    session_id = assignment.session_id
    form = WithdrawOfferForm()
    if not form.validate_on_submit():
        return _panel_refused(session_id, _first_error(form), f"offer-{assignment_id}")
    name = assignment.provider.user.display_name
    try:
        assignments.withdraw_offer(_viewer(), assignment, expected_version=form.expected_version())
    except SchedulingError as error:
        return _panel_refused(session_id, str(error), f"offer-{assignment_id}")
    db.session.commit()
    return _panel_done(session_id, f"The offer to {name} is withdrawn.")


# --- The provider's offers -----------------------------------------------------------


def _own_provider() -> ProviderProfile:
    profile = _viewer().provider_profile
    if profile is None:
        abort(404)
    return profile


def _takes_requests() -> bool:
    return bool(current_app.config["PROVIDERS_MAY_TAKE_OPEN_REQUESTS"])


def _render_offers(
    *,
    status: int = 200,
    problem: str = "",
    problem_at: str = "",
    decline_form: DeclineOfferForm | None = None,
) -> Response:
    profile = _own_provider()
    now = utcnow()
    waiting = assignments.offers_for(profile, now)
    open_requests = services.open_requests_for(profile, now) if _takes_requests() else []
    return render_page(
        "matching/offers.html",
        "matching/_offers_region.html",
        status=status,
        waiting=waiting,
        open_requests=open_requests,
        skills_wanted=services.skills_wanted(profile, open_requests),
        takes_requests=_takes_requests(),
        problem=problem,
        problem_at=problem_at,
        decline_form=decline_form,
    )


@bp.get("/offers")
@roles_required(Role.PROVIDER)
def offers() -> Response:
    """The sessions offered to this provider, waiting for an answer; and open requests that fit them."""
    return _render_offers()


def _offers_refused(message: str, at: str, decline_form: DeclineOfferForm | None = None) -> Response:
    db.session.rollback()
    return _render_offers(status=422, problem=message, problem_at=at, decline_form=decline_form)


def _own_offer_or_404(assignment_id: int) -> Assignment:
    assignment = assignments.get_assignment_for(_viewer(), assignment_id)
    if assignment is None:
        abort(404)
    return assignment


def _confirmed(session: RespiteSession) -> ResponseReturnValue:
    flash(f"Confirmed: {session.recipient.full_name}, {_when(session)}. The session is yours.", "success")
    return redirect(url_for("scheduling.session", session_id=session.id))


@bp.post("/offers/<int:assignment_id>/accept")
@roles_required(Role.PROVIDER)
def accept_offer(assignment_id: int) -> ResponseReturnValue:
    """The provider takes the session offered: it is confirmed, and its page opens."""
    if (busy := _locked_or(url_for("matching.offers"))) is not None:
        return busy
    assignment = _own_offer_or_404(assignment_id)
    form = AcceptOfferForm()
    if not form.validate_on_submit():
        return _offers_refused(_first_error(form), f"offer-{assignment_id}")
    try:
        assignments.accept_offer(_viewer(), assignment, now=utcnow())
    except SchedulingError as error:
        return _offers_refused(str(error), f"offer-{assignment_id}")
    db.session.commit()
    return _confirmed(assignment.session)


@bp.post("/offers/<int:assignment_id>/decline")
@roles_required(Role.PROVIDER)
def decline_offer(assignment_id: int) -> ResponseReturnValue:
    """The provider can't take the session offered; the coordinators read why."""
    if (busy := _locked_or(url_for("matching.offers"))) is not None:
        return busy
    assignment = _own_offer_or_404(assignment_id)
    at = f"offer-{assignment_id}"
    form = DeclineOfferForm()
    if not form.validate_on_submit():
        return _offers_refused(_first_error(form), at, decline_form=form)
    session = assignment.session
    try:
        assignments.decline_offer(_viewer(), assignment, reason=form.reason.data or "")
    except SchedulingError as error:
        return _offers_refused(str(error), at, decline_form=form)
    db.session.commit()
    flash(f"You declined {session.recipient.full_name}'s session, {_when(session)}.", "success")
    return redirect(url_for("matching.offers"))


@bp.post("/offers/take/<int:session_id>")
@roles_required(Role.PROVIDER)
def take_request(session_id: int) -> ResponseReturnValue:
    """The provider takes an open request that fits them (when the program allows it): it is confirmed."""
    if (busy := _locked_or(url_for("matching.offers"))) is not None:
        return busy
    session = db.session.get(RespiteSession, session_id)
    provider = _own_provider()
    if (
        session is None
        or session.status != SessionStatus.REQUESTED
        or not assignments.at_their_center(provider, session)
    ):
        abort(404)  # only an open request they could be shown can be taken; anything else is not theirs to see
    form = TakeRequestForm()
    if not form.validate_on_submit():
        return _offers_refused(_first_error(form), f"request-{session_id}")
    try:
        assignments.take_request(_viewer(), session, expected_version=form.expected_version(), now=utcnow())
    except SchedulingError as error:
        return _offers_refused(str(error), f"request-{session_id}")
    db.session.commit()
    return _confirmed(session)


# --- The program calendar ----------------------------------------------------------


def _week_asked(viewer: User) -> date:
    """The Monday of the week in `?week=` (any day of it), or of this week; 404 for a date that is none."""
    raw = request.args.get("week", "")
    if not raw:
        return calendar.this_monday(zone_or_utc(viewer.timezone))
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(404)
    if not calendar.FIRST_YEAR <= day.year <= calendar.LAST_YEAR:
        abort(404)
    return calendar.monday_of(day)


@bp.get("/program")
@roles_required(Role.COORDINATOR)
def program() -> Response:
    """One week of the program, Monday to Sunday in the viewer's zone, by center or by provider."""
    viewer = _viewer()
    try:
        grouping = calendar.Grouping(request.args.get("by", calendar.Grouping.CENTER))
    except ValueError:
        abort(404)
    monday = _week_asked(viewer)
    week = calendar.program_week(viewer, monday, grouping)
    return render_page(
        "matching/program.html",
        "matching/_program_region.html",
        week=week,
        this_week=calendar.this_monday(week.zone),
    )
