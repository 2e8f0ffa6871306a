"""MediaPipe's 33-landmark pose layout, and the leg landmarks this project uses.

"Left" and "right" are always the **dancer's own** sides, as in MediaPipe: when the dancer faces the
camera her left side appears on the image's right. Arrays indexed by side use ``SIDES`` order:
index 0 = dancer's left, index 1 = dancer's right.
"""

from __future__ import annotations

import numpy as np

NUM_LANDMARKS = 33

LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)
assert len(LANDMARK_NAMES) == NUM_LANDMARKS

NOSE = 0
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12
LEFT_HIP, RIGHT_HIP = 23, 24
LEFT_KNEE, RIGHT_KNEE = 25, 26
LEFT_ANKLE, RIGHT_ANKLE = 27, 28
LEFT_HEEL, RIGHT_HEEL = 29, 30
LEFT_FOOT_INDEX, RIGHT_FOOT_INDEX = 31, 32

def _mirror_index() -> np.ndarray:
    swap = {"left": "right", "right": "left"}
    names = ["_".join(swap.get(part, part) for part in name.split("_")) for name in LANDMARK_NAMES]
    return np.array([LANDMARK_NAMES.index(name) for name in names])


MIRROR_INDEX: np.ndarray = _mirror_index()
"""(33,) the landmark that landmark i becomes in a mirrored image (left and right swapped):
``xy_mirrored[:, MIRROR_INDEX]`` puts a mirrored image's landmarks back in this layout."""
MIRROR_INDEX.setflags(write=False)

SIDES: tuple[str, str] = ("left", "right")
"""Side order of every per-side axis in the project: 0 = dancer's left, 1 = dancer's right."""

LEG_JOINTS: tuple[str, ...] = ("hip", "knee", "ankle", "heel", "foot_index")
"""Joint order of the second axis of ``LEG_INDEX``."""

LEG_INDEX: np.ndarray = np.array(
    [
        [LEFT_HIP, LEFT_KNEE, LEFT_ANKLE, LEFT_HEEL, LEFT_FOOT_INDEX],
        [RIGHT_HIP, RIGHT_KNEE, RIGHT_ANKLE, RIGHT_HEEL, RIGHT_FOOT_INDEX],
    ]
)
"""(2 sides, 5 joints) landmark indices; ``xy[:, LEG_INDEX]`` gives (frames, 2, 5, 2)."""
LEG_INDEX.setflags(write=False)

HIP, KNEE, ANKLE, HEEL, FOOT_INDEX = range(5)
"""Positions of each joint along the joints axis of ``LEG_INDEX``."""

LEG_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (LEFT_HIP, RIGHT_HIP),
    (LEFT_HIP, LEFT_KNEE), (LEFT_KNEE, LEFT_ANKLE), (LEFT_ANKLE, LEFT_HEEL),
    (LEFT_HEEL, LEFT_FOOT_INDEX), (LEFT_ANKLE, LEFT_FOOT_INDEX),
    (RIGHT_HIP, RIGHT_KNEE), (RIGHT_KNEE, RIGHT_ANKLE), (RIGHT_ANKLE, RIGHT_HEEL),
    (RIGHT_HEEL, RIGHT_FOOT_INDEX), (RIGHT_ANKLE, RIGHT_FOOT_INDEX),
    (LEFT_SHOULDER, RIGHT_SHOULDER), (LEFT_SHOULDER, LEFT_HIP), (RIGHT_SHOULDER, RIGHT_HIP),
)
"""Landmark pairs drawn as the lower-body skeleton (plus the trunk outline)."""
