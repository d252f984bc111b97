"""report.html: a readable page beside metrics.json. Builds HTML from values; does no scoring."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from assistant.evaluate.alignment import AlignmentResult
from assistant.evaluate.metrics import hit_curve

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}.bad{color:#a00}.num{text-align:right;font-variant-numeric:tabular-nums}"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='nl'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _section_path(report_dir: Path, name: str) -> Path:
    return report_dir / f".section-{name}.html"


def write_section(report_dir: Path, name: str, body: str) -> Path:
    """Store one section and rebuild report.html from all sections present."""
    report_dir.mkdir(parents=True, exist_ok=True)
    _section_path(report_dir, name).write_text(body, encoding="utf-8")
    sections = [p.read_text(encoding="utf-8") for p in sorted(report_dir.glob(".section-*.html"))]
    metrics_path = report_dir / "metrics.json"
    raw = ""
    if metrics_path.exists():
        data: Any = json.loads(metrics_path.read_text(encoding="utf-8"))
        raw = f"<h2>metrics.json</h2><pre>{html.escape(json.dumps(data, indent=2, ensure_ascii=False))}</pre>"
    out = report_dir / "report.html"
    out.write_text(_page("Parlement Q&A - evaluatie", "".join(sections) + raw), encoding="utf-8")
    return out


def write_alignment_report(report_dir: Path, result: AlignmentResult) -> Path:
    rows = "".join(
        f"<tr><td>{html.escape(f.doc)}</td><td>{html.escape(f.part)}</td><td>{f.side}</td>"
        f"<td>{html.escape(f.expected)}</td><td class='bad'>{html.escape(f.got)}</td></tr>"
        for f in result.failures
    )
    body = (
        "<h2>Sub-question alignment</h2>"
        f"<p>{result.docs_passed} of {result.docs_total} documents and {result.parts_passed} of "
        f"{result.parts_total} parts pass.</p>"
    )
    if rows:
        body += (
            "<table><tr><th>doc</th><th>part</th><th>side</th><th>expected head</th><th>parser gave</th></tr>"
            f"{rows}</table>"
        )
    if result.missing_docs:
        body += f"<p class='bad'>Not in the corpus: {html.escape(', '.join(result.missing_docs))}</p>"
    return write_section(report_dir, "1-alignment", body)


HEADLINE = ("part_hit1", "part_hit5", "part_mrr10", "doc_hit1", "doc_hit5", "doc_mrr10", "fact_recall1")


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def write_questions_report(report_dir: Path, blocks: dict[str, Any], outcomes: dict[str, Any]) -> Path:
    """Headline table with the baselines side by side, a table per kind, and the failed cases."""
    q, base = blocks["questions"], blocks["baselines"]
    systems = [("ours", q)] + list(base.items())
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in systems)
    rows = ""
    for key in HEADLINE:
        cells = "".join(f"<td class='num'>{_fmt(m[key]) if key in m else '-'}</td>" for _, m in systems)
        rows += f"<tr><td>{key}</td>{cells}</tr>"
    for key in ("p50", "p95"):
        cells = "".join(f"<td class='num'>{m['latency_ms'][key]:.0f}</td>" for _, m in systems)
        rows += f"<tr><td>latency {key} (ms)</td>{cells}</tr>"
    body = (
        "<h2>Questions</h2>"
        f"<p>{q['cases']} cases: {q['answerable']} answerable, {q['abstain']} where the right reply is 'not found'. "
        f"Abstain accuracy {q['abstain_accuracy']:.3f}, false abstain rate {q['false_abstain_rate']:.3f}.</p>"
        f"<table><tr><th>metric</th>{head}</tr>{rows}</table>"
    )
    body += "<h3>By kind</h3><table><tr><th>kind</th><th>cases</th><th>system</th>"
    body += "".join(f"<th>{k}</th>" for k in ("part_hit1", "part_hit5", "doc_hit5", "fact_recall1", "abstain_accuracy"))
    body += "</tr>"
    for kind, m in q["by_kind"].items():
        for name, sysm in systems:
            km = sysm.get("by_kind", {}).get(kind, {})
            cells = "".join(
                f"<td class='num'>{_fmt(km[k]) if k in km else '-'}</td>"
                for k in ("part_hit1", "part_hit5", "doc_hit5", "fact_recall1", "abstain_accuracy")
            )
            body += f"<tr><td>{kind}</td><td class='num'>{m['cases']}</td><td>{name}</td>{cells}</tr>"
    body += "</table>"
    failed = ""
    for o in outcomes.get("ours", []):
        gold = {f"{d}#{p}" for d, p in o.case.gold}
        got = [f"{d}#{p}" for d, p in o.parts[:5]]
        ok_rank = bool(gold & set(got)) if gold else o.abstained
        if ok_rank and (not gold or o.facts_ok):
            continue
        failed += (
            f"<tr><td>{html.escape(o.case.id)}</td><td>{o.case.kind}</td><td>{html.escape(o.case.question)}</td>"
            f"<td>{html.escape(', '.join(sorted(gold)) or '(abstain)')}<br>"
            f"<small>{html.escape(' | '.join(o.case.facts))}"
            f"</small></td><td class='bad'>{html.escape(', '.join(got) or '(abstained)')}<br><small>"
            f"{html.escape(o.first_text[:200])}</small></td></tr>"
        )
    body += plots_html(outcomes)
    if failed:
        body += (
            "<h3>Failed cases (ours)</h3><p>Gold not in the top 5, a fact missing from the first answer, or a wrong "
            "abstention.</p><table><tr><th>id</th><th>kind</th><th>question</th><th>expected</th><th>returned</th></tr>"
            f"{failed}</table>"
        )
    return write_section(report_dir, "2-questions", body)


def _svg(fig: Any) -> str:
    import io

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    svg = buf.getvalue()
    return svg[svg.find("<svg") :]


def plots_html(outcomes: dict[str, Any]) -> str:
    """Inline SVG plots (the file works offline): hit@k, per kind, latency, and the abstain evidence."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours = outcomes.get("ours", [])
    figs: list[tuple[str, Any]] = []

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ks = list(range(1, 11))
    ax.plot(ks, hit_curve(ours, True), marker="o", label="ours: part")
    ax.plot(ks, hit_curve(ours, False), marker="o", label="ours: document")
    for name, outs in outcomes.items():
        if name != "ours":
            ax.plot(ks, hit_curve(outs, False), marker=".", linestyle="--", label=f"{name}: document")
    ax.set(xlabel="k", ylabel="hit@k", ylim=(0, 1.02), title="Hit@k (answerable cases)")
    ax.legend(fontsize=8)
    figs.append(("hit@k", fig))

    kinds = sorted({o.case.kind for o in ours if o.case.gold})
    if kinds:
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        width = 0.38
        ph5 = [_mean_of([o.part_hit(5) for o in ours if o.case.kind == k]) for k in kinds]
        fr1 = [_mean_of([o.facts_ok for o in ours if o.case.kind == k]) for k in kinds]
        xs = range(len(kinds))
        ax.bar([x - width / 2 for x in xs], ph5, width, label="part_hit5")
        ax.bar([x + width / 2 for x in xs], fr1, width, label="fact_recall1")
        ax.set_xticks(list(xs), kinds)
        ax.set(ylim=(0, 1.05), title="Per kind (ours)")
        ax.legend(fontsize=8)
        figs.append(("per kind", fig))

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for name, outs in outcomes.items():
        ax.hist([o.seconds * 1000 for o in outs], bins=30, alpha=0.6, label=name)
    ax.set(xlabel="ms per question", ylabel="cases", title="Latency")
    ax.legend(fontsize=8)
    figs.append(("latency", fig))

    sims_ok = [o.top_similarity for o in ours if o.case.gold and o.top_similarity is not None]
    sims_no = [o.top_similarity for o in ours if not o.case.gold and o.top_similarity is not None]
    if sims_ok or sims_no:
        fig, ax = plt.subplots(figsize=(5.5, 3.2))
        ax.hist([sims_ok, sims_no], bins=25, label=["answerable", "abstain (gold)"], color=["#4c72b0", "#dd8452"])
        ax.set(xlabel="cosine similarity of the best part", ylabel="cases", title="Evidence: answered vs abstain")
        ax.legend(fontsize=8)
        figs.append(("scores", fig))

    html_out = "<h3>Plots</h3><div class='plots'>"
    for _, f in figs:
        html_out += f"<div style='display:inline-block;margin:4px'>{_svg(f)}</div>"
        plt.close(f)
    return html_out + "</div>"


def _mean_of(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0
