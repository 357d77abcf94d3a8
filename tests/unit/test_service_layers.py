"""The service packages form floors: a package imports only from the floors below it (and itself), and no two
service modules import each other, directly or through others. A new capability that needs something from a higher
floor is a sign the thing belongs lower."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "platform" / "hall" / "services"
FLOORS = ("core", "accounts", "publishing", "trading", "docking", "policy", "console")


def _service_imports(path: Path) -> set[str]:
    """The dotted hall.services modules one file imports (at the top or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hall.services"):
            parts = node.module.split(".")
            if len(parts) == 3:  # from hall.services.trading import orders, payments
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            else:
                found.add(".".join(parts[:4]))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("hall.services"))
    return found


def _modules() -> dict[str, Path]:
    return {f"hall.services.{p.parent.name}.{p.stem}": p for p in SERVICES.glob("*/*.py") if p.stem != "__init__"}


def test_every_service_module_lives_on_a_floor() -> None:
    assert sorted(p.name for p in SERVICES.glob("*.py")) == ["__init__.py"]
    assert {p.parent.name for p in SERVICES.glob("*/*.py")} == set(FLOORS)


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_import_from_a_higher_floor(module: str) -> None:
    floor = FLOORS.index(module.split(".")[2])
    upward = sorted(m for m in _service_imports(_modules()[module]) if FLOORS.index(m.split(".")[2]) > floor)
    assert not upward, f"{module} imports from a higher floor: {upward}"


def test_no_import_cycles_between_service_modules() -> None:
    modules = _modules()
    graph = {name: {m for m in _service_imports(path) if m in modules and m != name} for name, path in modules.items()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, "import cycle: " + " -> ".join(visiting[visiting.index(name):] + [name])
        visiting.append(name)
        for target in sorted(graph[name]):
            visit(target)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
