"""The whole `backcheck analyze` command, an earlier commit against this checkout, in turns.

    python benchmarks/command_ab.py REV CLIP [CLIP ...] [--runs 5]

REV is checked out in a temporary git worktree; both sides run with this checkout's
Python environment (`python -m backcheck.cli` imports the package from the directory it
runs in), alternating before/after so a change in the machine's load falls on both. Wall
seconds from starting each process to its exit: the interpreter, every import and the
model load count. Not part of the test run: timings belong in benchmarks.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import DEFAULT_CLIPS, REPO, clip_duration, time_command  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the earlier commit")
    parser.add_argument("clips", nargs="+", help="paths under --clips-dir, or files")
    parser.add_argument("--clips-dir", type=Path, default=DEFAULT_CLIPS)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        before = tmp / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(before), args.rev],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        try:
            print(f"| clip (length) | before ({args.rev}) s | after s | ×RT before → after |")
            print("| --- | --- | --- | --- |")
            for rel in args.clips:
                clip = args.clips_dir / rel if not Path(rel).is_file() else Path(rel)
                times: dict[str, list[float]] = {"before": [], "after": []}
                for _ in range(args.runs):
                    for side, checkout in (("before", before), ("after", REPO)):
                        took = time_command(clip, None, tmp / f"out-{side}", checkout=checkout)
                        times[side].append(took)
                length = clip_duration(clip)
                b, a = statistics.mean(times["before"]), statistics.mean(times["after"])
                print(
                    f"| {rel} ({length:.1f} s) | {b:.2f} | {a:.2f} | "
                    f"{length / b:.2f} → {length / a:.2f} |",
                    flush=True,
                )
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(before)], cwd=REPO, check=False
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
