"""What a batch is asked to do: the inputs of `backcheck batch`, one `Job` per clip.

An input is a video, a folder (its videos, recursively), or a CSV manifest with a `path`
column and optional `client`, `exercise` and `profile` columns (relative paths are read
from the manifest's folder). With `--from-tracks`, the inputs are the report folders under
a folder: each one holding a track.npz from an earlier analysis.

A job is known by the SHA-256 of its content (the video's bytes, or the track's), not by
its name, so a renamed or moved clip is still recognised as done.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from backcheck.names import VIDEO_TYPES, safe_filename

Kind = Literal["video", "track"]
EXERCISES = ("auto", "hinge", "plank")
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class Job:
    """One input of a batch: one unit of work for one worker.

    `key` is the content hash (None when the file cannot be read: such a job is reported
    as bad input without being sent anywhere); `reason` is set for an input that is bad
    before any analysis (a manifest row without a path, an unknown exercise). `fast`: a
    video analysed with the faster pose pass (`backcheck batch --fast`).
    """

    input: str
    source: Path
    kind: Kind = "video"
    client: str = ""
    exercise: str = "auto"
    profile: Path | None = None
    key: str | None = None
    reason: str | None = None
    fast: bool = False

    def settings(self, model: str) -> str:
        """What else decides the result: other settings, or changed thresholds or cues,
        and the job is done again."""
        profile = file_sha256(self.profile)[:12] if self.profile and self.profile.is_file() else ""
        model = "" if self.kind == "track" else model
        fast = ";fast" if self.fast and self.kind == "video" else ""  # none: as before
        return f"{self.kind};{self.exercise};{model};{profile};rules={rules_version()}{fast}"

    def out_dir(self, root: Path) -> Path:
        """The job's own report folder under `root`: for a clip, named for the clip and its
        content; for a saved track, the same place under `root` as in the archive."""
        if self.kind == "track":
            return root / self.input
        stem = Path(safe_filename(self.source.name if self.kind == "video" else self.input)).stem
        name = f"{stem}-{(self.key or 'unread')[:10]}"
        return root / safe_filename(self.client) / name if self.client else root / name


@functools.cache
def rules_version() -> str:
    """A short fingerprint of the thresholds and cues (metrics' TOML data)."""
    import metrics

    digest = hashlib.sha256()
    for path in sorted(Path(metrics.__file__).parent.glob("*.toml")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


HASHES_JSON = "hashes.json"


class HashMemo:
    """SHA-256s remembered by (path, size, mtime, inode) in a JSON file, so a nightly batch
    over a large clip store reads only the files that are new or changed since the last
    run. A file rewritten in place keeps its inode but gets a new mtime (or size), so it is
    read again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: dict[str, list[object]] = {}
        self._changed = False
        try:
            loaded = json.loads(path.read_text("utf-8"))
            if isinstance(loaded, dict):
                self._seen = {k: v for k, v in loaded.items() if isinstance(v, list)}
        except (OSError, ValueError):
            pass  # none yet, or unreadable: every file is hashed again

    def sha256(self, path: Path) -> str:
        st = path.stat()
        key = str(path.resolve())
        stamp: list[object] = [st.st_size, st.st_mtime_ns, st.st_ino]
        known = self._seen.get(key)
        if known is not None and known[:3] == stamp and isinstance(known[3], str):
            return known[3]
        digest = file_sha256(path)
        self._seen[key] = [*stamp, digest]
        self._changed = True
        return digest

    def save(self) -> None:
        """Write the memo (atomically) when it learnt anything."""
        if not self._changed:
            return
        from metrics.atomic import atomic_write

        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self._seen, separators=(",", ":"))
        atomic_write(self.path, lambda p: p.write_text(text, "utf-8"))
        self._changed = False


def _hash(path: Path, memo: HashMemo | None) -> str:
    return memo.sha256(path) if memo is not None else file_sha256(path)


def is_video_name(path: Path) -> bool:
    return path.suffix.lower().lstrip(".") in VIDEO_TYPES


def video_jobs(
    inputs: list[Path],
    *,
    exercise: str = "auto",
    profile: Path | None = None,
    memo: HashMemo | None = None,
) -> list[Job]:
    """A job per video named by `inputs` (files, folders, CSV manifests), in order.

    A folder's videos are found recursively, leaving out report folders (an
    annotated.mp4 beside its report.json is an output, not a clip).
    """
    jobs: list[Job] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(
                p
                for p in item.rglob("*")
                if p.is_file() and is_video_name(p) and not (p.parent / "report.json").exists()
            )
            jobs += [_job(str(p), p, exercise=exercise, profile=profile, memo=memo) for p in found]
        elif item.suffix.lower() == ".csv" and item.is_file():
            jobs += _manifest_jobs(item, exercise=exercise, profile=profile, memo=memo)
        else:
            jobs.append(_job(str(item), item, exercise=exercise, profile=profile, memo=memo))
    return jobs


def track_jobs(
    root: Path,
    *,
    exercise: str = "auto",
    profile: Path | None = None,
    memo: HashMemo | None = None,
) -> list[Job]:
    """A job per saved track under `root` (each report folder with a track.npz)."""
    jobs = []
    for track in sorted(root.rglob("track.npz")):
        folder = track.parent
        label = str(folder.relative_to(root)) if folder != root else folder.name
        key = _hash(track, memo)
        jobs.append(Job(label, folder, kind="track", exercise=exercise, profile=profile, key=key))
    return jobs


def _job(
    label: str,
    path: Path,
    *,
    client: str = "",
    exercise: str = "auto",
    profile: Path | None = None,
    reason: str | None = None,
    memo: HashMemo | None = None,
) -> Job:
    if reason is None and exercise not in EXERCISES:
        reason = f"unknown exercise {exercise!r}: use one of {', '.join(EXERCISES)}"
    key = None
    if reason is None and path.is_file():
        try:
            key = _hash(path, memo)
        except OSError:
            key = None
    return Job(label, path, "video", client, exercise, profile, key, reason)


def _manifest_jobs(
    manifest: Path, *, exercise: str, profile: Path | None, memo: HashMemo | None = None
) -> list[Job]:
    """Rows of a CSV manifest: path (required), client, exercise, profile."""
    with open(manifest, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    base = manifest.parent
    jobs = []
    for n, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        raw = row.get("path", "")
        where = f"{manifest.name} line {n}"
        if not raw:
            jobs.append(_job(where, manifest, reason=f"{where}: no path given"))
            continue
        path = Path(raw).expanduser()
        path = path if path.is_absolute() else base / path
        own_profile = row.get("profile", "")
        prof = (
            (Path(own_profile) if Path(own_profile).is_absolute() else base / own_profile)
            if (own_profile)
            else profile
        )
        jobs.append(
            _job(
                raw,
                path,
                client=row.get("client", ""),
                exercise=row.get("exercise", "") or exercise,
                profile=prof,
                memo=memo,
            )
        )
    return jobs
