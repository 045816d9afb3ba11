"""The shape of the code: imports point one way, and order lines change in one place.

Data flows organisation -> orders -> robot. A change that makes orders reach into the
robot, or the organisation into either, fails here before it becomes a cycle.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def python_files(app: str, *, skip=()) -> list[Path]:
    return [
        path
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and path.name not in skip
    ]


def imported_apps(path: Path) -> set[str]:
    apps = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            apps |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            apps.add(node.module.split(".")[0])
    return apps


@pytest.mark.parametrize(
    ("app", "forbidden", "allowed_files"),
    [
        ("orders", {"robot"}, ()),
        # URL configuration and settings wire the apps together; the organisation does not.
        ("portal", {"orders", "robot"}, ("urls.py", "settings.py")),
    ],
)
def test_imports_point_one_way(app, forbidden, allowed_files):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) & forbidden)
        for path in python_files(app, skip=allowed_files)
    }
    assert {path: apps for path, apps in offenders.items() if apps} == {}


def test_the_organisations_models_do_not_point_at_orders():
    source = (ROOT / "portal" / "models.py").read_text()
    assert '"orders.' not in source and '"robot.' not in source


WRITES_TO_LINES = {"change_line_status", "OrderEvent"}


def test_only_orders_changes_order_lines_and_writes_their_timeline():
    """The robot reports what happened through orders.answers; it never sets a line's
    status or writes a timeline event itself."""
    offenders = []
    for path in python_files("robot"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "orders.services":
                used = {alias.name for alias in node.names} & WRITES_TO_LINES
                offenders += [f"{path.name}: imports {name}" for name in used]
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"create", "bulk_create", "update"}
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "objects"
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id in {"OrderEvent", "OrderLine"}
            ):
                offenders.append(
                    f"{path.name}:{node.lineno}: {node.value.value.id}.objects.{node.attr}"
                )
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Attribute)
                and target.attr == "status"
                and isinstance(target.value, ast.Name)
                and target.value.id == "line"
                for target in node.targets
            ):
                offenders.append(f"{path.name}:{node.lineno}: line.status = ...")
    assert offenders == []


def test_cpr_numbers_are_handled_by_one_module():
    """Masking, formatting and finding CPR numbers are written once (portal/cpr.py)."""
    patterns = ('"-xxxx"', "'-xxxx'", "[:6]")
    offenders = [
        f"{path.relative_to(ROOT)}: {pattern}"
        for app in ("portal", "orders", "robot")
        for path in python_files(app, skip=("cpr.py",))
        for pattern in patterns
        if pattern in path.read_text()
    ]
    assert offenders == []


def creates_access_log_rows(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "AccessLog":
                lines.append(node.lineno)
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"create", "bulk_create", "get_or_create", "update_or_create"}
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "objects"
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id == "AccessLog"
        ):
            lines.append(node.lineno)
    return lines


# log_hire_access in orders/hires.py still builds its own rows; it is to call
# log_person_access like every other caller, and then leaves this set.
ACCESS_LOG_WRITERS_TO_MOVE = {"orders/hires.py"}


def test_only_log_person_access_writes_the_access_log():
    """Who saw whose data is written in one place (orders.services.log_person_access), so
    every row has the same fields and none is written about nobody."""
    offenders = {
        f"{path.relative_to(ROOT)}:{line}"
        for app in ("portal", "orders", "robot")
        for path in python_files(app)
        if str(path.relative_to(ROOT)) not in {"orders/services.py", *ACCESS_LOG_WRITERS_TO_MOVE}
        for line in creates_access_log_rows(path)
    }
    assert offenders == set()


def test_only_the_outbox_talks_to_the_mail_server():
    """Every e-mail is recorded and retried by the outbox (orders/notifications.py); a
    send_mail or EmailMessage elsewhere would lose its e-mail when the server is down."""
    offenders = []
    for app in ("portal", "orders", "robot"):
        for path in python_files(app):
            if path == ROOT / "orders" / "notifications.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = {f"{node.module}.{alias.name}" for alias in node.names}
                else:
                    continue
                if any(
                    name.split(".")[0] == "smtplib" or name.startswith("django.core.mail")
                    for name in names
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
