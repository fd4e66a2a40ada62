"""Error pages: every error answers with a page of the design system, never a stack trace.

htmx requests get the short fragment only, so it can land in place.
"""

from flask import Flask, Response, make_response, render_template, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db

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
        response = make_response(render_error(error.code or 500))
        # Keep what the exception says about itself beyond the body: Allow on
        # a 405, Retry-After on a 429 or 503, WWW-Authenticate on a 401.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers.add(name, value)
        return response

    @app.errorhandler(PermissionError)
    def permission_error(error: PermissionError) -> tuple[str, int]:
        db.session.rollback()
        return render_error(403)

    @app.errorhandler(StaleDataError)
    def stale_data(error: StaleDataError) -> tuple[str, int]:
        # Optimistic locking: someone else saved the same row first.
        db.session.rollback()
        return render_error(409)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(InternalServerError.code)


def render_error(code: int) -> tuple[str, int]:
    title, detail = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    # htmx swaps get the fragment; a boosted navigation replaces the page and wants all of it.
    fragment = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    template = "errors/_error.html" if fragment else "errors/error.html"
    return render_template(template, code=code, title=title, detail=detail), code
