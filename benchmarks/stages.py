"""Where backcheck's CPU goes, stage by stage, in one `analyze_video` run per clip.

    python benchmarks/stages.py CLIP [CLIP ...] [--model full] [--long-1080p SECONDS]

CPU seconds are load-insensitive (a busy machine slows the wall clock, not the CPU a
stage needs), so the breakdown is steady on a shared machine. Each stage is timed with
the CPU clock of the thread that runs it (`time.thread_time`), by wrapping the functions
that do the work; the pose pass and the rendering each also get the whole process's CPU
across them, so work on threads no wrapper sees (MediaPipe's and libx264's own threads,
the GIL hand-offs) shows up as "other". Imports are timed in a fresh process.

`--long-1080p S` also runs an S-second 1080p 30 fps clip made from yfgd_good_01 as
`speed.py --long` makes it.
Not part of the test run: timings belong in benchmarks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_CLIPS = REPO.parent / "shared" / "data" / "clips"


def _cpu() -> float:
    return time.process_time()


def child(clip: str, model: str) -> dict[str, Any]:
    """The stages one after another on one thread's worth of work each (process CPU), then
    `analyze_video` end to end in the same process for the total."""
    import av  # noqa: F401
    import cv2  # noqa: F401
    import mediapipe  # noqa: F401

    from backcheck.pipeline import (
        DEFAULT_MAX_FPS,
        analyze_video,
    )
    from metrics.analysis import analyze_track
    from vision.frame_stash import FrameStash
    from vision.pose_pass import pose_workers, split_spans
    from vision.render import render_annotated
    from vision.video import probe

    info = probe(clip)
    spans = split_spans(info.duration_s, DEFAULT_MAX_FPS, pose_workers())
    full = (info.width, info.height)
    got: dict[str, float] = {}
    frames = 0

    def cpu_of(stage: str, fn: Callable[[], Any]) -> Any:
        c0 = _cpu()
        out = fn()
        got[stage] = got.get(stage, 0.0) + _cpu() - c0
        return out

    with tempfile.TemporaryDirectory() as tmp:
        stash = FrameStash(Path(tmp))
        for k, (start, end) in enumerate(spans):
            frames += _span_stages(clip, model, k, start, end, stash, full, cpu_of)
        cpu_of("stash JPEG read", lambda: sum(1 for _ in stash.frames()))
        # The end-to-end run, for the total and for the analysis and rendering.
        c0, w0 = _cpu(), time.perf_counter()
        result = analyze_video(clip, out_dir=Path(tmp) / "out", model=model, write_video=False)
        got["= analyze_video without annotated.mp4"] = _cpu() - c0
        wall_no_video = time.perf_counter() - w0
        cpu_of("analysis (analyze_track)", lambda: analyze_track(result.analysis.track))
        w0 = time.perf_counter()
        cpu_of(
            "render annotated.mp4 (stash read, draw, encode)",
            lambda: render_annotated(
                stash.frames(),
                Path(tmp) / "a.mp4",
                result.analysis,
                max_fps=DEFAULT_MAX_FPS,
                end_t=info.duration_s,
            ),
        )
        render_wall = time.perf_counter() - w0
        c0, w0 = _cpu(), time.perf_counter()
        analyze_video(clip, out_dir=Path(tmp) / "out2", model=model)
        got["= analyze_video"] = _cpu() - c0
        wall = time.perf_counter() - w0
    return {
        "stages": got,
        "frames": frames,
        "wall": wall,
        "wall_no_video": wall_no_video,
        "render_wall": render_wall,
    }


def _span_stages(
    clip: str,
    model: str,
    k: int,
    start: float,
    end: float | None,
    stash: Any,
    full: tuple[int, int],
    cpu_of: Callable[[str, Callable[[], Any]], Any],
) -> int:
    """The pose pass's stages on span `k`, one after another; the frames analysed."""
    import mediapipe as mp

    from backcheck.pipeline import DEFAULT_MAX_FPS, POSE_LONG_SIDE, UPLOAD_NUM_POSES
    from vision.pose import PoseEstimator, poses_from_result
    from vision.video import iter_frames

    cpu_of("decode every frame (no conversion)", lambda: _decode_only(clip, start, end))
    frames = cpu_of(
        "decode + scale to 640 + RGB (analysed frames)",
        lambda: list(
            iter_frames(
                clip, max_fps=DEFAULT_MAX_FPS, scale_to=POSE_LONG_SIDE, start_s=start, end_s=end
            )
        ),
    )
    with stash.writer(k) as w:
        cpu_of("stash JPEG write", lambda: [w.add(f.t, f.rgb) for f in frames])
    est = cpu_of("model load", lambda: PoseEstimator(model, num_poses=UPLOAD_NUM_POSES))
    landmarker = est._landmarker
    raw = cpu_of(
        "model (detect_for_video)",
        lambda: [
            landmarker.detect_for_video(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=f.rgb), round(f.t * 1000)
            )
            for f in frames
        ],
    )
    cpu_of(
        "landmarks + back_edges",
        lambda: [
            poses_from_result(r, f.rgb.shape[1], f.rgb.shape[0], full)
            for r, f in zip(raw, frames, strict=True)
        ],
    )
    cpu_of("model close", est.close)
    return len(frames)


def _decode_only(clip: str, start: float, end: float | None) -> int:
    """Demux and decode every frame of the span (threaded, as the pose pass does), no
    conversion: the decoder's own share."""
    import av

    n = 0
    with av.open(clip) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = float(stream.time_base)
        origin = stream.start_time or 0
        if start > 0:
            container.seek(origin + int((start - 0.25) / tb), stream=stream, backward=True)
        for frame in container.decode(stream):
            t = (frame.pts - origin) * tb
            if end is not None and t >= end:
                break
            n += 1
    return n


def import_cpu() -> float:
    """CPU seconds for a fresh process to import what `analyze_video` needs."""
    code = (
        "import time; c=time.process_time();"
        "import av, cv2, mediapipe, backcheck.pipeline, vision.render, vision.pose_pass;"
        "print(time.process_time()-c)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return float(out.stdout.strip().splitlines()[-1])


def table(name: str, got: dict[str, Any], imports: float) -> str:
    stages: dict[str, float] = got["stages"]
    frames = got["frames"]
    rows = [f"#### {name} ({frames} analysed frames)", "", "| stage | CPU s | CPU ms/frame |"]
    rows.append("| --- | --- | --- |")
    for label, v in [("imports (fresh process)", imports), *stages.items()]:
        rows.append(f"| {label} | {v:.2f} | {1000 * v / frames:.1f} |")
    model = stages["model (detect_for_video)"]
    total = stages["= analyze_video"]
    rows.append(f"| non-model CPU / model CPU (analyze_video) | {(total - model) / model:.2f} | |")
    rows.append(
        f"| wall s: analyze_video / without annotated.mp4 / rendering alone | "
        f"{got['wall']:.2f} / {got['wall_no_video']:.2f} / {got['render_wall']:.2f} | |"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", help="paths under --clips-dir, or files")
    parser.add_argument("--clips-dir", type=Path, default=DEFAULT_CLIPS)
    parser.add_argument("--model", default="full")
    parser.add_argument("--long-1080p", type=float, default=None)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    from models.provision import resolve_model

    model = str(resolve_model(args.model).path)
    imports = import_cpu()
    with tempfile.TemporaryDirectory() as tmp:
        clips = [(c, args.clips_dir / c if not Path(c).exists() else Path(c)) for c in args.clips]
        if args.long_1080p:
            sys.path.insert(0, str(REPO / "benchmarks"))
            from speed import make_long_clip

            long_clip = Path(tmp) / "long.mp4"
            make_long_clip(
                args.clips_dir / "deadlift/yfgd_good_01.mp4",
                long_clip,
                args.long_1080p,
                (1920, 1080),
            )
            clips.append((f"{args.long_1080p:.0f} s 1080p 30 fps (from yfgd_good_01)", long_clip))
        for name, path in clips:
            cmd = [sys.executable, __file__, "--child", str(path), model]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode != 0 or not lines:
                raise RuntimeError(f"{name} failed:\n{proc.stderr[-2000:]}")
            print(table(name, json.loads(lines[-1]), imports), "\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
