"""Scheduling routes: the caregiver's live list of coming sessions, and cancelling one."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..security import roles_required
from . import services

bp = Blueprint("scheduling", __name__)


@bp.get("/caregiver/upcoming")
@roles_required("caregiver")
def caregiver_upcoming():
    profile = services.caregiver_profile_for(current_user)
    return render_template("scheduling/_upcoming.html", upcoming=services.upcoming_for_caregiver(profile))


@bp.post("/sessions/<int:session_id>/cancel")
@roles_required("caregiver", "coordinator")
def cancel(session_id):
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
        flash("The session is cancelled. Everyone involved has been told.", "success")
    return redirect(url_for("main.home"))
