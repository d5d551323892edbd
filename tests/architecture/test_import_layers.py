"""The import-linter contract must reject an upward import, e.g. tickets importing sla."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["core", "tenancy", "notifications", "maintenance", "tickets", "sla", "monitoring", "reports", "walt_portal"]


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
    )


@pytest.fixture
def tree(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_layers_hold_as_committed(tree):
    result = _lint_imports(tree)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("lower", "higher"), [("tickets", "sla"), ("tenancy", "tickets"), ("sla", "monitoring")])
def test_an_upward_or_sideways_import_breaks_the_build(tree, lower, higher):
    with (tree / lower / "__init__.py").open("a") as module:
        module.write(f"\nimport {higher}  # noqa\n")

    result = _lint_imports(tree)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout
