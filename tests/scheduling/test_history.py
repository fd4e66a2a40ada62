"""The sessions page's and the session page's queries: whose sessions, in which list, and the timeline's words."""

from datetime import UTC, datetime, timedelta

import pytest

from respite import audit
from respite.models import AssignmentStatus, AuditLog, Role, SessionStatus
from respite.scheduling import history, services
from tests import factories

S = SessionStatus
A = AssignmentStatus
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def at(days, status=S.REQUESTED, **extra):
    starts = NOW + timedelta(days=days)
    return factories.RespiteSessionFactory(
        starts_at=starts, ends_at=starts + timedelta(hours=2), status=status, **extra
    )


@pytest.fixture
def recipient():
    return factories.CareRecipientFactory()


def test_a_familys_sessions_split_into_coming_soonest_first_and_history_newest_first(recipient):
    user = recipient.caregiver.user
    later = at(3, recipient=recipient)
    sooner = at(1, S.CONFIRMED, recipient=recipient)
    happening = at(0, S.CHECKED_IN, recipient=recipient)
    cancelled_ahead = at(2, S.CANCELLED, recipient=recipient, status_reason="Flu")
    declined = at(-1, S.DECLINED, recipient=recipient)
    completed = at(-3, S.COMPLETED, recipient=recipient)
    no_show = at(-5, S.NO_SHOW, recipient=recipient)
    lapsed_request = at(-7, recipient=recipient)  # its time went by unanswered
    at(1)  # another family's
    scope = history.sessions_of(user)
    assert history.upcoming(scope, now=NOW) == [happening, sooner, later]
    page = history.history(scope, now=NOW)
    assert page.items == [cancelled_ahead, declined, completed, no_show, lapsed_request]
    assert page.total == 5


def test_history_comes_a_page_at_a_time(recipient):
    sessions = [at(-day, S.COMPLETED, recipient=recipient) for day in range(1, 6)]
    scope = history.sessions_of(recipient.caregiver.user)
    first = history.history(scope, now=NOW, per_page=2)
    third = history.history(scope, now=NOW, per_page=2, page=3)
    assert first.items == sessions[:2]
    assert first.pages == 3
    assert first.has_next
    assert third.items == sessions[4:]
    assert not third.has_next
    assert history.history(scope, now=NOW, per_page=2, page=9).items == []


def test_a_provider_sees_the_sessions_they_hold_and_ones_cancelled_with_them():
    provider = factories.ProviderProfileFactory()
    accepted = factories.AssignmentFactory(provider=provider, session=at(1)).session
    offered = factories.AssignmentFactory(provider=provider, session=at(2), status=A.OFFERED).session
    cancelled = factories.AssignmentFactory(provider=provider, session=at(3, S.CANCELLED), status=A.CANCELLED).session
    done = factories.AssignmentFactory(provider=provider, session=at(-2, S.COMPLETED)).session
    factories.AssignmentFactory(provider=provider, session=at(4), status=A.DECLINED)  # they said no
    factories.AssignmentFactory(provider=provider, session=at(5), status=A.CANCELLED)  # taken off, it goes on
    factories.AssignmentFactory(session=at(6))  # someone else's
    scope = history.sessions_of(provider.user)
    assert history.upcoming(scope, now=NOW) == [accepted, offered]
    assert history.history(scope, now=NOW).items == [cancelled, done]


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.KIOSK])
def test_other_roles_have_no_sessions_page_scope(role):
    assert history.sessions_of(factories.UserFactory(role=role)) is None


def test_who_is_coming_is_the_providers_who_accepted_in_one_query():
    first, second, open_request = at(1), at(2), at(3)
    ana = factories.AssignmentFactory(session=first).provider.user
    factories.AssignmentFactory(session=first, status=A.DECLINED)
    factories.AssignmentFactory(session=second, status=A.OFFERED)
    names = history.providers_by_session([first, second, open_request])
    assert names == {first.id: [ana.display_name], second.id: [], open_request.id: []}
    assert history.providers_by_session([]) == {}


def test_the_provider_dashboard_keeps_a_cancelled_session_until_its_time_has_passed():
    provider = factories.ProviderProfileFactory()
    live = factories.AssignmentFactory(provider=provider, session=at(1))
    cancelled = factories.AssignmentFactory(provider=provider, session=at(2, S.CANCELLED), status=A.CANCELLED)
    factories.AssignmentFactory(provider=provider, session=at(-1, S.CANCELLED), status=A.CANCELLED)  # over
    factories.AssignmentFactory(provider=provider, session=at(3), status=A.CANCELLED)  # taken off it
    assert services.upcoming_for_provider(provider, now=NOW) == [live, cancelled]


def test_a_provider_loads_a_session_cancelled_with_their_assignment_but_not_one_they_left():
    cancelled = factories.AssignmentFactory(session=at(1, S.CANCELLED), status=A.CANCELLED)
    taken_off = factories.AssignmentFactory(session=at(2), status=A.CANCELLED)
    assert services.get_session_for(cancelled.provider.user, cancelled.session_id) is cancelled.session
    assert services.get_session_for(taken_off.provider.user, taken_off.session_id) is None


# --- The timeline ------------------------------------------------------------------------


def test_the_timeline_words_each_audit_row_for_the_viewer(recipient):
    session = at(1, recipient=recipient)
    family = recipient.caregiver.user
    coordinator = factories.UserFactory(role=Role.COORDINATOR, display_name="Ana Díaz")
    provider = factories.ProviderProfileFactory(user__display_name="Ben Okafor").user
    audit.record("session.request", session, actor=family)
    audit.record("session.confirm", session, actor=coordinator)
    audit.record("session.check_in", session, actor=provider)
    audit.record("session.check_out", session, actor=provider)
    audit.record("session.cancel", session, actor=coordinator, meta={"reason": "Storm warning"})
    audit.record("session.renumber", session, actor=coordinator)  # an action this page does not know
    audit.record("session.no_show", session)  # no one: the system
    audit.record("session.cancel", at(2), actor=family, meta={"reason": "another session's"})

    entries = history.timeline(session, family)
    assert [(e.what, e.who, e.reason) for e in entries] == [
        ("Requested", "you", ""),
        ("Confirmed", "Ana Díaz (coordinator)", ""),
        ("Checked in", "Ben Okafor (provider)", ""),
        ("Checked out", "Ben Okafor (provider)", ""),
        ("Cancelled", "Ana Díaz (coordinator)", "Storm warning"),
        ("Updated (renumber)", "Ana Díaz (coordinator)", ""),
        ("Marked as a no-show", None, ""),
    ]
    assert history.timeline(session, coordinator)[0].who == f"{family.display_name} (family)"
    assert history.timeline(session, coordinator)[1].who == "you"


def test_a_session_from_before_requests_were_recorded_opens_with_its_creation(recipient):
    session = at(1, recipient=recipient)
    (entry,) = history.timeline(session, recipient.caregiver.user)
    assert (entry.what, entry.who, entry.at) == ("Requested", None, session.created_at)


def test_an_actor_whose_account_is_gone_is_named_by_role():
    row = AuditLog(action="session.confirm", actor_id=None, actor_role=Role.COORDINATOR)  # as after erasure
    assert history.describe_actor(row, factories.UserFactory()) == "a coordinator"
    assert history.describe_action("session.") == "Updated"
