"""The harness checks itself: the accessibility check fails, and says why, on a page that
breaks the rules, with JavaScript on and off."""

import pytest

from .pages import check_accessibility, remember

ADDRESS = "http://harness.invalid/bad-page"
BAD_PAGE = """<!doctype html>
<html lang="en"><head><title>Bad page</title></head>
<body><main><h1>Bad page</h1>
<img id="portrait" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p><a id="faint" href="/" style="color: #bbb; background: #fff">a link no one can read</a></p>
</main></body></html>"""


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_accessibility_check_names_rule_help_and_elements(browser, javascript):
    context = browser.new_context(java_script_enabled=javascript, bypass_csp=True)
    try:
        context.route(ADDRESS, lambda route: route.fulfill(content_type="text/html", body=BAD_PAGE))
        page = context.new_page()
        page.goto(ADDRESS)
        remember(page, "harness", "desktop", javascript)
        with pytest.raises(AssertionError) as failure:
            check_accessibility(page, "bad-page")
    finally:
        context.close()
    message = str(failure.value)
    assert "harness-bad-page-desktop" in message
    assert "image-alt [critical]: Images must have alternative text" in message
    assert "#portrait" in message
    assert "color-contrast [serious]" in message
    assert "#faint" in message
