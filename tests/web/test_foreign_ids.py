"""Someone else's object, or no one's, answers 404 and shows nothing of it, on every route that takes an id.

For each rule of the access matrix (test_access_matrix.py) with an object id in its URL, and each
role it admits: another family's session or person, another provider's offer or availability, an
id no object has and one beyond the database's range all answer 404, as a page and as an htmx
fragment; the answer names no one, the object is left as it was, and the refusal is audited.
Coordinators run the whole program (every session, person and offer is theirs to see), so they
get the ids no object has. Links whose secret is the key (calendar feeds, invitations, emailed
links) answer 404 when forged, revoked, used or meant for something else.
"""

import pytest
from sqlalchemy import inspect

from respite.accounts import services as accounts
from respite.calendar import services as calendar
from respite.extensions import db
from respite.web.converters import MAX_ID
from tests import factories
from tests.helpers import audit_rows, mailed_link
from tests.web.test_access_matrix import ADMITTED, MATRIX, OK, STRANGER_NAMES, World, ask, client_for, path_for

HTMX = {"HX-Request": "true"}


def _admitted(route, method):
    return [role for role, answer in route.answers[method].items() if answer in (OK, ADMITTED)]


FOREIGN = [
    (rule, method, role)
    for rule, route in MATRIX.items()
    if route.foreign is not None
    for method in route.answers
    for role in _admitted(route, method)
    if role != "coordinator"
]
ID_RULES = [
    (rule, method, role)
    for rule, route in MATRIX.items()
    if "<int:" in rule
    for method in route.answers
    for role in _admitted(route, method)
]


def _id(case):
    rule, method, role = case
    return f"{role}:{method}:{rule}"


def _columns(row):
    """The row's stored values, read afresh."""
    db.session.expire_all()
    row = db.session.get(type(row), row.id)
    return {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}


def _form_for(world, row):
    """A post that would pass each form's own checks, so that only whose object it is can refuse it."""
    return {
        "version": getattr(row, "version", 1),
        "reason": "Family emergency",
        "note": "Arrived on time",
        "provider_id": world.provider.id,
        "first_name": "Renamed",
        "last_name": "Person",
        "went_well": "Lunch",
        "concerns": "None",
        "medication": "None",
    }


def assert_reveals_nothing(answered, where):
    assert answered.status == 404, f"{where}: expected 404, got {answered.status} {answered.location or ''}"
    shown = [name for name in STRANGER_NAMES if name in answered.text]
    assert shown == [], f"{where}: the answer names {shown}"


def _cases(cases):
    """Cases whose refusal is known to answer wrongly are expected to fail, until the route is fixed."""
    return [
        pytest.param(
            *case,
            id=_id(case),
            marks=[pytest.mark.xfail(strict=True, reason=MATRIX[case[0]].foreign_known_wrong)]
            if MATRIX[case[0]].foreign_known_wrong
            else [],
        )
        for case in cases
    ]


@pytest.mark.parametrize(("rule", "method", "role"), _cases(FOREIGN))
def test_someone_elses_object_is_not_found(app, rule, method, role):
    world = World(role)
    me = world.me
    route = MATRIX[rule]
    name, theirs = route.foreign(world)
    before = _columns(theirs)
    form = _form_for(world, theirs) if method == "POST" else None
    path = path_for(rule, {name: theirs.id})
    db.session.commit()  # the refusal rolls back the request's transaction: the objects must outlive it
    client = client_for(app, me)

    assert_reveals_nothing(ask(client, method, path, data=form), f"{method} {path} as {role}")
    if method == "GET":
        assert_reveals_nothing(ask(client, method, path, headers=HTMX), f"htmx {method} {path} as {role}")

    assert _columns(theirs) == before
    refused = [row for row in audit_rows("access.not_found") if row.actor_id == me.id]
    assert refused, f"{method} {path} as {role}: the refusal left no audit row"
    assert refused[0].meta["view_args"] == {name: theirs.id}


@pytest.mark.parametrize("number", [MAX_ID, MAX_ID + 1, 2**63])
@pytest.mark.parametrize(("rule", "method", "role"), ID_RULES, ids=map(_id, ID_RULES))
def test_an_id_no_object_has_is_not_found(app, rule, method, role, number):
    me = World(role).me
    path = path_for(
        rule,
        dict.fromkeys(
            (
                "session_id",
                "recipient_id",
                "assignment_id",
                "entry_id",
                "user_id",
                "notice_id",
                "conversation_id",
                "device_id",
                "center_id",
            ),
            number,
        ),
    )
    db.session.commit()
    client = client_for(app, me)

    assert ask(client, method, path).status == 404, (method, path, role)
    if method == "GET":
        assert ask(client, method, path, headers=HTMX).status == 404, (method, path, role)


@pytest.mark.parametrize("status", ["declined", "cancelled"])
def test_a_session_a_provider_no_longer_holds_is_not_theirs(app, status):
    """An offer they declined, or a session they were taken off (it goes on without them): 404, as for a stranger."""
    world = World("provider")
    me = world.me
    session = world.stranger_request
    factories.AssignmentFactory(session=session, provider=world.provider, status=status)
    db.session.commit()
    client = client_for(app, me)

    for path in (f"/sessions/{session.id}", f"/people/{world.stranger_person.id}"):
        assert_reveals_nothing(ask(client, "GET", path), f"{path} after the provider's {status} assignment")
    answered = ask(client, "POST", f"/sessions/{session.id}/check-in", data={"version": session.version})
    assert_reveals_nothing(answered, f"check-in after the provider's {status} assignment")


# --- Ids inside forms and query strings --------------------------------------------------------


def test_a_request_for_someone_elses_person_is_not_found(app):
    world = World("caregiver")
    me, theirs = world.me, world.stranger_person
    db.session.commit()
    client = client_for(app, me)

    assert_reveals_nothing(ask(client, "GET", f"/sessions/new?recipient={theirs.id}"), "request form")
    assert_reveals_nothing(ask(client, "GET", f"/sessions/new?recipient={MAX_ID + 1}"), "request form")


@pytest.mark.parametrize(
    "session_id",
    [
        "stranger",
        MAX_ID,
        MAX_ID + 1,
        10**30,
    ],
)
def test_acknowledging_a_card_for_someone_elses_session_is_not_found(app, session_id):
    world = World("provider")
    me, person = world.me, world.person
    if session_id == "stranger":
        session_id = world.stranger_held.id
    db.session.commit()
    client = client_for(app, me)

    answered = ask(
        client, "POST", f"/people/{person.id}/acknowledge", data={"version": "1", "session_id": str(session_id)}
    )

    assert_reveals_nothing(answered, f"acknowledge for session {session_id}")
    assert audit_rows("care.acknowledge") == []


@pytest.mark.parametrize("action", ["assign", "offer"])
@pytest.mark.parametrize("provider_id", [MAX_ID, MAX_ID + 1, 10**30])
def test_a_provider_no_one_is_is_refused(app, action, provider_id):
    world = World("coordinator")
    me, request = world.me, world.request
    db.session.commit()
    client = client_for(app, me)

    answered = ask(client, "POST", f"/queue/{request.id}/{action}", data={"provider_id": str(provider_id)})

    assert answered.status in (404, 422), (action, provider_id, answered.status)
    assert _columns(request)["status"] == "requested"


# --- Links whose secret is the key ----------------------------------------------------------------


def _links(app, world):
    """The names no answer may show, and (rule, secret) for each link that opens nothing."""
    stranger = world.stranger_person.caregiver.user
    revoked = calendar.enable_feed(stranger)
    calendar.revoke_feed(stranger)
    invitation = world.invitation_token
    accounts.accept_invitation(accounts.invitation_for(invitation), "a long passphrase here")
    accounts.request_password_reset(stranger.email)
    sign_up = world.sign_up_token  # commits: the links are mailed
    reset = mailed_link(app, stranger.email).rsplit("/", 1)[1]
    names = [*STRANGER_NAMES, stranger.email, "Nadia Newcomer", "nadia.newcomer", "Sidney Signup", "sidney.signup"]
    forged = "x" * 43
    feed, invited, confirm, reset_page = (
        "/calendar/<token>.ics",
        "/invitation/<token>",
        "/signup/confirm/<token>",
        "/password/reset/<token>",
    )
    return names, [
        (feed, forged),
        (feed, revoked),
        (feed, sign_up),  # another kind of secret
        (invited, forged),
        (invited, invitation),  # its password is set: the link is spent
        (invited, reset),
        (confirm, forged),
        (confirm, reset),
        (reset_page, forged),
        (reset_page, sign_up),
        (reset_page, invitation),
    ]


@pytest.mark.parametrize("role", ["anonymous", "caregiver"])
def test_links_that_open_nothing_are_not_found(app, role):
    world = World(role)
    me = world.me
    with app.test_request_context():
        names, links = _links(app, world)
    db.session.commit()
    client = client_for(app, me)

    for rule, token in links:
        path = path_for(rule, {"token": token})
        for method in MATRIX[rule].answers:
            answered = ask(client, method, path, data={"password": "a long passphrase here", "confirm": "x"})
            assert answered.status == 404, (method, path, answered.status)
            assert [name for name in names if name in answered.text] == [], (method, path)


def test_a_deactivated_familys_feed_is_not_found(app):
    world = World("anonymous")
    family = world.family.user
    token = world.feed_token
    family.active = False
    db.session.commit()

    answered = ask(client_for(app, None), "GET", f"/calendar/{token}.ics")

    assert answered.status == 404
    assert "Ottilie" not in answered.text


def test_the_world_is_what_the_matrix_says(app):
    """Sanity: the stranger's objects really are someone else's, and the viewer's really are theirs."""
    world = World("provider")
    assert world.held.center.name == "Maple House"
    assert world.stranger_held.center.name == "Farrowmere House"
    assert {a.provider_id for a in world.stranger_held.assignments} == {world.stranger_provider.id}
    assert world.stranger_provider.id != world.provider.id
