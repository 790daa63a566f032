"""Language of a message: Google's CLD2 (pycld2, its model compiled into the wheel; nothing downloaded).

Handles, hashtags, links and cashtags are removed first: brand names in English ("@SkywardAir",
"#AshfordCouncil") otherwise pull short Spanish or Italian posts towards English. The answer is an ISO
639-1 code, or "und" when CLD2 cannot tell (emoji only, a bare number).
"""

from __future__ import annotations

import re

import pycld2

UNDETERMINED = "und"
# The languages triage has rules and training data for; others are still reported by their code.
SUPPORTED = ("en", "es", "fr", "de", "pt", "it")

_NOISE = re.compile(r"[@#$]\w+|https?://\S+|www\.\S+|\S+\[\.\]\S+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


def detect_lang(text: str) -> str:
    """ISO 639-1 code of `text`'s language, or "und"."""
    clean = _NOISE.sub(" ", text)
    if not any(c.isalpha() for c in clean):
        return UNDETERMINED
    try:
        _reliable, _nbytes, details = pycld2.detect(clean, bestEffort=True)
    except (pycld2.error, UnicodeEncodeError):
        # CLD2 refuses some code points (controls, lone surrogates): read the text without them
        try:
            _reliable, _nbytes, details = pycld2.detect(_CONTROL.sub(" ", clean), bestEffort=True)
        except (pycld2.error, UnicodeEncodeError):
            return UNDETERMINED
    code = str(details[0][1])
    return code if len(code) == 2 and code != "un" else UNDETERMINED
