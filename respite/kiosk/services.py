"""The front desk: tablets paired with a center, the day's board, session codes, and who hands whom over.

A kiosk tablet is no one's sign-in. A coordinator makes a one-time pairing
code for a center; the tablet that types it gets a long-lived credential (a
random token of which only the SHA-256 is kept) that works until a
coordinator revokes it. The tablet sees its own center's day, by first name
and last initial, and checks a person in or out when the family types the
session's six-digit code: an HMAC of the session and its local day under a
key from the configuration, never stored, compared in constant time, and
never written to the audit log or any other log. At drop-off and pick-up it
records who handed the person over, from the care card's list of people
allowed to, or someone else when a staff member types the center's PIN, and
then the family is told at once.

Each change is one function: guard, change rows, audit row, event, flush.
Nothing here commits, and nothing here knows about throttling (the views
limit how often codes and PINs may be tried).
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, select, update
from sqlalchemy.orm import joinedload

from .. import audit, realtime
from ..accounts.passwords import hash_password, verify_password
from ..extensions import db
from ..models import (
    CareRecipient,
    Center,
    Handover,
    HandoverConfirmation,
    HandoverKind,
    KioskDevice,
    KioskPairing,
    NoticeKind,
    RespiteSession,
    Role,
    SessionStatus,
    User,
    utcnow,
)
from ..notices import services as notices
from ..text import has_control_characters
from ..timefmt import zone_or_utc
from ..visits import services as visits

S = SessionStatus

# Pairing codes: no 0/O, 1/I/L, so that what a coordinator reads out is what the tablet gets.
PAIRING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PAIRING_LENGTH = 8
DEVICE_NAME_LIMIT = 80
# A device's credential as the cookie carries it (secrets.token_urlsafe(32) is 43 characters).
TOKEN_LIMIT = 100
# How often a tablet's "last seen" is written: at most once a minute, however often it asks.
SEEN_RESOLUTION = timedelta(minutes=1)
CODE_DIGITS = 6
PIN_PATTERN = re.compile(r"[0-9]{4,8}")
PERSON_NAME_LIMIT = 120
RELATIONSHIP_LIMIT = 80
# How long after the right code the tablet may finish the handover (the step that follows it).
TICKET_SECONDS = 300
# The sessions a board shows: expected, here, gone.
BOARD_STATUSES = (S.CONFIRMED, S.CHECKED_IN, S.COMPLETED)
# "Someone else" among the people who may drop off and pick up.
SOMEONE_ELSE = "other"

PAIRING_REFUSED = (
    "That pairing code doesn't work: it may be mistyped, used already, or more than a few minutes old. "
    "Ask a coordinator for a new one."
)
WRONG_CODE = "That code doesn't match. Check the six-digit code on the session's page in Respite and type it again."
WRONG_PIN = "That PIN isn't right. A staff member types the center's staff PIN here."
NO_PIN = (
    "This center has no staff PIN yet, so only someone on the list can be recorded here. "
    "A staff member can check them in or out from the session's page."
)
CONTROL_MESSAGE = "Remove the hidden control characters from this field."


class KioskError(Exception):
    """Something the kiosk can't do now; `problems` maps form fields to messages safe to show."""

    def __init__(self, message: str, field: str = "", problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or {field: message}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _coordinator_only(actor: User, doing: str) -> None:
    if actor.role != Role.COORDINATOR:
        raise PermissionError(f"Only a coordinator can {doing}.")


def _clean(value: str, limit: int, *, field: str, missing: str) -> str:
    if has_control_characters(value):
        raise KioskError(CONTROL_MESSAGE, field)
    value = " ".join(value.split())
    if not value:
        raise KioskError(missing, field)
    if len(value) > limit:
        raise KioskError(f"Keep this to {limit} characters or fewer.", field)
    return value


def _coordinator_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.role == Role.COORDINATOR, User.active.is_(True))))


# --- Pairing ---------------------------------------------------------------------------------------


def pairing_minutes() -> int:
    return int(current_app.config["KIOSK_PAIRING_MINUTES"])


def format_pairing_code(code: str) -> str:
    """ "ABCD-EFGH": easier to read out and to type in two halves."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_pairing_code(code: str) -> str:
    """The code as typed, upper-cased, spaces and dashes dropped."""
    return re.sub(r"[\s-]+", "", code).upper()


def create_pairing(
    actor: User, center: Center, *, device_name: str, now: datetime | None = None
) -> tuple[KioskPairing, str]:
    """A one-time code that pairs one tablet with `center` for the next KIOSK_PAIRING_MINUTES; the code is
    returned once and only its SHA-256 is kept."""
    _coordinator_only(actor, "pair a kiosk")
    now = now or utcnow()
    name = _clean(device_name, DEVICE_NAME_LIMIT, field="device_name", missing="Name the tablet, e.g. Front desk.")
    code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_LENGTH))
    pairing = KioskPairing(
        center_id=center.id,
        device_name=name,
        code_hash=_digest(code),
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(minutes=pairing_minutes()),
    )
    db.session.add(pairing)
    audit.record(
        "kiosk.pairing_create",
        pairing,
        actor=actor,
        summary=f"Pairing code made for a kiosk at {center.name}",
        meta={"center_id": center.id, "expires_at": pairing.expires_at.isoformat()},
    )
    db.session.flush()
    return pairing, code


def pair_device(code: str, *, now: datetime | None = None) -> tuple[KioskDevice, str]:
    """Pair the tablet that typed `code`: a new device of the code's center and its credential (returned once).

    KioskError (field "code") for a code that is unknown, used or expired,
    with an audit row of the refusal, which the caller keeps (commits) too.
    """
    now = now or utcnow()
    typed = normalise_pairing_code(code)
    pairing = None
    if len(typed) == PAIRING_LENGTH and set(typed) <= set(PAIRING_ALPHABET):
        pairing = db.session.scalar(
            select(KioskPairing)
            .options(joinedload(KioskPairing.center))
            .where(KioskPairing.code_hash == _digest(typed))
        )
    usable = pairing is not None and pairing.used_at is None and pairing.expires_at > now
    # One use only: of two tablets typing it at once, the one whose update lands first gets the device.
    if pairing is None or not usable or not _claim(pairing, now):
        audit.record(
            "kiosk.pair_refused",
            actor_role=Role.KIOSK,
            summary="A pairing code that doesn't work was typed at a kiosk",
            meta={"pairing_id": pairing.id if pairing is not None else None},
        )
        db.session.flush()
        raise KioskError(PAIRING_REFUSED, "code")
    token = secrets.token_urlsafe(32)
    device = KioskDevice(
        center_id=pairing.center_id,
        name=pairing.device_name,
        token_hash=_digest(token),
        created_at=now,
        created_by_id=pairing.created_by_id,
        last_seen_at=now,
    )
    db.session.add(device)
    db.session.flush()
    pairing.device_id = device.id
    audit.record(
        "kiosk.pair",
        device,
        actor_role=Role.KIOSK,
        summary=f"Kiosk “{device.name}” paired with {pairing.center.name}",
        meta={"device_id": device.id, "center_id": pairing.center_id, "pairing_id": pairing.id},
    )
    realtime.publish_after_commit(realtime.EventType.KIOSK, user_ids=_coordinator_ids(), device_id=device.id)
    db.session.flush()
    return device, token


def _claim(pairing: KioskPairing, now: datetime) -> bool:
    claimed = db.session.execute(
        update(KioskPairing)
        .where(KioskPairing.id == pairing.id, KioskPairing.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    pairing.used_at = now
    return True


# --- The device's credential ---------------------------------------------------------------------


def device_for_token(token: str | None) -> KioskDevice | None:
    """The paired, unrevoked device whose credential is `token` (with its center), else None."""
    if not token or len(token) > TOKEN_LIMIT or has_control_characters(token):
        return None
    return db.session.scalar(
        select(KioskDevice)
        .options(joinedload(KioskDevice.center))
        .where(KioskDevice.token_hash == _digest(token), KioskDevice.revoked_at.is_(None))
    )


def token_key(token: str | None) -> str:
    """A name for whoever holds `token` that throttling may keep (never the token itself)."""
    return _digest(token or "")[:24]


def note_seen(device: KioskDevice, now: datetime | None = None) -> bool:
    """Note that the tablet was seen, at most once a minute; True when the row changed (the caller commits)."""
    now = now or utcnow()
    if device.last_seen_at is not None and now - device.last_seen_at < SEEN_RESOLUTION:
        return False
    device.last_seen_at = now
    db.session.flush()
    return True


def get_device_for(user: User, device_id: int) -> KioskDevice | None:
    """The device `device_id` if `user` may manage it (a coordinator), else None."""
    if user.role != Role.COORDINATOR:
        return None
    return db.session.scalar(
        select(KioskDevice).options(joinedload(KioskDevice.center)).where(KioskDevice.id == device_id)
    )


def devices() -> Sequence[KioskDevice]:
    """Every tablet, paired ones first, by center and name (one statement)."""
    return db.session.scalars(
        select(KioskDevice)
        .join(KioskDevice.center)
        .options(joinedload(KioskDevice.center), joinedload(KioskDevice.created_by), joinedload(KioskDevice.revoked_by))
        .order_by(KioskDevice.revoked_at.is_not(None), Center.name, KioskDevice.name, KioskDevice.id.desc())
    ).all()


def revoke_device(actor: User, device: KioskDevice, *, now: datetime | None = None) -> None:
    """Unpair a tablet: its credential opens nothing from now on, and its open stream ends when this commits,
    so that it shows the pairing screen again within seconds."""
    _coordinator_only(actor, "unpair a kiosk")
    if device.revoked_at is not None:
        raise KioskError("This tablet is unpaired already.")
    device.revoked_at = now or utcnow()
    device.revoked_by_id = actor.id
    audit.record(
        "kiosk.revoke",
        device,
        actor=actor,
        summary=f"Kiosk “{device.name}” at {device.center.name} unpaired",
        meta={"device_id": device.id, "center_id": device.center_id},
    )
    realtime.publish_after_commit(realtime.EventType.SIGNED_OUT, kiosk_ids=[device.id], device_id=device.id)
    realtime.publish_after_commit(realtime.EventType.KIOSK, user_ids=_coordinator_ids(), device_id=device.id)
    db.session.flush()


# --- The center's staff PIN --------------------------------------------------------------------------


def set_staff_pin(actor: User, center: Center, pin: str) -> None:
    """Set the PIN staff type at `center`'s kiosks to let someone not on a care card's list drop off or collect.
    Only its argon2 hash is kept; the audit row says that it changed, never what it is."""
    _coordinator_only(actor, "set a kiosk's staff PIN")
    if not PIN_PATTERN.fullmatch(pin or ""):
        raise KioskError("A staff PIN is 4 to 8 digits.", "pin")
    center.kiosk_pin_hash = hash_password(pin)
    audit.record(
        "kiosk.pin_set",
        center,
        actor=actor,
        summary=f"Staff PIN set for the kiosks at {center.name}",
        meta={"center_id": center.id},
    )
    db.session.flush()


def centers() -> Sequence[Center]:
    return db.session.scalars(select(Center).order_by(Center.name)).all()


def get_center(center_id: int) -> Center | None:
    return db.session.get(Center, center_id)


# --- The board -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    """A center's day: who is expected, who is here, who has gone home."""

    center: Center
    day: date
    expected: list[RespiteSession] = field(default_factory=list)
    here: list[RespiteSession] = field(default_factory=list)
    gone: list[RespiteSession] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.expected or self.here or self.gone)


def _today(center: Center, now: datetime) -> tuple[date, datetime, datetime]:
    zone = zone_or_utc(center.timezone)
    today = now.astimezone(zone).date()
    start, end = visits.local_day_bounds(today, zone)
    return today, start, end


def _on_the_board(center: Center, now: datetime) -> Any:
    """SQL: a session of `center` under way today in its zone (from before midnight too) that the board shows."""
    _, start, end = _today(center, now)
    return and_(
        RespiteSession.center_id == center.id,
        RespiteSession.starts_at < end,
        RespiteSession.ends_at > start,
        RespiteSession.status.in_(BOARD_STATUSES),
    )


def board_for(device: KioskDevice, now: datetime | None = None) -> Board:
    """The device's center's day (one statement, however many sessions), in the center's own zone."""
    now = now or utcnow()
    center = device.center
    sessions = db.session.scalars(
        select(RespiteSession)
        .options(joinedload(RespiteSession.recipient))
        .where(_on_the_board(center, now))
        .order_by(RespiteSession.starts_at, RespiteSession.id)
    ).all()
    board = Board(center=center, day=_today(center, now)[0])
    columns = {S.CONFIRMED: board.expected, S.CHECKED_IN: board.here, S.COMPLETED: board.gone}
    for session in sessions:
        columns[SessionStatus(session.status)].append(session)
    return board


def get_session_for_device(device: KioskDevice, session_id: int, now: datetime | None = None) -> RespiteSession | None:
    """Session `session_id` if it is on the device's board and someone may still arrive or leave (expected or
    here), with the person and their care card; else None (the view answers 404)."""
    now = now or utcnow()
    return db.session.scalar(
        select(RespiteSession)
        .options(joinedload(RespiteSession.recipient).joinedload(CareRecipient.card))
        .where(
            RespiteSession.id == session_id,
            _on_the_board(device.center, now),
            RespiteSession.status.in_((S.CONFIRMED, S.CHECKED_IN)),
        )
    )


def step_for(session: RespiteSession) -> HandoverKind:
    """What happens at the kiosk next: a drop-off (check-in) for someone expected, else a pick-up (check-out)."""
    return HandoverKind.DROP_OFF if session.status == S.CONFIRMED else HandoverKind.PICK_UP


def step_refusal(device: KioskDevice, session: RespiteSession, now: datetime | None = None) -> Exception | None:
    """Why the next step can't happen at this tablet now ("Check-in opens at 09:30…"), or None."""
    if step_for(session) == HandoverKind.DROP_OFF:
        return visits.check_in_refusal(device, session, now)
    return visits.check_out_refusal(device, session, now)


# --- Session codes ------------------------------------------------------------------------------------


def _code_key() -> bytes:
    """KIOSK_CODE_KEY, or one derived from SECRET_KEY under a label of its own (never SECRET_KEY itself)."""
    configured = current_app.config.get("KIOSK_CODE_KEY")
    if configured:
        return configured.encode() if isinstance(configured, str) else bytes(configured)
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(secret, b"respite kiosk session code key", hashlib.sha256).digest()


def _session_zone(session: RespiteSession) -> Any:
    return zone_or_utc(session.center.timezone if session.center is not None else None)


def session_day(session: RespiteSession) -> date:
    """The local day of the session at its center: the day its code works."""
    return session.starts_at.astimezone(_session_zone(session)).date()


def _code_for(session_id: int, day: date) -> str:
    digest = hmac.new(_code_key(), f"respite.kiosk:{session_id}:{day.isoformat()}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def code_window(session: RespiteSession) -> tuple[datetime, datetime]:
    """When the code works: from the midnight that starts the session's day to the one that ends its last day,
    in the center's zone (an evening session that ends after midnight is collected with the same code)."""
    zone = _session_zone(session)
    start, _ = visits.local_day_bounds(session_day(session), zone)
    _, end = visits.local_day_bounds(session.ends_at.astimezone(zone).date(), zone)
    return start, end


def code_works(device: KioskDevice, session: RespiteSession, typed: str, now: datetime | None = None) -> bool:
    """Whether `typed` is the code of `session`, at the tablet of its center, on its day (compared in constant
    time, whatever else fails)."""
    now = now or utcnow()
    typed = "".join((typed or "").split())
    expected = _code_for(session.id, session_day(session))
    matches = hmac.compare_digest(expected.encode(), typed.encode())
    start, end = code_window(session)
    return matches and session.center_id == device.center_id and start <= now < end


def check_code(device: KioskDevice, session: RespiteSession, typed: str, now: datetime | None = None) -> None:
    """Go on when the code is right; KioskError (field "code") otherwise, with an audit row of the refusal that
    names the tablet and the session, never what was typed (the caller keeps it: commits)."""
    if code_works(device, session, typed, now):
        return
    audit.record(
        "kiosk.code_refused",
        session,
        actor_role=Role.KIOSK,
        summary=f"A wrong code was typed at kiosk “{device.name}”",
        meta={"device_id": device.id, "session_id": session.id},
    )
    db.session.flush()
    raise KioskError(WRONG_CODE, "code")


@dataclass(frozen=True)
class FamilyCode:
    """What a family's session page shows: the code, and the day and place it works."""

    code: str
    day: date
    center: Center

    @property
    def spaced(self) -> str:
        return f"{self.code[:3]} {self.code[3:]}"


def code_for_family(user: User, session: RespiteSession) -> FamilyCode | None:
    """The code of `session` for its own family to type at the kiosk (a center session, confirmed or under
    way), else None: no one else is shown it."""
    if user.role != Role.CAREGIVER or session.caregiver.user_id != user.id:
        return None
    if session.center is None or session.status not in (S.CONFIRMED, S.CHECKED_IN):
        return None
    day = session_day(session)
    return FamilyCode(code=_code_for(session.id, day), day=day, center=session.center)


def handovers_for(session: RespiteSession) -> dict[str, Handover]:
    """Who brought and who collected the person at a center session, by kind (no statement before a check-in)."""
    if session.center_id is None or session.checked_in_at is None:
        return {}
    rows = db.session.scalars(select(Handover).where(Handover.session_id == session.id))
    return {row.kind: row for row in rows}


# --- The step after the code: a ticket that says it was right ------------------------------------------


def _tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="respite.kiosk.handover")


def handover_ticket(device: KioskDevice, session: RespiteSession) -> str:
    """Proof, for the next few minutes, that this tablet was given the right code for this session as it is."""
    return _tickets().dumps({"d": device.id, "s": session.id, "v": session.version})


def ticket_is_good(device: KioskDevice, session: RespiteSession, ticket: str) -> bool:
    try:
        data = _tickets().loads(ticket or "", max_age=TICKET_SECONDS)
    except (BadSignature, SignatureExpired):
        return False
    return data == {"d": device.id, "s": session.id, "v": session.version}


# --- Handovers ---------------------------------------------------------------------------------------


def authorised_people(session: RespiteSession) -> list[dict[str, str]]:
    """The people the person's care card allows to drop off and pick up: [{name, relationship, phone}]."""
    card = session.recipient.card
    return [person for person in (card.items("authorised_people") if card else []) if person.get("name")]


@dataclass(frozen=True)
class HandoverChoice:
    """Who is at the desk, as the tablet's form says: one of the list (its number), or someone else."""

    person: str
    name: str = ""
    relationship: str = ""
    pin: str = ""


@dataclass(frozen=True)
class _Handing:
    name: str
    relationship: str
    on_list: bool


def _resolve(device: KioskDevice, session: RespiteSession, choice: HandoverChoice) -> _Handing:
    """Who it is, checked: someone on the list, or someone else with the center's staff PIN. KioskError naming
    each field at fault; a wrong PIN has an audit row too (the caller keeps it)."""
    people = authorised_people(session)
    if choice.person != SOMEONE_ELSE:
        index = int(choice.person) if choice.person.isdigit() and len(choice.person) < 4 else -1
        if not 0 <= index < len(people):
            raise KioskError("Choose who is here.", "person")
        chosen = people[index]
        return _Handing(
            chosen["name"][:PERSON_NAME_LIMIT], (chosen.get("relationship") or "")[:RELATIONSHIP_LIMIT], True
        )
    problems: dict[str, str] = {}
    name = relationship = ""
    try:
        name = _clean(choice.name, PERSON_NAME_LIMIT, field="name", missing="Write their full name.")
    except KioskError as error:
        problems.update(error.problems)
    try:
        relationship = _clean(
            choice.relationship, RELATIONSHIP_LIMIT, field="relationship", missing="Say who they are to the family."
        )
    except KioskError as error:
        problems.update(error.problems)
    if device.center.kiosk_pin_hash is None:
        problems["pin"] = NO_PIN
    elif not problems and not (
        PIN_PATTERN.fullmatch(choice.pin) and verify_password(device.center.kiosk_pin_hash, choice.pin)
    ):
        audit.record(
            "kiosk.pin_refused",
            session,
            actor_role=Role.KIOSK,
            summary=f"A wrong staff PIN was typed at kiosk “{device.name}”",
            meta={"device_id": device.id, "session_id": session.id},
        )
        db.session.flush()
        problems["pin"] = WRONG_PIN
    if problems:
        raise KioskError(" ".join(problems.values()), problems=problems)
    return _Handing(name, relationship, False)


def arrive(
    device: KioskDevice, session: RespiteSession, choice: HandoverChoice, *, now: datetime | None = None
) -> Handover:
    """At drop-off: check the session in (respite.visits) and record who brought the person, in one unit of work."""
    now = now or utcnow()
    handing = _resolve(device, session, choice)
    visits.check_in(device, session, now=now)
    return _record(device, session, HandoverKind.DROP_OFF, handing, now)


def leave(
    device: KioskDevice, session: RespiteSession, choice: HandoverChoice, *, now: datetime | None = None
) -> Handover:
    """At pick-up: check the session out (respite.visits) and record who collected the person."""
    now = now or utcnow()
    handing = _resolve(device, session, choice)
    visits.check_out(device, session, now=now)
    return _record(device, session, HandoverKind.PICK_UP, handing, now)


def hand_over(
    device: KioskDevice, session: RespiteSession, choice: HandoverChoice, *, now: datetime | None = None
) -> Handover:
    """The session's next step at the kiosk: `arrive` for someone expected, `leave` for someone here."""
    if step_for(session) == HandoverKind.DROP_OFF:
        return arrive(device, session, choice, now=now)
    return leave(device, session, choice, now=now)


def _record(
    device: KioskDevice, session: RespiteSession, kind: HandoverKind, handing: _Handing, now: datetime
) -> Handover:
    handover = Handover(
        session_id=session.id,
        kind=kind,
        person_name=handing.name,
        person_relationship=handing.relationship,
        on_list=handing.on_list,
        confirmed_by=None if handing.on_list else HandoverConfirmation.STAFF_PIN,
        device_id=device.id,
        at=now,
    )
    db.session.add(handover)
    what = "Drop-off" if kind == HandoverKind.DROP_OFF else "Pick-up"
    who = "someone on the list" if handing.on_list else "someone not on the list, confirmed with the staff PIN"
    # The names of who handed over are in the handover row, never in the append-only log.
    audit.record(
        "handover.record",
        handover,
        actor_role=Role.KIOSK,
        summary=f"{what} of {session.recipient.full_name} at kiosk “{device.name}”: {who}",
        meta={
            "session_id": session.id,
            "kind": str(kind),
            "on_list": handing.on_list,
            "device_id": device.id,
        },
    )
    if not handing.on_list:
        _tell_family(device, session, kind, handing, now)
    db.session.flush()
    return handover


def _tell_family(
    device: KioskDevice, session: RespiteSession, kind: HandoverKind, handing: _Handing, at: datetime
) -> None:
    """Someone not on the list brought or collected the person: the family hears of it at once."""
    center = device.center.name
    verb = f"brought to {center} by" if kind == HandoverKind.DROP_OFF else f"collected from {center} by"

    def sentence(reader: User) -> str:
        return (
            f"{notices.person_for(reader, session)} was {verb} {handing.name} ({handing.relationship}) at "
            f"{notices.moment(at, reader)}. They are not on the list of people allowed to drop off and pick up; "
            "a staff member confirmed it with the staff PIN."
        )

    notices.tell([session.caregiver.user], NoticeKind.HANDOVER, sentence, session=session)
