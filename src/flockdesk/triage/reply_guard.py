"""The guard for draft public replies: never ask for, nor expose, personal data in public."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from flockdesk.triage.fastre import compile_fast
from flockdesk.triage.sensitive import sensitive_kinds

_I = re.IGNORECASE

_DATA = (
    r"(?:e-?mail(?: address)?|phone(?: number)?|mobile(?: number)?|(?:cell|contact|telephone) number|number|"
    r"(?:home |postal |mailing |billing |delivery |shipping )?address|post ?code|zip(?: code)?|"
    r"(?:account|acct|membership|customer|policy|card|iban|sort code|routing)(?: number| no\.?| details|"
    r" info)?|"
    r"(?:order|booking|confirmation|reservation|case|ticket|tracking|reference|ref)(?: number| no\.?| code|"
    r" id| ref)?|"
    r"password|pin|passcode|security (?:answer|question)|(?:one[- ]time|verification) code|otp|"
    r"date of birth|dob|birthday|ssn|social security(?: number)?|passport(?: number)?|full name and \w+|"
    r"(?:contact|personal|payment|bank|billing|login|booking|card|account) (?:details|info))"
)


@lru_cache(maxsize=1)
def _ask() -> re.Pattern[str]:
    """Compiled on first use: the pattern is large and most processes never check a reply."""
    verbs = (
        r"reply|respond|tweet|comment|post|share|send|give|tell|provide|confirm|let us know|drop|leave|"
        r"include|pop|add"
    )
    return compile_fast(
        rf"\b(?:(?:{verbs})\b[^.!?\n]{{0,40}}?\b(?:your|the)\s+(?:\w+\s+)?{_DATA}|"
        rf"what(?:'s| is| was| are)\s+(?:your|the)\s+(?:\w+\s+)?{_DATA}|"
        rf"(?:can|could|may) (?:we|i) (?:have|get|grab|take)\s+(?:your|the)\s+(?:\w+\s+)?{_DATA}|"
        rf"(?:your|the)\s+{_DATA}\s*(?:please|pls|plz)?\s*\?)",
        _I,
    )


_PRIVATE_CHANNEL = compile_fast(
    r"\b(?:dm|d\.m\.|direct message|private message|pm|inbox|message us|via (?:dm|email|private)|in private|"
    r"privately|"
    r"secure (?:link|form|chat)|by email to|email us at|send us an email|chat\.)\b",
    _I,
)

ADVICE_OK = "OK to post publicly."
ADVICE_ASK = (
    "Don't ask for personal details in public: invite the customer to send them by DM "
    '(e.g. "Please send us a DM with your order number and we\'ll take a look.").'
)
ADVICE_EXPOSE = (
    "This reply repeats personal data ({kinds}) in public: remove it, or move the conversation to DM."
)


@dataclass(frozen=True, slots=True)
class ReplyCheck:
    asks_for_sensitive: bool
    contains_sensitive: list[str]
    advice: str

    def to_dict(self) -> dict[str, object]:
        return {
            "asks_for_sensitive": self.asks_for_sensitive,
            "contains_sensitive": list(self.contains_sensitive),
            "advice": self.advice,
        }


def _asks_publicly(text: str) -> bool:
    sentences = re.split(r"(?<=[.!?\n])\s+", text)
    for i, sentence in enumerate(sentences):
        if _ask().search(sentence) is None:
            continue
        # "send us a DM with your order number" (or the ask followed by "Please DM it to us") is the right way
        following = sentences[i + 1] if i + 1 < len(sentences) else ""
        if _PRIVATE_CHANNEL.search(sentence) or _PRIVATE_CHANNEL.search(following):
            continue
        return True
    return False


def check_reply(text: str) -> ReplyCheck:
    """Flag a public reply that asks for personal data in public or exposes it."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    kinds = sensitive_kinds(text)
    asks = _asks_publicly(text)
    advice = []
    if asks:
        advice.append(ADVICE_ASK)
    if kinds:
        advice.append(ADVICE_EXPOSE.format(kinds=", ".join(kinds)))
    return ReplyCheck(asks, kinds, " ".join(advice) or ADVICE_OK)
