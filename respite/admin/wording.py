"""How an audit row reads to a person: one sentence, in the reader's zone, linking to what it is about.

"Dana Whitfield cancelled Elena Martinez's session on Tue 1 Dec, 09:00: hospital appointment."
Every action the code records has its wording here, in WORDING, with the group it is filtered
under (ACTION_GROUPS) and, for a session's own actions, the short label of the session's timeline
(`timeline_labels()`). tests/admin/test_audit_log.py walks the code for the actions it records, so
an action without wording fails there; in a running app an unknown action still reads as a sentence.

The names a sentence needs (people, sessions, people cared for, conversations...) are loaded for a
whole batch of rows in one statement, whatever the rows are about (`subjects_for`, respite.admin.subjects).

Nothing here writes: it reads rows and words them.
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from flask import url_for

from ..accounts.services import mask_email
from ..availability.services import WEEKDAYS, hours_label, time_off_label
from ..models import AuditLog, User
from ..timefmt import zone_label, zone_or_utc
from .subjects import META_REFS, SUBJECT_QUERIES, Subject, SubjectKey, as_id, load_subjects

# --- Sentences -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A piece of a sentence; linked to `href` when it names something that still exists."""

    text: str
    href: str | None = None


@dataclass(frozen=True)
class Sentence:
    """An audit row in words, as parts: a page links the parts that have an address, a CSV file joins them."""

    parts: tuple[Part, ...]

    def __str__(self) -> str:
        return "".join(part.text for part in self.parts)

    @property
    def href(self) -> str | None:
        """The address of what the row is about (its first link), if it has one."""
        return next((part.href for part in self.parts if part.href), None)


def subject_keys(row: AuditLog) -> set[SubjectKey]:
    """The rows `row` names: its entity, and the ids its meta holds (META_REFS, and its action's own)."""
    keys: set[SubjectKey] = set()
    entity_id = as_id(row.entity_id)
    if row.entity_type in SUBJECT_QUERIES and entity_id is not None:
        keys.add((row.entity_type, entity_id))
    meta = row.meta if isinstance(row.meta, dict) else {}
    wording = WORDING.get(row.action)
    refs = {**META_REFS, **(wording.refs if wording else {})}
    for name, kind in refs.items():
        values = meta.get(name)
        for value in values if isinstance(values, list) else [values]:
            if (found := as_id(value)) is not None:
                keys.add((kind, found))
    return keys


# --- Words for a row ------------------------------------------------------------------------------


def _session_href(session_id: int) -> str:
    return url_for("scheduling.session", session_id=session_id)


def _person_href(user_id: int) -> str:
    return url_for("admin.person", user_id=user_id)


def _recipient_href(recipient_id: int) -> str:
    return url_for("care.person", recipient_id=recipient_id)


def _conversation_href(conversation_id: int) -> str:
    return url_for("messaging.thread", conversation_id=conversation_id)


def _center_href(center_id: int) -> str:
    return url_for("centers.edit", center_id=center_id)


def _listed(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _words(name: str) -> str:
    """A field's or a code's name readable: "date_of_birth" → "date of birth"."""
    return name.replace("_", " ").replace(".", " ").strip()


class Words:
    """What a sentence about `row` can say of its actor, its entity and the rows its meta names (`subjects`),
    with times in `zone` (the year left out when it is `today`'s)."""

    def __init__(self, row: AuditLog, subjects: dict[SubjectKey, Subject], zone: tzinfo, today: date) -> None:
        self.row = row
        self.meta: dict[str, Any] = row.meta if isinstance(row.meta, dict) else {}
        self.subjects = subjects
        self.zone = zone
        self.today = today

    # Who did it.

    @property
    def actor(self) -> str:
        if self.row.actor is not None:
            return self.row.actor.display_name
        if self.row.actor_id is not None:
            return f"account {self.row.actor_id}"
        if self.row.actor_role == "kiosk":
            return self.kiosk()
        return "someone"

    def kiosk(self) -> str:
        """The kiosk tablet the meta names: "the kiosk “Front desk” at Maple House"."""
        found = self.subject("KioskDevice", self.meta_id("device_id"))
        return f"the kiosk “{found.name}” at {found.other}" if found is not None else "a kiosk"

    @property
    def visitor(self) -> str:
        """The actor of a refusal: who was refused, or someone not signed in."""
        return self.actor if self.row.actor_id is not None else "someone not signed in"

    # What it is about.

    @property
    def entity_id(self) -> int | None:
        return as_id(self.row.entity_id)

    def subject(self, kind: str, id_: int | None) -> Subject | None:
        return self.subjects.get((kind, id_)) if id_ is not None else None

    def meta_id(self, name: str) -> int | None:
        return as_id(self.meta.get(name))

    def user(self, user_id: int | None = None) -> Part:
        """A person's name linked to their page: the row's account by default."""
        user_id = user_id if user_id is not None else self.entity_id if self.row.entity_type == "User" else None
        if (found := self.subject("User", user_id)) is not None:
            return Part(found.name, _person_href(found.id))
        if user_id is not None and user_id == self.row.actor_id and self.row.actor is not None:
            return Part(self.row.actor.display_name, _person_href(user_id))
        return Part(f"account {user_id}" if user_id is not None else "an account")

    def provider(self, name: str = "provider_id") -> str:
        """The provider whose profile id the meta holds under `name`."""
        found = self.subject("ProviderProfile", self.meta_id(name))
        return found.name if found is not None else "a provider"

    def providers(self, name: str) -> str:
        values = self.meta.get(name)
        found = [self.subject("ProviderProfile", as_id(v)) for v in (values if isinstance(values, list) else [])]
        return _listed([s.name for s in found if s is not None])

    def when(self, at: datetime) -> str:
        local = at.astimezone(self.zone)
        return f"{local:%a %-d %b, %H:%M}" if local.year == self.today.year else f"{local:%a %-d %b %Y, %H:%M}"

    def session(self, session_id: int | None = None) -> Part:
        """ "Elena Martinez's session on Tue 1 Dec, 09:00", linked to the session: the row's, or `session_id`."""
        kind = self.row.entity_type
        if session_id is None and kind in ("Assignment", "VisitNote"):
            # An offer's or a visit note's subject carries its session's id, name and time.
            found = self.subject(kind, self.entity_id)
            if found is not None and found.ref is not None:
                return self._session_part(found.ref, found)
        if session_id is None:
            session_id = self.entity_id if kind == "RespiteSession" else self.meta_id("session_id")
        return self._session_part(session_id, self.subject("RespiteSession", session_id))

    def _session_part(self, session_id: int | None, found: Subject | None) -> Part:
        if session_id is None:
            return Part("a session")
        if found is None:
            return Part(f"session {session_id}")
        when = f" on {self.when(found.at)}" if found.at is not None else ""
        return Part(f"{found.name}'s session{when}", _session_href(session_id))

    def recipient(self) -> Part:
        """The person cared for the row is about, linked to their page."""
        recipient_id = self.entity_id if self.row.entity_type == "CareRecipient" else self.meta_id("recipient_id")
        if (found := self.subject("CareRecipient", recipient_id)) is not None:
            return Part(found.name, _recipient_href(found.id))
        return Part("a person cared for")

    def conversation(self, text: str = "a conversation") -> Part:
        """A conversation, linked only for a reader who takes part in it."""
        conversation_id = self.entity_id if self.row.entity_type == "Conversation" else None
        conversation_id = conversation_id or self.meta_id("conversation_id")
        found = self.subject("Conversation", conversation_id)
        if found is not None and found.other == "1":
            return Part(text, _conversation_href(found.id))
        return Part(text)

    def center(self) -> Part:
        """The center the row is about, linked to its page."""
        center_id = self.entity_id if self.row.entity_type == "Center" else self.meta_id("center_id")
        found = self.subject("Center", center_id)
        return Part(found.name, _center_href(found.id)) if found is not None else Part("a center")

    def entity(self) -> Part:
        """Whatever the row is about, as well as it can be named."""
        kind = self.row.entity_type
        if kind == "User":
            return self.user()
        if kind in ("RespiteSession", "Assignment", "VisitNote"):
            return self.session()
        if kind == "CareRecipient":
            return self.recipient()
        if kind == "Conversation":
            return self.conversation()
        if kind == "Center":
            return self.center()
        return Part(f"{_words(re.sub(r'(?<!^)(?=[A-Z])', ' ', kind)).lower()} {self.row.entity_id}".strip())

    # What else it says.

    def reason(self, name: str = "reason") -> str:
        value = self.meta.get(name)
        return f": {str(value).strip()}" if isinstance(value, str) and value.strip() else ""

    def number(self, name: str) -> int | None:
        value = self.meta.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def say(self, *parts: str | Part) -> Sentence:
        """A sentence of these parts, its first letter a capital."""
        pieces = [part if isinstance(part, Part) else Part(part) for part in parts if part]
        if pieces and pieces[0].text:
            first = pieces[0]
            pieces[0] = Part(first.text[0].upper() + first.text[1:], first.href)
        return Sentence(tuple(pieces))


# --- Each action's wording ------------------------------------------------------------------------

Say = Callable[[Words], Sentence]


@dataclass(frozen=True)
class Wording:
    """How one action reads (`say`), the group it is filtered under, and its label on a session's timeline."""

    group: str
    say: Say
    timeline: str = ""
    refs: dict[str, str] = field(default_factory=dict)  # more meta keys naming rows, for this action only


@dataclass(frozen=True)
class ActionGroup:
    key: str
    label: str


SIGN_INS = ActionGroup("sign-ins", "Sign-ins and sign-outs")
FAILED_SIGN_INS = ActionGroup("failed-sign-ins", "Failed sign-ins")
SECURITY = ActionGroup("security", "Passwords and two-step sign-in")
ACCOUNT_DETAILS = ActionGroup("account-details", "Account details, calendar feeds and notices")
SIGN_UPS = ActionGroup("sign-ups", "Sign-ups and invitations")
ACCOUNTS_CHANGED = ActionGroup("accounts", "Accounts deactivated, reactivated, changed or erased")
REQUESTS = ActionGroup("requests", "Sessions requested or changed")
MATCHING = ActionGroup("matching", "Sessions offered, confirmed or reassigned")
DECLINED = ActionGroup("declined", "Requests declined")
CANCELLED = ActionGroup("cancelled", "Sessions cancelled")
VISITS = ActionGroup("visits", "Check-ins, check-outs and no-shows")
VISIT_NOTES = ActionGroup("visit-notes", "Visit notes")
PEOPLE_CARED_FOR = ActionGroup("people-cared-for", "People cared for")
CARE_CARDS = ActionGroup("care-cards", "Care cards changed")
CARE_CARD_READS = ActionGroup("care-card-reads", "Care cards read")
AVAILABILITY = ActionGroup("availability", "Availability and time off")
MESSAGES = ActionGroup("messages", "Messages")
REFUSALS = ActionGroup("refusals", "Refused requests")
ALLOTMENTS = ActionGroup("allotments", "Yearly respite hours")
CENTERS = ActionGroup("centers", "Centers and their kiosks")
KIOSK_HANDOVERS = ActionGroup("handovers", "Drop-offs and pick-ups at a kiosk")
DOWNLOADS = ActionGroup("downloads", "Downloads (the audit log, reports)")
AUDIT_CHECKS = ActionGroup("audit-checks", "Checks of the audit log")
DEMO = ActionGroup("demo", "Demo data")
# Rows of actions without wording (a newer version's, or a test's): offered as a choice of their own.
OTHER = ActionGroup("other", "Anything else")

_FAILED_SIGN_IN = {
    "password": "wrong password",
    "second_step": "wrong two-step code",
    "code_reused": "a two-step code used twice",
    "inactive": "the account is deactivated",
    "unknown": "no account has that address",
}
_SESSION_FIELDS = {
    "starts_at": "time",
    "ends_at": "time",
    "center_id": "center",
    "location_kind": "place",
    "address": "address",
    "request_notes": "notes",
}
_NOTE_PARTS = {"went_well": "what went well", "concerns": "concerns", "medication_given": "medication given"}
_ACCOUNT_FIELDS = {"display_name": "name", "email": "email", "timezone": "time zone", "center": "center"}
_CENTER_FIELDS = {"name": "name", "address": "address", "timezone": "time zone", "opening_hours": "opening hours"}
_EXPORT_FILTERS = {
    "person": "person",
    "action": "action",
    "entity": "what it is about",
    "entity_id": "what it is about",
    "from": "dates",
    "to": "dates",
    "signins": "sign-ins included",
}


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _changed(w: Words, names: dict[str, str]) -> str:
    changed = w.meta.get("changed")
    keys = changed if isinstance(changed, list | dict) else []
    words = list(dict.fromkeys(names.get(str(key), _words(str(key))) for key in keys))
    return f": {_listed(words)}" if words else ""


def _failed_sign_in(w: Words) -> Sentence:
    reason = _FAILED_SIGN_IN.get(str(w.meta.get("reason")), "")
    because = f": {reason}" if reason else ""
    if w.entity_id is not None:
        return w.say("a sign-in as ", w.user(), f" failed{because}")
    email = w.meta.get("email")
    tried = f" with {mask_email(email)}" if isinstance(email, str) and email else ""
    return w.say(f"a sign-in{tried} failed{because}")


def _reset_requested(w: Words) -> Sentence:
    email = w.meta.get("email")
    if w.entity_id is None:
        address = mask_email(email) if isinstance(email, str) else "an address"
        return w.say(f"a password reset was asked for {address}, which has no account")
    if isinstance(email, str):
        return w.say("a password reset was asked for ", w.user(), ", whose account is deactivated")
    return w.say("a password reset link was sent to ", w.user())


def _sign_up_requested(w: Words) -> Sentence:
    email = w.meta.get("email")
    return w.say(f"a sign-up link was sent to {email if isinstance(email, str) else 'a new address'}")


def _account_update(w: Words) -> Sentence:
    if w.row.actor_id is not None and w.row.actor_id != w.entity_id:
        return w.say(w.actor, " changed the account details of ", w.user(), _changed(w, _ACCOUNT_FIELDS))
    return w.say(w.user(), " changed their account details", _changed(w, _ACCOUNT_FIELDS))


def _role_change(w: Words) -> Sentence:
    role = _mapping(w.meta.get("role"))
    to, was = role.get("to"), role.get("from")
    now = f" a {to}" if to else " something else"
    return w.say(w.actor, " made ", w.user(), now, f" (was a {was})" if was else "", w.reason())


def _invite(w: Words) -> Sentence:
    role = w.meta.get("role")
    center = w.subject("Center", w.meta_id("center_id"))
    at = f" at {center.name}" if center is not None else ""
    return w.say(w.actor, " invited ", w.user(), f" as a {role}" if role else "", at)


def _series(w: Words) -> str:
    size, occurrence = w.number("series_size"), w.number("occurrence")
    return f" ({occurrence} of {size} weekly)" if size and size > 1 and occurrence else ""


def _replace(w: Words) -> Sentence:
    replaced = w.subject("RespiteSession", w.meta_id("replaces"))
    was = f" (it replaces the confirmed one on {w.when(replaced.at)})" if replaced and replaced.at else ""
    return w.say(w.actor, " changed a confirmed session into a new request: ", w.session(), was)


def _assign(w: Words) -> Sentence:
    warning = w.meta.get("warning")
    return w.say(
        w.actor,
        " assigned ",
        w.provider(),
        " to ",
        w.session(),
        f". {warning}" if isinstance(warning, str) and warning else "",
    )


def _reassign(w: Words) -> Sentence:
    before = w.providers("from")
    return w.say(
        w.actor, " gave ", w.session(), " to ", w.provider("to"), f" (was {before})" if before else "", w.reason()
    )


def _availability_change(what: str) -> Say:
    def say(w: Words) -> Sentence:
        return w.say(w.actor, f" {what} ", *_availability_words(w))

    return say


def _availability_words(w: Words) -> list[str | Part]:
    found = w.subject("Availability", w.entity_id)
    whose: list[str | Part] = []
    if found is not None and found.ref != w.row.actor_id and found.ref is not None:
        whose = [" for ", Part(found.name, _person_href(found.ref))]
    meta = w.meta
    if meta.get("kind") == "weekly":
        weekday, start, end = meta.get("weekday"), meta.get("start_minute"), meta.get("end_minute")
        if isinstance(weekday, int) and isinstance(start, int) and isinstance(end, int) and 0 <= weekday < 7:
            zone = str(meta.get("timezone") or "UTC")
            clock = "" if zone_or_utc(zone) == w.zone else f" ({zone_label(zone)} time)"
            return ["weekly hours", *whose, f": {WEEKDAYS[weekday]} {hours_label(start, end)}{clock}"]
        return ["weekly hours", *whose]
    try:
        starts = datetime.fromisoformat(str(meta.get("starts_at")))
        ends = datetime.fromisoformat(str(meta.get("ends_at")))
    except ValueError:
        return ["time off", *whose]
    return ["time off", *whose, f": {time_off_label(starts, ends, w.zone)}"]


def _conversation_start(w: Words) -> Sentence:
    others = [
        found.name
        for value in (w.meta.get("participants") or [])
        if (found := w.subject("User", as_id(value))) is not None and found.id != w.row.actor_id
    ]
    return w.say(w.actor, " started ", w.conversation(), f" with {_listed(others)}" if others else "")


def _message_send(w: Words) -> Sentence:
    files = w.number("files")
    attached = f" with {files} file{'s' if files != 1 else ''}" if files else ""
    return w.say(w.actor, " sent a message", attached, " in ", w.conversation())


def _attachment_add(w: Words) -> Sentence:
    count = w.number("count") or 0
    return w.say(w.actor, f" attached {count} file{'s' if count != 1 else ''} to a message in ", w.conversation())


def _card(w: Words, verb: str) -> Sentence:
    version = w.number("version")
    return w.say(w.actor, f" {verb} ", w.recipient(), "'s care card", f" (version {version})" if version else "")


def _card_save(w: Words) -> Sentence:
    version = w.number("version")
    saved = f" saved version {version} of " if version else " saved "
    return w.say(w.actor, saved, w.recipient(), "'s care card", _changed(w, {}))


def _refused(w: Words) -> Sentence:
    summary = w.row.summary.strip()
    if match := re.fullmatch(r"\w+ refused at (.+)", summary):
        return w.say(w.visitor, f" was refused at {match.group(1)}")
    return w.say(w.visitor, " was refused", f": {summary}" if summary else "")


def _throttled(w: Words) -> Sentence:
    summary = w.row.summary.strip()
    detail = f": {summary[0].lower()}{summary[1:]}" if summary else ""
    return w.say(w.visitor, " was slowed down", detail)


def _not_found(w: Words) -> Sentence:
    match = re.fullmatch(r"Nothing to show at (.+)", w.row.summary.strip())
    return w.say(w.visitor, " asked for something that isn't there", f": {match.group(1)}" if match else "")


def _link_refused(w: Words) -> Sentence:
    purpose = {"sign_up": "sign-up", "reset": "password reset", "invitation": "invitation"}.get(
        str(w.meta.get("purpose")), "emailed"
    )
    return w.say(w.visitor, f" opened a {purpose} link that was used, expired or made up")


def _export(w: Words) -> Sentence:
    rows = w.number("rows") or 0
    filters = _mapping(w.meta.get("filters"))
    by = list(dict.fromkeys(_EXPORT_FILTERS.get(str(key), _words(str(key))) for key in filters))
    filtered = f" (filtered by {_listed(by)})" if by else ""
    return w.say(w.actor, f" downloaded {rows} audit log {'entry' if rows == 1 else 'entries'} as CSV{filtered}")


def _verify(w: Words) -> Sentence:
    rows, up_to = w.number("rows") or 0, w.number("up_to")
    if w.meta.get("intact"):
        upto = f" up to row {up_to}" if up_to else ""
        return w.say(w.actor, f" checked the audit log: intact{upto} ({rows} rows)")
    if (broken := w.number("broken_at")) is not None:
        return w.say(w.actor, f" checked the audit log and found it broken at row {broken}")
    checkpoint = w.number("failed_checkpoint")
    if checkpoint is None:
        return w.say(w.actor, " checked the audit log and found it not intact")
    if w.meta.get("row_missing"):
        return w.say(w.actor, f" checked the audit log and found rows cut from it (row {checkpoint} is gone)")
    return w.say(w.actor, f" checked the audit log and found row {checkpoint} changed since its checkpoint")


def _report_export(w: Words) -> Sentence:
    report = w.meta.get("report")
    name = f"the {_words(str(report))} report" if isinstance(report, str) and report else "a report"
    return w.say(w.actor, f" downloaded {name} as CSV")


def _hours(minutes: object) -> str:
    whole, rest = divmod(minutes if isinstance(minutes, int) else 0, 60)
    return f"{whole} h {rest:02d} min" if rest else f"{whole} h"


def _allotment(w: Words) -> str:
    change = _mapping(w.meta.get("allotment_minutes"))
    was = f" (was {_hours(change['from'])})" if isinstance(change.get("from"), int) else ""
    return f"{_hours(change.get('to'))}{was}"


def _center_change(w: Words) -> Sentence:
    return w.say(w.actor, " changed ", *_what_changed(w, _CENTER_FIELDS), w.center())


def _user_change(w: Words) -> Sentence:
    return w.say(w.actor, " changed ", *_what_changed(w, _ACCOUNT_FIELDS), w.user())


def _what_changed(w: Words, names: dict[str, str]) -> list[str]:
    changed = _changed(w, names).removeprefix(": ")
    return [f"the {changed} of " if changed else "the details of "]


def _handover(w: Words) -> Sentence:
    what = "pick-up" if w.meta.get("kind") == "pick_up" else "drop-off"
    who = "someone on the list" if w.meta.get("on_list") else "someone not on the list, let through with the staff PIN"
    return w.say(w.actor, f" recorded the {what} for ", w.session(), f": {who}")


def _purge(w: Words) -> Sentence:
    messages, files = w.number("messages") or 0, w.number("files") or 0
    older = w.meta.get("older_than")
    before = f" from before {str(older)[:10]}" if older else ""
    return w.say(
        f"the retention policy removed {messages} message{'s' if messages != 1 else ''} "
        f"and {files} file{'s' if files != 1 else ''}{before}"
    )


def _simple(*parts: str | Callable[[Words], str | Part]) -> Say:
    """A sentence of fixed words and pieces taken from the row."""
    return lambda w: w.say(*(part(w) if callable(part) else part for part in parts))


def _actor(w: Words) -> str:
    return w.actor


def _user(w: Words) -> Part:
    return w.user()


def _session(w: Words) -> Part:
    return w.session()


def _recipient(w: Words) -> Part:
    return w.recipient()


def _center(w: Words) -> Part:
    return w.center()


def _reason(w: Words) -> str:
    return w.reason()


WORDING: dict[str, Wording] = {
    # Signing in and out.
    "auth.login": Wording(SIGN_INS.key, _simple(_user, " signed in")),
    "auth.logout": Wording(SIGN_INS.key, _simple(_user, " signed out")),
    "auth.first_step": Wording(SIGN_INS.key, _simple(_user, " entered their password; the two-step code came next")),
    "auth.login_failed": Wording(FAILED_SIGN_INS.key, _failed_sign_in),
    # Passwords and two-step sign-in.
    "auth.recovery_code_used": Wording(SECURITY.key, _simple(_user, " signed in with a recovery code")),
    "auth.password_reset": Wording(SECURITY.key, _simple(_user, " set a new password through a reset link")),
    "auth.reset_requested": Wording(SECURITY.key, _reset_requested),
    "account.password_change": Wording(SECURITY.key, _simple(_user, " changed their password")),
    "account.password_change_failed": Wording(
        SECURITY.key, _simple(_user, " tried to change their password but gave a wrong current password")
    ),
    "account.reauth_failed": Wording(SECURITY.key, _simple(_user, " gave a wrong current password")),
    "account.two_factor_on": Wording(SECURITY.key, _simple(_user, " turned two-step sign-in on")),
    "account.two_factor_off": Wording(SECURITY.key, _simple(_user, " turned two-step sign-in off")),
    "user.unlock": Wording(
        SECURITY.key, _simple(_actor, " unlocked the sign-in of ", _user, " after repeated failed attempts")
    ),
    "user.reset_link_sent": Wording(SECURITY.key, _simple(_actor, " sent ", _user, " a link to set a new password")),
    "account.recovery_codes": Wording(
        SECURITY.key, _simple(_user, " made new recovery codes; the old ones no longer work")
    ),
    # Account details, calendar feeds, notices.
    "account.update": Wording(ACCOUNT_DETAILS.key, _account_update),
    "calendar.enable": Wording(
        ACCOUNT_DETAILS.key,
        lambda w: w.say(w.user(), " made a new calendar feed address; the old one stopped working")
        if w.meta.get("renewed")
        else w.say(w.user(), " turned their calendar feed on"),
    ),
    "calendar.revoke": Wording(ACCOUNT_DETAILS.key, _simple(_user, " turned their calendar feed off")),
    "notice.preferences": Wording(ACCOUNT_DETAILS.key, _simple(_user, " changed which notices also come by email")),
    # Sign-ups and invitations.
    "auth.sign_up": Wording(SIGN_UPS.key, _simple(_user, " signed up as a family caregiver")),
    "auth.sign_up_repeated": Wording(
        SIGN_UPS.key, _simple("someone tried to sign up with the email address of ", _user)
    ),
    "auth.sign_up_requested": Wording(SIGN_UPS.key, _sign_up_requested),
    "user.invite": Wording(SIGN_UPS.key, _invite),
    "user.invitation_renewed": Wording(
        SIGN_UPS.key,
        lambda w: w.say(w.actor, " emailed ", w.user(), " a new invitation link")
        if w.meta.get("emailed")
        else w.say(w.actor, " made a new invitation link for ", w.user()),
    ),
    "user.invitation_revoked": Wording(SIGN_UPS.key, _simple(_actor, " withdrew the invitation of ", _user)),
    "user.invitation_accepted": Wording(SIGN_UPS.key, _simple(_user, " accepted their invitation and set a password")),
    # A coordinator's changes to someone's account.
    "user.deactivate": Wording(ACCOUNTS_CHANGED.key, _simple(_actor, " deactivated the account of ", _user, _reason)),
    "user.reactivate": Wording(ACCOUNTS_CHANGED.key, _simple(_actor, " reactivated the account of ", _user, _reason)),
    "user.role_change": Wording(ACCOUNTS_CHANGED.key, _role_change),
    "user.update": Wording(ACCOUNTS_CHANGED.key, _user_change),
    "user.erase": Wording(
        ACCOUNTS_CHANGED.key, _simple(_actor, " erased the personal details of ", _user, " on request", _reason)
    ),
    # Sessions.
    "session.request": Wording(
        REQUESTS.key, lambda w: w.say(w.actor, " requested ", w.session(), _series(w)), timeline="Requested"
    ),
    "session.edit": Wording(
        REQUESTS.key,
        lambda w: w.say(w.actor, " changed the request for ", w.session(), _changed(w, _SESSION_FIELDS)),
        timeline="Request changed",
    ),
    "session.replace": Wording(
        REQUESTS.key,
        _replace,
        timeline="Changed after it was confirmed: replaced by a new request",
    ),
    "session.confirm": Wording(MATCHING.key, _simple(_actor, " confirmed ", _session), timeline="Confirmed"),
    "session.assign": Wording(MATCHING.key, _assign, timeline="Confirmed: a provider was assigned"),
    "session.accept": Wording(
        MATCHING.key, _simple(_actor, " accepted ", _session), timeline="Confirmed: the provider accepted it"
    ),
    "session.take": Wording(
        MATCHING.key, _simple(_actor, " took ", _session), timeline="Confirmed: the provider took it"
    ),
    "session.reassign": Wording(
        MATCHING.key,
        _reassign,
        timeline="Given to another provider",
        refs={"to": "ProviderProfile", "from": "ProviderProfile"},
    ),
    "session.decline": Wording(
        DECLINED.key, _simple(_actor, " declined the request for ", _session, _reason), timeline="Declined"
    ),
    "session.cancel": Wording(CANCELLED.key, _simple(_actor, " cancelled ", _session, _reason), timeline="Cancelled"),
    "session.check_in": Wording(VISITS.key, _simple(_actor, " checked in ", _session), timeline="Checked in"),
    "session.check_out": Wording(VISITS.key, _simple(_actor, " checked out ", _session), timeline="Checked out"),
    "session.no_show": Wording(
        VISITS.key, _simple(_actor, " marked ", _session, " as a no-show", _reason), timeline="Marked as a no-show"
    ),
    # Offers.
    "assignment.offer": Wording(MATCHING.key, lambda w: w.say(w.actor, " offered ", w.session(), " to ", w.provider())),
    "assignment.withdraw": Wording(
        MATCHING.key, lambda w: w.say(w.actor, " withdrew the offer of ", w.session(), " to ", w.provider())
    ),
    "assignment.decline": Wording(MATCHING.key, _simple(_actor, " turned down the offer of ", _session, _reason)),
    # Visit notes.
    "visit_note.create": Wording(VISIT_NOTES.key, _simple(_actor, " wrote the visit note for ", _session)),
    "visit_note.update": Wording(
        VISIT_NOTES.key,
        lambda w: w.say(
            w.actor,
            " changed the visit note for ",
            w.session(),
            f": {_listed([_NOTE_PARTS.get(str(p), _words(str(p))) for p in w.meta.get('parts') or []])}"
            if w.meta.get("parts")
            else "",
        ),
    ),
    # People cared for and their care cards.
    "care.recipient_add": Wording(
        PEOPLE_CARED_FOR.key, _simple(_actor, " added ", _recipient, " to the people cared for")
    ),
    "care.recipient_update": Wording(
        PEOPLE_CARED_FOR.key, lambda w: w.say(w.actor, " changed the details of ", w.recipient(), _changed(w, {}))
    ),
    "care.recipient_deactivate": Wording(
        PEOPLE_CARED_FOR.key, _simple(_actor, " deactivated ", _recipient, ": no more sessions for them")
    ),
    "care.card_save": Wording(CARE_CARDS.key, _card_save),
    "care.card_read": Wording(CARE_CARD_READS.key, lambda w: _card(w, "read")),
    "care.card_acknowledge": Wording(CARE_CARD_READS.key, lambda w: _card(w, "confirmed having read")),
    # Availability.
    "availability.weekly_add": Wording(AVAILABILITY.key, _availability_change("added")),
    "availability.time_off_add": Wording(AVAILABILITY.key, _availability_change("added")),
    "availability.remove": Wording(AVAILABILITY.key, _availability_change("removed")),
    # Messages.
    "conversation.start": Wording(MESSAGES.key, _conversation_start),
    "message.send": Wording(MESSAGES.key, _message_send),
    "message.read": Wording(MESSAGES.key, lambda w: w.say(w.actor, " read the new messages in ", w.conversation())),
    "attachment.add": Wording(MESSAGES.key, _attachment_add),
    "message.purge": Wording(MESSAGES.key, _purge),
    # Refusals.
    "access.denied": Wording(REFUSALS.key, _refused),
    "access.throttled": Wording(REFUSALS.key, _throttled),
    "access.not_found": Wording(REFUSALS.key, _not_found),
    "access.csrf_refused": Wording(
        REFUSALS.key, lambda w: w.say("a form from ", w.visitor, " was refused: its security token was missing or old")
    ),
    "access.link_refused": Wording(REFUSALS.key, _link_refused),
    # The audit log itself.
    "audit.export": Wording(DOWNLOADS.key, _export),
    "report.export": Wording(DOWNLOADS.key, _report_export),
    "audit.verify": Wording(AUDIT_CHECKS.key, _verify),
    # Allotments.
    "caregiver.allotment": Wording(
        ALLOTMENTS.key,
        lambda w: w.say(w.actor, " set the yearly respite of ", w.user(), f" to {_allotment(w)}", w.reason()),
    ),
    "program.default_allotment": Wording(
        ALLOTMENTS.key, lambda w: w.say(w.actor, f" set the yearly respite new families start with to {_allotment(w)}")
    ),
    # Centers and their kiosks.
    "center.create": Wording(CENTERS.key, _simple(_actor, " opened the center ", _center)),
    "center.update": Wording(CENTERS.key, _center_change),
    "kiosk.pairing_create": Wording(CENTERS.key, _simple(_actor, " made a pairing code for a new kiosk at ", _center)),
    "kiosk.pair": Wording(CENTERS.key, lambda w: w.say(w.kiosk(), " was paired with ", w.center())),
    "kiosk.revoke": Wording(CENTERS.key, lambda w: w.say(w.actor, f" unpaired {w.kiosk()}")),
    "kiosk.pin_set": Wording(CENTERS.key, _simple(_actor, " set the staff PIN for the kiosks at ", _center)),
    "kiosk.pair_refused": Wording(REFUSALS.key, _simple("a pairing code that doesn't work was typed at a kiosk")),
    "kiosk.code_refused": Wording(
        REFUSALS.key, lambda w: w.say(f"a wrong code was typed at {w.kiosk()} for ", w.session())
    ),
    "kiosk.pin_refused": Wording(
        REFUSALS.key, lambda w: w.say(f"a wrong staff PIN was typed at {w.kiosk()} for ", w.session())
    ),
    "handover.record": Wording(KIOSK_HANDOVERS.key, _handover),
    # Demo data.
    "demo.seed": Wording(DEMO.key, lambda w: w.say("the demo data was loaded at ", w.center())),
}

ACTION_GROUPS: tuple[ActionGroup, ...] = (
    SIGN_INS,
    FAILED_SIGN_INS,
    SECURITY,
    SIGN_UPS,
    ACCOUNTS_CHANGED,
    ACCOUNT_DETAILS,
    REQUESTS,
    MATCHING,
    DECLINED,
    CANCELLED,
    VISITS,
    VISIT_NOTES,
    PEOPLE_CARED_FOR,
    CARE_CARDS,
    CARE_CARD_READS,
    AVAILABILITY,
    MESSAGES,
    REFUSALS,
    ALLOTMENTS,
    CENTERS,
    KIOSK_HANDOVERS,
    DOWNLOADS,
    AUDIT_CHECKS,
    DEMO,
    OTHER,
)
GROUPS_BY_KEY = {group.key: group for group in ACTION_GROUPS}
# Sign-ins and sign-outs are most of the log: hidden unless asked for.
SIGN_IN_ACTIONS = tuple(action for action, wording in WORDING.items() if wording.group == SIGN_INS.key)

# What the log's rows are about, for the filter, in plain words.
ENTITY_KINDS = {
    "RespiteSession": "Session",
    "User": "Account",
    "CareRecipient": "Person cared for",
    "Assignment": "Offer of a session",
    "VisitNote": "Visit note",
    "Availability": "Availability",
    "Conversation": "Conversation",
    "Message": "Message",
    "Center": "Center",
}


def actions_in(group_key: str) -> tuple[str, ...]:
    """The actions filtered under a group ("other" has none of its own: it is everything without wording)."""
    return tuple(action for action, wording in WORDING.items() if wording.group == group_key)


def timeline_labels() -> dict[str, str]:
    """What each session action did, as a session's own page says it: "session.check_in" → "Checked in"."""
    return {action: wording.timeline for action, wording in WORDING.items() if wording.timeline}


def _generic(w: Words) -> Sentence:
    """An action without wording: its code in words, what it is about, and its summary."""
    about: list[str | Part] = [" about ", w.entity()] if w.row.entity_type else []
    summary = w.row.summary.strip()
    return w.say(w.actor, f" did “{_words(w.row.action)}”", *about, f": {summary}" if summary else "")


def sentence(row: AuditLog, subjects: dict[SubjectKey, Subject], zone: tzinfo, today: date | None = None) -> Sentence:
    """`row` in words for a reader in `zone`, with `subjects` from `load_subjects`."""
    today = today or datetime.now(UTC).astimezone(zone).date()
    words = Words(row, subjects, zone, today)
    wording = WORDING.get(row.action)
    return (wording.say if wording else _generic)(words)


@dataclass(frozen=True)
class Entry:
    """A row of the log and its sentence."""

    row: AuditLog
    sentence: Sentence


def subjects_for(
    rows: Iterable[AuditLog], reader: User, *, extra: Iterable[SubjectKey] = ()
) -> dict[SubjectKey, Subject]:
    """What `rows` name (and `extra`: a filter's person, say), loaded for `reader` in one statement."""
    keys = set(extra)
    for row in rows:
        keys |= subject_keys(row)
    return load_subjects(keys, reader)


def entries(rows: Sequence[AuditLog], reader: User, subjects: dict[SubjectKey, Subject] | None = None) -> list[Entry]:
    """`rows` in words for `reader` (their zone, their access to conversations); names loaded unless given."""
    zone = zone_or_utc(reader.timezone)
    today = datetime.now(UTC).astimezone(zone).date()
    subjects = subjects if subjects is not None else subjects_for(rows, reader)
    return [Entry(row, sentence(row, subjects, zone, today)) for row in rows]
