"""Following pliés as they happen, one frame at a time (for ``turnout live``). Pure Python/numpy.

``PlieMonitor.update(t_s, flexion_deg)`` takes each processed frame's knee flexion per side
(degrees, ``SIDES`` order: left, right; NaN where unknown) and returns a ``PlieEvent`` when one
happens:

=========  ===========================================================================================
event      when
=========  ===========================================================================================
"start"    the knees bent ``start_rise_deg`` above the standing level: a plié may be starting
"bottom"   the bend passed its deepest point (it fell ``bottom_drop_deg`` below its peak, or stayed
           within that of the peak for ``hold_s``), the peak was at least ``min_depth_deg`` above
           standing and both knees bent: the moment to check the knees over the toes
"end"      the legs are back within ``end_rise_deg`` of the standing level after such a bend
"abort"    a bend that is not a plié candidate ended: too shallow, too quick, too long, one knee
           only (a weight shift), or the dancer was lost mid-bend; ``reason`` says which
=========  ===========================================================================================

Why relative to a *standing level*: the live loop measures flexion from MediaPipe's world landmarks,
which read 15-22 deg for straight legs (measured on samples/demo_plie.mp4 and the Wikimedia clips),
so the absolute ``PlieConfig.standing_max_deg`` (12 deg, meant for the floor method's flexion) would
never see the dancer standing. The standing level per knee follows a decrease at once and an increase
slowly (time constant ``baseline_tau_s``), and only while standing. The flexion is median-filtered over
``smooth_s`` first (single-frame jumps of 20-50 deg occur in MediaPipe's world landmarks).

The monitor only proposes candidates; ``turnout live`` counts a plié when ``analysis.core.analyze``
confirms it on the buffered frames, so live counting and ``turnout analyze`` agree.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..config import PlieConfig


@dataclass(frozen=True)
class PlieEvent:
    """One event of the monitor. Times in seconds of the session, angles in degrees."""

    kind: str
    """"start", "bottom", "end" or "abort"."""
    t_s: float
    start_s: float
    """When the knees started to bend (the candidate's start)."""
    peak_s: float | None = None
    """Time of the deepest (smoothed) bend so far."""
    depth_deg: float = math.nan
    """Deepest mean bend above the standing level."""
    knee_rise_deg: tuple[float, float] = (math.nan, math.nan)
    """Each knee's bend above its standing level at the peak (left, right)."""
    reason: str | None = None
    """Why an "abort" is not a plié candidate."""


@dataclass
class PlieMonitor:
    """Stateful plié candidate detector; feed it every processed frame in time order.

    >>> m = PlieMonitor()
    >>> events = [m.update(i / 25, (17 + d, 16 + d)) for i, d in enumerate([0] * 25 + list(range(0, 40, 2))
    ...           + list(range(40, 0, -2)) + [0] * 25)]
    >>> [e.kind for e in events if e]
    ['start', 'bottom', 'end']
    """

    min_depth_deg: float = 15.0
    """A bend shallower than this above standing is not a plié (``PlieConfig.min_depth_deg``)."""
    min_duration_s: float = 0.6
    max_duration_s: float = 20.0
    min_knee_symmetry: float = 0.5
    """The smaller knee's rise over the larger's at the peak; below it: a weight shift."""
    start_rise_deg: float = 7.5
    end_rise_deg: float = 4.0
    bottom_drop_deg: float = 3.0
    hold_s: float = 0.3
    smooth_s: float = 0.13
    baseline_tau_s: float = 2.0
    max_gap_s: float = 1.0
    """A candidate is aborted when nothing was measured for this long."""

    state: str = "standing"
    """"standing", "bending" (bottom not reached yet) or "rising" (bottom passed)."""
    baseline_deg: np.ndarray = field(default_factory=lambda: np.full(2, np.nan))
    start_s: float | None = None
    peak_s: float | None = None
    peak_rise: float = 0.0
    peak_side_rise: np.ndarray = field(default_factory=lambda: np.full(2, np.nan))
    bottom_sent: bool = False
    candidates: int = 0
    """Bends that ended as plié candidates ("end" events)."""
    events: list[PlieEvent] = field(default_factory=list)
    _recent: deque[tuple[float, np.ndarray]] = field(default_factory=deque)
    _last_t: float | None = None
    _last_seen: float | None = None
    _rise: float = math.nan

    @classmethod
    def from_config(cls, plie: PlieConfig, **overrides: float) -> PlieMonitor:
        """A monitor with the thresholds of ``config.plie`` (so live counting agrees with ``analyze``)."""
        values = dict(min_depth_deg=plie.min_depth_deg, min_duration_s=plie.min_duration_s,
                      max_duration_s=plie.max_duration_s, min_knee_symmetry=plie.min_knee_symmetry,
                      start_rise_deg=0.5 * plie.min_depth_deg)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def rise_deg(self) -> float:
        """The current (smoothed) mean bend above the standing level; NaN before any measurement."""
        return self._rise

    def _smoothed(self, t_s: float, flex: np.ndarray) -> np.ndarray:
        self._recent.append((t_s, flex))
        while self._recent and t_s - self._recent[0][0] > self.smooth_s:
            self._recent.popleft()
        stack = np.stack([f for _, f in self._recent])
        with np.errstate(all="ignore"):
            ok = np.isfinite(stack)
            return np.array([np.median(stack[ok[:, s], s]) if ok[:, s].any() else np.nan for s in range(2)])

    def _emit(self, kind: str, t_s: float, reason: str | None = None) -> PlieEvent:
        event = PlieEvent(kind, t_s, self.start_s if self.start_s is not None else t_s, self.peak_s,
                          self.peak_rise, (float(self.peak_side_rise[0]), float(self.peak_side_rise[1])), reason)
        self.events.append(event)
        return event

    def _reset(self) -> None:
        self.state, self.start_s, self.peak_s, self.peak_rise = "standing", None, None, 0.0
        self.peak_side_rise = np.full(2, np.nan)
        self.bottom_sent = False

    def _symmetric(self) -> bool:
        r = self.peak_side_rise
        if not np.isfinite(r).all() or r.max() <= 0:
            return True  # one knee unknown: cannot tell; the core decides
        return bool(max(r.min(), 0.0) / r.max() >= self.min_knee_symmetry)

    def update(self, t_s: float, flexion_deg: tuple[float, float] | np.ndarray) -> PlieEvent | None:
        """The event this frame triggers, if any. NaN flexion (no person, legs hidden) = no measurement."""
        flex = np.asarray(flexion_deg, dtype=float).reshape(2)
        dt = 0.0 if self._last_t is None else max(t_s - self._last_t, 0.0)
        self._last_t = t_s
        if not np.isfinite(flex).any():
            if self.state != "standing" and self._last_seen is not None and t_s - self._last_seen > self.max_gap_s:
                event = self._emit("abort", t_s, "the dancer left the picture during the bend")
                self._reset()
                return event
            return None
        self._last_seen = t_s
        smooth = self._smoothed(t_s, flex)
        base = self.baseline_deg
        fresh = ~np.isfinite(base)
        base[fresh] = smooth[fresh]
        if self.state == "standing":
            # follow a lower standing level at once, a higher one slowly (never a plié's own bend)
            alpha = 1.0 - math.exp(-dt / self.baseline_tau_s) if dt > 0 else 0.0
            with np.errstate(invalid="ignore"):
                lower = smooth < base
            base[:] = np.where(lower, smooth, np.where(np.isfinite(smooth), base + alpha * (smooth - base), base))
        side_rise = smooth - base
        with np.errstate(all="ignore"):
            rise = float(np.nanmean(side_rise))
        self._rise = rise

        if self.state == "standing":
            if rise > self.start_rise_deg:
                self.state, self.start_s = "bending", t_s
                self.peak_s, self.peak_rise, self.peak_side_rise = t_s, rise, side_rise.copy()
                return self._emit("start", t_s)
            return None

        if rise > self.peak_rise:
            self.peak_s, self.peak_rise, self.peak_side_rise = t_s, rise, side_rise.copy()
        assert self.start_s is not None
        if t_s - self.start_s > self.max_duration_s:
            event = self._emit("abort", t_s, f"the knees stayed bent longer than {self.max_duration_s:.0f} s")
            self._reset()
            self.baseline_deg = smooth.copy()  # a new standing level
            return event
        assert self.peak_s is not None
        if (self.state == "bending" and self.peak_rise >= self.min_depth_deg
                and (rise <= self.peak_rise - self.bottom_drop_deg or t_s - self.peak_s >= self.hold_s)):
            self.state = "rising"
            if self._symmetric():
                self.bottom_sent = True
                return self._emit("bottom", t_s)
        if rise <= self.end_rise_deg:
            duration = t_s - self.start_s
            if self.peak_rise < self.min_depth_deg:
                event = self._emit("abort", t_s, f"a {self.peak_rise:.0f} deg bend is too shallow for a plié")
            elif not self._symmetric():
                event = self._emit("abort", t_s, "one knee bent much more than the other: a weight shift, not a plié")
            elif duration < self.min_duration_s:
                event = self._emit("abort", t_s, f"a {duration:.1f} s bend is too quick for a plié")
            else:
                self.candidates += 1
                event = self._emit("end", t_s)
            self._reset()
            return event
        return None


__all__ = ["PlieEvent", "PlieMonitor"]
