"""The chat's answer display in a real Chromium, as a person sees it, on a desktop (1366x900) and a phone (390x844),
in light and dark: the question shows at once with "Bezig met zoeken...", the first line of the answer holds the
figure, one header per document, no paragraph twice, no marks in an unrelated part, readable marks in the dark,
the question box in view on a phone, copy as Markdown, a permalink that asks again, a conversation that survives a
reload and downloads as Markdown. Screenshots go to /tmp/pqa-shots/chat-*.png for a person to look at."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from tests.test_browser import SHOTS, TIMEOUT_MS, base_url, browser  # noqa: F401 - the same server and Chromium

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
STAGE = "Hoeveel stagiairs van buitenlandse herkomst liepen in 2023 stage bij de Vlaamse overheid?"
STAGE_FIGURE = "34 van buitenlandse herkomst"
FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"
ANSWERED = "#pqa-chat .message.bot .pqa-answer:not(.pqa-pending)"
CONTRAST_MIN = 4.5
"""WCAG AA for body text."""


@contextlib.contextmanager
def opened(browser: Any, viewport: dict[str, int], scheme: str = "light") -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport=viewport, locale="nl-BE", color_scheme=scheme, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()
    assert errors == []


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def _answers(page: Any) -> int:
    return int(page.evaluate(f"() => document.querySelectorAll({ANSWERED!r}).length"))


def _ask(page: Any, question: str) -> Any:
    """Ask and wait for the answer (not the pending message); the newest bot message."""
    before = _answers(page)
    box = page.locator("#pqa-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(f"n => document.querySelectorAll({ANSWERED!r}).length > n", arg=before)
    page.wait_for_timeout(300)  # chat.js scrolls once the answer is in
    return page.locator("#pqa-chat .message.bot").last


def _watch_pending(page: Any) -> None:
    """Record, in the page, whether the question and "Bezig met zoeken..." showed before the answer came."""
    page.evaluate(
        """() => { window.pqaSeen = [];
        new MutationObserver(() => {
          const chat = document.querySelector('#pqa-chat');
          const pending = chat.querySelector('.pqa-pending');
          if (pending) window.pqaSeen.push({pending: pending.innerText,
                                            user: [...chat.querySelectorAll('.message.user')].pop()?.innerText || '',
                                            box: document.querySelector('#pqa-question textarea').value});
        }).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    )


VISIBLE = """(el) => { const r = el.getBoundingClientRect();
    let clip = {top: 0, bottom: window.innerHeight};
    for (let n = el.parentElement; n; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (/(auto|scroll|hidden)/.test(s.overflowY)) { const c = n.getBoundingClientRect();
        clip = {top: Math.max(clip.top, c.top), bottom: Math.min(clip.bottom, c.bottom)}; } }
    return r.height > 0 && r.top >= clip.top - 1 && r.top + 12 <= clip.bottom; }"""
"""Whether the first line of an element is in view: inside the window and every scrolling box around it."""


CONTRAST = """(el) => {
    const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const s = getComputedStyle(el);
    const [a, b] = [lum(s.color), lum(s.backgroundColor)];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); }"""


@pytest.mark.parametrize(
    ("viewport", "scheme", "name"),
    [(DESKTOP, "light", "desktop-light"), (DESKTOP, "dark", "desktop-dark"), (PHONE, "light", "phone-light"),
     (PHONE, "dark", "phone-dark")],
)  # fmt: skip
def test_the_answer_comes_first_and_marks_only_what_answers(
    browser: Any,  # noqa: F811
    base_url: str,  # noqa: F811
    viewport: dict[str, int],
    scheme: str,
    name: str,
) -> None:
    with opened(browser, viewport, scheme) as page:
        page.goto(base_url + "/")
        box = page.locator("#pqa-question textarea")
        box.wait_for()
        # On first load the question box is in view, on a phone too.
        assert box.evaluate(VISIBLE), "the question box is not visible on first load"
        _shot(page, f"chat-{name}-load.png")
        # Gradio's English chrome is gone: no settings, share, copy or clear buttons.
        text = page.locator("body").inner_text()
        for english in ("Settings", "Progressive Web App", "Clear", "Copy", "Share", "processing", "Built with"):
            assert english not in text
        assert page.locator("#pqa-ask").inner_text() == "Zoek antwoord"

        _watch_pending(page)
        bot = _ask(page, STAGE)
        seen = page.evaluate("window.pqaSeen")
        assert seen and "Bezig met zoeken" in seen[0]["pending"] and STAGE in seen[0]["user"]
        assert seen[0]["box"] == ""  # the question left the box for the chat, at once

        # The first line of the answer is the sentence with the figure, marked, and it is in view.
        first = bot.locator(".pqa-answer > *").first
        assert "pqa-direct" in (first.get_attribute("class") or "")
        direct = bot.locator(".pqa-direct-text")
        assert STAGE_FIGURE in direct.inner_text() and direct.locator("mark").count() == 1
        assert direct.evaluate(VISIBLE), "the direct answer is not in view"
        assert page.locator("#pqa-chat .message.user").last.evaluate(VISIBLE), "the question is hidden"
        _shot(page, f"chat-{name}-answer.png")

        # One header per document; no paragraph shown twice.
        docs = bot.locator(".pqa-doc-title").evaluate_all("els => els.map((a) => a.getAttribute('href'))")
        assert docs and len(docs) == len(set(docs))
        paragraphs = bot.locator(".pqa-a p").evaluate_all("els => els.map((p) => p.innerText.trim())")
        long = [p for p in paragraphs if len(p) >= 40]
        assert len(long) == len(set(long)), long
        # vraag 4 (contracts after the stage) mentions "buitenlandse herkomst" but does not answer this: no marks.
        part4 = bot.locator(".pqa-hit", has=page.locator('a.pqa-chip[href*="part=4"]'))
        assert part4.count() == 1 and part4.locator("mark").count() == 0
        assert bot.locator(".pqa-hit", has=page.locator('a.pqa-chip[href*="part=3e"]')).locator("mark").count() == 1

        # Marks stay readable: the text on the mark's own background, in light and in dark.
        ratio = direct.locator("mark").evaluate(CONTRAST)
        assert ratio >= CONTRAST_MIN, ratio
        # aria-labels are plain text, never the message's HTML.
        labels = page.locator("#pqa-chat [aria-label]").evaluate_all("els => els.map((e) => e.ariaLabel)")
        assert labels and not [label for label in labels if "<" in label]


def test_the_chat_scrolls_to_the_start_of_the_new_answer(browser: Any, base_url: str) -> None:  # noqa: F811
    with opened(browser, DESKTOP) as page:
        page.goto(base_url + "/")
        _ask(page, FIETS)
        bot = _ask(page, STAGE)
        # The new answer starts near the top of the chat, under its question: its first line is in view, not the
        # bottom of its last part.
        top = bot.evaluate(
            """(el) => { let n = el.parentElement;
            while (n && !(n.scrollHeight > n.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(n).overflowY)))
              n = n.parentElement;
            return n ? el.getBoundingClientRect().top - n.getBoundingClientRect().top : null; }"""
        )
        assert top is not None and 0 <= top <= 160, top
        assert bot.locator(".pqa-direct-text").evaluate(VISIBLE)
        assert page.locator("#pqa-chat .message.user").last.evaluate(VISIBLE)
        assert not page.locator("#pqa-chat .message.user").first.evaluate(VISIBLE)  # the first turn scrolled away


def test_copy_gives_markdown_with_the_citations(browser: Any, base_url: str) -> None:  # noqa: F811
    with opened(browser, DESKTOP) as page:
        page.goto(base_url + "/")
        bot = _ask(page, STAGE)
        copy = bot.locator(".pqa-copy")
        assert copy.inner_text() == "Kopieer antwoord"
        copy.focus()
        page.keyboard.press("Enter")  # by keyboard
        bot.get_by_text("Gekopieerd").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "<" not in copied.replace("\\<", "")  # Markdown, no HTML
        assert STAGE_FIGURE in copied.split("\n")[0]
        assert f"[vraag 3e]({base_url}/doc/sv_2024_0213?part=3e#part-3e)" in copied
        assert "### Vlaamse overheid - Stages voor kansengroepen in 2023" in copied


def test_the_keyboard_alone_asks_and_reaches_the_source(browser: Any, base_url: str) -> None:  # noqa: F811
    """Tab from the question box to "Zoek antwoord", Enter asks; Tab then reaches the answer's links in order."""
    with opened(browser, DESKTOP) as page:
        page.goto(base_url + "/")
        box = page.locator("#pqa-question textarea")
        box.focus()
        page.keyboard.type(STAGE)
        before = _answers(page)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "pqa-ask"
        page.keyboard.press("Enter")
        page.wait_for_function(f"n => document.querySelectorAll({ANSWERED!r}).length > n", arg=before)
        bot = page.locator("#pqa-chat .message.bot").last
        assert STAGE_FIGURE in bot.locator(".pqa-direct-text").inner_text()
        chip = bot.locator("a.pqa-chip").first
        chip.focus()  # a link like any other: reachable and followed by the keyboard
        assert page.evaluate("document.activeElement.classList.contains('pqa-chip')")
        # Gradio opens a chat's links in a new tab (target=_blank)
        with page.expect_popup() as opened_tab:
            page.keyboard.press("Enter")
        source = opened_tab.value
        source.wait_for_load_state()
        assert "/doc/sv_2024_0213" in source.url and "part=3e" in source.url
        assert source.locator("#part-3e").count() == 1


def test_the_permalink_asks_again(browser: Any, base_url: str) -> None:  # noqa: F811
    with opened(browser, PHONE) as page:
        page.goto(base_url + "/")
        bot = _ask(page, STAGE)
        link = bot.locator("a.pqa-permalink").get_attribute("href") or ""
        assert link == "?q=" + quote_plus(STAGE)
    with opened(browser, PHONE) as fresh:  # another browser: nothing kept
        fresh.goto(base_url + "/" + link)
        fresh.wait_for_function(f"() => document.querySelectorAll({ANSWERED!r}).length === 1")
        assert STAGE in fresh.locator("#pqa-chat .message.user").last.inner_text()
        assert STAGE_FIGURE in fresh.locator("#pqa-chat .pqa-direct-text").inner_text()
        _shot(fresh, "chat-permalink-phone.png")


def test_a_permalink_carries_its_filters(browser: Any, base_url: str) -> None:  # noqa: F811
    with opened(browser, DESKTOP) as page:
        page.goto(f"{base_url}/?q={quote_plus(FIETS)}&party=Groen")
        page.wait_for_function(f"() => document.querySelectorAll({ANSWERED!r}).length === 1")
        assert page.locator("#pqa-chat .pqa-doc-title").evaluate_all("els => els.map((a) => a.innerText)")
        permalink = page.locator("#pqa-chat a.pqa-permalink").get_attribute("href") or ""
        assert "party=Groen" in permalink


def test_the_conversation_survives_a_reload_and_downloads(
    browser: Any,  # noqa: F811
    base_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    with opened(browser, DESKTOP) as page:
        page.goto(base_url + "/")
        _ask(page, FIETS)
        _ask(page, STAGE)
        page.reload()
        page.wait_for_function(f"() => document.querySelectorAll({ANSWERED!r}).length === 2")
        users = page.locator("#pqa-chat .message.user").all_inner_texts()
        assert [u.strip() for u in users] == [FIETS, STAGE]
        assert "74,6 km" in page.locator("#pqa-chat .message.bot").first.inner_text()
        _shot(page, "chat-reloaded.png")

        with page.expect_download() as download:
            page.locator("#pqa-export").click()
        target = tmp_path / "gesprek.md"
        download.value.save_as(target)
        markdown = target.read_text(encoding="utf-8")
        assert markdown.startswith("# Parlement Q&A - gesprek")
        assert f"## {FIETS}" in markdown and f"## {STAGE}" in markdown
        assert markdown.index(FIETS) < markdown.index("74,6 km") < markdown.index(STAGE) < markdown.index("34 van")
        assert f"({base_url}/doc/sv_2024_0213?part=3e#part-3e)" in markdown

        # "Nieuw gesprek" forgets it, across a reload too.
        page.locator("#pqa-new").click()
        page.wait_for_function("() => document.querySelectorAll('#pqa-chat .message').length === 0")
        page.reload()
        page.locator("#pqa-question textarea").wait_for()
        page.wait_for_timeout(1000)
        assert page.locator("#pqa-chat .message").count() == 0


def test_english_with_lang_en(browser: Any, base_url: str) -> None:  # noqa: F811
    with opened(browser, DESKTOP) as page:
        page.goto(base_url + "/?lang=en")
        page.locator("#pqa-ask", has_text="Find the answer").wait_for()
        assert page.locator("#pqa-new").inner_text() == "New conversation"
        assert "Your question" in page.locator("#pqa-question").inner_text()
        bot = _ask(page, STAGE)
        assert bot.locator(".pqa-copy").inner_text() == "Copy answer"
        assert bot.locator(".pqa-chip").first.inner_text() == "question 3e"
        link = bot.locator("a.pqa-permalink")
        assert link.inner_text() == "Link to this answer" and (link.get_attribute("href") or "").endswith("&lang=en")
