"""Care routes: the caregiver's people, a person's page with their care card, and editing both.

Every route loads the person through `services.get_recipient_for` and answers
404 when the signed-in user may not see them.
"""

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..extensions import db
from ..models import CareRecipient, Role, User
from ..notices.services import told_sentence
from ..scheduling import services as scheduling
from ..web.access import roles_required
from ..web.htmx import is_region_request, render_page
from . import services
from .forms import AcknowledgeForm, CareCardForm, PersonForm

bp = Blueprint("care", __name__)
bp.add_app_template_global(services.age_on, "age_on")
bp.add_app_template_global(services.may_change, "may_change_person")


@bp.app_template_filter("tel_href")
def tel_href(phone: str) -> str:
    """A phone number as a `tel:` link's target (digits, +, * and #), or "" when it holds no digits."""
    dialable = re.sub(r"[^0-9+*#]", "", phone or "")
    return f"tel:{dialable}" if any(char.isdigit() for char in dialable) else ""


def _actor() -> User:
    return current_user._get_current_object()


def _recipient_or_404(recipient_id: int) -> CareRecipient:
    recipient = services.get_recipient_for(_actor(), recipient_id)
    if recipient is None:
        abort(404)
    return recipient


# --- The caregiver's people -----------------------------------------------------------


@bp.get("/people")
@roles_required(Role.CAREGIVER)
def people() -> ResponseReturnValue:
    profile = services.caregiver_profile_for(_actor())
    recipients = services.recipients_for(profile) if profile else []
    return render_template("care/people.html", recipients=recipients, today=services.today_for(_actor()))


@bp.route("/people/new", methods=["GET", "POST"])
@roles_required(Role.CAREGIVER)
def add_person() -> ResponseReturnValue:
    profile = services.caregiver_profile_for(_actor())
    if profile is None:
        abort(404)
    form = PersonForm()
    if form.validate_on_submit():
        try:
            recipient = services.add_recipient(
                _actor(),
                profile,
                first_name=form.first_name.data or "",
                last_name=form.last_name.data or "",
                date_of_birth=form.date_of_birth.data,
            )
        except services.CareError as error:
            form[error.field or "first_name"].errors.append(str(error))
        else:
            db.session.commit()
            flash(f"{recipient.full_name} is added. Next, their care card: what a provider needs to know.", "success")
            return redirect(url_for("care.edit_card", recipient_id=recipient.id))
    status = 422 if form.is_submitted() else 200  # here only when the post was refused
    return render_template("care/person_form.html", form=form, recipient=None), status


# --- One person -----------------------------------------------------------------------------


@bp.get("/people/<int:recipient_id>")
@roles_required(Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR)
def person(recipient_id: int) -> ResponseReturnValue:
    """The person and their current care card; their family and coordinators also see who has read it.

    The live region (who has read which version) is re-fetched on a `session` event; it shows no card, so
    only the whole page records a read.
    """
    actor = _actor()
    recipient = _recipient_or_404(recipient_id)
    readers = services.acknowledgements_for(recipient) if services.may_manage(actor, recipient) else None
    if is_region_request():
        return render_page("care/person.html", "care/_readers_region.html", recipient=recipient, readers=readers)
    services.record_card_read(actor, recipient)
    response = render_page(
        "care/person.html",
        "care/_readers_region.html",
        recipient=recipient,
        card=recipient.card,
        readers=readers,
        card_state=services.card_state_for(actor, recipient),
        acknowledge_form=AcknowledgeForm(),
        for_session=request.args.get("session", type=int),
        today=services.today_for(actor),
    )
    db.session.commit()  # the read's audit row
    return response


@bp.post("/people/<int:recipient_id>/acknowledge")
@roles_required(Role.PROVIDER)
def acknowledge(recipient_id: int) -> ResponseReturnValue:
    """A provider has read the current version of the care card; back to the session it was for, or the person."""
    actor = _actor()
    recipient = _recipient_or_404(recipient_id)
    form = AcknowledgeForm()
    session_id = form.for_session()
    session = scheduling.get_session_for(actor, session_id) if session_id else None
    if session_id is not None and session is None:
        abort(404)
    back = (
        url_for("scheduling.session", session_id=session_id)
        if session_id
        else url_for("care.person", recipient_id=recipient.id)
    )
    if not form.validate_on_submit() or form.read_version() is None:
        flash("Something was missing from the form; please try again.", "error")
        return redirect(url_for("care.person", recipient_id=recipient.id))
    if form.read_version() != recipient.card_number:
        flash(
            f"The care card changed while you were reading it: please read version {recipient.card_number} "
            "and acknowledge it again.",
            "error",
        )
        return redirect(url_for("care.person", recipient_id=recipient.id, session=session_id))
    try:
        services.acknowledge_care_card(actor, recipient, session)
    except services.CareError as error:
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    flash(f"Thank you: you have read version {recipient.card_number} of {recipient.first_name}'s care card.", "success")
    return redirect(back)


@bp.route("/people/<int:recipient_id>/edit", methods=["GET", "POST"])
@roles_required(Role.CAREGIVER, Role.COORDINATOR)
def edit_person(recipient_id: int) -> ResponseReturnValue:
    actor = _actor()
    recipient = _recipient_or_404(recipient_id)
    if not recipient.active:
        flash(f"{recipient.full_name} is no longer active; nothing about them can be changed.", "error")
        return redirect(url_for("care.person", recipient_id=recipient.id))
    form = PersonForm(obj=recipient)
    if form.validate_on_submit():
        try:
            changed = services.update_recipient(
                actor,
                recipient,
                first_name=form.first_name.data or "",
                last_name=form.last_name.data or "",
                date_of_birth=form.date_of_birth.data,
            )
        except services.CareError as error:
            form[error.field or "first_name"].errors.append(str(error))
        else:
            db.session.commit()
            if changed:
                flash(f"{recipient.full_name}'s details are saved.", "success")
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("care.person", recipient_id=recipient.id))
    status = 422 if form.is_submitted() else 200  # here only when the post was refused
    coming = services.coming_sessions_count(recipient)
    return render_template("care/person_form.html", form=form, recipient=recipient, coming=coming), status


@bp.post("/people/<int:recipient_id>/deactivate")
@roles_required(Role.CAREGIVER, Role.COORDINATOR)
def deactivate_person(recipient_id: int) -> ResponseReturnValue:
    actor = _actor()
    recipient = _recipient_or_404(recipient_id)
    try:
        services.deactivate_recipient(actor, recipient)
    except services.CareError as error:
        flash(str(error), "error")
        return redirect(url_for("care.person", recipient_id=recipient.id))
    db.session.commit()
    flash(f"{recipient.full_name} is deactivated. Their past sessions and care cards stay in the history.", "success")
    if actor.role == Role.CAREGIVER:
        return redirect(url_for("care.people"))
    return redirect(url_for("care.person", recipient_id=recipient.id))


@bp.route("/people/<int:recipient_id>/card/edit", methods=["GET", "POST"])
@roles_required(Role.CAREGIVER, Role.COORDINATOR)
def edit_card(recipient_id: int) -> ResponseReturnValue:
    actor = _actor()
    recipient = _recipient_or_404(recipient_id)
    if not recipient.active:
        flash(f"{recipient.full_name} is no longer active; their care card can't be changed.", "error")
        return redirect(url_for("care.person", recipient_id=recipient.id))
    form = CareCardForm()
    conflict = None
    read = False
    if form.validate_on_submit():
        try:
            version = services.save_care_card(actor, recipient, form.content(), expected_number=form.expected_number())
        except services.CareError as error:
            conflict = str(error)
            form.based_on.data = str(recipient.card_number)  # saving again, knowingly, goes through
        else:
            told = told_sentence()  # the providers of coming sessions, read before the commit forgets them
            db.session.commit()
            if version is None:
                flash("Nothing changed.", "info")
            else:
                saved = f"Version {version.number} of {recipient.first_name}'s care card is saved."
                flash(f"{saved} {told}".strip(), "success")
            return redirect(url_for("care.person", recipient_id=recipient.id))
    elif not form.is_submitted():
        card = recipient.card
        form.fill(card.content if card else {}, recipient.card_number)
        read = services.record_card_read(actor, recipient, purpose="edit")  # the form shows the card
    form.add_blank_rows()
    status = 422 if form.is_submitted() else 200  # here only when the post was refused
    page = render_template(
        "care/card_form.html", form=form, recipient=recipient, conflict=conflict, invalid=status == 422 and not conflict
    )
    if read:
        db.session.commit()  # the read's audit row
    return page, status
