"""Benchmarks of speed and scale, each figure measured in one run so the ratios hold on a noisy machine.

    .venv/bin/python eval/bench.py --corpus ../shared/corpora/be-chamber-2017/dekamer-2017.jsonl \
        --index /tmp/idx-be --questions ../shared/eval/be2017-dev.questions.jsonl --out reports/bench

1. ingest throughput on a slice of the corpus (fresh index) against the model's raw encode throughput on the same
   chunk texts, and the share of time spent outside embedding;
2. re-ingest of the unchanged corpus into the existing index;
3. ask latency (the whole answer path) p50/p95 at the index's size and at SCALE times the parts: the 10x index reuses
   the stored vectors with small random perturbations and new ids (nothing is embedded again);
4. peak RSS of a real `assistant serve` process answering over HTTP at both sizes.
Writes bench.json into --out and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dataclasses import replace  # noqa: E402

from assistant.application import Assistant, make_embedder  # noqa: E402
from assistant.chunk import chunk_document  # noqa: E402
from assistant.config import Settings, go_offline  # noqa: E402
from assistant.evaluate import metrics  # noqa: E402
from assistant.index import Index, Manifest  # noqa: E402
from assistant.parse import read_paths  # noqa: E402
from assistant.types import Document  # noqa: E402


def percentiles(seconds: list[float]) -> dict[str, float]:
    return {**metrics.percentiles(seconds), "n": len(seconds)}


def bench_ingest(corpus: Path, settings: Settings, docs_slice: int) -> dict[str, float]:
    """Ingest a slice into a fresh index, then encode the same chunk texts raw, in one process."""
    docs = [d for d in read_paths([corpus]) if isinstance(d, Document)][:docs_slice]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "slice.jsonl"
        with src.open("w", encoding="utf-8") as fh:
            for d in docs:
                record = {
                    "id": d.doc_id,
                    "title": d.title,
                    "question": d.question_text,
                    "answer": d.answer_text,
                    "date": d.date,
                    "department": d.department,
                    "minister": d.minister,
                }
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        embedder = make_embedder(settings)
        app = Assistant.open(settings, index_dir=Path(tmp) / "idx", embedder=embedder, create=True)
        report = app.ingest([src], progress=False)
        texts = [c.text for d in read_paths([src]) if isinstance(d, Document) for c in chunk_document(d)]
        t = time.perf_counter()
        for i in range(0, len(texts), 64):
            embedder.embed_passages(texts[i : i + 64])
        raw = time.perf_counter() - t
    return {
        "docs": report.docs_embedded,
        "parts": report.parts_embedded,
        "chunks": report.chunks_embedded,
        "ingest_seconds": round(report.seconds, 2),
        "embed_seconds_in_ingest": round(report.embed_seconds, 2),
        "docs_per_s": round(report.docs_embedded / report.seconds, 2),
        "parts_per_s": round(report.parts_embedded / report.seconds, 2),
        "chunks_per_s": round(report.chunks_embedded / report.seconds, 2),
        "raw_encode_chunks_per_s": round(len(texts) / raw, 2),
        "outside_embedding_share": round((report.seconds - report.embed_seconds) / report.seconds, 3),
    }


def bench_reingest(corpus: Path, index_dir: Path, settings: Settings) -> dict[str, float]:
    report = Assistant.open(settings, index_dir=index_dir).ingest([corpus], progress=False)
    return {
        "seconds": round(report.seconds, 2),
        "docs_unchanged": report.docs_unchanged,
        "chunks_embedded": report.chunks_embedded,
    }


def _perturbed(embeddings: Any, rng: np.random.Generator, copy: int) -> np.ndarray:
    """Stored vectors as they are for the first copy; slightly moved and renormalised for the others."""
    vectors = np.asarray(embeddings, dtype=np.float32)
    if copy:
        vectors = vectors + rng.normal(0, 0.01, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def make_scaled_index(index_dir: Path, target: Path, scale: int, seed: int = 7) -> None:
    """Copy the index SCALE times with new ids; vectors perturbed slightly and renormalised, texts reused."""
    rng = np.random.default_rng(seed)
    src = Index.open_existing(index_dir)
    manifest = Manifest.read(index_dir)
    assert manifest is not None
    replace(manifest, created="bench", generation=0).write(target)
    dst = Index.open(target)
    ids = src.parts.all_ids()
    docs = list(src.documents())
    for copy in range(scale):
        suffix = "" if copy == 0 else f"-x{copy}"
        for start in range(0, len(ids), 2000):
            got = src.parts.entries(ids[start : start + 2000])
            vectors = _perturbed([v for _, v in got], rng, copy)
            entries = [
                replace(e, id=e.doc_id + suffix + "#" + e.id.split("#", 1)[1], doc_id=e.doc_id + suffix) for e, _ in got
            ]
            dst.parts.upsert(entries, vectors)
        context_ids = [d.doc_id for d in docs]
        for start in range(0, len(context_ids), 2000):
            got = src.contexts.entries(context_ids[start : start + 2000])
            vectors = _perturbed([v for _, v in got], rng, copy)
            dst.contexts.upsert([replace(e, id=e.id + suffix, doc_id=e.doc_id + suffix) for e, _ in got], vectors)
        for d in docs:
            clone = Document.from_dict({**d.to_dict(), "doc_id": d.doc_id + suffix})
            dst.record(clone, "bench", [])
        dst.commit()
    dst.write_keywords()
    dst.close()
    src.close()


def bench_ask(index_dir: Path, settings: Settings, questions: list[str]) -> dict[str, float]:
    app = Assistant.open(settings, index_dir=index_dir)
    for q in questions[:5]:
        app.ask(q, top_k=10)  # warm-up
    seconds = []
    for q in questions:
        t = time.perf_counter()
        app.ask(q, top_k=10)
        seconds.append(time.perf_counter() - t)
    return {**percentiles(seconds), "parts": app.parts_indexed, "docs": len(app.documents())}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_server(index_dir: Path, questions: list[str]) -> dict[str, float]:
    """Peak RSS and HTTP latency of a real `assistant serve` process."""
    port = _free_port()
    env = dict(os.environ, ASSISTANT_INDEX=str(index_dir), ASSISTANT_PORT=str(port))
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "assistant"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/docs", timeout=2)
                break
            except OSError:
                time.sleep(1)
        seconds = []
        for i, q in enumerate(questions):
            body = json.dumps({"question": q, "top_k": 10}).encode("utf-8")
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/ask", body, {"Content-Type": "application/json"})
            t = time.perf_counter()
            with urllib.request.urlopen(req, timeout=60) as resp:
                resp.read()
            if i >= 5:
                seconds.append(time.perf_counter() - t)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        return {**percentiles(seconds), "peak_rss_mb": round(hwm / 1024, 1)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    go_offline()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--index", type=Path, required=True, help="an index of that corpus (built by assistant ingest)")
    p.add_argument("--questions", type=Path, required=True, help="gold questions to time (JSONL)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--scale", type=int, default=10)
    p.add_argument("--slice", type=int, default=200, help="documents in the ingest throughput run")
    p.add_argument("--skip", nargs="*", default=[], choices=["ingest", "reingest", "scale", "server"])
    args = p.parse_args()
    settings = Settings.from_env()
    questions = [json.loads(line)["question"] for line in args.questions.open(encoding="utf-8") if line.strip()]
    out: dict[str, object] = {}
    if "ingest" not in args.skip:
        out["ingest"] = bench_ingest(args.corpus, settings, args.slice)
        print("ingest", out["ingest"], flush=True)
    if "reingest" not in args.skip:
        out["reingest_unchanged"] = bench_reingest(args.corpus, args.index, settings)
        print("reingest", out["reingest_unchanged"], flush=True)
    out["ask_1x"] = bench_ask(args.index, settings, questions)
    print("ask 1x", out["ask_1x"], flush=True)
    if "server" not in args.skip:
        out["server_1x"] = bench_server(args.index, questions)
        print("server 1x", out["server_1x"], flush=True)
    if "scale" not in args.skip:
        scaled = Path(tempfile.mkdtemp(prefix="bench-x"))
        t = time.perf_counter()
        make_scaled_index(args.index, scaled, args.scale)
        out["scaled_build_seconds"] = round(time.perf_counter() - t, 1)
        out[f"ask_{args.scale}x"] = bench_ask(scaled, settings, questions)
        print(f"ask {args.scale}x", out[f"ask_{args.scale}x"], flush=True)
        if "server" not in args.skip:
            out[f"server_{args.scale}x"] = bench_server(scaled, questions)
            print(f"server {args.scale}x", out[f"server_{args.scale}x"], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
