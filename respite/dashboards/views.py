"""The landing route and each role's dashboard, composed from the domains' queries.

Each dashboard is a page with one live region: the page's own URL answers an
htmx request with the region alone (respite.web.htmx.render_page).
"""

from flask import Blueprint, Response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..admin import auditlog
from ..care import services as care
from ..models import Role
from ..scheduling import assignments
from ..scheduling import services as scheduling
from ..web.access import public, roles_required
from ..web.htmx import is_region_request, render_page

bp = Blueprint("dashboards", __name__)

DASHBOARDS = {
    Role.CAREGIVER: "dashboards.caregiver",
    Role.PROVIDER: "dashboards.provider",
    Role.COORDINATOR: "dashboards.coordinator",
    # Tablets are paired devices now (respite.kiosk): a kiosk account from before lands on the pairing screen.
    Role.KIOSK: "kiosk.board",
}


@bp.app_context_processor
def dashboard_endpoint() -> dict[str, str | None]:
    """`home_endpoint`: where the signed-in user's Home link leads."""
    role = getattr(current_user, "role", None)
    return {"home_endpoint": DASHBOARDS.get(role) if role else None}


@bp.get("/")
@public
def home() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return render_template("dashboards/welcome.html")
    return redirect(url_for(DASHBOARDS[current_user.role]))


@bp.get("/caregiver")
@roles_required(Role.CAREGIVER)
def caregiver() -> Response:
    profile = care.caregiver_profile_for(current_user)
    return render_page(
        "dashboards/caregiver.html",
        "dashboards/_caregiver_region.html",
        profile=profile,
        people=care.people_overview(profile) if profile and not is_region_request() else None,
        upcoming=scheduling.upcoming_for_caregiver(profile) if profile else [],
        minutes_left=scheduling.minutes_left_this_year(profile, current_user.timezone) if profile else 0,
    )


@bp.get("/provider")
@roles_required(Role.PROVIDER)
def provider() -> Response:
    profile = current_user.provider_profile
    return render_page(
        "dashboards/provider.html",
        "dashboards/_provider_region.html",
        profile=profile,
        assignments=scheduling.upcoming_for_provider(profile) if profile else [],
        offers=assignments.offers_for(profile) if profile else [],
    )


@bp.get("/coordinator")
@roles_required(Role.COORDINATOR)
def coordinator() -> Response:
    return render_page(
        "dashboards/coordinator.html",
        "dashboards/_coordinator_region.html",
        queue=scheduling.request_queue(),
        counts=scheduling.status_counts(),
        recent=[] if is_region_request() else auditlog.recent_activity(current_user._get_current_object()),
    )
