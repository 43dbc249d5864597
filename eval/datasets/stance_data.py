"""Readers of the public stance data sets (SciFact, NLI4CT, HealthVer, Evidence Inference 2.0), shared by training and eval.

Training (``eval.training.train_stance``) and the ``eval`` adapters read the data the same way through these
functions, so a premise is cut identically in both. Labels are mapped to ``extractor.schema.Stance`` values.
Only the standard library is used here.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from extractor.errors import ConfigError

SUPPORTS, CONTRADICTS, NEI = "supports", "contradicts", "not_enough_info"
SCIFACT_LABELS = {"SUPPORT": SUPPORTS, "CONTRADICT": CONTRADICTS}
NLI4CT_LABELS = {"Entailment": SUPPORTS, "Contradiction": CONTRADICTS}
HEALTHVER_LABELS = {"Supports": SUPPORTS, "Refutes": CONTRADICTS, "Neutral": NEI}
SCIFACT_HOLDOUT = "claim id % 5 == 0"
"""The SciFact ``claims_train`` claims never trained on; the label score on that split is reported on them only."""

NLI4CT_PREMISE_WORDS = 160
"""Word budget of an NLI4CT premise (both trials together); longer sections keep the lines closest to the statement."""

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of in on at to for with by from and or as is are was were be been being this that these those it its "
    "their there than then which who what when where how all any each some such can may might will would should "
    "could do does did has have had also into over under between after before about not no primary secondary trial "
    "trials patients participants subjects".split()
)


def is_scifact_holdout(claim_id: int | str) -> bool:
    """True for the SciFact claims held out of training (``claim id % 5 == 0``)."""
    return int(claim_id) % 5 == 0


def _missing_split(path: Path, present: list[str]) -> ConfigError:
    return ConfigError(f"{path} does not exist.", hint=f"Splits present there: {', '.join(present) or 'none'}; pick one with --split.")


# --------------------------------------------------------------------------------------------------- SciFact


def load_scifact(data: Path, split: str) -> tuple[list[dict], dict[int, dict]]:
    """Claims of ``claims_<split>.jsonl`` and the corpus (``corpus.jsonl``) by doc id.

    Raises:
        ConfigError: the split file or the corpus is missing.
    """
    data = Path(data)
    path = data / f"claims_{split}.jsonl"
    if not path.exists():
        raise _missing_split(path, sorted(p.stem[len("claims_") :] for p in data.glob("claims_*.jsonl")))
    corpus_path = data / "corpus.jsonl"
    if not corpus_path.exists():
        raise ConfigError(f"{corpus_path} does not exist.", hint="Point --data at the scifact folder (corpus.jsonl, claims_<split>.jsonl).")
    claims = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus: dict[int, dict] = {}
    with corpus_path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                doc = json.loads(line)
                corpus[int(doc["doc_id"])] = doc
    return claims, corpus


def scifact_doc_text(doc: dict) -> str:
    """An abstract as one passage: the title, then the sentences."""
    body = " ".join(s.strip() for s in doc.get("abstract", []) if s.strip())
    title = str(doc.get("title", "")).strip()
    return f"{title}. {body}" if title else body


def scifact_pair_label(claim: dict, doc_id: int) -> str:
    """Gold stance of a (claim, cited abstract) pair; a cited abstract with no evidence is ``not_enough_info``."""
    evidence = (claim.get("evidence") or {}).get(str(doc_id)) or []
    return SCIFACT_LABELS.get(evidence[0]["label"], NEI) if evidence else NEI


# --------------------------------------------------------------------------------------------------- NLI4CT


@dataclass(frozen=True, slots=True)
class Nli4ctExample:
    """A statement about one or two trials, its premise (cut to the budget) and gold stance."""

    id: str
    statement: str
    premise: str
    evidence: str  # the gold evidence lines only (training material; never used to score)
    label: str
    type: str
    section: str


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def select_lines(lines: list[str], query: str, budget_words: int) -> list[str]:
    """Keep whole lines, in order, within a word budget: the section's first two lines (its headings) and then
    the lines sharing most content words with ``query``."""
    lines = [" ".join(x.split()) for x in lines if x.strip()]
    sizes = [len(x.split()) for x in lines]
    if sum(sizes) <= budget_words:
        return lines
    q = _content_words(query)
    scores = []
    for i, line in enumerate(lines):
        w = _content_words(line)
        overlap = len(w & q) / (1.0 + 0.05 * len(w))
        scores.append(overlap + (2.0 if i < 2 else 0.0) - i * 1e-4)
    keep: set[int] = set()
    used = 0
    for i in sorted(range(len(lines)), key=lambda k: -scores[k]):
        if used + sizes[i] > budget_words:
            if sizes[i] > budget_words // 2 and used < budget_words // 2:
                # a long line (a long criterion) that matters: keep its start
                lines[i] = " ".join(lines[i].split()[: budget_words - used])
                sizes[i] = budget_words - used
            else:
                continue
        keep.add(i)
        used += sizes[i]
        if used >= budget_words:
            break
    return [lines[i] for i in sorted(keep)]


def nli4ct_premise(trials: list[tuple[str, list[str]]], statement: str, *, budget_words: int = NLI4CT_PREMISE_WORDS) -> str:
    """The premise of a statement: each trial's section lines, introduced by "Primary trial:" / "Secondary trial:",
    cut to ``budget_words`` in all (shared equally between the trials)."""
    share = budget_words // max(1, len(trials))
    return " ".join(f"{role} trial: " + " ".join(select_lines(lines, statement, share)) for role, lines in trials)


def load_nli4ct(data: Path, split: str) -> list[Nli4ctExample]:
    """The statements of ``<split>.json`` with their premises (``trials/NCT*.json``).

    Raises:
        ConfigError: the split file or a trial file is missing.
    """
    data = Path(data)
    path = data / f"{split}.json"
    if not path.exists():
        raise _missing_split(path, sorted(p.stem for p in data.glob("*.json")))
    records = json.loads(path.read_text(encoding="utf-8"))
    cache: dict[str, dict] = {}
    out: list[Nli4ctExample] = []
    for sid, r in records.items():
        section = r["Section_id"]
        trials, gold = [], []
        share = NLI4CT_PREMISE_WORDS // (2 if r.get("Secondary_id") else 1)
        for role, key in (("Primary", "Primary_id"), ("Secondary", "Secondary_id")):
            trial_id = r.get(key)
            if not trial_id:
                continue
            if trial_id not in cache:
                trial_path = data / "trials" / f"{trial_id}.json"
                if not trial_path.exists():
                    raise ConfigError(f"{trial_path} does not exist.",
                                      hint="The NLI4CT folder needs trials/NCT*.json beside the split files.")
                cache[trial_id] = json.loads(trial_path.read_text(encoding="utf-8"))
            lines = [x for x in cache[trial_id].get(section, []) if isinstance(x, str)]
            trials.append((role, lines))
            index = r.get(f"{role}_evidence_index") or []
            picked = [" ".join(lines[i].split()) for i in index if 0 <= i < len(lines)]
            gold.append(f"{role} trial: " + " ".join(select_lines(picked, r["Statement"], share)))
        label = NLI4CT_LABELS.get(str(r.get("Label", "")).strip(), "")
        premise = nli4ct_premise(trials, r["Statement"])
        out.append(Nli4ctExample(sid, r["Statement"].strip(), premise, " ".join(gold), label, r.get("Type", ""), section))
    return out


# --------------------------------------------------------------------------------------------------- HealthVer


@dataclass(frozen=True, slots=True)
class HealthverExample:
    id: str
    claim: str
    evidence: str
    label: str


def load_healthver(data: Path, split: str) -> list[HealthverExample]:
    """The rows of ``<split>.csv`` (id, evidence, claim, label).

    Raises:
        ConfigError: the split file is missing or a label is unknown.
    """
    data = Path(data)
    path = data / f"{split}.csv"
    if not path.exists():
        raise _missing_split(path, sorted(p.stem for p in data.glob("*.csv")))
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            raw = (r.get("label") or "").strip()
            if raw not in HEALTHVER_LABELS:
                raise ConfigError(f"{path}: row {r.get('id')!r} has the label {raw!r}.",
                                  hint=f"Labels known: {', '.join(HEALTHVER_LABELS)}.")
            out.append(HealthverExample(str(r.get("id", len(out))), r["claim"].strip(), r["evidence"].strip(), HEALTHVER_LABELS[raw]))
    return out


# --------------------------------------------------------------------------------------------------- Evidence Inference


EI_LABELS = {"significantly increased": "increase", "significantly increase": "increase", "significantly decreased": "decrease",
             "significantly decrease": "decrease", "no significant difference": "no_difference"}


@dataclass(frozen=True, slots=True)
class EiPrompt:
    """An Evidence Inference prompt with its majority finding and the gold evidence texts (sentence-expanded)."""

    prompt_id: str
    pmcid: str
    intervention: str
    comparator: str
    outcome: str
    finding: str  # increase / decrease / no_difference
    evidence: tuple[str, ...]


def _pmcid(value: str) -> str:
    return value.strip().upper().removeprefix("PMC")


def _expand(text: str, start: int, end: int, limit: int = 600) -> str:
    """The span widened to the sentence(s) around it (to the nearest line break or sentence end), at most ``limit`` chars."""
    a = start
    while a > 0 and start - a < limit // 2 and text[a - 1] != "\n" and not (text[a - 2 : a] in (". ", "! ", "? ")):
        a -= 1
    b = end
    while b < len(text) and b - end < limit // 2 and text[b] != "\n":
        if text[b - 1 : b] in (".", "!", "?") and b > end and text[b : b + 1] == " ":
            break
        b += 1
    return " ".join(text[a:b].split())


def load_ei_prompts(data: Path, split: str) -> list[EiPrompt]:
    """The prompts of the articles listed in ``splits/<split>.txt``, with a strict majority finding among the valid
    annotations and at least one evidence span found in the article.

    Raises:
        ConfigError: the split file is missing.
    """
    data = Path(data)
    split_path = data / "splits" / f"{split}.txt"
    if not split_path.exists():
        raise _missing_split(split_path, sorted(p.stem for p in (data / "splits").glob("*.txt")))
    articles = {_pmcid(x) for x in split_path.read_text().split() if x.strip()}
    rows: dict[str, list[dict]] = defaultdict(list)
    with (data / "annotations.csv").open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if _pmcid(r["PMCID"]) in articles:
                rows[r["PromptID"].strip()].append(r)
    texts: dict[str, str] = {}
    out: list[EiPrompt] = []
    with (data / "prompts.csv").open(newline="", encoding="utf-8") as fh:
        for p in csv.DictReader(fh):
            pmcid = _pmcid(p["PMCID"])
            anns = [r for r in rows.get(p["PromptID"].strip(), []) if r["Valid Label"].strip().lower() == "true"]
            votes = Counter(EI_LABELS.get(r["Label"].strip().lower()) for r in anns)
            votes.pop(None, None)
            if not votes:
                continue
            ranked = votes.most_common()
            if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
                continue
            finding = ranked[0][0]
            if pmcid not in texts:
                path = data / "txt" / f"PMC{pmcid}.txt"
                if not path.exists():
                    continue
                texts[pmcid] = path.read_text(encoding="utf-8", errors="replace")
            text = texts[pmcid]
            spans: list[str] = []
            for r in anns:
                if EI_LABELS.get(r["Label"].strip().lower()) != finding:
                    continue
                try:
                    s, e = int(float(r["Evidence Start"])), int(float(r["Evidence End"]))
                except ValueError:
                    continue
                if 0 <= s < e <= len(text):
                    ev = _expand(text, s, e)
                    if len(ev) > 20 and ev not in spans:
                        spans.append(ev)
            if spans:
                out.append(EiPrompt(p["PromptID"].strip(), pmcid, p["Intervention"].strip(), p["Comparator"].strip(), p["Outcome"].strip(),
                                    finding, tuple(spans)))
    return out
