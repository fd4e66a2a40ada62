"""Accounts: sign-up, sign-in with lockout, invitations, and account changes.

Each function checks what it must, changes rows, records the audit row in
the same transaction and flushes; it never commits. The view that calls it
commits once, so a failure anywhere leaves nothing half-written.
"""

import hashlib
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..models import CaregiverProfile, Center, ProviderProfile, Role, User, utcnow
from .passwords import hash_password, password_needs_rehash, verify_password
from .signins import end_every_sign_in

STAFF_ROLES = (Role.PROVIDER, Role.COORDINATOR, Role.KIOSK)


def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()


class AccountError(Exception):
    """A request that can't be carried out; the message is safe to show."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def find_by_email(email: str | None) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def sign_up_caregiver(display_name: str, email: str, password: str, timezone: str) -> User:
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        role="caregiver",
        timezone=timezone,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    allotment_minutes = int(current_app.config["DEFAULT_ANNUAL_ALLOTMENT_HOURS"]) * 60
    db.session.add(CaregiverProfile(user=user, full_name=user.display_name, annual_allotment_minutes=allotment_minutes))
    audit.record("auth.sign_up", user, actor=user, summary=f"Caregiver {user.display_name} signed up")
    db.session.flush()
    return user


@dataclass
class SignInResult:
    user: User | None
    locked: bool = False


def authenticate(email: str, password: str) -> SignInResult:
    """Check a sign-in attempt, count failures and lock the account after too many.

    Returns the user on success. The caller shows one generic message for
    every failure, so an attacker can't learn which emails have accounts.
    """
    config = current_app.config
    user = find_by_email(email)
    now = utcnow()
    if user is None or not user.is_active:
        verify_password(None, password)  # same work as a real check
        audit.record(
            "auth.login_failed",
            entity_type="User",
            entity_id=user.id if user else None,
            summary="Sign-in failed",
            meta={"email": normalise_email(email)[:254], "reason": "unknown" if user is None else "inactive"},
        )
        db.session.flush()
        return SignInResult(None)
    if user.is_locked(now):
        verify_password(None, password)  # a locked account answers no faster than any other
        audit.record(
            "auth.login_failed", user, actor=None, summary="Sign-in refused: account locked", meta={"reason": "locked"}
        )
        db.session.flush()
        return SignInResult(None, locked=True)
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        locked = user.failed_logins >= config["LOGIN_MAX_FAILURES"]
        if locked:
            user.locked_until = now + config["LOGIN_LOCKOUT"]
            user.failed_logins = 0
        audit.record(
            "auth.login_failed",
            user,
            actor=None,
            summary="Sign-in failed: wrong password",
            meta={"reason": "password", "locked": locked},
        )
        if locked:
            assert user.locked_until is not None  # set just above
            audit.record(
                "auth.locked",
                user,
                actor=None,
                summary=f"Account locked until {user.locked_until.isoformat(timespec='minutes')}",
            )
        db.session.flush()
        return SignInResult(None, locked=locked)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if user.password_hash is not None and password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record("auth.login", user, actor=user, summary=f"{user.display_name} signed in")
    db.session.flush()
    return SignInResult(user)


def sign_out(user: User) -> None:
    """Sign out: every sign-in of the user ends, on every device (a copied cookie included)."""
    end_every_sign_in(user)
    audit.record("auth.logout", user, actor=user, summary=f"{user.display_name} signed out")
    db.session.flush()


def update_account(user: User, display_name: str, email: str, timezone: str) -> bool:
    changes: dict[str, dict[str, str]] = {}
    for field, value in (
        ("display_name", display_name.strip()),
        ("email", normalise_email(email)),
        ("timezone", timezone),
    ):
        if getattr(user, field) != value:
            changes[field] = {"from": getattr(user, field), "to": value}
            setattr(user, field, value)
    if not changes:
        return False
    if "display_name" in changes and user.caregiver_profile is not None:
        user.caregiver_profile.full_name = user.display_name
    if "email" in changes:
        end_every_sign_in(user)  # the view signs this browser in again
    audit.record("account.update", user, summary="Account details changed", meta={"changed": sorted(changes)})
    db.session.flush()
    return True


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        audit.record("account.password_change_failed", user, summary="Wrong current password")
        db.session.flush()
        raise AccountError("That is not your current password.", field="current_password")
    user.password_hash = hash_password(new_password)
    end_every_sign_in(user)  # the view signs this browser in again
    audit.record("account.password_change", user, summary="Password changed")
    db.session.flush()


# --- Invitations (coordinators create staff and kiosk accounts) -------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="respite.invitation")


def _password_fingerprint(user: User) -> str:
    # Part of the token: once a password is set, the fingerprint changes and the link stops working.
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def invite_user(
    coordinator: User, *, role: str, email: str, display_name: str, timezone: str, center_id: int | None = None
) -> tuple[User, str]:
    if role not in STAFF_ROLES:
        raise AccountError("Choose provider, coordinator or kiosk.", field="role")
    center = db.session.get(Center, center_id) if center_id else None
    if role == "kiosk" and center is None:
        raise AccountError("A kiosk belongs to a center: choose one.", field="center_id")
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        role=role,
        timezone=timezone,
        center=center if role == "kiosk" else None,
    )
    db.session.add(user)
    if role == "provider":
        db.session.add(ProviderProfile(user=user, center=center))
    audit.record(
        "user.invite",
        user,
        actor=coordinator,
        summary=f"Invited {user.display_name} as {role}",
        meta={"role": role, "center_id": center.id if center else None},
    )
    db.session.flush()
    return user, invitation_token(user)


def invitation_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _password_fingerprint(user)})


def user_for_invitation(token: str) -> User | None:
    """The invited user for a valid, unused, unexpired token, or None."""
    max_age = int(current_app.config["INVITATION_MAX_AGE"].total_seconds())
    try:
        data = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.is_active or data.get("f") != _password_fingerprint(user):
        return None
    return user


def accept_invitation(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    audit.record("user.invitation_accepted", user, actor=user, summary=f"{user.display_name} set a password")
    db.session.flush()
