"""Find, fetch or build a pose model and hand back a verified local file.

`resolve_model("full")` looks in the model cache, then tries the official download, then
builds the model from registry packages (``full`` from the MediaPipe wheel on PyPI;
``lite`` and ``heavy`` from that build and the npm package ``@mediapipe/pose``); a
``.task`` path is checked and used as it is. Every cached file is checked against its
sha256 on every use, and anything that goes wrong becomes `ModelUnavailable` with a
one-line reason saying what to do.

Cache layout (``$BACKCHECK_MODEL_DIR`` or ``~/.cache/backcheck/models``)::

    pose_landmarker_{lite,full,heavy}.task   official downloads
    pose_landmarker_{lite,full,heavy}.built.task   built from registry packages
    manifest.json                            sha256, origin and source of each file
    .lock                                    held while provisioning

Files are written to a temporary name in the cache folder and moved into place with
`os.replace`, under an exclusive lock on ``.lock``, so processes provisioning at the same
time neither corrupt the cache nor do the work twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from metrics.atomic import atomic_write
from models.errors import ModelUnavailable
from models.registry import (
    BUILT_SHA256,
    DEFAULT_MODEL,
    MODELS,
    NPM_PACKAGE,
    NPM_VERSION,
    TASK_MEMBERS,
    WHEEL_PROJECT,
    WHEEL_VERSION,
    ModelSpec,
    find_spec,
)

__all__ = [
    "ModelAsset",
    "ModelStatus",
    "ModelUnavailable",
    "check_task_file",
    "default_cache_dir",
    "describe",
    "ensure_built",
    "file_sha256",
    "resolve_model",
    "status",
]

Origin = Literal["official", "built-from-wheel", "built-from-npm", "user-file"]
_BUILT: tuple[Origin, ...] = ("built-from-wheel", "built-from-npm")

ENV_MODEL_DIR = "BACKCHECK_MODEL_DIR"
DOWNLOAD_TIMEOUT_S = 10.0
_MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024
_MANIFEST = "manifest.json"
_MANIFEST_FORMAT = "backcheck.models/1"
_LOCK = ".lock"
_BUILT_SUFFIX = ".built.task"


@dataclass(frozen=True)
class ModelAsset:
    """A verified pose-model file ready for MediaPipe.

    `name` is the official model name (``pose_landmarker_full``) or, for a user file, the
    file's stem; `name` and `sha256` are what a report records.
    """

    name: str
    path: Path
    sha256: str
    origin: Origin


@dataclass(frozen=True)
class ModelStatus:
    """What the cache holds for one known model (for `backcheck models`)."""

    key: str
    name: str
    cached: bool
    path: Path | None
    sha256: str | None
    origin: Origin | None
    note: str


def default_cache_dir() -> Path:
    """``$BACKCHECK_MODEL_DIR`` if set, else ``~/.cache/backcheck/models``."""
    env = os.environ.get(ENV_MODEL_DIR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "backcheck" / "models"


def resolve_model(
    name_or_path: str = DEFAULT_MODEL,
    cache_dir: Path | None = None,
    allow_download: bool = True,
) -> ModelAsset:
    """A verified local copy of the model `name_or_path`.

    Parameters
    ----------
    name_or_path
        ``lite``, ``full`` or ``heavy`` (or the official names such as
        ``pose_landmarker_full``), or the path of a `.task` file, used as it is.
    cache_dir
        Model cache; `default_cache_dir()` when None.
    allow_download
        When False nothing is fetched (no official download, no PyPI): the model must
        already be cached.

    Raises
    ------
    ModelUnavailable
        No usable model; the message is one line naming the cause and what to do.
    """
    spec = find_spec(name_or_path)
    if spec is None:
        return _user_file(name_or_path)
    cache = (cache_dir if cache_dir is not None else default_cache_dir()).expanduser()

    problems: list[str] = []
    hit = _cached(spec, cache, problems)
    if hit is not None:
        return hit
    if not allow_download:
        raise ModelUnavailable(
            f"{spec.name} is not in the model cache ({cache}) and downloads are disabled"
            f"{_because(problems)}; {_what_to_do(spec)}"
        )
    _make_cache(cache)
    with _locked(cache):
        # Another process may have provisioned the model while we waited for the lock.
        problems = []
        hit = _cached(spec, cache, problems)
        if hit is not None:
            return hit
        try:
            return _provision_official(spec, cache)
        except ModelUnavailable as err:
            problems.append(f"download failed: {err}")
        if spec.buildable:
            try:
                return _provision_built(spec, cache)
            except ModelUnavailable as err:
                problems.append(f"build from {_build_source(spec)} failed: {err}")
    got = "downloaded or built" if spec.buildable else "downloaded"
    raise ModelUnavailable(
        f"{spec.name} is not cached and could not be {got}{_because(problems)}; {_what_to_do(spec)}"
    )


def ensure_built(cache_dir: Path | None = None, key: str = DEFAULT_MODEL) -> ModelAsset:
    """The model `key` built from registry packages: the cached build if it verifies, else
    a fresh build (needs PyPI, and npm for lite and heavy), whatever official copy the
    cache may also hold.

    For administrators preparing an offline machine and for tests that need exactly the
    built file; `resolve_model` is the everyday entry point.
    """
    spec = MODELS[key]
    cache = (cache_dir if cache_dir is not None else default_cache_dir()).expanduser()
    hit = _cached(spec, cache, [], origins=_BUILT)
    if hit is not None:
        return hit
    _make_cache(cache)
    with _locked(cache):
        hit = _cached(spec, cache, [], origins=_BUILT)
        if hit is not None:
            return hit
        try:
            return _provision_built(spec, cache)
        except ModelUnavailable as err:
            raise ModelUnavailable(
                f"cannot build {spec.name} from {_build_source(spec)} ({err}); pass --model "
                f"with a pose_landmarker .task file"
            ) from err


def status(cache_dir: Path | None = None) -> list[ModelStatus]:
    """The cache state of every known model, each file verified against its checksum."""
    cache = (cache_dir if cache_dir is not None else default_cache_dir()).expanduser()
    rows = []
    for spec in MODELS.values():
        problems: list[str] = []
        hit = _cached(spec, cache, problems)
        if hit is not None:
            rows.append(
                ModelStatus(spec.key, spec.name, True, hit.path, hit.sha256, hit.origin, "")
            )
            continue
        if problems:
            note = "; ".join(problems) + " (replaced on next use)"
        elif spec.buildable:
            note = f"downloaded on first use, or built from {_build_source(spec)}"
        else:
            note = "downloaded on first use (needs the internet once)"
        rows.append(ModelStatus(spec.key, spec.name, False, None, None, None, note))
    return rows


def describe(cache_dir: Path | None = None) -> list[str]:
    """Human-readable lines for `backcheck models`: each model, cached or not, with its
    sha256, origin and file."""
    cache = (cache_dir if cache_dir is not None else default_cache_dir()).expanduser()
    lines = [f"model cache: {cache}  (set {ENV_MODEL_DIR} to move it)"]
    for row in status(cache):
        if row.cached:
            lines.append(f"{row.key:<6} {row.name:<22} cached  {row.origin}  sha256 {row.sha256}")
            lines.append(f"{'':<6} {row.path}")
        else:
            lines.append(f"{row.key:<6} {row.name:<22} missing  {row.note}")
    lines.append("any other model: --model path/to/model.task")
    return lines


def check_task_file(path: Path) -> None:
    """Raise ModelUnavailable unless `path` is a pose-landmarker `.task` bundle: a zip
    holding the detector and landmark TFLite networks."""
    if not path.exists():
        raise ModelUnavailable(f"model file not found: {path}")
    if path.is_dir():
        raise ModelUnavailable(f"{path} is a folder; --model needs a .task file")
    try:
        with zipfile.ZipFile(path) as bundle:
            names = set(bundle.namelist())
            missing = [m for m in TASK_MEMBERS if m not in names]
            if missing:
                raise ModelUnavailable(
                    f"{path} is not a pose-landmarker model: it lacks {', '.join(missing)}"
                )
            for member in TASK_MEMBERS:
                with bundle.open(member) as fh:
                    if fh.read(8)[4:8] != b"TFL3":
                        raise ModelUnavailable(f"{path} is damaged: {member} is not TFLite")
    except zipfile.BadZipFile as err:
        raise ModelUnavailable(
            f"{path} is not a pose model (not a .task bundle); pass lite, full, heavy "
            f"or a pose_landmarker .task file"
        ) from err
    except (EOFError, ValueError, RuntimeError, NotImplementedError, zlib.error) as err:
        raise ModelUnavailable(f"{path} is damaged ({err})") from err
    except OSError as err:
        raise ModelUnavailable(f"cannot read model file {path}: {err.strerror or err}") from err


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- user files -------------------------------------------------------------------------


def _user_file(name_or_path: str) -> ModelAsset:
    path = Path(name_or_path).expanduser()
    looks_like_path = path.suffix == ".task" or os.sep in name_or_path or "/" in name_or_path
    if not looks_like_path and not path.exists():
        names = ", ".join(MODELS)
        raise ModelUnavailable(
            f"unknown model {name_or_path!r}: use one of {names} or the path of a .task file"
        )
    check_task_file(path)
    path = path.resolve()
    try:
        digest = file_sha256(path)
    except OSError as err:
        raise ModelUnavailable(f"cannot read model file {path}: {err.strerror or err}") from err
    return ModelAsset(name=path.stem, path=path, sha256=digest, origin="user-file")


# --- the cache --------------------------------------------------------------------------


def _make_cache(cache: Path) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelUnavailable(
            f"cannot create the model cache {cache} ({err.strerror or err}); "
            f"set {ENV_MODEL_DIR} to a writable folder"
        ) from err


def _official_path(spec: ModelSpec, cache: Path) -> Path:
    return cache / spec.filename


def _built_path(spec: ModelSpec, cache: Path) -> Path:
    return cache / f"{spec.name}{_BUILT_SUFFIX}"


def _cached(
    spec: ModelSpec,
    cache: Path,
    problems: list[str],
    origins: tuple[Origin, ...] = ("official", *_BUILT),
) -> ModelAsset | None:
    """A cached, checksum-verified copy of `spec`, official first; None if there is none.

    Files that fail verification are reported in `problems` and left for provisioning to
    replace.
    """
    manifest = _read_manifest(cache)
    candidates: list[tuple[Path, Origin]] = []
    if "official" in origins:
        candidates.append((_official_path(spec, cache), "official"))
    built_origin = _built_origin(spec)
    if built_origin is not None and built_origin in origins:
        candidates.append((_built_path(spec, cache), built_origin))
    for path, origin in candidates:
        if not path.is_file():
            continue
        entry = manifest.get(path.name, {})
        if origin == "official":
            expected = {spec.sha256 or str(entry.get("sha256", ""))} - {""}
        else:
            expected = set(BUILT_SHA256[spec.key].values())
        if not expected:
            problems.append(f"cached {path.name} has no recorded checksum")
            continue
        try:
            digest = file_sha256(path)
        except OSError as err:
            problems.append(f"cannot read cached {path.name} ({err.strerror or err})")
            continue
        if digest in expected:
            return ModelAsset(name=spec.name, path=path, sha256=digest, origin=origin)
        problems.append(f"cached {path.name} failed its checksum")
    return None


def _provision_official(spec: ModelSpec, cache: Path) -> ModelAsset:
    """Download the official model into the cache; ModelUnavailable on any failure."""
    final = _official_path(spec, cache)

    def fetch(tmp: Path) -> None:
        _fetch_official(spec.url, tmp)
        try:
            check_task_file(tmp)
        except ModelUnavailable as err:
            raise ModelUnavailable(f"{_host(spec.url)} did not send a pose model") from err
        if spec.sha256 and file_sha256(tmp) != spec.sha256:
            raise ModelUnavailable(f"{spec.url} sent a file with an unexpected sha256")

    digest = _write_atomically(final, fetch)
    _record(cache, final, spec, digest, "official", spec.url)
    return ModelAsset(name=spec.name, path=final, sha256=digest, origin="official")


def _provision_built(spec: ModelSpec, cache: Path) -> ModelAsset:
    """Build the model from registry packages into the cache (called with the cache lock
    held); ModelUnavailable on failure.

    Lite and heavy are the built full bundle with another landmark network, so full is
    built first when the cache lacks it.
    """
    origin = _built_origin(spec)
    if origin is None:
        raise ModelUnavailable(f"{spec.name} cannot be built offline")
    final = _built_path(spec, cache)
    if origin == "built-from-npm":
        full = MODELS[DEFAULT_MODEL]
        base = _cached(full, cache, [], origins=_BUILT) or _provision_built(full, cache)
        data = _build_bytes(spec, base.path.read_bytes())
        source = f"npm:{NPM_PACKAGE}@{NPM_VERSION} into {base.path.name}"
    else:
        data = _build_bytes(spec, None)
        source = f"pypi:{WHEEL_PROJECT}=={WHEEL_VERSION}"
    digest = hashlib.sha256(data).hexdigest()
    if digest not in BUILT_SHA256[spec.key].values():
        raise ModelUnavailable(
            f"the {spec.name} built from {_build_source(spec)} has sha256 "
            f"{digest[:12]}…, which matches no pinned build (flatbuffers "
            f"{_flatbuffers_version()} may encode differently)"
        )
    _write_atomically(final, lambda tmp: tmp.write_bytes(data))
    _record(cache, final, spec, digest, origin, source)
    return ModelAsset(name=spec.name, path=final, sha256=digest, origin=origin)


def _fetch_official(url: str, dest: Path) -> None:
    """Download `url` to `dest` with a short timeout. A seam the tests replace."""
    import urllib.error
    import urllib.request

    try:
        with (
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp,
            dest.open("wb") as out,
        ):
            total = 0
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                total += len(chunk)
                if total > _MAX_DOWNLOAD_BYTES:
                    raise ModelUnavailable(f"{url} sent more than {_MAX_DOWNLOAD_BYTES} bytes")
                out.write(chunk)
    except urllib.error.HTTPError as err:
        raise ModelUnavailable(f"{url} answered HTTP {err.code}") from err
    except urllib.error.URLError as err:
        raise ModelUnavailable(f"cannot reach {_host(url)} ({err.reason})") from err
    except (TimeoutError, OSError) as err:
        raise ModelUnavailable(f"download from {_host(url)} failed ({err})") from err


def _build_bytes(spec: ModelSpec, full_bundle: bytes | None) -> bytes:
    """The model built from registry packages: full from the wheel, lite and heavy by
    swapping the npm package's network into `full_bundle`. A seam the tests replace."""
    from models.build import build_full_task, build_npm_task

    if spec.built_from == "npm" and full_bundle is not None:
        return build_npm_task(spec.key, full_bundle)
    return build_full_task()


def _built_origin(spec: ModelSpec) -> Origin | None:
    if spec.built_from == "npm":
        return "built-from-npm"
    return "built-from-wheel" if spec.built_from == "wheel" else None


def _build_source(spec: ModelSpec) -> str:
    """Where an offline build of `spec` comes from, for messages."""
    wheel = f"PyPI {WHEEL_PROJECT}=={WHEEL_VERSION}"
    if spec.built_from == "npm":
        return f"npm {NPM_PACKAGE}@{NPM_VERSION} and {wheel}"
    return wheel


def _write_atomically(final: Path, write: Callable[[Path], object]) -> str:
    """Have `write` fill a temporary file beside `final`, then move it into place
    (`metrics.atomic`). Returns the file's sha256; readers only ever see a complete file."""
    digest = ""

    def fill(tmp: Path) -> None:
        nonlocal digest
        write(tmp)
        digest = file_sha256(tmp)
        tmp.chmod(0o644)  # mkstemp makes it private; a shared cache must stay readable

    try:
        atomic_write(final, fill, suffix=".part")
    except OSError as err:
        raise ModelUnavailable(
            f"cannot write {final} ({err.strerror or err}); "
            f"set {ENV_MODEL_DIR} to a writable folder"
        ) from err
    return digest


def _read_manifest(cache: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads((cache / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(v, dict)}


def _record(cache: Path, path: Path, spec: ModelSpec, digest: str, origin: str, src: str) -> None:
    """Add `path` to the manifest (called with the cache lock held)."""
    files = _read_manifest(cache)
    files[path.name] = {
        "name": spec.name,
        "sha256": digest,
        "origin": origin,
        "source": src,
        "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    text = json.dumps({"format": _MANIFEST_FORMAT, "files": files}, indent=2, sort_keys=True)
    _write_atomically(cache / _MANIFEST, lambda tmp: tmp.write_text(text + "\n", "utf-8"))


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
    """Hold an exclusive lock on the cache for the duration of the block (blocking)."""
    try:
        fh = (cache / _LOCK).open("a+b")
    except OSError as err:
        raise ModelUnavailable(
            f"cannot lock the model cache {cache} ({err.strerror or err}); "
            f"set {ENV_MODEL_DIR} to a writable folder"
        ) from err
    with fh:
        if sys.platform == "win32":
            import msvcrt

            fh.seek(0)
            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    time.sleep(0.2)
            try:
                yield
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# --- messages ---------------------------------------------------------------------------


def _what_to_do(spec: ModelSpec) -> str:
    steps = ["connect to the internet once"]
    if spec.key != DEFAULT_MODEL:
        steps.append(f"pass --model {DEFAULT_MODEL}")
    steps.append(f"pass --model path/to/{spec.filename}")
    return ", or ".join(steps)


def _because(problems: list[str]) -> str:
    return f" ({'; '.join(problems)})" if problems else ""


def _host(url: str) -> str:
    return url.split("/")[2] if url.count("/") >= 2 else url


def _flatbuffers_version() -> str:
    try:
        from importlib.metadata import version

        return version("flatbuffers")
    except Exception:  # noqa: BLE001 - only for a message
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """``python -m models.provision [lite full heavy]``: provision the models named (all
    by default) into the cache and print where each is; one line and exit 1 on failure.

    For CI and for preparing a machine that will later be offline."""
    keys = (sys.argv[1:] if argv is None else argv) or list(MODELS)
    for key in keys:
        try:
            asset = resolve_model(key)
        except ModelUnavailable as err:
            print(f"backcheck: {err}", file=sys.stderr)
            return 1
        print(f"{key}: {asset.path} ({asset.origin}, sha256 {asset.sha256[:12]}…)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
