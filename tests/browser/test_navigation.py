"""Journey 2: each demo role signs in at its size, lands on its own dashboard,
and the navigation works by keyboard alone with a visible focus indicator."""

import re

import pytest
from playwright.sync_api import expect

from .pages import DASHBOARDS, visit

HEADINGS = {
    "caregiver": "Hello, Rosa",
    "provider": "Your upcoming sessions",
    "coordinator": "Program overview",
}

FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])"
)

# What the focused element looks like: enough to tell whether a person can see where focus is.
FOCUS_STATE = """async (baseline) => {
    // Let the frame that shows the focus render first (styles may transition, if only for 0.01 ms).
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    const index = Array.from(document.querySelectorAll(baseline.selector)).indexOf(el);
    return {
        text: (el.innerText || el.getAttribute("aria-label") || "").trim(),
        href: el.getAttribute("href"),
        outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth) || 0,
        boxShadow: style.boxShadow,
        unfocusedBoxShadow: index >= 0 ? baseline.shadows[index] : null,
        onScreen: box.width > 0 && box.height > 0 && box.top >= 0 && box.left >= 0
            && box.bottom <= innerHeight && box.right <= innerWidth,
    };
}"""

BASELINE = """(selector) => ({
    selector,
    shadows: Array.from(document.querySelectorAll(selector)).map((el) => getComputedStyle(el).boxShadow),
})"""


def press_tab(page, baseline):
    page.keyboard.press("Tab")
    return page.evaluate(FOCUS_STATE, baseline)


def assert_focus_visible(state):
    outlined = state["outlineStyle"] != "none" and state["outlineWidth"] >= 2
    ringed = state["boxShadow"] not in ("none", state["unfocusedBoxShadow"])
    assert outlined or ringed, f"no visible focus indicator on {state}"
    assert state["onScreen"], f"focused element is off screen: {state}"


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# The kiosk tablet is no one's sign-in and has no navigation: tests/browser/test_kiosk.py.
@pytest.mark.parametrize("role", ["caregiver", "provider", "coordinator"])
def test_role_lands_on_dashboard_and_navigates_by_keyboard(page_for, role):
    page = page_for(role)
    expect(page).to_have_url(re.compile(rf"{DASHBOARDS[role]}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[role])
    visit(page, "dashboard")

    nav = page.get_by_role("navigation", name="Main")
    nav_items = [text.strip() for text in nav.locator("a[href], button").all_inner_texts()]
    assert nav_items[0] == "Home", nav_items
    assert nav_items[-1] == "Sign out", nav_items

    # From the top of a freshly loaded page, Tab walks: skip link, brand, then the nav in order.
    page.goto(DASHBOARDS[role])
    baseline = page.evaluate(BASELINE, FOCUSABLE)
    walk = [press_tab(page, baseline) for _ in range(2 + len(nav_items))]
    assert [state["text"] for state in walk] == ["Skip to content", "Respite", *nav_items]
    for state in walk:
        assert_focus_visible(state)

    # The skip link moves focus to the main content.
    page.goto(DASHBOARDS[role])
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    # Enter on a nav link follows it: the first that isn't this page.
    # (A fresh load without the #main fragment, which would move where Tab starts.)
    page.goto(DASHBOARDS[role])
    links = [state for state in walk[2:] if state["href"]]
    target = next((s for s in links if s["href"] != DASHBOARDS[role]), links[0])
    for _ in range(1 + [s["text"] for s in walk].index(target["text"])):
        page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text(target["text"])
    page.evaluate("() => { window.respiteBeforeEnter = true; }")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.respiteBeforeEnter === undefined")
    expect(page).to_have_url(re.compile(re.escape(target["href"]) + "$"))
    expect(nav.get_by_role("link", name=target["text"], exact=True)).to_have_attribute("aria-current", "page")
    visit(page, slug(target["text"]))
