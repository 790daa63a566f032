"""Identifiers announced by a label, in English, Spanish, French, German, Portuguese and Italian.

"member number SW 448 219 073", "Donor ID 1002-30418", "NHS-Nummer 485 777 3456", "CPF 123.456.789-09",
"número de cliente BW-00731945", "card ending 7734", "username is kmorrow_travels", "password Tulip2019!".
The label says what the value is, so a value is reported under the label's kind and is not read again
as a phone or card number. A value needs at least four digits (or, for usernames and credentials, the
shape of one) so that "ward 6" or "class of '67" are not identifiers.
"""

from __future__ import annotations

import re

from flockdesk.triage.fastre import compile_fast
from flockdesk.triage.pii.finding import Finding

_I = re.IGNORECASE

_GOV = (
    r"ssn|social security(?: number| no\.?)?|ni number|national insurance(?: number)?|nino|nhs(?:[- ]?(?:number|no\.?|"
    r"nummer|nr\.?))?|passport(?: number| no\.?)?|passeport|pasaporte|passaporte|passaporto|reisepass(?:nummer)?|"
    r"(?:provisional |driving |driver'?s? )?licen[cs]e(?: number| no\.?)?|führerschein(?:nummer)?|dni|nie|nif|cpf|"
    r"codice fiscale|utr|ktn|known traveller number|tax id|national id(?: number)?|id card(?: number)?|"
    r"carte d'identité|numéro de sécurité sociale|personalausweis(?:nummer)?|steuer-?id|"
    r"documento de identidad|carta d'identità|nº de identidad|rg|cartão de cidadão|bsn|paspoortnummer|"
    r"burgerservicenummer"
)
_ACCOUNT = (
    r"(?:customer|client|member(?:ship)?|miles|rewards?|loyalty|frequent flyer|donor|supporter|patient|hospital|"
    r"library card|library|student|applicant|alumni|employee|tenancy|council tax|rent card|online banking|"
    r"business|sticker|clinic|policy|account|acct|a/c)(?:\s+(?:account\s+)?(?:numbers?|no\.?|nr\.?|#|num|ids?|ref|"
    r"reference))?|account|acct|a/c|mrn|sort code|routing(?: number)?|iban|(?-i:ID)|"
    r"carte (?:de )?(?:biblioth[èe]que|fid[ée]lit[ée]|membre|adh[ée]rent)|tarjeta (?:de )?(?:socio|biblioteca|fidelidad)|"
    r"cart[ãa]o (?:de )?(?:s[óo]cio|fidelidade|biblioteca)|tessera (?:della )?(?:biblioteca|socio|fedelt[àa])|"
    r"bibliotheksausweis|kundenkarte|mitgliedsausweis|clubcard|nectar card|"
    r"n[úu]mero de (?:cliente|socio|sócio|exalumno|paciente|doador|donante|estudiante|conta|cuenta|matr[íi]cula)|"
    r"n[ºo°]\.? de (?:cliente|conta|cuenta|socio)|cuenta|conta|compte|num[ée]ro (?:client|d'adh[ée]rent|"
    r"[ée]tudiant|de compte|patient|de patient|d'adh[ée]rent|(?:de )?donat(?:eur|rice))|n° client|"
    r"konto(?:nummer)?|kundennummer|mitgliedsnummer|spendernummer|patientennummer|studierendennummer|"
    r"matrikelnummer|bankleitzahl|conto|numero (?:cliente|di conto|di matricola|paziente|socio|tessera)|"
    r"codice cliente|matricola|matr[íi]cula|tessera|klantnummer|rekeningnummer|lidnummer|studentnummer|"
    r"patiëntnummer|donateursnummer"
)
_ORDER = (
    r"(?:order|booking|confirmation|reservation|case|ticket|tracking|application|claim|invoice|parcel|shipment|"
    r"complaint|incident|fine|penalty charge|receipt|bag|baggage|luggage|agreement|transaction|transfer)(?:\s+(?:numbers?|nos\.?|no\.?|num|ids?|codes?|"
    r"references?|refs?|tag))?|pnr|pcn|reference|ref\.?|tag|"
    r"referencia(?: de (?:la )?(?:operaci[óo]n|transferencia|pago|reserva))?|refer[êe]ncia(?: do pagamento| da reserva)?|"
    r"n[úu]mero de (?:operaci[óo]n|referencia)|(?:id |n\. )?domanda|boekingscode|bestelling|bestelnr\.?|"
    r"localizador|reserva|pedido|n[úu]mero de (?:pedido|reserva|seguimiento|encomenda|protocolo|pratica)|"
    r"etiqueta|encomenda|protocolo|commande|n[°ºo]\.? de commande|r[ée]f[ée]rence(?: de r[ée]servation)?|"
    r"r[ée]f\.?(?: de r[ée]servation)?|r[ée]servation|dossier|num[ée]ro de suivi|"
    r"bestell(?:nummer|nr\.?)|buchungs(?:nummer|code)|auftragsnummer|sendungsnummer|vorgangsnummer|"
    r"aktenzeichen|referenz(?:nummer)?|ordine|n(?:umero|\.) (?:d'ordine|ordine)|prenotazione|pratica|"
    r"codice di prenotazione|riferimento|spedizione|bestelnummer|boekingsnummer|reserveringsnummer|"
    r"ordernummer|zaaknummer|kenmerk"
)
# words that may sit between the label and the value: "is", "was", "number", "ends", ":" ...
_GLUE = (
    r"(?:\s*(?:[:#=(]|-(?=\s))\s*|\s+(?:is|was|are|es|era|est|était|ist|war|é|è|era|:)\s+|\s+)"
    r"(?:(?:is|was|es|est|ist|é|è|lautet|number|no\.?|nr\.?|n[º°]\.?|n\.|again|here|now|on file|on the account)"
    r"(?:\s*[:#]\s*|\s+))?"
)
# an identifier: uppercase letters and digits, parts joined by . / - or spaces between digit groups
_VALUE = r"(?<![\w/])((?-i:(?:[A-Z]{1,5} )?[A-Z0-9]+(?:[./-][A-Z0-9]+)*(?: \d+(?:[./-]?[A-Z0-9]+)*){0,4}))(?![\w@])"
_LABELLED = compile_fast(
    rf"\b(?:(?P<gov>{_GOV})|(?P<acct>{_ACCOUNT})|(?P<order>{_ORDER})){_GLUE}{_VALUE}",
    _I,
)
# Where a label can start, found on the lowered text (a fast scan); the full pattern is tried only there.
_LABEL_START = compile_fast(
    r"\b(?:" + _GOV + "|" + _ACCOUNT.replace("(?-i:ID)", "id") + "|" + _ORDER + ")",
)
# an IBAN written in groups ("ES91 2100 0418 4502 0005 1332"), also one whose check digits are wrong
_IBAN_SHAPE = compile_fast(r"\b[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){3,7}(?: [A-Z0-9]{1,4})?\b")
_CPF = compile_fast(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?!\d|\.\d)")
_NHS = compile_fast(r"\bnhs\b", _I)

# a partial identifier: "card ending 7734", "account ends 2207", "Last 4 of the debit card are 0417"
_PARTIAL = compile_fast(
    r"\b(?:(?P<card>card|visa|mastercard|amex|carte|tarjeta|cart[ãa]o|karte|carta)|"
    r"(?P<acct>account|acct|conta|cuenta|compte|konto|conto|direct debit))"
    r"(?:\s+(?:on file|number|no\.?))?\s*(?:\(?\s*)"
    r"(?:ending(?: in| with)?|ends(?: in| with)?|ends…?|se termine par|termina(?:ndo)? (?:en|em|con|in)|"
    r"endet (?:auf|mit)|finisce (?:con|per)|que termina en|final)\s*:?\s*(\d{4})\b|"
    r"\b(?P<any>ending|ends|acabada en|terminada en|se terminant par|termin(?:ante|a) (?:in|con))\s+(\d{4})\b|"
    r"\blast (?:4|four)(?: digits)?(?: of (?:the|my) (?:\w+ )?(?P<card2>card)| of (?:my |the )?account)?"
    r"\s+(?:are|is|:)?\s*(\d{4})\b",
    _I,
)
# usernames and logins: a portal username is an account identifier
_USER = compile_fast(
    r"\b(?:user ?name|user id|login(?: is)?|log-in|usuario|usuário|utilizador|utente|nome utente|"
    r"identifiant|benutzername|nom d'utilisateur|for user|für|account|conta|cuenta|compte)(?:\s+for(?: \w+){1,3})?(\s+(?:is|es|é|è|est|ist)\b|\s*:)?\s*"
    r"(?!is\b|es\b|and\b|not\b|the\b|my\b|for\b)([A-Za-z][\w.-]*[\w](?:@[\w.-]+)?)",
    _I,
)
_USER_NOT = frozenset(
    {"page", "screen", "details", "issues", "problems", "button", "link", "email", "portal"}
)
# credentials: the value may follow the label with or without "is" / ":"
_CRED = compile_fast(
    r"\b(?:password|passcode|passwd|pwd|pin(?: code| number)?|security (?:answer|pin|code)|memorable word|"
    r"one[- ]time (?:code|password|passcode)|otp(?: code)?|verification code|2fa code|auth(?:entication)? code|"
    r"pac(?: code)?|porting code|delivery code|cvv|cvc|api key|secret key|mother'?s maiden name|"
    r"contraseña|código de verificación|mot de passe|code pin|code de vérification|"
    r"passwort|(?:kunden)?kennwort|geheimzahl|senha|palavra-passe|codice (?:otp|pin)|wachtwoord|pincode)"
    r"(?:\s+(?:on file|for the \w+(?: \w+)?|da conta|de la cuenta|du compte|should be|was reset to|"
    r"that came|que me llegó por sms|me llegó|era|is now|new|should be|della sim|of the sim))*"
    r"(?:\s*(?:is|was|es|era|est|ist|é|è|lautet|:|=|-)\s*|\s+)['\"‘“(]?"
    r"(?!(?:is|was|and|or|the|a|an|to|it|that|for|but|reset|wrong|incorrect|expired|invalid|not|never|"
    r"changed|correct|again|too|being|field|box|email|link|code|text|sms|page|screen|still|doesn'?t|"
    r"didn'?t|won'?t|isn'?t|y|et|und|e|o|ou|de|di|du|la|le|el|a|para|pour|für|per)\b)"
    r"([\w!#$%&*+.?@^~-]{3,})",
    _I,
)
_SECRET_TOKEN = compile_fast(r"\b(?:sk|pk|tk|rk)_(?:live|test)_[A-Za-z0-9]{6,}")
_SAID = compile_fast(r"\s(?:is|was|es|era|est|ist|é|è|lautet|:|=)\s", _I)
_CRED_DIGITS = compile_fast(
    r"\b(?:one[- ]time code|code|código|codice|code)\b[^!?\n]{0,60}?(?<![\d+])(?<!\d )(\d{3}[ -]?\d{3})(?![ -]?\d)",
    _I,
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|(?:the\s+)?\d{1,2}(?:st|nd|rd|th|er|º)?\s+(?:of\s+|de\s+)?"
    r"[^\W\d_]{3,10}\.?,?\s+(?:de\s+)?\d{4}|[^\W\d_]{3,9}\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})"
)
_DOB = compile_fast(
    r"\b(?:dob|d\.o\.b\.?|date of birth|birth ?date|(?:birthday|b-?day)(?:['’]s|\s+is|\s*:)|born(?: on)?|fecha de nacimiento|"
    r"nacid[oa](?: el)?|naci[óo](?: el)?|nasceu(?: em| a)?|date de naissance|n[ée]e?(?: le)?|geburtsdatum|geb\.|geboren(?: am)?|"
    r"data de nascimento|nascid[oa](?: em| a)?|data di nascita|nat[oa](?: il)?|geboortedatum|geboren op)"
    r"[^.!?\n]{0,40}?(" + _DATE + r")",
    _I,
)
# the date a sentence later: "my date of birth doesn't match. It's 22.09.1990" (a full date, no digits between)
_DOB_FAR = compile_fast(
    r"\b(?:dob|d\.o\.b\.?|date of birth|birth ?date|fecha de nacimiento|date de naissance|geburtsdatum|"
    r"data de nascimento|data di nascita|geboortedatum)[^\d\n]{0,90}?"
    r"(?<![\d/.-])(\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d\d)(?![\d/.-]\d)",
    _I,
)
_DOB_HINTS = (
    "dob",
    "d.o.b",
    "birth",
    "born",
    "day",
    "naci",
    "naiss",
    "né",
    "nee",
    "geb",
    "nasc",
    "nat",
)  # geb: also Dutch


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def _label_matches(text: str) -> list[re.Match[str]]:
    """`_LABELLED.finditer(text)`, tried only where the fast scan saw a label start."""
    low = text.lower()
    if len(low) != len(text):  # a few characters lower to two: positions would not line up
        return list(_LABELLED.finditer(text))
    out: list[re.Match[str]] = []
    end = 0
    for c in _LABEL_START.finditer(low):
        if c.start() < end:
            continue
        m = _LABELLED.match(text, c.start())
        if m is not None:
            out.append(m)
            end = m.end()
    return out


def labelled(text: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _label_matches(text):
        value = m.group(4).rstrip(".-/ ")
        n = _digits(value)
        bare = value.replace("-", "")
        pnr = m.group("order") and 5 <= len(bare) <= 8 and bare.isalnum() and 0 < n < len(bare)
        if n < 4 and not pnr:
            continue
        kind = "government_id" if m.group("gov") else "account_number" if m.group("acct") else "order_number"
        out.append(Finding(kind, m.start(4), m.start(4) + len(value)))
    out.extend(Finding("government_id", m.start(), m.end()) for m in _CPF.finditer(text))
    out.extend(Finding("account_number", m.start(), m.end()) for m in _IBAN_SHAPE.finditer(text))
    for m in _PARTIAL.finditer(text):
        if m.group(3):
            kind = "payment_card" if m.group("card") else "account_number"
            out.append(Finding(kind, m.start(3), m.end(3)))
        elif m.group(5) is not None and m.group("any"):
            near = text[max(0, m.start() - 40) : m.start()].lower()
            card = any(w in near for w in ("card", "tarjeta", "carte", "cart", "karte", "carta"))
            out.append(Finding("payment_card" if card else "account_number", m.start(5), m.end(5)))
        elif m.group(7):
            kind = (
                "account_number"
                if "account" in m.group(0).lower() and not m.group("card2")
                else "payment_card"
            )
            out.append(Finding(kind, m.start(7), m.end(7)))
    return out


def usernames(text: str) -> list[Finding]:
    out = []
    for m in _USER.finditer(text):
        value = m.group(2)
        shaped = any(c.isdigit() or c in "._" for c in value)
        named = (
            m.group(0)
            .lower()
            .startswith(("user", "login", "usu", "utiliz", "utente", "nome", "ident", "benutz", "nom"))
        )
        if value.lower() in _USER_NOT or len(value) < 4 or not (shaped or (m.group(1) and named)):
            continue
        if "@" in value:
            continue  # an email address: the email detector reports it
        out.append(Finding("account_number", m.start(2), m.end(2)))
    return out


def credentials(text: str) -> list[Finding]:
    out = []
    for m in _CRED.finditer(text):
        value = m.group(1)
        glued = text[m.start(1) - 1] in "'\"‘“(:=" or _SAID.search(text, m.start(), m.start(1)) is not None
        if glued or any(not c.isalpha() for c in value):
            out.append(Finding("credential", m.start(1), m.end(1)))
    out.extend(Finding("credential", m.start(), m.end()) for m in _SECRET_TOKEN.finditer(text))
    out.extend(Finding("credential", m.start(1), m.end(1)) for m in _CRED_DIGITS.finditer(text))
    return out


def dates_of_birth(text: str) -> list[Finding]:
    low = text.lower()
    if not any(h in low for h in _DOB_HINTS):
        return []
    out = [Finding("date_of_birth", m.start(1), m.end(1)) for m in _DOB.finditer(text)]
    out += [Finding("date_of_birth", m.start(1), m.end(1)) for m in _DOB_FAR.finditer(text)]
    return out


def nhs_numbers(text: str) -> list[Finding]:
    """NHS numbers (3-3-4 digits with a mod-11 check digit) near the word NHS."""
    if _NHS.search(text) is None:
        return []
    out = []
    for m in re.finditer(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)", text):
        out.append(Finding("government_id", m.start(), m.end()))
    return out


# A label and its value a few words apart: "passport wrong, its 548213907", "Reference on my statement is
# FL-887213", "card PIN (it's 1957", "supporter ID on the letter is KT-0099187", "PIN della SIM era 4821".
# Between them: no digits, no new line, no phone or email word (those numbers are someone's contact).
_NEAR_LABEL = compile_fast(
    r"\b(?:(?P<gov>passport|passeport|pasaporte|passaporte|passaporto|reisepass|licen[cs]e|"
    r"national insurance|ni number|nhs|ssn|social security|cpf|dni|nie|nif|codice fiscale)|"
    r"(?P<acct>(?:account|member(?:ship)?|miles|rewards?|loyalty|donor|supporter|patient|library|student|"
    r"customer|tenancy|rent card|council tax)(?: card)?(?: numbers?| ids?| no\.?)?|kundennummer|mitgliedsnummer)|"
    r"(?P<order>(?:order|booking|confirmation|reservation|case|ticket|tracking|application|claim|agreement|"
    r"transaction|reference|ref)(?: numbers?| refs?| codes?| no\.?)?|referencia|refer[êe]ncia|localizador|"
    r"r[ée]f[ée]rence|bestellnummer|buchungsnummer|prenotazione)|"
    r"(?P<cred>pin|password|passcode|security answer|memorable word|contraseña|mot de passe|passwort|"
    r"kennwort|senha|codice pin|pincode|wachtwoord))\b"
    r"(?P<gap>[^\d\n@]{0,60}?)"
    r"(?:\b(?P<intro>it'?s|its|it is|is|was|number(?: is)?|says|es|era|é|è|est|ist|lautet)\s*[:(]?\s*|:\s*|\(\s*)"
    r"['\"‘“]?(?P<value>(?-i:[A-Z0-9][A-Z0-9-]*\d[A-Z0-9-]*(?: \d+){0,4}))(?![\w@])",
    _I,
)
_NEAR_STOP = compile_fast(
    r"\b(?:phone|mobile|call|ring|text|tel|whatsapp|email|e-mail|móvil|movil|celular|telemóvel|telefone|"
    r"teléfono|téléphone|portable|handy|telefon|cellulare|numero di telefono|linha|línea|ligne|linea|reading|"
    r"meter|price|cost|total|amount)\b",
    _I,
)
_YEAR = compile_fast(r"(?:19|20)\d\d")


def near_labelled(text: str) -> list[Finding]:
    best: dict[tuple[int, int], tuple[int, str]] = {}  # value span -> (label start, kind): nearest label wins
    pos = 0
    while (m := _NEAR_LABEL.search(text, pos)) is not None:
        pos = m.start() + 1
        gap = m.group("gap")
        if _NEAR_STOP.search(gap) is not None or "email" in gap.lower():
            continue
        crossed = any(c in gap for c in ".!?")
        if crossed and not (m.group("intro") or "").lower().startswith(("it", "number", "says")):
            continue
        value = m.group("value").rstrip("-")
        n = _digits(value)
        if m.group("cred"):
            if n < 4 or "?" in gap:
                continue
            kind = "credential"
        else:
            if n < 4 or (n == 4 and _YEAR.fullmatch(value)):
                continue
            kind = (
                "government_id" if m.group("gov") else "account_number" if m.group("acct") else "order_number"
            )
        span = (m.start("value"), m.start("value") + len(value))
        if span not in best or best[span][0] < m.start():
            best[span] = (m.start(), kind)
    return [Finding(kind, a, b) for (a, b), (_, kind) in best.items()]
