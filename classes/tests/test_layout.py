"""classes is the timetable; bookings stands on it, never the other way round."""

import ast
from pathlib import Path

import classes

# The apps that stand on the timetable: classes may import none of them, at module
# level or inside a function (a function-local import is how a cycle hides).
ABOVE = {"memberships", "bookings", "billing", "access", "inventory"}


def imported_apps(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def test_classes_imports_no_app_above_it():
    root = Path(classes.__file__).parent
    wrong = [
        f"{path.relative_to(root.parent)}:{line} imports {app}"
        for path in sorted(root.rglob("*.py"))
        for app, line in imported_apps(path)
        if app in ABOVE
    ]
    assert wrong == []
