"""Every labelled clip analyses cleanly: a valid report, a time series, a playable video."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics.report import validate_report_dict

pytestmark = pytest.mark.clips


def _video_duration(path: Path) -> tuple[float, str, str]:
    """The stream's duration as a player reports it (the muxed packets' span)."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.duration is not None and s.time_base is not None
        return float(s.duration * s.time_base), s.codec_context.name, s.codec_context.pix_fmt or ""


def test_clip_analyses_to_valid_outputs(
    labelled_clip: str, analysed_clips: dict[str, Path | str]
) -> None:
    clip = labelled_clip
    out = analysed_clips[clip]
    assert isinstance(out, Path), f"analysis failed: {out}"
    report = json.loads((out / "report.json").read_text())
    assert validate_report_dict(report) == []
    assert report["source"]["file"] == Path(clip).name
    rows = (out / "timeseries.csv").read_text().strip().splitlines()
    assert len(rows) > 10
    duration, codec, pix_fmt = _video_duration(out / "annotated.mp4")
    assert codec == "h264" and pix_fmt == "yuv420p"
    one_frame = 1.0 / report["source"]["fps"]
    assert abs(duration - report["source"]["duration_s"]) <= one_frame + 1e-3
