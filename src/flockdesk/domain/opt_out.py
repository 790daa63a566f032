"""Opt-out phrases in a DM ("stop", "unsubscribe", "arrête", "abmelden"...): X's developer rules ask an
app to honour them immediately and to detect the common ones.

A DM is an opt-out when, after a greeting and punctuation are set aside, it is one of the phrases
below in any of the common languages ("STOP", "Stop.", "Bitte abmelden", "Basta!"), or it states the
intent plainly ("please stop messaging me", "remove me from your list", "no me escriban más"). A
word inside a longer sentence is not ("don't stop the music", "para mañana", "I want to cancel my
booking"): a customer who writes that is talking about something else, and muting them would be the
worse mistake.
"""

from __future__ import annotations

import re
import unicodedata

# whole-message phrases, compared after normalise(); accents are kept off so "arrete" matches too
_WHOLE = {
    # English
    "stop",
    "stop it",
    "stop all",
    "stopall",
    "unsubscribe",
    "unsub",
    "opt out",
    "optout",
    "opt-out",
    "cancel",
    "end",
    "quit",
    "remove me",
    "no more",
    "no more messages",
    "leave me alone",
    # French
    "arrete",
    "arretez",
    "arrete s il vous plait",
    "arretez s il vous plait",
    "arrete svp",
    "arretez svp",
    "stop svp",
    "desabonner",
    "desabonnement",
    "desabonnez moi",
    "desinscrire",
    "desinscription",
    # Spanish / Portuguese / Italian
    "baja",
    "dar de baja",
    "darme de baja",
    "para",
    "pare",
    "parar",
    "basta",
    "cancelar",
    "desuscribir",
    "desuscribirme",
    "sair",
    "descadastrar",
    "cancelare",
    "disiscrivimi",
    # German / Dutch / Nordic
    "abmelden",
    "bitte abmelden",
    "stopp",
    "abbestellen",
    "austragen",
    "afmelden",
    "uitschrijven",
    "avsluta",
    "afmeld",
}
_GREETING = re.compile(
    r"^(?:(?:hi|hey|hello|hola|bonjour|salut|hallo|ciao|ola|oi|please|pls|plz|por favor|bitte|"
    r"s il vous plait|svp|thanks|thank you|ok|okay)\b[\s,]*)+"
)
_POLITE_TAIL = re.compile(r"(?:[\s,]*(?:please|pls|plz|thanks|thank you|now|por favor|bitte|svp|merci))+$")
# plain statements of the intent, searched anywhere in the normalised text
_INTENT = re.compile(
    r"\b(?:"
    r"(?:stop|quit|cease)\s+(?:messaging|texting|contacting|dming|dm ing|writing to|sending me|spamming)"
    r"|(?:don t|do not|never)\s+(?:message|contact|dm|text|write to)\s+me"
    r"|remove me from (?:your|all|the|this|these|any) (?:mailing )?lists?"
    r"|take me off (?:your|all|the|this) (?:mailing )?lists?"
    r"|unsubscribe me"
    r"|opt me out"
    r"|ne (?:plus )?me (?:contactez|contacter|ecrivez|ecrire) plus"
    r"|ne m ecrivez plus"
    r"|no me (?:escriban|escribas|contacten|contactes|manden|mandes) mas"
    r"|dejen de (?:escribirme|enviarme|contactarme)"
    r"|nao me (?:envie|enviem|mande|mandem|contate) mais"
    r"|schreiben sie mir nicht mehr"
    r"|keine nachrichten mehr"
    r")\b"
)


def normalise(text: str) -> str:
    """Lower case, accents off, punctuation as spaces, spaces collapsed."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    combining = unicodedata.combining
    bare = folded if folded.isascii() else "".join([ch for ch in folded if not combining(ch)])
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


def is_opt_out(text: str) -> bool:
    """Whether a DM asks to hear no more from the account."""
    norm = normalise(text)
    if not norm or len(norm) > 200:
        return False
    core = _POLITE_TAIL.sub("", _GREETING.sub("", norm)).strip()
    if core in _WHOLE or norm in _WHOLE:
        return True
    return _INTENT.search(norm) is not None
