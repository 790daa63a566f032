"""The organisation's own public contact details, per account: phones, emails and URLs.

They are not personal data: triage does not flag them in a customer's message ("I called 0800 123
4567 twice"), and the reply guard lets a public reply give them ("call us on 0800 123 4567"). Ingest
passes them to triage, the composer's guard and `queue_reply` pass them to the reply guard.

Input is checked as a whole before anything is written: a phone must parse with `phonenumbers` (in
international form, or national form with the region given), an email must be a valid address, a URL
must be http(s) with a host. On any error nothing is stored and every error is reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, Engine

from flockdesk.domain.errors import InvalidInput, NotFound
from flockdesk.services.team import audit
from flockdesk.store.schema import accounts, conversations

MAX_PER_KIND = 20
MAX_LEN = 320


@dataclass(frozen=True, slots=True)
class OrgContacts:
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    def flat(self) -> list[str]:
        """Every detail as one list: what triage and the reply guard take as `org_contacts`."""
        return [*self.phones, *self.emails, *self.urls]

    def to_json(self) -> dict[str, list[str]]:
        return {"phones": list(self.phones), "emails": list(self.emails), "urls": list(self.urls)}

    @staticmethod
    def from_json(value: Any) -> OrgContacts:
        """The stored column (NULL, or a mapping of lists); anything unusable reads as empty."""
        if not isinstance(value, Mapping):
            return OrgContacts()

        def strings(key: str) -> tuple[str, ...]:
            items = value.get(key)
            return tuple(str(i) for i in items if isinstance(i, str)) if isinstance(items, list) else ()

        return OrgContacts(strings("phones"), strings("emails"), strings("urls"))


class OrgContactsInvalid(InvalidInput):
    """Some details did not validate; `problems` lists each one (nothing was stored)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Nothing was saved. " + " ".join(problems))
        self.problems = problems


def _lines(text: str) -> list[str]:
    """One detail a line (commas and semicolons separate too), blanks dropped, duplicates once."""
    seen: dict[str, None] = {}
    for line in text.replace(";", "\n").replace(",", "\n").splitlines():
        item = line.strip()
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _phone(value: str, region: str | None) -> str:
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError(
            f"Phone {value!r} is not a phone number: write it in international form (+44 20 7946 0000) "
            "or give the region."
        ) from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"Phone {value!r} has the wrong number of digits for its country.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _email(value: str) -> str:
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValueError(f"Email {value!r} is not valid: {exc}") from None


def _url(value: str) -> str:
    parts = urlsplit(value if "://" in value else "https://" + value)
    if parts.scheme not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
        raise ValueError(f"URL {value!r} is not a web address: write it as https://example.org/help.")
    return parts.geturl()


def parse_org_contacts(phones: str, emails: str, urls: str, region: str = "") -> OrgContacts:
    """Validate the form's text (one detail a line); raises OrgContactsInvalid listing every problem."""
    reg = region.strip().upper() or None
    problems: list[str] = []
    if reg is not None and reg not in phonenumbers.SUPPORTED_REGIONS:
        problems.append(f"Region {region.strip()!r} is not a two-letter country code such as GB or FR.")
        reg = None
    checked: dict[str, list[str]] = {"phones": [], "emails": [], "urls": []}
    parsers = {"phones": lambda v: _phone(v, reg), "emails": _email, "urls": _url}
    for kind, text in (("phones", phones), ("emails", emails), ("urls", urls)):
        items = _lines(text)
        if len(items) > MAX_PER_KIND:
            problems.append(f"At most {MAX_PER_KIND} {kind}; {len(items)} were given.")
            continue
        for item in items:
            if len(item) > MAX_LEN:
                problems.append(f"One of the {kind} is longer than {MAX_LEN} characters.")
                continue
            try:
                value = parsers[kind](item)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if value not in checked[kind]:
                checked[kind].append(value)
    if problems:
        raise OrgContactsInvalid(problems)
    return OrgContacts(tuple(checked["phones"]), tuple(checked["emails"]), tuple(checked["urls"]))


def read(conn: Connection, account_id: int) -> OrgContacts:
    return OrgContacts.from_json(
        conn.execute(sa.select(accounts.c.org_contacts).where(accounts.c.id == account_id)).scalar()
    )


def get_org_contacts(engine: Engine, account_id: int) -> OrgContacts:
    with engine.connect() as conn:
        return read(conn, account_id)


def for_conversation(engine: Engine, conversation_id: int) -> list[str]:
    """The contact details of the account a conversation belongs to, flat (none if it is unknown)."""
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(accounts.c.org_contacts)
            .select_from(accounts.join(conversations, conversations.c.account_id == accounts.c.id))
            .where(conversations.c.id == conversation_id)
        ).scalar()
    return OrgContacts.from_json(value).flat()


def for_accounts(engine: Engine, account_ids: Iterable[int]) -> dict[int, OrgContacts]:
    ids = list(account_ids)
    if not ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(accounts.c.id, accounts.c.org_contacts).where(accounts.c.id.in_(ids))
        ).all()
    return {int(r.id): OrgContacts.from_json(r.org_contacts) for r in rows}


def set_org_contacts(engine: Engine, account_id: int, details: OrgContacts, *, actor_id: int | None) -> None:
    """Store the account's details (replacing the previous ones), audited."""
    with engine.begin() as conn:
        done = conn.execute(
            accounts.update().where(accounts.c.id == account_id).values(org_contacts=details.to_json())
        )
        if done.rowcount == 0:
            raise NotFound(f"no account with id {account_id}")
        audit.record(
            conn,
            actor_id,
            audit.admin_actor(conn, actor_id),
            "account.org_contacts",
            "account",
            account_id,
            details.to_json(),
        )
