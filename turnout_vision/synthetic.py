"""Ground-truth generator: a 3D lower body doing demi-pliés in first position, seen by a pinhole camera.

The truth is built here from commanded parameters (foot rotation, leg rotation, knee flexion, ...)
and never from the analysis code, so the analysis can be scored against it.

Quick use::

    from turnout_vision.synthetic import Scene, Motion, Camera, Noise, generate, random_scene
    clip = generate(Scene(motion=Motion(leg_rotation_deg=(45, 45), below_knee_rotation_deg=(15, 15))), seed=1)
    clip.sequence          # PoseSequence (33 MediaPipe landmarks), like real extraction gives
    clip.truth.points_m    # (F, 2, 5, 3) true leg joints in the floor frame (hip, knee, ankle, heel, foot_index)
    clip.truth.floor_points()  # the truth as lifting.FloorPoints ("truth" lifter for tests)

    rng = np.random.default_rng(0)
    scene = random_scene(rng)   # random body, turnout, plié and camera within the documented ranges
    clip = generate(scene, seed=0)

Frames (see docs/CONVENTIONS.md)
--------------------------------
Everything is built in the **floor frame** (metres): origin on the floor midway between the heels,
x = the dancer's left, y = the dancer's forward, z = up (a mirror-image, i.e. left-handed, frame; all
angles are therefore defined per side with explicit components, never with cross products).
Side axis: 0 = dancer's left, 1 = dancer's right; ``OUT = (+1, -1)`` is the x sign pointing away from
the midline for each side.

Body and motion
---------------
- Segment lengths scale with stature (Winter's anthropometric ratios, randomisable): thigh, shank,
  ankle height, foot length, hip-joint width.
- First position: heels (back of the heel, on the floor) touch with a small gap; each foot's long axis
  (heel -> toe tip) points ``foot_rotation = leg_rotation + below_knee_rotation`` degrees out from
  straight ahead (+y), per side.
- Demi-plié: heels planted, ankles fixed above the foot axis, the pelvis lowers until each knee reaches
  its commanded flexion (cosine profile); each knee bends in the vertical half-plane that contains the
  hip-ankle line and the horizontal direction ``leg_rotation`` degrees out from +y (this is the leg's
  true external rotation: the knee travels that way).
- Rolling in (pronation): the ankle tips medially about the foot's long axis by ``rolling_deg`` at the
  bottom of the plié (proportional to depth).
- Sway: the pelvis moves sideways ``sway_m * sin(2 pi phase)`` during each plié; ``weight_shift_m`` is a
  constant sideways offset; ``pelvis_rotation_deg * sin(pi phase)`` turns the hip line (left hip
  forward = positive). Pelvis tilt results from unequal knee depths (``depth_deg`` per side).
- Other movements for negative cases: ``"standing"``, ``"weight_shift"`` (balancé-like side-to-side
  shifts with alternating single-knee bends), ``"tendu"`` (straight working leg slides out, pointed
  foot), ``"grand_plie"`` (knee flexion beyond 100 deg).

Camera and detector emulation
-----------------------------
Pinhole camera (square pixels, principal point at the image centre) at ``height_m`` above the floor,
``distance_m`` horizontally from the origin, orbiting ``yaw_deg`` about the vertical (positive = towards
the dancer's left), looking horizontally at the dancer then pitched by ``pitch_deg`` (negative = looking
down), vertical field of view ``vfov_deg``. Image landmarks get white + temporally correlated pixel
noise, occasional outliers, dropped frames (NaN rows) and timestamp jitter. World landmarks mimic
MediaPipe's: origin between the hips, camera-aligned axes (x = image right, y down, z away), depth
compressed and noisy, toes pulled towards the camera. With ``Noise.mediapipe_bias`` the 2D foot_index
lands short of the toe tip and the 2D heel above the floor contact, as MediaPipe's do.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import landmarks as lm
from .sequence import PoseSequence

OUT = np.array([1.0, -1.0])
"""x sign pointing away from the midline, per side (0 = dancer's left, 1 = right)."""

MOVEMENTS = ("plie", "grand_plie", "standing", "weight_shift", "tendu")

HEEL_HEIGHT_M = 0.025
"""Height of the heel landmark (back of the heel) above the floor, foot flat."""
TOE_HEIGHT_M = 0.015
"""Height of the foot_index landmark (toe tips) above the floor."""


# ---------------------------------------------------------------------------------------------- params
@dataclass(frozen=True)
class Body:
    """Body size. Lengths are stature times the ratio (Winter 2009), metres."""

    stature_m: float = 1.65
    thigh_ratio: float = 0.245
    shank_ratio: float = 0.246
    ankle_height_ratio: float = 0.039
    foot_length_ratio: float = 0.152
    hip_width_ratio: float = 0.105
    """Distance between the hip-joint centres / stature."""
    heel_to_ankle_frac: float = 0.22
    """How far along the foot (heel -> toe) the ankle sits, fraction of foot length."""
    heel_gap_m: float = 0.01
    """Gap between the two heels in first position."""

    @property
    def thigh_m(self) -> float:
        return self.stature_m * self.thigh_ratio

    @property
    def shank_m(self) -> float:
        return self.stature_m * self.shank_ratio

    @property
    def ankle_height_m(self) -> float:
        return self.stature_m * self.ankle_height_ratio

    @property
    def foot_length_m(self) -> float:
        return self.stature_m * self.foot_length_ratio

    @property
    def hip_width_m(self) -> float:
        return self.stature_m * self.hip_width_ratio


@dataclass(frozen=True)
class Motion:
    """What the dancer does. Per-side tuples are (dancer's left, dancer's right)."""

    kind: str = "plie"
    """One of ``MOVEMENTS``."""
    leg_rotation_deg: tuple[float, float] = (45.0, 45.0)
    """True external rotation of each leg (hip/thigh): the knee's travel direction from straight ahead."""
    below_knee_rotation_deg: tuple[float, float] = (15.0, 15.0)
    """Extra rotation below the knee (the forced part); foot rotation = leg + this."""
    depth_deg: tuple[float, float] = (45.0, 45.0)
    """Knee flexion at the bottom of each plié (about 100-130 for ``grand_plie``); for
    ``weight_shift``, the flexion of the softening (unweighted) knee (keep it about 10-20)."""
    standing_flexion_deg: float = 3.0
    n_reps: int = 2
    rep_duration_s: float = 3.0
    """Duration of one plié (down and up), or one tendu / one weight shift."""
    rest_s: float = 1.0
    """Standing time between reps."""
    lead_s: float = 1.5
    """Standing time before the first rep (the standing foot rotation is measured here)."""
    trail_s: float = 1.0
    rolling_deg: tuple[float, float] = (0.0, 0.0)
    """Medial tilt of each ankle about the foot axis at the bottom of the plié (pronation), degrees."""
    sway_m: float = 0.0
    """Amplitude of sideways pelvis motion during each rep (+ = towards the dancer's left first)."""
    weight_shift_m: float = 0.0
    """Constant sideways offset of the pelvis from the midpoint of the ankles (+ = dancer's left)."""
    pelvis_rotation_deg: float = 0.0
    """Peak yaw of the hip line during each rep (+ = left hip forward)."""
    tendu_side: str = "alternate"
    """Working leg of tendus: "left", "right" or "alternate"."""
    fps: float = 30.0

    @property
    def foot_rotation_deg(self) -> tuple[float, float]:
        return (self.leg_rotation_deg[0] + self.below_knee_rotation_deg[0],
                self.leg_rotation_deg[1] + self.below_knee_rotation_deg[1])


@dataclass(frozen=True)
class Camera:
    """Pinhole camera looking at the dancer (see module docstring for angles)."""

    height_m: float = 1.0
    distance_m: float = 3.0
    vfov_deg: float = 60.0
    pitch_deg: float = 0.0
    yaw_deg: float = 0.0
    width_px: int = 720
    height_px: int = 1280


@dataclass(frozen=True)
class Noise:
    """Detector emulation. Zero everything (``Noise.none()``) for exact projections."""

    pixel_sd_px: float = 1.5
    """Total one-sigma pixel noise per coordinate (half white, half temporally correlated)."""
    jitter_corr: float = 0.85
    """AR(1) coefficient of the correlated (frame-to-frame jitter) part."""
    outlier_frac: float = 0.003
    """Fraction of landmark samples replaced by a wild value (15-40 px off)."""
    dropout_frac: float = 0.02
    """Fraction of frames with no person (NaN rows), in bursts of 1-5 frames."""
    timestamp_jitter_s: float = 0.002
    world_depth_scale: float = 0.5
    """MediaPipe world depth (z) is compressed by this factor around the hips."""
    world_noise_m: tuple[float, float, float] = (0.01, 0.01, 0.03)
    """One-sigma noise of world landmarks in x, y, z (metres), temporally correlated."""
    world_toe_forward_m: float = 0.12
    """World foot_index is pulled this far towards the camera (MediaPipe under-reads turnout)."""
    mediapipe_bias: bool = False
    """Emulate MediaPipe's 2D foot biases (foot_index short of the toe tip, heel above the floor)."""
    toe_short_m: float = 0.05
    """With ``mediapipe_bias``: foot_index lands this far back from the toe tip along the foot
    (about 13-26 px at 720x1280 from 3 m)."""
    heel_raise_m: float = 0.035
    """With ``mediapipe_bias``: the heel landmark sits this far above the floor contact."""

    @classmethod
    def none(cls) -> Noise:
        return cls(pixel_sd_px=0.0, outlier_frac=0.0, dropout_frac=0.0, timestamp_jitter_s=0.0,
                   world_noise_m=(0.0, 0.0, 0.0), world_toe_forward_m=0.0, world_depth_scale=1.0)


@dataclass(frozen=True)
class Scene:
    """Everything that defines one synthetic clip."""

    body: Body = field(default_factory=Body)
    motion: Motion = field(default_factory=Motion)
    camera: Camera = field(default_factory=Camera)
    noise: Noise = field(default_factory=Noise)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------------- truth
@dataclass(frozen=True)
class TruePlie:
    """One commanded plié: times in seconds, depth = mean commanded knee flexion at the bottom."""

    start_s: float
    bottom_s: float
    end_s: float
    depth_deg: float
    kind: str
    """"demi" or "grand"."""


@dataclass(frozen=True, eq=False)
class Truth:
    """Ground truth of a clip, computed from the 3D model (not from the analysis code).

    Per-frame arrays have F rows (all frames, also those dropped from the sequence); per-side axes use
    (left, right) order. Angles in degrees, lengths in metres, floor frame.
    """

    timestamps_s: NDArray[np.float64]            # (F,)
    points_m: NDArray[np.float64]                # (F, 2, 5, 3) hip, knee, ankle, heel, foot_index
    all_points_m: NDArray[np.float64]            # (F, 33, 3) every landmark's true 3D point
    foot_rotation_deg: NDArray[np.float64]       # (F, 2) heel->toe direction from +y, + = external
    leg_rotation_deg: NDArray[np.float64]        # (2,) commanded knee travel direction
    forced_turnout_deg: NDArray[np.float64]      # (2,) foot rotation - leg rotation (first position)
    knee_travel_deg: NDArray[np.float64]         # (F, 2) horizontal direction of the knee's offset from
    #                                              the hip-ankle line; NaN where flexion < 10 deg
    knee_flexion_deg: NDArray[np.float64]        # (F, 2) 0 = straight
    knee_over_toe_m: NDArray[np.float64]         # (F, 2) knee's floor projection from the heel->toe line,
    #                                              + = outside (lateral)
    foot_length_m: NDArray[np.float64]           # (2,)
    rolling_deg: NDArray[np.float64]             # (F, 2) medial tilt of the ankle above the foot axis
    pelvis_tilt_deg: NDArray[np.float64]         # (F,) + = left hip higher
    pelvis_rotation_deg: NDArray[np.float64]     # (F,) hip-line yaw, + = left hip forward
    pelvis_lateral_m: NDArray[np.float64]        # (F,) x of the hip midpoint (+ = dancer's left)
    weight_shift_m: NDArray[np.float64]          # (F,) hip-midpoint x minus ankle-midpoint x
    hip_width_m: float
    plies: tuple[TruePlie, ...]
    camera: dict[str, Any]
    scene: Scene
    dropped: NDArray[np.bool_]                   # (F,) frames emitted as "no person"

    def floor_points(self, angle_sd_deg: float = 0.5) -> Any:
        """The true leg points as ``analysis.lifting.FloorPoints`` (method "truth"), for tests."""
        from .analysis.lifting import FloorPoints

        pts = self.points_m.copy()
        pts[self.dropped] = np.nan
        return FloorPoints(points_m=pts, angle_sd_deg=np.full(pts.shape[:2], angle_sd_deg),
                           method="truth", assumptions=("true 3D joints from the synthetic model",),
                           camera=self.camera)


@dataclass(frozen=True, eq=False)
class SyntheticClip:
    sequence: PoseSequence
    truth: Truth


# ---------------------------------------------------------------------------------------------- timeline
def _timeline(m: Motion) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], list[tuple[float, float]]]:
    """Frame times, rep phase in [0, 1] (NaN outside reps), rep index (-1 outside), rep (start, end)."""
    n_reps = 0 if m.kind == "standing" else m.n_reps
    total = m.lead_s + n_reps * m.rep_duration_s + max(n_reps - 1, 0) * m.rest_s + m.trail_s
    if m.kind == "standing":
        total = max(total, m.lead_s + m.trail_s + m.rep_duration_s)
    n = int(round(total * m.fps)) + 1
    t = np.arange(n) / m.fps
    phase = np.full(n, np.nan)
    rep = np.full(n, -1, dtype=np.int64)
    spans = []
    for i in range(n_reps):
        t0 = m.lead_s + i * (m.rep_duration_s + m.rest_s)
        t1 = t0 + m.rep_duration_s
        inside = (t >= t0) & (t <= t1)
        phase[inside] = (t[inside] - t0) / m.rep_duration_s
        rep[inside] = i
        spans.append((t0, t1))
    return t, phase, rep, spans


# ---------------------------------------------------------------------------------------------- geometry
def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _side_dir(angle_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """(..., 2) angles per side -> (..., 2, 3) horizontal unit vectors, angle from +y towards outside."""
    a = np.deg2rad(angle_deg)
    return np.stack([OUT * np.sin(a), np.cos(a), np.zeros_like(a)], axis=-1)


def _lateral(angle_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit horizontal normal of the foot axis pointing to the foot's lateral (little-toe) side."""
    a = np.deg2rad(angle_deg)
    return np.stack([OUT * np.cos(a), -np.sin(a), np.zeros_like(a)], axis=-1)


def _knees(hip: NDArray, ankle: NDArray, thigh: float, shank: float, bend_dir: NDArray) -> NDArray:
    """Knee centres: on both spheres (|hip-knee| = thigh, |knee-ankle| = shank), on the side of bend_dir."""
    d_vec = ankle - hip
    d = np.linalg.norm(d_vec, axis=-1, keepdims=True)
    d = np.minimum(d, thigh + shank - 1e-9)
    e = d_vec / np.linalg.norm(d_vec, axis=-1, keepdims=True)
    a = (thigh**2 - shank**2 + d**2) / (2 * d)
    r = np.sqrt(np.clip(thigh**2 - a**2, 0.0, None))
    w = bend_dir - np.sum(bend_dir * e, axis=-1, keepdims=True) * e
    w = _unit(w)
    return hip + a * e + r * w


def _hip_ankle_distance(thigh: float, shank: float, flexion_deg: NDArray) -> NDArray:
    return np.sqrt(thigh**2 + shank**2 + 2 * thigh * shank * np.cos(np.deg2rad(flexion_deg)))


# ---------------------------------------------------------------------------------------------- body motion
def _legs(scene: Scene, t: NDArray, phase: NDArray, rep: NDArray) -> dict[str, NDArray]:
    """3D leg and pelvis points (floor frame) for every frame."""
    b, m = scene.body, scene.motion
    n = t.size
    thigh, shank, lf, ah, hw = b.thigh_m, b.shank_m, b.foot_length_m, b.ankle_height_m, b.hip_width_m
    heel_z, toe_z = HEEL_HEIGHT_M, TOE_HEIGHT_M
    foot_rot = np.broadcast_to(np.asarray(m.foot_rotation_deg, float), (n, 2))
    leg_rot = np.asarray(m.leg_rotation_deg, float)
    u = _side_dir(foot_rot)                        # (F, 2, 3) foot axis
    lat = _lateral(foot_rot)                       # (F, 2, 3) lateral normal
    heel = np.zeros((n, 2, 3))
    heel[..., 0] = OUT * b.heel_gap_m / 2
    heel[..., 2] = heel_z
    heel_floor = heel.copy()
    heel_floor[..., 2] = 0.0
    in_rep = ~np.isnan(phase)
    ph = np.where(in_rep, phase, 0.0)
    bell = np.where(in_rep, (1 - np.cos(2 * np.pi * ph)) / 2, 0.0)   # 0 -> 1 (bottom) -> 0

    # knee flexion targets per side
    stand = m.standing_flexion_deg
    depth = np.asarray(m.depth_deg, float)
    flex = np.full((n, 2), stand)
    rolling = np.zeros((n, 2))
    if m.kind in ("plie", "grand_plie"):
        flex = stand + (depth - stand) * bell[:, None]
        rolling = np.asarray(m.rolling_deg, float) * bell[:, None]
    elif m.kind == "weight_shift":
        # balancé-like: pelvis goes to one side, the other knee softens; alternate every rep
        sign = np.where(rep % 2 == 0, 1.0, -1.0)
        bump = np.where(in_rep, np.sin(np.pi * ph), 0.0)
        soft = (depth - stand)
        flex = np.full((n, 2), stand)
        flex[:, 1] += np.where(sign > 0, soft[1] * bump, 0.0)    # weight left -> right knee softens
        flex[:, 0] += np.where(sign < 0, soft[0] * bump, 0.0)
    elif m.kind == "standing":
        flex = stand + 1.0 * np.sin(2 * np.pi * t / 5.0)[:, None] * np.array([1.0, 1.0])

    # pelvis horizontal motion
    sway = m.sway_m * np.where(in_rep, np.sin(2 * np.pi * ph), 0.0)
    if m.kind == "weight_shift":
        sway = np.where(in_rep, np.where(rep % 2 == 0, 1.0, -1.0) * max(m.sway_m, 0.06)
                        * np.sin(np.pi * ph), 0.0)
    if m.kind == "standing":
        sway = m.sway_m * np.sin(2 * np.pi * t / 4.0)
    rot = np.deg2rad(m.pelvis_rotation_deg) * np.where(in_rep, np.sin(np.pi * ph), 0.0)

    # ankles above the foot axis, tipped medially by rolling
    ankle_base = heel_floor + b.heel_to_ankle_frac * lf * u
    rho = np.deg2rad(rolling)[..., None]
    ankle = ankle_base + ah * (np.cos(rho) * np.array([0, 0, 1.0]) - np.sin(rho) * lat)
    toe = heel_floor + lf * u
    toe[..., 2] = toe_z

    if m.kind == "tendu":
        ankle, flex, sway, prof = _tendu_prepare(scene, ph, rep, in_rep, ankle, flex, sway)

    ankle_mid = ankle[:, :, :2].mean(axis=1)                                  # (F, 2)
    centre_xy = np.stack([ankle_mid[:, 0] + m.weight_shift_m + sway, ankle_mid[:, 1]], axis=-1)
    half = hw / 2 * np.stack([np.cos(rot), np.sin(rot)], axis=-1)           # left hip offset
    hip_xy = centre_xy[:, None, :] + np.stack([half, -half], axis=1)        # (F, 2, 2)
    horiz = np.linalg.norm(hip_xy - ankle[..., :2], axis=-1)
    if m.kind == "tendu":
        # pelvis height set by the standing leg; the working leg straightens to reach the floor
        d_st = _hip_ankle_distance(thigh, shank, flex)
        hz_side = ankle[..., 2] + np.sqrt(np.clip(d_st**2 - horiz**2, 0, None))
        standing_side = _tendu_working(m, rep, n) ^ 1
        hz = np.take_along_axis(hz_side, standing_side[:, None], axis=1)[:, 0]
        hip_z = np.stack([hz, hz], axis=1)
    else:
        d_t = _hip_ankle_distance(thigh, shank, flex)
        hip_z = ankle[..., 2] + np.sqrt(np.clip(d_t**2 - horiz**2, 1e-6, None))
    hip = np.concatenate([hip_xy, hip_z[..., None]], axis=-1)
    if m.kind == "tendu":
        ankle, heel, toe = _tendu_finish(scene, rep, prof, hip, ankle, heel, toe, u)
    bend = _side_dir(np.broadcast_to(leg_rot, (n, 2)))
    knee = _knees(hip, ankle, thigh, shank, bend)
    return {"hip": hip, "knee": knee, "ankle": ankle, "heel": heel, "toe": toe, "rolling": rolling,
            "u": u, "lat": lat}


def _tendu_working(m: Motion, rep: NDArray, n: int) -> NDArray[np.int64]:
    """(F,) index of the working side for each frame (0 = left)."""
    if m.tendu_side == "left":
        return np.zeros(n, dtype=np.int64)
    if m.tendu_side == "right":
        return np.ones(n, dtype=np.int64)
    return np.where(rep >= 0, rep % 2, 0).astype(np.int64)


def _tendu_prepare(scene: Scene, ph, rep, in_rep, ankle, flex, sway):
    """Working foot slides out to the side (horizontal part); weight goes over the standing leg."""
    b, m = scene.body, scene.motion
    n = ph.size
    idx = np.arange(n)
    work = _tendu_working(m, rep, n)
    prof = np.where(in_rep, np.clip(np.sin(np.pi * ph) * 1.6, 0, 1), 0.0)    # out - hold - in
    ankle = ankle.copy()
    ankle[idx, work, 0] += OUT[work] * 0.22 * b.stature_m * prof
    sway = sway + 0.04 * prof * (-OUT[work])
    flex = flex.copy()
    flex[idx, work] = 1.0
    return ankle, flex, sway, prof


def _tendu_finish(scene: Scene, rep, prof, hip, ankle, heel, toe, u):
    """Straight working leg: ankle height from the hip, foot pointed so the toe stays on the floor."""
    b, m = scene.body, scene.motion
    n = prof.size
    idx = np.arange(n)
    work = _tendu_working(m, rep, n)
    lf, ah = b.foot_length_m, b.ankle_height_m
    d_work = _hip_ankle_distance(b.thigh_m, b.shank_m, np.full(n, 1.0))
    hw_ = hip[idx, work]
    horiz = np.linalg.norm(hw_[:, :2] - ankle[idx, work, :2], axis=-1)
    az = np.maximum(hw_[:, 2] - np.sqrt(np.clip(d_work**2 - horiz**2, 0, None)), ah)
    az = np.where(prof > 0, az, ah)
    ankle, heel, toe = ankle.copy(), heel.copy(), toe.copy()
    ankle[idx, work, 2] = az
    a_t, c_t = (1 - b.heel_to_ankle_frac) * lf, TOE_HEIGHT_M - ah
    r_t = np.hypot(a_t, c_t)
    alpha = np.arctan2(a_t, c_t)
    phi = np.arccos(np.clip((TOE_HEIGHT_M - az) / r_t, -1, 1)) - alpha     # plantar flexion that keeps the toe down
    uw = u[idx, work]
    for out, (a_, c_) in ((toe, (a_t, c_t)), (heel, (-b.heel_to_ankle_frac * lf, HEEL_HEIGHT_M - ah))):
        along = a_ * np.cos(phi) + c_ * np.sin(phi)
        up = -a_ * np.sin(phi) + c_ * np.cos(phi)
        out[idx, work] = ankle[idx, work] + along[:, None] * uw + up[:, None] * np.array([0, 0, 1.0])
    return ankle, heel, toe


def _upper_body(hip: NDArray, stature: float) -> NDArray:
    """(F, 33, 3) plausible positions for every landmark above the hips (legs filled in later)."""
    n = hip.shape[0]
    pts = np.zeros((n, lm.NUM_LANDMARKS, 3))
    pelvis = hip.mean(axis=1)
    across = _unit(hip[:, 0] - hip[:, 1])          # towards the dancer's left
    across[:, 2] = 0
    across = _unit(across)
    fwd = np.stack([-across[:, 1], across[:, 0], np.zeros(n)], axis=-1)   # +y when across = +x
    up = np.array([0, 0, 1.0])
    s = stature

    def at(base, a, f, z):
        return base + a * across + f * fwd + z * up

    sh_mid = at(pelvis, 0, -0.01, 0.30 * s)
    pts[:, lm.LEFT_SHOULDER] = at(sh_mid, 0.105 * s, 0, 0)
    pts[:, lm.RIGHT_SHOULDER] = at(sh_mid, -0.105 * s, 0, 0)
    for sgn, (el, wr, pk, ix, th) in ((1, (13, 15, 17, 19, 21)), (-1, (14, 16, 18, 20, 22))):
        sh = pts[:, 11 if sgn > 0 else 12]
        pts[:, el] = at(sh, sgn * 0.03 * s, 0.03 * s, -0.17 * s)
        pts[:, wr] = at(pts[:, el], -sgn * 0.04 * s, 0.06 * s, -0.13 * s)
        pts[:, pk] = at(pts[:, wr], -sgn * 0.005 * s, 0.02 * s, -0.05 * s)
        pts[:, ix] = at(pts[:, wr], -sgn * 0.02 * s, 0.03 * s, -0.05 * s)
        pts[:, th] = at(pts[:, wr], -sgn * 0.025 * s, 0.02 * s, -0.025 * s)
    head = at(sh_mid, 0, 0.0, 0.13 * s)
    pts[:, lm.NOSE] = at(head, 0, 0.06 * s, 0)
    for sgn, (inner, eye, outer, ear, mouth) in ((1, (1, 2, 3, 7, 9)), (-1, (4, 5, 6, 8, 10))):
        pts[:, inner] = at(head, sgn * 0.012 * s, 0.05 * s, 0.02 * s)
        pts[:, eye] = at(head, sgn * 0.02 * s, 0.048 * s, 0.02 * s)
        pts[:, outer] = at(head, sgn * 0.028 * s, 0.045 * s, 0.02 * s)
        pts[:, ear] = at(head, sgn * 0.045 * s, 0.0, 0.01 * s)
        pts[:, mouth] = at(head, sgn * 0.015 * s, 0.052 * s, -0.022 * s)
    return pts


# ---------------------------------------------------------------------------------------------- camera
def camera_matrices(cam: Camera) -> dict[str, Any]:
    """Intrinsics ``K``, floor-to-camera rotation ``R`` and translation ``t`` (OpenCV convention:
    x_cam = R x_floor + t; [u, v, 1] ~ K x_cam; pixel centres at +0.5), and the camera centre."""
    psi, th = np.deg2rad(cam.yaw_deg), np.deg2rad(cam.pitch_deg)
    centre = np.array([cam.distance_m * np.sin(psi), cam.distance_m * np.cos(psi), cam.height_m])
    f = np.array([-np.cos(th) * np.sin(psi), -np.cos(th) * np.cos(psi), np.sin(th)])
    right = np.array([np.cos(psi), -np.sin(psi), 0.0])      # image right = dancer's left at yaw 0
    up = np.array([0, 0, 1.0])
    down = -_unit(up - (up @ f) * f)
    rot = np.stack([right, down, f])
    focal = cam.height_px / 2 / np.tan(np.deg2rad(cam.vfov_deg) / 2)
    k = np.array([[focal, 0, cam.width_px / 2], [0, focal, cam.height_px / 2], [0, 0, 1.0]])
    return {"K": k, "R": rot, "t": -rot @ centre, "centre_m": centre, "focal_px": focal,
            "width_px": cam.width_px, "height_px": cam.height_px}


def project(points_m: NDArray, cam: Camera) -> tuple[NDArray, NDArray]:
    """(..., 3) floor-frame points -> ((..., 2) pixels, (...) depth along the optical axis in metres)."""
    mats = camera_matrices(cam)
    pc = points_m @ mats["R"].T + mats["t"]
    z = pc[..., 2]
    uv = pc[..., :2] / z[..., None] * mats["focal_px"] + np.array([cam.width_px / 2, cam.height_px / 2])
    return uv, z


def legs_in_frame(scene: Scene, margin_px: float = 10.0) -> bool:
    """True when every leg landmark stays inside the image for the whole clip (noise-free)."""
    clip = generate(dataclasses.replace(scene, noise=Noise.none()), seed=0)
    xy = clip.sequence.image_xy[:, lm.LEG_INDEX.ravel()]
    w, h = scene.camera.width_px, scene.camera.height_px
    return bool(np.all((xy[..., 0] > margin_px) & (xy[..., 0] < w - margin_px)
                       & (xy[..., 1] > margin_px) & (xy[..., 1] < h - margin_px)))


# ---------------------------------------------------------------------------------------------- generate
def _ar1(rng: np.random.Generator, shape: tuple[int, ...], coef: float, sd: float) -> NDArray:
    """AR(1) noise along axis 0 (frames) with stationary standard deviation ``sd``."""
    if sd == 0:
        return np.zeros(shape)
    from scipy.signal import lfilter

    e = rng.normal(0, sd * np.sqrt(1 - coef**2), shape)
    e[0] = rng.normal(0, sd, shape[1:])
    return lfilter([1.0], [1.0, -coef], e, axis=0)


def generate(scene: Scene | None = None, seed: int | None = 0) -> SyntheticClip:
    """Render one clip: landmarks as real extraction gives them, plus the truth (see module docstring)."""
    scene = scene or Scene()
    if scene.motion.kind not in MOVEMENTS:
        raise ValueError(f"motion.kind must be one of {MOVEMENTS}, got {scene.motion.kind!r}")
    rng = np.random.default_rng(seed)
    b, m, cam, nz = scene.body, scene.motion, scene.camera, scene.noise
    t, phase, rep, spans = _timeline(m)
    n = t.size
    legs = _legs(scene, t, phase, rep)

    pts = _upper_body(legs["hip"], b.stature_m)
    for j, name in enumerate(("hip", "knee", "ankle", "heel", "toe")):
        pts[:, lm.LEG_INDEX[:, j]] = legs[name]

    # ---- truth
    hip, knee, ankle, heel, toe = (legs[k] for k in ("hip", "knee", "ankle", "heel", "toe"))
    th, sh = knee - hip, ankle - knee
    cosang = np.sum(th * sh, -1) / (np.linalg.norm(th, axis=-1) * np.linalg.norm(sh, axis=-1))
    flexion = np.rad2deg(np.arccos(np.clip(cosang, -1, 1)))
    foot_vec = toe - heel
    foot_rot = np.rad2deg(np.arctan2(OUT * foot_vec[..., 0], foot_vec[..., 1]))
    axis = _unit(ankle - hip)
    offset = th - np.sum(th * axis, -1, keepdims=True) * axis
    travel = np.rad2deg(np.arctan2(OUT * offset[..., 0], offset[..., 1]))
    travel[flexion < 10.0] = np.nan
    fl = _unit(foot_vec[..., :2])
    normal = np.stack([fl[..., 1], -fl[..., 0]], -1) * OUT[:, None]   # rotate axis towards outside
    kot = np.sum((knee[..., :2] - heel[..., :2]) * normal, -1)
    lr = hip[:, 0] - hip[:, 1]
    tilt = np.rad2deg(np.arcsin(lr[:, 2] / np.linalg.norm(lr, axis=-1)))
    prot = np.rad2deg(np.arctan2(lr[:, 1], lr[:, 0]))
    pel_x = hip[:, :, 0].mean(axis=1)
    shift = pel_x - ankle[:, :, 0].mean(axis=1)
    plies = ()
    if m.kind in ("plie", "grand_plie"):
        kind = "grand" if m.kind == "grand_plie" else "demi"
        plies = tuple(TruePlie(t0, (t0 + t1) / 2, t1, float(np.mean(m.depth_deg)), kind) for t0, t1 in spans)

    # ---- camera projection
    uv, depth = project(pts, cam)
    mats = camera_matrices(cam)
    uv_obs = uv.copy()
    if nz.mediapipe_bias:
        u = legs["u"]
        toe_mp = toe - nz.toe_short_m * u
        heel_mp = heel + np.array([0, 0, nz.heel_raise_m])
        uv_obs[:, lm.LEG_INDEX[:, lm.FOOT_INDEX]] = project(toe_mp, cam)[0]
        uv_obs[:, lm.LEG_INDEX[:, lm.HEEL]] = project(heel_mp, cam)[0]
    sd_w = nz.pixel_sd_px / np.sqrt(2)
    uv_obs += rng.normal(0, 1, uv.shape) * sd_w + _ar1(rng, uv.shape, nz.jitter_corr, sd_w)
    if nz.outlier_frac > 0:
        mask = rng.random(uv.shape[:2]) < nz.outlier_frac
        ang = rng.uniform(0, 2 * np.pi, mask.sum())
        mag = rng.uniform(15, 40, mask.sum())
        uv_obs[mask] += np.stack([np.cos(ang), np.sin(ang)], -1) * mag[:, None]

    inside = (uv[..., 0] >= 0) & (uv[..., 0] <= cam.width_px) & (uv[..., 1] >= 0) & (uv[..., 1] <= cam.height_px)
    vis = np.clip(rng.normal(0.95, 0.02, uv.shape[:2]), 0, 1)
    vis[:, lm.LEG_INDEX[:, 3:].ravel()] = np.clip(rng.normal(0.85, 0.05, (n, 4)), 0, 1)
    vis[~inside] = 0.05

    # image_z: relative depth in pixels around the hip midpoint, compressed like the world depth
    hip_depth = depth[:, [lm.LEFT_HIP, lm.RIGHT_HIP]].mean(axis=1, keepdims=True)
    image_z = (depth - hip_depth) * mats["focal_px"] / hip_depth * nz.world_depth_scale

    # world landmarks: camera-aligned axes around the hip midpoint
    rel = pts - pts[:, [lm.LEFT_HIP, lm.RIGHT_HIP]].mean(axis=1, keepdims=True)
    world = rel @ mats["R"].T
    world[..., 2] *= nz.world_depth_scale
    world[:, lm.LEG_INDEX[:, lm.FOOT_INDEX], 2] -= nz.world_toe_forward_m
    for k in range(3):
        world[..., k] += _ar1(rng, world.shape[:2], 0.8, nz.world_noise_m[k])

    # timestamps and dropouts
    ts = t.copy()
    if nz.timestamp_jitter_s > 0:
        ts += rng.uniform(-1, 1, n) * min(nz.timestamp_jitter_s, 0.3 / m.fps)
    dropped = np.zeros(n, dtype=bool)
    if nz.dropout_frac > 0:
        n_drop = int(round(nz.dropout_frac * n))
        while dropped.sum() < n_drop:
            s0 = rng.integers(0, n)
            dropped[s0:s0 + rng.integers(1, 6)] = True
    for arr in (uv_obs, world, vis, image_z):
        arr[dropped] = np.nan

    camera_info = {"K": mats["K"].tolist(), "R_floor_to_cam": mats["R"].tolist(), "t_floor_to_cam": mats["t"].tolist(),
                   "centre_m": mats["centre_m"].tolist(), "focal_px": float(mats["focal_px"]),
                   **dataclasses.asdict(cam)}
    seq = PoseSequence(image_xy=uv_obs, world_xyz=world, visibility=vis, timestamps_s=ts,
                       frame_size_wh=np.array([cam.width_px, cam.height_px], float), image_z=image_z,
                       presence=vis.copy(),
                       meta={"source": "synthetic", "fps": m.fps, "seed": seed, "scene": scene.to_dict()})
    truth = Truth(
        timestamps_s=ts, points_m=np.stack([hip, knee, ankle, heel, toe], axis=2), all_points_m=pts,
        foot_rotation_deg=foot_rot, leg_rotation_deg=np.asarray(m.leg_rotation_deg, float),
        forced_turnout_deg=np.asarray(m.below_knee_rotation_deg, float), knee_travel_deg=travel,
        knee_flexion_deg=flexion, knee_over_toe_m=kot, foot_length_m=np.full(2, b.foot_length_m),
        rolling_deg=legs["rolling"], pelvis_tilt_deg=tilt, pelvis_rotation_deg=prot, pelvis_lateral_m=pel_x,
        weight_shift_m=shift, hip_width_m=b.hip_width_m, plies=plies, camera=camera_info, scene=scene,
        dropped=dropped,
    )
    return SyntheticClip(sequence=seq, truth=truth)


# ---------------------------------------------------------------------------------------------- random scenes
def random_scene(rng: np.random.Generator, kind: str = "plie", max_tries: int = 200, **motion_overrides: Any) -> Scene:
    """A random scene within the issue's ranges: stature 1.50-1.85 m, leg rotation 25-65 deg, forced
    part 0-30 deg, demi-plié depth 30-65 deg (grand: 105-130), tempo 2-5 s per plié; camera height
    0.3-1.5 m, distance 2-5 m, vertical FOV 40-75 deg, pitch -15..+15 deg (chosen so the legs stay in
    the frame), yaw 0-30 deg off frontal either way; pixel noise 1-3 px. ``motion_overrides`` replace
    Motion fields (e.g. ``leg_rotation_deg=(50, 50)``)."""
    for _ in range(max_tries):
        body = Body(stature_m=rng.uniform(1.50, 1.85), thigh_ratio=0.245 * rng.uniform(0.95, 1.05),
                    shank_ratio=0.246 * rng.uniform(0.95, 1.05), foot_length_ratio=0.152 * rng.uniform(0.93, 1.07),
                    hip_width_ratio=0.105 * rng.uniform(0.9, 1.1), heel_gap_m=rng.uniform(0.0, 0.03))
        h = rng.uniform(25, 65, 2)
        sym = rng.random() < 0.5
        h = np.array([h[0], h[0] + rng.normal(0, 2)]) if sym else h
        fk = rng.uniform(0, 30, 2)
        if kind == "grand_plie":
            depth = rng.uniform(105, 130)
        elif kind == "weight_shift":
            depth = rng.uniform(10, 22)
        else:
            depth = rng.uniform(30, 65)
        motion = Motion(kind=kind, leg_rotation_deg=(float(h[0]), float(h[1])),
                        below_knee_rotation_deg=(float(fk[0]), float(fk[1])),
                        depth_deg=(float(depth), float(depth + rng.normal(0, 2))),
                        n_reps=int(rng.integers(1, 4)), rep_duration_s=float(rng.uniform(2.0, 5.0)),
                        rest_s=float(rng.uniform(0.5, 2.0)), lead_s=float(rng.uniform(1.0, 2.5)),
                        rolling_deg=(float(rng.uniform(0, 12)),) * 2, sway_m=float(rng.normal(0, 0.015)),
                        fps=float(rng.choice([24.0, 25.0, 30.0, 60.0])))
        motion = dataclasses.replace(motion, **motion_overrides)
        yaw = float(rng.uniform(0, 30) * rng.choice([-1, 1]))
        cam = Camera(height_m=rng.uniform(0.3, 1.5), distance_m=rng.uniform(2, 5), vfov_deg=rng.uniform(40, 75),
                     pitch_deg=0.0, yaw_deg=yaw, **({} if rng.random() < 0.7 else {"width_px": 1280, "height_px": 720}))
        # choose a pitch in range that centres the legs, then check that they fit
        mid_z = 0.25 * body.stature_m
        pitch = np.rad2deg(np.arctan2(mid_z - cam.height_m, cam.distance_m)) + rng.normal(0, 3)
        cam = dataclasses.replace(cam, pitch_deg=float(np.clip(pitch, -15, 15)))
        noise = Noise(pixel_sd_px=rng.uniform(1, 3))
        scene = Scene(body=body, motion=motion, camera=cam, noise=noise)
        if legs_in_frame(scene):
            return scene
    raise RuntimeError("could not find a camera that keeps the legs in the frame")


__all__ = ["Body", "Camera", "Motion", "MOVEMENTS", "Noise", "OUT", "Scene", "SyntheticClip", "TruePlie", "Truth",
           "camera_matrices", "generate", "legs_in_frame", "lift_priors", "project", "random_scene"]


def lift_priors(body: Body | None = None) -> Any:
    """The camera method's priors for this generator's clips (``analysis.camera_lift.LiftPriors``).

    The generator's landmarks are its anatomical points, so there are no MediaPipe offsets, and the
    body-proportion means are this generator's own (``Body`` defaults, Winter's ratios): foot / leg
    0.152 / 0.491 = 0.31, heel and toe heights ``HEEL_HEIGHT_M`` / ``TOE_HEIGHT_M``, ankle height
    0.039 / 0.491 of the leg; the spreads are the method's usual ones.
    """
    from .analysis.camera_lift import LiftPriors

    b = body or Body()
    leg = b.thigh_m + b.shank_m
    return LiftPriors.exact_landmarks(
        leg_m=(leg, 0.07), foot_over_leg=(b.foot_length_m / leg, 0.015),
        heel_height_over_leg=(HEEL_HEIGHT_M / leg, 0.004), toe_height_over_leg=(TOE_HEIGHT_M / leg, 0.003),
        ankle_height_over_leg=(b.ankle_height_m / leg, 0.01), ankle_along_over_foot=(b.heel_to_ankle_frac, 0.03))
