"""Ingest stores each inbound message's language, and passes the account's own contact details to
triage, so the organisation's own address in a customer's post is not personal data (SQLite and PG)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.services.accounts.org_contacts import OrgContacts, set_org_contacts
from flockdesk.services.ingest.importer import import_file
from flockdesk.services.ingest.ingestor import Ingestor, default_triage
from flockdesk.services.ingest.labels import fill_missing_labels
from flockdesk.store.schema import messages
from tests.services.ingest.builders import make_account, mentions, tweet

FRENCH = "@acme Bonjour, mon colis n'est jamais arrivé et personne ne répond, pouvez-vous m'aider ?"
SPANISH = "@acme Hola, mi pedido no ha llegado todavía y nadie me contesta, ¿me pueden ayudar?"
ENGLISH = "@acme my parcel never arrived and nobody answers the phone, can you help?"
OWN_EMAIL = "@acme I emailed help@acme.com twice last week and still no answer about the refund"


def _stored(engine: Engine) -> dict[str, dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(messages.c.external_id, messages.c.lang, messages.c.sensitive))
        return {r.external_id: {"lang": r.lang, "sensitive": r.sensitive or []} for r in rows}


def test_ingest_stores_the_detected_language(engine: Engine, account_id: int) -> None:
    ing = Ingestor(engine, triage=default_triage())
    ing.ingest_page(account_id, mentions(tweet("11", "200", FRENCH), tweet("12", "201", SPANISH)))
    ing.ingest_page(account_id, mentions(tweet("13", "202", ENGLISH)))
    stored = _stored(engine)
    assert [stored[i]["lang"] for i in ("11", "12", "13")] == ["fr", "es", "en"]


def test_untriaged_messages_have_no_language_until_labelled(engine: Engine, account_id: int) -> None:
    Ingestor(engine, triage=None).ingest_page(account_id, mentions(tweet("21", "200", FRENCH)))
    assert _stored(engine)["21"]["lang"] is None
    assert fill_missing_labels(engine) == 1
    assert _stored(engine)["21"]["lang"] == "fr"


def test_the_accounts_own_contact_details_are_not_personal_data(engine: Engine, account_id: int) -> None:
    other = make_account(engine, external_user_id="999")
    set_org_contacts(engine, account_id, OrgContacts(emails=("help@acme.com",)), actor_id=None)
    ing = Ingestor(engine, triage=default_triage())
    ing.ingest_page(account_id, mentions(tweet("31", "200", OWN_EMAIL)))
    # the same words sent to an account that does not own the address: it is someone's email
    ing.ingest_page(other, mentions(tweet("32", "200", OWN_EMAIL)))
    stored = _stored(engine)
    assert stored["31"]["sensitive"] == []
    assert stored["32"]["sensitive"] == ["email"]


def test_labelling_later_uses_each_accounts_contact_details(engine: Engine, account_id: int) -> None:
    other = make_account(engine, external_user_id="999")
    set_org_contacts(engine, account_id, OrgContacts(emails=("help@acme.com",)), actor_id=None)
    ing = Ingestor(engine, triage=None)
    ing.ingest_page(account_id, mentions(tweet("41", "200", OWN_EMAIL)))
    ing.ingest_page(other, mentions(tweet("42", "200", OWN_EMAIL)))
    assert fill_missing_labels(engine) == 2
    stored = _stored(engine)
    assert (stored["41"]["sensitive"], stored["42"]["sensitive"]) == ([], ["email"])


def test_import_stores_the_language_and_honours_contact_details(
    engine: Engine, account_id: int, tmp_path: Path
) -> None:
    set_org_contacts(engine, account_id, OrgContacts(emails=("help@acme.com",)), actor_id=None)
    lines = [
        {"data": [tweet("51", "300", FRENCH)], "includes": {"users": [{"id": "300", "username": "f"}]}},
        {"data": [tweet("52", "301", OWN_EMAIL)], "includes": {"users": [{"id": "301", "username": "e"}]}},
    ]
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    import_file(engine, path, account_id)
    stored = _stored(engine)
    assert stored["51"]["lang"] == "fr"
    assert (stored["52"]["lang"], stored["52"]["sensitive"]) == ("en", [])
