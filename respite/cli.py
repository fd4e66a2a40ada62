"""Command-line tasks: `flask seed-demo` and `flask audit verify`. Each command is an entry point: it commits once."""

import click
from flask import Flask
from sqlalchemy import func, select

from . import audit
from .demo import ACCOUNTS as DEMO_ACCOUNTS
from .demo import DEMO_PASSWORD, seed_demo
from .extensions import db
from .models import User


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
        created, accounts = seed_demo()
        db.session.commit()
        click.echo("Demo data created." if created else "Demo data already present.")
        click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for role, email in accounts:
            click.echo(f"  {role:<12} {email:<36} {DEMO_PASSWORD}")

    @app.cli.group("audit")
    def audit_group() -> None:
        """Audit trail tools."""

    @audit_group.command("verify")
    def verify_command() -> None:
        """Check the audit log's hash chain; exit 1 if a row was altered or removed."""
        checked, bad_id = audit.verify_chain()
        if bad_id is not None:
            click.echo(f"Audit chain broken at row {bad_id} (after {checked} good rows).", err=True)
            raise SystemExit(1)
        click.echo(f"Audit chain intact: {checked} rows.")
