"""metrics.json (FORMAT.md §3): writing its blocks, comparing two runs, and checking bars (`--fail-under`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError


def write_metrics(report_dir: Path, block: str, values: Mapping[str, Any]) -> Path:
    """Merge one block into report_dir/metrics.json, keeping the blocks an earlier run wrote."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "metrics.json"
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            data = {}
    data[block] = values
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


LOWER_IS_BETTER = ("latency_ms", "false_abstain_rate", "gold_problems")


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """{"questions": {"part_hit5": 0.9}} -> {"questions.part_hit5": 0.9}; numbers only."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def lookup(flat: Mapping[str, float], key: str) -> float | None:
    """A metric by full name, or by short name searched in the questions then the alignment block."""
    for candidate in (key, f"questions.{key}", f"alignment.{key}"):
        if candidate in flat:
            return flat[candidate]
    return None


@dataclass(frozen=True)
class Change:
    key: str
    old: float
    new: float

    @property
    def worse(self) -> bool:
        lower_better = any(part in self.key for part in LOWER_IS_BETTER)
        return self.new > self.old if lower_better else self.new < self.old


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every metric present in both runs whose value changed, in a stable order."""
    a, b = flatten(old), flatten(new)
    return [Change(k, a[k], b[k]) for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]


def parse_bars(specs: Iterable[str]) -> dict[str, float]:
    """["part_hit5=0.8", ...] -> {"part_hit5": 0.8}; ConfigError for a malformed bar."""
    bars: dict[str, float] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        try:
            if not sep or not key:
                raise ValueError
            bars[key.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--fail-under takes KEY=NUMBER, e.g. part_hit5=0.85; got {spec!r}") from None
    return bars


def check_bars(metrics: Mapping[str, Any], bars: Mapping[str, float]) -> list[str]:
    """Messages for every bar the metrics do not reach (a missing metric fails too)."""
    flat = flatten(metrics)
    failures = []
    for key, bar in bars.items():
        value = lookup(flat, key)
        if value is None:
            failures.append(f"{key}: not in metrics.json")
        elif value < bar:
            failures.append(f"{key} = {value:.4g} is below {bar:.4g}")
    return failures
