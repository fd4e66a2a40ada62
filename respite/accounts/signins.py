"""Sign-ins the server can end: each one carries the user's session generation and its start time.

The signed cookie holds the user's id, the generation it was issued under and
when it began. A request is signed in only while the generation still matches
and the sign-in is younger than PERMANENT_SESSION_LIFETIME, counted from its
start and renewed by nothing; staff (providers, coordinators) are also signed
out after STAFF_IDLE_MINUTES without activity. Bumping the generation (sign-out, a new
password or email, a coordinator's deactivation or role change) ends every
sign-in of the user at once, a copied cookie included, and closes their open
event streams.
"""

import time

from flask import current_app, flash, request, session
from flask_login import current_user, login_user

from .. import realtime
from ..models import Role, User
from ..web.htmx import is_region_request

GENERATION = "gen"
STARTED = "signed_in_at"
SEEN = "seen_at"
# Desks are shared and left unattended; a caregiver's phone and a center's kiosk are not timed out.
IDLE_ROLES = (Role.PROVIDER, Role.COORDINATOR)
# Activity is noted at most this often, so the cookie isn't re-sent with every click.
SEEN_RESOLUTION_SECONDS = 30


def start_sign_in(user: User) -> None:
    """Sign `user` in on this browser with a fresh session (and so a fresh CSRF token)."""
    session.clear()
    session.permanent = True
    login_user(user)
    session[GENERATION] = user.session_generation
    session[STARTED] = session[SEEN] = int(time.time())


def sign_in_is_alive(user: User) -> bool:
    """Whether the sign-in in this request's session still holds for `user`."""
    if not user.is_active or session.get(GENERATION) != user.session_generation:
        return False
    started = session.get(STARTED)
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    if not (isinstance(started, int) and 0 <= time.time() - started < lifetime):
        return False
    idle_minutes = current_app.config["STAFF_IDLE_MINUTES"]
    if user.role in IDLE_ROLES and idle_minutes:
        seen = session.get(SEEN, started)
        if not isinstance(seen, int) or time.time() - seen >= idle_minutes * 60:
            session.clear()
            flash(f"You were signed out after {idle_minutes} minutes without activity. Please sign in again.", "info")
            return False
    return True


def seconds_left(user: User) -> float:
    """How long this request's sign-in has still to run: to the end of its lifetime, or of staff idleness."""
    now = time.time()
    started = session.get(STARTED)
    left = float(started) + current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() - now if started else 0.0
    idle_minutes = current_app.config["STAFF_IDLE_MINUTES"]
    if user.role in IDLE_ROLES and idle_minutes:
        left = min(left, float(session.get(SEEN, started or 0)) + idle_minutes * 60 - now)
    return max(0.0, left)


def note_activity() -> None:
    """Before each request: a person using the app (not a live region refreshing itself) keeps staff signed in."""
    if request.endpoint in ("static", "realtime.stream") or (request.method == "GET" and is_region_request()):
        return
    if not current_user.is_authenticated or current_user.role not in IDLE_ROLES:
        return
    now = int(time.time())
    if now - int(session.get(SEEN, 0)) >= SEEN_RESOLUTION_SECONDS:
        session[SEEN] = now


def keep_this_sign_in(user: User) -> None:
    """After the user ended every sign-in themselves (a new password or email), keep the one they did it from.

    Its start stays as it was: changing details never lengthens a sign-in.
    """
    session[GENERATION] = user.session_generation


def end_every_sign_in(user: User) -> None:
    """End every sign-in of `user`, on every device; their open streams close when this commits."""
    user.session_generation = (user.session_generation or 0) + 1
    realtime.publish_after_commit(realtime.EventType.SIGNED_OUT, user_ids=[user.id], user_id=user.id)
