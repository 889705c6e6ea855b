"""`backcheck` command line: analyze a video, list models, evaluate on labelled clips."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backcheck", description="Form feedback for hip hinges and planks from video."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    analyze = sub.add_parser("analyze", help="analyse one video and write a report folder")
    analyze.add_argument("video", type=Path)
    analyze.add_argument("--exercise", choices=["auto", "hinge", "plank"], default="auto")
    analyze.add_argument("--out", type=Path, default=None, help="output folder")
    analyze.add_argument("--model", default="full", help="lite, full, heavy or a .task path")
    analyze.add_argument("--profile", type=Path, default=None, help="client profile (TOML)")
    analyze.add_argument("--no-video", action="store_true", help="skip annotated.mp4")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")

    sub.add_parser("models", help="list pose models and whether they are ready")

    live = sub.add_parser("live", help="live check on a local camera in a window (q to finish)")
    live.add_argument("--camera", default="0", help="camera index, or a video file or URL")
    live.add_argument("--exercise", choices=["hinge", "plank"], default="hinge")
    live.add_argument("--model", default="auto", help="auto (fastest at hand), lite, full, …")
    live.add_argument("--profile", type=Path, default=None, help="client profile (TOML)")
    live.add_argument("--out", type=Path, default=None, help="write the set's report here")
    live.add_argument("--no-window", action="store_true", help="analyse without showing video")
    live.add_argument(
        "--every-frame", action="store_true", help="with a file: analyse every frame, not real time"
    )

    ev = sub.add_parser("evaluate", help="score the analysis on the labelled clips (clips.csv)")
    ev.add_argument(
        "--clips", type=Path, default=None, help="folder with clips.csv (../shared/data)"
    )
    ev.add_argument(
        "--tracks",
        type=Path,
        default=None,
        help="track cache folder, reused and filled (~/.cache/backcheck/eval-tracks)",
    )
    ev.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    ev.add_argument("--model", default="full", help="pose model when a track is missing")
    ev.add_argument(
        "--transforms",
        default=None,
        help="invariance copies, comma-separated: mirror,small480,rotated,fps30 (all) or none",
    )
    ev.add_argument(
        "--cached-only",
        action="store_true",
        help="leave out (and list) transformed copies whose track is not cached yet",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `backcheck` console script; returns the exit code."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "analyze":
        return _analyze(args)
    if args.command == "models":
        return _models()
    if args.command == "live":
        from backcheck.live import live_command

        return live_command(args)
    if args.command == "evaluate":
        from backcheck.evaluation.command import evaluate_command

        transforms = None
        if args.transforms is not None:
            names = [t.strip() for t in args.transforms.split(",") if t.strip()]
            transforms = [] if names == ["none"] else names
        return evaluate_command(
            args.clips, args.tracks, args.out, args.model, None, transforms, args.cached_only
        )
    return 2


def _analyze(args: argparse.Namespace) -> int:
    from backcheck.pipeline import analyze_video
    from backcheck.summary import summary_text
    from metrics.errors import AnalysisError
    from metrics.profile import ClientProfile

    bar = None if args.quiet or not sys.stderr.isatty() else _ProgressBar()
    try:
        profile = ClientProfile.load(args.profile) if args.profile else None
        result = analyze_video(
            args.video,
            out_dir=args.out,
            exercise=args.exercise,
            model=args.model,
            profile=profile,
            write_video=not args.no_video,
            progress=bar.update if bar else None,
        )
    except AnalysisError as err:
        if bar:
            bar.clear()
        print(f"backcheck: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("backcheck: interrupted", file=sys.stderr)
        return 130
    if bar:
        bar.clear()
    print(summary_text(result.report))
    print(f"Wrote {result.out_dir}")
    return 0


def _models() -> int:
    from models.provision import describe

    for line in describe():
        print(line)
    return 0


class _ProgressBar:
    """A one-line progress bar on stderr."""

    def __init__(self, width: int = 30) -> None:
        self.width = width

    def update(self, fraction: float, label: str) -> None:
        n = int(round(max(0.0, min(1.0, fraction)) * self.width))
        bar = "#" * n + "-" * (self.width - n)
        sys.stderr.write(f"\r[{bar}] {fraction * 100:5.1f}% {label[:40]:<40}")
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r" + " " * (self.width + 52) + "\r")
        sys.stderr.flush()


if __name__ == "__main__":
    raise SystemExit(main())
