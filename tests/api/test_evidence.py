"""Checking claims against their sources: citation resolution, candidate passages, stance and numbers, storage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from api.evidence import check_claims, claim_query, delete_document, index_document, support_document
from retrieval.checking.check import RETRIEVED, STRUCTURE
from retrieval.checking.verdicts import support_status
from retrieval.settings import CheckSettings
from extractor.claims import extract_claims
from extractor.pipeline import parse_file
from extractor.schema import Reference, Span, Stance
from retrieval.bm25 import BM25Index
from retrieval.citations import CitedCandidate, match_reference
from retrieval.index import MemoryPassageIndex
from retrieval.search import HybridSearcher
from tests.retrieval import FakeEmbedder

TITLE = "Silver foam dressings and surgical site infection after caesarean section: a randomised controlled trial"
PAPER = f"""# {TITLE}

## Abstract

We randomised 400 women to a silver foam dressing or a standard gauze dressing after caesarean section.

## Results

Surgical site infection occurred in 12/200 women with the silver foam dressing and 22/200 women with the standard dressing.

Pain scores at day 3 were similar in the two groups.
"""
OTHER_PAPER = """# Compression stockings after knee replacement: a cohort study

## Results

Deep vein thrombosis occurred in 4% of patients; surgical site infection was not recorded.
"""
BID = """# Kelderfoam Ag: value proposition

## Clinical outcomes

Kelderfoam Ag reduces surgical site infection by 45% compared with standard dressings [1].

Kelderfoam Ag reduces surgical site infection by 30% compared with standard dressings [1].

Kelderfoam Ag reduces surgical site infection compared with standard dressings [2].

## References

1. Smith J, Jones K. {title}. BJOG. 2020;127:100-108.
2. Data on file. Kelderfoam Ag wound audit. Northbridge Medical, 2024.
"""
RIVAL_BID = """# Rival foam: value proposition

## Clinical outcomes

Rival foam reduces surgical site infection by 45% compared with standard dressings, in our own audit.
"""


@dataclass(frozen=True)
class _Prediction:
    stance: Stance
    score: float
    probabilities: dict


class KeywordStance:
    """A stand-in classifier for fast tests: 'supports' when the passage mentions infection, else not enough info."""

    name = "test.keyword"

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def predict(self, claim: str, passages):
        self.calls.append((claim, list(passages)))
        return [_Prediction(Stance.supports, 0.9, {}) if "infection occurred" in p else _Prediction(Stance.not_enough_info, 0.8, {})
                for p in passages]


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture()
def world(tmp_path: Path, store):
    searcher = HybridSearcher(dense=MemoryPassageIndex(FakeEmbedder()), bm25=BM25Index(None))
    ids = {}
    for name, text in (("paper.md", PAPER), ("other.md", OTHER_PAPER), ("bid.md", BID.format(title=TITLE)), ("rival.md", RIVAL_BID)):
        doc = parse_file(_write(tmp_path, name, text))
        store.save_document(doc)
        index_document(searcher, store, doc.id)
        ids[name] = doc.id
    for name in ("bid.md", "rival.md"):
        store.save_claims(extract_claims(store.get_document(ids[name])).claims)
    return store, searcher, ids


def test_evidence_reference_resolves_by_title_or_doi() -> None:
    ref = Reference(key="1", text=f"1. Smith J. {TITLE.upper()}. BJOG 2020. doi:10.1111/abc.1", page=1, span=Span(start=0, end=10),
                    doi="10.1111/abc.1")
    by_title = CitedCandidate(doc_id="a", title=TITLE)
    by_doi = CitedCandidate(doc_id="b", title="Something else entirely here", dois=frozenset({"10.1111/abc.1"}))
    assert match_reference(ref, [by_title]) == ("a", "title")
    assert match_reference(ref, [by_title, by_doi]) == ("b", "doi")
    short = CitedCandidate(doc_id="c", title="Results")  # too short a title to match on
    assert match_reference(ref, [short]) is None


def test_evidence_claim_query_drops_citation_markers(world) -> None:
    store, _, ids = world
    claim = store.list_claims(ids["bid.md"])[0]
    assert "[1]" in claim.quote and "[1]" not in claim_query(claim)


def test_evidence_cited_paper_first_numbers_recomputed_and_stored(world) -> None:
    """The classifier's path (the structure judge off): cited passages first, arm numbers recomputed, links stored."""
    store, searcher, ids = world
    classifier = KeywordStance()
    claims = store.list_claims(ids["bid.md"])
    checks = {c.claim.quote.split(" by ")[-1][:3]: c for c in check_claims(claims, store=store, searcher=searcher, classifier=classifier,
                                                                           settings=CheckSettings(structure=False))}
    right, wrong = checks["45%"], checks["30%"]
    assert right.cited_doc_ids == [ids["paper.md"]] and right.unresolved_keys == []
    best = right.best
    assert best.cited and best.stance is Stance.supports and store.get_passages([best.passage_id])[best.passage_id].doc_id == ids["paper.md"]
    assert best.numeric.verdict.value == "match" and "12/200" in best.numeric.recomputed_from
    assert abs(best.numeric.found.value - 45.45) < 0.01
    wrong_numbers = [lk.numeric for lk in wrong.links if lk.numeric and lk.numeric.verdict.value == "mismatch"]
    assert wrong_numbers and wrong_numbers[0].claimed.value == 30 and abs(wrong_numbers[0].found.value - 45.45) < 0.01
    # never evidence: the claim's own submission or another supplier's submission
    linked_docs = {store.get_passages([lk.passage_id])[lk.passage_id].doc_id for c in checks.values() for lk in c.links}
    assert ids["bid.md"] not in linked_docs and ids["rival.md"] not in linked_docs
    # stored, and a second check replaces rather than adds
    assert len(store.list_support_links(claim_id=right.claim.id)) == len(right.links)
    again = check_claims([right.claim], store=store, searcher=searcher, classifier=classifier, settings=CheckSettings(structure=False))
    assert len(store.list_support_links(claim_id=right.claim.id)) == len(again[0].links)


def test_evidence_structure_judge_reads_the_cited_finding_and_grounds_it(world) -> None:
    """With the structure judge on, the claim's direction is judged against the cited trial's finding sentence; the link
    says so, quotes the sentence and its span slices back to the paper; a count without a stated effect is not read as one."""
    store, searcher, ids = world
    claims = [c for c in store.list_claims(ids["bid.md"]) if "[1]" in c.quote]
    classifier = KeywordStance()
    checks = check_claims(claims, store=store, searcher=searcher, classifier=classifier)
    assert classifier.calls == []  # the judge decided every one: the pair classifier was not needed
    for check in checks:
        assert {lk.method for lk in check.links} == {STRUCTURE, RETRIEVED}
        assert all(lk.stance is Stance.not_enough_info and lk.score == 0.0 for lk in check.links if lk.method == RETRIEVED)
        [judged] = [lk for lk in check.links if lk.method == STRUCTURE]
        paper = store.get_document(ids["paper.md"])
        assert judged.cited and judged.evidence and paper.text[judged.evidence_span.start:judged.evidence_span.end] == judged.evidence
        assert "Surgical site infection occurred in 12/200" in judged.evidence
        assert judged.stance is not Stance.contradicts  # "occurred in 12/200 ... and 22/200" states no direction to contradict
        assert support_status(check.links)[1] is judged  # the judge decides; the classifier's passages are shown beside it
        stored = {lk.passage_id: lk for lk in store.list_support_links(claim_id=check.claim.id)}
        assert stored[judged.passage_id].method == STRUCTURE and stored[judged.passage_id].evidence == judged.evidence
    beside = check_claims(claims, store=store, searcher=searcher, classifier=classifier, settings=CheckSettings(classify_judged=True))
    assert len(classifier.calls) == len(claims)  # asked for: the classifier's stances are shown beside the judge's
    assert all(support_status(c.links)[1].method == STRUCTURE for c in beside)  # and still do not decide
    assert any(lk.method == "stance.classifier" for c in beside for lk in c.links)


def test_evidence_unresolved_reference_is_reported_and_collection_searched(world) -> None:
    store, searcher, ids = world
    [audit_claim] = [c for c in store.list_claims(ids["bid.md"]) if "[2]" in c.quote]
    [check] = check_claims([audit_claim], store=store, searcher=searcher, classifier=KeywordStance())
    assert check.cited_doc_ids == [] and check.unresolved_keys == ["2"]
    assert check.links and not any(lk.cited for lk in check.links)


def test_evidence_scope_limits_the_evidence(world) -> None:
    store, searcher, ids = world
    claims = store.list_claims(ids["bid.md"])
    checks = check_claims(claims, store=store, searcher=searcher, classifier=KeywordStance(), scope={ids["other.md"]}, save=False)
    docs = {store.get_passages([lk.passage_id])[lk.passage_id].doc_id for c in checks for lk in c.links}
    assert docs == {ids["other.md"]}
    assert all(c.cited_doc_ids == [] for c in checks)  # the cited paper is out of scope


def test_evidence_support_document_and_delete_keep_both_stores_in_step(world) -> None:
    store, searcher, ids = world
    checks = support_document(store, searcher, ids["bid.md"][:12], classifier=KeywordStance())
    assert len(checks) == len(store.list_claims(ids["bid.md"]))
    assert store.list_support_links(doc_id=ids["bid.md"])
    delete_document(store, searcher, ids["paper.md"])
    assert ids["paper.md"] not in searcher.doc_ids() and ids["paper.md"] not in searcher.bm25.doc_ids()
    assert ids["paper.md"] not in store.passage_counts()
    # links to the deleted paper's passages went with it
    assert all(not lk.passage_id.startswith(ids["paper.md"]) for lk in store.list_support_links(doc_id=ids["bid.md"]))


def test_evidence_level_comes_from_the_cited_paper(tmp_path: Path, store) -> None:
    searcher = HybridSearcher(dense=MemoryPassageIndex(FakeEmbedder()), bm25=BM25Index(None))
    paper = parse_file(_write(tmp_path, "p.md", "# Foam dressings and wound healing after hip surgery\n\n## Abstract\n\n"
                                                "In this randomised controlled trial, 300 adults were allocated to foam or gauze.\n"))
    bid = parse_file(_write(tmp_path, "b.md", "# Foam bid\n\n## Outcomes\n\nOur foam heals wounds faster than gauze [1].\n\n"
                                              "## References\n\n1. Lee A. Foam dressings and wound healing after hip surgery. "
                                              "Wound J. 2021;3:1-9.\n2. Data on file. Foam audit, 2024.\n"))
    for doc in (paper, bid):
        store.save_document(doc)
        index_document(searcher, store, doc.id)
    store.save_claims(extract_claims(bid).claims)
    [claim] = [c for c in store.list_claims(bid.id) if "[1]" in c.quote]
    assert claim.evidence_level.value == "none"  # the reference entry does not name a design
    [check] = check_claims([claim], store=store, searcher=searcher, classifier=KeywordStance(), save=False)
    assert check.cited_doc_ids == [paper.id] and check.evidence_level.value == "rct"


def test_evidence_the_domain_check_stores_nothing_and_the_api_stores_per_context(world) -> None:
    """``retrieval.checking`` judges claims and leaves storage to its caller; ``api.evidence`` stores the links for the
    party they were checked for, and a second party's check leaves the first party's links as they were."""
    from retrieval.checking.check import check_claims as judge
    from retrieval.settings import CheckSettings

    store, searcher, ids = world
    claims = store.list_claims(ids["bid.md"])
    judged = judge(claims, source=store, searcher=searcher, classifier=KeywordStance(), settings=CheckSettings(other_k=0))
    assert judged and any(c.links for c in judged)
    assert all(not store.list_support_links(claim_id=c.id, context=ctx) for c in claims for ctx in ("", "t/a/submission"))

    mine = check_claims(claims, store=store, searcher=searcher, classifier=KeywordStance(), scope={ids["paper.md"]},
                        context="t/a/submission")
    theirs = check_claims(claims, store=store, searcher=searcher, classifier=KeywordStance(), scope=set(), context="t/b/draft")
    assert any(c.links for c in mine) and not any(c.links for c in theirs)
    for c, m in zip(claims, mine):
        assert store.list_support_links(claim_id=c.id, context="t/a/submission") == m.links
        assert store.list_support_links(claim_id=c.id, context="t/b/draft") == []
