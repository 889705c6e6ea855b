"""The evaluation's pose tracks, cached on disk per (clip, transform, model).

The pose pass is the slow part of an evaluation (minutes over the labelled clips, more with
the invariance copies); the rules that run on its tracks take seconds. So every track is
saved as ``<dir>/<clip stem>[.<transform>][.<model>][.fast].npz`` (no suffix for the clip
itself, for the default model ``full`` and for the default pose pass, `.fast` for
`backcheck analyze --fast`'s: a folder of ``<stem>.npz`` tracks, as earlier runs and
the test fixtures wrote them, is a valid cache), and a re-run after a rule change only
re-runs the rules. The transformed video itself is made in a scratch folder beside the
tracks and deleted once its track is saved.

Delete the folder (or pass another) when the pose pass itself changes: the cache knows
clips by name, not by the code that tracked them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from metrics.analysis import TrackAnalysis, analyze_track
from metrics.errors import AnalysisError
from metrics.track import PoseTrack

ORIGINAL = "original"
DEFAULT_MODEL = "full"

# clip video, transform name → its track
TrackSource = Callable[[Path, str], PoseTrack]


def default_tracks_dir() -> Path:
    """~/.cache/backcheck/eval-tracks (under $XDG_CACHE_HOME when set)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base else Path.home() / ".cache"
    return root / "backcheck" / "eval-tracks"


def track_name(
    stem: str, transform: str = ORIGINAL, model: str = DEFAULT_MODEL, *, follow_one: bool = False
) -> str:
    """File name of a cached track: ``<stem>[.<transform>][.<model>][.fast].npz``."""
    parts = [stem]
    if transform != ORIGINAL:
        parts.append(transform)
    if model != DEFAULT_MODEL:
        parts.append(Path(model).stem if model.endswith(".task") else model)
    if follow_one:
        parts.append("fast")
    return ".".join(parts) + ".npz"


class TrackCache:
    """Tracks of clips and their transformed copies: loaded from `root`, else made and saved.

    `make` is False to only read the cache (a missing track raises FileNotFoundError).
    """

    def __init__(
        self,
        root: Path,
        model: str = DEFAULT_MODEL,
        *,
        make: bool = True,
        follow_one: bool = False,
    ) -> None:
        self.root = Path(root)
        self.model = model
        self.make = make
        self.follow_one = follow_one

    def path(self, clip: Path, transform: str = ORIGINAL) -> Path:
        return self.root / track_name(clip.stem, transform, self.model, follow_one=self.follow_one)

    def has(self, clip: Path, transform: str = ORIGINAL) -> bool:
        return self.path(clip, transform).exists()

    def __call__(self, clip: Path, transform: str = ORIGINAL) -> PoseTrack:
        saved = self.path(clip, transform)
        if saved.exists():
            return PoseTrack.load(saved)
        if not self.make:
            raise FileNotFoundError(f"no cached track {saved}")
        track = self._extract(clip, transform)
        saved.parent.mkdir(parents=True, exist_ok=True)
        part = saved.with_name(saved.name + ".part.npz")
        track.save(part)
        part.replace(saved)
        return track

    def _extract(self, clip: Path, transform: str) -> PoseTrack:
        from backcheck.pipeline import extract_track
        from models.provision import resolve_model

        model_path = resolve_model(self.model).path
        if transform == ORIGINAL:
            return extract_track(clip, model_path, follow_one=self.follow_one)
        from vision.transforms import make_variant

        scratch = self.root / "videos"
        video = make_variant(clip, scratch / f"{clip.stem}.{transform}.mp4", transform)
        try:
            return extract_track(video, model_path, follow_one=self.follow_one)
        finally:
            video.unlink(missing_ok=True)


class Analyses:
    """`analyze_track(..., exercise="auto")` of each (clip, transform), computed once.

    A track in which nobody was found gives the `AnalysisError` instead of an analysis, so
    one such copy is a changed verdict and not a crash.
    """

    def __init__(self, source: Callable[..., PoseTrack]) -> None:
        self.source = source
        self._done: dict[tuple[Path, str], TrackAnalysis | AnalysisError] = {}

    def __call__(self, clip: Path, transform: str = ORIGINAL) -> TrackAnalysis | AnalysisError:
        key = (clip, transform)
        if key not in self._done:
            track = self.source(clip) if transform == ORIGINAL else self.source(clip, transform)
            try:
                self._done[key] = analyze_track(track, exercise="auto")
            except AnalysisError as err:
                self._done[key] = err
        return self._done[key]

    def track(self, clip: Path, transform: str = ORIGINAL) -> PoseTrack:
        return self.source(clip) if transform == ORIGINAL else self.source(clip, transform)
