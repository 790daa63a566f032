"""Numbers that identify a person or their money: cards, ids, accounts, orders, credentials, birth dates."""

from __future__ import annotations

import re

from flockdesk.triage.fastre import compile_fast
from flockdesk.triage.pii.finding import Finding

_I = re.IGNORECASE

# --- payment cards -------------------------------------------------------------------------------
_CARD = compile_fast(r"(?<![\w.,/-])(?:\d[ -]?){11,18}\d(?![\w/]|[.,-]\d)")
_CARD_CONTEXT = compile_fast(r"\b(card|visa|master ?card|amex|credit|debit|cc|maestro|discover)\b", _I)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def cards(text: str) -> list[Finding]:
    out = []
    for m in _CARD.finditer(text):
        raw = m.group(0)
        digits = raw.replace(" ", "").replace("-", "")
        if not 12 <= len(digits) <= 19 or len(set(digits)) == 1 or not luhn_valid(digits):
            continue
        grouped = " " in raw or "-" in raw
        if grouped and not re.fullmatch(
            r"\d{4}([ -]\d{4}){2,3}([ -]\d{1,3})?|"
            r"\d{4}[ -]\d{6}[ -]\d{4,5}",
            raw,
        ):
            continue  # groups that are not a card's layout (phone numbers, ids)
        if len(digits) < 13 and not _CARD_CONTEXT.search(text, max(0, m.start() - 40), m.start()):
            continue
        out.append(Finding("payment_card", m.start(), m.end()))
    return out


# --- government ids ------------------------------------------------------------------------------
_SSN = compile_fast(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
_SSN_CTX = compile_fast(
    r"\b(?:ssn|social security(?: number| no\.?)?)\s*+(?:is|:|"
    r"#)?\s*+(\d{3}[ -]?\d{2}[ -]?\d{4})\b",
    _I,
)
_NINO = compile_fast(
    r"\b(?!BG|GB|NK|KN|TN|NT|"
    r"ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
)
_ID_CTX = compile_fast(
    r"\b(?:passport|driver'?s? licen[cs]e|driving licen[cs]e|national id|id card|tax id|tin)"
    r"(?:\s++(?:number|no\.?|#|num))?\s*+(?:is|:|#)?\s*+([A-Z0-9][A-Z0-9-]{4,16})\b",
    _I,
)


def government_ids(text: str) -> list[Finding]:
    out = [Finding("government_id", m.start(), m.end()) for m in _SSN.finditer(text)]
    low = text.lower()
    ctx = []
    if "ssn" in low or "social" in low:
        ctx.append(_SSN_CTX)
    if any(w in low for w in ("passport", "licen", "id", "tin")):
        ctx.append(_ID_CTX)
    for rx in ctx:
        for m in rx.finditer(text):
            if any(ch.isdigit() for ch in m.group(1)):
                out.append(Finding("government_id", m.start(1), m.end(1)))
    out.extend(Finding("government_id", m.start(), m.end()) for m in _NINO.finditer(text))
    return out


# --- accounts / IBAN ---------------------------------------------------------------------------
_IBAN = compile_fast(r"\b([A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?))\b", _I)
_ACCOUNT_CTX = compile_fast(
    r"\b(?:account|acct|a/c|member(?:ship)?|customer|policy|routing|sort code|loyalty|frequent flyer|student|"
    r"applicant|alumni)"
    r"(?:\s++(?:number|no\.?|#|num|id))?\s*+(?:is|:|#|=)?\s*+(\d[\d -]{4,22}\d|[A-Z]{0,3}\d{5,}[A-Z0-9]*)\b",
    _I,
)


_ACCOUNT_WORDS = (
    "acc",
    "acct",
    "a/c",
    "member",
    "customer",
    "policy",
    "routing",
    "sort code",
    "loyalty",
    "flyer",
    "student",
    "applicant",
    "alumni",
)


def _iban_ok(raw: str) -> bool:
    s = raw.replace(" ", "").upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    try:
        return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
    except ValueError:
        return False


def accounts(text: str) -> list[Finding]:
    out = [
        Finding("account_number", m.start(1), m.end(1)) for m in _IBAN.finditer(text) if _iban_ok(m.group(1))
    ]
    low = text.lower()
    if any(w in low for w in _ACCOUNT_WORDS):
        out.extend(Finding("account_number", m.start(1), m.end(1)) for m in _ACCOUNT_CTX.finditer(text))
    return out


# --- order / booking / case references -----------------------------------------------------------
_ORDER = compile_fast(
    r"\b(?:order|booking|confirmation|reservation|case|ticket|tracking|reference|ref|pnr|invoice|parcel|"
    r"shipment|claim|incident|complaint|receipt)"
    r"(?:\s++(?:number|no\.?|num|id|code|reference|ref))?(?:\s++(?:again|here|now|then|btw|below))?"
    r"\s*+(?:is|was|:|#|=|-)?\s*+#?\s*+(?<![A-Z0-9])([A-Z0-9][A-Z0-9-]{4,24})\b",
    _I,
)
_BOOKING_CODE = compile_fast(
    r"(?:booking|confirmation|reservation|pnr)(?:\s++(?:ref|code|reference|number))?", _I
)
_HASH_REF = compile_fast(r"(?<![\w&])#([A-Z]{0,4}\d{5,}[A-Z0-9]*)\b", _I)


_ORDER_WORDS = (
    "order",
    "book",
    "confirm",
    "reserv",
    "case",
    "ticket",
    "track",
    "ref",
    "pnr",
    "invoice",
    "parcel",
    "shipment",
    "claim",
    "incident",
    "complaint",
    "receipt",
)


def orders(text: str) -> list[Finding]:
    out = []
    low = text.lower()
    pos = 0 if any(w in low for w in _ORDER_WORDS) else len(text) + 1
    while pos <= len(text):
        m = _ORDER.search(text, pos)
        if m is None:
            break
        ref = m.group(1)
        code_like = ref.isupper() and ref.isalpha() and len(ref) == 6  # a 6-letter PNR / booking code
        if any(c.isdigit() for c in ref) or (code_like and _BOOKING_CODE.search(m.group(0)) is not None):
            out.append(Finding("order_number", m.start(1), m.end(1)))
            pos = m.end()
        else:  # "booking reference K7K8YK": the rejected word may itself start the real match
            pos = m.start(1)
    if "#" in text:
        out.extend(Finding("order_number", m.start(1), m.end(1)) for m in _HASH_REF.finditer(text))
    return out


# --- credentials ---------------------------------------------------------------------------------
_CRED = compile_fast(
    r"\b(?:password|passcode|passwd|pwd|pin(?:\s++(?:code|number))?|security (?:answer|question answer|code)|"
    r"one[- ]time (?:code|password|passcode)|otp|verification code|2fa code|auth(?:entication)? code|cvv|cvc|"
    r"mother'?s maiden name)\s*+(?:is|was|:|=|-)\s*+[\"']?(\S{3,})",
    _I,
)
_CRED_NEG = {
    "wrong",
    "incorrect",
    "not",
    "expired",
    "invalid",
    "correct",
    "right",
    "reset",
    "changed",
    "too",
    "being",
}


_CRED_WORDS = ("pass", "pin", "pwd", "code", "otp", "security", "cvv", "cvc", "maiden")


def credentials(text: str) -> list[Finding]:
    out: list[Finding] = []
    low = text.lower()
    if not any(w in low for w in _CRED_WORDS):
        return out
    for m in _CRED.finditer(text):
        if m.group(1).lower().strip(".,!") in _CRED_NEG:
            continue
        out.append(Finding("credential", m.start(), m.end()))
    return out


# --- date of birth -------------------------------------------------------------------------------
# a full date (day, month and year): "12/03/1985", "1985-03-12", "3 March 1985", "the 3rd of March,
# 1985", "March 3rd, 1985". A year alone ("born in 1985") is not a date of birth.
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|(?:the\s++)?\d{1,2}(?:st|nd|rd|"
    r"th)?\s++(?:of\s++)?[a-z]{3,9},?\s++\d{4}|"
    r"[a-z]{3,9}\s++(?:the\s++)?\d{1,2}(?:st|nd|rd|th)?,?\s++\d{4})"
)
# what announces it: "DOB:", "date of birth is", "(I was) born (on)", "my birthday is / birthday's", "b-day"
_DOB = compile_fast(
    rf"\b(?:dob|d\.o\.b\.?|date of birth|born(?:\s++on)?|birth ?date|birth ?day(?:['\u2019]s)?|"
    rf"b-?day)"
    rf"(?:\s++(?:for|as|if) [a-z ]{{1,20}}?)?\s*+(?:is|was|:|-)?\s*+({_DATE})",
    _I,
)
_DOB_HINTS = ("dob", "d.o.b", "birth", "born", "bday", "b-day")


def dates_of_birth(text: str) -> list[Finding]:
    low = text.lower()
    if not any(h in low for h in _DOB_HINTS):
        return []
    return [Finding("date_of_birth", m.start(1), m.end(1)) for m in _DOB.finditer(text)]
