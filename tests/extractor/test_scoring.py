"""Scoring a tender the way the national VBP standard does (issue 13): bank, import, weights, evidence, scores, totals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from extractor.errors import ConfigError
from extractor.schema import Claim, ClaimCategory, EvidenceLevel, Quantity, QuantityKind, Span, VBPDomain
from extractor.scoring.bank import list_banks, load_bank, scheme_from_bank
from extractor.scoring.errors import (
    InvalidScoreError,
    QuestionImportError,
    ScoringError,
    ScoringIncompleteError,
    WeightRuleError,
)
from extractor.scoring.evidence import map_evidence
from extractor.scoring.importing import import_questions, read_questions
from extractor.scoring.models import (
    EvaluatorScore,
    ModeratedScore,
    Question,
    ScaleLevel,
    Scheme,
    ScoreKey,
    ScoreScale,
    ScoringMethod,
    SupplierCosts,
    SupplierTotal,
)
from extractor.scoring.scheme import add_question, edit_question, select_questions, set_weights
from extractor.scoring.scores import check_score, moderation_rows, score_spread, scoring_progress, visible_scores
from extractor.scoring.totals import cost_fractions, rank_suppliers, supplier_totals
from extractor.scoring.weights import check_weights, domain_weights, validate_scheme

# ---- helpers --------------------------------------------------------------------------------------------------


def _q(qid: str, domain: VBPDomain, weight: float, **kw) -> Question:
    return Question(id=qid, domain=domain, wording=f"Question {qid}?", weight=weight, **kw)


def _scheme(sv: float = 10, ef: float = 25, ps: float = 25, wlc: float = 40, **kw) -> Scheme:
    """Four questions, one each of social value, efficiency, patient and staff, whole-life cost (cost formula)."""
    questions = [_q("SV1", VBPDomain.social_value, sv), _q("EF1", VBPDomain.efficiency, ef), _q("PS1", VBPDomain.patient_and_staff, ps),
                 _q("WLC1", VBPDomain.whole_life_cost, wlc, method=ScoringMethod.cost)]
    return Scheme(name="T-1", questions=questions, **kw)


def _claim(i: int, quote: str, category: ClaimCategory, domain: VBPDomain, *, cid: str | None = None,
           level: EvidenceLevel = EvidenceLevel.none, quantities: list[Quantity] | None = None, outcome: str = "") -> Claim:
    start = i * 1000
    return Claim(id=cid if cid is not None else f"doc:c{i}", doc_id="doc", page=1, span=Span(start=start, end=start + len(quote)),
                 quote=quote, category=category, domain=domain, outcome=outcome, quantities=quantities or [],
                 evidence_level=level, extractor="test.v1")


def _days(value: float, text: str) -> Quantity:
    return Quantity(kind=QuantityKind.duration, value=value, unit="days", text=text)


def _mod(q: str, s: str, points: int) -> ModeratedScore:
    return ModeratedScore(question_id=q, supplier=s, moderator="mo", points=points, rationale=f"agreed {points} for {s}")


def _score(e: str, q: str, s: str, points: int) -> EvaluatorScore:
    return EvaluatorScore(question_id=q, supplier=s, evaluator=e, points=points, rationale=f"{e} gives {points}")


def _costs(s: str, purchase: float, implementation: float = 0, operation: float = 0, disposal: float = 0, confirmed: bool = True) -> SupplierCosts:
    return SupplierCosts(supplier=s, purchase=purchase, implementation=implementation, operation=operation, disposal=disposal,
                         confirmed_by="eva" if confirmed else None)


# ---- the shipped bank -----------------------------------------------------------------------------------------


def test_scoring_bank_loads_by_name_is_labelled_a_template_and_meets_the_rules() -> None:
    bank = load_bank("vbp-questions.v1")
    assert "vbp-questions.v1" in list_banks()
    assert bank.template is True and "NOT the standard's published bank of 21 questions" in bank.notice
    assert 15 <= len(bank.questions) <= 21
    assert {q.domain for q in bank.questions} == set(VBPDomain)  # five value domains and whole-life cost
    assert all(q.guidance and q.keywords and q.claim_domains for q in bank.questions)
    productivity = [q for q in bank.questions if q.rwe_required]
    assert [q.id for q in productivity] == ["EF1"] and "length of stay" in productivity[0].keywords
    scheme = scheme_from_bank(bank)
    assert validate_scheme(scheme) is scheme and scheme.source == "bank:vbp-questions.v1"
    w = domain_weights(scheme)
    assert w[VBPDomain.whole_life_cost] <= 40 and w[VBPDomain.social_value] >= 10 and sum(w.values()) == pytest.approx(100)


def test_scoring_bank_unknown_name_lists_the_banks() -> None:
    with pytest.raises(ScoringError, match="no question bank named 'vbp-questions.v9'") as e:
        load_bank("vbp-questions.v9")
    assert "vbp-questions.v1" in e.value.hint and isinstance(e.value, ConfigError)


def test_scoring_bank_copies_are_independent() -> None:
    first = load_bank()
    first.questions[0].weight = 99
    assert load_bank().questions[0].weight != 99


# ---- weights against the national rules -----------------------------------------------------------------------


@pytest.mark.parametrize(("weights", "broken", "said"), [
    # WLC over 40 with weights summing to 100 is also the value domains under 60: both are named.
    ({"wlc": 45, "ef": 20}, {"whole_life_cost_max_40", "value_domains_min_60"}, ["at most 40%", "weigh 45%", "55%"]),
    ({"sv": 8, "ef": 27}, {"social_value_min_10"}, ["social value must weigh at least 10%", "weigh 8%", "Add at least 2 points"]),
    ({"wlc": 35}, {"weights_total_100"}, ["must sum to 100%", "sum to 95%", "Add 5 points across the questions"]),
    ({"ef": 30, "ps": 30}, {"weights_total_100"}, ["sum to 110%", "Remove 10 points across"]),
    ({"wlc": 30, "ef": 15}, {"weights_total_100", "value_domains_min_60"}, ["weigh 50%", "Add at least 10 points"]),
])
def test_scoring_weights_each_broken_rule_is_named_with_its_numbers_and_fix(weights: dict, broken: set, said: list[str]) -> None:
    scheme = _scheme(**weights)
    assert {v.rule for v in check_weights(scheme)} == broken
    with pytest.raises(WeightRuleError) as e:
        validate_scheme(scheme)
    text = f"{e.value.message} {e.value.hint}"
    for rule in broken:
        assert rule in text
    for words in said:
        assert words in text
    assert e.value.code == "weight_rule_broken"


@pytest.mark.parametrize("weights", [
    {},  # exactly at the limits: WLC 40, value 60, social value 10
    {"sv": 12, "ef": 30, "ps": 28, "wlc": 30},
    {"sv": 33.333, "ef": 33.333, "ps": 0.004, "wlc": 33.335},  # 100.005: within the rounding tolerance
])
def test_scoring_weights_valid_schemes_pass(weights: dict) -> None:
    scheme = _scheme(**weights)
    assert check_weights(scheme) == []
    assert validate_scheme(scheme) is scheme


def test_scoring_weights_tolerance_is_a_hundredth_of_a_point() -> None:
    assert [v.rule for v in check_weights(_scheme(ef=25.02))] == ["weights_total_100"]


def test_scoring_weights_social_value_missing_altogether_says_to_add_a_question() -> None:
    scheme = Scheme(name="T", questions=[_q("EF1", VBPDomain.efficiency, 70), _q("WLC1", VBPDomain.whole_life_cost, 30)])
    (v,) = check_weights(scheme)
    assert v.rule == "social_value_min_10" and v.actual == 0 and "(no question)" in v.message and "add one" in v.fix


# ---- selecting and editing --------------------------------------------------------------------------------------


def test_scoring_scheme_select_and_edit_return_new_schemes() -> None:
    bank_scheme = scheme_from_bank()
    picked = select_questions(bank_scheme, ["WLC1", "SV1", "SV3", "EF1", "PS1", "PS2"])
    assert [q.id for q in picked.questions] == ["WLC1", "SV1", "SV3", "EF1", "PS1", "PS2"]
    assert len(bank_scheme.questions) == 19  # unchanged
    reweighted = set_weights(picked, {"WLC1": 35, "SV1": 6, "SV3": 6, "EF1": 20, "PS1": 18, "PS2": 15})
    assert validate_scheme(reweighted) is reweighted
    edited = edit_question(reweighted, "EF1", wording="What is the effect on bed-days?", keywords=["bed-days"])
    assert edited.question("EF1").wording == "What is the effect on bed-days?" and edited.question("EF1").keywords == ["bed-days"]
    assert reweighted.question("EF1").wording != edited.question("EF1").wording
    with pytest.raises(WeightRuleError, match="social_value_min_10"):
        validate_scheme(edit_question(reweighted, "SV3", weight=2, domain=VBPDomain.purpose))


@pytest.mark.parametrize(("call", "said"), [
    (lambda s: select_questions(s, ["EF1", "XX9"]), "no question 'XX9'"),
    (lambda s: select_questions(s, ["EF1", "EF1"]), "selected twice"),
    (lambda s: edit_question(s, "EF1", id="EF2"), "cannot edit 'id'"),
    (lambda s: edit_question(s, "EF1", weight=-3), "weight"),
    (lambda s: edit_question(s, "EF1", method="cost"), "only a whole-life cost question"),
    (lambda s: set_weights(s, {"nope": 3}), "no question 'nope'"),
    (lambda s: add_question(s, _q("ef1", VBPDomain.efficiency, 5)), "id 'ef1' is used twice"),
])
def test_scoring_scheme_bad_edits_are_refused_with_the_reason(call, said: str) -> None:
    with pytest.raises(ScoringError, match=said):
        call(scheme_from_bank())


# ---- importing a tender's own questions -------------------------------------------------------------------------

CSV_OK = (
    "Question ID,Domain,Wording,Weight (%),Categories,Keywords,RWE required\n"
    "Q1,Social value,How do you cut carbon?,12%,environmental,carbon; packaging,no\n"
    "Q2,efficiency,What is the effect on length of stay?,28,,length of stay; readmissions,yes\n"
    "\n"
    "Q3,Patient and staff,What outcomes do you achieve?,30,outcome;safety,,\n"
    "Q4,Whole-life cost,State your whole-life cost.,30,none,,\n"
)


def test_scoring_import_csv_reads_every_field() -> None:
    scheme = read_questions(CSV_OK.encode(), "tender-41.csv")
    assert scheme.name == "tender-41" and scheme.source == "import:tender-41.csv"
    q1, q2, q3, q4 = scheme.questions
    assert (q1.domain, q1.weight, q1.categories, q1.keywords) == (VBPDomain.social_value, 12, [ClaimCategory.environmental], ["carbon", "packaging"])
    assert q2.rwe_required is True and q2.categories == [ClaimCategory.resource_use]  # blank: the categories of its domain
    assert q3.categories == [ClaimCategory.outcome, ClaimCategory.safety]
    assert q4.method is ScoringMethod.cost and q4.domain is VBPDomain.whole_life_cost  # blank method of a WLC question
    assert q4.categories == []  # "none" says none; a blank cell takes the default
    assert validate_scheme(scheme) is scheme


def test_scoring_import_json_list_or_object(tmp_path: Path) -> None:
    items = [{"id": "A1", "domain": "social_value", "wording": "Carbon?", "weight": 10, "keywords": ["carbon"]},
             {"id": "A2", "domain": "patient and staff", "wording": "Outcomes?", "weight": 60},
             {"id": "A3", "domain": "WLC", "wording": "Cost?", "weight": 30, "method": "cost", "cost_components": ["purchase", "operation"]}]
    path = tmp_path / "own.json"
    path.write_text(json.dumps({"name": "Wound care 2026", "questions": items}))
    scheme = import_questions(path)
    assert scheme.name == "Wound care 2026" and [q.id for q in scheme.questions] == ["A1", "A2", "A3"]
    assert scheme.questions[2].cost_components == ["purchase", "operation"]
    path.write_text(json.dumps(items))
    assert import_questions(path).name == "own"


def test_scoring_import_a_bank_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "bank.json"
    path.write_text(load_bank().model_dump_json())
    scheme = import_questions(path)
    assert scheme.questions == load_bank().questions


def _write_xlsx(path: Path, rows: list[list], *, percent_col: int | None = None, sheet: str = "Questions") -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Notes"
    wb.active["A1"] = "read me"
    ws = wb.create_sheet(sheet)
    for row in rows:
        ws.append(row)
    if percent_col is not None:
        for cells in ws.iter_rows(min_row=2, min_col=percent_col, max_col=percent_col):
            cells[0].number_format = "0%"
    wb.save(path)


def test_scoring_import_xlsx_reads_the_questions_sheet_and_percent_cells(tmp_path: Path) -> None:
    path = tmp_path / "scheme.xlsx"
    _write_xlsx(path, [["id", "domain", "wording", "weight", "keywords"],
                       ["X1", "Social value", "Modern slavery?", 0.1, "modern slavery"],
                       ["X2", "Efficiency", "Procedure time?", 0.6, "procedure time"],
                       [None, None, None, None, None],
                       ["X3", "Whole-life cost", "Cost?", 0.3, None]], percent_col=4)
    scheme = import_questions(path)
    assert [(q.id, q.weight) for q in scheme.questions] == [("X1", 10), ("X2", 60), ("X3", 30)]
    assert validate_scheme(scheme) is scheme


def test_scoring_import_malformed_xlsx_row_names_the_cell(tmp_path: Path) -> None:
    path = tmp_path / "scheme.xlsx"
    _write_xlsx(path, [["id", "domain", "wording", "weight"],
                       ["X1", "Social value", "Modern slavery?", 10],
                       ["X2", "Efficiencies", "Procedure time?", 60]])
    with pytest.raises(QuestionImportError) as e:
        import_questions(path)
    (p,) = e.value.problems
    assert p.where == "sheet 'Questions', cell B3 (column 'domain')" and "'Efficiencies'" in p.problem
    assert str(e.value).startswith("scheme.xlsx: 1 problem") and "cell B3" in str(e.value) and "patient and staff" in e.value.hint


@pytest.mark.parametrize(("text", "where", "said"), [
    ("id,domain,wording,weight\nQ1,efficiency,Why?,ten\n", "row 2, column 'weight'", "'ten' is not a number"),
    ("id,domain,wording,weight\nQ1,efficiency,Why?,120\n", "row 2, column 'weight'", "not above 0 and at most 100"),
    ("id,domain,wording,weight\nQ1,efficiency,,20\n", "row 2, column 'wording'", "the wording is blank"),
    ("id,domain,wording,weight\nQ1,efficiency,Why?,20\nQ1,purpose,Again?,20\n", "row 3, column 'id'", "already used in row 2"),
    ("id,domain,wording,weight,categories\nQ1,efficiency,Why?,20,resource_use;money\n", "row 2, column 'categories'", "'money'"),
    ("id,domain,wording,weight\nQ 1,efficiency,Why?,20\n", "row 2, column 'id'", "pattern"),
    ("id,domain,wording,weight,rwe_required\nQ1,efficiency,Why?,20,maybe\n", "row 2, column 'rwe_required'", "not yes or no"),
    ("id,domain,wording,weigth\nQ1,efficiency,Why?,20\n", "row 1, column 4 ('weigth')", "unknown column 'weigth'"),
    ("id,domain,wording\nQ1,efficiency,Why?\n", "header", "missing required column: weight"),
    ("id,domain,wording,weight\n", "file", "no questions found"),
])
def test_scoring_import_malformed_csv_names_file_row_and_column(text: str, where: str, said: str) -> None:
    with pytest.raises(QuestionImportError) as e:
        read_questions(text.encode(), "bad.csv")
    assert e.value.filename == "bad.csv" and str(e.value).startswith("bad.csv: ")
    assert any(p.where == where and said in p.problem for p in e.value.problems), e.value.problems
    assert e.value.code == "question_import_error" and e.value.hint


def test_scoring_import_reports_every_bad_row_at_once() -> None:
    text = "id,domain,wording,weight\nQ1,efficiency,Why?,x\nQ2,nowhere,Why?,10\nQ3,purpose,Why?,10\n"
    with pytest.raises(QuestionImportError) as e:
        read_questions(text.encode(), "bad.csv")
    assert [p.where for p in e.value.problems] == ["row 2, column 'weight'", "row 3, column 'domain'"]
    assert "2 problems" in str(e.value)


@pytest.mark.parametrize(("data", "name", "said"), [
    (b"{not json", "q.json", "not valid JSON"),
    (b'[{"id": "A", "domain": "efficiency", "wording": "W", "weight": 10, "colour": "red"}]', "q.json", "unknown key 'colour'"),
    (b"PK\x03\x04 broken", "q.xlsx", "cannot be opened"),
    (b"id,domain", "q.xls", "unsupported file type '.xls'"),
    (b"id,domain", "q.docx", "unsupported file type"),
])
def test_scoring_import_unreadable_files_say_why(data: bytes, name: str, said: str) -> None:
    with pytest.raises(QuestionImportError, match=said):
        read_questions(data, name)


# ---- evidence per question --------------------------------------------------------------------------------------


@pytest.fixture()
def claims() -> list[Claim]:
    return [
        _claim(1, "In a cohort of 412 patients, mean length of stay fell by 1.2 days with the dressing [4].", ClaimCategory.resource_use,
               VBPDomain.efficiency, level=EvidenceLevel.cohort, quantities=[_days(1.2, "1.2 days")], outcome="length of stay"),
        _claim(2, "Surgical site infection fell from 7.7% to 2.6% at 30 days [2].", ClaimCategory.outcome, VBPDomain.patient_and_staff,
               level=EvidenceLevel.rct, outcome="surgical site infection"),
        _claim(3, "Packaging weight is 40% lower and every carton is recyclable.", ClaimCategory.environmental, VBPDomain.social_value),
        _claim(4, "The unit price is £3.20 per dressing.", ClaimCategory.cost, VBPDomain.whole_life_cost),
        _claim(5, "Orders ship within a lead time of 5 working days from UK stock.", ClaimCategory.supply, VBPDomain.supply_chain),
        _claim(6, "Nurses rated the dressing easy to apply.", ClaimCategory.experience, VBPDomain.patient_and_staff, cid=""),
    ]


def test_scoring_evidence_ranks_claims_under_questions_with_reasons(claims: list[Claim]) -> None:
    result = {e.question_id: e for e in map_evidence(scheme_from_bank(), claims)}
    ef1 = result["EF1"]
    top = ef1.matches[0]
    assert top.claim_id == "doc:c1" and top.category_match and "length of stay" in top.keywords
    assert top.reasons[0] == "category match (resource_use)" and any(r.startswith("keywords: length of stay") for r in top.reasons)
    assert ef1.flags == []  # a measured length of stay from a cohort is real-world evidence
    assert result["PS1"].matches[0].claim_id == "doc:c2"
    assert result["SV2"].matches[0].claim_id == "doc:c3" and {"packaging", "recycling"} == set(result["SV2"].matches[0].keywords)
    assert result["SC1"].matches[0].claim_id == "doc:c5" and "lead time" in result["SC1"].matches[0].keywords
    assert [m.claim_id for m in result["WLC1"].matches][:1] == ["doc:c4"]
    assert result["PS4"].matches[0].claim_id == f"doc:6000-{6000 + len(claims[5].quote)}"  # not yet stored: doc id and span
    assert all(m.score == sorted((x.score for x in e.matches), reverse=True)[i] for e in result.values() for i, m in enumerate(e.matches))


def test_scoring_evidence_flags_questions_without_evidence(claims: list[Claim]) -> None:
    result = {e.question_id: e for e in map_evidence(scheme_from_bank(), claims)}
    assert result["SV3"].no_evidence and [f.code for f in result["SV3"].flags] == ["no_evidence"]
    assert "SV3" in result["SV3"].flags[0].message
    assert not result["EF1"].no_evidence


def test_scoring_evidence_flags_productivity_without_real_world_figures(claims: list[Claim]) -> None:
    unmeasured = [_claim(1, "Patients go home sooner and readmissions are fewer.", ClaimCategory.resource_use, VBPDomain.efficiency), *claims[1:]]
    ef1 = next(e for e in map_evidence(scheme_from_bank(), unmeasured) if e.question_id == "EF1")
    assert ef1.matches and [f.code for f in ef1.flags] == ["no_real_world_evidence"]


def test_scoring_evidence_is_deterministic_and_rejects_duplicate_claims(claims: list[Claim]) -> None:
    scheme = scheme_from_bank()
    assert map_evidence(scheme, claims) == map_evidence(scheme, list(claims))
    with pytest.raises(ScoringError, match="given twice"):
        map_evidence(scheme, [claims[0], claims[0]])


def test_scoring_evidence_uses_a_given_embedding_function(claims: list[Claim]) -> None:
    calls: list[int] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        # one dimension per theme: a question and a claim about stock point the same way
        return np.array([[1.0 if "stock" in t.lower() else 0.0, 1.0 if "carbon" in t.lower() else 0.0, 0.1] for t in texts])

    questions = [Question(id="S1", domain=VBPDomain.supply_chain, wording="How much stock do you hold?", weight=50),
                 Question(id="C1", domain=VBPDomain.social_value, wording="Carbon?", weight=50, categories=[ClaimCategory.social])]
    result = map_evidence(questions, claims, embed=embed)
    assert calls == [2 + len(claims)]
    s1 = result[0]
    assert s1.matches[0].claim_id == "doc:c5" and any(r == "embedding similarity 1.00" for r in s1.matches[0].reasons)
    assert result[1].no_evidence  # no claim about carbon, and none of the social category
    with pytest.raises(ScoringError, match="shape"):
        map_evidence(questions, claims, embed=lambda texts: np.zeros((1, 3)))


# ---- scores, blind rule, moderation -----------------------------------------------------------------------------


def test_scoring_scale_defaults_and_configurable_labels() -> None:
    scale = ScoreScale()
    assert [lv.label for lv in scale.levels] == ["outstanding", "good", "acceptable", "poor", "no response"]
    assert scale.max_points == 4 and scale.fraction(3) == 0.75 and scale.label_for(0) == "no response"
    own = ScoreScale(levels=[ScaleLevel(points=p, label=lab) for p, lab in
                             zip([5, 3, 2, 1, 0], ["excellent", "good", "satisfactory", "weak", "no response"])])
    assert own.fraction(3) == 0.6 and own.label_for(4) is None
    with pytest.raises(ValueError, match="lowest step must earn 0"):
        ScoreScale(levels=[ScaleLevel(points=5, label="top"), ScaleLevel(points=1, label="none")])


@pytest.mark.parametrize(("score", "said"), [
    (_score("eva", "EF1", "acme", 7), "7 is not a step of the score scale"),
    (_score("eva", "ZZ1", "acme", 3), "no question 'ZZ1'"),
    (_score("eva", "WLC1", "acme", 3), "scored by the whole-life cost formula"),
    (_score("eva", "EF1", "nobody", 3), "not a supplier"),
])
def test_scoring_scores_off_the_scheme_are_refused(score: EvaluatorScore, said: str) -> None:
    with pytest.raises(InvalidScoreError, match=said):
        check_score(_scheme(), score, suppliers=["acme", "bolt"])


def test_scoring_scores_need_a_rationale() -> None:
    with pytest.raises(ValueError, match="rationale must not be blank"):
        EvaluatorScore(question_id="EF1", supplier="acme", evaluator="eva", points=3, rationale="  ")


def test_scoring_visible_scores_blind_until_both_have_submitted() -> None:
    a1, b1 = _score("ann", "EF1", "acme", 3), _score("ben", "EF1", "acme", 1)
    b2 = _score("ben", "PS1", "acme", 2)
    scores = [a1, b1, b2]
    assert visible_scores("ann", scores, submitted=[]) == [a1]
    assert visible_scores("ann", scores, submitted=[("ann", "EF1", "acme")]) == [a1]  # ben has not submitted
    assert visible_scores("ann", scores, submitted=[("ben", "EF1", "acme")]) == [a1]  # ann has not submitted
    both = [ScoreKey("ann", "EF1", "acme"), ScoreKey("ben", "EF1", "acme"), ScoreKey("ben", "PS1", "acme")]
    assert visible_scores("ann", scores, submitted=both) == [a1, b1]  # PS1: ann has not scored it, so b2 stays hidden
    assert visible_scores("ben", scores, submitted=both) == scores
    # a moderator sees submitted scores, never a draft, and nothing of a pair they are still drafting themselves
    assert visible_scores("mo", scores, submitted=[("ben", "EF1", "acme")], moderator=True) == [b1]
    drafting = [*scores, _score("mo", "EF1", "acme", 2)]
    assert visible_scores("mo", drafting, submitted=both, moderator=True) == [b2, drafting[-1]]


def test_scoring_moderation_spread_and_completeness() -> None:
    scheme = _scheme()
    scores = [_score("ann", "EF1", "acme", 4), _score("ben", "EF1", "acme", 1), _score("cat", "EF1", "acme", 3),
              _score("ann", "PS1", "acme", 2), _score("ben", "PS1", "acme", 2)]
    spreads = {(s.question_id, s.supplier): s for s in score_spread(scores)}
    assert (spreads["EF1", "acme"].low, spreads["EF1", "acme"].high, spreads["EF1", "acme"].spread) == (1, 4, 3)
    assert spreads["EF1", "acme"].points == {"ann": 4, "ben": 1, "cat": 3} and spreads["PS1", "acme"].spread == 0
    moderated = [_mod("EF1", "acme", 3)]
    rows = moderation_rows(scheme, ["acme", "bolt"], scores, moderated)
    assert [(r.question_id, r.supplier) for r in rows] == [(q, s) for q in ("SV1", "EF1", "PS1") for s in ("acme", "bolt")]
    ef1 = rows[2]
    assert [s.evaluator for s in ef1.scores] == ["ann", "ben", "cat"] and ef1.spread.spread == 3 and ef1.moderated.points == 3
    progress = scoring_progress(scheme, ["acme", "bolt"], moderated)
    assert not progress.complete and (progress.moderated, progress.required) == (1, 6)
    assert ("SV1", "acme") in progress.missing and progress.costs_missing == ["acme", "bolt"]
    every = [_mod(q, s, 2) for q in ("SV1", "EF1", "PS1") for s in ("acme", "bolt")]
    costs = [_costs("acme", 10), _costs("bolt", 12, confirmed=False)]
    assert scoring_progress(scheme, ["acme", "bolt"], every, costs).costs_missing == ["bolt"]  # not confirmed yet
    assert scoring_progress(scheme, ["acme", "bolt"], every, [_costs("acme", 10), _costs("bolt", 12)]).complete
    with pytest.raises(InvalidScoreError, match="more than once"):
        score_spread([*scores, _score("ann", "EF1", "acme", 2)])


# ---- totals and ranking -----------------------------------------------------------------------------------------


def test_scoring_totals_worked_example() -> None:
    """Weights: SV1 10, EF1 25, PS1 25 (scale 4..0), WLC1 40 (lowest whole-life cost / own).

    Moderated points (SV1, EF1, PS1) and whole-life costs (purchase + implementation + operation + disposal):

    - acme 3, 4, 2 -> 10x3/4 + 25x4/4 + 25x2/4 = 7.5 + 25 + 12.5 = 45.00; WLC 80k+5k+12k+3k = 100,000
    - bolt 4, 2, 3 -> 10 + 12.5 + 18.75 = 41.25; WLC 60k+10k+8k+2k = 80,000 (the lowest)
    - cove 2, 3, 4 -> 5 + 18.75 + 25 = 48.75; WLC 100k+5k+15k+5k = 125,000

    Cost scores: acme 40 x 80/100 = 32; bolt 40 x 1 = 40; cove 40 x 80/125 = 25.6.
    Totals: acme 77.00, bolt 81.25, cove 74.35; ranking bolt, acme, cove.
    """
    scheme = _scheme()
    points = {"acme": (3, 4, 2), "bolt": (4, 2, 3), "cove": (2, 3, 4)}
    moderated = [_mod(q, s, p) for s, ps in points.items() for q, p in zip(("SV1", "EF1", "PS1"), ps)]
    costs = [_costs("acme", 80_000, 5_000, 12_000, 3_000), _costs("bolt", 60_000, 10_000, 8_000, 2_000),
             _costs("cove", 100_000, 5_000, 15_000, 5_000)]
    totals = {t.supplier: t for t in supplier_totals(scheme, moderated, costs)}
    assert totals["acme"].quality_score == pytest.approx(45.0) and totals["acme"].cost_score == pytest.approx(32.0)
    assert totals["bolt"].quality_score == pytest.approx(41.25) and totals["bolt"].cost_score == pytest.approx(40.0)
    assert totals["cove"].quality_score == pytest.approx(48.75) and totals["cove"].cost_score == pytest.approx(25.6)
    assert [round(totals[s].total, 2) for s in ("acme", "bolt", "cove")] == [77.0, 81.25, 74.35]
    assert totals["acme"].by_domain == pytest.approx({VBPDomain.social_value: 7.5, VBPDomain.efficiency: 25.0,
                                                      VBPDomain.patient_and_staff: 12.5, VBPDomain.whole_life_cost: 32.0})
    assert totals["cove"].whole_life_cost == 125_000
    wlc = totals["cove"].questions[-1]
    assert (wlc.question_id, wlc.cost, wlc.fraction) == ("WLC1", 125_000, pytest.approx(0.64))
    table = rank_suppliers(list(totals.values()))
    assert [(r.rank, r.supplier) for r in table] == [(1, "bolt"), (2, "acme"), (3, "cove")]
    assert all(r.tied_with == [] and r.note == "" for r in table)


def test_scoring_totals_cost_formulas_are_configurable() -> None:
    costs = {"acme": 100.0, "bolt": 80.0, "cove": 125.0}
    assert cost_fractions(costs) == pytest.approx({"acme": 0.8, "bolt": 1.0, "cove": 0.64})
    assert cost_fractions(costs, "linear_from_lowest") == pytest.approx({"acme": 0.75, "bolt": 1.0, "cove": 0.4375})
    assert cost_fractions(costs, lambda own, lowest: 1.0 if own == lowest else 0.0) == {"acme": 0.0, "bolt": 1.0, "cove": 0.0}
    with pytest.raises(ScoringError, match="between 0 and 1"):
        cost_fractions(costs, lambda own, lowest: own / lowest)
    with pytest.raises(ScoringError, match="unknown cost formula"):
        cost_fractions(costs, "cheapest_wins")


def test_scoring_totals_refuse_incomplete_scoring_and_unconfirmed_costs() -> None:
    scheme = _scheme()
    moderated = [_mod(q, "acme", 2) for q in ("SV1", "EF1")]
    with pytest.raises(ScoringIncompleteError, match="PS1 for acme"):
        supplier_totals(scheme, moderated, [_costs("acme", 10)])
    full = [*moderated, _mod("PS1", "acme", 2)]
    with pytest.raises(ScoringIncompleteError, match="costs of acme are not stated and confirmed"):
        supplier_totals(scheme, full, [_costs("acme", 10, confirmed=False)])
    (t,) = supplier_totals(scheme, full, [_costs("acme", 10, confirmed=False)], require_confirmed=False)
    assert t.total == pytest.approx(30 + 40)
    with pytest.raises(InvalidScoreError, match="two moderated scores"):
        supplier_totals(scheme, [*full, _mod("PS1", "acme", 3)], [_costs("acme", 10)])


def _total(supplier: str, total: float, quality: float) -> SupplierTotal:
    return SupplierTotal(supplier=supplier, questions=[], by_domain={}, quality_score=quality, cost_score=total - quality,
                         total=total, whole_life_cost=None)


def test_scoring_ranking_ties_share_a_rank_and_are_named() -> None:
    totals = [_total("cove", 70.0, 40.0), _total("acme", 80.0, 50.0), _total("bolt", 80.0 + 1e-9, 45.0), _total("dune", 65.0, 30.0)]
    rows = rank_suppliers(totals)
    assert [(r.rank, r.supplier) for r in rows] == [(1, "acme"), (1, "bolt"), (3, "cove"), (4, "dune")]
    assert rows[0].tied_with == ["bolt"] and rows[1].tied_with == ["acme"]
    assert rows[0].note == "tied on total 80.00; no tie-break applied"
    broken = rank_suppliers(totals, tie_break="quality")
    assert [(r.rank, r.supplier) for r in broken] == [(1, "acme"), (2, "bolt"), (3, "cove"), (4, "dune")]
    assert broken[0].tied_with == [] and "broken by quality score" in broken[0].note


def test_scoring_package_import_stays_light() -> None:
    code = ("import sys, extractor.scoring as s; "
            "print(sorted(m for m in ('numpy', 'openpyxl', 'Stemmer', 'torch', 'spacy') if m in sys.modules)); "
            "print(s.load_bank is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "True"]
    import extractor.scoring as scoring

    assert all(getattr(scoring, name) is not None for name in scoring.__all__)
