"""Checks on the text people send, shared by forms and services."""

import re

# Tab, newline and carriage return are text; every other C0 or C1 control character is not
# (and PostgreSQL can't store a NUL at all).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(value: object) -> bool:
    return isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None


def escape_control_characters(value: str) -> str:
    """`value` with each control character written out as an escape (NUL as `\\x00`): for text kept from a
    request that no form checked (an address, say), so that it can be stored and shown as it came."""
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", value)
