"""The one htmx idiom: a page's URL serves the whole page, or to htmx just its live region.

A live region is a template of its own (`templates/<domain>/_region.html`)
that the page includes; it carries its id, its `hx-get` (the page's own URL)
and its triggers (see `templates/_macros/live.html`). The view calls
`render_page()` with both templates; the answer varies on HX-Request.
"""

from typing import Any

from flask import Response, make_response, render_template, request


def is_region_request() -> bool:
    """True for an htmx request that wants a region (not a boosted page navigation, nor the whole page that
    htmx asks for when Back returns to an address a region swap pushed: HX-History-Restore-Request)."""
    return (
        bool(request.headers.get("HX-Request"))
        and not request.headers.get("HX-Boosted")
        and not request.headers.get("HX-History-Restore-Request")
    )


def render_page(page_template: str, region_template: str, /, status: int = 200, **context: Any) -> Response:
    """The whole page, or only its region to an htmx request; either way `Vary: HX-Request`."""
    template = region_template if is_region_request() else page_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response
