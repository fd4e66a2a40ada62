"""Passwords, role guards and the default-deny rule.

Every view carries an access rule set by one of the decorators here:
`roles_required(...)` for signed-in roles, `public` for the few pages anyone
may open. A view without a rule is refused (and a test fails), so a new
route can't be forgotten open.
"""

from functools import wraps
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, request
from flask_login import current_user, login_url

from . import audit
from .extensions import db

_hasher = PasswordHasher()

# Verifying against this keeps the time of a sign-in for an unknown email
# close to that of a known one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


def hash_password(password):
    return _hasher.hash(password)


def verify_password(password_hash, password):
    """True when `password` matches; never raises for a bad or missing hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash):
    return _hasher.check_needs_rehash(password_hash)


def public(view):
    """Mark a view as open to anyone, signed in or not."""
    view.access_rule = "public"
    return view


def roles_required(*roles):
    """Allow only signed-in users with one of `roles`.

    Not signed in: the login manager sends the browser to sign in. Signed in
    with another role: 403, and an `access.denied` audit row.
    """

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return _sign_in_first()
            if current_user.role not in roles:
                audit.record(
                    "access.denied",
                    summary=f"{current_user.role} refused at {request.path}",
                    meta={"endpoint": request.endpoint, "method": request.method},
                )
                db.session.commit()
                abort(403)
            return view(*args, **kwargs)

        guarded.access_rule = ("roles", roles)
        return guarded

    return decorate


def _sign_in_first():
    """Send a signed-out visitor to sign in, and back to their page afterwards.

    A plain request gets the login manager's redirect. An htmx request would
    follow that redirect and swap the whole sign-in page into a fragment's
    place, so it gets a 401 whose HX-Redirect takes the browser itself there.
    """
    if not request.headers.get("HX-Request"):
        return current_app.login_manager.unauthorized()
    page = urlsplit(request.headers.get("HX-Current-URL", ""))
    back_to = None
    if page.netloc == request.host and page.path.startswith("/"):
        back_to = page.path + (f"?{page.query}" if page.query else "")
    response = current_app.response_class("Please sign in again.\n", status=401, mimetype="text/plain")
    response.headers["HX-Redirect"] = login_url(current_app.login_manager.login_view, next_url=back_to)
    return response


def signed_in(view):
    """Allow any signed-in user, whatever the role."""
    return roles_required("caregiver", "provider", "coordinator", "kiosk")(view)


def enforce_default_deny():
    """before_request hook: refuse any endpoint whose view carries no access rule."""
    if request.endpoint is None:
        return  # 404 or 405 follows
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "access_rule", None) is None:
        current_app.logger.error("view %s has no access rule; refused", request.endpoint)
        abort(403)
