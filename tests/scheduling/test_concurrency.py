"""Many requests at once: a person never gets two overlapping active sessions, and nothing is half-written.

On PostgreSQL the exclusion constraint is the guarantee; on SQLite, `respite.database.write_lock()` makes each
request's check and insert one immediate transaction. Both run here against a database of their own, with
real commits, from many threads at once.
"""

import threading
import time
from datetime import time as clock
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from respite import audit, database
from respite.database import DatabaseBusy, write_lock
from respite.extensions import db
from respite.models import (
    Assignment,
    AssignmentStatus,
    AuditLog,
    Center,
    ProviderProfile,
    RespiteSession,
    SessionStatus,
    User,
    utcnow,
)
from respite.scheduling import assignments, services
from respite.scheduling.lifecycle import SchedulingError
from respite.timefmt import zone_or_utc
from tests import factories
from tests.helpers import ON_POSTGRES, app_on_scratch_database

ATTEMPTS = 20
# Coordinators giving one provider overlapping sessions at once.
ASSIGNMENTS = 50
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's write lock (the PostgreSQL pass has the constraint)")


@pytest.fixture
def scratch(app, tmp_path, monkeypatch):
    """An app on an empty, migrated database of its own, where commits are real; no Redis needed."""
    from respite.realtime import publish

    monkeypatch.setattr(publish, "publish_now", lambda *args, **kwargs: True)
    pool = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": ASSIGNMENTS + 5, "max_overflow": 0}}
    with app_on_scratch_database(app, tmp_path, "concurrency", migrate=True, **pool) as scratch:
        yield scratch


def in_threads(scratch, work, count=ATTEMPTS):
    """Run `work(number)` in `count` threads, each in an app context (so a database session) of its own,
    all let go at the same moment; return what each returned or raised, in thread order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(number):
        with scratch.app_context():
            try:
                barrier.wait()
                results[number] = work(number)
            except Exception as error:  # noqa: BLE001 - every outcome is the test's to judge
                db.session.rollback()
                results[number] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


# --- Twenty requests for one person at once ---------------------------------------------------------


@pytest.mark.committing
@pytest.mark.parametrize("weeks", [1, 4], ids=["single", "series"])
def test_of_twenty_overlapping_requests_at_once_exactly_one_is_booked(scratch, weeks):
    person = factories.CareRecipientFactory(first_name="Ada", caregiver__user__timezone="America/New_York")
    center = factories.CenterFactory()
    db.session.commit()
    user_id, person_id, center_id = person.caregiver.user.id, person.id, center.id
    day = (utcnow().astimezone(zone_or_utc("America/New_York")) + timedelta(days=3)).date()

    def ask(number):
        # Each starts a few minutes after the last: all of them overlap all the others.
        write_lock()
        details = services.RequestDetails(
            recipient_id=person_id,
            day=day,
            start=clock(9, number),
            minutes=180,
            center_id=center_id,
            weeks=weeks,
        )
        result = services.request_sessions(db.session.get(User, user_id), details, request_key=None)
        ids = [s.id for s in result.sessions]
        db.session.commit()
        return ids

    results = in_threads(scratch, ask)

    booked = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, services.RequestInvalid)]
    assert len(booked) == 1, results
    assert len(refused) == ATTEMPTS - 1, [r for r in results if not isinstance(r, list | services.RequestInvalid)]
    for error in refused:
        assert set(error.problems) == {"day"}
        assert error.problems["day"].startswith("Ada already has a session at that time on ")
    # Nothing half-written: the winner's rows and their audit rows, nothing else, and an unbroken chain.
    db.session.rollback()  # end this thread's own read, to see what the others committed
    assert db.session.scalar(select(func.count()).select_from(RespiteSession)) == weeks
    requested = db.session.scalars(select(AuditLog).where(AuditLog.action == "session.request")).all()
    assert sorted(int(row.entity_id) for row in requested) == sorted(booked[0])
    assert audit.verify_chain()[1] is None


@pytest.mark.committing
def test_twenty_double_taps_of_one_series_book_it_once(scratch):
    person = factories.CareRecipientFactory(caregiver__user__timezone="America/New_York")
    center = factories.CenterFactory()
    db.session.commit()
    user_id, person_id, center_id = person.caregiver.user.id, person.id, center.id
    day = (utcnow() + timedelta(days=3)).date()
    key = "3c0e8c1a-5a4e-4b7e-8f1e-2d6f0b9a7c55"

    def tap(number):
        write_lock()
        details = services.RequestDetails(
            recipient_id=person_id, day=day, start=clock(9), minutes=60, center_id=center_id, weeks=3
        )
        result = services.request_sessions(db.session.get(User, user_id), details, request_key=key)
        db.session.commit()
        return sorted(s.id for s in result.sessions)

    results = in_threads(scratch, tap)
    assert all(isinstance(r, list) for r in results), results
    assert len({tuple(r) for r in results}) == 1  # every tap answers the same three sessions
    db.session.rollback()  # end this thread's own read, to see what the others committed
    assert db.session.scalar(select(func.count()).select_from(RespiteSession)) == 3


# --- Fifty coordinators give one provider overlapping sessions at once -------------------------------


def _open_requests(count, center):
    """`count` requests for different people, each starting a few minutes after the last: all overlap."""
    start = (utcnow() + timedelta(days=4)).replace(hour=15, minute=0, second=0, microsecond=0)
    return [
        factories.RespiteSessionFactory(
            center=center,
            starts_at=start + timedelta(minutes=n),
            ends_at=start + timedelta(minutes=n, hours=3),
            recipient__first_name=f"Person{n}",
        )
        for n in range(count)
    ]


@pytest.mark.committing
def test_of_fifty_overlapping_assignments_of_one_provider_exactly_one_is_made(scratch):
    center = factories.CenterFactory()
    provider = factories.ProviderProfileFactory(center=center, user__display_name="Alex Morgan")
    coordinator = factories.UserFactory(role="coordinator")
    requests = _open_requests(ASSIGNMENTS, center)
    db.session.commit()
    provider_id, coordinator_id = provider.id, coordinator.id
    session_ids = [s.id for s in requests]

    def assign(number):
        write_lock()
        session = db.session.get(RespiteSession, session_ids[number])
        assignments.assign(
            db.session.get(User, coordinator_id),
            session,
            db.session.get(ProviderProfile, provider_id),
            expected_version=session.version,
        )
        db.session.commit()
        return session.id

    results = in_threads(scratch, assign, count=ASSIGNMENTS)

    won = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, assignments.ProviderConflict)]
    assert len(won) == 1, results
    assert len(refused) == ASSIGNMENTS - 1, [
        r for r in results if not isinstance(r, int | assignments.ProviderConflict)
    ]
    winner = won[0]
    for error in refused:  # each one names the session that won
        assert str(error).startswith("Alex Morgan already has a session then: Person")
        assert str(error).endswith(f"(session {winner}).")
    # Nothing half-written: one confirmed session with its one assignment and one audit row; the rest untouched.
    db.session.rollback()  # end this thread's own read, to see what the others committed
    statuses = dict(db.session.execute(select(RespiteSession.id, RespiteSession.status)).all())
    assert statuses.pop(winner) == SessionStatus.CONFIRMED
    assert set(statuses.values()) == {SessionStatus.REQUESTED}
    held = db.session.execute(select(Assignment.session_id, Assignment.status)).all()
    assert held == [(winner, AssignmentStatus.ACCEPTED)]
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "session.assign")).all()
    assert [row.entity_id for row in rows] == [str(winner)]
    assert audit.verify_chain()[1] is None


@pytest.mark.committing
def test_two_coordinators_assigning_one_request_at_once_the_second_is_told_it_changed(scratch):
    center = factories.CenterFactory()
    providers = [factories.ProviderProfileFactory(center=center) for _ in range(10)]
    coordinator = factories.UserFactory(role="coordinator")
    (request,) = _open_requests(1, center)
    db.session.commit()
    provider_ids, coordinator_id, session_id, version = [p.id for p in providers], coordinator.id, request.id, 1

    def assign(number):
        write_lock()
        session = db.session.get(RespiteSession, session_id)
        provider = db.session.get(ProviderProfile, provider_ids[number])
        assignments.assign(db.session.get(User, coordinator_id), session, provider, expected_version=version)
        db.session.commit()
        return provider.id

    results = in_threads(scratch, assign, count=len(provider_ids))

    won = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, SchedulingError)]
    assert len(won) == 1, results
    assert len(refused) == len(provider_ids) - 1, results
    for error in refused:
        assert str(error).startswith("This session was changed while you were looking at it.")
        assert str(error).endswith("It is now confirmed.") or " with " in str(error)
    db.session.rollback()
    held = db.session.execute(select(Assignment.provider_id, Assignment.status)).all()
    assert held == [(won[0], AssignmentStatus.ACCEPTED)]


# --- SQLite's write lock, two connections ------------------------------------------------------------


@sqlite_only
@pytest.mark.committing
def test_on_sqlite_a_second_writer_waits_for_the_first_and_then_sees_its_row(scratch):
    holding = threading.Event()
    moments = {}

    def first():
        write_lock()
        db.session.add(Center(name="First"))
        db.session.flush()
        holding.set()
        time.sleep(0.4)
        db.session.commit()
        moments["first committed"] = time.monotonic()

    def second():
        assert holding.wait(5)
        write_lock()  # waits here for the first to commit
        moments["second locked"] = time.monotonic()
        seen = db.session.scalar(select(func.count()).select_from(Center))
        db.session.add(Center(name="Second"))
        db.session.commit()
        return seen

    results = in_threads(scratch, lambda n: (first, second)[n](), count=2)
    assert results[1] == 1, results  # the second checked after the first had committed
    assert moments["second locked"] >= moments["first committed"]


@sqlite_only
@pytest.mark.committing
def test_on_sqlite_a_writer_that_waits_too_long_fails_cleanly(scratch, monkeypatch):
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 100)
    db.engine.dispose()  # new connections, with the short timeout
    holding = threading.Event()
    released = threading.Event()

    def first():
        write_lock()
        db.session.add(Center(name="Holder"))
        db.session.flush()
        holding.set()
        assert released.wait(5)
        db.session.commit()

    def second():
        assert holding.wait(5)
        try:
            write_lock()
        finally:
            released.set()

    results = in_threads(scratch, lambda n: (first, second)[n](), count=2)
    assert results[0] is None
    assert isinstance(results[1], DatabaseBusy)
    assert str(results[1]) == "The database is busy; please try again."
    assert db.session.scalars(select(Center.name)).all() == ["Holder"]


@sqlite_only
@pytest.mark.committing
def test_on_sqlite_write_lock_begins_an_immediate_transaction_after_the_reads(scratch):
    factories.CenterFactory(name="Before")
    db.session.commit()
    db.session.scalar(select(func.count()).select_from(Center))  # a read: a deferred transaction is open
    write_lock()
    connection = db.session.connection()
    assert connection.get_execution_options()[database.BEGIN_IMMEDIATE]
    # Another connection may read, but may not write, while this one holds the lock.
    with db.engine.connect() as other:
        other.exec_driver_sql("PRAGMA busy_timeout=0")
        assert other.scalar(text("SELECT count(*) FROM center")) == 1
        with pytest.raises(Exception, match="locked"):
            other.exec_driver_sql(
                "INSERT INTO center (name, address, timezone, created_at) VALUES ('x', '', 'UTC', '2026-01-01')"
            )
        other.rollback()
    db.session.rollback()


# --- write_lock's edges ------------------------------------------------------------------------------


def test_write_lock_leaves_a_transaction_someone_else_began_alone(caregiver):
    """The tests' own rolled-back transaction (a savepoint on SQLite): nothing to end, nothing lost."""
    write_lock()
    assert db.session.get(User, caregiver.id) is caregiver


@sqlite_only
def test_write_lock_refuses_to_come_after_a_change(caregiver):
    caregiver.display_name = "Changed"
    with pytest.raises(RuntimeError, match="before any change"):
        write_lock()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (set TEST_DATABASE_URL)")
@pytest.mark.postgres_only
def test_on_postgresql_write_lock_does_nothing(caregiver):
    caregiver.display_name = "Changed"  # not even a pending change matters: the constraint is the guarantee
    write_lock()
    assert db.session.is_modified(caregiver)
