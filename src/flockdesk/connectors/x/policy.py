"""X's 2026 rules for apps (developer guidelines, 2026-03-11 / 2026-07-24; reference x-2026.md §1),
as decisions: what Flockdesk may do through the API, what a person must do on X, what nobody does.

- A public reply through the API only to a post whose author summoned the account (mentioned it,
  answered one of its posts, or quoted one); `POST /2/tweets` refuses any other reply on self-serve
  tiers. For any other post a person replies on X through the reply intent, with the drafted text.
- A DM through the API only to someone who DMed the account first; otherwise a person writes on X
  (the DM compose link). No automated or bulk DM to anyone who has not.
- An opt-out ("stop") ends every DM the customer did not ask for, permanently; the one automated
  acknowledgement of it, and answers to their own later DMs, stay allowed.
- An automation answers one interaction at most once; AI-written text is posted only after a person
  sends it.
- Likes, follows and quote posts were removed from self-serve tiers (2026-04-20): never offered.
"""

from __future__ import annotations

from flockdesk.connectors.x import links
from flockdesk.domain.policy import ALLOWED, Action, Decision, Facts

ENGAGEMENT_REMOVED = (
    "X removed likes, follows and quote posts from self-serve API tiers on 2026-04-20; "
    "Flockdesk does not offer them. Do it on X yourself if you must."
)


def _forbidden(reason: str, message: str) -> Decision:
    return Decision("forbidden", reason, message)


def _public(action: Action, facts: Facts) -> Decision:
    if facts.summoned:
        return ALLOWED
    if facts.origin != "agent" or not facts.by_person:
        return _forbidden(
            "automated_unsolicited",
            "X forbids automated replies to posts that did not mention the account; a person may reply on X.",
        )
    what = "acknowledgement" if action == "public_ack" else "reply"
    return Decision(
        "needs_person",
        "not_summoned",
        "X lets apps reply only to posts that mention the account or quote one of its posts, and "
        f"this post does neither. Post the {what} on X yourself: Reply on X opens X's composer with "
        "your text; Flockdesk attaches your reply here when it shows up among the account's posts.",
        links.reply_intent_link(facts.target_post_id, facts.text) if facts.target_post_id else None,
    )


def _dm(action: Action, facts: Facts) -> Decision:
    if facts.opted_out and not facts.opt_out_ack and not (action == "dm" and facts.wrote_after_opt_out):
        return _forbidden(
            "opted_out",
            'This person asked to hear no more from the account (an opt-out such as "stop"). '
            "Flockdesk sends them nothing more unless they write again.",
        )
    if action == "outreach_dm" and (facts.origin != "agent" or not facts.by_person):
        return _forbidden(
            "automated_outreach",
            "X forbids automated and bulk DMs, welcome messages included; a person may write on X.",
        )
    if facts.customer_started_dm:
        return ALLOWED
    if facts.origin != "agent" or not facts.by_person:
        return _forbidden(
            "automated_unsolicited", "X forbids automated DMs to people who have not DMed the account first."
        )
    return Decision(
        "needs_person",
        "dm_not_started",
        "X lets apps DM only people who DMed the account first, and this person has not. Write to "
        "them on X yourself (the link opens X's DM composer with your text), or wait for them to "
        "use the DM link: Flockdesk can answer once they write.",
        links.dm_compose_link(facts.recipient_id, facts.text) if facts.recipient_id else None,
    )


def decide(action: Action, facts: Facts) -> Decision:
    if action in ("like", "follow", "quote_post"):
        return _forbidden("engagement_removed", ENGAGEMENT_REMOVED)
    if facts.origin == "ai_draft" and not facts.by_person:
        return _forbidden(
            "ai_unreviewed",
            "AI-written text is posted only after a person reads, edits and sends it "
            "(X requires its prior approval for AI-generated replies).",
        )
    if facts.origin == "automated" and facts.automated_replies_before > 0:
        return _forbidden("automated_repeat", "An automation answers one interaction at most once.")
    if action in ("public_reply", "public_ack"):
        return _public(action, facts)
    return _dm(action, facts)
