"""What staff learn from use: feedback on answers (thumbs up/down, an optional comment) and, only when
ASSISTANT_QUESTION_LOG is on, the log of every question asked; one SQLite file beside the index (or
ASSISTANT_STAFF_DB), read back as lists, knowledge gaps (the questions we could not answer, grouped) and CSV.

Values and storage only: the web layer (web/staff.py, web/feedback.py) and the CLI (`assistant questions`) show them.
"""

from __future__ import annotations

import csv
import hmac
import io
import json
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import ConfigError, IndexMissingError

STAFF_DB = "staff.sqlite3"
"""The file's name in the index folder when ASSISTANT_STAFF_DB names none (`--rebuild` leaves it alone)."""
RATINGS = ("up", "down")
CHANNELS = ("chat", "widget", "api")
COMMENT_MAX = 1_000
SHOWN_MAX = 20
"""Parts ("doc#part") kept with one feedback or logged question: more than any answer shows."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    channel TEXT NOT NULL,
    question TEXT NOT NULL,
    filters TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    cited TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    channel TEXT NOT NULL,
    rating TEXT NOT NULL,
    question TEXT NOT NULL,
    shown TEXT NOT NULL,
    comment TEXT NOT NULL,
    secret TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_at ON questions (at);
CREATE INDEX IF NOT EXISTS feedback_at ON feedback (at);
"""


def now() -> str:
    """The time as stored: UTC, to the second, ISO 8601 (sorts as text)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Asked:
    """One question as the log keeps it: when, through what, with which filters, and what we answered."""

    at: str
    channel: str
    question: str
    filters: Mapping[str, str] = field(default_factory=dict)
    abstained: bool = False
    cited: tuple[str, ...] = ()
    """The parts the answer showed, "doc#part", best first (none when we abstained)."""


@dataclass(frozen=True)
class Feedback:
    """A reader's verdict on one answer: up or down, an optional comment, and what the answer showed."""

    rating: str
    question: str
    shown: tuple[str, ...] = ()
    comment: str = ""
    channel: str = "api"
    at: str = ""
    id: int = 0


@dataclass(frozen=True)
class Gap:
    """A question we could not answer ("kennislacune"), its askings counted together: the same words in any case,
    spacing or final punctuation are one question."""

    question: str
    """The latest wording."""
    count: int
    first: str
    last: str


@dataclass(frozen=True)
class Receipt:
    """What the one who gave feedback gets back: its id and the secret that lets them amend it (add a comment)."""

    id: int
    secret: str


def gap_key(question: str) -> str:
    """What makes two askings the same question: the words, case-folded, without the final punctuation."""
    return re.sub(r"[\s?!.,;:]+$", "", " ".join(question.split()).casefold())


def check_feedback(rating: str, comment: str, channel: str) -> None:
    """ConfigError (Dutch + English) for a rating, comment or channel the store does not take."""
    if rating not in RATINGS:
        raise ConfigError(f"Oordeel moet 'up' of 'down' zijn, niet {rating!r}. / Rating must be 'up' or 'down'.")
    if len(comment) > COMMENT_MAX:
        raise ConfigError(
            f"De toelichting is te lang: {len(comment)} tekens, maximaal {COMMENT_MAX}. "
            f"/ The comment is too long: {len(comment)} characters, at most {COMMENT_MAX}."
        )
    if channel not in CHANNELS:
        raise ConfigError(f"Unknown channel {channel!r}; use one of {', '.join(CHANNELS)}.")


class StaffLog:
    """The feedback and (when `log_questions`) the question log in one SQLite file; safe to share between threads
    and processes (each call opens its own connection; WAL lets readers and one writer go together)."""

    def __init__(self, path: Path, log_questions: bool = False, make_folder: bool = True) -> None:
        self.path = Path(path)
        self.log_questions = log_questions
        self.make_folder = make_folder
        """Whether a missing folder is made; not for the index folder, which only an ingest makes."""
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, index_dir: Path | None = None) -> StaffLog:
        """The store the settings name: ASSISTANT_STAFF_DB, else staff.sqlite3 in the index folder (`index_dir`, by
        default the settings')."""
        if settings.staff_db is not None:
            return cls(settings.staff_db, settings.question_log)
        return cls((index_dir or settings.index_dir) / STAFF_DB, settings.question_log, make_folder=False)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    if not self.path.parent.is_dir() and not self.make_folder:
                        raise IndexMissingError(
                            f"No index in {self.path.parent}/ to keep feedback beside - run `assistant ingest` "
                            "first, or name a file in ASSISTANT_STAFF_DB."
                        )
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    with self._connect() as db:
                        db.execute("PRAGMA journal_mode=WAL")
                        db.executescript(_SCHEMA)
                    self._ready = True
        db = self._connect()
        try:
            with db:  # one transaction: committed, or rolled back on an error
                yield db
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, timeout=10)
        except sqlite3.OperationalError as err:
            raise ConfigError(
                f"The staff store {self.path} cannot be opened ({err}); check ASSISTANT_STAFF_DB."
            ) from None
        db.row_factory = sqlite3.Row
        return db

    def exists(self) -> bool:
        return self.path.exists()

    # -- writing

    def record(
        self, question: str, filters: Mapping[str, Any], abstained: bool, cited: Sequence[str], channel: str
    ) -> bool:
        """Log one asked question when the question log is on (else nothing is written); True when logged."""
        if not self.log_questions:
            return False
        with self._db() as db:
            db.execute(
                "INSERT INTO questions (at, channel, question, filters, abstained, cited) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    now(),
                    channel,
                    question.strip(),
                    json.dumps(dict(filters), ensure_ascii=False, sort_keys=True),
                    int(abstained),
                    json.dumps(list(cited)[:SHOWN_MAX]),
                ),
            )
        return True

    def add_feedback(self, feedback: Feedback) -> Receipt:
        """Store a verdict; the receipt lets its giver amend it later (`amend`)."""
        check_feedback(feedback.rating, feedback.comment, feedback.channel)
        secret = secrets.token_urlsafe(16)
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO feedback (at, channel, rating, question, shown, comment, secret) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    feedback.at or now(),
                    feedback.channel,
                    feedback.rating,
                    feedback.question.strip(),
                    json.dumps(list(feedback.shown)[:SHOWN_MAX]),
                    feedback.comment.strip(),
                    secret,
                ),
            )
            return Receipt(int(cursor.lastrowid or 0), secret)

    def amend(self, receipt: Receipt, rating: str, comment: str) -> bool:
        """Change the rating and comment of a verdict given before; False when the id and secret do not match."""
        check_feedback(rating, comment, "api")
        with self._db() as db:
            row = db.execute("SELECT secret FROM feedback WHERE id = ?", (receipt.id,)).fetchone()
            if row is None or not hmac.compare_digest(str(row["secret"]), receipt.secret):
                return False
            db.execute(
                "UPDATE feedback SET rating = ?, comment = ? WHERE id = ?", (rating, comment.strip(), receipt.id)
            )
        return True

    def withdraw(self, receipt: Receipt) -> bool:
        """Remove a verdict its giver took back (clicked the thumb again); False when the id and secret do not match."""
        with self._db() as db:
            row = db.execute("SELECT secret FROM feedback WHERE id = ?", (receipt.id,)).fetchone()
            if row is None or not hmac.compare_digest(str(row["secret"]), receipt.secret):
                return False
            db.execute("DELETE FROM feedback WHERE id = ?", (receipt.id,))
        return True

    # -- reading (staff)

    def questions(self, limit: int | None = None, since: str | None = None) -> list[Asked]:
        """The logged questions, newest first."""
        rows = self._newest("questions", limit, since)
        return [
            Asked(
                r["at"],
                r["channel"],
                r["question"],
                json.loads(r["filters"]),
                bool(r["abstained"]),
                tuple(json.loads(r["cited"])),
            )
            for r in rows
        ]

    def gaps(self, since: str | None = None) -> list[Gap]:
        """The questions we abstained on, the same question counted once with its number of askings; most asked
        first, then the most recent."""
        groups: dict[str, list[Asked]] = {}
        for asked in self.questions(since=since):
            if asked.abstained:
                groups.setdefault(gap_key(asked.question), []).append(asked)
        gaps = [Gap(items[0].question, len(items), items[-1].at, items[0].at) for items in groups.values()]
        gaps.sort(key=lambda g: g.last, reverse=True)
        return sorted(gaps, key=lambda g: -g.count)  # stable: the same count keeps the most recent first

    def feedback(self, limit: int | None = None, since: str | None = None) -> list[Feedback]:
        """The verdicts, newest first."""
        rows = self._newest("feedback", limit, since)
        return [
            Feedback(
                r["rating"], r["question"], tuple(json.loads(r["shown"])), r["comment"], r["channel"], r["at"], r["id"]
            )
            for r in rows
        ]

    def _newest(self, table: str, limit: int | None, since: str | None) -> list[sqlite3.Row]:
        """A table's rows, newest first, from `since` (a date or time, ISO) on, at most `limit`."""
        if not self.exists():
            return []
        sql = f"SELECT * FROM {table}"  # noqa: S608 - `table` is one of ours, never input
        args: list[Any] = []
        if since:
            sql, args = sql + " WHERE at >= ?", [since]
        sql += " ORDER BY at DESC, id DESC"
        if limit is not None:
            sql, args = sql + " LIMIT ?", [*args, limit]
        with self._db() as db:
            rows: list[sqlite3.Row] = db.execute(sql, args).fetchall()
        return rows

    def counts(self) -> dict[str, int]:
        """How many questions, abstentions and verdicts (up, down) the store holds."""
        if not self.exists():
            return {"questions": 0, "abstained": 0, "up": 0, "down": 0}
        with self._db() as db:
            q = db.execute("SELECT COUNT(*), COALESCE(SUM(abstained), 0) FROM questions").fetchone()
            f = dict(db.execute("SELECT rating, COUNT(*) FROM feedback GROUP BY rating").fetchall())
        return {"questions": q[0], "abstained": q[1], "up": f.get("up", 0), "down": f.get("down", 0)}


# ---------------------------------------------------------------- CSV

LISTS = ("questions", "gaps", "feedback")
"""What can be listed and exported: the question log, the knowledge gaps, the feedback."""
COLUMNS = {
    "questions": ("at", "channel", "question", "filters", "abstained", "cited"),
    "gaps": ("question", "count", "first", "last"),
    "feedback": ("at", "channel", "rating", "question", "comment", "shown"),
}


def rows(log: StaffLog, kind: str, since: str | None = None) -> list[tuple[Any, ...]]:
    """One list as rows of plain values, in COLUMNS[kind] order."""
    if kind == "questions":
        return [
            (
                a.at,
                a.channel,
                a.question,
                "; ".join(f"{k}={v}" for k, v in a.filters.items()),
                "ja" if a.abstained else "nee",
                " ".join(a.cited),
            )
            for a in log.questions(since=since)
        ]
    if kind == "gaps":
        return [(g.question, g.count, g.first, g.last) for g in log.gaps(since=since)]
    if kind == "feedback":
        return [
            (f.at, f.channel, f.rating, f.question, f.comment, " ".join(f.shown)) for f in log.feedback(since=since)
        ]
    raise ConfigError(f"Unknown list {kind!r}; use one of {', '.join(LISTS)}.")


def _cell(value: Any) -> Any:
    # A cell that starts with = + - @ is a formula to a spreadsheet; questions are anyone's text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(log: StaffLog, kind: str, since: str | None = None) -> str:
    """One list as CSV text with a header row; cells a spreadsheet would run as formulas are quoted with '."""
    found = rows(log, kind, since)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS[kind])
    for row in found:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()
