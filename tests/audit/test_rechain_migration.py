"""Migration 0006: a log chained by plain SHA-256 is chained again under the key, but only if it is intact."""

import hashlib
from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from respite import audit
from respite.extensions import db
from respite.models import AuditLog, utcnow
from tests.helpers import app_on_scratch_database

AUDIT_KEY = "the scratch deployment's audit key, long enough"


@pytest.fixture
def scratch_app(app, tmp_path):
    with app_on_scratch_database(app, tmp_path, "rechain", AUDIT_KEY=AUDIT_KEY) as scratch:
        yield scratch


def _plain_chain(count):
    """Rows as the app wrote them before the key: each hash a plain SHA-256."""
    prev = audit.GENESIS_HASH
    start = utcnow() - timedelta(days=3)
    for n in range(count):
        row = AuditLog(
            created_at=start + timedelta(minutes=n, microseconds=n * 7),
            actor_id=None,
            actor_role="coordinator" if n % 2 else "",
            action=f"test.before_the_key{n}",
            entity_type="Center",
            entity_id=str(n),
            summary=f"row {n}: Zoë’s request",
            meta={"changed": {"email": ["a@example.test", "b@example.test"]}, "n": n},
            ip="127.0.0.1",
            prev_hash=prev,
        )
        row.row_hash = prev = hashlib.sha256(audit.row_content(row)).hexdigest()
        db.session.add(row)
    db.session.commit()
    db.session.remove()  # nothing held open while the migration alters the table


def _plain_chain_holds():
    prev = audit.GENESIS_HASH
    for row in db.session.execute(select(AuditLog.__table__).order_by(AuditLog.id)).all():
        if row.prev_hash != prev or row.row_hash != hashlib.sha256(audit.row_content(row)).hexdigest():
            return False
        prev = row.row_hash
    return True


def _version():
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


@pytest.mark.committing
def test_upgrading_chains_an_intact_old_log_under_the_key_and_downgrading_undoes_it(scratch_app):
    upgrade(revision="0005")
    _plain_chain(5)

    upgrade(revision="0006")

    assert audit.verify_chain() == (5, None)
    assert not _plain_chain_holds()
    assert db.session.scalar(select(AuditLog.summary).order_by(AuditLog.id).limit(1)) == "row 0: Zoë’s request"
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text("UPDATE audit_log SET summary = 'rewritten'"))  # the trigger is back
    audit.record("test.after_the_key")
    db.session.commit()
    assert audit.verify_chain() == (6, None)
    db.session.remove()

    downgrade(revision="0005")

    assert _plain_chain_holds()
    assert _version() == "0005"


@pytest.mark.committing
def test_upgrading_refuses_to_key_a_log_that_was_already_tampered_with(scratch_app, caplog):
    upgrade(revision="0005")
    _plain_chain(3)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        db.session.execute(text("DROP TRIGGER audit_log_no_update"))
    db.session.execute(text("UPDATE audit_log SET summary = 'nothing to see' WHERE action = 'test.before_the_key1'"))
    db.session.commit()
    db.session.remove()
    tampered_id = db.session.scalar(select(AuditLog.id).where(AuditLog.action == "test.before_the_key1"))
    db.session.remove()

    with pytest.raises(SystemExit):  # how Flask-Migrate ends `flask db upgrade` on an error
        upgrade(revision="0006")

    assert f"audit_log's chain is broken at row {tampered_id}: it is left as it is" in caplog.text

    assert _version() == "0005"
    assert db.session.scalar(select(AuditLog.summary).where(AuditLog.id == tampered_id)) == "nothing to see"
