"""Which streaming rule watches which exercise in the live path.

The hinge rules (metrics.reps, metrics.hinge) and the plank rules (metrics.plank) own the
logic, and their upload analysis runs the very same streaming objects over a whole track;
this module only adapts those objects to `metrics.live.StreamMonitor`.
"""

from __future__ import annotations

from metrics.live import LiveExercise, LiveFrame, MonitorUpdate, NullMonitor, StreamMonitor
from metrics.profile import ClientProfile
from metrics.thresholds import Thresholds


class PlankMonitor:
    """`metrics.plank.HoldTimer` fed one live frame at a time."""

    def __init__(self, thresholds: Thresholds, profile: ClientProfile) -> None:
        from metrics.plank import HoldTimer, PlankSettings

        self.timer = HoldTimer(PlankSettings.from_thresholds(thresholds, profile))

    def update(self, frame: LiveFrame) -> MonitorUpdate:
        from metrics.plank import PlankRow, landmark_features

        far_knee, support = landmark_features(frame.image, frame.side, frame.facing)
        a = frame.angles
        state = self.timer.update(
            PlankRow(
                t=frame.t,
                plank_line=a.plank_line,
                knee=a.knee,
                far_knee=float(far_knee),
                neck=a.neck,
                hip_height=a.hip_height,
                arm_support=float(support),
            )
        )
        phase = "holding" if state.holding else ("getting set" if state.posture else "")
        return MonitorUpdate(
            hold_s=state.hold_s, phase=phase, active=tuple(state.active), flags=state.flags
        )


class HingeMonitor:
    """`metrics.reps.RepCounter` fed one live frame at a time (the upload path runs the
    same counter over the whole track)."""

    def __init__(self, thresholds: Thresholds, profile: ClientProfile) -> None:
        from metrics.reps import RepCounter

        self.counter = RepCounter()

    def update(self, frame: LiveFrame) -> MonitorUpdate:
        from metrics.reps import RepRow

        a = frame.angles
        row = RepRow(trunk=a.trunk, hip=a.hip, knee=a.knee, hip_far=a.hip_far)
        self.counter.update(frame.t, row)
        zone = self.counter.zone
        phase = {"top": "standing", "bottom": "bent over", "mid": "moving"}.get(zone or "", "")
        return MonitorUpdate(reps=self.counter.count, phase=phase)


def make_monitor(
    exercise: LiveExercise, thresholds: Thresholds, profile: ClientProfile
) -> StreamMonitor:
    """The streaming rule for `exercise` (a `NullMonitor` where none exists)."""
    if exercise == "plank":
        return PlankMonitor(thresholds, profile)
    if exercise == "hinge":
        return HingeMonitor(thresholds, profile)
    return NullMonitor()
