"""Deterministic traffic from a scenario: new mentions, replies in existing threads (also to the org's
own replies), DM conversations (sometimes several messages in a row), hashtag and name posts that do
not tag the org, retweets and spam; alongside, followers arrive and leave, and some customers opt out
of DMs ("stop", "unsubscribe", "abmelden", ...; marked `opt_out` in the ground truth). The same seed on
the same starting state gives the same traffic. Followers and opt-outs draw from a second random
stream, so the messages themselves are those the same seed gave before they existed."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from chat_xdk import QuickReply

from flockdesk.emulator import chat as xchat
from flockdesk.emulator.model import Post, User
from flockdesk.emulator.scenario import Scenario, user_from
from flockdesk.emulator.state import EmulatorState

SLOT_RE = re.compile(r"\{(\w+)\}")
RECENT_THREADS = 60
DEFAULT_OPT_OUTS = ("stop", "STOP", "unsubscribe", "arrête", "basta", "para", "abmelden")
OPT_OUT_RATE = 0.04  # share of follow-up DMs that are an opt-out phrase
FOLLOW_RATE = 0.08  # chance, per message, that someone follows the org
UNFOLLOW_RATE = 0.015  # chance, per message, that a follower leaves


@dataclass
class _Run:
    state: EmulatorState
    sc: Scenario
    rng: random.Random
    aux: random.Random  # followers and opt-outs: kept apart from the message stream
    created: list[str] = field(default_factory=list)
    org_created: list[str] = field(default_factory=list)
    by_kind: dict[str, int] = field(default_factory=dict)
    follows: int = 0
    unfollows: int = 0

    # -- authors -------------------------------------------------------------------------------
    def crowd_user(self, index: int | None = None) -> User:
        crowd = self.sc.crowd
        size = int(crowd.get("size", 500))
        i = self.rng.randrange(size) if index is None else index
        first = crowd["first"][i % len(crowd["first"])]
        last = crowd["last"][(i * 7 + i // len(crowd["first"])) % len(crowd["last"])]
        styles = [
            f"{first}{last}",
            f"{first}_{last}",
            f"{first[0]}{last}",
            f"{first}{i % 97}",
            f"{last}{first[0]}_",
        ]
        handle = re.sub(r"[^A-Za-z0-9_]", "", styles[i % len(styles)])[:15]
        bios = crowd.get("bios") or [""]
        raw = {
            "username": handle,
            "name": f"{first} {last}",
            "description": bios[(i * 3) % len(bios)],
            "followers_count": (i * 7919) % 2400 + (i % 5) * 13,
            "following_count": (i * 31) % 900 + 20,
            "verified": False,
            "created_at": f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00.000Z",
        }
        return self._add(raw)

    def _add(self, raw: dict[str, Any]) -> User:
        user = user_from(self.sc.name, raw)
        existing = self.state.users.get(user.id)
        if existing is not None:
            return existing
        clash = self.state.user_by_username(user.username)
        if clash is not None:
            return clash
        return self.state.add_user(user)

    def cast_user(self, roles: tuple[str, ...]) -> User | None:
        pool = [c for c in self.sc.cast if c.get("role", "customer") in roles]
        return self._add(self.rng.choice(pool)) if pool else None

    def spammer(self) -> User:
        pool = self.sc.spammers or [{"username": "promo_deals_4u", "name": "Deals", "followers_count": 3}]
        return self._add(self.rng.choice(pool))

    # -- text ----------------------------------------------------------------------------------
    def fill(self, template: str, author: User, extra: dict[str, str] | None = None) -> str:
        first = author.name.split()[0] if author.name else author.username
        values = {
            "org": "@" + self.sc.org.username,
            "orgname": self.rng.choice(self.sc.names),
            "hashtag": "#" + self.rng.choice(self.sc.hashtags),
            "first": first,
            "handle": "@" + author.username,
        }
        values.update(extra or {})

        def repl(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in values:
                return values[key]
            return self.generated(key, author)

        text = template
        for _ in range(3):  # slot values may themselves hold slots (an opener, a body part)
            if "{" not in text:
                break
            text = SLOT_RE.sub(repl, text)
        return text

    def generated(self, key: str, author: User) -> str:
        rng = self.rng
        if key == "booking":
            return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
        if key == "email":
            local = re.sub(r"[^a-z0-9]", "", author.name.lower().replace(" ", ".")) or author.username.lower()
            return f"{local}{rng.choice(['', '.', '_'])}{rng.randrange(10, 99)}@{rng.choice(self._domains())}"
        if key == "phone":
            return rng.choice(
                [
                    f"+1 ({rng.randrange(201, 989)}) 555-{rng.randrange(1000, 9999)}",
                    f"{rng.randrange(201, 989)}-555-{rng.randrange(1000, 9999)}",
                    f"+44 7700 900{rng.randrange(100, 999)}",
                    f"+49 151 {rng.randrange(1000000, 9999999)}",
                ]
            )
        if key == "n":
            return str(rng.randrange(2, 9))
        if key == "hours":
            return str(rng.choice([2, 3, 4, 5, 6, 7, 9, 11, 14]))
        if key == "amount":
            return str(rng.choice([49, 89, 129, 180, 240, 312, 450, 620, 1180]))
        values = self.sc.slots.get(key)
        if values:
            return rng.choice(values)
        return "{" + key + "}"

    def _domains(self) -> list[str]:
        return ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "hotmail.co.uk"]

    def pick(self, key: str) -> str:
        options = self.sc.template(key)
        template = self.rng.choice(options) if options else "{org} hello"
        if self.sc.tails and key not in ("org_reply", "org_dm", "spam") and self.rng.random() < 0.2:
            template += self.rng.choice(self.sc.tails)
        return template

    # -- bookkeeping ---------------------------------------------------------------------------
    def inbound(self, kind: str, item_id: int) -> None:
        self.created.append(str(item_id))
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1

    def threads(self) -> list[int]:
        return self.state.traffic_cursor.threads

    def dm_users(self) -> list[str]:
        return self.state.traffic_cursor.dm_users

    def public_posts(self) -> list[int]:
        return self.state.traffic_cursor.public


def _mention(run: _Run) -> None:
    roll = run.rng.random()
    author = run.cast_user(("journalist",)) if roll < 0.04 else None
    key = "journalist" if author is not None else "mention"
    if author is None and roll < 0.12:
        author = run.cast_user(("influencer", "customer"))
    author = author or run.crowd_user()
    post = run.state.add_post(author.id, run.fill(run.pick(key), author), "mention")
    run.threads().append(post.id)
    run.public_posts().append(post.id)
    run.inbound("mention", post.id)


def _latest(run: _Run, conv: int, org: bool) -> Post | None:
    for pid in reversed(run.state.conv_posts.get(conv, [])):
        p = run.state.posts[pid]
        if p.retweeted_id is None and p.from_org == org:
            return p
    return None


def _reply(run: _Run) -> None:
    threads = run.threads()
    if not threads:
        _mention(run)
        return
    recent = threads[-RECENT_THREADS:]
    answered = run.state.traffic_cursor.org_threads[-RECENT_THREADS:]
    pick = run.rng.random()
    if answered and pick < 0.4:  # customers answer the org's replies (the emulator's or Flockdesk's)
        root_id = run.rng.choice(answered)
    elif pick < 0.6:  # an angry thread spreads: favour the busiest recent thread
        root_id = max(recent, key=lambda t: (len(run.state.conv_posts.get(t, [])), t))
    else:
        root_id = run.rng.choice(recent)
    root = run.state.posts[root_id]
    root_author = run.state.users[root.author_id]
    org_post = _latest(run, root.conversation_id, org=True)
    roll = run.rng.random()
    if org_post is not None and roll < 0.6:
        parent, author, key = org_post, root_author, "reply_to_org"
    elif roll < 0.8:
        parent = _latest(run, root.conversation_id, org=False) or root
        author, key = root_author, "reply_self"
    else:
        parent, author, key = root, run.crowd_user(), "reply_pileon"
    text = run.fill(run.pick(key), author, {"parent": "@" + root_author.username})
    if author.id != root_author.id and ("@" + root_author.username) not in text:
        text = f"@{root_author.username} {text}"
    if ("@" + run.sc.org.username).lower() not in text.lower():
        text = f"@{run.sc.org.username} {text}"
    post = run.state.add_post(author.id, text, "reply", in_reply_to=parent.id)
    run.inbound("reply", post.id)


def _dm(run: _Run, remaining: int) -> None:
    users = run.dm_users()
    org = run.state.org
    outreach = run.state.traffic_cursor.outreach_pending
    if outreach and run.rng.random() < 0.7:
        uid = outreach.pop(run.rng.randrange(len(outreach)))
        author, key = run.state.users[uid], "dm_outreach_reply"
    elif users and run.rng.random() < 0.55:
        author, key = run.state.users[run.rng.choice(users[-200:])], "dm_followup"
    else:
        author, key = run.crowd_user(), "dm_open"
        if author.id not in users:
            users.append(author.id)
    burst = 1 if run.rng.random() < 0.7 else run.rng.choice([2, 2, 3])
    for i in range(max(1, min(burst, remaining))):
        tmpl = run.pick(key if i == 0 else "dm_followup")
        text = run.fill(tmpl, author)
        opt_out = any(tmpl.startswith(t) for t in run.sc.opt_out_templates) and not any(
            text.endswith(v) for v in run.sc.not_opt_outs
        )
        if key != "dm_open" and not opt_out and run.aux.random() < OPT_OUT_RATE:
            text, opt_out = run.aux.choice(run.sc.opt_outs or DEFAULT_OPT_OUTS), True
        event = run.state.add_dm(author.id, org.id, text, "dm", opt_out=opt_out)
        run.inbound("dm", event.id)
    if author.id not in users:
        users.append(author.id)


def _chat_answer(run: _Run, conv: xchat.ChatConversation) -> tuple[str, QuickReply | None]:
    """A customer's answer to the org's last message: a quick-reply choice when it offered options."""
    state = run.state
    for seq in reversed(conv.events):
        event = state.chat.events[seq]
        if event.kind != "message":
            continue
        request = (event.quick_reply or {}).get("request") if event.from_org else None
        options = ((request or {}).get("options") or {}).get("options") or []
        if not options:
            break
        chosen = run.rng.choice(options)
        response: QuickReply = {
            "response": {
                "options": {
                    "request_id": (request or {}).get("options", {}).get("id"),
                    "selected_option_id": chosen.get("id"),
                }
            }
        }
        return str(chosen.get("label") or chosen.get("id") or "ok"), response
    return "", None


def _chat(run: _Run, remaining: int) -> None:
    """X Chat from a customer: answers to the org's replies, follow-ups, new 1:1s and now and then a
    group with a friend; sometimes a key rotation first, sometimes a message garbled in transit."""
    state, org = run.state, run.state.org
    cursor = state.traffic_cursor
    users = cursor.chat_users
    replied = cursor.chat_replied
    conv: xchat.ChatConversation | None = None
    first_text, quick = "", None
    if replied and run.rng.random() < run.sc.chat_chance("answer"):
        conv = state.chat.conversations.get(replied.pop(run.rng.randrange(len(replied))))
    if conv is not None:
        customers = [u for u in conv.participants if u != org.id]
        author = state.users[run.rng.choice(customers)]
        first_text, quick = _chat_answer(run, conv)
        key = "dm_followup"
    elif users and run.rng.random() < 0.5:
        author, key = state.users[run.rng.choice(users[-200:])], "dm_followup"
    else:
        author, key = run.crowd_user(), "dm_open"
    peer = xchat.peer_for(state, author.id)
    if conv is None:
        if key == "dm_open" and run.rng.random() < run.sc.chat_chance("group"):
            friend = run.crowd_user()
            if friend.id in (author.id, org.id):
                friend = run.crowd_user()
            xchat.peer_for(state, friend.id)
            title = f"{author.name.split()[0]} & {org.name}"
            conv = xchat.group_create(state, peer, [org.id, friend.id], title)
        else:
            conv = xchat.conversation(state, xchat.one_to_one_id(author.id, org.id), [author.id, org.id])
    if conv.latest_key is not None and run.rng.random() < run.sc.chat_chance("rotate"):
        xchat.customer_rotate(state, peer, conv)
    if author.id not in users:
        users.append(author.id)
    burst = 1 if run.rng.random() < 0.7 else run.rng.choice([2, 2, 3])
    for i in range(max(1, min(burst, remaining))):
        if i == 0 and first_text:
            text = first_text
        else:
            text = run.fill(run.pick(key if i == 0 else "dm_followup"), author)
        garble = run.rng.random() < run.sc.chat_chance("garbled")
        event = xchat.customer_send(
            state, peer, conv, text, quick_reply=quick if i == 0 else None, garble=garble
        )
        run.inbound("chat", event.sequence_id)


def _public(run: _Run, kind: str) -> None:
    author = run.cast_user(("influencer",)) if run.rng.random() < 0.05 else None
    author = author or run.crowd_user()
    post = run.state.add_post(author.id, run.fill(run.pick(kind), author), kind)
    run.public_posts().append(post.id)
    run.inbound(kind, post.id)


def _retweet(run: _Run) -> None:
    public = run.public_posts()
    if not public:
        _public(run, "hashtag")
        return
    original = run.state.posts[run.rng.choice(public[-100:])]
    author = run.crowd_user()
    orig_author = run.state.users[original.author_id]
    post = run.state.add_post(
        author.id, f"RT @{orig_author.username}: {original.text}", "retweet", retweet_of=original.id
    )
    run.inbound("retweet", post.id)


def _spam(run: _Run) -> None:
    author = run.spammer()
    post = run.state.add_post(author.id, run.fill(run.pick("spam"), author), "spam")
    run.inbound("spam", post.id)


def _org_reply(run: _Run) -> None:
    threads = run.threads()
    if not threads:
        return
    root = run.state.posts[run.rng.choice(threads[-RECENT_THREADS:])]
    parent = _latest(run, root.conversation_id, org=False) or root
    customer = run.state.users[parent.author_id]
    text = run.fill(run.pick("org_reply"), customer)
    post = run.state.add_post(
        run.state.org.id, f"@{customer.username} {text}", "org_reply", in_reply_to=parent.id
    )
    run.org_created.append(str(post.id))
    run.state.traffic_cursor.org_threads.append(post.conversation_id)


def _org_dm(run: _Run) -> None:
    author = run.crowd_user()
    event = run.state.add_dm(run.state.org.id, author.id, run.fill(run.pick("org_dm"), author), "org_dm")
    run.org_created.append(str(event.id))
    if author.id not in run.dm_users():
        run.dm_users().append(author.id)
    run.state.traffic_cursor.outreach_pending.append(author.id)


def _followers(run: _Run) -> None:
    """Between messages, now and then someone follows the org, or a follower leaves."""
    roll = run.aux.random()
    if roll < FOLLOW_RATE:
        size = int(run.sc.crowd.get("size", 500))
        user = run.crowd_user(run.aux.randrange(size))
        if run.state.follow(user.id):
            run.follows += 1
    elif (
        roll < FOLLOW_RATE + UNFOLLOW_RATE
        and run.state.followers
        and run.state.unfollow(run.aux.choice(run.state.followers))
    ):
        run.unfollows += 1


def generate(state: EmulatorState, sc: Scenario, messages: int, seed: int) -> dict[str, Any]:
    """Create `messages` inbound items (plus any org-side posts/DMs the scenario needs as context)."""
    with state.lock:
        start = f"{sc.name}:{seed}:{len(state.posts)}:{len(state.dms)}"
        rng = random.Random(start)
        run = _Run(state, sc, rng, random.Random("aux:" + start))
        # customers reach the org on X Chat only once it has published its public keys
        chat_ready = state.chat.latest_key(state.org.id) is not None
        kinds = [k for k in sc.mix if k != "chat" or chat_ready]
        weights = [sc.mix[k] for k in kinds]
        guard = 0
        while len(run.created) < messages and guard < messages * 20 + 100:
            guard += 1
            kind = rng.choices(kinds, weights)[0]
            if kind == "mention":
                _mention(run)
            elif kind == "reply":
                _reply(run)
            elif kind == "dm":
                _dm(run, messages - len(run.created))
            elif kind == "chat":
                _chat(run, messages - len(run.created))
            elif kind in ("hashtag", "name"):
                _public(run, kind)
            elif kind == "retweet":
                _retweet(run)
            elif kind == "spam":
                _spam(run)
            elif kind == "org_reply":
                _org_reply(run)
            elif kind == "org_dm":
                _org_dm(run)
            _followers(run)
        return {
            "scenario": sc.name,
            "seed": seed,
            "messages": len(run.created),
            "ids": run.created,
            "org_ids": run.org_created,
            "by_kind": run.by_kind,
            "follows": run.follows,
            "unfollows": run.unfollows,
            "opt_outs": sum(1 for i in run.created if int(i) in state.dms and state.dms[int(i)].opt_out),
        }


def crowd_users(state: EmulatorState, sc: Scenario, count: int, seed: int) -> list[User]:
    """`count` users from the scenario's crowd (for followers), deterministic for a seed."""
    with state.lock:
        rng = random.Random(f"crowd:{sc.name}:{seed}")
        run = _Run(state, sc, rng, rng)
        return [run.crowd_user() for _ in range(count)]
