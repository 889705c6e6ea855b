"""The whole numbers side of an analysis: a raw `PoseTrack` in, a `TrackAnalysis` out.

clean → angles → view check → exercise → reps or hold → flags → cues. The upload path and
the evaluation command call `analyze_track`; `build_report` adds what the video said.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from metrics.angles import Angles, compute_angles
from metrics.clean import clean_track
from metrics.cues import choose_cues
from metrics.errors import AnalysisError
from metrics.evidence import complete_flags
from metrics.exercise import detect_exercise
from metrics.hinge import analyze_hinge
from metrics.landmarks import SIDE_PARTS
from metrics.plank import analyze_plank
from metrics.plausibility import check_track, frame_labels
from metrics.profile import ClientProfile
from metrics.report import (
    Cue,
    Exercise,
    ModelInfo,
    Quality,
    Report,
    SourceInfo,
    ViewInfo,
)
from metrics.result import ExerciseResult
from metrics.thresholds import Thresholds, thresholds_for
from metrics.track import PoseTrack
from metrics.view import classify_view

# Below this share of analysed frames with the person in them, there is nothing to judge.
MIN_TRACKED_FRACTION = 0.2
MIN_TRACKED_FRAMES = 8


@dataclass(frozen=True, eq=False)
class TrackAnalysis:
    """Everything the numbers say about one track, before the video's details are added."""

    exercise: Exercise
    exercise_reason: str
    view: ViewInfo
    quality: Quality
    result: ExerciseResult
    cues: list[Cue]
    track: PoseTrack
    angles: Angles
    # Per frame, what the plausibility gate found (`metrics.plausibility`), "" for none.
    plausibility: np.ndarray | None = None

    def columns(self) -> dict[str, np.ndarray]:
        """Per-frame columns for timeseries.csv: time, every angle, visibility, labels."""
        cols = dict(self.angles.to_columns())
        cols["visibility"] = _side_visibility(self.track, self.angles.side)
        cols.update(self.result.columns)
        if self.plausibility is not None:
            cols["plausibility"] = frame_labels(self.plausibility, self.track, self.angles.side)
        # 1 where the lifter was followed through a stretch the pose pass lost
        cols["followed"] = self.track.followed.astype(np.int8)
        return cols


def analyze_track(
    track: PoseTrack,
    *,
    exercise: Literal["auto", "hinge", "plank"] = "auto",
    profile: ClientProfile | None = None,
    thresholds: Thresholds | None = None,
) -> TrackAnalysis:
    """Analyse one person's raw track. Raises `AnalysisError` when nobody was tracked."""
    found = track.found
    if found.sum() < MIN_TRACKED_FRAMES or found.mean() < MIN_TRACKED_FRACTION:
        raise AnalysisError(
            "No one was found in the video: film the whole body from the side, "
            "in good light, with the lifter filling at least a third of the frame."
        )
    thresholds = thresholds or thresholds_for(profile)
    profile = profile or ClientProfile()
    # The view check reads raw visibility: cleaning blanks an ankle hidden behind a plate,
    # which is still in frame and does not stop the back being judged.
    view = classify_view(track)
    # No landmark a body could not have put there reaches a measure (docs/ranges.md).
    checked = check_track(track, facing=view.facing, side_view=view.camera == "side")
    cleaned = clean_track(checked.track)
    angles = compute_angles(cleaned, facing=view.facing)
    if exercise == "auto":
        chosen, reason = detect_exercise(angles, cleaned)
    else:
        chosen, reason = exercise, "chosen by the user"
    if chosen == "plank":
        result = analyze_plank(cleaned, angles, view, thresholds, profile)
    else:
        result = analyze_hinge(cleaned, angles, view, thresholds, profile)
    flags, dropped = complete_flags(result.flags, cleaned.visibility, angles.t, angles.side)
    result = replace(result, flags=flags)
    quality = _quality(track, angles.side)
    if dropped:
        quality = replace(quality, warnings=[*quality.warnings, *dropped])
    cues = choose_cues(chosen, result.reps, result.hold, result.flags, view, profile)
    return TrackAnalysis(
        chosen, reason, view, quality, result, cues, cleaned, angles, checked.codes
    )


def build_report(
    analysis: TrackAnalysis,
    source: SourceInfo,
    model: ModelInfo,
    extra: dict[str, Any] | None = None,
) -> Report:
    """The report.json content for an analysis of `source` with `model`."""
    more = {"exercise_reason": analysis.exercise_reason, **analysis.result.extra}
    more.update(extra or {})
    return Report(
        source=source,
        model=model,
        exercise=analysis.exercise,
        view=analysis.view,
        quality=analysis.quality,
        reps=analysis.result.reps,
        hold=analysis.result.hold,
        flags=analysis.result.flags,
        cues=analysis.cues,
        extra=more,
    )


_KEY_PARTS = ("shoulder", "hip", "knee", "ankle")


def _side_visibility(track: PoseTrack, side: str) -> np.ndarray:
    k = 0 if side == "left" else 1
    idx = [SIDE_PARTS[p][k] for p in _KEY_PARTS]
    vis = track.visibility[:, idx]
    out = np.full(len(track), np.nan)
    ok = np.isfinite(vis).any(axis=1)
    out[ok] = np.nanmean(vis[ok], axis=1)
    return out


SECOND_LOOK_WARNING = (
    "The lifter was small in the frame and was found by a second, closer look; "
    "filming closer gives surer readings."
)


def _quality(track: PoseTrack, side: str) -> Quality:
    """How much of the clip the lifter was tracked in, and what a coach should know."""
    n = max(len(track), 1)
    found = track.found
    vis = _side_visibility(track, side)
    mean_vis = float(np.nanmean(vis)) if np.isfinite(vis).any() else 0.0
    warnings: list[str] = []
    crowd = float(np.mean(track.others > 0)) if len(track) else 0.0
    if crowd > 0.05:
        warnings.append(
            f"Other people were in frame for {crowd * 100:.0f}% of the clip; "
            "backcheck followed the lifter."
        )
    tracked = float(found.sum()) / n
    if tracked < 0.8:
        warnings.append(
            f"The lifter was tracked in only {tracked * 100:.0f}% of the frames; "
            "results for the rest are less certain."
        )
    if track.crop is not None:
        warnings.append(SECOND_LOOK_WARNING)
    if mean_vis < 0.6:
        warnings.append(
            "The near-side shoulder, hip, knee and ankle were often hard to see; "
            "better light and a clear side view help."
        )
    crop = None if track.crop is None else list(track.crop)
    return Quality(round(tracked, 3), round(mean_vis, 3), warnings, crop)
