"""The cancel transition, as the model every transition copies: each guard, each scope, one unit of work."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from respite import realtime
from respite.extensions import db
from respite.models import AssignmentStatus, AuditLog, RespiteSession, Role, SessionStatus, utcnow
from respite.scheduling import lifecycle, services
from respite.scheduling.lifecycle import SchedulingError
from tests import factories
from tests.helpers import audit_rows

S = SessionStatus


@pytest.fixture
def session():
    return factories.RespiteSessionFactory()


def own_caregiver(session):
    return session.caregiver.user


# --- Guards ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.REQUESTED, S.CONFIRMED])
def test_caregiver_cancels_their_own_session_before_it_starts(session, status):
    session.status = status
    services.cancel_session(own_caregiver(session), session, reason="  Feeling better  ")
    assert session.status == S.CANCELLED
    assert session.status_reason == "Feeling better"


def test_coordinator_cancels_any_session(session, coordinator):
    services.cancel_session(coordinator, session)
    assert session.status == S.CANCELLED


def test_caregiver_may_not_cancel_someone_elses_session(session, caregiver):
    with pytest.raises(PermissionError):
        services.cancel_session(caregiver, session)
    assert session.status == S.REQUESTED


@pytest.mark.parametrize("role", ["provider", "kiosk"])
def test_providers_and_kiosks_may_not_cancel(request, session, role):
    actor = request.getfixturevalue(role)
    with pytest.raises(PermissionError):
        services.cancel_session(actor, session)
    assert session.status == S.REQUESTED


@pytest.mark.parametrize("status", [S.CHECKED_IN, S.COMPLETED, S.CANCELLED, S.DECLINED, S.NO_SHOW])
def test_only_requested_or_confirmed_sessions_can_be_cancelled(session, coordinator, status):
    session.status = status
    with pytest.raises(SchedulingError, match="can no longer be cancelled"):
        services.cancel_session(coordinator, session)
    assert session.status == status


def test_a_started_session_can_not_be_cancelled(session, coordinator):
    with pytest.raises(SchedulingError, match="already started"):
        services.cancel_session(coordinator, session, now=session.starts_at)
    assert session.status == S.REQUESTED


def test_a_session_changed_meanwhile_is_not_cancelled(session, coordinator):
    db.session.flush()
    with pytest.raises(SchedulingError, match="changed while you were looking"):
        services.cancel_session(coordinator, session, expected_version=session.version - 1)
    services.cancel_session(coordinator, session, expected_version=session.version)
    assert session.status == S.CANCELLED


def test_a_refused_cancel_writes_nothing(session, caregiver, published):
    with pytest.raises(PermissionError):
        services.cancel_session(caregiver, session)
    db.session.commit()
    assert audit_rows("session.cancel") == []
    assert published == []


# --- What it changes, records and tells -------------------------------------------------


def test_cancel_ends_the_live_assignments_only(session, coordinator):
    offered = factories.AssignmentFactory(session=session, status=AssignmentStatus.OFFERED)
    accepted = factories.AssignmentFactory(session=session, status=AssignmentStatus.ACCEPTED)
    declined = factories.AssignmentFactory(session=session, status=AssignmentStatus.DECLINED)
    db.session.refresh(session)
    services.cancel_session(coordinator, session)
    assert offered.status == AssignmentStatus.CANCELLED
    assert accepted.status == AssignmentStatus.CANCELLED
    assert declined.status == AssignmentStatus.DECLINED


def test_cancel_writes_one_audit_row_with_who_what_and_why(session):
    caregiver = own_caregiver(session)
    session.status = S.CONFIRMED
    services.cancel_session(caregiver, session, reason="Hospital visit moved")
    (row,) = audit_rows("session.cancel")
    assert (row.actor_id, row.actor_role) == (caregiver.id, Role.CAREGIVER)
    assert (row.entity_type, row.entity_id) == ("RespiteSession", str(session.id))
    assert row.meta == {"from": "confirmed", "reason": "Hospital visit moved"}
    assert session.recipient.full_name in row.summary


def test_cancel_tells_the_family_the_providers_the_coordinators_and_the_center_after_commit(
    session, coordinator, published
):
    provider = factories.AssignmentFactory(session=session).provider.user
    other_coordinator = factories.UserFactory(role=Role.COORDINATOR)
    factories.UserFactory(role=Role.COORDINATOR, active=False)
    bystander = factories.CaregiverProfileFactory().user
    db.session.refresh(session)
    services.cancel_session(coordinator, session)
    assert published == []  # nothing leaves before the commit
    db.session.commit()
    channels = {channel for channel, _, _ in published}
    expected_users = {own_caregiver(session), provider, coordinator, other_coordinator}
    assert {realtime.user_channel(u.id) for u in expected_users} <= channels
    assert realtime.center_channel(session.center_id) in channels
    assert realtime.user_channel(bystander.id) not in channels
    assert {(t, tuple(d.items())) for _, t, d in published if t != "notice"} == {
        ("session", (("session_id", session.id),))
    }
    assert (realtime.user_channel(own_caregiver(session).id), "notice", {}) in published  # and a notice for the family


def test_a_home_visit_tells_no_center(coordinator, published):
    session = factories.RespiteSessionFactory(center=None, location_kind="home", address="1 Elm Row")
    services.cancel_session(coordinator, session)
    db.session.commit()
    assert not any(".center." in channel for channel, _, _ in published)


def test_the_service_flushes_and_never_commits(session, coordinator, published):
    db.session.commit()  # the setup is in place
    services.cancel_session(coordinator, session)
    stored = db.session.execute(select(RespiteSession.status).where(RespiteSession.id == session.id)).scalar_one()
    assert stored == S.CANCELLED  # flushed: visible inside the transaction
    assert published == []  # not committed: no event has left
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(RespiteSession, session.id).status == S.REQUESTED


def test_several_transitions_are_one_unit_of_work(coordinator, published):
    """A batch that fails part-way leaves no session, audit row or event behind."""
    first, second, started = (factories.RespiteSessionFactory() for _ in range(3))
    started.starts_at = utcnow() - timedelta(minutes=5)
    db.session.commit()  # the setup is in place; what follows is the unit of work
    audit_before = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    services.cancel_session(coordinator, first)
    services.cancel_session(coordinator, second)
    with pytest.raises(SchedulingError):
        services.cancel_session(coordinator, started)
    db.session.rollback()
    db.session.commit()
    db.session.expire_all()
    assert {db.session.get(RespiteSession, s.id).status for s in (first, second)} == {S.REQUESTED}
    assert db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) == audit_before
    assert published == []


# --- The predicate the templates use agrees with the service ----------------------------


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("who", ["own caregiver", "other caregiver", "coordinator", "provider", "kiosk"])
@pytest.mark.parametrize("started", [False, True])
def test_can_cancel_is_true_exactly_when_the_service_would_cancel(request, status, who, started):
    session = factories.RespiteSessionFactory(status=status)
    actor = {
        "own caregiver": lambda: own_caregiver(session),
        "other caregiver": lambda: request.getfixturevalue("caregiver"),
        "coordinator": lambda: request.getfixturevalue("coordinator"),
        "provider": lambda: request.getfixturevalue("provider"),
        "kiosk": lambda: request.getfixturevalue("kiosk"),
    }[who]()
    now = session.starts_at + timedelta(minutes=1) if started else None
    shown = lifecycle.can_cancel(actor, session, now)
    try:
        services.cancel_session(actor, session, now=now)
    except (PermissionError, SchedulingError):
        allowed = False
    else:
        allowed = True
    assert shown == allowed
    assert allowed == (who in ("own caregiver", "coordinator") and status in (S.REQUESTED, S.CONFIRMED) and not started)


# --- Loading a session for a user -------------------------------------------------------


def test_caregiver_loads_only_their_own_sessions(session, caregiver):
    assert services.get_session_for(own_caregiver(session), session.id) is session
    assert services.get_session_for(caregiver, session.id) is None


@pytest.mark.parametrize(
    ("status", "visible"),
    [
        (AssignmentStatus.OFFERED, True),
        (AssignmentStatus.ACCEPTED, True),
        (AssignmentStatus.DECLINED, False),
        (AssignmentStatus.CANCELLED, False),
    ],
)
def test_provider_loads_sessions_they_hold_a_live_assignment_on(session, status, visible):
    provider = factories.AssignmentFactory(session=session, status=status).provider.user
    assert (services.get_session_for(provider, session.id) is session) is visible


def test_provider_without_assignment_or_profile_loads_nothing(session, provider):
    assert services.get_session_for(provider, session.id) is None
    bare = factories.UserFactory(role=Role.PROVIDER)
    assert services.get_session_for(bare, session.id) is None


def test_kiosk_loads_its_own_centers_sessions_only(session, kiosk):
    assert services.get_session_for(kiosk, session.id) is None
    kiosk.center_id = session.center_id
    assert services.get_session_for(kiosk, session.id) is session


def test_coordinator_loads_any_session_and_nobody_loads_a_missing_one(session, coordinator):
    assert services.get_session_for(coordinator, session.id) is session
    assert services.get_session_for(coordinator, session.id + 1000) is None


def test_an_unknown_role_loads_nothing(session):
    stranger = factories.UserFactory(role=Role.CAREGIVER)
    stranger.role = "visitor"  # never stored: the database refuses it
    assert services.get_session_for(stranger, session.id) is None


# --- The lifecycle table ----------------------------------------------------------------


def test_every_transition_leads_from_and_to_known_statuses():
    for target, sources in lifecycle.SESSION_TRANSITIONS.values():
        assert target in set(S)
        assert sources <= set(S)
    for target, sources in lifecycle.ASSIGNMENT_TRANSITIONS.values():
        assert target in set(AssignmentStatus)
        assert sources <= set(AssignmentStatus)


def test_a_move_the_table_does_not_have_is_refused():
    assert lifecycle.session_target("check_in", S.CONFIRMED) == S.CHECKED_IN
    with pytest.raises(SchedulingError):
        lifecycle.session_target("check_in", S.REQUESTED)
    with pytest.raises(SchedulingError):
        lifecycle.assignment_target("accept", AssignmentStatus.DECLINED)


@pytest.mark.parametrize("reason", ["Sick\x00", "\x1b[2J"])
def test_a_reason_with_control_characters_is_refused(session, coordinator, reason):
    with pytest.raises(SchedulingError, match="control characters"):
        services.cancel_session(coordinator, session, reason=reason)
    assert session.status == S.REQUESTED
