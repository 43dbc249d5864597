"""Direction of effect of a finding sentence: rules plus a small hashed n-gram linear head.

``direction.hashlinear.v1`` reads one finding (a sentence, or a few) and says what happened to the
outcome in the intervention arm relative to the comparator arm: ``increase``, ``decrease`` or
``no_difference``. Rules find what matters (no-difference wording and its negations, p-values and
confidence intervals, comparative words, which arm the sentence is about, two values set side by
side); their verdicts become features next to hashed word n-grams of the sentence, in which the
mentions of the two arms and the outcome are replaced by placeholders so that "higher in the
placebo group" and "higher in the tinzaparin group" read differently. A multinomial linear model
over those features, trained on Evidence Inference 2.0 (``python -m eval.training.train_direction``),
is scored with numpy from ``extractor/heads/direction.v1.npz``; nothing else is needed at run time.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from extractor.errors import ConfigError
from extractor.schema import Direction

MODEL_NAME = "direction.hashlinear.v1"
WEIGHTS_PATH = Path(__file__).resolve().parent / "heads" / "direction.v1.npz"
LABELS: tuple[Direction, ...] = (Direction.increase, Direction.decrease, Direction.no_difference)
"""Output classes, in the column order of the head's weights."""
N_BUCKETS = 1 << 20
"""Size of the feature hashing space."""
EMBEDDING_DIM = 384

# Placeholder tokens for the mentions of the prompt's parts.
INT, CMP, OUT, NUM = "_int_", "_cmp_", "_out_", "_num_"

_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\u00b7": ".", "\u2009": " ",
                         "\u00a0": " ", "\u2264": "≤", "\u2265": "≥"})
_TOKEN = re.compile(r"_[a-z]+_|[a-z]+(?:'[a-z]+)?|(?<![\w.])-?\d+(?:\.\d+)?|\d+(?:\.\d+)?|[<>=≤≥±%]")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_NOT_A_VALUE = frozenset({"p", "=", "<", ">", "≤", "≥", "n", "ci", "or", "rr", "hr", "df", "t", "f", "r", "chi", "table", "figure", "fig",
                          "day", "days", "week", "weeks", "month", "months", "year", "years", "visit", "±", "sd", "se", "aged", "age"})

_STOP = frozenset(
    "a an the of in on at to for from by with without and or vs versus v plus than as per into via after before during "
    "is are was were be been being has have had do does did not no nor but if then so that this these those which who whom "
    "whose what when where while it its their them they he she his her we our us you your i me my all any some such same "
    "other another each both either neither only also more most less least very can could may might will would shall should "
    "must up down out over under again further once here there about above below between through until within "
    "group groups arm arms patient patients participant participants subject subjects people children adults women men "
    "treatment treatments treated therapy therapies intervention interventions condition conditions receiving received "
    "receive given give use using used daily day days week weeks month months year years dose doses mg kg ml g iu h hr hrs "
    "min alone standard regimen regimens combination combined programme program based care study trial high low level "
    "levels total mean rate rates number score scores time times one two three first second new usual".split()
)
_CONTROL_WORDS = frozenset({"placebo", "placebos", "control", "controls", "sham", "untreated", "conventional"})
_REFERENCE = frozenset({"than", "versus", "vs", "v", "compared", "comparison", "relative", "over", "against", "whereas", "while"})
_ARM_PREFIX = 5

_P_VALUE = re.compile(
    r"\bp\s*(?:-?\s*values?)?\s*(?:for\s+\w+\s+)?(=|<|>|≤|≥|<\s*=|>\s*=|<\s*or\s*=|was|were|of|is|less than|greater than|(?<=value)\s|(?<=values)\s)\s*"
    r"(0?\.\d+|\d+(?:\.\d+)?)(\s*(?:[x×*]\s*10\s*(?:\^|-|e)|e\s*-)\s*-?\s*\d+)?",
    re.IGNORECASE,
)
_P_NS = re.compile(r"\b(?:p\s*=?\s*n\.?s\.?|n\.s\.|ns)\b|\(\s*ns\s*\)", re.IGNORECASE)
_CI = re.compile(
    r"(?:\bci\b|confidence intervals?|credible intervals?)[\s:,;(\[=]{0,6}(?:[a-z]{1,12}[\s:,;(\[=]{1,4}){0,2}?"
    r"([-+]?\d*\.?\d+)\s*%?\s*(?:-|to|,|;|and)\s*([-+]?\d*\.?\d+)",
    re.IGNORECASE,
)
_RATIO_UPPER = re.compile(r"\b(?:a?OR|RR|a?HR|IRR|RRR|SHR)\b")
_RATIO_WORDS = re.compile(r"odds ratio|risk ratio|hazard ratio|relative risk|rate ratio|incidence ratio", re.IGNORECASE)

_NO_DIFFERENCE = re.compile(
    r"\bno\s+(?:\w+\s+){0,3}?(?:differences?|change|changes|effects?|associations?|benefits?|improvements?|reductions?|increases?|"
    r"decreases?|advantages?|impact|influence|variation|superiority|evidence)\b"
    r"|\bnot\s+(?:\w+\s+){0,2}?(?:differ|different|differently|significant|significantly|statistically|change|changed|affected|"
    r"improved|reduced|increased|decreased|altered|influenced|superior|better|worse|lower|higher|associated|reach|reached)\b"
    r"|\b(?:did|does|do|could|was|were)\s*(?:not|n't)\s+(?:\w+\s+){0,3}?(?:differ|change|affect|alter|improve|reduce|increase|decrease|"
    r"lower|raise|influence|reach|result|lead|modify|vary|show|demonstrate|produce|achieve|have)\b"
    r"|\b(?:similar|similarly|comparable|equivalent|identical|equal|equally|unchanged|unaffected|indistinguishable|"
    r"non-?significant(?:ly)?|insignificant(?:ly)?|nonsignificant(?:ly)?|non-?inferior)\b"
    r"|\bfail(?:ed|s)?\s+to\b|\bneither\b|\bno\s+(?:statistically\s+)?significan|\bnot\s+(?:statistically\s+)?significan"
    r"|\black\s+of\s+(?:a\s+)?(?:significant\s+)?(?:difference|effect)",
    re.IGNORECASE,
)
_SIGNIFICANT = re.compile(r"\bsignifican(?:t|tly|ce)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:no|not|non|n't|without|neither|nor|failed|lack|did not|was not|were not)\b", re.IGNORECASE)

# Words of change, matched against whole tokens.
_UP_WORD = re.compile(
    r"higher|greater|increase[ds]?|increasing|more|elevated|elevation|raised?|rose|rise[sn]?|larger|longer|enhanced?|"
    r"augment(?:ed|s)?|boost(?:ed|s)?|gain(?:ed|s)?|exceed(?:ed|s)?|prolong(?:ed|s)?|accelerat(?:ed|es)|doubled|tripled|excess"
)
_DOWN_WORD = re.compile(
    r"lower|less|fewer|reduced?|reduc(?:es|ing|tion|tions)|decrease[ds]?|decreasing|decline[ds]?|smaller|shorter|"
    r"diminish(?:ed|es)?|attenuat(?:ed|es|ion)|lowered|drop(?:ped|s)?|fell|fall(?:s|en)?|prevent(?:ed|s)?|suppress(?:ed|es)?|"
    r"inhibit(?:ed|s)?|cut|halved|minimi[sz]ed|shortened|relieved|alleviated|eliminated"
)
_INTENSIFIERS = frozenset({"more", "greater", "larger", "higher", "bigger", "longer"})
_NEGATORS = frozenset({"no", "not", "n't", "without", "nor", "neither", "failed", "non", "nt"})
_GROUP_LABEL = re.compile(r"\b(?:group|arm)\s+([a-z]|[0-9]{1,2}|i{1,3}|iv)\b")
_GENERIC_INT_WORDS = re.compile(r"\b(?:intervention|experimental|treatment|treated|active|verum)\b", re.IGNORECASE)
_GENERIC_INT = re.compile(r"\b(?:intervention|experimental|treatment|treated|active|verum)\s+(?:groups?|arms?|condition|patients|participants|subjects)\b",
                          re.IGNORECASE)
_VERSUS = re.compile(
    r"(-?\d+(?:\.\d+)?)\s*(%|[a-zµμ/]+(?:/[a-z]+)?)?\s*(?:\([^()]{0,40}\)\s*)?(?:,\s*)?"
    r"(?:vs\.?|versus|v\.|compared (?:with|to)|as compared (?:with|to))\s*(-?\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
_RESPECTIVELY = re.compile(r"(-?\d+(?:\.\d+)?)\s*(%|[a-z/]+)?\s*(?:\([^()]{0,40}\)\s*)?,?\s*and\s*(-?\d+(?:\.\d+)?)[^.;]{0,60}?respectively",
                           re.IGNORECASE)
_FROM_TO = re.compile(r"\bfrom\s+(-?\d+(?:\.\d+)?)\s*(%|[a-z/]+)?\s*(?:\([^()]{0,30}\)\s*)?to\s+(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_CELL_NUMBER = re.compile(r"^[-+]?\s?\d+(?:\.\d+)?")
_P_CELL = re.compile(r"^[<>=≤≥]\s*0?\.\d+")
_CLAUSE = re.compile(r";|,?\s+\b(?i:but|whereas|while|although|though|however)\b|\.\s+(?=[A-Z])")


@dataclass(frozen=True)
class Cues:
    """What the rules read in a finding (all from the clause that names the outcome, when one does)."""

    no_difference: bool
    """No-difference wording ("did not differ", "similar", "no significant ...")."""
    significant: bool
    """"significant(ly)" without a negation before it."""
    p_significant: bool
    """A p-value below 0.05."""
    p_not_significant: bool
    """A p-value of 0.05 or more, or "NS"."""
    ci: str
    """Confidence interval: ``null`` (includes no effect), ``below`` / ``above`` (a ratio under / over 1),
    ``negative`` / ``positive`` (a difference), or empty."""
    polarity: int
    """+1 for a word of increase, -1 for one of decrease, 0 for none (the one nearest to a mention of the outcome)."""
    polarity_negated: bool
    """The comparative word is under a negation ("not lower")."""
    polarity_word: str
    """The comparative word itself (lower-cased), or empty."""
    subject: str
    """The arm the sentence is about: ``int``, ``cmp`` or empty when no arm is named."""
    first_arm: str
    """The arm named first (reference or not): ``int``, ``cmp`` or empty."""
    values: int
    """Sign of the first value minus the second in "A vs B" / "A and B, respectively" / "from A to B"; 0 when none."""
    arm_values: int
    """Sign of the intervention's value minus the comparator's when each arm is given a value; 0 when not."""
    table: int
    """For a table row (cells on separate lines): sign of the first value cell minus the second; 0 otherwise."""
    table_p: str
    """For a table row ending in a p-value: ``sig`` or ``ns``; empty otherwise."""
    rule: Direction
    """The rules' own verdict; ``unspecified`` when they have none."""


@dataclass(frozen=True)
class _Head:
    """The linear head: a sparse table of hashed-feature weights, plus an optional embedding block."""

    rows: np.ndarray  # sorted bucket ids with a weight
    weights: np.ndarray  # (len(rows), 3)
    bias: np.ndarray  # (3,)
    emb_rows: np.ndarray | None
    emb_weights: np.ndarray | None  # (len(emb_rows), 3), the text weights of the model with embeddings
    emb_matrix: np.ndarray | None  # (384, 3)
    emb_bias: np.ndarray | None
    find_rows: np.ndarray | None = None  # the finding head: does this sentence report the result for this outcome?
    find_weights: np.ndarray | None = None  # (len(find_rows),)
    find_bias: float = 0.0


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DASHES)


def word_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def content_words(text: str) -> list[str]:
    return [w for w in word_tokens(text) if len(w) > 1 and w not in _STOP and not _NUMBER.match(w) and not w.startswith("_")]


def _matches(tok: str, terms: frozenset[str]) -> bool:
    """Exact match, or a shared prefix of at least 5 characters covering 80% of the shorter word ("vaccine", "vaccinated")."""
    if tok in terms:
        return True
    if len(tok) < _ARM_PREFIX:
        return False
    for t in terms:
        if len(t) < _ARM_PREFIX or t[:_ARM_PREFIX] != tok[:_ARM_PREFIX]:
            continue
        n = _ARM_PREFIX
        while n < len(t) and n < len(tok) and t[n] == tok[n]:
            n += 1
        if n >= 0.8 * min(len(t), len(tok)):
            return True
    return False


@dataclass(frozen=True)
class _Terms:
    """What marks a mention of each part of the prompt in a finding."""

    intervention: frozenset[str]
    comparator: frozenset[str]
    outcome: frozenset[str]
    labels: tuple[tuple[re.Pattern[str], str], ...]
    """Group labels ("group A", "intervention group") replaced by a placeholder before tokenising."""


@lru_cache(maxsize=4096)
def _terms(intervention: str, comparator: str, outcome: str) -> _Terms:
    """Distinctive words of each arm (shared words dropped) and of the outcome; cached, as claims repeat prompts."""
    intervention, comparator = _normalise(intervention).lower(), _normalise(comparator).lower()
    it, ct, ot = set(content_words(intervention)), set(content_words(comparator)), set(content_words(outcome))
    shared = it & ct
    it, ct = it - shared, ct - shared
    if not it & _CONTROL_WORDS:
        ct |= _CONTROL_WORDS
    labels: list[tuple[re.Pattern[str], str]] = []
    for arm, placeholder in ((intervention, INT), (comparator, CMP)):
        for m in _GROUP_LABEL.finditer(arm):
            labels.append((re.compile(rf"\b(?:group|arm)\s+{re.escape(m.group(1))}\b", re.IGNORECASE), f" {placeholder} "))
    if not _GENERIC_INT_WORDS.search(comparator):
        labels.append((_GENERIC_INT, f" {INT} "))
    return _Terms(frozenset(it - ot), frozenset(ct - ot), frozenset(ot - _CONTROL_WORDS), tuple(labels))


def _tokens(text: str, terms: _Terms) -> list[str]:
    for rx, placeholder in terms.labels:
        text = rx.sub(placeholder, text)
    return word_tokens(text)


def _p_values(text: str) -> tuple[bool, bool]:
    sig = ns = False
    for m in _P_VALUE.finditer(text):
        op = m.group(1).lower().replace(" ", "")
        if m.group(3):  # "1.2 x 10-5": tiny
            sig = True
            continue
        try:
            v = float(m.group(2))
        except ValueError:
            continue
        if v > 1:
            continue
        if op in ("<", "≤", "<=", "<or=", "lessthan"):
            sig |= v <= 0.05
            ns |= v > 0.1
        elif op in (">", "≥", ">=", "greaterthan"):
            ns = True
        else:
            sig |= v < 0.05
            ns |= v >= 0.05
    if _P_NS.search(text):
        ns = True
    return sig, ns


def _ci(text: str) -> str:
    for m in _CI.finditer(text):
        try:
            lo, hi = float(m.group(1)), float(m.group(2))
        except ValueError:
            continue
        if lo > hi:
            lo, hi = hi, lo
        ratio = bool(_RATIO_UPPER.search(text) or _RATIO_WORDS.search(text)) and lo >= 0
        null = 1.0 if ratio else 0.0
        if lo < null < hi or lo == null or hi == null:
            return "null"
        if ratio:
            return "below" if hi < 1 else "above"
        return "negative" if hi < 0 else "positive"
    return ""


def _outcome_clause(text: str, outcome_terms: frozenset[str]) -> str:
    if not outcome_terms:
        return text
    pieces, last = [], 0
    for m in _CLAUSE.finditer(text):
        pieces.append(text[last : m.start()])
        last = m.end()
    pieces.append(text[last:])
    if len(pieces) == 1:
        return text
    best, best_score = text, 0
    for piece in pieces:
        score = sum(1 for w in word_tokens(piece) if _matches(w, outcome_terms))
        if score > best_score:
            best, best_score = piece, score
    return best


def _mark(words: list[str], terms: _Terms) -> list[str]:
    out: list[str] = []
    for w in words:
        if _NUMBER.match(w):
            tok = NUM
        elif w in _STOP:
            tok = w
        elif terms.intervention and _matches(w, terms.intervention):
            tok = INT
        elif terms.comparator and _matches(w, terms.comparator):
            tok = CMP
        elif terms.outcome and _matches(w, terms.outcome):
            tok = OUT
        else:
            tok = w
        if tok in (INT, CMP, OUT, NUM) and out and out[-1] == tok:
            continue
        out.append(tok)
    return out


def _arm_values(words: list[str], terms: _Terms) -> int:
    """Sign of the intervention's value minus the comparator's when a clause gives one value per arm.

    "4.0 days with propolis and 5.0 days with aciclovir" puts each value before its arm; "propolis: 4.0,
    aciclovir: 5.0" after it. The first item of the clause decides which.
    """
    seq: list[tuple[str, float | str]] = []
    for i, w in enumerate(words):
        if _NUMBER.match(w):
            prev = words[i - 1] if i else ""
            nxt = words[i + 1 : i + 3]
            if prev in _NOT_A_VALUE or nxt[:2] == ["%", "ci"] or (nxt and nxt[0] == "ci"):
                continue
            seq.append(("num", float(w)))
        elif w == INT or (w not in _STOP and terms.intervention and _matches(w, terms.intervention)):
            if not seq or seq[-1] != ("arm", "int"):
                seq.append(("arm", "int"))
        elif w == CMP or (w not in _STOP and terms.comparator and _matches(w, terms.comparator)):
            if not seq or seq[-1] != ("arm", "cmp"):
                seq.append(("arm", "cmp"))
    arms = [i for i, (kind, _) in enumerate(seq) if kind == "arm"]
    if len(arms) < 2 or not seq or {seq[i][1] for i in arms} != {"int", "cmp"}:
        return 0
    before = seq[0][0] == "num"
    value: dict[str, float] = {}
    for k, i in enumerate(arms):
        arm = str(seq[i][1])
        if arm in value:
            continue
        if before:
            lo = arms[k - 1] + 1 if k else 0
            nums = [v for kind, v in seq[lo:i] if kind == "num"]
            if nums:
                value[arm] = float(nums[-1])
        else:
            hi = arms[k + 1] if k + 1 < len(arms) else len(seq)
            nums = [v for kind, v in seq[i + 1 : hi] if kind == "num"]
            if nums:
                value[arm] = float(nums[0])
    if len(value) < 2:
        return 0
    a, b = value["int"], value["cmp"]
    return (a > b) - (a < b)


def _arms(marked: list[str]) -> tuple[str, str]:
    """(subject arm, first arm named): the subject is the first arm not introduced as the reference."""
    first = subject = ""
    for i, tok in enumerate(marked):
        if tok not in (INT, CMP):
            continue
        arm = "int" if tok == INT else "cmp"
        first = first or arm
        window = marked[max(0, i - 3) : i]
        if not any(w in _REFERENCE for w in window):
            subject = arm
            break
    if not subject and first:
        subject = "int" if first == "cmp" else "cmp"  # only the reference is named: the other arm is the subject
    return subject, first


def _values(clause: str) -> int:
    for rx in (_VERSUS, _RESPECTIVELY):
        m = rx.search(clause)
        if m:
            a, b = float(m.group(1)), float(m.group(3))
            return (a > b) - (a < b)
    m = _FROM_TO.search(clause)
    if m:
        a, b = float(m.group(1)), float(m.group(3))
        return (b > a) - (b < a)  # a change over time: its sign is the direction
    return 0


def _polarity(marked: list[str]) -> tuple[int, bool, str]:
    """(sign, negated, word) of the comparative word nearest to a mention of the outcome (the first one when none is named)."""
    outs = [i for i, t in enumerate(marked) if t == OUT]
    best: tuple[int, int, int] | None = None
    for i, tok in enumerate(marked):
        sign = 1 if _UP_WORD.fullmatch(tok) else -1 if _DOWN_WORD.fullmatch(tok) else 0
        if not sign:
            continue
        distance = min((abs(i - j) for j in outs), default=0)
        if best is None or distance < best[0]:
            best = (distance, i, sign)
    if best is None:
        return 0, False, ""
    _, i, sign = best
    if marked[i] in _INTENSIFIERS:  # "greater reductions", "reduced SBP more than": the change itself decides
        near = [j for j in range(max(0, i - 4), min(len(marked), i + 5)) if j != i and _DOWN_WORD.fullmatch(marked[j])]
        if near:
            i, sign = min(near, key=lambda j: abs(j - i)), -1
    negated = any(w in _NEGATORS for w in marked[max(0, i - 3) : i])
    return sign, negated, marked[i]


def _significance(text: str) -> tuple[bool, bool, bool, bool, str]:
    """(no-difference wording, "significant" not negated, p < 0.05, p >= 0.05, confidence interval) in ``text``."""
    p_sig, p_ns = _p_values(text)
    nd = bool(_NO_DIFFERENCE.search(text))
    sig = False
    for m in _SIGNIFICANT.finditer(text):
        if not _NEGATION.search(text[max(0, m.start() - 25) : m.start()]):
            sig = True
            break
    return nd, sig, p_sig, p_ns, _ci(text)


def _table_row(text: str) -> tuple[int, str]:
    """A table row ("label / value / value / p"): (sign of first value minus second, ``sig`` / ``ns`` / "" from a last p-like cell)."""
    cells = [c.strip() for c in text.strip().split("\n") if c.strip()]
    if len(cells) < 3:
        return 0, ""
    numbers = []
    for cell in cells[1:]:
        m = _CELL_NUMBER.match(cell)
        numbers.append(float(m.group(0).replace(" ", "")) if m else None)
    values = [v for v in numbers if v is not None]
    p = ""
    if len(values) >= 3 and numbers[-1] is not None and 0 <= numbers[-1] <= 1 and "." in cells[-1]:
        p = "sig" if numbers[-1] < 0.05 else "ns"
        values = values[:-1]
    elif _P_CELL.search(cells[-1]):
        sig, ns = _p_values(cells[-1].replace("<", "p<").replace(">", "p>").replace("=", "p="))
        p = "sig" if sig else "ns" if ns else ""
    if len(values) < 2:
        return 0, p
    a, b = values[0], values[1]
    return (a > b) - (a < b), p


def _read(evidence: str, intervention: str, comparator: str, outcome: str) -> tuple[Cues, list[str], list[str]]:
    """The cues, the marked tokens of the whole finding and those of the outcome's clause."""
    text = _normalise(evidence)
    terms = _terms(intervention, comparator, outcome)
    clause = _outcome_clause(text, terms.outcome)
    marked = _mark(_tokens(text, terms), terms)
    marked_clause = marked if clause is text else _mark(_tokens(clause, terms), terms)
    nd, sig, p_sig, p_ns, ci = _significance(clause)
    if clause is not text and not (nd or sig or p_sig or p_ns or ci):
        nd, sig, p_sig, p_ns, ci = _significance(text)  # the clause names the outcome, another sentence its test
    table, table_p = _table_row(evidence) if "\n" in evidence.strip() else (0, "")
    polarity, negated, word = _polarity(marked_clause)
    subject, first = _arms(marked_clause)  # the arm of the clause that names the outcome, if it names one
    values = _values(clause)
    arm_values = _arm_values(_tokens(clause, terms), terms)
    not_sig = nd or (p_ns and not p_sig) or (ci == "null" and not p_sig) or table_p == "ns"
    rule = Direction.unspecified
    if not_sig and not (sig and not nd and p_sig):
        rule = Direction.no_difference
    else:
        sign = 0
        if polarity and not negated:
            sign = polarity if subject != "cmp" else -polarity
        elif ci in ("below", "above"):
            sign = -1 if ci == "below" else 1
        elif arm_values:
            sign = arm_values
        elif values:
            sign = values if first != "cmp" else -values
        elif table:
            sign = table
        if sign:
            rule = Direction.increase if sign > 0 else Direction.decrease
    cues = Cues(no_difference=nd, significant=sig, p_significant=p_sig, p_not_significant=p_ns, ci=ci, polarity=polarity,
                polarity_negated=negated, polarity_word=word, subject=subject, first_arm=first, values=values, arm_values=arm_values, table=table,
                table_p=table_p, rule=rule)
    return cues, marked, marked_clause


def direction_cues(evidence: str, *, intervention: str = "", comparator: str = "", outcome: str = "") -> Cues:
    """Read a finding with the rules alone.

    Args:
        evidence: The finding sentence(s).
        intervention: The intervention arm as the prompt or claim names it.
        comparator: The comparator arm.
        outcome: The outcome measure.

    Returns:
        The cues and the rules' verdict (``Direction.unspecified`` when they cannot tell).
    """
    return _read(evidence, intervention, comparator, outcome)[0]


def direction_features(evidence: str, *, intervention: str = "", comparator: str = "", outcome: str = "") -> list[str]:
    """The head's input: rule cues and n-grams of the finding with the prompt's mentions replaced by placeholders.

    Args:
        evidence: The finding sentence(s).
        intervention: The intervention arm.
        comparator: The comparator arm.
        outcome: The outcome measure.

    Returns:
        Feature strings (hashed into ``N_BUCKETS`` buckets by ``hash_features``).
    """
    cues, marked, clause = _read(evidence, intervention, comparator, outcome)
    feats = ["bias", f"r:rule={cues.rule.value}", f"r:ci={cues.ci}", f"r:subj={cues.subject}", f"r:first={cues.first_arm}",
             f"r:pol={cues.polarity}", f"r:vals={cues.values}", f"r:vals={cues.values}|first={cues.first_arm}",
             f"r:pol={cues.polarity}|subj={cues.subject}|neg={cues.polarity_negated}",
             f"r:word={cues.polarity_word}|subj={cues.subject}|neg={cues.polarity_negated}",
             f"r:table={cues.table}|p={cues.table_p}", f"r:armvals={cues.arm_values}"]
    for name in ("no_difference", "significant", "p_significant", "p_not_significant", "polarity_negated"):
        if getattr(cues, name):
            feats.append(f"r:{name}")
    feats.append(f"r:nd={cues.no_difference}|sig={cues.significant}|psig={cues.p_significant}|pns={cues.p_not_significant}")
    for prefix, toks in (("w", marked), ("c", clause)):
        padded = ["<s>", *toks, "</s>"]
        feats.extend(f"{prefix}1:{t}" for t in toks)
        feats.extend(f"{prefix}2:{a} {b}" for a, b in zip(padded, padded[1:]))
        if prefix == "w":
            feats.extend(f"{prefix}3:{a} {b} {c}" for a, b, c in zip(padded, padded[1:], padded[2:]))
    return feats


def hash_features(features: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The sparse input vector: sorted unique bucket ids (CRC32, stable across runs) and their values (unit L2 norm)."""
    ids = np.unique(np.fromiter((zlib.crc32(f.encode("utf-8")) % N_BUCKETS for f in features), dtype=np.int64, count=len(features)))
    return ids, np.full(len(ids), 1.0 / np.sqrt(max(len(set(features)), 1)), dtype=np.float32)


def load_head(path: Path = WEIGHTS_PATH) -> _Head:
    """Load the head's weights from an ``.npz`` file written by ``eval.training.train_direction``.

    Raises:
        ConfigError: the file is missing or is not a direction head.
    """
    try:
        with np.load(path) as z:
            if int(z["n_buckets"]) != N_BUCKETS or [str(x) for x in z["labels"]] != [d.value for d in LABELS]:
                raise ConfigError(f"{path} was trained for other features or labels.", hint="Retrain: python -m eval.training.train_direction.")
            emb = "emb_rows" in z.files
            find = "find_rows" in z.files
            return _Head(
                rows=z["rows"].astype(np.int64), weights=z["weights"].astype(np.float32), bias=z["bias"].astype(np.float32),
                emb_rows=z["emb_rows"].astype(np.int64) if emb else None,
                emb_weights=z["emb_weights"].astype(np.float32) if emb else None,
                emb_matrix=z["emb_matrix"].astype(np.float32) if emb else None,
                emb_bias=z["emb_bias"].astype(np.float32) if emb else None,
                find_rows=z["find_rows"].astype(np.int64) if find else None,
                find_weights=z["find_weights"].astype(np.float32) if find else None,
                find_bias=float(z["find_bias"]) if find else 0.0,
            )
    except (OSError, KeyError, ValueError) as e:
        raise ConfigError(f"cannot read the direction head {path} ({e}).",
                          hint="Train it: python -m eval.training.train_direction --data ../shared/data/evidence_inference.") from e


@lru_cache(maxsize=1)
def get_head() -> _Head | None:
    """The packaged head, loaded once; ``None`` (with a warning) when it is missing, and the rules decide alone."""
    try:
        return load_head()
    except ConfigError as e:
        warnings.warn(f"{e}; direction falls back to rules only", stacklevel=2)
        return None


def _lookup(rows: np.ndarray, weights: np.ndarray, ids: np.ndarray, vals: np.ndarray) -> np.ndarray:
    pos = np.searchsorted(rows, ids)
    pos[pos >= len(rows)] = 0
    hit = rows[pos] == ids
    return vals[hit] @ weights[pos[hit]]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def direction_probabilities(
    evidence: str,
    *,
    intervention: str = "",
    comparator: str = "",
    outcome: str = "",
    embedding: np.ndarray | None = None,
    head: _Head | None = None,
) -> np.ndarray:
    """Probabilities of ``LABELS`` for a finding (see ``classify_direction``); rules only when no head is available."""
    head = head or get_head()
    if head is None:
        rule = direction_cues(evidence, intervention=intervention, comparator=comparator, outcome=outcome).rule
        if rule is Direction.unspecified:
            return np.full(3, 1 / 3, dtype=np.float32)
        return np.array([0.8 if d is rule else 0.1 for d in LABELS], dtype=np.float32)
    ids, vals = hash_features(direction_features(evidence, intervention=intervention, comparator=comparator, outcome=outcome))
    if embedding is not None and head.emb_matrix is not None:
        vec = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if vec.shape[0] != head.emb_matrix.shape[0]:
            raise ConfigError(f"the embedding has {vec.shape[0]} dimensions; the direction head expects {head.emb_matrix.shape[0]}.",
                              hint="Pass the all-MiniLM-L6-v2 vector of the evidence text (extractor.encoder).")
        z = _lookup(head.emb_rows, head.emb_weights, ids, vals) + vec @ head.emb_matrix + head.emb_bias
    else:
        z = _lookup(head.rows, head.weights, ids, vals) + head.bias
    return _softmax(z)


def finding_score(
    sentence: str,
    *,
    intervention: str = "",
    comparator: str = "",
    outcome: str = "",
    head: _Head | None = None,
) -> float:
    """How much a sentence looks like the report of the result for this outcome and these arms (a logit).

    The finding head shares the direction head's features (the outcome and arm mentions marked, p-values,
    comparisons); it was trained to tell the annotated evidence from the other sentences of the same articles
    that mention the outcome. Use it to rank the sentences of a paper; 0.0 when no finding head is packaged.

    Args:
        sentence: The sentence (or table row).
        intervention: The intervention arm.
        comparator: The comparator arm.
        outcome: The outcome measure.
        head: Weights to use instead of the packaged ones.

    Returns:
        The logit: above 0 when the sentence is more likely the finding than not.
    """
    head = head or get_head()
    if head is None or head.find_rows is None:
        return 0.0
    ids, vals = hash_features(direction_features(sentence, intervention=intervention, comparator=comparator, outcome=outcome))
    return float(_lookup(head.find_rows, head.find_weights, ids, vals)) + head.find_bias


def classify_direction(
    evidence: str,
    *,
    intervention: str = "",
    comparator: str = "",
    outcome: str = "",
    embedding: np.ndarray | None = None,
) -> tuple[Direction, float]:
    """Direction of the outcome for the intervention relative to the comparator, as a finding reports it.

    Args:
        evidence: The finding: one sentence, or a few joined by spaces.
        intervention: The intervention arm (e.g. "tinzaparin"); its mentions are told apart from the comparator's.
        comparator: The comparator arm (e.g. "unfractionated heparin"); "placebo", "control", "sham" and "usual
            care" count as the comparator unless the intervention names them.
        outcome: The outcome measure; when the finding reports several, the clause naming this one weighs most.
        embedding: Optional all-MiniLM-L6-v2 unit vector of ``evidence`` (``extractor.encoder``); when given,
            the head trained on n-grams plus embeddings scores it, which is a little more accurate.

    Returns:
        ``(direction, probability)``: one of ``increase`` / ``decrease`` / ``no_difference`` with its probability.

    Raises:
        ConfigError: ``embedding`` has the wrong size.
    """
    probs = direction_probabilities(evidence, intervention=intervention, comparator=comparator, outcome=outcome, embedding=embedding)
    k = int(np.argmax(probs))
    return LABELS[k], float(probs[k])
