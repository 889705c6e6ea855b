"""Video input: check a file, describe it, and stream upright RGB frames with true times.

Times come from the container's presentation timestamps (PTS), never from frame index and
nominal fps, because phone video is often variable-frame-rate.

Time origin: ``t = (pts - stream.start_time) * time_base``. The stream's start time is the
presentation time of its first shown frame, so the first frame normally has ``t == 0`` and
every later time is what a video player shows for that frame. When the container gives no
start time, the first decoded frame's PTS is the origin.

Rotation: phones store the sensor image and a display matrix saying how to turn it.
``rotation_deg`` is the clockwise turn (0, 90, 180 or 270) applied to stored frames so they
come out upright; the common "portrait iPhone" file has ``rotation_deg == 90`` (FFmpeg
reports a display-matrix rotation of -90, i.e. 90 degrees clockwise).

PyAV is imported inside functions so that importing this module (for `BadVideo`, say)
stays cheap.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Generator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from metrics.errors import AnalysisError

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame as AVFrame
    from av.video.stream import VideoStream

__all__ = ["BadVideo", "BadVideoKind", "VideoFrame", "VideoInfo", "iter_frames", "probe"]

BadVideoKind = Literal[
    "missing", "not_video", "truncated", "damaged", "empty", "too_long", "too_big", "unsupported"
]

_AGAIN = "re-export or record again"
# A PTS interval further than this from the median interval makes a video VFR
# (10 %, and never less than 2 time-base ticks, which is rounding).
_VFR_REL_TOL = 0.10
_VFR_MIN_TICKS = 2
# How many packets may fail to decode before the first frame before the file is "damaged".
_MAX_LEADING_DECODE_ERRORS = 30
# A slot boundary is this close (in output-frame units) before we count it as reached, so
# that PTS rounding (e.g. 0.03332 s for 1/30 s) does not drop a frame that is on time.
_SLOT_SLACK = 0.05


class BadVideo(AnalysisError):
    """A file that cannot be analysed as video.

    ``str()`` is one line a coach can act on: ``"<file name>: <reason>"``. ``kind`` says which
    failure it is (for tests, the app and exit codes); ``reason`` is the text after the name.
    """

    def __init__(self, path: str | Path, reason: str, *, kind: BadVideoKind) -> None:
        self.path = Path(path)
        self.reason = reason
        self.kind: BadVideoKind = kind
        super().__init__(f"{self.path.name}: {reason}")


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


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame: upright ``rgb`` (H, W, 3) uint8, C-contiguous, at ``t`` seconds.

    ``index`` counts every frame the decoder produced, in presentation order, from 0; with
    ``max_fps`` some frames are skipped, so yielded indices can have gaps.
    """

    index: int
    t: float
    rgb: np.ndarray

    def __post_init__(self) -> None:
        rgb = self.rgb
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"rgb must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
        if not rgb.flags.c_contiguous:
            raise ValueError("rgb must be C-contiguous")


# --------------------------------------------------------------------------- messages


def _fmt_duration(seconds: float) -> str:
    """Say a duration the way a coach would: '8.5 s', '45 s', '14 min', '1.5 min'."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes >= 10 or abs(minutes - round(minutes)) < 0.05:
        return f"{minutes:.0f} min"
    return f"{minutes:.1f} min"


def _fmt_bytes(n: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n} bytes"


_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive or an Office document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"{\\rtf", "an RTF document"),
    (b"ID3", "an MP3 audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)


def _looks_like(head: bytes) -> str | None:
    """Name the kind of file these first bytes belong to, or None if unknown."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "a WAV audio file"
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "a web page"
    if stripped.startswith(b"<?xml"):
        return "an XML file"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character may be cut at the end of the sample.
        try:
            text = head[:-4].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if text and "\x00" not in text:
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        if printable / len(text) > 0.95:
            return "a text file"
    return None


def _iso_boxes(path: Path, limit: int = 64) -> list[str]:
    """Top-level ISO-BMFF (MP4/MOV) box types, in file order; [] if not that format."""
    types: list[str] = []
    size_total = path.stat().st_size
    with path.open("rb") as fh:
        pos = 0
        while pos + 8 <= size_total and len(types) < limit:
            fh.seek(pos)
            header = fh.read(16)
            size, kind = struct.unpack(">I4s", header[:8])
            if size == 1 and len(header) >= 16:
                size = struct.unpack(">Q", header[8:16])[0]
            elif size == 0:
                size = size_total - pos
            if size < 8 or not kind.isascii() or not kind.decode("ascii").isprintable():
                break
            types.append(kind.decode("ascii"))
            pos += size
    return types if types[:1] == ["ftyp"] else []


def _head(path: Path, n: int = 4096) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _unopenable(path: Path) -> BadVideo:
    """Explain why FFmpeg could not open the file at all."""
    head = _head(path)
    if head[4:8] == b"ftyp":
        boxes = _iso_boxes(path)
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B ") and "moov" in boxes:
            return BadVideo(path, "this file is audio only, not a video", kind="not_video")
        if "moov" not in boxes:
            return BadVideo(path, f"the video is cut short (no index); {_AGAIN}", kind="truncated")
        return BadVideo(
            path, f"the video file is damaged and cannot be opened; {_AGAIN}", kind="damaged"
        )
    if head.startswith(b"\x1a\x45\xdf\xa3") or (head[:4] == b"RIFF" and head[8:11] == b"AVI"):
        return BadVideo(
            path, f"the video file is damaged and cannot be opened; {_AGAIN}", kind="damaged"
        )
    what = _looks_like(head)
    if what is None:
        return BadVideo(
            path, "this file is not a video (its contents are not recognised)", kind="not_video"
        )
    return BadVideo(path, f"this file is not a video (it looks like {what})", kind="not_video")


# --------------------------------------------------------------------------- opening


def _check_file(path: Path) -> int:
    """Raise BadVideo unless `path` is a readable, non-empty file; return its size."""
    if not path.exists():
        raise BadVideo(path, "file not found", kind="missing")
    if path.is_dir():
        raise BadVideo(path, "this is a folder, not a video file", kind="missing")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except PermissionError as exc:
        raise BadVideo(path, "the file cannot be read (permission denied)", kind="missing") from exc
    except OSError as exc:
        raise BadVideo(path, f"the file cannot be read ({exc.strerror})", kind="missing") from exc
    if size == 0:
        raise BadVideo(path, "the file is empty (0 bytes)", kind="empty")
    return size


def _open_input(path: Path) -> InputContainer:
    """Open `path` for reading; every failure becomes a BadVideo with a reason."""
    import av

    _check_file(path)
    try:
        return av.open(str(path), mode="r")
    except FileNotFoundError as exc:
        raise BadVideo(path, "file not found", kind="missing") from exc
    except PermissionError as exc:
        raise BadVideo(path, "the file cannot be read (permission denied)", kind="missing") from exc
    except av.FFmpegError as exc:
        raise _unopenable(path) from exc


def _video_stream(container: InputContainer, path: Path) -> VideoStream:
    """The moving-picture stream of `container` (not cover art), or BadVideo."""
    from av.stream import Disposition

    fmt = container.format.name
    streams = [s for s in container.streams.video if not (s.disposition & Disposition.attached_pic)]
    if fmt == "image2" or fmt.endswith("_pipe"):
        kind = fmt.removesuffix("_pipe").upper() if fmt != "image2" else "image"
        kind = {"JPEG": "JPEG", "IMAGE": "image"}.get(kind, kind)
        raise BadVideo(path, f"this file is a still image ({kind}), not a video", kind="not_video")
    if not streams:
        if container.streams.audio:
            raise BadVideo(path, "this file is audio only, not a video", kind="not_video")
        if not container.streams and "moov" in _iso_boxes(path):
            # FFmpeg drops MP4/MOV tracks that hold no samples: a recording that never
            # got a frame looks like this.
            raise BadVideo(path, "the video has no frames", kind="empty")
        raise BadVideo(path, "this file is not a video (it has no picture track)", kind="not_video")
    stream = streams[0]
    if stream.codec_context is None:
        raise _unsupported(path, stream)
    return stream


def _unsupported(path: Path, stream: VideoStream) -> BadVideo:
    codec = stream.codec_context.name if stream.codec_context is not None else None
    which = f"the {codec} codec" if codec else "a codec"
    return BadVideo(
        path,
        f"the video uses {which}, which backcheck cannot decode; re-export as H.264 MP4",
        kind="unsupported",
    )


def _clockwise_deg(ccw: float) -> int:
    """Display-matrix rotation (degrees counter-clockwise) → clockwise turn in {0,90,180,270}."""
    return (round(-ccw / 90.0) % 4) * 90


def _upright(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Turn a stored frame clockwise by `rotation_deg` and make it C-contiguous."""
    k = rotation_deg // 90
    if k:
        rgb = np.rot90(rgb, k=-k)
    return np.ascontiguousarray(rgb)


def _stream_seconds(container: InputContainer, stream: VideoStream) -> float | None:
    """Duration the container claims for the video stream, if it says."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and len(container.streams) == 1:
        return container.duration / 1_000_000
    return None


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
                    raise _unsupported(path, stream) from exc
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
            path, f"the video is damaged at {reached:.1f} s; {_AGAIN}", kind="damaged"
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
    size = _check_file(path)
    if max_bytes is not None and size > max_bytes:
        raise BadVideo(
            path,
            f"the file is {_fmt_bytes(size)}; the limit is {_fmt_bytes(max_bytes)}",
            kind="too_big",
        )
    container = _open_input(path)
    try:
        stream = _video_stream(container, path)
        tb = stream.time_base
        assert tb is not None
        claimed_s = _stream_seconds(container, stream)
        if max_duration_s is not None and claimed_s is not None and claimed_s > max_duration_s:
            raise _too_long(path, claimed_s, max_duration_s)
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
        of = f" of {_fmt_duration(claimed_s)}" if claimed_s else ""
        raise BadVideo(
            path,
            f"the video is cut short (the file holds {_fmt_duration(held_s)}{of}); {_AGAIN}",
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
        raise BadVideo(
            path, f"the video is damaged and cannot be decoded; {_AGAIN}", kind="damaged"
        )
    if max_duration_s is not None and duration_s > max_duration_s:
        raise _too_long(path, duration_s, max_duration_s)

    rotation = _clockwise_deg(scan.first.rotation)
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


def _too_long(path: Path, seconds: float, limit: float) -> BadVideo:
    return BadVideo(
        path,
        f"the video is {_fmt_duration(seconds)} long; the limit is {_fmt_duration(limit)}",
        kind="too_long",
    )


# --------------------------------------------------------------------------- frames


def _target_size(width: int, height: int, scale_to: int | None) -> tuple[int, int] | None:
    """Size that fits the long side within `scale_to` (never enlarging), or None to keep."""
    if scale_to is None or max(width, height) <= scale_to:
        return None
    s = scale_to / max(width, height)
    return max(1, round(width * s)), max(1, round(height * s))


def iter_frames(
    path: str | Path,
    *,
    max_fps: float | None = None,
    scale_to: int | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> Generator[VideoFrame, None, None]:
    """Decode `path` one frame at a time: upright RGB with times from the PTS.

    Memory stays flat whatever the length: frames are yielded as they are decoded and none
    are kept. ``max_fps`` caps the rate by timestamps: time is cut into slots of
    ``1 / max_fps`` s and the first frame in each slot is kept (60 fps with ``max_fps=30``
    keeps every other frame). ``scale_to`` shrinks frames so the long side is at most that
    many pixels (never enlarges). Decoding is threaded.

    ``start_s``/``end_s`` decode one span of the video, ``start_s <= t < end_s`` (with
    ``max_fps``, the slots from ``start_s``'s to before ``end_s``'s), so that spans cut at
    slot boundaries together yield exactly the frames of one whole pass. A span that starts
    later seeks to a key frame before it; ``index`` is then counted from that key frame's
    time at the nominal rate.

    Call `probe` first for the full set of checks; this re-checks what it meets on the way
    and raises BadVideo (with the time reached) for data that is damaged or cut short.
    The file stays open until the generator finishes; ``close()`` it to stop early.
    """
    if max_fps is not None and not max_fps > 0:
        raise ValueError(f"max_fps must be positive, got {max_fps}")
    if scale_to is not None and scale_to < 2:
        raise ValueError(f"scale_to must be at least 2 px, got {scale_to}")
    if not start_s >= 0 or (end_s is not None and not end_s > start_s):
        raise ValueError(f"need 0 <= start_s < end_s, got {start_s}, {end_s}")
    span = _Span(start_s, end_s, max_fps)
    path = Path(path)
    if start_s > 0:
        try:
            yield from _decode(path, span, scale_to, seek=True)
            return
        except _SeekMissed:
            pass  # the demuxer could not land before the span: read from the start
    yield from _decode(path, span, scale_to, seek=False)


# A span that starts later seeks this far before its start, so the key frame found is
# before it even when the demuxer's seek is coarse.
_SEEK_MARGIN_S = 0.25


class _SeekMissed(Exception):
    """A seek landed after the span's start (or on frames without times)."""


@dataclass(frozen=True)
class _Span:
    """Which decoded times belong to a span of the video (see `iter_frames`)."""

    start_s: float
    end_s: float | None
    max_fps: float | None

    @property
    def whole(self) -> bool:
        return self.start_s == 0 and self.end_s is None

    def slot(self, t: float) -> float:
        """The rate-cap slot of time `t` (the time itself when the rate is not capped)."""
        if self.max_fps is None:
            return t
        return math.floor(t * self.max_fps + _SLOT_SLACK)

    def before(self, t: float) -> bool:
        return self.start_s > 0 and self.slot(t) < self.slot(self.start_s)

    def after(self, t: float) -> bool:
        return self.end_s is not None and self.slot(t) >= self.slot(self.end_s)


def _decode(
    path: Path, span: _Span, scale_to: int | None, *, seek: bool
) -> Generator[VideoFrame, None, None]:
    """The frames of `span`, decoded from the start of the file or from a seek point."""
    import av

    max_fps = span.max_fps
    container = _open_input(path)
    try:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        tb = float(stream.time_base or 0)
        rate = stream.average_rate or stream.guessed_rate
        step = 1.0 / float(rate) if rate else 1.0 / 30.0
        claimed_s = _stream_seconds(container, stream)
        claimed_frames = stream.frames
        origin: int | None = stream.start_time
        seek_to = span.start_s - _SEEK_MARGIN_S
        seeking = seek and seek_to > 0
        if seeking:
            if origin is None or not tb:
                raise _SeekMissed
            container.seek(origin + int(seek_to / tb), stream=stream, backward=True)
        rotation: int | None = None
        index = -1
        last_slot: float | None = None
        t = 0.0
        packets = 0
        corrupt_tail = False
        try:
            for packet in container.demux(stream):
                if packet.size:
                    packets += 1
                    corrupt_tail = packet.is_corrupt
                elif packet.dts is not None:
                    packets += 1  # an empty sample: sending it would flush the decoder
                    continue
                try:
                    frames = stream.decode(packet)
                except av.FFmpegError:
                    raise  # damaged data: reported below with the time reached
                except ValueError as exc:  # PyAV: "cannot decode unknown codec"
                    raise _unsupported(path, stream) from exc
                for frame in frames:
                    ts = frame.pts if frame.pts is not None else frame.dts
                    if ts is None:
                        t = t + step if index >= 0 else 0.0
                    else:
                        if origin is None:
                            origin = ts
                        t = (ts - origin) * tb
                    if seeking and index < 0:
                        # The seek must land on a timed frame before the span, or frames
                        # of the span may be behind us.
                        if ts is None or not span.before(t):
                            raise _SeekMissed
                        index = round(t / step) - 1
                    index += 1
                    if span.before(t):
                        continue
                    if span.after(t):
                        return
                    if max_fps is not None:
                        slot = span.slot(t)
                        if last_slot is not None and slot <= last_slot:
                            continue
                        last_slot = slot
                    if rotation is None:
                        rotation = _clockwise_deg(frame.rotation)
                    size = _target_size(frame.width, frame.height, scale_to)
                    if size is None:
                        rgb = frame.to_ndarray(format="rgb24")
                    else:
                        rgb = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
                    yield VideoFrame(index=index, t=t, rgb=_upright(rgb, rotation))
        except av.FFmpegError as exc:
            raise BadVideo(
                path, f"the video is damaged or cut short at {t:.1f} s; {_AGAIN}", kind="damaged"
            ) from exc
        if seeking:
            # Packets before the seek point were never counted: judge by the time reached.
            short = claimed_s is not None and t < claimed_s - _SEEK_MARGIN_S - 2 * step
        else:
            short = bool(claimed_frames) and packets < claimed_frames
        if corrupt_tail or short:
            of = f" of {_fmt_duration(claimed_s)}" if claimed_s else ""
            raise BadVideo(
                path, f"the video is cut short at {t:.1f} s{of}; {_AGAIN}", kind="truncated"
            )
        if index < 0 and span.whole:
            raise BadVideo(path, "the video has no frames", kind="empty")
    finally:
        container.close()
