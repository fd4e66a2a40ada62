"""The front desk's pages, on the kiosk tablet, and the coordinators' Kiosks page.

A tablet is known by its device credential: a cookie (HttpOnly,
SameSite=Strict, only sent to /kiosk, kept for a long time) that the pairing
screen sets. It is no one's sign-in: these pages never ask who is signed in
on the browser, have no sign-out and no lifetime, and answer a tablet whose
credential is revoked or unknown with the pairing screen (a region, 401 and
a redirect there; the stream, 401). Nothing but the pages here reads the
cookie, and the browser sends it nowhere else.

Codes and PINs are throttled per tablet and per session (flask-limiter, on
failures only); past the limit the tablet shows that it must wait.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, logout_user

from .. import realtime
from ..extensions import db, limiter
from ..models import HandoverKind, KioskDevice, RespiteSession, Role, utcnow
from ..realtime.stream import open_stream
from ..scheduling.lifecycle import SchedulingError
from ..web.access import public, roles_required
from ..web.errors import record_refusal
from ..web.htmx import is_region_request, render_page
from . import services
from .forms import CodeForm, HandoverForm, PairForm, PairingForm, StaffPinForm

bp = Blueprint("kiosk", __name__)

COOKIE = "respite_kiosk"
COOKIE_PATH = "/kiosk"
# As long as browsers keep a cookie (400 days); renewed whenever the tablet's last seen time is noted.
COOKIE_MAX_AGE = 400 * 24 * 3600
# The tablet goes back to its board after this long without a touch (static/js/kiosk.js).
IDLE_SECONDS = 30

View = TypeVar("View", bound=Callable[..., Any])


@bp.context_processor
def _kiosk_page() -> dict[str, Any]:
    """What the tablet's frame (templates/kiosk/base.html) shows and needs: the time now, and the idle delay."""
    return {"kiosk_now": utcnow, "idle_seconds": IDLE_SECONDS}


# --- The device credential ---------------------------------------------------------------------------


def current_device() -> KioskDevice | None:
    """The paired tablet this request comes from (its cookie's device), or None; read once per request."""
    if "kiosk_device" not in g:
        g.kiosk_device = services.device_for_token(request.cookies.get(COOKIE))
    device: KioskDevice | None = g.kiosk_device
    return device


def _seen(device: KioskDevice) -> None:
    """Note the tablet was seen (at most once a minute), and then send its cookie again, for another 400 days."""
    if services.note_seen(device):
        db.session.commit()
        g.kiosk_renew_cookie = True


def _credential_refused() -> None:
    """A cookie that opens nothing (revoked, unknown): audited once, as the answer tells the browser to drop it."""
    if request.cookies.get(COOKIE) and not g.get("kiosk_forget_cookie"):
        g.kiosk_forget_cookie = True
        record_refusal("access.denied", f"A kiosk credential that is revoked or unknown was refused at {request.path}")


def _unpaired() -> ResponseReturnValue:
    """What a tablet without a working credential gets: the pairing screen, however it asked."""
    _credential_refused()
    if request.endpoint == "kiosk.stream":
        return Response("This tablet is not paired.\n", status=401, mimetype="text/plain")
    if is_region_request():
        response = Response("This tablet is not paired.\n", status=401, mimetype="text/plain")
        response.headers["HX-Redirect"] = url_for("kiosk.board")
        return response
    return redirect(url_for("kiosk.board"))


def device_required(view: View) -> View:
    """Allow only a paired tablet's requests; the view gets the device first. Everyone else: the pairing screen."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        device = current_device()
        if device is None:
            return _unpaired()
        _seen(device)
        return view(device, *args, **kwargs)

    guarded.access_rule = "kiosk device"  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


@bp.after_request
def _cookie(response: Response) -> Response:
    if g.get("kiosk_forget_cookie"):
        response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="Strict")
    elif g.get("kiosk_renew_cookie") or g.get("kiosk_new_token"):
        token = g.get("kiosk_new_token") or request.cookies.get(COOKIE, "")
        response.set_cookie(
            COOKIE,
            token,
            max_age=COOKIE_MAX_AGE,
            path=COOKIE_PATH,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Strict",
        )
    return response


# --- Throttling: failures only, per tablet and per session ------------------------------------------


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


def _per_device(what: str) -> Callable[[], str]:
    return lambda: f"kiosk-{what}:{services.token_key(request.cookies.get(COOKIE))}"


def _per_session() -> str:
    return f"kiosk-code-session:{(request.view_args or {}).get('session_id')}"


def _failed(flag: str) -> Callable[[Response], bool]:
    return lambda response: bool(g.get(flag))


@bp.errorhandler(RateLimitExceeded)
def _locked(error: RateLimitExceeded) -> ResponseReturnValue:
    record_refusal("access.throttled", f"Too many tries at {request.path}", limit=str(error.description))
    current = limiter.current_limit
    seconds = max(60, int(current.reset_at - time.time())) if current is not None else 900
    minutes = round(seconds / 60)
    response = Response(render_template("kiosk/locked.html", minutes=minutes, device=current_device()), status=429)
    response.headers["Retry-After"] = str(seconds)
    return response


# --- The board, and pairing ------------------------------------------------------------------------


@bp.get("/kiosk")
@public  # the tablet's own page: its board when paired, the pairing screen when not
def board() -> ResponseReturnValue:
    device = current_device()
    if device is None:
        return _unpaired() if is_region_request() else _pairing_screen()
    _seen(device)
    return render_page("kiosk/board.html", "kiosk/_board_region.html", device=device, board=services.board_for(device))


def _pairing_screen(form: PairForm | None = None, status: int = 200) -> ResponseReturnValue:
    _credential_refused()
    return render_template("kiosk/pair.html", form=form or PairForm(), device=None), status


@bp.post("/kiosk/pair")
@public  # a pairing code is its own key; failures are throttled per address
@limiter.limit(_setting("KIOSK_PAIRING_LIMIT"), methods=["POST"], deduct_when=_failed("kiosk_pairing_refused"))
def pair() -> ResponseReturnValue:
    if current_device() is not None:
        return redirect(url_for("kiosk.board"))
    form = PairForm()
    if not form.validate_on_submit():
        return _pairing_screen(form, 422)
    try:
        device, token = services.pair_device(form.code.data or "")
    except services.KioskError as error:
        db.session.commit()  # the refusal's audit row
        g.kiosk_pairing_refused = True
        form.code.data = ""
        form.code.errors = [str(error)]
        return _pairing_screen(form, 422)
    db.session.commit()
    if current_user.is_authenticated:
        # A tablet is no one's sign-in: whoever was signed in on this browser is signed out of it (only here).
        logout_user()
    session.clear()
    g.kiosk_new_token = token
    flash(f"This tablet is paired with {device.center.name} as “{device.name}”.", "success")
    return redirect(url_for("kiosk.board"))


@bp.get("/kiosk/events")
@device_required
def stream(device: KioskDevice) -> Response:
    """The tablet's live stream: its center's events, until it ends or the tablet is unpaired."""
    return open_stream(realtime.device_channels(device))


# --- Checking in and out ------------------------------------------------------------------------------


def _session_or_404(device: KioskDevice, session_id: int) -> RespiteSession:
    found = services.get_session_for_device(device, session_id)
    if found is None:
        abort(404)
    return found


def _step_page(
    device: KioskDevice, found: RespiteSession, form: CodeForm | None = None, status: int = 200
) -> ResponseReturnValue:
    refusal = services.step_refusal(device, found)
    return render_template(
        "kiosk/code.html",
        device=device,
        s=found,
        step=services.step_for(found),
        refusal=str(refusal) if refusal is not None else "",
        form=form or CodeForm(),
    ), status


@bp.route("/kiosk/sessions/<int:session_id>", methods=["GET", "POST"])
@device_required
@limiter.limit(
    _setting("KIOSK_CODE_DEVICE_LIMIT"),
    key_func=_per_device("code"),
    methods=["POST"],
    deduct_when=_failed("kiosk_wrong_code"),
)
@limiter.limit(
    _setting("KIOSK_CODE_SESSION_LIMIT"),
    key_func=_per_session,
    methods=["POST"],
    deduct_when=_failed("kiosk_wrong_code"),
)
def step(device: KioskDevice, session_id: int) -> ResponseReturnValue:
    """Someone tapped a name: the code that checks the person in (or out). Right, and the tablet asks who is
    handing over; wrong, and it says so (and counts it against the tablet and the session)."""
    found = _session_or_404(device, session_id)
    if request.method == "GET":
        return _step_page(device, found)
    form = CodeForm()
    if services.step_refusal(device, found) is not None or not form.validate_on_submit():
        return _step_page(device, found, form, 422)
    try:
        services.check_code(device, found, form.code.data or "")
    except services.KioskError as error:
        db.session.commit()  # the refusal's audit row
        g.kiosk_wrong_code = True
        form.code.data = ""
        form.code.errors = [str(error)]
        return _step_page(device, found, form, 422)
    handover = HandoverForm(
        formdata=None, people=services.authorised_people(found), ticket=services.handover_ticket(device, found)
    )
    return _handover_page(device, found, handover)


def _handover_page(
    device: KioskDevice, found: RespiteSession, form: HandoverForm, status: int = 200, problem: str = ""
) -> ResponseReturnValue:
    return render_template(
        "kiosk/handover.html",
        device=device,
        s=found,
        step=services.step_for(found),
        people=services.authorised_people(found),
        has_pin=device.center.kiosk_pin_hash is not None,
        form=form,
        problem=problem,
    ), status


@bp.post("/kiosk/sessions/<int:session_id>/handover")
@device_required
@limiter.limit(
    _setting("KIOSK_PIN_LIMIT"), key_func=_per_device("pin"), methods=["POST"], deduct_when=_failed("kiosk_wrong_pin")
)
def handover(device: KioskDevice, session_id: int) -> ResponseReturnValue:
    """Who brought or collects the person: the session is checked in (or out) with it, and the board moves."""
    found = _session_or_404(device, session_id)
    form = HandoverForm(people=services.authorised_people(found))
    if not services.ticket_is_good(device, found, form.ticket.data or ""):
        flash("Please type the code again: a few minutes have passed, or the session changed.", "info")
        return redirect(url_for("kiosk.step", session_id=found.id))
    if not form.validate_on_submit():
        return _handover_page(device, found, form, 422)
    choice = services.HandoverChoice(
        person=form.person.data or "",
        name=form.name.data or "",
        relationship=form.relationship.data or "",
        pin=form.pin.data or "",
    )
    step_was = services.step_for(found)
    try:
        services.hand_over(device, found, choice)
    except services.KioskError as error:
        # Refused before anything changed: what is pending is a wrong PIN's audit row, which is kept.
        db.session.commit()
        g.kiosk_wrong_pin = error.problems.get("pin") == services.WRONG_PIN
        for name, message in error.problems.items():
            form[name].errors = [message]
        form.pin.data = ""
        return _handover_page(device, found, form, 422)
    except (SchedulingError, PermissionError) as error:
        db.session.rollback()
        return _handover_page(device, found, form, 409, problem=str(error))
    db.session.commit()
    way = "in" if step_was == HandoverKind.DROP_OFF else "out"
    flash(f"{found.recipient.short_name} is checked {way}. Thank you!", "success")
    return redirect(url_for("kiosk.board"))


# --- The coordinators' Kiosks page -------------------------------------------------------------------


def _center_choices() -> list[tuple[int, str]]:
    return [(center.id, center.name) for center in services.centers()]


def _devices_page(
    *,
    pairing_form: PairingForm | None = None,
    pin_form: StaffPinForm | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    centers = services.centers()
    choices = [(center.id, center.name) for center in centers]
    return render_page(
        "kiosk/devices.html",
        "kiosk/_devices_region.html",
        status=status,
        devices=services.devices(),
        centers=centers,
        pairing_form=pairing_form or PairingForm(formdata=None, prefix="pairing", centers=choices),
        pin_form=pin_form or StaffPinForm(formdata=None, prefix="pin", centers=choices),
        pairing_minutes=services.pairing_minutes(),
        **extra,
    )


@bp.get("/admin/kiosks")
@roles_required(Role.COORDINATOR)
def devices() -> Response:
    """Every paired tablet, when it was last seen, and how to pair another or unpair one."""
    return _devices_page()


@bp.post("/admin/kiosks/pairing")
@roles_required(Role.COORDINATOR)
def new_pairing() -> ResponseReturnValue:
    """A one-time pairing code, shown once on the page (never kept in a flash message: the cookie is readable)."""
    form = PairingForm(prefix="pairing", centers=_center_choices())
    if not form.validate_on_submit():
        return _devices_page(pairing_form=form, status=422)
    center = services.get_center(form.center_id.data)
    if center is None:
        abort(404)
    try:
        pairing, code = services.create_pairing(
            current_user._get_current_object(), center, device_name=form.device_name.data or ""
        )
    except services.KioskError as error:
        db.session.rollback()
        for name, message in error.problems.items():
            form[name].errors = [message]
        return _devices_page(pairing_form=form, status=422)
    db.session.commit()
    return _devices_page(new_code=services.format_pairing_code(code), new_pairing=pairing)


@bp.post("/admin/kiosks/<int:device_id>/revoke")
@roles_required(Role.COORDINATOR)
def revoke(device_id: int) -> ResponseReturnValue:
    """Unpair a tablet: it shows the pairing screen again within seconds."""
    device = services.get_device_for(current_user._get_current_object(), device_id)
    if device is None:
        abort(404)
    try:
        services.revoke_device(current_user._get_current_object(), device)
    except services.KioskError as error:
        db.session.rollback()
        flash(str(error), "info")
    else:
        db.session.commit()
        flash(f"“{device.name}” at {device.center.name} is unpaired: it shows the pairing screen now.", "success")
    return redirect(url_for("kiosk.devices"))


@bp.post("/admin/kiosks/pin")
@roles_required(Role.COORDINATOR)
def staff_pin() -> ResponseReturnValue:
    """Set a center's staff PIN (only its hash is kept)."""
    form = StaffPinForm(prefix="pin", centers=_center_choices())
    if not form.validate_on_submit():
        return _devices_page(pin_form=form, status=422)
    center = services.get_center(form.center_id.data)
    if center is None:
        abort(404)
    try:
        services.set_staff_pin(current_user._get_current_object(), center, form.pin.data or "")
    except services.KioskError as error:
        db.session.rollback()
        form.pin.errors = [str(error)]
        return _devices_page(pin_form=form, status=422)
    db.session.commit()
    flash(f"The staff PIN for {center.name}'s kiosks is set.", "success")
    return redirect(url_for("kiosk.devices"))
