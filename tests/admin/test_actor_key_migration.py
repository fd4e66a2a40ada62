"""Migration 0008: the audit log's actor key refuses to lose its user (ON DELETE RESTRICT) instead of setting NULL.

Before it, deleting a user who had acted asked the database to rewrite their audit
rows, which the append-only triggers refused: the delete failed with the trigger's
error. After it, the key refuses the delete itself. On SQLite the table is rebuilt,
so the test also checks that every row, hash and trigger comes through.
"""

from types import SimpleNamespace

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from respite import audit
from respite.extensions import db
from respite.models import AuditLog
from tests.helpers import app_on_scratch_database


@pytest.fixture
def scratch_app(app, tmp_path):
    with app_on_scratch_database(app, tmp_path, "actorkey") as scratch:
        yield scratch


def _user(email):
    """A user as the schema before 0008 holds it (the model has a column it lacks)."""
    db.session.execute(
        text(
            "INSERT INTO user_account (email, display_name, role, timezone, active, session_generation, created_at) "
            "VALUES (:email, 'Dana Actor', 'coordinator', 'UTC', true, 0, CURRENT_TIMESTAMP)"
        ),
        {"email": email},
    )
    user_id = db.session.scalar(text("SELECT id FROM user_account WHERE email = :email"), {"email": email})
    return SimpleNamespace(id=user_id, role="coordinator")


def _log():
    return [tuple(row) for row in db.session.execute(select(AuditLog.__table__).order_by(AuditLog.id)).all()]


def _delete(user):
    with db.session.begin_nested():
        db.session.execute(text("DELETE FROM user_account WHERE id = :id"), {"id": user.id})


def _actor_key_on_delete():
    (key,) = [fk for fk in inspect(db.engine).get_foreign_keys("audit_log") if fk["referred_table"] == "user_account"]
    return (key["options"].get("ondelete") or "NO ACTION").upper()


def _append_only():
    for statement in ("UPDATE audit_log SET summary = 'rewritten'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement))


@pytest.mark.committing
def test_the_actor_key_refuses_the_delete_after_0008_and_the_log_comes_through_intact(scratch_app):
    upgrade(revision="0007")
    actor = _user("dana@example.test")
    for n in range(3):
        audit.record(f"test.before_0008_{n}", actor=actor, entity_type="User", entity_id=actor.id, meta={"n": n})
    db.session.commit()
    # The finding: the delete reaches the log's rows and fails on the append-only trigger.
    with pytest.raises(DBAPIError, match="append-only"):
        _delete(actor)
    before = _log()
    db.session.remove()

    upgrade(revision="0008")

    assert _actor_key_on_delete() == "RESTRICT"
    assert _log() == before
    assert audit.verify_chain() == (3, None)
    _append_only()
    with pytest.raises(IntegrityError) as refused:
        _delete(actor)
    assert "append-only" not in str(refused.value)
    audit.record("test.after_0008", actor=actor)
    db.session.commit()
    after = _log()
    db.session.remove()

    downgrade(revision="0007")

    assert _actor_key_on_delete() == "SET NULL"
    assert _log() == after
    assert audit.verify_chain() == (4, None)
    _append_only()
    db.session.remove()
