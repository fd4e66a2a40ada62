"""Calendar feed routes: turning a feed on, anew or off from the account page, and the feed itself.

The feed's address is its own credential: it is public (calendar apps send no
cookies), and a wrong or revoked secret answers 404 like any unknown page.
"""

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..extensions import db
from ..web.access import public, roles_required
from ..web.links import absolute_url
from . import services

bp = Blueprint("calendar", __name__)


def feed_links(token: str) -> dict[str, str]:
    """The feed's https address and its one-tap webcal:// subscribe link (on BASE_URL, never the Host header)."""
    address = absolute_url(url_for("calendar.feed", token=token))
    return {"address": address, "subscribe": "webcal://" + address.split("://", 1)[1]}


def session_page_url(session_id: int) -> str:
    return absolute_url(url_for("scheduling.session", session_id=session_id))


@bp.post("/account/calendar")
@roles_required(*services.FEED_ROLES)
def enable() -> ResponseReturnValue:
    """Turn the feed on, or make a new address; the secret is shown on this one answer and never again."""
    user = current_user._get_current_object()
    renewed = services.feed_is_on(user)
    token = services.enable_feed(user)
    db.session.commit()
    return render_template("calendar/created.html", renewed=renewed, **feed_links(token))


@bp.post("/account/calendar/off")
@roles_required(*services.FEED_ROLES)
def revoke() -> ResponseReturnValue:
    services.revoke_feed(current_user._get_current_object())
    db.session.commit()
    flash("Your calendar feed is off. Its address no longer works.", "success")
    return redirect(url_for("accounts.account"))


@bp.get("/calendar/<token>.ics")
@public
def feed(token: str) -> Response:
    user = services.user_for_token(token)
    if user is None:
        abort(404)
    body = services.feed_for(user, session_page_url)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="respite.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
