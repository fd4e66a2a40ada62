"""Messaging rules: who may talk to whom, conversations, messages, read markers and unread counts."""

import pytest

from respite import realtime
from respite.extensions import db
from respite.messaging import services
from respite.messaging.services import MessagingError
from respite.models import AssignmentStatus
from tests import factories
from tests.helpers import audit_rows, counted_statements


@pytest.fixture
def family():
    return factories.CaregiverProfileFactory(user__display_name="Rosa Martinez").user


@pytest.fixture
def their_provider(family):
    session = factories.RespiteSessionFactory(
        recipient=factories.CareRecipientFactory(caregiver=family.caregiver_profile), status="confirmed"
    )
    return factories.AssignmentFactory(session=session, provider__user__display_name="Aisha Rahman").provider.user


# --- Who may talk to whom ---------------------------------------------------------------------


def test_a_family_talks_with_the_providers_of_its_sessions_and_coordinators(family, their_provider, coordinator):
    stranger = factories.ProviderProfileFactory().user
    assert services.may_talk(family, their_provider)
    assert services.may_talk(their_provider, family)
    assert services.may_talk(family, coordinator)
    assert not services.may_talk(family, stranger)


def test_an_offer_alone_is_not_a_reason_to_talk(family):
    session = factories.RespiteSessionFactory(
        recipient=factories.CareRecipientFactory(caregiver=family.caregiver_profile)
    )
    offered = factories.AssignmentFactory(session=session, status=AssignmentStatus.OFFERED).provider.user
    assert not services.may_talk(family, offered)


def test_kiosks_talk_with_no_one_and_no_one_with_themselves(family, coordinator, kiosk, provider):
    assert not services.may_talk(coordinator, kiosk)
    assert not services.may_talk(kiosk, family)
    assert not services.may_talk(coordinator, coordinator)
    assert services.may_talk(provider, coordinator)
    other_family = factories.CaregiverProfileFactory().user
    assert not services.may_talk(family, other_family)


def test_no_one_talks_with_a_deactivated_account(family, coordinator):
    family.active = False
    assert not services.may_talk(coordinator, family)


# --- Conversations and messages ---------------------------------------------------------------


def test_a_conversation_starts_with_its_first_message_and_tells_the_others(family, their_provider, published):
    conversation = services.start_conversation(
        family, [their_provider], subject="Saturday", body="  She naps at two.  "
    )

    (message,) = services.thread(conversation)
    assert message.body == "She naps at two."
    assert conversation.last_message_at == message.created_at
    assert {p.user_id for p in conversation.participants} == {family.id, their_provider.id}
    assert audit_rows("conversation.start")
    assert audit_rows("message.send")
    assert published == []
    db.session.commit()
    assert (realtime.user_channel(their_provider.id), "message", {"conversation_id": conversation.id}) in published
    assert all(channel != realtime.user_channel(family.id) for channel, _, _ in published)


def test_no_conversation_with_someone_one_may_not_talk_to(family):
    stranger = factories.ProviderProfileFactory().user
    with pytest.raises(PermissionError):
        services.start_conversation(family, [stranger], subject="Hi", body="Hello")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("   ", "Write a message first."),
        ("x" * (services.BODY_LIMIT + 1), "Keep a message to 4000 characters; send the rest in another."),
        ("bell\x07", "Remove the hidden control characters from the message."),
    ],
)
def test_a_message_is_written_text_of_a_sensible_length(family, their_provider, body, message):
    conversation = services.start_conversation(family, [their_provider], subject="Hi", body="Hello")
    with pytest.raises(MessagingError, match=message):
        services.send_message(their_provider, conversation, body)


def test_line_breaks_and_tabs_are_kept(family, their_provider):
    conversation = services.start_conversation(family, [their_provider], subject="List", body="Milk\n\tand bread")
    assert services.thread(conversation)[0].body == "Milk\n\tand bread"


def test_only_participants_write_read_or_load_a_conversation(family, their_provider, coordinator):
    conversation = services.start_conversation(family, [their_provider], subject="Hi", body="Hello")
    with pytest.raises(PermissionError):
        services.send_message(coordinator, conversation, "Let me in")
    with pytest.raises(PermissionError):
        services.mark_read(coordinator, conversation)
    assert services.get_conversation_for(their_provider, conversation.id) is conversation
    assert services.get_conversation_for(coordinator, conversation.id) is None


# --- Read markers and unread counts ----------------------------------------------------------


def test_unread_counts_come_from_the_read_markers(family, their_provider, published):
    conversation = services.start_conversation(family, [their_provider], subject="Hi", body="One")
    services.send_message(family, conversation, "Two")
    assert services.unread_total(their_provider) == 2
    assert services.unread_total(family) == 0  # one's own messages are read
    (entry,) = services.inbox(their_provider)
    assert (entry.unread, entry.others) == (2, ["Rosa Martinez"])

    assert services.mark_read(their_provider, conversation) is True
    assert services.mark_read(their_provider, conversation) is False  # nothing new
    assert services.unread_total(their_provider) == 0
    assert len(audit_rows("message.read")) == 1
    db.session.commit()
    assert (realtime.user_channel(family.id), "read", {"conversation_id": conversation.id}) in published

    services.send_message(their_provider, conversation, "Three")
    assert services.unread_total(family) == 1


def test_the_inbox_is_newest_activity_first(family, their_provider, coordinator):
    first = services.start_conversation(family, [their_provider], subject="First", body="a")
    second = services.start_conversation(family, [coordinator], subject="Second", body="b")
    assert [e.conversation for e in services.inbox(family)] == [second, first]
    services.send_message(their_provider, first, "c")
    assert [e.conversation for e in services.inbox(family)] == [first, second]


def test_a_thread_pages_back_through_older_messages(family, their_provider):
    conversation = services.start_conversation(family, [their_provider], subject="Many", body="0")
    for number in range(1, 7):
        services.send_message(family, conversation, str(number))
    newest = services.thread(conversation, limit=3)
    assert [m.body for m in newest] == ["4", "5", "6"]
    older = services.thread(conversation, limit=3, before_id=newest[0].id)
    assert [m.body for m in older] == ["1", "2", "3"]


@pytest.mark.parametrize("count", [1, 30])
def test_the_inbox_and_the_badge_take_the_same_statements_however_many_conversations(family, coordinator, count):
    for number in range(count):
        services.start_conversation(coordinator, [family], subject=f"Note {number}", body="Hello")
    db.session.expire_all()
    assert family.id  # the user loaded again, before counting
    with counted_statements() as statements:
        entries = services.inbox(family)
        total = services.unread_total(family)
        [e.others for e in entries]
    assert (len(entries), total) == (count, count)
    assert len(statements) == 3
