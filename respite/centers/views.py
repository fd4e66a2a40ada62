"""Coordinator pages for centers: the list with each center's kiosks, a new center, and one center's details.

The one center's page loads it through `services.get_center_for` and answers 404 for an id no center has.
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..accounts.forms import filled
from ..extensions import db
from ..models import Center, Role, User
from ..web.access import roles_required
from . import services
from .forms import CenterForm

bp = Blueprint("centers", __name__, url_prefix="/admin/centers")

# The kiosks' own page (respite.kiosk): pairing and unpairing tablets.
KIOSKS_ENDPOINT = "kiosk.devices"


def _actor() -> User:
    actor: User = current_user._get_current_object()
    return actor


def _kiosks_url() -> str | None:
    return url_for(KIOSKS_ENDPOINT) if KIOSKS_ENDPOINT in current_app.view_functions else None


@bp.get("")
@roles_required(Role.COORDINATOR)
def index() -> ResponseReturnValue:
    return render_template(
        "centers/index.html",
        rows=services.centers_with_kiosks(),
        opening_summary=services.opening_summary,
        kiosks_url=_kiosks_url(),
    )


def _form_page(form: CenterForm, center: Center | None, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "centers/form.html",
        form=form,
        center=center,
        coming=services.coming_sessions(center) if center is not None else [],
        kiosks_url=_kiosks_url(),
    ), status


def _save(form: CenterForm, center: Center | None) -> ResponseReturnValue:
    """Create or change the center from a posted form; the form again (422) with the refusal beside its field."""
    if form.validate_on_submit():
        values = {
            "name": filled(form.name),
            "address": form.address.data or "",
            "timezone": form.timezone.data or "",
        }
        try:
            hours = services.opening_hours(form.hours())
            if center is None:
                center = services.create_center(_actor(), hours=hours, **values)
                done = f"{center.name} is added."
            elif services.update_center(_actor(), center, hours=hours, **values):
                done = f"{center.name}'s details are saved."
            else:
                done = ""
        except services.CenterError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            flash(done or "Nothing changed.", "success" if done else "info")
            return redirect(url_for("centers.index"))
    return _form_page(form, center, 422)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def new() -> ResponseReturnValue:
    # A new center most often keeps the coordinator's own clock.
    form = CenterForm(timezone=current_user.timezone)
    if form.is_submitted():
        return _save(form, None)
    return _form_page(form, None)


@bp.route("/<int:center_id>", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def edit(center_id: int) -> ResponseReturnValue:
    center = services.get_center_for(_actor(), center_id)
    if center is None:
        abort(404)
    form = CenterForm(
        name=center.name,
        address=center.address,
        timezone=center.timezone,
        **CenterForm.initial_hours(center.opening_hours or {}),
    )
    if form.is_submitted():
        return _save(form, center)
    return _form_page(form, center)
