"""Live regions: a dashboard answers htmx with just the region that re-fetches itself on events."""

import re

import pytest

from tests import factories

HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    ("client_fixture", "path", "region"),
    [
        ("as_caregiver", "/caregiver", 'id="upcoming"'),
        ("as_provider", "/provider", 'id="provider-sessions"'),
        ("as_coordinator", "/coordinator", 'id="coordinator-queue"'),
    ],
)
def test_region_refetch_returns_the_fragment_only(request, client_fixture, path, region):
    client = request.getfixturevalue(client_fixture)
    fragment = client.get(path, headers=HTMX)
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert region in body
    assert "<html" not in body
    assert 'hx-trigger="sse:' in body
    assert "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize(("client_fixture", "path"), [("as_provider", "/provider")])
def test_boosted_navigation_gets_the_whole_page(request, client_fixture, path):
    client = request.getfixturevalue(client_fixture)
    body = client.get(path, headers={**HTMX, "HX-Boosted": "true"}).get_data(as_text=True)
    assert "<html" in body


def test_provider_region_lists_own_assignments_only(as_provider):
    mine = factories.AssignmentFactory(provider=as_provider.user.provider_profile)
    factories.AssignmentFactory()  # someone else's
    body = as_provider.get("/provider", headers=HTMX).get_data(as_text=True)
    assert mine.session.recipient.full_name in body
    assert len(re.findall(r"<tr[\s>]", body)) == 2  # the header row and mine


def test_coordinator_region_shows_queue_and_counts(as_coordinator):
    session = factories.RespiteSessionFactory(request_notes="Morning, please")
    body = as_coordinator.get("/coordinator", headers=HTMX).get_data(as_text=True)
    assert "Morning, please" in body
    assert session.recipient.full_name in body
    assert "Recent activity" not in body
