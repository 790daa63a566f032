"""A corpus of hostile strings in post text, names, bios, URLs, notes and tags renders inert everywhere."""

from __future__ import annotations

from html.parser import HTMLParser

from .conftest import SQLITE_ONLY, Browser
from .seed import thread

LONG_NAME = "N" * 10_000
CORPUS = [
    "<script>alert('x1')</script>",
    '"><img src=x onerror=alert(2)>',
    "' onmouseover='alert(3)' x='",
    '" onmouseover="alert(4)',
    "javascript:alert(5)",
    "JaVaScRiPt:alert(6)//https://ok.example",
    'https://ok.example/"><script>alert(7)</script>',
    "https://user:pw@evil.example/login",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==",
    "\u202egnp.exe\u202c and \u2066isolate\u2069",
    "</textarea><script>alert(9)</script>",
    "{{ 7*7 }} {% raw %}",
    '<a href="javascript:alert(10)">click</a>',
]


class Audit(HTMLParser):
    """Collects what matters for script execution: script tags, event-handler attributes, link targets."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[tuple[str, str]] = []
        self.hrefs: list[str] = []
        self.styles: list[str] = []
        self.imgs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a)
        if tag == "img":
            self.imgs.append(a.get("src") or "")
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name in ("href", "src", "action", "formaction") and value is not None:
                self.hrefs.append(value)
            if name == "style":
                self.styles.append(value or "")


def assert_inert(html: str, where: str) -> None:
    audit = Audit()
    audit.feed(html)
    assert all((s.get("src") or "").startswith("/static/") for s in audit.scripts), where
    assert not audit.handlers, (where, audit.handlers[:3])
    assert not audit.styles, where
    assert not audit.imgs, where
    for url in audit.hrefs:
        ok = url.startswith(("/", "#", "?")) and not url.startswith("//")
        ok = ok or url.startswith(("http://", "https://"))
        assert ok, (where, url)
        assert "javascript:" not in url.lower() and "@" not in url.split("/")[2 if "://" in url else 0], (
            where,
            url,
        )
    assert "\u202e" not in html and "\u2066" not in html, where
    assert "N" * 1000 not in html, where
    assert "<script>alert" not in html and "<img src=x" not in html, where


def seed_hostile(engine, agent: Browser) -> list[int]:
    convs = []
    for i, evil in enumerate(CORPUS):
        ids = thread(
            engine,
            text=f"help {evil} see {evil}",
            name=(LONG_NAME if i == 0 else evil),
            username=f"u{i}{evil[:20]}",
            bio=f"bio {evil} https://fine.example/{i}",
            kind="dm" if i % 3 == 0 else "public",
            intent="complaint",
            sentiment="negative",
            sensitive=["email"],
            priority=0.9,
        )
        convs.append(ids["conversation"])
    first = convs[1]
    assert agent.post(f"/c/{first}/note", {"text": f"note {CORPUS[0]} {CORPUS[4]} @bob"}).status_code == 303
    assert agent.post(f"/c/{first}/tag", {"name": "vip<script>"}).status_code == 303
    return convs


def test_hostile_strings_render_inert_in_every_view_and_stay_readable(agent: Browser, engine) -> None:
    convs = seed_hostile(engine, agent)
    pages = [
        "/",
        "/inbox/all",
        "/inbox/dms",
        "/inbox/mentions",
        "/inbox/unassigned",
        "/inbox/all/rows",
        "/inbox/all?sort=waiting",
        "/search?q=help",
        "/search?q=" + "%3Cscript%3E",
    ]
    pages += [f"/c/{c}" for c in convs]
    for path in pages:
        resp = agent.client.get(path)
        assert resp.status_code == 200, path
        assert_inert(resp.text, path)

    # the text is still there, escaped: nothing stored is lost
    html = agent.client.get(f"/c/{convs[0]}").text
    assert "&lt;script&gt;alert(&#39;x1&#39;)&lt;/script&gt;" in html
    html = agent.client.get(f"/c/{convs[6]}").text
    # the link target stops where the quote would break out; the rest is escaped text
    assert 'href="https://ok.example/" rel=' in html
    assert "&#34;&gt;&lt;script&gt;alert(7)&lt;/script&gt;" in html
    assert 'rel="noopener noreferrer nofollow"' in html
    html = agent.client.get(f"/c/{convs[4]}").text
    assert "javascript:alert(5)" in html and 'href="javascript' not in html.lower()
    assert "\ufffdgnp.exe" in agent.client.get(f"/c/{convs[9]}").text


def test_hostile_saved_reply_and_user_names_inert_in_settings(admin: Browser, engine) -> None:
    for i, evil in enumerate(CORPUS[:4]):
        admin.post(
            "/settings/saved-replies", {"name": f"r{i} {evil}", "body": f"Hi {{{{contact.name}}}} {evil}"}
        )
        admin.post(
            "/settings/users", {"username": f"x{i}", "name": evil, "role": "agent", "password": "p" * 12}
        )
    ids = thread(engine, name=CORPUS[1])
    for path in (
        "/settings/saved-replies",
        "/settings/users",
        "/settings/audit",
        f"/c/{ids['conversation']}",
    ):
        resp = admin.client.get(path)
        assert resp.status_code == 200, path
        assert_inert(resp.text, path)


@SQLITE_ONLY
def test_api_returns_hostile_text_as_json_data(agent: Browser, engine) -> None:
    ids = thread(engine, text=CORPUS[0], name=CORPUS[1])
    resp = agent.client.get(f"/api/v1/conversations/{ids['conversation']}/messages")
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()[0]["text"] == CORPUS[0]
