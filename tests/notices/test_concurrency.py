"""`flask send-reminders` run twice at the same moment (two cron hosts, or a slow run overtaken by the next):
each session's reminder goes out once. Against a database of its own, with real commits, from two threads."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from respite.database import write_lock
from respite.extensions import db
from respite.models import Notice, NoticeKind, RespiteSession, SessionStatus, utcnow
from respite.notices import services as notices
from tests import factories
from tests.helpers import app_on_scratch_database, sent_mail

RUNS = 2
SESSIONS = 5


@pytest.fixture
def scratch(app, tmp_path, monkeypatch):
    """An app on an empty, migrated database of its own, where commits are real; no Redis needed."""
    from respite.realtime import publish

    monkeypatch.setattr(publish, "publish_now", lambda *args, **kwargs: True)
    with app_on_scratch_database(app, tmp_path, "reminders", migrate=True) as scratch:
        yield scratch


def race(scratch, work, count=RUNS):
    """Run `work()` in `count` threads, each in an app context of its own, let go at the same moment."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(number):
        with scratch.app_context():
            try:
                barrier.wait()
                results[number] = work()
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


@pytest.mark.committing
def test_two_runs_at_once_send_each_reminder_once(scratch):
    soon = utcnow().replace(microsecond=0) + timedelta(hours=2)
    provider = factories.ProviderProfileFactory()
    families = []
    for number in range(SESSIONS):
        session = factories.RespiteSessionFactory(
            status=SessionStatus.CONFIRMED,
            starts_at=soon + timedelta(hours=number),
            ends_at=soon + timedelta(hours=number, minutes=30),
        )
        factories.AssignmentFactory(session=session, provider=provider)
        families.append(session.caregiver.user.email)
    db.session.commit()

    def run():
        write_lock()  # as the command does: on SQLite, the second run waits for the first
        count = notices.send_reminders()
        db.session.commit()
        return count

    results = race(scratch, run)

    assert sorted(results) == [0, SESSIONS], results  # one run claimed them all, the other found them claimed
    db.session.rollback()
    reminders = db.session.scalar(select(func.count(Notice.id)).where(Notice.kind == NoticeKind.REMINDER))
    assert reminders == 2 * SESSIONS  # the family and the provider of each
    assert (
        db.session.scalar(select(func.count(RespiteSession.id)).where(RespiteSession.reminder_sent_at.is_(None))) == 0
    )
    assert len(sent_mail(scratch, provider.user.email)) == SESSIONS
    assert all(len(sent_mail(scratch, email)) == 1 for email in families)


@pytest.mark.committing
def test_a_claim_waits_for_the_other_and_then_claims_nothing(scratch):
    """The claim itself, raced with nothing else in between: exactly one of two claimers wins each session."""
    session = factories.RespiteSessionFactory(
        status=SessionStatus.CONFIRMED, starts_at=utcnow() + timedelta(hours=3), ends_at=utcnow() + timedelta(hours=4)
    )
    db.session.commit()
    session_id, version = session.id, session.version

    def claim():
        write_lock()
        won = notices.claim_reminder(session_id, utcnow())
        db.session.commit()
        return won

    assert sorted(race(scratch, claim)) == [False, True]
    db.session.rollback()
    assert db.session.get(RespiteSession, session_id).version == version
