"""Learn the PICO word weights (``pico.v1.npz``) by distant supervision from Evidence Inference and NLI4CT.

Run ``python -m eval.training.train_pico --data ../shared/data``. No EBM-NLP text is read: the weights
come from strings other datasets already label, counted against the words of the Evidence Inference
*train* articles as background:

- intervention: the Intervention and Comparator strings of the Evidence Inference train prompts, and the
  intervention lines and arm titles of the NLI4CT ClinicalTrials.gov records;
- outcome: the Outcome strings of those prompts, the NLI4CT outcome-measure titles and adverse-event names;
- population: the NLI4CT eligibility criteria.

Each distinct string counts once per article or trial. A word's weight for a label is the smoothed log-ratio of
its frequency in that label's strings to its frequency in the background; words seen fewer than
``MIN_COUNT`` times in labelled strings are dropped. Counting is deterministic (no sampling, no seed needed),
so the same data always gives the same file. One Evidence Inference article (PMC3666914) also appears in
EBM-NLP; it is left out so that nothing of the scored abstracts reaches the weights.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from extractor.pico import HEADS_PATH

LABELS = ("population", "intervention", "outcome")
MIN_COUNT = 3
SMOOTHING = 0.5
EXCLUDED_ARTICLES = frozenset({"3666914"})
"""Evidence Inference articles whose abstract is also in EBM-NLP (found by title)."""

_WORD = re.compile(r"[a-z][a-z0-9]*|\d+")
_NLI_HEADER = re.compile(r"^(?:INTERVENTION \d+|Outcome Measurement|Results \d+|Adverse Events \d+|INCLUSION CRITERIA|"
                         r"EXCLUSION CRITERIA)\s*:?\s*$", re.I)
_AE_COUNT = re.compile(r"\s*\d+/\d+\s*\([\d.]+%\)\s*$")


def words(text: str) -> list[str]:
    """Lower-case word tokens, hyphens split as the spaCy tokenizer splits them."""
    return _WORD.findall(text.lower())


def evidence_inference_strings(root: Path) -> tuple[dict[str, Counter], Counter, int]:
    """Label word counts from the train prompts, background counts from the train articles.

    Returns:
        (label → word counts, background word counts, articles read).
    """
    train = {line.strip().removeprefix("PMC") for line in (root / "splits" / "train.txt").read_text().split()} - EXCLUDED_ARTICLES
    counts = {label: Counter() for label in LABELS}
    seen: set[tuple[str, str, str]] = set()
    with (root / "prompts.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            pmcid = row["PMCID"].removeprefix("PMC")
            if pmcid not in train:
                continue
            for label, column in (("intervention", "Intervention"), ("intervention", "Comparator"), ("outcome", "Outcome")):
                key = (pmcid, label, row[column].strip().lower())
                if key not in seen:
                    seen.add(key)
                    counts[label].update(words(row[column]))
    background = Counter()
    n = 0
    for pmcid in sorted(train):
        path = root / "txt" / f"PMC{pmcid}.txt"
        if path.is_file():
            background.update(words(path.read_text(encoding="utf-8", errors="replace")))
            n += 1
    return counts, background, n


def nli4ct_strings(root: Path) -> tuple[dict[str, Counter], Counter, int]:
    """Label word counts from the ClinicalTrials.gov records of NLI4CT (``trials/NCT*.json``), and all their words.

    Returns:
        (label → word counts, background word counts, trials read).
    """
    counts = {label: Counter() for label in LABELS}
    background = Counter()
    n = 0
    for path in sorted((root / "trials").glob("NCT*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        for section in ("Intervention", "Eligibility", "Results", "Adverse Events"):
            background.update(words(" ".join(record.get(section, []))))
        strings: dict[str, set[str]] = {label: set() for label in LABELS}
        for line in record.get("Intervention", []):
            if not _NLI_HEADER.match(line.strip()):
                strings["intervention"].add(line.strip().lower())
        for line in record.get("Eligibility", []):
            if not _NLI_HEADER.match(line.strip()):
                strings["population"].add(line.strip().lower())
        results = record.get("Results", [])
        for i, line in enumerate(results):
            text = line.strip()
            if text.lower().startswith("outcome measurement") and i + 1 < len(results):
                strings["outcome"].add(results[i + 1].strip().lower())
            elif text.lower().startswith("arm/group title:"):
                strings["intervention"].add(text.split(":", 1)[1].strip().lower())
        for line in record.get("Adverse Events", []):
            text = line.strip()
            if text and not _NLI_HEADER.match(text) and not text.lower().startswith("total"):
                strings["outcome"].add(_AE_COUNT.sub("", text).lower())
        for label, items in strings.items():
            for item in items:
                counts[label].update(words(item))
        n += 1
    return counts, background, n


def fit(counts: dict[str, Counter], background: Counter) -> tuple[list[str], np.ndarray]:
    """Smoothed log-ratios of label frequency to background frequency, one row per kept word."""
    vocab = sorted(w for w in set().union(*counts.values()) if sum(counts[label][w] for label in LABELS) >= MIN_COUNT)
    totals = {label: sum(counts[label].values()) for label in LABELS}
    n_background = sum(background.values())
    weights = np.zeros((len(vocab), len(LABELS)), dtype=np.float32)
    for i, w in enumerate(vocab):
        base = np.log((background[w] + SMOOTHING) / n_background)
        for j, label in enumerate(LABELS):
            weights[i, j] = np.log((counts[label][w] + SMOOTHING) / totals[label]) - base
    return vocab, weights


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="The shared data folder (holds evidence_inference/ and nli4ct/).")
    parser.add_argument("--out", type=Path, default=HEADS_PATH, help="Where to write the weights.")
    args = parser.parse_args(argv)

    counts, background, n_articles = evidence_inference_strings(args.data / "evidence_inference")
    n_trials = 0
    if (args.data / "nli4ct" / "trials").is_dir():
        extra, extra_background, n_trials = nli4ct_strings(args.data / "nli4ct")
        background.update(extra_background)
        for label in LABELS:
            counts[label].update(extra[label])
    vocab, weights = fit(counts, background)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, vocab=np.array(vocab), weights=weights.astype(np.float16), labels=np.array(LABELS))
    print(f"{len(vocab)} words from {n_articles} articles and {n_trials} trials -> {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    for j, label in enumerate(LABELS):
        top = np.argsort(-weights[:, j])[:25]
        print(f"  {label}: {', '.join(vocab[i] for i in top)}")


if __name__ == "__main__":
    main()
