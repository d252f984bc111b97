"""Evaluation against gold files (../shared/eval/FORMAT.md): gold loading, scoring, baselines, runs, reports.

Rooms: `gold` (cases and their problems), `metrics` (Outcome and the metrics blocks, computed once), `alignment`
(the parser's sub-question pairing), `baselines` (naive-rag, bm25), `run` (systems over cases), `compare`
(metrics.json, --compare, --fail-under), `report` (report.html only).
"""
