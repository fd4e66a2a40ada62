"""Times are stored in UTC and shown in the viewer's own zone; these filters do the showing.

The zones people may choose come from here too: the canonical IANA zones of the time zone
table (zone.tab), never the legacy aliases (US/Eastern, Africa/Asmera) the data also carries.
"""

import functools
import os
from datetime import datetime, tzinfo
from importlib import resources
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from flask_login import current_user

UTC_ZONE = "UTC"
DAY_AND_TIME = "%a %-d %b %Y, %H:%M"


def _zone_data(name: str) -> str:
    """The text of the zone data file `name`, from where ZoneInfo reads zones: the system's
    directories first, then the `tzdata` package; empty when neither has it."""
    for directory in TZPATH:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as table:
                return table.read()
    try:
        return resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


def zone_exists(name: str) -> bool:
    """Whether this system can load the zone `name`, offered or not (US/Eastern loads)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@functools.cache
def canonical_zones() -> tuple[str, ...]:
    """The zones offered: one per country region (zone.tab keeps e.g. Europe/Amsterdam, which
    zone1970.tab folds into Brussels), sorted, then UTC."""
    rows = (line.split("\t") for line in _zone_data("zone.tab").splitlines() if not line.startswith("#"))
    names = {row[2].strip() for row in rows if len(row) >= 3}
    return (*sorted(name for name in names if zone_exists(name)), UTC_ZONE)


@functools.cache
def _offered() -> frozenset[str]:
    return frozenset(canonical_zones())


@functools.cache
def zone_aliases() -> dict[str, str]:
    """Older names of offered zones, to the zone they now name: {"Asia/Calcutta": "Asia/Kolkata"}.

    Browsers still report some of them (Chrome says Asia/Calcutta); read from tzdata.zi's links.
    """
    aliases = {}
    for line in _zone_data("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            if target in _offered() and alias not in _offered():
                aliases[alias] = target
    return aliases


def is_timezone(name: str) -> bool:
    """Whether `name` is one of the zones offered (canonical, or UTC)."""
    return name in _offered()


def zone_label(name: str, *, with_region: bool = False) -> str:
    """`name` readable, city first so typing its first letters finds it in a list:
    "Buenos Aires, Argentina", or "Buenos Aires, Argentina (America)" with its region."""
    region, *places = name.replace("_", " ").split("/")
    if not places:
        return region
    label = ", ".join(reversed(places))
    return f"{label} ({region})" if with_region else label


def zones_by_region() -> dict[str, list[str]]:
    """The offered zones under their region (Africa … Pacific), each region's by label; UTC last."""
    regions: dict[str, list[str]] = {}
    for name in canonical_zones():
        regions.setdefault(name.split("/")[0], []).append(name)
    return {
        region: sorted(names, key=zone_label)
        for region, names in sorted(regions.items(), key=lambda item: (item[0] == UTC_ZONE, item[0]))
    }


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The zone called `name`, or UTC when there is no such zone (any more) on this system."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def viewer_zone() -> ZoneInfo:
    return zone_or_utc(getattr(current_user, "timezone", None))


def local(value: datetime, zone: tzinfo | None = None) -> datetime:
    return value.astimezone(zone or viewer_zone())


def timespan(start: datetime, end: datetime, zone: tzinfo | None = None, *, short: bool = False) -> str:
    """A session's time range in `zone` (the viewer's by default): "Mon 2 Mar 2026, 10:30 – 13:00".

    An end on another local day carries its date ("Mon 2 Mar 2026, 22:00 – Tue 3 Mar, 06:00"), and
    its year when that differs too. `short` opens with the time alone, as the kiosk's board of one day does.
    """
    first, last = local(start, zone), local(end, zone)
    opening = first.strftime("%H:%M" if short else DAY_AND_TIME)
    if last.date() == first.date():
        closing = last.strftime("%H:%M")
    elif last.year == first.year:
        closing = last.strftime("%a %-d %b, %H:%M")
    else:
        closing = last.strftime(DAY_AND_TIME)
    return f"{opening} – {closing}"


def register_filters(app: Flask) -> None:
    @app.template_filter("localtime")
    def localtime(value: datetime | None, fmt: str = DAY_AND_TIME, zone: str | None = None) -> str:
        """`value` in the viewer's zone, or in `zone` (an IANA name) when one is given."""
        if value is None:
            return ""
        return local(value, zone_or_utc(zone) if zone else None).strftime(fmt)

    @app.template_filter("timespan")
    def timespan_filter(
        start: datetime | None, end: datetime | None, zone: str | None = None, short: bool = False
    ) -> str:
        """`start|timespan(end)`: the range with the end's date when it falls on another day (see `timespan`)."""
        if start is None:
            return ""
        where = zone_or_utc(zone) if zone else None
        if end is None:
            return local(start, where).strftime("%H:%M" if short else DAY_AND_TIME)
        return timespan(start, end, where, short=short)

    @app.template_filter("hours")
    def hours(minutes: int | None) -> str:
        whole, rest = divmod(int(minutes or 0), 60)
        return f"{whole} h {rest:02d} min" if rest else f"{whole} h"
