"""The landing route, each role's dashboard, and the health check."""

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select, text

from .. import realtime
from ..extensions import db
from ..htmx import is_fragment_request, render_page_or_fragment
from ..models import AuditLog, Center
from ..scheduling import services as scheduling
from ..security import public, roles_required

bp = Blueprint("main", __name__)

DASHBOARDS = {
    "caregiver": "main.caregiver_dashboard",
    "provider": "main.provider_dashboard",
    "coordinator": "main.coordinator_dashboard",
    "kiosk": "main.kiosk_dashboard",
}


@bp.get("/")
@public
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    return redirect(url_for(DASHBOARDS[current_user.role]))


@bp.get("/caregiver")
@roles_required("caregiver")
def caregiver_dashboard():
    profile = scheduling.caregiver_profile_for(current_user)
    return render_template(
        "main/caregiver.html",
        profile=profile,
        recipients=scheduling.recipients_for(profile),
        upcoming=scheduling.upcoming_for_caregiver(profile),
        minutes_left=scheduling.minutes_left_this_year(profile, current_user.timezone),
    )


@bp.get("/provider")
@roles_required("provider")
def provider_dashboard():
    profile = current_user.provider_profile
    return render_page_or_fragment(
        "main/provider.html",
        "main/_provider_sessions.html",
        profile=profile,
        assignments=scheduling.upcoming_for_provider(profile) if profile else [],
    )


@bp.get("/coordinator")
@roles_required("coordinator")
def coordinator_dashboard():
    recent = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(8)).all()
    if is_fragment_request():
        return render_template(
            "main/_coordinator_queue.html", queue=scheduling.request_queue(), counts=scheduling.status_counts()
        )
    return render_template(
        "main/coordinator.html",
        queue=scheduling.request_queue(),
        counts=scheduling.status_counts(),
        recent=recent,
    )


@bp.get("/kiosk")
@roles_required("kiosk")
def kiosk_dashboard():
    center = db.session.get(Center, current_user.center_id)
    return render_page_or_fragment(
        "main/kiosk.html", "main/_kiosk_board.html", center=center, sessions=scheduling.center_day(center)
    )


@bp.get("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any failure means: not answering
        db.session.rollback()
        database = "unavailable"
    redis_state = "ok" if realtime.redis_is_up() else "unavailable"
    healthy = database == "ok" and redis_state == "ok"
    response = jsonify(status="ok" if healthy else "degraded", database=database, redis=redis_state)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
