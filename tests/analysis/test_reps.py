"""Plié detection: every plié found with its timing, none in other movements, grand pliés told apart."""

from __future__ import annotations

import numpy as np
import pytest

from turnout_vision.analysis.metrics import frame_metrics
from turnout_vision.analysis.reps import find_reps
from turnout_vision.config import PlieConfig
from turnout_vision.synthetic import Motion, Noise, Scene, generate


def _detect(motion: Motion, seed: int = 0):  # noqa: ANN202
    clip = generate(Scene(motion=motion, noise=Noise.none()), seed=seed)
    tr = clip.truth
    m = frame_metrics(tr.points_m, 1.0)
    feet = tr.points_m[:, :, 3:, :2]                     # floor xy works as well as image xy here
    reps, rejected = find_reps(tr.timestamps_s, m.knee_flexion_deg, PlieConfig(), feet, float(np.median(m.foot_length_m)))
    return clip, reps, rejected


@pytest.mark.parametrize(("n_reps", "depth", "tempo"), [(1, 45, 3.0), (3, 30, 2.0), (2, 60, 5.0), (4, 20, 2.5)])
def test_finds_every_demi_plie(n_reps: int, depth: float, tempo: float) -> None:
    clip, reps, rejected = _detect(Motion(n_reps=n_reps, depth_deg=(depth, depth), rep_duration_s=tempo))
    t = clip.truth.timestamps_s
    assert len(reps) == n_reps and not rejected
    for rep, true in zip(reps, clip.truth.plies, strict=True):
        assert rep.kind == "demi"
        assert abs(t[rep.bottom] - true.bottom_s) <= 1.5 / 30
        assert abs(t[rep.start] - true.start_s) <= 0.15 * tempo
        assert abs(t[rep.end] - true.end_s) <= 0.15 * tempo
        assert rep.depth_deg == pytest.approx(depth, abs=0.5)
        w0, w1 = rep.window
        assert w0 <= rep.bottom <= w1


def test_grand_plie_is_told_apart() -> None:
    _, reps, _ = _detect(Motion(kind="grand_plie", depth_deg=(120, 120), n_reps=1, rep_duration_s=5))
    assert [r.kind for r in reps] == ["grand"]


@pytest.mark.parametrize("motion", [
    Motion(kind="standing"),
    Motion(kind="standing", sway_m=0.04),
    Motion(kind="weight_shift", depth_deg=(15, 15), n_reps=4),
    Motion(kind="weight_shift", depth_deg=(35, 35), n_reps=4, sway_m=0.08),
    Motion(kind="tendu", n_reps=4),
    Motion(kind="tendu", n_reps=2, tendu_side="right"),
], ids=["still", "swaying", "balance_soft", "balance_deep", "tendu_alternate", "tendu_right"])
def test_no_plie_in_other_movements(motion: Motion) -> None:
    _, reps, _ = _detect(motion)
    assert reps == []


def test_weight_shift_rejected_with_reason() -> None:
    _, reps, rejected = _detect(Motion(kind="weight_shift", depth_deg=(35, 35), n_reps=2))
    assert not reps and rejected and all(r.kind == "weight_shift" for r in rejected)
    assert "weight shift" in rejected[0].reason


def test_noisy_detection_on_truth_points() -> None:
    """Jittered truth points (2 cm) still give exactly the commanded pliés."""
    clip = generate(Scene(motion=Motion(n_reps=3)), seed=4)
    rng = np.random.default_rng(0)
    pts = clip.truth.points_m + rng.normal(0, 0.005, clip.truth.points_m.shape)
    m = frame_metrics(pts, 1.0)
    reps, _ = find_reps(clip.truth.timestamps_s, m.knee_flexion_deg, PlieConfig())
    assert len(reps) == 3
