"""Real server processes for tests that cross process boundaries: gunicorn with the
project's config, against a database and Redis the test chooses.
"""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def server_env(database_url, redis_url, instance_path, **extra):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        RESPITE_INSTANCE_PATH=str(instance_path),
        SECRET_KEY="live-server-test-secret",
        FLASK_APP="app",
        GRACEFUL_TIMEOUT="2",  # open streams would otherwise hold a stop for 30 s
        **{k: str(v) for k, v in extra.items()},
    )
    return env


def prepare_database(env):
    """Migrate the database and load the demo data, as `make run` does."""
    for args in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(
            [str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120
        )


class LiveServer:
    """gunicorn -c gunicorn.conf.py wsgi:app on a free loopback port."""

    def __init__(self, env, workers=1, log_path=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.workers = workers
        self.log_path = log_path or Path(env["RESPITE_INSTANCE_PATH"]) / f"gunicorn-{self.port}.log"
        self.process = None

    def start(self, timeout=30):
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--access-logfile",
                "-",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not become healthy on {self.url}:\n{self.log_path.read_text()[-4000:]}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if getattr(self, "_log", None):
            self._log.close()
