"""Helpers the tests share: signing in, reading a form's errors, the audit rows, the test databases.

Import them from here (`from tests.helpers import sign_in`), never from conftest.py.
"""

import email
import email.policy
import html
import os
import re
import secrets
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import URL, make_url

from respite.extensions import db
from respite.models import AuditLog

from .factories import TEST_PASSWORD

__all__ = [
    "ON_POSTGRES",
    "TEST_PASSWORD",
    "assert_statement_budget",
    "audit_rows",
    "app_on_scratch_database",
    "counted_statements",
    "create_scratch_database",
    "field_error",
    "needs_postgres",
    "server_url",
    "sign_in",
]


def server_url() -> URL | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return make_url(url.replace("postgresql://", "postgresql+psycopg://", 1)) if url else None


def create_scratch_database(prefix="respite_test"):
    """Create an empty PostgreSQL database on the test server; return (url, drop)."""
    server = server_url()
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return server.set(database=name).render_as_string(hide_password=False), drop


def sign_in(client, user, password=TEST_PASSWORD):
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


ON_POSTGRES = server_url() is not None
# Use together with @pytest.mark.postgres_only: the test runs in the PostgreSQL pass only.
needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (set TEST_DATABASE_URL)")


def field_error(response, field_id):
    """The message shown beside a form field (its `.field-error` paragraph), or None."""
    match = re.search(
        rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', response.get_data(as_text=True), re.S
    )
    return html.unescape(match.group(1)) if match else None


def audit_rows(action=None):
    """Audit rows in order, optionally only those with `action`."""
    query = select(AuditLog).order_by(AuditLog.id)
    if action is not None:
        query = query.where(AuditLog.action == action)
    return db.session.scalars(query).all()


@contextmanager
def counted_statements():
    """The SQL statements run inside the block (savepoints of the test's own transaction left out)."""
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


# A full page (not a live region) also reads the navigation's badges: unread messages and notices, one statement.
NAV = 1


def page_nav(headers) -> int:
    """The navigation's statement, for a full page: none for a region (an htmx request)."""
    return 0 if headers else NAV


def assert_statement_budget(client, path, add_rows: Callable[[int], None], budget, *, headers=None, small=1, large=50):
    """GET `path` with `small` and then `large` rows made by `add_rows(n)`: the same number of statements, `budget`."""
    counts = []
    for rows in (small, large):
        add_rows(rows if not counts else rows - small)
        db.session.flush()
        db.session.expire_all()  # nothing cached from the setup: the page loads what it shows
        with counted_statements() as statements:
            response = client.get(path, headers=headers or {})
        assert response.status_code == 200, response.status_code
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{path} issues more statements with more rows: {counts}"
    assert counts[0] == budget, f"{path}: {counts[0]} statements, budget {budget}\n" + "\n".join(statements)


@contextmanager
def app_on_scratch_database(app, tmp_path, name, *, migrate=False, **config):
    """A second app, in its own app context, on an empty database of its own (never the shared test
    database): a scratch PostgreSQL database when the suite runs on PostgreSQL, else a SQLite file.
    Commits there are real; the database is dropped afterwards. It shares the suite's Redis."""
    from flask_migrate import upgrade

    from respite import create_app

    if ON_POSTGRES:
        url, drop = create_scratch_database(f"respite_{name}")
    else:
        url, drop = f"sqlite:///{tmp_path / f'{name}.sqlite3'}", None
    try:
        scratch = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": url,
                "REDIS_URL": app.config["REDIS_URL"],
                "WTF_CSRF_ENABLED": False,
                **config,
            },
            instance_path=str(tmp_path / "instance"),
        )
        with scratch.app_context():
            assert db.engine.url.database != make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
            if migrate:
                upgrade()
            try:
                yield scratch
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        if drop:
            drop()


def sent_mail(app, to=None):
    """The messages the app has sent (written to its instance folder without MAIL_SERVER), oldest first."""
    folder = Path(app.instance_path) / "mail"
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"), key=lambda p: int(p.stem))
    ]
    return [m for m in messages if to is None or m["To"] == to]


def mailed_link(app, to):
    """The path of the link in the newest message to `to` (the app's own address taken off)."""
    (*_, newest) = sent_mail(app, to)
    url = re.search(r"https?://\S+", newest.get_content()).group(0)
    return "/" + url.split("/", 3)[3]


def lock_out(app, user, address="203.0.113.7"):
    """Spend every failed sign-in `user`'s account may have from `address`, as repeated failures there would:
    the throttling (respite.accounts.views) now holds the account back."""
    from limits import parse_many

    from respite.extensions import limiter

    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    for item in parse_many(app.config["SIGN_IN_FAILURE_LIMIT"]):
        limiter.limiter.hit(item, prefix, f"{address}|{user.email.lower()}", "accounts.login", cost=item.amount)
