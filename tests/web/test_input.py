"""Strange input gets a clear answer, never a 500: control characters in every form and every query string
that reaches the database, ids beyond the database's range.

POSTS holds one row per POST rule of the URL map: who posts, the values of a post that goes through, and
which of them are text a person types. A rule without a row fails the first test, so a new form is covered
on purpose; a rule without text says why it has none. Control characters typed into each text field get
the route's refusal with the message where the person acted, and the database stays as it was. A control
character in any other value posted (an id, a version, a date, a choice) is never a 500, and none is ever
stored. Query strings and the secrets in addresses get the same: never a 500, nothing stored.
"""

import html
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import pyotp
import pytest
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, StringField, TextAreaField

from respite.accounts.passwords import hash_password
from respite.accounts.twofactor import new_secret
from respite.accounts.views import NEW_SECRET, PENDING_SECOND_STEP
from respite.extensions import db
from respite.kiosk import services as kiosk
from respite.models import CareCardVersion, SessionStatus, utcnow
from respite.text import has_control_characters
from respite.web.converters import MAX_ID
from respite.web.forms import CONTROL_MESSAGE, Form
from tests import factories
from tests.helpers import TEST_PASSWORD, audit_rows, field_error, lock_out
from tests.web.test_access_matrix import ANONYMOUS, World, client_for, path_for

# What goes into a text field: a NUL (PostgreSQL can't store it), a terminal's escape, DEL, and C1's CSI.
CONTROLS = ("\x00", "\x1b[31m", "\x7f", "\x9b")
# The scheduling services' words for a reason that no form field holds (cancel posts the reason alone).
REASON_MESSAGE = "Remove the hidden control characters from the reason."
NEW_PASSWORD = "a quiet walk by the river"
CHICAGO = ZoneInfo("America/Chicago")  # the factories' zone, and the caregiver's


def local_time(days: int, hour: int) -> datetime:
    """`hour` o'clock on Chicago's clock, `days` days from today, in UTC."""
    day = utcnow().astimezone(CHICAGO).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), CHICAGO).astimezone(UTC)


def free_all_week(profile: Any) -> Any:
    for weekday in range(7):
        factories.AvailabilityFactory(provider=profile, weekday=weekday)
    return profile


class InputWorld(World):
    """The access matrix's World, and what a few more forms need: sessions under way, a series, a card..."""

    @cached_property
    def card(self) -> CareCardVersion:
        """A first version of Ottilie's care card, for a provider to acknowledge."""
        version = CareCardVersion(recipient=self.ottilie, number=1, content={"needs": "Reminders to drink"})
        db.session.add(version)
        self.ottilie.card_number = 1
        db.session.flush()
        return version

    @cached_property
    def other_provider(self) -> Any:
        """A second provider at Maple House, free all week: someone to assign, offer or reassign to."""
        return free_all_week(factories.ProviderProfileFactory(center=self.center, user__display_name="Bo Second"))

    def _held_from(self, minutes_ago: int, status: str) -> Any:
        """A three-hour session of the provider's, for Ottilie, that began `minutes_ago` (checked in then, if it is)."""
        starts = utcnow().replace(microsecond=0) - timedelta(minutes=minutes_ago)
        held = factories.RespiteSessionFactory(
            recipient=self.ottilie,
            center=self.center,
            status=status,
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            checked_in_at=starts if status == SessionStatus.CHECKED_IN else None,
        )
        factories.AssignmentFactory(session=held, provider=self.provider, status="accepted")
        return held

    @cached_property
    def under_way(self) -> Any:
        """The provider's confirmed session that began 20 minutes ago and no one has checked in: late, or a no-show."""
        return self._held_from(20, SessionStatus.CONFIRMED)

    @cached_property
    def visited(self) -> Any:
        """The provider's session under way, checked in at its start: to check out of, or write the note of."""
        return self._held_from(30, SessionStatus.CHECKED_IN)

    @cached_property
    def series(self) -> Any:
        """The first of two weekly requests for Ottilie, a week and two weeks ahead."""
        series_id = str(uuid.uuid4())
        first, _ = (
            factories.RespiteSessionFactory(
                recipient=self.ottilie,
                center=self.center,
                series_id=series_id,
                starts_at=local_time(7 * week, 10),
                ends_at=local_time(7 * week, 13),
            )
            for week in (1, 2)
        )
        return first

    @cached_property
    def two_step_user(self) -> Any:
        """Someone who signs in in two steps, half way through: the password's step done."""
        return factories.UserFactory(display_name="Tess Twostep", totp_secret=new_secret(), totp_confirmed_at=utcnow())

    @cached_property
    def staff(self) -> Any:
        """A provider with nothing coming up: an account a coordinator may deactivate, change or erase."""
        return factories.ProviderProfileFactory(center=self.center, user__display_name="Sal Staffer").user

    @cached_property
    def locked_out(self) -> Any:
        """A family whose failed sign-ins hold their account back."""
        user = factories.CaregiverProfileFactory(user__display_name="Lou Lockedout").user
        lock_out(current_app, user)
        return user

    @cached_property
    def departed(self) -> Any:
        """A provider whose account is deactivated."""
        return factories.ProviderProfileFactory(user__display_name="Dee Parted", user__active=False).user

    @cached_property
    def new_secret(self) -> str:
        """The authenticator secret the two-step setup page offered, kept in the session until a code confirms it."""
        return new_secret()

    @cached_property
    def pairing_code(self) -> str:
        """A pairing code a coordinator made for Maple House, as the Kiosks page shows it."""
        _, code = kiosk.create_pairing(self.coordinator, self.center, device_name="Front desk")
        return kiosk.format_pairing_code(code)

    @cached_property
    def kiosk_code(self) -> str:
        """The code the family types at the tablet for the session under way (shown on their session's page)."""
        return kiosk.code_for_family(self.family.user, self.under_way).code

    @cached_property
    def handover_ticket(self) -> str:
        """What the tablet's form carries once the right code was typed: the step that follows it."""
        return kiosk.handover_ticket(self.tablet, self.under_way)

    @cached_property
    def staff_pin(self) -> str:
        """Maple House's staff PIN, which its tablets take for someone not on a family's list."""
        self.center.kiosk_pin_hash = hash_password("4826")
        return "4826"


# --- One row per POST rule -------------------------------------------------------------------------

FIELD = "422, the message beside the field"
INLINE = "200, the inline check's message beside the field"
IN_PLACE = "422, the page again with the message where the person acted"
FLASHED = "302 back, the message flashed on the page it leads to"


@dataclass(frozen=True)
class Post:
    """A POST rule: who posts, the values of a post that goes through, and which of them are typed text.

    `refusal` is how the route answers control characters in a text field; `error_id` names the
    element of the field's message when it isn't the field's name; `why` says why a route has no text.
    """

    role: str
    data: Callable[[InputWorld], dict[str, object]] = lambda w: {}
    text: tuple[str, ...] = ()
    values: Callable[[InputWorld], dict[str, object]] = lambda w: {}
    refusal: str = FIELD
    error_id: Callable[[InputWorld, str], str] = lambda w, name: name
    why: str = ""
    ok: int = 302  # the answer to the good post
    writes: bool = True  # whether the good post changes the database
    before: Callable[[Any, InputWorld], None] | None = None  # what the client's session holds first
    refusal_message: str = CONTROL_MESSAGE


def _request_form(w: InputWorld) -> dict[str, object]:
    """A request for Ottilie, 10:00 to 13:00 eight days ahead, at Maple House, as the browser sends it."""
    day = (utcnow().astimezone(CHICAGO) + timedelta(days=8)).date()
    return {
        "recipient_id": w.ottilie.id,
        "day": day.isoformat(),
        "start": "10:00",
        "minutes": "180",
        "location_kind": "center",
        "center_id": w.center.id,
        "address": "12 Garden Row",
        "notes": "Bring the crossword",
        "weeks": "1",
        "request_key": str(uuid.uuid4()),
    }


def _edit_form(w: InputWorld) -> dict[str, object]:
    """The open request as it is, with new notes."""
    starts = w.request.starts_at.astimezone(CHICAGO)
    return {
        "day": starts.date().isoformat(),
        "start": starts.strftime("%H:%M"),
        "minutes": "180",
        "location_kind": "center",
        "center_id": w.center.id,
        "address": "12 Garden Row",
        "notes": "Now with the crossword",
        "version": w.request.version,
        "request_key": str(uuid.uuid4()),
    }


CARE_CARD = {
    "needs": "Dementia; reminders to drink",
    "allergies": "Penicillin",
    "mobility": "Walks with a frame",
    "diet": "Soft food",
    "routines": "Naps after lunch",
    "behaviours": "Unsettled at dusk: a walk helps",
    "communication": "Hard of hearing on the left",
    "medications-0-name": "Donepezil",
    "medications-0-dose": "10 mg",
    "medications-0-times": "Noon",
    "emergency_contacts-0-name": "Carla Family",
    "emergency_contacts-0-relationship": "Daughter",
    "emergency_contacts-0-phone": "555-0142",
    "authorised_people-0-name": "Dan Family",
    "authorised_people-0-relationship": "Son",
    "authorised_people-0-phone": "555-0143",
}


def _pending_second_step(client: Any, w: InputWorld) -> None:
    with client.session_transaction() as stored:
        stored[PENDING_SECOND_STEP] = {"user": w.two_step_user.id, "at": int(utcnow().timestamp()), "next": None}


def _setting_up_two_step(client: Any, w: InputWorld) -> None:
    with client.session_transaction() as stored:
        stored[NEW_SECRET] = w.new_secret


def _session(attribute: str) -> Callable[[InputWorld], dict[str, object]]:
    return lambda w: {"session_id": getattr(w, attribute).id}


def _version(attribute: str) -> Callable[[InputWorld], dict[str, object]]:
    return lambda w: {"version": getattr(w, attribute).version}


def _person(w: InputWorld) -> dict[str, object]:
    return {"recipient_id": w.person.id}


def _offer(w: InputWorld) -> dict[str, object]:
    return {"assignment_id": w.offer.id}


def _at_the_desk(client: Any, w: InputWorld) -> None:
    """The client is Maple House's kiosk tablet: it holds the device cookie pairing gave it."""
    client.set_cookie("respite_kiosk", w.tablet.token, path="/kiosk")


def _their_provider(w: InputWorld) -> object:
    """The account of the provider who holds the family's session: someone the family may write to."""
    w.held  # noqa: B018 (made for its assignment)
    return w.provider.user.id


BUTTON = "a button: the CSRF token is all it sends"
VERSION_ONLY = "the session's version as the page showed it, a number in a hidden input"

POSTS: dict[str, Post] = {
    # Accounts.
    "/signup": Post(
        ANONYMOUS,
        lambda w: {
            "display_name": "Rosa Newman",
            "email": "rosa@example.org",
            "password": "a long passphrase here",
            "timezone": "UTC",
        },
        text=("display_name", "email", "password"),
    ),
    "/login": Post(
        ANONYMOUS, lambda w: {"email": w.family.user.email, "password": TEST_PASSWORD}, text=("email", "password")
    ),
    "/logout": Post("caregiver", why=BUTTON),
    "/signup/confirm/<token>": Post(
        ANONYMOUS,
        values=lambda w: {"token": w.sign_up_token},
        why="a button: the emailed link's secret, in the address, is all it takes (see test_strange_addresses)",
    ),
    "/password/forgot": Post(ANONYMOUS, lambda w: {"email": w.family.user.email}, text=("email",)),
    "/password/reset/<token>": Post(
        ANONYMOUS,
        lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        text=("password", "confirm"),
        values=lambda w: {"token": w.reset_token},
    ),
    "/invitation/<token>": Post(
        ANONYMOUS,
        lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        text=("password", "confirm"),
        values=lambda w: {"token": w.invitation_token},
    ),
    "/login/code": Post(
        ANONYMOUS,
        lambda w: {"code": pyotp.TOTP(w.two_step_user.totp_secret).now()},
        text=("code",),
        before=_pending_second_step,
    ),
    "/account": Post(
        "caregiver",
        lambda w: {
            "display_name": "Morgan Renamed",
            "email": w.me.email,
            "timezone": "America/Chicago",
            "current_password": TEST_PASSWORD,
        },
        text=("display_name", "email", "current_password"),
    ),
    "/account/password": Post(
        "caregiver",
        lambda w: {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        text=("current_password", "new_password", "confirm"),
    ),
    "/account/calendar": Post("caregiver", why=BUTTON, ok=200),
    "/account/calendar/off": Post("caregiver", why=BUTTON, before=lambda client, w: w.feed_token),
    "/account/two-step": Post(
        "caregiver",
        lambda w: {"code": pyotp.TOTP(w.new_secret).now(), "current_password": TEST_PASSWORD},
        text=("code", "current_password"),
        ok=200,  # the recovery codes, shown once
        before=_setting_up_two_step,
    ),
    "/account/two-step/recovery-codes": Post(
        "coordinator", lambda w: {"current_password": TEST_PASSWORD}, text=("current_password",), ok=200
    ),
    "/account/two-step/off": Post(
        "coordinator", lambda w: {"current_password": TEST_PASSWORD}, text=("current_password",)
    ),
    "/keep-alive": Post("caregiver", why=BUTTON, ok=204, writes=False),
    # Messages.
    "/inbox/new": Post(
        "caregiver",
        lambda w: {"recipients": _their_provider(w), "subject": "Saturday", "body": "She naps at two."},
        text=("subject", "body"),
    ),
    "/inbox/<int:conversation_id>": Post(
        "caregiver",
        # `since`: the first message the page's thread shows, a number in a hidden input (any number will do here)
        lambda w: {"body": "Running ten minutes late", "since": w.conversation.id},
        text=("body",),
        values=lambda w: {"conversation_id": w.conversation.id},
    ),
    # Notices.
    "/notices/read": Post("caregiver", why=BUTTON, before=lambda client, w: w.notice),
    "/notices/settings": Post(
        "caregiver",
        lambda w: {"confirmed": "y", "message": "y"},
        why="checkboxes, one per kind of notice: ticked or not",
    ),
    # Coordinators' pages.
    "/admin/invitations": Post(
        "coordinator",
        lambda w: {
            "display_name": "Sam Newcomer",
            "email": "sam.newcomer@example.org",
            "role": "provider",
            "center_id": w.center.id,
            "timezone": "America/Chicago",
            "send_email": "y",
        },
        text=("display_name", "email"),
        ok=200,  # the page again, with the invitation's link
    ),
    "/admin/invitations/<int:user_id>/resend": Post(
        "coordinator", why=BUTTON, values=lambda w: {"user_id": w.invitee.id}
    ),
    "/admin/invitations/<int:user_id>/link": Post(
        "coordinator",
        why=BUTTON,
        ok=200,
        values=lambda w: {"user_id": w.invitee.id},  # the new link, shown once
    ),
    "/admin/invitations/<int:user_id>/revoke": Post(
        "coordinator", why=BUTTON, values=lambda w: {"user_id": w.invitee.id}
    ),
    "/admin/users/<int:user_id>/details": Post(
        "coordinator",
        lambda w: {
            "details-display_name": "Sal Renamed",
            "details-email": "sal.renamed@example.org",
            "details-timezone": "America/Chicago",
            "details-center_id": w.center.id,
        },
        text=("details-display_name", "details-email"),
        values=lambda w: {"user_id": w.staff.id},
    ),
    "/admin/users/<int:user_id>/unlock": Post("coordinator", why=BUTTON, values=lambda w: {"user_id": w.locked_out.id}),
    "/admin/users/<int:user_id>/reset-link": Post("coordinator", why=BUTTON, values=lambda w: {"user_id": w.staff.id}),
    "/admin/users/<int:user_id>/allotment": Post(
        "coordinator",
        lambda w: {"allotment-hours": "120", "allotment-reason": "A second person to care for"},
        text=("allotment-reason",),
        values=lambda w: {"user_id": w.family.user.id},
    ),
    "/admin/allotments": Post("coordinator", lambda w: {"hours": "80"}, why="a whole number of hours"),
    "/admin/centers/new": Post(
        "coordinator",
        lambda w: {
            "name": "Birch Hall",
            "address": "4 Birch Lane",
            "timezone": "America/Chicago",
            "mon_opens": "09:00",
            "mon_closes": "17:00",
        },
        text=("name", "address"),
    ),
    "/admin/centers/<int:center_id>": Post(
        "coordinator",
        lambda w: {
            "name": "Maple House East",
            "address": "1 Elm Row",
            "timezone": "America/Chicago",
            "mon_opens": "09:00",
            "mon_closes": "17:00",
        },
        text=("name", "address"),
        values=lambda w: {"center_id": w.center.id},
    ),
    "/admin/users/<int:user_id>/deactivate": Post(
        "coordinator",
        lambda w: {"state-reason": "Left the program"},
        text=("state-reason",),
        values=lambda w: {"user_id": w.staff.id},
    ),
    "/admin/users/<int:user_id>/reactivate": Post(
        "coordinator",
        lambda w: {"state-reason": "Back from leave"},
        text=("state-reason",),
        values=lambda w: {"user_id": w.departed.id},
    ),
    "/admin/users/<int:user_id>/role": Post(
        "coordinator",
        lambda w: {"role-new_role": "coordinator", "role-reason": "Now runs the program"},
        text=("role-reason",),
        values=lambda w: {"user_id": w.staff.id},
    ),
    "/admin/users/<int:user_id>/erase": Post(
        "coordinator",
        lambda w: {"erase-confirm_name": "Sal Staffer", "erase-reason": "Asked by email"},
        text=("erase-confirm_name", "erase-reason"),
        values=lambda w: {"user_id": w.staff.id},
    ),
    "/admin/audit/verify": Post("coordinator", why=BUTTON),
    "/queue/<int:session_id>/assign": Post(
        "coordinator",
        lambda w: {"provider_id": w.other_provider.id, "version": w.request.version},
        values=_session("request"),
        why="a provider chosen from the suggestions and the session's version: numbers in hidden inputs",
    ),
    "/queue/<int:session_id>/offer": Post(
        "coordinator",
        lambda w: {"provider_id": w.other_provider.id, "version": w.request.version},
        values=_session("request"),
        why="a provider chosen from the suggestions and the session's version: numbers in hidden inputs",
    ),
    "/queue/<int:session_id>/decline": Post(
        "coordinator",
        lambda w: {"reason": "No provider is free that day", "version": w.request.version},
        text=("reason",),
        values=_session("request"),
        refusal=IN_PLACE,
    ),
    "/queue/<int:session_id>/reassign": Post(
        "coordinator",
        lambda w: {"provider_id": w.other_provider.id, "reason": "Pat is unwell", "version": w.held.version},
        text=("reason",),
        values=_session("held"),
        refusal=IN_PLACE,
    ),
    "/queue/offers/<int:assignment_id>/withdraw": Post(
        "coordinator", lambda w: {"version": w.offer.session.version}, values=_offer, why=VERSION_ONLY
    ),
    # People and their care cards.
    "/people/new": Post(
        "caregiver",
        lambda w: {"first_name": "Agnes", "last_name": "Newcase", "date_of_birth": "1941-03-09"},
        text=("first_name", "last_name"),
    ),
    "/people/<int:recipient_id>/edit": Post(
        "caregiver",
        lambda w: {"first_name": "Ottilie", "last_name": "Renamed", "date_of_birth": "1940-01-02"},
        text=("first_name", "last_name"),
        values=_person,
    ),
    "/people/<int:recipient_id>/deactivate": Post("caregiver", values=_person, why=BUTTON),
    "/people/<int:recipient_id>/card/edit": Post(
        "caregiver",
        lambda w: {**CARE_CARD, "based_on": w.ottilie.card_number},
        text=tuple(CARE_CARD),
        values=_person,
    ),
    "/people/<int:recipient_id>/acknowledge": Post(
        "provider",
        lambda w: {"version": w.card.number, "session_id": w.held.id},
        values=_person,
        why="the card's version read and the session it was read for: numbers in hidden inputs",
    ),
    # Sessions.
    "/sessions/new": Post("caregiver", _request_form, text=("address", "notes")),
    "/sessions/new/check": Post(
        "caregiver", _request_form, text=("address", "notes"), refusal=INLINE, ok=200, writes=False
    ),
    "/sessions/<int:session_id>/edit": Post(
        "caregiver", _edit_form, text=("address", "notes"), values=_session("request")
    ),
    "/sessions/<int:session_id>/edit/check": Post(
        "caregiver",
        _edit_form,
        text=("address", "notes"),
        values=_session("request"),
        refusal=INLINE,
        ok=200,
        writes=False,
    ),
    "/sessions/<int:session_id>/cancel": Post(
        "caregiver",
        lambda w: {"reason": "Feeling better", "version": w.request.version, "return_to": "session"},
        text=("reason",),
        values=_session("request"),
        refusal=FLASHED,
        refusal_message=REASON_MESSAGE,
    ),
    "/sessions/<int:session_id>/cancel-series": Post(
        "caregiver",
        lambda w: {"reason": "Away for a fortnight", "version": w.series.version},
        text=("reason",),
        values=_session("series"),
        refusal=FLASHED,
        refusal_message=REASON_MESSAGE,
    ),
    # Visits.
    "/sessions/<int:session_id>/check-in": Post(
        "provider", _version("under_way"), values=_session("under_way"), why=VERSION_ONLY
    ),
    "/sessions/<int:session_id>/check-out": Post(
        "provider", _version("visited"), values=_session("visited"), why=VERSION_ONLY
    ),
    "/sessions/<int:session_id>/no-show": Post(
        "provider",
        lambda w: {"note": "Rang twice, no answer", "version": w.under_way.version},
        text=("note",),
        values=_session("under_way"),
        error_id=lambda w, name: "no-show-note",
    ),
    "/sessions/<int:session_id>/visit-note": Post(
        "provider",
        lambda w: {"went_well": "Baked scones", "concerns": "Low appetite", "medication_given": "Donepezil at noon"},
        text=("went_well", "concerns", "medication_given"),
        values=_session("visited"),
        error_id=lambda w, name: "visit-" + name.replace("_", "-"),
    ),
    # The front desk: the tablet's own forms (it holds its device cookie; no one is signed in), and the
    # coordinators' Kiosks page.
    "/kiosk/pair": Post(ANONYMOUS, lambda w: {"code": w.pairing_code}, text=("code",)),
    "/kiosk/sessions/<int:session_id>": Post(
        ANONYMOUS,
        lambda w: {"code": w.kiosk_code},
        text=("code",),
        values=_session("under_way"),
        ok=200,  # the next step: who brings the person
        writes=False,
        before=_at_the_desk,
    ),
    "/kiosk/sessions/<int:session_id>/handover": Post(
        ANONYMOUS,
        lambda w: {
            "ticket": w.handover_ticket,
            "person": "other",
            "name": "Tom Baker",
            "relationship": "Friend of the family",
            "pin": w.staff_pin,
        },
        text=("name", "relationship", "pin"),
        values=_session("under_way"),
        before=_at_the_desk,
    ),
    "/admin/kiosks/pairing": Post(
        "coordinator",
        lambda w: {"pairing-center_id": w.center.id, "pairing-device_name": "Front desk"},
        text=("pairing-device_name",),
        ok=200,  # the page again, with the code shown once
    ),
    "/admin/kiosks/pin": Post(
        "coordinator", lambda w: {"pin-center_id": w.center.id, "pin-pin": "97531"}, text=("pin-pin",)
    ),
    "/admin/kiosks/<int:device_id>/revoke": Post(
        "coordinator", values=lambda w: {"device_id": w.tablet.id}, why=BUTTON
    ),
    # Availability.
    "/availability/weekly": Post(
        "provider",
        lambda w: {"weekday": "2", "start_minute": "540", "end_minute": "1020"},
        why="a day and two times, each chosen from a list of numbers",
    ),
    "/availability/time-off": Post(
        "provider",
        lambda w: {
            "start_day": (utcnow() + timedelta(days=20)).date().isoformat(),
            "start_time": "09:00",
            "end_day": (utcnow() + timedelta(days=21)).date().isoformat(),
            "end_time": "",
            "note": "Dentist, then a day off",
        },
        text=("note",),
    ),
    "/availability/<int:entry_id>/remove": Post("provider", values=lambda w: {"entry_id": w.entry.id}, why=BUTTON),
    # Providers' offers.
    "/offers/<int:assignment_id>/accept": Post("provider", values=_offer, why=BUTTON),
    "/offers/<int:assignment_id>/decline": Post(
        "provider",
        lambda w: {"reason": "Away that week"},
        text=("reason",),
        values=_offer,
        error_id=lambda w, name: f"decline-reason-{w.offer.id}",
    ),
    "/offers/take/<int:session_id>": Post(
        "provider",
        _version("request"),
        values=_session("request"),
        why=VERSION_ONLY,
        before=lambda client, w: free_all_week(w.provider),  # the request fits them
    ),
}


def test_every_post_rule_is_in_the_table(app):
    """A form without a row fails here: say which of its values are text, or why it has none."""
    posts = {rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert sorted(posts - set(POSTS)) == [], "POST rules without a row in POSTS"
    assert sorted(set(POSTS) - posts) == [], "rows in POSTS for rules that take no POST"
    for rule, post in POSTS.items():
        assert bool(post.text) != bool(post.why), f"{rule}: name its text fields, or say why it has none"


# --- Asking, and what the database holds -------------------------------------------------------------


def arrange(app, rule: str) -> tuple[InputWorld, Any, str, dict[str, object]]:
    """The row's world, made and committed (a refusal rolls the request's transaction back), its signed-in
    client, its path and its good post's values."""
    post = POSTS[rule]
    world = InputWorld(post.role)
    with app.test_request_context():  # links in the mail some objects send
        path = path_for(rule, post.values(world))
        data = post.data(world)
    client = client_for(app, world.me)
    if post.before is not None:
        post.before(client, world)
    db.session.commit()  # the sign-in's own record too
    return world, client, path, data


def database_state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as committed: what the request left uncommitted ends with it."""
    db.session.rollback()
    return {
        table.name: sorted((tuple(row) for row in db.session.execute(table.select())), key=repr)
        for table in db.metadata.sorted_tables
    }


def _holds_control_characters(value: object) -> bool:
    if isinstance(value, dict):
        return any(_holds_control_characters(part) for item in value.items() for part in item)
    if isinstance(value, list | tuple):
        return any(_holds_control_characters(part) for part in value)
    return has_control_characters(value)


def stored_control_characters(state: dict[str, list[tuple[Any, ...]]]) -> list[tuple[str, tuple[Any, ...]]]:
    """The rows holding a control character anywhere (in a JSON column's keys and values too)."""
    return [(table, row) for table, rows in state.items() for row in rows if _holds_control_characters(row)]


def typed(value: object, bad: str) -> str:
    """`bad` typed in the middle of a field's good value."""
    text = str(value)
    return text[:3] + bad + text[3:]


def shown(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


# --- Control characters in each text field --------------------------------------------------------

TEXT_CASES = [(rule, name) for rule, post in POSTS.items() for name in post.text]
# A field typed twice: the second copy follows the first, so that only the control characters are wrong.
TWINS = {"new_password": "confirm", "password": "confirm"}


@pytest.mark.parametrize(("rule", "name"), TEXT_CASES, ids=[f"{rule}:{name}" for rule, name in TEXT_CASES])
def test_control_characters_in_a_text_field_are_refused_and_nothing_is_stored(app, rule, name):
    post = POSTS[rule]
    world, client, path, good = arrange(app, rule)
    before = database_state()

    for bad in CONTROLS:
        sent = {**good, name: typed(good[name], bad)}
        if TWINS.get(name) in sent:
            sent[TWINS[name]] = sent[name]
        response = client.post(path, data=sent)
        where = f"POST {path} with {bad!r} in {name}: {response.status_code} {response.headers.get('Location', '')}"

        if post.refusal == FLASHED:
            assert response.status_code == 302, where
            assert urlsplit(response.headers["Location"]).path != "/login", where
            page = client.get(response.headers["Location"], follow_redirects=True)
            assert post.refusal_message in shown(page.text), where
        else:
            assert response.status_code == (200 if post.refusal == INLINE else 422), where
            if post.refusal == IN_PLACE:
                assert post.refusal_message in shown(response.text), where
            else:
                assert field_error(response, post.error_id(world, name)) == post.refusal_message, where
        assert database_state() == before, f"{where}: the database changed"


# --- Control characters in every other value posted ----------------------------------------------


class _Probe:
    """Stands in for a world when only the names of a row's values are wanted (at collection, before any database)."""

    id = version = number = card_number = 1
    email = "probe@example.test"
    new_secret = totp_secret = "JBSWY3DPEHPK3PXP" * 2

    def __getattr__(self, name: str) -> "_Probe":
        return self

    def __call__(self, *args: object) -> "_Probe":
        return self


def value_names(post: Post) -> list[str]:
    return list(post.data(_Probe()))


OTHER_CASES = [(rule, name) for rule, post in POSTS.items() for name in value_names(post) if name not in post.text]


@pytest.mark.parametrize(("rule", "name"), OTHER_CASES, ids=[f"{rule}:{name}" for rule, name in OTHER_CASES])
def test_control_characters_in_any_other_value_are_never_a_500_nor_stored(app, rule, name):
    world, client, path, good = arrange(app, rule)
    for bad in ("\x00", "\x1b"):
        response = client.post(path, data={**good, name: typed(good[name], bad)})
        assert response.status_code < 500, f"POST {path} with {bad!r} in {name}: {response.status_code}"
        assert stored_control_characters(database_state()) == [], f"POST {path} with {bad!r} in {name}"


# --- The good posts go through: the refusals above are the control characters' doing ----------------


@pytest.mark.parametrize("rule", list(POSTS))
def test_each_rows_good_post_goes_through(app, rule):
    post = POSTS[rule]
    _, client, path, good = arrange(app, rule)
    before = database_state()

    response = client.post(path, data=good)

    where = f"POST {path}: {response.status_code} {response.headers.get('Location', '')}"
    assert response.status_code == post.ok, where
    if response.status_code == 302 and rule != "/logout":
        assert urlsplit(response.headers["Location"]).path != "/login", where
    assert (database_state() != before) == post.writes, where


# --- Query strings and addresses that reach the database ------------------------------------------

STRANGE = (
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\x7f",
    "\x9b",
    "9" * 30,
    str(2**63),
    str(MAX_ID + 1),
    "-1",
    "0",
    "99999-01-01",
    "0000-00-00",
    "2024-02-30",
    "1-1-1",
    "%_\\",
    "' OR 1=1 --",
    "x" * 3000,
    "\u202e\ufeff",
)


@dataclass(frozen=True)
class Query:
    role: str
    template: str  # `{value}` takes the strange value, URL-encoded; other names, the world's ids
    answers: tuple[int, ...] = (200,)
    values: Callable[[InputWorld], dict[str, object]] = lambda w: {}


QUERIES = [
    # The audit log's filters: a value no list or calendar holds is refused beside its field (422).
    Query("coordinator", "/admin/audit?action={value}", answers=(200, 422)),
    Query("coordinator", "/admin/audit?page={value}"),
    Query("coordinator", "/admin/users?q={value}&role={value}&center={value}&status={value}"),
    Query("coordinator", "/admin/users?page={value}&q={value}"),
    Query("coordinator", "/admin/audit?person={value}", answers=(200, 422)),
    Query("coordinator", "/admin/audit?entity={value}", answers=(200, 422)),
    Query("coordinator", "/admin/audit?entity=RespiteSession&entity_id={value}", answers=(200, 422)),
    Query("coordinator", "/admin/audit?from={value}&to={value}", answers=(200, 422)),
    Query("coordinator", "/admin/audit.csv?from={value}&person={value}", answers=(200, 422)),
    Query("coordinator", "/program?week={value}", answers=(200, 404)),  # a date no week has is not found
    Query("coordinator", "/program?by={value}", answers=(200, 404)),
    # The reports' filters: a day no calendar holds, or a place not in the list, is refused beside its field.
    Query("coordinator", "/reports?from={value}&to={value}", answers=(200, 422)),
    Query("coordinator", "/reports?place={value}", answers=(200, 422)),
    Query("coordinator", "/reports/requests.csv?to={value}&place={value}", answers=(200, 422)),
    Query("coordinator", "/reports/{value}.csv", answers=(404,)),
    Query("provider", "/schedule?day={value}"),
    Query("provider", "/schedule?view={value}&day={value}"),
    Query("provider", "/sessions?page={value}"),
    Query("provider", "/people/{person}?session={value}", values=lambda w: {"person": w.person.id}),
    Query("caregiver", "/sessions?page={value}"),
    Query("caregiver", "/sessions/new?recipient={value}", answers=(200, 404)),  # a number no one of theirs has: 404
    Query("caregiver", "/inbox?q={value}"),
    Query("caregiver", "/inbox?page={value}"),
    Query("coordinator", "/inbox/new?who={value}"),
    Query("caregiver", "/inbox/new?recipients={value}"),
    Query("caregiver", "/inbox/new?session={value}", answers=(404,)),  # no session of theirs has that id
    Query("caregiver", "/inbox/{conversation}?before={value}", values=lambda w: {"conversation": w.conversation.id}),
    Query("caregiver", "/inbox/{conversation}?since={value}", values=lambda w: {"conversation": w.conversation.id}),
    Query(ANONYMOUS, "/signup?tz={value}"),
    Query(ANONYMOUS, "/login?next={value}"),
    # Secrets in the address: never anyone's.
    Query(ANONYMOUS, "/signup/confirm/{value}", answers=(404,)),
    Query(ANONYMOUS, "/password/reset/{value}", answers=(404,)),
    Query(ANONYMOUS, "/invitation/{value}", answers=(404,)),
    Query(ANONYMOUS, "/calendar/{value}.ics", answers=(404,)),
    Query(ANONYMOUS, "/email-sent/{value}", answers=(404,)),
]


@pytest.mark.parametrize("query", QUERIES, ids=[q.template for q in QUERIES])
def test_strange_query_strings_and_addresses_are_never_a_500(app, query):
    world = InputWorld(query.role)
    named = query.values(world)
    client = client_for(app, world.me)
    db.session.commit()
    for value in STRANGE:
        path = query.template.format(value=quote(value, safe=""), **named)
        response = client.get(path)
        assert response.status_code in query.answers, f"GET {path[:200]!r}: {response.status_code}"
        assert stored_control_characters(database_state()) == [], f"GET {path[:200]!r}"


@pytest.mark.parametrize("path", ["/calendar/a%00b.ics", "/calendar/%1b%5B31m.ics"])
def test_a_refusal_quoting_a_strange_address_is_audited_with_its_characters_written_out(app, path):
    response = app.test_client().get(path)

    assert response.status_code == 404
    (row,) = audit_rows("access.not_found")
    assert path.replace("%00", "\\x00").replace("%1b%5B", "\\x1b[") in row.summary
    assert stored_control_characters(database_state()) == []


@pytest.mark.parametrize("value", ["\x00/caregiver", "/\x1b[31m", "/\\evil.example", "\x7f//evil.example"])
def test_a_strange_next_address_after_sign_in_stays_on_the_site(app, value):
    world = InputWorld(ANONYMOUS)
    user = world.family.user
    db.session.commit()
    response = app.test_client().post(
        f"/login?next={quote(value, safe='')}", data={"email": user.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- The base form --------------------------------------------------------------------------------


class NoteForm(Form):
    note = TextAreaField()
    rows = FieldList(FormField(type("Row", (Form,), {"name": StringField()})), min_entries=1)


@pytest.mark.parametrize(
    ("note", "row", "valid"),
    [
        ("Line one\r\nline two\twith a tab", "Ok", True),
        ("Bell\x07", "Ok", False),
        ("Fine", "Nul\x00", False),
    ],
)
def test_line_breaks_and_tabs_are_text_other_controls_are_not(app, note, row, valid):
    data = {"note": note, "rows-0-name": row}
    with app.test_request_context(method="POST", data=data):
        form = NoteForm(meta={"csrf": False})
        assert form.validate() is valid
        if not valid:
            bad = form.note if "\x07" in note else form.rows.entries[0].form.name
            assert bad.errors == [CONTROL_MESSAGE]


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def test_every_form_of_the_app_checks_for_control_characters(app):
    forms = [c for c in all_subclasses(FlaskForm) if c.__module__.startswith("respite.") and c is not Form]
    assert forms
    assert [c.__qualname__ for c in forms if not issubclass(c, Form)] == []


# --- Ids beyond the database's range ---------------------------------------------------------------


def id_routes(app):
    for rule in app.url_map.iter_rules():
        ids = [
            name for name, converter in rule._converters.items() if type(converter).__name__ == "DatabaseIdConverter"
        ]
        if ids and ("GET" in rule.methods or "POST" in rule.methods):
            yield rule, ids


@pytest.mark.parametrize("number", [MAX_ID + 1, 2**63, 10**30, 0])
@pytest.mark.parametrize("client_fixture", ["as_caregiver", "as_provider", "as_coordinator"])
def test_ids_outside_the_databases_range_are_not_found(app, request, client_fixture, number):
    client = request.getfixturevalue(client_fixture)
    routes = list(id_routes(app))
    assert routes
    for rule, names in routes:
        path = rule.rule
        for name in names:
            path = path.replace(f"<int:{name}>", str(number))
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(path, method=method)
        assert response.status_code == 404, (path, method, response.status_code)


def test_a_failed_statement_never_carries_its_values_into_the_log(app):
    from sqlalchemy.exc import IntegrityError

    taken = factories.UserFactory(email="taken@example.org")
    secret = "$argon2id$v=19$secret-hash-value"
    nested = db.session.begin_nested()
    db.session.add(factories.UserFactory.build(email=taken.email, password_hash=secret))
    with pytest.raises(IntegrityError) as failure:
        db.session.flush()
    nested.rollback()
    assert secret not in str(failure.value)
    assert "hidden" in str(failure.value)
