"""The printable one-page report for the client: self-contained HTML (images inlined),
laid out for an A4 or Letter page, that any browser prints or saves as PDF."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from html import escape
from pathlib import Path

from backcheck.ui.verdicts import hold_rows, praise_and_cues, rep_rows, worst_moments
from metrics.errors import AnalysisError
from metrics.report import Report

MAX_IMAGES = 3

_CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font: 11pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1c1c1c; max-width: 190mm; margin: 0 auto; padding: 8mm; }
header { display: flex; justify-content: space-between; align-items: baseline;
         border-bottom: 2px solid #1c6e4a; padding-bottom: 4px; margin-bottom: 10px; }
header h1 { font-size: 18pt; margin: 0; color: #1c6e4a; }
header .meta { text-align: right; font-size: 9.5pt; color: #555; }
h2 { font-size: 12pt; margin: 12px 0 4px; color: #1c6e4a; }
.praise { background: #eaf6ee; border-left: 4px solid #2e9b5f; padding: 6px 10px; }
ol.cues { margin: 4px 0 0 18px; padding: 0; }
ol.cues li { margin-bottom: 4px; }
.camera { background: #fff4e0; border-left: 4px solid #e09b1a; padding: 6px 10px; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: left; }
th { background: #f3f5f4; }
.frames { display: flex; gap: 8px; }
.frames figure { margin: 0; flex: 1; text-align: center; }
.frames img { max-width: 100%; max-height: 55mm; border-radius: 4px; }
.frames figcaption { font-size: 9pt; color: #555; }
footer { margin-top: 12px; font-size: 8.5pt; color: #666; border-top: 1px solid #ddd;
         padding-top: 4px; }
.print { float: right; }
@media print { .print { display: none; } body { padding: 0; } }
"""


def report_html(
    report: Report,
    *,
    client: str,
    when: datetime | str,
    frames: Sequence[tuple[str, bytes]] = (),
) -> str:
    """The page as one HTML string; `frames` are (caption, JPEG bytes) of worst moments."""
    date = when.strftime("%d %b %Y") if isinstance(when, datetime) else str(when)[:10]
    praise, cues = praise_and_cues(report)
    what = "Plank" if report.exercise == "plank" else "Hip hinge"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>backcheck: {escape(client)}, {escape(date)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<button class='print' onclick='window.print()'>Print</button>",
        "<header><h1>backcheck</h1><div class='meta'>",
        f"<strong>{escape(client)}</strong><br>{escape(what)} · {escape(date)}<br>",
        f"{escape(report.source.file)} · {report.source.duration_s:.0f} s</div></header>",
    ]
    if not report.view.judgeable:
        parts.append(
            "<div class='camera'><strong>We couldn't judge the back from this camera "
            f"angle.</strong> {escape(report.view.reason or '')}</div>"
        )
    if praise:
        parts.append("<h2>What went well</h2>")
        parts += [f"<div class='praise'>{escape(c.text)}</div>" for c in praise]
    if cues and report.view.judgeable:
        parts.append("<h2>What to work on next</h2><ol class='cues'>")
        parts += [f"<li>{escape(c.text)}</li>" for c in cues]
        parts.append("</ol>")
    if frames:
        parts.append("<h2>Moments to look at</h2><div class='frames'>")
        for caption, jpeg in list(frames)[:MAX_IMAGES]:
            data = base64.b64encode(jpeg).decode("ascii")
            parts.append(
                f"<figure><img alt='{escape(caption)}' src='data:image/jpeg;base64,{data}'>"
                f"<figcaption>{escape(caption)}</figcaption></figure>"
            )
        parts.append("</div>")
    rows = rep_rows(report)
    if rows:
        parts.append("<h2>Rep by rep</h2><table><tr>")
        parts += [f"<th>{escape(k)}</th>" for k in rows[0]]
        parts.append("</tr>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row.values()) + "</tr>")
        parts.append("</table>")
    hold = hold_rows(report)
    if hold:
        parts.append("<h2>The hold</h2><table>")
        parts += [f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in hold]
        parts.append("</table>")
    parts.append(
        "<footer>backcheck describes how you moved on this video; it does not diagnose "
        "anything. Aim for better, not perfect. If something hurts, see a qualified "
        "clinician.</footer></body></html>"
    )
    return "".join(parts)


def moment_frames(
    report: Report, video: Path | None, limit: int = MAX_IMAGES
) -> list[tuple[str, bytes]]:
    """JPEG stills of the worst moments (flagged ones first) from the annotated video."""
    if video is None or not video.exists():
        return []
    from vision.still import encode_jpeg, frame_at

    moments = worst_moments(report)
    flagged = [m for m in moments if not m.label.endswith(": bottom")]
    chosen = (flagged or moments)[:limit]
    out = []
    for m in chosen:
        try:
            rgb = frame_at(video, m.t, max_side=480)
        except (AnalysisError, OSError, ValueError):  # a still is a nicety, not a must
            continue
        out.append((f"{m.label} ({m.t:.1f} s)", encode_jpeg(rgb, quality=80)))
    return out
