"""The learned category head (issue 18): its features, its gate over the rules, the shipped weights, and training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from extractor.errors import ConfigError
from extractor.labels import CATEGORIES, WEIGHTS_PATH, CategoryHead, category_features, get_outcome_head, hash_features, load_head
from extractor.quantities import extract_quantities
from extractor.schema import ClaimCategory


def _features(quote: str, rule: ClaimCategory = ClaimCategory.outcome) -> list[str]:
    return category_features(quote, rule=rule, section_prior=None, in_table=False, quantities=extract_quantities(quote))


def test_features_name_the_rules_the_cues_and_the_opening_words() -> None:
    feats = _features("Seroma needing aspiration was more common with Tamar, at 9.3% against 7.0%.")
    assert "rule:outcome" in feats and "cue:safety:1" in feats and "opening:safety" in feats
    assert "f:seroma" in feats and "has:percent" in feats and "w:0" in feats  # numbers are one token
    ids, vals = hash_features(feats)
    assert np.all(np.diff(ids) > 0) and abs(float(vals @ vals) - 1.0) < 1e-5


def _head(threshold: float) -> CategoryHead:
    feats = _features("Patients needed fewer days in hospital.")
    ids, vals = hash_features(feats)
    weights = np.zeros((len(ids), len(CATEGORIES)), dtype=np.float32)
    weights[:, CATEGORIES.index(ClaimCategory.resource_use)] = 2.0 / float(vals.sum())  # resource use at e²/(e²+7) = 0.51
    return CategoryHead(rows=ids, weights=weights, bias=np.zeros(len(CATEGORIES), dtype=np.float32), threshold=threshold)


def test_the_head_replaces_the_rules_only_at_its_threshold() -> None:
    feats = _features("Patients needed fewer days in hospital.")
    category, confidence = _head(0.3).decide(feats, ClaimCategory.outcome)
    assert category is ClaimCategory.resource_use and confidence >= 0.3
    category, confidence = _head(0.99).decide(feats, ClaimCategory.outcome)  # unsure: the rules' category stands
    assert category is ClaimCategory.outcome and 0 < confidence < 0.5


def test_the_shipped_head_reads_time_and_harms_as_a_person_would() -> None:
    from extractor.claims import extract_claims
    from extractor.pipeline import parse_file

    head = load_head()
    meta = json.loads(str(np.load(WEIGHTS_PATH)["meta"]))
    assert meta["cv"]["head_accuracy"] > meta["cv"]["rules_accuracy"] and "corpus/labels/heldout.jsonl" in meta["never_trained_on"]
    assert head.decide(_features("Patients managed with ClearFlow needed 1.4 fewer days in hospital than with standard care [1]."),
                       ClaimCategory.outcome)[0] is ClaimCategory.resource_use
    assert head.decide(_features("Intraoperative femoral fracture was more frequent with Kestrel, at 1.6% against 0.8%."),
                       ClaimCategory.outcome)[0] is ClaimCategory.safety


def test_claims_carry_the_heads_confidence(tmp_path: Path) -> None:
    from extractor.claims import extract_claims
    from extractor.pipeline import parse_file

    path = tmp_path / "bid.md"
    path.write_text("# Bid\n\n## Evidence\n\nPatients managed with ClearFlow needed 1.4 fewer days in hospital [1].\n")
    doc = parse_file(path, kind="supplier_submission")
    (claim,) = extract_claims(doc).claims
    assert claim.category is ClaimCategory.resource_use and claim.domain.value == "efficiency"
    assert 0 < claim.label_confidence["category"] <= 1 and "outcome" not in claim.label_confidence  # spans: off by default
    (spanned,) = extract_claims(doc, outcome_head=get_outcome_head()).claims
    assert 0 < spanned.label_confidence["outcome"] <= 1
    assert spanned.outcome and spanned.outcome in spanned.quote  # the outcome is a slice of the quote, never invented
    (rules_only,) = extract_claims(doc, label_head=None, outcome_head=None).claims
    assert rules_only.label_confidence == {}


def test_a_missing_or_foreign_head_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the category head"):
        load_head(tmp_path / "none.npz")
    other = tmp_path / "other.npz"
    np.savez(other, rows=np.array([1]), weights=np.zeros((1, 3)), bias=np.zeros(3), threshold=0.5, n_buckets=7, labels=np.array(["a"]))
    with pytest.raises(ConfigError, match="other features or labels"):
        load_head(other)


def test_training_cross_validates_by_document_and_fits_a_head() -> None:
    from eval.training.train_labels import cross_validate, fit

    rows = []
    for d in range(6):
        for quote, cat in (("Patients needed fewer days in hospital.", ClaimCategory.resource_use),
                           ("Wound infection fell with Kelvo.", ClaimCategory.outcome),
                           ("Seroma was more common with Kelvo.", ClaimCategory.safety)):
            spans = [(["head:infection"], 1.0, ""), (["head:kelvo", "product"], 0.0, "")]  # the right phrase, and the product
            rows.append({"doc": f"d{d}", "features": _features(quote), "rule": ClaimCategory.outcome, "gold": cat, "spans": spans,
                         "rule_outcome_f1": 0.0})
    figures = cross_validate(rows, 3)
    assert figures["outcome_token_f1_rules"] == 0.0 and figures["outcome_token_f1_head"] == 1.0
    assert figures["documents"] == 6 and figures["rules_accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert figures["head_accuracy"] == 1.0
    head = fit(rows, figures["threshold"])
    assert head.decide(rows[0]["features"], ClaimCategory.outcome)[0] is ClaimCategory.resource_use


def test_outcome_candidates_are_noun_phrases_joined_through_of_in_for() -> None:
    from extractor.labels import outcome_candidates
    from extractor.pico import load_pipeline

    doc = load_pipeline("auto")("Time in the therapeutic range for heparin infusions rose from 61% to 74% with Sentinel.")
    phrases = {doc[a:b].text for a, b, _ in outcome_candidates(doc)}
    assert "Time" in phrases and "therapeutic range" in phrases
    assert any(p.startswith("Time in the therapeutic range") for p in phrases)


def test_the_shipped_outcome_scorer_prefers_what_is_measured_to_the_product() -> None:
    from extractor.labels import load_outcome_head
    from extractor.pico import load_pipeline

    head = load_outcome_head()
    doc = load_pipeline("auto")("Sentinel reduced harmful medication errors by 41% compared with the current pumps [2].")
    text, score = head.pick(doc, intervention="Sentinel smart infusion pump", category=ClaimCategory.safety, rule_outcome="")
    assert "error" in text and "Sentinel" not in text and 0 < score <= 1
