"""Matching through the pages: the queue, a request's panel, the providers' offers, and the program calendar.

Who may open and post to each route; the happy paths as plain form posts
(Post/Redirect/Get) and with htmx; refusals answered in place with 422; and a
fixed number of statements per page however many rows it shows.
"""

import re
from datetime import datetime, time, timedelta

import pytest

from respite.extensions import db
from respite.matching import calendar
from respite.models import Assignment, AssignmentStatus, CareCardVersion, RespiteSession, SessionStatus, utcnow
from respite.scheduling.services import STALE_MESSAGE
from respite.timefmt import zone_or_utc
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, field_error, sign_in

S = SessionStatus
A = AssignmentStatus
HTMX = {"HX-Request": "true"}


def free_all_week(profile):
    """Every day, all day, on the provider's clock."""
    for weekday in range(7):
        factories.AvailabilityFactory(provider=profile, weekday=weekday)
    return profile


@pytest.fixture
def request_():
    """An open request three days ahead, at a center, for a person with a care card."""
    start = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    session = factories.RespiteSessionFactory(
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        recipient__first_name="Nora",
        recipient__last_name="Quinn",
        request_notes="Likes the garden",
    )
    with_card(session.recipient, needs="Dementia; reminders to drink", allergies="Penicillin")
    return session


def with_card(recipient, **content):
    """A first care card version for `recipient`."""
    db.session.add(CareCardVersion(recipient=recipient, number=1, content=content))
    recipient.card_number = 1
    db.session.flush()
    return recipient


@pytest.fixture
def worker(request_):
    """A provider at the request's center, free all week, with a skill the card speaks to."""
    profile = factories.ProviderProfileFactory(
        center=request_.center, user__display_name="Alex Morgan", skills="Dementia care, cooking"
    )
    return free_all_week(profile)


@pytest.fixture
def as_worker(app, worker):
    client = app.test_client()
    sign_in(client, worker.user)
    client.user = worker.user
    return client


def held_elsewhere(provider, session):
    """A confirmed session of `provider` overlapping `session`, for another person."""
    other = factories.RespiteSessionFactory(
        starts_at=session.starts_at + timedelta(hours=1),
        ends_at=session.ends_at + timedelta(hours=1),
        status=S.CONFIRMED,
        recipient__first_name="Elena",
        recipient__last_name="Ruiz",
    )
    factories.AssignmentFactory(session=other, provider=provider, status=A.ACCEPTED)
    return other


def fresh(session):
    db.session.expire_all()
    return db.session.get(RespiteSession, session.id)


def assignment_of(session, provider):
    db.session.expire_all()
    return db.session.scalar(
        db.select(Assignment).where(Assignment.session_id == session.id, Assignment.provider_id == provider.id)
    )


def flashes(response):
    return re.findall(r'<li class="flash flash-(\w+)">(.*?)</li>', response.text, re.S)


def flashed(response, category, opening):
    """Whether a flash of `category` that opens with `opening` is on the page."""
    return any(c == category and m.startswith(opening) for c, m in flashes(response))


def row(response, element_id):
    """The HTML of the element with `element_id` up to its closing tag of the same name (tr or li)."""
    match = re.search(rf'<(tr|li)[^>]* id="{re.escape(element_id)}".*?</\1>', response.text, re.S)
    assert match, f"no #{element_id}"
    return match.group(0)


# --- Who may open what -----------------------------------------------------------------

COORDINATOR_PAGES = ["/queue", "/queue/{sid}", "/program"]
COORDINATOR_POSTS = [
    "/queue/{sid}/assign",
    "/queue/{sid}/offer",
    "/queue/{sid}/reassign",
    "/queue/{sid}/decline",
    "/queue/offers/{aid}/withdraw",
]
PROVIDER_POSTS = ["/offers/{aid}/accept", "/offers/{aid}/decline", "/offers/take/{sid}"]


@pytest.fixture
def offered(request_, worker):
    return factories.AssignmentFactory(session=request_, provider=worker, status=A.OFFERED)


def paths(templates, request_, offered):
    return [t.format(sid=request_.id, aid=offered.id) for t in templates]


def test_signed_out_visitors_are_sent_to_sign_in(client, request_, offered):
    for path in paths([*COORDINATOR_PAGES, "/offers"], request_, offered):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path


@pytest.mark.parametrize("client_fixture", ["as_caregiver", "as_provider", "as_kiosk"])
def test_the_coordinators_pages_refuse_other_roles(request, client_fixture, request_, offered):
    client = request.getfixturevalue(client_fixture)
    for path in paths(COORDINATOR_PAGES, request_, offered):
        assert client.get(path).status_code == 403, path
    for path in paths(COORDINATOR_POSTS, request_, offered):
        assert client.post(path, data={"provider_id": offered.provider_id, "reason": "x"}).status_code == 403, path
    assert fresh(request_).status == S.REQUESTED
    assert audit_rows("access.denied")[-1].meta["endpoint"] == "matching.withdraw_offer"


@pytest.mark.parametrize("client_fixture", ["as_caregiver", "as_coordinator", "as_kiosk"])
def test_the_offers_page_is_for_providers(request, client_fixture, request_, offered):
    client = request.getfixturevalue(client_fixture)
    assert client.get("/offers").status_code == 403
    for path in paths(PROVIDER_POSTS, request_, offered):
        assert client.post(path, data={"reason": "x"}).status_code == 403, path
    assert assignment_of(request_, offered.provider).status == A.OFFERED


def test_unknown_ids_are_not_found(as_coordinator, as_provider, request_):
    db.session.commit()  # the setup stays (a 404 rolls back what its request changed)
    assert as_coordinator.get("/queue/999999").status_code == 404
    assert as_coordinator.get("/queue/999999", headers=HTMX).status_code == 404
    for path in ("/queue/999999/assign", "/queue/999999/offer", "/queue/999999/reassign", "/queue/999999/decline"):
        assert as_coordinator.post(path, data={"provider_id": 1, "reason": "x"}).status_code == 404, path
    assert as_coordinator.post("/queue/offers/999999/withdraw").status_code == 404
    # A provider id no one has.
    response = as_coordinator.post(
        f"/queue/{request_.id}/assign", data={"provider_id": 999999, "version": request_.version}
    )
    assert response.status_code == 404
    for path in ("/offers/999999/accept", "/offers/999999/decline", "/offers/take/999999"):
        assert as_provider.post(path, data={"reason": "x"}).status_code == 404, path
    assert fresh(request_).status == S.REQUESTED


def test_a_provider_cant_answer_another_providers_offer(as_provider, request_, offered):
    db.session.commit()
    for path in (f"/offers/{offered.id}/accept", f"/offers/{offered.id}/decline"):
        assert as_provider.post(path, data={"reason": "Not mine to say"}).status_code == 404, path
    assert assignment_of(request_, offered.provider).status == A.OFFERED
    assert f"/offers/{offered.id}/accept" not in as_provider.get("/offers").text


def test_a_provider_can_only_take_an_open_request(as_worker, request_, worker):
    request_.status = S.CONFIRMED
    db.session.commit()
    assert as_worker.post(f"/offers/take/{request_.id}", data={"version": request_.version}).status_code == 404
    assert fresh(request_).status == S.CONFIRMED


def test_the_nav_links_each_role_to_its_pages(as_coordinator, as_provider, as_caregiver):
    coordinator = as_coordinator.get("/coordinator").text
    assert 'href="/queue"' in coordinator
    assert 'href="/program"' in coordinator
    assert 'href="/offers"' in as_provider.get("/provider").text
    caregiver = as_caregiver.get("/caregiver").text
    assert 'href="/queue"' not in caregiver
    assert 'href="/offers"' not in caregiver


# --- The queue ---------------------------------------------------------------------------


def test_the_queue_lists_open_requests_soonest_first_with_flags_and_offers(as_coordinator, request_, worker):
    soon = factories.RespiteSessionFactory(
        starts_at=utcnow() + timedelta(hours=5),
        ends_at=utcnow() + timedelta(hours=8),
        recipient__first_name="Sam",
        recipient__last_name="Early",
    )
    declined = factories.AssignmentFactory(session=request_, provider=worker, status=A.DECLINED, reason="On leave")
    factories.RespiteSessionFactory(status=S.CONFIRMED, recipient__first_name="Not", recipient__last_name="Open")
    body = as_coordinator.get("/queue").text
    assert 'id="queue-live"' in body
    assert 'hx-trigger="sse:session' in body
    assert body.index("Sam Early") < body.index("Nora Quinn")
    assert "Not Open" not in body
    urgent = row(as_coordinator.get("/queue"), f"request-{soon.id}")
    assert "Starts within 48 h" in urgent
    assert '<span class="flag-detail">No provider yet, and it starts within 48 hours.</span>' in urgent
    assert f'href="/queue/{soon.id}"' in urgent
    later = row(as_coordinator.get("/queue"), f"request-{request_.id}")
    assert "Alex Morgan" in later
    assert "Declined" in later
    assert "On leave" in later
    assert declined.reason in later


def test_the_queue_shows_care_cards_not_acknowledged(as_coordinator, request_, worker):
    request_.status = S.CONFIRMED
    factories.AssignmentFactory(session=request_, provider=worker, status=A.ACCEPTED)
    body = as_coordinator.get("/queue").text
    section = body[body.index("Care cards not acknowledged") :]
    assert "Nora Quinn" in section
    assert "Alex Morgan" in section
    assert "hasn&#39;t read version 1 of the care card" in section


def test_the_queue_region_answers_htmx_alone(as_coordinator, request_):
    response = as_coordinator.get("/queue", headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="queue-live"')
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_the_dashboard_links_each_request_to_its_panel_and_the_queue(as_coordinator, request_):
    body = as_coordinator.get("/coordinator").text
    assert f'href="/queue/{request_.id}"' in body
    assert '<a href="/queue">Open the queue</a>' in body


# --- The request panel ---------------------------------------------------------------------


def test_the_panel_shows_the_request_and_ranked_suggestions_with_reasons(as_coordinator, request_, worker):
    busy = factories.ProviderProfileFactory(center=request_.center, user__display_name="Bea Busy")
    free_all_week(busy)
    clash = held_elsewhere(busy, request_)
    elsewhere = factories.ProviderProfileFactory(user__display_name="Cy Elsewhere")  # another center, no hours
    response = as_coordinator.get(f"/queue/{request_.id}")
    body = response.text
    assert response.status_code == 200
    assert 'id="request-panel"' in body
    assert f'hx-get="/queue/{request_.id}"' in body
    for text in ("Nora Quinn", "Likes the garden", "Penicillin", "Dementia; reminders to drink", request_.center.name):
        assert text in body, text
    assert request_.caregiver.full_name in body
    # Best first: the free, matching provider; the one with a clash last.
    assert body.index("Alex Morgan") < body.index("Cy Elsewhere") < body.index("Bea Busy")
    best = row(response, f"suggestion-{worker.id}")
    for reason in ("Available the whole time", f"Works at {request_.center.name}", "Skills: Dementia care"):
        assert reason in best, reason
    assert f'action="/queue/{request_.id}/assign"' in best
    assert f'action="/queue/{request_.id}/offer"' in best
    assert f'name="version" value="{request_.version}"' in best
    assert f'name="provider_id" value="{worker.id}"' in best
    other = row(response, f"suggestion-{elsewhere.id}")
    assert "Outside their availability" in other
    blocked = row(response, f"suggestion-{busy.id}")
    assert "Already has Elena Ruiz&#39;s session then" in blocked
    assert "/assign" not in blocked
    assert "/offer" not in blocked
    assert clash.id  # the clash is the other confirmed session
    # Declining the request is one form with a required reason.
    assert f'action="/queue/{request_.id}/decline"' in body
    assert re.search(r'<input[^>]*id="reason"[^>]*required', body)


def test_assigning_confirms_the_session_and_the_family_sees_it(as_coordinator, as_caregiver, worker):
    session = factories.RespiteSessionFactory(
        recipient=factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile),
        center=worker.center,
        starts_at=(utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0),
        ends_at=(utcnow() + timedelta(days=2, hours=2)).replace(minute=0, second=0, microsecond=0),
    )
    response = as_coordinator.post(
        f"/queue/{session.id}/assign", data={"provider_id": worker.id, "version": session.version}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/queue/{session.id}"
    assert fresh(session).status == S.CONFIRMED
    assert assignment_of(session, worker).status == A.ACCEPTED
    panel = as_coordinator.get(response.headers["Location"])
    assert flashed(panel, "success", f"Alex Morgan is assigned to {session.recipient.full_name}&#39;s session, ")
    assert "Reassign to another provider" in panel.text
    page = as_caregiver.get(f"/sessions/{session.id}").text
    assert "Confirmed" in page
    assert "Alex Morgan" in page


def test_assigning_outside_availability_warns(as_coordinator, request_):
    off_hours = factories.ProviderProfileFactory(center=request_.center, user__display_name="Dee Off")
    response = as_coordinator.post(
        f"/queue/{request_.id}/assign",
        data={"provider_id": off_hours.id, "version": request_.version},
        follow_redirects=True,
    )
    assert ("warning", "This is outside Dee Off&#39;s availability.") in flashes(response)
    assert fresh(request_).status == S.CONFIRMED


def test_an_offer_is_accepted_on_the_offers_page_and_confirms_the_session(as_coordinator, as_worker, request_, worker):
    response = as_coordinator.post(
        f"/queue/{request_.id}/offer", data={"provider_id": worker.id, "version": request_.version}
    )
    assert response.status_code == 302
    assert fresh(request_).status == S.REQUESTED
    offer = assignment_of(request_, worker)
    assert offer.status == A.OFFERED
    panel = as_coordinator.get(f"/queue/{request_.id}")
    assert "Offer sent" in row(panel, f"suggestion-{worker.id}")
    assert f'action="/queue/offers/{offer.id}/withdraw"' in row(panel, f"offer-{offer.id}")

    offers = as_worker.get("/offers")
    assert 'id="offers-live"' in offers.text
    card = row(offers, f"offer-{offer.id}")
    assert "Nora Quinn" in card
    assert "Likes the garden" in card
    assert f'action="/offers/{offer.id}/accept"' in card
    assert f'action="/offers/{offer.id}/decline"' in card

    accepted = as_worker.post(f"/offers/{offer.id}/accept")
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == f"/sessions/{request_.id}"
    assert fresh(request_).status == S.CONFIRMED
    assert assignment_of(request_, worker).status == A.ACCEPTED
    page = as_worker.get(accepted.headers["Location"])
    assert flashed(page, "success", "Confirmed: Nora Quinn, ")
    assert f"/offers/{offer.id}/accept" not in as_worker.get("/offers").text


def test_declining_an_offer_needs_a_reason_and_the_coordinator_reads_it(as_coordinator, as_worker, request_, worker):
    offer = factories.AssignmentFactory(session=request_, provider=worker, status=A.OFFERED)
    db.session.commit()
    refused = as_worker.post(f"/offers/{offer.id}/decline", data={"reason": "  "})
    assert refused.status_code == 422
    assert field_error(refused, f"decline-reason-{offer.id}") == (
        "Say why you can't take it, so a coordinator can find someone else."
    )
    assert re.search(rf'<details class="confirm" id="decline-offer-{offer.id}" open>', refused.text)
    assert assignment_of(request_, worker).status == A.OFFERED

    response = as_worker.post(f"/offers/{offer.id}/decline", data={"reason": "Visiting my mother that week"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/offers"
    assert (assignment_of(request_, worker).status, assignment_of(request_, worker).reason) == (
        A.DECLINED,
        "Visiting my mother that week",
    )
    queue = as_coordinator.get("/queue")
    assert "Visiting my mother that week" in row(queue, f"request-{request_.id}")
    assert "Declined this session: Visiting my mother that week" in row(
        as_coordinator.get(f"/queue/{request_.id}"), f"suggestion-{worker.id}"
    )


def test_declining_a_request_shows_the_reason_to_the_family(as_coordinator, as_caregiver):
    session = factories.RespiteSessionFactory(
        recipient=factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile)
    )
    db.session.commit()
    missing = as_coordinator.post(f"/queue/{session.id}/decline", data={"reason": "", "version": session.version})
    assert missing.status_code == 422
    assert field_error(missing, "reason") == "Say why, so the family knows what to do next."
    assert '<details class="confirm" id="decline-request" open>' in missing.text

    response = as_coordinator.post(
        f"/queue/{session.id}/decline",
        data={"reason": "No provider speaks Tagalog that day", "version": session.version},
    )
    assert response.status_code == 302
    assert fresh(session).status == S.DECLINED
    page = as_caregiver.get(f"/sessions/{session.id}").text
    assert "Declined" in page
    assert "Reason: No provider speaks Tagalog that day" in page
    panel = as_coordinator.get(f"/queue/{session.id}").text
    assert "Nothing to arrange: this session is declined." in panel
    assert "/decline" not in panel


def test_reassigning_moves_the_session_and_tells_the_first_provider_why(as_coordinator, request_, worker):
    request_.status = S.CONFIRMED
    factories.AssignmentFactory(session=request_, provider=worker, status=A.ACCEPTED)
    second = free_all_week(factories.ProviderProfileFactory(center=request_.center, user__display_name="Bo Second"))
    db.session.flush()
    panel = as_coordinator.get(f"/queue/{request_.id}")
    assert "Has this session now" in row(panel, f"suggestion-{worker.id}")
    assert f'form="reassign-form" name="provider_id" value="{second.id}"' in row(panel, f"suggestion-{second.id}")
    response = as_coordinator.post(
        f"/queue/{request_.id}/reassign",
        data={"provider_id": second.id, "reason": "Alex is unwell", "version": request_.version},
    )
    assert response.status_code == 302
    assert fresh(request_).status == S.CONFIRMED
    assert assignment_of(request_, second).status == A.ACCEPTED
    first = assignment_of(request_, worker)
    assert (first.status, first.reason) == (A.CANCELLED, "Alex is unwell")
    page = as_coordinator.get(response.headers["Location"]).text
    assert "Bo Second now has Nora Quinn&#39;s session" in page


def test_withdrawing_an_offer(as_coordinator, as_worker, request_, worker):
    offer = factories.AssignmentFactory(session=request_, provider=worker, status=A.OFFERED)
    response = as_coordinator.post(f"/queue/offers/{offer.id}/withdraw", data={"version": request_.version})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/queue/{request_.id}"
    assert assignment_of(request_, worker).status == A.CANCELLED
    assert f"offer-{offer.id}" not in as_worker.get("/offers").text


def test_an_accepted_assignment_is_not_withdrawn_as_an_offer(as_coordinator, request_, worker):
    request_.status = S.CONFIRMED
    accepted = factories.AssignmentFactory(session=request_, provider=worker, status=A.ACCEPTED)
    db.session.commit()
    response = as_coordinator.post(f"/queue/offers/{accepted.id}/withdraw")
    assert response.status_code == 422
    assert "This offer is no longer open: it was accepted." in response.text
    assert assignment_of(request_, worker).status == A.ACCEPTED


def test_a_provider_takes_an_open_request_that_fits(as_worker, request_, worker):
    offers = as_worker.get("/offers").text
    assert "Open requests that fit you" in offers
    assert f'action="/offers/take/{request_.id}"' in offers
    assert "Nora Q." in offers  # the person's first name and initial, before the session is theirs
    assert "<dt>Your skills it needs</dt><dd>Dementia care</dd>" in offers
    response = as_worker.post(f"/offers/take/{request_.id}", data={"version": request_.version})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sessions/{request_.id}"
    assert fresh(request_).status == S.CONFIRMED
    assert assignment_of(request_, worker).status == A.ACCEPTED


def test_taking_requests_can_be_switched_off(app, monkeypatch, as_worker, request_):
    monkeypatch.setitem(app.config, "PROVIDERS_MAY_TAKE_OPEN_REQUESTS", False)
    assert "Open requests that fit you" not in as_worker.get("/offers").text
    db.session.commit()
    assert as_worker.post(f"/offers/take/{request_.id}", data={"version": request_.version}).status_code == 403
    assert fresh(request_).status == S.REQUESTED


# --- Refusals land where the user acted --------------------------------------------------------


def test_double_booking_is_refused_in_place_naming_the_clash(as_coordinator, request_, worker):
    clash = held_elsewhere(worker, request_)
    db.session.commit()
    response = as_coordinator.post(
        f"/queue/{request_.id}/assign", data={"provider_id": worker.id, "version": request_.version}
    )
    assert response.status_code == 422
    message = "Alex Morgan already has a session then: Elena Ruiz, "
    assert f'<div class="form-errors" role="alert"><p>{message}' in response.text
    assert f"(session {clash.id})." in row(response, f"suggestion-{worker.id}")
    assert fresh(request_).status == S.REQUESTED
    assert assignment_of(request_, worker) is None
    assert audit_rows("session.assign") == []


def test_a_stale_page_is_told_what_the_request_is_now(as_coordinator, request_, worker):
    other = free_all_week(factories.ProviderProfileFactory(center=request_.center, user__display_name="Bo Second"))
    seen = request_.version
    db.session.commit()
    # Another coordinator assigns Alex first.
    assert (
        as_coordinator.post(f"/queue/{request_.id}/assign", data={"provider_id": worker.id, "version": seen})
    ).status_code == 302
    response = as_coordinator.post(f"/queue/{request_.id}/offer", data={"provider_id": other.id, "version": seen})
    assert response.status_code == 422
    assert f"{STALE_MESSAGE} It is now confirmed with Alex Morgan." in response.text
    # The page shows the request as it is now: confirmed, with the reassigning form on the current version.
    assert "Reassign to another provider" in response.text
    assert f'name="version" value="{fresh(request_).version}"' in response.text
    assert assignment_of(request_, other) is None


def test_htmx_posts_answer_the_panel_region_in_place(as_coordinator, request_, worker):
    db.session.commit()
    offered = as_coordinator.post(
        f"/queue/{request_.id}/offer", data={"provider_id": worker.id, "version": request_.version}, headers=HTMX
    )
    assert offered.status_code == 200
    assert offered.text.lstrip().startswith('<div id="request-panel"')
    assert "<html" not in offered.text
    assert 'class="flash flash-success">Offered to Alex Morgan: Nora Quinn' in offered.text
    again = as_coordinator.post(
        f"/queue/{request_.id}/offer", data={"provider_id": worker.id, "version": request_.version}, headers=HTMX
    )
    assert again.status_code == 422
    assert again.text.lstrip().startswith('<div id="request-panel"')
    assert "Alex Morgan has this offer already." in row(again, f"suggestion-{worker.id}")


def test_a_post_without_a_provider_is_refused_in_place(as_coordinator, request_):
    db.session.commit()
    response = as_coordinator.post(f"/queue/{request_.id}/assign", data={"version": request_.version})
    assert response.status_code == 422
    assert "Choose a provider." in response.text
    assert fresh(request_).status == S.REQUESTED


def test_accepting_a_withdrawn_offer_says_so_on_the_offers_page(as_worker, request_, worker):
    offer = factories.AssignmentFactory(
        session=request_, provider=worker, status=A.CANCELLED, reason="The offer was withdrawn."
    )
    db.session.commit()
    response = as_worker.post(f"/offers/{offer.id}/accept")
    assert response.status_code == 422
    assert "This offer is no longer open: The offer was withdrawn." in response.text
    assert fresh(request_).status == S.REQUESTED


# --- The program calendar page -----------------------------------------------------------------


def test_the_program_page_shows_the_week_with_links_that_swap_the_region(as_coordinator):
    body = as_coordinator.get("/program?week=2026-10-28").text
    assert 'id="program-live"' in body
    assert "Mon 26 Oct – Sun 1 Nov 2026" in body
    for week in ("2026-10-19", "2026-11-02"):
        href = f"/program?week={week}&amp;by=center"
        assert f'href="{href}" hx-get="{href}" hx-target="#program-live" hx-swap="outerHTML" hx-push-url="true"' in (
            body
        )
    region = as_coordinator.get("/program?week=2026-11-02&by=provider", headers=HTMX).text
    assert region.lstrip().startswith('<div id="program-live"')
    assert "Mon 2 Nov – Sun 8 Nov 2026" in region


def test_going_back_to_a_pushed_week_gets_the_whole_page(as_coordinator):
    restore = {**HTMX, "HX-History-Restore-Request": "true"}
    assert "<html" in as_coordinator.get("/program?week=2026-11-02", headers=restore).text


@pytest.mark.parametrize("query", ["week=2026-13-01", "week=someday", "week=1066-10-14", "by=mood"])
def test_a_week_or_grouping_that_is_none_is_not_found(as_coordinator, query):
    assert as_coordinator.get(f"/program?{query}").status_code == 404


# --- Statement budgets -----------------------------------------------------------------------


def budget_request():
    start = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    return factories.RespiteSessionFactory(starts_at=start, ends_at=start + timedelta(hours=3))


def test_queue_statement_budget(as_coordinator):
    def add(n):
        for day in range(n):
            start = utcnow() + timedelta(days=1 + day)
            session = factories.RespiteSessionFactory(starts_at=start, ends_at=start + timedelta(hours=2))
            factories.AssignmentFactory(session=session, status=A.OFFERED)
            confirmed = factories.RespiteSessionFactory(
                starts_at=start, ends_at=start + timedelta(hours=2), status=S.CONFIRMED
            )
            with_card(confirmed.recipient, needs="Walks")
            factories.AssignmentFactory(session=confirmed, status=A.ACCEPTED)

    assert_statement_budget(as_coordinator, "/queue", add, 5 + NAV)
    assert_statement_budget(as_coordinator, "/queue", add, 5, headers=HTMX)


def test_panel_statement_budget_with_more_providers(as_coordinator):
    session = budget_request()

    def add(n):
        for _ in range(n):
            free_all_week(factories.ProviderProfileFactory(center=session.center))

    assert_statement_budget(as_coordinator, f"/queue/{session.id}", add, 7 + NAV)


def test_panel_statement_budget_with_more_sessions(as_coordinator):
    session = budget_request()
    factories.AssignmentFactory(session=session, status=A.OFFERED)

    def add(n):
        for _ in range(n):
            other = factories.RespiteSessionFactory(
                starts_at=session.starts_at, ends_at=session.ends_at, status=S.CONFIRMED
            )
            factories.AssignmentFactory(session=other, provider=free_all_week(factories.ProviderProfileFactory()))

    assert_statement_budget(as_coordinator, f"/queue/{session.id}", add, 7 + NAV)


@pytest.mark.parametrize("by", ["center", "provider"])
def test_program_statement_budget(as_coordinator, by):
    zone = zone_or_utc(as_coordinator.user.timezone)
    monday = calendar.this_monday(zone) + timedelta(days=14)

    def add(n):
        for number in range(n):
            day = monday + timedelta(days=number % 7)
            start = datetime.combine(day, time(9), zone)
            session = factories.RespiteSessionFactory(starts_at=start, ends_at=start + timedelta(hours=2))
            if number % 2:
                session.status = S.CONFIRMED
                factories.AssignmentFactory(session=session, provider=free_all_week(factories.ProviderProfileFactory()))

    path = f"/program?week={monday.isoformat()}&by={by}"
    assert_statement_budget(as_coordinator, path, add, 6 + NAV, small=2, large=50)


def test_offers_statement_budget(as_worker, worker):
    start = utcnow() + timedelta(days=2)

    def add(n):
        for _ in range(n):
            offered = factories.RespiteSessionFactory(
                center=worker.center, starts_at=start, ends_at=start + timedelta(hours=1)
            )
            factories.AssignmentFactory(session=offered, provider=worker, status=A.OFFERED)
            factories.RespiteSessionFactory(center=worker.center, starts_at=start, ends_at=start + timedelta(hours=1))

    assert_statement_budget(as_worker, "/offers", add, 7 + NAV)


def test_a_request_far_ahead_waits_off_the_offers_page(as_worker, worker):
    far = utcnow() + timedelta(days=700)
    session = factories.RespiteSessionFactory(center=worker.center, starts_at=far, ends_at=far + timedelta(hours=2))
    response = as_worker.get("/offers")
    assert response.status_code == 200
    assert f"/offers/take/{session.id}" not in response.text
