"""Contact details: email addresses (also spelled out) and phone numbers."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from flockdesk.triage.fastre import compile_fast
from flockdesk.triage.pii.finding import Finding

_I = re.IGNORECASE

# --- email -------------------------------------------------------------------------------------
_EMAIL = compile_fast(r"[\w.+'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+", re.UNICODE)
_DOT = r"(?:\s*+(?:\.|\(dot\)|\[dot\]|\{dot\})\s*+|\s++dot\s++)"
_AT = r"(?:\s*+(?:@|\(at\)|\[at\]|\{at\})\s*+|\s++at\s++)"
_SPELLED_EMAIL = compile_fast(
    rf"\b([a-z0-9][a-z0-9_+-]{{0,63}}(?:{_DOT}[a-z0-9_+-]{{1,63}}){{0,6}}){_AT}"
    rf"([a-z0-9-]{{1,63}}(?:{_DOT}[a-z0-9-]{{1,63}}){{0,4}}{_DOT}[a-z]{{2,12}})\b",
    _I,
)
_DOT_WORD = compile_fast(rf"{_DOT}", _I)
_TLDS = frozenset(
    {
        "com",
        "net",
        "org",
        "edu",
        "gov",
        "mil",
        "int",
        "io",
        "co",
        "uk",
        "us",
        "ca",
        "au",
        "de",
        "fr",
        "es",
        "it",
        "nl",
        "be",
        "ch",
        "at",
        "se",
        "no",
        "dk",
        "fi",
        "ie",
        "nz",
        "in",
        "jp",
        "info",
        "biz",
        "me",
        "app",
        "dev",
        "ai",
        "tv",
        "xyz",
        "online",
        "email",
        "mail",
    }
)


_SIMPLE_EMAIL = re.compile(
    r"[a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}", re.I
)


@lru_cache(maxsize=4096)
def _valid_email(address: str) -> bool:
    if _SIMPLE_EMAIL.fullmatch(address) and ".." not in address and ".@" not in address:
        return True  # the common shape; email-validator checks every other one (slower)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def emails(text: str) -> list[Finding]:
    out: list[Finding] = []
    if "@" in text:
        for m in _EMAIL.finditer(text):
            if _valid_email(m.group(0).strip(".'")):
                out.append(Finding("email", m.start(), m.end()))
    low = text.lower()
    if " at " in low or "(at)" in low or "[at]" in low or "{at}" in low:
        for m in _SPELLED_EMAIL.finditer(text):
            if "@" in m.group(0) and any(f.start <= m.start() < f.end for f in out):
                continue
            local = _DOT_WORD.sub(".", m.group(1))
            domain = _DOT_WORD.sub(".", m.group(2))
            plain_at = "@" not in m.group(0) and "at" in m.group(0).lower().split()
            spaced = ". " in m.group(1) or any(c.isspace() for c in _DOT_WORD.sub(".", m.group(1)))
            if plain_at and (
                spaced or ("dot" not in m.group(0).lower() and not any(c in local for c in "._+0123456789"))
            ):
                continue  # "details at skywardair.com/status", "see you at 1am.": a word, not an address
            tld = domain.rsplit(".", 1)[-1]
            if tld not in _TLDS and not (len(tld) == 2 and tld.islower()):
                continue
            if _valid_email(f"{local}@{domain}"):
                out.append(Finding("email", m.start(), m.end()))
    return out


# --- phone numbers -------------------------------------------------------------------------------
_PHONE = compile_fast(  # digit runs are possessive and need a separator between them: no backtracking blow-up
    r"(?<![\w+#$£€/:-])(?<!\d[.,])(?:\+|00)?(?:\(\d{1,4}\)[ .-]?)?\d++"
    r"(?:(?:[ .-]{1,2}\(?|\()\d++\)?|(?<=\))\d++)*"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w%$£€/]|[.,:-]\d)"
)
_PHONE_CTX_BEFORE = compile_fast(
    r"(?:phone|tel|telephone|mobile|cell|fax|desk|office|call|ring|text|txt|sms|whatsapp|number|no\.|"
    r"reach me|contact|"
    r"messages to|answering at|registered|dial|landline|me on|me at|m[óo]vil|tel[ée]fono|portable|"
    r"t[ée]l[ée]phone|handy(?:nummer)?|telefon(?:nummer)?|celular|telem[óo]vel|cellulare|telefono|zap)\W{0,4}(?:\w+\W{1,3}){0,2}$",
    _I,
)
_PHONE_CTX_AFTER = compile_fast(r"^\W{0,3}(?:office|mobile|cell|fax|home|work|phone|tel)\b", _I)
_NOT_PHONE_BEFORE = compile_fast(
    r"(?:[$£€¥]|\b(?:usd|eur|gbp|order|booking|ref|reference|confirmation|case|ticket|tracking|flight|"
    r"account|acct|"
    r"invoice|card|iban|ssn|licen[cs]e|passport|id|zip|postcode|version|v)\b)\W{0,4}(?:(?:no|number|num|is|"
    r"#)\W{0,3}){0,2}$",
    _I,
)
_NOT_PHONE_AFTER = compile_fast(
    r"^\s?(?:%|k\b|m\b|usd|eur|gbp|dollars|pounds|euros|points|miles|followers|"
    r"views|times|people)",
    _I,
)
_DATEISH = compile_fast(
    r"\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.](?:19|20)\d{2}|(?:19|"
    r"20)\d{2}\s*-\s*(?:19|20)?\d{2}"
)
_IPV4 = compile_fast(r"\d{1,3}(?:\.\d{1,3}){3}")
_TOLL_FREE = compile_fast(
    r"^(?:\+?1[ .-]?)?\(?8(?:00|33|44|55|66|77|88)\)?|^(?:\+?44\s?\(?0?\)?|0)\s?(?:800|"
    r"808|300|330|345|845)"
)
_PN_REGIONS = ("US", "GB")


def is_toll_free(raw: str) -> bool:
    """A public helpline (toll-free / non-geographic service number) rather than a person's phone."""
    return bool(_TOLL_FREE.match(raw.strip()))


def _phone_like(text: str, start: int, end: int, raw: str) -> bool:
    digits = re.sub(r"\D", "", raw.split("x")[0].split("ext")[0])
    n = len(digits)
    if n < 7 or n > 15 or _DATEISH.fullmatch(raw.strip()) or len(set(digits)) == 1 or _IPV4.fullmatch(raw):
        return False
    before = text[max(0, start - 40) : start]
    after = text[end : end + 16]
    if _NOT_PHONE_BEFORE.search(before) or _NOT_PHONE_AFTER.match(after):
        return False
    if raw.startswith("+") or raw.startswith("00"):
        return n >= 8
    if _PHONE_CTX_BEFORE.search(before) or _PHONE_CTX_AFTER.match(after):
        return True
    formatted = any(c in raw for c in " .-()")
    if formatted and n >= 10:
        return True
    if formatted and raw.startswith(("(", "0")) and n >= 9:
        return True
    if not formatted and n in (10, 11) and digits[0] in "01":
        return True
    if not formatted and n == 10:
        try:
            return phonenumbers.is_valid_number(phonenumbers.parse(digits, "US"))
        except phonenumbers.NumberParseException:
            return False
    return False


def phones(text: str, taken: list[Finding]) -> list[Finding]:
    out: list[Finding] = []
    for m in _PHONE.finditer(text):
        raw = m.group(0).rstrip(" .-")
        s, e = m.start(), m.start() + len(raw)
        if any(f.start < e and s < f.end for f in taken):
            continue
        if is_toll_free(raw):
            continue
        if _phone_like(text, s, e, raw):
            out.append(Finding("phone", s, e))
    if "+" in text:  # international numbers the pattern missed (e.g. letters inside)
        for region in _PN_REGIONS:
            for pm in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
                overlaps = any(f.start < pm.end and pm.start < f.end for f in out + taken)
                if not overlaps and not is_toll_free(pm.raw_string):
                    out.append(Finding("phone", pm.start, pm.end))
    return out
