"""Urgency and influence: who must be answered first, and whose voice carries."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flockdesk.triage.fastre import compile_fast

_I = 0  # patterns are lowercase and run on lowered text (much faster than re.IGNORECASE)

_URGENT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "safety or health",
        compile_fast(
            r"\b(?:fire|smoke|burn(?:ed|ing|t)?|explod\w*|injur\w*|hurt (?:me|my|him|her)|bleeding|hospital|"
            r"ambulance|"
            r"food poisoning|poison\w*|choking|sick after|unsafe|dangerous|danger|"
            r"emergency|"
            r"carbon monoxide|gas leak|electric shock|sliced my|glass in|recall|stranded|trapped|"
            r"stuck in (?:the )?lift|"
            r"stuck in (?:the )?elevator|suicid\w*|self[- ]harm|check on (?:him|her|them|my \w+)|welfare check|"
            r"(?:isn'?t|is not|hasn'?t been|not) answering (?:his|her|their) phone|missing person)\b",
            _I,
        ),
    ),
    (
        "medical or accessibility need",
        compile_fast(
            r"\b(?:medication|medicine|insulin|inhaler|epipen|wheelchair|oxygen|allerg\w*|anaphyla\w*|"
            r"seizure|diabet\w*|pregnan\w*)\b",
            _I,
        ),
    ),
    (
        "outage now",
        compile_fast(
            r"\b(?:outage|is down|are down|went down|down again|(?:site|app|service|internet|wifi|network|"
            r"server)s? (?:is |are )?"
            r"(?:down|not working|offline)|no (?:power|internet|signal|service|water|heating)|can'?t (?:log ?in|"
            r"login|access) "
            r"(?:right now|at all)|not working (?:right )?now|error 5\d\d)\b",
            _I,
        ),
    ),
    (
        "travel today or tomorrow",
        compile_fast(
            r"\b(?:flight|flying|fly|train|boarding|check[- ]?in|gate|depart\w*|trip|travel\w*|bus|ferry|hotel|"
            r"cruise)\b"
            r".{0,60}\b(?:today|tonight|tomorrow|in (?:an? |\d+ )(?:hour|hours|minutes|mins)|this (?:morning|"
            r"afternoon|evening)|"
            r"right now|asap)\b|\b(?:today|tonight|tomorrow)\b.{0,60}\b(?:flight|flying|fly|train|boarding|gate|"
            r"trip|"
            r"cruise|hotel)\b|\bmissed (?:my|the) (?:flight|connection|train)\b|\bstranded\b",
            _I,
        ),
    ),
    (
        "fraud or hacked account",
        compile_fast(
            r"\b(?:hacked|hacker|fraud\w*|scam(?:med)?|stolen|unauthori[sz]ed|identity theft|phish\w*|"
            r"someone (?:used|is using|"
            r"accessed|logged into)|charges? i (?:didn'?t|did not) make|compromised|locked out)\b",
            _I,
        ),
    ),
    (
        "legal threat",
        compile_fast(
            r"\b(?:lawyer|attorney|solicitor|sue|suing|lawsuit|legal action|small claims|trading standards|"
            r"ombudsman|"
            r"regulator|ftc|fca|bbb|better business bureau|chargeback|report(?:ing)? you to)\b|"
            r"\b(?:in|to|into|see you in|take you to) (?:small claims )?court\b|\bcourt (?:case|date|order|action|"
            r"hearing)\b",
            _I,
        ),
    ),
    (
        "harassment",
        compile_fast(
            r"\b(?:harass\w*|threaten\w*|stalk\w*|abus(?:e|ive|ing)|doxx\w*|bully\w*|death threats?|racist|"
            r"sexist|"
            r"discriminat\w*|assault\w*|report (?:something|an incident|what happened)|"
            r"something (?:that )?happened (?:to me|at))\b",
            _I,
        ),
    ),
    (
        "journalist deadline",
        compile_fast(
            r"\b(?:on deadline|my deadline|deadline (?:is|at|today|tonight)|for (?:a|my|an upcoming) (?:story|"
            r"article|piece|"
            r"report)|request for comment|comment for|writing (?:a|an) (?:story|piece|article)|press enquiry|"
            r"media enquiry|"
            r"press inquiry|media inquiry|(?:working on|writing) (?:a |an )?(?:story|piece|article|report)|"
            r"(?:i'?m|we'?re) reporting (?:about|on)|press (?:office|team) (?:to )?comment|"
            r"comment (?:by|before) \d|need (?:a|your) comment|(?:quick|short) interview)\b",
            _I,
        ),
    ),
)

# Words for "now / today / tomorrow" in the corpus's languages (the time-critical rules below read them).
_SOON_WORDS = (
    r"today|tonight|tomorrow|this (?:morning|afternoon|evening|saturday|sunday|weekend)|in (?:an? |\d+ )"
    r"(?:hour|hours|hrs|minutes|mins)|by \d{1,2}(?::\d\d)? ?(?:am|pm)|at \d{1,2}(?::\d\d)? ?(?:am|pm)|"
    r"hoy|mañana|manana|esta noche|aujourd'hui|demain|ce soir|heute|morgen|hoje|amanhã|amanha|esta noite|"
    r"oggi|domani|stasera|stanotte|vandaag|vanavond|às \d{1,2}h|a las \d{1,2}|alle \d{1,2}|um \d{1,2} uhr"
)
# Safety said in plain words, in the corpus's languages (the keyword rule above misses these).
_URGENT_PLAIN: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "safety (plain words)",
        compile_fast(
            r"\b(?:smell(?:s|ing)? (?:of )?gas|gas smell|chemical smell|evacuat\w*|(?:don'?t|do not) feel safe|"
            r"not safe|threat\w*|collapsed|unconscious|can'?t breathe|not breathing|chest pain|overdose|"
            r"flood\w*|pouring (?:in|through)|coming through the ceiling|live wires?|exposed wires?|"
            r"(?:cable|wire|line)s? (?:hanging|down|low)|left alone|on (?:his|her|their) own|no heating|"
            r"heating (?:is )?(?:off|broken|not working)|freezing|waters? broke|contractions|"
            r"huele a gas|olor a gas|odeur de gaz|sent le gaz|gasgeruch|nach gas|cheiro de g[áa]s|odore di gas|"
            r"gaslucht|inundaci\w+|inond\w*|überschwemm\w*|alagad\w*|allagat\w*|keine heizung|sin calefacci[óo]n|"
            r"pas de chauffage|sem aquecimento|senza riscaldamento|geen verwarming|friert|evacuad\w*|[ée]vacu\w*|"
            r"evakuier\w*|evacuat\w*|j'ai peur|tengo miedo|habe angst|tenho medo|ho paura|ik ben bang|"
            r"desmay\w*|évanoui\w*|ohnmächtig|desmaiou|svenut\w*|perdeu l[íi]quido|rompi[óo] (?:la )?aguas|"
            r"perdu les eaux|fruchtblase|rotto le acque|contracciones|wehen|contrações|contrazioni)\b",
            _I,
        ),
    ),
    (
        "due today or tomorrow",
        compile_fast(
            r"\b(?:deadline|due|closes?|closing|expires?|last day|cut-?off|exam|interview|appointment|surgery|"
            r"operation|wedding|funeral|rent|filing|event|frist|fällig|plazo|vence|cierra|examen|date limite|"
            r"échéance|rendez-vous|prazo|fecha|matr[íi]cula|prova|scadenza|scade|esame|entro|termijn|tentamen|"
            r"fatture da mandare|consegna)\b[^.!?\n]{0,60}?\b(?:" + _SOON_WORDS + r")\b|"
            r"\b(?:" + _SOON_WORDS + r")\b[^.!?\n]{0,60}?\b(?:deadline|due|closes?|exam|interview|"
            r"appointment|surgery|operation|wedding|funeral|rent|event|frist|plazo|examen|prazo|esame|scadenza|"
            r"tentamen)\b|\bfiling (?:today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday)\b|"
            r"\b(?:taxiing|boarding|landing|land) (?:now|in \d+)",
            _I,
        ),
    ),
    (
        "fraud (plain words)",
        compile_fast(
            r"\b(?:never (?:made|authori[sz]ed|signed|upgraded|ordered|booked|agreed|opened|applied)|"
            r"(?:don'?t|do not|didn'?t) recogni[sz]e|didn'?t (?:make|authori[sz]e|order|sign)|wasn'?t me|not me|"
            r"someone (?:changed|else|has)|(?:another|other) (?:company|person|customer)'?s|someone else'?s|"
            r"suspicious|no reconozco|no he hecho|je ne reconnais pas|n'ai (?:jamais|pas) (?:fait|command)|"
            r"nicht (?:erkannt|autorisiert|bestellt)|habe ich nie|não reconheço|não fiz|nunca fiz|"
            r"non riconosco|non ho (?:mai )?fatto|attivit[àa] sospetta|actividad sospechosa|activit[ée] suspecte|"
            r"verdächtig\w*|atividade suspeita|fraude|betrug|truffa|golpe|estafa|arnaque|oplichting|gehackt|"
            r"hackead[oa]|pirat[ée]|hackerat[oa]|bloccat[oa] l'account|cuenta bloqueada|compte bloqu[ée]|"
            r"konto gesperrt|conta bloqueada)\b",
            _I,
        ),
    ),
    (
        "service loss now",
        compile_fast(
            r"\b(?:no (?:power|electricity|water|hot water|heating|internet|signal|service|gas)|"
            r"(?:power|water|internet|signal|broadband|network|wifi) (?:is |has been )?(?:out|off|cut|gone)|"
            r"keine?n? (?:heizung|strom|internet|wasser|warmwasser|netz)|sin (?:luz|agua|internet|calefacci[óo]n|"
            r"se[ñn]al)|sans (?:[ée]lectricit[ée]|eau|internet|chauffage|r[ée]seau)|sem (?:luz|[áa]gua|internet|"
            r"sinal)|senza (?:luce|acqua|internet|corrente|rete)|fora do ar|caíd[oa]|en panne|ausgefallen|"
            r"geen (?:stroom|water|internet)|since (?:yesterday|last night|this morning|monday|tuesday|wednesday|"
            r"thursday|friday|saturday|sunday)|seit gestern|depuis (?:hier|ce matin)|desde (?:ayer|ontem)|"
            r"da ieri)\b",
            _I,
        ),
    ),
    (
        "spreading (in the text)",
        compile_fast(
            r"\b(?:\d[\d,.]*k? (?:shares|retweets|rts|reposts|likes|views|quote tweets|replies)|"
            r"(?:going|gone|went) viral|trending|everyone(?:'s| is) (?:sharing|talking)|"
            r"(?:this|the) thread has)\b",
            _I,
        ),
    ),
)

_MEDIA_BIO = compile_fast(
    r"\b(?:journalist|reporter|correspondent|editor|columnist|producer|anchor|newsroom|news|broadcaster|"
    r"podcast(?:er)?|"
    r"writer at|writes for|contributor|bbc|cnn|reuters|nyt|new york times|guardian|bloomberg|forbes|"
    r"techcrunch|"
    r"the verge|wired|wsj|washington post|associated press|\bap\b|press)\b",
    _I,
)
_PUBLIC_FIGURE_BIO = compile_fast(
    r"\b(?:mp|senator|congress(?:wo)?man|mayor|minister|councillor|governor|official account|ceo|founder|"
    r"author of|"
    r"bestselling|award[- ]winning|actor|actress|athlete|olympian|musician|singer|creator|influencer|"
    r"youtuber|"
    r"streamer|\d+(?:\.\d+)?[km] (?:followers|subscribers))\b",
    _I,
)

INFLUENCER_FOLLOWERS = 10_000
VERIFIED_MIN_FOLLOWERS = 1_000
MEDIA_MIN_FOLLOWERS = 500
SPREADING_ENGAGEMENT = 25  # retweets + replies + quotes on the message itself


@dataclass(frozen=True, slots=True)
class AuthorInfo:
    username: str = ""
    name: str = ""
    description: str = ""
    followers_count: int = 0
    verified: bool = False


# Travel or a medical need counts when it is now or soon, not "next week" (unless today is also said).
_SOON = compile_fast(
    r"\b(?:today|tonight|tomorrow|now|asap|right away|this (?:morning|afternoon|evening)|in (?:an? |\d+ )"
    r"(?:hour|hours|hrs|minutes|mins)|stuck|stranded|on board|onboard|at the (?:airport|gate)|ran out)\b",
    _I,
)
_LATER = compile_fast(
    r"\b(?:next (?:week|month|year|summer|winter|spring|fall|autumn|trip)|in (?:\w+ )?(?:weeks|months)|"
    r"later this (?:week|month|year)|last (?:time|week|month|year)|in (?:january|february|march|april|may|june|"
    r"july|august|september|october|november|december))\b",
    _I,
)
_CROWD = compile_fast(r"\b(?:anyone else|anybody else|who else|see you|can'?t wait)\b", _I)
_TIMED = ("travel today or tomorrow", "medical or accessibility need")


def urgent_reasons(text: str, *, engagement: int = 0, negative: bool = False) -> list[str]:
    low = text.lower()
    reasons = [why for why, rx in _URGENT_RULES if rx.search(low)]
    reasons += [why for why, rx in _URGENT_PLAIN if rx.search(low)]
    if any(r in _TIMED for r in reasons):
        later = _LATER.search(low) is not None and _SOON.search(low) is None
        crowd = not negative and _CROWD.search(low) is not None  # "anyone else on the flight tonight?"
        if later or crowd:
            reasons = [r for r in reasons if r not in _TIMED]
        elif "medical or accessibility need" in reasons and not negative and _SOON.search(low) is None:
            reasons.remove("medical or accessibility need")
    if negative and engagement >= SPREADING_ENGAGEMENT:
        reasons.append("complaint spreading")
    return reasons


def influencer_reasons(author: AuthorInfo | None) -> list[str]:
    if author is None:
        return []
    bio = f"{author.description} {author.name}".lower()
    out = []
    if author.followers_count >= INFLUENCER_FOLLOWERS:
        out.append(f"{_human(author.followers_count)} followers")
    if author.verified and author.followers_count >= VERIFIED_MIN_FOLLOWERS:
        out.append("verified")
    if _MEDIA_BIO.search(bio) and author.followers_count >= MEDIA_MIN_FOLLOWERS:
        out.append("media")
    elif _PUBLIC_FIGURE_BIO.search(bio) and (author.verified or author.followers_count >= 2_000):
        out.append("public figure")
    return out


def _human(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 1_000:
        return f"{n / 1_000:.0f}k"
    return str(n)
