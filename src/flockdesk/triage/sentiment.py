"""Sentiment: VADER (a social-media lexicon) plus Flockdesk's care lexicon and phrase cues.

`sentiment(text)` returns the label and an adjusted compound score in [-1, 1]. The thresholds were
chosen on TweetEval's validation split (never its test split; see docs/triage.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from flockdesk.triage.fastre import compile_fast
from flockdesk.triage.intent import praise_word, resolved_story

# Chosen on TweetEval sentiment *validation* (bench/triage_eval.py --tune); see docs/triage.md.
NEG_THRESHOLD = -0.10
POS_THRESHOLD = 0.45

_NEG_CUES = compile_fast(
    r"\b(?:still (?:waiting|no|not|haven'?t|hasn'?t|can'?t|doesn'?t)|no (?:response|reply|answer|one (?:has|"
    r"is)|help)|"
    r"(?:not|isn'?t|aren'?t|wasn'?t|never|doesn'?t|don'?t|won'?t|can'?t|cannot|didn'?t) (?:work(?:ing|s)?|"
    r"arrived?|"
    r"load(?:ing)?|respond(?:ing|ed)?|connect(?:ing)?|received?|delivered|help(?:ful|ing)?|fixed|happy|"
    r"impressed|"
    r"refunded|turn(?:ing)? on)|"
    r"charged (?:me )?twice|on hold|for (?:hours|days|weeks|ages)|again\?|keeps? (?:crashing|dropping|"
    r"failing|freezing)|"
    r"worst|fix (?:this|it|your)|sort (?:this|it) out|what a joke|are you (?:kidding|serious)|"
    r"thanks for nothing|"
    r"so much for|yet again|another \w+ (?:delay|outage|cancell?ation)|#fail|#epicfail|#nothappy|"
    r"#disappointed|(?:nobody|no one|no-one) (?:answer|repl|respond|call|help|care)\w*|"
    r"(?:for|been|waiting) \d+\+? (?:hours|hrs|days|weeks)|never (?:flying|fly|buying|using|ordering|going back)"
    r"\b.{0,25}\bagain|(?:hangs?|hung) up on|copy (?:and )?past\w*|only cares? about|"
    r"(?:please|pls|plz|someone|somebody) (?:help|call|answer|respond)\b(?! (?:me )?(?:find|choose|pick|decide)))\b",
    0,
)
# Idioms VADER reads backwards (a negation before a positive or a negative word): clearly positive.
_POS_IDIOMS = compile_fast(
    r"\b(?:(?:couldn'?t|could not) (?:be happier|ask for (?:more|better))|(?:can'?t|cannot) (?:complain|fault|"
    r"recommend \w+ enough|go wrong|beat)|no complaints|never disappoints?|(?:didn'?t|did not|doesn'?t) "
    r"disappoint|no (?:problems|issues) at all|not disappointed|never (?:been|felt) (?:better|happier))\b"
)
_POS_IDIOM_SHIFT = 0.6
_NEG_EMOJI = compile_fast("[🙄😤😒🤬😡💢👎]")
_RESOLVED_PRAISE = 0.45
_POS_CUES = compile_fast(
    r"\b(?:can'?t wait|cannot wait|thank (?:you|u)|thanks (?:so much|a lot|again)|"
    r"well done|"
    r"great job|big up|hats off|made my day)\b",
    0,
)
_SARCASM = compile_fast(
    r"#sarcasm|\b(?:yeah right|just what i needed|just great|oh great|great,? (?:just|"
    r"another)|"
    r"thanks a lot\b.*(?:not|never|still|again)|love (?:it )?when (?:my|your|the|"
    r"you))\b",
    0,
)


@dataclass(frozen=True, slots=True)
class SentimentScore:
    label: str  # negative | neutral | positive
    compound: float  # adjusted, in [-1, 1]
    vader: float  # VADER's own compound


@lru_cache(maxsize=1)
def analyzer() -> SentimentIntensityAnalyzer:
    """VADER with the care lexicon merged in (built once per process)."""
    sia = SentimentIntensityAnalyzer()
    path = resources.files("flockdesk.triage").joinpath("data/lexicon_care.json")
    data = json.loads(path.read_text("utf-8"))
    sia.lexicon.update({k: float(v) for k, v in data["words"].items()})
    return sia


def vader_compound(text: str) -> float:
    """VADER's compound score with the stock lexicon (the baseline)."""
    return float(_stock().polarity_scores(text)["compound"])


@lru_cache(maxsize=1)
def _stock() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def label_for(compound: float, neg: float = NEG_THRESHOLD, pos: float = POS_THRESHOLD) -> str:
    if compound <= neg:
        return "negative"
    if compound >= pos:
        return "positive"
    return "neutral"


_ELONGATED = compile_fast(r"\b[^\W\d_]*([^\W\d_])\1\1[^\W\d_]*\b")
_TRIPLE = compile_fast(r"([^\W\d_])\1{2,}")


def normalise_elongations(text: str) -> str:
    """'sooo baaad' -> 'so bad', 'goooood' -> 'good': the variant VADER's lexicon knows, if any."""
    lex = analyzer().lexicon

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        two = _TRIPLE.sub(r"\1\1", low)
        one = _TRIPLE.sub(r"\1", low)
        for cand in (two, one):
            if cand in lex:
                return cand.upper() if word.isupper() else cand
        return word

    return _ELONGATED.sub(fix, text)


def _adjusted(base: float, low: str) -> float:
    score = base
    negs = len(_NEG_CUES.findall(low))
    if negs:
        score -= 0.35 * negs
    if _NEG_EMOJI.search(low):
        score -= 0.35
    if _POS_CUES.search(low):
        score += 0.3
    if _POS_IDIOMS.search(low):
        score = max(score + _POS_IDIOM_SHIFT, _POS_IDIOM_SHIFT)
    if score < _RESOLVED_PRAISE and resolved_story(low) and praise_word(low):
        score = max(score, 0.0) + _RESOLVED_PRAISE
    if _SARCASM.search(low) and score > -0.2:
        score = -0.4 - 0.2 * max(0.0, score)
    return max(-1.0, min(1.0, score))


def sentiment(text: str) -> SentimentScore:
    """The label and the adjusted compound score (VADER + care lexicon + phrase cues + sarcasm)."""
    if _TRIPLE.search(text):
        text = normalise_elongations(text)
    if "😭" in text:  # tears of joy as often as of grief on social media: VADER reads it as grief only
        text = text.replace("😭", " ")
    if "#" in text:
        text = _HASHTAG.sub(_split_hashtag, text)
    base = float(analyzer().polarity_scores(text)["compound"])
    score = _adjusted(base, text.lower())
    return SentimentScore(label_for(score), score, base)


_HASHTAG = compile_fast(r"#(\w+)")
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def _split_hashtag(m: re.Match[str]) -> str:
    """'#NotHappy' -> '#NotHappy Not Happy' (the tag stays for the phrase cues)."""
    tag = m.group(1)
    parts = _CAMEL.findall(tag)
    if len(parts) < 2:
        return m.group(0)  # VADER already reads '#fail' as 'fail'
    return f"{m.group(0)} {' '.join(parts)}"


_LEX_TOKEN = compile_fast(r"[\w']+|[^\w\s]")


def lexicon_score(low: str) -> float:
    """Sum of the VADER + care lexicon valences of the words of a lowercased text (no rules: cheap).

    A signal for the triage model, which learns negation and context from the n-grams itself.
    """
    lex = analyzer().lexicon
    return float(sum(lex.get(w, 0.0) for w in _LEX_TOKEN.findall(low)))
