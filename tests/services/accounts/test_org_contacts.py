"""The organisation's own contact details: validated as a whole, stored per account, audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import NotFound
from flockdesk.services.accounts.org_contacts import (
    OrgContacts,
    OrgContactsInvalid,
    get_org_contacts,
    parse_org_contacts,
    set_org_contacts,
)
from flockdesk.store.schema import audit_events
from tests.services.ingest.builders import make_account


def test_valid_details_are_normalised() -> None:
    got = parse_org_contacts(
        "+44 20 7946 0321\n020 7946 0321, 0800 123 4567", "Help@Acme.com\n", "acme.com/help", region="gb"
    )
    # the same number written twice is kept once, in international form
    assert got.phones == ("+44 20 7946 0321", "+44 800 123 4567")
    assert got.emails == ("Help@acme.com",)
    assert got.urls == ("https://acme.com/help",)
    assert got.flat() == [*got.phones, *got.emails, *got.urls]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(OrgContactsInvalid) as err:
        parse_org_contacts("020 7946 0321\n+44 12", "not-an-email", "ftp://files.acme.com", region="")
    problems = err.value.problems
    assert len(problems) == 4
    assert "international form" in problems[0]
    assert "wrong number of digits" in problems[1]
    assert "'not-an-email'" in problems[2]
    assert "https://" in problems[3]
    assert str(err.value).startswith("Nothing was saved.")


def test_an_unknown_region_is_named() -> None:
    with pytest.raises(OrgContactsInvalid) as err:
        parse_org_contacts("", "", "", region="XX")
    assert err.value.problems == ["Region 'XX' is not a two-letter country code such as GB or FR."]


def test_too_many_details_are_refused() -> None:
    with pytest.raises(OrgContactsInvalid, match="At most 20 emails"):
        parse_org_contacts("", "\n".join(f"a{i}@acme.com" for i in range(21)), "")


def test_stored_per_account_and_audited(engine: Engine) -> None:
    first, second = make_account(engine), make_account(engine, external_user_id="999")
    details = OrgContacts(phones=("+44 20 7946 0321",), emails=("help@acme.com",))
    set_org_contacts(engine, first, details, actor_id=None)
    assert get_org_contacts(engine, first) == details
    assert get_org_contacts(engine, second) == OrgContacts()
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(audit_events.c.action, audit_events.c.target_id, audit_events.c.details).where(
                audit_events.c.action == "account.org_contacts"
            )
        ).one()
    assert (row.target_id, row.details["emails"]) == (str(first), ["help@acme.com"])


def test_unknown_account_is_refused(engine: Engine) -> None:
    with pytest.raises(NotFound):
        set_org_contacts(engine, 12345, OrgContacts(), actor_id=None)


def test_unusable_stored_values_read_as_empty() -> None:
    assert OrgContacts.from_json(None) == OrgContacts()
    assert OrgContacts.from_json({"phones": "x", "emails": [1, "a@b.org"]}) == OrgContacts(
        emails=("a@b.org",)
    )
