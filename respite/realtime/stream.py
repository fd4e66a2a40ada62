"""The signed-in event stream, `GET /events`.

flask-sse's own view lets the client name any channel, blocks without
heartbeats and ignores the sign-in; this one takes its channels from the
signed-in user, sends a heartbeat comment when quiet, gives its database
connection back before the first byte, and ends after a while so that the
browser's reconnect checks the sign-in again.
"""

import json
import time
import uuid
from collections.abc import Callable, Iterator

import redis
from flask import Blueprint, Flask, Response, current_app
from flask_login import current_user
from flask_sse import Message

from .. import audit
from ..accounts import signins
from ..extensions import db
from ..web.access import public
from .channels import channels_for
from .connection import OutageLog, outage_log, redis_client
from .events import EventType

bp = Blueprint("realtime", __name__)
# Sent on a stream's own channel only, never to a page: "a newer stream of this account took your place".
_CLOSE = "close"


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
        ticket = _take_stream_ticket(app, current_user.id)
        # Its own channel too, on which a newer stream past the user's cap tells it to end.
        pubsub.subscribe(*channels, _ticket_channel(app, ticket))
    except redis.RedisError as error:
        outage_log(app).failed(error)
        pubsub.close()
        return _paused()
    # A stream may stay open for minutes: give its database connection back now.
    current_user_id = current_user.id
    sign_in_left = signins.seconds_left(current_user)
    db.session.remove()
    heartbeat = app.config["SSE_HEARTBEAT_SECONDS"]
    # No longer than the sign-in it was opened under: its reconnect then finds it ended.
    lifetime = min(app.config["SSE_STREAM_MAX_SECONDS"], sign_in_left)
    response = Response(
        _stream_events(
            pubsub,
            heartbeat,
            lifetime,
            outage_log(app),
            on_end=lambda: _return_stream_ticket(app, current_user_id, ticket),
        ),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    response.call_on_close(pubsub.close)
    return response


def open_stream(channels: list[str]) -> Response:
    """A stream of `channels` for a caller its own view has admitted (a kiosk tablet, which is no one's
    sign-in): a heartbeat when quiet, the database connection given back before the first byte, and an end
    after SSE_STREAM_MAX_SECONDS, or at a `signed_out` event on one of its channels, so that the reconnect
    checks the caller again."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(*channels)
    except redis.RedisError as error:
        outage_log(app).failed(error)
        pubsub.close()
        return _paused()
    db.session.remove()
    response = Response(
        _stream_events(
            pubsub,
            app.config["SSE_HEARTBEAT_SECONDS"],
            app.config["SSE_STREAM_MAX_SECONDS"],
            outage_log(app),
            on_end=lambda: None,
        ),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    response.call_on_close(pubsub.close)
    return response


def _paused() -> Response:
    return Response(
        "Live updates are paused; the page will reconnect.\n",
        status=503,
        mimetype="text/plain",
        headers={"Retry-After": "5", "Cache-Control": "no-store"},
    )


def _tickets_key(app: Flask, user_id: int) -> str:
    return f"{app.config['SSE_CHANNEL_PREFIX']}.streams.{user_id}"


def _ticket_channel(app: Flask, ticket: str) -> str:
    return f"{app.config['SSE_CHANNEL_PREFIX']}.stream.{ticket}"


def _take_stream_ticket(app: Flask, user_id: int) -> str:
    """A place among the user's open streams (a sorted set of tickets by when each began).

    One account holds at most SSE_STREAMS_PER_USER streams: past the cap the
    oldest are told to end (a page left behind holds its place until then),
    so the newest page always gets its updates. A ticket whose stream died
    without ending lapses when that stream would have ended anyway.
    """
    client = redis_client(app)
    key = _tickets_key(app, user_id)
    now = time.time()
    lifetime = app.config["SSE_STREAM_MAX_SECONDS"]
    client.zremrangebyscore(key, "-inf", now - lifetime - 30)
    ticket = uuid.uuid4().hex
    client.zadd(key, {ticket: now})
    client.expire(key, int(lifetime) + 60)
    excess = int(client.zcard(key)) - app.config["SSE_STREAMS_PER_USER"]  # type: ignore[arg-type]
    if excess > 0:
        popped: list[tuple[bytes | str, float]] = client.zpopmin(key, excess)  # type: ignore[assignment]
        for oldest, _began in popped:
            name = oldest.decode() if isinstance(oldest, bytes) else str(oldest)
            client.publish(_ticket_channel(app, name), json.dumps(Message({}, type=_CLOSE).to_dict()))
    return ticket


def _return_stream_ticket(app: Flask, user_id: int, ticket: str) -> None:
    try:
        redis_client(app).zrem(_tickets_key(app, user_id), ticket)
    except redis.RedisError:  # it lapses by itself
        pass


def _stream_events(
    pubsub: redis.client.PubSub,
    heartbeat: float,
    lifetime: float,
    outages: OutageLog,
    on_end: Callable[[], None],
) -> Iterator[str]:
    """Yield events as they arrive, a heartbeat comment when quiet, and end after `lifetime`."""
    yield "retry: 3000\n: connected\n\n"
    deadline = time.monotonic() + lifetime
    last_sent = time.monotonic()
    try:
        while (now := time.monotonic()) < deadline:
            wait = max(0.0, min(heartbeat - (now - last_sent), deadline - now))
            item = pubsub.get_message(timeout=wait)
            if item and item.get("type") == "message":
                message = Message(**json.loads(item["data"]))
                if message.type in (EventType.SIGNED_OUT, _CLOSE):
                    return  # the sign-in this stream was opened under has ended, or a newer page took its place
                yield str(message)
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= heartbeat:
                yield ": heartbeat\n\n"
                last_sent = time.monotonic()
    except redis.RedisError as error:
        outages.failed(error)
    finally:
        pubsub.close()
        on_end()
