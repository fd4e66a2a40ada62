"""Coordinator pages: people and the audit log."""

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..auth import services as accounts
from ..extensions import db
from ..models import AuditLog, User
from ..security import roles_required
from .forms import InviteForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 50


@bp.route("/users", methods=["GET", "POST"])
@roles_required("coordinator")
def users():
    # New staff most often work where the coordinator does: start from the coordinator's zone.
    form = InviteForm(timezone=current_user.timezone)
    invited = invitation_link = None
    status = 200
    if form.validate_on_submit():
        try:
            invited, token = accounts.invite_user(
                current_user._get_current_object(),
                role=form.role.data,
                email=form.email.data,
                display_name=form.display_name.data,
                timezone=form.timezone.data,
                center_id=form.center_id.data or None,
            )
        except accounts.AccountError as error:
            form[error.field].errors.append(str(error))
            status = 422
        else:
            invitation_link = request.host_url.rstrip("/") + f"/invitation/{token}"
            form = InviteForm(formdata=None, timezone=current_user.timezone)
    elif form.errors:
        status = 422
    people = db.session.scalars(
        select(User).options(joinedload(User.center)).order_by(User.role, User.display_name)
    ).all()
    return render_template(
        "admin/users.html", form=form, people=people, invited=invited, invitation_link=invitation_link
    ), status


@bp.get("/audit")
@roles_required("coordinator")
def audit_log():
    action = request.args.get("action", "").strip()[:64]
    page = request.args.get("page", 1, type=int)
    query = select(AuditLog).options(joinedload(AuditLog.actor))
    count_query = select(func.count()).select_from(AuditLog)
    if action:
        # A prefix, not a pattern: "_" and "%" in it match only themselves.
        matches = AuditLog.action.startswith(action, autoescape=True)
        query = query.where(matches)
        count_query = count_query.where(matches)
    total = db.session.scalar(count_query)
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    # Within the pages there are: a huge number would overflow the database's OFFSET.
    page = min(max(page or 1, 1), pages)
    rows = db.session.scalars(
        query.order_by(AuditLog.id.desc()).limit(AUDIT_PAGE_SIZE).offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    template = (
        "admin/_audit_rows.html"
        if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
        else "admin/audit.html"
    )
    return render_template(template, rows=rows, action=action, page=page, pages=pages, total=total)
