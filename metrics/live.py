"""The numbers side of the live path: one frame's landmarks in, a steady readout out.

Per frame, in the order the upload path uses for a whole track (metrics.analysis): gate by
visibility, smooth (a causal `OneEuroFilter` instead of the zero-phase low-pass, which
needs the future), angles with `metrics.angles` on a one-frame `PoseTrack` (so the
conventions are the very same code), then the exercise's streaming rules (a rep counter
for hinges, a hold timer for planks) and the `CueRationer`. Every half second the recent
frames decide, with `metrics.view` and `metrics.angles`, whether the camera is side-on
enough to judge, which side is nearer and which way the lifter faces; as in the upload
path, nothing is flagged or cued from a view that cannot show it.

The streaming rules plug in through `StreamMonitor` (metrics.live_frame): anything with
``update(frame: LiveFrame) -> MonitorUpdate``. `default_monitor` picks the ones the hinge
and plank rules provide (metrics.live_rules).

Every raw sample is also recorded, so the finished set can be analysed exactly like an
upload (`LiveAnalyzer.recorded_track` gives the `PoseTrack` for
`metrics.analysis.analyze_track`).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from metrics.angles import Side, choose_side, facing_direction
from metrics.clean import MIN_VISIBILITY, OneEuroFilter
from metrics.cue_ration import CueRationer, LiveCue
from metrics.landmarks import N_LANDMARKS
from metrics.live_frame import (
    FrameAngles,
    LiveExercise,
    LiveFrame,
    MonitorFactory,
    MonitorUpdate,
    NullMonitor,
    PoseSample,
    StreamMonitor,
    frame_angles,
    leg_length_px,
)
from metrics.live_gate import LiveGate, readout_in_range
from metrics.live_rules import make_monitor
from metrics.profile import ClientProfile
from metrics.report import Flag, ViewInfo
from metrics.reps import torso_lengths_px
from metrics.thresholds import Thresholds, thresholds_for
from metrics.track import BACK_STATIONS, PoseTrack
from metrics.view import classify_view

# The frame types live in metrics.live_frame; these names stay importable from here.
__all__ = [
    "FrameAngles",
    "LiveAnalyzer",
    "LiveExercise",
    "LiveFrame",
    "LiveState",
    "MonitorFactory",
    "MonitorUpdate",
    "NullMonitor",
    "PoseSample",
    "StreamMonitor",
    "background_monitor",
    "default_monitor",
    "frame_angles",
]

# How much recent history decides which side is nearer the camera and which way the
# lifter faces, how often that is re-decided, and how many agreeing decisions it takes
# to change it (so it never flips on one odd frame).
FACING_WINDOW_S = 6.0
DECIDE_EVERY_S = 0.5
DECISIONS_TO_SWITCH = 2
# Leg length (for hip and shoulder height) is the median over the set so far, as an upload
# takes the whole clip's: a scale that drifted with a recent window made the shoulders'
# drop (the rep counter's measure away from side-on) read differently from the upload's.
# Torso length, which scales the head's room below the frame's top edge (the rep counter's
# test for a lockout risen out of the frame, metrics.reps.head_room), is kept the same way.
# A recording longer than this keeps only its most recent part (about 45 MB of landmarks).
MAX_RECORD_S = 20 * 60.0

# Frame size used for the view check when the frame size is not known: nothing is "cut off".
_UNKNOWN_SIZE = 1 << 30


def default_monitor(
    exercise: LiveExercise, thresholds: Thresholds, profile: ClientProfile
) -> StreamMonitor:
    """The streaming rule of `exercise` from metrics.hinge / metrics.plank (judging inline)."""
    return make_monitor(exercise, thresholds, profile)


def background_monitor(
    exercise: LiveExercise, thresholds: Thresholds, profile: ClientProfile
) -> StreamMonitor:
    """As `default_monitor`, with slow judging on a thread of its own (live camera use)."""
    return make_monitor(exercise, thresholds, profile, background=True)


@dataclass(frozen=True, eq=False)
class LiveState:
    """The readout after one frame; frozen, so it can be handed to another thread."""

    t: float
    found: bool
    exercise: LiveExercise
    side: Side | None
    facing: Side | None
    angles: FrameAngles
    image: np.ndarray | None  # (33, 3) px, smoothed, for drawing
    visibility: np.ndarray | None
    back: np.ndarray | None
    reps: int
    hold_s: float | None
    phase: str
    cue: LiveCue | None
    flags: tuple[Flag, ...] = field(default_factory=tuple)
    view: ViewInfo | None = None
    # What the causal plausibility gate dropped in this frame (metrics.live_gate), e.g.
    # "swap" or "burst+length"; "" when nothing. `angles` never holds a value a body
    # cannot make (`readout_in_range`).
    gate: str = ""


class LiveAnalyzer:
    """Streaming analysis of one set: feed `PoseSample`s in time order with `update`.

    Parameters
    ----------
    exercise : "hinge" or "plank"
    profile : ClientProfile, optional
        Thresholds and cue wording for the client.
    monitor_factory : callable, optional
        Builds the streaming rule (default: `default_monitor`).
    min_cutoff, beta : float
        `OneEuroFilter` settings for the pixel landmarks.
    rationer : CueRationer, optional
        Cue rationing (default: a `CueRationer` for `profile`).
    """

    def __init__(
        self,
        exercise: LiveExercise = "hinge",
        *,
        profile: ClientProfile | None = None,
        thresholds: Thresholds | None = None,
        monitor_factory: MonitorFactory | None = None,
        min_cutoff: float = 1.0,
        beta: float = 0.01,
        rationer: CueRationer | None = None,
    ) -> None:
        self.exercise: LiveExercise = exercise
        self.profile = profile or ClientProfile()
        self.thresholds = thresholds or thresholds_for(self.profile)
        factory = monitor_factory or default_monitor
        self.monitor = factory(exercise, self.thresholds, self.profile)
        self.rationer = rationer or CueRationer(profile=self.profile)
        self._filter_image = OneEuroFilter(min_cutoff=min_cutoff, beta=beta)
        self._filter_world = OneEuroFilter(min_cutoff=min_cutoff, beta=beta * 0.01)
        self._rows: deque[tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]] = (
            deque()
        )
        self._recent: deque[tuple[float, np.ndarray, np.ndarray, np.ndarray]] = deque()
        self._legs: list[float] = []  # sorted leg lengths (px) of the set so far
        self._torsos: list[float] = []  # sorted torso lengths (px, both sides) so far
        self.side: Side | None = None
        self.facing: Side | None = None
        self.view: ViewInfo | None = None
        self._size: tuple[int, int] | None = None
        self._flags: dict[tuple[str, int | None, float], Flag] = {}
        self._pending: tuple[Side, Side] | None = None
        self._pending_count = 0
        self._next_decision = -math.inf
        self._last_t = -math.inf
        self._last_update = MonitorUpdate()
        self._gate = LiveGate()
        self._gate_code = ""
        plank = self.thresholds.extra.get("plank", {})
        neck = self.profile.neutral.get("neck_deg", plank.get("neutral_neck_deg", 180.0))
        self._neutral_neck = float(neck)

    # ------------------------------------------------------------------ recording

    def finish(self) -> tuple[Flag, ...]:
        """End the set: let the rule judge what was waiting; every flag of the set."""
        finish = getattr(self.monitor, "finish", None)
        if finish is not None:
            for f in finish():
                self._flags[(f.code, f.rep, round(f.start_s, 3))] = f
        return tuple(sorted(self._flags.values(), key=lambda f: (f.start_s, f.code)))

    @property
    def n_frames(self) -> int:
        return len(self._rows)

    def _record(self, s: PoseSample) -> None:
        nan33 = np.full((N_LANDMARKS, 3), np.nan, np.float32)
        image = nan33 if s.image is None else np.asarray(s.image, np.float32)
        world = nan33 if s.world is None else np.asarray(s.world, np.float32)
        vis = (
            np.full(N_LANDMARKS, np.nan, np.float32)
            if s.visibility is None
            else np.asarray(s.visibility, np.float32)
        )
        # Both mask edges are kept until the facing is known for the whole set.
        edges = (
            np.full((len(BACK_STATIONS), 2, 2), np.nan, np.float32)
            if s.edges is None
            else np.asarray(s.edges, np.float32)
        )
        self._rows.append((s.t, image, world, vis, edges, int(s.others)))
        while self._rows and s.t - self._rows[0][0] > MAX_RECORD_S:
            self._rows.popleft()

    def recorded_track(self, width: int, height: int, facing: Side | None = None) -> PoseTrack:
        """The raw recording with the back contour of the side `facing` picks.

        `facing` None uses the live decision (the upload path picks it from the whole clip).
        """
        facing = facing or self.facing
        rows = []
        for t, im, wo, vi, edges, ot in self._rows:
            contour = None
            if facing is not None:
                contour = edges[:, 0 if facing == "right" else 1, :]
            rows.append((t, im, wo, vi, contour, ot))
        return PoseTrack.from_rows(rows, width, height, with_contour=True)

    # ------------------------------------------------------------------ per frame

    def update(self, sample: PoseSample) -> LiveState:
        """Analyse the next frame. Times must increase; an older or equal time is ignored."""
        t = float(sample.t)
        if t <= self._last_t:
            return self._state(t, False, None, None, None, FrameAngles())
        self._last_t = t
        self._gate_code = ""
        if sample.size is not None:
            self._size = sample.size
        self._record(sample)
        found = sample.image is not None and sample.visibility is not None
        if not found:
            nan = np.full((N_LANDMARKS, 3), np.nan)
            self._filter_image.update(t, nan)
            self._filter_world.update(t, nan)
            return self._advance(t, False, None, None, None, FrameAngles())
        assert sample.image is not None and sample.visibility is not None
        vis = np.asarray(sample.visibility, np.float64)
        low = ~(vis >= MIN_VISIBILITY)
        raw = np.asarray(sample.image, np.float64).copy()
        raw[low] = np.nan
        world = (
            np.full((N_LANDMARKS, 3), np.nan)
            if sample.world is None
            else np.asarray(sample.world, np.float64).copy()
        )
        world[low] = np.nan
        # No landmark a body could not have put there reaches the smoother (causal gate).
        side_view = self.view is not None and self.view.camera == "side"
        drop, self._gate_code = self._gate.check(t, raw, side_view=side_view, facing=self.facing)
        raw[drop] = np.nan
        world[drop] = np.nan
        image = self._filter_image.update(t, raw)
        world = self._filter_world.update(t, world)
        self._remember(t, image, world, vis)
        self._decide_facing(t)
        assert self.side is not None and self.facing is not None
        leg = self._leg_median(t, image)
        torso = self._torso_median(image)
        angles = frame_angles(
            image, vis, side=self.side, facing=self.facing, leg_px=leg, torso_px=torso
        )
        back = None
        if sample.edges is not None:
            back = np.asarray(sample.edges)[:, 0 if self.facing == "right" else 1, :]
        judgeable = self.view is None or self.view.judgeable
        frame = LiveFrame(
            t,
            True,
            angles,
            self.side,
            self.facing,
            image,
            world,
            vis,
            back,
            judgeable,
            sample,
            self.view,
        )
        return self._advance(t, True, frame, image, vis, angles, back)

    def _advance(
        self,
        t: float,
        found: bool,
        frame: LiveFrame | None,
        image: np.ndarray | None,
        vis: np.ndarray | None,
        angles: FrameAngles,
        back: np.ndarray | None = None,
    ) -> LiveState:
        if frame is None:
            frame = LiveFrame(
                t,
                False,
                angles,
                self.side or "left",
                self.facing or "left",
                np.full((N_LANDMARKS, 3), np.nan),
                np.full((N_LANDMARKS, 3), np.nan),
                np.full(N_LANDMARKS, np.nan),
                None,
                view=self.view,
            )
        upd = self.monitor.update(frame)
        self._last_update = upd
        # As in the upload path, nothing is flagged from a view that can't show it.
        judgeable = frame.judgeable if found else False
        for f in upd.flags:
            key = (f.code, f.rep, round(f.start_s, 3))
            if key in self._flags or judgeable:
                self._flags[key] = f
        if judgeable:
            self.rationer.update(t, events=upd.events, active=upd.active)
        else:
            self.rationer.update(t)
        return self._state(t, found, image, vis, back, angles)

    def _state(
        self,
        t: float,
        found: bool,
        image: np.ndarray | None,
        vis: np.ndarray | None,
        back: np.ndarray | None,
        angles: FrameAngles,
    ) -> LiveState:
        u = self._last_update
        return LiveState(
            t=t,
            found=found,
            exercise=self.exercise,
            side=self.side,
            facing=self.facing,
            angles=readout_in_range(angles, neutral_neck_deg=self._neutral_neck),
            image=image,
            visibility=vis,
            back=back,
            reps=u.reps,
            hold_s=u.hold_s,
            phase=u.phase,
            cue=self.rationer.current,
            flags=tuple(sorted(self._flags.values(), key=lambda f: (f.start_s, f.code))),
            view=self.view,
            gate=self._gate_code,
        )

    # ------------------------------------------------------------------ helpers

    def _remember(self, t: float, image: np.ndarray, world: np.ndarray, vis: np.ndarray) -> None:
        self._recent.append(
            (t, image.astype(np.float32), world.astype(np.float32), vis.astype(np.float32))
        )
        while self._recent and t - self._recent[0][0] > FACING_WINDOW_S:
            self._recent.popleft()

    def _decide_facing(self, t: float) -> None:
        """Every `DECIDE_EVERY_S`, re-decide from the recent frames the view (side-on
        enough to judge?), the near side and the facing; side and facing with hysteresis."""
        if self.side is not None and t < self._next_decision:
            return
        self._next_decision = t + DECIDE_EVERY_S
        window = PoseTrack(
            t=np.array([r[0] for r in self._recent], np.float64),
            image=np.stack([r[1] for r in self._recent]),
            world=np.stack([r[2] for r in self._recent]),
            visibility=np.stack([r[3] for r in self._recent]),
            width=self._size[0] if self._size else _UNKNOWN_SIZE,
            height=self._size[1] if self._size else _UNKNOWN_SIZE,
        )
        self.view = classify_view(window)
        side = choose_side(window)
        decision = (side, facing_direction(window, side))
        if self.side is None or self.facing is None:
            self.side, self.facing = decision
            return
        if decision == (self.side, self.facing):
            self._pending, self._pending_count = None, 0
            return
        if decision == self._pending:
            self._pending_count += 1
        else:
            self._pending, self._pending_count = decision, 1
        if self._pending_count >= DECISIONS_TO_SWITCH:
            self.side, self.facing = decision
            self._pending, self._pending_count = None, 0

    def _leg_median(self, t: float, image: np.ndarray) -> float:
        assert self.side is not None
        leg = leg_length_px(image, self.side)
        if np.isfinite(leg) and leg > 0:
            bisect.insort(self._legs, leg)
        return _sorted_median(self._legs)

    def _torso_median(self, image: np.ndarray) -> float:
        """The median torso length (px, either side) of the set so far: the causal form of
        the clip's median that `metrics.reps.head_room` divides the head's room by."""
        for torso in torso_lengths_px(image):
            if np.isfinite(torso) and torso > 0:
                bisect.insort(self._torsos, float(torso))
        return _sorted_median(self._torsos)


def _sorted_median(values: list[float]) -> float:
    """The median of an already sorted list (NaN if empty)."""
    n = len(values)
    if not n:
        return math.nan
    return float(values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2)
