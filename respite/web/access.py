"""Role guards and the default-deny rule.

Every view carries an access rule set by one of the decorators here:
`roles_required(...)` for signed-in roles, `public` for the few pages anyone
may open. A view without a rule is refused (and a test fails), so a new
route can't be forgotten open.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_url

from .. import audit
from ..extensions import db
from ..models import Role

View = TypeVar("View", bound=Callable[..., Any])


def public(view: View) -> View:
    """Mark a view as open to anyone, signed in or not."""
    view.access_rule = "public"  # type: ignore[attr-defined]
    return view


def roles_required(*roles: Role | str) -> Callable[[View], View]:
    """Allow only signed-in users with one of `roles`.

    Not signed in: the login manager sends the browser to sign in. Signed in
    with another role: 403, and an `access.denied` audit row.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _sign_in_first()
            if current_user.role not in roles:
                audit.record(
                    "access.denied",
                    summary=f"{current_user.role} refused at {request.path}",
                    meta={"endpoint": request.endpoint, "method": request.method},
                )
                db.session.commit()  # the refusal is kept although the request fails
                abort(403)
            return view(*args, **kwargs)

        guarded.access_rule = ("roles", roles)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def signed_in(view: View) -> View:
    """Allow any signed-in user, whatever the role."""
    return roles_required(*Role)(view)


def _sign_in_first() -> ResponseReturnValue:
    """Send a signed-out visitor to sign in, and back to their page afterwards.

    A plain request gets the login manager's redirect. An htmx request would
    follow that redirect and swap the whole sign-in page into a region's
    place, so it gets a 401 whose HX-Redirect takes the browser itself there.
    """
    login_manager = current_app.login_manager  # type: ignore[attr-defined]
    if not request.headers.get("HX-Request"):
        return login_manager.unauthorized()
    page = urlsplit(request.headers.get("HX-Current-URL", ""))
    back_to = None
    if page.netloc == request.host and page.path.startswith("/"):
        back_to = page.path + (f"?{page.query}" if page.query else "")
    response = current_app.response_class("Please sign in again.\n", status=401, mimetype="text/plain")
    response.headers["HX-Redirect"] = login_url(login_manager.login_view, next_url=back_to)
    return response


def enforce_default_deny() -> None:
    """before_request hook: refuse any endpoint whose view carries no access rule."""
    if request.endpoint is None:
        return  # 404 or 405 follows
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "access_rule", None) is None:
        current_app.logger.error("view %s has no access rule; refused", request.endpoint)
        abort(403)
