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
from sqlalchemy import func, select, update

from .. import audit, mail
from ..extensions import db
from ..models import (
    CaregiverProfile,
    Center,
    EmailLink,
    EmailLinkPurpose,
    ProgramSettings,
    ProviderProfile,
    Role,
    User,
    utcnow,
)
from ..web.links import absolute_url
from .passwords import hash_password, password_needs_rehash, verify_password
from .signins import end_every_sign_in

# Kiosk tablets are not invited: a coordinator pairs them with a center (respite.kiosk).
STAFF_ROLES = (Role.PROVIDER, Role.COORDINATOR)


def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()


class AccountError(Exception):
    """A request that can't be carried out; the message is safe to show."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def find_by_email(email: str | None) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def default_allotment_minutes() -> int:
    """The yearly respite a caregiver starts with: what a coordinator set for the program, or the configuration's."""
    minutes = db.session.scalar(select(ProgramSettings.default_allotment_minutes))
    if minutes is None:
        return int(current_app.config["DEFAULT_ANNUAL_ALLOTMENT_HOURS"]) * 60
    return minutes


def sign_up_caregiver(display_name: str, email: str, password_hash: str, timezone: str) -> User:
    """Make a caregiver's account (its email confirmed by the link it came through), with the program's hours."""
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        role="caregiver",
        timezone=timezone,
        password_hash=password_hash,
    )
    db.session.add(user)
    db.session.add(
        CaregiverProfile(user=user, full_name=user.display_name, annual_allotment_minutes=default_allotment_minutes())
    )
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
# Why a link doesn't work, in the words its page shows (`link_refusal`).
LINK_UNKNOWN = (
    "This link isn't one we sent, or only part of it arrived here: copy the whole link from the email and try again."
)
LINK_EXPIRED = {
    EmailLinkPurpose.SIGN_UP: "This link has expired: links to finish an account work for 24 hours. Start again.",
    EmailLinkPurpose.RESET: "This link has expired: links to set a new password work for an hour. Ask for a new one.",
    EmailLinkPurpose.INVITATION: (
        "This invitation has expired: invitations work for 7 days. Ask the coordinator who invited you to send "
        "a new one."
    ),
}
LINK_SPENT = {
    EmailLinkPurpose.SIGN_UP: "This link has been used already: the account it made is ready. Sign in.",
    EmailLinkPurpose.RESET: (
        "This link has been used already (or a newer link was, which ends this one). If you still need a new "
        "password, ask for another link."
    ),
    EmailLinkPurpose.INVITATION: (
        "This invitation has been used already: the account's password is set. Sign in with it, or ask for a link "
        "to set a new one if it's forgotten."
    ),
}
INVITATION_REPLACED = (
    "A newer invitation replaced this one: use the link in the newest email, or ask your coordinator to send it again."
)
INVITATION_WITHDRAWN = "This invitation was withdrawn. If you think that's a mistake, ask your coordinator."


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


@dataclass(frozen=True)
class LinkRefusal:
    """Why an emailed link doesn't work: a word for the audit log, and the sentence its page shows."""

    reason: str  # unknown, used, replaced, withdrawn, expired
    message: str


def link_refusal(purpose: EmailLinkPurpose, token: str) -> LinkRefusal:
    """Why the link of `purpose` whose secret is `token` doesn't work: never sent, used, replaced, withdrawn, expired.

    The words name no one: whoever holds a link may not be the person it was sent to.
    """
    link = db.session.scalar(
        select(EmailLink).where(EmailLink.token_hash == _token_hash(token), EmailLink.purpose == purpose)
    )
    if link is None:
        return LinkRefusal("unknown", LINK_UNKNOWN)
    if purpose == EmailLinkPurpose.INVITATION:
        invited = link.user
        if invited is None or not invited.is_active:
            return LinkRefusal("withdrawn", INVITATION_WITHDRAWN)
        if invited.has_password:
            return LinkRefusal("used", LINK_SPENT[purpose])
        if link.used_at is not None:
            return LinkRefusal("replaced", INVITATION_REPLACED)
    elif link.used_at is not None:
        return LinkRefusal("used", LINK_SPENT[EmailLinkPurpose(purpose)])
    if link.expires_at <= utcnow():
        return LinkRefusal("expired", LINK_EXPIRED[EmailLinkPurpose(purpose)])
    return LinkRefusal("refused", LINK_USED)


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
    mail_reset_link(user)
    audit.record("auth.reset_requested", user, actor=None, summary="A password reset link was sent")
    db.session.flush()


def mail_reset_link(user: User, *, from_coordinator: bool = False) -> None:
    """Email `user` a link that sets a new password (sent when the transaction commits); the caller audits it."""
    token = _new_link(EmailLinkPurpose.RESET, user.email, RESET_LINK_LIFETIME, user=user)
    asked = "A coordinator of the program asked for this email for you. " if from_coordinator else ""
    mail.send_after_commit(
        user.email,
        "Set a new Respite password",
        f"Hello {user.display_name},\n\n{asked}To set a new password, open this link (it works once, for an hour):"
        "\n\n"
        f"{absolute_url(url_for('accounts.reset_password', token=token))}\n\n"
        "If you didn't ask, you can ignore this email: your password stays as it is.",
    )


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


# --- Invitations (coordinators create staff accounts) -------------
#
# An invitation is an emailed link (EmailLink, purpose "invitation") that sets the account's first password.
# Only its hash is kept, so a coordinator can't see it again: a new link replaces it (the old one ends).


def invite_user(
    coordinator: User,
    *,
    role: str,
    email: str,
    display_name: str,
    timezone: str,
    center_id: int | None = None,
    by_email: bool = False,
) -> tuple[User, str]:
    """Make a staff account without a password, and its invitation link (emailed when `by_email`)."""
    if role not in STAFF_ROLES:
        raise AccountError("Choose provider or coordinator. A kiosk tablet is paired on the Kiosks page.", field="role")
    center = db.session.get(Center, center_id) if center_id else None
    user = User(email=normalise_email(email), display_name=display_name.strip(), role=role, timezone=timezone)
    db.session.add(user)
    if role == "provider":
        db.session.add(ProviderProfile(user=user, center=center))
    db.session.flush()
    token = new_invitation_link(user, coordinator, by_email=by_email)
    audit.record(
        "user.invite",
        user,
        actor=coordinator,
        summary=f"Invited {user.display_name} as {role}" + (" by email" if by_email else ""),
        meta={"role": role, "center_id": center.id if center else None, "emailed": by_email},
    )
    db.session.flush()
    return user, token


def invitation_lifetime() -> timedelta:
    lifetime: timedelta = current_app.config["INVITATION_MAX_AGE"]
    return lifetime


def new_invitation_link(user: User, inviter: User, *, by_email: bool = False) -> str:
    """A fresh invitation link for `user` (their earlier ones end), emailed to them when `by_email`; its secret.

    The caller audits it.
    """
    end_invitation_links(user)
    token = _new_link(EmailLinkPurpose.INVITATION, user.email, invitation_lifetime(), user=user)
    if by_email:
        days = invitation_lifetime().days
        lasts = f"{days} days" if days > 1 else "a day" if days == 1 else "a short while"
        mail.send_after_commit(
            user.email,
            "You're invited to Respite",
            f"Hello {user.display_name},\n\n{inviter.display_name} invited you to Respite as a {user.role}. "
            f"To choose your password and sign in, open this link (it works once, for {lasts}):\n\n"
            f"{absolute_url(url_for('accounts.invitation', token=token))}\n\n"
            "If you weren't expecting this, you can ignore this email.",
        )
    db.session.flush()
    return token


def end_invitation_links(user: User) -> int:
    """End every unused invitation link of `user`; how many there were."""
    result = db.session.execute(
        update(EmailLink)
        .where(
            EmailLink.user_id == user.id,
            EmailLink.purpose == EmailLinkPurpose.INVITATION,
            EmailLink.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def invitation_for(token: str) -> EmailLink | None:
    """The live invitation whose secret is `token`, for an active account without a password yet; or None."""
    link = link_for(EmailLinkPurpose.INVITATION, token)
    invited = link.user if link is not None else None
    if invited is None or not invited.is_active or invited.has_password:
        return None
    return link


def accept_invitation(link: EmailLink, password: str) -> User:
    """Use an invitation: the account's password is set, and its other invitation links end."""
    _use(link)
    user = link.user
    if user is None or not user.is_active or user.has_password:
        raise AccountError(LINK_SPENT[EmailLinkPurpose.INVITATION])
    user.password_hash = hash_password(password)
    end_invitation_links(user)
    audit.record("user.invitation_accepted", user, actor=user, summary=f"{user.display_name} set a password")
    db.session.flush()
    return user
