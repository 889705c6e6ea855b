"""Pose-model provisioning: the wheel-built model, the cache, and the errors a coach sees.

The full model is built from PyPI once per session (about 4 s with a warm pip cache) into
a temporary cache, or into ``$BACKCHECK_MODEL_DIR`` when that is set so CI builds it once.
Every other test works on copies in its own cache folder with the network seams replaced.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from models import build, provision
from models.provision import ModelAsset, ModelUnavailable, resolve_model
from models.registry import BUILT_SHA256, NPM_LANDMARKS, TASK_MEMBERS, WHEEL_PARTS
from models.tflite_metadata import ImageInput, read_image_input

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CLIP = SHARED_DATA / "clips" / "kettlebell" / "0016c_1.mp4"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$BACKCHECK_MODEL_DIR when set (CI provisions it), else a cold cache for this session."""
    env = os.environ.get(provision.ENV_MODEL_DIR, "").strip()
    return Path(env) if env else tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def built_model(model_cache: Path) -> ModelAsset:
    """The full model built from the mediapipe wheel (pip download on a cold cache)."""
    return provision.ensure_built(model_cache)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """No official download, no pip, no npm: every attempt is counted and fails."""
    calls = {"fetch": 0, "build": 0}

    def no_fetch(url: str, dest: Path) -> None:
        calls["fetch"] += 1
        raise ModelUnavailable("cannot reach storage.googleapis.com (test: offline)")

    def no_build(spec: object, full_bundle: bytes | None) -> bytes:
        calls["build"] += 1
        raise ModelUnavailable("pip could not download mediapipe==0.10.21 (test: offline)")

    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip and npm must not run")

    monkeypatch.setattr(provision, "_fetch_official", no_fetch)
    monkeypatch.setattr(provision, "_build_bytes", no_build)
    monkeypatch.setattr(build.subprocess, "run", no_pip)
    return calls


def _cache_with_built(built: ModelAsset, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / "pose_landmarker_full.built.task"
    target.write_bytes(built.path.read_bytes())
    return target


def _one_line(err: pytest.ExceptionInfo[ModelUnavailable]) -> str:
    text = str(err.value)
    assert "\n" not in text and text.strip() == text and text
    return text


# --- the built model -----------------------------------------------------------------


def test_built_task_matches_the_pin_for_this_flatbuffers(built_model: ModelAsset) -> None:
    major, minor = (int(x) for x in version("flatbuffers").split(".")[:2])
    generation = "flatbuffers>=25.12" if (major, minor) >= (25, 12) else "flatbuffers<25.12"
    assert built_model.origin == "built-from-wheel"
    assert built_model.name == "pose_landmarker_full"
    assert built_model.sha256 == BUILT_SHA256["full"][generation]
    assert provision.file_sha256(built_model.path) == built_model.sha256


def test_built_task_layout(built_model: ModelAsset) -> None:
    with zipfile.ZipFile(built_model.path) as bundle:
        infos = bundle.infolist()
        assert [i.filename for i in infos] == list(TASK_MEMBERS)
        for info in infos:
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
            assert data_start % 64 == 0
        detector = bundle.read("pose_detector.tflite")
        landmarks = bundle.read("pose_landmarks_detector.tflite")
    assert read_image_input(detector) == ImageInput(mean=127.5, std=127.5)
    assert read_image_input(landmarks) == ImageInput(mean=0.0, std=255.0)
    assert [p.task_member for p in WHEEL_PARTS] == list(TASK_MEMBERS)


def test_deterministic_zip_is_reproducible_and_aligned() -> None:
    members = [("a.tflite", b"x" * 1000), ("bb.tflite", bytes(range(256)) * 7)]
    first = build.deterministic_zip(members)
    assert build.deterministic_zip(members) == first
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        for info, (name, data) in zip(zf.infolist(), members, strict=True):
            start = info.header_offset + 30 + len(info.filename) + len(info.extra)
            assert start % 64 == 0
            assert first[start : start + len(data)] == data
            assert zf.read(name) == data


def test_wheel_for_another_platform_is_used_when_none_fits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []

    def fake_pip(cmd: list[str]) -> str:
        commands.append(cmd)
        if "--platform" not in cmd:
            return "ERROR: No matching distribution found for mediapipe==0.10.21"
        dest = Path(cmd[cmd.index("--dest") + 1])
        (dest / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"")
        return ""

    monkeypatch.setattr(build, "_run_pip", fake_pip)
    wheel = build.download_wheel(tmp_path)
    assert wheel.name == "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert len(commands) == 2
    assert commands[0][:4] == [sys.executable, "-m", "pip", "download"]
    assert "mediapipe==0.10.21" in commands[0] and "--only-binary=:all:" in commands[0]
    assert commands[1][-4:] == ["--platform", "manylinux_2_28_x86_64", "--python-version", "3.11"]


def test_pip_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "_run_pip", lambda cmd: "ERROR: HTTP error 503 from pypi.org")
    with pytest.raises(ModelUnavailable) as err:
        build.download_wheel(tmp_path)
    assert _one_line(err) == (
        "pip could not download mediapipe==0.10.21 from PyPI (ERROR: HTTP error 503 from pypi.org)"
    )


def test_wheel_with_other_networks_is_refused(tmp_path: Path) -> None:
    wheel = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for part in WHEEL_PARTS:
            zf.writestr(part.wheel_path, b"\x1c\x00\x00\x00TFL3 not the pinned network")
    with pytest.raises(ModelUnavailable) as err:
        build.task_from_wheel(wheel)
    text = _one_line(err)
    assert "mediapipe/modules/pose_detection/pose_detection.tflite" in text
    assert "expected 9ba9dd3d42ef" in text


# --- lite and heavy from the npm package ----------------------------------------------------

NPM_SPEC = "@mediapipe/pose@0.5.1675469404"


def _fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    """Put an `npm` on PATH that runs `script` (sh) with its arguments logged to argv.txt."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "argv.txt"}\n{script}\n')
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return tmp_path / "argv.txt"


def _package_tarball(path: Path, networks: dict[str, bytes]) -> Path:
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, data in networks.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_swapping_a_network_in_keeps_the_bundle_exact(built_model: ModelAsset) -> None:
    """The swap re-packs the network under full's metadata and keeps the detector byte for
    byte: swapping full's own network back in rebuilds the pinned full bundle exactly."""
    full = built_model.path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(full)) as bundle:
        detector = bundle.read("pose_detector.tflite")
        landmarks = bundle.read("pose_landmarks_detector.tflite")
    assert build.swap_landmarks(full, "full", landmarks) == full
    swapped = build.swap_landmarks(full, "heavy", landmarks)
    with zipfile.ZipFile(io.BytesIO(swapped)) as bundle:
        assert [i.filename for i in bundle.infolist()] == list(TASK_MEMBERS)
        assert bundle.read("pose_detector.tflite") == detector
        heavy_landmarks = bundle.read("pose_landmarks_detector.tflite")
    assert read_image_input(heavy_landmarks) == ImageInput(mean=0.0, std=255.0)
    assert b"BlazePose GHUM 3D landmarks (heavy)" in heavy_landmarks
    assert len(heavy_landmarks) == len(landmarks)  # only the title changed


def test_npm_pack_fetches_the_pinned_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tarball = _package_tarball(tmp_path / "served.tgz", {"pose_landmark_lite.tflite": b"x"})
    # npm pack SPEC --pack-destination DIR ...: copy the tarball into DIR.
    argv = _fake_npm(tmp_path, monkeypatch, f'cp {tarball} "$4/mediapipe-pose.tgz"')
    got = build.download_npm_package(tmp_path / "dest")
    assert got == tmp_path / "dest" / "mediapipe-pose.tgz"
    assert argv.read_text().split()[:4] == ["pack", NPM_SPEC, "--pack-destination", str(got.parent)]


def test_npm_network_that_fails_its_checksum_is_refused(
    built_model: ModelAsset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through resolve_model: the npm build runs, finds other bytes than pinned, and the
    coach gets one line naming the file, both checksums' starts and what to do."""

    def no_fetch(url: str, dest: Path) -> None:
        raise ModelUnavailable("cannot reach the model host (test: offline)")

    monkeypatch.setattr(provision, "_fetch_official", no_fetch)
    _cache_with_built(built_model, tmp_path / "cache")
    fake = b"\x1c\x00\x00\x00TFL3 a tampered landmark network"
    tarball = _package_tarball(tmp_path / "served.tgz", {"pose_landmark_lite.tflite": fake})
    _fake_npm(tmp_path, monkeypatch, f'cp {tarball} "$4/mediapipe-pose.tgz"')
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("lite", cache_dir=tmp_path / "cache")
    text = _one_line(err)
    got = hashlib.sha256(fake).hexdigest()[:12]
    assert (
        f"pose_landmark_lite.tflite in {NPM_SPEC} has sha256 {got}…, expected f17bfbecadb6…: "
        "the package is not the one backcheck was checked with"
    ) in text
    assert "--model full" in text
    assert not (tmp_path / "cache" / "pose_landmarker_lite.built.task").exists()
    assert not list((tmp_path / "cache").glob("*.part"))


def test_missing_npm_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ModelUnavailable) as err:
        build.download_npm_package(tmp_path / "dest")
    assert _one_line(err) == f"npm is not installed (it fetches {NPM_SPEC})"


def test_npm_error_is_its_telling_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_npm(
        tmp_path,
        monkeypatch,
        "echo 'npm error code ETARGET' >&2\n"
        "echo 'npm error notarget No matching version found for @mediapipe/pose' >&2\n"
        "echo 'npm error A complete log of this run can be found in: /x.log' >&2\nexit 1",
    )
    with pytest.raises(ModelUnavailable) as err:
        build.download_npm_package(tmp_path / "dest")
    assert _one_line(err) == (
        f"npm could not fetch {NPM_SPEC} "
        "(npm error notarget No matching version found for @mediapipe/pose)"
    )


def test_tarball_without_the_network_is_refused(tmp_path: Path) -> None:
    tarball = _package_tarball(tmp_path / "p.tgz", {"README.md": b"hello"})
    with pytest.raises(ModelUnavailable) as err:
        build.npm_network(tarball, "heavy")
    assert _one_line(err).startswith(f"p.tgz is not a usable {NPM_SPEC} package")


@pytest.fixture(scope="session")
def npm_models(model_cache: Path, built_model: ModelAsset) -> dict[str, ModelAsset]:
    """lite and heavy built from the npm package on top of the built full (npm on a cold
    cache)."""
    return {key: provision.ensure_built(model_cache, key) for key in ("lite", "heavy")}


def test_lite_and_heavy_build_to_their_pins(
    npm_models: dict[str, ModelAsset], built_model: ModelAsset
) -> None:
    major, minor = (int(x) for x in version("flatbuffers").split(".")[:2])
    generation = "flatbuffers>=25.12" if (major, minor) >= (25, 12) else "flatbuffers<25.12"
    with zipfile.ZipFile(built_model.path) as bundle:
        detector = bundle.read("pose_detector.tflite")
    for key, asset in npm_models.items():
        assert asset.origin == "built-from-npm"
        assert asset.name == f"pose_landmarker_{key}"
        assert asset.sha256 == BUILT_SHA256[key][generation]
        with zipfile.ZipFile(asset.path) as bundle:
            assert bundle.read("pose_detector.tflite") == detector
            network = bundle.read("pose_landmarks_detector.tflite")
        assert read_image_input(network) == ImageInput(mean=0.0, std=255.0)
    # The three networks differ in size as the package's do (lite < full < heavy).
    sizes = [
        zipfile.ZipFile(a.path).getinfo("pose_landmarks_detector.tflite").file_size
        for a in (npm_models["lite"], built_model, npm_models["heavy"])
    ]
    assert sizes == sorted(sizes) and sizes[0] < 3_000_000 < 27_000_000 < sizes[2]
    assert set(NPM_LANDMARKS) == {"lite", "heavy"}


# --- the cache ---------------------------------------------------------------------------


def test_second_resolve_hits_the_cache_without_pip(
    built_model: ModelAsset, tmp_path: Path, offline: dict[str, int]
) -> None:
    target = _cache_with_built(built_model, tmp_path)
    for name in ("full", "pose_landmarker_full"):
        asset = resolve_model(name, cache_dir=tmp_path)
        assert asset == ModelAsset(
            "pose_landmarker_full", target, built_model.sha256, "built-from-wheel"
        )
    assert offline == {"fetch": 0, "build": 0}


def test_cache_dir_defaults_to_the_environment(
    built_model: ModelAsset,
    tmp_path: Path,
    offline: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _cache_with_built(built_model, tmp_path / "env-cache")
    monkeypatch.setenv(provision.ENV_MODEL_DIR, str(tmp_path / "env-cache"))
    assert provision.default_cache_dir() == tmp_path / "env-cache"
    assert resolve_model().path.parent == tmp_path / "env-cache"
    monkeypatch.delenv(provision.ENV_MODEL_DIR)
    assert provision.default_cache_dir() == Path.home() / ".cache" / "backcheck" / "models"


def test_corrupted_cache_is_detected_and_rebuilt(
    built_model: ModelAsset,
    tmp_path: Path,
    offline: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = built_model.path.read_bytes()
    target = _cache_with_built(built_model, tmp_path)
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF
    target.write_bytes(bytes(damaged))

    (row,) = [r for r in provision.status(tmp_path) if r.key == "full"]
    assert not row.cached
    assert "failed its checksum" in row.note

    builds: list[int] = []

    def rebuild(spec: object, full_bundle: bytes | None) -> bytes:
        builds.append(1)
        return good

    monkeypatch.setattr(provision, "_build_bytes", rebuild)
    asset = resolve_model("full", cache_dir=tmp_path)
    assert len(builds) == 1
    assert offline["fetch"] == 1  # the official download was tried first
    assert asset.sha256 == built_model.sha256
    assert target.read_bytes() == good
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["files"][target.name]["sha256"] == built_model.sha256
    assert manifest["files"][target.name]["origin"] == "built-from-wheel"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "manifest.json", target.name]


def test_build_that_matches_no_pin_is_refused(
    built_model: ModelAsset,
    tmp_path: Path,
    offline: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        provision, "_build_bytes", lambda spec, full: built_model.path.read_bytes()[:-1]
    )
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("full", cache_dir=tmp_path)
    text = _one_line(err)
    assert "matches no pinned build" in text
    assert "--model path/to/pose_landmarker_full.task" in text
    assert not (tmp_path / "pose_landmarker_full.built.task").exists()


def test_concurrent_resolves_build_once(
    built_model: ModelAsset,
    tmp_path: Path,
    offline: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = built_model.path.read_bytes()
    builds: list[int] = []

    def slow_build(spec: object, full_bundle: bytes | None) -> bytes:
        builds.append(1)
        time.sleep(0.5)  # long enough for the other thread to reach the lock
        return good

    monkeypatch.setattr(provision, "_build_bytes", slow_build)
    results: list[ModelAsset] = []
    threads = [
        threading.Thread(target=lambda: results.append(resolve_model("full", cache_dir=tmp_path)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    assert results[0] == results[1]
    assert results[0].sha256 == built_model.sha256
    assert len(builds) == 1
    assert not list(tmp_path.glob("*.part"))


def test_official_download_is_checked_and_recorded(
    built_model: ModelAsset,
    tmp_path: Path,
    offline: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = built_model.path.read_bytes()  # stands in for the official lite bundle
    urls: list[str] = []

    def fetch(url: str, dest: Path) -> None:
        urls.append(url)
        dest.write_bytes(served)

    monkeypatch.setattr(provision, "_fetch_official", fetch)
    asset = resolve_model("lite", cache_dir=tmp_path)
    assert urls == [
        "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
        "pose_landmarker_lite/float16/latest/pose_landmarker_lite.task"
    ]
    assert asset == ModelAsset(
        "pose_landmarker_lite",
        tmp_path / "pose_landmarker_lite.task",
        built_model.sha256,
        "official",
    )
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["files"]["pose_landmarker_lite.task"]["sha256"] == built_model.sha256

    assert resolve_model("lite", cache_dir=tmp_path, allow_download=False) == asset
    assert len(urls) == 1

    # A tampered download no longer matches the recorded checksum.
    with asset.path.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02")
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("lite", cache_dir=tmp_path, allow_download=False)
    assert "pose_landmarker_lite.task failed its checksum" in _one_line(err)


def test_download_that_is_not_a_model_leaves_nothing(
    tmp_path: Path, offline: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def captive_portal(url: str, dest: Path) -> None:
        dest.write_text("<html>Please log in to the gym wifi</html>")

    monkeypatch.setattr(provision, "_fetch_official", captive_portal)
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("heavy", cache_dir=tmp_path)
    text = _one_line(err)
    assert "storage.googleapis.com did not send a pose model" in text
    assert "--model path/to/pose_landmarker_heavy.task" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


# --- errors a coach or admin sees ---------------------------------------------------------


def test_lite_without_downloads_names_what_to_do(tmp_path: Path, offline: dict[str, int]) -> None:
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("lite", cache_dir=tmp_path, allow_download=False)
    text = _one_line(err)
    assert text.startswith("pose_landmarker_lite is not in the model cache")
    assert "downloads are disabled" in text
    assert "connect to the internet once" in text
    assert "--model full" in text
    assert "--model path/to/pose_landmarker_lite.task" in text
    assert offline == {"fetch": 0, "build": 0}
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_lite_offline_without_registries_names_both_failures(
    tmp_path: Path, offline: dict[str, int]
) -> None:
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("lite", cache_dir=tmp_path)
    text = _one_line(err)
    assert "could not be downloaded or built" in text
    assert "cannot reach storage.googleapis.com" in text
    assert f"build from npm {NPM_SPEC} and PyPI mediapipe==0.10.21 failed" in text
    assert "--model full" in text
    assert offline == {"fetch": 1, "build": 1}  # the full bundle it builds on failed first


def test_full_offline_without_pypi_names_both_failures(
    tmp_path: Path, offline: dict[str, int]
) -> None:
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("full", cache_dir=tmp_path)
    text = _one_line(err)
    assert "could not be downloaded or built" in text
    assert "cannot reach storage.googleapis.com" in text
    assert "pip could not download mediapipe==0.10.21" in text
    assert "--model full" not in text  # it is the model that failed
    assert offline == {"fetch": 1, "build": 1}


def test_user_task_path_is_used_as_is(
    built_model: ModelAsset, tmp_path: Path, offline: dict[str, int]
) -> None:
    mine = tmp_path / "my_pose.task"
    mine.write_bytes(built_model.path.read_bytes())
    asset = resolve_model(str(mine), cache_dir=tmp_path / "cache")
    assert asset == ModelAsset("my_pose", mine.resolve(), built_model.sha256, "user-file")
    assert not (tmp_path / "cache").exists()


def _text_file(path: Path) -> Path:
    path.write_text("ftyp isom: a video renamed by mistake")
    return path


def _zip_with(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, b"\x1c\x00\x00\x00TFL3" if name.endswith(".tflite") else b"x")
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing.task", "model file not found: "),
        (lambda d: d, "is a folder; --model needs a .task file"),
        (lambda d: _text_file(d / "clip.task"), "is not a pose model (not a .task bundle)"),
        (
            lambda d: _zip_with(d / "hands.task", ["hand_detector.tflite"]),
            "is not a pose-landmarker model: it lacks pose_detector.tflite, "
            "pose_landmarks_detector.tflite",
        ),
        (
            lambda d: _zip_with(d / "half.task", ["pose_detector.tflite"]),
            "it lacks pose_landmarks_detector.tflite",
        ),
    ],
    ids=["missing", "folder", "not-zip", "other-task", "half-task"],
)
def test_bad_user_paths_are_readable_errors(
    tmp_path: Path, make: object, expected: str, offline: dict[str, int]
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ModelUnavailable) as err:
        resolve_model(str(path), cache_dir=tmp_path / "cache")
    text = _one_line(err)
    assert expected in text
    assert str(path) in text


def test_damaged_member_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.task"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pose_detector.tflite", b"\x1c\x00\x00\x00TFL3")
        zf.writestr("pose_landmarks_detector.tflite", b"<html>")
    with pytest.raises(ModelUnavailable) as err:
        resolve_model(str(path))
    assert "is damaged: pose_landmarks_detector.tflite is not TFLite" in _one_line(err)


def test_unknown_name_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as err:
        resolve_model("fulll", cache_dir=tmp_path)
    assert _one_line(err) == (
        "unknown model 'fulll': use one of lite, full, heavy or the path of a .task file"
    )


def test_model_unavailable_is_an_analysis_error() -> None:
    from metrics.errors import AnalysisError

    assert issubclass(ModelUnavailable, AnalysisError)


# --- listing -------------------------------------------------------------------------------


def test_describe_lists_every_model(built_model: ModelAsset, tmp_path: Path) -> None:
    _cache_with_built(built_model, tmp_path)
    rows = {r.key: r for r in provision.status(tmp_path)}
    assert list(rows) == ["lite", "full", "heavy"]
    assert rows["full"].cached and rows["full"].origin == "built-from-wheel"
    assert rows["full"].sha256 == built_model.sha256
    assert not rows["lite"].cached and rows["lite"].sha256 is None
    lines = provision.describe(tmp_path)
    assert lines[0] == f"model cache: {tmp_path}  (set BACKCHECK_MODEL_DIR to move it)"
    full = next(line for line in lines if line.startswith("full "))
    assert "cached" in full and "built-from-wheel" in full and built_model.sha256 in full
    lite = next(line for line in lines if line.startswith("lite "))
    assert "missing" in lite and "built from npm @mediapipe/pose@0.5.1675469404" in lite


def test_describe_shows_npm_builds(
    npm_models: dict[str, ModelAsset], built_model: ModelAsset, tmp_path: Path
) -> None:
    for asset in (built_model, *npm_models.values()):
        (tmp_path / asset.path.name).write_bytes(asset.path.read_bytes())
    rows = {r.key: r for r in provision.status(tmp_path)}
    assert all(r.cached for r in rows.values())
    assert [rows[k].origin for k in ("lite", "full", "heavy")] == [
        "built-from-npm",
        "built-from-wheel",
        "built-from-npm",
    ]
    assert rows["heavy"].sha256 == npm_models["heavy"].sha256


def test_importing_models_loads_nothing_heavy() -> None:
    code = (
        "import sys, models.provision, models.registry, models.build, models.tflite_metadata;"
        "print(sorted(m for m in ('mediapipe', 'flatbuffers', 'numpy', 'cv2', 'av',"
        " 'urllib.request') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the built model on a real clip ------------------------------------------------------


@pytest.mark.clips
def test_built_model_finds_the_lifter(built_model: ModelAsset) -> None:
    """Side view of a kettlebell deadlift, 360x640: one person, feet planted."""
    if not CLIP.exists():
        pytest.skip(f"{CLIP} not available")
    import av
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(built_model.path)),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=2,
        output_segmentation_masks=True,
    )
    sampled = found = 0
    nose, hip, ankle, leg_m, mask_at_hip, mask_share = [], [], [], [], [], []
    with vision.PoseLandmarker.create_from_options(options) as landmarker, av.open(CLIP) as box:
        for i, frame in enumerate(box.decode(video=0)):
            if i % 30:
                continue
            if sampled == 30:
                break
            rgb = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
            height, width = rgb.shape[:2]
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            result = landmarker.detect_for_video(image, round(frame.time * 1000))
            sampled += 1
            if not result.pose_landmarks:
                continue
            found += 1
            pts = result.pose_landmarks[0]
            assert len(pts) == 33 and len(result.pose_world_landmarks[0]) == 33
            xy = np.array([[p.x, p.y] for p in pts])
            nose.append(xy[0])
            hip.append(xy[[23, 24]].mean(axis=0))
            ankle.append(xy[[27, 28]].mean(axis=0))
            world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks[0]])
            leg_m.append(float(np.linalg.norm(world[23] - world[27])))
            mask = result.segmentation_masks[0].numpy_view().reshape(height, width)
            hx, hy = (hip[-1] * [width, height]).astype(int)
            mask_at_hip.append(float(mask[hy, hx]))
            mask_share.append(float((mask > 0.5).mean()))

    assert sampled == 30
    assert found >= 27  # 30/30 seen when written
    nose_a, hip_a, ankle_a = np.array(nose), np.array(hip), np.array(ankle)
    for pts in (nose_a, hip_a, ankle_a):
        assert np.all((pts > 0.0) & (pts < 1.0))
    assert np.mean(nose_a[:, 1] < hip_a[:, 1]) >= 0.9  # head above hips, even at the bottom
    assert np.all(hip_a[:, 1] < ankle_a[:, 1] - 0.1)
    assert np.std(ankle_a, axis=0).max() < 0.02  # feet stay planted
    assert np.ptp(nose_a[:, 1]) > 0.1  # the head travels with each hinge
    assert 0.4 < np.median(leg_m) < 1.1  # hip to ankle in metres
    assert np.mean(np.array(mask_at_hip) > 0.5) >= 0.9
    assert 0.02 < np.median(mask_share) < 0.3


@pytest.fixture(scope="session")
def every_model(
    npm_models: dict[str, ModelAsset], built_model: ModelAsset
) -> dict[str, ModelAsset]:
    return {"lite": npm_models["lite"], "full": built_model, "heavy": npm_models["heavy"]}


@pytest.mark.clips
def test_every_model_finds_the_same_lifter(every_model: dict[str, ModelAsset]) -> None:
    """lite, full and heavy each load through backcheck's estimator and find the lifter on
    eight frames of a side-view kettlebell deadlift (2 frames a second, so CI stays cheap),
    in the same place: their hips and ankles agree within 4 % of the frame's height."""
    if not CLIP.exists():
        pytest.skip(f"{CLIP} not available")
    from vision.pose import PoseEstimator
    from vision.video import iter_frames

    frames = list(itertools.islice(iter_frames(CLIP, max_fps=2.0, scale_to=640), 8))
    height, width = frames[0].rgb.shape[:2]
    joints: dict[str, np.ndarray] = {}
    for key, asset in every_model.items():
        points = []
        with PoseEstimator(asset.path, num_poses=2) as estimator:
            for frame in frames:
                people = estimator.detect(frame.rgb, frame.t)
                assert len(people) == 1, f"{key} at {frame.t:.1f} s found {len(people)}"
                pose = people[0]
                assert pose.image.shape == (33, 3) and pose.world.shape == (33, 3)
                assert pose.edges is not None  # the mask came back too
                points.append(pose.image[[23, 24, 27, 28], :2])
        joints[key] = np.array(points)  # (frames, 4, 2) px
        hips, ankles = joints[key][:, :2].mean(axis=1), joints[key][:, 2:].mean(axis=1)
        assert np.all(hips[:, 1] < ankles[:, 1] - 0.1 * height), key
        assert np.all((joints[key] >= 0) & (joints[key] <= [width, height])), key
    for key in ("lite", "heavy"):
        gap = np.abs(joints[key] - joints["full"]).max()
        assert gap < 0.04 * height, f"{key} is {gap:.0f} px from full"


def test_each_mode_has_a_known_default_model() -> None:
    """upload, live and batch each name a model backcheck can provision; live's "auto",
    analyze_video's, the CLI's and the app's defaults follow the table (docs/models.md), a
    named model wins."""
    import inspect

    from backcheck.cli import _build_parser
    from backcheck.pipeline import analyze_video
    from backcheck.ui.settings import Settings
    from models.registry import MODE_DEFAULTS, MODELS
    from vision.live import choose_live_model

    assert set(MODE_DEFAULTS) == {"upload", "live", "batch"}
    assert set(MODE_DEFAULTS.values()) <= set(MODELS)
    assert choose_live_model("auto") == MODE_DEFAULTS["live"]
    assert choose_live_model("lite") == "lite"
    assert inspect.signature(analyze_video).parameters["model"].default == MODE_DEFAULTS["upload"]
    parser = _build_parser()
    assert parser.parse_args(["analyze", "clip.mp4"]).model == MODE_DEFAULTS["upload"]
    assert parser.parse_args(["batch", "clips/", "--out", "o"]).model == MODE_DEFAULTS["batch"]
    assert Settings.from_args([], {}).model == MODE_DEFAULTS["upload"]
