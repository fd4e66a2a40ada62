"""The retention policy: messages older than MESSAGE_RETENTION_DAYS lose their text and files, in batches,
with one audit row a run; a dry run changes nothing, and a second run finds nothing more to do."""

from datetime import timedelta

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import select

from respite.extensions import db
from respite.messaging import attachments, retention, services
from respite.models import Attachment, Message, utcnow
from tests import factories
from tests.helpers import audit_rows
from tests.messaging import sample_files as files


@pytest.fixture(autouse=True)
def folder(app, tmp_path, monkeypatch):
    folder = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "ATTACHMENT_FOLDER", str(folder))
    return folder


@pytest.fixture
def family():
    return factories.CaregiverProfileFactory(user__display_name="Rosa Martinez").user


@pytest.fixture
def conversation(coordinator, family):
    return services.start_conversation(coordinator, [family], subject="Visits", body="Welcome")


def upload(data, name):
    (checked,) = attachments.check_uploads([files.upload(data, name)])
    return checked


def message(actor, conversation, body, *, days_old, uploads=()):
    sent = services.send_message(actor, conversation, body, uploads=list(uploads))
    sent.created_at = utcnow() - timedelta(days=days_old)
    return sent


@pytest.fixture
def history(app, coordinator, family, conversation):
    """Three messages past the 730 days (two with files), and two within them (one with a file)."""
    conversation.messages[0].created_at = utcnow() - timedelta(days=900)
    old = [
        message(
            coordinator,
            conversation,
            "Her old medication list",
            days_old=800,
            uploads=[upload(files.pdf(), "list.pdf")],
        ),
        message(
            family,
            conversation,
            "",
            days_old=740,
            uploads=[upload(files.jpeg(), "a.jpg"), upload(files.png(), "b.png")],
        ),
    ]
    recent = [
        message(coordinator, conversation, "Running ten minutes late", days_old=700),
        message(family, conversation, "She naps at two", days_old=1, uploads=[upload(files.png(), "nap.png")]),
    ]
    db.session.commit()
    return [conversation.messages[0], *old], recent


def stored(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_cutoff_is_the_retention_period_ago(app, monkeypatch):
    now = utcnow()
    assert retention.retention_cutoff(now) == now - timedelta(days=730)
    monkeypatch.setitem(app.config, "MESSAGE_RETENTION_DAYS", 30)
    assert retention.retention_cutoff(now) == now - timedelta(days=30)


def test_a_dry_run_counts_and_changes_nothing(history, folder):
    old, recent = history
    before = stored(folder)

    counts = retention.purge_messages(retention.retention_cutoff(), dry_run=True)
    db.session.commit()

    old_files = [a for m in old for a in m.attachments]
    assert (counts.messages, counts.files, counts.bytes) == (3, 3, sum(a.size_bytes for a in old_files))
    db.session.expire_all()
    assert all(m.purged_at is None and m.body is not None for m in old)
    assert stored(folder) == before
    assert audit_rows("message.purge") == []


def test_a_run_removes_old_text_and_files_and_keeps_the_recent(history, folder):
    old, recent = history
    old_files = [a for m in old for a in m.attachments]
    old_keys = {a.storage_key for a in old_files}
    batches = []

    counts = retention.purge_messages(
        retention.retention_cutoff(), dry_run=False, batch_size=2, after_batch=batches.append
    )
    assert old_keys <= set(stored(folder))  # files go only once the change is committed
    db.session.commit()

    assert (counts.messages, counts.files) == (3, 3)
    assert [b.messages for b in batches] == [2, 1]
    db.session.expire_all()
    for purged in old:
        assert purged.body is None
        assert purged.purged_at is not None
        assert purged.sender_id is not None  # it keeps its place in the thread
    for attachment in old_files:
        assert attachment.purged_at is not None
        assert attachment.filename == ""
        assert attachment.sha256 == ""
    assert not old_keys & set(stored(folder))
    assert [m.body for m in recent] == ["Running ten minutes late", "She naps at two"]
    assert stored(folder) == [recent[1].attachments[0].storage_key]
    assert attachments.read(recent[1].attachments[0]) == files.png()


def test_one_audit_row_a_run_with_its_counts(history):
    old, _ = history
    size = sum(a.size_bytes for m in old for a in m.attachments)

    retention.purge_messages(retention.retention_cutoff(), dry_run=False, batch_size=1)

    (row,) = audit_rows("message.purge")
    assert row.meta["messages"] == 3
    assert row.meta["files"] == 3
    assert row.meta["bytes"] == size
    assert row.meta["conversations"] == 1
    assert "3 message(s) and 3 file(s)" in row.summary
    assert "medication" not in row.summary.lower()


def test_a_second_run_finds_nothing_more(history, folder):
    retention.purge_messages(retention.retention_cutoff(), dry_run=False)
    db.session.commit()
    left = stored(folder)

    again = retention.purge_messages(retention.retention_cutoff(), dry_run=False)
    db.session.commit()

    assert (again.messages, again.files, again.bytes) == (0, 0, 0)
    assert stored(folder) == left
    assert [row.meta["messages"] for row in audit_rows("message.purge")] == [3, 0]
    assert retention.pending(retention.retention_cutoff()).messages == 0


def test_a_purge_rolled_back_keeps_the_files(history, folder):
    before = stored(folder)
    retention.purge_messages(retention.retention_cutoff(), dry_run=False)
    db.session.rollback()

    assert stored(folder) == before
    assert db.session.scalar(select(Message).where(Message.purged_at.is_not(None))) is None


def test_the_participants_open_threads_are_told_to_refetch(history, coordinator, family, monkeypatch):
    published = []
    monkeypatch.setattr(retention.realtime, "publish_after_commit", lambda event, **kw: published.append((event, kw)))
    retention.purge_messages(retention.retention_cutoff(), dry_run=False)
    ((event, kw),) = published
    assert event == "message"
    assert sorted(kw["user_ids"]) == sorted([coordinator.id, family.id])
    assert kw["conversation_id"] == history[0][0].conversation_id


def test_a_removed_file_says_so_and_links_nowhere(app, history, family):
    old, recent = history
    retention.purge_messages(retention.retention_cutoff(), dry_run=False)
    db.session.commit()
    db.session.expire_all()
    with app.test_request_context():
        login_user(family)
        removed = render_template("messaging/_attachments.html", message=old[2])
        kept = render_template("messaging/_attachments.html", message=recent[1])
    assert removed.count("A file, removed under the retention policy") == 2
    assert "/attachments/" not in removed
    assert "a.jpg" not in removed
    assert "nap.png" in kept
    assert kept.count("/attachments/") == 2


def test_a_removed_file_can_no_longer_be_downloaded(app, history, family):
    old, _ = history
    attachment = old[1].attachments[0]
    assert services.get_attachment_for(family, attachment.id) == attachment
    retention.purge_messages(retention.retention_cutoff(), dry_run=False)
    db.session.commit()
    assert services.get_attachment_for(family, attachment.id) is None
    assert db.session.get(Attachment, attachment.id) is not None


# --- The command ----------------------------------------------------------------------------------


def test_the_command_dry_run_prints_what_it_would_remove(app, history, folder):
    before = stored(folder)
    result = app.test_cli_runner().invoke(args=["purge-messages", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "Would remove 3 messages and 3 files" in result.output
    assert "Nothing was changed." in result.output
    assert stored(folder) == before
    assert audit_rows("message.purge") == []


def test_the_command_removes_and_prints_its_counts_then_nothing(app, history, folder):
    result = app.test_cli_runner().invoke(args=["purge-messages"])
    assert result.exit_code == 0, result.output
    assert "Removed 3 messages and 3 files" in result.output
    assert len(stored(folder)) == 1

    again = app.test_cli_runner().invoke(args=["purge-messages"])
    assert "Removed 0 messages and 0 files (0.0 MB)" in again.output
    assert len(audit_rows("message.purge")) == 2
