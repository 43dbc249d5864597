"""The layer rules of STYLE.md, written as import-linter contracts in pyproject.toml, hold for the code as it is."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import REPO


def _lint_imports() -> str:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "lint-imports is not installed: install the dev extra (make install)"
    done = subprocess.run([exe, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_layers_contracts_name_every_rule_of_the_style_guide() -> None:
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    assert layers["layers"] == ["api | eval", "retrieval", "extractor", "prompts"]
    forbidden = {tuple(c["forbidden_modules"]): set(c["source_modules"]) for c in contracts if c["type"] == "forbidden"}
    assert forbidden[("eval",)] >= {"extractor", "retrieval", "api"}
    assert forbidden[("eval.training",)] >= {"extractor", "retrieval", "api"}


def test_layers_hold_for_the_code() -> None:
    out = _lint_imports()
    assert "0 broken" in out and "BROKEN" not in out, out


def test_layers_no_training_script_lives_in_a_runtime_package() -> None:
    trainers = [p.relative_to(REPO) for pkg in ("extractor", "retrieval", "api") for p in (REPO / pkg).rglob("train*.py")]
    assert trainers == []
