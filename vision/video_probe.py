"""Describe a video from its packets: size, rotation, frame count, true fps, VFR.

`probe` reads every packet header of the video stream (decoding only the first frame), so
the numbers come from real timestamps and a file that holds less than its index claims is
caught before analysis starts. Conventions (time origin, rotation): `vision.video_read`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vision.video_open import (
    AGAIN,
    BadVideo,
    check_file,
    clockwise_deg,
    fmt_bytes,
    fmt_duration,
    open_input,
    stream_seconds,
    too_long,
    unsupported,
    video_stream,
)

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame as AVFrame
    from av.video.stream import VideoStream

# A PTS interval further than this from the median interval makes a video VFR
# (10 %, and never less than 2 time-base ticks, which is rounding).
_VFR_REL_TOL = 0.10
_VFR_MIN_TICKS = 2
# How many packets may fail to decode before the first frame before the file is "damaged".
_MAX_LEADING_DECODE_ERRORS = 30


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, measured from its packets, with the size shown upright.

    ``width``/``height`` are after rotation; ``fps`` is the average rate of shown frames
    (``(frames - 1) / (last PTS - first PTS)``), never rounded; ``frames`` counts the
    frames that will be shown (packets the container marks as discarded are left out);
    ``duration_s`` runs from the stream start to the end of the last frame; ``vfr`` is True
    when some PTS interval is more than 10 % (and more than 2 ticks) off the median one.
    """

    path: Path
    codec: str
    width: int
    height: int
    rotation_deg: int
    fps: float
    frames: int
    duration_s: float
    vfr: bool
    time_base: Fraction


# --------------------------------------------------------------------------- probe


@dataclass
class _Scan:
    """What one pass over a video stream's packets found."""

    packets: int = 0  # non-empty packets, discarded ones included
    pts: list[int] | None = None  # PTS of shown packets, in file order
    corrupt_tail: bool = False
    first: AVFrame | None = None
    decode_errors: int = 0


def _scan(container: InputContainer, stream: VideoStream, path: Path, origin: int) -> _Scan:
    """Demux every packet of `stream` (cheap: no decoding) and decode just the first frame."""
    import av

    scan = _Scan(pts=[])
    assert scan.pts is not None
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                # The end-of-stream marker has no dts; a real empty sample (a frame the
                # recorder dropped) counts toward the index but shows and decodes nothing.
                scan.packets += packet.dts is not None
                continue
            scan.packets += 1
            scan.corrupt_tail = packet.is_corrupt
            ts = packet.pts if packet.pts is not None else packet.dts
            if not packet.is_discard and ts is not None:
                scan.pts.append(ts)
            if scan.first is None and scan.decode_errors < _MAX_LEADING_DECODE_ERRORS:
                try:
                    frames = stream.decode(packet)
                except av.FFmpegError:
                    scan.decode_errors += 1
                    continue
                except ValueError as exc:  # PyAV: "cannot decode unknown codec"
                    raise unsupported(path, stream) from exc
                if frames:
                    scan.first = frames[0]
        if scan.first is None and scan.packets:
            try:
                frames = stream.decode(None)
                scan.first = frames[0] if frames else None
            except av.FFmpegError:
                scan.decode_errors += 1
    except av.FFmpegError as exc:
        reached = (max(scan.pts) - origin) * float(stream.time_base or 0) if scan.pts else 0.0
        raise BadVideo(
            path, f"the video is damaged at {reached:.1f} s; {AGAIN}", kind="damaged"
        ) from exc
    return scan


def _is_vfr(pts: np.ndarray) -> bool:
    """True when PTS intervals vary beyond rounding: see `VideoInfo`."""
    if pts.size < 3:
        return False
    gaps = np.diff(np.unique(pts))
    median = float(np.median(gaps))
    tol = max(_VFR_REL_TOL * median, _VFR_MIN_TICKS)
    return bool(np.any(np.abs(gaps - median) > tol))


def probe(
    path: str | Path, *, max_duration_s: float | None = None, max_bytes: int | None = None
) -> VideoInfo:
    """Check that `path` is a whole, decodable video within the limits, and describe it.

    Reads every packet header of the video stream (no pixel decoding except the first
    frame), so frame count, duration and VFR come from the real timestamps, and a file that
    holds less than its index claims is caught here rather than halfway through analysis.

    Raises
    ------
    BadVideo
        missing/unreadable file, not a video (text, PDF, image, audio, random bytes),
        truncated (no index, or fewer packets than the index claims), damaged, no frames,
        longer than `max_duration_s` or bigger than `max_bytes`.
    """
    path = Path(path)
    size = check_file(path)
    if max_bytes is not None and size > max_bytes:
        raise BadVideo(
            path,
            f"the file is {fmt_bytes(size)}; the limit is {fmt_bytes(max_bytes)}",
            kind="too_big",
        )
    container = open_input(path)
    try:
        stream = video_stream(container, path)
        tb = stream.time_base
        assert tb is not None
        claimed_s = stream_seconds(container, stream)
        if max_duration_s is not None and claimed_s is not None and claimed_s > max_duration_s:
            raise too_long(path, claimed_s, max_duration_s)
        claimed_frames = stream.frames
        start = stream.start_time
        average_rate = stream.average_rate
        scan = _scan(container, stream, path, origin=start or 0)
        codec = stream.codec_context.name
    finally:
        container.close()

    assert scan.pts is not None
    pts = np.asarray(scan.pts, dtype=np.int64)
    origin = start if start is not None else (int(pts.min()) if pts.size else 0)
    gaps = np.diff(np.unique(pts))
    typical_s = float(np.median(gaps)) * float(tb) if gaps.size else 0.0
    last_start_s = float((int(pts.max()) - origin) * tb) if pts.size else 0.0
    held_s = last_start_s + typical_s if pts.size else 0.0
    if (
        (claimed_frames and scan.packets < claimed_frames)
        or scan.corrupt_tail
        or (claimed_s is not None and held_s < claimed_s - max(1.0, 0.1 * claimed_s))
    ):
        of = f" of {fmt_duration(claimed_s)}" if claimed_s else ""
        raise BadVideo(
            path,
            f"the video is cut short (the file holds {fmt_duration(held_s)}{of}); {AGAIN}",
            kind="truncated",
        )
    # Packet durations read back from MP4 follow decode order, not display order, so the
    # end of the last shown frame comes from the container's own duration when it is
    # plausible, and otherwise from one typical interval after the last frame starts.
    duration_s = held_s
    if claimed_s is not None and last_start_s < claimed_s <= held_s + max(1.0, 0.1 * claimed_s):
        duration_s = claimed_s
    if pts.size == 0:
        raise BadVideo(path, "the video has no frames", kind="empty")
    if scan.first is None:
        raise BadVideo(path, f"the video is damaged and cannot be decoded; {AGAIN}", kind="damaged")
    if max_duration_s is not None and duration_s > max_duration_s:
        raise too_long(path, duration_s, max_duration_s)

    rotation = clockwise_deg(scan.first.rotation)
    w, h = scan.first.width, scan.first.height
    if rotation in (90, 270):
        w, h = h, w
    span = int(pts.max() - pts.min())
    if pts.size >= 2 and span > 0:
        fps = (pts.size - 1) / float(span * tb)
    else:
        fps = float(average_rate or 0.0)
    return VideoInfo(
        path=path,
        codec=codec,
        width=w,
        height=h,
        rotation_deg=rotation,
        fps=fps,
        frames=int(pts.size),
        duration_s=duration_s,
        vfr=_is_vfr(pts),
        time_base=Fraction(tb),
    )
