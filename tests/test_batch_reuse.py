"""A batch worker's pose model is loaded once and lent from clip to clip, and a lent model
finds exactly what a freshly loaded one finds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import vision.pose
from vision.pose_pass import FramePoses, run_pose_pass
from vision.pose_reuse import keep_estimators, kept_count, release_estimators
from vision.video import probe

FIRST = "clips/deadlift/posereader_bad.mp4"
SECOND = "clips/deadlift/posereader_good.mp4"


def _pass(video: Path, model: Path) -> list[FramePoses]:
    info = probe(video)
    return run_pose_pass(
        video,
        model,
        max_fps=15.0,
        scale_to=640,
        full_size=(info.width, info.height),
        num_poses=2,
        duration_s=info.duration_s,
        workers=1,
    )


@pytest.mark.clips
def test_a_kept_model_is_loaded_once_and_finds_what_a_fresh_one_finds(
    shared_data: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = []
    real_init = vision.pose.PoseEstimator.__init__

    def counted(self: vision.pose.PoseEstimator, *args: object, **kwargs: object) -> None:
        loads.append(1)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vision.pose.PoseEstimator, "__init__", counted)
    fresh = _pass(shared_data / SECOND, model_path)
    assert len(loads) == 1
    keep_estimators()
    try:
        _pass(shared_data / FIRST, model_path)
        assert kept_count() == 1
        lent = _pass(shared_data / SECOND, model_path)  # after another clip
        again = _pass(shared_data / SECOND, model_path)
        assert kept_count() == 1
    finally:
        release_estimators()
    assert len(loads) == 2  # the fresh pass's, and the one kept for three clips
    assert kept_count() == 0
    for run in (lent, again):
        assert [f.t for f in run] == [f.t for f in fresh]
        for a, b in zip(run, fresh, strict=True):
            assert len(a.people) == len(b.people)
            for pa, pb in zip(a.people, b.people, strict=True):
                np.testing.assert_allclose(pa.image, pb.image, atol=1e-3)
                np.testing.assert_allclose(pa.visibility, pb.visibility, atol=1e-4)
