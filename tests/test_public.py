"""The public Python surface: `assistant.__all__`, the README's Python example, and LangChain's own standard
retriever suite run against `as_langchain(...)`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

import assistant
from assistant.application import Assistant
from assistant.config import Settings
from assistant.index import Index
from assistant.lc import PartRetriever
from tests.conftest import CORPUS, ROOT
from tests.fakes import FakeEmbedder


def test_exported_members() -> None:
    """Every name in __all__ exists and says it belongs to the package (httpx's test_exported_members)."""
    for name in assistant.__all__:
        member = getattr(assistant, name)
        assert getattr(member, "__module__", "assistant").startswith("assistant"), name
    public = {n for n in dir(assistant) if not n.startswith("_")} - {"annotations", "TYPE_CHECKING", "Any"}
    modules = {n for n in public if type(getattr(assistant, n)).__name__ == "module"}
    assert public - modules <= set(assistant.__all__) | {"Answer", "Assistant", "Similar"}


_SAMPLE: dict[str, Any] = {}


def _sample_assistant(tmp: Path) -> Assistant:
    if "app" not in _SAMPLE:
        app = Assistant(Settings(), Index.in_memory(tmp), FakeEmbedder())
        app.ingest([CORPUS], progress=False)
        _SAMPLE["app"] = app
    return _SAMPLE["app"]


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Python block, run as written against an index of the sample corpus (the fake embedder)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", readme, re.S)
    assert block, "README has a Python example"
    app = Assistant.open(Settings(index_dir=tmp_path / "idx", model="fake"), create=True)
    app.ingest([CORPUS], progress=False)
    monkeypatch.setenv("ASSISTANT_INDEX", str(tmp_path / "idx"))
    monkeypatch.setenv("ASSISTANT_MODEL", "fake")
    scope: dict[str, Any] = {}
    code = block.group(1)
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - our own README
    lines = [ln.split("#", 1) for ln in code.splitlines() if ln.strip() and not ln.startswith(("from", "import"))]
    for expr, comment in (ln for ln in lines if len(ln) == 2 and "=" not in ln[0] and "(" not in ln[0][:1]):
        expected = comment.strip().strip("'\"").rstrip(".").removesuffix(" ...").removesuffix("...")
        assert str(eval(expr.strip(), scope)).startswith(expected), expr  # noqa: S307


class TestPartRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's own contract for retrievers: results via the constructor and via invoke(..., top_k=...),
    sync and async."""

    @pytest.fixture(autouse=True)
    def _index(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._app = _sample_assistant(tmp_path_factory.mktemp("lc"))

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return PartRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"assistant": self._app}

    @property
    def retriever_query_example(self) -> str:
        return "Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?"

    @property
    def num_results_arg_name(self) -> str:
        return "top_k"


def test_invoke_top_k_and_filters_override_the_constructor(tmp_path: Path) -> None:
    lc = assistant.as_langchain(_sample_assistant(tmp_path), top_k=5)
    assert len(lc.invoke("Hoeveel kilometer fietssnelweg werd in 2022 aangelegd?", top_k=1)) == 1
    docs = lc.invoke("fietssnelweg", filters={"doc_id": "sv_2024_0213"}, top_k=3)
    assert docs and {d.metadata["doc_id"] for d in docs} == {"sv_2024_0213"}
