"""The signed-in event stream, `GET /events`.

flask-sse's own view lets the client name any channel, blocks without
heartbeats and ignores the sign-in; this one takes its channels from the
signed-in user, sends a heartbeat comment when quiet, gives its database
connection back before the first byte, and ends after a while so that the
browser's reconnect checks the sign-in again.
"""

import json
import time
from collections.abc import Iterator

import redis
from flask import Blueprint, Response, current_app
from flask_login import current_user
from flask_sse import Message

from .. import audit
from ..extensions import db
from ..web.access import public
from .channels import channels_for
from .connection import OutageLog, outage_log, redis_client
from .events import EventType

bp = Blueprint("realtime", __name__)


@bp.get("/events")
@public  # checked inside: a stream answers 401, not a redirect to the sign-in page
def stream() -> Response:
    if not current_user.is_authenticated:
        audit.record("access.denied", summary="A live stream was asked for without a sign-in")
        db.session.commit()
        return Response("Sign in to receive live updates.\n", status=401, mimetype="text/plain")
    channels = channels_for(current_user)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
    try:
        if channels:
            pubsub.subscribe(*channels)
    except redis.RedisError as error:
        outage_log(app).failed(error)
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
        _stream_events(pubsub, heartbeat, lifetime, bool(channels), outage_log(app)),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    response.call_on_close(pubsub.close)
    return response


def _stream_events(
    pubsub: redis.client.PubSub, heartbeat: float, lifetime: float, subscribed: bool, outages: OutageLog
) -> Iterator[str]:
    """Yield events as they arrive, a heartbeat comment when quiet, and end after `lifetime`."""
    yield "retry: 3000\n: connected\n\n"
    deadline = time.monotonic() + lifetime
    last_sent = time.monotonic()
    try:
        while (now := time.monotonic()) < deadline:
            wait = max(0.0, min(heartbeat - (now - last_sent), deadline - now))
            if subscribed:
                item = pubsub.get_message(timeout=wait)
            else:
                time.sleep(wait)
                item = None
            if item and item.get("type") == "message":
                message = Message(**json.loads(item["data"]))
                if message.type == EventType.SIGNED_OUT:
                    return  # the sign-in this stream was opened under has ended
                yield str(message)
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= heartbeat:
                yield ": heartbeat\n\n"
                last_sent = time.monotonic()
    except redis.RedisError as error:
        outages.failed(error)
    finally:
        pubsub.close()
