"""Live updates: services publish small events after commit; each signed-in page holds one stream.

- events.py: the event types, declared once
- channels.py: which channels a user's (or a kiosk tablet's) stream carries
- publish.py: `publish_after_commit()`, the only way feature code publishes
- connection.py: the Redis client (or the embedded server) and outage logging
- stream.py: the signed-in `/events` view, and the stream a kiosk tablet's view opens
"""

from flask import Flask

from .channels import center_channel, channels_for, device_channels, kiosk_channel, user_channel
from .connection import redis_client, redis_is_up
from .events import EventType
from .publish import publish_after_commit, publish_now

__all__ = [
    "EventType",
    "center_channel",
    "channels_for",
    "device_channels",
    "init_app",
    "kiosk_channel",
    "publish_after_commit",
    "publish_now",
    "redis_client",
    "redis_is_up",
    "user_channel",
]


def init_app(app: Flask) -> None:
    from . import connection, stream

    connection.connect(app)
    app.register_blueprint(stream.bp)
    app.jinja_env.globals["event_types"] = EventType
