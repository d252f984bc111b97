"""The widget in a real Chromium, on host pages served from other local ports than the app: a cited answer for an
allowed origin, a clear refusal for another, document text shown inert, the page's CSS kept out (and ours in), and a
polite message past the rate limit. Screenshots go to /tmp/pqa-shots/widget-*.png for a person to look at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assistant.answer import AbstainPolicy
from assistant.config import Settings, WidgetKey
from assistant.staff import STAFF_DB, StaffLog
from assistant.web.app import create_app
from assistant.web.widget import snippet
from tests.conftest import fake_assistant, ingest_sample
from tests.test_browser import SHOTS, TIMEOUT_MS, _free_port, browser, open_page, serving  # noqa: F401 - the same Chromium fixture

pytestmark = pytest.mark.browser

FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
PHISHING = "Hoeveel meldingen van phishing en kwaadaardige e-mails kregen scholen en AGODI in 2022-2023?"
HOSTILE_CSS = "* { color: red !important; font-size: 40px !important }"
INSIDE = (".launcher", "#pqa-title", ".greeting", "#pqa-q", ".send")
"""Elements inside the shadow root whose look must not depend on the host page."""


class Host:
    """A host page server on its own loopback port: the intranet that embeds the widget."""

    def __init__(self, port: int, pages: dict[str, str]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pages(app_url: str, abstaining_url: str) -> dict[str, str]:
    def page(body: str, head: str = "") -> str:
        return (
            '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Intranet</title>'
            f"<style>body {{ font: 16px Georgia, serif; margin: 2rem; }} button {{ padding: 4px 8px; }}</style>{head}"
            f'</head><body><h1>Intranet HR</h1><p id="host-text">Welkom op het intranet.</p>'
            f'<button id="host-button">Een knop van de pagina</button>{body}</body></html>'
        )

    base = app_url + "/"
    widget = snippet(base, "intranet-test", "HR-assistent")
    return {
        "/plain.html": page(""),
        "/intranet.html": page(widget),
        "/hostile.html": page(widget, f"<style>{HOSTILE_CSS}</style>"),
        "/limited.html": page(snippet(base, "tiny", "HR-assistent")),
        "/abstaining.html": page(snippet(abstaining_url + "/", "intranet-test", "HR-assistent")),
        "/english.html": page(
            widget.replace(
                " defer>",
                ' data-lang="en" data-position="bottom-left" data-filters=\'{"doc_id": "sv_2023_1019"}\' defer>',
            )
        ),
    }


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The app under uvicorn, an allowed host page server and a foreign one, each on its own loopback port."""
    allowed_port, foreign_port = _free_port(), _free_port()
    allowed_origin = f"http://127.0.0.1:{allowed_port}"
    keys = (
        WidgetKey("intranet-test", origins=(allowed_origin,), per_minute=1000, per_client_per_minute=1000),
        WidgetKey("tiny", origins=(allowed_origin,), per_minute=1000, per_client_per_minute=1),
    )
    folder = ingest_sample(tmp_path_factory.mktemp("widget-browser") / "idx")
    app = create_app(Settings(widgets=keys), fake_assistant(folder))
    # the same app with a policy that always abstains, to see how the widget says so
    always = AbstainPolicy(dutch=2.0, english=2.0, unknown_words=2.0)
    abstaining = create_app(Settings(widgets=keys), fake_assistant(folder), abstain_policy=always)
    with serving(app) as app_url, serving(abstaining) as abstaining_url:
        pages = _pages(app_url, abstaining_url)
        allowed, foreign = Host(allowed_port, pages), Host(foreign_port, pages)
        yield {"app": app_url, "allowed": allowed.url, "foreign": foreign.url, "index": str(folder)}
        allowed.close()
        foreign.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811 - the imported fixture, by name
    with open_page(browser, 800) as p:
        yield p
    assert p.dialogs == [], f"a dialog opened: {p.dialogs}"


def _open(page: Any, url: str) -> Any:
    """Load a host page and open the widget from the keyboard; the panel's log."""
    page.goto(url)
    launcher = page.locator("[data-pqa-widget] .launcher")
    launcher.focus()
    page.keyboard.press("Enter")
    page.locator("[data-pqa-widget] .panel").wait_for(state="visible")
    return page.locator("[data-pqa-widget] .log")


def _ask(page: Any, question: str) -> None:
    box = page.locator("#pqa-q")
    box.fill(question)
    box.press("Enter")


def _focused(page: Any) -> str:
    """What has the focus inside the widget: an id or a class name."""
    return str(
        page.evaluate(
            "() => { const a = document.querySelector('[data-pqa-widget]').shadowRoot.activeElement;"
            " return a ? (a.id || a.className) : ''; }"
        )
    )


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def test_allowed_origin_gets_a_cited_answer_with_absolute_links(page: Any, sites: dict[str, str]) -> None:
    log = _open(page, sites["allowed"] + "/intranet.html")
    assert _focused(page) == "pqa-q"
    assert page.locator("[data-pqa-widget] .launcher").get_attribute("aria-expanded") == "true"
    _ask(page, FIETS)
    log.get_by_text("74,6 km", exact=False).first.wait_for()
    href = sites["app"] + "/doc/sv_2023_0302?part=1#part-1"
    link = log.locator(f'a[href="{href}"]').first
    assert "Fietssnelwegen - Aanleg en investeringen in 2022 - sv_2023_0302, vraag 1" in link.inner_text()
    assert log.locator("mark", has_text="74,6 km").count() >= 1
    assert _focused(page) == "pqa-q"  # ready for the next question
    _shot(page, "widget-answer.png")

    with page.context.expect_page() as opened:
        link.click()
    source = opened.value
    source.wait_for_load_state()
    assert source.url == href
    assert "74,6 km" in source.locator("#part-1").inner_text()
    source.close()

    page.keyboard.press("Escape")
    page.locator("[data-pqa-widget] .panel").wait_for(state="hidden")
    assert _focused(page) == "launcher"
    # The widget talks only to the server it came from.
    assert [u for u in page.requests if not u.startswith((sites["allowed"], sites["app"]))] == []


def test_thumbs_and_a_comment_reach_the_staff(page: Any, sites: dict[str, str]) -> None:
    log = _open(page, sites["allowed"] + "/intranet.html")
    _ask(page, FIETS)
    log.get_by_text("74,6 km", exact=False).first.wait_for()
    down = log.get_by_role("button", name="Nee, niet nuttig").last
    down.click()
    log.get_by_text("Bedankt voor uw feedback.").last.wait_for()
    assert down.get_attribute("aria-pressed") == "true"
    log.get_by_label("Toelichting (niet verplicht)").last.fill("Ik zocht de cijfers per provincie.")
    log.get_by_role("button", name="Verstuur toelichting").last.click()
    log.get_by_text("Bedankt, uw toelichting is bewaard.").last.wait_for()
    _shot(page, "widget-feedback.png")
    verdicts = [f for f in StaffLog(Path(sites["index"]) / STAFF_DB).feedback() if f.question == FIETS]
    assert [(f.rating, f.comment, f.channel) for f in verdicts] == [
        ("down", "Ik zocht de cijfers per provincie.", "widget")
    ]
    assert verdicts[0].shown[0] == "sv_2023_0302#1"


def test_another_origin_sees_a_clear_refusal(page: Any, sites: dict[str, str]) -> None:
    log = _open(page, sites["foreign"] + "/intranet.html")
    refusal = log.locator(".refusal")
    refusal.wait_for()
    assert refusal.inner_text() == (
        "Deze website mag de assistent niet gebruiken (widget-sleutel \u201cintranet-test\u201d niet toegestaan voor "
        f"{sites['foreign']})."
    )
    assert page.locator("#pqa-q").is_disabled() and page.locator("[data-pqa-widget] .send").is_disabled()
    _shot(page, "widget-refused.png")
    # The browser itself gets no answer for this page: the server sends it no CORS headers.
    blocked = page.evaluate(
        """url => fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
                              body: JSON.stringify({question: 'fietssnelweg'})})
                  .then(r => 'read ' + r.status, e => 'blocked: ' + e.name)""",
        sites["app"] + "/api/widget/intranet-test/ask",
    )
    assert blocked == "blocked: TypeError"


def test_document_text_is_shown_as_text_and_never_runs(page: Any, sites: dict[str, str]) -> None:
    log = _open(page, sites["allowed"] + "/intranet.html")
    _ask(page, PHISHING)
    log.get_by_text("312 meldingen", exact=False).first.wait_for()
    text = log.inner_text()
    assert "<script>alert(1)</script>" in text
    assert "<img src=x onerror=alert(2)>" in text
    inserted = page.evaluate(
        "document.querySelector('[data-pqa-widget]').shadowRoot.querySelectorAll('script, img, iframe').length"
    )
    assert inserted == 0
    page.wait_for_timeout(500)
    page.evaluate(
        """[...document.querySelector('[data-pqa-widget]').shadowRoot.querySelectorAll('blockquote')]
             .find(b => b.textContent.includes('<script>')).scrollIntoView({block: 'center'})"""
    )
    _shot(page, "widget-phishing.png")
    assert page.dialogs == []


def _styles(page: Any, selectors: tuple[str, ...], shadow: bool) -> dict[str, list[str]]:
    return dict(
        page.evaluate(
            """([selectors, shadow]) => {
                 const root = shadow ? document.querySelector('[data-pqa-widget]').shadowRoot : document;
                 return selectors.map(s => {
                   const c = getComputedStyle(root.querySelector(s));
                   return [s, [c.color, c.fontSize, c.fontFamily, c.backgroundColor, c.padding]];
                 });
               }""",
            [list(selectors), shadow],
        )
    )


def test_host_css_stays_out_and_widget_css_stays_in(page: Any, sites: dict[str, str]) -> None:
    _open(page, sites["allowed"] + "/intranet.html")
    calm = _styles(page, INSIDE, shadow=True)
    host_with_widget = _styles(page, ("#host-text", "#host-button", "h1"), shadow=False)

    _open(page, sites["allowed"] + "/hostile.html")
    assert page.evaluate("getComputedStyle(document.querySelector('#host-text')).color") == "rgb(255, 0, 0)"
    assert _styles(page, INSIDE, shadow=True) == calm
    assert calm["#pqa-title"][:2] == ["rgb(255, 255, 255)", "16px"]
    assert calm["#pqa-q"][:2] == ["rgb(31, 35, 40)", "15px"]
    _shot(page, "widget-hostile-css.png")

    page.goto(sites["allowed"] + "/plain.html")
    assert _styles(page, ("#host-text", "#host-button", "h1"), shadow=False) == host_with_widget


def test_past_the_rate_limit_the_widget_asks_to_wait(page: Any, sites: dict[str, str]) -> None:
    log = _open(page, sites["allowed"] + "/limited.html")
    _ask(page, FIETS)
    log.get_by_text("74,6 km", exact=False).first.wait_for()
    _ask(page, "Hoe lang staat een sociale huurwoning gemiddeld leeg?")
    notice = log.locator(".notice")
    notice.wait_for()
    assert notice.inner_text().startswith("Er worden nu te veel vragen gesteld. Probeer het over ")
    assert notice.inner_text().endswith(" seconden opnieuw, alvast bedankt.")
    assert not page.locator("#pqa-q").is_disabled()
    page.evaluate("document.querySelector('[data-pqa-widget]').shadowRoot.querySelector('.notice').scrollIntoView()")
    _shot(page, "widget-rate-limit.png")


def test_english_ui_on_the_left_with_the_pages_filters(page: Any, sites: dict[str, str]) -> None:
    log = _open(page, sites["allowed"] + "/english.html")
    assert page.locator("[data-pqa-widget] .launcher span:not(.icon)").inner_text() == "Ask a question"
    assert page.locator("#pqa-q").get_attribute("placeholder") == "Type your question and press Enter"
    assert page.locator("[data-pqa-widget] .close").get_attribute("aria-label") == "Close the assistant"
    box = page.locator("[data-pqa-widget] .panel").bounding_box()
    assert box["x"] < 100  # bottom-left
    _ask(page, FIETS)  # data-filters keeps the answers to sv_2023_1019, whatever the question
    log.locator(".answer").wait_for()
    hrefs = log.locator(".answer a").evaluate_all("links => links.map(a => a.href)")
    assert hrefs and all(h.startswith(sites["app"] + "/doc/sv_2023_1019?part=") for h in hrefs)
    assert "Question 1: " in log.inner_text()


def test_embed_demo_page_shows_the_snippet_and_works(page: Any, sites: dict[str, str]) -> None:
    log = _open(page, sites["app"] + "/embed-demo")
    assert f'<script src="{sites["app"]}/widget.js" data-key="demo"' in page.locator("pre").inner_text()
    _ask(page, FIETS)
    log.get_by_text("74,6 km", exact=False).first.wait_for()
    _shot(page, "widget-embed-demo.png")


def test_abstaining_says_so_and_names_the_words_no_document_uses(page: Any, sites: dict[str, str]) -> None:
    log = _open(page, sites["allowed"] + "/abstaining.html")
    _ask(page, "Hoeveel fietssnelweg werd aangelegd na de fipronilcrisis?")
    answer = log.locator(".answer")
    answer.wait_for()
    text = answer.inner_text()
    assert "Ik vond geen antwoord op deze vraag" in text and "'fipronilcrisis'" in text
    assert "Misschien bedoelt u:" in text
