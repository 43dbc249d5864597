"""The claim-check harness: its scoring of verdicts that speak and abstain, and a short run on the real set."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from eval.datasets.claim_check import _score, default_split, load_cases


def _row(task: str, gold: str, said: str, seconds: float = 0.1) -> dict:
    key = "stance" if task == "stance" else "numeric"
    other = {"stance": "numeric", "numeric": "stance"}[key]
    return {"id": f"cc-{task}-{gold}-{said}", "task": task, "gold": gold, key: said, other: None, "seconds": seconds}


def test_claim_check_scores_precision_of_what_speaks_and_counts_abstentions() -> None:
    rows = [_row("stance", "supports", "supports"), _row("stance", "supports", "not_enough_info"),
            _row("stance", "contradicts", "contradicts"), _row("stance", "not_enough_info", "contradicts"),
            _row("numeric", "match", "match"), _row("numeric", "mismatch", "not_comparable"), _row("numeric", "match", "mismatch")]
    r = _score(rows, Counter(), parse_s=0.0, check_s=0.7, classifier="fake")
    assert r["supports_precision"] == 1.0 and r["contradicts_precision"] == 0.5
    assert r["stance_coverage"] == 0.75  # three of four stance verdicts spoke
    assert r["numeric_accuracy"] == round(1 / 3, 4) and r["numeric_coverage"] == round(2 / 3, 4)
    assert r["mismatch_precision"] == 0.0 and r["match_precision"] == 1.0
    assert r["confusion"]["not_enough_info"] == {"contradicts": 1}


def test_claim_check_claim_cites_the_trial_the_way_a_submission_does(tmp_path: Path) -> None:
    """A comparative claim with no number and no product name is a claim once it cites its trial: the marker sits
    before the full stop, is resolved to the reference list, and the quote is the claim as written."""
    from eval.datasets.claim_check import claim_document
    from extractor.claims import extract_claims
    from extractor.pipeline import parse_file
    from extractor.schema import DocumentKind

    claim = "Compared with oxytocin, carbetocin significantly lowered the proportion of women needing additional uterotonics."
    path = tmp_path / "claim.md"
    path.write_text(claim_document(claim, "Carbetocin versus oxytocin at caesarean delivery: a randomised trial"))
    doc = parse_file(path, kind=DocumentKind.supplier_submission)
    [got] = extract_claims(doc).claims
    assert got.quote == claim[:-1] + " [1]." and doc.text[got.span.start:got.span.end] == got.quote
    assert [c.keys for c in got.citations] == [["1"]] and "Carbetocin versus oxytocin" in doc.references[0].text
    assert got.direction.value == "decrease"


def test_claim_check_names_the_folder_it_needs(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="claim_check.jsonl"):
        default_split(tmp_path)


@pytest.mark.slow
def test_claim_check_runs_on_the_real_set(shared_data: Path) -> None:
    from eval.datasets.claim_check import run

    folder = shared_data / "claim_check"
    if not (folder / "claim_check.jsonl").is_file():
        pytest.skip(f"no claim_check set in {folder}")
    cases = load_cases(folder)
    assert len(cases) >= 600 and {c["task"] for c in cases} == {"stance", "numeric"}
    r = run(folder, "dev", limit=8)
    assert r["examples"] == 8 and r["stance_examples"] + r["numeric_examples"] == 8
    for key in ("stance_macro_f1", "supports_precision", "contradicts_precision", "stance_coverage", "numeric_accuracy",
                "mismatch_precision", "numeric_coverage"):
        assert 0.0 <= r[key] <= 1.0, key
    assert r["seconds_per_claim_median"] > 0
