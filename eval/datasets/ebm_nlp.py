"""EBM-NLP adapter: token-level F1 of the PICO tagger (population, intervention, outcome) on CoNLL abstracts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from eval.metrics import prf
from extractor.errors import ConfigError

LABELS = ("PAR", "INT", "OUT")
"""EBM-NLP's labels, in the order they are reported."""

_FROM_PICO = {"population": "PAR", "intervention": "INT", "outcome": "OUT"}
TUNING_EVERY = 5
"""The tagger's rules were written looking at documents 0, 5, 10, … of the dev split (no training on any of it);
``token_f1_macro_held_out`` scores the other documents only, which no one looked at."""


class Abstract(NamedTuple):
    """One ``-DOCSTART-`` document: its id, tokens and gold labels (``PAR`` / ``INT`` / ``OUT`` / ``O``)."""

    doc_id: str
    tokens: list[str]
    labels: list[str]


def default_split(data: Path) -> str:
    """The one split present in ``data`` (``<split>.txt``); ``dev`` first when several are."""
    splits = sorted(p.stem for p in Path(data).glob("*.txt"))
    if not splits:
        raise ConfigError(f"no <split>.txt file in {data}.", hint="Point --data at the ebm_nlp folder (CoNLL files such as dev.txt).")
    return "dev" if "dev" in splits else splits[0]


def read_conll(path: Path) -> Iterator[Abstract]:
    """Documents of an EBM-NLP CoNLL file (``token POS O label`` lines, documents split by ``-DOCSTART-``).

    Args:
        path: The ``<split>.txt`` file.

    Yields:
        One ``Abstract`` per document; ``I-``/``B-`` prefixes are dropped from the labels.
    """
    doc_id, toks, labs = "", [], []
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("-DOCSTART-"):
                if toks:
                    yield Abstract(doc_id, toks, labs)
                doc_id, toks, labs = line[len("-DOCSTART-") :].strip(" ()"), [], []
                continue
            if not line:
                continue
            parts = line.split()
            label = parts[-1] if len(parts) > 1 else "O"
            toks.append(parts[0])
            labs.append(label.split("-", 1)[1] if label[:2] in ("I-", "B-") else label)
    if toks:
        yield Abstract(doc_id, toks, labs)


def tag_tokens(tokens: list[str]) -> list[str]:
    """Predicted EBM-NLP label of each token: the tokens are joined by spaces, tagged, and mapped back."""
    from extractor.pico import tag_pico

    starts, pos = [], 0
    for tok in tokens:
        starts.append(pos)
        pos += len(tok) + 1
    text = " ".join(tokens)
    pred = ["O"] * len(tokens)
    spans = tag_pico(text)
    i = 0
    for span in sorted(spans, key=lambda s: s.start):
        while i < len(tokens) and starts[i] + len(tokens[i]) <= span.start:
            i += 1
        j = i
        while j < len(tokens) and starts[j] < span.end:
            pred[j] = _FROM_PICO[span.label]
            j += 1
    # EBM-NLP's spans run on to the sentence-final full stop (97% of the time on the labelled tokens before one);
    # our spans stop at the last word, so carry the label over the stop to score in the dataset's convention.
    for k in range(1, len(tokens)):
        if tokens[k] == "." and pred[k - 1] != "O" and pred[k] == "O":
            pred[k] = pred[k - 1]
    return pred


def score_tokens(gold: list[list[str]], pred: list[list[str]]) -> dict[str, object]:
    """Token-level precision, recall and F1 per label, and their macro average.

    Args:
        gold: Gold labels per document.
        pred: Predicted labels per document, aligned with ``gold``.

    Returns:
        ``token_f1_macro``, ``token_f1_micro`` and ``per_label`` (``PAR``/``INT``/``OUT`` → P/R/F1 and counts).
    """
    per = {}
    tp_all = fp_all = fn_all = 0
    for label in LABELS:
        tp = fp = fn = 0
        for g_doc, p_doc in zip(gold, pred, strict=True):
            for g, p in zip(g_doc, p_doc, strict=True):
                tp += g == label and p == label
                fp += g != label and p == label
                fn += g == label and p != label
        per[label] = prf(tp, fp, fn)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    macro = sum(m["f1"] for m in per.values()) / len(per)
    return {"token_f1_macro": round(macro, 4), "token_f1_micro": prf(tp_all, fp_all, fn_all)["f1"], "per_label": per}


def run(data: Path, split: str, *, limit: int | None = None, **options: object) -> dict[str, object]:
    """Tag every abstract of ``<data>/<split>.txt`` and score the tokens.

    Args:
        data: Folder with the CoNLL files.
        split: Which ``<split>.txt`` to read.
        limit: Score only the first N documents.

    Returns:
        ``token_f1_macro``, ``token_f1_micro``, ``f1_par`` / ``f1_int`` / ``f1_out``, ``per_label``, ``examples``
        (documents), ``tokens``, ``token_f1_macro_held_out`` (documents outside the rule-writing sample, see
        ``TUNING_EVERY``) and the tagger's name.

    Raises:
        ConfigError: the split file is missing.
    """
    from extractor.pico import TAGGER_NAME

    path = Path(data) / f"{split}.txt"
    if not path.is_file():
        present = ", ".join(sorted(p.stem for p in Path(data).glob("*.txt"))) or "none"
        raise ConfigError(f"split file {path} not found.", hint=f"Splits present: {present}.")
    gold, pred = [], []
    for n, doc in enumerate(read_conll(path)):
        if limit is not None and n >= limit:
            break
        gold.append(doc.labels)
        pred.append(tag_tokens(doc.tokens))
    scores = score_tokens(gold, pred)
    held = [k for k in range(len(gold)) if k % TUNING_EVERY]
    held_out = score_tokens([gold[k] for k in held], [pred[k] for k in held]) if held else None
    per = scores["per_label"]
    return {
        "token_f1_macro": scores["token_f1_macro"],
        "token_f1_micro": scores["token_f1_micro"],
        **{f"f1_{label.lower()}": per[label]["f1"] for label in LABELS},
        "per_label": per,
        "examples": len(gold),
        "tokens": sum(len(g) for g in gold),
        "token_f1_macro_held_out": held_out["token_f1_macro"] if held_out else None,
        "held_out_examples": len(held),
        "tagger": TAGGER_NAME,
    }
