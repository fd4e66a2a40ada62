"""Two app servers share one database and one Redis: a change made through one
reaches a live stream held open on the other."""

import http.cookiejar
import os
import queue
import re
import threading
import time
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from respite.demo import DEMO_PASSWORD
from tests.helpers import create_scratch_database
from tests.servers import LiveServer, RedisServer, run_flask, server_env


@pytest.fixture(scope="module")
def shared_services(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("two-servers")
    if os.environ.get("TEST_DATABASE_URL"):
        database_url, drop = create_scratch_database("respite_two")
    else:
        database_url, drop = f"sqlite:///{tmp / 'shared.sqlite3'}", lambda: None
    redis_server = None
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        redis_server = RedisServer(tmp).start()
        redis_url = redis_server.url
    env = server_env(
        database_url=database_url, redis_url=redis_url, instance_path=tmp, channel_prefix=f"two-{os.getpid()}"
    )
    run_flask(env, "db", "upgrade")
    run_flask(env, "seed-demo")
    servers = [LiveServer(env, tmp / f"server-{name}.log", name=f"server {name}").start() for name in "AB"]
    yield servers, database_url
    for server in servers:
        server.stop()
    if redis_server:
        redis_server.stop()
    drop()


class Browser:
    """Just enough of a browser: cookies, and the CSRF token from a form."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path, timeout=10):
        return self.opener.open(self.base_url + path, timeout=timeout)

    def post(self, path, form_path, data):
        page = self.get(form_path).read().decode()
        data = dict(data, csrf_token=re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1))
        body = urllib.parse.urlencode(data).encode()
        return self.opener.open(self.base_url + path, data=body, timeout=10)

    def sign_in(self, email):
        response = self.post("/login", "/login", {"email": email, "password": DEMO_PASSWORD})
        assert "/login" not in response.url, "sign-in failed"


@pytest.mark.committing
def test_change_on_server_a_reaches_stream_on_server_b(shared_services):
    (server_a, server_b), database_url = shared_services
    engine = create_engine(database_url)
    with engine.connect() as conn:
        session_id = conn.execute(
            text(
                "SELECT s.id FROM respite_session s JOIN caregiver_profile c ON c.id = s.caregiver_id "
                "JOIN user_account u ON u.id = c.user_id WHERE u.email = 'caregiver@demo.respite.test' "
                "AND s.status = 'requested' ORDER BY s.starts_at LIMIT 1"
            )
        ).scalar_one()
    engine.dispose()

    caregiver = Browser(server_b.base_url)
    caregiver.sign_in("caregiver@demo.respite.test")
    events = queue.Queue()
    stream = caregiver.get("/events", timeout=30)

    def read():
        try:
            for line in stream:
                events.put((time.monotonic(), line.decode().rstrip("\n")))
        except (OSError, ValueError, AttributeError):
            pass  # closed at the end of the test

    threading.Thread(target=read, daemon=True).start()
    assert events.get(timeout=5)[1] == "retry: 3000"  # the stream is open and subscribed

    coordinator = Browser(server_a.base_url)
    coordinator.sign_in("coordinator@demo.respite.test")
    sent_at = time.monotonic()
    response = coordinator.post(f"/sessions/{session_id}/cancel", "/coordinator", {"reason": "Test"})
    assert response.status == 200

    deadline = sent_at + 1.0
    while True:
        received_at, line = events.get(timeout=max(0.01, deadline - time.monotonic()))
        if line == "event:session":
            break
    assert events.get(timeout=1)[1] == f'data:{{"session_id": {session_id}}}'
    assert received_at - sent_at < 1.0
