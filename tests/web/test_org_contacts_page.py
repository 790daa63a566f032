"""The admin's form for the organisation's own contact details, per account, on the accounts page;
and the composer's guard honouring them."""

from __future__ import annotations

import html as html_mod

from flockdesk.services.accounts.org_contacts import OrgContacts, get_org_contacts

from .conftest import Browser
from .seed import thread


def test_admin_saves_contact_details(admin: Browser, engine) -> None:
    acct = thread(engine)["account"]
    page = admin.client.get("/settings/accounts").text
    assert f'<label for="org-phones-{acct}">Phones</label>' in page
    resp = admin.post(
        f"/settings/accounts/{acct}/contacts",
        {"phones": "020 7946 0321", "region": "GB", "emails": "help@acme.com", "urls": "acme.com/help"},
    )
    assert resp.status_code == 303 and "notice=" in resp.headers["location"]
    assert get_org_contacts(engine, acct) == OrgContacts(
        phones=("+44 20 7946 0321",), emails=("help@acme.com",), urls=("https://acme.com/help",)
    )
    page = admin.client.get("/settings/accounts").text
    assert ">+44 20 7946 0321</textarea>" in page


def test_bad_input_is_refused_whole_and_nothing_typed_or_stored_is_lost(admin: Browser, engine) -> None:
    acct = thread(engine)["account"]
    admin.post(f"/settings/accounts/{acct}/contacts", {"emails": "help@acme.com"})
    resp = admin.post(
        f"/settings/accounts/{acct}/contacts",
        {"phones": "020 7946 0321\nnot a phone", "emails": "help@acme.com\nsupport@", "urls": ""},
    )
    assert resp.status_code == 400
    page = html_mod.unescape(resp.text)
    assert "Nothing was saved" in page
    assert "Phone '020 7946 0321' is not a phone number" in page  # no region, no +
    assert "Email 'support@' is not valid" in page
    # the form comes back as typed
    assert "020 7946 0321\nnot a phone</textarea>" in page
    assert "help@acme.com\nsupport@</textarea>" in page
    # and what was stored before is still there
    assert get_org_contacts(engine, acct) == OrgContacts(emails=("help@acme.com",))


def test_only_admins_edit_contact_details(agent: Browser, engine) -> None:
    acct = thread(engine)["account"]
    resp = agent.post(f"/settings/accounts/{acct}/contacts", {"emails": "help@acme.com"})
    assert resp.status_code == 403
    assert get_org_contacts(engine, acct) == OrgContacts()


def test_the_composers_guard_allows_the_accounts_own_details(admin: Browser, agent: Browser, engine) -> None:
    ids = thread(engine)
    text = "Sorry! Email our team at help@acme.com or call 020 7946 0321 and we'll sort it today."
    body = {"text": text, "kind": "reply", "conversation_id": ids["conversation"]}
    before = agent.post_json("/api/v1/check-reply", body).json()
    assert before["flagged"] and before["contains_sensitive"] == ["email", "phone"]
    admin.post(
        f"/settings/accounts/{ids['account']}/contacts",
        {"phones": "+44 20 7946 0321", "emails": "help@acme.com"},
    )
    assert not agent.post_json("/api/v1/check-reply", body).json()["flagged"]
    # without the conversation the guard cannot know whose details they are
    assert agent.post_json("/api/v1/check-reply", {"text": text, "kind": "reply"}).json()["flagged"]
    # and the reply itself is queued past the guard
    resp = agent.post_json(f"/api/v1/conversations/{ids['conversation']}/replies", {"text": text})
    assert resp.status_code == 201, resp.text
