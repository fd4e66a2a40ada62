"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

gevent workers hold many idle live-update streams each; workers are recycled
with jitter so they don't all restart at once, and get time to finish on a
graceful stop. Every value can be set from the environment. With REDIS_URL
unset (development), the master runs the embedded Redis the workers share.
"""

import multiprocessing
import os
import subprocess
import sys

bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
# Open connections per worker: each open page holds one stream.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", 2000))
max_requests = int(os.environ.get("MAX_REQUESTS", 20000))
max_requests_jitter = int(os.environ.get("MAX_REQUESTS_JITTER", 2000))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", 30))
timeout = int(os.environ.get("WORKER_TIMEOUT", 60))
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# Behind nginx or a load balancer that sets X-Forwarded-*; the app applies ProxyFix in production.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """With no REDIS_URL, start the embedded Redis once, for all workers (see respite/realtime/shared_redis.py)."""
    if os.environ.get("REDIS_URL"):
        return
    holder = subprocess.Popen(  # noqa: S603 (our own module, by the running interpreter)
        [sys.executable, "-m", "respite.realtime.shared_redis"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = holder.stdout.readline().strip()
    if not url:
        raise RuntimeError("The embedded Redis did not start (see above).")
    os.environ["REDIS_URL"] = url  # the workers inherit it
    # On the arbiter, which outlives this module on a reload (SIGHUP).
    server.embedded_redis = holder


def on_exit(server):
    """The workers have stopped: stop the embedded Redis, if this master started it."""
    holder = getattr(server, "embedded_redis", None)
    if holder is not None:
        holder.stdin.close()
        holder.wait(timeout=30)
