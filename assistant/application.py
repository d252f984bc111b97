"""The application object: settings in, one `Assistant` out, through which the CLI, the web app, evaluation,
the benchmarks and the load script ask, search, ingest and read documents.

It checks what users type (question length, filters) once, with Dutch and English messages, loads the model only
when something needs it, and reloads the index when an ingest has moved its generation. It renders nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from assistant.answer import AbstainPolicy, Answer, compose, policy_for, with_filters
from assistant.catalog import Catalog
from assistant.config import Settings
from assistant.earlier import Similar, SimilarPolicy, find_similar, similar_policy_for
from assistant.embed import Embedder, encoder_of
from assistant.errors import ConfigError, IndexMissingError
from assistant.filters import NO_FILTERS, Filters, FilterValues, Resolved
from assistant.followup import Resolved as FollowupResolved
from assistant.followup import Turn, compose_resolved, resolve, search_resolved
from assistant.index import Index, Manifest
from assistant.index.docs import MANIFEST
from assistant.retrieve import RetrievalSettings, Retriever
from assistant.types import Document, Hit, Retrieval

QUESTION_MAX = 2_000
DRAFT_MAX = 5_000
"""A draft question for "Eerder gesteld?" may carry its whole preamble, so it may be longer than a chat question."""
TOP_K_MAX = 20
"""The most parts one question may ask for (API and Python); the widget shows fewer."""
SIMILAR_PER_PART = 3
HISTORY_MAX_TURNS = 10
"""Earlier turns a question may bring; older ones add nothing a follow-up can use."""
CITED_MAX = 10
"""Cited parts per earlier turn."""


def question_problem(question: str, limit: int = QUESTION_MAX) -> str | None:
    """Why `question` cannot be asked (Dutch / English), or None when it can."""
    if not question or not question.strip():
        return "De vraag is leeg: typ een vraag. / The question is empty: type a question."
    if len(question) > limit:
        return (
            f"De vraag is te lang: {len(question)} tekens, maximaal {limit}. "
            f"/ The question is too long: {len(question)} characters, at most {limit}."
        )
    return None


def check_history(history: Sequence[Any] | None) -> tuple[Turn, ...]:
    """Earlier turns from the API's shape ({"question": ..., "cited": ["doc#3e", ...]}, or Turn values), checked
    like a question is; ConfigError (Dutch + English) names the turn that is wrong."""
    turns: list[Turn] = []
    items = list(history or ())
    if len(items) > HISTORY_MAX_TURNS:
        raise ConfigError(
            f"De geschiedenis telt {len(items)} beurten, maximaal {HISTORY_MAX_TURNS}. "
            f"/ The history has {len(items)} turns, at most {HISTORY_MAX_TURNS}."
        )
    for i, item in enumerate(items, start=1):
        try:
            turn = item if isinstance(item, Turn) else Turn.from_dict(item)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            raise ConfigError(
                f'Beurt {i} van de geschiedenis is onleesbaar: verwacht {{"question": ..., "cited": ["doc#3e"]}}. '
                f'/ History turn {i} is malformed: expected {{"question": ..., "cited": ["doc#3e"]}}.'
            ) from None
        problem = question_problem(turn.question)
        if problem:
            raise ConfigError(f"Geschiedenis, beurt {i}: {problem}")
        if len(turn.cited) > CITED_MAX or any(not d or len(d) + len(p) > 200 for d, p in turn.cited):
            raise ConfigError(
                f"Geschiedenis, beurt {i}: hoogstens {CITED_MAX} geciteerde delen als 'doc#deel'. "
                f"/ History turn {i}: at most {CITED_MAX} cited parts as 'doc#part'."
            )
        turns.append(turn)
    return tuple(turns)


def _checked(question: str, limit: int = QUESTION_MAX) -> str:
    problem = question_problem(question, limit)
    if problem:
        raise ConfigError(problem)
    return question.strip()


FAKE_MODEL = "fake"
"""ASSISTANT_MODEL=fake: the model-free hashing embedder (tests, and load tests of the server's own overhead)."""


def make_embedder(settings: Settings, threads: int | None = None) -> Embedder:
    """The embedder the settings name, run by their encoder (the model is loaded here, once); `threads` caps its
    intra-op threads (None: the library's choice)."""
    if settings.model == FAKE_MODEL:
        from assistant.hashing_embedder import HashingEmbedder

        return HashingEmbedder()
    from assistant.embed import open_embedder

    return open_embedder(
        settings.model, settings.cache_dir, settings.encoder, batch_size=settings.batch_size, threads=threads
    )


class Assistant:
    """Ask, search, ingest and read documents over one index. Open with `Assistant.open(settings)`."""

    def __init__(
        self,
        settings: Settings,
        index: Index,
        embedder: Embedder | None = None,
        retrieval: RetrievalSettings | None = None,
        policy: AbstainPolicy | None = None,
        embedder_factory: Callable[[], Embedder] | None = None,
        similar_policy: SimilarPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.index = index
        self.retrieval = retrieval or RetrievalSettings()
        self._embedder = embedder
        self._factory = embedder_factory or (lambda: make_embedder(settings))
        self._policy = policy
        self._similar_policy = similar_policy
        self._retriever: Retriever | None = None
        self._catalog: tuple[int, Catalog] | None = None
        self._values: tuple[int, FilterValues] | None = None
        self._manifest_stamp: int | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        index_dir: Path | None = None,
        embedder: Embedder | None = None,
        index: Index | None = None,
        retrieval: RetrievalSettings | None = None,
        policy: AbstainPolicy | None = None,
        create: bool = False,
        similar_policy: SimilarPolicy | None = None,
    ) -> Assistant:
        """The assistant over the index in `index_dir` (default: the settings'), or over `index`; the model is loaded
        when first needed, unless `embedder` is given. IndexMissingError when there is no index there, unless
        `create` (for a first ingest)."""
        folder = index_dir or settings.index_dir
        if index is None:
            if not create and Manifest.read(folder) is None:
                raise IndexMissingError(
                    f"No index in {folder}/ - run `assistant ingest corpus/ --index {folder}` first."
                )
            index = Index.open(folder, settings.chroma_url, settings.collection)
        return cls(settings, index, embedder, retrieval, policy, similar_policy=similar_policy)

    # -- the model and the retriever

    @property
    def embedder(self) -> Embedder:
        """The embedder (loaded on first use)."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = self._factory()
        return self._embedder

    @property
    def model(self) -> str:
        return self._embedder.name if self._embedder is not None else self.settings.model

    @property
    def policy(self) -> AbstainPolicy:
        """When to say "not found": given, or the one calibrated for the model (none for an uncalibrated one)."""
        if self._policy is not None:
            return self._policy
        return policy_for(self.embedder.name if self.retrieval.mode != "bm25" else None)

    @property
    def similar_policy(self) -> SimilarPolicy:
        """When an earlier sub-question is like a draft's: given, or the one calibrated for the model."""
        if self._similar_policy is not None:
            return self._similar_policy
        return similar_policy_for(self.embedder.name if self.retrieval.mode != "bm25" else None)

    @property
    def retriever(self) -> Retriever:
        """The retriever over the index; IndexMissingError until an ingest has written one."""
        if self._retriever is None:
            with self._lock:
                if self._retriever is None:
                    self._retriever = self._open_retriever()
        return self._retriever

    def _open_retriever(self) -> Retriever:
        manifest = self.index.manifest
        folder = self.index.dir
        if manifest is None:
            raise IndexMissingError(f"No index in {folder}/ - run `assistant ingest corpus/ --index {folder}` first.")
        embedder = None
        if self.retrieval.mode != "bm25":
            # the lock is held: load the model directly, not through the property
            if self._embedder is None:
                self._embedder = self._factory()
            embedder = self._embedder
            manifest.check(embedder.name, embedder.dim, folder, encoder_of(embedder))
        return Retriever(self.index, embedder, self.retrieval)

    def reload(self) -> None:
        """Read the documents and keywords again (after an ingest by this or another process)."""
        if self._retriever is not None:
            self._retriever.reload()

    def refresh(self) -> bool:
        """Reload when an ingest has moved the index's generation since it was read; whether it did. Cheap when
        nothing changed (one stat of the manifest), so a server calls it on every request."""
        retriever = self._retriever
        if retriever is None:
            return False
        try:
            stamp = (self.index.dir / MANIFEST).stat().st_mtime_ns
        except OSError:
            return False
        if stamp == self._manifest_stamp:
            return False
        self._manifest_stamp = stamp
        manifest = self.index.manifest
        if manifest is None or manifest.generation == retriever.snapshot.generation:
            return False
        retriever.reload()
        return True

    # -- asking

    def search(self, question: str, filters: Filters | Mapping[str, Any] | None = None, top_k: int = 10) -> Retrieval:
        """Ranked parts and the evidence, without composing an answer (no input checks but the filters': for
        evaluation and tools)."""
        return self.retriever.search(question, self.resolve_filters(filters).filters, top_k)

    def filter_values(self) -> FilterValues:
        """The values the documents use for each name filter, per generation of the index."""
        snap = self.retriever.snapshot
        cached = self._values
        if cached is None or cached[0] != id(snap):
            cached = (id(snap), FilterValues.of(snap.docs.values()))
            self._values = cached
        return cached[1]

    def resolve_filters(self, filters: Filters | Mapping[str, Any] | None) -> Resolved:
        """Filters checked, each name resolved to the values the documents use (case, accents, punctuation, word
        order, a prefix or a near-miss); ConfigError (Dutch + English) naming the field and the closest values."""
        return self.filter_values().resolve(filters)

    def ask(
        self,
        question: str,
        filters: Filters | Mapping[str, Any] | None = None,
        top_k: int = 5,
        policy: AbstainPolicy | None = None,
        history: Sequence[Any] | None = None,
        try_unfiltered: bool = True,
    ) -> Answer:
        """The cited answer to a question, or a plain 'not found'; ConfigError (Dutch + English) for a question,
        filter or history that cannot be used. `history`: the earlier turns of the conversation, oldest first (their
        questions and the parts cited for them); a follow-up is resolved from them and the answer says how.
        `try_unfiltered`: when nothing is found under the filters, whether to say if the question is answered
        without them (not for filters the user cannot drop, such as a widget key's)."""
        question = _checked(question)
        self._check_top_k(top_k)
        resolved_filters = self.resolve_filters(filters)
        checked = resolved_filters.filters
        turns = check_history(history)
        policy = policy or self.policy
        if not turns:
            answer = compose(question, self.retriever.search(question, checked, top_k), policy)
            return self._with_filters(answer, question, resolved_filters, policy, top_k, try_unfiltered)
        resolved, retrieval = self.search_followup(question, turns, checked, top_k)
        answer = compose_resolved(resolved, retrieval, policy, self.catalog())
        return self._with_filters(answer, resolved.query, resolved_filters, policy, top_k, try_unfiltered)

    def search_followup(
        self, question: str, turns: Sequence[Turn], filters: Filters | Mapping[str, Any] | None = None, top_k: int = 5
    ) -> tuple[FollowupResolved, Retrieval]:
        """A question in its conversation resolved and searched, without composing an answer: what `ask` does with
        a history, up to the abstain decision (for it and for the abstain calibration)."""
        resolved = resolve(question, turns, self.catalog())
        retriever = self.retriever

        def search(q: str, f: Mapping[str, Any], k: int) -> list[Hit]:
            return list(retriever.search(q, f, k).hits)

        checked = filters if isinstance(filters, Filters) else self.resolve_filters(filters).filters
        hits = search_resolved(resolved, search, checked.as_dict(), top_k)
        best = hits[0] if hits else None
        evidence = retriever.evidence(resolved.query, best)
        return resolved, Retrieval(tuple(hits), evidence)

    def _with_filters(
        self, answer: Answer, query: str, filters: Resolved, policy: AbstainPolicy, top_k: int, try_unfiltered: bool
    ) -> Answer:
        """The answer saying which filters were applied; when it found nothing under them, whether the question
        is answered without them (one more search, only then)."""
        if not filters.active:
            return answer
        found_without = None
        if answer.abstained and try_unfiltered:
            unfiltered = self.retriever.search(query, NO_FILTERS, top_k)
            found_without = bool(unfiltered.hits) and not policy.abstains(unfiltered.evidence)
        return with_filters(answer, filters, found_without)

    def catalog(self) -> Catalog:
        """Document metadata for follow-ups (departments, series of one question to several ministers), per
        generation of the index."""
        snap = self.retriever.snapshot
        cached = self._catalog
        if cached is None or cached[0] != id(snap):
            cached = (id(snap), Catalog(snap.docs.values()))
            self._catalog = cached
        return cached[1]

    def similar(
        self, draft: str, filters: Filters | Mapping[str, Any] | None = None, top_k: int = SIMILAR_PER_PART
    ) -> Similar:
        """Eerder gesteld?: per sub-question of a draft, up to `top_k` earlier sub-questions above the calibrated
        similarity cut-off, most similar first, each earlier paragraph shown once."""
        draft = _checked(draft, DRAFT_MAX)
        self._check_top_k(top_k)
        checked = self.resolve_filters(filters).filters
        retriever = self.retriever

        def search(query: str, k: int) -> list[Hit]:
            return list(retriever.search(query, checked, k).hits)

        return find_similar(draft, search, self.similar_policy, top_k)

    @staticmethod
    def _check_top_k(top_k: int) -> None:
        if not 1 <= top_k <= TOP_K_MAX:
            raise ConfigError(
                f"top_k moet tussen 1 en {TOP_K_MAX} liggen, niet {top_k}. "
                f"/ top_k must be 1 to {TOP_K_MAX}, not {top_k}."
            )

    # -- documents

    def document(self, doc_id: str) -> Document | None:
        return self.retriever.snapshot.docs.get(doc_id)

    def documents(self) -> list[Document]:
        return list(self.retriever.snapshot.docs.values())

    def choices(self, field: str) -> list[str]:
        """The distinct values of a document field, sorted, for a filter list."""
        return sorted({value for d in self.documents() if (value := getattr(d, field))})

    @property
    def parts_indexed(self) -> int:
        return len(self.retriever.snapshot.keywords.keys)

    # -- ingesting

    def ingest(
        self,
        paths: Iterable[Path],
        *,
        rebuild: bool = False,
        mapping: Any = None,
        progress: bool = True,
    ) -> Any:
        """Bring the index up to date with the files under `paths` (see ingest.ingest); returns its IngestReport."""
        from assistant.ingest import ingest

        report = ingest(
            paths,
            self.index,
            lambda: self.embedder,
            model_name=self.model,
            rebuild=rebuild,
            mapping=mapping,
            progress=progress,
        )
        self.reload()
        return report

    def manifest(self) -> Manifest | None:
        return self.index.manifest

    def close(self) -> None:
        self.index.close()


def open_assistant(settings: Settings, index_dir: Path | None = None, **kwargs: Any) -> Assistant:
    """`Assistant.open` with its retriever opened now, so a missing index or model is reported at once."""
    app = Assistant.open(settings, index_dir=index_dir, **kwargs)
    app.retriever  # noqa: B018 - opening it is the point
    return app


__all__: Sequence[str] = ("DRAFT_MAX", "QUESTION_MAX", "TOP_K_MAX", "Assistant", "Similar", "open_assistant")
