"""View classification on synthetic figures turned about the vertical axis."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from metrics.clean import clean_track
from metrics.landmarks import Landmark as L
from metrics.view import (
    THRESHOLDS,
    classify_view,
    estimate_yaw,
    view_evidence,
    yaw_from_widths,
)
from tests.stickfigure import make_track, plank_pose

HINGE = [(a, 180.0 - a, 170.0, 180.0) for a in 40 - 40 * np.cos(np.linspace(0, 4 * np.pi, 60))]
PLANK = [plank_pose(3.0 * np.sin(k / 5), 12.0) for k in range(40)]


def test_yaw_from_widths_upright_and_horizontal() -> None:
    # Upright torso 100 px: sin(yaw) = width / torso. Horizontal torso seen at yaw φ is
    # 100 cos φ long: tan(yaw) = width / that.
    yaw = yaw_from_widths(np.array([0.0, 50.0, 100.0, 100.0]), np.array([[0, 100.0]] * 4))
    np.testing.assert_allclose(yaw, [0.0, 30.0, 90.0, 90.0], atol=1e-9)
    phi = np.radians(40.0)
    yaw = yaw_from_widths(np.array([100 * np.sin(phi)]), np.array([[100 * np.cos(phi), 0.0]]))
    np.testing.assert_allclose(yaw, [40.0], atol=1e-9)


@pytest.mark.parametrize("facing", ["right", "left"])
@pytest.mark.parametrize("yaw", [0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0, -20.0, -50.0])
@pytest.mark.parametrize("motion", ["hinge", "plank"])
def test_estimated_yaw_matches_the_turned_figure(facing: str, yaw: float, motion: str) -> None:
    poses = HINGE if motion == "hinge" else PLANK
    tr = make_track(poses, facing=facing, yaw_deg=yaw, noise_px=2.0)  # type: ignore[arg-type]
    combined, image, world = estimate_yaw(tr)
    tol = 3.0 if abs(yaw) < 80 else 8.0  # near 90° the arcsin is flat and noise biases low
    assert np.nanmedian(image) == pytest.approx(abs(yaw), abs=tol)
    assert np.nanmedian(world) == pytest.approx(abs(yaw), abs=0.5)
    assert np.nanmedian(combined) == pytest.approx(abs(yaw), abs=tol)


@pytest.mark.parametrize("facing", ["right", "left"])
@pytest.mark.parametrize(
    ("yaw", "camera", "judgeable"),
    [
        (0.0, "side", True),
        (15.0, "side", True),
        (-25.0, "side", True),
        (38.0, "oblique", False),
        (45.0, "oblique", False),
        (-50.0, "oblique", False),
        (70.0, "front", False),
        (90.0, "front", False),
    ],
)
@pytest.mark.parametrize("motion", ["hinge", "plank"])
def test_classify_view(facing: str, yaw: float, camera: str, judgeable: bool, motion: str) -> None:
    poses = HINGE if motion == "hinge" else PLANK
    tr = make_track(poses, facing=facing, yaw_deg=yaw, noise_px=2.0)  # type: ignore[arg-type]
    v = classify_view(tr)
    assert (v.camera, v.judgeable) == (camera, judgeable)
    if judgeable:
        assert v.reason is None and v.facing == facing
    else:
        assert v.reason and "side" in v.reason and v.facing is None
    if camera == "front":
        assert v.reason and v.reason.startswith("Filmed from the front")


def test_cut_off_feet_not_judgeable() -> None:
    # Hips low in a 1600 px frame: the ankles (0.88 m = 440 px below the hip) fall out.
    tr = make_track(HINGE, facing="left", hip_px=(800.0, 1300.0))
    ev = view_evidence(tr)
    assert ev.missing["ankle"] == 1.0 and ev.missing["shoulder"] == 0.0
    v = classify_view(tr)
    assert v.camera == "side" and not v.judgeable
    assert v.reason and "feet" in v.reason and "whole body" in v.reason


def test_cut_off_after_cleaning_is_still_not_judgeable() -> None:
    # The visibility gate removes the out-of-frame ankles' positions: where they were is
    # unknown, so they count as not seen.
    tr = clean_track(make_track(HINGE, facing="left", hip_px=(800.0, 1300.0)))
    v = classify_view(tr)
    assert v.camera == "side" and not v.judgeable
    assert v.reason and "feet can't be seen" in v.reason and "head to feet" in v.reason


def test_briefly_cut_off_is_still_judgeable() -> None:
    # The shoulder leaves the top of the frame for a third of the clip (e.g. at lockout).
    tr = make_track(HINGE, facing="right", hip_px=(800.0, 240.0))
    ev = view_evidence(tr)
    assert 0.1 < ev.missing["shoulder"] < 1 - THRESHOLDS.min_complete_fraction
    assert classify_view(tr).judgeable


def test_too_few_frames_is_unknown() -> None:
    tr = make_track(HINGE[:5], facing="right")
    v = classify_view(tr)
    assert (v.camera, v.judgeable) == ("unknown", False)
    assert v.reason and "5 frames" in v.reason


def test_person_turning_during_the_clip_is_not_judgeable() -> None:
    yaws = np.where(np.arange(len(HINGE)) < 33, 10.0, 85.0)  # 55 % side-on, then front-on
    tr = make_track(HINGE, facing="right", yaw_deg=yaws, noise_px=2.0)
    v = classify_view(tr)
    assert v.camera == "side" and not v.judgeable
    assert v.reason and "turns" in v.reason


def test_hidden_knee_is_not_judgeable_but_an_ankle_behind_a_plate_is() -> None:
    tr = make_track(HINGE, facing="right", noise_px=2.0)
    vis = tr.visibility.copy()
    vis[:, L.RIGHT_ANKLE] = 0.25  # in frame, behind the plate
    assert classify_view(replace(tr, visibility=vis)).judgeable
    vis[:, L.RIGHT_KNEE] = 0.25
    v = classify_view(replace(tr, visibility=vis))
    assert v.camera == "side" and not v.judgeable
    assert v.reason and "knees can't be seen" in v.reason
