"""The repository layout keeps Python's standard library importable (architecture.md), and the tests share helpers
through tests/support/, never by importing one another."""
from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
# Where the shared helpers lived before tests/support/: importing them again is refused.
MOVED_HELPERS = frozenset({"tests.factories", "tests.listing_data", "tests.trading"})


def _module_names(folder: Path) -> set[str]:
    names = set()
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and (entry / "__init__.py").exists():
            names.add(entry.name)
        elif entry.suffix in {".py", ".pyi"} or entry.suffix.startswith(".cpython"):
            names.add(entry.name.split(".")[0])
    return names


def test_no_module_in_root_or_platform_shadows_the_standard_library() -> None:
    shadowing = sorted((_module_names(ROOT) | _module_names(ROOT / "platform")) & set(sys.stdlib_module_names))
    assert shadowing == [], f"these names hide standard-library modules: {shadowing}"


def test_platform_is_a_source_root_not_a_package() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()
    assert (ROOT / "platform" / "hall" / "__init__.py").exists()


def test_standard_platform_module_still_imports_from_the_repository_root() -> None:
    code = "import platform, uuid, hall; print(platform.python_version()); print(hall.__file__)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    version, hall_file = result.stdout.split()
    assert version == ".".join(map(str, sys.version_info[:3]))
    assert Path(hall_file).resolve() == ROOT / "platform" / "hall" / "__init__.py"


def test_the_benchmarks_still_start() -> None:
    """The benchmarks import the application; a renamed function must not leave them broken."""
    for script in sorted((ROOT / "bench").glob("*.py")):
        if script.name.startswith("_") or script.name == "generate.py":
            continue
        result = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imported_modules(source: str, module: str, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in ``source`` (the text of ``module``), at any depth, relative imports
    resolved. ``from package import name`` counts as importing ``package.name`` too when that names a test module
    or a moved helper (``from tests.api import test_orders``)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            imported = ".".join([*base, *([node.module] if node.module else [])])
            yield node.lineno, imported
            for alias in node.names:
                if alias.name.startswith("test_") or f"{imported}.{alias.name}" in MOVED_HELPERS:
                    yield node.lineno, f"{imported}.{alias.name}"


def _forbidden(module: str) -> bool:
    """A test module (``tests.<dir>.test_*``, or ``tests.test_*``) or the old path of a moved helper."""
    parts = module.split(".")
    return parts[0] == "tests" and (any(part.startswith("test_") for part in parts[1:]) or module in MOVED_HELPERS)


def test_no_test_module_is_imported_as_a_library() -> None:
    """Shared helpers live in tests/support/ and shared fixtures in a conftest.py: a module under tests/ never
    imports a test module (``tests.<dir>.test_*``), nor the old paths of the helpers that moved to tests/support/."""
    planted = "from tests.api.test_orders import Market\nfrom .test_audit import x\nfrom tests.web import test_a\n" \
              "import tests.unit.test_money\nfrom tests import trading\nfrom tests.support.orders import Market\n"
    caught = [module for _, module in _imported_modules(planted, "tests.unit.test_x") if _forbidden(module)]
    assert caught == ["tests.api.test_orders", "tests.unit.test_audit", "tests.web.test_a", "tests.unit.test_money",
                      "tests.trading"], caught  # the scan itself works
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        relative, module = path.relative_to(ROOT).as_posix(), _module_of(path)
        if "__pycache__" in path.parts or module in MOVED_HELPERS:
            continue
        source = path.read_text(encoding="utf-8")
        for line, imported in _imported_modules(source, module, path.name == "__init__.py"):
            if _forbidden(imported):
                found.append(f"{relative}:{line}: imports {imported}")
    assert found == [], "move what is shared to tests/support/ (fixtures to a conftest.py):\n" + "\n".join(found)
    assert not list((TESTS / "support").rglob("test_*.py")), "tests/support/ holds helpers, not tests"
