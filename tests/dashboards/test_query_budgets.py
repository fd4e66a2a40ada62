"""Each page issues a fixed number of SQL statements, however many rows it shows."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from respite import audit
from respite.extensions import db
from respite.models import Assignment, utcnow
from tests import factories
from tests.helpers import NAV, assert_statement_budget


def make_caregiver_rows(client, n):
    # One person's active sessions never overlap (PostgreSQL refuses): one a day.
    recipient = factories.CareRecipientFactory(caregiver=client.user.caregiver_profile)
    for day in range(1, n + 1):
        starts = utcnow() + timedelta(days=day)
        session = factories.RespiteSessionFactory(
            recipient=recipient, status="confirmed", starts_at=starts, ends_at=starts + timedelta(hours=3)
        )
        factories.AssignmentFactory(session=session)


def make_provider_rows(client, n):
    # One provider can't hold overlapping sessions (the database refuses): one a day.
    profile = client.user.provider_profile
    taken = len(profile_assignments(profile))
    for day in range(taken + 1, taken + n + 1):
        starts = utcnow() + timedelta(days=day)
        session = factories.RespiteSessionFactory(starts_at=starts, ends_at=starts + timedelta(hours=3))
        factories.AssignmentFactory(provider=profile, session=session)


def profile_assignments(profile):
    return db.session.scalars(select(Assignment).where(Assignment.provider_id == profile.id)).all()


def make_coordinator_rows(client, n):
    # Requests, each in the audit log too: the dashboard's recent activity and the audit log word them.
    for _ in range(n):
        session = factories.RespiteSessionFactory()
        audit.record("session.request", session, actor=session.caregiver.user)


# The budgets: sign-in check (user), then the page's own reads.
# A page's live region (an htmx request to the same URL) has a budget of its own.
REGION = {"HX-Request": "true"}
BUDGETS = [
    ("as_caregiver", "/caregiver", {}, make_caregiver_rows, 5 + NAV),
    ("as_caregiver", "/caregiver", REGION, make_caregiver_rows, 4),
    ("as_provider", "/provider", {}, make_provider_rows, 4 + NAV),
    ("as_provider", "/provider", REGION, make_provider_rows, 4),
    ("as_coordinator", "/coordinator", {}, make_coordinator_rows, 5 + NAV),
    ("as_coordinator", "/coordinator", REGION, make_coordinator_rows, 3),
    # The kiosk tablet's board: tests/kiosk/test_views.py.
    ("as_coordinator", "/admin/audit", {}, make_coordinator_rows, 6 + NAV),
    ("as_coordinator", "/admin/users", {}, make_coordinator_rows, 4 + NAV),
]


@pytest.mark.parametrize(("client_fixture", "path", "headers", "make_rows", "budget"), BUDGETS)
def test_page_statement_budget(request, client_fixture, path, headers, make_rows, budget):
    client = request.getfixturevalue(client_fixture)
    assert_statement_budget(client, path, lambda n: make_rows(client, n), budget, headers=headers)
