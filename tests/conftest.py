"""Shared fixtures: where the labelled clips are, the pose model, and saved tracks."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
TRACKS = Path(__file__).resolve().parent / "data" / "tracks"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (the labelled clips and clips.csv)."""
    if not (SHARED_DATA / "clips.csv").exists():
        pytest.fail(f"labelled clips not found at {SHARED_DATA}")
    return SHARED_DATA


def clip_labels() -> list[dict[str, str]]:
    """Rows of ../shared/data/clips.csv."""
    with open(SHARED_DATA / "clips.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The full pose model, provisioned once (cache: $BACKCHECK_MODEL_DIR or ~/.cache)."""
    from models.provision import resolve_model

    return resolve_model("full").path
