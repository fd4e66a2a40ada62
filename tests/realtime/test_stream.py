"""Live updates: who may hear what, when events are published, and what happens without Redis."""

import json
import logging
import time
from datetime import timedelta

import pytest
import redis

from respite import realtime
from respite.extensions import db
from respite.models import RespiteSession, utcnow
from respite.realtime.connection import OutageLog
from tests import factories
from tests.servers import RedisServer


@pytest.fixture
def short_streams(app, monkeypatch):
    monkeypatch.setitem(app.config, "SSE_HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "SSE_STREAM_MAX_SECONDS", 1.0)


@pytest.fixture
def listener(app):
    """A Redis subscriber on a user's channel, to observe what gets published."""
    pubsubs = []

    def listen(channel):
        pubsub = realtime.redis_client(app).pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel)
        pubsubs.append(pubsub)
        return pubsub

    yield listen
    for pubsub in pubsubs:
        pubsub.close()


def received(pubsub, wait=0.5):
    messages = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        item = pubsub.get_message(timeout=0.05)
        if item and item["type"] == "message":
            messages.append(json.loads(item["data"]))
    return messages


def read_stream(response):
    return b"".join(response.response).decode()


def test_stream_needs_sign_in(client):
    response = client.get("/events")
    assert response.status_code == 401
    assert response.mimetype == "text/plain"


def test_channels_come_from_the_signed_in_user(app, caregiver, kiosk):
    assert realtime.channels_for(caregiver) == [realtime.user_channel(caregiver.id)]
    # A kiosk account from before tablets were paired hears its own channel only; a tablet hears its center.
    assert realtime.channels_for(kiosk) == [realtime.user_channel(kiosk.id)]
    tablet = factories.KioskDeviceFactory()
    assert realtime.device_channels(tablet) == [
        realtime.center_channel(tablet.center_id),
        realtime.kiosk_channel(tablet.id),
    ]


def test_stream_carries_own_events_only_whatever_the_client_asks(app, as_caregiver, short_streams):
    other = factories.CaregiverProfileFactory().user
    own = as_caregiver.user
    response = as_caregiver.get(
        f"/events?channel={realtime.user_channel(other.id)}&channels={realtime.user_channel(other.id)}",
        headers={"Last-Event-ID": "1"},
        buffered=False,
    )
    assert response.status_code == 200
    realtime.publish_now(realtime.user_channel(other.id), "message", {"conversation_id": 7})
    realtime.publish_now(realtime.user_channel(own.id), "session", {"session_id": 3})
    body = read_stream(response)
    assert 'event:session\ndata:{"session_id": 3}' in body
    assert "conversation_id" not in body


def test_stream_headers_heartbeat_and_end(app, as_provider, short_streams):
    started = time.monotonic()
    response = as_provider.get("/events", buffered=False)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert response.mimetype == "text/event-stream"
    body = read_stream(response)
    assert body.startswith("retry: 3000\n")
    assert ": heartbeat\n\n" in body
    assert time.monotonic() - started < 5  # the stream ends by itself so the browser re-checks sign-in


def test_a_tablets_stream_hears_its_center_only(app, client, short_streams):
    tablet = factories.KioskDeviceFactory()
    elsewhere = factories.CenterFactory()
    client.set_cookie("respite_kiosk", tablet.token, path="/kiosk")
    response = client.get("/kiosk/events", buffered=False)
    assert response.status_code == 200
    realtime.publish_now(realtime.center_channel(elsewhere.id), "kiosk", {"session_id": 8})
    realtime.publish_now(realtime.center_channel(tablet.center_id), "kiosk", {"session_id": 9})
    body = read_stream(response)
    assert 'event:kiosk\ndata:{"session_id": 9}' in body
    assert '"session_id": 8' not in body


def test_stream_does_not_touch_the_sign_in_session(app, as_caregiver, short_streams):
    response = as_caregiver.get("/events", buffered=False)
    read_stream(response)
    assert "Set-Cookie" not in response.headers


def test_event_is_published_after_commit_only(app, listener):
    pubsub = listener(realtime.user_channel(41))
    realtime.publish_after_commit("session", user_ids=[41], session_id=5)
    assert received(pubsub, wait=0.2) == []
    db.session.commit()
    assert received(pubsub) == [{"data": {"session_id": 5}, "type": "session"}]


def test_rolled_back_change_publishes_nothing(app, listener):
    pubsub = listener(realtime.user_channel(42))
    realtime.publish_after_commit("session", user_ids=[42], session_id=5)
    db.session.rollback()
    db.session.commit()
    assert received(pubsub) == []


@pytest.mark.parametrize(
    ("event_type", "ids", "error"),
    [("gossip", {"session_id": 1}, ValueError), ("session", {"name": "Elena"}, TypeError)],
)
def test_events_name_what_changed_and_carry_no_personal_details(event_type, ids, error):
    with pytest.raises(error):
        realtime.publish_after_commit(event_type, user_ids=[1], **ids)


def test_cancelling_a_session_tells_the_caregiver_page(app, as_caregiver, listener):
    recipient = factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile)
    session = factories.RespiteSessionFactory(recipient=recipient)
    pubsub = listener(realtime.user_channel(as_caregiver.user.id))
    response = as_caregiver.post(f"/sessions/{session.id}/cancel", data={"version": session.version})
    assert response.status_code == 302
    assert received(pubsub) == [{"data": {"session_id": session.id}, "type": "session"}]
    db.session.expire_all()
    assert db.session.get(RespiteSession, session.id).status == "cancelled"
    fragment = as_caregiver.get("/caregiver", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert f"session-{session.id}" not in fragment.get_data(as_text=True)


class TestRedisOutage:
    """A real Redis server, stopped and started during the test."""

    @pytest.fixture
    def own_redis(self, app, monkeypatch, tmp_path):
        server = RedisServer(tmp_path).start()
        client = redis.Redis.from_url(server.url, socket_connect_timeout=0.5, socket_timeout=2)
        monkeypatch.setitem(app.extensions, "respite.redis", client)
        monkeypatch.setitem(app.extensions, "respite.redis_state", OutageLog())
        yield server
        server.stop()

    def test_writes_succeed_and_streams_refuse_fast_while_redis_is_down(self, app, as_caregiver, own_redis, caplog):
        own_redis.stop()
        recipient = factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile)
        # One a day: a person never has two overlapping sessions.
        sessions = [
            factories.RespiteSessionFactory(recipient=recipient, starts_at=utcnow() + timedelta(days=day))
            for day in (1, 2, 3)
        ]
        with caplog.at_level(logging.WARNING, logger="respite.realtime"):
            for session in sessions:
                response = as_caregiver.post(f"/sessions/{session.id}/cancel")
                assert response.status_code == 302
        db.session.expire_all()
        assert {db.session.get(RespiteSession, s.id).status for s in sessions} == {"cancelled"}
        outage_lines = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(outage_lines) == 1

        started = time.monotonic()
        stream = as_caregiver.get("/events")
        assert stream.status_code == 503
        assert stream.headers["Retry-After"]
        assert time.monotonic() - started < 3
        assert as_caregiver.get("/healthz").get_json()["redis"] == "unavailable"

    def test_events_flow_again_when_redis_returns(self, app, own_redis, caplog, short_streams, as_provider):
        own_redis.stop()
        channel = realtime.user_channel(as_provider.user.id)
        assert realtime.publish_now(channel, "ping", {}) is False
        own_redis.start()
        with caplog.at_level(logging.WARNING, logger="respite.realtime"):
            response = as_provider.get("/events", buffered=False)
            assert response.status_code == 200
            assert realtime.publish_now(channel, "session", {"session_id": 1}) is True
        assert "event:session" in read_stream(response)
        assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_past_the_cap_a_new_stream_ends_the_oldest(app, as_caregiver, monkeypatch, short_streams):
    monkeypatch.setitem(app.config, "SSE_STREAMS_PER_USER", 2)
    monkeypatch.setitem(app.config, "SSE_STREAM_MAX_SECONDS", 3.0)
    oldest = as_caregiver.get("/events", buffered=False)
    middle = as_caregiver.get("/events", buffered=False)
    started = time.monotonic()

    newest = as_caregiver.get("/events", buffered=False)

    assert (oldest.status_code, middle.status_code, newest.status_code) == (200, 200, 200)
    read_stream(oldest)  # it ended early: the newest took its place
    assert time.monotonic() - started < 2
    realtime.publish_now(realtime.user_channel(as_caregiver.user.id), "session", {"session_id": 4})
    assert 'data:{"session_id": 4}' in read_stream(newest)
    read_stream(middle)


def test_a_stream_ends_when_its_sign_in_does(app, as_provider, monkeypatch):
    from respite.accounts import signins

    monkeypatch.setitem(app.config, "SSE_HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(signins, "seconds_left", lambda user: 0.5)
    started = time.monotonic()
    response = as_provider.get("/events", buffered=False)
    read_stream(response)
    assert time.monotonic() - started < 3  # not the configured five minutes


def test_what_is_left_of_a_sign_in_counts_the_idle_time_of_staff(app, as_provider, as_caregiver):
    from flask import session

    from respite.accounts import signins

    with app.test_request_context():
        now = int(time.time())
        session[signins.STARTED] = now - 60
        session[signins.SEEN] = now - 60
        lifetime = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
        idle = app.config["STAFF_IDLE_MINUTES"] * 60
        assert abs(signins.seconds_left(as_provider.user) - (idle - 60)) < 5
        assert abs(signins.seconds_left(as_caregiver.user) - (lifetime - 60)) < 5
        session.clear()
        assert signins.seconds_left(as_caregiver.user) == 0
