"""The role the app connects as in production: its normal work goes on, but it can only add to and read the log.

On a scratch database migrated by its owner (the suite's superuser), `flask audit app-role` makes the role; then
an app connected as that role does what the app does, and what an attacker holding the app's database
credentials would try on the log is refused, disabling the triggers included.
"""

import secrets

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from respite import audit, create_app
from respite.extensions import db
from respite.models import AuditLog, User
from tests import factories
from tests.helpers import ON_POSTGRES, app_on_scratch_database, needs_postgres, server_url, sign_in

REFUSED_TO_THE_APP = [
    "UPDATE audit_log SET summary = 'rewritten'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
    "ALTER TABLE audit_log DISABLE TRIGGER USER",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
    "DROP TRIGGER audit_log_append_only ON audit_log",
    "DROP TABLE audit_log",
    "SELECT id FROM audit_log FOR UPDATE",
    "CREATE TRIGGER sneaky AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
]


@pytest.fixture
def role_name():
    """A role of the test's own (roles belong to the whole server), dropped afterwards."""
    name = f"respite_app_{secrets.token_hex(4)}"
    yield name
    admin = server_url().set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture
def owner_app(app, tmp_path, role_name):
    """The scratch database's owner; its database goes before the role does (it holds the role's privileges)."""
    with app_on_scratch_database(app, tmp_path, "approle", migrate=True, RATELIMIT_STORAGE_URI="memory://") as owner:
        yield owner


def _app_connected_as(owner, role, tmp_path):
    url = make_url(owner.config["SQLALCHEMY_DATABASE_URI"]).set(username=role, password=None)
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "REDIS_URL": owner.config["REDIS_URL"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "AUDIT_CHECKPOINT_MINUTES": 0,
        },
        instance_path=str(tmp_path / "app-role-instance"),
    )


def _refused(statement):
    with pytest.raises(ProgrammingError) as refused:
        db.session.execute(text(statement))
    db.session.rollback()
    return refused.value.orig


@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.committing
def test_the_app_role_does_its_work_but_may_only_add_to_and_read_the_log(owner_app, role_name, tmp_path):
    assert audit.may_rewrite_the_log()  # the owner could: that is why the app must not connect as it
    result = owner_app.test_cli_runner().invoke(args=["audit", "app-role", role_name])
    assert result.exit_code == 0, result.output
    assert f"Role {role_name} created" in result.stdout

    role_app = _app_connected_as(owner_app, role_name, tmp_path)
    with role_app.app_context():
        try:
            assert db.session.scalar(text("SELECT current_user")) == role_name
            assert not audit.may_rewrite_the_log()

            # The app's normal work: people, a sign-in (audited), a session with its provider, a change of a row.
            caregiver = factories.CaregiverProfileFactory()
            db.session.commit()
            sign_in(role_app.test_client(), caregiver.user)
            recipient = factories.CareRecipientFactory(caregiver=caregiver)
            assignment = factories.AssignmentFactory(session=factories.RespiteSessionFactory(recipient=recipient))
            audit.record("session.assign", assignment.session, actor=caregiver.user)
            db.session.commit()
            caregiver.user.display_name = "Renamed"
            db.session.commit()
            assert db.session.get(User, caregiver.user.id).last_login_at is not None
            assert db.session.scalar(text("SELECT count(*) FROM audit_log")) == 2
            assert audit.verify_chain() == (2, None)
            checkpoint_result = role_app.test_cli_runner().invoke(args=["audit", "checkpoint"])
            assert checkpoint_result.exit_code == 0

            # What the app's credentials can't do to the log.
            for statement in REFUSED_TO_THE_APP:
                error = _refused(statement)
                assert isinstance(error, psycopg.errors.InsufficientPrivilege), (statement, error)
            assert db.session.scalar(text("SELECT count(*) FROM audit_log")) == 2
            assert role_app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.committing
def test_tables_a_later_migration_adds_are_the_app_roles_too(owner_app, role_name, tmp_path):
    owner_app.test_cli_runner().invoke(args=["audit", "app-role", role_name])
    db.session.execute(text("CREATE TABLE added_later (id serial PRIMARY KEY, note text)"))
    db.session.commit()

    role_app = _app_connected_as(owner_app, role_name, tmp_path)
    with role_app.app_context():
        try:
            db.session.execute(text("INSERT INTO added_later (note) VALUES ('fine')"))
            db.session.execute(text("UPDATE added_later SET note = 'still fine'"))
            db.session.commit()
            assert db.session.scalar(text("SELECT note FROM added_later")) == "still fine"
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.committing
def test_running_app_role_again_changes_nothing_and_keeps_the_log_closed(owner_app, role_name, tmp_path):
    runner = owner_app.test_cli_runner()
    runner.invoke(args=["audit", "app-role", role_name])

    again = runner.invoke(args=["audit", "app-role", role_name])

    assert again.exit_code == 0
    assert "created" not in again.stdout
    privileges = db.session.scalars(
        text(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = :role AND table_name = 'audit_log' ORDER BY privilege_type"
        ),
        {"role": role_name},
    ).all()
    assert privileges == ["INSERT", "SELECT"]


@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.committing
@pytest.mark.parametrize("who", ["the owner", "a member of the owner's role"])
def test_app_role_refuses_a_role_that_could_disable_the_triggers(owner_app, role_name, who):
    owner = db.session.scalar(text("SELECT current_user"))
    role = owner
    if who != "the owner":
        db.session.execute(text(f'CREATE ROLE "{role_name}" LOGIN IN ROLE "{owner}"'))
        db.session.commit()
        role = role_name

    result = owner_app.test_cli_runner().invoke(args=["audit", "app-role", role])

    assert result.exit_code == 1
    assert "owns the tables, belongs to their owner's role or is a superuser" in result.stderr
    granted = db.session.scalar(
        text("SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = :role"), {"role": role_name}
    )
    assert granted == 0


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite only (the PostgreSQL pass makes the role)")
def test_app_role_needs_postgresql(runner):
    result = runner.invoke(args=["audit", "app-role", "respite_app"])

    assert result.exit_code == 1
    assert "Database roles need PostgreSQL" in result.stderr
    assert not audit.may_rewrite_the_log()
    assert db.session.query(AuditLog).count() == 0
