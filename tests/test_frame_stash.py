"""The frame stash: what the pose pass saw comes back in time order, close to the original."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vision.frame_stash import FrameStash


def _frame(k: int, h: int = 90, w: int = 160) -> np.ndarray:
    """A smooth gradient with a bright square that moves with `k` (photo-like content)."""
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 60 + 10 * k)], axis=-1)
    rgb[20:40, 10 + 8 * k : 30 + 8 * k] = (250, 240, 20)
    return rgb.astype(np.uint8)


def test_frames_come_back_in_span_order_with_exact_times(tmp_path: Path) -> None:
    stash = FrameStash(tmp_path)
    times = [[0.0, 1 / 15, 2 / 15], [0.2, 0.2 + 1 / 15]]
    # The later span finishes first, as it may in the pose pass.
    for span in (1, 0):
        with stash.writer(span) as w:
            for t in times[span]:
                w.add(t, _frame(round(t * 15)))
        assert w.count == len(times[span])
    back = list(stash.frames())
    assert [f.t for f in back] == times[0] + times[1]  # float64 times, bit for bit
    assert [f.index for f in back] == [0, 1, 2, 3, 4]
    for f in back:
        original = _frame(round(f.t * 15)).astype(int)
        assert f.rgb.shape == original.shape and f.rgb.dtype == np.uint8
        assert f.rgb.flags.c_contiguous
        assert np.abs(f.rgb.astype(int) - original).mean() < 2.0
        # Channels are not swapped: the square stays yellow, not cyan.
        r, g, b = f.rgb[30, 20 + 8 * round(f.t * 15)].astype(int)
        assert r > 200 and g > 200 and b < 80


def test_an_empty_span_reads_as_no_frames(tmp_path: Path) -> None:
    stash = FrameStash(tmp_path)
    stash.writer(0).close()
    with stash.writer(1) as w:
        w.add(3.0, _frame(0))
    assert [f.t for f in stash.frames()] == [3.0]


def test_a_cut_short_stash_says_so(tmp_path: Path) -> None:
    stash = FrameStash(tmp_path)
    with stash.writer(0) as w:
        w.add(0.0, _frame(0))
        w.add(0.1, _frame(1))
    path = next(tmp_path.iterdir())
    path.write_bytes(path.read_bytes()[:-100])
    frames = stash.frames()
    assert next(frames).t == 0.0
    with pytest.raises(ValueError, match="ends in the middle of a frame"):
        next(frames)


def test_frames_kept_in_memory_then_on_disk_come_back_in_order(tmp_path: Path) -> None:
    """A memory budget of three and a half frames: three are kept exactly, the rest go to JPEG,
    and reading gives every frame in time order, as often as asked."""
    one = _frame(0).nbytes
    stash = FrameStash(tmp_path, memory_bytes=3 * one + one // 2)
    with stash.writer(1) as w:
        for k in (3, 4):
            w.add(k / 15, _frame(k))
    with stash.writer(0) as w:
        for k in (0, 1, 2):
            w.add(k / 15, _frame(k))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["span-000.frames"]  # span 1 fit
    for _ in range(2):
        back = list(stash.frames())
        assert [f.t for f in back] == [k / 15 for k in range(5)]
        assert [f.index for f in back] == [0, 1, 2, 3, 4]
        exact = [np.array_equal(f.rgb, _frame(round(f.t * 15))) for f in back]
        assert exact == [True, False, False, True, True]  # frame 0 kept, 1 and 2 on disk
        for f in back:
            assert np.abs(f.rgb.astype(int) - _frame(round(f.t * 15))).mean() < 2.0
            f.rgb[:] = 0  # the caller's own copy: drawing on it changes nothing kept


def test_rewriting_a_span_gives_its_memory_back(tmp_path: Path) -> None:
    one = _frame(0).nbytes
    stash = FrameStash(tmp_path, memory_bytes=one)
    with stash.writer(0) as w:
        w.add(0.0, _frame(0))
    with stash.writer(0) as w:  # again from empty: the budget holds one frame again
        w.add(0.5, _frame(1))
    back = list(stash.frames())
    assert [f.t for f in back] == [0.5]
    assert np.array_equal(back[0].rgb, _frame(1))
    assert not any(tmp_path.iterdir())


@pytest.mark.clips
def test_the_pose_pass_stashes_every_frame_it_analysed(
    shared_data: Path, model_path: Path, tmp_path: Path
) -> None:
    """Real clip in two spans: one stashed frame per analysed frame, as the model saw it."""
    from vision.pose_pass import run_pose_pass
    from vision.video import iter_frames, probe

    clip = shared_data / "clips" / "plank" / "forearm_plank_correct.mp4"
    info = probe(clip)
    stash = FrameStash(tmp_path)
    found = run_pose_pass(
        clip,
        model_path,
        max_fps=15.0,
        scale_to=256,
        full_size=(info.width, info.height),
        num_poses=2,
        duration_s=info.duration_s,
        workers=2,
        stash=stash,
    )
    assert len(list(tmp_path.iterdir())) == 2  # a file per span
    stashed = list(stash.frames())
    assert [f.t for f in stashed] == [f.t for f in found]
    assert len(stashed) == 244
    seen = {f.t: f.rgb for f in iter_frames(clip, max_fps=15.0, scale_to=256)}
    errors = [np.abs(f.rgb.astype(int) - seen[f.t]).mean() for f in stashed]
    assert max(errors) < 3.0
