"""Frames by time for the scrubber: the right frame, upright, even after a seek."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.app_data import FPS, write_video
from vision.still import encode_jpeg, frame_at
from vision.video import BadVideo


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("still") / "grey.mp4"
    write_video(path, seconds=6.0)  # frame brightness = 40 grey levels per second
    return path


@pytest.mark.parametrize("t", [0.0, 0.26, 1.0, 2.55, 4.0, 5.95])
def test_frame_at_returns_the_frame_on_screen(clip: Path, t: float) -> None:
    shown = np.floor(t * FPS + 1e-9) / FPS  # the last frame starting at or before t
    frame = frame_at(clip, t)
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    assert float(frame.mean()) == pytest.approx(shown * 40, abs=3.0)


def test_times_outside_the_video_clamp_to_its_ends(clip: Path) -> None:
    assert float(frame_at(clip, -2.0).mean()) == pytest.approx(0.0, abs=3.0)
    assert float(frame_at(clip, 60.0).mean()) == pytest.approx(5.9 * 40, abs=3.0)


def test_frames_shrink_and_encode(clip: Path) -> None:
    small = frame_at(clip, 1.0, max_side=32)
    assert small.shape == (24, 32, 3)
    jpeg = encode_jpeg(small)
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"


def test_a_non_video_is_a_bad_video(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(BadVideo):
        frame_at(bad, 0.0)
