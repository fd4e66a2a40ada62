"""The navigation's badges: unread messages and unread notices, in one statement, on every full page.

`nav_counts()` is a template global that base.html calls once per full page
(a live region never renders the navigation, so it costs regions nothing).
`/nav/badges` answers the two badges alone, as out-of-band swaps, for the
navigation to refresh itself when a message or a notice arrives.
"""

from dataclasses import dataclass

from flask import Blueprint, Flask, Response, g, make_response, render_template
from flask_login import current_user
from sqlalchemy import func, select

from ..extensions import db
from ..messaging.services import unread_total_query
from ..models import Notice, Role, User
from .access import roles_required

bp = Blueprint("nav", __name__)

# Who has an inbox and notices (a kiosk has neither).
READERS = (Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR)


@dataclass(frozen=True)
class NavCounts:
    messages: int = 0
    notices: int = 0


def counts_for(user: User) -> NavCounts:
    """Unread messages (from the read markers) and unread notices, in one statement."""
    unread_notices = (
        select(func.count(Notice.id)).where(Notice.user_id == user.id, Notice.read_at.is_(None)).scalar_subquery()
    )
    row = db.session.execute(select(unread_total_query(user), unread_notices)).one()
    return NavCounts(messages=int(row[0] or 0), notices=int(row[1] or 0))


def nav_counts() -> NavCounts:
    """The signed-in reader's counts, once per request; zeros for anyone without an inbox."""
    if not current_user.is_authenticated or current_user.role not in READERS:
        return NavCounts()
    if "nav_counts" not in g:
        g.nav_counts = counts_for(current_user)
    counts: NavCounts = g.nav_counts
    return counts


@bp.get("/nav/badges")
@roles_required(*READERS)
def badges() -> Response:
    response = make_response(render_template("_macros/nav_badges.html", counts=nav_counts()))
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.jinja_env.globals["nav_counts"] = nav_counts
    app.register_blueprint(bp)
