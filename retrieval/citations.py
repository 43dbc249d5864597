"""Resolve a claim's citation markers to the cited papers that have been ingested.

A claim's markers ("[3]", "(Smith 2019)") already resolve to entries of its document's reference list
(``Claim.citations[*].keys`` → ``Document.references``). This module finds which stored documents those
entries are, by two signals, strongest first:

1. **DOI**: the reference's DOI appears in the first pages of the stored document;
2. **title**: the stored document's title (at least four content words) appears in the reference text,
   word for word after normalisation (case, punctuation, ligatures and hyphenation folded), or nearly
   so (at least 90% of the title's words, in one run of the reference).

A reference that matches no stored document is reported as unresolved, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from extractor.schema import Claim, Document, Reference

_WORD = re.compile(r"[a-z0-9]+")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
MIN_TITLE_WORDS = 4
TITLE_COVERAGE = 0.9
HEAD_CHARS = 6000
"""Characters at the start of a stored document searched for its own DOI (the first page or two)."""


def normalise(text: str) -> list[str]:
    """Lower-case ASCII words of ``text`` (accents, ligatures and punctuation folded away)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _WORD.findall(folded)


@dataclass(frozen=True, slots=True)
class CitedCandidate:
    """What is known of a stored document that a reference might name."""

    doc_id: str
    title: str | None
    dois: frozenset[str] = frozenset()

    @classmethod
    def from_head(cls, doc_id: str, title: str | None, head: str) -> CitedCandidate:
        """A candidate from the document's id, title and first characters (where its own DOI is printed)."""
        dois = frozenset(m.group(1).rstrip(".,;)]").lower() for m in _DOI.finditer(head[:HEAD_CHARS]))
        return cls(doc_id=doc_id, title=title, dois=dois)

    @classmethod
    def from_document(cls, doc: Document) -> CitedCandidate:
        return cls.from_head(doc.id, doc.title, doc.text)


@dataclass(slots=True)
class Resolution:
    """The stored documents a claim cites, and the reference keys that matched none."""

    doc_ids: list[str] = field(default_factory=list)
    matched: dict[str, str] = field(default_factory=dict)  # reference key -> doc id
    how: dict[str, str] = field(default_factory=dict)  # reference key -> "doi" | "title"
    unresolved: list[str] = field(default_factory=list)  # reference keys with no stored document


def _title_in(title_words: list[str], ref_words: list[str]) -> bool:
    if len(title_words) < MIN_TITLE_WORDS:
        return False
    n = len(title_words)
    joined = " " + " ".join(ref_words) + " "
    if " " + " ".join(title_words) + " " in joined:
        return True
    # Nearly verbatim: a window of the reference as long as the title holding 90% of its words.
    wanted = set(title_words)
    need = TITLE_COVERAGE * len(wanted)
    for i in range(max(1, len(ref_words) - n + 1)):
        if len(wanted.intersection(ref_words[i : i + n + 2])) >= need:
            return True
    return False


def match_reference(reference: Reference, candidates: Iterable[CitedCandidate]) -> tuple[str, str] | None:
    """The stored document a reference names, as ``(doc_id, how)``, or None.

    A DOI match wins over a title match; among title matches the longest title wins (the most specific).
    """
    candidates = list(candidates)
    if reference.doi:
        doi = reference.doi.lower()
        for c in candidates:
            if doi in c.dois:
                return c.doc_id, "doi"
    ref_words = normalise(reference.text)
    best: tuple[int, str] | None = None
    for c in candidates:
        if not c.title:
            continue
        words = normalise(c.title)
        if _title_in(words, ref_words) and (best is None or len(words) > best[0]):
            best = (len(words), c.doc_id)
    return (best[1], "title") if best else None


def resolve_citations(claim: Claim, document: Document, candidates: Sequence[CitedCandidate]) -> Resolution:
    """Which stored documents a claim cites, through its markers and its document's reference list.

    Args:
        claim: The claim (its ``citations`` carry the reference keys its markers resolve to).
        document: The claim's own document (its ``references``).
        candidates: Stored documents that may be cited (the claim's own document is skipped).
    """
    by_key = {r.key: r for r in document.references}
    others = [c for c in candidates if c.doc_id != document.id]
    out = Resolution()
    for key in dict.fromkeys(k for c in claim.citations for k in c.keys):
        ref = by_key.get(key)
        found = match_reference(ref, others) if ref is not None else None
        if found is None:
            out.unresolved.append(key)
            continue
        doc_id, how = found
        out.matched[key], out.how[key] = doc_id, how
        if doc_id not in out.doc_ids:
            out.doc_ids.append(doc_id)
    return out
