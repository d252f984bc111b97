"""The chat's thumbs in a real Chromium: a thumb down under an answer and a comment reach the staff store, and the
staff page shows them (loopback). Screenshots go to /tmp/pqa-shots/staff-*.png for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.staff import STAFF_DB, StaffLog
from assistant.web.app import create_app
from tests.conftest import fake_assistant, ingest_sample
from tests.test_browser import SHOTS, browser, open_page, serving  # noqa: F401 - the same Chromium fixture

pytestmark = pytest.mark.browser

FIETS = "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = ingest_sample(tmp_path_factory.mktemp("staff-browser") / "idx")
    settings = Settings(client_per_minute=10_000, question_log=True)
    with serving(create_app(settings, fake_assistant(folder))) as url:
        yield url, folder / STAFF_DB


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811 - the imported fixture, by name
    with open_page(browser, 1000) as p:
        yield p


def test_a_thumb_down_and_a_comment_in_the_chat_reach_the_staff_page(page: Any, site: tuple[str, Path]) -> None:
    url, db = site
    page.goto(url + "/")
    box = page.locator("#pqa-question textarea")
    box.fill(FIETS)
    box.press("Enter")
    chat = page.locator("#pqa-chat")
    chat.get_by_text("74,6 km", exact=False).first.wait_for()
    chat.locator(".message.bot").last.hover()  # Gradio shows a message's buttons on hover
    chat.get_by_role("button", name="Vind ik niet leuk").last.click()  # Gradio's own Dutch for "Dislike"
    page.locator("#pqa-feedback-thanks").get_by_text("Bedankt voor uw feedback").wait_for()
    page.locator("#pqa-feedback-comment textarea").fill("Ik zocht de cijfers per provincie.")
    page.locator("#pqa-feedback-send").click()
    page.locator("#pqa-feedback-thanks").get_by_text("uw toelichting is bewaard").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "staff-chat-feedback.png"), full_page=True)
    [verdict] = StaffLog(db).feedback()
    assert (verdict.rating, verdict.question, verdict.comment, verdict.channel) == (
        "down",
        FIETS,
        "Ik zocht de cijfers per provincie.",
        "chat",
    )
    assert verdict.shown[0] == "sv_2023_0302#1"
    [asked] = StaffLog(db, log_questions=True).questions()
    assert (asked.question, asked.channel, asked.abstained) == (FIETS, "chat", False)

    page.goto(url + "/staff")  # the browser is on loopback
    assert page.get_by_role("heading", name="Vragen en feedback").is_visible()
    assert page.get_by_text("Ik zocht de cijfers per provincie.").is_visible()
    page.screenshot(path=str(SHOTS / "staff-page.png"), full_page=True)
