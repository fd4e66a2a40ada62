"""Program reports, for coordinators: the page of charts and tables, and each report as a CSV file.

Both read the same GET filters (from, to, place). Filters that don't make sense answer 422 with the
page and the message beside the field. A CSV download is audited (`report.export`), so that GET
commits its audit row before the file goes out.
"""

from typing import Any

from flask import Blueprint, Response, abort, request, url_for
from flask_login import current_user

from .. import audit
from ..extensions import db
from ..models import Role, utcnow
from ..web.access import roles_required
from ..web.htmx import render_page
from . import figures, services
from .forms import ReportFilterForm
from .services import Scope

bp = Blueprint("reports", __name__)

PAGE = ("reports/page.html", "reports/_region.html")


def _read_filters() -> tuple[ReportFilterForm, Scope | None]:
    """The form as sent, and what it asks for (None when something in it is wrong)."""
    form = ReportFilterForm(formdata=request.args, places=services.places())
    if not form.validate():
        return form, None
    place = form.chosen_place()
    zone = services.report_zone(place, current_user.timezone)
    first, last = form.days(utcnow().astimezone(zone).date())
    form.first_day.data, form.last_day.data = first, last  # the form shows the days the page covers
    return form, services.scope_for(place, first, last, zone)


def _filter_args(scope: Scope) -> dict[str, Any]:
    args: dict[str, Any] = {"from": scope.days.first_day.isoformat(), "to": scope.days.last_day.isoformat()}
    if scope.place.value:
        args["place"] = scope.place.value
    return args


def _refused(form: ReportFilterForm) -> Response:
    return render_page(*PAGE, status=422, form=form, reports=None)


@bp.get("/reports")
@roles_required(Role.COORDINATOR)
def page() -> Response:
    form, scope = _read_filters()
    if scope is None:
        return _refused(form)
    reports = services.program_reports(scope)
    args = _filter_args(scope)
    return render_page(
        *PAGE,
        form=form,
        reports=reports,
        charts=figures.charts(reports),
        csv_links={name: url_for("reports.export", name=name, **args) for name in figures.EXPORTS},
        figures=figures,
    )


@bp.get("/reports/<name>.csv")
@roles_required(Role.COORDINATOR)
def export(name: str) -> Response:
    if name not in figures.EXPORTS:
        abort(404)
    form, scope = _read_filters()
    if scope is None:
        return _refused(form)
    report = figures.EXPORTS[name]
    text = figures.csv_text(report.table(scope))
    days = figures.range_text(scope.days.first_day, scope.days.last_day)
    audit.record(
        "report.export",
        summary=f"Exported the report of {report.title} as CSV: {days}, {scope.place.name}",
        meta={"report": name, **_filter_args(scope), "zone": scope.zone_name},
    )
    db.session.commit()
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{figures.csv_filename(name, scope)}"'
    response.headers["Cache-Control"] = "no-store"
    return response
