"""annotated.mp4: the analysed frames with skeleton, back edge, readouts and flag alerts.

The frames are the ones the pose model saw (from the pose pass's `FrameStash`), at its
size: the video is not decoded a second time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from metrics.analysis import TrackAnalysis
from metrics.cues import cue_table
from metrics.report import Flag
from vision.annotate import FrameNotes, SkeletonAnnotator, readout_panel

if TYPE_CHECKING:
    from av.video.frame import VideoFrame as AVFrame

    from vision.video_read import VideoFrame


# libx264 "superfast" at quality 26: half of "veryfast"'s encoding CPU on the 640 px frames
# (gym_deadlift_hevc: 3.1 against 6.3 ms a frame) for a file the same size as "veryfast"
# at 23 gave (~0.5 MB for its 10 s). "ultrafast" halves the CPU again but makes files
# 2-4x bigger. The drawing, not fine texture, is what the video is for.
ANNOTATED_PRESET = "superfast"
ANNOTATED_CRF = 26


def frame_notes(analysis: TrackAnalysis, i: int) -> FrameNotes:
    """Readouts and the active alert for analysed frame `i`."""
    a = analysis.angles
    t = float(a.t[i])
    head = None
    if analysis.exercise == "plank":
        hold = analysis.result.hold
        if hold is not None and hold.start_s <= t:
            head = f"Hold {min(t, hold.end_s) - hold.start_s:.1f} s"
    else:
        rep_col = analysis.result.columns.get("rep")
        if rep_col is not None and rep_col[i] > 0:
            head = f"Rep {int(rep_col[i])} of {len(analysis.result.reps)}"
    spine = analysis.result.columns.get("spine_flexion_deg")
    lines = readout_panel(
        analysis.exercise,
        head,
        trunk=a.trunk[i],
        hip=a.hip[i],
        knee=a.knee[i],
        plank_line=a.plank_line[i],
        neck=a.neck[i],
        back_bend=math.nan if spine is None else spine[i],
    )
    return FrameNotes(tuple(lines), _alert(analysis.result.flags, t))


def _alert(flags: list[Flag], t: float) -> str | None:
    table = cue_table()
    for f in flags:
        if f.start_s <= t <= f.end_s:
            name = str(table.get(f.code, {}).get("name", f.code.replace("_", " ")))
            where = f" (rep {f.rep})" if f.rep is not None else ""
            return f"{name.capitalize()}{where}"
    return None


def render_annotated(
    source: Iterable[VideoFrame],
    out_path: Path,
    analysis: TrackAnalysis,
    *,
    max_fps: float | None,
    end_t: float,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Draw on the analysed frames from `source` and write the H.264 copy to `out_path`.

    `source` yields the track's frames in order, indexed from 0 (as `FrameStash.frames`).

    Three stages overlap on the cores: reading, drawing with the colour conversion, and
    encoding; a few frames wait between them, never more.
    """
    from vision.prefetch import prefetch
    from vision.video import VideoWriter

    track = analysis.track
    annotator = SkeletonAnnotator()
    t_track = track.t
    frames = prefetch(iter(source))

    def drawn(writer: VideoWriter) -> Iterator[tuple[AVFrame, float]]:
        for frame in frames:
            k = frame.rgb.shape[1] / track.width
            # The source holds the analysed frames in order: frame i is the track's row i.
            i = frame.index
            matched = i < len(t_track) and abs(t_track[i] - frame.t) < 1e-3
            back = track.back_contour[i] * k if track.back_contour is not None and matched else None
            rgb = annotator.annotate(
                frame.rgb,
                track.image[i, :, :2] * k if matched else None,
                track.visibility[i] if matched else None,
                back,
                frame_notes(analysis, i) if matched else FrameNotes(()),
                in_place=True,
            )
            yield writer.prepare(rgb), frame.t

    with VideoWriter(out_path, fps=max_fps, preset=ANNOTATED_PRESET, crf=ANNOTATED_CRF) as writer:
        ready = prefetch(drawn(writer))
        try:
            for yuv, t in ready:
                writer.write(yuv, t)
                if progress and end_t > 0:
                    progress(min(t / end_t, 1.0))
        finally:
            ready.close()
            frames.close()
        writer.close(end_t=end_t)
