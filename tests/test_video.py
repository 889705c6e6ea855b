"""Video in/out: rotation, true timestamps, bad input, H.264 output, rate capping.

Fixtures are made here with PyAV from short pieces of the clips in ../shared/data, in a
temporary folder; nothing is copied into the project.
"""

from __future__ import annotations

import itertools
import struct
import weakref
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.stream import VideoStream

from metrics.errors import AnalysisError
from vision.video import BadVideo, VideoWriter, iter_frames, probe

CLIPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips"
LANDSCAPE = CLIPS / "other" / "deadlift_front_view.mp4"  # 640x360 h264 30 fps, moov first
MOOV_LAST = CLIPS / "deadlift" / "posereader_good.mp4"  # 600x600 h264 30 fps, moov last
SHORT = CLIPS / "deadlift" / "posereader_bad.mp4"  # 29 frames, 0.967 s
KETTLEBELL_60 = CLIPS / "kettlebell" / "0016c_1.mp4"  # 360x640 h264 60 fps
HEVC = CLIPS / "other" / "gym_deadlift_hevc.mp4"  # 640x360 hevc 24 fps
MPEG4 = CLIPS / "deadlift" / "yfgd_good_01.mp4"  # 1920x1080 mpeg4 30000/1001 fps

TB = Fraction(1, 90_000)


def encode(
    path: Path,
    frames: list[np.ndarray],
    times: list[float],
    *,
    codec: str = "libx264",
    rotation_cw: int | None = None,
    rate: int = 30,
    options: dict[str, str] | None = None,
    pix_fmt: str = "yuv420p",
) -> Path:
    """Write `frames` at `times` (s) with PyAV; optional display-matrix rotation (clockwise)."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate, options=options or {})
        assert isinstance(stream, VideoStream)
        stream.width, stream.height = w, h
        stream.pix_fmt = pix_fmt
        tb = Fraction(1, rate) if path.suffix == ".avi" else TB  # AVI counts frames
        stream.time_base = tb
        stream.codec_context.time_base = tb
        if rotation_cw is not None:
            stream.set_display_rotation(-rotation_cw)  # PyAV takes counter-clockwise degrees
        tb = stream.codec_context.time_base
        for rgb, t in zip(frames, times, strict=True):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = round(t / tb)
            frame.time_base = tb
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def raw_decode(path: Path) -> list[np.ndarray]:
    """Stored pixels, with no rotation applied: the reference for the rotation tests."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def moving_frames(n: int, w: int = 96, h: int = 64) -> list[np.ndarray]:
    """Synthetic frames with a moving bar, so every codec has real content to code."""
    out = []
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        rgb = np.zeros((h, w, 3), np.uint8)
        rgb[..., 0] = (xx * 255 // w).astype(np.uint8)
        rgb[..., 1] = (yy * 255 // h).astype(np.uint8)
        rgb[:, (4 * i) % w : (4 * i) % w + 8, 2] = 255
        out.append(rgb)
    return out


def first_frames(path: Path, n: int, **kwargs: object) -> list:
    return list(itertools.islice(iter_frames(path, **kwargs), n))  # type: ignore[arg-type]


def top_level_boxes(path: Path) -> list[str]:
    boxes, pos, data = [], 0, path.read_bytes()
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        boxes.append(kind.decode("latin1"))
        if size < 8:
            break
        pos += size
    return boxes


@pytest.fixture(scope="module")
def landscape_frames() -> list[np.ndarray]:
    """Ten upright 320x180 frames from a landscape clip."""
    return [f.rgb for f in first_frames(LANDSCAPE, 10, scale_to=320)]


# --------------------------------------------------------------------------- (a) rotation


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_video_comes_out_upright(tmp_path, landscape_frames, rotation):
    times = [i / 30 for i in range(len(landscape_frames))]
    path = encode(tmp_path / "rot.mp4", landscape_frames, times, rotation_cw=rotation)

    info = probe(path)
    assert info.rotation_deg == rotation
    upright_wh = (180, 320) if rotation in (90, 270) else (320, 180)
    assert (info.width, info.height) == upright_wh

    stored = raw_decode(path)
    decoded = list(iter_frames(path))
    assert len(decoded) == len(stored) == 10
    k = rotation // 90
    for frame, raw in zip(decoded, stored, strict=True):
        assert frame.rgb.shape == (upright_wh[1], upright_wh[0], 3)
        assert frame.rgb.flags.c_contiguous
        right = np.abs(frame.rgb.astype(int) - np.rot90(raw, -k)).mean()  # clockwise turn
        assert right < 0.5
    if rotation != 180:
        # the other direction is clearly wrong, so the check above can tell them apart
        wrong = np.abs(decoded[0].rgb.astype(int) - np.rot90(stored[0], k)).mean()
        assert wrong > 20


# --------------------------------------------------------------------------- (b) timing


def test_variable_frame_rate_keeps_container_times(tmp_path):
    gaps = [1 / 30 if i % 2 == 0 else 1 / 20 for i in range(23)]
    times = [0.0, *np.cumsum(gaps).tolist()]
    path = encode(tmp_path / "vfr.mp4", moving_frames(len(times)), times)

    info = probe(path)
    assert info.vfr is True
    assert info.frames == 24
    # average rate: 23 intervals over their total span, never rounded
    assert info.fps == pytest.approx(23 / times[-1], rel=1e-4)
    got = [f.t for f in iter_frames(path)]
    assert len(got) == 24
    assert np.max(np.abs(np.array(got) - times)) < 1e-3


def test_constant_frame_rate_is_not_vfr(tmp_path):
    times = [i / 30 for i in range(20)]
    path = encode(tmp_path / "cfr.mp4", moving_frames(20), times)
    info = probe(path)
    assert info.vfr is False
    assert info.fps == pytest.approx(30.0, rel=1e-4)
    assert info.duration_s == pytest.approx(20 / 30, abs=1e-3)
    got = np.array([f.t for f in iter_frames(path)])
    assert np.max(np.abs(got - times)) < 1e-3
    # real constant-rate clips, including one at 30000/1001 fps
    assert probe(LANDSCAPE).vfr is False
    mpeg4 = probe(MPEG4)
    assert mpeg4.vfr is False
    assert mpeg4.fps == pytest.approx(30000 / 1001, rel=1e-6)


@pytest.mark.parametrize(
    ("name", "codec", "options"),
    [
        ("clip.mov", "libx265", {"x265-params": "log-level=none"}),
        ("clip.m4v", "libx264", {}),
        ("clip.webm", "libvpx-vp9", {"deadline": "realtime", "cpu-used": "8"}),
        ("clip.avi", "mpeg4", {}),
        ("clip.mkv", "libx264", {}),
    ],
)
def test_containers_and_codecs(tmp_path, name, codec, options):
    times = [i / 25 for i in range(12)]
    frames = moving_frames(12)
    path = encode(tmp_path / name, frames, times, codec=codec, rate=25, options=options)
    info = probe(path)
    assert info.codec == {"libx265": "hevc", "libx264": "h264", "libvpx-vp9": "vp9"}.get(
        codec, codec
    )
    assert (info.width, info.height) == (96, 64)
    assert info.frames == 12
    assert info.fps == pytest.approx(25.0, rel=1e-3)
    assert info.duration_s == pytest.approx(12 / 25, abs=2e-3)
    decoded = list(iter_frames(path))
    assert [f.index for f in decoded] == list(range(12))
    assert np.max(np.abs(np.array([f.t for f in decoded]) - times)) < 1e-3
    # the moving bar is where it was written (lossy codecs: small mean error)
    assert np.abs(decoded[5].rgb.astype(int) - frames[5]).mean() < 8


# --------------------------------------------------------------------------- (c) bad input


def expect_bad(path: Path, kind: str, *words: str, **limits: float) -> BadVideo:
    with pytest.raises(BadVideo) as caught:
        probe(path, **limits)  # type: ignore[arg-type]
    err = caught.value
    text = str(err)
    assert err.kind == kind, text
    assert isinstance(err, AnalysisError)
    assert text.startswith(f"{path.name}: ")
    assert "\n" not in text
    for word in words:
        assert word in text, text
    return err


def truncated_copy(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def test_missing_file(tmp_path):
    expect_bad(tmp_path / "nope.mp4", "missing", "file not found")
    with pytest.raises(BadVideo, match="file not found"):
        next(iter_frames(tmp_path / "nope.mp4"))


def test_folder_and_zero_byte_file(tmp_path):
    (tmp_path / "clips.mp4").mkdir()
    expect_bad(tmp_path / "clips.mp4", "missing", "folder")
    (tmp_path / "zero.mp4").write_bytes(b"")
    expect_bad(tmp_path / "zero.mp4", "empty", "empty", "0 bytes")


def test_pdf_text_and_random_bytes_are_not_video(tmp_path):
    pdf = tmp_path / "report.mp4"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" * 40)
    expect_bad(pdf, "not_video", "not a video", "PDF")

    text = tmp_path / "notes.mov"
    text.write_text("Rep 3 looked rounded, check the bottom position.\n" * 40)
    expect_bad(text, "not_video", "not a video", "text file")

    noise = tmp_path / "noise.mp4"
    noise.write_bytes(np.random.default_rng(7).integers(0, 256, 200_000, np.uint8).tobytes())
    expect_bad(noise, "not_video", "not a video")


def test_still_image_and_audio_only_are_not_video(tmp_path):
    png = tmp_path / "photo.png"
    av.VideoFrame.from_ndarray(moving_frames(1)[0], format="rgb24").save(str(png))
    renamed = png.rename(tmp_path / "photo.mp4")
    expect_bad(renamed, "not_video", "still image", "PNG")

    audio = tmp_path / "voice.mp4"
    with av.open(str(audio), mode="w") as out:
        stream = out.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 44100, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    expect_bad(audio, "not_video", "audio only")


def test_truncated_without_index(tmp_path):
    assert top_level_boxes(MOOV_LAST)[-1] == "moov"
    cut = truncated_copy(MOOV_LAST, tmp_path / "cut.mp4", 0.3)
    expect_bad(cut, "truncated", "cut short", "no index", "record again")


def test_truncated_with_index_first(tmp_path):
    assert top_level_boxes(LANDSCAPE)[:2] == ["ftyp", "moov"]
    cut = truncated_copy(LANDSCAPE, tmp_path / "cut.mp4", 0.3)
    err = expect_bad(cut, "truncated", "cut short", "of 15 s")
    held = float(err.reason.split("holds ")[1].split(" s")[0])
    assert 2.0 < held < 10.0  # 30 % of the bytes: some seconds, not all 15
    # decoding without probing first stops at the cut with the time reached
    seen: list[float] = []
    with pytest.raises(BadVideo, match=r"cut short at \d+\.\d s") as caught:
        for frame in iter_frames(cut, scale_to=64):
            seen.append(frame.t)
    assert caught.value.kind in ("truncated", "damaged")
    assert f"{seen[-1]:.1f} s" in str(caught.value)
    assert 2.0 < seen[-1] < 10.0


def test_video_without_frames(tmp_path):
    path = tmp_path / "nothing.mp4"
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        out.start_encoding()
    expect_bad(path, "empty", "no frames")


def test_limits_on_length_and_size():
    err = expect_bad(LANDSCAPE, "too_long", "15 s long", "limit is 10 s", max_duration_s=10)
    assert "min" not in str(err)
    expect_bad(LANDSCAPE, "too_big", "880 kB", "limit is 500 kB", max_bytes=500_000)
    assert probe(LANDSCAPE, max_duration_s=20, max_bytes=10_000_000).frames == 455


def test_long_limit_reads_in_minutes(tmp_path):
    times = [0.0, 839.0]  # two frames 14 min apart
    path = encode(tmp_path / "long.mp4", moving_frames(2), times)
    expect_bad(path, "too_long", "14 min long", "limit is 10 min", max_duration_s=600)


# --------------------------------------------------------------------------- (d) codecs


def test_hevc_clip_decodes():
    info = probe(HEVC)
    assert (info.codec, info.width, info.height) == ("hevc", 640, 360)
    assert info.frames == 249
    assert info.fps == pytest.approx(24.0, rel=1e-6)
    frames = first_frames(HEVC, 24)
    assert [f.rgb.shape for f in frames] == [(360, 640, 3)] * 24
    assert np.allclose(np.diff([f.t for f in frames]), 1 / 24, atol=1e-3)
    assert frames[0].t == 0.0
    assert all(f.rgb.std() > 10 for f in frames)  # real pictures, not blank frames


def test_mpeg4_part2_clip_decodes():
    info = probe(MPEG4)
    assert (info.codec, info.width, info.height, info.frames) == ("mpeg4", 1920, 1080, 145)
    frames = first_frames(MPEG4, 8, scale_to=320)
    assert [f.rgb.shape for f in frames] == [(180, 320, 3)] * 8
    assert np.allclose(np.diff([f.t for f in frames]), 1001 / 30000, atol=1e-4)
    assert all(f.rgb.std() > 10 for f in frames)


def test_frames_are_not_kept_by_the_iterator():
    frames = iter_frames(SHORT, scale_to=64)
    first = next(frames)
    ref = weakref.ref(first.rgb)
    del first
    for _ in range(5):
        next(frames)
    assert ref() is None  # nothing inside the generator holds on to earlier frames
    frames.close()


# --------------------------------------------------------------------------- (e) writer


def test_writer_output_is_browser_h264_with_same_duration(tmp_path):
    src = probe(SHORT)
    out_path = tmp_path / "annotated.mp4"
    inputs = []
    with VideoWriter(out_path) as writer:
        for frame in iter_frames(SHORT):
            inputs.append(frame.rgb[::4, ::4].astype(int))  # small copies to compare later
            writer.write(frame.rgb, frame.t)
        writer.close(end_t=src.duration_s)
    assert writer.frames_written == src.frames == 29

    out = probe(out_path)
    assert out.codec == "h264"
    assert out.frames == src.frames
    assert abs(out.duration_s - src.duration_s) < 1 / src.fps
    assert (out.width, out.height) == (600, 600)
    with av.open(str(out_path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.codec_context.colorspace == 1  # BT.709, tagged
    boxes = top_level_boxes(out_path)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart: plays while loading
    decoded = [f.rgb[::4, ::4].astype(int) for f in iter_frames(out_path)]
    assert np.mean([np.abs(a - b).mean() for a, b in zip(decoded, inputs, strict=True)]) < 4


def test_writer_keeps_variable_timing_and_scales_to_even_size(tmp_path):
    gaps = [1 / 30 if i % 3 else 1 / 12 for i in range(15)]
    times = [0.0, *np.cumsum(gaps).tolist()]
    end = times[-1] + 1 / 30
    frames = [np.ascontiguousarray(np.resize(f, (721, 1281, 3))) for f in moving_frames(16)]
    path = tmp_path / "vfr_out.mp4"
    with VideoWriter(path, max_side=720) as writer:
        for rgb, t in zip(frames, times, strict=True):
            writer.write(rgb, t)
        writer.close(end_t=end)
    assert writer.size == (720, 406)  # 1281x721 scaled to 720 long side, both even

    info = probe(path)
    assert (info.width, info.height) == (720, 406)
    assert info.vfr is True
    assert info.duration_s == pytest.approx(end, abs=1e-3)
    got = np.array([f.t for f in iter_frames(path)])
    assert np.max(np.abs(got - times)) < 1e-3


def test_writer_rejects_bad_times_and_deletes_on_error(tmp_path):
    path = tmp_path / "x.mp4"
    frame = moving_frames(1)[0]
    with pytest.raises(RuntimeError), VideoWriter(path) as writer:
        writer.write(frame, 0.0)
        writer.write(frame, 0.1)
        with pytest.raises(ValueError, match="increase"):
            writer.write(frame, 0.1)
        raise RuntimeError("pipeline failed")
    assert not path.exists()


def test_writer_last_frame_lasts_previous_interval_without_end_time(tmp_path):
    path = tmp_path / "y.mp4"
    with VideoWriter(path) as writer:
        for i, rgb in enumerate(moving_frames(10)):
            writer.write(rgb, i / 25)
    assert probe(path).duration_s == pytest.approx(10 / 25, abs=1e-3)


# --------------------------------------------------------------------------- (f) max_fps


def test_max_fps_halves_a_60_fps_clip():
    assert probe(KETTLEBELL_60).fps == pytest.approx(60.0)
    kept = first_frames(KETTLEBELL_60, 60, max_fps=30, scale_to=64)
    assert [f.index for f in kept] == list(range(0, 120, 2))  # every other frame
    gaps = np.diff([f.t for f in kept])
    assert np.allclose(gaps, 1 / 30, atol=1e-3)


def test_max_fps_at_or_above_the_source_rate_keeps_every_frame(tmp_path):
    times = [i * 1001 / 30000 for i in range(30)]  # 29.97 fps
    path = encode(tmp_path / "ntsc.mp4", moving_frames(30), times)
    assert len(list(iter_frames(path, max_fps=30))) == 30
    capped = list(iter_frames(path, max_fps=10))
    assert len(capped) == 10  # one per 0.1 s slot over 1.0 s
    assert np.allclose(np.diff([f.t for f in capped]), 0.1, atol=0.034)


def test_writer_keeps_colours(tmp_path):
    colours = [(220, 30, 30), (30, 200, 40), (40, 60, 210), (225, 180, 150), (128, 128, 128)]
    frames = [np.full((64, 64, 3), c, np.uint8) for c in colours]
    path = tmp_path / "colours.mp4"
    with VideoWriter(path) as writer:
        for i, rgb in enumerate(frames):
            writer.write(rgb, i / 10)
    decoded = [f.rgb for f in iter_frames(path)]
    for got, want in zip(decoded, colours, strict=True):
        assert np.abs(got.reshape(-1, 3).mean(axis=0) - want).max() < 5


# --------------------------------------------------------------------------- (g) spans


@pytest.mark.parametrize("clip", [KETTLEBELL_60, MPEG4, HEVC, MOOV_LAST])
def test_spans_cut_at_slots_give_exactly_the_frames_of_one_pass(clip):
    """Two spans (the second found by seeking) meet the same frames, times and indices."""
    whole = list(iter_frames(clip, max_fps=15, scale_to=96))
    cut = int(probe(clip).duration_s / 2 * 15) / 15
    first = list(iter_frames(clip, max_fps=15, scale_to=96, end_s=cut))
    second = list(iter_frames(clip, max_fps=15, scale_to=96, start_s=cut))
    assert first and second
    assert len(first) + len(second) == len(whole)
    for a, b in zip(first + second, whole, strict=True):
        assert (a.index, a.t) == (b.index, b.t)
        assert np.array_equal(a.rgb, b.rgb)
    assert first[-1].t < cut <= second[0].t + 1e-9


def test_span_without_rate_cap_and_three_way_split(tmp_path):
    times = [i / 25 for i in range(75)]
    path = encode(
        tmp_path / "keyframes.mp4", moving_frames(75), times, rate=25, options={"g": "10"}
    )
    spans = [(0.0, 1.0), (1.0, 2.2), (2.2, None)]
    got = [f.t for s, e in spans for f in iter_frames(path, start_s=s, end_s=e)]
    assert np.allclose(got, times, atol=1e-3)
    with pytest.raises(ValueError):
        next(iter_frames(path, start_s=2.0, end_s=1.0))


def test_span_falls_back_to_reading_from_the_start_when_the_seek_lands_late(tmp_path, monkeypatch):
    """A seek that lands inside the span must not cost the span its first frames."""
    import vision.video_read

    times = [i / 25 for i in range(100)]
    path = encode(tmp_path / "clip.mp4", moving_frames(100), times, rate=25, options={"g": "25"})
    monkeypatch.setattr(vision.video_read, "_SEEK_MARGIN_S", -1.5)  # seek 1.5 s too far
    got = list(iter_frames(path, start_s=2.0))
    assert got[0].t == pytest.approx(2.0, abs=1e-3)
    assert [f.index for f in got] == list(range(50, 100))


def test_writer_takes_frames_prepared_in_another_thread(tmp_path):
    """`prepare` (run where the drawing happens) then `write` gives the frames `write` would.

    The converted pixels are compared, not the encoded bits: multi-threaded x264 output
    is not bit-repeatable from run to run on a loaded machine (seen here).
    """
    from vision.prefetch import prefetch

    frames = moving_frames(12, w=97, h=65)  # odd sizes: scaled to even ones
    staged = tmp_path / "staged.mp4"
    with VideoWriter(staged) as writer:
        ready = list(prefetch((writer.prepare(rgb), i / 25) for i, rgb in enumerate(frames)))
        here = [writer.prepare(rgb) for rgb in frames]
        for (yuv, _), same in zip(ready, here, strict=True):
            assert np.array_equal(yuv.to_ndarray(), same.to_ndarray())
        for yuv, t in ready:
            writer.write(yuv, t)
        with pytest.raises(ValueError, match="not"):
            writer.write(VideoWriter(tmp_path / "other.mp4").prepare(frames[0][:32]), 1.0)
    decoded = [f.rgb for f in iter_frames(staged)]
    assert len(decoded) == 12
    assert probe(staged).width == 96
    direct = tmp_path / "direct.mp4"
    with VideoWriter(direct) as writer:
        for i, rgb in enumerate(frames):
            writer.write(rgb, i / 25)
    for a, b in zip(decoded, (f.rgb for f in iter_frames(direct)), strict=True):
        assert np.abs(a.astype(int) - b).mean() < 1.0


def test_a_span_that_seeks_still_finds_the_video_cut_short(tmp_path):
    cut = truncated_copy(LANDSCAPE, tmp_path / "cut.mp4", 0.7)
    with pytest.raises(BadVideo, match=r"cut short at \d+\.\d s") as caught:
        for _ in iter_frames(cut, scale_to=64, start_s=7.5):
            pass
    assert caught.value.kind in ("truncated", "damaged")
    # the whole clip's second half is not cut short
    assert len(list(iter_frames(LANDSCAPE, scale_to=64, start_s=7.5))) > 200


# ------------------------------------------------------- (g) decoding only what is kept


def test_rate_capped_frames_are_the_same_pixels_as_a_full_decode(tmp_path):
    """With `max_fps`, frames the cap drops are skipped in the decoder when nothing refers
    to them (B-frames): the kept frames must be exactly those of a full decode."""
    times = [i / 30 for i in range(60)]
    path = encode(
        tmp_path / "bframes.mp4",
        moving_frames(60),
        times,
        options={"bf": "3", "b_strategy": "0", "preset": "medium"},
    )
    every = {f.t: f.rgb for f in iter_frames(path)}
    for threaded in (True, False):
        kept = list(iter_frames(path, max_fps=10, threaded=threaded))
        assert [f.t for f in kept] == pytest.approx([i / 10 for i in range(20)], abs=1e-6)
        for f in kept:
            assert np.array_equal(f.rgb, every[f.t])
        assert [f.index for f in kept] == list(range(0, 60, 3))
