"""Demo data for a first run: one center and its front desk, staff and their availability, families, sessions,
messages and notices.

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
from . import accounts, availability, care, history, kiosk, messaging, notices, scheduling
from .accounts import ACCOUNTS, DEMO_PASSWORD, demo_accounts
from .kiosk import STAFF_PIN as DEMO_STAFF_PIN
from .kiosk import FrontDesk

__all__ = ["ACCOUNTS", "DEMO_PASSWORD", "DEMO_STAFF_PIN", "FrontDesk", "demo_accounts", "seed_demo"]


def seed_demo(now: datetime | None = None) -> tuple[bool, list[tuple[str, str]], FrontDesk | None]:
    """Add the demo data unless it is there; return (created, [(role, email), ...], the front desk's pairing code
    and staff PIN when it was created now)."""
    if db.session.scalar(select(User.id).where(User.email == ACCOUNTS[0][1])) is not None:
        return False, demo_accounts(), None
    now = now or utcnow()
    people = accounts.seed()
    availability.seed(people, now)
    families = care.seed(people)
    sessions = scheduling.seed(people, families, now)
    history.seed(people, families, now)
    messaging.seed(people, sessions, now)
    notices.seed(people, sessions, now)
    front_desk = kiosk.seed(people, now)
    audit.record(
        "demo.seed",
        entity_type="Center",
        entity_id=people.center.id,
        summary="Demo data loaded",
        meta={"requested_session": sessions.requested.id},
    )
    db.session.flush()
    return True, demo_accounts(), front_desk
