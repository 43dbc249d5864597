"""The arm heads' thresholds: chosen for precision out of fold, never set by one article or a handful of fields."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from eval.training.train_arms import MIN_ARTICLES, _choose  # noqa: E402


def _fields(articles: int, per_article: int, right: bool, start: float, step: float) -> list[tuple[float, bool, str]]:
    out, p = [], start
    for a in range(articles):
        for _ in range(per_article):
            out.append((round(p, 4), right, f"{'r' if right else 'w'}{a}"))
            p -= step
    return out


def test_a_threshold_keeps_only_what_is_precise_enough() -> None:
    right = _fields(8, 3, True, 0.99, 0.005)  # 24 right fields from 8 articles, all above 0.85
    wrong = _fields(8, 3, False, 0.5, 0.005)  # wrong ones all below 0.5
    threshold = _choose(right + wrong, 0.9)
    assert 0.5 < threshold <= 0.99
    kept = [ok for p, ok, _ in right + wrong if p >= threshold]
    assert sum(kept) / len(kept) >= 0.9


def test_one_article_of_right_fields_does_not_set_a_threshold() -> None:
    one_article = [(0.99 - i * 0.001, True, "only") for i in range(30)]  # many right fields, all from one paper
    wrong = _fields(10, 2, False, 0.5, 0.01)
    assert _choose(one_article + wrong, 0.9) > 1.0
    assert MIN_ARTICLES > 1


def test_one_article_of_wrong_fields_at_the_top_blocks_a_threshold_there() -> None:
    # eight comparisons of one paper, all wrong and most confident, over right fields of many papers: averaged article
    # by article the top of the list is not precise, so the threshold is not put among them
    wrong_paper = [(0.99 - i * 0.001, False, "bad") for i in range(8)]
    right = _fields(12, 2, True, 0.95, 0.01)
    threshold = _choose(wrong_paper + right, 0.9)
    assert threshold > 0.99 or threshold > max(p for p, _, _ in wrong_paper)


def test_no_fields_or_too_few_mean_never_fill() -> None:
    assert _choose([], 0.9) > 1.0
    assert _choose([(0.9, True, "a")] * 3, 0.9) > 1.0
