"""The audit trail: what a row holds, the hash chain and the append-only rule (the coordinator's page of it:
tests/admin/test_audit_log.py)."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from respite import audit
from respite.extensions import db
from respite.models import utcnow
from tests import factories
from tests.helpers import audit_rows, needs_postgres, sign_in

# What each database raises when its trigger refuses to change the log (psycopg maps
# PL/pgSQL RAISE EXCEPTION to ProgrammingError; SQLite RAISE(ABORT) is a constraint error).
APPEND_ONLY_ERROR = {"sqlite": IntegrityError, "postgresql": ProgrammingError}


def _drop_append_only_triggers(dialect):
    """Inside the test's transaction only: the rollback at the end puts them back."""
    if dialect == "postgresql":
        db.session.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
    else:
        db.session.execute(text("DROP TRIGGER audit_log_no_update"))
        db.session.execute(text("DROP TRIGGER audit_log_no_delete"))


def _record_several(count=5):
    user = factories.UserFactory()
    return [audit.record(f"test.event{n}", user, actor=user, summary=f"event {n}") for n in range(count)]


# --- What a row holds ----------------------------------------------------------------


def test_a_sign_in_row_holds_who_what_where_and_when(client, caregiver):
    before = utcnow()

    sign_in(client, caregiver)

    (row,) = audit_rows("auth.login")
    assert row.actor_id == caregiver.id
    assert row.actor_role == "caregiver"
    assert (row.entity_type, row.entity_id) == ("User", str(caregiver.id))
    assert row.summary == f"{caregiver.display_name} signed in"
    assert row.ip == "127.0.0.1"
    assert before - timedelta(seconds=1) <= row.created_at <= utcnow()
    assert row.created_at.utcoffset() == timedelta(0)


def test_a_row_outside_a_request_has_no_actor_or_ip():
    row = audit.record("system.task", entity_type="Center", entity_id=7, summary="x" * 3000, meta={"n": 1})

    assert (row.actor_id, row.actor_role, row.ip) == (None, "", "")
    assert (row.entity_type, row.entity_id) == ("Center", "7")
    assert len(row.summary) == 2000
    assert row.meta == {"n": 1}


def test_rows_are_chained_from_the_genesis_hash():
    rows = _record_several(4)

    assert audit_rows()[0].prev_hash == audit.GENESIS_HASH
    for previous, row in zip(rows, rows[1:]):
        assert row.prev_hash == previous.row_hash
        assert row.row_hash == audit.row_hash(row)


@pytest.mark.parametrize("batch_size", [1000, 2])
def test_verify_chain_passes_on_an_intact_log(batch_size):
    _record_several(5)

    assert audit.verify_chain(batch_size=batch_size) == (5, None)


def test_verify_chain_passes_on_an_empty_log():
    assert audit.verify_chain() == (0, None)


def test_verify_chain_finds_an_altered_row(dialect):
    rows = _record_several(5)
    _drop_append_only_triggers(dialect)

    db.session.execute(text("UPDATE audit_log SET summary = 'nothing to see' WHERE id = :id"), {"id": rows[2].id})

    assert audit.verify_chain() == (2, rows[2].id)
    assert audit.verify_chain(batch_size=2) == (2, rows[2].id)


def test_verify_chain_finds_a_removed_row(dialect):
    rows = _record_several(5)
    _drop_append_only_triggers(dialect)

    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": rows[1].id})

    assert audit.verify_chain() == (1, rows[2].id)


def test_verify_chain_leaves_the_callers_objects_alone():
    user = factories.UserFactory(display_name="Still Here")
    _record_several(3)

    audit.verify_chain(batch_size=1)

    assert user in db.session
    assert user.display_name == "Still Here"


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET summary = 'rewritten'", "DELETE FROM audit_log"])
def test_the_log_is_append_only(dialect, statement):
    _record_several(2)

    with pytest.raises(DBAPIError) as refused, db.session.begin_nested():
        db.session.execute(text(statement))

    assert isinstance(refused.value, APPEND_ONLY_ERROR[dialect])
    assert "append-only" in str(refused.value.orig)
    assert [row.summary for row in audit_rows()] == ["event 0", "event 1"]
    assert audit.verify_chain() == (2, None)


@pytest.mark.postgres_only
@needs_postgres
def test_the_log_can_not_be_truncated(dialect):
    _record_several(2)

    with pytest.raises(DBAPIError) as refused, db.session.begin_nested():
        db.session.execute(text("TRUNCATE audit_log"))

    assert "append-only" in str(refused.value.orig)
    assert [row.summary for row in audit_rows()] == ["event 0", "event 1"]
