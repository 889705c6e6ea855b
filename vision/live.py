"""Live camera analysis: frames in, typed readouts out, never falling behind.

`LiveSession` runs the pose model on camera frames and feeds the lifter's landmarks to
`metrics.live.LiveAnalyzer` (the same metrics code as uploads). Two ways to drive it:

- `process(rgb, t)`: analyse this frame now and return its `LiveResult` (tests, the
  benchmark, offline replays).
- `submit(rgb, t)` from a camera or WebRTC thread: the frame goes into a one-slot mailbox
  that a worker thread empties. A frame still waiting when the next arrives is replaced
  (dropped, and counted), so a slow CPU lowers the analysed frame rate instead of building
  a backlog. Results go to `results`, a bounded queue that drops its oldest entry when
  full; `latest()` is the newest result, for drawing on the next frame.

`annotate(rgb, result)` draws the skeleton, angle readouts, rep count or hold time, the
current cue and the frame rates on a frame (with the drawing of `vision.annotate`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metrics.angles import Side
from metrics.live import (
    LiveAnalyzer,
    LiveExercise,
    LiveState,
    MonitorFactory,
    PoseSample,
    background_monitor,
)
from metrics.profile import ClientProfile
from metrics.track import PoseTrack
from models.provision import resolve_model
from models.registry import MODE_DEFAULTS
from vision.annotate import FrameNotes, SkeletonAnnotator, draw_cue, readout_panel
from vision.lifter import LIFTER_LOST_S, pick_lifter
from vision.pose import PersonPose, PoseEstimator
from vision.video import iter_frames

log = logging.getLogger(__name__)

PoseFn = Callable[[np.ndarray, float], list[PersonPose]]

RESULT_QUEUE_SIZE = 8
# Frame rates are measured over this much recent time.
RATE_WINDOW_S = 2.0


@dataclass(frozen=True, eq=False)
class LiveResult:
    """One analysed frame, for the page or window that shows it.

    `pose_ms` is the time in the pose model, `analysis_ms` the numbers after it,
    `latency_ms` from the frame's arrival (`submit`) to this result, waiting included.
    `analysed_fps` is the rate of analysed frames, `input_fps` the rate frames arrived at,
    `dropped` how many frames were skipped so far because the CPU was busy.
    """

    index: int
    t: float
    state: LiveState
    width: int
    height: int
    pose_ms: float
    analysis_ms: float
    latency_ms: float
    analysed_fps: float
    input_fps: float
    dropped: int


class RateMeter:
    """Events per second over the last `window_s` seconds of a monotonic clock."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()

    def rate(self) -> float:
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0


def choose_live_model(name: str = "auto") -> str:
    """The model for live use: `name` itself, or for "auto" live's default
    (`models.registry.MODE_DEFAULTS`, chosen in docs/models.md: `lite` is under a fifth
    cheaper here with one pose and raised false rounding flags on the labelled clips)."""
    if name != "auto":
        return name
    return MODE_DEFAULTS["live"]


class LiveSession:
    """Pose model, lifter choice and `LiveAnalyzer` for one live set.

    Parameters
    ----------
    exercise : "hinge" or "plank"
    model : str
        "auto" (see `choose_live_model`), "lite", "full", "heavy" or a .task path.
    num_poses, masks : int, bool
        Passed to `vision.pose.PoseEstimator`; masks give the back outline the spine
        rules read (None: for hinges only; the plank rules do not use it).
    pose_fn : callable, optional
        ``pose_fn(rgb, t) -> list[PersonPose]`` instead of the pose model (tests).
    background_judging : bool
        Judge finished reps on a thread of their own, so a frame never waits for it
        (False: judged inline, deterministic; for replays and tests).
    """

    def __init__(
        self,
        exercise: LiveExercise = "hinge",
        *,
        model: str = "auto",
        profile: ClientProfile | None = None,
        num_poses: int = 1,
        masks: bool | None = None,
        pose_fn: PoseFn | None = None,
        monitor_factory: MonitorFactory | None = None,
        result_queue_size: int = RESULT_QUEUE_SIZE,
        background_judging: bool = True,
    ) -> None:
        self.exercise: LiveExercise = exercise
        self.profile = profile or ClientProfile()
        self.model_name = ""
        self.model_sha256 = ""
        self._estimator = None
        if pose_fn is None:
            asset = resolve_model(choose_live_model(model))
            self.model_name, self.model_sha256 = asset.name, asset.sha256
            if masks is None:
                masks = exercise == "hinge"
            self._estimator = PoseEstimator(asset.path, num_poses=num_poses, masks=masks)
            # The first inference sets the model up (a second or so): do it now, on a
            # blank frame, rather than on the lifter's first frame.
            self._estimator.detect(np.zeros((256, 256, 3), np.uint8), -1.0)
            pose_fn = self._estimator.detect
        self._pose = pose_fn
        if monitor_factory is None and background_judging:
            monitor_factory = background_monitor
        self.analyzer = LiveAnalyzer(
            exercise, profile=self.profile, monitor_factory=monitor_factory
        )
        self.annotator = SkeletonAnnotator()
        self.results: queue.Queue[LiveResult] = queue.Queue(maxsize=result_queue_size)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._mailbox: tuple[np.ndarray, float, float] | None = None
        self._latest: LiveResult | None = None
        self._lifter: PersonPose | None = None
        self._lifter_t = -np.inf
        self._worker: threading.Thread | None = None
        self._stopping = False
        self._index = 0
        self._dropped = 0
        self._size = (0, 0)
        self._in_rate = RateMeter()
        self._out_rate = RateMeter()
        self._last_t = -np.inf
        self._t0: float | None = None

    # ------------------------------------------------------------------ synchronous

    def process(self, rgb: np.ndarray, t: float) -> LiveResult:
        """Analyse one upright RGB frame taken at `t` seconds; frames in time order."""
        self._in_rate.tick()
        return self._analyse(rgb, t, time.perf_counter())

    def _analyse(self, rgb: np.ndarray, t: float, arrived: float) -> LiveResult:
        h, w = rgb.shape[:2]
        self._size = (w, h)
        t0 = time.perf_counter()
        people = self._pose(rgb, t)
        t1 = time.perf_counter()
        if self._lifter is not None and t - self._lifter_t > LIFTER_LOST_S:
            self._lifter = None  # gone a while: whoever is nearest the camera now
        lifter = pick_lifter(people, self._lifter)
        if lifter is not None:
            self._lifter, self._lifter_t = lifter, t
        others = len(people) - (1 if lifter is not None else 0)
        sample = (
            PoseSample(
                t, lifter.image, lifter.world, lifter.visibility, lifter.edges, others, (w, h)
            )
            if lifter is not None
            else PoseSample(t, others=others, size=(w, h))
        )
        state = self.analyzer.update(sample)
        t2 = time.perf_counter()
        self._out_rate.tick()
        self._index += 1
        result = LiveResult(
            index=self._index,
            t=t,
            state=state,
            width=w,
            height=h,
            pose_ms=(t1 - t0) * 1000.0,
            analysis_ms=(t2 - t1) * 1000.0,
            latency_ms=(t2 - arrived) * 1000.0,
            analysed_fps=self._out_rate.rate(),
            input_fps=self._in_rate.rate(),
            dropped=self._dropped,
        )
        self._publish(result)
        return result

    def _publish(self, result: LiveResult) -> None:
        self._latest = result
        while True:
            try:
                self.results.put_nowait(result)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self.results.get_nowait()  # the reader fell behind: drop the oldest

    # ------------------------------------------------------------------ threaded

    def start(self) -> None:
        """Start the worker thread that analyses submitted frames."""
        if self._worker is not None:
            return
        self._stopping = False
        self._worker = threading.Thread(target=self._run, name="backcheck-live", daemon=True)
        self._worker.start()

    def submit(self, rgb: np.ndarray, t: float | None = None) -> bool:
        """Hand a frame to the worker; returns False when it replaced one never analysed.

        `t` is the frame's capture time in seconds (monotonic time since the first frame
        when None). Times that do not increase are bumped by a millisecond.
        """
        now = time.perf_counter()
        if self._t0 is None:
            self._t0 = now
        if t is None:
            t = now - self._t0
        self._in_rate.tick()
        with self._wake:
            t = max(float(t), self._last_t + 1e-3)
            self._last_t = t
            fresh = self._mailbox is None
            if not fresh:
                self._dropped += 1
            self._mailbox = (rgb, t, now)
            self._wake.notify()
        return fresh

    def latest(self) -> LiveResult | None:
        """The newest result (for drawing on the frame being shown now)."""
        return self._latest

    @property
    def dropped(self) -> int:
        return self._dropped

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._mailbox is None and not self._stopping:
                    self._wake.wait(0.5)
                if self._stopping:
                    return
                assert self._mailbox is not None
                rgb, t, arrived = self._mailbox
                self._mailbox = None
            try:
                self._analyse(rgb, t, arrived)
            except Exception:  # keep the stream alive; the page shows the last result
                log.exception("live analysis failed on a frame")

    def stop(self) -> None:
        """Stop the worker (frames still waiting are not analysed)."""
        worker = self._worker
        if worker is None:
            return
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        worker.join(timeout=5.0)
        self._worker = None

    def close(self) -> None:
        """Stop the worker (and any judging thread) and release the pose model."""
        self.stop()
        close_rule = getattr(self.analyzer.monitor, "close", None)
        if close_rule is not None:
            close_rule()
        if self._estimator is not None:
            self._estimator.close()
            self._estimator = None

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ outputs

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the frames analysed so far."""
        return self._size

    def recorded_track(self, facing: Side | None = None) -> PoseTrack:
        """The set so far as a raw `PoseTrack`, to analyse and save like an upload.

        `facing` picks the mask edge used as the back (None: the live decision).
        """
        w, h = self._size
        return self.analyzer.recorded_track(w, h, facing=facing)

    def annotate(self, rgb: np.ndarray, result: LiveResult | None = None) -> np.ndarray:
        """`rgb` with the skeleton, readouts, count or hold, cue and frame rates drawn on.

        Landmarks are scaled when the result came from a frame of another size.
        """
        result = result if result is not None else self._latest
        if result is None:
            return self.annotator.annotate(rgb, None, None, None, FrameNotes(("starting…",)))
        s = result.state
        h, w = rgb.shape[:2]
        image = s.image
        back = s.back
        if image is not None and (w, h) != (result.width, result.height) and result.width:
            k = np.array([w / result.width, h / result.height, 1.0])
            image = image * k
            back = None if back is None else back * k[:2]
        out = self.annotator.annotate(
            rgb, image, s.visibility, back, FrameNotes(readout_lines(result))
        )
        if s.cue is not None:
            draw_cue(out, s.cue.text)
        return out


def readout_lines(result: LiveResult) -> tuple[str, ...]:
    """The text panel for a live frame: count or hold, angles, frame rate."""
    s = result.state
    a = s.angles
    if s.exercise == "plank":
        head = "Hold " + ("--" if s.hold_s is None else f"{s.hold_s:.1f} s")
    else:
        head = f"Reps {s.reps}"
    lines = readout_panel(
        s.exercise,
        head,
        trunk=a.trunk,
        hip=a.hip,
        knee=a.knee,
        plank_line=a.plank_line,
        neck=a.neck,
    )
    if not s.found:
        lines.append("Step into view, side-on")
    lines.append(f"{result.analysed_fps:.0f} fps analysed")
    return tuple(lines)


def frames_from_file(
    path: str | Path, max_fps: float | None = 30.0
) -> Iterator[tuple[np.ndarray, float]]:
    """Upright RGB frames and times of a video file, for replaying a clip through a session."""
    for frame in iter_frames(path, max_fps=max_fps):
        yield frame.rgb, frame.t
