"""Candidate readings of one RCT comparison's arm numbers (events, group sizes, means, SDs), each grounded and described.

The rules here find every table row, pair of rows and Results sentence that could hold the comparison's per-arm
values, and every statement of a group size; they describe each candidate with features (where it lies, how the
arms were told apart, the number format, what agrees with what) and leave the choice among them, and whether
to trust it, to the scored reader in ``extractor.arms.score``.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from extractor.arms.grid import grids
from extractor.schema import ArmNumbers, Document, NumberSource, Span

__all__ = ["Reading", "SizeCandidate", "candidate_sizes", "read_candidates", "recompute_effect", "source_of"]


# --- effects ------------------------------------------------------------------------------------


def recompute_effect(arms: ArmNumbers) -> dict[str, float]:
    """Effect sizes recomputed from arm-level numbers.

    Binary arms give the risk in each arm, the risk ratio (``rr``), the relative risk reduction
    (``rrr``, a fraction: 0.455 for 45.5%), the risk difference (``rd``, intervention minus comparator)
    and the odds ratio (``or``, when no cell is zero). Continuous arms give the mean difference
    (``md``, intervention minus comparator). Whatever cannot be computed is left out.

    Args:
        arms: The arm numbers (only the fields of its outcome type are used).

    Returns:
        A dict of the effects that could be computed, e.g. ``{"risk_intervention": 0.06,
        "risk_comparator": 0.11, "rr": 0.545, "rrr": 0.455, "rd": -0.05, "or": 0.518}``.
    """
    out: dict[str, float] = {}
    if arms.outcome_type == "binary":
        e1, n1, e0, n0 = arms.intervention_events, arms.intervention_group_size, arms.comparator_events, arms.comparator_group_size
        if None in (e1, n1, e0, n0) or not n1 or not n0:
            return out
        r1, r0 = e1 / n1, e0 / n0
        out.update(risk_intervention=r1, risk_comparator=r0, rd=r1 - r0)
        if r0 > 0:
            out["rr"] = r1 / r0
            out["rrr"] = 1 - r1 / r0
        if 0 < e1 < n1 and 0 < e0 < n0:
            out["or"] = (e1 / (n1 - e1)) / (e0 / (n0 - e0))
    elif arms.outcome_type == "continuous":
        m1, m0 = arms.intervention_mean, arms.comparator_mean
        if m1 is not None and m0 is not None:
            out["md"] = m1 - m0
    return out


# --- text preparation ---------------------------------------------------------------------------
# Every pattern runs over a "clean" copy of Document.text of the same length (markup blanked,
# minus signs unified), so a match's offsets are offsets into Document.text.

_MD_LINK = re.compile(r"\[([^\]\n]{0,80})\]\(#?[^)\s]{0,200}\)")
_MD_SUP = re.compile(r"\^[^\^\n]{0,60}\^")
_MD_ATTR = re.compile(r"\{\.[a-z-]+\}|:::+(?: ?[a-z-]+)?")
_MD_EMPH = re.compile(r"[*_`|]")
_CHAR_MAP = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\u00b7": ".", "\u2264": "<",
                           "\u2265": ">", "\u00a0": " ", "\t": " "})


def _blank(m: re.Match[str]) -> str:
    """Spaces as long as the match, so that offsets stay put."""
    return " " * (m.end() - m.start())


def _unlink(m: re.Match[str]) -> str:
    """A Markdown link keeps its text, a footnote marker such as '[1](#)' goes."""
    inner = m.group(1)
    if len(inner) <= 3 and inner.isalnum():
        return " " * (m.end() - m.start())
    return " " + inner + " " * (m.end() - m.start() - 1 - len(inner))


def _clean(text: str) -> str:
    """Same-length copy of ``text`` with Markdown markup blanked and dashes/minus signs unified."""
    text = _MD_LINK.sub(_unlink, text)
    text = _MD_SUP.sub(_blank, text)
    text = _MD_ATTR.sub(_blank, text)
    text = _MD_EMPH.sub(" ", text)
    return text.translate(_CHAR_MAP)


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:'s)?")
_WORD_PARTS = re.compile(r"[-/]")
_CAPS_TOKEN = re.compile(r"(?<![\w-])([A-Z][A-Za-z]*[A-Z])s?(?![\w])")
_STOP = frozenset(
    "a an the of in on at to for with without by from and or vs versus than as is was were be been are that this these those "
    "who which whose during after before between among within into per its their his her group groups arm arms patients patient "
    "participants participant subjects subject cases case people women men children adults score scores scale total mean "
    "number rate rates level levels change changes value values status incidence proportion percentage using use used "
    "received receiving treated given".split()
)
_GENERIC_ARM = frozenset("treatment therapy program programme session sessions standard usual care intervention control "
                         "group groups cases patients arm only alone plus".split())
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty".split())}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}


_SUFFIXES = (("ies", "y"), ("sses", "ss"), ("ness", ""), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("al", ""), ("ly", ""))


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A light suffix-stripping stem ('prescriptions' -> 'prescription', 'reported' -> 'report')."""
    w = word.lower()
    if w.endswith("'s"):
        w = w[:-2]
    for suffix, keep in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 4 and not w.endswith("ss" if suffix == "s" else "\0"):
            return w[: len(w) - len(suffix)] + keep
    return w


def _content(text: str) -> list[str]:
    """Stemmed content words of ``text``."""
    return [_stem(w) for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 1]


# --- numbers in text ----------------------------------------------------------------------------

_N = r"(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(?:\.\d+)?"
_SN = r"-?" + _N
_PM = r"(?:±|\+/-|\+ ?- ?(?=\d))"
_ITEM = re.compile(
    "|".join(
        [
            rf"(?P<neq>\(?[ ]*\b[nN][ ]*[=:][ ]*(?P<neq_n>{_N})[ ]*\)?)",
            rf"(?P<of>(?P<oa>{_N})[ ](?:out[ ])?of[ ](?:the[ ])?(?P<ob>{_N})(?:[ ]?[(\[][ ]?(?P<op>{_N})[ ]?%?[ ]?[)\]])?)",
            rf"(?P<frac>(?P<fa>{_N})[ ]?/[ ]?(?P<fb>{_N})(?:[ ]?[(\[][ ]?(?P<fp>{_N})[ ]?%?[ ]?[)\]])?)",
            rf"(?P<ppm>\([ ]?\)?[ ]?(?P<ppm_m>{_SN})[ ]?{_PM}[ ]?(?P<ppm_s>{_N})[ ]?\)?)",
            rf"(?P<pm>(?P<pm_m>{_SN})[ ]?(?:\([ ]?{_PM}[ ]?(?P<pm_s2>{_N})[ ]?\)|{_PM}[ ]?(?P<pm_s>{_N})))",
            rf"(?P<msd>(?P<msd_m>{_SN})[ ]?[(\[,;][ ]?(?:SD|sd|S\.D\.|s\.d\.)[ ]?[=:]?[ ]?(?P<msd_s>{_N})[ ]?[)\]]?)",
            rf"(?P<range>[(\[]?(?P<ra>{_SN})[ ]?(?:-{{1,2}}|\bto\b)[ ]?(?P<rb>{_SN})[)\]]?)",
            rf"(?P<pair>(?P<pa>{_SN})[ ]{{0,3}}[(\[][ ]?(?P<pb>{_SN})[ ]?(?P<pp>%?)[ ]?[)\]])",
            rf"(?P<pval>(?:\b[pP][ ]?(?:value)?[ ]?)?[<>=][ ]?=?[ ]?(?P<pv>{_N}))",
            rf"(?P<pct>(?P<pc>{_SN})[ ]?%)",
            r"(?P<miss>(?<=\s)(?:-{1,3}|NA|NR|N/A)(?=\s|$))",
            rf"(?P<num>(?<![\w.])(?P<nv>{_SN})(?![\w.]))",
        ]
    )
)
"""Number-shaped things, longest shape first. Spaces only (never a line break) may sit inside one: tabs are spaces in the
clean text, and no item spans two lines, so the whole text can be scanned once."""
_KINDS = ("neq", "of", "frac", "ppm", "pm", "msd", "range", "pair", "pval", "pct", "miss", "num")
_PARTS = {"neq": ("neq_n", None), "of": ("oa", "ob"), "frac": ("fa", "fb"), "ppm": ("ppm_m", "ppm_s"), "pm": ("pm_m", "pm_s"), "msd": ("msd_m", "msd_s"),
          "pair": ("pa", "pb"), "pct": ("pc", None), "num": ("nv", None)}


def _to_float(s: str) -> float:
    """A number as written ('1,831', '-0.7') as a float."""
    return float(s.replace(" ", "").replace(",", ""))


@dataclass
class _Item:
    """One number-shaped thing in the text: a fraction, a mean ± SD, an 'a (b)' pair, a count, ..."""

    kind: str
    start: int
    end: int
    a: float | None = None
    b: float | None = None
    pct: float | None = None
    raw_a: str = ""
    raw_b: str = ""
    a_span: tuple[int, int] | None = None
    b_span: tuple[int, int] | None = None

    @property
    def is_int_a(self) -> bool:
        return self.a is not None and "." not in self.raw_a and self.a >= 0


def _items(clean: str, start: int, end: int) -> list[_Item]:
    """Number-shaped items of ``clean[start:end]`` (offsets into the full text)."""
    out: list[_Item] = []
    for m in _ITEM.finditer(clean, start, end):
        kind = next(k for k in _KINDS if m.group(k) is not None)
        it = _Item(kind, m.start(), m.end())
        g = m.group
        first, second = _PARTS.get(kind, (None, None))
        if first:
            it.a_span = m.span(first)
        if second and g(second) is not None:
            it.b_span = m.span(second)
        if kind == "neq":
            it.a, it.raw_a = _to_float(g("neq_n")), g("neq_n")
        elif kind in ("frac", "of"):  # "12/120 (10%)", "12 of 120 (10%)"
            ka, kb, kp = ("fa", "fb", "fp") if kind == "frac" else ("oa", "ob", "op")
            it.kind = "frac"
            it.a, it.b, it.raw_a, it.raw_b = _to_float(g(ka)), _to_float(g(kb)), g(ka), g(kb)
            it.pct = _to_float(g(kp)) if g(kp) else None
            if it.a > it.b or "." in g(ka) or "." in g(kb):
                it.kind = "junk"
        elif kind == "pm" and g("pm_s2") is not None:  # "97.6 (±20.8)"
            it.a, it.b, it.raw_a, it.raw_b = _to_float(g("pm_m")), _to_float(g("pm_s2")), g("pm_m"), g("pm_s2")
            it.b_span = m.span("pm_s2")
        elif kind in ("ppm", "pm", "msd"):
            it.a, it.b, it.raw_a, it.raw_b = _to_float(g(kind + "_m")), _to_float(g(kind + "_s")), g(kind + "_m"), g(kind + "_s")
        elif kind == "range":
            it.a, it.b = _to_float(g("ra")), _to_float(g("rb"))
        elif kind == "pair":
            it.a, it.b, it.raw_a, it.raw_b = _to_float(g("pa")), _to_float(g("pb")), g("pa"), g("pb")
            if g("pp"):
                it.pct = it.b
        elif kind == "pval":
            it.a = _to_float(g("pv"))
        elif kind == "pct":
            it.a, it.raw_a = _to_float(g("pc")), g("pc")
            it.pct = it.a
        elif kind == "num":
            it.a, it.raw_a = _to_float(g("nv")), g("nv").replace(" ", "")
        out.append(it)
    return out


# --- arms and outcome: what to look for -----------------------------------------------------------

_ROLE = {
    "intervention": re.compile(
        r"(?<![-\w])(?:intervention|experimental|treatment group|treated group|study group)(?![-\w])", re.IGNORECASE
    ),
    "comparator": re.compile(r"(?<![-\w])(?:controls?|placebo|usual care|comparison group|sham|TAU)(?![-\w])", re.IGNORECASE),
}
_NEGATED_SUFFIX = re.compile(r"^([a-z]{3,})(?:less|free)$", re.IGNORECASE)
_ACRONYM_IN_NAME = re.compile(r"\(([A-Za-z][A-Za-z0-9\-]{1,12})\)")


def _word_pattern(words: list[str]) -> str:
    """A pattern for the words in order, separated by spaces or hyphens."""
    return r"(?<![\w])" + r"[\s\-]+".join(re.escape(w) for w in words) + r"(?![\w])"


def _initials(words: list[str]) -> set[str]:
    """Acronyms a name may go by: initials of every run of two or more of its words."""
    parts: list[str] = []
    for w in words:
        parts.extend(p for p in _WORD_PARTS.split(w) if p)
    out = set()
    for i in range(len(parts)):
        for j in range(i + 2, len(parts) + 1):
            acro = "".join(p[0] for p in parts[i:j]).upper()
            if 2 <= len(acro) <= 6:
                out.add(acro)
    return out


@dataclass
class _Arm:
    """One arm's name and the patterns that mention it in the text."""

    role: str
    name: str
    weak: re.Pattern[str]
    strong: list[re.Pattern[str]] = field(default_factory=list)


def _arm_patterns(role: str, name: str, other: str) -> _Arm:
    """Patterns for one arm: its full name, acronyms, distinctive words ("fluoxetine", "unit A"), and role words."""
    arm = _Arm(role, name, _ROLE[role])
    bare = _ACRONYM_IN_NAME.sub(" ", name)
    words = _WORD.findall(bare)
    other_stems = {_stem(w) for w in _WORD.findall(_ACRONYM_IN_NAME.sub(" ", other))}
    if words:
        arm.strong.append(re.compile(_word_pattern(words), re.IGNORECASE))
    for acro in _ACRONYM_IN_NAME.findall(name):
        arm.strong.append(re.compile(r"(?<![\w-])" + re.escape(acro) + r"s?(?![\w-])"))
    content = [w for w in words if w.lower() not in _STOP or len(w) == 1]
    minor = {"the", "a", "an", "of", "and", "with", "in", "for"}
    shared = _initials([w for w in _WORD.findall(_ACRONYM_IN_NAME.sub(" ", other)) if w.lower() not in minor])
    shared |= {a.upper() for a in _ACRONYM_IN_NAME.findall(other)}
    for acro in _initials([w for w in words if w.lower() not in minor]):
        if acro not in shared:
            arm.strong.append(re.compile(r"(?<![\w-])" + re.escape(acro) + r"s?(?![\w-])"))
    for i, w in enumerate(words):
        low = w.lower()
        neg = _NEGATED_SUFFIX.match(low)
        if neg:  # "stentless" is also written "without stent" or "stent-free"
            stem = neg.group(1)
            negated = rf"(?<![\w])(?:without|no|free of)\s+(?:an?\s+)?{stem}\w*|{stem}[\s-]?(?:free|less)"
            arm.strong.append(re.compile(negated, re.IGNORECASE))
            continue
        if len(w) == 1 and w.isupper() and i > 0:  # "unit A": the letter only counts after its noun
            arm.strong.append(re.compile(rf"(?<![\w]){re.escape(words[i - 1])}\s+{w}(?![\w])", re.IGNORECASE))
            continue
        if low in _STOP or low in _GENERIC_ARM or len(w) < 3 or _stem(w) in other_stems or w not in content:
            continue
        arm.strong.append(re.compile(rf"(?<![\w]){re.escape(_stem(w)[:max(4, len(_stem(w)))])}[\w]*", re.IGNORECASE))
    return arm


@dataclass
class _Mention:
    """Where an arm is named in the text; ``strong`` for its own name, not a role word such as 'control'."""

    role: str
    start: int
    end: int
    strong: bool


_NEGATION_BEFORE = re.compile(r"(?:without|no|non)[\s-]*$", re.IGNORECASE)
_PRE_POST_BEFORE = re.compile(r"(?:pre|post)[\s-]?$", re.IGNORECASE)


def _mentions(arms: tuple[_Arm, _Arm], clean: str, start: int, end: int) -> list[_Mention]:
    """Mentions of either arm in ``clean[start:end]``, left to right, overlaps resolved (strong first)."""
    found: list[_Mention] = []
    for arm in arms:
        for pat in arm.strong:
            for m in pat.finditer(clean, start, end):
                if "without" not in m.group(0).lower() and _NEGATION_BEFORE.search(clean[max(0, m.start() - 9) : m.start()]):
                    continue
                found.append(_Mention(arm.role, m.start(), m.end(), True))
    for arm in arms:
        for m in arm.weak.finditer(clean, start, end):
            if _PRE_POST_BEFORE.search(clean[max(0, m.start() - 5) : m.start()]):
                continue  # "post-intervention" is a time, not the intervention arm
            found.append(_Mention(arm.role, m.start(), m.end(), False))
    found.sort(key=lambda x: (x.start, -x.strong, -(x.end - x.start)))
    out: list[_Mention] = []
    for m in found:
        if out and m.start < out[-1].end:
            last = out[-1]
            if m.strong and not last.strong:
                out[-1] = m
            elif last.role == m.role:
                last.end = max(last.end, m.end)
            continue
        if out and out[-1].role == m.role and m.start - out[-1].end <= 2 and "\n" not in clean[out[-1].end : m.start]:
            out[-1].end = m.end  # "person-centred GP" then "consultations": one mention
            continue
        out.append(m)
    return out


def _words_before(clean: str, at: int, count: int) -> list[str]:
    """Stems of the ``count`` word parts just before offset ``at`` ('adverse events (' -> ['advers', 'event'])."""
    parts = [_stem(p) for w in _WORD.findall(clean[max(0, at - 120) : at]) for p in _WORD_PARTS.split(w) if p]
    return parts[-count:]


class _Outcome:
    """The outcome's words, weighted by how rare they are in the document, and its acronyms."""

    def __init__(self, outcome: str, df: dict[str, int], n_units: int) -> None:
        self.words = list(dict.fromkeys(_content(_ACRONYM_IN_NAME.sub(" ", outcome))))
        phrase = [w.lower() for w in _WORD.findall(_ACRONYM_IN_NAME.sub(" ", outcome))]
        while phrase and phrase[0] in ("the", "a", "an"):
            phrase.pop(0)
        self.phrase = " ".join(phrase) if len(phrase) >= 2 else ""
        self.weights = {w: math.log((n_units + 1) / (df.get(w, 0) + 1)) + 1.0 for w in self.words}
        if len(self.words) >= 2:  # the head noun ("junction obstruction") says most about what was measured
            self.weights[self.words[-1]] *= 2.0
        self.total = sum(self.weights.values()) or 1.0
        raw = _WORD.findall(_ACRONYM_IN_NAME.sub(" ", outcome))
        self.acronyms: dict[str, list[str]] = {}
        self.derived: set[str] = set()
        for acro in _ACRONYM_IN_NAME.findall(outcome):
            self.acronyms[acro.rstrip("s")] = self.words
        parts: list[str] = []
        for w in raw:
            parts.extend(p for p in _WORD_PARTS.split(w) if p)
        for i in range(len(parts)):
            for j in range(i + 2, min(len(parts), i + 5) + 1):
                run = parts[i:j]
                if run[0].lower() in _STOP or run[-1].lower() in _STOP:
                    continue
                acro = "".join(p[0] for p in run).upper()
                if acro not in self.acronyms:
                    self.acronyms[acro] = [_stem(p) for p in run]
                    self.derived.add(acro)

    def check_acronyms(self, clean: str) -> None:
        """Keep an acronym made from the outcome's initials only where the text defines it so ('adverse events (AEs)'),
        or, when the text does not define it, where it is at least three letters long ('BMI', not 'MI')."""
        for acro in list(self.derived):
            defined = [m.start() for m in re.finditer(rf"\(\s*{re.escape(acro)}s?\s*\)", clean)]
            words = self.acronyms[acro]
            ok = any(_words_before(clean, at, len(acro)) == words for at in defined) if defined else len(acro) >= 3
            if not ok:
                del self.acronyms[acro]

    def score(self, text: str) -> float:
        """Weighted share of the outcome's words found in ``text`` (0-1)."""
        if not self.words:
            return 0.0
        stems = set(_content(text))
        hit = set()
        for w in self.words:
            if w in stems or (len(w) >= 5 and any(abs(len(s) - len(w)) <= 3 and (s.startswith(w) or w.startswith(s)) for s in stems)):
                hit.add(w)
        for tok in _CAPS_TOKEN.findall(text):
            for acro, covered in self.acronyms.items():
                if tok == acro:
                    hit.update(c for c in covered if c in self.weights)
        return sum(self.weights[w] for w in hit) / self.total

    def verbatim(self, text: str) -> bool:
        """True when the outcome's words appear in ``text`` in the same order, as one phrase."""
        return bool(self.phrase) and f" {self.phrase} " in " " + " ".join(w.lower() for w in _WORD.findall(text)) + " "


# --- table rows read from the text lines --------------------------------------------------------

_LABEL_WORD = re.compile(r"[A-Za-z]{2,}")
_FOOTNOTE = re.compile(r"^[\s*†‡§¶#,;:.\-]*(?:\b(?:[ivx]{1,4}|[a-h])\b[\s*†‡§¶#,;:.]*)*$")
_CAPTION = re.compile(r"(?:^|\s)(?:Table|TABLE)\s*\d+[.:]?")
_RULE_LINE = re.compile(r"^[\s\-=+|:]*$")
_TOTAL = re.compile(r"(?<![\w])(?:total|overall|all patients|all)(?![\w])", re.IGNORECASE)
_MEAN_CTX = re.compile(r"(?<![\w])(?:means?|SD|S\.D\.|standard deviation|m \(SD\))(?![\w])|±", re.IGNORECASE)
_COUNT_CTX = re.compile(r"(?<![\w])(?:n|no\.?|number)\s*\(\s?%\s?\)|\(\s?%\s?\)|\bn\s?\(\s?%\s?\)", re.IGNORECASE)
_MEDIAN_CTX = re.compile(r"(?<![\w])(?:median|IQR|interquartile|range)(?![\w])", re.IGNORECASE)
_BASELINE_CTX = re.compile(
    r"(?<![\w])(?:baseline(?:\s+\w+){0,3}\s+(?:characteristics|data|variables|values|features|profile)|demographic"
    r"|characteristics(?:\s+\w+){0,4}\s+(?:at|on)\s+(?:baseline|admission|entry|enrolment|enrollment|randomi[sz]ation|inclusion)"
    r"|characteristics of (?:the )?(?:participants|patients|subjects|study (?:population|participants|groups?)))",
    re.IGNORECASE,
)
"""A table of the groups as they were before treatment: its rows are not outcomes ('Baseline patient characteristics')."""
_ASKS_BASELINE = re.compile(r"(?<![\w])(?:baseline|pre[\s-]?(?:treatment|operative|intervention|test)|before|at (?:entry|admission)"
                            r"|characteristics|demographics?)(?![\w])", re.IGNORECASE)
_TIME_A = re.compile(
    r"(?<![\w])(?:baseline|pre[\s-]?(?:test|intervention|treatment|operative)?(?![\w])|before"
    r"|post[\s-]?(?:test|intervention|treatment|operative)?(?![\w])"
    r"|after\s+(?:the\s+)?(?:intervention|treatment|training|practicum)|follow(?:[\s-]*up)?|end\s+of\s+(?:treatment|study|intervention))",
    re.IGNORECASE,
)
_TIME_B = re.compile(
    r"(?<![\w])(?:T\d|(?:week|month|day|year)\s?\d+|\d+(?:\s?(?:-|to)\s?\d+)?[\s-]?(?:weeks?|months?|days?|years?|wk|mo)\b)", re.IGNORECASE
)
_BASELINE_WORD = re.compile(r"baseline|^pre|before|^T0$|^(?:week|month|day)\s?0$|^0\s?(?:weeks?|months?|days?)", re.IGNORECASE)
_POST_WORD = re.compile(r"^post|after|end\s+of", re.IGNORECASE)
_FOLLOW_WORD = re.compile(r"follow", re.IGNORECASE)
_TOTAL_ROW = re.compile(
    r"(?:total|overall|whole)(?:\s+(?:period|study|follow[\s-]*up|\d.*(?:months?|weeks?|days?|years?)))?$", re.IGNORECASE
)
_UNIT_AFTER = re.compile(r"\s?(?:months?|weeks?|days?|years?|hours?|hrs?|wk|mo)\b", re.IGNORECASE)


@dataclass
class _Row:
    """A label and the numbers after it on one line (a table row, possibly one of several on a PDF line)."""

    line: int
    label_start: int
    label_end: int
    items: list[_Item]
    end: int
    more_label: str = ""  # the rest of a label wrapped onto the next line of a PDF table

    @property
    def start(self) -> int:
        return self.label_start if self.label_end > self.label_start else self.items[0].start


@dataclass
class _Column:
    """One group column of a table header: whose it is (intervention, comparator, total, other) and its '(n = …)'."""

    role: str
    n: _Item | None


def _is_glue(gap: str) -> bool:
    """True when the text between two numbers is not a label (spaces, footnote marks)."""
    return not _LABEL_WORD.search(gap) or bool(_FOOTNOTE.match(gap))


def _line_rows(clean: str, index: int, start: int, end: int, tabbed: bool) -> list[_Row]:
    """Rows of one line: each run of numbers after a label starts a row."""
    items = [
        it for it in _items(clean, start, end)
        if it.kind != "junk" and not (it.kind in ("num", "range") and _UNIT_AFTER.match(clean, it.end))  # "0-3 months" is a label
    ]
    if not items:
        return []
    rows: list[_Row] = []
    pos = start
    for it in items:
        gap = clean[pos : it.start]
        if _is_glue(gap) and rows:
            rows[-1].items.append(it)
            rows[-1].end = it.end
        else:
            if len(_LABEL_WORD.findall(gap)) > 16:  # prose, not a row label
                if not tabbed:
                    break  # a Markdown table ends and the text goes on, on the same line
                pos = it.end
                continue
            ls = pos + len(gap) - len(gap.lstrip())
            le = pos + len(gap.rstrip())
            if not _LABEL_WORD.search(gap):
                ls = le = it.start
            rows.append(_Row(index, ls, le, [it], it.end))
        pos = it.end
    return rows


def _timepoints(text: str) -> list[str]:
    """Timepoint labels in a header, in order ("pre-test", "post-test", "follow up", or "3 months", "T1")."""
    a = [m.group(0) for m in _TIME_A.finditer(text)]
    return a if a else [m.group(0) for m in _TIME_B.finditer(text)]


def _pick_timepoint(labels: list[str], count: int, missing: set[int] = frozenset()) -> tuple[int, str]:
    """Index of the column to read among ``count`` timepoints: the first post-intervention one, else the last."""
    if count <= 0:
        return -1, ""
    if len(labels) != count:
        order = [i for i in range(count - 1, -1, -1) if i not in missing]
        return (order[0] if order else count - 1), ""
    keep = [i for i, label in enumerate(labels) if not _BASELINE_WORD.search(label.strip()) and i not in missing]
    post = [i for i in keep if _POST_WORD.search(label_s := labels[i].strip()) and not _FOLLOW_WORD.search(label_s)]
    if post:
        return post[0], "post"
    if keep:
        i = keep[-1]
        return i, "follow" if _FOLLOW_WORD.search(labels[i]) else "last"
    return count - 1, "baseline"


# --- candidates ---------------------------------------------------------------------------------

_SECTION_WEIGHT = {"results": 1.0, "abstract": 0.92, "conclusion": 0.75, "methods": 0.7, "discussion": 0.6, "introduction": 0.4,
                   "references": 0.05, "acknowledgements": 0.05, "funding": 0.05}
_BACKGROUND = frozenset({"introduction", "discussion", "references", "acknowledgements", "funding"})
_GROUP_LABEL = re.compile(r"(?<![\w])(?:(?:[Gg]roup|GROUP|[Aa]rm)\s+(IV|I{1,3}|[A-D]|[1-4])|([A-D])\s+[Gg]roup)(?![\w])")
_RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)
_ENUM_FILLER = re.compile(r"\brespectively\b|\bgroups?\b|\bpatients?\b|\barms?\b", re.IGNORECASE)
_JOINERS = re.compile(r"\b(?:and|vs|versus|to|or)\b", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.;]\s")
_VERSUS = re.compile(r"\bvs\.?|\bversus\b|\bcompared\b", re.IGNORECASE)
_ARM_JOIN = re.compile(r"[\s)\]]*(?:,|or|and|vs\.?|versus)\s*(?:the\s+)?", re.IGNORECASE)
_EVENT_VERB = re.compile(
    r"[\s)\]]*(?:\w+\s+){0,2}?(?:developed|had|experienced|reported|died|required|needed|suffered|achieved|showed|presented)\b",
    re.IGNORECASE,
)
_PERCENT_AFTER = re.compile(r"[ ]?[,;][ ]?\d+(?:\.\d+)?[ ]?%")
_SHARED_PERCENT = re.compile(r"[ ]*(?:,|and|vs\.?|versus|or)[ ]*$", re.IGNORECASE)
_BASELINE_SENTENCE = re.compile(r"\bbaseline\b(?!\s+to\b)", re.IGNORECASE)
_CHANGE_FROM_BASELINE = re.compile(r"(?:change|reduction|increase|decrease|improvement)s?\s+from\s+baseline", re.IGNORECASE)
_BARE_IN = re.compile(r"\s*(?:in|to|into)\s+(?:the\s+)?", re.IGNORECASE)
_STAT_WORDS = re.compile(r"\b(?:n|no|mean|sd|median|iqr)\b", re.IGNORECASE)
_ENUM_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bvs\.?|\bversus\b|/)\s*", re.IGNORECASE)
_PARTICIPANTS = re.compile(
    r"(?<![\w])(?:patients?|participants?|subjects?|individuals?|people|persons?|women|men|males?|females?|children|adults?|infants?|"
    r"students?|nurses?|volunteers?|cases?|mothers?|pregnan\w+|smokers?|residents?)(?![\w])",
    re.IGNORECASE,
)
_ALLOCATION = re.compile(
    r"randomi[sz]ed|allocated|assigned|enrolled|included|analy[sz]ed|hospitali[sz]ed|received|completed|participated|treated|underwent",
    re.IGNORECASE,
)

# "12% of patients in the <arm>": the text between a value and the arm it belongs to.
_FOLLOW_ATTACH = re.compile(
    r"^[\s,;:()\[\]]*(?:\w+[\s,]+){0,4}?(?:in|among|for|of|with|on|from|receiving|given|fed)\s+(?:the\s+)?(?:\w+[\s-]+)?$", re.IGNORECASE
)
# "9.3 ± 11.9 days vs. 9.9 ± 14.8": what may join two values of the same arm.
_CONNECTOR = re.compile(r"^[\s,;:()\[\]%]*(?:[a-z]+\s+){0,2}(?:vs\.?|versus|to|and|compared\s+(?:with|to))?[\s,;:()\[\]]*$", re.IGNORECASE)
# "940 (34%) were hospitalised in <arm>": the text between a group size and its arm.
_SIZE_GAP = re.compile(
    r"^\s*(?:\(\s?\d+(?:\.\d+)?\s?%\s?\)\s*)?(?:[a-z]+\s+){0,2}?(?:were|was|had|been|being|\s)*(?:[a-z]+\s+){0,2}?"
    r"(?:in|to|into)\s+(?:the\s+)?(?:[a-z]+[\s-]+)?$",
    re.IGNORECASE,
)
_TOTAL_N = re.compile(
    r"(?<![\w.,])(\d{1,5}|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
    r"\s+(?:[a-z-]+\s+){0,2}?(?:patients|participants|subjects|males|females|men|women|children|adults|individuals|volunteers|students)\b",
    re.IGNORECASE,
)
_TIME_WORDS = re.compile(r"(?<![\w])(?:pre|post|before|after|baseline|follow[\s-]?up)(?![\w])[\s-]*", re.IGNORECASE)


@dataclass
class _ArmValue:
    """The item holding one arm's value, the row or sentence it came from, and a group size met alongside."""

    item: _Item
    context: tuple[int, int]
    n: _Item | None = None
    n_context: tuple[int, int] | None = None


@dataclass
class _Candidate:
    """A reading of both arms' values from one row, pair of rows or sentence, with its score."""

    score: float
    outcome_score: float
    values: dict[str, _ArmValue]
    note: str = ""
    where: str = ""
    feats: dict[str, float] = field(default_factory=dict)


def _placeholder(it: _Item) -> _Item:
    """A cell that holds something else (a decimal among counts): kept as a gap so that the columns stay aligned."""
    return _Item("miss", it.start, it.end, raw_a=_GAP)


def _as_percent(it: _Item) -> _Item:
    """A bare number in a row or column labelled '(%)': a percentage."""
    return _Item("pct", it.start, it.end, a=it.a, pct=it.a, raw_a=it.raw_a, a_span=it.a_span)


def _typed(items: list[_Item], outcome_type: str, *, mean_ctx: bool, count_ctx: bool, median_ctx: bool,
           pct_ctx: bool = False) -> list[_Item]:
    """The items that can carry the outcome's per-arm value (placeholders kept, for alignment).

    ``pct_ctx``: the row says its bare numbers are percentages ('Disc herniation (%)  87  31.6').
    """
    if outcome_type == "binary" and pct_ctx and not count_ctx and all(it.kind in ("num", "miss", "pval") for it in items):
        return [_as_percent(it) if it.kind == "num" and it.a is not None and 0 <= it.a <= 100 else _placeholder(it)
                for it in items if it.kind in ("num", "miss")]
    if outcome_type == "binary":
        fr = [it for it in items if it.kind == "frac"]
        if len(fr) >= 2 or (fr and not any(it.kind in ("pair", "pct") for it in items)):
            return fr
        pairs = [
            it for it in items
            if it.kind == "pair" and it.is_int_a and it.b is not None and 0 <= it.b <= 100
            and (not mean_ctx or count_ctx or it.pct is not None)
        ]
        if pairs:
            return pairs
        pct = [it for it in items if it.kind == "pct" and it.a is not None and 0 <= it.a <= 100]
        if pct:
            return pct
        out = [it if it.is_int_a or it.kind == "miss" else _placeholder(it) for it in items if it.kind in ("num", "miss")]
        while out and out[-1].kind == "miss" and out[-1].raw_a == _GAP:
            out.pop()  # a trailing decimal is the p-value column, not a gap between the arms
        return out
    pm = [it for it in items if it.kind in ("pm", "ppm", "msd", "miss")]
    if any(it.kind != "miss" for it in pm):
        if mean_ctx and not median_ctx:  # "mean 4.2 (SD 1.1) versus 5.0 (1.3)": the second arm written as a pair
            pm = sorted(pm + [it for it in items if it.kind == "pair" and it.pct is None], key=lambda it: it.start)
        return pm
    if mean_ctx and not median_ctx and not count_ctx:
        return [it for it in items if it.kind in ("pair", "miss") and it.pct is None]
    return []


_STAT_LABEL = re.compile(
    r"(?<![\w])(?:means?|SD|S\.D\.|SE|SEM|standard deviation|median|IQR|range|n|no|number|%|percent|scores?|values?"
    r"|baseline|pre[\s-]?treatment|post[\s-]?treatment|pre[\s-]?test|post[\s-]?test|pre|post|before|after|follow[\s-]?up"
    r"|weeks?|months?|days?|hours?|years?|T\d|\d+)(?![\w])|±|[()\[\],:;%]", re.IGNORECASE)
_GAP = "(gap)"
_N_ROW = re.compile(r"(?:n|no\.?|number(?: of (?:patients|participants|subjects|women|men|children))?|sample size|analy[sz]ed)",
                    re.IGNORECASE)
_PCT_LABEL = re.compile(r"\(\s*%\s*\)|%\s*$|\bper ?cent\b")
_N_PCT = re.compile(r"\bn\s*\(\s*%|\bno\.?\s*\(\s*%|number", re.IGNORECASE)
_SD_WORD = re.compile(r"(?<![\w])(?:SD|S\.D\.|standard deviation)(?![\w])", re.IGNORECASE)
_ITEM_NEQ = re.compile(r"\(?\s*\b[nN]\s*[=:]\s*[\d,]+\s*\)?")
_NOT_GROUP = re.compile(r"(?<![\w])(?:p[\s-]*values?|difference|diff\.?|95\s*%?\s*CI|CI|OR|RR|HR|ES|effect(?: size)?|"
                        r"statistics?|χ2|chi|total|overall|all(?: patients| participants)?|significance|sig\.?)(?![\w])"
                        r"|^[\s*]*(?:p|t|F|z|U)[\s*^a-z]{0,3}$", re.IGNORECASE)
"""A column that holds no group: p-values, differences, effect sizes, totals (a lone 'P' or 't' only as the whole header)."""
_PRE_COL = re.compile(r"(?<![\w])(?:baseline|pre[\s-]?\w*|before|T0|week 0|day 0|month 0)(?![\w])", re.IGNORECASE)
_POST_COL = re.compile(r"(?<![\w])(?:post[\s-]?\w*|after|end|follow[\s-]?up|final|week [1-9]\d*|month [1-9]\d*)(?![\w])",
                       re.IGNORECASE)
_ARM_LABEL = re.compile(r"(?<![\w])(?:group|arm)\s+([A-Z0-9][A-Za-z0-9/+\-]{0,5})(?![\w])|\(([A-Z][A-Za-z0-9/+\-]{0,5})\)"
                        r"|(?<![\w.])(\d{2,5}(?:\.\d+)?)\s?(?:mg|mcg|µg|g|ml|IU|units?)\b", re.IGNORECASE)
"""What a column header may call an arm by, taken from the arm's name: 'group D/E', '(WGJ)', a dose '2400 mg'."""


def _split_mean_sd(items: list[_Item]) -> list[_Item]:
    """Bare numbers of a row whose header says mean and SD, paired in order (a trailing odd one, a p-value, left out)."""
    nums = [it for it in items if it.kind == "num"]
    if len(nums) % 2:
        nums = nums[:-1]
    out = []
    for m, sd in zip(nums[::2], nums[1::2]):
        if (sd.a or 0) < 0:
            return []
        out.append(_Item("msd", m.start, sd.end, a=m.a, b=sd.a, raw_a=m.raw_a, raw_b=sd.raw_a, a_span=m.a_span, b_span=sd.a_span))
    return out


def _words_to_int(word: str) -> int | None:
    """'nineteen' -> 19, 'twenty-one' -> 21; None for anything else."""
    parts = word.lower().replace("-", " ").split()
    if len(parts) == 1:
        return _NUMBER_WORDS.get(parts[0], _TENS.get(parts[0]))
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _NUMBER_WORDS:
        return _TENS[parts[0]] + _NUMBER_WORDS[parts[1]]
    return None


@dataclass(frozen=True)
class _Prepared:
    """What does not depend on the comparison asked about: the clean text, its lines, numbers and table rows, word counts."""

    clean: str
    lines: list[tuple[int, int, bool]]
    items: list[_Item]
    starts: list[int]
    rows: dict[int, list[_Row]]
    df: dict[str, int]
    units: int


@lru_cache(maxsize=4)
def _prepare(text: str, sentences: tuple[tuple[int, int], ...]) -> _Prepared:
    """Read a document's text once for all the comparisons asked about it (cached by text)."""
    clean = _clean(text)
    lines: list[tuple[int, int, bool]] = []
    pos = 0
    for raw in text.split("\n"):
        lines.append((pos, pos + len(raw), "\t" in raw))
        pos += len(raw) + 1
    items = _items(clean, 0, len(clean))
    rows: dict[int, list[_Row]] = {}
    for i, (s, e, tabbed) in enumerate(lines):
        found = _line_rows(clean, i, s, e, tabbed)
        if found:
            rows[i] = found
    _merge_continuations(clean, rows)
    units = [clean[s:e] for s, e, _ in lines if e > s] + [clean[s:e] for s, e in sentences]
    df: dict[str, int] = {}
    for u in units:
        for w in set(_content(u)):
            df[w] = df.get(w, 0) + 1
    return _Prepared(clean, lines, items, [it.start for it in items], rows, df, len(units))


def _merge_continuations(clean: str, rows: dict[int, list[_Row]]) -> None:
    """A line of bare numbers, or of only '(m ± s)' items, continues the row above it (PDF tables)."""
    for i in sorted(rows):
        prev = rows.get(i - 1)
        if not prev:
            continue
        first = rows[i][0]
        only_paren = all(it.kind in ("ppm", "miss") for it in first.items) and any(it.kind == "pm" for it in prev[-1].items)
        if len(rows[i]) == 1 and (first.label_end == first.label_start or only_paren):
            target = prev[-1]
            target.items.extend(first.items)
            target.end = max(target.end, first.end)  # the row's context reaches its continued values
            if first.label_end > first.label_start:
                target.more_label += " " + clean[first.label_start : first.label_end]
            del rows[i]


def _inside(spans: list, starts: list[int], start: int, end: int) -> list:
    """The things of ``spans`` (sorted by start, ``starts`` their starts) lying wholly in ``[start, end)``."""
    out = []
    for k in range(bisect.bisect_left(starts, start), len(spans)):
        x = spans[k]
        if x.start >= end:
            break
        if x.end <= end:
            out.append(x)
    return out


class _Reader:
    """Reads one comparison's candidate arm numbers from a document."""

    def __init__(self, doc: Document, intervention: str, comparator: str, outcome: str, outcome_type: str) -> None:
        self.doc = doc
        self.text = doc.text
        prepared = _prepare(doc.text, tuple((x.span.start, x.span.end) for x in doc.sentences if not x.in_table))
        self.clean = prepared.clean
        self.lines = prepared.lines
        self.rows = prepared.rows
        self._all_items, self._starts = prepared.items, prepared.starts
        self.type = outcome_type
        self.arms = (_arm_patterns("intervention", intervention, comparator), _arm_patterns("comparator", comparator, intervention))
        self._group_aliases()
        self._arm_tokens = {a.role: {next(g for g in m.groups() if g) for m in _ARM_LABEL.finditer(a.name)} for a in self.arms}
        self.outcome = _Outcome(outcome, prepared.df, prepared.units)
        self.outcome_text = outcome
        self._line_starts = [s for s, _, _ in self.lines]
        self.outcome.check_acronyms(self.clean)
        self.same_group = self._same_group(intervention, comparator)
        self._units: list[tuple[int, int]] | None = None
        self._zones: dict[int, str] = {}
        self._all_mentions: list[_Mention] | None = None
        self._mention_starts: list[int] = []

    def _group_aliases(self) -> None:
        """'In group I (120 people) lidocaine was administered and in group II morphine': 'group I' names that arm.

        A group label (group A/B, group I/II, group 1/2, arm A) is an arm's alias when the clause it opens or closes
        names that arm, and never the other one."""
        votes: dict[str, dict[str, int]] = {}
        spots = list(_GROUP_LABEL.finditer(self.clean))
        for k, m in enumerate(spots):
            label = (m.group(1) or m.group(2)).upper()
            lo = spots[k - 1].end() if k > 0 else max(0, m.start() - 80)
            hi = spots[k + 1].start() if k + 1 < len(spots) else m.end() + 120
            window = (max(lo, m.start() - 80), min(hi, m.end() + 120))
            cut = _CLAUSE_END.search(self.clean, m.end(), window[1])
            seen = set()
            for arm in self.arms:
                for pat in arm.strong:
                    for hit in pat.finditer(self.clean, m.end(), cut.start() if cut else window[1]):
                        seen.add(arm.role)
                        break
            if len(seen) == 1:
                role = seen.pop()
                votes.setdefault(label, {}).setdefault(role, 0)
                votes[label][role] += 1
        taken: dict[str, str] = {}
        for label, by_role in votes.items():
            if len(by_role) == 1:
                (role, _), = by_role.items()
                taken[label] = role
        for label, role in taken.items():
            if list(taken.values()).count(role) > 1:
                continue  # two labels for one arm: not an alias
            arm = next(a for a in self.arms if a.role == role)
            esc = re.escape(label)
            arm.strong.append(re.compile(rf"(?<![\w])(?:(?:group|arm)\s+{esc}|{esc}\s+group)(?![\w])", re.IGNORECASE))

    def items(self, start: int, end: int) -> list[_Item]:
        """The number-shaped items lying wholly in ``[start, end)``."""
        return _inside(self._all_items, self._starts, start, end)

    def mentions(self, start: int, end: int) -> list[_Mention]:
        """Mentions of either arm lying wholly in ``[start, end)`` (the whole text is searched once)."""
        if self._all_mentions is None:
            self._all_mentions = _mentions(self.arms, self.clean, 0, len(self.clean))
            self._mention_starts = [m.start for m in self._all_mentions]
        return _inside(self._all_mentions, self._mention_starts, start, end)

    # -- rows and table context

    def _label(self, row: _Row) -> str:
        return self.clean[row.label_start : row.label_end] + row.more_label

    def _context(self, line: int, limit: int = 80) -> list[int]:
        """Lines above ``line`` in the same table, nearest first, down to the caption."""
        out = []
        for j in range(line - 1, max(-1, line - limit), -1):
            s, e, tabbed = self.lines[j]
            if e - s > 700 and not tabbed:
                break
            out.append(j)
            if _CAPTION.search(self.clean[s : min(e, s + 300)]) or self.text[s:e].strip() == "::: caption":
                break
        return out

    def _caption(self, ctx: list[int]) -> str:
        """The caption of the table whose context lines are ``ctx`` ('' when none is found)."""
        for k, j in enumerate(ctx):
            s, e, _ = self.lines[j]
            if self.text[s:e].strip() == "::: caption":  # Markdown: the caption is the text after this marker
                return " ".join(self.clean[self.lines[i][0] : self.lines[i][1]] for i in reversed(ctx[max(0, k - 3) : k]))
            if _CAPTION.search(self.clean[s : min(e, s + 300)]):
                return self.clean[s:e]
        return ""

    def _columns(self, ctx: list[int], width: int = 0) -> tuple[list[_Column], tuple[int, int] | None]:
        """Group columns from the nearest header line above a row (``width``: values in the row), and that line's span."""
        for k, j in enumerate(ctx):
            s, e, _ = self.lines[j]
            line = self.clean[s:e]
            if _RULE_LINE.match(line):
                continue
            items = self.items(s, e)
            if sum(1 for it in items if it.kind not in ("neq", "pct", "range")) >= 2:
                continue  # a data row
            neqs = [it for it in items if it.kind == "neq"]
            if len(neqs) >= 2:
                cols, prev = [], s
                for it in neqs:
                    cols.append(_Column(self._role_in(prev, it.start), it))
                    prev = it.end
                if all(c.role == "other" for c in cols) and k + 1 < len(ctx):  # names on the line above
                    names = self._names(ctx[k + 1])
                    if len(names) == len(cols):
                        for c, r in zip(cols, names):
                            c.role = r
                return self._eliminate(cols), (s, e)
            names = self._names(j)
            if len([r for r in names if r in ("intervention", "comparator")]) >= 1 and len(names) >= 2:
                if width and len(names) > width and _CAPTION.search(line[:300]):
                    names = names[-width:]  # a PDF line holding the caption and then the header
                cols = [_Column(r, None) for r in names]
                if k > 0:  # "(n = 42)  (n = 45)" on the line under the names
                    bs, be, _ = self.lines[ctx[k - 1]]
                    bn = [it for it in self.items(bs, be) if it.kind == "neq"]
                    if len(bn) == len(cols):
                        for c, it in zip(cols, bn):
                            c.n = it
                return self._eliminate(cols), (s, e)
        return [], None

    def _names(self, j: int) -> list[str]:
        """Roles of the group names on line ``j``, left to right (intervention, comparator, total)."""
        s, e, _ = self.lines[j]
        marks = [(m.start, m.role) for m in self.mentions(s, e)]
        marks += [(m.start(), "total") for m in _TOTAL.finditer(self.clean, s, e)]
        return [r for _, r in sorted(marks)]

    def _role_in(self, start: int, end: int) -> str:
        """Whose column a header cell is: the arm it names last, 'total', or 'other'."""
        ments = self.mentions(start, end)
        if ments:
            strong = [m for m in ments if m.strong]
            return (strong or ments)[-1].role
        if _TOTAL.search(self.clean, start, end):
            return "total"
        return "other"

    @staticmethod
    def _eliminate(cols: list[_Column]) -> list[_Column]:
        """With two group columns and one arm known, the other column is the other arm."""
        groups = [c for c in cols if c.role != "total"]
        roles = {c.role for c in groups}
        if len(groups) == 2 and "other" in roles and len(roles) == 2:
            known = next(c.role for c in groups if c.role != "other")
            for c in groups:
                if c.role == "other":
                    c.role = "comparator" if known == "intervention" else "intervention"
        return cols

    # -- scoring helpers

    def _background(self, offset: int) -> bool:
        """True in the Introduction, Discussion or back matter: their numbers are other studies' or a summary's."""
        sec = self.doc.section_at(offset)
        return sec is not None and sec.label in _BACKGROUND

    def _section_weight(self, offset: int) -> float:
        sec = self.doc.section_at(offset)
        if sec is None:
            return 0.85
        return _SECTION_WEIGHT.get(sec.label, 0.85)

    @staticmethod
    def _same_group(intervention: str, comparator: str) -> bool:
        """True for a before/after comparison within one group ('post-Yoga' vs 'pre-Yoga')."""
        a, b = _TIME_WORDS.sub("", intervention).strip().lower(), _TIME_WORDS.sub("", comparator).strip().lower()
        return bool(a) and a == b and (intervention.lower() != comparator.lower())

    # -- candidates from table rows

    def _subheader(self, line: int) -> str | None:
        """The nearest line above, within a few, that is a label with no numbers (a row group's heading), if any."""
        for j in range(line - 1, max(-1, line - 6), -1):
            s, e, _ = self.lines[j]
            text = self.clean[s:e]
            if _RULE_LINE.match(text) or not text.strip():
                return None
            if j in self.rows:
                continue  # another statistic row of the same group ("range 9-74")
            if _content(_STAT_LABEL.sub(" ", text)) and len(text.strip()) <= 120:
                return text
            return None
        return None

    def _zone(self, ctx: list[int]) -> str:
        """Header, sub-header and caption text above a row (data rows left out)."""
        if ctx and ctx[0] in self._zones:
            return self._zones[ctx[0]]
        parts = []
        for j in ctx:
            s, e, _ = self.lines[j]
            items = self.items(s, e)
            if sum(1 for it in items if it.kind not in ("neq", "pct", "range", "pval")) >= 2:
                continue
            parts.append(self.clean[s:e])
        zone = " ".join(reversed(parts))
        if ctx:
            self._zones[ctx[0]] = zone
        return zone

    def _paren_roles(self, zone: str) -> tuple[str, str, float]:
        """For 'Intervention (control)' layouts: the arm outside the parentheses and the one inside."""
        ments = _mentions(self.arms, zone, 0, len(zone))
        for a, b in zip(ments, ments[1:]):
            if a.role != b.role and zone[a.end : b.start].strip() == "(":
                return a.role, b.role, 1.0
        return "intervention", "comparator", 0.5

    def table_candidates(self) -> list[_Candidate]:
        """Readings from table rows: a row labelled with the outcome (arms in columns), or a row per arm under it."""
        cands: list[_Candidate] = []
        arm_rows: list[tuple[_Row, str]] = []
        for i in sorted(self.rows):
            for row in self.rows[i]:
                label = self._label(row)
                ments = self.mentions(row.label_start, row.label_end)
                lscore = self.outcome.score(label)
                if ments and lscore < 0.34 and len(_LABEL_WORD.findall(label)) <= 8:
                    strong = [m for m in ments if m.strong]
                    roles = {m.role for m in (strong or ments)}
                    if len(roles) == 1:
                        arm_rows.append((row, roles.pop()))
                    continue
                ctx = self._context(row.line)
                zone = self._zone(ctx)
                caption = self._caption(ctx)
                sub = self._subheader(row.line) if not _content(_STAT_LABEL.sub(" ", label)) else None
                if sub is not None:  # "mean (SD)", "Post-treatment (mean±SD)": the outcome is named on a line above
                    oscore = min(1.0, self.outcome.score(sub) + 0.1 * self.outcome.score(zone))
                    tp_bonus = 0.0
                elif _TIME_B.fullmatch(label.strip()) or _TIME_A.fullmatch(label.strip()) or _TOTAL_ROW.match(label.strip()):
                    oscore = 0.9 * self.outcome.score(zone)
                    tp_bonus = 0.02 if _TOTAL_ROW.match(label.strip()) else 0.01 * row.line / max(1, len(self.lines))
                else:
                    oscore = min(1.0, lscore + 0.15 * self.outcome.score(zone))
                    tp_bonus = 0.0
                if oscore < 0.3:
                    continue
                cand = self._column_candidate(row, label, zone, ctx, oscore)
                if cand:
                    if _BASELINE_CTX.search(caption):
                        cand.score *= 0.6
                        cand.feats["baseline"] = 1.0
                    cand.feats["time_row"] = float(tp_bonus > 0)
                    cand.feats["section"] = self._section_weight(row.start)
                    cand.score += tp_bonus
                    cands.append(cand)
        cands.extend(self._row_pairs(arm_rows))
        return cands

    def _column_candidate(self, row: _Row, label: str, zone: str, ctx: list[int], oscore: float) -> _Candidate | None:
        """Arms in columns: map the row's numbers to the header's group columns."""
        near = label + " " + zone
        mean_ctx = bool(_MEAN_CTX.search(near))
        typed = _typed(row.items, self.type, mean_ctx=mean_ctx, count_ctx=bool(_COUNT_CTX.search(near)),
                       median_ctx=bool(_MEDIAN_CTX.search(label)) or (bool(_MEDIAN_CTX.search(zone)) and not mean_ctx),
                       pct_ctx=bool(_PCT_LABEL.search(label)) and not _N_PCT.search(label))
        split = False
        if self.type == "continuous" and not [it for it in typed if it.kind != "miss"] and _SD_WORD.search(near) \
                and all(it.kind in ("num", "pval", "miss") for it in row.items):
            typed, split = _split_mean_sd(row.items), True  # "13.11  7.02  13.00  6.94": mean and SD in cells of their own
        if not [it for it in typed if it.kind != "miss"]:
            return None
        span = (row.start, row.end)
        tps = _timepoints(zone)
        block = 0
        values: dict[str, _ArmValue] = {}
        conf = 1.0
        bare = [it for it in typed if it.kind != "ppm"]
        paren = [it for it in typed if it.kind == "ppm"]
        note = ""
        if paren and [it for it in bare if it.kind != "miss"]:
            outer, inner, conf = self._paren_roles(zone)
            missing = {k for k, it in enumerate(bare) if it.kind == "miss"}
            idx, note = _pick_timepoint(tps, len(bare), missing)
            values[outer] = _ArmValue(bare[idx], span)
            placed = self._place_parens(bare, paren, missing)
            if idx in placed:
                values[inner] = _ArmValue(placed[idx], span)
            else:
                values[inner] = _ArmValue(paren[-1], span)
                conf *= 0.7
        else:
            cols, header = self._columns(ctx, len(typed))
            roles = [c.role for c in cols]
            if cols and len(typed) == len(cols) and {"intervention", "comparator"} <= set(roles):
                for role in ("intervention", "comparator"):
                    picks = [k for k, r in enumerate(roles) if r == role]
                    if len(picks) > 1:
                        ns = [cols[k].n.a if cols[k].n is not None else -1 for k in picks]
                        if len(tps) == len(picks):
                            k = picks[_pick_timepoint(tps, len(picks))[0]]
                        elif max(ns) > 0:
                            k = picks[ns.index(max(ns))]
                        else:
                            k = picks[-1]
                    else:
                        k = picks[0]
                    c = cols[k]
                    values[role] = _ArmValue(typed[k], span, c.n, header if c.n else None)
            elif cols and len(cols) >= 2 and len(typed) % len(cols) == 0 and len(typed) // len(cols) >= 2 \
                    and roles.count("intervention") == 1 and roles.count("comparator") == 1:
                # a group name over several columns ("Yoga group" over "Week 0  Week 11"): each group's block of values
                block = len(typed) // len(cols)
                labels = tps[:block] if len(tps) in (block, block * len(cols)) else []
                idx, note = _pick_timepoint(labels, block)
                for role in ("intervention", "comparator"):
                    k = roles.index(role)
                    c = cols[k]
                    values[role] = _ArmValue(typed[k * block + idx], span, c.n, header if c.n else None)
                conf = 0.8
            elif not cols and len(typed) == 2 and not tps and typed[0].kind in ("frac", "pm", "msd", "pair") \
                    and self.outcome.score(label) >= 0.5:
                # no header naming the arms: the first column is taken for the intervention, with little confidence
                values = {"intervention": _ArmValue(typed[0], span), "comparator": _ArmValue(typed[1], span)}
                conf = 0.4
            else:
                return None
        values = {r: v for r, v in values.items() if v.item.kind != "miss"}
        if len(values) < 2:
            return None
        bonus = 0.05 if typed[0].kind == "frac" else 0.03 if typed[0].kind in ("pm", "ppm", "msd") else 0.0
        bonus += 0.03 if note == "post" else 0.0
        score = oscore * 0.95 * (0.7 + 0.3 * conf) + bonus
        feats = {"arm_conf": conf, "values_in_row": float(len(typed)), "timepoints": float(len(tps)),
                 "tp_" + (note or "none"): 1.0, "paren_layout": float(bool(paren)),
                 "header_n": float(any(v.n is not None for v in values.values())),
                 "label_score": self.outcome.score(label), "verbatim": float(self.outcome.verbatim(label)),
                 "split_cells": float(split), "block": float(block), "columns": float(len(typed))}
        return _Candidate(score, oscore, values, f"table row {note}".strip(), "table row", feats)

    def _place_parens(self, bare: list[_Item], paren: list[_Item], missing: set[int]) -> dict[int, _Item]:
        """Columns of the '(m ± s)' values: right after a bare value, its column; the rest fill the free columns in order."""
        placed: dict[int, _Item] = {}
        loose = []
        for it in paren:
            col = next((k for k, b in enumerate(bare) if b.end <= it.start and not self.clean[b.end : it.start].strip()), None)
            if col is not None and col not in placed:
                placed[col] = it
            else:
                loose.append(it)
        free = [k for k in range(len(bare)) if k not in placed and k not in missing]
        if len(loose) > len(free):
            free = [k for k in range(len(bare)) if k not in placed]
        for k, it in zip(free, loose):
            placed[k] = it
        return placed

    def _row_pairs(self, arm_rows: list[tuple[_Row, str]]) -> list[_Candidate]:
        """Arms in rows: a row per arm under a sub-header naming the outcome."""
        cands = []
        for row, role in arm_rows:
            if role != "intervention":
                continue
            partners = [(abs(r.line - row.line), r) for r, ro in arm_rows if ro == "comparator" and 0 < abs(r.line - row.line) <= 4]
            if not partners:
                continue
            other = min(partners, key=lambda t: t[0])[1]
            first = min(row.line, other.line)
            ctx = self._context(first)
            zone_lines = []
            for j in ctx[:3]:
                s, e, _ = self.lines[j]
                arm_row = j in self.rows and any(r in (x for x, _ in arm_rows) for r in self.rows[j])
                if arm_row or _CAPTION.search(self.clean[s : min(e, s + 300)]) or self.text[s:e].strip() == ":::":
                    break
                zone_lines.append(self.clean[s:e])
            sub = max([self.outcome.score(z) for z in zone_lines] + [0.0])
            cap = self.outcome.score(self._caption(ctx))
            named = any(_content(_STAT_WORDS.sub(" ", z)) for z in zone_lines)
            oscore = max(sub, 0.5 * sub + 0.3 * cap) if named else 0.7 * cap
            if oscore < 0.3:
                continue
            zone = self._zone(ctx)
            values = {}
            tps = _timepoints(zone)
            for r, ro in ((row, "intervention"), (other, "comparator")):
                label = self._label(r)
                near = label + " " + zone
                mean_ctx = bool(_MEAN_CTX.search(near))
                typed = _typed(r.items, self.type, mean_ctx=mean_ctx, count_ctx=bool(_COUNT_CTX.search(near)),
                               median_ctx=bool(_MEDIAN_CTX.search(zone)) and not mean_ctx)
                typed = [it for it in typed if it.kind != "miss"]
                if not typed:
                    break
                idx = 0 if typed[0].kind == "frac" else _pick_timepoint(tps, len(typed))[0]
                n = next((it for it in r.items if it.kind == "neq"), None)
                values[ro] = _ArmValue(typed[idx], (r.start, r.end), n, (r.start, r.end) if n else None)
            if len(values) < 2:
                continue
            bonus = 0.05 if values["intervention"].item.kind == "frac" else 0.0
            score = oscore * 0.95 + bonus
            feats = {"arm_conf": 1.0, "timepoints": float(len(tps)), "section": self._section_weight(row.start),
                     "header_n": float(any(v.n is not None for v in values.values())), "label_score": sub}
            if _BASELINE_CTX.search(self._caption(ctx)):
                score *= 0.6
                feats["baseline"] = 1.0
            cands.append(_Candidate(score, oscore, values, "table rows", "table rows", feats))
        return cands

    # -- candidates from table grids

    def _affinity(self, header: str) -> dict[str, float]:
        """How strongly a column header names each arm: its own name or acronym (1), a role word (0.5), a dose or
        group label taken from the arm's name (0.75)."""
        aff = {"intervention": 0.0, "comparator": 0.0}
        for m in _mentions(self.arms, header, 0, len(header)):
            aff[m.role] += 1.0 if m.strong else 0.5
        bare = _ITEM_NEQ.sub(" ", header)
        for role, tokens in self._arm_tokens.items():
            for tok in tokens:
                if re.search(rf"(?<![\w/.]){re.escape(tok)}(?![\w/]|\.\d)", bare):
                    aff[role] += 0.75
        return aff

    def _line_at(self, offset: int) -> int:
        """The index of the line holding ``offset``."""
        return max(0, bisect.bisect_right(self._line_starts, offset) - 1)

    def grid_candidates(self) -> list[_Candidate]:
        """Readings from tables read as grids: the arms' columns found from the header, the row by its label.

        Every column whose header names an arm (its name, acronym or role word, a dose or group label from its name,
        or, with only two group columns, the other arm by elimination) is paired with the other arm's columns; a
        row whose label (or the sub-heading above it) names the outcome gives one candidate per pairing."""
        cands: list[_Candidate] = []
        for grid in grids(self.doc):
            widths = [len(r.cells) for r in grid.body]
            if not widths:
                continue
            ncols = max(set(widths), key=widths.count)
            if ncols < 3:
                continue
            heads = [""] * ncols
            sizes: list[_Item | None] = [None] * ncols
            size_ctx: list[tuple[int, int] | None] = [None] * ncols
            for hrow in grid.header:
                cells = list(hrow.cells)
                if len(cells) == ncols - 1:
                    cells = [(hrow.start, hrow.start)] + cells  # no label cell: the names sit over the value columns
                filled = [k for k in range(1, len(cells)) if cells[k][1] > cells[k][0]]
                span = (ncols - 1) // len(filled) if filled and len(filled) < ncols - 1 and (ncols - 1) % len(filled) == 0 else 1
                for k, (s, e) in enumerate(cells[:ncols]):
                    if span > 1 and k > 0 and k not in filled:
                        continue
                    targets = [k] if span == 1 or k == 0 else list(range(1 + (filled.index(k) * span), 1 + (filled.index(k) + 1) * span))
                    for t in targets:
                        if t < ncols:
                            heads[t] = (heads[t] + " " + self.clean[s:e]).strip()
                            neq = next((it for it in self.items(s, e) if it.kind == "neq"), None)
                            if neq is not None and span == 1:
                                sizes[t], size_ctx[t] = neq, (hrow.start, hrow.end)
            group_cols = [k for k in range(1, ncols) if not _NOT_GROUP.search(heads[k])]
            aff = [self._affinity(heads[k]) for k in range(ncols)]
            picks: dict[str, list[int]] = {}
            for role in ("intervention", "comparator"):
                other = "comparator" if role == "intervention" else "intervention"
                lead = {k: aff[k][role] - aff[k][other] for k in group_cols if aff[k][role] > aff[k][other]}
                if lead:
                    top = max(lead.values())
                    picks[role] = [k for k in group_cols if lead.get(k) == top]
            by_order = 0.0
            if len(picks) == 1 and len(group_cols) == 2:  # two groups, one named: the other is the other arm
                known = next(iter(picks))
                rest = [k for k in group_cols if k not in picks[known]]
                if rest:
                    picks["comparator" if known == "intervention" else "intervention"] = rest
                    by_order = 0.5
            elif not picks and len(group_cols) == 2:
                picks = {"intervention": [group_cols[0]], "comparator": [group_cols[1]]}
                by_order = 1.0
            if len(picks) < 2:
                continue
            ii, cc = picks["intervention"], picks["comparator"]
            if set(ii) & set(cc):
                continue
            if len(ii) == len(cc):
                pairs = list(zip(ii, cc))  # one pair per time point
                later = [(a, b) for a, b in pairs if not _PRE_COL.search(heads[a] + " " + heads[b])]
                if later and len(later) < len(pairs) and not _PRE_COL.search(self.outcome_text):
                    pairs = later  # a baseline column is not the outcome, unless the outcome asks for it
            else:
                pairs = [(ii[-1], cc[-1])]
            caption = (grid.caption or self._caption(self._context(self._line_at(grid.body[0].start)))) + " " + heads[0]
            cap_score = self.outcome.score(caption)
            baseline = bool(_BASELINE_CTX.search(caption))
            sub = above = ""
            for row in grid.body:
                if len(row.cells) != ncols:
                    if len(row.cells) == 1 or all(e == s for s, e in row.cells[1:]):
                        sub = self.clean[row.cells[0][0] : row.cells[0][1]]
                    continue
                ls, le = row.cells[0]
                label = self.clean[ls:le]
                if all(e == s for s, e in row.cells[1:]):
                    sub = label
                    continue
                # the label: the first cell (filled down from the row above when empty, as under a spanning row
                # label), then any cells before the first value ('Stability  Posttest  7.54 (2.57)  6.29 (1.84)')
                if label.strip():
                    above = label
                elif above:
                    label = above
                for s, e in row.cells[1:]:
                    if any(it.kind not in ("junk", "neq") for it in self.items(s, e)):
                        break
                    label = (label + " " + self.clean[s:e]).strip()
                stat_only = not _content(_STAT_LABEL.sub(" ", label))
                lscore = self.outcome.score(label)
                joint = self.outcome.score(label + " " + sub) if sub else 0.0
                oscore = min(1.0, max(lscore, 0.95 * joint, 0.8 * cap_score if stat_only else 0.0) + 0.15 * cap_score)
                if oscore < MIN_OUTCOME_SCORE:
                    continue
                near = label + " " + sub + " " + caption
                for n_pair, (ki, kc) in enumerate(pairs):
                    values: dict[str, _ArmValue] = {}
                    for role, k in (("intervention", ki), ("comparator", kc)):
                        item = self._cell_value(row, k, label + " " + heads[k] + " " + near, heads)
                        if item is None:
                            break
                        values[role] = _ArmValue(item, (row.start, row.end), sizes[k], size_ctx[k])
                    if len(values) < 2:
                        continue
                    strength = min(aff[ki]["intervention"], aff[kc]["comparator"])
                    conf = 0.4 if by_order == 1.0 else 0.7 if by_order else 1.0
                    first = values["intervention"].item
                    bonus = 0.05 if first.kind == "frac" else 0.03 if first.kind in ("pm", "ppm", "msd") else 0.0
                    score = oscore * 0.95 * (0.7 + 0.3 * conf) + bonus
                    feats = {"grid": 1.0, "arm_conf": conf, "arms_by_order": by_order, "arm_strength": min(2.0, strength),
                             "group_cols": float(len(group_cols)), "columns": float(ncols - 1),
                             "header_n": float(any(v.n is not None for v in values.values())),
                             "label_score": lscore, "verbatim": float(self.outcome.verbatim(label)),
                             "col_pre": float(bool(_PRE_COL.search(heads[ki]))), "col_post": float(bool(_POST_COL.search(heads[ki]))),
                             "pair_index": n_pair / max(1, len(pairs) - 1) if len(pairs) > 1 else 1.0,
                             "section": self._section_weight(row.start)}
                    if baseline:
                        score *= 0.6
                        feats["baseline"] = 1.0
                    cands.append(_Candidate(score, oscore, values, "table row", "table row", feats))
        return cands

    def _cell_value(self, row, k: int, near: str, heads: list[str]) -> _Item | None:
        """The value one cell gives an arm: the first number of the outcome type's shape ('12 (10%)', '45.2 ± 3.1'); a
        mean whose SD stands in the next column under an 'SD' header is read with it."""
        s, e = row.cells[k]
        items = [it for it in self.items(s, e) if it.kind not in ("junk", "pval", "neq")]
        if not items:
            return None
        mean_ctx = bool(_MEAN_CTX.search(near))
        typed = _typed(items, self.type, mean_ctx=mean_ctx, count_ctx=bool(_COUNT_CTX.search(near)),
                       median_ctx=bool(_MEDIAN_CTX.search(heads[k] + " " + near[:200])) and not mean_ctx,
                       pct_ctx=bool(_PCT_LABEL.search(near[:120])) and not _N_PCT.search(near[:120]))
        typed = [it for it in typed if it.kind != "miss"]
        if typed:
            return typed[0]
        if self.type == "continuous" and items[0].kind == "num" and k + 1 < len(row.cells) and _SD_WORD.search(heads[k + 1]):
            nxt = [it for it in self.items(*row.cells[k + 1]) if it.kind == "num"]
            if nxt and (nxt[0].a or 0) >= 0:
                m, sd = items[0], nxt[0]
                return _Item("msd", m.start, sd.end, a=m.a, b=sd.a, raw_a=m.raw_a, raw_b=sd.raw_a, a_span=m.a_span, b_span=sd.a_span)
        if self.type == "binary" and items[0].kind == "num" and items[0].is_int_a and _COUNT_CTX.search(near):
            return items[0]
        return None

    # -- candidates from sentences

    def _prose_units(self) -> list[tuple[int, int]]:
        """Sentences of running text: the document's, plus those of long lines it left unsplit (e.g. a Markdown heading line)."""
        from extractor.parsing.structure import split_sentences

        if self._units is not None:
            return self._units

        units = [(x.span.start, x.span.end) for x in self.doc.sentences if not x.in_table]
        spans = sorted(units)
        starts = [a for a, _ in spans]
        for s, e, tabbed in self.lines:
            if e - s < 200 or tabbed:
                continue
            lo = bisect.bisect_left(starts, s)
            covered = sum(min(b, e) - max(a, s) for a, b in spans[max(0, lo - 1) :] if a < e and b > s)
            if covered < 0.5 * (e - s):
                units.extend(split_sentences(self.text, s, e))
        self._units = sorted(units)
        return self._units

    def prose_candidates(self) -> list[_Candidate]:
        """Readings from sentences that mention the outcome and hold a value for each arm."""
        cands = []
        for s, e in self._prose_units():
            text = self.clean[s:e]
            oscore = self.outcome.score(text)
            if oscore < 0.3 or self._background(s):
                continue
            items = self._shared_percent([it for it in self.items(s, e) if it.kind != "junk"])
            mean_ctx = bool(_MEAN_CTX.search(text))
            median_ctx = bool(_MEDIAN_CTX.search(text)) and not mean_ctx
            typed = _typed(items, self.type, mean_ctx=mean_ctx, count_ctx=False, median_ctx=median_ctx)
            typed = [it for it in typed if it.kind not in ("miss", "num")]  # a bare number in prose is too often a year or a dose
            if len(typed) < 2:
                continue
            ments = self.mentions(s, e)
            assigned, conf = self._respectively(typed, ments, s, e)
            if not assigned:
                assigned, conf = self._attach(typed, ments)
            if len(assigned) < 2:
                continue
            values = {role: _ArmValue(it, (s, e)) for role, it in assigned.items()}
            bonus = 0.05 if typed[0].kind == "frac" else 0.03 if typed[0].kind in ("pm", "msd") else -0.1 if typed[0].kind == "pct" else 0.0
            bonus += 0.05 if self.outcome.verbatim(text) else 0.0
            score = oscore * self._section_weight(s) * (0.7 + 0.3 * conf) + bonus - 0.02
            sec = self.doc.section_at(s)
            feats = {"arm_conf": conf, "values_in_row": float(len(typed)), "section": self._section_weight(s),
                     "sec_" + (sec.label if sec is not None and sec.label in _SECTION_WEIGHT else "other"): 1.0,
                     "verbatim": float(self.outcome.verbatim(text)), "label_score": oscore,
                     "respectively": float(bool(_RESPECTIVELY.search(text))), "versus": float(bool(_VERSUS.search(text)))}
            if _BASELINE_SENTENCE.search(text) and not _CHANGE_FROM_BASELINE.search(text):
                score *= 0.8  # values at baseline are not the outcome
                feats["baseline"] = 1.0
            cands.append(_Candidate(score, oscore, values, "sentence", "sentence", feats))
        return cands

    def _shared_percent(self, items: list[_Item]) -> list[_Item]:
        """'93.4 and 66.0 %': a number joined to a percentage by 'and', a comma or 'vs' is a percentage too."""
        out = list(items)
        for k in range(len(out) - 2, -1, -1):
            it, nxt = out[k], out[k + 1]
            if it.kind == "num" and nxt.kind == "pct" and _SHARED_PERCENT.fullmatch(self.clean, it.end, nxt.start):
                out[k] = _Item("pct", it.start, it.end, a=it.a, pct=it.a, raw_a=it.raw_a, a_span=it.a_span)
        return out

    def _runs(self, typed: list[_Item]) -> list[list[_Item]]:
        """Runs of values joined only by 'and', commas, 'vs' or a unit word."""
        runs: list[list[_Item]] = []
        for it in typed:
            if runs:
                gap = self.clean[runs[-1][-1].end : it.start]
                if len(gap) <= 30 and len(_LABEL_WORD.findall(_JOINERS.sub("", gap))) <= 2 and not _CLAUSE_END.search(gap):
                    runs[-1].append(it)
                    continue
            runs.append([it])
        return runs

    def _respectively(self, typed: list[_Item], ments: list[_Mention], s: int, e: int) -> tuple[dict[str, _Item], float]:
        """'12 and 15 ... in the A and B groups, respectively': values in the order of the arms listed."""
        resp = [m.start() for m in _RESPECTIVELY.finditer(self.clean, s, e)]
        if not resp or not ments:
            return {}, 0.0
        for run in reversed([r for r in self._runs(typed) if len(r) >= 2]):
            after = [p for p in resp if p >= run[-1].end]
            regions = []
            if after:
                regions.append((run[-1].end, after[0]))
            prev_end = max([it.end for it in typed if it.end <= run[0].start] + [s])
            regions.append((prev_end, run[0].start))
            for a, b in regions:
                inside = [m for m in ments if a <= m.start and m.end <= b]
                if not inside:
                    continue
                region = self.clean[a:b]
                region = _ENUM_FILLER.sub(" ", region)
                parts = [p for p in _ENUM_SPLIT.split(region) if _LABEL_WORD.search(p)]
                roles: list[str | None] = []
                if len(parts) == len(run):
                    for p in parts:
                        pm = _mentions(self.arms, p, 0, len(p))
                        roles.append(pm[-1].role if pm else None)
                elif len(inside) == len(run):
                    roles = [m.role for m in inside]
                else:
                    continue
                out = {}
                for role, it in zip(roles, run):
                    if role and role not in out:
                        out[role] = it
                if len(out) == 2:
                    return out, 1.0 if all(m.strong for m in inside) else 0.8
        return {}, 0.0

    def _attach(self, typed: list[_Item], ments: list[_Mention]) -> tuple[dict[str, _Item], float]:
        """Each value goes to the arm named just after it ('12% in the X group') or, else, before it ('X, 12/200')."""
        got: dict[str, list[_Item]] = {}
        strong = True
        for k, it in enumerate(typed):
            role = None
            nxt = next((m for m in ments if m.start >= it.end), None)
            nxt_item = typed[k + 1].start if k + 1 < len(typed) else 10**12
            if nxt and nxt.start < nxt_item and nxt.start - it.end <= 45 and _FOLLOW_ATTACH.match(self.clean[it.end : nxt.start]):
                role, strong = nxt.role, strong and nxt.strong
            else:
                prev = [m for m in ments if m.end <= it.start]
                if prev:
                    m = prev[-1]
                    between = [x for x in typed if m.end <= x.start and x.end <= it.start]
                    ok = all(_CONNECTOR.match(self.clean[a.end : b.start]) for a, b in zip(between, between[1:] + [it]))
                    if ok and it.start - m.end <= 200:
                        role, strong = m.role, strong and m.strong
            if role:
                got.setdefault(role, []).append(it)
        if len(got) == 1 and len(typed) == 2:
            (role, its), = got.items()
            if len(its) == 2:  # "in the X group ... (86/125 vs 78/133)": the first is X's
                other = "comparator" if role == "intervention" else "intervention"
                return {role: its[0], other: its[1]}, 0.6
        if not got and len(typed) == 2 and (_VERSUS.search(self.clean, typed[0].end, typed[1].start)
                                            or (not ments and _RESPECTIVELY.search(self.clean, typed[1].end, typed[1].end + 40))):
            return {"intervention": typed[0], "comparator": typed[1]}, 0.3
        out = {role: (its[-1] if len(its) > 1 else its[0]) for role, its in got.items()}
        return out, 1.0 if strong else 0.8

    # -- group sizes

    def size_votes(self) -> dict[str, list[tuple[float, _Item, tuple[int, int]]]]:
        """Group sizes stated anywhere: 'X group (n = 35)', '940 were hospitalised in unit A', '19 and 24 ... respectively'."""
        votes: dict[str, list[tuple[float, _Item, tuple[int, int]]]] = {"intervention": [], "comparator": []}
        for s, e, _ in self.lines:
            if e == s:
                continue
            neqs = [it for it in self.items(s, e) if it.kind == "neq"]
            if not neqs or self._background(s):
                continue
            ments = self.mentions(s, e)
            for it in neqs:
                if self.clean[max(s, it.start - 4) : it.start].rstrip().endswith("%") or _PERCENT_AFTER.match(self.clean, it.end):
                    continue  # "7.8% (n = 35)", "(n = 6, 40%)": a count of events, not a group
                prev = [m for m in ments if m.end <= it.start and it.start - m.end <= 50]
                if not prev:
                    continue
                m = prev[-1]
                gap = self.clean[m.end : it.start]
                if _CLAUSE_END.search(gap) or any(x.start >= m.end and x.end <= it.start for x in neqs):
                    continue
                sent = self._sentence_span(it.start) or (s, e)
                after = _CLAUSE_END.split(self.clean[it.end : min(e, it.end + 80)], 1)[0]
                if _EVENT_VERB.match(after) and self.outcome.score(after) >= _OUTCOME_SENTENCE:
                    continue  # "women in the yoga group (n = 3) developed pre-eclampsia": events, not a group
                votes[m.role].append((1.0 if m.strong else 0.8, it, sent))
        for s, e in self._prose_units():
            ments = self.mentions(s, e)
            if not ments or self._background(s):
                continue
            items = [it for it in self.items(s, e) if it.kind in ("num", "pair") and it.is_int_a and (it.a or 0) >= 2]
            counts = [it for it in items if it.kind == "num" or it.pct is not None or (it.b is not None and it.b <= 100)]
            text = self.clean[s:e]
            if _RESPECTIVELY.search(text):
                runs = [r for r in self._runs(counts) if len(r) >= 2]
                for run in reversed(runs):
                    tail = self.clean[run[-1].end : min(e, run[-1].end + 40)]
                    if not (_PARTICIPANTS.match(tail.strip()) or _ALLOCATION.search(tail)):
                        continue
                    assigned, _ = self._respectively(run, ments, s, e)
                    for role, it in assigned.items():
                        votes[role].append((0.9, it, (s, e)))
                    if assigned:
                        break
            stated, elided = [], []
            for m in ments:
                before = [it for it in counts if it.end <= m.start and m.start - it.end <= 60]
                if not before:
                    continue
                it = before[-1]
                gap = self.clean[it.end : m.start]
                if not _SIZE_GAP.match(gap) or any(o.start >= it.end and o.end <= m.start for o in ments):
                    continue
                if self.outcome.score(gap) >= _OUTCOME_SENTENCE:
                    continue  # "19 cases of recurrence in group A": events, not a group
                if any(o.role != m.role and _ARM_JOIN.fullmatch(self.clean, m.end, o.start) for o in ments if o.start >= m.end):
                    continue  # "randomised 10,948 patients to eptifibatide or placebo": the whole trial
                if _ALLOCATION.search(gap) or _PARTICIPANTS.search(gap):
                    stated.append((m, it))
                elif _BARE_IN.fullmatch(gap):
                    elided.append((m, it))  # "940 were hospitalised in unit A, and 1,831 in unit B"
            for m, it in stated + (elided if stated else []):
                votes[m.role].append((0.7 if m.strong else 0.5, it, (s, e)))
        self._size_rows(votes)
        return votes

    def _size_rows(self, votes: dict[str, list[tuple[float, _Item, tuple[int, int]]]]) -> None:
        """'N  30  30  32' or 'Number of patients  120  118' in a table whose header names the arms: a size per column."""
        for k, (s, e, _) in enumerate(self.lines):
            items = self.items(s, e)
            if len(items) < 2 or self._background(s):
                continue
            head = self.clean[s : items[0].start].strip()
            counts = [it for it in items if it.kind == "num" and it.is_int_a and (it.a or 0) >= 2]
            if len(counts) != len(items) or not _N_ROW.fullmatch(head):
                continue
            cols, _ = self._columns(self._context(k), len(counts))
            if len(cols) != len(counts):
                continue
            for col, it in zip(cols, counts):
                if col.role in votes:
                    votes[col.role].append((0.9, it, (s, e)))

    def _sentence_span(self, offset: int) -> tuple[int, int] | None:
        """The sentence of running text holding ``offset``, if any."""
        units = self._prose_units()
        k = bisect.bisect_right(units, (offset, len(self.text) + 1)) - 1
        if k >= 0 and units[k][0] <= offset < units[k][1]:
            return units[k]
        return None

    def total_n(self) -> tuple[int, tuple[int, int], tuple[int, int]] | None:
        """The study's sample size for a before/after comparison in one group: the most often stated count of participants."""
        found: dict[int, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
        for sent in self.doc.sentences:
            if sent.in_table or (sent.section or "") in ("introduction", "discussion", "references"):
                continue
            for m in _TOTAL_N.finditer(self.clean, sent.span.start, sent.span.end):
                word = m.group(1).lower()
                n = int(word) if word.isdigit() else _words_to_int(word)
                if n and n >= 2:
                    found.setdefault(n, []).append(((m.start(1), m.end(1)), (sent.span.start, sent.span.end)))
        if not found:
            return None
        n, where = max(found.items(), key=lambda kv: (len(kv[1]), -kv[1][0][0][0]))
        if len(where) < 2:
            return None
        return n, where[0][0], where[0][1]



_OUTCOME_SENTENCE = 0.6
"""A count said of the outcome ('3 developed pre-eclampsia') is a count of events, not a group size."""

MIN_OUTCOME_SCORE = 0.3
"""A candidate whose text shares less of the outcome's (weighted) words than this is not kept (the value head weighs
the rest, with the share of the outcome's words as one of its features)."""


@dataclass
class SizeCandidate:
    """One statement of an arm's group size: the number, where it was read, and how."""

    role: str
    n: int
    span: tuple[int, int] | None
    context: tuple[int, int]
    how: str  # "denominator" ('12/120'), "header" ('Placebo (n = 112)'), "statement" ('the X group (n = 35)'), "total"
    weight: float = 1.0


@dataclass
class Reading:
    """Everything the rules found for one comparison: value candidates and group-size statements, unscored."""

    doc: Document
    outcome_type: str
    candidates: list[_Candidate]
    sizes: dict[str, list[SizeCandidate]]
    same_group: bool


def read_candidates(doc: Document, *, intervention: str, comparator: str, outcome: str, outcome_type: str) -> Reading:
    """Every candidate reading of one comparison's arm values and every group-size statement, grounded and described.

    Sentences and table rows that mention the outcome are candidates; the arms are told apart by
    table headers ("Placebo (n = 112)"), row labels, "in the X group", "respectively" lists and the
    order of mention; numbers are read as "12/200", "12 (6.0%)", "5.2 ± 1.1", "5.2 (SD 1.1)".
    Group sizes come from the candidates' own fractions and column headers and from statements such
    as "the intervention group (n = 35)" (Introduction and Discussion left out).

    Raises:
        ValueError: ``outcome_type`` is neither binary nor continuous.
    """
    if outcome_type not in ("binary", "continuous"):
        raise ValueError(f"outcome_type must be 'binary' or 'continuous', not {outcome_type!r}")
    reader = _Reader(doc, intervention, comparator, outcome, outcome_type)
    found = _merged(reader.table_candidates(), reader.grid_candidates()) + reader.prose_candidates()
    if not _ASKS_BASELINE.search(outcome):  # values before treatment are never the outcome asked about
        found = [c for c in found if not c.feats.get("baseline")]
    every = sorted((c for c in found if c.outcome_score >= MIN_OUTCOME_SCORE), key=lambda c: -c.score)
    if outcome_type == "binary":
        every = [_corroborate(c, found) if any(v.item.kind == "pct" for v in c.values.values()) else c for c in every]
    sizes: dict[str, list[SizeCandidate]] = {"intervention": [], "comparator": []}
    for role, votes in reader.size_votes().items():
        for weight, it, ctx in votes:
            sizes[role].append(SizeCandidate(role, int(it.a or 0), it.a_span, ctx, "statement", weight))
    if reader.same_group:
        total = reader.total_n()
        if total:
            n, span, ctx = total
            for role in sizes:
                sizes[role].append(SizeCandidate(role, n, span, ctx, "total", 1.0))
    return Reading(doc, outcome_type, every, sizes, reader.same_group)


def _merged(rows: list[_Candidate], grid: list[_Candidate]) -> list[_Candidate]:
    """Row readings and grid readings together; a grid reading of the same two cells as a row reading adds its
    description to that reading instead of counting twice."""
    seen = {tuple(sorted((r, v.item.start) for r, v in c.values.items())): c for c in rows}
    out = list(rows)
    for c in grid:
        key = tuple(sorted((r, v.item.start) for r, v in c.values.items()))
        twin = seen.get(key)
        if twin is not None:
            twin.feats.update({k: v for k, v in c.feats.items() if k not in twin.feats or k == "grid"})
            twin.score = max(twin.score, c.score)
            continue
        seen[key] = c
        out.append(c)
    return out


def candidate_sizes(cand: _Candidate) -> dict[str, SizeCandidate]:
    """Group sizes a value candidate carries itself: a fraction's denominator, else its column header's '(n = …)'."""
    out: dict[str, SizeCandidate] = {}
    for role, val in cand.values.items():
        it = val.item
        if it.kind == "frac" and it.b:
            out[role] = SizeCandidate(role, int(it.b), it.b_span, val.context, "denominator")
        elif val.n is not None and val.n.a:
            out[role] = SizeCandidate(role, int(val.n.a), val.n.a_span, val.n_context or val.context, "header")
    return out


def _percent_of(item: _Item) -> float | None:
    """The percentage an item states or implies ('12/200' -> 6.0, '12 (6.0%)' -> 6.0)."""
    if item.kind == "frac" and item.b:
        return 100 * (item.a or 0) / item.b
    if item.kind in ("pair", "pct"):
        return item.pct if item.pct is not None else item.b
    return None


def _corroborate(best: _Candidate, every: list[_Candidate]) -> _Candidate:
    """Percentages only ('60.0% vs 70.5%'): take the counts that give the same percentages when the text has them."""
    for cand in sorted(every, key=lambda c: -c.score):
        if cand is best or cand.outcome_score < 0.3 or set(cand.values) != set(best.values):
            continue
        ok = True
        for role, val in best.values.items():
            other = cand.values[role].item
            if other.kind not in ("frac", "pair"):
                ok = False
                break
            want, got = _percent_of(val.item), _percent_of(other)
            decimals = len(val.item.raw_a.split(".")[1]) if "." in val.item.raw_a else 0
            if want is None or got is None or abs(want - got) > max(0.051, 0.5 * 10**-decimals + 1e-9):
                ok = False
                break
        if ok:
            return _Candidate(best.score, best.outcome_score, cand.values, cand.note + " (agrees with the percentages)", best.where,
                              {**best.feats, "corroborated": 1.0})
    return best


def source_of(doc: Document, span: tuple[int, int] | None, context: tuple[int, int], *, derived: str | None = None,
              where: str = "") -> NumberSource:
    """The grounding of one number: its text and the trimmed sentence or row around it, with their spans."""
    start, end = span if span is not None else context
    while start < end and doc.text[start] in " \t(":
        start += 1
    while end > start and doc.text[end - 1] in " \t)":
        end -= 1
    cs, ce = context
    while cs < ce and doc.text[cs] in " \t\n":
        cs += 1
    while ce > cs and doc.text[ce - 1] in " \t\n":
        ce -= 1
    return NumberSource(text=doc.text[start:end], span=Span(start=start, end=end), context=doc.text[cs:ce],
                        context_span=Span(start=cs, end=ce), page=doc.page_at(start), derived=derived, where=where)
