"""The harness checks itself: the sideways-scrolling and console checks that `visit()` runs
fail, and name what is wrong, on a page that breaks them; and pass what is meant to be so."""

import pytest

from .pages import allow_console_errors, check_console, check_no_sideways_scroll, remember, watch_console

ADDRESS = "http://harness.invalid/"
HIDDEN = "position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap"
WIDE_PAGE = f"""<!doctype html>
<html lang="en"><head><title>Wide page</title></head>
<body style="margin: 0"><main><h1>Wide page</h1>
<p id="name">{"Wolfeschlegelsteinhausenbergerdorff" * 4}</p>
<div class="table-wrap" style="overflow-x: auto; width: 200px">
  <span style="display: inline-block; width: 600px">a</span></div>
<span style="{HIDDEN}">Hidden on purpose, and cut off on purpose</span>
<input aria-label="Name" style="width: 100px" value="{"a long value scrolls inside its own field " * 3}">
</main></body></html>"""
FITTING_PAGE = WIDE_PAGE.replace('<p id="name">', '<p id="name" style="overflow-wrap: anywhere">').replace(
    "width: 600px", "width: 150px"
)
NOISY_PAGE = """<!doctype html>
<html lang="en"><head><title>Noisy page</title></head>
<body><main><h1>Noisy page</h1>
<script>
  console.error("stream lost on purpose");
  console.warn("only a warning");
  setTimeout(() => { throw new TypeError("respite is not defined"); });
</script>
</main></body></html>"""


@pytest.fixture
def harness_page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    remember(page, "harness", "phone")
    watch_console(page)

    def load(html):
        context.route(ADDRESS, lambda route: route.fulfill(content_type="text/html", body=html))
        page.goto(ADDRESS)
        return page

    yield load
    context.close()


def test_sideways_check_names_the_wide_page_and_the_scrolling_box(harness_page):
    page = harness_page(WIDE_PAGE)
    with pytest.raises(AssertionError) as failure:
        check_no_sideways_scroll(page, "wide")
    message = str(failure.value)
    assert "sideways scrolling on harness-wide-phone" in message
    assert "on a 360px screen" in message
    assert "main > p#name: its text runs from 0 to" in message
    assert "main > div.table-wrap: content 600px wide in a box 200px wide (overflow-x: auto)" in message
    # A visually hidden element and a text field cut off their content by design.
    assert "span" not in message
    assert "input" not in message


def test_sideways_check_passes_a_page_that_fits(harness_page):
    page = harness_page(FITTING_PAGE)
    found = check_no_sideways_scroll(page, "fits")
    assert found["scrollWidth"] == found["viewport"] == 360


def test_console_check_names_errors_and_keeps_to_what_a_journey_allows(harness_page):
    page = harness_page(NOISY_PAGE)
    page.wait_for_timeout(100)  # the thrown error comes from a timer
    allow_console_errors(page, r"^console\.error: stream lost on purpose ", why="this page loses it on purpose")
    with pytest.raises(AssertionError) as failure:
        check_console(page, "noisy")
    message = str(failure.value)
    assert "console: 1 error(s) logged on harness-noisy-phone" in message
    assert "- uncaught TypeError: respite is not defined" in message
    assert "- console.error: stream lost" not in message
    assert "because this page loses it on purpose" in message
    assert "only a warning" not in message
    # Each error is reported once: the next check has nothing new to say.
    check_console(page, "noisy")
