"""Plain-language verdict and what-to-change sentences, drawn only from the measured numbers.

The teaching behind them (docs: shared DOMAIN notes): turnout is the outward rotation of the whole leg
and must come from the hips; in a demi-plié the knees travel over the toes; if they fall inside, the
feet are turned out further than the legs rotate, so bring the feet in to the legs' real rotation.
Feet rolling forward (pronation) and unstable hips are the other two signs of forcing. No validated
clinical cut-off exists, so every threshold is a configurable teaching default and is named as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .view import ReportView, SideView

HIPS_NOTE = ("Turnout should come from the hips: rotate the whole leg from the hip joint and let knees "
             "and feet follow. Never force the feet out further than your hips turn. Forced turnout "
             "strains knees, ankles, hips and back over the years; real turnout grows slowly with "
             "strength and flexibility.")

DEFAULT_FORCED_DEG = 10.0
"""Used only when a result does not carry its configuration (``config.FlagConfig`` holds the default)."""

THRESHOLD_NOTE = ("No validated clinical cut-off exists for forced turnout; the limits used here are "
                  "teaching defaults that can be changed in the configuration.")


@dataclass(frozen=True)
class Verdict:
    """The report's words: a headline, one line per leg, what to change, and how sure we are."""

    headline: str
    per_leg: tuple[str, ...]
    changes: tuple[str, ...]
    confident: bool
    caveats: tuple[str, ...] = ()


def _deg(v: float) -> str:
    return f"{v:.0f}°" if np.isfinite(v) else "unknown"


def _round5(v: float) -> int:
    return int(5 * round(v / 5.0))


def _leg_name(side: str) -> str:
    return {"left": "Left leg", "right": "Right leg"}.get(side, side)


def undecided(s: SideView, threshold_deg: float) -> bool:
    """True when forced turnout was not flagged but its one-sigma band reaches the threshold: the
    measurement cannot tell "from the hip" from "forced" for this leg."""
    return ("forced_turnout" not in s.flags and np.isfinite(s.forced_turnout_deg) and np.isfinite(s.sd_deg)
            and s.forced_turnout_deg + s.sd_deg >= threshold_deg)


def leg_sentence(s: SideView, threshold_deg: float = DEFAULT_FORCED_DEG) -> str:
    """One sentence (or two) about one leg."""
    name = _leg_name(s.side)
    if not np.isfinite(s.foot_rotation_deg) and not np.isfinite(s.leg_rotation_deg):
        return f"{name}: could not be measured."
    parts = [f"{name}: the foot is turned out {_deg(s.foot_rotation_deg)}"]
    if np.isfinite(s.leg_rotation_deg):
        parts[0] += f" and the leg rotates {_deg(s.leg_rotation_deg)}"
    sd = f" ± {s.sd_deg:.0f}°" if np.isfinite(s.sd_deg) else ""
    if "forced_turnout" in s.flags:
        parts.append(f"{_deg(s.forced_turnout_deg)}{sd} of the foot's turnout is forced below the hip.")
    elif undecided(s, threshold_deg):
        parts.append(f"the turnout probably comes from the hip (foot and leg differ by {_deg(s.forced_turnout_deg)}{sd}), "
                     f"but within that uncertainty forced turnout above {threshold_deg:.0f}° cannot be ruled out.")
    elif np.isfinite(s.forced_turnout_deg):
        parts.append(f"the turnout comes from the hip (foot and leg differ by {_deg(s.forced_turnout_deg)}{sd}).")
    else:
        parts[0] += "."
    joiner = ", so " if "forced_turnout" in s.flags else ": "
    text = parts[0] + (joiner + parts[1] if len(parts) > 1 else "")
    extra = []
    if "knee_inside_toes" in s.flags:
        extra.append("The knee falls inside the toes at the bottom of the plié.")
    elif np.isfinite(s.knee_offset_ratio):
        extra.append("The knee travels over the toes.")
    if "rolling_in" in s.flags:
        extra.append("The foot rolls forward onto the arch.")
    return " ".join([text, *extra])


def changes_for(view: ReportView) -> list[str]:
    """What to change, most important first, each drawn from a measured number."""
    out: list[str] = []
    for s in view.sides:
        who = f"your {s.side} foot"
        if "forced_turnout" in s.flags and np.isfinite(s.leg_rotation_deg):
            target = max(0, _round5(s.leg_rotation_deg))
            out.append(f"Bring {who} in to about {target}° (what your {s.side} leg really rotates, now "
                       f"{_deg(s.foot_rotation_deg)}) and let the knee travel over the toes as you bend.")
        elif "knee_inside_toes" in s.flags:
            out.append(f"As you bend, send your {s.side} knee out over the second toe; if it will not go, "
                       f"turn {who} in a little until it does.")
    for s in view.sides:
        if "rolling_in" in s.flags:
            amount = f" (by about {_deg(s.rolling_deg)})" if np.isfinite(s.rolling_deg) else ""
            out.append(f"Your {s.side} foot rolls forward onto the arch{amount}: turn it in a little, lift the "
                       "arch and keep the weight evenly on the big toe, the little toe and the heel.")
    if view.hips_unstable:
        detail = f" (up to {_deg(view.pelvis_motion_deg)})" if np.isfinite(view.pelvis_motion_deg) else ""
        out.append(f"Your hips move during the plié{detail}: keep the pelvis level and square over the "
                   "heels, and go only as deep as you can keep it still.")
    return out


def make_verdict(view: ReportView) -> Verdict:
    """The verdict of one analysed video, from its numbers and its recording checks."""
    caveats = [i.sentence for i in view.recording_issues if i.limits_verdict]
    if view.refusal:
        caveats.insert(0, view.refusal)
    blocking = [i for i in view.recording_issues if i.code in ("side_view", "no_person")]
    if view.refusal or blocking:
        headline = "This recording cannot support a turnout verdict; see the recording problems above."
        fixes = tuple(dict.fromkeys(i.fix for i in blocking)) or (
            "Film again from the front, with the whole body and both feet in the picture.",)
        return Verdict(headline, (), fixes, False, tuple(caveats))
    if view.no_plie:
        headline = "No demi-plié was found in this video, so there is no turnout verdict."
        return Verdict(headline, (), ("Film one or more slow demi-pliés in first position, facing the camera, "
                                      "standing still for a second before and after.",), False, tuple(caveats))
    threshold = float(view.thresholds.get("forced_turnout_deg", DEFAULT_FORCED_DEG))
    per_leg = tuple(leg_sentence(s, threshold) for s in view.sides)
    changes = changes_for(view)
    unsure = [s.side for s in view.sides if undecided(s, threshold)]
    forced = [s.side for s in view.sides if "forced_turnout" in s.flags]
    inside = [s.side for s in view.sides if "knee_inside_toes" in s.flags]
    n = sum(1 for r in view.reps if r.kind == "demi")
    plies = f"{n} demi-plié{'s' if n != 1 else ''}"
    if forced:
        legs = " and ".join(forced)
        headline = (f"Forced turnout ({plies}): the {legs} {'foot is' if len(forced) == 1 else 'feet are'} "
                    "turned out further than the leg rotates from the hip.")
    elif inside:
        headline = f"Knees inside the toes ({plies}): the {' and '.join(inside)} knee does not travel over the toes."
    elif unsure:
        headline = (f"Turnout probably comes from the hips ({plies}), but the measurement is not precise enough "
                    f"to rule out forced turnout in the {' and '.join(unsure)} "
                    f"{'leg' if len(unsure) == 1 else 'legs'}.")
        changes.append("To be sure, film again as the recording guide says (camera at about hip height, "
                       "2.5-3.5 m away, feet contrasting with the floor), or ask your teacher to watch whether "
                       "your knees travel over the second toe.")
    elif changes:
        headline = f"Turnout comes from the hips ({plies}), with details to work on below."
    else:
        headline = f"Turnout comes from the hips ({plies}): the knees travel over the toes."
    if not changes:
        changes = ["Nothing to correct in these measurements: keep working the rotation from the hips."]
    confident = not caveats
    if not confident:
        headline = "Tentative, the recording limits it. " + headline
    return Verdict(headline, per_leg, tuple(changes), confident, tuple(caveats))
