"""Accounts: sign-up and password reset by emailed single-use links, sign-in, invitations, and account changes.

Each function checks what it must, changes rows, records the audit row in
the same transaction and flushes; it never commits. The view that calls it
commits once, so a failure anywhere leaves nothing half-written.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from .. import audit, mail
from ..extensions import db
from ..models import CaregiverProfile, Center, EmailLink, EmailLinkPurpose, ProviderProfile, Role, User, utcnow
from ..web.links import absolute_url
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


def sign_up_caregiver(display_name: str, email: str, password_hash: str, timezone: str) -> User:
    """Make a caregiver's account (its email confirmed by the link it came through)."""
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        role="caregiver",
        timezone=timezone,
        password_hash=password_hash,
    )
    db.session.add(user)
    allotment_minutes = int(current_app.config["DEFAULT_ANNUAL_ALLOTMENT_HOURS"]) * 60
    db.session.add(CaregiverProfile(user=user, full_name=user.display_name, annual_allotment_minutes=allotment_minutes))
    audit.record("auth.sign_up", user, actor=user, summary=f"Caregiver {user.display_name} signed up")
    db.session.flush()
    return user


# --- Links sent by email: confirming a sign-up, resetting a password -------------------------------
#
# The page that asks for a link answers the same whether or not the email has an account, and does
# the same work either way; only the mailbox's owner learns which it was.

SIGN_UP_LINK_LIFETIME = timedelta(hours=24)
RESET_LINK_LIFETIME = timedelta(hours=1)
LINK_USED = "This link has been used already, or has expired. Ask for a new one."


def mask_email(email: str) -> str:
    """An address as the audit log keeps it when its owner is not known: "ro***@example.com"."""
    local, _, domain = email.partition("@")
    return f"{local[:2]}***@{domain}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_link(purpose: EmailLinkPurpose, email: str, lifetime: timedelta, **fields: object) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        EmailLink(purpose=purpose, email=email, token_hash=_token_hash(token), expires_at=utcnow() + lifetime, **fields)
    )
    return token


def link_for(purpose: EmailLinkPurpose, token: str) -> EmailLink | None:
    """The unused, unexpired link of `purpose` whose secret is `token`, or None."""
    return db.session.scalar(
        select(EmailLink).where(
            EmailLink.token_hash == _token_hash(token),
            EmailLink.purpose == purpose,
            EmailLink.used_at.is_(None),
            EmailLink.expires_at > utcnow(),
        )
    )


def _use(link: EmailLink) -> None:
    """Mark the link used, once: a second request with it at the same moment finds it gone."""
    claimed = db.session.execute(
        update(EmailLink).where(EmailLink.id == link.id, EmailLink.used_at.is_(None)).values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise AccountError(LINK_USED)
    db.session.refresh(link)


def request_sign_up(display_name: str, email: str, password: str, timezone: str) -> None:
    """Email a link that makes the account; to an address that has one, an email that says so instead."""
    email = normalise_email(email)
    password_hash = hash_password(password)  # the same work whichever way it goes
    existing = find_by_email(email)
    if existing is not None:
        mail.send_after_commit(
            email,
            "You already have a Respite account",
            f"Someone, probably you, asked to create a Respite account with this email address.\n\n"
            f"You have one already. Sign in at {absolute_url(url_for('accounts.login'))}\n"
            f"Forgotten your password? Set a new one at {absolute_url(url_for('accounts.forgot_password'))}\n\n"
            "If it wasn't you, you can ignore this email.",
        )
        audit.record("auth.sign_up_repeated", existing, actor=None, summary="A sign-up asked for an email in use")
    else:
        token = _new_link(
            EmailLinkPurpose.SIGN_UP,
            email,
            SIGN_UP_LINK_LIFETIME,
            payload={"display_name": display_name.strip(), "timezone": timezone, "password_hash": password_hash},
        )
        mail.send_after_commit(
            email,
            "Confirm your email to finish your Respite account",
            f"Hello {display_name.strip()},\n\nTo finish creating your Respite account, open this link "
            f"(it works once, for 24 hours):\n\n{absolute_url(url_for('accounts.confirm_sign_up', token=token))}\n\n"
            "If you didn't ask for an account, you can ignore this email.",
        )
        audit.record(
            "auth.sign_up_requested",
            entity_type="User",
            summary="A sign-up link was sent",
            meta={"email": mask_email(email)},
        )
    db.session.flush()


def confirm_sign_up(link: EmailLink) -> User:
    """Use a sign-up link: the caregiver's account is made with what they gave when they asked."""
    _use(link)
    if find_by_email(link.email) is not None:
        raise AccountError("An account with this email was created meanwhile: sign in, or reset its password.")
    payload = link.payload
    return sign_up_caregiver(payload["display_name"], link.email, payload["password_hash"], payload["timezone"])


def request_password_reset(email: str) -> None:
    """Email a link that sets a new password to an active account's address; nothing to anyone else."""
    email = normalise_email(email)
    user = find_by_email(email)
    if user is None or not user.is_active:
        audit.record(
            "auth.reset_requested",
            entity_type="User",
            entity_id=user.id if user else None,
            summary="A password reset was asked for an email without an active account",
            meta={"email": mask_email(email)},
        )
        db.session.flush()
        return
    token = _new_link(EmailLinkPurpose.RESET, email, RESET_LINK_LIFETIME, user=user)
    mail.send_after_commit(
        email,
        "Set a new Respite password",
        f"Hello {user.display_name},\n\nTo set a new password, open this link (it works once, for an hour):\n\n"
        f"{absolute_url(url_for('accounts.reset_password', token=token))}\n\n"
        "If you didn't ask, you can ignore this email: your password stays as it is.",
    )
    audit.record("auth.reset_requested", user, actor=None, summary="A password reset link was sent")
    db.session.flush()


def reset_password(link: EmailLink, new_password: str) -> User:
    """Use a reset link: the new password is set, and every sign-in of the account (anywhere) ends."""
    _use(link)
    user = link.user
    if user is None or not user.is_active:
        raise AccountError(LINK_USED)
    user.password_hash = hash_password(new_password)
    end_every_sign_in(user)
    db.session.execute(
        update(EmailLink).where(EmailLink.user_id == user.id, EmailLink.used_at.is_(None)).values(used_at=utcnow())
    )
    audit.record("auth.password_reset", user, actor=user, summary="Password set through a reset link")
    db.session.flush()
    return user


@dataclass
class SignInResult:
    user: User | None


def authenticate(email: str, password: str) -> SignInResult:
    """Check a sign-in attempt; audit a failure with its reason.

    Returns the user on success. The caller shows one generic message for
    every failure, so an attacker can't learn which emails have accounts.
    No account is ever locked (a stranger could hold it locked): repeated
    failures are throttled per address, and per address and account, by the view.
    """
    user = find_by_email(email)
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
    if not verify_password(user.password_hash, password):
        audit.record(
            "auth.login_failed", user, actor=None, summary="Sign-in failed: wrong password", meta={"reason": "password"}
        )
        db.session.flush()
        return SignInResult(None)
    if user.password_hash is not None and password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.has_two_factor:
        audit.record("auth.first_step", user, actor=None, summary="Password right; the second step follows")
        db.session.flush()
    else:
        complete_sign_in(user)
    return SignInResult(user)


def complete_sign_in(user: User) -> None:
    """Every step of signing in is done (the password, and the code when two-step sign-in is on)."""
    user.last_login_at = utcnow()
    audit.record("auth.login", user, actor=user, summary=f"{user.display_name} signed in")
    db.session.flush()


def sign_out(user: User) -> None:
    """Sign out: every sign-in of the user ends, on every device (a copied cookie included)."""
    end_every_sign_in(user)
    audit.record("auth.logout", user, actor=user, summary=f"{user.display_name} signed out")
    db.session.flush()


def update_account(user: User, display_name: str, email: str, timezone: str, *, current_password: str = "") -> bool:
    """Change the account's details; a new email needs the current password (AccountError otherwise)."""
    if normalise_email(email) != user.email and not verify_password(user.password_hash, current_password):
        audit.record("account.reauth_failed", user, summary="An email change without the current password")
        db.session.flush()
        message = (
            "Enter your current password to change your email."
            if not current_password
            else ("That is not your current password.")
        )
        raise AccountError(message, field="current_password")
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
    meta: dict[str, object] = {"changed": sorted(changes)}
    if "email" in changes:
        end_every_sign_in(user)  # the view signs this browser in again
        # From what to what, masked: enough to recognise a takeover, not a list of addresses.
        meta["email"] = {"from": mask_email(changes["email"]["from"]), "to": mask_email(changes["email"]["to"])}
    if "display_name" in changes:
        meta["display_name"] = changes["display_name"]
    audit.record("account.update", user, summary="Account details changed", meta=meta)
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
