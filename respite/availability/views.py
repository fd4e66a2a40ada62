"""Availability routes: the provider's own week and time off, one page changed in place.

Every form posts, commits once and redirects (Post/Redirect/Get), or answers
422 with the message beside its field; an htmx post gets the page's live
region back instead, with the outcome swapped into the notice above it.
"""

from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..database import DatabaseBusy, write_lock
from ..extensions import db
from ..models import ProviderProfile, Role, User
from ..timefmt import zone_label
from ..web.access import roles_required
from ..web.htmx import is_region_request, render_page
from . import services
from .forms import TimeOffForm, WeeklyBlockForm

bp = Blueprint("availability", __name__)
bp.add_app_template_global(services.hours_label, "availability_hours")
bp.add_app_template_global(services.time_off_label, "availability_time_off")

Notice = tuple[str, str]  # (flash category, message); an empty message clears the notice


def _actor() -> User:
    return current_user._get_current_object()


def _own_provider() -> ProviderProfile:
    profile = _actor().provider_profile
    if profile is None:
        abort(404)
    return profile


def _page(
    provider: ProviderProfile,
    *,
    weekly_form: WeeklyBlockForm | None = None,
    time_off_form: TimeOffForm | None = None,
    notice: Notice | None = None,
    status: int = 200,
) -> Response:
    """The page, or its region to htmx (with `notice` swapped in above it). Forms left out start empty."""
    zone_name = provider.user.timezone
    return render_page(
        "availability/page.html",
        "availability/_page_region.html",
        status=status,
        provider=provider,
        week=services.week_of(services.weekly_pattern(provider)),
        time_off=services.time_off(provider),
        weekly_form=WeeklyBlockForm(formdata=None) if weekly_form is None else weekly_form,
        time_off_form=TimeOffForm(formdata=None) if time_off_form is None else time_off_form,
        zone=services.provider_zone(provider),
        zone_name=zone_name,
        zone_label=zone_label(zone_name),
        note_limit=services.NOTE_LIMIT,
        notice=notice if is_region_request() else None,
    )


def _done(provider: ProviderProfile, message: str, category: str = "success") -> ResponseReturnValue:
    """After a change (or a refusal that has no field): back to the page, or the region with the message."""
    if is_region_request():
        return _page(provider, notice=(category, message))
    flash(message, category)
    return redirect(url_for("availability.page"))


def _lock_for_writing(provider: ProviderProfile) -> ResponseReturnValue | None:
    """Before a check-then-insert: SQLite's write lock (respite.database); the page with a message when busy."""
    try:
        write_lock()
    except DatabaseBusy as error:
        return _done(provider, str(error), "error")
    return None


@bp.get("/availability")
@roles_required(Role.PROVIDER)
def page() -> Response:
    """The provider's week (blocks of hours per weekday, on their own clock) and their time off."""
    return _page(_own_provider())


@bp.post("/availability/weekly")
@roles_required(Role.PROVIDER)
def add_weekly() -> ResponseReturnValue:
    provider = _own_provider()
    if (busy := _lock_for_writing(provider)) is not None:
        return busy
    provider = _own_provider()  # the lock began a new transaction: read again
    form = WeeklyBlockForm()
    if form.validate_on_submit():
        try:
            entry = services.add_weekly_block(
                _actor(), provider, form.weekday.data, form.start_minute.data, form.end_minute.data
            )
        except services.AvailabilityError as error:
            form[error.field or "weekday"].errors.append(str(error))
        else:
            message = f"Added to your week: {services.describe(entry)}."
            db.session.commit()
            return _done(provider, message)
    return _page(provider, weekly_form=form, notice=("", ""), status=422)


@bp.post("/availability/time-off")
@roles_required(Role.PROVIDER)
def add_time_off() -> ResponseReturnValue:
    provider = _own_provider()
    if (busy := _lock_for_writing(provider)) is not None:
        return busy
    provider = _own_provider()
    form = TimeOffForm()
    if form.validate_on_submit():
        try:
            starts_at, ends_at = services.time_off_span(
                provider, form.start_day.data, form.start_time.data, form.end_day.data, form.end_time.data
            )
            entry = services.add_time_off(_actor(), provider, starts_at, ends_at, form.note_text())
        except services.AvailabilityError as error:
            form[error.field or "start_day"].errors.append(str(error))
        else:
            message = f"Your {services.describe(entry)} is saved."
            db.session.commit()
            return _done(provider, message)
    return _page(provider, time_off_form=form, notice=("", ""), status=422)


@bp.post("/availability/<int:entry_id>/remove")
@roles_required(Role.PROVIDER)
def remove(entry_id: int) -> ResponseReturnValue:
    entry = services.get_entry_for(_actor(), entry_id)
    if entry is None:
        abort(404)
    provider = entry.provider
    what = services.describe(entry)
    services.remove_availability(_actor(), entry)
    db.session.commit()
    return _done(provider, f"Removed: {what}.")
