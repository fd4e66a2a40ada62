"""htmx helpers: one view serves a full page and, to htmx, just the fragment it includes."""

from flask import render_template, request


def is_fragment_request():
    """True for an htmx request that wants a fragment (not a boosted page navigation)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


def render_page_or_fragment(page, fragment, **context):
    return render_template(fragment if is_fragment_request() else page, **context)
