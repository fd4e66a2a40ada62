"""The data model's own guarantees: aware UTC timestamps, check constraints, and no double-booked provider."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from respite.extensions import db
from respite.models import ALL_MODELS, Assignment, Availability, User, UTCDateTime
from tests import factories
from tests.helpers import needs_postgres


def _in_savepoint(change):
    """Make `change` and flush it inside a savepoint, so a refusal leaves the test's transaction usable."""
    with db.session.begin_nested():
        change()
        db.session.flush()


# --- UTCDateTime --------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    user = factories.UserFactory()

    with pytest.raises(StatementError) as refused:
        _in_savepoint(lambda: setattr(user, "last_login_at", datetime(2030, 1, 1, 12, 0)))

    assert isinstance(refused.value.orig, ValueError)
    assert "naive datetime" in str(refused.value.orig)


@pytest.mark.parametrize("zone", ["UTC", "America/Chicago", "Asia/Kolkata"])
def test_aware_datetimes_come_back_as_the_same_instant_in_utc(zone):
    moment = datetime(2030, 7, 1, 9, 30, 15, 123456, tzinfo=ZoneInfo(zone))
    user = factories.UserFactory(last_login_at=moment)
    db.session.expire_all()

    stored = db.session.get(User, user.id).last_login_at

    assert stored == moment
    assert stored.utcoffset() == timedelta(0)
    assert stored.microsecond == 123456


def test_core_queries_read_aware_utc_too():
    moment = datetime(2030, 7, 1, 9, 30, tzinfo=UTC)
    factories.UserFactory(last_login_at=moment)

    stored = db.session.execute(select(User.last_login_at).where(User.last_login_at.is_not(None))).scalar_one()

    assert stored == moment
    assert stored.utcoffset() == timedelta(0)


def test_comparisons_in_queries_use_the_instant():
    moment = datetime(2030, 7, 1, 12, 0, tzinfo=UTC)
    user = factories.UserFactory(last_login_at=moment)
    same_instant_in_chicago = moment.astimezone(ZoneInfo("America/Chicago"))

    found = db.session.scalar(select(User.id).where(User.last_login_at == same_instant_in_chicago))

    assert found == user.id


def test_null_stays_null():
    user = factories.UserFactory(last_login_at=None)
    db.session.expire_all()

    assert db.session.get(User, user.id).last_login_at is None
    assert UTCDateTime().process_result_value(None, db.engine.dialect) is None


# --- Check constraints -------------------------------------------------------------------


def _later(hours=0):
    return datetime(2030, 5, 1, 10, tzinfo=UTC) + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("make", "constraint"),
    [
        (
            lambda: factories.RespiteSessionFactory(starts_at=_later(2), ends_at=_later(1)),
            "ck_respite_session_starts_before_ends",
        ),
        (
            lambda: factories.RespiteSessionFactory(starts_at=_later(), ends_at=_later()),
            "ck_respite_session_starts_before_ends",
        ),
        (lambda: factories.RespiteSessionFactory(status="lost"), "ck_respite_session_status"),
        (lambda: factories.RespiteSessionFactory(location_kind="moon"), "ck_respite_session_location_kind"),
        (lambda: factories.RespiteSessionFactory(center=None), "ck_respite_session_center_given"),
        (lambda: factories.UserFactory(role="admin"), "ck_user_account_role"),
        (lambda: factories.AssignmentFactory(status="maybe"), "ck_assignment_status"),
        (
            lambda: factories.CaregiverProfileFactory(annual_allotment_minutes=-1),
            "ck_caregiver_profile_allotment_not_negative",
        ),
        (lambda: factories.CaregiverProfileFactory(caregiver_type="robot"), "ck_caregiver_profile_caregiver_type"),
    ],
)
def test_the_database_refuses_impossible_rows(make, constraint):
    with pytest.raises(IntegrityError) as refused, db.session.begin_nested():
        make()

    assert constraint in str(refused.value.orig)


def test_an_email_is_used_once():
    factories.UserFactory(email="same@example.com")

    with pytest.raises(IntegrityError), db.session.begin_nested():
        factories.UserFactory(email="same@example.com")


def test_a_home_session_needs_no_center():
    session = factories.RespiteSessionFactory(location_kind="home", center=None, address="1 Elm Street")

    assert session.id is not None


def test_weekly_availability_must_be_a_real_window():
    provider = factories.ProviderProfileFactory()

    db.session.add(Availability(provider=provider, kind="weekly", weekday=0, start_minute=480, end_minute=1080))
    db.session.flush()

    sunday_plus_one = Availability(provider=provider, kind="weekly", weekday=7, start_minute=480, end_minute=1080)
    with pytest.raises(IntegrityError):
        _in_savepoint(lambda: db.session.add(sunday_plus_one))
    backwards = Availability(provider=provider, kind="time_off", starts_at=_later(2), ends_at=_later(1))
    with pytest.raises(IntegrityError):
        _in_savepoint(lambda: db.session.add(backwards))


# --- No provider holds two overlapping accepted assignments (PostgreSQL) -----------------------


def _assignment(provider, starts_at, ends_at, status="accepted"):
    return factories.AssignmentFactory(
        provider=provider,
        status=status,
        session__starts_at=starts_at,
        session__ends_at=ends_at,
    )


@pytest.mark.postgres_only
@needs_postgres
def test_two_overlapping_accepted_assignments_are_refused():
    provider = factories.ProviderProfileFactory()
    _assignment(provider, _later(0), _later(3))

    with pytest.raises(IntegrityError) as refused, db.session.begin_nested():
        _assignment(provider, _later(2), _later(4))

    assert "ex_assignment_provider_no_overlap" in str(refused.value.orig)
    assert db.session.scalar(select(Assignment.id).where(Assignment.starts_at == _later(2))) is None


@pytest.mark.postgres_only
@needs_postgres
def test_accepting_an_overlapping_offer_is_refused():
    provider = factories.ProviderProfileFactory()
    _assignment(provider, _later(0), _later(3))
    offer = _assignment(provider, _later(1), _later(2), status="offered")

    with pytest.raises(IntegrityError):
        _in_savepoint(lambda: setattr(offer, "status", "accepted"))


@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.parametrize("status", ["declined", "offered", "cancelled"])
def test_overlap_is_allowed_when_one_is_not_accepted(status):
    provider = factories.ProviderProfileFactory()
    _assignment(provider, _later(0), _later(3))

    other = _assignment(provider, _later(1), _later(4), status=status)

    assert other.id is not None


@pytest.mark.postgres_only
@needs_postgres
def test_back_to_back_assignments_are_allowed():
    provider = factories.ProviderProfileFactory()
    _assignment(provider, _later(0), _later(3))

    next_one = _assignment(provider, _later(3), _later(5))

    assert next_one.id is not None


@pytest.mark.postgres_only
@needs_postgres
def test_two_providers_may_work_at_the_same_time():
    _assignment(factories.ProviderProfileFactory(), _later(0), _later(3))

    other = _assignment(factories.ProviderProfileFactory(), _later(0), _later(3))

    assert other.id is not None


@pytest.mark.postgres_only
@needs_postgres
def test_the_exclusion_constraint_exists():
    names = db.session.scalars(
        text("SELECT conname FROM pg_constraint WHERE conrelid = 'assignment'::regclass AND contype = 'x'")
    ).all()

    assert names == ["ex_assignment_provider_no_overlap"]


# --- Small derived facts ------------------------------------------------------------------------


def test_recipient_names():
    recipient = factories.CareRecipientFactory(first_name="Margaret", last_name="Thornbury")

    assert recipient.full_name == "Margaret Thornbury"
    assert recipient.short_name == "Margaret T."


def test_session_length_in_minutes():
    session = factories.RespiteSessionFactory(starts_at=_later(0), ends_at=_later(2) + timedelta(minutes=30))

    assert session.minutes == 150


def test_user_password_state():
    user = factories.UserFactory(password_hash=None)

    assert not user.has_password
    assert repr(user) == f"<User {user.id} caregiver>"


def test_sessions_carry_a_version_for_optimistic_locking():
    session = factories.RespiteSessionFactory()
    assert session.version == 1

    session.status = "confirmed"
    db.session.flush()

    assert session.version == 2


def test_every_model_is_listed():
    assert {model.__tablename__ for model in ALL_MODELS} == set(db.metadata.tables)
