"""samples/: what a new user needs to try every feature, checked to work."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def _make_clip() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_clip", SAMPLES / "make_clip.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_clip", module)
    spec.loader.exec_module(module)
    return module


def test_the_drawn_clip_has_the_reps_it_says(tmp_path: Path) -> None:
    mc = _make_clip()
    depth, rep = mc.depth_curve(3)
    assert len(depth) == round(mc.FPS * (1 + 3 * 3.3))
    bottoms = np.flatnonzero((depth[1:] == 1.0) & (depth[:-1] < 1.0))
    assert len(bottoms) == 3 and sorted(set(rep.tolist())) == [0, 1, 2]
    frame = mc.draw(mc.hinge_points(**mc.STAND))
    assert frame.shape == (mc.SIZE, mc.SIZE, 3) and frame.dtype == np.uint8
    assert frame.flags["C_CONTIGUOUS"]
    out = mc.make_clip(tmp_path / "try.mp4", reps=1)
    from vision.video import probe

    info = probe(out)
    assert info.codec == "h264" and (info.width, info.height) == (mc.SIZE, mc.SIZE)
    assert info.duration_s == pytest.approx(4.3, abs=0.05)


@pytest.mark.clips
@pytest.mark.parametrize("rounded", [False, True])
def test_the_drawn_clip_is_analysed_like_a_lift(
    tmp_path: Path, model_path: Path, rounded: bool
) -> None:
    """MediaPipe finds the drawn figure: 2 reps, side view; a straight back gets no flag
    and a rounding one is flagged on every rep."""
    from backcheck.pipeline import analyze_video

    clip = _make_clip().make_clip(tmp_path / "try.mp4", reps=2, rounded=rounded)
    result = analyze_video(clip, out_dir=tmp_path / "o", model=str(model_path), write_video=False)
    report = json.loads(result.report_path.read_text())
    assert report["exercise"] == "hinge"
    assert report["view"]["camera"] == "side" and report["view"]["judgeable"]
    assert report["quality"]["tracked_fraction"] > 0.7
    assert len(report["reps"]) == 2
    flagged = [("spine_flexion" in r["flags"]) for r in report["reps"]]
    assert flagged == [rounded, rounded]


@pytest.mark.clips
@pytest.mark.parametrize("sag", [False, True])
def test_the_drawn_plank_is_timed_and_a_sag_flagged(
    tmp_path: Path, model_path: Path, sag: bool
) -> None:
    from backcheck.pipeline import analyze_video

    clip = _make_clip().make_plank_clip(tmp_path / "plank.mp4", hold_s=8.0, sag=sag)
    result = analyze_video(clip, out_dir=tmp_path / "o", model=str(model_path), write_video=False)
    report = json.loads(result.report_path.read_text())
    assert report["exercise"] == "plank" and report["view"]["judgeable"]
    assert report["hold"]["duration_s"] == pytest.approx(8.0, abs=0.5)
    sags = [f for f in report["flags"] if f["code"] == "hip_sag"]
    if sag:  # the hips sink over 4-5 s and stay down
        assert len(sags) == 1 and 4.0 <= sags[0]["start_s"] <= 5.5
        assert report["hold"]["in_tolerance_s"] == pytest.approx(4.5, abs=0.8)
    else:
        assert report["flags"] == []
        assert report["hold"]["in_tolerance_s"] == pytest.approx(8.0, abs=0.5)


@pytest.mark.clips
@pytest.mark.parametrize(
    ("name", "codec", "options"),
    [
        ("mirrored.mp4", "libx264", {}),
        ("rotated.mp4", "libx264", {}),
        ("hevc10.mov", "libx265", {"x265-params": "log-level=none"}),
        ("vp9.webm", "libvpx-vp9", {"deadline": "realtime", "cpu-used": "8"}),
    ],
)
def test_the_drawn_clip_analyses_in_other_formats(
    tmp_path: Path, model_path: Path, name: str, codec: str, options: dict[str, str]
) -> None:
    """The same rep filmed the other way round, from a phone held sideways (a rotation
    flag), as 10-bit HEVC and as VP9: found, judged and counted alike."""
    import cv2

    from backcheck.pipeline import analyze_video
    from tests.test_video import encode

    mc = _make_clip()
    depth, _ = mc.depth_curve(1, fps=15)
    frames = []
    for d in depth:
        pose = {k: mc.STAND[k] + d * (mc.BOTTOM[k] - mc.STAND[k]) for k in mc.STAND}
        rgb = cv2.resize(mc.draw(mc.hinge_points(**pose)), (480, 480))
        if name == "mirrored.mp4":
            rgb = rgb[:, ::-1]
        elif name == "rotated.mp4":  # stored on its side, shown upright by the flag
            rgb = np.rot90(rgb)
        frames.append(np.ascontiguousarray(rgb))
    clip = encode(
        tmp_path / name,
        frames,
        [i / 15 for i in range(len(frames))],
        codec=codec,
        rate=15,
        options=options,
        rotation_cw=90 if name == "rotated.mp4" else None,
        pix_fmt="yuv420p10le" if name == "hevc10.mov" else "yuv420p",
    )
    result = analyze_video(clip, out_dir=tmp_path / "o", model=str(model_path), write_video=False)
    report = json.loads(result.report_path.read_text())
    assert (report["source"]["width"], report["source"]["height"]) == (480, 480)
    assert report["view"]["camera"] == "side" and report["view"]["judgeable"]
    assert report["view"]["facing"] == ("left" if name == "mirrored.mp4" else "right")
    assert len(report["reps"]) == 1 and report["reps"][0]["flags"] == []


@pytest.mark.clips
@pytest.mark.parametrize(("width", "height", "fps"), [(3840, 2160, 60), (7680, 4320, 30)])
def test_the_drawn_clip_analyses_at_4k_and_8k(
    tmp_path: Path, model_path: Path, width: int, height: int, fps: int
) -> None:
    """A 4K 60 fps and an 8K 30 fps clip: decoded at the capped rate and analysed alike.
    The figure is drawn at 15 poses a second, each held for fps/15 frames, to keep the test
    quick; each video itself is a real 4K or 8K H.264 file."""
    import av
    import cv2

    from backcheck.pipeline import analyze_video

    mc = _make_clip()
    depth, _ = mc.depth_curve(1, fps=15)
    clip = tmp_path / f"{height}p{fps}.mp4"
    canvas = np.empty((height, width, 3), np.uint8)
    left = (width - height) // 2
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for d in depth:
            pose = {k: mc.STAND[k] + d * (mc.BOTTOM[k] - mc.STAND[k]) for k in mc.STAND}
            canvas[:] = mc.WALL
            canvas[:, left : left + height] = cv2.resize(
                mc.draw(mc.hinge_points(**pose)), (height, height)
            )
            yuv = cv2.cvtColor(canvas, cv2.COLOR_RGB2YUV_I420)  # one conversion per pose
            for _ in range(fps // 15):
                frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    result = analyze_video(clip, out_dir=tmp_path / "o", model=str(model_path), write_video=False)
    report = json.loads(result.report_path.read_text())
    source = report["source"]
    assert (source["width"], source["height"], source["fps"]) == (width, height, fps)
    assert source["analysed_fps"] == pytest.approx(15.0, abs=0.2)
    assert report["view"]["judgeable"] and len(report["reps"]) == 1
