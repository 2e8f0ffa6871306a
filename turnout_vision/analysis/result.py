"""``AnalysisResult`` and its JSON form (the one source of truth for the result format).

The JSON form is described by ``turnout_vision/schema/result.schema.json`` (``SCHEMA_VERSION``) and
in docs/CONVENTIONS.md. Rules:

- Every reported number carries its one-sigma uncertainty: ``{"value": 61.2, "sd": 3.4}``.
- An unknown number is ``{"value": null, "reason": "one sentence"}``; NaN never appears.
- Per-side objects are keyed ``left`` / ``right`` (the dancer's own sides).
- Flags are objects ``{"name", "side", "value", "threshold", "unit", "margin_sd", "message"}``; only
  raised flags are listed. Warnings are ``{"code", "message"}``.
- ``frames`` holds the per-frame series (lists, ``null`` where unknown).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .lifting import FloorPoints

SCHEMA_VERSION = "1.0"
SIDES = ("left", "right")


def value(v: float | None, sd: float | None = None, reason: str = "not measured", ndigits: int = 3) -> dict[str, Any]:
    """A reported number: ``{"value", "sd"}`` when ``v`` is finite, else ``{"value": None, "reason"}``.

    An unknown uncertainty (``sd`` None or NaN) is reported as ``"sd": null`` next to a known value.
    """
    if v is None or not math.isfinite(float(v)):
        return {"value": None, "reason": reason}
    out: dict[str, Any] = {"value": round(float(v), ndigits)}
    out["sd"] = round(float(sd), ndigits) if sd is not None and math.isfinite(float(sd)) else None
    return out


def unknown(reason: str) -> dict[str, Any]:
    """``{"value": None, "reason": reason}``."""
    return {"value": None, "reason": reason}


def number(v: float | None, ndigits: int = 3) -> float | None:
    """A plain JSON number (None for NaN/None)."""
    if v is None or not math.isfinite(float(v)):
        return None
    return round(float(v), ndigits)


def flag(name: str, side: str | None, v: float, threshold: float, unit: str, sd: float | None, message: str,
         **extra: Any) -> dict[str, Any]:
    """A raised flag. ``margin_sd`` = (value - threshold) / sd: how many sigmas past the threshold."""
    margin = None
    if sd is not None and math.isfinite(sd) and sd > 0:
        margin = round((abs(v) - abs(threshold)) / sd, 2)
    out = {"name": name, "side": side, "value": round(float(v), 3), "threshold": float(threshold), "unit": unit,
           "margin_sd": margin, "message": message}
    out.update(extra)
    return out


def warning(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def series(a: NDArray[np.float64], ndigits: int = 3) -> list[float | None]:
    """A per-frame array as a JSON list (None where not finite)."""
    a = np.asarray(a, dtype=float)
    r = np.round(a, ndigits)
    out = r.tolist()
    bad = ~np.isfinite(r)
    if bad.any():
        for i in np.flatnonzero(bad):  # only the unknown entries (serialisation, not analysis)
            out[i] = None
    return out


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """What ``core.analyze`` returns: the JSON-ready parts, the per-frame arrays and the floor points.

    ``frames``: name -> (F,) or (F, 2) arrays (per side: left, right); ``frame_flags``: name -> (F, 2)
    booleans; ``floor_points``: the floor method's output. ``to_dict()`` is the JSON form.
    """

    status: str
    """"ok", "no_plie" (analysed, no demi-plié), "no_person" (nobody detected) or "refused"
    (pliés found but the floor method refused this view: rotations unknown)."""
    status_reason: str | None
    source: Mapping[str, Any]
    method: Mapping[str, Any]
    config: Mapping[str, Any]
    warnings: Sequence[Mapping[str, str]]
    reps: Sequence[Mapping[str, Any]]
    rejected_movements: Sequence[Mapping[str, Any]]
    summary: Mapping[str, Any]
    flags: Sequence[Mapping[str, Any]]
    frames: Mapping[str, NDArray[Any]]
    frame_flags: Mapping[str, NDArray[np.bool_]] = field(default_factory=dict)
    floor_points: FloorPoints | None = None
    image_xy_smoothed: NDArray[np.float64] | None = None
    """(F, 33, 2) the cleaned, smoothed image landmarks the analysis used (pixels); None without a person."""
    tool_version: str = ""
    schema_version: str = SCHEMA_VERSION

    @property
    def confidence(self) -> NDArray[np.float64] | None:
        """(F,) 0..1 confidence of each frame."""
        c = self.frames.get("confidence")
        return None if c is None else np.asarray(c, dtype=float)

    @property
    def has_plie(self) -> bool:
        return any(r.get("kind") == "demi" for r in self.reps)

    def frames_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, arr in self.frames.items():
            a = np.asarray(arr)
            if a.dtype.kind in "US":
                out[name] = a.tolist()
            elif a.ndim == 2 and a.shape[1] == 2:
                out[name] = {"left": series(a[:, 0]), "right": series(a[:, 1])}
            else:
                out[name] = series(a)
        return out

    def to_dict(self, include_frames: bool = True) -> dict[str, Any]:
        """The JSON form (plain dicts, lists, numbers, strings, None)."""
        d: dict[str, Any] = {
            "schema_version": self.schema_version,
            "tool_version": self.tool_version,
            "status": self.status,
            "status_reason": self.status_reason,
            "source": dict(self.source),
            "method": dict(self.method),
            "config": dict(self.config),
            "warnings": [dict(w) for w in self.warnings],
            "reps": [dict(r) for r in self.reps],
            "rejected_movements": [dict(r) for r in self.rejected_movements],
            "summary": dict(self.summary),
            "flags": [dict(f) for f in self.flags],
        }
        if include_frames:
            d["frames"] = self.frames_json()
        return _clean(d)

    def to_json(self, indent: int | None = 1, include_frames: bool = True) -> str:
        return json.dumps(self.to_dict(include_frames), indent=indent, allow_nan=False)

    def write_json(self, path: str | Path, include_frames: bool = True) -> Path:
        """Write the JSON form (atomically: temporary name, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        tmp.write_text(self.to_json(include_frames=include_frames), encoding="utf-8")
        tmp.replace(path)
        return path


def _clean(obj: Any) -> Any:
    """Numpy scalars -> Python, NaN/inf -> None, tuples -> lists (recursively)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def schema() -> dict[str, Any]:
    """The JSON Schema of the result (package data ``schema/result.schema.json``)."""
    from importlib.resources import files

    text = files("turnout_vision").joinpath("schema/result.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate(data: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``data`` does not follow the result schema."""
    import jsonschema

    jsonschema.validate(dict(data), schema())


__all__ = ["SCHEMA_VERSION", "AnalysisResult", "flag", "number", "schema", "series", "unknown", "validate",
           "value", "warning"]
