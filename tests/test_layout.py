"""The repository layout keeps Python's standard library importable (architecture.md)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
