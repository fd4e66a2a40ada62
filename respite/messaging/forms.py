"""The messaging forms: starting a conversation and replying. They only read what the browser sent; who may
be written to, and what a message may hold, are the services' to say (their refusals land beside the field)."""

import re
from typing import Any

from wtforms import Field, MultipleFileField, StringField, TextAreaField
from wtforms.validators import Length

from ..web.converters import MAX_ID
from ..web.forms import Form
from .errors import MessagingError
from .services import SUBJECT_LIMIT

_ID = re.compile(r"[0-9]{1,10}")


def parse_id(value: object) -> int | None:
    """A database id from a query string or a form (a number from 1 to MAX_ID), or None for anything else."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def parse_ids(values: list[str]) -> list[int]:
    """The ids among `values`, each once, in the order sent; anything that is not an id is left out."""
    ids: list[int] = []
    for value in values:
        number = parse_id(value)
        if number is not None and number not in ids:
            ids.append(number)
    return ids


class IdListField(Field):
    """The ids of the ticked checkboxes that share this field's name (the people a message is for)."""

    data: list[int]

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = parse_ids([str(value) for value in valuelist])

    def _value(self) -> str:
        return ""


class MessageForm(Form):
    """What every message has: its text and its files (checked by the attachments module when sent)."""

    body = TextAreaField("Message")
    files = MultipleFileField("Photos or documents")

    def add_refusal(self, error: MessagingError) -> None:
        """Show the service's refusal beside its field (beside the message when the field is not on this form)."""
        field = self[error.field] if error.field in self else self.body
        field.errors = [*field.errors, str(error)]

    @property
    def field_errors(self) -> dict[str, list[str]]:
        """Each field's messages by name (the file field's template reads `errors`)."""
        return {name: list(field.errors) for name, field in self._fields.items() if field.errors}


class ReplyForm(MessageForm):
    body = TextAreaField("Your reply")


class NewConversationForm(MessageForm):
    recipients = IdListField("To", default=list)
    subject = StringField(
        "Subject",
        validators=[Length(max=SUBJECT_LIMIT, message=f"Keep the subject to {SUBJECT_LIMIT} characters.")],
    )
