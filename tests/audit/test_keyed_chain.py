"""The keyed chain and the checkpoints kept outside the database: what an owner of the table can no longer hide.

The attacker here owns the audit table: on PostgreSQL they disable its
triggers (`ALTER TABLE audit_log DISABLE TRIGGER USER`, which only the owner
may do), on SQLite they drop them. Everything happens inside the test's
transaction and is rolled back with it.
"""

import hashlib
import hmac
import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text, update

from respite import audit
from respite.extensions import db
from respite.models import AuditLog
from tests import factories


@pytest.fixture
def checkpoint_file(app, tmp_path, monkeypatch):
    path = tmp_path / "audit-checkpoints.log"
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_FILE", str(path))
    return path


def _own_the_table(dialect):
    """What the table's owner can do: switch the append-only triggers off."""
    if dialect == "postgresql":
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        db.session.execute(text("DROP TRIGGER audit_log_no_update"))
        db.session.execute(text("DROP TRIGGER audit_log_no_delete"))


def _record_several(count=5):
    user = factories.UserFactory()
    return [audit.record(f"test.event{n}", user, actor=user, summary=f"event {n}") for n in range(count)]


def _plain_sha256(content):
    return hashlib.sha256(content).hexdigest()


def _hmac_with(key):
    return lambda content: hmac.new(key, content, hashlib.sha256).hexdigest()


def _rewrite_every_hash(hasher, *, summaries=None):
    """Change some summaries, then make every row's link and hash consistent again with `hasher`."""
    log = AuditLog.__table__
    prev = audit.GENESIS_HASH
    for row in db.session.execute(select(log).order_by(log.c.id)).all():
        fields = {**row._asdict(), "prev_hash": prev}
        fields["summary"] = (summaries or {}).get(row.id, row.summary)
        forged = hasher(audit.row_content(SimpleNamespace(**fields)))
        db.session.execute(
            update(log).where(log.c.id == row.id).values(summary=fields["summary"], prev_hash=prev, row_hash=forged)
        )
        prev = forged


def _cut_from(row_id):
    db.session.execute(text("DELETE FROM audit_log WHERE id >= :id"), {"id": row_id})
    db.session.expunge_all()  # the cut rows' objects (SQLite hands their ids out again)


def _lines(path):
    return path.read_text().splitlines() if path.exists() else []


# --- The key -----------------------------------------------------------------------------------


def test_a_rows_hash_is_an_hmac_under_the_key_not_a_plain_digest():
    (row,) = _record_several(1)

    assert row.row_hash == _hmac_with(audit.chain_key())(audit.row_content(row))
    assert row.row_hash != _plain_sha256(audit.row_content(row))


def test_the_key_is_audit_key_when_set(app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_KEY", "the deployment's own audit key, 32+ chars")

    assert audit.chain_key() == b"the deployment's own audit key, 32+ chars"


def test_without_audit_key_the_key_is_derived_from_the_secret_but_is_not_the_secret(app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_KEY", None)
    derived = audit.chain_key()
    monkeypatch.setitem(app.config, "SECRET_KEY", "another secret")

    assert derived not in (app.config["SECRET_KEY"].encode(), audit.chain_key())
    assert len(derived) == 32


def test_a_log_verifies_under_its_own_key_only(app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_KEY", "first key, long enough to be a real one")
    rows = _record_several(3)
    assert audit.verify_chain() == (3, None)

    monkeypatch.setitem(app.config, "AUDIT_KEY", "second key, long enough to be a real one")

    assert audit.verify_chain() == (0, rows[0].id)


@pytest.mark.parametrize(
    "hasher",
    [_plain_sha256, _hmac_with(b"a key the attacker made up")],
    ids=["plain-sha256", "wrong-key"],
)
def test_recomputing_every_hash_without_the_key_is_detected(dialect, runner, checkpoint_file, hasher):
    rows = _record_several(5)
    _own_the_table(dialect)

    _rewrite_every_hash(hasher, summaries={rows[2].id: "nothing to see"})

    assert audit.verify_chain() == (0, rows[0].id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"Audit chain broken at row {rows[0].id} (after 0 good rows)." in result.stderr
    assert "intact" not in result.output


# --- Checkpoints ---------------------------------------------------------------------------------


def test_cutting_the_newest_rows_after_a_checkpoint_is_detected(dialect, runner, checkpoint_file):
    rows = _record_several(5)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _own_the_table(dialect)

    _cut_from(rows[3].id)

    assert audit.verify_chain() == (3, None)  # what is left is a perfect chain: the chain alone can't tell
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {rows[4].id} is gone: rows were cut from the log." in result.stderr
    assert "intact" not in result.output


def test_cutting_rows_and_writing_new_ones_after_them_is_detected(dialect, runner, checkpoint_file):
    rows = _record_several(5)
    runner.invoke(args=["audit", "checkpoint"])
    _own_the_table(dialect)
    _cut_from(rows[2].id)

    audit.record("test.after_the_cut")  # the app carries on, chaining to the last row left
    audit.record("test.after_the_cut")
    audit.record("test.after_the_cut")

    assert audit.verify_chain() == (5, None)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "does not match its checkpoint" in result.stderr


def test_emptying_the_log_after_a_checkpoint_is_detected(dialect, runner, checkpoint_file):
    rows = _record_several(2)
    runner.invoke(args=["audit", "checkpoint"])
    _own_the_table(dialect)

    _cut_from(rows[0].id)

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {rows[1].id} is gone" in result.stderr


def test_rewriting_with_the_key_itself_is_caught_by_an_earlier_checkpoint(dialect, runner, checkpoint_file):
    rows = _record_several(4)
    runner.invoke(args=["audit", "checkpoint"])
    _own_the_table(dialect)

    _rewrite_every_hash(_hmac_with(audit.chain_key()), summaries={rows[1].id: "nothing to see"})

    assert audit.verify_chain() == (4, None)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {rows[3].id} has another hash: rows were rewritten or cut." in result.stderr


@pytest.mark.parametrize("batch_size", [1000, 2])
def test_verify_walks_through_every_checkpoint(runner, checkpoint_file, batch_size):
    _record_several(3)
    runner.invoke(args=["audit", "checkpoint"])
    _record_several(3)
    runner.invoke(args=["audit", "checkpoint"])
    _record_several(2)  # rows after the newest checkpoint are checked by the chain alone

    result = audit.verify(audit.read_checkpoints(), batch_size=batch_size)

    assert result == audit.Verification(rows=8, checkpoints=2)
    assert result.intact


def test_verify_says_when_the_log_matches_its_checkpoints(runner, checkpoint_file):
    rows = _record_several(3)
    runner.invoke(args=["audit", "checkpoint"])

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 0
    assert "Audit chain intact: 3 rows." in result.stdout
    assert f"It passes through all 1 checkpoints in {checkpoint_file}" in result.stdout
    assert f"at row {rows[-1].id}." in result.stdout


def test_verify_without_a_checkpoint_passes_but_says_what_it_could_not_check(runner, checkpoint_file):
    _record_several(2)

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 0
    assert "Audit chain intact: 2 rows." in result.stdout
    assert f"No checkpoint in {checkpoint_file}: rows cut from the end would go unnoticed" in result.stderr


def test_a_copy_of_the_apps_log_serves_as_the_checkpoint_file(dialect, runner, checkpoint_file, tmp_path):
    rows = _record_several(3)
    checkpoint = audit.newest_row()
    copied_log = tmp_path / "app.log"
    copied_log.write_text(f"INFO:respite.audit:{checkpoint.line()}\nINFO:werkzeug:GET /healthz 200\n")
    _own_the_table(dialect)
    _cut_from(rows[2].id)

    result = runner.invoke(args=["audit", "verify", "--checkpoints", str(copied_log)])

    assert result.exit_code == 1
    assert f"row {rows[2].id} is gone" in result.stderr
    assert not checkpoint_file.exists()


def test_checkpoint_appends_a_line_and_logs_it(runner, checkpoint_file, caplog):
    rows = _record_several(2)
    caplog.set_level(logging.INFO, logger="respite.audit")

    first = runner.invoke(args=["audit", "checkpoint"])
    later = _record_several(1)
    second = runner.invoke(args=["audit", "checkpoint"])

    lines = _lines(checkpoint_file)
    assert [audit.Checkpoint.from_line(line).row_id for line in lines] == [rows[-1].id, later[0].id]
    assert [audit.Checkpoint.from_line(line).row_hash for line in lines] == [rows[-1].row_hash, later[0].row_hash]
    assert first.stdout.strip() == lines[0]
    assert second.stdout.strip() == lines[1]
    assert lines == [r.getMessage() for r in caplog.records if r.name == "respite.audit"]


def test_checkpoint_refuses_to_vouch_for_a_log_cut_since_the_last_one(dialect, runner, checkpoint_file):
    rows = _record_several(4)
    runner.invoke(args=["audit", "checkpoint"])
    _own_the_table(dialect)
    _cut_from(rows[3].id)

    result = runner.invoke(args=["audit", "checkpoint"])

    assert result.exit_code == 1
    assert "Not checkpointed. Audit log does not match its checkpoint" in result.stderr
    assert f"row {rows[3].id} is gone" in result.stderr
    assert len(_lines(checkpoint_file)) == 1


def test_checkpoint_refuses_to_vouch_for_rows_forged_since_the_last_one(dialect, runner, checkpoint_file):
    _record_several(2)
    runner.invoke(args=["audit", "checkpoint"])
    rows = _record_several(2)
    _own_the_table(dialect)
    db.session.execute(text("UPDATE audit_log SET summary = 'forged' WHERE id = :id"), {"id": rows[1].id})

    result = runner.invoke(args=["audit", "checkpoint"])

    assert result.exit_code == 1
    assert f"Not checkpointed: audit chain broken at row {rows[1].id}." in result.stderr
    assert len(_lines(checkpoint_file)) == 1


def test_checkpoint_on_an_empty_log_writes_nothing(runner, checkpoint_file):
    result = runner.invoke(args=["audit", "checkpoint"])

    assert result.exit_code == 0
    assert "The audit log is empty" in result.stdout
    assert not checkpoint_file.exists()


# --- Checkpoints written by the app after commits ------------------------------------------------------


@pytest.fixture
def every_ten_minutes(app, monkeypatch, checkpoint_file):
    """Checkpoints after commits (the tests' app has them off), on a clock the test moves."""
    now = [1000.0]
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_MINUTES", 10)
    monkeypatch.setattr(audit.time, "monotonic", lambda: now[0])
    monkeypatch.delitem(app.extensions, "respite.audit_checkpoint_clock", raising=False)
    return now


def test_a_commit_that_adds_rows_writes_a_checkpoint_at_most_every_few_minutes(every_ten_minutes, checkpoint_file):
    first = audit.record("test.first")
    db.session.commit()
    audit.record("test.soon_after")
    db.session.commit()
    every_ten_minutes[0] += 10 * 60
    audit.record("test.later")
    last = audit.record("test.later")
    db.session.commit()

    lines = [audit.Checkpoint.from_line(line) for line in _lines(checkpoint_file)]
    assert [(c.row_id, c.row_hash) for c in lines] == [(first.id, first.row_hash), (last.id, last.row_hash)]
    assert audit.verify(lines).intact


def test_a_commit_without_audit_rows_or_a_rolled_back_one_writes_no_checkpoint(every_ten_minutes, checkpoint_file):
    factories.UserFactory()
    db.session.commit()
    audit.record("test.rolled_back")
    db.session.rollback()
    db.session.commit()

    assert _lines(checkpoint_file) == []


def test_a_checkpoint_that_cannot_be_written_does_not_fail_the_commit(app, every_ten_minutes, tmp_path, caplog):
    app.config["AUDIT_CHECKPOINT_FILE"] = str(tmp_path)  # a folder: the append fails

    row = audit.record("test.committed_anyway")
    db.session.commit()

    assert db.session.get(AuditLog, row.id) is not None
    assert f"Audit checkpoint not written to {tmp_path}" in caplog.text


def test_checkpoints_are_off_when_the_interval_is_zero(app, every_ten_minutes, checkpoint_file, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_MINUTES", 0)

    audit.record("test.no_checkpoint")
    db.session.commit()

    assert _lines(checkpoint_file) == []
