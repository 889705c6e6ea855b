"""Video in and out with PyAV: one import point for the pipeline, CLI and app.

- `probe(path)` checks a file and describes it (`VideoInfo`), raising `BadVideo` with a
  one-line reason for missing, non-video, truncated, damaged, empty, too long or too big
  files.
- `iter_frames(path)` streams upright RGB `VideoFrame`s timed by the container's PTS.
- `VideoWriter` encodes frames at given times to an H.264 MP4 that browsers play.

See `vision.video_read` and `vision.video_write` for the details and conventions.
"""

from __future__ import annotations

from vision.video_read import BadVideo, BadVideoKind, VideoFrame, VideoInfo, iter_frames, probe
from vision.video_write import VideoWriter

__all__ = [
    "BadVideo",
    "BadVideoKind",
    "VideoFrame",
    "VideoInfo",
    "VideoWriter",
    "iter_frames",
    "probe",
]
