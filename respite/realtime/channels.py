"""Which Redis channels carry whose events. The server picks them from the signed-in user, never the client."""

from flask import current_app

from ..models import KioskDevice, User


def user_channel(user_id: int) -> str:
    return f"{current_app.config['SSE_CHANNEL_PREFIX']}.user.{user_id}"


def center_channel(center_id: int) -> str:
    return f"{current_app.config['SSE_CHANNEL_PREFIX']}.center.{center_id}"


def kiosk_channel(device_id: int) -> str:
    return f"{current_app.config['SSE_CHANNEL_PREFIX']}.kiosk.{device_id}"


def channels_for(user: User) -> list[str]:
    """The only channel `user`'s stream may carry: their own."""
    return [user_channel(user.id)]


def device_channels(device: KioskDevice) -> list[str]:
    """The only channels a kiosk tablet's stream may carry: its center's, and its own (which ends it when revoked)."""
    return [center_channel(device.center_id), kiosk_channel(device.id)]
