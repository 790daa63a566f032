"""Languages as the inbox shows them: the ISO 639-1 code triage detects ("fr"), its English name for
screen readers and tooltips ("French"), and how a code given by a person is cleaned."""

from __future__ import annotations

import re

UNDETERMINED = "und"

NAMES: dict[str, str] = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "ca": "Catalan",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "gl": "Galician",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "is": "Icelandic",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "ms": "Malay",
    "mt": "Maltese",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sr": "Serbian",
    "sv": "Swedish",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
    UNDETERMINED: "Language not determined",
}

# the languages offered in the inbox's filter first (those triage has training data for)
COMMON = ("en", "es", "fr", "de", "pt", "it")

_CODE = re.compile(r"^[a-z]{2,3}$")


def name(code: str | None) -> str:
    """The English name of a language code ("fr" -> "French"); the code itself when not known."""
    if not code:
        return ""
    return NAMES.get(code.lower(), code.upper())


def clean_code(value: str | None) -> str | None:
    """A language code given in a URL or a rule ("FR", " fr ") as stored ("fr"); None if not a code."""
    if value is None:
        return None
    code = value.strip().lower()
    return code if _CODE.match(code) else None
