"""The per-frame CSV: one row per video frame, per-side angles and offsets, flags and confidence.

Columns (empty cell = unknown in that frame):

``frame``, ``time_s``, ``detected`` (0/1), ``plie`` (number of the plié the frame belongs to, or empty),
``phase``, then for each side ``left``/``right`` (the dancer's own): ``knee_flexion_deg_<side>``,
``foot_rotation_deg_<side>``, ``leg_rotation_deg_<side>``, ``forced_turnout_deg_<side>``,
``knee_offset_ratio_<side>`` (knee offset from the foot axis in foot lengths, < 0 = inside the toes),
then ``flags`` (``name:side`` items separated by ``;``) and ``confidence`` (0..1).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..landmarks import SIDES
from .view import PER_FRAME_SERIES, ReportView


def columns() -> list[str]:
    cols = ["frame", "time_s", "detected", "plie", "phase"]
    for side in SIDES:
        cols += [f"{name}_{side}" for name in PER_FRAME_SERIES]
    return [*cols, "flags", "confidence"]


def _fmt(v: float, digits: int = 2) -> str:
    return f"{v:.{digits}f}" if np.isfinite(v) else ""


def rep_of_frame(view: ReportView) -> NDArray[np.int64]:
    """(F,) 1-based plié number of each frame, 0 outside pliés."""
    out = np.zeros(view.n_frames, dtype=np.int64)
    t = view.times_s
    for rep in view.reps:
        if np.isfinite(rep.start_s) and np.isfinite(rep.end_s):
            out[(t >= rep.start_s - 1e-9) & (t <= rep.end_s + 1e-9)] = rep.index
    return out


def write_csv(view: ReportView, detected: NDArray[np.bool_], path: str | Path | None = None) -> str:
    """The CSV text (and, with ``path``, the file written under a temporary name and renamed)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns())
    reps = rep_of_frame(view)
    nan2 = np.full((view.n_frames, 2), np.nan)
    series = [view.series.get(name, nan2) for name in PER_FRAME_SERIES]
    conf = view.confidence if view.confidence is not None else np.full(view.n_frames, np.nan)
    for i in range(view.n_frames):
        row = [str(i), f"{view.times_s[i]:.4f}", "1" if detected[i] else "0", str(reps[i]) if reps[i] else "",
               view.phase[i] if view.phase is not None else ""]
        for s in range(2):
            row += [_fmt(float(a[i, s]), 3 if name == "knee_offset_ratio" else 2)
                    for name, a in zip(PER_FRAME_SERIES, series, strict=True)]
        flags = [f"{name}:{SIDES[s]}" for name, a in view.frame_flags.items() for s in range(2) if a[i, s]]
        row += [";".join(flags), _fmt(float(conf[i]), 3)]
        w.writerow(row)
    text = buf.getvalue()
    if path is not None:
        _write_text_atomic(Path(path), text)
    return text


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
