"""Live path speed at 640×480: frame rates and per-frame latency, as a webcam would see them.

    python benchmarks/live_bench.py [--clip ../shared/data/clips/kettlebell/0016c_1.mp4]
                                    [--seconds 20] [--out docs/benchmarks-live.md]

A real clip is fitted into 640×480 frames (pillarboxed, like a phone-held-upright lifter
on a laptop webcam) and replayed at 30 fps in real time, exactly as the Live page's WebRTC
callback drives `vision.live.LiveSession`: per frame, `submit` (hand to the worker,
dropping a waiting frame) and `annotate` (draw the newest result), with the page's own
callback and its frame conversions. Reported:

- camera / shown fps: frames through the callback per second (what the viewer sees);
- added latency: time the callback adds to each shown frame (YUV→RGB, submit, annotate,
  RGB→frame);
- analysed fps: pose results per second (how often the skeleton, count and cue update);
- result latency: a frame's arrival to its result (how old the drawn skeleton is);
- dropped: frames the worker skipped because it was busy.

Then every frame synchronously (`process`), to show where the time goes: pose model,
numbers (angles, rules, cues), drawing; with the model settings the live path can use.
Not a test: timings belong in a benchmark. The machine's load is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO.parent / "shared" / "data" / "clips" / "kettlebell" / "0016c_1.mp4"
W, H = 640, 480
FPS = 30.0


def webcam_frames(clip: Path, seconds: float) -> list[np.ndarray]:
    """The clip's frames at 30 fps, fitted into 640×480 (aspect kept, black borders)."""
    import cv2

    from vision.video import iter_frames

    out = []
    for frame in iter_frames(clip, max_fps=FPS):
        if frame.t >= seconds:
            break
        h, w = frame.rgb.shape[:2]
        k = min(W / w, H / h)
        nw, nh = int(round(w * k)) & ~1, int(round(h * k)) & ~1
        canvas = np.zeros((H, W, 3), np.uint8)
        x0, y0 = (W - nw) // 2, (H - nh) // 2
        canvas[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(frame.rgb, (nw, nh))
        out.append(canvas)
    return out


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_live(frames: list[np.ndarray], **session_kw: object) -> dict[str, float]:
    """Replay in real time through the Live page's frame callback (`_FrameHandler`)."""
    import av

    from backcheck.ui.live_page import _FrameHandler
    from vision.live import LiveSession

    # WebRTC hands the callback decoded YUV 4:2:0 frames.
    received = [
        av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p") for f in frames
    ]
    added: list[float] = []
    results = []
    with LiveSession("hinge", **session_kw) as session:  # type: ignore[arg-type]
        callback = _FrameHandler(session)
        session.start()
        t0 = time.perf_counter()
        for i, frame in enumerate(received):
            due = t0 + i / FPS
            time.sleep(max(0.0, due - time.perf_counter()))
            c0 = time.perf_counter()
            callback(frame)
            added.append((time.perf_counter() - c0) * 1000.0)
            while not session.results.empty():
                results.append(session.results.get_nowait())
        wall = time.perf_counter() - t0
        time.sleep(0.3)
        while not session.results.empty():
            results.append(session.results.get_nowait())
        dropped = session.dropped
        model = session.model_name
    lat = [r.latency_ms for r in results]
    return {
        "model": model,  # type: ignore[dict-item]
        "shown_fps": len(frames) / wall,
        "added_ms_p50": _pct(added, 50),
        "added_ms_p95": _pct(added, 95),
        "analysed_fps": len(results) / wall,
        "result_ms_p50": _pct(lat, 50),
        "result_ms_p95": _pct(lat, 95),
        "dropped_pct": 100.0 * dropped / max(len(frames), 1),
        "reps": float(results[-1].state.reps) if results else 0.0,
    }


def run_sync(frames: list[np.ndarray], **session_kw: object) -> dict[str, float]:
    """Every frame through `process` and `annotate`: where the time goes."""
    from vision.live import LiveSession

    pose, numbers, draw = [], [], []
    with LiveSession("hinge", **session_kw) as session:  # type: ignore[arg-type]
        for i, rgb in enumerate(frames):
            r = session.process(rgb, i / FPS)
            d0 = time.perf_counter()
            session.annotate(rgb, r)
            draw.append((time.perf_counter() - d0) * 1000.0)
            pose.append(r.pose_ms)
            numbers.append(r.analysis_ms)
        reps = session.latest().state.reps if session.latest() else 0  # type: ignore[union-attr]
    per_frame = [p + n for p, n in zip(pose, numbers, strict=True)]
    return {
        "pose_ms_p50": _pct(pose, 50),
        "pose_ms_p95": _pct(pose, 95),
        "numbers_ms_p50": _pct(numbers, 50),
        "draw_ms_p50": _pct(draw, 50),
        "max_fps": 1000.0 / statistics.median(per_frame),
        "reps": float(reps),
    }


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--model", default="auto")
    p.add_argument("--out", type=Path, default=None, help="also write the table here (markdown)")
    args = p.parse_args(argv)

    from vision.live import choose_live_model

    model = choose_live_model(args.model)
    frames = webcam_frames(args.clip, args.seconds)
    given = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python benchmarks/live_bench.py", *given])
    lines = [
        "# Live path: frame rate and latency at 640×480",
        "",
        f"Command: `{command.strip()}`",
        "",
        "Definitions (see the script's docstring): *shown fps* — camera frames through the "
        "Live page's frame callback per second; *added latency* — time that callback adds "
        "to each shown frame; *analysed fps* — pose results per second (how often skeleton, "
        "count and cue update); *result latency* — a frame's arrival to its result, "
        "waiting included (how old the drawn skeleton is); *dropped* — frames skipped "
        "because the worker was busy. Targets: ≥ 25 fps, ≤ 60 ms added latency.",
        "",
        f"Clip: {args.clip.name}, {len(frames)} frames at {FPS:.0f} fps fitted into {W}×{H}; "
        f"model: {model}; {platform.processor() or platform.machine()}, "
        f"Python {sys.version.split()[0]}.",
        f"Load before: {_load()}.",
        "",
        "Real time, through the Live page's frame callback (30 camera frames a second):",
        "",
        "| pose settings | shown fps | added latency p50 / p95 | analysed fps "
        "| result latency p50 / p95 | dropped | reps |",
        "|---|---|---|---|---|---|---|",
    ]
    configs = [
        ("1 person, masks (live default)", {"num_poses": 1, "masks": True}),
        ("1 person, no masks", {"num_poses": 1, "masks": False}),
        ("2 people, masks (upload settings)", {"num_poses": 2, "masks": True}),
    ]
    for name, kw in configs:
        r = run_live(frames, model=model, **kw)
        lines.append(
            f"| {name} | {r['shown_fps']:.1f} | {r['added_ms_p50']:.1f} / "
            f"{r['added_ms_p95']:.1f} ms | {r['analysed_fps']:.1f} | "
            f"{r['result_ms_p50']:.0f} / {r['result_ms_p95']:.0f} ms | "
            f"{r['dropped_pct']:.0f}% | {r['reps']:.0f} |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        "Every frame, one after another (where the time goes):",
        "",
        "| pose settings | pose model p50 / p95 | numbers p50 | drawing p50 "
        "| frames/s if every frame is analysed | reps |",
        "|---|---|---|---|---|---|",
    ]
    for name, kw in configs[:2]:
        s = run_sync(frames, model=model, **kw)
        lines.append(
            f"| {name} | {s['pose_ms_p50']:.1f} / {s['pose_ms_p95']:.1f} ms | "
            f"{s['numbers_ms_p50']:.1f} ms | {s['draw_ms_p50']:.1f} ms | "
            f"{s['max_fps']:.1f} | {s['reps']:.0f} |"
        )
        print(lines[-1], flush=True)
    lines += ["", f"Load after: {_load()}."]
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
