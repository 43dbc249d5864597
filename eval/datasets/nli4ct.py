"""NLI4CT adapter: a statement about one or two clinical-trial reports → entailment / contradiction (macro F1).

Each statement is paired with its premise: the named section (Intervention, Eligibility, Results, Adverse
Events) of the primary trial, and for a comparison statement the same section of the secondary trial, cut to
a word budget by ``eval.datasets.stance_data.nli4ct_premise`` (lines chosen by overlap with the statement;
the gold evidence indices are never used to score). The pair goes to ``retrieval.support``'s stance
classifier, read as one passage cut at the model's length (no windows, no sentence-by-sentence reading: the
NLI4CT validation tenth scored best so). NLI4CT has two gold labels only, so a predicted not_enough_info
becomes the more probable of supports (Entailment) and contradicts (Contradiction); how often that happened
is reported.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from eval.datasets._splits import split_from_files
from eval.metrics import macro_f1

LABELS = ("supports", "contradicts")
LABEL_MAP = {"Entailment": "supports", "Contradiction": "contradicts"}


def default_split(data: Path) -> str:
    """``dev`` when ``dev.json`` exists, else the one ``<split>.json`` present."""
    return split_from_files(data, "json", folder_hint="the nli4ct folder (<split>.json and trials/)")


def run(data: Path, split: str, *, limit: int | None = None, batch_size: int = 16, **_: object) -> dict[str, object]:
    """Macro F1 over Entailment / Contradiction, per label, per statement type and per section.

    Raises:
        ConfigError: the split or a trial file is missing, or the stance weights are.
    """
    from eval.datasets.stance_data import load_nli4ct
    from retrieval.support import get_stance_classifier

    examples = load_nli4ct(Path(data), split)[: limit or None]
    unlabelled = sum(1 for e in examples if e.label not in LABELS)
    examples = [e for e in examples if e.label in LABELS]
    classifier = get_stance_classifier()
    started = time.perf_counter()
    # a premise is a list of trial lines, not prose: it is read as one passage cut at the model's length, as in
    # training (NLI4CT validation tenth, macro F1: 0.5028 so, 0.4714 read in windows, 0.4635 with the sentence reading)
    probs = classifier.probabilities([(e.statement, e.premise) for e in examples], batch_size=batch_size, windows=False,
                                     sentences=False)
    seconds = time.perf_counter() - started
    index = {s.value: k for k, s in enumerate(classifier.labels)}
    sup, con, nei = index["supports"], index["contradicts"], index["not_enough_info"]
    pred = ["supports" if p[sup] >= p[con] else "contradicts" for p in probs]
    nei_argmax = int(sum(1 for p in probs if p.argmax() == nei))
    gold = [e.label for e in examples]
    scores = macro_f1(gold, pred, LABELS)
    by_type = {}
    for key in sorted({e.type for e in examples}):
        idx = [i for i, e in enumerate(examples) if e.type == key]
        by_type[key] = {"macro_f1": macro_f1([gold[i] for i in idx], [pred[i] for i in idx], LABELS)["macro_f1"], "n": len(idx)}
    by_section = {}
    for key in sorted({e.section for e in examples}):
        idx = [i for i, e in enumerate(examples) if e.section == key]
        by_section[key] = {"macro_f1": macro_f1([gold[i] for i in idx], [pred[i] for i in idx], LABELS)["macro_f1"], "n": len(idx)}
    return {
        "examples": len(examples),
        "macro_f1": scores["macro_f1"],
        "accuracy": scores["accuracy"],
        "per_label": scores["per_label"],
        "by_type": by_type,
        "by_section": by_section,
        "classifier": classifier.name,
        "label_map": "Entailment = supports, Contradiction = contradicts",
        "not_enough_info_mapped": nei_argmax,
        "not_enough_info_rule": "a predicted not_enough_info is replaced by the more probable of supports and contradicts",
        "predicted": dict(Counter(pred)),
        "skipped_unlabelled": unlabelled,
        "pairs_per_second": round(len(examples) / seconds, 2) if seconds > 0 else 0.0,
    }
