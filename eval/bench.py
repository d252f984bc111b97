"""Benchmarks of speed and scale, each figure measured in one run so the ratios hold on a noisy machine.

    .venv/bin/python eval/bench.py --corpus ../shared/corpora/be-chamber-2017/dekamer-2017.jsonl \
        --index /tmp/idx-be --questions ../shared/eval/be2017-dev.questions.jsonl --out reports/bench

1. ingest throughput on a slice of the corpus (fresh index) against the model's raw encode throughput on the same
   chunk texts, and the share of time spent outside embedding;
2. re-ingest of the unchanged corpus into the existing index;
3. ask latency (the whole answer path) p50/p95 at the index's size and at SCALE times the parts: the 10x index reuses
   the stored vectors with small random perturbations and new ids (nothing is embedded again);
4. peak RSS of a real `assistant serve` process answering over HTTP at both sizes;
5. with --encoders: raw encode throughput of each encoder (torch, ONNX fp32, ONNX int8) on the same real chunk
   texts and questions, in interleaved rounds, at all cores and at one thread, and each one's cosine against torch.
Writes bench.json into --out and prints a table.

    .venv/bin/python eval/bench.py --corpus ../shared/corpora/be-chamber-2017/dekamer-2017.jsonl \
        --questions ../shared/eval/be2017-dev.questions.jsonl --out reports/bench-encoders --encoders
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
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
from assistant.config import ENCODERS, Settings, go_offline  # noqa: E402
from assistant.embed import open_embedder  # noqa: E402
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


def bench_encoders(
    corpus: Path, settings: Settings, questions: list[str], passages: int, rounds: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each encoder on the same chunk texts (batches of 64, as ingest) and questions (one at a time, as ask).

    Rounds interleave the encoders, so a busy spell on the machine hits all of them; each figure is the best round.
    """
    texts: list[str] = []
    for d in read_paths([corpus]):
        if isinstance(d, Document):
            texts.extend(c.text for c in chunk_document(d))
        if len(texts) >= passages:
            break
    texts, queries = texts[:passages], questions[:64]
    out: dict[str, Any] = {}
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    timings: dict[str, dict[str, list[float]]] = {}
    embedders = {}
    for encoder in ENCODERS:
        for threads in (None, 1):
            t = time.perf_counter()
            embedders[encoder, threads] = open_embedder(
                settings.model, settings.cache_dir, encoder, batch_size=settings.batch_size, threads=threads
            )
            if threads is None:
                out[encoder] = {"load_seconds": round(time.perf_counter() - t, 1)}
            embedders[encoder, threads].embed_passages(texts[:8])  # warm-up
    for _ in range(rounds):
        for (encoder, threads), embedder in embedders.items():
            if encoder == "torch":
                import torch

                torch.set_num_threads(threads or (os.cpu_count() or 1))  # torch's threads are per process
            key = f"{encoder}@{threads or 'all'}"
            t = time.perf_counter()
            rows = [embedder.embed_passages(texts[i : i + 64]) for i in range(0, len(texts), 64)]
            passage_s = time.perf_counter() - t
            query_s = []
            query_rows = []
            for q in queries:
                t = time.perf_counter()
                query_rows.append(embedder.embed_queries([q]))
                query_s.append(time.perf_counter() - t)
            timings.setdefault(key, {"passages": [], "query_p50": []})
            timings[key]["passages"].append(passage_s)
            timings[key]["query_p50"].append(statistics.median(query_s))
            if threads is None:
                vectors[encoder] = (np.vstack(rows), np.vstack(query_rows))
    reference = vectors["torch"]
    for encoder in ENCODERS:
        for threads in (None, 1):
            key = f"{encoder}@{threads or 'all'}"
            suffix = "" if threads is None else "_1thread"
            out[encoder]["passages_per_s" + suffix] = round(len(texts) / min(timings[key]["passages"]), 2)
            out[encoder]["query_p50_ms" + suffix] = round(1000 * min(timings[key]["query_p50"]), 1)
            out[encoder]["queries_per_s" + suffix] = round(1 / min(timings[key]["query_p50"]), 1)
        for name, ours, theirs in zip(("passage", "query"), vectors[encoder], reference, strict=True):
            cosines = (ours * theirs).sum(axis=1)
            out[encoder][f"{name}_cosine_mean"] = round(float(cosines.mean()), 5)
            out[encoder][f"{name}_cosine_min"] = round(float(cosines.min()), 5)
    torch_speed = out["torch"]["passages_per_s"]
    for encoder in ENCODERS:
        out[encoder]["passage_speedup"] = round(out[encoder]["passages_per_s"] / torch_speed, 2)
    out["texts"] = {
        "passages": len(texts),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "queries": len(queries),
        "rounds": rounds,
        "cores": os.cpu_count() or 0,
    }
    return out, {encoder: embedders[encoder, None] for encoder in ENCODERS}


def bench_encoder_pool(
    index_dir: Path, cases: list[dict[str, Any]], embedders: dict[str, Any], pool: int
) -> dict[str, dict[str, float]]:
    """Dense ranking of each encoder over one candidate pool per dev question, against torch's stored vectors.

    The pool is torch's dense top `pool` over the whole index plus the gold parts, so only the pool is embedded
    again (a full index per encoder takes an hour on a busy 2-core machine). Within a pool the encoders rank the
    same parts; the figures say how often they agree and by how much the best similarity (what the abstain
    thresholds read) moves. A proxy for `assistant eval` with an index per encoder, not a replacement.
    """
    src = Index.open_existing(index_dir)
    ids = src.vectors.all_ids()
    stored: dict[str, Any] = {"embeddings": [], "documents": [], "metadatas": []}
    for start in range(0, len(ids), 2000):
        got = src.vectors._col.get(ids=ids[start : start + 2000], include=["embeddings", "documents", "metadatas"])
        for key in stored:
            stored[key].extend(got[key])
    src.close()
    matrix = np.asarray(stored["embeddings"], dtype=np.float32)
    parts = [f"{m['doc_id']}#{m['part']}" for m in stored["metadatas"]]
    questions = [c["question"] for c in cases]
    torch_queries = embedders["torch"].embed_queries(questions)
    pools = []
    for row, case in enumerate(cases):
        gold = {f"{g['doc']}#{g['part']}" for g in case.get("gold") or []}
        top = np.argsort(-(matrix @ torch_queries[row]))[:pool]
        pools.append(sorted(set(top.tolist()) | {i for i, p in enumerate(parts) if p in gold}))
    needed = sorted({i for rows in pools for i in rows})
    out: dict[str, dict[str, float]] = {}
    first: dict[str, list[int]] = {}
    best: dict[str, np.ndarray] = {}
    for encoder, embedder in embedders.items():
        if encoder == "torch":
            queries, vectors = torch_queries, matrix
        else:
            t = time.perf_counter()
            rows = embedder.embed_passages([stored["documents"][i] for i in needed])
            vectors = np.zeros_like(matrix)
            vectors[needed] = rows
            queries = embedder.embed_queries(questions)
            out.setdefault(encoder, {})["pool_embed_seconds"] = round(time.perf_counter() - t, 1)
        hits, reciprocal, answerable, tops, firsts = 0, 0.0, 0, [], []
        for row, case in enumerate(cases):
            candidates = np.array(pools[row])
            scores = vectors[candidates] @ queries[row]
            ranked = [parts[i] for i in candidates[np.argsort(-scores)]]
            tops.append(float(scores.max()))
            firsts.append(int(candidates[np.argmax(scores)]))
            gold = {f"{g['doc']}#{g['part']}" for g in case.get("gold") or []}
            if not gold:
                continue
            answerable += 1
            ranks = [r for r, p in enumerate(ranked[:10], 1) if p in gold]
            hits += bool(ranks and ranks[0] <= 5)
            reciprocal += 1 / ranks[0] if ranks else 0.0
        first[encoder], best[encoder] = firsts, np.array(tops)
        out.setdefault(encoder, {}).update(
            {"pool_part_hit5": round(hits / answerable, 3), "pool_part_mrr10": round(reciprocal / answerable, 3)}
        )
    for encoder in embedders:
        shift = best[encoder] - best["torch"]
        out[encoder]["pool_top1_same_as_torch"] = round(
            float(np.mean([a == b for a, b in zip(first[encoder], first["torch"], strict=True)])), 3
        )
        out[encoder]["pool_top_similarity_shift_mean"] = round(float(shift.mean()), 4)
        out[encoder]["pool_top_similarity_shift_max_abs"] = round(float(np.abs(shift).max()), 4)
    out["pool"] = {"cases": len(cases), "per_question": pool, "parts_embedded": len(needed)}
    return out


def print_encoders(table: dict[str, Any]) -> None:
    """The encoder section as a Markdown table (the README's "Encoders" table)."""
    print(
        "| encoder | passages/s | x torch | query p50 ms | passages/s 1 thread | query p50 ms 1 thread "
        "| cosine vs torch passages mean/min | queries mean/min |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for encoder in ENCODERS:
        r = table[encoder]
        print(
            f"| {encoder} | {r['passages_per_s']} | {r['passage_speedup']} | {r['query_p50_ms']} "
            f"| {r['passages_per_s_1thread']} | {r['query_p50_ms_1thread']} "
            f"| {r['passage_cosine_mean']:.4f} / {r['passage_cosine_min']:.4f} "
            f"| {r['query_cosine_mean']:.4f} / {r['query_cosine_min']:.4f} |"
        )


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
    p.add_argument(
        "--index",
        type=Path,
        help="an index of that corpus (built by assistant ingest); without it, "
        "only the ingest and encoder sections run",
    )
    p.add_argument("--questions", type=Path, required=True, help="gold questions to time (JSONL)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--scale", type=int, default=10)
    p.add_argument("--slice", type=int, default=200, help="documents in the ingest throughput run")
    p.add_argument("--skip", nargs="*", default=[], choices=["ingest", "reingest", "scale", "server"])
    p.add_argument("--encoders", action="store_true", help="compare the encoders (section 5)")
    p.add_argument("--passages", type=int, default=128, help="chunk texts in the encoder comparison")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds in the encoder comparison")
    p.add_argument("--pool-index", type=Path, help="a torch index: compare the encoders' ranking over dev pools")
    p.add_argument("--pool", type=int, default=10, help="torch's top parts per question in the candidate pool")
    args = p.parse_args()
    settings = Settings.from_env()
    questions = [json.loads(line)["question"] for line in args.questions.open(encoding="utf-8") if line.strip()]
    out: dict[str, object] = {}
    if args.encoders:
        table, embedders = bench_encoders(args.corpus, settings, questions, args.passages, args.rounds)
        out["encoders"] = table
        print("encoders", json.dumps(table), flush=True)
        print_encoders(table)
        if args.pool_index:
            cases = [json.loads(line) for line in args.questions.open(encoding="utf-8") if line.strip()]
            out["encoder_pool"] = bench_encoder_pool(args.pool_index, cases, embedders, args.pool)
            print("encoder pool", json.dumps(out["encoder_pool"]), flush=True)
        del embedders
    if "ingest" not in args.skip:
        out["ingest"] = bench_ingest(args.corpus, settings, args.slice)
        print("ingest", out["ingest"], flush=True)
    if args.index is None:
        args.skip = ["reingest", "scale", "server", "ask"]
    if "reingest" not in args.skip:
        out["reingest_unchanged"] = bench_reingest(args.corpus, args.index, settings)
        print("reingest", out["reingest_unchanged"], flush=True)
    if "ask" not in args.skip:
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
