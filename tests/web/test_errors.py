"""Every error answers with a page of the design system (or its fragment for htmx), never a stack trace."""

import re

import pytest
from sqlalchemy import text
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, ImATeapot, ServiceUnavailable, TooManyRequests

from respite.extensions import db
from respite.web.access import public
from tests.helpers import audit_rows


def _assert_error_page(response, code, title):
    body = response.get_data(as_text=True)
    assert response.status_code == code
    assert response.mimetype == "text/html"
    assert body.startswith("<!doctype html>")
    assert f"Error {code}" in body
    assert f"<h1>{title}</h1>" in body
    assert 'href="/">Go to the home page</a>' in body
    assert 'href="/static/css/app.css"' in body  # the design system's own stylesheet
    assert "Traceback" not in body


def test_unknown_url_gets_the_404_page(client):
    response = client.get("/no/such/page")

    _assert_error_page(response, 404, "Page not found")


def test_htmx_request_gets_the_error_fragment_only(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true"})

    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert body.lstrip().startswith('<div class="error-page" role="alert">')
    assert "<html" not in body
    assert "Page not found" in body
    assert "HX-Request" in response.headers["Vary"]


def test_boosted_htmx_navigation_gets_the_whole_error_page(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true", "HX-Boosted": "true"})

    _assert_error_page(response, 404, "Page not found")


def test_wrong_method_gets_405_with_the_allowed_methods(as_caregiver):
    response = as_caregiver.get("/logout")

    _assert_error_page(response, 405, "Not allowed")
    assert "POST" in response.headers["Allow"].split(", ")


def test_refused_page_gets_the_403_page(as_provider):
    response = as_provider.get("/admin/users")

    _assert_error_page(response, 403, "Not allowed")
    assert "ask a coordinator" in response.get_data(as_text=True)


def test_a_body_over_the_limit_gets_413(app, client):
    too_big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)

    response = client.post("/login", data={"email": too_big, "password": "irrelevant"})

    _assert_error_page(response, 413, "Too large")
    assert audit_rows() == []


def _raise_plain_error():
    raise RuntimeError("boom: SELECT password_hash FROM user_account")


def _raise_database_error():
    db.session.execute(text("SELECT secret_column FROM no_such_table"))


@pytest.mark.parametrize("failing_view", [_raise_plain_error, _raise_database_error])
def test_an_exception_in_a_view_gets_the_500_page_without_details(app, client, monkeypatch, failing_view, caplog):
    monkeypatch.setitem(app.view_functions, "dashboards.home", public(failing_view))

    response = client.get("/")

    _assert_error_page(response, 500, "Something went wrong on our side")
    body = response.get_data(as_text=True)
    for leak in ("boom", "SELECT", "no_such_table", "secret_column", "password_hash", "File &#34;", 'File "'):
        assert leak not in body
    # The log has it, for us, under the reference the page gives the person.
    reference = re.search(r"reference <code>([0-9a-f]{12})</code>", body).group(1)
    assert f"unhandled error {reference} on GET /" in caplog.text


def test_after_a_database_error_the_next_request_works(app, as_caregiver, monkeypatch):
    broken = public(_raise_database_error)
    monkeypatch.setitem(app.view_functions, "health.healthz", broken)
    assert as_caregiver.get("/healthz").status_code == 500

    response = as_caregiver.get("/caregiver")

    assert response.status_code == 200


def test_csrf_missing_token_gets_the_400_page(app, client, caregiver, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    response = client.post("/login", data={"email": caregiver.email, "password": "correct horse battery"})

    _assert_error_page(response, 400, "Something in that request was not right")
    assert "CSRF token" not in response.get_data(as_text=True)  # no framework wording on the page
    assert audit_rows("auth.login") == []


def test_csrf_with_the_pages_token_is_accepted(app, client, caregiver, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = client.post(
        "/login", data={"csrf_token": token, "email": caregiver.email, "password": "correct horse battery"}
    )

    assert response.status_code == 302
    assert len(audit_rows("auth.login")) == 1


class _UnusualError(HTTPException):
    code = 599


@pytest.mark.parametrize(
    ("error", "title"),
    [
        (ImATeapot(), "Something in that request was not right"),
        (TooManyRequests(retry_after=60), "Too many tries"),
        (ServiceUnavailable(retry_after=30), "Temporarily unavailable"),
        (_UnusualError(), "Something went wrong on our side"),
    ],
)
def test_every_status_gets_a_page_and_keeps_its_headers(app, client, monkeypatch, error, title):
    def aborting_view():
        raise error

    monkeypatch.setitem(app.view_functions, "dashboards.home", public(aborting_view))

    response = client.get("/")

    assert response.status_code == error.code
    assert f"<h1>{title}</h1>" in response.get_data(as_text=True)
    assert response.headers.get("Retry-After") == (str(error.retry_after) if hasattr(error, "retry_after") else None)


def test_a_refusal_from_the_domain_layer_gets_the_403_page(app, client, monkeypatch):
    def refusing_view():
        raise PermissionError("Only the family may do that.")

    monkeypatch.setitem(app.view_functions, "dashboards.home", public(refusing_view))

    response = client.get("/")

    _assert_error_page(response, 403, "Not allowed")
    assert "Only the family" not in response.get_data(as_text=True)


def test_a_stale_write_gets_the_409_page(app, client, monkeypatch):
    def conflicting_view():
        raise StaleDataError("UPDATE statement on table 'respite_session' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setitem(app.view_functions, "dashboards.home", public(conflicting_view))

    response = client.get("/")

    _assert_error_page(response, 409, "Changed by someone else")
    assert "respite_session" not in response.get_data(as_text=True)


def test_refusals_are_audited_after_rolling_back_what_the_request_changed(app, as_caregiver, monkeypatch):
    from tests import factories

    someone_elses = factories.RespiteSessionFactory()
    assert as_caregiver.post(f"/sessions/{someone_elses.id}/cancel").status_code == 404
    (row,) = audit_rows("access.not_found")
    assert row.actor_id == as_caregiver.user.id
    assert row.meta["view_args"] == {"session_id": someone_elses.id}


def test_an_unknown_address_is_not_audited(client):
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/static/no-such-file.css").status_code == 404
    assert audit_rows("access.not_found") == []


def test_a_failed_csrf_check_is_audited(app, client, caregiver, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client.post("/login", data={"email": caregiver.email, "password": "x"})
    assert len(audit_rows("access.csrf_refused")) == 1


def test_an_anonymous_stream_is_audited(client):
    assert client.get("/events").status_code == 401
    assert [row.summary for row in audit_rows("access.denied")] == ["A live stream was asked for without a sign-in"]
