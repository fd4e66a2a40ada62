"""The error every messaging transition raises for input a person can correct (services re-exports it)."""


class MessagingError(Exception):
    """A message or conversation that can't be sent; the message is safe to show, beside `field`."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.field = field
