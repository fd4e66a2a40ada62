"""Absolute links (in invitations and emails) come from the configured BASE_URL, never from request headers."""

from flask import current_app, request


def absolute_url(path: str) -> str:
    """`path` on the app's own address: BASE_URL when set (always in production), else this request's host."""
    base = current_app.config.get("BASE_URL") or request.host_url
    return base.rstrip("/") + "/" + path.lstrip("/")
