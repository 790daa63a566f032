"""The guard for draft public replies: never ask for, nor expose, personal data in public."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from flockdesk.triage.fastre import compile_fast
from flockdesk.triage.sensitive import KINDS as SENSITIVE_KINDS
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


# What counts as personal data in a request, in the six languages of the corpus.
_DATA_NOUN_RX = (
    r"\b(?:e-?mails?(?: address)?|email address|phone|mobile|number|whatsapp|address|addresses|post ?code|"
    r"zip code|date of birth|dates of birth|dob|birthday|full name|surname|names?|passport|esta number|licen[cs]e|"
    r"reg|cpf|dni|nie|nif|nhs number|ni number|national insurance|ssn|iban|sort code|mpan|account|card|"
    r"last (?:4|four)(?: digits)?|pnr|booking (?:ref|reference|code)|reference|order|invoice ids?|student id|"
    r"password|pin|passcode|security (?:answer|question)|memorable word|code|vat number|frequent flyer|"
    r"correo|e-mail|tel[ée]fono|m[óo]vil|n[úu]mero|direcci[óo]n|localizador|pasaporte|fecha de nacimiento|"
    r"tarjeta|cuenta|contraseña|d[ií]gitos|adresse|num[ée]ro|date de naissance|mot de passe|carte|compte|"
    r"e-mail-adresse|nummer|kundennummer|buchungsnummer|bestellnummer|handynummer|geburtsdatum|passwort|"
    r"lieferadresse|mitgliedsnummer|national-insurance-nummer|morada|endere[çc]o|data de nascimento|"
    r"telem[óo]vel|senha|conta|c[óo]digo|cart[ãa]o|numero|indirizzo|codice|carta|matricola|data di nascita|"
    r"cifre|domanda di sicurezza|house)\b"
)
_DATA_NOUN = compile_fast(_DATA_NOUN_RX, _I)
# Where the answer would go: a public reply.
_PUBLIC = compile_fast(
    r"\b(?:reply|replies|respond|comment|post (?:it|them)|below|here|in a reply|in the thread|"
    r"aqu[ií]|por aqu[ií]|resp[óo]nde\w*|contesta\w*|comentario|ici|en r[ée]ponse|r[ée]pond\w*|hier|"
    r"antwort\w*|als antwort|aqui|responda|responde|escreva aqui|qui|qui sotto|rispondi|in risposta|scrivici)\b",
    _I,
)
# An ask: a question, or a verb that asks the customer to give something.
_ASK = compile_fast(
    r"\?|\b(?:reply|respond|tell|give|send|share|confirm|provide|post|drop|pop|add|include|let us know|need|"
    r"we'?ll need|can you|could you|what(?:'s| is| are)?|which|dinos|d[ií]nos|dime|ind[ií]canos|conf[ií]rmanos|"
    r"p[áa]sanos|d[ée]janos|necesitamos|donnez|envoyez|[ée]crivez|indiquez|confirmez|nennen|schicken|teilen|"
    r"geben|brauchen|passar|passe|manda|deixa|diga|diz|nos diga|informe|dicci|dici|mandaci|scrivi\w*|"
    r"servono|abbiamo bisogno|please|resp[óo]nde\w*|contesta\w*|r[ée]pondez|donner|antworten|responde|escreva|"
    r"rispondi)\b",
    _I,
)
_WARNING = compile_fast(
    r"\b(?:never|don'?t|do not|please don'?t|not here|rather than post\w*|instead of post\w*|won'?t ever|will never|nunca|no (?:compartas|publiques)|"
    r"jamais|ne (?:communiquez|partagez|donnez)|niemals|nie|teilen sie keine|nunca partilhe|não partilhe|"
    r"não compartilhe|mai|non (?:condividere|pubblicare))\b",
    _I,
)


_OFFLINE = compile_fast(
    r"\b(?:call us|ring us|phone us|email us|e-mail us|contact (?:us|our|the)|visit|in branch|in person|"
    r"ll[áa]m\w*|appelez|rufen sie|ligue|chiamaci|chiama)\b",
    _I,
)
_YOUR_DATA = compile_fast(
    r"\b(?:your|tu|tus|votre|vos|ihre[nm]?|seu|sua|teu|tua|tuo|vostro)\s+(?:\w+\s+){0,2}?"
    + _DATA_NOUN_RX[2:],
    _I,
)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?\n])\s+", text) if s.strip()]


def _asks_publicly(text: str) -> bool:
    sentences = _sentences(text)
    public_anywhere = any(_PUBLIC.search(x) and not _WARNING.search(x) for x in sentences)
    private_anywhere = _PRIVATE_CHANNEL.search(text) is not None or _OFFLINE.search(text) is not None
    for i, sentence in enumerate(sentences):
        if _WARNING.search(sentence) is not None:
            continue  # "never share your password here"
        private = _PRIVATE_CHANNEL.search(sentence) is not None
        public = _PUBLIC.search(sentence) is not None
        following = sentences[i + 1] if i + 1 < len(sentences) else ""
        # "send us a DM with your order number" (or the ask followed by "Please DM it to us") is the right way
        if _ask().search(sentence) is not None and (
            public or not (private or _PRIVATE_CHANNEL.search(following))
        ):
            return True
        if _DATA_NOUN.search(sentence) is None or _ASK.search(sentence) is None:
            continue
        # "DM us or reply here with ...": a public answer is still invited
        if public or (public_anywhere and not private):
            return True
        # "your frequent flyer number, please": with no other channel offered, the answer comes in public
        if not private_anywhere and _YOUR_DATA.search(sentence) is not None:
            return True
        if sentence.rstrip().endswith("?") and not private and not _PRIVATE_CHANNEL.search(following):
            return True
    return False


# an identifier with a letter prefix repeated back in a reply: "we've corrected the reading on BW-00442187"
_BARE_ID = compile_fast(r"\b[A-Z]{2,4}-\d{6,}\b")


def check_reply(text: str, org_contacts: Sequence[str] = ()) -> ReplyCheck:
    """Flag a public reply that asks for personal data in public or exposes it.

    `org_contacts` are the organisation's own public contact details (emails, phone numbers, street
    address, charity number): a reply may give them.
    """
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    kinds = sensitive_kinds(text, org_contacts)
    if "account_number" not in kinds and _BARE_ID.search(text):
        kinds = [k for k in SENSITIVE_KINDS if k in {*kinds, "account_number"}]
    asks = _asks_publicly(text)
    advice = []
    if asks:
        advice.append(ADVICE_ASK)
    if kinds:
        advice.append(ADVICE_EXPOSE.format(kinds=", ".join(kinds)))
    return ReplyCheck(asks, kinds, " ".join(advice) or ADVICE_OK)
