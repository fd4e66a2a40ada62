"""Centers: the list (with each center's kiosks), and creating and changing one.

Each change guards (PermissionError when the actor may never do it, CenterError with a field and a message
safe to show when the values can't be used), changes the row, records the audit row, queues the event for
the center's kiosks and flushes; the view commits.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import audit, realtime
from ..availability.services import minute_label
from ..extensions import db
from ..models import Center, KioskDevice, RespiteSession, Role, User, utcnow
from ..scheduling.lifecycle import ACTIVE_SESSION_STATUSES
from ..timefmt import zone_exists

# Opening hours are kept by these keys (Monday first), each day's as ["HH:MM", "HH:MM"] on the center's clock.
WEEKDAYS = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)
COMING_SESSIONS = 10
NAME_LIMIT = 120
ADDRESS_LIMIT = 500

OpeningHours = dict[str, list[str]]


class CenterError(Exception):
    """A value that can't be used, with the form field it belongs to; the message is safe to show."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- Reads -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CenterRow:
    """A center on the list, with the kiosks paired with it (unpaired ones left out)."""

    center: Center
    kiosks: list[KioskDevice]


def centers_with_kiosks() -> list[CenterRow]:
    """Every center by name, each with its paired kiosks: two statements, however many there are."""
    centers = db.session.scalars(select(Center).order_by(Center.name, Center.id)).all()
    kiosks: dict[int, list[KioskDevice]] = {center.id: [] for center in centers}
    if centers:
        for device in db.session.scalars(
            select(KioskDevice)
            .where(KioskDevice.revoked_at.is_(None), KioskDevice.center_id.in_(list(kiosks)))
            .order_by(KioskDevice.name, KioskDevice.id)
        ):
            kiosks[device.center_id].append(device)
    return [CenterRow(center, kiosks[center.id]) for center in centers]


def get_center_for(actor: User, center_id: int) -> Center | None:
    """The center `center_id` if `actor` may change it (a coordinator), else None."""
    if actor.role != Role.COORDINATOR:
        return None
    return db.session.get(Center, center_id)


def coming_sessions(center: Center, limit: int = COMING_SESSIONS) -> Sequence[RespiteSession]:
    """The next sessions booked at the center (what a change of its hours or zone meets), soonest first."""
    return db.session.scalars(
        select(RespiteSession)
        .options(joinedload(RespiteSession.recipient))
        .where(
            RespiteSession.center_id == center.id,
            RespiteSession.status.in_(ACTIVE_SESSION_STATUSES),
            RespiteSession.ends_at >= utcnow(),
        )
        .order_by(RespiteSession.starts_at, RespiteSession.id)
        .limit(limit)
    ).all()


def opening_summary(hours: Mapping[str, Sequence[str]]) -> list[str]:
    """Opening hours in words, days with the same hours together: ["Mon–Fri 9:00 am – 5:00 pm", "Sat 10:00 am – …"]."""
    lines: list[str] = []
    run: list[str] = []
    previous: tuple[str, ...] | None = None

    def close_run() -> None:
        if run and previous:
            days = run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}"
            lines.append(f"{days} {_clock(previous[0])} – {_clock(previous[1])}")

    for key, name in WEEKDAYS:
        today = tuple(hours.get(key) or ()) or None
        if today != previous or today is None:
            close_run()
            run = []
        if today is not None:
            run.append(name[:3])
        previous = today
    close_run()
    return lines


def _clock(value: str) -> str:
    hour, minute = (int(part) for part in value.split(":"))
    return minute_label(hour * 60 + minute)


# --- Changes ---------------------------------------------------------------------------------------


def _guard(actor: User) -> None:
    if actor.role != Role.COORDINATOR:
        raise PermissionError("Only a coordinator can manage centers.")


def opening_hours(times: Mapping[str, tuple[time | None, time | None]]) -> OpeningHours:
    """Each day's (opens, closes) as kept: a day with neither is closed; a day needs both, closing after opening."""
    kept: OpeningHours = {}
    for key, name in WEEKDAYS:
        opens, closes = times.get(key, (None, None))
        if opens is None and closes is None:
            continue
        if opens is None:
            raise CenterError(f"{key}_opens", f"Give the time it opens on {name}, or clear both to close that day.")
        if closes is None:
            raise CenterError(f"{key}_closes", f"Give the time it closes on {name}, or clear both to close that day.")
        if closes <= opens:
            raise CenterError(f"{key}_closes", f"On {name} it must close after it opens.")
        kept[key] = [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
    return kept


def _clean(name: str, address: str, timezone: str, *, center: Center | None = None) -> tuple[str, str]:
    name = " ".join(name.split())
    if not name:
        raise CenterError("name", "Give the center a name.")
    if len(name) > NAME_LIMIT:
        raise CenterError("name", f"Use at most {NAME_LIMIT} characters.")
    address = address.strip()
    if len(address) > ADDRESS_LIMIT:
        raise CenterError("address", f"Use at most {ADDRESS_LIMIT} characters.")
    if not zone_exists(timezone):
        raise CenterError("timezone", "Choose a time zone from the list.")
    same_name = select(Center.id).where(func.lower(Center.name) == name.lower())
    if center is not None:
        same_name = same_name.where(Center.id != center.id)
    if db.session.scalar(same_name) is not None:
        raise CenterError("name", "Another center has this name: give this one a name of its own.")
    return name, address


def create_center(actor: User, *, name: str, address: str, timezone: str, hours: OpeningHours) -> Center:
    _guard(actor)
    name, address = _clean(name, address, timezone)
    center = Center(name=name, address=address, timezone=timezone, opening_hours=hours)
    db.session.add(center)
    db.session.flush()
    audit.record(
        "center.create",
        center,
        actor=actor,
        summary=f"Opened the center {center.name}",
        meta={"timezone": timezone, "opening_hours": hours},
    )
    db.session.flush()
    return center


FIELD_WORDS = {"name": "name", "address": "address", "timezone": "time zone", "opening_hours": "opening hours"}


def update_center(
    actor: User, center: Center, *, name: str, address: str, timezone: str, hours: OpeningHours
) -> list[str]:
    """Change a center's details; which changed. Its kiosks' boards refresh (they show its name and hours)."""
    _guard(actor)
    name, address = _clean(name, address, timezone, center=center)
    changes: dict[str, dict[str, Any]] = {}
    for field, new in (("name", name), ("address", address), ("timezone", timezone), ("opening_hours", hours)):
        old = getattr(center, field)
        if old != new:
            changes[field] = {"from": old, "to": new}
            setattr(center, field, new)
    if not changes:
        return []
    audit.record(
        "center.update",
        center,
        actor=actor,
        summary=f"Changed the {', '.join(FIELD_WORDS[field] for field in changes)} of {center.name}",
        meta={"changed": sorted(changes), **changes},
    )
    realtime.publish_after_commit(realtime.EventType.KIOSK, center_ids=[center.id], center_id=center.id)
    db.session.flush()
    return sorted(changes)
