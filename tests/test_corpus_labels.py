"""The label gold (corpus/labels, issue 18): every quote on its page, the two splits apart, the resolved gold built from
the two annotations, and the agreement tool's arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import corpus_agreement, corpus_check

LABELS = Path(__file__).resolve().parent.parent / "corpus" / "labels"


def _docs(name: str) -> list[dict]:
    return [json.loads(line) for line in (LABELS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["gold.jsonl", "heldout.jsonl"])
def test_every_label_gold_quote_lies_on_its_page(name: str, capsys) -> None:
    assert corpus_check.main([str(LABELS / name)]) == 0, capsys.readouterr().out


def test_the_held_out_documents_are_apart_and_every_resolved_document_is_in_one_split() -> None:
    gold, held = {d["doc_id"] for d in _docs("gold.jsonl")}, {d["doc_id"] for d in _docs("heldout.jsonl")}
    resolved = {p.stem for p in (LABELS / "resolved").glob("*.jsonl")}
    assert len(gold) == 15 and len(held) == 5 and not gold & held
    assert gold | held == resolved
    assert all((LABELS / "submissions" / f"{d}.pdf").is_file() and (LABELS / "submissions" / f"{d}.md").is_file() for d in resolved)


def test_each_document_says_it_is_fictional() -> None:
    for md in (LABELS / "submissions").glob("*.md"):
        assert "Fictional document written by the vbp-evidence project as test material" in md.read_text(encoding="utf-8"), md.name


def test_both_annotations_cover_every_document() -> None:
    for doc_id in (p.stem for p in (LABELS / "resolved").glob("*.jsonl")):
        for side in ("a", "b"):
            (line,) = (LABELS / "annotations" / f"{doc_id}.{side}.jsonl").read_text(encoding="utf-8").split("\n", 1)[:1]
            assert json.loads(line)["doc_id"] == doc_id


def test_agreement_counts_claims_labels_and_disagreements() -> None:
    claim = {"quote": "Infection fell from 6.8% to 3.1% with Kestrel [1].", "category": "outcome", "direction": "decrease",
             "outcome": "infection", "intervention": "Kestrel", "comparator": "", "hedged": False}
    a = {"d": {"doc_id": "d", "claims": [claim, {**claim, "quote": "Nurses saved four minutes per dressing change.",
                                               "category": "resource_use", "outcome": "nurse time"}]}}
    b = {"d": {"doc_id": "d", "claims": [{**claim, "category": "safety", "intervention": "Kestrel hip system"},
                                         {**claim, "quote": "The most comfortable cannula on the market.", "direction": "unspecified"}]}}
    result, disagreements = corpus_agreement.compare(a, b)
    assert (result["claims_a"], result["claims_b"], result["matched"]) == (2, 2, 1)
    assert result["claim_f1"] == 0.5 and result["category_agreement"] == 0.0 and result["direction_agreement"] == 1.0
    assert 0 < result["intervention_token_f1"] < 1 and result["outcome_token_f1"] == 1.0
    assert sorted(d["kind"] for d in disagreements) == ["labels", "only_a", "only_b"]
    assert next(d for d in disagreements if d["kind"] == "labels")["differ"] == {"category": {"a": "outcome", "b": "safety"}}


def test_kappa_is_one_for_perfect_agreement_and_zero_at_chance() -> None:
    assert corpus_agreement.kappa([("a", "a"), ("b", "b")]) == 1.0
    assert corpus_agreement.kappa([("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")]) == 0.0
