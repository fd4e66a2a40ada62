"""The audit log as coordinators read it: filtered pages of sentences, the dashboard's recent activity,
the CSV export, and the state of the chain.

Reads issue a fixed number of statements however many rows they word (the rows with their actors,
then one statement for every name the sentences need: see `wording`). Two changes, one function
each, that record themselves and never commit: `record_export` and `verify_now`.
"""

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import joinedload

from .. import audit
from ..extensions import db
from ..models import AuditLog, Role, User
from ..timefmt import zone_or_utc
from . import wording
from .wording import Entry, Subject

PAGE_SIZE = 50
# Beyond any log (and short of numbers the database can't offset by).
MAX_PAGE = 100_000
RECENT_LIMIT = 8
# Rows read per statement while a CSV file streams out: memory stays flat however long the log is.
EXPORT_CHUNK = 1000
# A cell a spreadsheet would take for a formula starts with one of these; such cells get a leading '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- Filters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the reader asked to see: rows by or about a person, of a group of actions, about one kind of
    row (or one row), between two days of the reader's calendar; sign-ins and sign-outs only when asked."""

    person_id: int | None = None
    group: str = ""
    entity_type: str = ""
    entity_id: int | None = None
    since: date | None = None
    until: date | None = None
    include_sign_ins: bool = False

    @property
    def shows_sign_ins(self) -> bool:
        return self.include_sign_ins or self.group == wording.SIGN_INS.key

    def conditions(self, zone: tzinfo) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.person_id is not None:
            found.append(
                or_(
                    AuditLog.actor_id == self.person_id,
                    and_(AuditLog.entity_type == "User", AuditLog.entity_id == str(self.person_id)),
                )
            )
        if self.group == wording.OTHER.key:
            found.append(AuditLog.action.not_in(list(wording.WORDING)))
        elif self.group:
            found.append(AuditLog.action.in_(wording.actions_in(self.group)))
        if not self.shows_sign_ins:
            found.append(AuditLog.action.not_in(wording.SIGN_IN_ACTIONS))
        if self.entity_type:
            found.append(AuditLog.entity_type == self.entity_type)
            if self.entity_id is not None:
                found.append(AuditLog.entity_id == str(self.entity_id))
        if self.since is not None:
            found.append(AuditLog.created_at >= _day_starts(self.since, zone))
        if self.until is not None:
            found.append(AuditLog.created_at < _day_starts(self.until + timedelta(days=1), zone))
        return found

    def args(self) -> dict[str, str]:
        """The filters as the page's query string has them (only those set): for links and the export's row."""
        values = {
            "person": str(self.person_id) if self.person_id is not None else "",
            "action": self.group,
            "entity": self.entity_type,
            "entity_id": str(self.entity_id) if self.entity_id is not None and self.entity_type else "",
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            "signins": "1" if self.include_sign_ins else "",
        }
        return {name: value for name, value in values.items() if value}

    @property
    def any(self) -> bool:
        return bool(self.args())


def _day_starts(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def filtered(filters: AuditFilters, zone: tzinfo) -> Select[tuple[AuditLog]]:
    """The rows `filters` let through, newest first, each with its actor."""
    return (
        select(AuditLog)
        .options(joinedload(AuditLog.actor))
        .where(*filters.conditions(zone))
        .order_by(AuditLog.id.desc())
    )


# --- Pages -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    entries: list[Entry]
    pagination: Pagination
    person: Subject | None  # the person filtered by, when there is one (and they exist)


def audit_page(reader: User, filters: AuditFilters, page: int = 1, per_page: int | None = None) -> AuditPage:
    """One page of the filtered log in words for `reader`; a page past the end shows the last one."""
    zone = zone_or_utc(reader.timezone)
    query = filtered(filters, zone)
    per_page = per_page or PAGE_SIZE
    page = min(max(page, 1), MAX_PAGE)
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    if not pagination.items and pagination.total and page > 1:
        pagination = db.paginate(query, page=max(pagination.pages, 1), per_page=per_page, error_out=False)
    rows: Sequence[AuditLog] = pagination.items
    person = [("User", filters.person_id)] if filters.person_id is not None else []
    subjects = wording.subjects_for(rows, reader, extra=person)
    return AuditPage(
        entries=wording.entries(rows, reader, subjects),
        pagination=pagination,
        person=subjects.get(("User", filters.person_id)) if filters.person_id is not None else None,
    )


def recent_activity(reader: User, limit: int = RECENT_LIMIT) -> list[Entry]:
    """The newest rows in words, for the coordinator's dashboard: sign-ins and sign-outs left out."""
    rows = db.session.scalars(filtered(AuditFilters(), zone_or_utc(reader.timezone)).limit(limit)).all()
    return wording.entries(rows, reader)


def people() -> Sequence[tuple[int, str, str]]:
    """Everyone the log may name, for the person filter: (id, name, role), by name."""
    return [
        (row.id, row.display_name, row.role)
        for row in db.session.execute(
            select(User.id, User.display_name, User.role).order_by(User.display_name, User.id)
        )
    ]


# --- The CSV export --------------------------------------------------------------------------------


def export_extent(filters: AuditFilters, zone: tzinfo) -> tuple[int, int | None]:
    """How many rows the filters let through now, and the newest one's id: the export stops there."""
    count, newest = db.session.execute(
        select(func.count(), func.max(AuditLog.id)).where(*filters.conditions(zone))
    ).one()
    return int(count), newest


def record_export(actor: User, filters: AuditFilters, *, rows: int, up_to: int | None) -> AuditLog:
    """Audit a download of the log: who, with which filters, how many rows (up to which one)."""
    if actor.role != Role.COORDINATOR:
        raise PermissionError("Only a coordinator can download the audit log.")
    row = audit.record(
        "audit.export",
        actor=actor,
        summary=f"Audit log downloaded as CSV: {rows} {'entry' if rows == 1 else 'entries'}",
        meta={"filters": filters.args(), "rows": rows, "up_to": up_to},
    )
    db.session.flush()
    return row


def csv_header(zone_name: str) -> list[str]:
    return [
        "id",
        f"time ({zone_name})",
        "time (UTC)",
        "actor",
        "action",
        "sentence",
        "entity type",
        "entity id",
        "meta",
    ]


def safe_cell(value: str) -> str:
    """A cell no spreadsheet runs as a formula (OWASP's CSV injection advice): a leading ' where one could start."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_chunks(reader_id: int, filters: AuditFilters, up_to: int | None, *, chunk: int | None = None) -> Iterator[str]:
    """The filtered rows up to row `up_to` as CSV text, newest first, `chunk` rows a statement (and a piece),
    for the reader `reader_id`.

    It runs as the response streams, after the request's own database session has ended: it loads what
    it needs itself, the reader included.
    """
    reader = db.session.get(User, reader_id)
    if reader is None:
        return
    zone = zone_or_utc(reader.timezone)
    chunk = chunk or EXPORT_CHUNK
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def taken() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(csv_header(str(zone)))
    yield taken()
    if up_to is None:
        return
    query = filtered(filters, zone).where(AuditLog.id <= up_to).limit(chunk)
    before: int | None = None
    while True:
        rows = db.session.scalars(query if before is None else query.where(AuditLog.id < before)).all()
        for entry in wording.entries(rows, reader):
            writer.writerow([entry.row.id, *(safe_cell(cell) for cell in _cells(entry, zone))])
        if rows:
            yield taken()
        if len(rows) < chunk:
            return
        before = rows[-1].id


def _cells(entry: Entry, zone: tzinfo) -> list[str]:
    row = entry.row
    return [
        row.created_at.astimezone(zone).isoformat(timespec="seconds"),
        row.created_at.astimezone(UTC).isoformat(timespec="seconds"),
        row.actor.display_name if row.actor is not None else "",
        row.action,
        str(entry.sentence),
        row.entity_type,
        row.entity_id,
        json.dumps(row.meta or {}, sort_keys=True, ensure_ascii=False),
    ]


# --- The chain -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainState:
    """What is known of the chain without walking it: the newest checkpoint (and whether its row still
    holds its hash), and the newest check made from the page."""

    checkpoint: audit.Checkpoint | None
    checkpoint_holds: bool
    last_check: AuditLog | None

    @property
    def last_check_intact(self) -> bool:
        return self.last_check is None or bool((self.last_check.meta or {}).get("intact"))

    @property
    def broken(self) -> bool:
        return not self.checkpoint_holds or not self.last_check_intact


def chain_state() -> ChainState:
    """The newest checkpoint (from the end of its file) checked against its row, and the newest check's row."""
    checkpoint = audit.latest_checkpoint()
    holds = True
    if checkpoint is not None:
        stored = db.session.scalar(select(AuditLog.row_hash).where(AuditLog.id == checkpoint.row_id))
        holds = stored == checkpoint.row_hash
    last_check = db.session.scalar(
        select(AuditLog)
        .options(joinedload(AuditLog.actor))
        .where(AuditLog.action == "audit.verify")
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    return ChainState(checkpoint, holds, last_check)


def verify_now(actor: User) -> audit.Verification:
    """Walk the whole chain through every checkpoint (as `flask audit verify` does) and record what it found."""
    if actor.role != Role.COORDINATOR:
        raise PermissionError("Only a coordinator can check the audit log.")
    newest = audit.newest_row()
    result = audit.verify(audit.read_checkpoints())
    failed = result.failed_checkpoint
    up_to = newest.row_id if newest is not None else 0
    if result.intact:
        summary = f"Audit log checked: intact up to row {up_to}"
    elif result.broken_at is not None:
        summary = f"Audit log checked: broken at row {result.broken_at}"
    else:
        summary = f"Audit log checked: the checkpoint at row {failed.row_id if failed else '?'} no longer holds"
    audit.record(
        "audit.verify",
        actor=actor,
        summary=summary,
        meta={
            "intact": result.intact,
            "rows": result.rows,
            "up_to": up_to,
            "broken_at": result.broken_at,
            "checkpoints": result.checkpoints,
            "failed_checkpoint": failed.row_id if failed else None,
            "row_missing": result.row_missing,
        },
    )
    db.session.flush()
    return result
