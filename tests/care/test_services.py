"""Care services: who may see and change whom, versioned care cards, reads and acknowledgements, deactivation."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from respite import realtime
from respite.care import services
from respite.care.services import CareError
from respite.extensions import db
from respite.models import (
    AssignmentStatus,
    CareCardAcknowledgement,
    CareCardVersion,
    CareRecipient,
    RespiteSession,
    Role,
    SessionStatus,
    utcnow,
)
from tests import factories
from tests.helpers import audit_rows

CARD = {
    "needs": "Help standing up.",
    "allergies": "Penicillin.",
    "medications": [{"name": "Donepezil", "dose": "10 mg", "times": "8 pm"}],
    "emergency_contacts": [{"name": "Rosa", "relationship": "Daughter", "phone": "555-0142"}],
}


@pytest.fixture
def recipient(caregiver):
    return factories.CareRecipientFactory(caregiver=caregiver.caregiver_profile, first_name="Elena")


@pytest.fixture
def carded(recipient, caregiver):
    services.save_care_card(caregiver, recipient, CARD)
    return recipient


def assign(provider, recipient, status=AssignmentStatus.ACCEPTED, days=1, session_status=SessionStatus.CONFIRMED):
    """`provider` (a user) on a session of `recipient` `days` from now."""
    starts = utcnow() + timedelta(days=days)
    session = factories.RespiteSessionFactory(
        recipient=recipient, starts_at=starts, ends_at=starts + timedelta(hours=2), status=session_status
    )
    return factories.AssignmentFactory(session=session, provider=provider.provider_profile, status=status)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


# --- The scoped loader ----------------------------------------------------------------------


def test_a_caregiver_loads_their_own_people_only(caregiver, recipient):
    stranger = factories.CareRecipientFactory()
    assert services.get_recipient_for(caregiver, recipient.id) is recipient
    assert services.get_recipient_for(caregiver, stranger.id) is None
    assert services.get_recipient_for(caregiver, 10**6) is None


def test_a_caregiver_still_loads_a_deactivated_person_their_history_stays(caregiver, recipient):
    recipient.active = False
    assert services.get_recipient_for(caregiver, recipient.id) is recipient


@pytest.mark.parametrize("status", [AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED])
def test_a_provider_loads_the_people_of_their_live_assignments(provider, recipient, status):
    assign(provider, recipient, status)
    assert services.get_recipient_for(provider, recipient.id) is recipient


@pytest.mark.parametrize("status", [AssignmentStatus.DECLINED, AssignmentStatus.CANCELLED])
def test_a_provider_without_a_live_assignment_loads_no_one(provider, recipient, status):
    assign(provider, recipient, status)
    other_provider = factories.ProviderProfileFactory().user
    assign(other_provider, factories.CareRecipientFactory())  # someone else's session
    assert services.get_recipient_for(provider, recipient.id) is None
    assert services.get_recipient_for(other_provider, recipient.id) is None


def test_a_coordinator_loads_anyone_a_kiosk_no_one(coordinator, kiosk, recipient):
    assert services.get_recipient_for(coordinator, recipient.id) is recipient
    assert services.get_recipient_for(coordinator, 10**6) is None
    assert services.get_recipient_for(kiosk, recipient.id) is None


# --- Lists ------------------------------------------------------------------------------------


def test_lists_leave_out_deactivated_people_and_other_families(caregiver, recipient):
    factories.CareRecipientFactory(caregiver=caregiver.caregiver_profile, active=False)
    factories.CareRecipientFactory()
    profile = caregiver.caregiver_profile
    assert services.recipients_for(profile) == [recipient]
    assert services.people_overview(profile).recipients == [recipient]


def test_people_overview_says_whether_any_session_was_ever_asked_for(caregiver, recipient):
    profile = caregiver.caregiver_profile
    factories.RespiteSessionFactory()  # another family's
    assert services.people_overview(profile).has_sessions is False
    factories.RespiteSessionFactory(recipient=recipient, status=SessionStatus.CANCELLED)
    assert services.people_overview(profile).has_sessions is True


def test_people_overview_of_a_new_caregiver(caregiver):
    overview = services.people_overview(caregiver.caregiver_profile)
    assert list(overview.recipients) == []
    assert overview.has_sessions is False


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(1941, 3, 9), date(2026, 3, 8), 84),
        (date(1941, 3, 9), date(2026, 3, 9), 85),
        (None, date(2026, 3, 9), None),
    ],
)
def test_age_on(born, today, age):
    assert services.age_on(born, today) == age


# --- Adding and changing a person -----------------------------------------------------------------


def test_a_caregiver_adds_a_person_with_an_audit_row(caregiver):
    person = services.add_recipient(
        caregiver, caregiver.caregiver_profile, first_name="  Elena ", last_name="Martinez", date_of_birth=None
    )
    assert (person.first_name, person.last_name, person.active, person.card_number) == ("Elena", "Martinez", True, 0)
    (row,) = audit_rows("care.recipient_add")
    assert (row.actor_id, row.entity_type, row.entity_id) == (caregiver.id, "CareRecipient", str(person.id))


def test_a_coordinator_adds_a_person_for_a_family(coordinator, caregiver):
    person = services.add_recipient(coordinator, caregiver.caregiver_profile, first_name="Lily", last_name="Chen")
    assert person.caregiver is caregiver.caregiver_profile


@pytest.mark.parametrize("who", ["provider", "kiosk", "another_caregiver"])
def test_no_one_else_adds_a_person(request, caregiver, who):
    actor = factories.CaregiverProfileFactory().user if who == "another_caregiver" else request.getfixturevalue(who)
    with pytest.raises(PermissionError):
        services.add_recipient(actor, caregiver.caregiver_profile, first_name="X", last_name="Y")
    assert count(CareRecipient) == 0
    assert audit_rows("care.recipient_add") == []


@pytest.mark.parametrize(
    ("first", "last", "born", "field", "message"),
    [
        ("  ", "Martinez", None, "first_name", "Enter their first name."),
        ("Elena", "", None, "last_name", "Enter their last name."),
        ("E" * 81, "Martinez", None, "first_name", "Use at most 80 characters."),
        ("Elena", "Martinez", date(2026, 3, 10), "date_of_birth", "A date of birth can't be in the future."),
        ("Elena", "Martinez", date(1899, 12, 31), "date_of_birth", "Enter a date of birth after 1900."),
    ],
)
def test_adding_refuses_bad_details_with_a_message_for_the_field(caregiver, first, last, born, field, message):
    with pytest.raises(CareError) as refused:
        services.add_recipient(
            caregiver,
            caregiver.caregiver_profile,
            first_name=first,
            last_name=last,
            date_of_birth=born,
            today=date(2026, 3, 9),
        )
    assert (refused.value.field, str(refused.value)) == (field, message)
    assert count(CareRecipient) == 0


def test_born_today_is_fine(caregiver):
    person = services.add_recipient(
        caregiver,
        caregiver.caregiver_profile,
        first_name="Baby",
        last_name="Chen",
        date_of_birth=date(2026, 3, 9),
        today=date(2026, 3, 9),
    )
    assert person.date_of_birth == date(2026, 3, 9)


def test_today_is_the_actors_own(caregiver):
    # 23:30 UTC on 9 March is already 10 March in Tokyo, still 9 March in Chicago.
    late = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    caregiver.timezone = "Asia/Tokyo"
    assert services.today_for(caregiver, late) == date(2026, 3, 10)
    caregiver.timezone = "America/Chicago"
    assert services.today_for(caregiver, late) == date(2026, 3, 9)


def test_updating_a_person_records_what_changed(caregiver, recipient):
    changed = services.update_recipient(
        caregiver, recipient, first_name="Elena", last_name="Ruiz", date_of_birth=date(1941, 3, 9)
    )
    assert changed is True
    assert (recipient.last_name, recipient.date_of_birth) == ("Ruiz", date(1941, 3, 9))
    (row,) = audit_rows("care.recipient_update")
    assert row.meta == {"changed": ["date_of_birth", "last_name"]}


def test_updating_with_the_same_details_changes_and_records_nothing(caregiver, recipient):
    same = services.update_recipient(
        caregiver, recipient, first_name=recipient.first_name, last_name=recipient.last_name, date_of_birth=None
    )
    assert same is False
    assert audit_rows("care.recipient_update") == []


def test_a_coordinator_updates_anyone(coordinator, recipient):
    assert services.update_recipient(coordinator, recipient, first_name="Ellie", last_name="M", date_of_birth=None)


@pytest.mark.parametrize("who", ["provider", "kiosk", "another_caregiver"])
def test_no_one_else_updates_a_person(request, recipient, who):
    actor = factories.CaregiverProfileFactory().user if who == "another_caregiver" else request.getfixturevalue(who)
    with pytest.raises(PermissionError):
        services.update_recipient(actor, recipient, first_name="X", last_name="Y", date_of_birth=None)
    assert recipient.first_name == "Elena"


def test_updating_refuses_a_future_birth_date_and_a_deactivated_person(caregiver, recipient):
    with pytest.raises(CareError) as refused:
        services.update_recipient(
            caregiver, recipient, first_name="Elena", last_name="M", date_of_birth=date.today() + timedelta(days=2)
        )
    assert refused.value.field == "date_of_birth"
    recipient.active = False
    with pytest.raises(CareError, match="no longer active"):
        services.update_recipient(caregiver, recipient, first_name="Elena", last_name="M", date_of_birth=None)
    assert audit_rows("care.recipient_update") == []


# --- Deactivating -------------------------------------------------------------------------------


def test_deactivating_takes_a_person_off_the_lists_and_keeps_their_history(caregiver, carded):
    past = utcnow() - timedelta(days=3)
    session = factories.RespiteSessionFactory(
        recipient=carded, starts_at=past, ends_at=past + timedelta(hours=2), status=SessionStatus.COMPLETED
    )
    factories.RespiteSessionFactory(recipient=carded, status=SessionStatus.CANCELLED)  # cancelled: not coming
    services.deactivate_recipient(caregiver, carded)
    assert carded.active is False
    assert services.recipients_for(caregiver.caregiver_profile) == []
    assert db.session.get(RespiteSession, session.id) is not None
    assert count(CareCardVersion) == 1
    (row,) = audit_rows("care.recipient_deactivate")
    assert row.entity_id == str(carded.id)


@pytest.mark.parametrize("status", [SessionStatus.REQUESTED, SessionStatus.CONFIRMED])
def test_a_person_with_coming_sessions_is_not_deactivated(caregiver, recipient, status):
    factories.RespiteSessionFactory(recipient=recipient, status=status)
    with pytest.raises(CareError, match="Elena has a coming session. Cancel it first."):
        services.deactivate_recipient(caregiver, recipient)
    factories.RespiteSessionFactory(recipient=recipient, starts_at=utcnow() + timedelta(days=5))
    with pytest.raises(CareError, match="Elena has 2 coming sessions. Cancel them first."):
        services.deactivate_recipient(caregiver, recipient)
    assert recipient.active is True
    assert audit_rows("care.recipient_deactivate") == []


def test_deactivating_twice_is_refused(coordinator, recipient):
    services.deactivate_recipient(coordinator, recipient)
    with pytest.raises(CareError, match="no longer active"):
        services.deactivate_recipient(coordinator, recipient)
    assert len(audit_rows("care.recipient_deactivate")) == 1


@pytest.mark.parametrize("who", ["provider", "kiosk", "another_caregiver"])
def test_no_one_else_deactivates_a_person(request, recipient, who):
    actor = factories.CaregiverProfileFactory().user if who == "another_caregiver" else request.getfixturevalue(who)
    with pytest.raises(PermissionError):
        services.deactivate_recipient(actor, recipient)
    assert recipient.active is True


# --- Care cards: versions --------------------------------------------------------------------------


def test_each_save_is_the_next_version_and_the_card_follows(caregiver, recipient):
    first = services.save_care_card(caregiver, recipient, CARD)
    second = services.save_care_card(caregiver, recipient, {**CARD, "diet": "Soft food."})
    assert (first.number, second.number) == (1, 2)
    assert recipient.card_number == 2
    assert recipient.card.id == second.id
    assert first.content["diet"] == ""  # an old version never changes
    assert [r.meta for r in audit_rows("care.card_save")][1] == {"version": 2, "changed": ["diet"]}


def test_saving_the_same_card_makes_no_version(caregiver, carded):
    padded = {**CARD, "needs": "  Help standing up.  ", "medications": [*CARD["medications"], {"name": " "}]}
    assert services.save_care_card(caregiver, carded, padded) is None
    assert carded.card_number == 1
    assert len(audit_rows("care.card_save")) == 1


def test_a_coordinator_saves_a_card_an_author_is_kept(coordinator, carded):
    version = services.save_care_card(coordinator, carded, {**CARD, "diet": "Soft."})
    assert version.author_id == coordinator.id


@pytest.mark.parametrize("who", ["provider", "kiosk", "another_caregiver"])
def test_no_one_else_saves_a_card(request, recipient, who):
    actor = factories.CaregiverProfileFactory().user if who == "another_caregiver" else request.getfixturevalue(who)
    if who == "provider":
        assign(actor, recipient)  # even assigned, a provider only reads
    with pytest.raises(PermissionError):
        services.save_care_card(actor, recipient, CARD)
    assert count(CareCardVersion) == 0


def test_a_save_on_top_of_a_newer_version_is_refused(caregiver, coordinator, carded):
    services.save_care_card(coordinator, carded, {**CARD, "diet": "Soft."})
    with pytest.raises(CareError, match="Someone saved version 2"):
        services.save_care_card(caregiver, carded, {**CARD, "mobility": "Frame."}, expected_number=1)
    assert services.save_care_card(caregiver, carded, {**CARD, "mobility": "Frame."}, expected_number=2).number == 3


def test_a_deactivated_persons_card_is_not_changed(caregiver, carded):
    carded.active = False
    with pytest.raises(CareError, match="no longer active"):
        services.save_care_card(caregiver, carded, {**CARD, "diet": "Soft."})


def test_clean_card_keeps_the_limits():
    many = [{"name": f"Medicine {n}"} for n in range(services.LIST_LIMIT + 5)]
    card = services.clean_card({"needs": "x" * (services.TEXT_LIMIT + 10), "medications": many, "unknown": "dropped"})
    assert len(card["needs"]) == services.TEXT_LIMIT
    assert len(card["medications"]) == services.LIST_LIMIT
    assert card["medications"][0] == {"name": "Medicine 0", "dose": "", "times": ""}
    assert "unknown" not in card


# --- Reads ---------------------------------------------------------------------------------------------


def test_a_read_is_recorded_with_its_version(provider, carded):
    assert services.record_card_read(provider, carded) is True
    (row,) = audit_rows("care.card_read")
    assert (row.actor_id, row.entity_id, row.meta) == (provider.id, str(carded.id), {"version": 1, "purpose": "view"})


def test_no_card_no_read(caregiver, recipient):
    assert services.record_card_read(caregiver, recipient) is False
    assert audit_rows("care.card_read") == []


# --- Acknowledgements --------------------------------------------------------------------------------------


def test_an_assigned_provider_acknowledges_the_current_version(provider, carded, published):
    assignment = assign(provider, carded)
    ack = services.acknowledge_care_card(provider, carded, assignment.session)
    assert (ack.card_version_id, ack.provider_id, ack.session_id) == (
        carded.card.id,
        provider.provider_profile.id,
        assignment.session.id,
    )
    (row,) = audit_rows("care.card_acknowledge")
    assert row.meta == {"version": 1, "session_id": assignment.session.id}
    assert published == []  # nothing leaves before the commit
    db.session.commit()
    assert published == [(realtime.user_channel(carded.caregiver.user_id), "session", {"recipient_id": carded.id})]


def test_an_offered_provider_may_acknowledge_without_naming_a_session(provider, carded):
    assign(provider, carded, AssignmentStatus.OFFERED)
    assert services.acknowledge_care_card(provider, carded).session_id is None


def test_acknowledging_twice_records_once(provider, carded, published):
    assign(provider, carded)
    first = services.acknowledge_care_card(provider, carded)
    again = services.acknowledge_care_card(provider, carded)
    db.session.commit()
    assert again.id == first.id
    assert count(CareCardAcknowledgement) == 1
    assert len(audit_rows("care.card_acknowledge")) == 1
    assert len(published) == 1


def test_a_double_tap_that_loses_the_race_returns_the_winners_acknowledgement(provider, carded, monkeypatch):
    assign(provider, carded)
    winner = services.acknowledge_care_card(provider, carded)
    looked = []
    real = services.existing_acknowledgement

    def not_yet_seen(version, provider_id):
        # The first look happens before the other transaction's row is visible.
        looked.append(1)
        return None if len(looked) == 1 else real(version, provider_id)

    monkeypatch.setattr(services, "existing_acknowledgement", not_yet_seen)
    assert services.acknowledge_care_card(provider, carded).id == winner.id
    assert count(CareCardAcknowledgement) == 1
    assert len(audit_rows("care.card_acknowledge")) == 1


def test_a_new_version_needs_a_new_acknowledgement(caregiver, provider, carded):
    assign(provider, carded)
    services.acknowledge_care_card(provider, carded)
    services.save_care_card(caregiver, carded, {**CARD, "diet": "Soft."})
    ack = services.acknowledge_care_card(provider, carded)
    assert ack.card_version.number == 2
    assert count(CareCardAcknowledgement) == 2


@pytest.mark.parametrize("status", [AssignmentStatus.DECLINED, AssignmentStatus.CANCELLED])
def test_a_provider_without_a_live_assignment_may_not_acknowledge(provider, carded, status):
    assign(provider, carded, status)
    with pytest.raises(PermissionError):
        services.acknowledge_care_card(provider, carded)
    assert count(CareCardAcknowledgement) == 0
    assert audit_rows("care.card_acknowledge") == []


def test_a_provider_may_not_acknowledge_through_another_persons_session(provider, carded):
    elsewhere = assign(provider, factories.CareRecipientFactory())
    assign(provider, carded, AssignmentStatus.CANCELLED, days=2)
    with pytest.raises(PermissionError):
        services.acknowledge_care_card(provider, carded, elsewhere.session)
    with pytest.raises(PermissionError):
        services.acknowledge_care_card(provider, carded)


def test_a_provider_names_a_session_they_are_not_on(provider, carded):
    assign(provider, carded)
    others = assign(factories.ProviderProfileFactory().user, carded, days=3)
    with pytest.raises(PermissionError):
        services.acknowledge_care_card(provider, carded, others.session)


@pytest.mark.parametrize("who", ["caregiver", "coordinator", "kiosk"])
def test_only_providers_acknowledge(request, carded, who):
    with pytest.raises(PermissionError):
        services.acknowledge_care_card(request.getfixturevalue(who), carded)


def test_a_provider_without_a_profile_may_not_acknowledge(carded):
    bare = factories.UserFactory(role=Role.PROVIDER)
    with pytest.raises(PermissionError):
        services.acknowledge_care_card(bare, carded)


def test_there_is_nothing_to_acknowledge_without_a_card(provider, recipient):
    assign(provider, recipient)
    with pytest.raises(CareError, match="Elena has no care card yet."):
        services.acknowledge_care_card(provider, recipient)


# --- Who has read which version --------------------------------------------------------------------------


def test_who_has_read_which_version(caregiver, carded):
    current, older, none = (factories.ProviderProfileFactory(user__display_name=n).user for n in ("Cy", "Olga", "Ned"))
    assign(current, carded, days=1)
    assign(older, carded, AssignmentStatus.OFFERED, days=2)
    assign(none, carded, days=3)
    services.acknowledge_care_card(older, carded)
    services.save_care_card(caregiver, carded, {**CARD, "diet": "Soft."})
    services.acknowledge_care_card(current, carded)
    readers = services.acknowledgements_for(carded)
    assert [(r.name, r.version, r.current_version, r.state) for r in readers] == [
        ("Cy", 2, 2, "current"),
        ("Olga", 1, 2, "older"),
        ("Ned", None, 2, "none"),
    ]


def test_readers_are_those_on_coming_sessions_with_live_assignments_once_each(carded):
    twice = factories.ProviderProfileFactory(user__display_name="Twice").user
    first = assign(twice, carded, days=2)
    assign(twice, carded, days=1, session_status=SessionStatus.REQUESTED)
    assign(factories.ProviderProfileFactory().user, carded, AssignmentStatus.DECLINED, days=3)
    assign(factories.ProviderProfileFactory().user, carded, days=4, session_status=SessionStatus.CANCELLED)
    assign(factories.ProviderProfileFactory().user, carded, days=-2, session_status=SessionStatus.COMPLETED)
    assign(factories.ProviderProfileFactory().user, factories.CareRecipientFactory())  # another person
    (reader,) = services.acknowledgements_for(carded)
    assert reader.name == "Twice"
    assert reader.next_session_starts_at < first.session.starts_at


def test_no_readers_for_a_person_without_sessions(recipient):
    assert services.acknowledgements_for(recipient) == []
