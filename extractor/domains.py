"""Claim categories and the VBP value domain each counts towards."""

from __future__ import annotations

import re

from extractor.schema import ClaimCategory, VBPDomain

CATEGORY_DOMAIN = {
    ClaimCategory.outcome: VBPDomain.patient_and_staff,
    ClaimCategory.safety: VBPDomain.patient_and_staff,
    ClaimCategory.experience: VBPDomain.patient_and_staff,
    ClaimCategory.resource_use: VBPDomain.efficiency,
    ClaimCategory.cost: VBPDomain.whole_life_cost,
    ClaimCategory.environmental: VBPDomain.social_value,
    ClaimCategory.social: VBPDomain.social_value,
    ClaimCategory.supply: VBPDomain.supply_chain,
}

# A claim about fit with NHS strategy and priorities counts towards the "purpose" domain.
_PURPOSE = re.compile(
    r"\b(NHS (?:Long Term Plan|priorit\w+|strateg\w+|mandate)|ten[- ]year (?:health )?plan|integrated care strateg\w+|"
    r"population health|health inequalit\w+|Core20PLUS5|NICE (?:guidance|recommend\w*)|national priorit\w+)\b",
    re.IGNORECASE,
)


def domain_for(category: ClaimCategory, text: str) -> VBPDomain:
    """The VBP domain of a claim, from its category and, for strategic fit, its wording."""
    if category in (ClaimCategory.outcome, ClaimCategory.experience) and _PURPOSE.search(text):
        return VBPDomain.purpose
    return CATEGORY_DOMAIN[category]
