"""The base of every form: Flask-WTF's, plus a field error for control characters.

A NUL byte (which PostgreSQL can't store) or another control character in
any text field is refused beside that field, with the form's other answers
kept, rather than failing in the database.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField

from ..text import has_control_characters

CONTROL_MESSAGE = "Remove the hidden control characters from this field."


def leaf_fields(fields: Iterable[Field]) -> Iterator[Field]:
    """Every field that holds a value, inside repeated rows and sub-forms too."""
    for field in fields:
        if isinstance(field, FieldList):
            yield from leaf_fields(field.entries)
        elif isinstance(field, FormField):
            yield from leaf_fields(field.form)
        else:
            yield field


class Form(FlaskForm):
    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        for field in leaf_fields(self):
            values = field.data if isinstance(field.data, list) else [field.data]
            if any(has_control_characters(v) for v in values):
                field.errors = [CONTROL_MESSAGE]  # the one message this field gets
                valid = False
        return valid
