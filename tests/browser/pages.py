"""What a journey does on every page: check it and save a screenshot.

`visit(page, name)` is the one call a journey makes after it lands somewhere.
It fails on a console error or uncaught exception the page logged (collected
by `page_for` in conftest; `allow_console_errors` lets a journey that breaks
something on purpose name what it expects), on anything that scrolls sideways
(the page, or content inside a box), and on a serious axe-core finding. The
page remembers whose it is and at what size, so the screenshot is
<role>-<name>-<size>.png in SCREENSHOTS_DIR: test-results/screenshots/ (ignored
by git) unless set; `make screenshots` sets it to docs/screenshots/.
"""

import email
import email.policy
import os
import re
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, expect

from respite.demo import ACCOUNTS

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
# Relative to the project; an absolute path stays as it is.
SCREENSHOTS = ROOT / os.environ.get("SCREENSHOTS_DIR", "test-results/screenshots")

SIZES = {
    "phone": {"width": 360, "height": 740},
    "desktop": {"width": 1366, "height": 768},
    "tablet": {"width": 1280, "height": 800},
    "tablet-small": {"width": 1024, "height": 768},
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


@dataclass
class ConsoleLog:
    """A page's console errors and uncaught exceptions, and the ones its journey expects."""

    errors: list = field(default_factory=list)
    allowed: list = field(default_factory=list)  # (compiled pattern, why)

    def unexpected(self):
        return [e for e in self.errors if not any(pattern.search(e) for pattern, _ in self.allowed)]


_info = weakref.WeakKeyDictionary()
_console = weakref.WeakKeyDictionary()
# Lesser axe findings (minor, moderate): reported at the end of the run, not failed on.
advisories = []


def remember(page: Page, role, size, javascript=True):
    _info[page] = PageInfo(role, size, javascript)


def info(page: Page):
    return _info.get(page, PageInfo("visitor", "desktop"))


def visit(page: Page, name, *, full_page=None, settle_live=True):
    """Check the page (console, sideways scrolling, axe) and save its screenshot; return its path.

    A signed-in page first waits for its live stream to open (unless
    settle_live=False), so that the checks and the screenshot see the steady state.
    """
    if settle_live and info(page).javascript and page.locator("body[data-live]").count():
        expect(page.locator(".live-status")).to_have_attribute("data-state", "open", timeout=LIVE_TIMEOUT_MS)
    check_console(page, name)
    check_no_sideways_scroll(page, name)
    check_accessibility(page, name)
    return screenshot(page, name, full_page=full_page)


def where(page: Page, name):
    who = info(page)
    return f"{who.role}-{name}-{who.size} ({page.url})"


# --- Console errors ------------------------------------------------------------------


def watch_console(page: Page):
    """Collect the page's console errors and uncaught exceptions (page_for calls this on every page)."""
    log = _console[page] = ConsoleLog()

    def on_console(message):
        if message.type == "error":
            source = message.location.get("url") or "?"
            log.errors.append(f"console.error: {message.text} (at {source})")

    def on_page_error(error):
        log.errors.append(f"uncaught {error.name or 'error'}: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)


def allow_console_errors(page: Page, pattern, *, why):
    """Expect console errors matching `pattern` (a regex, searched in the text and the source URL).

    Only for a journey that breaks or refuses something on purpose (stops Redis,
    sends a wrong password); `why` says what, and shows in the failure message
    if other errors occur. It holds for the rest of the page's life: keep it narrow.
    """
    _console[page].allowed.append((re.compile(pattern), why))


def check_console(page: Page, name="page"):
    """Fail on console errors or uncaught exceptions the page logged since the last check."""
    log = _console.get(page)
    if log is None:
        return
    unexpected = log.unexpected()
    log.errors.clear()  # each one is reported once, at the first visit after it happened
    if unexpected:
        lines = [f"console: {len(unexpected)} error(s) logged on {where(page, name)} or before it"]
        lines += [f"- {error}" for error in unexpected]
        lines += [f"  (expected, so not failed on: /{p.pattern}/ because {why})" for p, why in log.allowed]
        raise AssertionError("\n".join(lines))


def unreported_console_errors(page: Page):
    """The unexpected errors logged after the page's last visit (page_for checks them at the end)."""
    log = _console.get(page)
    return log.unexpected() if log else []


# --- Sideways scrolling -----------------------------------------------------------------

# Boxes whose content is wider than they are and scrolls or is cut off: overflow-x
# auto/scroll/hidden/clip. Text fields scroll their value by design, and a visually
# hidden element (1px wide, or clipped) is meant to cut its content off.
SIDEWAYS = """() => {
    const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + Array.from(el.classList, (c) => "." + c).join("");
    const path = (el) => {
        const names = [];
        for (let at = el; at && at !== document.body; at = at.parentElement) names.unshift(name(at));
        return names.slice(-4).join(" > ");
    };
    const doc = document.documentElement;
    const viewport = doc.clientWidth;
    const found = { viewport, scrollWidth: doc.scrollWidth, sticking: [], boxes: [] };
    const inBox = new WeakSet();  // inside a box that scrolls or clips: can't widen the page
    for (const el of document.body.querySelectorAll("*")) {  // parents before children
        const style = getComputedStyle(el);
        if (style.display === "none") continue;
        const box = el.getBoundingClientRect();
        const parent = el.parentElement.getBoundingClientRect();
        const out = (r) => r.right > viewport + 1 || r.left < -1;
        // What sticks out: the outermost element whose box reaches past an edge, or an
        // element whose own text does (a long word spills out of a box that fits).
        const text = Array.from(el.childNodes, (node) => {
            if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) return null;
            const range = document.createRange();
            range.selectNodeContents(node);
            return range.getBoundingClientRect();
        }).find((r) => r && out(r));
        if (inBox.has(el.parentElement)) {
            inBox.add(el);
        } else if (out(box) && box.width > 1 && !out(parent)) {
            found.sticking.push(`${path(el)}: left ${Math.round(box.left)}, width ${Math.round(box.width)}`);
        } else if (text) {
            const [from, to] = [Math.round(text.left), Math.round(text.right)];
            found.sticking.push(`${path(el)}: its text runs from ${from} to ${to}`);
        }
        if (!["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) continue;
        inBox.add(el);
        if (el.matches("input, textarea, select")) continue;
        if (el.clientWidth <= 1 || style.clip !== "auto" || style.clipPath !== "none") continue;
        if (el.scrollWidth > el.clientWidth + 1) {
            found.boxes.push(`${path(el)}: content ${el.scrollWidth}px wide in a box ${el.clientWidth}px wide `
                + `(overflow-x: ${style.overflowX})`);
        }
    }
    return found;
}"""


def check_no_sideways_scroll(page: Page, name="page"):
    """Fail when the page is wider than the screen, or content scrolls or is cut off sideways inside a box."""
    found = page.evaluate(SIDEWAYS)
    problems = []
    if found["scrollWidth"] > found["viewport"]:
        problems.append(f"the page is {found['scrollWidth']}px wide on a {found['viewport']}px screen; sticking out:")
        problems += [f"    {line}" for line in found["sticking"][:10] or ["(no single element found)"]]
    if found["boxes"]:
        problems.append("content wider than its box (scrolls sideways, or is cut off):")
        problems += [f"    {line}" for line in found["boxes"][:10]]
    if problems:
        raise AssertionError(f"sideways scrolling on {where(page, name)}\n" + "\n".join(problems))
    return found


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
    place = where(page, name)
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    for v in violations:
        if v["impact"] not in FAILING_IMPACTS:
            advisories.append(f"{place}: {v['id']} [{v['impact']}] {v['help']}")
    if failing:
        raise AssertionError(f"axe: {len(failing)} serious/critical violation(s) on {place}\n" + describe(failing))
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


# --- Mail --------------------------------------------------------------------------
# Without MAIL_SERVER the server writes each message to its instance folder (respite.mail); the
# session's live server sets where, so a journey can open the link a person would find in their inbox.

mail_folder: Path | None = None


def open_mailed_link(page: Page, to, *, timeout=10.0):
    """Go to the link in the newest message to `to`, waiting for it to arrive."""
    assert mail_folder is not None, "the live server sets pages.mail_folder"
    deadline = time.monotonic() + timeout
    while True:
        for path in sorted(mail_folder.glob("*.eml"), key=lambda p: int(p.stem), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == to:
                url = re.search(r"https?://\S+", message.get_content()).group(0)
                page.goto("/" + url.split("/", 3)[3])
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {to} in {mail_folder}")
        time.sleep(0.1)


def finish_sign_up(page: Page, to):
    """After "Create account": the email's link, then the button that makes the account."""
    expect(page).to_have_url(re.compile(r"/email-sent/sign_up$"))
    open_mailed_link(page, to)
    page.get_by_role("button", name="Create my account", exact=True).click()
