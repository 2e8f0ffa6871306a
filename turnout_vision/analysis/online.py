"""Following pliés as they happen, one frame at a time (for ``turnout live``).

``PlieMonitor.update(t_s, knee_flexion_deg)`` turns the mean knee flexion of each new frame into
events:

* ``"start"``  - the knees bent past ``standing_max_deg`` (a plié may be starting);
* ``"bottom"`` - the plié passed its deepest point: flexion fell ``bottom_drop_deg`` below its peak,
  and the peak was at least ``min_depth_deg`` deep (the moment to check the knees over the toes);
* ``"end"``    - the legs are straight again after a plié at least ``min_depth_deg`` deep;
* ``"abort"``  - the legs straightened again after a bend too shallow to be a plié.

The thresholds are those of ``config.PlieConfig``, so live counting agrees with ``analyze``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PlieMonitor:
    """Stateful plié event detector; feed it every processed frame in time order."""

    standing_max_deg: float = 12.0
    min_depth_deg: float = 15.0
    bottom_drop_deg: float = 3.0
    state: str = "standing"
    """"standing", "bending" (knees bent, bottom not reached yet) or "rising" (bottom passed)."""
    start_s: float | None = None
    peak_deg: float = 0.0
    peak_s: float | None = None
    count: int = 0
    events: list[tuple[float, str]] = field(default_factory=list)

    def update(self, t_s: float, flexion_deg: float) -> str | None:
        """The event this frame triggers, if any (NaN flexion = no person: no event)."""
        if flexion_deg != flexion_deg:  # NaN
            return None
        event = None
        if self.state == "standing":
            if flexion_deg > self.standing_max_deg:
                self.state, self.start_s, self.peak_deg, self.peak_s = "bending", t_s, flexion_deg, t_s
                event = "start"
        else:
            if flexion_deg > self.peak_deg:
                self.peak_deg, self.peak_s = flexion_deg, t_s
            if (self.state == "bending" and self.peak_deg >= self.min_depth_deg
                    and flexion_deg <= self.peak_deg - self.bottom_drop_deg):
                self.state, event = "rising", "bottom"
            elif flexion_deg <= self.standing_max_deg:
                deep_enough = self.peak_deg >= self.min_depth_deg
                self.count += int(deep_enough)
                self.state = "standing"
                event = "end" if deep_enough else "abort"
        if event:
            self.events.append((t_s, event))
        return event
