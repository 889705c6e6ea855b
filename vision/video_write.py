"""Video output: H.264 MP4 that browsers play while loading, with each frame's own time.

Frames are written with explicit timestamps, so the output keeps the input's duration and
its variable-frame-rate timing. The writer holds back one frame: a frame's duration is only
known when the next one (or `close`) arrives, and the last frame's duration is what makes
the total length match the input.

PyAV is imported inside methods so importing this module stays cheap.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from av.container import OutputContainer
    from av.packet import Packet
    from av.video.frame import VideoFrame as AVFrame
    from av.video.stream import VideoStream

__all__ = ["VideoWriter"]

# Output clock: 90 kHz, the usual video time base; 0.011 ms resolution.
_TIME_BASE = Fraction(1, 90_000)


def _even_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Output size: long side at most `max_side` (never enlarged), both sides even."""
    scale = 1.0
    if max_side is not None and max(width, height) > max_side:
        scale = max_side / max(width, height)
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


class VideoWriter:
    """Encode RGB frames at given times to an H.264 (yuv420p, BT.709) MP4 with +faststart.

    Use as a context manager::

        with VideoWriter(out_path) as writer:
            for frame in iter_frames(src):
                writer.write(draw(frame.rgb), frame.t)
            writer.close(end_t=info.duration_s)

    Parameters
    ----------
    path
        Output file (``.mp4``); overwritten.
    max_side
        Downscale so the long side is at most this many pixels (720 keeps encoding fast);
        ``None`` keeps the input size. Sides are rounded to even numbers, as yuv420p needs.
    crf, preset
        libx264 quality (lower is better; 23 is its default) and speed preset.
    fps
        Nominal rate for the encoder's rate control and for the last frame's duration when
        nothing else tells it; ``None`` takes it from the first two timestamps.
    threads
        Encoder threads; 0 lets libx264 choose (all cores).
    reproducible
        The same frames always give the same file (the evaluation's copies,
        `vision.transforms`). libx264's AVX-512 code varies from run to run, even on one
        thread (the same frames coded twice decoded up to 50 levels apart; with its
        code capped at AVX2, or without assembly, every run gave the same bytes), so on
        a CPU with AVX-512 the cap is set. The other paths give the same bytes as each
        other and the same quality.

    Times are seconds (``t >= 0``, strictly increasing) and are kept as they are: a first
    frame at ``t = 0.5`` starts the output at 0.5 s, as in the input.
    On ``close`` the last frame lasts until ``end_t`` (give the input's ``duration_s``), or
    for the previous frame's interval when ``end_t`` is not given. Leaving the ``with``
    block by an exception abandons the file and deletes it.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        max_side: int | None = 720,
        crf: int = 23,
        preset: str = "veryfast",
        fps: float | None = None,
        threads: int = 0,
        reproducible: bool = False,
    ) -> None:
        if max_side is not None and max_side < 2:
            raise ValueError(f"max_side must be at least 2, got {max_side}")
        if fps is not None and not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.max_side = max_side
        self.crf = crf
        self.preset = preset
        self.fps = fps
        self.threads = threads
        self.reproducible = reproducible
        self.size: tuple[int, int] | None = None  # output (width, height), set by first write
        self.frames_written = 0
        self._input_shape: tuple[int, ...] | None = None
        self._container: OutputContainer | None = None
        self._stream: VideoStream | None = None
        self._pending: tuple[AVFrame, int] | None = None
        self._last_pts: int | None = None
        self._last_duration: int | None = None
        self._durations: dict[int, int] = {}
        self._closed = False

    # ------------------------------------------------------------------ public

    def write(self, rgb: np.ndarray | AVFrame, t: float) -> None:
        """Queue a frame to be shown from `t` seconds on.

        `rgb` is (H, W, 3) uint8, or what `prepare` made of it (so the conversion can run
        in another thread while this one encodes).
        """
        if self._closed:
            raise ValueError("VideoWriter is closed")
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"t must be a finite time >= 0 s, got {t}")
        frame = self.prepare(rgb) if isinstance(rgb, np.ndarray) else rgb
        if self.size is None or (frame.width, frame.height) != self.size:
            raise ValueError(f"frame is {frame.width}x{frame.height}, not {self.size}")
        pts = round(t / _TIME_BASE)
        if self._last_pts is not None and pts <= self._last_pts:
            raise ValueError(f"times must increase: {t} s is not after the previous frame")
        if self._pending is not None:
            self._emit(pts - self._pending[1])
        self._pending = (frame, pts)
        self._last_pts = pts

    def prepare(self, rgb: np.ndarray) -> AVFrame:
        """Scale and convert `rgb` (H, W, 3) uint8 into the encoder's BT.709 yuv420p frame.

        The first frame fixes the output size; later frames must have the same shape.
        Safe to call from another thread than `write` once the first frame is prepared.
        """
        import av

        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"rgb must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
        if self._input_shape is None:
            self._input_shape = rgb.shape
            self.size = _even_size(rgb.shape[1], rgb.shape[0], self.max_side)
        elif rgb.shape != self._input_shape:
            raise ValueError(f"frame size changed from {self._input_shape} to {rgb.shape}")
        assert self.size is not None
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        return frame.reformat(
            width=self.size[0],
            height=self.size[1],
            format="yuv420p",
            dst_colorspace="ITU709",
            dst_color_range="MPEG",
        )

    def close(self, end_t: float | None = None) -> None:
        """Finish the file: the last frame lasts until `end_t` s (see class docs)."""
        if self._closed:
            return
        if self._pending is not None:
            last_pts = self._pending[1]
            if end_t is not None and round(end_t / _TIME_BASE) > last_pts:
                duration = round(end_t / _TIME_BASE) - last_pts
            elif self._last_duration is not None:
                duration = self._last_duration
            else:
                duration = round(1 / (self.fps or 30.0) / _TIME_BASE)
            self._emit(duration)
        self._closed = True
        if self._container is not None:
            assert self._stream is not None
            for packet in self._stream.encode(None):
                self._mux(packet)
            self._container.close()

    def abort(self) -> None:
        """Stop without finishing and delete the partial file."""
        self._closed = True
        if self._container is not None:
            try:
                self._container.close()
            finally:
                self.path.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # ------------------------------------------------------------------ internals

    def _open(self, first_duration: int) -> None:
        """Create the container and encoder once the first frame's duration is known."""
        import av

        assert self.size is not None
        # Rate-control hint only; kept in a sane range whatever the first gap was.
        fps = self.fps or min(max(1 / float(first_duration * _TIME_BASE), 1.0), 240.0)
        rate = Fraction(fps).limit_denominator(1001)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        container = av.open(
            str(self.path), mode="w", format="mp4", container_options={"movflags": "+faststart"}
        )
        stream = container.add_stream("libx264", rate=rate, options=self._x264_options())
        stream.width, stream.height = self.size
        stream.pix_fmt = "yuv420p"
        stream.time_base = _TIME_BASE
        cc = stream.codec_context
        cc.time_base = _TIME_BASE
        cc.thread_count = self.threads
        cc.colorspace = 1  # AVCOL_SPC_BT709
        cc.color_primaries = 1  # AVCOL_PRI_BT709
        cc.color_trc = 1  # AVCOL_TRC_BT709
        cc.color_range = 1  # AVCOL_RANGE_MPEG (limited)
        self._container, self._stream = container, stream

    def _x264_options(self) -> dict[str, str]:
        options = {"crf": str(self.crf), "preset": self.preset}
        if self.reproducible and _has_avx512():
            options["x264-params"] = "asm=AVX2"
        return options

    def _emit(self, duration: int) -> None:
        """Encode the held-back frame with `duration` ticks and mux what comes out."""
        assert self._pending is not None
        frame, pts = self._pending
        self._pending = None
        if self._container is None:
            self._open(duration)
        assert self._stream is not None
        frame.pts = pts
        frame.time_base = _TIME_BASE
        frame.duration = duration
        self._durations[pts] = duration
        self._last_duration = duration
        for packet in self._stream.encode(frame):
            self._mux(packet)
        self.frames_written += 1

    def _mux(self, packet: Packet) -> None:
        """Give each packet its frame's duration (the encoder reorders frames) and mux it."""
        assert self._container is not None
        if packet.pts is not None and packet.pts in self._durations:
            packet.duration = self._durations.pop(packet.pts)
        self._container.mux(packet)


@functools.cache
def _has_avx512() -> bool:
    """Whether this CPU reports AVX-512 (Linux; elsewhere assumed not)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return "avx512" in flags and "avx2" in flags.split()
