"""How the app talks to its database beyond SQLAlchemy's defaults: SQLite's set-up, and `write_lock()`.

A rule such as "a person never has two overlapping active sessions" is a
check followed by an insert. On PostgreSQL an exclusion constraint keeps it,
whatever runs at the same time. SQLite has no such constraint, and its
default (deferred) transaction reads first and becomes a writer only at its
first write, so two requests could both pass the check and both insert; and
in WAL mode a reader whose snapshot is older than another writer's commit
can't become a writer at all ("database is locked"). So a view that checks
then writes calls `write_lock()` before the service: on SQLite the request's
transaction then begins with BEGIN IMMEDIATE, which takes the one write lock
up front (waiting for it up to the busy timeout), so the check and the
insert see and hold the latest state. On PostgreSQL it does nothing.

This module must not commit: it only decides how the next transaction begins.
"""

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from .extensions import db

# The execution option that makes the engine's "begin" listener say BEGIN IMMEDIATE.
BEGIN_IMMEDIATE = "respite_begin_immediate"
# How long a SQLite connection waits for a lock (the write lock of BEGIN IMMEDIATE too) before giving up.
SQLITE_BUSY_TIMEOUT_MS = 5000


class DatabaseBusy(Exception):
    """The write lock could not be had in time (SQLite, many writers at once); safe to retry."""


def configure_sqlite(engine: Engine) -> None:
    """Foreign keys, WAL and a busy timeout on each SQLite connection; transactions begun by us."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions
        # begin, so that savepoints and transactional DDL work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(BEGIN_IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def write_lock() -> None:
    """Make the rest of this request one writing transaction that holds SQLite's write lock from its start.

    Call it in a view before the service that checks and then writes, and
    before anything is changed: on SQLite it ends the transaction the request
    has read in so far (rolling back nothing but reads; loaded objects are
    expired and reload) and begins the next one with BEGIN IMMEDIATE, waiting
    while another request holds the lock. DatabaseBusy when the wait times out.
    Inside a transaction someone else began (a savepoint, as in the tests'
    rolled-back transaction), how it began is theirs to decide: nothing to do.
    On PostgreSQL nothing to do either: its constraints hold under concurrency.
    """
    session = db.session()  # the request's Session itself, not its scoped proxy
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("write_lock() must come before any change in the request")
    if session.in_transaction():
        if session.connection().in_nested_transaction():
            return
        session.rollback()
    try:
        session.connection(execution_options={BEGIN_IMMEDIATE: True})
    except OperationalError as error:
        session.rollback()
        raise DatabaseBusy("The database is busy; please try again.") from error
