"""Plank rules (placeholder until the plank issue lands): no reps, no flags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metrics.angles import Angles
from metrics.profile import ClientProfile
from metrics.report import ViewInfo
from metrics.thresholds import Thresholds
from metrics.track import PoseTrack

if TYPE_CHECKING:
    from metrics.analysis import ExerciseResult


def analyze_plank(
    track: PoseTrack, angles: Angles, view: ViewInfo, thresholds: Thresholds, profile: ClientProfile
) -> ExerciseResult:
    from metrics.analysis import ExerciseResult

    return ExerciseResult(reps=[], hold=None, flags=[])
