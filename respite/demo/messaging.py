"""A demo conversation between a caregiver and her provider about tomorrow's visit, with a photo of the
medication list (stored encrypted, like any attachment)."""

import hashlib
import io
from datetime import datetime, timedelta

from PIL import Image, ImageDraw

from ..extensions import db
from ..messaging import attachments
from ..models import Attachment, Conversation, Message, Participant
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
    photo = Message(
        conversation=conversation,
        sender=rosa,
        created_at=now - timedelta(hours=1),
        body="Here is her medication list, in case you need it.",
    )
    db.session.add_all([first, second, photo])
    _attach(photo, "medication-list.png", _medication_list())
    conversation.last_message_at = photo.created_at
    db.session.flush()
    for participant in conversation.participants:
        participant.last_read_message_id = first.id if participant.user is marcus else photo.id


def _medication_list() -> bytes:
    """A small picture of a handwritten-looking list, as a phone's photo of it would be."""
    image = Image.new("RGB", (480, 300), "white")
    draw = ImageDraw.Draw(image)
    lines = [
        "Elena - medication",
        "",
        "8:00   Donepezil 10 mg (with breakfast)",
        "8:00   Vitamin D 1000 IU",
        "13:00  Paracetamol 500 mg if in pain",
        "20:00  Memantine 10 mg",
        "",
        "No grapefruit. Water with every tablet.",
    ]
    for number, line in enumerate(lines):
        draw.text((24, 24 + number * 30), line, fill="#1d2b36", font_size=18)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _attach(message: Message, filename: str, data: bytes) -> None:
    """The file written encrypted under a new key, and its row (the demo records no audit rows)."""
    storage_key = attachments.write_encrypted(data)
    db.session.add(
        Attachment(
            message=message,
            filename=filename,
            content_type="image/png",
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key=storage_key,
        )
    )
