"""Strange input gets a clear answer, never a 500: control characters in forms, ids beyond the database's range."""

import pytest
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, StringField, TextAreaField

from respite.web.converters import MAX_ID
from respite.web.forms import CONTROL_MESSAGE, Form
from tests.helpers import TEST_PASSWORD, field_error

# Form posts and the text fields each one takes (with otherwise good values).
FORMS = [
    (
        "client",
        "/signup",
        {"display_name": "Rosa", "email": "rosa@example.org", "password": "a long passphrase", "timezone": "UTC"},
    ),
    ("client", "/login", {"email": "rosa@example.org", "password": "a long passphrase"}),
    ("as_caregiver", "/account", {"display_name": "Rosa", "email": "rosa@example.org", "timezone": "UTC"}),
    (
        "as_caregiver",
        "/account/password",
        {"current_password": TEST_PASSWORD, "new_password": "a long passphrase", "confirm": "a long passphrase"},
    ),
    (
        "as_coordinator",
        "/admin/users",
        {"display_name": "Sam", "email": "sam@example.org", "role": "provider", "center_id": "0", "timezone": "UTC"},
    ),
]
CASES = [
    (client, path, data, field, bad)
    for client, path, data in FORMS
    for field in data
    if field not in ("timezone", "role", "center_id", "confirm")
    for bad in ("\x00", "\x1b[31m", "\x7f")
]


@pytest.mark.parametrize(("client_fixture", "path", "data", "field", "bad"), CASES)
def test_control_characters_get_a_field_error(request, client_fixture, path, data, field, bad):
    client = request.getfixturevalue(client_fixture)
    posted = {**data, field: data[field][:3] + bad + data[field][3:]}
    if field == "new_password":
        posted["confirm"] = posted["new_password"]
    response = client.post(path, data=posted)
    assert response.status_code == 422, response.status_code
    assert field_error(response, field) == CONTROL_MESSAGE


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

    from respite.extensions import db
    from tests import factories

    taken = factories.UserFactory(email="taken@example.org")
    secret = "$argon2id$v=19$secret-hash-value"
    nested = db.session.begin_nested()
    db.session.add(factories.UserFactory.build(email=taken.email, password_hash=secret))
    with pytest.raises(IntegrityError) as failure:
        db.session.flush()
    nested.rollback()
    assert secret not in str(failure.value)
    assert "hidden" in str(failure.value)
