"""Settings of passage indexing and search (nested by `api.settings.Settings` as `retrieval`)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EMBEDDERS = ("minilm.torch.v1", "minilm.onnx-int8.v1")
_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]$")
_URL = re.compile(r"^https?://[^/:\s]+(:\d{1,5})?/?$")


class CheckSettings(BaseModel):
    """How claims are checked against their sources (``retrieval.checking``); nested as ``retrieval.check``
    (``VBP_RETRIEVAL__CHECK__CITED_K`` and so on)."""

    model_config = ConfigDict(extra="forbid")

    cited_k: int = Field(default=4, ge=0, le=100, description="Passages taken from the papers a claim cites.")
    other_k: int = Field(default=4, ge=0, le=100, description="Passages taken from the rest of the evidence (the same party's papers).")
    min_arm_score: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="How well a cited trial's outcome must match the claim's before its arm numbers are used to recompute the effect.",
    )
    structure: bool = Field(
        default=True,
        description="Judge claims that state a direction by structure (the claim's direction against the cited trial's finding, "
        "retrieval.checking.structure) before the pair classifier; off: the classifier alone.",
    )
    classify_judged: bool = Field(
        default=False,
        description="Also label the passages of a claim the structure judge decided with the pair classifier (shown beside "
        "its verdict, never deciding; about 1.5 s a claim on two CPU cores). Off: those passages are listed unjudged.",
    )


class RetrievalSettings(BaseModel):
    """Where the passage index lives, how passages are embedded, and how search results are fused."""

    model_config = ConfigDict(extra="forbid")

    index_dir: Path | None = Field(
        default=None,
        description="Folder of the passage index (Chroma files, the BM25 index, the ONNX export); default: 'index' in the data folder.",
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description="Folder for model files built locally from the installed weights (the ONNX export), shared by every "
        "data folder; default: 'vbp-evidence' under XDG_CACHE_HOME (~/.cache).",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server, e.g. 'http://localhost:8000'; unset: an embedded Chroma in the index folder.",
    )
    collection: str = Field(default="passages", description="Name of the Chroma collection holding the passages.")
    embedder: Literal["minilm.torch.v1", "minilm.onnx-int8.v1"] = Field(
        default="minilm.onnx-int8.v1",
        description="Passage embedder: 'minilm.onnx-int8.v1' (all-MiniLM-L6-v2 exported to ONNX and quantised to int8 locally "
        "at first use: about 2x faster than torch, same SciFact nDCG) or 'minilm.torch.v1' (the same weights run by torch). "
        "Changing it needs `vbp reindex`.",
    )
    max_length: int = Field(default=256, ge=16, le=512, description="Tokens of a passage the embedder reads; the rest is cut.")
    batch_size: int = Field(default=32, ge=1, le=1024, description="Passages embedded per batch while indexing.")
    top_k: int = Field(default=10, ge=1, le=1000, description="Passages a search returns by default.")
    candidates: int = Field(default=100, ge=1, le=5000, description="Passages each retriever (BM25, dense) hands to fusion.")
    fusion: Literal["rrf", "blend"] = Field(
        default="blend",
        description="How BM25 and dense results are fused: 'blend' (weighted sum of min-max normalised scores; "
        "nDCG@10 0.895 against 0.868 for 'rrf' on SciFact) or 'rrf' (weighted reciprocal rank fusion).",
    )
    reranker: Literal["linear.v1", "none"] = Field(
        default="linear.v1",
        description="Second stage over the fused candidates: 'linear.v1' (a logistic regression over retrieval and "
        "query-coverage features, trained on SciFact; 5-fold CV nDCG@10 0.888 -> 0.897) or 'none'.",
    )
    rerank_depth: int = Field(default=30, ge=1, le=1000, description="Fused candidates the reranker re-orders.")
    rrf_k: int = Field(default=60, ge=1, le=1000, description="The k of reciprocal rank fusion ('rrf'): weight / (k + rank).")
    bm25_weight: float = Field(default=1.0, ge=0.0, description="Weight of the BM25 ranking in fusion.")
    dense_weight: float = Field(default=1.0, ge=0.0, description="Weight of the dense (embedding) ranking in fusion.")
    bm25_k1: float = Field(default=0.9, gt=0.0, le=10.0, description="BM25 term-frequency saturation k1 (Anserini's default).")
    bm25_b: float = Field(default=0.4, ge=0.0, le=1.0, description="BM25 length normalisation b (Anserini's default).")
    check: CheckSettings = Field(default_factory=CheckSettings, description="How claims are checked against their sources.")
    max_query_chars: int = Field(
        default=2000, ge=50, le=100_000, description="Longer queries are cut to this many characters (with a note in the result)."
    )

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, v: str) -> str:
        if not _COLLECTION_NAME.match(v) or ".." in v:
            raise ValueError(
                f"collection name {v!r} is not valid for Chroma: use 3-512 letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit"
            )
        return v

    @field_validator("chroma_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not _URL.match(v):
            raise ValueError(f"chroma_url {v!r} is not of the form http(s)://host[:port]")
        return v

    @model_validator(mode="after")
    def _some_weight(self) -> RetrievalSettings:
        if self.bm25_weight == 0 and self.dense_weight == 0:
            raise ValueError("bm25_weight and dense_weight are both 0: at least one retriever must count")
        return self

    def index_path(self, data_dir: Path) -> Path:
        """The index folder in force: ``index_dir`` or ``<data_dir>/index``."""
        return Path(self.index_dir).expanduser() if self.index_dir is not None else Path(data_dir) / "index"

    def model_cache_path(self) -> Path:
        """The model cache in force: ``model_cache_dir`` or ``$XDG_CACHE_HOME/vbp-evidence``."""
        if self.model_cache_dir is not None:
            return Path(self.model_cache_dir).expanduser()
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vbp-evidence"
