"""Scheduling routes: acting on one session (cancelling it, so far)."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..extensions import db
from ..models import Role
from ..web.access import roles_required
from . import lifecycle, services

bp = Blueprint("scheduling", __name__)
# Templates show an action's button exactly when the service would allow it.
bp.add_app_template_global(lifecycle.can_cancel, "can_cancel")


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
        db.session.commit()
        flash("The session is cancelled.", "success")
    return redirect(url_for("dashboards.home"))
