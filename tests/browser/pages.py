"""What a journey does on every page: check accessibility with axe-core and save a screenshot.

`visit(page, name)` is the one call a journey makes after it lands somewhere;
the page remembers (from `page_for` in conftest) whose it is and at what size,
so the screenshot is docs/screenshots/<role>-<name>-<size>.png.
"""

import re
import weakref
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

from respite.demo import ACCOUNTS

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"

SIZES = {
    "phone": {"width": 360, "height": 740},
    "desktop": {"width": 1366, "height": 768},
    "tablet": {"width": 1280, "height": 800},
}
# Where each role works (see DESIGN.md, "Who uses it, and where").
ROLE_SIZES = {"caregiver": "phone", "provider": "desktop", "coordinator": "desktop", "kiosk": "tablet"}
# The first demo account of each role (respite/demo.py).
DEMO_EMAILS = {}
for _role, _email, _name in ACCOUNTS:
    DEMO_EMAILS.setdefault(_role, _email)
DASHBOARDS = {"caregiver": "/caregiver", "provider": "/provider", "coordinator": "/coordinator", "kiosk": "/kiosk"}

LIVE_TIMEOUT_MS = 10_000

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class PageInfo:
    role: str
    size: str
    javascript: bool = True


_info = weakref.WeakKeyDictionary()
# Lesser axe findings (minor, moderate): reported at the end of the run, not failed on.
advisories = []


def remember(page: Page, role, size, javascript=True):
    _info[page] = PageInfo(role, size, javascript)


def info(page: Page):
    return _info.get(page, PageInfo("visitor", "desktop"))


def visit(page: Page, name, *, full_page=None, settle_live=True):
    """Check the page with axe and save its screenshot; return the screenshot's path.

    A signed-in page first waits for its live stream to open (unless
    settle_live=False), so that the screenshot shows the steady state.
    """
    if settle_live and info(page).javascript and page.locator("body[data-live]").count():
        expect(page.locator(".live-status")).to_have_attribute("data-state", "open", timeout=LIVE_TIMEOUT_MS)
    check_accessibility(page, name)
    return screenshot(page, name, full_page=full_page)


def screenshot(page: Page, name, *, full_page=None):
    who = info(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{who.role}-{name}-{who.size}.png"
    # Phones scroll: show the whole page. Wider screens: what fits the screen keeps files small.
    if full_page is None:
        full_page = who.size == "phone"
    page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
    return path


def run_axe(page: Page):
    """Run axe-core in the page (injected from the vendored file); return its violations."""
    if not info(page).javascript:
        return _run_axe_on_copy(page)
    if not _has_axe(page):
        page.add_script_tag(path=str(AXE_SCRIPT))
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: { type: "tag", values: tags },
                resultTypes: ["violations"],
            });
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({
                    target: n.target.map((t) => (Array.isArray(t) ? t.join(" >>> ") : t)).join(" "),
                    summary: n.failureSummary,
                })),
            }));
        }""",
        AXE_TAGS,
    )


def _run_axe_on_copy(page: Page):
    """axe needs timers, which a page without JavaScript doesn't run.

    So load the very same document, at the same address and size, in a page
    that runs scripts but where the app's own scripts are blocked, and check that.
    """
    html, url = page.content(), page.url
    context = page.context.browser.new_context(viewport=page.viewport_size, bypass_csp=True, reduced_motion="reduce")
    try:
        context.route("**/*.js", lambda route: route.abort())
        context.route(lambda address: address == url, lambda route: route.fulfill(content_type="text/html", body=html))
        copy = context.new_page()
        copy.goto(url)
        remember(copy, info(page).role, info(page).size)
        return run_axe(copy)
    finally:
        context.close()


def _has_axe(page: Page):
    return page.evaluate("() => typeof window.axe === 'object'")


def check_accessibility(page: Page, name="page"):
    """Fail on any serious or critical axe violation, naming the rule, its help and the elements."""
    violations = run_axe(page)
    who = info(page)
    where = f"{who.role}-{name}-{who.size} ({page.url})"
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    for v in violations:
        if v["impact"] not in FAILING_IMPACTS:
            advisories.append(f"{where}: {v['id']} [{v['impact']}] {v['help']}")
    if failing:
        raise AssertionError(f"axe: {len(failing)} serious/critical violation(s) on {where}\n" + describe(failing))
    return violations


def describe(violations):
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            summary = re.sub(r"\s+", " ", node["summary"] or "").strip()
            lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)


def fill_sign_in(page: Page, email, password):
    """Fill the sign-in form and send it, as a person would."""
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in(page: Page, base_url, email, password):
    """Sign in through the real form and wait to leave it."""
    page.goto(base_url + "/login")
    fill_sign_in(page, email, password)
    page.wait_for_url(lambda url: "/login" not in url)
