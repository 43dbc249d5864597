"""A claim's category, learned: a small linear head over the rules' own reading, cue lexicons and the words of the quote.

The rules (``extractor.claims.categorise``) key a category from cue words and the section. On submissions nobody here
wrote they read 0.74 (issue 18): "1.4 fewer days in hospital" is resource use, not an outcome; "seroma needing
aspiration" is a harm. The head reads, for each claim, features a person would: the rules' category, how many cues of
each category the quote holds (the rules' lexicons and a second one drawn from the category guideline in the SPEC:
complications are safety, time and visits are resource use, ratings and surveys are experience), the words of the
quote's opening (where a claim names what it measures), its words and word pairs, its section's category, and whether
it holds money, durations, percentages or counts. Features are hashed (CRC32, stable across runs) into
``N_BUCKETS``; a multinomial logistic regression trained by ``python -m eval.training.train_labels`` on the project's
gold (``corpus/gold.jsonl`` and ``corpus/labels/gold.jsonl``) scores them with numpy alone, so extraction needs no model
at run time. The head replaces the rules' category only when its probability reaches ``threshold`` (chosen on
document-level cross-validation, stored with the weights): where the rules are precise they stay.
"""

from __future__ import annotations

import re
import warnings
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from extractor.errors import ConfigError
from extractor.schema import ClaimCategory, Quantity, QuantityKind

NAME = "labels.linear.v1"
WEIGHTS_PATH = Path(__file__).resolve().parent / "heads" / "labels.v1.npz"
TRAIN_COMMAND = "python -m eval.training.train_labels"
N_BUCKETS = 2**18
CATEGORIES: tuple[ClaimCategory, ...] = tuple(ClaimCategory)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# What each category measures, in the words supplier documents use (the SPEC's category guideline, spelled out).
LABEL_CUES: dict[ClaimCategory, re.Pattern[str]] = {
    ClaimCategory.safety: _rx(
        r"fractur\w*|dislocat\w*|\bleaks?\b|seroma|haematoma|hematoma|wound breakdown|dehiscen\w*|revision|explant\w*|"
        r"device failure|failure rate|blockage|blocked|occlu\w+|migrat\w+|erosion|halos?\b|glare|hypersensitiv\w+|reaction|"
        r"dermatitis|pressure (?:damage|ulcers?)|wrong[- ]route|misconnect\w*|breakage|broke\w*|malfunction\w*|near[- ]miss|"
        r"perforat\w+|embol\w+|re-?operation|failures?\b|problems?\b|displace\w*|dislodg\w*|pulled out|removal"
    ),
    ClaimCategory.resource_use: _rx(
        r"days? in hospital|fewer days|days? (?:sooner|earlier|shorter)|sooner|waiting|\bwaits?\b|backlog|\bWTE\b|"
        r"hospitali[sz]ations?|reading time|time to \w+|time per|minutes? per|per (?:procedure|patient|case|eye|list|session)|"
        r"changes per|per resident|theatre|lists?\b|sessions?\b|clinic slots?|follow-up|repeat (?:tests?|scans?|procedures?)|"
        r"out-of-hours|courses|staff (?:needed|required)|to reposition|preparation time|set-up|turnround|throughput|freeing|"
        r"released|per week|a week"
    ),
    ClaimCategory.experience: _rx(
        r"\brated\b|\bsaid\b|\bsurvey\w*|would choose|would recommend|quality[- ]of[- ]life|\bEQ-5D\b|\bscores?\b|complaints?|"
        r"found (?:it|the)|easy to|hard to|difficult to|positive|strain|preferred|liked|confident|felt|reported (?:that|feeling)|"
        r"\bPROMs?\b|\bPREMs?\b|dignified|dignity|noise|odour|discreet"
    ),
    ClaimCategory.outcome: _rx(
        r"infection|heal\w*|mortality|surviv\w*|sensitivity|specificity|accuracy|detect\w*|diagnos\w*|missed|recurrence|"
        r"restenosis|remission|response|HbA1c|control|fusion|union|visual acuity|spectacle|continence|leakage|spread"
    ),
    ClaimCategory.cost: _rx(r"£|€|\$|\bcosts?\b|saving|price|budget|cash|funding|tariff|invoice|payback|net present"),
    ClaimCategory.environmental: _rx(
        r"carbon|CO2|emission|recycl\w*|waste|plastic|packaging|landfill|energy|water|weighs|lighter|plant-based|reusable|single-use"
    ),
    ClaimCategory.social: _rx(
        r"\bjobs?\b|apprentic\w*|training for|fund\w* (?:training|places)|\blocal\b|\bSMEs?\b|modern slavery|living wage|"
        r"volunteer|schools?|recruit\w*|charit\w*"
    ),
    ClaimCategory.supply: _rx(
        r"lead times?|\bstock|deliver\w*|supply|manufactur\w*|continuity|resilien\w*|shortage|warehouse|availability|turnaround|"
        r"within \d+ (?:working )?(?:days|hours)"
    ),
}
_TIME_UNITS = frozenset({"days", "hours", "minutes", "weeks", "months", "years"})
_WORD = re.compile(r"[a-z]+|0")


def _words(text: str) -> list[str]:
    return _WORD.findall(re.sub(r"\d[\d,.]*", " 0 ", text.lower()))


def category_features(quote: str, *, rule: ClaimCategory, section_prior: ClaimCategory | None, in_table: bool,
                      quantities: list[Quantity]) -> list[str]:
    """The head's input for one claim, as named features (see the module docstring)."""
    from extractor.claims import CATEGORY_CUES

    words = _words(quote)
    opening = " ".join(quote.split()[:8])
    feats = [f"w:{w}" for w in words] + [f"b:{a}_{b}" for a, b in zip(words, words[1:])] + [f"f:{w}" for w in words[:8]]
    feats += [f"rule:{rule.value}", f"section:{section_prior.value if section_prior else '-'}"]
    for cat, pattern in CATEGORY_CUES.items():
        feats.append(f"rulecue:{cat.value}:{min(len(pattern.findall(quote)), 3)}")
    for cat, pattern in LABEL_CUES.items():
        feats.append(f"cue:{cat.value}:{min(len(pattern.findall(quote)), 3)}")
        if pattern.search(opening):
            feats.append(f"opening:{cat.value}")
    kinds = {q.kind for q in quantities}
    feats += [f"has:{k}" for k, present in (("table", in_table), ("money", QuantityKind.currency in kinds),
                                             ("time", any(q.unit in _TIME_UNITS for q in quantities)),
                                             ("percent", any(q.unit == "%" for q in quantities)),
                                             ("count", QuantityKind.count in kinds)) if present]
    return feats


def hash_features(features: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique bucket ids (CRC32) and their values (unit L2 norm over the distinct features)."""
    ids = np.unique(np.fromiter((zlib.crc32(f.encode("utf-8")) % N_BUCKETS for f in features), dtype=np.int64, count=len(features)))
    return ids, np.full(len(ids), 1.0 / np.sqrt(max(len(ids), 1)), dtype=np.float32)


def _weigh(rows: np.ndarray, weights: np.ndarray, features: list[str]):
    """The hashed features' weighted sum: ``rows`` are the sorted buckets that carry ``weights``."""
    ids, vals = hash_features(features)
    pos = np.searchsorted(rows, ids)
    pos[pos >= len(rows)] = 0
    hit = rows[pos] == ids
    return vals[hit] @ weights[pos[hit]]


def _packaged(load, what: str):
    """``load()``, or None with a warning that ``what`` falls back to the rules."""
    try:
        return load()
    except ConfigError as e:
        warnings.warn(f"{e}; {what} fall back to the rules alone", stacklevel=3)
        return None


@dataclass(frozen=True)
class CategoryHead:
    """The trained head: weights for the buckets it saw, a bias, and the probability it needs to overrule the rules."""

    rows: np.ndarray  # sorted bucket ids with a weight
    weights: np.ndarray  # (len(rows), len(CATEGORIES))
    bias: np.ndarray
    threshold: float

    def probabilities(self, features: list[str]) -> np.ndarray:
        """Probability of each of ``CATEGORIES``."""
        z = _weigh(self.rows, self.weights, features) + self.bias
        e = np.exp(z - z.max())
        return e / e.sum()

    def decide(self, features: list[str], rule: ClaimCategory) -> tuple[ClaimCategory, float]:
        """The category the claim gets and its confidence: the head's when it reaches its threshold, else the rules'
        (with the head's probability of the rules' category as its confidence)."""
        p = self.probabilities(features)
        k = int(np.argmax(p))
        if p[k] >= self.threshold:
            return CATEGORIES[k], round(float(p[k]), 3)
        return rule, round(float(p[CATEGORIES.index(rule)]), 3)

    def save(self, path: Path, meta: str, outcome: OutcomeHead | None = None) -> None:
        extra = {} if outcome is None else {"outcome_rows": outcome.rows, "outcome_weights": outcome.weights.astype(np.float16),
                                            "outcome_bias": np.float32(outcome.bias)}
        np.savez_compressed(path, rows=self.rows, weights=self.weights.astype(np.float16), bias=self.bias.astype(np.float32),
                            threshold=np.float32(self.threshold), n_buckets=N_BUCKETS,
                            labels=np.array([c.value for c in CATEGORIES]), meta=np.array(meta), **extra)


def load_head(path: Path = WEIGHTS_PATH) -> CategoryHead:
    """Load the head written by ``eval.training.train_labels``.

    Raises:
        ConfigError: the file is missing, unreadable, or was trained for other features or labels.
    """
    try:
        with np.load(path) as z:
            if int(z["n_buckets"]) != N_BUCKETS or [str(x) for x in z["labels"]] != [c.value for c in CATEGORIES]:
                raise ConfigError(f"{path} was trained for other features or labels.", hint=f"Retrain it: {TRAIN_COMMAND}")
            return CategoryHead(rows=z["rows"].astype(np.int64), weights=z["weights"].astype(np.float32),
                                bias=z["bias"].astype(np.float32), threshold=float(z["threshold"]))
    except (OSError, KeyError, ValueError) as e:
        raise ConfigError(f"cannot read the category head {path} ({e}).", hint=f"Retrain it: {TRAIN_COMMAND}") from e


@lru_cache(maxsize=1)
def get_head() -> CategoryHead | None:
    """The packaged head, loaded once; ``None`` (with a warning) when it is missing, and the rules decide alone."""
    return _packaged(load_head, "claim categories")


# ------------------------------------------------------------------------------------------------ the outcome span

_NP = frozenset({"ADJ", "NOUN", "PROPN", "HYPH", "ADV"})
_LINK = frozenset({"of", "in", "for", "per", "to"})


def outcome_candidates(doc) -> list[tuple[int, int, int]]:
    """Noun phrases of a tagged quote that may name its outcome, as (start token, end token, prepositions joined):
    each run of adjectives and nouns ending in a noun, and the same run joined to the next one or two through
    "of / in / for / per / to" ("time in the therapeutic range for heparin infusions")."""
    toks = list(doc)
    nps: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        if toks[i].pos_ in ("NOUN", "PROPN", "ADJ"):
            j = i
            while j < len(toks) and (toks[j].pos_ in _NP or toks[j].text in "-/"):
                j += 1
            k = j
            while k > i and toks[k - 1].pos_ not in ("NOUN", "PROPN"):
                k -= 1
            if k > i:
                nps.append((i, k))
            i = max(j, i + 1)
        else:
            i += 1
    out = []
    for n, (a, b) in enumerate(nps):
        out.append((a, b, 0))
        end, joined = b, 0
        for nxt in nps[n + 1: n + 3]:
            if end < len(toks) and toks[end].lower_ in _LINK and nxt[0] in (end + 1, end + 2):
                end, joined = nxt[1], joined + 1
                out.append((a, end, joined))
            else:
                break
    return out


def outcome_features(doc, start: int, end: int, joined: int, *, intervention: str, category: ClaimCategory,
                     rule_outcome: str) -> list[str]:
    """What a reader weighs in choosing the outcome: where the phrase sits, its head and first words, the words around it
    (the verb before, "was" or "by" after), whether it names the product, a number, or a cue of the claim's category."""
    toks = list(doc)
    span = toks[start:end]
    n = len(toks)
    text = doc[start:end].text
    own = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", intervention)}
    head, first = span[-1].lemma_.lower(), span[0].lemma_.lower()
    feats = [f"pos:{min(int(5 * start / max(n, 1)), 4)}", f"len:{min(end - start, 6)}", f"joined:{joined}", f"head:{head}",
             f"first:{first}", f"prev:{toks[start - 1].lemma_.lower() if start else '^'}",
             f"prev2:{toks[start - 2].lemma_.lower() if start > 1 else '^'}", f"next:{toks[end].lemma_.lower() if end < n else '$'}",
             f"prevpos:{toks[start - 1].pos_ if start else '^'}", f"nextpos:{toks[end].pos_ if end < n else '$'}",
             f"cat:{category.value}", f"headcat:{head}|{category.value}"]
    if {t.lower_ for t in span} & own:
        feats.append("product")
    if any(t.like_num for t in span):
        feats.append("number")
    if LABEL_CUES[category].search(text):
        feats.append("cue_own")
    if any(p.search(text) for c, p in LABEL_CUES.items() if c is not category):
        feats.append("cue_other")
    if rule_outcome:
        shared = len(set(text.lower().split()) & set(rule_outcome.lower().split())) / max(len(set(rule_outcome.lower().split())), 1)
        feats.append(f"rule:{min(int(shared * 3), 2)}")
    else:
        feats.append("rule:none")
    return feats


@dataclass(frozen=True)
class OutcomeHead:
    """A logistic scorer of candidate outcome phrases: the best-scored phrase is the claim's outcome."""

    rows: np.ndarray
    weights: np.ndarray  # (len(rows),)
    bias: float

    def score(self, features: list[str]) -> float:
        return float(1.0 / (1.0 + np.exp(-(_weigh(self.rows, self.weights, features) + self.bias))))

    def pick(self, doc, *, intervention: str, category: ClaimCategory, rule_outcome: str) -> tuple[str, float] | None:
        """The quote's best outcome phrase (verbatim: a slice of the quote) and its score; None when it has no candidate."""
        best = None
        for start, end, joined in outcome_candidates(doc):
            p = self.score(outcome_features(doc, start, end, joined, intervention=intervention, category=category,
                                            rule_outcome=rule_outcome))
            if best is None or p > best[1]:
                best = (doc[start:end].text, p)
        return (best[0], round(best[1], 3)) if best else None


def load_outcome_head(path: Path = WEIGHTS_PATH) -> OutcomeHead:
    """The outcome span scorer saved beside the category head.

    Raises:
        ConfigError: the file is missing, unreadable, or holds no outcome scorer.
    """
    try:
        with np.load(path) as z:
            return OutcomeHead(rows=z["outcome_rows"].astype(np.int64), weights=z["outcome_weights"].astype(np.float32),
                               bias=float(z["outcome_bias"]))
    except (OSError, KeyError, ValueError) as e:
        raise ConfigError(f"cannot read the outcome scorer in {path} ({e}).", hint=f"Retrain it: {TRAIN_COMMAND}") from e


@lru_cache(maxsize=1)
def get_outcome_head() -> OutcomeHead | None:
    """The packaged outcome scorer, loaded once; ``None`` (with a warning) when missing: the rules' outcome stays."""
    return _packaged(load_outcome_head, "outcomes")
