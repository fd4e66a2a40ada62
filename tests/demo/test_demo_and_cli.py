"""Demo data for a first run, and the command-line tasks `flask seed-demo` and `flask audit verify`."""

import re

import pytest
from sqlalchemy import func, select, text

from respite import audit
from respite.demo import ACCOUNTS, DEMO_PASSWORD, DEMO_STAFF_PIN, demo_accounts, seed_demo
from respite.extensions import db
from respite.messaging import attachments
from respite.models import ALL_MODELS, Attachment, Conversation, Message, RespiteSession, User
from tests import factories
from tests.audit.test_audit import _drop_append_only_triggers
from tests.helpers import sign_in

DASHBOARDS = {"caregiver": "/caregiver", "provider": "/provider", "coordinator": "/coordinator", "kiosk": "/kiosk"}


def _counts():
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in ALL_MODELS}


@pytest.fixture
def demo():
    created, accounts, front_desk = seed_demo()
    assert created
    assert front_desk.staff_pin == DEMO_STAFF_PIN
    return accounts


# --- seed_demo() -------------------------------------------------------------------------


def test_demo_creates_every_account_once(demo):
    assert demo == demo_accounts()
    emails = db.session.scalars(select(User.email)).all()
    assert sorted(emails) == sorted(email for _, email, _ in ACCOUNTS)


def test_demo_is_idempotent(demo):
    before = _counts()

    created, accounts, front_desk = seed_demo()

    assert not created
    assert accounts == demo
    assert front_desk is None
    assert _counts() == before


def test_demo_has_sessions_in_several_states_and_a_conversation(demo):
    statuses = set(db.session.scalars(select(RespiteSession.status)))
    assert {"requested", "confirmed", "checked_in", "completed", "cancelled"} <= statuses
    conversation = db.session.scalar(select(Conversation))
    assert len(conversation.participants) == 2
    assert db.session.scalar(select(func.count()).select_from(Message)) == 3
    photo = db.session.scalar(select(Attachment))
    assert photo.message.conversation == conversation
    assert attachments.read(photo).startswith(b"\x89PNG")  # stored encrypted, read back whole
    # Four people added with a care card each, the kiosk's pairing code, and the load itself; the chain holds.
    assert audit.verify_chain() == (10, None)


@pytest.mark.parametrize(("role", "email"), demo_accounts())
def test_every_demo_account_signs_in_to_its_dashboard(app, demo, role, email):
    client = app.test_client()
    sign_in(client, db.session.scalar(select(User).where(User.email == email)), DEMO_PASSWORD)

    response = client.get("/", follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == DASHBOARDS[role]


def test_the_demo_kiosk_pairs_with_its_code_and_has_someone_in_every_column(app):
    _, _, front_desk = seed_demo()
    db.session.commit()
    tablet = app.test_client()

    assert tablet.post("/kiosk/pair", data={"code": front_desk.pairing_code}).status_code == 302
    text_ = tablet.get("/kiosk").get_data(as_text=True)

    expected, here, gone = re.split(r'<h2 id="(?:here|gone)-heading">', text_.split('<h2 id="expected-heading">')[1])
    assert "Samir H." in expected
    assert "Lily C." in here
    assert "Huda H." in gone
    assert "Chen" not in text_
    assert "Haddad" not in text_


# --- flask seed-demo -----------------------------------------------------------------------


def test_seed_demo_command_prints_each_sign_in(app, runner):
    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0
    assert "Demo data created." in result.output
    sign_in_lines = [line.split() for line in result.output.splitlines() if "@demo.respite.test" in line]
    assert sign_in_lines == [[role, email, DEMO_PASSWORD] for role, email in demo_accounts()]
    assert db.session.scalar(select(func.count()).select_from(User)) == len(ACCOUNTS)
    # The kiosk is no one's sign-in: a pairing code, and the staff PIN.
    code = re.search(r"kiosk +pair at /kiosk with +([A-Z0-9]{4}-[A-Z0-9]{4})", result.output).group(1)
    assert f"staff PIN    {DEMO_STAFF_PIN}" in result.output
    assert app.test_client().post("/kiosk/pair", data={"code": code}).status_code == 302


def test_seed_demo_command_a_second_time_changes_nothing(runner):
    runner.invoke(args=["seed-demo"])
    before = _counts()

    result = runner.invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0
    assert "Demo data already present." in result.output
    assert "coordinator@demo.respite.test" in result.output
    assert "a code from the coordinator's Kiosks page" in result.output
    assert _counts() == before


def test_seed_demo_if_empty_loads_into_an_empty_database(runner):
    result = runner.invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0
    assert "Demo data created." in result.output


def test_seed_demo_if_empty_leaves_a_real_database_alone(runner):
    factories.UserFactory(email="real.person@example.com")

    result = runner.invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0
    assert "The database has accounts of its own: no demo data loaded." in result.output
    assert DEMO_PASSWORD not in result.output
    assert db.session.scalars(select(User.email)).all() == ["real.person@example.com"]


# --- flask audit verify ------------------------------------------------------------------------


def test_audit_verify_passes_an_intact_log(runner):
    for n in range(3):
        audit.record(f"test.event{n}")

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 0
    assert "Audit chain intact: 3 rows." in result.output


def test_audit_verify_fails_on_a_broken_log(runner, dialect):
    rows = [audit.record(f"test.event{n}") for n in range(3)]
    _drop_append_only_triggers(dialect)
    db.session.execute(text("UPDATE audit_log SET action = 'test.harmless' WHERE id = :id"), {"id": rows[1].id})

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 1
    assert f"Audit chain broken at row {rows[1].id} (after 1 good rows)." in result.stderr
    assert "intact" not in result.output


def test_seed_demo_is_refused_in_production(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "refused in production" in result.output
    assert db.session.scalar(select(User.id).where(User.email == ACCOUNTS[0][1])) is None
