"""A coordinator manages one person's account: deactivate and reactivate, change a staff role, erase on request.

Each change asks for a reason, is audited with what it was before and after,
and (except reactivating) ends every sign-in of the person at once.
"""

import re
import time
from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from respite import audit, realtime
from respite.extensions import db
from respite.models import (
    Availability,
    CareCardVersion,
    CareRecipient,
    ProviderProfile,
    RespiteSession,
    User,
    VisitNote,
    utcnow,
)
from respite.realtime.channels import user_channel
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, field_error, sign_in

ACTIONS = ("deactivate", "reactivate", "role", "erase")
ENDPOINTS = {
    None: "person",
    "deactivate": "deactivate",
    "reactivate": "reactivate",
    "role": "change_role",
    "erase": "erase",
}
REASON = "Left the program in March"


def _path(user, action=None):
    return f"/admin/users/{user.id}" + (f"/{action}" if action else "")


def _deactivate(client, user, reason=REASON):
    return client.post(_path(user, "deactivate"), data={"state-reason": reason})


def _reactivate(client, user, reason="Came back"):
    return client.post(_path(user, "reactivate"), data={"state-reason": reason})


def _change_role(client, user, role, reason="Promoted to run the east side"):
    return client.post(_path(user, "role"), data={"role-new_role": role, "role-reason": reason})


def _erase(client, user, name=None, reason="Asked by phone on 2 March"):
    return client.post(
        _path(user, "erase"),
        data={"erase-confirm_name": user.display_name if name is None else name, "erase-reason": reason},
    )


def _signed_in_elsewhere(app, user):
    """Another browser where `user` is signed in, and still is."""
    other = app.test_client()
    sign_in(other, user)
    assert other.get("/", follow_redirects=False).status_code == 302
    assert other.get("/account").status_code == 200
    return other


def _signed_out(client):
    response = client.get("/account")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _fresh(user):
    db.session.expire_all()
    return db.session.get(User, user.id)


def _signed_out_events(published, user):
    return [
        (channel, data)
        for channel, kind, data in published
        if kind == realtime.EventType.SIGNED_OUT and channel == user_channel(user.id)
    ]


# --- The page -------------------------------------------------------------------------------


def test_a_persons_page_shows_their_account_and_the_actions(as_coordinator):
    provider = factories.ProviderProfileFactory(user__display_name="Pat Provider").user

    response = as_coordinator.get(_path(provider))

    assert response.status_code == 200
    assert "<h1>Pat Provider</h1>" in response.text
    assert provider.email in response.text
    for action in ("deactivate", "role", "erase"):
        assert f'action="{_path(provider, action)}"' in response.text
    assert f'action="{_path(provider, "reactivate")}"' not in response.text
    assert '<option selected value="coordinator">Coordinator</option>' in response.text
    # The people page links to it.
    assert f'<a href="{_path(provider)}">Pat Provider</a>' in as_coordinator.get("/admin/users").text


def test_a_family_has_no_role_to_change(as_coordinator, caregiver):
    text = as_coordinator.get(_path(caregiver)).text

    assert f'action="{_path(caregiver, "role")}"' not in text
    assert f'action="{_path(caregiver, "erase")}"' in text


def test_a_coordinator_sees_no_actions_on_their_own_account(as_coordinator):
    text = as_coordinator.get(_path(as_coordinator.user)).text

    assert "This is your own account" in text
    assert not re.search(r'action="/admin/users/\d+/', text)


def test_a_persons_page_shows_their_history_with_reasons(as_coordinator, provider):
    _deactivate(as_coordinator, provider, reason="Moved away")

    text = as_coordinator.get(_path(provider)).text

    assert re.search(r"Deactivated [^<]+ <span class=\"muted\">\(reason: Moved away\)</span>", text)
    assert "Reactivate this account" in text


def test_the_persons_page_keeps_to_its_statement_budget(as_coordinator, provider):
    def add_rows(n):
        for i in range(n):
            audit.record("user.note", provider, actor=as_coordinator.user, summary=f"Row {i}")

    assert_statement_budget(as_coordinator, _path(provider), add_rows, 9 + NAV, large=25)


def test_a_familys_page_lists_the_people_they_care_for_within_its_budget(as_coordinator, caregiver):
    def add_rows(n):
        for _ in range(n):
            factories.CareRecipientFactory(caregiver=caregiver.caregiver_profile)

    assert_statement_budget(as_coordinator, _path(caregiver), add_rows, 9 + NAV, large=25)
    text = as_coordinator.get(_path(caregiver)).text
    for recipient in caregiver.caregiver_profile.recipients:
        assert f'<a href="/people/{recipient.id}">{escape(recipient.full_name)}</a>' in text


# --- Who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("client_fixture", ["as_caregiver", "as_provider", "as_kiosk"])
@pytest.mark.parametrize("action", [None, *ACTIONS])
def test_only_coordinators_manage_accounts(request, client_fixture, action):
    client = request.getfixturevalue(client_fixture)
    target = factories.UserFactory(role="provider")
    db.session.commit()

    response = client.get(_path(target)) if action is None else client.post(_path(target, action), data={})

    assert response.status_code == 403
    target = _fresh(target)
    assert (target.active, target.role, target.session_generation) == (True, "provider", 0)
    assert [row.meta["endpoint"] for row in audit_rows("access.denied")] == [f"admin.{ENDPOINTS[action]}"]


@pytest.mark.parametrize("action", [None, *ACTIONS])
def test_an_account_no_one_has_is_not_found(as_coordinator, action):
    missing = 2**31 - 1
    response = (
        as_coordinator.get(f"/admin/users/{missing}")
        if action is None
        else as_coordinator.post(f"/admin/users/{missing}/{action}", data={"state-reason": "x"})
    )

    assert response.status_code == 404
    (refused,) = audit_rows("access.not_found")
    assert refused.meta["view_args"] == {"user_id": missing}


# --- Deactivating and reactivating -----------------------------------------------------------------


def test_deactivating_signs_the_person_out_everywhere_and_audits_it(app, as_coordinator, published):
    provider = factories.ProviderProfileFactory(user__email="pat.provider@example.org").user
    elsewhere = _signed_in_elsewhere(app, provider)

    response = _deactivate(as_coordinator, provider)

    assert response.status_code == 302
    assert response.headers["Location"] == _path(provider)
    assert _signed_out(elsewhere)
    provider = _fresh(provider)
    assert provider.active is False
    assert provider.session_generation == 1  # bumped: every sign-in issued before ends
    (row,) = audit_rows("user.deactivate")
    assert (row.actor_id, row.entity_type, row.entity_id) == (as_coordinator.user.id, "User", str(provider.id))
    assert row.meta == {"active": {"from": True, "to": False}, "reason": REASON, "email": "pa***@example.org"}
    assert "pat.provider" not in str(row.meta)
    assert _signed_out_events(published, provider) == [(user_channel(provider.id), {"user_id": provider.id})]
    # And the password no longer signs in.
    assert app.test_client().post("/login", data={"email": provider.email, "password": "x"}).status_code != 302


def test_deactivating_ends_the_persons_open_streams(app, as_coordinator, as_provider, monkeypatch):
    monkeypatch.setitem(app.config, "SSE_HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "SSE_STREAM_MAX_SECONDS", 5.0)
    stream = as_provider.get("/events", buffered=False)
    started = time.monotonic()

    assert _deactivate(as_coordinator, as_provider.user).status_code == 302

    b"".join(stream.response)
    assert time.monotonic() - started < 3  # ended by the sign-out event, not by its lifetime


def test_deactivating_needs_a_reason(as_coordinator, provider):
    response = _deactivate(as_coordinator, provider, reason="  ")

    assert response.status_code == 422
    assert field_error(response, "state-reason") == "Give a reason: it is kept in the audit log."
    assert _fresh(provider).active is True
    assert audit_rows("user.deactivate") == []


def test_a_coordinator_cant_deactivate_themselves(as_coordinator):
    me = as_coordinator.user

    response = _deactivate(as_coordinator, me)

    assert response.status_code == 422
    assert "You can&#39;t change the state of your own account: ask another coordinator." in response.text
    assert _fresh(me).active is True
    assert as_coordinator.get("/admin/users").status_code == 200
    assert audit_rows("user.deactivate") == []


def test_deactivating_twice_is_refused(as_coordinator):
    gone = factories.UserFactory(active=False, display_name="Gone Person")

    response = _deactivate(as_coordinator, gone)

    assert response.status_code == 422
    assert "Gone Person&#39;s account is already deactivated." in response.text


def test_reactivating_lets_the_person_sign_in_again(app, as_coordinator, provider):
    _deactivate(as_coordinator, provider)

    response = _reactivate(as_coordinator, provider, reason="Back from leave")

    assert response.status_code == 302
    assert _fresh(provider).active is True
    (row,) = audit_rows("user.reactivate")
    assert row.meta["active"] == {"from": False, "to": True}
    assert row.meta["reason"] == "Back from leave"
    _signed_in_elsewhere(app, provider)


def test_an_erased_account_cant_be_reactivated(as_coordinator, caregiver):
    _erase(as_coordinator, caregiver)

    response = _reactivate(as_coordinator, caregiver)

    assert response.status_code == 422
    assert "This account&#39;s details were erased; it stays as it is." in response.text
    assert _fresh(caregiver).active is False
    assert audit_rows("user.reactivate") == []


# --- Changing a staff member's role -----------------------------------------------------------------


def test_a_provider_made_a_coordinator_is_signed_out_and_leaves_matching(app, as_coordinator, published):
    provider = factories.ProviderProfileFactory().user
    elsewhere = _signed_in_elsewhere(app, provider)

    response = _change_role(as_coordinator, provider, "coordinator")

    assert response.status_code == 302
    assert _signed_out(elsewhere)
    provider = _fresh(provider)
    assert provider.role == "coordinator"
    assert provider.provider_profile.active is False  # no longer suggested for sessions
    (row,) = audit_rows("user.role_change")
    assert row.meta["role"] == {"from": "provider", "to": "coordinator"}
    assert row.meta["reason"] == "Promoted to run the east side"
    assert _signed_out_events(published, provider)
    # Signing in again, they arrive as a coordinator.
    assert sign_in(app.test_client(), provider).headers["Location"] in ("/", "/coordinator")


def test_a_coordinator_made_a_provider_gets_a_provider_profile(as_coordinator):
    other = factories.UserFactory(role="coordinator")

    response = _change_role(as_coordinator, other, "provider")

    assert response.status_code == 302
    other = _fresh(other)
    assert other.role == "provider"
    profile = db.session.scalar(select(ProviderProfile).where(ProviderProfile.user_id == other.id))
    assert profile.active is True


def test_a_provider_with_coming_sessions_keeps_the_role_until_they_are_reassigned(as_coordinator, provider):
    factories.AssignmentFactory(provider=provider.provider_profile, session__status="confirmed")

    response = _change_role(as_coordinator, provider, "coordinator")

    assert response.status_code == 422
    assert "holds a coming session or offer. Reassign or withdraw it first, then change their role." in response.text
    assert _fresh(provider).role == "provider"
    assert audit_rows("user.role_change") == []


@pytest.mark.parametrize(
    ("role", "new_role", "message"),
    [
        ("caregiver", "provider", "Only a provider&#39;s or a coordinator&#39;s role can be changed."),
        ("kiosk", "coordinator", "Only a provider&#39;s or a coordinator&#39;s role can be changed."),
        ("provider", "provider", "is already a provider."),
    ],
)
def test_only_a_staff_role_changes_and_only_to_another(as_coordinator, role, new_role, message):
    user = factories.UserFactory(role=role, center=factories.CenterFactory() if role == "kiosk" else None)

    response = _change_role(as_coordinator, user, new_role)

    assert response.status_code == 422
    assert message in response.text
    assert _fresh(user).role == role


def test_a_role_no_one_has_is_refused_beside_the_field(as_coordinator, provider):
    response = _change_role(as_coordinator, provider, "kiosk")

    assert response.status_code == 422
    assert field_error(response, "role-new_role") == "Not a valid choice."


def test_a_coordinator_cant_change_their_own_role(as_coordinator):
    response = _change_role(as_coordinator, as_coordinator.user, "provider")

    assert response.status_code == 422
    assert _fresh(as_coordinator.user).role == "coordinator"


# --- Erasing on request -----------------------------------------------------------------------------


def _family_with_history():
    """A family with a person cared for, two care card versions, a past session with a visit note."""
    profile = factories.CaregiverProfileFactory(
        full_name="Rosa Marquez", phone="555 0101", user__display_name="Rosa Marquez", user__email="rosa@example.org"
    )
    person = factories.CareRecipientFactory(
        caregiver=profile, first_name="Ottilie", last_name="Marquez", date_of_birth=date(1941, 5, 2)
    )
    for number in (1, 2):
        db.session.add(
            CareCardVersion(
                recipient=person, number=number, content={"needs": "Ottilie needs insulin at noon", "allergies": "Nuts"}
            )
        )
    person.card_number = 2
    starts = utcnow() - timedelta(days=7)
    past = factories.RespiteSessionFactory(
        recipient=person,
        status="completed",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        location_kind="home",
        address="12 Elm Street",
        request_notes="Ottilie Marquez naps after lunch",
    )
    assignment = factories.AssignmentFactory(session=past, status="accepted")
    db.session.add(
        VisitNote(session=past, author=assignment.provider.user, went_well="Ottilie ate well", concerns="Cough")
    )
    db.session.flush()
    return profile.user


def _row_values(*rows):
    return " ".join(str(getattr(row, column.key)) for row in rows for column in type(row).__table__.columns)


def test_erasing_a_family_leaves_no_trace_of_them_in_their_rows(app, as_coordinator):
    family = _family_with_history()
    elsewhere = _signed_in_elsewhere(app, family)
    earlier = [(row.id, row.summary, row.meta, row.row_hash) for row in audit_rows()]
    assert any("Rosa Marquez" in summary for _, summary, _, _ in earlier)  # the sign-in above

    response = _erase(as_coordinator, family, name="  rosa   MARQUEZ ")

    assert response.status_code == 302
    assert _signed_out(elsewhere)
    db.session.expire_all()
    family = db.session.get(User, family.id)
    profile = family.caregiver_profile
    people = db.session.scalars(select(CareRecipient).where(CareRecipient.caregiver_id == profile.id)).all()
    cards = db.session.scalars(select(CareCardVersion).where(CareCardVersion.recipient_id == people[0].id)).all()
    sessions = db.session.scalars(select(RespiteSession).where(RespiteSession.caregiver_id == profile.id)).all()
    notes = db.session.scalars(select(VisitNote).where(VisitNote.session_id == sessions[0].id)).all()
    kept = _row_values(family, profile, *people, *cards, *sessions, *notes)
    for trace in ("Rosa", "Marquez", "rosa@example.org", "555 0101", "Ottilie", "1941", "insulin", "Elm", "Cough"):
        assert trace not in kept, trace
    assert (family.display_name, family.email) == (f"Erased account {family.id}", f"erased-{family.id}@erased.invalid")
    assert (family.active, family.password_hash, family.erased_at is not None) == (False, None, True)
    assert [(card.number, card.content) for card in cards] == [(1, {}), (2, {})]
    assert (len(people), len(sessions), len(notes)) == (1, 1, 1)  # every row stays
    assert (sessions[0].status, sessions[0].minutes) == ("completed", 180)
    # What the audit log recorded before stays as it was: it is append-only.
    assert [(row.id, row.summary, row.meta, row.row_hash) for row in audit_rows()][: len(earlier)] == earlier
    (erased,) = audit_rows("user.erase")
    assert erased.actor_id == as_coordinator.user.id
    assert erased.meta["reason"] == "Asked by phone on 2 March"
    assert erased.meta["erased"] == {"recipients": 1, "card_versions": 2, "sessions": 1, "visit_notes": 1}
    assert "Rosa" not in erased.summary + str(erased.meta)
    assert "rosa@" not in str(erased.meta)
    assert audit.verify_chain()[1] is None
    # The people page and the person's page show the erased account.
    assert re.search(
        rf"Erased account {family.id}</a></td>.*?<span class=\"badge badge-person-erased\">Erased</span>",
        as_coordinator.get("/admin/users").text,
        re.S,
    )
    page = as_coordinator.get(_path(family)).text
    assert "personal details were erased on request" in page
    assert f'action="{_path(family, "erase")}"' not in page


def test_an_erased_account_cant_sign_in_or_reset_its_password(app, as_coordinator, caregiver):
    _erase(as_coordinator, caregiver)
    client = app.test_client()

    assert client.post("/login", data={"email": caregiver.email, "password": "x"}).status_code != 302
    (failed,) = [row for row in audit_rows("auth.login_failed") if row.meta.get("reason") == "inactive"]
    assert failed.entity_id == str(caregiver.id)


def test_erasing_a_provider_blanks_their_profile_and_keeps_the_visit_notes_they_wrote(as_coordinator):
    provider = factories.ProviderProfileFactory(
        bio="Pat has two cats", skills="Dementia care", user__display_name="Pat Quill"
    ).user
    factories.AvailabilityFactory(provider=provider.provider_profile, note="School run at 3")
    starts = utcnow() - timedelta(days=3)
    past = factories.RespiteSessionFactory(status="completed", starts_at=starts, ends_at=starts + timedelta(hours=2))
    factories.AssignmentFactory(session=past, provider=provider.provider_profile)
    db.session.add(VisitNote(session=past, author=provider, went_well="Walked to the park"))
    db.session.flush()

    assert _erase(as_coordinator, provider).status_code == 302

    db.session.expire_all()
    profile = db.session.get(ProviderProfile, provider.provider_profile.id)
    assert (profile.bio, profile.skills, profile.active) == ("", "", False)
    notes = db.session.scalars(select(Availability.note).where(Availability.provider_id == profile.id)).all()
    assert notes == [""]
    note = db.session.scalar(select(VisitNote).where(VisitNote.session_id == past.id))
    assert note.went_well == "Walked to the park"  # the family's record
    assert note.author.display_name == f"Erased account {provider.id}"


def test_erasing_needs_the_persons_name_typed(as_coordinator, caregiver):
    response = _erase(as_coordinator, caregiver, name="Someone Else")

    assert response.status_code == 422
    assert (
        field_error(response, "erase-confirm_name") == f"That isn't the name on this account: {caregiver.display_name}."
    )
    assert _fresh(caregiver).erased_at is None
    assert audit_rows("user.erase") == []


def test_erasing_needs_a_reason(as_coordinator, caregiver):
    response = _erase(as_coordinator, caregiver, reason="")

    assert response.status_code == 422
    assert field_error(response, "erase-reason") == "Give a reason: it is kept in the audit log."
    assert _fresh(caregiver).erased_at is None


def test_a_family_with_coming_sessions_is_erased_only_after_they_are_cancelled(as_coordinator):
    session = factories.RespiteSessionFactory(status="confirmed")
    family = session.caregiver.user

    response = _erase(as_coordinator, family)

    assert response.status_code == 422
    assert "has a coming session. Cancel it first, then erase their details." in response.text
    assert _fresh(family).erased_at is None


def test_a_coordinator_cant_erase_themselves(as_coordinator):
    response = _erase(as_coordinator, as_coordinator.user)

    assert response.status_code == 422
    me = _fresh(as_coordinator.user)
    assert (me.erased_at, me.active) == (None, True)
    assert audit_rows("user.erase") == []


def test_erasing_twice_is_refused(as_coordinator, caregiver):
    _erase(as_coordinator, caregiver)
    erased = _fresh(caregiver)

    response = _erase(as_coordinator, erased)

    assert response.status_code == 422
    assert len(audit_rows("user.erase")) == 1
