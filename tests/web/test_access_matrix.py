"""Who may open what, for every route: each rule of the URL map × signed out and each role, with its answer.

MATRIX holds one row per rule; a rule without a row fails the first test, so a new route is
given its expected answers on purpose. Every id in a URL names the viewer's own object (a
session they hold, their own person, their own offer...), so a role the route admits really
gets its page, and a role it refuses is refused with a real object in front of it. Someone
else's objects are the subject of test_foreign_ids.py, which reuses the World built here.
"""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import current_app, session
from werkzeug.datastructures import FileStorage

from respite.accounts import services as accounts
from respite.accounts.signins import start_sign_in
from respite.accounts.twofactor import new_secret
from respite.calendar import services as calendar
from respite.extensions import db
from respite.messaging import attachments
from respite.messaging import services as messaging
from respite.models import utcnow
from tests import factories
from tests.helpers import audit_rows, mailed_link
from tests.messaging import sample_files

ANONYMOUS = "anonymous"
SIGNED_IN = ("caregiver", "provider", "coordinator", "kiosk")
ROLES = (ANONYMOUS, *SIGNED_IN)
DASHBOARDS = {"caregiver": "/caregiver", "provider": "/provider", "coordinator": "/coordinator", "kiosk": "/kiosk"}
METHODS = ("GET", "POST")

# --- The answers ----------------------------------------------------------------------------------

OK = "200"
NO_CONTENT = "204"
# Past the guard, the view's own answer to an empty form: a page (200 or 422) or a redirect within the app.
ADMITTED = "admitted"
SIGN_IN = "302 to sign in"  # to /login, and back to the page afterwards
UNAUTHORIZED = "401"
FORBIDDEN = "403"  # and an `access.denied` audit row naming the user
DASHBOARD = "302 to the role's dashboard"
NOT_ALLOWED = "405"  # a method the rule doesn't take, whoever asks


def redirect_to(path: str) -> str:
    return f"302 to {path}"


def guarded(admitted: str, **methods: str) -> dict[str, dict[str, str]]:
    """A route behind a role guard: signed out, sign in; the roles in `admitted`, the answer given; others, 403."""
    roles = admitted.split()
    return {
        method: {role: answer if role in roles else SIGN_IN if role == ANONYMOUS else FORBIDDEN for role in ROLES}
        for method, answer in methods.items()
    }


def everyone(**methods: str) -> dict[str, dict[str, str]]:
    """A public route that answers everyone alike."""
    return {method: dict.fromkeys(ROLES, answer) for method, answer in methods.items()}


def signed_out_only(**methods: str) -> dict[str, dict[str, str]]:
    """Sign-in and sign-up: the page for a visitor; a signed-in user is sent home."""
    return {
        method: {ANONYMOUS: answer, **dict.fromkeys(SIGNED_IN, redirect_to("/"))} for method, answer in methods.items()
    }


# --- The objects a route's ids name ---------------------------------------------------------------

# Names only the other family, provider and center carry: no answer about them may contain one.
STRANGER_NAMES = ("Zebedee", "Strangeways", "Xanthe", "Outerbridge", "Quentin", "Farrowby", "Farrowmere")


def _local(days: int, hour: int, zone: str = "America/Chicago") -> datetime:
    """`hour` o'clock, `days` days from today, on the centers' clock (built locally: right across DST)."""
    day = utcnow().astimezone(ZoneInfo(zone)).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), ZoneInfo(zone)).astimezone(UTC)


class World:
    """The signed-in user of `role` and the objects around them, made when a test first asks for one.

    Their own: a family (theirs when they are a caregiver) with Ottilie Owncase, her open request,
    a confirmed session a provider holds (them when they are a provider), an offer waiting for that
    provider and one of the provider's availability entries; all at Maple House (a kiosk's center).
    Someone else's: the same again for Zebedee Strangeways, of Xanthe Outerbridge's family, held by
    Quentin Farrowby at Farrowmere House.
    """

    def __init__(self, role: str) -> None:
        self.role = role

    # The viewer and the people they work with.

    @cached_property
    def center(self) -> Any:
        return factories.CenterFactory(name="Maple House")

    @cached_property
    def me(self) -> Any:
        named = {"user__display_name": "Morgan Viewer"}
        if self.role == "caregiver":
            return factories.CaregiverProfileFactory(full_name="Morgan Viewer", **named).user
        if self.role == "provider":
            return factories.ProviderProfileFactory(center=self.center, **named).user
        if self.role == "coordinator":  # signs in in two steps, as coordinators must
            return factories.UserFactory(
                role=self.role, display_name="Morgan Viewer", totp_secret=new_secret(), totp_confirmed_at=utcnow()
            )
        if self.role == "kiosk":
            return factories.UserFactory(role=self.role, display_name="Morgan Viewer", center=self.center)
        return None

    @cached_property
    def family(self) -> Any:
        if self.role == "caregiver":
            return self.me.caregiver_profile
        return factories.CaregiverProfileFactory(full_name="Carla Family", user__display_name="Carla Family")

    @cached_property
    def provider(self) -> Any:
        if self.role == "provider":
            return self.me.provider_profile
        return factories.ProviderProfileFactory(center=self.center, user__display_name="Pat Provider")

    @cached_property
    def coordinator(self) -> Any:
        if self.role == "coordinator":
            return self.me
        return factories.UserFactory(role="coordinator", display_name="Cora Coordinator")

    # Their own objects.

    @cached_property
    def ottilie(self) -> Any:
        return factories.CareRecipientFactory(caregiver=self.family, first_name="Ottilie", last_name="Owncase")

    @cached_property
    def person(self) -> Any:
        """Ottilie; a provider sees her through the session they hold."""
        if self.role == "provider":
            self.held  # noqa: B018 (made for its assignment)
        return self.ottilie

    @cached_property
    def request(self) -> Any:
        """An open request for Ottilie, tomorrow morning at Maple House."""
        return factories.RespiteSessionFactory(
            recipient=self.ottilie, center=self.center, starts_at=_local(1, 10), ends_at=_local(1, 13)
        )

    @cached_property
    def held(self) -> Any:
        """A confirmed session for Ottilie that the provider holds, the day after tomorrow."""
        held = factories.RespiteSessionFactory(
            recipient=self.ottilie,
            center=self.center,
            status="confirmed",
            starts_at=_local(2, 10),
            ends_at=_local(2, 13),
        )
        factories.AssignmentFactory(session=held, provider=self.provider, status="accepted")
        return held

    @cached_property
    def session(self) -> Any:
        """The session a page about one session shows this viewer: the one they hold, as a provider."""
        return self.held if self.role == "provider" else self.request

    @cached_property
    def offer(self) -> Any:
        """An offer to the provider, waiting for their answer, on another request for Ottilie."""
        offered = factories.RespiteSessionFactory(
            recipient=self.ottilie, center=self.center, starts_at=_local(3, 10), ends_at=_local(3, 13)
        )
        return factories.AssignmentFactory(session=offered, provider=self.provider, status="offered")

    @cached_property
    def entry(self) -> Any:
        return factories.AvailabilityFactory(provider=self.provider)

    @cached_property
    def tablet(self) -> Any:
        """A kiosk tablet paired with Maple House (its credential, the cookie's value, is `tablet.token`)."""
        return factories.KioskDeviceFactory(center=self.center)

    @cached_property
    def notice(self) -> Any:
        """An unread notice for the viewer (the family, for someone signed out) about the session they see."""
        reader = self.me or self.family.user
        return factories.NoticeFactory(user=reader, session_id=self.session.id, text="Ottilie Owncase: confirmed")

    @cached_property
    def conversation(self) -> Any:
        """The viewer's conversation about Ottilie: a family's with the provider who holds her session, a
        provider's with the family, a coordinator's with the family (for a role without an inbox, the family's
        with a coordinator)."""
        if self.role in ("caregiver", "provider"):
            self.held  # noqa: B018 (its provider may talk with the family)
            writer, reader = self.family.user, self.provider.user
        else:
            writer, reader = self.family.user, self.coordinator
        return messaging.start_conversation(
            writer, [reader], subject="About Ottilie Owncase", body="She naps at two.", session=self.held
        )

    # Someone else's.

    @cached_property
    def stranger_center(self) -> Any:
        return factories.CenterFactory(name="Farrowmere House")

    @cached_property
    def stranger_provider(self) -> Any:
        return factories.ProviderProfileFactory(center=self.stranger_center, user__display_name="Quentin Farrowby")

    @cached_property
    def stranger_person(self) -> Any:
        family = factories.CaregiverProfileFactory(
            full_name="Xanthe Outerbridge", user__display_name="Xanthe Outerbridge"
        )
        return factories.CareRecipientFactory(caregiver=family, first_name="Zebedee", last_name="Strangeways")

    @cached_property
    def stranger_request(self) -> Any:
        """An open request of the other family at the other center."""
        return factories.RespiteSessionFactory(
            recipient=self.stranger_person,
            center=self.stranger_center,
            starts_at=_local(1, 14),
            ends_at=_local(1, 17),
            request_notes="Zebedee naps after lunch",
        )

    @cached_property
    def stranger_held(self) -> Any:
        """The other family's confirmed session, held by the other provider."""
        held = factories.RespiteSessionFactory(
            recipient=self.stranger_person,
            center=self.stranger_center,
            status="confirmed",
            starts_at=_local(2, 14),
            ends_at=_local(2, 17),
        )
        factories.AssignmentFactory(session=held, provider=self.stranger_provider, status="accepted")
        return held

    @cached_property
    def stranger_offer(self) -> Any:
        return factories.AssignmentFactory(
            session=self.stranger_request, provider=self.stranger_provider, status="offered"
        )

    @cached_property
    def stranger_entry(self) -> Any:
        return factories.AvailabilityFactory(provider=self.stranger_provider, weekday=2)

    @cached_property
    def stranger_notice(self) -> Any:
        """A notice for the other family, about their own session."""
        return factories.NoticeFactory(
            user=self.stranger_person.caregiver.user,
            session_id=self.stranger_held.id,
            text="Zebedee Strangeways: confirmed",
        )

    @cached_property
    def stranger_conversation(self) -> Any:
        """The other family's conversation with their provider about Zebedee's session."""
        return messaging.start_conversation(
            self.stranger_person.caregiver.user,
            [self.stranger_provider.user],
            subject="Zebedee Strangeways on Friday",
            body="Farrowmere House at ten",
            session=self.stranger_held,
        )

    # Secrets that open a page by themselves.

    @cached_property
    def feed_token(self) -> str:
        """The viewer's own feed (the family's, for a role without one), with a session in it."""
        owner = self.me if self.role in ("caregiver", "provider", "coordinator") else self.family.user
        self.session  # noqa: B018 (made to be in the feed)
        return calendar.enable_feed(owner)

    @cached_property
    def invitation_token(self) -> str:
        _, token = accounts.invite_user(
            self.coordinator,
            role="provider",
            email="nadia.newcomer@example.test",
            display_name="Nadia Newcomer",
            timezone="UTC",
            center_id=self.center.id,
        )
        return token

    @cached_property
    def invitee(self) -> Any:
        """The account the invitation above made."""
        self.invitation_token  # noqa: B018 (made for its account)
        return accounts.find_by_email("nadia.newcomer@example.test")

    @cached_property
    def sign_up_token(self) -> str:
        accounts.request_sign_up("Sidney Signup", "sidney.signup@example.test", "a long passphrase here", "UTC")
        db.session.commit()  # the link is mailed when the request's transaction commits
        return mailed_link(current_app, "sidney.signup@example.test").rsplit("/", 1)[1]

    @cached_property
    def reset_token(self) -> str:
        email = self.family.user.email
        accounts.request_password_reset(email)
        db.session.commit()
        return mailed_link(current_app, email).rsplit("/", 1)[1]


# --- One row per rule ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """A rule's expected answers ({method: {role: answer}}), and what fills its URL.

    `values` gives the URL's parts for a viewer: their own objects' ids. `foreign`, for a rule
    that takes an object id, gives someone else's object of the same kind (test_foreign_ids.py).
    """

    answers: dict[str, dict[str, str]]
    values: Callable[[World], dict[str, object]] = lambda w: {}
    foreign: Callable[[World], tuple[str, Any]] | None = None
    # A rule whose refusal of someone else's object is known to answer wrongly: why, until it is fixed.
    foreign_known_wrong: str = ""


STAFF_AND_FAMILY = "caregiver provider coordinator"


def _session(w: World) -> dict[str, object]:
    return {"session_id": w.session.id}


def _request(w: World) -> dict[str, object]:
    return {"session_id": w.request.id}


def _held(w: World) -> dict[str, object]:
    return {"session_id": w.held.id}


def _person(w: World) -> dict[str, object]:
    return {"recipient_id": w.person.id}


def _offer(w: World) -> dict[str, object]:
    return {"assignment_id": w.offer.id}


def _family_account(w: World) -> dict[str, object]:
    """The family's account: its page (a coordinator's) lists Ottilie among the people they care for."""
    w.ottilie  # noqa: B018 (made to be listed)
    return {"user_id": w.family.user.id}


def _attachment_link(w: World) -> dict[str, object]:
    """A photo in a conversation the viewer takes part in (for a role without an inbox, the family's with a
    coordinator), and the viewer's signed link to it."""
    reader = w.me if w.role in STAFF_AND_FAMILY.split() else w.family.user
    other = w.family.user if reader.id == w.coordinator.id else w.coordinator
    (photo,) = attachments.check_uploads([FileStorage(io.BytesIO(sample_files.png()), "photo.png")])
    conversation = messaging.start_conversation(reader, [other], subject="A photo", body="", uploads=[photo])
    return {"token": attachments.link_token(conversation.messages[0].attachments[0], reader)}


def _conversation(w: World) -> dict[str, object]:
    return {"conversation_id": w.conversation.id}


def _someone_elses_conversation(w: World) -> tuple[str, Any]:
    return "conversation_id", w.stranger_conversation


def _invitee(w: World) -> dict[str, object]:
    """Nadia Newcomer, invited and yet to answer."""
    return {"user_id": w.invitee.id}


def _someone_elses_session(w: World) -> tuple[str, Any]:
    return "session_id", w.stranger_held


def _someone_elses_request(w: World) -> tuple[str, Any]:
    return "session_id", w.stranger_request


def _someone_elses_person(w: World) -> tuple[str, Any]:
    return "recipient_id", w.stranger_person


def _someone_elses_offer(w: World) -> tuple[str, Any]:
    return "assignment_id", w.stranger_offer


MATRIX: dict[str, Route] = {
    # Anyone's pages.
    "/": Route({"GET": {ANONYMOUS: OK, **dict.fromkeys(SIGNED_IN, DASHBOARD)}}),
    "/healthz": Route(everyone(GET=OK)),
    "/static/<path:filename>": Route(everyone(GET=OK), lambda w: {"filename": "css/app.css"}),
    "/events": Route({"GET": {ANONYMOUS: UNAUTHORIZED, **dict.fromkeys(SIGNED_IN, OK)}}),
    # Accounts.
    "/login": Route(signed_out_only(GET=OK, POST=ADMITTED)),
    "/signup": Route(signed_out_only(GET=OK, POST=ADMITTED)),
    "/logout": Route({"POST": {ANONYMOUS: SIGN_IN, **dict.fromkeys(SIGNED_IN, redirect_to("/login"))}}),
    "/email-sent/<any(sign_up, reset):purpose>": Route(everyone(GET=OK), lambda w: {"purpose": "sign_up"}),
    "/signup/confirm/<token>": Route(everyone(GET=OK, POST=ADMITTED), lambda w: {"token": w.sign_up_token}),
    "/password/forgot": Route(everyone(GET=OK, POST=ADMITTED)),
    "/password/reset/<token>": Route(everyone(GET=OK, POST=ADMITTED), lambda w: {"token": w.reset_token}),
    "/invitation/<token>": Route(everyone(GET=OK, POST=ADMITTED), lambda w: {"token": w.invitation_token}),
    "/account": Route(guarded(STAFF_AND_FAMILY, GET=OK, POST=ADMITTED)),
    "/account/password": Route(guarded(STAFF_AND_FAMILY, POST=ADMITTED)),
    "/account/calendar": Route(guarded(STAFF_AND_FAMILY, POST=ADMITTED)),
    "/account/calendar/off": Route(guarded(STAFF_AND_FAMILY, POST=ADMITTED)),
    "/account/two-step": Route(guarded(STAFF_AND_FAMILY, GET=OK, POST=ADMITTED)),
    "/account/two-step/recovery-codes": Route(guarded(STAFF_AND_FAMILY, POST=ADMITTED)),
    "/account/two-step/off": Route(guarded(STAFF_AND_FAMILY, POST=ADMITTED)),
    # The code's step follows the password's within minutes; without it, everyone is sent to sign in.
    "/login/code": Route(everyone(GET=redirect_to("/login"), POST=redirect_to("/login"))),
    "/keep-alive": Route({"POST": {ANONYMOUS: SIGN_IN, **dict.fromkeys(SIGNED_IN, NO_CONTENT)}}),
    "/calendar/<token>.ics": Route(everyone(GET=OK), lambda w: {"token": w.feed_token}),
    # The navigation's live counts.
    "/nav/badges": Route(guarded(STAFF_AND_FAMILY, GET=OK)),
    # Messages and notices.
    "/inbox": Route(guarded(STAFF_AND_FAMILY, GET=OK)),
    "/inbox/new": Route(guarded(STAFF_AND_FAMILY, GET=OK, POST=ADMITTED)),
    "/inbox/<int:conversation_id>": Route(
        guarded(STAFF_AND_FAMILY, GET=OK, POST=ADMITTED), _conversation, _someone_elses_conversation
    ),
    # A message's file and a photo's thumbnail, through a link signed for the viewer.
    "/attachments/<token>": Route(guarded(STAFF_AND_FAMILY, GET=OK), _attachment_link),
    "/attachments/<token>/thumbnail": Route(guarded(STAFF_AND_FAMILY, GET=OK), _attachment_link),
    "/notices": Route(guarded(STAFF_AND_FAMILY, GET=OK)),
    "/notices/read": Route(guarded(STAFF_AND_FAMILY, POST=ADMITTED)),
    "/notices/settings": Route(guarded(STAFF_AND_FAMILY, GET=OK, POST=ADMITTED)),
    # Opening a notice marks it read and leads to what it is about.
    "/notices/<int:notice_id>": Route(
        guarded(STAFF_AND_FAMILY, GET=ADMITTED),
        lambda w: {"notice_id": w.notice.id},
        lambda w: ("notice_id", w.stranger_notice),
    ),
    # Dashboards.
    "/caregiver": Route(guarded("caregiver", GET=OK)),
    "/provider": Route(guarded("provider", GET=OK)),
    "/coordinator": Route(guarded("coordinator", GET=OK)),
    # The front desk: a tablet is known by its device cookie, which no role here holds. Without it, /kiosk is the
    # pairing screen (a kiosk account from before tablets were paired lands there too) and the rest leads there;
    # tests/kiosk/test_views.py asks them with the cookie, and every other rule with the cookie too.
    "/kiosk": Route(everyone(GET=OK)),
    "/kiosk/pair": Route(everyone(POST=ADMITTED)),
    "/kiosk/events": Route(everyone(GET=UNAUTHORIZED)),
    "/kiosk/sessions/<int:session_id>": Route(everyone(GET=redirect_to("/kiosk"), POST=redirect_to("/kiosk")), _held),
    "/kiosk/sessions/<int:session_id>/handover": Route(everyone(POST=redirect_to("/kiosk")), _held),
    "/admin/kiosks": Route(guarded("coordinator", GET=OK)),
    "/admin/kiosks/pairing": Route(guarded("coordinator", POST=ADMITTED)),
    "/admin/kiosks/pin": Route(guarded("coordinator", POST=ADMITTED)),
    "/admin/kiosks/<int:device_id>/revoke": Route(
        guarded("coordinator", POST=ADMITTED), lambda w: {"device_id": w.tablet.id}
    ),
    # Coordinators' pages.
    "/admin/users": Route(guarded("coordinator", GET=OK)),
    "/admin/audit": Route(guarded("coordinator", GET=OK)),
    "/admin/audit.csv": Route(guarded("coordinator", GET=OK)),
    "/admin/audit/verify": Route(guarded("coordinator", POST=redirect_to("/admin/audit"))),
    "/admin/users/<int:user_id>": Route(guarded("coordinator", GET=OK), _family_account),
    "/admin/users/<int:user_id>/deactivate": Route(guarded("coordinator", POST=ADMITTED), _family_account),
    "/admin/users/<int:user_id>/reactivate": Route(guarded("coordinator", POST=ADMITTED), _family_account),
    "/admin/users/<int:user_id>/role": Route(guarded("coordinator", POST=ADMITTED), _family_account),
    "/admin/users/<int:user_id>/erase": Route(guarded("coordinator", POST=ADMITTED), _family_account),
    "/admin/users/<int:user_id>/details": Route(guarded("coordinator", POST=ADMITTED), _family_account),
    "/admin/users/<int:user_id>/unlock": Route(guarded("coordinator", POST=ADMITTED), _family_account),
    "/admin/users/<int:user_id>/reset-link": Route(guarded("coordinator", POST=ADMITTED), _family_account),
    "/admin/users/<int:user_id>/allotment": Route(guarded("coordinator", POST=ADMITTED), _family_account),
    "/admin/allotments": Route(guarded("coordinator", GET=OK, POST=ADMITTED)),
    "/admin/invitations": Route(guarded("coordinator", GET=OK, POST=ADMITTED)),
    "/admin/invitations/<int:user_id>/resend": Route(guarded("coordinator", POST=ADMITTED), _invitee),
    "/admin/invitations/<int:user_id>/link": Route(guarded("coordinator", POST=ADMITTED), _invitee),
    "/admin/invitations/<int:user_id>/revoke": Route(guarded("coordinator", POST=ADMITTED), _invitee),
    "/admin/centers": Route(guarded("coordinator", GET=OK)),
    "/admin/centers/new": Route(guarded("coordinator", GET=OK, POST=ADMITTED)),
    "/admin/centers/<int:center_id>": Route(
        guarded("coordinator", GET=OK, POST=ADMITTED), lambda w: {"center_id": w.request.center.id}
    ),
    "/program": Route(guarded("coordinator", GET=OK)),
    "/queue": Route(guarded("coordinator", GET=OK)),
    "/queue/<int:session_id>": Route(guarded("coordinator", GET=OK), _request),
    "/queue/<int:session_id>/assign": Route(guarded("coordinator", POST=ADMITTED), _request),
    "/queue/<int:session_id>/offer": Route(guarded("coordinator", POST=ADMITTED), _request),
    "/queue/<int:session_id>/decline": Route(guarded("coordinator", POST=ADMITTED), _request),
    "/queue/<int:session_id>/reassign": Route(guarded("coordinator", POST=ADMITTED), _held),
    "/queue/offers/<int:assignment_id>/withdraw": Route(guarded("coordinator", POST=ADMITTED), _offer),
    "/reports": Route(guarded("coordinator", GET=OK)),
    "/reports/<name>.csv": Route(guarded("coordinator", GET=OK), lambda w: {"name": "weekly-hours"}),
    # People and their care cards.
    "/people": Route(guarded("caregiver", GET=OK)),
    "/people/new": Route(guarded("caregiver", GET=OK, POST=ADMITTED)),
    "/people/<int:recipient_id>": Route(guarded(STAFF_AND_FAMILY, GET=OK), _person, _someone_elses_person),
    "/people/<int:recipient_id>/edit": Route(
        guarded("caregiver coordinator", GET=OK, POST=ADMITTED), _person, _someone_elses_person
    ),
    "/people/<int:recipient_id>/deactivate": Route(
        guarded("caregiver coordinator", POST=ADMITTED), _person, _someone_elses_person
    ),
    "/people/<int:recipient_id>/card/edit": Route(
        guarded("caregiver coordinator", GET=OK, POST=ADMITTED), _person, _someone_elses_person
    ),
    "/people/<int:recipient_id>/acknowledge": Route(guarded("provider", POST=ADMITTED), _person, _someone_elses_person),
    # Sessions.
    "/sessions": Route(guarded("caregiver provider", GET=OK)),
    "/sessions/new": Route(guarded("caregiver", GET=OK, POST=ADMITTED)),
    "/sessions/new/check": Route(guarded("caregiver", POST=ADMITTED)),
    "/sessions/<int:session_id>": Route(guarded(STAFF_AND_FAMILY, GET=OK), _session, _someone_elses_session),
    "/sessions/<int:session_id>/edit": Route(
        guarded("caregiver", GET=OK, POST=ADMITTED), _request, _someone_elses_request
    ),
    "/sessions/<int:session_id>/edit/check": Route(
        guarded("caregiver", POST=ADMITTED), _request, _someone_elses_request
    ),
    "/sessions/<int:session_id>/cancel": Route(
        guarded("caregiver coordinator", POST=ADMITTED), _request, _someone_elses_request
    ),
    "/sessions/<int:session_id>/cancel-series": Route(
        guarded("caregiver coordinator", POST=ADMITTED), _request, _someone_elses_request
    ),
    # Visits.
    "/schedule": Route(guarded("provider", GET=OK)),
    "/sessions/<int:session_id>/check-in": Route(
        guarded("provider coordinator", POST=ADMITTED), _held, _someone_elses_session
    ),
    "/sessions/<int:session_id>/check-out": Route(
        guarded("provider coordinator", POST=ADMITTED), _held, _someone_elses_session
    ),
    "/sessions/<int:session_id>/no-show": Route(
        guarded("provider coordinator", POST=ADMITTED), _held, _someone_elses_session
    ),
    "/sessions/<int:session_id>/visit-note": Route(guarded("provider", POST=ADMITTED), _held, _someone_elses_session),
    # Availability.
    "/availability": Route(guarded("provider", GET=OK)),
    "/availability/weekly": Route(guarded("provider", POST=ADMITTED)),
    "/availability/time-off": Route(guarded("provider", POST=ADMITTED)),
    "/availability/<int:entry_id>/remove": Route(
        guarded("provider", POST=ADMITTED),
        lambda w: {"entry_id": w.entry.id},
        lambda w: ("entry_id", w.stranger_entry),
    ),
    # Providers' offers.
    "/offers": Route(guarded("provider", GET=OK)),
    "/offers/<int:assignment_id>/accept": Route(guarded("provider", POST=ADMITTED), _offer, _someone_elses_offer),
    "/offers/<int:assignment_id>/decline": Route(guarded("provider", POST=ADMITTED), _offer, _someone_elses_offer),
    "/offers/take/<int:session_id>": Route(
        guarded("provider", POST=ADMITTED),
        _request,
        _someone_elses_request,
    ),
}


@pytest.fixture(autouse=True)
def _production_two_step_rule(app, monkeypatch):
    """As in production, coordinators must sign in in two steps (the World's coordinator has it on)."""
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_ROLES", ("coordinator",))


# --- Asking and checking ---------------------------------------------------------------------


def rule_methods(rule) -> list[str]:
    return sorted(m for m in rule.methods if m in METHODS)


def path_for(rule: str, values: dict[str, object]) -> str:
    """The rule's path with its parts filled in (`<int:session_id>` → the id given)."""
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)


def client_for(app, user):
    """A test client signed in as `user` the way the app signs anyone in (or signed out, for None).

    The session is made by the app's own `start_sign_in`, not by posting the password, which would
    spend most of this module's time hashing.
    """
    client = app.test_client()
    if user is not None:
        with app.test_request_context(environ_base=client.environ_base):
            start_sign_in(user)
            state = dict(session)
        with client.session_transaction() as stored:
            stored.update(state)
    client.user = user
    return client


@dataclass
class Answered:
    status: int
    location: str | None
    mimetype: str
    text: str


def ask(client, method: str, path: str, **kwargs) -> Answered:
    """Send the request and read the answer; an event stream is closed unread once it has answered."""
    response = client.open(path, method=method, buffered=False, **kwargs)
    try:
        streaming = response.mimetype == "text/event-stream"
        text = "" if streaming else response.get_data().decode(errors="replace")  # a file may be any bytes
        return Answered(response.status_code, response.headers.get("Location"), response.mimetype, text)
    finally:
        response.close()


def check(answered: Answered, expected: str, *, method: str, path: str, role: str, user) -> None:
    where = f"{method} {path} as {role}: expected {expected}, got {answered.status} {answered.location or ''}"
    location = urlsplit(answered.location or "")
    if expected == OK:
        assert answered.status == 200, where
    elif expected == ADMITTED:
        assert answered.status in (200, 302, 303, 422), where
        if answered.status in (302, 303):
            assert location.path != "/login", where
    elif expected == SIGN_IN:
        assert answered.status == 302, where
        assert location.path == "/login", where
        assert parse_qs(location.query)["next"] == [path], where
    elif expected == DASHBOARD:
        assert answered.status == 302, where
        assert location.path == DASHBOARDS[role], where
    elif expected.startswith("302 to /"):
        assert answered.status == 302, where
        assert location.path == expected.removeprefix("302 to "), where
    elif expected == FORBIDDEN:
        assert answered.status == 403, where
        assert "Not allowed" in answered.text, where
        denied = [
            row for row in audit_rows("access.denied") if row.actor_id == user.id and row.meta["method"] == method
        ]
        assert len(denied) == 1, where
        assert denied[0].actor_role == role
        assert path in denied[0].summary
    else:
        assert answered.status == int(expected), where
    if expected != FORBIDDEN and user is not None:
        assert [row for row in audit_rows("access.denied") if row.actor_id == user.id] == [], where


def test_every_rule_is_in_the_matrix(app):
    """A route without a row fails here: give it its expected answers for every role."""
    in_app = {rule.rule: rule_methods(rule) for rule in app.url_map.iter_rules()}
    in_matrix = {rule: sorted(route.answers) for rule, route in MATRIX.items()}
    assert sorted(set(in_app) - set(in_matrix)) == [], "routes without a row in MATRIX"
    assert sorted(set(in_matrix) - set(in_app)) == [], "rows in MATRIX for routes that no longer exist"
    assert in_app == in_matrix, "a route's methods and its row's differ"
    for rule, route in MATRIX.items():
        for method, answers in route.answers.items():
            assert set(answers) == set(ROLES), (rule, method)


CASES = [(rule, role) for rule in MATRIX for role in ROLES]


@pytest.mark.parametrize(("rule", "role"), CASES, ids=[f"{role}:{rule}" for rule, role in CASES])
def test_each_role_gets_the_expected_answer(app, rule, role):
    route = MATRIX[rule]
    world = World(role)
    user = world.me
    with app.test_request_context():  # links in the mail some objects send
        path = path_for(rule, route.values(world))
    db.session.commit()  # a refusal rolls back the request's transaction: the world must outlive it
    client = client_for(app, user)

    for method, answers in route.answers.items():
        answered = ask(client, method, path)
        check(answered, answers[role], method=method, path=path, role=role, user=user)
        if method == "GET" and answers[role] == OK and "<int:" in rule:
            assert "Ottilie Owncase" in answered.text, f"{path} as {role} doesn't show the viewer's own object"
    # A method the rule doesn't take is refused before anything else, whoever asks.
    for method in sorted(set(METHODS) - set(route.answers)):
        assert ask(client, method, path).status == int(NOT_ALLOWED), (method, path, role)


def test_the_next_address_keeps_its_query(client):
    response = client.get("/caregiver?tab=hours")

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/caregiver?tab=hours"]


def test_the_matrix_signs_in_as_the_app_does(app, caregiver):
    """`client_for` skips the password, not the checks: a sign-in the server ended is refused all the same."""
    client = client_for(app, caregiver)
    assert client.get("/caregiver").status_code == 200

    caregiver.session_generation = (caregiver.session_generation or 0) + 1
    db.session.flush()

    response = client.get("/caregiver")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
