"""Coordinator pages: people (the list with its search; one person's account: details, deactivate, role,
erase, unlock, a reset link, a family's hours), invitations, the program's default hours, and the audit log.

Every route about one account loads it through `services.get_user_for` (an invitation's, through
`services.get_invitee_for`) and answers 404 for an id no account has.
"""

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..accounts import services as accounts
from ..accounts import throttle
from ..accounts.forms import filled
from ..availability import services as availability
from ..extensions import db
from ..models import Availability, Role, User
from ..timefmt import zone_or_utc
from ..web.access import roles_required
from ..web.converters import MAX_ID
from ..web.htmx import is_region_request, render_page
from ..web.links import absolute_url
from . import auditlog, services
from .filters import AuditFilterForm
from .forms import AccountStateForm, AllotmentForm, DefaultAllotmentForm, EraseForm, InviteForm, PersonForm, RoleForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


# --- People: the list, with search and filters ----------------------------------------------------


def _people_filter() -> services.PeopleFilter:
    """The search and filters of the People page's GET form; anything that isn't one of their values is ignored."""
    args = request.args
    role = args.get("role", "")
    status = args.get("status", "")
    center_id = args.get("center", 0, type=int) or 0
    return services.PeopleFilter(
        text=args.get("q", "").strip()[:100],
        role=role if role in set(Role) else "",
        center_id=center_id if 0 < center_id <= MAX_ID else 0,
        status=status if status in set(services.PersonStatus) else "",
    )


@bp.get("/users")
@roles_required(Role.COORDINATOR)
def users() -> Response:
    """Everyone, by name: an active search (htmx swaps the list, the region) that is also a plain GET form."""
    filters = _people_filter()
    held = throttle.held_back()
    people = services.find_people(filters, held, page=request.args.get("page", 1, type=int) or 1)
    return render_page(
        "admin/users.html",
        "admin/_people_region.html",
        filters=filters,
        people=people,
        held=held,
        statuses=list(services.PersonStatus),
        roles=list(Role),
        region=is_region_request(),
        centers=[] if is_region_request() else services.center_choices(),
        person_status=services.person_status,
        person_center=services.person_center,
    )


# --- The audit log: sentences, filters, the CSV export, the chain's state -----------------------------


@bp.get("/audit")
@roles_required(Role.COORDINATOR)
def audit_log() -> Response:
    form = AuditFilterForm(formdata=request.args)
    return _audit_page(form, form.filters() if form.validate() else None)


def _audit_page(form: AuditFilterForm, filters: auditlog.AuditFilters | None) -> Response:
    """The log's page (or its region, to htmx); with filters that don't pass, their errors and a 422."""
    reader = _actor()
    page = None
    if filters is not None:
        page = auditlog.audit_page(reader, filters, request.args.get("page", 1, type=int) or 1)
    chain = None
    if not is_region_request():
        form.people(auditlog.people())
        chain = auditlog.chain_state()
    return render_page(
        "admin/audit.html",
        "admin/_audit_region.html",
        status=200 if filters is not None else 422,
        form=form,
        filters=filters,
        page=page,
        chain=chain,
    )


@bp.get("/audit.csv")
@roles_required(Role.COORDINATOR)
def audit_csv() -> Response:
    """The filtered rows as a CSV file, streamed; the download itself is audited (and committed first)."""
    form = AuditFilterForm(formdata=request.args)
    if not form.validate():
        return _audit_page(form, None)
    reader = _actor()
    filters = form.filters()
    zone = zone_or_utc(reader.timezone)
    reader_id = reader.id
    rows, up_to = auditlog.export_extent(filters, zone)
    auditlog.record_export(reader, filters, rows=rows, up_to=up_to)
    db.session.commit()
    filename = f"respite-audit-log-{datetime.now(zone):%Y-%m-%d-%H%M}.csv"
    return Response(
        stream_with_context(auditlog.csv_chunks(reader_id, filters, up_to)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/audit/verify")
@roles_required(Role.COORDINATOR)
def audit_verify() -> ResponseReturnValue:
    """Walk the whole chain now (as `flask audit verify` does); the result is recorded in the log."""
    result = auditlog.verify_now(_actor())
    db.session.commit()
    if result.intact:
        flash(f"The audit log is intact: {result.rows} rows checked.", "success")
    else:
        flash("The audit log is broken: see below where.", "error")
    return redirect(url_for("admin.audit_log"))


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
    details_form: PersonForm | None = None,
    allotment_form: AllotmentForm | None = None,
    refusal: str = "",
) -> ResponseReturnValue:
    """The person's page with its forms: the one just posted (with its errors), the others as they stand.

    `refusal` is why the service refused a valid post (it may be about a form the page doesn't show).
    """
    other_role = Role.COORDINATOR if person.role == Role.PROVIDER else Role.PROVIDER
    family = person.caregiver_profile
    provider = person.provider_profile if person.role == Role.PROVIDER else None
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
        details_form=details_form or _details_form(person, formdata=None),
        allotment_form=allotment_form
        or AllotmentForm(
            formdata=None, prefix="allotment", hours=family.annual_allotment_minutes // 60 if family else 0
        ),
        refusal=refusal,
        status=services.person_status(person, throttle.held_back()),
        held_until=throttle.held_until(person) if person.active and person.has_password else None,
        family=services.family_overview(family) if family is not None else None,
        provider=services.provider_overview(provider) if provider is not None else None,
        center=services.person_center(person),
        hours_label=availability.hours_label,
        time_off_label=_time_off_label,
    ), status


def _time_off_label(entry: Availability) -> str:
    """A provider's time off in words, on their own clock."""
    if entry.starts_at is None or entry.ends_at is None:
        return ""
    return availability.time_off_label(entry.starts_at, entry.ends_at, availability.provider_zone(entry.provider))


def _details_form(person: User, **kwargs: object) -> PersonForm:
    center = services.person_center(person)
    return PersonForm(
        prefix="details",
        person=person,
        # Only a provider's or a kiosk's center can be chosen (a family's or a coordinator's has no center).
        centers=services.center_choices() if person.role in (Role.PROVIDER, Role.KIOSK) else [],
        display_name=person.display_name,
        email=person.email,
        timezone=person.timezone,
        center_id=center.id if center else 0,
        **kwargs,
    )


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


# --- People: details, signing in again, allotments ------------------------------------------------------


@bp.post("/users/<int:user_id>/details")
@roles_required(Role.COORDINATOR)
def update_details(user_id: int) -> ResponseReturnValue:
    person = _person_or_404(user_id)
    form = _details_form(person)
    refusal = ""
    if form.validate_on_submit():
        try:
            changed = services.update_person(
                _actor(),
                person,
                display_name=filled(form.display_name),
                email=filled(form.email),
                timezone=form.timezone.data or "",
                center_id=form.center_id.data or None,
            )
        except services.FieldError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        except services.AdminError as error:
            db.session.rollback()
            refusal = str(error)
        else:
            db.session.commit()
            if changed:
                flash(f"{person.display_name}'s details are saved.", "success")
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("admin.person", user_id=person.id))
    return _person_page(person, 422, details_form=form, refusal=refusal)


def _refused(person: User, error: services.AdminError) -> ResponseReturnValue:
    db.session.rollback()
    return _person_page(person, 422, refusal=str(error))


@bp.post("/users/<int:user_id>/unlock")
@roles_required(Role.COORDINATOR)
def unlock(user_id: int) -> ResponseReturnValue:
    person = _person_or_404(user_id)
    try:
        services.unlock(_actor(), person)
    except services.AdminError as error:
        return _refused(person, error)
    db.session.commit()
    flash(f"{person.display_name} can sign in again now, from anywhere.", "success")
    return redirect(url_for("admin.person", user_id=person.id))


@bp.post("/users/<int:user_id>/reset-link")
@roles_required(Role.COORDINATOR)
def send_password_link(user_id: int) -> ResponseReturnValue:
    person = _person_or_404(user_id)
    try:
        services.send_password_link(_actor(), person)
    except services.AdminError as error:
        return _refused(person, error)
    db.session.commit()
    flash(
        f"A link to set a new password is on its way to {person.email}: it works once, for an hour. "
        "Their password stays as it is until they use it.",
        "success",
    )
    return redirect(url_for("admin.person", user_id=person.id))


@bp.post("/users/<int:user_id>/allotment")
@roles_required(Role.COORDINATOR)
def set_allotment(user_id: int) -> ResponseReturnValue:
    person = _person_or_404(user_id)
    form = AllotmentForm(prefix="allotment")
    refusal = ""
    if form.validate_on_submit():
        try:
            services.set_allotment(_actor(), person, form.hours.data, reason=filled(form.reason))
        except services.FieldError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        except services.AdminError as error:
            db.session.rollback()
            refusal = str(error)
        else:
            db.session.commit()
            flash(f"{person.display_name} now has {form.hours.data} hours of respite a year.", "success")
            return redirect(url_for("admin.person", user_id=person.id))
    return _person_page(person, 422, allotment_form=form, refusal=refusal)


@bp.route("/allotments", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def allotments() -> ResponseReturnValue:
    """The yearly hours each family starts with when they sign up."""
    current = accounts.default_allotment_minutes()
    form = DefaultAllotmentForm(hours=current // 60)
    status = 200
    if form.validate_on_submit():
        try:
            changed = services.set_default_allotment(_actor(), form.hours.data)
        except services.FieldError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            if changed:
                flash(f"Families who sign up from now on start with {form.hours.data} hours a year.", "success")
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("admin.allotments"))
    if form.errors:
        status = 422
    return render_template("admin/allotments.html", form=form, current=current), status


# --- Invitations -----------------------------------------------------------------------------------------


def _invitations_page(form: InviteForm | None = None, status: int = 200, **shown: object) -> ResponseReturnValue:
    """The invite form and the pending invitations; `shown`: a link made just now (shown this once)."""
    return render_template(
        "admin/invitations.html",
        form=form or InviteForm(formdata=None, timezone=current_user.timezone),
        invitations=services.pending_invitations(),
        lifetime_days=accounts.invitation_lifetime().days,
        **shown,
    ), status


@bp.route("/invitations", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def invitations() -> ResponseReturnValue:
    # New staff most often work where the coordinator does: start from the coordinator's zone.
    form = InviteForm(timezone=current_user.timezone)
    if form.validate_on_submit():
        try:
            invited, token = accounts.invite_user(
                _actor(),
                role=form.role.data,
                email=filled(form.email),
                display_name=filled(form.display_name),
                timezone=form.timezone.data,
                center_id=form.center_id.data or None,
                by_email=bool(form.send_email.data),
            )
        except accounts.AccountError as error:
            db.session.rollback()
            form[error.field or "email"].errors.append(str(error))
            return _invitations_page(form, 422)
        db.session.commit()
        return _invitations_page(
            invited=invited,
            emailed=bool(form.send_email.data),
            invitation_link=absolute_url(url_for("accounts.invitation", token=token)),
        )
    return _invitations_page(form, 422 if form.errors else 200)


def _invitee_or_404(user_id: int) -> User:
    invitee = services.get_invitee_for(_actor(), user_id)
    if invitee is None:
        abort(404)
    return invitee


@bp.post("/invitations/<int:user_id>/resend")
@roles_required(Role.COORDINATOR)
def resend_invitation(user_id: int) -> ResponseReturnValue:
    invitee = _invitee_or_404(user_id)
    services.renew_invitation(_actor(), invitee, by_email=True)
    db.session.commit()
    flash(
        f"A new invitation is on its way to {invitee.email}. The link sent before no longer works.",
        "success",
    )
    return redirect(url_for("admin.invitations"))


@bp.post("/invitations/<int:user_id>/link")
@roles_required(Role.COORDINATOR)
def invitation_link(user_id: int) -> ResponseReturnValue:
    """A new link to pass on by hand: only its hash is kept, so it is shown this once (the old one ends)."""
    invitee = _invitee_or_404(user_id)
    token = services.renew_invitation(_actor(), invitee, by_email=False)
    db.session.commit()
    return _invitations_page(renewed=invitee, invitation_link=absolute_url(url_for("accounts.invitation", token=token)))


@bp.post("/invitations/<int:user_id>/revoke")
@roles_required(Role.COORDINATOR)
def revoke_invitation(user_id: int) -> ResponseReturnValue:
    invitee = _invitee_or_404(user_id)
    services.revoke_invitation(_actor(), invitee)
    db.session.commit()
    flash(
        f"{invitee.display_name}'s invitation is withdrawn: its link no longer works, and the account is deactivated.",
        "success",
    )
    return redirect(url_for("admin.invitations"))
