from respite.extensions import db
from respite.models import User


def test_signed_in_caregiver_lands_on_dashboard(as_caregiver):
    response = as_caregiver.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert b"Respite hours left this year" in response.data


def test_rollback_isolates_tests():
    assert db.session.query(User).count() == 0
