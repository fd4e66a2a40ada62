"""Demo data for a first run: one center and its kiosk, staff and their availability, families, sessions, messages.

One module per domain, each with a `seed()` that adds its rows to the
session; `seed_demo()` runs them in order and flushes. The caller (the
`flask seed-demo` command, or a test) commits. Idempotent: when the demo
coordinator exists, nothing changes.
"""

from datetime import datetime

from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import User, utcnow
from . import accounts, availability, care, messaging, scheduling
from .accounts import ACCOUNTS, DEMO_PASSWORD, demo_accounts

__all__ = ["ACCOUNTS", "DEMO_PASSWORD", "demo_accounts", "seed_demo"]


def seed_demo(now: datetime | None = None) -> tuple[bool, list[tuple[str, str]]]:
    """Add the demo data unless it is there; return (created, [(role, email), ...])."""
    if db.session.scalar(select(User.id).where(User.email == ACCOUNTS[0][1])) is not None:
        return False, demo_accounts()
    now = now or utcnow()
    people = accounts.seed()
    availability.seed(people, now)
    families = care.seed(people)
    sessions = scheduling.seed(people, families, now)
    messaging.seed(people, sessions, now)
    audit.record(
        "demo.seed",
        entity_type="Center",
        entity_id=people.center.id,
        summary="Demo data loaded",
        meta={"requested_session": sessions.requested.id},
    )
    db.session.flush()
    return True, demo_accounts()
