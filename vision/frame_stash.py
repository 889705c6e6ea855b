"""The analysed frames, kept on disk as JPEG from the pose pass to the annotated video.

The pose pass already decodes, rotates and shrinks every analysed frame; decoding the
video a second time for annotated.mp4 cost as much CPU as drawing and encoding it (a
1080p minute: ~10 s of both cores). Compressing the frames the model saw costs ~1 ms each
and reading them back ~1.5 ms, and memory stays flat: nothing is held but the file.

Each span of the pose pass writes its own file (one writer per thread); reading goes
through the spans in order, so frames come back in time order. A file is a sequence of
records: time (float64 seconds), JPEG length (uint32), JPEG bytes.
"""

from __future__ import annotations

import struct
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
    """Frames of a video, in spans written separately and read back in span order."""

    def __init__(self, folder: Path, quality: int = JPEG_QUALITY) -> None:
        self.folder = Path(folder)
        self.quality = quality
        self._spans: dict[int, Path] = {}

    def writer(self, span: int) -> StashWriter:
        """Open span `span`'s file for writing (again from empty if it was written)."""
        path = self.folder / f"span-{span:03d}.frames"
        self._spans[span] = path
        return StashWriter(path, self.quality)

    def frames(self) -> Iterator[VideoFrame]:
        """Every stashed frame in span order, as upright RGB with its time.

        `index` counts the stashed frames from 0.
        """
        import cv2

        index = 0
        for span in sorted(self._spans):
            with open(self._spans[span], "rb") as fh:
                while record := _read_record(fh):
                    t, data = record
                    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                    if bgr is None:
                        raise ValueError(f"{self._spans[span].name}: a frame is damaged")
                    yield VideoFrame(index, t, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                    index += 1


class StashWriter:
    """Appends frames to one span's file; use as a context manager or call `close`."""

    def __init__(self, path: Path, quality: int) -> None:
        self._fh: BinaryIO = open(path, "wb")  # noqa: SIM115 (closed by close())
        self.quality = quality
        self.count = 0

    def add(self, t: float, rgb: np.ndarray) -> None:
        """Compress and append the upright RGB frame taken at `t` seconds."""
        import cv2

        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise ValueError(f"frame at {t:.3f} s could not be compressed")
        self._fh.write(_HEADER.pack(t, len(data)))
        self._fh.write(data.tobytes())
        self.count += 1

    def close(self) -> None:
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
