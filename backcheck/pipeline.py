"""One video in, one report folder out: the analysis the CLI and the app both call.

The pose pass decodes frames at a capped rate and runs the pose model, keeping the
landmarks; the video is cut into one span per core so that every core runs a model
instance (`vision.pose_pass`). The frames the model saw go to a JPEG stash on disk beside
the outputs. The numbers side (`metrics.analysis`) then finds reps or the hold, flags and
cues, and the evidence is drawn on the stashed frames into annotated.mp4. Frames are never
all held in memory, and the video is decoded once.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from metrics.analysis import TrackAnalysis, analyze_track, build_report
from metrics.atomic import atomic_write
from metrics.errors import AnalysisError
from metrics.profile import ClientProfile
from metrics.report import ModelInfo, Report, SourceInfo
from metrics.track import PoseTrack
from models.registry import MODE_DEFAULTS

if TYPE_CHECKING:
    from models.provision import ModelAsset
    from vision.frame_stash import FrameStash
    from vision.pose import PersonPose
    from vision.video import VideoInfo

Progress = Callable[[float, str], None]

# Hinges and planks are slow movements: 15 analysed frames a second resolve them (the
# evaluation finds every labelled rep and flag it found at 30 fps), at half the pose
# model's cost.
DEFAULT_MAX_FPS = 15.0
# Poses followed per frame, even when one person is in shot: then the pose detector runs
# on every frame instead of following the last frame's region, so a cut in the video or a
# passer-by never leaves the landmarks trailing (following one pose cost rounding flags
# and reps on the labelled clips).
UPLOAD_NUM_POSES = 2
# Frames are shrunk to this long side for the pose model (its own inputs are 224–256 px;
# the segmentation mask comes back at this size, which is plenty for the back's edge).
# The annotated video is drawn on the same frames.
POSE_LONG_SIDE = 640
# The analysed frames kept uncompressed for annotated.mp4, at most (the rest go to JPEG on
# disk): 192 MB is about 18 s of 640x360 frames at 15 a second, so a short clip's frames
# are never compressed and read back (~3 ms a frame, a tenth of the pose model's time).
STASH_MEMORY_BYTES = 192 * 1024**2
DEFAULT_MAX_DURATION_S = 15 * 60.0
DEFAULT_MAX_BYTES = 2 * 1024**3
# The frame stash's folder in the output folder; one older than this was left by a run
# that was killed (an analysis is limited to 15 minutes of video).
_STASH_PREFIX = ".frames-"
_STALE_STASH_S = 6 * 3600.0
# Share of the run spent in the pose pass, for the progress bar.
_POSE_SHARE = 0.85


@dataclass(frozen=True)
class AnalysisResult:
    """Where the outputs went, and the report and track behind them."""

    report: Report
    analysis: TrackAnalysis
    out_dir: Path
    report_path: Path
    timeseries_path: Path
    track_path: Path
    video_path: Path | None


def default_out_dir(video: Path) -> Path:
    """The folder beside the video: `clip.mp4` → `clip.backcheck/`."""
    return video.with_name(video.stem + ".backcheck")


def analyze_video(
    video: str | Path,
    *,
    out_dir: str | Path | None = None,
    exercise: Literal["auto", "hinge", "plank"] = "auto",
    model: str = MODE_DEFAULTS["upload"],
    profile: ClientProfile | None = None,
    write_video: bool = True,
    max_fps: float | None = DEFAULT_MAX_FPS,
    max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
    progress: Progress | None = None,
    display_name: str | None = None,
    workers: int | None = None,
    follow_one: bool = False,
) -> AnalysisResult:
    """Analyse `video` and write report.json, timeseries.csv, track.npz and annotated.mp4.

    Raises `AnalysisError` (one-line reason) for bad input, no person, or no model.
    `workers` model instances share the video (default: one per core; a batch worker
    that owns one core passes 1). `follow_one`: the faster pose pass (`vision.headcount`,
    `backcheck analyze --fast`; docs/models.md says what it changes).
    """
    from models.provision import resolve_model
    from vision.frame_stash import FrameStash
    from vision.video import probe

    video = Path(video)
    say = progress or (lambda fraction, label: None)
    info = probe(video, max_duration_s=max_duration_s, max_bytes=DEFAULT_MAX_BYTES)
    say(0.0, "loading the pose model")
    asset = resolve_model(model)
    out = Path(out_dir) if out_dir is not None else default_out_dir(video)
    made_out = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale_stashes(out)
    try:
        with tempfile.TemporaryDirectory(prefix=_STASH_PREFIX, dir=out) as stash_dir:
            return _analyze_into(
                video,
                out,
                info,
                asset,
                stash=(
                    FrameStash(Path(stash_dir), memory_bytes=STASH_MEMORY_BYTES)
                    if write_video
                    else None
                ),
                exercise=exercise,
                profile=profile,
                max_fps=max_fps,
                say=say,
                display_name=display_name,
                workers=workers,
                follow_one=follow_one,
            )
    except BaseException:
        if made_out and not any(out.iterdir()):
            out.rmdir()  # a failed run leaves no empty folder behind
        raise


def _remove_stale_stashes(out: Path) -> None:
    """Delete frame stashes a killed run left in `out` (a run in progress keeps its own)."""
    cutoff = time.time() - _STALE_STASH_S
    for path in out.glob(_STASH_PREFIX + "*"):
        try:
            if path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except FileNotFoundError:
            continue


def _analyze_into(
    video: Path,
    out: Path,
    info: VideoInfo,
    asset: ModelAsset,
    *,
    stash: FrameStash | None,
    exercise: Literal["auto", "hinge", "plank"],
    profile: ClientProfile | None,
    max_fps: float | None,
    say: Progress,
    display_name: str | None,
    workers: int | None = None,
    follow_one: bool = False,
) -> AnalysisResult:
    track = extract_track(
        video,
        asset.path,
        max_fps=max_fps,
        size=(info.width, info.height),
        total_s=info.duration_s,
        progress=lambda f, label: say(f * _POSE_SHARE, label),
        stash=stash,
        workers=workers,
        follow_one=follow_one,
    )
    say(_POSE_SHARE, "measuring angles")
    analysis = analyze_track(track, exercise=exercise, profile=profile)
    analysed_fps = (len(track) - 1) / track.duration_s if track.duration_s > 0 else info.fps
    source = SourceInfo(
        file=display_name or video.name,
        duration_s=round(info.duration_s, 3),
        frames=info.frames,
        fps=round(info.fps, 3),
        vfr=info.vfr,
        width=info.width,
        height=info.height,
        rotation_deg=info.rotation_deg,
        codec=info.codec,
        analysed_fps=round(analysed_fps, 2),
    )
    report = build_report(analysis, source, ModelInfo(asset.name, asset.sha256, fast=follow_one))

    report_path, csv_path, track_path = write_analysis(out, report, analysis, track)
    video_path = None
    if stash is not None:
        video_path = out / "annotated.mp4"
        from vision.render import render_annotated

        say(_POSE_SHARE + 0.02, "drawing the annotated video")
        atomic_write(
            video_path,
            lambda p: render_annotated(
                stash.frames(),
                p,
                analysis,
                max_fps=max_fps,
                end_t=info.duration_s,
                progress=lambda f: say(_POSE_SHARE + 0.02 + f * (0.97 - _POSE_SHARE), "drawing"),
            ),
        )
    say(1.0, "done")
    return AnalysisResult(report, analysis, out, report_path, csv_path, track_path, video_path)


def extract_track(
    video: Path,
    model_path: Path,
    *,
    max_fps: float | None = DEFAULT_MAX_FPS,
    size: tuple[int, int] | None = None,
    total_s: float | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    stash: FrameStash | None = None,
    follow_one: bool = False,
) -> PoseTrack:
    """Run the pose model over the video and follow the lifter: pass 1 of the analysis.

    `size` is the upright (width, height) of the video and `total_s` its length, when
    already known from `probe`. `workers` model instances share the video (default: one
    per core, see `vision.pose_pass`). With `stash`, the analysed frames are kept in it.
    `follow_one`: one pose followed, a headcount each second (`vision.headcount`).
    """
    from metrics.angles import choose_side, facing_direction
    from vision.gap_follow import follow_lost_lifter
    from vision.lifter import LifterTracker
    from vision.pose_pass import run_pose_pass
    from vision.second_look import second_look
    from vision.video import probe

    if size is None or total_s is None:
        info = probe(video)
        size, total_s = (info.width, info.height), info.duration_s
    width, height = size
    frames = run_pose_pass(
        video,
        model_path,
        max_fps=max_fps,
        scale_to=POSE_LONG_SIDE,
        full_size=size,
        num_poses=UPLOAD_NUM_POSES,
        duration_s=total_s,
        workers=workers,
        stash=stash,
        follow_one=follow_one,
        progress=(
            None
            if progress is None
            else lambda f: progress(f, f"finding the lifter ({f * total_s:.1f} s)")
        ),
    )
    if not frames:
        raise AnalysisError("The video has no frames that could be decoded.")
    tracker = LifterTracker()
    for frame in frames:
        tracker.update(frame.t, frame.people)
    rough = tracker.lifter_track(width, height)
    look = second_look(
        video, model_path, rough, max_fps=max_fps, duration_s=total_s, workers=workers
    )  # a far, small lifter: the pose pass again on a crop around them (vision.second_look)
    pins: dict[int, PersonPose] = {}
    if look is not None and look.tracker is not None:
        tracker, rough = look.tracker, look.tracker.lifter_track(width, height)
    else:  # the lifter lost for a while: followed through (vision.gap_follow)
        pins = follow_lost_lifter(
            video,
            model_path,
            rough,
            max_fps=max_fps,
            scale_to=POSE_LONG_SIDE,
            full_size=size,
        )
        for i, pose in pins.items():
            tracker.pin(i, pose)
        if pins:
            rough = tracker.lifter_track(width, height)
    if not rough.found.any():
        raise AnalysisError(
            (look.failure if look is not None else None)
            or "No one was found in the video: film the whole body from the side, "
            "in good light, with the lifter filling at least a third of the frame."
        )
    facing = facing_direction(rough, choose_side(rough))
    track = tracker.lifter_track(width, height, facing=facing)
    if look is not None and look.tracker is not None and look.box is not None:
        track = replace(track, crop=look.box)
    if pins:
        track = replace(track, followed=np.isin(np.arange(len(track)), list(pins)))
    return track


def write_analysis(
    out: Path, report: Report, analysis: TrackAnalysis, track: PoseTrack
) -> tuple[Path, Path, Path]:
    """report.json, timeseries.csv and track.npz in `out`, each written atomically; their
    paths. Uploads and live sets write the same three files through here."""
    report_path, csv_path = write_judgement(out, report, analysis)
    track_path = out / "track.npz"
    atomic_write(track_path, track.save)
    return report_path, csv_path, track_path


def write_judgement(out: Path, report: Report, analysis: TrackAnalysis) -> tuple[Path, Path]:
    """report.json and timeseries.csv in `out`, each written atomically; their paths. A
    saved track judged again (batch re-scoring, a session moved to a client) rewrites
    these two through here."""
    paths = (out / "report.json", out / "timeseries.csv")
    atomic_write(paths[0], lambda p: p.write_text(report.to_json() + "\n", "utf-8"))
    atomic_write(paths[1], lambda p: write_timeseries(p, analysis))
    return paths


def write_timeseries(path: Path, analysis: TrackAnalysis) -> None:
    """timeseries.csv: a row per analysed frame, every angle, visibility and labels."""
    cols = analysis.columns()
    names = list(cols)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        for i in range(len(analysis.angles)):
            writer.writerow([_cell(cols[n][i]) for n in names])


def _cell(v: object) -> str:
    if isinstance(v, float | np.floating):
        return "" if not np.isfinite(v) else f"{float(v):.4f}"
    return str(v)


def load_report(path: str | Path) -> Report:
    """Read a report.json written by `analyze_video`."""
    return Report.from_dict(json.loads(Path(path).read_text("utf-8")))
