"""Publishing: services queue events in the transaction; they go out to Redis only after it commits.

Events travel in flask-sse's format (flask_sse.Message), so any number of app
servers share them. A rolled-back transaction publishes nothing, and a Redis
that is down loses the events but never fails the write: pages re-fetch what
they show when their stream reconnects.
"""

import json
from collections.abc import Iterable
from typing import Any

import redis
from flask import Flask, current_app
from flask_sse import Message
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from .channels import center_channel, kiosk_channel, user_channel
from .connection import outage_log, redis_client
from .events import EventType

_PENDING = "respite.pending_events"


def publish_after_commit(
    event_type: EventType | str,
    *,
    user_ids: Iterable[int] = (),
    center_ids: Iterable[int] = (),
    kiosk_ids: Iterable[int] = (),
    **ids: int,
) -> None:
    """Queue an event for when the current transaction commits.

    The payload names what changed by type and ids only (no names, no text),
    so a page must re-fetch through a permission-checked view to learn more.
    """
    if event_type not in set(EventType):
        raise ValueError(f"unknown event type {event_type!r}")
    for key, value in ids.items():
        if not isinstance(value, int):
            raise TypeError(f"event field {key} must be an id (int), got {type(value).__name__}")
    channels = [user_channel(u) for u in set(user_ids)] + [center_channel(c) for c in set(center_ids)]
    channels += [kiosk_channel(k) for k in set(kiosk_ids)]
    # Make sure a transaction is open, so that a rollback (which is a no-op
    # without one) still fires the hook that drops these events.
    db.session.connection()
    pending = db.session.info.setdefault(_PENDING, [])
    pending.extend((channel, str(event_type), dict(ids)) for channel in channels)


def publish_now(channel: str, event_type: str, data: dict[str, Any], app: Flask | None = None) -> bool:
    """Publish one event straight away; False (and one log line per outage) when Redis is down."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    message = Message(data, type=event_type)
    try:
        redis_client(app).publish(channel, json.dumps(message.to_dict()))
    except redis.RedisError as error:
        outage_log(app).failed(error)
        return False
    outage_log(app).succeeded()
    return True


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for channel, event_type, data in pending:
        if not publish_now(channel, event_type, data, app):
            break  # Redis is down: the rest would fail too, and pages re-sync on reconnect


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, *args: object) -> None:
    session.info.pop(_PENDING, None)
