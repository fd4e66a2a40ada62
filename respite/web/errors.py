"""Error pages: every error answers with a page of the design system, never a stack trace.

htmx requests get the short fragment only, so it can land in place. Refusals
(a page or object that is not yours, a failed CSRF check, an action the role
may never take) are audited here, in one place, after anything the request
had changed is rolled back. An unexpected error gets a reference that the
log line carries too.
"""

import time
import uuid
from typing import Any

from flask import Flask, Response, make_response, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound

from .. import audit
from ..extensions import db, limiter
from ..text import escape_control_characters

MESSAGES = {
    400: ("Something in that request was not right", "Please go back and try again."),
    401: ("Please sign in", "You need to be signed in to see this."),
    403: ("Not allowed", "Your account can't open this page. If you think it should, ask a coordinator."),
    404: ("Page not found", "We couldn't find that page. It may have moved, or the link may be wrong."),
    405: ("Not allowed", "That action isn't available here."),
    409: ("Changed by someone else", "This was changed while you were looking at it. Reload and try again."),
    413: ("Too large", "What you sent is larger than we accept. Please send something smaller."),
    429: ("Too many tries", "Please wait a little and try again."),
    500: ("Something went wrong on our side", "We have logged the problem. Please try again in a moment."),
    503: ("Temporarily unavailable", "Part of the service is not answering. Please try again shortly."),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        detail = None
        if isinstance(error, CSRFError):
            record_refusal("access.csrf_refused", "A form was sent without a valid CSRF token")
        elif isinstance(error, RateLimitExceeded):
            record_refusal("access.throttled", f"Too many requests to {request.path}", limit=str(error.description))
            detail = _wait_message()
        elif isinstance(error, NotFound) and request.url_rule is not None and request.endpoint != "static":
            # A real route answered 404: an unknown or someone else's object, or a dead link.
            record_refusal("access.not_found", f"Nothing to show at {request.path}", view_args=request.view_args)
        response = make_response(render_error(error.code or 500, detail=detail))
        # Keep what the exception says about itself beyond the body: Allow on
        # a 405, Retry-After on a 429 or 503, WWW-Authenticate on a 401.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers.add(name, value)
        return response

    @app.errorhandler(PermissionError)
    def permission_error(error: PermissionError) -> tuple[str, int]:
        record_refusal("access.denied", str(error) or f"Refused at {request.path}")
        return render_error(403)

    @app.errorhandler(StaleDataError)
    def stale_data(error: StaleDataError) -> tuple[str, int]:
        # Optimistic locking: someone else saved the same row first.
        db.session.rollback()
        return render_error(409)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        reference = uuid.uuid4().hex[:12]
        app.logger.exception(
            "unhandled error %s on %s %s", reference, request.method, escape_control_characters(request.path)
        )
        return render_error(InternalServerError.code, reference=reference)


def record_refusal(action: str, summary: str, **meta: Any) -> None:
    """Audit a refusal on its own, after rolling back whatever the request had changed.

    What it quotes from the request (the address, its parts) is kept with any control characters
    written out: PostgreSQL can't store a NUL, and no one reading the log should meet a terminal's escapes.
    """
    db.session.rollback()
    try:
        audit.record(
            action,
            summary=_printable(summary),
            meta=_printable({"endpoint": request.endpoint, "method": request.method, **meta}),
        )
        db.session.commit()
    except SQLAlchemyError:  # the refusal still answers when the database does not
        db.session.rollback()


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return escape_control_characters(value)
    if isinstance(value, dict):
        return {_printable(key): _printable(part) for key, part in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(part) for part in value]
    return value


def _wait_message() -> str:
    """How long until the breached limit lets the next try through, in words."""
    current = limiter.current_limit
    seconds = max(1, int(current.reset_at - time.time())) if current is not None else 60
    wait = f"{seconds} seconds" if seconds < 90 else f"{round(seconds / 60)} minutes"
    return f"There have been too many tries from here. Please wait {wait} and try again."


def render_error(code: int, reference: str | None = None, detail: str | None = None) -> tuple[str, int]:
    title, standard = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    detail = detail or standard
    # htmx swaps get the fragment; a boosted navigation replaces the page and wants all of it.
    fragment = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    template = "errors/_error.html" if fragment else "errors/error.html"
    return render_template(template, code=code, title=title, detail=detail, reference=reference), code
