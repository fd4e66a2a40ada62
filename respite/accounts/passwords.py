"""Password hashing (argon2) and the password rules."""

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()

# Verifying against this keeps the time of a sign-in for an unknown email
# close to that of a known one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

# Length is what makes a password strong; no rules about its kinds of characters. Within the length,
# zxcvbn's estimate of how hard it is to guess (0 to 4) must reach "safely unguessable".
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MIN_STRENGTH = 3
_ESTIMATED_LENGTH = 72  # zxcvbn's own limit; a longer password is at least as strong as its start


def weakness(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """Why `password` is too easy to guess (zxcvbn's advice, in a sentence or two), or None when it is not.

    `user_inputs` are words an attacker would try first: the person's name, their email.
    """
    result = zxcvbn(password[:_ESTIMATED_LENGTH], user_inputs=[word for word in user_inputs if word])
    if result["score"] >= MIN_STRENGTH:
        return None
    feedback = result["feedback"]
    advice = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])[:1]]
    return " ".join(["This password is too easy to guess.", *[part for part in advice if part]])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; never raises for a bad or missing hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
