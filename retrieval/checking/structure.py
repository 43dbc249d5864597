"""Judge a claim by its structure: does the cited trial report this outcome, and does its finding go the claimed way?

Most supplier claims say that an intervention changes an outcome against a comparator ("Kestrel reduced surgical
site infection compared with gauze"). The extractor already reads each claim's direction (increase, decrease, no
difference) and its intervention, comparator and outcome. This judge finds the trial's finding sentences for that
outcome and those arms (``read_findings``: BM25 over the outcome and the arms, result cues and section, then the
finding head of ``extractor.direction``), reads their direction with the direction head (0.83 macro F1 on unseen
Evidence Inference articles), and turns the agreement into supports / contradicts / not enough info with a
calibrated probability (``structure.v1.json``, a multinomial logistic model over a handful of features, trained on
claims built from Evidence Inference train prompts by ``python -m eval.training.train_structure``).

It says ``contradicts`` only above a threshold chosen on article-grouped cross-validation for precision; below it,
``not_enough_info`` with the best sentence still shown. Every verdict carries the sentence it rests on.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from extractor.errors import ConfigError
from extractor.schema import Direction, Document, Sentence, Stance

NAME = "structure.logistic.v1"
WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "heads" / "structure.v1.json"
CLASSES = (Stance.supports, Stance.contradicts, Stance.not_enough_info)
FEATURES = ("p_claimed", "p_other", "p_no_difference", "claimed_is_no_difference", "outcome_coverage", "outcome_coverage_top",
            "finding", "rank_score", "arms_coverage")
TOP = 3
DECAY = 0.5
CANDIDATES = 20
RANK = (1.5, 0.5, 0.2, 0.15, 0.3, 0.15, 0.2, 0.3, -0.6, 0.2)
"""Weights of a sentence's rank as a finding: BM25 to the outcome, to the arms; p-value, statistics, significance and
comparison cues, digits, section prior, a baseline comparison (the groups before treatment: no finding); then (over the
best ``CANDIDATES``) the finding head's logit."""

_P_VALUE = re.compile(r"\bp\s*(?:-?\s*values?)?\s*(?:[=<>≤≥]|was|of|less|greater)\s*0?[.·]\d|\bp\s*[=<>≤≥]\s*0\b|\bn\.?s\.?\b",
                      re.IGNORECASE)
_STATS = re.compile(r"\b(?:95\s*%|(?i:ci|confidence interval|odds ratio|hazard ratio|relative risk|risk ratio)\b|(?:OR|RR|HR)\b)")
_SIGNIFICANT = re.compile(r"\bsignifican|\bdiffer|\bsimilar\b|\bcomparable\b", re.IGNORECASE)
_COMPARATIVE = re.compile(r"\b(?:higher|lower|greater|less|fewer|more|increas\w*|decreas\w*|reduc\w*|improv\w*|worse\w*|better|shorter|"
                          r"longer|superior|inferior|compared|versus|vs)\b", re.IGNORECASE)
_SECTION_PRIOR = ((re.compile(r"result|finding|outcome|efficacy|effect|endpoint|safety|adverse|response|abstract|conclusion"), 1.0),
                  (re.compile(r"discussion"), -0.3), (re.compile(r"introduction|background|method|reference"), -1.0))
_BASELINE = re.compile(r"\b(?:at baseline|baseline (?:characteristics|data|values|variables|demographic\w*)|before the (?:intervention|"
                       r"treatment|study)|prior to (?:the )?(?:intervention|treatment|randomi[sz]ation)|pre-?intervention|"
                       r"demographic\w*|(?:well )?(?:balanced|matched) (?:between|across|in)|homogeneous)\b", re.IGNORECASE)
_GENERIC = frozenset("group groups patient patients rate rates level levels score scores mean total number time value values".split())


@dataclass(frozen=True, slots=True)
class Finding:
    """A sentence of the paper read as the result for the claim's outcome and arms."""

    sentence: Sentence
    rank_score: float
    finding: float  # the finding head's logit
    probabilities: tuple[float, float, float]  # increase, decrease, no_difference
    outcome_coverage: float  # share of the outcome's content words the sentence holds
    arms_coverage: float


@dataclass(frozen=True, slots=True)
class StructureVerdict:
    stance: Stance
    probability: float  # calibrated probability of ``stance`` (for not_enough_info: of the most likely side)
    probabilities: dict[str, float]
    finding: Finding | None


def _tokens(text: str) -> list[str]:
    from retrieval.bm25 import tokenise

    return tokenise(text)


def content_terms(text: str) -> set[str]:
    return {t for t in _tokens(text) if len(t) > 2 and not t.isdigit() and t not in _GENERIC}


def _section_prior(section: str | None) -> float:
    for rx, value in _SECTION_PRIOR:
        if section and rx.search(section.lower()):
            return value
    return 0.0


@dataclass(frozen=True, slots=True)
class _Paper:
    """What ranking needs of a paper, whatever the claim: its candidate sentences, their tokens and cues, a BM25 index."""

    sentences: list[Sentence]
    tokens: list[list[str]]
    cues: np.ndarray
    bm25: object | None


_PAPERS: OrderedDict[str, _Paper] = OrderedDict()
_PAPERS_LOCK = threading.Lock()
PAPERS_KEPT = 16
"""Papers kept prepared (by document id, a hash of the file's bytes): a tender's claims mostly cite a few trials."""


def _paper(doc: Document) -> _Paper:
    with _PAPERS_LOCK:
        if doc.id in _PAPERS:
            _PAPERS.move_to_end(doc.id)
            return _PAPERS[doc.id]
    from retrieval.bm25 import bm25s_module

    sentences = [s for s in doc.sentences if len(s.text) >= 20 and _section_prior(s.section) > -1.0]
    tokens = [_tokens(s.text) for s in sentences]
    cues = np.array([[bool(_P_VALUE.search(s.text)), bool(_STATS.search(s.text)), bool(_SIGNIFICANT.search(s.text)),
                      bool(_COMPARATIVE.search(s.text)), min(sum(c.isdigit() for c in s.text), 6) / 6, _section_prior(s.section),
                      bool(_BASELINE.search(s.text))]
                     for s in sentences], dtype=np.float32).reshape(len(sentences), 7)
    index = None
    if sentences:
        index = bm25s_module().BM25(k1=1.2, b=0.75, method="lucene")
        index.index(tokens, show_progress=False)
    paper = _Paper(sentences, tokens, cues, index)
    with _PAPERS_LOCK:
        _PAPERS[doc.id] = paper
        while len(_PAPERS) > PAPERS_KEPT:
            _PAPERS.popitem(last=False)
    return paper


def _scores(paper: _Paper, query: str) -> np.ndarray:
    """BM25 of every candidate sentence against ``query``, scaled so the best is 1 (all 0 when no term occurs)."""
    terms = _tokens(query)
    if not terms:  # bm25s wants at least one token
        return np.zeros(len(paper.sentences), dtype=np.float32)
    scores = np.asarray(paper.bm25.get_scores(terms), dtype=np.float32)
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else scores


def read_findings(doc: Document, *, intervention: str, comparator: str, outcome: str, top: int = TOP) -> list[Finding]:
    """The paper's ``top`` sentences most likely to report the result for this outcome and these arms, best first."""
    from extractor.direction import direction_probabilities, finding_score

    if not outcome.strip():
        return []
    paper = _paper(doc)
    if not paper.sentences:
        return []
    sentences, tokens = paper.sentences, paper.tokens
    out = _scores(paper, outcome)
    arms = _scores(paper, f"{intervention} {comparator}")
    base = np.column_stack([out, arms, paper.cues]) @ np.array(RANK[:9], dtype=np.float32)
    order = np.argsort(-base, kind="stable")[:CANDIDATES].tolist()
    scored = []
    for i in order:
        logit = finding_score(sentences[i].text, intervention=intervention, comparator=comparator, outcome=outcome)
        scored.append((float(base[i]) + RANK[9] * logit, logit, i))
    scored.sort(key=lambda t: -t[0])
    want, arm_words = content_terms(outcome), content_terms(f"{intervention} {comparator}")
    findings = []
    for score, logit, i in scored[:top]:
        s = sentences[i]
        probs = direction_probabilities(s.text, intervention=intervention, comparator=comparator, outcome=outcome)
        words = set(tokens[i])
        findings.append(Finding(sentence=s, rank_score=score, finding=logit, probabilities=tuple(float(p) for p in probs),
                                outcome_coverage=len(want & words) / len(want) if want else 0.0,
                                arms_coverage=len(arm_words & words) / len(arm_words) if arm_words else 0.0))
    return findings


_INDEX = {Direction.increase: 0, Direction.decrease: 1, Direction.no_difference: 2}


def _pooled(findings: list[Finding]) -> np.ndarray:
    """The findings' direction probabilities pooled, best ranked first, a sentence on another outcome counting little."""
    weights = np.array([DECAY**r * (0.2 + f.outcome_coverage) for r, f in enumerate(findings)])
    return (np.array([f.probabilities for f in findings]) * weights[:, None]).sum(0) / weights.sum()


def features(direction: Direction, findings: list[Finding]) -> np.ndarray | None:
    """The judge's features for a claimed direction and the paper's findings; None when there is nothing to judge."""
    if direction not in _INDEX or not findings:
        return None
    probs = _pooled(findings)
    k = _INDEX[direction]
    best = findings[0]
    return np.array([probs[k], max(p for j, p in enumerate(probs) if j != k), probs[2], float(direction is Direction.no_difference),
                     best.outcome_coverage, max(f.outcome_coverage for f in findings), math.tanh(best.finding / 4),
                     math.tanh(best.rank_score / 2), best.arms_coverage], dtype=np.float64)


def _found(findings: list[Finding]) -> Direction:
    """The direction the findings read."""
    return (Direction.increase, Direction.decrease, Direction.no_difference)[int(np.argmax(_pooled(findings)))]


class StructureJudge:
    """The calibrated judge: logistic weights over :data:`FEATURES` and the thresholds at which it speaks."""

    name = NAME

    def __init__(self, path: Path = WEIGHTS_PATH) -> None:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise ConfigError(f"the structure judge's weights cannot be read from {path}: {e}",
                              hint="Retrain: python -m eval.training.train_structure --data ../shared/data/evidence_inference") from e
        if tuple(data.get("features", ())) != FEATURES or tuple(data.get("classes", ())) != tuple(c.value for c in CLASSES):
            raise ConfigError(f"{path} was trained for other features.",
                              hint="Retrain: python -m eval.training.train_structure --data ../shared/data/evidence_inference")
        self.coef = np.array(data["coef"], dtype=np.float64)
        self.intercept = np.array(data["intercept"], dtype=np.float64)
        self.mean = np.array(data["mean"], dtype=np.float64)
        self.scale = np.array(data["scale"], dtype=np.float64)
        self.thresholds = {Stance(k): float(v) for k, v in data["thresholds"].items()}
        self.info = data.get("info", {})

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept
        z = z - z.max()
        e = np.exp(z)
        return e / e.sum()

    def judge(self, direction: Direction, findings: list[Finding], *, hedged: bool = False) -> StructureVerdict | None:
        """The verdict, or None when the claim states no direction or the paper has no finding sentence to read.

        A hedged claim ("may reduce") is contradicted only by a finding the other way: a trial that found no
        difference leaves it unsupported (not enough info), not contradicted.
        """
        x = features(direction, findings)
        if x is None:
            return None
        p = self.probabilities(x)
        named = {c.value: round(float(v), 4) for c, v in zip(CLASSES, p)}
        for stance in (Stance.contradicts, Stance.supports):  # the costlier verdict must clear its own (higher) bar
            if named[stance.value] >= self.thresholds[stance]:
                if stance is Stance.contradicts and hedged and direction is not Direction.no_difference and \
                        _found(findings) is Direction.no_difference:
                    break
                return StructureVerdict(stance, named[stance.value], named, findings[0])
        return StructureVerdict(Stance.not_enough_info, named[Stance.not_enough_info.value], named, findings[0])


@lru_cache(maxsize=1)
def get_structure_judge() -> StructureJudge | None:
    """The shipped judge, or None when its weights are not packaged (the claim check then uses the classifier alone)."""
    if not WEIGHTS_PATH.is_file():
        return None
    return StructureJudge()


__all__ = ["CLASSES", "FEATURES", "NAME", "Finding", "StructureJudge", "StructureVerdict", "content_terms", "features",
           "get_structure_judge", "read_findings"]
