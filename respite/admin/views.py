"""Coordinator pages: people (inviting staff; one person's account: deactivate, role, erase) and the audit log.

Every route about one account loads it through `services.get_user_for` and
answers 404 for an id no account has.
"""

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..accounts import services as accounts
from ..accounts.forms import filled
from ..extensions import db
from ..models import Role, User
from ..web.access import roles_required
from ..web.htmx import render_page
from ..web.links import absolute_url
from . import services
from .forms import AccountStateForm, EraseForm, InviteForm, RoleForm

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


# --- One person's account ----------------------------------------------------------------


def _actor() -> User:
    actor: User = current_user._get_current_object()
    return actor


def _person_or_404(user_id: int) -> User:
    person = services.get_user_for(_actor(), user_id)
    if person is None:
        abort(404)
    return person


def _person_page(
    person: User,
    status: int = 200,
    *,
    state_form: AccountStateForm | None = None,
    role_form: RoleForm | None = None,
    erase_form: EraseForm | None = None,
    refusal: str = "",
) -> ResponseReturnValue:
    """The person's page with its three forms: the one just posted (with its errors), the others empty.

    `refusal` is why the service refused a valid post (it may be about a form the page doesn't show).
    """
    other_role = Role.COORDINATOR if person.role == Role.PROVIDER else Role.PROVIDER
    return render_template(
        "admin/person.html",
        person=person,
        is_me=person.id == current_user.id,
        commitments=services.coming_commitments(person),
        history=services.account_history(person),
        staff_roles=services.ROLE_CHOICES,
        state_form=state_form or AccountStateForm(formdata=None, prefix="state"),
        role_form=role_form or RoleForm(formdata=None, prefix="role", new_role=other_role),
        erase_form=erase_form or EraseForm(formdata=None, prefix="erase", person=person),
        refusal=refusal,
    ), status


@bp.get("/users/<int:user_id>")
@roles_required(Role.COORDINATOR)
def person(user_id: int) -> ResponseReturnValue:
    return _person_page(_person_or_404(user_id))


@bp.post("/users/<int:user_id>/deactivate")
@roles_required(Role.COORDINATOR)
def deactivate(user_id: int) -> ResponseReturnValue:
    return _change_state(_person_or_404(user_id), services.deactivate_user, "is deactivated: every sign-in has ended")


@bp.post("/users/<int:user_id>/reactivate")
@roles_required(Role.COORDINATOR)
def reactivate(user_id: int) -> ResponseReturnValue:
    return _change_state(_person_or_404(user_id), services.reactivate_user, "can sign in again")


def _change_state(person: User, change: Callable[..., None], done: str) -> ResponseReturnValue:
    form = AccountStateForm(prefix="state")
    refusal = ""
    if form.validate_on_submit():
        try:
            change(_actor(), person, reason=filled(form.reason))
        except services.AdminError as error:
            refusal = str(error)
        else:
            db.session.commit()
            flash(f"{person.display_name} {done}.", "success")
            return redirect(url_for("admin.person", user_id=person.id))
    return _person_page(person, 422, state_form=form, refusal=refusal)


@bp.post("/users/<int:user_id>/role")
@roles_required(Role.COORDINATOR)
def change_role(user_id: int) -> ResponseReturnValue:
    person = _person_or_404(user_id)
    form = RoleForm(prefix="role")
    refusal = ""
    if form.validate_on_submit():
        try:
            services.change_role(_actor(), person, form.new_role.data or "", reason=filled(form.reason))
        except services.AdminError as error:
            refusal = str(error)
        else:
            db.session.commit()
            flash(f"{person.display_name} is now a {person.role}: every sign-in of theirs has ended.", "success")
            return redirect(url_for("admin.person", user_id=person.id))
    return _person_page(person, 422, role_form=form, refusal=refusal)


@bp.post("/users/<int:user_id>/erase")
@roles_required(Role.COORDINATOR)
def erase(user_id: int) -> ResponseReturnValue:
    person = _person_or_404(user_id)
    form = EraseForm(prefix="erase", person=person)
    refusal = ""
    if form.validate_on_submit():
        try:
            services.erase_user(_actor(), person, reason=filled(form.reason))
        except services.AdminError as error:
            refusal = str(error)
        else:
            db.session.commit()
            flash("Their personal details are erased, and the account is deactivated.", "success")
            return redirect(url_for("admin.person", user_id=person.id))
    return _person_page(person, 422, erase_form=form, refusal=refusal)
