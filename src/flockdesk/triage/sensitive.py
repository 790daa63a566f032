"""Sensitive personal data in free text: which kinds are present, and where.

Pure functions, no network. Each detector returns `Finding`s (kind + character span) so that the
benchmark can score spans and the reply guard can say what it found. Numbers that only look like
personal data (prices, years, dates, flight numbers, toll-free helplines) are not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flockdesk.triage.fastre import compile_fast
from flockdesk.triage.pii import labelled
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
_MASKED_EMAIL = compile_fast(r"__email__", re.IGNORECASE)
# a card number that fails the Luhn check still counts when the text says it is a card
_CARD_SAID = compile_fast(
    r"\b(?:card|visa|master ?card|amex|carte|tarjeta|cart[ãa]o|karte|carta)\b[^.!?\n\d]{0,30}?"
    r"\(?((?:\d{4}[ -]){3}\d{4}|\d{16})\b",
    re.IGNORECASE,
)
_LOYALTY = compile_fast(
    r"\b(?:rewards?|loyalty|points|miles|library|membership|member|clubcard|fid[ée]lit[ée]|fidelidad|"
    r"fidelidade|biblioth[èe]que|biblioteca|bonus)\b",
    re.IGNORECASE,
)
# public numbers of an organisation: "charity number 1109876", "registered charity no. 1109876"
_ORG_NUMBER = compile_fast(
    r"\bcharity (?:number|no\.?|reg(?:istration)?(?: number)?)\W{0,4}(?:is\s+)?$", re.I
)
_NON_DIGIT = re.compile(r"\D")


def find_sensitive(text: str, org_contacts: Iterable[str] = ()) -> list[Finding]:
    """Every sensitive span found in `text`, in order of position.

    `org_contacts` are the organisation's own public contact details (emails, phone numbers, street
    address, charity number): they are not personal data, so spans that match them are not reported.
    """
    found: list[Finding] = []
    found += emails(text)
    if "__" in text:
        found += [Finding("email", m.start(), m.end()) for m in _MASKED_EMAIL.finditer(text)]
    found += credentials(text)
    found += labelled.credentials(text)
    found += dates_of_birth(text)
    found += labelled.dates_of_birth(text)
    found += labelled.usernames(text)
    if _HAS_DIGIT.search(text):
        found += labelled.labelled(text)
        found += labelled.nhs_numbers(text)
        # a label a few words before a value, unless a label right next to it already said what it is
        found += [
            n
            for n in labelled.near_labelled(text)
            if not any(f.start < n.end and n.start < f.end for f in found)
        ]
    announced = list(found)  # a label says what these are: no other kind may claim the same digits
    found += orders(text)  # also all-letter booking codes ("PNR: HXBTWD")
    if _HAS_DIGIT.search(text):
        found += cards(text)
        for m in _CARD_SAID.finditer(text):
            # a loyalty or library card's number is an account number unless it is a valid payment card
            loyal = _LOYALTY.search(text, max(0, m.start() - 60), m.start(1)) is not None
            kind = (
                "account_number"
                if loyal and not luhn_valid(_NON_DIGIT.sub("", m.group(1)))
                else "payment_card"
            )
            found.append(Finding(kind, m.start(1), m.end(1)))
        found += government_ids(text)
        found += accounts(text)
        found += addresses(text)
        found += phones(text, found)
    found = [
        f
        for f in found
        if not _public(text, f, org_contacts)
        and not any(
            a.kind != f.kind and a.start < f.end and f.start < a.end and f.kind != "credential"
            for a in announced
        )
    ]
    found.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for f in found:  # one span per stretch of text and kind
        same = next((m for m in reversed(merged) if m.kind == f.kind and f.start < m.end), None)
        if same is None:
            merged.append(f)
        elif f.end > same.end:
            merged[merged.index(same)] = Finding(f.kind, same.start, f.end)
    return merged


def sensitive_kinds(text: str, org_contacts: Iterable[str] = ()) -> list[str]:
    """The kinds of personal data present, in the canonical order of KINDS."""
    kinds = {f.kind for f in find_sensitive(text, org_contacts)}
    return [k for k in KINDS if k in kinds]


def _public(text: str, f: Finding, org_contacts: Iterable[str]) -> bool:
    """A span that is the organisation's own contact detail (or a charity's registered number)."""
    if _ORG_NUMBER.search(text, max(0, f.start - 30), f.start):
        return True
    span = text[f.start : f.end]
    digits = _NON_DIGIT.sub("", span)
    low = span.lower()
    for contact in org_contacts:
        c = contact.strip()
        if not c:
            continue
        c_digits = _NON_DIGIT.sub("", c)
        if c_digits and digits and _same_number(digits, c_digits):
            return True
        if "@" in c and (low == c.lower() or low.endswith("@" + c.lower().rsplit("@", 1)[1])):
            return True  # the organisation's own address, or another of its mailboxes
        if len(c) > 8 and (low in c.lower() and len(low) >= 6):
            return True  # part of the organisation's street address
    return False


def _same_number(a: str, b: str) -> bool:
    """The same phone number written with or without the country code or trunk zero."""
    if len(a) < 7 or len(b) < 7:
        return a == b
    n = min(len(a), len(b), 10)
    return a[-n:] == b[-n:]
