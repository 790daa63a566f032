"""What a platform's rules say about one outbound action: the words every platform's policy shares.

A platform's policy (connectors/<platform>/policy.py, handed out by the registry as part of its
profile) takes an `Action` and the `Facts` the services gathered from the store, and returns a
`Decision`: the action may go through the platform's API, needs a person to do it on the platform
itself (with the link that opens the platform's own composer), or is forbidden. The reason is for
people: the composer shows it.

Services ask the policy before they queue anything, and the outbox asks again before it sends; the UI
only shows what the services decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from flockdesk.domain.vocabulary import OutboxOrigin

Verdict = Literal["allowed_via_api", "needs_person", "forbidden"]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)

# public_reply: an answer under a post; public_ack: the "let's take this to DM" reply; dm: a DM in a
# one-to-one conversation; outreach_dm: a DM nobody asked for (a campaign, a welcome); like, follow,
# quote_post: engagement actions Flockdesk never offers.
Action = Literal["public_reply", "public_ack", "dm", "outreach_dm", "like", "follow", "quote_post"]
ACTIONS: tuple[Action, ...] = get_args(Action)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the store knows about the target of an action (services/replies/policy.py gathers it)."""

    origin: OutboxOrigin = "agent"
    by_person: bool = True  # a person wrote, or reviewed and sent, the text
    # public actions: the post answered, and whether its author summoned the account (mentioned it,
    # answered one of its posts, or quoted one)
    target_post_id: str | None = None
    summoned: bool = False
    # DMs: the person written to, whether they DMed the account first, and their opt-out
    recipient_id: str | None = None
    customer_started_dm: bool = False
    opted_out: bool = False
    wrote_after_opt_out: bool = False  # they sent a new DM after opting out (a reply to it is allowed)
    opt_out_ack: bool = False  # this DM is the one automated acknowledgement of their opt-out
    # automations: how many automated messages already answered this interaction
    automated_replies_before: int = 0
    text: str = ""  # the drafted text, carried into the native link


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str  # a stable code for the UI and the API, e.g. "not_summoned"
    message: str  # for people: why, and what to do
    native_link: str | None = None  # needs_person: opens the platform's own composer with the text

    @property
    def allowed(self) -> bool:
        return self.verdict == "allowed_via_api"


ALLOWED = Decision("allowed_via_api", "allowed", "")
