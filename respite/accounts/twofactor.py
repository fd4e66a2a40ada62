"""Two-step sign-in: a TOTP authenticator app (pyotp), and one-time recovery codes for when the phone is lost.

Required for coordinators (they run the program), offered to everyone. A code
is accepted once: the time step of the last accepted code is kept, and an
older or equal one is refused. Turning it on, new recovery codes and turning
it off all need the current password. Each function guards, changes, audits
and flushes; the view commits.
"""

import hashlib
import secrets

import pyotp
import segno
from flask import current_app
from sqlalchemy import select, update

from .. import audit
from ..extensions import db
from ..models import RecoveryCode, User, utcnow
from .passwords import verify_password
from .signins import end_every_sign_in

ISSUER = "Respite"
RECOVERY_CODES = 10
# A code from the step before or after the current one is still accepted (a phone's clock may drift).
VALID_WINDOW = 1


class TwoFactorError(Exception):
    """A step that can't be taken; the message is safe to show, beside `field`."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def required_for(user: User) -> bool:
    """Whether `user` may not go without it (TWO_FACTOR_REQUIRED_ROLES: coordinators unless configured otherwise)."""
    return user.role in current_app.config["TWO_FACTOR_REQUIRED_ROLES"]


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code(user: User, secret: str) -> str:
    """The setup QR code as an SVG data URI (the page's policy allows images from data:)."""
    return str(segno.make(provisioning_uri(user, secret), error="m").svg_data_uri(scale=4, border=2))


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _normalise(code: str) -> str:
    return "".join(char for char in code.lower() if char.isalnum())


def _matching_step(secret: str, code: str) -> int | None:
    """The time step `code` belongs to, within the window around now, or None."""
    totp = pyotp.TOTP(secret)
    digits = _normalise(code)
    now_step = totp.timecode(utcnow())
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def _check_password(user: User, password: str) -> None:
    if not verify_password(user.password_hash, password):
        audit.record("account.reauth_failed", user, summary="Wrong current password for a two-step change")
        db.session.flush()
        raise TwoFactorError("That is not your current password.", "current_password")


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(code)) for code in codes)
    return codes


def turn_on(user: User, secret: str, code: str, current_password: str) -> list[str]:
    """Confirm the app with a code it shows and the password; the recovery codes, to show once."""
    _check_password(user, current_password)
    step = _matching_step(secret, code)
    if step is None:
        raise TwoFactorError("That code doesn't match: check the app's clock and try the newest code.", "code")
    user.totp_secret = secret
    user.totp_confirmed_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    end_every_sign_in(user)  # the view keeps this one
    audit.record("account.two_factor_on", user, summary="Two-step sign-in turned on")
    db.session.flush()
    return codes


def turn_off(user: User, current_password: str) -> None:
    """Only for those who may go without it (not coordinators)."""
    if required_for(user):
        raise TwoFactorError("Your role always signs in in two steps: it can't be turned off.", "current_password")
    _check_password(user, current_password)
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    end_every_sign_in(user)
    audit.record("account.two_factor_off", user, summary="Two-step sign-in turned off")
    db.session.flush()


def replace_recovery_codes(user: User, current_password: str) -> list[str]:
    _check_password(user, current_password)
    codes = _new_recovery_codes(user)
    audit.record("account.recovery_codes", user, summary="New recovery codes made; the old ones no longer work")
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        ).all()
    )


def check_second_step(user: User, code: str) -> bool:
    """The sign-in's second step: a code from the app (newer than the last one accepted), or an unused recovery code.

    Audits the outcome. A recovery code is used up; the app's code moves the last step on.
    """
    assert user.totp_secret is not None
    step = _matching_step(user.totp_secret, code)
    if step is not None and step > (user.totp_last_step or -1):
        user.totp_last_step = step
        db.session.flush()
        return True
    if step is None:
        claimed = db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _code_hash(code),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            audit.record("auth.recovery_code_used", user, actor=user, summary="Signed in with a recovery code")
            db.session.flush()
            return True
    audit.record(
        "auth.login_failed",
        user,
        actor=None,
        summary="Sign-in failed: wrong second-step code",
        meta={"reason": "second_step" if step is None else "code_reused"},
    )
    db.session.flush()
    return False
