"""Build pose-landmarker `.task` bundles from registry packages.

For machines that reach the package registries but not Google's model storage:
`pose_landmarker_full.task` from the MediaPipe wheel on PyPI, and the lite and heavy
bundles by swapping the landmark network of the npm package ``@mediapipe/pose`` into the
built full bundle. The recipes live in `models.registry` (versions, member paths and
checksums, input normalisation); `models.provision` decides when to use them and caches
the results.

The output is deterministic: fixed member order, timestamps and attributes, stored (not
deflated), each member's data starting on a 64-byte boundary so TFLite can use the
weights in place. Its sha256 is therefore pinned in `registry.BUILT_SHA256`.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from models.errors import ModelUnavailable
from models.registry import (
    NPM_LANDMARKS,
    NPM_PACKAGE,
    NPM_VERSION,
    TASK_DETECTOR,
    TASK_LANDMARKER,
    WHEEL_FALLBACK_PLATFORM,
    WHEEL_FALLBACK_PYTHON,
    WHEEL_PARTS,
    WHEEL_PROJECT,
    WHEEL_VERSION,
    landmark_title,
)

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_ALIGN = 64
_ZIP_PAD_ID = 0xD935  # extra-field id zipalign uses for alignment padding
_PIP_TIMEOUT_S = 900.0
_NPM_TIMEOUT_S = 900.0


def build_full_task(work_dir: Path | None = None) -> bytes:
    """The bytes of a `pose_landmarker_full.task` built from the PyPI wheel.

    Downloads the wheel with pip into `work_dir` (a fresh temporary folder by default),
    verifies the two networks against their pinned sha256 and bundles them. Raises
    ModelUnavailable with a one-line reason (what failed, not what to do) when pip or
    the wheel fails.
    """
    if work_dir is not None:
        return task_from_wheel(download_wheel(work_dir))
    with tempfile.TemporaryDirectory(prefix="backcheck-wheel-") as tmp:
        return task_from_wheel(download_wheel(Path(tmp)))


def download_wheel(dest: Path) -> Path:
    """Download the pinned mediapipe wheel into `dest` with pip; returns the wheel's path.

    Tries a wheel for this interpreter first, then a manylinux CPython 3.11 one: every
    platform's wheel holds the same model files.
    """
    dest.mkdir(parents=True, exist_ok=True)
    base = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--dest",
        str(dest),
        f"{WHEEL_PROJECT}=={WHEEL_VERSION}",
    ]
    fallback = ["--platform", WHEEL_FALLBACK_PLATFORM, "--python-version", WHEEL_FALLBACK_PYTHON]
    reason = ""
    for extra in ([], fallback):
        reason = _run_pip(base + extra)
        wheels = sorted(dest.glob(f"{WHEEL_PROJECT}-{WHEEL_VERSION}-*.whl"))
        if wheels:
            return wheels[0]
        if "No module named pip" in reason:
            break
    raise ModelUnavailable(
        f"pip could not download {WHEEL_PROJECT}=={WHEEL_VERSION} from PyPI "
        f"({reason or 'no wheel found'})"
    )


def task_from_wheel(wheel: Path) -> bytes:
    """The `.task` bundle built from the networks inside a downloaded mediapipe wheel."""
    from models.tflite_metadata import attach_metadata, image_model_metadata

    members: list[tuple[str, bytes]] = []
    try:
        with zipfile.ZipFile(wheel) as whl:
            for part in WHEEL_PARTS:
                raw = whl.read(part.wheel_path)
                digest = hashlib.sha256(raw).hexdigest()
                if digest != part.sha256:
                    raise ModelUnavailable(
                        f"{part.wheel_path} in {wheel.name} has sha256 {digest[:12]}…, "
                        f"expected {part.sha256[:12]}…"
                    )
                metadata = image_model_metadata(
                    title=part.title,
                    mean=part.mean,
                    std=part.std,
                    input_range=part.input_range,
                    output_names=part.output_names,
                )
                model = attach_metadata(raw, metadata, n_outputs=len(part.output_names))
                members.append((part.task_member, model))
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise ModelUnavailable(f"{wheel.name} is not a usable mediapipe wheel ({err})") from err
    return deterministic_zip(members)


def build_npm_task(key: str, full_bundle: bytes, work_dir: Path | None = None) -> bytes:
    """The bytes of `pose_landmarker_{key}.task` (lite or heavy): `full_bundle` (a built
    full `.task`) with its landmark network swapped for the npm package's.

    Fetches the package with ``npm pack`` into `work_dir` (a fresh temporary folder by
    default). Raises ModelUnavailable with a one-line reason when npm is missing or fails,
    or when the network does not match its pinned sha256.
    """
    if work_dir is not None:
        return swap_landmarks(full_bundle, key, npm_network(download_npm_package(work_dir), key))
    with tempfile.TemporaryDirectory(prefix="backcheck-npm-") as tmp:
        tarball = download_npm_package(Path(tmp))
        return swap_landmarks(full_bundle, key, npm_network(tarball, key))


def download_npm_package(dest: Path) -> Path:
    """``npm pack`` the pinned `@mediapipe/pose` into `dest`; returns the tarball's path."""
    npm = shutil.which("npm")
    spec = f"{NPM_PACKAGE}@{NPM_VERSION}"
    if npm is None:
        raise ModelUnavailable(f"npm is not installed (it fetches {spec})")
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "pack", spec, "--pack-destination", str(dest), "--loglevel=error", "--no-fund"]
    reason = _run_npm(cmd)
    tarballs = sorted(dest.glob("*.tgz"))
    if tarballs and not reason:
        return tarballs[0]
    raise ModelUnavailable(f"npm could not fetch {spec} ({reason or 'no tarball written'})")


def npm_network(tarball: Path, key: str) -> bytes:
    """The `key` landmark network from the package tarball, checked against its pin."""
    part = NPM_LANDMARKS[key]
    spec = f"{NPM_PACKAGE}@{NPM_VERSION}"
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            member = tar.extractfile(part.tar_path)
            if member is None:
                raise KeyError(part.tar_path)
            raw = member.read()
    except (tarfile.TarError, KeyError, OSError, EOFError) as err:
        raise ModelUnavailable(f"{tarball.name} is not a usable {spec} package ({err})") from err
    digest = hashlib.sha256(raw).hexdigest()
    if digest != part.sha256:
        name = part.tar_path.rsplit("/", 1)[-1]
        raise ModelUnavailable(
            f"{name} in {spec} has sha256 {digest[:12]}…, expected {part.sha256[:12]}…: "
            f"the package is not the one backcheck was checked with"
        )
    return raw


def swap_landmarks(full_bundle: bytes, key: str, network: bytes) -> bytes:
    """A bundle with `full_bundle`'s detector and `network` as its landmark network, under
    the metadata the full network gets (only the title names `key`)."""
    from models.tflite_metadata import attach_metadata, image_model_metadata

    try:
        with zipfile.ZipFile(io.BytesIO(full_bundle)) as bundle:
            detector = bundle.read(TASK_DETECTOR)
    except (zipfile.BadZipFile, KeyError) as err:
        raise ModelUnavailable(f"the built full model is not a usable bundle ({err})") from err
    full = WHEEL_PARTS[1]
    metadata = image_model_metadata(
        title=landmark_title(key),
        mean=full.mean,
        std=full.std,
        input_range=full.input_range,
        output_names=full.output_names,
    )
    landmarks = attach_metadata(network, metadata, n_outputs=len(full.output_names))
    return deterministic_zip([(TASK_DETECTOR, detector), (TASK_LANDMARKER, landmarks)])


def deterministic_zip(members: list[tuple[str, bytes]]) -> bytes:
    """A stored zip of `members` in the given order whose bytes depend on nothing else.

    Fixed timestamps and attributes; each member's data padded (zipalign-style extra
    field) to start on a `_ZIP_ALIGN`-byte boundary.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # unix, whatever the building platform
            info.external_attr = 0o644 << 16
            header_end = out.tell() + 30 + len(name.encode()) + 4
            pad = -header_end % _ZIP_ALIGN
            info.extra = struct.pack("<HH", _ZIP_PAD_ID, pad) + bytes(pad)
            zf.writestr(info, data)
    return out.getvalue()


def _run_pip(cmd: list[str]) -> str:
    """Run pip; '' on success, else the last line of its error output."""
    proc = _run(cmd, _PIP_TIMEOUT_S)
    if isinstance(proc, str) or proc.returncode == 0:
        return proc if isinstance(proc, str) else ""
    lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR")] or lines
    return errors[-1] if errors else f"pip exited with {proc.returncode}"


def _run_npm(cmd: list[str]) -> str:
    """Run npm; '' on success, else its first telling error line (npm ends with a line
    pointing at its log file and starts with an error code)."""
    proc = _run(cmd, _NPM_TIMEOUT_S)
    if isinstance(proc, str) or proc.returncode == 0:
        return proc if isinstance(proc, str) else ""
    lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
    telling = [
        ln
        for ln in lines
        if not ln.startswith(("npm error code", "npm ERR! code")) and "complete log" not in ln
    ]
    return (telling or lines or [f"npm exited with {proc.returncode}"])[0]


def _run(cmd: list[str], timeout_s: float) -> subprocess.CompletedProcess[str] | str:
    """Run a package client; its completed process, or why it could not run."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{type(err).__name__}: {err}"
