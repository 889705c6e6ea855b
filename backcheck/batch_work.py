"""What a batch worker does with one job: analyse a clip, or re-score a saved track.

A clip is analysed by `pipeline.analyze_video` into the job's own folder, exactly as
`backcheck analyze` writes it. A saved track is re-scored with today's rules by
`metrics.analysis` alone (no video, no pose model), into report.json and timeseries.csv
beside a copy of the track. Either way the result is an index `Row`; nothing raised by one
clip escapes (a bad file is `bad_input` with the CLI's one-line reason, anything else is
`failed` with the error).
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from backcheck.batch_index import Row, row_from_report
from backcheck.batch_inputs import Job
from metrics.errors import AnalysisError

if TYPE_CHECKING:
    from metrics.analysis import TrackAnalysis
    from metrics.profile import ClientProfile
    from metrics.report import Report

Exercise = Literal["auto", "hinge", "plank"]
# The exercise_reason analyze_track gives when the exercise was not detected but told.
_TOLD = "chosen by the user"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(job: Job, out_root: Path, model: str, settings: str) -> Row:
    """Do one job and say what became of it; never raises for a bad clip."""
    started, cpu = time.monotonic(), time.process_time()
    out = job.out_dir(out_root)
    base: dict[str, Any] = {
        "input": job.input,
        "client": job.client,
        "kind": job.kind,
        "content_sha256": job.key or "",
        "settings": settings,
        "worker": worker_name(),
    }
    try:
        profile = _profile(job.profile)
        if job.kind == "video":
            report = _analyse_clip(job, out, model, profile)
        else:
            report = rescore_folder(job.source, out, cast(Exercise, job.exercise), profile)
    except AnalysisError as err:
        status, reason = "bad_input", str(err)
    except Exception as err:  # one clip's failure never stops the batch
        status, reason = "failed", f"{type(err).__name__}: {err}"
    else:
        return row_from_report(report, out_dir=str(out), **_times(started, cpu), **base)
    return Row(
        status=status,
        reason=reason.splitlines()[0] if reason else status,
        **_times(started, cpu),
        **base,
    )


def _times(started: float, cpu: float) -> dict[str, Any]:
    return {
        "work_s": round(time.monotonic() - started, 3),
        "cpu_s": round(time.process_time() - cpu, 3),
        "rss_mb": _rss_mb(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _rss_mb() -> float:
    """This process's resident memory now (Linux; 0 elsewhere): flat from clip to clip
    when nothing of one clip outlives it."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return 0.0


def _profile(path: Path | None) -> ClientProfile | None:
    if path is None:
        return None
    from metrics.profile import ClientProfile

    try:
        return ClientProfile.load(path)
    except (OSError, ValueError) as err:
        raise AnalysisError(f"client profile {path.name} cannot be read: {err}") from err


def _analyse_clip(job: Job, out: Path, model: str, profile: ClientProfile | None) -> Report:
    from backcheck.pipeline import analyze_video

    if out.exists():
        shutil.rmtree(out)  # what an attempt killed half-way left behind
    result = analyze_video(
        job.source,
        out_dir=out,
        exercise=cast(Exercise, job.exercise),
        model=model,
        profile=profile,
        workers=1,  # one clip per core: the batch runs a worker per core
        follow_one=job.fast,
    )
    return result.report


def rescore_track(
    src: Path, exercise: Exercise = "auto", profile: ClientProfile | None = None
) -> tuple[Report, TrackAnalysis]:
    """The analysis of a report folder judged again from its track.npz with today's rules
    and `profile`, written nowhere.

    The source and model parts of the old report are kept; the exercise is the one the
    old run was told, else detected again (unless `exercise` says).
    """
    from backcheck.pipeline import load_report
    from metrics.analysis import analyze_track, build_report
    from metrics.track import PoseTrack

    try:
        old = load_report(src / "report.json")
        track = PoseTrack.load(src / "track.npz")
    except (OSError, ValueError, KeyError) as err:
        raise AnalysisError(f"{src.name}: the saved analysis cannot be read ({err})") from err
    if exercise == "auto" and old.extra.get("exercise_reason") == _TOLD:
        exercise = cast(Exercise, old.exercise)
    analysis = analyze_track(track, exercise=exercise, profile=profile)
    return build_report(analysis, old.source, old.model), analysis


def rescore_folder(
    src: Path, out: Path, exercise: Exercise = "auto", profile: ClientProfile | None = None
) -> Report:
    """Re-run the analysis of a report folder from its track.npz (`rescore_track`).

    Writes report.json, timeseries.csv and track.npz into `out` (which may be `src`); no
    annotated video.
    """
    from backcheck.pipeline import write_judgement
    from metrics.atomic import atomic_write

    report, analysis = rescore_track(src, exercise, profile)
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() != src.resolve():
        atomic_write(out / "track.npz", lambda p: shutil.copyfile(src / "track.npz", p))
    write_judgement(out, report, analysis)
    return report
