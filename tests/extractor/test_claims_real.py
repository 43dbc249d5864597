"""Claim extraction on the real PDFs: every claim grounded, and the known traps never become costs."""

from __future__ import annotations

from functools import cache

import pytest

from extractor.claims import extract_claims
from extractor.pipeline import parse_file
from extractor.schema import ClaimCategory, QuantityKind
from tests.conftest import CORPUS, SHARED_DATA

pytestmark = pytest.mark.slow

PDFS = sorted(p for p in (SHARED_DATA / "pdfs").glob("*.pdf") if not p.name.startswith("awkward_"))
PDFS += sorted((SHARED_DATA / "rct_numeric" / "pdfs").glob("*.pdf")) + sorted((CORPUS / "submissions").glob("*.pdf"))


@cache
def claims_of(path: str):
    doc = parse_file(path)
    return doc, extract_claims(doc)


@pytest.mark.parametrize("path", PDFS, ids=lambda p: p.name)
def test_claims_real_every_claim_is_grounded(shared_data, path) -> None:
    doc, result = claims_of(str(path))
    assert result.dropped_ungrounded == 0
    for c in result.claims:
        assert doc.text[c.span.start : c.span.end] == c.quote, c.quote[:80]
        page = doc.pages[c.page - 1]
        assert page.offset <= c.span.start and c.span.end <= page.offset + len(page.text)
        for q in c.quantities:
            assert doc.text[q.span.start : q.span.end] == q.text
            assert c.span.start <= q.span.start and q.span.end <= c.span.end
        for cit in c.citations:
            assert doc.text[cit.span.start : cit.span.end] == cit.marker


@pytest.mark.parametrize(
    "name",
    ["jcap2018_PMC5771543_desvenlafaxine_paediatric_MDD_RCT.pdf", "diabetescare2016_PMC5079604_metformin_sitagliptin_remission_RCT.pdf"],
)
def test_claims_real_font_glyph_traps_are_not_money(shared_pdfs, name: str) -> None:
    # "≤" extracts as "£" ("CGI-I £ 2") and "≥" as "$" ("pH $7.30"): neither paper has a single real amount of money
    _, result = claims_of(str(shared_pdfs / name))
    money = [q.text for c in result.claims for q in c.quantities if q.kind is QuantityKind.currency]
    assert money == []
    assert not [c for c in result.claims if c.category is ClaimCategory.cost]


@pytest.mark.parametrize(
    "name",
    [
        "bmj2015_LEAP_physical_activity_smoking_cessation_pregnancy_RCT.pdf",
        "lancetrespmed2014_StopAdvisor_internet_smoking_cessation_RCT.pdf",
        "bmjopen2016_GoActive_pilot_cluster_RCT_adolescent_activity.pdf",
        "bmcpublichealth2014_UatUni_online_health_behaviour_RCT.pdf",
    ],
)
def test_claims_real_participant_payments_are_not_costs(shared_pdfs, name: str) -> None:
    # these trials paid participants (£7 travel, £10 and £20 vouchers, £200 equipment): methods, not costs of care
    _, result = claims_of(str(shared_pdfs / name))
    costs = [c.quote for c in result.claims if c.category is ClaimCategory.cost and any(q.kind is QuantityKind.currency for q in c.quantities)]
    assert costs == []


def test_claims_real_papers_yield_findings(shared_pdfs) -> None:
    doc, result = claims_of(str(shared_pdfs / "bmj2015_LEAP_physical_activity_smoking_cessation_pregnancy_RCT.pdf"))
    assert any("No significant difference was found in rates of smoking abstinence" in c.quote for c in result.claims)
    assert all(c.section not in ("references", "methods") for c in result.claims)
    assert {c.evidence_level.value for c in result.claims} == {"rct"}
