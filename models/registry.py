"""The pose models backcheck knows, as data: names, official URLs, checksums, and the
recipes for building them when the official download is out of reach: ``full`` from the
MediaPipe wheel on PyPI, ``lite`` and ``heavy`` by swapping the landmark network of the
npm package ``@mediapipe/pose`` into that same bundle.

Nothing here touches the network or the disk; `models.provision` acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

_OFFICIAL_ROOT = "https://storage.googleapis.com/mediapipe-models/pose_landmarker"

# Members of every pose-landmarker `.task` bundle (a zip), as MediaPipe Tasks expects them.
TASK_DETECTOR = "pose_detector.tflite"
TASK_LANDMARKER = "pose_landmarks_detector.tflite"
TASK_MEMBERS = (TASK_DETECTOR, TASK_LANDMARKER)


@dataclass(frozen=True)
class ModelSpec:
    """One known pose model.

    Attributes
    ----------
    key : short name used on the command line (``lite``, ``full``, ``heavy``).
    name : official model name, also the cached file's stem (``pose_landmarker_full``).
    url : official download of the `.task` bundle.
    sha256 : published checksum of the official file, or None when none is published
        (``latest`` URLs change; the checksum of a downloaded copy is then recorded in
        the cache manifest and checked on every later use).
    built_from : where the offline build takes its landmark network: ``wheel`` (the
        MediaPipe wheel on PyPI) or ``npm`` (the ``@mediapipe/pose`` package); None when
        the model cannot be built.
    """

    key: str
    name: str
    url: str
    sha256: str | None = None
    built_from: Literal["wheel", "npm"] | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}.task"

    @property
    def buildable(self) -> bool:
        return self.built_from is not None


def _official(key: str, built_from: Literal["wheel", "npm"]) -> ModelSpec:
    name = f"pose_landmarker_{key}"
    return ModelSpec(
        key=key,
        name=name,
        url=f"{_OFFICIAL_ROOT}/{name}/float16/latest/{name}.task",
        sha256=None,
        built_from=built_from,
    )


MODELS: dict[str, ModelSpec] = {
    "lite": _official("lite", "npm"),
    "full": _official("full", "wheel"),
    "heavy": _official("heavy", "npm"),
}
DEFAULT_MODEL = "full"
# Each mode's model, chosen from the lite/full/heavy trade-off in docs/models.md: lite
# raised four false flags and missed a rep on the labelled clips to save an eighth of a
# run's CPU (the person detector, run on every frame, costs all three the same); heavy
# costs 1.8 times the CPU and left four side-view clips and two planks unjudged.
MODE_DEFAULTS: dict[str, str] = {"upload": "full", "live": "full", "batch": "full"}
# The faster pose pass (`vision.headcount`), a choice for upload and batch alike, never a
# default: it changes verdicts on the labelled clips (docs/models.md).
FAST_PASS_HELP = (
    "follow one pose and look for others once a second: about a third less model time, "
    "with verdicts that can differ on borderline reps (docs/models.md)"
)


def find_spec(name: str) -> ModelSpec | None:
    """The spec for a short key (``full``) or official name (``pose_landmarker_full``)."""
    key = name.strip().lower()
    if key in MODELS:
        return MODELS[key]
    for spec in MODELS.values():
        if key in (spec.name, spec.filename):
            return spec
    return None


def landmark_title(key: str) -> str:
    """The metadata title of a landmark network (the only metadata that names the model)."""
    return f"BlazePose GHUM 3D landmarks ({key})"


# --- The offline fallback: pose_landmarker_full built from the mediapipe wheel ----------
#
# The legacy `mediapipe.solutions.pose` wheels ship the same BlazePose detector and
# full landmark network the official bundle holds, as bare .tflite files. Any
# platform's wheel of this version holds byte-identical copies.

WHEEL_PROJECT = "mediapipe"
WHEEL_VERSION = "0.10.21"
# Used when no wheel of WHEEL_VERSION exists for the running interpreter.
WHEEL_FALLBACK_PLATFORM = "manylinux_2_28_x86_64"
WHEEL_FALLBACK_PYTHON = "3.11"


@dataclass(frozen=True)
class WheelPart:
    """One network taken from the wheel and how its input is normalised.

    ``mean`` / ``std`` describe the float input the network expects:
    ``input = (pixel - mean) / std`` on 0..255 RGB pixels.
    """

    wheel_path: str
    sha256: str
    task_member: str
    title: str
    mean: float
    std: float
    input_range: tuple[float, float]
    output_names: tuple[str, ...]


WHEEL_PARTS = (
    WheelPart(
        wheel_path="mediapipe/modules/pose_detection/pose_detection.tflite",
        sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
        task_member=TASK_DETECTOR,
        title="BlazePose person detector",
        mean=127.5,
        std=127.5,
        input_range=(-1.0, 1.0),
        output_names=("raw_boxes", "scores"),
    ),
    WheelPart(
        wheel_path="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
        task_member=TASK_LANDMARKER,
        title=landmark_title("full"),
        mean=0.0,
        std=255.0,
        input_range=(0.0, 1.0),
        output_names=("landmarks", "pose_flag", "segmentation", "heatmap", "world_landmarks"),
    ),
)


# --- lite and heavy: the landmark network from the npm package -----------------------------
#
# `@mediapipe/pose` (Apache-2.0) ships Google's three BlazePose GHUM landmark networks as
# bare .tflite files (its `full` is byte-identical to the wheel's). A lite or heavy bundle is
# the built full bundle with its landmark network swapped for the package's, under the same
# input metadata: same detector, same inputs and outputs, only the network's size differs.

NPM_PACKAGE = "@mediapipe/pose"
NPM_VERSION = "0.5.1675469404"


@dataclass(frozen=True)
class NpmNetwork:
    """A landmark network inside the npm package's tarball, with its pinned sha256."""

    tar_path: str
    sha256: str


NPM_LANDMARKS: dict[str, NpmNetwork] = {
    "lite": NpmNetwork(
        "package/pose_landmark_lite.tflite",
        "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    ),
    "heavy": NpmNetwork(
        "package/pose_landmark_heavy.tflite",
        "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
    ),
}

# sha256 of each `.task` the builder writes, by model. The bytes depend only on the pinned
# networks above and on how the `flatbuffers` package lays out a re-packed model:
# flatbuffers 25.12 changed how it shares vtables, so each encoder generation has its
# pin (full checked with flatbuffers 2.0.7, 24.3.25, 25.9.23 and 25.12.19; lite and heavy
# with 24.3.25 and 25.12.19). Both load and give the same landmarks; they differ only in
# layout. A lite or heavy build holds the full build's detector, so it follows full's
# generation.
BUILT_SHA256: dict[str, dict[str, str]] = {
    "full": {
        "flatbuffers>=25.12": "fa000fc8f119ec0ef289282f960fab36d74e65d7584bc7be53d0feee8fd4a88d",
        "flatbuffers<25.12": "2192bd6ee2087052171ccf7e8dd1bc8416eeccfb945a7448750ff104c1f21389",
    },
    "lite": {
        "flatbuffers>=25.12": "1e11128e0a368aa7cc867eacf0e52e423cf15e3ea33e499cab0ea7cdecfab5dc",
        "flatbuffers<25.12": "14297f04f2ba992b0eccc874c9eef46d8ce30000b40a7a9b5f09cc8042298f6d",
    },
    "heavy": {
        "flatbuffers>=25.12": "d1abb299c9649187b8bf93442c65504b174f2c9c3b97f0ce726bb168d8cd9350",
        "flatbuffers<25.12": "2c0ba24bbdc7ab8c8e260a9534e6fa1b6113ce2e3cd310e816ed6862c56a4c3d",
    },
}
