"""The trainer's app (Streamlit), split by concept.

- `upload_page`: pick a client, upload, progress, then the result.
- `history_page`: a client's profile, neutral calibration, sessions and progress.
- `results`: one saved session on screen (cues, video, scrubber, reps, charts, downloads).
- `charts`: Altair charts; `printable`: the one-page client report (HTML).
- `clients`: client picker and profile form; `uploads`: upload → analysis → saved session.
- `verdicts`: what the pages say about a report, without Streamlit.
- `settings`: database path and model.

app.py only lays the pages out.
"""
