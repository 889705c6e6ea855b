"""`backcheck` command line: analyze a video, list models, evaluate on labelled clips,
batch-analyse many clips on Ray."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from models.registry import FAST_PASS_HELP, MODE_DEFAULTS

# Exit codes: 1 for a video or model that can't be analysed, 2 for a mistake in the
# arguments (as argparse does), 130 when interrupted.
EXIT_BAD_INPUT, EXIT_USAGE = 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (the usage is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"backcheck: {message} (see {self.prog} --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="backcheck", description="Form feedback for hip hinges and planks from video."
    )
    # --verbose before or after the subcommand; the subcommand's copy must not reset it.
    parser.add_argument("--verbose", action="store_true", help=_VERBOSE_HELP)
    common = _Parser(add_help=False)
    common.add_argument(
        "--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE_HELP
    )
    sub = parser.add_subparsers(dest="command", required=True)

    analyze = sub.add_parser(
        "analyze", parents=[common], help="analyse one video and write a report folder"
    )
    analyze.add_argument("video", type=Path)
    analyze.add_argument("--exercise", choices=["auto", "hinge", "plank"], default="auto")
    analyze.add_argument("--out", type=Path, default=None, help="output folder")
    analyze.add_argument(
        "--model", default=MODE_DEFAULTS["upload"], help="lite, full, heavy or a .task path"
    )
    analyze.add_argument("--profile", type=Path, default=None, help="client profile (TOML)")
    analyze.add_argument("--no-video", action="store_true", help="skip annotated.mp4")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")
    analyze.add_argument("--fast", action="store_true", help=FAST_PASS_HELP)

    sub.add_parser("models", parents=[common], help="list pose models and whether they are ready")

    live = sub.add_parser(
        "live", parents=[common], help="live check on a local camera in a window (q to finish)"
    )
    live.add_argument("--camera", default="0", help="camera index, or a video file or URL")
    live.add_argument("--exercise", choices=["hinge", "plank"], default="hinge")
    live.add_argument("--model", default="auto", help="auto (live's default), lite, full, …")
    live.add_argument("--profile", type=Path, default=None, help="client profile (TOML)")
    live.add_argument("--out", type=Path, default=None, help="write the set's report here")
    live.add_argument("--no-window", action="store_true", help="analyse without showing video")
    live.add_argument(
        "--every-frame", action="store_true", help="with a file: analyse every frame, not real time"
    )

    ev = sub.add_parser(
        "evaluate", parents=[common], help="score the analysis on the labelled clips (clips.csv)"
    )
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
        help="invariance copies, comma-separated: "
        "mirror,small480,short480,rotated,fps30,reencode (all) or none",
    )
    ev.add_argument("--fast", action="store_true", help=FAST_PASS_HELP)
    ev.add_argument(
        "--cached-only",
        action="store_true",
        help="leave out (and list) transformed copies whose track is not cached yet",
    )

    from backcheck.batch import add_parser as add_batch_parser

    add_batch_parser(sub, parents=[common])
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `backcheck` console script; returns the exit code."""
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as done:  # --help, or a one-line usage error
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with _native_logs(shown=args.verbose):
        try:
            return _run(args)
        except BrokenPipeError:  # output piped into `head` and the like: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0


def _run(args: argparse.Namespace) -> int:
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
            args.clips,
            args.tracks,
            args.out,
            args.model,
            None,
            transforms,
            args.cached_only,
            follow_one=args.fast,
        )
    if args.command == "batch":
        from backcheck.batch import batch_command

        return batch_command(args)
    return 2


def _analyze(args: argparse.Namespace) -> int:
    from backcheck.pipeline import analyze_video, default_out_dir
    from backcheck.summary import summary_text
    from metrics.errors import AnalysisError
    from metrics.profile import ClientProfile
    from models.provision import resolve_model
    from models.registry import find_spec

    # Mistakes in the arguments are found before the video is read.
    try:
        profile = ClientProfile.load(args.profile) if args.profile else None
        _check_out_dir(args.out if args.out is not None else default_out_dir(args.video))
        if find_spec(args.model) is None:
            resolve_model(args.model)  # a .task path: checked here, nothing is fetched
    except AnalysisError as err:
        print(f"backcheck: {err}", file=sys.stderr)
        return EXIT_USAGE
    bar = None if args.quiet or not sys.stderr.isatty() else _ProgressBar()
    try:
        result = analyze_video(
            args.video,
            out_dir=args.out,
            exercise=args.exercise,
            model=args.model,
            profile=profile,
            write_video=not args.no_video,
            progress=bar.update if bar else None,
            follow_one=args.fast,
        )
    except (AnalysisError, OSError) as err:
        if bar:
            bar.clear()
        reason = err if isinstance(err, AnalysisError) else _os_reason(err)
        print(f"backcheck: {reason}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        if bar:
            bar.clear()
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


def _check_out_dir(out: Path) -> None:
    """`AnalysisError` unless `out` is a folder that exists or can be made, and is writable.

    Nothing is created: the nearest existing folder on the way is tried with a temp file.
    """
    from metrics.errors import AnalysisError

    if out.exists() and not out.is_dir():
        raise AnalysisError(f"{out} is a file; give --out a folder for the report.")
    base = out
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise AnalysisError(f"The report folder {out} can't be made: {base} is a file.")
    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as err:
        why = f"{base} is not writable ({err.strerror or err})"
        what = "can't be written to" if base == out else "can't be made"
        raise AnalysisError(
            f"The report folder {out} {what}: {why}; choose another with --out."
        ) from err


def _os_reason(err: OSError) -> str:
    """An OS error as one line in the tool's words (a full disk, a folder gone)."""
    import errno

    if err.errno == errno.ENOSPC:
        return "the disk is full: free some space and run again."
    where = f" ({err.filename})" if err.filename else ""
    return f"could not write the report{where}: {err.strerror or err}."


_VERBOSE_HELP = "also show the pose model's own log lines (TensorFlow Lite, MediaPipe)"


@contextmanager
def _native_logs(*, shown: bool) -> Iterator[None]:
    """Unless `shown`, hide what native libraries write to stderr (file descriptor 2).

    TensorFlow Lite and MediaPipe log from C++ straight to fd 2, from whichever thread
    creates a model, and ignore GLOG_minloglevel/TF_CPP_MIN_LOG_LEVEL. So fd 2 is pointed
    at /dev/null for the run, and Python's `sys.stderr` (our messages, the progress bar,
    a traceback if one ever happens) at a copy of the real stderr.
    """
    if shown:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no fd 2 at all: nothing to hide
        yield
        return
    try:
        python_on_fd2 = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # e.g. captured by a test harness
        python_on_fd2 = False
    old_stderr = sys.stderr
    if python_on_fd2:
        sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        if python_on_fd2:
            sys.stderr.close()
            sys.stderr = old_stderr
        os.dup2(saved, 2)
        os.close(saved)


class _ProgressBar:
    """A one-line progress bar on stderr: the stage and the time left."""

    def __init__(self, width: int = 30) -> None:
        import shutil

        from backcheck.progress import ProgressClock

        self.width = width
        self.clock = ProgressClock()
        self.columns = max(40, shutil.get_terminal_size((100, 20)).columns - 1)

    def update(self, fraction: float, label: str) -> None:
        fraction = max(0.0, min(1.0, fraction))
        n = int(round(fraction * self.width))
        bar = "#" * n + "-" * (self.width - n)
        text = f"[{bar}] {fraction * 100:3.0f}% {self.clock.line(fraction, label)}"
        sys.stderr.write("\r" + text[: self.columns].ljust(self.columns))
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r" + " " * self.columns + "\r")
        sys.stderr.flush()


if __name__ == "__main__":
    raise SystemExit(main())
