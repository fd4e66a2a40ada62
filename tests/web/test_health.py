"""The health check: what a load balancer or an operator asks before sending traffic."""

import pytest
import redis
from sqlalchemy.exc import OperationalError

from respite.extensions import db


def test_healthy_when_database_and_redis_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def redis_unreachable(app, monkeypatch):
    monkeypatch.setitem(
        app.extensions, "respite.redis", redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    )


def test_unhealthy_when_redis_is_unreachable(client, redis_unreachable):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "ok", "redis": "unavailable"}


@pytest.fixture
def database_unreachable(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(db.session, "execute", refuse)


def test_unhealthy_when_the_database_fails(client, database_unreachable):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "unavailable", "redis": "ok"}


def test_health_reports_both_failures_to_anyone(client, redis_unreachable, database_unreachable):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.get_json()["status"] == "degraded"
    assert "Location" not in response.headers
