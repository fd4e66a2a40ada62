"""Development entry point: `flask --app app run` (the Makefile's `make run` does this for you)."""

from respite import create_app

app = create_app()
