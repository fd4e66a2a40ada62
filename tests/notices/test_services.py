"""Notices: who is told of each change, in what words and in whose time, by email when they chose so, and only
once the change is committed; the reader's list, reading, email choices."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from respite import realtime
from respite.care import services as care
from respite.extensions import db
from respite.messaging import services as messaging
from respite.models import (
    AssignmentStatus,
    Availability,
    Notice,
    NoticeKind,
    NoticePreference,
    SessionStatus,
    User,
    utcnow,
)
from respite.notices import services as notices
from respite.scheduling import assignments
from respite.scheduling import services as scheduling
from respite.visits import services as visits
from tests import factories
from tests.helpers import audit_rows, sent_mail

K = NoticeKind
S = SessionStatus
# Tue 3 Dec 2030, 15:00 UTC: 09:00 in Chicago (the family's zone), 15:00 in London (Aisha's).
START = datetime(2030, 12, 3, 15, 0, tzinfo=UTC)
FAMILY_TIME = "Tue 3 Dec 2030, 09:00 – 12:00"
AISHA_TIME = "Tue 3 Dec 2030, 15:00 – 18:00"


@pytest.fixture
def family():
    return factories.CaregiverProfileFactory(
        full_name="Rosa Alvarez", user__display_name="Rosa Alvarez", user__timezone="America/Chicago"
    )


@pytest.fixture
def elena(family):
    return factories.CareRecipientFactory(caregiver=family, first_name="Elena", last_name="Alvarez")


@pytest.fixture
def aisha():
    return factories.ProviderProfileFactory(user__display_name="Aisha Rahman", user__timezone="Europe/London")


@pytest.fixture
def marcus():
    return factories.ProviderProfileFactory(user__display_name="Marcus Webb", user__timezone="America/Chicago")


@pytest.fixture
def cora():
    return factories.UserFactory(role="coordinator", display_name="Cora Coordinator", timezone="America/Chicago")


@pytest.fixture
def dana():
    """Another coordinator."""
    return factories.UserFactory(role="coordinator", display_name="Dana Desk", timezone="America/Chicago")


def request_for(elena, start=START, **extra):
    return factories.RespiteSessionFactory(
        recipient=elena, starts_at=start, ends_at=start + timedelta(hours=3), **extra
    )


@pytest.fixture
def requested(elena):
    return request_for(elena)


@pytest.fixture
def confirmed(elena, aisha):
    """Elena's confirmed session, which Aisha gives."""
    session = request_for(elena, status=S.CONFIRMED)
    factories.AssignmentFactory(session=session, provider=aisha)
    db.session.refresh(session)
    return session


def free_all_week(profile):
    for weekday in range(7):
        db.session.add(Availability(provider=profile, kind="weekly", weekday=weekday, start_minute=0, end_minute=1440))
    db.session.flush()


def told(user, kind=None):
    """The notices `user` has, oldest first (of `kind` only, when given)."""
    query = select(Notice).where(Notice.user_id == user.id).order_by(Notice.id)
    if kind is not None:
        query = query.where(Notice.kind == kind)
    return db.session.scalars(query).all()


def texts(user):
    return [n.text for n in told(user)]


def notice_events(published):
    return {channel for channel, kind, _ in published if kind == "notice"}


# --- tell() ---------------------------------------------------------------------------------------------


def test_one_notice_per_person_never_the_actor_nor_an_inactive_account_nor_a_kiosk(family, aisha, cora, kiosk):
    gone = factories.UserFactory(role="provider", active=False)
    made = notices.tell(
        [family.user, aisha.user, aisha.user, cora, gone, kiosk, None], K.CANCELLED, "Cancelled.", actor=cora
    )

    assert {n.user_id for n in made} == {family.user.id, aisha.user.id}
    assert [n.text for n in told(aisha.user)] == ["Cancelled."]
    assert told(cora) == told(gone) == told(kiosk) == []
    assert (made[0].actor_id, made[0].read_at) == (cora.id, None)


def test_each_reader_gets_the_sentence_in_their_own_zone(confirmed, family, aisha):
    notices.tell(
        [family.user, aisha.user], K.REMINDER, lambda reader: f"At {notices.span(confirmed, reader)}", session=confirmed
    )
    assert texts(family.user) == [f"At {FAMILY_TIME}"]
    assert texts(aisha.user) == [f"At {AISHA_TIME}"]
    assert told(aisha.user)[0].session_id == confirmed.id


def test_the_notice_event_leaves_after_the_commit_only_to_the_readers(family, aisha, cora, published):
    notices.tell([family.user], K.CANCELLED, "Cancelled.", actor=cora)
    assert published == []
    db.session.commit()
    assert notice_events(published) == {realtime.user_channel(family.user.id)}
    assert all(data == {} for _, kind, data in published if kind == "notice")  # ids only, and none needed


def test_a_rollback_takes_the_notice_its_event_and_its_email_away(family, cora, app, published):
    notices.tell([family.user], K.CANCELLED, "Cancelled.", actor=cora)
    db.session.rollback()
    db.session.commit()
    assert told(family.user) == []
    assert published == []
    assert sent_mail(app, family.user.email) == []


def test_email_follows_the_readers_choice_else_the_kinds_default(app, family, aisha, marcus):
    db.session.add(NoticePreference(user_id=aisha.user.id, kind=K.CANCELLED, by_email=False))
    db.session.add(NoticePreference(user_id=marcus.user.id, kind=K.CONFIRMED, by_email=True))
    people = [family.user, aisha.user, marcus.user]
    with app.test_request_context():  # without BASE_URL, links are on the request's host
        notices.tell(people, K.CANCELLED, "Elena's session is cancelled: hospital appointment")
        notices.tell(people, K.CONFIRMED, "Elena's session is confirmed.")
    assert sent_mail(app) == []  # nothing before the commit
    db.session.commit()

    (to_family,) = sent_mail(app, family.user.email)  # cancelled: emailed by default; confirmed: not
    assert to_family["Subject"] == "Respite: a session is cancelled"
    body = to_family.get_content()
    assert "Elena's session is cancelled: hospital appointment" in body
    (notice,) = told(family.user, K.CANCELLED)
    assert f"http://localhost/notices/{notice.id}" in body
    assert "http://localhost/notices/settings" in body
    assert sent_mail(app, aisha.user.email) == []  # she turned cancellations off
    assert [m["Subject"] for m in sent_mail(app, marcus.user.email)] == [
        "Respite: a session is cancelled",
        "Respite: a session is confirmed",  # he turned confirmations on
    ]


def test_links_in_emails_use_base_url_in_a_command_too(app, family, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://respite.example.org")
    notices.tell([family.user], K.DECLINED, "Declined.")  # no request here, as in `flask send-reminders`
    db.session.commit()
    (mail,) = sent_mail(app, family.user.email)
    assert f"https://respite.example.org/notices/{told(family.user)[0].id}" in mail.get_content()


def test_collapsing_skips_those_with_an_unread_notice_about_the_same_thing(family, aisha, cora):
    first = notices.tell([family.user], K.MESSAGE, "One", collapse=True)
    again = notices.tell([family.user, aisha.user], K.MESSAGE, "Two", collapse=True)
    assert len(first) == 1
    assert [n.user_id for n in again] == [aisha.user.id]
    notices.mark_read(family.user, first[0])
    assert len(notices.tell([family.user], K.MESSAGE, "Three", collapse=True)) == 1


def test_the_view_can_say_who_was_told_until_the_commit(family, aisha, cora, dana):
    assert notices.told_sentence() == ""
    notices.tell([family.user], K.CANCELLED, "x")
    assert notices.told_sentence() == "Rosa Alvarez is told."
    notices.tell([aisha.user, cora], K.CANCELLED, "x")
    assert notices.told_sentence() == "Rosa Alvarez, Aisha Rahman and Cora Coordinator are told."
    notices.tell([dana], K.CANCELLED, "x")
    assert notices.told_sentence() == "Rosa Alvarez, Aisha Rahman and the coordinators are told."
    db.session.commit()
    assert notices.told_sentence() == ""


# --- Confirmed, and by whom ----------------------------------------------------------------------------


def test_a_coordinator_assigns_the_family_hears_who_confirmed_and_who_gives_it(requested, family, aisha, cora, dana):
    assignments.assign(cora, requested, aisha, now=START - timedelta(days=1))

    assert texts(family.user) == [
        f"Cora Coordinator confirmed Elena's session on {FAMILY_TIME}: Aisha Rahman will give it."
    ]
    assert texts(aisha.user) == [f"Cora Coordinator assigned you Elena Alvarez's session on {AISHA_TIME}."]
    assert {n.kind for n in told(family.user) + told(aisha.user)} == {K.CONFIRMED}
    assert told(cora) == told(dana) == []


@pytest.mark.parametrize("how", ["accept", "take"])
def test_a_provider_who_confirms_is_named_and_not_told_of_it_themself(requested, family, aisha, cora, how):
    if how == "accept":
        offer = assignments.offer(cora, requested, aisha, now=START - timedelta(days=1)).assignment
        assignments.accept_offer(aisha.user, offer, now=START - timedelta(days=1))
    else:
        aisha.center = requested.center
        free_all_week(aisha)
        assignments.take_request(aisha.user, requested, now=START - timedelta(days=1))

    assert texts(family.user) == [f"Aisha Rahman confirmed Elena's session on {FAMILY_TIME}."]
    assert told(family.user)[0].session_id == requested.id
    assert told(aisha.user) == told(cora) == []


# --- Provider changed ------------------------------------------------------------------------------------


def test_a_reassignment_tells_the_family_the_old_provider_with_the_reason_and_the_new_one(
    confirmed, family, aisha, marcus, cora
):
    assignments.reassign(cora, confirmed, marcus, reason="Aisha is unwell", now=START - timedelta(days=1))

    assert texts(family.user) == [f"Marcus Webb will give Elena's session on {FAMILY_TIME} instead of Aisha Rahman."]
    assert texts(aisha.user) == [
        f"Cora Coordinator gave Elena Alvarez's session on {AISHA_TIME} to Marcus Webb: Aisha is unwell"
    ]
    assert texts(marcus.user) == [
        f"Cora Coordinator gave you Elena Alvarez's session on {FAMILY_TIME} instead of Aisha Rahman."
    ]
    assert {n.kind for n in told(family.user) + told(aisha.user) + told(marcus.user)} == {K.PROVIDER_CHANGED}
    assert told(cora) == []


# --- Declined, cancelled ---------------------------------------------------------------------------------


def test_a_declined_request_tells_the_family_why(requested, family, cora):
    assignments.decline_request(cora, requested, reason="No provider is free that week")
    (notice,) = told(family.user)
    assert (notice.kind, notice.session_id) == (K.DECLINED, requested.id)
    assert (
        notice.text
        == f"Cora Coordinator declined the request for Elena on {FAMILY_TIME}: No provider is free that week"
    )


def test_a_coordinator_cancels_the_family_and_provider_hear_why_and_no_coordinator_does(
    confirmed, family, aisha, cora, dana
):
    scheduling.cancel_session(cora, confirmed, reason="Center closed: burst pipe")

    assert texts(family.user) == [
        f"Cora Coordinator cancelled Elena's session on {FAMILY_TIME}: Center closed: burst pipe"
    ]
    assert texts(aisha.user) == [
        f"Cora Coordinator cancelled Elena Alvarez's session on {AISHA_TIME}: Center closed: burst pipe"
    ]
    assert told(cora) == told(dana) == []


def test_the_family_cancels_their_provider_and_the_coordinators_hear_why(confirmed, family, aisha, cora, dana, app):
    scheduling.cancel_session(family.user, confirmed, reason="hospital appointment")
    db.session.commit()

    expected = f"Rosa Alvarez cancelled Elena Alvarez's session on {FAMILY_TIME}: hospital appointment"
    assert texts(cora) == texts(dana) == [expected]
    assert texts(aisha.user) == [expected.replace(FAMILY_TIME, AISHA_TIME)]
    assert told(family.user) == []
    # Cancellations come by email unless someone chose otherwise.
    assert [m["Subject"] for m in sent_mail(app, aisha.user.email)] == ["Respite: a session is cancelled"]


def test_a_request_nobody_had_arranged_yet_is_cancelled_quietly(requested, family, cora):
    scheduling.cancel_session(family.user, requested, reason="Feeling better")
    assert told(cora) == []


def test_a_request_with_an_offer_out_tells_the_coordinators_but_not_the_offered_provider(
    requested, family, aisha, cora
):
    factories.AssignmentFactory(session=requested, provider=aisha, status=AssignmentStatus.OFFERED)
    db.session.refresh(requested)
    scheduling.cancel_session(family.user, requested)
    assert texts(cora) == [f"Rosa Alvarez cancelled Elena Alvarez's session on {FAMILY_TIME}."]
    assert told(aisha.user) == []


def test_a_cancelled_series_is_one_notice_each_naming_how_many(elena, family, aisha, marcus, cora):
    series = [request_for(elena, START + timedelta(weeks=w), series_id="s-1", status=S.CONFIRMED) for w in range(3)]
    factories.AssignmentFactory(session=series[0], provider=aisha)
    for session in series[1:]:
        factories.AssignmentFactory(session=session, provider=marcus)
    for session in series:
        db.session.refresh(session)

    cancelled = scheduling.cancel_series(family.user, series[0], reason="Moving away")

    assert len(cancelled) == 3
    assert texts(cora) == [f"Rosa Alvarez cancelled 3 of Elena Alvarez's sessions, from {FAMILY_TIME}: Moving away"]
    assert texts(aisha.user) == [f"Rosa Alvarez cancelled Elena Alvarez's session on {AISHA_TIME}: Moving away"]
    assert texts(marcus.user) == [
        "Rosa Alvarez cancelled 2 of Elena Alvarez's sessions, from Tue 10 Dec 2030, 09:00 – 12:00: Moving away"
    ]
    assert told(marcus.user)[0].session_id == series[1].id


# --- Time changed ----------------------------------------------------------------------------------------


def details_for(session, start=time(13, 0), day=date(2030, 12, 3)):
    return scheduling.RequestDetails(
        recipient_id=session.recipient_id, day=day, start=start, minutes=180, center_id=session.center_id
    )


def test_a_request_moved_while_offered_tells_the_provider_and_the_coordinators(requested, family, aisha, cora):
    assignments.offer(cora, requested, aisha, now=START - timedelta(days=1))
    scheduling.edit_request(family.user, requested, details_for(requested), now=START - timedelta(days=1))

    moved = "Rosa Alvarez moved the request for Elena Alvarez from {} to {}; "
    assert texts(aisha.user) == [
        moved.format(AISHA_TIME, "Tue 3 Dec 2030, 19:00 – 22:00") + "your offer for it is withdrawn."
    ]
    assert told(aisha.user)[0].session_id is None  # the request is no longer hers to open
    assert texts(cora) == [
        moved.format(FAMILY_TIME, "Tue 3 Dec 2030, 13:00 – 16:00") + "the offers out for it are withdrawn."
    ]
    assert {n.kind for n in told(aisha.user) + told(cora)} == {K.TIME_CHANGED}


def test_a_request_moved_with_no_offer_out_tells_no_one(requested, family, cora):
    scheduling.edit_request(family.user, requested, details_for(requested), now=START - timedelta(days=1))
    assert told(cora) == []


def test_a_confirmed_session_changed_by_the_family_is_cancelled_for_its_provider_with_the_new_time(
    confirmed, family, aisha, cora
):
    scheduling.change_session(family.user, confirmed, details_for(confirmed), now=START - timedelta(days=1))

    (notice,) = told(aisha.user)
    assert notice.kind == K.CANCELLED
    assert notice.text.startswith(
        f"Rosa Alvarez cancelled Elena Alvarez's session on {AISHA_TIME}: Changed by the family"
    )
    assert "Tue 3 Dec 2030, 13:00 – 16:00" in notice.text
    assert len(told(cora)) == 1  # the coordinators find a provider for the new request


# --- Checked in and out ----------------------------------------------------------------------------------


def test_the_family_hears_when_their_person_is_checked_in_and_out(confirmed, family, aisha, cora):
    visits.check_in(aisha.user, confirmed, now=START + timedelta(minutes=2))
    visits.check_out(cora, confirmed, now=START + timedelta(hours=3))

    assert [(n.kind, n.text) for n in told(family.user)] == [
        (K.CHECKED_IN, "Aisha Rahman checked Elena in at Tue 3 Dec, 09:02."),
        (K.CHECKED_OUT, "Cora Coordinator checked Elena out at Tue 3 Dec, 12:00."),
    ]
    assert told(aisha.user) == told(cora) == []


# --- Care card changed -----------------------------------------------------------------------------------


def test_a_changed_care_card_tells_the_providers_of_coming_confirmed_sessions_only(
    confirmed, elena, family, aisha, marcus
):
    care.save_care_card(family.user, elena, {"needs": "Reminders to drink"})
    offered = factories.ProviderProfileFactory()
    factories.AssignmentFactory(
        session=request_for(elena, START + timedelta(days=9)), provider=offered, status="offered"
    )
    past = request_for(elena, datetime(2026, 1, 5, 15, tzinfo=UTC), status=S.COMPLETED)
    factories.AssignmentFactory(session=past, provider=marcus)

    care.save_care_card(family.user, elena, {"needs": "Reminders to drink", "allergies": "Penicillin"})

    assert [(n.kind, n.text) for n in told(aisha.user)] == [
        (
            K.CARE_CARD_CHANGED,
            "Rosa Alvarez wrote Elena Alvarez's care card. Read it before your session on Tue 3 Dec, 15:00.",
        ),
        (
            K.CARE_CARD_CHANGED,
            "Rosa Alvarez changed Elena Alvarez's care card (version 2: allergies). "
            "Read it before your session on Tue 3 Dec, 15:00.",
        ),
    ]
    assert told(aisha.user)[0].recipient_id == elena.id
    assert told(marcus.user) == told(offered.user) == told(family.user) == []


# --- A new message ---------------------------------------------------------------------------------------


def test_a_message_tells_the_others_once_until_they_read_the_conversation(confirmed, family, aisha, cora):
    conversation = messaging.start_conversation(family.user, [aisha.user, cora], subject="Saturday", body="Hello")
    messaging.send_message(family.user, conversation, "And another thing")

    (notice,) = told(aisha.user)
    assert (notice.kind, notice.conversation_id) == (K.MESSAGE, conversation.id)
    assert notice.text == "Rosa Alvarez wrote to you: “Saturday”."
    assert len(told(cora)) == 1
    assert told(family.user) == []

    messaging.mark_read(aisha.user, conversation)  # the thread, read: its notice is read with it
    assert told(aisha.user)[0].read_at is not None
    messaging.send_message(cora, conversation, "Noted")
    assert [n.text for n in told(aisha.user)] == [
        "Rosa Alvarez wrote to you: “Saturday”.",
        "Cora Coordinator wrote to you: “Saturday”.",
    ]
    assert len(told(family.user)) == 1


def test_messages_are_not_emailed_unless_chosen(app, family, aisha, cora):
    conversation = messaging.start_conversation(family.user, [cora], subject="Hi", body="Hello")
    db.session.commit()
    assert sent_mail(app, cora.email) == []
    notices.set_preferences(cora, {K.MESSAGE: True})
    messaging.mark_read(cora, conversation)
    messaging.send_message(family.user, conversation, "Again")
    db.session.commit()
    assert [m["Subject"] for m in sent_mail(app, cora.email)] == ["Respite: a new message arrives"]


# --- The reader's notices --------------------------------------------------------------------------------


def test_the_list_is_the_readers_own_newest_first_by_page(family, aisha):
    for number in range(25):
        factories.NoticeFactory(user=family.user, text=f"Number {number}")
    factories.NoticeFactory(user=aisha.user)

    first = notices.notices_for(family.user)
    assert first.total == 25
    assert [n.text for n in first.items][:2] == ["Number 24", "Number 23"]
    assert [n.text for n in notices.notices_for(family.user, page=2).items] == [f"Number {n}" for n in range(4, -1, -1)]
    assert notices.notices_for(family.user, page=10**9).items == []
    assert notices.unread_count(family.user) == 25


def test_a_notice_is_found_only_for_its_reader(family, aisha):
    notice = factories.NoticeFactory(user=family.user)
    assert notices.get_notice_for(family.user, notice.id) is notice
    assert notices.get_notice_for(aisha.user, notice.id) is None
    with pytest.raises(PermissionError):
        notices.mark_read(aisha.user, notice)


def test_reading_marks_once_and_tells_the_readers_other_pages(family, published):
    notice = factories.NoticeFactory(user=family.user)
    assert notices.mark_read(family.user, notice) is True
    assert notices.mark_read(family.user, notice) is False
    db.session.commit()
    assert notice_events(published) == {realtime.user_channel(family.user.id)}


def test_all_can_be_read_at_once(family, aisha):
    for _ in range(3):
        factories.NoticeFactory(user=family.user)
    theirs = factories.NoticeFactory(user=aisha.user)
    assert notices.mark_all_read(family.user) == 3
    assert notices.unread_count(family.user) == 0
    assert notices.mark_all_read(family.user) == 0
    db.session.refresh(theirs)
    assert theirs.read_at is None


# --- Email choices ---------------------------------------------------------------------------------------


def test_each_role_is_offered_the_kinds_it_can_receive_with_the_defaults(family, aisha, cora, kiosk):
    caregiver = {c.kind: c.by_email for c in notices.preferences_for(family.user)}
    assert (caregiver[K.CANCELLED], caregiver[K.CONFIRMED], caregiver[K.REMINDER]) == (True, False, True)
    assert K.CARE_CARD_CHANGED not in caregiver
    assert K.CARE_CARD_CHANGED in {c.kind for c in notices.preferences_for(aisha.user)}
    assert [c.kind for c in notices.preferences_for(cora)] == [K.TIME_CHANGED, K.CANCELLED, K.MESSAGE]
    assert notices.preferences_for(kiosk) == []
    with pytest.raises(PermissionError):
        notices.set_preferences(kiosk, {})


def test_choices_are_kept_and_audited_and_an_unchanged_form_records_nothing(family):
    wanted = {c.kind: c.by_email for c in notices.preferences_for(family.user)}
    assert notices.set_preferences(family.user, wanted) is False
    assert audit_rows("notice.preferences") == []

    wanted.update({K.CANCELLED: False, K.CONFIRMED: True, K.CARE_CARD_CHANGED: True})
    assert notices.set_preferences(family.user, wanted) is True

    chosen = {c.kind: c.by_email for c in notices.preferences_for(family.user)}
    assert (chosen[K.CANCELLED], chosen[K.CONFIRMED]) == (False, True)
    stored = db.session.scalars(select(NoticePreference.kind).where(NoticePreference.user_id == family.user.id))
    assert K.CARE_CARD_CHANGED not in set(stored)  # not a kind a caregiver gets
    (row,) = audit_rows("notice.preferences")
    assert row.actor_id == family.user.id
    assert row.meta == {"by_email": {"confirmed": True, "cancelled": False}}


# --- Reminders -------------------------------------------------------------------------------------------

BEFORE = START - timedelta(hours=20)


def test_a_reminder_goes_to_the_family_and_the_provider_once(confirmed, family, aisha, app):
    version = confirmed.version
    assert notices.send_reminders(now=BEFORE) == 1
    db.session.commit()
    assert notices.send_reminders(now=BEFORE + timedelta(minutes=5)) == 0
    db.session.commit()

    db.session.refresh(confirmed)
    assert confirmed.reminder_sent_at == BEFORE
    assert confirmed.version == version  # a reminder is not a change anyone has to meet
    center = confirmed.center.name
    assert texts(family.user) == [f"Reminder: Elena's session is on {FAMILY_TIME}, at {center}, with Aisha Rahman."]
    assert texts(aisha.user) == [f"Reminder: your session with Elena Alvarez is on {AISHA_TIME}, at {center}."]
    assert told(aisha.user)[0].session_id == confirmed.id
    assert len(sent_mail(app, family.user.email)) == len(sent_mail(app, aisha.user.email)) == 1  # by default


@pytest.mark.parametrize(
    ("status", "now"),
    [
        (S.CONFIRMED, START - timedelta(hours=25)),  # not yet within the window
        (S.CONFIRMED, START + timedelta(minutes=1)),  # started
        (S.REQUESTED, BEFORE),
        (S.CANCELLED, BEFORE),
    ],
)
def test_no_reminder_outside_the_window_or_for_a_session_not_confirmed(elena, family, status, now):
    request_for(elena, status=status)
    assert notices.send_reminders(now=now) == 0
    assert told(family.user) == []


def test_the_window_is_configured(confirmed, family, app, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_HOURS", 48)
    assert notices.send_reminders(now=START - timedelta(hours=30)) == 1


def test_a_home_visit_reminder_says_at_home(elena, family):
    request_for(elena, status=S.CONFIRMED, center=None, location_kind="home", address="9 Elm Row")
    notices.send_reminders(now=BEFORE)
    assert texts(family.user) == [f"Reminder: Elena's session is on {FAMILY_TIME}, at home."]


def test_the_command_reminds_of_what_is_due_now_and_says_how_many(runner, elena, family, aisha):
    soon = utcnow().replace(microsecond=0) + timedelta(hours=3)
    factories.AssignmentFactory(session=request_for(elena, soon, status=S.CONFIRMED), provider=aisha)
    request_for(elena, soon + timedelta(days=3), status=S.CONFIRMED)  # not due yet

    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Reminders sent for 1 session (starting within 24 hours)."
    assert len(told(family.user, K.REMINDER)) == len(told(aisha.user, K.REMINDER)) == 1

    again = runner.invoke(args=["send-reminders"])
    assert again.output.strip() == "Reminders sent for 0 sessions (starting within 24 hours)."
    assert len(told(family.user, K.REMINDER)) == 1


def test_the_window_is_read_from_the_environment():
    from respite.config import Config

    assert Config.from_env({"REMINDER_HOURS": "36"})["REMINDER_HOURS"] == 36
    assert Config.REMINDER_HOURS == 24


def test_the_demo_has_a_few_notices_marcus_reads_the_called_off_visit_with_its_reason():
    from respite.demo import seed_demo

    seed_demo()
    marcus = db.session.scalar(select(User).where(User.email == "provider@demo.respite.test"))
    newest, older = notices.notices_for(marcus).items
    assert (newest.kind, newest.read_at) == (K.CANCELLED, None)
    assert newest.text.endswith(": Luis is visiting that afternoon.")
    assert older.read_at is not None
    rosa = db.session.scalar(select(User).where(User.email == "caregiver@demo.respite.test"))
    assert notices.unread_count(rosa) == 1
