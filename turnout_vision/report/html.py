"""The single self-contained HTML report: opens offline, no external assets.

Order: recording problems that limit the verdict, the verdict in plain words per leg, what to change
(with the note that turnout comes from the hips), the plots (knee flexion; foot versus leg rotation,
pliés shaded), a still of each plié's bottom with the overlay, a table per plié, the remaining
recording notes and analysis warnings, then the details (configuration, versions, source).
Plots are PNG drawn with matplotlib's Agg backend and stills are JPEG, both inlined as base64
``data:`` URIs; CSS is inline; there are no scripts and no links to other files.
"""

from __future__ import annotations

import base64
import html as _html
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..landmarks import SIDES
from .advice import HIPS_NOTE, THRESHOLD_NOTE, Verdict
from .view import RepView, ReportView, SideView

SIDE_COLORS = {"left": "#2878eb", "right": "#ff9f1a"}
"""Plot colours per side (match the overlay: left blue, right amber)."""

CSS = """
:root { --ink:#1d2430; --muted:#5b6675; --bad:#c62828; --warn:#b26a00; --good:#2e7d32; --line:#dde3ea; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       max-width: 1080px; margin: 0 auto; padding: 24px; line-height: 1.45; background: #fff; }
h1 { font-size: 1.7em; margin: 0 0 4px; } h2 { font-size: 1.25em; margin: 28px 0 8px;
     border-bottom: 2px solid var(--line); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 18px; }
.box { border-radius: 8px; padding: 14px 18px; margin: 12px 0; border: 1px solid var(--line); }
.box.rec { background: #fff4e5; border-color: #f0c36d; }
.box.verdict { background: #f3f7ff; border-color: #b9cdf5; }
.box.verdict.unsure { background: #f6f6f6; border-color: #cfcfcf; }
.headline { font-size: 1.3em; font-weight: 600; margin: 0 0 8px; }
.leg { margin: 4px 0; }
.note { color: var(--muted); font-size: 0.92em; }
ul { margin: 6px 0 6px 20px; padding: 0; } li { margin: 4px 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 0.95em; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: right; }
th { background: #f4f6f9; } td.l, th.l { text-align: left; }
.flag { color: var(--bad); font-weight: 600; } .ok { color: var(--good); }
img.plot { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
.stills { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; flex: 1 1 300px; max-width: 520px; }
figure img { width: 100%; height: auto; border-radius: 6px; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 0.9em; }
details pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 0.85em; }
.sw { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: middle; }
"""


def _e(text: Any) -> str:
    return _html.escape(str(text), quote=True)


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _deg(v: float, signed: bool = False) -> str:
    if not np.isfinite(v):
        return "–"
    return f"{v:+.0f}°" if signed else f"{v:.0f}°"


def _ratio(v: float) -> str:
    return f"{v:+.2f}" if np.isfinite(v) else "–"


# -------------------------------------------------------------------------------------------- plots

def make_plots(view: ReportView, dpi: int = 100) -> dict[str, bytes]:
    """PNG images: ``knee_flexion`` and ``rotation`` (foot vs leg per side), pliés shaded."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    t = view.times_s
    out: dict[str, bytes] = {}

    def shade(ax: Any) -> None:
        for rep in view.reps:
            if np.isfinite(rep.start_s) and np.isfinite(rep.end_s):
                ax.axvspan(rep.start_s, rep.end_s, color="#8a9bb0", alpha=0.18, lw=0)
                if np.isfinite(rep.bottom_s):
                    ax.axvline(rep.bottom_s, color="#55606e", lw=0.8, ls=":")
                ax.text((rep.start_s + rep.end_s) / 2, 1.0, f"plié {rep.index}", transform=ax.get_xaxis_transform(),
                        ha="center", va="bottom", fontsize=8, color="#55606e")

    def finish(fig: Any, name: str) -> None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        out[name] = buf.getvalue()

    fig = Figure(figsize=(10, 3.2), layout="constrained")
    ax = fig.add_subplot()
    knee = view.series.get("knee_flexion_deg")
    if knee is not None:
        for s, side in enumerate(SIDES):
            ax.plot(t, knee[:, s], color=SIDE_COLORS[side], lw=1.8, label=f"{side} knee")
    else:
        ax.text(0.5, 0.5, "knee flexion not available", transform=ax.transAxes, ha="center")
    shade(ax)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("knee flexion (°)")
    ax.set_title("Knee flexion (0° = straight)", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    if t.size:
        ax.set_xlim(float(t[0]), float(t[-1]))
    if knee is not None:
        ax.legend(loc="upper right", fontsize=8)
    finish(fig, "knee_flexion")

    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax = fig.add_subplot()
    foot, leg = view.series.get("foot_rotation_deg"), view.series.get("leg_rotation_deg")
    for s, side in enumerate(SIDES):
        if foot is not None:
            ax.plot(t, foot[:, s], color=SIDE_COLORS[side], lw=1.8, label=f"{side} foot rotation")
        if leg is not None:
            ax.plot(t, leg[:, s], color=SIDE_COLORS[side], lw=1.8, ls="--", label=f"{side} leg rotation")
    if foot is None and leg is None:
        ax.text(0.5, 0.5, "rotation not available", transform=ax.transAxes, ha="center")
    shade(ax)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rotation (°, + = outward)")
    ax.set_title("Foot rotation (solid) versus leg rotation (dashed): the gap is forced turnout",
                 loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    if t.size:
        ax.set_xlim(float(t[0]), float(t[-1]))
    if foot is not None or leg is not None:
        ax.legend(loc="lower right", fontsize=8, ncol=2)
    finish(fig, "rotation")
    return out


# -------------------------------------------------------------------------------------------- html parts

def _side_rows(sides: Sequence[SideView]) -> str:
    rows = []
    for s in sides:
        flags = ", ".join(f.replace("_", " ") for f in s.flags)
        rows.append(
            f"<tr><td class='l'><span class='sw' style='background:{SIDE_COLORS.get(s.side, '#888')}'></span> "
            f"{_e(s.side)}</td><td>{_deg(s.foot_rotation_deg)}</td><td>{_deg(s.leg_rotation_deg)}</td>"
            f"<td>{_deg(s.forced_turnout_deg, True)}"
            f"{' ± ' + _deg(s.sd_deg) if np.isfinite(s.sd_deg) else ''}</td>"
            f"<td>{_ratio(s.knee_offset_ratio)}</td><td>{_deg(s.rolling_deg)}</td>"
            f"<td class='l {'flag' if flags else 'ok'}'>{_e(flags) if flags else 'none'}</td></tr>")
    return "".join(rows)


_SIDE_HEAD = ("<tr><th class='l'>leg</th><th>foot rotation</th><th>leg rotation</th><th>forced turnout</th>"
              "<th>knee over toes (foot lengths, − = inside)</th><th>rolling in</th><th class='l'>flags</th></tr>")


_KIND = {"demi": "demi-plié", "grand": "grand plié (not scored)"}


def _rep_table(reps: Sequence[RepView]) -> str:
    parts = []
    for r in reps:
        parts.append(
            f"<h3>Plié {r.index}: {_e(_KIND.get(r.kind, r.kind))}, {_tm(r.start_s)}–{_tm(r.end_s)}, bottom at {_tm(r.bottom_s)}, "
            f"knee flexion {_deg(r.depth_deg)}</h3><table>{_SIDE_HEAD}{_side_rows(r.sides)}</table>")
    return "".join(parts)


def _tm(t: float) -> str:
    if not np.isfinite(t):
        return "–"
    m, s = divmod(max(0.0, t), 60.0)
    return f"{int(m):02d}:{s:04.1f}"


def render_html(
    view: ReportView,
    verdict: Verdict,
    *,
    title: str,
    plots: Mapping[str, bytes],
    stills: Sequence[tuple[RepView, bytes]] = (),
    details: Mapping[str, Any] | None = None,
    attribution: str | None = None,
    truth: Mapping[str, float] | None = None,
) -> str:
    """The report as one HTML string (UTF-8; no external references)."""
    rec_limit = [i for i in view.recording_issues if i.limits_verdict]
    rec_other = [i for i in view.recording_issues if not i.limits_verdict]
    body: list[str] = [f"<h1>Turnout report: {_e(title)}</h1>",
                       f"<p class='sub'>{len(view.reps)} plié(s) found in {view.n_frames} frames "
                       f"({_tm(float(view.times_s[-1]) if view.n_frames else float('nan'))}).</p>"]
    if rec_limit or view.refusal:
        items = ([f"<li>{_e(view.refusal)}</li>"] if view.refusal else []) + [
            f"<li><b>{_e(i.message)}</b> {_e(i.fix)}</li>" for i in rec_limit]
        body.append("<div class='box rec' id='recording-problems'><b>Recording problems that limit this verdict</b>"
                    f"<ul>{''.join(items)}</ul></div>")
    legs = "".join(f"<p class='leg'>{_e(s)}</p>" for s in verdict.per_leg)
    body.append(f"<div class='box verdict{'' if verdict.confident else ' unsure'}' id='verdict'>"
                f"<p class='headline'>{_e(verdict.headline)}</p>{legs}</div>")
    if truth:
        measured = " / ".join(f"{s.side} {_deg(s.foot_rotation_deg)} foot, {_deg(s.leg_rotation_deg)} leg, "
                              f"{_deg(s.forced_turnout_deg, True)} forced" for s in view.sides)
        body.append("<div class='box' id='truth'><b>Check it: this is a rendered sample with known truth.</b> "
                    f"Each foot is turned out {_deg(truth.get('foot_rotation_deg', float('nan')))}, each leg "
                    f"rotates {_deg(truth.get('leg_rotation_deg', float('nan')))} "
                    f"({_deg(truth.get('forced_turnout_deg', float('nan')), True)} forced), knees bend to "
                    f"{_deg(truth.get('knee_flexion_deg', float('nan')))}. Measured: {_e(measured)}.</div>")
    if verdict.changes or verdict.per_leg:
        changes = "".join(f"<li>{_e(c)}</li>" for c in verdict.changes)
        body.append(f"<h2>What to change</h2><ul id='changes'>{changes}</ul>"
                    f"<p class='note'>{_e(HIPS_NOTE)}</p>")
    elif verdict.changes:
        body.append("<ul>" + "".join(f"<li>{_e(c)}</li>" for c in verdict.changes) + "</ul>")
    if not view.no_plie and verdict.per_leg:
        body.append(f"<h2>Summary per leg</h2><table>{_SIDE_HEAD}{_side_rows(view.sides)}</table>"
                    f"<p class='note'>Rotations are measured in the floor plane from straight ahead "
                    f"(0° = parallel, 90° = fully turned out). Forced turnout = foot rotation − leg "
                    f"rotation. {_e(THRESHOLD_NOTE)}</p>")
    body.append("<h2>Over time</h2>")
    for name, alt in (("knee_flexion", "Knee flexion over time, pliés shaded"),
                      ("rotation", "Foot versus leg rotation over time, pliés shaded")):
        if name in plots:
            body.append(f"<p><img class='plot' id='plot-{name}' alt='{_e(alt)}' "
                        f"src='{_data_uri(plots[name], 'image/png')}'></p>")
    if stills:
        figs = "".join(
            f"<figure><img class='still' alt='Bottom of plié {r.index}' src='{_data_uri(jpg, 'image/jpeg')}'>"
            f"<figcaption>Plié {r.index}, bottom at {_tm(r.bottom_s)}: white arrow = foot axis, "
            f"green arrow = knee travel (red when the knee falls inside the toes).</figcaption></figure>"
            for r, jpg in stills)
        body.append(f"<h2>Bottom of each plié</h2><div class='stills'>{figs}</div>")
    if view.reps and verdict.per_leg:
        body.append(f"<h2>Each plié</h2>{_rep_table(view.reps)}")
    notes = [f"<li>{_e(i.message)} {_e(i.fix)}</li>" for i in rec_other] + [
        f"<li>{_e(w)}</li>" for w in view.warnings]
    if verdict.caveats and not (rec_limit or view.refusal):
        notes = [f"<li>{_e(c)}</li>" for c in verdict.caveats] + notes
    if notes:
        body.append(f"<h2>Notes on the recording and the analysis</h2><ul id='notes'>{''.join(notes)}</ul>")
    if details:
        body.append("<h2>Details</h2><details><summary>Configuration, versions and method</summary>"
                    f"<pre>{_e(json.dumps(details, indent=1, default=str))}</pre></details>")
    if attribution:
        body.append(f"<p class='note'>{_e(attribution)}</p>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>Turnout report: {_e(title)}</title><style>{CSS}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


def write_html(text: str, path: str | Path) -> Path:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
