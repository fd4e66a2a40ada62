"""Coordinator reads: the people of the program and the audit log."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditLog, User

AUDIT_PAGE_SIZE = 50


def people() -> Sequence[User]:
    return db.session.scalars(
        select(User).options(joinedload(User.center)).order_by(User.role, User.display_name)
    ).all()


def recent_activity(limit: int = 8) -> Sequence[AuditLog]:
    return db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)).all()


@dataclass
class AuditPage:
    rows: Sequence[AuditLog]
    page: int
    pages: int
    total: int


def audit_page(action_prefix: str = "", page: int = 1, page_size: int | None = None) -> AuditPage:
    """One page of the audit log, newest first, optionally only actions starting with `action_prefix`."""
    page_size = page_size or AUDIT_PAGE_SIZE
    query = select(AuditLog).options(joinedload(AuditLog.actor))
    count_query = select(func.count()).select_from(AuditLog)
    if action_prefix:
        # A prefix, not a pattern: "_" and "%" in it match only themselves.
        matches = AuditLog.action.startswith(action_prefix, autoescape=True)
        query = query.where(matches)
        count_query = count_query.where(matches)
    total = db.session.scalar(count_query) or 0
    pages = max(1, -(-total // page_size))
    # Within the pages there are: a huge number would overflow the database's OFFSET.
    page = min(max(page or 1, 1), pages)
    rows = db.session.scalars(query.order_by(AuditLog.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
    return AuditPage(rows=rows, page=page, pages=pages, total=total)
