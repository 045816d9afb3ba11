"""The project's own tooling: declared dependencies, hashed lock files, documented
settings, CI and lint configuration. Each test names what a developer or an operator
would trip over if it broke."""

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
FIRST_PARTY = {"portal", "orders", "robot", "tests", "bench", "conftest"}
SOURCE_DIRS = ["portal", "orders", "robot", "tests", "bench"]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalise(re.match(r"[A-Za-z0-9._-]+", requirement.strip()).group())


def declared(*extras: str) -> set[str]:
    project = PYPROJECT["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return {requirement_name(r) for r in requirements}


def project_sources():
    for folder in SOURCE_DIRS:
        yield from (ROOT / folder).rglob("*.py")
    yield from ROOT.glob("*.py")


def imported_top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


# --- Dependencies ----------------------------------------------------------------------


def test_every_imported_package_is_declared():
    distributions = packages_distributions()
    allowed = declared("dev")
    undeclared = {}
    for path in project_sources():
        for name in imported_top_level_names(path):
            if name in sys.stdlib_module_names or name in FIRST_PARTY:
                continue
            provided_by = {normalise(d) for d in distributions.get(name, [name])}
            if not provided_by & allowed:
                undeclared.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert undeclared == {}, "add these to pyproject.toml, then `make lock`"


def test_lock_files_pin_every_declared_package():
    for lock_file, extras in (("base.txt", ()), ("dev.txt", ("dev",))):
        text = (ROOT / "requirements" / lock_file).read_text()
        pinned = {normalise(m) for m in re.findall(r"^([A-Za-z0-9._-]+)==", text, re.M)}
        missing = declared(*extras) - pinned
        assert missing == set(), f"requirements/{lock_file} is stale: run `make lock`"


def test_lock_files_carry_a_hash_for_every_package():
    for lock_file in ("base.txt", "dev.txt"):
        text = (ROOT / "requirements" / lock_file).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        without_hash = [
            e.split()[0] for e in entries if "==" in e.split()[0] and "--hash=sha256:" not in e
        ]
        assert without_hash == [], lock_file


def test_installs_refuse_packages_whose_hash_does_not_match():
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"pip install .*-r requirements/\S+", makefile)
    assert len(installs) == 2
    assert all("--require-hashes" in line for line in installs)
    assert makefile.count("--generate-hashes") == 2  # `make lock` keeps the hashes


# --- Settings and .env.example ---------------------------------------------------------


def variables_read_by_settings() -> set[str]:
    tree = ast.parse((ROOT / "portal" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            function = ast.unparse(node.func)
            reads_env = (
                function == "env"
                or function.startswith("env.")
                or function in {"os.environ.get", "os.getenv"}
            )
            if reads_env and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            if isinstance(node.slice, ast.Constant):
                names.add(node.slice.value)
    return names


def test_env_example_lists_every_variable_the_settings_read():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.M))
    read = variables_read_by_settings()
    assert {"SECRET_KEY", "IMAP_TIMEOUT", "TRUSTED_PROXIES"} <= read  # the parser works
    assert read - listed == set(), "document these in .env.example"


# --- CI and lint -----------------------------------------------------------------------


def test_ci_empties_the_broker_database_before_the_tests():
    script = (ROOT / ".ci" / "run").read_text()
    broker_db = re.search(r'CELERY_BROKER_URL="redis://[^/"]+/(\d+)"', script).group(1)
    flush = re.search(r"^redis-cli .*-n (\d+) FLUSHDB", script, re.M)
    assert flush and flush.group(1) == broker_db
    assert script.index("redis-server --daemonize") < flush.start() < script.index("make test")


def test_lint_runs_ruff_check_and_format_over_the_project_without_migrations():
    dry_run = subprocess.run(
        ["make", "-n", "lint"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "ruff check ." in dry_run and "ruff format --check ." in dry_run
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make lint" in ci  # a command, not a comment

    ruff = PYPROJECT["tool"]["ruff"]
    assert ruff["target-version"] == "py311" and ruff["line-length"] == 100
    assert {"E", "F", "I", "B", "DJ"} <= set(ruff["lint"]["select"])
    ruff_bin = Path(sys.executable).parent / "ruff"
    files = subprocess.run(
        [ruff_bin, "check", "--show-files", "."], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "portal/settings.py" in files
    assert "/migrations/" not in files and ".venv" not in files
