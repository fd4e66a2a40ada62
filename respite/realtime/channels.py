"""Which Redis channels carry whose events. The server picks them from the signed-in user, never the client."""

from flask import current_app

from ..models import Role, User


def user_channel(user_id: int) -> str:
    return f"{current_app.config['SSE_CHANNEL_PREFIX']}.user.{user_id}"


def center_channel(center_id: int) -> str:
    return f"{current_app.config['SSE_CHANNEL_PREFIX']}.center.{center_id}"


def channels_for(user: User) -> list[str]:
    """The only channels `user`'s stream may carry: their own, and a kiosk's center."""
    if user.role == Role.KIOSK and user.center_id:
        return [center_channel(user.center_id), user_channel(user.id)]
    return [user_channel(user.id)]
