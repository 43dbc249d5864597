"""The stance classifier: its weights file, its errors, its pair encoding, and (slow) the real model on hand-made pairs."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pytest

from extractor.errors import ConfigError
from extractor.schema import Stance
from retrieval import support
from retrieval.support import StancePrediction


class _Tokenizer:
    """A stand-in tokenizer: one id per word (1000 + its length), [CLS] = 101, [SEP] = 102."""

    cls_token_id = 101
    sep_token_id = 102

    def __call__(self, texts, add_special_tokens=False, verbose=False):
        return {"input_ids": [[1000 + len(w) for w in t.split()] for t in texts]}


def test_support_prediction_is_frozen() -> None:
    p = StancePrediction(Stance.supports, 0.9, {"supports": 0.9, "contradicts": 0.05, "not_enough_info": 0.05})
    with pytest.raises(FrozenInstanceError):
        p.score = 0.1  # type: ignore[misc]


@pytest.mark.parametrize(("claim_words", "passage_words"), [(3, 5), (200, 10), (10, 1000)])
def test_support_encode_pairs_puts_the_claim_first_and_fits(claim_words: int, passage_words: int) -> None:
    claim, passage = " ".join(["c"] * claim_words), " ".join(["pp"] * passage_words)
    [(ids, types)] = support.encode_pairs(_Tokenizer(), [(claim, passage)], max_length=64, max_claim_tokens=16)
    assert len(ids) == len(types) <= 64
    assert ids[0] == 101 and ids[-1] == 102
    n_claim = min(claim_words, 16)
    assert ids[1 : 1 + n_claim] == [1001] * n_claim and ids[1 + n_claim] == 102
    assert types == [0] * (n_claim + 2) + [1] * (len(ids) - n_claim - 2)


@pytest.mark.parametrize("n_sentences", [1, 3, 12, 40])
def test_support_passage_windows_cover_long_passages(n_sentences: int) -> None:
    sentences = [f"Sentence {i} has exactly six words." for i in range(n_sentences)]
    passage = " ".join(sentences)
    windows = support.passage_windows(_Tokenizer(), "a short claim", passage, max_length=32, max_claim_tokens=8)
    if n_sentences * 6 <= 32 - 3 - 3:
        assert windows == [passage]
        return
    assert 1 < len(windows) <= support.MAX_WINDOWS
    assert all(len(w.split()) <= 26 for w in windows)
    assert windows[0].startswith("Sentence 0 ") and all(w in passage for w in windows)
    if len(windows) < support.MAX_WINDOWS:
        assert windows[-1].endswith(sentences[-1])


def test_support_missing_weights_name_the_training_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        support.StanceClassifier(tmp_path / "stance.v1.npz")
    assert "train_stance" in info.value.hint and "missing" in info.value.message


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", b"PK\x03\x04 truncated"])
def test_support_corrupt_weights_raise_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "stance.v1.npz"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        support.StanceClassifier(path)
    assert "train_stance" in info.value.hint


def test_support_weights_without_head_raise_config_error(tmp_path: Path) -> None:
    path = tmp_path / "stance.v1.npz"
    np.savez(path, meta=np.array(json.dumps({"rank": 8, "alpha": 16})))
    with pytest.raises(ConfigError, match="incomplete"):
        support.StanceClassifier(path)


def test_support_shipped_weights_are_small_and_described() -> None:
    path = support.WEIGHTS_PATH
    assert path.is_file(), f"{path} is missing: run {support.TRAIN_COMMAND}"
    assert path.stat().st_size < 5_000_000
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        assert z["head.weight"].shape == (3, 384)
        lora = [k for k in z.files if k.endswith(".lora_A")]
    assert meta["labels"] == [s.value for s in support.LABELS]
    assert meta["name"] == support.NAME
    assert len(lora) == 6 * len(meta["targets"])


# ----------------------------------------------------------------------------------------------- slow: the real model

SUPPORT_PAIR = (
    "Chlorhexidine dressings reduce catheter-related bloodstream infections.",
    "Catheter-related bloodstream infections were significantly less frequent with chlorhexidine dressings than with "
    "standard dressings (0.4 vs 1.3 per 1000 catheter-days; hazard ratio 0.32, p = 0.003).",
)
CONTRADICT_PAIR = (
    "The X-Guard catheter reduces infection by 45% compared with standard catheters.",
    "Infection was significantly higher with the X-Guard catheter than with standard catheters "
    "(12.1% vs 7.9%, p = 0.01).",
)
UNRELATED_PAIR = (
    "The X-Guard catheter reduces infection by 45% compared with standard catheters.",
    "The hospital car park has 400 spaces and is open from 6 am to 11 pm; staff permits are issued by the estates office.",
)


@pytest.fixture(scope="module")
def classifier() -> support.StanceClassifier:
    return support.get_stance_classifier()


@pytest.mark.slow
@pytest.mark.parametrize(("pair", "expected"), [(SUPPORT_PAIR, Stance.supports), (CONTRADICT_PAIR, Stance.contradicts),
                                                (UNRELATED_PAIR, Stance.not_enough_info)])
def test_support_real_model_hand_made_pairs(classifier: support.StanceClassifier, pair: tuple[str, str], expected: Stance) -> None:
    [prediction] = classifier.predict_pairs([pair])
    assert prediction.stance is expected, prediction
    assert prediction.score == pytest.approx(prediction.probabilities[expected.value])
    assert prediction.score == max(prediction.probabilities.values())


@pytest.mark.slow
def test_support_real_model_predict_shapes(classifier: support.StanceClassifier) -> None:
    claim = SUPPORT_PAIR[0]
    passages = [SUPPORT_PAIR[1], UNRELATED_PAIR[1], "", "word " * 2000]
    predictions = classifier.predict(claim, passages)
    assert len(predictions) == len(passages)
    for p in predictions:
        assert set(p.probabilities) == {s.value for s in Stance}
        assert sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
        assert 0.0 <= p.score <= 1.0
    assert classifier.predict(claim, []) == []
    # batching and order do not change the result
    single = classifier.predict(claim, [passages[1]])[0]
    assert single.probabilities["supports"] == pytest.approx(predictions[1].probabilities["supports"], abs=1e-4)


@pytest.mark.slow
def test_support_classifier_is_cached_and_named() -> None:
    assert support.get_stance_classifier() is support.get_stance_classifier()
    assert support.get_stance_classifier().name == "stance.minilm-lora.v1"


@pytest.mark.slow
def test_support_real_model_single_sentence_is_read_once(classifier: support.StanceClassifier) -> None:
    pairs = [CONTRADICT_PAIR, (SUPPORT_PAIR[0], "Chlorhexidine dressings were used in every unit")]
    assert np.allclose(classifier.probabilities(pairs), classifier.probabilities(pairs, sentences=False), atol=1e-5)


FILLER = ("The trial was registered before enrolment began.", "Patients were recruited at four teaching hospitals.",
          "Nurses recorded dressing changes on a standard form.")


@pytest.mark.slow
@pytest.mark.parametrize("pair", [SUPPORT_PAIR, CONTRADICT_PAIR])
def test_support_real_model_mean_of_passage_and_best_sentence(classifier: support.StanceClassifier, pair: tuple[str, str]) -> None:
    # the evidence buried among unrelated sentences: the pair takes the mean of the passage reading and of the
    # sentence that takes a side most clearly
    claim = pair[0]
    passage = " ".join([FILLER[0], FILLER[1], pair[1], FILLER[2]])
    sentences = [x for x in support._SENTENCE_END.split(passage) if x.strip()]
    [both] = classifier.probabilities([(claim, passage)])
    [whole] = classifier.probabilities([(claim, passage)], sentences=False)
    each = classifier.probabilities([(claim, x) for x in sentences], sentences=False)
    sided = [classifier.labels.index(Stance.supports), classifier.labels.index(Stance.contradicts)]
    best = int(np.argmax(each[:, sided].max(axis=1)))
    assert np.allclose(both, (whole + each[best]) / 2, atol=1e-4)
    assert sentences[best] not in FILLER  # the sentence that takes a side is (part of) the evidence


@pytest.mark.slow
def test_support_real_model_contradiction_among_other_sentences(classifier: support.StanceClassifier) -> None:
    passage = " ".join([FILLER[0], FILLER[1], CONTRADICT_PAIR[1], FILLER[2]])
    [prediction] = classifier.predict(CONTRADICT_PAIR[0], [passage])
    assert prediction.stance is Stance.contradicts, prediction
