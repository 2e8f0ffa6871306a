"""Outlier rejection, gap filling and zero-phase low-pass filtering of landmark tracks.

All functions work on a time-major array ``(F, ...)`` (F = frames; any trailing shape, e.g.
(F, 10, 2) pixels) with NaN for missing samples, vectorised over every channel (no per-frame loop).

Pipeline (``smooth_tracks``), per channel:

1. **Outlier rejection** (spike test, the trend-free form of a Hampel identifier): the track is
   bridged linearly over its gaps; a sample is an outlier when its leave-one-out residual
   ``x[i] - (x[i-1] + x[i+1]) / 2`` is larger than ``n_sigmas`` robust standard deviations of that
   residual over the whole track (1.4826 x MAD, never below ``min_sigma``) and larger than its
   neighbours' residuals (a spike shows as +A at its own sample and -A/2 beside it). Linear motion
   cancels in the residual, so a moving joint is never mistaken for an outlier (a moving median would
   return the sample itself on a monotone stretch), and the test costs a few array passes, which
   keeps a million frames under a second. Outliers become NaN.
2. **Gap filling**: NaN runs of at most ``max_gap_s`` are filled by linear interpolation; longer runs
   (and leading/trailing NaN) stay NaN in the output.
3. **Zero-phase Butterworth** (``order``, ``cutoff_hz``, forward-backward, odd-extension padding) of
   the cleaned, bridged track: long gaps are bridged linearly for the filter only and set back to NaN
   afterwards. The cut-off is capped at 0.9 x the Nyquist frequency.

``noise_sd`` (per channel) = robust standard deviation of raw minus smoothed samples: a measured
landmark noise level that downstream uncertainties use.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import signal


@dataclass(frozen=True, eq=False)
class Smoothed:
    """Result of ``smooth_tracks``; arrays have the input's shape (F, ...) unless noted."""

    values: NDArray[np.float64]
    """Smoothed values; NaN where the gap was longer than ``max_gap`` or no data at all."""
    outliers: NDArray[np.bool_]
    """True where a raw sample was rejected as an outlier."""
    filled: NDArray[np.bool_]
    """True where the value was interpolated (raw NaN or outlier) rather than measured."""
    noise_sd: NDArray[np.float64]
    """(...) per channel: robust sd of raw - smoothed (same unit as the input)."""


def _nanmedian_rows(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Median of each row ignoring NaN; NaN (without a warning) for rows with no data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(x, axis=1)


def butter_zero_phase(x: NDArray[np.float64], fs_hz: float, cutoff_hz: float, order: int) -> NDArray[np.float64]:
    """Zero-phase Butterworth low-pass along the last axis of NaN-free ``x`` (C, F).

    Odd extension padding of 3 x (2 x sections + 1) samples (as scipy's filtfilt), capped at F - 1.
    Returns ``x`` unchanged when F is too short to filter.
    """
    nyq = fs_hz / 2
    wn = min(cutoff_hz, 0.9 * nyq) / nyq
    sos = signal.butter(order, wn, output="sos")
    n = x.shape[-1]
    pad = min(3 * (2 * sos.shape[0] + 1), n - 1)
    if n < 3 or pad < 1:
        return x.copy()
    left = 2 * x[..., :1] - x[..., pad:0:-1]
    right = 2 * x[..., -1:] - x[..., -2:-pad - 2:-1]
    ext = np.concatenate([left, x, right], axis=-1)
    zi = signal.sosfilt_zi(sos)                                     # (sections, 2)
    zi_full = zi[:, None, :] * ext[None, :, 0, None]                 # (sections, C, 2)
    y = signal.sosfilt(sos, ext, axis=-1, zi=zi_full)[0]
    y = y[..., ::-1]
    zi_full = zi[:, None, :] * y[None, :, 0, None]
    y = signal.sosfilt(sos, y, axis=-1, zi=zi_full)[0]
    y = y[..., ::-1]
    return y[..., pad:pad + n]                       # a reversed view: element-wise use needs no copy


def _runs(missing: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(starts, ends) of the True runs of a 1D mask; run k covers [starts[k], ends[k])."""
    d = np.diff(np.concatenate([[0], missing.view(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def interp_fill(x: NDArray[np.float64], missing: NDArray[np.bool_] | None = None,
                out: NDArray[np.float64] | None = None, channels: NDArray[np.intp] | None = None) -> NDArray[np.float64]:
    """``x`` (C, F) with the ``missing`` samples (default: NaN) linearly interpolated along the last
    axis from the nearest measured samples (edges: nearest sample); channels without any sample
    become 0. Work is proportional to the number of missing samples. ``out``: write into this
    array (which already holds ``x`` elsewhere); ``channels``: only these channels."""
    missing = np.isnan(x) if missing is None else missing
    if out is None:
        if not missing.any():
            return x
        out = x.copy()
    n = x.shape[1]
    todo = np.flatnonzero(missing.any(axis=1)) if channels is None else channels
    for ch in todo:  # loop over channels (tens), not frames
        starts, ends = _runs(missing[ch])
        if starts.size == 1 and starts[0] == 0 and ends[0] == n:
            out[ch] = 0.0
            continue
        lens = ends - starts
        rid = np.repeat(np.arange(starts.size), lens)
        pos = np.flatnonzero(missing[ch])
        lo, hi = starts[rid] - 1, ends[rid]
        xl = x[ch, np.maximum(lo, 0)]
        xh = x[ch, np.minimum(hi, n - 1)]
        xl = np.where(lo < 0, xh, xl)
        xh = np.where(hi >= n, xl, xh)
        out[ch, pos] = xl + (xh - xl) * (pos - lo) / (hi - lo)
    return out


def gap_keep(missing: NDArray[np.bool_], max_gap: int) -> NDArray[np.bool_]:
    """(C, F) True where a value is measured or lies in an interior run of at most ``max_gap`` missing
    samples; False on longer runs, on leading/trailing runs and on channels without any sample."""
    c, n = missing.shape
    keep = np.ones_like(missing)
    for ch in np.flatnonzero(missing.any(axis=1)):  # loop over channels, runs found vectorised
        starts, ends = _runs(missing[ch])
        bad = ((ends - starts) > max_gap) | (starts == 0) | (ends == n)
        if bad.any():
            mark = np.zeros(n + 1, dtype=np.int32)
            np.add.at(mark, starts[bad], 1)
            np.add.at(mark, ends[bad], -1)
            keep[ch] = np.cumsum(mark[:n]) == 0
    return keep


def spikes(x: NDArray[np.float64], n_sigmas: float, min_sigma: float = 0.0) -> NDArray[np.bool_]:
    """Outlier mask of NaN-free ``x`` (C, F): samples whose leave-one-out residual
    r[i] = x[i] - (x[i-1] + x[i+1]) / 2 exceeds ``n_sigmas`` robust standard deviations of r over the
    whole track (1.4826 x MAD, at least ``min_sigma`` x sqrt(1.5)) and is the largest of its
    neighbours'. Linear trends cancel in r, so movement is never mistaken for an outlier."""
    c, n = x.shape
    r = np.zeros_like(x)
    if n < 3:
        return np.zeros(x.shape, bool)
    np.add(x[:, :-2], x[:, 2:], out=r[:, 1:-1])
    r[:, 1:-1] *= -0.5
    r[:, 1:-1] += x[:, 1:-1]
    np.abs(r, out=r)
    step = max(1, n // 100_000)
    scale = np.maximum(1.4826 * np.median(r[:, 1:-1:step], axis=1), min_sigma * np.sqrt(1.5))
    big = r > (n_sigmas * scale)[:, None]
    big[:, 1:-1] &= (r[:, 1:-1] >= r[:, :-2]) & (r[:, 1:-1] >= r[:, 2:])
    return big


def smooth_tracks(
    x: NDArray[np.float64],
    fs_hz: float,
    *,
    cutoff_hz: float = 6.0,
    order: int = 4,
    n_sigmas: float = 3.0,
    max_gap_s: float = 0.5,
    min_sigma: float = 0.0,
) -> Smoothed:
    """Outlier rejection, gap filling and zero-phase Butterworth of ``x`` (F, ...) sampled at ``fs_hz``.

    ``min_sigma`` (unit of ``x``) is the smallest noise level the outlier test assumes, so that
    near-noise-free tracks do not lose ordinary samples. See the module docstring for each step.
    """
    x = np.asarray(x, dtype=float)
    shape = x.shape
    n = shape[0]
    if n < 3:
        empty = np.zeros(shape, bool)
        return Smoothed(x.copy(), empty, empty, np.full(shape[1:], np.nan))
    flat = np.ascontiguousarray(x.reshape(n, -1).T)                   # (C, F) contiguous per channel
    max_gap = int(np.floor(max_gap_s * fs_hz + 1e-9))
    missing = np.isnan(flat)
    bridged = interp_fill(flat, missing, out=flat.copy())
    outliers = spikes(bridged, n_sigmas, min_sigma)
    outliers &= ~missing
    gone = missing | outliers
    redo = np.flatnonzero(outliers.any(axis=1))
    if redo.size:                                    # re-bridge only the channels that lost samples
        bridged[redo] = flat[redo]
        interp_fill(flat, gone, out=bridged, channels=redo)
    lp = butter_zero_phase(bridged, fs_hz, cutoff_hz, order)
    keep = gap_keep(gone, max_gap)
    if not keep.all():
        lp = np.array(lp)
        lp[~keep] = np.nan
    step = max(1, n // 100_000)
    res = np.abs(flat[:, ::step] - lp[:, ::step])
    res[gone[:, ::step]] = np.nan
    noise = 1.4826 * _nanmedian_rows(res)
    return Smoothed(
        values=lp.T.reshape(shape),
        outliers=outliers.T.reshape(shape),
        filled=(gone & keep).T.reshape(shape),
        noise_sd=np.asarray(noise).reshape(shape[1:]),
    )


__all__ = ["Smoothed", "butter_zero_phase", "gap_keep", "interp_fill", "smooth_tracks", "spikes"]
