"""The migrations build the whole schema, take it down again, and build it again, on a database of their own."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from respite.extensions import db
from tests.helpers import app_on_scratch_database

TRIGGERS = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger'",
    "postgresql": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
}
EXPECTED_TRIGGERS = {
    "sqlite": {"audit_log_no_update", "audit_log_no_delete"},
    "postgresql": {"audit_log_append_only", "audit_log_no_truncate"},
}


@pytest.fixture
def scratch_app(app, tmp_path):
    """A second app on an empty database of its own (never the shared test database)."""
    with app_on_scratch_database(app, tmp_path, "migrations") as scratch:
        yield scratch


def _tables():
    return set(inspect(db.engine).get_table_names())


def _triggers():
    with db.engine.connect() as connection:
        return set(connection.scalars(text(TRIGGERS[db.engine.dialect.name])))


def _schema_differences():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


@pytest.mark.committing
def test_upgrade_downgrade_and_upgrade_again(scratch_app):
    dialect = db.engine.dialect.name
    model_tables = set(db.metadata.tables)
    assert _tables() == set()

    upgrade()
    assert _tables() == model_tables | {"alembic_version"}
    assert _triggers() >= EXPECTED_TRIGGERS[dialect]
    assert _schema_differences() == []

    downgrade(revision="base")
    assert _tables() == {"alembic_version"}
    assert _triggers() & EXPECTED_TRIGGERS[dialect] == set()

    upgrade()
    assert _tables() == model_tables | {"alembic_version"}
    assert _triggers() >= EXPECTED_TRIGGERS[dialect]
    with db.engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == _head()


def _head():
    """The newest revision: the one whose file sorts last (revisions are numbered)."""
    versions = Path(__file__).parents[2] / "migrations" / "versions"
    return max(path.name for path in versions.glob("[0-9]*.py"))[:4]
