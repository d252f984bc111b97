"""report.html: a readable page beside metrics.json. Builds HTML from values; does no scoring."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from assistant.evaluate import AlignmentResult

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
