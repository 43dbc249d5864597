"""The scored reading of a comparison's arm numbers: candidates described by features, picked and trusted by a small
learned head, each field filled only when its calibrated probability reaches its threshold.

Linear heads (``extractor/heads/arms.v2.json``, trained by ``eval/training/train_arms.py`` on the TRAIN and
DEV splits of rct_numeric with article-level folds):

- a **ranker** for each outcome type (``value.binary``, ``value.continuous``), a conditional logit over one
  comparison's value candidates (a table row, a pair of rows or a Results sentence giving both arms' events or
  means): it picks the candidate most likely to hold both arms' right values;
- a **trust head** for each outcome type (``trust.binary``, ``trust.continuous``): the probability that the pick is
  right, from its description and how clearly it won (its share of the ranker's softmax, its lead);
- the **size head** scores each group size an arm could have (the candidate's own denominator or '(n = …)' column
  header, and each size stated in the text), with a consistency feature: a stated percentage equal to events / n.

A field is filled when its probability is at or above its head's threshold (chosen on out-of-fold predictions for
high precision; above 1 where no probability was precise enough, so that head's fields are never filled);
otherwise its reading goes to ``ArmNumbers.withheld``. A missing
number costs a reviewer a look; a wrong one accuses a supplier.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from extractor.arms.read import Reading, SizeCandidate, candidate_sizes, read_candidates, source_of
from extractor.schema import ARM_FIELDS, ArmNumbers, Document

HEAD_NAME = "arms.v2"
VALUE_HEADS = ("value.binary", "value.continuous")
"""One ranker per outcome type (counts and means are found in different places and go wrong differently)."""
TRUST_HEADS = ("trust.binary", "trust.continuous")
"""One trust head per outcome type: the calibrated probability that the ranker's pick is right."""
EXTRACTOR_NAME = "arms.scored.v2"

VALUE_FEATURES = (
    "bias", "outcome_score", "label_score", "verbatim", "agreeing", "pct_consistent", "where_table_row", "where_table_rows",
    "where_sentence", "kind_frac", "kind_pct", "header_n", "baseline", "context_log", "margin", "rank0", "tp_post",
    "tp_baseline", "sec_results", "same_values", "label_pre", "label_post", "later_twin", "earlier_twin",
    "grid", "arm_strength", "arms_by_order", "col_pre", "col_post", "pair_index",
)
"""Features of a value candidate the head weighs, in the order of its weights (``value_features`` also passes on the
rules' own descriptions of a candidate; a small set, strongly regularised, held up best under article-level
cross-validation)."""

TRUST_FEATURES = (
    "bias", "share", "gap", "n_candidates", "outcome_score", "label_score", "verbatim", "where_sentence", "where_table_row",
    "where_table_rows", "grid", "arm_strength", "arms_by_order", "agreeing", "kind_frac", "kind_pct", "sec_results",
    "header_n", "pct_consistent",
)
"""Features of a ranker's pick the trust head weighs: the pick's own description and how clearly it won."""

SIZE_FEATURES = (
    "bias", "from_denominator", "from_header", "statement_weight", "statement_share", "agrees_candidate", "pct_consistent",
    "pct_inconsistent", "value_p", "same_as_other_arm", "largest_statement",
)
"""Features of one group size an arm could have, in the order of the size head's weights."""


@dataclass(frozen=True)
class Head:
    """A logistic head: feature names, standardisation, weights and the threshold a field needs."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    threshold: float

    def score(self, feats: dict[str, float]) -> float:
        """The linear score (a ranker's utility; the log-odds of a logistic head)."""
        z = 0.0
        for name, mu, sd, w in zip(self.features, self.mean, self.scale, self.weights):
            z += w * ((feats.get(name, 0.0) - mu) / sd)
        return z

    def probability(self, feats: dict[str, float]) -> float:
        z = self.score(feats)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@lru_cache(maxsize=4)
def load_heads(name: str = HEAD_NAME) -> dict[str, Head]:
    """The shipped heads by kind (rankers, trust heads and 'size'), read from ``extractor/heads/<name>.json``."""
    raw = json.loads(resources.files("extractor.heads").joinpath(f"{name}.json").read_text(encoding="utf-8"))
    heads = {}
    for kind in VALUE_HEADS + TRUST_HEADS + ("size",):
        h = raw[kind]
        heads[kind] = Head(tuple(h["features"]), tuple(h["mean"]), tuple(h["scale"]), tuple(h["weights"]), float(h["threshold"]))
    return heads


def value_head(outcome_type: str) -> str:
    """The name of the ranker for an outcome type."""
    return f"value.{outcome_type}"


def trust_head(outcome_type: str) -> str:
    """The name of the trust head for an outcome type."""
    return f"trust.{outcome_type}"


def pick(reading: Reading, heads: dict[str, Head]) -> tuple[int | None, float, dict[str, float]]:
    """The ranker's pick among a reading's value candidates, the trust head's probability that it is right, and the
    features that probability rests on (None, 0.0, {} without candidates)."""
    if not reading.candidates:
        return None, 0.0, {}
    kind = reading.outcome_type
    feats = value_features(reading)
    zs = [heads[value_head(kind)].score(f) for f in feats]
    k = max(range(len(zs)), key=lambda i: (zs[i], reading.candidates[i].score))
    top = zs[k]
    rest = sorted((z for i, z in enumerate(zs) if i != k), reverse=True)
    trust = dict(feats[k])
    trust["share"] = 1.0 / sum(math.exp(max(-50.0, z - top)) for z in zs)
    trust["gap"] = min(5.0, top - rest[0]) if rest else 5.0
    trust["n_candidates"] = math.log1p(len(zs))
    return k, heads[trust_head(kind)].probability(trust), trust


def unthresholded(heads: dict[str, Head]) -> dict[str, Head]:
    """The same heads with every threshold at 0: every field read is filled, with its probability. For looking at what
    the rules read (tests, the trainer); never for a verdict."""
    return {k: Head(h.features, h.mean, h.scale, h.weights, 0.0) for k, h in heads.items()}


# --- features ------------------------------------------------------------------------------------


def _primary(cand, role: str, outcome_type: str) -> float | None:
    """The value a candidate gives an arm: its events (or percentage) for binary, its mean for continuous."""
    val = cand.values.get(role)
    if val is None:
        return None
    it = val.item
    if outcome_type == "binary" and it.kind == "pct":
        return it.pct
    return it.a


def _pct_consistent(it, n: float | None) -> float | None:
    """Whether a count's stated percentage equals count / n (to the percentage's own rounding); None when not testable."""
    if it.kind not in ("pair", "frac") or it.a is None:
        return None
    pct = it.pct
    if pct is None or pct <= 0:
        return None
    if n is None and it.kind == "frac":
        n = it.b
    if not n:
        return None
    raw = it.raw_b if it.kind == "pair" else ""
    decimals = len(raw.split(".")[1]) if "." in raw else 0
    return float(abs(100.0 * it.a / n - pct) <= 0.5 * 10 ** -decimals + 0.051)


_PRE_LABEL = re.compile(r"(?<![\w])(?:baseline|pre[\s-]?(?:test|treatment|intervention|operative)?|before|at entry|T0|week 0|day 0)(?![\w])",
                        re.IGNORECASE)
_POST_LABEL = re.compile(r"(?<![\w])(?:post[\s-]?(?:test|treatment|intervention|operative)?|after|end of|follow[\s-]?up|final)(?![\w])",
                         re.IGNORECASE)


def value_features(reading: Reading) -> list[dict[str, float]]:
    """One feature dict per value candidate of ``reading`` (same order)."""
    cands = reading.candidates
    out = []
    keys = [tuple(_primary(c, r, reading.outcome_type) for r in ("intervention", "comparator")) for c in cands]
    texts = reading.doc.text
    starts = [min(v.context[0] for v in c.values.values()) for c in cands]
    for k, cand in enumerate(cands):
        f: dict[str, float] = {"bias": 1.0}
        first_at = min(v.item.start for v in cand.values.values())
        label = texts[starts[k] : max(starts[k], first_at)][-120:]
        f["label_pre"] = float(bool(_PRE_LABEL.search(label)))
        f["label_post"] = float(bool(_POST_LABEL.search(label)))
        twins = [j for j, c in enumerate(cands) if j != k and keys[j] != keys[k] and c.where != "sentence" and cand.where != "sentence"
                 and abs(c.outcome_score - cand.outcome_score) <= 0.05]
        f["later_twin"] = float(any(starts[j] > starts[k] for j in twins))
        f["earlier_twin"] = float(any(starts[j] < starts[k] for j in twins))
        f.update(cand.feats)
        span = next(iter(cand.values.values())).context
        f["context_log"] = math.log1p(span[1] - span[0])
        f["outcome_score"] = cand.outcome_score
        f["where_" + cand.where.replace(" ", "_")] = 1.0
        first = cand.values["intervention"].item if "intervention" in cand.values else next(iter(cand.values.values())).item
        f["kind_" + first.kind] = 1.0
        checks = [_pct_consistent(v.item, None) for v in cand.values.values()]
        checks = [c for c in checks if c is not None]
        f["pct_consistent"] = float(bool(checks) and all(checks)) - float(bool(checks) and not all(checks))
        a, b = keys[k]
        f["same_values"] = float(a is not None and a == b)
        f["rank0"] = float(k == 0)
        other = next((c.score for c, key in zip(cands, keys) if key != keys[k] and c is not cand), None)
        f["margin"] = cand.score - other if other is not None else 0.5
        f["agreeing"] = float(sum(1 for key in keys if key == keys[k]) - 1)
        out.append(f)
    return out


def size_options(reading: Reading, cand, value_p: float) -> dict[str, list[tuple[SizeCandidate, dict[str, float]]]]:
    """Each group size either arm could have, with its features, given the chosen value candidate (or None)."""
    own = candidate_sizes(cand) if cand is not None else {}
    out: dict[str, list[tuple[SizeCandidate, dict[str, float]]]] = {}
    for role in ("intervention", "comparator"):
        statements = reading.sizes.get(role, [])
        tally: dict[int, float] = {}
        first: dict[int, SizeCandidate] = {}
        for sc in statements:
            if sc.n < 2:
                continue
            tally[sc.n] = tally.get(sc.n, 0.0) + sc.weight
            first.setdefault(sc.n, sc)
        options: dict[int, SizeCandidate] = {}
        if role in own:
            options[own[role].n] = own[role]
        for n, sc in first.items():
            options.setdefault(n, sc)
        total_weight = sum(tally.values()) or 1.0
        largest = max(tally, key=lambda n: tally[n], default=None)
        other = "comparator" if role == "intervention" else "intervention"
        other_sizes = {own[other].n} if other in own else {sc.n for sc in reading.sizes.get(other, [])}
        val = cand.values.get(role) if cand is not None else None
        rows = []
        for n, sc in options.items():
            f = {"bias": 1.0, "value_p": value_p}
            f["from_denominator"] = float(role in own and own[role].n == n and own[role].how == "denominator")
            f["from_header"] = float(role in own and own[role].n == n and own[role].how == "header")
            f["statement_weight"] = math.log1p(tally.get(n, 0.0))
            f["statement_share"] = tally.get(n, 0.0) / total_weight
            f["agrees_candidate"] = float(role in own and own[role].n == n and n in tally)
            f["largest_statement"] = float(n == largest)
            f["same_as_other_arm"] = float(n in other_sizes)
            if val is not None and reading.outcome_type == "binary" and val.item.kind in ("pair", "frac", "num"):
                c = _pct_consistent(val.item, n)
                f["pct_consistent"] = float(c is True or c == 1.0)
                f["pct_inconsistent"] = float(c is not None and not c)
            rows.append((sc, f))
        out[role] = rows
    return out


# --- the scored reading ------------------------------------------------------------------------


def extract_arm_numbers(doc: Document, *, intervention: str, comparator: str, outcome: str, outcome_type: str,
                        heads: dict[str, Head] | None = None) -> ArmNumbers:
    """Read the per-arm numbers of one comparison from a parsed document, each field with its probability.

    Every candidate the rules find is scored by the ranker; its pick gives the arms' values, with the trust head's
    probability that they are right.
    Each arm's group size is the most probable of its candidate's own and the sizes stated in the text.
    A field is filled only at or above its head's threshold; a reading below it lands in ``withheld``.
    Event counts given only as a percentage are derived from a confident group size, and are only as
    confident as the less confident of the two.

    Args:
        doc: The parsed document.
        intervention: Name of the intervention arm as the prompt gives it.
        comparator: Name of the comparator arm.
        outcome: The outcome measured.
        outcome_type: ``"binary"`` (events and group sizes) or ``"continuous"`` (means, SDs, group sizes).
        heads: The heads to use (default: the shipped ``arms.v1``).

    Returns:
        The arm numbers, each read field grounded in ``doc.text`` (``sources``) with its ``confidence``.

    Raises:
        ValueError: ``outcome_type`` is neither binary nor continuous.
    """
    reading = read_candidates(doc, intervention=intervention, comparator=comparator, outcome=outcome, outcome_type=outcome_type)
    return assemble(reading, heads or load_heads())


def assemble(reading: Reading, heads: dict[str, Head]) -> ArmNumbers:
    """Pick, trust and ground the fields of one comparison from its candidates (see :func:`extract_arm_numbers`)."""
    doc, kind = reading.doc, reading.outcome_type
    result = ArmNumbers(outcome_type=kind, extractor=EXTRACTOR_NAME)
    read: dict[str, tuple[float, float, object]] = {}  # field -> (value, probability, NumberSource)
    best, value_p = None, 0.0
    k, p, _ = pick(reading, heads)
    if k is not None:
        best, value_p = reading.candidates[k], p
        result.score = round(min(1.0, best.outcome_score), 3)
        for role, val in best.values.items():
            it = val.item
            where = best.where
            if kind == "continuous":
                read[f"{role}_mean"] = (it.a, value_p, source_of(doc, it.a_span, val.context, where=where))
                if it.b is not None:
                    read[f"{role}_standard_deviation"] = (it.b, value_p, source_of(doc, it.b_span, val.context, where=where))
            elif it.kind in ("frac", "pair", "num"):
                read[f"{role}_events"] = (int(it.a or 0), value_p, source_of(doc, it.a_span, val.context, where=where))
    for role, options in size_options(reading, best, value_p).items():
        if not options:
            continue
        scored = [(heads["size"].probability(f), sc) for sc, f in options]
        # "79/101", or "(n = 101)" over the value's own column: the group its values were measured in, whatever else is stated
        own = [t for t in scored if t[1].how in ("denominator", "header")]
        p, sc = own[0] if own else max(scored, key=lambda t: (t[0], t[1].weight))
        how = {"denominator": "table row" if best is not None and best.where != "sentence" else "sentence",
               "header": "table header", "statement": "group size statement", "total": "sample size statement"}[sc.how]
        derived = "the whole sample (one group measured before and after)" if sc.how == "total" else None
        read[f"{role}_group_size"] = (sc.n, p, source_of(doc, sc.span, sc.context, derived=derived, where=how))
    if kind == "binary" and best is not None:
        for role, val in best.values.items():
            size = read.get(f"{role}_group_size")
            if val.item.kind == "pct" and size is not None and size[0]:
                pct, n = val.item.a or 0.0, int(size[0])
                src = source_of(doc, (val.item.start, val.item.end), val.context, derived=f"{pct:g}% of {n}", where=best.where)
                read[f"{role}_events"] = (round(pct * n / 100), min(value_p, size[1]), src)
    for name, (value, p, src) in read.items():
        threshold = heads["size" if name.endswith("group_size") else trust_head(kind)].threshold
        result.sources[name] = src
        result.confidence[name] = round(p, 4)
        if p >= threshold:
            setattr(result, name, value)
        else:
            result.withheld[name] = value
    return result


__all__ = ["ARM_FIELDS", "EXTRACTOR_NAME", "HEAD_NAME", "TRUST_FEATURES", "TRUST_HEADS", "VALUE_HEADS", "Head", "SIZE_FEATURES",
           "VALUE_FEATURES", "assemble", "extract_arm_numbers", "load_heads", "pick", "size_options", "trust_head", "unthresholded",
           "value_features", "value_head"]
