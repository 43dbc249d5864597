"""The rct-numeric adapter: per-arm numbers scored against gold, on a tiny hand-made folder and on the real one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.datasets import rct_numeric
from extractor.errors import ConfigError
from tests.helpers import TRIAL_RESULTS_MD

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

ARTICLE = TRIAL_RESULTS_MD

_EMPTY = {f: "" for f in (
    "intervention_events", "intervention_group_size", "comparator_events", "comparator_group_size", "intervention_mean",
    "intervention_standard_deviation", "comparator_mean", "comparator_standard_deviation",
)}


def _record(rid: int, split: str, outcome: str, outcome_type: str, **gold: object) -> dict[str, object]:
    return {"id": rid, "pmcid": 1, "split": split, "outcome": outcome, "intervention": "Drug A", "comparator": "placebo",
            "outcome_type": outcome_type, **_EMPTY, **gold}


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    """Two DEV records on one Markdown article (the continuous one's gold leaves the SDs out) and one TEST record; no PDFs."""
    (tmp_path / "markdown").mkdir()
    (tmp_path / "markdown" / "PMC1.md").write_text(ARTICLE, encoding="utf-8")
    records = [
        _record(1, "DEV", "Mortality at 30 days", "binary", intervention_events=12, intervention_group_size=200,
                comparator_events=22, comparator_group_size=200),
        _record(2, "DEV", "length of stay", "continuous", intervention_mean=5.2, intervention_group_size=200,
                comparator_mean=6.8, comparator_group_size=200),
        _record(3, "TEST", "Mortality at 30 days", "binary"),
    ]
    (tmp_path / "annotations.json").write_text(json.dumps(records), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [(None, "", True), (0.30, 0.3, True), (25.78, 25.8, True), (10.8, 10.8, True), (2.0, 2, True), (35, 35, True),
     (None, 35, False), (35, "", False), (0.38, 0.3, False), (-0.7, 0.7, False)],
)
def test_rct_numeric_values_match_after_rounding_to_gold(predicted: float | None, gold: object, expected: bool) -> None:
    assert rct_numeric.values_match(predicted, gold) is expected


@pytest.mark.parametrize(("splits", "expected"), [(["DEV", "TEST"], "DEV"), (["TEST"], "TEST"), (["train", "validation"], "validation")])
def test_rct_numeric_default_split_prefers_dev(tmp_path: Path, splits: list[str], expected: str) -> None:
    (tmp_path / "annotations.json").write_text(json.dumps([{"id": i, "split": s} for i, s in enumerate(splits)]), encoding="utf-8")
    assert rct_numeric.default_split(tmp_path) == expected


def _reading() -> dict:
    """The shipped heads without thresholds: every field read is filled (the metrics' arithmetic is what is tested)."""
    from extractor.arms.score import load_heads, unthresholded

    return unthresholded(load_heads())


@pytest.mark.slow
def test_rct_numeric_tiny_folder_exact_metrics(tiny: Path) -> None:
    result = rct_numeric.run(tiny, "DEV", source="markdown", heads=_reading())
    assert result["binary_exact_match"] == 1.0
    assert result["continuous_exact_match"] == 0.0  # the SDs are in the text but not in the gold
    assert result["field_accuracy"] == 0.8  # 4 of 4 binary fields, 4 of 6 continuous ones
    assert result["rr_agreement"] == 1.0 and result["rr_agreement_n"] == 1
    assert result["examples"] == 2 and result["per_outcome_type"] == {"binary": 1, "continuous": 1}
    assert result["records_in_split"] == 2 and result["records_with_pdf"] == 0 and result["skipped_no_source"] == 0
    assert result["per_field_accuracy"]["intervention_standard_deviation"] == 0.0
    assert [p["exact"] for p in result["predictions"]] == [True, False]
    # every field filled; the two SDs are filled against an empty gold: 8 right of 10 filled
    assert result["field_coverage"] == 1.0 and result["field_precision"] == 0.8
    per = result["per_field"]["intervention_standard_deviation"]
    assert per == {"precision": 0.0, "coverage": 1.0, "accuracy": 0.0, "filled": 1, "n": 1}
    assert result["seconds_per_article"] is not None and result["heads"] == "shipped"


@pytest.mark.slow
def test_rct_numeric_withheld_fields_lower_coverage_not_precision(tiny: Path) -> None:
    from extractor.arms.score import Head

    reading = _reading()
    strict = {k: Head(h.features, h.mean, h.scale, h.weights, 1.01) for k, h in reading.items()}  # nothing is trusted
    result = rct_numeric.run(tiny, "DEV", source="markdown", heads=strict)
    assert result["field_coverage"] == 0.0 and result["field_precision"] is None
    assert result["binary_exact_match"] == 0.0 and result["field_accuracy"] == 0.2  # the two empty gold SDs
    fields = result["predictions"][0]["fields"]
    assert fields["intervention_events"]["predicted"] is None and fields["intervention_events"]["withheld"] == 12


def test_rct_numeric_cv_needs_enough_articles(tiny: Path) -> None:
    with pytest.raises(ConfigError, match="needs at least 5 articles"):
        rct_numeric.run(tiny, "DEV", source="markdown", cv=5)
    with pytest.raises(ConfigError, match="at least 2 folds"):
        rct_numeric.run(tiny, "DEV", source="markdown", cv=1)


@pytest.mark.slow
def test_rct_numeric_tiny_folder_pdf_source_scores_only_records_with_a_pdf(tiny: Path) -> None:
    result = rct_numeric.run(tiny, "DEV")
    assert result["examples"] == 0 and result["records_with_pdf"] == 0 and result["skipped_no_source"] == 2
    assert result["binary_exact_match"] == 0.0 and result["field_accuracy"] == 0.0


@pytest.mark.slow
def test_rct_numeric_through_the_runner(tiny: Path) -> None:
    from eval import runner

    result = runner.run("rct-numeric", tiny, source="markdown", limit=1, heads=_reading())
    assert result["split"] == "DEV" and result["examples"] == 1 and result["binary_exact_match"] == 1.0
    assert "per_field:" in runner.format_table(result)
    assert {"seconds", "git_commit", "extractors"} <= set(result)


@pytest.mark.parametrize(("options", "message"), [({"source": "xml"}, "source"), ({"colour": "red"}, "option")])
def test_rct_numeric_rejects_bad_options(tiny: Path, options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        rct_numeric.run(tiny, "DEV", **options)


def test_rct_numeric_unknown_split_names_the_present_ones(tiny: Path) -> None:
    with pytest.raises(ConfigError) as err:
        rct_numeric.run(tiny, "TRAIN", source="markdown")
    assert "DEV" in err.value.hint and "TEST" in err.value.hint


@pytest.mark.slow
@pytest.mark.parametrize("source", ["pdf", "markdown"])
def test_rct_numeric_real_folder_limit_2(source: str) -> None:
    data = SHARED_DATA / "rct_numeric"
    if not (data / "annotations.json").is_file():
        pytest.skip(f"public data not found at {data} (clone the repo with ../shared beside it)")
    split = rct_numeric.default_split(data)
    result = rct_numeric.run(data, split, source=source, limit=2)
    assert result["examples"] == 2
    for key in ("binary_exact_match", "continuous_exact_match", "field_accuracy", "rr_agreement"):
        assert 0.0 <= result[key] <= 1.0, key
    assert sum(result["per_outcome_type"].values()) == 2
    assert 0 < result["records_with_pdf"] <= result["records_in_split"]
    assert not result["failures"]


@pytest.mark.slow
def test_rct_numeric_real_pdfs_every_number_read_is_grounded() -> None:
    """Every number read from the real trial PDFs, filled or withheld, slices back to its text inside its context."""
    from extractor.arms import ARM_FIELDS, extract_arm_numbers
    from extractor.pipeline import parse_file

    data = SHARED_DATA / "rct_numeric"
    if not (data / "pdfs").is_dir():
        pytest.skip(f"public data not found at {data} (clone the repo with ../shared beside it)")
    records = [r for r in json.loads((data / "annotations.json").read_text()) if (data / "pdfs" / f"PMC{r['pmcid']}.pdf").is_file()]
    docs: dict[int, object] = {}
    checked = 0
    for r in records:
        doc = docs.setdefault(r["pmcid"], parse_file(data / "pdfs" / f"PMC{r['pmcid']}.pdf"))
        arms = extract_arm_numbers(doc, intervention=r["intervention"], comparator=r["comparator"], outcome=r["outcome"],
                                   outcome_type=r["outcome_type"], heads=_reading())
        for name, src in arms.sources.items():
            assert name in ARM_FIELDS[r["outcome_type"]]
            assert doc.text[src.span.start : src.span.end] == src.text
            assert doc.text[src.context_span.start : src.context_span.end] == src.context
            assert src.context_span.start <= src.span.start <= src.span.end <= src.context_span.end
            assert src.page == doc.page_at(src.span.start)
            value = getattr(arms, name)
            if src.derived is None:
                assert float(src.text.replace(",", "")) == pytest.approx(value)
            checked += 1
    assert checked >= 50


@pytest.mark.parametrize(
    ("gold", "predicted", "agree"),
    [
        ({"rr": 0.545, "rd": -0.05}, {"rr": 0.548, "rd": -0.05}, True),
        ({"rr": 0.545, "rd": -0.05}, {"rr": 0.70, "rd": -0.03}, False),
        ({"rr": 0.545}, {}, False),  # nothing extracted counts against
        ({"rd": 0.06}, {"rd": 0.058}, True),  # no comparator events: the risk difference decides
        ({}, {"rr": 1.0}, None),  # no gold effect: not a comparison
    ],
)
def test_rct_numeric_effects_agree(gold, predicted, agree) -> None:
    from eval.datasets.rct_numeric import effects_agree

    assert effects_agree(gold, predicted) is agree
