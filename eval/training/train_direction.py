"""Train the direction head (``direction.v1.npz``) on the Evidence Inference 2.0 train split.

Run ``python -m eval.training.train_direction --data ../shared/data/evidence_inference``. It reads the
train split only, picks the regularisation by 5-fold cross-validation grouped by article, fits a
multinomial logistic regression on the hashed features of ``extractor.direction`` (and a second one
with MiniLM embeddings appended), and a binary finding head on the same features (the evidence against the
other sentences of its article that mention the outcome); it writes the weights and prints the macro F1 on
the validation split given the gold evidence. scikit-learn is needed here only; inference uses numpy.

The reading of the dataset (``load_prompts``) is shared with ``eval.datasets.evidence_inference`` so
that training and scoring treat the annotations the same way:

- labels ``significantly increase(d)`` / ``significantly decreased`` / ``no significant difference``
  map to ``Direction``; an annotation whose ``Valid Label`` is False (a verifier rejected its label) is
  not counted; the prompt's label is the majority of the rest, a tie broken by the annotations whose
  reasoning was also judged valid, and a prompt still tied is dropped;
- gold evidence is the set of spans of annotations with both ``Valid Label`` and ``Valid Reasoning``;
  a prompt with none is dropped; so is a prompt with no annotation at all (225 in the whole file).
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from extractor.direction import (
    EMBEDDING_DIM,
    LABELS,
    N_BUCKETS,
    WEIGHTS_PATH,
    content_words,
    word_tokens,
    direction_cues,
    direction_features,
    hash_features,
)
from extractor.errors import ConfigError
from extractor.schema import Direction

SEED = 13
EMBEDDING_SCALE = 0.5
"""The embedding block enters training scaled by this (folded into the stored weights): unscaled, its 384 dense
values outweigh the sparse n-grams and cross-validated F1 drops."""
HEADING = re.compile(r"^(?:TITLE|ABSTRACT|BODY)(?:\.[^\n]*)?:\s*$")
"""A section heading line of the dataset's ``txt`` files (``ABSTRACT.RESULTS:``, ``BODY.3. RESULTS:``, ``TITLE:``)."""


_LABEL_MAP = {
    "significantly increased": Direction.increase,
    "significantly increase": Direction.increase,
    "significantly decreased": Direction.decrease,
    "significantly decrease": Direction.decrease,
    "no significant difference": Direction.no_difference,
}


@dataclass
class Prompt:
    """One (intervention, comparator, outcome) question over an article, with its aggregated gold answer."""

    prompt_id: str
    pmcid: str
    intervention: str
    comparator: str
    outcome: str
    label: Direction | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)
    """Distinct gold evidence spans (half-open character offsets into ``txt/PMC<pmcid>.txt``), one per valid annotation."""
    votes: dict[str, int] = field(default_factory=dict)
    annotations: list[tuple[Direction, tuple[int, int]]] = field(default_factory=list)
    """Every valid annotation: its label and span (what training uses, one example each)."""


def normalise_label(label: str) -> Direction | None:
    """Map a dataset label to ``Direction`` (``significantly increase`` counts as ``increased``); None when unknown."""
    return _LABEL_MAP.get(" ".join(label.lower().split()))


def normalise_pmcid(value: str) -> str:
    """The digits of a PMCID (``PMC59610``, ``59610`` and ``59610.0`` all give ``59610``)."""
    value = value.strip().upper().removeprefix("PMC")
    return value.split(".")[0]


def read_split(data: Path, split: str) -> list[str]:
    """Article ids (digits) listed in ``splits/<split>.txt``.

    Raises:
        ConfigError: the split file is missing.
    """
    path = Path(data) / "splits" / f"{split}.txt"
    if not path.is_file():
        found = sorted(p.stem for p in (Path(data) / "splits").glob("*.txt"))
        raise ConfigError(f"no split {split!r} in {data}.", hint=f"Use one of: {', '.join(found) or '(none found)'}.")
    return [normalise_pmcid(x) for x in path.read_text(encoding="utf-8").split() if x.strip()]


def article_path(data: Path, pmcid: str) -> Path:
    return Path(data) / "txt" / f"PMC{pmcid}.txt"


def load_prompts(data: Path, split: str) -> tuple[list[Prompt], Counter]:
    """The prompts of a split's articles with their majority label and gold evidence spans.

    Args:
        data: The ``evidence_inference`` folder (``prompts.csv``, ``annotations.csv``, ``txt/``, ``splits/``).
        split: Name of the split file.

    Returns:
        ``(prompts, dropped)``: the usable prompts in file order, and a count of the prompts dropped by reason
        (``no_annotation``, ``no_valid_label``, ``label_tie``, ``no_valid_evidence``, ``no_article``), plus
        ``annotations_invalid_label`` / ``annotations_invalid_reasoning`` / ``annotations_unknown_label`` /
        ``annotations_bad_offsets`` counts of annotation rows set aside.
    """
    data = Path(data)
    articles = set(read_split(data, split))
    dropped: Counter = Counter()
    rows_by_prompt: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (data / "annotations.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if normalise_pmcid(row["PMCID"]) in articles:
                rows_by_prompt[row["PromptID"].strip()].append(row)
    prompts: list[Prompt] = []
    with (data / "prompts.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            pmcid = normalise_pmcid(row["PMCID"])
            if pmcid not in articles:
                continue
            p = Prompt(row["PromptID"].strip(), pmcid, row["Intervention"].strip(), row["Comparator"].strip(), row["Outcome"].strip())
            rows = rows_by_prompt.get(p.prompt_id, [])
            if not rows:
                dropped["no_annotation"] += 1
                continue
            if not article_path(data, pmcid).is_file():
                dropped["no_article"] += 1
                continue
            if _aggregate(p, rows, dropped):
                prompts.append(p)
    return prompts, dropped


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def _aggregate(p: Prompt, rows: list[dict[str, str]], dropped: Counter) -> bool:
    votes: Counter = Counter()
    tie_break: Counter = Counter()
    for row in rows:
        label = normalise_label(row["Label"])
        if label is None:
            dropped["annotations_unknown_label"] += 1
            continue
        if not _true(row["Valid Label"]):
            dropped["annotations_invalid_label"] += 1
            continue
        votes[label] += 1
        if not _true(row["Valid Reasoning"]):
            dropped["annotations_invalid_reasoning"] += 1
            continue
        tie_break[label] += 1
        try:
            span = (int(row["Evidence Start"]), int(row["Evidence End"]))
        except ValueError:
            dropped["annotations_bad_offsets"] += 1
            continue
        if span[0] < 0 or span[1] <= span[0]:
            dropped["annotations_bad_offsets"] += 1
            continue
        p.annotations.append((label, span))
        if span not in p.spans:
            p.spans.append(span)
    if not votes:
        dropped["no_valid_label"] += 1
        return False
    ranked = sorted(votes, key=lambda d: (-votes[d], -tie_break[d], LABELS.index(d)))
    if len(ranked) > 1 and votes[ranked[0]] == votes[ranked[1]] and tie_break[ranked[0]] == tie_break[ranked[1]]:
        dropped["label_tie"] += 1
        return False
    if not p.spans:
        dropped["no_valid_evidence"] += 1
        return False
    p.label = ranked[0]
    p.votes = {d.value: n for d, n in votes.items()}
    return True


class ArticleCache:
    """Article texts read once each."""

    def __init__(self, data: Path) -> None:
        self.data = Path(data)
        self._texts: dict[str, str] = {}

    def text(self, pmcid: str) -> str:
        if pmcid not in self._texts:
            self._texts[pmcid] = article_path(self.data, pmcid).read_text(encoding="utf-8")
        return self._texts[pmcid]


_FLIP = {Direction.increase: Direction.decrease, Direction.decrease: Direction.increase, Direction.no_difference: Direction.no_difference}


def _examples(data: Path, split: str, *, swap: bool = True, articles: set[str] | None = None
              ) -> tuple[list[tuple[str, Prompt]], list[int], list[str], np.ndarray]:
    """One example per valid annotation (the same span and label kept once), plus its mirror image.

    The mirror swaps the prompt's intervention and comparator and flips increase / decrease: the same
    sentence then teaches that "higher in the placebo group" and "higher in the drug group" differ. It is
    made only when the evidence names an arm (otherwise both copies would look alike).

    Args:
        data: The ``evidence_inference`` folder.
        split: The split to read.
        swap: Add the mirrored copies.
        articles: Keep only these articles of the split (for held-out experiments).

    Returns:
        ``(examples, labels, groups, mirrored)``: (evidence text, prompt) pairs, label indices into
        ``LABELS``, the article of each (for grouped folds) and a mask of the mirrored copies.
    """
    prompts, _ = load_prompts(data, split)
    cache = ArticleCache(data)
    out, labels, groups, mirrored = [], [], [], []
    for p in prompts:
        if articles is not None and p.pmcid not in articles:
            continue
        seen = set()
        for label, (a, b) in p.annotations:
            if (label, a, b) in seen:
                continue
            seen.add((label, a, b))
            text = cache.text(p.pmcid)[a:b]
            out.append((text, p))
            labels.append(LABELS.index(label))
            groups.append(p.pmcid)
            mirrored.append(False)
            if swap and direction_cues(text, intervention=p.intervention, comparator=p.comparator, outcome=p.outcome).first_arm:
                q = Prompt(p.prompt_id, p.pmcid, p.comparator, p.intervention, p.outcome)
                out.append((text, q))
                labels.append(LABELS.index(_FLIP[label]))
                groups.append(p.pmcid)
                mirrored.append(True)
    return out, labels, groups, np.asarray(mirrored)


def article_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an article in the dataset's ``txt`` layout (heading lines skipped; a table cell is a 'sentence')."""
    from extractor.parsing.structure import split_sentences

    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        a, b = pos, pos + len(line)
        pos = b + 1
        if line.strip() and not HEADING.match(line.strip()):
            out.extend(split_sentences(text, a, b))
    return out


def _finding_examples(data: Path, split: str, *, hard: int = 10, easy: int = 5, articles: set[str] | None = None
                      ) -> tuple[list[tuple[str, Prompt]], list[int]]:
    """Evidence versus other sentences of the same article, for the finding head.

    Positives are the gold evidence spans; negatives are the ``hard`` sentences that share the most words with the
    outcome without overlapping the evidence, plus ``easy`` others drawn at random (seeded).
    """
    rng = random.Random(SEED)
    prompts, _ = load_prompts(data, split)
    cache = ArticleCache(data)
    sentences: dict[str, list[tuple[int, int]]] = {}
    out, labels = [], []
    for p in prompts:
        if articles is not None and p.pmcid not in articles:
            continue
        text = cache.text(p.pmcid)
        if p.pmcid not in sentences:
            sentences[p.pmcid] = article_sentences(text)
        terms = set(content_words(p.outcome))
        others = [(a, b) for a, b in sentences[p.pmcid] if not any(a < e and s < b for s, e in p.spans)]
        others.sort(key=lambda ab: -sum(1 for w in word_tokens(text[ab[0] : ab[1]]) if w in terms))
        rest = others[hard:]
        negatives = others[:hard] + rng.sample(rest, min(easy, len(rest)))
        for (a, b), y in [(s, 1) for s in p.spans] + [(s, 0) for s in negatives]:
            out.append((text[a:b], p))
            labels.append(y)
    return out, labels


def _matrix(examples: list[tuple[str, Prompt]]):
    from scipy import sparse

    indptr, indices, values = [0], [], []
    for text, p in examples:
        ids, vals = hash_features(direction_features(text, intervention=p.intervention, comparator=p.comparator, outcome=p.outcome))
        indices.extend(ids.tolist())
        values.extend(vals.tolist())
        indptr.append(len(indices))
    buckets, columns = np.unique(np.asarray(indices, dtype=np.int64), return_inverse=True)
    values = np.asarray(values, dtype=np.float32)
    # Only the buckets some example uses become columns: the solver then works on tens of thousands, not a million.
    return sparse.csr_matrix((values, columns, np.asarray(indptr)), shape=(len(examples), len(buckets))), buckets


def _fit(x, y, c: float):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=SEED)
    model.fit(x, y)
    return model


def _macro_f1(gold: list[int], pred: list[int]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, average="macro", labels=[0, 1, 2]))


def _cross_validate(x, y: np.ndarray, groups: list[str], mirrored: np.ndarray, grid: list[float], embed=None) -> dict[float, float]:
    from scipy import sparse
    from sklearn.model_selection import GroupKFold

    folds = list(GroupKFold(n_splits=5).split(x, y, groups))
    scores = {}
    for c in grid:
        pred = np.zeros_like(y)
        for tr, te in folds:
            xtr, xte = (x[tr], x[te]) if embed is None else (sparse.hstack([x[tr], embed[tr]]).tocsr(), sparse.hstack([x[te], embed[te]]).tocsr())
            pred[te] = _fit(xtr, y[tr], c).predict(xte)
        scores[c] = _macro_f1(y[~mirrored].tolist(), pred[~mirrored].tolist())  # scored on the real examples only
    return scores


def _prune(coef: np.ndarray, x, buckets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the buckets seen in at least two training examples (the rest barely generalise), as float16."""
    df = np.asarray((x > 0).sum(axis=0)).ravel()
    keep = np.flatnonzero(df >= 2)
    return buckets[keep].astype(np.int32), coef[:, keep].T.astype(np.float16)


def _validate(data: Path, split: str, head_path: Path, *, embed: bool) -> float:
    from extractor.direction import direction_probabilities, load_head

    head = load_head(head_path)
    prompts, _ = load_prompts(data, split)
    cache = ArticleCache(data)
    encoder = None
    if embed:
        from extractor.encoder import get_encoder

        encoder = get_encoder()
    gold, pred = [], []
    for p in prompts:
        text = cache.text(p.pmcid)
        texts = [text[a:b] for a, b in p.spans]
        vecs = encoder.encode(texts) if encoder else [None] * len(texts)
        probs = np.mean([direction_probabilities(t, intervention=p.intervention, comparator=p.comparator, outcome=p.outcome,
                                                 embedding=v, head=head) for t, v in zip(texts, vecs)], axis=0)
        gold.append(LABELS.index(p.label))
        pred.append(int(np.argmax(probs)))
    return _macro_f1(gold, pred)


def _validate_finding(data: Path, split: str, head_path: Path) -> float:
    from sklearn.metrics import roc_auc_score

    from extractor.direction import finding_score, load_head

    head = load_head(head_path)
    examples, labels = _finding_examples(data, split)
    scores = [finding_score(t, intervention=p.intervention, comparator=p.comparator, outcome=p.outcome, head=head) for t, p in examples]
    return float(roc_auc_score(labels, scores))


def train(data: Path, *, split: str = "train", validation: str | None = "validation", out: Path = WEIGHTS_PATH,
          embed: bool = True, grid: tuple[float, ...] = (0.5, 1.0, 3.0, 10.0)) -> dict[str, float]:
    """Train the head on ``split`` and write it to ``out``; return the cross-validated and validation macro F1.

    Args:
        data: The ``evidence_inference`` folder.
        split: The split to train on (only this one is read for training).
        validation: The split to report the gold-evidence macro F1 on, or None.
        out: Where to write the ``.npz``.
        embed: Also train the head that takes MiniLM embeddings (``classify_direction(embedding=...)``).
        grid: Values of the inverse regularisation C to cross-validate.
    """
    from scipy import sparse

    started = time.perf_counter()
    examples, labels, groups, mirrored = _examples(data, split)
    y = np.asarray(labels)
    x, buckets = _matrix(examples)
    print(f"{int((~mirrored).sum())} training examples (+{int(mirrored.sum())} mirrored) from {len(set(groups))} articles; "
          f"labels {dict(Counter(LABELS[i].value for i, m in zip(labels, mirrored) if not m))}; {x.nnz / len(examples):.0f} features each")
    scores = _cross_validate(x, y, groups, mirrored, list(grid))
    best_c = max(scores, key=lambda c: (scores[c], -c))
    print("cross-validated macro F1 (n-grams):", {c: round(s, 4) for c, s in scores.items()}, "-> C =", best_c)
    model = _fit(x, y, best_c)
    rows, weights = _prune(model.coef_, x, buckets)
    arrays = {"rows": rows, "weights": weights, "bias": model.intercept_.astype(np.float32),
              "labels": np.array([d.value for d in LABELS]), "n_buckets": np.int64(N_BUCKETS), "C": np.float32(best_c),
              "seed": np.int64(SEED)}
    result = {"cv_macro_f1": scores[best_c]}
    if embed:
        from extractor.encoder import get_encoder

        vecs = get_encoder().encode([t for t, _ in examples])
        e = sparse.csr_matrix(vecs * EMBEDDING_SCALE)
        escores = _cross_validate(x, y, groups, mirrored, list(grid), embed=e)
        best_ce = max(escores, key=lambda c: (escores[c], -c))
        print("cross-validated macro F1 (n-grams + MiniLM):", {c: round(s, 4) for c, s in escores.items()}, "-> C =", best_ce)
        emodel = _fit(sparse.hstack([x, e]).tocsr(), y, best_ce)
        erows, eweights = _prune(emodel.coef_[:, : x.shape[1]], x, buckets)
        arrays.update({"emb_rows": erows, "emb_weights": eweights, "emb_matrix": (EMBEDDING_SCALE * emodel.coef_[:, x.shape[1] :].T).astype(np.float32),
                       "emb_bias": emodel.intercept_.astype(np.float32), "emb_C": np.float32(best_ce)})
        assert arrays["emb_matrix"].shape == (EMBEDDING_DIM, len(LABELS))
        result["cv_macro_f1_embedding"] = escores[best_ce]
    fexamples, flabels = _finding_examples(data, split)
    fx, fbuckets = _matrix(fexamples)
    fmodel = _fit(fx, np.asarray(flabels), 1.0)
    frows, fweights = _prune(fmodel.coef_, fx, fbuckets)
    arrays.update({"find_rows": frows, "find_weights": fweights[:, 0], "find_bias": np.float32(fmodel.intercept_[0])})
    print(f"finding head: {sum(flabels)} evidence and {len(flabels) - sum(flabels)} other sentences")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {len(rows)} weighted buckets) in {time.perf_counter() - started:.0f} s")
    if validation:
        result["validation_finding_auc"] = _validate_finding(data, validation, out)
        print(f"validation ROC AUC of the finding head (evidence vs other sentences): {result['validation_finding_auc']:.4f}")
        result["validation_macro_f1"] = _validate(data, validation, out, embed=False)
        print(f"validation macro F1 on gold evidence (n-grams): {result['validation_macro_f1']:.4f}")
        if embed:
            result["validation_macro_f1_embedding"] = _validate(data, validation, out, embed=True)
            print(f"validation macro F1 on gold evidence (n-grams + MiniLM): {result['validation_macro_f1_embedding']:.4f}")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the evidence_inference folder")
    parser.add_argument("--split", default="train", help="split to train on (default: train)")
    parser.add_argument("--validation", default="validation", help="split to report on ('' for none)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="where to write the weights")
    parser.add_argument("--no-embedding", action="store_true", help="skip the head that also takes MiniLM embeddings")
    args = parser.parse_args(argv)
    train(args.data, split=args.split, validation=args.validation or None, out=args.out, embed=not args.no_embedding)


if __name__ == "__main__":
    main()
