"""The kinds of live event, declared once: publishers name them, pages listen for them."""

from enum import StrEnum


class EventType(StrEnum):
    MESSAGE = "message"  # a conversation has a new message
    READ = "read"  # someone read a conversation
    NOTICE = "notice"  # the user has a new notice (or read one elsewhere)
    SESSION = "session"  # a respite session changed
    KIOSK = "kiosk"  # a center's board changed
    PING = "ping"  # a test event with no meaning to a page
    SIGNED_OUT = "signed_out"  # every sign-in of the user ended: their streams close
