"""Shared fixtures: the public data folder, the slow tier switch, real stores in temp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
CORPUS = REPO / "corpus"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False, help="also run the slow tier (real PDFs, models, stores)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow tier: run with --slow (the README's test command does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public datasets beside the repo; tests that need them skip when they are absent."""
    if not (SHARED_DATA / "pdfs").is_dir():
        pytest.skip(f"public data not found at {SHARED_DATA} (clone the repo with ../shared beside it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_pdfs(shared_data: Path) -> Path:
    return shared_data / "pdfs"


@pytest.fixture()
def store(tmp_path: Path):
    """A real SQLite store, migrated with Alembic, in a temp dir."""
    from api.store.repository import Store

    s = Store(f"sqlite:///{tmp_path / 'vbp.sqlite3'}", tmp_path / "files")
    yield s
    s.close()


@pytest.fixture()
def service(tmp_path: Path):
    """The HTTP service on a real SQLite database in a temp dir, through TestClient (``tests/api/service_kit.World``).

    Fast tier: an in-memory passage index and a keyword stance classifier; jobs run with ``service.drain()``.
    """
    from tests.api.service_kit import World

    world = World(tmp_path)
    yield world
    world.close()
