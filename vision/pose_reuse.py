"""Loaded pose models kept for the next video in a long-lived process (a batch worker).

Creating a PoseLandmarker costs about 0.4 s (2 s for the first in a process), as much as
the pose pass of a short clip. A batch worker that analyses clip after clip calls
`keep_estimators()` once; from then on `open_estimator` lends a loaded model back out
instead of building a new one. Everywhere else (the CLI, the app) nothing is kept and
`open_estimator` builds and closes a model per call, as before.

A lent model starts each video as a fresh one would: its clock is moved well past the
last video's (MediaPipe's VIDEO mode wants strictly increasing times, and a gap this long
drops whatever it was following), after a blank frame that finds nobody.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vision.pose import PersonPose, PoseEstimator

# Seconds of model clock between two videos lent the same model.
_GAP_S = 60.0
_BLANK = np.zeros((64, 64, 3), np.uint8)

_lock = threading.Lock()
_kept: dict[tuple[str, int], list[RebasedEstimator]] | None = None


class RebasedEstimator:
    """A loaded PoseEstimator whose clock restarts at 0 for each video (`restart`)."""

    def __init__(self, estimator: PoseEstimator) -> None:
        self.estimator = estimator
        self._offset_s = 0.0
        self._last_s = 0.0

    def restart(self) -> None:
        """Forget the last video: a blank frame, then a clock far past the last time."""
        blank_t = self._last_s + _GAP_S / 2
        self.estimator.detect(_BLANK, blank_t)
        self._offset_s = blank_t + _GAP_S / 2
        self._last_s = self._offset_s

    def detect(
        self, rgb: np.ndarray, t: float, full_size: tuple[int, int] | None = None
    ) -> list[PersonPose]:
        """`PoseEstimator.detect` with `t` counted from the start of this video."""
        self._last_s = self._offset_s + t
        return self.estimator.detect(rgb, self._last_s, full_size)

    def close(self) -> None:
        self.estimator.close()


def keep_estimators() -> None:
    """From now on, this process keeps loaded pose models for the next video."""
    global _kept
    with _lock:
        if _kept is None:
            _kept = {}


def release_estimators() -> None:
    """Close the kept models and stop keeping them (back to a model per call)."""
    global _kept
    with _lock:
        kept, _kept = _kept or {}, None
    for models in kept.values():
        for model in models:
            model.close()


def kept_count() -> int:
    """How many loaded models this process holds for reuse."""
    with _lock:
        return sum(len(v) for v in (_kept or {}).values())


@contextmanager
def open_estimator(model_path: Path, *, num_poses: int) -> Iterator[RebasedEstimator]:
    """A pose model for one video (or one span of it): lent and returned when this
    process keeps models, else built here and closed at the end."""
    from vision.pose import PoseEstimator

    key = (str(model_path), num_poses)
    with _lock:
        lent = _kept[key].pop() if _kept is not None and _kept.get(key) else None
    if lent is None:
        lent = RebasedEstimator(PoseEstimator(model_path, num_poses=num_poses))
    else:
        lent.restart()
    try:
        yield lent
    except BaseException:
        lent.close()  # a model that failed mid-video is not lent again
        raise
    with _lock:
        if _kept is not None:
            _kept.setdefault(key, []).append(lent)
            return
    lent.close()
