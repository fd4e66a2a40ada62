"""The visit's transitions (check-in, check-out, no-show) and its note: each rule, each refusal, one unit of work."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from respite import realtime
from respite.extensions import db
from respite.models import AssignmentStatus, RespiteSession, Role, SessionStatus, VisitNote, utcnow
from respite.visits import services
from respite.visits.services import SchedulingError, VisitInvalid
from tests import factories
from tests.helpers import audit_rows, counted_statements

S = SessionStatus
A = AssignmentStatus


def confirmed_session(provider=None, *, hours_ahead=1, **extra):
    """A confirmed three-hour session starting `hours_ahead` from now, accepted by `provider` (a user) if given."""
    starts = utcnow().replace(microsecond=0) + timedelta(hours=hours_ahead)
    session = factories.RespiteSessionFactory(
        status=S.CONFIRMED, starts_at=starts, ends_at=starts + timedelta(hours=3), **extra
    )
    if provider is not None:
        factories.AssignmentFactory(session=session, provider=provider.provider_profile)
    db.session.refresh(session)
    return session


@pytest.fixture
def visit(provider):
    return confirmed_session(provider)


def checked_in(session, actor):
    services.check_in(actor, session, now=session.starts_at)
    return session


# --- Check-in --------------------------------------------------------------------------------


def test_its_provider_checks_in_and_the_time_is_recorded(visit, provider):
    at = visit.starts_at + timedelta(minutes=3)
    services.check_in(provider, visit, now=at)
    assert visit.status == S.CHECKED_IN
    assert visit.checked_in_at == at


@pytest.mark.parametrize(("minutes_before", "allowed"), [(31, False), (30, True), (0, True)])
def test_check_in_opens_thirty_minutes_before_the_start(visit, provider, minutes_before, allowed):
    now = visit.starts_at - timedelta(minutes=minutes_before)
    assert services.can_check_in(provider, visit, now) is allowed
    if allowed:
        services.check_in(provider, visit, now=now)
        assert visit.status == S.CHECKED_IN
    else:
        opens = (visit.starts_at - timedelta(minutes=30)).astimezone(ZoneInfo(provider.timezone))
        with pytest.raises(SchedulingError, match=f"Check-in opens at .*{opens:%H:%M}, 30 minutes before"):
            services.check_in(provider, visit, now=now)
        assert visit.status == S.CONFIRMED


def test_check_in_is_possible_until_the_end_and_not_after(visit, provider):
    assert services.can_check_in(provider, visit, visit.ends_at)
    with pytest.raises(SchedulingError, match="time has passed: it can no longer be checked in"):
        services.check_in(provider, visit, now=visit.ends_at + timedelta(seconds=1))


def test_a_coordinator_checks_in_for_the_provider(visit, coordinator):
    services.check_in(coordinator, visit, now=visit.starts_at)
    assert visit.status == S.CHECKED_IN


def test_the_kiosk_tablet_of_the_sessions_center_checks_in_and_out_and_no_person_is_named(visit):
    tablet = factories.KioskDeviceFactory(center=visit.center)
    services.check_in(tablet, visit, now=visit.starts_at)
    services.check_out(tablet, visit, now=visit.ends_at)
    assert visit.status == S.COMPLETED
    rows = audit_rows("session.check_in") + audit_rows("session.check_out")
    assert [(r.actor_id, r.actor_role, r.meta["device_id"]) for r in rows] == [(None, "kiosk", tablet.id)] * 2


def test_another_centers_tablet_a_revoked_one_a_kiosk_account_and_any_tablet_at_a_home_visit_are_refused(
    visit, kiosk, provider
):
    elsewhere = factories.KioskDeviceFactory()
    revoked = factories.KioskDeviceFactory(center=visit.center, revoked_at=utcnow())
    kiosk.center = visit.center  # a kiosk account, from before tablets were paired: no longer a recorder
    for actor in (elsewhere, revoked, kiosk):
        with pytest.raises(PermissionError):
            services.check_in(actor, visit, now=visit.starts_at)
    home = confirmed_session(provider, hours_ahead=10, center=None, location_kind="home", address="4 Elm Row")
    with pytest.raises(PermissionError):
        services.check_in(factories.KioskDeviceFactory(center=visit.center), home, now=home.starts_at)
    assert (visit.status, home.status) == (S.CONFIRMED, S.CONFIRMED)


def test_its_provider_checks_in_a_home_visit(provider):
    home = confirmed_session(provider, center=None, location_kind="home", address="4 Elm Row")
    services.check_in(provider, home, now=home.starts_at)
    assert home.status == S.CHECKED_IN


@pytest.mark.parametrize("who", ["caregiver", "own caregiver", "other provider", "offered provider", "taken off"])
def test_only_its_accepted_provider_a_coordinator_or_its_kiosk_check_in(request, visit, who):
    if who == "own caregiver":
        actor = visit.caregiver.user
    elif who in ("offered provider", "taken off"):
        actor = factories.ProviderProfileFactory().user
        status = A.OFFERED if who == "offered provider" else A.CANCELLED
        factories.AssignmentFactory(session=visit, provider=actor.provider_profile, status=status)
        db.session.refresh(visit)
    else:
        actor = request.getfixturevalue("caregiver" if who == "caregiver" else "provider")
        if who == "other provider":
            actor = factories.ProviderProfileFactory().user
    assert not services.can_check_in(actor, visit, visit.starts_at)
    with pytest.raises(PermissionError, match="Only the session's provider or a coordinator can check it in."):
        services.check_in(actor, visit, now=visit.starts_at)
    assert visit.status == S.CONFIRMED


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (S.REQUESTED, "A requested session can't be checked in."),
        (S.CANCELLED, "A cancelled session can't be checked in."),
        (S.COMPLETED, "A completed session can't be checked in."),
        (S.NO_SHOW, "A no show session can't be checked in."),
        (S.CHECKED_IN, "This session is already checked in."),
    ],
)
def test_only_a_confirmed_session_is_checked_in(visit, coordinator, status, message):
    visit.status = status
    with pytest.raises(SchedulingError, match=message):
        services.check_in(coordinator, visit, now=visit.starts_at)
    assert visit.status == status


def test_a_stale_page_is_told_the_session_changed_since_it_was_opened(visit, provider):
    db.session.flush()
    with pytest.raises(SchedulingError, match="changed since you opened it"):
        services.check_in(provider, visit, now=visit.starts_at, expected_version=visit.version - 1)
    assert visit.status == S.CONFIRMED
    services.check_in(provider, visit, now=visit.starts_at, expected_version=visit.version)
    assert visit.status == S.CHECKED_IN


def test_a_change_saved_meanwhile_elsewhere_is_not_overwritten(visit, provider):
    db.session.flush()
    # Another request changed the row after this one loaded it: the stored version moved on.
    db.session.execute(
        update(RespiteSession).where(RespiteSession.id == visit.id).values(version=RespiteSession.version + 1),
        execution_options={"synchronize_session": False},
    )
    with pytest.raises(SchedulingError, match="changed since you opened it"):
        services.check_in(provider, visit, now=visit.starts_at)
    assert audit_rows("session.check_in") == []


# --- Check-out -----------------------------------------------------------------------------------


def test_check_out_after_check_in_completes_the_session(visit, provider):
    checked_in(visit, provider)
    at = visit.ends_at + timedelta(minutes=4)
    services.check_out(provider, visit, now=at)
    assert visit.status == S.COMPLETED
    assert visit.checked_out_at == at


def test_check_out_needs_a_check_in_first(visit, provider):
    with pytest.raises(SchedulingError, match="Check in first"):
        services.check_out(provider, visit, now=visit.ends_at)
    assert not services.can_check_out(provider, visit, visit.ends_at)


def test_check_out_comes_after_the_check_in(visit, provider):
    services.check_in(provider, visit, now=visit.starts_at)
    with pytest.raises(SchedulingError, match="can't come before the check-in"):
        services.check_out(provider, visit, now=visit.starts_at - timedelta(minutes=1))
    services.check_out(provider, visit, now=visit.starts_at)
    assert visit.status == S.COMPLETED


def test_a_session_is_checked_out_once(visit, provider):
    checked_in(visit, provider)
    services.check_out(provider, visit, now=visit.ends_at)
    with pytest.raises(SchedulingError, match="already checked out"):
        services.check_out(provider, visit, now=visit.ends_at)


def test_the_family_can_not_check_out(visit, provider):
    checked_in(visit, provider)
    with pytest.raises(PermissionError, match="can check it out"):
        services.check_out(visit.caregiver.user, visit, now=visit.ends_at)
    assert visit.status == S.CHECKED_IN


# --- No-show -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("minutes_after", "allowed"), [(14, False), (15, True), (300, True)])
def test_a_no_show_is_recorded_from_the_start_plus_the_grace_minutes(visit, provider, minutes_after, allowed):
    now = visit.starts_at + timedelta(minutes=minutes_after)
    assert services.can_mark_no_show(provider, visit, now) is allowed
    if allowed:
        services.mark_no_show(provider, visit, note="  Waited 30 minutes; no answer at the door.  ", now=now)
        assert visit.status == S.NO_SHOW
        assert visit.status_reason == "Waited 30 minutes; no answer at the door."
    else:
        with pytest.raises(SchedulingError, match="A no-show can be recorded from .*, 15 minutes after the start."):
            services.mark_no_show(provider, visit, note="No one came", now=now)
        assert visit.status == S.CONFIRMED


def test_the_grace_minutes_come_from_the_configuration(app, monkeypatch, visit, coordinator):
    monkeypatch.setitem(app.config, "NO_SHOW_GRACE_MINUTES", 30)
    assert not services.can_mark_no_show(coordinator, visit, visit.starts_at + timedelta(minutes=29))
    now = visit.starts_at + timedelta(minutes=30)
    services.mark_no_show(coordinator, visit, note="The family phoned: not coming.", now=now)
    assert visit.status == S.NO_SHOW


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("", "Say what happened"),
        ("   ", "Say what happened"),
        ("Knocked\x00twice", "Remove the hidden control characters"),
        ("x" * 501, "Keep this to 500 characters or fewer (it has 501)."),
    ],
    ids=["empty", "blank", "control character", "too long"],
)
def test_a_no_show_needs_a_note(visit, provider, note, message):
    with pytest.raises(VisitInvalid, match=re.escape(message)) as refused:
        services.mark_no_show(provider, visit, note=note, now=visit.ends_at)
    assert list(refused.value.problems) == ["note"]
    assert visit.status == S.CONFIRMED


@pytest.mark.parametrize("role", ["caregiver", "kiosk"])
def test_the_family_and_kiosks_never_record_a_no_show(request, visit, role):
    actor = visit.caregiver.user if role == "caregiver" else factories.UserFactory(role=Role.KIOSK, center=visit.center)
    with pytest.raises(PermissionError, match="can record a no-show"):
        services.mark_no_show(actor, visit, note="No one came", now=visit.ends_at)


def test_a_checked_in_session_is_no_no_show(visit, provider):
    checked_in(visit, provider)
    with pytest.raises(SchedulingError, match="Only a confirmed session that no one checked in"):
        services.mark_no_show(provider, visit, note="No one came", now=visit.ends_at)


# --- What each transition records and tells ---------------------------------------------------


def test_each_transition_writes_one_audit_row(visit, provider):
    services.check_in(provider, visit, now=visit.starts_at)
    services.check_out(provider, visit, now=visit.ends_at)
    other = confirmed_session(provider, hours_ahead=10)
    services.mark_no_show(provider, other, note="No answer", now=other.starts_at + timedelta(minutes=20))
    rows = {row.action: row for row in audit_rows() if row.action.startswith("session.")}
    assert set(rows) == {"session.check_in", "session.check_out", "session.no_show"}
    for row in rows.values():
        assert (row.actor_id, row.actor_role, row.entity_type) == (provider.id, Role.PROVIDER, "RespiteSession")
    assert rows["session.check_in"].meta == {"from": "confirmed", "at": visit.starts_at.isoformat()}
    assert rows["session.check_out"].meta == {"from": "checked_in", "at": visit.ends_at.isoformat()}
    assert rows["session.no_show"].meta == {"from": "confirmed", "reason": "No answer"}
    assert rows["session.no_show"].entity_id == str(other.id)
    assert visit.recipient.full_name in rows["session.check_in"].summary


def test_a_check_in_tells_the_family_its_providers_the_coordinators_and_the_center_after_commit(
    visit, provider, coordinator, published
):
    bystander = factories.CaregiverProfileFactory().user
    services.check_in(provider, visit, now=visit.starts_at)
    assert published == []
    db.session.commit()
    channels = {channel for channel, _, _ in published}
    expected = {visit.caregiver.user_id, provider.id, coordinator.id}
    assert {realtime.user_channel(u) for u in expected} <= channels
    assert realtime.center_channel(visit.center_id) in channels
    assert realtime.user_channel(bystander.id) not in channels
    assert {(t, tuple(d.items())) for _, t, d in published if t != "notice"} == {
        ("session", (("session_id", visit.id),))
    }
    assert (realtime.user_channel(visit.caregiver.user_id), "notice", {}) in published  # and a notice for the family


def test_a_refused_transition_records_and_tells_nothing(visit, provider, published):
    with pytest.raises(SchedulingError):
        services.check_in(provider, visit, now=visit.starts_at - timedelta(hours=2))
    with pytest.raises(PermissionError):
        services.check_in(visit.caregiver.user, visit, now=visit.starts_at)
    db.session.commit()
    assert audit_rows("session.check_in") == []
    assert published == []


def test_the_service_flushes_and_never_commits(visit, provider, published):
    db.session.commit()
    services.check_in(provider, visit, now=visit.starts_at)
    stored = db.session.execute(select(RespiteSession.status).where(RespiteSession.id == visit.id)).scalar_one()
    assert stored == S.CHECKED_IN
    assert published == []
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(RespiteSession, visit.id).status == S.CONFIRMED


# --- The predicates the templates use agree with the services -------------------------------


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("who", ["its provider", "other provider", "coordinator", "own caregiver", "its kiosk"])
@pytest.mark.parametrize("minutes", [-31, -30, 14, 15, 181])
def test_each_predicate_is_true_exactly_when_its_service_goes_through(provider, status, who, minutes):
    other_provider = factories.ProviderProfileFactory().user
    coordinator = factories.UserFactory(role=Role.COORDINATOR)
    kiosk = factories.KioskDeviceFactory()
    transitions = {
        services.can_check_in: lambda actor, s, now: services.check_in(actor, s, now=now),
        services.can_check_out: lambda actor, s, now: services.check_out(actor, s, now=now),
        services.can_mark_no_show: lambda actor, s, now: services.mark_no_show(actor, s, note="No one came", now=now),
    }
    # One session per transition, a day apart (a provider never holds two at once).
    for days, (predicate, act) in enumerate(transitions.items()):
        session = confirmed_session(provider, hours_ahead=1 + 24 * days)
        session.status = status
        if status in (S.CHECKED_IN, S.COMPLETED):
            session.checked_in_at = session.starts_at - timedelta(minutes=30)
        kiosk.center = session.center
        actor = {
            "its provider": provider,
            "other provider": other_provider,
            "coordinator": coordinator,
            "own caregiver": session.caregiver.user,
            "its kiosk": kiosk,
        }[who]
        now = session.starts_at + timedelta(minutes=minutes)
        shown = predicate(actor, session, now)
        try:
            act(actor, session, now)
        except (PermissionError, SchedulingError):
            went_through = False
        else:
            went_through = True
        assert shown == went_through, (predicate.__name__, who, status, minutes)


def test_the_predicates_are_template_globals(app):
    for name in ("can_check_in", "can_check_out", "can_mark_no_show", "can_write_visit_note", "visit_note_for"):
        assert app.jinja_env.globals[name] is getattr(services, name)


# --- The visit note ------------------------------------------------------------------------------


def write(actor, session, went_well="Played cards; ate well.", concerns="", medication_given=""):
    return services.write_visit_note(
        actor, session, went_well=went_well, concerns=concerns, medication_given=medication_given
    )


@pytest.mark.parametrize("status", [S.CHECKED_IN, S.COMPLETED, S.NO_SHOW])
def test_its_provider_writes_the_note_once_the_session_has_started(visit, provider, status):
    visit.status = status
    note = write(provider, visit, "  Sunny walk  ", "Coughing a little", "Paracetamol 500 mg at 14:00")
    assert (note.went_well, note.concerns, note.medication_given) == (
        "Sunny walk",
        "Coughing a little",
        "Paracetamol 500 mg at 14:00",
    )
    assert (note.session_id, note.author_id) == (visit.id, provider.id)


def test_no_note_before_the_session_has_started(visit, provider):
    assert not services.can_write_visit_note(provider, visit)
    with pytest.raises(SchedulingError, match="once the session has started"):
        write(provider, visit)


@pytest.mark.parametrize("who", ["coordinator", "own caregiver", "other provider", "kiosk"])
def test_only_its_provider_writes_the_note(request, visit, provider, who):
    checked_in(visit, provider)
    actor = {
        "coordinator": lambda: request.getfixturevalue("coordinator"),
        "own caregiver": lambda: visit.caregiver.user,
        "other provider": lambda: factories.ProviderProfileFactory().user,
        "kiosk": lambda: factories.UserFactory(role=Role.KIOSK, center=visit.center),
    }[who]()
    with pytest.raises(PermissionError, match="Only the session's provider can write its visit note."):
        write(actor, visit)


def test_one_note_per_session_which_its_author_changes(visit, provider):
    checked_in(visit, provider)
    first = write(provider, visit, "Cards")
    second = write(provider, visit, "Cards and a walk", "Tired after lunch")
    assert second is first
    assert db.session.scalars(select(VisitNote).where(VisitNote.session_id == visit.id)).all() == [first]
    assert (first.went_well, first.concerns) == ("Cards and a walk", "Tired after lunch")
    (created,) = audit_rows("visit_note.create")
    (changed,) = audit_rows("visit_note.update")
    assert created.meta == {"session_id": visit.id, "parts": ["went_well"]}
    assert changed.meta == {"session_id": visit.id, "parts": ["went_well", "concerns"]}
    assert (changed.actor_id, changed.entity_type, changed.entity_id) == (provider.id, "VisitNote", str(first.id))
    # The audit log says which parts, never the words (they are about someone's health).
    assert "Tired" not in changed.summary + str(changed.meta)


def test_the_same_note_sent_again_records_nothing(visit, provider):
    checked_in(visit, provider)
    write(provider, visit, "Cards")
    write(provider, visit, "Cards ")
    assert len(audit_rows("visit_note.update")) == 0


def test_only_its_author_changes_a_note(visit, provider):
    checked_in(visit, provider)
    earlier = factories.ProviderProfileFactory().user
    db.session.add(VisitNote(session=visit, author=earlier, went_well="Arrived late"))
    db.session.flush()
    note = services.visit_note_of(visit)
    assert not services.can_write_visit_note(provider, visit, note)
    with pytest.raises(PermissionError, match="Only the provider who wrote this visit note can change it."):
        write(provider, visit)


@pytest.mark.parametrize(
    ("parts", "problems"),
    [
        ({}, {"went_well": "Write at least one part of the note."}),
        ({"went_well": "  ", "concerns": "\n"}, {"went_well": "Write at least one part of the note."}),
        ({"concerns": "x" * 4001}, {"concerns": "Keep this to 4000 characters or fewer (it has 4001)."}),
        (
            {"went_well": "ok\x07", "medication_given": "\x1b[2J"},
            {
                "went_well": "Remove the hidden control characters from this field.",
                "medication_given": "Remove the hidden control characters from this field.",
            },
        ),
    ],
    ids=["nothing", "blank", "too long", "control characters"],
)
def test_a_note_breaking_a_rule_names_each_part(visit, provider, parts, problems):
    checked_in(visit, provider)
    with pytest.raises(VisitInvalid) as refused:
        write(provider, visit, **{"went_well": "", **parts})
    assert refused.value.problems == problems
    assert services.visit_note_of(visit) is None


def test_a_note_of_the_longest_length_is_kept(visit, provider):
    checked_in(visit, provider)
    note = write(provider, visit, "y" * 4000)
    assert len(note.went_well) == 4000


def test_writing_the_note_tells_the_familys_open_pages(visit, provider, published):
    checked_in(visit, provider)
    db.session.commit()
    published.clear()
    write(provider, visit)
    db.session.commit()
    assert (realtime.user_channel(visit.caregiver.user_id), "session", {"session_id": visit.id}) in published


def test_the_note_is_read_by_the_family_its_provider_and_coordinators_never_a_kiosk(visit, provider, coordinator):
    checked_in(visit, provider)
    note = write(provider, visit)
    assert services.visit_note_for(visit.caregiver.user, visit) is note
    assert services.visit_note_for(provider, visit) is note
    assert services.visit_note_for(coordinator, visit) is note
    assert services.visit_note_for(factories.CaregiverProfileFactory().user, visit) is None
    offered = factories.ProviderProfileFactory().user  # an offer left standing on a visit that went ahead
    factories.AssignmentFactory(session=visit, provider=offered.provider_profile, status=AssignmentStatus.OFFERED)
    db.session.refresh(visit)
    assert services.visit_note_for(offered, visit) is None
    assert services.visit_note_for(factories.UserFactory(role=Role.KIOSK, center=visit.center), visit) is None


def test_a_session_not_started_has_no_note_and_costs_no_query(visit, coordinator):
    with counted_statements() as statements:
        assert services.visit_note_for(coordinator, visit) is None
    assert statements == []


# --- Local days ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 11, 1), 25), (date(2026, 11, 2), 24), (date(2027, 3, 14), 23), (date(2026, 7, 1), 24)],
)
def test_a_local_day_runs_from_midnight_to_midnight_however_long(day, hours):
    zone = ZoneInfo("America/Chicago")
    start, end = services.local_day_bounds(day, zone)
    assert (end - start) == timedelta(hours=hours)
    assert start.astimezone(zone).replace(tzinfo=None) == datetime(day.year, day.month, day.day)
    assert start.tzinfo == UTC
