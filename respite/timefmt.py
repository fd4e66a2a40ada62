"""Times are stored in UTC and shown in the viewer's own zone; these filters do the showing."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_login import current_user

_ZONES = None


def all_timezones():
    global _ZONES
    if _ZONES is None:
        _ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
        _ZONES.append("UTC")
    return _ZONES


def is_timezone(name):
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in all_timezones()


def zone_or_utc(name):
    """The zone called `name`, or UTC when there is no such zone (any more) on this system."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def viewer_zone():
    return zone_or_utc(getattr(current_user, "timezone", None))


def local(value: datetime, zone=None):
    return value.astimezone(zone or viewer_zone())


def register_filters(app):
    @app.template_filter("localtime")
    def localtime(value, fmt="%a %-d %b %Y, %H:%M", zone=None):
        """`value` in the viewer's zone, or in `zone` (an IANA name) when one is given."""
        if value is None:
            return ""
        return local(value, zone_or_utc(zone) if zone else None).strftime(fmt)

    @app.template_filter("hours")
    def hours(minutes):
        whole, rest = divmod(int(minutes or 0), 60)
        return f"{whole} h {rest:02d} min" if rest else f"{whole} h"
