"""The "camera" floor-plane method: estimate the camera and fit a first-position plié model to the clip.

Pure numpy/scipy. Method (README.md, "How turnout is measured from one camera" has the long form and the measured accuracy):

1. Intrinsics: square pixels, principal point at the image centre, focal length from the user's field of
   view (``camera.vfov_deg``) or a phone-like prior on the long side (``camera.default_vfov_deg``), refined
   within that prior.
2. A parametric lower body seen by a pinhole camera is fitted to every frame's leg landmarks at once
   (``scipy.optimize.least_squares``, robust loss):

   * camera: height, distance, pitch, roll, azimuth (orbit about the dancer), heading;
   * body (constant through the clip): thigh and shank lengths, hip width, foot length, ankle height and
     position along the foot, heights of MediaPipe's heel and foot_index landmarks above the floor;
   * first position: heels together on the floor, each foot flat and turned out by F (per side), the
     ankles fixed above the foot axes;
   * plié: per frame and side a knee flexion; the pelvis moves only vertically (plus a small sway); each
     knee bends in the vertical half-plane turned H degrees (leg rotation, per side) out from forward;
   * landmark noise: ``pixel_sd`` per joint, the knee's vertical one ``knee_vertical_sd_factor`` times
     larger;
   * priors: anthropometric ratios (foot length / leg length, ...), a level camera, a camera height
     around 1 m, a dancer facing the camera, left/right symmetry within a few degrees, knees not
     travelling outside the toes (one-sided: leg rotation above foot rotation), and MediaPipe's
     systematic landmark offsets (heel above the floor, foot_index short of the toe tip) learned from
     rendered bodies with exact ground truth (constants in ``LiftPriors``); the lengths that are not
     fitted (those offsets, the heel gap) are stated for an average leg and scale with the fitted one
     (``_body_scale``), so nothing depends on the body's metric size, which one camera cannot see;
   * the toe observation: the toe tips found in MediaPipe's person mask (``toe_tips``) where the clip
     has them (``_toe_observations``), else MediaPipe's foot_index.

3. The fitted model gives 3D points in the floor frame for every frame; the Jacobian at the solution
   gives the one-sigma uncertainty of F and H (the frames counted as ``independent_frames`` looks), plus
   a systematic ``SYSTEMATIC_SD_DEG``; a foot length at odds with the leg adds a note and foot-only
   uncertainty (``foot_length_conflict``); heels fitted wide apart (clothing over them) are fitted again
   held together, with a note and the change as foot-only uncertainty (``heels_apart_note``).
4. Refusals: a side view (hip width in the image too small against the leg length), a dancer facing away,
   too few usable frames, or a camera looking along the floor (viewing ray to the feet flatter than
   ``analysis.min_floor_view_deg`` even from a camera one standard deviation higher than fitted).

Floor frame: origin on the floor midway between the heels, x = the dancer's left, y = forward, z = up.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares
from scipy.sparse import csr_matrix

from .. import landmarks as lm
from .camera import PinholeCamera, focal_from_fov, project, rotation
from .lifting import FloorPoints

OUT = np.array([1.0, -1.0])
"""x sign pointing away from the midline, per side (0 = dancer's left, 1 = right)."""

HIP, KNEE, ANKLE, HEEL, TOE = range(5)


@dataclass(frozen=True)
class LiftPriors:
    """Prior means and spreads of the model (lengths in metres, angles in degrees).

    Values marked "learned" were measured on MediaPipe's landmarks of rendered bodies with exact truth
    (``benchmarks/floor_accuracy.py learn``), as ``extract`` gives them by default: each frame seen
    twice, as is and mirrored, and averaged (``ModelConfig.mirror_average``); the others are
    anthropometric or camera priors.
    """

    leg_m: tuple[float, float] = (0.87, 0.08)
    """Thigh + shank (hip to ankle joint centres): fixes the metric scale only. Every other length here
    (MediaPipe's offsets, the heel gap, ...) is stated for a body with this mean leg and scales with the
    fitted leg (``_body_scale``): one camera cannot tell a small dancer near it from a tall one further
    away, and with those lengths fixed in metres the fit shrank bodies to make them relatively larger
    (rendered plie02: leg 0.79 m for 0.94 m, legs read 66 deg for 78.5, flagged; scaled: 81 deg)."""
    foot_over_leg: tuple[float, float] = (0.30, 0.015)
    """Foot length (back of the heel -> tip of the toes) over leg length (hip to ankle joint centres);
    sd 0.015 is about 5 % (foot and leg length each vary about 4 % of stature in adults; was 0.025)."""
    half_hip_over_leg: tuple[float, float] = (0.11, 0.03)
    thigh_over_shank: tuple[float, float] = (1.0, 0.1)
    heel_height_over_leg: tuple[float, float] = (0.044, 0.004)
    """Height of the back of the heel (the point MediaPipe's heel describes) over leg length (sd was
    0.006: a loose heel/toe height let the fit explain the foot's vertical image extent by a tilted foot
    instead of its forward extent, over-reading high turnout)."""
    toe_height_over_leg: tuple[float, float] = (0.018, 0.003)
    """Height of the toe tips above the floor over leg length."""
    ankle_height_over_leg: tuple[float, float] = (0.092, 0.01)
    ankle_along_over_foot: tuple[float, float] = (0.21, 0.03)
    heel_gap_m: tuple[float, float] = (0.02, 0.02)
    """Distance between the backs of the two heels (first position: heels together)."""
    heels_apart_refit: tuple[float, float, float] = (0.01, 0.005, 4.0)
    """When the heels are fitted apart (``HEEL_GAP_CONFLICT_M``, MediaPipe following clothing over them),
    the clip is fitted again with the heels held together, gap (mean, sd) metres, and the heel and ankle
    landmarks' noise times the third value (``heels_together``). Touching heels put the backs of the
    heels 2 r (1 - sin F) apart, 0.3-2 cm for F = 45-80 deg (heel radius r about 3.3 cm); the renders are
    made with 1 cm. The real clip (trousers over the heels): fitted gap 7.8 cm, feet 47 / 45 deg; refitted
    52 / 52 with the camera's foreshortening at the feet matching the floor's parquet (README.md, "Real
    clip check")."""
    camera_height_m: tuple[float, float] = (1.0, 0.35)
    pitch_deg: tuple[float, float] = (-3.0, 12.0)
    roll_deg: tuple[float, float] = (0.0, 3.0)
    azimuth_deg: tuple[float, float] = (0.0, 12.0)
    """The dancer faces the camera within about this much (only the split of a total between sides)."""
    side_asymmetry_deg: float = 2.0
    """Left and right foot (and leg) rotations agree within about this much (first position is near
    symmetric; 4 deg let MediaPipe's side-dependent foot errors split the sides by 10-20 deg on renders)."""
    focal_log_sd: float = 0.12
    """Spread of the focal length around the field-of-view prior (log scale)."""
    toe_axis_offset_deg: float = 3.1
    """Added to the heel -> toe-tips direction to give the heel -> second-toe axis (measured on the
    rendered bodies: the midpoint of the first two toe tips lies 2.6-3.4 deg inside that axis)."""
    landmark_offset_m: tuple[tuple[float, float, float], ...] = (
        (-0.010, 0.049, -0.007), (-0.013, 0.041, -0.001), (0.007, -0.007, 0.021),
        (0.005, 0.028, 0.006), (-0.001, -0.064, 0.004))
    """Learned: MediaPipe landmark minus the anatomical point, per joint (hip, knee, ankle, heel,
    foot_index), in a local frame (outward, forward, up) metres for a leg of ``leg_m[0]`` (scaled with the
    fitted leg; ``landmark_basis``): "forward" is the foot axis for ankle, heel and foot_index, and the
    body's forward (towards a frontal camera) for hip and knee."""
    landmark_offset_per_60deg_m: tuple[tuple[float, float, float], ...] = (
        (0.001, 0.013, 0.019), (0.015, -0.001, 0.036), (-0.015, 0.024, 0.012),
        (-0.006, -0.001, 0.012), (-0.007, 0.040, 0.007))
    """Learned: change of those offsets per 60 deg of knee flexion (MediaPipe's knee rides up and out, ...)."""
    mask_tip_offset_m: tuple[float, float, float] = (0.016, -0.012, -0.009)
    """Learned: the mask's toe tip (``toe_tips``) minus the anatomical tip (the midpoint of the first two
    toe tips), in the foot's frame (outward, forward, up) metres; used in place of foot_index's offsets
    when the clip has mask tips (``with_mask_tips``)."""
    mask_tip_offset_per_60deg_m: tuple[float, float, float] = (0.001, 0.004, -0.001)
    mask_tip_pixel_sd: float = 4.0
    """Noise of the mask's toe tip in pixels at 1000 px leg length (foot_index: ``pixel_sd[4]``)."""
    knee_offset_turn: float = 0.0
    """The knee's offset frame is turned this fraction of the leg rotation from the body's frame
    (``landmark_basis``). 0: the body's frame. With the true camera, MediaPipe's knee at the bottom of
    the plié sits 0.5 cm (+- 0.3) outside the joint centre whatever the leg rotation (46-80 deg), which
    offsets along the knee's travel (1, before) cannot describe: they put it 1.1 cm out at 80 deg, and the
    fit then read near-sideways legs 8-16 deg low (plie02, plie04). Renders with the prior below and
    weight 3: 1 gives leg 2.2 / 12.6, 11/12 flags, 0 1.3 / 5.3, 12/12 (without the prior, weight 2: 0.5
    reads like 1)."""
    knees_outside_toes_deg: tuple[float, float] = (0.0, 6.0)
    """One-sided prior (margin, sd; deg): leg rotation above foot rotation by more than the margin (the
    knees travelling outside the toes) costs like a Gaussian of this sd (divided by ``body_prior_weight``);
    below it costs nothing. Dancers stand with the feet turned out at least as far as the legs (DOMAIN:
    70-100 % stand in more turnout than their hips allow), and a frontal camera barely sees a near-
    sideways knee's direction (at 80 deg, 3 mm of knee position moves it 10 deg), so without this the fit
    could put such knees at the 90 deg limit. sd inf: no such prior. Measured cost: synthetic knees 8 deg
    outside the toes read 3-4 deg outside (test)."""

    def with_mask_tips(self) -> LiftPriors:
        """These priors for a clip whose toe observations are the mask's tips, not MediaPipe's foot_index."""
        def toe_row(rows: tuple, new: tuple) -> tuple:
            return (*rows[:TOE], tuple(new))
        return replace(self, landmark_offset_m=toe_row(self.landmark_offset_m, self.mask_tip_offset_m),
                       landmark_offset_per_60deg_m=toe_row(self.landmark_offset_per_60deg_m,
                                                           self.mask_tip_offset_per_60deg_m),
                       pixel_sd=(*self.pixel_sd[:TOE], self.mask_tip_pixel_sd))

    @classmethod
    def exact_landmarks(cls, **changes: Any) -> LiftPriors:
        """Priors for landmarks that are the anatomical points themselves (no MediaPipe offsets)."""
        zero = ((0.0, 0.0, 0.0),) * 5
        base = {"landmark_offset_m": zero, "landmark_offset_per_60deg_m": zero, "toe_axis_offset_deg": 0.0,
                "mask_tip_offset_m": zero[0], "mask_tip_offset_per_60deg_m": zero[0]}
        base.update(changes)
        return cls(**base)
    independent_frames: float = 4.0
    """How many independent looks a clip's landmarks are worth when the fit states its uncertainty: the
    covariance treats the fitted frames as this many (MediaPipe's errors repeat from frame to frame).
    With 4 (and ``SYSTEMATIC_SD_DEG``) the stated one-sigma covers 88 % of the rendered clips' errors
    and two sigma 100 % (held-out renders: 81 % / 100 %); counting every frame as independent stated
    about 2 deg where the errors reached 12-15 deg (``benchmarks/floor_accuracy.py renders`` prints the
    coverage)."""
    knee_vertical_sd_factor: float = 2.0
    """The knee's vertical landmark noise is ``pixel_sd`` times this (its horizontal one is not): how far
    MediaPipe's knee rides up as the knee bends varies from body to body (2-7 cm per 60 deg on the
    renders), and that vertical drift is where a frontal camera sees the knee's forward travel. Renders
    (foot, leg median / p95; flags; measured with the knee's offsets along its travel and weight 2):
    1: 2.7 / 5.6, 3.3 / 14.8, 11/12; 2: 1.9 / 5.6, 2.9 / 13.4, 11/12; 3: 2.0 / 5.6, 2.9 / 13.2, 11/12.
    Synthetic sweep (no such drift) 1: 1.5 / 4.5, 1.4 / 5.3; 2: 1.6 / 4.7, 1.5 / 5.8."""
    pixel_sd: tuple[float, float, float, float, float] = (6.0, 8.0, 6.0, 8.0, 10.0)
    """Landmark noise per joint (hip, knee, ankle, heel, foot_index) in pixels at 1000 px leg length."""
    body_prior_weight: float = 2.5
    """Multiplies the residuals of the priors on the camera and body (not the per-frame ones), i.e. their
    sds are divided by it against the landmarks. MediaPipe's errors repeat from frame to frame (the same
    planted foot, the same lighting), so 60 frames are worth far fewer independent ones, and at weight 1
    the landmarks' systematic errors overruled the body and camera priors (foot length 0.25-0.36 of the
    leg, toes sunk into the floor, camera 0.6-1.0 m high whatever the truth). Measured with the lengths
    scaled with the body and the mask's toe tips (foot, leg median / p95; flags), dev renders 2: 1.9 /
    5.8, 1.5 / 6.6, 12/12; 2.5: 1.7 / 5.4, 1.4 / 4.6, 12/12; 3: 1.8 / 5.0, 1.2 / 4.7, 12/12; first
    held-out set 2: 2.1 / 5.6, 2.7 / 6.0; 2.5: 1.9 / 4.4, 2.7 / 5.2; 3: 1.7 / 4.6, 2.7 / 4.5 (7/9 each).
    The one real clip checked by hand (foot rotation 50-62 deg from the frames, loose trousers) reads
    51 / 49 deg at 2, 47 / 45 at 2.5, 45 / 43 at 3 before its heels-apart refit (``heels_apart_refit``:
    52 at 2.5): 2.5 (the renders' choice of the previous version) until
    more real footage with known turnout exists (README.md, "How turnout is measured from one camera";
    older measurements in docs/floor_method_experiments.md)."""


@dataclass(frozen=True, eq=False)
class PlieFit:
    """What the whole-clip fit found (angles in degrees, per side in (left, right) order)."""

    camera: PinholeCamera
    foot_rotation_deg: NDArray[np.float64]
    leg_rotation_deg: NDArray[np.float64]
    foot_sd_deg: NDArray[np.float64]
    leg_sd_deg: NDArray[np.float64]
    knee_flexion_deg: NDArray[np.float64]       # (F, 2), NaN where not fitted
    points_m: NDArray[np.float64]               # (F, 2, 5, 3)
    body: dict[str, float]
    rms_px: float
    floor_view_deg: float
    floor_view_high_deg: float
    """The view of the feet from a camera one standard deviation higher than fitted (the height is the
    camera's least determined coordinate): what the grazing-view refusal tests."""
    success: bool
    info: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- model
_G = ("logf", "pitch", "roll", "azimuth", "heading", "logd", "h", "logLt", "logLs", "w", "yhip", "L",
      "zheel", "ztoe", "aank", "zank", "gap", "FL", "FR", "HL", "HR")
_GI = {n: i for i, n in enumerate(_G)}
NG = len(_G)


def _side_dir(angle: NDArray[np.float64]) -> NDArray[np.float64]:
    """(..., 2) angles (rad) per side -> (..., 2, 3) horizontal unit vectors, angle from +y outwards."""
    return np.stack([OUT * np.sin(angle), np.cos(angle), np.zeros_like(angle)], axis=-1)


def _foot_axis_rad(g: NDArray[np.float64], priors: LiftPriors) -> NDArray[np.float64]:
    """(2,) reported foot rotation (rad) per side: the model's heel -> toe-tips direction turned by the
    learned ``toe_axis_offset_deg`` onto the heel -> second-toe axis."""
    return g[[_GI["FL"], _GI["FR"]]] + np.deg2rad(priors.toe_axis_offset_deg)


def _body_points(g: NDArray[np.float64], flex: NDArray[np.float64], sway: NDArray[np.float64]) -> NDArray[np.float64]:
    """Model landmarks (T, 2, 5, 3) in the floor frame from global params ``g`` and per-frame knee
    flexion ``flex`` (T, 2) radians and pelvis sway ``sway`` (T,) metres."""
    T = flex.shape[0]
    Lt, Ls = np.exp(g[_GI["logLt"]]), np.exp(g[_GI["logLs"]])
    F = np.array([g[_GI["FL"]], g[_GI["FR"]]])
    H = np.array([g[_GI["HL"]], g[_GI["HR"]]])
    u = _side_dir(F)                                                    # (2, 3)
    heel_floor = np.stack([OUT * g[_GI["gap"]] / 2, np.zeros(2), np.zeros(2)], axis=-1)
    up = np.array([0.0, 0.0, 1.0])
    ankle = heel_floor + g[_GI["aank"]] * u + g[_GI["zank"]] * up      # (2, 3)
    heel = heel_floor + g[_GI["zheel"]] * up
    toe = heel_floor + g[_GI["L"]] * u + g[_GI["ztoe"]] * up
    # hips: above the ankle midpoint (+ y offset), half-width w, per-side height from flexion
    amid = ankle.mean(axis=0)
    hip_x = amid[0] + sway[:, None] + OUT * g[_GI["w"]]                # (T, 2)
    hip_y = np.full((T, 2), amid[1] + g[_GI["yhip"]])
    D = np.sqrt(Lt**2 + Ls**2 + 2 * Lt * Ls * np.cos(flex))           # (T, 2) hip-ankle distance
    horiz2 = (hip_x - ankle[:, 0]) ** 2 + (hip_y - ankle[:, 1]) ** 2
    hip_z = ankle[:, 2] + np.sqrt(np.clip(D**2 - horiz2, 1e-6, None))
    hip = np.stack([hip_x, hip_y, hip_z], axis=-1)                       # (T, 2, 3)
    # knee: on both spheres, offset direction with horizontal angle H from forward
    n = (ankle - hip) / D[..., None]
    c = (Lt**2 - Ls**2 + D**2) / (2 * D)
    r = Lt * Ls * np.sin(flex) / D
    hd = _side_dir(H)                                                   # (2, 3)
    ez = -(hd[:, 0] * n[..., 0] + hd[:, 1] * n[..., 1]) / np.where(np.abs(n[..., 2]) > 1e-6, n[..., 2], 1e-6)
    e = np.concatenate([np.broadcast_to(hd[:, :2], (T, 2, 2)), ez[..., None]], axis=-1)
    e = e / np.linalg.norm(e, axis=-1, keepdims=True)
    knee = hip + c[..., None] * n + r[..., None] * e
    pts = np.empty((T, 2, 5, 3))
    pts[:, :, HIP] = hip
    pts[:, :, KNEE] = knee
    pts[:, :, ANKLE] = ankle
    pts[:, :, HEEL] = heel
    pts[:, :, TOE] = toe
    return pts


def landmark_basis(F: NDArray[np.float64], H: NDArray[np.float64], knee_turn: float) -> NDArray[np.float64]:
    """Local frames of MediaPipe's landmark offsets: (2, 5, 3, 3) side, joint, (outward, forward, up), xyz.

    ``F``, ``H`` (2,) foot and leg rotation (rad). Hip: the body's frame; ankle, heel and foot_index: the
    foot's axis; knee: turned ``knee_turn`` x H from the body's frame (1: its travel direction).
    """
    def frame(angle: NDArray[np.float64]) -> NDArray[np.float64]:        # (2,) -> (2, 3, 3)
        c, s, zero = np.cos(angle), np.sin(angle), np.zeros_like(angle)
        return np.stack([np.stack([OUT * c, -s, zero], -1), np.stack([OUT * s, c, zero], -1),
                         np.broadcast_to([0.0, 0.0, 1.0], (2, 3))], axis=1)

    F, H = np.asarray(F, float), np.asarray(H, float)
    body, foot = frame(np.zeros(2)), frame(F)
    return np.stack([body, frame(knee_turn * H), foot, foot, foot], axis=1)


def _body_scale(g: NDArray[np.float64], priors: LiftPriors) -> float:
    """The fitted leg over the mean leg ``priors.leg_m[0]``: what the model's fixed lengths scale with."""
    return float(np.exp(g[_GI["logLt"]]) + np.exp(g[_GI["logLs"]])) / priors.leg_m[0]


def _landmark_points(pts: NDArray[np.float64], g: NDArray[np.float64], flex: NDArray[np.float64],
                     priors: LiftPriors) -> NDArray[np.float64]:
    """Anatomical points (T, 2, 5, 3) -> where MediaPipe puts their landmarks (learned offsets)."""
    off0 = np.asarray(priors.landmark_offset_m, float)            # (5, 3)
    off1 = np.asarray(priors.landmark_offset_per_60deg_m, float)
    if not off0.any() and not off1.any():
        return pts
    k = flex / np.deg2rad(60.0)                                    # (T, 2)
    coef = off0[None, None] + off1[None, None] * k[..., None, None]  # (T, 2, 5, 3)
    coef = coef * _body_scale(g, priors)
    basis = landmark_basis(g[[_GI["FL"], _GI["FR"]]], g[[_GI["HL"], _GI["HR"]]], priors.knee_offset_turn)
    return pts + np.einsum("tsjc,sjcd->tsjd", coef, basis)


def _camera_from(g: NDArray[np.float64], f0: float, cx: float, cy: float) -> PinholeCamera:
    return PinholeCamera(focal_px=f0 * float(np.exp(g[_GI["logf"]])), cx_px=cx, cy_px=cy,
                         azimuth_rad=float(g[_GI["azimuth"]]), heading_rad=float(g[_GI["heading"]]),
                         pitch_rad=float(g[_GI["pitch"]]), roll_rad=float(g[_GI["roll"]]),
                         distance_m=float(np.exp(g[_GI["logd"]])), height_m=float(g[_GI["h"]]))


FIT_TOL = 1e-5
"""``least_squares``' ftol and xtol: the angles settle to about 0.1 deg well before scipy's default 1e-8
(renders: the same errors to 0.1 deg, 3-4x fewer evaluations; 1.5-2.5 s per clip)."""
F_SCALE = 2.0
"""Soft-L1 scale of the robust loss (in landmark standard deviations)."""
N_GLOBAL_PRIORS = 19
"""The first residuals of ``prior_residuals``: priors on the clip's global parameters (camera, body)."""
H_MAX_DEG = 90.0
"""Upper bound of leg rotation: the knee travels straight sideways. Beyond it the knee would travel
backwards, which a plié with heels down and the pelvis lowering cannot do; from a frontal camera the
knee's forward and backward travel differ only in a few pixels of vertical motion, and on one rendered
clip (plie11, true 71 deg, camera height and field of view given) MediaPipe's knee led the fit to the
mirror solution, 104 deg."""


def _ungated(r: NDArray[np.float64]) -> NDArray[np.float64]:
    """Prior residuals pre-distorted so that the robust soft-L1 loss (f_scale ``F_SCALE``) applied by
    ``least_squares`` to every residual gives them their plain Gaussian cost r**2: priors are not outliers
    (under the robust loss a prior's pull stopped growing beyond about one sd, so tightening it did little)."""
    return r * np.sqrt(1.0 + r**2 / (4.0 * F_SCALE**2))


@dataclass
class _Problem:
    obs: NDArray[np.float64]          # (T, 2, 5, 2) pixels
    w_obs: NDArray[np.float64]        # (T, 2, 5, 2) weights (1/sd) per image axis, 0 where missing
    f0: float
    cx: float
    cy: float
    priors: LiftPriors
    focal_known: bool
    height_known: float | None
    fixed_camera: PinholeCamera | None = None
    pitch_known: float | None = None
    roll_known: float | None = None

    @property
    def T(self) -> int:
        return self.obs.shape[0]

    def unpack(self, p: NDArray[np.float64]) -> tuple[NDArray, NDArray, NDArray]:
        T = self.T
        g = p[:NG]
        flex = p[NG:NG + 2 * T].reshape(T, 2)
        sway = p[NG + 2 * T:NG + 3 * T]
        return g, flex, sway

    def camera(self, g: NDArray[np.float64]) -> PinholeCamera:
        if self.fixed_camera is not None:
            return self.fixed_camera
        return _camera_from(g, self.f0, self.cx, self.cy)

    def residuals(self, p: NDArray[np.float64]) -> NDArray[np.float64]:
        g, flex, sway = self.unpack(p)
        pts = _landmark_points(_body_points(g, flex, sway), g, flex, self.priors)
        cam = self.camera(g)
        uv = project(pts, cam.R, cam.centre_m, cam.focal_px, cam.cx_px, cam.cy_px)
        d = (uv - self.obs) * self.w_obs
        d = np.where(np.isfinite(d), d, 0.0)
        pr = self.prior_residuals(g, flex, sway)
        pr = np.concatenate([_ungated(self.priors.body_prior_weight * pr[:N_GLOBAL_PRIORS]), pr[N_GLOBAL_PRIORS:]])
        return np.concatenate([d.ravel(), pr])

    def prior_residuals(self, g: NDArray, flex: NDArray, sway: NDArray) -> NDArray[np.float64]:
        pr = self.priors
        Lt, Ls = np.exp(g[_GI["logLt"]]), np.exp(g[_GI["logLs"]])
        leg = Lt + Ls
        body = _body_scale(g, pr)
        deg = np.deg2rad
        out = [
            (leg - pr.leg_m[0]) / pr.leg_m[1],
            (g[_GI["L"]] / leg - pr.foot_over_leg[0]) / pr.foot_over_leg[1],
            (g[_GI["w"]] / leg - pr.half_hip_over_leg[0]) / pr.half_hip_over_leg[1],
            (Lt / Ls - pr.thigh_over_shank[0]) / pr.thigh_over_shank[1],
            (g[_GI["zheel"]] / leg - pr.heel_height_over_leg[0]) / pr.heel_height_over_leg[1],
            (g[_GI["ztoe"]] / leg - pr.toe_height_over_leg[0]) / pr.toe_height_over_leg[1],
            (g[_GI["zank"]] / leg - pr.ankle_height_over_leg[0]) / pr.ankle_height_over_leg[1],
            (g[_GI["aank"]] / g[_GI["L"]] - pr.ankle_along_over_foot[0]) / pr.ankle_along_over_foot[1],
            (g[_GI["gap"]] / body - pr.heel_gap_m[0]) / pr.heel_gap_m[1],
            g[_GI["yhip"]] / body / 0.03,
            ((g[_GI["pitch"]] - self.pitch_known) / deg(0.5) if self.pitch_known is not None
             else (g[_GI["pitch"]] - deg(pr.pitch_deg[0])) / deg(pr.pitch_deg[1])),
            ((g[_GI["roll"]] - self.roll_known) / deg(0.5) if self.roll_known is not None
             else (g[_GI["roll"]] - deg(pr.roll_deg[0])) / deg(pr.roll_deg[1])),
            (g[_GI["azimuth"]] - deg(pr.azimuth_deg[0])) / deg(pr.azimuth_deg[1]),
            (g[_GI["FL"]] - g[_GI["FR"]]) / deg(pr.side_asymmetry_deg),
            (g[_GI["HL"]] - g[_GI["HR"]]) / deg(pr.side_asymmetry_deg),
            *self.knees_outside_toes(g),
        ]
        if self.height_known is not None:
            out.append((g[_GI["h"]] - self.height_known) / 0.03)
        else:
            out.append((g[_GI["h"]] - pr.camera_height_m[0]) / pr.camera_height_m[1])
        out.append(g[_GI["logf"]] / (1e-3 if self.focal_known else pr.focal_log_sd))
        per_frame = [
            (flex[:, 0] - flex[:, 1]) / deg(8.0),
            np.diff(flex, 2, axis=0).T.ravel() / deg(4.0),      # side by side, as in sparsity()
            sway / 0.03,
            np.diff(sway, 2) / 0.01,
        ]
        return np.concatenate([np.asarray(out, float), *[np.ravel(a) for a in per_frame]])

    def knees_outside_toes(self, g: NDArray[np.float64]) -> NDArray[np.float64]:
        """(2,) one-sided prior residuals per side: leg rotation beyond the foot's (knees travelling outside
        the toes) by more than ``knees_outside_toes_deg[0]``, in units of its sd ``[1]``; 0 otherwise."""
        margin, sd = self.priors.knees_outside_toes_deg
        if not np.isfinite(sd):
            return np.zeros(2)
        excess = g[[_GI["HL"], _GI["HR"]]] - _foot_axis_rad(g, self.priors) - np.deg2rad(margin)
        return np.maximum(excess, 0.0) / np.deg2rad(sd)

    def sparsity(self) -> csr_matrix:
        """Which residual (row, in ``residuals``' order) depends on which parameter (column)."""
        T = self.T
        t, t2 = np.arange(T), np.arange(T - 2)
        flex_col = NG + 2 * t[:, None] + np.arange(2)                   # (T, 2): frame t, side k
        sway_col = NG + 2 * T + t                                        # (T,)
        blocks: list[tuple[NDArray[np.intp], NDArray[np.intp]]] = []    # (rows, cols) of each residual group
        row0 = 0

        def add(rows_cols: list[tuple[NDArray, NDArray]], n_rows: int) -> None:
            nonlocal row0
            for rows, cols in rows_cols:
                rows, cols = np.broadcast_arrays(rows, cols)
                blocks.append((row0 + rows.ravel(), cols.ravel()))
            row0 += n_rows

        obs_rows = 20 * t[:, None] + np.arange(20)                      # (T, 20): frame t's landmark residuals
        add([(obs_rows.ravel()[:, None], np.arange(NG)),                # every landmark: the global parameters,
             (obs_rows[:, :, None], flex_col[:, None, :]),              # its frame's two flexions
             (obs_rows, sway_col[:, None])], 20 * T)                    # and its frame's sway
        add([(np.arange(N_GLOBAL_PRIORS)[:, None], np.arange(NG))], N_GLOBAL_PRIORS)
        add([(t[:, None], flex_col)], T)                                # left = right flexion
        side_rows = (np.arange(2)[:, None] * (T - 2) + t2)[..., None]   # (2, T-2, 1): side by side
        add([(side_rows, flex_col[t2[:, None] + np.arange(3)].transpose(2, 0, 1))], 2 * (T - 2))
        add([(t, sway_col)], T)
        add([(t2[:, None], sway_col[t2[:, None] + np.arange(3)])], T - 2)
        rows = np.concatenate([b[0] for b in blocks])
        cols = np.concatenate([b[1] for b in blocks])
        return csr_matrix((np.ones(rows.size, np.int8), (rows, cols)), shape=(row0, NG + 3 * T))


def _initial_guess(obs: NDArray[np.float64], f0: float, cx: float, cy: float, priors: LiftPriors,
                   height_m: float | None, F0_deg: float) -> NDArray[np.float64]:
    """Level camera, dancer scaled to the leg-length prior, knee flexion from the 2D leg shortening."""
    T = obs.shape[0]
    hip2 = obs[:, :, HIP].mean(axis=1)
    ank2 = obs[:, :, ANKLE].mean(axis=1)
    leg_px_t = np.linalg.norm(hip2 - ank2, axis=-1)
    leg_px = float(np.nanpercentile(leg_px_t, 90))
    leg_m = priors.leg_m[0]
    s = leg_px / leg_m                                   # px per metre at the dancer
    d = f0 / s
    floor_v = float(np.nanmedian(obs[:, :, HEEL:, 1]))
    h = height_m if height_m is not None else float(np.clip((floor_v - cy) / s, 0.2, 2.5))
    g = np.zeros(NG)
    g[_GI["logd"]] = np.log(d)
    g[_GI["h"]] = h
    if height_m is not None:
        # choose the pitch so that a level-camera guess of the floor row is consistent with the height
        g[_GI["pitch"]] = np.arctan2(floor_v - cy, f0) - np.arctan2(h, d)
    x_mid = float(np.nanmedian(obs[:, :, HEEL, 0]))
    g[_GI["heading"]] = -np.arctan2(x_mid - cx, f0)
    g[_GI["logLt"]] = g[_GI["logLs"]] = np.log(leg_m / 2)
    g[_GI["w"]] = priors.half_hip_over_leg[0] * leg_m
    L = priors.foot_over_leg[0] * leg_m
    g[_GI["L"]] = L
    g[_GI["zheel"]] = priors.heel_height_over_leg[0] * leg_m
    g[_GI["ztoe"]] = priors.toe_height_over_leg[0] * leg_m
    g[_GI["aank"]] = priors.ankle_along_over_foot[0] * L
    g[_GI["zank"]] = priors.ankle_height_over_leg[0] * leg_m
    g[_GI["gap"]] = priors.heel_gap_m[0]
    g[_GI["FL"]] = g[_GI["FR"]] = np.deg2rad(F0_deg)
    g[_GI["HL"]] = g[_GI["HR"]] = np.deg2rad(max(F0_deg - 10.0, 5.0))
    ratio = np.clip(leg_px_t / leg_px, 0.3, 1.0)
    Dm = ratio * leg_m
    cosk = np.clip((Dm**2 - 2 * (leg_m / 2) ** 2) / (2 * (leg_m / 2) ** 2), -1, 1)
    k = np.arccos(cosk)
    k = np.where(np.isfinite(k), k, 0.1)
    flex = np.repeat(np.clip(k, 0.05, 2.0)[:, None], 2, axis=1)
    return np.concatenate([g, flex.ravel(), np.zeros(T)])


def _bounds(T: int) -> tuple[NDArray, NDArray]:
    lo = np.full(NG + 3 * T, -np.inf)
    hi = np.full(NG + 3 * T, np.inf)
    rad = np.deg2rad
    for name, a, b in (("pitch", rad(-45), rad(45)), ("roll", rad(-20), rad(20)), ("azimuth", rad(-60), rad(60)),
                       ("heading", rad(-40), rad(40)), ("logd", np.log(0.8), np.log(15)), ("h", 0.05, 4.0),
                       ("logLt", np.log(0.2), np.log(0.8)), ("logLs", np.log(0.2), np.log(0.8)), ("w", 0.02, 0.3),
                       ("yhip", -0.15, 0.15), ("L", 0.08, 0.45), ("zheel", -0.03, 0.12), ("ztoe", -0.03, 0.1),
                       ("aank", 0.0, 0.2), ("zank", 0.02, 0.2), ("gap", -0.02, 0.12), ("logf", -1.0, 1.0)):
        lo[_GI[name]], hi[_GI[name]] = a, b
    for name in ("FL", "FR"):
        lo[_GI[name]], hi[_GI[name]] = rad(-30), rad(120)
    for name in ("HL", "HR"):                      # a plié's knees travel forward of the frontal plane
        lo[_GI[name]], hi[_GI[name]] = rad(-40), rad(H_MAX_DEG)
    lo[NG:NG + 2 * T], hi[NG:NG + 2 * T] = rad(0.5), rad(150)
    lo[NG + 2 * T:], hi[NG + 2 * T:] = -0.3, 0.3
    return lo, hi


def fit_plie(obs_px: NDArray[np.float64], frame_size_wh: NDArray[np.float64] | tuple[float, float], *,
             vfov_deg: float | None = None, default_fov_deg: float = 63.0, camera_height_m: float | None = None,
             focal_px: float | None = None, pitch_deg: float | None = None, roll_deg: float | None = None,
             fixed_camera: PinholeCamera | None = None, priors: LiftPriors | None = None,
             toe_tip_px: NDArray[np.float64] | None = None,
             max_frames: int = 60, starts_deg: tuple[float, ...] = (35.0, 60.0, 80.0)) -> PlieFit:
    """Fit the first-position plié model to leg landmarks ``obs_px`` (F, 2, 5, 2) pixels.

    ``vfov_deg``: the field of view across the frame's height, if known. Without it the focal length
    starts from ``default_fov_deg`` across the frame's **long** side (the same sensor whether the phone
    is held upright or sideways). ``camera_height_m``: the lens height if measured. ``fixed_camera``: a
    fully known camera; the camera is then not estimated. ``focal_px``, ``pitch_deg``, ``roll_deg``: known
    parts of the camera (e.g. from a floor marker), held within 0.1 % / 0.5 deg.
    ``toe_tip_px`` (F, 2, 2): the toe tips from the person mask (``PoseSequence.toe_tip_xy``); where they
    are found in at least ``MIN_MASK_TIP_FRAC`` of the frames they replace foot_index (``info["toe_source"]``).
    Frames with any missing leg landmark are skipped; at most ``max_frames`` evenly spaced frames are
    fitted, and the points of the others follow from their own knee flexion (interpolated).
    """
    priors = priors or LiftPriors()
    obs_all = np.asarray(obs_px, float)
    obs_all, priors, toe_source = _toe_observations(obs_all, toe_tip_px, priors)
    W, Hh = float(frame_size_wh[0]), float(frame_size_wh[1])
    cx, cy = W / 2, Hh / 2
    if vfov_deg is not None:
        f0, focal_known = focal_from_fov(vfov_deg, Hh), True
    else:
        f0, focal_known = focal_from_fov(default_fov_deg, max(W, Hh)), False
    if focal_px is not None:
        f0, focal_known = float(focal_px), True
    if fixed_camera is not None:
        f0, focal_known = fixed_camera.focal_px, True
    ok = np.isfinite(obs_all).all(axis=(1, 2, 3))
    idx_ok = np.flatnonzero(ok)
    if idx_ok.size > max_frames:
        idx = idx_ok[np.round(np.linspace(0, idx_ok.size - 1, max_frames)).astype(int)]
    else:
        idx = idx_ok
    obs = obs_all[idx]
    T = obs.shape[0]
    hip2 = obs[:, :, HIP].mean(axis=1)
    ank2 = obs[:, :, ANKLE].mean(axis=1)
    leg_px = float(np.nanpercentile(np.linalg.norm(hip2 - ank2, axis=-1), 90))
    sd = np.asarray(priors.pixel_sd) * max(leg_px, 50.0) / 1000.0
    w_obs = np.broadcast_to((1.0 / np.maximum(sd, 0.5))[:, None], (T, 2, 5, 2)).copy()
    w_obs[:, :, KNEE, 1] /= priors.knee_vertical_sd_factor
    prob = _Problem(obs=obs, w_obs=w_obs, f0=f0, cx=cx, cy=cy, priors=priors, focal_known=focal_known,
                    height_known=camera_height_m, fixed_camera=fixed_camera,
                    pitch_known=None if pitch_deg is None else float(np.deg2rad(pitch_deg)),
                    roll_known=None if roll_deg is None else float(np.deg2rad(roll_deg)))
    lo, hi = _bounds(T)
    S = prob.sparsity()
    best = None
    for F0 in starts_deg:
        p0 = _initial_guess(obs, f0, cx, cy, priors, camera_height_m, F0)
        if pitch_deg is not None:
            p0[_GI["pitch"]] = np.deg2rad(pitch_deg)
        if roll_deg is not None:
            p0[_GI["roll"]] = np.deg2rad(roll_deg)
        p0 = np.clip(p0, lo + 1e-9, hi - 1e-9)
        try:
            res = least_squares(prob.residuals, p0, jac_sparsity=S, bounds=(lo, hi), loss="soft_l1", f_scale=F_SCALE,
                                x_scale="jac", max_nfev=200, method="trf",
                                ftol=FIT_TOL, xtol=FIT_TOL)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if best is None or res.cost < best.cost:
            best = res
    if best is None:
        raise ValueError("the plié model could not be fitted to these landmarks")
    g, flex, sway = prob.unpack(best.x)
    cam = prob.camera(g)
    # covariance of the global parameters from the Jacobian (Gauss-Newton, robust weights ignored), the
    # landmark rows counted as ``priors.independent_frames`` frames rather than T
    J = best.jac.toarray() if hasattr(best.jac, "toarray") else np.asarray(best.jac)
    n_data = T * 20
    J[:n_data] *= np.sqrt(min(1.0, priors.independent_frames / max(T, 1)))
    dof = max(n_data - best.x.size, 1)
    s2 = max(2 * best.cost / dof, 1.0)
    try:
        cov = np.linalg.pinv(J.T @ J) * s2
        var = np.diag(cov)[:NG]
    except np.linalg.LinAlgError:
        var = np.full(NG, np.nan)
    sdF = np.rad2deg(np.sqrt(np.abs(var[[_GI["FL"], _GI["FR"]]])))
    sdH = np.rad2deg(np.sqrt(np.abs(var[[_GI["HL"], _GI["HR"]]])))
    resid = prob.residuals(best.x)[:n_data].reshape(T, 2, 5, 2) / w_obs
    rms = float(np.sqrt(np.mean(resid**2)))
    # per-frame flexion for every frame (interpolated between fitted frames), and the points
    n_all = obs_all.shape[0]
    flex_all = np.full((n_all, 2), np.nan)
    sway_all = np.full(n_all, np.nan)
    if T:
        for k in range(2):
            flex_all[:, k] = np.interp(np.arange(n_all), idx, flex[:, k])
        sway_all[:] = np.interp(np.arange(n_all), idx, sway)
    pts = _body_points(g, np.nan_to_num(flex_all, nan=0.05), np.nan_to_num(sway_all))
    pts = _report_points(pts, g, priors)
    feet = np.array([0.0, 0.08, 0.0])
    floor_view = cam.grazing_deg(feet)
    height_sd = float(np.nan_to_num(np.sqrt(abs(var[_GI["h"]])))) if fixed_camera is None else 0.0
    floor_view_high = replace(cam, height_m=cam.height_m + height_sd).grazing_deg(feet)
    Lt, Ls = float(np.exp(g[_GI["logLt"]])), float(np.exp(g[_GI["logLs"]]))
    body = {"thigh_m": Lt, "shank_m": Ls, "half_hip_width_m": float(g[_GI["w"]]), "foot_length_m": float(g[_GI["L"]]),
            "heel_height_m": float(g[_GI["zheel"]]), "toe_height_m": float(g[_GI["ztoe"]]),
            "ankle_height_m": float(g[_GI["zank"]]), "ankle_along_m": float(g[_GI["aank"]]),
            "heel_gap_m": float(g[_GI["gap"]]), "hip_forward_m": float(g[_GI["yhip"]])}
    return PlieFit(
        camera=cam,
        foot_rotation_deg=np.rad2deg(_foot_axis_rad(g, priors)),
        leg_rotation_deg=np.rad2deg(np.array([g[_GI["HL"]], g[_GI["HR"]]])),
        foot_sd_deg=sdF, leg_sd_deg=sdH, knee_flexion_deg=np.rad2deg(flex_all), points_m=pts, body=body,
        rms_px=rms, floor_view_deg=floor_view, floor_view_high_deg=floor_view_high, success=bool(best.success),
        info={"frames_fitted": int(T), "toe_source": toe_source, "cost": float(best.cost), "nfev": int(best.nfev),
              "focal_known": focal_known, "prior_focal_px": f0, "height_sd_m": height_sd},
    )


MIN_MASK_TIP_FRAC = 0.8
"""Mask toe tips are used when both are found in at least this fraction of the frames with all leg landmarks."""


def _toe_observations(obs: NDArray[np.float64], toe_tip_px: NDArray[np.float64] | None,
                      priors: LiftPriors) -> tuple[NDArray[np.float64], LiftPriors, str]:
    """The leg observations (F, 2, 5, 2) with the toe slot taken from the mask's tips when there are enough
    of them (frames without tips then count as missing), the matching priors, and which toe was used."""
    if toe_tip_px is None:
        return obs, priors, "foot_index"
    tips = np.asarray(toe_tip_px, float)
    legs_ok = np.isfinite(obs).all(axis=(1, 2, 3))
    tips_ok = np.isfinite(tips).all(axis=(1, 2))
    if legs_ok.sum() == 0 or (legs_ok & tips_ok).sum() < MIN_MASK_TIP_FRAC * legs_ok.sum():
        return obs, priors, "foot_index"
    out = obs.copy()
    out[:, :, TOE] = tips
    return out, priors.with_mask_tips(), "mask"


def _report_points(pts: NDArray[np.float64], g: NDArray[np.float64], priors: LiftPriors) -> NDArray[np.float64]:
    """Model landmarks -> reported floor points: heel and foot_index moved onto the floor, foot_index
    turned by the learned toe-axis offset so that heel -> foot_index is the foot's long axis."""
    out = pts.copy()
    out[:, :, HEEL, 2] = 0.0
    heel = out[:, :, HEEL]
    out[:, :, TOE] = heel + g[_GI["L"]] * _side_dir(_foot_axis_rad(g, priors))[None]
    return out


# --------------------------------------------------------------------------------------------- lifter
ASSUMPTIONS: tuple[str, ...] = (
    "pinhole camera with square pixels and the principal point at the image centre",
    "focal length from the given field of view, else a phone-like prior (refined within about 12 %)",
    "camera roughly level (roll within a few degrees), height around 1 m unless given",
    "first position throughout: heels together and planted, feet flat, ankles fixed above the foot axes",
    "the pelvis moves vertically (plus a small sway); each knee bends in a vertical half-plane (leg rotation), "
    "forward of the body's frontal plane (leg rotation at most 90 deg)",
    "segment lengths constant through the clip; body proportions near the population average",
    "the dancer faces the camera; the split of total turnout between the sides assumes near-symmetry",
    "the knees travel over or inside the toes: leg rotation at most a few degrees above foot rotation",
    "MediaPipe's systematic landmark offsets (heel, foot_index, knee, ...) as learned on rendered bodies",
)

MIN_FRAMES = 10
PLIE_SHORTENING = 0.97
"""The legs' image length (hip to ankle) must shrink below this fraction of its standing length
somewhere in the clip (a knee flexion of about 28 deg) for the clip to count as showing a plié."""


def leg_length_px(obs_px: NDArray[np.float64]) -> NDArray[np.float64]:
    """(F, 2) image length hip -> ankle per frame and side of leg landmarks ``obs_px`` (F, 2, 5, 2)."""
    return np.linalg.norm(obs_px[:, :, HIP] - obs_px[:, :, ANKLE], axis=-1)


def plie_seen(obs_px: NDArray[np.float64]) -> bool:
    """Whether the legs visibly bend: ``obs_px`` (F, 2, 5, 2) leg landmarks in pixels."""
    leg_px = leg_length_px(obs_px).mean(axis=1)
    leg_px = leg_px[np.isfinite(leg_px)]
    return leg_px.size > 0 and float(np.percentile(leg_px, 5)) < PLIE_SHORTENING * float(np.percentile(leg_px, 95))


def _camera_config(config: Any) -> Any:
    return getattr(config, "camera", None)


def _analysis_config(config: Any) -> Any:
    return getattr(config, "analysis", None)


def view_check(obs_px: NDArray[np.float64], min_hip_width_ratio: float = 0.12) -> str | None:
    """None, or one sentence why the view cannot support floor-plane angles (before any fitting).

    ``obs_px``: (F, 2, 5, 2) leg landmarks in pixels (sides: dancer's left, right).
    """
    ok = np.isfinite(obs_px).all(axis=(1, 2, 3))
    if ok.sum() < MIN_FRAMES:
        return (f"The legs and feet are fully visible in only {int(ok.sum())} frames (at least {MIN_FRAMES} "
                "are needed): film the whole body, feet included.")
    o = obs_px[ok]
    hip_dx = o[:, 0, HIP, 0] - o[:, 1, HIP, 0]          # dancer's left hip minus right hip, image x
    leg = leg_length_px(o).mean(axis=1)
    ratio = float(np.median(np.abs(hip_dx) / np.maximum(leg, 1e-6)))
    if ratio < min_hip_width_ratio:
        return (f"This looks like a side view (hip width in the image is {ratio:.2f} of the leg length, "
                f"below {min_hip_width_ratio:.2f}): turnout needs the camera in front of the dancer.")
    if np.median(hip_dx) < 0:
        return ("The dancer's left hip appears on the image's left: she faces away from the camera or the "
                "video is mirrored. Film her from the front, without mirroring.")
    return None


def lift_camera(xy_px: NDArray[np.float64], world_xyz: NDArray[np.float64], frame_size_wh: NDArray[np.float64],
                config: Any = None, *, priors: LiftPriors | None = None,
                toe_tip_px: NDArray[np.float64] | None = None) -> FloorPoints:
    """The "camera" floor method (module docstring): cleaned image landmarks -> ``FloorPoints``.

    ``xy_px`` (F, 33, 2) pixels; ``world_xyz`` is not used (MediaPipe's depth is unreliable here);
    ``config``: a ``Config`` (its ``camera`` and ``analysis`` sections are read) or None for defaults.
    ``toe_tip_px`` (F, 2, 2): the mask's toe tips, if extracted (``fit_plie``).
    """
    from ..config import Config

    config = config if config is not None else Config()
    priors = priors or LiftPriors()
    cam_cfg = _camera_config(config)
    an_cfg = _analysis_config(config)
    xy = np.asarray(xy_px, float)
    n = xy.shape[0]
    obs = xy[:, lm.LEG_INDEX]                                       # (F, 2, 5, 2)
    nan_pts = np.full((n, 2, 5, 3), np.nan)
    nan_sd = np.full((n, 2), np.nan)
    min_ratio = float(getattr(an_cfg, "min_hip_width_ratio", 0.12))
    refusal = view_check(obs, min_ratio)
    if refusal is not None:
        return FloorPoints(nan_pts, nan_sd, "camera", ASSUMPTIONS, refusal=refusal,
                           camera={"estimated": False, "refusal_kind": "view"})
    W, H = float(frame_size_wh[0]), float(frame_size_wh[1])
    vfov = getattr(cam_cfg, "vfov_deg", None)
    default_vfov = float(getattr(cam_cfg, "default_vfov_deg", 60.0) or 60.0)
    focal = getattr(cam_cfg, "focal_px", None)

    def fit_with(p: LiftPriors) -> PlieFit:
        return fit_plie(obs, (W, H), vfov_deg=vfov, default_fov_deg=default_vfov,
                        camera_height_m=getattr(cam_cfg, "camera_height_m", None), focal_px=focal,
                        pitch_deg=getattr(cam_cfg, "pitch_deg", None), roll_deg=getattr(cam_cfg, "roll_deg", None),
                        priors=p, toe_tip_px=toe_tip_px, max_frames=int(getattr(an_cfg, "fit_max_frames", 60)),
                        starts_deg=tuple(getattr(an_cfg, "fit_starts_deg", (35.0, 60.0, 80.0))))

    try:
        fit, heels_apart = fit_with(priors), None
        if fitted_heel_gap_m(fit, priors) > HEEL_GAP_CONFLICT_M:
            heels_apart = fit
            fit = fit_with(heels_together(priors))
    except ValueError as exc:
        return FloorPoints(nan_pts, nan_sd, "camera", ASSUMPTIONS,
                           refusal=f"The first-position model could not be fitted to this clip ({exc}).",
                           camera={"estimated": False, "refusal_kind": "model"})
    camera_info: dict[str, Any] = {"estimated": True, **fit.camera.to_dict(), "floor_view_deg": fit.floor_view_deg,
                                   "floor_view_high_deg": fit.floor_view_high_deg,
                                   "fit_rms_px": fit.rms_px, "body": fit.body,
                                   "foot_rotation_deg": fit.foot_rotation_deg.tolist(),
                                   "leg_rotation_deg": fit.leg_rotation_deg.tolist(),
                                   "foot_rotation_sd_deg": fit.foot_sd_deg.tolist(),
                                   "leg_rotation_sd_deg": fit.leg_sd_deg.tolist(), **fit.info}
    min_view = float(getattr(an_cfg, "min_floor_view_deg", 7.0))
    if not np.isfinite(fit.floor_view_high_deg) or fit.floor_view_high_deg < min_view:
        refusal = (f"The camera looks along the floor (the estimated view of the feet is {fit.floor_view_deg:.1f} deg "
                   f"above the floor, at most {fit.floor_view_high_deg:.1f} deg within the estimate's uncertainty, "
                   f"below {min_view:.0f} deg), so the feet's forward extent cannot be measured: "
                   "raise the camera to about hip height.")
        # without a plié the camera's elevation is not determined (the fit can drift to a camera on
        # the floor): then the refusal is about the movement, and a "no plié" says more
        return FloorPoints(nan_pts, nan_sd, "camera", ASSUMPTIONS, refusal=refusal,
                           camera={**camera_info, "refusal_kind": "view" if plie_seen(obs) else "model"})
    leg_px = float(np.nanmedian(leg_length_px(obs)))
    if fit.rms_px > 0.06 * leg_px:
        refusal = (f"The landmarks do not fit a first-position plié (fit error {fit.rms_px:.0f} px): the feet may "
                   "move, or this is another movement.")
        return FloorPoints(nan_pts, nan_sd, "camera", ASSUMPTIONS, refusal=refusal,
                           camera={**camera_info, "refusal_kind": "model"})
    pts = fit.points_m.copy()
    missing = ~np.isfinite(obs).all(axis=(1, 2, 3))
    pts[missing] = np.nan
    length_sd, notes = foot_length_conflict(fit, priors)
    gap_sd, gap_notes = heels_apart_note(heels_apart, fit, priors)
    conflict_sd = np.hypot(length_sd, gap_sd)
    notes += gap_notes + leg_rotation_limit_note(fit) + knees_outside_toes_note(fit, priors)
    sd = np.sqrt(np.maximum(fit.foot_sd_deg, fit.leg_sd_deg) ** 2 + SYSTEMATIC_SD_DEG**2)
    angle_sd = np.broadcast_to(sd, (n, 2)).copy()
    angle_sd[missing] = np.nan
    camera_info["foot_length_conflict_sd_deg"] = length_sd.tolist()
    camera_info["heels_apart_sd_deg"] = gap_sd.tolist()
    if heels_apart is not None:
        camera_info["heels_apart_fit"] = {"heel_gap_m": heels_apart.body["heel_gap_m"],
                                          "foot_rotation_deg": heels_apart.foot_rotation_deg.tolist(),
                                          "leg_rotation_deg": heels_apart.leg_rotation_deg.tolist()}
    return FloorPoints(pts, angle_sd, "camera", ASSUMPTIONS, refusal=None, camera=camera_info,
                       foot_extra_sd_deg=conflict_sd, notes=notes)


FOOT_CONFLICT_Z = 3.0
"""Fitted foot / leg ratio this many prior sds from the prior mean: the landmarks and the body prior
disagree about the foot (renders: at most 1.8; the dark shoes of ballet_plie.mp4: 2.5, with one look
per frame 3.6)."""


def foot_length_conflict(fit: PlieFit, priors: LiftPriors) -> tuple[NDArray[np.float64], tuple[str, ...]]:
    """Extra one-sigma (2,) degrees per side, and a note, when the fitted foot length conflicts with the prior.

    Where MediaPipe's feet look much shorter (or longer) than a foot of this leg length, either the
    landmarks miss part of the foot or the dancer's proportions are unusual; the foot angle then rests
    on which one is believed. The angle a foot-length error of the whole conflict moves is
    tan(F) x (relative length error) radians (the lateral extent L sin F is what the image fixes).
    """
    leg = fit.body["thigh_m"] + fit.body["shank_m"]
    ratio = fit.body["foot_length_m"] / leg
    mean, sd = priors.foot_over_leg
    z = (ratio - mean) / sd
    if not np.isfinite(z) or abs(z) < FOOT_CONFLICT_Z:
        return np.zeros(2), ()
    F = np.deg2rad(np.clip(fit.foot_rotation_deg, 0.0, 85.0))
    extra = np.rad2deg(np.tan(F) * abs(ratio - mean) / mean)
    word = "shorter" if z < 0 else "longer"
    note = (f"The feet look {abs(ratio - mean) / mean:.0%} {word} than expected for this leg length (dark shoes "
            f"on a dark floor, or feet partly hidden?), so foot rotation is less certain (about +-{extra.max():.0f} "
            "deg more): light shoes or socks on a contrasting floor help.")
    return extra, (note,)


HEEL_GAP_CONFLICT_M = 0.05
"""Fitted heel gap (for an average leg, ``_body_scale``) above which the heels are taken as not seen
together: first position has them touching (prior 2 +- 2 cm); the 50 rendered clips fit at most 3.7 cm,
the real clip's loose trousers over the heels 8 cm (README.md, "Real clip check")."""


def fitted_heel_gap_m(fit: PlieFit, priors: LiftPriors) -> float:
    """The fitted gap between the heels, for a body of average leg length (``_body_scale``)."""
    return fit.body["heel_gap_m"] * priors.leg_m[0] / (fit.body["thigh_m"] + fit.body["shank_m"])


def heels_together(priors: LiftPriors) -> LiftPriors:
    """The priors of the refit when the heels are seen apart: heels held together, heel and ankle landmarks
    trusted less (``LiftPriors.heels_apart_refit``)."""
    gap, gap_sd, factor = priors.heels_apart_refit
    sd = list(priors.pixel_sd)
    sd[ANKLE] *= factor
    sd[HEEL] *= factor
    return replace(priors, heel_gap_m=(gap, gap_sd), pixel_sd=tuple(sd))


def heels_apart_note(heels_apart: PlieFit | None, fit: PlieFit,
                     priors: LiftPriors) -> tuple[NDArray[np.float64], tuple[str, ...]]:
    """Extra one-sigma (2,) degrees of foot rotation per side, and a note, when the first fit put the heels
    apart (``heels_apart``, None otherwise) and ``fit`` is the refit with them held together.

    MediaPipe's heels and ankles follow clothing over them (wide trousers put them several centimetres
    out), and the fit then opens the heel gap, which leaves less of each foot's sideways reach to turnout.
    The refit trusts the first-position assumption over those landmarks; how far it moved the feet is
    the extra uncertainty (which of the two is right the landmarks cannot tell).
    """
    if heels_apart is None:
        return np.zeros(2), ()
    change = fit.foot_rotation_deg - heels_apart.foot_rotation_deg
    extra = np.abs(change)
    how = "further out" if change.mean() >= 0 else "less far out"
    gap_cm = fitted_heel_gap_m(heels_apart, priors) * 100
    note = (f"The heels look about {gap_cm:.0f} cm apart, where first position has "
            "them together (clothing over the heels and ankles?), so the feet were measured with the heels held "
            f"together, {extra.max():.0f} deg {how} than the heel landmarks say: tights, or trousers rolled up "
            "above the ankles, make this reading surer.")
    return extra, (note,)


def leg_rotation_limit_note(fit: PlieFit) -> tuple[str, ...]:
    """A note when the fitted leg rotation sits at ``H_MAX_DEG`` (the knees' forward travel not seen)."""
    at_limit = fit.leg_rotation_deg >= H_MAX_DEG - 0.5
    if not at_limit.any():
        return ()
    return (f"Leg rotation reads at the {H_MAX_DEG:.0f} deg limit (knees travelling straight sideways): "
            "this camera does not show how far forward the knees travel, so the leg rotation and "
            "forced-turnout figures are uncertain; a higher camera (about hip height) or a floor marker helps.",)


KNEES_OUTSIDE_NOTE_DEG = 2.5
"""``knees_outside_toes_note`` speaks when leg rotation exceeds foot rotation by more than the prior's
margin plus this: well outside the toes, not within a reading's uncertainty of them (on the dev renders,
knees truly over the toes read up to 1.8 deg outside)."""


def knees_outside_toes_note(fit: PlieFit, priors: LiftPriors) -> tuple[str, ...]:
    """A note when the fitted knees travel outside the toes by more than ``LiftPriors.knees_outside_toes_deg``
    allows: the one-sided prior then holds leg rotation near foot rotation."""
    margin, sd = priors.knees_outside_toes_deg
    outside = fit.leg_rotation_deg - fit.foot_rotation_deg > margin + KNEES_OUTSIDE_NOTE_DEG
    if not np.isfinite(sd) or not outside.any():
        return ()
    sides = " and ".join(name for name, o in zip(("left", "right"), outside) if o)
    knees = f"The {sides} knee{'s seem' if outside.all() else ' seems'}"
    return (f"{knees} to travel outside the toes (leg rotation above foot rotation). The method allows only a few "
            "degrees of that, which is rare in first position and poorly seen from the front, so such a leg reads "
            "closer to knees over toes than it is.",)


SYSTEMATIC_SD_DEG = 3.0
"""Added (in quadrature) to the fit's own uncertainty (``LiftPriors.independent_frames``): what the
priors' own spread leaves out, calibrated on the rendered clips (README.md, "How turnout is measured
from one camera")."""

lift_camera.name = "camera"  # type: ignore[attr-defined]
