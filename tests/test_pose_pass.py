"""The pose pass on several cores: spans, and the same findings as one model instance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from vision.pose_pass import FramePoses, run_pose_pass, split_spans


def test_spans_are_cut_on_slot_boundaries_and_end_open():
    spans = split_spans(21.0, 15.0, workers=2)
    assert spans == [(0.0, 10.466666666666667), (10.466666666666667, None)]
    assert spans[0][1] * 15 == pytest.approx(157)  # a whole number of 1/15 s slots
    assert split_spans(9.0, None, workers=3) == [(0.0, 3.0), (3.0, 6.0), (6.0, None)]


def test_short_or_unknown_videos_are_one_span():
    assert split_spans(3.9, 15.0, workers=2) == [(0.0, None)]  # under 2 s a span
    assert split_spans(0.0, 15.0, workers=2) == [(0.0, None)]
    assert split_spans(5.0, 15.0, workers=4) == [
        (0.0, 2.466666666666667),
        (2.466666666666667, None),
    ]
    assert split_spans(600.0, 15.0, workers=1) == [(0.0, None)]


@pytest.mark.clips
def test_two_instances_find_what_one_finds(shared_data: Path, model_path: Path) -> None:
    """Real model on a 60 fps clip: same frames, and the same landmarks away from the cut."""
    from vision.video import probe

    clip = shared_data / "clips" / "kettlebell" / "0016c_1.mp4"
    info = probe(clip)
    kwargs = dict(
        max_fps=15.0,
        scale_to=640,
        full_size=(info.width, info.height),
        num_poses=2,
        duration_s=info.duration_s,
    )
    shares: list[float] = []
    one = run_pose_pass(clip, model_path, workers=1, **kwargs)  # type: ignore[arg-type]
    two = run_pose_pass(
        clip,
        model_path,
        workers=2,
        progress=shares.append,
        **kwargs,  # type: ignore[arg-type]
    )
    assert [f.t for f in two] == [f.t for f in one]
    assert len(one) == 316
    assert shares and shares == sorted(shares) and shares[-1] <= 1.0
    cut = split_spans(info.duration_s, 15.0, 2)[1][0]
    far = [k for k, f in enumerate(one) if abs(f.t - cut) > 1.0 and f.people]
    assert len(far) > 250
    diffs = []
    for k in far:
        a, b = one[k].people[0].image[:, :2], two[k].people[0].image[:, :2]
        diffs.append(float(np.nanmax(np.abs(a - b))))
    # Away from the cut both instances see the same history: the same pixels.
    assert np.median(diffs) < 0.5
    assert np.mean(np.array(diffs) < 2.0) > 0.95


def two_spans_small(
    clip: Path,
    model_path: Path,
    full_size: tuple[int, int],
    duration_s: float,
    progress: Callable[[float], None] | None = None,
) -> list[FramePoses]:
    """A quick two-span pass: small frames for the model."""
    return run_pose_pass(
        clip,
        model_path,
        max_fps=15.0,
        scale_to=256,
        full_size=full_size,
        num_poses=2,
        duration_s=duration_s,
        workers=2,
        progress=progress,
    )


@pytest.mark.clips
def test_a_span_that_fails_stops_the_pass_with_its_reason(
    shared_data: Path, model_path: Path, tmp_path: Path
) -> None:
    """A clip cut short (its index says 15 s, the data ends near 4.5 s) in two spans."""
    import threading

    from vision.video import BadVideo

    src = shared_data / "clips" / "other" / "deadlift_front_view.mp4"
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src.read_bytes()[: int(src.stat().st_size * 0.3)])
    before = threading.active_count()
    with pytest.raises(BadVideo, match=r"cut short at \d+\.\d s"):
        two_spans_small(cut, model_path, (640, 360), 15.0)
    assert threading.active_count() <= before


@pytest.mark.clips
def test_an_error_in_the_caller_stops_every_span(
    shared_data: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The progress callback raising (the app page closed, say) ends the pass at once."""
    import threading

    from vision.pose import PoseEstimator

    class Closed(Exception):
        pass

    def closed(share: float) -> None:
        raise Closed

    calls = []
    detect = PoseEstimator.detect

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return detect(self, *args, **kwargs)

    monkeypatch.setattr(PoseEstimator, "detect", counted)
    clip = shared_data / "clips" / "kettlebell" / "0016r_1.mp4"  # 26 s, 394 frames: two spans
    before = threading.active_count()
    with pytest.raises(Closed):
        two_spans_small(clip, model_path, (360, 640), 26.3, progress=closed)
    assert len(calls) < 100  # of 394: the spans stopped, they did not run to the end
    assert threading.active_count() <= before


_FIRST_MODELS = """
import sys, threading
from vision.pose import create_landmarker

errors = []

def first_model(k):
    try:
        create_landmarker(sys.argv[1], video=k > 0, num_poses=1 + k % 2, masks=k == 1).close()
    except Exception as err:
        errors.append(repr(err))

threads = [threading.Thread(target=first_model, args=(k,)) for k in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(errors)
"""


def test_models_built_at_once_in_a_fresh_process_all_load(model_path: Path) -> None:
    """MediaPipe's package imports itself in a circle, and three threads importing it at
    once in mixed orders failed every time ("partially initialized module"); the pose
    pass's spans build their first models side by side, so `create_landmarker` imports
    it one thread at a time: three first models, image and video mode, all load."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_MODELS, str(model_path)],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
