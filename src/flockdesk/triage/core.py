"""The full triage of one message: labels, priority and the reasons behind it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flockdesk.domain.types import Author, InboundItem
from flockdesk.triage.fastre import compile_fast
from flockdesk.triage.intent import classify_intent
from flockdesk.triage.lang import detect_lang
from flockdesk.triage.model import load_model, text_features
from flockdesk.triage.sensitive import sensitive_kinds
from flockdesk.triage.sentiment import lexicon_score
from flockdesk.triage.signals import AuthorInfo, influencer_reasons, urgent_reasons

# What needs account-specific or personal details to resolve (the seed's list: contact details, account
# or billing information, specific purchases, security questions), plus custom sales talk.
_PRIVATE_MATTER = compile_fast(
    r"\b(?:(?:my|our) (?:\w+ )?(?:account|acct|order|orders|booking|reservation|bill|billing|invoice|"
    r"payment|card|refund|subscription|plan|package|parcel|delivery|shipment|item|purchase|product|"
    r"password|login|profile|address|number|details|data|claim|policy|ticket|case|statement|balance|contract|"
    r"phone|iphone|router|modem|device|laptop|internet|wifi|broadband|connection|service|line|cable|"
    r"flight|seat|bag|bags|luggage|baggage|points|miles|rewards?|voucher|gift card|credit|fee|charges?)|"
    r"(?:refund|charged|overcharged|billing|invoice|double charged|charge on|hacked|locked out|"
    r"verification|verify my|security question|reset my|cancel(?:led)? my|close my|upgrade my|change my|"
    r"update my)|i (?:ordered|bought|paid|purchased|booked|was charged|got charged|signed up)|"
    r"where is my|haven'?t (?:received|got) my|never (?:received|got|arrived)|"
    r"(?:a|book a|schedule a) demo|custom (?:pricing|quote)|enterprise (?:plan|pricing)|quote for)\b",
)
# The same in the corpus's other languages: my order, my bill, a charge, a refund, my account, my booking.
_PRIVATE_MATTER_INTL = compile_fast(
    r"\b(?:mi (?:pedido|cuenta|factura|reserva|tarjeta|paquete|contrato|reembolso)|me (?:han )?cobra\w*|"
    r"cobr[oa]\w*|reembols\w*|devoluci[óo]n|factura\w*|"
    r"ma (?:commande|facture|r[ée]servation|carte|ligne)|mon (?:compte|colis|abonnement|remboursement|contrat|"
    r"forfait|billet)|d[ée]bit[ée]\w*|pr[ée]lev\w*|rembours\w*|factur\w*|"
    r"meine?r?n? (?:bestellung|rechnung|konto|buchung|karte|paket|vertrag|erstattung|abo)|abgebucht|"
    r"erstatt\w*|rechnung|lastschrift|"
    r"meu (?:pedido|cart[ãa]o|reembolso|contrato)|minha (?:conta|fatura|reserva|encomenda|linha)|"
    r"cobran[çc]a|cobrad[oa]|reembolso|estorno|fatura|"
    r"il mio (?:ordine|conto|rimborso|contratto|pacco|abbonamento)|la mia (?:prenotazione|carta|bolletta|"
    r"fattura)|addebit\w*|rimbors\w*|bolletta|fattura|"
    r"mijn (?:bestelling|rekening|account|boeking|pakket|abonnement)|afgeschreven|terugbetal\w*)\b"
)
# What a public answer solves: a device or app bug, an outage, a broken page (not the writer's own case).
_PUBLIC_FIX = compile_fast(
    r"\b(?:app|website|site|page|portal|form|update|browser|firefox|chrome|android|ios|iphone app|outage|"
    r"is down|are down|crash\w*|bug|glitch|error|won'?t load|not loading|plante|se cuelga|stürzt|abstürz\w*|"
    r"trava|si blocca|bloccat[oa] l'app|formulaire|formulario|formular|aplicaci[óo]n|appli|aplicativo)\b"
)
# A complaint or request about the writer's own case ("my", "me", "I") needs their details to resolve.
_PERSONAL = compile_fast(r"\b(?:my|me|i|i'm|i've|i'd|im|ive|mine|our|we|we're|us)\b")


@dataclass(slots=True)
class TriageResult:
    intent: str
    sentiment: str
    sensitive: list[str]
    move_to_dm: bool
    urgent: bool
    influencer: bool
    priority: float
    reasons: list[str] = field(default_factory=list)
    compound: float = 0.0
    lang: str = "und"

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "sentiment": self.sentiment,
            "sensitive": list(self.sensitive),
            "move_to_dm": self.move_to_dm,
            "urgent": self.urgent,
            "influencer": self.influencer,
            "priority": self.priority,
            "lang": self.lang,
        }


def author_info(author: Author | Mapping[str, Any] | None) -> AuthorInfo | None:
    """Accept the domain Author, a mapping like the CLI's JSON author, or None."""
    if author is None:
        return None
    if isinstance(author, Author):
        return AuthorInfo(
            author.username, author.name, author.bio, int(author.followers_count or 0), bool(author.verified)
        )
    if not isinstance(author, Mapping):
        raise TypeError("author must be a mapping or a flockdesk Author")
    followers = author.get("followers_count")
    if followers is None and isinstance(author.get("public_metrics"), Mapping):
        followers = author["public_metrics"].get("followers_count")
    return AuthorInfo(
        username=str(author.get("username") or ""),
        name=str(author.get("name") or ""),
        description=str(author.get("description") or author.get("bio") or ""),
        followers_count=_as_int(followers),
        verified=bool(author.get("verified") or False),
    )


def _as_int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True, slots=True)
class Signals:
    """What the rules find in a message: the model's signal features, and the reasons shown to agents."""

    lang: str
    text_features: list[str]
    features: list[str]
    kinds: list[str]
    urgent_why: list[str]
    compound: float


def rule_signals(
    text: str,
    *,
    channel: str | None = None,
    info: AuthorInfo | None = None,
    engagement: int = 0,
    lang: str | None = None,
    org_contacts: Sequence[str] = (),
) -> Signals:
    """The rules' findings for `text`, as named features for the model (shared with the build script)."""
    lang = detect_lang(text) if lang is None else lang
    low = text.lower()
    lex = lexicon_score(low)
    tone = "negative" if lex <= -1.0 else ("positive" if lex >= 1.5 else "neutral")
    rule_intent = classify_intent(
        text,
        tone,
        username=info.username if info else "",
        description=info.description if info else "",
        followers_count=info.followers_count if info else 0,
    )
    kinds = sensitive_kinds(text, org_contacts)
    urgent_why = urgent_reasons(text, engagement=engagement, negative=tone == "negative")
    feats = [f"§lang={lang}", f"§dm={channel == 'dm'}", f"§lexicon={tone}", f"§rule_intent={rule_intent}"]
    feats += [f"§sensitive={k}" for k in kinds]
    if kinds:
        feats.append("§sensitive")
    feats += [f"§urgent={why}" for why in urgent_why]
    if _PRIVATE_MATTER.search(low) is not None or _PRIVATE_MATTER_INTL.search(low) is not None:
        feats.append("§private_matter")
    if _PUBLIC_FIX.search(low) is not None:
        feats.append("§public_fix")
    if _PERSONAL.search(low) is not None:
        feats.append("§personal")
    compound = lex / math.sqrt(lex * lex + 15)  # VADER's normalisation to -1..1
    return Signals(lang, text_features(text), feats, kinds, urgent_why, compound)


def triage_message(
    text: str,
    *,
    channel: str | None = None,
    author: Author | Mapping[str, Any] | None = None,
    waiting_seconds: float = 0,
    engagement: int = 0,
    org_contacts: Sequence[str] = (),
) -> TriageResult:
    """Triage one message. `engagement` is retweets + replies + quotes of the message, when known;
    `org_contacts` are the organisation's own public contact details (not personal data)."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    info = author_info(author)
    sig = rule_signals(text, channel=channel, info=info, engagement=engagement, org_contacts=org_contacts)
    model = load_model()
    scores = model.scores(sig.text_features, sig.features)
    intent = model.decide(scores, "intent")
    model.add(scores, f"§intent={intent}")  # the joint heads read the predicted intent
    senti = model.decide(scores, "sentiment")
    # the numbers and addresses in a scam post are the scammer's, not a customer's personal data
    kinds = [] if intent == "spam" else sig.kinds
    is_dm = channel == "dm"
    move = (not is_dm) and move_gate(intent, bool(kinds), model.decide(scores, "move_to_dm") == "true")
    urgent = intent != "spam" and (model.decide(scores, "urgent") == "true" or rule_urgent(sig.urgent_why))
    urgent_why = (sig.urgent_why or ["time-critical"]) if urgent else []
    influence_why = influencer_reasons(info)
    priority, reasons = _priority(intent, senti, kinds, urgent_why, influence_why, waiting_seconds, move)
    return TriageResult(
        intent=intent,
        sentiment=senti,
        sensitive=kinds,
        move_to_dm=move,
        urgent=urgent,
        influencer=bool(influence_why),
        priority=priority,
        reasons=reasons,
        compound=sig.compound,
        lang=sig.lang,
    )


# Only these intents can need a private channel for their own sake (the label page: not praise, feedback,
# leads, spam or chit-chat); personal data already posted in public always calls for one.
MOVE_INTENTS = frozenset({"complaint", "question", "request"})


def move_gate(intent: str, has_sensitive: bool, model_says: bool) -> bool:
    """move_to_dm for a public message from the predicted intent, the sensitive kinds and the model head."""
    if intent == "spam":
        return False
    return has_sensitive or (intent in MOVE_INTENTS and model_says)


# Kinds of urgency the label page names outright and the rules find precisely; engagement is not in the
# corpus at all, so the model cannot learn a spreading complaint.
_RULE_URGENT = (
    "safety or health",
    "harassment",
    "legal threat",
    "journalist deadline",
    "spreading (in the text)",
)


def rule_urgent(why: Sequence[str]) -> bool:
    """Urgent by the rules alone, whatever the model says."""
    # "complaint spreading" is only given for a negative message with engagement >= SPREADING_ENGAGEMENT
    return any(w in _RULE_URGENT or w == "complaint spreading" for w in why)


_INTENT_WEIGHT = {
    "complaint": 0.14,
    "request": 0.10,
    "lead": 0.12,
    "question": 0.08,
    "feedback": 0.04,
    "praise": 0.02,
    "other": 0.0,
    "spam": 0.0,
}


def _priority(
    intent: str,
    senti: str,
    kinds: list[str],
    urgent_why: list[str],
    influence_why: list[str],
    waiting_seconds: float,
    move: bool,
) -> tuple[float, list[str]]:
    parts: list[tuple[float, str]] = []
    if urgent_why:
        parts.append((0.35, "urgent: " + ", ".join(urgent_why)))
    if influence_why:
        parts.append((0.15, "influencer: " + ", ".join(influence_why)))
    if intent != "other" and _INTENT_WEIGHT[intent]:
        parts.append((_INTENT_WEIGHT[intent], intent))
    if senti == "negative":
        parts.append((0.12, "negative sentiment"))
    if kinds:
        parts.append((0.06, "sensitive data in public" if move else "sensitive data"))
    wait = max(0.0, float(waiting_seconds or 0))
    if wait >= 60 and math.isfinite(wait):
        score = 0.18 * min(1.0, math.log1p(wait / 60) / math.log1p(24 * 60))
        parts.append((score, f"waiting {_duration(wait)}"))
    total = sum(w for w, _ in parts)
    if intent == "spam":
        total *= 0.1
        parts.append((1.0, "likely spam"))
    total = round(max(0.0, min(1.0, total)), 3)
    reasons = [why for _, why in sorted(parts, key=lambda p: -p[0])[:3]]
    return total, reasons


def _duration(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.0f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 60:.0f}m"


def _engagement(item: InboundItem) -> int:
    """How far a post travels: reposts, replies and quotes (likes do not spread it)."""
    e = item.engagement
    return 0 if e is None else e.reposts + e.replies + e.quotes


def triage_items(items: Sequence[InboundItem], *, org_contacts: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Label dicts (LABEL_KEYS) for newly stored inbound messages, in the order given; `org_contacts`
    are the account's own public contact details (not personal data)."""
    out = []
    for item in items:
        channel = "dm" if item.thread_kind == "dm" or item.channel == "dm" else item.channel
        res = triage_message(
            item.text or "",
            channel=channel,
            author=item.author,
            engagement=_engagement(item),
            org_contacts=org_contacts,
        )
        out.append(res.to_dict())
    return out
