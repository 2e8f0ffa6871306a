"""PlieMonitor: plié candidates from a stream of per-side knee flexion, against known synthetic bends."""

from __future__ import annotations

import math

import numpy as np
import pytest

from turnout_vision.analysis.online import PlieMonitor
from turnout_vision.config import PlieConfig

FPS = 25.0


def bend(depth_deg: float = 40.0, down_s: float = 1.2, hold_s: float = 0.0, up_s: float = 1.2,
         stand_s: float = 1.5, standing_deg: tuple[float, float] = (17.0, 15.0), sides: tuple[float, float] = (1.0, 1.0),
         noise_deg: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """(t (F,), flexion (F, 2), true bottom time): standing, a cosine bend, standing again.

    ``standing_deg``: what MediaPipe's world landmarks read for straight legs (15-22 deg, not 0).
    ``sides``: each knee's share of the bend (1, 1 = a plié; 1, 0.2 = a weight shift)."""
    t_bend = np.concatenate([np.linspace(0, 1, int(down_s * FPS), endpoint=False),
                             np.ones(int(hold_s * FPS)),
                             np.linspace(1, 0, int(up_s * FPS))])
    shape = 0.5 - 0.5 * np.cos(np.pi * t_bend)
    stand = np.zeros(int(stand_s * FPS))
    profile = np.concatenate([stand, shape, stand])
    t = np.arange(profile.size) / FPS
    flex = np.asarray(standing_deg)[None, :] + depth_deg * profile[:, None] * np.asarray(sides)[None, :]
    flex = flex + np.random.default_rng(seed).normal(0, noise_deg, flex.shape)
    bottom_s = stand_s + down_s + hold_s / 2
    return t, flex, bottom_s


def run(monitor: PlieMonitor, t: np.ndarray, flex: np.ndarray) -> list:  # type: ignore[type-arg]
    return [e for e in (monitor.update(float(ti), fi) for ti, fi in zip(t, flex, strict=True)) if e is not None]


@pytest.mark.parametrize("noise", [0.0, 1.5])
def test_one_plie_gives_start_bottom_end_near_the_truth(noise: float) -> None:
    t, flex, bottom_s = bend(noise_deg=noise, seed=1)
    monitor = PlieMonitor.from_config(PlieConfig())
    events = run(monitor, t, flex)
    assert [e.kind for e in events] == ["start", "bottom", "end"]
    start, bottom, end = events
    assert start.t_s < bottom_s < end.t_s
    assert bottom.peak_s == pytest.approx(bottom_s, abs=0.2)
    assert bottom.t_s - bottom_s < 0.5  # announced soon after the deepest point
    assert bottom.depth_deg == pytest.approx(40.0, abs=3.0)  # relative to the standing level, not to 0
    assert monitor.candidates == 1 and monitor.state == "standing"


def test_a_held_bottom_is_announced_while_held() -> None:
    t, flex, bottom_s = bend(hold_s=2.0)
    events = run(PlieMonitor(), t, flex)
    bottom = next(e for e in events if e.kind == "bottom")
    assert bottom.t_s < bottom_s + 1.0 - 0.3  # before the dancer starts rising (hold ends at bottom_s + 1)


def test_standing_level_is_learnt_so_bent_looking_straight_legs_do_not_start_a_plie() -> None:
    t = np.arange(100) / FPS
    flex = np.tile([21.0, 16.0], (100, 1))  # straight legs as MediaPipe's world landmarks read them
    monitor = PlieMonitor()
    assert run(monitor, t, flex) == []
    assert monitor.baseline_deg == pytest.approx([21.0, 16.0])


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"depth_deg": 10.0}, "too shallow"),
    ({"sides": (1.0, 0.1)}, "weight shift"),
    ({"down_s": 0.2, "up_s": 0.2}, "too quick"),
])
def test_not_a_plie_is_aborted_with_its_reason(kwargs: dict, reason: str) -> None:  # type: ignore[type-arg]
    t, flex, _ = bend(**kwargs)
    monitor = PlieMonitor()
    events = run(monitor, t, flex)
    kinds = [e.kind for e in events]
    assert "end" not in kinds and kinds[-1] == "abort"
    assert reason in (events[-1].reason or "")
    assert monitor.candidates == 0
    if "sides" in kwargs:
        assert "bottom" not in kinds  # no knee cue for a weight shift


def test_nan_frames_give_no_event_and_a_long_gap_aborts_the_bend() -> None:
    t, flex, bottom_s = bend()
    flex[(t > bottom_s - 0.2)] = np.nan  # the dancer walks out at the bottom
    events = run(PlieMonitor(), t, flex)
    assert [e.kind for e in events] == ["start", "abort"]
    assert "left the picture" in (events[-1].reason or "")


def test_one_unknown_knee_still_follows_the_other() -> None:
    t, flex, _ = bend()
    flex[:, 1] = np.nan
    events = run(PlieMonitor(), t, flex)
    assert [e.kind for e in events] == ["start", "bottom", "end"]
    assert math.isnan(events[1].knee_rise_deg[1])


def test_two_plies_in_a_row_are_two_candidates() -> None:
    t1, f1, _ = bend()
    t2, f2, _ = bend(depth_deg=30.0, standing_deg=(18.0, 16.0))
    t = np.concatenate([t1, t2 + t1[-1] + 1 / FPS])
    monitor = PlieMonitor()
    events = run(monitor, t, np.concatenate([f1, f2]))
    assert [e.kind for e in events] == ["start", "bottom", "end"] * 2
    assert monitor.candidates == 2


def test_thresholds_come_from_the_plie_config() -> None:
    monitor = PlieMonitor.from_config(PlieConfig(min_depth_deg=50.0, min_duration_s=0.3))
    assert monitor.min_depth_deg == 50.0 and monitor.start_rise_deg == 25.0 and monitor.min_duration_s == 0.3
    t, flex, _ = bend(depth_deg=40.0)
    assert [e.kind for e in run(monitor, t, flex)] == ["start", "abort"]
