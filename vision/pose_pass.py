"""The pose pass: every analysed frame through the pose model, spans of the video at once.

One PoseLandmarker instance computes on one core. The video is cut into as many spans as
there are cores, and each span gets its own decoder and models in its own thread (PyAV and
MediaPipe both release the GIL), so every core works on the model. With `follow_one`, a
span follows one pose and looks for a second about once a second (`vision.headcount`). Spans are cut
at rate-cap slot boundaries: together they meet exactly the frames one whole pass would.
The first frame of a later span is found the way the first frame of a video is, by the
pose detector. Given a `FrameStash`, each span also keeps the frames it analysed, for the
annotated video.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vision.pose import PersonPose

if TYPE_CHECKING:
    from vision.frame_stash import FrameStash, StashWriter
    from vision.video_read import VideoFrame

# More instances than this cost memory (about 60 MB each) for little more speed.
MAX_WORKERS = 4
# A span shorter than this is not worth a second model instance (about 0.2 s to load).
MIN_SPAN_S = 2.0


@dataclass(frozen=True)
class FramePoses:
    """Everyone the pose model found in one analysed frame at `t` seconds."""

    t: float
    people: tuple[PersonPose, ...]


def pose_workers() -> int:
    """Model instances to run at once: the cores this process may use, within `MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


def split_spans(
    duration_s: float, max_fps: float | None, workers: int, min_span_s: float = MIN_SPAN_S
) -> list[tuple[float, float | None]]:
    """Cut `[0, duration_s)` into at most `workers` spans of at least `min_span_s`.

    Cuts fall on `1 / max_fps` slot boundaries; the last span runs to the end of the file
    (`None`) whatever the probed duration says.
    """
    n = max(1, min(workers, int(duration_s // min_span_s))) if duration_s > 0 else 1
    cuts: list[float] = []
    for k in range(1, n):
        cut = duration_s * k / n
        if max_fps is not None:
            cut = int(cut * max_fps) / max_fps
        if cut > (cuts[-1] if cuts else 0.0):
            cuts.append(cut)
    starts = [0.0, *cuts]
    ends: list[float | None] = [*cuts, None]
    return list(zip(starts, ends, strict=True))


def run_pose_pass(
    video: Path,
    model_path: Path,
    *,
    max_fps: float | None,
    scale_to: int | None,
    full_size: tuple[int, int],
    num_poses: int,
    duration_s: float,
    workers: int | None = None,
    progress: Callable[[float], None] | None = None,
    stash: FrameStash | None = None,
    follow_one: bool = False,
) -> list[FramePoses]:
    """The pose model's findings for every analysed frame of `video`, in time order.

    Landmarks are in pixels of `full_size` (the upright frame before shrinking to
    `scale_to`). `progress` is called from this thread with the share of the video done.
    The first error in time order (a damaged video, say) is raised once all spans stop.
    With `stash`, the analysed frames (as the model saw them) are written to it too.
    `follow_one` asks for one pose and a headcount each second instead of `num_poses` on
    every frame (`vision.headcount`: about a third less model time, landmarks that differ).
    """
    from vision.headcount import open_span_models
    from vision.prefetch import prefetch
    from vision.video import iter_frames

    cores = pose_workers()
    spans = split_spans(duration_s, max_fps, workers or cores)
    # With a span per core, every core already runs a model and a decoder: decoding
    # threads of their own would only add hand-offs. One span alone leaves cores free.
    threaded = len(spans) < cores
    found: list[list[FramePoses]] = [[] for _ in spans]
    reached = [start for start, _ in spans]
    stop = threading.Event()

    def work(k: int) -> None:
        start, end = spans[k]
        source = iter_frames(
            video,
            max_fps=max_fps,
            scale_to=scale_to,
            start_s=start,
            end_s=end,
            threaded=threaded,
        )
        keep = stash.writer(k) if stash is not None else None
        # Compressing for the stash happens in the decoding thread, beside the model's.
        frames = prefetch(_stashed(source, keep) if keep is not None else source)
        try:
            with open_span_models(
                model_path, num_poses=num_poses, follow_one=follow_one
            ) as estimator:
                for frame in frames:
                    if stop.is_set():
                        return
                    people = estimator.detect(frame.rgb, frame.t, full_size)
                    found[k].append(FramePoses(frame.t, tuple(people)))
                    reached[k] = frame.t
        finally:
            frames.close()
            if keep is not None:
                keep.close()

    def share_done() -> float:
        if duration_s <= 0:
            return 0.0
        done = sum(r - s for r, (s, _) in zip(reached, spans, strict=True))
        return min(max(done / duration_s, 0.0), 1.0)

    tick = None if progress is None else (lambda: progress(share_done()))
    run_spans(len(spans), work, stop, name="pose", tick=tick)
    return [frame for span in found for frame in span]


def run_spans(
    n: int,
    work: Callable[[int], None],
    stop: threading.Event,
    *,
    name: str,
    tick: Callable[[], None] | None = None,
) -> None:
    """Run `work(k)` for the `n` spans, each on its own thread, calling `tick` about four
    times a second from this thread. At the first error `stop` is set (each `work` checks
    it between frames), and once every span has stopped the earliest span's error is
    raised: the one a coach would meet first in the video."""
    with ThreadPoolExecutor(n, thread_name_prefix=name) as pool:
        futures = [pool.submit(work, k) for k in range(n)]
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                if any(f.exception() is not None for f in done):
                    break
                if tick is not None:
                    tick()
        finally:
            stop.set()
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error


def _stashed(
    frames: Generator[VideoFrame, None, None], keep: StashWriter
) -> Generator[VideoFrame, None, None]:
    try:
        for frame in frames:
            keep.add(frame.t, frame.rgb)
            yield frame
    finally:
        frames.close()
