"""Angles on synthetic stick figures with known joint angles, facing right and left."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from metrics.angles import (
    ANGLE_SPECS,
    Angles,
    choose_side,
    compute_angles,
    facing_direction,
    signed_angle,
)
from metrics.landmarks import Landmark as L
from tests.stickfigure import SHANK_M, THIGH_M, make_track, plank_pose

TOL = 0.5  # degrees
FACINGS = ("right", "left")


def test_signed_angle_is_counter_clockwise_and_exact() -> None:
    x = np.array([1.0, 0.0])
    vs = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [1.0, 1.0], [np.nan, 1.0]])
    got = signed_angle(x, vs)
    np.testing.assert_allclose(got[:5], [0.0, 90.0, 180.0, -90.0, 45.0], atol=1e-12)
    assert np.isnan(got[5])


@pytest.mark.parametrize("facing", FACINGS)
def test_stick_figure_geometry_is_what_the_angles_claim(facing: str) -> None:
    # Independent of the angle code: a horizontal trunk with a 90° hip puts the shoulder
    # straight ahead of the hip (in the facing direction) and the knee straight below it.
    tr = make_track([(90.0, 90.0, 180.0, 180.0)], facing=facing)  # type: ignore[arg-type]
    img = tr.image[0]
    ahead = 1.0 if facing == "right" else -1.0
    sh, hp, kn = img[L.RIGHT_SHOULDER], img[L.RIGHT_HIP], img[L.RIGHT_KNEE]
    assert (sh[0] - hp[0]) * ahead == pytest.approx(250.0, abs=1e-3)  # 0.5 m at 500 px/m
    assert sh[1] == pytest.approx(hp[1], abs=1e-3)
    assert kn[0] == pytest.approx(hp[0], abs=1e-3)
    assert kn[1] - hp[1] == pytest.approx(THIGH_M * 500.0, abs=1e-3)  # below = larger y


@pytest.mark.parametrize("facing", FACINGS)
def test_trunk_inclination_is_signed_the_same_for_both_facings(facing: str) -> None:
    trunks = [0.0, 30.0, 60.0, 90.0, -15.0]
    poses = [(tr, 180.0 - tr, 180.0, 180.0) for tr in trunks]
    a = compute_angles(make_track(poses, facing=facing))  # type: ignore[arg-type]
    assert a.facing == facing
    np.testing.assert_allclose(a.trunk, trunks, atol=TOL)


@pytest.mark.parametrize("facing", FACINGS)
def test_hip_and_knee_angles_including_hyperextension(facing: str) -> None:
    poses = [
        (0.0, 180.0, 180.0, 180.0),  # standing tall
        (45.0, 120.0, 160.0, 180.0),  # hinge with soft knees
        (20.0, 95.0, 100.0, 180.0),  # squat-like
        (-10.0, 195.0, 185.0, 180.0),  # leaning back, knees locked back
    ]
    a = compute_angles(make_track(poses, facing=facing))  # type: ignore[arg-type]
    np.testing.assert_allclose(a.hip, [180.0, 120.0, 95.0, 195.0], atol=TOL)
    np.testing.assert_allclose(a.knee, [180.0, 160.0, 100.0, 185.0], atol=TOL)


@pytest.mark.parametrize("facing", FACINGS)
def test_neck_angle(facing: str) -> None:
    necks = [180.0, 150.0, 200.0]  # in line, head forward/down, head tipped back
    poses = [(40.0, 140.0, 170.0, n) for n in necks]
    a = compute_angles(make_track(poses, facing=facing))  # type: ignore[arg-type]
    np.testing.assert_allclose(a.neck, necks, atol=TOL)


@pytest.mark.parametrize("facing", FACINGS)
@pytest.mark.parametrize("tilt", [0.0, 15.0])
def test_plank_line_sign_is_sag_positive_pike_negative(facing: str, tilt: float) -> None:
    bends = [-20.0, -10.0, -5.0, 0.0, 5.0, 10.0, 25.0]
    tr = make_track([plank_pose(b, tilt) for b in bends], facing=facing)  # type: ignore[arg-type]
    a = compute_angles(tr)
    np.testing.assert_allclose(a.plank_line, bends, atol=TOL)
    # The figure really sags for positive bends: the hip is lower (larger y) than the
    # straight line from shoulder to ankle, measured directly in pixels.
    img = tr.image.astype(np.float64)
    sh, hp, an = img[:, L.RIGHT_SHOULDER], img[:, L.RIGHT_HIP], img[:, L.RIGHT_ANKLE]
    line_y = sh[:, 1] + (an[:, 1] - sh[:, 1]) * (hp[:, 0] - sh[:, 0]) / (an[:, 0] - sh[:, 0])
    b = np.array(bends)
    bent = b != 0
    np.testing.assert_array_equal(np.sign(hp[bent, 1] - line_y[bent]), np.sign(b[bent]))


def test_plank_line_is_independent_of_the_facing_estimate() -> None:
    tr = make_track([plank_pose(b, 10.0) for b in (-12.0, 0.0, 18.0)], facing="left")
    right = compute_angles(tr, facing="right").plank_line
    left = compute_angles(tr, facing="left").plank_line
    np.testing.assert_array_equal(right, left)
    np.testing.assert_allclose(left, [-12.0, 0.0, 18.0], atol=TOL)


def test_plank_line_undefined_when_standing() -> None:
    a = compute_angles(make_track([(0.0, 180.0, 180.0, 180.0), (10.0, 170.0, 180.0, 180.0)]))
    assert np.all(np.isnan(a.plank_line))


@pytest.mark.parametrize("facing", FACINGS)
def test_side_and_facing_chosen_from_the_clip(facing: str) -> None:
    poses = [(tr, 180.0 - tr, 170.0, 180.0) for tr in np.linspace(0, 80, 20)]
    tr = make_track(poses, facing=facing)  # type: ignore[arg-type]
    # Side-on, a person facing right shows the camera their right side.
    assert choose_side(tr) == facing
    assert facing_direction(tr) == facing


@pytest.mark.parametrize("facing", FACINGS)
def test_choose_side_from_visibility_alone_and_from_depth_alone(facing: str) -> None:
    tr = make_track([(30.0, 150.0, 170.0, 180.0)] * 5, facing=facing)  # type: ignore[arg-type]
    no_depth = tr.image.copy()
    no_depth[..., 2] = 0.0
    assert choose_side(replace(tr, image=no_depth)) == facing
    same_vis = np.full_like(tr.visibility, 0.9)
    assert choose_side(replace(tr, visibility=same_vis)) == facing


@pytest.mark.parametrize("facing", FACINGS)
def test_facing_of_a_plank_and_without_feet_or_face(facing: str) -> None:
    tr = make_track([plank_pose(0.0, 10.0)] * 10, facing=facing)  # type: ignore[arg-type]
    assert facing_direction(tr) == facing
    hinge = make_track(
        [(tr_, 180.0 - tr_, 170.0, 180.0) for tr_ in np.linspace(0, 70, 15)],
        facing=facing,  # type: ignore[arg-type]
    )
    img = hinge.image.copy()
    img[:, [L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX, L.NOSE]] = np.nan
    assert facing_direction(replace(hinge, image=img)) == facing


def test_heights_in_leg_lengths() -> None:
    a = compute_angles(make_track([(0.0, 180.0, 180.0, 180.0), plank_pose(0.0, 0.0)]))
    assert a.hip_height[0] == pytest.approx(1.0, abs=1e-3)
    assert a.hip_height[1] == pytest.approx(0.0, abs=1e-3)
    # Standing: the shoulder is a trunk length above the hip.
    assert a.shoulder_height[0] == pytest.approx(1.0 + 0.5 / (THIGH_M + SHANK_M), abs=1e-3)


def test_missing_landmarks_give_nan_only_where_missing() -> None:
    tr = make_track([(30.0, 150.0, 170.0, 180.0)] * 4, facing="right")
    img = tr.image.copy()
    img[2, L.RIGHT_KNEE] = np.nan
    a = compute_angles(replace(tr, image=img), side="right", facing="right")
    assert np.isnan(a.hip[2]) and np.isnan(a.knee[2])
    assert np.isfinite(a.trunk).all() and np.isfinite(a.neck).all()
    np.testing.assert_allclose(a.hip[[0, 1, 3]], 150.0, atol=TOL)


def test_columns_and_shapes() -> None:
    a = compute_angles(make_track([(30.0, 150.0, 170.0, 180.0)] * 3))
    cols = a.to_columns()
    assert list(cols) == [
        "t_s",
        "trunk_deg",
        "hip_deg",
        "knee_deg",
        "neck_deg",
        "plank_line_deg",
        "hip_height_leg",
        "shoulder_height_leg",
    ]
    assert all(v.shape == (3,) and v.dtype == np.float64 for v in cols.values())
    assert {s.name for s in ANGLE_SPECS} <= set(Angles.series_names())
    with pytest.raises(ValueError, match="shape"):
        Angles(
            t=np.zeros(3),
            trunk=np.zeros(2),
            hip=np.zeros(3),
            knee=np.zeros(3),
            neck=np.zeros(3),
            plank_line=np.zeros(3),
            hip_height=np.zeros(3),
            shoulder_height=np.zeros(3),
            side="left",
            facing="left",
        )
