"""Which streaming rule watches which exercise in the live path.

The hinge rules (metrics.reps, metrics.hinge) and the plank rules (metrics.plank) own the
logic, and their upload analysis runs the very same streaming objects over a whole track;
this module only adapts those objects to `metrics.live.StreamMonitor`.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections import deque
from dataclasses import replace

import numpy as np

from metrics.analysis import analyze_track
from metrics.errors import AnalysisError
from metrics.hinge import DEFAULT_PARAMS, rep_params_for
from metrics.landmarks import N_LANDMARKS
from metrics.live_frame import LiveExercise, LiveFrame, MonitorUpdate, NullMonitor, StreamMonitor
from metrics.plank import HoldTimer, PlankSettings
from metrics.plank_posture import PlankRow, landmark_features
from metrics.profile import ClientProfile
from metrics.report import Flag
from metrics.reps import DEFAULT_PARAMS as REP_PARAMS
from metrics.reps import RepCounter, RepSegment
from metrics.thresholds import Thresholds
from metrics.track import PoseTrack, Row


class PlankMonitor:
    """`metrics.plank.HoldTimer` fed one live frame at a time."""

    def __init__(self, thresholds: Thresholds, profile: ClientProfile) -> None:
        self.timer = HoldTimer(PlankSettings.from_thresholds(thresholds, profile))

    def update(self, frame: LiveFrame) -> MonitorUpdate:
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


# Recent history the hinge judge reads: a whole rep with its setup and lockout, and the
# standing frames between reps that give the lifter's neutral back shape.
JUDGE_WINDOW_S = 12.0
# The judged window starts this long before the rep (standing frames: the lifter's
# neutral, and where the descent begins).
JUDGE_LEAD_S = 2.0
# A live rep and a rep of the judged window are the same rep when their lockouts are this
# close in time (the two see differently smoothed angles).
SAME_REP_S = 0.6
# Scheduling niceness of the judge thread (Linux threads have their own).
JUDGE_NICENESS = 10


class HingeMonitor:
    """`metrics.reps.RepCounter` fed one live frame at a time, and the hinge rules of the
    upload path applied to each rep once its lockout is over.

    The count comes from the streaming counter at once. The flags come from
    `metrics.analysis.analyze_track` (exactly what an upload runs) on the raw landmarks of
    the last `JUDGE_WINDOW_S` seconds, run when a rep's lockout window has passed; each
    judged rep is matched to the live rep with the same lockout time. With `background`
    the judging runs on a thread of its own (it takes a few hundred milliseconds), so the
    frame-by-frame readout never waits for it; the flags then arrive a moment later.
    """

    def __init__(
        self, thresholds: Thresholds, profile: ClientProfile, *, background: bool = False
    ) -> None:
        self.thresholds = thresholds
        self.profile = profile
        self.rep_params = REP_PARAMS
        self.counter = RepCounter(self.rep_params)
        self.lockout_window_s = DEFAULT_PARAMS.lockout_window_s
        self.background = background
        self._rows: deque[Row] = deque()
        self._size = (0, 0)
        self._due: list[tuple[float, int]] = []  # (when to judge, live rep index)
        self._lock = threading.Lock()
        self._flags: dict[tuple[str, int], Flag] = {}
        self._events: list[str] = []
        self._jobs: queue.Queue[tuple[list[Row], tuple[int, int], list[RepSegment]] | None] = (
            queue.Queue(maxsize=1)
        )
        self._worker: threading.Thread | None = None

    def update(self, frame: LiveFrame) -> MonitorUpdate:
        self._buffer(frame)
        if frame.view is not None:  # the upload's settings for the view seen so far
            self.counter.params = rep_params_for(frame.view, self.rep_params)
        # `FrameAngles` has every field the counter reads (trunk, hip, knee, the far hip,
        # shoulder height, head room), computed as `metrics.reps.rep_rows` takes them from
        # a track (leg and torso lengths: the medians of the set so far).
        done = self.counter.update(frame.t, frame.angles)
        if done is not None:
            self._due.append((done.end_s + self.lockout_window_s + 0.1, done.index))
        if self._due and frame.t >= self._due[0][0]:
            ready = [i for when, i in self._due if frame.t >= when]
            self._due = [(when, i) for when, i in self._due if frame.t < when]
            reps = [r for r in self.counter.reps if r.index in ready]
            self._submit(self._window(reps), reps)
        with self._lock:
            events = tuple(dict.fromkeys(self._events))
            self._events.clear()
            flags = tuple(self._flags.values())
        zone = self.counter.zone
        phase = {"top": "standing", "bottom": "bent over", "mid": "moving"}.get(zone or "", "")
        return MonitorUpdate(reps=self.counter.count, phase=phase, events=events, flags=flags)

    def finish(self) -> tuple[Flag, ...]:
        """Judge every rep still waiting for its lockout window (the set is over)."""
        if self._due:
            ready = {i for _, i in self._due}
            self._due = []
            reps = [r for r in self.counter.reps if r.index in ready]
            self._submit(self._window(reps), reps)
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join(timeout=30.0)
            self._worker = None
        with self._lock:
            return tuple(self._flags.values())

    def _buffer(self, frame: LiveFrame) -> None:
        s = frame.sample
        if s is not None and s.size is not None:
            self._size = s.size
        if s is None or s.image is None or s.visibility is None:
            nan = np.full((N_LANDMARKS, 3), np.nan, np.float32)
            row: Row = (frame.t, nan, nan, np.full(N_LANDMARKS, np.nan, np.float32), None, 0)
        else:
            world = s.world if s.world is not None else np.full((N_LANDMARKS, 3), np.nan)
            contour = None
            if s.edges is not None:
                contour = np.asarray(s.edges)[:, 0 if frame.facing == "right" else 1, :]
            row = (frame.t, s.image, world, s.visibility, contour, s.others)
        self._rows.append(row)
        while self._rows and frame.t - self._rows[0][0] > JUDGE_WINDOW_S:
            self._rows.popleft()

    def close(self) -> None:
        """Stop the judge thread without judging what is still waiting."""
        if self._worker is not None:
            with contextlib.suppress(queue.Empty):
                self._jobs.get_nowait()
            self._jobs.put(None)
            self._worker.join(timeout=30.0)
            self._worker = None

    def _window(self, reps: list[RepSegment]) -> list[Row]:
        """The buffered rows from `JUDGE_LEAD_S` before the earliest rep's start."""
        if not reps:
            return []
        t0 = min(r.start_s for r in reps) - JUDGE_LEAD_S
        return [row for row in self._rows if row[0] >= t0]

    def _submit(self, rows: list[Row], reps: list[RepSegment]) -> None:
        if not reps:
            return
        if not self.background:
            self._judge(rows, self._size, reps)
            return
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="hinge-judge", daemon=True)
            self._worker.start()
        try:
            self._jobs.put_nowait((rows, self._size, reps))
        except queue.Full:  # still judging: fold the waiting reps into this newer window
            with contextlib.suppress(queue.Empty):
                old = self._jobs.get_nowait()
                if old is not None:
                    reps = old[2] + reps
            self._jobs.put_nowait((rows, self._size, reps))

    def _run(self) -> None:
        # Judging can wait a moment; the pose model on the next frame cannot.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), JUDGE_NICENESS)
        while True:
            job = self._jobs.get()
            if job is None:
                return
            self._judge(*job)

    def _judge(self, rows: list[Row], size: tuple[int, int], reps: list[RepSegment]) -> None:
        track = PoseTrack.from_rows(rows, size[0], size[1], with_contour=True)
        try:
            result = analyze_track(
                track, exercise="hinge", profile=self.profile, thresholds=self.thresholds
            ).result
        except AnalysisError:
            return
        judged = {r.index: r for r in result.reps}
        found: list[Flag] = []
        for f in result.flags:
            rep = judged.get(f.rep) if f.rep is not None else None
            if rep is None:
                continue
            live = min(reps, key=lambda r: abs(r.end_s - rep.end_s))
            if abs(live.end_s - rep.end_s) <= SAME_REP_S:
                found.append(replace(f, rep=live.index))
        with self._lock:
            for f in found:
                key = (f.code, int(f.rep or 0))
                if key not in self._flags:
                    self._events.append(f.code)
                self._flags[key] = f


def make_monitor(
    exercise: LiveExercise,
    thresholds: Thresholds,
    profile: ClientProfile,
    *,
    background: bool = False,
) -> StreamMonitor:
    """The streaming rule for `exercise` (a `NullMonitor` where none exists).

    `background` lets slow judging run on a thread of its own (the live camera path).
    """
    if exercise == "plank":
        return PlankMonitor(thresholds, profile)
    if exercise == "hinge":
        return HingeMonitor(thresholds, profile, background=background)
    return NullMonitor()
