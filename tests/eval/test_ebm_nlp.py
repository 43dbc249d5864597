"""EBM-NLP adapter: exact token F1s on a hand-written CoNLL file, and the real dev file when it is present."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

import extractor.pico
from eval.datasets import ebm_nlp
from extractor.errors import ConfigError
from extractor.pico import PicoSpan

pytestmark = pytest.mark.slow

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

TINY = """-DOCSTART- (1)

Aspirin NN O I-INT
reduced NN O O
mortality NN O I-OUT
in NN O O
patients NN O I-PAR
with NN O I-PAR
asthma NN O I-PAR
. NN O I-PAR


-DOCSTART- (2)

Placebo NN O I-INT
had NN O O
no NN O O
effect NN O O
on NN O O
pain NN O I-OUT
. NN O O
"""

# What the fake tagger finds: "Aspirin" (not "Placebo"), "mortality" and "effect" (a false outcome; "pain" is
# missed), "patients with asthma" (the adapter carries the label over the full stop after it, as EBM-NLP does).
FOUND = {"Aspirin": "intervention", "mortality": "outcome", "effect": "outcome", "patients with asthma": "population"}


def _fake_tag_pico(text: str, *, model: str = "auto") -> list[PicoSpan]:
    spans = []
    for phrase, label in FOUND.items():
        start = text.find(phrase)
        if start >= 0:
            spans.append(PicoSpan(label, start, start + len(phrase), phrase))
    return sorted(spans, key=lambda s: s.start)


@pytest.fixture()
def tiny_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "dev.txt").write_text(TINY)
    monkeypatch.setattr(extractor.pico, "tag_pico", mock.create_autospec(extractor.pico.tag_pico, side_effect=_fake_tag_pico))
    return tmp_path


@pytest.mark.parametrize("split", ["dev"])
def test_ebm_nlp_exact_token_f1_on_tiny_file(tiny_data: Path, split: str) -> None:
    result = ebm_nlp.run(tiny_data, split)
    # PAR: 4 gold, 4 predicted, all right; INT: 1 of 2 found; OUT: 1 right, 1 wrong, 1 missed.
    assert result["per_label"]["PAR"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 4, "fp": 0, "fn": 0}
    assert result["per_label"]["INT"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "tp": 1, "fp": 0, "fn": 1}
    assert result["per_label"]["OUT"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "tp": 1, "fp": 1, "fn": 1}
    assert (result["f1_par"], result["f1_int"], result["f1_out"]) == (1.0, 0.6667, 0.5)
    assert result["token_f1_macro"] == 0.7222
    assert result["token_f1_micro"] == 0.8
    assert (result["examples"], result["tokens"]) == (2, 15)
    # held out: every document but 0, 5, 10, ...: here document 2 alone, where nothing is right
    assert (result["token_f1_macro_held_out"], result["held_out_examples"]) == (0.0, 1)


@pytest.mark.parametrize("limit", [1])
def test_ebm_nlp_limit_scores_the_first_documents(tiny_data: Path, limit: int) -> None:
    result = ebm_nlp.run(tiny_data, "dev", limit=limit)
    assert (result["examples"], result["tokens"]) == (1, 8)
    assert result["token_f1_macro"] == 1.0


@pytest.mark.parametrize("split", ["test"])
def test_ebm_nlp_missing_split_names_the_present_ones(tiny_data: Path, split: str) -> None:
    assert ebm_nlp.default_split(tiny_data) == "dev"
    with pytest.raises(ConfigError, match="dev"):
        ebm_nlp.run(tiny_data, split)


@pytest.mark.parametrize("limit", [5])
def test_ebm_nlp_real_dev_file(limit: int) -> None:
    data = SHARED_DATA / "ebm_nlp"
    if not (data / "dev.txt").is_file():
        pytest.skip(f"EBM-NLP dev file not found at {data} (clone the repo with ../shared beside it)")
    result = ebm_nlp.run(data, ebm_nlp.default_split(data), limit=limit)
    assert result["examples"] == limit
    assert result["tokens"] > 500
    assert set(result["per_label"]) == {"PAR", "INT", "OUT"}
    for key in ("token_f1_macro", "token_f1_micro", "f1_par", "f1_int", "f1_out"):
        assert 0.0 <= result[key] <= 1.0
    assert result["token_f1_macro"] > 0.2, "the tagger finds next to nothing on real abstracts"
