"""Who the sign-in throttling is holding back, and letting an account through again.

The counts are flask-limiter's (respite.accounts.views), in its storage: the
app's Redis, or memory while Redis is away. Failed sign-ins are counted per
address and account (SIGN_IN_FAILURE_LIMIT), failed second steps per account
(SECOND_STEP_LIMIT), asking for reset links per address and email
(RESET_PER_EMAIL_LIMIT). An account is held back while one of its counts,
from any address, has reached its limit.

A coordinator lets an account through by clearing its counts from every
address: `release_after_commit()` clears them once the transaction that
audits it commits (a rollback clears nothing). Nothing here touches the
database.
"""

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import redis
from flask import current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db, limiter
from ..models import User

log = logging.getLogger(__name__)

SIGN_IN = "accounts.login"
SECOND_STEP = "accounts.second_step"
RESET_REQUEST = "accounts.forgot_password"
# The counts that hold an account back (their setting), by the endpoint that keeps them.
HOLDING_LIMITS = {SIGN_IN: "SIGN_IN_FAILURE_LIMIT", SECOND_STEP: "SECOND_STEP_LIMIT"}
# What a release clears: those, and the reset requests (the person is about to need one).
RELEASED = (SIGN_IN, SECOND_STEP, RESET_REQUEST)

# A limit's key (limits' key_for): LIMITER/<prefix>/<who>/<endpoint>/<amount>/<multiples>/<granularity>. <who> is
# "<address>|<email>" or "second-step:<user id>" (respite.accounts.views); an email may hold a "/" itself.
_KEY = re.compile(
    r"^LIMITER/(?P<prefix>[^/]*)/(?P<who>.+)/(?P<endpoint>accounts\.[a-z_]+)/(?P<amount>\d+)/(?P<multiples>\d+)/"
    r"(?P<granularity>[a-z]+)"
)
_PENDING = "respite.pending_releases"


@dataclass(frozen=True)
class _Count:
    key: str
    prefix: str
    who: str
    endpoint: str
    suffix: str  # amount/multiples/granularity

    @property
    def email(self) -> str | None:
        return self.who.split("|", 1)[1] if "|" in self.who else None

    @property
    def user_id(self) -> int | None:
        number = self.who.removeprefix("second-step:")
        return int(number) if self.who.startswith("second-step:") and number.isdigit() else None


@dataclass(frozen=True)
class HeldBack:
    """The accounts held back now: by email (failed passwords) and by id (failed second steps)."""

    emails: frozenset[str]
    user_ids: frozenset[int]

    def holds(self, user: User) -> bool:
        return user.email.lower() in self.emails or user.id in self.user_ids


def _prefix() -> str:
    return str(current_app.config.get("RATELIMIT_KEY_PREFIX", ""))


def _storage() -> Storage:
    return limiter.limiter.storage


def _stored_keys() -> list[str]:
    """Every limit key of this app in the storage the limiter uses now (Redis, or memory)."""
    storage = _storage()
    namespace = f"LIMITER/{_prefix()}/"
    try:
        if isinstance(storage, RedisStorage):
            head = len(storage.prefixed_key(""))
            pattern = storage.prefixed_key(re.sub(r"([*?\[\]\\])", r"\\\1", namespace) + "*")
            # The limits library types its client by the commands it uses itself; it is a redis.Redis.
            connection = cast(redis.Redis, storage.get_connection(True))
            found = connection.scan_iter(match=pattern, count=1000)
            return [(key.decode() if isinstance(key, bytes) else str(key))[head:] for key in found]
        if isinstance(storage, MemoryStorage):
            return [key for key in {*list(storage.events), *list(storage.storage)} if key.startswith(namespace)]
    except storage.base_exceptions:
        log.warning("the throttling's storage can't be read: no one shows as held back")
    return []


def _counts(endpoints: tuple[str, ...]) -> Iterator[_Count]:
    for key in _stored_keys():
        match = _KEY.match(key)
        if match and match["endpoint"] in endpoints:
            suffix = f"{match['amount']}/{match['multiples']}/{match['granularity']}"
            yield _Count(key, match["prefix"], match["who"], match["endpoint"], suffix)


def _limits(endpoint: str) -> dict[str, RateLimitItem]:
    """The limits in force for an endpoint's holding count, by their key's ending."""
    items = parse_many(str(current_app.config[HOLDING_LIMITS[endpoint]]))
    return {f"{item.amount}/{item.multiples}/{item.GRANULARITY.name}": item for item in items}


def _reached(count: _Count) -> float | None:
    """When the count lets its account try again (seconds since the epoch); None while it is under its limit."""
    item = _limits(count.endpoint).get(count.suffix)
    if item is None:  # a limit no longer in force
        return None
    strategy = limiter.limiter
    identifiers = (count.prefix, count.who, count.endpoint)
    try:
        if strategy.test(item, *identifiers):
            return None
        return float(strategy.get_window_stats(item, *identifiers).reset_time)
    except _storage().base_exceptions:
        return None


def held_back() -> HeldBack:
    """Every account held back now (no database statement: the throttling's storage only)."""
    emails: set[str] = set()
    user_ids: set[int] = set()
    for count in _counts(tuple(HOLDING_LIMITS)):
        if _reached(count) is None:
            continue
        if count.email is not None:
            emails.add(count.email)
        elif count.user_id is not None:
            user_ids.add(count.user_id)
    return HeldBack(frozenset(emails), frozenset(user_ids))


def _is_theirs(count: _Count, user: User) -> bool:
    return count.email == user.email.lower() or count.user_id == user.id


def held_until(user: User) -> datetime | None:
    """Until when `user` is held back from signing in (from every address that has reached a limit), or None."""
    until = [
        reached
        for count in _counts(tuple(HOLDING_LIMITS))
        if _is_theirs(count, user) and (reached := _reached(count)) is not None
    ]
    return datetime.fromtimestamp(max(until), UTC) if until else None


def release_after_commit(user: User) -> None:
    """Clear every count of `user`'s, from every address, once the current transaction commits."""
    db.session.connection()  # a transaction is open, so a rollback fires the hook that drops this
    db.session.info.setdefault(_PENDING, []).append((user.id, user.email.lower()))


def release(user_id: int, email: str) -> int:
    """Clear the counts of the account now; how many there were."""
    storage = _storage()
    cleared = 0
    for count in _counts(RELEASED):
        if count.email == email or count.user_id == user_id:
            try:
                storage.clear(count.key)
            except storage.base_exceptions:
                log.warning("could not clear a throttling count of user %s", user_id)
                continue
            cleared += 1
    return cleared


@event.listens_for(Session, "after_commit")
def _release_pending(session: Session) -> None:
    for user_id, email in session.info.pop(_PENDING, None) or []:
        release(user_id, email)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, *args: object) -> None:
    session.info.pop(_PENDING, None)
