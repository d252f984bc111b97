"""Follow-up questions in a real Chromium, in the chat and in the widget on a host page: a question, then "En bij
Justitie?" finds the same question put to that minister and says what it understood; "Stel als nieuwe vraag" asks
it apart from the conversation; "Nieuw gesprek" forgets it. Screenshots go to /tmp/pqa-shots/conversation-*.png
(desktop 1366x900 and phone 390x844) for a person to look at."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.config import Settings, WidgetKey
from assistant.index import Index
from assistant.ingest import ingest
from assistant.web.app import create_app
from assistant.web.widget import snippet
from tests.conftest import fake_assistant
from tests.fakes import FakeEmbedder
from tests.series import FIN_FIGURE, FIRST, FOLLOWUP, JUS_FIGURE, JUS_ID, write_series_corpus
from tests.test_browser import SHOTS, TIMEOUT_MS, _free_port, browser, serving  # noqa: F401 - the same Chromium fixture
from tests.test_widget_browser import Host

BROWSING = 10_000
"""Questions a minute from the one browser these tests drive: more than a visitor may ask (the limit is
tests/test_security.py's), so a suite that asks fast is not refused."""

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
JUS_PART = f"doc/{JUS_ID}?part=1"


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The app over the sample corpus plus a vertaaldienst series, and a host page that embeds the widget."""
    root = tmp_path_factory.mktemp("conversation")
    folder = root / "idx"
    ingest([write_series_corpus(root / "corpus")], Index.open(folder), FakeEmbedder, model_name="fake", progress=False)
    port = _free_port()
    key = WidgetKey("conv", origins=(f"http://127.0.0.1:{port}",), per_minute=1000, per_client_per_minute=1000)
    with serving(create_app(Settings(widgets=(key,), client_per_minute=BROWSING), fake_assistant(folder))) as app_url:
        tag = snippet(app_url + "/", "conv", "HR-assistent")
        english = tag.replace(" defer>", ' data-lang="en" defer>')
        page = '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Intranet</title></head><body>'
        host = Host(port, {"/nl.html": f"{page}<h1>Intranet</h1>{tag}</body></html>",
                           "/en.html": f"{page}<h1>Intranet</h1>{english}</body></html>"})  # fmt: skip
        yield {"app": app_url, "host": host.url}
        host.close()


@contextlib.contextmanager
def opened(browser: Any, viewport: dict[str, int]) -> Iterator[Any]:  # noqa: F811 - the imported fixture, by name
    context = browser.new_context(viewport=viewport, locale="nl-BE")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        yield page
    finally:
        context.close()
    assert dialogs == []


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


# ---------------------------------------------------------------- the Gradio chat


def _chat_ask(page: Any, question: str) -> Any:
    """Ask in the chat and wait for the answer: the newest bot message."""
    bots = page.locator("#pqa-chat .message.bot")
    before = bots.count()
    box = page.locator("#pqa-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#pqa-chat .message.bot .pqa-answer:not(.pqa-pending)').length > n", arg=before
    )
    return bots.nth(before)


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_chat_answers_a_followup_and_says_what_it_understood(
    browser: Any,  # noqa: F811
    sites: dict[str, str],
    viewport: dict[str, int],
    name: str,
) -> None:
    with opened(browser, viewport) as page:
        page.goto(sites["app"] + "/")
        first = _chat_ask(page, FIRST)
        assert FIN_FIGURE in first.inner_text()
        assert first.locator(".pqa-understood").count() == 0
        assert not page.locator("#pqa-reask").is_visible()

        followup = _chat_ask(page, FOLLOWUP)
        understood = followup.locator(".pqa-understood")
        assert understood.inner_text().startswith("Ik begreep: hoeveel mensen werken er op de vertaaldienst")
        assert "Justitie" in understood.inner_text() and "(vervolg op uw vorige vraag)" in understood.inner_text()
        assert JUS_FIGURE in followup.locator(".pqa-hit").first.inner_text()
        assert JUS_PART in (followup.locator("a.pqa-chip").first.get_attribute("href") or "")
        reask = page.locator("#pqa-reask")
        assert reask.is_visible() and reask.inner_text() == "Stel als nieuwe vraag"
        page.wait_for_timeout(500)  # let Gradio's autoscroll finish, then show the follow-up's answer from its start
        page.evaluate(
            """() => { const wrap = document.querySelector('#pqa-chat .bubble-wrap');
                       const last = [...wrap.querySelectorAll('.message.bot')].pop();
                       wrap.scrollTop += last.getBoundingClientRect().top - wrap.getBoundingClientRect().top - 60;
                       window.scrollTo(0, wrap.getBoundingClientRect().top + window.scrollY - 80); }"""
        )
        _shot(page, f"conversation-chat-{name}.png")

        # One click asks "En bij Justitie?" as it stands, without the conversation.
        reask.click()
        page.wait_for_function(
            "() => document.querySelectorAll('#pqa-chat .message.bot .pqa-answer:not(.pqa-pending)').length > 2"
        )
        alone = page.locator("#pqa-chat .message.bot").last
        assert alone.locator(".pqa-understood").count() == 0
        assert page.locator("#pqa-chat .message.user").last.inner_text().strip() == FOLLOWUP
        reask.wait_for(state="hidden")

        # "Nieuw gesprek" empties the chat and forgets the conversation.
        page.locator("#pqa-new").click()
        page.wait_for_function("() => document.querySelectorAll('#pqa-chat .message').length === 0")
        again = _chat_ask(page, FOLLOWUP)
        assert again.locator(".pqa-understood").count() == 0
        assert FIN_FIGURE not in again.inner_text()


def test_chat_keeps_the_conversation_across_several_turns(browser: Any, sites: dict[str, str]) -> None:  # noqa: F811
    with opened(browser, DESKTOP) as page:
        page.goto(sites["app"] + "/")
        _chat_ask(page, FIRST)
        _chat_ask(page, "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?")  # a new topic, taken as it stands
        switched = page.locator("#pqa-chat .message.bot").last
        assert switched.locator(".pqa-understood").count() == 0
        assert "74,6 km" in switched.inner_text()


# ---------------------------------------------------------------- the widget on a host page


def _widget(page: Any, url: str) -> Any:
    page.goto(url)
    page.locator("[data-pqa-widget] .launcher").click()
    page.locator("[data-pqa-widget] .panel").wait_for(state="visible")
    return page.locator("[data-pqa-widget] .log")


def _widget_ask(page: Any, log: Any, question: str) -> Any:
    answers = log.locator(".answer")
    before = answers.count()
    box = page.locator("#pqa-q")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelector('[data-pqa-widget]').shadowRoot.querySelectorAll('.answer').length > n",
        arg=before,
    )
    return answers.nth(before)  # this answer, also once later ones follow


def _sent_history(bodies: list[str]) -> list[Any]:
    return [json.loads(b).get("history") for b in bodies]


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_widget_answers_a_followup_and_starts_over(
    browser: Any,  # noqa: F811
    sites: dict[str, str],
    viewport: dict[str, int],
    name: str,
) -> None:
    with opened(browser, viewport) as page:
        bodies: list[str] = []
        page.on("request", lambda r: bodies.append(r.post_data or "{}") if r.url.endswith("/ask") else None)
        log = _widget(page, sites["host"] + "/nl.html")
        first = _widget_ask(page, log, FIRST)
        assert FIN_FIGURE in first.inner_text()
        assert first.locator(".understood").count() == 0

        followup = _widget_ask(page, log, FOLLOWUP)
        understood = followup.locator(".understood p")
        assert understood.inner_text().startswith("Ik begreep: hoeveel mensen werken er op de vertaaldienst")
        assert JUS_FIGURE in followup.locator(".hit").first.inner_text()
        assert JUS_PART in (followup.locator(".hit a").first.get_attribute("href") or "")
        history = _sent_history(bodies)
        assert history[0] == []
        assert history[1][0]["question"] == FIRST
        assert history[1][0]["cited"][0] == "vd_2017_fin#1"
        _shot(page, f"conversation-widget-{name}.png")

        reask = followup.locator(".reask")
        assert reask.inner_text() == "Stel als nieuwe vraag"
        reask.click()
        page.wait_for_function(
            "() => document.querySelector('[data-pqa-widget]').shadowRoot.querySelectorAll('.answer').length > 2"
        )
        assert log.locator(".answer").last.locator(".understood").count() == 0
        assert _sent_history(bodies)[2] == []
        assert reask.is_disabled()

        restart = page.locator("[data-pqa-widget] .restart")
        assert restart.inner_text() == "Nieuw gesprek"
        restart.click()
        assert log.locator(".msg").count() == 1  # the greeting only
        assert log.locator(".greeting").count() == 1
        again = _widget_ask(page, log, FOLLOWUP)
        assert again.locator(".understood").count() == 0
        assert _sent_history(bodies)[3] == []


def test_widget_in_english_labels_the_conversation(browser: Any, sites: dict[str, str]) -> None:  # noqa: F811
    with opened(browser, DESKTOP) as page:
        log = _widget(page, sites["host"] + "/en.html")
        _widget_ask(page, log, FIRST)
        followup = _widget_ask(page, log, FOLLOWUP)
        assert followup.locator(".understood p").inner_text().startswith("Ik begreep: ")  # the server's line
        assert followup.locator(".reask").inner_text() == "Ask as a new question"
        assert page.locator("[data-pqa-widget] .restart").inner_text() == "New conversation"
        _shot(page, "conversation-widget-english.png")
