"""The analysed frames, kept from the pose pass to the annotated video.

The pose pass already decodes, rotates and shrinks every analysed frame; decoding the
video a second time for annotated.mp4 cost as much CPU as drawing and encoding it (a
1080p minute: ~10 s of both cores). The first frames are kept as they are, in memory, up
to `memory_bytes` for the whole stash (a short clip's frames fit; keeping costs a copy,
~0.05 ms a frame); the rest are compressed to JPEG on disk (~1.3 ms a frame, ~1.5 ms to
read back), so memory stays bounded however long the video.

Each span of the pose pass writes its own file (one writer per thread); reading goes
through the spans in order, so frames come back in time order. A file is a sequence of
records: time (float64 seconds), JPEG length (uint32), JPEG bytes.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np

from vision.video_read import VideoFrame

_HEADER = struct.Struct("<dI")
# Quality 90: a 640 px frame is 15-60 kB and within ~2 grey levels of the original, far
# below what the annotated video's own H.264 encoding changes.
JPEG_QUALITY = 90


class FrameStash:
    """Frames of a video, in spans written separately and read back in span order.

    `memory_bytes`: frames are kept uncompressed in memory until the stash holds this
    many bytes of them (all spans together), then go to JPEG files in `folder`.
    """

    def __init__(self, folder: Path, quality: int = JPEG_QUALITY, memory_bytes: int = 0) -> None:
        self.folder = Path(folder)
        self.quality = quality
        self._spans: dict[int, StashWriter] = {}
        self._budget = _Budget(memory_bytes)

    def writer(self, span: int) -> StashWriter:
        """Open span `span` for writing (again from empty if it was written)."""
        old = self._spans.get(span)
        if old is not None:
            self._budget.give_back(old.memory_bytes)
        path = self.folder / f"span-{span:03d}.frames"
        writer = StashWriter(path, self.quality, self._budget)
        self._spans[span] = writer
        return writer

    def frames(self) -> Iterator[VideoFrame]:
        """Every stashed frame in span order, as upright RGB with its time.

        `index` counts the stashed frames from 0. Each frame is the caller's own array
        (a copy of a frame kept in memory), free to draw on.
        """
        import cv2

        index = 0
        for span in sorted(self._spans):
            writer = self._spans[span]
            for t, rgb in writer.kept:
                yield VideoFrame(index, t, rgb.copy())
                index += 1
            if not writer.path.exists():
                continue
            with open(writer.path, "rb") as fh:
                while record := _read_record(fh):
                    t, data = record
                    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                    if bgr is None:
                        raise ValueError(f"{writer.path.name}: a frame is damaged")
                    yield VideoFrame(index, t, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                    index += 1


class _Budget:
    """Bytes of frames the stash may still keep in memory, shared by the spans' threads."""

    def __init__(self, free: int) -> None:
        self._free = free
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self._lock:
            if size > self._free:
                self._free = 0  # frames stay in time order: memory first, then the file
                return False
            self._free -= size
            return True

    def give_back(self, size: int) -> None:
        with self._lock:
            self._free += size


class StashWriter:
    """Appends frames to one span; use as a context manager or call `close`.

    Frames go to memory while the stash's budget lasts, then to the span's file (opened
    at the first frame that needs it).
    """

    def __init__(self, path: Path, quality: int, budget: _Budget | None = None) -> None:
        self.path = path
        path.unlink(missing_ok=True)
        self._fh: BinaryIO | None = None
        self._budget = budget
        self.quality = quality
        self.count = 0
        self.kept: list[tuple[float, np.ndarray]] = []
        self.memory_bytes = 0

    def add(self, t: float, rgb: np.ndarray) -> None:
        """Keep, or compress and append, the upright RGB frame taken at `t` seconds."""
        import cv2

        if self._fh is None and self._budget is not None and self._budget.take(rgb.nbytes):
            self.kept.append((t, np.array(rgb, copy=True)))
            self.memory_bytes += rgb.nbytes
            self.count += 1
            return
        if self._fh is None:
            self._fh = open(self.path, "wb")  # noqa: SIM115 (closed by close())

        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise ValueError(f"frame at {t:.3f} s could not be compressed")
        self._fh.write(_HEADER.pack(t, len(data)))
        self._fh.write(data.tobytes())
        self.count += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()

    def __enter__(self) -> StashWriter:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.close()
        return False


def _read_record(fh: BinaryIO) -> tuple[float, bytes] | None:
    head = fh.read(_HEADER.size)
    if not head:
        return None
    if len(head) < _HEADER.size:
        raise ValueError("the frame stash ends in the middle of a record")
    t, size = _HEADER.unpack(head)
    data = fh.read(size)
    if len(data) < size:
        raise ValueError("the frame stash ends in the middle of a frame")
    return t, data
