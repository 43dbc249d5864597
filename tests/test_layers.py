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


PACKAGES = ("extractor", "retrieval", "api", "eval", "prompts", "bench", "tests")


def _project_imports() -> list[tuple[str, int, str, str]]:
    """Every ``from <project module> import name`` in the project, lazy ones inside functions included."""
    import ast

    found = []
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                        and node.module.split(".")[0] in PACKAGES[:5]:
                    found += [(str(path.relative_to(REPO)), node.lineno, node.module, a.name) for a in node.names]
    return found


def test_layers_every_project_import_resolves() -> None:
    """A rename that leaves a lazy import behind fails here, not in the one slow test that reaches it."""
    import importlib

    broken = []
    for where, line, module, name in _project_imports():
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            broken.append(f"{where}:{line}: {module}: {e}")
            continue
        if name != "*" and not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                broken.append(f"{where}:{line}: {module} has no {name}")
    assert len(_project_imports()) > 100
    assert broken == [], "\n".join(broken)
