"""The detected language: a chip on the inbox row and on each message (its full name for screen
readers), and a filter on the inbox page and /api/v1/conversations."""

from __future__ import annotations

from flockdesk.services.team import users as users_svc

from .conftest import Browser
from .seed import thread


def _seed(engine) -> dict[str, int]:
    convs = {
        "fr": thread(engine, username="u1", name="Fleur French", text="@acmecare colis perdu", lang="fr"),
        "es": thread(engine, username="u2", name="Sol Spanish", text="@acmecare pedido perdido", lang="es"),
        "en": thread(engine, username="u3", name="Ed English", text="@acmecare lost parcel", lang="en"),
        "und": thread(engine, username="u4", name="Una Unknown", text="@acmecare 🙃", lang="und"),
    }
    return {k: v["conversation"] for k, v in convs.items()}


def _names(html: str) -> set[str]:
    return {n for n in ("Fleur French", "Sol Spanish", "Ed English", "Una Unknown") if n in html}


def test_inbox_filters_by_language(agent: Browser, engine) -> None:
    _seed(engine)
    get = lambda q: _names(agent.client.get(f"/inbox/all?{q}").text)  # noqa: E731
    assert get("lang=fr") == {"Fleur French"}
    assert get("lang=FR") == {"Fleur French"}
    assert get("lang=es") == {"Sol Spanish"}
    assert get("lang=und") == {"Una Unknown"}
    assert get("") == {"Fleur French", "Sol Spanish", "Ed English", "Una Unknown"}
    # not a language code: ignored, as other filters ignore unknown values
    assert get("lang=fr%27--") == {"Fleur French", "Sol Spanish", "Ed English", "Una Unknown"}
    html = agent.client.get("/inbox/all?lang=fr").text
    assert '<option value="fr" selected>French</option>' in html
    # the live rows fragment keeps the filter
    assert _names(agent.client.get("/inbox/all/rows?lang=fr").text) == {"Fleur French"}


def test_rows_and_messages_show_a_language_chip_with_its_name(agent: Browser, engine) -> None:
    ids = _seed(engine)
    html = agent.client.get("/inbox/all?lang=fr").text
    chip = (
        '<span class="chip lang" title="French"><span aria-hidden="true">FR</span>'
        '<span class="sr-only">Language: French</span></span>'
    )
    assert chip in html
    assert chip in agent.client.get(f"/c/{ids['fr']}").text
    # an undetermined language gets no chip
    assert 'class="chip lang"' not in agent.client.get(f"/c/{ids['und']}").text


def test_api_filters_and_reports_language(client, engine, people) -> None:
    ids = _seed(engine)
    h = {"Authorization": f"Bearer {users_svc.create_api_token(engine, people['agent'].id, 't')}"}
    items = client.get("/api/v1/conversations?lang=es", headers=h).json()["items"]
    assert [(i["conversation_id"], i["lang"]) for i in items] == [(ids["es"], "es")]
    msgs = client.get(f"/api/v1/conversations/{ids['fr']}/messages", headers=h).json()
    assert [m["lang"] for m in msgs] == ["fr"]
