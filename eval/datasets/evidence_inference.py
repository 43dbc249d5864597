"""Evidence Inference 2.0 adapter: find the evidence for a prompt in a full article, and read its direction of effect.

For each prompt (intervention, comparator, outcome over a PMC article) of the split's articles:

- ``direction_macro_f1_oracle``: ``classify_direction`` on the gold evidence (the probabilities of the
  annotators' distinct spans averaged), against the majority label;
- ``evidence_hit_at_1`` / ``evidence_hit_at_5``: the article is cut into sentences (and table rows), the
  sentences are ranked for the prompt (BM25 over the outcome and over the arms, MiniLM cosine to the
  outcome, cues that a sentence reports a result, and the finding head of ``extractor.direction``), and a
  prompt is a hit when one of its top 1 / top 5
  sentences overlaps, by at least one character, a gold evidence span of any annotator;
- ``direction_macro_f1``: end to end, ``classify_direction`` on the top-ranked sentences (their
  probabilities averaged with weights that fall with rank).

Which annotations count (``Valid Label`` / ``Valid Reasoning``) and which prompts are dropped is decided by
``eval.training.train_direction.load_prompts``, shared with training; the counts come back under ``dropped``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from eval.metrics import macro_f1
from extractor.direction import LABELS, MODEL_NAME, direction_probabilities, finding_score
from extractor.errors import ConfigError
from eval.training.train_direction import HEADING, ArticleCache, Prompt, load_prompts
from extractor.parsing.structure import split_sentences

LABEL_NAMES = tuple(d.value for d in LABELS)
RANKER_NAME = "evidence.rank.bm25-minilm-cues.v1"

_P_VALUE = re.compile(r"\bp\s*(?:-?\s*values?)?\s*(?:[=<>≤≥]|was|of|less|greater)\s*0?[.·]\d|\bp\s*[=<>≤≥]\s*0\b|\bn\.?s\.?\b", re.IGNORECASE)
_STATS = re.compile(r"\b(?:95\s*%|(?i:ci|confidence interval|odds ratio|hazard ratio|relative risk|risk ratio)\b|(?:OR|RR|HR)\b)")
_SIGNIFICANT = re.compile(r"\bsignifican|\bdiffer|\bsimilar\b|\bcomparable\b", re.IGNORECASE)
_COMPARATIVE = re.compile(
    r"\b(?:higher|lower|greater|less|fewer|more|increas\w*|decreas\w*|reduc\w*|improv\w*|worse\w*|better|shorter|longer|"
    r"superior|inferior|compared|versus|vs)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
_LETTERS = re.compile(r"[A-Za-z]")
_SECTION_PRIOR = (
    (re.compile(r"result|finding|outcome|efficacy|effect|endpoint|end point|safety|adverse|response"), 1.0),
    (re.compile(r"abstract|conclusion|summary"), 0.5),
    (re.compile(r"discussion"), -0.3),
    (re.compile(r"method|design|background|introduction|participant|patient|subject|procedure|statistic|randomi|"
                r"intervention|protocol|material|setting|sample|reference|acknowledg|abbreviation|funding|interest|"
                r"contribution|ethic|consent"), -1.0),
)


@dataclass(frozen=True)
class RankWeights:
    """Weights of the evidence-ranking score of a sentence for a prompt.

    score = outcome * BM25(outcome terms) / max + arms * BM25(arm terms) / max + cosine * cos(sentence, outcome)
    + cue weights * result cues + section prior + finding * (finding head logit). The values were picked by
    coordinate ascent over a small grid on 303 prompts of 120 articles of the train split (never on validation),
    then rounded; ``finding`` with a finding head trained on the other train articles.
    """

    outcome: float = 0.5
    arms: float = 0.4
    cosine: float = 1.0
    p_value: float = 0.2
    stats: float = 0.15
    significant: float = 0.3
    comparative: float = 0.15
    number: float = 0.2
    section: float = 0.3
    short: float = -0.5
    finding: float = 0.2


class Unit(NamedTuple):
    """A rankable piece of an article: a sentence or a table row (cells joined by newlines), half-open ``[start, end)``."""

    start: int
    end: int
    section: str
    is_row: bool


@dataclass
class Article:
    """An article cut into units, with the per-unit features that do not depend on the prompt."""

    pmcid: str
    text: str
    units: list[Unit]
    tokens: list[list[str]]
    df: Counter
    avg_len: float
    cues: np.ndarray  # (n_units, 6): p-value, stats, significance, comparative, number, section prior
    vectors: dict[int, np.ndarray] = field(default_factory=dict)

    def unit_text(self, i: int) -> str:
        u = self.units[i]
        return self.text[u.start : u.end]


def default_split(data: Path) -> str:
    """``validation`` when ``splits/validation.txt`` exists, else the one split present.

    Raises:
        ConfigError: no split file, or several and none is ``validation``.
    """
    splits = sorted(p.stem for p in (Path(data) / "splits").glob("*.txt"))
    if not splits:
        raise ConfigError(f"no splits/<split>.txt file in {data}.", hint="Point --data at the evidence_inference folder.")
    if "validation" in splits:
        return "validation"
    if len(splits) == 1:
        return splits[0]
    raise ConfigError(f"several splits in {data}: {', '.join(splits)}.", hint="Pick one with --split.")


def _is_cell(line: str) -> bool:
    """A short line with no sentence end: a table cell or a caption fragment."""
    s = line.strip()
    return 0 < len(s) < 80 and not s.endswith((".", ":", "?", "!"))


def _is_value_cell(line: str) -> bool:
    s = line.strip()
    return bool(_NUMBER.search(s)) and len(_LETTERS.findall(s)) <= max(3, len(s) // 4)


def segment_article(text: str) -> list[Unit]:
    """Cut an article (the dataset's ``txt`` layout) into sentences and table rows.

    Headings (``ABSTRACT.RESULTS:``) set the section and are not units. Runs of short lines are tables with one
    cell per line: a row is a label cell and the value cells after it. Every other line is split into sentences
    by ``extractor.parsing.structure.split_sentences``.
    """
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    units: list[Unit] = []
    section = "title"
    i = 0
    while i < len(lines):
        a, b = lines[i]
        line = text[a:b]
        if HEADING.match(line.strip()):
            section = line.strip().rstrip(":").lower()
            i += 1
            continue
        if not line.strip():
            i += 1
            continue
        if section == "title" and units:
            section = "abstract"  # the text between the title and the first heading is an unstructured abstract
        nxt = text[lines[i + 1][0] : lines[i + 1][1]] if i + 1 < len(lines) else ""
        if _is_cell(line) and (_is_cell(nxt) or _is_value_cell(nxt)):
            j = i + 1
            while j < len(lines) and _is_value_cell(text[lines[j][0] : lines[j][1]]):
                j += 1
            units.append(Unit(a, lines[j - 1][1], section, j > i + 1))
            i = j
            continue
        for s, e in split_sentences(text, a, b):
            units.append(Unit(s, e, section, False))
        i += 1
    return units


def _tokenise(text: str) -> list[str]:
    from retrieval.bm25 import tokenise

    return tokenise(text)


def _section_prior(section: str) -> float:
    for rx, value in _SECTION_PRIOR:
        if rx.search(section):
            return value
    return 0.0


def build_article(pmcid: str, text: str) -> Article:
    """Segment an article and compute its prompt-independent features."""
    units = segment_article(text)
    tokens = [_tokenise(text[u.start : u.end]) for u in units]
    df: Counter = Counter()
    for toks in tokens:
        df.update(set(toks))
    cues = np.zeros((len(units), 6), dtype=np.float32)
    for k, u in enumerate(units):
        s = text[u.start : u.end]
        cues[k] = (
            bool(_P_VALUE.search(s)),
            bool(_STATS.search(s)),
            bool(_SIGNIFICANT.search(s)),
            bool(_COMPARATIVE.search(s)),
            min(len(_NUMBER.findall(s)), 6) / 6,
            _section_prior(u.section),
        )
    avg = sum(len(t) for t in tokens) / max(len(tokens), 1)
    return Article(pmcid, text, units, tokens, df, avg, cues)


def bm25(article: Article, query: list[str], *, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """Okapi BM25 of every unit of the article for the query tokens (the article is the collection)."""
    n = len(article.units)
    scores = np.zeros(n, dtype=np.float32)
    terms = Counter(query)
    if not n or not terms:
        return scores
    for term, qtf in terms.items():
        df = article.df.get(term, 0)
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for k, toks in enumerate(article.tokens):
            tf = toks.count(term)
            if tf:
                scores[k] += qtf * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(toks) / max(article.avg_len, 1e-9)))
    return scores


def _norm(x: np.ndarray) -> np.ndarray:
    top = float(x.max()) if len(x) else 0.0
    return x / top if top > 0 else x


def _embed(article: Article, indices: list[int], encoder) -> None:
    missing = [i for i in indices if i not in article.vectors]
    if missing:
        for i, v in zip(missing, encoder.encode([article.unit_text(i) for i in missing])):
            article.vectors[i] = v


def rank_units(article: Article, prompt: Prompt, *, encoder=None, weights: RankWeights = RankWeights(), candidates: int = 20,
               query_vector: np.ndarray | None = None) -> list[tuple[int, float]]:
    """Rank the article's units as evidence for the prompt, best first.

    A cheap score (BM25 and cues) picks ``candidates`` units; only those are embedded (once per article) and
    rescored with the MiniLM cosine to the outcome and the finding head of ``extractor.direction``.

    Returns:
        ``(unit index, score)`` pairs for the candidates, best first.
    """
    if not article.units:
        return []
    w = weights
    out = _norm(bm25(article, _tokenise(prompt.outcome)))
    arms = _norm(bm25(article, _tokenise(f"{prompt.intervention} {prompt.comparator}")))
    c = article.cues
    lengths = np.array([u.end - u.start for u in article.units])
    base = (w.outcome * out + w.arms * arms + w.p_value * c[:, 0] + w.stats * c[:, 1] + w.significant * c[:, 2]
            + w.comparative * c[:, 3] + w.number * c[:, 4] + w.section * c[:, 5] + w.short * (lengths < 40))
    order = np.argsort(-base, kind="stable")[:candidates].tolist()
    score = {i: float(base[i]) for i in order}
    if w.finding:
        for i in order:
            score[i] += w.finding * finding_score(article.unit_text(i), intervention=prompt.intervention, comparator=prompt.comparator,
                                                  outcome=prompt.outcome)
    if encoder is not None and w.cosine:
        _embed(article, order, encoder)
        if query_vector is None:
            query_vector = encoder.encode([_query_text(prompt)])[0]
        for i in order:
            score[i] += w.cosine * float(article.vectors[i] @ query_vector)
    return sorted(score.items(), key=lambda t: -t[1])


def _query_text(prompt: Prompt) -> str:
    return prompt.outcome  # the arms are shared by most prompts of an article: the outcome tells them apart


def _overlaps(unit: Unit, spans: list[tuple[int, int]]) -> bool:
    return any(unit.start < e and s < unit.end for s, e in spans)


def _probabilities(text: str, prompt: Prompt, vector: np.ndarray | None) -> np.ndarray:
    return direction_probabilities(text, intervention=prompt.intervention, comparator=prompt.comparator, outcome=prompt.outcome,
                                   embedding=vector)


def run(data: Path, split: str, *, limit: int | None = None, top_k: int = 3, rank_decay: float = 0.5, use_embedding: bool = False,
        candidates: int = 20, examples_shown: int = 8, **options: object) -> dict[str, object]:
    """Score evidence finding and direction of effect on a split of Evidence Inference 2.0.

    Args:
        data: The ``evidence_inference`` folder.
        split: Split file to score (``splits/<split>.txt``).
        limit: Score only the first ``limit`` usable prompts (file order).
        top_k: How many top-ranked sentences the end-to-end direction reads.
        rank_decay: Weight of the sentence at rank r is ``rank_decay ** r`` (1 for the top one). The defaults
            (3, 0.5) were chosen with heads trained on the other train articles, scored on 120 held-out train
            articles: reading only the top sentence gave 0.70 macro F1 there, the rank-weighted top 3 0.72.
        use_embedding: Pass MiniLM vectors to ``classify_direction`` (the head with embedding features).
        candidates: Sentences per prompt that reach the MiniLM rescoring.
        examples_shown: How many scored prompts to include under ``examples``.

    Returns:
        The SPEC keys plus per-label scores, counts of dropped prompts and a few examples.

    Raises:
        ConfigError: unknown option, or the split is missing.
    """
    if options:
        raise ConfigError(f"unknown option(s) for evidence-inference: {', '.join(options)}.",
                          hint="Use limit, top_k, rank_decay, use_embedding, candidates, examples_shown.")
    from extractor.encoder import get_encoder

    prompts, dropped = load_prompts(Path(data), split)
    if limit is not None:
        prompts = prompts[:limit]
    encoder = get_encoder()
    texts = ArticleCache(Path(data))
    articles: dict[str, Article] = {}
    gold, oracle, e2e = [], [], []
    hits1 = hits5 = 0
    shown: list[dict[str, object]] = []
    query_vectors = encoder.encode([_query_text(p) for p in prompts]) if prompts else []
    for p, qv in zip(prompts, query_vectors):
        text = texts.text(p.pmcid)
        if p.pmcid not in articles:
            articles[p.pmcid] = build_article(p.pmcid, text)
        article = articles[p.pmcid]
        gold.append(p.label.value)
        # (a) oracle: the gold evidence spans, probabilities averaged over annotators
        spans = [text[a:b] for a, b in p.spans]
        vecs = encoder.encode(spans) if use_embedding else [None] * len(spans)
        probs = np.mean([_probabilities(t, p, v) for t, v in zip(spans, vecs)], axis=0)
        oracle.append(LABEL_NAMES[int(np.argmax(probs))])
        # (b) evidence finding
        ranked = rank_units(article, p, encoder=encoder, candidates=candidates, query_vector=qv)
        top = [i for i, _ in ranked[:5]]
        hit1 = bool(top) and _overlaps(article.units[top[0]], p.spans)
        hit5 = any(_overlaps(article.units[i], p.spans) for i in top)
        hits1 += hit1
        hits5 += hit5
        # (c) end to end: the top sentences' probabilities, weighted by rank
        mix = np.zeros(len(LABELS), dtype=np.float64)
        for r, i in enumerate(top[:top_k]):
            vector = article.vectors.get(i) if use_embedding else None
            mix += rank_decay**r * _probabilities(article.unit_text(i), p, vector)
        e2e.append(LABEL_NAMES[int(np.argmax(mix))] if top else LABEL_NAMES[-1])
        if len(shown) < examples_shown:
            shown.append({"prompt_id": p.prompt_id, "pmcid": p.pmcid, "intervention": p.intervention, "comparator": p.comparator,
                          "outcome": p.outcome, "gold": p.label.value, "oracle": oracle[-1], "predicted": e2e[-1], "hit_at_1": hit1,
                          "hit_at_5": hit5, "top_sentence": article.unit_text(top[0])[:400] if top else "",
                          "gold_evidence": spans[0][:400]})
    n = len(gold)
    oracle_scores = macro_f1(gold, oracle, labels=LABEL_NAMES)
    e2e_scores = macro_f1(gold, e2e, labels=LABEL_NAMES)
    return {
        "examples": n,
        "direction_macro_f1_oracle": oracle_scores["macro_f1"],
        "evidence_hit_at_1": round(hits1 / n, 4) if n else 0.0,
        "evidence_hit_at_5": round(hits5 / n, 4) if n else 0.0,
        "direction_macro_f1": e2e_scores["macro_f1"],
        "direction_accuracy_oracle": oracle_scores["accuracy"],
        "direction_accuracy": e2e_scores["accuracy"],
        "per_label_oracle": oracle_scores["per_label"],
        "per_label": e2e_scores["per_label"],
        "gold_labels": dict(Counter(gold)),
        "dropped": dict(sorted(dropped.items())),
        "articles": len({p.pmcid for p in prompts}),
        "settings": {"top_k": top_k, "rank_decay": rank_decay, "use_embedding": use_embedding, "candidates": candidates,
                     "direction": MODEL_NAME, "ranker": RANKER_NAME},
        "examples_shown": shown,
    }
