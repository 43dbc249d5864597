"""The repository on a real SQLite database: round trip, idempotence, transactions, deletes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from api.store.models import DocumentRow, PageRow, PassageRow
from api.store.repository import Store
from extractor.errors import NotFoundError
from extractor.pipeline import parse_file
from extractor.schema import IngestStatus

TEXT = "# Results\n\nThe dressing reduced infection from 12% to 7% [1]. Nurses saved 20 minutes a day.\n\n## References\n\n1. Smith J. A trial. 2019.\n"


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.md"
    path.write_text(TEXT)
    return path


def test_store_migrates_a_new_database(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"documents", "pages", "passages", "claims", "support_links", "review_decisions", "ingest_events", "alembic_version"} <= tables


def test_store_round_trips_a_document(store: Store, sample: Path) -> None:
    doc = parse_file(sample)
    assert store.save_document(doc, sample) is IngestStatus.stored
    loaded = store.get_document(doc.id)
    assert loaded == doc
    assert store.get_document(doc.id[:10]) == doc  # a unique prefix is enough
    kept = Path(next(iter(store.files_dir.rglob("*.md"))))
    assert kept.read_bytes() == sample.read_bytes()


def test_store_reingest_is_idempotent(store: Store, sample: Path) -> None:
    doc = parse_file(sample)
    store.save_document(doc, sample)
    assert store.save_document(parse_file(sample), sample) is IngestStatus.unchanged
    assert store.count(DocumentRow) == 1
    assert store.count(PassageRow) == len(doc.passages)


def test_store_user_kind_on_reingest_is_applied(store: Store, sample: Path) -> None:
    store.save_document(parse_file(sample), sample)
    doc = parse_file(sample, kind="clinical_paper")
    store.save_document(doc, sample)
    assert store.get_document(doc.id).kind.value == "clinical_paper"


def test_store_failed_ingest_leaves_nothing(store: Store, sample: Path) -> None:
    doc = parse_file(sample)
    doc.passages.append(doc.passages[0].model_copy())  # a duplicate primary key fails the insert
    with pytest.raises(Exception, match="UNIQUE|unique|Duplicate|identity"):
        store.save_document(doc, sample)
    assert store.count(DocumentRow) == 0
    assert store.count(PageRow) == 0
    assert store.count(PassageRow) == 0
    assert not [p for p in store.files_dir.rglob("*") if p.is_file()], "the kept file was not removed"


def test_store_delete_removes_everything(store: Store, sample: Path) -> None:
    doc = parse_file(sample)
    store.save_document(doc, sample)
    store.delete_document(doc.id)
    assert store.count(DocumentRow) == store.count(PageRow) == store.count(PassageRow) == 0
    with pytest.raises(NotFoundError, match="no document with id"):
        store.get_document(doc.id)


def test_store_existing_data_survives_reopen(tmp_path: Path, sample: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    first = Store(url, tmp_path / "files")
    doc = parse_file(sample)
    first.save_document(doc, sample)
    first.close()
    again = Store(url, tmp_path / "files")  # migrations run again: a no-op on an up-to-date database
    assert again.get_document(doc.id) == doc
    with again.session() as s:
        assert s.scalar(select(DocumentRow.filename)) == "sample.md"
    again.close()


@pytest.mark.parametrize("prefix", ["abc", "zzzzzzzz"])
def test_store_unknown_id_says_what_to_do(store: Store, prefix: str) -> None:
    with pytest.raises(NotFoundError) as info:
        store.get_document(prefix)
    assert prefix in info.value.message and "vbp show --list" in info.value.hint
