"""Invariance transforms (vision/transforms.py) on a small synthetic video."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from vision.transforms import applies, make_variant, set_display_rotation
from vision.video import VideoWriter, iter_frames, probe

W, H, FPS, N = 640, 360, 60, 30


_GROUND = (
    np.linspace(20, 180, W)[None, :, None]  # dark left, light right: a flip shows
    + np.random.default_rng(0).integers(-25, 25, (H, W, 1))  # texture, costly to code
).clip(0, 255)


def _frame(i: int) -> np.ndarray:
    """A red square near the top-left on a textured ramp, a green bar moving right."""
    rgb = np.repeat(_GROUND, 3, axis=2).astype(np.uint8)
    rgb[20:120, 30:130] = (230, 60, 60)
    x = 200 + 8 * i
    rgb[250:300, x : x + 40] = (60, 230, 60)
    return rgb


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("transforms") / "synthetic.mp4"
    with VideoWriter(path, max_side=None, crf=12, fps=FPS, threads=1) as w:
        for i in range(N):
            w.write(_frame(i), i / FPS)
        w.close(end_t=N / FPS)
    return path


def _first(path: Path) -> np.ndarray:
    gen = iter_frames(path)
    frame = next(gen).rgb.astype(np.int16)
    gen.close()
    return frame


def test_mirror_flips_the_pixels_left_to_right(clip: Path, tmp_path: Path) -> None:
    out = make_variant(clip, tmp_path / "m.mp4", "mirror")
    info, src = probe(out), probe(clip)
    assert (info.width, info.height, info.frames) == (W, H, N)
    assert info.duration_s == pytest.approx(src.duration_s, abs=1e-3)
    a, m = _first(clip), _first(out)
    assert np.abs(a[:, ::-1] - m).mean() < 6.0  # the mirror image, up to coding noise
    assert np.abs(a - m).mean() > 30.0
    red = m[..., 0] - m[..., 1]
    assert red[70, W - 80] > 100 and abs(red[70, 80]) < 30  # the square is now top-right


def test_rotation_metadata_reads_back_upright(clip: Path, tmp_path: Path) -> None:
    out = make_variant(clip, tmp_path / "r.mp4", "rotated")
    info = probe(out)
    assert info.rotation_deg == 90
    assert (info.width, info.height) == (W, H)  # shown upright
    with av.open(str(out)) as c:
        stored = next(c.decode(video=0))
        assert (stored.width, stored.height) == (H, W)  # stored sideways
    assert np.abs(_first(clip) - _first(out)).mean() < 6.0


@pytest.mark.parametrize("turn", [180, 270])
def test_display_rotation_can_be_set_to_any_quarter_turn(
    clip: Path, tmp_path: Path, turn: int
) -> None:
    path = tmp_path / "copy.mp4"
    path.write_bytes(clip.read_bytes())
    set_display_rotation(path, turn)
    assert probe(path).rotation_deg == turn


def test_thirty_fps_copy_keeps_every_other_frame(clip: Path, tmp_path: Path) -> None:
    out = make_variant(clip, tmp_path / "f.mp4", "fps30")
    info, src = probe(out), probe(clip)
    assert src.fps == pytest.approx(60.0, rel=1e-3)
    assert info.fps == pytest.approx(30.0, rel=1e-3)
    assert info.frames == N // 2
    assert info.duration_s == pytest.approx(src.duration_s, abs=1e-3)
    times = [f.t for f in iter_frames(out)]
    assert times[:3] == pytest.approx([0.0, 2 / FPS, 4 / FPS], abs=1e-4)


def test_small_copy_is_480_px_on_the_long_side_and_much_smaller(clip: Path, tmp_path: Path) -> None:
    out = make_variant(clip, tmp_path / "s.mp4", "small480")
    info = probe(out)
    assert (info.width, info.height) == (480, 270)
    assert info.frames == N
    assert out.stat().st_size < clip.stat().st_size / 2


def test_a_thirty_fps_clip_has_no_thirty_fps_copy(tmp_path: Path) -> None:
    assert applies("fps30", 60.0) and not applies("fps30", 29.97)
    assert applies("mirror", 24.0)
    with pytest.raises(ValueError, match="unknown transform"):
        applies("sepia", 30.0)


def test_the_control_copy_is_the_clip_itself(clip: Path, tmp_path: Path) -> None:
    out = make_variant(clip, tmp_path / "c.mp4", "reencode")
    info, src = probe(out), probe(clip)
    assert (info.width, info.height, info.frames, info.rotation_deg) == (W, H, N, 0)
    assert info.duration_s == pytest.approx(src.duration_s, abs=1e-3)
    assert np.abs(_first(clip) - _first(out)).mean() < 6.0


def test_the_far_copy_is_the_clip_small_on_a_large_gray_canvas(clip: Path, tmp_path: Path) -> None:
    from vision.transforms import FAR_CANVAS, FAR_GRAY, FAR_SHARE

    out = make_variant(clip, tmp_path / "far.mp4", "far")
    info = probe(out)
    assert (info.width, info.height) == FAR_CANVAS
    assert info.duration_s == pytest.approx(N / FPS, abs=0.02)
    first = _first(out)
    # The clip fills FAR_SHARE of the canvas height: find its rows by the red square's
    # and the ramp's departure from the gray.
    differs = np.abs(first - FAR_GRAY).max(axis=2) > 12
    rows = np.flatnonzero(differs.any(axis=1))
    cols = np.flatnonzero(differs.any(axis=0))
    assert rows[-1] - rows[0] + 1 == pytest.approx(FAR_SHARE * FAR_CANVAS[1], abs=4)
    assert cols[-1] - cols[0] + 1 == pytest.approx(FAR_SHARE * FAR_CANVAS[1] * W / H, abs=6)
    assert cols[0] > FAR_CANVAS[0] / 2  # right of centre
    assert applies("far", 30.0)


def test_short_side_copy_is_480_px_on_the_short_side(tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    with VideoWriter(big, max_side=None, crf=12, fps=30, threads=1) as w:
        for i in range(6):
            w.write(np.repeat(np.kron(_frame(i), np.ones((3, 3, 1), np.uint8)), 1, axis=2), i / 30)
        w.close(end_t=6 / 30)
    out = make_variant(big, tmp_path / "s.mp4", "short480")
    info = probe(out)
    assert min(info.width, info.height) == 480
    assert max(info.width, info.height) == pytest.approx(480 * 16 / 9, abs=2)
    # a clip already under 480 px on its short side keeps its size (only recompressed)
    small = make_variant(tmp_path / "s.mp4", tmp_path / "s2.mp4", "short480")
    assert (probe(small).width, probe(small).height) == (info.width, info.height)


@pytest.mark.clips
def test_a_copy_is_the_same_file_every_time(shared_data: Path, tmp_path: Path) -> None:
    """The evaluation's copies are coded reproducibly, so a change in its invariance table
    is the code's, not the encoder's: with libx264's macroblock tree on, two makes of
    this 854x480 copy differed (decoded up to 50 levels apart)."""
    clip = shared_data / "clips" / "deadlift" / "yfgd_bad_04.mp4"
    a = make_variant(clip, tmp_path / "a.mp4", "short480").read_bytes()
    b = make_variant(clip, tmp_path / "b.mp4", "short480").read_bytes()
    assert a == b
