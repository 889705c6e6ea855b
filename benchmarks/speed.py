"""Speed and memory of backcheck against a naive MediaPipe loop, measured in one run.

    python benchmarks/speed.py [--clips ../shared/data/clips] [--long] [--out docs/benchmarks.md]
    python benchmarks/speed.py --models lite full heavy [--out docs/models/speed.md]
    python benchmarks/speed.py --pose-modes deadlift/yfgd_bad_02.mp4

For each clip, in separate processes (so peak RSS is each one's own), each timed from
after its imports (MediaPipe, PyAV, OpenCV) to the end of its work:
- backcheck: `analyze_video` end to end (pose, analysis, report, annotated.mp4);
- naive: the loop most MediaPipe projects write — OpenCV read → BGR→RGB → PoseLandmarker
  `detect_for_video` on every frame → draw → OpenCV write;
- floor: the pose model's own time on exactly the frames backcheck analyses, with
  backcheck's options and models (time spent inside the models' calls only): once on one
  core, and once run as backcheck runs it, one span of the video on each core (the
  slowest span's time inside the models).
`--fast` measures `backcheck analyze --fast` instead (one pose followed, a headcount about
once a second: `vision.headcount`), its floor with the same calls.
`--long` adds runs on a 1-minute and a 10-minute 1080p clip made from a shared clip: memory,
and the pipeline/floor ratio against the parallel floor.
`--models` instead compares pose models on the same clips in one run: for each model,
backcheck end to end and the model's own time a frame (the one-core floor).
`--pose-modes CLIP` measures the model's CPU time a frame on the clip's first analysed
frames in the running modes backcheck could use (VIDEO with two poses, IMAGE with one,
VIDEO with one), for lite and full.
Not part of the test run: timings belong in benchmarks, with ratios from the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIPS = REPO.parent / "shared" / "data" / "clips"
CLIPS = [
    "kettlebell/0016c_1.mp4",  # 60 fps portrait phone video
    "kettlebell/0016r_1.mp4",  # 60 fps
    "deadlift/yfgd_good_01.mp4",  # 30 fps 1080p mpeg4
    "deadlift/yfgd_bad_02.mp4",  # 30 fps 1080p h264, busy gym
    "plank/forearm_plank_correct.mp4",  # 30 fps 720p
    "other/gym_deadlift_hevc.mp4",  # 24 fps HEVC
]


# ----------------------------------------------------------------- child processes


def _peak_rss_mb() -> float:
    """This process's own peak RSS.

    Linux's `ru_maxrss` survives exec: a child started by a parent that once held 1 GB
    (the parent encodes the long clips) reports that 1 GB. `VmHWM` starts afresh at exec.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """CPU seconds this process has used, all threads, user and system."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_backcheck(clip: str, model: str, out: str) -> dict[str, float]:
    import av  # noqa: F401  (imported before the clock starts, as the naive loop's are)
    import cv2  # noqa: F401

    from backcheck.pipeline import analyze_video
    from vision.mediapipe_import import import_mediapipe

    import_mediapipe()  # as an analysis imports it (without pyplot), before the clock

    t0, cpu0 = time.perf_counter(), _cpu_s()
    result = analyze_video(clip, out_dir=out, model=model, follow_one=_fast())
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        "cpu_s": _cpu_s() - cpu0,
        "analysed_frames": len(result.analysis.track),
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_naive(clip: str, model: str, out: str) -> dict[str, float]:
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python.core.base_options import BaseOptions
    from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions
    from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
        VisionTaskRunningMode,
    )

    t0, cpu0 = time.perf_counter(), _cpu_s()
    cap = cv2.VideoCapture(clip)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    landmarker = PoseLandmarker.create_from_options(
        PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=model),
            running_mode=VisionTaskRunningMode.VIDEO,
        )
    )
    n = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        res = landmarker.detect_for_video(
            mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(n * 1000 / fps)
        )
        for lms in res.pose_landmarks:
            for p in lms:
                cv2.circle(bgr, (int(p.x * w), int(p.y * h)), 3, (0, 255, 0), -1)
        writer.write(bgr)
        n += 1
    writer.release()
    cap.release()
    landmarker.close()
    return {
        "wall_s": time.perf_counter() - t0,
        "cpu_s": _cpu_s() - cpu0,
        "frames": n,
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_floor(clip: str, model: str, out: str) -> dict[str, float]:
    """The model's time on backcheck's frames: one instance, then one per core in parallel."""
    return _floor(clip, model, one_core=True)


def child_floor_parallel(clip: str, model: str, out: str) -> dict[str, float]:
    """The model's time on backcheck's frames, one instance per core in parallel only."""
    return _floor(clip, model, one_core=False)


def _fast() -> bool:
    """Whether this run measures `backcheck analyze --fast` (set by `--fast` for children)."""
    return os.environ.get(_FAST_ENV) == "1"


_FAST_ENV = "BACKCHECK_BENCH_FAST"


def _floor(clip: str, model: str, *, one_core: bool) -> dict[str, float]:
    import threading

    from backcheck.pipeline import DEFAULT_MAX_FPS, POSE_LONG_SIDE, UPLOAD_NUM_POSES
    from vision.headcount import open_span_models
    from vision.pose_pass import pose_workers, split_spans
    from vision.video import iter_frames, probe

    def inside_model(
        span: tuple[float, float | None], times: list[float], k: int, cpu: list[float] | None = None
    ) -> None:
        # The same models and calls as a span of the pose pass (with --fast: one pose
        # followed, a headcount about once a second, vision.headcount); loads not counted.
        with open_span_models(Path(model), num_poses=UPLOAD_NUM_POSES, follow_one=_fast()) as est:
            for frame in iter_frames(
                clip,
                max_fps=DEFAULT_MAX_FPS,
                scale_to=POSE_LONG_SIDE,
                start_s=span[0],
                end_s=span[1],
            ):
                t0, cpu0 = time.perf_counter(), time.process_time()
                est.detect(frame.rgb, frame.t)
                times[k] += time.perf_counter() - t0
                if cpu is not None:
                    cpu[0] += time.process_time() - cpu0

    one = [float("nan")]
    cpu = [0.0]  # CPU seconds inside the model, one instance on the whole clip
    if one_core:
        one[0] = 0.0
        inside_model((0.0, None), one, 0, cpu)
    spans = split_spans(probe(clip).duration_s, DEFAULT_MAX_FPS, pose_workers())
    each = [0.0] * len(spans)
    threads = [
        threading.Thread(target=inside_model, args=(span, each, k)) for k, span in enumerate(spans)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return {
        "pose_s": one[0],
        "pose_cpu_s": cpu[0] if one_core else float("nan"),
        "pose_parallel_s": max(each),
        "spans": len(spans),
    }


CHILDREN = {
    "backcheck": child_backcheck,
    "naive": child_naive,
    "floor": child_floor,
    "floor_parallel": child_floor_parallel,
}


# Whole-command runs a clip: one start-up varies by ±10% from run to run on this machine.
COMMAND_RUNS = 3


def time_command(clip: Path, model: Path | None, out: Path, *, checkout: Path = REPO) -> float:
    """Wall seconds of the whole `backcheck analyze` command, from starting the process to
    its exit: the interpreter, every import and the model's load count, as a coach
    waiting on it sees them. `checkout`: the source tree it runs from (`python -m`
    imports the package from the directory it runs in); `model` None: the default."""
    cmd = [sys.executable, "-m", "backcheck.cli", "analyze", str(clip), "--out", str(out)]
    cmd += ["--model", str(model)] if model is not None else []
    cmd += ["--quiet", *(["--fast"] if _fast() else [])]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=checkout, check=False)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"backcheck analyze on {clip.name} from {checkout} failed:\n{proc.stderr[-2000:]}"
        )
    return took


def _run_child(kind: str, clip: Path, model: Path, out: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, str(clip), str(model), str(out)]
    env = dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} on {clip.name} failed:\n{proc.stderr[-2000:]}")
    return dict(json.loads(lines[-1]))


# ----------------------------------------------------------------- the long clips


def make_long_clip(src: Path, dest: Path, seconds: float, size: tuple[int, int]) -> None:
    """Loop `src` (scaled to `size`, 30 fps) into an H.264 clip `seconds` long."""
    import av

    from vision.video import iter_frames

    base = [f.rgb for f in iter_frames(src, max_fps=30)]
    with av.open(str(dest), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "28"}
        n = int(seconds * 30)
        for i in range(n):
            # Play forward then backward so the loop has no jump cut.
            k = i % (2 * len(base) - 2) if len(base) > 1 else 0
            rgb = base[k] if k < len(base) else base[2 * len(base) - 2 - k]
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(*size)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


# ----------------------------------------------------------------- report


def clip_duration(clip: Path) -> float:
    from vision.video import probe

    return probe(clip).duration_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=DEFAULT_CLIPS)
    parser.add_argument("--model", default="full")
    parser.add_argument("--long", action="store_true", help="add the 1- and 10-minute runs")
    parser.add_argument("--out", type=Path, default=None, help="also write Markdown here")
    parser.add_argument("--only", nargs="*", default=None, help="clip paths to run")
    parser.add_argument(
        "--models", nargs="+", default=None, help="compare these models (lite full heavy)"
    )
    parser.add_argument("--pose-modes", default=None, help="clip to compare running modes on")
    parser.add_argument(
        "--fast", action="store_true", help="measure `backcheck analyze --fast` (vision.headcount)"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, clip, model, out = args.child
        print(json.dumps(CHILDREN[kind](clip, model, out)))
        return 0

    from models.provision import resolve_model

    if args.fast:
        os.environ[_FAST_ENV] = "1"  # read by the child processes
    if args.models:
        return compare_models(args.models, args.clips, args.only, args.out)
    if args.pose_modes:
        return compare_pose_modes(args.clips / args.pose_modes)
    model = resolve_model(args.model).path
    lines = [
        "# Speed and memory benchmark",
        "",
        f"Command: `python benchmarks/speed.py{' --fast' if args.fast else ''}"
        f"{' --long' if args.long else ''}"
        f"{' --only ' + ' '.join(args.only) if args.only else ''}` "
        f"({platform.machine()}, {os.cpu_count()} cores, model `{args.model}`).",
        "",
        "Times run from after each process's imports to the end of its work. naive: OpenCV "
        "read → RGB → `detect_for_video` on every frame → draw → OpenCV write. floor: the pose "
        "model alone (time inside `detect_for_video`) on the frames backcheck analyses, run as "
        "backcheck runs it, one model instance per core on spans of the video; floor 1 core: "
        "one instance. pipeline/floor = backcheck s / floor s. CPU s: the process's CPU "
        "time, all threads; ×RT on free cores = length / (backcheck CPU s / cores), what the "
        "run reaches with the cores to itself (the machine is shared, so wall times are "
        "inflated and noisy: compare within this table only). command: the whole `backcheck "
        "analyze` command timed from starting its process to its exit (interpreter, imports "
        f"and model load included), the median of {COMMAND_RUNS} runs; the short clips' ×RT "
        "target is read from it.",
        "",
        "| clip | fps | length s | naive s | naive ×RT | backcheck s | backcheck ×RT | "
        "command s | command ×RT | "
        "speed-up | floor 1 core s | floor s | pipeline/floor | naive CPU s | "
        "backcheck CPU s | ×RT on free cores | naive RSS MB | backcheck RSS MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- | --- | --- | --- |",
    ]
    print("\n".join(lines), flush=True)
    got: list[tuple[str, float, float, float, float]] = []  # clip, fps, ×RT, speed-up, p/f
    long_rt: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for rel in args.only or CLIPS:
            clip = args.clips / rel
            fps = _probe_fps(clip)
            length = clip_duration(clip)
            naive = _run_child("naive", clip, model, tmp / "naive.mp4")
            ours = _run_child("backcheck", clip, model, tmp / "bc")
            floor = _run_child("floor", clip, model, tmp / "floor")
            command = statistics.median(
                time_command(clip, model, tmp / "command") for _ in range(COMMAND_RUNS)
            )
            row = (
                f"| {rel} | {fps:.0f} | {length:.1f} | {naive['wall_s']:.1f} | "
                f"{length / naive['wall_s']:.2f} | {ours['wall_s']:.1f} | "
                f"{length / ours['wall_s']:.2f} | {command:.1f} | {length / command:.2f} | "
                f"{naive['wall_s'] / ours['wall_s']:.2f} | "
                f"{floor['pose_s']:.1f} | {floor['pose_parallel_s']:.1f} | "
                f"{ours['wall_s'] / floor['pose_parallel_s']:.2f} | "
                f"{naive['cpu_s']:.1f} | {ours['cpu_s']:.1f} | "
                f"{length / (ours['cpu_s'] / (os.cpu_count() or 1)):.2f} | "
                f"{naive['peak_rss_mb']:.0f} | {ours['peak_rss_mb']:.0f} |"
            )
            lines.append(row)
            print(row, flush=True)
            got.append(
                (
                    rel,
                    fps,
                    length / command,
                    naive["wall_s"] / ours["wall_s"],
                    ours["wall_s"] / floor["pose_parallel_s"],
                )
            )
        if args.long:
            lines += ["", "## Memory on long 1080p clips", ""]
            lines += [
                "floor: as above, one model instance per core (the one-core floor is left out "
                "here for time).",
                "",
                "| clip | length s | backcheck s | ×RT | floor s | pipeline/floor | peak RSS MB |",
                "| --- | --- | --- | --- | --- | --- | --- |",
            ]
            print("\n".join(lines[-6:]), flush=True)
            src = args.clips / "deadlift" / "yfgd_good_01.mp4"
            for minutes in (1, 10):
                long_clip = tmp / f"long_{minutes}min.mp4"
                make_long_clip(src, long_clip, minutes * 60.0, (1920, 1080))
                ours = _run_child("backcheck", long_clip, model, tmp / f"bc{minutes}")
                floor = _run_child("floor_parallel", long_clip, model, tmp / "floor")
                row = (
                    f"| {minutes} min 1080p (from yfgd_good_01) | {minutes * 60} | "
                    f"{ours['wall_s']:.1f} | {minutes * 60 / ours['wall_s']:.2f} | "
                    f"{floor['pose_parallel_s']:.1f} | "
                    f"{ours['wall_s'] / floor['pose_parallel_s']:.2f} | "
                    f"{ours['peak_rss_mb']:.0f} |"
                )
                lines.append(row)
                print(row, flush=True)
                long_rt.append((minutes, minutes * 60 / ours["wall_s"]))
    lines += targets_table(got, long_rt)
    print("\n".join(lines[lines.index("## Targets (issue 14) in this run") :]), flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


def targets_table(
    got: list[tuple[str, float, float, float, float]], long_rt: list[tuple[int, float]]
) -> list[str]:
    """The issue-14 targets, read from this run's rows."""

    def listed(values: list[tuple[str, float]]) -> str:
        return ", ".join(f"{v:.2f} ({Path(name).stem})" for name, v in values) or "not run"

    def met(ok: bool, values: list[tuple[str, float]]) -> str:
        return "not run" if not values else ("yes" if ok else "no")

    ratio = [(c, pf) for c, _, _, _, pf in got]
    short30 = [(c, rt) for c, fps, rt, _, _ in got if round(fps) == 30]
    speedup = [(c, su) for c, _, _, su, _ in got]
    longs = [(f"{m} min 1080p", rt) for m, rt in long_rt]
    return [
        "",
        "## Targets (issue 14) in this run",
        "",
        "| target | this run | met? |",
        "| --- | --- | --- |",
        f"| pipeline/floor ≤ 1.25 on every clip | {listed(ratio)} | "
        f"{met(all(v <= 1.25 for _, v in ratio), ratio)} |",
        f"| ≥ 2× real time on short 30 fps clips (the whole command) | {listed(short30)} | "
        f"{met(all(v >= 2.0 for _, v in short30), short30)} |",
        f"| ≥ 1.5× the naive loop on every clip | {listed(speedup)} | "
        f"{met(all(v >= 1.5 for _, v in speedup), speedup)} |",
        f"| ≥ 3× real time on 1 and 10 min of 1080p at 30 fps | {listed(longs)} | "
        f"{met(all(v >= 3.0 for _, v in longs), longs)} |",
    ]


def compare_models(keys: list[str], clips: Path, only: list[str] | None, out: Path | None) -> int:
    """The models' speed side by side on the same clips, one model after another."""
    from models.provision import resolve_model

    paths = {key: resolve_model(key).path for key in keys}
    rels = only or CLIPS
    command = f"python benchmarks/speed.py --models {' '.join(keys)}"
    if only:
        command += f" --only {' '.join(only)}"
    lines = [
        "# Pose models compared: speed",
        "",
        f"Command: `{command}` ({platform.machine()}, {os.cpu_count()} cores).",
        "",
        "backcheck: `analyze_video` end to end with the model (two poses, masks, at most 15 "
        "analysed frames a second). model CPU ms/frame: CPU time inside `detect_for_video` "
        "per analysed frame, one instance. floor: wall time inside the model on the same "
        "frames, one instance per core as backcheck runs them. pipeline/floor = backcheck s / "
        "floor s. The machine is shared (six engineers on 2 cores), so wall times are noisy "
        "and inflated: CPU seconds are steadier, and `×RT on free cores` = length / "
        "(backcheck CPU s / cores) is what the run would reach with the cores to itself. "
        "Compare within this table only.",
        "",
        "| model | clip | length s | analysed frames | model CPU ms/frame | floor s | "
        "backcheck s | backcheck ×RT | pipeline/floor | backcheck CPU s | ×RT on free cores "
        "| peak RSS MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    print("\n".join(lines), flush=True)
    # Per clip, the models back to back: a shared machine's speed drifts within the hour.
    cores = os.cpu_count() or 1
    totals = {key: [0.0, 0.0, 0.0, 0.0, 0.0] for key in keys}  # length, frames, pose, wall, cpu
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for rel in rels:
            clip = clips / rel
            length = clip_duration(clip)
            for key in keys:
                ours = _run_child("backcheck", clip, paths[key], tmp / f"bc-{key}")
                floor = _run_child("floor", clip, paths[key], tmp / "floor")
                frames = ours["analysed_frames"]
                row = (
                    f"| {key} | {rel} | {length:.1f} | {frames:.0f} | "
                    f"{1000 * floor['pose_cpu_s'] / frames:.1f} | "
                    f"{floor['pose_parallel_s']:.1f} | "
                    f"{ours['wall_s']:.1f} | {length / ours['wall_s']:.2f} | "
                    f"{ours['wall_s'] / floor['pose_parallel_s']:.2f} | {ours['cpu_s']:.1f} | "
                    f"{length / (ours['cpu_s'] / cores):.2f} | {ours['peak_rss_mb']:.0f} |"
                )
                lines.append(row)
                print(row, flush=True)
                got = (length, frames, floor["pose_cpu_s"], ours["wall_s"], ours["cpu_s"])
                for i, value in enumerate(got):
                    totals[key][i] += value
    lines += [
        "",
        "All clips together:",
        "",
        "| model | length s | analysed frames | model CPU ms/frame | backcheck s | "
        "backcheck ×RT | backcheck CPU s | ×RT on free cores |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, (length, frames, pose_cpu, wall, cpu) in totals.items():
        lines.append(
            f"| {key} | {length:.1f} | {frames:.0f} | {1000 * pose_cpu / frames:.1f} | "
            f"{wall:.1f} | {length / wall:.2f} | {cpu:.1f} | {length / (cpu / cores):.2f} |"
        )
    print("\n".join(lines[-len(totals) - 5 :]), flush=True)
    if out:
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


def compare_pose_modes(clip: Path, n_frames: int = 40) -> int:
    """CPU ms a frame inside the model, lite and full, in three running modes, on the same
    frames (CPU time, so other work on a shared machine does not count)."""
    import itertools

    import mediapipe as mp
    import numpy as np
    from mediapipe.tasks.python.core.base_options import BaseOptions
    from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions
    from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
        VisionTaskRunningMode as Mode,
    )

    from backcheck.pipeline import DEFAULT_MAX_FPS, POSE_LONG_SIDE
    from models.provision import resolve_model
    from vision.video import iter_frames

    frames = [
        np.ascontiguousarray(f.rgb)
        for f in itertools.islice(
            iter_frames(clip, max_fps=DEFAULT_MAX_FPS, scale_to=POSE_LONG_SIDE), n_frames
        )
    ]
    print(f"{clip.name}, {len(frames)} frames; CPU ms a frame inside the model")
    print("| model | mode | poses | CPU ms/frame | people found |")
    print("| --- | --- | --- | --- | --- |")
    for key in ("lite", "full"):
        for mode, poses in ((Mode.VIDEO, 2), (Mode.IMAGE, 1), (Mode.VIDEO, 1)):
            options = PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(resolve_model(key).path)),
                running_mode=mode,
                num_poses=poses,
                output_segmentation_masks=True,
            )
            spent, found = 0.0, 0
            with PoseLandmarker.create_from_options(options) as landmarker:
                for i, rgb in enumerate(frames):
                    image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
                    cpu0 = time.process_time()
                    if mode == Mode.VIDEO:
                        result = landmarker.detect_for_video(image, round(i * 1000 / 15))
                    else:
                        result = landmarker.detect(image)
                    spent += time.process_time() - cpu0
                    found += len(result.pose_landmarks)
            print(
                f"| {key} | {mode.name} | {poses} | {1000 * spent / len(frames):.1f} | "
                f"{found}/{len(frames)} |",
                flush=True,
            )
    return 0


def _probe_fps(clip: Path) -> float:
    from vision.video import probe

    return probe(clip).fps


if __name__ == "__main__":
    raise SystemExit(main())
