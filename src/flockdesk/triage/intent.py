"""Intent: rules and lexicons over the text (and the author, for spam).

One of complaint, question, request, praise, lead, feedback, spam, other. Checked in that order of
precedence: spam, complaint, lead, feedback, request, question, praise, other.
"""

from __future__ import annotations

import re

from flockdesk.triage.fastre import compile_fast

_I = 0  # patterns are lowercase and run on lowered text (much faster than re.IGNORECASE)

_SPAM = compile_fast(
    r"\b(?:crypto|bitcoin|btc|eth|nft|airdrop|forex|binary options|giveaway|free followers|get followers|"
    r"followers? (?:for|4) (?:free|cheap)|follow (?:me|back)|f4f|dm (?:me )?for (?:promo|collab|business)|"
    r"promo code|"
    r"onlyfans|click (?:here|the link|link in bio)|link in (?:my )?bio|earn \$?\d+|make \$?\d+[k]? (?:a|"
    r"per) (?:day|week)|"
    r"work from home and|investment opportunity|double your|guaranteed (?:returns|profit)|"
    r"(?:cheap|discount) (?:viagra|cialis|pills)|casino|betting tips|sugar daddy|claim your (?:prize|reward)|"
    r"you(?:'ve| have) won|wallet (?:recovery|validation)|seed phrase|recovery expert|hack(?:er)? for hire|"
    r"recover (?:your|lost) (?:funds|account)|contact (?:him|her|them) on (?:whatsapp|telegram|instagram)|"
    r"you'?ve been selected|claim (?:it )?(?:now|before|today)|\d+k? followers in \d+ days|cheap prices|"
    r"dm us your (?:\w+ ){0,3}(?:card|password|pin|bank)|process refunds in|"
    r"(?:essay|assignment|homework)s? (?:help|writing|writers)|help with (?:your )?(?:essays?|assignments?|homework)|"
    r"do your (?:assignments|homework|essays?)|a\+ guaranteed|100% original|luxury watch\w*|replica (?:watch|bag)\w*|"
    r"order now:? https?)\b",
    _I,
)
_LINK = compile_fast(r"https?://\S+|\bwww\.\S+", _I)
_HASHTAG = compile_fast(r"#\w+")

_PROBLEM = compile_fast(
    r"\b(?:not (?:work|load|connect|respond|receiv|deliver|turn|happy|impressed|acceptable|good enough)\w*|"
    r"(?:doesn'?t|does not|didn'?t|did not|won'?t|will not|can'?t|cannot|couldn'?t|isn'?t|wasn'?t|haven'?t|"
    r"hasn'?t|"
    r"never|still not|still haven'?t|still hasn'?t|unable to|no longer)\s+(?:\w+\s+){0,2}?"
    r"(?:work|load|open|connect|arriv|receiv|deliver|get|got|access|log|sign|play|show|charg|turn|refund|"
    r"respond|"
    r"answer|help|fix|sync|download|install|update|send|pay|use|find|print|hear|see|reach|start|boot|"
    r"come)\w*|"
    r"still (?:waiting|no|nothing|broken|down|not|haven'?t|hasn'?t|missing|charged)|stopped (?:work|show|"
    r"load|sync|charg)\w*|"
    r"keeps? (?:crash|drop|fail|freez|turn|restart|logg|disconnect|telling|asking|saying|cancel)\w*|"
    r"broken|broke|faulty|defective|damaged|crashed|crashing|frozen|freezes|glitch\w*|bug(?:gy)?|errors?|"
    r"outage|expired|half (?:full|empty)|filled with water|last time i (?:buy|use|fly|order)|"
    r"get your act together|what gives|act together|lacking|non[- ]?existent|stumped|#bad\w+|#\w*sucks|"
    r"#\w*fail\w*|not even|already (?:broke|have a hole|stopped)|a hole|hacked|stolen|fraud\w*|"
    r"down again|is down|went down|overcharged|charged (?:me )?twice|double charged|scam\w*|rip ?off|refund|"
    r"delay(?:ed|s)?|cancell?ed|lost my|missing|wrong (?:item|order|size|address|charge|amount)|late again|"
    r"on hold|no response|no reply|no answer|no one|nobody|ignored|ignoring|unacceptable|disappoint\w*|"
    r"frustrat\w*|annoy\w*|furious|worst|terrible|horrible|awful|pathetic|useless|ridiculous|rude|crap\w*|"
    r"shit\w*|sucks?|joke|disgrace\w*|appalling|shocking|nightmare|waste of|hours? (?:on|waiting)|"
    r"(?:days|weeks|months) (?:later|now|ago|and)|what happened|why (?:is|are|does|do|did|has|have|can'?t|"
    r"won'?t|isn'?t)|"
    r"fix (?:this|it|your)|sort (?:this|it) out|get (?:this|it) sorted|powering off|power(?:s|ed)? off|"
    r"issue|issues|problem|problems|trouble|complain\w*|#fail|#nothappy|#badservice|#neveragain|"
    r"where(?:'s| is| are) my|when (?:will|do|does|is) (?:i|my|we)\b.{0,30}\b(?:get|arrive|receive|come|back|"
    r"fixed)|"
    r"(?:died|dead|cracked|leaking|leaks|overheat\w*|freez\w*|slow(?:er)? than|randomly|disappeared|vanished|"
    r"wiped|declined|rejected|suspended|banned|blocked my|locked my)|"
    r"(?:didn'?t|never|did not) (?:show(?:ed)? up|turn(?:ed)? up|call(?:ed)? back|get back)|no[- ]show|"
    r"(?:waited|been waiting|waiting) (?:for |over |since |all )|not (?:charging|responding|arriving)|"
    r"(?:cold|stale|undercooked|raw|burnt) (?:food|fries|burger|pizza|coffee|meal)|short[- ]changed|"
    r"wrong (?:again|one|colour|color|product|bill|price)|still (?:broken|waiting|nothing|charging me)|"
    r"(?:poor|bad|awful|terrible|horrible|worst|lousy|crappy) (?:service|experience|quality|support|app|"
    r"product)|"
    r"disaster|shambles|a (?:black hole|maze|mess|joke)|hangs? up on|hung up on|copy (?:and )?past\w*|"
    r"canned (?:response|reply|answer)|(?:\d+(?:st|nd|rd|th)|second|third|fourth) (?:day|time|week) (?:asking|"
    r"now)|until (?:someone|somebody|anyone|you) (?:answers|replies|responds|helps)|without (?:fixing|a fix|"
    r"an answer|a reply|any (?:help|update|explanation)|a refund)|still (?:getting|cold|freezing|happening|"
    r"down|out|the same|an issue)|i (?:already )?tried that|tried that already|not in your (?:records|system)|"
    r"never (?:flying|fly|buying|using|shopping|ordering|going back|coming back)\b.{0,25}\bagain|"
    r"keeps? (?:calling|emailing|texting|messaging|sending|coming)|already paid|only cares? about|"
    r"(?:logged|kicked|locked) me out|(?:doesn'?t|does not) exist|raised (?:\w+ )?(?:prices|tuition|fees|rates) "
    r"again|"
    r"(?:hasn'?t|haven'?t|has not|have not|wasn'?t|was not) (?:been )?(?:applied|processed|credited|updated|"
    r"refunded|resolved|fixed))\b",
    _I,
)
_LEAD = compile_fast(
    r"\b(?:how much (?:is|are|does|do|for)|pric(?:e|es|ing)(?: plans?| list)?\b.{0,20}\?|what(?:'s| is|"
    r" are) (?:the|your) "
    r"(?:price|pricing|cost|rates?|fees?|plans?)|do you (?:sell|ship|deliver|offer|have) |"
    r"(?:want|wanna|looking|planning|thinking|hoping|going|would like|interested) (?:to )?(?:buy|purchase|"
    r"order|get|"
    r"sign up|subscribe|join|switch|upgrade|try|book)\b|interested in|sign(?:ing)? up for|free trial|trial|"
    r"(?:a|book a|schedule a|request a) demo|demo\b|quote for|get a quote|bulk order|wholesale|"
    r"(?:any|can (?:you|anyone)|who can|could (?:you|anyone)) recommend|recommendations? (?:for|on)|"
    r"(?:which|what) (?:\w+ ){0,2}should i (?:buy|get|choose|use|pick)|(?:best|good) \w+ for (?:a|my)\b.*\?|"
    r"partner(?:ship)? (?:with|opportunit)|collaborat(?:e|ion) with|sponsor(?:ship)?|affiliate program|"
    r"reseller|"
    r"where can i (?:buy|get|find)|in stock|back in stock|available in (?:my|\w+ )?size|pre-?order|"
    r"discount (?:for|code)|student discount|enterprise plan|"
    r"how (?:do|can|would) (?:i|we) (?:apply|enrol|enroll|register|sign up|join|become a (?:member|customer))|"
    r"what does (?:it|the \w+(?: \w+)?|a \w+|\w+) cost|how much does|what(?:'s| is) the cost|"
    r"(?:group|student|corporate|family|bulk|volume|education|nonprofit|charity) (?:rates?|discounts?|pricing|"
    r"bookings?|tickets?)|(?:thinking|thought) (?:about|of) (?:getting|buying|booking|joining|applying|"
    r"signing up|switching|ordering|subscribing)|considering (?:getting|buying|booking|joining|applying|"
    r"switching)|would (?:book|buy|sign up|subscribe|pay|order) (?:in a heartbeat|immediately|today|for)|"
    r"(?:want|plan|planning|hoping|going) to apply|i'?m applying)\b",
    _I,
)
_FEEDBACK = compile_fast(
    r"\b(?:you should|y'all should|u should|would be (?:nice|great|cool|awesome|helpful)|(?:it'?d|"
    r"it would) be "
    r"(?:nice|great|cool|good|better)|please add|pls add|feature request|suggestion|i suggest|i wish (?:you|"
    r"there|it)|"
    r"wish you (?:would|had|could)|why don'?t you|bring back|consider (?:adding|making)|petition for|"
    r"would love (?:to see|if)|could you (?:add|make|consider)|idea for|in the next update|wish (?:#?\w+ )?(?:had|offered|would))\b",
    _I,
)
_REQUEST = compile_fast(
    r"\b(?:please|pls|plz|can you|could you|would you|can u|could u|i need|i want|i'd like|i would like|"
    r"help me|help us|need help|need your help|kindly|cancel my|refund my|change my|update my|reset my|"
    r"unlock my|close my|reply (?:to )?my|check (?:my|your) dm|dm me|get back to me|call me|send me|"
    r"reactivate|unsubscribe|remove me|stop (?:sending|emailing|calling|messaging))\b|^\s*stop\W*$",
    _I,
)
_QUESTION = compile_fast(
    r"\?|^(?:@\w+\s+)*(?:how|what|when|where|why|who|which|is|are|do|does|did|can|could|will|would|should|"
    r"has|have)\b|"
    r"\b(?:does anyone know|anyone know|i wonder|wondering|any idea|any update|quick question)\b",
    _I,
)
_PRAISE = compile_fast(
    r"\b(?:thank|thanks|thx|ty|love|loving|loved|great|awesome|amazing|excellent|fantastic|brilliant|best|"
    r"kudos|shout ?out|props|well done|perfect|wonderful|outstanding|superb|appreciate|helpful|legend|"
    r"lifesaver|impressed|happy with|fab|brill|gorgeous|lovely|beautiful|comfy|incredible|smooth|not bad|"
    r"nailed it|well organi[sz]ed|proud|relieved|crisis averted)\b|[❤💙💕😍🥰👏🙌🙏]",
    _I,
)


_BOT_NAME = re.compile(r"[a-z]+\d{6,}")


def is_spam(text: str, *, username: str = "", description: str = "", followers_count: int = 0) -> bool:
    low = text.lower()
    if _SPAM.search(low):
        return True
    links = len(_LINK.findall(low)) if ("http" in low or "www." in low) else 0
    tags = low.count("#")
    if links >= 2 or tags >= 5:
        tags = len(_HASHTAG.findall(low)) if tags else 0
        words = max(1, len(text.split()))
        if links >= 3 or (links >= 2 and words < 12) or tags >= 8 or (tags >= 5 and tags * 2 >= words):
            return True
    if not links:
        return False
    bot_name = bool(_BOT_NAME.fullmatch(username.lower())) if username else False
    bio_spam = bool(_SPAM.search(description.lower())) if description else False
    return (bot_name and followers_count < 5) or bio_spam


def classify_intent(
    text: str,
    sentiment_label: str,
    *,
    username: str = "",
    description: str = "",
    followers_count: int = 0,
) -> str:
    if is_spam(text, username=username, description=description, followers_count=followers_count):
        return "spam"
    text = text.lower()
    found = _PROBLEM.findall(_NOT_A_PROBLEM.sub(" ", text) if _NOT_A_PROBLEM.search(text) else text)
    problems = [p for p in found if not _MILD.fullmatch(p)] if found else found
    mild = bool(found) and not problems  # only "can't find it": a complaint only when nothing else fits
    tail = _CONTRAST.split(text)[-1]  # "the crew was great but the app is a disaster": the part that counts
    praise = _PRAISE.search(tail) is not None
    if problems and praise and tail is text and resolved_story(text):
        return "praise"  # "lost my bag, found it, delivered it in 6 hours. Impressed."
    outweighed = sentiment_label == "positive" and praise and not _NEGATED_PRAISE.search(text)
    if len(problems) >= 2 or (problems and not outweighed):
        return "complaint"
    if sentiment_label == "negative" and not praise and _ADDRESSED.search(text):
        return "complaint"
    if _LEAD.search(text):
        return "lead"
    if mild and sentiment_label == "negative":
        return "complaint"
    if _FEEDBACK.search(text):
        return "feedback"
    if _REQUEST.search(text):
        return "request"
    if _QUESTION.search(text):
        return "question"
    if mild:
        return "complaint"
    if praise and sentiment_label != "negative":
        return "praise"
    return "other"


def praise_word(low: str) -> bool:
    return _PRAISE.search(low) is not None


def resolved_story(low: str) -> bool:
    """A problem told as solved ("found it and delivered it"), with nothing still going wrong."""
    return _RESOLVED.search(low) is not None and _ONGOING.search(low) is None


# Idioms that contain a problem word but say that all is well ("no problem", "never disappoints").
_NOT_A_PROBLEM = compile_fast(
    r"\b(?:no (?:problems?|issues?|complaints|trouble|delays?|errors?)|not (?:a|an|any) (?:problem|issue)|(?:never|didn'?t|doesn'?t|did not|does not|won'?t) "
    r"disappoint\w*|not disappointed|(?:couldn'?t|could not|can'?t|cannot) (?:be happier|beat|go wrong|"
    r"recommend \w+ enough|wait|fault)|(?:problem|issue)s? (?:solved|resolved|fixed|sorted)|"
    r"(?:solved|resolved|fixed|sorted) (?:my|the|this|that) (?:problem|issue)s?|"
    r"no (?:need|worries)|never (?:been|felt|looked) (?:better|happier))\b"
)
_MILD = compile_fast(r"(?:can'?t|cannot|couldn'?t|could not) (?:\w+\s+){0,2}?find\w*")
_CONTRAST = compile_fast(r"\b(?:but|however|though|although|except)\b")
_RESOLVED = compile_fast(
    r"\b(?:found (?:it|them|my)|got (?:it|them|my \w+) back|(?:fixed|sorted|solved|resolved) (?:it|this|that|"
    r"everything|the (?:issue|problem))|(?:sorted|fixed) (?:it )?out|delivered (?:it|them)|returned (?:it|them)|"
    r"replaced (?:it|them)|refunded me|rebooked me|crisis averted|problem solved|all good now|all sorted|"
    r"(?:works|working) (?:now|again|perfectly))\b"
)
_ONGOING = compile_fast(r"\b(?:still|again|but now|and now|now it'?s|yet|not (?:fixed|sorted|resolved))\b")
_NEGATED_PRAISE = compile_fast(
    r"\b(?:thanks for nothing|not (?:great|good|happy|impressed)|great,? (?:just|"
    r"another))\b",
    _I,
)
_ADDRESSED = compile_fast(r"@\w+|\b(?:my|your|you|i|we|customer service|support|staff|office)\b", _I)
