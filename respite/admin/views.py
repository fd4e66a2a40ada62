"""Coordinator pages: people (and inviting staff) and the audit log."""

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..accounts import services as accounts
from ..accounts.forms import filled
from ..extensions import db
from ..models import Role
from ..web.access import roles_required
from ..web.htmx import render_page
from ..web.links import absolute_url
from . import services
from .forms import InviteForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def users() -> ResponseReturnValue:
    # New staff most often work where the coordinator does: start from the coordinator's zone.
    form = InviteForm(timezone=current_user.timezone)
    invited = invitation_link = None
    status = 200
    if form.validate_on_submit():
        try:
            invited, token = accounts.invite_user(
                current_user._get_current_object(),
                role=form.role.data,
                email=filled(form.email),
                display_name=filled(form.display_name),
                timezone=form.timezone.data,
                center_id=form.center_id.data or None,
            )
        except accounts.AccountError as error:
            form[error.field].errors.append(str(error))
            status = 422
        else:
            db.session.commit()
            invitation_link = absolute_url(url_for("accounts.invitation", token=token))
            form = InviteForm(formdata=None, timezone=current_user.timezone)
    elif form.errors:
        status = 422
    return render_template(
        "admin/users.html", form=form, people=services.people(), invited=invited, invitation_link=invitation_link
    ), status


@bp.get("/audit")
@roles_required(Role.COORDINATOR)
def audit_log() -> Response:
    action = request.args.get("action", "").strip()[:64]
    page = services.audit_page(action, request.args.get("page", 1, type=int) or 1)
    return render_page(
        "admin/audit.html",
        "admin/_audit_region.html",
        rows=page.rows,
        action=action,
        page=page.page,
        pages=page.pages,
        total=page.total,
    )
