"""Journey 5: the longest name the forms take, with no space to break at, wraps on every page
that shows it, on a phone and a desktop; and each demo role's main pages fit a phone.

`visit()` does the checking: nothing scrolls sideways (the page, or inside a box), no
console errors, no serious axe finding. Below 600px, tables read as stacked cards.
"""

import re
import uuid
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from .pages import finish_sign_up, visit

# 120 characters (the most "Your name" takes) without a space, hyphen or other break.
LONG_NAME = ("Wolfeschlegelsteinhausenbergerdorff" * 4)[:120]
RENAMED = ("Hubertblaineschlegelsteinhausenberger" * 4)[:120]
PASSWORD = "a long name and a short afternoon"


def long_email():
    return f"{'longaddress' * 4}{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page, name, email):
    page.goto("/signup")
    page.get_by_label("Your name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()
    finish_sign_up(page, email)
    expect(page).to_have_url(re.compile(r"/caregiver$"))


def rename(page, name):
    page.goto("/account")
    page.get_by_label("Your name", exact=True).fill(name)
    page.get_by_role("button", name="Save details", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("Your account details are saved.")


def expect_stacked_cards(table, row):
    """On a phone each row is a card: its cells sit one under the other, each labelled with its column."""
    cells = row.get_by_role("cell")
    tops = [cells.nth(i).bounding_box()["y"] for i in range(cells.count())]
    assert tops == sorted(set(tops)), f"cells not stacked one under the other: {tops}"
    headers = table.get_by_role("columnheader").all_inner_texts()
    labels = [cells.nth(i).get_attribute("data-label") for i in range(cells.count())]
    assert labels == [header.strip() for header in headers], (labels, headers)
    shown = cells.first.evaluate("(cell) => getComputedStyle(cell, '::before').content")
    assert labels[0] in shown, shown


def expect_table_semantics(page, name):
    """The browser's accessibility tree still has the table's headers and cells (CSS display can drop them)."""
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    roles = [node.get("role", {}).get("value") for node in tree if not node.get("ignored")]
    missing = {"table", "row", "columnheader", "cell"} - set(roles)
    assert not missing, f"{name}: no {missing} in the accessibility tree, only {set(roles)}"


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_long_name_wraps_everywhere_it_shows(page_for, size):
    email = long_email()

    # A caregiver signs up with the longest name the form takes, then changes it on /account.
    caregiver = page_for("caregiver", size, sign_in=False)
    sign_up(caregiver, LONG_NAME, email)
    expect(caregiver.get_by_role("heading", level=1)).to_have_text(f"Hello, {LONG_NAME}")
    visit(caregiver, "long-name-dashboard")
    rename(caregiver, RENAMED)
    expect(caregiver.locator(".site-user")).to_contain_text(RENAMED)
    visit(caregiver, "long-name-account")
    caregiver.goto("/caregiver")
    visit(caregiver, "long-name-dashboard-renamed")

    # The coordinator sees that person on the dashboard, the People page and the audit log.
    coordinator = page_for("coordinator", size)
    # Each row in words, naming the person as they are called now.
    expect(coordinator.locator("#recent-heading + ul")).to_contain_text(f"{RENAMED} signed up as a family caregiver")
    visit(coordinator, "dashboard-long-name")

    coordinator.goto(f"/admin/users?q={quote(email)}")  # the list comes a page at a time: find them
    people = coordinator.get_by_role("table")
    person = people.get_by_role("row").filter(has_text=email)
    expect(person).to_contain_text(RENAMED)
    visit(coordinator, "people-long-name")
    if size == "phone":
        expect_stacked_cards(people, person)
        expect_table_semantics(coordinator, "people")

    coordinator.goto("/admin/audit?action=sign-ups")
    entries = coordinator.get_by_role("table")
    # The newest sign-up under that name (the phone and desktop runs each make one).
    entry = entries.get_by_role("row").filter(has_text=f"{RENAMED} signed up as a family caregiver").first
    expect(entry.get_by_role("link", name=RENAMED)).to_have_attribute("href", re.compile(r"^/admin/users/\d+$"))
    visit(coordinator, "audit-long-name")
    if size == "phone":
        expect_stacked_cards(entries, entry)
        expect_table_semantics(coordinator, "audit log")


MAIN_PAGES = {
    "coordinator": {"dashboard": "/coordinator", "people": "/admin/users", "audit-log": "/admin/audit"},
    "provider": {"dashboard": "/provider"},
    "caregiver": {"dashboard": "/caregiver", "account": "/account"},
}


@pytest.mark.parametrize("role", MAIN_PAGES)
def test_each_roles_main_pages_fit_a_phone(page_for, role):
    page = page_for(role, "phone")
    for name, path in MAIN_PAGES[role].items():
        page.goto(path)
        visit(page, name)
        if page.locator("table").count():
            row = page.locator("table tbody tr").first
            expect_stacked_cards(page.get_by_role("table"), row)


def test_the_coordinators_navigation_fits_a_phone(page_for):
    """Every item on a 360px screen: they wrap onto rows inside it, each a 44px touch target."""
    page = page_for("coordinator", "phone")
    nav = page.get_by_role("navigation", name="Main")
    items = nav.locator("a[href], button")
    # A link's name, without its count (", 1 new" is read out after "Notices").
    assert [text.split(",")[0].strip() for text in items.all_inner_texts()] == [
        "Home",
        "Queue",
        "Calendar",
        "People",
        "Kiosks",
        "Audit log",
        "Reports",
        "Inbox",
        "Notices",
        "Account",
        "Sign out",
    ]
    width = page.viewport_size["width"]
    for i in range(items.count()):
        box = items.nth(i).bounding_box()
        item = (items.nth(i).inner_text(), box)
        assert min(box["height"], box["width"]) >= 44, item
        assert 0 <= box["x"] <= box["x"] + box["width"] <= width, item
    visit(page, "navigation")
