"""Invariance transforms: copies of a clip that should get the same verdict as the clip.

A verdict (reps, flags per rep, judgeability) must not depend on which way the lifter
faces, on the file a messaging app sends, on how the phone stored its rotation, or on the
frame rate the phone filmed at. Each transform writes a new MP4 from the clip's upright
frames (as `vision.video.iter_frames` decodes them, with the clip's own timestamps):

- ``mirror``: left and right swapped (a selfie camera, or the lifter filmed from the other
  side);
- ``small480``: long side 480 px, strongly compressed (libx264 CRF 35), the harsher
  reading of "a 480 px copy";
- ``short480``: short side 480 px (854×480 from 1080p), compressed as hard: the size a
  messaging app sends a landscape clip at (a clip already that small is only recompressed);
- ``rotated``: the pixels stored turned 90° counter-clockwise, with the MP4 display matrix
  saying "turn 90° clockwise to show" (how a portrait phone video is stored), so the shown
  video is the clip itself;
- ``fps30``: every other frame of a 60 fps clip (frames kept by time slots of 1/30 s); a
  clip filmed at under 45 fps has no 30 fps copy (`applies` says so);
- ``reencode``: the control, the clip itself decoded and encoded again as the others are:
  what changes under it is the pose pass's sensitivity to coding noise, not a transform.

One more copy tests finding the lifter rather than the verdict's invariance, so it is not
in `TRANSFORMS` (the invariance table): ``far``, the clip shrunk so its height is
`FAR_SHARE` of a 1920×1080 gray canvas and placed right of centre near the bottom, like a
lifter filmed from across the gym (`vision.second_look` must find them).

The re-encoded copies other than ``small480`` and ``short480`` use CRF 18 at the clip's own
size, so what changes is the transform, not the quality. Every copy is coded reproducibly
(`VideoWriter(reproducible=True)`): the same clip always gives the same copy, so a change
in the invariance table is the code's, not the encoder's (before, two makes of one 480 px
copy decoded up to 50 levels apart, libx264's AVX-512 code, and a rep could flip between
evaluation runs).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from vision.video import VideoFrame, VideoWriter, iter_frames, probe

TRANSFORMS = ("mirror", "small480", "short480", "rotated", "fps30", "reencode")
CONTROL = "reencode"
EXTRA_TRANSFORMS = ("far",)

FAR_CANVAS = (1920, 1080)  # (width, height) of the far copy
FAR_SHARE = 0.22  # the clip's height as a share of the canvas height
FAR_GRAY = 128

SMALL_SIDE = 480
SMALL_CRF = 35
KEEP_CRF = 18
FPS30_MIN_SOURCE_FPS = 45.0  # a clip below this has no "every other frame" copy


def applies(transform: str, fps: float) -> bool:
    """Whether `transform` makes a meaningful copy of a clip filmed at `fps`."""
    known = TRANSFORMS + EXTRA_TRANSFORMS
    if transform not in known:
        raise ValueError(f"unknown transform {transform!r}; one of {', '.join(known)}")
    return transform != "fps30" or fps >= FPS30_MIN_SOURCE_FPS


def make_variant(src: str | Path, dst: str | Path, transform: str) -> Path:
    """Write `transform` of the video `src` to `dst` (an .mp4) and return `dst`.

    The copy keeps the clip's timestamps and duration; it is written to a temporary name
    first, so an interrupted run leaves no half file under `dst`.
    """
    src, dst = Path(src), Path(dst)
    info = probe(src)
    if not applies(transform, info.fps):
        raise ValueError(f"{src.name}: {transform} needs at least {FPS30_MIN_SOURCE_FPS:g} fps")
    max_side: int | None = None
    crf = KEEP_CRF
    max_fps: float | None = None
    turn: Callable[[np.ndarray], np.ndarray] = _same
    if transform == "mirror":
        turn = _mirror
    elif transform == "small480":
        max_side, crf = SMALL_SIDE, SMALL_CRF
    elif transform == "short480":
        short, long = sorted((info.width, info.height))
        max_side = round(long * SMALL_SIDE / short) if short > SMALL_SIDE else None
        crf = SMALL_CRF
    elif transform == "rotated":
        turn = _stored_sideways
    elif transform == "fps30":
        max_fps = 30.0
    elif transform == "far":
        turn = _far
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.stem + ".part.mp4")
    frames: Iterator[VideoFrame] = iter_frames(src, max_fps=max_fps)
    with VideoWriter(
        tmp, max_side=max_side, crf=crf, preset="veryfast", threads=1, reproducible=True
    ) as writer:
        for frame in frames:
            writer.write(turn(frame.rgb), frame.t)
        writer.close(end_t=info.duration_s)
    if transform == "rotated":
        set_display_rotation(tmp, 90)
    tmp.replace(dst)
    return dst


def _same(rgb: np.ndarray) -> np.ndarray:
    return rgb


def _mirror(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, ::-1])


def _far(rgb: np.ndarray) -> np.ndarray:
    """The frame shrunk to `FAR_SHARE` of the canvas height, on a gray 1920×1080 canvas."""
    import cv2

    cw, ch = FAR_CANVAS
    h, w = rgb.shape[:2]
    scale = min(FAR_SHARE * ch / h, 0.9 * cw / w)
    sw, sh = max(2, int(round(w * scale))), max(2, int(round(h * scale)))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    canvas = np.full((ch, cw, 3), FAR_GRAY, np.uint8)
    x0 = min(int(0.6 * cw), cw - sw)  # right of centre
    y0 = min(int(0.85 * ch) - sh, ch - sh)  # feet near the bottom
    canvas[y0 : y0 + sh, x0 : x0 + sw] = small
    return canvas


def _stored_sideways(rgb: np.ndarray) -> np.ndarray:
    """The upright frame turned 90° counter-clockwise: what a portrait phone stores."""
    return np.ascontiguousarray(np.rot90(rgb, k=1))


# ------------------------------------------------------------------ MP4 display matrix

_CONTAINERS = {b"moov", b"trak", b"mdia"}
_FIXED_1 = 0x00010000  # 1.0 in 16.16
_W_1 = 0x40000000  # 1.0 in 2.30


def _boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, box start, box end) of the ISO BMFF boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = end - pos
        if size < 8 or pos + size > end:
            raise ValueError(f"malformed MP4 box {kind!r} at {pos}")
        yield kind, pos, pos + size
        pos += size


def _rotation_matrix(clockwise_deg: int, width: int, height: int) -> tuple[int, ...]:
    """tkhd matrix (a, b, u, c, d, v, x, y, w) that shows stored frames turned clockwise."""
    one, neg = _FIXED_1, (-_FIXED_1) & 0xFFFFFFFF
    if clockwise_deg == 90:
        return (0, one, 0, neg, 0, 0, (height << 16) & 0xFFFFFFFF, 0, _W_1)
    if clockwise_deg == 180:
        return (neg, 0, 0, 0, neg, 0, (width << 16) & 0xFFFFFFFF, (height << 16), _W_1)
    if clockwise_deg == 270:
        return (0, neg, 0, one, 0, 0, 0, (width << 16) & 0xFFFFFFFF, _W_1)
    if clockwise_deg == 0:
        return (one, 0, 0, 0, one, 0, 0, 0, _W_1)
    raise ValueError(f"rotation must be 0, 90, 180 or 270 degrees, got {clockwise_deg}")


def set_display_rotation(path: str | Path, clockwise_deg: int) -> None:
    """Set the video track's display matrix of the MP4 at `path` in place.

    Players (and FFmpeg's display-matrix side data, which `iter_frames` honours) then show
    the stored frames turned `clockwise_deg` clockwise. Only the 36 matrix bytes of the
    video track header change.
    """
    path = Path(path)
    data = bytearray(path.read_bytes())
    done = False
    for kind, s, e in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        for tkind, ts, te in _boxes(data, s + 8, e):
            if tkind != b"trak":
                continue
            tkhd = None
            video = False
            for ckind, cs, ce in _boxes(data, ts + 8, te):
                if ckind == b"tkhd":
                    tkhd = cs
                elif ckind == b"mdia":
                    for mkind, ms, _me in _boxes(data, cs + 8, ce):
                        if mkind == b"hdlr" and data[ms + 16 : ms + 20] == b"vide":
                            video = True
            if tkhd is None or not video:
                continue
            version = data[tkhd + 8]
            matrix_at = tkhd + 12 + (32 if version == 1 else 20) + 16
            width = struct.unpack(">I", data[matrix_at + 36 : matrix_at + 40])[0] >> 16
            height = struct.unpack(">I", data[matrix_at + 40 : matrix_at + 44])[0] >> 16
            matrix = _rotation_matrix(clockwise_deg, width, height)
            data[matrix_at : matrix_at + 36] = struct.pack(">9I", *matrix)
            done = True
    if not done:
        raise ValueError(f"{path.name}: no video track header found")
    path.write_bytes(bytes(data))
