"""Showing times in a zone, a session's time range, and the zones people choose from."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from respite import timefmt
from respite.timefmt import canonical_zones, is_timezone, timespan, zone_aliases, zone_label, zones_by_region

CHICAGO = ZoneInfo("America/Chicago")


def _chicago(*parts):
    return datetime(*parts, tzinfo=CHICAGO).astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        ((2026, 3, 2, 10, 30), (2026, 3, 2, 13, 0), "Mon 2 Mar 2026, 10:30 – 13:00"),
        ((2026, 3, 2, 22, 0), (2026, 3, 3, 6, 0), "Mon 2 Mar 2026, 22:00 – Tue 3 Mar, 06:00"),
        ((2026, 12, 31, 22, 0), (2027, 1, 1, 6, 0), "Thu 31 Dec 2026, 22:00 – Fri 1 Jan 2027, 06:00"),
        # Clocks go forward at 02:00 on 8 March 2026: six hours pass, not seven; the end reads 06:00.
        ((2026, 3, 7, 23, 0), (2026, 3, 8, 6, 0), "Sat 7 Mar 2026, 23:00 – Sun 8 Mar, 06:00"),
        # And back at 02:00 on 1 November: a same-day session across the change keeps one date.
        ((2026, 11, 1, 0, 30), (2026, 11, 1, 4, 0), "Sun 1 Nov 2026, 00:30 – 04:00"),
    ],
)
def test_timespan_shows_the_end_date_only_when_the_local_day_changes(start, end, shown):
    assert timespan(_chicago(*start), _chicago(*end), CHICAGO) == shown


def test_timespan_uses_the_local_day_not_the_utc_one():
    # 03:00–05:00 UTC on one UTC day is the evening before and the night after midnight in Chicago.
    start, end = datetime(2026, 6, 2, 3, 0, tzinfo=UTC), datetime(2026, 6, 2, 6, 0, tzinfo=UTC)

    assert timespan(start, end, ZoneInfo("UTC")) == "Tue 2 Jun 2026, 03:00 – 06:00"
    assert timespan(start, end, CHICAGO) == "Mon 1 Jun 2026, 22:00 – Tue 2 Jun, 01:00"


def test_short_timespan_keeps_the_time_alone_unless_the_day_changes():
    assert timespan(_chicago(2026, 3, 2, 9, 0), _chicago(2026, 3, 2, 11, 0), CHICAGO, short=True) == "09:00 – 11:00"
    assert (
        timespan(_chicago(2026, 3, 2, 22, 0), _chicago(2026, 3, 3, 6, 0), CHICAGO, short=True)
        == "22:00 – Tue 3 Mar, 06:00"
    )


def test_timespan_filter_takes_a_zone_name_and_copes_with_missing_times(app):
    timespan_filter = app.jinja_env.filters["timespan"]
    start, end = datetime(2026, 3, 2, 13, 0, tzinfo=UTC), datetime(2026, 3, 2, 16, 0, tzinfo=UTC)

    assert timespan_filter(start, end, "Asia/Tokyo") == "Mon 2 Mar 2026, 22:00 – Tue 3 Mar, 01:00"
    assert timespan_filter(start, end, "Asia/Tokyo", short=True) == "22:00 – Tue 3 Mar, 01:00"
    assert timespan_filter(None, end, "Asia/Tokyo") == ""
    assert timespan_filter(start, None, "Asia/Tokyo") == "Mon 2 Mar 2026, 22:00"


def test_offered_zones_are_the_canonical_ones_and_utc():
    zones = canonical_zones()

    for zone in [
        "America/Chicago",
        "Europe/London",
        "Europe/Amsterdam",
        "Asia/Tokyo",
        "Australia/Sydney",
        "America/Argentina/Buenos_Aires",
        "Asia/Kolkata",
        "UTC",
    ]:
        assert is_timezone(zone), zone
    for legacy in ["US/Eastern", "Africa/Asmera", "Asia/Calcutta", "GB", "EST5EDT", "Etc/UTC"]:
        assert not is_timezone(legacy), legacy
    assert not any(zone.startswith("Etc/") for zone in zones)
    assert 350 < len(zones) < 450


def test_older_names_point_to_the_zone_offered_now():
    aliases = zone_aliases()

    assert aliases["US/Eastern"] == "America/New_York"
    assert aliases["Asia/Calcutta"] == "Asia/Kolkata"
    assert aliases["America/Buenos_Aires"] == "America/Argentina/Buenos_Aires"
    assert all(is_timezone(zone) and not is_timezone(alias) for alias, zone in aliases.items())


def test_zones_are_grouped_by_region_city_first():
    regions = zones_by_region()

    assert list(regions)[-1] == "UTC"
    assert {"Africa", "America", "Asia", "Europe", "Pacific"} <= set(regions)
    labels = [zone_label(zone) for zone in regions["America"]]
    assert labels == sorted(labels)
    assert zone_label("America/Argentina/Buenos_Aires") == "Buenos Aires, Argentina"
    assert zone_label("America/North_Dakota/New_Salem", with_region=True) == "New Salem, North Dakota (America)"
    assert zone_label("UTC", with_region=True) == "UTC"


def test_zone_table_falls_back_to_the_tzdata_package(monkeypatch):
    monkeypatch.setattr(timefmt, "TZPATH", ())  # a system without zone data of its own

    assert "America/Chicago" in timefmt._zone_data("zone.tab")
    assert timefmt._zone_data("no-such-table.tab") == ""
