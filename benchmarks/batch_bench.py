"""Clips per hour: `backcheck batch` against a shell loop of `backcheck analyze`, and
`backcheck batch --from-tracks` against both, over the same clips in the same run.

    nice -n 5 python benchmarks/batch_bench.py [--clips ../shared/data/clips] [--repeat 2]
        [--workers N] [--work /tmp/batch-bench] [--json results.json]

Each of the three is run as the command a coach or a cron job would run (a new process,
timed from start to exit, Python start-up, Ray start-up and model loading included):
- loop: `backcheck analyze CLIP --out DIR --quiet` once per clip, one after another (each
  analysis already spreads one clip over every core);
- batch: `backcheck batch CLIPS --out DIR --workers N` (Ray started inside the command,
  a worker per core, each keeping its model loaded);
- from-tracks: `backcheck batch --from-tracks DIR --out DIR2` on the batch's output.
The batch's index also gives each clip's own work time (`work_s`), which leaves Ray's
start-up out: the steady rate a long batch approaches. `--repeat` lists each clip that
many times (as copies under new names, so each is real work, not a skipped duplicate).
Not part of the test run: timings belong in benchmarks, with ratios from the same run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIPS = REPO.parent / "shared" / "data" / "clips"
CLIPS = [
    "deadlift/posereader_good.mp4",  # 2 s, 600x600
    "deadlift/yfgd_good_02.mp4",  # 4 s, 1080p
    "deadlift/yfgd_bad_01.mp4",  # 3.4 s, 1080p
    "other/gym_deadlift_hevc.mp4",  # 10 s, HEVC 640x360
    "kettlebell/0016k_1.mp4",  # 18.5 s, 60 fps portrait phone video
    "plank/forearm_plank_correct.mp4",  # 16 s, 720p plank
]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "backcheck.cli", *args]


_cpu_children = 0.0  # CPU seconds of the `backcheck analyze` processes of the loop


def _timed(cmd: list[str]) -> float:
    global _cpu_children
    # Ray starts its workers 15 steps nicer than itself; here they get the loop's priority.
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAY_worker_niceness": "0"}
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cmd[3] == "analyze":
        _cpu_children += after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return wall


def _index(out: Path) -> list[dict[str, str]]:
    with open(out / "index.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _probe_seconds(clips: list[Path]) -> float:
    sys.path.insert(0, str(REPO))
    from vision.video import probe

    return sum(probe(c).duration_s for c in clips)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=DEFAULT_CLIPS)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds, in alternating order (the load drifts)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/batch-bench"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    inputs = args.work / "inputs"
    inputs.mkdir(parents=True)
    clips: list[Path] = []
    for k in range(args.repeat):
        for name in CLIPS:
            src = args.clips / name
            dst = inputs / f"{k}-{src.name}"
            # A copy with one byte appended: a new content hash, the same video.
            dst.write_bytes(src.read_bytes() + bytes([k]))
            clips.append(dst)
    n, video_s = len(clips), _probe_seconds(clips)

    loop_s = batch_s = tracks_s = clip_work = track_work = clip_cpu = track_cpu = 0.0
    for r in range(args.rounds):
        walls = {}
        for step in ("loop", "batch", "tracks")[:: 1 if r % 2 == 0 else -1]:
            if step == "loop":
                walls[step] = sum(
                    _timed(
                        _cli("analyze", str(c), "--out", str(args.work / f"loop-{i}"), "--quiet")
                    )
                    for i, c in enumerate(clips)
                )
            elif step == "batch":
                batch_out = args.work / f"batch-{r}"
                walls[step] = _timed(_cli("batch", str(inputs), "--out", str(batch_out),
                                          "--quiet", "--workers", str(args.workers)))  # fmt: skip
            else:  # re-scores the previous round's batch output in the reversed rounds
                src = args.work / f"batch-{r if r % 2 == 0 else r - 1}"
                tracks_out = args.work / f"rescored-{r}"
                walls[step] = _timed(_cli("batch", "--from-tracks", str(src), "--out",
                                          str(tracks_out), "--quiet", "--workers",
                                          str(args.workers)))  # fmt: skip
        rows = _index(args.work / f"batch-{r}")
        assert len(rows) == n and all(row["status"] == "ok" for row in rows), rows
        track_rows = _index(tracks_out)
        assert len(track_rows) == n and all(row["status"] == "ok" for row in track_rows)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in walls.items()))
        loop_s += walls["loop"]
        batch_s += walls["batch"]
        tracks_s += walls["tracks"]
        clip_work += sum(float(row["work_s"]) for row in rows)
        track_work += sum(float(row["work_s"]) for row in track_rows)
        clip_cpu += sum(float(row["cpu_s"]) for row in rows)
        track_cpu += sum(float(row["cpu_s"]) for row in track_rows)
    n_runs = n * args.rounds
    result = {
        "clips": n,
        "rounds": args.rounds,
        "video_s": round(video_s, 1),
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loop_wall_s": round(loop_s, 1),
        "batch_wall_s": round(batch_s, 1),
        "tracks_wall_s": round(tracks_s, 1),
        "batch_clip_work_s": round(clip_work, 1),
        "tracks_clip_work_s": round(track_work, 2),
        "loop_cpu_s": round(_cpu_children, 1),
        "batch_clip_cpu_s": round(clip_cpu, 1),
        "tracks_clip_cpu_s": round(track_cpu, 2),
    }
    per_h = {
        "shell loop of `backcheck analyze`": n_runs / loop_s * 3600,
        "`backcheck batch` (end to end)": n_runs / batch_s * 3600,
        "`backcheck batch`, steady (index work_s)": n_runs / (clip_work / args.workers) * 3600,
        "`backcheck batch --from-tracks` (end to end)": n_runs / tracks_s * 3600,
        "`--from-tracks`, steady (index work_s)": n_runs / (track_work / args.workers) * 3600,
    }
    loop_rate = per_h["shell loop of `backcheck analyze`"]
    print(
        f"{n} clips, {video_s:.0f} s of video, {args.rounds} rounds, {args.workers} workers, "
        f"{os.cpu_count()} cores; wall s summed over the rounds"
    )
    print("| run | wall s | clips/h | × loop |\n|---|---:|---:|---:|")
    walls = [loop_s, batch_s, clip_work / args.workers, tracks_s, track_work / args.workers]
    for (name, rate), wall in zip(per_h.items(), walls, strict=True):
        print(f"| {name} | {wall:.1f} | {rate:.0f} | {rate / loop_rate:.2f} |")
    print(
        f"per clip, wall s in a worker: pose pass + analysis {clip_work / n_runs:.2f}, re-score "
        f"from track {track_work / n_runs:.3f} ({track_work / clip_work * 100:.1f} % of it)"
    )
    print(
        f"per clip, CPU s: `backcheck analyze` process {_cpu_children / n_runs:.2f}, batch worker "
        f"{clip_cpu / n_runs:.2f}, re-score {track_cpu / n_runs:.3f} "
        f"({track_cpu / clip_cpu * 100:.1f} % of the batch's); per second of video: "
        f"{_cpu_children / (video_s * args.rounds):.2f}, {clip_cpu / (video_s * args.rounds):.2f}"
    )
    result["clips_per_hour"] = {k: round(v) for k, v in per_h.items()}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
