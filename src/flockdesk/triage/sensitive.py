"""Sensitive personal data in free text: which kinds are present, and where.

Pure functions, no network. Each detector returns `Finding`s (kind + character span) so that the
benchmark can score spans and the reply guard can say what it found. Numbers that only look like
personal data (prices, years, dates, flight numbers, toll-free helplines) are not reported.
"""

from __future__ import annotations

from flockdesk.triage.fastre import compile_fast
from flockdesk.triage.pii.address import addresses
from flockdesk.triage.pii.contact import emails, is_toll_free, phones
from flockdesk.triage.pii.finding import KINDS, Finding
from flockdesk.triage.pii.numbers import (
    accounts,
    cards,
    credentials,
    dates_of_birth,
    government_ids,
    luhn_valid,
    orders,
)

__all__ = ["KINDS", "Finding", "find_sensitive", "is_toll_free", "luhn_valid", "sensitive_kinds"]

_HAS_DIGIT = compile_fast(r"\d")


def find_sensitive(text: str) -> list[Finding]:
    """Every sensitive span found in `text`, in order of position."""
    found: list[Finding] = []
    found += emails(text)
    found += credentials(text)
    found += dates_of_birth(text)
    found += orders(text)  # also all-letter booking codes ("PNR: HXBTWD")
    if _HAS_DIGIT.search(text):
        found += cards(text)
        found += government_ids(text)
        found += accounts(text)
        found += addresses(text)
        found += phones(text, found)
    found.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for f in found:  # one span per stretch of text and kind
        same = next((m for m in reversed(merged) if m.kind == f.kind and f.start < m.end), None)
        if same is None:
            merged.append(f)
        elif f.end > same.end:
            merged[merged.index(same)] = Finding(f.kind, same.start, f.end)
    return merged


def sensitive_kinds(text: str) -> list[str]:
    """The kinds of personal data present, in the canonical order of KINDS."""
    kinds = {f.kind for f in find_sensitive(text)}
    return [k for k in KINDS if k in kinds]
