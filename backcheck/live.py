"""A live set after the fact, and the local-camera window.

- `analyze_live_set(session)`: the recorded set through the upload analysis
  (`metrics.analysis.analyze_track`), so a saved live set has the same report as an upload.
- `save_live_set(...)`: that report, timeseries.csv and track.npz into the client's history.
- `run_camera(...)`: `backcheck live`, an OpenCV window on a local camera.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from metrics.analysis import TrackAnalysis, analyze_track, build_report
from metrics.errors import AnalysisError
from metrics.live import LiveExercise
from metrics.profile import ClientProfile
from metrics.report import ModelInfo, Report, SourceInfo
from metrics.track import PoseTrack

if TYPE_CHECKING:
    from backcheck.history import HistoryStore, SessionSummary
    from vision.live import LiveResult, LiveSession


@dataclass(frozen=True)
class LiveSetReport:
    """A finished live set analysed like an upload; `track` is the raw recording."""

    analysis: TrackAnalysis
    report: Report
    track: PoseTrack


def analyze_live_set(
    session: LiveSession, *, name: str | None = None, profile: ClientProfile | None = None
) -> LiveSetReport:
    """Analyse everything `session` recorded with the upload path's rules.

    Raises `AnalysisError` when the set is too short or nobody was in view.
    """
    track = session.recorded_track()
    if len(track) < 2:
        raise AnalysisError("Nothing was recorded yet: start the camera and do a set first.")
    analysis = analyze_track(track, exercise=session.exercise, profile=profile or session.profile)
    # The mask edge of the back depends on the facing the whole set shows.
    if analysis.view.facing is not None and analysis.view.facing != session.analyzer.facing:
        track = session.recorded_track(facing=analysis.view.facing)
        analysis = analyze_track(
            track, exercise=session.exercise, profile=profile or session.profile
        )
    duration = track.duration_s
    fps = (len(track) - 1) / duration if duration > 0 else 0.0
    source = SourceInfo(
        file=name or f"live {datetime.now().strftime('%Y-%m-%d %H:%M')}",
        duration_s=round(duration, 3),
        frames=len(track),
        fps=round(fps, 3),
        vfr=True,
        width=track.width,
        height=track.height,
        rotation_deg=0,
        codec="live",
        analysed_fps=round(fps, 2),
    )
    model = ModelInfo(session.model_name or "custom", session.model_sha256 or "")
    report = build_report(analysis, source, model, extra={"live": True})
    return LiveSetReport(analysis, report, track)


def save_live_set(
    store: HistoryStore,
    client_id: int,
    session: LiveSession,
    *,
    profile: ClientProfile | None = None,
) -> SessionSummary:
    """Analyse the set and save it to the client's history like an upload."""
    from backcheck.pipeline import write_analysis

    done = analyze_live_set(session, profile=profile)
    with store.staged() as staging:
        write_analysis(staging, done.report, done.analysis, done.track)
        return store.save_session(client_id, done.report, staging, profile or session.profile)


def run_camera(
    camera: int | str = 0,
    *,
    exercise: LiveExercise = "hinge",
    model: str = "auto",
    profile: ClientProfile | None = None,
    width: int = 640,
    height: int = 480,
    out_dir: Path | None = None,
    show: bool = True,
    every_frame: bool = False,
) -> Report:
    """Show camera `camera` with the live readout in a window until q or Esc is pressed.

    `camera` is a camera index, or a video file or stream URL (a file is played at its
    own frame rate, as a camera would deliver it). The reading thread only reads and shows
    frames; analysis runs on the session's worker, dropping frames when it falls behind.
    On exit the set is analysed like an upload; its report is returned (and written to
    `out_dir` when given); `AnalysisError` says why when there is nothing to analyse.
    `show=False` runs without a window. `every_frame` (for a file) analyses every frame
    in turn, as fast as the CPU allows, instead of in real time: the live path's result
    with no frame dropped, the same on any machine.
    """
    if show and sys.platform.startswith("linux") and not _has_display():
        raise AnalysisError(
            "No display for the camera window: run it on a desktop, or pass --no-window."
        )
    import cv2

    from vision.live import LiveSession

    cap = cv2.VideoCapture(camera)
    if not cap.isOpened():
        raise AnalysisError(f"Camera {camera} could not be opened: check it is connected.")
    is_file = isinstance(camera, str) and Path(camera).is_file()
    if not is_file:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    file_fps = float(cap.get(cv2.CAP_PROP_FPS) or 30.0) if is_file else 0.0
    title = "backcheck live (q to finish)"
    realtime = not (every_frame and is_file)
    with LiveSession(
        exercise, model=model, profile=profile, background_judging=realtime
    ) as session:
        if realtime:
            session.start()
        t0 = time.monotonic()
        n = 0
        try:
            while True:
                ok, bgr = cap.read()
                if not ok:
                    break
                if is_file:  # timed by the file's own clock, played in real time
                    if realtime:
                        time.sleep(max(0.0, t0 + n / file_fps - time.monotonic()))
                    t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                else:
                    t = time.monotonic() - t0
                n += 1
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                result: LiveResult | None = None
                if realtime:
                    session.submit(rgb, t)
                else:
                    result = session.process(rgb, t)
                if show:
                    shown = session.annotate(rgb, result)
                    cv2.imshow(title, cv2.cvtColor(shown, cv2.COLOR_RGB2BGR))
                    if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                        break
        finally:
            cap.release()
            if show:
                cv2.destroyAllWindows()
            session.stop()
        done = analyze_live_set(session, profile=profile)
    if out_dir is not None:
        from backcheck.pipeline import write_analysis

        out_dir.mkdir(parents=True, exist_ok=True)
        write_analysis(out_dir, done.report, done.analysis, done.track)
    return done.report


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def live_command(args: argparse.Namespace) -> int:
    """`backcheck live`: run the camera window, then print the set's summary."""
    from backcheck.summary import summary_text

    camera: int | str = int(args.camera) if str(args.camera).isdigit() else str(args.camera)
    try:
        profile = ClientProfile.load(args.profile) if args.profile else None
        report = run_camera(
            camera,
            exercise=args.exercise,
            model=args.model,
            profile=profile,
            out_dir=args.out,
            show=not args.no_window,
            every_frame=args.every_frame,
        )
    except AnalysisError as err:
        print(f"backcheck: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("backcheck: interrupted", file=sys.stderr)
        return 130
    print(summary_text(report))
    if args.out is not None:
        print(f"Wrote {args.out}")
    return 0
