"""Accuracy of the "camera" floor method against exact ground truth: rendered bodies and a synthetic sweep.

    python benchmarks/floor_accuracy.py renders  [--cache /tmp/tv_landmarks] [--known fov,height[,pitch] | --known camera] [--exact knee,...]
    python benchmarks/floor_accuracy.py synthetic [--n 200] [--seed 0]
    python benchmarks/floor_accuracy.py learn     [--cache /tmp/tv_landmarks]   # MediaPipe offsets (LOO)
    python benchmarks/floor_accuracy.py renders --dir DIR ...     # a held-out set made with ../shared/tools/render
    ... --toe foot_index                                           # MediaPipe's foot_index instead of the mask's toe tips
    ... --priors "body_prior_weight=3;knees_outside_toes_deg=0,inf"   # LiftPriors changed for an experiment

renders: every clip of ../shared/renders/dev (and demo/): video -> MediaPipe extraction (``extract``;
``--cache DIR`` reuses/stores ``NAME.npz`` landmark files) -> ``lift_camera`` -> per-side foot rotation
F and leg rotation H from the fit, compared with the clip's JSON truth; the forced-turnout flag
(F - H > flags.forced_turnout_deg) is scored where |forced| >= 10 or forced = 0. ``--known camera``
gives the fit the render's exact camera (``fit_plie(fixed_camera=...)``): the best these landmarks allow.
``--exact knee,heel`` replaces those MediaPipe landmarks by the true projections of the render's points
(which landmark limits the method; all five: the method's own accuracy).
synthetic: clips from ``turnout_vision.synthetic`` with phone-like cameras (height 0.5-1.6 m, distance
2.5-4.5 m, long-side field of view 55-75 deg, yaw +-20 deg, aimed at mid-body), 1-3 px noise, landmarks
at the anatomical points (the generator's MediaPipe emulation is off; MediaPipe's real offsets are
measured on the renders); tables of error against camera height and yaw.
learn: fits MediaPipe's landmark offsets (LiftPriors.landmark_offset_*) on the renders with their true
cameras, and reports the leave-one-clip-out spread.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from turnout_vision import landmarks as lm
from turnout_vision.analysis.camera import PinholeCamera, pose_from_extrinsics
from turnout_vision.analysis.camera_lift import LiftPriors, fit_plie, landmark_basis, lift_camera
from turnout_vision.config import Config
from turnout_vision.sequence import PoseSequence

ROOT = Path(__file__).resolve().parents[1]
RENDERS = (ROOT / ".." / "shared" / "renders").resolve()
WORLD_TO_FLOOR = np.diag([1.0, -1.0, 1.0])        # renders: X left, Y backward, Z up -> floor frame
FORCED_MIN = 10.0


def _summary(err: np.ndarray) -> str:
    a = np.abs(err[np.isfinite(err)])
    if a.size == 0:
        return "   n/a"
    return f"{np.median(a):5.1f} / {np.percentile(a, 95):5.1f}"


# ---------------------------------------------------------------------------------------------- renders
def _clip_name(video: Path) -> str:
    """``plie02`` for the shared renders, ``FOLDER/plie02`` for a held-out set (its stems repeat the dev ones)."""
    return video.stem if video.parent.parent == RENDERS else f"{video.parent.name}/{video.stem}"


def _extracted(video: Path, cache: Path | None) -> PoseSequence:
    """The clip's landmarks with the default model settings; a cached file made with other settings (e.g.
    one look per frame, before ``model.mirror_average``) is extracted again."""
    name = _clip_name(video).replace("/", "_")
    if cache is not None and (cache / f"{name}.npz").is_file():
        seq = PoseSequence.load_npz(cache / f"{name}.npz")
        if seq.meta.get("model_config") == dataclasses.asdict(Config().model):
            return seq
    from turnout_vision.extract import extract

    seq = extract(str(video), Config())
    if cache is not None:
        seq.save_npz(cache / f"{name}.npz")
    return seq


def _landmarks(video: Path, cache: Path | None, frames: list[dict], exact: tuple[str, ...] = ()) -> PoseSequence:
    """MediaPipe's landmarks of a rendered clip; the joints named in ``exact`` (of ``lm.LEG_JOINTS``)
    replaced by the true projections in the clip's truth ``frames`` (which landmark limits the method?)."""
    seq = _extracted(video, cache)
    if not exact:
        return seq
    xy = np.array(seq.image_xy)
    for joint in exact:
        true_px = np.array([[f[side][f"{joint}_px"] for side in "LR"] for f in frames])     # (T, 2, 2)
        xy[:, lm.LEG_INDEX[:, lm.LEG_JOINTS.index(joint)]] = true_px
    return dataclasses.replace(seq, image_xy=xy)


def _tips(seq: PoseSequence, exact: tuple[str, ...], toe: str) -> np.ndarray | None:
    """The mask's toe tips to give the fit (``toe="mask"``), or None: MediaPipe's foot_index (``toe=
    "foot_index"``, or when foot_index is replaced by its true projection)."""
    return None if toe == "foot_index" or "foot_index" in exact else np.asarray(seq.toe_tip_xy)


def _render_clips(folders: list[Path] | None = None) -> list[Path]:
    """The dev and demo clips, or those of ``folders`` (held-out sets made with ../shared/tools/render)."""
    dirs = folders or [RENDERS / "dev", RENDERS / "demo"]
    clips = [c for d in dirs for c in sorted(d.glob("*.mp4"))]
    return [c for c in clips if c.with_suffix(".json").is_file()]


def renders(cache: Path | None, known: set[str], priors: LiftPriors | None = None, quiet: bool = False,
            loo: bool = True, exact: tuple[str, ...] = (), folders: list[Path] | None = None,
            toe: str = "mask") -> dict:
    """``loo``: every dev clip is measured with MediaPipe offsets learned on the other dev clips only;
    the clips of other ``folders`` (held out, pooled) with offsets learned on all dev clips.
    ``toe``: "mask" (the mask's toe tips, as ``analyze`` does) or "foot_index" (MediaPipe's landmark)."""
    clips = _render_clips(folders)
    if not clips:
        print(f"no rendered clips under {RENDERS}", file=sys.stderr)
        return {}
    cfg = Config()
    threshold = cfg.flags.forced_turnout_deg
    rows, eF, eH, sds, flags_ok, flags_n = [], [], [], [], 0, 0
    per_clip = loo_priors(cache, priors, exact) if loo else {}
    if not quiet:
        print(f"{'clip':10s} {'F':>5s} {'H':>5s} {'h_m':>5s} {'yaw':>5s} | {'F est L/R':>12s} {'H est L/R':>12s} "
              f"| {'forced est':>11s} flag  {'h est':>5s} {'sd':>4s}")
    for clip in clips:
        name = _clip_name(clip)
        truth = json.loads(clip.with_suffix(".json").read_text())
        p = truth["params"]
        seq = _landmarks(clip, cache, truth["frames"], exact)
        over: dict[str, float] = {}
        if "fov" in known:
            over["camera.vfov_deg"] = p["vfov"]
        if "height" in known:
            over["camera.camera_height_m"] = p["cam_height"]
        if "pitch" in known:                       # with fov and height: what a floor marker measures
            over["camera.pitch_deg"] = p["cam_pitch"]
            over["camera.roll_deg"] = 0.0
        c = cfg.merged(over) if over else cfg
        t0 = time.time()
        pri = per_clip.get(clip.stem if not folders else "*", per_clip.get("*", priors))
        if "camera" in known:                      # the exact camera: what the landmarks allow at best
            fit = fit_plie(seq.image_xy[:, lm.LEG_INDEX], seq.frame_size_wh, fixed_camera=_true_camera(truth),
                           priors=pri, toe_tip_px=_tips(seq, exact, toe))
            refusal, F, H = None, fit.foot_rotation_deg, fit.leg_rotation_deg
            side_sd, h_est = np.maximum(fit.foot_sd_deg, fit.leg_sd_deg), fit.camera.height_m
        else:
            fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, c, priors=pri,
                             toe_tip_px=_tips(seq, exact, toe))
            refusal = fp.refusal
            F, H = np.asarray(fp.camera.get("foot_rotation_deg")), np.asarray(fp.camera.get("leg_rotation_deg"))
            h_est = fp.camera.get("height_m")
            side_sd = None if refusal else np.nanmedian(fp.angle_sd_deg, axis=0)   # a refusal has no sd
        dt = time.time() - t0
        if refusal:
            print(f"{name:10s} REFUSED: {refusal}")
            eF += [np.nan, np.nan]
            eH += [np.nan, np.nan]
            sds += [np.nan, np.nan]
            continue
        forced_true = p["F"] - p["H"]
        forced_est = F - H
        eF += list(F - p["F"])
        eH += list(H - p["H"])
        sds += list(side_sd)
        scored = abs(forced_true) >= FORCED_MIN or forced_true == 0
        ok = None
        if scored:
            ok = bool(np.all((forced_est > threshold) == (forced_true > threshold)))
            flags_n += 1
            flags_ok += int(ok)
        sd = float(np.median(side_sd))
        rows.append(dict(clip=name, F=p["F"], H=p["H"], F_est=F.tolist(), H_est=H.tolist(), flag_ok=ok,
                         h_est=h_est, seconds=dt))
        if not quiet:
            flag = "-" if ok is None else ("ok" if ok else "WRONG")
            print(f"{name:10s} {p['F']:5.1f} {p['H']:5.1f} {p['cam_height']:5.2f} {p['cam_yaw']:5.1f} | "
                  f"{F[0]:5.1f} {F[1]:5.1f}  {H[0]:5.1f} {H[1]:5.1f}  | {forced_est[0]:5.1f} {forced_est[1]:5.1f} "
                  f"{flag:5s} {h_est:5.2f} {sd:4.1f}")
    eF, eH = np.array(eF), np.array(eH)
    how = ("offsets as in LiftPriors (learned on ALL dev clips)" if not loo else
           "held-out clips, MediaPipe offsets learned on all dev clips" if folders else
           "MediaPipe offsets learned leave-one-clip-out")
    how += f"; exact landmarks: {', '.join(exact)}" if exact else ""
    how += "; toe: MediaPipe's foot_index" if toe == "foot_index" else ""
    print(f"\nrenders ({len(clips)} clips, known: {', '.join(sorted(known)) or 'nothing'}; {how}), "
          "|error| median / p95, per side:")
    print(f"  foot rotation: {_summary(eF)} deg   (mean signed {np.nanmean(eF):+.1f})")
    print(f"  leg rotation:  {_summary(eH)} deg   (mean signed {np.nanmean(eH):+.1f})")
    print(f"  forced-turnout flag right on {flags_ok}/{flags_n} scored clips (|forced| >= {FORCED_MIN:.0f} or 0)")
    print(_coverage(np.concatenate([eF, eH]), np.concatenate([sds, sds])))
    return {"rows": rows, "eF": eF, "eH": eH, "sd": np.array(sds), "flags": (flags_ok, flags_n)}


def _coverage(err: np.ndarray, sd: np.ndarray) -> str:
    """How well the stated one-sigma uncertainty ``sd`` describes the errors ``err`` (both per side)."""
    ok = np.isfinite(err) & np.isfinite(sd)
    z = np.abs(err[ok]) / sd[ok]
    return (f"  stated uncertainty (foot and leg): median {np.median(sd[ok]):.1f} deg; |error| within 1 sd for "
            f"{np.mean(z <= 1):.0%}, within 2 sd for {np.mean(z <= 2):.0%} (68 % and 95 % if well calibrated)")


# ---------------------------------------------------------------------------------------------- synthetic
def phone_scene(rng: np.random.Generator, height_m: float | None = None, yaw_deg: float | None = None):
    """A synthetic first-position plié filmed by a phone-like camera (module docstring for ranges)."""
    from turnout_vision import synthetic as sy

    body = sy.Body(stature_m=rng.uniform(1.5, 1.85), thigh_ratio=0.245 * rng.uniform(0.95, 1.05),
                   shank_ratio=0.246 * rng.uniform(0.95, 1.05), foot_length_ratio=0.152 * rng.uniform(0.93, 1.07),
                   hip_width_ratio=0.105 * rng.uniform(0.9, 1.1), heel_gap_m=rng.uniform(0.0, 0.03))
    H = rng.uniform(20, 70)
    fk = float(rng.choice([0, 0, 8, 15, 25]))
    motion = sy.Motion(leg_rotation_deg=(H + rng.normal(0, 1.5), H + rng.normal(0, 1.5)),
                       below_knee_rotation_deg=(fk + rng.normal(0, 1.0), fk + rng.normal(0, 1.0)),
                       depth_deg=(d := rng.uniform(40, 65), d + rng.normal(0, 2)), n_reps=1,
                       rep_duration_s=rng.uniform(2.5, 4.0), lead_s=1.0, trail_s=1.0, fps=25.0)
    portrait = rng.random() < 0.6
    w, hp = (720, 1280) if portrait else (1280, 720)
    f = 640 / np.tan(np.deg2rad(rng.uniform(55, 75)) / 2)
    vfov = float(np.rad2deg(2 * np.arctan(hp / 2 / f)))
    h = float(rng.uniform(0.5, 1.6) if height_m is None else height_m)
    dist = float(rng.uniform(2.5, 4.5))
    pitch = float(np.rad2deg(np.arctan2(0.5 * body.stature_m - h, dist)) + rng.uniform(-3, 3))
    yaw = float(rng.uniform(-20, 20) if yaw_deg is None else yaw_deg)
    cam = sy.Camera(height_m=h, distance_m=dist, vfov_deg=vfov, pitch_deg=pitch, yaw_deg=yaw, width_px=w, height_px=hp)
    noise = sy.Noise(pixel_sd_px=float(rng.uniform(1, 3)), mediapipe_bias=False)
    return sy.Scene(body=body, motion=motion, camera=cam, noise=noise)


def synthetic(n: int, seed: int, known: set[str], changes: str = "") -> dict:
    """``changes``: ``--priors`` text applied to the generator's priors (``synthetic.lift_priors``)."""
    from turnout_vision import synthetic as sy

    rng = np.random.default_rng(seed)
    # the generator's landmarks are its anatomical points: no MediaPipe offsets
    priors = _priors_from(changes, sy.lift_priors())
    recs = []
    t0 = time.time()
    for i in range(n):
        scene = phone_scene(rng)
        if not sy.legs_in_frame(scene):
            continue
        clip = sy.generate(scene, seed=seed * 100000 + i)
        seq = clip.sequence
        over: dict[str, float] = {}
        if "fov" in known:
            over["camera.vfov_deg"] = scene.camera.vfov_deg
        if "height" in known:
            over["camera.camera_height_m"] = scene.camera.height_m
        cfg = Config().merged(over) if over else Config()
        fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, cfg, priors=priors)
        tF = clip.truth.foot_rotation_deg[0]
        tH = clip.truth.leg_rotation_deg
        if fp.refusal:
            recs.append(dict(h=scene.camera.height_m, yaw=scene.camera.yaw_deg, eF=[np.nan] * 2, eH=[np.nan] * 2,
                             sd=[np.nan] * 2, refused=True))
            continue
        recs.append(dict(h=scene.camera.height_m, yaw=scene.camera.yaw_deg, refused=False,
                         eF=list(np.asarray(fp.camera["foot_rotation_deg"]) - tF),
                         eH=list(np.asarray(fp.camera["leg_rotation_deg"]) - tH),
                         sd=list(np.nanmedian(fp.angle_sd_deg, axis=0))))
    eF = np.array([r["eF"] for r in recs], float)
    eH = np.array([r["eH"] for r in recs], float)
    hs = np.array([r["h"] for r in recs])
    yaws = np.array([r["yaw"] for r in recs])
    refused = np.array([r["refused"] for r in recs])
    print(f"\nsynthetic sweep: {len(recs)} clips ({refused.sum()} refused), seed {seed}, known: "
          f"{', '.join(sorted(known)) or 'nothing'}, {time.time() - t0:.0f} s; |error| median / p95, per side:")
    print(f"  foot rotation: {_summary(eF)} deg   (mean signed {np.nanmean(eF):+.1f})")
    print(f"  leg rotation:  {_summary(eH)} deg   (mean signed {np.nanmean(eH):+.1f})")
    sd = np.array([r["sd"] for r in recs], float)
    print(_coverage(np.concatenate([eF.ravel(), eH.ravel()]), np.concatenate([sd.ravel(), sd.ravel()])))
    print("\n  camera height (m) | clips | foot rot. med / p95 | leg rot. med / p95")
    for lo, hi in ((0.5, 0.75), (0.75, 1.0), (1.0, 1.25), (1.25, 1.6)):
        m = (hs >= lo) & (hs < hi)
        print(f"  {lo:4.2f}-{hi:4.2f}         | {m.sum():5d} | {_summary(eF[m])}       | {_summary(eH[m])}")
    print("\n  |yaw| (deg)       | clips | foot rot. med / p95 | leg rot. med / p95")
    for lo, hi in ((0, 5), (5, 10), (10, 15), (15, 20.1)):
        m = (np.abs(yaws) >= lo) & (np.abs(yaws) < hi)
        print(f"  {lo:4.0f}-{hi:4.0f}         | {m.sum():5d} | {_summary(eF[m])}       | {_summary(eH[m])}")
    return {"eF": eF, "eH": eH, "h": hs, "yaw": yaws}


# ---------------------------------------------------------------------------------------------- learn
def _true_camera(truth: dict) -> PinholeCamera:
    """The render's exact camera, in the floor frame."""
    cam = truth["camera"]
    return pose_from_extrinsics(np.array(cam["K"]), np.array(cam["R_world_to_cam"]) @ WORLD_TO_FLOOR,
                                np.array(cam["t_world_to_cam"]))


def _learn_data(cache: Path | None, exact: tuple[str, ...] = (),
                knee_turn: float = LiftPriors.knee_offset_turn, tips: bool = False) -> list:
    """Per dev clip: true points, observations (toe slot: the mask's tips if ``tips``), true camera, ..."""
    data = []
    for clip in sorted((RENDERS / "dev").glob("*.mp4")):
        t = json.loads(clip.with_suffix(".json").read_text())
        fr = t["frames"]
        P = np.array([[[f[s][j] for j in lm.LEG_JOINTS] for s in "LR"] for f in fr]) @ WORLD_TO_FLOOR
        k = np.array([f["K_cmd_deg"] for f in fr]) / 60.0
        cam = _true_camera(t)
        seq = _landmarks(clip, cache, fr, exact)
        obs = seq.image_xy[:, lm.LEG_INDEX]
        if tips:
            obs = obs.copy()
            obs[:, :, -1] = seq.toe_tip_xy
        F, H = (np.deg2rad([t["params"][a]] * 2) for a in "FH")
        leg = np.linalg.norm(np.diff(P[0, :, :3], axis=1), axis=-1).sum(axis=-1).mean()   # hip-knee-ankle
        scale = leg / LiftPriors.leg_m[0]            # offsets are learned for a leg of leg_m[0] (they scale with it)
        data.append((P, obs, cam, scale * landmark_basis(F, H, knee_turn), k, clip.stem))
    return data


def _fit_offsets(items: list) -> np.ndarray:
    """Least-squares MediaPipe offsets (30 values: 5 joints x 3 constant, then 5 x 3 per 60 deg) on ``items``."""
    from scipy.optimize import least_squares

    return least_squares(_offset_resid, np.zeros(30), args=(items,), loss="soft_l1", f_scale=5.0).x


def _offset_resid(x: np.ndarray, items: list) -> np.ndarray:
    o, s = x[:15].reshape(5, 3), x[15:].reshape(5, 3)
    r = []
    for P, obs, cam, B, k, _ in items:
        coef = o[None] + s[None] * k[:, None, None]                   # (T, 5, 3)
        X = P + np.einsum("tjc,sjcd->tsjd", coef, B)
        r.append(np.nan_to_num(cam.project(X) - obs).ravel())
    return np.concatenate(r)


def loo_priors(cache: Path | None, base: LiftPriors | None = None, exact: tuple[str, ...] = ()) -> dict[str, LiftPriors]:
    """Per dev clip: priors whose MediaPipe offsets were learned on the OTHER dev clips (leave-one-clip-out).
    Clips outside dev (the demo) get offsets learned on all dev clips (they are held out anyway)."""
    base = base or LiftPriors()
    data = _learn_data(cache, exact, base.knee_offset_turn)
    data_tips = _learn_data(cache, exact, base.knee_offset_turn, tips=True)

    def priors(x: np.ndarray, x_tips: np.ndarray) -> LiftPriors:
        rows = [tuple(r) for r in x.reshape(2, 5, 3).round(4).tolist()]
        tip = x_tips.reshape(2, 5, 3)[:, -1].round(4).tolist()
        return dataclasses.replace(base, landmark_offset_m=tuple(rows[0]), landmark_offset_per_60deg_m=tuple(rows[1]),
                                   mask_tip_offset_m=tuple(tip[0]), mask_tip_offset_per_60deg_m=tuple(tip[1]))

    def others(items: list, i: int) -> list:
        return items[:i] + items[i + 1:]

    out = {d[-1]: priors(_fit_offsets(others(data, i)), _fit_offsets(others(data_tips, i))) for i, d in enumerate(data)}
    out["*"] = priors(_fit_offsets(data), _fit_offsets(data_tips))
    return out


def learn(cache: Path | None, priors: LiftPriors) -> None:
    """MediaPipe landmark minus true point, in local frames, constant + per 60 deg of flexion (LOO spread)."""
    resid, fit = _offset_resid, _fit_offsets
    np.set_printoptions(precision=3, suppress=True)
    for tips in (False, True):
        data = _learn_data(cache, knee_turn=priors.knee_offset_turn, tips=tips)
        x = fit(data)
        loo = np.array([fit(data[:i] + data[i + 1:]) for i in range(len(data))])
        toe = "mask toe tip" if tips else "foot_index"
        print(f"\n== toe observation: {toe}")
        print(f"landmark_offset_m (hip, knee, ankle, heel, {toe}; outward, forward, up):\n", x[:15].reshape(5, 3))
        print("landmark_offset_per_60deg_m:\n", x[15:].reshape(5, 3))
        print("leave-one-clip-out spread (sd):\n", loo.std(axis=0).reshape(2, 5, 3))
        before, after = resid(np.zeros(30), data), resid(x, data)
        print(f"rms pixel residual with the true camera: {np.sqrt(np.mean(before**2)):.1f} px -> "
              f"{np.sqrt(np.mean(after**2)):.1f} px")
        toe_after = after.reshape(-1, 2, 5, 2)[:, :, -1]
        print(f"  of the toe landmark alone: {np.sqrt(np.mean(toe_after**2)):.1f} px")


def _priors_from(text: str, base: LiftPriors | None = None) -> LiftPriors:
    """``name=value;...`` -> ``base`` (default ``LiftPriors()``) with those fields changed (numbers,
    comma-separated tuples or words)."""
    changes: dict[str, object] = {}
    for item in filter(None, text.split(";")):
        name, value = item.split("=", 1)
        try:
            changes[name] = tuple(float(v) for v in value.split(",")) if "," in value else float(value)
        except ValueError:
            changes[name] = value
    return dataclasses.replace(base or LiftPriors(), **changes)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["renders", "synthetic", "learn", "all"])
    ap.add_argument("--cache", type=Path, default=None, help="directory of cached landmark .npz files")
    ap.add_argument("--known", default="", help="comma list: fov, height, pitch (pitch and roll; given to the method as known), or camera "
                    "(the exact camera: the best the landmarks allow)")
    ap.add_argument("--exact", default="", help="renders: comma list of joints (hip, knee, ankle, heel, foot_index) "
                    "whose MediaPipe landmarks are replaced by the true projections")
    ap.add_argument("--priors", default="", help="LiftPriors changes for an experiment, e.g. "
                    "knee_offset_turn=0;knees_outside_toes_deg=0,6")
    ap.add_argument("--dir", type=Path, action="append", default=None, help="renders: score the clips of this "
                    "folder instead of ../shared/renders (a held-out set; offsets learned on all dev clips); "
                    "given more than once, the sets are pooled")
    ap.add_argument("--toe", choices=["mask", "foot_index"], default="mask", help="renders: the toe observation "
                    "the fit gets (the mask's toe tips, as `turnout analyze` does, or MediaPipe's foot_index)")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-loo", action="store_true", help="renders: use LiftPriors' offsets (fitted on all dev clips)")
    args = ap.parse_args(argv)
    known = {k for k in args.known.split(",") if k}
    exact = tuple(j for j in args.exact.split(",") if j)
    if set(exact) - set(lm.LEG_JOINTS):
        ap.error(f"--exact takes joints of {', '.join(lm.LEG_JOINTS)}")
    priors = _priors_from(args.priors)
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    if args.what in ("renders", "all"):
        renders(args.cache, known, priors, loo=not args.no_loo, exact=exact, folders=args.dir, toe=args.toe)
    if args.what in ("synthetic", "all"):
        synthetic(args.n, args.seed, known, args.priors)
    if args.what == "learn":
        learn(args.cache, priors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
