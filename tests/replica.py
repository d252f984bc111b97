"""`assistant serve` with the tests' fake embedder, for tests that run the server as its own process (replicas):
the same Settings.from_env() and app.serve(), only the model is the deterministic FakeEmbedder.

    python -m tests.replica        # from the repository root, configured by ASSISTANT_* variables
"""

from __future__ import annotations

from assistant.config import Settings, go_offline
from assistant.index import Index
from assistant.retrieve import Retriever
from assistant.web.app import serve
from tests.fakes import FakeEmbedder


def main() -> None:
    go_offline()
    settings = Settings.from_env()
    serve(settings, Retriever(Index.open_existing(settings.index_dir, settings.chroma_url), FakeEmbedder()))


if __name__ == "__main__":
    main()
