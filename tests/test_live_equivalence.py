"""The live path and the upload path give the same reps, holds and flags on the same set.

- Saved tracks (the upload path's pose pass on real clips): each frame's raw landmarks go
  through `LiveAnalyzer` one by one, exactly as the camera path feeds them, and the result
  is compared with `analyze_track` on the whole track.
- A real clip (marker `clips`): its frames go through `LiveSession` with the pose model,
  and the result is compared with `analyze_video` on the same clip.

Tracks: tests/data/live/<stem>.npz (hinge clips, with the back outline the spine rules
read) and tests/data/tracks/<stem>.npz (planks), written by `backcheck.pipeline
.extract_track` from ../shared/data/clips.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from metrics.analysis import analyze_track
from metrics.live import LiveAnalyzer, LiveExercise, PoseSample
from metrics.report import Flag
from metrics.track import PoseTrack

DATA = Path(__file__).resolve().parent / "data"
HINGES = {"0016c_1": 10, "0016r_1": 10}  # labelled rep counts (clips.csv)
# Hinge tracks of tests/data/tracks (some cut short, no back outline): knee-dominant
# reps, leaning back at lockout, partial pulls, a good morning.
OTHER_HINGES = (
    "0016k_1",
    "yfgd_good_02",
    "yfgd_bad_05",
    "posereader_good",
    "posereader_rdl",
    "coach_kb_good_morning",
)
PLANKS = ("forearm_plank_correct", "yogai_high_plank", "coach_high_plank_oblique")


def _samples(track: PoseTrack) -> list[PoseSample]:
    """The track's frames as the pose model hands them to the live path."""
    out = []
    for i in range(len(track)):
        if not np.isfinite(track.image[i, :, 0]).any():
            out.append(PoseSample(float(track.t[i]), size=(track.width, track.height)))
            continue
        edges = None
        if track.back_contour is not None:  # the saved track kept the back's side only
            edges = np.repeat(track.back_contour[i][:, None, :], 2, axis=1)
        out.append(
            PoseSample(
                float(track.t[i]),
                track.image[i],
                track.world[i],
                track.visibility[i],
                edges,
                int(track.others[i]),
                (track.width, track.height),
            )
        )
    return out


def _replay(track: PoseTrack, exercise: LiveExercise) -> tuple[LiveAnalyzer, tuple[Flag, ...]]:
    analyzer = LiveAnalyzer(exercise)
    for sample in _samples(track):
        analyzer.update(sample)
    return analyzer, analyzer.finish()


def _rep_flags(flags: list[Flag] | tuple[Flag, ...]) -> set[tuple[str, int | None]]:
    return {(f.code, f.rep) for f in flags}


@pytest.mark.parametrize("stem", sorted(HINGES))
def test_hinge_reps_and_flags_agree_on_a_real_track(stem: str) -> None:
    track = PoseTrack.load(DATA / "live" / f"{stem}.npz")
    upload = analyze_track(track, exercise="hinge")
    analyzer, flags = _replay(track, "hinge")
    live_reps = analyzer.monitor.counter.reps  # type: ignore[attr-defined]
    assert len(live_reps) == len(upload.result.reps) == HINGES[stem]
    for live, up in zip(live_reps, upload.result.reps, strict=True):
        # The one-euro filter is causal: the live rep ends a frame or three later.
        assert -0.001 <= live.end_s - up.end_s <= 0.2  # report times: 3 decimals
        assert abs(live.bottom_s - up.bottom_s) <= 0.25
    assert _rep_flags(flags) == _rep_flags(upload.result.flags)


@pytest.mark.parametrize("stem", OTHER_HINGES)
def test_hinge_reps_and_flags_agree_on_other_real_tracks(stem: str) -> None:
    track = PoseTrack.load(DATA / "tracks" / f"{stem}.npz")
    upload = analyze_track(track, exercise="hinge")
    analyzer, flags = _replay(track, "hinge")
    live_reps = analyzer.monitor.counter.reps  # type: ignore[attr-defined]
    assert len(live_reps) == len(upload.result.reps)
    for live, up in zip(live_reps, upload.result.reps, strict=True):
        assert -0.001 <= live.end_s - up.end_s <= 0.2  # report times: 3 decimals
    assert _rep_flags(flags) == _rep_flags(upload.result.flags)


# Away from side-on both paths count with the shoulders' drop (metrics.hinge
# .rep_params_for): tests/data/tracks/hinge/<stem>.npz, with the labelled view and count
# (deadlift_front_view is cut after its second rep).
VIEWS = {"0016c_2": ("oblique", 3), "deadlift_front_view": ("front", 2)}


@pytest.mark.parametrize("stem", sorted(VIEWS))
def test_hinge_reps_agree_from_the_front_and_oblique(stem: str) -> None:
    track = PoseTrack.load(DATA / "tracks" / "hinge" / f"{stem}.npz")
    upload = analyze_track(track, exercise="hinge")
    analyzer, flags = _replay(track, "hinge")
    camera, n_reps = VIEWS[stem]
    assert upload.view.camera == camera and not upload.view.judgeable
    assert analyzer.view is not None and analyzer.view.camera == camera
    live_reps = analyzer.monitor.counter.reps  # type: ignore[attr-defined]
    assert analyzer.monitor.counter.params.shoulder_drop  # type: ignore[attr-defined]
    assert len(live_reps) == len(upload.result.reps) == n_reps
    for live, up in zip(live_reps, upload.result.reps, strict=True):
        assert -0.001 <= live.end_s - up.end_s <= 0.2  # report times: 3 decimals
        assert abs(live.bottom_s - up.bottom_s) <= 0.25
    assert _rep_flags(flags) == _rep_flags(upload.result.flags) == set()  # not judgeable


def test_rounded_back_is_cued_live_from_the_first_flagged_rep() -> None:
    track = PoseTrack.load(DATA / "live" / "0016r_1.npz")
    analyzer = LiveAnalyzer("hinge")
    states = [analyzer.update(s) for s in _samples(track)]
    upload = analyze_track(track, exercise="hinge")
    first = min(f.rep or 0 for f in upload.result.flags if f.code == "spine_flexion")
    assert first >= 1
    rep_end = upload.result.reps[first - 1].end_s
    cued = [s.t for s in states if s.cue is not None and s.cue.code == "spine_flexion"]
    assert cued, "no cue"
    # Judged once the rep's lockout window (1.5 s) is over: within 2 s of its lockout.
    assert rep_end < cued[0] <= rep_end + 2.0
    assert {s.cue.code for s in states if s.cue is not None} == {"spine_flexion"}


@pytest.mark.parametrize("stem", PLANKS)
def test_plank_hold_and_flags_agree_on_a_real_track(stem: str) -> None:
    track = PoseTrack.load(DATA / "tracks" / f"{stem}.npz")
    upload = analyze_track(track, exercise="plank")
    analyzer, flags = _replay(track, "plank")
    live = analyzer.monitor.timer.result().main  # type: ignore[attr-defined]
    up = upload.result.hold
    assert (live is None) == (up is None)
    if up is not None:
        assert abs(live.hold.start_s - up.start_s) <= 0.2
        assert abs(live.hold.end_s - up.end_s) <= 0.2
    assert {f.code for f in flags} == {f.code for f in upload.result.flags}
    for f in flags:  # each live flag covers the same moment as an upload flag
        assert any(
            u.code == f.code and u.start_s <= f.end_s and f.start_s <= u.end_s
            for u in upload.result.flags
        )


@pytest.mark.clips
def test_live_session_on_a_clip_matches_the_upload(tmp_path: Path, shared_data: Path) -> None:
    """Real pose: the first 9 s of a rounded-back set (3 reps), live and uploaded."""
    from backcheck.pipeline import UPLOAD_NUM_POSES, analyze_video
    from vision.live import LiveSession
    from vision.video import VideoWriter, iter_frames

    clip = tmp_path / "three_reps.mp4"
    with VideoWriter(clip, max_side=None, fps=30.0) as writer:
        for frame in iter_frames(shared_data / "clips" / "kettlebell" / "0016r_1.mp4", max_fps=30):
            if frame.t >= 9.0:
                break
            writer.write(frame.rgb, frame.t)
        writer.close(end_t=9.0)
    # Both at 30 fps and following two poses, so the same frames meet the same model.
    upload = analyze_video(
        clip, out_dir=tmp_path / "upload", exercise="hinge", write_video=False, max_fps=30
    )

    with LiveSession(
        "hinge", model="full", num_poses=UPLOAD_NUM_POSES, masks=True, background_judging=False
    ) as session:
        for frame in iter_frames(clip, max_fps=30):
            session.process(frame.rgb, frame.t)
        flags = session.analyzer.finish()
        live_reps = session.analyzer.monitor.counter.reps  # type: ignore[attr-defined]
        recorded = session.recorded_track()
    up_reps = upload.report.reps
    assert len(live_reps) == len(up_reps) == 3
    for live, up in zip(live_reps, up_reps, strict=True):
        assert abs(live.end_s - up.end_s) <= 0.2
    # Live judges each rep on the frames so far (its standing neutral from fewer frames),
    # so a rep the upload calls borderline may pass live; nothing else may differ.
    live_set, up_set = _rep_flags(flags), _rep_flags(upload.report.flags)
    borderline = {
        (f.code, f.rep)
        for f in upload.report.flags
        if f.evidence is not None and f.evidence.get("call") == "borderline"
    }
    assert live_set <= up_set and up_set - live_set <= borderline, (live_set, up_set)
    assert len(live_set) >= 2
    assert {f.code for f in flags} == {"spine_flexion"}
    # The live path saw the very poses the upload saw.
    up_track = upload.analysis.track
    assert len(recorded) == len(up_track)
    np.testing.assert_allclose(recorded.t, up_track.t, atol=1e-6)
