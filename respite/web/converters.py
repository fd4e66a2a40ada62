"""URL converters: an id in a URL is a database id or the page does not exist."""

from werkzeug.routing import IntegerConverter

# The largest id an INTEGER column holds (PostgreSQL's int4); a larger number is no one's object.
MAX_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` that matches 1 to MAX_ID only, so a huge id answers 404 instead of failing in the database."""

    def __init__(self, map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]
