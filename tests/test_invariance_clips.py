"""The verdict of a few labelled side-view clips survives each invariance transform.

Real MediaPipe on real clips and their copies (vision/transforms.py): a short pull from
the floor (posereader_good, 30 fps), a 1080p outdoor lockout (yfgd_good_02, 30 fps), and
the first 7 s of a 60 fps kettlebell set (0016c_1, two reps) for the 30 fps copy. The full
table over every clip is `backcheck evaluate`'s job (docs/evaluation.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backcheck.evaluation.tracks import Analyses, TrackCache
from backcheck.evaluation.verdict import Verdict, differences
from vision.transforms import CONTROL, TRANSFORMS, applies

pytestmark = pytest.mark.clips

CUT_S = 7.0
CLIPS = ("deadlift/posereader_good.mp4", "deadlift/yfgd_good_02.mp4", "kettlebell/0016c_1.mp4")


@pytest.fixture(scope="module")
def analyses(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Analyses:
    return Analyses(TrackCache(tmp_path_factory.mktemp("eval-tracks")))


@pytest.fixture(scope="module")
def clips(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The clips, the long 60 fps one cut to its first seconds (re-encoded at CRF 12)."""
    from vision.video import VideoWriter, iter_frames

    out = {}
    for rel in CLIPS:
        clip = shared_data / "clips" / rel
        if clip.stem == "0016c_1":
            cut = tmp_path_factory.mktemp("cut") / "0016c_1_first7s.mp4"
            with VideoWriter(cut, max_side=None, crf=12, threads=1) as w:
                for frame in iter_frames(clip, end_s=CUT_S):
                    w.write(frame.rgb, frame.t)
                w.close(end_t=CUT_S)
            clip = cut
        out[clip.stem.split("_first")[0]] = clip
    return out


# Known to change today (issue 13 is open; docs/evaluation.md's invariance table lists every
# change). Not strict: the copies are coded the same every run (vision.transforms), but the
# pose model's kernels differ between CPUs (AVX2, AVX-512), and these two sit near their
# lines. At 480 px the pose
# model does not find this small outdoor lifter until the lockout (the pull is not seen,
# its checks not judged) or loses the lean-back frames: a vision change, not a rule. The
# rotated copy's change (a lockout not seen) is gone from the shared cache's tracks.
KNOWN_CHANGES = {
    ("yfgd_good_02", "small480"): "at 480 px the pose pass misses the lifter's pull or lockout",
    # Passes here since the two-torso check (docs/ranges.md) drops the frames that made
    # the pull's deepest; left non-strict because those frames sit near the gate's lines
    # and another CPU's kernels may place them differently.
    ("yfgd_good_02", "short480"): "at 854x480, CRF 35, the near torso folds past 140° in the pull",
}

CASES = [
    pytest.param(
        Path(rel).stem,
        t,
        marks=(
            [pytest.mark.xfail(strict=False, reason=KNOWN_CHANGES[(Path(rel).stem, t)])]
            if (Path(rel).stem, t) in KNOWN_CHANGES
            else []
        ),
    )
    for rel in CLIPS
    for t in TRANSFORMS
    if t != CONTROL and applies(t, 60.0 if "0016" in rel else 30.0)
]


@pytest.mark.parametrize(("stem", "transform"), CASES)
def test_the_verdict_survives_the_transform(
    clips: dict[str, Path], analyses: Analyses, stem: str, transform: str
) -> None:
    before = Verdict.of(analyses(clips[stem]))
    after = Verdict.of(analyses(clips[stem], transform))
    assert before.error is None and before.reps, before.summary()
    assert differences(before, after) == [], (before.summary(), after.summary())
