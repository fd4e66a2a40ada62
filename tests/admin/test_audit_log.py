"""The audit log, for people: every row a sentence in the reader's zone with a link to what it is about,
filters in plain words, pages, a CSV download that is itself audited, and the chain's state.

Sentences are checked on their own (every action the code records has wording, and each reads as
expected) and on the page; filters, paging and the download through HTTP, as a coordinator uses them.
"""

import ast
import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from markupsafe import escape
from sqlalchemy import text

from respite import audit
from respite.admin import auditlog, wording
from respite.extensions import db
from respite.models import AuditLog, Conversation, Participant, utcnow
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, counted_statements, field_error

ROOT = Path(__file__).resolve().parents[2]
CHICAGO = ZoneInfo("America/Chicago")
# Tue 1 Dec 2026, 09:00 in Chicago; read as if "today" were in the same year, so the year is left out.
SESSION_START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)
REGION = {"HX-Request": "true"}


@pytest.fixture
def coordinator():
    return factories.UserFactory(role="coordinator", display_name="Dana Whitfield", timezone="America/Chicago")


@pytest.fixture(autouse=True)
def checkpoint_file(app, tmp_path, monkeypatch):
    """A checkpoint file of this test's own (none until a test writes one)."""
    path = tmp_path / "audit-checkpoints.log"
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_FILE", str(path))
    return path


class World:
    """Dana (the coordinator reading), Rosa's family with Elena, her session on Tue 1 Dec at 09:00 in
    Chicago, Marcus and Aisha (providers) at Maple House."""

    def __init__(self, dana):
        self.dana = dana
        self.center = factories.CenterFactory(name="Maple House")
        self.family = factories.CaregiverProfileFactory(full_name="Rosa Martinez", user__display_name="Rosa Martinez")
        self.rosa = self.family.user
        self.elena = factories.CareRecipientFactory(caregiver=self.family, first_name="Elena", last_name="Martinez")
        self.session = factories.RespiteSessionFactory(
            recipient=self.elena,
            center=self.center,
            starts_at=SESSION_START,
            ends_at=SESSION_START + timedelta(hours=3),
        )
        self.marcus_profile = factories.ProviderProfileFactory(user__display_name="Marcus Bell", center=self.center)
        self.marcus = self.marcus_profile.user
        self.aisha_profile = factories.ProviderProfileFactory(user__display_name="Aisha Rahman", center=self.center)
        self.aisha = self.aisha_profile.user


@pytest.fixture
def world(coordinator):
    return World(coordinator)


def words(row, reader, today=TODAY):
    """The row's sentence for `reader`, read on `today` (its links are built as in a request)."""
    with current_app.test_request_context():
        subjects = wording.subjects_for([row], reader)
        return wording.sentence(row, subjects, ZoneInfo(reader.timezone), today)


def conversation_of(*users):
    conversation = Conversation(subject="About Tuesday")
    db.session.add(conversation)
    db.session.flush()
    for user in users:
        db.session.add(Participant(conversation_id=conversation.id, user_id=user.id))
    db.session.flush()
    return conversation


# --- Every action the code records has wording ------------------------------------------------------

ACTION_CODE = re.compile(r"[a-z_]+\.[a-z_]+")


def _constant(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and ACTION_CODE.fullmatch(node.value):
        return node.value
    return None


def recorded_actions():
    """Every action the code records, read from its source: the first argument of a call to a recorder
    (`audit.record`, `record_refusal`, a module's own `_record`), an `action=` argument, and the values
    assigned to a variable named `action` (recorded a line later)."""
    found = set()
    for path in sorted((ROOT / "respite").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            values = []
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if "record" in name and node.args:
                    values.append(node.args[0])
                values += [keyword.value for keyword in node.keywords if keyword.arg == "action"]
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == "action":
                        values.append(node.value)
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        values += [v for t, v in zip(target.elts, node.value.elts) if getattr(t, "id", "") == "action"]
            found |= {action for value in values if (action := _constant(value))}
    return found


def grepped_actions():
    """What `grep -rhn 'audit.record(\\|record(' respite | grep -o '"[a-z_]*\\.[a-z_.]*"'` lists."""
    found = set()
    for path in (ROOT / "respite").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "record(" in line:
                found |= set(re.findall(r'"([a-z_]*\.[a-z_.]*)"', line))
    return found


def test_the_source_scan_finds_at_least_what_grep_does_and_the_decorators_refusals():
    actions = recorded_actions()

    assert grepped_actions() <= actions
    assert {"access.denied", "access.throttled", "access.not_found", "session.assign", "visit_note.create"} <= actions


@pytest.mark.parametrize("action", sorted(recorded_actions()))
def test_every_recorded_action_has_wording_and_a_group(action):
    assert action in wording.WORDING, f"{action} is recorded but has no wording in respite/admin/wording.py"
    assert wording.WORDING[action].group in wording.GROUPS_BY_KEY


def test_every_group_in_the_filter_has_actions_but_other():
    for group in wording.ACTION_GROUPS:
        assert bool(wording.actions_in(group.key)) == (group is not wording.OTHER), group


def _entity_for(action, w, conversation):
    kind = action.split(".")[0]
    if kind in ("session", "visit_note", "handover"):
        return w.session
    if kind == "assignment":
        return factories.AssignmentFactory(session=w.session, provider=w.aisha_profile, status="offered")
    if kind == "care":
        return w.elena
    if kind == "availability":
        return factories.AvailabilityFactory(provider=w.marcus_profile)
    if kind in ("conversation", "message", "attachment"):
        return conversation
    if kind in ("center", "kiosk", "demo"):
        return w.center
    if kind in ("access", "audit", "report", "program"):
        return None
    return w.rosa


@pytest.mark.parametrize("action", sorted(wording.WORDING))
def test_every_worded_action_reads_as_a_plain_sentence(world, action):
    conversation = conversation_of(world.rosa, world.marcus)
    meta = {
        "reason": "a reason",
        "session_id": world.session.id,
        "provider_id": world.marcus_profile.id,
        "conversation_id": conversation.id,
        "center_id": world.center.id,
        "version": 2,
        "rows": 3,
    }
    row = audit.record(action, _entity_for(action, world, conversation), actor=world.dana, meta=meta)

    sentence = str(words(row, world.dana))

    assert sentence[:1].isupper(), sentence
    assert action not in sentence
    assert "None" not in sentence
    assert not re.search(r"\{|\}|  ", sentence), sentence


# --- Sentences ---------------------------------------------------------------------------------------

ELENAS_SESSION = "Elena Martinez's session on Tue 1 Dec, 09:00"


def _record(action, entity=None, **fields):
    return audit.record(action, entity, **fields)


SENTENCES = [
    ("signed in", lambda w: _record("auth.login", w.rosa, actor=w.rosa), "Rosa Martinez signed in", "rosa"),
    ("signed out", lambda w: _record("auth.logout", w.rosa, actor=w.rosa), "Rosa Martinez signed out", "rosa"),
    (
        "a failed sign-in, known account",
        lambda w: _record("auth.login_failed", w.rosa, meta={"reason": "password"}),
        "A sign-in as Rosa Martinez failed: wrong password",
        "rosa",
    ),
    (
        "a failed sign-in, unknown address",
        lambda w: _record(
            "auth.login_failed", entity_type="User", meta={"email": "nobody@example.org", "reason": "unknown"}
        ),
        "A sign-in with no***@example.org failed: no account has that address",
        None,
    ),
    (
        "a reset asked for an unknown address",
        lambda w: _record("auth.reset_requested", entity_type="User", meta={"email": "no***@example.org"}),
        "A password reset was asked for no***@example.org, which has no account",
        None,
    ),
    (
        "an invitation",
        lambda w: _record("user.invite", w.aisha, actor=w.dana, meta={"role": "provider", "center_id": w.center.id}),
        "Dana Whitfield invited Aisha Rahman as a provider at Maple House",
        "aisha",
    ),
    (
        "a deactivation",
        lambda w: _record("user.deactivate", w.marcus, actor=w.dana, meta={"reason": "Left the program"}),
        "Dana Whitfield deactivated the account of Marcus Bell: Left the program",
        "marcus",
    ),
    (
        "a role change",
        lambda w: _record(
            "user.role_change",
            w.marcus,
            actor=w.dana,
            meta={"role": {"from": "provider", "to": "coordinator"}, "reason": "Runs the east side"},
        ),
        "Dana Whitfield made Marcus Bell a coordinator (was a provider): Runs the east side",
        "marcus",
    ),
    (
        "a request",
        lambda w: _record("session.request", w.session, actor=w.rosa, meta={"series_size": 1, "occurrence": 1}),
        f"Rosa Martinez requested {ELENAS_SESSION}",
        "session",
    ),
    (
        "a cancellation",
        lambda w: _record("session.cancel", w.session, actor=w.dana, meta={"reason": "hospital appointment"}),
        f"Dana Whitfield cancelled {ELENAS_SESSION}: hospital appointment",
        "session",
    ),
    (
        "an assignment",
        lambda w: _record(
            "session.assign", w.session, actor=w.dana, meta={"provider_id": w.marcus_profile.id, "warning": ""}
        ),
        f"Dana Whitfield assigned Marcus Bell to {ELENAS_SESSION}",
        "session",
    ),
    (
        "an assignment outside the provider's hours",
        lambda w: _record(
            "session.assign",
            w.session,
            actor=w.dana,
            meta={"provider_id": w.marcus_profile.id, "warning": "This is outside Marcus Bell's availability."},
        ),
        f"Dana Whitfield assigned Marcus Bell to {ELENAS_SESSION}. This is outside Marcus Bell's availability.",
        "session",
    ),
    (
        "a reassignment",
        lambda w: _record(
            "session.reassign",
            w.session,
            actor=w.dana,
            meta={"from": [w.marcus_profile.id], "to": w.aisha_profile.id, "reason": "Marcus is ill"},
        ),
        f"Dana Whitfield gave {ELENAS_SESSION} to Aisha Rahman (was Marcus Bell): Marcus is ill",
        "session",
    ),
    (
        "a check-in",
        lambda w: _record("session.check_in", w.session, actor=w.marcus),
        f"Marcus Bell checked in {ELENAS_SESSION}",
        "session",
    ),
    (
        "a no-show",
        lambda w: _record("session.no_show", w.session, actor=w.marcus, meta={"reason": "Nobody answered"}),
        f"Marcus Bell marked {ELENAS_SESSION} as a no-show: Nobody answered",
        "session",
    ),
    (
        "an offer",
        lambda w: _record(
            "assignment.offer",
            factories.AssignmentFactory(session=w.session, provider=w.aisha_profile, status="offered"),
            actor=w.dana,
            meta={"session_id": w.session.id, "provider_id": w.aisha_profile.id},
        ),
        f"Dana Whitfield offered {ELENAS_SESSION} to Aisha Rahman",
        "session",
    ),
    (
        "a changed visit note",
        lambda w: _record(
            "visit_note.update", actor=w.marcus, meta={"session_id": w.session.id, "parts": ["concerns"]}
        ),
        f"Marcus Bell changed the visit note for {ELENAS_SESSION}: concerns",
        "session",
    ),
    (
        "a care card saved",
        lambda w: _record(
            "care.card_save", w.elena, actor=w.rosa, meta={"version": 3, "changed": ["allergies", "mobility"]}
        ),
        "Rosa Martinez saved version 3 of Elena Martinez's care card: allergies and mobility",
        "elena",
    ),
    (
        "a care card read",
        lambda w: _record("care.card_read", w.elena, actor=w.marcus, meta={"version": 3, "purpose": "view"}),
        "Marcus Bell read Elena Martinez's care card (version 3)",
        "elena",
    ),
    (
        "weekly hours added for someone else",
        lambda w: _record(
            "availability.weekly_add",
            factories.AvailabilityFactory(provider=w.marcus_profile, weekday=0, start_minute=540, end_minute=720),
            actor=w.dana,
            meta={
                "kind": "weekly",
                "weekday": 0,
                "start_minute": 540,
                "end_minute": 720,
                "timezone": "America/Chicago",
            },
        ),
        "Dana Whitfield added weekly hours for Marcus Bell: Monday 9:00 am – 12:00 pm",
        "marcus",
    ),
    (
        "a conversation started (Dana is not in it)",
        lambda w: _record(
            "conversation.start",
            conversation_of(w.rosa, w.marcus),
            actor=w.rosa,
            meta={"participants": [w.rosa.id, w.marcus.id]},
        ),
        "Rosa Martinez started a conversation with Marcus Bell",
        None,
    ),
    (
        "a refusal by the role guard",
        lambda w: _record("access.denied", actor=w.marcus, summary="provider refused at /admin/audit"),
        "Marcus Bell was refused at /admin/audit",
        None,
    ),
    (
        "a refusal without a sign-in",
        lambda w: _record("access.denied", summary="A live stream was asked for without a sign-in"),
        "Someone not signed in was refused: A live stream was asked for without a sign-in",
        None,
    ),
    (
        "a download of the log",
        lambda w: _record(
            "audit.export", actor=w.dana, meta={"rows": 12, "filters": {"action": "cancelled", "from": "2026-11-01"}}
        ),
        "Dana Whitfield downloaded 12 audit log entries as CSV (filtered by action and dates)",
        None,
    ),
    (
        "a check of the log",
        lambda w: _record("audit.verify", actor=w.dana, meta={"intact": True, "rows": 40, "up_to": 40}),
        "Dana Whitfield checked the audit log: intact up to row 40 (40 rows)",
        None,
    ),
    (
        "an allotment",
        lambda w: _record(
            "caregiver.allotment",
            w.rosa,
            actor=w.dana,
            meta={"allotment_minutes": {"from": 6000, "to": 7200}, "reason": "Extra weeks approved"},
        ),
        "Dana Whitfield set the yearly respite of Rosa Martinez to 120 h (was 100 h): Extra weeks approved",
        "rosa",
    ),
    (
        "an action without wording",
        lambda w: _record("center.repaint", w.center, actor=w.dana, summary="Painted it blue"),
        "Dana Whitfield did “center repaint” about Maple House: Painted it blue",
        "center",
    ),
]


def _href(w, what):
    return {
        None: None,
        "rosa": f"/admin/users/{w.rosa.id}",
        "marcus": f"/admin/users/{w.marcus.id}",
        "aisha": f"/admin/users/{w.aisha.id}",
        "session": f"/sessions/{w.session.id}",
        "elena": f"/people/{w.elena.id}",
        "center": f"/admin/centers/{w.center.id}",
    }[what]


@pytest.mark.parametrize(("make", "expected", "about"), [s[1:] for s in SENTENCES], ids=[s[0] for s in SENTENCES])
def test_a_row_reads_as_a_sentence_linking_to_what_it_is_about(world, make, expected, about):
    row = make(world)

    sentence = words(row, world.dana)

    assert str(sentence) == expected
    assert sentence.href == _href(world, about)


def test_rows_the_services_write_read_as_sentences(world):
    """The same wording from the rows the code itself records (not hand-made ones)."""
    from respite.accounts import services as accounts
    from respite.scheduling import assignments
    from respite.scheduling import services as scheduling

    request = factories.RespiteSessionFactory(
        starts_at=utcnow() + timedelta(days=3), recipient__first_name="Ida", recipient__last_name="Lowe"
    )
    assignments.assign(world.dana, request, world.marcus_profile)
    scheduling.cancel_session(world.dana, request, reason="Hospital appointment")
    invited, _token = accounts.invite_user(
        world.dana, role="provider", email="tom@example.org", display_name="Tom Okafor", timezone="America/Chicago"
    )

    assigned, cancelled = audit_rows("session.assign")[-1], audit_rows("session.cancel")[-1]
    (invitation,) = audit_rows("user.invite")
    assert str(words(assigned, world.dana)).startswith("Dana Whitfield assigned Marcus Bell to Ida Lowe's session on ")
    assert str(words(cancelled, world.dana)).startswith("Dana Whitfield cancelled Ida Lowe's session on ")
    assert str(words(cancelled, world.dana)).endswith(": Hospital appointment")
    assert str(words(invitation, world.dana)) == "Dana Whitfield invited Tom Okafor as a provider"
    assert words(invitation, world.dana).href == f"/admin/users/{invited.id}"


def test_a_sentence_is_in_the_readers_zone_and_says_the_year_when_it_is_not_this_one(world):
    row = audit.record("session.cancel", world.session, actor=world.dana)
    londoner = factories.UserFactory(role="coordinator", timezone="Europe/London")

    assert "on Tue 1 Dec, 15:00" in str(words(row, londoner))
    assert "on Tue 1 Dec 2026, 09:00" in str(words(row, world.dana, today=date(2027, 1, 5)))


def test_a_session_thats_gone_is_named_without_a_link(world):
    row = audit.record("session.cancel", entity_type="RespiteSession", entity_id=987654, actor=world.dana)

    sentence = words(row, world.dana)

    assert str(sentence) == "Dana Whitfield cancelled session 987654"
    assert sentence.href is None


def test_ids_no_row_could_have_are_left_alone(world):
    row = audit.record(
        "session.assign",
        entity_type="RespiteSession",
        entity_id="9" * 30,
        actor=world.dana,
        meta={"provider_id": 2**40},
    )

    assert str(words(row, world.dana)) == "Dana Whitfield assigned a provider to a session"


def test_a_conversation_links_only_for_a_coordinator_who_takes_part(world):
    theirs = conversation_of(world.rosa, world.marcus)
    ours = conversation_of(world.rosa, world.dana)
    about_theirs = audit.record("message.send", actor=world.rosa, meta={"conversation_id": theirs.id, "files": 2})
    about_ours = audit.record("message.send", actor=world.rosa, meta={"conversation_id": ours.id, "files": 0})

    assert str(words(about_theirs, world.dana)) == "Rosa Martinez sent a message with 2 files in a conversation"
    assert words(about_theirs, world.dana).href is None
    assert words(about_ours, world.dana).href == f"/inbox/{ours.id}"


def test_the_session_timeline_keeps_its_short_labels_from_the_same_table():
    from respite.scheduling.history import ACTION_WORDING, describe_action

    assert ACTION_WORDING == wording.timeline_labels()
    assert describe_action("session.check_in") == "Checked in"
    assert describe_action("session.cancel") == "Cancelled"


def test_names_for_a_whole_page_come_in_one_statement(world):
    conversation = conversation_of(world.rosa, world.marcus)
    rows = [make(world) for _label, make, _expected, _about in SENTENCES]
    rows.append(audit.record("message.read", conversation, actor=world.rosa))
    db.session.expire_all()
    rows = db.session.query(AuditLog).filter(AuditLog.id.in_([r.id for r in rows])).all()
    for row in rows:
        _ = row.actor

    with counted_statements() as statements:
        wording.subjects_for(rows, world.dana)

    assert len(statements) == 1


# --- The page ---------------------------------------------------------------------------------------


def _actions(response):
    return re.findall(r'<tr role="row" id="audit-\d+" data-action="([^"]+)"', response.text)


def test_the_page_lists_sentences_newest_first_with_their_links(as_coordinator, world):
    audit.record("session.request", world.session, actor=world.rosa)
    audit.record("session.cancel", world.session, actor=world.dana, meta={"reason": "hospital appointment"})

    response = as_coordinator.get("/admin/audit")

    assert response.status_code == 200
    assert _actions(response) == ["session.cancel", "session.request"]
    cancelled = escape(f"{ELENAS_SESSION}")
    assert f'Dana Whitfield cancelled <a href="/sessions/{world.session.id}">{cancelled}</a>: hospital appointment' in (
        response.text
    )
    assert "2 entries" in response.text


def test_sign_ins_are_left_out_unless_asked_for(as_coordinator, world):
    audit.record("auth.login", world.rosa, actor=world.rosa)
    audit.record("auth.logout", world.rosa, actor=world.rosa)
    audit.record("session.cancel", world.session, actor=world.dana)

    default = as_coordinator.get("/admin/audit")
    included = as_coordinator.get("/admin/audit?signins=1")
    only = as_coordinator.get("/admin/audit?action=sign-ins")

    assert _actions(default) == ["session.cancel"]
    assert "sign-ins and sign-outs left out" in default.text
    # The coordinator's own sign-in (by the test client) is there too.
    assert _actions(included) == ["session.cancel", "auth.logout", "auth.login", "auth.login"]
    assert set(_actions(only)) == {"auth.login", "auth.logout"}
    assert '<td role="cell" class="short" data-label="IP address">127.0.0.1</td>' in included.text  # the sign-in's
    assert re.search(r'<input[^>]*\bchecked\b[^>]*name="signins"', included.text)
    assert not re.search(r'<input[^>]*\bchecked\b[^>]*name="signins"', default.text)


def test_filtering_by_person_finds_what_they_did_and_what_was_done_to_their_account(as_coordinator, world):
    audit.record("session.request", world.session, actor=world.rosa)
    audit.record("user.deactivate", world.rosa, actor=world.dana, meta={"reason": "Moved away"})
    audit.record("session.check_in", world.session, actor=world.marcus)

    response = as_coordinator.get(f"/admin/audit?person={world.rosa.id}")

    assert _actions(response) == ["user.deactivate", "session.request"]
    assert "2 entries by or about Rosa Martinez" in response.text
    assert f'<option selected value="{world.rosa.id}">Rosa Martinez (family)</option>' in response.text


def test_filtering_by_a_group_of_actions_in_plain_words(as_coordinator, world):
    audit.record("session.cancel", world.session, actor=world.dana)
    audit.record("care.card_save", world.elena, actor=world.rosa, meta={"version": 1})
    audit.record("center.repaint", world.center, actor=world.dana)

    cancelled = as_coordinator.get("/admin/audit?action=cancelled")
    cards = as_coordinator.get("/admin/audit?action=care-cards")
    other = as_coordinator.get("/admin/audit?action=other")

    assert _actions(cancelled) == ["session.cancel"]
    assert _actions(cards) == ["care.card_save"]
    assert _actions(other) == ["center.repaint"]
    assert '<option selected value="cancelled">Sessions cancelled</option>' in cancelled.text
    assert '<option value="care-cards">Care cards changed</option>' in cancelled.text


def test_filtering_by_what_a_row_is_about_and_its_number(as_coordinator, world):
    other = factories.RespiteSessionFactory()
    audit.record("session.cancel", world.session, actor=world.dana)
    audit.record("session.cancel", other, actor=world.dana)
    audit.record("care.card_save", world.elena, actor=world.rosa)

    sessions = as_coordinator.get("/admin/audit?entity=RespiteSession")
    one = as_coordinator.get(f"/admin/audit?entity=RespiteSession&entity_id={other.id}")

    assert _actions(sessions) == ["session.cancel", "session.cancel"]
    assert _actions(one) == ["session.cancel"]
    assert f"/sessions/{other.id}" in one.text
    assert f"/sessions/{world.session.id}" not in one.text


def _at(row_id, moment):
    """Move a row in time (inside the test's transaction, with the append-only triggers off)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        db.session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
    db.session.execute(text("UPDATE audit_log SET created_at = :at WHERE id = :id"), {"at": moment, "id": row_id})
    db.session.expire_all()


def test_filtering_by_dates_counts_whole_days_of_the_readers_calendar(as_coordinator, world):
    late = audit.record("session.request", world.session, actor=world.rosa)  # 23:30 on 2 Nov in Chicago
    early = audit.record("session.cancel", world.session, actor=world.dana)  # 00:30 on 3 Nov in Chicago
    _at(late.id, datetime(2026, 11, 3, 5, 30, tzinfo=UTC))
    _at(early.id, datetime(2026, 11, 3, 6, 30, tzinfo=UTC))

    second = as_coordinator.get("/admin/audit?from=2026-11-02&to=2026-11-02")
    third = as_coordinator.get("/admin/audit?from=2026-11-03")
    both = as_coordinator.get("/admin/audit?from=2026-11-02&to=2026-11-03")

    assert _actions(second) == ["session.request"]
    assert "1 entry, 2 Nov 2026 to 2 Nov 2026" in second.text
    assert _actions(third) == ["session.cancel"]
    assert _actions(both) == ["session.cancel", "session.request"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=yesterday", "from", "Enter a date like 2026-03-01."),
        ("to=2026-02-30", "to", "Enter a date like 2026-03-01."),
        ("from=0001-01-01", "from", "Enter a date between the years 1900 and 2999."),
        ("from=2026-03-05&to=2026-03-01", "to", "The end date is before the start date."),
        ("action=auth.login", "action", "Choose from the list."),
        ("entity=AuditLog", "entity", "Choose from the list."),
        ("entity_id=12", "entity_id", "Choose what the number is of, under “About”."),
        ("entity=RespiteSession&entity_id=1e9", "entity_id", "Enter the number alone, in digits."),
        ("entity=RespiteSession&entity_id=2147483648", "entity_id", "No row has that number."),
        ("person=rosa", "person", "Choose a person from the list."),
        ("person=2147483648", "person", "Choose a person from the list."),
        ("person=1%00", "person", "Remove the hidden control characters from this field."),
    ],
)
def test_filters_that_dont_make_sense_are_refused_beside_their_field(as_coordinator, query, field, message):
    page = as_coordinator.get(f"/admin/audit?{query}")
    region = as_coordinator.get(f"/admin/audit?{query}", headers=REGION)
    download = as_coordinator.get(f"/admin/audit.csv?{query}")

    assert page.status_code == 422
    assert field_error(page, field) == message
    assert region.status_code == 422
    assert region.text.lstrip().startswith('<div id="audit-results">')
    assert f'<a href="#{field}">' in region.text
    assert str(escape(message)) in region.text
    assert download.status_code == 422
    assert field_error(download, field) == message
    assert audit_rows("audit.export") == []


def test_pages_keep_the_filters_and_past_the_end_show_the_last(as_coordinator, world, monkeypatch):
    monkeypatch.setattr(auditlog, "PAGE_SIZE", 2)
    for _ in range(5):
        audit.record("session.cancel", world.session, actor=world.dana)
    audit.record("care.card_save", world.elena, actor=world.rosa)

    first = as_coordinator.get("/admin/audit?action=cancelled&from=2020-01-01")
    third = as_coordinator.get("/admin/audit?action=cancelled&from=2020-01-01&page=3")
    beyond = as_coordinator.get("/admin/audit?action=cancelled&page=99999999999999999999")

    assert "Page 1 of 3" in first.text
    assert 'href="/admin/audit?page=2&amp;action=cancelled&amp;from=2020-01-01"' in first.text
    assert "Newer" not in first.text
    assert len(_actions(third)) == 1
    assert 'href="/admin/audit?page=2&amp;action=cancelled&amp;from=2020-01-01"' in third.text
    assert "Older" not in third.text
    assert beyond.status_code == 200
    assert "Page 3 of 3" in beyond.text
    assert 'href="/admin/audit.csv?action=cancelled&amp;from=2020-01-01"' in first.text


@pytest.mark.parametrize("page", ["0", "-3", "abc"])
def test_a_page_number_that_isnt_one_shows_the_first(as_coordinator, world, page):
    audit.record("session.cancel", world.session, actor=world.dana)

    response = as_coordinator.get(f"/admin/audit?page={page}")

    assert response.status_code == 200
    assert _actions(response) == ["session.cancel"]


def test_an_htmx_request_gets_the_region_and_a_boosted_one_the_page(as_coordinator, world):
    audit.record("session.cancel", world.session, actor=world.dana)

    region = as_coordinator.get("/admin/audit?action=cancelled", headers=REGION)
    boosted = as_coordinator.get("/admin/audit", headers={**REGION, "HX-Boosted": "true"})

    assert region.text.lstrip().startswith('<div id="audit-results">')
    assert "<html" not in region.text
    assert "Is the log intact?" not in region.text
    assert _actions(region) == ["session.cancel"]
    assert "HX-Request" in region.headers["Vary"]
    assert "<html" in boosted.text
    assert '<div id="audit-results">' in boosted.text


def test_the_filter_form_works_as_a_plain_get_form_and_swaps_the_region_with_htmx(as_coordinator):
    text_ = as_coordinator.get("/admin/audit").text

    form = re.search(r'<form class="audit-filters[^>]*>', text_).group(0)
    assert 'method="get" action="/admin/audit"' in form
    for attribute in ('hx-get="/admin/audit"', 'hx-target="#audit-results"', 'hx-push-url="true"'):
        assert attribute in form
    for name in ("person", "action", "entity", "entity_id", "from", "to", "signins"):
        assert f'name="{name}"' in text_


# --- The CSV download -----------------------------------------------------------------------------


def _csv(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_download_has_the_filtered_rows_and_is_audited(as_coordinator, world):
    cancelled = audit.record("session.cancel", world.session, actor=world.dana, meta={"reason": "hospital"})
    audit.record("care.card_save", world.elena, actor=world.rosa, meta={"version": 1})

    response = as_coordinator.get("/admin/audit.csv?action=cancelled")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="respite-audit-log-\d{4}-\d\d-\d\d-\d{4}\.csv"', response.headers["Content-Disposition"]
    )
    header, *rows = _csv(response)
    assert header == [
        "id",
        "time (America/Chicago)",
        "time (UTC)",
        "actor",
        "action",
        "sentence",
        "entity type",
        "entity id",
        "meta",
    ]
    (row,) = rows
    local = cancelled.created_at.astimezone(CHICAGO).isoformat(timespec="seconds")
    utc = cancelled.created_at.astimezone(UTC).isoformat(timespec="seconds")
    assert row == [
        str(cancelled.id),
        local,
        utc,
        "Dana Whitfield",
        "session.cancel",
        f"Dana Whitfield cancelled {ELENAS_SESSION}: hospital",
        "RespiteSession",
        str(world.session.id),
        '{"reason": "hospital"}',
    ]
    (exported,) = audit_rows("audit.export")
    assert exported.actor_id == world.dana.id
    assert exported.meta == {"filters": {"action": "cancelled"}, "rows": 1, "up_to": cancelled.id}
    assert "downloaded 1 audit log entry as CSV (filtered by action)" in str(words(exported, world.dana))


def test_the_download_stops_at_the_rows_there_were_when_it_began(as_coordinator, world):
    audit.record("session.cancel", world.session, actor=world.dana)

    first = _csv(as_coordinator.get("/admin/audit.csv"))
    second = _csv(as_coordinator.get("/admin/audit.csv"))

    assert [row[4] for row in first[1:]] == ["session.cancel"]
    # The first download's own row is in the second, not in the first.
    assert [row[4] for row in second[1:]] == ["audit.export", "session.cancel"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_defused(as_coordinator, world, start):
    world.dana.display_name = f'{start}HYPERLINK("http://evil.example")'
    audit.record("center.repaint", world.center, actor=world.dana, summary=f"{start}1+1")

    header, *rows = _csv(as_coordinator.get("/admin/audit.csv?action=other"))

    (row,) = rows
    actor, sentence = row[3], row[5]
    assert actor == f'\'{start}HYPERLINK("http://evil.example")'
    assert sentence.startswith(f"'{start}HYPERLINK")
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_the_download_streams_in_chunks_of_rows(as_coordinator, world, monkeypatch):
    monkeypatch.setattr(auditlog, "EXPORT_CHUNK", 3)
    made = [audit.record("session.cancel", world.session, actor=world.dana) for _ in range(7)]

    response = as_coordinator.get("/admin/audit.csv?action=cancelled")
    pieces = list(response.response)

    assert len(pieces) == 1 + 3  # the header, then three chunks of 3, 3 and 1 rows
    body = b"".join(pieces).decode()
    ids = [int(row[0]) for row in list(csv.reader(io.StringIO(body)))[1:]]
    assert ids == [row.id for row in reversed(made)]


def test_the_download_reads_what_it_needs_after_the_requests_session_has_ended(world):
    cancelled = audit.record("session.cancel", world.session, actor=world.dana)
    reader_id, up_to = world.dana.id, cancelled.id
    db.session.expunge_all()  # as when the response streams: nothing of the request's session is left

    with current_app.test_request_context():
        body = "".join(auditlog.csv_chunks(reader_id, auditlog.AuditFilters(), up_to))

    (row,) = list(csv.reader(io.StringIO(body)))[1:]
    assert row[5] == f"Dana Whitfield cancelled {ELENAS_SESSION}"


# --- Budgets ----------------------------------------------------------------------------------------


def _mixed_rows(world):
    """Rows about every kind of thing a page names (each about new rows of its own), one kind after another."""

    def session():
        return factories.RespiteSessionFactory()

    def provider():
        return factories.ProviderProfileFactory()

    def offer():
        offered = factories.AssignmentFactory(status="offered")
        return audit.record(
            "assignment.offer",
            offered,
            actor=world.dana,
            meta={"session_id": offered.session_id, "provider_id": offered.provider_id},
        )

    def conversation():
        talk = conversation_of(world.rosa, world.marcus)
        return audit.record("conversation.start", talk, actor=world.rosa, meta={"participants": [world.marcus.id]})

    kinds = [
        lambda: audit.record("session.cancel", session(), actor=world.dana, meta={"reason": "ill"}),
        lambda: audit.record("session.assign", session(), actor=world.dana, meta={"provider_id": provider().id}),
        offer,
        lambda: audit.record("visit_note.create", actor=world.marcus, meta={"session_id": session().id}),
        lambda: audit.record("user.invite", factories.UserFactory(role="provider"), actor=world.dana),
        lambda: audit.record("auth.login", world.rosa, actor=world.rosa),
        lambda: audit.record("care.card_save", factories.CareRecipientFactory(), actor=world.rosa),
        lambda: audit.record("availability.weekly_add", factories.AvailabilityFactory(), actor=world.dana),
        conversation,
        lambda: audit.record("center.update", factories.CenterFactory(), actor=world.dana),
        lambda: audit.record("access.denied", actor=world.marcus, summary="provider refused at /admin/audit"),
    ]
    made = []

    def add(n):
        for _ in range(n):
            made.append(kinds[len(made) % len(kinds)]())

    return add


def _cancellations_by(world):
    def add(n):
        for _ in range(n):
            audit.record("session.cancel", factories.RespiteSessionFactory(), actor=world.dana)

    return add


def test_the_page_keeps_to_its_statement_budget(as_coordinator, world):
    assert_statement_budget(as_coordinator, "/admin/audit?signins=1", _mixed_rows(world), 6 + NAV)


def test_the_region_keeps_to_its_statement_budget(as_coordinator, world):
    assert_statement_budget(as_coordinator, "/admin/audit?signins=1", _mixed_rows(world), 4, headers=REGION)


def test_a_filtered_page_keeps_to_its_statement_budget(as_coordinator, world):
    path = f"/admin/audit?person={world.dana.id}&from=2020-01-01&action=cancelled"
    assert_statement_budget(as_coordinator, path, _cancellations_by(world), 6 + NAV)


def test_the_download_keeps_to_its_statement_budget(as_coordinator, world, dialect):
    add = _mixed_rows(world)
    counts = []
    for n in (1, 49):
        add(n)
        db.session.flush()
        db.session.expire_all()
        with counted_statements() as statements:
            response = as_coordinator.get("/admin/audit.csv?signins=1")
            rows = _csv(response)[1:]
        counts.append(len(statements))
        assert len(rows) >= n
    # Sign-in check, the extent, the export's row (the chain's lock on PostgreSQL, its newest hash, the
    # insert), the reader again after the commit, then per chunk of rows: the rows, and their names.
    assert counts == [7 + (dialect == "postgresql")] * 2, counts


# --- The chain's state ------------------------------------------------------------------------------


def test_the_page_says_how_the_chain_was_last_checked_and_the_newest_checkpoint(as_coordinator, checkpoint_file):
    first = as_coordinator.get("/admin/audit")
    assert "Not checked from this page yet." in first.text
    assert "None yet" in first.text

    audit.write_checkpoint(audit.newest_row(), checkpoint_file)
    checkpoint = audit.latest_checkpoint(checkpoint_file)
    response = as_coordinator.post("/admin/audit/verify")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/audit"
    (check,) = audit_rows("audit.verify")
    assert check.meta["intact"] is True
    assert check.meta["checkpoints"] == 1
    page = as_coordinator.get("/admin/audit")
    assert f"Verified up to row {check.meta['up_to']}" in page.text
    assert f"Row {checkpoint.row_id}, taken" in page.text
    assert "the row still matches it" in page.text
    assert "The audit log is intact" in page.text  # the flash
    assert "audit-broken" not in page.text


def test_a_broken_chain_is_said_prominently(as_coordinator, world, dialect, checkpoint_file):
    row = audit.record("session.cancel", world.session, actor=world.dana, summary="as it was")
    audit.write_checkpoint(audit.newest_row(), checkpoint_file)
    if dialect == "postgresql":
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        db.session.execute(text("DROP TRIGGER audit_log_no_update"))
    forged = {"forged": "f" * 64, "id": row.id}
    db.session.execute(text("UPDATE audit_log SET row_hash = :forged WHERE id = :id"), forged)

    before = as_coordinator.get("/admin/audit")
    as_coordinator.post("/admin/audit/verify")
    after = as_coordinator.get("/admin/audit")

    assert f"Row {row.id} no longer matches the newest checkpoint" in before.text
    (check,) = audit_rows("audit.verify")
    assert check.meta["intact"] is False
    assert check.meta["broken_at"] == row.id
    assert f"The log is broken at row {row.id}" in after.text
    assert after.text.index("audit-broken") < after.text.index('<form class="audit-filters')  # above all else
    assert "audit-chain-broken" in after.text
    assert f"checked the audit log and found it broken at row {row.id}" in str(words(check, world.dana))


def test_the_latest_checkpoint_is_read_from_the_end_of_a_long_file(checkpoint_file):
    lines = [
        audit.Checkpoint(n, f"{n:064x}", datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)).line()
        for n in range(1, 3001)
    ]
    checkpoint_file.write_text("\n".join(lines) + "\n")

    latest = audit.latest_checkpoint(checkpoint_file, tail_bytes=1000)

    assert latest.row_id == 3000
    assert audit.latest_checkpoint(checkpoint_file.with_name("missing.log")) is None


# --- The dashboard's recent activity ------------------------------------------------------------------


def test_the_dashboard_shows_recent_activity_as_sentences_without_sign_ins(as_coordinator, world):
    audit.record("session.cancel", world.session, actor=world.dana, meta={"reason": "hospital appointment"})
    audit.record("auth.login", world.rosa, actor=world.rosa)

    page = as_coordinator.get("/coordinator").text
    recent = page.split('id="recent-heading"')[1]

    assert f'Dana Whitfield cancelled <a href="/sessions/{world.session.id}">' in recent
    assert "signed in" not in recent
    with current_app.test_request_context():
        assert [entry.row.action for entry in auditlog.recent_activity(world.dana)] == ["session.cancel"]


def test_recent_activity_words_its_rows_in_a_fixed_number_of_statements(world):
    add = _mixed_rows(world)
    counts = []
    for n in (1, 20):
        add(n)
        db.session.flush()
        db.session.expire_all()
        with current_app.test_request_context(), counted_statements() as statements:
            auditlog.recent_activity(world.dana)
        counts.append(len(statements))

    assert counts[0] == counts[1] == 3  # the reader, the rows with their actors, the names


def test_only_a_coordinator_records_a_download_or_a_check(world):
    with pytest.raises(PermissionError):
        auditlog.record_export(world.rosa, auditlog.AuditFilters(), rows=0, up_to=None)
    with pytest.raises(PermissionError):
        auditlog.verify_now(world.marcus)
    assert audit_rows("audit.export") == audit_rows("audit.verify") == []


def test_the_export_row_names_only_the_filters_set(world):
    filters = auditlog.AuditFilters(group="cancelled", since=date(2026, 1, 1), include_sign_ins=True)

    auditlog.record_export(world.dana, filters, rows=4, up_to=9)

    (row,) = audit_rows("audit.export")
    assert row.meta == {"filters": {"action": "cancelled", "from": "2026-01-01", "signins": "1"}, "rows": 4, "up_to": 9}
    assert utcnow() - row.created_at < timedelta(minutes=1)
