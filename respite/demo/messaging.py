"""A demo conversation between a caregiver and her provider about tomorrow's visit."""

from datetime import datetime, timedelta

from ..extensions import db
from ..models import Conversation, Message, Participant
from .accounts import People
from .scheduling import Sessions


def seed(people: People, sessions: Sessions, now: datetime) -> None:
    conversation = Conversation(subject="Tomorrow's visit", session=sessions.confirmed)
    db.session.add(conversation)
    rosa = people.users["caregiver@demo.respite.test"]
    marcus = people.users["provider@demo.respite.test"]
    db.session.add_all(
        [Participant(conversation=conversation, user=rosa), Participant(conversation=conversation, user=marcus)]
    )
    first = Message(
        conversation=conversation,
        sender=rosa,
        created_at=now - timedelta(hours=3),
        body="Hi Marcus, Mum gets anxious in the mornings. The radio helps.",
    )
    second = Message(
        conversation=conversation,
        sender=marcus,
        created_at=now - timedelta(hours=2),
        body="Thanks Rosa, I'll bring her favourite station up. See you at 10.",
    )
    db.session.add_all([first, second])
    conversation.last_message_at = second.created_at
    db.session.flush()
    for participant in conversation.participants:
        participant.last_read_message_id = first.id if participant.user is marcus else second.id
