"""The layout the README promises, checked on the source: lib/ is Dagster-free and imports no
stage, no stage imports another stage, and the code location imports no development code."""

import ast
from pathlib import Path

import pytest

from botstudy_assets.lib.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "botstudy_assets"
STAGES = sorted(
    path.name
    for path in (PACKAGE / "defs").iterdir()
    if path.is_dir() and (path / "assets.py").exists()
)


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module a file imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return names


def files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_there_are_the_four_stages():
    assert {"mining", "detection", "coding", "reporting"} <= set(STAGES)


@pytest.mark.parametrize("path", files(PACKAGE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_code_location_imports_no_development_code(path):
    bad = {
        name
        for name in imported_modules(path)
        if name.split(".")[0] in ("botstudy_tests", "botstudy_dev", "benchmarks")
    }
    assert not bad


@pytest.mark.parametrize("path", files(PACKAGE / "lib"), ids=lambda p: p.name)
def test_lib_is_dagster_free_and_imports_no_stage(path):
    bad = {
        name
        for name in imported_modules(path)
        if name.split(".")[0] == "dagster" or name.startswith("botstudy_assets.defs")
    }
    assert not bad


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_imports_another_stage(stage):
    others = tuple(f"botstudy_assets.defs.{other}" for other in STAGES if other != stage)
    for path in files(PACKAGE / "defs" / stage):
        bad = {name for name in imported_modules(path) if name.startswith(others)}
        assert not bad, path
