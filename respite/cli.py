"""Command-line tasks: `flask seed-demo`, `flask send-reminders`, `flask purge-messages` and `flask audit
verify|checkpoint|app-role`. Each command is an entry point: it commits once (purge-messages once a batch)."""

from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from . import audit
from .database import DatabaseBusy, write_lock
from .demo import ACCOUNTS as DEMO_ACCOUNTS
from .demo import DEMO_PASSWORD, DEMO_STAFF_PIN, seed_demo
from .demo import kiosk as demo_kiosk
from .extensions import db
from .messaging import retention
from .models import User
from .notices import services as notices


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only when the database has no accounts at all.")
    def seed_demo_command(if_empty: bool) -> None:
        """Create demo accounts and data (once) and print the demo sign-ins. Refused in production."""
        if app.config["PRODUCTION"]:
            # The demo password is published in the README: never on a real program.
            click.echo("seed-demo is refused in production (RESPITE_ENV=production).", err=True)
            raise SystemExit(1)
        if if_empty and db.session.scalar(select(func.count()).select_from(User)):
            if not db.session.scalar(select(User.id).where(User.email == DEMO_ACCOUNTS[0][1])):
                click.echo("The database has accounts of its own: no demo data loaded.")
                return
        created, accounts, front_desk = seed_demo()
        db.session.commit()
        click.echo("Demo data created." if created else "Demo data already present.")
        click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for role, email in accounts:
            click.echo(f"  {role:<12} {email:<36} {DEMO_PASSWORD}")
        # The kiosk tablet is no one's sign-in: it is paired at /kiosk with a one-time code.
        if front_desk is not None:
            click.echo(
                f"  {'kiosk':<12} {'pair at /kiosk with':<36} {front_desk.pairing_code}"
                f"  (once, within {demo_kiosk.PAIRING_HOURS} hours; {front_desk.center})"
            )
        else:
            click.echo(f"  {'kiosk':<12} pair at /kiosk with a code from the coordinator's Kiosks page")
        click.echo(f"  {'staff PIN':<12} {DEMO_STAFF_PIN} (at the kiosk, for someone not on a family's list)")

    @app.cli.command("send-reminders")
    def send_reminders_command() -> None:
        """Remind the family and the provider of each confirmed session starting within REMINDER_HOURS, once.

        For cron, every few minutes: a session already reminded of is skipped, and two runs at once send each
        reminder once (each claims a session before telling anyone).
        """
        try:
            write_lock()  # SQLite: one writer from the start, so two runs queue instead of failing
        except DatabaseBusy:
            click.echo("The database is busy; no reminders sent. The next run sends them.", err=True)
            raise SystemExit(1) from None
        count = notices.send_reminders()
        db.session.commit()
        hours = app.config["REMINDER_HOURS"]
        click.echo(f"Reminders sent for {count} session{'' if count == 1 else 's'} (starting within {hours:g} hours).")

    @app.cli.command("purge-messages")
    @click.option("--dry-run", is_flag=True, help="Only count what would be removed; change nothing.")
    def purge_messages_command(dry_run: bool) -> None:
        """Remove the text and files of messages older than MESSAGE_RETENTION_DAYS (the retention policy).

        For cron, daily: what was removed is not counted again. Commits after each batch of messages; one
        audit row records the run's counts.
        """
        older_than = retention.retention_cutoff()
        due = retention.pending(older_than)
        if dry_run:
            click.echo(f"Would remove {_purge_counts(due)} older than {older_than:%Y-%m-%d}. Nothing was changed.")
            return
        try:
            write_lock()
        except DatabaseBusy:
            click.echo("The database is busy; nothing removed. The next run removes it.", err=True)
            raise SystemExit(1) from None
        with click.progressbar(length=due.messages, label="Removing messages") as bar:

            def committed(batch: retention.PurgeCounts) -> None:
                db.session.commit()
                bar.update(batch.messages)
                write_lock()

            removed = retention.purge_messages(older_than, dry_run=False, after_batch=committed)
            db.session.commit()
        click.echo(f"Removed {_purge_counts(removed)} older than {older_than:%Y-%m-%d}.")

    @app.cli.group("audit")
    def audit_group() -> None:
        """Audit trail tools."""

    @audit_group.command("verify")
    @click.option(
        "--checkpoints",
        "checkpoints_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The checkpoints to check against (default: AUDIT_CHECKPOINT_FILE); a copy of the app's log will do.",
    )
    def verify_command(checkpoints_path: Path | None) -> None:
        """Check the audit log's keyed hash chain and its checkpoints; exit 1 if rows were altered, rewritten or cut."""
        path = checkpoints_path or audit.checkpoint_file()
        checkpoints = audit.read_checkpoints(path)
        result = audit.verify(checkpoints)
        if result.broken_at is not None:
            click.echo(f"Audit chain broken at row {result.broken_at} (after {result.rows} good rows).", err=True)
            raise SystemExit(1)
        if result.failed_checkpoint is not None:
            click.echo(_checkpoint_failure(result.failed_checkpoint, result.row_missing, path), err=True)
            raise SystemExit(1)
        click.echo(f"Audit chain intact: {result.rows} rows.")
        if checkpoints:
            newest = max(checkpoints, key=lambda c: c.row_id)
            click.echo(
                f"It passes through all {len(checkpoints)} checkpoints in {path}, "
                f"the newest of {newest.taken_at:%Y-%m-%d %H:%M} UTC at row {newest.row_id}."
            )
        else:
            click.echo(
                f"No checkpoint in {path}: rows cut from the end would go unnoticed (see `flask audit checkpoint`).",
                err=True,
            )
        if audit.may_rewrite_the_log():
            click.echo(
                "This database user may change or empty audit_log (it owns it or holds UPDATE, DELETE or TRUNCATE): "
                "connect the app as a role made by `flask audit app-role` (docs/database-roles.md).",
                err=True,
            )

    @audit_group.command("checkpoint")
    @click.option(
        "--checkpoints",
        "checkpoints_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The file to append to (default: AUDIT_CHECKPOINT_FILE).",
    )
    def checkpoint_command(checkpoints_path: Path | None) -> None:
        """Append the newest row's id and hash to the checkpoint file and the log (if all is well since the last)."""
        path = checkpoints_path or audit.checkpoint_file()
        previous = max(audit.read_checkpoints(path), key=lambda c: c.row_id, default=None)
        result = audit.verify([previous] if previous else [], since=previous)
        if result.broken_at is not None:
            click.echo(f"Not checkpointed: audit chain broken at row {result.broken_at}.", err=True)
            raise SystemExit(1)
        if result.failed_checkpoint is not None:
            message = _checkpoint_failure(result.failed_checkpoint, result.row_missing, path)
            click.echo(f"Not checkpointed. {message}", err=True)
            raise SystemExit(1)
        checkpoint = audit.newest_row()
        if checkpoint is None:
            click.echo("The audit log is empty: nothing to checkpoint.")
            return
        audit.write_checkpoint(checkpoint, path)
        click.echo(checkpoint.line())

    @audit_group.command("app-role")
    @click.argument("role")
    def app_role_command(role: str) -> None:
        """Set up ROLE, the PostgreSQL role the app connects as: it may only add to and read the audit log.

        Run as the owner of the tables (the user migrations run as), and again after each upgrade.
        """
        try:
            created = audit.grant_app_role(role)
        except audit.AppRoleError as refused:
            click.echo(str(refused), err=True)
            raise SystemExit(1) from None
        db.session.commit()
        if created:
            click.echo(f"Role {role} created (LOGIN, no password yet: set one with psql's \\password {role}).")
        click.echo(
            f"{role} may read and write the app's tables, and only INSERT into and SELECT from audit_log. "  # nosec B608  # words for the operator, not SQL
            "Connect the app as it; run migrations and this command as the owner."
        )


def _checkpoint_failure(checkpoint: audit.Checkpoint, row_missing: bool, path: Path) -> str:
    what = "is gone: rows were cut from the log" if row_missing else "has another hash: rows were rewritten or cut"
    return (
        f"Audit log does not match its checkpoint of {checkpoint.taken_at:%Y-%m-%d %H:%M} UTC in {path}: "
        f"row {checkpoint.row_id} {what}."
    )


def _purge_counts(counts: retention.PurgeCounts) -> str:
    megabytes = counts.bytes / (1024 * 1024)
    return (
        f"{counts.messages} message{'' if counts.messages == 1 else 's'} and "
        f"{counts.files} file{'' if counts.files == 1 else 's'} ({megabytes:.1f} MB)"
    )
