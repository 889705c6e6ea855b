"""Names for the 33 BlazePose landmarks, and the left/right pairs used for side views."""

from __future__ import annotations

from enum import IntEnum

N_LANDMARKS = 33


class Landmark(IntEnum):
    """Index of each BlazePose landmark in a (33, ...) array."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


# Body parts that come as a left/right pair, for choosing the side nearer the camera.
SIDE_PARTS: dict[str, tuple[Landmark, Landmark]] = {
    "ear": (Landmark.LEFT_EAR, Landmark.RIGHT_EAR),
    "shoulder": (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER),
    "elbow": (Landmark.LEFT_ELBOW, Landmark.RIGHT_ELBOW),
    "wrist": (Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST),
    "hip": (Landmark.LEFT_HIP, Landmark.RIGHT_HIP),
    "knee": (Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE),
    "ankle": (Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE),
    "heel": (Landmark.LEFT_HEEL, Landmark.RIGHT_HEEL),
    "foot": (Landmark.LEFT_FOOT_INDEX, Landmark.RIGHT_FOOT_INDEX),
}

# Bones drawn as the skeleton (pairs of landmarks).
SKELETON: tuple[tuple[Landmark, Landmark], ...] = (
    (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER),
    (Landmark.LEFT_HIP, Landmark.RIGHT_HIP),
    (Landmark.LEFT_SHOULDER, Landmark.LEFT_HIP),
    (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_HIP),
    (Landmark.LEFT_SHOULDER, Landmark.LEFT_ELBOW),
    (Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST),
    (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_ELBOW),
    (Landmark.RIGHT_ELBOW, Landmark.RIGHT_WRIST),
    (Landmark.LEFT_HIP, Landmark.LEFT_KNEE),
    (Landmark.LEFT_KNEE, Landmark.LEFT_ANKLE),
    (Landmark.RIGHT_HIP, Landmark.RIGHT_KNEE),
    (Landmark.RIGHT_KNEE, Landmark.RIGHT_ANKLE),
    (Landmark.LEFT_ANKLE, Landmark.LEFT_HEEL),
    (Landmark.LEFT_HEEL, Landmark.LEFT_FOOT_INDEX),
    (Landmark.LEFT_ANKLE, Landmark.LEFT_FOOT_INDEX),
    (Landmark.RIGHT_ANKLE, Landmark.RIGHT_HEEL),
    (Landmark.RIGHT_HEEL, Landmark.RIGHT_FOOT_INDEX),
    (Landmark.RIGHT_ANKLE, Landmark.RIGHT_FOOT_INDEX),
    (Landmark.LEFT_EAR, Landmark.LEFT_SHOULDER),
    (Landmark.RIGHT_EAR, Landmark.RIGHT_SHOULDER),
)
