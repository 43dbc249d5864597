"""The evaluator worksheet and the supplier pre-check on hand-built claims, links and decisions."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from api.reports import (
    CSV_COLUMNS,
    DOMAIN_ORDER,
    ClaimEvidence,
    FindingKind,
    Readiness,
    is_marketing_only,
    latest_decision,
    precheck,
    precheck_html,
    safe_cell,
    worksheet,
    worksheet_csv,
    worksheet_html,
)
from extractor.domains import CATEGORY_DOMAIN
from extractor.schema import (
    Citation,
    Claim,
    ClaimCategory,
    Decision,
    Direction,
    EvidenceLevel,
    NumericCheck,
    NumericStatus,
    NumericVerdict,
    Passage,
    Quantity,
    QuantityKind,
    ReviewDecision,
    Span,
    SourceType,
    Stance,
    SupportLink,
    SupportStatus,
    VBPDomain,
)
from retrieval.checking.verdicts import numeric_status, support_status

NOW = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
SUB = "sub0000000000001"
DOCS = {SUB: "Kelvo tender response.pdf", "paper1": "Smith 2021 RCT of Kelvo", "paper2": "Jones 2022 cohort", "other": "Lee 2020 audit"}
PASSAGES = {
    "paper1:3": Passage(id="paper1:3", doc_id="paper1", index=3, page=4, span=Span(start=0, end=60),
                        text="Surgical site infection occurred in 12/200 vs 22/200 patients."),
    "paper2:1": Passage(id="paper2:1", doc_id="paper2", index=1, page=2, span=Span(start=0, end=50),
                        text="Length of stay fell by 30% (from 12/200 vs 22/200 readmissions)."),
    "other:0": Passage(id="other:0", doc_id="other", index=0, page=7, span=Span(start=0, end=40),
                       text="No pressure injuries were seen with Kelvo."),
}
_starts = iter(range(0, 100_000, 500))


def q(kind: QuantityKind, value: float, text: str, unit: str = "") -> Quantity:
    return Quantity(kind=kind, value=value, unit=unit, text=text)


def cite(marker: str, *keys: str) -> Citation:
    return Citation(marker=marker, keys=list(keys))


def make_claim(cid: str, quote: str, category: ClaimCategory, *, page: int = 1, domain: VBPDomain | None = None,
               quantities: list[Quantity] | None = None, citations: list[Citation] | None = None,
               level: EvidenceLevel = EvidenceLevel.none, hedged: bool = False) -> Claim:
    start = next(_starts)
    return Claim(id=cid, doc_id=SUB, page=page, span=Span(start=start, end=start + len(quote)), quote=quote, category=category,
                 domain=domain or CATEGORY_DOMAIN[category], direction=Direction.decrease, outcome="infection", intervention="Kelvo",
                 comparator="standard dressing", quantities=quantities or [], citations=citations or [], evidence_level=level,
                 hedged=hedged, extractor="test")


def link(claim_id: str, stance: Stance, score: float, *, passage: str = "paper1:3", cited: bool = True,
         numeric: NumericCheck | None = None) -> SupportLink:
    return SupportLink(claim_id=claim_id, passage_id=passage, stance=stance, score=score, cited=cited, numeric=numeric)


def check(verdict: NumericVerdict, claimed: float | None = None, found: float | None = None, how: str | None = None) -> NumericCheck:
    return NumericCheck(
        verdict=verdict,
        claimed=q(QuantityKind.relative_change, claimed, f"{claimed:g}%", "%") if claimed is not None else None,
        found=q(QuantityKind.relative_change, found, "12/200 vs 22/200", "%") if found is not None else None,
        recomputed_from=how, note="test note",
    )


def item(claim: Claim, links: list[SupportLink] | None = None, review: ReviewDecision | None = None) -> ClaimEvidence:
    return ClaimEvidence(claim=claim, links=links or [], review=review, passages=PASSAGES, documents=DOCS)


@pytest.fixture()
def submission() -> dict[str, ClaimEvidence]:
    """One claim of each kind the reports must tell apart, keyed by a short name."""
    good = make_claim("c-good", "Kelvo reduced surgical site infection from 11% to 6% [1].", ClaimCategory.outcome, page=2,
                      quantities=[q(QuantityKind.percent, 11, "11%", "%"), q(QuantityKind.percent, 6, "6%", "%")],
                      citations=[cite("[1]", "1")], level=EvidenceLevel.rct)
    mismatch = make_claim("c-mismatch", "Kelvo cuts length of stay by 45% [2].", ClaimCategory.resource_use, page=3,
                          quantities=[q(QuantityKind.relative_change, 45, "45%", "%")], citations=[cite("[2]", "2")],
                          level=EvidenceLevel.cohort)
    contradicted = make_claim("c-contra", "Kelvo causes no device-related pressure injuries [1].", ClaimCategory.safety, page=3,
                              citations=[cite("[1]", "1")], level=EvidenceLevel.rct)
    marketing = make_claim("c-marketing", "Kelvo is the most advanced, innovative dressing on the market.", ClaimCategory.experience)
    no_source = make_claim("c-nosource", "Nurses save 20 minutes per patient with Kelvo.", ClaimCategory.resource_use, page=4,
                           quantities=[q(QuantityKind.duration, 20, "20 minutes", "minutes")])
    hedged = make_claim("c-hedged", "Kelvo may save up to £1,200 per patient per year [3].", ClaimCategory.cost, page=5,
                        quantities=[q(QuantityKind.currency, 1200, "£1,200", "GBP")], citations=[cite("[3]", "3")],
                        level=EvidenceLevel.economic_evaluation, hedged=True)
    weak = make_claim("c-weak", "In a case series of 12 patients, healing improved with Kelvo [4].", ClaimCategory.outcome, page=5,
                      quantities=[q(QuantityKind.sample_size, 12, "12 patients")], citations=[cite("[4]", "4")],
                      level=EvidenceLevel.case_series)
    unresolved = make_claim("c-unresolved", "Kelvo reduces readmissions by 20% [9].", ClaimCategory.resource_use, page=6,
                            quantities=[q(QuantityKind.relative_change, 20, "20%", "%")], citations=[cite("[9]")],
                            level=EvidenceLevel.cohort)
    hostile = make_claim("c-hostile", '=HYPERLINK("http://evil.example") <script>alert(1)</script> we train local staff.',
                         ClaimCategory.social, page=7)
    decided = datetime(2026, 6, 30, 15, 0, tzinfo=UTC)
    return {
        "good": item(good, [link("c-good", Stance.supports, 0.91, numeric=check(NumericVerdict.match, 45, 45.45, "from 12/200 vs 22/200"))],
                     ReviewDecision(claim_id="c-good", reviewer="alice", decision=Decision.accepted, reason="matches table 2", at=decided)),
        "mismatch": item(mismatch, [link("c-mismatch", Stance.supports, 0.7, passage="paper2:1",
                                         numeric=check(NumericVerdict.mismatch, 45, 30, "from 12/200 vs 22/200 (risk ratio 0.545)"))],
                         ReviewDecision(claim_id="c-mismatch", reviewer="bob", decision=Decision.corrected, reason="paper gives 30%",
                                        corrections={"quantities": [{"kind": "relative_change", "value": 30}],
                                                     "direction": Direction.decrease}, at=decided)),
        "contradicted": item(contradicted, [link("c-contra", Stance.contradicts, 0.8),
                                            link("c-contra", Stance.supports, 0.6, passage="other:0", cited=False)],
                             ReviewDecision(claim_id="c-contra", reviewer="alice", decision=Decision.rejected, reason="trial saw 3", at=decided)),
        "marketing": item(marketing),
        "no_source": item(no_source),
        "hedged": item(hedged, [link("c-hedged", Stance.not_enough_info, 0.4, passage="paper2:1", cited=False,
                                     numeric=check(NumericVerdict.mismatch, 1200, 900))]),
        "weak": item(weak, [link("c-weak", Stance.supports, 0.55)]),
        "unresolved": item(unresolved),
        "hostile": item(hostile),
    }


def _report(sub: dict[str, ClaimEvidence]) -> dict:
    return worksheet("Acme <Medical> Ltd", "NHS-2026-001 wound care", [DOCS[SUB]], list(sub.values()), generated_at=NOW)


def _claims(report: dict) -> list[dict]:
    return [c for d in report["domains"] for c in d["claims"]]


# --- the support and numeric rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("links", "status", "decided_by"),
    [
        ([], SupportStatus.not_checked, None),
        ([link("c", Stance.supports, 0.9)], SupportStatus.supported, 0),
        ([link("c", Stance.supports, 0.9, cited=False)], SupportStatus.supported_other_source, 0),
        # a cited support wins over a stronger uncited one, which only decides when nothing cited supports
        ([link("c", Stance.supports, 0.95, cited=False), link("c", Stance.supports, 0.6)], SupportStatus.supported, 1),
        ([link("c", Stance.contradicts, 0.8), link("c", Stance.supports, 0.6)], SupportStatus.contradicted, 0),
        ([link("c", Stance.contradicts, 0.7), link("c", Stance.supports, 0.7)], SupportStatus.contradicted, 0),  # a tie
        ([link("c", Stance.contradicts, 0.6), link("c", Stance.supports, 0.9)], SupportStatus.supported, 1),
        ([link("c", Stance.contradicts, 0.6, cited=False), link("c", Stance.supports, 0.9)], SupportStatus.supported, 1),
        # a contradiction in a paper the claim does not cite is related reading, never an accusation (issue 17)
        ([link("c", Stance.contradicts, 0.95, cited=False)], SupportStatus.unsupported, 0),
        ([link("c", Stance.contradicts, 0.95, cited=False), link("c", Stance.supports, 0.6, cited=False)],
         SupportStatus.supported_other_source, 1),
        ([link("c", Stance.not_enough_info, 0.9)], SupportStatus.unsupported, 0),
        ([link("c", Stance.supports, 0.3), link("c", Stance.contradicts, 0.2)], SupportStatus.unsupported, 0),  # below threshold
    ],
)
def test_reports_support_status_rule(links: list[SupportLink], status: SupportStatus, decided_by: int | None) -> None:
    got, deciding = support_status(links)
    assert got is status
    assert deciding is (links[decided_by] if decided_by is not None else None)


@pytest.mark.parametrize(
    ("links", "status"),
    [
        ([], NumericStatus.not_checked),
        ([link("c", Stance.supports, 0.9)], NumericStatus.not_checked),
        ([link("c", Stance.supports, 0.9, numeric=check(NumericVerdict.not_comparable))], NumericStatus.not_comparable),
        ([link("c", Stance.supports, 0.9, numeric=check(NumericVerdict.mismatch, 45, 30))], NumericStatus.mismatch),
        # a number in an unrelated, uncited passage proves nothing
        ([link("c", Stance.not_enough_info, 0.9, cited=False, numeric=check(NumericVerdict.mismatch, 45, 30))], NumericStatus.not_comparable),
        # an uncited paper's figure may confirm a claim, never accuse it (issue 17)
        ([link("c", Stance.supports, 0.9, cited=False, numeric=check(NumericVerdict.mismatch, 45, 30))], NumericStatus.not_comparable),
        ([link("c", Stance.supports, 0.9, cited=False, numeric=check(NumericVerdict.match, 45, 45))], NumericStatus.match),
        # the cited source decides over other passages
        ([link("c", Stance.not_enough_info, 0.2, numeric=check(NumericVerdict.mismatch, 45, 30)),
          link("c", Stance.supports, 0.9, cited=False, numeric=check(NumericVerdict.match, 45, 45))], NumericStatus.mismatch),
        ([link("c", Stance.supports, 0.5, numeric=check(NumericVerdict.mismatch, 45, 30)),
          link("c", Stance.supports, 0.6, numeric=check(NumericVerdict.match, 45, 45))], NumericStatus.match),
    ],
)
def test_reports_numeric_status_rule(links: list[SupportLink], status: NumericStatus) -> None:
    assert numeric_status(links)[0] is status


@pytest.mark.parametrize(
    ("quote", "kwargs", "marketing"),
    [
        ("Kelvo is the most advanced dressing available.", {}, True),
        ("Our innovative, clinically proven dressing.", {}, True),
        ("Kelvo improves patient comfort.", {}, False),  # a bare assertion: no source, not marketing
        ("Kelvo is the best dressing, cutting infection by 40%.", {"quantities": [q(QuantityKind.relative_change, 40, "40%", "%")]}, False),
        ("Kelvo is the best dressing [1].", {"citations": [cite("[1]", "1")]}, False),
        ("Kelvo is the best dressing in trials.", {"level": EvidenceLevel.rct}, False),
    ],
)
def test_reports_marketing_rule(quote: str, kwargs: dict, marketing: bool) -> None:
    assert is_marketing_only(make_claim("m", quote, ClaimCategory.experience, **kwargs)) is marketing


def test_reports_latest_decision_is_the_most_recent() -> None:
    first = ReviewDecision(claim_id="c", reviewer="a", decision=Decision.accepted, at=NOW)
    later = ReviewDecision(claim_id="c", reviewer="b", decision=Decision.rejected, at=NOW + timedelta(hours=1))
    assert latest_decision([later, first]) is later
    assert latest_decision([]) is None


# --- the worksheet --------------------------------------------------------------------------------


def test_reports_worksheet_lists_every_domain_in_order(submission: dict[str, ClaimEvidence]) -> None:
    report = _report(submission)
    assert [d["domain"] for d in report["domains"]] == [d.value for d in DOMAIN_ORDER] == [d.value for d in VBPDomain]
    empty = {d["domain"]: d for d in report["domains"] if d["empty"]}
    assert set(empty) == {"supply_chain", "purpose"}
    assert all(d["note"] == "no evidence submitted" and d["claims"] == [] for d in empty.values())
    assert report["summary"]["empty_domains"] == ["supply_chain", "purpose"]


def test_reports_worksheet_with_no_claims_still_shows_six_empty_domains() -> None:
    report = worksheet("Acme", None, [], [], generated_at=NOW)
    assert len(report["domains"]) == 6 and all(d["empty"] for d in report["domains"])
    assert report["summary"]["claims"] == 0
    assert "No evidence submitted" in worksheet_html(report)
    assert len(list(csv.reader(io.StringIO(worksheet_csv(report))))) == 1


def test_reports_worksheet_counts_add_up(submission: dict[str, ClaimEvidence]) -> None:
    report = _report(submission)
    sm, n = report["summary"], len(submission)
    assert sm["claims"] == n == len(_claims(report))
    for key in ("by_domain", "by_category", "by_evidence_level", "by_support_status", "by_numeric_status", "by_review_state"):
        assert sum(sm[key].values()) == n, key
    assert sm["by_review_state"] == {"pending": 6, "accepted": 1, "rejected": 1, "corrected": 1}
    assert sm["by_support_status"] == {"supported": 3, "supported_other_source": 0, "contradicted": 1, "unsupported": 1, "not_checked": 4}
    assert sm["numeric_mismatches"] == 1 and sm["by_numeric_status"]["match"] == 1
    assert sm["hedged"] == 1 and sm["uncited"] == 3
    assert sm["by_domain"] == {d["domain"]: d["claim_count"] for d in report["domains"]}
    for d in report["domains"]:
        assert sum(d["by_support_status"].values()) == sum(d["by_review_state"].values()) == d["claim_count"]


def test_reports_worksheet_claim_row_carries_evidence_numbers_and_review(submission: dict[str, ClaimEvidence]) -> None:
    rows = {r["id"]: r for r in _claims(_report(submission))}
    m = rows["c-mismatch"]
    assert m["quote"] == "Kelvo cuts length of stay by 45% [2]." and m["page"] == 3 and m["document"] == DOCS[SUB]
    assert m["quantities"][0]["text"] == "45%" and m["evidence_level"] == "cohort" and m["citations"] == [{"marker": "[2]", "keys": ["2"]}]
    assert m["support"]["status"] == "supported"
    ev = m["support"]["evidence"]
    assert (ev["document"], ev["page"], ev["stance"], ev["score"], ev["cited"]) == ("Jones 2022 cohort", 2, "supports", 0.7, True)
    assert ev["excerpt"].startswith("Length of stay fell by 30%")
    num = m["numeric"]
    assert (num["verdict"], num["claimed_value"], num["found_value"]) == ("mismatch", 45, 30)
    assert num["recomputed_from"] == "from 12/200 vs 22/200 (risk ratio 0.545)" and num["page"] == 2
    assert m["review"]["state"] == "corrected" and m["review"]["reviewer"] == "bob"
    assert m["review"]["at"] == "2026-06-30T15:00:00+00:00"
    assert m["review"]["corrections"] == {"quantities": [{"kind": "relative_change", "value": 30}], "direction": "decrease"}
    c = rows["c-contra"]
    assert c["support"]["status"] == "contradicted" and c["support"]["evidence"]["stance"] == "contradicts"
    assert c["support"]["counter_evidence"]["document"] == "Lee 2020 audit"  # the weaker supporting passage is shown too
    assert rows["c-marketing"]["support"]["status"] == "not_checked" and rows["c-marketing"]["review"]["state"] == "pending"
    assert rows["c-hedged"]["support"]["status"] == "unsupported" and rows["c-hedged"]["numeric"]["verdict"] == "not_comparable"


def test_reports_worksheet_orders_claims_by_page(submission: dict[str, ClaimEvidence]) -> None:
    report = worksheet("Acme", None, [], list(reversed(submission.values())), generated_at=NOW)
    for d in report["domains"]:
        assert [r["page"] for r in d["claims"]] == sorted(r["page"] for r in d["claims"])


def test_reports_json_round_trips(submission: dict[str, ClaimEvidence]) -> None:
    for report in (_report(submission), precheck("Acme", [DOCS[SUB]], list(submission.values()), generated_at=NOW)):
        text = json.dumps(report)
        assert json.loads(text) == report
        assert report["schema"] in ("vbp.worksheet.v1", "vbp.precheck.v1")
        assert report["generated_at"] == "2026-07-01T09:30:00+00:00"


def test_reports_naive_time_is_taken_as_utc() -> None:
    assert worksheet("Acme", None, [], [], generated_at=datetime(2026, 7, 1, 9, 30))["generated_at"] == "2026-07-01T09:30:00+00:00"


# --- CSV ------------------------------------------------------------------------------------------


def test_reports_csv_parses_back_one_row_per_claim(submission: dict[str, ClaimEvidence]) -> None:
    report = _report(submission)
    rows = list(csv.reader(io.StringIO(worksheet_csv(report))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == report["summary"]["claims"]
    assert all(len(r) == len(CSV_COLUMNS) for r in rows)
    by_id = {r["claim_id"]: r for r in csv.DictReader(io.StringIO(worksheet_csv(report)))}
    m = by_id["c-mismatch"]
    assert (m["page"], m["evidence_score"], m["numeric_claimed_value"], m["numeric_found_value"]) == ("3", "0.7", "45.0", "30.0")
    assert m["quantities"] == "45%" and m["review_state"] == "corrected" and m["hedged"] == "false"
    assert by_id["c-marketing"]["evidence_score"] == "" and by_id["c-marketing"]["support_status"] == "not_checked"


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", " ="])
def test_reports_csv_neutralises_formulas(prefix: str) -> None:
    quote = f"{prefix}1+cmd|' /C calc'!A0"
    claim = make_claim("c-x", quote, ClaimCategory.outcome)
    report = worksheet("Acme", None, [], [item(claim)], generated_at=NOW)
    row = next(csv.DictReader(io.StringIO(worksheet_csv(report))))
    assert row["quote"] == "'" + quote
    assert not row["quote"].lstrip()[:1] in "=+-@"


@pytest.mark.parametrize(("text", "safe"), [("Kelvo cut infection", "Kelvo cut infection"), ("", ""), ("-30% SSI", "'-30% SSI"),
                                             ("@SUM(A1)", "'@SUM(A1)")])
def test_reports_safe_cell(text: str, safe: str) -> None:
    assert safe_cell(text) == safe


def test_reports_csv_keeps_hostile_quote_whole(submission: dict[str, ClaimEvidence]) -> None:
    rows = {r["claim_id"]: r for r in csv.DictReader(io.StringIO(worksheet_csv(_report(submission))))}
    assert rows["c-hostile"]["quote"] == "'" + submission["hostile"].claim.quote


# --- HTML -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("render", ["worksheet", "precheck"])
def test_reports_html_escapes_supplier_text_and_is_self_contained(submission: dict[str, ClaimEvidence], render: str) -> None:
    items = list(submission.values())
    if render == "worksheet":
        page = worksheet_html(_report(submission))
    else:
        page = precheck_html(precheck("Acme <Medical> Ltd", ["<img src=x onerror=alert(1)>.pdf"], items, generated_at=NOW))
        assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;.pdf" in page
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Acme &lt;Medical&gt; Ltd" in page and "<Medical>" not in page
    assert "<link" not in page and "src=" not in page.replace("&lt;img src=x", "") and "@import" not in page
    assert 'href="http' not in page  # the only hyperlinks are anchors within the page
    assert "@media print" in page and "<style>" in page
    assert "01 Jul 2026 09:30 UTC" in page


def test_reports_worksheet_html_shows_header_domains_and_claims(submission: dict[str, ClaimEvidence]) -> None:
    page = worksheet_html(_report(submission))
    assert "<title>VBP evaluator worksheet: Acme &lt;Medical&gt; Ltd</title>" in page
    assert "NHS-2026-001 wound care" in page and "Kelvo tender response.pdf" in page
    for label in ("Efficiency and productivity", "Supply chain resilience", "Purpose and fit with NHS priorities", "Whole-life cost"):
        assert label in page
    assert page.count("No evidence submitted for this domain.") == 2
    assert page.count('<article class="claim') == len(submission)
    assert "Numbers do not match the source" in page and "from 12/200 vs 22/200 (risk ratio 0.545)" in page
    assert "corrected by bob" in page


# --- the pre-check --------------------------------------------------------------------------------


def _found(report: dict) -> dict[str, list[str | None]]:
    return {g["kind"]: [f["claim_id"] or f["domain"] for f in g["findings"]] for g in report["groups"]}


def test_reports_precheck_finds_each_kind_and_no_false_ones(submission: dict[str, ClaimEvidence]) -> None:
    report = precheck("Acme", [DOCS[SUB]], list(submission.values()), generated_at=NOW)
    found = _found(report)
    assert [g["kind"] for g in report["groups"]] == [k.value for k in FindingKind]
    assert found == {
        "numeric_mismatch": ["c-mismatch"],
        "total_mismatch": [],
        "contradicted": ["c-contra"],
        "no_source": ["c-nosource", "c-hostile"],
        "unresolved_citation": ["c-unresolved"],
        "source_not_supplied": [],
        "marketing_only": ["c-marketing"],
        "weak_evidence": ["c-weak"],
        "hedged": ["c-hedged"],
        "empty_domain": ["supply_chain", "purpose"],
        "unevidenced_domain": ["social_value"],
    }
    every = [f for g in report["groups"] for f in g["findings"]]
    assert "c-good" not in {f["claim_id"] for f in every}
    assert all(f["fix"] and f["message"] for f in every)
    assert report["readiness"]["verdict"] == Readiness.not_ready.value
    assert report["readiness"]["headline"] == (
        "Not ready: 1 number does not match its source; 1 claim is contradicted by its source; 1 claim has no source; "
        "2 VBP domains have no evidence. Also 6 warnings.")
    sm = report["summary"]
    assert sm["findings"] == len(every) == sum(sm["by_kind"].values()) == sum(sm["by_severity"].values())
    assert sm["claims_with_findings"] == len(submission) - 1 and sm["domains_missing"] == ["supply_chain", "purpose"]


def test_reports_precheck_mismatch_reports_both_values(submission: dict[str, ClaimEvidence]) -> None:
    report = precheck("Acme", [], list(submission.values()), generated_at=NOW)
    (finding,) = next(g for g in report["groups"] if g["kind"] == "numeric_mismatch")["findings"]
    assert (finding["page"], finding["quote"]) == (3, "Kelvo cuts length of stay by 45% [2].")
    assert "45%" in finding["message"] and "30%" in finding["message"] and "Jones 2022 cohort, p. 2" in finding["message"]
    assert finding["details"]["claimed_value"] == 45 and finding["details"]["found_value"] == 30


@pytest.mark.parametrize(
    ("name", "severity"),
    [("no_source", "high"), ("hostile", "medium")],  # a number without a source matters more than a social-value statement
)
def test_reports_precheck_no_source_severity(submission: dict[str, ClaimEvidence], name: str, severity: str) -> None:
    report = precheck("Acme", [], [submission[name]], generated_at=NOW)
    (finding,) = next(g for g in report["groups"] if g["kind"] == "no_source")["findings"]
    assert finding["severity"] == severity


def test_reports_precheck_suggests_an_uncited_source_that_supports() -> None:
    claim = make_claim("c", "Nurses save 20 minutes per patient.", ClaimCategory.resource_use,
                       quantities=[q(QuantityKind.duration, 20, "20 minutes", "minutes")])
    report = precheck("Acme", [], [item(claim, [link("c", Stance.supports, 0.8, passage="other:0", cited=False)])], generated_at=NOW)
    (finding,) = next(g for g in report["groups"] if g["kind"] == "no_source")["findings"]
    assert "Lee 2020 audit, p. 7 appears to support it" in finding["fix"]


@pytest.mark.parametrize(
    ("quote", "fix_word"),
    [("Kelvo may reduce infection [1].", "projection"), ("Kelvo cuts infection by up to 50% [1].", "typical")],
)
def test_reports_precheck_hedged_fix_depends_on_wording(quote: str, fix_word: str) -> None:
    claim = make_claim("c", quote, ClaimCategory.cost, citations=[cite("[1]", "1")], level=EvidenceLevel.rct, hedged=True)
    report = precheck("Acme", [], [item(claim)], generated_at=NOW)
    (finding,) = next(g for g in report["groups"] if g["kind"] == "hedged")["findings"]
    assert fix_word in finding["fix"]


def _good_claim(cid: str, category: ClaimCategory, domain: VBPDomain | None = None) -> ClaimEvidence:
    claim = make_claim(cid, f"Kelvo improved {category.value} by 30% [1].", category, domain=domain,
                       quantities=[q(QuantityKind.relative_change, 30, "30%", "%")], citations=[cite("[1]", "1")], level=EvidenceLevel.rct)
    return item(claim, [link(cid, Stance.supports, 0.9, numeric=check(NumericVerdict.match, 30, 30))])


def test_reports_precheck_ready_when_every_domain_is_evidenced() -> None:
    items = [
        _good_claim("a", ClaimCategory.resource_use), _good_claim("b", ClaimCategory.outcome), _good_claim("c", ClaimCategory.supply),
        _good_claim("d", ClaimCategory.social), _good_claim("e", ClaimCategory.outcome, VBPDomain.purpose),
        _good_claim("f", ClaimCategory.cost),
    ]
    report = precheck("Acme", [], items, generated_at=NOW)
    assert report["readiness"] == {"verdict": "ready", "headline": "Ready: no issues found in 6 claims."}
    assert report["summary"]["findings"] == 0 and all(g["findings"] == [] for g in report["groups"])
    assert "None found." in precheck_html(report)


def test_reports_precheck_warnings_only_is_ready_with_warnings() -> None:
    items = [_good_claim(c, cat) for c, cat in zip("abcdf", (ClaimCategory.resource_use, ClaimCategory.outcome, ClaimCategory.supply,
                                                            ClaimCategory.social, ClaimCategory.cost), strict=True)]
    items.append(_good_claim("e", ClaimCategory.outcome, VBPDomain.purpose))
    items[0].claim.hedged = True  # a low-severity finding only
    report = precheck("Acme", [], items, generated_at=NOW)
    assert report["readiness"]["verdict"] == "ready_with_warnings"
    assert report["readiness"]["headline"] == "Ready, with warnings: 1 claim is hedged."


def test_reports_precheck_of_nothing_flags_all_domains() -> None:
    report = precheck("Acme", [], [], generated_at=NOW)
    assert _found(report)["empty_domain"] == [d.value for d in VBPDomain]
    assert report["readiness"]["verdict"] == "not_ready"


def test_reports_total_that_does_not_add_up_is_a_high_finding_in_precheck_and_worksheet() -> None:
    from extractor.schema import TotalMismatch

    quote = "Total whole-life cost\t£10,000\t£5,500\t£20,100"
    claim = make_claim("c-total", quote, ClaimCategory.cost, citations=[cite("1", "1")]).model_copy(update={
        "location": "Whole-life cost!A5:D5",
        "total_mismatches": [TotalMismatch(label="Total whole-life cost", location="Whole-life cost!C5", span=Span(start=0, end=6), page=1,
                                           stated=5500, computed=5000, parts=["Whole-life cost!C2", "Whole-life cost!C3"],
                                           note="Total whole-life cost (Whole-life cost!C5) states £5,500, but its parts (C2:C3) sum to £5,000")],
    })
    report = precheck("Acme", [DOCS[SUB]], [item(claim)], generated_at=NOW)
    (finding,) = next(g for g in report["groups"] if g["kind"] == "total_mismatch")["findings"]
    assert finding["severity"] == "high" and finding["claim_id"] == "c-total"
    assert "£5,500" in finding["message"] and "£5,000" in finding["message"]
    assert finding["details"]["stated"] == 5500 and finding["details"]["computed"] == 5000
    assert report["readiness"]["verdict"] == Readiness.not_ready.value and "1 figure does not add up" in report["readiness"]["headline"]
    sheet = worksheet("Acme", "T", [DOCS[SUB]], [item(claim)], generated_at=NOW)
    rows = list(csv.DictReader(io.StringIO(worksheet_csv(sheet))))
    assert rows[0]["location"] == "Whole-life cost!A5:D5" and "sum to £5,000" in rows[0]["total_mismatch"]
    assert "Figure does not add up" in worksheet_html(sheet) and "Whole-life cost!A5:D5" in worksheet_html(sheet)


def test_reports_a_listed_price_is_a_fact_of_the_offer_not_an_unsourced_claim() -> None:
    price = make_claim("c-price", "Unit price per cannula\t£1.92\t£0.88", ClaimCategory.cost,
                       quantities=[q(QuantityKind.currency, 1.92, "£1.92", "GBP")]).model_copy(update={"offer_fact": True})
    modelled = make_claim("c-model", "Treatment of complications per patient stay\t£6.10\t£14.60", ClaimCategory.cost,
                          quantities=[q(QuantityKind.currency, 6.10, "£6.10", "GBP")])
    report = precheck("Acme", [DOCS[SUB]], [item(price), item(modelled)], generated_at=NOW)
    assert _found(report)["no_source"] == ["c-model"]
    assert report["summary"]["offer_facts"] == 1


def test_reports_a_cited_source_that_was_not_supplied_is_said_and_listed() -> None:
    refs = {"1": "1. Smith J, Patel R. A randomised trial of closed-system cannulas. BMJ 2024;368:m100.", "2": "2. Jones K. Audit. 2023."}
    unchecked = make_claim("c-unchecked", "Veloxa halves phlebitis [1].", ClaimCategory.outcome, citations=[cite("[1]", "1")])
    checked = make_claim("c-checked", "Veloxa cuts re-sites [2].", ClaimCategory.resource_use, citations=[cite("[2]", "2")])
    uncited = make_claim("c-uncited", "Veloxa is quick to insert.", ClaimCategory.resource_use)
    items = [item(unchecked), item(checked, [link("c-checked", Stance.supports, 0.9)]), item(uncited)]
    report = precheck("Acme", [DOCS[SUB]], items, generated_at=NOW, references=refs)
    (finding,) = next(g for g in report["groups"] if g["kind"] == "source_not_supplied")["findings"]
    assert finding["claim_id"] == "c-unchecked" and finding["severity"] == "medium"
    assert finding["message"].startswith("[1] Smith J, Patel R. A randomised trial of closed-system cannulas. BMJ 2024;368:m100. was not supplied")
    assert report["references_not_supplied"] == [{"key": "1", "reference": refs["1"]}]
    assert "References not supplied" in precheck_html(report) and "BMJ 2024;368:m100" in precheck_html(report)
    # without the reference list (a caller that does not know it) nothing is claimed
    assert precheck("Acme", [DOCS[SUB]], items, generated_at=NOW)["references_not_supplied"] == []


def test_reports_claims_have_readable_references_beside_their_ids(submission: dict[str, ClaimEvidence]) -> None:
    from api.reports import readable_refs

    refs = readable_refs(submission.values())
    assert len(set(refs.values())) == len(submission)
    by_page = sorted(submission.values(), key=lambda i: (i.claim.page, i.claim.span.start))
    assert refs[by_page[0].claim.id] == "KT-p1-#1"  # "Kelvo tender response.pdf", page 1, the first claim
    rows = _claims(_report(submission))
    assert all(r["ref"] == refs[r["id"]] for r in rows)
    page = worksheet_html(_report(submission))
    assert f'title="{by_page[0].claim.id}">KT-p1-#1</span>' in page
    pre = precheck("Acme", [DOCS[SUB]], list(submission.values()), generated_at=NOW)
    assert all(f["ref"] == refs[f["claim_id"]] for g in pre["groups"] for f in g["findings"] if f["claim_id"])


@pytest.mark.parametrize(("source", "weak"), [
    (SourceType.data_on_file, True), (SourceType.own_survey, True), (SourceType.supplier_commissioned, True),
    (SourceType.regulatory_or_statistic, False), (SourceType.peer_reviewed, False),
])
def test_reports_evidence_is_graded_by_who_stands_behind_the_cited_source(source: SourceType, weak: bool) -> None:
    # a national statistic states no study design, and is not weak for it; the supplier's own material is weak even as a "trial"
    level = EvidenceLevel.none if source is SourceType.regulatory_or_statistic else EvidenceLevel.rct
    claim = make_claim("c-src", "Kelvo cut infection by 40% [1].", ClaimCategory.outcome, citations=[cite("[1]", "1")],
                       level=level).model_copy(update={"source_type": source})
    report = precheck("Acme", [DOCS[SUB]], [item(claim)], generated_at=NOW)
    found = next(g for g in report["groups"] if g["kind"] == "weak_evidence")["findings"]
    assert bool(found) is weak
    if weak:
        assert "the supplier's own material" in found[0]["message"] and found[0]["details"]["source_type"] == source.value
    row = _claims(worksheet("Acme", "T", [DOCS[SUB]], [item(claim)], generated_at=NOW))[0]
    assert row["source_type"] == source.value and row["source_label"]


def test_reports_source_types_of_reference_entries() -> None:
    from extractor.design import best_source, source_of_text

    assert source_of_text("1. Data on file. Veloxa premature failure: pooled evaluations. Marlow, 2024.") is SourceType.data_on_file
    assert source_of_text("2. Marlow. Supplier-commissioned before-and-after audit in two trusts. Data on file, 2024.") \
        is SourceType.supplier_commissioned
    assert source_of_text("3. Data on file. Nurse preference survey. Marlow, 2023.") is SourceType.own_survey
    assert source_of_text("4. NHS England. National Wound Care Strategy: prevalence statistics, 2023.") is SourceType.regulatory_or_statistic
    assert source_of_text("5. Yang HM, et al. Outcomes of a stent. Korean Circ J 2017;47(6):898-906.") is SourceType.peer_reviewed
    assert source_of_text("6. Acme Ltd. Product brochure.") is SourceType.unknown
    assert best_source([SourceType.data_on_file, SourceType.peer_reviewed]) is SourceType.peer_reviewed
    assert best_source([]) is SourceType.none


def test_reports_a_passage_that_settles_nothing_is_not_shown_with_a_certain_looking_score() -> None:
    claim = make_claim("c-nei", "Kelvo cut infection by 40% [1].", ClaimCategory.outcome, citations=[cite("[1]", "1")])
    sheet = worksheet("Acme", "T", [DOCS[SUB]], [item(claim, [link("c-nei", Stance.not_enough_info, 1.0)])], generated_at=NOW)
    (row,) = _claims(sheet)
    assert "score" not in row["support"]["explanation"] and "none supports or contradicts" in row["support"]["explanation"]
    page = worksheet_html(sheet)
    assert "Closest passage checked" in page and "does not settle the claim" in page and "score 1.00" not in page


def test_reports_comparison_puts_suppliers_side_by_side_by_domain(submission: dict[str, ClaimEvidence]) -> None:
    from api.reports import comparison, comparison_html

    items = list(submission.values())
    report = comparison("NHS-2026-001 wound care", [("acme", "Acme <Medical> Ltd", items), ("globex", "Globex", [])], generated_at=NOW)
    assert [d["domain"] for d in report["domains"]] == [d.value for d in VBPDomain]
    acme, globex = report["suppliers"]
    assert acme["claims"] == len(items) == sum(v["claims"] for v in acme["domains"].values())
    assert acme["reviewed"] == sum(i.review is not None for i in items)
    for d, v in acme["domains"].items():
        assert sum(v["verdicts"].values()) == v["claims"]
    assert sum(v["verdicts"]["contradicted"] for v in acme["domains"].values()) >= 1  # the fixture's contradicted claim
    assert acme["empty_domains"] == ["supply_chain", "purpose"] and len(globex["empty_domains"]) == len(VBPDomain)
    page = comparison_html(report)
    assert "Acme &lt;Medical&gt; Ltd" in page and page.count("no evidence") == 2 + len(VBPDomain) and "<script" not in page
