"""From an uploaded file to a saved session, without Streamlit: sanitise the name, spool
the bytes into the session's staging folder, call `analyze_video` (as the CLI does), write
the printable report, and save everything in the history. Temporary files never outlive
the call; a name from an upload is only ever a label, never part of a path."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from backcheck.history import Client, HistoryStore, SessionSummary
from backcheck.names import VIDEO_TYPES as VIDEO_TYPES  # the pages import it from here
from backcheck.names import safe_filename, video_suffix
from metrics.errors import AnalysisError
from models.registry import MODE_DEFAULTS

if TYPE_CHECKING:
    from backcheck.pipeline import AnalysisResult

# The setup of a lift: its neutral is looked for in this many first seconds.
SETUP_S = 5.0
_CHUNK = 1 << 20
RAY_ADDRESS_ENV = "BACKCHECK_RAY_ADDRESS"

Progress = Callable[[float, str], None]


def spool(data: BinaryIO, dest: Path) -> int:
    """Copy an upload to `dest` in chunks; returns the byte count."""
    n = 0
    with open(dest, "wb") as out:
        while chunk := data.read(_CHUNK):
            out.write(chunk)
            n += len(chunk)
    return n


@contextmanager
def _named_errors(upload: Path, display: str) -> Iterator[None]:
    """Errors name the file the coach uploaded, not the temporary copy."""
    try:
        yield
    except AnalysisError as err:
        message = str(err).replace(str(upload), display).replace(upload.name, display)
        raise AnalysisError(message) from err


def _analyse_spooled(
    staging: Path, name: str, data: BinaryIO, **options: Any
) -> tuple[str, AnalysisResult]:
    """Spool an upload into `staging`, analyse it there, and delete the copy.

    Returns the sanitised display name and the result; errors name the uploaded file.
    """
    display = safe_filename(name)
    upload = staging / f"upload{video_suffix(name)}"
    if spool(data, upload) == 0:
        raise AnalysisError(f"{display} is empty (0 bytes); upload the video again.")
    with _named_errors(upload, display):
        result = run_analysis(upload, out_dir=staging, display_name=display, **options)
    upload.unlink()
    return display, result


def run_analysis(video: Path, **options: Any) -> AnalysisResult:
    """`analyze_video` here, or on the shared Ray cluster when `BACKCHECK_RAY_ADDRESS` is
    set (`auto`, or HOST:PORT of the gym server's Ray head): then the app's own process
    only waits, and trainers uploading at once are analysed on separate cores."""
    address = os.environ.get(RAY_ADDRESS_ENV, "").strip()
    if address:
        try:
            from backcheck.batch_ray import analyze_on_ray
        except ImportError as err:
            raise AnalysisError(
                f"{RAY_ADDRESS_ENV} is set but Ray is not installed on this server "
                '(pip install "backcheck[scale]").'
            ) from err
        return analyze_on_ray(address, video, **options)
    from backcheck.pipeline import analyze_video

    return analyze_video(video, **options)


def analyse_upload(
    store: HistoryStore,
    client: Client,
    name: str,
    data: BinaryIO,
    *,
    exercise: Literal["auto", "hinge", "plank"] = "auto",
    model: str = MODE_DEFAULTS["upload"],
    progress: Progress | None = None,
) -> SessionSummary:
    """Analyse an uploaded video for `client` and save it as a session.

    Raises `AnalysisError` (one-line reason) for anything wrong with the upload, and
    `HistoryError` when the disk is full; nothing is saved then and no file is left behind.
    """
    from backcheck.ui.printable import moment_frames, report_html

    with store.staged() as staging:
        _, result = _analyse_spooled(
            staging,
            name,
            data,
            exercise=exercise,
            model=model,
            profile=client.profile,
            write_video=True,
            progress=progress,
        )
        html = report_html(
            result.report,
            client=client.name,
            when=datetime.now(UTC),
            frames=moment_frames(result.report, result.video_path),
        )
        (staging / "report.html").write_text(html, "utf-8")
        return store.save_session(client.id, result.report, staging, client.profile)


def neutral_from_clip(
    store: HistoryStore,
    client: Client,
    name: str,
    data: BinaryIO,
    *,
    model: str = MODE_DEFAULTS["upload"],
    progress: Progress | None = None,
) -> Client:
    """Calibrate a client's neutral from a short standing (or setup) clip and store it."""
    from metrics.calibration import neutral_from_standing

    staging = store.new_staging_dir()
    try:
        display, result = _analyse_spooled(
            staging, name, data, model=model, write_video=False, progress=progress
        )
        neutral = neutral_from_standing(result.analysis)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    source = f"standing clip {display} ({neutral.how})"
    return store.set_neutral(client.id, {**client.profile.neutral, **neutral.values}, source)


def neutral_from_session(store: HistoryStore, client: Client, session_id: int) -> Client:
    """Calibrate a client's neutral from the setup (first steady frames, within the first
    5 s) of a saved session: re-measured from its track.npz, else from timeseries.csv."""
    import numpy as np

    from metrics.calibration import neutral_from_columns, neutral_from_setup

    record = store.session(session_id)
    track_path = record.folder / "track.npz"
    if track_path.exists():
        from metrics.analysis import analyze_track
        from metrics.track import PoseTrack

        analysis = analyze_track(PoseTrack.load(track_path), exercise=record.report.exercise)
        neutral = neutral_from_setup(analysis, search_s=SETUP_S)
    else:
        from backcheck.ui.charts import load_timeseries

        ts = load_timeseries(record.folder / "timeseries.csv")
        cols = {c: ts[c].to_numpy(np.float64) for c in ts.columns if ts[c].dtype.kind in "fi"}
        neutral = neutral_from_columns(cols, search_s=SETUP_S)
    source = (
        f"setup of {record.summary.source_file} ({record.summary.created_at[:10]}), {neutral.how}"
    )
    return store.set_neutral(client.id, {**client.profile.neutral, **neutral.values}, source)
