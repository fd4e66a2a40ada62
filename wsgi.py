"""Production entry point for gunicorn: `gunicorn -c gunicorn.conf.py wsgi:app`.

gevent must patch the standard library before anything else imports it, so
that database, Redis and socket waits yield to other streams.
"""

from gevent import monkey

monkey.patch_all()

from respite import create_app  # noqa: E402

app = create_app()
