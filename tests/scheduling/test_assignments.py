"""Providers on sessions: offers, direct assignment, answers, reassignment, declined requests, and taking a request."""

from datetime import timedelta

import pytest

from respite.extensions import db
from respite.models import Assignment, AssignmentStatus, Availability, RespiteSession, SessionStatus, utcnow
from respite.scheduling import assignments
from respite.scheduling.assignments import ProviderConflict
from respite.scheduling.lifecycle import SchedulingError
from tests import factories
from tests.helpers import audit_rows

S = SessionStatus
A = AssignmentStatus


@pytest.fixture
def request_():
    """An open request three days ahead, at a center."""
    start = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    return factories.RespiteSessionFactory(starts_at=start, ends_at=start + timedelta(hours=3))


@pytest.fixture
def worker(request_):
    """A provider at the request's center, free all week (every day, all day)."""
    profile = factories.ProviderProfileFactory(center=request_.center, user__display_name="Alex Morgan")
    for weekday in range(7):
        db.session.add(Availability(provider=profile, kind="weekly", weekday=weekday, start_minute=0, end_minute=1440))
    db.session.flush()
    return profile


def held_elsewhere(provider, session, status=A.ACCEPTED):
    """Another confirmed session of `provider` at the same time as `session`."""
    other = factories.RespiteSessionFactory(
        starts_at=session.starts_at + timedelta(hours=1),
        ends_at=session.ends_at + timedelta(hours=1),
        status=S.CONFIRMED,
        recipient__first_name="Elena",
        recipient__last_name="Ruiz",
    )
    factories.AssignmentFactory(session=other, provider=provider, status=status)
    return other


# --- A coordinator assigns ---------------------------------------------------------------------


def test_assigning_confirms_the_session_with_an_accepted_assignment(request_, worker, coordinator, published):
    outcome = assignments.assign(coordinator, request_, worker, expected_version=request_.version)
    assert request_.status == S.CONFIRMED
    assert outcome.assignment.status == A.ACCEPTED
    assert outcome.assignment.provider_id == worker.id
    assert (outcome.assignment.starts_at, outcome.assignment.ends_at) == (request_.starts_at, request_.ends_at)
    assert outcome.warning == ""
    (row,) = audit_rows("session.assign")
    assert row.entity_id == str(request_.id)
    assert row.meta["provider_id"] == worker.id


def test_assigning_withdraws_the_other_offers(request_, worker, coordinator):
    other = factories.ProviderProfileFactory(center=request_.center)
    assignments.offer(coordinator, request_, other)
    assignments.assign(coordinator, request_, worker)
    offer = db.session.query(Assignment).filter_by(provider_id=other.id).one()
    assert offer.status == A.CANCELLED
    assert offer.reason == "Another provider was assigned."


def test_assigning_outside_availability_warns_and_says_so_in_the_audit_row(request_, coordinator):
    busy_bee = factories.ProviderProfileFactory(center=request_.center, user__display_name="Sam Lee")
    outcome = assignments.assign(coordinator, request_, busy_bee)
    assert outcome.warning == "This is outside Sam Lee's availability."
    assert request_.status == S.CONFIRMED
    (row,) = audit_rows("session.assign")
    assert row.meta["warning"] == outcome.warning
    assert "outside Sam Lee's availability" in row.summary


def test_a_provider_is_never_given_two_overlapping_sessions(request_, worker, coordinator):
    other = held_elsewhere(worker, request_)
    with pytest.raises(ProviderConflict) as refused:
        assignments.assign(coordinator, request_, worker)
    assert str(refused.value).startswith("Alex Morgan already has a session then: Elena Ruiz, ")
    assert str(refused.value).endswith(f"(session {other.id}).")
    assert request_.status == S.REQUESTED
    assert audit_rows("session.assign") == []


def test_an_offered_or_cancelled_overlap_is_no_clash(request_, worker, coordinator):
    held_elsewhere(worker, request_, status=A.OFFERED)
    assignments.assign(coordinator, request_, worker)
    assert request_.status == S.CONFIRMED


@pytest.mark.parametrize("role", ["caregiver", "provider", "kiosk"])
def test_only_coordinators_assign_offer_reassign_and_decline(request, request_, worker, role):
    actor = request.getfixturevalue(role)
    for transition in (assignments.assign, assignments.offer):
        with pytest.raises(PermissionError):
            transition(actor, request_, worker)
    with pytest.raises(PermissionError):
        assignments.decline_request(actor, request_, reason="No one free")
    assert request_.status == S.REQUESTED


@pytest.mark.parametrize("status", [S.CONFIRMED, S.CANCELLED, S.DECLINED, S.COMPLETED])
def test_only_open_requests_are_assigned(request_, worker, coordinator, status):
    request_.status = status
    with pytest.raises(SchedulingError, match=f"already {status.label.lower()}"):
        assignments.assign(coordinator, request_, worker)


def test_a_request_whose_time_has_passed_is_not_assigned(request_, worker, coordinator):
    with pytest.raises(SchedulingError, match="time has passed"):
        assignments.assign(coordinator, request_, worker, now=request_.starts_at)


def test_an_inactive_provider_is_not_assigned(request_, worker, coordinator):
    worker.active = False
    with pytest.raises(SchedulingError, match="Alex Morgan is not active"):
        assignments.assign(coordinator, request_, worker)


def test_a_second_coordinator_with_an_old_page_is_told_what_changed(request_, worker, coordinator):
    seen = request_.version
    assignments.assign(coordinator, request_, worker, expected_version=seen)
    db.session.flush()
    late = factories.ProviderProfileFactory(center=request_.center)
    with pytest.raises(SchedulingError) as refused:
        assignments.assign(coordinator, request_, late, expected_version=seen)
    assert str(refused.value) == (
        "This session was changed while you were looking at it. Please check it again. "
        "It is now confirmed with Alex Morgan."
    )
    assert db.session.query(Assignment).filter_by(provider_id=late.id).count() == 0


# --- Offers --------------------------------------------------------------------------------------


def test_an_offer_waits_for_the_providers_answer(request_, worker, coordinator, published):
    outcome = assignments.offer(coordinator, request_, worker)
    assert outcome.assignment.status == A.OFFERED
    assert request_.status == S.REQUESTED
    assert assignments.offers_for(worker) == [outcome.assignment]
    assert audit_rows("assignment.offer")
    with pytest.raises(SchedulingError, match="has this offer already"):
        assignments.offer(coordinator, request_, worker)


def test_accepting_an_offer_confirms_the_session_and_withdraws_the_others(request_, worker, coordinator):
    mine = assignments.offer(coordinator, request_, worker).assignment
    theirs = assignments.offer(coordinator, request_, factories.ProviderProfileFactory()).assignment
    assignments.accept_offer(worker.user, mine)
    assert (mine.status, request_.status) == (A.ACCEPTED, S.CONFIRMED)
    assert theirs.status == A.CANCELLED
    assert theirs.reason == "Another provider took this session."
    (accepted,) = audit_rows("session.accept")
    assert accepted.entity_id == str(request_.id)
    with pytest.raises(SchedulingError, match="no longer open: Another provider took this session."):
        assignments.accept_offer(theirs.provider.user, theirs)


def test_accepting_an_offer_that_clashes_is_refused(request_, worker, coordinator):
    mine = assignments.offer(coordinator, request_, worker).assignment
    held_elsewhere(worker, request_)
    with pytest.raises(ProviderConflict, match="Alex Morgan already has a session then: Elena Ruiz"):
        assignments.accept_offer(worker.user, mine)
    assert request_.status == S.REQUESTED


def test_declining_an_offer_needs_a_reason_the_coordinators_see(request_, worker, coordinator):
    mine = assignments.offer(coordinator, request_, worker).assignment
    with pytest.raises(SchedulingError, match="Say why"):
        assignments.decline_offer(worker.user, mine, reason="   ")
    assignments.decline_offer(worker.user, mine, reason="Away that weekend")
    assert (mine.status, mine.reason) == (A.DECLINED, "Away that weekend")
    assert request_.status == S.REQUESTED
    with pytest.raises(SchedulingError, match="already declined"):
        assignments.accept_offer(worker.user, mine)


def test_only_the_provider_offered_answers(request_, worker, coordinator, provider):
    mine = assignments.offer(coordinator, request_, worker).assignment
    for answer in (
        lambda: assignments.accept_offer(provider, mine),
        lambda: assignments.decline_offer(provider, mine, reason="x"),
    ):
        with pytest.raises(PermissionError):
            answer()
    assert mine.status == A.OFFERED


def test_a_coordinator_withdraws_an_offer(request_, worker, coordinator):
    mine = assignments.offer(coordinator, request_, worker).assignment
    assignments.withdraw_offer(coordinator, mine)
    assert (mine.status, mine.reason) == (A.CANCELLED, "The offer was withdrawn.")
    assert assignments.offers_for(worker) == []


def test_a_provider_can_be_offered_again_after_declining(request_, worker, coordinator):
    mine = assignments.offer(coordinator, request_, worker).assignment
    assignments.decline_offer(worker.user, mine, reason="Busy")
    again = assignments.offer(coordinator, request_, worker).assignment
    assert again.id == mine.id  # one row per session and provider
    assert (again.status, again.reason) == (A.OFFERED, "")


# --- Reassigning and declining ------------------------------------------------------------------


def test_reassigning_moves_a_confirmed_session_to_another_provider(request_, worker, coordinator):
    first = assignments.assign(coordinator, request_, worker).assignment
    second_provider = factories.ProviderProfileFactory(center=request_.center)
    version = request_.version
    outcome = assignments.reassign(coordinator, request_, second_provider, reason="Alex is unwell")
    assert request_.status == S.CONFIRMED
    assert request_.version == version + 1
    assert (first.status, first.reason) == (A.CANCELLED, "Alex is unwell")
    assert outcome.assignment.status == A.ACCEPTED
    (row,) = audit_rows("session.reassign")
    assert row.meta["from"] == [worker.id]
    assert row.meta["to"] == second_provider.id


def test_reassigning_to_someone_busy_then_is_refused(request_, worker, coordinator):
    assignments.assign(coordinator, request_, worker)
    busy = factories.ProviderProfileFactory(user__display_name="Busy Bee")
    held_elsewhere(busy, request_)
    with pytest.raises(ProviderConflict, match="Busy Bee already has a session then"):
        assignments.reassign(coordinator, request_, busy)
    assert audit_rows("session.reassign") == []  # and the view rolls back the rest of the attempt


def test_only_confirmed_sessions_are_reassigned(request_, worker, coordinator):
    with pytest.raises(SchedulingError, match="A requested session can't be reassigned"):
        assignments.reassign(coordinator, request_, worker)


def test_declining_a_request_tells_the_family_why_and_withdraws_offers(request_, worker, coordinator):
    mine = assignments.offer(coordinator, request_, worker).assignment
    with pytest.raises(SchedulingError, match="Say why"):
        assignments.decline_request(coordinator, request_, reason="")
    assignments.decline_request(coordinator, request_, reason="No provider is free that day.")
    assert (request_.status, request_.status_reason) == (S.DECLINED, "No provider is free that day.")
    assert mine.status == A.CANCELLED
    assert audit_rows("session.decline")


# --- Providers taking open requests ------------------------------------------------------------


def test_a_provider_takes_an_open_request_that_fits(request_, worker, app):
    assert assignments.may_take(worker, request_)
    outcome = assignments.take_request(worker.user, request_)
    assert (outcome.assignment.status, request_.status) == (A.ACCEPTED, S.CONFIRMED)
    (taken,) = audit_rows("session.take")
    assert taken.entity_id == str(request_.id)


def test_a_provider_may_not_take_what_doesnt_fit(request_, worker):
    elsewhere = factories.ProviderProfileFactory()  # another center, no availability
    assert not assignments.may_take(elsewhere, request_)
    with pytest.raises(SchedulingError, match="doesn't fit your availability or center"):
        assignments.take_request(elsewhere.user, request_)


def test_taking_requests_can_be_switched_off(request_, worker, app, monkeypatch):
    monkeypatch.setitem(app.config, "PROVIDERS_MAY_TAKE_OPEN_REQUESTS", False)
    assert not assignments.may_take(worker, request_)
    with pytest.raises(PermissionError, match="coordinators assign sessions"):
        assignments.take_request(worker.user, request_)


# --- Loading -------------------------------------------------------------------------------------


def test_an_assignment_is_loaded_only_for_its_provider_or_a_coordinator(
    request_, worker, coordinator, provider, caregiver
):
    mine = assignments.offer(coordinator, request_, worker).assignment
    assert assignments.get_assignment_for(worker.user, mine.id) is mine
    assert assignments.get_assignment_for(coordinator, mine.id) is mine
    assert assignments.get_assignment_for(provider, mine.id) is None
    assert assignments.get_assignment_for(caregiver, mine.id) is None


def test_session_rows_are_untouched_by_a_refused_assignment(request_, worker, coordinator):
    held_elsewhere(worker, request_)
    before = (request_.status, request_.version)
    with pytest.raises(ProviderConflict):
        assignments.assign(coordinator, request_, worker)
    db.session.expire_all()
    again = db.session.get(RespiteSession, request_.id)
    assert (again.status, again.version) == before
