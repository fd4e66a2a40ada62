"""Each page issues a fixed number of SQL statements, however many rows it shows."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from respite.extensions import db
from respite.models import Assignment, utcnow
from tests import factories


@contextmanager
def counted_statements():
    statements = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def make_caregiver_rows(client, n):
    recipient = factories.CareRecipientFactory(caregiver=client.user.caregiver_profile)
    for _ in range(n):
        factories.AssignmentFactory(session=factories.RespiteSessionFactory(recipient=recipient, status="confirmed"))


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
    for _ in range(n):
        factories.RespiteSessionFactory()


def make_kiosk_rows(client, n):
    for _ in range(n):
        factories.RespiteSessionFactory(center=client.user.center, starts_at=utcnow(), status="confirmed")


# The budgets: sign-in check (user), then the page's own reads.
# A page's live region (an htmx request to the same URL) has a budget of its own.
REGION = {"HX-Request": "true"}
BUDGETS = [
    ("as_caregiver", "/caregiver", {}, make_caregiver_rows, 5),
    ("as_caregiver", "/caregiver", REGION, make_caregiver_rows, 4),
    ("as_provider", "/provider", {}, make_provider_rows, 3),
    ("as_provider", "/provider", REGION, make_provider_rows, 3),
    ("as_coordinator", "/coordinator", {}, make_coordinator_rows, 4),
    ("as_coordinator", "/coordinator", REGION, make_coordinator_rows, 3),
    ("as_kiosk", "/kiosk", {}, make_kiosk_rows, 3),
    ("as_kiosk", "/kiosk", REGION, make_kiosk_rows, 3),
    ("as_coordinator", "/admin/audit", {}, make_coordinator_rows, 3),
    ("as_coordinator", "/admin/users", {}, make_coordinator_rows, 3),
]


@pytest.mark.parametrize(("client_fixture", "path", "headers", "make_rows", "budget"), BUDGETS)
def test_page_statement_budget(request, client_fixture, path, headers, make_rows, budget):
    client = request.getfixturevalue(client_fixture)
    counts = []
    for rows in (1, 6):
        make_rows(client, rows if not counts else rows - 1)
        db.session.flush()
        db.session.expire_all()  # nothing cached from the setup: the page loads what it shows
        with counted_statements() as statements:
            response = client.get(path, headers=headers)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{path} issues more statements with more rows: {counts}"
    assert counts[0] == budget, f"{path}: {counts[0]} statements, budget {budget}"
