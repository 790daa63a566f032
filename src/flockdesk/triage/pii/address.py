"""Postal addresses: street lines, units, postcodes and ZIP codes with context."""

from __future__ import annotations

import re

from flockdesk.triage.fastre import compile_fast
from flockdesk.triage.pii.finding import Finding

_I = re.IGNORECASE

# --- postal addresses ------------------------------------------------------------------------------
_STREET = compile_fast(  # the street's name starts with a capital: "18 Rosemont Avenue", not "3 empty ones in a row"
    r"\b\d{1,5}[a-z]?,?\s++(?:(?-i:[A-ZÀ-Ý])[A-Za-zÀ-ÿ'.-]*\s++){1,4}?(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|"
    r"boulevard|blvd|"
    r"court|ct|way|place|pl|terrace|close|crescent|square|sq|highway|hwy|parkway|pkwy|circle|cir|trail|row|"
    r"gardens|grove|hill|mews|walk|cottages|wharf|quay|rise|green|yard|parade|park)\b\.?",
    _I,
)
_UNIT = compile_fast(
    r"\b(?:apt|apartment|suite|unit|flat)\.?\s*+#?\d+[a-z]?\b|\bp\.?\s?o\.?\s++box\s++\d+", _I
)
_UK_POSTCODE = compile_fast(r"\b(?!BA\d{2,4}\b)[A-Z]{1,2}\d[A-Z\d]?\s++\d[A-Z]{2}\b")
_ADDR_CTX = compile_fast(
    r"\b(?:address|addr|ship(?:ping)? to|deliver(?:ed|y)? to|i live at|"
    r"live at|adresse(?: de livraison)?|dirección|direccion|morada|endereço|indirizzo|anschrift|adresse)\b\s*+(?:is|es|est|é|è|ist|:)?",
    _I,
)
_ZIP_CTX = compile_fast(
    r"\b(?:zip|zip code|postcode|postal code|post code)\s*+(?:is|:)?\s*+"
    r"(\d{5}(?:-\d{4})?|[A-Z0-9]{2,4} ?[A-Z0-9]{3})\b",
    _I,
)
# streets in French, Spanish, Portuguese, Italian and German: "18 rue Paul Bert", "Calle Mayor 5",
# "Rua de Cedofeita 212", "Via Roma 12", "Lindenstraße 8"
_STREET_INTL = compile_fast(
    r"\b\d{1,4}(?:bis|ter)?,?\s+(?:rue|avenue|boulevard|bd|allée|chemin|impasse|quai|place)\s+(?:de\s+|du\s+|des\s+|d')?"
    r"(?-i:[A-ZÀ-Ý])[\w'-]+(?:\s+(?-i:[A-ZÀ-Ý])[\w'-]+){0,3}|"
    r"\b(?:calle|c/|avenida|avda\.?|rua|travessa|alameda|via|viale|piazza|corso|largo|plaza|paseo|praça)\s+"
    r"(?:(?:de|del|da|do|dos|das|di|della|dei)\s+)?(?-i:[A-ZÀ-Ý])[\w'-]+(?:\s+(?-i:[A-ZÀ-Ý])[\w'-]+){0,3},?\s+\d{1,4}\b|"
    r"\b(?-i:[A-ZÄÖÜ])[a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm)\s+\d{1,4}[a-z]?\b",
    _I,
)
_STATE_ZIP = compile_fast(r",\s*+[A-Z]{2}\s++\d{5}(?:-\d{4})?\b")


_WORDS = re.compile(r"[a-z]+")
_STREET_WORDS = frozenset(
    {
        "street",
        "st",
        "avenue",
        "ave",
        "road",
        "rd",
        "lane",
        "ln",
        "drive",
        "dr",
        "boulevard",
        "blvd",
        "court",
        "ct",
        "way",
        "place",
        "pl",
        "terrace",
        "close",
        "crescent",
        "square",
        "sq",
        "highway",
        "hwy",
        "parkway",
        "pkwy",
        "circle",
        "cir",
        "trail",
        "row",
        "gardens",
        "grove",
        "hill",
        "mews",
        "walk",
        "cottages",
        "wharf",
        "quay",
        "rise",
        "green",
        "yard",
        "parade",
        "park",
    }
)


def addresses(text: str) -> list[Finding]:
    low = text.lower()
    out: list[Finding] = []
    if not _STREET_WORDS.isdisjoint(_WORDS.findall(low)):
        out += [Finding("address", m.start(), m.end()) for m in _STREET.finditer(text)]
    if any(w in low for w in ("apt", "apartment", "suite", "unit", "flat", "box")):
        out += [Finding("address", m.start(), m.end()) for m in _UNIT.finditer(text)]
    out += [Finding("address", m.start(), m.end()) for m in _STREET_INTL.finditer(text)]
    if out:  # a postcode or ZIP code alone is an area, not a street address; with a street it is part of one
        out += [Finding("address", m.start(), m.end()) for m in _UK_POSTCODE.finditer(text)]
        if "zip" in low or "post" in low:
            out += [Finding("address", m.start(1), m.end(1)) for m in _ZIP_CTX.finditer(text)]
        out += [Finding("address", m.start(), m.end()) for m in _STATE_ZIP.finditer(text)]
    has_ctx = any(
        w in low for w in ("addr", "ship", "deliver", "live at", "adress", "direcci", "morada", "indirizzo")
    )
    ctx = _ADDR_CTX.finditer(text) if has_ctx else iter(())
    for m in ctx:
        tail = text[m.end() : m.end() + 80]
        if re.match(r"\s*+[:\n]?\s*+\d{1,5}[a-z]?,?\s++[A-ZÀ-Ý]", tail):
            out.append(Finding("address", m.end(), min(len(text), m.end() + len(tail.split("\n")[0]))))
    return out
