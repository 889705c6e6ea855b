"""Shared fixtures: where the labelled clips are, the pose model, and saved tracks.

Tests that need ../shared/data take the `shared_data` fixture (or call `need_shared_data`):
without it they skip with the reason, so `pytest -m "not clips and not browser"` runs on a
bare clone. With $CI or $BACKCHECK_REQUIRE_SHARED set (scripts/test.sh sets it) a missing
folder fails them instead, so the full run can't go green by skipping.
$BACKCHECK_SHARED_DATA points at another folder (e.g. a missing one, to find the tests that
need it).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(
    os.environ.get("BACKCHECK_SHARED_DATA", "").strip() or REPO.parent / "shared" / "data"
)
TRACKS = Path(__file__).resolve().parent / "data" / "tracks"


def need_shared_data() -> Path:
    """../shared/data beside the repository; skips the test when it is absent (fails when
    $CI or $BACKCHECK_REQUIRE_SHARED is set)."""
    if not (SHARED_DATA / "clips.csv").exists():
        reason = f"needs the labelled clips: {SHARED_DATA}/clips.csv not found"
        if os.environ.get("CI") or os.environ.get("BACKCHECK_REQUIRE_SHARED"):
            pytest.fail(reason)
        pytest.skip(reason)
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (the labelled clips and clips.csv)."""
    return need_shared_data()


def clip_labels() -> list[dict[str, str]]:
    """Rows of ../shared/data/clips.csv; none when it is absent."""
    path = SHARED_DATA / "clips.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking `labelled_clip` runs once per row of clips.csv (its `file`), one taking
    `labelled_side_clip` once per side-view row; read at collection rather than import.
    Without the file, once with "" (and `shared_data` then skips it)."""
    for name, keep in (("labelled_clip", None), ("labelled_side_clip", "side")):
        if name in metafunc.fixturenames:
            files = [r["file"] for r in clip_labels() if keep in (None, r["view"])]
            metafunc.parametrize(name, files or [pytest.param("", id="no-labels")])


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The full pose model, provisioned once (cache: $BACKCHECK_MODEL_DIR or ~/.cache)."""
    from models.provision import resolve_model

    return resolve_model("full").path


@pytest.fixture(scope="session")
def analysed_clips(
    shared_data: Path, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path | str]:
    """Run `analyze_video` once on every labelled clip: clip path → output folder.

    A clip that fails maps to its error message instead, so one bad clip fails its own
    test and not the whole session. Other tests reuse these outputs (track.npz,
    report.json) rather than running the pose model again.
    """
    from backcheck.pipeline import analyze_video
    from metrics.errors import AnalysisError

    root = tmp_path_factory.mktemp("clips")
    outputs: dict[str, Path | str] = {}
    for row in clip_labels():
        out = root / row["file"].replace("/", "__")
        try:
            analyze_video(shared_data / row["file"], out_dir=out, model=str(model_path))
            outputs[row["file"]] = out
        except AnalysisError as err:
            outputs[row["file"]] = str(err)
    return outputs


@pytest.fixture(scope="session")
def clip_tracks(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A folder of `<clip stem>.npz` raw tracks for every labelled clip.

    $BACKCHECK_TRACKS_DIR when set (tracks saved earlier); otherwise the tracks this
    session's `analysed_clips` wrote, so the pose model runs once per clip per session.
    """
    env = os.environ.get("BACKCHECK_TRACKS_DIR", "").strip()
    if env:
        return Path(env)
    outputs = request.getfixturevalue("analysed_clips")
    folder = tmp_path_factory.mktemp("tracks")
    for clip, out in outputs.items():
        if isinstance(out, Path) and (out / "track.npz").exists():
            (folder / f"{Path(clip).stem}.npz").symlink_to(out / "track.npz")
    return folder
