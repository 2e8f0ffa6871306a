"""Smoothing: outliers removed, short gaps filled, long gaps kept, zero phase, noise reduced."""

from __future__ import annotations

import numpy as np
import pytest

from turnout_vision.analysis.smoothing import butter_zero_phase, gap_keep, interp_fill, smooth_tracks, spikes

FS = 30.0


def _signal(n: int = 600, seed: int = 0, noise: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    clean = 100 * np.sin(2 * np.pi * 0.4 * t)[:, None] + np.array([0.0, 50.0])
    return clean, clean + rng.normal(0, noise, clean.shape)


def test_interp_fill_and_gap_keep_literal() -> None:
    x = np.array([[np.nan, 1.0, np.nan, np.nan, 4.0, np.nan, np.nan, np.nan, np.nan, 9.0]])
    filled = interp_fill(x)
    np.testing.assert_allclose(filled[0, :5], [1, 1, 2, 3, 4])
    keep = gap_keep(np.isnan(x), max_gap=2)
    assert keep.tolist() == [[False, True, True, True, True, False, False, False, False, True]]


def test_spikes_find_isolated_outliers_not_motion() -> None:
    clean, noisy = _signal()
    x = noisy.T.copy()
    idx = np.array([50, 51, 200, 420])
    x[0, idx] += np.array([40.0, 35.0, -30.0, 25.0])
    found = spikes(x, 3.0)
    assert found[0, idx].sum() >= 3
    assert found[1].mean() < 0.01                      # a fast sine is not an outlier


@pytest.mark.parametrize("noise", [0.5, 1.5, 3.0])
def test_smooth_reduces_noise_without_lag(noise: float) -> None:
    clean, noisy = _signal(noise=noise)
    out = smooth_tracks(noisy, FS, cutoff_hz=6.0)
    err_raw = np.std(noisy - clean)
    err = np.std((out.values - clean)[20:-20])
    assert err < 0.8 * err_raw
    # zero phase: the smoothed peak is where the true peak is
    assert abs(np.argmax(out.values[5:40, 0]) - np.argmax(clean[5:40, 0])) <= 1
    assert out.noise_sd.shape == (2,)


def test_smooth_outliers_and_gaps() -> None:
    clean, noisy = _signal(noise=1.0)
    x = noisy.copy()
    x[100, 0] += 60.0
    x[300:305] = np.nan                                  # short gap: filled
    x[400:440] = np.nan                                  # 1.3 s: stays missing
    out = smooth_tracks(x, FS, max_gap_s=0.5)
    assert out.outliers[100, 0]
    assert np.isfinite(out.values[300:305]).all()
    assert np.isnan(out.values[400:440]).all()
    assert abs(out.values[100, 0] - clean[100, 0]) < 3.0
    assert np.abs(out.values[300:305] - clean[300:305]).max() < 3.0
    assert out.filled[300:305].all() and not out.filled[200].any()


def test_smooth_handles_all_nan_channel_and_short_input() -> None:
    x = np.full((50, 2), np.nan)
    x[:, 0] = np.linspace(0, 1, 50)
    out = smooth_tracks(x, FS)
    assert np.isnan(out.values[:, 1]).all()
    assert np.isfinite(out.values[:, 0]).all()
    short = smooth_tracks(np.ones((2, 3)), FS)
    assert short.values.shape == (2, 3)


def test_butter_matches_scipy_filtfilt() -> None:
    from scipy import signal

    clean, noisy = _signal()
    sos = signal.butter(4, 6.0 / (FS / 2), output="sos")
    ref = signal.sosfiltfilt(sos, noisy[:, 0])
    np.testing.assert_allclose(butter_zero_phase(noisy[:, :1].T, FS, 6.0, 4)[0], ref, atol=1e-9)
