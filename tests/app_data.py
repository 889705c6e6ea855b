"""Synthetic sessions for the app and history tests: a report with known reps and flags,
its timeseries.csv, and a small real annotated.mp4, so the pages can be tested without
waiting for the pose model (and without depending on the hinge/plank rules' state)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from metrics.report import (
    Cue,
    Flag,
    Hold,
    ModelInfo,
    Quality,
    Rep,
    Report,
    SourceInfo,
    ViewInfo,
)

DURATION_S = 6.0
FPS = 10.0


def hinge_report(
    *, file: str = "client_set.mp4", judgeable: bool = True, flexion: tuple[float, ...] = ()
) -> Report:
    """Three reps, 2 s each; rep 2 (and 3 when `flexion` has three values) rounded."""
    flexion = flexion or (4.0, 22.0, 12.0)
    reps = []
    flags = []
    for i, fx in enumerate(flexion, start=1):
        start = 2.0 * (i - 1)
        rep_flags = []
        if fx >= 10.0:
            rep_flags.append("spine_flexion")
            flags.append(
                Flag(
                    "spine_flexion",
                    "marked" if fx >= 20.0 else "mild",
                    i,
                    start + 0.7,
                    start + 1.0,
                    start + 1.3,
                    fx,
                    10.0,
                )
            )
        reps.append(
            Rep(
                index=i,
                start_s=start,
                bottom_s=start + 1.0,
                end_s=start + 2.0,
                metrics={
                    "trunk_max_deg": 70.0 + i,
                    "hip_min_deg": 60.0,
                    "knee_min_deg": 130.0,
                    "spine_flexion_deg": fx,
                    "spine_extension_deg": 0.0,
                },
                flags=rep_flags,
            )
        )
    view = (
        ViewInfo("side", "right", True, None)
        if judgeable
        else ViewInfo(
            "front",
            None,
            False,
            "Filmed from the front: film from the side, at hip height, 3-4 m away.",
        )
    )
    cues = [
        Cue("praise", 0, "Good work: most reps kept a long, steady back. Rep 1 looked great."),
        Cue("spine_flexion", 1, "Chest proud and brace before you hinge. Watch reps 2 and 3."),
    ]
    if not judgeable:
        reps, flags = [], []
        cues = [Cue("praise", 0, "Nice effort."), Cue("camera", 1, view.reason or "")]
    return Report(
        source=SourceInfo(file, DURATION_S, 60, FPS, False, 64, 48, 0, "h264", FPS),
        model=ModelInfo("pose_landmarker_full", "0" * 64),
        exercise="hinge",
        view=view,
        quality=Quality(1.0, 0.9, []),
        reps=reps,
        hold=None,
        flags=flags,
        cues=cues,
    )


def plank_report(*, hold_s: float = 5.0, in_tol_s: float = 4.0) -> Report:
    """A plank held from 0.5 s with a short sag flagged."""
    return Report(
        source=SourceInfo("plank.mp4", DURATION_S, 60, FPS, False, 64, 48, 0, "h264", FPS),
        model=ModelInfo("pose_landmarker_full", "0" * 64),
        exercise="plank",
        view=ViewInfo("side", "left", True, None),
        quality=Quality(1.0, 0.9, []),
        reps=[],
        hold=Hold(0.5, 0.5 + hold_s, hold_s, in_tol_s, 3.0, 14.0),
        flags=[Flag("hip_sag", "mild", None, 3.0, 3.5, 4.0, 14.0, 10.0)],
        cues=[
            Cue("praise", 0, "Good hold: you kept a long line for most of it."),
            Cue("hip_sag", 1, "Squeeze your glutes and tuck your tailbone."),
        ],
    )


def write_timeseries(path: Path, exercise: str = "hinge", steady_s: float = 0.0) -> None:
    """A timeseries.csv with the pipeline's columns: three hinge reps or a plank;
    `steady_s` holds the start position still for that long first."""
    t = np.arange(0.0, DURATION_S, 1.0 / FPS)
    phase = np.sin(np.pi * (t % 2.0) / 2.0)  # 0 at rep starts, 1 at the bottoms
    phase[t < steady_s] = 0.0
    cols = {
        "t_s": t,
        "trunk_deg": 5.0 + 70.0 * phase if exercise == "hinge" else np.full_like(t, 80.0),
        "hip_deg": 175.0 - 110.0 * phase,
        "knee_deg": 175.0 - 40.0 * phase,
        "neck_deg": np.full_like(t, 190.0),
        "plank_line_deg": np.full_like(t, np.nan) if exercise == "hinge" else 3 + 8 * phase,
        "hip_height_leg": 1.0 - 0.4 * phase,
        "shoulder_height_leg": 1.6 - 0.8 * phase,
        "visibility": np.full_like(t, 0.9),
    }
    if exercise == "hinge":  # the hinge rules' columns
        cols["spine_flexion_deg"] = 12.0 * phase
        cols["spine_curve_deg"] = 30.0 + 12.0 * phase
        cols["lean_back_deg"] = np.where(phase < 0.1, 3.0, -40.0 * phase)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(list(cols))
        for i in range(len(t)):
            w.writerow(["" if not np.isfinite(c[i]) else f"{c[i]:.4f}" for c in cols.values()])


def write_video(path: Path, seconds: float = DURATION_S) -> None:
    """A small real H.264 clip whose frame brightness encodes time (t * 40 grey levels)."""
    from vision.video import VideoWriter

    with VideoWriter(path, fps=FPS) as writer:
        for i in range(int(seconds * FPS)):
            t = i / FPS
            frame = np.full((48, 64, 3), int(t * 40) % 256, np.uint8)
            writer.write(frame, t)
        writer.close(end_t=seconds)


def fill_folder(folder: Path, report: Report, *, video: bool = True, steady_s: float = 0.0) -> None:
    """Write what `analyze_video` writes into `folder` (without track.npz)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report.to_dict(), indent=2), "utf-8")
    write_timeseries(folder / "timeseries.csv", report.exercise, steady_s)
    if video:
        write_video(folder / "annotated.mp4")
