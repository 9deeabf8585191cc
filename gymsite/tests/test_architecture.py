"""Imports run one way: each app stands only on the apps below it.

The layers are the map in docs/architecture.md ("Where things live"). An app may
import its own modules and any app in a lower layer; apps in the same layer do not
import each other, so no cycle can form. The roof (settings, root urls, the API's url
list, the Celery app) sees every app and is left out; so are migrations and tests,
which prove an app's behaviour through the apps that use it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LAYERS: list[tuple[str, ...]] = [
    ("gymsite",),
    ("accounts",),
    ("billing",),
    ("memberships",),
    ("classes",),
    ("bookings",),
    ("access", "inventory"),
    ("staff",),
    ("reports",),
    ("assistant",),
]

ROOF = {
    "gymsite/settings.py",
    "gymsite/urls.py",
    "gymsite/api/urls.py",
    "gymsite/celery.py",
}

LEVEL = {app: level for level, apps in enumerate(LAYERS) for app in apps}


def imported_apps(source: str) -> list[tuple[int, str]]:
    """(line, top-level app) for every absolute import of a project app in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.extend((node.lineno, name.split(".")[0]) for name in names)
    return [(line, app) for line, app in found if app in LEVEL]


def violations(root: Path) -> list[str]:
    """Every import of an app above (or beside) the importing one, as readable lines."""
    found = []
    for app in LEVEL:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if "/migrations/" in relative or "/tests/" in relative or relative in ROOF:
                continue
            for line, target in imported_apps(path.read_text()):
                if target == app:
                    continue
                if LEVEL[target] >= LEVEL[app]:
                    found.append(f"{relative}:{line} imports {target} (layer {LEVEL[target]})")
    return found


def test_every_app_imports_only_the_apps_below_it():
    assert violations(ROOT) == []


def test_every_app_with_code_has_a_layer():
    apps = {
        path.parent.name
        for path in ROOT.glob("*/apps.py")
        if (path.parent / "__init__.py").exists()
    }
    assert apps - set(LEVEL) == set(), "add the new app to LAYERS and docs/architecture.md"


def test_no_import_error_fallback_for_an_installed_app():
    for app in LEVEL:
        for path in (ROOT / app).rglob("*.py"):
            if "/migrations/" in path.as_posix():
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Try) and any(
                    isinstance(handler.type, ast.Name) and handler.type.id == "ImportError"
                    for handler in node.handlers
                ):
                    imported = {target for stmt in node.body for _, target in _apps_in(stmt)}
                    assert not imported, f"{path}: except ImportError around {imported}"


def _apps_in(stmt):
    return imported_apps(ast.unparse(stmt))


@pytest.mark.parametrize(
    ("app", "line", "expected"),
    [
        ("classes", "from bookings.models import Booking", ["imports bookings"]),
        ("classes", "import bookings.services", ["imports bookings"]),
        ("access", "from inventory import services", ["imports inventory"]),
        ("gymsite", "from accounts.models import User", ["imports accounts"]),
        ("bookings", "from classes.models import ClassSession", []),
        ("classes", "from .models import ClassSession", []),
    ],
)
def test_the_check_catches_an_upward_import(tmp_path, app, line, expected):
    # given a tree with one module of ``app`` holding ``line`` inside a function
    module = tmp_path / app / "services.py"
    module.parent.mkdir()
    module.write_text(f"def f():\n    {line}\n")

    # when the tree is checked
    found = violations(tmp_path)

    # then an upward or sideways import is reported, a downward or own one is not
    assert [text.split(" (")[0].split(" ", 1)[1] for text in found] == expected
