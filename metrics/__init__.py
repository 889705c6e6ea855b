"""Numbers only: pose tracks in, angles, reps, holds, flags and cues out.

This package imports numpy and nothing that knows about pixels, video or UI
(no cv2, av, mediapipe or streamlit), so every rule can be tested on landmark arrays.
"""
