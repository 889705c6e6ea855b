"""The labels of the evaluation: clips.csv rows, label classes and sources."""

from __future__ import annotations

import csv
from pathlib import Path

POSITIVE = {"mild", "marked", "yes"}
NEGATIVE = {"none", "no"}


def default_clips_dir() -> Path:
    """../shared/data beside the repository."""
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def read_labels(clips_csv: Path, kind: str | None = None) -> list[dict[str, str]]:
    """Rows of clips.csv, only those of `kind` ("hinge" or "plank") when given."""
    with open(clips_csv, newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if kind is None or r.get("kind") == kind]


def source_of(row: dict[str, str]) -> str:
    """The repository a clip came from: the first word of its `source` cell
    (``owner/repo path/in/repo``), else the clip's folder."""
    text = (row.get("source") or "").strip()
    if text:
        return text.split()[0]
    return Path(row["file"]).parent.name


def label_int(text: str | None) -> int | None:
    try:
        return int(text or "")
    except ValueError:
        return None


def label_float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None
