"""Opening a video file, and saying in one line why it can't be: the `BadVideo` reasons.

Diagnoses what a file that is not a usable video is (missing, a PDF, audio only, cut
short, damaged, an unsupported codec) from its first bytes and its MP4 boxes, opens the
rest with PyAV and finds the picture stream; also the display-matrix rotation helpers.
`vision.video_probe` and `vision.video_read` build on these; `vision.still` uses them too.

PyAV is imported inside functions so that importing this module (for `BadVideo`, say)
stays cheap.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from metrics.errors import AnalysisError

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream

BadVideoKind = Literal[
    "missing", "not_video", "truncated", "damaged", "empty", "too_long", "too_big", "unsupported"
]

AGAIN = "re-export or record again"


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


# --------------------------------------------------------------------------- messages


def fmt_duration(seconds: float) -> str:
    """Say a duration the way a coach would: '8.5 s', '45 s', '14 min', '1.5 min'."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes >= 10 or abs(minutes - round(minutes)) < 0.05:
        return f"{minutes:.0f} min"
    return f"{minutes:.1f} min"


def fmt_bytes(n: int) -> str:
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
            return BadVideo(path, f"the video is cut short (no index); {AGAIN}", kind="truncated")
        return BadVideo(
            path, f"the video file is damaged and cannot be opened; {AGAIN}", kind="damaged"
        )
    if head.startswith(b"\x1a\x45\xdf\xa3") or (head[:4] == b"RIFF" and head[8:11] == b"AVI"):
        return BadVideo(
            path, f"the video file is damaged and cannot be opened; {AGAIN}", kind="damaged"
        )
    what = _looks_like(head)
    if what is None:
        return BadVideo(
            path, "this file is not a video (its contents are not recognised)", kind="not_video"
        )
    return BadVideo(path, f"this file is not a video (it looks like {what})", kind="not_video")


# --------------------------------------------------------------------------- opening


def check_file(path: Path) -> int:
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


def open_input(path: Path) -> InputContainer:
    """Open `path` for reading; every failure becomes a BadVideo with a reason."""
    import av

    check_file(path)
    try:
        return av.open(str(path), mode="r")
    except FileNotFoundError as exc:
        raise BadVideo(path, "file not found", kind="missing") from exc
    except PermissionError as exc:
        raise BadVideo(path, "the file cannot be read (permission denied)", kind="missing") from exc
    except av.FFmpegError as exc:
        raise _unopenable(path) from exc


def video_stream(container: InputContainer, path: Path) -> VideoStream:
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
        raise unsupported(path, stream)
    return stream


def unsupported(path: Path, stream: VideoStream) -> BadVideo:
    codec = stream.codec_context.name if stream.codec_context is not None else None
    which = f"the {codec} codec" if codec else "a codec"
    return BadVideo(
        path,
        f"the video uses {which}, which backcheck cannot decode; re-export as H.264 MP4",
        kind="unsupported",
    )


def clockwise_deg(ccw: float) -> int:
    """Display-matrix rotation (degrees counter-clockwise) → clockwise turn in {0,90,180,270}."""
    return (round(-ccw / 90.0) % 4) * 90


def upright(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Turn a stored frame clockwise by `rotation_deg` and make it C-contiguous."""
    k = rotation_deg // 90
    if k:
        rgb = np.rot90(rgb, k=-k)
    return np.ascontiguousarray(rgb)


def stream_seconds(container: InputContainer, stream: VideoStream) -> float | None:
    """Duration the container claims for the video stream, if it says."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and len(container.streams) == 1:
        return container.duration / 1_000_000
    return None


def too_long(path: Path, seconds: float, limit: float) -> BadVideo:
    return BadVideo(
        path,
        f"the video is {fmt_duration(seconds)} long; the limit is {fmt_duration(limit)}",
        kind="too_long",
    )
