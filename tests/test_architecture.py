"""The shape every feature copies, checked: one unit of work, dependencies that point one way, one htmx idiom."""

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from respite.extensions import db
from respite.models import AssignmentStatus, Role, SessionStatus
from respite.realtime import EventType

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "respite"
MODULES = sorted(PACKAGE.rglob("*.py"))

# Where a transaction may end: a request's view (the event stream is one), a CLI command, and
# where refusals are audited although the request fails (the role guard, the error handlers).
ENTRY_POINTS = {"views.py", "cli.py", "web/access.py", "web/errors.py", "realtime/stream.py"}


def relative(path):
    return path.relative_to(PACKAGE).as_posix()


def is_entry_point(path):
    name = relative(path)
    return name in ENTRY_POINTS or name.endswith("/views.py")


def calls_to(tree, method):
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method
    ]


def imports(tree):
    """(module, names) for each `from X import a, b` (module resolved against the package)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield 0, alias.name, []


def absolute(path, level, module):
    if level == 0:
        return module
    parts = ["respite", *path.relative_to(PACKAGE).with_suffix("").parts]
    base = parts[: len(parts) - level]
    return ".".join(base + ([module] if module else []))


def area(dotted):
    """The package under respite a module belongs to ('scheduling' for respite.scheduling.services)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("path", MODULES, ids=relative)
def test_only_entry_points_commit(path):
    commits = calls_to(ast.parse(path.read_text()), "commit")
    if not is_entry_point(path):
        assert commits == [], f"{relative(path)} commits on line(s) {commits}: services flush; the caller commits"


def test_the_entry_points_are_where_the_commits_are():
    committing = {relative(p) for p in MODULES if calls_to(ast.parse(p.read_text()), "commit")}
    assert committing, "some entry point must commit"
    assert all(is_entry_point(PACKAGE / name) for name in committing)


@pytest.mark.parametrize("path", [p for p in MODULES if p.name == "services.py"], ids=relative)
def test_services_never_import_forms_or_views(path):
    for level, module, names in imports(ast.parse(path.read_text())):
        target = absolute(path, level, module)
        imported = [target] + [f"{target}.{n}" for n in names]
        assert not any(re.search(r"\.(forms|views)$", name) for name in imported), (
            f"{relative(path)} imports {target}: services must not depend on forms or views"
        )


@pytest.mark.parametrize("path", MODULES, ids=relative)
def test_no_module_imports_another_packages_private_names(path):
    own_area = area(absolute(path, 1, ""))
    for level, module, names in imports(ast.parse(path.read_text())):
        target = absolute(path, level, module)
        if not target.startswith("respite") or area(target) == own_area:
            continue
        private = [n for n in names if n.startswith("_")]
        private += [part for part in target.split(".") if part.startswith("_") and part != "__init__"]
        assert private == [], f"{relative(path)} imports private {private} from {target}"


def test_the_login_manager_is_set_up_with_the_extensions():
    source = (PACKAGE / "extensions.py").read_text()
    assert "user_loader" in source
    for path in MODULES:
        if path.name == "views.py":
            assert "login_manager" not in path.read_text(), f"{relative(path)} configures the login manager"


def test_event_types_are_declared_once_and_handed_to_the_page(as_caregiver):
    script = (ROOT / "static" / "js" / "app.js").read_text()
    assert not [t for t in EventType if f'"{t}"' in script], "app.js must read the event types from the page"
    body = as_caregiver.get("/caregiver").text
    declared = re.search(r'data-event-types="([^"]*)"', body).group(1).split()
    assert declared == [str(t) for t in EventType]


def test_htmx_sends_the_csrf_token_once_from_the_body(as_caregiver):
    body = as_caregiver.get("/caregiver").text
    assert re.search(r"<body[^>]*hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", body)


# --- Statuses: the database's checks are built from the enums -----------------------------


def allowed_values(table, column, dialect):
    """The values the database's check constraint allows in `table.column`."""
    if dialect == "sqlite":
        sql = db.session.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
        ).scalar_one()
        return set(re.findall(r"'([a-z_]+)'", re.search(rf"\b{column} IN \(([^)]*)\)", sql).group(1)))
    definitions = db.session.execute(
        text(
            "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = :t AND c.contype = 'c'"
        ),
        {"t": table},
    ).scalars()
    (definition,) = [d for d in definitions if re.search(rf"\(\(?{column}\)?::text = ANY", d)]
    return set(re.findall(r"'([a-z_]+)'", definition))


@pytest.mark.parametrize(
    ("table", "column", "enum"),
    [
        ("respite_session", "status", SessionStatus),
        ("assignment", "status", AssignmentStatus),
        ("user_account", "role", Role),
    ],
)
def test_the_migrated_check_constraint_allows_exactly_the_enums_values(dialect, table, column, enum):
    assert allowed_values(table, column, dialect) == {str(v) for v in enum}
