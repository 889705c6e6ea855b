"""Single frames out of a video by time: the app's frame scrubber and the printable report.

`frame_at` seeks to the key frame before `t` and decodes forward, so a frame late in a
long video costs one GOP of decoding, not the whole file. Times are seconds from the
video's first frame, as in report.json and timeseries.csv.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vision.video_open import BadVideo, clockwise_deg, open_input, upright, video_stream


def frame_at(path: str | Path, t: float, *, max_side: int | None = None) -> np.ndarray:
    """The upright RGB frame on screen at `t` seconds (the last one starting at or before it).

    Times before the first frame give the first frame; times past the end give the last.
    ``max_side`` shrinks the frame so its long side is at most that many pixels.
    """
    import av

    path = Path(path)
    container = open_input(path)
    try:
        stream = video_stream(container, path)
        tb = float(stream.time_base or 0)
        if not tb:
            raise BadVideo(path, "the video has no time base", kind="damaged")
        origin = stream.start_time or 0
        target = origin + int(max(t, 0.0) / tb)
        container.seek(target, stream=stream, backward=True, any_frame=False)
        chosen = None
        try:
            for frame in container.decode(stream):
                pts = frame.pts if frame.pts is not None else frame.dts
                if chosen is not None and pts is not None and pts > target:
                    break
                chosen = frame
                if pts is not None and pts >= target:
                    break
        except av.FFmpegError as exc:
            if chosen is None:
                raise BadVideo(path, "the video is damaged", kind="damaged") from exc
        if chosen is None:
            raise BadVideo(path, "the video has no frames", kind="empty")
        size = _size(chosen.width, chosen.height, max_side)
        if size is None:
            rgb = chosen.to_ndarray(format="rgb24")
        else:
            rgb = chosen.to_ndarray(format="rgb24", width=size[0], height=size[1])
        return upright(rgb, clockwise_deg(chosen.rotation))
    finally:
        container.close()


def _size(width: int, height: int, max_side: int | None) -> tuple[int, int] | None:
    if max_side is None or max(width, height) <= max_side:
        return None
    s = max_side / max(width, height)
    return max(2, round(width * s)), max(2, round(height * s))


def encode_jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    """JPEG bytes of an RGB frame, for images in the page and the printable report."""
    import cv2

    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the frame as JPEG")
    return buf.tobytes()
